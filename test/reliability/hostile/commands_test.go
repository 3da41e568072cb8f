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
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"k8s.io/imagepullrecords"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/kubernetes/cmd/kubelet-imagectl/app"
)

const imageQ = "reg.example/team/q:1"

var (
	refQ = "sha256:" + strings.Repeat("3", 64)
	// secretQ is recorded for Q and, like s1, absent from the cluster.
	secretQ = kubeletv1beta1.ImagePullSecret{UID: "uid-q", Namespace: "team-a", Name: "q", CredentialHash: "hash-q"}
)

// The kubelet-imagectl commands run over every hostile entry and
// directory state.
const (
	toolVerify        = "records verify"
	toolVerifyFix     = "records verify --fix"
	toolMigrateDryRun = "records migrate --dry-run"
	toolMigrate       = "records migrate"
	toolDowngrade     = "records downgrade --to v1alpha1"
	toolDowngradeDrop = "records downgrade --to v1alpha1 --drop-service-accounts"
	toolExplainS1     = "records explain --pod (with s1)"
	toolExplainNone   = "records explain --pod (without credentials)"
	toolRevoke        = "records revoke --kubeconfig"
)

var toolNames = []string{toolVerify, toolVerifyFix, toolMigrateDryRun, toolMigrate, toolDowngrade, toolDowngradeDrop, toolExplainS1, toolExplainNone, toolRevoke}

// toolArgs are the arguments of the command name over root.
func toolArgs(name, root string, in *toolInputs) []string {
	common := []string{"--root-dir", root, "-o", "json"}
	explain := func(pod string) []string {
		return append([]string{"records", "explain", "--pod", pod, "--secret", in.secrets, "--runtime-endpoint", "unix:///hostile/fake.sock", "--docker-config", ""}, append(common, imageP)...)
	}
	switch name {
	case toolVerify:
		return append([]string{"records", "verify"}, common...)
	case toolVerifyFix:
		return append([]string{"records", "verify", "--fix"}, common...)
	case toolMigrateDryRun:
		return append([]string{"records", "migrate", "--dry-run"}, common...)
	case toolMigrate:
		return append([]string{"records", "migrate"}, common...)
	case toolDowngrade:
		return append([]string{"records", "downgrade", "--to", "v1alpha1"}, common...)
	case toolDowngradeDrop:
		return append([]string{"records", "downgrade", "--to", "v1alpha1", "--drop-service-accounts"}, common...)
	case toolExplainS1:
		return explain(in.podS1)
	case toolExplainNone:
		return explain(in.podNone)
	case toolRevoke:
		return append([]string{"records", "revoke", "--kubeconfig", in.kubeconfig}, common...)
	}
	panic("unknown command " + name)
}

// readsOnly: the command never writes under the root dir.
func readsOnly(name string) bool {
	return name == toolVerify || name == toolMigrateDryRun || name == toolExplainS1 || name == toolExplainNone
}

// verifyFindings decodes records verify's JSON output.
func verifyFindings(t *testing.T, res toolResult) []struct {
	File, Kind, Message string
	Fixed               bool
} {
	t.Helper()
	var out struct {
		Findings []struct {
			File, Kind, Message string
			Fixed               bool
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Errorf("records verify output: %v: %q (exit %d, stderr %q)", err, res.stdout, res.code, res.stderr)
	}
	return out.Findings
}

// explainResults returns the results of records explain's containers.
func explainResults(t *testing.T, res toolResult) []string {
	t.Helper()
	if res.stdout == "" {
		return nil
	}
	var out struct {
		Containers []struct {
			Result string `json:"result"`
		} `json:"containers"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("records explain output: %v: %q", err, res.stdout)
	}
	var results []string
	for _, c := range out.Containers {
		results = append(results, c.Result)
	}
	return results
}

// entryKind says how the tools must treat a planted entry.
type entryKind int

const (
	// clean: nothing planted; the control every other kind departs from.
	clean entryKind = iota
	// broken: a record or intent file that fails a check.
	broken
	// unlistable: pulled/ itself is not a directory: no listing works.
	unlistable
	// temporary: an entry named like a temporary, which readers ignore.
	temporary
)

// toolCase is one planted entry (or none) over a root dir where P was
// pulled with s1 (or, for an intent, is preloaded), beside Q's record in
// v1alpha1 naming secretQ and Q's intent in v1beta1: migrate, downgrade and
// revoke would each rewrite something if they did not refuse.
type toolCase struct {
	name    string
	kind    entryKind
	recordP bool
	// regular: a regular temporary, which verify --fix removes.
	regular bool
	plant   func(t *testing.T, root, outside string, valid []byte) string
}

// toolCaseOf is the tools' view of a hostile entry.
func toolCaseOf(hc hostileCase) toolCase {
	kind := broken
	if hc.listFails {
		kind = unlistable
	}
	return toolCase{name: hc.name, kind: kind, recordP: !hc.intent, plant: hc.plant}
}

// extraToolCases are the controls and the entries named like temporaries,
// which only the tools meet (readers skip them, start-up removes them).
func extraToolCases() []toolCase {
	var cases []toolCase
	at := func(dir, name string, make func(t *testing.T, path, outside string, valid []byte)) func(t *testing.T, root, outside string, valid []byte) string {
		return func(t *testing.T, root, outside string, valid []byte) string {
			path := filepath.Join(root, imagepullrecords.ManagerDirName, dir, name)
			make(t, path, outside, valid)
			return rel(root, path)
		}
	}
	cases = append(cases,
		toolCase{name: "clean, P recorded", kind: clean, recordP: true},
		toolCase{name: "clean, P preloaded", kind: clean},
		toolCase{name: "regular leftover temporary", kind: temporary, recordP: true, regular: true,
			plant: at(imagepullrecords.RecordsDirName, imagepullrecords.TempPrefix+"12345", func(t *testing.T, path, _ string, valid []byte) {
				writeAt(t, path, valid[:len(valid)/2], 0o600)
			})},
		toolCase{name: "released kubelet's regular temporary", kind: temporary, recordP: true, regular: true,
			plant: at(imagepullrecords.IntentsDirName, imagepullrecords.FileName(imageP)+".tmp", func(t *testing.T, path, _ string, _ []byte) {
				writeAt(t, path, nil, 0o600)
			})},
		toolCase{name: "FIFO named like a temporary", kind: temporary, recordP: true,
			plant: at(imagepullrecords.RecordsDirName, imagepullrecords.TempPrefix+"fifo", func(t *testing.T, path, _ string, _ []byte) {
				if err := syscall.Mkfifo(path, 0o600); err != nil {
					t.Fatal(err)
				}
			})},
		toolCase{name: "symlink named like a temporary to a file outside", kind: temporary, recordP: true,
			plant: at(imagepullrecords.IntentsDirName, imagepullrecords.TempPrefix+"link", func(t *testing.T, path, outside string, valid []byte) {
				target := filepath.Join(outside, "victim")
				writeAt(t, target, valid, 0o644)
				if err := os.Symlink(target, path); err != nil {
					t.Fatal(err)
				}
			})},
		toolCase{name: "directory named like a temporary", kind: temporary, recordP: true,
			plant: at(imagepullrecords.RecordsDirName, imagepullrecords.TempPrefix+"dir", func(t *testing.T, path, _ string, valid []byte) {
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
				writeAt(t, filepath.Join(path, "kept"), valid, 0o600)
			})},
	)
	return cases
}

// writeQ writes Q's record (v1alpha1, secretQ) and Q's intent (v1beta1).
func writeQ(t *testing.T, root string) {
	t.Helper()
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: managerDir(root)})
	if err != nil {
		t.Fatal(err)
	}
	record := &kubeletv1beta1.ImagePulledRecord{ImageRef: refQ, CredentialMapping: map[string]kubeletv1beta1.ImagePullCredentials{
		"reg.example/team/q": {KubernetesSecrets: []kubeletv1beta1.ImagePullSecret{secretQ}},
	}}
	if err := store.WriteRecordVersion(record, imagepullrecords.APIVersionV1alpha1); err != nil {
		t.Fatal(err)
	}
	if err := store.WriteIntent(&kubeletv1beta1.ImagePullIntent{Image: imageQ}); err != nil {
		t.Fatal(err)
	}
}

// rel paths of the files the commands may legitimately rewrite.
var (
	relLock    = filepath.ToSlash(filepath.Join(imagepullrecords.ManagerDirName, imagepullrecords.LockFileName))
	relRecordP = filepath.ToSlash(filepath.Join(imagepullrecords.ManagerDirName, imagepullrecords.RecordsDirName, imagepullrecords.FileName(refP)))
	relRecordQ = filepath.ToSlash(filepath.Join(imagepullrecords.ManagerDirName, imagepullrecords.RecordsDirName, imagepullrecords.FileName(refQ)))
	relIntentQ = filepath.ToSlash(filepath.Join(imagepullrecords.ManagerDirName, imagepullrecords.IntentsDirName, imagepullrecords.FileName(imageQ)))
)

// runToolsOverEntry runs every command over a fresh root dir with tc
// planted and checks what it did. It returns how many commands ran.
func runToolsOverEntry(t *testing.T, tc toolCase, in *toolInputs) int {
	valid := validRecordBytes(t)
	runs := 0
	for _, name := range toolNames {
		root, outside := t.TempDir(), t.TempDir()
		if tc.recordP {
			writeValidRecord(t, root)
		}
		writeQ(t, root)
		entry := ""
		if tc.plant != nil {
			entry = filepath.ToSlash(tc.plant(t, root, outside, valid))
		}
		res, before, after, fail := runToolOver(t, name, tc.name, root, outside, in)
		runs++
		checkTool(t, name, tc, entry, root, res, before, after, fail)
	}
	return runs
}

// runToolOver runs one command over root and checks what every run must
// hold: nothing outside the root dir changed and nothing was pulled. It
// returns the result, the root dir before and after, and a fail function
// that names the command, the case and the run's output.
func runToolOver(t *testing.T, name, caseName, root, outside string, in *toolInputs) (toolResult, map[string]entryState, map[string]entryState, func(format string, args ...any)) {
	t.Helper()
	before, outsideBefore := snapshotTree(t, root), snapshotTree(t, outside)
	runtime := &fakeRuntime{}
	res := runTool(t, runtime, toolArgs(name, root, in)...)
	after := snapshotTree(t, root)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s over %s: "+format+"\nexit %d, stdout %q, stderr %q", append(append([]any{name, caseName}, args...), res.code, res.stdout, res.stderr)...)
	}
	if changes := treeChanges(outsideBefore, snapshotTree(t, outside), nil); len(changes) > 0 {
		fail("changed the directory outside the root dir: %v", changes)
	}
	if n := runtime.pulls.Load(); n > 0 {
		fail("asked the runtime to pull %d times", n)
	}
	return res, before, after, fail
}

// checkTool checks one command's exit code, output and changes.
func checkTool(t *testing.T, name string, tc toolCase, entry, root string, res toolResult, before, after map[string]entryState, fail func(format string, args ...any)) {
	t.Helper()
	// What every writer may do besides its own work: take the lock.
	lockOnly := func(path string, _, _ entryState, existed, _ bool) bool { return path == relLock && !existed }
	unchanged := func(allowed func(path string, was, now entryState, existed, exists bool) bool) {
		t.Helper()
		if changes := treeChanges(before, after, allowed); len(changes) > 0 {
			fail("changed the root dir: %v", changes)
		}
	}
	// Exit 3 naming the entry: a records directory that is not one.
	refusedUnlistable := func() {
		if res.code != app.ExitEnvironment || !strings.Contains(res.stderr, filepath.Join(root, entry)) {
			fail("want exit %d naming %s", app.ExitEnvironment, entry)
		}
	}
	// Exit 1 naming the entry, nothing rewritten: a broken file.
	refusedBroken := func() {
		if res.code != app.ExitNotAdmitted || !strings.Contains(res.stderr, entry) || !strings.Contains(res.stderr, "nothing rewritten") {
			fail("want exit %d naming %s and saying nothing was rewritten", app.ExitNotAdmitted, entry)
		}
	}
	switch name {
	case toolVerify, toolVerifyFix:
		if name == toolVerify {
			unchanged(nil)
		} else {
			// --fix removes a regular temporary and nothing else.
			unchanged(func(path string, was, now entryState, existed, exists bool) bool {
				return lockOnly(path, was, now, existed, exists) || tc.regular && path == entry && !exists
			})
		}
		if tc.kind == unlistable {
			refusedUnlistable()
			return
		}
		findings := verifyFindings(t, res)
		want := app.ExitNotAdmitted
		switch {
		case tc.kind == clean:
			want = app.ExitOK
		case tc.regular && name == toolVerifyFix:
			want = app.ExitOK
		}
		if res.code != want {
			fail("want exit %d", want)
		}
		if tc.kind == clean {
			if len(findings) > 0 {
				fail("findings over a clean root dir")
			}
			return
		}
		named := false
		for _, f := range findings {
			switch {
			case f.File != entry:
				fail("a finding about %s (%s), want only %s", f.File, f.Kind, entry)
			case tc.kind == temporary && f.Kind != "temporary":
				fail("%s reported as %s, want temporary", entry, f.Kind)
			case tc.kind == broken && !slices.Contains([]string{"unreadable", "decodeError", "nameMismatch"}, f.Kind):
				fail("%s reported as %s, want a broken file", entry, f.Kind)
			case f.Fixed && !(tc.regular && name == toolVerifyFix):
				fail("%s marked fixed", entry)
			}
			named = named || f.File == entry
		}
		if !named {
			fail("no finding names %s", entry)
		}

	case toolMigrateDryRun, toolMigrate, toolDowngrade, toolDowngradeDrop:
		if name == toolMigrateDryRun {
			unchanged(nil)
		}
		switch tc.kind {
		case unlistable:
			refusedUnlistable()
			unchanged(lockOnly)
			return
		case broken:
			refusedBroken()
			unchanged(lockOnly)
			return
		}
		if res.code != app.ExitOK {
			fail("want exit %d", app.ExitOK)
		}
		// Migrate rewrites Q's v1alpha1 record; downgrade P's v1beta1
		// record and Q's v1beta1 intent. Nothing else, the planted
		// temporary included.
		rewritten := map[string]bool{relRecordQ: name == toolMigrate}
		if name == toolDowngrade || name == toolDowngradeDrop {
			rewritten = map[string]bool{relRecordP: tc.recordP, relIntentQ: true}
		}
		if name != toolMigrateDryRun {
			unchanged(func(path string, was, now entryState, existed, exists bool) bool {
				return lockOnly(path, was, now, existed, exists) || rewritten[path] && exists && now.mode == was.mode
			})
			for path, want := range rewritten {
				if want && after[path] == before[path] {
					fail("%s not rewritten", path)
				}
			}
		}

	case toolExplainS1, toolExplainNone:
		unchanged(nil)
		results := explainResults(t, res)
		// A clean or ignored entry keeps the answer of a clean root dir:
		// s1 is granted by P's record (by its coordinates), a pod without
		// credentials only where P is preloaded.
		granted := tc.kind == clean || tc.kind == temporary
		if name == toolExplainNone && tc.recordP {
			granted = false
		}
		switch {
		case granted && (res.code != app.ExitOK || !slices.Equal(results, []string{"Reused"})):
			fail("want the image reused, as over a clean root dir")
		case !granted && (res.code == app.ExitOK || slices.Contains(results, "Reused")):
			fail("granted the image")
		case !granted && tc.kind != unlistable && !slices.Equal(results, []string{"Denied"}):
			fail("want the container denied (pull policy Never)")
		}

	case toolRevoke:
		if tc.kind == unlistable {
			refusedUnlistable()
			unchanged(lockOnly)
			return
		}
		if res.code != app.ExitOK {
			fail("want exit %d", app.ExitOK)
		}
		// A writer's start-up removes temporaries and migrates Q's record;
		// the revocation rewrites the records naming s1 and secretQ. A
		// broken record is never rewritten (it holds nothing to revoke).
		unchanged(func(path string, was, now entryState, existed, exists bool) bool {
			switch {
			case lockOnly(path, was, now, existed, exists):
				return true
			case path == relRecordQ, path == relRecordP && tc.recordP && tc.kind != broken:
				return exists && now.mode == was.mode
			case tc.kind == temporary && path == entry:
				return !exists
			}
			return false
		})
		data, err := os.ReadFile(filepath.Join(root, relRecordQ))
		if err != nil {
			fail("Q's record: %v", err)
			return
		}
		if bytes.Contains(data, []byte(secretQ.UID)) {
			fail("Q's record still names the deleted Secret %s/%s: %s", secretQ.Namespace, secretQ.Name, data)
		}
	}
}

// runToolsOverState runs every command over a fresh root dir in state tc
// and checks its exit code, its output and what it changed; outside is the
// directory the state's symlinks may point into. It returns how many
// commands ran.
func runToolsOverState(t *testing.T, tc stateCase, outside string, in *toolInputs) int {
	runs := 0
	for _, name := range toolNames {
		root := tc.prepare(t)
		res, before, after, fail := runToolOver(t, name, tc.name, root, outside, in)
		runs++
		if want := tc.toolExits[name]; res.code != want {
			fail("want exit %d", want)
		}
		// A reader, or a writer that refused, changes nothing. A writer
		// may take the lock, tighten modes and rewrite records and
		// intents; it never creates, removes or retargets anything else.
		var allowed func(path string, was, now entryState, existed, exists bool) bool
		if !readsOnly(name) && res.code == app.ExitOK {
			allowed = func(path string, was, now entryState, existed, exists bool) bool {
				switch {
				case path == relLock && !existed:
					return true
				case !existed || !exists || was.mode.Type() != now.mode.Type() || was.target != now.target:
					return false
				case now.mode.Perm()&^was.mode.Perm() != 0:
					return false
				}
				return was.sum == now.sum || now.mode.IsRegular() && strings.HasPrefix(path, imagepullrecords.ManagerDirName+"/pull")
			}
		}
		if changes := treeChanges(before, after, allowed); len(changes) > 0 {
			fail("changed the root dir: %v", changes)
		}
		switch {
		case name == toolVerify && res.code != app.ExitEnvironment:
			var files []string
			for _, f := range verifyFindings(t, res) {
				if !slices.Contains(files, f.File) {
					files = append(files, f.File)
				}
			}
			want := slices.Clone(tc.findings)
			slices.Sort(want)
			slices.Sort(files)
			if !slices.Equal(files, want) {
				fail("findings name %v, want %v", files, want)
			}
		case name == toolVerifyFix && res.code == app.ExitOK:
			// Every mode is tight after --fix.
			for path, st := range after {
				want := imagepullrecords.FileMode
				if st.mode.IsDir() {
					want = imagepullrecords.DirMode
				}
				if strings.HasPrefix(path, imagepullrecords.ManagerDirName) && st.mode.Perm() != want {
					fail("%s has mode %04o after --fix, want %04o", path, st.mode.Perm(), want)
				}
			}
		case name == toolExplainS1 || name == toolExplainNone:
			want := []string{"Reused"}
			if res.code == app.ExitNotAdmitted {
				want = []string{"Denied"}
			}
			if got := explainResults(t, res); res.code != app.ExitEnvironment && !slices.Equal(got, want) {
				fail("containers %v, want %v", got, want)
			}
		}
	}
	return runs
}
