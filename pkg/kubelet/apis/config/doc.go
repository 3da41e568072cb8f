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

// Package config holds the kubelet's internal configuration types that this
// tree reads: the pull records of the image manager (ImagePullIntent,
// ImagePulledRecord and their credentials, types_records.go) and the subset of
// KubeletConfiguration the image manager and kubelet-imagectl need (types.go).
//
// Internal types are what code works with; they never reach a file. Files
// carry the published versioned types of k8s.io/kubelet/config/v1beta1
// (apiVersion kubelet.config.k8s.io/v1beta1), converted to and from these
// types by package k8s.io/kubernetes/pkg/kubelet/apis/config/v1beta1, which
// also applies defaults. Package
// k8s.io/kubernetes/pkg/kubelet/apis/config/validation validates a
// KubeletConfiguration against the effective feature gate.
package config
