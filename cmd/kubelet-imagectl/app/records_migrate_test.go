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
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/imagepullrecords"
)

const (
	alphaAPI = "kubelet.config.k8s.io/v1alpha1"
	betaAPI  = "kubelet.config.k8s.io/v1beta1"
)

// rewriteRoot is a root dir holding a v1alpha1 record (indented), a
// canonical v1beta1 record naming a service account, a v1alpha1 intent and
// a canonical v1beta1 intent.
type rewriteRoot struct {
	dir string
	// files are the root-relative names of the four files.
	alphaRecord, betaRecord, alphaIntent, betaIntent string
}

func newRewriteRoot(t *testing.T) *rewriteRoot {
	t.Helper()
	root := t.TempDir()
	s := recordStore(t, root)
	updated := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	writeRecord(t, s, refA, updated, map[string]kubeletv1beta1.ImagePullCredentials{
		"reg.example/team/app": {
			KubernetesSecrets:         []kubeletv1beta1.ImagePullSecret{{UID: "7c9e", Namespace: "team-a", Name: "regcred", CredentialHash: "9a0b"}},
			KubernetesServiceAccounts: []kubeletv1beta1.ImagePullServiceAccount{{UID: "1f2e", Namespace: "team-b", Name: "builder"}},
		},
	})
	if err := s.WriteIntent(&kubeletv1beta1.ImagePullIntent{Image: "docker.io/library/busybox:1.36"}); err != nil {
		t.Fatal(err)
	}
	alpha := "{\n  \"apiVersion\": \"" + alphaAPI + "\",\n  \"kind\": \"ImagePulledRecord\",\n  \"imageRef\": \"" + refB + "\",\n" +
		"  \"lastUpdatedTime\": \"2025-06-07T09:09:10+01:00\",\n  \"credentialMapping\": {\"busybox\": {\"nodePodsAccessible\": true}}\n}\n"
	writeRaw(t, root, "pulled/"+imagepullrecords.FileName(refB), alpha)
	writeRaw(t, root, "pulling/"+imagepullrecords.FileName("reg.example/team/app:1.2"),
		`{"kind":"ImagePullIntent","apiVersion":"`+alphaAPI+`","image":"reg.example/team/app:1.2"}`+"\n")
	return &rewriteRoot{
		dir:         root,
		alphaRecord: recordFile(refB),
		betaRecord:  recordFile(refA),
		alphaIntent: "image_manager/pulling/" + imagepullrecords.FileName("reg.example/team/app:1.2"),
		betaIntent:  "image_manager/pulling/" + imagepullrecords.FileName("docker.io/library/busybox:1.36"),
	}
}

// read returns a root-relative file's content.
func (r *rewriteRoot) read(t *testing.T, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(r.dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// apiVersions returns the apiVersion of each of the four files.
func (r *rewriteRoot) apiVersions(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, rel := range []string{r.alphaRecord, r.betaRecord, r.alphaIntent, r.betaIntent} {
		var meta struct {
			APIVersion string `json:"apiVersion"`
		}
		if err := json.Unmarshal([]byte(r.read(t, rel)), &meta); err != nil {
			t.Fatal(err)
		}
		out[rel] = meta.APIVersion
	}
	return out
}

// listing is records list -o json without the errors, for comparing what
// the files say before and after a rewrite.
func listing(t *testing.T, root string) string {
	t.Helper()
	res := runCLI(t, Deps{}, "records", "list", "--root-dir", root, "-o", "json")
	if res.code != ExitOK {
		t.Fatalf("records list: exit %d, stderr %q", res.code, res.stderr)
	}
	var out recordsListOutput
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) > 0 {
		t.Errorf("records list errors: %+v", out.Errors)
	}
	return res.stdout
}

func decodeRewriteOutput(t *testing.T, res cliResult) recordsRewriteOutput {
	t.Helper()
	out := lines(res.stdout)
	if len(out) != 1 {
		t.Fatalf("%d lines, want one JSON object: %q", len(out), res.stdout)
	}
	if diff := cmp.Diff([]string{"rewritten", "unchanged"}, jsonKeys(t, []byte(out[0]))); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	var got recordsRewriteOutput
	if err := json.Unmarshal([]byte(out[0]), &got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRecordsMigrateAndDowngrade(t *testing.T) {
	tests := []struct {
		name          string
		args          []string
		wantRewritten func(r *rewriteRoot) []rewrittenOutput
		wantUnchanged int
		wantVersion   string
		wantWarning   bool
	}{
		{
			name: "migrate",
			args: []string{"records", "migrate"},
			wantRewritten: func(r *rewriteRoot) []rewrittenOutput {
				return []rewrittenOutput{
					{File: r.alphaRecord, From: alphaAPI, To: betaAPI},
					{File: r.alphaIntent, From: alphaAPI, To: betaAPI},
				}
			},
			wantUnchanged: 2,
			wantVersion:   betaAPI,
		},
		{
			name: "downgrade",
			args: []string{"records", "downgrade", "--to", "v1alpha1"},
			wantRewritten: func(r *rewriteRoot) []rewrittenOutput {
				return []rewrittenOutput{
					{File: r.betaRecord, From: betaAPI, To: alphaAPI},
					{File: r.alphaRecord, From: alphaAPI, To: alphaAPI},
					{File: r.betaIntent, From: betaAPI, To: alphaAPI},
				}
			},
			wantUnchanged: 1,
			wantVersion:   alphaAPI,
			wantWarning:   true,
		},
		{
			name: "downgrade in the full form, dropping service accounts",
			args: []string{"records", "downgrade", "--to", alphaAPI, "--drop-service-accounts"},
			wantRewritten: func(r *rewriteRoot) []rewrittenOutput {
				return []rewrittenOutput{
					{File: r.betaRecord, From: betaAPI, To: alphaAPI, DroppedServiceAccounts: 1},
					{File: r.alphaRecord, From: alphaAPI, To: alphaAPI},
					{File: r.betaIntent, From: betaAPI, To: alphaAPI},
				}
			},
			wantUnchanged: 1,
			wantVersion:   alphaAPI,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRewriteRoot(t)
			before := listing(t, r.dir)

			// The dry run says what the run does, and writes nothing.
			snap := snapshot(t, r.dir)
			dry := runCLI(t, Deps{}, append(tc.args, "--root-dir", r.dir, "--dry-run", "-o", "json")...)
			if dry.code != ExitOK {
				t.Fatalf("dry run: exit %d, stderr %q", dry.code, dry.stderr)
			}
			if diff := cmp.Diff(snap, snapshot(t, r.dir)); diff != "" {
				t.Errorf("the dry run changed the root dir (-before +after):\n%s", diff)
			}
			dryOut := decodeRewriteOutput(t, dry)

			res := runCLI(t, Deps{}, append(tc.args, "--root-dir", r.dir, "-o", "json")...)
			if res.code != ExitOK {
				t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
			}
			got := decodeRewriteOutput(t, res)
			want := recordsRewriteOutput{Rewritten: tc.wantRewritten(r), Unchanged: tc.wantUnchanged}
			sort.Slice(want.Rewritten, func(i, j int) bool { return want.Rewritten[i].File < want.Rewritten[j].File })
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, dryOut); diff != "" {
				t.Errorf("dry run output (-want +got):\n%s", diff)
			}
			if gotWarning := strings.Contains(res.stderr, "warning: 1 records name service accounts"); gotWarning != tc.wantWarning {
				t.Errorf("service account warning = %v, want %v; stderr %q", gotWarning, tc.wantWarning, res.stderr)
			}
			if tc.wantWarning && !strings.Contains(res.stderr, r.betaRecord) {
				t.Errorf("warning %q does not name %s", res.stderr, r.betaRecord)
			}
			for file, v := range r.apiVersions(t) {
				if v != tc.wantVersion {
					t.Errorf("%s: apiVersion %q, want %q", file, v, tc.wantVersion)
				}
			}
			after := listing(t, r.dir)
			if strings.Contains(tc.name, "dropping") {
				before = strings.Replace(before, `,"kubernetesServiceAccounts":[{"uid":"1f2e","namespace":"team-b","name":"builder"}]`, "", 1)
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("records list before and after (-before +after):\n%s", diff)
			}
			// The canonical encoding of each file in the target version.
			if got, want := r.read(t, r.alphaIntent), `{"kind":"ImagePullIntent","apiVersion":"`+tc.wantVersion+`","image":"reg.example/team/app:1.2"}`+"\n"; got != want {
				t.Errorf("intent file = %q, want %q", got, want)
			}
			if got, want := r.read(t, r.alphaRecord), `{"kind":"ImagePulledRecord","apiVersion":"`+tc.wantVersion+`","lastUpdatedTime":"2025-06-07T08:09:10Z","imageRef":"`+refB+`","credentialMapping":{"busybox":{"nodePodsAccessible":true}}}`+"\n"; got != want {
				t.Errorf("record file = %q, want %q", got, want)
			}

			// Done: a second run rewrites nothing.
			again := decodeRewriteOutput(t, runCLI(t, Deps{}, append(tc.args, "--root-dir", r.dir, "-o", "json")...))
			if diff := cmp.Diff(recordsRewriteOutput{Rewritten: []rewrittenOutput{}, Unchanged: 4}, again); diff != "" {
				t.Errorf("second run (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecordsRewriteText(t *testing.T) {
	r := newRewriteRoot(t)
	dry := runCLI(t, Deps{}, "records", "downgrade", "--to", "v1alpha1", "--root-dir", r.dir, "--dry-run")
	if dry.code != ExitOK {
		t.Fatalf("exit %d, stderr %q", dry.code, dry.stderr)
	}
	for _, want := range []string{"WOULD REWRITE FILE", shortFile(r.betaRecord), "Would rewrite 3 files in " + alphaAPI + "; 1 unchanged."} {
		if !strings.Contains(dry.stdout, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, dry.stdout)
		}
	}
	if strings.Contains(dry.stdout, "Start the old kubelet") {
		t.Errorf("dry run output has the next step:\n%s", dry.stdout)
	}
	res := runCLI(t, Deps{}, "records", "downgrade", "--to", "v1alpha1", "--root-dir", r.dir, "--drop-service-accounts")
	if res.code != ExitOK {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	for _, want := range []string{"REWRITTEN FILE", "DROPPED SERVICE ACCOUNTS", "Rewrote 3 files in " + alphaAPI + "; 1 unchanged.", "Start the old kubelet next"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
	}
	res = runCLI(t, Deps{}, "records", "migrate", "--root-dir", r.dir)
	if res.code != ExitOK || !strings.Contains(res.stdout, "Rewrote 4 files in "+betaAPI+"; 0 unchanged.") || strings.Contains(res.stdout, "DROPPED") {
		t.Errorf("migrate: exit %d, output:\n%s", res.code, res.stdout)
	}
	res = runCLI(t, Deps{}, "records", "migrate", "--root-dir", r.dir)
	if res.code != ExitOK || res.stdout != "Rewrote 0 files in "+betaAPI+"; 4 unchanged.\n" {
		t.Errorf("second migrate: exit %d, output %q", res.code, res.stdout)
	}
}

// TestRecordsRewriteRefuses covers what makes either command write nothing:
// a broken file (exit 1, naming it, also in a dry run), the lock held by
// another writer (exit 3; a dry run still works), and bad flags (exit 2).
func TestRecordsRewriteRefuses(t *testing.T) {
	commands := map[string][]string{
		"migrate":   {"records", "migrate"},
		"downgrade": {"records", "downgrade", "--to", "v1alpha1"},
	}
	for name, args := range commands {
		t.Run(name+"/broken file", func(t *testing.T) {
			r := newRewriteRoot(t)
			broken := recordFile(refC)
			writeRaw(t, r.dir, "pulled/"+imagepullrecords.FileName(refC), `{"kind":"ImagePulledRecord","apiVersion":"`+betaAPI+`","imageRef":"`+refC+`","extra":1}`)
			mismatch := "image_manager/pulling/" + imagepullrecords.FileName("other")
			writeRaw(t, r.dir, "pulling/"+imagepullrecords.FileName("other"), `{"kind":"ImagePullIntent","apiVersion":"`+alphaAPI+`","image":"busybox"}`)
			snap := snapshot(t, r.dir)
			for _, extra := range [][]string{{"--dry-run"}, nil, {"-o", "json"}} {
				res := runCLI(t, Deps{}, append(append(args, "--root-dir", r.dir), extra...)...)
				if res.code != exitBrokenRecords {
					t.Fatalf("%q: exit %d, want %d; stderr %q", extra, res.code, exitBrokenRecords, res.stderr)
				}
				if res.stdout != "" {
					t.Errorf("%q: stdout %q, want nothing", extra, res.stdout)
				}
				stderr := res.stderrLines()
				if len(stderr) != 1 {
					t.Fatalf("%q: stderr %q, want one line", extra, res.stderr)
				}
				for _, want := range []string{"2 broken files, nothing rewritten", broken, `unknown field "extra"`, mismatch, "does not match"} {
					if !strings.Contains(stderr[0], want) {
						t.Errorf("%q: stderr %q lacks %q", extra, stderr[0], want)
					}
				}
			}
			// The lock file is the only new entry: taking the lock creates it.
			after := snapshot(t, r.dir)
			delete(after, filepath.Join(r.dir, imagepullrecords.ManagerDirName, imagepullrecords.LockFileName))
			if diff := cmp.Diff(snap, after); diff != "" {
				t.Errorf("root dir changed (-before +after):\n%s", diff)
			}
		})

		t.Run(name+"/lock held", func(t *testing.T) {
			r := newRewriteRoot(t)
			lock, err := imagepullrecords.AcquireWriterLock(imagepullrecords.OS, filepath.Join(r.dir, imagepullrecords.ManagerDirName))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = lock.Release() }()
			snap := snapshot(t, r.dir)
			res := runCLI(t, Deps{}, append(args, "--root-dir", r.dir)...)
			if res.code != ExitEnvironment {
				t.Fatalf("exit %d, want %d; stderr %q", res.code, ExitEnvironment, res.stderr)
			}
			if !strings.Contains(res.stderr, "locked by another writer") || res.stdout != "" {
				t.Errorf("stdout %q, stderr %q", res.stdout, res.stderr)
			}
			if diff := cmp.Diff(snap, snapshot(t, r.dir)); diff != "" {
				t.Errorf("root dir changed (-before +after):\n%s", diff)
			}
			dry := runCLI(t, Deps{}, append(args, "--root-dir", r.dir, "--dry-run")...)
			if dry.code != ExitOK {
				t.Errorf("dry run next to the lock holder: exit %d, stderr %q", dry.code, dry.stderr)
			}
		})

		t.Run(name+"/no image_manager", func(t *testing.T) {
			root := t.TempDir()
			for _, extra := range [][]string{{"--dry-run"}, nil} {
				res := runCLI(t, Deps{}, append(append(args, "--root-dir", root, "-o", "json"), extra...)...)
				if res.code != ExitOK || res.stdout != `{"rewritten":[],"unchanged":0}`+"\n" {
					t.Errorf("%q: exit %d, stdout %q, stderr %q", extra, res.code, res.stdout, res.stderr)
				}
			}
			if _, err := os.Lstat(filepath.Join(root, imagepullrecords.ManagerDirName)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("image_manager created: %v", err)
			}
		})

		t.Run(name+"/missing root dir", func(t *testing.T) {
			res := runCLI(t, Deps{}, append(args, "--root-dir", filepath.Join(t.TempDir(), "nope"))...)
			if res.code != ExitEnvironment || !strings.Contains(res.stderr, "does not exist") {
				t.Errorf("exit %d, stderr %q", res.code, res.stderr)
			}
		})
	}

	usage := []struct {
		name string
		args []string
		want string
	}{
		{name: "downgrade without --to", args: []string{"records", "downgrade"}, want: "--to: required"},
		{name: "downgrade to v1beta1", args: []string{"records", "downgrade", "--to", "v1beta1"}, want: "use records migrate"},
		{name: "downgrade to another version", args: []string{"records", "downgrade", "--to", "v1"}, want: `--to "v1": want v1alpha1`},
		{name: "migrate bad output", args: []string{"records", "migrate", "-o", "yaml"}, want: `--output "yaml"`},
		{name: "migrate empty root dir", args: []string{"records", "migrate", "--root-dir", ""}, want: "--root-dir"},
		{name: "migrate has no --to", args: []string{"records", "migrate", "--to", "v1beta1"}, want: "unknown flag: --to"},
		{name: "migrate takes no argument", args: []string{"records", "migrate", "x"}, want: `unknown command "x"`},
	}
	for _, tc := range usage {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, Deps{}, tc.args...)
			if res.code != ExitUsage {
				t.Fatalf("exit %d, want %d; stderr %q", res.code, ExitUsage, res.stderr)
			}
			if lines := res.stderrLines(); len(lines) != 1 || !strings.Contains(lines[0], tc.want) || res.stdout != "" {
				t.Errorf("stdout %q, stderr %q; want one line with %q", res.stdout, res.stderr, tc.want)
			}
		})
	}
}
