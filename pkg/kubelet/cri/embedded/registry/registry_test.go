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

package registry

import (
	"errors"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"k8s.io/klog/v2/ktesting"
)

const (
	privateRepo = "private/app"
	publicRepo  = "public/app"
)

func newTestRegistry(t *testing.T) *Registry {
	t.Helper()
	logger, _ := ktesting.NewTestContext(t)
	r, err := New(Options{
		Users: map[string]string{"alice": "alice-pw", "bob": "bob-pw"},
		Repos: map[string]Access{
			privateRepo: {Users: []string{"alice"}},
			publicRepo:  {Anonymous: true},
		},
		Logger: logger,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return r
}

// statusOf returns the HTTP status of a go-containerregistry error, 0 if the
// error carries none.
func statusOf(err error) int {
	var terr *transport.Error
	if errors.As(err, &terr) {
		return terr.StatusCode
	}
	return 0
}

func TestPullAccess(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	r := newTestRegistry(t)
	priv, err := r.Push(ctx, privateRepo+":1")
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	if _, err := r.PushImage(ctx, priv.Image, publicRepo+":1", "unlisted/app:1"); err != nil {
		t.Fatalf("PushImage: %v", err)
	}

	tests := []struct {
		name       string
		image      string
		auth       authn.Authenticator
		wantStatus int
	}{
		{name: "listed user pulls private", image: privateRepo + ":1", auth: &authn.Basic{Username: "alice", Password: "alice-pw"}},
		{name: "wrong password refused", image: privateRepo + ":1", auth: &authn.Basic{Username: "alice", Password: "nope"}, wantStatus: http.StatusUnauthorized},
		{name: "unlisted user refused", image: privateRepo + ":1", auth: &authn.Basic{Username: "bob", Password: "bob-pw"}, wantStatus: http.StatusUnauthorized},
		{name: "unknown user refused", image: privateRepo + ":1", auth: &authn.Basic{Username: "mallory", Password: "x"}, wantStatus: http.StatusUnauthorized},
		{name: "anonymous refused on private", image: privateRepo + ":1", auth: authn.Anonymous, wantStatus: http.StatusUnauthorized},
		{name: "anonymous pulls public", image: publicRepo + ":1", auth: authn.Anonymous},
		{name: "any valid user pulls public", image: publicRepo + ":1", auth: &authn.Basic{Username: "bob", Password: "bob-pw"}},
		{name: "wrong password refused on public", image: publicRepo + ":1", auth: &authn.Basic{Username: "bob", Password: "nope"}, wantStatus: http.StatusUnauthorized},
		{name: "unlisted repository refused to users", image: "unlisted/app:1", auth: &authn.Basic{Username: "alice", Password: "alice-pw"}, wantStatus: http.StatusUnauthorized},
		{name: "admin pulls unlisted", image: "unlisted/app:1", auth: &authn.Basic{Username: AdminUsername, Password: r.adminPassword}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ref, err := name.ParseReference(r.Ref(tc.image))
			if err != nil {
				t.Fatalf("ParseReference: %v", err)
			}
			img, err := remote.Image(ref, remote.WithAuth(tc.auth), remote.WithContext(ctx))
			if got := statusOf(err); got != tc.wantStatus {
				t.Fatalf("status = %d, want %d (err: %v)", got, tc.wantStatus, err)
			}
			if tc.wantStatus != 0 {
				return
			}
			id, err := img.ConfigName()
			if err != nil {
				t.Fatalf("ConfigName: %v", err)
			}
			if id.String() != priv.ID {
				t.Errorf("image ID = %s, want %s", id, priv.ID)
			}
		})
	}
}

func TestUnauthorizedResponse(t *testing.T) {
	r := newTestRegistry(t)
	tests := []struct {
		name   string
		method string
		path   string
		user   string
		pass   string
	}{
		{name: "anonymous version check", method: http.MethodGet, path: "/v2/"},
		{name: "anonymous manifest", method: http.MethodHead, path: "/v2/" + privateRepo + "/manifests/1"},
		{name: "refused manifest", method: http.MethodGet, path: "/v2/" + privateRepo + "/manifests/1", user: "alice", pass: "nope"},
		{name: "push by a user", method: http.MethodPost, path: "/v2/" + privateRepo + "/blobs/uploads/", user: "alice", pass: "alice-pw"},
		{name: "catalog by a user", method: http.MethodGet, path: "/v2/_catalog", user: "alice", pass: "alice-pw"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, "http://"+r.Addr()+tc.path, nil)
			if err != nil {
				t.Fatalf("NewRequest: %v", err)
			}
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("request: %v", err)
			}
			defer func() { _ = resp.Body.Close() }()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", resp.StatusCode)
			}
			if got, want := resp.Header.Get("WWW-Authenticate"), `Basic realm="embedded-registry"`; got != want {
				t.Errorf("WWW-Authenticate = %q, want %q", got, want)
			}
		})
	}
}

func TestAccessLog(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	r := newTestRegistry(t)
	if _, err := r.Push(ctx, privateRepo+":1"); err != nil {
		t.Fatalf("Push: %v", err)
	}
	r.ResetAccessLog()
	if got := r.AccessLog(); len(got) != 0 {
		t.Fatalf("after reset: %d entries, want 0", len(got))
	}

	req, err := http.NewRequest(http.MethodHead, "http://"+r.Addr()+"/v2/"+privateRepo+"/manifests/1", nil)
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	req.SetBasicAuth("alice", "alice-pw")
	for _, auth := range []bool{true, false} {
		if !auth {
			req.Header.Del("Authorization")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		_ = resp.Body.Close()
	}
	want := []Entry{
		{Method: http.MethodHead, Path: "/v2/" + privateRepo + "/manifests/1", Repository: privateRepo, User: "alice", Status: http.StatusOK},
		{Method: http.MethodHead, Path: "/v2/" + privateRepo + "/manifests/1", Repository: privateRepo, Status: http.StatusUnauthorized},
	}
	if diff := cmp.Diff(want, r.AccessLog()); diff != "" {
		t.Errorf("access log (-want +got):\n%s", diff)
	}
}

func TestStopStart(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	r := newTestRegistry(t)
	pushed, err := r.Push(ctx, publicRepo+":1")
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	addr := r.Addr()
	ref, err := name.ParseReference(r.Ref(publicRepo + ":1"))
	if err != nil {
		t.Fatalf("ParseReference: %v", err)
	}

	if err := r.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := r.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if r.Running() {
		t.Errorf("Running() = true after Stop")
	}
	_, err = remote.Head(ref, remote.WithContext(ctx))
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("pull from a stopped registry: %v, want connection refused", err)
	}

	if err := r.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := r.Start(); !errors.Is(err, ErrRunning) {
		t.Errorf("second Start: %v, want ErrRunning", err)
	}
	if r.Addr() != addr {
		t.Errorf("address after restart = %s, want %s", r.Addr(), addr)
	}
	desc, err := remote.Head(ref, remote.WithContext(ctx))
	if err != nil {
		t.Fatalf("pull after restart: %v", err)
	}
	if desc.Digest.String() != pushed.ManifestDigest {
		t.Errorf("manifest digest after restart = %s, want %s", desc.Digest, pushed.ManifestDigest)
	}
}

func TestPushSameImageTwice(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	r := newTestRegistry(t)
	first, err := r.Push(ctx, privateRepo+":a")
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	second, err := r.PushImage(ctx, first.Image, publicRepo+":b")
	if err != nil {
		t.Fatalf("PushImage: %v", err)
	}
	if first.ID != second.ID || first.ManifestDigest != second.ManifestDigest {
		t.Errorf("second push = (%s, %s), want (%s, %s)", second.ID, second.ManifestDigest, first.ID, first.ManifestDigest)
	}
	if !strings.HasPrefix(first.ID, "sha256:") || first.ID == first.ManifestDigest {
		t.Errorf("ID %s should be a config digest distinct from the manifest digest %s", first.ID, first.ManifestDigest)
	}
	other, err := r.Push(ctx, privateRepo+":c")
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	if other.ID == first.ID {
		t.Errorf("two Push calls gave the same image ID %s", other.ID)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{name: "reserved user", opts: Options{Users: map[string]string{AdminUsername: "x"}}},
		{name: "empty user", opts: Options{Users: map[string]string{"": "x"}}},
		{name: "unknown user in access list", opts: Options{Repos: map[string]Access{"a": {Users: []string{"ghost"}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(tc.opts)
			if err == nil {
				_ = r.Stop()
			}
			if !errors.Is(err, ErrInvalidOptions) {
				t.Errorf("New: %v, want ErrInvalidOptions", err)
			}
		})
	}
}

func TestRepositoryOf(t *testing.T) {
	tests := []struct {
		path string
		want string
	}{
		{path: "/v2/", want: ""},
		{path: "/v2/_catalog", want: ""},
		{path: "/v2/a/manifests/1", want: "a"},
		{path: "/v2/team/app/manifests/sha256:abc", want: "team/app"},
		{path: "/v2/team/app/blobs/sha256:abc", want: "team/app"},
		{path: "/v2/team/app/blobs/uploads/", want: "team/app"},
		{path: "/v2/team/app/blobs/uploads/123", want: "team/app"},
		{path: "/v2/team/app/tags/list", want: "team/app"},
		{path: "/v2/team/app/referrers/sha256:abc", want: "team/app"},
		{path: "/v2/manifests/1", want: ""},
		{path: "/other", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			if got := repositoryOf(tc.path); got != tc.want {
				t.Errorf("repositoryOf(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}
