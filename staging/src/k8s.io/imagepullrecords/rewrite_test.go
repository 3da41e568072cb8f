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

package imagepullrecords

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
)

// hookFS calls hook before every operation of the store and of the files
// it opens; an error from hook fails the operation, which then does nothing.
type hookFS struct {
	FS
	mu   sync.Mutex
	hook func(op faultOp, path string) error
}

func (h *hookFS) check(op faultOp, path string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.hook == nil {
		return nil
	}
	return h.hook(op, path)
}

func (h *hookFS) OpenFile(path string, flag int, perm os.FileMode) (File, error) {
	dir := flag&syscall.O_DIRECTORY != 0
	op := opOpen
	if dir {
		op = opOpenDir
	}
	if err := h.check(op, path); err != nil {
		return nil, err
	}
	f, err := h.FS.OpenFile(path, flag, perm)
	if err != nil {
		return nil, err
	}
	return &hookFile{File: f, fs: h, dir: dir}, nil
}

func (h *hookFS) CreateTemp(dir, pattern string) (File, error) {
	if err := h.check(opCreateTemp, dir); err != nil {
		return nil, err
	}
	f, err := h.FS.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &hookFile{File: f, fs: h, temp: true}, nil
}

func (h *hookFS) Rename(oldpath, newpath string) error {
	if err := h.check(opRename, newpath); err != nil {
		return err
	}
	return h.FS.Rename(oldpath, newpath)
}

func (h *hookFS) Remove(path string) error {
	if err := h.check(opRemove, path); err != nil {
		return err
	}
	return h.FS.Remove(path)
}

type hookFile struct {
	File
	fs        *hookFS
	temp, dir bool
}

func (f *hookFile) Write(p []byte) (int, error) {
	if f.temp {
		if err := f.fs.check(opWrite, f.Name()); err != nil {
			return 0, err
		}
	}
	return f.File.Write(p)
}

func (f *hookFile) Sync() error {
	switch {
	case f.dir:
		if err := f.fs.check(opSyncDir, f.Name()); err != nil {
			return err
		}
	case f.temp:
		if err := f.fs.check(opSync, f.Name()); err != nil {
			return err
		}
	}
	return f.File.Sync()
}

func (f *hookFile) Close() error {
	err := f.File.Close()
	if f.temp {
		if herr := f.fs.check(opClose, f.Name()); herr != nil {
			return herr
		}
	}
	return err
}

// failNth returns a hook failing the nth (from 1) call of op with
// errInjected, and counting calls of every operation.
func failNth(op faultOp, n int) (func(faultOp, string) error, map[faultOp]int) {
	calls := map[faultOp]int{}
	return func(o faultOp, path string) error {
		calls[o]++
		if o == op && calls[o] == n {
			return &os.PathError{Op: string(o), Path: path, Err: errInjected}
		}
		return nil
	}, calls
}

// rewriteFixture is a manager dir holding files of every kind a rewrite
// meets, and what each file decodes to.
type rewriteFixture struct {
	managerDir string
	// before maps each record and intent file (relative to managerDir) to
	// its content.
	before map[string]string
	// decoded maps each file to the canonical v1beta1 encoding of what it
	// holds.
	decoded map[string]string
}

const (
	fixtureRefAlpha    = goldenImageRef
	fixtureRefBeta     = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	fixtureRefLoose    = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	fixtureRefEmpty    = "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	fixtureImageAlpha  = "reg.example/team/app:1.2"
	fixtureImageBeta   = "docker.io/library/busybox:1.36"
	fixtureRecordCount = 4
	fixtureIntentCount = 2
)

// newRewriteFixture writes:
//   - pulled/: the indented v1alpha1 golden record (offset time, fields out
//     of order), a canonical v1beta1 record, a v1beta1 record whose time has
//     an offset (not canonical), a canonical v1beta1 record without
//     credentials;
//   - pulling/: a v1alpha1 intent and a canonical v1beta1 intent;
//   - ignored names: a temporary of each kind and a README.
func newRewriteFixture(t *testing.T) *rewriteFixture {
	t.Helper()
	managerDir := filepath.Join(t.TempDir(), ManagerDirName)
	openStore(t, managerDir, nil)
	f := &rewriteFixture{managerDir: managerDir, before: map[string]string{}, decoded: map[string]string{}}
	put := func(rel string, data []byte, decoded []byte) {
		writeFile(t, filepath.Join(managerDir, rel), data)
		f.before[rel] = string(data)
		f.decoded[rel] = string(decoded)
	}
	rec := func(ref string) string { return filepath.Join(RecordsDirName, FileName(ref)) }
	intent := func(image string) string { return filepath.Join(IntentsDirName, FileName(image)) }

	put(rec(fixtureRefAlpha), readTestdata(t, "record-v1alpha1.json"), readTestdata(t, "record-v1beta1.json"))
	beta := encodeRecord(t, recordWithRef(fixtureRefBeta))
	put(rec(fixtureRefBeta), beta, beta)
	loose := strings.Replace(string(encodeRecord(t, recordWithRef(fixtureRefLoose))), `"2026-01-02T03:04:05Z"`, `"2026-01-02T04:04:05+01:00"`, 1)
	put(rec(fixtureRefLoose), []byte(loose), encodeRecord(t, recordWithRef(fixtureRefLoose)))
	empty := encodeRecord(t, &kubeletv1beta1.ImagePulledRecord{ImageRef: fixtureRefEmpty})
	put(rec(fixtureRefEmpty), empty, empty)
	put(intent(fixtureImageAlpha), readTestdata(t, "intent-v1alpha1.json"), readTestdata(t, "intent-v1beta1.json"))
	put(intent(fixtureImageBeta), encodeIntent(t, fixtureImageBeta), encodeIntent(t, fixtureImageBeta))

	writeFile(t, filepath.Join(managerDir, RecordsDirName, TempPrefix+"leftover"), []byte("{"))
	writeFile(t, filepath.Join(managerDir, IntentsDirName, FileName("x")+".tmp"), []byte("{"))
	writeFile(t, filepath.Join(managerDir, RecordsDirName, "README"), []byte("{"))
	return f
}

// files returns the content of every record and intent file (temporaries
// and other names excluded).
func (f *rewriteFixture) files(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, dir := range []string{RecordsDirName, IntentsDirName} {
		for _, name := range dirNames(t, filepath.Join(f.managerDir, dir)) {
			if !isRecordName(name) {
				continue
			}
			data, err := os.ReadFile(filepath.Join(f.managerDir, dir, name))
			if err != nil {
				t.Fatal(err)
			}
			out[filepath.Join(dir, name)] = string(data)
		}
	}
	return out
}

// temporaries returns the temporaries a rewrite left, not the fixture's.
func (f *rewriteFixture) temporaries(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{RecordsDirName, IntentsDirName} {
		for _, name := range dirNames(t, filepath.Join(f.managerDir, dir)) {
			if IsTemporary(name) && name != TempPrefix+"leftover" && name != FileName("x")+".tmp" {
				out = append(out, filepath.Join(dir, name))
			}
		}
	}
	return out
}

// checkReadable walks the files with a fresh store and checks that every
// one decodes, with no error, to what the fixture's file held.
func (f *rewriteFixture) checkReadable(t *testing.T) {
	t.Helper()
	store, err := Open(Options{ManagerDir: f.managerDir, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	badRecords, err := store.WalkRecords(func(r RecordFile) { got[r.File] = string(encodeRecord(t, r.Record)) })
	if err != nil {
		t.Fatal(err)
	}
	badIntents, err := store.WalkIntents(func(i IntentFile) { got[i.File] = string(encodeIntent(t, i.Intent.Image)) })
	if err != nil {
		t.Fatal(err)
	}
	if len(badRecords)+len(badIntents) > 0 {
		t.Errorf("broken files after the rewrite: %v %v", badRecords, badIntents)
	}
	if diff := cmp.Diff(f.decoded, got); diff != "" {
		t.Errorf("decoded files (-before +after):\n%s", diff)
	}
}

// canonical returns the canonical encoding in apiVersion of each fixture file.
func (f *rewriteFixture) canonical(t *testing.T, apiVersion string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for rel, v1beta1 := range f.decoded {
		out[rel] = v1beta1
		if apiVersion == APIVersionV1alpha1 {
			out[rel] = string(v1alpha1Of([]byte(v1beta1)))
		}
	}
	return out
}

// ignorePlanned compares RewriteFiles by their exported fields.
var ignorePlanned = cmpopts.IgnoreUnexported(RewriteFile{})

func TestPlanRewrite(t *testing.T) {
	rec := func(ref string) string { return filepath.Join(RecordsDirName, FileName(ref)) }
	intent := func(image string) string { return filepath.Join(IntentsDirName, FileName(image)) }
	// Paths sort records (pulled/) before intents (pulling/), and by hash.
	sortFiles := func(files []RewriteFile) []RewriteFile {
		sort.Slice(files, func(i, j int) bool { return files[i].File < files[j].File })
		return files
	}
	a, b := APIVersionV1alpha1, APIVersionV1beta1
	// The records of the golden record's shape name one service account.
	saFiles := []string{rec(fixtureRefAlpha), rec(fixtureRefBeta), rec(fixtureRefLoose)}
	sort.Strings(saFiles)
	tests := []struct {
		name          string
		opts          RewriteOptions
		wantFiles     []RewriteFile
		wantUnchanged int
		wantSAFiles   []string
	}{
		{
			name: "to v1beta1: older and non-canonical files",
			opts: RewriteOptions{APIVersion: b},
			wantFiles: sortFiles([]RewriteFile{
				{File: rec(fixtureRefAlpha), From: a, To: b},
				{File: rec(fixtureRefLoose), From: b, To: b},
				{File: intent(fixtureImageAlpha), From: a, To: b},
			}),
			wantUnchanged: 3,
			wantSAFiles:   saFiles,
		},
		{
			name: "to v1alpha1: every file but the canonical v1alpha1 intent",
			opts: RewriteOptions{APIVersion: a},
			wantFiles: sortFiles([]RewriteFile{
				{File: rec(fixtureRefAlpha), From: a, To: a},
				{File: rec(fixtureRefBeta), From: b, To: a},
				{File: rec(fixtureRefLoose), From: b, To: a},
				{File: rec(fixtureRefEmpty), From: b, To: a},
				{File: intent(fixtureImageBeta), From: b, To: a},
			}),
			wantUnchanged: 1,
			wantSAFiles:   saFiles,
		},
		{
			name: "to v1alpha1 without service accounts",
			opts: RewriteOptions{APIVersion: a, DropServiceAccounts: true},
			wantFiles: sortFiles([]RewriteFile{
				{File: rec(fixtureRefAlpha), From: a, To: a, DroppedServiceAccounts: 1},
				{File: rec(fixtureRefBeta), From: b, To: a, DroppedServiceAccounts: 1},
				{File: rec(fixtureRefLoose), From: b, To: a, DroppedServiceAccounts: 1},
				{File: rec(fixtureRefEmpty), From: b, To: a},
				{File: intent(fixtureImageBeta), From: b, To: a},
			}),
			wantUnchanged: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newRewriteFixture(t)
			// A read-only store plans: a dry run writes nothing.
			store, err := Open(Options{ManagerDir: f.managerDir, ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			plan, err := store.PlanRewrite(tc.opts)
			if err != nil {
				t.Fatalf("PlanRewrite: %v", err)
			}
			if plan.APIVersion != tc.opts.APIVersion {
				t.Errorf("plan.APIVersion = %q", plan.APIVersion)
			}
			if diff := cmp.Diff(tc.wantFiles, plan.Files, ignorePlanned); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantSAFiles, plan.ServiceAccountFiles); diff != "" {
				t.Errorf("files naming service accounts (-want +got):\n%s", diff)
			}
			if plan.Unchanged != tc.wantUnchanged {
				t.Errorf("unchanged = %d, want %d", plan.Unchanged, tc.wantUnchanged)
			}
			if len(plan.Files)+plan.Unchanged != fixtureRecordCount+fixtureIntentCount {
				t.Errorf("%d files planned or unchanged, want %d", len(plan.Files)+plan.Unchanged, fixtureRecordCount+fixtureIntentCount)
			}
			if diff := cmp.Diff(f.before, f.files(t)); diff != "" {
				t.Errorf("planning changed files (-before +after):\n%s", diff)
			}
			if err := store.ApplyRewrite(plan); !errors.Is(err, ErrReadOnly) {
				t.Errorf("ApplyRewrite on a read-only store: %v, want ErrReadOnly", err)
			}
		})
	}
}

func TestPlanRewriteDropsOnlyServiceAccounts(t *testing.T) {
	managerDir := filepath.Join(t.TempDir(), ManagerDirName)
	store := openStore(t, managerDir, nil)
	r := goldenRecord()
	// An entry with service accounts only: it must stay, empty.
	r.CredentialMapping["reg.example/builds/tool"] = kubeletv1beta1.ImagePullCredentials{
		KubernetesServiceAccounts: []kubeletv1beta1.ImagePullServiceAccount{{UID: "u1", Namespace: "ci", Name: "a"}, {UID: "u2", Namespace: "ci", Name: "b"}},
	}
	if err := store.WriteRecord(r); err != nil {
		t.Fatal(err)
	}
	plan, err := store.PlanRewrite(RewriteOptions{APIVersion: APIVersionV1alpha1, DropServiceAccounts: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Files) != 1 || plan.Files[0].DroppedServiceAccounts != 3 || len(plan.ServiceAccountFiles) != 0 {
		t.Fatalf("plan = %+v, want one file with 3 service accounts dropped", plan.Files)
	}
	if err := store.ApplyRewrite(plan); err != nil {
		t.Fatal(err)
	}
	got, err := store.ReadRecord(goldenImageRef)
	if err != nil {
		t.Fatal(err)
	}
	want := goldenRecord()
	c := want.CredentialMapping["reg.example/team/app"]
	c.KubernetesServiceAccounts = nil
	want.CredentialMapping["reg.example/team/app"] = c
	want.CredentialMapping["reg.example/builds/tool"] = kubeletv1beta1.ImagePullCredentials{}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	data, err := os.ReadFile(filepath.Join(managerDir, RecordsDirName, FileName(goldenImageRef)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"reg.example/builds/tool":{}`) || strings.Contains(string(data), "kubernetesServiceAccounts") {
		t.Errorf("file %s keeps service accounts or lost the entry", data)
	}
}

func TestPlanRewriteGoldenNoServiceAccounts(t *testing.T) {
	managerDir := filepath.Join(t.TempDir(), ManagerDirName)
	store := openStore(t, managerDir, nil)
	if err := store.WriteRecord(goldenRecord()); err != nil {
		t.Fatal(err)
	}
	plan, err := store.PlanRewrite(RewriteOptions{APIVersion: APIVersionV1alpha1, DropServiceAccounts: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.ApplyRewrite(plan); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(managerDir, RecordsDirName, FileName(goldenImageRef)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(readTestdata(t, "record-v1alpha1-no-service-accounts.json")), string(data)); diff != "" {
		t.Errorf("file (-golden +got):\n%s", diff)
	}
}

func TestPlanRewriteBrokenFiles(t *testing.T) {
	f := newRewriteFixture(t)
	brokenRecord := filepath.Join(RecordsDirName, FileName("sha256:broken"))
	mismatch := filepath.Join(IntentsDirName, FileName("other"))
	writeFile(t, filepath.Join(f.managerDir, brokenRecord), []byte(`{"kind":"ImagePulledRecord"`))
	writeFile(t, filepath.Join(f.managerDir, mismatch), readTestdata(t, "intent-v1beta1.json"))
	before := f.files(t)
	store := openStore(t, f.managerDir, nil)
	for _, v := range WritableAPIVersions() {
		plan, err := store.PlanRewrite(RewriteOptions{APIVersion: v})
		if !errors.Is(err, ErrBrokenFiles) {
			t.Fatalf("%s: error = %v, want ErrBrokenFiles", v, err)
		}
		if plan != nil {
			t.Errorf("%s: plan = %+v, want none", v, plan)
		}
		var broken *BrokenFilesError
		if !errors.As(err, &broken) {
			t.Fatalf("%s: error %T is not a *BrokenFilesError", v, err)
		}
		var files []string
		for _, fe := range broken.Files {
			files = append(files, fe.File)
		}
		if diff := cmp.Diff([]string{brokenRecord, mismatch}, files); diff != "" {
			t.Errorf("%s: broken files (-want +got):\n%s", v, diff)
		}
		if !errors.Is(broken.Files[1].Err, ErrNameMismatch) {
			t.Errorf("%s: intent error = %v, want ErrNameMismatch", v, broken.Files[1].Err)
		}
		for _, file := range files {
			if !strings.Contains(err.Error(), file) {
				t.Errorf("%s: error %q does not name %s", v, err, file)
			}
		}
	}
	if diff := cmp.Diff(before, f.files(t)); diff != "" {
		t.Errorf("files changed (-before +after):\n%s", diff)
	}
}

func TestPlanRewriteErrors(t *testing.T) {
	f := newRewriteFixture(t)
	store := openStore(t, f.managerDir, nil)
	if _, err := store.PlanRewrite(RewriteOptions{APIVersion: "kubelet.config.k8s.io/v1"}); !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("unknown version: %v, want ErrUnsupportedVersion", err)
	}
	fsys := &hookFS{FS: OS, hook: func(op faultOp, path string) error {
		if op == opOpen && filepath.Base(filepath.Dir(path)) == IntentsDirName {
			return &os.PathError{Op: "open", Path: path, Err: syscall.EACCES}
		}
		return nil
	}}
	store = openStore(t, f.managerDir, fsys)
	_, err := store.PlanRewrite(RewriteOptions{APIVersion: APIVersionV1beta1})
	var broken *BrokenFilesError
	if !errors.As(err, &broken) || len(broken.Files) != fixtureIntentCount || !errors.Is(broken.Files[0].Err, syscall.EACCES) {
		t.Errorf("unreadable intents: error = %v, want both intents broken with EACCES", err)
	}
}

func TestApplyRewrite(t *testing.T) {
	for _, v := range WritableAPIVersions() {
		t.Run(v, func(t *testing.T) {
			f := newRewriteFixture(t)
			var mu sync.Mutex
			var calls []string
			fsys := &hookFS{FS: OS}
			store := openStore(t, f.managerDir, fsys)
			plan, err := store.PlanRewrite(RewriteOptions{APIVersion: v})
			if err != nil {
				t.Fatal(err)
			}
			fsys.hook = func(op faultOp, path string) error {
				mu.Lock()
				defer mu.Unlock()
				calls = append(calls, string(op))
				return nil
			}
			if err := store.ApplyRewrite(plan); err != nil {
				t.Fatalf("ApplyRewrite: %v", err)
			}
			if diff := cmp.Diff(f.canonical(t, v), f.files(t)); diff != "" {
				t.Errorf("files after the rewrite (-want +got):\n%s", diff)
			}
			f.checkReadable(t)
			if tmps := f.temporaries(t); len(tmps) > 0 {
				t.Errorf("temporaries left: %q", tmps)
			}
			// Rewritten files are 0600, whatever they were; an unchanged
			// file keeps its mode (a writer's start-up tightens it).
			for _, pf := range plan.Files {
				if mode := fileMode(t, filepath.Join(f.managerDir, pf.File)); mode.Perm() != FileMode {
					t.Errorf("%s: mode %v, want %v", pf.File, mode, FileMode)
				}
			}
			// Every temporary is written and fsynced before the first
			// rename, and the directories are fsynced after the last.
			n := len(plan.Files)
			var want []string
			for range n {
				want = append(want, string(opCreateTemp), string(opWrite), string(opSync), string(opClose))
			}
			for range n {
				want = append(want, string(opRename))
			}
			want = append(want, string(opOpenDir), string(opSyncDir), string(opOpenDir), string(opSyncDir))
			if diff := cmp.Diff(want, calls); diff != "" {
				t.Errorf("operations (-want +got):\n%s", diff)
			}
			// Done: a second plan has nothing to do.
			again, err := store.PlanRewrite(RewriteOptions{APIVersion: v})
			if err != nil {
				t.Fatal(err)
			}
			if len(again.Files) != 0 || again.Unchanged != fixtureRecordCount+fixtureIntentCount {
				t.Errorf("second plan: %d files, %d unchanged; want 0 and %d", len(again.Files), again.Unchanged, fixtureRecordCount+fixtureIntentCount)
			}
			if err := store.ApplyRewrite(again); err != nil {
				t.Errorf("empty rewrite: %v", err)
			}
		})
	}
}

// TestApplyRewriteFaults fails each step of a downgrade at each file and
// checks what the files hold: nothing changed when a temporary fails, the
// first files rewritten and the others intact when a rename fails, and in
// every case each file is readable and says what it said before. A second
// run over the same directory finishes the rewrite.
func TestApplyRewriteFaults(t *testing.T) {
	const files = 5 // the downgrade of the fixture rewrites five files
	type tcase struct {
		name        string
		op          faultOp
		nth         int
		wantRenamed int
	}
	var tests []tcase
	for n := 1; n <= files; n++ {
		for _, op := range []faultOp{opCreateTemp, opWrite, opSync, opClose} {
			tests = append(tests, tcase{name: fmt.Sprintf("%s of file %d", op, n), op: op, nth: n, wantRenamed: 0})
		}
		tests = append(tests, tcase{name: fmt.Sprintf("rename of file %d", n), op: opRename, nth: n, wantRenamed: n - 1})
	}
	tests = append(tests,
		tcase{name: "open a directory to fsync it", op: opOpenDir, nth: 1, wantRenamed: files},
		tcase{name: "fsync the second directory", op: opSyncDir, nth: 2, wantRenamed: files},
	)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newRewriteFixture(t)
			fsys := &hookFS{FS: OS}
			store := openStore(t, f.managerDir, fsys)
			plan, err := store.PlanRewrite(RewriteOptions{APIVersion: APIVersionV1alpha1})
			if err != nil {
				t.Fatal(err)
			}
			if len(plan.Files) != files {
				t.Fatalf("plan rewrites %d files, the test expects %d", len(plan.Files), files)
			}
			fsys.hook, _ = failNth(tc.op, tc.nth)
			err = store.ApplyRewrite(plan)
			var rerr *RewriteError
			if !errors.As(err, &rerr) || !errors.Is(err, errInjected) {
				t.Fatalf("error = %v, want a *RewriteError with the injected fault", err)
			}
			if rerr.Renamed != tc.wantRenamed || rerr.Total != files {
				t.Errorf("renamed %d of %d, want %d of %d", rerr.Renamed, rerr.Total, tc.wantRenamed, files)
			}
			// The first Renamed files of the plan are new, the others old.
			want := map[string]string{}
			for rel, content := range f.before {
				want[rel] = content
			}
			canonical := f.canonical(t, APIVersionV1alpha1)
			for _, pf := range plan.Files[:tc.wantRenamed] {
				want[pf.File] = canonical[pf.File]
			}
			if diff := cmp.Diff(want, f.files(t)); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			f.checkReadable(t)
			if tmps := f.temporaries(t); len(tmps) > 0 {
				t.Errorf("temporaries left: %q", tmps)
			}

			fsys.hook = nil
			plan, err = store.PlanRewrite(RewriteOptions{APIVersion: APIVersionV1alpha1})
			if err != nil {
				t.Fatal(err)
			}
			if err := store.ApplyRewrite(plan); err != nil {
				t.Fatalf("second run: %v", err)
			}
			if diff := cmp.Diff(canonical, f.files(t)); diff != "" {
				t.Errorf("files after the second run (-want +got):\n%s", diff)
			}
		})
	}
}

// errCrash stands for the process dying: every operation from then on fails.
var errCrash = errors.New("crashed")

// TestApplyRewriteCrash stops the process (every later operation fails,
// including the clean-up) after each number of renames, then checks the
// directory as the next process sees it: every file is the old or the new
// version, complete and decoding to the same record or intent; leftover
// temporaries are ignored by readers and removed by RemoveTemporaries; and
// the next run finishes the rewrite.
func TestApplyRewriteCrash(t *testing.T) {
	for _, target := range WritableAPIVersions() {
		for renames := 0; ; renames++ {
			f := newRewriteFixture(t)
			fsys := &hookFS{FS: OS}
			store := openStore(t, f.managerDir, fsys)
			plan, err := store.PlanRewrite(RewriteOptions{APIVersion: target})
			if err != nil {
				t.Fatal(err)
			}
			if renames > len(plan.Files) {
				break
			}
			t.Run(fmt.Sprintf("%s/after %d renames", target, renames), func(t *testing.T) {
				done, crashed := 0, false
				fsys.hook = func(op faultOp, path string) error {
					if crashed {
						return errCrash
					}
					if op == opRename {
						if done == renames {
							crashed = true
							return errCrash
						}
						done++
					}
					return nil
				}
				err := store.ApplyRewrite(plan)
				if renames < len(plan.Files) && !errors.Is(err, errCrash) {
					t.Fatalf("error = %v, want the crash", err)
				}
				canonical := f.canonical(t, target)
				for rel, got := range f.files(t) {
					if got != f.before[rel] && got != canonical[rel] {
						t.Errorf("%s holds %q: neither the old %q nor the new %q", rel, got, f.before[rel], canonical[rel])
					}
				}
				f.checkReadable(t)

				next := openStore(t, f.managerDir, nil)
				if _, err := next.RemoveTemporaries(); err != nil {
					t.Fatal(err)
				}
				if tmps := f.temporaries(t); len(tmps) > 0 {
					t.Errorf("temporaries left after RemoveTemporaries: %q", tmps)
				}
				plan, err := next.PlanRewrite(RewriteOptions{APIVersion: target})
				if err != nil {
					t.Fatal(err)
				}
				if err := next.ApplyRewrite(plan); err != nil {
					t.Fatalf("next run: %v", err)
				}
				if diff := cmp.Diff(canonical, f.files(t)); diff != "" {
					t.Errorf("files after the next run (-want +got):\n%s", diff)
				}
			})
		}
	}
}
