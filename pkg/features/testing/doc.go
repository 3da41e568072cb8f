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

// Package featurestesting flips this tree's feature gates for the duration of
// a test, on top of k8s.io/component-base/featuregate/testing, which restores
// the previous value when the test ends and fails a test that flips a gate
// another test is already flipping in parallel. Tests that use it must not
// call t.Parallel.
package featurestesting
