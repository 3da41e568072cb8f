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

// Package hostile holds the hostile and broken file tests of the image
// manager's reliability campaign (issue 6, item 4). Everything is in its
// tests: entries planted in image_manager/ where P's record or intent
// belongs (symlinks to valid files outside, pulled/ itself a symlink,
// FIFOs, a character device, a directory, a file past the read limit, an
// empty file, deeply nested and duplicate-key JSON, invalid UTF-8, a record
// of another image), and the states of the directory itself (missing,
// modes 0777 and 0666, a stale or foreign lock, image_manager/ itself a
// symlink to another root dir's records: every reader and writer refuses
// it with exit 3, and no lock file lands in the target). Each is driven through the
// pull manager (start-up, decisions, a repairing pull, a restart) and
// through kubelet-imagectl records list, with a deadline on every call so
// that anything that blocks fails the test.
//
// Each entry and each state also meets every other records command, run
// in-process through app.Run over a fresh root dir that also holds Q's
// record in v1alpha1 and Q's intent in v1beta1 (so migrate, downgrade and
// revoke would each rewrite something): records verify, verify --fix,
// migrate --dry-run, migrate, downgrade --to v1alpha1 with and without
// --drop-service-accounts, explain --pod (pull policy Never, with s1's
// Secret and without credentials, over a fake CRI image service that has
// P and counts pull attempts) and revoke --kubeconfig (an httptest API
// server answering the metadata lists with no Secret or service account,
// so a revocation would rewrite any record it reads). Every run has a
// deadline (FIFOs), and the root dir and the directory the symlinks point
// into are snapshotted with lstat, never following a symlink or opening a
// FIFO, before and after:
//   - nothing outside the root dir changes, no symlink or its target
//     changes, nothing is pulled;
//   - verify names the entry, and only it, in findings with exit 1;
//     pulled/ as a symlink (no listing works) is exit 3 naming it, as for
//     records list and start-up; verify, migrate --dry-run and explain
//     change nothing at all;
//   - verify --fix never removes a broken record or intent, nor anything
//     named like a temporary that is not a regular file (FIFO, symlink,
//     directory: planted as extra entries), and removes a regular one;
//   - migrate and downgrade refuse a store with a broken file with exit 1
//     naming it and nothing rewritten (Q's files included), and rewrite
//     only the files they should when the entry is an ignored temporary;
//   - explain grants nothing over a broken entry (Denied, never Reused),
//     and gives a clean root dir's answer over an ignored one;
//   - revoke still revokes Q's deleted Secret and never rewrites the
//     broken entry or follows it;
//   - over each directory state every command has its exit code (3 for a
//     missing root dir or a lock no writer can take), verify names the
//     loose or hostile entries, a writer only takes the lock, tightens
//     modes and rewrites records, and --fix leaves every mode tight.
//
// Two clean controls (P recorded, P preloaded) show each command's answer
// when nothing is hostile, so a refusal or a denial means something.
//
// The default run is short (part of make test); RELIABILITY_SCALE=long
// repeats every case and prints a "RELIABILITY: hostile:" summary.
package hostile
