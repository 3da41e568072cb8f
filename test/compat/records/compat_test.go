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
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReleasesReadMigratedFiles migrates a root dir written by this tree
// (v1beta1 files, and v1alpha1 ones in a non-canonical form) and has every
// release read it: kubelets 1.35 and later read every file to what this
// tree reads and see it as current (they rewrite nothing); kubelets 1.33
// and 1.34 cannot decode v1beta1 at all, which is why downgrade exists.
func TestReleasesReadMigratedFiles(t *testing.T) {
	rels := releases(t)
	root := t.TempDir()
	writeFixture(t, root)
	before := treeView(t, root)
	out := imagectl(t, "records", "migrate", "--root-dir", root)
	if len(out.Rewritten) != 2 || out.Unchanged != len(before)-2 {
		t.Errorf("migrate rewrote %d files and left %d, want the 2 v1alpha1 files and %d", len(out.Rewritten), out.Unchanged, len(before)-2)
	}
	checkAllIn(t, root, apiV1beta1)
	want := treeView(t, root)
	if diff := cmp.Diff(before, want); diff != "" {
		t.Fatalf("migrate changed what the files say (-before +after):\n%s", diff)
	}
	for _, r := range rels {
		t.Run(r.name, func(t *testing.T) {
			r.require(t)
			dir := copyRoot(t, root)
			onDisk := files(t, dir)
			got, stderr := r.view(t, dir)
			if r.minor <= 34 {
				if got != nil {
					t.Fatalf("kubelet %s read v1beta1 files: %v", r.kubernetes, got)
				}
				for _, want := range []string{`no kind "ImagePullIntent" is registered for version "` + apiV1beta1 + `"`, `no kind "ImagePulledRecord" is registered for version "` + apiV1beta1 + `"`} {
					if !strings.Contains(stderr, want) {
						t.Errorf("kubelet %s fails, but not with %q: %s", r.kubernetes, want, stderr)
					}
				}
				return
			}
			if got == nil {
				t.Fatalf("kubelet %s cannot read the migrated files: %s", r.kubernetes, stderr)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("kubelet %s reads (-this tree +release):\n%s", r.kubernetes, diff)
			}
			if diff := cmp.Diff(onDisk, files(t, dir)); diff != "" {
				t.Errorf("kubelet %s rewrote migrated files on start-up (-before +after):\n%s", r.kubernetes, diff)
			}
		})
	}
}

// serviceAccountsPattern matches a kubernetesServiceAccounts list in a
// canonical encoding, with the comma before it when there is one.
var serviceAccountsPattern = regexp.MustCompile(`,?"kubernetesServiceAccounts":\[[^\]]*\]`)

// TestReleasesReadDowngradedFiles downgrades the same root dir to v1alpha1
// and has every release read it. Kubelet 1.33 rejects records naming
// service accounts (its v1alpha1 has no such field) until they are
// dropped. Kubelets 1.35 and later also rewrite the v1alpha1 files in
// v1beta1 when they open them; this tree reads what they wrote equal.
func TestReleasesReadDowngradedFiles(t *testing.T) {
	rels := releases(t)
	for _, tc := range []struct {
		name string
		args []string
		// unreadable are the minor versions that must fail.
		unreadable map[int]bool
	}{
		{name: "downgrade", args: []string{"records", "downgrade", "--to", "v1alpha1"}, unreadable: map[int]bool{33: true}},
		{name: "downgrade --drop-service-accounts", args: []string{"records", "downgrade", "--to", "v1alpha1", "--drop-service-accounts"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeFixture(t, root)
			before := treeView(t, root)
			out := imagectl(t, append(tc.args, "--root-dir", root)...)
			if len(out.Rewritten) != len(before)-1 || out.Unchanged != 1 {
				t.Errorf("downgrade rewrote %d files and left %d, want all but the canonical v1alpha1 intent", len(out.Rewritten), out.Unchanged)
			}
			checkAllIn(t, root, apiV1alpha1)
			want := treeView(t, root)
			if tc.unreadable != nil {
				if diff := cmp.Diff(before, want); diff != "" {
					t.Fatalf("downgrade changed what the files say (-before +after):\n%s", diff)
				}
			} else {
				// Only service accounts go; every file and entry stays.
				for file, content := range before {
					stripped := serviceAccountsPattern.ReplaceAllString(content, "")
					if want[file] != stripped {
						t.Errorf("%s after dropping service accounts: %s, want %s", file, want[file], stripped)
					}
				}
			}
			for _, r := range rels {
				t.Run(r.name, func(t *testing.T) {
					r.require(t)
					dir := copyRoot(t, root)
					onDisk := files(t, dir)
					got, stderr := r.view(t, dir)
					if tc.unreadable[r.minor] {
						if got != nil {
							t.Fatalf("kubelet %s read records naming service accounts", r.kubernetes)
						}
						if !strings.Contains(stderr, `unknown field`) || !strings.Contains(stderr, "kubernetesServiceAccounts") {
							t.Errorf("kubelet %s fails, but not on kubernetesServiceAccounts: %s", r.kubernetes, stderr)
						}
						return
					}
					if got == nil {
						t.Fatalf("kubelet %s cannot read the downgraded files: %s", r.kubernetes, stderr)
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("kubelet %s reads (-this tree +release):\n%s", r.kubernetes, diff)
					}
					if r.minor <= 34 {
						if diff := cmp.Diff(onDisk, files(t, dir)); diff != "" {
							t.Errorf("kubelet %s rewrote files (-before +after):\n%s", r.kubernetes, diff)
						}
						return
					}
					// What a kubelet 1.35+ does to a downgraded root dir at
					// start-up: every file back in v1beta1, saying the same.
					checkAllIn(t, dir, apiV1beta1)
					if diff := cmp.Diff(want, treeView(t, dir)); diff != "" {
						t.Errorf("after kubelet %s migrated the files, this tree reads (-before +after):\n%s", r.kubernetes, diff)
					}
				})
			}
		})
	}
}

// TestThisTreeReadsReleaseFiles has every release write the fixture's
// intents and records with its own accessor (kubelet 1.33 without service
// accounts), then checks that this tree reads each file equal, that the
// release wrote the version it says, and that the files survive this
// tree's rewrite into the version the release reads: the release reads
// them back equal.
func TestThisTreeReadsReleaseFiles(t *testing.T) {
	for _, r := range releases(t) {
		t.Run(r.name, func(t *testing.T) {
			r.require(t)
			intents, records := fixtureIntents(), fixtureRecords()
			if r.minor <= 33 {
				records = withoutServiceAccounts(records)
			}
			want := expected(t, intents, records)
			root := t.TempDir()
			if _, stderr, code := r.run(t, documents(t, intents, records), "write", root); code != 0 {
				t.Fatalf("kubelet %s write: exit %d: %s", r.kubernetes, code, stderr)
			}
			checkAllIn(t, root, r.writes)
			if diff := cmp.Diff(want, treeView(t, root)); diff != "" {
				t.Errorf("this tree reads kubelet %s's files (-written +read):\n%s", r.kubernetes, diff)
			}

			args := []string{"records", "migrate", "--root-dir", root}
			if r.writes == apiV1alpha1 {
				args = []string{"records", "downgrade", "--to", "v1alpha1", "--root-dir", root}
			}
			dry := imagectl(t, append(args, "--dry-run")...)
			t.Logf("kubelet %s wrote %d files; this tree's canonical encoding differs for %d", r.kubernetes, len(want), len(dry.Rewritten))
			if r.writes == apiV1beta1 && len(dry.Rewritten) != 0 {
				t.Errorf("kubelet %s's v1beta1 files are not this tree's canonical encoding: %+v", r.kubernetes, dry.Rewritten)
			}
			imagectl(t, args...)
			checkAllIn(t, root, r.writes)
			got, stderr := r.view(t, root)
			if got == nil {
				t.Fatalf("kubelet %s cannot read its files after this tree rewrote them: %s", r.kubernetes, stderr)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("kubelet %s reads after the rewrite (-written +read):\n%s", r.kubernetes, diff)
			}
		})
	}
}

// TestReleaseVersions pins what each release writes, the fact both
// commands rest on.
func TestReleaseVersions(t *testing.T) {
	for _, r := range releases(t) {
		t.Run(r.name, func(t *testing.T) {
			r.require(t)
			want := apiV1beta1
			if r.minor <= 34 {
				want = apiV1alpha1
			}
			if r.writes != want {
				t.Errorf("kubelet %s writes %s, want %s", r.kubernetes, r.writes, want)
			}
		})
	}
}
