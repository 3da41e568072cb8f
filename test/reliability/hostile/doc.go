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
// modes 0777 and 0666, a stale or foreign lock). Each is driven through the
// pull manager (start-up, decisions, a repairing pull, a restart) and
// through kubelet-imagectl records list, with a deadline on every call so
// that anything that blocks fails the test.
//
// The default run is short (part of make test); RELIABILITY_SCALE=long
// repeats every case and prints a "RELIABILITY: hostile:" summary.
package hostile
