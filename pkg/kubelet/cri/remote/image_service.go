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
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	criclient "k8s.io/cri-client/pkg"
	criutil "k8s.io/cri-client/pkg/util"
)

// DefaultTimeout is the timeout used when NewImageService is given none. It
// is the kubelet's default runtimeRequestTimeout.
const DefaultTimeout = 2 * time.Minute

// NewImageService connects to the CRI image service at endpoint (for example
// "unix:///run/containerd/containerd.sock") and checks that it answers the
// CRI v1 image API. timeout bounds the connection and every call except
// PullImage, which runs until its context ends, as in the kubelet; zero or
// less means DefaultTimeout. Close the service when done.
func NewImageService(ctx context.Context, endpoint string, timeout time.Duration) (internalapi.ImageManagerService, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// The builder is what NewRemoteImageService wraps (and is not
	// deprecated). No tracer provider is set: the client then propagates
	// contexts with a no-op tracer, as the kubelet does without tracing.
	// Streaming lists stay off: the unary ListImages is what every runtime
	// implements.
	// cri-client's Build leaves its gRPC connection, and the goroutines
	// behind it, open when its validation call fails. Validate over a
	// connection of our own first, closed on every path, so that a runtime
	// that is gone or hangs leaves nothing behind; Build then runs only
	// against a runtime that has just answered.
	if err := probe(ctx, endpoint, timeout); err != nil {
		return nil, fmt.Errorf("connecting to the CRI image service at %q: %w", endpoint, err)
	}
	svc, err := criclient.NewRemoteImageServiceBuilder().
		WithEndpoint(endpoint).
		WithConnectionTimeout(timeout).
		WithUseStreaming(false).
		Build(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to the CRI image service at %q: %w", endpoint, err)
	}
	return svc, nil
}

// probe makes the call cri-client validates with (ImageFsInfo) over a
// short-lived connection, bounded by timeout.
func probe(ctx context.Context, endpoint string, timeout time.Duration) error {
	addr, dialer, err := criutil.GetAddressAndDialer(endpoint)
	if err != nil {
		return err
	}
	if strings.HasPrefix(addr, "/") {
		// The passthrough resolver hands the socket path to the dialer.
		addr = "passthrough:///" + addr
	}
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithAuthority("localhost"),
		grpc.WithContextDialer(dialer))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := runtimeapi.NewImageServiceClient(conn).ImageFsInfo(ctx, &runtimeapi.ImageFsInfoRequest{}); err != nil {
		return fmt.Errorf("validate CRI v1 image API: %w", err)
	}
	return nil
}
