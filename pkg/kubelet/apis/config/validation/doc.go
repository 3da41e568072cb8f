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

// Package validation validates the kubelet configuration subset this tree
// reads (k8s.io/kubernetes/pkg/kubelet/apis/config.KubeletConfiguration)
// against the effective feature gate, and parses the entries of
// preloadedImagesVerificationAllowlist for the pull manager to match with.
//
// Every configuration error starts with "invalid configuration: " (and wraps
// ErrInvalidConfiguration), names the field by its JSON name and shows the
// bad value, so an operator can find it in the file. All problems are
// reported at once, as an aggregate.
//
// Allowlist entries (ParseAllowlistEntry) are repository names, never image
// references: an exact entry E must be the fully qualified, normalised
// repository name (no tag, no digest, no Docker Hub shorthand), and a prefix
// entry "P/*" must start with a registry host and have P + "/x" a valid exact
// entry. Consequences worth knowing: "docker.io/*" is rejected (docker.io/x
// normalises to docker.io/library/x; write "docker.io/library/*"), while
// "reg.example:5000/*" and "localhost/*" are accepted.
package validation
