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
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/klog/v2"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/util/parsers"
)

// housekeepingWorkers bounds the intents resolved at once at start-up.
const housekeepingWorkers = 8

// resolvable is an intent whose image the runtime has.
type resolvable struct {
	image, imageID string
}

// errNoImageLister is the housekeeping error when no runtime was wired in.
var errNoImageLister = errors.New("no container runtime image lister configured")

// ensureHousekeeping reports whether housekeeping has completed, retrying
// it (at most every housekeepingRetryInterval) when it has not.
func (m *fileBackedManager) ensureHousekeeping(ctx context.Context) bool {
	if m.housekeepingDone.Load() {
		return true
	}
	m.housekeepingMu.Lock()
	due := m.clock.Since(m.housekeepingLastTry) >= housekeepingRetryInterval
	m.housekeepingMu.Unlock()
	if due {
		return m.runHousekeeping(ctx, false)
	}
	return false
}

// runHousekeeping resolves the intents loaded at start-up against the
// runtime's images: an intent whose image is present becomes an empty entry
// ("pulled by the kubelet, nothing proved") under repo(image) in the record
// of that image's ID, and the intent goes. Intents for absent images stay,
// counted and logged. First, a record with an empty mapping gets an empty
// entry for each of its image's runtime names (see expandEmptyMapping). If
// the runtime cannot be listed, the intents stay pinned and decisions fail
// safe until a later pass succeeds.
func (m *fileBackedManager) runHousekeeping(ctx context.Context, atStartup bool) bool {
	logger := klog.FromContext(ctx)
	m.housekeepingMu.Lock()
	defer m.housekeepingMu.Unlock()
	if m.housekeepingDone.Load() {
		return true
	}
	m.housekeepingLastTry = m.clock.Now()

	attempts := 1
	if atStartup {
		attempts = m.housekeepingAttempts
	}
	images, err := m.listImages(ctx, attempts)
	if err != nil {
		logger.Error(err, "Failed to list the container runtime's images; image pull intents stay pinned and every decision requires a pull until housekeeping succeeds")
		return false
	}

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

	// Before any entry is merged into them: records with an empty mapping
	// get their image's runtime names spelled out.
	for _, img := range images {
		m.expandEmptyMapping(ctx, img)
	}

	intents, _, _ := m.records.mem.ListImagePullIntents()
	var absent []string
	var present []resolvable
	for _, intent := range intents {
		imageID := matchRuntimeImage(intent.Image, byTag, byDigest)
		if imageID == "" {
			absent = append(absent, intent.Image)
			m.unpinStartupIntent(intent.Image)
			continue
		}
		present = append(present, resolvable{image: intent.Image, imageID: imageID})
	}
	// Each resolution is a durable record write and an intent removal;
	// different images take different locks, so the writes (and their
	// fsyncs) overlap instead of queueing.
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(housekeepingWorkers, len(present)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(present) {
					return
				}
				p := present[i]
				if err := m.resolveIntent(ctx, p.image, p.imageID); err != nil {
					logger.Error(err, "Failed to resolve image pull intent for a present image; it stays", "image", p.image, "imageRef", p.imageID)
				}
			}
		})
	}
	wg.Wait()
	AbsentImagePullIntents.Set(float64(len(absent)))
	if len(absent) > 0 {
		logger.Info("Image pull intents for images not in the container runtime remain", "count", len(absent), "images", absent)
	}
	m.housekeepingDone.Store(true)
	return true
}

// listImages lists the runtime's images, trying attempts times.
func (m *fileBackedManager) listImages(ctx context.Context, attempts int) ([]RuntimeImage, error) {
	if m.lister == nil {
		return nil, errNoImageLister
	}
	var lastErr error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(m.housekeepingDelay):
			}
		}
		images, err := m.lister.ListImages(ctx)
		if err == nil {
			return images, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("listing images (%d attempts): %w", attempts, lastErr)
}

// matchRuntimeImage returns the ID of the runtime image that image names: by
// its normalised reference with the default tag applied against repo tags,
// or by digest against repo digests.
func matchRuntimeImage(image string, byTag, byDigest map[string]string) string {
	ref, err := parsers.NormalizedReference(image)
	if err != nil {
		return ""
	}
	if id, ok := byTag[ref]; ok {
		return id
	}
	repo, _, digest, err := parsers.ParseImageName(image)
	if err != nil || digest == "" {
		return ""
	}
	return byDigest[repo+"@"+digest]
}

// unpinStartupIntent marks an intent housekept: it stays on disk, but a
// later failed pull of the image may remove it.
func (m *fileBackedManager) unpinStartupIntent(image string) {
	unlock := m.imageLocks.lock(image)
	defer unlock()
	m.pullsMu.Lock()
	defer m.pullsMu.Unlock()
	if st := m.pulls[image]; st != nil {
		st.pinned = false
		if st.inFlight == 0 {
			delete(m.pulls, image)
		}
	}
}

// resolveIntent merges an empty entry for repo(image) into the record of
// imageID and removes the intent of image.
func (m *fileBackedManager) resolveIntent(ctx context.Context, image, imageID string) error {
	repo, err := m.repo(image)
	if err != nil {
		return err
	}
	unlockImage := m.imageLocks.lock(image)
	defer unlockImage()

	if err := m.mergeEmptyEntry(imageID, repo); err != nil {
		m.metrics.recordWriteErrors.Inc()
		return err
	}
	m.pullsMu.Lock()
	if st := m.pulls[image]; st != nil {
		st.pinned = false
	}
	m.pullsMu.Unlock()
	m.addInFlight(image, 0)
	if m.readOnly {
		return m.records.mem.DeleteImagePullIntent(image)
	}
	m.removeIntentIfIdle(ctx, image)
	return nil
}

// expandEmptyMapping replaces the empty mapping of img's record, if it has
// one, by an empty entry for every name the runtime has for img, in one
// write. An empty mapping (a released kubelet's interrupted pull) counts as
// pulled by the kubelet under every name, but the first pull merged into it
// would make it count under that one name only, and the image's other names
// would look preloaded. The runtime's names are every name a pod can use
// the image under now; a name added later comes from a pull, which records
// itself, or from outside the kubelet (preloaded).
// A failed write is logged; the record keeps its empty mapping, which
// fails safe.
func (m *fileBackedManager) expandEmptyMapping(ctx context.Context, img RuntimeImage) {
	unlock := m.recordLocks.lock(img.ID)
	defer unlock()
	current, err := m.records.mem.GetImagePulledRecord(img.ID)
	if err != nil || current == nil || len(current.CredentialMapping) != 0 {
		return
	}
	mapping := map[string]kubeletconfig.ImagePullCredentials{}
	for _, name := range append(slices.Clone(img.RepoTags), img.RepoDigests...) {
		if repo, err := m.repo(name); err == nil {
			mapping[repo] = kubeletconfig.ImagePullCredentials{}
		}
	}
	if len(mapping) == 0 {
		return
	}
	updated := &kubeletconfig.ImagePulledRecord{LastUpdatedTime: current.LastUpdatedTime, ImageRef: img.ID, CredentialMapping: mapping}
	if m.readOnly {
		_ = m.records.mem.WriteImagePulledRecord(updated)
		return
	}
	if err := m.records.WriteImagePulledRecord(updated); err != nil {
		m.metrics.recordWriteErrors.Inc()
		_ = m.writeFailed(ctx, err, "Failed to spell out the names of an image pulled record with an empty mapping; it keeps counting as pulled by the kubelet under every name", "imageRef", img.ID)
		return
	}
	m.writeSucceeded(ctx)
}

// mergeEmptyEntry records that the kubelet pulled imageID under repo.
func (m *fileBackedManager) mergeEmptyEntry(imageID, repo string) error {
	unlock := m.recordLocks.lock(imageID)
	defer unlock()
	current, err := m.records.mem.GetImagePulledRecord(imageID)
	if err != nil {
		// Never replace a broken record with one that holds less: names
		// it recorded would lose their "pulled by the kubelet" status. The
		// intent stays instead, which keeps this name safe too.
		return err
	}
	updated, changed := withCredentials(current, imageID, repo, nil)
	if !changed && current != nil {
		return nil
	}
	if current == nil {
		updated.LastUpdatedTime = m.stamp()
	}
	if m.readOnly {
		return m.records.mem.WriteImagePulledRecord(updated)
	}
	if err := m.records.WriteImagePulledRecord(updated); err != nil {
		return err
	}
	if current == nil {
		OnDiskPulledRecords.Inc()
		m.updateUsage()
	}
	return nil
}
