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

// Package imagemanager holds hermetic integration tests of the kubelet image
// manager with the KubeletEnsureSecretPulledImages feature: the KEP-2535
// scenarios (SPEC section 9) run through images.ImageManager.EnsureImageExists
// against real components on loopback only:
//
//   - an embedded OCI registry with HTTP basic authentication and
//     per-repository access, whose access log tells whether a decision
//     contacted the registry;
//   - the embedded CRI image service, reached through the CRI client over a
//     real unix socket, which pulls for real (and is where "preloaded"
//     images are put, without a CRI pull);
//   - a file-backed pull manager in a root dir per test, whose records are
//     read back from disk with k8s.io/imagepullrecords.
//
// SPEC section 9, row by row:
//
//   - policy x pull policy x pod B table: TestSection9Matrix;
//   - S1 rotated, S1 deleted and recreated: TestSecretRotationAndRecreation;
//   - anonymous image first pulled with a Secret:
//     TestAnonymousImageFirstPulledWithSecret;
//   - allowlist exact, prefix and near misses: TestAllowlist;
//   - preloaded image: TestPreloadedImage;
//   - one image ID under two names: TestSameImageIDUnderTwoNames;
//   - records survive a restart, crash before the record was durable:
//     TestRecordsSurviveRestart, TestCrashBeforeRecordDurable,
//     TestRestartWithRuntimeUnreachable, TestOnDiskStateAtRestart;
//   - garbage collection then prune, refreshed record survives:
//     TestPruneAfterGC, TestPullInFlight;
//   - two pods pulling P at once: TestConcurrentPulls, TestManyConcurrentPods;
//   - registry down: TestRegistryDown;
//   - gate off: TestGateOff, TestGateTurnedOff.
//
// The other tests cover the credential rules of section 4 (Secret types,
// missing and unparsable Secrets, credential order, node-wide credentials)
// and the pull policies, error reasons and back-off of section 6.
//
// The package has no non-test code besides this file.
package imagemanager
