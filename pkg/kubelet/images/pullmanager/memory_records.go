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
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/imagepullrecords"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/util/parsers"
)

// memoryShards is the number of independently locked parts of the record
// map, so that decisions on different images rarely touch one lock.
const memoryShards = 64

// memRecord is the in-memory form of a record, compact because every record
// of the node lives in memory: repository names and credentials are
// interned (unique handles, shared by every record that holds them and
// reclaimed when none does), times are integers. A memRecord is immutable;
// a write stores a new one.
type memRecord struct {
	imageRef string
	// updated is lastUpdatedTime in Unix nanoseconds.
	updated int64
	// entries hold credentialMapping, one per repository name.
	entries []memEntry
}

// memEntry is one credentialMapping entry.
type memEntry struct {
	repo               unique.Handle[string]
	nodePodsAccessible bool
	secrets            []unique.Handle[kubeletconfig.ImagePullSecret]
	serviceAccounts    []unique.Handle[kubeletconfig.ImagePullServiceAccount]
}

// entry returns the entry for repo, or nil.
func (r *memRecord) entry(repo string) *memEntry {
	for i := range r.entries {
		if r.entries[i].repo.Value() == repo {
			return &r.entries[i]
		}
	}
	return nil
}

func newMemRecord(in *kubeletconfig.ImagePulledRecord) *memRecord {
	out := &memRecord{imageRef: in.ImageRef, updated: in.LastUpdatedTime.UnixNano()}
	if len(in.CredentialMapping) > 0 {
		out.entries = make([]memEntry, 0, len(in.CredentialMapping))
	}
	for repo, creds := range in.CredentialMapping {
		e := memEntry{repo: unique.Make(repo), nodePodsAccessible: creds.NodePodsAccessible}
		if len(creds.KubernetesSecrets) > 0 {
			e.secrets = make([]unique.Handle[kubeletconfig.ImagePullSecret], len(creds.KubernetesSecrets))
			for i, s := range creds.KubernetesSecrets {
				e.secrets[i] = unique.Make(s)
			}
		}
		if len(creds.KubernetesServiceAccounts) > 0 {
			e.serviceAccounts = make([]unique.Handle[kubeletconfig.ImagePullServiceAccount], len(creds.KubernetesServiceAccounts))
			for i, sa := range creds.KubernetesServiceAccounts {
				e.serviceAccounts[i] = unique.Make(sa)
			}
		}
		out.entries = append(out.entries, e)
	}
	return out
}

// toConfig expands the record into the internal API type, for writers and
// listings (never for decisions).
func (r *memRecord) toConfig() *kubeletconfig.ImagePulledRecord {
	out := &kubeletconfig.ImagePulledRecord{
		ImageRef:        r.imageRef,
		LastUpdatedTime: metav1.NewTime(time.Unix(0, r.updated).UTC()),
	}
	if len(r.entries) > 0 {
		out.CredentialMapping = make(map[string]kubeletconfig.ImagePullCredentials, len(r.entries))
	}
	for _, e := range r.entries {
		creds := kubeletconfig.ImagePullCredentials{NodePodsAccessible: e.nodePodsAccessible}
		for _, s := range e.secrets {
			creds.KubernetesSecrets = append(creds.KubernetesSecrets, s.Value())
		}
		for _, sa := range e.serviceAccounts {
			creds.KubernetesServiceAccounts = append(creds.KubernetesServiceAccounts, sa.Value())
		}
		out.CredentialMapping[e.repo.Value()] = creds
	}
	return out
}

type memShard struct {
	mu      sync.RWMutex
	records map[string]*memRecord
}

// memoryRecords holds every record, intent and broken file name in memory,
// so that a decision never touches the disk and never parses JSON. It never
// evicts: a lookup that missed memory and went to disk would be slower than
// the memory the entries take.
type memoryRecords struct {
	seed   maphash.Seed
	shards [memoryShards]memShard
	count  atomic.Int64

	// poisonedCount lets decisions skip hashing the image ref when no record
	// file is broken, which is the normal case.
	poisonedCount atomic.Int64
	poisonMu      sync.RWMutex
	// poisonedRecords holds the file-name hashes of broken record files.
	poisonedRecords map[string]struct{}

	intentsMu sync.RWMutex
	// intents holds the image strings that have an intent.
	intents map[string]struct{}
	// intentRepos counts intents per repo(image).
	intentRepos map[string]int
	// brokenIntents holds the file-name hashes of broken intent files.
	brokenIntents map[string]struct{}
}

var _ RecordsStore = &memoryRecords{}

// NewMemoryRecordsStore returns an empty in-memory layer.
func NewMemoryRecordsStore() RecordsStore {
	return newMemoryRecords()
}

func newMemoryRecords() *memoryRecords {
	m := &memoryRecords{
		seed:            maphash.MakeSeed(),
		poisonedRecords: map[string]struct{}{},
		intents:         map[string]struct{}{},
		intentRepos:     map[string]int{},
		brokenIntents:   map[string]struct{}{},
	}
	for i := range m.shards {
		m.shards[i].records = map[string]*memRecord{}
	}
	return m
}

func (m *memoryRecords) shard(imageRef string) *memShard {
	return &m.shards[maphash.String(m.seed, imageRef)%memoryShards]
}

// record returns the record of imageRef for a decision: nil when absent,
// and an error wrapping ErrRecordPoisoned when its file is broken.
func (m *memoryRecords) record(imageRef string) (*memRecord, error) {
	if m.poisonedCount.Load() > 0 && m.isPoisoned(imageRef) {
		return nil, fmt.Errorf("%w: image ref %q", ErrRecordPoisoned, imageRef)
	}
	s := m.shard(imageRef)
	s.mu.RLock()
	r := s.records[imageRef]
	s.mu.RUnlock()
	return r, nil
}

func (m *memoryRecords) isPoisoned(imageRef string) bool {
	m.poisonMu.RLock()
	defer m.poisonMu.RUnlock()
	_, ok := m.poisonedRecords[imagepullrecords.KeyHash(imageRef)]
	return ok
}

func (m *memoryRecords) ListImagePullIntents() ([]*kubeletconfig.ImagePullIntent, []*imagepullrecords.FileError, error) {
	m.intentsMu.RLock()
	defer m.intentsMu.RUnlock()
	out := make([]*kubeletconfig.ImagePullIntent, 0, len(m.intents))
	for image := range m.intents {
		out = append(out, &kubeletconfig.ImagePullIntent{Image: image})
	}
	var bad []*imagepullrecords.FileError
	for hash := range m.brokenIntents {
		bad = append(bad, &imagepullrecords.FileError{
			File: imagepullrecords.IntentsDirName + "/" + imagepullrecords.FilePrefix + hash,
			Hash: hash,
			Err:  errors.New("intent file is broken"),
		})
	}
	return out, bad, nil
}

func (m *memoryRecords) ImagePullIntentExists(image string) (bool, error) {
	m.intentsMu.RLock()
	defer m.intentsMu.RUnlock()
	return m.intentExistsLocked(image), nil
}

// goodIntentExists reports whether a decodable intent for image is held.
func (m *memoryRecords) goodIntentExists(image string) bool {
	m.intentsMu.RLock()
	defer m.intentsMu.RUnlock()
	_, ok := m.intents[image]
	return ok
}

func (m *memoryRecords) intentExistsLocked(image string) bool {
	if _, ok := m.intents[image]; ok {
		return true
	}
	if len(m.brokenIntents) == 0 {
		return false
	}
	_, broken := m.brokenIntents[imagepullrecords.KeyHash(image)]
	return broken
}

// intentForRepo reports whether an intent exists for any image string whose
// repo(image) is repo, or a broken intent file for image itself.
func (m *memoryRecords) intentForRepo(image, repo string) bool {
	m.intentsMu.RLock()
	defer m.intentsMu.RUnlock()
	if m.intentRepos[repo] > 0 {
		return true
	}
	return m.intentExistsLocked(image)
}

func (m *memoryRecords) WriteImagePullIntent(image string) error {
	m.intentsMu.Lock()
	defer m.intentsMu.Unlock()
	delete(m.brokenIntents, imagepullrecords.KeyHash(image))
	if _, ok := m.intents[image]; ok {
		return nil
	}
	m.intents[image] = struct{}{}
	if repo, err := parsers.RepositoryName(image); err == nil {
		m.intentRepos[repo]++
	}
	return nil
}

func (m *memoryRecords) DeleteImagePullIntent(image string) error {
	m.intentsMu.Lock()
	defer m.intentsMu.Unlock()
	delete(m.brokenIntents, imagepullrecords.KeyHash(image))
	if _, ok := m.intents[image]; !ok {
		return nil
	}
	delete(m.intents, image)
	if repo, err := parsers.RepositoryName(image); err == nil {
		if m.intentRepos[repo] <= 1 {
			delete(m.intentRepos, repo)
		} else {
			m.intentRepos[repo]--
		}
	}
	return nil
}

func (m *memoryRecords) ListImagePulledRecords() ([]*kubeletconfig.ImagePulledRecord, []*imagepullrecords.FileError, error) {
	out := make([]*kubeletconfig.ImagePulledRecord, 0, m.count.Load())
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		for _, r := range s.records {
			out = append(out, r.toConfig())
		}
		s.mu.RUnlock()
	}
	m.poisonMu.RLock()
	defer m.poisonMu.RUnlock()
	var bad []*imagepullrecords.FileError
	for hash := range m.poisonedRecords {
		bad = append(bad, &imagepullrecords.FileError{
			File: imagepullrecords.RecordsDirName + "/" + imagepullrecords.FilePrefix + hash,
			Hash: hash,
			Err:  ErrRecordPoisoned,
		})
	}
	return out, bad, nil
}

func (m *memoryRecords) GetImagePulledRecord(imageRef string) (*kubeletconfig.ImagePulledRecord, error) {
	r, err := m.record(imageRef)
	if err != nil || r == nil {
		return nil, err
	}
	return r.toConfig(), nil
}

func (m *memoryRecords) WriteImagePulledRecord(record *kubeletconfig.ImagePulledRecord) error {
	if m.poisonedCount.Load() > 0 {
		m.poisonMu.Lock()
		hash := imagepullrecords.KeyHash(record.ImageRef)
		if _, ok := m.poisonedRecords[hash]; ok {
			delete(m.poisonedRecords, hash)
			m.poisonedCount.Add(-1)
		}
		m.poisonMu.Unlock()
	}
	r := newMemRecord(record)
	s := m.shard(record.ImageRef)
	s.mu.Lock()
	if _, ok := s.records[record.ImageRef]; !ok {
		m.count.Add(1)
	}
	s.records[record.ImageRef] = r
	s.mu.Unlock()
	return nil
}

func (m *memoryRecords) DeleteImagePulledRecord(imageRef string) error {
	s := m.shard(imageRef)
	s.mu.Lock()
	if _, ok := s.records[imageRef]; ok {
		delete(s.records, imageRef)
		m.count.Add(-1)
	}
	s.mu.Unlock()
	return nil
}

// imageRefs returns the image ref of every record held.
func (m *memoryRecords) imageRefs() []string {
	out := make([]string, 0, m.count.Load())
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		for ref := range s.records {
			out = append(out, ref)
		}
		s.mu.RUnlock()
	}
	return out
}

// poisonRecord marks the record file of hash as broken.
func (m *memoryRecords) poisonRecord(hash string) {
	m.poisonMu.Lock()
	defer m.poisonMu.Unlock()
	if _, ok := m.poisonedRecords[hash]; !ok {
		m.poisonedRecords[hash] = struct{}{}
		m.poisonedCount.Add(1)
	}
}

// poisonIntent marks the intent file of hash as broken.
func (m *memoryRecords) poisonIntent(hash string) {
	m.intentsMu.Lock()
	defer m.intentsMu.Unlock()
	m.brokenIntents[hash] = struct{}{}
}

// counts returns the number of records and intents held.
func (m *memoryRecords) counts() (records, intents int) {
	m.intentsMu.RLock()
	defer m.intentsMu.RUnlock()
	return int(m.count.Load()), len(m.intents)
}
