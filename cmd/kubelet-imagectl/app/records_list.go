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
	"encoding/json"
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
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/imagepullrecords"
)

// recordsListOutput is the JSON form of records list.
type recordsListOutput struct {
	Intents []intentOutput    `json:"intents"`
	Pulled  []pulledOutput    `json:"pulled"`
	Errors  []fileErrorOutput `json:"errors"`
}

// intentOutput is one intent file that passed every check.
type intentOutput struct {
	// File is relative to the root dir: image_manager/pulling/sha256-...
	File  string `json:"file"`
	Image string `json:"image"`
}

// pulledOutput is one record file that passed every check.
type pulledOutput struct {
	// File is relative to the root dir: image_manager/pulled/sha256-...
	File string `json:"file"`
	// Record is the record in its canonical v1beta1 encoding, whatever the
	// version on disk.
	Record json.RawMessage `json:"record"`

	record *kubeletv1beta1.ImagePulledRecord
}

// fileErrorOutput is a file that failed a check: read, decode, kind or name.
type fileErrorOutput struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

type recordsListOptions struct {
	rootDir string
	output  string
}

func newRecordsListCommand(deps *Deps) *cobra.Command {
	o := &recordsListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the image pull intents and records on disk (read-only)",
		Long: `List the image pull intents and pulled records under <root-dir>/image_manager.

The command only reads: it takes no lock, never migrates older files and never
removes anything, so it is safe next to a running kubelet. A file that fails
any check (read, decode, kind, name) is listed only under errors; the command
still exits 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutputFormat(o.output); err != nil {
				return err
			}
			out, err := listRecords(o.rootDir)
			if err != nil {
				return err
			}
			if o.output == outputJSON {
				return writeJSONLine(deps.Stdout, out)
			}
			return writeRecordsListText(deps.Stdout, out)
		},
	}
	cmd.Flags().StringVar(&o.rootDir, "root-dir", defaultRootDir, "The kubelet root directory holding image_manager/.")
	addOutputFlag(cmd, &o.output)
	return cmd
}

// listRecords reads the records of rootDir without writing anything. A
// root dir that does not exist, or a directory that cannot be listed, is an
// environment error; a root dir without image_manager/ lists nothing.
func listRecords(rootDir string) (*recordsListOutput, error) {
	if err := checkRootDirExists(rootDir); err != nil {
		return nil, err
	}
	store, err := imagepullrecords.Open(imagepullrecords.Options{
		ManagerDir: filepath.Join(rootDir, imagepullrecords.ManagerDirName),
		ReadOnly:   true,
	})
	if err != nil {
		return nil, environmentErrorf("opening image pull records in %s: %v", rootDir, err)
	}
	out := &recordsListOutput{Intents: []intentOutput{}, Pulled: []pulledOutput{}, Errors: []fileErrorOutput{}}
	badIntents, err := store.WalkIntents(func(f imagepullrecords.IntentFile) {
		out.Intents = append(out.Intents, intentOutput{File: relToRoot(f.File), Image: f.Intent.Image})
	})
	if err != nil {
		return nil, environmentErrorf("listing image pull intents in %s: %v", rootDir, err)
	}
	var encodeErrs []fileErrorOutput
	badRecords, err := store.WalkRecords(func(f imagepullrecords.RecordFile) {
		data, err := imagepullrecords.EncodeRecord(f.Record)
		if err != nil {
			// A record that decoded but cannot be encoded is not shown
			// as a record: it failed a check.
			encodeErrs = append(encodeErrs, fileErrorOutput{File: relToRoot(f.File), Error: err.Error()})
			return
		}
		out.Pulled = append(out.Pulled, pulledOutput{
			File:   relToRoot(f.File),
			Record: json.RawMessage(strings.TrimSuffix(string(data), "\n")),
			record: f.Record,
		})
	})
	if err != nil {
		return nil, environmentErrorf("listing image pulled records in %s: %v", rootDir, err)
	}
	for _, bad := range slices.Concat(badIntents, badRecords) {
		out.Errors = append(out.Errors, fileErrorOutput{File: relToRoot(bad.File), Error: bad.Err.Error()})
	}
	out.Errors = append(out.Errors, encodeErrs...)
	sort.Slice(out.Intents, func(i, j int) bool { return out.Intents[i].File < out.Intents[j].File })
	sort.Slice(out.Pulled, func(i, j int) bool { return out.Pulled[i].File < out.Pulled[j].File })
	sort.Slice(out.Errors, func(i, j int) bool { return out.Errors[i].File < out.Errors[j].File })
	return out, nil
}

// checkRootDirExists refuses a root dir that is missing or not a directory,
// so that a mistyped --root-dir is not reported as "no records".
func checkRootDirExists(rootDir string) error {
	info, err := os.Stat(rootDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return environmentErrorf("root dir %s does not exist", rootDir)
	case err != nil:
		return environmentErrorf("root dir %s: %v", rootDir, err)
	case !info.IsDir():
		return environmentErrorf("root dir %s is not a directory", rootDir)
	}
	return nil
}

// relToRoot turns a path relative to the manager directory into one
// relative to the root dir, the form every output uses.
func relToRoot(managerRel string) string {
	return filepath.ToSlash(filepath.Join(imagepullrecords.ManagerDirName, managerRel))
}

// recordFile is the root-relative file name of imageRef's record.
func recordFile(imageRef string) string {
	return relToRoot(filepath.Join(imagepullrecords.RecordsDirName, imagepullrecords.FileName(imageRef)))
}

// shortFile abbreviates the hash in a root-relative record file name for
// tables: image_manager/pulled/sha256-0123456789ab.
func shortFile(file string) string {
	dir, name := filepath.Split(file)
	if hash, ok := strings.CutPrefix(name, imagepullrecords.FilePrefix); ok && len(hash) > 12 {
		name = imagepullrecords.FilePrefix + hash[:12]
	}
	return dir + name
}

// shortImageRef abbreviates a digest-like image ref for tables, as docker
// shows image IDs.
func shortImageRef(ref string) string {
	algo, hex, ok := strings.Cut(ref, ":")
	if ok && algo == "sha256" && len(hex) > 12 {
		return algo + ":" + hex[:12]
	}
	return ref
}

// shortHash abbreviates a UID or credential hash for tables.
func shortHash(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

// describeCredentials summarises one credentialMapping entry for tables.
// It shows coordinates and abbreviated hashes only: records hold no
// credentials, and the hash is not one either.
func describeCredentials(c kubeletv1beta1.ImagePullCredentials) string {
	if c.NodePodsAccessible {
		return "any pod on the node (nodePodsAccessible)"
	}
	var parts []string
	for _, s := range c.KubernetesSecrets {
		parts = append(parts, fmt.Sprintf("secret %s/%s uid=%s hash=%s", s.Namespace, s.Name, shortHash(s.UID), shortHash(s.CredentialHash)))
	}
	for _, sa := range c.KubernetesServiceAccounts {
		parts = append(parts, fmt.Sprintf("serviceaccount %s/%s uid=%s", sa.Namespace, sa.Name, shortHash(sa.UID)))
	}
	if len(parts) == 0 {
		return "none (pulled by the kubelet; grants nothing)"
	}
	return strings.Join(parts, ", ")
}

// writeRecordsListText writes the kubectl-style tables of records list.
// File names and hashes are abbreviated; -o json has them in full.
func writeRecordsListText(w io.Writer, out *recordsListOutput) error {
	if len(out.Intents) == 0 {
		fmt.Fprintln(w, "No intents.")
	} else {
		tw := newTabWriter(w)
		fmt.Fprintln(tw, "INTENT FILE\tIMAGE")
		for _, in := range out.Intents {
			fmt.Fprintf(tw, "%s\t%s\n", shortFile(in.File), in.Image)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	fmt.Fprintln(w)
	if len(out.Pulled) == 0 {
		fmt.Fprintln(w, "No records.")
	} else {
		tw := newTabWriter(w)
		fmt.Fprintln(tw, "RECORD FILE\tIMAGE REF\tLAST UPDATED\tREPOSITORY\tCREDENTIALS")
		for _, p := range out.Pulled {
			file, ref, updated := shortFile(p.File), shortImageRef(p.record.ImageRef), p.record.LastUpdatedTime.UTC().Format(time.RFC3339)
			if len(p.record.CredentialMapping) == 0 {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", file, ref, updated, "*", "none (interrupted pull; counts as pulled under every name)")
				continue
			}
			for _, repo := range slices.Sorted(maps.Keys(p.record.CredentialMapping)) {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", file, ref, updated, repo, describeCredentials(p.record.CredentialMapping[repo]))
				// Further names of the record only show their own columns.
				file, ref, updated = "", "", ""
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if len(out.Errors) > 0 {
		fmt.Fprintln(w)
		tw := newTabWriter(w)
		fmt.Fprintln(tw, "BROKEN FILE\tERROR")
		for _, e := range out.Errors {
			fmt.Fprintf(tw, "%s\t%s\n", shortFile(e.File), oneLine(e.Error))
		}
		return tw.Flush()
	}
	return nil
}

// newTabWriter returns a writer aligning columns as kubectl does.
func newTabWriter(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
}
