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
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/component-base/featuregate"
	"k8s.io/utils/ptr"

	"k8s.io/kubernetes/pkg/features"
	featurestesting "k8s.io/kubernetes/pkg/features/testing"
	"k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// validConfig is a defaulted configuration with the gate on.
func validConfig() config.KubeletConfiguration {
	return config.KubeletConfiguration{
		ImagePullCredentialsVerificationPolicy: config.NeverVerifyPreloadedImages,
		SerializeImagePulls:                    true,
		ContainerRuntimeEndpoint:               "unix:///run/containerd/containerd.sock",
		MaxPods:                                110,
	}
}

func gateWith(t *testing.T, enabled bool) featuregate.FeatureGate {
	t.Helper()
	gate, err := features.NewFeatureGate(map[string]bool{string(features.KubeletEnsureSecretPulledImages): enabled})
	if err != nil {
		t.Fatalf("NewFeatureGate: %v", err)
	}
	return gate
}

// errorMessages flattens the aggregate ValidateKubeletConfiguration returns.
func errorMessages(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var agg utilerrors.Aggregate
	if !errors.As(err, &agg) {
		t.Fatalf("error %v is a %T, want an Aggregate", err, err)
	}
	var msgs []string
	for _, e := range agg.Errors() {
		msgs = append(msgs, e.Error())
	}
	return msgs
}

func TestValidateKubeletConfiguration(t *testing.T) {
	tests := []struct {
		name   string
		modify func(kc *config.KubeletConfiguration)
		gateOn []string // nil: valid
		// gateOff lists the expected errors with the gate off, applied to the
		// same configuration.
		gateOff []string
	}{
		{
			name:    "defaulted with the gate on",
			modify:  func(kc *config.KubeletConfiguration) {},
			gateOn:  nil,
			gateOff: []string{`invalid configuration: imagePullCredentialsVerificationPolicy "NeverVerifyPreloadedImages" requires the KubeletEnsureSecretPulledImages feature gate, which is off`},
		},
		{
			name:    "defaulted with the gate off",
			modify:  func(kc *config.KubeletConfiguration) { kc.ImagePullCredentialsVerificationPolicy = "" },
			gateOn:  []string{`invalid configuration: imagePullCredentialsVerificationPolicy "" is not one of NeverVerify, NeverVerifyPreloadedImages, NeverVerifyAllowlistedImages, AlwaysVerify`},
			gateOff: nil,
		},
		{
			name: "empty allowlist is not set",
			modify: func(kc *config.KubeletConfiguration) {
				kc.ImagePullCredentialsVerificationPolicy = ""
				kc.PreloadedImagesVerificationAllowlist = []string{}
			},
			gateOn:  []string{`invalid configuration: imagePullCredentialsVerificationPolicy "" is not one of NeverVerify, NeverVerifyPreloadedImages, NeverVerifyAllowlistedImages, AlwaysVerify`},
			gateOff: nil,
		},
		{
			name:    "NeverVerify",
			modify:  func(kc *config.KubeletConfiguration) { kc.ImagePullCredentialsVerificationPolicy = config.NeverVerify },
			gateOn:  nil,
			gateOff: []string{`invalid configuration: imagePullCredentialsVerificationPolicy "NeverVerify" requires the KubeletEnsureSecretPulledImages feature gate, which is off`},
		},
		{
			name:    "AlwaysVerify",
			modify:  func(kc *config.KubeletConfiguration) { kc.ImagePullCredentialsVerificationPolicy = config.AlwaysVerify },
			gateOn:  nil,
			gateOff: []string{`invalid configuration: imagePullCredentialsVerificationPolicy "AlwaysVerify" requires the KubeletEnsureSecretPulledImages feature gate, which is off`},
		},
		{
			name: "allowlist policy with valid entries",
			modify: func(kc *config.KubeletConfiguration) {
				kc.ImagePullCredentialsVerificationPolicy = config.NeverVerifyAllowlistedImages
				kc.PreloadedImagesVerificationAllowlist = []string{"docker.io/library/alpine", "reg.example/a/b/*", "reg.example:5000/*", "localhost/*"}
			},
			gateOn: nil,
			gateOff: []string{
				`invalid configuration: imagePullCredentialsVerificationPolicy "NeverVerifyAllowlistedImages" requires the KubeletEnsureSecretPulledImages feature gate, which is off`,
				`invalid configuration: preloadedImagesVerificationAllowlist ["docker.io/library/alpine" "reg.example/a/b/*" "reg.example:5000/*" "localhost/*"] requires the KubeletEnsureSecretPulledImages feature gate, which is off`,
			},
		},
		{
			name: "allowlist policy with an empty allowlist",
			modify: func(kc *config.KubeletConfiguration) {
				kc.ImagePullCredentialsVerificationPolicy = config.NeverVerifyAllowlistedImages
			},
			gateOn:  nil,
			gateOff: []string{`invalid configuration: imagePullCredentialsVerificationPolicy "NeverVerifyAllowlistedImages" requires the KubeletEnsureSecretPulledImages feature gate, which is off`},
		},
		{
			name:    "unknown policy",
			modify:  func(kc *config.KubeletConfiguration) { kc.ImagePullCredentialsVerificationPolicy = "SometimesVerify" },
			gateOn:  []string{`invalid configuration: imagePullCredentialsVerificationPolicy "SometimesVerify" is not one of NeverVerify, NeverVerifyPreloadedImages, NeverVerifyAllowlistedImages, AlwaysVerify`},
			gateOff: []string{`invalid configuration: imagePullCredentialsVerificationPolicy "SometimesVerify" requires the KubeletEnsureSecretPulledImages feature gate, which is off`},
		},
		{
			name: "allowlist with another policy",
			modify: func(kc *config.KubeletConfiguration) {
				kc.ImagePullCredentialsVerificationPolicy = config.AlwaysVerify
				kc.PreloadedImagesVerificationAllowlist = []string{"reg.example/a"}
			},
			gateOn: []string{`invalid configuration: preloadedImagesVerificationAllowlist ["reg.example/a"] may only be set with imagePullCredentialsVerificationPolicy "NeverVerifyAllowlistedImages", not "AlwaysVerify"`},
			gateOff: []string{
				`invalid configuration: imagePullCredentialsVerificationPolicy "AlwaysVerify" requires the KubeletEnsureSecretPulledImages feature gate, which is off`,
				`invalid configuration: preloadedImagesVerificationAllowlist ["reg.example/a"] requires the KubeletEnsureSecretPulledImages feature gate, which is off`,
			},
		},
		{
			name: "allowlist without a policy",
			modify: func(kc *config.KubeletConfiguration) {
				kc.ImagePullCredentialsVerificationPolicy = ""
				kc.PreloadedImagesVerificationAllowlist = []string{"reg.example/a"}
			},
			gateOn: []string{
				`invalid configuration: imagePullCredentialsVerificationPolicy "" is not one of NeverVerify, NeverVerifyPreloadedImages, NeverVerifyAllowlistedImages, AlwaysVerify`,
				`invalid configuration: preloadedImagesVerificationAllowlist ["reg.example/a"] may only be set with imagePullCredentialsVerificationPolicy "NeverVerifyAllowlistedImages", not ""`,
			},
			gateOff: []string{`invalid configuration: preloadedImagesVerificationAllowlist ["reg.example/a"] requires the KubeletEnsureSecretPulledImages feature gate, which is off`},
		},
		{
			name: "every bad entry is reported, with its index",
			modify: func(kc *config.KubeletConfiguration) {
				kc.ImagePullCredentialsVerificationPolicy = config.NeverVerifyAllowlistedImages
				kc.PreloadedImagesVerificationAllowlist = []string{"alpine", "reg.example/ok", "reg.example/app:1", "*", "/*", "", " reg.example/a", "reg.example/*/x", "team/*", "reg.example/App"}
			},
			gateOn: []string{
				`invalid configuration: preloadedImagesVerificationAllowlist[0]: entry "alpine" is not a fully qualified repository name: write "docker.io/library/alpine"`,
				`invalid configuration: preloadedImagesVerificationAllowlist[2]: entry "reg.example/app:1" has a tag or digest; entries are repository names: found tag "1"`,
				`invalid configuration: preloadedImagesVerificationAllowlist[3]: entry "*" uses "*" other than as a final "/*"`,
				`invalid configuration: preloadedImagesVerificationAllowlist[4]: entry "/*" is "/*" alone, which would exempt every image; put a registry before it`,
				`invalid configuration: preloadedImagesVerificationAllowlist[5]: entry "" is empty`,
				`invalid configuration: preloadedImagesVerificationAllowlist[6]: entry " reg.example/a" has leading or trailing whitespace`,
				`invalid configuration: preloadedImagesVerificationAllowlist[7]: entry "reg.example/*/x" uses "*" other than as a final "/*"`,
				`invalid configuration: preloadedImagesVerificationAllowlist[8]: entry "team/*" is a prefix whose first component is not a registry host (one containing "." or ":", or "localhost")`,
				`invalid configuration: preloadedImagesVerificationAllowlist[9]: entry "reg.example/App" is not a valid repository name: invalid reference format: repository name (App) must be lowercase`,
			},
			gateOff: []string{
				`invalid configuration: imagePullCredentialsVerificationPolicy "NeverVerifyAllowlistedImages" requires the KubeletEnsureSecretPulledImages feature gate, which is off`,
				`invalid configuration: preloadedImagesVerificationAllowlist ["alpine" "reg.example/ok" "reg.example/app:1" "*" "/*" "" " reg.example/a" "reg.example/*/x" "team/*" "reg.example/App"] requires the KubeletEnsureSecretPulledImages feature gate, which is off`,
			},
		},
		{
			name: "parallel pulls",
			modify: func(kc *config.KubeletConfiguration) {
				kc.ImagePullCredentialsVerificationPolicy = ""
				kc.SerializeImagePulls = false
				kc.MaxParallelImagePulls = ptr.To[int32](5)
			},
			gateOn:  []string{`invalid configuration: imagePullCredentialsVerificationPolicy "" is not one of NeverVerify, NeverVerifyPreloadedImages, NeverVerifyAllowlistedImages, AlwaysVerify`},
			gateOff: nil,
		},
		{
			name: "serialized pulls with maxParallelImagePulls 1",
			modify: func(kc *config.KubeletConfiguration) {
				kc.ImagePullCredentialsVerificationPolicy = ""
				kc.MaxParallelImagePulls = ptr.To[int32](1)
			},
			gateOn:  []string{`invalid configuration: imagePullCredentialsVerificationPolicy "" is not one of NeverVerify, NeverVerifyPreloadedImages, NeverVerifyAllowlistedImages, AlwaysVerify`},
			gateOff: nil,
		},
		{
			name: "bad pull settings and sizes",
			modify: func(kc *config.KubeletConfiguration) {
				kc.ImagePullCredentialsVerificationPolicy = ""
				kc.SerializeImagePulls = true
				kc.MaxParallelImagePulls = ptr.To[int32](3)
				kc.MaxPods = -1
			},
			gateOn: []string{
				`invalid configuration: maxParallelImagePulls 3 must not be larger than 1 when serializeImagePulls is true`,
				`invalid configuration: maxPods -1 must not be negative`,
				`invalid configuration: imagePullCredentialsVerificationPolicy "" is not one of NeverVerify, NeverVerifyPreloadedImages, NeverVerifyAllowlistedImages, AlwaysVerify`,
			},
			gateOff: []string{
				`invalid configuration: maxParallelImagePulls 3 must not be larger than 1 when serializeImagePulls is true`,
				`invalid configuration: maxPods -1 must not be negative`,
			},
		},
		{
			name: "maxParallelImagePulls zero",
			modify: func(kc *config.KubeletConfiguration) {
				kc.ImagePullCredentialsVerificationPolicy = ""
				kc.SerializeImagePulls = false
				kc.MaxParallelImagePulls = ptr.To[int32](0)
			},
			gateOn: []string{
				`invalid configuration: maxParallelImagePulls 0 must be a positive number`,
				`invalid configuration: imagePullCredentialsVerificationPolicy "" is not one of NeverVerify, NeverVerifyPreloadedImages, NeverVerifyAllowlistedImages, AlwaysVerify`,
			},
			gateOff: []string{`invalid configuration: maxParallelImagePulls 0 must be a positive number`},
		},
		{
			name: "maxParallelImagePulls negative",
			modify: func(kc *config.KubeletConfiguration) {
				kc.SerializeImagePulls = false
				kc.MaxParallelImagePulls = ptr.To[int32](-2)
			},
			gateOn: []string{`invalid configuration: maxParallelImagePulls -2 must be a positive number`},
			gateOff: []string{
				`invalid configuration: maxParallelImagePulls -2 must be a positive number`,
				`invalid configuration: imagePullCredentialsVerificationPolicy "NeverVerifyPreloadedImages" requires the KubeletEnsureSecretPulledImages feature gate, which is off`,
			},
		},
	}
	for _, tc := range tests {
		for _, gateEnabled := range []bool{true, false} {
			want := tc.gateOff
			name := tc.name + "/gate=off"
			if gateEnabled {
				want = tc.gateOn
				name = tc.name + "/gate=on"
			}
			t.Run(name, func(t *testing.T) {
				kc := validConfig()
				tc.modify(&kc)
				err := ValidateKubeletConfiguration(&kc, gateWith(t, gateEnabled))
				got := errorMessages(t, err)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("ValidateKubeletConfiguration() errors mismatch (-want +got):\n%s", diff)
				}
				for _, msg := range got {
					if !strings.HasPrefix(msg, "invalid configuration: ") {
						t.Errorf("message %q does not start with %q", msg, "invalid configuration: ")
					}
				}
				if err != nil && !errors.Is(err, ErrInvalidConfiguration) {
					t.Errorf("error %v does not wrap ErrInvalidConfiguration", err)
				}
			})
		}
	}
}

func TestValidateEntryErrorsAreClassified(t *testing.T) {
	kc := validConfig()
	kc.ImagePullCredentialsVerificationPolicy = config.NeverVerifyAllowlistedImages
	kc.PreloadedImagesVerificationAllowlist = []string{"reg.example/app@" + testDigest}
	err := ValidateKubeletConfiguration(&kc, gateWith(t, true))
	if !errors.Is(err, ErrAllowlistEntryTagOrDigest) {
		t.Errorf("error %v does not wrap ErrAllowlistEntryTagOrDigest", err)
	}
}

func TestValidateNilGateUsesDefaultFeatureGate(t *testing.T) {
	featurestesting.RunWithGate(t, features.KubeletEnsureSecretPulledImages, func(t *testing.T, enabled bool) {
		kc := validConfig()
		err := ValidateKubeletConfiguration(&kc, nil)
		if enabled && err != nil {
			t.Errorf("gate on: error = %v, want nil", err)
		}
		if !enabled && err == nil {
			t.Errorf("gate off: no error for a policy the gate does not allow")
		}
	})
}

func TestParseAllowlist(t *testing.T) {
	tests := []struct {
		name    string
		list    []string
		want    []AllowlistEntry
		wantErr []string
	}{
		{name: "nil", list: nil, want: []AllowlistEntry{}},
		{
			name: "valid, in order",
			list: []string{"reg.example/a/*", "docker.io/library/alpine"},
			want: []AllowlistEntry{{Repository: "reg.example/a", Prefix: true}, {Repository: "docker.io/library/alpine"}},
		},
		{
			name:    "one bad entry fails the list",
			list:    []string{"reg.example/a/*", "alpine"},
			wantErr: []string{`invalid configuration: preloadedImagesVerificationAllowlist[1]: entry "alpine" is not a fully qualified repository name: write "docker.io/library/alpine"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAllowlist(tc.list)
			if diff := cmp.Diff(tc.wantErr, errorMessages(t, err)); diff != "" {
				t.Errorf("ParseAllowlist() errors mismatch (-want +got):\n%s", diff)
			}
			if tc.wantErr != nil {
				if got != nil {
					t.Errorf("ParseAllowlist() = %v with an error, want nil", got)
				}
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseAllowlist() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
