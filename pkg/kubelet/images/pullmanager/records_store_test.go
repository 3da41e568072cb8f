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

package pullmanager_test

// The tests of this file live in the external test package: storetest
// imports pullmanager, so pullmanager's own tests cannot import storetest.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/imagepullrecords"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager/storetest"
)

func TestRecordsStoreConformance(t *testing.T) {
	tests := []struct {
		name     string
		newStore func(t *testing.T) pullmanager.RecordsStore
	}{
		{
			name: "file",
			newStore: func(t *testing.T) pullmanager.RecordsStore {
				return pullmanager.NewFileRecordsStore(openRecordsDir(t, newManagerDir(t), nil))
			},
		},
		{
			name: "memory",
			newStore: func(t *testing.T) pullmanager.RecordsStore {
				return pullmanager.NewMemoryRecordsStore()
			},
		},
		{
			name: "cached file",
			newStore: func(t *testing.T) pullmanager.RecordsStore {
				store, _ := newCachedStore(t, newManagerDir(t), nil)
				return store
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			storetest.RunRecordsStoreSuite(t, tc.newStore)
		})
	}
}

// newManagerDir returns <root-dir>/image_manager under a new temporary root
// dir; it does not exist yet.
func newManagerDir(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), imagepullrecords.ManagerDirName)
}

// openRecordsDir opens the file layer over managerDir; a nil fsys is the real
// filesystem.
func openRecordsDir(t *testing.T, managerDir string, fsys imagepullrecords.FS) *imagepullrecords.Store {
	t.Helper()
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: managerDir, FS: fsys})
	if err != nil {
		t.Fatalf("imagepullrecords.Open(%q) error: %v", managerDir, err)
	}
	return store
}

// newCachedStore loads the composition of the file store and the in-memory
// layer over managerDir and returns it with the broken files it reported.
func newCachedStore(t *testing.T, managerDir string, fsys imagepullrecords.FS) (pullmanager.RecordsStore, []*imagepullrecords.FileError) {
	t.Helper()
	store, bad, err := pullmanager.NewCachedRecordsStore(pullmanager.NewFileRecordsStore(openRecordsDir(t, managerDir, fsys)))
	if err != nil {
		t.Fatalf("NewCachedRecordsStore() error: %v", err)
	}
	return store, bad
}

// brokenFile is what a test needs to know of a FileError: which file, and
// which name hash it poisons. The cause is only checked to be set.
type brokenFile struct {
	File string
	Hash string
}

func brokenFiles(t *testing.T, bad []*imagepullrecords.FileError) []brokenFile {
	t.Helper()
	out := make([]brokenFile, 0, len(bad))
	for _, b := range bad {
		if b.Err == nil {
			t.Errorf("FileError for %s has no cause", b.File)
		}
		out = append(out, brokenFile{File: b.File, Hash: b.Hash})
	}
	slices.SortFunc(out, func(a, b brokenFile) int { return strings.Compare(a.File, b.File) })
	return out
}

func recordFile(key string) brokenFile {
	return brokenFile{File: imagepullrecords.RecordsDirName + "/" + imagepullrecords.FileName(key), Hash: imagepullrecords.KeyHash(key)}
}

func intentFile(key string) brokenFile {
	return brokenFile{File: imagepullrecords.IntentsDirName + "/" + imagepullrecords.FileName(key), Hash: imagepullrecords.KeyHash(key)}
}

func listedRecords(t *testing.T, store pullmanager.RecordsStore) ([]*kubeletconfig.ImagePulledRecord, []brokenFile) {
	t.Helper()
	records, bad, err := store.ListImagePulledRecords()
	if err != nil {
		t.Fatalf("ListImagePulledRecords() error: %v", err)
	}
	slices.SortFunc(records, func(a, b *kubeletconfig.ImagePulledRecord) int { return strings.Compare(a.ImageRef, b.ImageRef) })
	return records, brokenFiles(t, bad)
}

func listedIntents(t *testing.T, store pullmanager.RecordsStore) ([]string, []brokenFile) {
	t.Helper()
	intents, bad, err := store.ListImagePullIntents()
	if err != nil {
		t.Fatalf("ListImagePullIntents() error: %v", err)
	}
	images := make([]string, 0, len(intents))
	for _, i := range intents {
		images = append(images, i.Image)
	}
	slices.Sort(images)
	return images, brokenFiles(t, bad)
}

func mustIntentExist(t *testing.T, store pullmanager.RecordsStore, image string) bool {
	t.Helper()
	exists, err := store.ImagePullIntentExists(image)
	if err != nil {
		t.Fatalf("ImagePullIntentExists(%q) error: %v", image, err)
	}
	return exists
}

func mustGetRecord(t *testing.T, store pullmanager.RecordsStore, ref string) *kubeletconfig.ImagePulledRecord {
	t.Helper()
	record, err := store.GetImagePulledRecord(ref)
	if err != nil {
		t.Fatalf("GetImagePulledRecord(%q) error: %v", ref, err)
	}
	return record
}

// writeRawFile puts content where the file of key belongs in dir (pulled or
// pulling), bypassing the store.
func writeRawFile(t *testing.T, managerDir, dir, key, content string) {
	t.Helper()
	path := filepath.Join(managerDir, dir, imagepullrecords.FileName(key))
	if err := os.WriteFile(path, []byte(content), imagepullrecords.FileMode); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
}

const (
	brokenRef   = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	otherRef    = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	healthyRef  = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	brokenImage = "reg.example/team/app:1.2"
	otherImage  = "reg.example/team/app:2.0"
	healthyImg  = "docker.io/library/busybox:1.36"
)

var storeTestTime = metav1.NewTime(time.Date(2026, time.January, 2, 3, 4, 5, 0, time.UTC))

// recordJSON is a valid record file for ref that grants every pod: were a
// broken variant of it ever read as a record, the tests would see the grant.
func recordJSON(ref string) string {
	return `{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2026-01-02T03:04:05Z","imageRef":"` + ref + `","credentialMapping":{"docker.io/library/busybox":{"nodePodsAccessible":true}}}` + "\n"
}

func intentJSON(image string) string {
	return `{"kind":"ImagePullIntent","apiVersion":"kubelet.config.k8s.io/v1beta1","image":"` + image + `"}` + "\n"
}

// brokenVariant is one way a record or intent file can be broken.
type brokenVariant struct {
	name string
	// content is written to the file; ignored when dir is set.
	content string
	// dir puts a directory where the file belongs.
	dir bool
	// repairable is false when writing the file again fails too.
	repairable bool
}

// brokenVariants returns the broken forms of valid, a valid file whose
// keyField holds key, the key its name hashes. other is a valid file of the
// same kind for another key; wrongKind is a valid file of the other kind for
// the same key.
func brokenVariants(valid, other, wrongKind, keyField, key string) []brokenVariant {
	keyPair := `"` + keyField + `":"` + key + `"`
	return []brokenVariant{
		{name: "truncated", content: valid[:len(valid)/2], repairable: true},
		{name: "empty", content: "", repairable: true},
		{name: "not JSON", content: "\x00\x01garbage", repairable: true},
		{name: "wrong kind", content: wrongKind, repairable: true},
		{name: "unsupported apiVersion", content: strings.Replace(valid, "kubelet.config.k8s.io/v1beta1", "kubelet.config.k8s.io/v1", 1), repairable: true},
		{name: "unknown field", content: strings.Replace(valid, `"apiVersion"`, `"surprise":1,"apiVersion"`, 1), repairable: true},
		{name: "duplicate apiVersion", content: strings.Replace(valid, `"kind":`, `"apiVersion":"kubelet.config.k8s.io/v1beta1","kind":`, 1), repairable: true},
		// A lenient decoder keeps the last value, which matches the name.
		{name: "duplicate key field", content: strings.Replace(valid, keyPair, `"`+keyField+`":"not-the-key",`+keyPair, 1), repairable: true},
		{name: "mismatched name", content: other, repairable: true},
		// Renaming a file over a directory fails, so the write that would
		// repair it fails too, and the name stays poisoned.
		{name: "directory", dir: true, repairable: false},
	}
}

func TestCachedRecordsStoreBrokenRecordFiles(t *testing.T) {
	healthy := &kubeletconfig.ImagePulledRecord{
		LastUpdatedTime:   storeTestTime,
		ImageRef:          healthyRef,
		CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{"docker.io/library/busybox": {NodePodsAccessible: true}},
	}
	repaired := &kubeletconfig.ImagePulledRecord{
		LastUpdatedTime: metav1.NewTime(storeTestTime.Add(time.Hour)),
		ImageRef:        brokenRef,
		CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
			"reg.example/team/app": {KubernetesSecrets: []kubeletconfig.ImagePullSecret{{UID: "uid-1", Namespace: "team-a", Name: "regcred", CredentialHash: "hash-1"}}},
		},
	}
	// The control: the valid file loads as the record it says.
	t.Run("valid control", func(t *testing.T) {
		managerDir := newManagerDir(t)
		openRecordsDir(t, managerDir, nil)
		writeRawFile(t, managerDir, imagepullrecords.RecordsDirName, brokenRef, recordJSON(brokenRef))
		store, bad := newCachedStore(t, managerDir, nil)
		if len(bad) != 0 {
			t.Fatalf("NewCachedRecordsStore() broken files = %v, want none", bad)
		}
		if got := mustGetRecord(t, store, brokenRef); got == nil || !got.CredentialMapping["docker.io/library/busybox"].NodePodsAccessible {
			t.Fatalf("GetImagePulledRecord(%q) = %+v, want the record of the valid file", brokenRef, got)
		}
	})

	for _, tc := range brokenVariants(recordJSON(brokenRef), recordJSON(otherRef), intentJSON(brokenRef), "imageRef", brokenRef) {
		t.Run(tc.name, func(t *testing.T) {
			managerDir := newManagerDir(t)
			disk := pullmanager.NewFileRecordsStore(openRecordsDir(t, managerDir, nil))
			if err := disk.WriteImagePulledRecord(healthy); err != nil {
				t.Fatalf("WriteImagePulledRecord(healthy) error: %v", err)
			}
			if tc.dir {
				path := filepath.Join(managerDir, imagepullrecords.RecordsDirName, imagepullrecords.FileName(brokenRef))
				if err := os.Mkdir(path, imagepullrecords.DirMode); err != nil {
					t.Fatal(err)
				}
			} else {
				writeRawFile(t, managerDir, imagepullrecords.RecordsDirName, brokenRef, tc.content)
			}
			wantBad := []brokenFile{recordFile(brokenRef)}

			store, bad := newCachedStore(t, managerDir, nil)
			if diff := cmp.Diff(wantBad, brokenFiles(t, bad)); diff != "" {
				t.Errorf("NewCachedRecordsStore() broken files mismatch (-want +got):\n%s", diff)
			}

			layers := []struct {
				name  string
				store pullmanager.RecordsStore
			}{
				{name: "cached", store: store},
				{name: "file", store: disk},
			}
			for _, layer := range layers {
				// Poisoned, never absent: absent would make the image look
				// preloaded.
				got, err := layer.store.GetImagePulledRecord(brokenRef)
				if !errors.Is(err, pullmanager.ErrRecordPoisoned) || got != nil {
					t.Errorf("%s: GetImagePulledRecord(%q) = (%v, %v), want (nil, error wrapping ErrRecordPoisoned)", layer.name, brokenRef, got, err)
				}
				// A mismatched file holds otherRef's record under another
				// name: it is not otherRef's record either.
				if got := mustGetRecord(t, layer.store, otherRef); got != nil {
					t.Errorf("%s: GetImagePulledRecord(%q) = %+v, want nil", layer.name, otherRef, got)
				}
				if diff := cmp.Diff(healthy, mustGetRecord(t, layer.store, healthyRef), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s: GetImagePulledRecord(%q) of the healthy record mismatch (-want +got):\n%s", layer.name, healthyRef, diff)
				}
				records, listBad := listedRecords(t, layer.store)
				if diff := cmp.Diff([]*kubeletconfig.ImagePulledRecord{healthy}, records, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s: ListImagePulledRecords() records mismatch (-want +got):\n%s", layer.name, diff)
				}
				if diff := cmp.Diff(wantBad, listBad); diff != "" {
					t.Errorf("%s: ListImagePulledRecords() broken files mismatch (-want +got):\n%s", layer.name, diff)
				}
			}

			// Writing the record (a successful pull) repairs the name.
			err := store.WriteImagePulledRecord(repaired)
			if !tc.repairable {
				if err == nil {
					t.Fatalf("WriteImagePulledRecord(%q) over a directory succeeded, want an error", brokenRef)
				}
				// The failed write leaves the name poisoned.
				if got, err := store.GetImagePulledRecord(brokenRef); !errors.Is(err, pullmanager.ErrRecordPoisoned) || got != nil {
					t.Errorf("after a failed write: GetImagePulledRecord(%q) = (%v, %v), want (nil, error wrapping ErrRecordPoisoned)", brokenRef, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("WriteImagePulledRecord(%q) error: %v", brokenRef, err)
			}
			wantRecords := []*kubeletconfig.ImagePulledRecord{repaired, healthy}
			slices.SortFunc(wantRecords, func(a, b *kubeletconfig.ImagePulledRecord) int { return strings.Compare(a.ImageRef, b.ImageRef) })
			if diff := cmp.Diff(repaired, mustGetRecord(t, store, brokenRef), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("after repair: GetImagePulledRecord(%q) mismatch (-want +got):\n%s", brokenRef, diff)
			}
			records, listBad := listedRecords(t, store)
			if diff := cmp.Diff(wantRecords, records, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("after repair: ListImagePulledRecords() records mismatch (-want +got):\n%s", diff)
			}
			if len(listBad) != 0 {
				t.Errorf("after repair: ListImagePulledRecords() broken files = %v, want none", listBad)
			}
			// The repair is on disk: a restart loads it.
			reloaded, bad := newCachedStore(t, managerDir, nil)
			if len(bad) != 0 {
				t.Errorf("after repair and reload: broken files = %v, want none", bad)
			}
			if diff := cmp.Diff(repaired, mustGetRecord(t, reloaded, brokenRef), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("after repair and reload: GetImagePulledRecord(%q) mismatch (-want +got):\n%s", brokenRef, diff)
			}
		})
	}
}

func TestCachedRecordsStoreBrokenIntentFiles(t *testing.T) {
	t.Run("valid control", func(t *testing.T) {
		managerDir := newManagerDir(t)
		openRecordsDir(t, managerDir, nil)
		writeRawFile(t, managerDir, imagepullrecords.IntentsDirName, brokenImage, intentJSON(brokenImage))
		store, bad := newCachedStore(t, managerDir, nil)
		if len(bad) != 0 {
			t.Fatalf("NewCachedRecordsStore() broken files = %v, want none", bad)
		}
		images, _ := listedIntents(t, store)
		if diff := cmp.Diff([]string{brokenImage}, images); diff != "" {
			t.Fatalf("ListImagePullIntents() images mismatch (-want +got):\n%s", diff)
		}
	})

	for _, tc := range brokenVariants(intentJSON(brokenImage), intentJSON(otherImage), recordJSON(brokenImage), "image", brokenImage) {
		t.Run(tc.name, func(t *testing.T) {
			managerDir := newManagerDir(t)
			disk := pullmanager.NewFileRecordsStore(openRecordsDir(t, managerDir, nil))
			if err := disk.WriteImagePullIntent(healthyImg); err != nil {
				t.Fatalf("WriteImagePullIntent(%q) error: %v", healthyImg, err)
			}
			if tc.dir {
				path := filepath.Join(managerDir, imagepullrecords.IntentsDirName, imagepullrecords.FileName(brokenImage))
				if err := os.Mkdir(path, imagepullrecords.DirMode); err != nil {
					t.Fatal(err)
				}
			} else {
				writeRawFile(t, managerDir, imagepullrecords.IntentsDirName, brokenImage, tc.content)
			}
			wantBad := []brokenFile{intentFile(brokenImage)}

			store, bad := newCachedStore(t, managerDir, nil)
			if diff := cmp.Diff(wantBad, brokenFiles(t, bad)); diff != "" {
				t.Errorf("NewCachedRecordsStore() broken files mismatch (-want +got):\n%s", diff)
			}

			layers := []struct {
				name  string
				store pullmanager.RecordsStore
			}{
				{name: "cached", store: store},
				{name: "file", store: disk},
			}
			for _, layer := range layers {
				// A broken intent file counts as an intent for the image
				// string hashing to its name, and only for that one.
				tests := []struct {
					image string
					want  bool
				}{
					{image: brokenImage, want: true},
					{image: healthyImg, want: true},
					{image: otherImage, want: false},
					{image: "docker.io/library/alpine", want: false},
				}
				for _, check := range tests {
					if got := mustIntentExist(t, layer.store, check.image); got != check.want {
						t.Errorf("%s: ImagePullIntentExists(%q) = %t, want %t", layer.name, check.image, got, check.want)
					}
				}
				images, listBad := listedIntents(t, layer.store)
				if diff := cmp.Diff([]string{healthyImg}, images); diff != "" {
					t.Errorf("%s: ListImagePullIntents() images mismatch (-want +got):\n%s", layer.name, diff)
				}
				if diff := cmp.Diff(wantBad, listBad); diff != "" {
					t.Errorf("%s: ListImagePullIntents() broken files mismatch (-want +got):\n%s", layer.name, diff)
				}
			}

			err := store.WriteImagePullIntent(brokenImage)
			if !tc.repairable {
				if err == nil {
					t.Fatalf("WriteImagePullIntent(%q) over a directory succeeded, want an error", brokenImage)
				}
				if !mustIntentExist(t, store, brokenImage) {
					t.Errorf("after a failed write: ImagePullIntentExists(%q) = false, want true", brokenImage)
				}
				return
			}
			if err != nil {
				t.Fatalf("WriteImagePullIntent(%q) error: %v", brokenImage, err)
			}
			images, listBad := listedIntents(t, store)
			if diff := cmp.Diff([]string{healthyImg, brokenImage}, images); diff != "" {
				t.Errorf("after rewrite: ListImagePullIntents() images mismatch (-want +got):\n%s", diff)
			}
			if len(listBad) != 0 {
				t.Errorf("after rewrite: ListImagePullIntents() broken files = %v, want none", listBad)
			}
			if err := store.DeleteImagePullIntent(brokenImage); err != nil {
				t.Fatalf("DeleteImagePullIntent(%q) error: %v", brokenImage, err)
			}
			if mustIntentExist(t, store, brokenImage) {
				t.Errorf("after rewrite and delete: ImagePullIntentExists(%q) = true, want false", brokenImage)
			}
		})
	}
}

// readOnlyDirsFS is the real filesystem, except that the directories it is
// told to treat as read-only refuse new, renamed and removed entries, as a
// directory without write permission would (root ignores the mode bits, so
// the tests cannot rely on chmod).
type readOnlyDirsFS struct {
	imagepullrecords.FS

	mu       sync.Mutex
	readOnly map[string]bool
}

func newReadOnlyDirsFS() *readOnlyDirsFS {
	return &readOnlyDirsFS{FS: imagepullrecords.OS, readOnly: map[string]bool{}}
}

// setReadOnly makes dirs read-only, or writable again.
func (f *readOnlyDirsFS) setReadOnly(readOnly bool, dirs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, dir := range dirs {
		f.readOnly[filepath.Clean(dir)] = readOnly
	}
}

// check fails an operation that changes an entry of a read-only directory.
func (f *readOnlyDirsFS) check(op, dir, path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.readOnly[filepath.Clean(dir)] {
		return &fs.PathError{Op: op, Path: path, Err: syscall.EACCES}
	}
	return nil
}

func (f *readOnlyDirsFS) OpenFile(path string, flag int, perm os.FileMode) (imagepullrecords.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) != 0 {
		if err := f.check("open", filepath.Dir(path), path); err != nil {
			return nil, err
		}
	}
	return f.FS.OpenFile(path, flag, perm)
}

func (f *readOnlyDirsFS) CreateTemp(dir, pattern string) (imagepullrecords.File, error) {
	if err := f.check("createtemp", dir, filepath.Join(dir, pattern)); err != nil {
		return nil, err
	}
	return f.FS.CreateTemp(dir, pattern)
}

func (f *readOnlyDirsFS) Rename(oldpath, newpath string) error {
	if err := f.check("rename", filepath.Dir(oldpath), oldpath); err != nil {
		return err
	}
	if err := f.check("rename", filepath.Dir(newpath), newpath); err != nil {
		return err
	}
	return f.FS.Rename(oldpath, newpath)
}

func (f *readOnlyDirsFS) Remove(path string) error {
	if err := f.check("remove", filepath.Dir(path), path); err != nil {
		return err
	}
	return f.FS.Remove(path)
}

func testRecord(ref, repo string, creds kubeletconfig.ImagePullCredentials) *kubeletconfig.ImagePulledRecord {
	return &kubeletconfig.ImagePulledRecord{
		LastUpdatedTime:   storeTestTime,
		ImageRef:          ref,
		CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{repo: creds},
	}
}

// readOnlyEnv is a cached store over a directory whose record directories
// the test can make read-only.
type readOnlyEnv struct {
	managerDir string
	fsys       *readOnlyDirsFS
	store      pullmanager.RecordsStore
}

func newReadOnlyEnv(t *testing.T) *readOnlyEnv {
	t.Helper()
	env := &readOnlyEnv{managerDir: newManagerDir(t), fsys: newReadOnlyDirsFS()}
	env.store, _ = newCachedStore(t, env.managerDir, env.fsys)
	return env
}

func (e *readOnlyEnv) setReadOnly(readOnly bool) {
	e.fsys.setReadOnly(readOnly,
		filepath.Join(e.managerDir, imagepullrecords.IntentsDirName),
		filepath.Join(e.managerDir, imagepullrecords.RecordsDirName))
}

// onDisk reads the directory afresh, through the real filesystem.
func (e *readOnlyEnv) onDisk(t *testing.T) pullmanager.RecordsStore {
	t.Helper()
	return pullmanager.NewFileRecordsStore(openRecordsDir(t, e.managerDir, nil))
}

func TestCachedRecordsStoreFailedDeleteKeepsMemory(t *testing.T) {
	env := newReadOnlyEnv(t)
	record := testRecord(healthyRef, "docker.io/library/busybox", kubeletconfig.ImagePullCredentials{NodePodsAccessible: true})
	if err := env.store.WriteImagePulledRecord(record); err != nil {
		t.Fatalf("WriteImagePulledRecord() error: %v", err)
	}
	if err := env.store.WriteImagePullIntent(healthyImg); err != nil {
		t.Fatalf("WriteImagePullIntent() error: %v", err)
	}

	env.setReadOnly(true)
	if err := env.store.DeleteImagePulledRecord(healthyRef); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("DeleteImagePulledRecord() on a read-only directory = %v, want the permission error", err)
	}
	if err := env.store.DeleteImagePullIntent(healthyImg); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("DeleteImagePullIntent() on a read-only directory = %v, want the permission error", err)
	}

	// Memory never claims less than the disk holds: both entries stay.
	layers := []struct {
		name  string
		store pullmanager.RecordsStore
	}{
		{name: "cached", store: env.store},
		{name: "disk", store: env.onDisk(t)},
	}
	for _, layer := range layers {
		if diff := cmp.Diff(record, mustGetRecord(t, layer.store, healthyRef), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: after a failed delete: GetImagePulledRecord() mismatch (-want +got):\n%s", layer.name, diff)
		}
		records, _ := listedRecords(t, layer.store)
		if diff := cmp.Diff([]*kubeletconfig.ImagePulledRecord{record}, records, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: after a failed delete: ListImagePulledRecords() mismatch (-want +got):\n%s", layer.name, diff)
		}
		if !mustIntentExist(t, layer.store, healthyImg) {
			t.Errorf("%s: after a failed delete: ImagePullIntentExists(%q) = false, want true", layer.name, healthyImg)
		}
		images, _ := listedIntents(t, layer.store)
		if diff := cmp.Diff([]string{healthyImg}, images); diff != "" {
			t.Errorf("%s: after a failed delete: ListImagePullIntents() mismatch (-want +got):\n%s", layer.name, diff)
		}
	}

	// Once the disk accepts the deletes, both layers forget the entries.
	env.setReadOnly(false)
	if err := env.store.DeleteImagePulledRecord(healthyRef); err != nil {
		t.Fatalf("DeleteImagePulledRecord() error: %v", err)
	}
	if err := env.store.DeleteImagePullIntent(healthyImg); err != nil {
		t.Fatalf("DeleteImagePullIntent() error: %v", err)
	}
	layers[1].store = env.onDisk(t)
	for _, layer := range layers {
		if got := mustGetRecord(t, layer.store, healthyRef); got != nil {
			t.Errorf("%s: after delete: GetImagePulledRecord() = %+v, want nil", layer.name, got)
		}
		if mustIntentExist(t, layer.store, healthyImg) {
			t.Errorf("%s: after delete: ImagePullIntentExists(%q) = true, want false", layer.name, healthyImg)
		}
	}
}

func TestCachedRecordsStoreFailedWriteLeavesMemory(t *testing.T) {
	env := newReadOnlyEnv(t)
	old := testRecord(healthyRef, "reg.example/team/app", kubeletconfig.ImagePullCredentials{})
	if err := env.store.WriteImagePulledRecord(old); err != nil {
		t.Fatalf("WriteImagePulledRecord() error: %v", err)
	}
	if err := env.store.WriteImagePullIntent(healthyImg); err != nil {
		t.Fatalf("WriteImagePullIntent() error: %v", err)
	}

	env.setReadOnly(true)
	// A write that would grant more: memory must not grant it before the
	// disk holds it.
	update := testRecord(healthyRef, "reg.example/team/app", kubeletconfig.ImagePullCredentials{NodePodsAccessible: true})
	if err := env.store.WriteImagePulledRecord(update); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("WriteImagePulledRecord(overwrite) on a read-only directory = %v, want the permission error", err)
	}
	added := testRecord(otherRef, "reg.example/team/app", kubeletconfig.ImagePullCredentials{NodePodsAccessible: true})
	if err := env.store.WriteImagePulledRecord(added); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("WriteImagePulledRecord(new) on a read-only directory = %v, want the permission error", err)
	}
	if err := env.store.WriteImagePullIntent(otherImage); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("WriteImagePullIntent() on a read-only directory = %v, want the permission error", err)
	}

	layers := []struct {
		name  string
		store pullmanager.RecordsStore
	}{
		{name: "cached", store: env.store},
		{name: "disk", store: env.onDisk(t)},
	}
	for _, layer := range layers {
		if diff := cmp.Diff(old, mustGetRecord(t, layer.store, healthyRef), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: after a failed overwrite: GetImagePulledRecord() mismatch (-want +got):\n%s", layer.name, diff)
		}
		if got := mustGetRecord(t, layer.store, otherRef); got != nil {
			t.Errorf("%s: after a failed write: GetImagePulledRecord(%q) = %+v, want nil", layer.name, otherRef, got)
		}
		records, _ := listedRecords(t, layer.store)
		if diff := cmp.Diff([]*kubeletconfig.ImagePulledRecord{old}, records, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: after failed writes: ListImagePulledRecords() mismatch (-want +got):\n%s", layer.name, diff)
		}
		if mustIntentExist(t, layer.store, otherImage) {
			t.Errorf("%s: after a failed write: ImagePullIntentExists(%q) = true, want false", layer.name, otherImage)
		}
		images, _ := listedIntents(t, layer.store)
		if diff := cmp.Diff([]string{healthyImg}, images); diff != "" {
			t.Errorf("%s: after a failed write: ListImagePullIntents() mismatch (-want +got):\n%s", layer.name, diff)
		}
	}
}

func TestCachedRecordsStoreSurvivesRestart(t *testing.T) {
	managerDir := newManagerDir(t)
	store, _ := newCachedStore(t, managerDir, nil)
	var want []*kubeletconfig.ImagePulledRecord
	for i := range 5 {
		record := testRecord(fmt.Sprintf("sha256:%064x", i), fmt.Sprintf("reg.example/team/app-%d", i), kubeletconfig.ImagePullCredentials{
			KubernetesSecrets: []kubeletconfig.ImagePullSecret{{UID: fmt.Sprintf("uid-%d", i), Namespace: "team-a", Name: "regcred", CredentialHash: fmt.Sprintf("hash-%d", i)}},
		})
		if err := store.WriteImagePulledRecord(record); err != nil {
			t.Fatalf("WriteImagePulledRecord() error: %v", err)
		}
		want = append(want, record)
	}
	for _, image := range []string{brokenImage, otherImage, healthyImg} {
		if err := store.WriteImagePullIntent(image); err != nil {
			t.Fatalf("WriteImagePullIntent(%q) error: %v", image, err)
		}
	}
	if err := store.DeleteImagePulledRecord(want[2].ImageRef); err != nil {
		t.Fatalf("DeleteImagePulledRecord() error: %v", err)
	}
	want = slices.Delete(want, 2, 3)
	if err := store.DeleteImagePullIntent(otherImage); err != nil {
		t.Fatalf("DeleteImagePullIntent() error: %v", err)
	}

	restarted, bad := newCachedStore(t, managerDir, nil)
	if len(bad) != 0 {
		t.Errorf("after restart: broken files = %v, want none", bad)
	}
	records, _ := listedRecords(t, restarted)
	if diff := cmp.Diff(want, records, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("after restart: ListImagePulledRecords() mismatch (-want +got):\n%s", diff)
	}
	images, _ := listedIntents(t, restarted)
	if diff := cmp.Diff([]string{healthyImg, brokenImage}, images); diff != "" {
		t.Errorf("after restart: ListImagePullIntents() mismatch (-want +got):\n%s", diff)
	}
}
