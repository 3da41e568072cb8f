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
//
// Parsing a reference runs regular expressions and costs microseconds; the
// kubelet parses the same few image strings on every container start. So
// results are kept in a bounded, lock-free cache: a fixed array of slots
// indexed by a hash of the image string, each holding the last string
// parsed into it. Image strings come from pods, so the cache never grows
// with them; a miss only costs the parse.
package parsers

import (
	"fmt"
	"hash/maphash"
	"sync/atomic"

	dockerref "github.com/distribution/reference"
)

// DefaultImageTag is the tag the runtime assumes when an image has neither a
// tag nor a digest.
const DefaultImageTag = "latest"

// cacheSlots sizes the parse cache: a few times the image strings a node
// runs, so that collisions are rare.
const cacheSlots = 4096

// parsed is everything the functions below return for one image string.
type parsed struct {
	image string
	// repo is repo(image): normalised, without tag or digest.
	repo string
	// tag and digest as written ("" when absent).
	tag, digest string
	// normalized is the normalised reference with the default tag applied
	// when there is neither tag nor digest.
	normalized string
	// withDefaultTag is image with ":latest" appended when it has neither
	// tag nor digest, else image.
	withDefaultTag string
}

var (
	cacheSeed = maphash.MakeSeed()
	cache     [cacheSlots]atomic.Pointer[parsed]
)

// parse returns the parse of image, from the cache when it holds it. Parse
// errors are not cached: an invalid name is rare and costs a parse each time.
func parse(image string) (*parsed, error) {
	slot := &cache[maphash.String(cacheSeed, image)%cacheSlots]
	if p := slot.Load(); p != nil && p.image == image {
		return p, nil
	}
	named, err := dockerref.ParseNormalizedNamed(image)
	if err != nil {
		return nil, fmt.Errorf("couldn't parse image name %q: %w", image, err)
	}
	p := &parsed{image: image, repo: named.Name(), normalized: dockerref.TagNameOnly(named).String()}
	if tagged, ok := named.(dockerref.Tagged); ok {
		p.tag = tagged.Tag()
	}
	if digested, ok := named.(dockerref.Digested); ok {
		p.digest = digested.Digest().String()
	}
	p.withDefaultTag = image
	if p.tag == "" && p.digest == "" {
		// Keep the familiar form the pod wrote; only add the tag.
		p.withDefaultTag = image + ":" + DefaultImageTag
	}
	slot.Store(p)
	return p, nil
}

// ParseImageName parses image as a docker reference and returns the
// normalised repository name, the tag and the digest. When the image has
// neither a tag nor a digest the tag is DefaultImageTag.
func ParseImageName(image string) (repo, tag, digest string, err error) {
	p, err := parse(image)
	if err != nil {
		return "", "", "", err
	}
	tag = p.tag
	if tag == "" && p.digest == "" {
		tag = DefaultImageTag
	}
	return p.repo, tag, p.digest, nil
}

// RepositoryName returns repo(image): the normalised repository name with tag
// and digest removed (`busybox:1.36` -> `docker.io/library/busybox`).
func RepositoryName(image string) (string, error) {
	p, err := parse(image)
	if err != nil {
		return "", err
	}
	return p.repo, nil
}

// NormalizedReference returns the fully qualified form of image with the
// default tag applied when it has neither tag nor digest
// (`busybox` -> `docker.io/library/busybox:latest`). Runtimes report repo
// tags and repo digests in this form.
func NormalizedReference(image string) (string, error) {
	p, err := parse(image)
	if err != nil {
		return "", err
	}
	return p.normalized, nil
}

// ApplyDefaultImageTag returns image with ":latest" appended when it has
// neither a tag nor a digest, keeping the image's own spelling otherwise
// (this is the string sent to the runtime).
func ApplyDefaultImageTag(image string) (string, error) {
	p, err := parse(image)
	if err != nil {
		return "", err
	}
	return p.withDefaultTag, nil
}
