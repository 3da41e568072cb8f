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
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/imagepullrecords"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
	"k8s.io/kubernetes/test/reliability/internal/harness"
	testingclock "k8s.io/utils/clock/testing"
)

const rootDir = "/var/lib/kubelet"

var recordsDir = filepath.Join(rootDir, imagepullrecords.ManagerDirName, imagepullrecords.RecordsDirName)

// revokeEvery is the RevokeEvery of the workload of TestPowerLoss and
// TestFsyncMap: often enough that even a short sweep meets several
// revocations, and cuts inside them (the crash campaign uses 10 and 3).
const revokeEvery = 6

// crashEvery is how rarely, besides directory fsyncs, a sweep with process
// crashes crashes the process before a state-changing operation.
const crashEvery = 50

// errProcessDied fails every operation of a manager whose process the
// sweep has crashed.
var errProcessDied = errors.New("process crashed")

func long() bool { return os.Getenv("RELIABILITY_SCALE") == "long" }

// sweepConfig is one power-cut sweep: a workload run once, cut before
// every state-changing operation (or every cutEvery-th one), each cut
// restarted and checked under every loss mode.
type sweepConfig struct {
	seed     uint64
	steps    int
	cutEvery int
	modes    []LossMode
	skip     map[SyncClass]bool
	// crashes interleaves process crashes: the workload's manager dies
	// before a state-changing operation (one in crashEvery, and one in six
	// directory fsyncs), keeping every unsynced change, and a new manager
	// continues over the same filesystem; later cuts see both.
	crashes    bool
	crashEvery int
	// revokeEvery is the workload's RevokeEvery: one step in revokeEvery
	// deletes a Secret, a service account or a namespace from the
	// cluster and revokes it, so cuts also land inside revocations.
	revokeEvery int
}

// sweepResult counts what a sweep did.
type sweepResult struct {
	cuts, restarts, decisions, broken, temporaries int
	pulls, recorded, crashes                       int
	// revived counts records a cut brought back after their removal.
	revived int
	// revocations counts acknowledged revocation passes, revoked the
	// credentials they removed, revokingCuts the cuts between a source's
	// deletion and the acknowledgement of its revocation.
	revocations, revoked, revokingCuts int
	violations                         []string
	syncs                              map[SyncClass]int
}

// mutating are the operations before which a cut can leave a different
// state than before the previous one.
var mutating = map[OpKind]bool{OpMkdir: true, OpChmod: true, OpCreateTemp: true, OpRename: true, OpRemove: true, OpWrite: true, OpSyncFile: true, OpSyncDir: true, OpCreate: true}

func sweep(t *testing.T, cfg sweepConfig) *sweepResult {
	t.Helper()
	// A discarding logger: the workload's manager logs every write that a
	// cut makes fail.
	ctx := klog.NewContext(context.Background(), klog.Logger{})
	res := &sweepResult{}
	world := harness.NewWorld()
	oracle := harness.NewOracle(world)
	env := &revocationEnv{OracleEnv: &harness.OracleEnv{Oracle: oracle}}
	clk := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	rng := rand.New(rand.NewPCG(cfg.seed, 0x9e3779b97f4a7c15))
	cutRand := rand.New(rand.NewPCG(cfg.seed, 1))
	checkLocks := t.TempDir()
	mutations := 0
	dead := false
	var fsys *MemFS
	hook := func(op OpKind, path string) error {
		if dead {
			return errProcessDied
		}
		if !mutating[op] {
			return nil
		}
		if cfg.crashes && (cutRand.IntN(cfg.crashEvery) == 0 || op == OpSyncDir && cutRand.IntN(6) == 0) {
			dead = true
			res.crashes++
			return errProcessDied
		}
		mutations++
		if cfg.cutEvery > 1 && mutations%cfg.cutEvery != 0 {
			return nil
		}
		res.cuts++
		if env.revoking {
			res.revokingCuts++
		}
		view := oracle.View(-1)
		for _, mode := range cfg.modes {
			cut := fsys.Cut(mode, cutRand, Options{LockDir: checkLocks})
			now := fsys.Names(recordsDir)
			for name := range cut.Names(recordsDir) {
				if !now[name] && !imagepullrecords.IsTemporary(name) {
					res.revived++
				}
			}
			rep := harness.CheckRestart(ctx, harness.CheckOptions{
				RootDir: rootDir,
				FS:      cut,
				View:    view,
				Clock:   testingclock.NewFakeClock(clk.Now()),
			})
			res.restarts++
			res.decisions += rep.Decisions
			res.broken += rep.Broken
			res.temporaries += rep.Temporaries
			for _, v := range rep.Violations {
				res.violations = append(res.violations, fmt.Sprintf("cut %d before %s %s (%s): %s", mutations, op, path, mode, v))
			}
		}
		return nil
	}
	fsys = NewMemFS(Options{LockDir: t.TempDir(), Skip: cfg.skip, Hook: hook})
	fsys.MkdirDurable(rootDir)
	wl := &harness.Workload{
		World:       world,
		Env:         env,
		Clock:       clk,
		Rand:        rng,
		RevokeEvery: cfg.revokeEvery,
		Open: func(ctx context.Context) (pullmanager.Manager, error) {
			fsys.BeginOpen()
			return pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{
				RootDir:     rootDir,
				FS:          fsys,
				Policy:      config.NeverVerifyPreloadedImages,
				ImageLister: harness.ImageLister(env),
				Clock:       clk,
			})
		},
	}
	for wl.Stats.Steps < cfg.steps {
		err := wl.Run(ctx, cfg.steps-wl.Stats.Steps)
		if err == nil {
			break
		}
		if !dead {
			t.Fatalf("workload: %v", err)
		}
		// The process died; the next one starts over what it left. A
		// revocation it was running is abandoned, never acknowledged.
		dead = false
		env.revoking = false
	}
	res.violations = append(res.violations, env.Violations...)
	res.pulls, res.recorded = wl.Stats.Pulls, wl.Stats.PullsRecorded
	res.revocations, res.revoked = env.acknowledged, wl.Stats.CredentialsRevoked
	res.syncs = fsys.Syncs()
	return res
}

// revocationEnv notes whether a revocation is under way: between the
// oracle's deletion event and its acknowledgement a cut may leave every
// record the revocation touched in either version, which the oracle
// accepts (package harness, revoke.go).
type revocationEnv struct {
	*harness.OracleEnv
	revoking     bool
	acknowledged int
}

func (e *revocationEnv) Deleted(c harness.Cred, namespace string) {
	e.OracleEnv.Deleted(c, namespace)
	e.revoking = true
}

func (e *revocationEnv) Revoked(c harness.Cred, namespace string) {
	e.OracleEnv.Revoked(c, namespace)
	e.revoking = false
	e.acknowledged++
}

func summary(violations []string, max int) string {
	if len(violations) > max {
		return strings.Join(violations[:max], "\n") + fmt.Sprintf("\n... and %d more", len(violations)-max)
	}
	return strings.Join(violations, "\n")
}

// TestPowerLoss cuts the power before every state-changing filesystem
// operation of a write-heavy workload, under each loss mode, and checks
// every invariant after a restart over what survived.
func TestPowerLoss(t *testing.T) {
	seeds, steps := []uint64{1}, 40
	if long() {
		seeds, steps = []uint64{1, 2, 3, 4, 5, 6, 7, 8}, 120
	}
	total := &sweepResult{}
	var configs []sweepConfig
	for _, seed := range seeds {
		configs = append(configs,
			sweepConfig{seed: seed, steps: steps, modes: []LossMode{LoseAll, KeepAll, Mixed}, revokeEvery: revokeEvery},
			sweepConfig{seed: seed + 100, steps: steps, modes: []LossMode{LoseAll, Mixed}, crashes: true, crashEvery: crashEvery, revokeEvery: revokeEvery})
	}
	for _, cfg := range configs {
		res := sweep(t, cfg)
		total.crashes += res.crashes
		total.cuts += res.cuts
		total.restarts += res.restarts
		total.decisions += res.decisions
		total.broken += res.broken
		total.pulls += res.pulls
		total.recorded += res.recorded
		total.revocations += res.revocations
		total.revoked += res.revoked
		total.revokingCuts += res.revokingCuts
		total.violations = append(total.violations, res.violations...)
	}
	if len(total.violations) > 0 {
		t.Errorf("%d invariant violations:\n%s", len(total.violations), summary(total.violations, 20))
	}
	if total.revokingCuts == 0 {
		t.Errorf("no power cut landed inside a revocation (%d revocations acknowledged): the sweep does not test them", total.revocations)
	}
	msg := fmt.Sprintf("RELIABILITY: powerloss: %d power cuts (%d restarts over lose/keep/mixed survivors, %d process crashes interleaved, %d cuts inside a revocation), %d invariant violations, %d pulls (%d recorded), %d revocations acknowledged (%d credentials revoked), %d decisions checked, %d broken files met",
		total.cuts, total.restarts, total.crashes, total.revokingCuts, len(total.violations), total.pulls, total.recorded, total.revocations, total.revoked, total.decisions, total.broken)
	t.Log(msg)
	if long() {
		fmt.Println(msg)
	}
}
