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

package config

// KubeletConfiguration is the subset of the kubelet's configuration this tree
// reads. Fields mean what the same-named fields of the published
// kubelet.config.k8s.io/v1beta1 KubeletConfiguration mean; unlike there, every
// field here holds its defaulted value (defaults are applied to the versioned
// object before conversion).
type KubeletConfiguration struct {
	// FeatureGates are the gate overrides of the configuration (after the
	// --feature-gates flag was merged in, when a tool does that), by gate name.
	FeatureGates map[string]bool
	// ImagePullCredentialsVerificationPolicy says which present images a pod
	// may use without proving it can pull them. Empty when the
	// KubeletEnsureSecretPulledImages gate is off.
	ImagePullCredentialsVerificationPolicy ImagePullCredentialsVerificationPolicy
	// PreloadedImagesVerificationAllowlist lists repository patterns (exact
	// names, or "<registry>/.../*" prefixes) that skip verification under
	// NeverVerifyAllowlistedImages.
	PreloadedImagesVerificationAllowlist []string
	// SerializeImagePulls makes the kubelet pull one image at a time.
	SerializeImagePulls bool
	// MaxParallelImagePulls bounds parallel pulls when SerializeImagePulls is
	// false; nil means no limit.
	MaxParallelImagePulls *int32
	// ContainerRuntimeEndpoint is the CRI runtime endpoint, e.g.
	// unix:///run/containerd/containerd.sock.
	ContainerRuntimeEndpoint string
	// ImageServiceEndpoint is the CRI image service endpoint; when empty,
	// ContainerRuntimeEndpoint serves image calls too.
	ImageServiceEndpoint string
	// MaxPods is the number of pods the node may run; the image manager sizes
	// its in-memory caches (soft sizes of its usage gauges) from it.
	MaxPods int32
}

// EffectiveImageServiceEndpoint returns the endpoint for image calls:
// ImageServiceEndpoint when set, else ContainerRuntimeEndpoint, as the kubelet
// chooses.
func (kc *KubeletConfiguration) EffectiveImageServiceEndpoint() string {
	if kc.ImageServiceEndpoint != "" {
		return kc.ImageServiceEndpoint
	}
	return kc.ContainerRuntimeEndpoint
}
