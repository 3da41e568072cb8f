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

package validation

import (
	"errors"
	"fmt"
	"strings"

	dockerref "github.com/distribution/reference"
)

// Errors wrapped by ParseAllowlistEntry, one per way an entry can be wrong,
// so callers can tell them apart with errors.Is.
var (
	ErrAllowlistEntryEmpty             = errors.New("is empty")
	ErrAllowlistEntryWhitespace        = errors.New("has leading or trailing whitespace")
	ErrAllowlistEntryBareWildcard      = errors.New(`is "/*" alone, which would exempt every image; put a registry before it`)
	ErrAllowlistEntryMisplacedWildcard = errors.New(`uses "*" other than as a final "/*"`)
	ErrAllowlistEntryTagOrDigest       = errors.New("has a tag or digest; entries are repository names")
	ErrAllowlistEntryUnparsable        = errors.New("is not a valid repository name")
	ErrAllowlistEntryNotNormalized     = errors.New("is not a fully qualified repository name")
	ErrAllowlistEntryPrefixNotRegistry = errors.New(`is a prefix whose first component is not a registry host (one containing "." or ":", or "localhost")`)
)

// wildcardSuffix marks a prefix entry.
const wildcardSuffix = "/*"

// AllowlistEntry is a parsed preloadedImagesVerificationAllowlist entry.
type AllowlistEntry struct {
	// Repository is the normalised repository name of an exact entry, or the
	// path before "/*" of a prefix entry.
	Repository string
	// Prefix says the entry matches every repository under Repository + "/",
	// at any depth, rather than Repository itself.
	Prefix bool
}

// String returns the entry as written in the configuration.
func (e AllowlistEntry) String() string {
	if e.Prefix {
		return e.Repository + wildcardSuffix
	}
	return e.Repository
}

// Matches reports whether repo, a normalised repository name without tag or
// digest (repo(image), see k8s.io/kubernetes/pkg/util/parsers.RepositoryName),
// is exempted by the entry. Callers must strip the tag and digest first:
// comparing raw image strings is the bug released kubelets had.
func (e AllowlistEntry) Matches(repo string) bool {
	if e.Prefix {
		return strings.HasPrefix(repo, e.Repository+"/")
	}
	return repo == e.Repository
}

// ParseAllowlistEntry validates one preloadedImagesVerificationAllowlist
// entry and returns it parsed. An invalid entry gives an error naming the
// entry and wrapping one of the ErrAllowlistEntry* values.
func ParseAllowlistEntry(entry string) (AllowlistEntry, error) {
	switch {
	case entry == "":
		return AllowlistEntry{}, entryError(entry, ErrAllowlistEntryEmpty, "")
	case strings.TrimSpace(entry) != entry:
		return AllowlistEntry{}, entryError(entry, ErrAllowlistEntryWhitespace, "")
	case entry == wildcardSuffix:
		return AllowlistEntry{}, entryError(entry, ErrAllowlistEntryBareWildcard, "")
	}

	path, prefix := strings.CutSuffix(entry, wildcardSuffix)
	if strings.Contains(path, "*") {
		return AllowlistEntry{}, entryError(entry, ErrAllowlistEntryMisplacedWildcard, "")
	}
	if !prefix {
		if err := validateExactName(entry, entry, false); err != nil {
			return AllowlistEntry{}, err
		}
		return AllowlistEntry{Repository: entry}, nil
	}

	host, rest, _ := strings.Cut(path, "/")
	// A ':' after the host or any '@' can only be a tag or a digest; say so
	// rather than report the unparsable "<path>/x" checked below.
	if strings.ContainsAny(rest, ":@") || strings.Contains(host, "@") {
		return AllowlistEntry{}, entryError(entry, ErrAllowlistEntryTagOrDigest, "")
	}
	// Without a registry host, "team/*" would be read as Docker Hub's
	// docker.io/team/... by the parser but compared against normalised names
	// that never start with "team/": require the host so entries mean what
	// they say.
	if !isRegistryHost(host) {
		return AllowlistEntry{}, entryError(entry, ErrAllowlistEntryPrefixNotRegistry, "")
	}
	if err := validateExactName(entry, path+"/x", true); err != nil {
		return AllowlistEntry{}, err
	}
	return AllowlistEntry{Repository: path, Prefix: true}, nil
}

// validateExactName checks that name parses as a docker reference without
// tag or digest whose normalised name is name itself. entry is what the user
// wrote, for the error; prefix says name is a prefix entry's path + "/x", so
// that the suggested fix is a prefix entry too.
func validateExactName(entry, name string, prefix bool) error {
	named, err := dockerref.ParseNormalizedNamed(name)
	if err != nil {
		return entryError(entry, ErrAllowlistEntryUnparsable, err.Error())
	}
	var found []string
	if tagged, ok := named.(dockerref.Tagged); ok {
		found = append(found, fmt.Sprintf("tag %q", tagged.Tag()))
	}
	if digested, ok := named.(dockerref.Digested); ok {
		found = append(found, fmt.Sprintf("digest %q", digested.Digest().String()))
	}
	if len(found) > 0 {
		return entryError(entry, ErrAllowlistEntryTagOrDigest, "found "+strings.Join(found, " and "))
	}
	if normalized := named.Name(); normalized != name {
		suggestion := normalized
		if prefix {
			suggestion = strings.TrimSuffix(normalized, "/x") + wildcardSuffix
		}
		return entryError(entry, ErrAllowlistEntryNotNormalized, fmt.Sprintf("write %q", suggestion))
	}
	return nil
}

// isRegistryHost applies the docker rule for telling a registry host from a
// Docker Hub namespace in the first path component.
func isRegistryHost(component string) bool {
	return strings.ContainsAny(component, ".:") || component == "localhost"
}

// entryError formats an entry error: 'entry "<entry>" <reason>[: <detail>]'.
func entryError(entry string, reason error, detail string) error {
	if detail == "" {
		return fmt.Errorf("entry %q %w", entry, reason)
	}
	return fmt.Errorf("entry %q %w: %s", entry, reason, detail)
}
