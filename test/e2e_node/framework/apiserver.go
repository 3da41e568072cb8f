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

package framework

import (
	"errors"
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// ErrNoAPIServer is returned when the environment names no kubeconfig: no
// API server runs for this process (hack/local-up-e2e-node.sh started with
// E2E_APISERVER=0, or a node's own components without one).
var ErrNoAPIServer = errors.New("no API server configured: E2E_KUBECONFIG is unset (run under hack/local-up-e2e-node.sh without E2E_APISERVER=0)")

// RESTConfig loads the kubeconfig the environment names, or returns
// ErrNoAPIServer.
func (c *Config) RESTConfig() (*rest.Config, error) {
	if c.Kubeconfig == "" {
		return nil, ErrNoAPIServer
	}
	rc, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading %s %s: %w", EnvKubeconfig, c.Kubeconfig, err)
	}
	rc.UserAgent = "kubelet-imagectl-e2e"
	return rc, nil
}

// NewClientset returns a client-go clientset for the API server, acting as
// the kubeconfig's identity (an admin under hack/local-up-e2e-node.sh), or
// ErrNoAPIServer.
func (c *Config) NewClientset() (kubernetes.Interface, error) {
	rc, err := c.RESTConfig()
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(rc)
}

// TB is what RequireAPIServer needs of a test: *testing.T, *testing.B and
// ginkgo.GinkgoT() all have it.
type TB interface {
	Helper()
	Skip(args ...any)
	Fatal(args ...any)
}

// RequireAPIServer loads the environment and returns it with an admin
// clientset for its API server. It skips the test when the components are
// not running (ErrNotConfigured) or run without an API server
// (ErrNoAPIServer), and fails it on any other error.
func RequireAPIServer(t TB) (*Config, kubernetes.Interface) {
	t.Helper()
	cfg, err := LoadConfig()
	if errors.Is(err, ErrNotConfigured) {
		t.Skip(err)
		return nil, nil
	}
	if err != nil {
		t.Fatal(err)
		return nil, nil
	}
	cs, err := cfg.NewClientset()
	if errors.Is(err, ErrNoAPIServer) {
		t.Skip(err)
		return nil, nil
	}
	if err != nil {
		t.Fatal(err)
		return nil, nil
	}
	return cfg, cs
}
