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

// Package imageservice is an embedded CRI image service for the demo and the
// hermetic tests: a real gRPC server on a unix socket that implements the CRI
// v1 ImageService by really pulling from registries, and answers every
// RuntimeService call with codes.Unimplemented (this tree starts no
// containers).
//
// It mimics containerd 1.6 where the kubelet can observe the difference:
//   - PullImage returns the image ID, which is the config digest
//     ("sha256:..."). One image ID can carry several names: pulling a second
//     name of the same image adds a repo tag (or repo digest) to it, and a
//     tag that moves to another image leaves the old one.
//   - Repo tags and repo digests are normalised docker references
//     ("docker.io/library/busybox:1.36", "reg:5000/a/b@sha256:...").
//   - Every pull resolves the manifest from the registry with the request's
//     credentials, even when the image is present, so the registry decides;
//     only missing content is downloaded. Layers and the config are verified
//     against their digests.
//   - Credentials: username/password, the base64 "auth" form, and
//     identity/registry tokens are used as given. ServerAddress is optional;
//     when it is set it is treated as containerd does (Go's url.Parse): a
//     value that does not parse ("127.0.0.1:5000") fails the pull, and a
//     value whose host differs from the image's registry host silently drops
//     the credentials ("reg.example:5000" parses as a scheme with no host,
//     so it is dropped too). The kubelet must send it empty.
//   - A registry refusing the credentials fails with gRPC Unknown and
//     containerd's text ending in "401 Unauthorized"; an unreachable registry
//     fails with a plain pull error that carries the dial error ("connection
//     refused"), which the kubelet reports as ErrImagePull.
//   - ImageStatus finds an image by ID, by repo tag or by repo digest and
//     returns a nil image, without error, when it is absent. RemoveImage
//     removes the image with all its names and is idempotent.
//
// Content lives under Options.Dir (blobs/sha256/<hex> and an index file
// images.json written atomically), so a server restarted over the same
// directory keeps its images. Registries on loopback are reached over plain
// HTTP, as go-containerregistry does for loopback hosts.
package imageservice
