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
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/imagepullrecords"
	"k8s.io/klog/v2"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/util/parsers"
	"k8s.io/utils/clock"
)

// Options configure a file-backed pull manager.
type Options struct {
	// RootDir is the kubelet root directory; records live in
	// RootDir/image_manager.
	RootDir string
	// FS is the filesystem of the record store; nil means the real one.
	FS imagepullrecords.FS
	// Policy is imagePullCredentialsVerificationPolicy; empty means
	// NeverVerifyPreloadedImages.
	Policy kubeletconfig.ImagePullCredentialsVerificationPolicy
	// Allowlist is preloadedImagesVerificationAllowlist, already validated.
	Allowlist []string
	// ImageLister lists the runtime's images for start-up housekeeping.
	ImageLister ImageLister
	// MaxPods sizes the in-memory usage gauges.
	MaxPods int32
	// Clock stamps records; nil means the real clock.
	Clock clock.Clock
	// ReadOnly opens the records without the writer lock and never writes:
	// decisions are made as usual, write-backs and housekeeping changes stay
	// in memory, and recording pulls fails. For dry runs and for inspecting
	// a root dir that a running kubelet owns.
	ReadOnly bool
	// HousekeepingAttempts is how many times start-up lists the runtime's
	// images before giving up; 0 means 3.
	HousekeepingAttempts int
	// HousekeepingRetryDelay is the pause between attempts; 0 means 500ms.
	HousekeepingRetryDelay time.Duration
}

// Manager is a PullManager that holds the record directory's writer lock
// until it is closed.
type Manager interface {
	PullManager
	// Revoker removes the credentials of deleted Secrets and service
	// accounts from the records (revoke.go).
	Revoker
	// Close releases the writer lock.
	Close() error
	// Writable returns nil while the records can be written, and an error
	// wrapping ErrRecordsNotWritable that names the directory while they
	// cannot (found at start-up, or by the last write); the manager then
	// fails closed.
	Writable() error
}

// ErrReadOnly is returned when recording a pull with a read-only manager.
var ErrReadOnly = errors.New("pull manager is read-only")

// housekeepingRetryInterval spaces out retries of start-up housekeeping
// made from decisions after it failed at start-up.
const housekeepingRetryInterval = 10 * time.Second

// pullState tracks one image string's pulls in this process. It exists while
// a pull is in flight or while the intent is pinned.
type pullState struct {
	// inFlight counts pulls started and not yet recorded or failed.
	inFlight int
	// pinned keeps the intent on disk after the pulls end: a record write
	// failed, or start-up could not decide whether the image is present.
	pinned bool
	// repo is repo(image), empty when the image does not parse.
	repo string
}

// fileBackedManager implements Manager. Lock order: imageLocks (one image
// string) before recordLocks (one image ref) before pullsMu; the memory
// layer's own mutex is innermost and held only inside its methods.
type fileBackedManager struct {
	store    *imagepullrecords.Store
	lock     *imagepullrecords.WriterLock
	records  *cachedRecords
	policy   *verificationPolicy
	lister   ImageLister
	clock    clock.Clock
	readOnly bool
	metrics  *managerMetrics
	// notWritable latches when a write finds the directory not writable;
	// see writeFailed. Decisions that need a record fail closed while set.
	notWritable atomic.Bool

	imageLocks  *stripedLocks
	recordLocks *stripedLocks

	pullsMu sync.RWMutex
	// pulls holds per image string state; see pullState.
	pulls map[string]*pullState
	// pullsByRepo counts in-flight pulls per repo(image).
	pullsByRepo map[string]int

	housekeepingMu sync.Mutex
	// housekeepingDone is read by every decision without a lock.
	housekeepingDone     atomic.Bool
	housekeepingLastTry  time.Time
	housekeepingAttempts int
	housekeepingDelay    time.Duration
}

var _ Manager = &fileBackedManager{}

// NewFileBackedPullManager opens the records under opts.RootDir, takes the
// writer lock (unless read-only), removes leftover temporaries, loads every
// record and intent into memory, migrates older files and runs start-up
// housekeeping against the runtime. It returns only when all of that is
// done, so no decision is made on a partial view. When the directory cannot
// be written (read-only filesystem, permission denied), it logs that once
// and returns a manager that fails closed, whose Writable reports it.
func NewFileBackedPullManager(ctx context.Context, opts Options) (Manager, error) {
	m, err := newFileBackedPullManager(ctx, opts)
	if err != nil && isNotWritable(err) && !opts.ReadOnly {
		managerDir := filepath.Join(opts.RootDir, imagepullrecords.ManagerDirName)
		klog.FromContext(ctx).Error(err, "Image pull records directory is not writable; every decision requires a pull and every pull fails until it is writable", "dir", managerDir)
		metrics := newManagerMetrics(opts.MaxPods)
		// Counted with the failed record writes, so that one alert on the
		// counter catches a directory that turned read-only before a
		// restart as well as one that turns read-only while running.
		metrics.recordWriteErrors.Inc()
		return &failClosedManager{dir: managerDir, opts: opts, cause: err, metrics: metrics}, nil
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// newFileBackedPullManager is NewFileBackedPullManager without the
// fail-closed fallback.
func newFileBackedPullManager(ctx context.Context, opts Options) (*fileBackedManager, error) {
	logger := klog.FromContext(ctx)
	policy, err := newVerificationPolicy(opts.Policy, opts.Allowlist)
	if err != nil {
		return nil, err
	}
	fsys := opts.FS
	if fsys == nil {
		fsys = imagepullrecords.OS
	}
	managerDir := filepath.Join(opts.RootDir, imagepullrecords.ManagerDirName)
	m := &fileBackedManager{
		policy:            policy,
		lister:            opts.ImageLister,
		clock:             opts.Clock,
		readOnly:          opts.ReadOnly,
		metrics:           newManagerMetrics(opts.MaxPods),
		imageLocks:        newStripedLocks(defaultLockStripes),
		recordLocks:       newStripedLocks(defaultLockStripes),
		pulls:             map[string]*pullState{},
		pullsByRepo:       map[string]int{},
		housekeepingDelay: opts.HousekeepingRetryDelay,
	}
	if m.clock == nil {
		m.clock = clock.RealClock{}
	}
	m.housekeepingAttempts = opts.HousekeepingAttempts
	if m.housekeepingAttempts <= 0 {
		m.housekeepingAttempts = 3
	}
	if m.housekeepingDelay <= 0 {
		m.housekeepingDelay = 500 * time.Millisecond
	}

	if !opts.ReadOnly {
		// The lock lives in the manager directory: create it first.
		if err := fsys.MkdirAll(managerDir, imagepullrecords.DirMode); err != nil {
			return nil, fmt.Errorf("creating %s: %w", managerDir, err)
		}
		m.lock, err = imagepullrecords.AcquireWriterLock(fsys, managerDir)
		if err != nil {
			return nil, err
		}
	}
	// From here on, release the lock on every error.
	ok := false
	defer func() {
		if !ok {
			_ = m.lock.Release()
		}
	}()

	m.store, err = imagepullrecords.Open(imagepullrecords.Options{ManagerDir: managerDir, FS: fsys, ReadOnly: opts.ReadOnly})
	if err != nil {
		return nil, err
	}
	if !opts.ReadOnly {
		removed, err := m.store.RemoveTemporaries()
		for _, path := range removed {
			logger.V(2).Info("Removed leftover temporary image pull record file", "path", path)
		}
		if err != nil {
			// Leftover temporaries are ignored by readers; removing them is
			// housekeeping, not a condition for correct decisions.
			logger.Error(err, "Failed to remove leftover temporary image pull record files")
		}
	}
	if err := m.load(ctx); err != nil {
		return nil, err
	}
	if !opts.ReadOnly {
		m.tightenLooseModes(ctx)
	}
	m.runHousekeeping(ctx, true)
	ok = true
	return m, nil
}

// load reads every record and intent into memory, normalises
// credentialMapping keys, and rewrites older-version or non-normalised files
// in the current form (unless read-only).
func (m *fileBackedManager) load(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	m.records = &cachedRecords{disk: NewFileRecordsStore(m.store), mem: newMemoryRecords()}
	loaded, err := m.records.load()
	if err != nil {
		return fmt.Errorf("loading image pull records: %w", err)
	}
	for _, bad := range loaded.broken {
		// Logged once, here; each decision that meets it counts an error.
		logger.Error(bad.Err, "Image pull record file is broken; it grants nothing until a successful pull rewrites it", "file", bad.File)
	}
	OnDiskPulledRecords.Set(float64(loaded.records))
	OnDiskPullIntents.Set(float64(loaded.intents))

	// Every intent found at start-up is pinned until housekeeping decides
	// whether its image is present: until then the name counts as pulled by
	// the kubelet, which fails safe.
	intents, _, _ := m.records.mem.ListImagePullIntents()
	for _, intent := range intents {
		m.pulls[intent.Image] = &pullState{pinned: true, repo: m.repoOrEmpty(intent.Image)}
	}
	m.updateUsage()

	if m.readOnly {
		return nil
	}
	for _, rec := range loaded.staleRecords {
		if err := m.records.disk.WriteImagePulledRecord(rec); err != nil {
			m.metrics.recordWriteErrors.Inc()
			_ = m.writeFailed(ctx, err, "Failed to migrate image pulled record", "imageRef", rec.ImageRef)
		}
	}
	for _, image := range loaded.staleIntents {
		if err := m.records.disk.WriteImagePullIntent(image); err != nil {
			m.metrics.intentWriteErrors.Inc()
			_ = m.writeFailed(ctx, err, "Failed to migrate image pull intent", "image", image)
		}
	}
	return nil
}

// repo returns repo(image); parsers keeps a bounded cache of parses.
func (m *fileBackedManager) repo(image string) (string, error) {
	return parsers.RepositoryName(image)
}

func (m *fileBackedManager) repoOrEmpty(image string) string {
	repo, _ := m.repo(image)
	return repo
}

func (m *fileBackedManager) updateUsage() {
	records, intents := m.records.mem.counts()
	m.metrics.setInMemoryUsage(records, intents)
}

// Close releases the writer lock.
func (m *fileBackedManager) Close() error {
	return m.lock.Release()
}

// RecordPullIntent implements PullManager.
func (m *fileBackedManager) RecordPullIntent(ctx context.Context, image string) error {
	if m.readOnly {
		return ErrReadOnly
	}
	unlock := m.imageLocks.lock(image)
	defer unlock()

	// Count first: from now on the name counts as pulled by the kubelet.
	m.addInFlight(image, 1)
	if err := m.writeIntent(ctx, image); err != nil {
		m.addInFlight(image, -1)
		return fmt.Errorf("recording the intent to pull %q: %w", image, err)
	}
	return nil
}

// writeIntent makes the intent for image durable unless memory shows a good
// intent file for it already.
func (m *fileBackedManager) writeIntent(ctx context.Context, image string) error {
	if m.records.mem.goodIntentExists(image) {
		return nil
	}
	if err := m.records.WriteImagePullIntent(image); err != nil {
		m.metrics.intentWriteErrors.Inc()
		return m.writeFailed(ctx, err, "Failed to write image pull intent", "image", image)
	}
	m.writeSucceeded(ctx)
	OnDiskPullIntents.Inc()
	m.updateUsage()
	return nil
}

// addInFlight changes the in-flight count of image by delta.
func (m *fileBackedManager) addInFlight(image string, delta int) {
	m.pullsMu.Lock()
	defer m.pullsMu.Unlock()
	st := m.pulls[image]
	if st == nil {
		st = &pullState{repo: m.repoOrEmpty(image)}
		m.pulls[image] = st
	}
	st.inFlight += delta
	if st.inFlight < 0 {
		st.inFlight = 0
	}
	if st.repo != "" {
		m.pullsByRepo[st.repo] += delta
		if m.pullsByRepo[st.repo] <= 0 {
			delete(m.pullsByRepo, st.repo)
		}
	}
	if st.inFlight == 0 && !st.pinned {
		delete(m.pulls, image)
	}
}

// RecordImagePulled implements PullManager.
func (m *fileBackedManager) RecordImagePulled(ctx context.Context, image, imageRef string, credentials *kubeletconfig.ImagePullCredentials) error {
	if m.readOnly {
		return ErrReadOnly
	}
	unlock := m.imageLocks.lock(image)
	defer unlock()

	err := m.writePulledRecord(ctx, image, imageRef, credentials)

	m.pullsMu.Lock()
	st := m.pulls[image]
	if st == nil {
		st = &pullState{repo: m.repoOrEmpty(image)}
		m.pulls[image] = st
	}
	if err != nil {
		// The record is not durable: keep the intent so that the name stays
		// "pulled by the kubelet" and is never taken for preloaded.
		st.pinned = true
	} else {
		st.pinned = false
	}
	m.pullsMu.Unlock()
	m.addInFlight(image, -1)

	if err != nil {
		return err
	}
	m.removeIntentIfIdle(ctx, image)
	return nil
}

// writePulledRecord merges credentials into the record of imageRef under
// repo(image) and writes it, refreshing lastUpdatedTime.
func (m *fileBackedManager) writePulledRecord(ctx context.Context, image, imageRef string, credentials *kubeletconfig.ImagePullCredentials) error {
	if imageRef == "" {
		return fmt.Errorf("recording the pull of %q: empty image ref", image)
	}
	repo, err := m.repo(image)
	if err != nil {
		return fmt.Errorf("recording the pull of %q: %w", image, err)
	}
	unlock := m.recordLocks.lock(imageRef)
	defer unlock()

	current, err := m.records.GetImagePulledRecord(imageRef)
	if err != nil {
		// A broken file is replaced by a record holding only what this pull
		// proved: the old content cannot be trusted.
		current = nil
	}
	if current != nil && len(current.CredentialMapping) == 0 {
		// An empty mapping counts as pulled by the kubelet under every name
		// (start-up housekeeping spells the names out, but it may not have
		// run yet). Merging this pull's name alone would make the image's
		// other names look preloaded, so spell them out first; if the
		// runtime cannot say, the record is left as it is and the intent
		// stays, which keeps every name safe.
		if current, err = m.withRuntimeNames(ctx, current); err != nil {
			m.metrics.recordWriteErrors.Inc()
			return fmt.Errorf("recording the pull of %q as %q: %w", image, imageRef, err)
		}
	}
	updated, _ := withCredentials(current, imageRef, repo, credentials)
	updated.LastUpdatedTime = m.stamp()
	if err := m.records.WriteImagePulledRecord(updated); err != nil {
		m.metrics.recordWriteErrors.Inc()
		err = m.writeFailed(ctx, err, "Failed to write image pulled record; the pull intent stays", "image", image, "imageRef", imageRef)
		return fmt.Errorf("recording the pull of %q as %q: %w", image, imageRef, err)
	}
	m.writeSucceeded(ctx)
	if current == nil {
		OnDiskPulledRecords.Inc()
		m.updateUsage()
	}
	return nil
}

// removeIntentIfIdle deletes the intent of image when no pull of it is in
// flight and it is not pinned. The caller holds the image's lock.
func (m *fileBackedManager) removeIntentIfIdle(ctx context.Context, image string) {
	m.pullsMu.Lock()
	st := m.pulls[image]
	idle := st == nil || (st.inFlight == 0 && !st.pinned)
	m.pullsMu.Unlock()
	if !idle {
		return
	}
	existed, _ := m.records.mem.ImagePullIntentExists(image)
	if !existed {
		return
	}
	if err := m.records.DeleteImagePullIntent(image); err != nil {
		// The intent stays on disk and in memory: the name keeps counting
		// as pulled by the kubelet, which fails safe.
		m.metrics.intentWriteErrors.Inc()
		_ = m.writeFailed(ctx, err, "Failed to remove image pull intent", "image", image)
		return
	}
	OnDiskPullIntents.Dec()
	m.updateUsage()
}

// RecordImagePullFailed implements PullManager.
func (m *fileBackedManager) RecordImagePullFailed(ctx context.Context, image string) {
	if m.readOnly {
		return
	}
	unlock := m.imageLocks.lock(image)
	defer unlock()
	m.addInFlight(image, -1)
	m.removeIntentIfIdle(ctx, image)
}

// pulledReason says why a name counts as pulled by the kubelet (step 4 of
// the package documentation), or notPulled.
type pulledReason uint8

const (
	// notPulled: the kubelet never pulled (nor started pulling) the image
	// under this name.
	notPulled pulledReason = iota
	// pulledEntry: the record has an entry for the name, even {}.
	pulledEntry
	// pulledEmptyMapping: the record's mapping is empty, which counts for
	// every name.
	pulledEmptyMapping
	// pulledInFlight: this process is pulling an image string of the name.
	pulledInFlight
	// pulledIntent: an intent exists for an image string of the name, or a
	// broken intent file for the image itself.
	pulledIntent
)

// pulledByKubelet reports whether, and why, the kubelet pulled (or started
// pulling) image under its repository name: the record has an entry for
// repo or an empty mapping, or a pull or an intent exists for an image
// string with this repo.
func (m *fileBackedManager) pulledByKubelet(image, repo string, record *memRecord) pulledReason {
	if record != nil {
		if len(record.entries) == 0 {
			return pulledEmptyMapping
		}
		if record.entry(repo) != nil {
			return pulledEntry
		}
	}
	m.pullsMu.RLock()
	inFlight := m.pullsByRepo[repo] > 0
	m.pullsMu.RUnlock()
	if inFlight {
		return pulledInFlight
	}
	if m.records.mem.intentForRepo(image, repo) {
		return pulledIntent
	}
	return notPulled
}

// MustAttemptImagePull implements PullManager. The steps are those of the
// package documentation; every path that cannot prove access returns "must
// pull".
func (m *fileBackedManager) MustAttemptImagePull(ctx context.Context, image, imageRef string, podCredentials GetPodCredentials) (decision Decision, err error) {
	result := CheckResultError
	defer func() { m.metrics.check(result, imageRef) }()
	var ex *Explanation
	if m.readOnly {
		// Only read-only managers (dry runs, records explain) explain: the
		// kubelet's decisions never look an explanation up.
		ex = explanationFrom(ctx)
	}
	decision, result, err = m.decide(ctx, image, imageRef, podCredentials, ex)
	if ex != nil {
		m.describe(ex, image, imageRef, decision, err)
	}
	return decision, err
}

// decide is MustAttemptImagePull without the metric: the decision, the
// metric result that goes with it and the credential resolution error. It
// is the only place the rules are written. ex, nil on the kubelet's path,
// notes the rule that decided and what the pod presented; its methods do
// nothing on nil.
func (m *fileBackedManager) decide(ctx context.Context, image, imageRef string, podCredentials GetPodCredentials, ex *Explanation) (Decision, CheckResult, error) {
	mustPull := Decision{MustPull: true, Verification: VerificationMustPull}

	// 1. Without an image ref there is nothing to look up.
	if imageRef == "" {
		ex.decidedBy(RuleEmptyImageRef)
		return mustPull, CheckResultMustAuthenticate, nil
	}
	// Until start-up housekeeping has classified the intents, a name may
	// look preloaded that is not: fail safe.
	if !m.ensureHousekeeping(ctx) {
		ex.decidedBy(RuleHousekeepingPending)
		return mustPull, CheckResultError, nil
	}

	// A directory that cannot be written fails closed, before any policy
	// exemption: a name pulled while no intent or record could be kept
	// would look preloaded, and nothing admitted now could be verified
	// later.
	if m.notWritable.Load() {
		ex.decidedBy(RuleNotWritable)
		return mustPull, CheckResultError, nil
	}

	// 2. Policy exemptions that need no record.
	if m.policy.policy == kubeletconfig.NeverVerify {
		ex.decidedBy(RuleNeverVerify)
		return Decision{Verification: VerificationPolicy}, CheckResultPolicyAllowed, nil
	}
	repo, err := m.repo(image)
	if err != nil {
		// An image that does not parse cannot be matched against records.
		ex.decidedBy(RuleUnparsableImage)
		return mustPull, CheckResultError, nil
	}
	if m.policy.policy == kubeletconfig.NeverVerifyAllowlistedImages && m.policy.allowlisted(repo) {
		ex.decidedBy(RuleAllowlisted)
		return Decision{Verification: VerificationPolicy}, CheckResultPolicyAllowed, nil
	}

	// 3. The record, from memory. A broken file never grants.
	record, err := m.records.mem.record(imageRef)
	if err != nil {
		ex.decidedBy(RulePoisonedRecord)
		return mustPull, CheckResultError, nil
	}

	// 4. Preloaded names are judged per repository name.
	if m.policy.policy == kubeletconfig.NeverVerifyPreloadedImages && m.pulledByKubelet(image, repo, record) == notPulled {
		ex.decidedBy(RuleNotPulledByKubelet)
		return Decision{Verification: VerificationNotPulledByKubelet}, CheckResultPolicyAllowed, nil
	}

	// 5. The entry for this name.
	var entry *memEntry
	if record != nil {
		entry = record.entry(repo)
	}
	if entry == nil {
		ex.decidedBy(RuleNoEntry)
		return mustPull, CheckResultMustAuthenticate, nil
	}
	if entry.nodePodsAccessible {
		ex.decidedBy(RuleNodePodsAccessible)
		return Decision{Verification: VerificationNodeAccessible}, CheckResultRecordFound, nil
	}
	if len(entry.secrets) == 0 && len(entry.serviceAccounts) == 0 {
		// An empty entry grants nothing; no need to resolve credentials.
		ex.decidedBy(RuleEmptyEntry)
		return mustPull, CheckResultMustAuthenticate, nil
	}

	// 6. Only now resolve the pod's credentials.
	secrets, serviceAccount, err := podCredentials()
	ex.presented(secrets, serviceAccount, err)
	if err != nil {
		ex.decidedBy(RuleCredentialsError)
		return mustPull, CheckResultError, fmt.Errorf("resolving the pod's credentials for %q: %w", image, err)
	}
	capReached := len(entry.secrets) >= maxSecretsPerEntry

	// 7. A credential whose hash is on record.
	for i, podSecret := range secrets {
		if podSecret.CredentialHash == "" {
			continue
		}
		for _, handle := range entry.secrets {
			recorded := handle.Value()
			if recorded.CredentialHash != podSecret.CredentialHash {
				continue
			}
			writeBack := !capReached && !secretRecorded(entry.secrets, podSecret)
			if writeBack {
				m.writeBackSecret(ctx, imageRef, repo, podSecret)
			}
			ex.matched(RuleSecretHash, i, writeBack)
			return Decision{Verification: VerificationSecretHash}, CheckResultRecordFound, nil
		}
	}

	// 8. A Secret whose coordinates are on record with another hash: it was
	// rotated, or its hash was unknown. Past the cap it is not accepted,
	// since accepting it would need a write that the cap forbids.
	if !capReached {
		for i, podSecret := range secrets {
			if podSecret.CredentialHash == "" {
				continue
			}
			for _, handle := range entry.secrets {
				if sameSecretCoordinates(handle.Value(), podSecret) {
					m.writeBackSecret(ctx, imageRef, repo, podSecret)
					ex.matched(RuleSecretCoordinates, i, true)
					return Decision{Verification: VerificationSecretCoordinates}, CheckResultRecordFound, nil
				}
			}
		}
	}

	// 10. The pod's service account.
	if serviceAccount != nil {
		for _, handle := range entry.serviceAccounts {
			if handle.Value() == *serviceAccount {
				ex.decidedBy(RuleServiceAccount)
				return Decision{Verification: VerificationServiceAccount}, CheckResultRecordFound, nil
			}
		}
	}

	// 11. Nothing lets the pod in.
	ex.decidedBy(RuleNoMatch)
	return mustPull, CheckResultMustAuthenticate, nil
}

func sameSecretCoordinates(a, b kubeletconfig.ImagePullSecret) bool {
	return a.UID == b.UID && a.Namespace == b.Namespace && a.Name == b.Name
}

// secretRecorded reports whether s is on record with its coordinates and hash.
func secretRecorded(recorded []unique.Handle[kubeletconfig.ImagePullSecret], s kubeletconfig.ImagePullSecret) bool {
	for _, r := range recorded {
		if r.Value() == s {
			return true
		}
	}
	return false
}

// writeBackSecret stores a Secret a decision proved (same content as a
// recorded one, or a rotation of a recorded one) in the record of imageRef
// under repo. A failed write is logged and counted; the decision stands.
func (m *fileBackedManager) writeBackSecret(ctx context.Context, imageRef, repo string, secret kubeletconfig.ImagePullSecret) {
	unlock := m.recordLocks.lock(imageRef)
	defer unlock()
	current, err := m.records.mem.GetImagePulledRecord(imageRef)
	if err != nil || current == nil {
		return
	}
	entry, ok := current.CredentialMapping[repo]
	if !ok || entry.NodePodsAccessible || len(entry.KubernetesSecrets) >= maxSecretsPerEntry {
		// The record changed since the decision read it.
		return
	}
	updated, changed := withCredentials(current, imageRef, repo, &kubeletconfig.ImagePullCredentials{
		KubernetesSecrets: []kubeletconfig.ImagePullSecret{secret},
	})
	if !changed {
		return
	}
	if m.readOnly {
		// Dry runs decide as the kubelet would but change nothing.
		return
	}
	if err := m.records.WriteImagePulledRecord(updated); err != nil {
		m.metrics.recordWriteErrors.Inc()
		_ = m.writeFailed(ctx, err, "Failed to store a verified Secret in the image pulled record", "imageRef", imageRef,
			"secretNamespace", secret.Namespace, "secretName", secret.Name)
	}
}

// PruneUnknownRecords implements PullManager.
func (m *fileBackedManager) PruneUnknownRecords(ctx context.Context, presentImageRefs []string, until time.Time) ([]string, error) {
	logger := klog.FromContext(ctx)
	if m.readOnly {
		return nil, ErrReadOnly
	}
	present := make(map[string]struct{}, len(presentImageRefs))
	for _, ref := range presentImageRefs {
		present[ref] = struct{}{}
	}
	var removed []string
	var errs []error
	for _, imageRef := range m.records.mem.imageRefs() {
		if _, ok := present[imageRef]; ok {
			continue
		}
		if m.pruneRecord(ctx, imageRef, until, &errs) {
			removed = append(removed, imageRef)
		}
	}
	if len(removed) > 0 {
		logger.V(2).Info("Pruned image pulled records of images no longer present", "count", len(removed))
	}
	return removed, errors.Join(errs...)
}

// pruneRecord deletes the record of imageRef if it is still older than until
// and no pull that could refresh it is in flight.
func (m *fileBackedManager) pruneRecord(ctx context.Context, imageRef string, until time.Time, errs *[]error) bool {
	unlock := m.recordLocks.lock(imageRef)
	defer unlock()
	record, err := m.records.mem.GetImagePulledRecord(imageRef)
	if err != nil || record == nil {
		return false
	}
	// A record refreshed after the cut-off belongs to a pull that raced the
	// image listing: the image is back.
	if !record.LastUpdatedTime.Time.Before(until) {
		return false
	}
	m.pullsMu.Lock()
	busy := false
	if len(record.CredentialMapping) == 0 {
		busy = len(m.pullsByRepo) > 0
	}
	for repo := range record.CredentialMapping {
		if m.pullsByRepo[repo] > 0 {
			busy = true
			break
		}
	}
	m.pullsMu.Unlock()
	if busy {
		return false
	}
	if err := m.records.DeleteImagePulledRecord(imageRef); err != nil {
		m.metrics.recordWriteErrors.Inc()
		*errs = append(*errs, m.writeFailed(ctx, err, "Failed to prune image pulled record", "imageRef", imageRef))
		return false
	}
	OnDiskPulledRecords.Dec()
	m.updateUsage()
	return true
}

// stamp returns the lastUpdatedTime for a record written now: the current
// time rounded up to a whole second, the precision the file keeps. Rounding
// up means a record never looks older than it is, so a prune whose cut-off
// was taken just before a refresh (in the same second) cannot delete it,
// before or after a restart.
func (m *fileBackedManager) stamp() metav1.Time {
	now := m.clock.Now()
	if rounded := now.Truncate(time.Second); !rounded.Equal(now) {
		now = rounded.Add(time.Second)
	}
	return metav1.NewTime(now.UTC())
}

// withRuntimeNames returns a copy of record, whose mapping is empty, with
// an empty entry for every name the runtime has for its image.
func (m *fileBackedManager) withRuntimeNames(ctx context.Context, record *kubeletconfig.ImagePulledRecord) (*kubeletconfig.ImagePulledRecord, error) {
	images, err := m.listImages(ctx, 1)
	if err != nil {
		return nil, fmt.Errorf("listing the runtime's names of %q, whose record has an empty mapping: %w", record.ImageRef, err)
	}
	for _, img := range images {
		if img.ID != record.ImageRef {
			continue
		}
		out := &kubeletconfig.ImagePulledRecord{
			LastUpdatedTime:   record.LastUpdatedTime,
			ImageRef:          record.ImageRef,
			CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{},
		}
		for _, name := range append(slices.Clone(img.RepoTags), img.RepoDigests...) {
			if repo, err := m.repo(name); err == nil {
				out.CredentialMapping[repo] = kubeletconfig.ImagePullCredentials{}
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("the runtime does not list %q, whose record has an empty mapping", record.ImageRef)
}

// tightenLooseModes sets the mode of the record and intent files that load
// found looser than 0600 (the walk saw each file's mode when it read it, so
// this costs nothing when all is well), and says so once: a file anyone
// could read or write is still checked like any other.
func (m *fileBackedManager) tightenLooseModes(ctx context.Context) {
	logger := klog.FromContext(ctx)
	disk, ok := m.records.disk.(*fsRecords)
	if !ok || len(disk.loose) == 0 {
		return
	}
	var tightened []string
	var errs []error
	for _, rel := range disk.loose {
		if err := m.store.TightenFileMode(rel); err != nil {
			errs = append(errs, err)
			continue
		}
		tightened = append(tightened, rel)
	}
	disk.loose = nil
	if len(tightened) > 0 {
		logger.Info("Tightened the mode of image pull record files", "mode", imagepullrecords.FileMode, "files", tightened)
	}
	if err := errors.Join(errs...); err != nil {
		logger.Error(err, "Failed to tighten the mode of image pull record files")
	}
}
