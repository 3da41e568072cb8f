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

// Package v1beta1 converts between the published kubelet.config.k8s.io/v1beta1
// types of k8s.io/kubelet/config/v1beta1 (what files hold) and the internal
// types of k8s.io/kubernetes/pkg/kubelet/apis/config (what code works with),
// and defaults a versioned KubeletConfiguration.
//
// The conversion functions are hand-written but named and shaped as
// conversion-gen would name them (Convert_<from>_<Type>_To_<to>_<Type>), so
// they read like the generated ones. Unlike generated conversions they deep
// copy: the output never shares maps, slices or pointers with the input, so a
// caller may mutate one without affecting the other. Nil and empty maps and
// slices are kept apart in both directions. TypeMeta is not converted: the
// encoder that writes a versioned object sets its apiVersion and kind.
// Record conversion is faithful: it does not normalise credentialMapping keys;
// the record store does that on load, where the merge rules live.
//
// Defaulting happens on the versioned KubeletConfiguration, before conversion,
// because one default depends on the effective feature gate (the file's
// featureGates merged with the --feature-gates flag), which only the caller
// knows: see SetDefaults_KubeletConfiguration.
package v1beta1
