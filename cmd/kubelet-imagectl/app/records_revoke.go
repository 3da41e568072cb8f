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
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/imagepullrecords"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
	"k8s.io/kubernetes/pkg/util/clientlog"
)

// The resources revoke reads, all cluster-wide and metadata only.
var (
	namespacesResource      = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	secretsResource         = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	serviceAccountsResource = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
)

const (
	// revokeListPageSize is the limit of each list request; a list is
	// complete only when every page arrived.
	revokeListPageSize = 500
	// revokeSettle coalesces the cluster changes of one burst (a namespace
	// deleted with its Secrets) into one pass.
	revokeSettle = time.Second
	// revokeRetryMin and revokeRetryMax bound the back-off of --watch
	// after a failed pass (API server unreachable, records locked).
	revokeRetryMin = time.Second
	revokeRetryMax = time.Minute
	// lockPollInterval is how often --wait-for-lock tries the lock.
	lockPollInterval = 100 * time.Millisecond
)

// recordsRevokeOutput is the JSON form of records revoke (one object per
// pass that revoked something with --watch).
type recordsRevokeOutput struct {
	Revoked []revokedOutput `json:"revoked"`
}

// revokedOutput is one credential removed from one record entry.
type revokedOutput struct {
	// File is relative to the root dir: image_manager/pulled/sha256-...
	File       string `json:"file"`
	ImageRef   string `json:"imageRef"`
	Repository string `json:"repository"`
	// Kind is "secret" or "serviceAccount".
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	UID       string `json:"uid"`
}

type recordsRevokeOptions struct {
	kubeconfig  string
	rootDir     string
	dryRun      bool
	watch       bool
	waitForLock time.Duration
	interval    time.Duration
	output      string
}

func newRecordsRevokeCommand(deps *Deps) *cobra.Command {
	o := &recordsRevokeOptions{}
	cmd := &cobra.Command{
		Use:   "revoke --kubeconfig FILE [--root-dir DIR] [--dry-run | --watch] [-o json|text]",
		Short: "Remove from the records the credentials of deleted Secrets, service accounts and namespaces",
		Long: `Remove from every pulled record each Secret and service account that no longer
exists with the recorded UID (deleted, or deleted and recreated under its name),
and everything recorded in a namespace that no longer exists or is being deleted
(a namespace, Secret or service account with a deletionTimestamp counts as
deleted). An entry whose last credential goes stays as {}: the kubelet pulled
the image under that name, so it never passes for preloaded. nodePodsAccessible
entries are not touched.

One pass lists every Namespace, Secret and ServiceAccount (metadata only) before
it touches a record; if any list fails, even half-way through its pages, nothing
is revoked (exit code 3). Records updated after the lists started are left for
the next pass. --watch keeps running (until SIGTERM or an interrupt) with shared
informers on the three resources; after a change, or every --interval, it looks
for records naming what the informers no longer have, and revokes only after a
new complete listing confirms it.

revoke writes: it takes the records lock, so it fails (exit code 3) while a
kubelet holds it, unless --wait-for-lock is given; --watch retries with
back-off. RBAC: list and watch on namespaces, secrets and serviceaccounts,
cluster-wide (only their metadata is requested).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRecordsRevoke(cmd.Context(), deps, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "The kubeconfig of the API server whose Namespaces, Secrets and ServiceAccounts are listed (required).")
	f.StringVar(&o.rootDir, "root-dir", defaultRootDir, "The kubelet root directory holding image_manager/.")
	f.BoolVar(&o.dryRun, "dry-run", false, "Report what would be revoked; take no lock and write nothing (not with --watch).")
	f.BoolVar(&o.watch, "watch", false, "Keep running and revoke as the cluster changes, until SIGTERM or an interrupt.")
	f.DurationVar(&o.waitForLock, "wait-for-lock", 0, "Wait up to this long for another writer (a kubelet) to release the records lock; 0 fails at once.")
	f.DurationVar(&o.interval, "interval", time.Minute, "With --watch: how often the records are checked without a cluster change (a pull may have recorded a Secret deleted meanwhile).")
	addOutputFlag(cmd, &o.output)
	return cmd
}

func runRecordsRevoke(ctx context.Context, deps *Deps, o *recordsRevokeOptions) error {
	if err := checkOutputFormat(o.output); err != nil {
		return err
	}
	switch {
	case o.kubeconfig == "":
		return usageErrorf("--kubeconfig: required (revoke compares the records with the API server's Namespaces, Secrets and ServiceAccounts)")
	case o.rootDir == "":
		return usageErrorf("--root-dir: must not be empty")
	case o.dryRun && o.watch:
		return usageErrorf("--dry-run and --watch are exclusive")
	case o.waitForLock < 0:
		return usageErrorf("--wait-for-lock %s: must not be negative", o.waitForLock)
	case o.interval <= 0:
		return usageErrorf("--interval %s: must be positive", o.interval)
	}
	client, err := newMetadataClient(o.kubeconfig)
	if err != nil {
		return usageErrorf("kubeconfig %s: %v", quote(o.kubeconfig), err)
	}
	if err := checkRootDirExists(o.rootDir); err != nil {
		return err
	}
	if o.watch {
		w := &revokeWatcher{deps: deps, opts: o, client: client}
		return w.run(ctx)
	}

	out := &recordsRevokeOutput{Revoked: []revokedOutput{}}
	if _, err := os.Lstat(filepath.Join(o.rootDir, imagepullrecords.ManagerDirName)); errors.Is(err, fs.ErrNotExist) {
		// Nothing was ever recorded; opening the records would create the
		// directory, and the API server has nothing to say about them.
		return writeRevokeOutput(deps.Stdout, o.output, out, o.dryRun)
	} else if err != nil {
		return environmentErrorf("root dir %s: %v", o.rootDir, err)
	}
	res, err := revokePass(ctx, client, o.rootDir, o.dryRun, o.waitForLock)
	if res != nil {
		out.Revoked = revokedOutputs(res.Revoked)
		if werr := writeRevokeOutput(deps.Stdout, o.output, out, o.dryRun); werr != nil && err == nil {
			err = werr
		}
		if len(res.Deferred) > 0 {
			fmt.Fprintf(deps.Stderr, "warning: %d record(s) updated by a pull after the cluster was listed were left as they are; run records revoke again\n", len(res.Deferred))
		}
	}
	return err
}

// newMetadataClient builds a metadata-only client from a kubeconfig file:
// lists and watches return object metadata only, so Secret data is never
// requested. It sets no client-wide timeout, which would cut every watch;
// each list request has its own.
func newMetadataClient(kubeconfig string) (metadata.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.UserAgent = "kubelet-imagectl"
	// A listing of a large cluster is many pages; the default 5 QPS would
	// make it take minutes.
	cfg.QPS, cfg.Burst = 50, 100
	return metadata.NewForConfig(cfg)
}

// revokePass lists the cluster completely, then opens the records as a
// writer (read-only for a dry run) and revokes what the listing does not
// have. The cut-off is taken before the first list request. A failed list
// revokes nothing.
func revokePass(ctx context.Context, client metadata.Interface, rootDir string, dryRun bool, waitForLock time.Duration) (*pullmanager.RevokeResult, error) {
	before := time.Now()
	view, err := listCluster(ctx, client)
	if err != nil {
		return nil, environmentErrorf("listing the cluster (nothing was revoked): %v", err)
	}
	pm, err := openRevokeManager(ctx, rootDir, dryRun, waitForLock)
	if err != nil {
		return nil, err
	}
	defer func() { _ = pm.Close() }()
	res, err := pm.RevokeCredentials(ctx, view, before)
	if err != nil {
		return res, environmentErrorf("revoking credentials in %s: %v", rootDir, err)
	}
	return res, nil
}

// openRevokeManager opens the records of rootDir: as a writer, waiting up
// to waitForLock for the lock, or read-only for a dry run.
func openRevokeManager(ctx context.Context, rootDir string, dryRun bool, waitForLock time.Duration) (pullmanager.Manager, error) {
	if !dryRun {
		if err := checkRecordsWritable(rootDir); err != nil {
			return nil, err
		}
	}
	deadline := time.Now().Add(waitForLock)
	for {
		pm, err := pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{
			RootDir:  rootDir,
			ReadOnly: dryRun,
			// revoke makes no decision and resolves no intent: start-up
			// housekeeping is given no runtime images, under which it
			// changes nothing on disk (intents of absent images stay).
			ImageLister: noRuntimeImages{},
		})
		if errors.Is(err, imagepullrecords.ErrLocked) && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return nil, environmentErrorf("root dir %s: %v", rootDir, ctx.Err())
			case <-time.After(lockPollInterval):
			}
			continue
		}
		if err != nil {
			return nil, rootDirError(rootDir, err)
		}
		if err := pm.Writable(); err != nil && !dryRun {
			_ = pm.Close()
			return nil, environmentErrorf("root dir %s: %v", rootDir, err)
		}
		return pm, nil
	}
}

// noRuntimeImages is the image lister of a process that never decides.
type noRuntimeImages struct{}

func (noRuntimeImages) ListImages(context.Context) ([]pullmanager.RuntimeImage, error) {
	return nil, nil
}

// sourceKey is a namespaced object's namespace and name.
type sourceKey struct{ namespace, name string }

// clusterView is a complete listing of the cluster's Namespaces, Secrets
// and ServiceAccounts, as revocation asks about them. A namespace that is
// not listed, or has a deletionTimestamp (no controller may ever finish
// deleting it), holds nothing that exists; a Secret or service account with
// a deletionTimestamp does not exist either.
type clusterView struct {
	liveNamespaces  map[string]bool
	secrets         map[sourceKey]types.UID
	serviceAccounts map[sourceKey]types.UID
}

var _ pullmanager.CredentialSources = &clusterView{}

func (v *clusterView) SecretExists(namespace, name, uid string) bool {
	u, ok := v.secrets[sourceKey{namespace, name}]
	return ok && string(u) == uid && v.liveNamespaces[namespace]
}

func (v *clusterView) ServiceAccountExists(namespace, name, uid string) bool {
	u, ok := v.serviceAccounts[sourceKey{namespace, name}]
	return ok && string(u) == uid && v.liveNamespaces[namespace]
}

// listCluster lists the three resources completely. Any error, on any page,
// fails the whole listing: revocation never works from a partial one.
func listCluster(ctx context.Context, client metadata.Interface) (*clusterView, error) {
	v := &clusterView{liveNamespaces: map[string]bool{}, secrets: map[sourceKey]types.UID{}, serviceAccounts: map[sourceKey]types.UID{}}
	if err := listAll(ctx, client, namespacesResource, func(m *metav1.PartialObjectMetadata) {
		if m.DeletionTimestamp == nil {
			v.liveNamespaces[m.Name] = true
		}
	}); err != nil {
		return nil, err
	}
	for _, r := range []struct {
		gvr schema.GroupVersionResource
		to  map[sourceKey]types.UID
	}{{secretsResource, v.secrets}, {serviceAccountsResource, v.serviceAccounts}} {
		if err := listAll(ctx, client, r.gvr, func(m *metav1.PartialObjectMetadata) {
			if m.DeletionTimestamp == nil {
				r.to[sourceKey{m.Namespace, m.Name}] = m.UID
			}
		}); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// listAll lists gvr cluster-wide, page by page, calling fn for each item
// (whose metadata fn must not keep). A continue token that expired (410
// Gone) is an error like any other: falling back to a full list would be
// right, but a retry of the whole pass is simpler and just as correct.
func listAll(ctx context.Context, client metadata.Interface, gvr schema.GroupVersionResource, fn func(*metav1.PartialObjectMetadata)) error {
	opts := metav1.ListOptions{Limit: revokeListPageSize}
	ctx = clientlog.WithoutBodies(ctx)
	for page := 1; ; page++ {
		reqCtx, cancel := context.WithTimeout(ctx, apiTimeout)
		list, err := client.Resource(gvr).List(reqCtx, opts)
		cancel()
		if err != nil {
			return fmt.Errorf("listing %s (page %d): %w", gvr.Resource, page, err)
		}
		for i := range list.Items {
			fn(&list.Items[i])
		}
		if list.Continue == "" {
			return nil
		}
		opts.Continue = list.Continue
	}
}

// revokedOutputs turns a pass's result into the output's entries, sorted
// by file, then repository, kind, namespace, name and UID.
func revokedOutputs(revoked []pullmanager.RevokedCredential) []revokedOutput {
	out := make([]revokedOutput, 0, len(revoked))
	for _, r := range revoked {
		out = append(out, revokedOutput{
			File:       recordFile(r.ImageRef),
			ImageRef:   r.ImageRef,
			Repository: r.Repository,
			Kind:       string(r.Kind),
			Namespace:  r.Namespace,
			Name:       r.Name,
			UID:        r.UID,
		})
	}
	slices.SortFunc(out, func(a, b revokedOutput) int {
		for _, c := range [][2]string{{a.File, b.File}, {a.Repository, b.Repository}, {a.Kind, b.Kind}, {a.Namespace, b.Namespace}, {a.Name, b.Name}, {a.UID, b.UID}} {
			if n := strings.Compare(c[0], c[1]); n != 0 {
				return n
			}
		}
		return 0
	})
	return out
}

func writeRevokeOutput(w io.Writer, format string, out *recordsRevokeOutput, dryRun bool) error {
	if format == outputJSON {
		return writeJSONLine(w, out)
	}
	if len(out.Revoked) == 0 {
		_, err := fmt.Fprintln(w, "No credentials revoked.")
		return err
	}
	tw := newTabWriter(w)
	header := "REVOKED FROM RECORD"
	if dryRun {
		header = "WOULD REVOKE FROM RECORD"
	}
	fmt.Fprintf(tw, "%s\tIMAGE REF\tREPOSITORY\tKIND\tSOURCE\tUID\n", header)
	for _, r := range out.Revoked {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s/%s\t%s\n", shortFile(r.File), shortImageRef(r.ImageRef), r.Repository, r.Kind, r.Namespace, r.Name, r.UID)
	}
	return tw.Flush()
}

// revokeWatcher is records revoke --watch.
type revokeWatcher struct {
	deps   *Deps
	opts   *recordsRevokeOptions
	client metadata.Interface

	namespaces, secrets, serviceAccounts cache.SharedIndexInformer
	// changed is poked by the informers' handlers; one pending poke is
	// enough.
	changed chan struct{}
	// outMu serialises the output of passes.
	outMu sync.Mutex
}

// compactMetadata is the informers' transform: only what revocation reads
// is kept (namespace, name, UID, deletionTimestamp) and the resource
// version the informer needs; labels, annotations (an applied Secret's
// last-applied-configuration annotation holds its data), owner references
// and managed fields are dropped as each object is decoded.
func compactMetadata(obj any) (any, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return obj, nil
	}
	return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
		Namespace:         m.Namespace,
		Name:              m.Name,
		UID:               m.UID,
		ResourceVersion:   m.ResourceVersion,
		DeletionTimestamp: m.DeletionTimestamp,
	}}, nil
}

// informerView answers from the informers' caches. It only finds records
// worth a pass: what it says is gone is confirmed by a complete listing
// before anything is revoked, since a cache lags (a Secret created a moment
// ago may be missing) and, after a relist, is being updated object by
// object.
type informerView struct{ namespaces, secrets, serviceAccounts cache.Store }

func (v informerView) exists(store cache.Store, namespace, name, uid string) bool {
	if obj, ok, _ := v.namespaces.GetByKey(namespace); !ok || deleting(obj) {
		return false
	}
	obj, ok, _ := store.GetByKey(namespace + "/" + name)
	if !ok || deleting(obj) {
		return false
	}
	m, ok := obj.(*metav1.PartialObjectMetadata)
	return ok && string(m.UID) == uid
}

func (v informerView) SecretExists(namespace, name, uid string) bool {
	return v.exists(v.secrets, namespace, name, uid)
}

func (v informerView) ServiceAccountExists(namespace, name, uid string) bool {
	return v.exists(v.serviceAccounts, namespace, name, uid)
}

func deleting(obj any) bool {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	return !ok || m.DeletionTimestamp != nil
}

// newInformers creates the three informers: metadata only, cluster-wide,
// without periodic resync (a pass runs every --interval anyway), each
// object compacted as it is decoded.
func (w *revokeWatcher) newInformers() {
	factory := metadatainformer.NewSharedInformerFactoryWithOptions(w.client, 0, metadatainformer.WithTransform(compactMetadata))
	w.namespaces = factory.ForResource(namespacesResource).Informer()
	w.secrets = factory.ForResource(secretsResource).Informer()
	w.serviceAccounts = factory.ForResource(serviceAccountsResource).Informer()
}

// run starts the informers and runs passes until ctx ends: after the
// caches first sync, after every burst of changes, every --interval, and
// with back-off after a failed or deferred pass. It returns nil when ctx
// ends (SIGTERM, interrupt).
func (w *revokeWatcher) run(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	w.newInformers()
	w.changed = make(chan struct{}, 1)
	poke := func() {
		select {
		case w.changed <- struct{}{}:
		default:
		}
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { poke() },
		UpdateFunc: func(any, any) { poke() },
		DeleteFunc: func(any) { poke() },
	}
	for _, inf := range []cache.SharedIndexInformer{w.namespaces, w.secrets, w.serviceAccounts} {
		if _, err := inf.AddEventHandler(handler); err != nil {
			return environmentErrorf("starting the informers: %v", err)
		}
	}
	// Each informer runs with ctx, so that it logs through the command's
	// logger (capped, as its lists are logged by client-go) and stops with
	// it; run returns only once they have.
	var informers sync.WaitGroup
	defer informers.Wait()
	informerCtx := clientlog.WithoutBodies(ctx)
	for _, inf := range []cache.SharedIndexInformer{w.namespaces, w.secrets, w.serviceAccounts} {
		informers.Go(func() { inf.RunWithContext(informerCtx) })
	}
	logger.V(2).Info("Watching Namespaces, Secrets and ServiceAccounts to revoke the credentials of deleted ones", "rootDir", w.opts.rootDir)
	// Until the first sync the informers retry on their own, with
	// back-off, while the API server is unreachable.
	if !cache.WaitForCacheSync(ctx.Done(), w.namespaces.HasSynced, w.secrets.HasSynced, w.serviceAccounts.HasSynced) {
		return nil
	}
	logger.V(2).Info("Informer caches synced; revoking as the cluster changes")
	poke()

	ticker := time.NewTicker(w.opts.interval)
	defer ticker.Stop()
	var retry <-chan time.Time
	backoff := revokeRetryMin
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.changed:
			// Let the rest of a burst arrive.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(revokeSettle):
			}
			select {
			case <-w.changed:
			default:
			}
		case <-ticker.C:
		case <-retry:
		}
		retry = nil
		again, err := w.pass(ctx)
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case err != nil:
			logger.Error(err, "Revocation pass failed; retrying", "retryIn", backoff)
		case again:
			logger.V(2).Info("Records were updated after the cluster was listed; another pass follows", "in", backoff)
		default:
			backoff = revokeRetryMin
			continue
		}
		retry = time.After(backoff)
		backoff = min(2*backoff, revokeRetryMax)
	}
}

// synced reports whether all three informers have synced.
func (w *revokeWatcher) synced() bool {
	return w.namespaces.HasSynced() && w.secrets.HasSynced() && w.serviceAccounts.HasSynced()
}

// pass revokes if the caches say a recorded source is gone and a complete
// listing confirms it. It reports whether a record was deferred (updated
// after the listing) so that another pass follows.
func (w *revokeWatcher) pass(ctx context.Context) (bool, error) {
	logger := klog.FromContext(ctx)
	if !w.synced() {
		// Not after the first sync, which run waits for; kept so that no
		// pass ever works from a cache that never synced.
		return true, nil
	}
	view := informerView{namespaces: w.namespaces.GetStore(), secrets: w.secrets.GetStore(), serviceAccounts: w.serviceAccounts.GetStore()}
	suspects, err := recordsNamingGone(w.opts.rootDir, view)
	if err != nil || suspects == 0 {
		return false, err
	}
	logger.V(2).Info("Records name Secrets or service accounts the informers do not have; confirming with a listing", "records", suspects)
	res, err := revokePass(ctx, w.client, w.opts.rootDir, false, 0)
	// A pass cut short (SIGTERM, a record that could not be written) has
	// still revoked what it returns: report it before the error.
	if res != nil && len(res.Revoked) > 0 {
		w.outMu.Lock()
		defer w.outMu.Unlock()
		if werr := writeRevokeOutput(w.deps.Stdout, w.opts.output, &recordsRevokeOutput{Revoked: revokedOutputs(res.Revoked)}, false); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return false, err
	}
	return len(res.Deferred) > 0, nil
}

// recordsNamingGone counts the records of rootDir (read without the lock)
// that name a Secret or service account sources does not have.
func recordsNamingGone(rootDir string, sources pullmanager.CredentialSources) (int, error) {
	managerDir := filepath.Join(rootDir, imagepullrecords.ManagerDirName)
	if _, err := os.Lstat(managerDir); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: managerDir, ReadOnly: true})
	if err != nil {
		return 0, fmt.Errorf("opening image pull records in %s: %w", rootDir, err)
	}
	n := 0
	_, err = store.WalkRecords(func(f imagepullrecords.RecordFile) {
		for _, creds := range f.Record.CredentialMapping {
			if creds.NodePodsAccessible {
				continue
			}
			gone := slices.ContainsFunc(creds.KubernetesSecrets, func(s kubeletv1beta1.ImagePullSecret) bool {
				return !sources.SecretExists(s.Namespace, s.Name, s.UID)
			}) || slices.ContainsFunc(creds.KubernetesServiceAccounts, func(sa kubeletv1beta1.ImagePullServiceAccount) bool {
				return !sources.ServiceAccountExists(sa.Namespace, sa.Name, sa.UID)
			})
			if gone {
				n++
				return
			}
		}
	})
	if err != nil {
		return 0, fmt.Errorf("listing image pulled records in %s: %w", rootDir, err)
	}
	return n, nil
}
