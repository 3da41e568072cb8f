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

package pullmanager

import (
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/util/parsers"
)

// The manager's own rules for what it does with the files it loads,
// exported so that kubelet-imagectl records verify checks files against
// them instead of restating them.

// NormalizeRecordKeys returns record with credentialMapping keys in
// familiar form (busybox) rewritten to repo(image), entries that then
// collide merged by the merge rules, as loading does, and whether anything
// changed. record is not modified.
func NormalizeRecordKeys(record *kubeletconfig.ImagePulledRecord) (*kubeletconfig.ImagePulledRecord, bool) {
	return normalizeRecord(record)
}

// IntentsResolvedAtStartup returns, for each of intents (image strings)
// that start-up housekeeping would resolve against the runtime's images,
// the image ID whose record would get an empty entry for repo(image): the
// image, defaulted to :latest and normalised, is one of an image's repo
// tags, or by digest one of its repo digests (matchRuntimeImage).
func IntentsResolvedAtStartup(intents []string, images []RuntimeImage) map[string]string {
	byTag := map[string]string{}
	byDigest := map[string]string{}
	for _, img := range images {
		for _, tag := range img.RepoTags {
			if ref, err := parsers.NormalizedReference(tag); err == nil {
				byTag[ref] = img.ID
			}
		}
		for _, digest := range img.RepoDigests {
			if ref, err := parsers.NormalizedReference(digest); err == nil {
				byDigest[ref] = img.ID
			}
		}
	}
	out := map[string]string{}
	for _, image := range intents {
		if id := matchRuntimeImage(image, byTag, byDigest); id != "" {
			out[image] = id
		}
	}
	return out
}
