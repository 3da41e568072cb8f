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
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
)

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// dirNames lists a directory, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode()
}

func openStore(t *testing.T, managerDir string, fsys FS) *Store {
	t.Helper()
	store, err := Open(Options{ManagerDir: managerDir, FS: fsys})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return store
}

// recordWithRef is the golden record for another image ref.
func recordWithRef(ref string) *kubeletv1beta1.ImagePulledRecord {
	r := goldenRecord()
	r.ImageRef = ref
	return r
}

func encodeRecord(t *testing.T, r *kubeletv1beta1.ImagePulledRecord) []byte {
	t.Helper()
	data, err := EncodeRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func encodeIntent(t *testing.T, image string) []byte {
	t.Helper()
	data, err := EncodeIntent(&kubeletv1beta1.ImagePullIntent{Image: image})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// v1alpha1Of turns a canonical v1beta1 encoding into its v1alpha1 form.
func v1alpha1Of(data []byte) []byte {
	return bytes.Replace(data, []byte(APIVersionV1beta1), []byte(APIVersionV1alpha1), 1)
}

// Placing non-regular files where a record belongs.

func placeSymlinkToValid(t *testing.T, path string, data []byte) {
	t.Helper()
	target := filepath.Join(t.TempDir(), filepath.Base(path))
	writeFile(t, target, data)
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

func placeFIFO(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
}

func placeDir(t *testing.T, path string) {
	t.Helper()
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
}

// padTo pads a JSON document with spaces (still valid JSON) to size bytes.
func padTo(data []byte, size int) []byte {
	return append(append([]byte(nil), data...), bytes.Repeat([]byte(" "), size-len(data))...)
}

func TestOpen(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, managerDir string)
		readOnly bool
		wantErr  bool
		// wantModes lists the directories (relative to the manager dir) that
		// must exist afterwards and their permissions; nil wantModes means
		// the manager dir must not exist.
		wantModes map[string]os.FileMode
	}{
		{
			name:      "creates the directories",
			wantModes: map[string]os.FileMode{".": DirMode, IntentsDirName: DirMode, RecordsDirName: DirMode},
		},
		{
			name: "tightens existing 0755 directories",
			setup: func(t *testing.T, managerDir string) {
				for _, d := range []string{managerDir, filepath.Join(managerDir, IntentsDirName), filepath.Join(managerDir, RecordsDirName)} {
					if err := os.MkdirAll(d, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.Chmod(d, 0o755); err != nil {
						t.Fatal(err)
					}
				}
			},
			wantModes: map[string]os.FileMode{".": DirMode, IntentsDirName: DirMode, RecordsDirName: DirMode},
		},
		{
			name: "keeps existing files",
			setup: func(t *testing.T, managerDir string) {
				if err := os.MkdirAll(filepath.Join(managerDir, RecordsDirName), 0o700); err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(managerDir, RecordsDirName, FileName(goldenImageRef)), []byte("x"))
			},
			wantModes: map[string]os.FileMode{".": DirMode, IntentsDirName: DirMode, RecordsDirName: DirMode},
		},
		{
			name: "a file in place of pulled/",
			setup: func(t *testing.T, managerDir string) {
				if err := os.MkdirAll(managerDir, 0o700); err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(managerDir, RecordsDirName), nil)
			},
			wantErr: true,
		},
		{
			name: "a symlink in place of pulled/",
			setup: func(t *testing.T, managerDir string) {
				if err := os.MkdirAll(managerDir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(t.TempDir(), filepath.Join(managerDir, RecordsDirName)); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: true,
		},
		{
			name:     "read-only creates nothing",
			readOnly: true,
		},
		{
			name: "read-only does not tighten",
			setup: func(t *testing.T, managerDir string) {
				if err := os.MkdirAll(filepath.Join(managerDir, RecordsDirName), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(managerDir, 0o755); err != nil {
					t.Fatal(err)
				}
			},
			readOnly:  true,
			wantModes: map[string]os.FileMode{".": 0o755, RecordsDirName: DirMode},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			managerDir := filepath.Join(t.TempDir(), "kubelet", ManagerDirName)
			if tc.setup != nil {
				tc.setup(t, managerDir)
			}
			store, err := Open(Options{ManagerDir: managerDir, ReadOnly: tc.readOnly})
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Open succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if store.ManagerDir() != managerDir {
				t.Errorf("ManagerDir() = %q, want %q", store.ManagerDir(), managerDir)
			}
			if tc.wantModes == nil {
				if _, err := os.Lstat(managerDir); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("manager dir exists after a read-only Open (Lstat error %v)", err)
				}
				return
			}
			for rel, want := range tc.wantModes {
				mode := fileMode(t, filepath.Join(managerDir, rel))
				if !mode.IsDir() || mode.Perm() != want {
					t.Errorf("%s has mode %v, want a directory with %v", rel, mode, want)
				}
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		opts func(managerDir string) Options
	}{
		{name: "no manager dir", opts: func(string) Options { return Options{} }},
		{name: "mkdir fails", opts: func(d string) Options { return Options{ManagerDir: d, FS: newFaultFS(opMkdirAll)} }},
		{name: "lstat fails", opts: func(d string) Options { return Options{ManagerDir: d, FS: newFaultFS(opLstat)} }},
		{name: "chmod fails", opts: func(d string) Options { return Options{ManagerDir: d, FS: newFaultFS(opChmod)} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			managerDir := filepath.Join(t.TempDir(), ManagerDirName)
			// A looser existing directory, so that Open has to chmod it.
			if err := os.Mkdir(managerDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(managerDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if _, err := Open(tc.opts(managerDir)); err == nil {
				t.Errorf("Open succeeded, want an error")
			}
		})
	}
}

func TestReadOnlyStore(t *testing.T) {
	tests := []struct {
		name     string
		populate bool
	}{
		{name: "missing manager dir", populate: false},
		{name: "populated manager dir", populate: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			managerDir := filepath.Join(t.TempDir(), ManagerDirName)
			recordPath := filepath.Join(managerDir, RecordsDirName, FileName(goldenImageRef))
			intentPath := filepath.Join(managerDir, IntentsDirName, FileName(goldenImage))
			oldRecord := v1alpha1Of(encodeRecord(t, goldenRecord()))
			temporary := filepath.Join(managerDir, RecordsDirName, TempPrefix+"left")
			if tc.populate {
				openStore(t, managerDir, nil)
				writeFile(t, recordPath, oldRecord)
				writeFile(t, intentPath, encodeIntent(t, goldenImage))
				writeFile(t, temporary, nil)
			}

			store, err := Open(Options{ManagerDir: managerDir, ReadOnly: true})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			writes := map[string]error{
				"WriteIntent":  store.WriteIntent(goldenIntent()),
				"WriteRecord":  store.WriteRecord(goldenRecord()),
				"DeleteIntent": store.DeleteIntent(goldenImage),
				"DeleteRecord": store.DeleteRecord(goldenImageRef),
			}
			_, writes["RemoveTemporaries"] = store.RemoveTemporaries()
			for name, err := range writes {
				if !errors.Is(err, ErrReadOnly) {
					t.Errorf("%s error = %v, want ErrReadOnly", name, err)
				}
			}

			exists, err := store.Exists()
			if err != nil || exists != tc.populate {
				t.Errorf("Exists() = %v, %v, want %v, nil", exists, err, tc.populate)
			}
			var records []RecordFile
			bad, err := store.WalkRecords(func(f RecordFile) { records = append(records, f) })
			if err != nil || len(bad) != 0 {
				t.Errorf("WalkRecords: bad %v, error %v", bad, err)
			}
			var intents []IntentFile
			bad, err = store.WalkIntents(func(f IntentFile) { intents = append(intents, f) })
			if err != nil || len(bad) != 0 {
				t.Errorf("WalkIntents: bad %v, error %v", bad, err)
			}
			record, err := store.ReadRecord(goldenImageRef)
			if err != nil {
				t.Errorf("ReadRecord: %v", err)
			}

			if !tc.populate {
				if len(records) != 0 || len(intents) != 0 || record != nil {
					t.Errorf("found records %v, intents %v, record %v in a missing directory", records, intents, record)
				}
				if _, err := os.Lstat(managerDir); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("a read-only store created %s (Lstat error %v)", managerDir, err)
				}
				return
			}
			if len(records) != 1 || records[0].Current || len(intents) != 1 || record == nil {
				t.Errorf("found records %v, intents %v, record %v; want the old record and the intent", records, intents, record)
			}
			// A reader never rewrites or removes anything.
			if got, _ := os.ReadFile(recordPath); !bytes.Equal(got, oldRecord) {
				t.Errorf("read-only store changed %s to %q", recordPath, got)
			}
			for _, p := range []string{intentPath, temporary} {
				if _, err := os.Lstat(p); err != nil {
					t.Errorf("read-only store removed %s: %v", p, err)
				}
			}
		})
	}
}

func TestWriteRecord(t *testing.T) {
	golden := readTestdata(t, "record-v1beta1.json")
	tests := []struct {
		name    string
		before  func(t *testing.T, path string)
		wantErr bool
	}{
		{name: "new file"},
		{name: "replaces a broken file", before: func(t *testing.T, path string) { writeFile(t, path, []byte(`{"kind":`)) }},
		{name: "replaces an empty file", before: func(t *testing.T, path string) { writeFile(t, path, nil) }},
		{name: "replaces a v1alpha1 file", before: func(t *testing.T, path string) { writeFile(t, path, readTestdata(t, "record-v1alpha1.json")) }},
		{name: "replaces a loose 0666 file", before: func(t *testing.T, path string) {
			writeFile(t, path, golden)
			if err := os.Chmod(path, 0o666); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "replaces a FIFO", before: placeFIFO},
		{name: "replaces a symlink without touching its target", before: func(t *testing.T, path string) {
			placeSymlinkToValid(t, path, []byte("target"))
		}},
		{name: "a directory in the way", before: placeDir, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			managerDir := filepath.Join(t.TempDir(), ManagerDirName)
			store := openStore(t, managerDir, nil)
			recordsDir := filepath.Join(managerDir, RecordsDirName)
			path := filepath.Join(recordsDir, "sha256-6c4819230abb345a10f78a425f8d54569ad6cbb6b2c9d3571941d0a16c3fce7d")
			var symlinkTarget string
			if tc.before != nil {
				tc.before(t, path)
				if fileMode(t, path)&fs.ModeSymlink != 0 {
					var err error
					if symlinkTarget, err = os.Readlink(path); err != nil {
						t.Fatal(err)
					}
				}
			}

			err := store.WriteRecord(goldenRecord())
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), path) {
					t.Errorf("WriteRecord error = %v, want one naming %s", err, path)
				}
			} else {
				if err != nil {
					t.Fatalf("WriteRecord: %v", err)
				}
				if mode := fileMode(t, path); mode != FileMode {
					t.Errorf("mode = %v, want a regular file with %v", mode, FileMode)
				}
				got, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(string(golden), string(got)); diff != "" {
					t.Errorf("content (-want +got):\n%s", diff)
				}
				record, err := store.ReadRecord(goldenImageRef)
				if err != nil {
					t.Fatalf("ReadRecord: %v", err)
				}
				if diff := cmp.Diff(goldenRecord(), record); diff != "" {
					t.Errorf("read back (-want +got):\n%s", diff)
				}
			}
			if symlinkTarget != "" {
				if got, _ := os.ReadFile(symlinkTarget); string(got) != "target" {
					t.Errorf("symlink target now holds %q", got)
				}
			}
			// Only the final name, no temporary.
			if diff := cmp.Diff([]string{filepath.Base(path)}, dirNames(t, recordsDir)); diff != "" {
				t.Errorf("pulled/ entries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteRecordInvalid(t *testing.T) {
	tests := []struct {
		name   string
		record *kubeletv1beta1.ImagePulledRecord
	}{
		{name: "nil", record: nil},
		{name: "empty imageRef", record: &kubeletv1beta1.ImagePulledRecord{}},
		{name: "invalid UTF-8 imageRef", record: recordWithRef("sha256:\xff")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			managerDir := filepath.Join(t.TempDir(), ManagerDirName)
			store := openStore(t, managerDir, nil)
			if err := store.WriteRecord(tc.record); !errors.Is(err, ErrDecode) {
				t.Errorf("WriteRecord error = %v, want one wrapping ErrDecode", err)
			}
			if names := dirNames(t, filepath.Join(managerDir, RecordsDirName)); len(names) != 0 {
				t.Errorf("pulled/ holds %q, want nothing", names)
			}
		})
	}
}

func TestWriteIntent(t *testing.T) {
	tests := []struct {
		name     string
		intent   *kubeletv1beta1.ImagePullIntent
		wantFile string
		wantData string
		wantErr  bool
	}{
		{
			name:     "golden",
			intent:   goldenIntent(),
			wantFile: "sha256-b4a05af84af4a10bdb75d0cc21dc888fb36efc13d3f6d03f99c94cca45a40714",
			wantData: string(readTestdata(t, "intent-v1beta1.json")),
		},
		{
			name:     "image string is hashed as written",
			intent:   &kubeletv1beta1.ImagePullIntent{Image: "docker.io/library/busybox:1.36"},
			wantFile: "sha256-d55432289a2f69dad7e00346d00e8d4df4d0053a44dffb3f8cf463f6e3fb4b04",
			wantData: `{"kind":"ImagePullIntent","apiVersion":"kubelet.config.k8s.io/v1beta1","image":"docker.io/library/busybox:1.36"}` + "\n",
		},
		{name: "empty image", intent: &kubeletv1beta1.ImagePullIntent{}, wantErr: true},
		{name: "nil", intent: nil, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			managerDir := filepath.Join(t.TempDir(), ManagerDirName)
			store := openStore(t, managerDir, nil)
			intentsDir := filepath.Join(managerDir, IntentsDirName)
			err := store.WriteIntent(tc.intent)
			if tc.wantErr {
				if err == nil {
					t.Errorf("WriteIntent succeeded, want an error")
				}
				if names := dirNames(t, intentsDir); len(names) != 0 {
					t.Errorf("pulling/ holds %q, want nothing", names)
				}
				return
			}
			if err != nil {
				t.Fatalf("WriteIntent: %v", err)
			}
			if diff := cmp.Diff([]string{tc.wantFile}, dirNames(t, intentsDir)); diff != "" {
				t.Errorf("pulling/ entries (-want +got):\n%s", diff)
			}
			path := filepath.Join(intentsDir, tc.wantFile)
			if mode := fileMode(t, path); mode != FileMode {
				t.Errorf("mode = %v, want %v", mode, FileMode)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantData, string(got)); diff != "" {
				t.Errorf("content (-want +got):\n%s", diff)
			}
		})
	}
}

// wantFileError is the expected form of a FileError.
type wantFileError struct {
	File string
	Hash string
	Is   error
}

func checkFileErrors(t *testing.T, want []wantFileError, got []FileError) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("errors = %v, want %d: %+v", got, len(want), want)
		return
	}
	for i := range want {
		// errors.Is on the FileError itself: callers test it that way.
		if got[i].File != want[i].File || got[i].Hash != want[i].Hash || !errors.Is(&got[i], want[i].Is) {
			t.Errorf("error %d = {File: %q, Hash: %q, Err: %v}, want {File: %q, Hash: %q, Err: wrapping %v}",
				i, got[i].File, got[i].Hash, got[i].Err, want[i].File, want[i].Hash, want[i].Is)
		}
		if !strings.Contains(got[i].Error(), got[i].File) {
			t.Errorf("error %d message %q does not name the file", i, got[i].Error())
		}
	}
}

func TestWalkRecords(t *testing.T) {
	refA := "sha256:" + strings.Repeat("a", 64)
	refB := "sha256:" + strings.Repeat("b", 64)
	refC := "sha256:" + strings.Repeat("c", 64)
	rel := func(key string) string { return filepath.Join(RecordsDirName, FileName(key)) }
	good := func(ref string, current bool) RecordFile {
		return RecordFile{File: rel(ref), Hash: KeyHash(ref), Record: recordWithRef(ref), Current: current}
	}
	put := func(t *testing.T, recordsDir, name string, data []byte) {
		writeFile(t, filepath.Join(recordsDir, name), data)
	}

	tests := []struct {
		name  string
		setup func(t *testing.T, recordsDir string)
		// fault, if set, is injected for the given file name.
		fault       faultOp
		faultName   string
		wantRecords []RecordFile
		wantErrs    []wantFileError
		wantWalkErr bool
	}{
		{name: "empty directory"},
		{
			name: "missing directory is empty",
			setup: func(t *testing.T, recordsDir string) {
				if err := os.Remove(recordsDir); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "good files in name order, v1alpha1 not current",
			setup: func(t *testing.T, recordsDir string) {
				put(t, recordsDir, FileName(refC), encodeRecord(t, recordWithRef(refC)))
				put(t, recordsDir, FileName(refA), v1alpha1Of(encodeRecord(t, recordWithRef(refA))))
				put(t, recordsDir, FileName(refB), encodeRecord(t, recordWithRef(refB)))
			},
			wantRecords: func() []RecordFile {
				files := []RecordFile{good(refA, false), good(refB, true), good(refC, true)}
				sort.Slice(files, func(i, j int) bool { return files[i].File < files[j].File })
				return files
			}(),
		},
		{
			name: "undecodable",
			setup: func(t *testing.T, recordsDir string) {
				put(t, recordsDir, FileName(refA), []byte(`{"kind":"ImagePulledRecord"`))
			},
			wantErrs: []wantFileError{{File: rel(refA), Hash: KeyHash(refA), Is: ErrDecode}},
		},
		{
			name: "an intent in pulled/",
			setup: func(t *testing.T, recordsDir string) {
				put(t, recordsDir, FileName(goldenImage), encodeIntent(t, goldenImage))
			},
			wantErrs: []wantFileError{{File: rel(goldenImage), Hash: KeyHash(goldenImage), Is: ErrDecode}},
		},
		{
			name: "name does not hash from the content",
			setup: func(t *testing.T, recordsDir string) {
				put(t, recordsDir, FileName(refB), encodeRecord(t, recordWithRef(refA)))
			},
			wantErrs: []wantFileError{{File: rel(refB), Hash: KeyHash(refB), Is: ErrNameMismatch}},
		},
		{
			name: "malformed name",
			setup: func(t *testing.T, recordsDir string) {
				put(t, recordsDir, "sha256-zz", encodeRecord(t, recordWithRef(refA)))
			},
			wantErrs: []wantFileError{{File: filepath.Join(RecordsDirName, "sha256-zz"), Is: ErrNameMismatch}},
		},
		{
			name: "uppercase hash name",
			setup: func(t *testing.T, recordsDir string) {
				put(t, recordsDir, "sha256-"+strings.ToUpper(KeyHash(refA)), encodeRecord(t, recordWithRef(refA)))
			},
			wantErrs: []wantFileError{{File: filepath.Join(RecordsDirName, "sha256-"+strings.ToUpper(KeyHash(refA))), Is: ErrNameMismatch}},
		},
		{
			name: "unreadable",
			setup: func(t *testing.T, recordsDir string) {
				put(t, recordsDir, FileName(refA), encodeRecord(t, recordWithRef(refA)))
			},
			fault:     opOpen,
			faultName: FileName(refA),
			wantErrs:  []wantFileError{{File: rel(refA), Hash: KeyHash(refA), Is: errInjected}},
		},
		{
			name:     "directory",
			setup:    func(t *testing.T, recordsDir string) { placeDir(t, filepath.Join(recordsDir, FileName(refA))) },
			wantErrs: []wantFileError{{File: rel(refA), Hash: KeyHash(refA), Is: ErrNotRegular}},
		},
		{
			name: "symlink to a valid record is not followed",
			setup: func(t *testing.T, recordsDir string) {
				placeSymlinkToValid(t, filepath.Join(recordsDir, FileName(refA)), encodeRecord(t, recordWithRef(refA)))
			},
			wantErrs: []wantFileError{{File: rel(refA), Hash: KeyHash(refA), Is: ErrNotRegular}},
		},
		{
			name: "dangling symlink",
			setup: func(t *testing.T, recordsDir string) {
				if err := os.Symlink(filepath.Join(recordsDir, "nowhere"), filepath.Join(recordsDir, FileName(refA))); err != nil {
					t.Fatal(err)
				}
			},
			wantErrs: []wantFileError{{File: rel(refA), Hash: KeyHash(refA), Is: ErrNotRegular}},
		},
		{
			// Opening a FIFO without a writer would block; the walk must not.
			name:     "FIFO",
			setup:    func(t *testing.T, recordsDir string) { placeFIFO(t, filepath.Join(recordsDir, FileName(refA))) },
			wantErrs: []wantFileError{{File: rel(refA), Hash: KeyHash(refA), Is: ErrNotRegular}},
		},
		{
			name: "larger than MaxFileSize",
			setup: func(t *testing.T, recordsDir string) {
				put(t, recordsDir, FileName(refA), padTo(encodeRecord(t, recordWithRef(refA)), MaxFileSize+1))
			},
			wantErrs: []wantFileError{{File: rel(refA), Hash: KeyHash(refA), Is: ErrTooLarge}},
		},
		{
			name: "exactly MaxFileSize",
			setup: func(t *testing.T, recordsDir string) {
				put(t, recordsDir, FileName(refA), padTo(encodeRecord(t, recordWithRef(refA)), MaxFileSize))
			},
			wantRecords: []RecordFile{good(refA, true)},
		},
		{
			name: "temporaries and other names are ignored",
			setup: func(t *testing.T, recordsDir string) {
				data := encodeRecord(t, recordWithRef(refA))
				put(t, recordsDir, TempPrefix+"123", data)
				put(t, recordsDir, FileName(refA)+".tmp", data)
				put(t, recordsDir, "README", data)
				put(t, recordsDir, "sha256.json", data)
				put(t, recordsDir, ".lock", nil)
				placeFIFO(t, filepath.Join(recordsDir, TempPrefix+"fifo"))
			},
		},
		{
			name: "good and bad together, each listed once",
			setup: func(t *testing.T, recordsDir string) {
				put(t, recordsDir, FileName(refA), encodeRecord(t, recordWithRef(refA)))
				put(t, recordsDir, FileName(refB), []byte("null"))
				put(t, recordsDir, FileName(refC), encodeRecord(t, recordWithRef(refC)))
				put(t, recordsDir, "sha256-zz", nil)
				placeFIFO(t, filepath.Join(recordsDir, FileName(goldenImageRef)))
			},
			wantRecords: func() []RecordFile {
				files := []RecordFile{good(refA, true), good(refC, true)}
				sort.Slice(files, func(i, j int) bool { return files[i].File < files[j].File })
				return files
			}(),
			wantErrs: func() []wantFileError {
				errs := []wantFileError{
					{File: rel(refB), Hash: KeyHash(refB), Is: ErrDecode},
					{File: filepath.Join(RecordsDirName, "sha256-zz"), Is: ErrNameMismatch},
					{File: rel(goldenImageRef), Hash: KeyHash(goldenImageRef), Is: ErrNotRegular},
				}
				sort.Slice(errs, func(i, j int) bool { return errs[i].File < errs[j].File })
				return errs
			}(),
		},
		{
			name: "pulled/ is not a directory",
			setup: func(t *testing.T, recordsDir string) {
				if err := os.Remove(recordsDir); err != nil {
					t.Fatal(err)
				}
				writeFile(t, recordsDir, nil)
			},
			wantWalkErr: true,
		},
		{
			name:        "listing fails",
			fault:       opReadDir,
			wantWalkErr: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			managerDir := filepath.Join(t.TempDir(), ManagerDirName)
			fsys := newFaultFS()
			store := openStore(t, managerDir, fsys)
			recordsDir := filepath.Join(managerDir, RecordsDirName)
			if tc.setup != nil {
				tc.setup(t, recordsDir)
			}
			if tc.fault != "" {
				fsys.fail[tc.fault] = true
				if tc.faultName != "" {
					fsys.failPath = filepath.Join(recordsDir, tc.faultName)
				}
			}

			var got []RecordFile
			bad, err := store.WalkRecords(func(f RecordFile) { got = append(got, f) })
			if tc.wantWalkErr {
				if err == nil {
					t.Errorf("WalkRecords succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("WalkRecords: %v", err)
			}
			// Mode is whatever the test's files were written with; its use
			// (spotting loose modes) is tested in TestWalkReportsModes.
			if diff := cmp.Diff(tc.wantRecords, got, cmpopts.IgnoreFields(RecordFile{}, "Mode")); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			checkFileErrors(t, tc.wantErrs, bad)
		})
	}
}

func TestWalkIntents(t *testing.T) {
	imageA := "reg.example/a:1"
	imageB := "reg.example/b:1"
	rel := func(key string) string { return filepath.Join(IntentsDirName, FileName(key)) }
	good := func(image string, current bool) IntentFile {
		return IntentFile{
			File:    rel(image),
			Hash:    KeyHash(image),
			Intent:  &kubeletv1beta1.ImagePullIntent{TypeMeta: goldenIntent().TypeMeta, Image: image},
			Current: current,
		}
	}
	put := func(t *testing.T, intentsDir, name string, data []byte) {
		writeFile(t, filepath.Join(intentsDir, name), data)
	}
	byFile := func(files ...IntentFile) []IntentFile {
		sort.Slice(files, func(i, j int) bool { return files[i].File < files[j].File })
		return files
	}

	tests := []struct {
		name        string
		setup       func(t *testing.T, intentsDir string)
		wantIntents []IntentFile
		wantErrs    []wantFileError
	}{
		{name: "empty directory"},
		{
			name: "missing directory is empty",
			setup: func(t *testing.T, intentsDir string) {
				if err := os.Remove(intentsDir); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "good files in name order, v1alpha1 not current",
			setup: func(t *testing.T, intentsDir string) {
				put(t, intentsDir, FileName(imageA), v1alpha1Of(encodeIntent(t, imageA)))
				put(t, intentsDir, FileName(imageB), encodeIntent(t, imageB))
			},
			wantIntents: byFile(good(imageA, false), good(imageB, true)),
		},
		{
			name: "a record in pulling/",
			setup: func(t *testing.T, intentsDir string) {
				put(t, intentsDir, FileName(goldenImageRef), encodeRecord(t, goldenRecord()))
			},
			wantErrs: []wantFileError{{File: rel(goldenImageRef), Hash: KeyHash(goldenImageRef), Is: ErrDecode}},
		},
		{
			name:     "name does not hash from the content",
			setup:    func(t *testing.T, intentsDir string) { put(t, intentsDir, FileName(imageA), encodeIntent(t, imageB)) },
			wantErrs: []wantFileError{{File: rel(imageA), Hash: KeyHash(imageA), Is: ErrNameMismatch}},
		},
		{
			name:     "malformed name",
			setup:    func(t *testing.T, intentsDir string) { put(t, intentsDir, "sha256-zz", encodeIntent(t, imageA)) },
			wantErrs: []wantFileError{{File: filepath.Join(IntentsDirName, "sha256-zz"), Is: ErrNameMismatch}},
		},
		{
			name:     "directory",
			setup:    func(t *testing.T, intentsDir string) { placeDir(t, filepath.Join(intentsDir, FileName(imageA))) },
			wantErrs: []wantFileError{{File: rel(imageA), Hash: KeyHash(imageA), Is: ErrNotRegular}},
		},
		{
			name: "symlink to a valid intent is not followed",
			setup: func(t *testing.T, intentsDir string) {
				placeSymlinkToValid(t, filepath.Join(intentsDir, FileName(imageA)), encodeIntent(t, imageA))
			},
			wantErrs: []wantFileError{{File: rel(imageA), Hash: KeyHash(imageA), Is: ErrNotRegular}},
		},
		{
			name:     "FIFO",
			setup:    func(t *testing.T, intentsDir string) { placeFIFO(t, filepath.Join(intentsDir, FileName(imageA))) },
			wantErrs: []wantFileError{{File: rel(imageA), Hash: KeyHash(imageA), Is: ErrNotRegular}},
		},
		{
			name: "larger than MaxFileSize",
			setup: func(t *testing.T, intentsDir string) {
				put(t, intentsDir, FileName(imageA), padTo(encodeIntent(t, imageA), MaxFileSize+1))
			},
			wantErrs: []wantFileError{{File: rel(imageA), Hash: KeyHash(imageA), Is: ErrTooLarge}},
		},
		{
			name: "temporaries and other names are ignored",
			setup: func(t *testing.T, intentsDir string) {
				data := encodeIntent(t, imageA)
				put(t, intentsDir, TempPrefix+"123", data)
				put(t, intentsDir, FileName(imageA)+".tmp", data)
				put(t, intentsDir, "intent.json", data)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			managerDir := filepath.Join(t.TempDir(), ManagerDirName)
			store := openStore(t, managerDir, nil)
			intentsDir := filepath.Join(managerDir, IntentsDirName)
			if tc.setup != nil {
				tc.setup(t, intentsDir)
			}
			var got []IntentFile
			bad, err := store.WalkIntents(func(f IntentFile) { got = append(got, f) })
			if err != nil {
				t.Fatalf("WalkIntents: %v", err)
			}
			if diff := cmp.Diff(tc.wantIntents, got, cmpopts.IgnoreFields(IntentFile{}, "Mode")); diff != "" {
				t.Errorf("intents (-want +got):\n%s", diff)
			}
			checkFileErrors(t, tc.wantErrs, bad)
		})
	}
}

func TestWalkIntentsListingFails(t *testing.T) {
	fsys := newFaultFS()
	store := openStore(t, filepath.Join(t.TempDir(), ManagerDirName), fsys)
	fsys.fail[opReadDir] = true
	if _, err := store.WalkIntents(func(IntentFile) { t.Errorf("called for a file") }); !errors.Is(err, errInjected) {
		t.Errorf("WalkIntents error = %v, want the injected fault", err)
	}
}

func TestReadRecord(t *testing.T) {
	other := "sha256:" + strings.Repeat("0", 64)
	tests := []struct {
		name       string
		setup      func(t *testing.T, path string)
		wantRecord *kubeletv1beta1.ImagePulledRecord
		wantErr    error
	}{
		{name: "absent"},
		{
			name: "records directory missing",
			setup: func(t *testing.T, path string) {
				if err := os.Remove(filepath.Dir(path)); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name:       "v1beta1",
			setup:      func(t *testing.T, path string) { writeFile(t, path, readTestdata(t, "record-v1beta1.json")) },
			wantRecord: goldenRecord(),
		},
		{
			name:       "v1alpha1",
			setup:      func(t *testing.T, path string) { writeFile(t, path, readTestdata(t, "record-v1alpha1.json")) },
			wantRecord: goldenRecord(),
		},
		{
			name:    "undecodable",
			setup:   func(t *testing.T, path string) { writeFile(t, path, nil) },
			wantErr: ErrDecode,
		},
		{
			name:    "record of another image ref",
			setup:   func(t *testing.T, path string) { writeFile(t, path, encodeRecord(t, recordWithRef(other))) },
			wantErr: ErrNameMismatch,
		},
		{
			name:    "symlink",
			setup:   func(t *testing.T, path string) { placeSymlinkToValid(t, path, readTestdata(t, "record-v1beta1.json")) },
			wantErr: ErrNotRegular,
		},
		{name: "FIFO", setup: placeFIFO, wantErr: ErrNotRegular},
		{name: "directory", setup: placeDir, wantErr: ErrNotRegular},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			managerDir := filepath.Join(t.TempDir(), ManagerDirName)
			store := openStore(t, managerDir, nil)
			if tc.setup != nil {
				tc.setup(t, filepath.Join(managerDir, RecordsDirName, FileName(goldenImageRef)))
			}
			got, err := store.ReadRecord(goldenImageRef)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("ReadRecord error = %v, want one wrapping %v", err, tc.wantErr)
				}
				if got != nil {
					t.Errorf("ReadRecord returned %v with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadRecord: %v", err)
			}
			if diff := cmp.Diff(tc.wantRecord, got); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name string
		// dir is the subdirectory the file lives in.
		dir    string
		key    string
		delete func(s *Store, key string) error
		setup  func(t *testing.T, path string)
		fault  faultOp
		// wantSyncDir: the directory must be fsynced after the removal.
		wantSyncDir bool
		wantErr     bool
	}{
		{
			name: "record", dir: RecordsDirName, key: goldenImageRef, delete: (*Store).DeleteRecord,
			setup:       func(t *testing.T, path string) { writeFile(t, path, readTestdata(t, "record-v1beta1.json")) },
			wantSyncDir: true,
		},
		// A retry after a failed fsync finds the file gone and must fsync.
		{name: "missing record", dir: RecordsDirName, key: goldenImageRef, delete: (*Store).DeleteRecord, wantSyncDir: true},
		{
			name: "record, directory missing", dir: RecordsDirName, key: goldenImageRef, delete: (*Store).DeleteRecord,
			setup: func(t *testing.T, path string) {
				if err := os.Remove(filepath.Dir(path)); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "broken record", dir: RecordsDirName, key: goldenImageRef, delete: (*Store).DeleteRecord,
			setup:       func(t *testing.T, path string) { writeFile(t, path, []byte("garbage")) },
			wantSyncDir: true,
		},
		{
			name: "record, removal fails", dir: RecordsDirName, key: goldenImageRef, delete: (*Store).DeleteRecord,
			setup:   func(t *testing.T, path string) { writeFile(t, path, readTestdata(t, "record-v1beta1.json")) },
			fault:   opRemove,
			wantErr: true,
		},
		{
			name: "record, directory fsync fails", dir: RecordsDirName, key: goldenImageRef, delete: (*Store).DeleteRecord,
			setup:   func(t *testing.T, path string) { writeFile(t, path, readTestdata(t, "record-v1beta1.json")) },
			fault:   opSyncDir,
			wantErr: true,
		},
		{
			name: "intent", dir: IntentsDirName, key: goldenImage, delete: (*Store).DeleteIntent,
			setup: func(t *testing.T, path string) { writeFile(t, path, readTestdata(t, "intent-v1beta1.json")) },
		},
		{name: "missing intent", dir: IntentsDirName, key: goldenImage, delete: (*Store).DeleteIntent},
		{
			name: "intent, removal fails", dir: IntentsDirName, key: goldenImage, delete: (*Store).DeleteIntent,
			setup:   func(t *testing.T, path string) { writeFile(t, path, readTestdata(t, "intent-v1beta1.json")) },
			fault:   opRemove,
			wantErr: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			managerDir := filepath.Join(t.TempDir(), ManagerDirName)
			fsys := newFaultFS()
			store := openStore(t, managerDir, fsys)
			dir := filepath.Join(managerDir, tc.dir)
			path := filepath.Join(dir, FileName(tc.key))
			// Neighbours are never touched.
			neighbour := filepath.Join(dir, FileName("neighbour"))
			if tc.setup != nil {
				tc.setup(t, path)
			}
			if _, err := os.Stat(dir); err == nil {
				writeFile(t, neighbour, nil)
			} else {
				neighbour = ""
			}
			fsys.fail[tc.fault] = true
			fsys.calls = nil

			err := tc.delete(store, tc.key)
			if tc.wantErr {
				if !errors.Is(err, errInjected) {
					t.Errorf("error = %v, want the injected fault", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("delete: %v", err)
			}
			if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s still exists (Lstat error %v)", path, err)
			}
			if neighbour != "" {
				if _, err := os.Lstat(neighbour); err != nil {
					t.Errorf("neighbour removed: %v", err)
				}
			}
			calls := fsys.recorded()
			synced := len(calls) > 0 && calls[len(calls)-1] == string(opSyncDir)+" "+dir
			if synced != tc.wantSyncDir {
				t.Errorf("directory fsynced last: %v, want %v (operations %q)", synced, tc.wantSyncDir, calls)
			}
		})
	}
}

func TestRemoveTemporaries(t *testing.T) {
	managerDir := filepath.Join(t.TempDir(), ManagerDirName)
	store := openStore(t, managerDir, nil)
	intentsDir := filepath.Join(managerDir, IntentsDirName)
	recordsDir := filepath.Join(managerDir, RecordsDirName)
	keep := map[string][]string{
		intentsDir: {FileName(goldenImage), "README", "sha256-zz", "tmp-not-ours"},
		recordsDir: {FileName(goldenImageRef), "notes.tmp.json"},
		managerDir: {".tmp-outside", "x.tmp"},
	}
	remove := map[string][]string{
		intentsDir: {".tmp-1", FileName(goldenImage) + ".tmp"},
		recordsDir: {".tmp-2", ".tmp-3", "x.tmp"},
	}
	for dir, names := range keep {
		for _, name := range names {
			writeFile(t, filepath.Join(dir, name), nil)
		}
	}
	var wantRemoved []string
	for _, dir := range []string{intentsDir, recordsDir} {
		for _, name := range remove[dir] {
			writeFile(t, filepath.Join(dir, name), nil)
			wantRemoved = append(wantRemoved, filepath.Join(dir, name))
		}
	}

	removed, err := store.RemoveTemporaries()
	if err != nil {
		t.Fatalf("RemoveTemporaries: %v", err)
	}
	sort.Strings(removed)
	sort.Strings(wantRemoved)
	if diff := cmp.Diff(wantRemoved, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	wantLeft := map[string][]string{
		intentsDir: keep[intentsDir],
		recordsDir: keep[recordsDir],
		managerDir: append([]string{IntentsDirName, RecordsDirName}, keep[managerDir]...),
	}
	for dir, want := range wantLeft {
		want = append([]string(nil), want...)
		sort.Strings(want)
		if diff := cmp.Diff(want, dirNames(t, dir)); diff != "" {
			t.Errorf("left in %s (-want +got):\n%s", dir, diff)
		}
	}
}

func TestRemoveTemporariesErrors(t *testing.T) {
	tests := []struct {
		name        string
		fault       faultOp
		missingDirs bool
		wantErr     bool
	}{
		{name: "missing directories", missingDirs: true},
		{name: "removal fails", fault: opRemove, wantErr: true},
		{name: "listing fails", fault: opReadDir, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			managerDir := filepath.Join(t.TempDir(), ManagerDirName)
			fsys := newFaultFS()
			store := openStore(t, managerDir, fsys)
			for _, sub := range []string{IntentsDirName, RecordsDirName} {
				if tc.missingDirs {
					if err := os.Remove(filepath.Join(managerDir, sub)); err != nil {
						t.Fatal(err)
					}
					continue
				}
				writeFile(t, filepath.Join(managerDir, sub, TempPrefix+"x"), nil)
			}
			fsys.fail[tc.fault] = true
			removed, err := store.RemoveTemporaries()
			if tc.wantErr != errors.Is(err, errInjected) {
				t.Errorf("error = %v, want the injected fault: %v", err, tc.wantErr)
			}
			if tc.wantErr && len(removed) != 0 {
				t.Errorf("removed = %q despite the fault", removed)
			}
			if !tc.wantErr && err != nil {
				t.Errorf("RemoveTemporaries: %v", err)
			}
		})
	}
}

func TestExists(t *testing.T) {
	tests := []struct {
		name       string
		create     bool
		fault      faultOp
		wantExists bool
		wantErr    bool
	}{
		{name: "missing"},
		{name: "present", create: true, wantExists: true},
		{name: "lstat fails", create: true, fault: opLstat, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			managerDir := filepath.Join(t.TempDir(), ManagerDirName)
			if tc.create {
				openStore(t, managerDir, nil)
			}
			fsys := newFaultFS(tc.fault)
			store, err := Open(Options{ManagerDir: managerDir, FS: fsys, ReadOnly: true})
			if err != nil {
				// A read-only Open checks the directories with Lstat too.
				if tc.wantErr && tc.fault == opLstat {
					return
				}
				t.Fatalf("Open: %v", err)
			}
			if store.FS() != fsys {
				t.Errorf("FS() is not the FS given to Open")
			}
			exists, err := store.Exists()
			if exists != tc.wantExists || (err != nil) != tc.wantErr {
				t.Errorf("Exists() = %v, %v, want %v, error %v", exists, err, tc.wantExists, tc.wantErr)
			}
		})
	}
}

// TestOpenRefusesSymlinkedDirs: image_manager/, pulled/ or pulling/ as a
// symlink to another directory is refused by readers and writers alike,
// and the writer lock is not created through it: records read through it
// would be another directory's, and could grant what this root dir never
// recorded.
func TestOpenRefusesSymlinkedDirs(t *testing.T) {
	for _, link := range []string{"", RecordsDirName, IntentsDirName} {
		name := ManagerDirName + "/" + link
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			managerDir := filepath.Join(root, ManagerDirName)
			// elsewhere holds a valid store with a record.
			elsewhere := filepath.Join(t.TempDir(), "elsewhere")
			openStore(t, elsewhere, nil)
			writeFile(t, filepath.Join(elsewhere, RecordsDirName, FileName(goldenImageRef)), encodeRecord(t, goldenRecord()))
			target, linkPath := elsewhere, managerDir
			if link != "" {
				openStore(t, managerDir, nil)
				target, linkPath = filepath.Join(elsewhere, link), filepath.Join(managerDir, link)
				if err := os.Remove(linkPath); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink(target, linkPath); err != nil {
				t.Fatal(err)
			}
			for _, readOnly := range []bool{true, false} {
				_, err := Open(Options{ManagerDir: managerDir, ReadOnly: readOnly})
				if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), linkPath) || !strings.Contains(err.Error(), "symlink") {
					t.Errorf("Open(ReadOnly: %v) error = %v, want ErrNotRegular naming %s as a symlink", readOnly, err, linkPath)
				}
			}
			if link == "" {
				lock, err := AcquireWriterLock(OS, managerDir)
				if err == nil {
					_ = lock.Release()
				}
				if !errors.Is(err, ErrNotRegular) {
					t.Errorf("AcquireWriterLock error = %v, want ErrNotRegular", err)
				}
				if _, err := os.Lstat(filepath.Join(elsewhere, LockFileName)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("a lock file was created in the symlink's target: %v", err)
				}
			}
		})
	}
}
