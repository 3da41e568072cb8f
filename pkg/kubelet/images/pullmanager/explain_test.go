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

package pullmanager

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/imagepullrecords"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// Long hashes, to check that explanations abbreviate them.
const (
	longHash1 = "1111111111111111111111111111111111111111111111111111111111111111"
	longHash2 = "2222222222222222222222222222222222222222222222222222222222222222"
)

var (
	longS1 = kubeletconfig.ImagePullSecret{UID: "uid-l1", Namespace: "ns-x", Name: "l1", CredentialHash: longHash1}
	longS2 = kubeletconfig.ImagePullSecret{UID: "uid-l2", Namespace: "ns-x", Name: "l2", CredentialHash: longHash1}
)

// startReadOnly opens the env's root dir as a dry run does: no lock, no
// writes.
func (e *testEnv) startReadOnly(t *testing.T, policy kubeletconfig.ImagePullCredentialsVerificationPolicy, allowlist ...string) Manager {
	t.Helper()
	m, err := NewFileBackedPullManager(testContext(t), Options{
		RootDir:                e.root,
		FS:                     e.fs,
		Policy:                 policy,
		Allowlist:              allowlist,
		ImageLister:            e.lister,
		Clock:                  e.clock,
		ReadOnly:               true,
		HousekeepingAttempts:   1,
		HousekeepingRetryDelay: time.Millisecond,
	})
	if err != nil {
		t.Fatalf("starting read-only pull manager: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// treeOf returns every file under dir with its mode and content.
func treeOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out[path] = info.Mode().String() + " " + string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExplain runs every rule through a read-only manager that explains,
// checks the explanation, that explaining wrote nothing, and that a
// writable manager over the same files decides the same.
func TestExplain(t *testing.T) {
	capped := baseRecord()
	var hundred []kubeletconfig.ImagePullSecret
	for i := 0; i < maxSecretsPerEntry; i++ {
		hundred = append(hundred, kubeletconfig.ImagePullSecret{
			UID: "uid-" + string(rune('a'+i/26)) + string(rune('a'+i%26)), Namespace: "ns-cap", Name: "s", CredentialHash: "hash-cap",
		})
	}
	hundred[0] = kubeletconfig.ImagePullSecret{UID: "uid-rot", Namespace: "ns-cap", Name: "rot", CredentialHash: "hash-old"}
	capped.CredentialMapping[repoApp] = kubeletconfig.ImagePullCredentials{KubernetesSecrets: mergeSecrets(nil, hundred)}
	longRecord := baseRecord()
	longRecord.CredentialMapping[repoApp] = kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{longS1}}
	emptyMapping := &kubeletconfig.ImagePulledRecord{LastUpdatedTime: metav1.NewTime(testStart), ImageRef: refA}
	rotatedS1 := secretS1
	rotatedS1.CredentialHash = "hash-rotated"

	tests := []struct {
		name      string
		policy    kubeletconfig.ImagePullCredentialsVerificationPolicy
		allowlist []string
		record    *kubeletconfig.ImagePulledRecord
		// brokenRecord writes refA's record file with content that does
		// not decode.
		brokenRecord bool
		intents      []string
		// brokenIntent writes a broken intent file for this image.
		brokenIntent string
		runtime      []RuntimeImage
		listErr      error
		notWritable  bool
		image        string
		imageRef     string
		secrets      []kubeletconfig.ImagePullSecret
		sa           *kubeletconfig.ImagePullServiceAccount
		credsErr     error
		wantRule     Rule
		wantMustPull bool
		check        func(t *testing.T, ex *Explanation)
	}{
		{
			name: "empty image ref", policy: kubeletconfig.AlwaysVerify, record: baseRecord(),
			image: "reg.example/team/app:1", imageRef: "",
			wantRule: RuleEmptyImageRef, wantMustPull: true,
			check: func(t *testing.T, ex *Explanation) {
				if ex.Record.File != "" || ex.Record.Found {
					t.Errorf("record %+v, want none without an image ref", ex.Record)
				}
			},
		},
		{
			name: "housekeeping pending", policy: kubeletconfig.NeverVerify,
			listErr: errors.New("runtime down"), image: "reg.example/team/app:1", imageRef: refA,
			wantRule: RuleHousekeepingPending, wantMustPull: true,
		},
		{
			name: "records not writable", policy: kubeletconfig.NeverVerify, notWritable: true,
			image: "reg.example/team/app:1", imageRef: refA,
			wantRule: RuleNotWritable, wantMustPull: true,
		},
		{
			name: "NeverVerify", policy: kubeletconfig.NeverVerify, record: baseRecord(),
			image: "reg.example/team/app:1", imageRef: refA,
			wantRule: RuleNeverVerify,
			check: func(t *testing.T, ex *Explanation) {
				if ex.Policy.Allowlist == nil {
					t.Error("allowlist is nil, want an empty list (JSON [])")
				}
				// Not consulted, but shown.
				if !ex.Record.Found || !ex.Entry.Found {
					t.Errorf("record %+v, entry %+v: want them shown", ex.Record, ex.Entry)
				}
			},
		},
		{
			name: "unparsable image", policy: kubeletconfig.AlwaysVerify,
			image: "Not A Valid::Image", imageRef: refA,
			wantRule: RuleUnparsableImage, wantMustPull: true,
			check: func(t *testing.T, ex *Explanation) {
				if ex.Repository != "" || ex.PulledByKubelet.Pulled {
					t.Errorf("repository %q, pulled %+v: want neither for an unparsable image", ex.Repository, ex.PulledByKubelet)
				}
			},
		},
		{
			name: "allowlisted by an exact entry", policy: kubeletconfig.NeverVerifyAllowlistedImages,
			allowlist: []string{repoOther, "reg.example/team/app2", "other.example/*"}, image: "reg.example/team/other:1.2", imageRef: refB,
			wantRule: RuleAllowlisted,
			check: func(t *testing.T, ex *Explanation) {
				want := PolicyExplanation{
					Name:           kubeletconfig.NeverVerifyAllowlistedImages,
					Allowlist:      []string{"other.example/*", "reg.example/team/app2", repoOther},
					AllowlistEntry: repoOther,
				}
				if diff := cmp.Diff(want, ex.Policy); diff != "" {
					t.Errorf("policy (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "allowlisted by a prefix entry", policy: kubeletconfig.NeverVerifyAllowlistedImages,
			allowlist: []string{"reg.example/team/*"}, image: "reg.example/team/deep/app:1", imageRef: refB,
			wantRule: RuleAllowlisted,
			check: func(t *testing.T, ex *Explanation) {
				if ex.Policy.AllowlistEntry != "reg.example/team/*" || !strings.Contains(ex.Why, `"reg.example/team/*"`) {
					t.Errorf("policy %+v, why %q: want the prefix entry named", ex.Policy, ex.Why)
				}
			},
		},
		{
			name: "allowlist near miss", policy: kubeletconfig.NeverVerifyAllowlistedImages,
			allowlist: []string{"reg.example/team/app2"}, record: baseRecord(), image: "reg.example/team/other:1", imageRef: refA,
			wantRule: RuleNoEntry, wantMustPull: true,
			check: func(t *testing.T, ex *Explanation) {
				if ex.Policy.AllowlistEntry != "" {
					t.Errorf("allowlist entry %q, want none", ex.Policy.AllowlistEntry)
				}
			},
		},
		{
			name: "poisoned record", policy: kubeletconfig.NeverVerifyPreloadedImages, brokenRecord: true,
			image: "reg.example/team/app:1", imageRef: refA,
			wantRule: RulePoisonedRecord, wantMustPull: true,
			check: func(t *testing.T, ex *Explanation) {
				if !ex.Record.Poisoned || ex.Record.Found || ex.Record.Error == "" || !strings.Contains(ex.Why, ex.Record.File) {
					t.Errorf("record %+v, why %q: want a poisoned file with its error", ex.Record, ex.Why)
				}
			},
		},
		{
			name: "preloaded name", policy: kubeletconfig.NeverVerifyPreloadedImages, record: baseRecord(),
			image: "reg.example/team/other:1", imageRef: refA,
			wantRule: RuleNotPulledByKubelet,
			check: func(t *testing.T, ex *Explanation) {
				if ex.PulledByKubelet.Pulled || ex.Entry.Found {
					t.Errorf("pulled %+v, entry %+v: want neither", ex.PulledByKubelet, ex.Entry)
				}
			},
		},
		{
			name: "pulled by the kubelet: empty mapping", policy: kubeletconfig.NeverVerifyPreloadedImages, record: emptyMapping,
			image: "reg.example/team/other:1", imageRef: refA,
			wantRule: RuleNoEntry, wantMustPull: true,
			check: func(t *testing.T, ex *Explanation) {
				want := PulledByKubeletExplanation{Pulled: true, Why: PulledByEmptyMapping, Intents: []IntentExplanation{}}
				if diff := cmp.Diff(want, ex.PulledByKubelet); diff != "" {
					t.Errorf("pulled by the kubelet (-want +got):\n%s", diff)
				}
				if !ex.Record.EmptyMapping {
					t.Errorf("record %+v, want an empty mapping", ex.Record)
				}
			},
		},
		{
			name: "pulled by the kubelet: an intent for another tag", policy: kubeletconfig.NeverVerifyPreloadedImages,
			intents: []string{"reg.example/team/other:2"}, image: "reg.example/team/other:1", imageRef: refB,
			wantRule: RuleNoEntry, wantMustPull: true,
			check: func(t *testing.T, ex *Explanation) {
				want := PulledByKubeletExplanation{Pulled: true, Why: PulledByIntent, Intents: []IntentExplanation{{
					File:  "image_manager/pulling/" + imagepullrecords.FileName("reg.example/team/other:2"),
					Image: "reg.example/team/other:2",
				}}}
				if diff := cmp.Diff(want, ex.PulledByKubelet); diff != "" {
					t.Errorf("pulled by the kubelet (-want +got):\n%s", diff)
				}
				if ex.Record.Found || !strings.Contains(ex.Why, "no record") {
					t.Errorf("record %+v, why %q: want no record", ex.Record, ex.Why)
				}
			},
		},
		{
			name: "pulled by the kubelet: a broken intent of the image", policy: kubeletconfig.NeverVerifyPreloadedImages,
			brokenIntent: "reg.example/team/other:1", image: "reg.example/team/other:1", imageRef: refB,
			wantRule: RuleNoEntry, wantMustPull: true,
			check: func(t *testing.T, ex *Explanation) {
				want := PulledByKubeletExplanation{Pulled: true, Why: PulledByIntent, Intents: []IntentExplanation{{
					File: "image_manager/pulling/" + imagepullrecords.FileName("reg.example/team/other:1"), Broken: true,
				}}}
				if diff := cmp.Diff(want, ex.PulledByKubelet); diff != "" {
					t.Errorf("pulled by the kubelet (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "pulled by the kubelet: an intent start-up housekeeping resolves", policy: kubeletconfig.NeverVerifyPreloadedImages,
			intents: []string{"reg.example/team/other:1"},
			runtime: []RuntimeImage{{ID: refB, RepoTags: []string{"reg.example/team/other:1"}}},
			image:   "reg.example/team/other:1", imageRef: refB,
			wantRule: RuleEmptyEntry, wantMustPull: true,
			check: func(t *testing.T, ex *Explanation) {
				want := PulledByKubeletExplanation{Pulled: true, Why: PulledByEntry, Intents: []IntentExplanation{{
					File: "image_manager/pulling/" + imagepullrecords.FileName("reg.example/team/other:1"), Image: "reg.example/team/other:1", ResolvedAtStartup: true,
				}}}
				if diff := cmp.Diff(want, ex.PulledByKubelet); diff != "" {
					t.Errorf("pulled by the kubelet (-want +got):\n%s", diff)
				}
				if !ex.Record.Found || ex.Record.OnDisk || !ex.Entry.Found || ex.Entry.OnDisk {
					t.Errorf("record %+v, entry %+v: want both in memory only", ex.Record, ex.Entry)
				}
			},
		},
		{
			name: "no entry under AlwaysVerify", policy: kubeletconfig.AlwaysVerify, record: baseRecord(),
			image: "reg.example/team/other:1", imageRef: refA,
			wantRule: RuleNoEntry, wantMustPull: true,
			check: func(t *testing.T, ex *Explanation) {
				if !ex.Record.Found || !ex.Record.OnDisk || ex.Entry.Found || !strings.Contains(ex.Why, repoApp) {
					t.Errorf("record %+v, entry %+v, why %q: want the record's names and no entry", ex.Record, ex.Entry, ex.Why)
				}
				if diff := cmp.Diff([]string{repoBusy, repoApp, repoEmpty}, ex.Record.Repositories); diff != "" {
					t.Errorf("repositories (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "nodePodsAccessible", policy: kubeletconfig.AlwaysVerify, record: baseRecord(),
			image: "busybox:1.36", imageRef: refA,
			wantRule: RuleNodePodsAccessible,
			check: func(t *testing.T, ex *Explanation) {
				if ex.Repository != repoBusy || !ex.Entry.NodePodsAccessible || !ex.Entry.OnDisk || ex.Credentials.Resolved {
					t.Errorf("repository %q, entry %+v, credentials %+v", ex.Repository, ex.Entry, ex.Credentials)
				}
			},
		},
		{
			name: "empty entry", policy: kubeletconfig.NeverVerifyPreloadedImages, record: baseRecord(),
			image: "reg.example/team/empty:1", imageRef: refA, secrets: []kubeletconfig.ImagePullSecret{secretS1},
			wantRule: RuleEmptyEntry, wantMustPull: true,
			check: func(t *testing.T, ex *Explanation) {
				if ex.Credentials.Resolved || !ex.PulledByKubelet.Pulled || ex.PulledByKubelet.Why != PulledByEntry {
					t.Errorf("credentials %+v, pulled %+v", ex.Credentials, ex.PulledByKubelet)
				}
			},
		},
		{
			name: "credentials error", policy: kubeletconfig.AlwaysVerify, record: baseRecord(),
			image: "reg.example/team/app:1", imageRef: refA, credsErr: errors.New("secret ns-x/s1 cannot be parsed"),
			wantRule: RuleCredentialsError, wantMustPull: true,
			check: func(t *testing.T, ex *Explanation) {
				if !ex.Credentials.Resolved || !strings.Contains(ex.Credentials.Error, "ns-x/s1") || !strings.Contains(ex.Why, "ns-x/s1") {
					t.Errorf("credentials %+v, why %q", ex.Credentials, ex.Why)
				}
			},
		},
		{
			name: "the recorded Secret", policy: kubeletconfig.AlwaysVerify, record: longRecord,
			image: "reg.example/team/app:1", imageRef: refA, secrets: []kubeletconfig.ImagePullSecret{longS1},
			wantRule: RuleSecretHash,
			check: func(t *testing.T, ex *Explanation) {
				pod := []SecretExplanation{{UID: "uid-l1", Namespace: "ns-x", Name: "l1", CredentialHash: longHash1[:8], Match: MatchHash, Decided: true}}
				if diff := cmp.Diff(pod, ex.Credentials.KubernetesSecrets); diff != "" {
					t.Errorf("pod secrets (-want +got):\n%s", diff)
				}
				recorded := []SecretExplanation{{UID: "uid-l1", Namespace: "ns-x", Name: "l1", CredentialHash: longHash1[:8], Match: MatchHash}}
				if diff := cmp.Diff(recorded, ex.Entry.KubernetesSecrets); diff != "" {
					t.Errorf("recorded secrets (-want +got):\n%s", diff)
				}
				if ex.Credentials.WriteBack != "" {
					t.Errorf("write-back %q, want none for a Secret on record", ex.Credentials.WriteBack)
				}
			},
		},
		{
			name: "another Secret with the same content", policy: kubeletconfig.AlwaysVerify, record: longRecord,
			image: "reg.example/team/app:1", imageRef: refA, secrets: []kubeletconfig.ImagePullSecret{longS2},
			wantRule: RuleSecretHash,
			check: func(t *testing.T, ex *Explanation) {
				if ex.Credentials.WriteBack != WriteBackAddCoordinates || !strings.Contains(ex.Why, "ns-x/l2") || !strings.Contains(ex.Why, "would add") {
					t.Errorf("write-back %q, why %q: want the coordinates added", ex.Credentials.WriteBack, ex.Why)
				}
			},
		},
		{
			name: "hash match past the cap", policy: kubeletconfig.AlwaysVerify, record: capped,
			image: "reg.example/team/app:1", imageRef: refA,
			secrets:  []kubeletconfig.ImagePullSecret{{UID: "uid-new", Namespace: "ns-new", Name: "n", CredentialHash: "hash-cap"}},
			wantRule: RuleSecretHash,
			check: func(t *testing.T, ex *Explanation) {
				if !ex.Credentials.CapReached || ex.Credentials.WriteBack != "" || !strings.Contains(ex.Why, "without adding") {
					t.Errorf("credentials %+v, why %q", ex.Credentials, ex.Why)
				}
			},
		},
		{
			name: "rotated Secret", policy: kubeletconfig.AlwaysVerify, record: baseRecord(),
			image: "reg.example/team/app:1", imageRef: refA, secrets: []kubeletconfig.ImagePullSecret{rotatedS1},
			wantRule: RuleSecretCoordinates,
			check: func(t *testing.T, ex *Explanation) {
				if ex.Credentials.WriteBack != WriteBackStoreHash || ex.Credentials.KubernetesSecrets[0].Match != MatchCoordinates ||
					ex.Entry.KubernetesSecrets[0].Match != MatchCoordinates {
					t.Errorf("credentials %+v, entry %+v", ex.Credentials, ex.Entry)
				}
			},
		},
		{
			name: "rotation past the cap", policy: kubeletconfig.AlwaysVerify, record: capped,
			image: "reg.example/team/app:1", imageRef: refA,
			secrets:  []kubeletconfig.ImagePullSecret{{UID: "uid-rot", Namespace: "ns-cap", Name: "rot", CredentialHash: "hash-new"}},
			wantRule: RuleNoMatch, wantMustPull: true,
			check: func(t *testing.T, ex *Explanation) {
				if !ex.Credentials.CapReached || !strings.Contains(ex.Why, "step 9") {
					t.Errorf("credentials %+v, why %q: want the cap named", ex.Credentials, ex.Why)
				}
			},
		},
		{
			name: "service account on record", policy: kubeletconfig.AlwaysVerify, record: baseRecord(),
			image: "reg.example/team/app:1", imageRef: refA, sa: &serviceAcct,
			wantRule: RuleServiceAccount,
			check: func(t *testing.T, ex *Explanation) {
				want := &ServiceAccountExplanation{UID: "uid-sa", Namespace: "ns-y", Name: "builder", Match: true}
				if diff := cmp.Diff(want, ex.Credentials.KubernetesServiceAccount); diff != "" {
					t.Errorf("service account (-want +got):\n%s", diff)
				}
				if !ex.Entry.KubernetesServiceAccounts[0].Match {
					t.Errorf("entry %+v: want the recorded account marked", ex.Entry)
				}
			},
		},
		{
			name: "service account with another UID", policy: kubeletconfig.AlwaysVerify, record: baseRecord(),
			image: "reg.example/team/app:1", imageRef: refA,
			sa:       &kubeletconfig.ImagePullServiceAccount{UID: "uid-sa-2", Namespace: "ns-y", Name: "builder"},
			wantRule: RuleNoMatch, wantMustPull: true,
			check: func(t *testing.T, ex *Explanation) {
				if ex.Credentials.KubernetesServiceAccount == nil || ex.Credentials.KubernetesServiceAccount.Match {
					t.Errorf("service account %+v, want one that does not match", ex.Credentials.KubernetesServiceAccount)
				}
			},
		},
		{
			name: "no credentials", policy: kubeletconfig.NeverVerifyPreloadedImages, record: baseRecord(),
			image: "reg.example/team/app:1", imageRef: refA,
			wantRule: RuleNoMatch, wantMustPull: true,
			check: func(t *testing.T, ex *Explanation) {
				if !ex.Credentials.Resolved || len(ex.Credentials.KubernetesSecrets) != 0 || !strings.Contains(ex.Why, "presented no") {
					t.Errorf("credentials %+v, why %q", ex.Credentials, ex.Why)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			if tc.record != nil {
				env.writeRecord(t, tc.record)
			}
			if tc.brokenRecord {
				env.writeRaw(t, imagepullrecords.RecordsDirName, refA, "{not json")
			}
			for _, image := range tc.intents {
				env.writeIntent(t, image)
			}
			if tc.brokenIntent != "" {
				env.writeRaw(t, imagepullrecords.IntentsDirName, tc.brokenIntent, `{"kind":"ImagePullIntent"`)
			}
			env.lister.set(tc.runtime, tc.listErr)
			// The manager dir exists before the snapshot, as after any run.
			_ = env.store(t)
			before := treeOf(t, env.root)

			ro := env.startReadOnly(t, tc.policy, tc.allowlist...)
			if tc.notWritable {
				ro.(*fileBackedManager).notWritable.Store(true)
			}
			ex := &Explanation{}
			creds, _ := podCreds(tc.secrets, tc.sa, tc.credsErr)
			got, err := ro.MustAttemptImagePull(WithExplanation(testContext(t), ex), tc.image, tc.imageRef, creds)
			if (err != nil) != (tc.credsErr != nil) {
				t.Fatalf("error %v, want an error: %v", err, tc.credsErr != nil)
			}
			if got.MustPull != tc.wantMustPull || ex.Rule != tc.wantRule {
				t.Fatalf("decision %+v, rule %q; want MustPull=%v, rule %q (why: %s)", got, ex.Rule, tc.wantMustPull, tc.wantRule, ex.Why)
			}
			if ex.Step != tc.wantRule.Step() || ex.MustPull != got.MustPull || ex.ImageRef != tc.imageRef || ex.Why == "" {
				t.Errorf("explanation %+v: want step %d, mustPull %v, imageRef %q and a reason", ex, tc.wantRule.Step(), got.MustPull, tc.imageRef)
			}
			if tc.imageRef != "" && ex.Record.File != "image_manager/pulled/"+imagepullrecords.FileName(tc.imageRef) {
				t.Errorf("record file %q", ex.Record.File)
			}
			if tc.check != nil {
				tc.check(t, ex)
			}
			data, err := json.Marshal(ex)
			if err != nil {
				t.Fatal(err)
			}
			for _, full := range []string{longHash1, longHash2} {
				if strings.Contains(string(data), full) {
					t.Errorf("explanation %s holds a full credential hash", data)
				}
			}
			if diff := cmp.Diff(before, treeOf(t, env.root)); diff != "" {
				t.Errorf("explaining changed the root dir (-before +after):\n%s", diff)
			}
			if err := ro.Close(); err != nil {
				t.Fatal(err)
			}

			// The kubelet's manager, over the same files, decides the same
			// and explains nothing.
			rw := env.start(t, tc.policy, tc.allowlist...)
			if tc.notWritable {
				rw.(*fileBackedManager).notWritable.Store(true)
			}
			ignored := &Explanation{}
			creds, _ = podCreds(tc.secrets, tc.sa, tc.credsErr)
			want, _ := rw.MustAttemptImagePull(WithExplanation(testContext(t), ignored), tc.image, tc.imageRef, creds)
			if got != want {
				t.Errorf("explained decision %+v, the writable manager's %+v", got, want)
			}
			if ignored.Rule != "" {
				t.Errorf("a writable manager filled an explanation: %+v", ignored)
			}
		})
	}
}

// TestExplainRuleSteps checks that every rule has the step of the package
// documentation.
func TestExplainRuleSteps(t *testing.T) {
	want := map[Rule]int{
		RuleHousekeepingPending: 0, RuleNotWritable: 0, RuleEmptyImageRef: 1,
		RuleNeverVerify: 2, RuleUnparsableImage: 2, RuleAllowlisted: 2, RulePoisonedRecord: 3,
		RuleNotPulledByKubelet: 4, RuleNoEntry: 5, RuleNodePodsAccessible: 5, RuleEmptyEntry: 5,
		RuleCredentialsError: 6, RuleSecretHash: 7, RuleSecretCoordinates: 8, RuleServiceAccount: 10, RuleNoMatch: 11,
	}
	for rule, step := range want {
		if got := rule.Step(); got != step {
			t.Errorf("%s: step %d, want %d", rule, got, step)
		}
	}
}
