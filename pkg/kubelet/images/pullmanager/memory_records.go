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
	"fmt"
	"sync"

	"k8s.io/imagepullrecords"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/util/parsers"
)

// memoryRecords holds every record, intent and broken file name in memory,
// so that a decision never touches the disk and never parses JSON. It never
// evicts: a lookup that missed memory and went to disk would be slower than
// the memory the entries take. Records are immutable once stored; a write
// replaces the pointer, so readers use them without copying.
type memoryRecords struct {
	mu sync.RWMutex
	// records maps an image ref to its record.
	records map[string]*kubeletconfig.ImagePulledRecord
	// poisonedRecords holds the file-name hashes of broken record files.
	poisonedRecords map[string]struct{}
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
	return &memoryRecords{
		records:         map[string]*kubeletconfig.ImagePulledRecord{},
		poisonedRecords: map[string]struct{}{},
		intents:         map[string]struct{}{},
		intentRepos:     map[string]int{},
		brokenIntents:   map[string]struct{}{},
	}
}

func (m *memoryRecords) ListImagePullIntents() ([]*kubeletconfig.ImagePullIntent, []*imagepullrecords.FileError, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*kubeletconfig.ImagePullIntent, 0, len(m.intents))
	for image := range m.intents {
		out = append(out, &kubeletconfig.ImagePullIntent{Image: image})
	}
	var bad []*imagepullrecords.FileError
	for hash := range m.brokenIntents {
		bad = append(bad, &imagepullrecords.FileError{
			File: imagepullrecords.IntentsDirName + "/" + imagepullrecords.FilePrefix + hash,
			Hash: hash,
			Err:  fmt.Errorf("intent file is broken"),
		})
	}
	return out, bad, nil
}

func (m *memoryRecords) ImagePullIntentExists(image string) (bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.intentExistsLocked(image), nil
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
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.intentRepos[repo] > 0 {
		return true
	}
	return m.intentExistsLocked(image)
}

func (m *memoryRecords) WriteImagePullIntent(image string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
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
	m.mu.Lock()
	defer m.mu.Unlock()
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
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*kubeletconfig.ImagePulledRecord, 0, len(m.records))
	for _, r := range m.records {
		out = append(out, r)
	}
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
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.poisonedRecords) > 0 {
		if _, ok := m.poisonedRecords[imagepullrecords.KeyHash(imageRef)]; ok {
			return nil, fmt.Errorf("%w: image ref %q", ErrRecordPoisoned, imageRef)
		}
	}
	return m.records[imageRef], nil
}

func (m *memoryRecords) WriteImagePulledRecord(record *kubeletconfig.ImagePulledRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.poisonedRecords) > 0 {
		delete(m.poisonedRecords, imagepullrecords.KeyHash(record.ImageRef))
	}
	m.records[record.ImageRef] = record
	return nil
}

func (m *memoryRecords) DeleteImagePulledRecord(imageRef string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.records, imageRef)
	return nil
}

// poisonRecord marks the record file of hash as broken.
func (m *memoryRecords) poisonRecord(hash string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.poisonedRecords[hash] = struct{}{}
}

// poisonIntent marks the intent file of hash as broken.
func (m *memoryRecords) poisonIntent(hash string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.brokenIntents[hash] = struct{}{}
}

// counts returns the number of records and intents held.
func (m *memoryRecords) counts() (records, intents int) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.records), len(m.intents)
}
