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
//   - a pod never gets the credentials of a Secret of another namespace;
//   - no field a pod controls (namespace, name, container name, image
//     string, Secret names) makes the tool read or write outside its root
//     dir.
//
// Each run prints a `RELIABILITY: security:` line. RELIABILITY_SCALE=long
// repeats the hostile pods with more generated names.
package security
