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
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"runtime"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"k8s.io/klog/v2"
)

// PushedImage is an image as pushed to a registry, under one or more names.
type PushedImage struct {
	// Refs are the full references pushed, host:port/repository:tag, in
	// the order given to Push.
	Refs []string
	// ID is the config digest: the image ID a CRI PullImage returns.
	ID string
	// ManifestDigest is the digest of the manifest, as in repo@digest.
	ManifestDigest string
}

// Ref returns the first name the image was pushed under.
func (p *PushedImage) Ref() string {
	return p.Refs[0]
}

// DigestRef returns ref's repository at the manifest digest
// (host:port/repository@sha256:...), the form of CRI repo digests.
func (p *PushedImage) DigestRef(ref string) (string, error) {
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return "", err
	}
	return r.Context().Name() + "@" + p.ManifestDigest, nil
}

// RandomSuffix returns 12 random hex characters, for repository names and
// tags no other test (or earlier run against the same registry) uses.
func RandomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// NewImage returns a random image of the given number of layers, each one
// file of layerSize random bytes, for linux and this machine's
// architecture: containerd 1.6 matches a plain manifest's config platform
// against its own and skips the image otherwise.
func NewImage(layers int, layerSize int64) (v1.Image, error) {
	img, err := random.Image(layerSize, int64(layers))
	if err != nil {
		return nil, fmt.Errorf("building random image: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS = "linux"
	cfg.Architecture = runtime.GOARCH
	// A label makes the config, and so the image ID, unique even if two
	// calls drew the same layers.
	if cfg.Config.Labels == nil {
		cfg.Config.Labels = map[string]string{}
	}
	cfg.Config.Labels["io.k8s.e2e-node.nonce"] = RandomSuffix()
	cfg.Config.Cmd = []string{"/random-image-has-no-binary"}
	return mutate.ConfigFile(img, cfg)
}

// Push pushes img to the registry under each of names (repository:tag,
// without the host), authenticating as cred (nil: anonymous), and returns
// its references and digests.
func (r *Registry) Push(ctx context.Context, img v1.Image, cred *Credential, names ...string) (*PushedImage, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("push to %s: no name given", r.Host)
	}
	id, err := img.ConfigName()
	if err != nil {
		return nil, err
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, err
	}
	auth := authn.Anonymous
	if cred != nil {
		auth = &authn.Basic{Username: cred.Username, Password: cred.Password}
	}
	var opts []name.Option
	if r.Insecure {
		opts = append(opts, name.Insecure)
	}
	pushed := &PushedImage{ID: id.String(), ManifestDigest: digest.String()}
	for _, n := range names {
		ref, err := name.ParseReference(r.Image(n), opts...)
		if err != nil {
			return nil, err
		}
		if err := remote.Write(ref, img, remote.WithContext(ctx), remote.WithAuth(auth)); err != nil {
			return nil, fmt.Errorf("push %s: %w", ref, err)
		}
		pushed.Refs = append(pushed.Refs, ref.Name())
	}
	klog.FromContext(ctx).V(2).Info("Pushed test image", "refs", pushed.Refs, "imageID", pushed.ID, "manifestDigest", pushed.ManifestDigest)
	return pushed, nil
}

// PushRandom pushes a fresh one-layer random image under each of names.
func (r *Registry) PushRandom(ctx context.Context, cred *Credential, names ...string) (*PushedImage, error) {
	img, err := NewImage(1, 1024)
	if err != nil {
		return nil, err
	}
	return r.Push(ctx, img, cred, names...)
}
