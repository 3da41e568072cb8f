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
	"testing"

	"github.com/google/go-cmp/cmp"

	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/util/parsers"
)

func TestNewVerificationPolicy(t *testing.T) {
	tests := []struct {
		name    string
		policy  kubeletconfig.ImagePullCredentialsVerificationPolicy
		want    kubeletconfig.ImagePullCredentialsVerificationPolicy
		wantErr bool
	}{
		{name: "NeverVerify", policy: kubeletconfig.NeverVerify, want: kubeletconfig.NeverVerify},
		{name: "NeverVerifyPreloadedImages", policy: kubeletconfig.NeverVerifyPreloadedImages, want: kubeletconfig.NeverVerifyPreloadedImages},
		{name: "NeverVerifyAllowlistedImages", policy: kubeletconfig.NeverVerifyAllowlistedImages, want: kubeletconfig.NeverVerifyAllowlistedImages},
		{name: "AlwaysVerify", policy: kubeletconfig.AlwaysVerify, want: kubeletconfig.AlwaysVerify},
		{name: "empty means the default", policy: "", want: kubeletconfig.NeverVerifyPreloadedImages},
		{name: "unknown", policy: "VerifySometimes", wantErr: true},
		{name: "wrong case", policy: "neververify", wantErr: true},
		{name: "surrounding whitespace", policy: " AlwaysVerify", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := newVerificationPolicy(tc.policy, nil)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("newVerificationPolicy(%q) = %+v, want an error", tc.policy, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("newVerificationPolicy(%q) error: %v", tc.policy, err)
			}
			if got.policy != tc.want {
				t.Errorf("newVerificationPolicy(%q).policy = %q, want %q", tc.policy, got.policy, tc.want)
			}
		})
	}
}

func TestAllowlisted(t *testing.T) {
	tests := []struct {
		name      string
		allowlist []string
		// match and noMatch are normalised repository names, repo(image).
		match   []string
		noMatch []string
	}{
		{
			name:    "empty allowlist",
			noMatch: []string{"docker.io/library/alpine", "reg.example/team/app"},
		},
		{
			name:      "exact entry",
			allowlist: []string{"docker.io/library/alpine"},
			match:     []string{"docker.io/library/alpine"},
			noMatch: []string{
				"docker.io/library/alpine2",
				"docker.io/library/alpin",
				"docker.io/library/alpine/x",
				"docker.io/library",
				"docker.io/other/alpine",
				"reg.example/library/alpine",
			},
		},
		{
			name:      "prefix entry",
			allowlist: []string{"reg.example/team/*"},
			match:     []string{"reg.example/team/app", "reg.example/team/a/b", "reg.example/team/a/b/c/d"},
			noMatch: []string{
				"reg.example/team",
				"reg.example/teamX/app",
				"reg.example/tea/app",
				"reg.example/other/team/app",
				"other.example/team/app",
				"reg.example:5000/team/app",
			},
		},
		{
			name:      "host-only prefix entry with a port",
			allowlist: []string{"reg.example:5000/*"},
			match:     []string{"reg.example:5000/app", "reg.example:5000/team/app", "reg.example:5000/a/b/c"},
			noMatch: []string{
				"reg.example:5000",
				"reg.example/app",
				"reg.example:50001/app",
				"reg.example:500/app",
				"other.example:5000/app",
			},
		},
		{
			name:      "nested prefix entries",
			allowlist: []string{"reg.example/team/*", "reg.example/team/sub/*"},
			match:     []string{"reg.example/team/app", "reg.example/team/sub", "reg.example/team/sub/app", "reg.example/team/sub/x/y"},
			noMatch:   []string{"reg.example/team", "reg.example/other/sub/app"},
		},
		{
			name:      "only the inner of nested prefixes",
			allowlist: []string{"reg.example/team/sub/*"},
			match:     []string{"reg.example/team/sub/app", "reg.example/team/sub/x/y"},
			noMatch:   []string{"reg.example/team/app", "reg.example/team/sub", "reg.example/team/subX/app", "reg.example/team"},
		},
		{
			name:      "exact and prefix entries together",
			allowlist: []string{"docker.io/library/alpine", "reg.example/team/*", "localhost/*"},
			match:     []string{"docker.io/library/alpine", "reg.example/team/app", "localhost/app"},
			noMatch:   []string{"docker.io/library/busybox", "reg.example/app", "localhost"},
		},
		{
			// An exact entry is never a prefix, even of itself with a path.
			name:      "exact entry is not a prefix",
			allowlist: []string{"reg.example/team"},
			match:     []string{"reg.example/team"},
			noMatch:   []string{"reg.example/team/app", "reg.example/teamX"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := newVerificationPolicy(kubeletconfig.NeverVerifyAllowlistedImages, tc.allowlist)
			if err != nil {
				t.Fatalf("newVerificationPolicy(%q) error: %v", tc.allowlist, err)
			}
			var gotMatch, gotNoMatch []string
			for _, repo := range tc.match {
				if !p.allowlisted(repo) {
					gotNoMatch = append(gotNoMatch, repo)
				}
			}
			for _, repo := range tc.noMatch {
				if p.allowlisted(repo) {
					gotMatch = append(gotMatch, repo)
				}
			}
			if diff := cmp.Diff([]string(nil), gotNoMatch); diff != "" {
				t.Errorf("allowlist %q: names that should match but do not (-want +got):\n%s", tc.allowlist, diff)
			}
			if diff := cmp.Diff([]string(nil), gotMatch); diff != "" {
				t.Errorf("allowlist %q: names that should not match but do (-want +got):\n%s", tc.allowlist, diff)
			}
		})
	}
}

// TestAllowlistedPodImages matches pod image strings the way decisions do,
// through repo(image): tags and digests never stop an untagged entry from
// matching, and familiar names match their normalised entry.
func TestAllowlistedPodImages(t *testing.T) {
	const digest = "sha256:abababababababababababababababababababababababababababababababab"
	allowlist := []string{"docker.io/library/alpine", "reg.example/team/*", "reg.example:5000/*"}
	tests := []struct {
		image string
		want  bool
	}{
		{image: "alpine", want: true},
		{image: "alpine:3.19", want: true},
		{image: "library/alpine:3.19", want: true},
		{image: "docker.io/library/alpine:3.19@" + digest, want: true},
		{image: "alpine@" + digest, want: true},
		{image: "reg.example/team/app:1.2", want: true},
		{image: "reg.example/team/a/b@" + digest, want: true},
		{image: "reg.example:5000/app:1", want: true},
		{image: "alpine2:3.19", want: false},
		{image: "busybox", want: false},
		{image: "reg.example/team:1.2", want: false},
		{image: "reg.example/teamx/app:1.2", want: false},
		{image: "reg.example:5001/app:1", want: false},
	}
	p, err := newVerificationPolicy(kubeletconfig.NeverVerifyAllowlistedImages, allowlist)
	if err != nil {
		t.Fatalf("newVerificationPolicy(%q) error: %v", allowlist, err)
	}
	for _, tc := range tests {
		t.Run(tc.image, func(t *testing.T) {
			repo, err := parsers.RepositoryName(tc.image)
			if err != nil {
				t.Fatalf("RepositoryName(%q) error: %v", tc.image, err)
			}
			if got := p.allowlisted(repo); got != tc.want {
				t.Errorf("allowlisted(repo(%q) = %q) = %t, want %t", tc.image, repo, got, tc.want)
			}
		})
	}
}
