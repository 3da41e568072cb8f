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
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/component-base/metrics/testutil"
	"k8s.io/imagepullrecords"
	"k8s.io/klog/v2"
	testingclock "k8s.io/utils/clock/testing"

	"k8s.io/kubernetes/pkg/kubelet/cri/remote"
	"k8s.io/kubernetes/pkg/kubelet/images"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
	"k8s.io/kubernetes/pkg/util/parsers"
)

var faultErrnos = []syscall.Errno{syscall.ENOSPC, syscall.EIO, syscall.EACCES, syscall.EROFS}

// node is one kubelet over a root dir, a fake runtime and a fault FS.
type node struct {
	t        *testing.T
	ctx      context.Context
	root     string
	fsys     *faultFS
	rt       *fakeRuntime
	clock    *testingclock.FakeClock
	recorder *record.FakeRecorder
	pm       pullmanager.Manager
	im       images.ImageManager
}

func newNode(t *testing.T, ctx context.Context, fsys *faultFS) *node {
	return &node{
		t:        t,
		ctx:      ctx,
		root:     t.TempDir(),
		fsys:     fsys,
		rt:       newFakeRuntime(),
		clock:    testingclock.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		recorder: record.NewFakeRecorder(1000),
	}
}

// start opens the pull manager and the image manager, as a kubelet does.
func (n *node) start() error {
	pm, err := pullmanager.NewFileBackedPullManager(n.ctx, pullmanager.Options{
		RootDir:                n.root,
		FS:                     n.fsys,
		ImageLister:            remote.ImageLister{ImageService: n.rt},
		Clock:                  n.clock,
		HousekeepingAttempts:   1,
		HousekeepingRetryDelay: time.Millisecond,
	})
	if err != nil {
		return err
	}
	im, err := images.NewImageManager(images.Options{
		ImageService:             n.rt,
		PullManager:              pm,
		EnsureSecretPulledImages: true,
		Recorder:                 n.recorder,
		GetSecret:                getSecret,
	})
	if err != nil {
		_ = pm.Close()
		return err
	}
	n.pm, n.im = pm, im
	return nil
}

func (n *node) stop() {
	if n.im != nil {
		n.im.Stop()
		_ = n.pm.Close()
		n.im, n.pm = nil, nil
	}
}

// ensure runs one container of a new pod.
func (n *node) ensure(ns, image string, policy v1.PullPolicy, withSecret bool) (images.EnsureResult, error) {
	pod, ref := newPod(ns, image, policy, withSecret)
	return n.im.EnsureImageExists(n.ctx, ref, pod, &pod.Spec.Containers[0])
}

// drainEvents returns the events recorded so far.
func (n *node) drainEvents() []string {
	var out []string
	for {
		select {
		case e := <-n.recorder.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

type metricsSnapshot struct {
	intentErrs, recordErrs float64
	checkErrs              uint64
}

func readMetrics(t *testing.T) metricsSnapshot {
	t.Helper()
	intent, err := testutil.GetCounterMetricValue(pullmanager.RecordWriteErrors.WithLabelValues("intent"))
	if err != nil {
		t.Fatalf("reading the intent write errors: %v", err)
	}
	rec, err := testutil.GetCounterMetricValue(pullmanager.RecordWriteErrors.WithLabelValues("record"))
	if err != nil {
		t.Fatalf("reading the record write errors: %v", err)
	}
	return metricsSnapshot{intentErrs: intent, recordErrs: rec, checkErrs: pullmanager.MustPullChecksValue(pullmanager.CheckResultError)}
}

// workloadOutcome is what one run of the workload saw.
type workloadOutcome struct {
	violations  []string
	startupErrs int
}

// runWorkload runs the faulted phase (pulls, a pull and prune of a second
// image, a restart, decisions), clears the fault, pulls again and checks
// that the state is repaired. It never stops at the first violation.
func runWorkload(n *node) workloadOutcome {
	var out workloadOutcome
	violate := func(format string, args ...any) {
		out.violations = append(out.violations, fmt.Sprintf(format, args...))
	}
	start := func() bool {
		if err := n.start(); err != nil {
			// A start-up that fails says why and holds nothing; the
			// kubelet restarts it. The fault fires once, so the retry
			// must succeed.
			out.startupErrs++
			if err := n.start(); err != nil {
				violate("start-up failed twice: %v", err)
				return false
			}
		}
		return true
	}
	// A pod without credentials must never be admitted to P while P was
	// pulled with credentials.
	checkDenied := func(step string) {
		if res, err := n.ensure(nsY, imageP, v1.PullNever, false); err == nil {
			violate("%s: a pod without credentials was admitted to %s (%s)", step, imageP, res.Verification)
		}
	}

	// Faulted phase.
	if !start() {
		return out
	}
	_, _ = n.ensure(nsX, imageP, v1.PullIfNotPresent, true)
	checkDenied("after the first pull")
	_, _ = n.ensure(nsX, imageQ, v1.PullIfNotPresent, true)
	n.rt.remove(imageQ)
	n.clock.Step(time.Hour)
	_, _ = n.im.PruneUnknownRecords(n.ctx, n.clock.Now())
	n.stop()
	if !start() {
		return out
	}
	checkDenied("after a restart")
	_, _ = n.ensure(nsX, imageP, v1.PullNever, true)

	// The fault clears: the next successful pull repairs the state.
	n.fsys.clear()
	if _, err := n.ensure(nsX, imageP, v1.PullAlways, true); err != nil {
		violate("pull after the fault cleared: %v", err)
	}
	if err := n.pm.Writable(); err != nil {
		violate("records still not writable after a successful pull: %v", err)
	}
	n.stop()
	if err := n.start(); err != nil {
		violate("start-up after the fault cleared: %v", err)
		return out
	}
	defer n.stop()
	if res, err := n.ensure(nsX, imageP, v1.PullNever, true); err != nil || res.Verification != pullmanager.VerificationSecretHash {
		violate("after repair, the pod with the Secret: %+v, %v; want admitted by secretHash", res, err)
	}
	checkDenied("after repair")
	out.violations = append(out.violations, checkRepairedOnDisk(n.root)...)
	return out
}

// checkRepairedOnDisk checks P's files: its record decodes and holds s1,
// and no intent of P is left.
func checkRepairedOnDisk(root string) []string {
	var bad []string
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: filepath.Join(root, imagepullrecords.ManagerDirName), ReadOnly: true})
	if err != nil {
		return []string{fmt.Sprintf("opening the store: %v", err)}
	}
	pHash := imagepullrecords.KeyHash(newFakeRuntime().ids[imageP])
	intentHash := imagepullrecords.KeyHash(imageP)
	badIntents, err := store.WalkIntents(func(f imagepullrecords.IntentFile) {
		if f.Hash == intentHash {
			bad = append(bad, "the intent of P is still on disk after a successful pull")
		}
	})
	if err != nil {
		bad = append(bad, fmt.Sprintf("listing intents: %v", err))
	}
	for _, f := range badIntents {
		if f.Hash == intentHash {
			bad = append(bad, fmt.Sprintf("P's intent file is broken: %v", f.Err))
		}
	}
	found := false
	repo, _ := parsers.RepositoryName(imageP)
	badRecords, err := store.WalkRecords(func(f imagepullrecords.RecordFile) {
		if f.Hash != pHash {
			return
		}
		found = true
		entry, ok := f.Record.CredentialMapping[repo]
		if !ok || len(entry.KubernetesSecrets) != 1 || entry.KubernetesSecrets[0].Name != secretS1 {
			bad = append(bad, fmt.Sprintf("P's record after repair: %+v", f.Record.CredentialMapping))
		}
	})
	if err != nil {
		bad = append(bad, fmt.Sprintf("listing records: %v", err))
	}
	for _, f := range badRecords {
		bad = append(bad, fmt.Sprintf("broken record after repair: %s: %v", f.File, f.Err))
	}
	if !found {
		bad = append(bad, "P's record is missing after repair")
	}
	return bad
}

// TestStoreFaults fails every filesystem operation of the store in turn
// with every errno. The short run injects the first and last operation of
// each kind; the long run every one.
func TestStoreFaults(t *testing.T) {
	// Count the operations of a clean run.
	baseline := newFaultFS()
	clean := newNode(t, klog.NewContext(context.Background(), klog.Logger{}), baseline)
	if out := runWorkload(clean); len(out.violations) > 0 || out.startupErrs > 0 {
		t.Fatalf("clean run: %v (start-up errors %d)", out.violations, out.startupErrs)
	}
	// The clean run's counts cover the faulted phase and the repair; a
	// fault can only land in the faulted phase, whose counts are what a
	// run up to fsys.clear() sees. Counting them all is an upper bound:
	// a fault past the faulted phase is simply never fired.
	counts, _ := baseline.snapshot()

	type tally struct{ injected, fired, silent int }
	byErrno := map[string]*tally{}
	byOp := map[string]*tally{}
	scenarios, violations := 0, 0
	for _, kind := range allOpKinds {
		c := counts[kind]
		var ns []int
		switch {
		case c == 0:
			continue
		case longScale():
			for i := 1; i <= c; i++ {
				ns = append(ns, i)
			}
		default:
			ns = []int{1}
			if c > 1 {
				ns = append(ns, c/2+1)
			}
		}
		for _, errno := range faultErrnos {
			for _, at := range ns {
				name := fmt.Sprintf("%s/%d/%s", kind, at, errnoName(errno))
				scenarios++
				logs := &logCapture{}
				ctx := klog.NewContext(context.Background(), logs.logger())
				fsys := newFaultFS()
				fsys.arm(kind, at, errno)
				n := newNode(t, ctx, fsys)
				before := readMetrics(t)
				out := runWorkload(n)
				after := readMetrics(t)
				_, fired := fsys.snapshot()

				logged := logs.errorsWith(errno)
				te := byErrno[errnoName(errno)]
				if te == nil {
					te = &tally{}
					byErrno[errnoName(errno)] = te
				}
				to := byOp[string(kind)]
				if to == nil {
					to = &tally{}
					byOp[string(kind)] = to
				}
				te.injected++
				to.injected++
				if fired > 0 {
					te.fired++
					to.fired++
				}
				// Logged once: never twice. A start-up that fails returns
				// its error instead of logging it.
				surfaced := logged + out.startupErrs
				if surfaced > 1 {
					out.violations = append(out.violations, fmt.Sprintf("the failure surfaced %d times (logged %d, start-up errors %d)", surfaced, logged, out.startupErrs))
				}
				counted := after.intentErrs > before.intentErrs || after.recordErrs > before.recordErrs || after.checkErrs > before.checkErrs
				if fired > 0 && surfaced == 0 {
					// Only failures the store tolerates by design stay
					// silent: closing a descriptor that was only read.
					if kind != opClose {
						out.violations = append(out.violations, "the injected failure was never logged")
					}
					te.silent++
					to.silent++
				}
				if fired > 0 && logged > 0 && !counted && out.startupErrs == 0 && writesOp(kind) {
					out.violations = append(out.violations, "a failed write was logged but not counted")
				}
				if len(out.violations) > 0 {
					violations += len(out.violations)
					t.Errorf("%s: %d violations:\n  %s", name, len(out.violations), strings.Join(out.violations, "\n  "))
					for _, e := range logs.all() {
						if e.isError {
							t.Logf("  log: %s: %v", e.msg, e.err)
						}
					}
				}
			}
		}
	}
	fired, silent := 0, 0
	for _, tl := range byErrno {
		fired += tl.fired
		silent += tl.silent
	}
	fmt.Printf("RELIABILITY: faults: store: %d scenarios, %d faults fired (by errno: %s; by op: %s), %d logged once, %d harmless and unlogged (close of a descriptor only read), violations=%d\n",
		scenarios, fired, formatTally(byErrno, func(tl *tally) int { return tl.fired }),
		formatTally(byOp, func(tl *tally) int { return tl.fired }), fired-silent, silent, violations)
}

// writesOp reports whether an operation kind is part of a write.
func writesOp(kind opKind) bool {
	switch kind {
	case opCreateTemp, opWrite, opSync, opRename, opRemove:
		return true
	}
	return false
}

func errnoName(errno syscall.Errno) string {
	switch errno {
	case syscall.ENOSPC:
		return "ENOSPC"
	case syscall.EIO:
		return "EIO"
	case syscall.EACCES:
		return "EACCES"
	case syscall.EROFS:
		return "EROFS"
	}
	return errno.Error()
}

func formatTally[T any](m map[string]*T, value func(*T) int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, value(m[k])))
	}
	return strings.Join(parts, ", ")
}
