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
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

const (
	// DirMode is the mode of the record directories.
	DirMode os.FileMode = 0o700
	// FileMode is the mode of record and intent files.
	FileMode os.FileMode = 0o600
	// MaxFileSize bounds how much of a file is read: a record holds at most a
	// few hundred credentials, so anything bigger is broken or hostile.
	MaxFileSize = 4 << 20
)

// ErrNotRegular is returned for a directory entry that is not a regular file
// (a directory, symlink, FIFO or device where a record belongs).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is returned for a file larger than MaxFileSize.
var ErrTooLarge = errors.New("file too large")

// writeFileAtomic makes path hold data, atomically and durably: a temporary
// in the same directory is written, fsynced and closed, renamed over path,
// and the directory is fsynced so the rename itself survives a power loss.
// Until the rename, path keeps its previous content (or stays absent). Every
// error names path.
func writeFileAtomic(fsys FS, path string, data []byte) error {
	if err := writeFileAtomicSteps(fsys, path, data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func writeFileAtomicSteps(fsys FS, path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := fsys.CreateTemp(dir, TempPrefix+"*")
	if err != nil {
		return fmt.Errorf("creating temporary file in %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	renamed := false
	defer func() {
		if err != nil && !renamed {
			// Best effort: a leftover temporary is ignored by readers and
			// removed at the next start-up.
			_ = fsys.Remove(tmpName)
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("writing temporary file %s: %w", tmpName, err)
	}
	// fsync before rename: without it a crash can leave the final name
	// pointing at an empty or partial file.
	if err = tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("syncing temporary file %s: %w", tmpName, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("closing temporary file %s: %w", tmpName, err)
	}
	if err = fsys.Rename(tmpName, path); err != nil {
		return fmt.Errorf("renaming %s: %w", tmpName, err)
	}
	renamed = true
	// fsync the directory: the rename is durable only once the directory is.
	// If this fails, path already holds the new, complete content, but the
	// caller must not count on it surviving a power loss.
	return syncDir(fsys, dir)
}

// syncDir fsyncs a directory so that renames and removals in it are durable.
func syncDir(fsys FS, dir string) error {
	d, err := fsys.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("opening directory %s: %w", dir, err)
	}
	if err := d.Sync(); err != nil {
		_ = d.Close()
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	if err := d.Close(); err != nil {
		return fmt.Errorf("closing directory %s: %w", dir, err)
	}
	return nil
}

// readFileLimited reads a regular file without following a symlink and
// without blocking on a FIFO or device, up to MaxFileSize bytes. It also
// returns the file's mode when it got as far as a stat (0 otherwise), so
// that callers can spot loose modes without another system call.
func readFileLimited(fsys FS, path string) ([]byte, os.FileMode, error) {
	// O_NOFOLLOW: a symlink is never followed out of the directory.
	// O_NONBLOCK: opening a FIFO does not wait for a writer.
	f, err := fsys.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, 0, fmt.Errorf("%s: %w (symlink)", path, ErrNotRegular)
		}
		return nil, 0, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	mode := info.Mode()
	if !info.Mode().IsRegular() {
		return nil, mode, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, info.Mode().Type())
	}
	if info.Size() > MaxFileSize {
		return nil, mode, fmt.Errorf("%s: %w (%d bytes, limit %d)", path, ErrTooLarge, info.Size(), MaxFileSize)
	}
	// Size the buffer from the stat: one allocation for the usual file. A
	// file that grows while it is read is still cut at the limit.
	buf := bytes.NewBuffer(make([]byte, 0, info.Size()+1))
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxFileSize+1)); err != nil {
		return nil, mode, err
	}
	data := buf.Bytes()
	if len(data) > MaxFileSize {
		return nil, mode, fmt.Errorf("%s: %w (limit %d)", path, ErrTooLarge, MaxFileSize)
	}
	return data, mode, nil
}
