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

package imageservice

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime"

	dockerref "github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// target is a parsed pull request.
type target struct {
	// ref is the normalised reference containerd names in its errors
	// ("127.0.0.1:5000/a/b:1", "docker.io/library/busybox:latest").
	ref string
	// tag is the repo tag the pull adds, "" for a pull by digest.
	tag string
	// repo is the normalised repository name, for the repo digest.
	repo string
	// host is the registry host of the reference.
	host string
	// remote is the reference go-containerregistry fetches.
	remote name.Reference
}

func parseTarget(image string) (target, error) {
	named, err := dockerref.ParseNormalizedNamed(image)
	if err != nil {
		return target{}, fmt.Errorf("failed to parse image reference %q: %w", image, err)
	}
	named = dockerref.TagNameOnly(named)
	t := target{ref: named.String(), repo: named.Name(), host: dockerref.Domain(named)}
	fetch := named.String()
	if digested, ok := named.(dockerref.Digested); ok {
		// A reference with both a tag and a digest is pulled by digest,
		// and the tag is not recorded.
		fetch = named.Name() + "@" + digested.Digest().String()
	} else {
		t.tag = named.String()
	}
	t.remote, err = name.ParseReference(fetch)
	if err != nil {
		return target{}, fmt.Errorf("failed to parse image reference %q: %w", image, err)
	}
	return t, nil
}

// authenticator turns the CRI credentials into go-containerregistry's. It
// applies containerd's ServerAddress rule (see the package doc): an
// unparsable address fails the pull, and one naming another host drops the
// credentials without a word.
func authenticator(auth *runtimeapi.AuthConfig, host string) (authn.Authenticator, error) {
	if auth == nil {
		return authn.Anonymous, nil
	}
	if auth.ServerAddress != "" {
		u, err := url.Parse(auth.ServerAddress)
		if err != nil {
			return nil, fmt.Errorf("get credentials: parse server address: %w", err)
		}
		if host != u.Host && host != u.Path {
			return authn.Anonymous, nil
		}
	}
	cfg := authn.AuthConfig{
		Username:      auth.Username,
		Password:      auth.Password,
		Auth:          auth.Auth,
		IdentityToken: auth.IdentityToken,
		RegistryToken: auth.RegistryToken,
	}
	if cfg == (authn.AuthConfig{}) {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(cfg), nil
}

// pull fetches image with auth and records it; it returns the image ID.
// Errors are gRPC status errors carrying containerd's wording.
func (s *Server) pull(ctx context.Context, image string, auth *runtimeapi.AuthConfig) (string, error) {
	t, err := parseTarget(image)
	if err != nil {
		return "", status.Error(codes.Unknown, err.Error())
	}
	id, err := s.fetch(ctx, t, auth)
	if ctx.Err() != nil {
		// The client went away or gave up; say so rather than reporting
		// whatever the cancelled request produced.
		return "", status.FromContextError(ctx.Err()).Err()
	}
	if err != nil {
		return "", status.Error(codes.Unknown, fmt.Sprintf("failed to pull and unpack image %q: %v", t.ref, err))
	}
	return id, nil
}

func (s *Server) fetch(ctx context.Context, t target, auth *runtimeapi.AuthConfig) (string, error) {
	a, err := authenticator(auth, t.host)
	if err != nil {
		return "", err
	}
	opts := []remote.Option{
		remote.WithAuth(a),
		remote.WithContext(ctx),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: runtime.GOARCH}),
	}
	// Every pull resolves the manifest with the request's credentials, even
	// for a present image: this is what makes the registry the judge.
	desc, err := remote.Get(t.remote, opts...)
	if err != nil {
		return "", resolveError(t, err)
	}
	img, err := desc.Image()
	if err != nil {
		return "", resolveError(t, err)
	}
	manifest, err := img.Manifest()
	if err != nil {
		return "", fmt.Errorf("failed to copy: read manifest: %w", err)
	}
	rawManifest, err := img.RawManifest()
	if err != nil {
		return "", fmt.Errorf("failed to copy: read manifest: %w", err)
	}
	manifestDigest := sha256Digest(rawManifest)

	blobs := []string{desc.Digest.String(), manifestDigest, manifest.Config.Digest.String()}
	for _, l := range manifest.Layers {
		blobs = append(blobs, l.Digest.String())
	}
	s.store.hold(blobs)
	defer s.store.release(blobs)

	if desc.Digest.String() != manifestDigest {
		// An index resolved to this platform's manifest: keep the index
		// too, under the digest the repo digest names.
		if err := s.store.writeBytes(desc.Digest.String(), desc.Manifest); err != nil {
			return "", fmt.Errorf("failed to copy: %w", err)
		}
	}
	if err := s.store.writeBytes(manifestDigest, rawManifest); err != nil {
		return "", fmt.Errorf("failed to copy: %w", err)
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return "", fmt.Errorf("failed to copy: read config: %w", err)
	}
	if got := sha256Digest(rawConfig); got != manifest.Config.Digest.String() {
		return "", fmt.Errorf("failed to copy: config %s hashes to %s: %w", manifest.Config.Digest, got, ErrDigestMismatch)
	}
	if err := s.store.writeBytes(manifest.Config.Digest.String(), rawConfig); err != nil {
		return "", fmt.Errorf("failed to copy: %w", err)
	}
	size := uint64(manifest.Config.Size)
	for _, l := range manifest.Layers {
		size += uint64(l.Size)
		if s.store.hasBlob(l.Digest.String()) {
			continue
		}
		if err := s.fetchLayer(img, l); err != nil {
			return "", fmt.Errorf("failed to copy: %w", err)
		}
	}
	rec := imageRecord{ID: manifest.Config.Digest.String(), Size: size, Blobs: blobs}
	if err := s.store.commit(rec, t.tag, t.repo+"@"+desc.Digest.String()); err != nil {
		return "", err
	}
	return rec.ID, nil
}

func (s *Server) fetchLayer(img v1.Image, l v1.Descriptor) error {
	layer, err := img.LayerByDigest(l.Digest)
	if err != nil {
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	rc, err := layer.Compressed()
	if err != nil {
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	defer func() { _ = rc.Close() }()
	return s.store.writeBlob(l.Digest.String(), l.Size, rc)
}

// resolveError words a failure to resolve the reference as containerd 1.6
// does, so that the kubelet and its tests see the same text from the
// embedded runtime as from containerd.
func resolveError(t target, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) {
		if terr.StatusCode == http.StatusNotFound {
			return fmt.Errorf("failed to resolve reference %q: %s: not found", t.ref, t.ref)
		}
		return fmt.Errorf("failed to resolve reference %q: pulling from host %s failed with status code [manifests %s]: %d %s",
			t.ref, t.host, t.remote.Identifier(), terr.StatusCode, http.StatusText(terr.StatusCode))
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		// containerd resolves with a HEAD of the manifest and reports the
		// dial error of that request; go-containerregistry fails earlier,
		// in its version check, possibly once per scheme. Report the one
		// dial error, in containerd's words.
		reg := t.remote.Context().Registry
		return fmt.Errorf("failed to resolve reference %q: failed to do request: Head %q: %v", t.ref,
			fmt.Sprintf("%s://%s/v2/%s/manifests/%s", reg.Scheme(), reg.RegistryStr(), t.remote.Context().RepositoryStr(), t.remote.Identifier()), opErr)
	}
	return fmt.Errorf("failed to resolve reference %q: failed to do request: %w", t.ref, err)
}

func sha256Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}
