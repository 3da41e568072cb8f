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

	internalapi "k8s.io/cri-api/pkg/apis"

	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// ImageLister lists a CRI image service's images in the form the pull
// manager needs.
type ImageLister struct {
	// ImageService is the runtime's image service.
	ImageService internalapi.ImageManagerService
}

var _ pullmanager.ImageLister = ImageLister{}

// ListImages returns every image of the runtime with its ID, repo tags and
// repo digests, as the runtime reports them. An error is returned as is
// (wrapped): a caller must never take a failed listing for an empty runtime,
// which would make every record look unknown.
func (l ImageLister) ListImages(ctx context.Context) ([]pullmanager.RuntimeImage, error) {
	images, err := l.ImageService.ListImages(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("listing the runtime's images: %w", err)
	}
	out := make([]pullmanager.RuntimeImage, 0, len(images))
	for _, img := range images {
		if img == nil {
			continue
		}
		out = append(out, pullmanager.RuntimeImage{
			ID:          img.Id,
			RepoTags:    append([]string(nil), img.RepoTags...),
			RepoDigests: append([]string(nil), img.RepoDigests...),
		})
	}
	return out, nil
}
