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

// Package behavior is the CRI image-service behaviour suite: the
// expectations the image manager relies on, written once and run against
// every runtime this tree is tested with, so that the embedded runtime used
// by the hermetic tests cannot drift from containerd.
//
// The suite is framework-neutral. A runner builds a Fixture (an image
// service client, registries with a private and a public repository, and a
// way to push images), then runs every Case with anything that satisfies T:
// *testing.T in "go test" (see behavior_embedded_test.go, which runs the
// suite against the embedded image service and registry), or GinkgoT() in
// the node e2e suite against containerd and the distribution registry. Cases
// marked EmbeddedOnly describe the embedded service where it deliberately
// differs from a full runtime (it implements no RuntimeService) and are
// skipped against containerd.
//
// Every case pushes fresh images under unique tags and removes what it
// pulled, so cases are independent and may run in any order against a
// long-lived runtime. Cases run sequentially; they do not call t.Parallel.
package behavior
