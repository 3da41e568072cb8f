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

// Package records proves this tree's image pull records against the
// released kubelets' own code. For each released minor version from 1.33
// to 1.37, hack/tools/records-compat/release-<minor> is a tools module that
// imports that release of k8s.io/kubernetes and builds a small
// records-compat binary around its pkg/kubelet/images/pullmanager file
// accessor (NewFSPullRecordsAccessor) and its kubelet config scheme
// (hack/build-records-compat.sh builds and caches them).
//
// The tests write a root dir with this tree, rewrite it with
// "kubelet-imagectl records migrate" or "records downgrade --to v1alpha1",
// and check that each release reads every file to the same record or
// intent as this tree does (kubelets 1.33 and 1.34 only after a
// downgrade; they fail on v1beta1, and 1.33 on service accounts). Then
// each release writes records and intents of its own, and this tree must
// read them equal, rewrite them, and have the release read them back.
//
// Hermetic: the binaries are built with GOPROXY=off from the module cache.
// Without the modules a release is skipped with the command that fetches
// them, except with CI=true, where that fails.
package records
