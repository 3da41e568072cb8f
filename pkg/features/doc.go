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

// Package features declares the feature gates this tree knows, as versioned
// gates registered with k8s.io/component-base/featuregate, and builds the
// effective gate a node tool runs with.
//
// This tree emulates Kubernetes 1.37 (EmulationVersion), so every gate takes
// its default from the spec valid at 1.37: KubeletEnsureSecretPulledImages
// (beta since 1.35) and KubeletServiceAccountTokenForCredentialProviders
// (beta since 1.34) are on. The effective gate is computed as the kubelet
// computes it: defaults, then the configuration file's featureGates, then
// the --feature-gates flag, merged key by key (MergeFeatureGates,
// NewFeatureGate).
package features
