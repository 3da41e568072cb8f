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
	"time"

	"k8s.io/imagepullrecords"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// PullManager records image pull intents and successful pulls, and decides
// whether a pod must pull (verify) an image before it may use a copy that is
// already present on the node. See the package documentation for the rules.
type PullManager interface {
	// RecordPullIntent counts one more pull of image in flight and writes the
	// intent durably. The runtime pull must start only after it returned nil;
	// on error the pull must not start.
	RecordPullIntent(ctx context.Context, image string) error
	// RecordImagePulled merges credentials into the record of imageRef under
	// repo(image), refreshing its lastUpdatedTime, then counts one pull of
	// image fewer. nil credentials record only that the kubelet pulled the
	// image under that name. A returned error means the record is not durable
	// and the intent stays pinned; the pull itself still succeeded.
	RecordImagePulled(ctx context.Context, image, imageRef string, credentials *kubeletconfig.ImagePullCredentials) error
	// RecordImagePullFailed counts one pull of image fewer and, at zero,
	// removes its intent unless it is pinned.
	RecordImagePullFailed(ctx context.Context, image string)
	// MustAttemptImagePull decides whether a pod must pull image before it may
	// use the present imageRef. podCredentials is called at most once, and
	// only when the decision needs the pod's credentials. On error the
	// decision is always "must pull".
	MustAttemptImagePull(ctx context.Context, image, imageRef string, podCredentials GetPodCredentials) (Decision, error)
	// PruneUnknownRecords deletes the records of image refs not in
	// presentImageRefs whose lastUpdatedTime is before until and that have no
	// pull in flight. It is called after image garbage collection with a time
	// taken before the runtime's images were listed.
	PruneUnknownRecords(ctx context.Context, presentImageRefs []string, until time.Time) ([]string, error)
}

// GetPodCredentials resolves the pod's credentials that match the image being
// decided: every matching Secret credential (coordinates and hash), most
// specific first, and the pod's service account if a credential provider
// plugin used its token.
type GetPodCredentials func() ([]kubeletconfig.ImagePullSecret, *kubeletconfig.ImagePullServiceAccount, error)

// Verification names the rule that decided whether a pod may use a present
// image. The values are part of kubelet-imagectl's output.
type Verification string

// The rules of MustAttemptImagePull, plus the ones the image manager decides
// itself (notPresent, gateOff).
const (
	// VerificationNotPresent: the image is not on the node, so it is pulled.
	VerificationNotPresent Verification = "notPresent"
	// VerificationGateOff: the feature gate is off, present images are used.
	VerificationGateOff Verification = "gateOff"
	// VerificationPolicy: the verification policy exempts the image.
	VerificationPolicy Verification = "policy"
	// VerificationNotPulledByKubelet: NeverVerifyPreloadedImages and the
	// kubelet never pulled the image under this name.
	VerificationNotPulledByKubelet Verification = "notPulledByKubelet"
	// VerificationNodeAccessible: the name is recorded as accessible to every pod.
	VerificationNodeAccessible Verification = "nodeAccessible"
	// VerificationSecretHash: a pod credential's hash is on record.
	VerificationSecretHash Verification = "secretHash"
	// VerificationSecretCoordinates: a pod Secret's coordinates are on record
	// with another hash (rotation) and the pod's hash was stored.
	VerificationSecretCoordinates Verification = "secretCoordinates"
	// VerificationServiceAccount: the pod's service account is on record.
	VerificationServiceAccount Verification = "serviceAccount"
	// VerificationMustPull: nothing lets the pod in; it must pull.
	VerificationMustPull Verification = "mustPull"
)

// Decision is the outcome of MustAttemptImagePull.
type Decision struct {
	// MustPull is true when the pod must pull the image before using it.
	MustPull bool
	// Verification is the rule that decided.
	Verification Verification
}

// RecordsStore is one layer of pull record storage: the file store, the
// in-memory layer, or their composition. Returned records are shared and
// must not be modified; writers store new values.
type RecordsStore interface {
	// ListImagePullIntents returns every intent that decodes, and the files
	// that do not. A broken intent file counts as an intent for every image
	// string hashing to its name.
	ListImagePullIntents() ([]*kubeletconfig.ImagePullIntent, []*imagepullrecords.FileError, error)
	// ImagePullIntentExists reports whether an intent exists for image. A
	// broken file of that name counts as an intent.
	ImagePullIntentExists(image string) (bool, error)
	// WriteImagePullIntent durably writes an intent for image.
	WriteImagePullIntent(image string) error
	// DeleteImagePullIntent removes the intent for image; absent is fine.
	DeleteImagePullIntent(image string) error

	// ListImagePulledRecords returns every record that decodes, and the
	// files that do not.
	ListImagePulledRecords() ([]*kubeletconfig.ImagePulledRecord, []*imagepullrecords.FileError, error)
	// GetImagePulledRecord returns the record of imageRef, nil when there is
	// none, and an error wrapping ErrRecordPoisoned when a file exists for
	// imageRef but is broken.
	GetImagePulledRecord(imageRef string) (*kubeletconfig.ImagePulledRecord, error)
	// WriteImagePulledRecord durably writes record, replacing any file (even
	// a broken one) for its image ref.
	WriteImagePulledRecord(record *kubeletconfig.ImagePulledRecord) error
	// DeleteImagePulledRecord removes the record of imageRef; absent is fine.
	DeleteImagePulledRecord(imageRef string) error
}

// RuntimeImage is what start-up housekeeping needs to know of an image in
// the container runtime.
type RuntimeImage struct {
	// ID is the runtime's image ID, the key of the image's record.
	ID string
	// RepoTags are normalised references with a tag.
	RepoTags []string
	// RepoDigests are normalised references with a digest.
	RepoDigests []string
}

// ImageLister lists the images in the container runtime.
type ImageLister interface {
	ListImages(ctx context.Context) ([]RuntimeImage, error)
}
