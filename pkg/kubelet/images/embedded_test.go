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

package images

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2/ktesting"

	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/cri/embedded/imageservice"
	"k8s.io/kubernetes/pkg/kubelet/cri/embedded/registry"
	"k8s.io/kubernetes/pkg/kubelet/cri/remote"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// TestEmbeddedRuntime runs the image manager over the real CRI client, the
// embedded image service on a unix socket and the embedded registry with
// per-repository access: real pulls, real 401s, and a reuse that never
// reaches the registry.
func TestEmbeddedRuntime(t *testing.T) {
	logger, ctx := ktesting.NewTestContext(t)
	reg, err := registry.New(registry.Options{
		Users:  map[string]string{"alice": "alice-pw"},
		Repos:  map[string]registry.Access{"team-a/app": {Users: []string{"alice"}}},
		Logger: logger,
	})
	if err != nil {
		t.Fatalf("starting the registry: %v", err)
	}
	t.Cleanup(func() { _ = reg.Stop() })
	pushed, err := reg.Push(ctx, "team-a/app:1")
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	image := reg.Ref("team-a/app:1")

	srv, err := imageservice.Start(imageservice.Options{Logger: logger})
	if err != nil {
		t.Fatalf("starting the image service: %v", err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	svc, err := remote.NewImageService(ctx, srv.Endpoint(), 30*time.Second)
	if err != nil {
		t.Fatalf("NewImageService: %v", err)
	}
	t.Cleanup(func() { _ = svc.Close(ctx) })

	rootDir := t.TempDir()
	pm, err := pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{
		RootDir:     rootDir,
		Policy:      kubeletconfig.AlwaysVerify,
		ImageLister: remote.ImageLister{ImageService: svc},
	})
	if err != nil {
		t.Fatalf("NewFileBackedPullManager: %v", err)
	}
	t.Cleanup(func() { _ = pm.Close() })

	// The Secrets key the registry by host:port, as a tenant would.
	secret := func(ns, name string) *v1.Secret {
		s := dockerSecret(ns, name, "uid-"+name, "alice", "alice-pw")
		s.Data[v1.DockerConfigJsonKey] = dockerConfigJSON(reg.Addr(), "alice", "alice-pw")
		return s
	}
	env := &testEnv{t: t, rootDir: rootDir, recorder: &fakeRecorder{}, secrets: map[string]*v1.Secret{
		nsX + "/s1": secret(nsX, "s1"),
		nsX + "/s2": secret(nsX, "s2"),
	}}
	env.manager, err = NewImageManager(Options{
		ImageService:             svc,
		PullManager:              pm,
		EnsureSecretPulledImages: true,
		Recorder:                 env.recorder,
		GetSecret:                env.getSecret,
		SerializeImagePulls:      true,
	})
	if err != nil {
		t.Fatalf("NewImageManager: %v", err)
	}
	t.Cleanup(env.manager.Stop)

	// Pod A pulls with S1.
	res := env.mustAdmit(ctx, newPod(nsX, "pod-a", image, v1.PullIfNotPresent, "s1"))
	if res.ImageRef != pushed.ID || !res.PullAttempted || res.Verification != pullmanager.VerificationNotPresent {
		t.Errorf("pod A = %+v, want a pull admitted as %s", res, pushed.ID)
	}
	if diff := cmp.Diff([]string{nsX + "/s1"}, env.recordedCredentials(pushed.ID, image)); diff != "" {
		t.Errorf("recorded after pod A (-want +got):\n%s", diff)
	}

	// Pod B without a Secret: the registry refuses it.
	res, err = env.ensure(ctx, newPod(nsY, "pod-b", image, v1.PullIfNotPresent))
	if !errors.Is(err, ErrImagePull) || !res.PullAttempted || !strings.Contains(res.Message, "401 Unauthorized") {
		t.Errorf("pod B without a Secret = %+v, %v; want ErrImagePull with the registry's 401", res, err)
	}
	res, err = env.ensure(ctx, newPod(nsY, "pod-b-never", image, v1.PullNever))
	if !errors.Is(err, ErrImageNeverPull) || res.PullAttempted {
		t.Errorf("pod B without a Secret, Never = %+v, %v; want ErrImageNeverPull", res, err)
	}

	// Pod C presents S2, another Secret with S1's credentials: admitted
	// from the record, without contacting the registry.
	reg.ResetAccessLog()
	srv.ResetPulls()
	res = env.mustAdmit(ctx, newPod(nsX, "pod-c", image, v1.PullIfNotPresent, "s2"))
	if res.ImageRef != pushed.ID || res.PullAttempted || res.Verification != pullmanager.VerificationSecretHash {
		t.Errorf("pod C = %+v, want reused by secretHash", res)
	}
	if log := reg.AccessLog(); len(log) != 0 {
		t.Errorf("registry contacted for pod C: %+v", log)
	}
	if pulls := srv.Pulls(); len(pulls) != 0 {
		t.Errorf("runtime pulls for pod C: %+v", pulls)
	}
	if diff := cmp.Diff([]string{nsX + "/s1", nsX + "/s2"}, env.recordedCredentials(pushed.ID, image)); diff != "" {
		t.Errorf("recorded after pod C (-want +got):\n%s", diff)
	}
}
