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

// Package secrets turns a pod's image pull Secrets into a docker keyring
// whose credentials remember the Secret they came from (namespace, name,
// UID) and their hash, so that the pull manager can record and recognise
// them.
//
// Secrets of type `kubernetes.io/dockerconfigjson` are read from their
// `.dockerconfigjson` key, Secrets of type `kubernetes.io/dockercfg` from
// their `.dockercfg` key; `stringData` (which Secrets in manifests may
// carry) wins over `data`, as the API server would merge them.
//
// Decisions, from the most lenient to the strictest:
//   - A Secret of any other type, or one without its type's key (or with an
//     empty value), carries no registry credentials: it is skipped and
//     returned in PodKeyring.Skipped, so that the caller can emit the
//     `FailedToRetrieveImagePullSecret` warning, exactly as for a Secret
//     that does not exist. Skipping grants nothing, so it is safe.
//   - A Secret whose content cannot be parsed is an error naming the Secret
//     (namespace/name) and never quoting its content; no keyring is
//     returned, so nothing is granted and the container fails to pull.
//     Every unparsable Secret is reported, not only the first.
//
// The keyring looks up the pod's Secrets first (all of them in one
// keyring, so across Secrets the more specific registry key wins, and for
// equal keys the Secret listed first), then the node-wide keyring.
package secrets
