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
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	credentialproviderv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
)

const (
	requestKind  = "CredentialProviderRequest"
	responseKind = "CredentialProviderResponse"

	serviceAccountPrefix = "system:serviceaccount:"
	// The API server puts these in a pod-bound token's review.
	extraPodName = "authentication.kubernetes.io/pod-name"
	extraPodUID  = "authentication.kubernetes.io/pod-uid"
)

// supportedAPIVersions are the request versions answered, in kind. Only v1
// requests carry a token; the older ones are served in node mode.
var supportedAPIVersions = []string{
	credentialproviderv1.SchemeGroupVersion.String(),
	"credentialprovider.kubelet.k8s.io/v1beta1",
	"credentialprovider.kubelet.k8s.io/v1alpha1",
}

var (
	// ErrInvalidRequest: the request is not one this plugin answers.
	ErrInvalidRequest = errors.New("invalid request")
	// ErrTokenReview: the API server could not be asked.
	ErrTokenReview = errors.New("token review failed")
	// ErrTokenRejected: the review did not vouch for a pod-bound service
	// account token of the configured audience.
	ErrTokenRejected = errors.New("token rejected")
	// ErrNoTenant: the service account maps to no configured tenant.
	ErrNoTenant = errors.New("service account maps to no tenant")
)

// Exchanger turns credential provider requests into responses.
type Exchanger struct {
	// Config is the loaded configuration.
	Config *Config
	// Mode overrides Config.Mode when set (the --mode argument).
	Mode Mode
	// NewClient returns the client the TokenReview goes through. It is
	// called in serviceAccount mode only, so node mode needs no kubeconfig.
	NewClient func() (kubernetes.Interface, error)
}

// Result is what one exchange decided, for the exec log. It never holds
// the token.
type Result struct {
	Mode Mode
	// ServiceAccount is namespace/name, as the API server vouched for it.
	ServiceAccount string
	Tenant         string
}

// Exchange answers one request. The Result is filled as far as the
// exchange got, also on error.
func (e *Exchanger) Exchange(ctx context.Context, req *credentialproviderv1.CredentialProviderRequest) (*credentialproviderv1.CredentialProviderResponse, Result, error) {
	var res Result
	if err := validateRequest(req); err != nil {
		return nil, res, err
	}
	res.Mode = e.mode(req)
	var creds map[string]Credential
	switch res.Mode {
	case ModeNode:
		creds = e.Config.Node
	case ModeServiceAccount:
		var err error
		creds, err = e.serviceAccountCredentials(ctx, req, &res)
		if err != nil {
			return nil, res, err
		}
	}
	return e.Config.response(req.APIVersion, creds), res, nil
}

func validateRequest(req *credentialproviderv1.CredentialProviderRequest) error {
	if req.Kind != requestKind {
		return fmt.Errorf("%w: kind %q, want %s", ErrInvalidRequest, req.Kind, requestKind)
	}
	if !slices.Contains(supportedAPIVersions, req.APIVersion) {
		return fmt.Errorf("%w: apiVersion %q, want one of %s", ErrInvalidRequest, req.APIVersion, strings.Join(supportedAPIVersions, ", "))
	}
	if req.Image == "" {
		return fmt.Errorf("%w: empty image", ErrInvalidRequest)
	}
	return nil
}

func (e *Exchanger) mode(req *credentialproviderv1.CredentialProviderRequest) Mode {
	switch {
	case e.Mode != "":
		return e.Mode
	case e.Config.Mode != "":
		return e.Config.Mode
	case req.ServiceAccountToken != "":
		return ModeServiceAccount
	}
	return ModeNode
}

func (e *Exchanger) serviceAccountCredentials(ctx context.Context, req *credentialproviderv1.CredentialProviderRequest, res *Result) (map[string]Credential, error) {
	if req.ServiceAccountToken == "" {
		// Never fall back to node credentials: the provider was set up to
		// hand out per-tenant credentials only.
		return nil, fmt.Errorf("%w: serviceAccount mode and no token (set tokenAttributes in the provider config)", ErrInvalidRequest)
	}
	if e.Config.Audience == "" {
		// A review without audiences accepts tokens meant for the API
		// server itself, so none is sent.
		return nil, fmt.Errorf("%w: no audience configured", ErrTokenReview)
	}
	ns, name, err := e.reviewToken(ctx, req.ServiceAccountToken)
	if err != nil {
		return nil, err
	}
	res.ServiceAccount = ns + "/" + name
	tenant, err := e.Config.tenant(res.ServiceAccount, req.ServiceAccountAnnotations)
	res.Tenant = tenant
	if err != nil {
		return nil, err
	}
	return e.Config.Tenants[tenant], nil
}

// reviewToken asks the API server who the token belongs to and returns the
// service account's namespace and name. Anything short of an authenticated,
// pod-bound service account token of the configured audience is refused.
func (e *Exchanger) reviewToken(ctx context.Context, token string) (string, string, error) {
	client, err := e.NewClient()
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrTokenReview, err)
	}
	review, err := client.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: token, Audiences: []string{e.Config.Audience}},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrTokenReview, err)
	}
	st := review.Status
	if !st.Authenticated {
		msg := "not authenticated"
		if st.Error != "" {
			msg += ": " + st.Error
		}
		return "", "", fmt.Errorf("%w: %s", ErrTokenRejected, msg)
	}
	if !slices.Contains(st.Audiences, e.Config.Audience) {
		return "", "", fmt.Errorf("%w: audiences %q lack %q", ErrTokenRejected, st.Audiences, e.Config.Audience)
	}
	ns, name, ok := splitServiceAccount(st.User.Username)
	if !ok {
		return "", "", fmt.Errorf("%w: user %q is not a service account", ErrTokenRejected, st.User.Username)
	}
	// A bound token dies with its pod; an unbound (legacy or TokenRequest
	// without a pod) one would keep pulling after the pod is gone.
	for _, key := range []string{extraPodName, extraPodUID} {
		if v := st.User.Extra[key]; len(v) != 1 || v[0] == "" {
			return "", "", fmt.Errorf("%w: token of %s/%s is not bound to a pod (no %s)", ErrTokenRejected, ns, name, key)
		}
	}
	return ns, name, nil
}

// splitServiceAccount parses system:serviceaccount:NS:NAME.
func splitServiceAccount(username string) (string, string, bool) {
	rest, ok := strings.CutPrefix(username, serviceAccountPrefix)
	if !ok {
		return "", "", false
	}
	ns, name, ok := strings.Cut(rest, ":")
	if !ok || ns == "" || name == "" || strings.Contains(name, ":") {
		return "", "", false
	}
	return ns, name, true
}

// tenant maps a service account to its tenant: by annotation first, then by
// namespace/name. An annotation naming an unknown tenant is an error, not a
// reason to try the table: the account asked for that tenant.
func (c *Config) tenant(sa string, annotations map[string]string) (string, error) {
	if c.TenantAnnotation != "" {
		if t := annotations[c.TenantAnnotation]; t != "" {
			if _, ok := c.Tenants[t]; !ok {
				return t, fmt.Errorf("%w: %s annotation %s=%q names an unknown tenant", ErrNoTenant, sa, c.TenantAnnotation, t)
			}
			return t, nil
		}
	}
	if t, ok := c.ServiceAccounts[sa]; ok {
		return t, nil
	}
	return "", fmt.Errorf("%w: %s has no %s annotation and no serviceAccounts entry", ErrNoTenant, sa, c.annotationName())
}

func (c *Config) annotationName() string {
	if c.TenantAnnotation == "" {
		return "tenant"
	}
	return c.TenantAnnotation
}

// response builds the answer; apiVersion echoes the request's, as the
// kubelet rejects any other.
func (c *Config) response(apiVersion string, creds map[string]Credential) *credentialproviderv1.CredentialProviderResponse {
	resp := &credentialproviderv1.CredentialProviderResponse{
		TypeMeta:      metav1.TypeMeta{Kind: responseKind, APIVersion: apiVersion},
		CacheKeyType:  c.CacheKeyType,
		CacheDuration: c.CacheDuration,
		Auth:          make(map[string]credentialproviderv1.AuthConfig, len(creds)),
	}
	for host, cred := range creds {
		resp.Auth[host] = credentialproviderv1.AuthConfig{Username: cred.Username, Password: cred.Password}
	}
	return resp
}
