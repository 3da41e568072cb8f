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

package configfiles

import (
	"fmt"

	"k8s.io/component-base/featuregate"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/kubernetes/pkg/features"
	"k8s.io/kubernetes/pkg/kubelet/apis/config"
	configv1beta1 "k8s.io/kubernetes/pkg/kubelet/apis/config/v1beta1"
	"k8s.io/kubernetes/pkg/kubelet/apis/config/validation"
)

// CompleteOptions are the command-line inputs Complete merges over the file.
type CompleteOptions struct {
	// FlagFeatureGates holds the --feature-gates flag (see
	// features.ParseFeatureGates); each gate it sets overrides the file's.
	FlagFeatureGates map[string]bool
}

// Completed is a validated configuration with the gate it was validated
// against. Pass both on: they belong together.
type Completed struct {
	// Config is the defaulted internal configuration; its FeatureGates holds
	// the merged file and flag settings.
	Config *config.KubeletConfiguration
	// FeatureGate is the effective gate: defaults, then the file's
	// featureGates, then the flag.
	FeatureGate featuregate.MutableVersionedFeatureGate
}

// Complete turns a loaded configuration (nil when there is no file) into the
// internal configuration: it builds the effective feature gate, applies
// defaults with it, converts and validates. versioned is not modified.
func Complete(versioned *kubeletconfigv1beta1.KubeletConfiguration, opts CompleteOptions) (*Completed, error) {
	var obj kubeletconfigv1beta1.KubeletConfiguration
	if versioned != nil {
		versioned.DeepCopyInto(&obj)
	}
	merged := features.MergeFeatureGates(obj.FeatureGates, opts.FlagFeatureGates)
	gate, err := features.NewFeatureGate(merged)
	if err != nil {
		return nil, fmt.Errorf("%w: featureGates: %w", validation.ErrInvalidConfiguration, err)
	}

	// Defaulting needs the effective gate: the policy default exists only
	// with KubeletEnsureSecretPulledImages on.
	configv1beta1.SetDefaults_KubeletConfiguration(&obj, gate)
	internal := &config.KubeletConfiguration{}
	if err := configv1beta1.Convert_v1beta1_KubeletConfiguration_To_config_KubeletConfiguration(&obj, internal); err != nil {
		return nil, fmt.Errorf("converting the kubelet configuration: %w", err)
	}
	internal.FeatureGates = merged
	if err := validation.ValidateKubeletConfiguration(internal, gate); err != nil {
		return nil, err
	}
	return &Completed{Config: internal, FeatureGate: gate}, nil
}
