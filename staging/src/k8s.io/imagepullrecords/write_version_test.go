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
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
)

func TestWriteRecordVersion(t *testing.T) {
	ref := "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	record := &kubeletv1beta1.ImagePulledRecord{
		ImageRef:          ref,
		LastUpdatedTime:   metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		CredentialMapping: map[string]kubeletv1beta1.ImagePullCredentials{"docker.io/library/busybox": {NodePodsAccessible: true}},
	}
	for _, tc := range []struct {
		apiVersion  string
		wantCurrent bool
		wantErr     error
	}{
		{apiVersion: APIVersionV1alpha1},
		{apiVersion: APIVersionV1beta1, wantCurrent: true},
		{apiVersion: "kubelet.config.k8s.io/v2", wantErr: ErrUnsupportedVersion},
	} {
		t.Run(tc.apiVersion, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), ManagerDirName)
			s, err := Open(Options{ManagerDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			err = s.WriteRecordVersion(record, tc.apiVersion)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				return
			}
			path := filepath.Join(dir, RecordsDirName, FileName(ref))
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want, err := EncodeRecordVersion(record, tc.apiVersion)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != string(want) {
				t.Errorf("file %s, want %s", data, want)
			}
			got, current, err := DecodeRecord(data)
			if err != nil || current != tc.wantCurrent {
				t.Fatalf("decoding: current %v, error %v; want current %v", current, err, tc.wantCurrent)
			}
			record.TypeMeta = got.TypeMeta
			if diff := cmp.Diff(record, got); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
			if info, err := os.Stat(path); err != nil || info.Mode().Perm() != FileMode {
				t.Errorf("mode %v (%v), want %v", info.Mode(), err, FileMode)
			}
		})
	}
	ro, err := Open(Options{ManagerDir: filepath.Join(t.TempDir(), ManagerDirName), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := ro.WriteRecordVersion(record, APIVersionV1alpha1); !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only store: error %v, want ErrReadOnly", err)
	}
}
