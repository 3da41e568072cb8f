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

package parsers

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestParsers(t *testing.T) {
	const digest = "sha256:5d1f7bf83c1a0b0a4b0a1a2c3d4e5f60718293a4b5c6d7e8f9012345678901ab"
	tests := []struct {
		image        string
		wantRepo     string
		wantTag      string
		wantDigest   string
		wantNormal   string
		wantDefaults string
		wantErr      bool
	}{
		{image: "busybox", wantRepo: "docker.io/library/busybox", wantTag: "latest", wantNormal: "docker.io/library/busybox:latest", wantDefaults: "busybox:latest"},
		{image: "busybox:1.36", wantRepo: "docker.io/library/busybox", wantTag: "1.36", wantNormal: "docker.io/library/busybox:1.36", wantDefaults: "busybox:1.36"},
		{image: "library/busybox", wantRepo: "docker.io/library/busybox", wantTag: "latest", wantNormal: "docker.io/library/busybox:latest", wantDefaults: "library/busybox:latest"},
		{image: "reg.example:5000/a/b@" + digest, wantRepo: "reg.example:5000/a/b", wantDigest: digest, wantNormal: "reg.example:5000/a/b@" + digest, wantDefaults: "reg.example:5000/a/b@" + digest},
		{image: "reg.example/a:1@" + digest, wantRepo: "reg.example/a", wantTag: "1", wantDigest: digest, wantNormal: "reg.example/a:1@" + digest, wantDefaults: "reg.example/a:1@" + digest},
		{image: "localhost/app", wantRepo: "localhost/app", wantTag: "latest", wantNormal: "localhost/app:latest", wantDefaults: "localhost/app:latest"},
		{image: "Upper/Case", wantErr: true},
		{image: "", wantErr: true},
		{image: "a:b:c", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.image, func(t *testing.T) {
			repo, tag, digest, err := ParseImageName(tc.image)
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "couldn't parse image name") {
					t.Fatalf("ParseImageName(%q) error = %v, want a parse error naming the image", tc.image, err)
				}
				for name, fn := range map[string]func(string) (string, error){"RepositoryName": RepositoryName, "NormalizedReference": NormalizedReference, "ApplyDefaultImageTag": ApplyDefaultImageTag} {
					if _, err := fn(tc.image); err == nil {
						t.Errorf("%s(%q) succeeded, want an error", name, tc.image)
					}
				}
				return
			}
			if err != nil || repo != tc.wantRepo || tag != tc.wantTag || digest != tc.wantDigest {
				t.Errorf("ParseImageName(%q) = %q, %q, %q, %v; want %q, %q, %q", tc.image, repo, tag, digest, err, tc.wantRepo, tc.wantTag, tc.wantDigest)
			}
			if got, err := RepositoryName(tc.image); err != nil || got != tc.wantRepo {
				t.Errorf("RepositoryName(%q) = %q, %v; want %q", tc.image, got, err, tc.wantRepo)
			}
			if got, err := NormalizedReference(tc.image); err != nil || got != tc.wantNormal {
				t.Errorf("NormalizedReference(%q) = %q, %v; want %q", tc.image, got, err, tc.wantNormal)
			}
			if got, err := ApplyDefaultImageTag(tc.image); err != nil || got != tc.wantDefaults {
				t.Errorf("ApplyDefaultImageTag(%q) = %q, %v; want %q", tc.image, got, err, tc.wantDefaults)
			}
		})
	}
}

// FuzzRepositoryName checks that normalisation never panics and is stable:
// the repository name of a repository name is itself.
func FuzzRepositoryName(f *testing.F) {
	for _, seed := range []string{"busybox", "busybox:1.36", "reg.example:5000/a/b@sha256:5d1f7bf83c1a0b0a4b0a1a2c3d4e5f60718293a4b5c6d7e8f9012345678901ab", "localhost/x", "a/b/c:d", "UPPER", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, image string) {
		repo, err := RepositoryName(image)
		if err != nil {
			return
		}
		again, err := RepositoryName(repo)
		if err != nil || again != repo {
			t.Fatalf("RepositoryName(%q) = %q, but RepositoryName(%q) = %q, %v", image, repo, repo, again, err)
		}
		if _, err := NormalizedReference(image); err != nil {
			t.Fatalf("NormalizedReference(%q) failed although RepositoryName succeeded: %v", image, err)
		}
	})
}

// TestCacheUnderConcurrency parses many distinct names from many goroutines,
// so that slots are overwritten while read, and checks every answer.
func TestCacheUnderConcurrency(t *testing.T) {
	const names = 3 * cacheSlots
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := 0; i < names; i++ {
				n := (i*7 + g*131) % names
				image := fmt.Sprintf("reg.example/team-%d/app:%d", n, n)
				repo, err := RepositoryName(image)
				if want := fmt.Sprintf("reg.example/team-%d/app", n); err != nil || repo != want {
					t.Errorf("RepositoryName(%q) = %q, %v; want %q", image, repo, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkRepositoryName(b *testing.B) {
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = RepositoryName("reg.example/team/app:1")
		}
	})
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_, _ = RepositoryName(fmt.Sprintf("reg.example/team/app:%d", i))
			i++
		}
	})
}
