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

package v1beta1

import (
	"k8s.io/component-base/featuregate"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/kubernetes/pkg/features"
)

// Defaults of the fields this tree reads, as the kubelet defaults them.
const (
	// DefaultContainerRuntimeEndpoint is containerd's CRI socket.
	DefaultContainerRuntimeEndpoint = "unix:///run/containerd/containerd.sock"
	// DefaultMaxPods is the kubelet's default pod capacity.
	DefaultMaxPods int32 = 110
	// DefaultImagePullCredentialsVerificationPolicy applies only when the
	// KubeletEnsureSecretPulledImages gate is on.
	DefaultImagePullCredentialsVerificationPolicy = kubeletconfigv1beta1.NeverVerifyPreloadedImages
)

// SetDefaults_KubeletConfiguration fills the unset fields this tree reads.
// gate must be the effective gate (defaults, then the file's featureGates,
// then the --feature-gates flag); nil means features.DefaultFeatureGate.
//
//   - serializeImagePulls: true, except false when maxParallelImagePulls is
//     set above 1, as the kubelet does, so that setting only
//     maxParallelImagePulls asks for parallel pulls instead of being rejected
//     by validation;
//   - maxPods: 110;
//   - containerRuntimeEndpoint: unix:///run/containerd/containerd.sock;
//   - imagePullCredentialsVerificationPolicy: NeverVerifyPreloadedImages, only
//     when KubeletEnsureSecretPulledImages is on; with the gate off it stays
//     empty, so that validation can tell a policy the user set (an error with
//     the gate off) from a default.
//
// imageServiceEndpoint stays empty when unset: empty means the runtime
// endpoint serves image calls.
func SetDefaults_KubeletConfiguration(obj *kubeletconfigv1beta1.KubeletConfiguration, gate featuregate.FeatureGate) {
	if gate == nil {
		gate = features.DefaultFeatureGate
	}
	if obj.SerializeImagePulls == nil {
		serialize := obj.MaxParallelImagePulls == nil || *obj.MaxParallelImagePulls < 2
		obj.SerializeImagePulls = &serialize
	}
	if obj.MaxPods == 0 {
		obj.MaxPods = DefaultMaxPods
	}
	if obj.ContainerRuntimeEndpoint == "" {
		obj.ContainerRuntimeEndpoint = DefaultContainerRuntimeEndpoint
	}
	if gate.Enabled(features.KubeletEnsureSecretPulledImages) && obj.ImagePullCredentialsVerificationPolicy == "" {
		obj.ImagePullCredentialsVerificationPolicy = DefaultImagePullCredentialsVerificationPolicy
	}
}
