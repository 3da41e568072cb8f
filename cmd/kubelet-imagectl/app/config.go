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

package app

import (
	"k8s.io/component-base/featuregate"

	"k8s.io/kubernetes/pkg/features"
	"k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/kubeletconfig/configfiles"
)

// nodeConfig is the configuration ensure runs with, after the file and the
// flags were merged, defaulted and validated.
type nodeConfig struct {
	// kc is the defaulted internal KubeletConfiguration subset.
	kc *config.KubeletConfiguration
	// gate is the effective feature gate: defaults, the file's featureGates,
	// then --feature-gates, key by key.
	gate featuregate.FeatureGate
	// endpoint is the CRI endpoint for image calls.
	endpoint string
	// warnings are the file's unknown or duplicate fields; they are printed
	// only once the configuration is known to be valid, so that an invalid
	// one ends with exactly one line on stderr.
	warnings []string
}

// configInputs are the flags that take part in the configuration.
type configInputs struct {
	// configFile is --config, "" for none.
	configFile string
	// featureGates is the parsed --feature-gates flag.
	featureGates map[string]bool
	// runtimeEndpoint is --runtime-endpoint, used only when set.
	runtimeEndpoint    string
	runtimeEndpointSet bool
}

// resolveConfig loads --config (when given), merges the flags over it and
// validates the result as the kubelet does. Every error is a usage error
// naming the file (or the flag) and the field.
//
// Precedence: a flag overrides the file. Feature gates merge key by key (a
// gate the flag does not name keeps the file's value). For image calls the
// endpoint is --runtime-endpoint when given, else the file's
// imageServiceEndpoint, else its containerRuntimeEndpoint, else the default
// unix:///run/containerd/containerd.sock. The flag wins outright because
// this tool only makes image calls: the flag names the endpoint it talks to.
func resolveConfig(in configInputs) (*nodeConfig, error) {
	var loaded *configfiles.Completed
	var warnings []string
	source := "flags"
	if in.configFile != "" {
		source = "kubelet config file " + quote(in.configFile)
		versioned, w, err := configfiles.Load(in.configFile)
		if err != nil {
			// Load's errors already name the file.
			return nil, usageErrorf("%v", err)
		}
		warnings = w
		loaded, err = configfiles.Complete(versioned, configfiles.CompleteOptions{FlagFeatureGates: in.featureGates})
		if err != nil {
			return nil, usageErrorf("%s: %v", source, err)
		}
	} else {
		var err error
		loaded, err = configfiles.Complete(nil, configfiles.CompleteOptions{FlagFeatureGates: in.featureGates})
		if err != nil {
			return nil, usageErrorf("%s: %v", source, err)
		}
	}
	nc := &nodeConfig{kc: loaded.Config, gate: loaded.FeatureGate, warnings: warnings}
	if in.runtimeEndpointSet {
		if in.runtimeEndpoint == "" {
			return nil, usageErrorf("--runtime-endpoint: must not be empty")
		}
		nc.endpoint = in.runtimeEndpoint
	} else {
		nc.endpoint = nc.kc.EffectiveImageServiceEndpoint()
	}
	return nc, nil
}

// ensureSecretPulledImages reports whether the feature is on for this run.
func (c *nodeConfig) ensureSecretPulledImages() bool {
	return c.gate.Enabled(features.KubeletEnsureSecretPulledImages)
}
