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

package powerloss

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/imagepullrecords"
	"k8s.io/klog/v2"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
	"k8s.io/kubernetes/test/reliability/internal/harness"
	testingclock "k8s.io/utils/clock/testing"
)

var managerDir = filepath.Join(rootDir, imagepullrecords.ManagerDirName)

// rewriteRecords and rewriteIntents size the store of a short rewrite
// sweep: every version and encoding appears, and a sweep stays quick.
const rewriteRecords, rewriteIntents = 4, 3

// rewriteVariant is one way kubelet-imagectl rewrites a store
// (cmd/kubelet-imagectl/app/records_migrate.go).
type rewriteVariant struct {
	name string
	opts imagepullrecords.RewriteOptions
}

var rewriteVariants = []rewriteVariant{
	{name: "migrate", opts: imagepullrecords.RewriteOptions{APIVersion: imagepullrecords.APIVersionV1beta1}},
	{name: "downgrade", opts: imagepullrecords.RewriteOptions{APIVersion: imagepullrecords.APIVersionV1alpha1}},
	{name: "downgrade --drop-service-accounts", opts: imagepullrecords.RewriteOptions{APIVersion: imagepullrecords.APIVersionV1alpha1, DropServiceAccounts: true}},
}

// storedFile is one file of the populated store: its bytes before the
// rewrite, the bytes the rewrite writes, and what it must keep decoding to.
type storedFile struct {
	rel      string
	record   bool
	old, new []byte
	// same is the canonical v1beta1 encoding of what the file says;
	// dropped the same less the service accounts (records only), which
	// DropServiceAccounts allows a file to lose.
	same, dropped []byte
}

// rewriteConfig is one rewrite sweep.
type rewriteConfig struct {
	seed             uint64
	records, intents int
	variant          rewriteVariant
	modes            []LossMode
	skip             map[SyncClass]bool
	recovery         recoveryChecks
}

// recoveryChecks say which survivors of a rewrite sweep are also rewritten
// again and started over by a writer: the costly half of a check.
type recoveryChecks int

const (
	// noRecovery: only what the cut left is checked (the fsync map).
	noRecovery recoveryChecks = iota
	// recoveryPerOperation: one survivor per operation, the loss mode
	// taking turns, so every mode is recovered from over the sweep.
	recoveryPerOperation
	// recoveryEverySurvivor: every survivor.
	recoveryEverySurvivor
)

// rewriteResult counts what a rewrite sweep did. Safety violations break
// what a file says (lost, torn, empty, another record, a start-up or a
// rerun that fails); durability violations undo a rewrite that
// ApplyRewrite reported done.
type rewriteResult struct {
	files, rewritten, ops, cuts, reruns, startups int
	// oldAndNew counts the cuts that left some files in their old
	// version and others in their new one.
	oldAndNew, temporaries int
	safety, durability     []string
	syncs                  map[SyncClass]int
}

func canonicalRecord(t *testing.T, r *kubeletv1beta1.ImagePulledRecord) []byte {
	t.Helper()
	data, err := imagepullrecords.EncodeRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// withoutServiceAccounts is record less its kubernetesServiceAccounts
// lists, every entry kept: what DropServiceAccounts may leave.
func withoutServiceAccounts(r *kubeletv1beta1.ImagePulledRecord) *kubeletv1beta1.ImagePulledRecord {
	out := r.DeepCopy()
	for repo, c := range out.CredentialMapping {
		c.KubernetesServiceAccounts = nil
		out.CredentialMapping[repo] = c
	}
	return out
}

// writeDurable writes data at path through fsys and makes it durable, as
// if an earlier process had written it long ago.
func writeDurable(t *testing.T, fsys imagepullrecords.FS, path string, data []byte) {
	t.Helper()
	f, err := fsys.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, imagepullrecords.FileMode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := fsys.OpenFile(filepath.Dir(path), os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	_ = d.Close()
}

// encoding picks how a file is written: canonical v1beta1 (what this tree
// writes), canonical v1alpha1 (kubelets 1.33 and 1.34, or a downgrade), or
// either version indented (another tool): every kind is in some plan.
func encoding(t *testing.T, rng *rand.Rand, canonical func(apiVersion string) ([]byte, error)) []byte {
	t.Helper()
	version := imagepullrecords.APIVersionV1beta1
	if rng.IntN(2) == 0 {
		version = imagepullrecords.APIVersionV1alpha1
	}
	data, err := canonical(version)
	if err != nil {
		t.Fatal(err)
	}
	if rng.IntN(2) == 0 {
		return data
	}
	var out bytes.Buffer
	if err := json.Indent(&out, data, "", "  "); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// populate writes records and intents of both versions, with service
// accounts, secrets, nodePodsAccessible, {} entries and an empty mapping.
func populate(t *testing.T, fsys imagepullrecords.FS, cfg rewriteConfig) map[string]*storedFile {
	t.Helper()
	rng := rand.New(rand.NewPCG(cfg.seed, 2))
	if _, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: managerDir, FS: fsys}); err != nil {
		t.Fatal(err)
	}
	files := map[string]*storedFile{}
	stamp := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	for i := range cfg.records {
		r := &kubeletv1beta1.ImagePulledRecord{
			LastUpdatedTime:   stamp,
			ImageRef:          fmt.Sprintf("sha256:%064x", 1000+i),
			CredentialMapping: map[string]kubeletv1beta1.ImagePullCredentials{},
		}
		// One record in ten has an empty mapping, as released kubelets
		// write for an interrupted pull.
		repos := 1 + rng.IntN(3)
		if i%10 == 9 {
			repos = 0
		}
		for j := range repos {
			var c kubeletv1beta1.ImagePullCredentials
			switch rng.IntN(4) {
			case 0:
				c.NodePodsAccessible = true
			case 1:
				// {}: pulled by the kubelet, grants nothing.
			default:
				for k := range rng.IntN(3) {
					c.KubernetesSecrets = append(c.KubernetesSecrets, kubeletv1beta1.ImagePullSecret{
						UID: fmt.Sprintf("uid-s%d-%d", i, k), Namespace: "team-a", Name: fmt.Sprintf("s%d-%d", i, k), CredentialHash: fmt.Sprintf("%064x", i*10+k),
					})
				}
				for k := range rng.IntN(3) {
					c.KubernetesServiceAccounts = append(c.KubernetesServiceAccounts, kubeletv1beta1.ImagePullServiceAccount{
						UID: fmt.Sprintf("uid-sa%d-%d", i, k), Namespace: "team-b", Name: fmt.Sprintf("sa%d-%d", i, k),
					})
				}
			}
			r.CredentialMapping[fmt.Sprintf("reg.example/team/app-%d-%d", i, j)] = c
		}
		rel := filepath.Join(imagepullrecords.RecordsDirName, imagepullrecords.FileName(r.ImageRef))
		f := &storedFile{rel: rel, record: true, same: canonicalRecord(t, r), dropped: canonicalRecord(t, withoutServiceAccounts(r))}
		f.old = encoding(t, rng, func(v string) ([]byte, error) { return imagepullrecords.EncodeRecordVersion(r, v) })
		want := r
		if cfg.variant.opts.DropServiceAccounts {
			want = withoutServiceAccounts(r)
		}
		var err error
		if f.new, err = imagepullrecords.EncodeRecordVersion(want, cfg.variant.opts.APIVersion); err != nil {
			t.Fatal(err)
		}
		files[rel] = f
	}
	for i := range cfg.intents {
		intent := &kubeletv1beta1.ImagePullIntent{Image: fmt.Sprintf("reg.example/team/app-%d:%d", i, i%3)}
		rel := filepath.Join(imagepullrecords.IntentsDirName, imagepullrecords.FileName(intent.Image))
		canonical, err := imagepullrecords.EncodeIntent(intent)
		if err != nil {
			t.Fatal(err)
		}
		f := &storedFile{rel: rel, same: canonical, dropped: canonical}
		f.old = encoding(t, rng, func(v string) ([]byte, error) { return imagepullrecords.EncodeIntentVersion(intent, v) })
		if f.new, err = imagepullrecords.EncodeIntentVersion(intent, cfg.variant.opts.APIVersion); err != nil {
			t.Fatal(err)
		}
		files[rel] = f
	}
	for _, f := range files {
		writeDurable(t, fsys, filepath.Join(managerDir, f.rel), f.old)
	}
	return files
}

// readAll reads path from fsys, or returns nil and the error.
func readAll(fsys imagepullrecords.FS, path string) ([]byte, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// versionCheck says which bytes checkFiles accepts in a file.
type versionCheck int

const (
	// oldOrNew: a cut during the rewrite leaves each file as it was or
	// rewritten, nothing else.
	oldOrNew versionCheck = iota
	// newOnly: once the rewrite finished, every file is rewritten.
	newOnly
	// anyBytes: after a writer's start-up, which migrates v1alpha1 files,
	// only what each file decodes to counts.
	anyBytes
)

// checkFiles compares what fsys holds with files: the same names (besides
// temporaries), each holding bytes that want accepts and decoding to what
// it said before (less the dropped service accounts). It returns how many
// files hold their new version and how many temporaries there are.
func checkFiles(fsys imagepullrecords.FS, files map[string]*storedFile, want versionCheck, violate func(format string, args ...any)) (newer, temporaries int) {
	for _, dir := range []string{imagepullrecords.RecordsDirName, imagepullrecords.IntentsDirName} {
		names, err := fsys.ReadDirNames(filepath.Join(managerDir, dir))
		if err != nil {
			violate("listing %s: %v", dir, err)
			continue
		}
		for _, name := range names {
			if imagepullrecords.IsTemporary(name) {
				temporaries++
				continue
			}
			if files[filepath.Join(dir, name)] == nil {
				violate("%s/%s: a file that was not in the store", dir, name)
			}
		}
	}
	rels := make([]string, 0, len(files))
	for rel := range files {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		f := files[rel]
		data, err := readAll(fsys, filepath.Join(managerDir, rel))
		switch {
		case err != nil:
			violate("%s: lost: %v", rel, err)
			continue
		case bytes.Equal(data, f.new):
			newer++
		case want == newOnly:
			violate("%s: does not hold its new version (%d bytes, new %d) after the rewrite was reported done", rel, len(data), len(f.new))
		case want == oldOrNew && !bytes.Equal(data, f.old):
			violate("%s: holds neither its old nor its new version: %d bytes (old %d, new %d)", rel, len(data), len(f.old), len(f.new))
		}
	}
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: managerDir, FS: fsys, ReadOnly: true})
	if err != nil {
		violate("opening read-only: %v", err)
		return newer, temporaries
	}
	says := func(rel string, got []byte) {
		if f := files[rel]; f != nil && !bytes.Equal(got, f.same) && !bytes.Equal(got, f.dropped) {
			violate("%s: decodes to %s, want %s", rel, bytes.TrimSpace(got), bytes.TrimSpace(f.same))
		}
	}
	badRecords, err := store.WalkRecords(func(rf imagepullrecords.RecordFile) {
		data, err := imagepullrecords.EncodeRecord(rf.Record)
		if err != nil {
			violate("%s: %v", rf.File, err)
		}
		says(rf.File, data)
	})
	if err != nil {
		violate("walking records: %v", err)
	}
	badIntents, err := store.WalkIntents(func(f imagepullrecords.IntentFile) {
		data, err := imagepullrecords.EncodeIntent(f.Intent)
		if err != nil {
			violate("%s: %v", f.File, err)
		}
		says(f.File, data)
	})
	if err != nil {
		violate("walking intents: %v", err)
	}
	for _, bad := range append(badRecords, badIntents...) {
		violate("%s: does not decode: %v", bad.File, bad.Err)
	}
	return newer, temporaries
}

// rewriteSweep populates a store, plans a rewrite and cuts the power
// before every operation of ApplyRewrite, and once after it returned,
// under every mode of cfg; each survivor is checked, rewritten again, and
// started over by a writer.
func rewriteSweep(t *testing.T, cfg rewriteConfig) *rewriteResult {
	t.Helper()
	ctx := klog.NewContext(context.Background(), klog.Logger{})
	res := &rewriteResult{}
	cutRand := rand.New(rand.NewPCG(cfg.seed, 3))
	checkLocks := t.TempDir()
	var fsys *MemFS
	var files map[string]*storedFile
	active := false
	check := func(cut *MemFS, where string, done, recover bool) {
		res.cuts++
		safety := func(format string, args ...any) {
			res.safety = append(res.safety, fmt.Sprintf("%s (%s): %s", cfg.variant.name, where, fmt.Sprintf(format, args...)))
		}
		durability := func(format string, args ...any) {
			res.durability = append(res.durability, fmt.Sprintf("%s (%s): %s", cfg.variant.name, where, fmt.Sprintf(format, args...)))
		}
		// What the cut left: old or new, nothing else.
		newer, temporaries := checkFiles(cut, files, oldOrNew, safety)
		res.temporaries += temporaries
		if newer > 0 && newer < len(files) {
			res.oldAndNew++
		}
		if done {
			checkFiles(cut, files, newOnly, durability)
		}
		if !recover {
			return
		}

		// Running the rewrite again over the survivor finishes it.
		again := cut.Cut(KeepAll, cutRand, Options{LockDir: checkLocks})
		res.reruns++
		if err := rewriteOnce(again, cfg.variant.opts); err != nil {
			safety("rerun: %v", err)
		} else {
			checkFiles(again, files, newOnly, safety)
		}

		// A writer's start-up removes the leftover temporaries and keeps
		// every record and intent (migrating old versions is allowed).
		started := cut.Cut(KeepAll, cutRand, Options{LockDir: checkLocks})
		res.startups++
		m, err := pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{
			RootDir:     rootDir,
			FS:          started,
			ImageLister: harness.Lister(nil),
			Clock:       testingclock.NewFakeClock(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)),
		})
		if err != nil {
			safety("start-up: %v", err)
			return
		}
		_ = m.Close()
		if _, left := checkFiles(started, files, anyBytes, safety); left > 0 {
			safety("%d temporaries left after a writer's start-up", left)
		}
	}
	hook := func(op OpKind, path string) error {
		if !active {
			return nil
		}
		res.ops++
		for i, mode := range cfg.modes {
			recover := cfg.recovery == recoveryEverySurvivor || cfg.recovery == recoveryPerOperation && res.ops%len(cfg.modes) == i
			check(fsys.Cut(mode, cutRand, Options{LockDir: checkLocks}), fmt.Sprintf("cut %d before %s %s, %s", res.ops, op, path, mode), false, recover)
		}
		return nil
	}
	fsys = NewMemFS(Options{LockDir: t.TempDir(), Skip: cfg.skip, Hook: hook})
	fsys.MkdirDurable(rootDir)
	files = populate(t, fsys, cfg)
	res.files = len(files)

	// As records migrate and downgrade do: the lock, a plan, the rewrite.
	lock, err := imagepullrecords.AcquireWriterLock(fsys, managerDir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Release() }()
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: managerDir, FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := store.PlanRewrite(cfg.variant.opts)
	if err != nil {
		t.Fatal(err)
	}
	res.rewritten = len(plan.Files)
	for _, pf := range plan.Files {
		if f := files[pf.File]; f == nil || bytes.Equal(f.old, f.new) {
			t.Fatalf("the plan rewrites %s, which is already in its new version", pf.File)
		}
	}
	changing := 0
	for _, f := range files {
		if !bytes.Equal(f.old, f.new) {
			changing++
		}
	}
	if changing != len(plan.Files) || plan.Unchanged != len(files)-changing {
		t.Fatalf("the plan rewrites %d files and keeps %d; want %d and %d", len(plan.Files), plan.Unchanged, changing, len(files)-changing)
	}
	fsys.BeginRewrite()
	active = true
	err = store.ApplyRewrite(plan)
	active = false
	fsys.EndRewrite()
	if err != nil {
		t.Fatalf("ApplyRewrite: %v", err)
	}
	for _, mode := range cfg.modes {
		check(fsys.Cut(mode, cutRand, Options{LockDir: checkLocks}), fmt.Sprintf("cut after ApplyRewrite returned, %s", mode), true, cfg.recovery != noRecovery)
	}
	res.syncs = fsys.Syncs()
	return res
}

// rewriteOnce plans and applies a rewrite as records migrate does, then
// checks that planning again finds nothing left to do.
func rewriteOnce(fsys imagepullrecords.FS, opts imagepullrecords.RewriteOptions) error {
	lock, err := imagepullrecords.AcquireWriterLock(fsys, managerDir)
	if err != nil {
		return err
	}
	defer func() { _ = lock.Release() }()
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: managerDir, FS: fsys})
	if err != nil {
		return err
	}
	plan, err := store.PlanRewrite(opts)
	if err != nil {
		return fmt.Errorf("planning: %w", err)
	}
	if err := store.ApplyRewrite(plan); err != nil {
		return fmt.Errorf("applying: %w", err)
	}
	if plan, err = store.PlanRewrite(opts); err != nil {
		return fmt.Errorf("planning after the rerun: %w", err)
	}
	if len(plan.Files) > 0 {
		return fmt.Errorf("after the rerun, %d files still to rewrite (%s first)", len(plan.Files), plan.Files[0].File)
	}
	return nil
}

// TestPowerLossRewrite cuts the power before every operation of
// Store.ApplyRewrite, for records migrate, records downgrade --to v1alpha1
// and the same with --drop-service-accounts, under every loss mode: every
// file keeps decoding to what it said, in its old or new version, a rerun
// finishes the rewrite, a writer's start-up removes the temporaries, and
// once ApplyRewrite returned the new versions survive any cut.
func TestPowerLossRewrite(t *testing.T) {
	seeds, records, intents, recovery := []uint64{1}, rewriteRecords, rewriteIntents, recoveryPerOperation
	if long() {
		seeds, records, intents, recovery = []uint64{1, 2, 3, 4, 5, 6}, 16, 8, recoveryEverySurvivor
	}
	total := &rewriteResult{}
	for _, variant := range rewriteVariants {
		for _, seed := range seeds {
			res := rewriteSweep(t, rewriteConfig{seed: seed, records: records, intents: intents, variant: variant, modes: []LossMode{LoseAll, KeepAll, Mixed}, recovery: recovery})
			if res.rewritten == 0 {
				t.Errorf("%s, seed %d: the plan rewrites nothing", variant.name, seed)
			}
			total.files += res.files
			total.rewritten += res.rewritten
			total.ops += res.ops
			total.cuts += res.cuts
			total.reruns += res.reruns
			total.startups += res.startups
			total.oldAndNew += res.oldAndNew
			total.temporaries += res.temporaries
			total.safety = append(total.safety, res.safety...)
			total.durability = append(total.durability, res.durability...)
		}
	}
	violations := append(total.safety, total.durability...)
	if len(violations) > 0 {
		t.Errorf("%d violations:\n%s", len(violations), summary(violations, 20))
	}
	if total.oldAndNew == 0 {
		t.Errorf("no cut left old and new versions side by side: the sweep does not test a rewrite cut part way")
	}
	msg := fmt.Sprintf("RELIABILITY: powerloss: rewrite: %d stores (%d files, %d rewritten) x migrate/downgrade/downgrade --drop-service-accounts: %d ApplyRewrite operations, %d power cuts under lose/keep/mixed (%d left old and new versions mixed, %d temporaries met), %d reruns, %d writer start-ups, %d violations (%d undoing a finished rewrite)",
		len(seeds)*len(rewriteVariants), total.files, total.rewritten, total.ops, total.cuts, total.oldAndNew, total.temporaries, total.reruns, total.startups, len(violations), len(total.durability))
	t.Log(msg)
	if long() {
		fmt.Println(msg)
	}
}
