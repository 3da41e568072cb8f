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

// Package credentialprovider turns docker configuration files into registry
// credentials the kubelet can hand to the container runtime, and remembers
// where each credential came from so that the image pull manager can record
// (and later recognise) the credentials that pulled an image.
//
// # Docker configuration
//
// Two formats are read: the `config.json` / `.dockerconfigjson` format, an
// object whose `auths` member maps registry keys to entries, and the legacy
// `.dockercfg` format, where the top-level object is that map. An entry's
// `auth` member (base64 of `username:password`, padded or not) replaces its
// `username` and `password`. Other members (`identitytoken`,
// `registrytoken`, `credsStore`, ...) are ignored, as released kubelets
// ignore them, so that credential hashes stay comparable with theirs.
//
// Parse errors never contain any part of the input: not a credential, and
// not even a registry key or a single offending character, because the
// caller typically reports them in events that anyone reading the pod can
// see. They carry the byte offset of the problem and wrap
// ErrInvalidDockerConfig.
//
// # Matching
//
// A registry key is a host, optionally with a port and a path, optionally
// with a scheme (`https://reg.example:5000/team`). The scheme is dropped, a
// path that is only an API version (`/v1/`, `/v2/`) is dropped, and
// `index.docker.io` stands for Docker Hub (`docker.io`). Host labels may be
// globs (`*.example.com`, per label: `*.example.com` does not match
// `a.b.example.com`, nor `example.com`). A key matches an image when, after
// the image is normalised (`busybox` -> `docker.io/library/busybox`), the
// host matches label by label, the ports are equal (a key without a port
// matches only images without one), and the key's path segments are a
// prefix of the image's path segments. Path matching is per segment, unlike
// released kubelets' plain string prefix: a key for `reg.example/team` must
// not hand its credentials to `reg.example/team-b`, another tenant.
//
// A keyring returns every matching credential, most specific first: keys
// with more path segments first, then keys with fewer glob labels, then in
// reverse lexical order of the key (released kubelets' tie-break); equal
// keys keep the order in which they were added.
//
// # Hashes
//
// Each credential carries HashAuthConfig of itself: lowercase hex SHA-256 of
// the Go encoding/json encoding of username, password, auth, email,
// serveraddress, identitytoken and registrytoken, in that order, each
// omitted when empty. Pull records store these hashes, and released
// kubelets wrote them the same way, so the encoding must never change.
//
// # Node-wide credentials
//
// NodeKeyring reads the node's docker configuration: an explicitly
// configured file, or the first that exists of `<root-dir>/config.json`,
// `<root-dir>/.dockercfg`, `$HOME/.docker/config.json` and `$HOME/.dockercfg`.
// Node-wide credentials carry no source: a pull with them makes the image
// accessible to every pod on the node.
package credentialprovider
