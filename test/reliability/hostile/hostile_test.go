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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/imagepullrecords"
	"k8s.io/klog/v2"

	"k8s.io/kubernetes/cmd/kubelet-imagectl/app"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

const (
	imageP = "reg.example/team/p:1"
	// blockTimeout is how long a start-up, a decision or a listing may
	// take before the test calls it blocked. Generous: the race detector
	// on a loaded machine is slow, and nothing here should take a second.
	blockTimeout = 20 * time.Second
)

var (
	refP     = "sha256:" + strings.Repeat("1", 64)
	secretS1 = kubeletconfig.ImagePullSecret{UID: "uid-s1", Namespace: "ns-x", Name: "s1", CredentialHash: "hash-s1"}
)

func longScale() bool { return os.Getenv("RELIABILITY_SCALE") == "long" }

// errorLogs is a logr sink that keeps error-level entries.
type errorLogs struct {
	mu      sync.Mutex
	entries []string
}

func (l *errorLogs) Init(logr.RuntimeInfo)          {}
func (l *errorLogs) Enabled(int) bool               { return true }
func (l *errorLogs) Info(int, string, ...any)       {}
func (l *errorLogs) WithValues(...any) logr.LogSink { return l }
func (l *errorLogs) WithName(string) logr.LogSink   { return l }

func (l *errorLogs) Error(err error, msg string, kv ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, fmt.Sprintf("%s: %v %v", msg, err, kv))
}

// mentioning counts the entries that mention s.
func (l *errorLogs) mentioning(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.entries {
		if strings.Contains(e, s) {
			n++
		}
	}
	return n
}

// lister is a runtime whose only image is P.
type lister struct{}

func (lister) ListImages(context.Context) ([]pullmanager.RuntimeImage, error) {
	return []pullmanager.RuntimeImage{{ID: refP, RepoTags: []string{imageP}}}, nil
}

// withTimeout runs fn and fails the test if it does not return in time.
func withTimeout(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(blockTimeout):
		t.Fatalf("%s blocked for %v", what, blockTimeout)
	}
}

// validRecordBytes returns the encoding of P's record granting s1.
func validRecordBytes(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	writeValidRecord(t, dir)
	data, err := os.ReadFile(filepath.Join(dir, imagepullrecords.ManagerDirName, imagepullrecords.RecordsDirName, imagepullrecords.FileName(refP)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// writeValidRecord records a pull of P with s1 under root, as a kubelet does.
func writeValidRecord(t *testing.T, root string) {
	t.Helper()
	ctx := klog.NewContext(context.Background(), klog.Logger{})
	pm, err := pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{RootDir: root, ImageLister: lister{}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pm.Close() }()
	if err := pm.RecordPullIntent(ctx, imageP); err != nil {
		t.Fatal(err)
	}
	if err := pm.RecordImagePulled(ctx, imageP, refP, &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1}}); err != nil {
		t.Fatal(err)
	}
}

// hostileCase plants something in image_manager/ of root.
type hostileCase struct {
	name string
	// plant creates the hostile entry; outside is a directory outside the
	// root dir the case may point symlinks at. It returns the path of the
	// entry relative to the root dir.
	plant func(t *testing.T, root, outside string, valid []byte) string
	// startFails: start-up refuses the directory with an error (the
	// kubelet then grants nothing at all).
	startFails bool
	// notRepairable: a successful pull cannot replace the entry (a
	// directory where a file belongs); it stays poisoned and safe.
	notRepairable bool
	// listFails: kubelet-imagectl records list exits 3 with an error
	// instead of listing (the directory itself is not usable).
	listFails bool
	// intent: the entry is P's intent, not its record.
	intent bool
	// needsRoot: the case needs root (mknod).
	needsRoot bool
}

func recordPath(root string) string {
	return filepath.Join(root, imagepullrecords.ManagerDirName, imagepullrecords.RecordsDirName, imagepullrecords.FileName(refP))
}

func intentPath(root string) string {
	return filepath.Join(root, imagepullrecords.ManagerDirName, imagepullrecords.IntentsDirName, imagepullrecords.FileName(imageP))
}

func rel(root, path string) string {
	r, err := filepath.Rel(root, path)
	if err != nil {
		panic(err)
	}
	return r
}

func writeAt(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func hostileCases() []hostileCase {
	atRecord := func(make func(t *testing.T, path, outside string, valid []byte)) func(t *testing.T, root, outside string, valid []byte) string {
		return func(t *testing.T, root, outside string, valid []byte) string {
			path := recordPath(root)
			_ = os.Remove(path)
			make(t, path, outside, valid)
			return rel(root, path)
		}
	}
	return []hostileCase{
		{
			name: "symlink named like P's record to a valid record of P outside",
			plant: atRecord(func(t *testing.T, path, outside string, valid []byte) {
				target := filepath.Join(outside, filepath.Base(path))
				// 0644, not 0600: a writer that chmods through the
				// symlink (start-up once took it for a loose record)
				// changes it, and the outside snapshot sees that.
				writeAt(t, target, valid, 0o644)
				if err := os.Symlink(target, path); err != nil {
					t.Fatal(err)
				}
			}),
		},
		{
			name: "symlink named like P's record to /dev/zero",
			plant: atRecord(func(t *testing.T, path, _ string, _ []byte) {
				// The real /dev/zero is outside every snapshot: check
				// its mode here, and put it back if it changed (as root,
				// start-up once chmod-ed it to 0600 through the symlink).
				before, err := os.Stat("/dev/zero")
				if err != nil {
					t.Skipf("no /dev/zero: %v", err)
				}
				t.Cleanup(func() {
					after, err := os.Stat("/dev/zero")
					if err == nil && after.Mode() != before.Mode() {
						t.Errorf("/dev/zero changed mode through the symlink: %v, was %v", after.Mode(), before.Mode())
						_ = os.Chmod("/dev/zero", before.Mode().Perm())
					}
				})
				if err := os.Symlink("/dev/zero", path); err != nil {
					t.Fatal(err)
				}
			}),
		},
		{
			name: "pulled/ itself a symlink to a directory of valid records outside",
			plant: func(t *testing.T, root, outside string, valid []byte) string {
				dir := filepath.Join(root, imagepullrecords.ManagerDirName, imagepullrecords.RecordsDirName)
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				writeAt(t, filepath.Join(outside, imagepullrecords.FileName(refP)), valid, 0o600)
				if err := os.Symlink(outside, dir); err != nil {
					t.Fatal(err)
				}
				return rel(root, dir)
			},
			startFails: true,
			listFails:  true,
		},
		{
			name: "FIFO named like P's record",
			plant: atRecord(func(t *testing.T, path, _ string, _ []byte) {
				if err := syscall.Mkfifo(path, 0o600); err != nil {
					t.Fatal(err)
				}
			}),
		},
		{
			name: "character device named like P's record",
			plant: atRecord(func(t *testing.T, path, _ string, _ []byte) {
				// 1:5 is /dev/zero: a reader that trusts it never ends.
				if err := syscall.Mknod(path, syscall.S_IFCHR|0o600, 1<<8|5); err != nil {
					t.Skipf("mknod not allowed: %v", err)
				}
			}),
			needsRoot: true,
		},
		{
			name: "directory where P's record belongs",
			plant: atRecord(func(t *testing.T, path, _ string, valid []byte) {
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
				writeAt(t, filepath.Join(path, "x"), valid, 0o600)
			}),
			notRepairable: true,
		},
		{
			name: "huge record (past the read limit)",
			plant: atRecord(func(t *testing.T, path, _ string, valid []byte) {
				huge := append(bytes.TrimSuffix(valid, []byte("}\n")), []byte(`,"x":"`)...)
				huge = append(huge, bytes.Repeat([]byte("a"), imagepullrecords.MaxFileSize)...)
				huge = append(huge, []byte("\"}\n")...)
				writeAt(t, path, huge, 0o600)
			}),
		},
		{
			name: "empty record",
			plant: atRecord(func(t *testing.T, path, _ string, _ []byte) {
				writeAt(t, path, nil, 0o600)
			}),
		},
		{
			name: "deeply nested JSON",
			plant: atRecord(func(t *testing.T, path, _ string, _ []byte) {
				deep := `{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","imageRef":"` + refP + `","credentialMapping":` +
					strings.Repeat(`{"a":`, 200000) + "{}" + strings.Repeat("}", 200000) + "}\n"
				writeAt(t, path, []byte(deep), 0o600)
			}),
		},
		{
			name: "duplicate key granting nodePodsAccessible",
			plant: atRecord(func(t *testing.T, path, _ string, _ []byte) {
				dup := `{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2026-01-02T03:04:05Z","imageRef":"` + refP +
					`","credentialMapping":{"reg.example/team/p":{"kubernetesSecrets":[{"uid":"u","namespace":"n","name":"s","credentialHash":"h"}]},"reg.example/team/p":{"nodePodsAccessible":true}}}` + "\n"
				writeAt(t, path, []byte(dup), 0o600)
			}),
		},
		{
			name: "invalid UTF-8 in imageRef",
			plant: atRecord(func(t *testing.T, path, _ string, valid []byte) {
				writeAt(t, path, bytes.Replace(valid, []byte(refP), []byte(refP[:len(refP)-1]+"\xff"), 1), 0o600)
			}),
		},
		{
			name: "invalid UTF-8 in a credentialMapping key",
			plant: atRecord(func(t *testing.T, path, _ string, valid []byte) {
				writeAt(t, path, bytes.Replace(valid, []byte(`"reg.example/team/p"`), []byte("\"reg.example/team/p\xff\""), 1), 0o600)
			}),
		},
		{
			name: "record of another image under P's name",
			plant: atRecord(func(t *testing.T, path, _ string, valid []byte) {
				writeAt(t, path, bytes.Replace(valid, []byte(refP), []byte("sha256:"+strings.Repeat("2", 64)), 1), 0o600)
			}),
		},
		{
			name: "symlink named like P's intent to a valid intent outside",
			plant: func(t *testing.T, root, outside string, _ []byte) string {
				path := intentPath(root)
				target := filepath.Join(outside, filepath.Base(path))
				writeAt(t, target, []byte(`{"kind":"ImagePullIntent","apiVersion":"kubelet.config.k8s.io/v1beta1","image":"`+imageP+`"}`+"\n"), 0o600)
				if err := os.Symlink(target, path); err != nil {
					t.Fatal(err)
				}
				return rel(root, path)
			},
			intent: true,
		},
		{
			name: "FIFO named like P's intent",
			plant: func(t *testing.T, root, _ string, _ []byte) string {
				path := intentPath(root)
				if err := syscall.Mkfifo(path, 0o600); err != nil {
					t.Fatal(err)
				}
				return rel(root, path)
			},
			intent: true,
		},
	}
}

// TestHostileFiles plants each hostile entry over a node where P was pulled
// with s1, then checks start-up, decisions, the report, the repair and the
// listing tool.
func TestHostileFiles(t *testing.T) {
	rounds := 1
	if longScale() {
		rounds = 10
	}
	in := newToolInputs(t, serveCluster(t).URL)
	tried, violations, runs, temporaries, controls := 0, 0, 0, 0, 0
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needsRoot && os.Geteuid() != 0 {
				t.Skip("needs root")
			}
			for range rounds {
				tried++
				runHostileCase(t, tc)
				runs += runToolsOverEntry(t, toolCaseOf(tc), in)
			}
			if t.Failed() {
				violations++
			}
		})
	}
	// Entries named like temporaries and the clean controls meet only
	// the commands: readers skip temporaries, and the controls show what
	// each command does when nothing is hostile.
	extra := extraToolCases()
	for _, tc := range extra {
		t.Run(tc.name, func(t *testing.T) {
			for range rounds {
				if tc.kind == clean {
					controls++
				} else {
					temporaries++
				}
				runs += runToolsOverEntry(t, tc, in)
			}
			if t.Failed() {
				violations++
			}
		})
	}
	fmt.Printf("RELIABILITY: hostile: %d hostile entries tried (%d kinds x %d rounds) through the pull manager and kubelet-imagectl records list; %d runs of the other records commands (verify, verify --fix, migrate --dry-run, migrate, downgrade --to v1alpha1 with and without --drop-service-accounts, explain --pod with and without a Secret, revoke --kubeconfig, each with a deadline) over them, %d entries named like temporaries and %d clean controls, violations=%d\n",
		tried, len(hostileCases()), rounds, runs, temporaries, controls, violations)
}

func runHostileCase(t *testing.T, tc hostileCase) {
	valid := validRecordBytes(t)
	root := t.TempDir()
	outside := t.TempDir()
	if tc.intent {
		// P is present and the kubelet never recorded it: preloaded, but
		// for the hostile intent.
		if err := os.MkdirAll(filepath.Dir(intentPath(root)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(recordPath(root)), 0o700); err != nil {
			t.Fatal(err)
		}
	} else {
		writeValidRecord(t, root)
	}
	entry := tc.plant(t, root, outside, valid)
	outsideBefore := snapshotDir(t, outside)

	logs := &errorLogs{}
	ctx := klog.NewContext(context.Background(), logr.New(logs))
	var pm pullmanager.Manager
	var startErr error
	withTimeout(t, "start-up", func() {
		pm, startErr = pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{RootDir: root, ImageLister: lister{}})
	})
	listAndCheck(t, root, entry, tc)
	if tc.startFails {
		if startErr == nil {
			_ = pm.Close()
			t.Fatalf("start-up accepted %s", entry)
		}
		checkOutsideUnchanged(t, outside, outsideBefore)
		return
	}
	if startErr != nil {
		t.Fatalf("start-up: %v", startErr)
	}
	defer func() { _ = pm.Close() }()
	if got := logs.mentioning(filepath.Base(entry)); got != 1 {
		t.Errorf("start-up logged %s %d times, want once", entry, got)
	}

	// Grants nothing: neither to the pod with s1 nor to one without.
	decide := func(withS1 bool) pullmanager.Decision {
		var d pullmanager.Decision
		var err error
		withTimeout(t, "a decision", func() {
			d, err = pm.MustAttemptImagePull(ctx, imageP, refP, func() ([]kubeletconfig.ImagePullSecret, *kubeletconfig.ImagePullServiceAccount, error) {
				if withS1 {
					return []kubeletconfig.ImagePullSecret{secretS1}, nil, nil
				}
				return nil, nil, nil
			})
		})
		if err != nil {
			t.Errorf("decision: %v", err)
		}
		return d
	}
	for _, withS1 := range []bool{true, false} {
		if d := decide(withS1); !d.MustPull {
			t.Errorf("%s granted %s to a pod (s1: %v)", entry, d.Verification, withS1)
		}
	}
	if got := logs.mentioning(filepath.Base(entry)); got != 1 {
		t.Errorf("after decisions, %s was logged %d times, want once", entry, got)
	}

	// The next successful pull repairs it, where that is safe.
	var recErr error
	withTimeout(t, "a pull", func() {
		if err := pm.RecordPullIntent(ctx, imageP); err != nil {
			if !tc.intent {
				recErr = err
				return
			}
			// A hostile intent file is replaced by the new intent write.
			recErr = err
			return
		}
		recErr = pm.RecordImagePulled(ctx, imageP, refP, &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1}})
	})
	if tc.notRepairable {
		if recErr == nil {
			t.Errorf("recording over %s succeeded; want the write to fail", entry)
		}
		for _, withS1 := range []bool{true, false} {
			if d := decide(withS1); !d.MustPull {
				t.Errorf("after a failed repair, %s granted %s (s1: %v)", entry, d.Verification, withS1)
			}
		}
	} else {
		if recErr != nil {
			t.Fatalf("the repairing pull: %v", recErr)
		}
		if d := decide(true); d.MustPull {
			t.Errorf("after repair, the pod with s1 must still pull (%s)", d.Verification)
		}
		if d := decide(false); !d.MustPull {
			t.Errorf("after repair, a pod without credentials was granted %s", d.Verification)
		}
		info, err := os.Lstat(recordPath(root))
		if err != nil || !info.Mode().IsRegular() || info.Mode().Perm() != imagepullrecords.FileMode {
			t.Errorf("P's record after repair: %v, %v; want a regular file with mode %v", info, err, imagepullrecords.FileMode)
		}
	}
	checkOutsideUnchanged(t, outside, outsideBefore)
}

// listAndCheck runs kubelet-imagectl records list and checks that entry is
// only among the errors (or that the listing fails, for listFails), and
// that nothing blocks.
func listAndCheck(t *testing.T, root, entry string, tc hostileCase) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	var code int
	withTimeout(t, "records list", func() {
		code = app.Run(context.Background(), []string{"records", "list", "--root-dir", root, "-o", "json"}, &app.Deps{Stdout: &stdout, Stderr: &stderr})
	})
	if tc.listFails {
		if code != app.ExitEnvironment || !strings.Contains(stderr.String(), filepath.Base(entry)) {
			t.Errorf("records list over %s: exit %d, stderr %q, stdout %q; want exit %d naming it", entry, code, stderr.String(), stdout.String(), app.ExitEnvironment)
		}
		return
	}
	if code != app.ExitOK {
		t.Fatalf("records list: exit %d: %s", code, stderr.String())
	}
	var out struct {
		Intents []struct{ File string } `json:"intents"`
		Pulled  []struct{ File string } `json:"pulled"`
		Errors  []struct{ File string } `json:"errors"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("records list output: %v: %s", err, stdout.String())
	}
	inErrors := 0
	for _, e := range out.Errors {
		if e.File == filepath.ToSlash(entry) {
			inErrors++
		}
	}
	if inErrors != 1 {
		t.Errorf("records list: %s appears %d times among the errors, want once: %s", entry, inErrors, stdout.String())
	}
	for _, f := range append(out.Intents, out.Pulled...) {
		if f.File == filepath.ToSlash(entry) {
			t.Errorf("records list shows %s as a record or intent", entry)
		}
	}
}

type fileState struct {
	mode os.FileMode
	data string
}

func snapshotDir(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		out[e.Name()] = fileState{mode: info.Mode(), data: string(data)}
	}
	return out
}

func checkOutsideUnchanged(t *testing.T, dir string, before map[string]fileState) {
	t.Helper()
	after := snapshotDir(t, dir)
	if len(after) != len(before) {
		t.Errorf("outside the root dir: %d entries, had %d", len(after), len(before))
	}
	for name, st := range before {
		if after[name] != st {
			t.Errorf("outside the root dir, %s changed", name)
		}
	}
}
