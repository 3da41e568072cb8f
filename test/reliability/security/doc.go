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

// Package security runs the whole path, kubelet-imagectl ensure in-process
// (its app package) over the embedded registry (real HTTP basic auth) and
// the embedded runtime (real CRI socket), and checks what a node operator
// and a tenant must be able to rely on:
//
//   - record files are 0600 and directories 0700, and looser existing
//     directories are tightened;
//   - no password, token, Secret data, docker `auth` value or
//     `Authorization:` header appears in any log line at verbosity 10 (the
//     tool's logger, the global klog output, the registry's and the
//     runtime's loggers), in any event or error, or on stdout or stderr;
//   - with a credential provider plugin (--image-credential-provider-config
//     and --image-credential-provider-bin-dir; the fake plugin of
//     internal/fakeplugin) that exchanges the pod's service account token
//     from a fake API server (a client-go fake clientset through
//     Deps.NewKubeClient, whose TokenRequests return distinctive tokens):
//     neither the passwords the plugin returns, nor the tokens, nor the
//     service account annotation values, nor what the plugin prints on
//     stderr (its own secret, the token, the annotations) or on stdout (in
//     every failure mode: crash, garbage, wrong kind, wrong apiVersion,
//     unknown cacheKeyType, more than 1 MiB, nothing) appears anywhere
//     either, nor when the API server refuses the TokenRequest; the exec
//     timeout, which the tool does not expose, is driven through the
//     library with the same capture. Every failure fails the container with
//     ErrImagePull;
//   - a pod never gets the credentials of a Secret of another namespace,
//     nor the grant of a service account of the same name in another
//     namespace (its plugin credentials are refused, Never is denied);
//   - no field a pod controls (namespace, name, container name, image
//     string, Secret names) makes the tool read or write outside its root
//     dir;
//   - the records subcommands, over the root dir those runs populated
//     (Secrets with the distinctive passwords, node-wide credentials, the
//     plugin's service account), each in text and JSON at -v=10 with the
//     same capture, let out none of those strings either: list, explain,
//     verify (with --runtime-endpoint and --fix), revoke (--dry-run, one
//     pass, --watch), downgrade --to v1alpha1 and migrate (with --dry-run),
//     prune. explain reads pods and their Secrets (whose data holds the
//     passwords) from files and from a fake API server through
//     Deps.NewKubeClient, with the plugin for a service account; revoke
//     lists metadata from a small HTTPS stand-in (it builds its own
//     metadata client from --kubeconfig, whose token must not appear
//     either) whose Secrets carry their data in kubectl's
//     last-applied-configuration annotation and whose service accounts
//     carry the plugin's annotations, as a real server sends them, and
//     which answers watch-list requests as a server without WatchList does,
//     so that the informers list too;
//   - explain prints credential hashes as their first 8 hex digits (as
//     cmd/kubelet-imagectl/doc.go promises), never a full one (of the
//     records or of any credential the pods present) on stdout or stderr,
//     and the 8 digits are those of each Secret's hash; every file it names
//     is under image_manager/; with hostile names in the pod (from a file
//     and from the API server), as IMAGE and in --pod-name (../ forms:
//     refused, not found, or found and harmless) it changes nothing
//     anywhere under the root dir's parents (snapshots of modes, sizes,
//     times and contents), nor do verify without --fix and the dry runs;
//   - the writers (verify --fix over a planted loose record, familiar-key
//     record, temporary and 0777 directory; revoke; revoke --watch;
//     downgrade and migrate over a loose record; prune) run under umask 0,
//     so that anything created with a loose mode would keep it, and leave
//     only 0600 files and 0700 directories.
//
// Each run prints a `RELIABILITY: security:` line over everything, a second
// one for the credential provider plugin part and a third one for the
// records part. RELIABILITY_SCALE=long repeats the hostile pods (of ensure
// and of explain) with more generated names.
package security
