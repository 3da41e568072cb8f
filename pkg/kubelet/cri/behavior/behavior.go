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

package behavior

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	criapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"k8s.io/kubernetes/pkg/kubelet/cri/embedded/registry"
)

// T is the part of testing.T (and of Ginkgo's GinkgoT()) the suite uses.
// Fatalf must stop the case (runtime.Goexit or a panic); the cases clean up
// with defer, which runs either way.
type T interface {
	Helper()
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Credentials are a registry user name and password.
type Credentials struct {
	Username string
	Password string
}

// AuthConfig returns the CRI credentials the kubelet sends: ServerAddress is
// left empty on purpose (containerd drops credentials whose ServerAddress
// names another host).
func (c Credentials) AuthConfig() *runtimeapi.AuthConfig {
	return &runtimeapi.AuthConfig{Username: c.Username, Password: c.Password}
}

// Private describes repositories that only some credentials may pull.
type Private struct {
	// Repo is a full repository name without tag ("127.0.0.1:40123/private/app").
	Repo string
	// OtherRepo is a second repository that Valid may pull, for "one image
	// ID under two names".
	OtherRepo string
	// Valid may pull Repo and OtherRepo.
	Valid Credentials
	// Refused is refused by the registry with 401 for both repositories
	// (a wrong password, or a user without access).
	Refused Credentials
}

// Pushed describes an image a PushFunc pushed.
type Pushed struct {
	// ID is the config digest, the image ID a runtime reports.
	ID string
	// ManifestDigest is the manifest digest, as in repo digests.
	ManifestDigest string
}

// PushFunc pushes one new image (new image ID) under every full reference
// ("127.0.0.1:40123/private/app:tag").
type PushFunc func(ctx context.Context, refs ...string) (Pushed, error)

// Fixture is what the cases run against.
type Fixture struct {
	// Images is the image service under test, normally built with
	// k8s.io/cri-client, the client the kubelet uses.
	Images criapi.ImageManagerService
	// Runtime is a raw RuntimeService client on the same endpoint; only
	// EmbeddedOnly cases use it, and they are skipped when it is nil.
	Runtime runtimeapi.RuntimeServiceClient
	// Private are repositories that need credentials.
	Private Private
	// Public is a full repository name, without tag, that anonymous pulls
	// may read.
	Public string
	// Push pushes test images; see NewPusher.
	Push PushFunc
}

// ErrIncompleteFixture is wrapped by Fixture.Validate.
var ErrIncompleteFixture = errors.New("incomplete behaviour fixture")

// Validate reports the first required field that is missing, so that a
// misconfigured runner fails before any case runs.
func (f *Fixture) Validate() error {
	switch {
	case f.Images == nil:
		return fmt.Errorf("%w: Images", ErrIncompleteFixture)
	case f.Push == nil:
		return fmt.Errorf("%w: Push", ErrIncompleteFixture)
	case f.Private.Repo == "" || f.Private.OtherRepo == "":
		return fmt.Errorf("%w: Private.Repo and Private.OtherRepo", ErrIncompleteFixture)
	case f.Private.Valid == (Credentials{}) || f.Private.Refused == (Credentials{}):
		return fmt.Errorf("%w: Private.Valid and Private.Refused", ErrIncompleteFixture)
	case f.Public == "":
		return fmt.Errorf("%w: Public", ErrIncompleteFixture)
	}
	return nil
}

// Case is one expectation.
type Case struct {
	// Name describes the expectation in a sentence.
	Name string
	// EmbeddedOnly marks expectations that hold for the embedded service
	// only; runners against containerd skip them.
	EmbeddedOnly bool
	// Run checks the expectation.
	Run func(ctx context.Context, t T, f *Fixture)
}

// NewPusher returns a PushFunc that builds images with registry.NewImage
// and pushes them with go-containerregistry, authenticating with the
// credentials given for each registry host ("127.0.0.1:40123"); hosts
// without an entry are pushed to anonymously. It works against the embedded
// registry and the distribution registry alike.
func NewPusher(creds map[string]Credentials) PushFunc {
	return func(ctx context.Context, refs ...string) (Pushed, error) {
		if len(refs) == 0 {
			return Pushed{}, errors.New("push: no reference given")
		}
		img, err := registry.NewImage()
		if err != nil {
			return Pushed{}, err
		}
		var out registry.PushedImage
		for _, ref := range refs {
			var auth authn.Authenticator = authn.Anonymous
			if c, ok := creds[hostOf(ref)]; ok {
				auth = &authn.Basic{Username: c.Username, Password: c.Password}
			}
			if out, err = registry.PushTo(ctx, img, auth, ref); err != nil {
				return Pushed{}, err
			}
		}
		return Pushed{ID: out.ID, ManifestDigest: out.ManifestDigest}, nil
	}
}
