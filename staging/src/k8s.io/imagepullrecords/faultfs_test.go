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
	"sync"
	"syscall"
)

// errInjected is the error every injected fault returns.
var errInjected = errors.New("injected fault")

// faultOp names one operation faultFS can fail.
type faultOp string

const (
	opMkdirAll   faultOp = "MkdirAll"
	opChmod      faultOp = "Chmod"
	opLstat      faultOp = "Lstat"
	opReadDir    faultOp = "ReadDirNames"
	opOpen       faultOp = "Open"       // OpenFile of anything but a directory
	opOpenDir    faultOp = "OpenDir"    // OpenFile of a directory (to fsync it)
	opCreateTemp faultOp = "CreateTemp" // creating the temporary
	opWrite      faultOp = "Write"      // writing the temporary (half is written)
	opSync       faultOp = "Sync"       // fsync of the temporary
	opClose      faultOp = "Close"      // closing the temporary (it is closed)
	opRename     faultOp = "Rename"
	opSyncDir    faultOp = "SyncDir" // fsync of a directory
	opRemove     faultOp = "Remove"
)

// faultFS wraps an FS, fails the chosen operations with errInjected and
// records every operation as "op path".
type faultFS struct {
	FS
	// fail lists the operations to fail.
	fail map[faultOp]bool
	// failPath, if set, restricts faults to operations on this path.
	failPath string

	mu    sync.Mutex
	calls []string
}

var _ FS = &faultFS{}

func newFaultFS(ops ...faultOp) *faultFS {
	f := &faultFS{FS: OS, fail: map[faultOp]bool{}}
	for _, op := range ops {
		f.fail[op] = true
	}
	return f
}

// check records the call and returns errInjected when it must fail.
func (f *faultFS) check(op faultOp, path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, string(op)+" "+path)
	if f.fail[op] && (f.failPath == "" || f.failPath == path) {
		return &os.PathError{Op: string(op), Path: path, Err: errInjected}
	}
	return nil
}

func (f *faultFS) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *faultFS) MkdirAll(path string, perm os.FileMode) error {
	if err := f.check(opMkdirAll, path); err != nil {
		return err
	}
	return f.FS.MkdirAll(path, perm)
}

func (f *faultFS) Chmod(path string, perm os.FileMode) error {
	if err := f.check(opChmod, path); err != nil {
		return err
	}
	return f.FS.Chmod(path, perm)
}

func (f *faultFS) Lstat(path string) (os.FileInfo, error) {
	if err := f.check(opLstat, path); err != nil {
		return nil, err
	}
	return f.FS.Lstat(path)
}

func (f *faultFS) ReadDirNames(path string) ([]string, error) {
	if err := f.check(opReadDir, path); err != nil {
		return nil, err
	}
	return f.FS.ReadDirNames(path)
}

func (f *faultFS) OpenFile(path string, flag int, perm os.FileMode) (File, error) {
	isDir := flag&syscall.O_DIRECTORY != 0
	op := opOpen
	if isDir {
		op = opOpenDir
	}
	if err := f.check(op, path); err != nil {
		return nil, err
	}
	file, err := f.FS.OpenFile(path, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, dir: isDir}, nil
}

func (f *faultFS) CreateTemp(dir, pattern string) (File, error) {
	if err := f.check(opCreateTemp, dir); err != nil {
		return nil, err
	}
	file, err := f.FS.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, temp: true}, nil
}

func (f *faultFS) Rename(oldpath, newpath string) error {
	if err := f.check(opRename, newpath); err != nil {
		return err
	}
	return f.FS.Rename(oldpath, newpath)
}

func (f *faultFS) Remove(path string) error {
	if err := f.check(opRemove, path); err != nil {
		return err
	}
	return f.FS.Remove(path)
}

// faultFile fails writes, syncs and closes of temporaries, and syncs of
// directories, as its faultFS says.
type faultFile struct {
	File
	fs   *faultFS
	temp bool
	dir  bool
}

func (f *faultFile) Write(p []byte) (int, error) {
	if !f.temp {
		return f.File.Write(p)
	}
	if err := f.fs.check(opWrite, f.Name()); err != nil {
		// A short write, as a full disk gives.
		n, _ := f.File.Write(p[:len(p)/2])
		return n, err
	}
	return f.File.Write(p)
}

func (f *faultFile) Sync() error {
	op := opSync
	if f.dir {
		op = opSyncDir
	} else if !f.temp {
		return f.File.Sync()
	}
	if err := f.fs.check(op, f.Name()); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *faultFile) Close() error {
	if !f.temp {
		return f.File.Close()
	}
	closeErr := f.File.Close()
	if err := f.fs.check(opClose, f.Name()); err != nil {
		return err
	}
	return closeErr
}
