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

package framework

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2/ktesting"
)

// TestSmoke checks, against the running components, everything the suite
// builds on: push with credentials, a CRI pull with a user's credentials,
// the image ID, repo tags and digests, an anonymous pull refused with 401,
// the access log naming the user, and removal. It skips unless the
// environment of hack/local-up-e2e-node.sh is set.
func TestSmoke(t *testing.T) {
	cfg, err := LoadConfig()
	if errors.Is(err, ErrNotConfigured) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	regA, err := cfg.Registry(RegistryA)
	if err != nil {
		t.Fatal(err)
	}
	if len(regA.Users) < 2 {
		t.Fatalf("registry A needs two users, has %d", len(regA.Users))
	}
	if regA.AccessLog.Path == "" {
		t.Fatalf("registry A has no access log configured")
	}
	user1 := regA.Users[0]

	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	svc, err := NewImageService(ctx, cfg.ContainerdEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close(context.Background()) })

	repo := "e2e/smoke-" + RandomSuffix()
	pushed, err := regA.PushRandom(ctx, &user1, repo+":v1", repo+":alias")
	if err != nil {
		t.Fatal(err)
	}
	ref, alias := pushed.Refs[0], pushed.Refs[1]
	for _, r := range pushed.Refs {
		removeOnCleanup(t, svc, r)
	}

	offset, err := regA.AccessLog.Offset()
	if err != nil {
		t.Fatal(err)
	}

	imageRef, err := svc.PullImage(ctx, &runtimeapi.ImageSpec{Image: ref}, user1.AuthConfig(), nil)
	if err != nil {
		t.Fatalf("pull %s as %s: %v", ref, user1.Username, err)
	}
	if imageRef != pushed.ID {
		t.Errorf("PullImage returned %q, want the config digest %q", imageRef, pushed.ID)
	}

	status, err := svc.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: ref}, false)
	if err != nil {
		t.Fatal(err)
	}
	if status.GetImage() == nil {
		t.Fatalf("ImageStatus(%s): no image after the pull", ref)
	}
	if got := status.GetImage().GetId(); got != pushed.ID {
		t.Errorf("ImageStatus id %q, want %q", got, pushed.ID)
	}
	if tags := status.GetImage().GetRepoTags(); !slices.Contains(tags, ref) || slices.Contains(tags, alias) {
		t.Errorf("ImageStatus repo tags %v, want %s and not %s (never pulled)", tags, ref, alias)
	}
	digestRef, err := pushed.DigestRef(ref)
	if err != nil {
		t.Fatal(err)
	}
	if digests := status.GetImage().GetRepoDigests(); !slices.Contains(digests, digestRef) {
		t.Errorf("ImageStatus repo digests %v, want %s", digests, digestRef)
	}

	// The alias is the same image; anonymously, registry A must refuse it.
	_, err = svc.PullImage(ctx, &runtimeapi.ImageSpec{Image: alias}, nil, nil)
	if err == nil {
		t.Fatalf("anonymous pull of %s from registry A succeeded", alias)
	}
	if !strings.Contains(err.Error(), "401 Unauthorized") {
		t.Errorf("anonymous pull error %q, want it to contain 401 Unauthorized", err)
	}

	waitCtx, waitCancel := context.WithTimeout(ctx, 10*time.Second)
	defer waitCancel()
	entries, err := regA.AccessLog.WaitFor(waitCtx, offset, func(e AccessEntry) bool {
		return e.IsManifest() && e.Served() && e.User == user1.Username && e.Repository == repo
	})
	if err != nil {
		t.Fatalf("no manifest fetch of %s by %s in the access log: %v; saw %v", repo, user1.Username, err, entries)
	}
	if anon := entries.ForRepository(repo).ManifestFetches().ByUser(""); len(anon) > 0 {
		t.Errorf("registry A served manifests anonymously: %v", anon)
	}

	if err := svc.RemoveImage(ctx, &runtimeapi.ImageSpec{Image: ref}); err != nil {
		t.Fatal(err)
	}
	status, err = svc.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: ref}, false)
	if err != nil {
		t.Fatal(err)
	}
	if status.GetImage() != nil {
		t.Errorf("ImageStatus(%s) after RemoveImage: %v, want no image", ref, status.GetImage())
	}
}

// removeOnCleanup removes ref from the runtime when the test ends, so runs
// against a long-lived containerd leave nothing behind. RemoveImage of an
// absent image succeeds.
func removeOnCleanup(t *testing.T, svc internalapi.ImageManagerService, ref string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := svc.RemoveImage(ctx, &runtimeapi.ImageSpec{Image: ref}); err != nil {
			t.Errorf("cleanup: remove %s: %v", ref, err)
		}
	})
}
