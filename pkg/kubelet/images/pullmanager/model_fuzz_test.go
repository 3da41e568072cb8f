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
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/imagepullrecords"
	"k8s.io/klog/v2"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	clocktesting "k8s.io/utils/clock/testing"
)

// The model-based fuzz target drives a real file-backed pull manager with a
// sequence of operations decoded from the fuzz input and checks every
// decision, every prune result and the files on disk against modelManager, a
// small reference model of SPEC section 5 written from the spec (not from
// the implementation). The universe is small on purpose, so that sequences
// meet each other: four image strings over three repositories (one in
// familiar form, `busybox:1` next to `docker.io/library/busybox:2`), one
// unparsable image, two image IDs, four pod credentials over three Secrets
// (two Secrets with the same content, one rotated), two service accounts and
// a runtime whose images the sequence sets. Revocations delete any of the
// three Secrets' coordinates and the two service accounts, with a cut-off
// like prune's. The 100-Secret cap is out of reach of this universe.

// modelImages are the pod image strings; modelBadImage only reaches decisions.
var modelImages = []string{"busybox:1", "docker.io/library/busybox:2", "reg.example/team/app:1", "reg.example/other/tool:v1"}

const modelBadImage = "reg.example/BAD:1"

// modelRepo is repo(image), written out by hand from SPEC section 1.
var modelRepo = map[string]string{
	"busybox:1":                   "docker.io/library/busybox",
	"docker.io/library/busybox:2": "docker.io/library/busybox",
	"reg.example/team/app:1":      "reg.example/team/app",
	"reg.example/other/tool:v1":   "reg.example/other/tool",
}

// modelRuntimeTag is the normalised repo tag a runtime reports for an image.
var modelRuntimeTag = map[string]string{
	"busybox:1":                   "docker.io/library/busybox:1",
	"docker.io/library/busybox:2": "docker.io/library/busybox:2",
	"reg.example/team/app:1":      "reg.example/team/app:1",
	"reg.example/other/tool:v1":   "reg.example/other/tool:v1",
}

// modelAllowlist is the allowlist of NeverVerifyAllowlistedImages: only the
// tool repository (prefix entry) is exempt.
var modelAllowlist = []string{"reg.example/other/*"}

var modelRefs = []string{
	"sha256:1111111111111111111111111111111111111111111111111111111111111111",
	"sha256:2222222222222222222222222222222222222222222222222222222222222222",
}

var modelPolicies = []kubeletconfig.ImagePullCredentialsVerificationPolicy{
	kubeletconfig.NeverVerifyPreloadedImages, kubeletconfig.AlwaysVerify,
	kubeletconfig.NeverVerifyAllowlistedImages, kubeletconfig.NeverVerify,
}

// modelSecrets: s1 and s2 hold the same content (hash A), s3 other content,
// and the last is s1 rotated to content C.
var modelSecrets = []kubeletconfig.ImagePullSecret{
	{UID: "uid-1", Namespace: "ns-x", Name: "s1", CredentialHash: "hash-a"},
	{UID: "uid-2", Namespace: "ns-x", Name: "s2", CredentialHash: "hash-a"},
	{UID: "uid-3", Namespace: "ns-y", Name: "s3", CredentialHash: "hash-b"},
	{UID: "uid-1", Namespace: "ns-x", Name: "s1", CredentialHash: "hash-c"},
}

var modelServiceAccounts = []kubeletconfig.ImagePullServiceAccount{
	{UID: "uid-sa1", Namespace: "ns-y", Name: "builder"},
	{UID: "uid-sa2", Namespace: "ns-z", Name: "deployer"},
}

var errModelCredentials = errors.New("model: Secret cannot be parsed")

// secretKey is a Secret's coordinates.
type secretKey struct{ uid, namespace, name string }

func keyOf(s kubeletconfig.ImagePullSecret) secretKey { return secretKey{s.UID, s.Namespace, s.Name} }

// modelEntry is one credentialMapping value.
type modelEntry struct {
	nodePodsAccessible bool
	secrets            map[secretKey]string
	serviceAccounts    map[kubeletconfig.ImagePullServiceAccount]bool
}

type modelRecord struct {
	updated time.Time
	entries map[string]*modelEntry
}

// modelManager is SPEC section 5 over plain maps.
type modelManager struct {
	policy      kubeletconfig.ImagePullCredentialsVerificationPolicy
	now         time.Time
	records     map[string]*modelRecord
	intents     map[string]bool
	inFlight    map[string]int
	pinned      map[string]bool
	runtime     map[string]string // image string -> image ID
	runtimeDown bool
	hkDone      bool
	hkLastTry   time.Time
}

// merge applies the merge rules of section 5 to one repository key.
func (m *modelManager) merge(ref, repo string, creds *kubeletconfig.ImagePullCredentials) {
	rec := m.records[ref]
	e := rec.entries[repo]
	if e == nil {
		e = &modelEntry{secrets: map[secretKey]string{}, serviceAccounts: map[kubeletconfig.ImagePullServiceAccount]bool{}}
		rec.entries[repo] = e
	}
	switch {
	case creds == nil || e.nodePodsAccessible:
	case creds.NodePodsAccessible:
		*e = modelEntry{nodePodsAccessible: true}
	default:
		for _, s := range creds.KubernetesSecrets {
			e.secrets[keyOf(s)] = s.CredentialHash
		}
		for _, sa := range creds.KubernetesServiceAccounts {
			e.serviceAccounts[sa] = true
		}
	}
}

// stamp is now rounded up to the second the file keeps.
func (m *modelManager) stamp() time.Time {
	if t := m.now.Truncate(time.Second); !t.Equal(m.now) {
		return t.Add(time.Second)
	}
	return m.now
}

func (m *modelManager) recordFor(ref string, stampNew bool) *modelRecord {
	if m.records[ref] == nil {
		m.records[ref] = &modelRecord{entries: map[string]*modelEntry{}}
		if stampNew {
			m.records[ref].updated = m.stamp()
		}
	}
	return m.records[ref]
}

func (m *modelManager) intent(image string) {
	m.inFlight[image]++
	m.intents[image] = true
}

// pulled records a pull and reports whether the record could be written.
// A record with an empty mapping counts as pulled by the kubelet under
// every name: before merging one name into it, the names the runtime has
// for its image are spelled out; when the runtime is down or does not
// list the image, the record stays as it is, the pull fails to record and
// its intent stays pinned.
func (m *modelManager) pulled(image, ref string, creds *kubeletconfig.ImagePullCredentials) bool {
	if rec := m.records[ref]; rec != nil && len(rec.entries) == 0 {
		listed := false
		for img, id := range m.runtime {
			if id == ref && !m.runtimeDown {
				listed = true
				m.merge(ref, modelRepo[img], nil)
			}
		}
		if !listed {
			m.inFlight[image]--
			m.pinned[image] = true
			return false
		}
	}
	m.recordFor(ref, false).updated = m.stamp()
	m.merge(ref, modelRepo[image], creds)
	m.inFlight[image]--
	m.pinned[image] = false
	if m.inFlight[image] == 0 {
		delete(m.intents, image)
	}
	return true
}

func (m *modelManager) failed(image string) {
	m.inFlight[image]--
	if m.inFlight[image] == 0 && !m.pinned[image] {
		delete(m.intents, image)
	}
}

// restart: in-memory counts are gone, every intent is pinned until start-up
// housekeeping has listed the runtime.
func (m *modelManager) restart(policy kubeletconfig.ImagePullCredentialsVerificationPolicy) {
	m.policy = policy
	m.inFlight = map[string]int{}
	m.pinned = map[string]bool{}
	for image := range m.intents {
		m.pinned[image] = true
	}
	m.hkDone = false
	m.housekeeping()
}

// housekeeping resolves intents of present images into an empty entry and
// unpins the rest; with the runtime down nothing changes.
func (m *modelManager) housekeeping() {
	m.hkLastTry = m.now
	if m.runtimeDown {
		return
	}
	// An empty mapping counts as pulled by the kubelet under every name;
	// the names the runtime has for the image are spelled out, so that a
	// later pull under one name does not make the others look preloaded.
	for ref, rec := range m.records {
		if len(rec.entries) > 0 {
			continue
		}
		for image, id := range m.runtime {
			if id == ref {
				m.merge(ref, modelRepo[image], nil)
			}
		}
	}
	for image := range m.intents {
		m.pinned[image] = false
		if ref, ok := m.runtime[image]; ok {
			m.recordFor(ref, true)
			m.merge(ref, modelRepo[image], nil)
			if m.inFlight[image] == 0 {
				delete(m.intents, image)
			}
		}
	}
	m.hkDone = true
}

func (m *modelManager) pulledByKubelet(repo string, rec *modelRecord) bool {
	if rec != nil && (len(rec.entries) == 0 || rec.entries[repo] != nil) {
		return true
	}
	for image, n := range m.inFlight {
		if n > 0 && modelRepo[image] == repo {
			return true
		}
	}
	for image := range m.intents {
		if modelRepo[image] == repo {
			return true
		}
	}
	return false
}

// modelDecision is what MustAttemptImagePull must return.
type modelDecision struct {
	decision    Decision
	wantErr     bool
	credsCalled bool
}

// decide is the 11 steps of section 5. Credentials are resolved only when
// the entry holds something a credential could match ("only when a decision
// needs them").
func (m *modelManager) decide(image, ref string, pod []kubeletconfig.ImagePullSecret, sa *kubeletconfig.ImagePullServiceAccount, credErr error) modelDecision {
	mustPull := modelDecision{decision: Decision{MustPull: true, Verification: VerificationMustPull}}
	if ref == "" {
		return mustPull
	}
	if !m.hkDone && m.now.Sub(m.hkLastTry) >= housekeepingRetryInterval {
		m.housekeeping()
	}
	if !m.hkDone {
		return mustPull
	}
	if m.policy == kubeletconfig.NeverVerify {
		return modelDecision{decision: Decision{Verification: VerificationPolicy}}
	}
	repo, ok := modelRepo[image]
	if !ok {
		return mustPull
	}
	if m.policy == kubeletconfig.NeverVerifyAllowlistedImages && strings.HasPrefix(repo, "reg.example/other/") {
		return modelDecision{decision: Decision{Verification: VerificationPolicy}}
	}
	rec := m.records[ref]
	if m.policy == kubeletconfig.NeverVerifyPreloadedImages && !m.pulledByKubelet(repo, rec) {
		return modelDecision{decision: Decision{Verification: VerificationNotPulledByKubelet}}
	}
	var e *modelEntry
	if rec != nil {
		e = rec.entries[repo]
	}
	if e == nil {
		return mustPull
	}
	if e.nodePodsAccessible {
		return modelDecision{decision: Decision{Verification: VerificationNodeAccessible}}
	}
	if len(e.secrets) == 0 && len(e.serviceAccounts) == 0 {
		return mustPull
	}
	if credErr != nil {
		return modelDecision{decision: mustPull.decision, wantErr: true, credsCalled: true}
	}
	allow := func(v Verification) modelDecision {
		return modelDecision{decision: Decision{Verification: v}, credsCalled: true}
	}
	for _, p := range pod {
		for _, hash := range e.secrets {
			if hash != "" && hash == p.CredentialHash {
				// A second Secret with the same content: add its coordinates
				// by the merge rules. If the coordinates are on record with
				// another hash, the Secret was rotated to this (proven)
				// content and the new hash wins, as in step 8; the spec's
				// "add them" leaves this case open, and the merge reading
				// only ever narrows what the record grants.
				e.secrets[keyOf(p)] = p.CredentialHash
				return allow(VerificationSecretHash)
			}
		}
	}
	for _, p := range pod {
		if _, known := e.secrets[keyOf(p)]; known {
			// Rotated: store the pod's hash.
			e.secrets[keyOf(p)] = p.CredentialHash
			return allow(VerificationSecretCoordinates)
		}
	}
	if sa != nil && e.serviceAccounts[*sa] {
		return allow(VerificationServiceAccount)
	}
	return modelDecision{decision: mustPull.decision, credsCalled: true}
}

// prune deletes records not present, older than until, with no pull in
// flight under any of their names (any pull at all for an empty mapping).
func (m *modelManager) prune(present map[string]bool, until time.Time) []string {
	var removed []string
	for ref, rec := range m.records {
		if present[ref] || !rec.updated.Before(until) {
			continue
		}
		busy := false
		for image, n := range m.inFlight {
			if n > 0 && (len(rec.entries) == 0 || rec.entries[modelRepo[image]] != nil) {
				busy = true
			}
		}
		if !busy {
			delete(m.records, ref)
			removed = append(removed, ref)
		}
	}
	sort.Strings(removed)
	return removed
}

// modelSource is a Secret's or service account's coordinates.
type modelSource struct{ namespace, name, uid string }

// modelDeletedSources decodes which sources the cluster deleted: bits 0-2
// the three Secrets (s1 and its rotation share coordinates), bits 3-4 the
// two service accounts.
func modelDeletedSources(mask int) (secrets, serviceAccounts map[modelSource]bool) {
	secrets, serviceAccounts = map[modelSource]bool{}, map[modelSource]bool{}
	for i, s := range modelSecrets[:3] {
		if mask&(1<<i) != 0 {
			secrets[modelSource{s.Namespace, s.Name, s.UID}] = true
		}
	}
	for i, sa := range modelServiceAccounts {
		if mask&(1<<(3+i)) != 0 {
			serviceAccounts[modelSource{sa.Namespace, sa.Name, sa.UID}] = true
		}
	}
	return secrets, serviceAccounts
}

// modelCluster answers CredentialSources from the deleted sets.
type modelCluster struct{ deletedSecrets, deletedServiceAccounts map[modelSource]bool }

func (c modelCluster) SecretExists(namespace, name, uid string) bool {
	return !c.deletedSecrets[modelSource{namespace, name, uid}]
}

func (c modelCluster) ServiceAccountExists(namespace, name, uid string) bool {
	return !c.deletedServiceAccounts[modelSource{namespace, name, uid}]
}

// revoke removes, from every record updated before until, the Secrets and
// service accounts the cluster deleted, keeping every repository key (an
// entry whose last credential goes stays, empty) and lastUpdatedTime, and
// leaving nodePodsAccessible entries alone. Records updated at or after
// until that name a deleted source are deferred.
func (m *modelManager) revoke(c modelCluster, until time.Time) ([]RevokedCredential, []string) {
	var revoked []RevokedCredential
	var deferred []string
	for ref, rec := range m.records {
		var found []RevokedCredential
		for repo, e := range rec.entries {
			if e.nodePodsAccessible {
				continue
			}
			for k := range e.secrets {
				if !c.SecretExists(k.namespace, k.name, k.uid) {
					found = append(found, RevokedCredential{ImageRef: ref, Repository: repo, Kind: CredentialKindSecret, Namespace: k.namespace, Name: k.name, UID: k.uid})
				}
			}
			for sa := range e.serviceAccounts {
				if !c.ServiceAccountExists(sa.Namespace, sa.Name, sa.UID) {
					found = append(found, RevokedCredential{ImageRef: ref, Repository: repo, Kind: CredentialKindServiceAccount, Namespace: sa.Namespace, Name: sa.Name, UID: sa.UID})
				}
			}
		}
		if len(found) == 0 {
			continue
		}
		if !rec.updated.Before(until) {
			deferred = append(deferred, ref)
			continue
		}
		for _, r := range found {
			e := rec.entries[r.Repository]
			if r.Kind == CredentialKindSecret {
				delete(e.secrets, secretKey{r.UID, r.Namespace, r.Name})
			} else {
				delete(e.serviceAccounts, kubeletconfig.ImagePullServiceAccount{UID: r.UID, Namespace: r.Namespace, Name: r.Name})
			}
		}
		revoked = append(revoked, found...)
	}
	slices.SortFunc(revoked, func(a, b RevokedCredential) int {
		return cmp.Or(cmp.Compare(a.ImageRef, b.ImageRef), cmp.Compare(a.Repository, b.Repository), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name), cmp.Compare(a.UID, b.UID))
	})
	sort.Strings(deferred)
	return revoked, deferred
}

// runtimeImages is the fake runtime's content.
func (m *modelManager) runtimeImages() []RuntimeImage {
	byRef := map[string][]string{}
	for image, ref := range m.runtime {
		byRef[ref] = append(byRef[ref], modelRuntimeTag[image])
	}
	var out []RuntimeImage
	for _, ref := range modelRefs {
		if tags, ok := byRef[ref]; ok {
			slices.Sort(tags)
			out = append(out, RuntimeImage{ID: ref, RepoTags: tags})
		}
	}
	return out
}

// Fuzz input encoding: the first byte picks the policy, then each operation
// is an opcode byte followed by its operands. Missing bytes read as zero.
const (
	opIntent  = iota // image
	opPulled         // image, ref, credentials kind
	opFailed         // image
	opDecide         // image, ref, pod Secret mask, service account and error
	opPrune          // present mask, cut-off
	opClock          // step
	opRestart        // policy
	opRuntime        // image->ref assignment, down
	opRevoke         // deleted sources mask, cut-off
	opCount
)

// modelMaxOps bounds the work of one input.
const modelMaxOps = 64

var clockSteps = []time.Duration{300 * time.Millisecond, time.Second, 4 * time.Second, 11 * time.Second}

var pruneCutoffs = []time.Duration{-2 * time.Second, -time.Second, -500 * time.Millisecond, 0, 500 * time.Millisecond, time.Second, 3 * time.Second}

type byteReader struct{ data []byte }

func (r *byteReader) next() int {
	if len(r.data) == 0 {
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return int(b)
}

// pullCredentials decodes the credentials of a successful pull.
func pullCredentials(kind int) *kubeletconfig.ImagePullCredentials {
	switch k := kind % 9; {
	case k == 0:
		return nil
	case k == 1:
		return &kubeletconfig.ImagePullCredentials{}
	case k == 2:
		return &kubeletconfig.ImagePullCredentials{NodePodsAccessible: true}
	case k <= 6:
		return &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{modelSecrets[k-3]}}
	default:
		return &kubeletconfig.ImagePullCredentials{KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{modelServiceAccounts[k-7]}}
	}
}

// modelHarness holds the real manager next to the model.
type modelHarness struct {
	t      *testing.T
	ctx    context.Context
	root   string
	clock  *clocktesting.FakeClock
	lister *fakeLister
	mgr    Manager
	model  *modelManager
	trace  []string
}

func (h *modelHarness) fail(format string, args ...any) {
	h.t.Helper()
	h.t.Fatalf("%s\nafter operations:\n  %s", fmt.Sprintf(format, args...), strings.Join(h.trace, "\n  "))
}

func (h *modelHarness) start() {
	h.t.Helper()
	mgr, err := NewFileBackedPullManager(h.ctx, Options{
		RootDir:                h.root,
		Policy:                 h.model.policy,
		Allowlist:              modelAllowlist,
		ImageLister:            h.lister,
		Clock:                  h.clock,
		HousekeepingAttempts:   1,
		HousekeepingRetryDelay: time.Millisecond,
	})
	if err != nil {
		h.fail("starting the pull manager: %v", err)
	}
	h.mgr = mgr
}

func (h *modelHarness) setRuntime() {
	var err error
	if h.model.runtimeDown {
		err = errors.New("model: runtime unreachable")
	}
	h.lister.set(h.model.runtimeImages(), err)
}

func FuzzPullManagerModel(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &byteReader{data: data}
		start := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
		h := &modelHarness{
			t:      t,
			ctx:    klog.NewContext(context.Background(), logr.Discard()),
			root:   modelRootDir(t),
			clock:  clocktesting.NewFakeClock(start),
			lister: &fakeLister{},
			model: &modelManager{
				policy:  modelPolicies[r.next()%len(modelPolicies)],
				now:     start,
				records: map[string]*modelRecord{},
				intents: map[string]bool{},
				runtime: map[string]string{},
			},
		}
		h.trace = append(h.trace, fmt.Sprintf("start policy=%s", h.model.policy))
		h.model.restart(h.model.policy)
		h.start()
		defer func() { _ = h.mgr.Close() }()
		for i := 0; i < modelMaxOps && len(r.data) > 0; i++ {
			h.step(r)
			h.checkDisk()
		}
	})
}

// modelRootDir is a new root dir on tmpfs when there is one: the target
// checks logic, not durability, and fsyncs on a disk would cost most of
// each execution.
func modelRootDir(t *testing.T) string {
	if info, err := os.Stat("/dev/shm"); err == nil && info.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "pullmanager-model-"); err == nil {
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

// step decodes and runs one operation on both the manager and the model.
func (h *modelHarness) step(r *byteReader) {
	h.t.Helper()
	m := h.model
	switch r.next() % opCount {
	case opIntent:
		image := modelImages[r.next()%len(modelImages)]
		h.trace = append(h.trace, fmt.Sprintf("RecordPullIntent(%s)", image))
		if err := h.mgr.RecordPullIntent(h.ctx, image); err != nil {
			h.fail("RecordPullIntent(%s): %v", image, err)
		}
		m.intent(image)
	case opPulled:
		image, ref, creds := modelImages[r.next()%len(modelImages)], modelRefs[r.next()%len(modelRefs)], pullCredentials(r.next())
		if m.inFlight[image] == 0 {
			return // only a pull this process started can end
		}
		h.trace = append(h.trace, fmt.Sprintf("RecordImagePulled(%s, %s, %+v)", image, ref[:11], creds))
		err := h.mgr.RecordImagePulled(h.ctx, image, ref, creds)
		if ok := m.pulled(image, ref, creds); ok != (err == nil) {
			h.fail("RecordImagePulled(%s) = %v, model recorded %v", image, err, ok)
		}
	case opFailed:
		image := modelImages[r.next()%len(modelImages)]
		if m.inFlight[image] == 0 {
			return
		}
		h.trace = append(h.trace, fmt.Sprintf("RecordImagePullFailed(%s)", image))
		h.mgr.RecordImagePullFailed(h.ctx, image)
		m.failed(image)
	case opDecide:
		h.decide(r)
	case opPrune:
		mask, cut := r.next(), pruneCutoffs[r.next()%len(pruneCutoffs)]
		present := map[string]bool{}
		var refs []string
		for i, ref := range modelRefs {
			if mask&(1<<i) != 0 {
				present[ref] = true
				refs = append(refs, ref)
			}
		}
		until := m.now.Add(cut)
		h.trace = append(h.trace, fmt.Sprintf("PruneUnknownRecords(present=%d, until=now%+v)", len(refs), cut))
		got, err := h.mgr.PruneUnknownRecords(h.ctx, refs, until)
		if err != nil {
			h.fail("PruneUnknownRecords: %v", err)
		}
		sort.Strings(got)
		if want := m.prune(present, until); !slices.Equal(got, want) {
			h.fail("PruneUnknownRecords removed %v, model %v", got, want)
		}
	case opClock:
		step := clockSteps[r.next()%len(clockSteps)]
		h.trace = append(h.trace, fmt.Sprintf("clock +%v", step))
		h.clock.Step(step)
		m.now = m.now.Add(step)
	case opRestart:
		b := r.next()
		policy := modelPolicies[b%len(modelPolicies)]
		h.trace = append(h.trace, fmt.Sprintf("restart policy=%s", policy))
		if err := h.mgr.Close(); err != nil {
			h.fail("Close: %v", err)
		}
		h.plant((b/4)%4, modelRefs[(b/16)%2])
		m.restart(policy)
		h.start()
	case opRuntime:
		assign, down := r.next(), r.next()%4 == 0
		m.runtime = map[string]string{}
		for i, image := range modelImages {
			if v := (assign >> (2 * i)) & 3; v == 1 || v == 2 {
				m.runtime[image] = modelRefs[v-1]
			}
		}
		m.runtimeDown = down
		h.trace = append(h.trace, fmt.Sprintf("runtime %v down=%v", m.runtime, down))
		h.setRuntime()
	case opRevoke:
		mask, cut := r.next(), pruneCutoffs[r.next()%len(pruneCutoffs)]
		secrets, serviceAccounts := modelDeletedSources(mask)
		cluster := modelCluster{deletedSecrets: secrets, deletedServiceAccounts: serviceAccounts}
		until := m.now.Add(cut)
		h.trace = append(h.trace, fmt.Sprintf("RevokeCredentials(deleted=%05b, until=now%+v)", mask&0x1f, cut))
		got, err := h.mgr.RevokeCredentials(h.ctx, cluster, until)
		if err != nil {
			h.fail("RevokeCredentials: %v", err)
		}
		wantRevoked, wantDeferred := m.revoke(cluster, until)
		if !slices.Equal(got.Revoked, wantRevoked) {
			h.fail("RevokeCredentials revoked %+v, model %+v", got.Revoked, wantRevoked)
		}
		if !slices.Equal(got.Deferred, wantDeferred) {
			h.fail("RevokeCredentials deferred %v, model %v", got.Deferred, wantDeferred)
		}
	}
}

// plantedMappings are records another tool (or a released kubelet) left
// while the manager was down: an empty mapping (an interrupted pull, pulled
// by the kubelet under every name), and familiar-name keys that start-up
// normalises, merging the entries that collide.
var plantedMappings = []map[string]kubeletv1beta1.ImagePullCredentials{
	1: {},
	2: {"busybox": {}, "docker.io/library/busybox": {KubernetesSecrets: []kubeletv1beta1.ImagePullSecret{
		{UID: "uid-3", Namespace: "ns-y", Name: "s3", CredentialHash: "hash-b"}}}},
	3: {"busybox": {NodePodsAccessible: true}, "reg.example/team/app": {}},
}

// plant writes planted mapping kind (0: nothing) as the record of ref,
// unless the model has a record for ref, and adds it to the model as
// start-up must load it: keys normalised, lastUpdatedTime kept.
func (h *modelHarness) plant(kind int, ref string) {
	h.t.Helper()
	if kind == 0 || h.model.records[ref] != nil {
		return
	}
	h.trace = append(h.trace, fmt.Sprintf("plant record %.11s %v", ref, plantedMappings[kind]))
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: filepath.Join(h.root, imagepullrecords.ManagerDirName)})
	if err != nil {
		h.fail("opening the store: %v", err)
	}
	stamp := h.model.stamp()
	if err := store.WriteRecord(&kubeletv1beta1.ImagePulledRecord{
		LastUpdatedTime:   metav1.NewTime(stamp),
		ImageRef:          ref,
		CredentialMapping: plantedMappings[kind],
	}); err != nil {
		h.fail("planting a record: %v", err)
	}
	h.model.recordFor(ref, true)
	for key, c := range plantedMappings[kind] {
		creds := &kubeletconfig.ImagePullCredentials{NodePodsAccessible: c.NodePodsAccessible}
		for _, s := range c.KubernetesSecrets {
			creds.KubernetesSecrets = append(creds.KubernetesSecrets, kubeletconfig.ImagePullSecret{UID: s.UID, Namespace: s.Namespace, Name: s.Name, CredentialHash: s.CredentialHash})
		}
		repo := key
		if key == "busybox" {
			repo = "docker.io/library/busybox"
		}
		h.model.merge(ref, repo, creds)
	}
}

func (h *modelHarness) decide(r *byteReader) {
	h.t.Helper()
	image := modelBadImage
	if i := r.next() % (len(modelImages) + 1); i < len(modelImages) {
		image = modelImages[i]
	}
	ref := ""
	if i := r.next() % (len(modelRefs) + 1); i < len(modelRefs) {
		ref = modelRefs[i]
	}
	mask, saErr := r.next(), r.next()
	var pod []kubeletconfig.ImagePullSecret
	for i, s := range modelSecrets {
		if mask&(1<<i) != 0 {
			pod = append(pod, s)
		}
	}
	var sa *kubeletconfig.ImagePullServiceAccount
	if i := saErr % 3; i > 0 {
		sa = &modelServiceAccounts[i-1]
	}
	var credErr error
	if (saErr/3)%4 == 3 {
		credErr = errModelCredentials
	}
	h.trace = append(h.trace, fmt.Sprintf("MustAttemptImagePull(%s, %.11s, secrets=%v, sa=%v, err=%v)", image, ref, pod, sa, credErr))
	calls := 0
	got, err := h.mgr.MustAttemptImagePull(h.ctx, image, ref, func() ([]kubeletconfig.ImagePullSecret, *kubeletconfig.ImagePullServiceAccount, error) {
		calls++
		return pod, sa, credErr
	})
	want := h.model.decide(image, ref, pod, sa, credErr)
	if got != want.decision || (err != nil) != want.wantErr {
		h.fail("MustAttemptImagePull = %+v, %v; model %+v (error %v)", got, err, want.decision, want.wantErr)
	}
	if wantCalls := map[bool]int{false: 0, true: 1}[want.credsCalled]; calls != wantCalls {
		h.fail("pod credentials resolved %d times, model %d", calls, wantCalls)
	}
}

// checkDisk compares the files under the root with the model: every record
// (entries, sorted lists, lastUpdatedTime) and every intent.
func (h *modelHarness) checkDisk() {
	h.t.Helper()
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: filepath.Join(h.root, imagepullrecords.ManagerDirName), ReadOnly: true})
	if err != nil {
		h.fail("opening the store: %v", err)
	}
	intents := map[string]bool{}
	bad, err := store.WalkIntents(func(f imagepullrecords.IntentFile) { intents[f.Intent.Image] = true })
	if err != nil || len(bad) > 0 {
		h.fail("listing intents: %v %v", err, bad)
	}
	for image := range h.model.intents {
		if !intents[image] {
			h.fail("intent for %s missing on disk", image)
		}
	}
	for image := range intents {
		if !h.model.intents[image] {
			h.fail("intent for %s on disk, not in the model", image)
		}
	}
	seen := map[string]bool{}
	bad, err = store.WalkRecords(func(f imagepullrecords.RecordFile) {
		seen[f.Record.ImageRef] = true
		want := h.model.records[f.Record.ImageRef]
		if want == nil {
			h.fail("record %s on disk, not in the model", f.Record.ImageRef)
		}
		if !f.Record.LastUpdatedTime.Time.Equal(want.updated) {
			h.fail("record %s lastUpdatedTime %v, model %v", f.Record.ImageRef, f.Record.LastUpdatedTime.Time, want.updated)
		}
		if got, wantKeys := len(f.Record.CredentialMapping), len(want.entries); got != wantKeys {
			h.fail("record %s has %d entries, model %d", f.Record.ImageRef, got, wantKeys)
		}
		for repo, creds := range f.Record.CredentialMapping {
			e := want.entries[repo]
			if e == nil {
				h.fail("record %s: entry %s not in the model", f.Record.ImageRef, repo)
			}
			if creds.NodePodsAccessible != e.nodePodsAccessible || len(creds.KubernetesSecrets) != len(e.secrets) || len(creds.KubernetesServiceAccounts) != len(e.serviceAccounts) {
				h.fail("record %s entry %s = %+v, model %+v", f.Record.ImageRef, repo, creds, *e)
			}
			if !slices.IsSortedFunc(creds.KubernetesSecrets, func(a, b kubeletv1beta1.ImagePullSecret) int {
				return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name), cmp.Compare(a.UID, b.UID))
			}) {
				h.fail("record %s entry %s: Secrets not sorted: %+v", f.Record.ImageRef, repo, creds.KubernetesSecrets)
			}
			for _, s := range creds.KubernetesSecrets {
				if hash, ok := e.secrets[secretKey{s.UID, s.Namespace, s.Name}]; !ok || hash != s.CredentialHash {
					h.fail("record %s entry %s: Secret %+v, model %+v", f.Record.ImageRef, repo, s, e.secrets)
				}
			}
			for _, sa := range creds.KubernetesServiceAccounts {
				if !e.serviceAccounts[kubeletconfig.ImagePullServiceAccount{UID: sa.UID, Namespace: sa.Namespace, Name: sa.Name}] {
					h.fail("record %s entry %s: service account %+v not in the model", f.Record.ImageRef, repo, sa)
				}
			}
		}
	})
	if err != nil || len(bad) > 0 {
		h.fail("listing records: %v %v", err, bad)
	}
	for ref := range h.model.records {
		if !seen[ref] {
			h.fail("record %s missing on disk", ref)
		}
	}
	if _, err := os.Stat(filepath.Join(h.root, imagepullrecords.ManagerDirName)); err != nil {
		h.fail("manager dir: %v", err)
	}
}
