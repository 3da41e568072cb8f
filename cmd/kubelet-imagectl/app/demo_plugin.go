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

package app

// The demo's credential provider scene needs two things a node does not
// carry: an exec credential provider plugin that exchanges a pod's service
// account token for a tenant's registry credentials, and an API server that
// mints those tokens. Both live here.
//
// The plugin is a real one: the hidden subcommand "kubelet-imagectl demo
// credential-provider --config FILE", run by the image manager through the
// real exec path (a bin dir holding a symlink to this executable), speaking
// credentialprovider.kubelet.k8s.io/v1 on stdin and stdout.
//
// Its token review is the demo's stand-in. The node e2e suite's plugin
// (test/e2e_node/plugins/tokenexchange) sends a real TokenReview to a real
// kube-apiserver, which checks the token's signature, audience, expiry and
// pod binding. The demo has no API server: its stand-in (demoAPIServer, a
// loopback HTTP server in this process) mints tokens as an HMAC-SHA256 over the claims
// a bound token carries, keyed by a random key that only the demo and the
// plugin's config file know, and the plugin verifies that HMAC and the
// audience instead of asking an API server. Nothing else about the flow is
// simulated: the kubelet side (TokenRequest bound to the pod, the plugin's
// cache, the records) is the code a kubelet runs.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	credentialproviderv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
)

const (
	// demoPluginName is the plugin's file name in the bin dir and its
	// provider name.
	demoPluginName = "demo-credential-provider"
	// demoAudience is the audience the provider asks tokens for and the
	// plugin accepts.
	demoAudience = "demo.kubelet-imagectl"
	// demoTenantAnnotation names a service account's tenant; the provider
	// requires it, so the kubelet passes it to the plugin.
	demoTenantAnnotation = "demo.kubelet-imagectl/tenant"
	// demoMaxRequestBytes bounds the request read from stdin: an image
	// name, a token and a few annotations.
	demoMaxRequestBytes = 1 << 20
	// demoMaxConfigBytes bounds the plugin's config file.
	demoMaxConfigBytes = 1 << 20
	// demoMinKeyBytes is the shortest HMAC key the plugin accepts.
	demoMinKeyBytes = 32
	// demoPluginExitRefused is the plugin's exit code for anything it does
	// not answer; the kubelet treats every non-zero exit as a failure.
	demoPluginExitRefused = 1
)

// Why the plugin refuses a request. Reasons are fixed strings: none quotes
// the token or a credential.
var (
	errDemoTokenRefused   = errors.New("token refused")
	errDemoRequestInvalid = errors.New("invalid request")
	errDemoNoTenant       = errors.New("no tenant")
)

// demoCredential is a registry user name and password.
type demoCredential struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// demoPluginConfig is the plugin's --config file, JSON, written by the demo
// with mode 0600.
type demoPluginConfig struct {
	// Key is the HMAC key shared with the stand-in API server (base64 in
	// the file).
	Key []byte `json:"key"`
	// Audience is the only audience accepted.
	Audience string `json:"audience"`
	// TenantAnnotation is the service account annotation naming the
	// tenant, passed by the kubelet in serviceAccountAnnotations.
	TenantAnnotation string `json:"tenantAnnotation"`
	// Tenants maps a tenant to its credentials per registry host[:port].
	Tenants map[string]map[string]demoCredential `json:"tenants"`
	// CacheDuration is the response's cacheDuration.
	CacheDuration metav1.Duration `json:"cacheDuration"`
	// ExecLog is a file that gets one JSON line per exec; "" logs nothing.
	ExecLog string `json:"execLog,omitempty"`
}

// loadDemoPluginConfig reads and strictly decodes the config file.
func loadDemoPluginConfig(path string) (*demoPluginConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the config: %w", err)
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, demoMaxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the config: %w", err)
	}
	if len(data) > demoMaxConfigBytes {
		return nil, fmt.Errorf("config %s: larger than %d bytes", path, demoMaxConfigBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c demoPluginConfig
	if err := dec.Decode(&c); err != nil {
		// The decoder's errors name fields and types, never values.
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return &c, nil
}

func (c *demoPluginConfig) validate() error {
	var errs []error
	if len(c.Key) < demoMinKeyBytes {
		errs = append(errs, fmt.Errorf("key: want at least %d bytes", demoMinKeyBytes))
	}
	if c.Audience == "" {
		errs = append(errs, errors.New("audience: must not be empty"))
	}
	if c.TenantAnnotation == "" {
		errs = append(errs, errors.New("tenantAnnotation: must not be empty"))
	}
	if len(c.Tenants) == 0 {
		errs = append(errs, errors.New("tenants: must not be empty"))
	}
	for tenant, creds := range c.Tenants {
		if len(creds) == 0 {
			errs = append(errs, fmt.Errorf("tenants[%q]: no registry", tenant))
		}
		for host, cred := range creds {
			if cred.Username == "" {
				errs = append(errs, fmt.Errorf("tenants[%q][%q]: empty username", tenant, host))
			}
		}
	}
	if c.CacheDuration.Duration < 0 {
		errs = append(errs, errors.New("cacheDuration: must not be negative"))
	}
	return errors.Join(errs...)
}

// demoTokenClaims are what the stand-in API server vouches for in a token:
// what a real bound service account token carries.
type demoTokenClaims struct {
	Namespace          string    `json:"namespace"`
	ServiceAccountName string    `json:"serviceAccountName"`
	ServiceAccountUID  types.UID `json:"serviceAccountUID"`
	PodName            string    `json:"podName"`
	PodUID             types.UID `json:"podUID"`
	Audience           string    `json:"audience"`
	// ExpiresAt is in Unix seconds.
	ExpiresAt int64 `json:"expiresAt"`
}

// mintDemoToken returns base64url(claims) "." base64url(HMAC-SHA256 of the
// first part under key).
func mintDemoToken(key []byte, claims demoTokenClaims) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	body := base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + base64.RawURLEncoding.EncodeToString(demoTokenMAC(key, body)), nil
}

func demoTokenMAC(key []byte, body string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(body))
	return mac.Sum(nil)
}

// verifyDemoToken checks the token's HMAC under key, then its claims: the
// audience, the expiry and a complete pod binding. Errors wrap
// errDemoTokenRefused and never quote the token.
func verifyDemoToken(key []byte, token, audience string, now time.Time) (*demoTokenClaims, error) {
	body, sig, ok := strings.Cut(token, ".")
	if !ok || body == "" || sig == "" {
		return nil, fmt.Errorf("%w: malformed", errDemoTokenRefused)
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed signature", errDemoTokenRefused)
	}
	// The claims are only decoded once the stand-in API server is known to
	// have written them.
	if !hmac.Equal(got, demoTokenMAC(key, body)) {
		return nil, fmt.Errorf("%w: the signature does not match", errDemoTokenRefused)
	}
	payload, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed claims", errDemoTokenRefused)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	var c demoTokenClaims
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: malformed claims", errDemoTokenRefused)
	}
	switch {
	case c.Audience != audience:
		return nil, fmt.Errorf("%w: audience %q, want %q", errDemoTokenRefused, c.Audience, audience)
	case !now.Before(time.Unix(c.ExpiresAt, 0)):
		return nil, fmt.Errorf("%w: expired", errDemoTokenRefused)
	case c.Namespace == "" || c.ServiceAccountName == "" || c.ServiceAccountUID == "":
		return nil, fmt.Errorf("%w: no service account", errDemoTokenRefused)
	case c.PodName == "" || c.PodUID == "":
		// A bound token dies with its pod; an unbound one would not.
		return nil, fmt.Errorf("%w: not bound to a pod", errDemoTokenRefused)
	}
	return &c, nil
}

// demoExecEntry is one line of the plugin's exec log. It never holds the
// token or a password.
type demoExecEntry struct {
	Image          string `json:"image"`
	ServiceAccount string `json:"serviceAccount,omitempty"`
	Tenant         string `json:"tenant,omitempty"`
	Result         string `json:"result"`
	Reason         string `json:"reason,omitempty"`
}

// Exec log results.
const (
	demoExecOK      = "ok"
	demoExecRefused = "refused"
)

// newDemoPluginCommand is "demo credential-provider", hidden: the kubelet
// runs it, people do not.
func newDemoPluginCommand(deps *Deps) *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:    "credential-provider --config FILE",
		Short:  "The demo's exec credential provider plugin (run by the image manager)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configPath == "" {
				return usageErrorf("--config is required")
			}
			err := runDemoPlugin(cmd.Context(), configPath, cmd.InOrStdin(), deps.Stdout, deps.Now())
			if err != nil {
				// Run prints it as one line on stderr.
				return &exitError{code: demoPluginExitRefused, err: fmt.Errorf("%s: %w", demoPluginName, err)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "The plugin's configuration file (JSON, written by the demo).")
	return cmd
}

// runDemoPlugin answers one CredentialProviderRequest from stdin on
// stdout, logging the exec first.
func runDemoPlugin(ctx context.Context, configPath string, stdin io.Reader, stdout io.Writer, now time.Time) error {
	logger := klog.FromContext(ctx)
	cfg, err := loadDemoPluginConfig(configPath)
	if err != nil {
		return err
	}
	req, err := readDemoRequest(stdin)
	if err != nil {
		return errors.Join(err, cfg.logExec(demoExecEntry{Result: demoExecRefused, Reason: err.Error()}))
	}
	resp, entry, err := cfg.answer(req, now)
	if err != nil {
		entry.Result, entry.Reason = demoExecRefused, err.Error()
		return errors.Join(err, cfg.logExec(entry))
	}
	out, err := json.Marshal(resp)
	if err != nil {
		// Never quote the error: the response holds passwords.
		return errors.New("encoding the response failed")
	}
	entry.Result = demoExecOK
	// Logged before answering: the demo counts execs, and must not see a
	// pull whose exec it cannot find.
	if err := cfg.logExec(entry); err != nil {
		return err
	}
	logger.V(2).Info("Demo credential provider answered", "image", entry.Image, "serviceAccount", entry.ServiceAccount, "tenant", entry.Tenant)
	if _, err := stdout.Write(append(out, '\n')); err != nil {
		return fmt.Errorf("writing the response: %w", err)
	}
	return nil
}

// readDemoRequest decodes one request from at most demoMaxRequestBytes of
// r. Unknown fields are ignored: a newer kubelet may send more.
func readDemoRequest(r io.Reader) (*credentialproviderv1.CredentialProviderRequest, error) {
	data, err := io.ReadAll(io.LimitReader(r, demoMaxRequestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading stdin: %w", errDemoRequestInvalid, err)
	}
	if len(data) > demoMaxRequestBytes {
		return nil, fmt.Errorf("%w: more than %d bytes on stdin", errDemoRequestInvalid, demoMaxRequestBytes)
	}
	var req credentialproviderv1.CredentialProviderRequest
	if err := json.Unmarshal(data, &req); err != nil {
		// Not quoted: a decoding error may quote the input, and the input
		// holds the token.
		return nil, fmt.Errorf("%w: stdin is not a JSON CredentialProviderRequest", errDemoRequestInvalid)
	}
	return &req, nil
}

// answer checks the request and its token and returns the tenant's
// credentials. The entry is filled as far as the checks got.
func (c *demoPluginConfig) answer(req *credentialproviderv1.CredentialProviderRequest, now time.Time) (*credentialproviderv1.CredentialProviderResponse, demoExecEntry, error) {
	entry := demoExecEntry{Image: req.Image}
	apiVersion := credentialproviderv1.SchemeGroupVersion.String()
	switch {
	case req.Kind != "CredentialProviderRequest" || req.APIVersion != apiVersion:
		return nil, entry, fmt.Errorf("%w: want kind CredentialProviderRequest, apiVersion %s", errDemoRequestInvalid, apiVersion)
	case req.Image == "":
		return nil, entry, fmt.Errorf("%w: empty image", errDemoRequestInvalid)
	case req.ServiceAccountToken == "":
		// Never node-wide credentials: this plugin answers per tenant only.
		return nil, entry, fmt.Errorf("%w: no service account token (the provider needs tokenAttributes)", errDemoTokenRefused)
	}
	claims, err := verifyDemoToken(c.Key, req.ServiceAccountToken, c.Audience, now)
	if err != nil {
		return nil, entry, err
	}
	entry.ServiceAccount = claims.Namespace + "/" + claims.ServiceAccountName
	// The annotation is trusted as the kubelet read it: whoever may edit
	// the service account picks its tenant.
	tenant := req.ServiceAccountAnnotations[c.TenantAnnotation]
	entry.Tenant = tenant
	creds, ok := c.Tenants[tenant]
	if !ok {
		return nil, entry, fmt.Errorf("%w: service account %s: annotation %s names no configured tenant", errDemoNoTenant, entry.ServiceAccount, c.TenantAnnotation)
	}
	resp := &credentialproviderv1.CredentialProviderResponse{
		TypeMeta:      metav1.TypeMeta{Kind: "CredentialProviderResponse", APIVersion: apiVersion},
		CacheKeyType:  credentialproviderv1.RegistryPluginCacheKeyType,
		CacheDuration: &metav1.Duration{Duration: c.CacheDuration.Duration},
		Auth:          make(map[string]credentialproviderv1.AuthConfig, len(creds)),
	}
	for host, cred := range creds {
		resp.Auth[host] = credentialproviderv1.AuthConfig{Username: cred.Username, Password: cred.Password}
	}
	return resp, entry, nil
}

// logExec appends entry as one line to the exec log, in one O_APPEND
// write so that concurrent execs do not interleave.
func (c *demoPluginConfig) logExec(entry demoExecEntry) error {
	if c.ExecLog == "" {
		return nil
	}
	line, err := json.Marshal(entry)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(c.ExecLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("exec log: %w", err)
	}
	_, err = f.Write(append(line, '\n'))
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("exec log: %w", err)
	}
	return nil
}

// readDemoExecLog returns the exec log's entries; a log not yet written
// has none.
func readDemoExecLog(path string) ([]demoExecEntry, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []demoExecEntry
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var e demoExecEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			return nil, fmt.Errorf("exec log %s: %w", path, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// demoPluginSetup is the credential provider scene's files and its
// stand-in API server.
type demoPluginSetup struct {
	api *demoAPIServer
	// kubeconfig is passed to ensure --kubeconfig: it points at the
	// stand-in API server, read through the real client factory.
	kubeconfig      string
	providersConfig string
	binDir          string
	execLog         string
}

// demoPluginCacheDuration is the plugin's cacheDuration: longer than any
// ensure run, so that within one run a service account's answer is reused.
const demoPluginCacheDuration = 5 * time.Minute

// startPlugin sets up the credential provider scene: the bin dir with the
// plugin (a symlink to this executable, which answers as "demo
// credential-provider"), the plugin's config with a new HMAC key and the
// tenants' credentials, the CredentialProviderConfig, and the stand-in API
// server holding objects, started, with a kubeconfig pointing at it. The
// server is stopped by stop.
func (e *demoEnv) startPlugin(tenants map[string]map[string]demoCredential, objects ...runtime.Object) error {
	dir := filepath.Join(e.dir, "credential-provider")
	binDir := filepath.Join(dir, "bin")
	if err := os.MkdirAll(binDir, 0o700); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this executable for the plugin: %w", err)
	}
	if err := os.Symlink(exe, filepath.Join(binDir, demoPluginName)); err != nil {
		return err
	}
	key := make([]byte, demoMinKeyBytes)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	setup := &demoPluginSetup{
		kubeconfig:      filepath.Join(dir, "kubeconfig"),
		providersConfig: filepath.Join(dir, "credential-providers.yaml"),
		binDir:          binDir,
		execLog:         filepath.Join(dir, "exec.log"),
	}
	pluginConfig := filepath.Join(dir, "plugin-config.json")
	data, err := json.MarshalIndent(&demoPluginConfig{
		Key:              key,
		Audience:         demoAudience,
		TenantAnnotation: demoTenantAnnotation,
		Tenants:          tenants,
		CacheDuration:    metav1.Duration{Duration: demoPluginCacheDuration},
		ExecLog:          setup.execLog,
	}, "", "  ")
	if err != nil {
		return err
	}
	// The key and the passwords: readable by the demo's user only.
	if err := os.WriteFile(pluginConfig, data, 0o600); err != nil {
		return err
	}
	providers := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
- name: %s
  apiVersion: credentialprovider.kubelet.k8s.io/v1
  matchImages: [%q]
  defaultCacheDuration: 1m
  args: ["demo", "credential-provider", "--config", %q]
  tokenAttributes:
    serviceAccountTokenAudience: %s
    cacheType: ServiceAccount
    requireServiceAccount: true
    requiredServiceAccountAnnotationKeys: [%q]
`, demoPluginName, e.reg.Addr(), pluginConfig, demoAudience, demoTenantAnnotation)
	if err := os.WriteFile(setup.providersConfig, []byte(providers), 0o600); err != nil {
		return err
	}
	setup.api, err = newDemoAPIServer(key, demoAudience, e.deps.Now, objects...)
	if err != nil {
		return err
	}
	if err := setup.api.start(); err != nil {
		return err
	}
	// Set before anything else can fail, so that stop stops the server.
	e.plugin = setup
	return os.WriteFile(setup.kubeconfig, []byte(demoKubeconfig(setup.api.URL())), 0o600)
}

// pluginExecs returns the plugin's exec log so far.
func (e *demoEnv) pluginExecs() ([]demoExecEntry, error) {
	return readDemoExecLog(e.plugin.execLog)
}
