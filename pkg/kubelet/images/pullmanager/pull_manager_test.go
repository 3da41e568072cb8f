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
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/component-base/metrics/testutil"
	"k8s.io/imagepullrecords"
	"k8s.io/klog/v2/ktesting"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	kubeletconfigv1beta1 "k8s.io/kubernetes/pkg/kubelet/apis/config/v1beta1"
	clocktesting "k8s.io/utils/clock/testing"
)

const (
	refA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	refB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

	repoApp   = "reg.example/team/app"
	repoOther = "reg.example/team/other"
	repoEmpty = "reg.example/team/empty"
	repoBusy  = "docker.io/library/busybox"
)

var (
	secretS1    = kubeletconfig.ImagePullSecret{UID: "uid-s1", Namespace: "ns-x", Name: "s1", CredentialHash: "hash-1"}
	secretS2    = kubeletconfig.ImagePullSecret{UID: "uid-s2", Namespace: "ns-x", Name: "s2", CredentialHash: "hash-1"}
	serviceAcct = kubeletconfig.ImagePullServiceAccount{UID: "uid-sa", Namespace: "ns-y", Name: "builder"}
	testStart   = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

// fakeLister is a runtime whose images the test sets.
type fakeLister struct {
	mu     sync.Mutex
	images []RuntimeImage
	err    error
	calls  int
}

func (f *fakeLister) ListImages(context.Context) ([]RuntimeImage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return f.images, nil
}

func (f *fakeLister) set(images []RuntimeImage, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.images, f.err = images, err
}

// faultFS fails chosen operations of the real filesystem.
type faultFS struct {
	imagepullrecords.FS
	mu sync.Mutex
	// failRename fails renames whose target contains this substring.
	failRename string
	// failCreateTemp fails temporaries created in dirs containing this substring.
	failCreateTemp string
	// failRemove fails removals of paths containing this substring.
	failRemove string
}

var errInjected = errors.New("injected fault")

func (f *faultFS) match(pattern, path string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return pattern != "" && strings.Contains(path, pattern)
}

func (f *faultFS) Rename(oldpath, newpath string) error {
	if f.match(f.failRename, newpath) {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: errInjected}
	}
	return f.FS.Rename(oldpath, newpath)
}

func (f *faultFS) CreateTemp(dir, pattern string) (imagepullrecords.File, error) {
	if f.match(f.failCreateTemp, dir) {
		return nil, &os.PathError{Op: "createtemp", Path: dir, Err: errInjected}
	}
	return f.FS.CreateTemp(dir, pattern)
}

func (f *faultFS) Remove(path string) error {
	if f.match(f.failRemove, path) {
		return &os.PathError{Op: "remove", Path: path, Err: errInjected}
	}
	return f.FS.Remove(path)
}

func (f *faultFS) set(fn func(*faultFS)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

type testEnv struct {
	root   string
	clock  *clocktesting.FakeClock
	lister *fakeLister
	fs     *faultFS
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	return &testEnv{
		root:   t.TempDir(),
		clock:  clocktesting.NewFakeClock(testStart),
		lister: &fakeLister{},
		fs:     &faultFS{FS: imagepullrecords.OS},
	}
}

func (e *testEnv) start(t *testing.T, policy kubeletconfig.ImagePullCredentialsVerificationPolicy, allowlist ...string) Manager {
	t.Helper()
	ctx := testContext(t)
	m, err := NewFileBackedPullManager(ctx, Options{
		RootDir:                e.root,
		FS:                     e.fs,
		Policy:                 policy,
		Allowlist:              allowlist,
		ImageLister:            e.lister,
		Clock:                  e.clock,
		HousekeepingAttempts:   1,
		HousekeepingRetryDelay: time.Millisecond,
	})
	if err != nil {
		t.Fatalf("starting pull manager: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func (e *testEnv) store(t *testing.T) *imagepullrecords.Store {
	t.Helper()
	s, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: filepath.Join(e.root, imagepullrecords.ManagerDirName)})
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	return s
}

func (e *testEnv) writeRecord(t *testing.T, rec *kubeletconfig.ImagePulledRecord) {
	t.Helper()
	out := &kubeletv1beta1.ImagePulledRecord{}
	if err := kubeletconfigv1beta1.Convert_config_ImagePulledRecord_To_v1beta1_ImagePulledRecord(rec, out); err != nil {
		t.Fatal(err)
	}
	if err := e.store(t).WriteRecord(out); err != nil {
		t.Fatalf("writing record: %v", err)
	}
}

func (e *testEnv) writeIntent(t *testing.T, image string) {
	t.Helper()
	if err := e.store(t).WriteIntent(&kubeletv1beta1.ImagePullIntent{Image: image}); err != nil {
		t.Fatalf("writing intent: %v", err)
	}
}

func (e *testEnv) writeRaw(t *testing.T, dir, key, content string) string {
	t.Helper()
	path := filepath.Join(e.root, imagepullrecords.ManagerDirName, dir, imagepullrecords.FileName(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readRecord reads the record of ref from disk, nil when absent.
func (e *testEnv) readRecord(t *testing.T, ref string) *kubeletconfig.ImagePulledRecord {
	t.Helper()
	rec, err := e.store(t).ReadRecord(ref)
	if err != nil {
		t.Fatalf("reading record %s: %v", ref, err)
	}
	if rec == nil {
		return nil
	}
	out := &kubeletconfig.ImagePulledRecord{}
	if err := kubeletconfigv1beta1.Convert_v1beta1_ImagePulledRecord_To_config_ImagePulledRecord(rec, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *testEnv) intentExists(t *testing.T, image string) bool {
	t.Helper()
	_, err := os.Lstat(filepath.Join(e.root, imagepullrecords.ManagerDirName, imagepullrecords.IntentsDirName, imagepullrecords.FileName(image)))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// baseRecord is the record most decision tests start from.
func baseRecord() *kubeletconfig.ImagePulledRecord {
	return &kubeletconfig.ImagePulledRecord{
		LastUpdatedTime: metav1.NewTime(testStart.Add(-time.Hour)),
		ImageRef:        refA,
		CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
			repoApp: {
				KubernetesSecrets:         []kubeletconfig.ImagePullSecret{secretS1},
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{serviceAcct},
			},
			repoBusy:  {NodePodsAccessible: true},
			repoEmpty: {},
		},
	}
}

// podCreds returns a credential callback and a counter of its calls.
func podCreds(secrets []kubeletconfig.ImagePullSecret, sa *kubeletconfig.ImagePullServiceAccount, err error) (GetPodCredentials, *int) {
	calls := 0
	return func() ([]kubeletconfig.ImagePullSecret, *kubeletconfig.ImagePullServiceAccount, error) {
		calls++
		return secrets, sa, err
	}, &calls
}

func checkCount(t *testing.T, result CheckResult) float64 {
	t.Helper()
	return float64(MustPullChecksValue(result))
}

func TestMustAttemptImagePull(t *testing.T) {
	capped := baseRecord()
	var hundred []kubeletconfig.ImagePullSecret
	for i := 0; i < maxSecretsPerEntry; i++ {
		hundred = append(hundred, kubeletconfig.ImagePullSecret{
			UID: "uid-" + string(rune('a'+i/26)) + string(rune('a'+i%26)), Namespace: "ns-cap", Name: "s", CredentialHash: "hash-cap",
		})
	}
	hundred[0] = kubeletconfig.ImagePullSecret{UID: "uid-rot", Namespace: "ns-cap", Name: "rot", CredentialHash: "hash-old"}
	capped.CredentialMapping[repoApp] = kubeletconfig.ImagePullCredentials{KubernetesSecrets: mergeSecrets(nil, hundred)}

	emptyMapping := &kubeletconfig.ImagePulledRecord{LastUpdatedTime: metav1.NewTime(testStart), ImageRef: refA}
	rotatedS1 := secretS1
	rotatedS1.CredentialHash = "hash-rotated"
	recreatedS1 := secretS1
	recreatedS1.UID, recreatedS1.CredentialHash = "uid-s1-new", "hash-refused"
	otherValid := kubeletconfig.ImagePullSecret{UID: "uid-s3", Namespace: "ns-x", Name: "s3", CredentialHash: "hash-3"}

	tests := []struct {
		name          string
		policy        kubeletconfig.ImagePullCredentialsVerificationPolicy
		allowlist     []string
		record        *kubeletconfig.ImagePulledRecord
		intents       []string
		image         string
		imageRef      string
		secrets       []kubeletconfig.ImagePullSecret
		sa            *kubeletconfig.ImagePullServiceAccount
		credsErr      error
		wantMustPull  bool
		wantVerif     Verification
		wantResult    CheckResult
		wantErr       bool
		wantCredCalls int
		// wantEntry, when set, is the entry for repo(image) on disk afterwards.
		wantEntry *kubeletconfig.ImagePullCredentials
	}{
		{
			name: "1 empty image ref", policy: kubeletconfig.NeverVerify, record: baseRecord(),
			image: "reg.example/team/app:1", imageRef: "",
			wantMustPull: true, wantVerif: VerificationMustPull, wantResult: CheckResultMustAuthenticate,
		},
		{
			name: "2 NeverVerify admits before any record", policy: kubeletconfig.NeverVerify,
			image: "reg.example/nothing:1", imageRef: refB,
			wantVerif: VerificationPolicy, wantResult: CheckResultPolicyAllowed,
		},
		{
			name: "2 NeverVerify admits even an unparsable image", policy: kubeletconfig.NeverVerify,
			image: "Not A Valid::Image", imageRef: refB,
			wantVerif: VerificationPolicy, wantResult: CheckResultPolicyAllowed,
		},
		{
			name: "2 allowlisted exact entry, tagged image", policy: kubeletconfig.NeverVerifyAllowlistedImages,
			allowlist: []string{repoOther}, record: baseRecord(),
			image: "reg.example/team/other:1.2", imageRef: refA,
			wantVerif: VerificationPolicy, wantResult: CheckResultPolicyAllowed,
		},
		{
			name: "2 allowlisted prefix entry", policy: kubeletconfig.NeverVerifyAllowlistedImages,
			allowlist: []string{"reg.example/*"},
			image:     "reg.example/team/deep/app@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", imageRef: refB,
			wantVerif: VerificationPolicy, wantResult: CheckResultPolicyAllowed,
		},
		{
			name: "2 allowlist near miss must verify", policy: kubeletconfig.NeverVerifyAllowlistedImages,
			allowlist: []string{"reg.example/team/app2"}, record: baseRecord(),
			image: "reg.example/team/other:1", imageRef: refA,
			wantMustPull: true, wantVerif: VerificationMustPull, wantResult: CheckResultMustAuthenticate,
		},
		{
			name: "2 allowlist policy verifies preloaded images too", policy: kubeletconfig.NeverVerifyAllowlistedImages,
			allowlist: []string{"reg.example/team/app2"},
			image:     "reg.example/preloaded:1", imageRef: refB,
			wantMustPull: true, wantVerif: VerificationMustPull, wantResult: CheckResultMustAuthenticate,
		},
		{
			name: "2 unparsable image under AlwaysVerify", policy: kubeletconfig.AlwaysVerify, record: baseRecord(),
			image: "Not A Valid::Image", imageRef: refA,
			wantMustPull: true, wantVerif: VerificationMustPull, wantResult: CheckResultError,
		},
		{
			name: "4 preloaded name admitted under the default policy", policy: kubeletconfig.NeverVerifyPreloadedImages,
			image: "reg.example/preloaded:1", imageRef: refB,
			wantVerif: VerificationNotPulledByKubelet, wantResult: CheckResultPolicyAllowed,
		},
		{
			name: "4 same image ID under another name stays preloaded", policy: kubeletconfig.NeverVerifyPreloadedImages,
			record: baseRecord(), image: "reg.example/team/other:1", imageRef: refA,
			wantVerif: VerificationNotPulledByKubelet, wantResult: CheckResultPolicyAllowed,
		},
		{
			name: "4 same image ID under another name verified under AlwaysVerify", policy: kubeletconfig.AlwaysVerify,
			record: baseRecord(), image: "reg.example/team/other:1", imageRef: refA,
			wantMustPull: true, wantVerif: VerificationMustPull, wantResult: CheckResultMustAuthenticate,
		},
		{
			name: "4 empty mapping counts as pulled under every name", policy: kubeletconfig.NeverVerifyPreloadedImages,
			record: emptyMapping, image: "reg.example/team/other:1", imageRef: refA,
			wantMustPull: true, wantVerif: VerificationMustPull, wantResult: CheckResultMustAuthenticate,
		},
		{
			name: "4 an intent for another tag of the name counts", policy: kubeletconfig.NeverVerifyPreloadedImages,
			intents: []string{"reg.example/team/other:2"},
			image:   "reg.example/team/other:1", imageRef: refB,
			wantMustPull: true, wantVerif: VerificationMustPull, wantResult: CheckResultMustAuthenticate,
		},
		{
			name: "4 an intent in familiar form counts", policy: kubeletconfig.NeverVerifyPreloadedImages,
			intents: []string{"busybox:1.35"},
			image:   "docker.io/library/busybox:1.36", imageRef: refB,
			wantMustPull: true, wantVerif: VerificationMustPull, wantResult: CheckResultMustAuthenticate,
		},
		{
			name: "5 nodePodsAccessible admits without credentials", policy: kubeletconfig.AlwaysVerify,
			record: baseRecord(), image: "busybox:1.36", imageRef: refA,
			wantVerif: VerificationNodeAccessible, wantResult: CheckResultRecordFound,
		},
		{
			name: "5 empty entry grants nothing", policy: kubeletconfig.NeverVerifyPreloadedImages,
			record: baseRecord(), image: "reg.example/team/empty:1", imageRef: refA,
			secrets:      []kubeletconfig.ImagePullSecret{secretS1},
			wantMustPull: true, wantVerif: VerificationMustPull, wantResult: CheckResultMustAuthenticate,
		},
		{
			name: "6 credential resolution error", policy: kubeletconfig.AlwaysVerify,
			record: baseRecord(), image: "reg.example/team/app:1", imageRef: refA,
			credsErr:     errors.New("secret ns-x/s1 cannot be parsed"),
			wantMustPull: true, wantVerif: VerificationMustPull, wantResult: CheckResultError, wantErr: true, wantCredCalls: 1,
		},
		{
			name: "7 same Secret", policy: kubeletconfig.AlwaysVerify,
			record: baseRecord(), image: "reg.example/team/app:1", imageRef: refA,
			secrets:   []kubeletconfig.ImagePullSecret{secretS1},
			wantVerif: VerificationSecretHash, wantResult: CheckResultRecordFound, wantCredCalls: 1,
			wantEntry: &kubeletconfig.ImagePullCredentials{
				KubernetesSecrets:         []kubeletconfig.ImagePullSecret{secretS1},
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{serviceAcct},
			},
		},
		{
			name: "7 another Secret with the same content gains its coordinates", policy: kubeletconfig.AlwaysVerify,
			record: baseRecord(), image: "reg.example/team/app:1", imageRef: refA,
			secrets:   []kubeletconfig.ImagePullSecret{secretS2},
			wantVerif: VerificationSecretHash, wantResult: CheckResultRecordFound, wantCredCalls: 1,
			wantEntry: &kubeletconfig.ImagePullCredentials{
				KubernetesSecrets:         []kubeletconfig.ImagePullSecret{secretS1, secretS2},
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{serviceAcct},
			},
		},
		{
			name: "7 past the cap a hash match is accepted without a write", policy: kubeletconfig.AlwaysVerify,
			record: capped, image: "reg.example/team/app:1", imageRef: refA,
			secrets:   []kubeletconfig.ImagePullSecret{{UID: "uid-new", Namespace: "ns-new", Name: "n", CredentialHash: "hash-cap"}},
			wantVerif: VerificationSecretHash, wantResult: CheckResultRecordFound, wantCredCalls: 1,
			wantEntry: &kubeletconfig.ImagePullCredentials{KubernetesSecrets: mergeSecrets(nil, hundred)},
		},
		{
			name: "8 rotated Secret is admitted and its new hash stored", policy: kubeletconfig.AlwaysVerify,
			record: baseRecord(), image: "reg.example/team/app:1", imageRef: refA,
			secrets:   []kubeletconfig.ImagePullSecret{rotatedS1},
			wantVerif: VerificationSecretCoordinates, wantResult: CheckResultRecordFound, wantCredCalls: 1,
			wantEntry: &kubeletconfig.ImagePullCredentials{
				KubernetesSecrets:         []kubeletconfig.ImagePullSecret{rotatedS1},
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{serviceAcct},
			},
		},
		{
			name: "8 empty recorded hash takes the pod's hash", policy: kubeletconfig.AlwaysVerify,
			record: func() *kubeletconfig.ImagePulledRecord {
				r := baseRecord()
				unknown := secretS1
				unknown.CredentialHash = ""
				r.CredentialMapping[repoApp] = kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{unknown}}
				return r
			}(),
			image: "reg.example/team/app:1", imageRef: refA,
			secrets:   []kubeletconfig.ImagePullSecret{secretS1},
			wantVerif: VerificationSecretCoordinates, wantResult: CheckResultRecordFound, wantCredCalls: 1,
			wantEntry: &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1}},
		},
		{
			name: "8 most specific credential's hash is stored", policy: kubeletconfig.AlwaysVerify,
			record: baseRecord(), image: "reg.example/team/app:1", imageRef: refA,
			secrets: []kubeletconfig.ImagePullSecret{rotatedS1, func() kubeletconfig.ImagePullSecret {
				s := secretS1
				s.CredentialHash = "hash-less-specific"
				return s
			}()},
			wantVerif: VerificationSecretCoordinates, wantResult: CheckResultRecordFound, wantCredCalls: 1,
			wantEntry: &kubeletconfig.ImagePullCredentials{
				KubernetesSecrets:         []kubeletconfig.ImagePullSecret{rotatedS1},
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{serviceAcct},
			},
		},
		{
			name: "9 past the cap a rotation is refused", policy: kubeletconfig.AlwaysVerify,
			record: capped, image: "reg.example/team/app:1", imageRef: refA,
			secrets:      []kubeletconfig.ImagePullSecret{{UID: "uid-rot", Namespace: "ns-cap", Name: "rot", CredentialHash: "hash-new"}},
			wantMustPull: true, wantVerif: VerificationMustPull, wantResult: CheckResultMustAuthenticate, wantCredCalls: 1,
			wantEntry: &kubeletconfig.ImagePullCredentials{KubernetesSecrets: mergeSecrets(nil, hundred)},
		},
		{
			name: "recreated Secret (new UID) with other content must pull", policy: kubeletconfig.NeverVerifyPreloadedImages,
			record: baseRecord(), image: "reg.example/team/app:1", imageRef: refA,
			secrets:      []kubeletconfig.ImagePullSecret{recreatedS1},
			wantMustPull: true, wantVerif: VerificationMustPull, wantResult: CheckResultMustAuthenticate, wantCredCalls: 1,
		},
		{
			name: "other valid credentials must pull", policy: kubeletconfig.NeverVerifyAllowlistedImages,
			record: baseRecord(), image: "reg.example/team/app:1", imageRef: refA,
			secrets:      []kubeletconfig.ImagePullSecret{otherValid},
			wantMustPull: true, wantVerif: VerificationMustPull, wantResult: CheckResultMustAuthenticate, wantCredCalls: 1,
		},
		{
			name: "10 service account on record", policy: kubeletconfig.AlwaysVerify,
			record: baseRecord(), image: "reg.example/team/app:1", imageRef: refA,
			sa:        &kubeletconfig.ImagePullServiceAccount{UID: "uid-sa", Namespace: "ns-y", Name: "builder"},
			wantVerif: VerificationServiceAccount, wantResult: CheckResultRecordFound, wantCredCalls: 1,
		},
		{
			name: "10 service account with another UID", policy: kubeletconfig.AlwaysVerify,
			record: baseRecord(), image: "reg.example/team/app:1", imageRef: refA,
			sa:           &kubeletconfig.ImagePullServiceAccount{UID: "uid-sa-2", Namespace: "ns-y", Name: "builder"},
			wantMustPull: true, wantVerif: VerificationMustPull, wantResult: CheckResultMustAuthenticate, wantCredCalls: 1,
		},
		{
			name: "11 no credentials", policy: kubeletconfig.NeverVerifyPreloadedImages,
			record: baseRecord(), image: "reg.example/team/app:1", imageRef: refA,
			wantMustPull: true, wantVerif: VerificationMustPull, wantResult: CheckResultMustAuthenticate, wantCredCalls: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			if tc.record != nil {
				env.writeRecord(t, tc.record)
			}
			for _, image := range tc.intents {
				env.writeIntent(t, image)
			}
			m := env.start(t, tc.policy, tc.allowlist...)
			before := checkCount(t, tc.wantResult)
			creds, calls := podCreds(tc.secrets, tc.sa, tc.credsErr)

			got, err := m.MustAttemptImagePull(testContext(t), tc.image, tc.imageRef, creds)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", err, tc.wantErr)
			}
			want := Decision{MustPull: tc.wantMustPull, Verification: tc.wantVerif}
			if got != want {
				t.Errorf("decision = %+v, want %+v", got, want)
			}
			if after := checkCount(t, tc.wantResult); after != before+1 {
				t.Errorf("metric result %q went from %v to %v, want +1", tc.wantResult, before, after)
			}
			if *calls != tc.wantCredCalls {
				t.Errorf("pod credentials resolved %d times, want %d", *calls, tc.wantCredCalls)
			}
			if tc.wantEntry != nil {
				rec := env.readRecord(t, tc.imageRef)
				repo, _ := m.(*fileBackedManager).repo(tc.image)
				if diff := cmp.Diff(*tc.wantEntry, rec.CredentialMapping[repo]); diff != "" {
					t.Errorf("entry on disk (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestPullInFlightCountsAsPulledByKubelet(t *testing.T) {
	env := newTestEnv(t)
	m := env.start(t, kubeletconfig.NeverVerifyPreloadedImages)
	ctx := testContext(t)
	creds, _ := podCreds(nil, nil, nil)

	if d, _ := m.MustAttemptImagePull(ctx, "reg.example/team/app:2", refB, creds); d.MustPull {
		t.Fatalf("before any pull the name must look preloaded, got %+v", d)
	}
	if err := m.RecordPullIntent(ctx, "reg.example/team/app:1"); err != nil {
		t.Fatal(err)
	}
	if d, _ := m.MustAttemptImagePull(ctx, "reg.example/team/app:2", refB, creds); !d.MustPull {
		t.Errorf("with a pull of the name in flight, the name must not look preloaded, got %+v", d)
	}
	m.RecordImagePullFailed(ctx, "reg.example/team/app:1")
	if env.intentExists(t, "reg.example/team/app:1") {
		t.Errorf("intent left after the only pull failed")
	}
	if d, _ := m.MustAttemptImagePull(ctx, "reg.example/team/app:2", refB, creds); d.MustPull {
		t.Errorf("after the failed pull ended, the name must look preloaded again, got %+v", d)
	}
}

func TestIntentProtocol(t *testing.T) {
	const image = "reg.example/team/app:1"
	creds := &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1}}

	t.Run("concurrent pulls keep the intent until the last ends", func(t *testing.T) {
		env := newTestEnv(t)
		m := env.start(t, kubeletconfig.AlwaysVerify)
		ctx := testContext(t)
		for i := 0; i < 2; i++ {
			if err := m.RecordPullIntent(ctx, image); err != nil {
				t.Fatal(err)
			}
		}
		if !env.intentExists(t, image) {
			t.Fatal("intent not written before the pull")
		}
		if err := m.RecordImagePulled(ctx, image, refA, creds); err != nil {
			t.Fatal(err)
		}
		if !env.intentExists(t, image) {
			t.Error("intent removed while another pull of the image is in flight")
		}
		if env.readRecord(t, refA) == nil {
			t.Error("record not written after the first pull")
		}
		m.RecordImagePullFailed(ctx, image)
		if env.intentExists(t, image) {
			t.Error("intent left after the last pull ended")
		}
	})

	t.Run("record write failure pins the intent", func(t *testing.T) {
		env := newTestEnv(t)
		m := env.start(t, kubeletconfig.AlwaysVerify)
		ctx := testContext(t)
		env.fs.set(func(f *faultFS) { f.failRename = imagepullrecords.RecordsDirName + "/" })
		if err := m.RecordPullIntent(ctx, image); err != nil {
			t.Fatal(err)
		}
		if err := m.RecordImagePulled(ctx, image, refA, creds); err == nil {
			t.Fatal("RecordImagePulled succeeded although the record write failed")
		}
		if !env.intentExists(t, image) {
			t.Fatal("intent removed although the record is not durable")
		}
		// A later failed pull must not remove the pinned intent.
		if err := m.RecordPullIntent(ctx, image); err != nil {
			t.Fatal(err)
		}
		m.RecordImagePullFailed(ctx, image)
		if !env.intentExists(t, image) {
			t.Fatal("a failed pull removed a pinned intent")
		}
		// Nothing was granted by the failed write.
		decideCreds, _ := podCreds([]kubeletconfig.ImagePullSecret{secretS1}, nil, nil)
		if d, _ := m.MustAttemptImagePull(ctx, image, refA, decideCreds); !d.MustPull {
			t.Errorf("a record that never became durable granted access: %+v", d)
		}
		// Once the fault clears, the next successful pull repairs everything.
		env.fs.set(func(f *faultFS) { f.failRename = "" })
		if err := m.RecordPullIntent(ctx, image); err != nil {
			t.Fatal(err)
		}
		if err := m.RecordImagePulled(ctx, image, refA, creds); err != nil {
			t.Fatal(err)
		}
		if env.intentExists(t, image) {
			t.Error("intent still pinned after a successful record write")
		}
		if d, _ := m.MustAttemptImagePull(ctx, image, refA, decideCreds); d.MustPull {
			t.Errorf("after the repairing pull the Secret must be admitted: %+v", d)
		}
	})

	t.Run("intent write failure fails the pull and counts it back", func(t *testing.T) {
		env := newTestEnv(t)
		m := env.start(t, kubeletconfig.NeverVerifyPreloadedImages)
		ctx := testContext(t)
		env.fs.set(func(f *faultFS) { f.failCreateTemp = imagepullrecords.IntentsDirName })
		if err := m.RecordPullIntent(ctx, image); err == nil {
			t.Fatal("RecordPullIntent succeeded although the intent write failed")
		}
		creds, _ := podCreds(nil, nil, nil)
		if d, _ := m.MustAttemptImagePull(ctx, image, refA, creds); d.Verification != VerificationNotPulledByKubelet {
			t.Errorf("the failed intent was not counted back: %+v", d)
		}
	})

	t.Run("every successful pull refreshes lastUpdatedTime", func(t *testing.T) {
		env := newTestEnv(t)
		m := env.start(t, kubeletconfig.AlwaysVerify)
		ctx := testContext(t)
		for i := 0; i < 2; i++ {
			if err := m.RecordPullIntent(ctx, image); err != nil {
				t.Fatal(err)
			}
			if err := m.RecordImagePulled(ctx, image, refA, creds); err != nil {
				t.Fatal(err)
			}
			if got := env.readRecord(t, refA).LastUpdatedTime.Time; !got.Equal(env.clock.Now()) {
				t.Errorf("pull %d: lastUpdatedTime = %v, want %v", i, got, env.clock.Now())
			}
			env.clock.Step(time.Minute)
		}
	})
}

func TestPruneUnknownRecords(t *testing.T) {
	env := newTestEnv(t)
	old := baseRecord()
	present := baseRecord()
	present.ImageRef = refB
	env.writeRecord(t, old)
	env.writeRecord(t, present)
	m := env.start(t, kubeletconfig.AlwaysVerify)
	ctx := testContext(t)

	// A cut-off before the record's last update keeps it.
	removed, err := m.PruneUnknownRecords(ctx, []string{refB}, old.LastUpdatedTime.Add(-time.Second))
	if err != nil || len(removed) != 0 {
		t.Fatalf("prune with an early cut-off removed %v (err %v)", removed, err)
	}
	// A pull of the name in flight keeps it (the re-pull race).
	if err := m.RecordPullIntent(ctx, "reg.example/team/app:9"); err != nil {
		t.Fatal(err)
	}
	removed, err = m.PruneUnknownRecords(ctx, []string{refB}, testStart)
	if err != nil || len(removed) != 0 {
		t.Fatalf("prune removed %v while a pull of its name is in flight (err %v)", removed, err)
	}
	m.RecordImagePullFailed(ctx, "reg.example/team/app:9")

	// Absent and older than the cut-off: removed, from disk too.
	removed, err = m.PruneUnknownRecords(ctx, []string{refB}, testStart)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{refA}, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	if env.readRecord(t, refA) != nil {
		t.Error("pruned record still on disk")
	}
	if env.readRecord(t, refB) == nil {
		t.Error("record of a present image was pruned")
	}

	// A record refreshed after the cut-off survives.
	cutoff := env.clock.Now()
	env.clock.Step(time.Second)
	if err := m.RecordPullIntent(ctx, "reg.example/team/app:1"); err != nil {
		t.Fatal(err)
	}
	if err := m.RecordImagePulled(ctx, "reg.example/team/app:1", refA, nil); err != nil {
		t.Fatal(err)
	}
	removed, _ = m.PruneUnknownRecords(ctx, nil, cutoff)
	for _, ref := range removed {
		if ref == refA {
			t.Error("a record refreshed after the cut-off was pruned")
		}
	}
}

func TestStartupHousekeeping(t *testing.T) {
	const digest = "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	env := newTestEnv(t)
	env.writeIntent(t, "busybox:1.36")
	env.writeIntent(t, "reg.example/team/app@"+digest)
	env.writeIntent(t, "reg.example/team/gone:1")
	env.writeIntent(t, "nginx")
	env.lister.set([]RuntimeImage{
		{ID: refA, RepoTags: []string{"docker.io/library/busybox:1.36"}},
		{ID: refB, RepoTags: []string{"reg.example/team/app:7"}, RepoDigests: []string{"reg.example/team/app@" + digest}},
		{ID: "sha256:eeee", RepoTags: []string{"docker.io/library/nginx:latest"}},
	}, nil)
	m := env.start(t, kubeletconfig.NeverVerifyPreloadedImages)

	for _, image := range []string{"busybox:1.36", "reg.example/team/app@" + digest, "nginx"} {
		if env.intentExists(t, image) {
			t.Errorf("intent for present image %q not resolved", image)
		}
	}
	if !env.intentExists(t, "reg.example/team/gone:1") {
		t.Error("intent for an absent image was removed")
	}
	if v, _ := testutil.GetGaugeMetricValue(AbsentImagePullIntents); v != 1 {
		t.Errorf("absent intents gauge = %v, want 1", v)
	}
	for ref, repo := range map[string]string{refA: repoBusy, refB: repoApp, "sha256:eeee": "docker.io/library/nginx"} {
		rec := env.readRecord(t, ref)
		if rec == nil {
			t.Errorf("no record for %s", ref)
			continue
		}
		if diff := cmp.Diff(map[string]kubeletconfig.ImagePullCredentials{repo: {}}, rec.CredentialMapping); diff != "" {
			t.Errorf("record %s mapping (-want +got):\n%s", ref, diff)
		}
	}
	// The resolved names count as pulled by the kubelet, with nothing proved.
	ctx := testContext(t)
	creds, _ := podCreds(nil, nil, nil)
	if d, _ := m.MustAttemptImagePull(ctx, "docker.io/library/busybox:1.36", refA, creds); !d.MustPull {
		t.Errorf("a name whose pull was interrupted passed for preloaded: %+v", d)
	}
	// The absent image's name still counts as pulled by the kubelet.
	if d, _ := m.MustAttemptImagePull(ctx, "reg.example/team/gone:2", "sha256:ffff", creds); !d.MustPull {
		t.Errorf("a name with a remaining intent passed for preloaded: %+v", d)
	}
}

func TestStartupRuntimeUnreachable(t *testing.T) {
	env := newTestEnv(t)
	env.writeIntent(t, "busybox:1.36")
	env.lister.set(nil, errors.New("connection refused"))
	m := env.start(t, kubeletconfig.NeverVerifyPreloadedImages)
	ctx := testContext(t)
	creds, _ := podCreds(nil, nil, nil)

	before := checkCount(t, CheckResultError)
	if d, _ := m.MustAttemptImagePull(ctx, "reg.example/preloaded:1", refB, creds); !d.MustPull {
		t.Errorf("decision before housekeeping must fail safe, got %+v", d)
	}
	if after := checkCount(t, CheckResultError); after != before+1 {
		t.Errorf("error result went from %v to %v, want +1", before, after)
	}
	// A failed pull does not remove an intent housekeeping has not seen.
	if err := m.RecordPullIntent(ctx, "busybox:1.36"); err != nil {
		t.Fatal(err)
	}
	m.RecordImagePullFailed(ctx, "busybox:1.36")
	if !env.intentExists(t, "busybox:1.36") {
		t.Error("an intent loaded at start-up was removed before housekeeping handled it")
	}

	// The runtime comes back: the next decision after the retry interval runs housekeeping.
	env.lister.set([]RuntimeImage{{ID: refA, RepoTags: []string{"docker.io/library/busybox:1.36"}}}, nil)
	env.clock.Step(housekeepingRetryInterval)
	if d, _ := m.MustAttemptImagePull(ctx, "reg.example/preloaded:1", refB, creds); d.MustPull {
		t.Errorf("after housekeeping a preloaded name must be admitted, got %+v", d)
	}
	if env.intentExists(t, "busybox:1.36") {
		t.Error("housekeeping did not resolve the intent once the runtime answered")
	}
}

func TestStartupMigratesAndNormalises(t *testing.T) {
	env := newTestEnv(t)
	v1alpha1 := `{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1alpha1","lastUpdatedTime":"2026-01-02T03:04:05Z","imageRef":"` + refA + `","credentialMapping":{"busybox":{"kubernetesSecrets":[{"uid":"uid-s1","namespace":"ns-x","name":"s1","credentialHash":"hash-1"}]},"docker.io/library/busybox":{}}}` + "\n"
	path := env.writeRaw(t, imagepullrecords.RecordsDirName, refA, v1alpha1)
	intentPath := env.writeRaw(t, imagepullrecords.IntentsDirName, "reg.example/gone:1",
		`{"kind":"ImagePullIntent","apiVersion":"kubelet.config.k8s.io/v1alpha1","image":"reg.example/gone:1"}`)
	m := env.start(t, kubeletconfig.AlwaysVerify)

	want := `{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2026-01-02T03:04:05Z","imageRef":"` + refA + `","credentialMapping":{"docker.io/library/busybox":{"kubernetesSecrets":[{"uid":"uid-s1","namespace":"ns-x","name":"s1","credentialHash":"hash-1"}]}}}` + "\n"
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("migrated record (-want +got):\n%s", diff)
	}
	gotIntent, err := os.ReadFile(intentPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(gotIntent), `"apiVersion":"kubelet.config.k8s.io/v1beta1"`) {
		t.Errorf("intent not migrated: %s", gotIntent)
	}
	creds, _ := podCreds([]kubeletconfig.ImagePullSecret{secretS1}, nil, nil)
	if d, _ := m.MustAttemptImagePull(testContext(t), "busybox:1.36", refA, creds); d.Verification != VerificationSecretHash {
		t.Errorf("a familiar-name key did not match after normalisation: %+v", d)
	}
}

func TestStartupRefusesLockedRootDir(t *testing.T) {
	env := newTestEnv(t)
	env.start(t, kubeletconfig.AlwaysVerify)
	_, err := NewFileBackedPullManager(testContext(t), Options{RootDir: env.root, ImageLister: env.lister})
	if !errors.Is(err, imagepullrecords.ErrLocked) {
		t.Fatalf("second writer: error = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), filepath.Join(env.root, "image_manager", ".lock")) {
		t.Errorf("error %q does not name the lock file", err)
	}
	// Read-only managers do not need the lock.
	ro, err := NewFileBackedPullManager(testContext(t), Options{RootDir: env.root, ImageLister: env.lister, ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only manager beside a writer: %v", err)
	}
	_ = ro.Close()
}

func TestBrokenFilesPoisonUntilRepaired(t *testing.T) {
	good := `{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2026-01-02T03:04:05Z","imageRef":"` + refA + `","credentialMapping":{"reg.example/team/app":{"nodePodsAccessible":true}}}`
	tests := []struct {
		name    string
		content string
		dir     bool
	}{
		{name: "truncated", content: good[:len(good)/2]},
		{name: "empty", content: ""},
		{name: "wrong kind", content: strings.Replace(good, "ImagePulledRecord", "ImagePullIntent", 1)},
		{name: "unknown field", content: strings.Replace(good, `"imageRef"`, `"extra":1,"imageRef"`, 1)},
		{name: "duplicate field", content: strings.Replace(good, `"imageRef"`, `"imageRef":"x","imageRef"`, 1)},
		{name: "mismatched name", content: strings.Replace(good, refA, refB, 1)},
		{name: "directory in place of a file", dir: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			path := env.writeRaw(t, imagepullrecords.RecordsDirName, refA, tc.content)
			if tc.dir {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			ctx := testContext(t)
			creds, _ := podCreds(nil, nil, nil)
			for _, policy := range []kubeletconfig.ImagePullCredentialsVerificationPolicy{kubeletconfig.NeverVerifyPreloadedImages, kubeletconfig.AlwaysVerify} {
				m := env.start(t, policy)
				before := checkCount(t, CheckResultError)
				if d, _ := m.MustAttemptImagePull(ctx, "reg.example/team/app:1", refA, creds); !d.MustPull {
					t.Errorf("%s: a broken record granted access: %+v", policy, d)
				}
				if after := checkCount(t, CheckResultError); after != before+1 {
					t.Errorf("%s: error result went from %v to %v, want +1", policy, before, after)
				}
				_ = m.Close()
			}
			if tc.dir {
				// A directory cannot be renamed over; an operator removes it.
				return
			}
			m := env.start(t, kubeletconfig.AlwaysVerify)
			if err := m.RecordPullIntent(ctx, "reg.example/team/app:1"); err != nil {
				t.Fatal(err)
			}
			if err := m.RecordImagePulled(ctx, "reg.example/team/app:1", refA, &kubeletconfig.ImagePullCredentials{NodePodsAccessible: true}); err != nil {
				t.Fatal(err)
			}
			if d, _ := m.MustAttemptImagePull(ctx, "reg.example/team/app:1", refA, creds); d.Verification != VerificationNodeAccessible {
				t.Errorf("the pull did not repair the record: %+v", d)
			}
			if env.readRecord(t, refA) == nil {
				t.Error("repaired record not readable from disk")
			}
		})
	}
}

func TestBrokenIntentCountsAsIntent(t *testing.T) {
	env := newTestEnv(t)
	const image = "reg.example/team/app:1"
	env.writeRaw(t, imagepullrecords.IntentsDirName, image, "{broken")
	m := env.start(t, kubeletconfig.NeverVerifyPreloadedImages)
	creds, _ := podCreds(nil, nil, nil)
	if d, _ := m.MustAttemptImagePull(testContext(t), image, refA, creds); !d.MustPull {
		t.Errorf("a broken intent file did not count as an intent: %+v", d)
	}
}

func TestRecordsSurviveRestart(t *testing.T) {
	env := newTestEnv(t)
	ctx := testContext(t)
	m := env.start(t, kubeletconfig.AlwaysVerify)
	if err := m.RecordPullIntent(ctx, "reg.example/team/app:1"); err != nil {
		t.Fatal(err)
	}
	if err := m.RecordImagePulled(ctx, "reg.example/team/app:1", refA, &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2 := env.start(t, kubeletconfig.AlwaysVerify)
	creds, _ := podCreds([]kubeletconfig.ImagePullSecret{secretS2}, nil, nil)
	if d, _ := m2.MustAttemptImagePull(ctx, "reg.example/team/app:2", refA, creds); d.Verification != VerificationSecretHash {
		t.Errorf("after restart: %+v, want secretHash", d)
	}
}

func TestReadOnlyManagerWritesNothing(t *testing.T) {
	env := newTestEnv(t)
	env.writeRecord(t, baseRecord())
	env.writeIntent(t, "busybox:1.36")
	env.lister.set([]RuntimeImage{{ID: refB, RepoTags: []string{"docker.io/library/busybox:1.36"}}}, nil)
	ctx := testContext(t)
	m, err := NewFileBackedPullManager(ctx, Options{RootDir: env.root, ImageLister: env.lister, ReadOnly: true, Policy: kubeletconfig.AlwaysVerify})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	creds, _ := podCreds([]kubeletconfig.ImagePullSecret{secretS2}, nil, nil)
	if d, _ := m.MustAttemptImagePull(ctx, "reg.example/team/app:1", refA, creds); d.Verification != VerificationSecretHash {
		t.Errorf("read-only decision = %+v, want secretHash", d)
	}
	if diff := cmp.Diff(baseRecord().CredentialMapping, env.readRecord(t, refA).CredentialMapping); diff != "" {
		t.Errorf("read-only manager changed a record (-want +got):\n%s", diff)
	}
	if !env.intentExists(t, "busybox:1.36") {
		t.Error("read-only housekeeping removed an intent from disk")
	}
	if env.readRecord(t, refB) != nil {
		t.Error("read-only housekeeping wrote a record")
	}
	if err := m.RecordPullIntent(ctx, "x:1"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("RecordPullIntent on a read-only manager: %v, want ErrReadOnly", err)
	}
	if _, err := os.Lstat(filepath.Join(env.root, "image_manager", ".lock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read-only manager created the lock file: %v", err)
	}
}

func TestNoopManager(t *testing.T) {
	m := NewNoopPullManager()
	ctx := testContext(t)
	if err := m.RecordPullIntent(ctx, "x:1"); err != nil {
		t.Fatal(err)
	}
	creds, calls := podCreds(nil, nil, nil)
	d, err := m.MustAttemptImagePull(ctx, "x:1", refA, creds)
	if err != nil || d.MustPull || d.Verification != VerificationGateOff || *calls != 0 {
		t.Errorf("noop decision = %+v, %v, %d credential calls", d, err, *calls)
	}
}

func TestConcurrentDecisionsRecordsAndPrunes(t *testing.T) {
	env := newTestEnv(t)
	env.writeRecord(t, baseRecord())
	m := env.start(t, kubeletconfig.NeverVerifyPreloadedImages)
	ctx := testContext(t)
	images := []string{"reg.example/team/app:1", "reg.example/team/app:2", "reg.example/team/other:1", "busybox:1.36"}
	refs := []string{refA, refB}
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				image := images[(g+i)%len(images)]
				ref := refs[(g*i)%len(refs)]
				switch (g + i) % 4 {
				case 0:
					if err := m.RecordPullIntent(ctx, image); err == nil {
						_ = m.RecordImagePulled(ctx, image, ref, &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1}})
					}
				case 1:
					if err := m.RecordPullIntent(ctx, image); err == nil {
						m.RecordImagePullFailed(ctx, image)
					}
				case 2:
					_, _ = m.PruneUnknownRecords(ctx, []string{refA}, testStart.Add(-2*time.Hour))
				default:
					creds, _ := podCreds([]kubeletconfig.ImagePullSecret{secretS2}, nil, nil)
					if _, err := m.MustAttemptImagePull(ctx, image, ref, creds); err != nil {
						t.Errorf("decision error: %v", err)
					}
				}
			}
		}(g)
	}
	wg.Wait()
	// Every pull ended: no intent may remain, and no record may lose S1.
	for _, image := range images {
		if env.intentExists(t, image) {
			t.Errorf("intent for %q left after all pulls ended", image)
		}
	}
	for _, ref := range refs {
		rec := env.readRecord(t, ref)
		if rec == nil {
			continue
		}
		for repo, entry := range rec.CredentialMapping {
			if repo == repoBusy || repo == repoEmpty {
				continue
			}
			if len(entry.KubernetesSecrets) == 0 {
				t.Errorf("record %s lost the Secret of a successful pull under %s", ref, repo)
			}
		}
	}
}

// testContext returns a context whose logger writes to the test's log.
func testContext(t *testing.T) context.Context {
	_, ctx := ktesting.NewTestContext(t)
	return ctx
}

// TestStampRoundsUp: records keep whole seconds, rounded up, so a refresh
// after a prune's cut-off within the same second is never pruned, before or
// after a restart.
func TestStampRoundsUp(t *testing.T) {
	env := newTestEnv(t)
	env.clock.SetTime(testStart.Add(700 * time.Millisecond))
	m := env.start(t, kubeletconfig.AlwaysVerify)
	ctx := testContext(t)
	if err := m.RecordPullIntent(ctx, "reg.example/team/app:1"); err != nil {
		t.Fatal(err)
	}
	if err := m.RecordImagePulled(ctx, "reg.example/team/app:1", refA, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := env.readRecord(t, refA).LastUpdatedTime.Time, testStart.Add(time.Second); !got.Equal(want) {
		t.Errorf("lastUpdatedTime = %v, want %v (rounded up)", got, want)
	}
	if removed, _ := m.PruneUnknownRecords(ctx, nil, testStart.Add(500*time.Millisecond)); len(removed) != 0 {
		t.Errorf("a record refreshed after the cut-off (same second) was pruned: %v", removed)
	}
	_ = m.Close()
	m2 := env.start(t, kubeletconfig.AlwaysVerify)
	if removed, _ := m2.PruneUnknownRecords(ctx, nil, testStart.Add(500*time.Millisecond)); len(removed) != 0 {
		t.Errorf("after a restart, a record refreshed after the cut-off was pruned: %v", removed)
	}
}
