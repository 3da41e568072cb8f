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
	"testing"

	"k8s.io/kubernetes/pkg/util/parsers"
)

const testDigest = "sha256:5d1f5d1f5d1f5d1f5d1f5d1f5d1f5d1f5d1f5d1f5d1f5d1f5d1f5d1f5d1f5d1f"

func TestParseAllowlistEntry(t *testing.T) {
	tests := []struct {
		name    string
		entry   string
		want    AllowlistEntry
		wantIs  error
		wantErr string
	}{
		// Valid exact entries.
		{name: "docker hub, fully qualified", entry: "docker.io/library/alpine", want: AllowlistEntry{Repository: "docker.io/library/alpine"}},
		{name: "registry with org", entry: "reg.example/org/app", want: AllowlistEntry{Repository: "reg.example/org/app"}},
		{name: "registry with port", entry: "reg.example:5000/a/b", want: AllowlistEntry{Repository: "reg.example:5000/a/b"}},
		{name: "localhost", entry: "localhost/app", want: AllowlistEntry{Repository: "localhost/app"}},
		{name: "ip and port", entry: "127.0.0.1:5000/app", want: AllowlistEntry{Repository: "127.0.0.1:5000/app"}},
		// Valid prefix entries.
		{name: "nested prefix", entry: "reg.example/a/b/*", want: AllowlistEntry{Repository: "reg.example/a/b", Prefix: true}},
		{name: "host-only prefix with port", entry: "reg.example:5000/*", want: AllowlistEntry{Repository: "reg.example:5000", Prefix: true}},
		{name: "host-only prefix", entry: "reg.example/*", want: AllowlistEntry{Repository: "reg.example", Prefix: true}},
		{name: "localhost prefix", entry: "localhost/*", want: AllowlistEntry{Repository: "localhost", Prefix: true}},
		{name: "docker hub library prefix", entry: "docker.io/library/*", want: AllowlistEntry{Repository: "docker.io/library", Prefix: true}},
		{name: "docker hub namespace prefix", entry: "docker.io/team/*", want: AllowlistEntry{Repository: "docker.io/team", Prefix: true}},

		// Invalid entries, one per rule.
		{name: "empty", entry: "", wantIs: ErrAllowlistEntryEmpty, wantErr: `entry "" is empty`},
		{name: "leading whitespace", entry: " reg.example/a", wantIs: ErrAllowlistEntryWhitespace, wantErr: `entry " reg.example/a" has leading or trailing whitespace`},
		{name: "trailing whitespace", entry: "reg.example/a\n", wantIs: ErrAllowlistEntryWhitespace, wantErr: `entry "reg.example/a\n" has leading or trailing whitespace`},
		{name: "only whitespace", entry: " ", wantIs: ErrAllowlistEntryWhitespace, wantErr: `entry " " has leading or trailing whitespace`},
		{name: "bare wildcard", entry: "/*", wantIs: ErrAllowlistEntryBareWildcard, wantErr: `entry "/*" is "/*" alone, which would exempt every image; put a registry before it`},
		{name: "star", entry: "*", wantIs: ErrAllowlistEntryMisplacedWildcard, wantErr: `entry "*" uses "*" other than as a final "/*"`},
		{name: "star in the middle", entry: "reg.example/*/x", wantIs: ErrAllowlistEntryMisplacedWildcard, wantErr: `entry "reg.example/*/x" uses "*" other than as a final "/*"`},
		{name: "partial component glob", entry: "reg.example/a*", wantIs: ErrAllowlistEntryMisplacedWildcard, wantErr: `entry "reg.example/a*" uses "*" other than as a final "/*"`},
		{name: "double star", entry: "reg.example/a/**", wantIs: ErrAllowlistEntryMisplacedWildcard, wantErr: `entry "reg.example/a/**" uses "*" other than as a final "/*"`},
		{name: "two wildcards", entry: "reg.example/*/*", wantIs: ErrAllowlistEntryMisplacedWildcard, wantErr: `entry "reg.example/*/*" uses "*" other than as a final "/*"`},
		{name: "host glob", entry: "*.example/app", wantIs: ErrAllowlistEntryMisplacedWildcard, wantErr: `entry "*.example/app" uses "*" other than as a final "/*"`},
		{name: "tag", entry: "reg.example/app:1", wantIs: ErrAllowlistEntryTagOrDigest, wantErr: `entry "reg.example/app:1" has a tag or digest; entries are repository names: found tag "1"`},
		{name: "digest", entry: "reg.example/app@" + testDigest, wantIs: ErrAllowlistEntryTagOrDigest, wantErr: `entry "reg.example/app@` + testDigest + `" has a tag or digest; entries are repository names: found digest "` + testDigest + `"`},
		{name: "tag and digest", entry: "reg.example/app:1@" + testDigest, wantIs: ErrAllowlistEntryTagOrDigest, wantErr: `entry "reg.example/app:1@` + testDigest + `" has a tag or digest; entries are repository names: found tag "1" and digest "` + testDigest + `"`},
		// A bare host:port reads as Docker Hub image "reg.example" tagged
		// "5000"; the message shows what the parser saw.
		{name: "host and port without path", entry: "reg.example:5000", wantIs: ErrAllowlistEntryTagOrDigest, wantErr: `entry "reg.example:5000" has a tag or digest; entries are repository names: found tag "5000"`},
		{name: "tag in prefix", entry: "reg.example/app:1/*", wantIs: ErrAllowlistEntryTagOrDigest, wantErr: `entry "reg.example/app:1/*" has a tag or digest; entries are repository names`},
		{name: "digest in prefix", entry: "reg.example/app@" + testDigest + "/*", wantIs: ErrAllowlistEntryTagOrDigest, wantErr: `entry "reg.example/app@` + testDigest + `/*" has a tag or digest; entries are repository names`},
		{name: "familiar name", entry: "alpine", wantIs: ErrAllowlistEntryNotNormalized, wantErr: `entry "alpine" is not a fully qualified repository name: write "docker.io/library/alpine"`},
		{name: "familiar name with namespace", entry: "library/alpine", wantIs: ErrAllowlistEntryNotNormalized, wantErr: `entry "library/alpine" is not a fully qualified repository name: write "docker.io/library/alpine"`},
		{name: "legacy docker hub host", entry: "index.docker.io/library/alpine", wantIs: ErrAllowlistEntryNotNormalized, wantErr: `entry "index.docker.io/library/alpine" is not a fully qualified repository name: write "docker.io/library/alpine"`},
		{name: "docker hub without namespace", entry: "docker.io/alpine", wantIs: ErrAllowlistEntryNotNormalized, wantErr: `entry "docker.io/alpine" is not a fully qualified repository name: write "docker.io/library/alpine"`},
		{name: "host alone", entry: "reg.example", wantIs: ErrAllowlistEntryNotNormalized, wantErr: `entry "reg.example" is not a fully qualified repository name: write "docker.io/library/reg.example"`},
		{name: "localhost alone", entry: "localhost", wantIs: ErrAllowlistEntryNotNormalized, wantErr: `entry "localhost" is not a fully qualified repository name: write "docker.io/library/localhost"`},
		// docker.io/x normalises to docker.io/library/x, so the rule rejects a
		// prefix for all of Docker Hub.
		{name: "all of docker hub", entry: "docker.io/*", wantIs: ErrAllowlistEntryNotNormalized, wantErr: `entry "docker.io/*" is not a fully qualified repository name: write "docker.io/library/*"`},
		{name: "legacy docker hub prefix", entry: "index.docker.io/library/*", wantIs: ErrAllowlistEntryNotNormalized, wantErr: `entry "index.docker.io/library/*" is not a fully qualified repository name: write "docker.io/library/*"`},
		{name: "prefix without registry", entry: "team/*", wantIs: ErrAllowlistEntryPrefixNotRegistry, wantErr: `entry "team/*" is a prefix whose first component is not a registry host (one containing "." or ":", or "localhost")`},
		{name: "prefix of familiar namespace", entry: "library/alpine/*", wantIs: ErrAllowlistEntryPrefixNotRegistry, wantErr: `entry "library/alpine/*" is a prefix whose first component is not a registry host`},
		{name: "upper case path", entry: "reg.example/App", wantIs: ErrAllowlistEntryUnparsable, wantErr: `entry "reg.example/App" is not a valid repository name: `},
		{name: "empty component", entry: "reg.example//a", wantIs: ErrAllowlistEntryUnparsable, wantErr: `entry "reg.example//a" is not a valid repository name: `},
		{name: "trailing slash", entry: "reg.example/a/", wantIs: ErrAllowlistEntryUnparsable, wantErr: `entry "reg.example/a/" is not a valid repository name: `},
		{name: "empty component in prefix", entry: "reg.example/a//*", wantIs: ErrAllowlistEntryUnparsable, wantErr: `entry "reg.example/a//*" is not a valid repository name: `},
		{name: "inner space", entry: "reg.example/a b", wantIs: ErrAllowlistEntryUnparsable, wantErr: `entry "reg.example/a b" is not a valid repository name: `},
		{name: "scheme", entry: "https://reg.example/a", wantIs: ErrAllowlistEntryUnparsable, wantErr: `entry "https://reg.example/a" is not a valid repository name: `},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAllowlistEntry(tc.entry)
			if tc.wantIs != nil {
				if err == nil {
					t.Fatalf("ParseAllowlistEntry(%q) = %+v, want an error", tc.entry, got)
				}
				if !errors.Is(err, tc.wantIs) {
					t.Errorf("ParseAllowlistEntry(%q) error = %q, want errors.Is %q", tc.entry, err, tc.wantIs)
				}
				if msg := err.Error(); len(msg) < len(tc.wantErr) || msg[:len(tc.wantErr)] != tc.wantErr {
					t.Errorf("ParseAllowlistEntry(%q) error = %q, want it to start with %q", tc.entry, msg, tc.wantErr)
				}
				if got != (AllowlistEntry{}) {
					t.Errorf("ParseAllowlistEntry(%q) returned %+v with an error, want the zero entry", tc.entry, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAllowlistEntry(%q) error = %v", tc.entry, err)
			}
			if got != tc.want {
				t.Errorf("ParseAllowlistEntry(%q) = %+v, want %+v", tc.entry, got, tc.want)
			}
			if got.String() != tc.entry {
				t.Errorf("String() = %q, want the entry %q back", got.String(), tc.entry)
			}
		})
	}
}

func TestAllowlistEntryMatches(t *testing.T) {
	tests := []struct {
		name  string
		entry string
		image string
		want  bool
	}{
		{name: "exact", entry: "docker.io/library/alpine", image: "docker.io/library/alpine", want: true},
		// Released kubelets before 1.36 compared raw strings and missed these.
		{name: "tagged familiar image, exact entry", entry: "docker.io/library/alpine", image: "alpine:3.19", want: true},
		{name: "digest image, exact entry", entry: "reg.example/org/app", image: "reg.example/org/app@" + testDigest, want: true},
		{name: "exact is not a prefix", entry: "docker.io/library/alpine", image: "docker.io/library/alpine2", want: false},
		{name: "exact does not cover children", entry: "reg.example/org", image: "reg.example/org/app", want: false},
		{name: "prefix, one level", entry: "reg.example/a/*", image: "reg.example/a/b:1", want: true},
		{name: "prefix, any depth", entry: "reg.example/a/*", image: "reg.example/a/b/c/d", want: true},
		{name: "prefix does not match itself", entry: "reg.example/a/*", image: "reg.example/a", want: false},
		{name: "prefix is per component", entry: "reg.example/a/*", image: "reg.example/ab/c", want: false},
		{name: "host prefix", entry: "reg.example:5000/*", image: "reg.example:5000/x:1", want: true},
		{name: "host prefix needs the port", entry: "reg.example:5000/*", image: "reg.example/x", want: false},
		{name: "host prefix does not cover another host", entry: "reg.example/*", image: "reg.example.evil/x", want: false},
		{name: "localhost prefix", entry: "localhost/*", image: "localhost/team/app:dev", want: true},
		{name: "docker hub library prefix", entry: "docker.io/library/*", image: "busybox", want: true},
		{name: "docker hub library prefix, other namespace", entry: "docker.io/library/*", image: "team/app", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			entry, err := ParseAllowlistEntry(tc.entry)
			if err != nil {
				t.Fatalf("ParseAllowlistEntry(%q) error = %v", tc.entry, err)
			}
			repo, err := parsers.RepositoryName(tc.image)
			if err != nil {
				t.Fatalf("RepositoryName(%q) error = %v", tc.image, err)
			}
			if got := entry.Matches(repo); got != tc.want {
				t.Errorf("%q.Matches(repo(%q) = %q) = %v, want %v", tc.entry, tc.image, repo, got, tc.want)
			}
		})
	}
}
