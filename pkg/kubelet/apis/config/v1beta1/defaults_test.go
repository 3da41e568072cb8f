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
	"testing"

	"github.com/google/go-cmp/cmp"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"k8s.io/utils/ptr"

	"k8s.io/kubernetes/pkg/features"
	featurestesting "k8s.io/kubernetes/pkg/features/testing"
)

func TestSetDefaultsKubeletConfiguration(t *testing.T) {
	tests := []struct {
		name        string
		in          kubeletconfigv1beta1.KubeletConfiguration
		gateEnabled bool
		want        kubeletconfigv1beta1.KubeletConfiguration
	}{
		{
			name:        "empty, gate on",
			in:          kubeletconfigv1beta1.KubeletConfiguration{},
			gateEnabled: true,
			want: kubeletconfigv1beta1.KubeletConfiguration{
				SerializeImagePulls:                    ptr.To(true),
				MaxPods:                                110,
				ContainerRuntimeEndpoint:               "unix:///run/containerd/containerd.sock",
				ImagePullCredentialsVerificationPolicy: kubeletconfigv1beta1.NeverVerifyPreloadedImages,
			},
		},
		{
			name:        "empty, gate off: no policy",
			in:          kubeletconfigv1beta1.KubeletConfiguration{},
			gateEnabled: false,
			want: kubeletconfigv1beta1.KubeletConfiguration{
				SerializeImagePulls:      ptr.To(true),
				MaxPods:                  110,
				ContainerRuntimeEndpoint: "unix:///run/containerd/containerd.sock",
			},
		},
		{
			name: "set values are kept",
			in: kubeletconfigv1beta1.KubeletConfiguration{
				SerializeImagePulls:                    ptr.To(false),
				MaxPods:                                12,
				ContainerRuntimeEndpoint:               "unix:///run/crio/crio.sock",
				ImageServiceEndpoint:                   "unix:///run/img.sock",
				ImagePullCredentialsVerificationPolicy: kubeletconfigv1beta1.AlwaysVerify,
			},
			gateEnabled: true,
			want: kubeletconfigv1beta1.KubeletConfiguration{
				SerializeImagePulls:                    ptr.To(false),
				MaxPods:                                12,
				ContainerRuntimeEndpoint:               "unix:///run/crio/crio.sock",
				ImageServiceEndpoint:                   "unix:///run/img.sock",
				ImagePullCredentialsVerificationPolicy: kubeletconfigv1beta1.AlwaysVerify,
			},
		},
		{
			name:        "a policy set with the gate off is kept for validation to reject",
			in:          kubeletconfigv1beta1.KubeletConfiguration{ImagePullCredentialsVerificationPolicy: kubeletconfigv1beta1.AlwaysVerify},
			gateEnabled: false,
			want: kubeletconfigv1beta1.KubeletConfiguration{
				SerializeImagePulls:                    ptr.To(true),
				MaxPods:                                110,
				ContainerRuntimeEndpoint:               "unix:///run/containerd/containerd.sock",
				ImagePullCredentialsVerificationPolicy: kubeletconfigv1beta1.AlwaysVerify,
			},
		},
		{
			name:        "maxParallelImagePulls above 1 defaults serializeImagePulls to false",
			in:          kubeletconfigv1beta1.KubeletConfiguration{MaxParallelImagePulls: ptr.To[int32](5)},
			gateEnabled: true,
			want: kubeletconfigv1beta1.KubeletConfiguration{
				MaxParallelImagePulls:                  ptr.To[int32](5),
				SerializeImagePulls:                    ptr.To(false),
				MaxPods:                                110,
				ContainerRuntimeEndpoint:               "unix:///run/containerd/containerd.sock",
				ImagePullCredentialsVerificationPolicy: kubeletconfigv1beta1.NeverVerifyPreloadedImages,
			},
		},
		{
			name:        "maxParallelImagePulls 1 keeps serialized pulls",
			in:          kubeletconfigv1beta1.KubeletConfiguration{MaxParallelImagePulls: ptr.To[int32](1)},
			gateEnabled: true,
			want: kubeletconfigv1beta1.KubeletConfiguration{
				MaxParallelImagePulls:                  ptr.To[int32](1),
				SerializeImagePulls:                    ptr.To(true),
				MaxPods:                                110,
				ContainerRuntimeEndpoint:               "unix:///run/containerd/containerd.sock",
				ImagePullCredentialsVerificationPolicy: kubeletconfigv1beta1.NeverVerifyPreloadedImages,
			},
		},
		{
			name:        "explicit serializeImagePulls true with parallel pulls is kept for validation to reject",
			in:          kubeletconfigv1beta1.KubeletConfiguration{SerializeImagePulls: ptr.To(true), MaxParallelImagePulls: ptr.To[int32](5)},
			gateEnabled: true,
			want: kubeletconfigv1beta1.KubeletConfiguration{
				MaxParallelImagePulls:                  ptr.To[int32](5),
				SerializeImagePulls:                    ptr.To(true),
				MaxPods:                                110,
				ContainerRuntimeEndpoint:               "unix:///run/containerd/containerd.sock",
				ImagePullCredentialsVerificationPolicy: kubeletconfigv1beta1.NeverVerifyPreloadedImages,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gate, err := features.NewFeatureGate(map[string]bool{string(features.KubeletEnsureSecretPulledImages): tc.gateEnabled})
			if err != nil {
				t.Fatalf("NewFeatureGate: %v", err)
			}
			got := tc.in
			SetDefaults_KubeletConfiguration(&got, gate)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("SetDefaults_KubeletConfiguration mismatch (-want +got):\n%s", diff)
			}
			// Defaulting twice changes nothing.
			again := got
			SetDefaults_KubeletConfiguration(&again, gate)
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("second defaulting changed the object (-first +second):\n%s", diff)
			}
		})
	}
}

func TestSetDefaultsNilGateUsesDefaultFeatureGate(t *testing.T) {
	featurestesting.RunWithGate(t, features.KubeletEnsureSecretPulledImages, func(t *testing.T, enabled bool) {
		var obj kubeletconfigv1beta1.KubeletConfiguration
		SetDefaults_KubeletConfiguration(&obj, nil)
		want := kubeletconfigv1beta1.ImagePullCredentialsVerificationPolicy("")
		if enabled {
			want = kubeletconfigv1beta1.NeverVerifyPreloadedImages
		}
		if obj.ImagePullCredentialsVerificationPolicy != want {
			t.Errorf("policy = %q, want %q", obj.ImagePullCredentialsVerificationPolicy, want)
		}
	})
}
