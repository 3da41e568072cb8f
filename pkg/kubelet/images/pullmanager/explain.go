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
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"k8s.io/imagepullrecords"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// Rule names the rule of MustAttemptImagePull that decided. The values are
// part of kubelet-imagectl's output (records explain).
type Rule string

// The rules, in the order MustAttemptImagePull tries them; Step gives the
// number of the package documentation.
const (
	// RuleEmptyImageRef: no image ref to look up (step 1).
	RuleEmptyImageRef Rule = "emptyImageRef"
	// RuleHousekeepingPending: start-up housekeeping has not listed the
	// runtime's images yet, so every decision requires a pull.
	RuleHousekeepingPending Rule = "housekeepingPending"
	// RuleNotWritable: the records directory cannot be written; the
	// manager fails closed.
	RuleNotWritable Rule = "recordsNotWritable"
	// RuleNeverVerify: policy NeverVerify (step 2).
	RuleNeverVerify Rule = "neverVerify"
	// RuleUnparsableImage: the image does not parse (step 2).
	RuleUnparsableImage Rule = "unparsableImage"
	// RuleAllowlisted: NeverVerifyAllowlistedImages and repo(image)
	// matches the allowlist (step 2).
	RuleAllowlisted Rule = "allowlisted"
	// RulePoisonedRecord: the record file is broken (step 3).
	RulePoisonedRecord Rule = "poisonedRecord"
	// RuleNotPulledByKubelet: NeverVerifyPreloadedImages and the name is
	// not pulled by the kubelet (step 4).
	RuleNotPulledByKubelet Rule = "notPulledByKubelet"
	// RuleNoEntry: the record has no entry for repo(image) (step 5).
	RuleNoEntry Rule = "noEntry"
	// RuleNodePodsAccessible: the entry is nodePodsAccessible (step 5).
	RuleNodePodsAccessible Rule = "nodePodsAccessible"
	// RuleEmptyEntry: the entry holds no credentials (step 5).
	RuleEmptyEntry Rule = "emptyEntry"
	// RuleCredentialsError: the pod's credentials could not be resolved
	// (step 6).
	RuleCredentialsError Rule = "credentialsError"
	// RuleSecretHash: a pod credential's hash is on record (step 7).
	RuleSecretHash Rule = "secretHash"
	// RuleSecretCoordinates: a pod Secret's coordinates are on record with
	// another hash (step 8).
	RuleSecretCoordinates Rule = "secretCoordinates"
	// RuleServiceAccount: the pod's service account is on record (step 10).
	RuleServiceAccount Rule = "serviceAccount"
	// RuleNoMatch: nothing the pod presented is on record (step 11).
	RuleNoMatch Rule = "noMatch"
)

// Step returns the number of the rule in the package documentation's
// decision list; 0 for the conditions checked before it
// (housekeepingPending, recordsNotWritable).
func (r Rule) Step() int {
	switch r {
	case RuleEmptyImageRef:
		return 1
	case RuleNeverVerify, RuleUnparsableImage, RuleAllowlisted:
		return 2
	case RulePoisonedRecord:
		return 3
	case RuleNotPulledByKubelet:
		return 4
	case RuleNoEntry, RuleNodePodsAccessible, RuleEmptyEntry:
		return 5
	case RuleCredentialsError:
		return 6
	case RuleSecretHash:
		return 7
	case RuleSecretCoordinates:
		return 8
	case RuleServiceAccount:
		return 10
	case RuleNoMatch:
		return 11
	}
	return 0
}

// abbreviatedHashLength is how much of a credential hash an explanation
// shows: enough to tell hashes apart, not enough to test guesses of a weak
// password against.
const abbreviatedHashLength = 8

// Explanation says why MustAttemptImagePull decided as it did, for
// kubelet-imagectl records explain. Only a read-only manager fills one, when
// the decision's context carries it (WithExplanation); use one Explanation
// per decision. It holds coordinates and abbreviated credential hashes,
// never a credential. The JSON names are part of kubelet-imagectl's output.
type Explanation struct {
	// Rule is the rule that decided; empty when the manager did not decide.
	Rule Rule `json:"rule"`
	// Step is Rule.Step().
	Step int `json:"step"`
	// Why says in a sentence or two why the rule decided as it did.
	Why string `json:"why"`
	// MustPull is the decision.
	MustPull bool `json:"mustPull"`
	// ImageRef is the runtime's image ID the decision was about.
	ImageRef string `json:"imageRef"`
	// Repository is repo(image), the credentialMapping key; empty when the
	// image does not parse.
	Repository string `json:"repository"`
	// Policy is the verification policy.
	Policy PolicyExplanation `json:"policy"`
	// Record is what the manager holds for ImageRef.
	Record RecordExplanation `json:"record"`
	// PulledByKubelet says whether the name counts as pulled by the kubelet
	// (which matters only under NeverVerifyPreloadedImages).
	PulledByKubelet PulledByKubeletExplanation `json:"pulledByKubelet"`
	// Entry is the record's entry for Repository.
	Entry EntryExplanation `json:"entry"`
	// Credentials are what the pod presented, when the decision needed them.
	Credentials CredentialsExplanation `json:"credentials"`

	trace decisionTrace
}

// PolicyExplanation is the verification policy of a decision.
type PolicyExplanation struct {
	// Name is imagePullCredentialsVerificationPolicy.
	Name kubeletconfig.ImagePullCredentialsVerificationPolicy `json:"name"`
	// Allowlist is preloadedImagesVerificationAllowlist, sorted.
	Allowlist []string `json:"allowlist"`
	// AllowlistEntry is the allowlist entry that matches the repository,
	// empty when none does.
	AllowlistEntry string `json:"allowlistEntry"`
}

// RecordExplanation is the record of an image ref.
type RecordExplanation struct {
	// File is the record's file, relative to the kubelet root dir
	// (image_manager/pulled/sha256-...).
	File string `json:"file"`
	// Found is true when the manager holds a record for the image ref.
	Found bool `json:"found"`
	// OnDisk is true when the file exists and decodes. Found without OnDisk
	// is a record start-up housekeeping made in memory from an intent, as
	// the kubelet does when it starts (a read-only manager writes nothing).
	OnDisk bool `json:"onDisk"`
	// Poisoned is true when the file is broken: it grants nothing.
	Poisoned bool `json:"poisoned"`
	// Error says why a poisoned file is broken.
	Error string `json:"error"`
	// LastUpdatedTime is the record's, RFC 3339; empty without a record.
	LastUpdatedTime string `json:"lastUpdatedTime"`
	// EmptyMapping is true for a record whose credentialMapping is empty
	// (pulled by the kubelet under every name).
	EmptyMapping bool `json:"emptyMapping"`
	// Repositories are the record's credentialMapping keys, sorted.
	Repositories []string `json:"repositories"`
}

// PulledByKubeletExplanation says whether, and why, the kubelet counts as
// having pulled the image under the repository name.
type PulledByKubeletExplanation struct {
	// Pulled is true when the name counts as pulled by the kubelet.
	Pulled bool `json:"pulled"`
	// Why is entry, emptyMapping, pullInFlight or intent; empty when not
	// pulled. A pull in flight is one of this process; a running kubelet's
	// pulls show as intents.
	Why string `json:"why"`
	// Intents are the intent files on disk for image strings of this
	// repository name, and a broken intent file of the image itself.
	Intents []IntentExplanation `json:"intents"`
}

// IntentExplanation is one intent file.
type IntentExplanation struct {
	// File is relative to the kubelet root dir (image_manager/pulling/sha256-...).
	File string `json:"file"`
	// Image is the intent's image string, empty for a broken file.
	Image string `json:"image"`
	// Broken is true for a file that does not decode; it still counts as
	// an intent for the image string its name hashes from.
	Broken bool `json:"broken"`
	// ResolvedAtStartup is true when start-up housekeeping found the image
	// in the runtime and turned the intent into an empty entry, as the
	// kubelet does when it starts.
	ResolvedAtStartup bool `json:"resolvedAtStartup"`
}

// EntryExplanation is a record's entry for one repository name.
type EntryExplanation struct {
	// Found is true when the record has an entry for the name.
	Found bool `json:"found"`
	// OnDisk is false for an entry start-up housekeeping added in memory.
	OnDisk bool `json:"onDisk"`
	// NodePodsAccessible: any pod on the node may use the image under the name.
	NodePodsAccessible bool `json:"nodePodsAccessible"`
	// KubernetesSecrets are the recorded Secrets.
	KubernetesSecrets []SecretExplanation `json:"kubernetesSecrets"`
	// KubernetesServiceAccounts are the recorded service accounts.
	KubernetesServiceAccounts []ServiceAccountExplanation `json:"kubernetesServiceAccounts"`
}

// CredentialsExplanation is what the pod presented for the image.
type CredentialsExplanation struct {
	// Resolved is true when the decision resolved the pod's credentials
	// (step 6); only then are the others set.
	Resolved bool `json:"resolved"`
	// Error is the resolution error.
	Error string `json:"error"`
	// KubernetesSecrets are the pod's Secret credentials matching the
	// image, most specific first.
	KubernetesSecrets []SecretExplanation `json:"kubernetesSecrets"`
	// KubernetesServiceAccount is the pod's service account when a
	// credential provider plugin used its token for the image.
	KubernetesServiceAccount *ServiceAccountExplanation `json:"kubernetesServiceAccount"`
	// CapReached is true when the entry holds maxSecretsPerEntry Secrets or
	// more: decisions add none, and a rotation is not accepted.
	CapReached bool `json:"capReached"`
	// WriteBack is what the kubelet would store after this decision:
	// addCoordinates (a second Secret with a recorded hash), storeHash (a
	// rotated Secret's new hash) or empty. A read-only manager stores nothing.
	WriteBack string `json:"writeBack"`
}

// SecretExplanation is a Secret's coordinates and abbreviated credential hash.
type SecretExplanation struct {
	UID       string `json:"uid"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// CredentialHash is abbreviated to its first 8 hex digits.
	CredentialHash string `json:"credentialHash"`
	// Match is hash (its hash is on the other side) or coordinates (its
	// uid, namespace and name are, with another hash); empty for neither.
	Match string `json:"match"`
	// Decided marks the pod's Secret that decided.
	Decided bool `json:"decided"`
}

// ServiceAccountExplanation is a service account's coordinates.
type ServiceAccountExplanation struct {
	UID       string `json:"uid"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Match is true when it is on the other side (the pod's and a recorded one).
	Match bool `json:"match"`
}

// Values of SecretExplanation.Match, CredentialsExplanation.WriteBack and
// PulledByKubeletExplanation.Why; part of kubelet-imagectl's output.
const (
	// MatchHash: the credential hash is on the other side.
	MatchHash = "hash"
	// MatchCoordinates: the uid, namespace and name are, with another hash.
	MatchCoordinates = "coordinates"
	// WriteBackAddCoordinates: the kubelet adds a second Secret with a
	// recorded hash to the entry.
	WriteBackAddCoordinates = "addCoordinates"
	// WriteBackStoreHash: the kubelet stores a rotated Secret's new hash.
	WriteBackStoreHash = "storeHash"
	// PulledByEntry: the record has an entry for the name.
	PulledByEntry = "entry"
	// PulledByEmptyMapping: the record's mapping is empty.
	PulledByEmptyMapping = "emptyMapping"
	// PulledByPullInFlight: this process is pulling the name.
	PulledByPullInFlight = "pullInFlight"
	// PulledByIntent: an intent exists for the name.
	PulledByIntent = "intent"
)

// noMatchingSecret is decisionTrace.matched when no pod Secret decided.
const noMatchingSecret = -1

// decisionTrace is what decide saw that cannot be looked up again: the
// pod's credentials are resolved at most once per decision.
type decisionTrace struct {
	resolved       bool
	secrets        []kubeletconfig.ImagePullSecret
	serviceAccount *kubeletconfig.ImagePullServiceAccount
	err            error
	// matched is the index in secrets of the Secret that decided.
	matched   int
	writeBack bool
}

// decidedBy notes the rule that decided.
func (e *Explanation) decidedBy(rule Rule) {
	if e != nil {
		e.Rule = rule
	}
}

// presented notes the pod's credentials.
func (e *Explanation) presented(secrets []kubeletconfig.ImagePullSecret, serviceAccount *kubeletconfig.ImagePullServiceAccount, err error) {
	if e != nil {
		e.trace = decisionTrace{resolved: true, secrets: secrets, serviceAccount: serviceAccount, err: err, matched: noMatchingSecret}
	}
}

// matched notes the rule and the pod Secret (index) that decided, and
// whether the decision stores it.
func (e *Explanation) matched(rule Rule, secret int, writeBack bool) {
	if e != nil {
		e.Rule = rule
		e.trace.matched, e.trace.writeBack = secret, writeBack
	}
}

type explanationKey struct{}

// WithExplanation returns ctx carrying ex. MustAttemptImagePull of a
// read-only manager called with it fills ex; other managers ignore it.
func WithExplanation(ctx context.Context, ex *Explanation) context.Context {
	return context.WithValue(ctx, explanationKey{}, ex)
}

func explanationFrom(ctx context.Context) *Explanation {
	ex, _ := ctx.Value(explanationKey{}).(*Explanation)
	return ex
}

// describe fills ex after decide: what the manager holds for the image
// (looked up again, through the functions decide uses), what the pod
// presented, and why the rule decided.
func (m *fileBackedManager) describe(ex *Explanation, image, imageRef string, decision Decision, err error) {
	ex.Step = ex.Rule.Step()
	ex.MustPull = decision.MustPull
	ex.ImageRef = imageRef
	ex.Repository = m.repoOrEmpty(image)
	ex.Policy = m.policy.explain(ex.Repository)
	ex.Record = m.explainRecord(imageRef)
	ex.Entry = EntryExplanation{KubernetesSecrets: []SecretExplanation{}, KubernetesServiceAccounts: []ServiceAccountExplanation{}}
	ex.PulledByKubelet = PulledByKubeletExplanation{Intents: []IntentExplanation{}}
	ex.Credentials = CredentialsExplanation{KubernetesSecrets: []SecretExplanation{}}

	var record *memRecord
	if imageRef != "" && !ex.Record.Poisoned {
		record, _ = m.records.mem.record(imageRef)
	}
	var entry *memEntry
	if ex.Repository != "" {
		if record != nil {
			entry = record.entry(ex.Repository)
		}
		ex.PulledByKubelet.Pulled, ex.PulledByKubelet.Why = explainPulled(m.pulledByKubelet(image, ex.Repository, record))
		ex.PulledByKubelet.Intents = m.explainIntents(image, ex.Repository)
	}
	if entry != nil {
		ex.Entry = m.explainEntry(imageRef, ex.Repository, entry, ex.trace)
	}
	if t := ex.trace; t.resolved {
		ex.Credentials = explainCredentials(t, entry)
		if err != nil {
			ex.Credentials.Error = err.Error()
		}
	}
	ex.Why = ex.why(image)
}

func explainPulled(reason pulledReason) (bool, string) {
	switch reason {
	case pulledEntry:
		return true, PulledByEntry
	case pulledEmptyMapping:
		return true, PulledByEmptyMapping
	case pulledInFlight:
		return true, PulledByPullInFlight
	case pulledIntent:
		return true, PulledByIntent
	}
	return false, ""
}

// explain describes the policy for repo. The matching entry is found by
// asking a one-entry policy per entry, so that matching is written once.
func (p *verificationPolicy) explain(repo string) PolicyExplanation {
	out := PolicyExplanation{Name: p.policy, Allowlist: append([]string{}, slices.Sorted(maps.Keys(p.exact))...)}
	for _, prefix := range p.prefixes {
		out.Allowlist = append(out.Allowlist, prefix+"*")
	}
	slices.Sort(out.Allowlist)
	if repo == "" {
		return out
	}
	for _, entry := range out.Allowlist {
		if one, err := newVerificationPolicy(p.policy, []string{entry}); err == nil && one.allowlisted(repo) {
			out.AllowlistEntry = entry
			break
		}
	}
	return out
}

// rootRelative turns a path relative to the manager directory into one
// relative to the kubelet root dir, as kubelet-imagectl names files.
func rootRelative(managerRel string) string {
	return path.Join(imagepullrecords.ManagerDirName, strings.ReplaceAll(managerRel, "\\", "/"))
}

// explainRecord describes the record of imageRef: in memory (what
// decisions read) and on disk (to tell what start-up housekeeping added,
// and why a poisoned file is broken).
func (m *fileBackedManager) explainRecord(imageRef string) RecordExplanation {
	out := RecordExplanation{Repositories: []string{}}
	if imageRef == "" {
		return out
	}
	out.File = rootRelative(path.Join(imagepullrecords.RecordsDirName, imagepullrecords.FileName(imageRef)))
	onDisk, diskErr := m.store.ReadRecord(imageRef)
	out.OnDisk = diskErr == nil && onDisk != nil
	record, err := m.records.mem.record(imageRef)
	if err != nil {
		out.Poisoned = true
		out.Error = "the file does not decode"
		if diskErr != nil {
			out.Error = diskErr.Error()
		}
		return out
	}
	if record == nil {
		return out
	}
	out.Found = true
	out.LastUpdatedTime = time.Unix(0, record.updated).UTC().Format(time.RFC3339)
	out.EmptyMapping = len(record.entries) == 0
	for _, e := range record.entries {
		out.Repositories = append(out.Repositories, e.repo.Value())
	}
	slices.Sort(out.Repositories)
	return out
}

// explainEntry describes the entry of imageRef's record for repo, each
// recorded Secret and service account marked with what the pod presented
// that matches it.
func (m *fileBackedManager) explainEntry(imageRef, repo string, entry *memEntry, t decisionTrace) EntryExplanation {
	out := EntryExplanation{
		Found:                     true,
		NodePodsAccessible:        entry.nodePodsAccessible,
		KubernetesSecrets:         []SecretExplanation{},
		KubernetesServiceAccounts: []ServiceAccountExplanation{},
	}
	if onDisk, err := m.store.ReadRecord(imageRef); err == nil && onDisk != nil {
		// The file may spell the name in familiar form, which loading
		// normalised with the same parser.
		for key := range onDisk.CredentialMapping {
			if key == repo || m.repoOrEmpty(key) == repo {
				out.OnDisk = true
				break
			}
		}
	}
	for _, h := range entry.secrets {
		recorded := h.Value()
		se := secretExplanation(recorded)
		for _, podSecret := range t.secrets {
			switch podSecretMatch(podSecret, []kubeletconfig.ImagePullSecret{recorded}) {
			case MatchHash:
				se.Match = MatchHash
			case MatchCoordinates:
				if se.Match == "" {
					se.Match = MatchCoordinates
				}
			}
		}
		out.KubernetesSecrets = append(out.KubernetesSecrets, se)
	}
	for _, h := range entry.serviceAccounts {
		sa := h.Value()
		out.KubernetesServiceAccounts = append(out.KubernetesServiceAccounts, ServiceAccountExplanation{
			UID: sa.UID, Namespace: sa.Namespace, Name: sa.Name,
			Match: t.serviceAccount != nil && *t.serviceAccount == sa,
		})
	}
	return out
}

func secretExplanation(s kubeletconfig.ImagePullSecret) SecretExplanation {
	return SecretExplanation{UID: s.UID, Namespace: s.Namespace, Name: s.Name, CredentialHash: abbreviateHash(s.CredentialHash)}
}

func abbreviateHash(hash string) string {
	if len(hash) > abbreviatedHashLength {
		return hash[:abbreviatedHashLength]
	}
	return hash
}

// explainIntents lists the intent files on disk for image strings whose
// repository is repo, and a broken intent file of image itself: the
// evidence of "pulled by the kubelet" that outlives the process that
// pulled.
func (m *fileBackedManager) explainIntents(image, repo string) []IntentExplanation {
	out := []IntentExplanation{}
	bad, err := m.store.WalkIntents(func(f imagepullrecords.IntentFile) {
		if m.repoOrEmpty(f.Intent.Image) != repo {
			return
		}
		out = append(out, IntentExplanation{
			File:              rootRelative(f.File),
			Image:             f.Intent.Image,
			ResolvedAtStartup: !m.records.mem.goodIntentExists(f.Intent.Image),
		})
	})
	if err != nil {
		return out
	}
	own := imagepullrecords.KeyHash(image)
	for _, b := range bad {
		if b.Hash == own {
			out = append(out, IntentExplanation{File: rootRelative(b.File), Broken: true})
		}
	}
	return out
}

// explainCredentials describes what the pod presented, each Secret and
// service account marked with what matched the entry.
func explainCredentials(t decisionTrace, entry *memEntry) CredentialsExplanation {
	out := CredentialsExplanation{Resolved: true, KubernetesSecrets: []SecretExplanation{}}
	var recorded []kubeletconfig.ImagePullSecret
	var recordedAccounts []kubeletconfig.ImagePullServiceAccount
	if entry != nil {
		for _, h := range entry.secrets {
			recorded = append(recorded, h.Value())
		}
		for _, h := range entry.serviceAccounts {
			recordedAccounts = append(recordedAccounts, h.Value())
		}
		out.CapReached = len(entry.secrets) >= maxSecretsPerEntry
	}
	for i, s := range t.secrets {
		se := secretExplanation(s)
		se.Match = podSecretMatch(s, recorded)
		se.Decided = i == t.matched
		out.KubernetesSecrets = append(out.KubernetesSecrets, se)
	}
	if sa := t.serviceAccount; sa != nil {
		out.KubernetesServiceAccount = &ServiceAccountExplanation{UID: sa.UID, Namespace: sa.Namespace, Name: sa.Name, Match: slices.Contains(recordedAccounts, *sa)}
	}
	if t.writeBack && t.matched >= 0 && t.matched < len(t.secrets) {
		out.WriteBack = WriteBackAddCoordinates
		if se := out.KubernetesSecrets[t.matched]; se.Match == MatchCoordinates {
			out.WriteBack = WriteBackStoreHash
		}
	}
	return out
}

// podSecretMatch says how a pod's Secret credential matches recorded
// ones, compared as steps 7 and 8 compare: hash when a recorded hash equals
// its hash, else coordinates when a recorded Secret has its uid, namespace
// and name. A pod credential without a hash matches nothing.
func podSecretMatch(s kubeletconfig.ImagePullSecret, recorded []kubeletconfig.ImagePullSecret) string {
	if s.CredentialHash == "" {
		return ""
	}
	for _, r := range recorded {
		if r.CredentialHash == s.CredentialHash {
			return MatchHash
		}
	}
	for _, r := range recorded {
		if sameSecretCoordinates(r, s) {
			return MatchCoordinates
		}
	}
	return ""
}

// decisive returns the pod Secret that decided, if any.
func (e *Explanation) decisive() (SecretExplanation, bool) {
	for _, s := range e.Credentials.KubernetesSecrets {
		if s.Decided {
			return s, true
		}
	}
	return SecretExplanation{}, false
}

// why is the sentence of Explanation.Why.
func (e *Explanation) why(image string) string {
	repo := e.Repository
	switch e.Rule {
	case RuleEmptyImageRef:
		return "the runtime gave no image ID, so there is no record to look up: the pod must pull"
	case RuleHousekeepingPending:
		return "start-up housekeeping has not listed the runtime's images yet; until it has, a name may look preloaded that is not, so every decision requires a pull"
	case RuleNotWritable:
		return "the records directory cannot be written, so the manager fails closed: every decision requires a pull"
	case RuleNeverVerify:
		return "policy NeverVerify: any pod on the node may use any present image"
	case RuleUnparsableImage:
		return fmt.Sprintf("%q does not parse as an image reference, so it cannot be matched against records: the pod must pull", image)
	case RuleAllowlisted:
		return fmt.Sprintf("policy NeverVerifyAllowlistedImages and %s matches the allowlist entry %q: no verification", repo, e.Policy.AllowlistEntry)
	case RulePoisonedRecord:
		return fmt.Sprintf("the record file %s is broken (%s); a broken record grants nothing until a successful pull rewrites it (taking it for absent would make the image look preloaded)", e.Record.File, e.Record.Error)
	case RuleNotPulledByKubelet:
		return fmt.Sprintf("policy NeverVerifyPreloadedImages and the kubelet never pulled the image under %s (the record has no entry for it and a mapping that is not empty, no intent and no pull in flight): the name counts as preloaded", repo)
	case RuleNoEntry:
		if !e.Record.Found {
			return fmt.Sprintf("there is no record for image ID %s, so no credential is on record for %s: the pod must pull", e.ImageRef, repo)
		}
		return fmt.Sprintf("the record has no entry for %s (only for %s), so no credential is on record for this name: the pod must pull", repo, strings.Join(e.Record.Repositories, ", "))
	case RuleNodePodsAccessible:
		return fmt.Sprintf("the entry for %s is nodePodsAccessible (pulled anonymously or with node-wide credentials): any pod may use the image under this name, without resolving its credentials", repo)
	case RuleEmptyEntry:
		return fmt.Sprintf("the entry for %s is empty ({}): the kubelet pulled the image under this name, but nothing proved which credentials may use it: the pod must pull", repo)
	case RuleCredentialsError:
		return fmt.Sprintf("the pod's credentials could not be resolved (%s): nothing is granted, and the container fails whatever its pull policy", e.Credentials.Error)
	case RuleSecretHash:
		s, _ := e.decisive()
		msg := fmt.Sprintf("the pod's Secret %s/%s (uid %s) has the credential hash %s, which is on record for %s", s.Namespace, s.Name, s.UID, s.CredentialHash, repo)
		switch {
		case e.Credentials.WriteBack == WriteBackAddCoordinates:
			msg += "; the kubelet would add this Secret's coordinates to the entry (a second Secret with the same content)"
		case e.Credentials.CapReached:
			msg += fmt.Sprintf("; the entry holds %d Secrets or more, so it is accepted without adding this one", maxSecretsPerEntry)
		}
		return msg
	case RuleSecretCoordinates:
		s, _ := e.decisive()
		return fmt.Sprintf("the pod's Secret %s/%s (uid %s) is on record for %s with another hash: it was rotated (or its hash was unknown), so the pod may use the image and the kubelet would store its hash %s", s.Namespace, s.Name, s.UID, repo, s.CredentialHash)
	case RuleServiceAccount:
		sa := e.Credentials.KubernetesServiceAccount
		return fmt.Sprintf("the pod's service account %s/%s (uid %s), whose token a credential provider plugin used for the image, is on record for %s", sa.Namespace, sa.Name, sa.UID, repo)
	case RuleNoMatch:
		msg := fmt.Sprintf("nothing the pod presented is on record for %s", repo)
		if len(e.Credentials.KubernetesSecrets) == 0 && e.Credentials.KubernetesServiceAccount == nil {
			msg += " (it presented no Secret credential for this image and no service account)"
		}
		for _, s := range e.Credentials.KubernetesSecrets {
			if s.Match == MatchCoordinates && e.Credentials.CapReached {
				msg += fmt.Sprintf("; the pod's Secret %s/%s is on record with another hash, but the entry holds %d Secrets or more, and a rotation is not accepted past that cap (step 9)", s.Namespace, s.Name, maxSecretsPerEntry)
				break
			}
		}
		return msg + ": the pod must pull"
	}
	return ""
}
