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

package behavior_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	remote "k8s.io/cri-client/pkg"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"

	"k8s.io/kubernetes/pkg/kubelet/cri/behavior"
	"k8s.io/kubernetes/pkg/kubelet/cri/embedded/imageservice"
	"k8s.io/kubernetes/pkg/kubelet/cri/embedded/registry"
)

// TestEmbedded runs the whole suite, EmbeddedOnly cases included, against
// the embedded image service and registry, through k8s.io/cri-client, the
// client the kubelet uses.
func TestEmbedded(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	f := embeddedFixture(ctx, t)
	if err := f.Validate(); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	for _, c := range behavior.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			c.Run(ctx, t, f)
		})
	}
}

func TestValidateRejectsIncompleteFixture(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	complete := *embeddedFixture(ctx, t)
	tests := []struct {
		name   string
		mutate func(f *behavior.Fixture)
	}{
		{name: "no image service", mutate: func(f *behavior.Fixture) { f.Images = nil }},
		{name: "no pusher", mutate: func(f *behavior.Fixture) { f.Push = nil }},
		{name: "no second private repository", mutate: func(f *behavior.Fixture) { f.Private.OtherRepo = "" }},
		{name: "no refused credentials", mutate: func(f *behavior.Fixture) { f.Private.Refused = behavior.Credentials{} }},
		{name: "no public repository", mutate: func(f *behavior.Fixture) { f.Public = "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := complete
			tc.mutate(&f)
			if err := f.Validate(); !errors.Is(err, behavior.ErrIncompleteFixture) {
				t.Errorf("Validate() = %v, want ErrIncompleteFixture", err)
			}
		})
	}
}

// embeddedFixture starts a registry (alice may pull the private
// repositories; bob is a valid user without access, so the registry refuses
// him with 401) and an image service, and stops both when the test ends.
func embeddedFixture(ctx context.Context, t *testing.T) *behavior.Fixture {
	t.Helper()
	logger := klog.FromContext(ctx)
	reg, err := registry.New(registry.Options{
		Users: map[string]string{"alice": "alice-pw", "bob": "bob-pw"},
		Repos: map[string]registry.Access{
			"private/app":   {Users: []string{"alice"}},
			"private/other": {Users: []string{"alice"}},
			"public/app":    {Anonymous: true},
		},
		Logger: logger,
	})
	if err != nil {
		t.Fatalf("start registry: %v", err)
	}
	t.Cleanup(func() {
		if err := reg.Stop(); err != nil {
			t.Errorf("stop registry: %v", err)
		}
	})

	srv, err := imageservice.Start(imageservice.Options{Dir: t.TempDir(), Logger: logger})
	if err != nil {
		t.Fatalf("start image service: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop image service: %v", err)
		}
	})

	images, err := remote.NewRemoteImageServiceBuilder().
		WithEndpoint(srv.Endpoint()).
		WithConnectionTimeout(30 * time.Second).
		Build(ctx)
	if err != nil {
		t.Fatalf("connect image service: %v", err)
	}
	t.Cleanup(func() { _ = images.Close(ctx) })

	// cri-client's runtime client insists on a working Version call, which
	// an images-only endpoint does not offer; a raw client is what the
	// Unimplemented case needs anyway.
	conn, err := grpc.NewClient(srv.Endpoint(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("connect runtime service: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })

	admin, password := reg.AdminCredentials()
	return &behavior.Fixture{
		Images:  images,
		Runtime: runtimeapi.NewRuntimeServiceClient(conn),
		Private: behavior.Private{
			Repo:      reg.Ref("private/app"),
			OtherRepo: reg.Ref("private/other"),
			Valid:     behavior.Credentials{Username: "alice", Password: "alice-pw"},
			Refused:   behavior.Credentials{Username: "bob", Password: "bob-pw"},
		},
		Public: reg.Ref("public/app"),
		Push:   behavior.NewPusher(map[string]behavior.Credentials{reg.Addr(): {Username: admin, Password: password}}),
	}
}
