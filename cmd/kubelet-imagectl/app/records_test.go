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
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/imagepullrecords"
)

// Image refs of records written by the tests.
const (
	refA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	refB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	refC = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
)

// recordStore opens rootDir's records for writing test files.
func recordStore(t *testing.T, rootDir string) *imagepullrecords.Store {
	t.Helper()
	s, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: filepath.Join(rootDir, imagepullrecords.ManagerDirName)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeRecord writes a v1beta1 record.
func writeRecord(t *testing.T, s *imagepullrecords.Store, ref string, updated time.Time, mapping map[string]kubeletv1beta1.ImagePullCredentials) {
	t.Helper()
	if err := s.WriteRecord(&kubeletv1beta1.ImagePulledRecord{ImageRef: ref, LastUpdatedTime: metav1.NewTime(updated), CredentialMapping: mapping}); err != nil {
		t.Fatal(err)
	}
}

// writeRaw writes a file under image_manager.
func writeRaw(t *testing.T, rootDir, rel, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(rootDir, imagepullrecords.ManagerDirName, rel), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRecordsList checks the JSON and text listings of a root dir holding
// every kind of file, and that listing writes nothing (no migration).
func TestRecordsList(t *testing.T) {
	root := t.TempDir()
	s := recordStore(t, root)
	updated := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	writeRecord(t, s, refA, updated, map[string]kubeletv1beta1.ImagePullCredentials{
		"reg.example/team/app":      {KubernetesSecrets: []kubeletv1beta1.ImagePullSecret{{UID: "7c9e", Namespace: "team-a", Name: "regcred", CredentialHash: "9a0b"}}},
		"docker.io/library/busybox": {NodePodsAccessible: true},
	})
	if err := s.WriteIntent(&kubeletv1beta1.ImagePullIntent{Image: "reg.example/team/app:1.2"}); err != nil {
		t.Fatal(err)
	}
	// A v1alpha1 record: listed in v1beta1, left as it is on disk.
	alpha := `{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1alpha1","lastUpdatedTime":"2025-06-07T08:09:10Z","imageRef":"` + refB + `","credentialMapping":{"busybox":{"nodePodsAccessible":true}}}` + "\n"
	writeRaw(t, root, "pulled/"+imagepullrecords.FileName(refB), alpha)
	// Broken files: undecodable, a name that does not match, the wrong kind.
	writeRaw(t, root, "pulled/"+imagepullrecords.FileName(refC), "{not json")
	writeRaw(t, root, "pulled/"+imagepullrecords.FileName("sha256:other"), strings.Replace(alpha, "v1alpha1", "v1beta1", 1))
	writeRaw(t, root, "pulling/"+imagepullrecords.FileName("busybox"), alpha)
	// Ignored names.
	writeRaw(t, root, "pulled/.tmp-123", "{")
	writeRaw(t, root, "pulled/"+imagepullrecords.FileName(refA)+".tmp", "{")
	writeRaw(t, root, "pulled/README", "{")

	before := snapshot(t, root)
	res := runCLI(t, Deps{}, "records", "list", "--root-dir", root, "-o", "json")
	if res.code != ExitOK {
		t.Fatalf("exit code %d, want 0 even with broken files; stderr %q", res.code, res.stderr)
	}
	if diff := cmp.Diff(before, snapshot(t, root)); diff != "" {
		t.Errorf("records list changed the root dir (-before +after):\n%s", diff)
	}
	out := lines(res.stdout)
	if len(out) != 1 {
		t.Fatalf("%d lines, want one JSON object: %q", len(out), res.stdout)
	}
	if diff := cmp.Diff([]string{"intents", "pulled", "errors"}, jsonKeys(t, []byte(out[0]))); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	var got struct {
		Intents []map[string]string `json:"intents"`
		Pulled  []struct {
			File   string          `json:"file"`
			Record json.RawMessage `json:"record"`
		} `json:"pulled"`
		Errors []map[string]string `json:"errors"`
	}
	if err := json.Unmarshal([]byte(out[0]), &got); err != nil {
		t.Fatal(err)
	}
	wantIntents := []map[string]string{{"file": "image_manager/pulling/" + imagepullrecords.FileName("reg.example/team/app:1.2"), "image": "reg.example/team/app:1.2"}}
	if diff := cmp.Diff(wantIntents, got.Intents); diff != "" {
		t.Errorf("intents (-want +got):\n%s", diff)
	}
	type pulled struct{ File, Record string }
	var gotPulled []pulled
	for _, p := range got.Pulled {
		gotPulled = append(gotPulled, pulled{File: p.File, Record: string(p.Record)})
	}
	wantPulled := []pulled{
		{File: "image_manager/pulled/" + imagepullrecords.FileName(refA),
			Record: `{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2026-01-02T03:04:05Z","imageRef":"` + refA + `","credentialMapping":{"docker.io/library/busybox":{"nodePodsAccessible":true},"reg.example/team/app":{"kubernetesSecrets":[{"uid":"7c9e","namespace":"team-a","name":"regcred","credentialHash":"9a0b"}]}}}`},
		{File: "image_manager/pulled/" + imagepullrecords.FileName(refB),
			Record: `{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2025-06-07T08:09:10Z","imageRef":"` + refB + `","credentialMapping":{"busybox":{"nodePodsAccessible":true}}}`},
	}
	if wantPulled[0].File > wantPulled[1].File {
		wantPulled[0], wantPulled[1] = wantPulled[1], wantPulled[0]
	}
	if diff := cmp.Diff(wantPulled, gotPulled); diff != "" {
		t.Errorf("pulled (-want +got):\n%s", diff)
	}
	var errFiles []string
	for _, e := range got.Errors {
		errFiles = append(errFiles, e["file"])
		if e["error"] == "" {
			t.Errorf("%s: empty error", e["file"])
		}
	}
	wantErrFiles := []string{
		"image_manager/pulled/" + imagepullrecords.FileName(refC),
		"image_manager/pulled/" + imagepullrecords.FileName("sha256:other"),
		"image_manager/pulling/" + imagepullrecords.FileName("busybox"),
	}
	if wantErrFiles[0] > wantErrFiles[1] {
		wantErrFiles[0], wantErrFiles[1] = wantErrFiles[1], wantErrFiles[0]
	}
	if diff := cmp.Diff(wantErrFiles, errFiles); diff != "" {
		t.Errorf("error files (-want +got):\n%s", diff)
	}

	text := runCLI(t, Deps{}, "records", "list", "--root-dir", root)
	if text.code != ExitOK {
		t.Fatalf("text: exit code %d; stderr %q", text.code, text.stderr)
	}
	for _, w := range []string{"INTENT FILE", "reg.example/team/app:1.2", "RECORD FILE", "sha256:aaaaaaaaaaaa",
		"secret team-a/regcred", "any pod on the node", "BROKEN FILE", "image_manager/pulled/sha256-"} {
		if !strings.Contains(text.stdout, w) {
			t.Errorf("text output does not contain %q:\n%s", w, text.stdout)
		}
	}
}

// TestRecordsListRootDirs covers an empty root dir and a missing one.
func TestRecordsListRootDirs(t *testing.T) {
	empty := t.TempDir()
	res := runCLI(t, Deps{}, "records", "list", "--root-dir", empty, "-o", "json")
	if res.code != ExitOK || strings.TrimSpace(res.stdout) != `{"intents":[],"pulled":[],"errors":[]}` {
		t.Errorf("empty root dir: exit code %d, stdout %q", res.code, res.stdout)
	}
	if _, err := os.Stat(filepath.Join(empty, imagepullrecords.ManagerDirName)); !os.IsNotExist(err) {
		t.Errorf("records list created image_manager (stat: %v)", err)
	}
	res = runCLI(t, Deps{}, "records", "list", "--root-dir", filepath.Join(empty, "nope"))
	if res.code != ExitEnvironment || len(res.stderrLines()) != 1 || res.stdout != "" {
		t.Errorf("missing root dir: exit code %d, stdout %q, stderr %q; want 3 with one line", res.code, res.stdout, res.stderr)
	}
}

// TestRecordsPrune removes the records of images absent from the runtime
// and last updated before --until.
func TestRecordsPrune(t *testing.T) {
	longAgo := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	future := time.Now().Add(24 * time.Hour)
	tests := []struct {
		name  string
		until string
		// lock holds the writer lock; deadRuntime points at no runtime.
		lock, deadRuntime bool
		output            string
		wantCode          int
		wantRemoved       []removedOutput
		wantText          string
	}{
		{name: "until a date", until: "2025-01-01T00:00:00Z", output: "json", wantCode: ExitOK,
			wantRemoved: []removedOutput{{File: recordFile(refA), ImageRef: refA}}},
		{name: "default until is now", output: "json", wantCode: ExitOK,
			wantRemoved: []removedOutput{{File: recordFile(refA), ImageRef: refA}}},
		{name: "until before everything", until: "2019-01-01T00:00:00Z", output: "json", wantCode: ExitOK, wantRemoved: []removedOutput{}},
		{name: "text", until: "2025-01-01T00:00:00Z", wantCode: ExitOK, wantText: "REMOVED RECORD FILE"},
		{name: "locked", lock: true, wantCode: ExitEnvironment},
		{name: "runtime unreachable", deadRuntime: true, wantCode: ExitEnvironment},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			presentID := f.push(t, "public/tools:1.0")
			pull := runCLI(t, Deps{}, f.ensureArgs("--pod", f.write(t, "pod.yaml", typed(testPod("team-b", "b", v1.PullIfNotPresent, nil, f.reg.Ref("public/tools:1.0")))))...)
			if pull.code != ExitOK {
				t.Fatalf("setup pull: exit code %d; stderr %q", pull.code, pull.stderr)
			}
			s := recordStore(t, f.rootDir)
			writeRecord(t, s, refA, longAgo, nil)
			writeRecord(t, s, refB, future, nil)
			if tc.lock {
				lockRecords(t, f.rootDir)
			}
			endpoint := f.endpoint
			if tc.deadRuntime {
				endpoint = "unix://" + filepath.Join(f.dir, "dead.sock")
			}
			args := []string{"records", "prune", "--root-dir", f.rootDir, "--runtime-endpoint", endpoint}
			if tc.until != "" {
				args = append(args, "--until", tc.until)
			}
			if tc.output != "" {
				args = append(args, "-o", tc.output)
			}
			res := runCLI(t, Deps{}, args...)
			if res.code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stdout %q, stderr %q", res.code, tc.wantCode, res.stdout, res.stderr)
			}
			if tc.wantCode != ExitOK {
				if res.stdout != "" || len(res.stderrLines()) != 1 {
					t.Errorf("stdout %q, stderr %q: want nothing and one line", res.stdout, res.stderr)
				}
				return
			}
			if tc.wantText != "" {
				if !strings.Contains(res.stdout, tc.wantText) || !strings.Contains(res.stdout, refA) {
					t.Errorf("text output %q, want %q and %s", res.stdout, tc.wantText, refA)
				}
				return
			}
			if diff := cmp.Diff([]string{"removed"}, jsonKeys(t, []byte(res.stdout))); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			var got recordsPruneOutput
			if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantRemoved, got.Removed); diff != "" {
				t.Errorf("removed (-want +got):\n%s", diff)
			}
			listing, err := listRecords(f.rootDir)
			if err != nil {
				t.Fatal(err)
			}
			left := map[string]bool{}
			for _, p := range listing.Pulled {
				left[p.record.ImageRef] = true
			}
			if !left[presentID] || !left[refB] {
				t.Errorf("records left %v: the present image's and the recent one must stay", left)
			}
		})
	}
}

// TestRecordsPruneWithoutRecords leaves a root dir without image_manager
// untouched and does not need the runtime.
func TestRecordsPruneWithoutRecords(t *testing.T) {
	root := t.TempDir()
	res := runCLI(t, Deps{}, "records", "prune", "--root-dir", root, "--runtime-endpoint", "unix://"+filepath.Join(root, "dead.sock"), "-o", "json")
	if res.code != ExitOK || strings.TrimSpace(res.stdout) != `{"removed":[]}` {
		t.Errorf("exit code %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(root, imagepullrecords.ManagerDirName)); !os.IsNotExist(err) {
		t.Errorf("records prune created image_manager (stat: %v)", err)
	}
}
