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
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	internalapi "k8s.io/cri-api/pkg/apis"
	"k8s.io/imagepullrecords"
	"k8s.io/klog/v2"

	"k8s.io/kubernetes/cmd/kubelet-imagectl/app"
	"k8s.io/kubernetes/pkg/kubelet/images"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// readOnlyRounds is how many pods meet a read-only directory.
func readOnlyRounds() int {
	if longScale() {
		return 200
	}
	return 5
}

// countEvents counts events of reason.
func countEvents(events []string, reason string) int {
	n := 0
	for _, e := range events {
		if strings.Contains(e, " "+reason+" ") {
			n++
		}
	}
	return n
}

// checkFailsClosed runs rounds of pods against a node whose records cannot
// be written and checks that every decision must pull, every pull fails,
// and the condition is one error log line and one event.
func checkFailsClosed(t *testing.T, n *node, logs *logCapture, rounds int) {
	t.Helper()
	before := readMetrics(t)
	for i := range rounds {
		if res, err := n.ensure(nsX, imageP, v1.PullNever, true); err == nil {
			t.Errorf("round %d: the pod with the Secret was admitted (%s) while the records cannot be written", i, res.Verification)
		}
		if res, err := n.ensure(nsY, imageP, v1.PullNever, false); err == nil {
			t.Errorf("round %d: a pod without credentials was admitted (%s)", i, res.Verification)
		}
		res, err := n.ensure(nsX, imageP, v1.PullIfNotPresent, true)
		if !errors.Is(err, images.ErrImagePull) || !errors.Is(err, pullmanager.ErrRecordsNotWritable) {
			t.Errorf("round %d: a pull with the records not writable = %+v, %v; want ErrImagePull wrapping ErrRecordsNotWritable", i, res, err)
		}
	}
	after := readMetrics(t)
	if after.checkErrs < before.checkErrs+uint64(2*rounds) {
		t.Errorf("decisions counted with result error: %d, want at least %d", after.checkErrs-before.checkErrs, 2*rounds)
	}
	if got := logs.errorsMatching("not writable"); got != 1 {
		t.Errorf("error log lines saying the records are not writable: %d, want 1", got)
	}
	if got := countEvents(n.drainEvents(), images.EventImagePullRecordsNotWritable); got != 1 {
		t.Errorf("%s events: %d, want 1", images.EventImagePullRecordsNotWritable, got)
	}
	if err := n.pm.Writable(); !errors.Is(err, pullmanager.ErrRecordsNotWritable) || !strings.Contains(err.Error(), n.root) {
		t.Errorf("Writable() = %v, want ErrRecordsNotWritable naming the directory", err)
	}
}

// checkRecovers checks that the first pull after the directory is writable
// again succeeds and repairs the state.
func checkRecovers(t *testing.T, n *node) {
	t.Helper()
	if _, err := n.ensure(nsX, imageP, v1.PullAlways, true); err != nil {
		t.Fatalf("the first pull after the directory is writable again: %v", err)
	}
	if err := n.pm.Writable(); err != nil {
		t.Errorf("Writable() after a successful pull = %v", err)
	}
	if res, err := n.ensure(nsX, imageP, v1.PullNever, true); err != nil || res.Verification != pullmanager.VerificationSecretHash {
		t.Errorf("after recovery, the pod with the Secret: %+v, %v; want admitted by secretHash", res, err)
	}
	if res, err := n.ensure(nsY, imageP, v1.PullNever, false); err == nil {
		t.Errorf("after recovery, a pod without credentials was admitted (%s)", res.Verification)
	}
	if bad := checkRepairedOnDisk(n.root); len(bad) > 0 {
		t.Errorf("on disk after recovery: %v", bad)
	}
}

// TestReadOnlyAtStartup: the directory is read-only when the kubelet starts
// (EROFS on every write, through the FS wrapper).
func TestReadOnlyAtStartup(t *testing.T) {
	logs := &logCapture{}
	fsys := newFaultFS()
	n := newNode(t, klog.NewContext(context.Background(), logs.logger()), fsys)
	// P was pulled with s1 while the directory was writable.
	if err := n.start(); err != nil {
		t.Fatal(err)
	}
	if _, err := n.ensure(nsX, imageP, v1.PullIfNotPresent, true); err != nil {
		t.Fatal(err)
	}
	n.stop()

	fsys.setReadOnly(true)
	if err := n.start(); err != nil {
		t.Fatalf("start-up over a read-only directory must fail closed, not fail: %v", err)
	}
	defer n.stop()
	n.drainEvents()
	checkFailsClosed(t, n, logs, readOnlyRounds())
	fsys.setReadOnly(false)
	checkRecovers(t, n)
	fmt.Printf("RELIABILITY: faults: read-only at start-up (EROFS on every write): %d pods x 3 calls failed closed, 1 log line, 1 event, recovered on the next pull, violations=0\n", readOnlyRounds())
}

// TestReadOnlyWhileRunning: the directory turns read-only under a running
// kubelet (a remount after disk errors).
func TestReadOnlyWhileRunning(t *testing.T) {
	logs := &logCapture{}
	fsys := newFaultFS()
	n := newNode(t, klog.NewContext(context.Background(), logs.logger()), fsys)
	if err := n.start(); err != nil {
		t.Fatal(err)
	}
	defer n.stop()
	if _, err := n.ensure(nsX, imageP, v1.PullIfNotPresent, true); err != nil {
		t.Fatal(err)
	}
	n.drainEvents()
	fsys.setReadOnly(true)
	// The first write that fails latches the condition; until then the
	// decisions that need no write still work from memory.
	if _, err := n.ensure(nsX, imageP, v1.PullAlways, true); !errors.Is(err, pullmanager.ErrRecordsNotWritable) {
		t.Fatalf("a pull on a directory turned read-only: %v, want ErrRecordsNotWritable", err)
	}
	checkFailsClosed(t, n, logs, readOnlyRounds())
	fsys.setReadOnly(false)
	checkRecovers(t, n)
	fmt.Printf("RELIABILITY: faults: read-only while running: %d pods x 3 calls failed closed, 1 log line, 1 event, recovered on the next pull, violations=0\n", readOnlyRounds())
}

// bindReadOnly bind-mounts dir over itself read-only, and undoes it when
// the test ends. It skips the test when mounts are not allowed.
func bindReadOnly(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a read-only bind mount needs root")
	}
	if out, err := exec.Command("mount", "--bind", dir, dir).CombinedOutput(); err != nil {
		t.Skipf("bind mount not allowed here: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	if out, err := exec.Command("mount", "-o", "remount,bind,ro", dir, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount read-only: %v: %s", err, out)
	}
}

// TestReadOnlyMount uses a real read-only bind mount of the root dir:
// the library fails closed, and kubelet-imagectl exits 3 with one stderr
// line naming the directory.
func TestReadOnlyMount(t *testing.T) {
	logs := &logCapture{}
	n := newNode(t, klog.NewContext(context.Background(), logs.logger()), newFaultFS())
	n.fsys.inner = imagepullrecords.OS
	if err := n.start(); err != nil {
		t.Fatal(err)
	}
	if _, err := n.ensure(nsX, imageP, v1.PullIfNotPresent, true); err != nil {
		t.Fatal(err)
	}
	n.stop()
	bindReadOnly(t, n.root)

	if err := n.start(); err != nil {
		t.Fatalf("start-up over a read-only mount must fail closed, not fail: %v", err)
	}
	n.drainEvents()
	checkFailsClosed(t, n, logs, readOnlyRounds())
	n.stop()

	rt := n.rt
	podFile := filepath.Join(t.TempDir(), "pod.yaml")
	pod := fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: %s, uid: u1}\nspec:\n  containers: [{name: c, image: %q, imagePullPolicy: IfNotPresent}]\n", nsX, imageP)
	if err := os.WriteFile(podFile, []byte(pod), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{name: "ensure", args: []string{"ensure", "--root-dir", n.root, "--runtime-endpoint", "unix:///fake.sock", "--pod", podFile}},
		{name: "records prune", args: []string{"records", "prune", "--root-dir", n.root, "--runtime-endpoint", "unix:///fake.sock"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := app.Run(context.Background(), tc.args, &app.Deps{
				Stdout: &stdout,
				Stderr: &stderr,
				NewImageService: func(context.Context, string, time.Duration) (internalapi.ImageManagerService, error) {
					return rt, nil
				},
			})
			t.Logf("exit %d, stderr: %s", code, stderr.String())
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if code != app.ExitEnvironment || len(lines) != 1 || !strings.Contains(lines[0], filepath.Join(n.root, imagepullrecords.ManagerDirName)) {
				t.Errorf("exit code %d, stderr %q; want %d and one line naming %s", code, stderr.String(), app.ExitEnvironment, filepath.Join(n.root, imagepullrecords.ManagerDirName))
			}
		})
	}
	fmt.Printf("RELIABILITY: faults: read-only bind mount: library failed closed for %d pods, kubelet-imagectl ensure and records prune exited 3 with one stderr line, violations=0\n", readOnlyRounds())
}
