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
	"hash/maphash"
	"sync/atomic"

	"k8s.io/kubernetes/pkg/util/parsers"
)

// defaultNameCacheSlots sizes the parsed-name cache: a few times the images
// a node runs, so that collisions are rare.
const defaultNameCacheSlots = 4096

// parsedName is one cached repo(image).
type parsedName struct {
	image string
	repo  string
}

// nameCache caches repo(image) in a fixed array of slots indexed by a hash
// of the image string. Image strings come from pods, so the cache is bounded
// by construction: a new name evicts whatever shared its slot. Reads and
// writes are single atomic pointer operations, so concurrent decisions
// never wait on each other here.
type nameCache struct {
	seed  maphash.Seed
	slots []atomic.Pointer[parsedName]
}

func newNameCache(slots int) *nameCache {
	if slots <= 0 {
		slots = defaultNameCacheSlots
	}
	return &nameCache{seed: maphash.MakeSeed(), slots: make([]atomic.Pointer[parsedName], slots)}
}

// repo returns repo(image), parsing it only when the cache misses. Parse
// errors are not cached: an invalid name is rare and costs a parse each time.
func (c *nameCache) repo(image string) (string, error) {
	slot := &c.slots[maphash.String(c.seed, image)%uint64(len(c.slots))]
	if p := slot.Load(); p != nil && p.image == image {
		return p.repo, nil
	}
	repo, err := parsers.RepositoryName(image)
	if err != nil {
		return "", err
	}
	slot.Store(&parsedName{image: image, repo: repo})
	return repo, nil
}
