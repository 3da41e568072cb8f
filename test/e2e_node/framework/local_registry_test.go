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
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2/ktesting"
)

// TestLocalRegistry starts a real registry when its binaries are installed
// (hack/install-e2e-node-deps.sh), checks auth, the access log, and that
// Stop takes it down while Start brings back the same images. When the
// node e2e environment is set, it also pulls through containerd before and
// after the stop.
func TestLocalRegistry(t *testing.T) {
	for _, bin := range []string{"docker-registry", "htpasswd"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (hack/install-e2e-node-deps.sh): %v", bin, err)
		}
	}
	cfg, err := LoadConfig()
	if err != nil && !errors.Is(err, ErrNotConfigured) {
		t.Fatal(err)
	}

	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	user := Credential{Username: "local-1", Password: RandomSuffix()}
	opts := LocalRegistryOptions{Name: "local", Dir: t.TempDir(), Users: []Credential{user}}
	if cfg != nil {
		opts.CertsDir = cfg.ContainerdCertsDir
	}
	reg, err := StartLocalRegistry(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := reg.Close(); err != nil {
			t.Error(err)
		}
	})

	repo := "e2e/local-" + RandomSuffix()
	if _, err := reg.PushRandom(ctx, nil, repo+":v1"); err == nil {
		t.Errorf("anonymous push to a registry with users succeeded")
	}
	offset, err := reg.AccessLog.Offset()
	if err != nil {
		t.Fatal(err)
	}
	pushed, err := reg.PushRandom(ctx, &user, repo+":v1")
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, waitCancel := context.WithTimeout(ctx, 10*time.Second)
	defer waitCancel()
	if _, err := reg.AccessLog.WaitFor(waitCtx, offset, func(e AccessEntry) bool {
		return e.Method == "PUT" && e.IsManifest() && e.User == user.Username && e.Status == 201
	}); err != nil {
		t.Errorf("manifest push by %s not in the access log: %v", user.Username, err)
	}

	var svc interface {
		PullImage(context.Context, *runtimeapi.ImageSpec, *runtimeapi.AuthConfig, *runtimeapi.PodSandboxConfig) (string, error)
	}
	if cfg != nil && cfg.ContainerdCertsDir != "" {
		s, err := NewImageService(ctx, cfg.ContainerdEndpoint)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(context.Background()) })
		removeOnCleanup(t, s, pushed.Ref())
		svc = s
		if id, err := s.PullImage(ctx, &runtimeapi.ImageSpec{Image: pushed.Ref()}, user.AuthConfig(), nil); err != nil || id != pushed.ID {
			t.Fatalf("pull from the local registry: %q, %v; want %q", id, err, pushed.ID)
		}
	}

	if err := reg.Stop(); err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(pushed.Ref())
	if err != nil {
		t.Fatal(err)
	}
	auth := remote.WithAuth(&authn.Basic{Username: user.Username, Password: user.Password})
	if _, err := remote.Head(ref, remote.WithContext(ctx), auth); err == nil {
		t.Errorf("stopped registry answered")
	}
	if svc != nil {
		_, err := svc.PullImage(ctx, &runtimeapi.ImageSpec{Image: pushed.Ref()}, user.AuthConfig(), nil)
		if err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("pull from the stopped registry: %v, want connection refused", err)
		}
	}

	if err := reg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(ref, remote.WithContext(ctx), auth)
	if err != nil {
		t.Fatalf("restarted registry: %v", err)
	}
	if desc.Digest.String() != pushed.ManifestDigest {
		t.Errorf("restarted registry serves %s, want %s", desc.Digest, pushed.ManifestDigest)
	}
}
