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
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"k8s.io/utils/ptr"

	"k8s.io/kubernetes/pkg/features"
	"k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/apis/config/validation"
)

func TestComplete(t *testing.T) {
	tests := []struct {
		name     string
		file     string // empty: no config file
		flag     map[string]bool
		want     *config.KubeletConfiguration
		wantGate bool
		wantIs   error
		wantErr  string
	}{
		{
			name: "no file: defaults, gate on",
			want: &config.KubeletConfiguration{
				ImagePullCredentialsVerificationPolicy: config.NeverVerifyPreloadedImages,
				SerializeImagePulls:                    true,
				ContainerRuntimeEndpoint:               "unix:///run/containerd/containerd.sock",
				MaxPods:                                110,
			},
			wantGate: true,
		},
		{
			name: "full file",
			file: "good.yaml",
			want: &config.KubeletConfiguration{
				FeatureGates:                           map[string]bool{"KubeletEnsureSecretPulledImages": true},
				ImagePullCredentialsVerificationPolicy: config.NeverVerifyAllowlistedImages,
				PreloadedImagesVerificationAllowlist:   []string{"docker.io/library/alpine", "reg.example:5000/team/*"},
				SerializeImagePulls:                    false,
				MaxParallelImagePulls:                  ptr.To[int32](4),
				ContainerRuntimeEndpoint:               "unix:///run/containerd/containerd.sock",
				ImageServiceEndpoint:                   "unix:///run/images.sock",
				MaxPods:                                50,
			},
			wantGate: true,
		},
		{
			name: "file turns the gate off: no policy default",
			file: "gate-off.yaml",
			want: &config.KubeletConfiguration{
				FeatureGates:             map[string]bool{"KubeletEnsureSecretPulledImages": false},
				SerializeImagePulls:      true,
				ContainerRuntimeEndpoint: "unix:///run/containerd/containerd.sock",
				MaxPods:                  110,
			},
			wantGate: false,
		},
		{
			name: "flag turns the gate back on: the policy is defaulted",
			file: "gate-off.yaml",
			flag: map[string]bool{"KubeletEnsureSecretPulledImages": true},
			want: &config.KubeletConfiguration{
				FeatureGates:                           map[string]bool{"KubeletEnsureSecretPulledImages": true},
				ImagePullCredentialsVerificationPolicy: config.NeverVerifyPreloadedImages,
				SerializeImagePulls:                    true,
				ContainerRuntimeEndpoint:               "unix:///run/containerd/containerd.sock",
				MaxPods:                                110,
			},
			wantGate: true,
		},
		{
			name:    "flag turns the gate off over a file that does not mention it",
			file:    "good.json",
			flag:    map[string]bool{"KubeletEnsureSecretPulledImages": false},
			wantIs:  validation.ErrInvalidConfiguration,
			wantErr: `invalid configuration: imagePullCredentialsVerificationPolicy "AlwaysVerify" requires the KubeletEnsureSecretPulledImages feature gate, which is off`,
		},
		{
			name:    "policy set with the gate off in the file",
			file:    "gate-off-with-policy.yaml",
			wantIs:  validation.ErrInvalidConfiguration,
			wantErr: `invalid configuration: imagePullCredentialsVerificationPolicy "AlwaysVerify" requires the KubeletEnsureSecretPulledImages feature gate, which is off`,
		},
		{
			name:    "bad allowlist entry",
			file:    "bad-allowlist.yaml",
			wantIs:  validation.ErrAllowlistEntryNotNormalized,
			wantErr: `invalid configuration: preloadedImagesVerificationAllowlist[0]: entry "alpine" is not a fully qualified repository name: write "docker.io/library/alpine"`,
		},
		{
			name:    "unknown gate in the file",
			file:    "unknown-gate.yaml",
			wantIs:  features.ErrUnknownFeatureGate,
			wantErr: `invalid configuration: featureGates: unknown feature gate "NoSuchGate"`,
		},
		{
			name:    "unknown gate in the flag",
			flag:    map[string]bool{"NoSuchGate": false},
			wantIs:  features.ErrUnknownFeatureGate,
			wantErr: `invalid configuration: featureGates: unknown feature gate "NoSuchGate"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var versioned *kubeletconfigv1beta1.KubeletConfiguration
			if tc.file != "" {
				var err error
				versioned, _, err = Load(filepath.Join("testdata", tc.file))
				if err != nil {
					t.Fatalf("Load(%q) error = %v", tc.file, err)
				}
			}
			var before *kubeletconfigv1beta1.KubeletConfiguration
			if versioned != nil {
				before = versioned.DeepCopy()
			}

			got, err := Complete(versioned, CompleteOptions{FlagFeatureGates: tc.flag})

			if versioned != nil {
				if diff := cmp.Diff(before, versioned); diff != "" {
					t.Errorf("Complete modified its input (-before +after):\n%s", diff)
				}
			}
			if tc.wantIs != nil {
				if err == nil {
					t.Fatalf("Complete() = %+v, want an error", got.Config)
				}
				if !errors.Is(err, tc.wantIs) {
					t.Errorf("Complete() error = %v, want errors.Is %v", err, tc.wantIs)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Complete() error = %q, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Complete() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, got.Config); diff != "" {
				t.Errorf("Complete() config mismatch (-want +got):\n%s", diff)
			}
			if enabled := got.FeatureGate.Enabled(features.KubeletEnsureSecretPulledImages); enabled != tc.wantGate {
				t.Errorf("effective gate = %v, want %v", enabled, tc.wantGate)
			}
		})
	}
}
