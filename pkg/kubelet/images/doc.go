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

// Package images is the kubelet's image manager: EnsureImageExists makes a
// container's image present and decides whether the pod may use it
// (KEP-2535, feature gate KubeletEnsureSecretPulledImages).
//
// # Keys
//
// The pod's raw image string names the pull intent and, with the pod UID,
// the back-off entry; the runtime request uses the image with the default
// tag applied; the runtime's image ID keys the pull record on every path
// (the image status for a present image; after a pull, the status of what
// PullImage returned, since some runtimes return a repo digest).
//
// # Pull policies
//
//   - Always: pull with the pod's credentials; the pull is the verification.
//   - IfNotPresent: absent, pull. Present, ask the pull manager (with the
//     gate off it is the no-op one, which always allows): may use, use it;
//     must pull, pull with the pod's credentials and let the registry decide.
//   - Never: absent, or present but not for this pod, fail ErrImageNeverPull.
//
// An empty pull policy is defaulted as the API server does; an unknown one
// is treated as Never, the choice that neither contacts a registry nor
// admits an image the pod has not proved it may use.
//
// # Pulls
//
// Every pull checks the back-off (per pod UID and raw image), resolves the
// pod's credentials, records the intent durably, and only then calls the
// runtime, through a semaphore of maxParallelImagePulls slots (one when pulls
// are serialised, no bound when unset). Matching credentials are tried in
// order (pod Secrets, most specific registry key first, then node-wide
// ones) until one succeeds; with none the pull is anonymous, and when some
// matched and all failed there is no anonymous retry. The credential that
// succeeded is recorded: a Secret's coordinates and hash, or
// nodePodsAccessible for an anonymous pull or node-wide credentials. The
// runtime gets credentials with an empty ServerAddress (containerd drops
// credentials whose ServerAddress host differs from the image's).
//
// A failed record write leaves the intent pinned (the pull manager's
// contract); the pod is still admitted, having just proved access. If the
// image ID of a pulled image cannot be resolved, the pod is admitted under
// what PullImage returned and the intent is pinned the same way.
//
// # Credentials
//
// The pod's imagePullSecrets are fetched lazily, at most once per call, and
// only when a decision or a pull needs them. Missing Secrets and Secrets of
// another type are named in one FailedToRetrieveImagePullSecret warning on
// the pod and skipped. A Secret that cannot be fetched for another reason,
// or whose content cannot be parsed, fails the container with ErrImagePull
// whatever its pull policy, and grants nothing. Errors and events name
// Secrets but never carry their content, nor any credential.
//
// # Dry run
//
// With Options.DryRun no PullImage call and no pull manager Record call is
// made: decisions are reported as usual, and a pull that would happen is
// reported with PullAttempted and the message "would pull".
package images
