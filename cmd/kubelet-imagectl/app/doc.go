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

// Package app implements the kubelet-imagectl commands; see the command's
// documentation (package k8s.io/kubernetes/cmd/kubelet-imagectl) for the
// user-visible behaviour.
//
// Layout: root.go builds the cobra tree and maps errors to exit codes
// (exit.go); config.go merges --config and the flags; inputs.go and kube.go
// read Pods and Secrets from files or the API server; session.go holds one
// image manager over one runtime connection and root dir and runs pods
// through it concurrently; recorder.go sorts the image manager's events by
// pod and container; ensure_output.go, records_list.go and
// records_prune.go render the outputs; demo.go and demo_story.go run the
// multi-tenant story through the ensure and records prune commands
// in-process.
//
// Every run validates all of its inputs before it touches the environment,
// so that a usage error (exit code 2) never leaves anything behind. The
// process's connections to the outside world (stdout, stderr, the CRI
// client factory, the API client factory, the clock, the logger) are in
// Deps, which tests replace.
package app
