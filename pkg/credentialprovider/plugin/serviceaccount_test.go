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

package plugin_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/klog/v2/ktesting"

	"k8s.io/kubernetes/pkg/credentialprovider/plugin"
)

// tokenServer answers TokenRequests on a fake clientset, checking them.
type tokenServer struct {
	t  *testing.T
	mu sync.Mutex
	// requests are the TokenRequests seen, by service account.
	requests []string
	err      error
}

// install adds the reactor for create serviceaccounts/token.
func (s *tokenServer) install(client *fake.Clientset) {
	client.PrependReactor("create", "serviceaccounts", func(action clienttesting.Action) (bool, runtime.Object, error) {
		if action.GetSubresource() != "token" {
			return false, nil, nil
		}
		create, ok := action.(clienttesting.CreateActionImpl)
		if !ok {
			s.t.Errorf("token action is a %T", action)
			return true, nil, errors.New("unexpected action")
		}
		tr, ok := create.GetObject().(*authenticationv1.TokenRequest)
		if !ok {
			s.t.Errorf("token request is a %T", create.GetObject())
			return true, nil, errors.New("unexpected object")
		}
		ref := tr.Spec.BoundObjectRef
		if ref == nil || ref.Kind != "Pod" || ref.APIVersion != "v1" || ref.Name == "" || ref.UID == "" {
			s.t.Errorf("token request bound to %+v, want a Pod v1 with name and UID", ref)
		}
		if len(tr.Spec.Audiences) != 1 {
			s.t.Errorf("token request audiences = %q, want one", tr.Spec.Audiences)
		}
		if tr.Spec.ExpirationSeconds == nil || *tr.Spec.ExpirationSeconds != 3600 {
			s.t.Errorf("token request expirationSeconds = %v, want 3600", tr.Spec.ExpirationSeconds)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests = append(s.requests, create.GetNamespace()+"/"+create.Name)
		if s.err != nil {
			return true, nil, s.err
		}
		n := len(s.requests)
		return true, &authenticationv1.TokenRequest{Status: authenticationv1.TokenRequestStatus{
			Token:               fmt.Sprintf("FAKE-TOKEN-%d-%s-%s-%s", n, create.Name, tr.Spec.Audiences[0], ref.UID),
			ExpirationTimestamp: metav1.NewTime(time.Now().Add(time.Hour)),
		}}, nil
	})
}

func (s *tokenServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

func TestAPIServiceAccountSourceServiceAccount(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	client := fake.NewClientset(&v1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
		Namespace: "team-a", Name: "puller", UID: "uid-1", Annotations: map[string]string{"example.com/role": "reader"},
	}})
	sas := plugin.NewAPIServiceAccountSource(client)

	sa, err := sas.ServiceAccount(ctx, "team-a", "puller")
	if err != nil {
		t.Fatalf("ServiceAccount() error = %v", err)
	}
	if sa.UID != "uid-1" || sa.Annotations["example.com/role"] != "reader" {
		t.Errorf("ServiceAccount() = %+v, want UID uid-1 and the annotation", sa.ObjectMeta)
	}

	_, err = sas.ServiceAccount(ctx, "team-a", "absent")
	if !apierrors.IsNotFound(err) {
		t.Errorf("ServiceAccount(absent) error = %v, want NotFound", err)
	}

	// Not cached: a recreated account is seen with its new UID at once.
	if err := client.CoreV1().ServiceAccounts("team-a").Delete(ctx, "puller", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().ServiceAccounts("team-a").Create(ctx, &v1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "puller", UID: "uid-2"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sa, err = sas.ServiceAccount(ctx, "team-a", "puller")
	if err != nil || sa.UID != "uid-2" {
		t.Errorf("ServiceAccount() after recreation = %v, %v; want UID uid-2", sa, err)
	}
}

func TestAPIServiceAccountSourceToken(t *testing.T) {
	podA := plugin.PodInfo{Namespace: "team-a", Name: "web-0", UID: "pod-a", ServiceAccountName: "puller"}
	podB := plugin.PodInfo{Namespace: "team-a", Name: "web-1", UID: "pod-b", ServiceAccountName: "puller"}
	// Each step asks for a token; wantRequests is the total number of
	// TokenRequests after it, wantToken the token returned.
	steps := []struct {
		name         string
		pod          plugin.PodInfo
		audience     string
		recreate     bool
		wantRequests int
		wantToken    string
	}{
		{name: "first", pod: podA, audience: "aud-1", wantRequests: 1, wantToken: "FAKE-TOKEN-1-puller-aud-1-pod-a"},
		{name: "cached", pod: podA, audience: "aud-1", wantRequests: 1, wantToken: "FAKE-TOKEN-1-puller-aud-1-pod-a"},
		{name: "another audience", pod: podA, audience: "aud-2", wantRequests: 2, wantToken: "FAKE-TOKEN-2-puller-aud-2-pod-a"},
		{name: "another pod", pod: podB, audience: "aud-1", wantRequests: 3, wantToken: "FAKE-TOKEN-3-puller-aud-1-pod-b"},
		{name: "still cached", pod: podA, audience: "aud-1", wantRequests: 3, wantToken: "FAKE-TOKEN-1-puller-aud-1-pod-a"},
		{name: "recreated account: new token", pod: podA, audience: "aud-1", recreate: true, wantRequests: 4, wantToken: "FAKE-TOKEN-4-puller-aud-1-pod-a"},
	}
	_, ctx := ktesting.NewTestContext(t)
	client := fake.NewClientset(&v1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "puller", UID: "uid-1"}})
	server := &tokenServer{t: t}
	server.install(client)
	sas := plugin.NewAPIServiceAccountSource(client)
	for _, step := range steps {
		if step.recreate {
			if err := client.CoreV1().ServiceAccounts("team-a").Delete(ctx, "puller", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := client.CoreV1().ServiceAccounts("team-a").Create(ctx, &v1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "puller", UID: "uid-2"}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		// Lookups always read the account before asking for a token.
		if _, err := sas.ServiceAccount(ctx, "team-a", "puller"); err != nil {
			t.Fatalf("%s: ServiceAccount() error = %v", step.name, err)
		}
		token, err := sas.Token(ctx, "team-a", "puller", step.audience, step.pod)
		if err != nil {
			t.Fatalf("%s: Token() error = %v", step.name, err)
		}
		if token != step.wantToken {
			t.Errorf("%s: Token() = %q, want %q", step.name, token, step.wantToken)
		}
		if n := server.count(); n != step.wantRequests {
			t.Errorf("%s: %d TokenRequests, want %d", step.name, n, step.wantRequests)
		}
	}
	if diff := cmp.Diff([]string{"team-a/puller", "team-a/puller", "team-a/puller", "team-a/puller"}, server.requests); diff != "" {
		t.Errorf("TokenRequests mismatch (-want +got):\n%s", diff)
	}
}

func TestAPIServiceAccountSourceTokenError(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	client := fake.NewClientset()
	server := &tokenServer{t: t, err: apierrors.NewForbidden(authenticationv1.Resource("tokenrequests"), "puller", errors.New("no"))}
	server.install(client)
	sas := plugin.NewAPIServiceAccountSource(client)
	_, err := sas.Token(ctx, "team-a", "puller", "aud", plugin.PodInfo{Namespace: "team-a", Name: "web-0", UID: "pod-a"})
	if !apierrors.IsForbidden(err) {
		t.Errorf("Token() error = %v, want Forbidden", err)
	}
	// Errors are not cached.
	_, _ = sas.Token(ctx, "team-a", "puller", "aud", plugin.PodInfo{Namespace: "team-a", Name: "web-0", UID: "pod-a"})
	if n := server.count(); n != 2 {
		t.Errorf("%d TokenRequests, want 2", n)
	}
}

func TestLookupWithAPIServiceAccountSource(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	record := recordFile(t)
	client := fake.NewClientset(&v1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
		Namespace: "team-a", Name: "puller", UID: "uid-1", Annotations: map[string]string{"example.com/role": "reader"},
	}})
	server := &tokenServer{t: t}
	server.install(client)
	p := newProviders(t, plugin.Options{ServiceAccountTokens: true}, providerSpec{
		name: "fake", match: []string{"reg.example"}, cacheDuration: "1h",
		env: map[string]string{"FAKE_PLUGIN_RECORD": record, "FAKE_PLUGIN_AUTH": "reg.example=u:", "FAKE_PLUGIN_PASSWORD_TOKEN": "1"},
		tokenAttributes: map[string]any{
			"serviceAccountTokenAudience": "registry.example", "cacheType": "ServiceAccount", "requireServiceAccount": true,
			"requiredServiceAccountAnnotationKeys": []string{"example.com/role"},
		},
	})
	sas := plugin.NewAPIServiceAccountSource(client)
	pod := plugin.PodInfo{Namespace: "team-a", Name: "web-0", UID: types.UID("pod-a"), ServiceAccountName: "puller"}
	for range 2 {
		got, err := p.Lookup(ctx, "reg.example/app", pod, sas)
		if err != nil {
			t.Fatalf("Lookup() error = %v", err)
		}
		want := []cred{{Username: "u", Password: "FAKE-TOKEN-1-puller-registry.example-pod-a", Source: "serviceaccount team-a/puller (uid-1)"}}
		if diff := cmp.Diff(want, creds(got)); diff != "" {
			t.Errorf("Lookup() mismatch (-want +got):\n%s", diff)
		}
	}
	if n := server.count(); n != 1 {
		t.Errorf("%d TokenRequests, want 1 (the second lookup hits the cache)", n)
	}
	reqs := requests(t, record)
	if len(reqs) != 1 || reqs[0].ServiceAccountAnnotations["example.com/role"] != "reader" {
		t.Errorf("requests = %+v, want one with the role annotation", reqs)
	}

	// A pod whose account does not exist fails with NotFound.
	_, err := p.Lookup(ctx, "reg.example/app", plugin.PodInfo{Namespace: "team-a", Name: "x", UID: "u", ServiceAccountName: "ghost"}, sas)
	if !apierrors.IsNotFound(err) || !strings.Contains(err.Error(), "team-a/ghost") {
		t.Errorf("Lookup() for a missing account error = %v, want NotFound naming team-a/ghost", err)
	}
	var pe *plugin.PluginError
	if !errors.As(err, &pe) {
		t.Errorf("Lookup() error is a %T, want a *PluginError", err)
	}
}
