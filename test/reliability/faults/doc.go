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

// Package faults holds the fault campaign of the image manager's
// reliability tests (issue 6, item 3). Everything is in its tests:
//
//   - Store faults: every filesystem operation of the record store fails in
//     turn with ENOSPC, EIO, EACCES and EROFS (an imagepullrecords.FS wrapper
//     failing the Nth operation of one kind), across start-up, pulls, a
//     restart and a prune. Decisions fail safe, each failure is logged once
//     and counted, nothing panics, and the next successful pull repairs the
//     state.
//   - A read-only image_manager (EROFS on every write through the wrapper,
//     and a real read-only bind mount when the test runs as root): the
//     library fails closed, the condition is one log line and one
//     ImagePullRecordsNotWritable event, and kubelet-imagectl exits 3 with
//     one stderr line naming the directory.
//   - Runtime and registry faults: the runtime socket gone, a runtime that
//     hangs past the deadline, a registry answering 500, one that never
//     answers, one that speaks TLS the runtime cannot verify and one that
//     closes every connection: clear errors with the right reason and no
//     goroutine left behind.
//   - Credential provider plugin and TokenRequest faults: the exec plugin
//     of internal/fakeplugin, with a service account token from a fake API
//     server, crashes, prints garbage, answers the wrong kind, apiVersion or
//     cacheKeyType, prints more than 1 MiB or nothing, hangs until the exec
//     timeout kills it or past the pod's deadline; the API server fails or
//     times out the TokenRequest, returns an empty token, fails the
//     ServiceAccount GET, lost the account or its required annotation. For
//     an absent image and for a present one recorded for the service
//     account, the container fails with ErrImagePull (a *PluginError), the
//     runtime is not asked to pull, the records stay byte for byte, no
//     intent is left and no goroutine outlives the case (a hang past the
//     pod's deadline ends at the exec timeout); once repaired, the present
//     image is reused through the recorded service account and the absent
//     one pulled.
//   - Record life-cycle faults: the same wrapper fails every operation of
//     RevokeCredentials (records revoke) and of PlanRewrite and
//     ApplyRewrite (records migrate, records downgrade --to v1alpha1, with
//     and without --drop-service-accounts) in turn, with each errno, and,
//     once per errno, a write together with every removal, so that a
//     temporary really is left. A revocation returns an error that wraps
//     the errno and names the operation, the path and the record, logged
//     once; every record is either as it was or exactly as a fault-free
//     pass leaves it (decoded and compared), no credential of a live source
//     and no repository name is ever removed, and a fresh manager grants
//     nothing the records did not grant before the revocation and nothing
//     to a credential reported revoked. A rewrite returns a *RewriteError
//     whose count of replaced files is what is on disk (a failed plan
//     writes nothing); every file stays complete and says what it said, in
//     either version. Temporaries are left only when their removal failed
//     too, and the next writer's start-up removes them. Once the fault is
//     cleared a second revocation reaches the fault-free state and a
//     second rewrite replaces exactly the files left and leaves every one
//     in its target version. These scenarios skip the real fsync (what
//     survives a power loss is the powerloss campaign's). records verify
//     --fix is not covered: it opens its store, takes its lock and lists
//     its directories on the real filesystem, which no FS seam reaches.
//
// The default run is short (part of make test); RELIABILITY_SCALE=long
// injects every fault and prints a "RELIABILITY: faults:" summary.
package faults
