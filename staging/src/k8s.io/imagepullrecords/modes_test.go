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

	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
)

func TestTightenFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ManagerDirName)
	s, err := Open(Options{ManagerDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	loose := filepath.Join(dir, RecordsDirName, FileName("a"))
	tight := filepath.Join(dir, IntentsDirName, FileName("b"))
	other := filepath.Join(dir, RecordsDirName, "not-a-record")
	outside := filepath.Join(t.TempDir(), "outside")
	link := filepath.Join(dir, RecordsDirName, FileName("c"))
	for path, mode := range map[string]os.FileMode{loose: 0o666, tight: 0o600, other: 0o644, outside: 0o644} {
		if err := os.WriteFile(path, []byte("x"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	changed, err := s.TightenFileModes()
	if err != nil || len(changed) != 1 || changed[0] != loose {
		t.Errorf("TightenFileModes() = %v, %v; want only %s", changed, err, loose)
	}
	for path, want := range map[string]os.FileMode{loose: FileMode, tight: FileMode, other: 0o644, outside: 0o644} {
		if info, err := os.Stat(path); err != nil || info.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want mode %v", path, info, err, want)
		}
	}
	ro, err := Open(Options{ManagerDir: dir, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.TightenFileModes(); !errors.Is(err, ErrReadOnly) {
		t.Errorf("TightenFileModes() on a read-only store = %v, want ErrReadOnly", err)
	}
}

// TestWalkReportsModes: the walks report each file's mode as read, so a
// writer can spot loose modes without a second pass, and TightenFileMode
// fixes one file.
func TestWalkReportsModes(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{ManagerDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteRecord(testRecordForModes("sha256:aa")); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteRecord(testRecordForModes("sha256:bb")); err != nil {
		t.Fatal(err)
	}
	loose := filepath.Join(RecordsDirName, FileName("sha256:bb"))
	if err := os.Chmod(filepath.Join(dir, loose), 0o666); err != nil {
		t.Fatal(err)
	}
	var gotLoose []string
	if _, err := s.WalkRecords(func(f RecordFile) {
		if LooseMode(f.Mode) {
			gotLoose = append(gotLoose, f.File)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if len(gotLoose) != 1 || gotLoose[0] != loose {
		t.Fatalf("loose files seen by the walk = %v, want [%s]", gotLoose, loose)
	}
	if err := s.TightenFileMode(loose); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, loose))
	if err != nil || info.Mode().Perm() != FileMode {
		t.Errorf("mode after TightenFileMode = %v, %v; want %v", info.Mode().Perm(), err, FileMode)
	}
}

func testRecordForModes(ref string) *kubeletv1beta1.ImagePulledRecord {
	return &kubeletv1beta1.ImagePulledRecord{ImageRef: ref}
}
