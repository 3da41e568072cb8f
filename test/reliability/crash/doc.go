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

// Package crash kills a pull manager with SIGKILL at many points of a
// write-heavy workload and checks every invariant after each kill (issue 6,
// item 1).
//
// The test binary re-executes itself as a child (TestCrashChild, selected by
// an environment variable) that runs the harness workload against a real
// root dir. The runtime and the oracle log stay in the parent: the child
// asks the parent over a pipe to pull (only after its intent is durable),
// to list and to garbage-collect images, and reports acknowledged records
// and decisions (a decision is announced before its write-back), so the log
// outlives every kill. The parent kills the child at a random time or the
// child kills itself at a failpoint: the Nth filesystem operation of one
// kind on the write path (create of a temporary, write, file fsync, close,
// rename, directory open, directory fsync, directory close, removal of an
// intent, a record or a temporary), just before or just after it, through
// a wrapper of the imagepullrecords.FS seam, so no build tag is needed.
// After every kill the parent starts a new manager over the root dir and
// runs harness.CheckRestart; the next child continues over what is left.
//
// One pull in five of the workload uses a service account's credential
// provider plugin credentials and is recorded as kubernetesServiceAccounts,
// so kills also land while such records are written (the summary counts
// kills between a successful pull with a service account and its record's
// acknowledgement); after each restart the oracle checks every record's
// service accounts against the pulls that proved them, and every decision
// granted through a recorded service account (step 10) against the durable
// log: the very account that pulled, never one recreated under its name.
//
// One step in ten (TestCrash) or three (TestCrashDuringRevocations)
// deletes a Secret, a service account or a whole namespace from the
// world's cluster and revokes it (RevokeCredentials); the summaries count
// acknowledged revocations and kills between a deletion and its
// acknowledgement. TestCrashDuringRevocations' failpoints (suffix
// ":revoking") count only the operations made while a revocation runs, so
// every one of its kills lands inside one, often after some of its records
// were rewritten and before others. After each restart no record may hold
// a source whose revocation was acknowledged, a revoked name must still
// count as pulled by the kubelet, and pulls whose source was deleted no
// longer have to grant (see package harness).
package crash
