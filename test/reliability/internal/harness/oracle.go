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
	"fmt"
	"sync"

	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// EventKind says what an oracle event records.
type EventKind string

// The events of the oracle log.
const (
	// EventPullOK: the runtime pulled Image (as Ref) with Cred.
	EventPullOK EventKind = "pullOK"
	// EventPullFailed: the registry refused Cred for Image.
	EventPullFailed EventKind = "pullFailed"
	// EventRecorded: RecordImagePulled returned nil for a pull of Image with Cred.
	EventRecorded EventKind = "recorded"
	// EventDecide: a pod with Cred is about to ask whether it may use Image
	// as Ref (logged before the decision, whose write-back may follow).
	EventDecide EventKind = "decide"
	// EventGC: the runtime removed the images Refs.
	EventGC EventKind = "gc"
)

// Event is one entry of the oracle log.
type Event struct {
	Kind  EventKind `json:"k"`
	Image string    `json:"i,omitempty"`
	Ref   string    `json:"r,omitempty"`
	Cred  Cred      `json:"c"`
	Refs  []string  `json:"rs,omitempty"`
	// Namespace, for EventDeleted and EventRevoked, is a namespace deleted
	// with every source in it (Cred is then unused).
	Namespace string `json:"ns,omitempty"`
}

// Oracle is the append-only log of what really happened. It must outlive
// the process whose records it judges. Safe for concurrent use.
type Oracle struct {
	World *World
	mu    sync.Mutex
	log   []Event
	// live is the view of the whole log, kept up to date by Append.
	live *View
}

// NewOracle returns an empty log over w.
func NewOracle(w *World) *Oracle { return &Oracle{World: w, live: newView(w, nil)} }

// Append adds events to the log.
func (o *Oracle) Append(events ...Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.log = append(o.log, events...)
	for _, ev := range events {
		o.live.apply(ev)
	}
}

// Len returns the number of events so far.
func (o *Oracle) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.log)
}

// View returns the state after the first n events (n < 0: all). The view
// of the whole log is shared and changes with the next Append.
func (o *Oracle) View(n int) *View {
	o.mu.Lock()
	if n < 0 || n == len(o.log) {
		defer o.mu.Unlock()
		return o.live
	}
	events := o.log
	if n >= 0 && n < len(events) {
		events = events[:n]
	}
	events = append([]Event(nil), events...)
	o.mu.Unlock()
	return newView(o.World, events)
}

// Pull is the runtime: it pulls image with c if the registry accepts, logs
// the outcome and returns the image ref.
func (o *Oracle) Pull(image string, c Cred) (string, bool) {
	img := o.World.Image(image)
	if !o.World.Accepts(image, c) {
		o.Append(Event{Kind: EventPullFailed, Image: image, Cred: c})
		return "", false
	}
	o.Append(Event{Kind: EventPullOK, Image: image, Ref: img.Ref, Cred: c})
	return img.Ref, true
}

type repoRef struct{ repo, ref string }

type coords struct{ uid, namespace, name string }

func coordsOf(s kubeletconfig.ImagePullSecret) coords {
	return coords{uid: s.UID, namespace: s.Namespace, name: s.Name}
}

// View is the oracle's state after a prefix of its log.
type View struct {
	world *World
	// Present maps a present image ref to the image strings it is known by.
	Present map[string]map[string]bool
	// provenHashes: hashes a successful pull proved, per name and image.
	provenHashes map[repoRef]map[string]bool
	provenCoords map[repoRef]map[coords]bool
	// provenSAs: service accounts whose plugin credentials pulled the
	// name and image.
	provenSAs map[repoRef]map[kubeletconfig.ImagePullServiceAccount]bool
	anonymous map[repoRef]bool
	decided   map[repoRef]map[kubeletconfig.ImagePullSecret]bool
	// pulledOK: names the runtime pulled since their image was last
	// garbage-collected, with one image string each.
	pulledOK map[repoRef]string
	// Expected are the acknowledged records whose image was not
	// garbage-collected since, nor their credential's source deleted: each
	// must still grant.
	Expected []Event
	// revocations are the sources revoked and not brought back (revoke.go).
	revocations revocations
}

func newView(w *World, events []Event) *View {
	v := &View{
		world:        w,
		Present:      map[string]map[string]bool{},
		provenHashes: map[repoRef]map[string]bool{},
		provenCoords: map[repoRef]map[coords]bool{},
		provenSAs:    map[repoRef]map[kubeletconfig.ImagePullServiceAccount]bool{},
		anonymous:    map[repoRef]bool{},
		decided:      map[repoRef]map[kubeletconfig.ImagePullSecret]bool{},
		pulledOK:     map[repoRef]string{},
	}
	for _, img := range w.Images {
		if img.Preloaded {
			v.addPresent(img.Ref, img.Image)
		}
	}
	for _, ev := range events {
		v.apply(ev)
	}
	return v
}

// apply adds one event to the view.
func (v *View) apply(ev Event) {
	w := v.world
	var rr repoRef
	if ev.Image != "" {
		rr = repoRef{repo: Repo(ev.Image), ref: ev.Ref}
	}
	v.applyRevocation(ev)
	switch ev.Kind {
	case EventPullOK:
		v.addPresent(ev.Ref, ev.Image)
		v.pulledOK[rr] = ev.Image
		if ev.Cred.SA > 0 {
			addTo(v.provenSAs, rr, w.PodServiceAccount(ev.Cred))
			return
		}
		if ev.Cred.Secret < 0 {
			v.anonymous[rr] = true
			return
		}
		s := w.PodSecret(ev.Cred)
		addTo(v.provenHashes, rr, s.CredentialHash)
		addTo(v.provenCoords, rr, coordsOf(s))
	case EventRecorded:
		v.Expected = append(v.Expected, ev)
	case EventDecide:
		if ev.Cred.Secret >= 0 {
			addTo(v.decided, rr, w.PodSecret(ev.Cred))
		}
	case EventGC:
		gone := map[string]bool{}
		for _, r := range ev.Refs {
			gone[r] = true
			delete(v.Present, r)
		}
		for k := range v.pulledOK {
			if gone[k.ref] {
				delete(v.pulledOK, k)
			}
		}
		kept := v.Expected[:0]
		for _, e := range v.Expected {
			if !gone[e.Ref] {
				kept = append(kept, e)
			}
		}
		v.Expected = kept
	}
}

func addTo[K comparable](m map[repoRef]map[K]bool, rr repoRef, k K) {
	if m[rr] == nil {
		m[rr] = map[K]bool{}
	}
	m[rr][k] = true
}

func (v *View) addPresent(ref, image string) {
	if v.Present[ref] == nil {
		v.Present[ref] = map[string]bool{}
	}
	v.Present[ref][image] = true
}

// RuntimeImages is what the runtime lists in this state.
func (v *View) RuntimeImages() []pullmanager.RuntimeImage { return runtimeImages(v.Present) }

// PresentRef returns the image ref of image if the runtime has it under
// that name.
func (v *View) PresentRef(image string) string {
	r := v.world.Image(image).Ref
	if v.Present[r][image] {
		return r
	}
	return ""
}

// trustedCoords: Secret coordinates proven for (repo, ref) by a pull, or
// by a pod presenting a proven hash under them.
func (v *View) trustedCoords(rr repoRef, c coords) bool {
	if v.provenCoords[rr][c] {
		return true
	}
	for s := range v.decided[rr] {
		if coordsOf(s) == c && v.provenHashes[rr][s.CredentialHash] {
			return true
		}
	}
	return false
}

// LegitSecret reports whether a record may hold s for repo and ref: its
// hash was proven by a pull, or it is a rotation of trusted coordinates
// that a pod presented (SPEC section 5, steps 7 and 8).
func (v *View) LegitSecret(repo, ref string, s kubeletconfig.ImagePullSecret) bool {
	rr := repoRef{repo: repo, ref: ref}
	if v.provenHashes[rr][s.CredentialHash] {
		return true
	}
	return v.decided[rr][s] && v.trustedCoords(rr, coordsOf(s))
}

// CheckRecord returns a violation for every credential of record that no
// successful pull earned.
func (v *View) CheckRecord(record *kubeletconfig.ImagePulledRecord) []string {
	var out []string
	for repo, entry := range record.CredentialMapping {
		rr := repoRef{repo: repo, ref: record.ImageRef}
		if entry.NodePodsAccessible && !v.anonymous[rr] {
			out = append(out, fmt.Sprintf("record %s grants nodePodsAccessible under %s, no anonymous pull succeeded", record.ImageRef, repo))
		}
		for _, s := range entry.KubernetesSecrets {
			if !v.LegitSecret(repo, record.ImageRef, s) {
				out = append(out, fmt.Sprintf("record %s holds Secret %s/%s (hash %.12s) under %s, no pull proved it", record.ImageRef, s.Namespace, s.Name, s.CredentialHash, repo))
			}
		}
		for _, sa := range entry.KubernetesServiceAccounts {
			if !v.provenSAs[rr][sa] {
				out = append(out, fmt.Sprintf("record %s holds service account %s/%s (uid %s) under %s, no pull with its plugin credentials proved it", record.ImageRef, sa.Namespace, sa.Name, sa.UID, repo))
			}
		}
	}
	return append(out, v.checkRevoked(record)...)
}

// CheckDecision returns a violation when a decision granted image (as ref)
// to a pod with c without a proof.
func (v *View) CheckDecision(image, ref string, c Cred, d pullmanager.Decision) string {
	if d.MustPull {
		return ""
	}
	rr := repoRef{repo: Repo(image), ref: ref}
	what := fmt.Sprintf("decision for %s (%.19s) with credential %+v: %s", image, ref, c, d.Verification)
	switch d.Verification {
	case pullmanager.VerificationNotPulledByKubelet:
		if _, ok := v.pulledOK[rr]; ok {
			return what + ": the kubelet pulled this name, it passed for preloaded"
		}
	case pullmanager.VerificationNodeAccessible:
		if !v.anonymous[rr] {
			return what + ": no anonymous pull succeeded"
		}
	case pullmanager.VerificationSecretHash:
		if c.Secret < 0 || !v.LegitSecret(rr.repo, ref, v.world.PodSecret(c)) {
			return what + ": hash never proven"
		}
	case pullmanager.VerificationSecretCoordinates:
		if c.Secret < 0 || !v.trustedCoords(rr, coordsOf(v.world.PodSecret(c))) {
			return what + ": coordinates never proven"
		}
	case pullmanager.VerificationServiceAccount:
		// Only the exact account (UID too: a recreated account is
		// another one) whose plugin credentials pulled the name.
		if c.SA == 0 || !v.provenSAs[rr][v.world.PodServiceAccount(c)] {
			return what + ": service account never proven"
		}
	default:
		return what + ": unexpected rule"
	}
	return ""
}

// OracleEnv is the Env of a workload that runs in the oracle's process.
// Live decision violations are collected in Violations.
type OracleEnv struct {
	Oracle     *Oracle
	Violations []string
}

var _ Env = &OracleEnv{}

// Pull implements Env.
func (e *OracleEnv) Pull(image string, c Cred) (string, bool) { return e.Oracle.Pull(image, c) }

// Recorded implements Env.
func (e *OracleEnv) Recorded(image, ref string, c Cred) {
	e.Oracle.Append(Event{Kind: EventRecorded, Image: image, Ref: ref, Cred: c})
}

// Decide implements Env.
func (e *OracleEnv) Decide(image, ref string, c Cred) {
	e.Oracle.Append(Event{Kind: EventDecide, Image: image, Ref: ref, Cred: c})
}

// Decided implements Env.
func (e *OracleEnv) Decided(image, ref string, c Cred, d pullmanager.Decision) {
	if msg := e.Oracle.View(-1).CheckDecision(image, ref, c, d); msg != "" {
		e.Violations = append(e.Violations, "live: "+msg)
	}
}

// Images implements Env.
func (e *OracleEnv) Images() []pullmanager.RuntimeImage { return e.Oracle.View(-1).RuntimeImages() }

// GC implements Env.
func (e *OracleEnv) GC(refs []string) { e.Oracle.Append(Event{Kind: EventGC, Refs: refs}) }

// Events returns a copy of the log.
func (o *Oracle) Events() []Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Event(nil), o.log...)
}
