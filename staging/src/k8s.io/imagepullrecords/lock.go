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
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ErrLocked is returned when another process holds the writer lock.
var ErrLocked = errors.New("image pull records are locked by another writer")

// WriterLock is the exclusive lock a writer holds on image_manager/ for its
// lifetime, so that two processes never write one root dir at once.
type WriterLock struct {
	f File
}

// AcquireWriterLock takes the exclusive, non-blocking flock on
// <managerDir>/.lock. It fails with ErrLocked when another process holds it.
// The lock is released by Release or when the process exits, so a stale
// lock file from a dead process never blocks.
func AcquireWriterLock(fsys FS, managerDir string) (*WriterLock, error) {
	// Before the lock file is created: through a symlinked image_manager/
	// it would land in another directory.
	if _, err := realDir(fsys, managerDir); err != nil {
		return nil, err
	}
	path := filepath.Join(managerDir, LockFileName)
	f, err := fsys.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, FileMode)
	if err != nil {
		return nil, fmt.Errorf("opening lock file %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, path)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return &WriterLock{f: f}, nil
}

// Release drops the lock.
func (l *WriterLock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
