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
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"k8s.io/imagepullrecords"
	"k8s.io/kubernetes/pkg/kubelet/cri/remote"
	"k8s.io/kubernetes/pkg/kubelet/images"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// recordsPruneOutput is the JSON form of records prune.
type recordsPruneOutput struct {
	Removed []removedOutput `json:"removed"`
}

// removedOutput is one record removed.
type removedOutput struct {
	// File is relative to the root dir: image_manager/pulled/sha256-...
	File     string `json:"file"`
	ImageRef string `json:"imageRef"`
}

type recordsPruneOptions struct {
	rootDir  string
	endpoint string
	until    string
	output   string
}

func newRecordsPruneCommand(deps *Deps) *cobra.Command {
	o := &recordsPruneOptions{}
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Remove the records of images no longer in the runtime (the kubelet's post-GC hook)",
		Long: `Remove the pulled records of images that are no longer in the container runtime,
as the kubelet does after image garbage collection: a record is removed when its
image is not in the runtime, its lastUpdatedTime is before --until and no pull of
it is in flight. --until defaults to a time taken before the runtime's images are
listed.

prune writes: it takes the records lock, so it fails (exit code 3) while a kubelet
holds it. A root dir without image_manager/ has nothing to prune and is left as is.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRecordsPrune(cmd.Context(), deps, o)
		},
	}
	cmd.Flags().StringVar(&o.rootDir, "root-dir", defaultRootDir, "The kubelet root directory holding image_manager/.")
	cmd.Flags().StringVar(&o.endpoint, "runtime-endpoint", "unix:///run/containerd/containerd.sock", "The CRI endpoint for image calls.")
	cmd.Flags().StringVar(&o.until, "until", "", "Only remove records last updated before this time (RFC3339). Default: a time taken before listing the runtime's images.")
	addOutputFlag(cmd, &o.output)
	return cmd
}

func runRecordsPrune(ctx context.Context, deps *Deps, o *recordsPruneOptions) error {
	if err := checkOutputFormat(o.output); err != nil {
		return err
	}
	var until time.Time
	if o.until != "" {
		t, err := time.Parse(time.RFC3339, o.until)
		if err != nil {
			return usageErrorf("--until %s: want an RFC3339 time such as 2026-01-02T03:04:05Z", quote(o.until))
		}
		until = t
	}
	if o.rootDir == "" {
		return usageErrorf("--root-dir: must not be empty")
	}
	if o.endpoint == "" {
		return usageErrorf("--runtime-endpoint: must not be empty")
	}
	if err := checkRootDirExists(o.rootDir); err != nil {
		return err
	}
	out := &recordsPruneOutput{Removed: []removedOutput{}}
	_, err := os.Lstat(filepath.Join(o.rootDir, imagepullrecords.ManagerDirName))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Nothing was ever recorded; opening the records would create
		// the directory.
		return writePruneOutput(deps.Stdout, o.output, out)
	case err != nil:
		return environmentErrorf("root dir %s: %v", o.rootDir, err)
	}

	removed, err := pruneRecords(ctx, deps, o.rootDir, o.endpoint, until)
	if err != nil {
		return err
	}
	for _, ref := range removed {
		out.Removed = append(out.Removed, removedOutput{File: recordFile(ref), ImageRef: ref})
	}
	sort.Slice(out.Removed, func(i, j int) bool { return out.Removed[i].File < out.Removed[j].File })
	return writePruneOutput(deps.Stdout, o.output, out)
}

// pruneRecords opens the records as a writer and runs the image manager's
// post-GC hook once. A zero until means a time taken before listing.
func pruneRecords(ctx context.Context, deps *Deps, rootDir, endpoint string, until time.Time) ([]string, error) {
	svc, err := connectRuntime(ctx, deps, endpoint)
	if err != nil {
		return nil, err
	}
	defer func() { _ = svc.Close(ctx) }()
	if err := checkRecordsWritable(rootDir); err != nil {
		return nil, err
	}
	pm, err := pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{
		RootDir:     rootDir,
		ImageLister: remote.ImageLister{ImageService: svc},
	})
	if err != nil {
		return nil, rootDirError(rootDir, err)
	}
	defer func() { _ = pm.Close() }()
	if err := pm.Writable(); err != nil {
		return nil, environmentErrorf("root dir %s: %v", rootDir, err)
	}
	manager, err := images.NewImageManager(images.Options{
		ImageService:             svc,
		PullManager:              pm,
		EnsureSecretPulledImages: true,
	})
	if err != nil {
		return nil, environmentErrorf("starting the image manager: %v", err)
	}
	defer manager.Stop()
	removed, err := manager.PruneUnknownRecords(ctx, until)
	if err != nil {
		return nil, environmentErrorf("pruning image pull records in %s: %v", rootDir, err)
	}
	return removed, nil
}

func writePruneOutput(w io.Writer, format string, out *recordsPruneOutput) error {
	if format == outputJSON {
		return writeJSONLine(w, out)
	}
	if len(out.Removed) == 0 {
		_, err := fmt.Fprintln(w, "No records removed.")
		return err
	}
	tw := newTabWriter(w)
	fmt.Fprintln(tw, "REMOVED RECORD FILE\tIMAGE REF")
	for _, r := range out.Removed {
		fmt.Fprintf(tw, "%s\t%s\n", r.File, r.ImageRef)
	}
	return tw.Flush()
}
