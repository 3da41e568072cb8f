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

package remote

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2/ktesting"

	"k8s.io/kubernetes/pkg/kubelet/cri/embedded/imageservice"
	"k8s.io/kubernetes/pkg/kubelet/cri/embedded/registry"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

func TestImageServiceAndLister(t *testing.T) {
	logger, ctx := ktesting.NewTestContext(t)
	reg, err := registry.New(registry.Options{
		Repos:  map[string]registry.Access{"public/app": {Anonymous: true}},
		Logger: logger,
	})
	if err != nil {
		t.Fatalf("start registry: %v", err)
	}
	t.Cleanup(func() { _ = reg.Stop() })
	pushed, err := reg.Push(ctx, "public/app:1", "public/app:2")
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	srv, err := imageservice.Start(imageservice.Options{Logger: logger})
	if err != nil {
		t.Fatalf("start image service: %v", err)
	}
	t.Cleanup(func() { _ = srv.Stop() })

	svc, err := NewImageService(ctx, srv.Endpoint(), 10*time.Second)
	if err != nil {
		t.Fatalf("NewImageService: %v", err)
	}
	t.Cleanup(func() { _ = svc.Close(ctx) })
	lister := ImageLister{ImageService: svc}

	got, err := lister.ListImages(ctx)
	if err != nil {
		t.Fatalf("ListImages on an empty runtime: %v", err)
	}
	if len(got) != 0 {
		t.Errorf("ListImages on an empty runtime = %v, want none", got)
	}

	for _, tag := range []string{"public/app:1", "public/app:2"} {
		ref, err := svc.PullImage(ctx, &runtimeapi.ImageSpec{Image: reg.Ref(tag)}, nil, nil)
		if err != nil {
			t.Fatalf("PullImage(%s): %v", tag, err)
		}
		if ref != pushed.ID {
			t.Errorf("PullImage(%s) = %q, want the image ID %q", tag, ref, pushed.ID)
		}
	}
	got, err = lister.ListImages(ctx)
	if err != nil {
		t.Fatalf("ListImages: %v", err)
	}
	want := []pullmanager.RuntimeImage{{
		ID:          pushed.ID,
		RepoTags:    []string{reg.Ref("public/app:1"), reg.Ref("public/app:2")},
		RepoDigests: []string{reg.Ref("public/app@" + pushed.ManifestDigest)},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListImages (-want +got):\n%s", diff)
	}
}

func TestNewImageServiceUnreachable(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	// A socket path in a fresh directory: nothing listens there.
	endpoint := "unix://" + t.TempDir() + "/absent.sock"
	_, err := NewImageService(ctx, endpoint, 500*time.Millisecond)
	if err == nil {
		t.Fatalf("NewImageService(%s) succeeded, want an error", endpoint)
	}
}

// failingService is an image service whose ListImages fails. Any other call
// panics on the nil embedded interface, which makes it obvious.
type failingService struct {
	internalapi.ImageManagerService
	err error
}

func (f failingService) ListImages(context.Context, *runtimeapi.ImageFilter) ([]*runtimeapi.Image, error) {
	return nil, f.err
}

func TestListImagesError(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	errRuntime := errors.New("runtime down")
	images, err := ImageLister{ImageService: failingService{err: errRuntime}}.ListImages(ctx)
	if !errors.Is(err, errRuntime) {
		t.Errorf("ListImages error = %v, want it to wrap %v", err, errRuntime)
	}
	if images != nil {
		t.Errorf("ListImages returned %v with an error, want nil", images)
	}
}
