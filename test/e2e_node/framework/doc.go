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

// Package framework holds what the node e2e suite needs to talk to the real
// components on a node: a containerd with the CRI plugin and distribution
// registries, as hack/local-up-e2e-node.sh starts them (or a node's own,
// described through the same environment).
//
// It reads the environment into a Config (LoadConfig), builds small random
// images and pushes them to a registry with go-containerregistry (Push,
// NewImage), reads a registry's JSON log to tell who fetched which manifest
// (AccessLog), opens a CRI image client on the containerd socket
// (NewImageService), runs a registry of a test's own that it can stop and
// start again (StartLocalRegistry), for "registry down" cases, and builds a
// client-go clientset for the API server (NewClientset, RequireAPIServer).
//
// Environment (hack/local-up-e2e-node.sh documents every name):
//
//	E2E_ENV_FILE                 optional KEY=VALUE file filling unset names
//	E2E_CONTAINERD_ENDPOINT      CRI endpoint, unix:///path/to/containerd.sock
//	E2E_CONTAINERD_NAMESPACE     containerd namespace of the CRI plugin (k8s.io)
//	E2E_CONTAINERD_CERTS_DIR     its registry config_path, for StartLocalRegistry
//	E2E_REGISTRY_<X>             host:port of registry X, X in A, B, ANON
//	E2E_REGISTRY_<X>_USER<n>     user n (1, 2, ...) of registry X
//	E2E_REGISTRY_<X>_PASS<n>     password of user n
//	E2E_REGISTRY_<X>_ACCESS_LOG  the registry's JSON log, if readable here
//	E2E_REGISTRY_<X>_INSECURE    "true": plain HTTP even off loopback
//	E2E_KUBECONFIG               admin kubeconfig of the API server, if any
//	E2E_APISERVER_URL            its URL
//	E2E_SERVICE_ACCOUNT_ISSUER   its --service-account-issuer
//
// Without E2E_CONTAINERD_ENDPOINT, LoadConfig returns ErrNotConfigured and
// the tests that need the components skip. Tests that need the API server
// call RequireAPIServer, which also skips them without E2E_KUBECONFIG
// (hack/local-up-e2e-node.sh with E2E_APISERVER=0 starts none).
package framework
