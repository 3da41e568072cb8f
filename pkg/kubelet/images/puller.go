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
	"fmt"
	"strings"
	"sync"
	"time"

	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"k8s.io/kubernetes/pkg/credentialprovider"
)

// pullResult is the outcome of one pull, over every credential tried.
type pullResult struct {
	// imageRef is what PullImage returned: the image ID, or for some
	// runtimes a repo digest.
	imageRef string
	// credential is the credential that succeeded; nil for an anonymous pull.
	credential *credentialprovider.TrackedAuthConfig
	// duration is the time spent in PullImage calls, without the wait for a
	// pull slot.
	duration time.Duration
	// attempts counts the PullImage calls made.
	attempts int
	// errs are the errors of every attempt, in order, or the reason no
	// attempt was made; empty on success.
	errs []error
}

func (r *pullResult) err() error {
	return utilerrors.NewAggregate(r.errs)
}

// puller runs pulls, at most limit at a time (one when pulls are
// serialised). The bound is a semaphore sized once, in newPuller, from the
// one value that is also validated there; nothing else indexes by it.
//
// Pulls run in the caller's goroutine. The only goroutine a pull starts
// watches for Stop and ends with the pull.
type puller struct {
	imageService internalapi.ImageManagerService
	// slots holds one token per pull in flight; nil means no bound.
	slots chan struct{}

	mu      sync.Mutex
	stopped bool
	// stopCh is closed by stop: waiting pulls give up, running ones are
	// cancelled.
	stopCh chan struct{}
	// running counts pulls between begin and end, so that stop can wait.
	running sync.WaitGroup
}

// newPuller returns a puller that runs at most limit pulls at a time; limit
// 0 means no bound.
func newPuller(imageService internalapi.ImageManagerService, limit int) *puller {
	p := &puller{imageService: imageService, stopCh: make(chan struct{})}
	if limit > 0 {
		p.slots = make(chan struct{}, limit)
	}
	return p
}

// begin registers a pull unless the puller is stopped.
func (p *puller) begin() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return false
	}
	p.running.Add(1)
	return true
}

// stop refuses new pulls, cancels the ones in flight and waits for them.
func (p *puller) stop() {
	p.mu.Lock()
	if !p.stopped {
		p.stopped = true
		close(p.stopCh)
	}
	p.mu.Unlock()
	p.running.Wait()
}

// pull waits for a slot, then pulls spec with each credential in order
// until one succeeds. With no credential the pull is anonymous. When
// credentials were given and all failed there is no anonymous retry: the
// kubelet has never made one, and the failure the pod sees stays the one
// its credentials caused.
func (p *puller) pull(ctx context.Context, spec *runtimeapi.ImageSpec, credentials []credentialprovider.TrackedAuthConfig) pullResult {
	if !p.begin() {
		return pullResult{errs: []error{errPullerStopped}}
	}
	defer p.running.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-p.stopCh:
			cancel()
		case <-ctx.Done():
		}
	}()

	if p.slots != nil {
		select {
		case p.slots <- struct{}{}:
			defer func() { <-p.slots }()
		case <-ctx.Done():
			return pullResult{errs: []error{fmt.Errorf("waiting for a pull slot: %w", stopOr(ctx, p.stopCh))}}
		}
	}

	logger := klog.FromContext(ctx)
	start := time.Now()
	if len(credentials) == 0 {
		logger.V(3).Info("Pulling image without credentials")
		ref, err := p.imageService.PullImage(ctx, spec, nil, nil)
		res := pullResult{imageRef: ref, duration: time.Since(start), attempts: 1}
		if err != nil {
			res.errs = []error{err}
		}
		return res
	}
	var res pullResult
	for i := range credentials {
		cred := &credentials[i]
		// Only the credential's source is logged, never its content.
		logger.V(3).Info("Pulling image with credentials", "source", cred.Source)
		res.attempts++
		ref, err := p.imageService.PullImage(ctx, spec, runtimeAuth(cred), nil)
		if err == nil {
			res.imageRef, res.credential, res.errs = ref, cred, nil
			break
		}
		logger.V(3).Info("Pull with credentials failed", "source", cred.Source, "err", err)
		res.errs = append(res.errs, err)
		if ctx.Err() != nil {
			// Cancelled: the remaining credentials would fail the same way.
			break
		}
	}
	res.duration = time.Since(start)
	return res
}

// stopOr returns the reason ctx ended: errPullerStopped if stop did it.
func stopOr(ctx context.Context, stopCh <-chan struct{}) error {
	select {
	case <-stopCh:
		return errPullerStopped
	default:
		return ctx.Err()
	}
}

// runtimeAuth converts a credential for the CRI. ServerAddress stays empty:
// containerd silently drops credentials whose ServerAddress host differs
// from the image's, and the keyring already matched the registry.
func runtimeAuth(c *credentialprovider.TrackedAuthConfig) *runtimeapi.AuthConfig {
	return &runtimeapi.AuthConfig{
		Username:      c.Username,
		Password:      c.Password,
		Auth:          c.Auth,
		IdentityToken: c.IdentityToken,
		RegistryToken: c.RegistryToken,
	}
}

// pullFailureReason classifies failed attempts: RegistryUnavailable or
// SignatureValidationFailed when every attempt's error text starts with
// that name (runtimes report them as text, gRPC errors do not unwrap),
// ErrImagePull otherwise.
func pullFailureReason(errs []error) error {
	var reason error
	for _, err := range errs {
		r := ErrImagePull
		switch msg := err.Error(); {
		case strings.HasPrefix(msg, ErrRegistryUnavailable.Error()):
			r = ErrRegistryUnavailable
		case strings.HasPrefix(msg, ErrSignatureValidationFailed.Error()):
			r = ErrSignatureValidationFailed
		}
		if reason != nil && reason != r {
			return ErrImagePull
		}
		reason = r
	}
	if reason == nil {
		return ErrImagePull
	}
	return reason
}
