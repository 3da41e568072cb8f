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
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/klog/v2"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// ErrRecordsNotWritable is wrapped by the errors of a pull manager whose
// image_manager directory cannot be written (a read-only filesystem, or
// permission denied). Such a manager fails closed: every decision is "must
// pull" (result error), policy exemptions included, and every pull fails,
// because its intent cannot be made durable. The condition is logged once
// when it starts, not on every failed write.
var ErrRecordsNotWritable = errors.New("image pull records directory is not writable")

// isNotWritable reports whether a filesystem error means the directory
// cannot be written at all, as opposed to a transient failure (ENOSPC,
// EIO) of one operation.
func isNotWritable(err error) bool {
	return errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)
}

// writeFailed logs and wraps a failed write of the records. A write that
// finds the directory not writable latches the manager closed; the first
// such failure is logged once at error level, later ones while the latch
// holds only at V(2), so a read-only directory is one log line, not one per
// pod. Any other failure is logged at error level, once, here.
func (m *fileBackedManager) writeFailed(ctx context.Context, err error, msg string, keysAndValues ...any) error {
	logger := klog.FromContext(ctx)
	if !isNotWritable(err) {
		logger.Error(err, msg, keysAndValues...)
		return err
	}
	if m.notWritable.CompareAndSwap(false, true) {
		logger.Error(err, "Image pull records directory is not writable; every decision requires a pull and every pull fails until a write succeeds", "dir", m.store.ManagerDir())
	} else {
		logger.V(2).Info(msg, append(keysAndValues, "err", err)...)
	}
	return fmt.Errorf("%w: %w", ErrRecordsNotWritable, err)
}

// writeSucceeded clears the not-writable latch after a successful write.
func (m *fileBackedManager) writeSucceeded(ctx context.Context) {
	if m.notWritable.CompareAndSwap(true, false) {
		klog.FromContext(ctx).Info("Image pull records directory is writable again", "dir", m.store.ManagerDir())
	}
}

// Writable implements Manager.
func (m *fileBackedManager) Writable() error {
	if m.notWritable.Load() {
		return fmt.Errorf("%w: %s", ErrRecordsNotWritable, m.store.ManagerDir())
	}
	return nil
}

// failClosedManager is the pull manager over an image_manager directory
// found not writable at start-up. Without the writer lock nothing may be
// written, so it fails closed and keeps no records in memory (none could
// grant anything). Every pull retries the start-up, quietly; once that
// succeeds, the file-backed manager it opened answers every call, so the
// first successful pull after the directory is writable again repairs the
// state without a restart.
type failClosedManager struct {
	dir     string
	opts    Options
	metrics *managerMetrics

	// mu serialises the retries and guards cause.
	mu    sync.Mutex
	cause error
	// opened is the manager once a retry succeeded.
	opened atomic.Pointer[fileBackedManager]
}

var _ Manager = &failClosedManager{}

func (m *failClosedManager) err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fmt.Errorf("%w: %s: %w", ErrRecordsNotWritable, m.dir, m.cause)
}

// reopen retries the start-up. Only a pull calls it: decisions stay cheap.
func (m *failClosedManager) reopen(ctx context.Context) (*fileBackedManager, error) {
	if opened := m.opened.Load(); opened != nil {
		return opened, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if opened := m.opened.Load(); opened != nil {
		return opened, nil
	}
	opened, err := newFileBackedPullManager(ctx, m.opts)
	if err != nil {
		// Logged once, at start-up; a retry that fails the same way says
		// nothing new.
		klog.FromContext(ctx).V(2).Info("Image pull records directory is still not writable", "dir", m.dir, "err", err)
		m.cause = err
		return nil, fmt.Errorf("%w: %s: %w", ErrRecordsNotWritable, m.dir, err)
	}
	klog.FromContext(ctx).Info("Image pull records directory is writable again", "dir", m.dir)
	m.opened.Store(opened)
	return opened, nil
}

// Writable implements Manager.
func (m *failClosedManager) Writable() error {
	if opened := m.opened.Load(); opened != nil {
		return opened.Writable()
	}
	return m.err()
}

// RecordPullIntent implements PullManager: until the directory can be
// opened for writing, the intent cannot be made durable, so the pull must
// not start.
func (m *failClosedManager) RecordPullIntent(ctx context.Context, image string) error {
	opened, err := m.reopen(ctx)
	if err != nil {
		return err
	}
	return opened.RecordPullIntent(ctx, image)
}

// RecordImagePulled implements PullManager.
func (m *failClosedManager) RecordImagePulled(ctx context.Context, image, imageRef string, credentials *kubeletconfig.ImagePullCredentials) error {
	if opened := m.opened.Load(); opened != nil {
		return opened.RecordImagePulled(ctx, image, imageRef, credentials)
	}
	return m.err()
}

// RecordImagePullFailed implements PullManager.
func (m *failClosedManager) RecordImagePullFailed(ctx context.Context, image string) {
	if opened := m.opened.Load(); opened != nil {
		opened.RecordImagePullFailed(ctx, image)
	}
}

// MustAttemptImagePull implements PullManager: every decision must pull.
func (m *failClosedManager) MustAttemptImagePull(ctx context.Context, image, imageRef string, podCredentials GetPodCredentials) (Decision, error) {
	if opened := m.opened.Load(); opened != nil {
		return opened.MustAttemptImagePull(ctx, image, imageRef, podCredentials)
	}
	result := CheckResultError
	defer func() { m.metrics.check(result, imageRef) }()
	if imageRef == "" {
		result = CheckResultMustAuthenticate
	}
	// Fail closed, policy exemptions included: the kubelet cannot keep the
	// records the policy is meant to be tightened with later, and nothing
	// it decides now can be verified afterwards.
	return Decision{MustPull: true, Verification: VerificationMustPull}, nil
}

// PruneUnknownRecords implements PullManager.
func (m *failClosedManager) PruneUnknownRecords(ctx context.Context, presentImageRefs []string, until time.Time) ([]string, error) {
	if opened := m.opened.Load(); opened != nil {
		return opened.PruneUnknownRecords(ctx, presentImageRefs, until)
	}
	return nil, m.err()
}

// Close implements Manager.
func (m *failClosedManager) Close() error {
	if opened := m.opened.Load(); opened != nil {
		return opened.Close()
	}
	return nil
}
