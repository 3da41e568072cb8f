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

package harness

import (
	"context"
	"fmt"
	"time"

	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// Revocation in the workload: the cluster deletes the source of a
// credential (a Secret, all generations of it, or a service account by
// UID) or a whole namespace with every source in it, then the workload
// revokes it with RevokeCredentials. The oracle
// logs the deletion before the first write and the acknowledgement after
// the call returned, so a kill in between leaves either record version,
// and both are accepted:
//   - from the deletion on, acknowledged pulls with the deleted source no
//     longer have to grant (their credential may be revoked at any time);
//   - from the acknowledgement on, no record may hold the source's
//     coordinates, and no decision may grant through them, until a pull
//     (or a decision's write-back) with that source brings them back (the
//     world reuses its UIDs: a deleted source can come back as it was).
// Names keep counting as pulled by the kubelet through all of it: the
// restart check's "never passes for preloaded" catches an entry a
// revocation dropped instead of leaving it {}.

// The oracle events of revocation.
const (
	// EventDeleted: the cluster deleted the source of Cred (logged before
	// the revocation starts writing).
	EventDeleted EventKind = "deleted"
	// EventRevoked: RevokeCredentials returned nil for the deletion of
	// Cred's source.
	EventRevoked EventKind = "revoked"
)

// revocations is the part of a View that revocation changes.
type revocations struct {
	// secrets and serviceAccounts are revoked sources not brought back
	// since.
	secrets         map[coords]bool
	serviceAccounts map[kubeletconfig.ImagePullServiceAccount]bool
}

// sourceOf names the source of a credential: Secret coordinates (every
// generation shares them) or a service account; ok is false for anonymous.
func (w *World) sourceOf(c Cred) (secret coords, sa kubeletconfig.ImagePullServiceAccount, isSA, ok bool) {
	switch {
	case c.SA > 0:
		return coords{}, w.PodServiceAccount(c), true, true
	case c.Secret >= 0:
		return coordsOf(w.PodSecret(c)), kubeletconfig.ImagePullServiceAccount{}, false, true
	}
	return coords{}, kubeletconfig.ImagePullServiceAccount{}, false, false
}

// sameSource reports whether a and b are credentials of one source.
func (w *World) sameSource(a, b Cred) bool {
	sa, saA, isSAA, okA := w.sourceOf(a)
	sb, saB, isSAB, okB := w.sourceOf(b)
	return okA && okB && isSAA == isSAB && sa == sb && saA == saB
}

// sourcesIn returns a credential of every source in namespace.
func (w *World) sourcesIn(namespace string) []Cred {
	var out []Cred
	for i, s := range w.Secrets {
		if s.Namespace == namespace {
			out = append(out, Cred{Secret: i})
		}
	}
	for i, sa := range w.ServiceAccounts {
		if sa.Namespace == namespace {
			out = append(out, ServiceAccountCred(i))
		}
	}
	return out
}

// deletedBy returns the sources an EventDeleted or EventRevoked names.
func (w *World) deletedBy(ev Event) []Cred {
	if ev.Namespace != "" {
		return w.sourcesIn(ev.Namespace)
	}
	return []Cred{ev.Cred}
}

// applyRevocation applies the revocation side of an event to the view:
// deletions and acknowledgements, and pulls and decisions that bring a
// revoked source back.
func (v *View) applyRevocation(ev Event) {
	r := &v.revocations
	if r.secrets == nil {
		r.secrets = map[coords]bool{}
		r.serviceAccounts = map[kubeletconfig.ImagePullServiceAccount]bool{}
	}
	switch ev.Kind {
	case EventDeleted:
		for _, c := range v.world.deletedBy(ev) {
			v.sourceDeleted(c)
		}
	case EventRevoked:
		for _, c := range v.world.deletedBy(ev) {
			v.sourceRevoked(c)
		}
	case EventPullOK:
		secret, sa, isSA, ok := v.world.sourceOf(ev.Cred)
		switch {
		case !ok:
		case isSA:
			delete(r.serviceAccounts, sa)
		default:
			delete(r.secrets, secret)
		}
	case EventDecide:
		// The decision may write the pod's Secret back (step 7).
		if secret, _, isSA, ok := v.world.sourceOf(ev.Cred); ok && !isSA {
			delete(r.secrets, secret)
		}
	}
}

// sourceDeleted: acknowledged pulls with c's source no longer have to grant.
func (v *View) sourceDeleted(c Cred) {
	kept := v.Expected[:0]
	for _, e := range v.Expected {
		if !v.world.sameSource(e.Cred, c) {
			kept = append(kept, e)
		}
	}
	v.Expected = kept
}

// sourceRevoked: c's source is gone from every record, with what proved its
// coordinates; hashes stay proven (the content did pull).
func (v *View) sourceRevoked(c Cred) {
	secret, sa, isSA, ok := v.world.sourceOf(c)
	if !ok {
		return
	}
	r := &v.revocations
	if isSA {
		r.serviceAccounts[sa] = true
		for _, proven := range v.provenSAs {
			delete(proven, sa)
		}
		return
	}
	r.secrets[secret] = true
	for _, proven := range v.provenCoords {
		delete(proven, secret)
	}
	for _, decided := range v.decided {
		for s := range decided {
			if coordsOf(s) == secret {
				delete(decided, s)
			}
		}
	}
}

// checkRevoked returns a violation for each revoked source that record
// still holds.
func (v *View) checkRevoked(record *kubeletconfig.ImagePulledRecord) []string {
	var out []string
	for repo, entry := range record.CredentialMapping {
		for _, s := range entry.KubernetesSecrets {
			if v.revocations.secrets[coordsOf(s)] {
				out = append(out, fmt.Sprintf("record %s holds Secret %s/%s (uid %s) under %s after its revocation was acknowledged", record.ImageRef, s.Namespace, s.Name, s.UID, repo))
			}
		}
		for _, sa := range entry.KubernetesServiceAccounts {
			if v.revocations.serviceAccounts[sa] {
				out = append(out, fmt.Sprintf("record %s holds service account %s/%s (uid %s) under %s after its revocation was acknowledged", record.ImageRef, sa.Namespace, sa.Name, sa.UID, repo))
			}
		}
	}
	return out
}

// worldSources is the cluster of the world without the sources deleted.
type worldSources struct {
	secrets         map[coords]bool
	serviceAccounts map[kubeletconfig.ImagePullServiceAccount]bool
}

var _ pullmanager.CredentialSources = worldSources{}

func newWorldSources(w *World, deleted []Cred) worldSources {
	s := worldSources{secrets: map[coords]bool{}, serviceAccounts: map[kubeletconfig.ImagePullServiceAccount]bool{}}
	for _, c := range deleted {
		secret, sa, isSA, ok := w.sourceOf(c)
		switch {
		case !ok:
		case isSA:
			s.serviceAccounts[sa] = true
		default:
			s.secrets[secret] = true
		}
	}
	return s
}

func (s worldSources) SecretExists(namespace, name, uid string) bool {
	return !s.secrets[coords{uid: uid, namespace: namespace, name: name}]
}

func (s worldSources) ServiceAccountExists(namespace, name, uid string) bool {
	return !s.serviceAccounts[kubeletconfig.ImagePullServiceAccount{UID: uid, Namespace: namespace, Name: name}]
}

// revocable draws what the cluster deletes: a Secret, a service account,
// or (one time in four) the namespace of a Secret with everything in it.
func (w *Workload) revocable() (Cred, string) {
	switch w.Rand.IntN(4) {
	case 0:
		return Cred{}, w.World.Secrets[w.Rand.IntN(len(w.World.Secrets))].Namespace
	case 1:
		return ServiceAccountCred(w.Rand.IntN(len(w.World.ServiceAccounts))), ""
	}
	return Cred{Secret: w.Rand.IntN(len(w.World.Secrets))}, ""
}

// revoke deletes sources from the cluster and revokes them. The workload
// pulls nothing meanwhile, so the cut-off is after every record written so
// far (stamps are the clock rounded up to a second): nothing is deferred.
func (w *Workload) revoke(ctx context.Context, m pullmanager.Manager) error {
	c, namespace := w.revocable()
	w.Stats.Revocations++
	w.Env.Deleted(c, namespace)
	deleted := w.World.deletedBy(Event{Cred: c, Namespace: namespace})
	res, err := m.RevokeCredentials(ctx, newWorldSources(w.World, deleted), w.Clock.Now().Add(time.Second))
	if err != nil {
		return fmt.Errorf("revoking %+v %q: %w", c, namespace, err)
	}
	if len(res.Deferred) > 0 {
		return fmt.Errorf("revoking %+v %q deferred %v with no pull running", c, namespace, res.Deferred)
	}
	w.Stats.CredentialsRevoked += len(res.Revoked)
	w.Env.Revoked(c, namespace)
	return nil
}

// Deleted implements Env.
func (e *OracleEnv) Deleted(c Cred, namespace string) {
	e.Oracle.Append(Event{Kind: EventDeleted, Cred: c, Namespace: namespace})
}

// Revoked implements Env.
func (e *OracleEnv) Revoked(c Cred, namespace string) {
	e.Oracle.Append(Event{Kind: EventRevoked, Cred: c, Namespace: namespace})
}
