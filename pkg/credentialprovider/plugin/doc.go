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

// Package plugin runs the kubelet's exec credential provider plugins
// (KEP-2133), including plugins that exchange a service account token bound
// to the pod for registry credentials (KEP-4412, behind the
// KubeletServiceAccountTokenForCredentialProviders feature gate).
//
// # Configuration
//
// ReadConfig reads a CredentialProviderConfig (kubelet.config.k8s.io/v1,
// v1beta1 or v1alpha1, YAML or JSON, strictly) into the published v1 type,
// and ValidateConfig checks it as the kubelet does before running anything:
// each provider's name is an executable in the bin dir, its matchImages are
// patterns like `*.dkr.ecr.*.amazonaws.com` or `registry.io:8080/path`, and
// tokenAttributes are only allowed with the v1 exec protocol and the gate
// on. NewProviders does both and builds the providers.
//
// # Lookup
//
// For an image, every provider whose matchImages match it (the matching
// rules of docker config keys, see package credentialprovider) is asked, in
// config order, and the results are concatenated: earlier providers'
// credentials are tried first. A plugin is run as `<bin-dir>/<name> args...`
// with the kubelet's environment plus the provider's env, a
// CredentialProviderRequest on stdin in the provider's apiVersion, and must
// answer a CredentialProviderResponse of the same version on stdout. It
// runs in its own process group, killed when the execution times out; its
// stdout is bounded and its stderr is discarded.
//
// Failures are fail-safe: if any matching provider fails, Lookup returns a
// *PluginError and no credential at all, and the caller fails the
// container. Error messages never contain a token, a credential, an
// annotation value, or anything the plugin printed, since they reach pod
// events.
//
// # Service account tokens
//
// A provider with tokenAttributes is sent a token for the pod's service
// account, requested for the provider's audience and bound to the pod, and
// the service account's annotations it lists. Credentials obtained that way
// carry the service account (namespace, name, UID) as their source, which
// the image pull manager records; credentials obtained without a token are
// node-wide (nil source). A pod without a service account, or a kubelet
// without an API server, gets node-wide credentials from the plugin run
// without a token, unless the provider sets requireServiceAccount, in which
// case the lookup fails.
//
// # Cache
//
// Each provider caches its responses in memory, in an LRU of 1024 entries,
// for the response's cacheDuration or else the provider's
// defaultCacheDuration (0: not cached). The response's cacheKeyType keys
// the entry by the image as requested, by its registry host[:port], or
// globally; a lookup checks those three in that order. For providers with
// tokenAttributes the key also holds who the response was for: the service
// account's namespace, name, UID and the annotations passed (a recreated
// account or a changed annotation misses), and with cacheType Token also
// the token's SHA-256. With cacheType ServiceAccount the cache is checked
// before a token is requested, so a hit needs no TokenRequest. Concurrent
// misses for one image and principal run the plugin once.
package plugin
