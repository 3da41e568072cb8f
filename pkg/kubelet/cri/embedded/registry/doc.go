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

// Package registry runs a real OCI distribution registry on loopback for the
// hermetic tests and the demo of the ensure-secret-pulled-images feature.
//
// The registry is go-containerregistry's in-memory registry handler behind
// HTTP basic authentication and per-repository pull lists, so that the same
// image can be private to one tenant's credentials while another repository
// is pullable anonymously. Production registries differ in how they authorise
// (tokens, scopes), but what the kubelet observes through a runtime is the
// same: a pull with credentials the registry refuses fails with
// "401 Unauthorized". For that reason every refusal, whether the password is
// wrong or the user is not on the repository's list, answers 401 with a
// "WWW-Authenticate: Basic" challenge, as the distribution registry with
// htpasswd does; clients such as containerd and go-containerregistry then
// retry with the credentials they were given, exactly as they would against
// a real registry.
//
// Rules:
//   - Requests that present credentials must present valid ones, even for an
//     anonymous repository (a wrong password is always refused).
//   - A repository listed with Anonymous access may be pulled by anyone; one
//     listed with Users may be pulled by those users; a repository that is not
//     listed may be pulled by nobody but the admin.
//   - Only the admin (see Registry.AdminCredentials) may push, delete, or list
//     the catalog.
//   - The API version check (GET /v2/) answers 401 to anonymous clients so
//     that clients discover the basic challenge before they fetch anything.
//
// Every request is recorded in an in-memory access log (method, path,
// repository, authenticated user, status) so that tests can assert that a
// decision was made without contacting the registry. Stop and Start make the
// registry refuse connections and come back on the same address, for
// "registry down" tests; pushed content survives a stop.
package registry
