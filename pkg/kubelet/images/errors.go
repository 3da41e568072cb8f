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
	"errors"
	"fmt"

	crierrors "k8s.io/cri-api/pkg/errors"
)

// The reasons a container's image is not admitted. Their texts are the
// Reason values of EnsureResult and the waiting reasons a kubelet reports.
var (
	// ErrImagePull: the pull failed, or could not be attempted (the pod's
	// credentials could not be resolved, the intent could not be recorded).
	ErrImagePull = errors.New("ErrImagePull")
	// ErrImagePullBackOff: an earlier pull of the image by the pod failed
	// and the back-off has not expired.
	ErrImagePullBackOff = errors.New("ImagePullBackOff")
	// ErrImageNeverPull: the pull policy is Never and the image is absent,
	// or present but the pod may not use it.
	ErrImageNeverPull = errors.New("ErrImageNeverPull")
	// ErrImageInspect: the runtime could not tell whether the image is present.
	ErrImageInspect = errors.New("ImageInspectError")
	// ErrInvalidImageName: the image name does not parse.
	ErrInvalidImageName = errors.New("InvalidImageName")
	// ErrRegistryUnavailable: the runtime reported the registry unavailable.
	ErrRegistryUnavailable = crierrors.ErrRegistryUnavailable
	// ErrSignatureValidationFailed: the runtime rejected the image's signature.
	ErrSignatureValidationFailed = crierrors.ErrSignatureValidationFailed
	// ErrDryRun is returned by operations that would write in a dry run.
	ErrDryRun = errors.New("not possible in a dry run")
	// errPullerStopped fails pulls after Stop.
	errPullerStopped = errors.New("image puller stopped")
)

// EnsureError is the error of a container whose image was not admitted.
type EnsureError struct {
	// Reason is one of the reason sentinels of this package.
	Reason error
	// Message is EnsureResult.Message.
	Message string
	// Err is the cause, nil when there is none beyond the reason.
	Err error
}

// Error returns the reason and the message.
func (e *EnsureError) Error() string {
	return fmt.Sprintf("%v: %s", e.Reason, e.Message)
}

// Unwrap returns the reason and the cause, for errors.Is and errors.As.
func (e *EnsureError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Err}
}

// PullSecretError reports an image pull Secret that exists or may exist but
// could not be fetched (any GetSecret error but NotFound). The container
// fails rather than pulling without the Secret: a transient API error must
// not turn into a pull with other credentials or a denial that looks final.
type PullSecretError struct {
	Namespace string
	Name      string
	// Err is the SecretGetter's error.
	Err error
}

// Error names the Secret.
func (e *PullSecretError) Error() string {
	return fmt.Sprintf("retrieving image pull secret %q: %v", e.Namespace+"/"+e.Name, e.Err)
}

// Unwrap returns the SecretGetter's error.
func (e *PullSecretError) Unwrap() error { return e.Err }
