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

// RegistryPattern is a parsed registry key: a docker config key, or an entry
// of a credential provider's matchImages. It matches images by the rules in
// the package doc (per-label host globs, equal ports, path prefix per
// segment), the rules a keyring uses, so that plugins and docker configs can
// never disagree about which images a pattern covers.
type RegistryPattern struct {
	key registryKey
}

// ParseRegistryPattern parses s as a registry key (see the package doc). It
// returns false when s has no host and so can match no image.
func ParseRegistryPattern(s string) (RegistryPattern, bool) {
	key, ok := parseRegistryKey(s)
	return RegistryPattern{key: key}, ok
}

// Matches reports whether the pattern matches the image at loc. The zero
// RegistryPattern matches nothing.
func (p RegistryPattern) Matches(loc ImageLocation) bool {
	if len(p.key.labels) == 0 || len(loc.key.labels) == 0 {
		return false
	}
	return p.key.matches(loc.key)
}

// String returns the canonical form of the pattern: host[:port][/path],
// lower-case host, without scheme.
func (p RegistryPattern) String() string { return p.key.canonical }

// ImageLocation is where a normalised image lives: its registry host, port
// and repository path. Parse an image once and match it against many
// patterns.
type ImageLocation struct {
	key      registryKey
	registry string
}

// ParseImageLocation normalises image (`busybox:1` ->
// `docker.io/library/busybox`) and returns its location. It returns false
// when image is not a valid image reference.
func ParseImageLocation(image string) (ImageLocation, bool) {
	key, ok := parseImage(image)
	if !ok {
		return ImageLocation{}, false
	}
	return ImageLocation{key: key, registry: key.hostString()}, true
}

// Registry returns the image's registry as host[:port] with a lower-case
// host, after normalisation: `docker.io` for `busybox`.
func (l ImageLocation) Registry() string { return l.registry }

// LookupLocation is Lookup for an image already parsed with
// ParseImageLocation, for callers that match one image against many
// keyrings. A nil keyring is empty.
func (dk *BasicDockerKeyring) LookupLocation(loc ImageLocation) []TrackedAuthConfig {
	if dk == nil || len(loc.key.labels) == 0 {
		return nil
	}
	return dk.lookupKey(loc.key)
}
