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

package hostile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
	"k8s.io/imagepullrecords"
	"k8s.io/klog/v2"

	"k8s.io/kubernetes/cmd/kubelet-imagectl/app"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// stateCase prepares the directory before a start-up.
type stateCase struct {
	name string
	// prepare returns the root dir to start over.
	prepare func(t *testing.T) string
	// wantErr: start-up must fail with this error.
	wantErr error
	// startFails: start-up must fail (any error).
	startFails bool
	// recorded: P's record (granting s1) is expected after start-up.
	recorded bool
	// toolExits are the exit codes of the kubelet-imagectl commands over
	// the state, by command (commands_test.go); one not listed exits 0.
	toolExits map[string]int
	// findings are the files records verify reports over the state.
	findings []string
}

// allTools maps every command to code.
func allTools(code int) map[string]int {
	out := map[string]int{}
	for _, name := range toolNames {
		out[name] = code
	}
	return out
}

// writersLocked are the exit codes over a lock no writer can take: every
// writer exits 3, the readers work, and a pod without credentials is
// denied P (recorded).
var writersLocked = map[string]int{
	toolVerifyFix: app.ExitEnvironment, toolMigrate: app.ExitEnvironment, toolDowngrade: app.ExitEnvironment,
	toolDowngradeDrop: app.ExitEnvironment, toolRevoke: app.ExitEnvironment, toolExplainNone: app.ExitNotAdmitted,
}

func managerDir(root string) string { return filepath.Join(root, imagepullrecords.ManagerDirName) }

// directoryStates are the states of the directory itself; outsideFile is a
// file outside every root dir that a state may point a symlink at.
func directoryStates(outsideFile string) []stateCase {
	return []stateCase{
		{
			name:      "root dir missing",
			prepare:   func(t *testing.T) string { return filepath.Join(t.TempDir(), "a", "b") },
			toolExits: allTools(app.ExitEnvironment),
		},
		{
			name:    "image_manager missing",
			prepare: func(t *testing.T) string { return t.TempDir() },
		},
		{
			name: "directories 0777",
			prepare: func(t *testing.T) string {
				root := t.TempDir()
				writeValidRecord(t, root)
				for _, dir := range []string{managerDir(root), filepath.Dir(recordPath(root)), filepath.Dir(intentPath(root))} {
					if err := os.Chmod(dir, 0o777); err != nil {
						t.Fatal(err)
					}
				}
				return root
			},
			recorded:  true,
			toolExits: map[string]int{toolVerify: app.ExitNotAdmitted, toolExplainNone: app.ExitNotAdmitted},
			findings:  []string{imagepullrecords.ManagerDirName, relDir(imagepullrecords.IntentsDirName), relDir(imagepullrecords.RecordsDirName)},
		},
		{
			name: "record and intent files 0666",
			prepare: func(t *testing.T) string {
				root := t.TempDir()
				writeValidRecord(t, root)
				writeAt(t, intentPath(root), []byte(`{"kind":"ImagePullIntent","apiVersion":"kubelet.config.k8s.io/v1beta1","image":"`+imageP+`"}`+"\n"), 0o666)
				if err := os.Chmod(recordPath(root), 0o666); err != nil {
					t.Fatal(err)
				}
				return root
			},
			recorded:  true,
			toolExits: map[string]int{toolVerify: app.ExitNotAdmitted, toolExplainNone: app.ExitNotAdmitted},
			findings:  []string{relDir(imagepullrecords.IntentsDirName, imagepullrecords.FileName(imageP)), relRecordP},
		},
		{
			name: "stale lock file of a dead writer",
			prepare: func(t *testing.T) string {
				root := t.TempDir()
				writeValidRecord(t, root)
				writeAt(t, filepath.Join(managerDir(root), imagepullrecords.LockFileName), []byte("pid 12345\n"), 0o666)
				return root
			},
			recorded:  true,
			toolExits: map[string]int{toolVerify: app.ExitNotAdmitted, toolExplainNone: app.ExitNotAdmitted},
			findings:  []string{relLock},
		},
		{
			name: "lock held by another writer",
			prepare: func(t *testing.T) string {
				root := t.TempDir()
				writeValidRecord(t, root)
				f, err := os.OpenFile(filepath.Join(managerDir(root), imagepullrecords.LockFileName), os.O_RDWR|os.O_CREATE, 0o600)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = f.Close() })
				if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
					t.Fatal(err)
				}
				return root
			},
			wantErr:   imagepullrecords.ErrLocked,
			toolExits: writersLocked,
		},
		{
			name: "lock file a symlink to a file outside",
			prepare: func(t *testing.T) string {
				root := t.TempDir()
				writeValidRecord(t, root)
				writeAt(t, outsideFile, []byte("keep"), 0o644)
				lock := filepath.Join(managerDir(root), imagepullrecords.LockFileName)
				_ = os.Remove(lock)
				if err := os.Symlink(outsideFile, lock); err != nil {
					t.Fatal(err)
				}
				return root
			},
			startFails: true,
			toolExits:  merge(writersLocked, map[string]int{toolVerify: app.ExitNotAdmitted}),
			findings:   []string{relLock},
		},
		{
			// Records read through the symlink would be another root
			// dir's: explain would reuse P for s1 from them. Everything
			// refuses, and no lock file lands in the target.
			name: "image_manager a symlink to another root dir's records",
			prepare: func(t *testing.T) string {
				other := filepath.Join(filepath.Dir(outsideFile), "other-root")
				if _, err := os.Lstat(other); errors.Is(err, fs.ErrNotExist) {
					writeValidRecord(t, other)
				}
				root := t.TempDir()
				if err := os.Symlink(managerDir(other), managerDir(root)); err != nil {
					t.Fatal(err)
				}
				return root
			},
			startFails: true,
			toolExits:  allTools(app.ExitEnvironment),
		},
	}
}

// relDir is a path under image_manager/ as the tools name it.
func relDir(parts ...string) string {
	return filepath.ToSlash(filepath.Join(append([]string{imagepullrecords.ManagerDirName}, parts...)...))
}

func merge(a, b map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func TestDirectoryStates(t *testing.T) {
	outsideFile := filepath.Join(t.TempDir(), "victim")
	cases := directoryStates(outsideFile)
	in := newToolInputs(t, serveCluster(t).URL)
	rounds := 1
	if longScale() {
		rounds = 10
	}
	tried, runs := 0, 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for range rounds {
				tried++
				runStateCase(t, tc)
				runs += runToolsOverState(t, tc, filepath.Dir(outsideFile), in)
			}
		})
	}
	if data, err := os.ReadFile(outsideFile); err == nil && string(data) != "keep" {
		t.Errorf("the file outside the root dir changed: %q", data)
	}
	fmt.Printf("RELIABILITY: hostile: %d directory states tried (%d kinds x %d rounds: missing, loose modes, stale, foreign and symlinked lock, symlinked image_manager) through the pull manager; %d runs of the records commands (verify, verify --fix, migrate --dry-run, migrate, downgrade --to v1alpha1 with and without --drop-service-accounts, explain --pod with and without a Secret, revoke --kubeconfig, each with a deadline) over them, violations=%d\n",
		tried, len(cases), rounds, runs, map[bool]int{false: 0, true: 1}[t.Failed()])
}

func runStateCase(t *testing.T, tc stateCase) {
	root := tc.prepare(t)
	ctx := klog.NewContext(context.Background(), klog.Logger{})
	var pm pullmanager.Manager
	var err error
	withTimeout(t, "start-up", func() {
		pm, err = pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{RootDir: root, ImageLister: lister{}})
	})
	switch {
	case tc.wantErr != nil || tc.startFails:
		if err == nil {
			_ = pm.Close()
			t.Fatalf("start-up succeeded; want an error")
		}
		if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
			t.Fatalf("start-up: %v; want %v", err, tc.wantErr)
		}
		return
	case err != nil:
		t.Fatalf("start-up: %v", err)
	}
	defer func() { _ = pm.Close() }()
	if err := pm.Writable(); err != nil {
		t.Errorf("Writable() = %v", err)
	}
	// Directories 0700, files 0600 after start-up.
	for _, dir := range []string{managerDir(root), filepath.Dir(recordPath(root)), filepath.Dir(intentPath(root))} {
		if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != imagepullrecords.DirMode {
			t.Errorf("%s after start-up: %v, %v; want mode %v", dir, info, err, imagepullrecords.DirMode)
		}
	}
	for _, dir := range []string{filepath.Dir(recordPath(root)), filepath.Dir(intentPath(root))} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if info, err := e.Info(); err == nil && info.Mode().Perm() != imagepullrecords.FileMode {
				t.Errorf("%s/%s after start-up: mode %v, want %v", dir, e.Name(), info.Mode().Perm(), imagepullrecords.FileMode)
			}
		}
	}
	withS1 := func() ([]kubeletconfig.ImagePullSecret, *kubeletconfig.ImagePullServiceAccount, error) {
		return []kubeletconfig.ImagePullSecret{secretS1}, nil, nil
	}
	none := func() ([]kubeletconfig.ImagePullSecret, *kubeletconfig.ImagePullServiceAccount, error) {
		return nil, nil, nil
	}
	if tc.recorded {
		if d, err := pm.MustAttemptImagePull(ctx, imageP, refP, withS1); err != nil || d.MustPull {
			t.Errorf("the pod with s1: %+v, %v; want admitted", d, err)
		}
		if d, err := pm.MustAttemptImagePull(ctx, imageP, refP, none); err != nil || !d.MustPull {
			t.Errorf("a pod without credentials: %+v, %v; want must pull", d, err)
		}
	}
	// A pull is recorded.
	if err := pm.RecordPullIntent(ctx, imageP); err != nil {
		t.Fatal(err)
	}
	if err := pm.RecordImagePulled(ctx, imageP, refP, &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1}}); err != nil {
		t.Fatal(err)
	}
}
