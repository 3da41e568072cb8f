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
)

func TestWriterLock(t *testing.T) {
	managerDir := filepath.Join(t.TempDir(), ManagerDirName)
	openStore(t, managerDir, nil)
	lockPath := filepath.Join(managerDir, LockFileName)

	first, err := AcquireWriterLock(OS, managerDir)
	if err != nil {
		t.Fatalf("first AcquireWriterLock: %v", err)
	}
	if mode := fileMode(t, lockPath); mode != FileMode {
		t.Errorf("lock file mode = %v, want %v", mode, FileMode)
	}

	// Another open file description of the same file conflicts, as another
	// process would.
	second, err := AcquireWriterLock(OS, managerDir)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second AcquireWriterLock error = %v, want ErrLocked", err)
	}
	if second != nil {
		t.Errorf("second AcquireWriterLock returned a lock with an error")
	}
	if !strings.Contains(err.Error(), lockPath) {
		t.Errorf("error %q does not name %s", err, lockPath)
	}

	if err := first.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	// Releasing twice is harmless.
	if err := first.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}

	third, err := AcquireWriterLock(OS, managerDir)
	if err != nil {
		t.Fatalf("AcquireWriterLock after Release: %v", err)
	}
	if err := third.Release(); err != nil {
		t.Errorf("Release: %v", err)
	}
}

func TestAcquireWriterLockSetup(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, managerDir string)
		wantErr bool
	}{
		{
			// A lock file left by a dead process holds no flock.
			name: "stale lock file",
			setup: func(t *testing.T, managerDir string) {
				writeFile(t, filepath.Join(managerDir, LockFileName), []byte("pid 12345\n"))
			},
		},
		{
			name: "manager dir missing",
			setup: func(t *testing.T, managerDir string) {
				if err := os.RemoveAll(managerDir); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: true,
		},
		{
			// The lock file is never followed out of the directory.
			name: "lock file is a symlink",
			setup: func(t *testing.T, managerDir string) {
				if err := os.Symlink(filepath.Join(t.TempDir(), "elsewhere"), filepath.Join(managerDir, LockFileName)); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			managerDir := filepath.Join(t.TempDir(), ManagerDirName)
			openStore(t, managerDir, nil)
			tc.setup(t, managerDir)
			lock, err := AcquireWriterLock(OS, managerDir)
			if tc.wantErr {
				if err == nil {
					_ = lock.Release()
					t.Fatalf("AcquireWriterLock succeeded, want an error")
				}
				if errors.Is(err, ErrLocked) {
					t.Errorf("error = %v, want one that is not ErrLocked", err)
				}
				// The lock file, or the directory when that is what is wrong.
				if !strings.Contains(err.Error(), managerDir) {
					t.Errorf("error %q names neither the lock file nor its directory", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("AcquireWriterLock: %v", err)
			}
			if err := lock.Release(); err != nil {
				t.Errorf("Release: %v", err)
			}
		})
	}
}

func TestReleaseNilLock(t *testing.T) {
	var lock *WriterLock
	if err := lock.Release(); err != nil {
		t.Errorf("Release of a nil lock: %v", err)
	}
}
