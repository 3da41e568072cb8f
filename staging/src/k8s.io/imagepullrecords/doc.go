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

// Package imagepullrecords reads and writes the kubelet's image pull records:
// the files under <root-dir>/image_manager/ that remember which credentials
// pulled which image (KEP-2535, feature gate KubeletEnsureSecretPulledImages).
//
// Layout:
//
//	image_manager/.lock          exclusive writer lock (flock), held for a writer's lifetime
//	image_manager/pulling/       one ImagePullIntent per image string being pulled
//	image_manager/pulled/        one ImagePulledRecord per image ref (runtime image ID)
//
// A file is named "sha256-" followed by the lowercase hex SHA-256 of its key:
// the image string exactly as the pod wrote it for an intent, the image ref
// for a record. Directories are 0700 and files 0600.
//
// Schema and migration: files are JSON objects of the published
// kubelet.config.k8s.io types. Reading accepts v1alpha1 and v1beta1 (the same
// fields) and decodes strictly: unknown fields, duplicate fields, a wrong kind
// or a name that does not hash from the content are errors. Writing always
// produces the canonical v1beta1 form: compact JSON, struct fields in
// declaration order, map keys sorted, one trailing newline. A writer that
// loads an older version rewrites it in v1beta1; a reader never rewrites.
// Decoding also rejects invalid UTF-8 (encoding/json would silently replace
// it, so the key would no longer hash to the file name) and a
// lastUpdatedTime outside years 0000-9999 in UTC (it could not be written
// back), and it normalises the record: time in UTC with whole seconds, empty
// lists and maps as nil. A decoded object therefore equals the decoding of
// its own encoding.
//
// Writes are atomic and durable: a ".tmp-*" file in the same directory is
// written, fsynced and closed, renamed over the final name, and the directory
// is fsynced. Readers ignore names starting with ".tmp-", names ending in
// ".tmp" (temporaries of released kubelets) and names without the "sha256-"
// prefix; a writer removes leftover temporaries at start-up. Opening for
// writing fsyncs the kubelet root dir, image_manager/, pulling/ and pulled/,
// so the directories survive a power loss, and so does anything a process
// that died between a rename and its directory fsync left behind. Removing
// an intent is not fsynced: one that comes back fails safe. What each fsync
// protects is shown by k8s.io/kubernetes/test/reliability/powerloss.
//
// The package imports nothing from k8s.io/kubernetes/pkg: the kubelet and the
// node tool build on it, so decoding exists once.
package imagepullrecords
