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
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/imagepullrecords"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// fakeSources is a cluster: the Secrets and service accounts that exist,
// by coordinates. Safe for concurrent use.
type fakeSources struct {
	mu              sync.Mutex
	secrets         map[fakeSourceKey]bool
	serviceAccounts map[fakeSourceKey]bool
}

type fakeSourceKey struct{ namespace, name, uid string }

func newFakeSources() *fakeSources {
	return &fakeSources{secrets: map[fakeSourceKey]bool{}, serviceAccounts: map[fakeSourceKey]bool{}}
}

func (f *fakeSources) addSecret(s kubeletconfig.ImagePullSecret) *fakeSources {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secrets[fakeSourceKey{s.Namespace, s.Name, s.UID}] = true
	return f
}

func (f *fakeSources) deleteSecret(s kubeletconfig.ImagePullSecret) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.secrets, fakeSourceKey{s.Namespace, s.Name, s.UID})
}

func (f *fakeSources) addServiceAccount(sa kubeletconfig.ImagePullServiceAccount) *fakeSources {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.serviceAccounts[fakeSourceKey{sa.Namespace, sa.Name, sa.UID}] = true
	return f
}

// snapshot returns a copy, as a list of the cluster taken now.
func (f *fakeSources) snapshot() *fakeSources {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := newFakeSources()
	for k := range f.secrets {
		out.secrets[k] = true
	}
	for k := range f.serviceAccounts {
		out.serviceAccounts[k] = true
	}
	return out
}

func (f *fakeSources) SecretExists(namespace, name, uid string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.secrets[fakeSourceKey{namespace, name, uid}]
}

func (f *fakeSources) ServiceAccountExists(namespace, name, uid string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.serviceAccounts[fakeSourceKey{namespace, name, uid}]
}

var (
	secretS3         = kubeletconfig.ImagePullSecret{UID: "uid-s3", Namespace: "ns-z", Name: "s3", CredentialHash: "hash-3"}
	secretS1Recreate = kubeletconfig.ImagePullSecret{UID: "uid-s1-new", Namespace: "ns-x", Name: "s1", CredentialHash: "hash-1"}
	serviceAcct2     = kubeletconfig.ImagePullServiceAccount{UID: "uid-sa2", Namespace: "ns-z", Name: "deployer"}
	// revokeCutoff is after every record the tests write.
	revokeCutoff = testStart.Add(time.Hour)
)

func revokeRecord(ref string, mapping map[string]kubeletconfig.ImagePullCredentials) *kubeletconfig.ImagePulledRecord {
	return &kubeletconfig.ImagePulledRecord{LastUpdatedTime: metav1.NewTime(testStart), ImageRef: ref, CredentialMapping: mapping}
}

func TestRevokeCredentials(t *testing.T) {
	for _, tc := range []struct {
		name    string
		records []*kubeletconfig.ImagePulledRecord
		sources *fakeSources
		// want are the records afterwards, on disk and in memory.
		want        []*kubeletconfig.ImagePulledRecord
		wantRevoked []RevokedCredential
	}{
		{
			name: "nothing gone: nothing written",
			records: []*kubeletconfig.ImagePulledRecord{revokeRecord(refA, map[string]kubeletconfig.ImagePullCredentials{
				repoApp: {KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1}, KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{serviceAcct}},
			})},
			sources: newFakeSources().addSecret(secretS1).addServiceAccount(serviceAcct),
			want: []*kubeletconfig.ImagePulledRecord{revokeRecord(refA, map[string]kubeletconfig.ImagePullCredentials{
				repoApp: {KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1}, KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{serviceAcct}},
			})},
		},
		{
			name: "a deleted Secret goes, the others stay in order",
			records: []*kubeletconfig.ImagePulledRecord{revokeRecord(refA, map[string]kubeletconfig.ImagePullCredentials{
				repoApp: {KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1, secretS2, secretS3}},
			})},
			sources: newFakeSources().addSecret(secretS1).addSecret(secretS3),
			want: []*kubeletconfig.ImagePulledRecord{revokeRecord(refA, map[string]kubeletconfig.ImagePullCredentials{
				repoApp: {KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1, secretS3}},
			})},
			wantRevoked: []RevokedCredential{{ImageRef: refA, Repository: repoApp, Kind: CredentialKindSecret, Namespace: "ns-x", Name: "s2", UID: "uid-s2"}},
		},
		{
			name: "a Secret recreated under its name (new UID) revokes the old UID",
			records: []*kubeletconfig.ImagePulledRecord{revokeRecord(refA, map[string]kubeletconfig.ImagePullCredentials{
				repoApp: {KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1}},
			})},
			sources: newFakeSources().addSecret(secretS1Recreate),
			want: []*kubeletconfig.ImagePulledRecord{revokeRecord(refA, map[string]kubeletconfig.ImagePullCredentials{
				repoApp: {},
			})},
			wantRevoked: []RevokedCredential{{ImageRef: refA, Repository: repoApp, Kind: CredentialKindSecret, Namespace: "ns-x", Name: "s1", UID: "uid-s1"}},
		},
		{
			name: "the last credentials of entries go: the entries stay as {}",
			records: []*kubeletconfig.ImagePulledRecord{revokeRecord(refA, map[string]kubeletconfig.ImagePullCredentials{
				repoApp:   {KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1}, KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{serviceAcct}},
				repoOther: {KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{serviceAcct, serviceAcct2}},
				repoEmpty: {},
			})},
			sources: newFakeSources(),
			want: []*kubeletconfig.ImagePulledRecord{revokeRecord(refA, map[string]kubeletconfig.ImagePullCredentials{
				repoApp: {}, repoOther: {}, repoEmpty: {},
			})},
			wantRevoked: []RevokedCredential{
				{ImageRef: refA, Repository: repoApp, Kind: CredentialKindSecret, Namespace: "ns-x", Name: "s1", UID: "uid-s1"},
				{ImageRef: refA, Repository: repoApp, Kind: CredentialKindServiceAccount, Namespace: "ns-y", Name: "builder", UID: "uid-sa"},
				{ImageRef: refA, Repository: repoOther, Kind: CredentialKindServiceAccount, Namespace: "ns-y", Name: "builder", UID: "uid-sa"},
				{ImageRef: refA, Repository: repoOther, Kind: CredentialKindServiceAccount, Namespace: "ns-z", Name: "deployer", UID: "uid-sa2"},
			},
		},
		{
			name: "nodePodsAccessible entries are untouched; other records are revoked from too",
			records: []*kubeletconfig.ImagePulledRecord{
				revokeRecord(refA, map[string]kubeletconfig.ImagePullCredentials{
					repoApp:  {NodePodsAccessible: true},
					repoBusy: {KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS2}},
				}),
				revokeRecord(refB, map[string]kubeletconfig.ImagePullCredentials{
					repoApp: {KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{serviceAcct2}},
				}),
			},
			sources: newFakeSources(),
			want: []*kubeletconfig.ImagePulledRecord{
				revokeRecord(refA, map[string]kubeletconfig.ImagePullCredentials{repoApp: {NodePodsAccessible: true}, repoBusy: {}}),
				revokeRecord(refB, map[string]kubeletconfig.ImagePullCredentials{repoApp: {}}),
			},
			wantRevoked: []RevokedCredential{
				{ImageRef: refA, Repository: repoBusy, Kind: CredentialKindSecret, Namespace: "ns-x", Name: "s2", UID: "uid-s2"},
				{ImageRef: refB, Repository: repoApp, Kind: CredentialKindServiceAccount, Namespace: "ns-z", Name: "deployer", UID: "uid-sa2"},
			},
		},
		{
			name:    "an empty mapping holds nothing to revoke",
			records: []*kubeletconfig.ImagePulledRecord{revokeRecord(refA, nil)},
			sources: newFakeSources(),
			want:    []*kubeletconfig.ImagePulledRecord{revokeRecord(refA, nil)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			for _, rec := range tc.records {
				env.writeRecord(t, rec)
			}
			m := env.start(t, kubeletconfig.NeverVerifyPreloadedImages)
			res, err := m.RevokeCredentials(testContext(t), tc.sources, revokeCutoff)
			if err != nil {
				t.Fatalf("RevokeCredentials: %v", err)
			}
			if diff := cmp.Diff(tc.wantRevoked, res.Revoked); diff != "" {
				t.Errorf("revoked (-want +got):\n%s", diff)
			}
			if len(res.Deferred) != 0 {
				t.Errorf("deferred %v, want none", res.Deferred)
			}
			fm := m.(*fileBackedManager)
			for _, want := range tc.want {
				if diff := cmp.Diff(want, env.readRecord(t, want.ImageRef)); diff != "" {
					t.Errorf("record %s on disk (-want +got):\n%s", want.ImageRef, diff)
				}
				inMemory, err := fm.records.mem.GetImagePulledRecord(want.ImageRef)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, inMemory, cmpEmptyMapping); diff != "" {
					t.Errorf("record %s in memory (-want +got):\n%s", want.ImageRef, diff)
				}
			}
		})
	}
}

// cmpEmptyMapping treats a nil and an empty credentialMapping alike.
var cmpEmptyMapping = cmp.Transformer("emptyMapping", func(m map[string]kubeletconfig.ImagePullCredentials) map[string]kubeletconfig.ImagePullCredentials {
	if len(m) == 0 {
		return nil
	}
	return m
})

// TestRevokedNameStaysPulledByKubelet: once its last credential is revoked,
// a name the kubelet pulled must never pass for preloaded: a pod without
// credentials must pull, before and after a restart; and a pod of a Secret
// recreated under the revoked one's name must pull too.
func TestRevokedNameStaysPulledByKubelet(t *testing.T) {
	env := newTestEnv(t)
	env.lister.set([]RuntimeImage{{ID: refA, RepoTags: []string{repoApp + ":1"}}}, nil)
	m := env.start(t, kubeletconfig.NeverVerifyPreloadedImages)
	ctx := testContext(t)
	image := repoApp + ":1"
	if err := m.RecordPullIntent(ctx, image); err != nil {
		t.Fatal(err)
	}
	if err := m.RecordImagePulled(ctx, image, refA, &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1}}); err != nil {
		t.Fatal(err)
	}
	// The intent is gone: only the record's entry says the kubelet pulled
	// the name.
	if exists, _ := m.(*fileBackedManager).records.ImagePullIntentExists(image); exists {
		t.Fatal("the intent outlived the record")
	}
	res, err := m.RevokeCredentials(ctx, newFakeSources().addSecret(secretS1Recreate), revokeCutoff)
	if err != nil || len(res.Revoked) != 1 {
		t.Fatalf("RevokeCredentials = %+v, %v; want S1 revoked", res, err)
	}
	noCredentials := func() ([]kubeletconfig.ImagePullSecret, *kubeletconfig.ImagePullServiceAccount, error) {
		return nil, nil, nil
	}
	recreated := func() ([]kubeletconfig.ImagePullSecret, *kubeletconfig.ImagePullServiceAccount, error) {
		// Same content as before, so a hash match would let it in if S1's
		// hash had been kept.
		return []kubeletconfig.ImagePullSecret{secretS1Recreate}, nil, nil
	}
	check := func(when string, m Manager) {
		t.Helper()
		for name, creds := range map[string]GetPodCredentials{"no credentials": noCredentials, "the recreated Secret": recreated} {
			d, err := m.MustAttemptImagePull(ctx, image, refA, creds)
			if err != nil {
				t.Fatal(err)
			}
			if want := (Decision{MustPull: true, Verification: VerificationMustPull}); d != want {
				t.Errorf("%s, a pod with %s: decision %+v, want %+v (a revoked name must not pass for preloaded, nor keep granting)", when, name, d, want)
			}
		}
	}
	check("after the revocation", m)
	if got := env.readRecord(t, refA).CredentialMapping; !cmp.Equal(got, map[string]kubeletconfig.ImagePullCredentials{repoApp: {}}) {
		t.Errorf("record mapping on disk = %+v, want {%s: {}}", got, repoApp)
	}
	_ = m.Close()
	check("after a restart", env.start(t, kubeletconfig.NeverVerifyPreloadedImages))
}

// TestRevokeCutoff: a record updated at or after the cut-off is left as it
// is (deferred): a pull recorded after the caller listed the cluster may
// hold a Secret created after the listing, unknown to it.
func TestRevokeCutoff(t *testing.T) {
	env := newTestEnv(t)
	m := env.start(t, kubeletconfig.AlwaysVerify)
	ctx := testContext(t)
	image := repoApp + ":1"
	if err := m.RecordPullIntent(ctx, image); err != nil {
		t.Fatal(err)
	}
	if err := m.RecordImagePulled(ctx, image, refA, &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1}}); err != nil {
		t.Fatal(err)
	}

	// The caller lists the cluster (S1 exists, S3 not yet), then S3 is
	// created and a pod pulls with it.
	cluster := newFakeSources().addSecret(secretS1)
	listed := cluster.snapshot()
	before := env.clock.Now()
	cluster.addSecret(secretS3)
	if err := m.RecordPullIntent(ctx, image); err != nil {
		t.Fatal(err)
	}
	if err := m.RecordImagePulled(ctx, image, refA, &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS3}}); err != nil {
		t.Fatal(err)
	}
	res, err := m.RevokeCredentials(ctx, listed, before)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Revoked) != 0 || !cmp.Equal(res.Deferred, []string{refA}) {
		t.Errorf("RevokeCredentials = %+v, want nothing revoked and %s deferred", res, refA)
	}
	want := []kubeletconfig.ImagePullSecret{secretS1, secretS3}
	if got := env.readRecord(t, refA).CredentialMapping[repoApp].KubernetesSecrets; !cmp.Equal(got, want) {
		t.Errorf("Secrets on record = %+v, want %+v (the pull's Secret kept)", got, want)
	}

	// A later pass, with a later listing, revokes what is gone.
	cluster.deleteSecret(secretS1)
	env.clock.Step(2 * time.Second)
	res, err = m.RevokeCredentials(ctx, cluster.snapshot(), env.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Revoked) != 1 || res.Revoked[0].UID != secretS1.UID || len(res.Deferred) != 0 {
		t.Errorf("second pass = %+v, want S1 revoked", res)
	}
	if got := env.readRecord(t, refA).CredentialMapping[repoApp].KubernetesSecrets; !cmp.Equal(got, []kubeletconfig.ImagePullSecret{secretS3}) {
		t.Errorf("Secrets on record = %+v, want only S3", got)
	}
	// The last pull stamped testStart (a whole second); revocation proves
	// no pull and must not move the prune cut-off.
	if got := env.readRecord(t, refA).LastUpdatedTime.Time; !got.Equal(testStart) {
		t.Errorf("lastUpdatedTime = %v, want %v (the last pull's)", got, testStart)
	}
}

// TestRevokeReadOnly: a dry run reports and changes nothing, on disk or in
// memory.
func TestRevokeReadOnly(t *testing.T) {
	env := newTestEnv(t)
	rec := revokeRecord(refA, map[string]kubeletconfig.ImagePullCredentials{repoApp: {KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1}}})
	env.writeRecord(t, rec)
	m, err := NewFileBackedPullManager(testContext(t), Options{RootDir: env.root, ImageLister: env.lister, Clock: env.clock, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = m.Close() }()
	res, err := m.RevokeCredentials(testContext(t), newFakeSources(), revokeCutoff)
	if err != nil || len(res.Revoked) != 1 {
		t.Fatalf("RevokeCredentials = %+v, %v; want S1 reported", res, err)
	}
	if diff := cmp.Diff(rec, env.readRecord(t, refA)); diff != "" {
		t.Errorf("a dry run changed the record on disk (-want +got):\n%s", diff)
	}
	inMemory, _ := m.(*fileBackedManager).records.mem.GetImagePulledRecord(refA)
	if diff := cmp.Diff(rec, inMemory); diff != "" {
		t.Errorf("a dry run changed the record in memory (-want +got):\n%s", diff)
	}
}

// TestRevokeWriteFailure: a record that cannot be written keeps its
// credentials on disk and in memory, the error names it, and the other
// records are still revoked from.
func TestRevokeWriteFailure(t *testing.T) {
	env := newTestEnv(t)
	recA := revokeRecord(refA, map[string]kubeletconfig.ImagePullCredentials{repoApp: {KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1}}})
	env.writeRecord(t, recA)
	env.writeRecord(t, revokeRecord(refB, map[string]kubeletconfig.ImagePullCredentials{repoApp: {KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1}}}))
	m := env.start(t, kubeletconfig.AlwaysVerify)
	env.fs.set(func(f *faultFS) { f.failRename = imagepullrecords.FileName(refA) })
	res, err := m.RevokeCredentials(testContext(t), newFakeSources(), revokeCutoff)
	if !errors.Is(err, errInjected) {
		t.Errorf("error = %v, want the injected fault", err)
	}
	if len(res.Revoked) != 1 || res.Revoked[0].ImageRef != refB {
		t.Errorf("revoked %+v, want only the record of %s", res.Revoked, refB)
	}
	if diff := cmp.Diff(recA, env.readRecord(t, refA)); diff != "" {
		t.Errorf("record %s on disk (-want +got):\n%s", refA, diff)
	}
	inMemory, _ := m.(*fileBackedManager).records.mem.GetImagePulledRecord(refA)
	if diff := cmp.Diff(recA, inMemory); diff != "" {
		t.Errorf("record %s in memory (-want +got):\n%s", refA, diff)
	}
}

// TestRevokeOtherManagers: the gate-off manager has nothing to revoke; a
// fail-closed one cannot revoke and says why.
func TestRevokeOtherManagers(t *testing.T) {
	res, err := NewNoopPullManager().RevokeCredentials(context.Background(), newFakeSources(), revokeCutoff)
	if err != nil || len(res.Revoked) != 0 {
		t.Errorf("no-op manager: %+v, %v", res, err)
	}
	fc := &failClosedManager{dir: "/nowhere", cause: errInjected}
	if _, err := fc.RevokeCredentials(context.Background(), newFakeSources(), revokeCutoff); !errors.Is(err, ErrRecordsNotWritable) {
		t.Errorf("fail-closed manager error = %v, want ErrRecordsNotWritable", err)
	}
}

// TestRevokeRacingPulls runs revocation passes against pulls that write the
// same record, each pull with a Secret the cluster creates just before it,
// while the cluster deletes older Secrets. Each pass lists the cluster and
// takes its cut-off first, as kubelet-imagectl does. No acknowledged pull's
// Secret may be lost or ever reported revoked while it exists, and every
// deleted Secret is revoked in the end. Run with -race.
func TestRevokeRacingPulls(t *testing.T) {
	env := newTestEnv(t)
	m := env.start(t, kubeletconfig.AlwaysVerify)
	ctx := testContext(t)
	cluster := newFakeSources()
	const pullers, pullsEach = 4, 40
	secretOf := func(p, i int) kubeletconfig.ImagePullSecret {
		return kubeletconfig.ImagePullSecret{UID: fmt.Sprintf("uid-%d-%d", p, i), Namespace: "ns", Name: fmt.Sprintf("s-%d-%d", p, i), CredentialHash: fmt.Sprintf("hash-%d-%d", p, i)}
	}
	var (
		mu           sync.Mutex
		acknowledged = map[kubeletconfig.ImagePullSecret]bool{}
		deleted      = map[kubeletconfig.ImagePullSecret]bool{}
	)
	done := make(chan struct{})
	var pullWG sync.WaitGroup
	for p := range pullers {
		pullWG.Go(func() {
			image := fmt.Sprintf("%s:%d", repoApp, p%2)
			for i := range pullsEach {
				s := secretOf(p, i)
				cluster.addSecret(s)
				if err := m.RecordPullIntent(ctx, image); err != nil {
					t.Error(err)
					return
				}
				if err := m.RecordImagePulled(ctx, image, refA, &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s}}); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acknowledged[s] = true
				// Delete every third Secret of an earlier pull.
				if i >= 2 && i%3 == 0 {
					old := secretOf(p, i-2)
					cluster.deleteSecret(old)
					deleted[old] = true
				}
				mu.Unlock()
			}
		})
	}
	revokedOnce := map[kubeletconfig.ImagePullSecret]bool{}
	var revokeWG sync.WaitGroup
	revokeWG.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			env.clock.Step(time.Second)
			before := env.clock.Now()
			listed := cluster.snapshot()
			res, err := m.RevokeCredentials(ctx, listed, before)
			if err != nil {
				t.Error(err)
				return
			}
			for _, r := range res.Revoked {
				s := kubeletconfig.ImagePullSecret{UID: r.UID, Namespace: r.Namespace, Name: r.Name}
				revokedOnce[s] = true
			}
		}
	})
	pullWG.Wait()
	close(done)
	revokeWG.Wait()

	// A final pass with a fresh listing.
	env.clock.Step(2 * time.Second)
	res, err := m.RevokeCredentials(ctx, cluster.snapshot(), env.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Revoked {
		revokedOnce[kubeletconfig.ImagePullSecret{UID: r.UID, Namespace: r.Namespace, Name: r.Name}] = true
	}
	onDisk := map[kubeletconfig.ImagePullSecret]bool{}
	for _, s := range env.readRecord(t, refA).CredentialMapping[repoApp].KubernetesSecrets {
		onDisk[s] = true
	}
	for s := range acknowledged {
		coords := kubeletconfig.ImagePullSecret{UID: s.UID, Namespace: s.Namespace, Name: s.Name}
		switch {
		case deleted[s] && onDisk[s]:
			t.Errorf("deleted Secret %s/%s still on record after the final pass", s.Namespace, s.Name)
		case !deleted[s] && !onDisk[s]:
			t.Errorf("the Secret %s/%s of an acknowledged pull was lost", s.Namespace, s.Name)
		case !deleted[s] && revokedOnce[coords]:
			t.Errorf("existing Secret %s/%s was reported revoked", s.Namespace, s.Name)
		}
	}
	if len(deleted) == 0 || len(revokedOnce) == 0 {
		t.Errorf("the race revoked %d of %d deleted Secrets; want some of each", len(revokedOnce), len(deleted))
	}
}
