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

package plugin

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"golang.org/x/sync/singleflight"
	"k8s.io/klog/v2"
	kubeletconfigv1 "k8s.io/kubelet/config/v1"
	"k8s.io/utils/clock"

	"k8s.io/kubernetes/pkg/credentialprovider"
)

// Options configure NewProviders.
type Options struct {
	// ConfigPath is the kubelet's --image-credential-provider-config.
	ConfigPath string
	// BinDir is the kubelet's --image-credential-provider-bin-dir.
	BinDir string
	// ServiceAccountTokens is the effective
	// KubeletServiceAccountTokenForCredentialProviders gate.
	ServiceAccountTokens bool
	// ExecTimeout bounds each plugin execution; 0 (or less) means
	// DefaultExecTimeout.
	ExecTimeout time.Duration
	// MaxStdout bounds a plugin's stdout, in bytes; 0 (or less) means
	// DefaultMaxStdout.
	MaxStdout int64
	// Clock drives cache expiry; nil means the real clock.
	Clock clock.Clock
}

// Providers are the configured credential provider plugins, in config
// order. They are safe for concurrent use.
type Providers struct {
	providers []*provider
}

// provider is one configured plugin with its cache.
type provider struct {
	name                 string
	patterns             []credentialprovider.RegistryPattern
	defaultCacheDuration time.Duration
	// tokens is nil for a provider without tokenAttributes.
	tokens *tokenAttributes
	plugin *execPlugin
	cache  *responseCache
	// flights collapses concurrent misses for one image and principal
	// into one execution.
	flights singleflight.Group
}

// NewProviders reads and validates the configuration (errors wrap
// ErrInvalidConfig) and returns the providers in config order.
func NewProviders(opts Options) (*Providers, error) {
	if opts.ConfigPath == "" {
		return nil, fmt.Errorf("%w: no config file (--image-credential-provider-config)", ErrInvalidConfig)
	}
	cfg, err := ReadConfig(opts.ConfigPath)
	if err != nil {
		return nil, err
	}
	if err := ValidateConfig(cfg, opts.ConfigPath, opts.BinDir, opts.ServiceAccountTokens); err != nil {
		return nil, err
	}
	// Defaults are resolved once, here, and only the resolved values are
	// used from now on.
	timeout := opts.ExecTimeout
	if timeout <= 0 {
		timeout = DefaultExecTimeout
	}
	maxStdout := opts.MaxStdout
	if maxStdout <= 0 {
		maxStdout = DefaultMaxStdout
	}
	var c clock.PassiveClock = clock.RealClock{}
	if opts.Clock != nil {
		c = opts.Clock
	}
	out := &Providers{providers: make([]*provider, 0, len(cfg.Providers))}
	for i := range cfg.Providers {
		out.providers = append(out.providers, newProvider(&cfg.Providers[i], opts.BinDir, timeout, maxStdout, c))
	}
	return out, nil
}

// newProvider builds a provider from its validated configuration.
func newProvider(cfg *kubeletconfigv1.CredentialProvider, binDir string, timeout time.Duration, maxStdout int64, c clock.PassiveClock) *provider {
	p := &provider{
		name:                 cfg.Name,
		defaultCacheDuration: cfg.DefaultCacheDuration.Duration,
		cache:                newResponseCache(c, maxCacheEntries),
		plugin: &execPlugin{
			name:       cfg.Name,
			path:       filepath.Join(binDir, cfg.Name),
			args:       append([]string(nil), cfg.Args...),
			apiVersion: cfg.APIVersion,
			timeout:    timeout,
			maxStdout:  maxStdout,
			metrics:    newPluginMetrics(cfg.Name),
		},
	}
	for _, e := range cfg.Env {
		p.plugin.env = append(p.plugin.env, e.Name+"="+e.Value)
	}
	for _, m := range cfg.MatchImages {
		// Validation accepted every pattern, and a valid pattern has a host.
		if pattern, ok := credentialprovider.ParseRegistryPattern(m); ok {
			p.patterns = append(p.patterns, pattern)
		}
	}
	if ta := cfg.TokenAttributes; ta != nil {
		p.tokens = &tokenAttributes{
			audience:  ta.ServiceAccountTokenAudience,
			cacheType: ta.CacheType,
			require:   *ta.RequireServiceAccount,
			required:  append([]string(nil), ta.RequiredServiceAccountAnnotationKeys...),
			optional:  append([]string(nil), ta.OptionalServiceAccountAnnotationKeys...),
		}
	}
	return p
}

// Names returns the provider names in config order.
func (p *Providers) Names() []string {
	names := make([]string, len(p.providers))
	for i, pr := range p.providers {
		names[i] = pr.name
	}
	return names
}

// Lookup returns the credentials of every provider whose matchImages match
// image, in config order; within one provider's response, the entries that
// match image, most specific first. A credential obtained with a service
// account token carries the pod's service account as its Source; one
// obtained without a token carries a nil Source (node-wide). sas may be nil
// when there is no API server.
//
// Any provider failing fails the whole lookup with a *PluginError, and
// nothing is returned: the caller must fail the container rather than pull
// with part of the credentials and record the result. The returned
// credentials share their Source with the cache: do not modify it.
func (p *Providers) Lookup(ctx context.Context, image string, pod PodInfo, sas ServiceAccountSource) ([]credentialprovider.TrackedAuthConfig, error) {
	loc, ok := credentialprovider.ParseImageLocation(image)
	if !ok {
		// No pattern can match an image that is not a reference; the
		// pull will fail on its own.
		return nil, nil
	}
	var out []credentialprovider.TrackedAuthConfig
	for _, pr := range p.providers {
		if !pr.matches(loc) {
			continue
		}
		creds, err := pr.lookup(ctx, image, loc, pod, sas)
		if err != nil {
			return nil, &PluginError{Plugin: pr.name, Err: err}
		}
		if out == nil {
			// The common case of one matching provider: its slice is
			// fresh, no copy needed.
			out = creds
			continue
		}
		out = append(out, creds...)
	}
	return out, nil
}

func (pr *provider) matches(loc credentialprovider.ImageLocation) bool {
	for _, pattern := range pr.patterns {
		if pattern.Matches(loc) {
			return true
		}
	}
	return false
}

// lookup returns this provider's credentials for image, from the cache or
// by running the plugin.
func (pr *provider) lookup(ctx context.Context, image string, loc credentialprovider.ImageLocation, pod PodInfo, sas ServiceAccountSource) ([]credentialprovider.TrackedAuthConfig, error) {
	logger := klog.FromContext(ctx)
	who, err := pr.resolvePrincipal(ctx, pod, sas)
	if err != nil {
		return nil, err
	}
	registry := loc.Registry()
	if keyring, ok := pr.cache.get(image, registry, who.cacheKey); ok {
		// Guarded: building the key/value list allocates even when the
		// level is off, and a hit must stay cheap.
		if v := logger.V(5); v.Enabled() {
			v.Info("Credential provider cache hit", "plugin", pr.name, "image", image)
		}
		return keyring.LookupLocation(loc), nil
	}

	// Concurrent misses for one image and principal run the plugin once.
	// The execution is detached from the first caller's cancellation (it
	// has its own timeout) so that callers who joined it are not failed by
	// someone else's cancellation; each caller still stops waiting when its
	// own context ends.
	flightKey := image + "\x00" + who.cacheKey
	flightCtx := context.WithoutCancel(ctx)
	results := pr.flights.DoChan(flightKey, func() (any, error) {
		return pr.fetch(flightCtx, image, registry, pod, sas, who)
	})
	select {
	case res := <-results:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*credentialprovider.BasicDockerKeyring).LookupLocation(loc), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the plugin: %w", context.Cause(ctx))
	}
}

// fetch runs the plugin for image and caches its answer. It runs in a
// flight.
func (pr *provider) fetch(ctx context.Context, image, registry string, pod PodInfo, sas ServiceAccountSource, who principal) (*credentialprovider.BasicDockerKeyring, error) {
	// A flight that just ended may have filled the cache after this
	// caller's miss.
	if keyring, ok := pr.cache.get(image, registry, who.cacheKey); ok {
		return keyring, nil
	}
	if who.tokenLater {
		token, err := pr.requestToken(ctx, pod, sas)
		if err != nil {
			return nil, err
		}
		who.token = token
	}
	resp, err := pr.plugin.run(ctx, request{image: image, token: who.token, annotations: who.annotations(pr.tokens)})
	if err != nil {
		return nil, err
	}
	source := who.source()
	if source == nil && who.token != "" {
		// Cannot happen: a token is only requested for a service account.
		// A token credential recorded as node-wide would grant every pod.
		return nil, errors.New("internal error: a token without a service account")
	}
	keyring := &credentialprovider.BasicDockerKeyring{}
	keyring.Add(source, resp.auth)
	ttl := pr.defaultCacheDuration
	if resp.cacheDuration != nil {
		ttl = *resp.cacheDuration
	}
	pr.cache.add(resp.cacheKeyType, image, registry, who.cacheKey, keyring, ttl)
	return keyring, nil
}
