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

package harness

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
	testingclock "k8s.io/utils/clock/testing"
)

// Env is what the workload needs outside the pull manager: the runtime and
// the oracle. In the crash test it lives in the parent process.
type Env interface {
	// Pull asks the runtime to pull image with c (after the intent is
	// durable) and returns the image ref on success.
	Pull(image string, c Cred) (string, bool)
	// Recorded reports that RecordImagePulled acknowledged a pull.
	Recorded(image, ref string, c Cred)
	// Decide reports a decision about to be asked (before its write-back).
	Decide(image, ref string, c Cred)
	// Decided reports the decision, to be checked against the oracle.
	Decided(image, ref string, c Cred, d pullmanager.Decision)
	// Images lists the runtime's images.
	Images() []pullmanager.RuntimeImage
	// GC removes the images refs from the runtime.
	GC(refs []string)
	// Deleted reports that the cluster deleted the source of c (or, when
	// namespace is not empty, that namespace with every source in it),
	// before its revocation starts.
	Deleted(c Cred, namespace string)
	// Revoked reports that the revocation of what Deleted reported was
	// acknowledged.
	Revoked(c Cred, namespace string)
}

// Workload drives a pull manager with pulls (valid, refused, anonymous,
// rotated and copied Secrets, service accounts' plugin credentials, two at
// once), decisions (with write-backs), garbage collection with prunes, and
// restarts.
type Workload struct {
	World *World
	Env   Env
	// Open starts a manager; the workload closes it on restart.
	Open  func(ctx context.Context) (pullmanager.Manager, error)
	Clock *testingclock.FakeClock
	Rand  *rand.Rand
	// RevokeEvery makes one step in RevokeEvery delete a Secret or a
	// service account from the cluster and revoke it (revoke.go); 0 never.
	RevokeEvery int
	// Stats count what the workload did.
	Stats WorkloadStats
}

// WorkloadStats count the operations of a workload.
type WorkloadStats struct {
	Steps, Pulls, PullsRecorded, Decisions, Prunes, Restarts int
	// Revocations counts revocation passes, CredentialsRevoked what they
	// removed.
	Revocations, CredentialsRevoked int
}

// Lister adapts an Env to pullmanager.ImageLister.
type envLister struct{ env Env }

func (l envLister) ListImages(context.Context) ([]pullmanager.RuntimeImage, error) {
	return l.env.Images(), nil
}

// ImageLister returns the runtime of env as a pull manager image lister.
func ImageLister(env Env) pullmanager.ImageLister { return envLister{env: env} }

// cred draws a credential: anonymous one time in five, a service
// account's plugin credential one time in five, else a Secret.
func (w *Workload) cred() Cred {
	switch w.Rand.IntN(5) {
	case 0:
		return Anonymous
	case 1:
		return ServiceAccountCred(w.Rand.IntN(len(w.World.ServiceAccounts)))
	}
	return Cred{Secret: w.Rand.IntN(len(w.World.Secrets)), Gen: w.Rand.IntN(Generations)}
}

func (w *Workload) image() string {
	return w.World.Images[w.Rand.IntN(len(w.World.Images))].Image
}

// Run opens a manager and runs steps operations. It stops at the first
// error of the manager (a crash or a cut, for the callers) and returns it.
func (w *Workload) Run(ctx context.Context, steps int) error {
	m, err := w.Open(ctx)
	if err != nil {
		return fmt.Errorf("start-up: %w", err)
	}
	defer func() {
		if m != nil {
			_ = m.Close()
		}
	}()
	for i := 0; i < steps; i++ {
		w.Stats.Steps++
		w.Clock.Step(time.Second)
		if w.RevokeEvery > 0 && w.Rand.IntN(w.RevokeEvery) == 0 {
			if err := w.revoke(ctx, m); err != nil {
				return err
			}
			continue
		}
		switch p := w.Rand.IntN(100); {
		case p < 50:
			err = w.pull(ctx, m, w.image(), w.cred())
		case p < 60:
			err = w.doublePull(ctx, m)
		case p < 85:
			err = w.decide(ctx, m)
		case p < 93:
			err = w.gcAndPrune(ctx, m)
		default:
			w.Stats.Restarts++
			_ = m.Close()
			m, err = w.Open(ctx)
			if err != nil {
				m = nil
				return fmt.Errorf("restart: %w", err)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *Workload) pull(ctx context.Context, m pullmanager.Manager, image string, c Cred) error {
	w.Stats.Pulls++
	if err := m.RecordPullIntent(ctx, image); err != nil {
		return fmt.Errorf("intent for %s: %w", image, err)
	}
	return w.finishPull(ctx, m, image, c)
}

func (w *Workload) finishPull(ctx context.Context, m pullmanager.Manager, image string, c Cred) error {
	ref, ok := w.Env.Pull(image, c)
	if !ok {
		m.RecordImagePullFailed(ctx, image)
		return nil
	}
	if err := m.RecordImagePulled(ctx, image, ref, w.World.PullCredentials(c)); err != nil {
		return fmt.Errorf("recording %s: %w", image, err)
	}
	w.Stats.PullsRecorded++
	w.Env.Recorded(image, ref, c)
	return nil
}

// doublePull starts two pulls of one image string before either ends, so
// the intent outlives the first.
func (w *Workload) doublePull(ctx context.Context, m pullmanager.Manager) error {
	image := w.image()
	c1, c2 := w.cred(), w.cred()
	w.Stats.Pulls += 2
	for range 2 {
		if err := m.RecordPullIntent(ctx, image); err != nil {
			return fmt.Errorf("intent for %s: %w", image, err)
		}
	}
	if err := w.finishPull(ctx, m, image, c1); err != nil {
		return err
	}
	return w.finishPull(ctx, m, image, c2)
}

func (w *Workload) decide(ctx context.Context, m pullmanager.Manager) error {
	image := w.image()
	ref := ""
	for _, img := range w.Env.Images() {
		for _, tag := range img.RepoTags {
			if tag == normalized(image) {
				ref = img.ID
			}
		}
	}
	if ref == "" {
		return nil
	}
	c := w.cred()
	w.Stats.Decisions++
	w.Env.Decide(image, ref, c)
	d, err := m.MustAttemptImagePull(ctx, image, ref, w.World.PodCredentials(c))
	if err != nil && !d.MustPull {
		return fmt.Errorf("decision for %s granted with an error: %w", image, err)
	}
	w.Env.Decided(image, ref, c, d)
	return nil
}

// gcAndPrune removes one or two present images that are not preloaded from
// the runtime, then prunes with a cut-off taken before the listing.
func (w *Workload) gcAndPrune(ctx context.Context, m pullmanager.Manager) error {
	until := w.Clock.Now()
	var candidates []string
	for _, img := range w.Env.Images() {
		if !w.preloaded(img.ID) {
			candidates = append(candidates, img.ID)
		}
	}
	w.Rand.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
	if n := 1 + w.Rand.IntN(2); len(candidates) > n {
		candidates = candidates[:n]
	}
	if len(candidates) > 0 {
		w.Env.GC(candidates)
	}
	var present []string
	for _, img := range w.Env.Images() {
		present = append(present, img.ID)
	}
	w.Stats.Prunes++
	if _, err := m.PruneUnknownRecords(ctx, present, until); err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	return nil
}

func (w *Workload) preloaded(ref string) bool {
	for _, img := range w.World.Images {
		if img.Ref == ref && img.Preloaded {
			return true
		}
	}
	return false
}
