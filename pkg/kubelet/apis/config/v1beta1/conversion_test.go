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
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"k8s.io/utils/ptr"

	"k8s.io/kubernetes/pkg/kubelet/apis/config"
)

var testTime = metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))

// internalRecords covers every shape a record takes: nil and empty maps, nil
// and empty lists, node-wide entries, secrets and service accounts.
func internalRecords() map[string]config.ImagePulledRecord {
	return map[string]config.ImagePulledRecord{
		"zero":            {},
		"nil mapping":     {LastUpdatedTime: testTime, ImageRef: "sha256:aa", CredentialMapping: nil},
		"empty mapping":   {LastUpdatedTime: testTime, ImageRef: "sha256:aa", CredentialMapping: map[string]config.ImagePullCredentials{}},
		"empty entry":     {ImageRef: "sha256:aa", CredentialMapping: map[string]config.ImagePullCredentials{"reg.example/app": {}}},
		"empty lists":     {ImageRef: "sha256:aa", CredentialMapping: map[string]config.ImagePullCredentials{"reg.example/app": {KubernetesSecrets: []config.ImagePullSecret{}, KubernetesServiceAccounts: []config.ImagePullServiceAccount{}}}},
		"node accessible": {ImageRef: "sha256:aa", CredentialMapping: map[string]config.ImagePullCredentials{"docker.io/library/busybox": {NodePodsAccessible: true}}},
		"secrets and sas": {LastUpdatedTime: testTime, ImageRef: "sha256:5d1f", CredentialMapping: map[string]config.ImagePullCredentials{
			"docker.io/library/busybox": {NodePodsAccessible: true},
			"reg.example/team/app": {
				KubernetesSecrets: []config.ImagePullSecret{
					{UID: "7c9e", Namespace: "team-a", Name: "regcred", CredentialHash: "9a0b"},
					{UID: "8d0f", Namespace: "team-a", Name: "zz", CredentialHash: ""},
				},
				KubernetesServiceAccounts: []config.ImagePullServiceAccount{{UID: "1f2e", Namespace: "team-b", Name: "builder"}},
			},
		}},
	}
}

func TestImagePulledRecordRoundTripFromInternal(t *testing.T) {
	for name, in := range internalRecords() {
		t.Run(name, func(t *testing.T) {
			var versioned kubeletconfigv1beta1.ImagePulledRecord
			if err := Convert_config_ImagePulledRecord_To_v1beta1_ImagePulledRecord(&in, &versioned); err != nil {
				t.Fatalf("to v1beta1: %v", err)
			}
			var out config.ImagePulledRecord
			if err := Convert_v1beta1_ImagePulledRecord_To_config_ImagePulledRecord(&versioned, &out); err != nil {
				t.Fatalf("to internal: %v", err)
			}
			// cmp.Diff tells a nil map or slice from an empty one, so this also
			// checks that nil-ness survives.
			if diff := cmp.Diff(in, out); diff != "" {
				t.Errorf("round trip mismatch (-in +out):\n%s", diff)
			}
		})
	}
}

func TestImagePulledRecordRoundTripFromVersioned(t *testing.T) {
	for name, internal := range internalRecords() {
		t.Run(name, func(t *testing.T) {
			// Build the versioned input independently of the code under test.
			in := kubeletconfigv1beta1.ImagePulledRecord{LastUpdatedTime: internal.LastUpdatedTime, ImageRef: internal.ImageRef}
			if internal.CredentialMapping != nil {
				in.CredentialMapping = map[string]kubeletconfigv1beta1.ImagePullCredentials{}
				for repo, creds := range internal.CredentialMapping {
					v := kubeletconfigv1beta1.ImagePullCredentials{NodePodsAccessible: creds.NodePodsAccessible}
					if creds.KubernetesSecrets != nil {
						v.KubernetesSecrets = []kubeletconfigv1beta1.ImagePullSecret{}
						for _, s := range creds.KubernetesSecrets {
							v.KubernetesSecrets = append(v.KubernetesSecrets, kubeletconfigv1beta1.ImagePullSecret{UID: s.UID, Namespace: s.Namespace, Name: s.Name, CredentialHash: s.CredentialHash})
						}
					}
					if creds.KubernetesServiceAccounts != nil {
						v.KubernetesServiceAccounts = []kubeletconfigv1beta1.ImagePullServiceAccount{}
						for _, sa := range creds.KubernetesServiceAccounts {
							v.KubernetesServiceAccounts = append(v.KubernetesServiceAccounts, kubeletconfigv1beta1.ImagePullServiceAccount{UID: sa.UID, Namespace: sa.Namespace, Name: sa.Name})
						}
					}
					in.CredentialMapping[repo] = v
				}
			}
			var mid config.ImagePulledRecord
			if err := Convert_v1beta1_ImagePulledRecord_To_config_ImagePulledRecord(&in, &mid); err != nil {
				t.Fatalf("to internal: %v", err)
			}
			if diff := cmp.Diff(internal, mid); diff != "" {
				t.Errorf("to internal mismatch (-want +got):\n%s", diff)
			}
			var out kubeletconfigv1beta1.ImagePulledRecord
			if err := Convert_config_ImagePulledRecord_To_v1beta1_ImagePulledRecord(&mid, &out); err != nil {
				t.Fatalf("to v1beta1: %v", err)
			}
			if diff := cmp.Diff(in, out); diff != "" {
				t.Errorf("round trip mismatch (-in +out):\n%s", diff)
			}
		})
	}
}

func TestImagePulledRecordConversionKeepsTypeMeta(t *testing.T) {
	out := kubeletconfigv1beta1.ImagePulledRecord{TypeMeta: metav1.TypeMeta{Kind: "ImagePulledRecord", APIVersion: "kubelet.config.k8s.io/v1beta1"}}
	in := config.ImagePulledRecord{ImageRef: "sha256:aa"}
	if err := Convert_config_ImagePulledRecord_To_v1beta1_ImagePulledRecord(&in, &out); err != nil {
		t.Fatalf("to v1beta1: %v", err)
	}
	want := metav1.TypeMeta{Kind: "ImagePulledRecord", APIVersion: "kubelet.config.k8s.io/v1beta1"}
	if diff := cmp.Diff(want, out.TypeMeta); diff != "" {
		t.Errorf("TypeMeta changed (-want +got):\n%s", diff)
	}
}

func TestImagePulledRecordConversionDoesNotAlias(t *testing.T) {
	in := internalRecords()["secrets and sas"]
	var out kubeletconfigv1beta1.ImagePulledRecord
	if err := Convert_config_ImagePulledRecord_To_v1beta1_ImagePulledRecord(&in, &out); err != nil {
		t.Fatalf("to v1beta1: %v", err)
	}
	out.CredentialMapping["reg.example/team/app"].KubernetesSecrets[0].CredentialHash = "changed"
	out.CredentialMapping["reg.example/team/app"].KubernetesServiceAccounts[0].Name = "changed"
	out.CredentialMapping["new"] = kubeletconfigv1beta1.ImagePullCredentials{}
	if diff := cmp.Diff(internalRecords()["secrets and sas"], in); diff != "" {
		t.Errorf("changing the output changed the input (-want +got):\n%s", diff)
	}

	var back config.ImagePulledRecord
	if err := Convert_v1beta1_ImagePulledRecord_To_config_ImagePulledRecord(&out, &back); err != nil {
		t.Fatalf("to internal: %v", err)
	}
	back.CredentialMapping["reg.example/team/app"].KubernetesSecrets[0].CredentialHash = "again"
	if got := out.CredentialMapping["reg.example/team/app"].KubernetesSecrets[0].CredentialHash; got != "changed" {
		t.Errorf("changing the internal copy changed the versioned input: hash = %q", got)
	}
}

func TestConversionResetsOutput(t *testing.T) {
	// Converting into a reused object must not leave the previous contents
	// behind.
	out := config.ImagePulledRecord{
		ImageRef:          "sha256:old",
		CredentialMapping: map[string]config.ImagePullCredentials{"old": {NodePodsAccessible: true}},
	}
	in := kubeletconfigv1beta1.ImagePulledRecord{ImageRef: "sha256:new"}
	if err := Convert_v1beta1_ImagePulledRecord_To_config_ImagePulledRecord(&in, &out); err != nil {
		t.Fatalf("to internal: %v", err)
	}
	if diff := cmp.Diff(config.ImagePulledRecord{ImageRef: "sha256:new"}, out); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}

	creds := kubeletconfigv1beta1.ImagePullCredentials{
		KubernetesSecrets:         []kubeletconfigv1beta1.ImagePullSecret{{Name: "old"}},
		KubernetesServiceAccounts: []kubeletconfigv1beta1.ImagePullServiceAccount{{Name: "old"}},
	}
	if err := Convert_config_ImagePullCredentials_To_v1beta1_ImagePullCredentials(&config.ImagePullCredentials{NodePodsAccessible: true}, &creds); err != nil {
		t.Fatalf("to v1beta1: %v", err)
	}
	if diff := cmp.Diff(kubeletconfigv1beta1.ImagePullCredentials{NodePodsAccessible: true}, creds); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestImagePullIntentRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		image string
	}{
		{name: "empty", image: ""},
		{name: "familiar", image: "nginx:1"},
		{name: "digest", image: "reg.example:5000/a/b@sha256:5d1f5d1f5d1f5d1f5d1f5d1f5d1f5d1f5d1f5d1f5d1f5d1f5d1f5d1f5d1f5d1f"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := config.ImagePullIntent{Image: tc.image}
			var versioned kubeletconfigv1beta1.ImagePullIntent
			if err := Convert_config_ImagePullIntent_To_v1beta1_ImagePullIntent(&in, &versioned); err != nil {
				t.Fatalf("to v1beta1: %v", err)
			}
			if versioned.Image != tc.image {
				t.Errorf("versioned image = %q, want %q", versioned.Image, tc.image)
			}
			var out config.ImagePullIntent
			if err := Convert_v1beta1_ImagePullIntent_To_config_ImagePullIntent(&versioned, &out); err != nil {
				t.Fatalf("to internal: %v", err)
			}
			if diff := cmp.Diff(in, out); diff != "" {
				t.Errorf("round trip mismatch (-in +out):\n%s", diff)
			}
		})
	}
}

func TestKubeletConfigurationRoundTripFromInternal(t *testing.T) {
	tests := []struct {
		name string
		in   config.KubeletConfiguration
	}{
		{name: "zero", in: config.KubeletConfiguration{}},
		{name: "empty map and list", in: config.KubeletConfiguration{FeatureGates: map[string]bool{}, PreloadedImagesVerificationAllowlist: []string{}}},
		{name: "everything", in: config.KubeletConfiguration{
			FeatureGates:                           map[string]bool{"KubeletEnsureSecretPulledImages": true},
			ImagePullCredentialsVerificationPolicy: config.NeverVerifyAllowlistedImages,
			PreloadedImagesVerificationAllowlist:   []string{"reg.example/a/*", "docker.io/library/alpine"},
			SerializeImagePulls:                    false,
			MaxParallelImagePulls:                  ptr.To[int32](5),
			ContainerRuntimeEndpoint:               "unix:///run/a.sock",
			ImageServiceEndpoint:                   "unix:///run/b.sock",
			MaxPods:                                42,
		}},
		{name: "serialized", in: config.KubeletConfiguration{SerializeImagePulls: true, MaxPods: 110}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var versioned kubeletconfigv1beta1.KubeletConfiguration
			if err := Convert_config_KubeletConfiguration_To_v1beta1_KubeletConfiguration(&tc.in, &versioned); err != nil {
				t.Fatalf("to v1beta1: %v", err)
			}
			var out config.KubeletConfiguration
			if err := Convert_v1beta1_KubeletConfiguration_To_config_KubeletConfiguration(&versioned, &out); err != nil {
				t.Fatalf("to internal: %v", err)
			}
			if diff := cmp.Diff(tc.in, out); diff != "" {
				t.Errorf("round trip mismatch (-in +out):\n%s", diff)
			}
		})
	}
}

func TestKubeletConfigurationRoundTripFromVersioned(t *testing.T) {
	tests := []struct {
		name string
		in   kubeletconfigv1beta1.KubeletConfiguration
	}{
		{name: "defaulted minimum", in: kubeletconfigv1beta1.KubeletConfiguration{SerializeImagePulls: ptr.To(true)}},
		{name: "empty map and list", in: kubeletconfigv1beta1.KubeletConfiguration{
			SerializeImagePulls:                  ptr.To(true),
			FeatureGates:                         map[string]bool{},
			PreloadedImagesVerificationAllowlist: []string{},
		}},
		{name: "everything", in: kubeletconfigv1beta1.KubeletConfiguration{
			FeatureGates:                           map[string]bool{"KubeletEnsureSecretPulledImages": false},
			ImagePullCredentialsVerificationPolicy: kubeletconfigv1beta1.AlwaysVerify,
			PreloadedImagesVerificationAllowlist:   []string{"localhost/*"},
			SerializeImagePulls:                    ptr.To(false),
			MaxParallelImagePulls:                  ptr.To[int32](3),
			ContainerRuntimeEndpoint:               "unix:///run/a.sock",
			ImageServiceEndpoint:                   "unix:///run/b.sock",
			MaxPods:                                7,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var internal config.KubeletConfiguration
			if err := Convert_v1beta1_KubeletConfiguration_To_config_KubeletConfiguration(&tc.in, &internal); err != nil {
				t.Fatalf("to internal: %v", err)
			}
			var out kubeletconfigv1beta1.KubeletConfiguration
			if err := Convert_config_KubeletConfiguration_To_v1beta1_KubeletConfiguration(&internal, &out); err != nil {
				t.Fatalf("to v1beta1: %v", err)
			}
			if diff := cmp.Diff(tc.in, out); diff != "" {
				t.Errorf("round trip mismatch (-in +out):\n%s", diff)
			}
		})
	}
}

func TestKubeletConfigurationConversionDetails(t *testing.T) {
	t.Run("nil serializeImagePulls converts to false", func(t *testing.T) {
		var out config.KubeletConfiguration
		if err := Convert_v1beta1_KubeletConfiguration_To_config_KubeletConfiguration(&kubeletconfigv1beta1.KubeletConfiguration{}, &out); err != nil {
			t.Fatalf("to internal: %v", err)
		}
		if out.SerializeImagePulls {
			t.Errorf("SerializeImagePulls = true, want false")
		}
	})
	t.Run("fields outside the subset are kept", func(t *testing.T) {
		out := kubeletconfigv1beta1.KubeletConfiguration{StaticPodPath: "/etc/kubernetes/manifests", MaxPods: 1}
		if err := Convert_config_KubeletConfiguration_To_v1beta1_KubeletConfiguration(&config.KubeletConfiguration{MaxPods: 9}, &out); err != nil {
			t.Fatalf("to v1beta1: %v", err)
		}
		if out.StaticPodPath != "/etc/kubernetes/manifests" || out.MaxPods != 9 {
			t.Errorf("got staticPodPath %q maxPods %d, want the path kept and maxPods 9", out.StaticPodPath, out.MaxPods)
		}
	})
	t.Run("no aliasing", func(t *testing.T) {
		in := kubeletconfigv1beta1.KubeletConfiguration{
			FeatureGates:                         map[string]bool{"A": true},
			PreloadedImagesVerificationAllowlist: []string{"localhost/*"},
			MaxParallelImagePulls:                ptr.To[int32](3),
		}
		var out config.KubeletConfiguration
		if err := Convert_v1beta1_KubeletConfiguration_To_config_KubeletConfiguration(&in, &out); err != nil {
			t.Fatalf("to internal: %v", err)
		}
		out.FeatureGates["A"] = false
		out.PreloadedImagesVerificationAllowlist[0] = "changed"
		*out.MaxParallelImagePulls = 9
		want := kubeletconfigv1beta1.KubeletConfiguration{
			FeatureGates:                         map[string]bool{"A": true},
			PreloadedImagesVerificationAllowlist: []string{"localhost/*"},
			MaxParallelImagePulls:                ptr.To[int32](3),
		}
		if diff := cmp.Diff(want, in); diff != "" {
			t.Errorf("changing the output changed the input (-want +got):\n%s", diff)
		}
	})
}
