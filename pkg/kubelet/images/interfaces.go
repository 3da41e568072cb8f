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
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/flowcontrol"
	internalapi "k8s.io/cri-api/pkg/apis"

	"k8s.io/kubernetes/pkg/credentialprovider"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// ImageManager makes containers' images present and usable by their pods.
type ImageManager interface {
	// EnsureImageExists makes container's image present and usable by pod.
	// objRef is the container's object reference (FieldPath
	// spec.containers{name} or spec.initContainers{name}); container events
	// go to objRef, pod-level warnings (FailedToRetrieveImagePullSecret) to
	// a reference to the pod (Kind Pod, no FieldPath).
	//
	// The error is nil exactly when the result's Reason is empty: the image
	// was admitted (or, in a dry run, would be pulled). Otherwise it is an
	// *EnsureError whose Reason is one of the sentinel errors of this
	// package, so errors.Is(err, ErrImagePull) and the like work; it also
	// wraps the cause (a runtime error, a *PullSecretError, ...).
	EnsureImageExists(ctx context.Context, objRef *v1.ObjectReference, pod *v1.Pod, container *v1.Container) (EnsureResult, error)
	// PruneUnknownRecords is the post-GC hook: it lists the runtime's images
	// and calls the pull manager's PruneUnknownRecords with them and a time
	// taken before listing, or until if it is not zero. It returns the
	// image refs whose records were removed. It fails, pruning nothing, when
	// the images cannot be listed, and with ErrDryRun in a dry run.
	PruneUnknownRecords(ctx context.Context, until time.Time) ([]string, error)
	// Stop refuses new pulls, cancels the pulls in flight and returns once
	// every puller goroutine has ended. It may be called more than once.
	Stop()
}

// EnsureResult is the outcome for one container.
type EnsureResult struct {
	// ImageRef is the runtime's image ID when the image was admitted, else "".
	ImageRef string
	// Verification is the rule that decided: notPresent for an absent
	// image, gateOff when the feature gate is off, mustPull for a present
	// image that the Always pull policy pulls again, or the pull manager's
	// rule for a present image with IfNotPresent or Never. It is empty
	// when the image name or the image status failed first
	// (InvalidImageName, ImageInspectError).
	Verification pullmanager.Verification
	// PullAttempted is true when a runtime PullImage call was made (in a
	// dry run: would have been made).
	PullAttempted bool
	// Reason is "" when the image was admitted (or, in a dry run, would be
	// pulled); else one of ErrImagePull, ImagePullBackOff,
	// ErrImageNeverPull, ImageInspectError, InvalidImageName,
	// RegistryUnavailable, SignatureValidationFailed.
	Reason string
	// Message is a human message: the Pulled event's message for a reused
	// image, "" after a successful pull, DryRunPullMessage for a pull a dry
	// run would make, and for a failed pull the runtime's error text. It
	// never contains credentials.
	Message string
}

// DryRunPullMessage is EnsureResult.Message for a pull that a dry run would
// make.
const DryRunPullMessage = "would pull"

// PluginCredentials returns the credentials that the node's credential
// provider plugins give for image on behalf of pod, in the plugins' order. A
// credential obtained with the pod's service account token carries that
// service account as its source; one obtained without a token carries none
// (node-wide). An error (a plugin that fails, a service account that cannot
// be had) fails the container: nothing is granted, pulled or recorded.
type PluginCredentials func(ctx context.Context, pod *v1.Pod, image string) ([]credentialprovider.TrackedAuthConfig, error)

// SecretGetter fetches a pull Secret in the pod's namespace. It returns an
// error satisfying apierrors.IsNotFound for a missing Secret; any other
// error fails the container (see PullSecretError).
type SecretGetter func(ctx context.Context, namespace, name string) (*v1.Secret, error)

// Options configure an image manager.
type Options struct {
	// ImageService is the runtime's CRI image service.
	ImageService internalapi.ImageManagerService
	// PullManager records pulls and decides whether a present image may be
	// used. When EnsureSecretPulledImages is false it is ignored and the
	// no-op pull manager is used, so that nothing is ever written.
	PullManager pullmanager.PullManager
	// EnsureSecretPulledImages is the effective KubeletEnsureSecretPulledImages
	// feature gate.
	EnsureSecretPulledImages bool
	// Recorder receives the events; nil drops them (they are still logged).
	Recorder record.EventRecorder
	// NodeKeyring holds the node-wide credentials; nil or empty for none.
	NodeKeyring credentialprovider.DockerKeyring
	// GetSecret fetches the pod's image pull Secrets; nil makes every
	// referenced Secret count as missing.
	GetSecret SecretGetter
	// PluginCredentials runs the node's credential provider plugins; nil
	// when none is configured. Their credentials are tried after the pod's
	// Secrets and the node-wide docker config.
	PluginCredentials PluginCredentials
	// SerializeImagePulls makes the manager pull one image at a time.
	SerializeImagePulls bool
	// MaxParallelImagePulls bounds the number of pulls in flight when pulls
	// are not serialised; nil means no bound. It must be at least 1, and at
	// most 1 when SerializeImagePulls is set.
	MaxParallelImagePulls *int32
	// Backoff spaces out the pulls of one image by one pod after failures;
	// nil means a back-off of 10s doubling up to 300s.
	Backoff *flowcontrol.Backoff
	// DryRun decides without pulling or writing anything: PullImage and the
	// pull manager's Record calls are never made, and a pull that would be
	// made is reported with PullAttempted and DryRunPullMessage. Decisions
	// may still write back Secret coordinates (pull manager steps 7 and 8):
	// pass a read-only pull manager to keep those in memory.
	DryRun bool
}
