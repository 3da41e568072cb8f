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
	"testing"

	"k8s.io/kubernetes/pkg/credentialprovider"
)

func TestRegistryPatternMatches(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		image   string
		want    bool
	}{
		{name: "host", pattern: "reg.example", image: "reg.example/app", want: true},
		{name: "subdomain glob", pattern: "*.k8s.io", image: "registry.k8s.io/pause:3.9", want: true},
		{name: "glob is one label", pattern: "*.io", image: "registry.k8s.io/pause", want: false},
		{name: "glob needs a label", pattern: "*.k8s.io", image: "k8s.io/pause", want: false},
		{name: "middle glob", pattern: "k8s.*.io", image: "k8s.gcr.io/pause", want: true},
		{name: "partial label glob", pattern: "app*.k8s.io", image: "app-1.k8s.io/x", want: true},
		{name: "top-level domain glob", pattern: "k8s.*", image: "k8s.io/x", want: true},
		{name: "two globs", pattern: "*.*.registry.io", image: "a.b.registry.io/x", want: true},
		{name: "ecr", pattern: "*.dkr.ecr.*.amazonaws.com", image: "123456789.dkr.ecr.us-east-1.amazonaws.com/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", want: true},
		{name: "port", pattern: "registry.io:8080/path", image: "registry.io:8080/path/app", want: true},
		{name: "port differs", pattern: "registry.io:8080", image: "registry.io:8081/app", want: false},
		{name: "port missing in the image", pattern: "registry.io:8080", image: "registry.io/app", want: false},
		{name: "path per segment", pattern: "registry.io/team", image: "registry.io/team-b/app", want: false},
		{name: "case-insensitive host", pattern: "REG.Example", image: "reg.example/app", want: true},
		{name: "docker hub", pattern: "docker.io", image: "busybox", want: true},
		{name: "legacy docker hub", pattern: "index.docker.io", image: "library/busybox", want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pattern, ok := credentialprovider.ParseRegistryPattern(tc.pattern)
			if !ok {
				t.Fatalf("ParseRegistryPattern(%q) failed", tc.pattern)
			}
			loc, ok := credentialprovider.ParseImageLocation(tc.image)
			if !ok {
				t.Fatalf("ParseImageLocation(%q) failed", tc.image)
			}
			if got := pattern.Matches(loc); got != tc.want {
				t.Errorf("%q.Matches(%q) = %v, want %v", tc.pattern, tc.image, got, tc.want)
			}
			// The keyring applies the same rules.
			_, inKeyring := keyringOf(tc.pattern).Lookup(tc.image)
			if inKeyring != tc.want {
				t.Errorf("keyring with key %q matches %q = %v, want %v", tc.pattern, tc.image, inKeyring, tc.want)
			}
		})
	}
}

func TestParseRegistryPatternWithoutHost(t *testing.T) {
	for _, s := range []string{"", "/path", "https:///x"} {
		if _, ok := credentialprovider.ParseRegistryPattern(s); ok {
			t.Errorf("ParseRegistryPattern(%q) succeeded, want false", s)
		}
	}
	var zero credentialprovider.RegistryPattern
	loc, _ := credentialprovider.ParseImageLocation("reg.example/app")
	if zero.Matches(loc) {
		t.Errorf("the zero RegistryPattern matches %v", loc)
	}
}

func TestImageLocationRegistry(t *testing.T) {
	tests := []struct {
		image string
		want  string
	}{
		{image: "busybox", want: "docker.io"},
		{image: "reg.example:5000/team/app:1", want: "reg.example:5000"},
		{image: "localhost/app", want: "localhost"},
	}
	for _, tc := range tests {
		loc, ok := credentialprovider.ParseImageLocation(tc.image)
		if !ok {
			t.Fatalf("ParseImageLocation(%q) failed", tc.image)
		}
		if got := loc.Registry(); got != tc.want {
			t.Errorf("ParseImageLocation(%q).Registry() = %q, want %q", tc.image, got, tc.want)
		}
	}
	if _, ok := credentialprovider.ParseImageLocation("Not An Image"); ok {
		t.Errorf("ParseImageLocation of an invalid image succeeded")
	}
}
