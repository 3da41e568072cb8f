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

package hostile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"k8s.io/kubernetes/cmd/kubelet-imagectl/app"
)

// fakeRuntime is a CRI image service whose only image is P. It refuses
// every pull and counts the attempts: the commands under test are dry runs
// or never pull.
type fakeRuntime struct {
	pulls atomic.Int32
}

var _ internalapi.ImageManagerService = &fakeRuntime{}

func (r *fakeRuntime) imageP() *runtimeapi.Image {
	return &runtimeapi.Image{Id: refP, RepoTags: []string{imageP}, Size: 1}
}

func (r *fakeRuntime) ListImages(context.Context, *runtimeapi.ImageFilter) ([]*runtimeapi.Image, error) {
	return []*runtimeapi.Image{r.imageP()}, nil
}

func (r *fakeRuntime) ImageStatus(_ context.Context, spec *runtimeapi.ImageSpec, _ bool) (*runtimeapi.ImageStatusResponse, error) {
	if spec.GetImage() == imageP || spec.GetImage() == refP {
		return &runtimeapi.ImageStatusResponse{Image: r.imageP()}, nil
	}
	return &runtimeapi.ImageStatusResponse{}, nil
}

func (r *fakeRuntime) PullImage(context.Context, *runtimeapi.ImageSpec, *runtimeapi.AuthConfig, *runtimeapi.PodSandboxConfig) (string, error) {
	r.pulls.Add(1)
	return "", errors.New("the hostile tests never pull")
}

func (r *fakeRuntime) RemoveImage(context.Context, *runtimeapi.ImageSpec) error {
	return errors.New("the hostile tests never remove an image")
}

func (r *fakeRuntime) ImageFsInfo(context.Context) (*runtimeapi.ImageFsInfoResponse, error) {
	return &runtimeapi.ImageFsInfoResponse{}, nil
}

func (r *fakeRuntime) Close(context.Context) error { return nil }

// serveCluster is an API server whose cluster has the namespaces of the
// tests and no Secret or ServiceAccount: every recorded source is gone, so
// a revocation would rewrite any record it reads, a followed one included.
// It answers the metadata lists of records revoke.
func serveCluster(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list := &metav1.PartialObjectMetadataList{TypeMeta: metav1.TypeMeta{Kind: "PartialObjectMetadataList", APIVersion: "meta.k8s.io/v1"}, ListMeta: metav1.ListMeta{ResourceVersion: "1"}}
		switch r.URL.Path {
		case "/api/v1/namespaces":
			for _, ns := range []string{"ns-x", "team-a"} {
				list.Items = append(list.Items, metav1.PartialObjectMetadata{
					TypeMeta:   metav1.TypeMeta{Kind: "PartialObjectMetadata", APIVersion: "meta.k8s.io/v1"},
					ObjectMeta: metav1.ObjectMeta{Name: ns, UID: types.UID("uid-ns-" + ns)},
				})
			}
		case "/api/v1/secrets", "/api/v1/serviceaccounts":
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(list)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// toolInputs are the files the commands read, kept out of the root dir
// and of the directory hostile symlinks point at.
type toolInputs struct {
	kubeconfig string
	// podS1 presents Secret s1 (P's recorded coordinates, so a record of
	// P grants it), podNone no credentials; both use P with pull policy
	// Never, so that a denial shows in the exit code.
	podS1, podNone, secrets string
}

func writeJSON(t *testing.T, path string, obj any) string {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func newToolInputs(t *testing.T, apiServer string) *toolInputs {
	t.Helper()
	dir := t.TempDir()
	pod := func(name string, secrets ...string) *v1.Pod {
		p := &v1.Pod{
			TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Namespace: secretS1.Namespace, Name: name, UID: types.UID("uid-pod-" + name)},
			Spec: v1.PodSpec{Containers: []v1.Container{{
				Name: "app", Image: imageP, ImagePullPolicy: v1.PullNever,
			}}},
		}
		for _, s := range secrets {
			p.Spec.ImagePullSecrets = append(p.Spec.ImagePullSecrets, v1.LocalObjectReference{Name: s})
		}
		return p
	}
	in := &toolInputs{
		podS1:   writeJSON(t, filepath.Join(dir, "pod-s1.json"), pod("with-s1", secretS1.Name)),
		podNone: writeJSON(t, filepath.Join(dir, "pod-none.json"), pod("without-credentials")),
		secrets: writeJSON(t, filepath.Join(dir, "s1.json"), &v1.Secret{
			TypeMeta:   metav1.TypeMeta{Kind: "Secret", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Namespace: secretS1.Namespace, Name: secretS1.Name, UID: types.UID(secretS1.UID)},
			Type:       v1.SecretTypeDockerConfigJson,
			Data:       map[string][]byte{v1.DockerConfigJsonKey: []byte(`{"auths":{"reg.example":{"username":"u","password":"p"}}}`)},
		}),
		kubeconfig: filepath.Join(dir, "kubeconfig"),
	}
	kubeconfig := `apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: ` + apiServer + `
users:
- name: node
  user:
    token: not-a-real-token
contexts:
- name: fake
  context:
    cluster: fake
    user: node
current-context: fake
`
	if err := os.WriteFile(in.kubeconfig, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return in
}

// toolResult is the outcome of one kubelet-imagectl run.
type toolResult struct {
	code           int
	stdout, stderr string
}

// runTool runs kubelet-imagectl in-process over the fake runtime, and
// fails the test if it does not return within blockTimeout.
func runTool(t *testing.T, runtime *fakeRuntime, args ...string) toolResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	logger := klog.Logger{}
	deps := &app.Deps{
		Stdout: &stdout,
		Stderr: &stderr,
		NewImageService: func(context.Context, string, time.Duration) (internalapi.ImageManagerService, error) {
			return runtime, nil
		},
		Logger: &logger,
	}
	var code int
	withTimeout(t, "kubelet-imagectl "+strings.Join(args, " "), func() {
		code = app.Run(context.Background(), args, deps)
	})
	return toolResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// entryState is what lstat and, for regular files, the content say about
// a directory entry; symlinks are described, never followed.
type entryState struct {
	mode   os.FileMode
	sum    string
	target string
}

// snapshotTree describes every entry under dir without following a
// symlink or opening anything but regular files, keyed by slash path
// relative to dir. A missing dir is an empty tree.
func snapshotTree(t *testing.T, dir string) map[string]entryState {
	t.Helper()
	out := map[string]entryState{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == dir {
				return fs.SkipAll
			}
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		st := entryState{mode: info.Mode()}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			if st.target, err = os.Readlink(path); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			st.sum = hex.EncodeToString(sum[:])
		}
		out[filepath.ToSlash(rel)] = st
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// treeChanges lists the entries that differ between two snapshots, less
// those allowed says may change (allowed gets the path and both states, a
// zero state for a missing entry).
func treeChanges(before, after map[string]entryState, allowed func(path string, was, now entryState, existed, exists bool) bool) []string {
	var out []string
	for path, was := range before {
		now, ok := after[path]
		switch {
		case ok && now == was:
		case allowed != nil && allowed(path, was, now, true, ok):
		case !ok:
			out = append(out, path+" removed")
		default:
			out = append(out, path+" changed")
		}
	}
	for path, now := range after {
		if _, ok := before[path]; !ok && (allowed == nil || !allowed(path, entryState{}, now, false, true)) {
			out = append(out, path+" created")
		}
	}
	return out
}
