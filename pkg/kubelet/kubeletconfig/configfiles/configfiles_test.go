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
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"k8s.io/utils/ptr"
)

var testTypeMeta = metav1.TypeMeta{APIVersion: "kubelet.config.k8s.io/v1beta1", Kind: "KubeletConfiguration"}

func TestLoad(t *testing.T) {
	tests := []struct {
		name         string
		file         string
		want         *kubeletconfigv1beta1.KubeletConfiguration
		wantWarnings []string
		wantIs       error
		wantErr      string
	}{
		{
			name: "good yaml",
			file: "good.yaml",
			want: &kubeletconfigv1beta1.KubeletConfiguration{
				TypeMeta:                               testTypeMeta,
				FeatureGates:                           map[string]bool{"KubeletEnsureSecretPulledImages": true},
				ImagePullCredentialsVerificationPolicy: kubeletconfigv1beta1.NeverVerifyAllowlistedImages,
				PreloadedImagesVerificationAllowlist:   []string{"docker.io/library/alpine", "reg.example:5000/team/*"},
				SerializeImagePulls:                    ptr.To(false),
				MaxParallelImagePulls:                  ptr.To[int32](4),
				ContainerRuntimeEndpoint:               "unix:///run/containerd/containerd.sock",
				ImageServiceEndpoint:                   "unix:///run/images.sock",
				MaxPods:                                50,
				StaticPodPath:                          "/etc/kubernetes/manifests",
			},
		},
		{
			name: "good json",
			file: "good.json",
			want: &kubeletconfigv1beta1.KubeletConfiguration{
				TypeMeta:                               testTypeMeta,
				ImagePullCredentialsVerificationPolicy: kubeletconfigv1beta1.AlwaysVerify,
				MaxPods:                                30,
			},
		},
		{
			name: "minimal, no defaults applied",
			file: "minimal.yaml",
			want: &kubeletconfigv1beta1.KubeletConfiguration{TypeMeta: testTypeMeta},
		},
		{
			name:         "unknown field yaml: lenient with a warning",
			file:         "unknown-field.yaml",
			want:         &kubeletconfigv1beta1.KubeletConfiguration{TypeMeta: testTypeMeta, MaxPods: 20},
			wantWarnings: []string{`unknown field "imagePullCredentialsVerificationPolicyy"`},
		},
		{
			name:         "unknown field json: lenient with a warning",
			file:         "unknown-field.json",
			want:         &kubeletconfigv1beta1.KubeletConfiguration{TypeMeta: testTypeMeta, MaxPods: 20},
			wantWarnings: []string{`unknown field "futureField"`},
		},
		{
			name:         "duplicate field json: the last wins, with a warning",
			file:         "duplicate-field.json",
			want:         &kubeletconfigv1beta1.KubeletConfiguration{TypeMeta: testTypeMeta, MaxPods: 30},
			wantWarnings: []string{`duplicate field "maxPods"`},
		},
		{
			name:         "duplicate field yaml: the last wins, with a warning",
			file:         "duplicate-field.yaml",
			want:         &kubeletconfigv1beta1.KubeletConfiguration{TypeMeta: testTypeMeta, MaxPods: 30},
			wantWarnings: []string{`yaml: unmarshal errors: line 4: key "maxPods" already set in map`},
		},
		{
			name:    "wrong kind",
			file:    "wrong-kind.yaml",
			wantIs:  ErrUnsupportedKind,
			wantErr: `unsupported kind "CredentialProviderConfig", want "KubeletConfiguration"`,
		},
		{
			name:    "wrong apiVersion",
			file:    "wrong-apiversion.yaml",
			wantIs:  ErrUnsupportedAPIVersion,
			wantErr: `unsupported apiVersion "kubelet.config.k8s.io/v1alpha1", want "kubelet.config.k8s.io/v1beta1"`,
		},
		{
			name:    "no apiVersion or kind",
			file:    "missing-type.yaml",
			wantIs:  ErrUnsupportedAPIVersion,
			wantErr: `unsupported apiVersion "", want "kubelet.config.k8s.io/v1beta1"`,
		},
		{
			name:    "broken yaml",
			file:    "broken.yaml",
			wantIs:  ErrMalformed,
			wantErr: "malformed configuration: ",
		},
		{
			name:    "wrong field type",
			file:    "wrong-type.yaml",
			wantIs:  ErrMalformed,
			wantErr: "malformed configuration: ",
		},
		{
			name:    "missing file",
			file:    "does-not-exist.yaml",
			wantIs:  fs.ErrNotExist,
			wantErr: "reading kubelet config file ",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			got, warnings, err := Load(path)
			if tc.wantIs != nil {
				if err == nil {
					t.Fatalf("Load(%q) = %+v, want an error", path, got)
				}
				if !errors.Is(err, tc.wantIs) {
					t.Errorf("Load(%q) error = %v, want errors.Is %v", path, err, tc.wantIs)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Load(%q) error = %q, want it to contain %q", path, err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), `"`+path+`"`) {
					t.Errorf("Load(%q) error = %q does not name the file", path, err)
				}
				if got != nil || warnings != nil {
					t.Errorf("Load(%q) returned %+v, %v with an error", path, got, warnings)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load(%q) error = %v", path, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Load(%q) mismatch (-want +got):\n%s", path, diff)
			}
			if diff := cmp.Diff(tc.wantWarnings, warnings); diff != "" {
				t.Errorf("Load(%q) warnings mismatch (-want +got):\n%s", path, diff)
			}
		})
	}
}
