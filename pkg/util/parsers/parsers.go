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

// Package parsers parses and normalises container image names the way the
// kubelet does: as docker references, with Docker Hub's familiar forms
// (`busybox`, `library/busybox`) expanded to `docker.io/library/busybox`.
package parsers

import (
	"fmt"

	dockerref "github.com/distribution/reference"
)

// DefaultImageTag is the tag the runtime assumes when an image has neither a
// tag nor a digest.
const DefaultImageTag = "latest"

// ParseImageName parses image as a docker reference and returns the
// normalised repository name, the tag and the digest. When the image has
// neither a tag nor a digest the tag is DefaultImageTag.
func ParseImageName(image string) (repo, tag, digest string, err error) {
	named, err := dockerref.ParseNormalizedNamed(image)
	if err != nil {
		return "", "", "", fmt.Errorf("couldn't parse image name %q: %w", image, err)
	}
	repo = named.Name()
	if tagged, ok := named.(dockerref.Tagged); ok {
		tag = tagged.Tag()
	}
	if digested, ok := named.(dockerref.Digested); ok {
		digest = digested.Digest().String()
	}
	if tag == "" && digest == "" {
		tag = DefaultImageTag
	}
	return repo, tag, digest, nil
}

// RepositoryName returns repo(image): the normalised repository name with tag
// and digest removed (`busybox:1.36` -> `docker.io/library/busybox`).
func RepositoryName(image string) (string, error) {
	named, err := dockerref.ParseNormalizedNamed(image)
	if err != nil {
		return "", fmt.Errorf("couldn't parse image name %q: %w", image, err)
	}
	return named.Name(), nil
}

// NormalizedReference returns the fully qualified form of image with the
// default tag applied when it has neither tag nor digest
// (`busybox` -> `docker.io/library/busybox:latest`). Runtimes report repo
// tags and repo digests in this form.
func NormalizedReference(image string) (string, error) {
	named, err := dockerref.ParseNormalizedNamed(image)
	if err != nil {
		return "", fmt.Errorf("couldn't parse image name %q: %w", image, err)
	}
	return dockerref.TagNameOnly(named).String(), nil
}

// ApplyDefaultImageTag returns image with ":latest" appended when it has
// neither a tag nor a digest, keeping the image's own spelling otherwise
// (this is the string sent to the runtime).
func ApplyDefaultImageTag(image string) (string, error) {
	named, err := dockerref.ParseNormalizedNamed(image)
	if err != nil {
		return "", fmt.Errorf("couldn't parse image name %q: %w", image, err)
	}
	_, isTagged := named.(dockerref.Tagged)
	_, isDigested := named.(dockerref.Digested)
	if !isTagged && !isDigested {
		// Keep the familiar form the pod wrote; only add the tag.
		return image + ":" + DefaultImageTag, nil
	}
	return image, nil
}
