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
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/imagepullrecords"
)

// verifyWant is a finding without its message.
type verifyWant struct {
	File  string
	Kind  string
	Fixed bool
}

// managerPath returns the path of rel under rootDir's image_manager.
func managerPath(rootDir string, rel ...string) string {
	return filepath.Join(append([]string{rootDir, imagepullrecords.ManagerDirName}, rel...)...)
}

// intentFile is the root-relative file name of image's intent.
func intentFile(image string) string {
	return relToRoot(filepath.Join(imagepullrecords.IntentsDirName, imagepullrecords.FileName(image)))
}

// modeOf returns the permission bits of path.
func modeOf(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// decodeVerify decodes verify's JSON output and drops the messages.
func decodeVerify(t *testing.T, res cliResult) ([]verifyWant, []verifyFinding) {
	t.Helper()
	var out recordsVerifyOutput
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("decoding %q: %v", res.stdout, err)
	}
	got := []verifyWant{}
	for _, f := range out.Findings {
		got = append(got, verifyWant{File: f.File, Kind: f.Kind, Fixed: f.Fixed})
	}
	return got, out.Findings
}

// TestRecordsVerify checks every finding kind without the runtime, then
// what --fix does about it.
func TestRecordsVerify(t *testing.T) {
	updated := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	busyboxSecret := func(name string) kubeletv1beta1.ImagePullCredentials {
		return kubeletv1beta1.ImagePullCredentials{KubernetesSecrets: []kubeletv1beta1.ImagePullSecret{{UID: "uid-" + name, Namespace: "ns", Name: name, CredentialHash: "hash-" + name}}}
	}
	recordRel := func(ref string) string {
		return filepath.Join(imagepullrecords.RecordsDirName, imagepullrecords.FileName(ref))
	}

	tests := []struct {
		name  string
		setup func(t *testing.T, root string, s *imagepullrecords.Store)
		// want are the findings; wantFixed the ones --fix repairs.
		want      []verifyWant
		wantFixed map[string]bool
		// wantMessage is a part of the first finding's message.
		wantMessage string
		// after checks the root dir after --fix.
		after func(t *testing.T, root string)
	}{
		{
			name:  "clean",
			setup: func(t *testing.T, root string, s *imagepullrecords.Store) {},
			want:  []verifyWant{},
		},
		{
			name: "loose record file",
			setup: func(t *testing.T, root string, s *imagepullrecords.Store) {
				chmod(t, managerPath(root, recordRel(refA)), 0o644)
			},
			want:        []verifyWant{{File: recordFile(refA), Kind: findingLooseMode}},
			wantFixed:   map[string]bool{recordFile(refA): true},
			wantMessage: "mode 0644 is looser than 0600",
			after: func(t *testing.T, root string) {
				if got := modeOf(t, managerPath(root, recordRel(refA))); got != 0o600 {
					t.Errorf("mode %04o, want 0600", got)
				}
			},
		},
		{
			name: "loose directories and lock file",
			setup: func(t *testing.T, root string, s *imagepullrecords.Store) {
				chmod(t, managerPath(root), 0o755)
				chmod(t, managerPath(root, imagepullrecords.RecordsDirName), 0o750)
				if err := os.WriteFile(managerPath(root, imagepullrecords.LockFileName), nil, 0o644); err != nil {
					t.Fatal(err)
				}
				chmod(t, managerPath(root, imagepullrecords.LockFileName), 0o644)
			},
			want: []verifyWant{
				{File: "image_manager", Kind: findingLooseMode},
				{File: "image_manager/.lock", Kind: findingLooseMode},
				{File: "image_manager/pulled", Kind: findingLooseMode},
			},
			wantFixed:   map[string]bool{"image_manager": true, "image_manager/.lock": true, "image_manager/pulled": true},
			wantMessage: "directory mode 0755 is looser than 0700",
			after: func(t *testing.T, root string) {
				for path, want := range map[string]os.FileMode{
					managerPath(root): 0o700, managerPath(root, imagepullrecords.RecordsDirName): 0o700, managerPath(root, imagepullrecords.LockFileName): 0o600,
				} {
					if got := modeOf(t, path); got != want {
						t.Errorf("%s: mode %04o, want %04o", path, got, want)
					}
				}
			},
		},
		{
			name: "stricter modes are fine",
			setup: func(t *testing.T, root string, s *imagepullrecords.Store) {
				chmod(t, managerPath(root, recordRel(refA)), 0o400)
			},
			want: []verifyWant{},
		},
		{
			name: "record under another record's name, loose too",
			setup: func(t *testing.T, root string, s *imagepullrecords.Store) {
				if err := os.Rename(managerPath(root, recordRel(refA)), managerPath(root, recordRel(refB))); err != nil {
					t.Fatal(err)
				}
				chmod(t, managerPath(root, recordRel(refB)), 0o666)
			},
			want:        []verifyWant{{File: recordFile(refB), Kind: findingLooseMode}, {File: recordFile(refB), Kind: findingNameMismatch}},
			wantFixed:   map[string]bool{recordFile(refB) + findingLooseMode: true},
			wantMessage: "",
			after: func(t *testing.T, root string) {
				if _, err := os.Stat(managerPath(root, recordRel(refB))); err != nil {
					t.Errorf("the broken record was removed: %v", err)
				}
			},
		},
		{
			name: "malformed name",
			setup: func(t *testing.T, root string, s *imagepullrecords.Store) {
				writeRaw(t, root, "pulled/sha256-XYZ", "{}")
			},
			want:        []verifyWant{{File: "image_manager/pulled/sha256-XYZ", Kind: findingNameMismatch}},
			wantMessage: "can match no key",
		},
		{
			name: "record that does not decode",
			setup: func(t *testing.T, root string, s *imagepullrecords.Store) {
				writeRaw(t, root, recordRel(refB), `{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","imageRef":"`+refB+`","extra":1}`)
			},
			want:        []verifyWant{{File: recordFile(refB), Kind: findingDecodeError}},
			wantMessage: "grants nothing",
			after: func(t *testing.T, root string) {
				if _, err := os.Stat(managerPath(root, recordRel(refB))); err != nil {
					t.Errorf("the broken record was removed: %v", err)
				}
			},
		},
		{
			name: "intent that does not decode",
			setup: func(t *testing.T, root string, s *imagepullrecords.Store) {
				writeRaw(t, root, filepath.Join(imagepullrecords.IntentsDirName, imagepullrecords.FileName("reg.example/a:1")), `{"kind":"ImagePullIntent"`)
			},
			want:        []verifyWant{{File: intentFile("reg.example/a:1"), Kind: findingDecodeError}},
			wantMessage: "could make a name look preloaded",
			after: func(t *testing.T, root string) {
				if _, err := os.Stat(managerPath(root, imagepullrecords.IntentsDirName, imagepullrecords.FileName("reg.example/a:1"))); err != nil {
					t.Errorf("the broken intent was removed: %v", err)
				}
			},
		},
		{
			name: "directory at a record's name",
			setup: func(t *testing.T, root string, s *imagepullrecords.Store) {
				if err := os.Mkdir(managerPath(root, recordRel(refC)), 0o700); err != nil {
					t.Fatal(err)
				}
			},
			want: []verifyWant{{File: recordFile(refC), Kind: findingUnreadable}},
		},
		{
			name: "familiar key, v1alpha1 file",
			setup: func(t *testing.T, root string, s *imagepullrecords.Store) {
				writeRaw(t, root, recordRel(refB), `{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1alpha1","lastUpdatedTime":"2026-01-02T03:04:05Z","imageRef":"`+refB+`","credentialMapping":{"busybox":{"nodePodsAccessible":true}}}`+"\n")
			},
			want:        []verifyWant{{File: recordFile(refB), Kind: findingFamiliarKeys}},
			wantFixed:   map[string]bool{recordFile(refB): true},
			wantMessage: "busybox -> docker.io/library/busybox",
			after: func(t *testing.T, root string) {
				data, err := os.ReadFile(managerPath(root, recordRel(refB)))
				if err != nil {
					t.Fatal(err)
				}
				want := `{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1alpha1","lastUpdatedTime":"2026-01-02T03:04:05Z","imageRef":"` + refB + `","credentialMapping":{"docker.io/library/busybox":{"nodePodsAccessible":true}}}` + "\n"
				if diff := cmp.Diff(want, string(data)); diff != "" {
					t.Errorf("record (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "colliding keys",
			setup: func(t *testing.T, root string, s *imagepullrecords.Store) {
				writeRecord(t, s, refB, updated, map[string]kubeletv1beta1.ImagePullCredentials{
					"busybox": busyboxSecret("b"), "docker.io/library/busybox": busyboxSecret("a"), "library/busybox": {},
				})
			},
			want:        []verifyWant{{File: recordFile(refB), Kind: findingDuplicateKeys}},
			wantFixed:   map[string]bool{recordFile(refB): true},
			wantMessage: "busybox and docker.io/library/busybox and library/busybox name docker.io/library/busybox",
			after: func(t *testing.T, root string) {
				rec, err := recordStore(t, root).ReadRecord(refB)
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]kubeletv1beta1.ImagePullCredentials{"docker.io/library/busybox": {KubernetesSecrets: []kubeletv1beta1.ImagePullSecret{
					busyboxSecret("a").KubernetesSecrets[0], busyboxSecret("b").KubernetesSecrets[0],
				}}}
				if diff := cmp.Diff(want, rec.CredentialMapping); diff != "" {
					t.Errorf("merged mapping (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "old intent",
			setup: func(t *testing.T, root string, s *imagepullrecords.Store) {
				old := time.Now().Add(-48 * time.Hour)
				path := managerPath(root, imagepullrecords.IntentsDirName, imagepullrecords.FileName("reg.example/team/app:1.2"))
				if err := os.Chtimes(path, old, old); err != nil {
					t.Fatal(err)
				}
			},
			want:        []verifyWant{{File: intentFile("reg.example/team/app:1.2"), Kind: findingStaleIntent}},
			wantMessage: "older than 24h0m0s",
			after: func(t *testing.T, root string) {
				if _, err := os.Stat(managerPath(root, imagepullrecords.IntentsDirName, imagepullrecords.FileName("reg.example/team/app:1.2"))); err != nil {
					t.Errorf("the stale intent was removed: %v", err)
				}
			},
		},
		{
			name: "leftover temporaries",
			setup: func(t *testing.T, root string, s *imagepullrecords.Store) {
				writeRaw(t, root, "pulled/.tmp-123", "partial")
				writeRaw(t, root, "pulling/sha256-abc.tmp", "partial")
			},
			want: []verifyWant{
				{File: "image_manager/pulled/.tmp-123", Kind: findingTemporary},
				{File: "image_manager/pulling/sha256-abc.tmp", Kind: findingTemporary},
			},
			wantFixed: map[string]bool{"image_manager/pulled/.tmp-123": true, "image_manager/pulling/sha256-abc.tmp": true},
			after: func(t *testing.T, root string) {
				for _, rel := range []string{"pulled/.tmp-123", "pulling/sha256-abc.tmp"} {
					if _, err := os.Stat(managerPath(root, rel)); !os.IsNotExist(err) {
						t.Errorf("%s: stat %v, want it removed", rel, err)
					}
				}
			},
		},
		{
			// Regression: --fix removed every entry named like a temporary
			// (Store.RemoveTemporaries), symlinks and FIFOs included, and a
			// non-empty directory so named failed the whole run (exit 3, no
			// findings written).
			name: "entries named like temporaries that are not regular files",
			setup: func(t *testing.T, root string, s *imagepullrecords.Store) {
				writeRaw(t, root, "pulled/.tmp-9", "partial")
				if err := syscall.Mkfifo(managerPath(root, "pulled/.tmp-fifo"), 0o600); err != nil {
					t.Fatal(err)
				}
				victim := filepath.Join(t.TempDir(), "victim")
				if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(victim, managerPath(root, "pulling/.tmp-link")); err != nil {
					t.Fatal(err)
				}
				if err := os.Mkdir(managerPath(root, "pulled/.tmp-dir"), 0o700); err != nil {
					t.Fatal(err)
				}
				writeRaw(t, root, "pulled/.tmp-dir/kept", "kept")
			},
			want: []verifyWant{
				{File: "image_manager/pulled/.tmp-9", Kind: findingTemporary},
				{File: "image_manager/pulled/.tmp-dir", Kind: findingTemporary},
				{File: "image_manager/pulled/.tmp-fifo", Kind: findingTemporary},
				{File: "image_manager/pulling/.tmp-link", Kind: findingTemporary},
			},
			wantFixed: map[string]bool{"image_manager/pulled/.tmp-9": true},
			after: func(t *testing.T, root string) {
				if _, err := os.Lstat(managerPath(root, "pulled/.tmp-9")); !os.IsNotExist(err) {
					t.Errorf("the regular temporary: lstat %v, want it removed", err)
				}
				for _, rel := range []string{"pulled/.tmp-fifo", "pulling/.tmp-link", "pulled/.tmp-dir/kept"} {
					if _, err := os.Lstat(managerPath(root, rel)); err != nil {
						t.Errorf("%s: %v, want it kept", rel, err)
					}
				}
				if target, err := os.Readlink(managerPath(root, "pulling/.tmp-link")); err != nil {
					t.Errorf("the symlink: %v", err)
				} else if data, err := os.ReadFile(target); err != nil || string(data) != "keep" {
					t.Errorf("the symlink's target: %q, %v; want it untouched", data, err)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			s := recordStore(t, root)
			writeRecord(t, s, refA, updated, map[string]kubeletv1beta1.ImagePullCredentials{"reg.example/team/app": busyboxSecret("a")})
			if err := s.WriteIntent(&kubeletv1beta1.ImagePullIntent{Image: "reg.example/team/app:1.2"}); err != nil {
				t.Fatal(err)
			}
			tc.setup(t, root, s)
			before := snapshot(t, root)

			wantCode := ExitOK
			if len(tc.want) > 0 {
				wantCode = ExitNotAdmitted
			}
			res := runCLI(t, Deps{}, "records", "verify", "--root-dir", root, "-o", "json")
			if res.code != wantCode {
				t.Fatalf("exit code %d, want %d; stdout %q, stderr %q", res.code, wantCode, res.stdout, res.stderr)
			}
			got, findings := decodeVerify(t, res)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if tc.wantMessage != "" && (len(findings) == 0 || !strings.Contains(findings[0].Message, tc.wantMessage)) {
				t.Errorf("findings %+v: want the first message to contain %q", findings, tc.wantMessage)
			}
			text := runCLI(t, Deps{}, "records", "verify", "--root-dir", root)
			if text.code != wantCode || len(lines(text.stdout)) != max(1, len(tc.want)) {
				t.Errorf("text: exit code %d, stdout %q: want one line per finding", text.code, text.stdout)
			}
			for i, w := range tc.want {
				if l := lines(text.stdout); i < len(l) && !strings.HasPrefix(l[i], w.File+": "+w.Kind+": ") {
					t.Errorf("text line %q, want it to start with %q", l[i], w.File+": "+w.Kind+": ")
				}
			}
			if diff := cmp.Diff(before, snapshot(t, root)); diff != "" {
				t.Errorf("verify without --fix changed the root dir (-before +after):\n%s", diff)
			}

			fix := runCLI(t, Deps{}, "records", "verify", "--root-dir", root, "--fix", "-o", "json")
			got, findings = decodeVerify(t, fix)
			want := []verifyWant{}
			allFixed := true
			for _, w := range tc.want {
				w.Fixed = tc.wantFixed[w.File] || tc.wantFixed[w.File+w.Kind]
				allFixed = allFixed && w.Fixed
				want = append(want, w)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("--fix findings (-want +got):\n%s", diff)
			}
			for _, f := range findings {
				if f.Fixed && !strings.Contains(f.Message, "; fixed: ") {
					t.Errorf("fixed finding %+v does not say what was done", f)
				}
			}
			wantCode = ExitOK
			if !allFixed {
				wantCode = ExitNotAdmitted
			}
			if fix.code != wantCode {
				t.Errorf("--fix: exit code %d, want %d; stderr %q", fix.code, wantCode, fix.stderr)
			}
			if tc.after != nil {
				tc.after(t, root)
			}
			again := runCLI(t, Deps{}, "records", "verify", "--root-dir", root, "-o", "json")
			got, _ = decodeVerify(t, again)
			var left []verifyWant
			for _, w := range want {
				if !w.Fixed {
					w.Fixed = false
					left = append(left, w)
				}
			}
			if left == nil {
				left = []verifyWant{}
			}
			if diff := cmp.Diff(left, got); diff != "" {
				t.Errorf("findings after --fix (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRecordsVerifyLockNotRegular is a regression test: verify reported
// nothing about a lock file that is a symlink (or any other non-regular
// file), over which every writer, the kubelet included, fails to start.
func TestRecordsVerifyLockNotRegular(t *testing.T) {
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		plant func(t *testing.T, lock string)
	}{
		{name: "symlink to a file outside", plant: func(t *testing.T, lock string) {
			if err := os.Symlink(victim, lock); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "directory", plant: func(t *testing.T, lock string) {
			if err := os.Mkdir(lock, 0o700); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			recordStore(t, root)
			lock := managerPath(root, imagepullrecords.LockFileName)
			tc.plant(t, lock)
			res := runCLI(t, Deps{}, "records", "verify", "--root-dir", root, "-o", "json")
			if res.code != ExitNotAdmitted {
				t.Fatalf("exit code %d, want %d; stdout %q, stderr %q", res.code, ExitNotAdmitted, res.stdout, res.stderr)
			}
			got, findings := decodeVerify(t, res)
			if diff := cmp.Diff([]verifyWant{{File: "image_manager/.lock", Kind: findingUnreadable}}, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if len(findings) == 1 && !strings.Contains(findings[0].Message, "not a regular file") {
				t.Errorf("message %q: want it to say why", findings[0].Message)
			}
			// --fix cannot take the lock: it refuses and leaves it as it is.
			fix := runCLI(t, Deps{}, "records", "verify", "--root-dir", root, "--fix", "-o", "json")
			if fix.code != ExitEnvironment || !strings.Contains(fix.stderr, lock) {
				t.Errorf("--fix: exit code %d, stderr %q; want %d naming %s", fix.code, fix.stderr, ExitEnvironment, lock)
			}
			if _, err := os.Lstat(lock); err != nil {
				t.Errorf("the lock: %v, want it kept", err)
			}
			if data, err := os.ReadFile(victim); err != nil || string(data) != "keep" {
				t.Errorf("the symlink's target: %q, %v; want it untouched", data, err)
			}
		})
	}
}

// TestRecordsVerifyRuntime checks the findings that need the runtime: a
// record of an image it no longer has, an intent whose image it has.
func TestRecordsVerifyRuntime(t *testing.T) {
	f := newFixture(t)
	id := f.push(t, "public/tools:1.0")
	image := f.reg.Ref("public/tools:1.0")
	if _, err := f.runtime.Preload(context.Background(), image, (*runtimeapi.AuthConfig)(nil)); err != nil {
		t.Fatal(err)
	}
	s := recordStore(t, f.rootDir)
	now := time.Now()
	writeRecord(t, s, id, now, map[string]kubeletv1beta1.ImagePullCredentials{f.reg.Ref("public/tools"): {NodePodsAccessible: true}})
	writeRecord(t, s, refA, now, map[string]kubeletv1beta1.ImagePullCredentials{"reg.example/gone": {}})
	for _, in := range []string{image, f.reg.Ref("public/tools:2.0")} {
		if err := s.WriteIntent(&kubeletv1beta1.ImagePullIntent{Image: in}); err != nil {
			t.Fatal(err)
		}
	}
	want := []verifyWant{
		{File: recordFile(refA), Kind: findingAbsentImage},
		{File: intentFile(image), Kind: findingStaleIntent},
	}
	if intentFile(image) < recordFile(refA) {
		want[0], want[1] = want[1], want[0]
	}
	for _, fix := range []bool{false, true} {
		args := []string{"records", "verify", "--root-dir", f.rootDir, "--runtime-endpoint", f.endpoint, "-o", "json"}
		if fix {
			args = append(args, "--fix")
		}
		res := runCLI(t, Deps{}, args...)
		if res.code != ExitNotAdmitted {
			t.Fatalf("--fix=%v: exit code %d; stdout %q, stderr %q", fix, res.code, res.stdout, res.stderr)
		}
		got, findings := decodeVerify(t, res)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("--fix=%v: findings (-want +got):\n%s", fix, diff)
		}
		for _, finding := range findings {
			if finding.Kind == findingStaleIntent && !strings.Contains(finding.Message, id) {
				t.Errorf("message %q: want the image ID the intent resolves to", finding.Message)
			}
		}
	}
	// Without the runtime neither is reported: the intents are fresh.
	res := runCLI(t, Deps{}, "records", "verify", "--root-dir", f.rootDir)
	if res.code != ExitOK || strings.TrimSpace(res.stdout) != "No findings." {
		t.Errorf("without the runtime: exit code %d, stdout %q", res.code, res.stdout)
	}
}

// TestRecordsVerifyExitCodes checks flags and environment errors, the lock,
// and a root dir without records.
func TestRecordsVerifyExitCodes(t *testing.T) {
	root := t.TempDir()
	recordStore(t, root)
	empty := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		lock       bool
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "bad output", args: []string{"--root-dir", root, "-o", "yaml"}, wantCode: ExitUsage, wantStderr: "--output"},
		{name: "argument", args: []string{"--root-dir", root, "extra"}, wantCode: ExitUsage},
		{name: "negative age", args: []string{"--root-dir", root, "--stale-intent-age", "-1h"}, wantCode: ExitUsage, wantStderr: "--stale-intent-age"},
		{name: "empty endpoint", args: []string{"--root-dir", root, "--runtime-endpoint", ""}, wantCode: ExitUsage, wantStderr: "--runtime-endpoint"},
		{name: "root dir missing", args: []string{"--root-dir", filepath.Join(root, "nowhere")}, wantCode: ExitEnvironment, wantStderr: "does not exist"},
		{name: "runtime unreachable", args: []string{"--root-dir", root, "--runtime-endpoint", "unix://" + filepath.Join(root, "dead.sock")}, wantCode: ExitEnvironment, wantStderr: "unreachable"},
		{name: "locked, --fix", args: []string{"--root-dir", root, "--fix"}, lock: true, wantCode: ExitEnvironment, wantStderr: "locked"},
		{name: "locked, read only", args: []string{"--root-dir", root}, lock: true, wantCode: ExitOK, wantStdout: "No findings.\n"},
		{name: "no records", args: []string{"--root-dir", empty, "--fix", "-o", "json"}, wantCode: ExitOK, wantStdout: "{\"findings\":[]}\n"},
		{name: "clean records, JSON", args: []string{"--root-dir", root, "-o", "json"}, wantCode: ExitOK, wantStdout: "{\"findings\":[]}\n"},
		{name: "clean records, --fix, JSON", args: []string{"--root-dir", root, "--fix", "-o", "json"}, wantCode: ExitOK, wantStdout: "{\"findings\":[]}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.lock {
				lock, err := imagepullrecords.AcquireWriterLock(imagepullrecords.OS, managerPath(root))
				if err != nil {
					t.Fatal(err)
				}
				defer func() { _ = lock.Release() }()
			}
			res := runCLI(t, Deps{}, append([]string{"records", "verify"}, tc.args...)...)
			if res.code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stdout %q, stderr %q", res.code, tc.wantCode, res.stdout, res.stderr)
			}
			if res.stdout != tc.wantStdout {
				t.Errorf("stdout %q, want %q", res.stdout, tc.wantStdout)
			}
			if tc.wantCode != ExitOK && (len(res.stderrLines()) != 1 || !strings.Contains(res.stderr, tc.wantStderr)) {
				t.Errorf("stderr %q: want one line containing %q", res.stderr, tc.wantStderr)
			}
		})
	}
	if _, err := os.Stat(managerPath(empty)); !os.IsNotExist(err) {
		t.Errorf("verify --fix created image_manager (stat: %v)", err)
	}
}

// TestRecordsVerifyFieldNames checks the JSON keys.
func TestRecordsVerifyFieldNames(t *testing.T) {
	root := t.TempDir()
	recordStore(t, root)
	writeRaw(t, root, "pulled/.tmp-1", "x")
	res := runCLI(t, Deps{}, "records", "verify", "--root-dir", root, "-o", "json")
	if diff := cmp.Diff([]string{"findings"}, jsonKeys(t, []byte(res.stdout))); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	var out struct {
		Findings []json.RawMessage `json:"findings"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil || len(out.Findings) != 1 {
		t.Fatalf("output %q: %v", res.stdout, err)
	}
	if diff := cmp.Diff([]string{"file", "kind", "message", "fixed"}, jsonKeys(t, out.Findings[0])); diff != "" {
		t.Errorf("finding keys (-want +got):\n%s", diff)
	}
}
