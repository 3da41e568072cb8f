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
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/imagepullrecords"
)

// eventReasons lists the reasons of events, for compact comparisons.
func eventReasons(events []eventOutput) []string {
	out := []string{}
	for _, e := range events {
		out = append(out, e.Reason)
	}
	return out
}

// TestEnsureJSON checks every field of the JSON output for a pod whose init
// and regular containers are admitted, pulled, denied and failed: each is
// processed, in spec order, init containers first, even after failures.
func TestEnsureJSON(t *testing.T) {
	f := newFixture(t)
	appID := f.push(t, "team-a/app:1.0")
	otherID := f.push(t, "team-a/other:latest")
	f.push(t, "team-b/app:1.0")

	p := &v1.Pod{
		ObjectMeta: podMeta("team-a", "web"),
		Spec: v1.PodSpec{
			ImagePullSecrets: []v1.LocalObjectReference{{Name: "regcred"}, {Name: "missing"}},
			InitContainers: []v1.Container{
				{Name: "init-denied", Image: f.reg.Ref("team-a/app:1.0"), ImagePullPolicy: v1.PullNever},
				{Name: "init-pull", Image: f.reg.Ref("team-a/app:1.0")},
			},
			Containers: []v1.Container{
				{Name: "reuse", Image: f.reg.Ref("team-a/app:1.0"), ImagePullPolicy: v1.PullIfNotPresent},
				{Name: "latest", Image: f.reg.Ref("team-a/other")},
				{Name: "refused", Image: f.reg.Ref("team-b/app:1.0")},
				{Name: "bad-name", Image: "Not/A:Valid:Image"},
			},
		},
	}
	podFile := f.write(t, "pod.yaml", typed(p))
	secretFile := f.write(t, "secrets.yaml", f.secret("team-a", "regcred", "alice"))
	res := runCLI(t, Deps{}, f.ensureArgs("--pod", podFile, "--secret", secretFile, "-o", "json")...)
	if res.code != ExitNotAdmitted {
		t.Fatalf("exit code %d, want %d; stderr %q", res.code, ExitNotAdmitted, res.stderr)
	}
	if res.stderr != "" {
		t.Errorf("stderr %q, want nothing", res.stderr)
	}
	outLines := lines(res.stdout)
	if len(outLines) != 1 {
		t.Fatalf("%d output lines, want 1: %q", len(outLines), res.stdout)
	}

	// Keys, in the order the issue specifies them.
	var raw struct {
		Events     []json.RawMessage `json:"events"`
		Containers []json.RawMessage `json:"containers"`
	}
	if err := json.Unmarshal([]byte(outLines[0]), &raw); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"pod", "events", "containers"}, jsonKeys(t, []byte(outLines[0]))); diff != "" {
		t.Errorf("pod keys (-want +got):\n%s", diff)
	}
	for _, c := range raw.Containers {
		want := []string{"name", "image", "pullPolicy", "result", "reason", "message", "imageRef", "verification", "pullAttempted", "events"}
		if diff := cmp.Diff(want, jsonKeys(t, c)); diff != "" {
			t.Errorf("container keys (-want +got):\n%s", diff)
		}
	}
	for _, e := range raw.Events {
		if diff := cmp.Diff([]string{"type", "reason", "message"}, jsonKeys(t, e)); diff != "" {
			t.Errorf("event keys (-want +got):\n%s", diff)
		}
	}

	got := res.pods(t)[0]
	if got.Pod != "team-a/web" {
		t.Errorf("pod %q, want team-a/web", got.Pod)
	}
	if len(got.Events) != 1 || got.Events[0].Type != v1.EventTypeWarning || got.Events[0].Reason != "FailedToRetrieveImagePullSecret" ||
		!strings.Contains(got.Events[0].Message, "missing") {
		t.Errorf("pod events %+v, want one FailedToRetrieveImagePullSecret warning naming \"missing\"", got.Events)
	}

	type row struct {
		Name, Image, PullPolicy, Result, Reason, ImageRef, Verification string
		PullAttempted                                                   bool
		Events                                                          []string
	}
	var rows []row
	for _, c := range got.Containers {
		rows = append(rows, row{Name: c.Name, Image: c.Image, PullPolicy: string(c.PullPolicy), Result: c.Result, Reason: c.Reason,
			ImageRef: c.ImageRef, Verification: c.Verification, PullAttempted: c.PullAttempted, Events: eventReasons(c.Events)})
	}
	wantRows := []row{
		{Name: "init-denied", Image: f.reg.Ref("team-a/app:1.0"), PullPolicy: "Never", Result: resultDenied, Reason: "ErrImageNeverPull",
			Verification: ruleNotPresent, Events: []string{"ErrImageNeverPull"}},
		{Name: "init-pull", Image: f.reg.Ref("team-a/app:1.0"), PullPolicy: "IfNotPresent", Result: resultPulled,
			ImageRef: appID, Verification: ruleNotPresent, PullAttempted: true, Events: []string{"Pulling", "Pulled"}},
		{Name: "reuse", Image: f.reg.Ref("team-a/app:1.0"), PullPolicy: "IfNotPresent", Result: resultReused,
			ImageRef: appID, Verification: ruleSecretHash, Events: []string{"Pulled"}},
		{Name: "latest", Image: f.reg.Ref("team-a/other"), PullPolicy: "Always", Result: resultPulled,
			ImageRef: otherID, Verification: ruleNotPresent, PullAttempted: true, Events: []string{"Pulling", "Pulled"}},
		{Name: "refused", Image: f.reg.Ref("team-b/app:1.0"), PullPolicy: "IfNotPresent", Result: resultFailed, Reason: "ErrImagePull",
			Verification: ruleNotPresent, PullAttempted: true, Events: []string{"Pulling", "Failed"}},
		{Name: "bad-name", Image: "Not/A:Valid:Image", PullPolicy: "IfNotPresent", Result: resultFailed, Reason: "InvalidImageName",
			Events: []string{"InspectFailed"}},
	}
	if diff := cmp.Diff(wantRows, rows); diff != "" {
		t.Errorf("containers (-want +got):\n%s", diff)
	}
	for _, c := range got.Containers {
		switch c.Name {
		case "refused":
			if !strings.Contains(c.Message, "401 Unauthorized") {
				t.Errorf("refused: message %q, want the runtime's 401 error", c.Message)
			}
		case "init-pull", "latest", "reuse":
			if c.Message != "" {
				t.Errorf("%s: message %q, want none for an admitted image", c.Name, c.Message)
			}
		}
		if strings.Contains(c.Message, f.passwords["alice"]) || strings.Contains(res.stdout, f.passwords["bob"]) {
			t.Errorf("%s: the output carries a credential", c.Name)
		}
	}
}

// TestEnsureConcurrentPods runs several pods in one process through one
// image manager with parallel pulls; the output keeps the order given.
func TestEnsureConcurrentPods(t *testing.T) {
	f := newFixture(t)
	f.push(t, "team-a/app:1.0")
	f.push(t, "team-a/other:1.0")
	f.push(t, "public/tools:1.0")
	secrets := f.write(t, "secrets.yaml", f.secret("team-a", "regcred", "alice"), f.secret("team-b", "regcred", "bob"))
	config := f.write(t, "config.yaml", configHeader+"serializeImagePulls: false\nmaxParallelImagePulls: 2\n")
	pods := []*v1.Pod{
		testPod("team-a", "p1", v1.PullIfNotPresent, []string{"regcred"}, f.reg.Ref("team-a/app:1.0"), f.reg.Ref("team-a/other:1.0")),
		testPod("team-b", "p2", v1.PullIfNotPresent, []string{"regcred"}, f.reg.Ref("team-a/app:1.0")),
		testPod("team-b", "p3", v1.PullIfNotPresent, nil, f.reg.Ref("public/tools:1.0")),
		testPod("team-a", "p4", v1.PullIfNotPresent, []string{"regcred"}, f.reg.Ref("team-a/other:1.0"), f.reg.Ref("public/tools:1.0")),
	}
	args := f.ensureArgs("--secret", secrets, "--config", config, "-o", "json")
	for _, p := range pods {
		args = append(args, "--pod", f.write(t, p.Name+".yaml", typed(p)))
	}
	res := runCLI(t, Deps{}, args...)
	if res.code != ExitNotAdmitted {
		t.Fatalf("exit code %d, want %d (p2 is refused); stderr %q", res.code, ExitNotAdmitted, res.stderr)
	}
	got := res.pods(t)
	var names []string
	for _, p := range got {
		names = append(names, p.Pod)
	}
	if diff := cmp.Diff([]string{"team-a/p1", "team-b/p2", "team-b/p3", "team-a/p4"}, names); diff != "" {
		t.Fatalf("pods out of order (-want +got):\n%s", diff)
	}
	results := map[string][]string{}
	for _, p := range got {
		for _, c := range p.Containers {
			results[p.Pod] = append(results[p.Pod], c.Result)
		}
	}
	want := map[string][]string{
		// p1 and p4 race for team-a/other with the same credentials: the
		// later one reuses what the first pulled.
		"team-a/p1": {resultPulled, "Pulled|Reused"},
		"team-b/p2": {resultFailed},
		"team-b/p3": {resultPulled},
		"team-a/p4": {"Pulled|Reused", "Pulled|Reused"},
	}
	for pod, w := range want {
		for i, r := range results[pod] {
			if !slices.Contains(strings.Split(w[i], "|"), r) {
				t.Errorf("%s container %d: result %s, want %s", pod, i, r, w[i])
			}
		}
	}
}

// TestEnsureExitCodes covers exit codes 0, 1 and 3 (2 is TestUsageErrors).
func TestEnsureExitCodes(t *testing.T) {
	tests := []struct {
		name string
		// setup returns extra arguments; it may change the fixture.
		setup      func(t *testing.T, f *fixture) []string
		wantCode   int
		wantStderr string
	}{
		{
			name: "admitted",
			setup: func(t *testing.T, f *fixture) []string {
				f.push(t, "public/tools:1.0")
				return []string{"--pod", f.write(t, "pod.yaml", typed(testPod("team-b", "b", v1.PullIfNotPresent, nil, f.reg.Ref("public/tools:1.0"))))}
			},
			wantCode: ExitOK,
		},
		{
			name: "denied",
			setup: func(t *testing.T, f *fixture) []string {
				return []string{"--pod", f.write(t, "pod.yaml", typed(testPod("team-b", "b", v1.PullNever, nil, f.reg.Ref("public/tools:1.0"))))}
			},
			wantCode: ExitNotAdmitted,
		},
		{
			name: "failed",
			setup: func(t *testing.T, f *fixture) []string {
				f.push(t, "team-a/app:1.0")
				return []string{"--pod", f.write(t, "pod.yaml", typed(testPod("team-b", "b", v1.PullIfNotPresent, nil, f.reg.Ref("team-a/app:1.0"))))}
			},
			wantCode: ExitNotAdmitted,
		},
		{
			name: "runtime unreachable",
			setup: func(t *testing.T, f *fixture) []string {
				return []string{"--pod", f.write(t, "pod.yaml", goodPod), "--runtime-endpoint", "unix://" + filepath.Join(f.dir, "no.sock")}
			},
			wantCode:   ExitEnvironment,
			wantStderr: "is unreachable",
		},
		{
			name: "root dir locked by another writer",
			setup: func(t *testing.T, f *fixture) []string {
				lockRecords(t, f.rootDir)
				return []string{"--pod", f.write(t, "pod.yaml", goodPod)}
			},
			wantCode:   ExitEnvironment,
			wantStderr: "locked by another writer",
		},
		{
			name: "root dir not writable",
			setup: func(t *testing.T, f *fixture) []string {
				// A file where the directory should be: even root cannot
				// create image_manager under it.
				notADir := filepath.Join(f.dir, "not-a-dir")
				if err := os.WriteFile(notADir, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				return []string{"--pod", f.write(t, "pod.yaml", goodPod), "--root-dir", notADir}
			},
			wantCode:   ExitEnvironment,
			wantStderr: "not-a-dir",
		},
		{
			name: "a dry run ignores the lock",
			setup: func(t *testing.T, f *fixture) []string {
				f.push(t, "public/tools:1.0")
				lockRecords(t, f.rootDir)
				return []string{"--dry-run", "--pod", f.write(t, "pod.yaml", typed(testPod("team-b", "b", v1.PullIfNotPresent, nil, f.reg.Ref("public/tools:1.0"))))}
			},
			wantCode: ExitOK,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			args := f.ensureArgs(tc.setup(t, f)...)
			res := runCLI(t, Deps{}, args...)
			if res.code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stdout %q, stderr %q", res.code, tc.wantCode, res.stdout, res.stderr)
			}
			if tc.wantCode == ExitEnvironment {
				if res.stdout != "" {
					t.Errorf("stdout %q, want nothing", res.stdout)
				}
				if l := res.stderrLines(); len(l) != 1 || !strings.Contains(l[0], tc.wantStderr) {
					t.Errorf("stderr %q, want one line containing %q", res.stderr, tc.wantStderr)
				}
			}
		})
	}
}

// lockRecords holds the records' writer lock, as a running kubelet would,
// until the test ends.
func lockRecords(t *testing.T, rootDir string) {
	t.Helper()
	dir := filepath.Join(rootDir, imagepullrecords.ManagerDirName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	lock, err := imagepullrecords.AcquireWriterLock(imagepullrecords.OS, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lock.Release() })
}

// TestEnsureDryRun checks that a dry run decides as a real run would and
// writes nothing: the root dir is byte-identical and the runtime pulled
// nothing.
func TestEnsureDryRun(t *testing.T) {
	f := newFixture(t)
	appID := f.push(t, "team-a/app:1.0")
	f.push(t, "team-a/other:1.0")
	secrets := f.write(t, "secrets.yaml", f.secret("team-a", "regcred", "alice"))
	first := runCLI(t, Deps{}, f.ensureArgs("--secret", secrets, "-o", "json",
		"--pod", f.write(t, "a.yaml", typed(testPod("team-a", "a", v1.PullIfNotPresent, []string{"regcred"}, f.reg.Ref("team-a/app:1.0")))))...)
	if first.code != ExitOK {
		t.Fatalf("setup pull: exit code %d; stderr %q", first.code, first.stderr)
	}

	for _, tc := range []struct {
		name    string
		rootDir string
	}{
		{name: "over existing records", rootDir: f.rootDir},
		{name: "over an empty root dir", rootDir: t.TempDir()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, tc.rootDir)
			f.runtime.ResetPulls()
			pods := []*v1.Pod{
				testPod("team-b", "no-secret", v1.PullIfNotPresent, nil, f.reg.Ref("team-a/app:1.0")),
				testPod("team-a", "s1-never", v1.PullNever, []string{"regcred"}, f.reg.Ref("team-a/app:1.0")),
				testPod("team-a", "absent", v1.PullIfNotPresent, []string{"regcred"}, f.reg.Ref("team-a/other:1.0")),
				testPod("team-a", "absent-never", v1.PullNever, []string{"regcred"}, f.reg.Ref("team-a/other:1.0")),
			}
			args := []string{"ensure", "--root-dir", tc.rootDir, "--runtime-endpoint", f.endpoint, "--docker-config", "", "--dry-run", "-o", "json", "--secret", secrets}
			for _, p := range pods {
				args = append(args, "--pod", f.write(t, p.Name+".yaml", typed(p)))
			}
			res := runCLI(t, Deps{}, args...)
			if res.code != ExitNotAdmitted {
				t.Fatalf("exit code %d, want %d; stderr %q", res.code, ExitNotAdmitted, res.stderr)
			}
			type outcome struct{ Result, Verification, Message, ImageRef string }
			var got []outcome
			for _, p := range res.pods(t) {
				c := p.Containers[0]
				got = append(got, outcome{Result: c.Result, Verification: c.Verification, Message: c.Message, ImageRef: c.ImageRef})
			}
			// Over an empty root dir the image counts as preloaded.
			noSecret := outcome{Result: resultWouldPull, Verification: ruleMustPull, Message: "would pull"}
			s1 := outcome{Result: resultReused, Verification: ruleSecretHash, ImageRef: appID}
			if tc.rootDir != f.rootDir {
				noSecret = outcome{Result: resultReused, Verification: ruleNotPulledByKubelet, ImageRef: appID}
				s1 = outcome{Result: resultReused, Verification: ruleNotPulledByKubelet, ImageRef: appID}
			}
			want := []outcome{
				noSecret,
				s1,
				{Result: resultWouldPull, Verification: ruleNotPresent, Message: "would pull"},
				{Result: resultDenied, Verification: ruleNotPresent},
			}
			// Messages of admitted images are the Pulled event's; only the
			// dry run's own message is compared.
			for i := range got {
				if got[i].Result == resultReused || got[i].Result == resultDenied {
					got[i].Message = ""
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, snapshot(t, tc.rootDir)); diff != "" {
				t.Errorf("the dry run changed the root dir (-before +after):\n%s", diff)
			}
			if pulls := f.runtime.Pulls(); len(pulls) != 0 {
				t.Errorf("the dry run pulled %+v", pulls)
			}
		})
	}
}

// TestEnsureGateOff checks the behaviour before the feature: present images
// are used by any pod, and no pull manager file is written.
func TestEnsureGateOff(t *testing.T) {
	f := newFixture(t)
	appID := f.push(t, "team-a/app:1.0")
	secrets := f.write(t, "secrets.yaml", f.secret("team-a", "regcred", "alice"))
	for _, gateFlag := range []string{"--feature-gates=KubeletEnsureSecretPulledImages=false", "--config=" + f.write(t, "config.yaml", configHeader+"featureGates:\n  KubeletEnsureSecretPulledImages: false\n")} {
		t.Run(gateFlag, func(t *testing.T) {
			// A pulls, then B (another run, so that A's pull is done)
			// uses the image without any Secret.
			res := runCLI(t, Deps{}, f.ensureArgs(gateFlag, "-o", "json", "--secret", secrets,
				"--pod", f.write(t, "a.yaml", typed(testPod("team-a", "a", v1.PullIfNotPresent, []string{"regcred"}, f.reg.Ref("team-a/app:1.0")))))...)
			if res.code != ExitOK {
				t.Fatalf("pod a: exit code %d, want 0; stderr %q", res.code, res.stderr)
			}
			res = runCLI(t, Deps{}, f.ensureArgs(gateFlag, "-o", "json",
				"--pod", f.write(t, "b.yaml", typed(testPod("team-b", "b", v1.PullNever, nil, f.reg.Ref("team-a/app:1.0")))))...)
			if res.code != ExitOK {
				t.Fatalf("pod b: exit code %d, want 0; stdout %q, stderr %q", res.code, res.stdout, res.stderr)
			}
			b := res.pods(t)[0].Containers[0]
			if b.Result != resultReused || b.Verification != ruleGateOff || b.ImageRef != appID {
				t.Errorf("pod b: %+v, want Reused by gateOff", b)
			}
			if _, err := os.Stat(filepath.Join(f.rootDir, imagepullrecords.ManagerDirName)); !os.IsNotExist(err) {
				t.Errorf("image_manager exists with the gate off (stat: %v)", err)
			}
		})
	}
}

// TestEnsureText checks the kubectl-style table.
func TestEnsureText(t *testing.T) {
	f := newFixture(t)
	f.push(t, "public/tools:1.0")
	res := runCLI(t, Deps{}, f.ensureArgs(
		"--pod", f.write(t, "a.yaml", typed(testPod("team-b", "a", v1.PullIfNotPresent, []string{"missing"}, f.reg.Ref("public/tools:1.0")))),
		"--pod", f.write(t, "b.yaml", typed(testPod("team-b", "b", v1.PullNever, nil, f.reg.Ref("public/other:1.0")))))...)
	if res.code != ExitNotAdmitted {
		t.Fatalf("exit code %d, want 1; stderr %q", res.code, res.stderr)
	}
	out := lines(res.stdout)
	wantPrefixes := [][]string{
		{"POD", "CONTAINER", "IMAGE", "PULL POLICY", "RESULT", "VERIFICATION", "REASON", "IMAGE REF"},
		{"team-b/a", "c0", f.reg.Ref("public/tools:1.0"), "IfNotPresent", "Pulled", "notPresent", "<none>", "sha256:"},
		{"team-b/b", "c0", f.reg.Ref("public/other:1.0"), "Never", "Denied", "notPresent", "ErrImageNeverPull", "<none>"},
		{"OBJECT", "TYPE", "REASON", "MESSAGE"},
		{"team-b/a", "Warning", "FailedToRetrieveImagePullSecret"},
	}
	if len(out) < len(wantPrefixes) {
		t.Fatalf("output has %d lines, want at least %d:\n%s", len(out), len(wantPrefixes), res.stdout)
	}
	for i, want := range wantPrefixes {
		line := out[i]
		for _, w := range want {
			idx := strings.Index(line, w)
			if idx < 0 {
				t.Errorf("line %d %q: missing %q", i, out[i], w)
				break
			}
			line = line[idx+len(w):]
		}
	}
}

// typed sets a pod's apiVersion and kind for writing it out.
func typed(p *v1.Pod) *v1.Pod {
	p = p.DeepCopy()
	p.APIVersion, p.Kind = "v1", "Pod"
	return p
}

// podMeta is the metadata of a test pod.
func podMeta(namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: namespace, Name: name}
}
