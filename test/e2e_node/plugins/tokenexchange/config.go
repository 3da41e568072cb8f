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

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	credentialproviderv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
	"sigs.k8s.io/yaml"
)

// maxConfigBytes bounds the configuration file: it is a few tenants, never
// megabytes.
const maxConfigBytes = 1 << 20

// Mode is what the plugin exchanges a request for.
type Mode string

const (
	// ModeServiceAccount validates the request's service account token
	// and returns the credentials of the account's tenant.
	ModeServiceAccount Mode = "serviceAccount"
	// ModeNode returns the node's credentials, whatever the request.
	ModeNode Mode = "node"
)

// Failure is a failure knob, for tests of the kubelet's fail-safe paths.
type Failure string

const (
	// FailHang sleeps until killed.
	FailHang Failure = "hang"
	// FailCrash exits 1 without a response.
	FailCrash Failure = "crash"
	// FailGarbage prints something that is not JSON and exits 0.
	FailGarbage Failure = "garbage"
	// FailWrongKind prints a response whose kind is wrong and exits 0.
	FailWrongKind Failure = "wrongkind"
)

// Credential is a registry user name and password.
type Credential struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Config is the file named by --config, JSON or YAML, decoded strictly.
type Config struct {
	// Mode forces a mode. Empty: serviceAccount when the request carries
	// a token, node otherwise.
	Mode Mode `json:"mode,omitempty"`
	// Audience is what the TokenReview asks the API server to check: the
	// kubelet's tokenAttributes.serviceAccountTokenAudience.
	Audience string `json:"audience,omitempty"`
	// TenantAnnotation is the service account annotation naming the
	// account's tenant; the kubelet passes it when the provider lists it
	// in required or optional serviceAccountAnnotationKeys.
	TenantAnnotation string `json:"tenantAnnotation,omitempty"`
	// ServiceAccounts maps "namespace/name" to a tenant, for accounts
	// without the annotation.
	ServiceAccounts map[string]string `json:"serviceAccounts,omitempty"`
	// Tenants maps a tenant to its credentials per registry host
	// (host:port, as in the image reference).
	Tenants map[string]map[string]Credential `json:"tenants,omitempty"`
	// Node holds the credentials per registry host of node mode.
	Node map[string]Credential `json:"node,omitempty"`
	// CacheKeyType is the response's cacheKeyType; Image when empty.
	CacheKeyType credentialproviderv1.PluginCacheKeyType `json:"cacheKeyType,omitempty"`
	// CacheDuration is the response's cacheDuration; when unset the
	// response has none and the kubelet uses the provider's
	// defaultCacheDuration. "0s" asks the kubelet not to cache.
	CacheDuration *metav1.Duration `json:"cacheDuration,omitempty"`
	// Fail is a failure knob; TOKEN_EXCHANGE_FAIL overrides it.
	Fail Failure `json:"fail,omitempty"`
}

// LoadConfig reads, strictly decodes, validates and defaults the file.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("config %s: larger than %d bytes", path, maxConfigBytes)
	}
	return ParseConfig(data)
}

// ParseConfig strictly decodes JSON or YAML, then validates and defaults.
// Unknown fields are errors: a misspelt tenantAnnotation would otherwise
// send every account to the namespace/name table without a word.
func ParseConfig(data []byte) (*Config, error) {
	var c Config
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, fmt.Errorf("decoding config: %w", err)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("invalid config: %w", err)
	}
	if c.CacheKeyType == "" {
		// The narrowest key: a response is reused only for the same image.
		c.CacheKeyType = credentialproviderv1.ImagePluginCacheKeyType
	}
	return &c, nil
}

func (c *Config) validate() error {
	var errs []error
	switch c.Mode {
	case "", ModeServiceAccount, ModeNode:
	default:
		errs = append(errs, fmt.Errorf("mode %q: want %s or %s", c.Mode, ModeServiceAccount, ModeNode))
	}
	if c.Mode == ModeServiceAccount && c.Audience == "" {
		errs = append(errs, errors.New("mode serviceAccount needs an audience"))
	}
	if err := c.Fail.validate(); err != nil {
		errs = append(errs, err)
	}
	switch c.CacheKeyType {
	case "", credentialproviderv1.ImagePluginCacheKeyType, credentialproviderv1.RegistryPluginCacheKeyType, credentialproviderv1.GlobalPluginCacheKeyType:
	default:
		errs = append(errs, fmt.Errorf("cacheKeyType %q: want Image, Registry or Global", c.CacheKeyType))
	}
	if c.CacheDuration != nil && c.CacheDuration.Duration < 0 {
		errs = append(errs, fmt.Errorf("cacheDuration %s: negative", c.CacheDuration.Duration))
	}
	for sa, tenant := range c.ServiceAccounts {
		if ns, name, ok := strings.Cut(sa, "/"); !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			errs = append(errs, fmt.Errorf("serviceAccounts key %q: want namespace/name", sa))
		}
		if _, ok := c.Tenants[tenant]; !ok {
			errs = append(errs, fmt.Errorf("serviceAccounts[%q]: tenant %q is not in tenants", sa, tenant))
		}
	}
	for tenant, creds := range c.Tenants {
		if tenant == "" {
			errs = append(errs, errors.New("tenants: empty tenant name"))
		}
		if len(creds) == 0 {
			errs = append(errs, fmt.Errorf("tenants[%q]: no registry", tenant))
		}
		errs = append(errs, validateCredentials(fmt.Sprintf("tenants[%q]", tenant), creds)...)
	}
	errs = append(errs, validateCredentials("node", c.Node)...)
	return errors.Join(errs...)
}

func validateCredentials(field string, creds map[string]Credential) []error {
	var errs []error
	for host, cred := range creds {
		if host == "" || strings.ContainsAny(host, " \t\n") || strings.Contains(host, "://") {
			errs = append(errs, fmt.Errorf("%s: registry %q: want host[:port]", field, host))
		}
		if cred.Username == "" {
			errs = append(errs, fmt.Errorf("%s[%q]: empty username", field, host))
		}
	}
	return errs
}

func (f Failure) validate() error {
	switch f {
	case "", FailHang, FailCrash, FailGarbage, FailWrongKind:
		return nil
	}
	return fmt.Errorf("failure knob %q: want %s, %s, %s or %s", f, FailHang, FailCrash, FailGarbage, FailWrongKind)
}

// secrets returns every configured password, so that error messages can be
// scrubbed of them.
func (c *Config) secrets() []string {
	var out []string
	for _, creds := range c.Tenants {
		for _, cred := range creds {
			out = append(out, cred.Password)
		}
	}
	for _, cred := range c.Node {
		out = append(out, cred.Password)
	}
	return out
}
