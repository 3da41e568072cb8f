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
	"strings"
	"testing"

	dockerref "github.com/distribution/reference"
)

// entryErrors are the reasons an entry can be rejected for; every rejection
// must be one of them.
var entryErrors = []error{
	ErrAllowlistEntryEmpty,
	ErrAllowlistEntryWhitespace,
	ErrAllowlistEntryBareWildcard,
	ErrAllowlistEntryMisplacedWildcard,
	ErrAllowlistEntryTagOrDigest,
	ErrAllowlistEntryUnparsable,
	ErrAllowlistEntryNotNormalized,
	ErrAllowlistEntryPrefixNotRegistry,
}

// FuzzParseAllowlistEntry checks that ParseAllowlistEntry never panics, that
// every rejection is classified, and that an accepted entry re-validates and
// holds a normalised repository name. Seeds live in
// testdata/fuzz/FuzzParseAllowlistEntry; run with
// go test -fuzz=FuzzParseAllowlistEntry ./pkg/kubelet/apis/config/validation.
func FuzzParseAllowlistEntry(f *testing.F) {
	for _, seed := range []string{"docker.io/library/alpine", "reg.example/a/b/*", "alpine", "/*", "*"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, entry string) {
		got, err := ParseAllowlistEntry(entry)
		if err != nil {
			classified := false
			for _, reason := range entryErrors {
				classified = classified || errors.Is(err, reason)
			}
			if !classified {
				t.Fatalf("ParseAllowlistEntry(%q) error %q wraps none of the ErrAllowlistEntry* values", entry, err)
			}
			if !strings.Contains(err.Error(), "entry ") {
				t.Errorf("ParseAllowlistEntry(%q) error %q does not name the entry", entry, err)
			}
			return
		}

		if got.String() != entry {
			t.Fatalf("ParseAllowlistEntry(%q) = %+v, whose String() %q is not the entry", entry, got, got.String())
		}
		again, err := ParseAllowlistEntry(got.String())
		if err != nil || again != got {
			t.Fatalf("re-parsing %q gave %+v, %v; want %+v, nil", got.String(), again, err, got)
		}

		// The repository is a normalised name: the parser gives it back
		// unchanged (a prefix's path is checked with a child appended).
		name := got.Repository
		if got.Prefix {
			name += "/x"
		}
		named, err := dockerref.ParseNormalizedNamed(name)
		if err != nil {
			t.Fatalf("accepted entry %q: %q does not parse: %v", entry, name, err)
		}
		if _, tagged := named.(dockerref.Tagged); tagged {
			t.Fatalf("accepted entry %q has a tag", entry)
		}
		if _, digested := named.(dockerref.Digested); digested {
			t.Fatalf("accepted entry %q has a digest", entry)
		}
		if named.Name() != name {
			t.Fatalf("accepted entry %q: %q normalises to %q", entry, name, named.Name())
		}

		if got.Prefix {
			if !got.Matches(got.Repository+"/x") || got.Matches(got.Repository) {
				t.Fatalf("prefix entry %q: Matches is wrong for its own children or itself", entry)
			}
		} else if !got.Matches(got.Repository) || got.Matches(got.Repository+"/x") {
			t.Fatalf("exact entry %q: Matches is wrong for itself or a child", entry)
		}
	})
}
