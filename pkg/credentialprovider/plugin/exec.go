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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	credentialproviderv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
	credentialproviderv1alpha1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1alpha1"
	credentialproviderv1beta1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1beta1"
	sigsjson "sigs.k8s.io/json"

	"k8s.io/kubernetes/pkg/credentialprovider"
)

// Kinds of the exec protocol objects.
const (
	kindRequest  = "CredentialProviderRequest"
	kindResponse = "CredentialProviderResponse"
)

// cacheKeyType is a response's cacheKeyType; the three versions spell it
// alike.
type cacheKeyType string

// The cache key types.
const (
	cacheKeyImage    = cacheKeyType(credentialproviderv1.ImagePluginCacheKeyType)
	cacheKeyRegistry = cacheKeyType(credentialproviderv1.RegistryPluginCacheKeyType)
	cacheKeyGlobal   = cacheKeyType(credentialproviderv1.GlobalPluginCacheKeyType)
)

const (
	// DefaultExecTimeout bounds one plugin execution when
	// Options.ExecTimeout is 0.
	DefaultExecTimeout = time.Minute
	// DefaultMaxStdout bounds a plugin's stdout when Options.MaxStdout is 0.
	DefaultMaxStdout int64 = 1 << 20
	// waitDelay is how long a plugin's stdout and stderr may stay open after
	// it exited or was killed (held by a process it started) before they
	// are closed and the execution fails.
	waitDelay = time.Second
)

// request is what a plugin is asked for.
type request struct {
	image string
	// token and annotations are only sent with the v1 protocol.
	token       string
	annotations map[string]string
}

// response is a decoded and checked plugin response, whatever its version.
type response struct {
	cacheKeyType cacheKeyType
	// cacheDuration is nil when the plugin did not set one.
	cacheDuration *time.Duration
	auth          credentialprovider.DockerConfig
}

// execPlugin runs one provider's executable.
type execPlugin struct {
	name       string
	path       string
	args       []string
	env        []string
	apiVersion string
	timeout    time.Duration
	maxStdout  int64
	metrics    *pluginMetrics
}

// errTimeout is the cause of a context that ran out of the exec timeout.
var errTimeout = errors.New("plugin execution timed out")

// run executes the plugin with req and returns its checked response.
// Errors never contain any byte of the plugin's output, nor the token.
func (e *execPlugin) run(ctx context.Context, req request) (resp *response, err error) {
	logger := klog.FromContext(ctx)
	start := time.Now()
	var stderrBytes int64
	defer func() {
		e.metrics.duration.Observe(time.Since(start).Seconds())
		if err != nil {
			e.metrics.errors.Inc()
			// Only the length of stderr: its content may be a secret.
			logger.V(2).Info("Credential provider plugin failed", "plugin", e.name, "err", err, "stderrBytes", stderrBytes)
		}
	}()

	input, err := encodeRequest(e.apiVersion, req)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, e.timeout, errTimeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, e.path, e.args...)
	cmd.Env = append(os.Environ(), e.env...)
	cmd.Stdin = bytes.NewReader(input)
	stdout := &boundedBuffer{limit: e.maxStdout, onOverflow: cancel}
	// Stderr is drained (a plugin blocked writing it would hang) but never
	// kept: it may hold secrets. Only its length is logged.
	stderr := &discardCounter{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// Its own process group, killed as a whole on timeout, so that a
	// plugin's children cannot outlive it holding its stdout.
	setProcessGroup(cmd)
	// A process that keeps stdout open after the plugin exits must not
	// keep us waiting.
	cmd.WaitDelay = waitDelay

	runErr := cmd.Run()
	stderrBytes = stderr.total()
	switch {
	case stdout.overflowed():
		return nil, fmt.Errorf("stdout exceeded %d bytes", e.maxStdout)
	case runErr != nil && context.Cause(ctx) == errTimeout:
		return nil, fmt.Errorf("timed out after %s", e.timeout)
	case runErr != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("execution canceled: %w", context.Cause(ctx))
	case errors.Is(runErr, exec.ErrWaitDelay):
		// The plugin exited but something it started holds its stdout:
		// its output may be incomplete. That process is normally still in
		// the plugin's group, and a group ID is not reused while a member
		// lives, so killing the group cleans up without hitting another.
		killProcessGroup(cmd)
		return nil, errors.New("exited, but a process it started kept its stdout open")
	case runErr != nil:
		var exitErr *exec.ExitError
		if errors.As(runErr, &exitErr) {
			// ExitError's message is the status only; stderr is never
			// captured into it (Stderr is only filled by Output).
			return nil, fmt.Errorf("failed: %w", exitErr)
		}
		return nil, fmt.Errorf("executing %q: %w", e.path, runErr)
	}
	resp, err = decodeResponse(stdout.bytes(), e.apiVersion)
	if err != nil {
		return nil, err
	}
	logger.V(4).Info("Credential provider plugin answered", "plugin", e.name, "cacheKeyType", resp.cacheKeyType, "auths", len(resp.auth), "duration", time.Since(start))
	return resp, nil
}

// encodeRequest encodes req in apiVersion. Only v1 carries a token and
// annotations; the older versions have no fields for them, so they can
// never be sent one.
func encodeRequest(apiVersion string, req request) ([]byte, error) {
	typeMeta := metav1.TypeMeta{Kind: kindRequest, APIVersion: apiVersion}
	var obj any
	switch apiVersion {
	case ExecAPIVersionV1:
		obj = &credentialproviderv1.CredentialProviderRequest{
			TypeMeta:                  typeMeta,
			Image:                     req.image,
			ServiceAccountToken:       req.token,
			ServiceAccountAnnotations: req.annotations,
		}
	case ExecAPIVersionV1beta1:
		obj = &credentialproviderv1beta1.CredentialProviderRequest{TypeMeta: typeMeta, Image: req.image}
	case ExecAPIVersionV1alpha1:
		obj = &credentialproviderv1alpha1.CredentialProviderRequest{TypeMeta: typeMeta, Image: req.image}
	default:
		// Validation rejects any other version.
		return nil, fmt.Errorf("unsupported apiVersion %q", apiVersion)
	}
	data, err := json.Marshal(obj)
	if err != nil {
		// Never quote the error: it could carry the token.
		return nil, errors.New("encoding the request failed")
	}
	return data, nil
}

// Fixed reasons for responses that fail to decode: none quotes the input,
// which is the plugin's stdout and may hold credentials.
var (
	errResponseNotJSON  = errors.New("the response is not valid JSON")
	errResponseBadShape = errors.New("the response does not decode as a " + kindResponse)
)

// decodeResponse decodes a response in apiVersion, the version of the
// request, and checks it: kind and apiVersion exactly as expected, a known
// cacheKeyType, a cacheDuration that is not negative.
func decodeResponse(data []byte, apiVersion string) (*response, error) {
	// Decoding errors quote the input (an offending character, a duration,
	// a map key): check validity first so that the reason can be fixed.
	if !json.Valid(data) {
		return nil, errResponseNotJSON
	}
	var (
		fields responseFields
		err    error
	)
	switch apiVersion {
	case ExecAPIVersionV1:
		fields, err = decodeVersioned(data, func(r *credentialproviderv1.CredentialProviderResponse) responseFields {
			return responseFieldsOf(r.TypeMeta, string(r.CacheKeyType), r.CacheDuration, r.Auth, func(a credentialproviderv1.AuthConfig) (string, string) { return a.Username, a.Password })
		})
	case ExecAPIVersionV1beta1:
		fields, err = decodeVersioned(data, func(r *credentialproviderv1beta1.CredentialProviderResponse) responseFields {
			return responseFieldsOf(r.TypeMeta, string(r.CacheKeyType), r.CacheDuration, r.Auth, func(a credentialproviderv1beta1.AuthConfig) (string, string) { return a.Username, a.Password })
		})
	case ExecAPIVersionV1alpha1:
		fields, err = decodeVersioned(data, func(r *credentialproviderv1alpha1.CredentialProviderResponse) responseFields {
			return responseFieldsOf(r.TypeMeta, string(r.CacheKeyType), r.CacheDuration, r.Auth, func(a credentialproviderv1alpha1.AuthConfig) (string, string) { return a.Username, a.Password })
		})
	default:
		return nil, fmt.Errorf("unsupported apiVersion %q", apiVersion)
	}
	if err != nil {
		return nil, err
	}
	typeMeta, keyType, duration, auth := fields.typeMeta, fields.keyType, fields.duration, fields.auth
	// The values received are not quoted: they are the plugin's stdout.
	if typeMeta.Kind != kindResponse {
		return nil, fmt.Errorf("the response's kind is not %s", kindResponse)
	}
	if typeMeta.APIVersion != apiVersion {
		return nil, fmt.Errorf("the response's apiVersion is not %s, the request's", apiVersion)
	}
	resp := &response{cacheKeyType: cacheKeyType(keyType), auth: auth}
	switch resp.cacheKeyType {
	case cacheKeyImage, cacheKeyRegistry, cacheKeyGlobal:
	default:
		return nil, fmt.Errorf("the response's cacheKeyType is not one of %s, %s, %s", cacheKeyImage, cacheKeyRegistry, cacheKeyGlobal)
	}
	if duration != nil {
		if duration.Duration < 0 {
			return nil, errors.New("the response's cacheDuration is negative")
		}
		d := duration.Duration
		resp.cacheDuration = &d
	}
	return resp, nil
}

// responseFields are what a response of any version carries.
type responseFields struct {
	typeMeta metav1.TypeMeta
	keyType  string
	duration *metav1.Duration
	auth     credentialprovider.DockerConfig
}

// decodeVersioned decodes data into the response type R of one version and
// takes its fields. A shape error never quotes the input.
func decodeVersioned[R any](data []byte, fieldsOf func(*R) responseFields) (responseFields, error) {
	var r R
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(data, &r); err != nil {
		return responseFields{}, errResponseBadShape
	}
	return fieldsOf(&r), nil
}

// responseFieldsOf builds the fields of a response whose auth map holds the
// version's AuthConfig type A.
func responseFieldsOf[A any](typeMeta metav1.TypeMeta, keyType string, duration *metav1.Duration, auths map[string]A, userPass func(A) (string, string)) responseFields {
	auth := make(credentialprovider.DockerConfig, len(auths))
	for k, a := range auths {
		user, password := userPass(a)
		auth[k] = credentialprovider.DockerConfigEntry{Username: user, Password: password}
	}
	return responseFields{typeMeta: typeMeta, keyType: keyType, duration: duration, auth: auth}
}

// errStdoutLimit stops copying a plugin's stdout past the limit.
var errStdoutLimit = errors.New("stdout limit exceeded")

// boundedBuffer keeps up to limit bytes. Past the limit it calls onOverflow
// once (to kill the plugin) and fails the write, which makes os/exec stop
// copying and close the pipe.
type boundedBuffer struct {
	limit      int64
	onOverflow func()

	mu   sync.Mutex
	buf  bytes.Buffer
	over bool
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.over {
		return 0, errStdoutLimit
	}
	if int64(b.buf.Len())+int64(len(p)) > b.limit {
		b.over = true
		b.onOverflow()
		return 0, errStdoutLimit
	}
	return b.buf.Write(p)
}

func (b *boundedBuffer) overflowed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.over
}

func (b *boundedBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Bytes()
}

// discardCounter counts the bytes written to it and keeps none of them.
type discardCounter struct {
	mu sync.Mutex
	n  int64
}

func (d *discardCounter) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n += int64(len(p))
	return len(p), nil
}

func (d *discardCounter) total() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}
