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

package behavior

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"slices"
	"strings"

	dockerref "github.com/distribution/reference"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// unauthorizedText is what containerd (and the embedded service) put in the
// error of a pull whose credentials the registry refused.
const unauthorizedText = "401 Unauthorized"

// Cases returns the suite, in a stable order.
func Cases() []Case {
	return []Case{
		{Name: "PullImage returns the config digest as image ID", Run: pullReturnsConfigDigest},
		{Name: "ImageStatus reports normalised repo tags and repo digests", Run: statusReportsNormalisedNames},
		{Name: "ImageStatus finds an image by ID, tag and repo digest", Run: statusFindsByEveryName},
		{Name: "one image ID under two names lists both names", Run: oneIDTwoNames},
		{Name: "a pull by digest records the repo digest and no tag", Run: pullByDigest},
		{Name: "refused credentials fail with code Unknown and 401 Unauthorized", Run: refusedCredentials},
		{Name: "valid credentials with an empty ServerAddress pull", Run: emptyServerAddress},
		{Name: "credentials whose ServerAddress names another host are dropped", Run: foreignServerAddress},
		{Name: "a bare host:port ServerAddress fails the pull", Run: bareServerAddress},
		{Name: "an anonymous pull of a public image succeeds", Run: anonymousPublic},
		{Name: "an anonymous pull of a private image fails with 401 Unauthorized", Run: anonymousPrivate},
		{Name: "re-pulling a present image checks the credentials again", Run: repullChecksCredentials},
		{Name: "a pull from an unreachable registry fails with connection refused", Run: unreachableRegistry},
		{Name: "RemoveImage removes every name and is idempotent", Run: removeIdempotent},
		{Name: "ImageStatus of an absent image returns no image and no error", Run: statusAbsent},
		{Name: "RuntimeService calls answer Unimplemented", EmbeddedOnly: true, Run: runtimeUnimplemented},
	}
}

func pullReturnsConfigDigest(ctx context.Context, t T, f *Fixture) {
	image := uniqueRef(t, f.Private.Repo)
	pushed := push(ctx, t, f, image)
	id := mustPull(ctx, t, f, image, f.Private.Valid.AuthConfig())
	defer remove(ctx, t, f, id)
	if id != pushed.ID {
		t.Errorf("PullImage(%s) = %s, want the config digest %s (manifest digest is %s)", image, id, pushed.ID, pushed.ManifestDigest)
	}
	if got := mustStatus(ctx, t, f, id); got == nil || got.Id != pushed.ID {
		t.Errorf("ImageStatus(%s) = %v, want image %s", id, got, pushed.ID)
	}
}

func statusReportsNormalisedNames(ctx context.Context, t T, f *Fixture) {
	tagged := uniqueRef(t, f.Private.Repo)
	latest := f.Private.Repo + ":latest"
	pushed := push(ctx, t, f, tagged, latest)
	// The untagged spelling must come back as ":latest".
	id := mustPull(ctx, t, f, f.Private.Repo, f.Private.Valid.AuthConfig())
	defer remove(ctx, t, f, id)
	mustPull(ctx, t, f, tagged, f.Private.Valid.AuthConfig())

	img := mustStatus(ctx, t, f, id)
	if img == nil {
		t.Fatalf("ImageStatus(%s) = nil after pulling it", id)
	}
	expectSet(t, "repo tags", img.RepoTags, []string{normalised(t, tagged), normalised(t, latest)})
	expectSet(t, "repo digests", img.RepoDigests, []string{repoName(t, f.Private.Repo) + "@" + pushed.ManifestDigest})
}

func statusFindsByEveryName(ctx context.Context, t T, f *Fixture) {
	image := uniqueRef(t, f.Private.Repo)
	pushed := push(ctx, t, f, image)
	id := mustPull(ctx, t, f, image, f.Private.Valid.AuthConfig())
	defer remove(ctx, t, f, id)
	for _, spec := range []string{id, image, f.Private.Repo + "@" + pushed.ManifestDigest} {
		got := mustStatus(ctx, t, f, spec)
		if got == nil || got.Id != pushed.ID {
			t.Errorf("ImageStatus(%s) = %v, want image %s", spec, got, pushed.ID)
		}
	}
}

func oneIDTwoNames(ctx context.Context, t T, f *Fixture) {
	first := uniqueRef(t, f.Private.Repo)
	second := uniqueRef(t, f.Private.OtherRepo)
	pushed := push(ctx, t, f, first, second)
	id1 := mustPull(ctx, t, f, first, f.Private.Valid.AuthConfig())
	defer remove(ctx, t, f, id1)
	id2 := mustPull(ctx, t, f, second, f.Private.Valid.AuthConfig())
	if id1 != pushed.ID || id2 != pushed.ID {
		t.Fatalf("pulled IDs %s and %s, want both %s", id1, id2, pushed.ID)
	}
	wantTags := []string{normalised(t, first), normalised(t, second)}
	wantDigests := []string{
		repoName(t, f.Private.Repo) + "@" + pushed.ManifestDigest,
		repoName(t, f.Private.OtherRepo) + "@" + pushed.ManifestDigest,
	}
	for _, spec := range []string{first, second} {
		img := mustStatus(ctx, t, f, spec)
		if img == nil {
			t.Fatalf("ImageStatus(%s) = nil after pulling it", spec)
		}
		expectSet(t, "repo tags of "+spec, img.RepoTags, wantTags)
		expectSet(t, "repo digests of "+spec, img.RepoDigests, wantDigests)
	}
	images, err := f.Images.ListImages(ctx, nil)
	if err != nil {
		t.Fatalf("ListImages: %v", err)
	}
	var found []*runtimeapi.Image
	for _, img := range images {
		if img.Id == pushed.ID {
			found = append(found, img)
		}
	}
	if len(found) != 1 {
		t.Fatalf("ListImages lists image %s %d times, want once", pushed.ID, len(found))
	}
	expectSet(t, "listed repo tags", found[0].RepoTags, wantTags)
}

func pullByDigest(ctx context.Context, t T, f *Fixture) {
	tagged := uniqueRef(t, f.Private.Repo)
	pushed := push(ctx, t, f, tagged)
	byDigest := f.Private.Repo + "@" + pushed.ManifestDigest
	id := mustPull(ctx, t, f, byDigest, f.Private.Valid.AuthConfig())
	defer remove(ctx, t, f, id)
	if id != pushed.ID {
		t.Errorf("PullImage(%s) = %s, want %s", byDigest, id, pushed.ID)
	}
	img := mustStatus(ctx, t, f, byDigest)
	if img == nil {
		t.Fatalf("ImageStatus(%s) = nil after pulling it", byDigest)
	}
	expectSet(t, "repo digests", img.RepoDigests, []string{normalised(t, byDigest)})
	expectSet(t, "repo tags", img.RepoTags, nil)
}

func refusedCredentials(ctx context.Context, t T, f *Fixture) {
	image := uniqueRef(t, f.Private.Repo)
	push(ctx, t, f, image)
	expectUnauthorized(ctx, t, f, image, f.Private.Refused.AuthConfig())
	if img := mustStatus(ctx, t, f, image); img != nil {
		defer remove(ctx, t, f, img.Id)
		t.Errorf("ImageStatus(%s) = %s after a refused pull, want no image", image, img.Id)
	}
}

func emptyServerAddress(ctx context.Context, t T, f *Fixture) {
	image := uniqueRef(t, f.Private.Repo)
	pushed := push(ctx, t, f, image)
	auth := &runtimeapi.AuthConfig{Username: f.Private.Valid.Username, Password: f.Private.Valid.Password, ServerAddress: ""}
	id := mustPull(ctx, t, f, image, auth)
	defer remove(ctx, t, f, id)
	if id != pushed.ID {
		t.Errorf("PullImage(%s) = %s, want %s", image, id, pushed.ID)
	}
}

func foreignServerAddress(ctx context.Context, t T, f *Fixture) {
	image := uniqueRef(t, f.Private.Repo)
	push(ctx, t, f, image)
	auth := f.Private.Valid.AuthConfig()
	auth.ServerAddress = "https://registry.invalid"
	expectUnauthorized(ctx, t, f, image, auth)
}

func bareServerAddress(ctx context.Context, t T, f *Fixture) {
	image := uniqueRef(t, f.Private.Repo)
	push(ctx, t, f, image)
	auth := f.Private.Valid.AuthConfig()
	auth.ServerAddress = hostOf(image)
	if !strings.Contains(auth.ServerAddress, ":") {
		t.Logf("registry host %q has no port; the bare-address pitfall needs one", auth.ServerAddress)
		return
	}
	id, err := f.Images.PullImage(ctx, &runtimeapi.ImageSpec{Image: image}, auth, nil)
	if err == nil {
		defer remove(ctx, t, f, id)
		t.Errorf("PullImage(%s) with ServerAddress %q succeeded, want an error", image, auth.ServerAddress)
	}
}

func anonymousPublic(ctx context.Context, t T, f *Fixture) {
	image := uniqueRef(t, f.Public)
	pushed := push(ctx, t, f, image)
	id := mustPull(ctx, t, f, image, nil)
	defer remove(ctx, t, f, id)
	if id != pushed.ID {
		t.Errorf("PullImage(%s) = %s, want %s", image, id, pushed.ID)
	}
}

func anonymousPrivate(ctx context.Context, t T, f *Fixture) {
	image := uniqueRef(t, f.Private.Repo)
	push(ctx, t, f, image)
	expectUnauthorized(ctx, t, f, image, nil)
}

func repullChecksCredentials(ctx context.Context, t T, f *Fixture) {
	image := uniqueRef(t, f.Private.Repo)
	push(ctx, t, f, image)
	id := mustPull(ctx, t, f, image, f.Private.Valid.AuthConfig())
	defer remove(ctx, t, f, id)
	// The image is present; the runtime still asks the registry, so the
	// registry's refusal must come through.
	expectUnauthorized(ctx, t, f, image, f.Private.Refused.AuthConfig())
	expectUnauthorized(ctx, t, f, image, nil)
	if img := mustStatus(ctx, t, f, image); img == nil || img.Id != id {
		t.Errorf("ImageStatus(%s) = %v after refused re-pulls, want the present image %s", image, img, id)
	}
}

func unreachableRegistry(ctx context.Context, t T, f *Fixture) {
	// A port that was free a moment ago: nothing listens there, so the
	// dial is refused, as when a registry is down.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := lis.Addr().String()
	if err := lis.Close(); err != nil {
		t.Fatalf("close probe listener: %v", err)
	}
	image := uniqueRef(t, addr+"/down/app")
	id, err := f.Images.PullImage(ctx, &runtimeapi.ImageSpec{Image: image}, f.Private.Valid.AuthConfig(), nil)
	if err == nil {
		defer remove(ctx, t, f, id)
		t.Fatalf("PullImage(%s) from a closed port succeeded with %s", image, id)
	}
	t.Logf("PullImage(%s) failed as expected: %v", image, err)
	if code := status.Code(err); code != codes.Unknown {
		t.Errorf("PullImage(%s) code = %s, want %s", image, code, codes.Unknown)
	}
	if !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("PullImage(%s) error %q does not contain %q", image, err, "connection refused")
	}
	if strings.Contains(err.Error(), unauthorizedText) {
		t.Errorf("PullImage(%s) error %q looks like a refusal, want a plain pull error", image, err)
	}
}

func removeIdempotent(ctx context.Context, t T, f *Fixture) {
	first := uniqueRef(t, f.Private.Repo)
	second := uniqueRef(t, f.Private.OtherRepo)
	push(ctx, t, f, first, second)
	id := mustPull(ctx, t, f, first, f.Private.Valid.AuthConfig())
	defer remove(ctx, t, f, id)
	mustPull(ctx, t, f, second, f.Private.Valid.AuthConfig())

	if err := f.Images.RemoveImage(ctx, &runtimeapi.ImageSpec{Image: id}); err != nil {
		t.Fatalf("RemoveImage(%s): %v", id, err)
	}
	for _, spec := range []string{id, first, second} {
		if img := mustStatus(ctx, t, f, spec); img != nil {
			t.Errorf("ImageStatus(%s) = %s after RemoveImage, want no image", spec, img.Id)
		}
	}
	for _, spec := range []string{id, first, uniqueRef(t, f.Private.Repo)} {
		if err := f.Images.RemoveImage(ctx, &runtimeapi.ImageSpec{Image: spec}); err != nil {
			t.Errorf("RemoveImage(%s) of an absent image: %v, want success", spec, err)
		}
	}
}

func statusAbsent(ctx context.Context, t T, f *Fixture) {
	never := uniqueRef(t, f.Private.Repo)
	absentDigest := f.Private.Repo + "@sha256:" + strings.Repeat("0", 64)
	for _, spec := range []string{never, absentDigest} {
		resp, err := f.Images.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: spec}, false)
		if err != nil {
			t.Errorf("ImageStatus(%s): %v, want no error", spec, err)
			continue
		}
		if resp.GetImage() != nil {
			t.Errorf("ImageStatus(%s) = %s, want no image", spec, resp.GetImage().Id)
		}
	}
}

func runtimeUnimplemented(ctx context.Context, t T, f *Fixture) {
	if f.Runtime == nil {
		t.Logf("no RuntimeService client in the fixture; nothing to check")
		return
	}
	calls := map[string]func() error{
		"Version": func() error {
			_, err := f.Runtime.Version(ctx, &runtimeapi.VersionRequest{})
			return err
		},
		"ListContainers": func() error {
			_, err := f.Runtime.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
			return err
		},
		"RunPodSandbox": func() error {
			_, err := f.Runtime.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{})
			return err
		},
	}
	for _, name := range []string{"Version", "ListContainers", "RunPodSandbox"} {
		if code := status.Code(calls[name]()); code != codes.Unimplemented {
			t.Errorf("%s answered %s, want %s", name, code, codes.Unimplemented)
		}
	}
}

// push pushes one new image under refs or stops the case.
func push(ctx context.Context, t T, f *Fixture, refs ...string) Pushed {
	t.Helper()
	p, err := f.Push(ctx, refs...)
	if err != nil {
		t.Fatalf("push %v: %v", refs, err)
	}
	return p
}

func mustPull(ctx context.Context, t T, f *Fixture, image string, auth *runtimeapi.AuthConfig) string {
	t.Helper()
	id, err := f.Images.PullImage(ctx, &runtimeapi.ImageSpec{Image: image}, auth, nil)
	if err != nil {
		t.Fatalf("PullImage(%s): %v", image, err)
	}
	return id
}

// expectUnauthorized pulls image with auth and expects the registry's
// refusal: code Unknown (cri-client strips that code, leaving a plain error,
// which status.Code also reports as Unknown) and "401 Unauthorized".
func expectUnauthorized(ctx context.Context, t T, f *Fixture, image string, auth *runtimeapi.AuthConfig) {
	t.Helper()
	id, err := f.Images.PullImage(ctx, &runtimeapi.ImageSpec{Image: image}, auth, nil)
	if err == nil {
		defer remove(ctx, t, f, id)
		t.Errorf("PullImage(%s) succeeded with image %s, want 401 Unauthorized", image, id)
		return
	}
	t.Logf("PullImage(%s) failed as expected: %v", image, err)
	if code := status.Code(err); code != codes.Unknown {
		t.Errorf("PullImage(%s) code = %s, want %s (error: %v)", image, code, codes.Unknown, err)
	}
	if !strings.Contains(err.Error(), unauthorizedText) {
		t.Errorf("PullImage(%s) error %q does not contain %q", image, err, unauthorizedText)
	}
}

func mustStatus(ctx context.Context, t T, f *Fixture, spec string) *runtimeapi.Image {
	t.Helper()
	resp, err := f.Images.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: spec}, false)
	if err != nil {
		t.Fatalf("ImageStatus(%s): %v", spec, err)
	}
	return resp.GetImage()
}

// remove is the cases' cleanup; a failure is reported but does not hide the
// case's own result.
func remove(ctx context.Context, t T, f *Fixture, id string) {
	t.Helper()
	if id == "" {
		return
	}
	if err := f.Images.RemoveImage(ctx, &runtimeapi.ImageSpec{Image: id}); err != nil {
		t.Errorf("cleanup: RemoveImage(%s): %v", id, err)
	}
}

// uniqueRef returns repo with a new random tag, so cases never see each
// other's images, even against a long-lived runtime.
func uniqueRef(t T, repo string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random tag: %v", err)
	}
	return repo + ":t-" + hex.EncodeToString(b)
}

// normalised is the runtime's spelling of ref: fully qualified, ":latest"
// when it has neither tag nor digest.
func normalised(t T, ref string) string {
	t.Helper()
	named, err := dockerref.ParseNormalizedNamed(ref)
	if err != nil {
		t.Fatalf("parse %q: %v", ref, err)
	}
	return dockerref.TagNameOnly(named).String()
}

// repoName is the fully qualified repository of ref, without tag or digest,
// as repo digests spell it.
func repoName(t T, ref string) string {
	t.Helper()
	named, err := dockerref.ParseNormalizedNamed(ref)
	if err != nil {
		t.Fatalf("parse %q: %v", ref, err)
	}
	return named.Name()
}

// hostOf returns the registry host of ref ("127.0.0.1:40123"), "" if ref
// does not parse.
func hostOf(ref string) string {
	named, err := dockerref.ParseNormalizedNamed(ref)
	if err != nil {
		return ""
	}
	return dockerref.Domain(named)
}

// expectSet compares two lists of names ignoring order, since runtimes do
// not promise one.
func expectSet(t T, what string, got, want []string) {
	t.Helper()
	g := slices.Sorted(slices.Values(got))
	w := slices.Sorted(slices.Values(want))
	if !slices.Equal(g, w) {
		t.Errorf("%s = %v, want %v", what, g, w)
	}
}
