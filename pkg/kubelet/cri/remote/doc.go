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

// Package remote wires the kubelet image manager to a container runtime over
// the CRI: it dials the runtime's image service with the client the kubelet
// itself uses (k8s.io/cri-client), and adapts its image list to what the pull
// manager's start-up housekeeping and the post-GC hook need.
//
// The image ID a runtime reports (for containerd, the config digest) is the
// key of every pull record, so the lister passes IDs through unchanged; repo
// tags and repo digests are passed as the runtime normalised them.
package remote
