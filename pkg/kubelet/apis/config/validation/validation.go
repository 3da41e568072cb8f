/*
Copyright The Kubernetes Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package validation

import (
	"errors"
	"fmt"
	"strings"

	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/component-base/featuregate"

	"k8s.io/kubernetes/pkg/features"
	"k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// ErrInvalidConfiguration is wrapped by every error of
// ValidateKubeletConfiguration and ParseAllowlist; its text is the prefix of
// every message.
var ErrInvalidConfiguration = errors.New("invalid configuration")

// validPolicies are the verification policies, in the order messages list
// them.
var validPolicies = []config.ImagePullCredentialsVerificationPolicy{
	config.NeverVerify,
	config.NeverVerifyPreloadedImages,
	config.NeverVerifyAllowlistedImages,
	config.AlwaysVerify,
}

// ValidateKubeletConfiguration validates the defaulted configuration subset
// against gate, the effective feature gate (nil means
// features.DefaultFeatureGate). It returns nil or a
// k8s.io/apimachinery/pkg/util/errors.Aggregate holding one error per
// problem.
//
// With KubeletEnsureSecretPulledImages on, the policy must be one of the four
// (empty included: defaulting fills it when the gate is on), a non-empty
// allowlist needs NeverVerifyAllowlistedImages and each entry must parse
// (ParseAllowlistEntry). With the gate off, setting either field is an
// error: the kubelet would silently not enforce it.
func ValidateKubeletConfiguration(kc *config.KubeletConfiguration, gate featuregate.FeatureGate) error {
	if gate == nil {
		gate = features.DefaultFeatureGate
	}
	var errs []error

	if kc.MaxParallelImagePulls != nil && *kc.MaxParallelImagePulls < 1 {
		errs = append(errs, invalid("maxParallelImagePulls %d must be a positive number", *kc.MaxParallelImagePulls))
	}
	if kc.SerializeImagePulls && kc.MaxParallelImagePulls != nil && *kc.MaxParallelImagePulls > 1 {
		errs = append(errs, invalid("maxParallelImagePulls %d must not be larger than 1 when serializeImagePulls is true", *kc.MaxParallelImagePulls))
	}
	if kc.MaxPods < 0 {
		errs = append(errs, invalid("maxPods %d must not be negative", kc.MaxPods))
	}

	if gate.Enabled(features.KubeletEnsureSecretPulledImages) {
		errs = append(errs, validateVerificationPolicy(kc.ImagePullCredentialsVerificationPolicy, kc.PreloadedImagesVerificationAllowlist)...)
	} else {
		if kc.ImagePullCredentialsVerificationPolicy != "" {
			errs = append(errs, invalid("imagePullCredentialsVerificationPolicy %q requires the %s feature gate, which is off",
				kc.ImagePullCredentialsVerificationPolicy, features.KubeletEnsureSecretPulledImages))
		}
		// An explicitly empty list asks for nothing, so only a non-empty one
		// is an error.
		if len(kc.PreloadedImagesVerificationAllowlist) > 0 {
			errs = append(errs, invalid("preloadedImagesVerificationAllowlist %q requires the %s feature gate, which is off",
				kc.PreloadedImagesVerificationAllowlist, features.KubeletEnsureSecretPulledImages))
		}
	}
	return utilerrors.NewAggregate(errs)
}

// validateVerificationPolicy checks the policy and the allowlist with the
// gate on. Entries are checked whatever the policy, so that one run reports
// every problem.
func validateVerificationPolicy(policy config.ImagePullCredentialsVerificationPolicy, allowlist []string) []error {
	var errs []error
	known := false
	for _, p := range validPolicies {
		known = known || policy == p
	}
	if !known {
		names := make([]string, 0, len(validPolicies))
		for _, p := range validPolicies {
			names = append(names, string(p))
		}
		errs = append(errs, invalid("imagePullCredentialsVerificationPolicy %q is not one of %s", policy, strings.Join(names, ", ")))
	}
	if len(allowlist) > 0 && policy != config.NeverVerifyAllowlistedImages {
		errs = append(errs, invalid("preloadedImagesVerificationAllowlist %q may only be set with imagePullCredentialsVerificationPolicy %q, not %q",
			allowlist, config.NeverVerifyAllowlistedImages, policy))
	}
	if _, err := ParseAllowlist(allowlist); err != nil {
		var agg utilerrors.Aggregate
		if errors.As(err, &agg) {
			errs = append(errs, agg.Errors()...)
		} else {
			errs = append(errs, err)
		}
	}
	return errs
}

// ParseAllowlist parses every preloadedImagesVerificationAllowlist entry, in
// order. On any invalid entry it returns nil and an Aggregate with one error
// per invalid entry, each like ValidateKubeletConfiguration's (wrapping
// ErrInvalidConfiguration and the entry's ErrAllowlistEntry* value).
func ParseAllowlist(allowlist []string) ([]AllowlistEntry, error) {
	var errs []error
	entries := make([]AllowlistEntry, 0, len(allowlist))
	for i, raw := range allowlist {
		entry, err := ParseAllowlistEntry(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: preloadedImagesVerificationAllowlist[%d]: %w", ErrInvalidConfiguration, i, err))
			continue
		}
		entries = append(entries, entry)
	}
	if len(errs) > 0 {
		return nil, utilerrors.NewAggregate(errs)
	}
	return entries, nil
}

// invalid formats one configuration error, wrapping ErrInvalidConfiguration.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidConfiguration, fmt.Sprintf(format, args...))
}
