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

// Package load runs many concurrent EnsureImageExists calls against the
// embedded registry (real HTTP basic auth) and the embedded runtime (real
// CRI over a unix socket), four nodes at once, one per verification policy,
// each with its own root dir and puller, all sharing one runtime, and
// checks that:
//
//   - every call returns before a context deadline (no deadlock);
//   - no record is lost: every successful pull's Secret (or
//     nodePodsAccessible for an anonymous pull) is in the record files
//     afterwards, read back with k8s.io/imagepullrecords;
//   - nothing is granted that no pull earned: no record holds a Secret whose
//     credentials the registry refuses;
//   - goroutines and heap return to their baseline once the nodes stop.
//
// The default run is short (part of make test). RELIABILITY_SCALE=long runs
// the full 1,000 calls over 100 images and 50 Secrets (make
// test-reliability). Each run prints a `RELIABILITY: load:` line with the
// throughput; tests never assert wall-clock time.
package load
