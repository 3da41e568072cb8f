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

package crash

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/imagepullrecords"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// The kinds of operation a failpoint counts.
var failpointKinds = []string{
	"createtemp", "write", "syncfile", "closefile", "rename",
	"opendir", "syncdir", "closedir", "remove-intent", "remove-record", "remove-temp",
}

// failpoint kills the process at the nth operation of kind, before or
// after performing it.
type failpoint struct {
	kind  string
	n     int
	after bool
	// revoking counts only the operations a revocation makes.
	revoking bool
}

func (f failpoint) String() string {
	when := "before"
	if f.after {
		when = "after"
	}
	s := fmt.Sprintf("%s:%d:%s", f.kind, f.n, when)
	if f.revoking {
		s += ":revoking"
	}
	return s
}

func parseFailpoint(s string) (*failpoint, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 && (len(parts) != 4 || parts[3] != "revoking") {
		return nil, fmt.Errorf("failpoint %q: want kind:n:before|after[:revoking]", s)
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil {
		return nil, fmt.Errorf("failpoint %q: %w", s, err)
	}
	return &failpoint{kind: parts[0], n: n, after: parts[2] == "after", revoking: len(parts) == 4}, nil
}

// killFS is the real filesystem with a failpoint: at the chosen operation
// the process sends itself SIGKILL.
type killFS struct {
	imagepullrecords.FS
	fp *failpoint
	// dropIntents is a deliberate bug: intent renames are skipped (the
	// temporary removed) while reporting success.
	dropIntents bool
	mu          sync.Mutex
	counts      map[string]int
	// revoking is set while the manager revokes (revokingManager).
	revoking atomic.Bool
}

func newKillFS(fp *failpoint) *killFS {
	return &killFS{FS: imagepullrecords.OS, fp: fp, counts: map[string]int{}}
}

// revokingManager marks the filesystem while RevokeCredentials runs, for
// failpoints that count only a revocation's operations.
type revokingManager struct {
	pullmanager.Manager
	fs *killFS
}

func (m revokingManager) RevokeCredentials(ctx context.Context, sources pullmanager.CredentialSources, before time.Time) (*pullmanager.RevokeResult, error) {
	m.fs.revoking.Store(true)
	defer m.fs.revoking.Store(false)
	return m.Manager.RevokeCredentials(ctx, sources, before)
}

func die() {
	_ = syscall.Kill(syscall.Getpid(), syscall.SIGKILL)
	select {}
}

// do runs op as the next operation of kind, dying before or after it when
// the failpoint says so.
func (k *killFS) do(kind string, op func() error) error {
	hit := false
	if k.fp != nil && k.fp.kind == kind && (!k.fp.revoking || k.revoking.Load()) {
		k.mu.Lock()
		k.counts[kind]++
		hit = k.counts[kind] == k.fp.n
		k.mu.Unlock()
	}
	if hit && !k.fp.after {
		die()
	}
	err := op()
	if hit {
		die()
	}
	return err
}

func (k *killFS) CreateTemp(dir, pattern string) (imagepullrecords.File, error) {
	var f imagepullrecords.File
	err := k.do("createtemp", func() (err error) {
		f, err = k.FS.CreateTemp(dir, pattern)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &killFile{File: f, fs: k, dir: false}, nil
}

func (k *killFS) OpenFile(path string, flag int, perm os.FileMode) (imagepullrecords.File, error) {
	if flag&syscall.O_DIRECTORY == 0 {
		// Reads and the lock are not on the write path.
		return k.FS.OpenFile(path, flag, perm)
	}
	var f imagepullrecords.File
	err := k.do("opendir", func() (err error) {
		f, err = k.FS.OpenFile(path, flag, perm)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &killFile{File: f, fs: k, dir: true}, nil
}

func (k *killFS) Rename(oldpath, newpath string) error {
	if k.dropIntents && filepath.Base(filepath.Dir(newpath)) == imagepullrecords.IntentsDirName {
		return k.FS.Remove(oldpath)
	}
	return k.do("rename", func() error { return k.FS.Rename(oldpath, newpath) })
}

func (k *killFS) Remove(path string) error {
	kind := "remove-record"
	switch {
	case imagepullrecords.IsTemporary(filepath.Base(path)):
		kind = "remove-temp"
	case filepath.Base(filepath.Dir(path)) == imagepullrecords.IntentsDirName:
		kind = "remove-intent"
	}
	return k.do(kind, func() error { return k.FS.Remove(path) })
}

// killFile counts the writes, fsyncs and closes of a temporary or a
// directory.
type killFile struct {
	imagepullrecords.File
	fs  *killFS
	dir bool
}

func (f *killFile) Write(p []byte) (int, error) {
	var n int
	err := f.fs.do("write", func() (err error) {
		n, err = f.File.Write(p)
		return err
	})
	return n, err
}

func (f *killFile) Sync() error {
	kind := "syncfile"
	if f.dir {
		kind = "syncdir"
	}
	return f.fs.do(kind, f.File.Sync)
}

func (f *killFile) Close() error {
	kind := "closefile"
	if f.dir {
		kind = "closedir"
	}
	return f.fs.do(kind, f.File.Close)
}
