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
	"time"

	internalapi "k8s.io/cri-api/pkg/apis"
	"k8s.io/kubernetes/pkg/kubelet/cri/remote"
)

// criTimeout bounds connecting and each CRI call but PullImage (which the
// caller's context bounds): containerd answers in milliseconds here.
const criTimeout = 30 * time.Second

// NewImageService connects the product's CRI image client
// (pkg/kubelet/cri/remote, on k8s.io/cri-client) to the endpoint, so the
// suite talks to the runtime exactly as the tool does. Close it with Close(ctx).
func NewImageService(ctx context.Context, endpoint string) (internalapi.ImageManagerService, error) {
	return remote.NewImageService(ctx, endpoint, criTimeout)
}
