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

package images

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"k8s.io/kubernetes/pkg/util/parsers"
)

// remoteImage is an image in the fake runtime's registry.
type remoteImage struct {
	id             string
	size           uint64
	manifestDigest string
	// anonymous images may be pulled without credentials.
	anonymous bool
	// users maps the user names allowed to pull to their passwords.
	users map[string]string
}

// fakePull is one PullImage call as the fake runtime saw it.
type fakePull struct {
	image    string
	username string
}

// unauthorizedText is the fake runtime's refusal, shaped like containerd's.
func unauthorizedText(image string) string {
	return fmt.Sprintf("failed to pull and unpack image %q: failed to resolve reference %q: pull access denied: 401 Unauthorized", image, image)
}

// fakeRuntime is a hand-written CRI image service: a registry of remote
// images (by normalised reference) with per-image access, and the images
// pulled so far. Every method is safe for concurrent use.
type fakeRuntime struct {
	internalapi.ImageManagerService

	mu       sync.Mutex
	registry map[string]remoteImage
	images   map[string]*runtimeapi.Image
	pulls    []fakePull

	// statusErr fails every ImageStatus call.
	statusErr error
	// pullErr fails every PullImage call with its text.
	pullErr error
	// returnRepoDigest makes PullImage return the repo digest, not the ID.
	returnRepoDigest bool
	// listErr fails ListImages.
	listErr error

	// release, when set, blocks every PullImage until it can receive from
	// it (or the context ends); started receives one value per PullImage
	// that began.
	release chan struct{}
	started chan struct{}
	// limit, when non-zero, is the concurrency the test allows; exceeding
	// it is recorded in overLimit.
	limit       int
	inFlight    int
	maxInFlight int
	overLimit   int
}

var _ internalapi.ImageManagerService = &fakeRuntime{}

func newFakeRuntime() *fakeRuntime {
	return &fakeRuntime{registry: map[string]remoteImage{}, images: map[string]*runtimeapi.Image{}}
}

func normalise(image string) string {
	n, err := parsers.NormalizedReference(image)
	if err != nil {
		return image
	}
	return n
}

// repoDigest returns repo(ref)@digest.
func repoDigest(ref, digest string) string {
	repo, err := parsers.RepositoryName(ref)
	if err != nil {
		return ref
	}
	return repo + "@" + digest
}

// addRemote makes image (any spelling) pullable.
func (f *fakeRuntime) addRemote(image string, img remoteImage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.registry[normalise(image)] = img
}

// preload puts a remote image into the runtime without a CRI call, as an
// operator preloading a node would.
func (f *fakeRuntime) preload(image string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := normalise(image)
	f.storeLocked(name, f.registry[name])
	return f.registry[name].id
}

// remove deletes an image with all its names, as garbage collection would.
func (f *fakeRuntime) remove(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.images, id)
}

func (f *fakeRuntime) storeLocked(name string, img remoteImage) {
	stored := f.images[img.id]
	if stored == nil {
		stored = &runtimeapi.Image{Id: img.id, Size: img.size}
		f.images[img.id] = stored
	}
	if !contains(stored.RepoTags, name) {
		stored.RepoTags = append(stored.RepoTags, name)
	}
	if rd := repoDigest(name, img.manifestDigest); !contains(stored.RepoDigests, rd) {
		stored.RepoDigests = append(stored.RepoDigests, rd)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// pullLog returns the PullImage calls so far, as "image user" strings.
func (f *fakeRuntime) pullLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.pulls))
	for _, p := range f.pulls {
		out = append(out, strings.TrimSpace(p.image+" "+p.username))
	}
	return out
}

func (f *fakeRuntime) resetPulls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pulls = nil
}

func (f *fakeRuntime) findLocked(spec string) *runtimeapi.Image {
	if img, ok := f.images[spec]; ok {
		return img
	}
	name := normalise(spec)
	for _, img := range f.images {
		if contains(img.RepoTags, name) || contains(img.RepoDigests, name) {
			return img
		}
	}
	return nil
}

func (f *fakeRuntime) ImageStatus(_ context.Context, spec *runtimeapi.ImageSpec, _ bool) (*runtimeapi.ImageStatusResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.statusErr != nil {
		return nil, f.statusErr
	}
	img := f.findLocked(spec.Image)
	if img == nil {
		return &runtimeapi.ImageStatusResponse{}, nil
	}
	return &runtimeapi.ImageStatusResponse{Image: &runtimeapi.Image{Id: img.Id, Size: img.Size, RepoTags: img.RepoTags, RepoDigests: img.RepoDigests}}, nil
}

func (f *fakeRuntime) ListImages(context.Context, *runtimeapi.ImageFilter) ([]*runtimeapi.Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listErr != nil {
		return nil, f.listErr
	}
	out := make([]*runtimeapi.Image, 0, len(f.images))
	for _, img := range f.images {
		out = append(out, &runtimeapi.Image{Id: img.Id, Size: img.Size, RepoTags: img.RepoTags, RepoDigests: img.RepoDigests})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Id < out[j].Id })
	return out, nil
}

func (f *fakeRuntime) PullImage(ctx context.Context, spec *runtimeapi.ImageSpec, auth *runtimeapi.AuthConfig, _ *runtimeapi.PodSandboxConfig) (string, error) {
	f.mu.Lock()
	f.pulls = append(f.pulls, fakePull{image: spec.Image, username: auth.GetUsername()})
	f.inFlight++
	if f.inFlight > f.maxInFlight {
		f.maxInFlight = f.inFlight
	}
	if f.limit > 0 && f.inFlight > f.limit {
		f.overLimit++
	}
	release, started := f.release, f.started
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()

	if started != nil {
		started <- struct{}{}
	}
	if release != nil {
		select {
		case <-release:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pullErr != nil {
		return "", errors.New(f.pullErr.Error())
	}
	if auth.GetServerAddress() != "" {
		// The kubelet must send it empty; fail loudly if it does not.
		return "", fmt.Errorf("unexpected server address %q", auth.GetServerAddress())
	}
	name := normalise(spec.Image)
	img, ok := f.registry[name]
	if !ok {
		return "", fmt.Errorf("failed to pull and unpack image %q: not found", spec.Image)
	}
	if auth == nil {
		if !img.anonymous {
			return "", errors.New(unauthorizedText(spec.Image))
		}
	} else if pw, ok := img.users[auth.GetUsername()]; !ok || pw != auth.GetPassword() {
		return "", errors.New(unauthorizedText(spec.Image))
	}
	f.storeLocked(name, img)
	if f.returnRepoDigest {
		return repoDigest(name, img.manifestDigest), nil
	}
	return img.id, nil
}

// fakeRecorder keeps events as "target type reason message" strings, where
// target is the container's field path or "pod".
type fakeRecorder struct {
	mu     sync.Mutex
	events []string
}

func (r *fakeRecorder) Event(object runtime.Object, eventtype, reason, message string) {
	target := "?"
	if ref, ok := object.(*v1.ObjectReference); ok {
		target = ref.FieldPath
		if target == "" {
			target = strings.ToLower(ref.Kind)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, target+" "+eventtype+" "+reason+" "+message)
}

func (r *fakeRecorder) Eventf(object runtime.Object, eventtype, reason, messageFmt string, args ...interface{}) {
	r.Event(object, eventtype, reason, fmt.Sprintf(messageFmt, args...))
}

func (r *fakeRecorder) AnnotatedEventf(object runtime.Object, _ map[string]string, eventtype, reason, messageFmt string, args ...interface{}) {
	r.Eventf(object, eventtype, reason, messageFmt, args...)
}

var durationsRE = regexp.MustCompile(` in \S+ \(\S+ including waiting\)`)

// take returns the events since the last take, with pull durations replaced
// by <d> so that messages compare exactly.
func (r *fakeRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	for i, e := range out {
		out[i] = durationsRE.ReplaceAllString(e, " in <d> (<d> including waiting)")
	}
	return out
}
