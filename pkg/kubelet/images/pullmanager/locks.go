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
	"sync"
)

// defaultLockStripes is the number of mutexes in a striped lock set. Keys
// come from pods, so locks are striped over a fixed array rather than kept
// per key: memory stays bounded whatever pods ask for.
const defaultLockStripes = 64

// stripedLocks maps keys onto a fixed set of mutexes. Two keys may share a
// mutex; callers never hold two mutexes of one set at once, so sharing
// costs only contention, never a deadlock.
type stripedLocks struct {
	seed  maphash.Seed
	locks []sync.Mutex
}

func newStripedLocks(n int) *stripedLocks {
	if n <= 0 {
		n = defaultLockStripes
	}
	return &stripedLocks{seed: maphash.MakeSeed(), locks: make([]sync.Mutex, n)}
}

// lock locks the mutex of key and returns its unlock function.
func (s *stripedLocks) lock(key string) func() {
	m := &s.locks[maphash.String(s.seed, key)%uint64(len(s.locks))]
	m.Lock()
	return m.Unlock
}
