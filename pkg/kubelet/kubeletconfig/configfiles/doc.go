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

// Package configfiles loads a kubelet configuration file
// (kind KubeletConfiguration, apiVersion kubelet.config.k8s.io/v1beta1, YAML
// or JSON) into the published k8s.io/kubelet/config/v1beta1 type, and
// completes it into the internal configuration subset with the effective
// feature gate.
//
// Decoding is strict, as the kubelet's: an unknown or duplicate field is
// found by a strict decode; the file is then decoded leniently and each
// problem is returned as a warning naming the field, so that a file written
// for a newer kubelet still loads. Anything else (unreadable file, broken
// YAML or JSON, another kind or apiVersion, a field of the wrong type) is an
// error naming the file.
//
// The order of a tool's start-up is: Load the file; apply flag overrides to
// the versioned object; Complete it, which merges the file's featureGates
// with the --feature-gates flag key by key into the effective gate, applies
// defaults with that gate, converts to the internal type and validates.
package configfiles
