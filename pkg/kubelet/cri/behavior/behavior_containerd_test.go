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
	"os"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	remote "k8s.io/cri-client/pkg"
	"k8s.io/klog/v2/ktesting"

	"k8s.io/kubernetes/pkg/kubelet/cri/behavior"
)

// TestContainerd runs the suite against the containerd and distribution
// registries that hack/local-up-e2e-node.sh starts, reading the environment
// that script exports; it is skipped when that environment is absent (as in
// "make test"). Run it with:
//
//	go test -c -o /tmp/behavior.test ./pkg/kubelet/cri/behavior
//	hack/local-up-e2e-node.sh -- /tmp/behavior.test -test.run TestContainerd -test.v
//
// The node e2e suite runs the same cases under Ginkgo; this runner is the
// quick way to check a change to a case against the real runtime.
func TestContainerd(t *testing.T) {
	endpoint := os.Getenv("E2E_CONTAINERD_ENDPOINT")
	if endpoint == "" {
		t.Skip("E2E_CONTAINERD_ENDPOINT is not set; start the node e2e components with hack/local-up-e2e-node.sh")
	}
	_, ctx := ktesting.NewTestContext(t)
	images, err := remote.NewRemoteImageServiceBuilder().
		WithEndpoint(endpoint).
		WithConnectionTimeout(time.Minute).
		Build(ctx)
	if err != nil {
		t.Fatalf("connect to containerd: %v", err)
	}
	defer func() { _ = images.Close(ctx) }()
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("connect to containerd: %v", err)
	}
	defer func() { _ = conn.Close() }()

	// Every htpasswd user of registry A may pull every repository there, so
	// the refused credentials are a valid user with a wrong password.
	regA := os.Getenv("E2E_REGISTRY_A")
	user := behavior.Credentials{Username: os.Getenv("E2E_REGISTRY_A_USER1"), Password: os.Getenv("E2E_REGISTRY_A_PASS1")}
	f := &behavior.Fixture{
		Images:  images,
		Runtime: runtimeapi.NewRuntimeServiceClient(conn),
		Private: behavior.Private{
			Repo:      regA + "/behavior/private",
			OtherRepo: regA + "/behavior/other",
			Valid:     user,
			Refused:   behavior.Credentials{Username: user.Username, Password: user.Password + "-wrong"},
		},
		Public: os.Getenv("E2E_REGISTRY_ANON") + "/behavior/public",
		Push:   behavior.NewPusher(map[string]behavior.Credentials{regA: user}),
	}
	if err := f.Validate(); err != nil {
		t.Fatalf("fixture from the environment: %v", err)
	}
	for _, c := range behavior.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			if c.EmbeddedOnly {
				t.Skip("expectation of the embedded image service only")
			}
			_, ctx := ktesting.NewTestContext(t)
			c.Run(ctx, t, f)
		})
	}
}
