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

package pullmanager

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"k8s.io/klog/v2"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// Revocation removes from the records the credentials whose source the
// cluster deleted: a Secret or a service account that no longer exists
// with the recorded UID (deleted, or deleted and recreated under its name),
// or whose namespace is gone. Released kubelets keep such coordinates until
// the image is garbage-collected; a recreated Secret cannot use them (its
// UID differs), but a record that names objects long gone is a record no
// operator can reason about.
//
// Rules:
//   - only kubernetesSecrets and kubernetesServiceAccounts are revoked, by
//     coordinates (uid, namespace, name); nodePodsAccessible entries are
//     never touched, since no cluster object backs them;
//   - an entry whose last credential is revoked becomes {} and keeps its
//     repository name: the name stays "pulled by the kubelet" and can never
//     pass for preloaded under NeverVerifyPreloadedImages;
//   - lastUpdatedTime is kept: revocation proves no pull, so it must not
//     move the record's prune cut-off;
//   - a record whose lastUpdatedTime is not before the pass's cut-off is
//     left for a later pass: a pull recorded after the caller started
//     looking at the cluster may hold a credential of an object created
//     after the look, which the caller's view cannot know (this is the rule
//     that keeps a revocation racing a pull from losing the pull's
//     credentials; it is prune's rule too);
//   - every record is revoked from under its image ref's lock, reading the
//     current record and writing the result back durably (disk, then
//     memory), as pulls, write-backs and prune do.

// CredentialSources says which credential sources still exist. It must
// answer from a complete view of the cluster: a source it does not know is
// revoked. Calls come from one goroutine.
type CredentialSources interface {
	// SecretExists reports whether the Secret namespace/name exists with
	// this UID (and its namespace is not being deleted).
	SecretExists(namespace, name, uid string) bool
	// ServiceAccountExists reports the same for a service account.
	ServiceAccountExists(namespace, name, uid string) bool
}

// CredentialKind names the kind of a revoked credential. The values are
// part of kubelet-imagectl's output.
type CredentialKind string

const (
	// CredentialKindSecret is a kubernetesSecrets entry.
	CredentialKindSecret CredentialKind = "secret"
	// CredentialKindServiceAccount is a kubernetesServiceAccounts entry.
	CredentialKindServiceAccount CredentialKind = "serviceAccount"
)

// RevokedCredential is one credential removed from one record entry.
type RevokedCredential struct {
	// ImageRef is the record's image ref.
	ImageRef string
	// Repository is the credentialMapping key the credential was under.
	Repository string
	Kind       CredentialKind
	Namespace  string
	Name       string
	UID        string
}

// RevokeResult is what one revocation pass did.
type RevokeResult struct {
	// Revoked lists every credential removed (or, read-only, that would
	// be), sorted by image ref, repository, kind, namespace, name and UID.
	Revoked []RevokedCredential
	// Deferred are the image refs of records that name a source that is
	// gone but were updated at or after the cut-off; a later pass handles
	// them. Sorted.
	Deferred []string
}

// Revoker revokes the credentials of deleted sources from the records.
type Revoker interface {
	// RevokeCredentials removes, from every record last updated before
	// before, each Secret and service account that sources says no longer
	// exists, by the rules of the package documentation. Records that could
	// not be written keep their credentials and are reported in the error;
	// what was revoked is returned in any case.
	RevokeCredentials(ctx context.Context, sources CredentialSources, before time.Time) (*RevokeResult, error)
}

// RevokeCredentials implements Revoker. A read-only manager reports what it
// would revoke and changes nothing, on disk or in memory.
func (m *fileBackedManager) RevokeCredentials(ctx context.Context, sources CredentialSources, before time.Time) (*RevokeResult, error) {
	logger := klog.FromContext(ctx)
	res := &RevokeResult{}
	var errs []error
	for _, imageRef := range m.records.mem.imageRefs() {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		// Most records name nothing that is gone: find out from the
		// immutable in-memory record, without a lock or an allocation.
		record, err := m.records.mem.record(imageRef)
		if err != nil || record == nil || !record.namesRevoked(sources) {
			// A broken record grants nothing, so it holds nothing to revoke.
			continue
		}
		revoked, deferred, err := m.revokeRecord(ctx, imageRef, sources, before)
		if err != nil {
			errs = append(errs, err)
		}
		if deferred {
			res.Deferred = append(res.Deferred, imageRef)
		}
		res.Revoked = append(res.Revoked, revoked...)
	}
	slices.SortFunc(res.Revoked, compareRevoked)
	slices.Sort(res.Deferred)
	if len(res.Revoked) > 0 {
		logger.V(2).Info("Revoked the credentials of deleted Secrets and service accounts from image pulled records", "credentials", len(res.Revoked), "readOnly", m.readOnly)
	}
	if len(res.Deferred) > 0 {
		logger.V(2).Info("Image pulled records updated after the revocation cut-off are left for a later pass", "records", len(res.Deferred))
	}
	return res, errors.Join(errs...)
}

// revokeRecord revokes from the current record of imageRef under its lock.
// It reports deferred when the record was updated at or after before.
func (m *fileBackedManager) revokeRecord(ctx context.Context, imageRef string, sources CredentialSources, before time.Time) ([]RevokedCredential, bool, error) {
	unlock := m.recordLocks.lock(imageRef)
	defer unlock()
	// The record may have changed since the scan: a pull merged into it,
	// or a prune removed it. Work on what is current.
	current, err := m.records.mem.GetImagePulledRecord(imageRef)
	if err != nil || current == nil {
		return nil, false, nil
	}
	updated, revoked := withoutRevoked(current, sources)
	if len(revoked) == 0 {
		return nil, false, nil
	}
	if !current.LastUpdatedTime.Time.Before(before) {
		// Refreshed by a pull since the caller looked at the cluster.
		return nil, true, nil
	}
	if m.readOnly {
		return revoked, false, nil
	}
	if err := m.records.WriteImagePulledRecord(updated); err != nil {
		m.metrics.recordWriteErrors.Inc()
		err = m.writeFailed(ctx, err, "Failed to revoke credentials from an image pulled record; it keeps them", "imageRef", imageRef)
		return nil, false, fmt.Errorf("revoking credentials from the record of %q: %w", imageRef, err)
	}
	m.writeSucceeded(ctx)
	return revoked, false, nil
}

// namesRevoked reports whether any Secret or service account of the record
// is gone according to sources.
func (r *memRecord) namesRevoked(sources CredentialSources) bool {
	for i := range r.entries {
		e := &r.entries[i]
		if e.nodePodsAccessible {
			continue
		}
		for _, h := range e.secrets {
			if s := h.Value(); !sources.SecretExists(s.Namespace, s.Name, s.UID) {
				return true
			}
		}
		for _, h := range e.serviceAccounts {
			if sa := h.Value(); !sources.ServiceAccountExists(sa.Namespace, sa.Name, sa.UID) {
				return true
			}
		}
	}
	return false
}

// withoutRevoked returns a copy of record without the credentials whose
// sources are gone, and those credentials. Every repository key is kept,
// as {} when its last credential goes; nodePodsAccessible entries are kept
// as they are. Kept lists stay in their (sorted) order.
func withoutRevoked(record *kubeletconfig.ImagePulledRecord, sources CredentialSources) (*kubeletconfig.ImagePulledRecord, []RevokedCredential) {
	out := &kubeletconfig.ImagePulledRecord{
		LastUpdatedTime:   record.LastUpdatedTime,
		ImageRef:          record.ImageRef,
		CredentialMapping: make(map[string]kubeletconfig.ImagePullCredentials, len(record.CredentialMapping)),
	}
	var revoked []RevokedCredential
	for repo, creds := range record.CredentialMapping {
		if creds.NodePodsAccessible {
			out.CredentialMapping[repo] = creds
			continue
		}
		kept := kubeletconfig.ImagePullCredentials{}
		for _, s := range creds.KubernetesSecrets {
			if sources.SecretExists(s.Namespace, s.Name, s.UID) {
				kept.KubernetesSecrets = append(kept.KubernetesSecrets, s)
				continue
			}
			revoked = append(revoked, RevokedCredential{ImageRef: record.ImageRef, Repository: repo, Kind: CredentialKindSecret, Namespace: s.Namespace, Name: s.Name, UID: s.UID})
		}
		for _, sa := range creds.KubernetesServiceAccounts {
			if sources.ServiceAccountExists(sa.Namespace, sa.Name, sa.UID) {
				kept.KubernetesServiceAccounts = append(kept.KubernetesServiceAccounts, sa)
				continue
			}
			revoked = append(revoked, RevokedCredential{ImageRef: record.ImageRef, Repository: repo, Kind: CredentialKindServiceAccount, Namespace: sa.Namespace, Name: sa.Name, UID: sa.UID})
		}
		out.CredentialMapping[repo] = kept
	}
	return out, revoked
}

func compareRevoked(a, b RevokedCredential) int {
	return cmp.Or(
		cmp.Compare(a.ImageRef, b.ImageRef),
		cmp.Compare(a.Repository, b.Repository),
		cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.Name, b.Name),
		cmp.Compare(a.UID, b.UID),
	)
}

// RevokeCredentials implements Revoker: with the feature gate off there
// are no records.
func (noopManager) RevokeCredentials(context.Context, CredentialSources, time.Time) (*RevokeResult, error) {
	return &RevokeResult{}, nil
}

// RevokeCredentials implements Revoker: until the directory can be opened
// for writing nothing can be revoked.
func (m *failClosedManager) RevokeCredentials(ctx context.Context, sources CredentialSources, before time.Time) (*RevokeResult, error) {
	if opened := m.opened.Load(); opened != nil {
		return opened.RevokeCredentials(ctx, sources, before)
	}
	return &RevokeResult{}, m.err()
}
