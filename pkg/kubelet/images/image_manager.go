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
	"strings"
	"sync/atomic"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/flowcontrol"
	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"k8s.io/kubernetes/pkg/credentialprovider"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
	"k8s.io/kubernetes/pkg/util/parsers"
)

// The default back-off between failed pulls of one image by one pod.
const (
	defaultBackOffInitial = 10 * time.Second
	defaultBackOffMax     = 300 * time.Second
)

// imageManager implements ImageManager.
type imageManager struct {
	imageService internalapi.ImageManagerService
	pullManager  pullmanager.PullManager
	recorder     record.EventRecorder
	nodeKeyring  credentialprovider.DockerKeyring
	getSecret    SecretGetter
	plugins      PluginCredentials
	backOff      *flowcontrol.Backoff
	puller       *puller
	dryRun       bool
	keyrings     *keyringCache
	// recordsNotWritableReported is set once the ImagePullRecordsNotWritable
	// event was emitted, and cleared by the next intent written, so that a
	// read-only records directory is one event, not one per pull.
	recordsNotWritableReported atomic.Bool
}

var _ ImageManager = &imageManager{}

// NewImageManager validates opts and returns an image manager. Call Stop
// when done with it.
func NewImageManager(opts Options) (ImageManager, error) {
	if opts.ImageService == nil {
		return nil, errors.New("image manager: no image service")
	}
	// The one feature gate check: with the gate off the no-op pull manager
	// answers every decision with gateOff and records nothing, which is the
	// behaviour before the feature. Everything else follows its decisions.
	pullManager := opts.PullManager
	if !opts.EnsureSecretPulledImages {
		pullManager = pullmanager.NewNoopPullManager()
	} else if pullManager == nil {
		return nil, errors.New("image manager: the feature gate is on but no pull manager was given")
	}
	limit, err := pullLimit(opts.SerializeImagePulls, opts.MaxParallelImagePulls)
	if err != nil {
		return nil, err
	}
	backOff := opts.Backoff
	if backOff == nil {
		backOff = flowcontrol.NewBackOff(defaultBackOffInitial, defaultBackOffMax)
	}
	RegisterMetrics()
	return &imageManager{
		keyrings:     newKeyringCache(),
		imageService: opts.ImageService,
		pullManager:  pullManager,
		recorder:     opts.Recorder,
		nodeKeyring:  opts.NodeKeyring,
		getSecret:    opts.GetSecret,
		plugins:      opts.PluginCredentials,
		backOff:      backOff,
		puller:       newPuller(opts.ImageService, limit),
		dryRun:       opts.DryRun,
	}, nil
}

// pullLimit returns the number of pulls allowed in flight, 0 for no bound,
// with the kubelet's configuration rules. It is the only place the value is
// computed.
func pullLimit(serialize bool, maxParallel *int32) (int, error) {
	if maxParallel != nil && *maxParallel < 1 {
		return 0, fmt.Errorf("image manager: maxParallelImagePulls %d must be a positive number", *maxParallel)
	}
	if serialize {
		if maxParallel != nil && *maxParallel > 1 {
			return 0, fmt.Errorf("image manager: maxParallelImagePulls %d must not be larger than 1 when serializeImagePulls is true", *maxParallel)
		}
		return 1, nil
	}
	if maxParallel == nil {
		return 0, nil
	}
	return int(*maxParallel), nil
}

// Stop implements ImageManager.
func (m *imageManager) Stop() {
	m.puller.stop()
}

// PruneUnknownRecords implements ImageManager.
func (m *imageManager) PruneUnknownRecords(ctx context.Context, until time.Time) ([]string, error) {
	if m.dryRun {
		return nil, fmt.Errorf("pruning image pull records: %w", ErrDryRun)
	}
	if until.IsZero() {
		// Taken before listing: a record refreshed while the list is built
		// is newer than the cut-off and survives.
		until = time.Now()
	}
	images, err := m.imageService.ListImages(ctx, nil)
	if err != nil {
		// Never prune against a list that failed: every record would look
		// unknown.
		return nil, fmt.Errorf("listing the runtime's images: %w", err)
	}
	refs := make([]string, 0, len(images))
	for _, img := range images {
		if id := img.GetId(); id != "" {
			refs = append(refs, id)
		}
	}
	return m.pullManager.PruneUnknownRecords(ctx, refs, until)
}

func objectRef(ref *v1.ObjectReference) klog.ObjectRef {
	if ref == nil {
		return klog.ObjectRef{}
	}
	return klog.KRef(ref.Namespace, ref.Name)
}

func fieldPath(ref *v1.ObjectReference) string {
	if ref == nil {
		return ""
	}
	return ref.FieldPath
}

// event emits an event on ref and logs it. Messages are built by the caller
// and passed verbatim (no format string: image names are pod-controlled).
func (m *imageManager) event(ctx context.Context, ref *v1.ObjectReference, eventType, reason, message string) {
	logger := klog.FromContext(ctx)
	if eventType == v1.EventTypeWarning {
		logger.Info("Image manager warning", "object", objectRef(ref), "fieldPath", fieldPath(ref), "reason", reason, "message", message)
	} else if logger := logger.V(2); logger.Enabled() {
		// Checked first: building the key/values costs allocations on the
		// path of every container start.
		logger.Info("Image manager event", "object", objectRef(ref), "fieldPath", fieldPath(ref), "reason", reason, "message", message)
	}
	if m.recorder != nil && ref != nil {
		m.recorder.Event(ref, eventType, reason, message)
	}
}

// ensureCall is the state of one EnsureImageExists call.
type ensureCall struct {
	m        *imageManager
	objRef   *v1.ObjectReference
	pod      *v1.Pod
	rawImage string
	policy   v1.PullPolicy
	// spec is the runtime request: the image with the default tag applied.
	spec      *runtimeapi.ImageSpec
	creds     *podCredentials
	labels    *ensureLabels
	container string
}

// withLogValues returns ctx with a logger that names the pod, container and
// image. Only the pull path pays for it: reusing a present image is on the
// path of every container start and logs nothing but its event, which names
// its object itself.
func (c *ensureCall) withLogValues(ctx context.Context) context.Context {
	logger := klog.FromContext(ctx).WithValues("pod", klog.KObj(c.pod), "podUID", c.pod.UID, "container", c.container, "image", c.rawImage)
	return klog.NewContext(ctx, logger)
}

// EnsureImageExists implements ImageManager.
func (m *imageManager) EnsureImageExists(ctx context.Context, objRef *v1.ObjectReference, pod *v1.Pod, container *v1.Container) (EnsureResult, error) {
	policy := pullPolicy(container)
	c := &ensureCall{
		m:        m,
		objRef:   objRef,
		pod:      pod,
		rawImage: container.Image,
		policy:   policy,
		labels:   newEnsureLabels(policy),
	}
	defer c.labels.record()
	podRef := &v1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID}
	c.creds = &podCredentials{m: m, pod: pod, podRef: podRef}
	c.container = container.Name
	return c.ensure(ctx)
}

// pullPolicy returns the container's pull policy, defaulted as the API
// server does when empty (Always for ":latest" or no tag, else
// IfNotPresent). A value the API would reject is treated as Never: it
// neither contacts a registry nor admits an image the pod cannot prove it
// may use.
func pullPolicy(container *v1.Container) v1.PullPolicy {
	switch container.ImagePullPolicy {
	case v1.PullAlways, v1.PullIfNotPresent, v1.PullNever:
		return container.ImagePullPolicy
	case "":
		_, tag, digest, err := parsers.ParseImageName(container.Image)
		if err == nil && digest == "" && tag == parsers.DefaultImageTag {
			return v1.PullAlways
		}
		return v1.PullIfNotPresent
	default:
		return v1.PullNever
	}
}

func (c *ensureCall) ensure(ctx context.Context) (EnsureResult, error) {
	image, err := parsers.ApplyDefaultImageTag(c.rawImage)
	if err != nil {
		msg := fmt.Sprintf("Failed to apply default image tag %q: %v", c.rawImage, err)
		c.m.event(ctx, c.objRef, v1.EventTypeWarning, EventInspectFailed, msg)
		return c.fail(EnsureResult{}, ErrInvalidImageName, msg, err)
	}
	c.spec = &runtimeapi.ImageSpec{Image: image}

	status, err := c.m.imageService.ImageStatus(ctx, c.spec, false)
	if err != nil {
		msg := fmt.Sprintf("Failed to inspect image %q: %v", c.rawImage, err)
		c.m.event(ctx, c.objRef, v1.EventTypeWarning, EventInspectFailed, msg)
		return c.fail(EnsureResult{}, ErrImageInspect, msg, err)
	}
	// The runtime's image ID is the record key on every path.
	imageID := status.GetImage().GetId()
	present := imageID != ""
	c.labels.presentLocally = triState(present)

	switch {
	case !present:
		c.labels.pullRequired = labelTrue
		if c.policy == v1.PullNever {
			return c.denyNeverPull(ctx, pullmanager.VerificationNotPresent)
		}
		return c.pull(ctx, pullmanager.VerificationNotPresent)
	case c.policy == v1.PullAlways:
		// The pull is the verification.
		c.labels.pullRequired = labelTrue
		return c.pull(ctx, pullmanager.VerificationMustPull)
	}

	// Present, IfNotPresent or Never: may this pod use it?
	decision, err := c.m.pullManager.MustAttemptImagePull(ctx, c.rawImage, imageID,
		func() ([]kubeletconfig.ImagePullSecret, *kubeletconfig.ImagePullServiceAccount, error) {
			return c.creds.forDecision(ctx, c.rawImage)
		})
	if err != nil {
		// The pod's credentials could not be resolved: nothing is granted,
		// and a pull could not use them either, so the container fails
		// whatever its pull policy.
		msg := fmt.Sprintf("Failed to pull image %q: %v", c.rawImage, err)
		c.m.event(ctx, c.objRef, v1.EventTypeWarning, EventFailed, msg)
		return c.fail(EnsureResult{Verification: decision.Verification}, ErrImagePull, err.Error(), err)
	}
	c.labels.pullRequired = triState(decision.MustPull)
	if !decision.MustPull {
		msg := fmt.Sprintf("Container image %q already present on machine and can be accessed by the pod", c.rawImage)
		if decision.Verification == pullmanager.VerificationGateOff {
			msg = fmt.Sprintf("Container image %q already present on machine", c.rawImage)
		}
		c.m.event(ctx, c.objRef, v1.EventTypeNormal, EventPulled, msg)
		return EnsureResult{ImageRef: imageID, Verification: decision.Verification, Message: msg}, nil
	}
	if c.policy == v1.PullNever {
		// Present but not for this pod: it is told the image is not
		// present for it.
		return c.denyNeverPull(ctx, decision.Verification)
	}
	return c.pull(ctx, decision.Verification)
}

// fail returns res with the reason and message set, and the matching error.
func (c *ensureCall) fail(res EnsureResult, reason error, msg string, cause error) (EnsureResult, error) {
	res.ImageRef = ""
	res.Reason = reason.Error()
	res.Message = msg
	return res, &EnsureError{Reason: reason, Message: msg, Err: cause}
}

func (c *ensureCall) denyNeverPull(ctx context.Context, verification pullmanager.Verification) (EnsureResult, error) {
	msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", c.rawImage)
	c.m.event(ctx, c.objRef, v1.EventTypeWarning, EventErrImageNeverPull, msg)
	return c.fail(EnsureResult{Verification: verification}, ErrImageNeverPull, msg, nil)
}

// pull pulls the image with the pod's credentials, unless the pod is in
// back-off for it, and records the outcome with the pull manager.
func (c *ensureCall) pull(ctx context.Context, verification pullmanager.Verification) (EnsureResult, error) {
	ctx = c.withLogValues(ctx)
	m := c.m
	res := EnsureResult{Verification: verification}
	// The back-off is per pod and image string: one pod's failures must
	// not delay another pod.
	backOffKey := string(c.pod.UID) + "_" + c.rawImage
	if m.backOff.IsInBackOffSinceUpdate(backOffKey, m.backOff.Clock.Now()) {
		msg := fmt.Sprintf("Back-off pulling image %q", c.rawImage)
		m.event(ctx, c.objRef, v1.EventTypeNormal, EventBackOff, msg)
		return c.fail(res, ErrImagePullBackOff, msg, nil)
	}

	credentials, err := c.creds.lookup(ctx, c.rawImage)
	if err != nil {
		msg := fmt.Sprintf("Failed to pull image %q: %v", c.rawImage, err)
		m.event(ctx, c.objRef, v1.EventTypeWarning, EventFailed, msg)
		return c.fail(res, ErrImagePull, err.Error(), err)
	}
	if m.dryRun {
		res.PullAttempted = true
		res.Message = DryRunPullMessage
		return res, nil
	}

	// The intent is durable before the runtime is asked: a crash during the
	// pull must leave the name counted as pulled by the kubelet.
	if err := m.pullManager.RecordPullIntent(ctx, c.rawImage); err != nil {
		c.reportNotWritable(ctx, err)
		msg := fmt.Sprintf("Failed to pull image %q: %v", c.rawImage, err)
		m.event(ctx, c.objRef, v1.EventTypeWarning, EventFailed, msg)
		return c.fail(res, ErrImagePull, err.Error(), err)
	}
	m.recordsNotWritableReported.Store(false)

	m.event(ctx, c.objRef, v1.EventTypeNormal, EventPulling, fmt.Sprintf("Pulling image %q", c.rawImage))
	start := time.Now()
	pulled := m.puller.pull(ctx, c.spec, credentials)
	res.PullAttempted = pulled.attempts > 0
	if len(pulled.errs) > 0 {
		m.pullManager.RecordImagePullFailed(ctx, c.rawImage)
		pullErr := pulled.err()
		m.event(ctx, c.objRef, v1.EventTypeWarning, EventFailed, fmt.Sprintf("Failed to pull image %q: %v", c.rawImage, pullErr))
		if res.PullAttempted {
			// Only a registry or runtime answer earns a back-off; a pull
			// that never started (Stop, cancelled while waiting) does not.
			m.backOff.Next(backOffKey, m.backOff.Clock.Now())
		}
		return c.fail(res, pullFailureReason(pulled.errs), pullErr.Error(), pullErr)
	}

	failpointAfterPull() // test builds only: crash before the pull is recorded
	imageID, size, err := c.resolveImageID(ctx, pulled.imageRef)
	if err != nil {
		// The pull succeeded with the pod's credentials, so the pod may
		// use the image; only the record key is unknown. Recording with an
		// empty image ref fails and pins the intent, so the name keeps
		// counting as pulled by the kubelet and is never taken for
		// preloaded.
		klog.FromContext(ctx).Error(err, "Could not resolve the image ID of a pulled image; its pull intent stays", "pulledRef", pulled.imageRef)
		imageID = pulled.imageRef
		_ = m.pullManager.RecordImagePulled(ctx, c.rawImage, "", pulledCredentials(pulled.credential))
	} else if err := m.pullManager.RecordImagePulled(ctx, c.rawImage, imageID, pulledCredentials(pulled.credential)); err != nil {
		// The pull manager keeps the intent pinned and has logged the
		// failure; the pod proved access by pulling and is admitted.
		c.reportNotWritable(ctx, err)
	}

	m.event(ctx, c.objRef, v1.EventTypeNormal, EventPulled, fmt.Sprintf("Successfully pulled image %q in %v (%v including waiting). Image size: %v bytes.",
		c.rawImage, pulled.duration.Truncate(time.Millisecond), time.Since(start).Truncate(time.Millisecond), size))
	m.backOff.GC()
	res.ImageRef = imageID
	return res, nil
}

// reportNotWritable emits the ImagePullRecordsNotWritable warning on the
// pod when err says the records directory cannot be written, once until an
// intent is written again.
func (c *ensureCall) reportNotWritable(ctx context.Context, err error) {
	if !errors.Is(err, pullmanager.ErrRecordsNotWritable) || !c.m.recordsNotWritableReported.CompareAndSwap(false, true) {
		return
	}
	c.m.event(ctx, c.creds.podRef, v1.EventTypeWarning, EventImagePullRecordsNotWritable,
		fmt.Sprintf("Image pull records cannot be written (%v): images that need verification must be pulled, and pulls fail until the directory is writable", err))
}

// resolveImageID returns the image ID and size of a pulled image. Runtimes
// return the image ID from PullImage, but some return a repo digest; the
// image status call answers with the ID either way. When the status call
// fails, a returned value that is not a repo digest (no "@") is the ID, and
// the size is unknown (0), as the kubelet reports it best effort.
func (c *ensureCall) resolveImageID(ctx context.Context, pulledRef string) (string, uint64, error) {
	var statusErr error
	for _, spec := range []*runtimeapi.ImageSpec{{Image: pulledRef}, c.spec} {
		if spec.Image == "" {
			continue
		}
		status, err := c.m.imageService.ImageStatus(ctx, spec, false)
		if err != nil {
			statusErr = err
			continue
		}
		if img := status.GetImage(); img.GetId() != "" {
			return img.GetId(), img.GetSize(), nil
		}
	}
	if pulledRef != "" && !strings.Contains(pulledRef, "@") {
		return pulledRef, 0, nil
	}
	if statusErr == nil {
		statusErr = errors.New("the runtime does not report the image")
	}
	return "", 0, fmt.Errorf("resolving the image ID of %q (pulled as %q): %w", c.rawImage, pulledRef, statusErr)
}
