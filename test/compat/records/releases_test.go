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

package records

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// release is the records-compat binary of one released minor version.
type release struct {
	// name is the tools module's directory: release-1.34.
	name  string
	minor int
	// bin is the binary; empty when it could not be built from the module
	// cache, skip says why.
	bin  string
	skip string
	// kubernetes is the k8s.io/kubernetes version linked in, writes the
	// apiVersion its accessor writes.
	kubernetes string
	writes     string
}

// releaseMinors are the minor versions proven: 1.33, the first with pull
// records, through 1.37, the release this tree's modules come from.
var releaseMinors = []int{33, 34, 35, 36, 37}

var (
	buildOnce   sync.Once
	builtBins   map[string]string
	buildOutput string
	buildErr    error
)

// repoRoot is the repository's root directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "hack", "build-records-compat.sh")); err != nil {
		t.Fatalf("not the repository root: %s: %v", root, err)
	}
	return root
}

// registerInputs reads what the binaries are built from, and the variables
// the build script reads, so that go test's result cache knows them: the
// binaries run outside the test and would not invalidate it otherwise.
func registerInputs(t *testing.T, root string) {
	t.Helper()
	for _, name := range []string{"CI", "RECORDS_COMPAT_CACHE", "RECORDS_COMPAT_ALLOW_DOWNLOAD", "XDG_CACHE_HOME", "HOME", "GOFLAGS", "GOMODCACHE", "GOPROXY", "PATH"} {
		_ = os.Getenv(name)
	}
	inputs := []string{filepath.Join(root, "hack", "build-records-compat.sh")}
	err := filepath.WalkDir(filepath.Join(root, "hack", "tools", "records-compat"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			inputs = append(inputs, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range inputs {
		if _, err := os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	}
}

// inCI reports whether the tests run in CI, where a missing module is a
// failure rather than a skip.
func inCI() bool { return os.Getenv("CI") == "true" }

// releases builds (or finds in the cache) every records-compat binary with
// hack/build-records-compat.sh, once per test binary, and checks what each
// says it is. A release whose modules are missing from the module cache has
// skip set.
func releases(t *testing.T) []*release {
	t.Helper()
	root := repoRoot(t)
	registerInputs(t, root)
	buildOnce.Do(func() {
		ctx := context.Background()
		if deadline, ok := t.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline.Add(-30*time.Second))
			defer cancel()
		}
		cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "hack", "build-records-compat.sh"))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		buildErr = cmd.Run()
		buildOutput = stderr.String()
		builtBins = map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
			if name, bin, ok := strings.Cut(line, " "); ok {
				builtBins[name] = bin
			}
		}
		if buildOutput != "" {
			t.Logf("hack/build-records-compat.sh (%s):\n%s", time.Since(start).Round(time.Second), buildOutput)
		}
	})
	if buildErr != nil {
		t.Fatalf("hack/build-records-compat.sh: %v\n%s", buildErr, buildOutput)
	}
	var out []*release
	for _, minor := range releaseMinors {
		r := &release{name: fmt.Sprintf("release-1.%d", minor), minor: minor, bin: builtBins[fmt.Sprintf("release-1.%d", minor)]}
		if r.bin == "" {
			r.skip = fmt.Sprintf("%s: no records-compat binary: its modules are not in the module cache; run (cd hack/tools/records-compat/%s && go mod download), or set RECORDS_COMPAT_ALLOW_DOWNLOAD=1\n%s",
				r.name, r.name, buildOutput)
			if inCI() {
				t.Fatalf("CI=true: %s", r.skip)
			}
			out = append(out, r)
			continue
		}
		stdout, stderr, code := r.run(t, nil, "version")
		if code != 0 {
			t.Fatalf("%s version: exit %d: %s", r.name, code, stderr)
		}
		var v struct {
			Kubernetes string `json:"kubernetes"`
			Writes     string `json:"writes"`
		}
		if err := json.Unmarshal([]byte(stdout), &v); err != nil {
			t.Fatalf("%s version: %v: %q", r.name, err, stdout)
		}
		if !strings.HasPrefix(v.Kubernetes, fmt.Sprintf("v1.%d.", minor)) {
			t.Fatalf("%s links k8s.io/kubernetes %s, want v1.%d.x", r.name, v.Kubernetes, minor)
		}
		r.kubernetes, r.writes = v.Kubernetes, v.Writes
		out = append(out, r)
	}
	return out
}

// require skips (or, in CI, fails) the test when the release is missing.
func (r *release) require(t *testing.T) {
	t.Helper()
	if r.bin == "" {
		t.Skip(r.skip)
	}
}

// run runs the binary and returns its stdout, stderr and exit code.
func (r *release) run(t *testing.T, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(stdin), &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		return stdout.String(), stderr.String(), exitErr.ExitCode()
	case err != nil:
		t.Fatalf("%s %q: %v", r.name, args, err)
	}
	return stdout.String(), stderr.String(), 0
}

// line is one line of records-compat read.
type line struct {
	File   string          `json:"file"`
	Object json.RawMessage `json:"object"`
}

// view reads rootDir with the release and returns, for each file (relative
// to image_manager/), the canonical v1beta1 encoding of the object the
// release read, as this tree's strict decoder decodes the release's own
// encoding. It also checks that every object is in the version the release
// writes. When the release fails, view returns its stderr instead.
func (r *release) view(t *testing.T, rootDir string) (map[string]string, string) {
	t.Helper()
	stdout, stderr, code := r.run(t, nil, "read", rootDir)
	if code != 0 {
		return nil, stderr
	}
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 8<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s read: %v: %q", r.name, err, sc.Text())
		}
		canonical, apiVersion, err := canonicalize(l.File, l.Object)
		if err != nil {
			t.Errorf("%s read %s: this tree does not decode the release's encoding %s: %v", r.name, l.File, l.Object, err)
			continue
		}
		if apiVersion != r.writes {
			t.Errorf("%s read %s: encoded in %s, want %s", r.name, l.File, apiVersion, r.writes)
		}
		out[l.File] = canonical
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out, ""
}
