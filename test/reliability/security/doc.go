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
//     dir.
//
// Each run prints a `RELIABILITY: security:` line over everything, and a
// second one for the credential provider plugin part.
// RELIABILITY_SCALE=long repeats the hostile pods with more generated names.
package security
