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
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"k8s.io/imagepullrecords"
)

// exitBrokenRecords ends migrate and downgrade when a file fails a check:
// nothing was written. It has the value of ExitNotAdmitted: "the command
// ran and found something wrong", as for ensure.
const exitBrokenRecords = ExitNotAdmitted

// recordsRewriteOutput is the JSON form of records migrate and downgrade.
type recordsRewriteOutput struct {
	// Rewritten lists the files rewritten (with --dry-run: that would be),
	// sorted by file.
	Rewritten []rewrittenOutput `json:"rewritten"`
	// Unchanged counts the files already in their canonical encoding in
	// the target version.
	Unchanged int `json:"unchanged"`
}

// rewrittenOutput is one file rewritten.
type rewrittenOutput struct {
	// File is relative to the root dir: image_manager/pulled/sha256-...
	File string `json:"file"`
	// From is the apiVersion on disk before, To the one written.
	From string `json:"from"`
	To   string `json:"to"`
	// DroppedServiceAccounts counts the service accounts removed with
	// --drop-service-accounts.
	DroppedServiceAccounts int `json:"droppedServiceAccounts,omitempty"`
}

type recordsRewriteOptions struct {
	rootDir             string
	dryRun              bool
	output              string
	to                  string
	dropServiceAccounts bool
}

func newRecordsMigrateCommand(deps *Deps) *cobra.Command {
	o := &recordsRewriteOptions{}
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Rewrite every image pull record and intent in kubelet.config.k8s.io/v1beta1 (kubelets 1.35 and later)",
		Long: `Rewrite every intent and record file under <root-dir>/image_manager in its
canonical kubelet.config.k8s.io/v1beta1 encoding, the version kubelets 1.35 and
later write. Only the encoding changes: every file decodes to the same record or
intent before and after. Files already canonical in v1beta1 are left as they are.

All or nothing: every file is read and decoded first, and a file that fails any
check (read, decode, kind, name) stops the command with exit code 1 and nothing
written. Then every new content is written to a temporary and fsynced, each
temporary is renamed over its file, and the directories are fsynced. A failure
or crash part way leaves each file either as it was or rewritten, both readable
and equal; run the command again to finish.

migrate writes: it takes the records lock, so it fails (exit code 3) while a
writer holds it. Released kubelets take no lock: stop the kubelet first.
--dry-run takes no lock and writes nothing; it lists what would change and exits
as the real run would.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRecordsRewrite(deps, o, imagepullrecords.RewriteOptions{APIVersion: imagepullrecords.APIVersionV1beta1}, false)
		},
	}
	addRewriteFlags(cmd, o)
	return cmd
}

func newRecordsDowngradeCommand(deps *Deps) *cobra.Command {
	o := &recordsRewriteOptions{}
	cmd := &cobra.Command{
		Use:   "downgrade --to v1alpha1",
		Short: "Rewrite every image pull record and intent in kubelet.config.k8s.io/v1alpha1, before a rollback to kubelet 1.33 or 1.34",
		Long: `Rewrite every intent and record file under <root-dir>/image_manager in its
canonical kubelet.config.k8s.io/v1alpha1 encoding, the only version kubelets 1.33
and 1.34 read: they cannot decode a v1beta1 file, and turn the error into a pull,
so every recorded image is pulled again and a pod that cannot pull (pull policy
Never, registry down) fails. Only the encoding changes, as for migrate, and the
command is all or nothing in the same way (exit code 1 and nothing written when a
file is broken; run it again after a failure part way).

Kubelet 1.33's v1alpha1 has no kubernetesServiceAccounts field and rejects every
record naming a service account (it then re-pulls that image). For a rollback to
1.33, --drop-service-accounts removes those lists; every credentialMapping entry
stays, so each name still counts as pulled by the kubelet, and a record only ever
grants less. Without the flag, the command warns on stderr when records name
service accounts.

Downgrade is the last step before starting the old kubelet: kubelet-imagectl's
writers (ensure without --dry-run, records prune, revoke, migrate) and kubelets
1.35 and later rewrite v1alpha1 files in v1beta1 when they start, so none of
them may run on this root dir in between. It takes the records lock (exit code 3 while a
writer holds it); --dry-run takes no lock and writes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkDowngradeTarget(o.to); err != nil {
				return err
			}
			return runRecordsRewrite(deps, o, imagepullrecords.RewriteOptions{
				APIVersion:          imagepullrecords.APIVersionV1alpha1,
				DropServiceAccounts: o.dropServiceAccounts,
			}, true)
		},
	}
	addRewriteFlags(cmd, o)
	cmd.Flags().StringVar(&o.to, "to", "", "The version to rewrite every file in: v1alpha1 (kubelet.config.k8s.io/v1alpha1). Required.")
	cmd.Flags().BoolVar(&o.dropServiceAccounts, "drop-service-accounts", false,
		"Remove the kubernetesServiceAccounts lists of records (never their entries), for a rollback to kubelet 1.33, which cannot read them.")
	return cmd
}

func addRewriteFlags(cmd *cobra.Command, o *recordsRewriteOptions) {
	cmd.Flags().StringVar(&o.rootDir, "root-dir", defaultRootDir, "The kubelet root directory holding image_manager/.")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "List the files that would be rewritten; take no lock and write nothing.")
	addOutputFlag(cmd, &o.output)
}

// checkDowngradeTarget accepts v1alpha1, in short or full form.
func checkDowngradeTarget(to string) error {
	switch to {
	case "v1alpha1", imagepullrecords.APIVersionV1alpha1:
		return nil
	case "":
		return usageErrorf("--to: required; the only version to downgrade to is v1alpha1")
	case "v1beta1", imagepullrecords.APIVersionV1beta1:
		return usageErrorf("--to %s: downgrade writes v1alpha1; use records migrate for v1beta1", quote(to))
	}
	return usageErrorf("--to %s: want v1alpha1", quote(to))
}

func runRecordsRewrite(deps *Deps, o *recordsRewriteOptions, opts imagepullrecords.RewriteOptions, downgrade bool) error {
	if err := checkOutputFormat(o.output); err != nil {
		return err
	}
	if o.rootDir == "" {
		return usageErrorf("--root-dir: must not be empty")
	}
	if err := checkRootDirExists(o.rootDir); err != nil {
		return err
	}
	out := &recordsRewriteOutput{Rewritten: []rewrittenOutput{}}
	managerDir := filepath.Join(o.rootDir, imagepullrecords.ManagerDirName)
	_, err := os.Lstat(managerDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Nothing was ever recorded; taking the lock would create the
		// directory.
		return writeRewriteOutput(deps.Stdout, o, opts.APIVersion, downgrade, out)
	case err != nil:
		return environmentErrorf("root dir %s: %v", o.rootDir, err)
	}

	if !o.dryRun {
		if err := checkRecordsWritable(o.rootDir); err != nil {
			return err
		}
		lock, err := imagepullrecords.AcquireWriterLock(imagepullrecords.OS, managerDir)
		if err != nil {
			return rewriteLockError(o.rootDir, err)
		}
		defer func() { _ = lock.Release() }()
	}
	// A dry run opens the records read-only: nothing is created, tightened
	// or written, so it is safe next to a running kubelet.
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: managerDir, ReadOnly: o.dryRun})
	if err != nil {
		return environmentErrorf("opening image pull records in %s: %v", o.rootDir, err)
	}
	plan, err := store.PlanRewrite(opts)
	var broken *imagepullrecords.BrokenFilesError
	switch {
	case errors.As(err, &broken):
		return brokenRecordsError(broken)
	case err != nil:
		return environmentErrorf("reading image pull records in %s: %v", o.rootDir, err)
	}
	if downgrade && !opts.DropServiceAccounts && len(plan.ServiceAccountFiles) > 0 {
		fmt.Fprintf(deps.Stderr, "warning: %d records name service accounts, which kubelet 1.33 cannot decode (it re-pulls those images); for a rollback to 1.33 use --drop-service-accounts: %s\n",
			len(plan.ServiceAccountFiles), strings.Join(rootRelative(plan.ServiceAccountFiles), ", "))
	}
	if !o.dryRun {
		if err := store.ApplyRewrite(plan); err != nil {
			return environmentErrorf("rewriting image pull records in %s: %v (every file is either as it was or rewritten; run the command again)", o.rootDir, err)
		}
	}
	for _, f := range plan.Files {
		out.Rewritten = append(out.Rewritten, rewrittenOutput{
			File:                   relToRoot(f.File),
			From:                   f.From,
			To:                     f.To,
			DroppedServiceAccounts: f.DroppedServiceAccounts,
		})
	}
	out.Unchanged = plan.Unchanged
	return writeRewriteOutput(deps.Stdout, o, opts.APIVersion, downgrade, out)
}

// rewriteLockError says what to do about a lock held by another writer.
func rewriteLockError(rootDir string, err error) error {
	if errors.Is(err, imagepullrecords.ErrLocked) {
		return environmentErrorf("root dir %s: %v (a running kubelet? stop it first; --dry-run works next to it)", rootDir, err)
	}
	return environmentErrorf("root dir %s: %v", rootDir, err)
}

// brokenRecordsError names every broken file on one line.
func brokenRecordsError(broken *imagepullrecords.BrokenFilesError) error {
	msgs := make([]string, 0, len(broken.Files))
	for _, f := range broken.Files {
		msgs = append(msgs, relToRoot(f.File)+": "+f.Err.Error())
	}
	return &exitError{code: exitBrokenRecords, err: fmt.Errorf(
		"%d broken files, nothing rewritten (a file that could not be read may be healthy: check the disk and its permissions and run again; one that does not decode must be repaired or removed first, and a removed record makes its image look preloaded): %s",
		len(broken.Files), strings.Join(msgs, "; "))}
}

func rootRelative(files []string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = relToRoot(f)
	}
	return out
}

func writeRewriteOutput(w io.Writer, o *recordsRewriteOptions, apiVersion string, downgrade bool, out *recordsRewriteOutput) error {
	if o.output == outputJSON {
		return writeJSONLine(w, out)
	}
	verb := "Rewrote"
	if o.dryRun {
		verb = "Would rewrite"
	}
	if len(out.Rewritten) > 0 {
		tw := newTabWriter(w)
		header := "REWRITTEN FILE"
		if o.dryRun {
			header = "WOULD REWRITE FILE"
		}
		if o.dropServiceAccounts {
			fmt.Fprintf(tw, "%s\tFROM\tTO\tDROPPED SERVICE ACCOUNTS\n", header)
		} else {
			fmt.Fprintf(tw, "%s\tFROM\tTO\n", header)
		}
		for _, r := range out.Rewritten {
			if o.dropServiceAccounts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", shortFile(r.File), r.From, r.To, r.DroppedServiceAccounts)
			} else {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", shortFile(r.File), r.From, r.To)
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	if _, err := fmt.Fprintf(w, "%s %d files in %s; %d unchanged.\n", verb, len(out.Rewritten), apiVersion, out.Unchanged); err != nil {
		return err
	}
	if downgrade && !o.dryRun {
		_, err := fmt.Fprintln(w, "Start the old kubelet next: any kubelet-imagectl writer or kubelet 1.35+ started on this root dir before it rewrites the files in v1beta1 again.")
		return err
	}
	return nil
}
