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

package powerloss

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/imagepullrecords"
)

// OpKind names a filesystem operation of the store.
type OpKind string

// The operations MemFS counts.
const (
	OpMkdir      OpKind = "mkdir"
	OpChmod      OpKind = "chmod"
	OpLstat      OpKind = "lstat"
	OpReadDir    OpKind = "readdir"
	OpOpen       OpKind = "open"
	OpCreate     OpKind = "create"
	OpCreateTemp OpKind = "createtemp"
	OpRename     OpKind = "rename"
	OpRemove     OpKind = "remove"
	OpRead       OpKind = "read"
	OpWrite      OpKind = "write"
	OpSyncFile   OpKind = "syncfile"
	OpSyncDir    OpKind = "syncdir"
	OpClose      OpKind = "close"
)

// SyncClass names one fsync of the store, so that a test can turn exactly
// that one into a no-op (see Options.Skip). The classes follow
// imagepullrecords' atomic.go and store.go.
type SyncClass string

// The fsyncs of the store.
const (
	// SyncIntentFile: the temporary intent file, before its rename.
	SyncIntentFile SyncClass = "intent-file-before-rename"
	// SyncRecordFile: the temporary record file, before its rename.
	SyncRecordFile SyncClass = "record-file-before-rename"
	// SyncIntentDir: pulling/ after an intent's rename.
	SyncIntentDir SyncClass = "intents-dir-after-rename"
	// SyncRecordDir: pulled/ after a record's rename.
	SyncRecordDir SyncClass = "records-dir-after-rename"
	// SyncRecordDirDelete: pulled/ after a record's removal (prune).
	SyncRecordDirDelete SyncClass = "records-dir-after-delete"
	// SyncOpenParents: the root dir and image_manager/ when the store
	// opens, so that the record directories themselves survive.
	SyncOpenParents SyncClass = "parents-at-open"
	// SyncOpenRecordDirs: pulling/ and pulled/ when the store opens, so
	// that what a process that died before a directory fsync left is
	// durable before the new one builds on it.
	SyncOpenRecordDirs SyncClass = "record-dirs-at-open"
	// SyncRewriteFile: a temporary of Store.ApplyRewrite (rewrite.go),
	// before the renames start.
	SyncRewriteFile SyncClass = "rewrite-file-before-rename"
	// SyncRewriteDir: pulling/ or pulled/ after ApplyRewrite's renames.
	SyncRewriteDir SyncClass = "rewrite-dirs-after-renames"
	// SyncOther: any other fsync.
	SyncOther SyncClass = "other"
)

// LossMode says what a power cut does to changes no fsync made durable.
type LossMode string

// The loss modes.
const (
	// LoseAll drops every unsynced change: file contents revert to their
	// last fsync, directory entries to the directory's last fsync.
	LoseAll LossMode = "lose"
	// KeepAll keeps every change, as a process crash does.
	KeepAll LossMode = "keep"
	// Mixed picks for each unsynced directory entry one of the values it
	// took since the directory's last fsync, and for each unsynced file
	// its synced content, its current content, or a torn prefix of it.
	Mixed LossMode = "mixed"
)

// node is a file or a directory.
type node struct {
	id   int
	dir  bool
	mode os.FileMode
	// data is the current content; synced what the last fsync made durable.
	data, synced []byte
	// children are the current entries; syncedChildren those of the last
	// fsync; history every value an entry took since (nil: removed).
	children       map[string]*node
	syncedChildren map[string]*node
	history        map[string][]*node
	// lastChange is the kind of the latest entry change (rename, remove).
	lastChange OpKind
}

// MemFS is an in-memory imagepullrecords.FS that keeps, beside what a
// reader sees, what a power cut would leave: the model is that a file's
// content is durable after an fsync of that file, and a directory entry
// change (create, rename, remove) after an fsync of the directory. Only the
// writer lock uses a real file (flock needs a descriptor).
type MemFS struct {
	mu      sync.Mutex
	hookMu  sync.Mutex
	root    *node
	nextID  int
	tempSeq int
	lockDir string
	skip    map[SyncClass]bool
	// hook runs before every operation; an error fails the operation.
	hook func(op OpKind, path string) error
	// opening is set by BeginOpen until the store lists a directory: the
	// directory fsyncs in between are those of the store's Open.
	opening bool
	// rewriting is set between BeginRewrite and EndRewrite: the fsyncs in
	// between are those of Store.ApplyRewrite.
	rewriting bool
	ops       int
	syncs     map[SyncClass]int
}

var _ imagepullrecords.FS = &MemFS{}

// Options configure a MemFS.
type Options struct {
	// LockDir is a real directory for the writer lock's file.
	LockDir string
	// Skip turns the listed fsyncs into no-ops that report success.
	Skip map[SyncClass]bool
	// Hook runs before every operation; an error fails it unchanged.
	Hook func(op OpKind, path string) error
}

// NewMemFS returns an empty filesystem with a durable root directory.
func NewMemFS(opts Options) *MemFS {
	m := &MemFS{lockDir: opts.LockDir, skip: opts.Skip, hook: opts.Hook, syncs: map[SyncClass]int{}}
	m.root = m.newDir(0o755)
	return m
}

func (m *MemFS) newDir(mode os.FileMode) *node {
	m.nextID++
	return &node{id: m.nextID, dir: true, mode: mode, children: map[string]*node{}, syncedChildren: map[string]*node{}, history: map[string][]*node{}}
}

func (m *MemFS) newFile(mode os.FileMode) *node {
	m.nextID++
	return &node{id: m.nextID, mode: mode}
}

// BeginOpen says a manager is about to start: directory fsyncs until the
// store first lists a directory are those of the store's Open.
func (m *MemFS) BeginOpen() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.opening = true
}

// BeginRewrite says Store.ApplyRewrite is about to run: every fsync until
// EndRewrite is one of its own (SyncRewriteFile, SyncRewriteDir), which
// writes through the same directories as the kubelet's writes.
func (m *MemFS) BeginRewrite() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rewriting = true
}

// EndRewrite says ApplyRewrite returned.
func (m *MemFS) EndRewrite() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rewriting = false
}

// Ops returns how many operations ran.
func (m *MemFS) Ops() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ops
}

// Syncs returns how many fsyncs of each class ran (skipped ones included).
func (m *MemFS) Syncs() map[SyncClass]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[SyncClass]int{}
	for k, v := range m.syncs {
		out[k] = v
	}
	return out
}

// step counts an operation and runs the hook. Called without m.mu held.
func (m *MemFS) step(op OpKind, path string) error {
	m.mu.Lock()
	m.ops++
	hook := m.hook
	m.mu.Unlock()
	if hook != nil {
		// Start-up reads files on all CPUs: run the hook one at a time.
		m.hookMu.Lock()
		defer m.hookMu.Unlock()
		return hook(op, path)
	}
	return nil
}

func split(path string) []string {
	path = filepath.Clean(path)
	var parts []string
	for _, p := range strings.Split(path, "/") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return parts
}

// lookup returns the node of path and its parent. Callers hold m.mu.
func (m *MemFS) lookup(path string) (n, parent *node, name string, err error) {
	parts := split(path)
	n = m.root
	for i, p := range parts {
		if !n.dir {
			return nil, nil, "", syscall.ENOTDIR
		}
		parent, name = n, p
		child := n.children[p]
		if child == nil {
			if i == len(parts)-1 {
				return nil, parent, name, syscall.ENOENT
			}
			return nil, nil, "", syscall.ENOENT
		}
		n = child
	}
	return n, parent, name, nil
}

// setEntry changes one directory entry, remembering the change.
func setEntry(dir *node, name string, n *node, kind OpKind) {
	if n == nil {
		delete(dir.children, name)
	} else {
		dir.children[name] = n
	}
	dir.history[name] = append(dir.history[name], n)
	dir.lastChange = kind
}

func pathErr(op, path string, err error) error { return &fs.PathError{Op: op, Path: path, Err: err} }

// MkdirAll implements imagepullrecords.FS.
func (m *MemFS) MkdirAll(path string, perm os.FileMode) error {
	if err := m.step(OpMkdir, path); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.root
	for _, p := range split(path) {
		child := n.children[p]
		if child == nil {
			child = m.newDir(perm)
			setEntry(n, p, child, OpMkdir)
		}
		if !child.dir {
			return pathErr("mkdir", path, syscall.ENOTDIR)
		}
		n = child
	}
	return nil
}

// MkdirDurable creates path and its parents as if they had existed, durably,
// long before the test: the kubelet root dir, which the store does not own.
func (m *MemFS) MkdirDurable(path string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.root
	for _, p := range split(path) {
		child := n.children[p]
		if child == nil {
			child = m.newDir(0o755)
			n.children[p] = child
			n.syncedChildren[p] = child
		}
		n = child
	}
}

// Chmod implements imagepullrecords.FS.
func (m *MemFS) Chmod(path string, perm os.FileMode) error {
	if err := m.step(OpChmod, path); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, _, _, err := m.lookup(path)
	if err != nil {
		return pathErr("chmod", path, err)
	}
	n.mode = perm
	return nil
}

type fileInfo struct {
	name string
	size int64
	mode os.FileMode
}

func (fi fileInfo) Name() string       { return fi.name }
func (fi fileInfo) Size() int64        { return fi.size }
func (fi fileInfo) Mode() os.FileMode  { return fi.mode }
func (fi fileInfo) ModTime() time.Time { return time.Time{} }
func (fi fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi fileInfo) Sys() any           { return nil }

func info(name string, n *node) fileInfo {
	if n.dir {
		return fileInfo{name: name, mode: fs.ModeDir | n.mode}
	}
	return fileInfo{name: name, size: int64(len(n.data)), mode: n.mode}
}

// Lstat implements imagepullrecords.FS.
func (m *MemFS) Lstat(path string) (os.FileInfo, error) {
	if err := m.step(OpLstat, path); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, _, _, err := m.lookup(path)
	if err != nil {
		return nil, pathErr("lstat", path, err)
	}
	return info(filepath.Base(path), n), nil
}

// ReadDirNames implements imagepullrecords.FS.
func (m *MemFS) ReadDirNames(path string) ([]string, error) {
	if err := m.step(OpReadDir, path); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.opening = false
	n, _, _, err := m.lookup(path)
	if err != nil {
		return nil, pathErr("open", path, err)
	}
	if !n.dir {
		return nil, pathErr("readdirent", path, syscall.ENOTDIR)
	}
	names := make([]string, 0, len(n.children))
	for name := range n.children {
		names = append(names, name)
	}
	return names, nil
}

// OpenFile implements imagepullrecords.FS.
func (m *MemFS) OpenFile(path string, flag int, perm os.FileMode) (imagepullrecords.File, error) {
	if filepath.Base(path) == imagepullrecords.LockFileName {
		return m.openLock(path, flag, perm)
	}
	kind := OpOpen
	if flag&os.O_CREATE != 0 {
		kind = OpCreate
	}
	if err := m.step(kind, path); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, parent, name, err := m.lookup(path)
	if errors.Is(err, syscall.ENOENT) && flag&os.O_CREATE != 0 && parent != nil {
		n = m.newFile(perm)
		setEntry(parent, name, n, OpCreateTemp)
		err = nil
	}
	if err != nil {
		return nil, pathErr("open", path, err)
	}
	if flag&syscall.O_DIRECTORY != 0 && !n.dir {
		return nil, pathErr("open", path, syscall.ENOTDIR)
	}
	if flag&os.O_TRUNC != 0 && !n.dir {
		n.data = nil
	}
	return &memFile{fs: m, n: n, name: path}, nil
}

// openLock opens a real file standing for the lock file at path.
func (m *MemFS) openLock(path string, flag int, perm os.FileMode) (imagepullrecords.File, error) {
	sum := sha256.Sum256([]byte(path))
	real := filepath.Join(m.lockDir, hex.EncodeToString(sum[:8])+".lock")
	f, err := os.OpenFile(real, flag&^syscall.O_NOFOLLOW, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// CreateTemp implements imagepullrecords.FS.
func (m *MemFS) CreateTemp(dir, pattern string) (imagepullrecords.File, error) {
	if err := m.step(OpCreateTemp, dir); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d, _, _, err := m.lookup(dir)
	if err != nil {
		return nil, pathErr("createtemp", dir, err)
	}
	if !d.dir {
		return nil, pathErr("createtemp", dir, syscall.ENOTDIR)
	}
	m.tempSeq++
	name := strings.Replace(pattern, "*", strconv.Itoa(m.tempSeq), 1)
	if !strings.Contains(pattern, "*") {
		name = pattern + strconv.Itoa(m.tempSeq)
	}
	n := m.newFile(0o600)
	setEntry(d, name, n, OpCreateTemp)
	return &memFile{fs: m, n: n, name: filepath.Join(dir, name)}, nil
}

// Rename implements imagepullrecords.FS.
func (m *MemFS) Rename(oldpath, newpath string) error {
	if err := m.step(OpRename, newpath); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, oldParent, oldName, err := m.lookup(oldpath)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	target, newParent, newName, err := m.lookup(newpath)
	if err != nil && !errors.Is(err, syscall.ENOENT) || newParent == nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: syscall.ENOENT}
	}
	if target != nil && target.dir {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: syscall.EISDIR}
	}
	setEntry(oldParent, oldName, nil, OpRename)
	setEntry(newParent, newName, n, OpRename)
	return nil
}

// Remove implements imagepullrecords.FS.
func (m *MemFS) Remove(path string) error {
	if err := m.step(OpRemove, path); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, parent, name, err := m.lookup(path)
	if err != nil {
		return pathErr("remove", path, err)
	}
	if n.dir && len(n.children) > 0 {
		return pathErr("remove", path, syscall.ENOTEMPTY)
	}
	setEntry(parent, name, nil, OpRemove)
	return nil
}

// classify names the fsync of n (reached as path) for Skip.
func classify(path string, n *node) SyncClass {
	base, dir := filepath.Base(path), filepath.Base(filepath.Dir(path))
	switch {
	case !n.dir && dir == imagepullrecords.IntentsDirName:
		return SyncIntentFile
	case !n.dir && dir == imagepullrecords.RecordsDirName:
		return SyncRecordFile
	case n.dir && base == imagepullrecords.IntentsDirName:
		return SyncIntentDir
	case n.dir && base == imagepullrecords.RecordsDirName && n.lastChange == OpRemove:
		return SyncRecordDirDelete
	case n.dir && base == imagepullrecords.RecordsDirName:
		return SyncRecordDir
	}
	return SyncOther
}

// memFile is an open file or directory of a MemFS.
type memFile struct {
	fs     *MemFS
	n      *node
	name   string
	off    int
	closed bool
}

func (f *memFile) Name() string { return f.name }
func (f *memFile) Fd() uintptr  { return ^uintptr(0) }

func (f *memFile) Read(p []byte) (int, error) {
	if err := f.fs.step(OpRead, f.name); err != nil {
		return 0, err
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.n.dir {
		return 0, pathErr("read", f.name, syscall.EISDIR)
	}
	if f.off >= len(f.n.data) {
		return 0, io.EOF
	}
	k := copy(p, f.n.data[f.off:])
	f.off += k
	return k, nil
}

func (f *memFile) Write(p []byte) (int, error) {
	if err := f.fs.step(OpWrite, f.name); err != nil {
		return 0, err
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.n.dir {
		return 0, pathErr("write", f.name, syscall.EISDIR)
	}
	data := append([]byte(nil), f.n.data...)
	for len(data) < f.off {
		data = append(data, 0)
	}
	data = append(data[:f.off], p...)
	if end := f.off + len(p); end < len(f.n.data) {
		data = append(data, f.n.data[end:]...)
	}
	f.n.data = data
	f.off += len(p)
	return len(p), nil
}

func (f *memFile) Stat() (os.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return info(filepath.Base(f.name), f.n), nil
}

func (f *memFile) Sync() error {
	kind := OpSyncFile
	if f.n.dir {
		kind = OpSyncDir
	}
	if err := f.fs.step(kind, f.name); err != nil {
		return err
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	class := classify(f.name, f.n)
	switch {
	case f.fs.rewriting && f.n.dir:
		class = SyncRewriteDir
	case f.fs.rewriting:
		class = SyncRewriteFile
	case f.n.dir && f.fs.opening:
		class = SyncOpenParents
		if base := filepath.Base(f.name); base == imagepullrecords.IntentsDirName || base == imagepullrecords.RecordsDirName {
			class = SyncOpenRecordDirs
		}
	}
	f.fs.syncs[class]++
	if f.fs.skip[class] {
		return nil
	}
	if f.n.dir {
		f.n.syncedChildren = make(map[string]*node, len(f.n.children))
		for k, v := range f.n.children {
			f.n.syncedChildren[k] = v
		}
		f.n.history = map[string][]*node{}
		return nil
	}
	f.n.synced = append([]byte(nil), f.n.data...)
	return nil
}

func (f *memFile) Close() error {
	if err := f.fs.step(OpClose, f.name); err != nil {
		return err
	}
	if f.closed {
		return os.ErrClosed
	}
	f.closed = true
	return nil
}

// Cut returns the filesystem a power cut at this moment leaves, with
// everything in it durable, under mode; rng drives the Mixed choices.
// Options of the new filesystem come from opts.
func (m *MemFS) Cut(mode LossMode, rng *rand.Rand, opts Options) *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := NewMemFS(opts)
	out.tempSeq = m.tempSeq
	copied := map[int]*node{}
	var copyNode func(n *node) *node
	copyNode = func(n *node) *node {
		if c, ok := copied[n.id]; ok {
			return c
		}
		if !n.dir {
			c := out.newFile(n.mode)
			c.data = fileAfterCut(n, mode, rng)
			c.synced = c.data
			copied[n.id] = c
			return c
		}
		c := out.newDir(n.mode)
		copied[n.id] = c
		for _, name := range entryNames(n) {
			if child := entryAfterCut(n, name, mode, rng); child != nil {
				cc := copyNode(child)
				c.children[name] = cc
				c.syncedChildren[name] = cc
			}
		}
		return c
	}
	out.root = copyNode(m.root)
	return out
}

func entryNames(n *node) []string {
	set := map[string]bool{}
	for k := range n.children {
		set[k] = true
	}
	for k := range n.syncedChildren {
		set[k] = true
	}
	for k := range n.history {
		set[k] = true
	}
	names := make([]string, 0, len(set))
	for k := range set {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func entryAfterCut(dir *node, name string, mode LossMode, rng *rand.Rand) *node {
	switch mode {
	case KeepAll:
		return dir.children[name]
	case LoseAll:
		return dir.syncedChildren[name]
	}
	hist := dir.history[name]
	if len(hist) == 0 {
		return dir.syncedChildren[name]
	}
	// The synced value or any value taken since.
	i := rng.IntN(len(hist) + 1)
	if i == len(hist) {
		return dir.syncedChildren[name]
	}
	return hist[i]
}

func fileAfterCut(n *node, mode LossMode, rng *rand.Rand) []byte {
	if bytes.Equal(n.data, n.synced) {
		return append([]byte(nil), n.synced...)
	}
	switch mode {
	case KeepAll:
		return append([]byte(nil), n.data...)
	case LoseAll:
		return append([]byte(nil), n.synced...)
	}
	switch rng.IntN(3) {
	case 0:
		return append([]byte(nil), n.synced...)
	case 1:
		return append([]byte(nil), n.data...)
	}
	return append([]byte(nil), n.data[:rng.IntN(len(n.data)+1)]...)
}

// Names lists the current entries of dir (nil if it does not exist).
func (m *MemFS) Names(dir string) map[string]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, _, _, err := m.lookup(dir)
	if err != nil || !n.dir {
		return nil
	}
	out := make(map[string]bool, len(n.children))
	for k := range n.children {
		out[k] = true
	}
	return out
}

// String describes the tree, for failure messages.
func (m *MemFS) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	var walk func(prefix string, n *node)
	walk = func(prefix string, n *node) {
		names := make([]string, 0, len(n.children))
		for k := range n.children {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, name := range names {
			c := n.children[name]
			if c.dir {
				fmt.Fprintf(&b, "%s%s/\n", prefix, name)
				walk(prefix+"  ", c)
				continue
			}
			fmt.Fprintf(&b, "%s%s (%d bytes)\n", prefix, name, len(c.data))
		}
	}
	walk("", m.root)
	return b.String()
}
