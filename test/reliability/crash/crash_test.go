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

package crash

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/imagepullrecords"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
	"k8s.io/kubernetes/test/reliability/internal/harness"
	testingclock "k8s.io/utils/clock/testing"
)

// Environment of the child.
const (
	envChild     = "RELIABILITY_CRASH_CHILD"
	envRoot      = "RELIABILITY_CRASH_ROOT"
	envSeed      = "RELIABILITY_CRASH_SEED"
	envClock     = "RELIABILITY_CRASH_CLOCK"
	envSteps     = "RELIABILITY_CRASH_STEPS"
	envFailpoint = "RELIABILITY_CRASH_FAILPOINT"
	// envRevokeEvery is the workload's RevokeEvery.
	envRevokeEvery = "RELIABILITY_CRASH_REVOKE_EVERY"
	// envBreak names a bug the child's filesystem injects, to show that the
	// checker sees what it guards against.
	envBreak = "RELIABILITY_CRASH_BREAK"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func long() bool { return os.Getenv("RELIABILITY_SCALE") == "long" }

// TestCrashChild is the child process: it runs the workload over the root
// dir its parent names until it is killed or the workload ends.
func TestCrashChild(t *testing.T) {
	if os.Getenv(envChild) != "1" {
		t.Skip("run by TestCrash in a child process")
	}
	seed, _ := strconv.ParseUint(os.Getenv(envSeed), 10, 64)
	clockSeconds, _ := strconv.ParseInt(os.Getenv(envClock), 10, 64)
	steps, _ := strconv.Atoi(os.Getenv(envSteps))
	revokeEvery, _ := strconv.Atoi(os.Getenv(envRevokeEvery))
	fp, err := parseFailpoint(os.Getenv(envFailpoint))
	if err != nil {
		t.Fatal(err)
	}
	root := os.Getenv(envRoot)
	env := newPipeEnv(os.NewFile(3, "requests"), os.NewFile(4, "replies"))
	fsys := newKillFS(fp)
	fsys.dropIntents = os.Getenv(envBreak) == "drop-intents"
	clk := testingclock.NewFakeClock(time.Unix(clockSeconds, 0).UTC())
	ctx := klog.NewContext(context.Background(), klog.Logger{})
	wl := &harness.Workload{
		World:       harness.NewWorld(),
		Env:         env,
		Clock:       clk,
		Rand:        rand.New(rand.NewPCG(seed, 0x5eed)),
		RevokeEvery: revokeEvery,
		Open: func(ctx context.Context) (pullmanager.Manager, error) {
			m, err := pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{
				RootDir:     root,
				FS:          fsys,
				Policy:      config.NeverVerifyPreloadedImages,
				ImageLister: harness.ImageLister(env),
				Clock:       clk,
			})
			if err != nil {
				return nil, err
			}
			return revokingManager{Manager: m, fs: fsys}, nil
		},
	}
	if err := wl.Run(ctx, steps); err != nil {
		t.Fatalf("workload: %v", err)
	}
}

// crashStats count what TestCrash did.
type crashStats struct {
	runs, kills, failpointKills, timerKills, completed int
	pulls, recorded, decisions, broken, temporaries    int
	// saRecorded and saGrants: acknowledged pulls recorded under a service
	// account, and decisions after restarts granted through one; saKills:
	// kills between a pull with a service account's plugin credentials and
	// the acknowledgement of its record.
	saRecorded, saGrants, saKills int
	// revoked and revokeKills: acknowledged revocations, and kills between
	// a source's deletion and the acknowledgement of its revocation.
	revoked, revokeKills int
	violations           []string
}

// runChild runs one child until it ends and returns whether it was killed.
func runChild(t *testing.T, oracle *harness.Oracle, root string, run int, fp *failpoint, killAfter time.Duration, steps, revokeEvery int, breakWith string) (killed bool, live []string) {
	t.Helper()
	reqR, reqW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	fpSpec := ""
	if fp != nil {
		fpSpec = fp.String()
	}
	cmd.Env = append(os.Environ(),
		envChild+"=1",
		envRoot+"="+root,
		envSeed+"="+strconv.Itoa(run),
		envClock+"="+strconv.FormatInt(epoch.Add(time.Duration(run)*10000*time.Second).Unix(), 10),
		envSteps+"="+strconv.Itoa(steps),
		envFailpoint+"="+fpSpec,
		envBreak+"="+breakWith,
		envRevokeEvery+"="+strconv.Itoa(revokeEvery),
	)
	cmd.ExtraFiles = []*os.File{reqW, repR}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = reqW.Close()
	_ = repR.Close()
	served := make(chan []string)
	go func() {
		v := serve(oracle, reqR, repW)
		_ = reqR.Close()
		served <- v
	}()
	if killAfter > 0 {
		timer := time.AfterFunc(killAfter, func() { _ = cmd.Process.Kill() })
		defer timer.Stop()
	}
	waitErr := cmd.Wait()
	// The child's write end is closed by its death: serve drains what the
	// pipe holds and returns.
	live = <-served
	_ = repW.Close()
	var exitErr *exec.ExitError
	switch {
	case waitErr == nil:
		return false, live
	case errors.As(waitErr, &exitErr):
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true, live
		}
	}
	t.Fatalf("child %d (failpoint %q) failed: %v\n%s", run, fpSpec, waitErr, tail(out.String(), 3000))
	return false, nil
}

// plantTemporaries leaves in each record directory a temporary with a torn
// record, as a kill between a temporary's creation and its rename does.
func plantTemporaries(t *testing.T, root string, rng *rand.Rand) {
	t.Helper()
	torn := []byte(`{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2026-01-01T00:00:00Z","imageRef":"sha256:`)
	torn = torn[:rng.IntN(len(torn)+1)]
	for _, dir := range []string{imagepullrecords.IntentsDirName, imagepullrecords.RecordsDirName} {
		path := filepath.Join(root, imagepullrecords.ManagerDirName, dir, fmt.Sprintf("%splanted%d", imagepullrecords.TempPrefix, rng.IntN(1000)))
		if err := os.WriteFile(path, torn, imagepullrecords.FileMode); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// TestCrash kills the workload's process with SIGKILL at random times and
// at failpoints on every step of the write path, and checks every
// invariant with a new manager over the root dir after each kill.
func TestCrash(t *testing.T) {
	if os.Getenv(envChild) == "1" {
		t.Skip("in the child")
	}
	cfg := campaignConfig{target: 50, steps: 20, maxRuns: 150, timerKills: true, kinds: failpointKinds, revokeEvery: 10}
	if long() {
		cfg = campaignConfig{target: 1000, steps: 40, maxRuns: 3000, timerKills: true, kinds: failpointKinds, revokeEvery: 10}
	}
	st, perKind := campaign(t, cfg)
	if st.kills < cfg.target {
		t.Errorf("only %d kills in %d runs, want %d", st.kills, st.runs, cfg.target)
	}
	if len(st.violations) > 0 {
		shown := st.violations
		if len(shown) > 20 {
			shown = shown[:20]
		}
		t.Errorf("%d invariant violations:\n%s", len(st.violations), strings.Join(shown, "\n"))
	}
	kinds := make([]string, 0, len(perKind))
	for _, k := range failpointKinds {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, perKind[k]))
	}
	msg := fmt.Sprintf("RELIABILITY: crash: %d kills (%d at failpoints, %d at random times; %d runs, %d completed), %d invariant violations, %d pulls (%d recorded, %d of them under a service account; %d kills while a service account's record was written), %d decisions checked after restarts (%d granted through a recorded service account), %d temporaries and %d broken files met; failpoint kills by kind: %s",
		st.kills, st.failpointKills, st.timerKills, st.runs, st.completed, len(st.violations), st.pulls, st.recorded, st.saRecorded, st.saKills, st.decisions, st.saGrants, st.temporaries, st.broken, strings.Join(kinds, " "))
	if st.saRecorded == 0 || st.saGrants == 0 {
		t.Errorf("the kills met %d pulls recorded under a service account and %d decisions granted through one after restarts; want both", st.saRecorded, st.saGrants)
	}
	msg += fmt.Sprintf("; revocations: %d acknowledged, %d kills while one was written", st.revoked, st.revokeKills)
	if st.revoked == 0 {
		t.Errorf("the workload acknowledged no revocation")
	}
	t.Log(msg)
	if long() {
		fmt.Println(msg)
	}
}

// TestCrashDuringRevocations is a campaign whose workload revokes every
// third step, with failpoints that count only the operations of
// revocations (every step of a record's write), so that the kills land
// between a source's deletion and the acknowledgement of its revocation,
// often after some of its records were rewritten and before others.
func TestCrashDuringRevocations(t *testing.T) {
	if os.Getenv(envChild) == "1" {
		t.Skip("in the child")
	}
	cfg := campaignConfig{target: 40, steps: 20, maxRuns: 150, kinds: []string{"createtemp", "write", "syncfile", "closefile", "rename", "opendir", "syncdir", "closedir"}, revokeEvery: 3, maxN: 4, onlyRevoking: true}
	if long() {
		cfg.target, cfg.steps, cfg.maxRuns = 500, 40, 2000
	}
	st, _ := campaign(t, cfg)
	if len(st.violations) > 0 {
		shown := st.violations
		if len(shown) > 20 {
			shown = shown[:20]
		}
		t.Errorf("%d invariant violations:\n%s", len(st.violations), strings.Join(shown, "\n"))
	}
	msg := fmt.Sprintf("RELIABILITY: crash during revocations: %d kills (%d runs), %d invariant violations, %d revocations acknowledged, %d kills while one was written, %d decisions checked after restarts",
		st.kills, st.runs, len(st.violations), st.revoked, st.revokeKills, st.decisions)
	if st.revokeKills < cfg.target/2 {
		t.Errorf("only %d of %d kills came while a revocation was written", st.revokeKills, st.kills)
	}
	t.Log(msg)
	if long() {
		fmt.Println(msg)
	}
}

// TestCrashCheckerSeesLostIntents breaks the intent protocol in the child
// (its filesystem drops every intent rename while reporting success) and
// expects the checker to find a pulled name that passes for preloaded.
func TestCrashCheckerSeesLostIntents(t *testing.T) {
	if os.Getenv(envChild) == "1" {
		t.Skip("in the child")
	}
	st, _ := campaign(t, campaignConfig{target: 12, steps: 10, maxRuns: 40, kinds: []string{"createtemp", "write", "syncfile"}, breakWith: "drop-intents", maxN: 6, freshRoot: true})
	if len(st.violations) == 0 {
		t.Fatalf("%d kills with intents dropped, and the checker saw nothing", st.kills)
	}
	t.Logf("%d kills with intents dropped: %d violations, for example: %s", st.kills, len(st.violations), st.violations[0])
}

// killedRecordingServiceAccount reports whether a run's last pull used a
// service account's plugin credentials, succeeded, and was not
// acknowledged: the kill came while its record (kubernetesServiceAccounts)
// was being written.
func killedRecordingServiceAccount(events []harness.Event) bool {
	for i := len(events) - 1; i >= 0; i-- {
		switch ev := events[i]; ev.Kind {
		case harness.EventRecorded, harness.EventPullFailed:
			return false
		case harness.EventPullOK:
			return ev.Cred.SA > 0
		}
	}
	return false
}

// killedRevoking reports whether a run's last event is a source's deletion:
// the kill came while its revocation was being written.
func killedRevoking(events []harness.Event) bool {
	return len(events) > 0 && events[len(events)-1].Kind == harness.EventDeleted
}

// campaignConfig is one series of kills.
type campaignConfig struct {
	target, steps, maxRuns int
	// timerKills mixes kills at random times with failpoints.
	timerKills bool
	// kinds are the failpoint kinds to draw from.
	kinds     []string
	breakWith string
	// maxN bounds the failpoint's operation count; 0 means 20.
	maxN int
	// freshRoot gives every run a new root dir and oracle.
	freshRoot bool
	// revokeEvery is the workload's RevokeEvery.
	revokeEvery int
	// onlyRevoking makes failpoints count only a revocation's operations.
	onlyRevoking bool
}

// campaign runs children over one root dir until target kills, checking
// after each.
func campaign(t *testing.T, cfg campaignConfig) (*crashStats, map[string]int) {
	t.Helper()
	ctx := klog.NewContext(context.Background(), klog.Logger{})
	root := t.TempDir()
	oracle := harness.NewOracle(harness.NewWorld())
	rng := rand.New(rand.NewPCG(42, 7))
	st := &crashStats{}
	seen := 0
	perKind := map[string]int{}
	maxN := cfg.maxN
	if maxN == 0 {
		maxN = 20
	}
	for st.kills < cfg.target && st.runs < cfg.maxRuns {
		if cfg.freshRoot {
			root = t.TempDir()
			oracle = harness.NewOracle(harness.NewWorld())
			seen = 0
		}
		run := st.runs
		st.runs++
		var fp *failpoint
		var killAfter time.Duration
		if cfg.timerKills && rng.IntN(4) == 0 {
			killAfter = time.Duration(10+rng.IntN(200)) * time.Millisecond
		} else {
			fp = &failpoint{kind: cfg.kinds[rng.IntN(len(cfg.kinds))], n: 1 + rng.IntN(maxN), after: rng.IntN(2) == 0, revoking: cfg.onlyRevoking}
			if fp.kind == "remove-temp" {
				// Only start-up removes temporaries, and the check after
				// the last kill already did: leave what a kill in the
				// middle of a write leaves, a torn temporary per directory.
				plantTemporaries(t, root, rng)
			}
			if fp.kind == "remove-temp" || fp.kind == "remove-record" {
				// Rare operations: hit them early.
				fp.n = 1 + rng.IntN(2)
			}
		}
		killed, live := runChild(t, oracle, root, run, fp, killAfter, cfg.steps, cfg.revokeEvery, cfg.breakWith)
		st.violations = append(st.violations, live...)
		switch {
		case killed && fp != nil:
			st.kills++
			st.failpointKills++
			perKind[fp.kind]++
		case killed:
			st.kills++
			st.timerKills++
		default:
			st.completed++
		}
		rep := harness.CheckRestart(ctx, harness.CheckOptions{
			RootDir: root,
			View:    oracle.View(-1),
			Clock:   testingclock.NewFakeClock(epoch.Add(time.Duration(run)*10000*time.Second + 5000*time.Second)),
		})
		st.decisions += rep.Decisions
		st.saGrants += rep.ServiceAccountGrants
		st.broken += rep.Broken
		st.temporaries += rep.Temporaries
		for _, v := range rep.Violations {
			st.violations = append(st.violations, fmt.Sprintf("run %d (failpoint %v, timer %v): %s", run, fp, killAfter, v))
		}
		events := oracle.Events()
		if killed && killedRecordingServiceAccount(events[seen:]) {
			st.saKills++
		}
		if killed && killedRevoking(events[seen:]) {
			st.revokeKills++
		}
		for _, ev := range events[seen:] {
			switch ev.Kind {
			case harness.EventPullOK, harness.EventPullFailed:
				st.pulls++
			case harness.EventRecorded:
				st.recorded++
				if ev.Cred.SA > 0 {
					st.saRecorded++
				}
			case harness.EventRevoked:
				st.revoked++
			}
		}
		seen = len(events)
	}
	return st, perKind
}
