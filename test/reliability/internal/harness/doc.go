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

// Package harness is the shared core of the crash and power-loss reliability
// tests (issue 6): a small world of images, repositories, Secrets and
// service accounts (whose credential provider plugin credentials pull and
// are recorded as kubernetesServiceAccounts), a registry rule that decides
// which credentials may pull what, an append-only oracle log of what really
// happened (successful pulls, durable records, decisions asked), a
// write-heavy workload that drives a pull manager, and the invariant
// checker that a new manager over the surviving root dir must pass:
//
//   - start-up completes;
//   - every file under image_manager decodes, or is an ignored temporary, or
//     is broken and then poisoned: every decision for its image ref must pull;
//   - no record holds a credential whose pull did not succeed (a second
//     Secret with a proven hash, or a rotation of proven coordinates that a
//     pod presented, count as proven: SPEC section 5 steps 7 and 8), and no
//     record holds a service account (UID, namespace, name) whose plugin
//     credentials did not pull the name;
//   - a decision granted through a recorded service account (step 10) is
//     for the very account that pulled, never for one recreated under its
//     name;
//   - every pull that RecordImagePulled acknowledged is still granted (unless
//     its image was garbage-collected since, which allows a prune, or the
//     cluster deleted its Secret or service account, which allows a
//     revocation);
//   - with Workload.RevokeEvery, no record holds, and no decision grants
//     through, a source whose revocation RevokeCredentials acknowledged
//     (until a pull with it brings it back);
//   - every name the runtime pulled for the kubelet never passes for
//     preloaded (NeverVerifyPreloadedImages: no notPulledByKubelet decision),
//     whether its record entry or its intent survived.
//
// The oracle is event-sourced: a check looks at a prefix of the log, so a
// power cut at any operation sees exactly what had happened by then. Other
// reliability tests may reuse the world, the workload and the checker.
package harness
