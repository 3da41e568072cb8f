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

package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/imagepullrecords"
	"k8s.io/klog/v2"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"

	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// The record life-cycle writers: RevokeCredentials (records revoke) and
// PlanRewrite/ApplyRewrite (records migrate, records downgrade). Each runs
// once without a fault to count its operations by kind, then once per
// errno with the Nth operation of one kind failing. records verify --fix is
// not covered: it opens its store, takes its lock and lists its
// directories on the real filesystem (no FS seam reaches it).

// noSyncFS is the real filesystem without fsync. These scenarios check
// what a failing operation does to the files and to the callers, not what
// survives a power loss (the powerloss campaign does that); without the
// thousands of real fsyncs the short run stays short on a shared disk.
// Every Sync still goes through faultFS first, so it is counted and can
// fail.
type noSyncFS struct{ imagepullrecords.FS }

type noSyncFile struct{ imagepullrecords.File }

func (noSyncFile) Sync() error { return nil }

func (f noSyncFS) OpenFile(path string, flag int, perm os.FileMode) (imagepullrecords.File, error) {
	file, err := f.FS.OpenFile(path, flag, perm)
	if err != nil {
		return nil, err
	}
	return noSyncFile{file}, nil
}

func (f noSyncFS) CreateTemp(dir, pattern string) (imagepullrecords.File, error) {
	file, err := f.FS.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return noSyncFile{file}, nil
}

// lcFS is the filesystem of every store and manager of this file.
var lcFS imagepullrecords.FS = noSyncFS{imagepullrecords.OS}

// newLifecycleFaultFS is a faultFS over lcFS.
func newLifecycleFaultFS() *faultFS {
	f := newFaultFS()
	f.inner = lcFS
	return f
}

// removeFailingFS fails every Remove with errno while on. One injected
// fault cannot fail both a write and the removal of its temporary, so
// without it the "a writer's start-up removes a leftover temporary" path
// would never run.
type removeFailingFS struct {
	imagepullrecords.FS
	errno syscall.Errno
	on    atomic.Bool
}

func (f *removeFailingFS) Remove(path string) error {
	if f.on.Load() {
		return &fs.PathError{Op: "remove", Path: path, Err: f.errno}
	}
	return f.FS.Remove(path)
}

// lcFault is one scenario's fault: the at-th operation of kind fails with
// errno (at 0: none); with stuckRemoves every Remove fails too until the
// fault is cleared.
type lcFault struct {
	kind         opKind
	at           int
	errno        syscall.Errno
	stuckRemoves bool
}

func (f lcFault) String() string {
	s := fmt.Sprintf("%s/%d/%s", f.kind, f.at, errnoName(f.errno))
	if f.stuckRemoves {
		s += "+remove"
	}
	return s
}

// faultedFS returns the FS of one scenario and the function that clears
// its faults.
func faultedFS(f lcFault) (*faultFS, imagepullrecords.FS, func()) {
	fsys := newLifecycleFaultFS()
	rm := &removeFailingFS{FS: fsys, errno: f.errno}
	clear := func() {
		rm.on.Store(false)
		fsys.clear()
	}
	return fsys, rm, clear
}

// arm starts the scenario's faults.
func (f lcFault) arm(fsys *faultFS, outer imagepullrecords.FS) {
	fsys.arm(f.kind, f.at, f.errno)
	outer.(*removeFailingFS).on.Store(f.stuckRemoves)
}

// countFromHere zeroes the operation counts without arming a fault, so a
// clean run counts only the operations of the path under test, not those
// of the start-up before it.
func (f *faultFS) countFromHere() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts = map[opKind]int{}
	f.failKind, f.fired = "", 0
}

// faultPositions returns which of the c operations of one kind to fail: all
// of them in the long run; in the short run the first and the last one,
// the boundaries: the last sync and close are a directory's after the last
// rename (the file already replaced when the error is reported), the last
// rename leaves the largest mixture of old and new files.
func faultPositions(c int) []int {
	if c == 0 {
		return nil
	}
	if longScale() {
		ns := make([]int, 0, c)
		for i := 1; i <= c; i++ {
			ns = append(ns, i)
		}
		return ns
	}
	if c == 1 {
		return []int{1}
	}
	return []int{1, c}
}

// lcFaults lists the scenarios of one path from the operation counts of
// its clean run: every errno at every operation of every kind in the long
// run; in the short run every errno once per kind, the errnos taking the
// sampled positions in turn; and, for a path that writes, per errno the
// first write failing while every removal fails too (so that its temporary
// is left behind).
func lcFaults(counts map[opKind]int, writes bool) []lcFault {
	var out []lcFault
	for _, kind := range allOpKinds {
		ns := faultPositions(counts[kind])
		if len(ns) == 0 {
			continue
		}
		for i, errno := range faultErrnos {
			at := ns
			if !longScale() {
				at = ns[i%len(ns) : i%len(ns)+1]
			}
			for _, n := range at {
				out = append(out, lcFault{kind: kind, at: n, errno: errno})
			}
		}
	}
	if writes && counts[opWrite] > 0 {
		for _, errno := range faultErrnos {
			out = append(out, lcFault{kind: opWrite, at: 1, errno: errno, stuckRemoves: true})
		}
	}
	return out
}

// tempTally counts the temporaries failed runs left, apart for the
// scenarios whose removals failed too.
type tempTally struct{ plain, stuck, stuckScenarios int }

func (t *tempTally) count(f lcFault, temporaries int) {
	if f.stuckRemoves {
		t.stuck += temporaries
		t.stuckScenarios++
		return
	}
	t.plain += temporaries
}

func (t *tempTally) format() string {
	return fmt.Sprintf("%d temporaries left by a failed run (%d more in the %d runs whose removals failed too, all removed by the next writer start-up)", t.plain, t.stuck, t.stuckScenarios)
}

// faultTally counts the faults of one campaign for its RELIABILITY line.
type faultTally struct {
	scenarios  int
	fired      int
	byErrno    map[string]*int
	byOp       map[string]*int
	violations int
}

func newFaultTally() *faultTally {
	return &faultTally{byErrno: map[string]*int{}, byOp: map[string]*int{}}
}

func (t *faultTally) count(kind opKind, errno syscall.Errno, fired int) {
	t.scenarios++
	if fired == 0 {
		return
	}
	t.fired++
	inc := func(m map[string]*int, k string) {
		if m[k] == nil {
			m[k] = new(int)
		}
		*m[k]++
	}
	inc(t.byErrno, errnoName(errno))
	inc(t.byOp, string(kind))
}

func (t *faultTally) format() string {
	deref := func(p *int) int { return *p }
	return fmt.Sprintf("by errno: %s; by op: %s", formatTally(t.byErrno, deref), formatTally(t.byOp, deref))
}

// violations collects what one scenario got wrong; it never stops at the
// first one, so a report shows every broken invariant.
type violations []string

func (v *violations) add(format string, args ...any) {
	*v = append(*v, fmt.Sprintf(format, args...))
}

// noPanic runs fn and turns a panic into a violation, so that one
// scenario's panic is reported with its stack instead of ending the
// campaign.
func noPanic(v *violations, what string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			v.add("%s panicked: %v\n%s", what, r, debug.Stack())
		}
	}()
	fn()
}

// noRuntimeImages is the image lister records revoke gives its manager:
// with no intent on disk, start-up housekeeping then changes nothing.
type noRuntimeImages struct{}

func (noRuntimeImages) ListImages(context.Context) ([]pullmanager.RuntimeImage, error) {
	return nil, nil
}

// openManager opens the records of root as a writer (or read-only), as
// records revoke does.
func openManager(ctx context.Context, root string, fsys imagepullrecords.FS, readOnly bool) (pullmanager.Manager, error) {
	if fsys == nil {
		fsys = lcFS
	}
	return pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{
		RootDir:                root,
		FS:                     fsys,
		ReadOnly:               readOnly,
		ImageLister:            noRuntimeImages{},
		HousekeepingAttempts:   1,
		HousekeepingRetryDelay: time.Millisecond,
	})
}

// listTemporaries returns the temporaries left in both record directories.
func listTemporaries(managerDir string) ([]string, error) {
	var out []string
	for _, dir := range []string{imagepullrecords.IntentsDirName, imagepullrecords.RecordsDirName} {
		entries, err := os.ReadDir(filepath.Join(managerDir, dir))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if imagepullrecords.IsTemporary(e.Name()) {
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	return out, nil
}

// checkStartupRemovesTemporaries starts a writer over root, as the next
// kubelet or kubelet-imagectl writer does, and checks that no temporary
// survives it.
func checkStartupRemovesTemporaries(ctx context.Context, v *violations, root string) {
	pm, err := openManager(ctx, root, nil, false)
	if err != nil {
		v.add("writer start-up to remove the temporaries: %v", err)
		return
	}
	_ = pm.Close()
	if left, err := listTemporaries(filepath.Join(root, imagepullrecords.ManagerDirName)); err != nil || len(left) > 0 {
		v.add("temporaries after a writer start-up: %v, %v", left, err)
	}
}

// The revocation fixture: Secrets and service accounts, some of which the
// cluster deleted. Hashes are distinct, so a decision granted "by hash" is
// granted to exactly one credential.
var (
	lcSecretKept      = kubeletv1beta1.ImagePullSecret{UID: "uid-kept", Namespace: "ns-a", Name: "kept", CredentialHash: "hash-kept"}
	lcSecretDeleted   = kubeletv1beta1.ImagePullSecret{UID: "uid-deleted", Namespace: "ns-a", Name: "deleted", CredentialHash: "hash-deleted"}
	lcSecretRecreated = kubeletv1beta1.ImagePullSecret{UID: "uid-old", Namespace: "ns-b", Name: "regcred", CredentialHash: "hash-old"}
	lcSecretNSGone    = kubeletv1beta1.ImagePullSecret{UID: "uid-ns-gone", Namespace: "ns-gone", Name: "regcred", CredentialHash: "hash-ns-gone"}
	lcSAKept          = kubeletv1beta1.ImagePullServiceAccount{UID: "uid-sa-kept", Namespace: "ns-a", Name: "builder"}
	lcSADeleted       = kubeletv1beta1.ImagePullServiceAccount{UID: "uid-sa-deleted", Namespace: "ns-b", Name: "deployer"}

	lcRecordTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// lcCutoff is the revocation's cut-off: after every record but one.
	lcCutoff = lcRecordTime.Add(time.Hour)
)

func lcRef(c string) string { return "sha256:" + strings.Repeat(c, 64) }

// lcSources is the cluster as a complete listing sees it: the kept
// Secret, ns-b/regcred recreated under a new UID, the kept service
// account. Every other source of the fixture is gone.
type lcSources struct{}

func (lcSources) SecretExists(namespace, name, uid string) bool {
	kept := namespace == lcSecretKept.Namespace && name == lcSecretKept.Name && uid == lcSecretKept.UID
	recreated := namespace == lcSecretRecreated.Namespace && name == lcSecretRecreated.Name && uid == "uid-new"
	return kept || recreated
}

func (lcSources) ServiceAccountExists(namespace, name, uid string) bool {
	return (kubeletv1beta1.ImagePullServiceAccount{UID: uid, Namespace: namespace, Name: name}) == lcSAKept
}

// revokeFixtureRecords are the records before the revocation: four to
// revoke from (one record loses some credentials of an entry, two lose the
// last credential of entries, one next to a nodePodsAccessible entry or an
// empty one), one naming only live sources, and one updated at or after the
// cut-off, which the pass defers.
func revokeFixtureRecords() []*kubeletv1beta1.ImagePulledRecord {
	rec := func(ref string, at time.Time, mapping map[string]kubeletv1beta1.ImagePullCredentials) *kubeletv1beta1.ImagePulledRecord {
		return &kubeletv1beta1.ImagePulledRecord{LastUpdatedTime: metav1.NewTime(at), ImageRef: ref, CredentialMapping: mapping}
	}
	secrets := func(s ...kubeletv1beta1.ImagePullSecret) []kubeletv1beta1.ImagePullSecret { return s }
	sas := func(s ...kubeletv1beta1.ImagePullServiceAccount) []kubeletv1beta1.ImagePullServiceAccount { return s }
	return []*kubeletv1beta1.ImagePulledRecord{
		rec(lcRef("a"), lcRecordTime, map[string]kubeletv1beta1.ImagePullCredentials{
			regHost + "/team/a": {KubernetesSecrets: secrets(lcSecretDeleted, lcSecretKept), KubernetesServiceAccounts: sas(lcSAKept, lcSADeleted)},
		}),
		rec(lcRef("b"), lcRecordTime, map[string]kubeletv1beta1.ImagePullCredentials{
			regHost + "/team/b":        {KubernetesSecrets: secrets(lcSecretRecreated)},
			regHost + "/team/b-mirror": {NodePodsAccessible: true},
		}),
		rec(lcRef("c"), lcRecordTime, map[string]kubeletv1beta1.ImagePullCredentials{
			regHost + "/team/c":  {KubernetesServiceAccounts: sas(lcSADeleted)},
			regHost + "/team/c2": {KubernetesSecrets: secrets(lcSecretNSGone, lcSecretKept)},
		}),
		rec(lcRef("d"), lcRecordTime, map[string]kubeletv1beta1.ImagePullCredentials{
			regHost + "/team/d": {KubernetesSecrets: secrets(lcSecretKept), KubernetesServiceAccounts: sas(lcSAKept)},
		}),
		rec(lcRef("e"), lcRecordTime, map[string]kubeletv1beta1.ImagePullCredentials{
			regHost + "/team/e":  {},
			regHost + "/team/e2": {KubernetesSecrets: secrets(lcSecretDeleted)},
		}),
		rec(lcRef("f"), lcCutoff.Add(time.Minute), map[string]kubeletv1beta1.ImagePullCredentials{
			regHost + "/team/f": {KubernetesSecrets: secrets(lcSecretDeleted)},
		}),
	}
}

// revokeOracle is what a fault-free revocation makes of rec, written out
// independently of revoke.go: before the cut-off, every credential of a
// source that is gone leaves its entry, every entry stays (as {} when it
// loses its last credential), nodePodsAccessible entries and the time stay.
func revokeOracle(rec *kubeletv1beta1.ImagePulledRecord) (*kubeletv1beta1.ImagePulledRecord, []pullmanager.RevokedCredential) {
	out := rec.DeepCopy()
	if !rec.LastUpdatedTime.Time.Before(lcCutoff) {
		return out, nil
	}
	var src lcSources
	var revoked []pullmanager.RevokedCredential
	for repo, c := range rec.CredentialMapping {
		if c.NodePodsAccessible {
			continue
		}
		kept := kubeletv1beta1.ImagePullCredentials{}
		for _, s := range c.KubernetesSecrets {
			if src.SecretExists(s.Namespace, s.Name, s.UID) {
				kept.KubernetesSecrets = append(kept.KubernetesSecrets, s)
			} else {
				revoked = append(revoked, pullmanager.RevokedCredential{ImageRef: rec.ImageRef, Repository: repo, Kind: pullmanager.CredentialKindSecret, Namespace: s.Namespace, Name: s.Name, UID: s.UID})
			}
		}
		for _, sa := range c.KubernetesServiceAccounts {
			if src.ServiceAccountExists(sa.Namespace, sa.Name, sa.UID) {
				kept.KubernetesServiceAccounts = append(kept.KubernetesServiceAccounts, sa)
			} else {
				revoked = append(revoked, pullmanager.RevokedCredential{ImageRef: rec.ImageRef, Repository: repo, Kind: pullmanager.CredentialKindServiceAccount, Namespace: sa.Namespace, Name: sa.Name, UID: sa.UID})
			}
		}
		out.CredentialMapping[repo] = kept
	}
	return out, revoked
}

// podProfile is what a pod presents to a decision: nothing, one Secret
// credential of the fixture, or one service account.
type podProfile struct {
	name   string
	secret *kubeletconfig.ImagePullSecret
	sa     *kubeletconfig.ImagePullServiceAccount
}

func (p podProfile) credentials() pullmanager.GetPodCredentials {
	return func() ([]kubeletconfig.ImagePullSecret, *kubeletconfig.ImagePullServiceAccount, error) {
		var secrets []kubeletconfig.ImagePullSecret
		if p.secret != nil {
			secrets = []kubeletconfig.ImagePullSecret{*p.secret}
		}
		return secrets, p.sa, nil
	}
}

// revokedBy reports whether rc is the credential p presents.
func (p podProfile) revokedBy(rc pullmanager.RevokedCredential) bool {
	switch {
	case p.secret != nil:
		return rc.Kind == pullmanager.CredentialKindSecret && rc.Namespace == p.secret.Namespace && rc.Name == p.secret.Name && rc.UID == p.secret.UID
	case p.sa != nil:
		return rc.Kind == pullmanager.CredentialKindServiceAccount && rc.Namespace == p.sa.Namespace && rc.Name == p.sa.Name && rc.UID == p.sa.UID
	}
	return false
}

func lcProfiles() []podProfile {
	out := []podProfile{{name: "no credentials"}}
	for _, s := range []kubeletv1beta1.ImagePullSecret{lcSecretKept, lcSecretDeleted, lcSecretRecreated, lcSecretNSGone} {
		out = append(out, podProfile{name: "secret " + s.Namespace + "/" + s.Name + "/" + s.UID, secret: &kubeletconfig.ImagePullSecret{UID: s.UID, Namespace: s.Namespace, Name: s.Name, CredentialHash: s.CredentialHash}})
	}
	for _, sa := range []kubeletv1beta1.ImagePullServiceAccount{lcSAKept, lcSADeleted} {
		out = append(out, podProfile{name: "service account " + sa.Namespace + "/" + sa.Name + "/" + sa.UID, sa: &kubeletconfig.ImagePullServiceAccount{UID: sa.UID, Namespace: sa.Namespace, Name: sa.Name}})
	}
	return out
}

// decisionKey is one decision: a pod presenting profile for repo:1 at the
// present image ref.
type decisionKey struct{ ref, repo, profile string }

// revokeCampaign is the fixture, the oracle and the figures of a clean
// revocation, shared by every scenario.
type revokeCampaign struct {
	records []*kubeletv1beta1.ImagePulledRecord
	// pre and post are the canonical encodings of each record before and
	// after a fault-free revocation, by image ref.
	pre, post map[string]string
	// preBytes are the fixture's files, by image ref.
	preBytes map[string][]byte
	// revoked are the credentials a fault-free pass revokes.
	revoked map[pullmanager.RevokedCredential]bool
	// decisions are those of a fresh manager over the records before and
	// after a fault-free revocation.
	decisions map[string]map[decisionKey]pullmanager.Decision
	profiles  []podProfile
}

func newRevokeCampaign(t *testing.T) *revokeCampaign {
	t.Helper()
	c := &revokeCampaign{
		records:   revokeFixtureRecords(),
		pre:       map[string]string{},
		post:      map[string]string{},
		preBytes:  map[string][]byte{},
		revoked:   map[pullmanager.RevokedCredential]bool{},
		decisions: map[string]map[decisionKey]pullmanager.Decision{},
		profiles:  lcProfiles(),
	}
	for _, rec := range c.records {
		pre, err := imagepullrecords.EncodeRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		c.pre[rec.ImageRef], c.preBytes[rec.ImageRef] = string(pre), pre
		after, revoked := revokeOracle(rec)
		post, err := imagepullrecords.EncodeRecord(after)
		if err != nil {
			t.Fatal(err)
		}
		c.post[rec.ImageRef] = string(post)
		for _, rc := range revoked {
			c.revoked[rc] = true
		}
	}
	return c
}

// write lays the fixture out under a new root dir.
func (c *revokeCampaign) write(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: filepath.Join(root, imagepullrecords.ManagerDirName), FS: lcFS})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range c.records {
		if err := store.WriteRecord(rec); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// decide asks a fresh read-only manager over root every decision of the
// matrix: it loads what is on disk, as a restarted kubelet would, and
// writes nothing.
func (c *revokeCampaign) decide(ctx context.Context, root string) (map[decisionKey]pullmanager.Decision, error) {
	pm, err := openManager(ctx, root, nil, true)
	if err != nil {
		return nil, err
	}
	defer func() { _ = pm.Close() }()
	out := map[decisionKey]pullmanager.Decision{}
	for _, rec := range c.records {
		for repo := range rec.CredentialMapping {
			for _, p := range c.profiles {
				d, err := pm.MustAttemptImagePull(ctx, repo+":1", rec.ImageRef, p.credentials())
				if err != nil {
					return nil, fmt.Errorf("deciding %s for %s: %w", repo, p.name, err)
				}
				out[decisionKey{rec.ImageRef, repo, p.name}] = d
			}
		}
	}
	return out, nil
}

// diskState decodes every record file under root with the store and says,
// for each fixture record, whether it holds the content before the
// revocation ("pre"), after it ("post"), or something else (a violation).
func (c *revokeCampaign) diskState(root string, v *violations) map[string]string {
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: filepath.Join(root, imagepullrecords.ManagerDirName), ReadOnly: true})
	if err != nil {
		v.add("opening the store: %v", err)
		return nil
	}
	state := map[string]string{}
	onDisk := map[string]*kubeletv1beta1.ImagePulledRecord{}
	broken, err := store.WalkRecords(func(f imagepullrecords.RecordFile) { onDisk[f.Record.ImageRef] = f.Record })
	if err != nil {
		v.add("listing the records: %v", err)
	}
	for _, b := range broken {
		v.add("record file %s is broken (torn or empty): %v", b.File, b.Err)
	}
	for _, pre := range c.records {
		ref := pre.ImageRef
		got, ok := onDisk[ref]
		delete(onDisk, ref)
		if !ok {
			v.add("the record of %s is gone (its image would look preloaded)", ref)
			continue
		}
		enc, err := imagepullrecords.EncodeRecord(got)
		if err != nil {
			v.add("encoding the record of %s: %v", ref, err)
			continue
		}
		// A record with nothing to revoke is in both states; it counts as
		// revoked, which is where a fault-free pass leaves it.
		switch string(enc) {
		case c.post[ref]:
			state[ref] = "post"
		case c.pre[ref]:
			state[ref] = "pre"
		default:
			v.add("the record of %s is neither unchanged nor revoked:\n got  %s want %s or %s", ref, enc, c.pre[ref], c.post[ref])
		}
		if c.pre[ref] == c.post[ref] {
			// Nothing to revoke (or deferred): the file is never written.
			if data, err := os.ReadFile(filepath.Join(store.ManagerDir(), imagepullrecords.RecordsDirName, imagepullrecords.FileName(ref))); err != nil || !bytes.Equal(data, c.preBytes[ref]) {
				v.add("the record of %s, which has nothing to revoke, was rewritten (%v)", ref, err)
			}
		}
		// Explicit, although the states imply it: no credential of a live
		// source leaves, and no repository name leaves.
		var src lcSources
		for repo, creds := range pre.CredentialMapping {
			now, ok := got.CredentialMapping[repo]
			if !ok {
				v.add("%s lost the entry %s: the name no longer counts as pulled by the kubelet", ref, repo)
				continue
			}
			for _, s := range creds.KubernetesSecrets {
				if src.SecretExists(s.Namespace, s.Name, s.UID) && !slices.Contains(now.KubernetesSecrets, s) {
					v.add("%s %s lost the Secret %s/%s, which still exists", ref, repo, s.Namespace, s.Name)
				}
			}
			for _, sa := range creds.KubernetesServiceAccounts {
				if src.ServiceAccountExists(sa.Namespace, sa.Name, sa.UID) && !slices.Contains(now.KubernetesServiceAccounts, sa) {
					v.add("%s %s lost the service account %s/%s, which still exists", ref, repo, sa.Namespace, sa.Name)
				}
			}
		}
	}
	for ref := range onDisk {
		v.add("a record of %s appeared", ref)
	}
	return state
}

// checkDecisions checks a fresh manager's decisions over root against the
// state of each record on disk: no grant the records before the
// revocation did not give, no grant to a credential revoked from the
// record, and otherwise exactly what that state decides.
func (c *revokeCampaign) checkDecisions(ctx context.Context, v *violations, root string, state map[string]string, reported []pullmanager.RevokedCredential) {
	got, err := c.decide(ctx, root)
	if err != nil {
		v.add("decisions of a fresh manager: %v", err)
		return
	}
	for key, d := range got {
		pre := c.decisions["pre"][key]
		if !d.MustPull && pre.MustPull {
			v.add("%s %s, %s: granted (%s); the records before the revocation did not grant it", key.ref, key.repo, key.profile, d.Verification)
		}
		var profile podProfile
		for _, p := range c.profiles {
			if p.name == key.profile {
				profile = p
			}
		}
		for _, rc := range reported {
			if rc.ImageRef == key.ref && rc.Repository == key.repo && profile.revokedBy(rc) && !d.MustPull {
				v.add("%s %s, %s: granted (%s) to a credential the revocation reported revoked", key.ref, key.repo, key.profile, d.Verification)
			}
		}
		if s, ok := state[key.ref]; ok {
			if want := c.decisions[s][key]; d != want {
				v.add("%s %s, %s: decided %+v; the record's state on disk (%s) decides %+v", key.ref, key.repo, key.profile, d, s, want)
			}
		}
	}
}

// revokeOutcome is what one faulted revocation did, for the figures.
type revokeOutcome struct {
	fired        int
	partial      bool
	temporaries  int
	reconverged  bool
	loggedOnce   bool
	failedRecord string
}

// runRevoke runs one revocation over a fresh fixture with the fault f,
// then clears it, revokes again and checks the final state.
func (c *revokeCampaign) runRevoke(t *testing.T, f lcFault) (revokeOutcome, violations) {
	kind, errno := f.kind, f.errno
	var v violations
	var out revokeOutcome
	logs := &logCapture{}
	ctx := klog.NewContext(context.Background(), logs.logger())
	root := c.write(t)
	managerDir := filepath.Join(root, imagepullrecords.ManagerDirName)
	fsys, outer, clearFaults := faultedFS(f)
	pm, err := openManager(ctx, root, outer, false)
	if err != nil {
		v.add("start-up: %v", err)
		return out, v
	}
	defer func() { _ = pm.Close() }()
	f.arm(fsys, outer)

	var res *pullmanager.RevokeResult
	noPanic(&v, "RevokeCredentials", func() { res, err = pm.RevokeCredentials(ctx, lcSources{}, lcCutoff) })
	_, out.fired = fsys.snapshot()
	clearFaults()
	if res == nil {
		v.add("RevokeCredentials returned no result (err %v)", err)
		res = &pullmanager.RevokeResult{}
	}
	if !slices.Equal(res.Deferred, []string{lcRef("f")}) {
		v.add("deferred %v, want the record updated after the cut-off", res.Deferred)
	}
	for _, rc := range res.Revoked {
		if !c.revoked[rc] {
			v.add("revoked %+v, which a fault-free pass keeps", rc)
		}
	}

	// The error: one record's write failed, and the error says which file
	// and which operation.
	reportedRefs := map[string]bool{}
	for _, rc := range res.Revoked {
		reportedRefs[rc.ImageRef] = true
	}
	var unreported []string
	for rc := range c.revoked {
		if !reportedRefs[rc.ImageRef] && !slices.Contains(unreported, rc.ImageRef) {
			unreported = append(unreported, rc.ImageRef)
		}
	}
	switch {
	case out.fired == 0 && err != nil:
		v.add("no fault fired, but RevokeCredentials failed: %v", err)
	case out.fired == 0 && len(unreported) > 0:
		v.add("no fault fired, but the records of %v were not revoked", unreported)
	case out.fired > 0 && err == nil:
		v.add("the injected %s of a %s was not reported", errnoName(errno), kind)
	case out.fired > 0:
		if !errors.Is(err, errno) {
			v.add("the error does not wrap %s: %v", errnoName(errno), err)
		}
		if !strings.Contains(err.Error(), string(kind)+" "+managerDir) {
			v.add("the error does not name the %s operation and its path under %s: %v", kind, managerDir, err)
		}
		if len(unreported) != 1 {
			v.add("one fault, but the records of %v were not revoked", unreported)
		}
		for _, ref := range unreported {
			out.failedRecord = ref
			if !strings.Contains(err.Error(), imagepullrecords.FileName(ref)) || !strings.Contains(err.Error(), ref) {
				v.add("the error does not name the record of %s (%s): %v", ref, imagepullrecords.FileName(ref), err)
			}
		}
		out.partial = len(res.Revoked) > 0
		// Logged once, by the manager's write-failure path, and never for
		// every record after it.
		n := logs.errorsWith(errno)
		if n != 1 {
			v.add("the failure was logged %d times at error level, want once", n)
		}
		out.loggedOnce = n == 1
	}

	state := c.diskState(root, &v)
	for _, rc := range res.Revoked {
		if state[rc.ImageRef] != "post" {
			v.add("%s is reported revoked from %s, whose record on disk still holds it", rc.Name, rc.ImageRef)
		}
	}
	c.checkDecisions(ctx, &v, root, state, res.Revoked)
	temps, err := listTemporaries(managerDir)
	if err != nil {
		v.add("listing temporaries: %v", err)
	}
	out.temporaries = len(temps)
	if f.stuckRemoves && len(temps) == 0 {
		v.add("the write failed and so did every removal, yet no temporary is left: the scenario tests nothing")
	}

	// The fault cleared: a second pass revokes what the first could not,
	// and the records end as after a fault-free pass.
	var res2 *pullmanager.RevokeResult
	noPanic(&v, "the second RevokeCredentials", func() { res2, err = pm.RevokeCredentials(ctx, lcSources{}, lcCutoff) })
	if err != nil {
		v.add("the second revocation, without a fault: %v", err)
	}
	if res2 != nil {
		union := map[pullmanager.RevokedCredential]bool{}
		for _, rc := range append(slices.Clone(res.Revoked), res2.Revoked...) {
			union[rc] = true
		}
		if len(union) != len(c.revoked) {
			v.add("the two passes revoked %d credentials, a fault-free pass %d", len(union), len(c.revoked))
		}
		for rc := range union {
			if !c.revoked[rc] {
				v.add("the two passes revoked %+v, which a fault-free pass keeps", rc)
			}
		}
	}
	if err := pm.Writable(); err != nil {
		v.add("not writable after a successful revocation: %v", err)
	}
	final := c.diskState(root, &v)
	for ref, s := range final {
		if s != "post" {
			v.add("after the second revocation the record of %s is %s, want as after a fault-free pass", ref, s)
		}
	}
	out.reconverged = len(final) == len(c.records) && !slices.ContainsFunc(c.records, func(r *kubeletv1beta1.ImagePulledRecord) bool { return final[r.ImageRef] != "post" })
	c.checkDecisions(ctx, &v, root, final, nil)

	// The next records revoke is a new process: its start-up removes any
	// temporary left, and its pass reads the records from disk and finds
	// nothing left to revoke.
	_ = pm.Close()
	next, err := openManager(ctx, root, nil, false)
	if err != nil {
		v.add("the next writer's start-up: %v", err)
		return out, v
	}
	defer func() { _ = next.Close() }()
	if res3, err := next.RevokeCredentials(ctx, lcSources{}, lcCutoff); err != nil || len(res3.Revoked) > 0 {
		v.add("the next records revoke: %+v, %v; want nothing left to revoke", res3, err)
	}
	if left, err := listTemporaries(managerDir); err != nil || len(left) > 0 {
		v.add("temporaries after the next writer's start-up: %v, %v", left, err)
	}
	return out, v
}

// TestLifecycleFaultsRevoke fails every filesystem operation of
// RevokeCredentials in turn with every errno.
func TestLifecycleFaultsRevoke(t *testing.T) {
	c := newRevokeCampaign(t)
	ctx := klog.NewContext(context.Background(), klog.Logger{})

	// The decisions before and after a fault-free pass, and a check that
	// the matrix can tell them apart: each revoked credential was granted
	// before and is not after, each kept one is granted in both.
	var err error
	if c.decisions["pre"], err = c.decide(ctx, c.write(t)); err != nil {
		t.Fatal(err)
	}
	cleanRoot := c.write(t)
	fsys := newLifecycleFaultFS()
	pm, err := openManager(ctx, cleanRoot, fsys, false)
	if err != nil {
		t.Fatal(err)
	}
	fsys.countFromHere()
	res, err := pm.RevokeCredentials(ctx, lcSources{}, lcCutoff)
	counts, _ := fsys.snapshot()
	_ = pm.Close()
	if err != nil || len(res.Revoked) != len(c.revoked) {
		t.Fatalf("clean revocation: %+v, %v; want %d credentials revoked", res, err, len(c.revoked))
	}
	var v violations
	for ref, s := range c.diskState(cleanRoot, &v) {
		if s != "post" {
			v.add("clean revocation: the record of %s is %s", ref, s)
		}
	}
	if len(v) > 0 {
		t.Fatalf("clean revocation:\n  %s", strings.Join(v, "\n  "))
	}
	if c.decisions["post"], err = c.decide(ctx, cleanRoot); err != nil {
		t.Fatal(err)
	}
	for rc := range c.revoked {
		for _, p := range c.profiles {
			if !p.revokedBy(rc) {
				continue
			}
			key := decisionKey{rc.ImageRef, rc.Repository, p.name}
			if c.decisions["pre"][key].MustPull || !c.decisions["post"][key].MustPull {
				t.Fatalf("%+v: before %+v, after %+v; want granted before the revocation only", key, c.decisions["pre"][key], c.decisions["post"][key])
			}
		}
	}
	for _, ref := range []string{lcRef("b"), lcRef("c")} {
		key := decisionKey{ref, regHost + "/team/" + ref[len(ref)-1:], "no credentials"}
		if d := c.decisions["post"][key]; !d.MustPull {
			t.Fatalf("%+v after its last credential was revoked: %+v; the name must still count as pulled by the kubelet", key, d)
		}
	}

	tally := newFaultTally()
	var temps tempTally
	partial, reconverged, loggedOnce := 0, 0, 0
	for _, f := range lcFaults(counts, true) {
		out, v := c.runRevoke(t, f)
		tally.count(f.kind, f.errno, out.fired)
		temps.count(f, out.temporaries)
		if out.fired == 0 {
			v.add("the fault never fired (the clean run counted %d %s operations)", counts[f.kind], f.kind)
		}
		if out.partial {
			partial++
		}
		if out.reconverged {
			reconverged++
		}
		if out.loggedOnce {
			loggedOnce++
		}
		if len(v) > 0 {
			tally.violations += len(v)
			t.Errorf("revoke %s (record %s): %d violations:\n  %s", f, out.failedRecord, len(v), strings.Join(v, "\n  "))
		}
	}
	fmt.Printf("RELIABILITY: faults: revoke: %d scenarios over %d records (%d credentials to revoke), %d faults fired (%s), %d logged once, %d passes revoked the other records around the failing one; every record unchanged or exactly revoked, no live credential or repository name lost, fresh decisions fail safe, %s, %d/%d second passes reached the fault-free state, violations=%d\n",
		tally.scenarios, len(c.records), len(c.revoked), tally.fired, tally.format(), loggedOnce, partial, temps.format(), reconverged, tally.scenarios, tally.violations)
}

// The rewrite fixture: records and intents in both versions, one v1beta1
// record and one intent in a non-canonical (indented) encoding, records
// with Secrets, service accounts, nodePodsAccessible and an empty entry.
func rewriteFixtureFiles(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	record := func(c string, version string, indent bool, mapping map[string]kubeletv1beta1.ImagePullCredentials) {
		rec := &kubeletv1beta1.ImagePulledRecord{LastUpdatedTime: metav1.NewTime(lcRecordTime), ImageRef: lcRef(c), CredentialMapping: mapping}
		data, err := imagepullrecords.EncodeRecordVersion(rec, version)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Join(imagepullrecords.RecordsDirName, imagepullrecords.FileName(rec.ImageRef))] = maybeIndent(t, data, indent)
	}
	intent := func(image, version string, indent bool) {
		data, err := imagepullrecords.EncodeIntentVersion(&kubeletv1beta1.ImagePullIntent{Image: image}, version)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Join(imagepullrecords.IntentsDirName, imagepullrecords.FileName(image))] = maybeIndent(t, data, indent)
	}
	alpha, beta := imagepullrecords.APIVersionV1alpha1, imagepullrecords.APIVersionV1beta1
	record("1", alpha, false, map[string]kubeletv1beta1.ImagePullCredentials{
		regHost + "/team/one": {KubernetesSecrets: []kubeletv1beta1.ImagePullSecret{lcSecretKept, lcSecretDeleted}},
	})
	record("2", alpha, false, map[string]kubeletv1beta1.ImagePullCredentials{
		regHost + "/team/two":        {KubernetesServiceAccounts: []kubeletv1beta1.ImagePullServiceAccount{lcSAKept}},
		regHost + "/team/two-mirror": {NodePodsAccessible: true},
	})
	record("3", beta, false, map[string]kubeletv1beta1.ImagePullCredentials{
		regHost + "/team/three": {KubernetesSecrets: []kubeletv1beta1.ImagePullSecret{lcSecretKept}, KubernetesServiceAccounts: []kubeletv1beta1.ImagePullServiceAccount{lcSADeleted}},
	})
	record("4", beta, true, map[string]kubeletv1beta1.ImagePullCredentials{
		regHost + "/team/four": {KubernetesSecrets: []kubeletv1beta1.ImagePullSecret{lcSecretRecreated}},
	})
	record("5", alpha, false, map[string]kubeletv1beta1.ImagePullCredentials{regHost + "/team/five": {}})
	intent(regHost+"/team/six:1", alpha, false)
	intent(regHost+"/team/seven:1", beta, false)
	intent(regHost+"/team/eight:1", beta, true)
	return files
}

// maybeIndent re-indents a canonical encoding: the same content, not the
// canonical bytes, which every rewrite replaces.
func maybeIndent(t *testing.T, data []byte, indent bool) []byte {
	t.Helper()
	if !indent {
		return data
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, data, "", "  "); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readTree returns the record and intent files under managerDir (relative
// paths) and the temporaries next to them.
func readTree(managerDir string) (map[string][]byte, []string, error) {
	files := map[string][]byte{}
	var temps []string
	for _, dir := range []string{imagepullrecords.IntentsDirName, imagepullrecords.RecordsDirName} {
		entries, err := os.ReadDir(filepath.Join(managerDir, dir))
		if err != nil {
			return nil, nil, err
		}
		for _, e := range entries {
			rel := filepath.Join(dir, e.Name())
			if imagepullrecords.IsTemporary(e.Name()) {
				temps = append(temps, rel)
				continue
			}
			data, err := os.ReadFile(filepath.Join(managerDir, rel))
			if err != nil {
				return nil, nil, err
			}
			files[rel] = data
		}
	}
	return files, temps, nil
}

// decodeTreeFile decodes one file strictly, as the store does, and returns
// what it says (the canonical v1beta1 encoding of a record, the image of an
// intent) and its apiVersion.
func decodeTreeFile(rel string, data []byte) (string, string, error) {
	version := func(current bool) string {
		if current {
			return imagepullrecords.APIVersionV1beta1
		}
		return imagepullrecords.APIVersionV1alpha1
	}
	if strings.HasPrefix(rel, imagepullrecords.RecordsDirName+string(filepath.Separator)) {
		rec, current, err := imagepullrecords.DecodeRecord(data)
		if err != nil {
			return "", "", err
		}
		enc, err := imagepullrecords.EncodeRecord(rec)
		return string(enc), version(current), err
	}
	intent, current, err := imagepullrecords.DecodeIntent(data)
	if err != nil {
		return "", "", err
	}
	return intent.Image, version(current), nil
}

// rewriteVariant is one command: records migrate, records downgrade --to
// v1alpha1, and the same with --drop-service-accounts.
type rewriteVariant struct {
	name string
	opts imagepullrecords.RewriteOptions
	// fixture and its meaning, by file.
	fixture map[string][]byte
	says    map[string]string
	// final are the files after a fault-free rewrite, and what they say.
	final     map[string][]byte
	finalSays map[string]string
	// planned is how many files the plan replaces.
	planned int
	// counts are the clean run's operations by phase.
	counts map[string]map[opKind]int
}

func (rv *rewriteVariant) write(t *testing.T) string {
	t.Helper()
	managerDir := filepath.Join(t.TempDir(), imagepullrecords.ManagerDirName)
	if _, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: managerDir, FS: lcFS}); err != nil {
		t.Fatal(err)
	}
	for rel, data := range rv.fixture {
		if err := os.WriteFile(filepath.Join(managerDir, rel), data, imagepullrecords.FileMode); err != nil {
			t.Fatal(err)
		}
	}
	return managerDir
}

// rewriteOutcome is what one faulted rewrite did, for the figures.
type rewriteOutcome struct {
	fired        int
	rewriteError bool
	mixture      bool
	planError    bool
	harmless     bool
	temporaries  int
	finished     bool
}

// checkTree checks the files under managerDir: the same names as the
// fixture, each one complete and decoding to what the fixture's says (or,
// for --drop-service-accounts, to what the rewrite makes it say); it
// returns how many files differ from the fixture's bytes.
func (rv *rewriteVariant) checkTree(v *violations, managerDir string) (changed int, temps []string) {
	files, temps, err := readTree(managerDir)
	if err != nil {
		v.add("reading the tree: %v", err)
		return 0, nil
	}
	for rel := range rv.fixture {
		if _, ok := files[rel]; !ok {
			v.add("%s is gone", rel)
		}
	}
	for rel, data := range files {
		if _, ok := rv.fixture[rel]; !ok {
			v.add("%s appeared", rel)
			continue
		}
		says, _, err := decodeTreeFile(rel, data)
		switch {
		case len(data) == 0:
			v.add("%s is empty", rel)
		case err != nil:
			v.add("%s does not decode (torn?): %v", rel, err)
		case says != rv.says[rel] && says != rv.finalSays[rel]:
			v.add("%s says %q, want %q (before) or %q (rewritten)", rel, says, rv.says[rel], rv.finalSays[rel])
		}
		if !bytes.Equal(data, rv.fixture[rel]) {
			changed++
			if !bytes.Equal(data, rv.final[rel]) {
				v.add("%s holds neither its previous nor its new content:\n%s", rel, data)
			}
		}
	}
	return changed, temps
}

// checkFinished re-runs the rewrite without a fault, as a second run of the
// command does (a new store, whose Open fsyncs the directories), and checks
// that it replaces exactly the files still to do and leaves every file at
// the target version, in its canonical encoding. Temporaries the failed
// run left (leftTemps) are the start-up's to remove, not the re-run's.
func (rv *rewriteVariant) checkFinished(v *violations, fsys imagepullrecords.FS, managerDir string, wantPlanned int, leftTemps []string) bool {
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: managerDir, FS: fsys})
	if err != nil {
		v.add("opening the store for the re-run: %v", err)
		return false
	}
	var plan *imagepullrecords.RewritePlan
	noPanic(v, "PlanRewrite after the fault", func() { plan, err = store.PlanRewrite(rv.opts) })
	if err != nil || plan == nil {
		v.add("planning the re-run: %v", err)
		return false
	}
	if wantPlanned >= 0 && len(plan.Files) != wantPlanned {
		v.add("the re-run replaces %d files, want the %d not yet rewritten", len(plan.Files), wantPlanned)
	}
	noPanic(v, "ApplyRewrite after the fault", func() { err = store.ApplyRewrite(plan) })
	if err != nil {
		v.add("the re-run without a fault: %v", err)
		return false
	}
	files, temps, err := readTree(managerDir)
	if err != nil {
		v.add("reading the tree after the re-run: %v", err)
		return false
	}
	temps = slices.DeleteFunc(temps, func(name string) bool { return slices.Contains(leftTemps, name) })
	ok := len(temps) == 0 && len(files) == len(rv.final)
	if len(temps) > 0 {
		v.add("temporaries left by a successful re-run: %v", temps)
	}
	for rel, data := range files {
		_, version, err := decodeTreeFile(rel, data)
		if err != nil || version != rv.opts.APIVersion || !bytes.Equal(data, rv.final[rel]) {
			v.add("after the re-run %s is at %s (%v), want the canonical %s encoding:\n%s", rel, version, err, rv.opts.APIVersion, data)
			ok = false
		}
	}
	if again, err := store.PlanRewrite(rv.opts); err != nil || len(again.Files) > 0 {
		v.add("a third run would still rewrite %v (%v)", again, err)
		ok = false
	}
	return ok
}

// runRewrite runs one rewrite over a fresh fixture, with the fault in
// phase (plan or apply), then re-runs it without.
func (rv *rewriteVariant) runRewrite(t *testing.T, phase string, f lcFault) (rewriteOutcome, violations) {
	kind, errno := f.kind, f.errno
	var v violations
	var out rewriteOutcome
	managerDir := rv.write(t)
	fsys, outer, clearFaults := faultedFS(f)
	// The commands take the writer lock on the real filesystem before
	// they open the store; a failure there, or in Open, is a start-up
	// failure the store faults cover.
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: managerDir, FS: outer})
	if err != nil {
		v.add("open: %v", err)
		return out, v
	}
	var plan *imagepullrecords.RewritePlan
	if phase == "apply" {
		if plan, err = store.PlanRewrite(rv.opts); err != nil {
			v.add("planning without a fault: %v", err)
			return out, v
		}
		f.arm(fsys, outer)
		noPanic(&v, "ApplyRewrite", func() { err = store.ApplyRewrite(plan) })
	} else {
		f.arm(fsys, outer)
		noPanic(&v, "PlanRewrite", func() { plan, err = store.PlanRewrite(rv.opts) })
	}
	_, out.fired = fsys.snapshot()
	clearFaults()
	if out.fired == 0 {
		v.add("the fault never fired (the clean run counted %d %s operations in %s)", rv.counts[phase][kind], kind, phase)
	}

	changed, temps := rv.checkTree(&v, managerDir)
	out.temporaries = len(temps)
	if f.stuckRemoves && len(temps) == 0 {
		v.add("the write failed and so did every removal, yet no temporary is left: the scenario tests nothing")
	}
	wantPlanned := -1
	switch {
	case phase == "apply":
		var rwErr *imagepullrecords.RewriteError
		if !errors.As(err, &rwErr) {
			v.add("ApplyRewrite returned %v (%T), want a *RewriteError", err, err)
			break
		}
		out.rewriteError = true
		if !errors.Is(err, errno) || !strings.Contains(err.Error(), string(kind)+" "+managerDir) {
			v.add("the error does not wrap %s or name the %s and its path under %s: %v", errnoName(errno), kind, managerDir, err)
		}
		if rwErr.Total != rv.planned || rwErr.Renamed < 0 || rwErr.Renamed > rwErr.Total {
			v.add("RewriteError %d of %d, for a plan of %d files", rwErr.Renamed, rwErr.Total, rv.planned)
		}
		// Renamed is what the operator is told: it must be what is on disk.
		if changed != rwErr.Renamed {
			v.add("RewriteError says %d files rewritten, %d differ on disk", rwErr.Renamed, changed)
		}
		out.mixture = changed > 0 && changed < rv.planned
		wantPlanned = rv.planned - changed
	case err != nil:
		// A read that fails while planning: nothing may be written.
		out.planError = true
		if plan != nil {
			v.add("PlanRewrite returned a plan with its error %v", err)
		}
		if !strings.Contains(err.Error(), errno.Error()) || !strings.Contains(err.Error(), string(kind)+" "+managerDir) {
			v.add("the plan's error does not say %s or name the %s and its path under %s: %v", errnoName(errno), kind, managerDir, err)
		}
		var broken *imagepullrecords.BrokenFilesError
		if errors.As(err, &broken) {
			if !slices.ContainsFunc(broken.Files, func(f imagepullrecords.FileError) bool { return errors.Is(&f, errno) }) {
				v.add("no broken file of %v wraps %s", broken.Files, errnoName(errno))
			}
		} else if !errors.Is(err, errno) {
			v.add("the plan's error does not wrap %s: %v", errnoName(errno), err)
		}
		if changed != 0 {
			v.add("a failed plan changed %d files", changed)
		}
		wantPlanned = rv.planned
	case out.fired > 0 && kind != opClose:
		v.add("the injected %s of a %s while planning was not reported", errnoName(errno), kind)
	default:
		// Closing a descriptor that was only read cannot lose data: the
		// plan is complete. Applying it must work.
		out.harmless = out.fired > 0
		noPanic(&v, "ApplyRewrite after a harmless plan fault", func() { err = store.ApplyRewrite(plan) })
		if err != nil {
			v.add("applying a plan made despite a harmless fault: %v", err)
		}
		wantPlanned = 0
	}
	if phase == "plan" && len(temps) > 0 {
		v.add("planning left temporaries: %v", temps)
	}

	out.finished = rv.checkFinished(&v, outer, managerDir, wantPlanned, temps)
	if out.temporaries > 0 {
		// A leftover temporary is allowed only if a writer's start-up
		// removes it. The start-up rewrites v1alpha1 files in v1beta1,
		// which is why it runs after the checks above.
		checkStartupRemovesTemporaries(klog.NewContext(context.Background(), klog.Logger{}), &v, filepath.Dir(managerDir))
	}
	return out, v
}

// newRewriteVariant counts the operations of a clean run by phase and
// checks what it made of the fixture.
func newRewriteVariant(t *testing.T, name string, opts imagepullrecords.RewriteOptions) *rewriteVariant {
	t.Helper()
	rv := &rewriteVariant{name: name, opts: opts, fixture: rewriteFixtureFiles(t), says: map[string]string{}, finalSays: map[string]string{}, counts: map[string]map[opKind]int{}}
	for rel, data := range rv.fixture {
		says, _, err := decodeTreeFile(rel, data)
		if err != nil {
			t.Fatalf("fixture %s: %v", rel, err)
		}
		rv.says[rel] = says
	}
	managerDir := rv.write(t)
	fsys := newLifecycleFaultFS()
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: managerDir, FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	fsys.countFromHere()
	plan, err := store.PlanRewrite(opts)
	if err != nil {
		t.Fatalf("%s: clean plan: %v", name, err)
	}
	rv.counts["plan"], _ = fsys.snapshot()
	fsys.countFromHere()
	if err := store.ApplyRewrite(plan); err != nil {
		t.Fatalf("%s: clean apply: %v", name, err)
	}
	rv.counts["apply"], _ = fsys.snapshot()
	rv.planned = len(plan.Files)
	var temps []string
	if rv.final, temps, err = readTree(managerDir); err != nil || len(temps) > 0 {
		t.Fatalf("%s: after a clean rewrite: temporaries %v, %v", name, temps, err)
	}
	if rv.planned == 0 || rv.planned == len(rv.fixture) {
		t.Fatalf("%s: the plan replaces %d of %d files; the fixture must mix files to replace and files already canonical", name, rv.planned, len(rv.fixture))
	}
	for rel, data := range rv.final {
		says, version, err := decodeTreeFile(rel, data)
		if err != nil || version != opts.APIVersion {
			t.Fatalf("%s: clean rewrite: %s at %s: %v", name, rel, version, err)
		}
		rv.finalSays[rel] = says
		// A rewrite changes how a file says it, never what, except the
		// service accounts --drop-service-accounts removes.
		if !opts.DropServiceAccounts && says != rv.says[rel] {
			t.Fatalf("%s: clean rewrite changed what %s says: %s, was %s", name, rel, says, rv.says[rel])
		}
		if opts.DropServiceAccounts && strings.Contains(says, "kubernetesServiceAccounts") {
			t.Fatalf("%s: clean rewrite kept service accounts in %s: %s", name, rel, says)
		}
	}
	return rv
}

// TestLifecycleFaultsRewrite fails every filesystem operation of
// PlanRewrite and of ApplyRewrite in turn with every errno, for records
// migrate and records downgrade --to v1alpha1 (with and without
// --drop-service-accounts).
func TestLifecycleFaultsRewrite(t *testing.T) {
	variants := []*rewriteVariant{
		newRewriteVariant(t, "migrate", imagepullrecords.RewriteOptions{APIVersion: imagepullrecords.APIVersionV1beta1}),
		newRewriteVariant(t, "downgrade", imagepullrecords.RewriteOptions{APIVersion: imagepullrecords.APIVersionV1alpha1}),
		newRewriteVariant(t, "downgrade --drop-service-accounts", imagepullrecords.RewriteOptions{APIVersion: imagepullrecords.APIVersionV1alpha1, DropServiceAccounts: true}),
	}
	tally := newFaultTally()
	byPhase := map[string]int{}
	var temps tempTally
	rewriteErrors, mixtures, planErrors, harmless, finished := 0, 0, 0, 0, 0
	var names []string
	for i, rv := range variants {
		names = append(names, fmt.Sprintf("%s %d of %d files", rv.name, rv.planned, len(rv.fixture)))
		for _, phase := range []string{"plan", "apply"} {
			if phase == "plan" && i > 0 && !longScale() {
				// Every variant plans by reading the same fixture through
				// the same read path; the short run fails it once, the
				// long run for every variant.
				continue
			}
			for _, f := range lcFaults(rv.counts[phase], phase == "apply") {
				out, v := rv.runRewrite(t, phase, f)
				tally.count(f.kind, f.errno, out.fired)
				temps.count(f, out.temporaries)
				if out.fired > 0 {
					byPhase[phase]++
				}
				for _, c := range []struct {
					n   *int
					hit bool
				}{{&rewriteErrors, out.rewriteError}, {&mixtures, out.mixture}, {&planErrors, out.planError}, {&harmless, out.harmless}, {&finished, out.finished}} {
					if c.hit {
						*c.n++
					}
				}
				if len(v) > 0 {
					tally.violations += len(v)
					t.Errorf("%s %s %s: %d violations:\n  %s", rv.name, phase, f, len(v), strings.Join(v, "\n  "))
				}
			}
		}
	}
	sort.Strings(names)
	fmt.Printf("RELIABILITY: faults: rewrite (%s): %d scenarios, %d faults fired (%s; by phase: plan %d, apply %d), %d *RewriteError (%d left a mixture of versions), %d plan errors with nothing written, %d harmless (close of a descriptor only read); every file complete and saying what it said, %s, %d/%d re-runs finished at the target version, violations=%d\n",
		strings.Join(names, ", "), tally.scenarios, tally.fired, tally.format(), byPhase["plan"], byPhase["apply"], rewriteErrors, mixtures, planErrors, harmless, temps.format(), finished, tally.scenarios, tally.violations)
}
