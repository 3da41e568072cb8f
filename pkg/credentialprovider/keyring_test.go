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

package credentialprovider_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"k8s.io/kubernetes/pkg/credentialprovider"
)

// keyringOf returns a keyring where each key's credential has the key as
// its username, so results show which keys matched and in what order.
func keyringOf(keys ...string) *credentialprovider.BasicDockerKeyring {
	cfg := credentialprovider.DockerConfig{}
	for _, k := range keys {
		cfg[k] = credentialprovider.DockerConfigEntry{Username: k, Password: "p"}
	}
	keyring := &credentialprovider.BasicDockerKeyring{}
	keyring.Add(nil, cfg)
	return keyring
}

func usernames(creds []credentialprovider.TrackedAuthConfig) []string {
	var out []string
	for _, c := range creds {
		out = append(out, c.Username)
	}
	return out
}

func TestBasicDockerKeyringLookup(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name  string
		keys  []string
		image string
		// want are the usernames (= keys) returned, in order.
		want []string
	}{
		{name: "empty keyring", keys: nil, image: "reg.example/app", want: nil},
		{name: "host", keys: []string{"reg.example"}, image: "reg.example/app:1", want: []string{"reg.example"}},
		{name: "other host", keys: []string{"reg.example"}, image: "other.example/app", want: nil},
		{name: "host is a suffix only", keys: []string{"example.com"}, image: "reg.example.com/app", want: nil},
		{name: "host names are case-insensitive", keys: []string{"REG.Example"}, image: "reg.example/app", want: []string{"REG.Example"}},
		{name: "https scheme and /v2/", keys: []string{"https://reg.example/v2/"}, image: "reg.example/app", want: []string{"https://reg.example/v2/"}},
		{name: "http scheme and /v1/", keys: []string{"http://reg.example/v1/"}, image: "reg.example/app", want: []string{"http://reg.example/v1/"}},
		{name: "/v2 without slash", keys: []string{"reg.example/v2"}, image: "reg.example/app", want: []string{"reg.example/v2"}},
		{name: "trailing slash", keys: []string{"reg.example/"}, image: "reg.example/app", want: []string{"reg.example/"}},
		{name: "a longer path starting with v2 is a path", keys: []string{"reg.example/v2/team"}, image: "reg.example/team/app", want: nil},
		{name: "a longer path starting with v2 matches that path", keys: []string{"reg.example/v2/team"}, image: "reg.example/v2/team/app", want: []string{"reg.example/v2/team"}},
		{name: "path prefix", keys: []string{"reg.example/team"}, image: "reg.example/team/app:1.2", want: []string{"reg.example/team"}},
		{name: "path prefix with scheme", keys: []string{"https://reg.example/team/"}, image: "reg.example/team/app", want: []string{"https://reg.example/team/"}},
		{name: "path equal to the repository", keys: []string{"reg.example/team/app"}, image: "reg.example/team/app@" + digest, want: []string{"reg.example/team/app"}},
		{name: "path is matched per segment", keys: []string{"reg.example/team"}, image: "reg.example/team-b/app", want: nil},
		{name: "path longer than the repository", keys: []string{"reg.example/team/app/sub"}, image: "reg.example/team/app", want: nil},
		{name: "path of another repository", keys: []string{"reg.example/team"}, image: "reg.example/app", want: nil},
		{name: "port", keys: []string{"reg.example:5000"}, image: "reg.example:5000/app", want: []string{"reg.example:5000"}},
		{name: "port required by the key", keys: []string{"reg.example:5000"}, image: "reg.example/app", want: nil},
		{name: "port required by the image", keys: []string{"reg.example"}, image: "reg.example:5000/app", want: nil},
		{name: "other port", keys: []string{"reg.example:5000"}, image: "reg.example:5001/app", want: nil},
		{name: "localhost with port", keys: []string{"localhost:5000"}, image: "localhost:5000/app", want: []string{"localhost:5000"}},
		{name: "loopback address", keys: []string{"127.0.0.1:5000"}, image: "127.0.0.1:5000/team/app:1", want: []string{"127.0.0.1:5000"}},
		{name: "glob label", keys: []string{"*.example.com"}, image: "reg.example.com/app", want: []string{"*.example.com"}},
		{name: "glob does not match the bare domain", keys: []string{"*.example.com"}, image: "example.com/app", want: nil},
		{name: "glob matches one label only", keys: []string{"*.example.com"}, image: "a.b.example.com/app", want: nil},
		{name: "two glob labels", keys: []string{"*.*.example.com"}, image: "a.b.example.com/app", want: []string{"*.*.example.com"}},
		{name: "glob inside a label", keys: []string{"reg-*.example"}, image: "reg-eu.example/app", want: []string{"reg-*.example"}},
		{name: "question mark", keys: []string{"reg-?.example"}, image: "reg-1.example/app", want: []string{"reg-?.example"}},
		{name: "character class", keys: []string{"reg-[ab].example"}, image: "reg-b.example/app", want: []string{"reg-[ab].example"}},
		{name: "glob with port", keys: []string{"*.example.com:5000"}, image: "reg.example.com:5000/app", want: []string{"*.example.com:5000"}},
		{name: "glob without the image's port", keys: []string{"*.example.com"}, image: "reg.example.com:5000/app", want: nil},
		{name: "glob with path", keys: []string{"*.example.com/team"}, image: "reg.example.com/team/app", want: []string{"*.example.com/team"}},
		{name: "bad pattern matches nothing", keys: []string{"reg-[.example"}, image: "reg-x.example/app", want: nil},
		{name: "no host", keys: []string{"https:///v2/", ""}, image: "reg.example/app", want: nil},
		{name: "Docker Hub legacy key, familiar image", keys: []string{"https://index.docker.io/v1/"}, image: "busybox", want: []string{"https://index.docker.io/v1/"}},
		{name: "Docker Hub legacy key, user image", keys: []string{"https://index.docker.io/v1/"}, image: "user/app:1", want: []string{"https://index.docker.io/v1/"}},
		{name: "Docker Hub host key", keys: []string{"index.docker.io"}, image: "docker.io/library/busybox:1.36", want: []string{"index.docker.io"}},
		{name: "Docker Hub image spelled index.docker.io", keys: []string{"docker.io"}, image: "index.docker.io/library/busybox", want: []string{"docker.io"}},
		{name: "docker.io key", keys: []string{"docker.io"}, image: "busybox:1.36", want: []string{"docker.io"}},
		{name: "Docker Hub path key", keys: []string{"docker.io/library"}, image: "busybox", want: []string{"docker.io/library"}},
		{name: "Docker Hub path key, other namespace", keys: []string{"index.docker.io/library"}, image: "user/app", want: nil},
		{name: "Docker Hub key and another registry", keys: []string{"https://index.docker.io/v1/"}, image: "reg.example/busybox", want: nil},
		{name: "unparsable image", keys: []string{"reg.example"}, image: "reg.example/UPPER", want: nil},
		{name: "empty image", keys: []string{"docker.io"}, image: "", want: nil},
		{
			name:  "most specific first",
			keys:  []string{"*.example", "reg.example", "reg.example/team", "reg.example/team/app", "other.example"},
			image: "reg.example/team/app:1",
			want:  []string{"reg.example/team/app", "reg.example/team", "reg.example", "*.example"},
		},
		{
			name:  "a path beats an exact host, an exact host beats a glob",
			keys:  []string{"reg.example.com", "*.example.com/team", "*.example.com", "*.*.com"},
			image: "reg.example.com/team/app",
			want:  []string{"*.example.com/team", "reg.example.com", "*.example.com", "*.*.com"},
		},
		{
			name:  "Docker Hub keys in every spelling",
			keys:  []string{"https://index.docker.io/v1/", "docker.io/library"},
			image: "busybox",
			want:  []string{"docker.io/library", "https://index.docker.io/v1/"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			creds, found := keyringOf(tc.keys...).Lookup(tc.image)
			if found != (len(tc.want) > 0) {
				t.Errorf("Lookup(%q) found = %v, want %v", tc.image, found, len(tc.want) > 0)
			}
			if diff := cmp.Diff(tc.want, usernames(creds)); diff != "" {
				t.Errorf("Lookup(%q) mismatch (-want +got):\n%s", tc.image, diff)
			}
		})
	}
}

func TestBasicDockerKeyringSources(t *testing.T) {
	secretA := &credentialprovider.CredentialSource{Secret: &credentialprovider.SecretCoordinates{UID: "uid-a", Namespace: "ns", Name: "a"}}
	secretB := &credentialprovider.CredentialSource{Secret: &credentialprovider.SecretCoordinates{UID: "uid-b", Namespace: "ns", Name: "b"}}
	up := credentialprovider.DockerConfigEntry{Username: "u", Password: "p"}

	tests := []struct {
		name  string
		adds  []func(*credentialprovider.BasicDockerKeyring)
		image string
		want  []credentialprovider.TrackedAuthConfig
	}{
		{
			name: "equal keys keep the order of Add",
			adds: []func(*credentialprovider.BasicDockerKeyring){
				func(k *credentialprovider.BasicDockerKeyring) {
					k.Add(secretB, credentialprovider.DockerConfig{"reg.example": {Username: "b", Password: "p"}})
				},
				func(k *credentialprovider.BasicDockerKeyring) {
					k.Add(secretA, credentialprovider.DockerConfig{"https://reg.example/v2/": {Username: "a", Password: "p"}})
				},
			},
			image: "reg.example/app",
			want: []credentialprovider.TrackedAuthConfig{
				credentialprovider.NewTrackedAuthConfig(credentialprovider.AuthConfig{Username: "b", Password: "p"}, secretB),
				credentialprovider.NewTrackedAuthConfig(credentialprovider.AuthConfig{Username: "a", Password: "p"}, secretA),
			},
		},
		{
			name: "a more specific key of a later source wins",
			adds: []func(*credentialprovider.BasicDockerKeyring){
				func(k *credentialprovider.BasicDockerKeyring) {
					k.Add(secretA, credentialprovider.DockerConfig{"reg.example": up})
				},
				func(k *credentialprovider.BasicDockerKeyring) {
					k.Add(secretB, credentialprovider.DockerConfig{"reg.example/team": up})
				},
			},
			image: "reg.example/team/app",
			want: []credentialprovider.TrackedAuthConfig{
				credentialprovider.NewTrackedAuthConfig(credentialprovider.AuthConfig{Username: "u", Password: "p"}, secretB),
				credentialprovider.NewTrackedAuthConfig(credentialprovider.AuthConfig{Username: "u", Password: "p"}, secretA),
			},
		},
		{
			name: "node-wide credentials have no source",
			adds: []func(*credentialprovider.BasicDockerKeyring){
				func(k *credentialprovider.BasicDockerKeyring) {
					k.Add(nil, credentialprovider.DockerConfig{"reg.example": up})
				},
			},
			image: "reg.example/app",
			want: []credentialprovider.TrackedAuthConfig{
				{AuthConfig: credentialprovider.AuthConfig{Username: "u", Password: "p"}, AuthConfigHash: hashUP},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keyring := &credentialprovider.BasicDockerKeyring{}
			for _, add := range tc.adds {
				add(keyring)
			}
			got, _ := keyring.Lookup(tc.image)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Lookup() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBasicDockerKeyringCopiesSource(t *testing.T) {
	src := &credentialprovider.CredentialSource{Secret: &credentialprovider.SecretCoordinates{UID: "uid-a", Namespace: "ns", Name: "a"}}
	keyring := &credentialprovider.BasicDockerKeyring{}
	keyring.Add(src, credentialprovider.DockerConfig{"reg.example": {Username: "u", Password: "p"}})
	src.Secret.Name = "changed"

	creds, _ := keyring.Lookup("reg.example/app")
	if len(creds) != 1 || creds[0].Source.Secret.Name != "a" {
		t.Errorf("Lookup() = %v, want the source as it was added (ns/a)", creds)
	}
}

func TestUnionDockerKeyring(t *testing.T) {
	var typedNil *credentialprovider.BasicDockerKeyring
	tests := []struct {
		name  string
		union credentialprovider.UnionDockerKeyring
		image string
		want  []string
	}{
		{
			name:  "members in order, not by specificity",
			union: credentialprovider.UnionDockerKeyring{keyringOf("reg.example"), keyringOf("reg.example/team/app")},
			image: "reg.example/team/app",
			want:  []string{"reg.example", "reg.example/team/app"},
		},
		{
			name:  "nil members are skipped",
			union: credentialprovider.UnionDockerKeyring{nil, typedNil, keyringOf("*.example")},
			image: "reg.example/app",
			want:  []string{"*.example"},
		},
		{
			name:  "nothing matches",
			union: credentialprovider.UnionDockerKeyring{keyringOf("reg.example"), keyringOf("other.example")},
			image: "third.example/app",
			want:  nil,
		},
		{name: "empty", union: nil, image: "reg.example/app", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			creds, found := tc.union.Lookup(tc.image)
			if found != (len(tc.want) > 0) {
				t.Errorf("Lookup() found = %v, want %v", found, len(tc.want) > 0)
			}
			if diff := cmp.Diff(tc.want, usernames(creds)); diff != "" {
				t.Errorf("Lookup() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBasicDockerKeyringConcurrency is for -race: the node keyring is shared
// by every pull.
func TestBasicDockerKeyringConcurrency(t *testing.T) {
	keyring := &credentialprovider.BasicDockerKeyring{}
	keyring.Add(nil, credentialprovider.DockerConfig{"reg.example": {Username: "base"}})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			keyring.Add(nil, credentialprovider.DockerConfig{fmt.Sprintf("reg.example/team%d", i): {Username: "u"}})
		})
		wg.Go(func() {
			if _, found := keyring.Lookup("reg.example/app"); !found {
				t.Errorf("Lookup() lost the credential added before")
			}
		})
	}
	wg.Wait()
	creds, _ := keyring.Lookup("reg.example/team3/app")
	if diff := cmp.Diff([]string{"u", "base"}, usernames(creds)); diff != "" {
		t.Errorf("Lookup() after concurrent adds mismatch (-want +got):\n%s", diff)
	}
}
