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

package credentialprovider

import (
	"path"
	"slices"
	"strings"
	"sync"

	"k8s.io/kubernetes/pkg/util/parsers"
)

const (
	// dockerHubHost is the registry host of normalised Docker Hub images.
	dockerHubHost = "docker.io"
	// legacyDockerHubHost is how docker configs name Docker Hub
	// (`https://index.docker.io/v1/`).
	legacyDockerHubHost = "index.docker.io"
)

// BasicDockerKeyring holds credentials from docker configs, each tracked
// with the source it was added with. The zero value is an empty keyring.
// It is safe for concurrent use.
type BasicDockerKeyring struct {
	mu sync.RWMutex
	// entries is kept sorted most specific key first (see the package doc),
	// so Lookup needs no sort.
	entries []*keyringEntry
	// byKey indexes entries by canonical key.
	byKey map[string]*keyringEntry
}

// keyringEntry is one canonical registry key and its credentials in the
// order they were added.
type keyringEntry struct {
	key   registryKey
	creds []TrackedAuthConfig
}

// Add adds every entry of cfg, tracked with src (nil for node-wide
// credentials). src is copied. Keys that cannot match any image (no host)
// are ignored.
func (dk *BasicDockerKeyring) Add(src *CredentialSource, cfg DockerConfig) {
	src = copySource(src)
	// Map order is random; sorting keeps the order of two keys that
	// canonicalise alike (`reg.example`, `https://reg.example/`) stable.
	locations := make([]string, 0, len(cfg))
	for loc := range cfg {
		locations = append(locations, loc)
	}
	slices.Sort(locations)

	dk.mu.Lock()
	defer dk.mu.Unlock()
	if dk.byKey == nil {
		dk.byKey = make(map[string]*keyringEntry)
	}
	for _, loc := range locations {
		key, ok := parseRegistryKey(loc)
		if !ok {
			continue
		}
		e, found := dk.byKey[key.canonical]
		if !found {
			e = &keyringEntry{key: key}
			dk.byKey[key.canonical] = e
			dk.entries = append(dk.entries, e)
		}
		e.creds = append(e.creds, NewTrackedAuthConfig(cfg[loc].AuthConfig(), src))
	}
	slices.SortStableFunc(dk.entries, func(a, b *keyringEntry) int { return compareSpecificity(a.key, b.key) })
}

// Lookup returns every credential whose key matches image, most specific
// first. A nil keyring is empty.
func (dk *BasicDockerKeyring) Lookup(image string) ([]TrackedAuthConfig, bool) {
	if dk == nil {
		return nil, false
	}
	target, ok := parseImage(image)
	if !ok {
		return nil, false
	}
	out := dk.lookupKey(target)
	return out, len(out) > 0
}

// lookupKey returns every credential whose key matches target, most
// specific first.
func (dk *BasicDockerKeyring) lookupKey(target registryKey) []TrackedAuthConfig {
	dk.mu.RLock()
	defer dk.mu.RUnlock()
	var out []TrackedAuthConfig
	for _, e := range dk.entries {
		if e.key.matches(target) {
			out = append(out, e.creds...)
		}
	}
	return out
}

// UnionDockerKeyring looks up every keyring in order and concatenates their
// results, so earlier keyrings' credentials are tried first (pod
// credentials before node-wide ones). nil members are skipped.
type UnionDockerKeyring []DockerKeyring

// Lookup concatenates the members' results in order.
func (k UnionDockerKeyring) Lookup(image string) ([]TrackedAuthConfig, bool) {
	var out []TrackedAuthConfig
	for _, member := range k {
		if member == nil {
			continue
		}
		creds, _ := member.Lookup(image)
		out = append(out, creds...)
	}
	return out, len(out) > 0
}

func copySource(src *CredentialSource) *CredentialSource {
	if src == nil {
		return nil
	}
	out := &CredentialSource{}
	if src.Secret != nil {
		s := *src.Secret
		out.Secret = &s
	}
	if src.ServiceAccount != nil {
		sa := *src.ServiceAccount
		out.ServiceAccount = &sa
	}
	return out
}

// registryKey is a parsed docker config key or image location.
type registryKey struct {
	// canonical is host[:port][/path], lower-case host, without scheme.
	canonical string
	// labels are the host's dot-separated labels (a bracketed IPv6
	// address is one label).
	labels []string
	port   string
	path   []string
	// globs counts the labels with glob characters.
	globs int
}

// parseRegistryKey parses a docker config key: scheme dropped, a path that
// is only an API version dropped, index.docker.io read as docker.io.
func parseRegistryKey(loc string) (registryKey, bool) {
	s := strings.TrimSpace(loc)
	if _, rest, found := strings.Cut(s, "://"); found {
		s = rest
	}
	hostPort, rawPath, _ := strings.Cut(s, "/")
	segments := splitPath(rawPath)
	if len(segments) == 1 && (segments[0] == "v1" || segments[0] == "v2") {
		segments = nil
	}
	key, ok := parseHostPort(hostPort)
	if !ok {
		return registryKey{}, false
	}
	if key.globs == 0 && len(key.labels) == 3 && strings.Join(key.labels, ".") == legacyDockerHubHost {
		key.labels = []string{"docker", "io"}
	}
	key.path = segments
	key.canonical = key.hostString()
	if len(segments) > 0 {
		key.canonical += "/" + strings.Join(segments, "/")
	}
	return key, true
}

// parseImage normalises image (`busybox:1` -> `docker.io/library/busybox`)
// and parses the result as a location.
func parseImage(image string) (registryKey, bool) {
	repo, err := parsers.RepositoryName(image)
	if err != nil {
		return registryKey{}, false
	}
	hostPort, rawPath, _ := strings.Cut(repo, "/")
	key, ok := parseHostPort(hostPort)
	if !ok {
		return registryKey{}, false
	}
	key.path = splitPath(rawPath)
	return key, true
}

// parseHostPort splits host[:port] (or [ipv6][:port]) and lower-cases the
// host: host names are case-insensitive.
func parseHostPort(hostPort string) (registryKey, bool) {
	host, port := hostPort, ""
	if strings.HasPrefix(hostPort, "[") {
		end := strings.Index(hostPort, "]")
		if end < 0 {
			return registryKey{}, false
		}
		host = hostPort[:end+1]
		rest := hostPort[end+1:]
		if rest != "" {
			p, found := strings.CutPrefix(rest, ":")
			if !found {
				return registryKey{}, false
			}
			port = p
		}
	} else if h, p, found := strings.Cut(hostPort, ":"); found {
		host, port = h, p
	}
	host = strings.ToLower(host)
	if host == "" {
		return registryKey{}, false
	}
	var labels []string
	if strings.HasPrefix(host, "[") {
		labels = []string{host}
	} else {
		labels = strings.Split(host, ".")
	}
	globs := 0
	for _, l := range labels {
		if strings.ContainsAny(l, "*?[") {
			globs++
		}
	}
	return registryKey{labels: labels, port: port, globs: globs}, true
}

func (k registryKey) hostString() string {
	h := strings.Join(k.labels, ".")
	if k.port != "" {
		h += ":" + k.port
	}
	return h
}

// splitPath returns the non-empty segments of p.
func splitPath(p string) []string {
	var out []string
	for seg := range strings.SplitSeq(p, "/") {
		if seg != "" {
			out = append(out, seg)
		}
	}
	return out
}

// matches reports whether the key k matches the image location target:
// host label by label (globs per label), equal ports, and k's path a
// segment prefix of target's.
func (k registryKey) matches(target registryKey) bool {
	if len(k.labels) != len(target.labels) || k.port != target.port || len(k.path) > len(target.path) {
		return false
	}
	for i, pattern := range k.labels {
		if !strings.ContainsAny(pattern, "*?[") {
			if pattern != target.labels[i] {
				return false
			}
			continue
		}
		// path.Match never crosses a '/', and labels contain none; a bad
		// pattern matches nothing.
		if ok, err := path.Match(pattern, target.labels[i]); err != nil || !ok {
			return false
		}
	}
	for i, seg := range k.path {
		if seg != target.path[i] {
			return false
		}
	}
	return true
}

// compareSpecificity orders the more specific key first: more path
// segments, then fewer glob labels, then reverse lexical order.
func compareSpecificity(a, b registryKey) int {
	if len(a.path) != len(b.path) {
		return len(b.path) - len(a.path)
	}
	if a.globs != b.globs {
		return a.globs - b.globs
	}
	return strings.Compare(b.canonical, a.canonical)
}
