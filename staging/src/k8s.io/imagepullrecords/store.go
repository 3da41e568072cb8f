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
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
)

// Options configure a Store.
type Options struct {
	// ManagerDir is <root-dir>/image_manager.
	ManagerDir string
	// FS is the filesystem; nil means OS.
	FS FS
	// ReadOnly opens the store for reading only: no directory is created or
	// tightened and every write fails with ErrReadOnly.
	ReadOnly bool
}

// ErrReadOnly is returned by writes to a store opened read-only.
var ErrReadOnly = errors.New("image pull records opened read-only")

// Store reads and writes the intent and record files of one image_manager
// directory. It keeps no state besides its paths; callers serialise writes of
// one file name (the kubelet holds a per-image lock).
type Store struct {
	fs         FS
	managerDir string
	intentsDir string
	recordsDir string
	readOnly   bool
}

// IntentFile is an intent file that passed every check.
type IntentFile struct {
	// File is the path relative to the manager directory ("pulling/sha256-...").
	File string
	// Hash is the file name's hash.
	Hash string
	// Intent is the decoded intent, converted to v1beta1.
	Intent *kubeletv1beta1.ImagePullIntent
	// Current is false for an older-version file a writer should rewrite.
	Current bool
	// Mode is the file's mode as read.
	Mode os.FileMode
}

// RecordFile is a record file that passed every check.
type RecordFile struct {
	// File is the path relative to the manager directory ("pulled/sha256-...").
	File string
	// Hash is the file name's hash.
	Hash string
	// Record is the decoded record, converted to v1beta1.
	Record *kubeletv1beta1.ImagePulledRecord
	// Current is false for an older-version file a writer should rewrite.
	Current bool
	// Mode is the file's mode as read.
	Mode os.FileMode
}

// FileError describes a file that failed a check: it could not be read, did
// not decode, had the wrong kind, or its name does not hash from its key.
type FileError struct {
	// File is the path relative to the manager directory.
	File string
	// Hash is the file name's hash, empty when the name is malformed. A
	// broken record with a hash poisons that hash.
	Hash string
	// Mode is the file's mode when reading got as far as a stat, else 0.
	Mode os.FileMode
	// Err is the cause.
	Err error
}

// LooseMode reports whether mode is a regular file's mode looser than
// FileMode, which a writer tightens. A zero mode is what a read that never
// got as far as a stat reports (a symlink refused by O_NOFOLLOW, among
// others), not a file of mode 0000: it is not loose, or a writer would
// chmod through the symlink.
func LooseMode(mode os.FileMode) bool {
	return mode != 0 && mode.IsRegular() && mode.Perm() != FileMode
}

func (e *FileError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// ErrNameMismatch is the cause of a FileError for a file whose name does not
// hash from the key it holds.
var ErrNameMismatch = errors.New("file name does not match its content")

// Open returns a Store for opts.ManagerDir. Unless read-only, it creates the
// directories with mode 0700, tightens existing ones that are looser, and
// fsyncs them and their parents so that they, and every entry an earlier
// process left in them, survive a power loss.
func Open(opts Options) (*Store, error) {
	if opts.ManagerDir == "" {
		return nil, errors.New("image pull records: manager directory not set")
	}
	fsys := opts.FS
	if fsys == nil {
		fsys = OS
	}
	s := &Store{
		fs:         fsys,
		managerDir: opts.ManagerDir,
		intentsDir: filepath.Join(opts.ManagerDir, IntentsDirName),
		recordsDir: filepath.Join(opts.ManagerDir, RecordsDirName),
		readOnly:   opts.ReadOnly,
	}
	if s.readOnly {
		// A reader creates nothing, but must not read records through a
		// symlink either: they would be another directory's, and could
		// grant what this root dir never recorded.
		for _, dir := range []string{s.managerDir, s.intentsDir, s.recordsDir} {
			if err := checkRealDir(fsys, dir); err != nil {
				return nil, err
			}
		}
		return s, nil
	}
	for _, dir := range []string{s.managerDir, s.intentsDir, s.recordsDir} {
		if err := ensureDir(fsys, dir); err != nil {
			return nil, err
		}
	}
	// fsync the parents of the three directories: a directory's own entry
	// is durable only once its parent is, and a record fsynced into a
	// directory whose creation is lost is lost with it (an intent too, and
	// the image would then look preloaded). Done on every open, not only
	// after creating them: an earlier process may have died in between.
	// Then fsync the two record directories: a process that died between a
	// rename and its directory fsync left an entry that this process reads
	// and builds on (start-up housekeeping finds the record and removes the
	// intent), so it must be durable before anything depends on it.
	for _, dir := range []string{filepath.Dir(s.managerDir), s.managerDir, s.intentsDir, s.recordsDir} {
		if err := syncDir(fsys, dir); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// ensureDir creates dir with DirMode, or checks that the existing one is a
// real directory and tightens a looser mode.
func ensureDir(fsys FS, dir string) error {
	if err := fsys.MkdirAll(dir, DirMode); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	info, err := realDir(fsys, dir)
	if err != nil {
		return err
	}
	if info.Mode().Perm() != DirMode {
		if err := fsys.Chmod(dir, DirMode); err != nil {
			return fmt.Errorf("tightening mode of %s: %w", dir, err)
		}
	}
	return nil
}

// realDir describes dir, failing unless it is a directory itself: a
// symlink to one is refused, since records read or written through it
// would be another directory's.
func realDir(fsys FS, dir string) (os.FileInfo, error) {
	info, err := fsys.Lstat(dir)
	if err != nil {
		return nil, fmt.Errorf("checking %s: %w", dir, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s: %w (want a directory, found %s)", dir, ErrNotRegular, describeMode(info.Mode()))
	}
	return info, nil
}

// checkRealDir is realDir for a reader, for which a missing dir is fine.
func checkRealDir(fsys FS, dir string) error {
	if _, err := realDir(fsys, dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// ManagerDir returns the directory the store works in.
func (s *Store) ManagerDir() string { return s.managerDir }

// FS returns the filesystem the store works on.
func (s *Store) FS() FS { return s.fs }

// WriteIntent durably writes the intent for intent.Image.
func (s *Store) WriteIntent(intent *kubeletv1beta1.ImagePullIntent) error {
	if s.readOnly {
		return ErrReadOnly
	}
	data, err := EncodeIntent(intent)
	if err != nil {
		return err
	}
	return writeFileAtomic(s.fs, filepath.Join(s.intentsDir, FileName(intent.Image)), data)
}

// WriteRecord durably writes the record for record.ImageRef, replacing any
// file (even a broken one) of that name.
func (s *Store) WriteRecord(record *kubeletv1beta1.ImagePulledRecord) error {
	if s.readOnly {
		return ErrReadOnly
	}
	data, err := EncodeRecord(record)
	if err != nil {
		return err
	}
	return writeFileAtomic(s.fs, filepath.Join(s.recordsDir, FileName(record.ImageRef)), data)
}

// DeleteIntent removes the intent of image. A missing file is not an error.
// The removal is not fsynced: an intent that reappears after a power loss
// only makes the name count as pulled by the kubelet, which fails safe.
func (s *Store) DeleteIntent(image string) error {
	return s.remove(filepath.Join(s.intentsDir, FileName(image)))
}

// DeleteRecord removes the record of imageRef and fsyncs the directory, so a
// pruned record does not come back after a power loss. A missing file is not
// an error.
func (s *Store) DeleteRecord(imageRef string) error {
	if err := s.remove(filepath.Join(s.recordsDir, FileName(imageRef))); err != nil {
		return err
	}
	// fsync even when the file was already gone: an earlier call may have
	// removed it and failed to fsync. Without a directory there is nothing
	// to make durable.
	if err := syncDir(s.fs, s.recordsDir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (s *Store) remove(path string) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if err := s.fs.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", path, err)
	}
	return nil
}

// RemoveTemporaries removes leftover temporaries (".tmp-*" and "*.tmp")
// from both directories and returns the paths removed.
func (s *Store) RemoveTemporaries() ([]string, error) {
	if s.readOnly {
		return nil, ErrReadOnly
	}
	var removed []string
	var errs []error
	for _, dir := range []string{s.intentsDir, s.recordsDir} {
		names, err := s.listNames(dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, name := range names {
			if !IsTemporary(name) {
				continue
			}
			path := filepath.Join(dir, name)
			if err := s.fs.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("removing temporary %s: %w", path, err))
				continue
			}
			removed = append(removed, path)
		}
	}
	return removed, errors.Join(errs...)
}

// listNames lists a directory; a missing directory is empty.
func (s *Store) listNames(dir string) ([]string, error) {
	names, err := s.fs.ReadDirNames(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	sort.Strings(names)
	return names, nil
}

// walkChunk is how many files are read and decoded in parallel before
// their results are handed out in name order: large enough to keep every
// CPU busy, small enough that decoded objects do not pile up in memory.
const walkChunk = 256

// walkDir lists dir (relDir relative to the manager directory), reads and
// decodes every name that is meant to be read with read, on all CPUs, and
// hands the results to emit in name order, collecting the files that fail a
// check. The error is non-nil only when the directory itself cannot be
// listed.
func walkDir[T any](s *Store, dir, relDir string, read func(path, hash string) (T, os.FileMode, error), emit func(rel, hash string, mode os.FileMode, v T)) ([]FileError, error) {
	names, err := s.listNames(dir)
	if err != nil {
		return nil, err
	}
	type item struct {
		rel, hash string
		v         T
		mode      os.FileMode
		err       error
	}
	// nextChunk builds the items of the next walkChunk names to read,
	// lazily, so that only two chunks are held at a time.
	pos := 0
	nextChunk := func() []item {
		var items []item
		for ; pos < len(names) && len(items) < walkChunk; pos++ {
			name := names[pos]
			if !isRecordName(name) {
				continue
			}
			it := item{rel: filepath.Join(relDir, name)}
			if hash, ok := HashFromFileName(name); ok {
				it.hash = hash
			} else {
				it.err = ErrNameMismatch
			}
			items = append(items, it)
		}
		return items
	}
	// decode reads one chunk on every CPU and returns a wait function.
	decode := func(items []item) func() {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range min(runtime.GOMAXPROCS(0), len(items)) {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= len(items) {
						return
					}
					it := &items[i]
					if it.err == nil {
						it.v, it.mode, it.err = read(filepath.Join(dir, filepath.Base(it.rel)), it.hash)
					}
				}
			})
		}
		return wg.Wait
	}
	var bad []FileError
	// drain hands a decoded chunk to the caller in name order.
	drain := func(items []item, wait func()) {
		wait()
		for i := range items {
			it := &items[i]
			if it.err != nil {
				bad = append(bad, FileError{File: it.rel, Hash: it.hash, Mode: it.mode, Err: it.err})
			} else {
				emit(it.rel, it.hash, it.mode, it.v)
			}
			// Drop the decoded object: the caller keeps what it needs.
			var zero T
			it.v = zero
		}
	}
	// The next chunk is decoded while the caller consumes this one, so the
	// caller's own work (conversion, indexing) overlaps the reads.
	var pending []item
	var wait func()
	for items := nextChunk(); len(items) > 0; items = nextChunk() {
		next := decode(items)
		if wait != nil {
			drain(pending, wait)
		}
		pending, wait = items, next
	}
	if wait != nil {
		drain(pending, wait)
	}
	return bad, nil
}

type decodedIntent struct {
	intent  *kubeletv1beta1.ImagePullIntent
	current bool
}

type decodedRecord struct {
	record  *kubeletv1beta1.ImagePulledRecord
	current bool
}

// WalkIntents calls fn for every intent file that passes every check, in
// file name order, and returns the files that failed one. The error is
// non-nil only when the directory itself cannot be listed. Files are read
// in parallel; fn is called from the caller's goroutine.
func (s *Store) WalkIntents(fn func(IntentFile)) ([]FileError, error) {
	return walkDir(s, s.intentsDir, IntentsDirName,
		func(path, hash string) (decodedIntent, os.FileMode, error) {
			intent, current, mode, err := s.readIntent(path, hash)
			return decodedIntent{intent: intent, current: current}, mode, err
		},
		func(rel, hash string, mode os.FileMode, d decodedIntent) {
			fn(IntentFile{File: rel, Hash: hash, Intent: d.intent, Current: d.current, Mode: mode})
		})
}

func (s *Store) readIntent(path, hash string) (*kubeletv1beta1.ImagePullIntent, bool, os.FileMode, error) {
	data, mode, err := readFileLimited(s.fs, path)
	if err != nil {
		return nil, false, mode, err
	}
	intent, current, err := DecodeIntent(data)
	if err != nil {
		return nil, false, mode, err
	}
	if KeyHash(intent.Image) != hash {
		return nil, false, mode, fmt.Errorf("%w: image %q", ErrNameMismatch, intent.Image)
	}
	return intent, current, mode, nil
}

// WalkRecords calls fn for every record file that passes every check, in
// file name order, and returns the files that failed one. The error is
// non-nil only when the directory itself cannot be listed. Files are read
// in parallel; fn is called from the caller's goroutine.
func (s *Store) WalkRecords(fn func(RecordFile)) ([]FileError, error) {
	return walkDir(s, s.recordsDir, RecordsDirName,
		func(path, hash string) (decodedRecord, os.FileMode, error) {
			record, current, mode, err := s.readRecord(path, hash)
			return decodedRecord{record: record, current: current}, mode, err
		},
		func(rel, hash string, mode os.FileMode, d decodedRecord) {
			fn(RecordFile{File: rel, Hash: hash, Record: d.record, Current: d.current, Mode: mode})
		})
}

// ReadRecord reads the record of imageRef. It returns (nil, nil) when no file
// exists, and an error for a file that exists but fails a check.
func (s *Store) ReadRecord(imageRef string) (*kubeletv1beta1.ImagePulledRecord, error) {
	hash := KeyHash(imageRef)
	record, _, _, err := s.readRecord(filepath.Join(s.recordsDir, FilePrefix+hash), hash)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return record, err
}

func (s *Store) readRecord(path, hash string) (*kubeletv1beta1.ImagePulledRecord, bool, os.FileMode, error) {
	data, mode, err := readFileLimited(s.fs, path)
	if err != nil {
		return nil, false, mode, err
	}
	record, current, err := DecodeRecord(data)
	if err != nil {
		return nil, false, mode, err
	}
	if KeyHash(record.ImageRef) != hash {
		return nil, false, mode, fmt.Errorf("%w: imageRef %q", ErrNameMismatch, record.ImageRef)
	}
	return record, current, mode, nil
}

// Exists reports whether the manager directory exists.
func (s *Store) Exists() (bool, error) {
	_, err := s.fs.Lstat(s.managerDir)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// describeMode names a file type for an error message.
func describeMode(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeSymlink != 0:
		return "a symlink"
	case mode.IsRegular():
		return "a regular file"
	default:
		return "type " + mode.Type().String()
	}
}
