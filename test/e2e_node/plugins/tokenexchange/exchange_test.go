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
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	credentialproviderv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
)

const (
	testAudience   = "tokenexchange.e2e.example"
	testAnnotation = "tokenexchange.e2e.example/tenant"
	testToken      = "eyJhbGciOiJSUzI1NiJ9.test-token.signature"
	testImage      = "127.0.0.1:5001/team/app:v1"
	v1APIVersion   = "credentialprovider.kubelet.k8s.io/v1"
)

var (
	credA    = Credential{Username: "alice", Password: "alice-password"}
	credB    = Credential{Username: "bob", Password: "bob-password"}
	credNode = Credential{Username: "node", Password: "node-password"}
)

// testConfig has tenant a (by annotation), tenant b (also by
// namespace/name for team-b/puller) and node credentials.
func testConfig(t *testing.T) *Config {
	t.Helper()
	cfg, err := ParseConfig([]byte(`{
		"audience": "` + testAudience + `",
		"tenantAnnotation": "` + testAnnotation + `",
		"serviceAccounts": {"team-b/puller": "b"},
		"tenants": {
			"a": {"127.0.0.1:5001": {"username": "alice", "password": "alice-password"}},
			"b": {"127.0.0.1:5002": {"username": "bob", "password": "bob-password"}}
		},
		"node": {"127.0.0.1:5001": {"username": "node", "password": "node-password"}},
		"cacheKeyType": "Registry",
		"cacheDuration": "5m"
	}`))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	return cfg
}

// boundStatus is what the API server answers for a pod-bound token of
// ns/name with the test audience.
func boundStatus(ns, name string) authenticationv1.TokenReviewStatus {
	return authenticationv1.TokenReviewStatus{
		Authenticated: true,
		Audiences:     []string{testAudience},
		User: authenticationv1.UserInfo{
			Username: "system:serviceaccount:" + ns + ":" + name,
			UID:      "8b3c0e4e-0000-4000-8000-000000000001",
			Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
			Extra: map[string]authenticationv1.ExtraValue{
				extraPodName: {"web-0"},
				extraPodUID:  {"6f1e2d3c-0000-4000-8000-000000000002"},
				"authentication.kubernetes.io/credential-id": {"JTI=1234"},
			},
		},
	}
}

func request(token string, annotations map[string]string) *credentialproviderv1.CredentialProviderRequest {
	return &credentialproviderv1.CredentialProviderRequest{
		TypeMeta:                  metav1.TypeMeta{Kind: requestKind, APIVersion: v1APIVersion},
		Image:                     testImage,
		ServiceAccountToken:       token,
		ServiceAccountAnnotations: annotations,
	}
}

func response(apiVersion string, creds map[string]Credential) *credentialproviderv1.CredentialProviderResponse {
	auth := map[string]credentialproviderv1.AuthConfig{}
	for host, c := range creds {
		auth[host] = credentialproviderv1.AuthConfig{Username: c.Username, Password: c.Password}
	}
	return &credentialproviderv1.CredentialProviderResponse{
		TypeMeta:      metav1.TypeMeta{Kind: responseKind, APIVersion: apiVersion},
		CacheKeyType:  credentialproviderv1.RegistryPluginCacheKeyType,
		CacheDuration: &metav1.Duration{Duration: 5 * time.Minute},
		Auth:          auth,
	}
}

// fakeReviewer returns a clientset whose TokenReviews answer status (or
// err) and the specs it was sent.
func fakeReviewer(status authenticationv1.TokenReviewStatus, err error) (*fake.Clientset, *[]authenticationv1.TokenReviewSpec) {
	client := fake.NewClientset()
	var specs []authenticationv1.TokenReviewSpec
	client.PrependReactor("create", "tokenreviews", func(action clienttesting.Action) (bool, runtime.Object, error) {
		review := action.(clienttesting.CreateAction).GetObject().(*authenticationv1.TokenReview)
		specs = append(specs, review.Spec)
		if err != nil {
			return true, nil, err
		}
		out := review.DeepCopy()
		out.Status = status
		return true, out, nil
	})
	return client, &specs
}

func TestExchange(t *testing.T) {
	notBound := boundStatus("team-a", "puller")
	delete(notBound.User.Extra, extraPodName)
	noPodUID := boundStatus("team-a", "puller")
	noPodUID.User.Extra[extraPodUID] = []string{""}
	wrongAudience := boundStatus("team-a", "puller")
	wrongAudience.Audiences = []string{"https://kubernetes.default.svc"}
	noAudiences := boundStatus("team-a", "puller")
	noAudiences.Audiences = nil
	notSA := boundStatus("team-a", "puller")
	notSA.User.Username = "system:node:node-1"

	annotatedA := map[string]string{testAnnotation: "a"}
	tests := []struct {
		name       string
		mode       Mode
		req        *credentialproviderv1.CredentialProviderRequest
		status     authenticationv1.TokenReviewStatus
		apiErr     error
		want       *credentialproviderv1.CredentialProviderResponse
		wantResult Result
		wantErr    error
		// wantReviews is the number of TokenReviews sent.
		wantReviews int
	}{
		{
			name:        "annotated service account gets its tenant's credentials",
			req:         request(testToken, annotatedA),
			status:      boundStatus("team-a", "puller"),
			want:        response(v1APIVersion, map[string]Credential{"127.0.0.1:5001": credA}),
			wantResult:  Result{Mode: ModeServiceAccount, ServiceAccount: "team-a/puller", Tenant: "a"},
			wantReviews: 1,
		},
		{
			name:        "service account without annotation maps by namespace/name",
			req:         request(testToken, nil),
			status:      boundStatus("team-b", "puller"),
			want:        response(v1APIVersion, map[string]Credential{"127.0.0.1:5002": credB}),
			wantResult:  Result{Mode: ModeServiceAccount, ServiceAccount: "team-b/puller", Tenant: "b"},
			wantReviews: 1,
		},
		{
			name:        "annotation wins over the namespace/name entry",
			req:         request(testToken, annotatedA),
			status:      boundStatus("team-b", "puller"),
			want:        response(v1APIVersion, map[string]Credential{"127.0.0.1:5001": credA}),
			wantResult:  Result{Mode: ModeServiceAccount, ServiceAccount: "team-b/puller", Tenant: "a"},
			wantReviews: 1,
		},
		{
			name:        "annotation naming an unknown tenant",
			req:         request(testToken, map[string]string{testAnnotation: "c"}),
			status:      boundStatus("team-b", "puller"),
			wantResult:  Result{Mode: ModeServiceAccount, ServiceAccount: "team-b/puller", Tenant: "c"},
			wantErr:     ErrNoTenant,
			wantReviews: 1,
		},
		{
			name:        "service account mapped to no tenant",
			req:         request(testToken, map[string]string{"other/annotation": "a"}),
			status:      boundStatus("team-c", "puller"),
			wantResult:  Result{Mode: ModeServiceAccount, ServiceAccount: "team-c/puller"},
			wantErr:     ErrNoTenant,
			wantReviews: 1,
		},
		{
			name:        "unauthenticated token",
			req:         request(testToken, annotatedA),
			status:      authenticationv1.TokenReviewStatus{Error: "invalid bearer token"},
			wantResult:  Result{Mode: ModeServiceAccount},
			wantErr:     ErrTokenRejected,
			wantReviews: 1,
		},
		{
			name:        "token of another audience",
			req:         request(testToken, annotatedA),
			status:      wrongAudience,
			wantResult:  Result{Mode: ModeServiceAccount},
			wantErr:     ErrTokenRejected,
			wantReviews: 1,
		},
		{
			name:        "review without audiences",
			req:         request(testToken, annotatedA),
			status:      noAudiences,
			wantResult:  Result{Mode: ModeServiceAccount},
			wantErr:     ErrTokenRejected,
			wantReviews: 1,
		},
		{
			name:        "token of a user that is not a service account",
			req:         request(testToken, annotatedA),
			status:      notSA,
			wantResult:  Result{Mode: ModeServiceAccount},
			wantErr:     ErrTokenRejected,
			wantReviews: 1,
		},
		{
			name:        "token not bound to a pod",
			req:         request(testToken, annotatedA),
			status:      notBound,
			wantResult:  Result{Mode: ModeServiceAccount},
			wantErr:     ErrTokenRejected,
			wantReviews: 1,
		},
		{
			name:        "token bound to a pod without UID",
			req:         request(testToken, annotatedA),
			status:      noPodUID,
			wantResult:  Result{Mode: ModeServiceAccount},
			wantErr:     ErrTokenRejected,
			wantReviews: 1,
		},
		{
			name:        "API server unreachable",
			req:         request(testToken, annotatedA),
			apiErr:      errors.New("dial tcp 127.0.0.1:6443: connect: connection refused"),
			wantResult:  Result{Mode: ModeServiceAccount},
			wantErr:     ErrTokenReview,
			wantReviews: 1,
		},
		{
			name:       "serviceAccount mode without a token",
			mode:       ModeServiceAccount,
			req:        request("", nil),
			wantResult: Result{Mode: ModeServiceAccount},
			wantErr:    ErrInvalidRequest,
		},
		{
			name:       "no token means node mode",
			req:        request("", nil),
			want:       response(v1APIVersion, map[string]Credential{"127.0.0.1:5001": credNode}),
			wantResult: Result{Mode: ModeNode},
		},
		{
			name:       "node mode ignores a token",
			mode:       ModeNode,
			req:        request(testToken, annotatedA),
			want:       response(v1APIVersion, map[string]Credential{"127.0.0.1:5001": credNode}),
			wantResult: Result{Mode: ModeNode},
		},
		{
			name: "v1beta1 request is answered in v1beta1",
			req: &credentialproviderv1.CredentialProviderRequest{
				TypeMeta: metav1.TypeMeta{Kind: requestKind, APIVersion: "credentialprovider.kubelet.k8s.io/v1beta1"},
				Image:    testImage,
			},
			want:       response("credentialprovider.kubelet.k8s.io/v1beta1", map[string]Credential{"127.0.0.1:5001": credNode}),
			wantResult: Result{Mode: ModeNode},
		},
		{
			name: "wrong kind",
			req: &credentialproviderv1.CredentialProviderRequest{
				TypeMeta: metav1.TypeMeta{Kind: responseKind, APIVersion: v1APIVersion},
				Image:    testImage,
			},
			wantErr: ErrInvalidRequest,
		},
		{
			name: "unknown apiVersion",
			req: &credentialproviderv1.CredentialProviderRequest{
				TypeMeta: metav1.TypeMeta{Kind: requestKind, APIVersion: "credentialprovider.kubelet.k8s.io/v2"},
				Image:    testImage,
			},
			wantErr: ErrInvalidRequest,
		},
		{
			name: "no image",
			req: &credentialproviderv1.CredentialProviderRequest{
				TypeMeta: metav1.TypeMeta{Kind: requestKind, APIVersion: v1APIVersion},
			},
			wantErr: ErrInvalidRequest,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, specs := fakeReviewer(tc.status, tc.apiErr)
			ex := &Exchanger{
				Config:    testConfig(t),
				Mode:      tc.mode,
				NewClient: func() (kubernetes.Interface, error) { return client, nil },
			}
			got, res, err := ex.Exchange(t.Context(), tc.req)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantResult, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if len(*specs) != tc.wantReviews {
				t.Fatalf("%d token reviews, want %d", len(*specs), tc.wantReviews)
			}
			for _, spec := range *specs {
				want := authenticationv1.TokenReviewSpec{Token: testToken, Audiences: []string{testAudience}}
				if diff := cmp.Diff(want, spec); diff != "" {
					t.Errorf("token review spec (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestExchangeRefusesWithoutAudience(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"tenants": {"a": {"127.0.0.1:5001": {"username": "alice", "password": "x"}}}, "serviceAccounts": {"team-a/puller": "a"}}`))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	client, specs := fakeReviewer(boundStatus("team-a", "puller"), nil)
	ex := &Exchanger{Config: cfg, NewClient: func() (kubernetes.Interface, error) { return client, nil }}
	if _, _, err := ex.Exchange(t.Context(), request(testToken, nil)); !errors.Is(err, ErrTokenReview) {
		t.Errorf("error %v, want %v", err, ErrTokenReview)
	}
	if len(*specs) != 0 {
		t.Errorf("%d token reviews sent without an audience, want 0", len(*specs))
	}
}

func TestExchangeClientError(t *testing.T) {
	ex := &Exchanger{
		Config:    testConfig(t),
		NewClient: func() (kubernetes.Interface, error) { return nil, errors.New("no kubeconfig") },
	}
	if _, _, err := ex.Exchange(t.Context(), request(testToken, nil)); !errors.Is(err, ErrTokenReview) {
		t.Errorf("error %v, want %v", err, ErrTokenReview)
	}
}

func TestSplitServiceAccount(t *testing.T) {
	tests := []struct {
		username string
		wantNS   string
		wantName string
		wantOK   bool
	}{
		{username: "system:serviceaccount:team-a:puller", wantNS: "team-a", wantName: "puller", wantOK: true},
		{username: "system:serviceaccount:team-a:"},
		{username: "system:serviceaccount::puller"},
		{username: "system:serviceaccount:team-a"},
		{username: "system:serviceaccount:team-a:puller:extra"},
		{username: "system:serviceaccounts:team-a:puller"},
		{username: "alice"},
	}
	for _, tc := range tests {
		ns, name, ok := splitServiceAccount(tc.username)
		if ns != tc.wantNS || name != tc.wantName || ok != tc.wantOK {
			t.Errorf("splitServiceAccount(%q) = %q, %q, %v; want %q, %q, %v", tc.username, ns, name, ok, tc.wantNS, tc.wantName, tc.wantOK)
		}
	}
}

func TestResponseEncoding(t *testing.T) {
	creds := map[string]Credential{"127.0.0.1:5001": credA}
	tests := []struct {
		name       string
		config     string
		apiVersion string
		want       string
	}{
		{
			name:       "defaults: Image key, no duration",
			config:     `{}`,
			apiVersion: v1APIVersion,
			want:       `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Image","auth":{"127.0.0.1:5001":{"username":"alice","password":"alice-password"}}}`,
		},
		{
			name:       "Registry key, five minutes",
			config:     `{"cacheKeyType": "Registry", "cacheDuration": "5m"}`,
			apiVersion: v1APIVersion,
			want:       `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","cacheDuration":"5m0s","auth":{"127.0.0.1:5001":{"username":"alice","password":"alice-password"}}}`,
		},
		{
			name:       "Global key, do not cache, v1beta1 echoed",
			config:     `{"cacheKeyType": "Global", "cacheDuration": "0s"}`,
			apiVersion: "credentialprovider.kubelet.k8s.io/v1beta1",
			want:       `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","cacheKeyType":"Global","cacheDuration":"0s","auth":{"127.0.0.1:5001":{"username":"alice","password":"alice-password"}}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(tc.config))
			if err != nil {
				t.Fatalf("ParseConfig: %v", err)
			}
			got, err := json.Marshal(cfg.response(tc.apiVersion, creds))
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("response\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}
