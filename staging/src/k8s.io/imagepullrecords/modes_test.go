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
	ro, err := Open(Options{ManagerDir: dir, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := ro.TightenFileMode(loose); !errors.Is(err, ErrReadOnly) {
		t.Errorf("TightenFileMode on a read-only store = %v, want ErrReadOnly", err)
	}
}

func testRecordForModes(ref string) *kubeletv1beta1.ImagePulledRecord {
	return &kubeletv1beta1.ImagePulledRecord{ImageRef: ref}
}

// TestTightenFileModeFollowsNoSymlink: an entry swapped for a symlink
// between the walk and the repair is refused, and the file it points to
// keeps its mode.
func TestTightenFileModeFollowsNoSymlink(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{ManagerDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(outside, 0o644); err != nil {
		t.Fatal(err)
	}
	rel := filepath.Join(RecordsDirName, FileName("sha256:cc"))
	if err := os.Symlink(outside, filepath.Join(dir, rel)); err != nil {
		t.Fatal(err)
	}
	if err := s.TightenFileMode(rel); !errors.Is(err, ErrNotRegular) {
		t.Errorf("TightenFileMode over a symlink = %v, want ErrNotRegular", err)
	}
	if info, err := os.Stat(outside); err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("the symlink's target changed mode: %v, %v", info.Mode().Perm(), err)
	}
}

// TestLooseModeOfUnreadFile: the zero mode of a file whose read never got
// to a stat (a symlink refused by O_NOFOLLOW) is not loose, so no writer
// chmods through it; a walk over such a symlink reports it so.
func TestLooseModeOfUnreadFile(t *testing.T) {
	for mode, want := range map[os.FileMode]bool{0: false, 0o600: false, 0o644: true, 0o666: true, os.ModeSymlink | 0o777: false} {
		if got := LooseMode(mode); got != want {
			t.Errorf("LooseMode(%v) = %v, want %v", mode, got, want)
		}
	}
	dir := t.TempDir()
	s, err := Open(Options{ManagerDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, RecordsDirName, FileName("sha256:dd"))); err != nil {
		t.Fatal(err)
	}
	bad, err := s.WalkRecords(func(RecordFile) {})
	if err != nil || len(bad) != 1 {
		t.Fatalf("WalkRecords = %v, %v; want the symlink as one broken file", bad, err)
	}
	if LooseMode(bad[0].Mode) {
		t.Errorf("the symlink's FileError has a loose mode %v: a writer would chmod its target", bad[0].Mode)
	}
}
