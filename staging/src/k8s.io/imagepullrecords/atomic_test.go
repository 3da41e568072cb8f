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
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestWriteFileAtomicOrder checks the durable sequence: write, fsync and
// close the temporary, rename it, then fsync the directory.
func TestWriteFileAtomicOrder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sha256-x")
	fsys := newFaultFS()
	if err := writeFileAtomic(fsys, path, []byte("data\n")); err != nil {
		t.Fatalf("writeFileAtomic: %v", err)
	}
	calls := fsys.recorded()
	if len(calls) != 7 {
		t.Fatalf("operations = %q, want 7", calls)
	}
	tmp := strings.TrimPrefix(calls[1], string(opWrite)+" ")
	if filepath.Dir(tmp) != dir || !strings.HasPrefix(filepath.Base(tmp), TempPrefix) {
		t.Errorf("temporary %q is not a %s* file in %s", tmp, TempPrefix, dir)
	}
	want := []string{
		"CreateTemp " + dir,
		"Write " + tmp,
		"Sync " + tmp,
		"Close " + tmp,
		"Rename " + path,
		"OpenDir " + dir,
		"SyncDir " + dir,
	}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("operations (-want +got):\n%s", diff)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "data\n" {
		t.Errorf("content = %q, want %q", got, "data\n")
	}
}

func TestWriteRecordFaults(t *testing.T) {
	previous := readTestdata(t, "record-v1alpha1.json")
	next := readTestdata(t, "record-v1beta1.json")
	tests := []struct {
		name string
		fail []faultOp
		// wantNew: the rename happened before the fault, so the file holds
		// the new content; otherwise it keeps the previous one.
		wantNew bool
		// wantTemporary: the temporary could not be removed.
		wantTemporary bool
	}{
		{name: "create temporary", fail: []faultOp{opCreateTemp}},
		{name: "write", fail: []faultOp{opWrite}},
		{name: "fsync", fail: []faultOp{opSync}},
		{name: "close", fail: []faultOp{opClose}},
		{name: "rename", fail: []faultOp{opRename}},
		{name: "open directory", fail: []faultOp{opOpenDir}, wantNew: true},
		{name: "fsync directory", fail: []faultOp{opSyncDir}, wantNew: true},
		{name: "write, temporary not removable", fail: []faultOp{opWrite, opRemove}, wantTemporary: true},
		{name: "rename, temporary not removable", fail: []faultOp{opRename, opRemove}, wantTemporary: true},
	}
	for _, tc := range tests {
		for _, hadPrevious := range []bool{false, true} {
			name := tc.name + "/absent before"
			if hadPrevious {
				name = tc.name + "/previous content"
			}
			t.Run(name, func(t *testing.T) {
				managerDir := filepath.Join(t.TempDir(), ManagerDirName)
				fsys := newFaultFS()
				store, err := Open(Options{ManagerDir: managerDir, FS: fsys})
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				path := filepath.Join(managerDir, RecordsDirName, FileName(goldenImageRef))
				if hadPrevious {
					writeFile(t, path, previous)
				}
				for _, op := range tc.fail {
					fsys.fail[op] = true
				}

				err = store.WriteRecord(goldenRecord())
				if !errors.Is(err, errInjected) {
					t.Fatalf("WriteRecord error = %v, want the injected fault", err)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name %s", err, path)
				}

				got, readErr := os.ReadFile(path)
				switch {
				case tc.wantNew:
					if string(got) != string(next) {
						t.Errorf("content = %q, want the new record", got)
					}
				case hadPrevious:
					if string(got) != string(previous) {
						t.Errorf("content = %q, want the previous content", got)
					}
				default:
					if !errors.Is(readErr, os.ErrNotExist) {
						t.Errorf("file exists after a failed first write (content %q, error %v)", got, readErr)
					}
				}

				var temporaries []string
				for _, name := range dirNames(t, filepath.Dir(path)) {
					if IsTemporary(name) {
						temporaries = append(temporaries, name)
					}
				}
				if tc.wantTemporary != (len(temporaries) > 0) {
					t.Errorf("temporaries left = %q, want some: %v", temporaries, tc.wantTemporary)
				}

				// Whatever is left, readers see a good record or nothing; a
				// leftover temporary is never listed.
				fsys.fail = map[faultOp]bool{}
				var records []string
				bad, err := store.WalkRecords(func(f RecordFile) { records = append(records, f.File) })
				if err != nil || len(bad) != 0 {
					t.Errorf("WalkRecords: bad %v, error %v", bad, err)
				}
				wantRecords := 0
				if tc.wantNew || hadPrevious {
					wantRecords = 1
				}
				if len(records) != wantRecords {
					t.Errorf("records = %q, want %d", records, wantRecords)
				}
			})
		}
	}
}

func TestWriteIntentFaultKeepsNoFile(t *testing.T) {
	managerDir := filepath.Join(t.TempDir(), ManagerDirName)
	fsys := newFaultFS()
	store, err := Open(Options{ManagerDir: managerDir, FS: fsys})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	fsys.fail[opSync] = true
	path := filepath.Join(managerDir, IntentsDirName, FileName(goldenImage))
	err = store.WriteIntent(goldenIntent())
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), path) {
		t.Errorf("WriteIntent error = %v, want the injected fault naming %s", err, path)
	}
	if names := dirNames(t, filepath.Dir(path)); len(names) != 0 {
		t.Errorf("pulling/ holds %q after a failed write, want nothing", names)
	}
}
