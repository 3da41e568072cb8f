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
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"k8s.io/kubernetes/pkg/credentialprovider"
)

func TestTokenRefreshAt80PercentOfLifetime(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := clocktesting.NewFakeClock(start)
	client := fake.NewClientset()
	requests := 0
	client.PrependReactor("create", "serviceaccounts", func(action clienttesting.Action) (bool, runtime.Object, error) {
		requests++
		return true, &authenticationv1.TokenRequest{Status: authenticationv1.TokenRequestStatus{
			Token:               fmt.Sprintf("token-%d", requests),
			ExpirationTimestamp: metav1.NewTime(clock.Now().Add(time.Hour)),
		}}, nil
	})
	sas := newAPIServiceAccountSource(client, clock)
	pod := PodInfo{Namespace: "ns", Name: "p", UID: "pod-uid"}
	steps := []struct {
		advance   time.Duration
		wantToken string
	}{
		{advance: 0, wantToken: "token-1"},
		{advance: 47 * time.Minute, wantToken: "token-1"},
		{advance: time.Minute, wantToken: "token-2"}, // 48m = 80% of 1h
		{advance: 30 * time.Minute, wantToken: "token-2"},
		{advance: 18 * time.Minute, wantToken: "token-3"},
	}
	for i, step := range steps {
		clock.Step(step.advance)
		got, err := sas.Token(context.Background(), "ns", "sa", "aud", pod)
		if err != nil {
			t.Fatalf("step %d: Token() error = %v", i, err)
		}
		if got != step.wantToken {
			t.Errorf("step %d (at %s): Token() = %q, want %q", i, clock.Now().Sub(start), got, step.wantToken)
		}
	}
}

func TestTokenWithoutExpirationIsNotCached(t *testing.T) {
	client := fake.NewClientset()
	requests := 0
	client.PrependReactor("create", "serviceaccounts", func(action clienttesting.Action) (bool, runtime.Object, error) {
		requests++
		return true, &authenticationv1.TokenRequest{Status: authenticationv1.TokenRequestStatus{Token: "t"}}, nil
	})
	sas := newAPIServiceAccountSource(client, clocktesting.NewFakeClock(time.Now()))
	for range 2 {
		if _, err := sas.Token(context.Background(), "ns", "sa", "aud", PodInfo{UID: "u"}); err != nil {
			t.Fatal(err)
		}
	}
	if requests != 2 {
		t.Errorf("%d TokenRequests, want 2", requests)
	}
}

func TestLRU(t *testing.T) {
	l := newLRU[string, int](3)
	for i, k := range []string{"a", "b", "c"} {
		l.add(k, i)
	}
	if _, ok := l.get("a"); !ok { // a is now the most recent
		t.Fatalf("a missing")
	}
	l.add("d", 3) // evicts b, the least recently used
	if _, ok := l.get("b"); ok {
		t.Errorf("b still present, want it evicted")
	}
	l.add("c", 20) // replaces, no eviction
	if l.len() != 3 {
		t.Errorf("len = %d, want 3", l.len())
	}
	if v, _ := l.get("c"); v != 20 {
		t.Errorf("c = %d, want 20", v)
	}
	l.remove("a")
	l.remove("absent")
	var keys []string
	for n := l.root.next; n != &l.root; n = n.next {
		keys = append(keys, n.key)
	}
	if diff := cmp.Diff([]string{"c", "d"}, keys); diff != "" {
		t.Errorf("order mismatch (-want +got):\n%s", diff)
	}
	zero := newLRU[string, int](0)
	zero.add("x", 1)
	zero.add("y", 2)
	if zero.len() != 1 {
		t.Errorf("a size-0 LRU holds %d entries, want 1", zero.len())
	}
}

func TestResponseCacheIsBounded(t *testing.T) {
	clock := clocktesting.NewFakeClock(time.Now())
	c := newResponseCache(clock, maxCacheEntries)
	keyring := &credentialprovider.BasicDockerKeyring{}
	for i := range maxCacheEntries + 10 {
		image := fmt.Sprintf("reg.example/app-%d", i)
		c.add(cacheKeyImage, image, "reg.example", "", keyring, time.Hour)
	}
	if n := c.len(); n != maxCacheEntries {
		t.Errorf("cache holds %d entries, want %d", n, maxCacheEntries)
	}
	if _, ok := c.get("reg.example/app-0", "reg.example", ""); ok {
		t.Errorf("the oldest entry is still cached")
	}
	if _, ok := c.get(fmt.Sprintf("reg.example/app-%d", maxCacheEntries+9), "reg.example", ""); !ok {
		t.Errorf("the newest entry is not cached")
	}
	// Expired entries are dropped when met.
	clock.Step(time.Hour)
	if _, ok := c.get(fmt.Sprintf("reg.example/app-%d", maxCacheEntries+9), "reg.example", ""); ok {
		t.Errorf("an expired entry was served")
	}
	if n := c.len(); n != maxCacheEntries-1 {
		t.Errorf("cache holds %d entries after an expired one was met, want %d", n, maxCacheEntries-1)
	}
}

func TestEncodeRequest(t *testing.T) {
	req := request{image: "reg.example/app", token: "FAKE-TOKEN", annotations: map[string]string{"a": "FAKE-ANNOTATION"}}
	tests := []struct {
		apiVersion string
		want       string
	}{
		{apiVersion: ExecAPIVersionV1, want: `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"reg.example/app","serviceAccountToken":"FAKE-TOKEN","serviceAccountAnnotations":{"a":"FAKE-ANNOTATION"}}`},
		{apiVersion: ExecAPIVersionV1beta1, want: `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","image":"reg.example/app"}`},
		{apiVersion: ExecAPIVersionV1alpha1, want: `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","image":"reg.example/app"}`},
	}
	for _, tc := range tests {
		t.Run(tc.apiVersion, func(t *testing.T) {
			got, err := encodeRequest(tc.apiVersion, req)
			if err != nil {
				t.Fatalf("encodeRequest() error = %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("encodeRequest() = %s\nwant %s", got, tc.want)
			}
		})
	}
	if _, err := encodeRequest("v9", req); err == nil {
		t.Errorf("encodeRequest(v9) succeeded, want an error")
	}
}

func TestDecodeResponse(t *testing.T) {
	minute := time.Minute
	zero := time.Duration(0)
	tests := []struct {
		name       string
		apiVersion string
		data       string
		want       *response
		wantErr    string
	}{
		{
			name: "v1", apiVersion: ExecAPIVersionV1,
			data: `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","cacheDuration":"1m","auth":{"reg.example":{"username":"u","password":"p"}}}`,
			want: &response{cacheKeyType: cacheKeyRegistry, cacheDuration: &minute, auth: credentialprovider.DockerConfig{"reg.example": {Username: "u", Password: "p"}}},
		},
		{
			name: "v1beta1 without duration", apiVersion: ExecAPIVersionV1beta1,
			data: `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","cacheKeyType":"Image","auth":{}}`,
			want: &response{cacheKeyType: cacheKeyImage, auth: credentialprovider.DockerConfig{}},
		},
		{
			name: "v1alpha1 with zero duration", apiVersion: ExecAPIVersionV1alpha1,
			data: `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","cacheKeyType":"Global","cacheDuration":"0s"}`,
			want: &response{cacheKeyType: cacheKeyGlobal, cacheDuration: &zero, auth: credentialprovider.DockerConfig{}},
		},
		{
			name: "unknown fields are ignored", apiVersion: ExecAPIVersionV1,
			data: `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Image","future":1}`,
			want: &response{cacheKeyType: cacheKeyImage, auth: credentialprovider.DockerConfig{}},
		},
		{name: "empty", apiVersion: ExecAPIVersionV1, data: ``, wantErr: "the response is not valid JSON"},
		{name: "trailing data", apiVersion: ExecAPIVersionV1, data: `{} {}`, wantErr: "the response is not valid JSON"},
		{name: "not an object", apiVersion: ExecAPIVersionV1, data: `["SECRET"]`, wantErr: "does not decode"},
		{name: "auth of the wrong type", apiVersion: ExecAPIVersionV1, data: `{"auth":{"SECRET":1}}`, wantErr: "does not decode"},
		{name: "no kind", apiVersion: ExecAPIVersionV1, data: `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Image"}`, wantErr: "kind is not"},
		{name: "kind is case-sensitive", apiVersion: ExecAPIVersionV1, data: `{"kind":"credentialproviderresponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Image"}`, wantErr: "kind is not"},
		{name: "field names are case-sensitive", apiVersion: ExecAPIVersionV1, data: `{"Kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Image"}`, wantErr: "kind is not"},
		{name: "older version than asked", apiVersion: ExecAPIVersionV1, data: `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","cacheKeyType":"Image"}`, wantErr: "apiVersion is not"},
		{name: "newer version than asked", apiVersion: ExecAPIVersionV1alpha1, data: `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Image"}`, wantErr: "apiVersion is not"},
		{name: "empty cacheKeyType", apiVersion: ExecAPIVersionV1, data: `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":""}`, wantErr: "cacheKeyType is not one of"},
		{name: "lower-case cacheKeyType", apiVersion: ExecAPIVersionV1, data: `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"image"}`, wantErr: "cacheKeyType is not one of"},
		{name: "negative duration", apiVersion: ExecAPIVersionV1, data: `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Image","cacheDuration":"-1s"}`, wantErr: "negative"},
		{name: "bad duration", apiVersion: ExecAPIVersionV1, data: `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Image","cacheDuration":"SECRET"}`, wantErr: "does not decode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeResponse([]byte(tc.data), tc.apiVersion)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("decodeResponse() = %+v, %v; want an error containing %q", got, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "SECRET") {
					t.Errorf("decodeResponse() error %q quotes the input", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("decodeResponse() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(response{})); diff != "" {
				t.Errorf("decodeResponse() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
