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

package imageservice

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"

	"k8s.io/kubernetes/pkg/kubelet/cri/embedded/registry"
)

type env struct {
	reg    *registry.Registry
	srv    *Server
	client runtimeapi.ImageServiceClient
}

func aliceAuth() *runtimeapi.AuthConfig {
	return &runtimeapi.AuthConfig{Username: "alice", Password: "alice-pw"}
}

// newEnv starts a registry where alice may pull "private/app" and anyone
// "public/app", and an image service over opts (Logger is filled in).
func newEnv(ctx context.Context, t *testing.T, opts Options) *env {
	t.Helper()
	logger := klog.FromContext(ctx)
	reg, err := registry.New(registry.Options{
		Users:  map[string]string{"alice": "alice-pw"},
		Repos:  map[string]registry.Access{"private/app": {Users: []string{"alice"}}, "public/app": {Anonymous: true}},
		Logger: logger,
	})
	if err != nil {
		t.Fatalf("start registry: %v", err)
	}
	t.Cleanup(func() { _ = reg.Stop() })
	opts.Logger = logger
	srv, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return &env{reg: reg, srv: srv, client: dial(t, srv)}
}

func dial(t *testing.T, srv *Server) runtimeapi.ImageServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(srv.Endpoint(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial %s: %v", srv.Endpoint(), err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return runtimeapi.NewImageServiceClient(conn)
}

func (e *env) pull(ctx context.Context, image string, auth *runtimeapi.AuthConfig) (string, error) {
	resp, err := e.client.PullImage(ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: image}, Auth: auth})
	return resp.GetImageRef(), err
}

func (e *env) status(ctx context.Context, t *testing.T, image string) *runtimeapi.Image {
	t.Helper()
	resp, err := e.client.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: image}})
	if err != nil {
		t.Fatalf("ImageStatus(%s): %v", image, err)
	}
	return resp.GetImage()
}

func TestPullErrors(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	e := newEnv(ctx, t, Options{})
	if _, err := e.reg.Push(ctx, "private/app:1"); err != nil {
		t.Fatalf("Push: %v", err)
	}
	host := e.reg.Addr()
	ref := e.reg.Ref("private/app:1")

	tests := []struct {
		name         string
		image        string
		auth         *runtimeapi.AuthConfig
		stopRegistry bool
		wantCode     codes.Code
		wantText     string
	}{
		{
			name:     "wrong password gives containerd's 401 text",
			image:    ref,
			auth:     &runtimeapi.AuthConfig{Username: "alice", Password: "wrong"},
			wantCode: codes.Unknown,
			wantText: "failed to pull and unpack image \"" + ref + "\": failed to resolve reference \"" + ref + "\": pulling from host " + host + " failed with status code [manifests 1]: 401 Unauthorized",
		},
		{
			name:     "base64 auth with a wrong password",
			image:    ref,
			auth:     &runtimeapi.AuthConfig{Auth: "YWxpY2U6d3Jvbmc="}, // alice:wrong
			wantCode: codes.Unknown,
			wantText: "401 Unauthorized",
		},
		{
			name:     "absent tag",
			image:    e.reg.Ref("private/app:absent"),
			auth:     aliceAuth(),
			wantCode: codes.Unknown,
			wantText: "not found",
		},
		{
			name:     "invalid reference",
			image:    "UPPER/case:1",
			wantCode: codes.Unknown,
			wantText: "failed to parse image reference",
		},
		{
			name:     "bare host:port ServerAddress fails like containerd",
			image:    ref,
			auth:     &runtimeapi.AuthConfig{Username: "alice", Password: "alice-pw", ServerAddress: host},
			wantCode: codes.Unknown,
			wantText: "parse server address",
		},
		{
			name:         "registry down",
			image:        ref,
			auth:         aliceAuth(),
			stopRegistry: true,
			wantCode:     codes.Unknown,
			wantText: "failed to pull and unpack image \"" + ref + "\": failed to resolve reference \"" + ref + "\": failed to do request: Head \"http://" + host +
				"/v2/private/app/manifests/1\": dial tcp " + host + ": connect: connection refused",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.stopRegistry {
				if err := e.reg.Stop(); err != nil {
					t.Fatalf("stop registry: %v", err)
				}
				defer func() {
					if err := e.reg.Start(); err != nil {
						t.Fatalf("restart registry: %v", err)
					}
				}()
			}
			id, err := e.pull(ctx, tc.image, tc.auth)
			if err == nil {
				t.Fatalf("PullImage(%s) = %s, want an error", tc.image, id)
			}
			if got := status.Code(err); got != tc.wantCode {
				t.Errorf("code = %s, want %s", got, tc.wantCode)
			}
			if !strings.Contains(status.Convert(err).Message(), tc.wantText) {
				t.Errorf("error %q does not contain %q", status.Convert(err).Message(), tc.wantText)
			}
		})
	}
}

func TestPullAuthForms(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	e := newEnv(ctx, t, Options{})
	pushed, err := e.reg.Push(ctx, "private/app:1")
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	tests := []struct {
		name string
		auth *runtimeapi.AuthConfig
	}{
		{name: "username and password", auth: aliceAuth()},
		{name: "base64 auth", auth: &runtimeapi.AuthConfig{Auth: "YWxpY2U6YWxpY2UtcHc="}}, // alice:alice-pw
		{name: "ServerAddress URL of the image's host", auth: &runtimeapi.AuthConfig{Username: "alice", Password: "alice-pw", ServerAddress: "http://" + e.reg.Addr()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := e.pull(ctx, e.reg.Ref("private/app:1"), tc.auth)
			if err != nil {
				t.Fatalf("PullImage: %v", err)
			}
			if id != pushed.ID {
				t.Errorf("PullImage = %s, want %s", id, pushed.ID)
			}
		})
	}
}

func TestAuthenticator(t *testing.T) {
	tests := []struct {
		name          string
		host          string
		auth          *runtimeapi.AuthConfig
		wantAnonymous bool
		wantErr       bool
	}{
		{name: "nil", host: "reg.example:5000", auth: nil, wantAnonymous: true},
		{name: "empty", host: "reg.example:5000", auth: &runtimeapi.AuthConfig{}, wantAnonymous: true},
		{name: "no ServerAddress", host: "reg.example:5000", auth: &runtimeapi.AuthConfig{Username: "u", Password: "p"}},
		{name: "matching URL", host: "reg.example:5000", auth: &runtimeapi.AuthConfig{Username: "u", Password: "p", ServerAddress: "https://reg.example:5000"}},
		{name: "matching bare host without port", host: "reg.example", auth: &runtimeapi.AuthConfig{Username: "u", Password: "p", ServerAddress: "reg.example"}},
		{name: "host without the port dropped", host: "reg.example:5000", auth: &runtimeapi.AuthConfig{Username: "u", Password: "p", ServerAddress: "reg.example"}, wantAnonymous: true},
		{name: "other host dropped", host: "reg.example:5000", auth: &runtimeapi.AuthConfig{Username: "u", Password: "p", ServerAddress: "https://other.example"}, wantAnonymous: true},
		// url.Parse reads "reg.example:5000" as scheme "reg.example": no
		// host, so containerd drops the credentials.
		{name: "bare name:port dropped", host: "reg.example:5000", auth: &runtimeapi.AuthConfig{Username: "u", Password: "p", ServerAddress: "reg.example:5000"}, wantAnonymous: true},
		// "127.0.0.1:5000" does not parse at all: the pull fails.
		{name: "bare IP:port fails", host: "127.0.0.1:5000", auth: &runtimeapi.AuthConfig{Username: "u", Password: "p", ServerAddress: "127.0.0.1:5000"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := authenticator(tc.auth, tc.host)
			if gotErr := err != nil; gotErr != tc.wantErr {
				t.Fatalf("authenticator error = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if gotAnon := a == authn.Anonymous; gotAnon != tc.wantAnonymous {
				t.Errorf("anonymous = %v, want %v", gotAnon, tc.wantAnonymous)
			}
		})
	}
}

func TestTagMovesToNewImage(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	e := newEnv(ctx, t, Options{})
	ref := e.reg.Ref("public/app:moving")
	old, err := e.reg.Push(ctx, "public/app:moving")
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	if _, err := e.pull(ctx, ref, nil); err != nil {
		t.Fatalf("PullImage: %v", err)
	}
	newer, err := e.reg.Push(ctx, "public/app:moving")
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	if _, err := e.pull(ctx, ref, nil); err != nil {
		t.Fatalf("PullImage: %v", err)
	}
	if got := e.status(ctx, t, ref); got == nil || got.Id != newer.ID {
		t.Errorf("ImageStatus(%s) = %v, want %s", ref, got, newer.ID)
	}
	// The old image keeps its repo digest, so it stays, without the tag.
	got := e.status(ctx, t, old.ID)
	if got == nil {
		t.Fatalf("old image %s vanished; it still has a repo digest", old.ID)
	}
	if len(got.RepoTags) != 0 {
		t.Errorf("old image tags = %v, want none", got.RepoTags)
	}
}

func TestPreloadAndPulls(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	e := newEnv(ctx, t, Options{})
	pushed, err := e.reg.Push(ctx, "private/app:1")
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	user, password := e.reg.AdminCredentials()
	id, err := e.srv.Preload(ctx, e.reg.Ref("private/app:1"), &runtimeapi.AuthConfig{Username: user, Password: password})
	if err != nil {
		t.Fatalf("Preload: %v", err)
	}
	if id != pushed.ID {
		t.Errorf("Preload = %s, want %s", id, pushed.ID)
	}
	if got := e.status(ctx, t, e.reg.Ref("private/app:1")); got.GetId() != pushed.ID {
		t.Errorf("ImageStatus of the preloaded image = %v, want %s", got, pushed.ID)
	}
	if _, err := e.pull(ctx, e.reg.Ref("private/app:1"), nil); err == nil {
		t.Errorf("anonymous re-pull of a preloaded private image succeeded")
	}
	pulls := e.srv.Pulls()
	if len(pulls) != 2 {
		t.Fatalf("Pulls() = %d entries, want 2: %+v", len(pulls), pulls)
	}
	if pulls[0].Username != user || pulls[0].ImageRef != pushed.ID || pulls[0].Err != "" {
		t.Errorf("first pull = %+v, want the admin's successful pull of %s", pulls[0], pushed.ID)
	}
	if pulls[1].Username != "" || pulls[1].ImageRef != "" || !strings.Contains(pulls[1].Err, "401 Unauthorized") {
		t.Errorf("second pull = %+v, want an anonymous 401", pulls[1])
	}
	e.srv.ResetPulls()
	if got := e.srv.Pulls(); len(got) != 0 {
		t.Errorf("Pulls() after reset = %v, want none", got)
	}
}

func TestRestartKeepsImages(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	dir := t.TempDir()
	sockDir, err := os.MkdirTemp("", "cri")
	if err != nil {
		t.Fatalf("MkdirTemp: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(sockDir) })
	sock := filepath.Join(sockDir, "c.sock")
	e := newEnv(ctx, t, Options{Dir: dir, SocketPath: sock})
	pushed, err := e.reg.Push(ctx, "public/app:1")
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	if _, err := e.pull(ctx, e.reg.Ref("public/app:1"), nil); err != nil {
		t.Fatalf("PullImage: %v", err)
	}
	if err := e.srv.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket after Stop: %v, want it removed", err)
	}

	again, err := Start(Options{Dir: dir, SocketPath: sock})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	t.Cleanup(func() { _ = again.Stop() })
	client := dial(t, again)
	resp, err := client.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: e.reg.Ref("public/app:1")}})
	if err != nil {
		t.Fatalf("ImageStatus: %v", err)
	}
	if resp.GetImage().GetId() != pushed.ID {
		t.Errorf("after restart ImageStatus = %v, want %s", resp.GetImage(), pushed.ID)
	}
}

func TestListImagesAndFsInfo(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	e := newEnv(ctx, t, Options{})
	a, err := e.reg.Push(ctx, "public/app:a")
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	b, err := e.reg.Push(ctx, "public/app:b")
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	for _, tag := range []string{"a", "b"} {
		if _, err := e.pull(ctx, e.reg.Ref("public/app:"+tag), nil); err != nil {
			t.Fatalf("PullImage: %v", err)
		}
	}
	tests := []struct {
		name    string
		filter  *runtimeapi.ImageFilter
		wantIDs []string
	}{
		{name: "no filter", wantIDs: sortedPair(a.ID, b.ID)},
		{name: "filter by tag", filter: &runtimeapi.ImageFilter{Image: &runtimeapi.ImageSpec{Image: e.reg.Ref("public/app:b")}}, wantIDs: []string{b.ID}},
		{name: "filter by absent name", filter: &runtimeapi.ImageFilter{Image: &runtimeapi.ImageSpec{Image: e.reg.Ref("public/app:c")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := e.client.ListImages(ctx, &runtimeapi.ListImagesRequest{Filter: tc.filter})
			if err != nil {
				t.Fatalf("ListImages: %v", err)
			}
			var ids []string
			for _, img := range resp.Images {
				ids = append(ids, img.Id)
				if img.Size == 0 {
					t.Errorf("image %s has size 0; cri-client rejects that", img.Id)
				}
			}
			if strings.Join(ids, ",") != strings.Join(tc.wantIDs, ",") {
				t.Errorf("ListImages IDs = %v, want %v", ids, tc.wantIDs)
			}
		})
	}
	fs, err := e.client.ImageFsInfo(ctx, &runtimeapi.ImageFsInfoRequest{})
	if err != nil {
		t.Fatalf("ImageFsInfo: %v", err)
	}
	if len(fs.ImageFilesystems) != 1 || fs.ImageFilesystems[0].GetUsedBytes().GetValue() == 0 {
		t.Errorf("ImageFsInfo = %v, want one filesystem with content", fs)
	}
}

func sortedPair(a, b string) []string {
	if a < b {
		return []string{a, b}
	}
	return []string{b, a}
}

func TestCancelledPull(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	e := newEnv(ctx, t, Options{})
	if _, err := e.reg.Push(ctx, "public/app:1"); err != nil {
		t.Fatalf("Push: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err := e.srv.Preload(cancelled, e.reg.Ref("public/app:1"), nil)
	if got := status.Code(err); got != codes.Canceled {
		t.Errorf("pull with a cancelled context: %v, want code Canceled", err)
	}
}

func TestStartRejectsLongSocketPath(t *testing.T) {
	_, err := Start(Options{Dir: t.TempDir(), SocketPath: "/tmp/" + strings.Repeat("s", 120)})
	if !errors.Is(err, ErrSocketPathTooLong) {
		t.Errorf("Start: %v, want ErrSocketPathTooLong", err)
	}
}

func TestStopRemovesTemporaries(t *testing.T) {
	srv, err := Start(Options{})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	temps := append([]string(nil), srv.removeOnStop...)
	if len(temps) != 2 {
		t.Fatalf("temporary directories = %v, want content and socket directories", temps)
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	for _, d := range temps {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after Stop: %v, want it removed", d, err)
		}
	}
}

func TestWriteBlobVerifiesDigest(t *testing.T) {
	content := []byte("hello")
	good := sha256Digest(content)
	tests := []struct {
		name    string
		digest  string
		size    int64
		wantErr error
	}{
		{name: "matching", digest: good, size: int64(len(content))},
		{name: "unknown size", digest: good, size: -1},
		{name: "other content", digest: sha256Digest([]byte("bye")), size: int64(len(content)), wantErr: ErrDigestMismatch},
		{name: "wrong size", digest: good, size: 3, wantErr: ErrDigestMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := openStore(t.TempDir())
			if err != nil {
				t.Fatalf("openStore: %v", err)
			}
			err = s.writeBlob(tc.digest, tc.size, strings.NewReader(string(content)))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("writeBlob: %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil && s.hasBlob(tc.digest) {
				t.Errorf("blob %s stored despite the mismatch", tc.digest)
			}
		})
	}
}

func TestConcurrentPullsAndRemoves(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	e := newEnv(ctx, t, Options{})
	pushed, err := e.reg.Push(ctx, "private/app:1")
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	ref := e.reg.Ref("private/app:1")
	const workers = 8
	type result struct {
		valid bool
		id    string
		err   error
	}
	results := make(chan result, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			auth := aliceAuth()
			valid := i%2 == 0
			if !valid {
				auth.Password = "wrong"
			}
			if i%4 == 3 {
				// Removals race with the pulls; they must neither fail
				// nor break a pull that commits afterwards.
				_, _ = e.client.RemoveImage(ctx, &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
			}
			id, err := e.pull(ctx, ref, auth)
			results <- result{valid: valid, id: id, err: err}
		}()
	}
	wg.Wait()
	close(results)
	for r := range results {
		switch {
		case r.valid && (r.err != nil || r.id != pushed.ID):
			t.Errorf("valid pull = (%s, %v), want %s", r.id, r.err, pushed.ID)
		case !r.valid && r.err == nil:
			t.Errorf("refused pull succeeded with %s", r.id)
		}
	}
	// Whatever the interleaving, a final pull leaves a complete image.
	if _, err := e.pull(ctx, ref, aliceAuth()); err != nil {
		t.Fatalf("final pull: %v", err)
	}
	img := e.status(ctx, t, ref)
	if img.GetId() != pushed.ID {
		t.Fatalf("ImageStatus = %v, want %s", img, pushed.ID)
	}
	e.srv.store.mu.Lock()
	blobs := append([]string(nil), e.srv.store.images[pushed.ID].Blobs...)
	e.srv.store.mu.Unlock()
	for _, b := range blobs {
		if !e.srv.store.hasBlob(b) {
			t.Errorf("blob %s of the present image is missing", b)
		}
	}
}

// TestStopCancelsPullInFlight checks that Stop does not leave a pull
// running: the registry hangs until the request is cancelled, and Stop
// returns only after the handler has.
func TestStopCancelsPullInFlight(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	entered := make(chan struct{})
	var once sync.Once
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(entered) })
		<-r.Context().Done()
	}))
	defer hanging.Close()

	srv, err := Start(Options{})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	client := dial(t, srv)
	done := make(chan error, 1)
	go func() {
		_, err := client.PullImage(ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: hanging.Listener.Addr().String() + "/a/b:1"}})
		done <- err
	}()
	<-entered
	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := <-done; err == nil {
		t.Errorf("pull in flight during Stop succeeded, want an error")
	}
}
