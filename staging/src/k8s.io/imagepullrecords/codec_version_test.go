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

package imagepullrecords

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
)

// TestEncodeVersionGolden checks the canonical encoding of the golden
// objects in each writable version against the golden files, and that
// decoding a golden file gives the object back.
func TestEncodeVersionGolden(t *testing.T) {
	tests := []struct {
		name       string
		apiVersion string
		file       string
		encode     func(apiVersion string) ([]byte, error)
		decode     func(data []byte) (any, bool, error)
		want       any
		wantCurr   bool
	}{
		{
			name: "intent v1beta1", apiVersion: APIVersionV1beta1, file: "intent-v1beta1.json",
			encode: func(v string) ([]byte, error) { return EncodeIntentVersion(goldenIntent(), v) },
			decode: func(d []byte) (any, bool, error) { return DecodeIntent(d) },
			want:   goldenIntent(), wantCurr: true,
		},
		{
			name: "intent v1alpha1", apiVersion: APIVersionV1alpha1, file: "intent-v1alpha1.json",
			encode: func(v string) ([]byte, error) { return EncodeIntentVersion(goldenIntent(), v) },
			decode: func(d []byte) (any, bool, error) { return DecodeIntent(d) },
			want:   goldenIntent(),
		},
		{
			name: "record v1beta1", apiVersion: APIVersionV1beta1, file: "record-v1beta1.json",
			encode: func(v string) ([]byte, error) { return EncodeRecordVersion(goldenRecord(), v) },
			decode: func(d []byte) (any, bool, error) { return DecodeRecord(d) },
			want:   goldenRecord(), wantCurr: true,
		},
		{
			name: "record v1alpha1", apiVersion: APIVersionV1alpha1, file: "record-v1alpha1-canonical.json",
			encode: func(v string) ([]byte, error) { return EncodeRecordVersion(goldenRecord(), v) },
			decode: func(d []byte) (any, bool, error) { return DecodeRecord(d) },
			want:   goldenRecord(),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			golden := readTestdata(t, tc.file)
			got, err := tc.encode(tc.apiVersion)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if diff := cmp.Diff(string(golden), string(got)); diff != "" {
				t.Errorf("encoding in %s (-golden +got):\n%s", tc.apiVersion, diff)
			}
			obj, current, err := tc.decode(golden)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if current != tc.wantCurr {
				t.Errorf("current = %v, want %v", current, tc.wantCurr)
			}
			if diff := cmp.Diff(tc.want, obj); diff != "" {
				t.Errorf("decoded golden file (-want +got):\n%s", diff)
			}
			// Only apiVersion tells the versions apart on the wire.
			v1beta1, err := tc.encode(APIVersionV1beta1)
			if err != nil {
				t.Fatal(err)
			}
			if tc.apiVersion == APIVersionV1alpha1 && !bytes.Equal(got, v1alpha1Of(v1beta1)) {
				t.Errorf("v1alpha1 encoding %q differs from the v1beta1 one %q by more than apiVersion", got, v1beta1)
			}
		})
	}
}

// TestEncodeVersionRoundTrip encodes records of every shape in each version
// and checks that decoding gives the same record.
func TestEncodeVersionRoundTrip(t *testing.T) {
	updated := metav1.NewTime(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	records := map[string]*kubeletv1beta1.ImagePulledRecord{
		"golden":                  goldenRecord(),
		"empty credentialMapping": {ImageRef: "sha256:1", LastUpdatedTime: updated},
		"zero time":               {ImageRef: "sha256:2"},
		"entry without credentials": {ImageRef: "sha256:3", LastUpdatedTime: updated, CredentialMapping: map[string]kubeletv1beta1.ImagePullCredentials{
			"reg.example/pulled": {},
		}},
		"familiar key and unicode": {ImageRef: "sha256:4", LastUpdatedTime: updated, CredentialMapping: map[string]kubeletv1beta1.ImagePullCredentials{
			"busybox":           {NodePodsAccessible: true},
			"reg.example/ünï/a": {KubernetesServiceAccounts: []kubeletv1beta1.ImagePullServiceAccount{{UID: "u", Namespace: "n", Name: "sa"}}},
		}},
	}
	for name, r := range records {
		for _, v := range WritableAPIVersions() {
			t.Run(name+"/"+v, func(t *testing.T) {
				data, err := EncodeRecordVersion(r, v)
				if err != nil {
					t.Fatalf("EncodeRecordVersion: %v", err)
				}
				if !strings.Contains(string(data), `"apiVersion":"`+v+`"`) {
					t.Errorf("encoding %q is not in %s", data, v)
				}
				got, current, err := DecodeRecord(data)
				if err != nil {
					t.Fatalf("DecodeRecord: %v", err)
				}
				if current != (v == APIVersionV1beta1) {
					t.Errorf("current = %v for %s", current, v)
				}
				want := *r
				want.Kind, want.APIVersion = KindImagePulledRecord, APIVersionV1beta1
				if diff := cmp.Diff(&want, got); diff != "" {
					t.Errorf("round trip (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestEncodeVersionErrors checks that every version refuses what EncodeIntent
// and EncodeRecord refuse, and that other versions are refused.
func TestEncodeVersionErrors(t *testing.T) {
	tests := []struct {
		name    string
		encode  func(apiVersion string) ([]byte, error)
		version string
		wantErr error
	}{
		{name: "unknown version", version: "kubelet.config.k8s.io/v1", wantErr: ErrUnsupportedVersion,
			encode: func(v string) ([]byte, error) { return EncodeRecordVersion(goldenRecord(), v) }},
		{name: "unknown version, intent", version: "v1alpha1", wantErr: ErrUnsupportedVersion,
			encode: func(v string) ([]byte, error) { return EncodeIntentVersion(goldenIntent(), v) }},
		{name: "empty image", version: APIVersionV1alpha1, wantErr: ErrDecode,
			encode: func(v string) ([]byte, error) { return EncodeIntentVersion(&kubeletv1beta1.ImagePullIntent{}, v) }},
		{name: "invalid UTF-8 image", version: APIVersionV1alpha1, wantErr: ErrDecode,
			encode: func(v string) ([]byte, error) {
				return EncodeIntentVersion(&kubeletv1beta1.ImagePullIntent{Image: "a\xffb"}, v)
			}},
		{name: "empty imageRef", version: APIVersionV1alpha1, wantErr: ErrDecode,
			encode: func(v string) ([]byte, error) { return EncodeRecordVersion(&kubeletv1beta1.ImagePulledRecord{}, v) }},
		{name: "nil record", version: APIVersionV1alpha1, wantErr: ErrDecode,
			encode: func(v string) ([]byte, error) { return EncodeRecordVersion(nil, v) }},
		{name: "time out of range", version: APIVersionV1alpha1, wantErr: ErrDecode,
			encode: func(v string) ([]byte, error) {
				r := goldenRecord()
				r.LastUpdatedTime = metav1.NewTime(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
				return EncodeRecordVersion(r, v)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := tc.encode(tc.version)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if data != nil {
				t.Errorf("data = %q, want none", data)
			}
		})
	}
}
