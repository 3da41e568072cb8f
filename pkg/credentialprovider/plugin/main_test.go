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

package plugin_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	credentialproviderv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
	"sigs.k8s.io/yaml"

	"k8s.io/kubernetes/pkg/credentialprovider"
	"k8s.io/kubernetes/pkg/credentialprovider/plugin"
)

// fakePlugin is the fake plugin binary, built once by TestMain from
// testdata/fakeplugin.
var fakePlugin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "fakeplugin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "creating a temp dir: %v\n", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	fakePlugin = filepath.Join(dir, "fakeplugin")
	build := exec.Command(goTool(), "build", "-o", fakePlugin, "./testdata/fakeplugin")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building the fake plugin: %v\n", err)
		return 1
	}
	return m.Run()
}

// goTool is the go command of the toolchain running the tests.
func goTool() string {
	if root := runtime.GOROOT(); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// binDir returns a bin dir holding the fake plugin under each name.
func binDir(t testing.TB, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.Symlink(fakePlugin, filepath.Join(dir, n)); err != nil {
			t.Fatalf("linking plugin %q: %v", n, err)
		}
	}
	return dir
}

// providerSpec is one provider of a test config, written as YAML.
type providerSpec struct {
	name       string
	match      []string
	apiVersion string // default v1
	// cacheDuration is defaultCacheDuration (default "0s").
	cacheDuration string
	env           map[string]string
	// tokenAttributes, as YAML-able map, or nil.
	tokenAttributes map[string]any
}

func (p providerSpec) object() map[string]any {
	apiVersion := p.apiVersion
	if apiVersion == "" {
		apiVersion = plugin.ExecAPIVersionV1
	}
	duration := p.cacheDuration
	if duration == "" {
		duration = "0s"
	}
	obj := map[string]any{
		"name":                 p.name,
		"matchImages":          p.match,
		"defaultCacheDuration": duration,
		"apiVersion":           apiVersion,
	}
	var env []map[string]string
	for _, k := range sortedKeys(p.env) {
		env = append(env, map[string]string{"name": k, "value": p.env[k]})
	}
	if env != nil {
		obj["env"] = env
	}
	if p.tokenAttributes != nil {
		obj["tokenAttributes"] = p.tokenAttributes
	}
	return obj
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// writeConfig writes a v1 config of providers and returns its path.
func writeConfig(t testing.TB, providers ...providerSpec) string {
	t.Helper()
	var objs []map[string]any
	for _, p := range providers {
		objs = append(objs, p.object())
	}
	data, err := yaml.Marshal(map[string]any{
		"kind":       "CredentialProviderConfig",
		"apiVersion": "kubelet.config.k8s.io/v1",
		"providers":  objs,
	})
	if err != nil {
		t.Fatalf("encoding the config: %v", err)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("writing the config: %v", err)
	}
	return path
}

// newProviders builds providers for specs, each provider backed by the
// fake plugin (in a new bin dir unless opts.BinDir is set), with opts'
// other fields.
func newProviders(t testing.TB, opts plugin.Options, specs ...providerSpec) *plugin.Providers {
	t.Helper()
	var names []string
	for _, s := range specs {
		names = append(names, s.name)
	}
	opts.ConfigPath = writeConfig(t, specs...)
	if opts.BinDir == "" {
		opts.BinDir = binDir(t, names...)
	}
	p, err := plugin.NewProviders(opts)
	if err != nil {
		t.Fatalf("NewProviders() error = %v", err)
	}
	return p
}

// recordFile returns a fresh file for the fake plugin to record requests in.
func recordFile(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "execs")
}

// requests reads the requests the fake plugin recorded, one per execution.
func requests(t testing.TB, path string) []credentialproviderv1.CredentialProviderRequest {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("opening the record: %v", err)
	}
	defer func() { _ = f.Close() }()
	var out []credentialproviderv1.CredentialProviderRequest
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var req credentialproviderv1.CredentialProviderRequest
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			t.Fatalf("decoding a recorded request: %v", err)
		}
		out = append(out, req)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading the record: %v", err)
	}
	return out
}

// rawRequests reads the recorded requests as text.
func rawRequests(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("reading the record: %v", err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// execs counts the recorded executions.
func execs(t testing.TB, path string) int {
	t.Helper()
	return len(requests(t, path))
}

// startedExecs counts the complete lines of the record, for polling while
// the plugin may be writing.
func startedExecs(path string) int {
	data, _ := os.ReadFile(path)
	return bytes.Count(data, []byte{'\n'})
}

// cred is what a test compares of a credential.
type cred struct {
	Username, Password string
	Source             string
}

func creds(in []credentialprovider.TrackedAuthConfig) []cred {
	var out []cred
	for _, c := range in {
		out = append(out, cred{Username: c.Username, Password: c.Password, Source: c.Source.String()})
	}
	return out
}

// fakeSAs is a ServiceAccountSource over a map, counting calls.
type fakeSAs struct {
	mu       sync.Mutex
	accounts map[string]*v1.ServiceAccount // by namespace/name
	tokenErr error
	// tokens counts Token calls; saGets counts ServiceAccount calls.
	tokens, saGets int
	// lastPod and lastAudience are the last Token call's.
	lastPod      plugin.PodInfo
	lastAudience string
}

var _ plugin.ServiceAccountSource = &fakeSAs{}

func newFakeSAs(accounts ...*v1.ServiceAccount) *fakeSAs {
	f := &fakeSAs{accounts: map[string]*v1.ServiceAccount{}}
	for _, sa := range accounts {
		f.put(sa)
	}
	return f
}

func (f *fakeSAs) put(sa *v1.ServiceAccount) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accounts[sa.Namespace+"/"+sa.Name] = sa
}

func (f *fakeSAs) ServiceAccount(_ context.Context, namespace, name string) (*v1.ServiceAccount, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.saGets++
	sa, ok := f.accounts[namespace+"/"+name]
	if !ok {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccounts"}, name)
	}
	return sa.DeepCopy(), nil
}

func (f *fakeSAs) Token(_ context.Context, namespace, serviceAccount, audience string, pod plugin.PodInfo) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens++
	f.lastPod, f.lastAudience = pod, audience
	if f.tokenErr != nil {
		return "", f.tokenErr
	}
	return fmt.Sprintf("FAKE-TOKEN-%s-%s-%s-%s", namespace, serviceAccount, audience, pod.UID), nil
}

func (f *fakeSAs) counts() (saGets, tokens int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.saGets, f.tokens
}
