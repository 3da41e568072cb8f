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

package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/klog/v2/ktesting"
	"sigs.k8s.io/yaml"

	"k8s.io/kubernetes/pkg/kubelet/cri/embedded/imageservice"
	"k8s.io/kubernetes/pkg/kubelet/cri/embedded/registry"
)

// cliResult is one in-process run of kubelet-imagectl.
type cliResult struct {
	stdout string
	stderr string
	code   int
}

// stderrLines returns the non-empty lines of stderr.
func (r cliResult) stderrLines() []string {
	var lines []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// pods decodes ensure's JSON lines.
func (r cliResult) pods(t *testing.T) []podOutput {
	t.Helper()
	out, err := decodePodLines([]byte(r.stdout))
	if err != nil {
		t.Fatalf("decoding ensure output %q: %v", r.stdout, err)
	}
	return out
}

// runCLI runs kubelet-imagectl in-process with deps (Stdout, Stderr and
// Logger are set here) and args.
func runCLI(t *testing.T, deps Deps, args ...string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	logger, ctx := ktesting.NewTestContext(t)
	deps.Stdout, deps.Stderr, deps.Logger = &stdout, &stderr, &logger
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	code := Run(ctx, args, &deps)
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// fixture is an embedded registry and runtime, a root dir and a directory
// for manifests.
type fixture struct {
	reg       *registry.Registry
	runtime   *imageservice.Server
	endpoint  string
	rootDir   string
	dir       string
	passwords map[string]string
	files     int
}

// testUsers and testRepos: alice may pull team-a's repositories, bob only
// team-b's; public/* is anonymous.
var (
	testUsers = []string{"alice", "bob"}
	testRepos = map[string]registry.Access{
		"team-a/app":   {Users: []string{"alice"}},
		"team-a/other": {Users: []string{"alice"}},
		"team-b/app":   {Users: []string{"bob"}},
		"public/tools": {Anonymous: true},
	}
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), passwords: map[string]string{}}
	f.rootDir = filepath.Join(f.dir, "root")
	if err := os.MkdirAll(f.rootDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, u := range testUsers {
		f.passwords[u] = string(uuid.NewUUID())
	}
	var err error
	f.reg, err = registry.New(registry.Options{Users: f.passwords, Repos: testRepos})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.reg.Stop() })
	f.runtime, err = imageservice.Start(imageservice.Options{Dir: filepath.Join(f.dir, "runtime")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.runtime.Stop() })
	f.endpoint = f.runtime.Endpoint()
	return f
}

// push pushes a new image under names and returns its image ID.
func (f *fixture) push(t *testing.T, names ...string) string {
	t.Helper()
	img, err := f.reg.Push(context.Background(), names...)
	if err != nil {
		t.Fatal(err)
	}
	return img.ID
}

// secret returns a dockerconfigjson Secret with user's credentials for the
// fixture's registry.
func (f *fixture) secret(namespace, name, user string) *v1.Secret {
	password := f.passwords[user]
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	config := fmt.Sprintf(`{"auths":{%q:{"username":%q,"password":%q,"auth":%q}}}`, f.reg.Addr(), user, password, auth)
	return &v1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: types.UID(uuid.NewUUID())},
		Type:       v1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{v1.DockerConfigJsonKey: []byte(config)},
	}
}

// testPod returns a pod with one regular container per image.
func testPod(namespace, name string, pullPolicy v1.PullPolicy, secrets []string, images ...string) *v1.Pod {
	p := &v1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
	}
	for i, image := range images {
		p.Spec.Containers = append(p.Spec.Containers, v1.Container{Name: fmt.Sprintf("c%d", i), Image: image, ImagePullPolicy: pullPolicy})
	}
	for _, s := range secrets {
		p.Spec.ImagePullSecrets = append(p.Spec.ImagePullSecrets, v1.LocalObjectReference{Name: s})
	}
	return p
}

// write writes objects (YAML documents) or a string into a new file and
// returns its path.
func (f *fixture) write(t *testing.T, name string, docs ...any) string {
	t.Helper()
	f.files++
	path := filepath.Join(f.dir, fmt.Sprintf("%02d-%s", f.files, name))
	if err := os.WriteFile(path, []byte(yamlDocs(t, docs...)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// yamlDocs renders documents: strings as they are, objects as YAML.
func yamlDocs(t *testing.T, docs ...any) string {
	t.Helper()
	var b strings.Builder
	for i, d := range docs {
		if i > 0 {
			b.WriteString("---\n")
		}
		if s, ok := d.(string); ok {
			b.WriteString(s)
			continue
		}
		data, err := yaml.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}

// ensureArgs are the common arguments of an ensure run against the fixture.
func (f *fixture) ensureArgs(extra ...string) []string {
	return append([]string{"ensure", "--root-dir", f.rootDir, "--runtime-endpoint", f.endpoint, "--docker-config", ""}, extra...)
}

// snapshot returns every path under dir with its mode and content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap, err := snapshotDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// jsonKeys returns the keys of a JSON object in the order they appear.
func jsonKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", raw)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// lines splits output into non-empty lines.
func lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			out = append(out, sc.Text())
		}
	}
	return out
}
