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

package faults

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/imagepullrecords"
)

// longScale reports whether RELIABILITY_SCALE=long asks for the full run.
func longScale() bool { return os.Getenv("RELIABILITY_SCALE") == "long" }

// opKind names one kind of filesystem operation of the store.
type opKind string

const (
	opMkdirAll   opKind = "mkdirall"
	opChmod      opKind = "chmod"
	opLstat      opKind = "lstat"
	opReadDir    opKind = "readdir"
	opOpen       opKind = "open"
	opCreateTemp opKind = "createtemp"
	opRename     opKind = "rename"
	opRemove     opKind = "remove"
	opRead       opKind = "read"
	opWrite      opKind = "write"
	opSync       opKind = "sync"
	opClose      opKind = "close"
	opStat       opKind = "stat"
)

var allOpKinds = []opKind{opMkdirAll, opChmod, opLstat, opReadDir, opOpen, opCreateTemp, opRename, opRemove, opRead, opWrite, opSync, opClose, opStat}

// faultFS wraps the real filesystem, counts operations by kind, and fails
// the Nth operation of one kind with one errno. With readOnly it fails
// every operation that would change the directory with EROFS, as a
// read-only mount does.
type faultFS struct {
	inner imagepullrecords.FS

	mu       sync.Mutex
	counts   map[opKind]int
	failKind opKind
	failAt   int
	errno    syscall.Errno
	fired    int
	readOnly bool
}

func newFaultFS() *faultFS {
	return &faultFS{inner: imagepullrecords.OS, counts: map[opKind]int{}}
}

// arm makes the n-th operation of kind (counted from now) fail with errno.
func (f *faultFS) arm(kind opKind, n int, errno syscall.Errno) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts = map[opKind]int{}
	f.failKind, f.failAt, f.errno, f.fired = kind, n, errno, 0
}

// clear stops injecting faults.
func (f *faultFS) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failKind, f.readOnly = "", false
}

func (f *faultFS) setReadOnly(readOnly bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.readOnly = readOnly
}

func (f *faultFS) snapshot() (map[opKind]int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[opKind]int, len(f.counts))
	for k, v := range f.counts {
		out[k] = v
	}
	return out, f.fired
}

// check counts one operation and returns the fault to inject, if any.
func (f *faultFS) check(kind opKind, path string, writes bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts[kind]++
	if f.readOnly && writes {
		return &fs.PathError{Op: string(kind), Path: path, Err: syscall.EROFS}
	}
	if kind == f.failKind && f.counts[kind] == f.failAt {
		f.fired++
		return &fs.PathError{Op: string(kind), Path: path, Err: f.errno}
	}
	return nil
}

func (f *faultFS) MkdirAll(path string, perm os.FileMode) error {
	// A read-only mount refuses only directories that do not exist yet.
	_, statErr := os.Lstat(path)
	if err := f.check(opMkdirAll, path, statErr != nil); err != nil {
		return err
	}
	return f.inner.MkdirAll(path, perm)
}

func (f *faultFS) Chmod(path string, perm os.FileMode) error {
	if err := f.check(opChmod, path, true); err != nil {
		return err
	}
	return f.inner.Chmod(path, perm)
}

func (f *faultFS) Lstat(path string) (os.FileInfo, error) {
	if err := f.check(opLstat, path, false); err != nil {
		return nil, err
	}
	return f.inner.Lstat(path)
}

func (f *faultFS) ReadDirNames(path string) ([]string, error) {
	if err := f.check(opReadDir, path, false); err != nil {
		return nil, err
	}
	return f.inner.ReadDirNames(path)
}

func (f *faultFS) OpenFile(path string, flag int, perm os.FileMode) (imagepullrecords.File, error) {
	writes := flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC) != 0
	if err := f.check(opOpen, path, writes); err != nil {
		return nil, err
	}
	file, err := f.inner.OpenFile(path, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, writable: writes}, nil
}

func (f *faultFS) CreateTemp(dir, pattern string) (imagepullrecords.File, error) {
	if err := f.check(opCreateTemp, dir, true); err != nil {
		return nil, err
	}
	file, err := f.inner.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, writable: true}, nil
}

func (f *faultFS) Rename(oldpath, newpath string) error {
	if err := f.check(opRename, newpath, true); err != nil {
		return err
	}
	return f.inner.Rename(oldpath, newpath)
}

func (f *faultFS) Remove(path string) error {
	if err := f.check(opRemove, path, true); err != nil {
		return err
	}
	return f.inner.Remove(path)
}

// faultFile fails file operations the same way. Close always closes the
// real file, so an injected close error never leaks a descriptor.
type faultFile struct {
	imagepullrecords.File
	fs       *faultFS
	writable bool
}

func (f *faultFile) Read(p []byte) (int, error) {
	if err := f.fs.check(opRead, f.Name(), false); err != nil {
		return 0, err
	}
	return f.File.Read(p)
}

func (f *faultFile) Write(p []byte) (int, error) {
	if err := f.fs.check(opWrite, f.Name(), true); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

func (f *faultFile) Sync() error {
	if err := f.fs.check(opSync, f.Name(), f.writable); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *faultFile) Stat() (os.FileInfo, error) {
	if err := f.fs.check(opStat, f.Name(), false); err != nil {
		return nil, err
	}
	return f.File.Stat()
}

func (f *faultFile) Close() error {
	injected := f.fs.check(opClose, f.Name(), false)
	err := f.File.Close()
	if injected != nil {
		return injected
	}
	return err
}

// logEntry is one captured log call.
type logEntry struct {
	isError bool
	level   int
	msg     string
	err     error
	kv      []any
}

// logCapture is a logr sink that keeps every entry at every verbosity.
type logCapture struct {
	mu      sync.Mutex
	entries []logEntry
}

func (c *logCapture) logger() logr.Logger { return logr.New(&captureSink{c: c}) }

func (c *logCapture) all() []logEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]logEntry(nil), c.entries...)
}

// errorsWith counts error-level entries whose error wraps target.
func (c *logCapture) errorsWith(target error) int {
	n := 0
	for _, e := range c.all() {
		if e.isError && errors.Is(e.err, target) {
			n++
		}
	}
	return n
}

// errorsMatching counts error-level entries whose message contains s.
func (c *logCapture) errorsMatching(s string) int {
	n := 0
	for _, e := range c.all() {
		if e.isError && strings.Contains(e.msg, s) {
			n++
		}
	}
	return n
}

type captureSink struct {
	c  *logCapture
	kv []any
}

func (s *captureSink) Init(logr.RuntimeInfo)  {}
func (s *captureSink) Enabled(level int) bool { return true }

func (s *captureSink) Info(level int, msg string, kv ...any) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.c.entries = append(s.c.entries, logEntry{level: level, msg: msg, kv: append(append([]any(nil), s.kv...), kv...)})
}

func (s *captureSink) Error(err error, msg string, kv ...any) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.c.entries = append(s.c.entries, logEntry{isError: true, msg: msg, err: err, kv: append(append([]any(nil), s.kv...), kv...)})
}

func (s *captureSink) WithValues(kv ...any) logr.LogSink {
	return &captureSink{c: s.c, kv: append(append([]any(nil), s.kv...), kv...)}
}

func (s *captureSink) WithName(string) logr.LogSink { return s }

// fakeRuntime is a minimal CRI image service: images appear when pulled
// with the right credentials. Private images need user1/pass1.
type fakeRuntime struct {
	mu      sync.Mutex
	ids     map[string]string // image with tag -> image ID
	present map[string]bool   // image with tag -> present
	public  map[string]bool
	// pulls counts the PullImage calls.
	pulls int
}

const (
	regHost  = "reg.example"
	imageP   = regHost + "/team/p:1"
	imageQ   = regHost + "/team/q:1"
	user1    = "user1"
	pass1    = "pass1"
	secretS1 = "s1"
	nsX      = "ns-x"
	nsY      = "ns-y"
)

func newFakeRuntime() *fakeRuntime {
	return &fakeRuntime{
		ids: map[string]string{
			imageP: "sha256:" + strings.Repeat("1", 64),
			imageQ: "sha256:" + strings.Repeat("2", 64),
		},
		present: map[string]bool{},
		public:  map[string]bool{},
	}
}

func (r *fakeRuntime) remove(image string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.present, image)
}

func (r *fakeRuntime) ListImages(context.Context, *runtimeapi.ImageFilter) ([]*runtimeapi.Image, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*runtimeapi.Image
	for image := range r.present {
		out = append(out, &runtimeapi.Image{Id: r.ids[image], RepoTags: []string{image}})
	}
	return out, nil
}

func (r *fakeRuntime) ImageStatus(_ context.Context, spec *runtimeapi.ImageSpec, _ bool) (*runtimeapi.ImageStatusResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	image := spec.GetImage()
	for name, id := range r.ids {
		if id == image {
			image = name
		}
	}
	if !r.present[image] {
		return &runtimeapi.ImageStatusResponse{}, nil
	}
	return &runtimeapi.ImageStatusResponse{Image: &runtimeapi.Image{Id: r.ids[image], RepoTags: []string{image}, Size: 1}}, nil
}

func (r *fakeRuntime) PullImage(_ context.Context, spec *runtimeapi.ImageSpec, auth *runtimeapi.AuthConfig, _ *runtimeapi.PodSandboxConfig) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pulls++
	image := spec.GetImage()
	id, ok := r.ids[image]
	if !ok {
		return "", fmt.Errorf("failed to pull and unpack image %q: not found", image)
	}
	if !r.public[image] && (auth.GetUsername() != user1 || auth.GetPassword() != pass1) {
		return "", fmt.Errorf("failed to pull and unpack image %q: 401 Unauthorized", image)
	}
	r.present[image] = true
	return id, nil
}

// pullCount returns the number of PullImage calls so far.
func (r *fakeRuntime) pullCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pulls
}

func (r *fakeRuntime) RemoveImage(_ context.Context, spec *runtimeapi.ImageSpec) error {
	r.remove(spec.GetImage())
	return nil
}

func (r *fakeRuntime) ImageFsInfo(context.Context) (*runtimeapi.ImageFsInfoResponse, error) {
	return &runtimeapi.ImageFsInfoResponse{}, nil
}

func (r *fakeRuntime) Close(context.Context) error { return nil }

// getSecret serves Secret s1 in namespace ns-x with user1's credentials.
func getSecret(_ context.Context, namespace, name string) (*v1.Secret, error) {
	if namespace != nsX || name != secretS1 {
		return nil, apierrors.NewNotFound(v1.Resource("secrets"), name)
	}
	config := fmt.Sprintf(`{"auths":{%q:{"username":%q,"password":%q}}}`, regHost, user1, pass1)
	return &v1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: nsX, Name: secretS1, UID: "uid-s1"},
		Type:       v1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{v1.DockerConfigJsonKey: []byte(config)},
	}, nil
}

var podSeq struct {
	sync.Mutex
	n int
}

// newPod returns a pod with a fresh UID (so back-off never carries over)
// and one container; withSecret adds s1 (only resolvable in ns-x).
func newPod(ns, image string, policy v1.PullPolicy, withSecret bool) (*v1.Pod, *v1.ObjectReference) {
	podSeq.Lock()
	podSeq.n++
	n := podSeq.n
	podSeq.Unlock()
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("pod-%d", n), UID: types.UID(fmt.Sprintf("uid-pod-%d", n))},
		Spec:       v1.PodSpec{Containers: []v1.Container{{Name: "c", Image: image, ImagePullPolicy: policy}}},
	}
	if withSecret {
		pod.Spec.ImagePullSecrets = []v1.LocalObjectReference{{Name: secretS1}}
	}
	ref := &v1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: ns, Name: pod.Name, UID: pod.UID, FieldPath: "spec.containers{c}"}
	return pod, ref
}

// goroutineBaseline returns a function that fails t if goroutines started
// since the baseline are still running after a settle period.
func goroutineBaseline(t *testing.T) func() {
	t.Helper()
	before := runtime.NumGoroutine()
	return func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			now := runtime.NumGoroutine()
			if now <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				t.Errorf("goroutines: %d before, %d after settling; stacks:\n%s", before, now, buf[:n])
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
