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

// The reasons of the events the image manager emits. Released kubelets use
// the same ones; tools select events by them.
const (
	// EventPulled (Normal): the image is present and may be used, or a
	// pull succeeded.
	EventPulled = "Pulled"
	// EventPulling (Normal): a pull starts.
	EventPulling = "Pulling"
	// EventFailed (Warning): a pull failed or could not be attempted.
	EventFailed = "Failed"
	// EventBackOff (Normal): no pull because of the back-off.
	EventBackOff = "BackOff"
	// EventInspectFailed (Warning): the image name does not parse or the
	// runtime could not inspect the image.
	EventInspectFailed = "InspectFailed"
	// EventErrImageNeverPull (Warning): the pull policy is Never and the
	// image is not available to the pod.
	EventErrImageNeverPull = "ErrImageNeverPull"
	// EventFailedToRetrieveImagePullSecret (Warning, on the pod): some
	// image pull Secrets are missing or of the wrong type.
	EventFailedToRetrieveImagePullSecret = "FailedToRetrieveImagePullSecret"
	// EventImagePullRecordsNotWritable (Warning, on the pod): the pull
	// manager cannot write image_manager/ (read-only filesystem, permission
	// denied), so images that need verification are not admitted and
	// pulls fail. Emitted once, on the first pod that meets it, until an
	// intent is written again.
	EventImagePullRecordsNotWritable = "ImagePullRecordsNotWritable"
)
