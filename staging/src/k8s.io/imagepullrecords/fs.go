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
	"io"
	"os"
	"syscall"
)

// FS is the filesystem seam of the store: every operation the store performs
// goes through it, so tests can inject faults, record operations for power
// loss simulation, or count fsyncs. OS is the real implementation.
type FS interface {
	// MkdirAll creates a directory and its parents.
	MkdirAll(path string, perm os.FileMode) error
	// Chmod changes the mode of a file or directory.
	Chmod(path string, perm os.FileMode) error
	// Lstat describes a file without following a final symlink.
	Lstat(path string) (os.FileInfo, error)
	// ReadDirNames lists the names in a directory, unsorted. It fails on a
	// symlink (ELOOP or ENOTDIR) instead of following it.
	ReadDirNames(path string) ([]string, error)
	// OpenFile opens a file; see os.OpenFile.
	OpenFile(path string, flag int, perm os.FileMode) (File, error)
	// CreateTemp creates a new temporary file in dir; see os.CreateTemp.
	CreateTemp(dir, pattern string) (File, error)
	// Rename renames a file atomically within one directory.
	Rename(oldpath, newpath string) error
	// Remove removes a file or an empty directory.
	Remove(path string) error
}

// File is an open file of an FS.
type File interface {
	io.ReadWriteCloser
	// Name is the path the file was opened with.
	Name() string
	// Stat describes the open file.
	Stat() (os.FileInfo, error)
	// Sync flushes the file (or directory) to stable storage.
	Sync() error
	// Fd returns the file descriptor, for flock.
	Fd() uintptr
}

// OS is the FS of the real operating system.
var OS FS = osFS{}

type osFS struct{}

func (osFS) MkdirAll(path string, perm os.FileMode) error { return os.MkdirAll(path, perm) }
func (osFS) Chmod(path string, perm os.FileMode) error    { return os.Chmod(path, perm) }
func (osFS) Lstat(path string) (os.FileInfo, error)       { return os.Lstat(path) }
func (osFS) Rename(oldpath, newpath string) error         { return os.Rename(oldpath, newpath) }
func (osFS) Remove(path string) error                     { return os.Remove(path) }

func (osFS) ReadDirNames(path string) ([]string, error) {
	// O_NOFOLLOW|O_DIRECTORY: a records directory replaced by a symlink is
	// never listed, so no file outside image_manager/ is ever read as a
	// record (the files themselves are opened with O_NOFOLLOW).
	d, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}

func (osFS) OpenFile(path string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(path, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (osFS) CreateTemp(dir, pattern string) (File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return f, nil
}
