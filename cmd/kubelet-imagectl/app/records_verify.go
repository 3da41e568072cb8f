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

package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/imagepullrecords"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	kubeletconfigv1beta1 "k8s.io/kubernetes/pkg/kubelet/apis/config/v1beta1"
	"k8s.io/kubernetes/pkg/kubelet/cri/remote"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
	"k8s.io/kubernetes/pkg/util/parsers"
)

// Kinds of records verify findings. They are part of the tool's output.
const (
	// findingLooseMode: a file looser than 0600 or a directory looser than
	// 0700. Fixed: the mode is tightened.
	findingLooseMode = "looseMode"
	// findingNameMismatch: the file name does not hash from the key the
	// file holds (or is not sha256- and 64 hex digits). Never fixed.
	findingNameMismatch = "nameMismatch"
	// findingDecodeError: the file does not decode strictly. Never fixed.
	findingDecodeError = "decodeError"
	// findingUnreadable: the file cannot be read (not a regular file, too
	// large, an I/O error). Never fixed.
	findingUnreadable = "unreadable"
	// findingFamiliarKeys: credentialMapping keys in familiar form. Fixed:
	// the record is rewritten with normalised keys.
	findingFamiliarKeys = "familiarKeys"
	// findingDuplicateKeys: credentialMapping keys that name one repository
	// once normalised. Fixed: the record is rewritten with them merged.
	findingDuplicateKeys = "duplicateKeys"
	// findingStaleIntent: an intent whose image the runtime has, or older
	// than --stale-intent-age. Never fixed.
	findingStaleIntent = "staleIntent"
	// findingTemporary: a leftover temporary (.tmp-* or *.tmp). Fixed:
	// removed, when it is a regular file (the only kind writers leave).
	findingTemporary = "temporary"
	// findingAbsentImage: a record of an image ID the runtime no longer
	// has. Never fixed: records prune removes it.
	findingAbsentImage = "absentImage"
)

// recordsVerifyOutput is the JSON form of records verify.
type recordsVerifyOutput struct {
	Findings []verifyFinding `json:"findings"`
}

// verifyFinding is one problem with one file.
type verifyFinding struct {
	// File is relative to the root dir (image_manager/pulled/sha256-...).
	File    string `json:"file"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
	// Fixed is true when --fix repaired it (the finding is gone after the
	// repair).
	Fixed bool `json:"fixed"`

	// repair, when set, is what --fix does about it; the finding alone
	// says why it is left as it is otherwise.
	repair func(*imagepullrecords.Store) error
	// fixedMessage is appended to Message when the repair worked.
	fixedMessage string
}

type recordsVerifyOptions struct {
	rootDir         string
	endpoint        string
	fix             bool
	staleIntentAge  time.Duration
	output          string
	endpointChanged bool
}

// defaultStaleIntentAge: a pull takes minutes at most, so an intent a day
// old belongs to a pull that never ended.
const defaultStaleIntentAge = 24 * time.Hour

func newRecordsVerifyCommand(deps *Deps) *cobra.Command {
	o := &recordsVerifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify [--root-dir DIR] [--runtime-endpoint URL] [--fix] [-o json|text]",
		Short: "Check every record and intent file as the kubelet reads it; --fix repairs what is safe",
		Long: `Read every file under <root-dir>/image_manager as the kubelet does (strictly, names
checked against content) and report each problem on one line naming the file:
loose modes, names that do not match the content, files that do not decode or
cannot be read, credentialMapping keys in familiar form or colliding once
normalised, stale intents, leftover temporaries and, with --runtime-endpoint,
records of image IDs the runtime no longer has.

Without --fix the command only reads and is safe next to a running kubelet.
--fix takes the writer lock (exit code 3 while a kubelet holds it) and repairs
only what cannot make an image usable by a pod that could not use it before:
it tightens modes, removes leftover temporaries (regular files only) and
rewrites records whose keys need normalising (merged by the merge rules, in the
file's own version). It never removes a broken record (it grants nothing and
fails safe), a broken or stale intent (removing one could make a name look
preloaded), a record of an absent image (records prune does that), or anything
named like a temporary that is not a regular file (a symlink, FIFO or
directory no writer left).

Exit codes: 0 no findings (with --fix: every finding fixed), 1 findings, 2 bad
flags, 3 environment (root dir missing or unreadable, runtime unreachable,
lock held).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.endpointChanged = cmd.Flags().Changed("runtime-endpoint")
			return runRecordsVerify(cmd.Context(), deps, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.rootDir, "root-dir", defaultRootDir, "The kubelet root directory holding image_manager/.")
	f.StringVar(&o.endpoint, "runtime-endpoint", "", "The CRI endpoint; when given, records of images the runtime no longer has and intents whose image it has are reported.")
	f.BoolVar(&o.fix, "fix", false, "Take the writer lock and repair what is safe: modes, temporaries, record keys.")
	f.DurationVar(&o.staleIntentAge, "stale-intent-age", defaultStaleIntentAge, "Report intents last written longer ago than this; 0 disables the check.")
	addOutputFlag(cmd, &o.output)
	return cmd
}

func runRecordsVerify(ctx context.Context, deps *Deps, o *recordsVerifyOptions) error {
	if err := checkOutputFormat(o.output); err != nil {
		return err
	}
	if o.rootDir == "" {
		return usageErrorf("--root-dir: must not be empty")
	}
	if o.endpointChanged && o.endpoint == "" {
		return usageErrorf("--runtime-endpoint: must not be empty")
	}
	if o.staleIntentAge < 0 {
		return usageErrorf("--stale-intent-age %s: must not be negative", o.staleIntentAge)
	}
	if err := checkRootDirExists(o.rootDir); err != nil {
		return err
	}
	managerDir := filepath.Join(o.rootDir, imagepullrecords.ManagerDirName)
	out := &recordsVerifyOutput{Findings: []verifyFinding{}}
	if _, err := os.Lstat(managerDir); errors.Is(err, fs.ErrNotExist) {
		// Nothing was ever recorded; --fix does not create the directory.
		return writeVerifyOutput(deps.Stdout, o.output, out)
	} else if err != nil {
		return environmentErrorf("root dir %s: %v", o.rootDir, err)
	}

	v := &verifier{managerDir: managerDir, now: deps.Now(), staleIntentAge: o.staleIntentAge}
	if o.endpoint != "" {
		svc, err := connectRuntime(ctx, deps, o.endpoint)
		if err != nil {
			return err
		}
		defer func() { _ = svc.Close(ctx) }()
		images, err := remote.ImageLister{ImageService: svc}.ListImages(ctx)
		if err != nil {
			return environmentErrorf("container runtime at %s: %v", o.endpoint, err)
		}
		v.runtime = images
	}

	if !o.fix {
		findings, err := v.scan()
		if err != nil {
			return err
		}
		out.Findings = findings
		if err := writeVerifyOutput(deps.Stdout, o.output, out); err != nil {
			return err
		}
		if len(findings) > 0 {
			return errNotAdmitted
		}
		return nil
	}

	if err := checkRecordsWritable(o.rootDir); err != nil {
		return err
	}
	lock, err := imagepullrecords.AcquireWriterLock(imagepullrecords.OS, managerDir)
	if errors.Is(err, imagepullrecords.ErrLocked) {
		return environmentErrorf("root dir %s: %v (a running kubelet? run verify without --fix next to it)", o.rootDir, err)
	} else if err != nil {
		return environmentErrorf("root dir %s: %v", o.rootDir, err)
	}
	defer func() { _ = lock.Release() }()
	findings, err := v.fix()
	if err != nil {
		return err
	}
	out.Findings = findings
	if err := writeVerifyOutput(deps.Stdout, o.output, out); err != nil {
		return err
	}
	for _, f := range findings {
		if !f.Fixed {
			return errNotAdmitted
		}
	}
	return nil
}

// verifier checks one manager directory.
type verifier struct {
	managerDir     string
	now            time.Time
	staleIntentAge time.Duration
	// runtime holds the runtime's images when --runtime-endpoint is given.
	runtime []pullmanager.RuntimeImage
}

// fix scans, repairs what is safe while the caller holds the lock, scans
// again and marks fixed the findings that are gone.
func (v *verifier) fix() ([]verifyFinding, error) {
	before, err := v.scan()
	if err != nil {
		return nil, err
	}
	// Opening for writing tightens the directories' modes.
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: v.managerDir})
	if err != nil {
		return nil, environmentErrorf("opening image pull records in %s: %v", v.managerDir, err)
	}
	var errs []error
	for _, f := range before {
		if f.repair != nil {
			if err := f.repair(store); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", f.File, err))
			}
		}
	}
	after, err := v.scan()
	if err != nil {
		return nil, err
	}
	left := map[[2]string]bool{}
	for _, f := range after {
		left[[2]string{f.File, f.Kind}] = true
	}
	seen := map[[2]string]bool{}
	out := make([]verifyFinding, 0, len(before))
	for _, f := range before {
		key := [2]string{f.File, f.Kind}
		seen[key] = true
		if f.repair != nil && !left[key] {
			f.Fixed = true
			f.Message += "; fixed: " + f.fixedMessage
		}
		out = append(out, f)
	}
	// Anything the repair itself left behind is reported too.
	for _, f := range after {
		if !seen[[2]string{f.File, f.Kind}] {
			out = append(out, f)
		}
	}
	sortFindings(out)
	if err := errors.Join(errs...); err != nil {
		return nil, environmentErrorf("repairing image pull records in %s: %v", v.managerDir, err)
	}
	return out, nil
}

func sortFindings(findings []verifyFinding) {
	sort.SliceStable(findings, func(i, j int) bool {
		if findings[i].File != findings[j].File {
			return findings[i].File < findings[j].File
		}
		return findings[i].Kind < findings[j].Kind
	})
}

// scan reads every file as the manager does and returns the findings,
// sorted by file then kind.
func (v *verifier) scan() ([]verifyFinding, error) {
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: v.managerDir, ReadOnly: true})
	if err != nil {
		return nil, environmentErrorf("opening image pull records in %s: %v", v.managerDir, err)
	}
	var out []verifyFinding
	out = append(out, v.checkDirectories()...)
	temporaries, err := v.checkTemporaries()
	if err != nil {
		return nil, err
	}
	out = append(out, temporaries...)

	var intents []imagepullrecords.IntentFile
	badIntents, err := store.WalkIntents(func(f imagepullrecords.IntentFile) { intents = append(intents, f) })
	if err != nil {
		return nil, environmentErrorf("listing image pull intents in %s: %v", v.managerDir, err)
	}
	var records []imagepullrecords.RecordFile
	badRecords, err := store.WalkRecords(func(f imagepullrecords.RecordFile) { records = append(records, f) })
	if err != nil {
		return nil, environmentErrorf("listing image pulled records in %s: %v", v.managerDir, err)
	}
	for _, b := range badIntents {
		out = append(out, brokenFinding(b, false)...)
	}
	for _, b := range badRecords {
		out = append(out, brokenFinding(b, true)...)
	}
	out = append(out, v.checkIntents(intents)...)
	for _, r := range records {
		out = append(out, v.checkRecord(r)...)
	}
	sortFindings(out)
	return out, nil
}

// looseFinding reports a mode looser than want, and tightens it on --fix.
func looseFinding(file string, mode, want os.FileMode, repair func(*imagepullrecords.Store) error) []verifyFinding {
	if mode.Perm()&^want == 0 {
		return nil
	}
	what := "mode"
	if mode.IsDir() {
		what = "directory mode"
	}
	return []verifyFinding{{
		File: file, Kind: findingLooseMode,
		Message:      fmt.Sprintf("%s %04o is looser than %04o", what, mode.Perm(), want),
		repair:       repair,
		fixedMessage: fmt.Sprintf("mode set to %04o", want),
	}}
}

// tightenFile is the repair of a file's loose mode.
func tightenFile(managerRel string) func(*imagepullrecords.Store) error {
	return func(s *imagepullrecords.Store) error { return s.TightenFileMode(managerRel) }
}

// checkDirectories checks the modes of the directories and the lock file.
// Opening the store for writing tightens the directories.
func (v *verifier) checkDirectories() []verifyFinding {
	var out []verifyFinding
	noop := func(*imagepullrecords.Store) error { return nil }
	for _, rel := range []string{"", imagepullrecords.IntentsDirName, imagepullrecords.RecordsDirName} {
		info, err := os.Lstat(filepath.Join(v.managerDir, rel))
		if err != nil || !info.IsDir() {
			// A missing directory is empty; anything else at that name is
			// reported by the walk.
			continue
		}
		out = append(out, looseFinding(relToRoot(rel), info.Mode(), imagepullrecords.DirMode, noop)...)
	}
	switch info, err := os.Lstat(filepath.Join(v.managerDir, imagepullrecords.LockFileName)); {
	case err != nil:
		// A missing lock is created by the next writer.
	case info.Mode().IsRegular():
		out = append(out, looseFinding(relToRoot(imagepullrecords.LockFileName), info.Mode(), imagepullrecords.FileMode, tightenFile(imagepullrecords.LockFileName))...)
	default:
		// Writers open the lock without following a symlink, so every
		// one of them, the kubelet included, fails to start over it.
		out = append(out, verifyFinding{
			File: relToRoot(imagepullrecords.LockFileName), Kind: findingUnreadable,
			Message: fmt.Sprintf("the writer lock is not a regular file (%s): no writer can take it, so the kubelet cannot start; not removed", info.Mode().Type()),
		})
	}
	return out
}

// checkTemporaries reports the leftover temporaries of both directories.
func (v *verifier) checkTemporaries() ([]verifyFinding, error) {
	var out []verifyFinding
	for _, dir := range []string{imagepullrecords.IntentsDirName, imagepullrecords.RecordsDirName} {
		entries, err := os.ReadDir(filepath.Join(v.managerDir, dir))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, environmentErrorf("listing %s: %v", filepath.Join(v.managerDir, dir), err)
		}
		for _, e := range entries {
			if !imagepullrecords.IsTemporary(e.Name()) {
				continue
			}
			managerRel := filepath.Join(dir, e.Name())
			if !e.Type().IsRegular() {
				// Writers only ever leave regular temporaries: a symlink,
				// FIFO, device or directory under that name was put there by
				// something else, and removing it is not verify's decision.
				out = append(out, verifyFinding{
					File: relToRoot(managerRel), Kind: findingTemporary,
					Message: fmt.Sprintf("named like a temporary but not a regular file (%s): readers ignore it; no writer leaves one, so --fix does not remove it", e.Type()),
				})
				continue
			}
			out = append(out, verifyFinding{
				File: relToRoot(managerRel), Kind: findingTemporary,
				Message:      "leftover temporary file: readers ignore it and a writer removes it at start-up",
				repair:       removeTemporary(managerRel),
				fixedMessage: "removed",
			})
		}
	}
	return out, nil
}

// removeTemporary is the repair of one regular leftover temporary: only
// that file goes, and only while it still is a regular file.
func removeTemporary(managerRel string) func(*imagepullrecords.Store) error {
	return func(s *imagepullrecords.Store) error {
		path := filepath.Join(s.ManagerDir(), managerRel)
		info, err := s.FS().Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			// Replaced since the scan: the scan after the repairs reports it.
			return nil
		}
		if err := s.FS().Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing temporary %s: %w", path, err)
		}
		return nil
	}
}

// brokenFinding reports a file that failed a check, and its mode. A broken
// file is never removed: a record poisons its image ref (every decision
// that needs it requires a pull), an intent counts as an intent for every
// image string hashing to its name; taken away, either could make a name
// look preloaded.
func brokenFinding(b imagepullrecords.FileError, record bool) []verifyFinding {
	file := relToRoot(b.File)
	kind := findingUnreadable
	switch {
	case errors.Is(b.Err, imagepullrecords.ErrNameMismatch):
		kind = findingNameMismatch
	case errors.Is(b.Err, imagepullrecords.ErrDecode):
		kind = findingDecodeError
	}
	consequence := "it counts as an intent for any image string its name hashes from; not removed, as that could make a name look preloaded"
	if record {
		consequence = "it grants nothing: decisions that need the record of an image ref its name hashes from require a pull until a successful pull rewrites it; not removed, as a broken record fails safe and an absent one could make the image look preloaded"
	}
	if b.Hash == "" {
		consequence = "its name is not sha256- and 64 lowercase hex digits, so it can match no key; not removed"
	}
	out := []verifyFinding{{File: file, Kind: kind, Message: oneLine(b.Err.Error()) + "; " + consequence}}
	if b.Mode.IsRegular() {
		out = append(out, looseFinding(file, b.Mode, imagepullrecords.FileMode, tightenFile(b.File))...)
	}
	return out
}

// checkIntents reports loose modes and stale intents.
func (v *verifier) checkIntents(intents []imagepullrecords.IntentFile) []verifyFinding {
	var out []verifyFinding
	var resolved map[string]string
	if v.runtime != nil {
		images := make([]string, 0, len(intents))
		for _, f := range intents {
			images = append(images, f.Intent.Image)
		}
		resolved = pullmanager.IntentsResolvedAtStartup(images, v.runtime)
	}
	for _, f := range intents {
		file := relToRoot(f.File)
		out = append(out, looseFinding(file, f.Mode, imagepullrecords.FileMode, tightenFile(f.File))...)
		kept := "kept: the name counts as pulled by the kubelet while it exists, and removing it could make the name look preloaded"
		if id, ok := resolved[f.Intent.Image]; ok {
			out = append(out, verifyFinding{File: file, Kind: findingStaleIntent, Message: fmt.Sprintf(
				"intent for %s, which the runtime has (image ID %s): start-up housekeeping records an empty entry for its repository in that image's record and removes the intent; %s",
				quote(f.Intent.Image), id, kept)})
			continue
		}
		if v.staleIntentAge == 0 {
			continue
		}
		info, err := os.Lstat(filepath.Join(v.managerDir, f.File))
		if err != nil {
			continue
		}
		if age := v.now.Sub(info.ModTime()); age > v.staleIntentAge {
			out = append(out, verifyFinding{File: file, Kind: findingStaleIntent, Message: fmt.Sprintf(
				"intent for %s written %s ago (%s), older than %s: a pull that never ended; %s",
				quote(f.Intent.Image), age.Truncate(time.Second), info.ModTime().UTC().Format(time.RFC3339), v.staleIntentAge, kept)})
		}
	}
	return out
}

// checkRecord reports a record's loose mode, keys to normalise and, with
// the runtime's images, an image ID the runtime no longer has.
func (v *verifier) checkRecord(f imagepullrecords.RecordFile) []verifyFinding {
	file := relToRoot(f.File)
	out := looseFinding(file, f.Mode, imagepullrecords.FileMode, tightenFile(f.File))
	if finding, ok := keysFinding(f); ok {
		out = append(out, finding)
	}
	if v.runtime != nil && !slices.ContainsFunc(v.runtime, func(img pullmanager.RuntimeImage) bool { return img.ID == f.Record.ImageRef }) {
		out = append(out, verifyFinding{File: file, Kind: findingAbsentImage, Message: fmt.Sprintf(
			"record of image ID %s, which the runtime no longer has; records prune removes it (verify does not)", f.Record.ImageRef)})
	}
	return out
}

// keysFinding reports credentialMapping keys that loading normalises:
// familiar ones, and those that collide once normalised (merged by the
// merge rules). The repair writes what loading would hold, in the file's
// own version.
func keysFinding(f imagepullrecords.RecordFile) (verifyFinding, bool) {
	internal := &kubeletconfig.ImagePulledRecord{}
	if err := kubeletconfigv1beta1.Convert_v1beta1_ImagePulledRecord_To_config_ImagePulledRecord(f.Record, internal); err != nil {
		return verifyFinding{}, false
	}
	normalized, changed := pullmanager.NormalizeRecordKeys(internal)
	if !changed {
		return verifyFinding{}, false
	}
	byRepo := map[string][]string{}
	for key := range f.Record.CredentialMapping {
		if repo, err := parsers.RepositoryName(key); err == nil {
			byRepo[repo] = append(byRepo[repo], key)
		}
	}
	var collisions, familiar []string
	for _, repo := range slices.Sorted(maps.Keys(byRepo)) {
		keys := byRepo[repo]
		slices.Sort(keys)
		switch {
		case len(keys) > 1:
			collisions = append(collisions, fmt.Sprintf("%s name %s", strings.Join(keys, " and "), repo))
		case keys[0] != repo:
			familiar = append(familiar, keys[0]+" -> "+repo)
		}
	}
	finding := verifyFinding{File: relToRoot(f.File)}
	if len(collisions) > 0 {
		finding.Kind = findingDuplicateKeys
		finding.Message = "credentialMapping keys " + strings.Join(collisions, "; ") + ": loading merges them by the merge rules"
	} else {
		finding.Kind = findingFamiliarKeys
		finding.Message = "credentialMapping keys in familiar form (" + strings.Join(familiar, ", ") + "): loading normalises them"
	}
	version := imagepullrecords.APIVersionV1alpha1
	if f.Current {
		version = imagepullrecords.APIVersionV1beta1
	}
	finding.fixedMessage = "record rewritten with normalised, merged keys in " + version
	finding.repair = func(s *imagepullrecords.Store) error {
		out := &kubeletv1beta1.ImagePulledRecord{}
		if err := kubeletconfigv1beta1.Convert_config_ImagePulledRecord_To_v1beta1_ImagePulledRecord(normalized, out); err != nil {
			return err
		}
		return s.WriteRecordVersion(out, version)
	}
	return finding, true
}

func writeVerifyOutput(w io.Writer, format string, out *recordsVerifyOutput) error {
	var err error
	if format == outputJSON {
		if out.Findings == nil {
			// [] rather than null: the same type whatever was found.
			out.Findings = []verifyFinding{}
		}
		err = writeJSONLine(w, out)
	} else if len(out.Findings) == 0 {
		_, err = fmt.Fprintln(w, "No findings.")
	} else {
		for _, f := range out.Findings {
			if _, err = fmt.Fprintf(w, "%s: %s: %s\n", f.File, f.Kind, oneLine(f.Message)); err != nil {
				break
			}
		}
	}
	if err != nil {
		return environmentErrorf("writing output: %v", err)
	}
	return nil
}
