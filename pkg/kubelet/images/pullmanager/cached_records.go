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
	"k8s.io/imagepullrecords"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/util/parsers"
)

// cachedRecords composes the file store (the source of truth) with the
// in-memory layer (what decisions read). Writes reach the disk first and
// memory only once they are durable; a delete that fails on disk leaves the
// entry in memory too, so memory never claims less than the disk holds.
type cachedRecords struct {
	disk RecordsStore
	mem  *memoryRecords
}

var _ RecordsStore = &cachedRecords{}

// NewCachedRecordsStore composes disk with an in-memory layer loaded from
// it. Broken files are remembered as poisoned names and returned.
func NewCachedRecordsStore(disk RecordsStore) (RecordsStore, []*imagepullrecords.FileError, error) {
	c := &cachedRecords{disk: disk, mem: newMemoryRecords()}
	loaded, err := c.load()
	if err != nil {
		return nil, nil, err
	}
	return c, loaded.broken, nil
}

// loadResult is what loading found on disk.
type loadResult struct {
	// broken are the files that failed a check; their names are poisoned.
	broken []*imagepullrecords.FileError
	// staleRecords are records of an older version or with familiar-name
	// keys, normalised, for a writer to rewrite.
	staleRecords []*kubeletconfig.ImagePulledRecord
	// staleIntents are images whose intent file is of an older version.
	staleIntents []string
	// records and intents count the files that decoded.
	records, intents int
}

// load fills memory from disk: records with normalised credentialMapping
// keys, intents, and the poisoned names of broken files.
func (c *cachedRecords) load() (loadResult, error) {
	var res loadResult
	// Records share few repository names: parse each distinct key once.
	parsedKeys := map[string]string{}
	repositoryName := func(key string) (string, error) {
		if repo, ok := parsedKeys[key]; ok {
			return repo, nil
		}
		repo, err := parsers.RepositoryName(key)
		if err == nil {
			parsedKeys[key] = repo
		}
		return repo, err
	}
	addRecord := func(record *kubeletconfig.ImagePulledRecord, current bool) {
		normalized, changed := normalizeRecordWith(record, repositoryName)
		_ = c.mem.WriteImagePulledRecord(normalized)
		res.records++
		if changed || !current {
			res.staleRecords = append(res.staleRecords, normalized)
		}
	}
	addIntent := func(intent *kubeletconfig.ImagePullIntent, current bool) {
		_ = c.mem.WriteImagePullIntent(intent.Image)
		res.intents++
		if !current {
			res.staleIntents = append(res.staleIntents, intent.Image)
		}
	}
	var badRecords, badIntents []*imagepullrecords.FileError
	var err error
	if files, ok := c.disk.(*fsRecords); ok {
		// The file store knows each file's version, which migration needs.
		if badRecords, err = files.walkRecords(addRecord); err != nil {
			return res, err
		}
		if badIntents, err = files.walkIntents(addIntent); err != nil {
			return res, err
		}
	} else {
		var records []*kubeletconfig.ImagePulledRecord
		var intents []*kubeletconfig.ImagePullIntent
		if records, badRecords, err = c.disk.ListImagePulledRecords(); err != nil {
			return res, err
		}
		if intents, badIntents, err = c.disk.ListImagePullIntents(); err != nil {
			return res, err
		}
		for _, r := range records {
			addRecord(r, true)
		}
		for _, i := range intents {
			addIntent(i, true)
		}
	}
	for _, b := range badRecords {
		if b.Hash != "" {
			c.mem.poisonRecord(b.Hash)
		}
	}
	for _, b := range badIntents {
		if b.Hash != "" {
			c.mem.poisonIntent(b.Hash)
		}
	}
	res.broken = append(badRecords, badIntents...)
	return res, nil
}

func (c *cachedRecords) ListImagePullIntents() ([]*kubeletconfig.ImagePullIntent, []*imagepullrecords.FileError, error) {
	return c.mem.ListImagePullIntents()
}

func (c *cachedRecords) ImagePullIntentExists(image string) (bool, error) {
	return c.mem.ImagePullIntentExists(image)
}

func (c *cachedRecords) WriteImagePullIntent(image string) error {
	if err := c.disk.WriteImagePullIntent(image); err != nil {
		return err
	}
	return c.mem.WriteImagePullIntent(image)
}

func (c *cachedRecords) DeleteImagePullIntent(image string) error {
	if err := c.disk.DeleteImagePullIntent(image); err != nil {
		return err
	}
	return c.mem.DeleteImagePullIntent(image)
}

func (c *cachedRecords) ListImagePulledRecords() ([]*kubeletconfig.ImagePulledRecord, []*imagepullrecords.FileError, error) {
	return c.mem.ListImagePulledRecords()
}

func (c *cachedRecords) GetImagePulledRecord(imageRef string) (*kubeletconfig.ImagePulledRecord, error) {
	return c.mem.GetImagePulledRecord(imageRef)
}

func (c *cachedRecords) WriteImagePulledRecord(record *kubeletconfig.ImagePulledRecord) error {
	if err := c.disk.WriteImagePulledRecord(record); err != nil {
		return err
	}
	return c.mem.WriteImagePulledRecord(record)
}

func (c *cachedRecords) DeleteImagePulledRecord(imageRef string) error {
	if err := c.disk.DeleteImagePulledRecord(imageRef); err != nil {
		return err
	}
	return c.mem.DeleteImagePulledRecord(imageRef)
}
