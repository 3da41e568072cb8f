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

package plugin

import (
	"sync"
	"time"

	"k8s.io/utils/clock"

	"k8s.io/kubernetes/pkg/credentialprovider"
)

// maxCacheEntries bounds each provider's response cache. Image keys are
// pod-controlled strings, so the cache must not grow with them; an LRU
// bounds it without a sweeping goroutine, and drops expired entries when a
// lookup meets them. 1024 is several times the images a node runs.
const maxCacheEntries = 1024

// cacheKey is one cached response: the response's cacheKeyType, the image
// or registry it was cached for (empty for Global), and who it was obtained
// for (principal.cacheKey: empty for node-wide responses).
type cacheKey struct {
	keyType   cacheKeyType
	target    string
	principal string
}

// cacheEntry is a cached response: the credentials as a keyring (looked up
// for each image it serves, as a Registry or Global response serves many),
// tracked with the principal's source.
type cacheEntry struct {
	expiresAt time.Time
	keyring   *credentialprovider.BasicDockerKeyring
}

// responseCache is one provider's in-memory response cache. It is safe for
// concurrent use.
type responseCache struct {
	clock clock.PassiveClock

	mu      sync.Mutex
	entries *lru[cacheKey, cacheEntry]
}

func newResponseCache(c clock.PassiveClock, size int) *responseCache {
	return &responseCache{clock: c, entries: newLRU[cacheKey, cacheEntry](size)}
}

// get returns the cached credentials for image (whose registry is
// registry) obtained for principal: an Image entry first, then Registry,
// then Global. Expired entries met on the way are dropped.
func (c *responseCache) get(image, registry, principal string) (*credentialprovider.BasicDockerKeyring, bool) {
	now := c.clock.Now()
	keys := [...]cacheKey{
		{keyType: cacheKeyImage, target: image, principal: principal},
		{keyType: cacheKeyRegistry, target: registry, principal: principal},
		{keyType: cacheKeyGlobal, principal: principal},
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		e, ok := c.entries.get(k)
		if !ok {
			continue
		}
		if !now.Before(e.expiresAt) {
			c.entries.remove(k)
			continue
		}
		return e.keyring, true
	}
	return nil, false
}

// add caches keyring for ttl under the key keyType selects. A ttl of 0 (or
// less) caches nothing.
func (c *responseCache) add(keyType cacheKeyType, image, registry, principal string, keyring *credentialprovider.BasicDockerKeyring, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	k := cacheKey{keyType: keyType, principal: principal}
	switch keyType {
	case cacheKeyImage:
		k.target = image
	case cacheKeyRegistry:
		k.target = registry
	}
	expiresAt := c.clock.Now().Add(ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries.add(k, cacheEntry{expiresAt: expiresAt, keyring: keyring})
}

// len returns the number of entries, expired ones included.
func (c *responseCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries.len()
}

// lru is a map bounded to max entries that evicts the least recently used
// one. It is not safe for concurrent use. Written here rather than taken
// from k8s.io/utils/lru, whose interface{} keys would allocate on every
// lookup of a struct key.
type lru[K comparable, V any] struct {
	max   int
	items map[K]*lruNode[K, V]
	// root is the sentinel of a circular list: root.next is the most
	// recently used node, root.prev the least.
	root lruNode[K, V]
}

type lruNode[K comparable, V any] struct {
	key        K
	value      V
	prev, next *lruNode[K, V]
}

func newLRU[K comparable, V any](maxEntries int) *lru[K, V] {
	maxEntries = max(maxEntries, 1)
	l := &lru[K, V]{max: maxEntries, items: make(map[K]*lruNode[K, V])}
	l.root.next, l.root.prev = &l.root, &l.root
	return l
}

func (l *lru[K, V]) unlink(n *lruNode[K, V]) {
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
}

func (l *lru[K, V]) pushFront(n *lruNode[K, V]) {
	n.prev, n.next = &l.root, l.root.next
	l.root.next.prev = n
	l.root.next = n
}

// get returns the value of k and marks it most recently used.
func (l *lru[K, V]) get(k K) (V, bool) {
	n, ok := l.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	if l.root.next != n {
		l.unlink(n)
		l.pushFront(n)
	}
	return n.value, true
}

// add sets k to v, most recently used, evicting the least recently used
// entry when the map is full.
func (l *lru[K, V]) add(k K, v V) {
	if n, ok := l.items[k]; ok {
		n.value = v
		l.unlink(n)
		l.pushFront(n)
		return
	}
	if len(l.items) >= l.max {
		oldest := l.root.prev
		l.unlink(oldest)
		delete(l.items, oldest.key)
	}
	n := &lruNode[K, V]{key: k, value: v}
	l.items[k] = n
	l.pushFront(n)
}

// remove deletes k.
func (l *lru[K, V]) remove(k K) {
	if n, ok := l.items[k]; ok {
		l.unlink(n)
		delete(l.items, k)
	}
}

func (l *lru[K, V]) len() int { return len(l.items) }
