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

package registry

import (
	"context"
	"fmt"
	"runtime"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// PushedImage describes an image pushed by Push, PushImage or PushTo.
type PushedImage struct {
	// Image is the pushed image; push it again under another name with
	// PushImage to get one image ID under two names.
	Image v1.Image
	// ID is the config digest ("sha256:..."), which is the image ID a
	// runtime reports.
	ID string
	// ManifestDigest is the manifest digest ("sha256:..."), which appears in
	// a runtime's repo digests.
	ManifestDigest string
	// Refs are the full references the image was pushed under.
	Refs []string
}

// NewImage builds a small image with one random layer, so every call yields
// a new image ID. The config names linux and the host's architecture because
// containerd refuses to unpack a single-manifest image whose config names
// another platform.
func NewImage() (v1.Image, error) {
	img, err := random.Image(256, 1)
	if err != nil {
		return nil, fmt.Errorf("build random image: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read random image config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS = "linux"
	cfg.Architecture = runtime.GOARCH
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("set image platform: %w", err)
	}
	return img, nil
}

// Push builds a new image with NewImage and pushes it, as the admin, under
// every name. Names are repository paths with a tag or digest relative to
// this registry ("team-a/app:1").
func (r *Registry) Push(ctx context.Context, names ...string) (PushedImage, error) {
	img, err := NewImage()
	if err != nil {
		return PushedImage{}, err
	}
	return r.PushImage(ctx, img, names...)
}

// PushImage pushes img, as the admin, under every name (relative to this
// registry, see Push).
func (r *Registry) PushImage(ctx context.Context, img v1.Image, names ...string) (PushedImage, error) {
	auth := &authn.Basic{Username: AdminUsername, Password: r.adminPassword}
	refs := make([]string, 0, len(names))
	for _, n := range names {
		refs = append(refs, r.Ref(n))
	}
	return PushTo(ctx, img, auth, refs...)
}

// PushTo pushes img to every full reference with auth, on any registry (the
// node e2e suite uses it against the distribution registry). Loopback
// registries are reached over plain HTTP, as go-containerregistry does by
// default.
func PushTo(ctx context.Context, img v1.Image, auth authn.Authenticator, refs ...string) (PushedImage, error) {
	if len(refs) == 0 {
		return PushedImage{}, fmt.Errorf("push: no reference given")
	}
	cfg, err := img.ConfigName()
	if err != nil {
		return PushedImage{}, fmt.Errorf("push: config digest: %w", err)
	}
	manifest, err := img.Digest()
	if err != nil {
		return PushedImage{}, fmt.Errorf("push: manifest digest: %w", err)
	}
	for _, s := range refs {
		ref, err := name.ParseReference(s)
		if err != nil {
			return PushedImage{}, fmt.Errorf("push: %w", err)
		}
		if err := remote.Write(ref, img, remote.WithAuth(auth), remote.WithContext(ctx)); err != nil {
			return PushedImage{}, fmt.Errorf("push %s: %w", s, err)
		}
	}
	return PushedImage{
		Image:          img,
		ID:             cfg.String(),
		ManifestDigest: manifest.String(),
		Refs:           append([]string(nil), refs...),
	}, nil
}
