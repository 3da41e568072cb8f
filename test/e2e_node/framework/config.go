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
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ErrNotConfigured is returned by LoadConfig when the environment names no
// containerd endpoint: the components are not running for this process.
var ErrNotConfigured = errors.New("node e2e environment not configured: E2E_CONTAINERD_ENDPOINT is unset (run under hack/local-up-e2e-node.sh)")

// Names of the environment variables read by LoadConfig.
const (
	EnvFile                = "E2E_ENV_FILE"
	EnvContainerdEndpoint  = "E2E_CONTAINERD_ENDPOINT"
	EnvContainerdNamespace = "E2E_CONTAINERD_NAMESPACE"
	EnvContainerdCertsDir  = "E2E_CONTAINERD_CERTS_DIR"
	EnvWorkDir             = "E2E_WORK_DIR"
	envRegistryPrefix      = "E2E_REGISTRY_"

	EnvKubeconfig           = "E2E_KUBECONFIG"
	EnvAPIServerURL         = "E2E_APISERVER_URL"
	EnvServiceAccountIssuer = "E2E_SERVICE_ACCOUNT_ISSUER"
)

// Names of the registries hack/local-up-e2e-node.sh starts.
const (
	// RegistryA requires credentials and has two users.
	RegistryA = "A"
	// RegistryB requires credentials and has one user, not valid on A.
	RegistryB = "B"
	// RegistryAnon serves anyone without credentials.
	RegistryAnon = "ANON"
)

// Credential is a registry user name and password.
type Credential struct {
	Username string
	Password string
}

// AuthConfig returns the CRI auth for this credential. ServerAddress stays
// empty on purpose: containerd 1.6 breaks every pull given a bare host:port
// there, and silently drops credentials whose host differs from the image's.
func (c Credential) AuthConfig() *runtimeapi.AuthConfig {
	return &runtimeapi.AuthConfig{Username: c.Username, Password: c.Password}
}

// Registry describes one registry the node's containerd can pull from.
type Registry struct {
	// Name is the letter in the environment names: A, B or ANON.
	Name string
	// Host is host:port, the prefix of image references.
	Host string
	// Users may pull and push every repository; none for an anonymous one.
	Users []Credential
	// AccessLog is the registry's JSON log; its Path is empty when the log
	// cannot be read from here (a remote registry).
	AccessLog AccessLog
	// Insecure forces plain HTTP (loopback hosts use it anyway).
	Insecure bool
}

// Image returns the full reference of repository:tag (or repository@digest)
// on this registry.
func (r Registry) Image(nameAndTag string) string {
	return r.Host + "/" + nameAndTag
}

// Config is the environment of a node e2e run.
type Config struct {
	// ContainerdEndpoint is the CRI endpoint, unix:///path.
	ContainerdEndpoint string
	// ContainerdNamespace is the CRI plugin's containerd namespace.
	ContainerdNamespace string
	// ContainerdCertsDir is the CRI plugin's registry config_path, where
	// StartLocalRegistry adds hosts; empty when not ours to write.
	ContainerdCertsDir string
	// WorkDir is the scratch directory of hack/local-up-e2e-node.sh, empty
	// when the components are a node's own.
	WorkDir string
	// Registries by name (RegistryA, RegistryB, RegistryAnon, or any other
	// E2E_REGISTRY_<X> found).
	Registries map[string]*Registry

	// Kubeconfig is the path of a kubeconfig with an identity allowed
	// everything on the API server under test (hack/local-up-e2e-node.sh
	// writes one for system:masters); empty when no API server runs.
	Kubeconfig string
	// APIServerURL is that API server's URL (https://host:port), for tests
	// that hand it to something other than a client built from Kubeconfig.
	APIServerURL string
	// ServiceAccountIssuer is the API server's --service-account-issuer,
	// the iss claim of the tokens it issues.
	ServiceAccountIssuer string
}

// Registry returns the registry of that name, or an error naming the
// environment variable to set.
func (c *Config) Registry(name string) (*Registry, error) {
	r, ok := c.Registries[name]
	if !ok || r.Host == "" {
		return nil, fmt.Errorf("registry %s not configured: set %s%s", name, envRegistryPrefix, name)
	}
	return r, nil
}

// LoadConfig reads the environment, filling names unset (or empty) in it
// from the file named by E2E_ENV_FILE (if any). It returns ErrNotConfigured when no
// containerd endpoint is named.
func LoadConfig() (*Config, error) {
	env := map[string]string{}
	if path := os.Getenv(EnvFile); path != "" {
		fileEnv, err := ReadEnvFile(path)
		if err != nil {
			return nil, err
		}
		env = fileEnv
	}
	for _, kv := range os.Environ() {
		// An empty value counts as unset, so `E2E_X= go test` cannot hide
		// the file's value by accident.
		if k, v, ok := strings.Cut(kv, "="); ok && v != "" && strings.HasPrefix(k, "E2E_") {
			env[k] = v
		}
	}
	return ConfigFromEnv(env)
}

// ConfigFromEnv builds a Config from environment names and values.
func ConfigFromEnv(env map[string]string) (*Config, error) {
	c := &Config{
		ContainerdEndpoint:   env[EnvContainerdEndpoint],
		ContainerdNamespace:  env[EnvContainerdNamespace],
		ContainerdCertsDir:   env[EnvContainerdCertsDir],
		WorkDir:              env[EnvWorkDir],
		Registries:           map[string]*Registry{},
		Kubeconfig:           env[EnvKubeconfig],
		APIServerURL:         env[EnvAPIServerURL],
		ServiceAccountIssuer: env[EnvServiceAccountIssuer],
	}
	if c.ContainerdEndpoint == "" {
		return nil, ErrNotConfigured
	}
	if c.ContainerdNamespace == "" {
		c.ContainerdNamespace = "k8s.io"
	}
	for k, v := range env {
		name, ok := strings.CutPrefix(k, envRegistryPrefix)
		if !ok || name == "" || strings.Contains(name, "_") {
			continue
		}
		r := &Registry{Name: name, Host: v}
		r.AccessLog.Path = env[k+"_ACCESS_LOG"]
		if s := env[k+"_INSECURE"]; s != "" {
			insecure, err := strconv.ParseBool(s)
			if err != nil {
				return nil, fmt.Errorf("%s_INSECURE: %w", k, err)
			}
			r.Insecure = insecure
		}
		// Users are numbered from 1 without gaps.
		for i := 1; ; i++ {
			user, ok := env[fmt.Sprintf("%s_USER%d", k, i)]
			if !ok {
				break
			}
			r.Users = append(r.Users, Credential{Username: user, Password: env[fmt.Sprintf("%s_PASS%d", k, i)]})
		}
		c.Registries[name] = r
	}
	return c, nil
}

// AddFlags lets command-line flags override the environment, to point the
// suite at a node's own containerd and registry. Credentials stay in the
// environment: flags show in the process list.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.ContainerdEndpoint, "e2e-containerd-endpoint", c.ContainerdEndpoint, "CRI endpoint of the containerd under test (unix:///path)")
	fs.StringVar(&c.ContainerdNamespace, "e2e-containerd-namespace", c.ContainerdNamespace, "containerd namespace of the CRI plugin")
	fs.StringVar(&c.Kubeconfig, "e2e-kubeconfig", c.Kubeconfig, "kubeconfig of an admin of the API server under test (credentials stay in the file)")
	for _, name := range []string{RegistryA, RegistryB, RegistryAnon} {
		r, ok := c.Registries[name]
		if !ok {
			r = &Registry{Name: name}
			c.Registries[name] = r
		}
		lower := strings.ToLower(name)
		fs.StringVar(&r.Host, "e2e-registry-"+lower, r.Host, "host:port of registry "+name)
		fs.StringVar(&r.AccessLog.Path, "e2e-registry-"+lower+"-access-log", r.AccessLog.Path, "JSON log file of registry "+name)
	}
}

// ReadEnvFile reads KEY=VALUE lines as hack/local-up-e2e-node.sh writes
// them. Blank lines and # comments are skipped, an "export " prefix is
// allowed, values are taken verbatim (no quoting).
func ReadEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading env file: %w", err)
	}
	defer func() { _ = f.Close() }()
	env := map[string]string{}
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s:%d: not KEY=VALUE", path, n)
		}
		env[k] = v
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("reading env file: %w", err)
	}
	return env, nil
}
