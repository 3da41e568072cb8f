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
	"fmt"
	"time"

	internalapi "k8s.io/cri-api/pkg/apis"
	remote "k8s.io/cri-client/pkg"
)

// criTimeout bounds connecting and each CRI call but PullImage (which the
// caller's context bounds): containerd answers in milliseconds here.
const criTimeout = 30 * time.Second

// NewImageService connects a CRI image client, the kubelet's own
// (k8s.io/cri-client), to the endpoint. Close it with Close(ctx).
func NewImageService(ctx context.Context, endpoint string) (internalapi.ImageManagerService, error) {
	svc, err := remote.NewRemoteImageServiceBuilder().
		WithEndpoint(endpoint).
		WithConnectionTimeout(criTimeout).
		// containerd 1.6 has no streaming list calls; the client would fall
		// back, but asking once is enough.
		WithUseStreaming(false).
		Build(ctx)
	if err != nil {
		return nil, fmt.Errorf("CRI image service at %s: %w", endpoint, err)
	}
	return svc, nil
}
