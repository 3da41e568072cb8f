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
	"fmt"
	"os"
	"path/filepath"
	"strings"

	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
)

// RewriteOptions say what PlanRewrite rewrites every file to.
type RewriteOptions struct {
	// APIVersion is the version every file is rewritten in; one of
	// WritableAPIVersions.
	APIVersion string
	// DropServiceAccounts removes the kubernetesServiceAccounts lists of
	// records, for kubelet 1.33, whose v1alpha1 type has no such field and
	// rejects any record that has one. Entries of credentialMapping are
	// never removed: an entry left without credentials still says the
	// kubelet pulled the image under that name, and grants nothing.
	DropServiceAccounts bool
}

// RewriteFile is one file a rewrite replaces.
type RewriteFile struct {
	// File is the path relative to the manager directory ("pulled/sha256-...").
	File string
	// From is the apiVersion on disk.
	From string
	// To is the apiVersion written.
	To string
	// DroppedServiceAccounts counts the service accounts removed from the
	// record (RewriteOptions.DropServiceAccounts).
	DroppedServiceAccounts int

	path string
	data []byte
}

// RewritePlan is what PlanRewrite found: the files to replace, with their
// new content, and how many files already hold it.
type RewritePlan struct {
	// APIVersion is the version the plan writes.
	APIVersion string
	// Files are the files whose content changes, in path order (records,
	// then intents).
	Files []RewriteFile
	// Unchanged counts the files that already hold their canonical
	// encoding in APIVersion.
	Unchanged int
	// ServiceAccountFiles are the record files, rewritten or unchanged,
	// whose record names service accounts once the plan is applied: kubelet
	// 1.33 cannot decode them (see RewriteOptions.DropServiceAccounts).
	ServiceAccountFiles []string
}

// ErrBrokenFiles is wrapped by the error PlanRewrite returns when a file
// fails a check.
var ErrBrokenFiles = errors.New("broken image pull record files")

// BrokenFilesError lists the files that failed a check during PlanRewrite.
// A rewrite writes nothing while any file is broken: it cannot carry a
// broken file into another version, and removing one is not a decision a
// rewrite may take (a missing record makes its image look preloaded, a
// missing intent can too).
type BrokenFilesError struct {
	// Files are the files that failed, in path order.
	Files []FileError
}

func (e *BrokenFilesError) Error() string {
	msgs := make([]string, 0, len(e.Files))
	for i := range e.Files {
		msgs = append(msgs, e.Files[i].Error())
	}
	return fmt.Sprintf("%v (%d): %s", ErrBrokenFiles, len(e.Files), strings.Join(msgs, "; "))
}

func (e *BrokenFilesError) Unwrap() error { return ErrBrokenFiles }

// RewriteError is returned by ApplyRewrite when a step fails.
type RewriteError struct {
	// Renamed counts the files already replaced when the step failed; the
	// others still hold their previous content. Both decode to the same
	// record, so running the rewrite again finishes it.
	Renamed int
	// Total is the number of files the plan replaces.
	Total int
	// Err is the failure.
	Err error
}

func (e *RewriteError) Error() string {
	return fmt.Sprintf("%d of %d files rewritten: %v", e.Renamed, e.Total, e.Err)
}

func (e *RewriteError) Unwrap() error { return e.Err }

// PlanRewrite reads and decodes every intent and record file, as WalkIntents
// and WalkRecords do, and computes each one's canonical encoding in
// opts.APIVersion. It writes nothing, so it also works on a read-only store
// (a dry run). A file counts as unchanged when its bytes already are that
// encoding; any other file, of either version, is in the plan. The error
// wraps ErrBrokenFiles (a *BrokenFilesError) when any file fails a check;
// the plan is then nil.
//
// Every new content is decoded again and must give back the record or
// intent decoded from the file (less the dropped service accounts): a
// rewrite never changes what a file says, only how it says it.
func (s *Store) PlanRewrite(opts RewriteOptions) (*RewritePlan, error) {
	if err := checkWritableVersion(opts.APIVersion); err != nil {
		return nil, err
	}
	plan := &RewritePlan{APIVersion: opts.APIVersion}
	add := func(rel string, p planned) {
		if p.serviceAccounts > 0 {
			plan.ServiceAccountFiles = append(plan.ServiceAccountFiles, rel)
		}
		if bytes.Equal(p.old, p.data) {
			plan.Unchanged++
			return
		}
		plan.Files = append(plan.Files, RewriteFile{
			File:                   rel,
			From:                   p.from,
			To:                     opts.APIVersion,
			DroppedServiceAccounts: p.dropped,
			path:                   filepath.Join(s.managerDir, rel),
			data:                   p.data,
		})
	}
	var broken []FileError
	// Records first: the order is the plan's, and so the order of renames.
	badRecords, err := walkDir(s, s.recordsDir, RecordsDirName,
		func(path, hash string) (planned, os.FileMode, error) {
			return s.planRecord(path, hash, opts)
		},
		func(rel, _ string, _ os.FileMode, p planned) { add(rel, p) })
	if err != nil {
		return nil, err
	}
	broken = append(broken, badRecords...)
	badIntents, err := walkDir(s, s.intentsDir, IntentsDirName,
		func(path, hash string) (planned, os.FileMode, error) {
			return s.planIntent(path, hash, opts.APIVersion)
		},
		func(rel, _ string, _ os.FileMode, p planned) { add(rel, p) })
	if err != nil {
		return nil, err
	}
	broken = append(broken, badIntents...)
	if len(broken) > 0 {
		return nil, &BrokenFilesError{Files: broken}
	}
	return plan, nil
}

// planned is one file's current and new content.
type planned struct {
	from            string
	old, data       []byte
	dropped         int
	serviceAccounts int
}

func versionOf(current bool) string {
	if current {
		return APIVersionV1beta1
	}
	return APIVersionV1alpha1
}

func (s *Store) planIntent(path, hash, apiVersion string) (planned, os.FileMode, error) {
	data, mode, err := readFileLimited(s.fs, path)
	if err != nil {
		return planned{}, mode, err
	}
	intent, current, err := DecodeIntent(data)
	if err != nil {
		return planned{}, mode, err
	}
	if KeyHash(intent.Image) != hash {
		return planned{}, mode, fmt.Errorf("%w: image %q", ErrNameMismatch, intent.Image)
	}
	out, err := EncodeIntentVersion(intent, apiVersion)
	if err != nil {
		return planned{}, mode, err
	}
	// Decode what would be written and compare canonical forms.
	back, _, err := DecodeIntent(out)
	if err != nil {
		return planned{}, mode, fmt.Errorf("new content does not decode: %w", err)
	}
	if back.Image != intent.Image {
		return planned{}, mode, fmt.Errorf("new content holds image %q, want %q", back.Image, intent.Image)
	}
	return planned{from: versionOf(current), old: data, data: out}, mode, nil
}

func (s *Store) planRecord(path, hash string, opts RewriteOptions) (planned, os.FileMode, error) {
	data, mode, err := readFileLimited(s.fs, path)
	if err != nil {
		return planned{}, mode, err
	}
	record, current, err := DecodeRecord(data)
	if err != nil {
		return planned{}, mode, err
	}
	if KeyHash(record.ImageRef) != hash {
		return planned{}, mode, fmt.Errorf("%w: imageRef %q", ErrNameMismatch, record.ImageRef)
	}
	p := planned{from: versionOf(current), old: data}
	if opts.DropServiceAccounts {
		p.dropped = dropServiceAccounts(record)
	}
	for _, c := range record.CredentialMapping {
		p.serviceAccounts += len(c.KubernetesServiceAccounts)
	}
	if p.data, err = EncodeRecordVersion(record, opts.APIVersion); err != nil {
		return planned{}, mode, err
	}
	// The canonical v1beta1 encoding is a complete description of a
	// decoded record (a decoded record equals the decoding of its
	// encoding), so equal encodings mean equal records.
	want, err := EncodeRecord(record)
	if err != nil {
		return planned{}, mode, err
	}
	back, _, err := DecodeRecord(p.data)
	if err != nil {
		return planned{}, mode, fmt.Errorf("new content does not decode: %w", err)
	}
	got, err := EncodeRecord(back)
	if err != nil {
		return planned{}, mode, err
	}
	if !bytes.Equal(got, want) {
		return planned{}, mode, fmt.Errorf("new content decodes to another record: %s, want %s", bytes.TrimSpace(got), bytes.TrimSpace(want))
	}
	return p, mode, nil
}

// dropServiceAccounts removes every kubernetesServiceAccounts list from
// record and returns how many service accounts it removed. Entries stay.
func dropServiceAccounts(record *kubeletv1beta1.ImagePulledRecord) int {
	n := 0
	for repo, c := range record.CredentialMapping {
		if len(c.KubernetesServiceAccounts) == 0 {
			continue
		}
		n += len(c.KubernetesServiceAccounts)
		c.KubernetesServiceAccounts = nil
		record.CredentialMapping[repo] = c
	}
	return n
}

// ApplyRewrite replaces the files of plan, all or nothing as far as a
// filesystem allows:
//
//  1. every new content is written to a temporary in its file's directory,
//     fsynced and closed; if any of these fails, every temporary is removed
//     and no file has changed;
//  2. each temporary is renamed over its file, in plan order;
//  3. each directory that changed is fsynced once.
//
// A rename replaces one file atomically, so whatever happens (an error in
// step 2, a crash or a power loss at any point), every file holds either
// its previous or its new content, each complete and readable, and both
// decode to the same record or intent. Files are independent of one
// another (one key each, nothing refers across files), so any mixture of
// previous and new files describes the same records: per-file atomicity is
// all a rewrite needs, and running it again finishes an interrupted one
// (files already rewritten are unchanged then). Leftover temporaries are
// ignored by every reader and removed by a writer's start-up.
//
// The caller holds the writer lock and has stopped any kubelet: released
// kubelets take no lock. The error is a *RewriteError.
func (s *Store) ApplyRewrite(plan *RewritePlan) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if plan == nil || len(plan.Files) == 0 {
		return nil
	}
	total := len(plan.Files)
	fail := func(renamed int, err error) error {
		return &RewriteError{Renamed: renamed, Total: total, Err: err}
	}
	temps := make([]string, 0, total)
	removeTemps := func(names []string) {
		for _, name := range names {
			// Best effort: a leftover temporary is ignored by readers and
			// removed at the next start-up.
			_ = s.fs.Remove(name)
		}
	}
	for i := range plan.Files {
		f := &plan.Files[i]
		name, err := s.writeTemporary(f.path, f.data)
		if name != "" {
			temps = append(temps, name)
		}
		if err != nil {
			removeTemps(temps)
			return fail(0, err)
		}
	}
	dirs := map[string]bool{}
	for i := range plan.Files {
		f := &plan.Files[i]
		if err := s.fs.Rename(temps[i], f.path); err != nil {
			removeTemps(temps[i:])
			// Make what was renamed durable, so that the state after a
			// power loss is the one the error reports.
			for dir := range dirs {
				_ = syncDir(s.fs, dir)
			}
			return fail(i, fmt.Errorf("renaming %s over %s: %w", temps[i], f.path, err))
		}
		dirs[filepath.Dir(f.path)] = true
	}
	for _, dir := range []string{s.recordsDir, s.intentsDir} {
		if !dirs[dir] {
			continue
		}
		if err := syncDir(s.fs, dir); err != nil {
			return fail(total, err)
		}
	}
	return nil
}

// writeTemporary writes data to a new temporary next to path, fsyncs and
// closes it, and returns its name; the name is also returned on failure
// when the temporary exists, so the caller can remove it.
func (s *Store) writeTemporary(path string, data []byte) (string, error) {
	dir := filepath.Dir(path)
	tmp, err := s.fs.CreateTemp(dir, TempPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("creating temporary file in %s: %w", dir, err)
	}
	name := tmp.Name()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return name, fmt.Errorf("writing temporary file %s for %s: %w", name, path, err)
	}
	// fsync before any rename: a renamed file must never be empty or
	// partial after a power loss.
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return name, fmt.Errorf("syncing temporary file %s for %s: %w", name, path, err)
	}
	if err := tmp.Close(); err != nil {
		return name, fmt.Errorf("closing temporary file %s for %s: %w", name, path, err)
	}
	return name, nil
}
