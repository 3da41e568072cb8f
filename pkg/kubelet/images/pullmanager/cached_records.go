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
// it. Broken files are remembered as poisoned names.
func NewCachedRecordsStore(disk RecordsStore) (RecordsStore, []*imagepullrecords.FileError, error) {
	c := &cachedRecords{disk: disk, mem: newMemoryRecords()}
	bad, err := c.load()
	if err != nil {
		return nil, nil, err
	}
	return c, bad, nil
}

// load fills memory from disk and returns the broken files.
func (c *cachedRecords) load() ([]*imagepullrecords.FileError, error) {
	records, badRecords, err := c.disk.ListImagePulledRecords()
	if err != nil {
		return nil, err
	}
	intents, badIntents, err := c.disk.ListImagePullIntents()
	if err != nil {
		return nil, err
	}
	for _, r := range records {
		_ = c.mem.WriteImagePulledRecord(r)
	}
	for _, b := range badRecords {
		if b.Hash != "" {
			c.mem.poisonRecord(b.Hash)
		}
	}
	for _, i := range intents {
		_ = c.mem.WriteImagePullIntent(i.Image)
	}
	for _, b := range badIntents {
		if b.Hash != "" {
			c.mem.poisonIntent(b.Hash)
		}
	}
	return append(badRecords, badIntents...), nil
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
