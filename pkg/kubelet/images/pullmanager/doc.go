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

// Package pullmanager keeps the kubelet's image pull records and decides
// whether a pod may use an image that is already present on the node
// (KEP-2535, feature gate KubeletEnsureSecretPulledImages).
//
// # Records
//
// Every pull is preceded by a durable intent (pulling/) and followed by a
// record (pulled/) keyed by the runtime's image ID. A record maps each
// repository name the image was pulled under, repo(image), to the
// credentials that succeeded: Secret coordinates with a credential hash,
// service accounts, or nodePodsAccessible for anonymous and node-wide
// credentials. An empty entry grants nothing and only says the kubelet
// pulled the image under that name.
//
// The file store (k8s.io/imagepullrecords) is the source of truth; an
// in-memory layer holds every record, intent and broken file name after
// start-up so that decisions never touch the disk. Writes reach the disk
// first and memory only once durable. A broken record file poisons its name:
// decisions that need it require a pull until a successful pull rewrites it;
// it is never treated as absent, which would make the image look preloaded.
//
// # Intent protocol
//
// RecordPullIntent counts a pull in flight, then writes the intent; the pull
// starts only after that. RecordImagePulled writes the record, then counts
// the pull out, and removes the intent only once the record is durable and no
// pull of that image string is in flight. If the record write fails the
// intent is pinned until a later successful write or start-up housekeeping.
// A name with a pull in flight or an intent counts as pulled by the kubelet,
// so an interrupted pull never makes an image look preloaded.
//
// # Decision
//
// MustAttemptImagePull(image, imageRef, podCredentials):
//
//  1. empty imageRef: must pull;
//  2. NeverVerify, or NeverVerifyAllowlistedImages with repo(image)
//     allowlisted: may use (credentialPolicyAllowed); an unparsable image:
//     must pull (error);
//  3. a poisoned record: must pull (error);
//  4. NeverVerifyPreloadedImages and the name not pulled by the kubelet (no
//     entry for repo(image), mapping not empty, no pull in flight and no
//     intent for that repository name): may use (credentialPolicyAllowed);
//  5. no entry: must pull (mustAuthenticate); nodePodsAccessible: may use
//     (credentialRecordFound);
//  6. resolve the pod's credentials, only now;
//  7. a pod credential whose hash is on record: may use, adding its
//     coordinates if new;
//  8. a pod Secret whose coordinates are on record with another hash
//     (rotated): may use, storing the new hash;
//  9. write-backs stop once the entry holds 100 Secrets: then a hash match
//     is still accepted without a write, a rotation is not;
//  10. the pod's service account on record: may use;
//  11. otherwise must pull (mustAuthenticate).
//
// Until start-up housekeeping has listed the runtime's images, every
// decision requires a pull.
//
// # Concurrency
//
// Decisions read immutable records from memory and do not serialise on one
// lock. Writers take, in this order: the image string's striped lock, the
// image ref's striped lock, the in-flight mutex; the memory layer's mutex is
// innermost. Lock sets are striped over a fixed number of mutexes so that
// pod-controlled strings cannot grow them; parsed image names are cached in
// pkg/util/parsers' bounded cache.
package pullmanager
