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
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
)

const (
	goldenImage    = "reg.example/team/app:1.2"
	goldenImageRef = "sha256:5d1f3ff6c05723bb069d19953340320fa9512f0be584742703e60226ded28bb4"
)

// goldenIntent is the object in testdata/intent-v1beta1.json.
func goldenIntent() *kubeletv1beta1.ImagePullIntent {
	return &kubeletv1beta1.ImagePullIntent{
		TypeMeta: metav1.TypeMeta{Kind: KindImagePullIntent, APIVersion: APIVersionV1beta1},
		Image:    goldenImage,
	}
}

// goldenRecord is the object in testdata/record-v1beta1.json.
func goldenRecord() *kubeletv1beta1.ImagePulledRecord {
	return &kubeletv1beta1.ImagePulledRecord{
		TypeMeta:        metav1.TypeMeta{Kind: KindImagePulledRecord, APIVersion: APIVersionV1beta1},
		LastUpdatedTime: metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		ImageRef:        goldenImageRef,
		CredentialMapping: map[string]kubeletv1beta1.ImagePullCredentials{
			"docker.io/library/busybox": {NodePodsAccessible: true},
			"reg.example/team/app": {
				KubernetesSecrets: []kubeletv1beta1.ImagePullSecret{{
					UID:            "7c9e6679-7425-40de-944b-e07fc1f90ae7",
					Namespace:      "team-a",
					Name:           "regcred",
					CredentialHash: "9a0b55d91a3561684b32df5e58a0d91968b93798af4f924bba383e1c98625ec0",
				}},
				KubernetesServiceAccounts: []kubeletv1beta1.ImagePullServiceAccount{{
					UID:       "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9",
					Namespace: "team-b",
					Name:      "builder",
				}},
			},
		},
	}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("reading golden file: %v", err)
	}
	return data
}

func TestDecodeIntentGolden(t *testing.T) {
	tests := []struct {
		name        string
		file        string
		wantCurrent bool
	}{
		{name: "v1beta1", file: "intent-v1beta1.json", wantCurrent: true},
		{name: "v1alpha1 is migrated", file: "intent-v1alpha1.json", wantCurrent: false},
	}
	golden := readTestdata(t, "intent-v1beta1.json")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, current, err := DecodeIntent(readTestdata(t, tc.file))
			if err != nil {
				t.Fatalf("DecodeIntent: %v", err)
			}
			if current != tc.wantCurrent {
				t.Errorf("current = %v, want %v", current, tc.wantCurrent)
			}
			if diff := cmp.Diff(goldenIntent(), got); diff != "" {
				t.Errorf("decoded intent (-want +got):\n%s", diff)
			}
			encoded, err := EncodeIntent(got)
			if err != nil {
				t.Fatalf("EncodeIntent: %v", err)
			}
			if diff := cmp.Diff(string(golden), string(encoded)); diff != "" {
				t.Errorf("re-encoding differs from the v1beta1 golden file (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeRecordGolden(t *testing.T) {
	tests := []struct {
		name        string
		file        string
		wantCurrent bool
	}{
		{name: "v1beta1", file: "record-v1beta1.json", wantCurrent: true},
		// The v1alpha1 file is indented, has its fields in another order and
		// a time with an offset: migration must still give the exact bytes.
		{name: "v1alpha1 is migrated", file: "record-v1alpha1.json", wantCurrent: false},
	}
	golden := readTestdata(t, "record-v1beta1.json")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, current, err := DecodeRecord(readTestdata(t, tc.file))
			if err != nil {
				t.Fatalf("DecodeRecord: %v", err)
			}
			if current != tc.wantCurrent {
				t.Errorf("current = %v, want %v", current, tc.wantCurrent)
			}
			if diff := cmp.Diff(goldenRecord(), got); diff != "" {
				t.Errorf("decoded record (-want +got):\n%s", diff)
			}
			encoded, err := EncodeRecord(got)
			if err != nil {
				t.Fatalf("EncodeRecord: %v", err)
			}
			if diff := cmp.Diff(string(golden), string(encoded)); diff != "" {
				t.Errorf("re-encoding differs from the v1beta1 golden file (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGoldenFilesAreCanonical(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		encode func() ([]byte, error)
	}{
		{name: "intent", file: "intent-v1beta1.json", encode: func() ([]byte, error) { return EncodeIntent(goldenIntent()) }},
		{name: "record", file: "record-v1beta1.json", encode: func() ([]byte, error) { return EncodeRecord(goldenRecord()) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			golden := readTestdata(t, tc.file)
			if !bytes.HasSuffix(golden, []byte("}\n")) || bytes.Count(golden, []byte("\n")) != 1 {
				t.Errorf("golden file is not one line with one trailing newline: %q", golden)
			}
			got, err := tc.encode()
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if diff := cmp.Diff(string(golden), string(got)); diff != "" {
				t.Errorf("encoding of the golden object (-want +got):\n%s", diff)
			}
		})
	}
}

// brokenFiles lists every file under testdata/broken/; the test checks that
// the directory holds exactly these, so none is silently skipped.
var brokenFiles = map[string][]string{
	"intent": {
		"array", "deep-nesting", "duplicate-field", "empty", "empty-image",
		"invalid-utf8", "missing-apiversion", "null", "trailing-garbage",
		"truncated", "unknown-apiversion", "unknown-field",
		"v1alpha1-unknown-field", "wrong-case-field", "wrong-kind", "wrong-type",
	},
	"record": {
		"array", "bad-time", "deep-nesting", "deep-nesting-in-field",
		"duplicate-field", "duplicate-mapping-key", "empty", "empty-imageref",
		"invalid-utf8", "missing-apiversion", "missing-imageref", "missing-kind",
		"null", "time-out-of-range", "trailing-garbage", "trailing-object",
		"truncated", "unknown-apiversion", "unknown-field", "unknown-nested-field",
		"v1alpha1-unknown-field", "wrong-case-field", "wrong-case-kind",
		"wrong-kind", "wrong-type",
	},
}

func TestDecodeBroken(t *testing.T) {
	tests := []struct {
		kind   string
		decode func([]byte) (obj any, current bool, err error)
	}{
		{
			kind: "intent",
			decode: func(data []byte) (any, bool, error) {
				intent, current, err := DecodeIntent(data)
				if intent == nil {
					return nil, current, err
				}
				return intent, current, err
			},
		},
		{
			kind: "record",
			decode: func(data []byte) (any, bool, error) {
				record, current, err := DecodeRecord(data)
				if record == nil {
					return nil, current, err
				}
				return record, current, err
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			paths, err := filepath.Glob(filepath.Join("testdata", "broken", tc.kind, "*.json"))
			if err != nil {
				t.Fatal(err)
			}
			var onDisk []string
			for _, p := range paths {
				onDisk = append(onDisk, strings.TrimSuffix(filepath.Base(p), ".json"))
			}
			sort.Strings(onDisk)
			want := append([]string(nil), brokenFiles[tc.kind]...)
			sort.Strings(want)
			if diff := cmp.Diff(want, onDisk); diff != "" {
				t.Fatalf("testdata/broken/%s differs from the list in the test (-listed +on disk):\n%s", tc.kind, diff)
			}
			for _, name := range want {
				t.Run(name, func(t *testing.T) {
					obj, current, err := tc.decode(readTestdata(t, filepath.Join("broken", tc.kind, name+".json")))
					if !errors.Is(err, ErrDecode) {
						t.Errorf("error = %v, want one wrapping ErrDecode", err)
					}
					if obj != nil || current {
						t.Errorf("decoded %+v (current=%v) from a broken file, want nil", obj, current)
					}
				})
			}
		})
	}
}

func TestDecodeRecordNormalizes(t *testing.T) {
	tests := []struct {
		name string
		data string
		want *kubeletv1beta1.ImagePulledRecord
	}{
		{
			name: "fraction and offset become whole seconds in UTC",
			data: `{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2026-01-02T04:04:05.999+01:00","imageRef":"r"}`,
			want: &kubeletv1beta1.ImagePulledRecord{
				TypeMeta:        metav1.TypeMeta{Kind: KindImagePulledRecord, APIVersion: APIVersionV1beta1},
				LastUpdatedTime: metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
				ImageRef:        "r",
			},
		},
		{
			name: "null time, empty mapping and empty lists",
			data: `{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1alpha1","lastUpdatedTime":null,"imageRef":"r","credentialMapping":{}}`,
			want: &kubeletv1beta1.ImagePulledRecord{
				TypeMeta: metav1.TypeMeta{Kind: KindImagePulledRecord, APIVersion: APIVersionV1beta1},
				ImageRef: "r",
			},
		},
		{
			name: "empty lists in an entry",
			data: `{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","imageRef":"r","credentialMapping":{"a":{"kubernetesSecrets":[],"kubernetesServiceAccounts":[]},"b":null}}`,
			want: &kubeletv1beta1.ImagePulledRecord{
				TypeMeta:          metav1.TypeMeta{Kind: KindImagePulledRecord, APIVersion: APIVersionV1beta1},
				ImageRef:          "r",
				CredentialMapping: map[string]kubeletv1beta1.ImagePullCredentials{"a": {}, "b": {}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := DecodeRecord([]byte(tc.data))
			if err != nil {
				t.Fatalf("DecodeRecord: %v", err)
			}
			// cmp.Diff would call time.Time.Equal; the decoded value must be
			// identical, location included, so that it equals its re-decoding.
			if diff := cmp.Diff(tc.want, got, exactTime); diff != "" {
				t.Errorf("decoded record (-want +got):\n%s", diff)
			}
			encoded, err := EncodeRecord(got)
			if err != nil {
				t.Fatalf("EncodeRecord: %v", err)
			}
			again, _, err := DecodeRecord(encoded)
			if err != nil {
				t.Fatalf("DecodeRecord(re-encoded): %v", err)
			}
			if diff := cmp.Diff(got, again, exactTime); diff != "" {
				t.Errorf("re-decoded record differs (-first +second):\n%s", diff)
			}
		})
	}
}

func TestEncodeRecord(t *testing.T) {
	tests := []struct {
		name    string
		record  *kubeletv1beta1.ImagePulledRecord
		want    string
		wantErr bool
	}{
		{
			name: "kind and apiVersion are set, map keys sorted, HTML escaped",
			record: &kubeletv1beta1.ImagePulledRecord{
				TypeMeta: metav1.TypeMeta{Kind: "Other", APIVersion: APIVersionV1alpha1},
				ImageRef: "sha256:<&>",
				CredentialMapping: map[string]kubeletv1beta1.ImagePullCredentials{
					"z.example/b": {},
					"Z.example/a": {NodePodsAccessible: true},
					"a.example/c": {KubernetesSecrets: []kubeletv1beta1.ImagePullSecret{{UID: "u", Namespace: "n", Name: "s", CredentialHash: "h"}}},
				},
			},
			want: `{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":null,"imageRef":"sha256:\u003c\u0026\u003e","credentialMapping":{"Z.example/a":{"nodePodsAccessible":true},"a.example/c":{"kubernetesSecrets":[{"uid":"u","namespace":"n","name":"s","credentialHash":"h"}]},"z.example/b":{}}}` + "\n",
		},
		{
			name: "time in another zone is written in UTC, lists kept in caller order",
			record: &kubeletv1beta1.ImagePulledRecord{
				LastUpdatedTime: metav1.NewTime(time.Date(2026, 1, 2, 4, 4, 5, 7, time.FixedZone("x", 3600))),
				ImageRef:        "r",
				CredentialMapping: map[string]kubeletv1beta1.ImagePullCredentials{
					"a": {KubernetesServiceAccounts: []kubeletv1beta1.ImagePullServiceAccount{{UID: "2", Namespace: "b", Name: "b"}, {UID: "1", Namespace: "a", Name: "a"}}},
				},
			},
			want: `{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2026-01-02T03:04:05Z","imageRef":"r","credentialMapping":{"a":{"kubernetesServiceAccounts":[{"uid":"2","namespace":"b","name":"b"},{"uid":"1","namespace":"a","name":"a"}]}}}` + "\n",
		},
		{name: "nil", record: nil, wantErr: true},
		{name: "empty imageRef", record: &kubeletv1beta1.ImagePulledRecord{}, wantErr: true},
		{name: "invalid UTF-8 imageRef", record: &kubeletv1beta1.ImagePulledRecord{ImageRef: "sha256:\xff"}, wantErr: true},
		{
			name: "year after 9999",
			record: &kubeletv1beta1.ImagePulledRecord{
				ImageRef:        "r",
				LastUpdatedTime: metav1.NewTime(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)),
			},
			wantErr: true,
		},
		{
			name: "year before 0 in UTC",
			record: &kubeletv1beta1.ImagePulledRecord{
				ImageRef:        "r",
				LastUpdatedTime: metav1.NewTime(time.Date(0, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600))),
			},
			wantErr: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before *kubeletv1beta1.ImagePulledRecord
			if tc.record != nil {
				before = tc.record.DeepCopy()
			}
			got, err := EncodeRecord(tc.record)
			if tc.wantErr {
				if !errors.Is(err, ErrDecode) {
					t.Errorf("error = %v, want one wrapping ErrDecode", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("EncodeRecord: %v", err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("encoding (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tc.record); diff != "" {
				t.Errorf("EncodeRecord changed its argument (-before +after):\n%s", diff)
			}
		})
	}
}

func TestEncodeIntent(t *testing.T) {
	tests := []struct {
		name    string
		intent  *kubeletv1beta1.ImagePullIntent
		want    string
		wantErr bool
	}{
		{
			name:   "kind and apiVersion are set",
			intent: &kubeletv1beta1.ImagePullIntent{Image: "busybox"},
			want:   `{"kind":"ImagePullIntent","apiVersion":"kubelet.config.k8s.io/v1beta1","image":"busybox"}` + "\n",
		},
		{
			name:   "older apiVersion is replaced",
			intent: &kubeletv1beta1.ImagePullIntent{TypeMeta: metav1.TypeMeta{Kind: "X", APIVersion: APIVersionV1alpha1}, Image: "a&b"},
			want:   `{"kind":"ImagePullIntent","apiVersion":"kubelet.config.k8s.io/v1beta1","image":"a\u0026b"}` + "\n",
		},
		{name: "nil", intent: nil, wantErr: true},
		{name: "empty image", intent: &kubeletv1beta1.ImagePullIntent{}, wantErr: true},
		{name: "invalid UTF-8 image", intent: &kubeletv1beta1.ImagePullIntent{Image: "busy\xffbox"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EncodeIntent(tc.intent)
			if tc.wantErr {
				if !errors.Is(err, ErrDecode) {
					t.Errorf("error = %v, want one wrapping ErrDecode", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("EncodeIntent: %v", err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("encoding (-want +got):\n%s", diff)
			}
		})
	}
}
