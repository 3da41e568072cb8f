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
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2/ktesting"
	clocktesting "k8s.io/utils/clock/testing"

	"k8s.io/kubernetes/pkg/credentialprovider/plugin"
)

const (
	v1Exec       = "credentialprovider.kubelet.k8s.io/v1"
	v1beta1Exec  = "credentialprovider.kubelet.k8s.io/v1beta1"
	v1alpha1Exec = "credentialprovider.kubelet.k8s.io/v1alpha1"
)

var testPod = plugin.PodInfo{Namespace: "team-a", Name: "web-0", UID: "pod-uid-1", ServiceAccountName: "puller"}

func serviceAccount(uid types.UID, annotations map[string]string) *v1.ServiceAccount {
	return &v1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "puller", UID: uid, Annotations: annotations}}
}

func TestLookupMatchImages(t *testing.T) {
	tests := []struct {
		name  string
		match []string
		image string
		want  bool
	}{
		{name: "host", match: []string{"reg.example"}, image: "reg.example/app:1", want: true},
		{name: "other host", match: []string{"reg.example"}, image: "other.example/app", want: false},
		{name: "subdomain glob", match: []string{"*.k8s.io"}, image: "registry.k8s.io/pause:3.9", want: true},
		{name: "glob matches one label only", match: []string{"*.io"}, image: "registry.k8s.io/pause", want: false},
		{name: "middle glob", match: []string{"k8s.*.io"}, image: "k8s.gcr.io/pause", want: true},
		{name: "partial label glob", match: []string{"app*.k8s.io"}, image: "app1.k8s.io/x", want: true},
		{name: "partial label glob mismatch", match: []string{"app*.k8s.io"}, image: "web.k8s.io/x", want: false},
		{name: "top-level domain glob", match: []string{"k8s.*"}, image: "k8s.io/x", want: true},
		{name: "ecr style", match: []string{"*.dkr.ecr.*.amazonaws.com"}, image: "123456789.dkr.ecr.us-east-1.amazonaws.com/app:v1", want: true},
		{name: "port must match", match: []string{"reg.example:5000"}, image: "reg.example:5000/app", want: true},
		{name: "port required by the pattern", match: []string{"reg.example:5000"}, image: "reg.example/app", want: false},
		{name: "port required by the image", match: []string{"reg.example"}, image: "reg.example:5000/app", want: false},
		{name: "path prefix", match: []string{"reg.example/team"}, image: "reg.example/team/app", want: true},
		{name: "path per segment", match: []string{"reg.example/team"}, image: "reg.example/team-b/app", want: false},
		{name: "docker hub", match: []string{"docker.io"}, image: "busybox", want: true},
		{name: "docker hub library path", match: []string{"docker.io/library"}, image: "busybox:1.36", want: true},
		{name: "second pattern matches", match: []string{"a.example", "reg.example"}, image: "reg.example/app", want: true},
		{name: "not an image", match: []string{"reg.example"}, image: "reg.example/UPPER", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			record := recordFile(t)
			p := newProviders(t, plugin.Options{}, providerSpec{
				name: "fake", match: tc.match,
				env: map[string]string{"FAKE_PLUGIN_RECORD": record},
			})
			if _, err := p.Lookup(ctx, tc.image, testPod, nil); err != nil {
				t.Fatalf("Lookup() error = %v", err)
			}
			if got := execs(t, record) == 1; got != tc.want {
				t.Errorf("plugin run for %q with matchImages %q = %v, want %v", tc.image, tc.match, got, tc.want)
			}
		})
	}
}

func TestLookupOrder(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	p := newProviders(t, plugin.Options{},
		providerSpec{name: "first", match: []string{"*.example"}, env: map[string]string{
			"FAKE_PLUGIN_AUTH": "reg.example=first-host:p1;other.example=first-other:p",
		}},
		providerSpec{name: "unmatched", match: []string{"nothing.example"}, env: map[string]string{
			"FAKE_PLUGIN_AUTH": "reg.example=unmatched:p",
		}},
		providerSpec{name: "second", match: []string{"reg.example"}, env: map[string]string{
			// Most specific first within one response, whatever the order
			// of the map.
			"FAKE_PLUGIN_AUTH": "*.example=second-glob:p;reg.example=second-host:p;reg.example/team=second-team:p;reg.example/team/app/x=too-deep:p",
		}},
	)
	if diff := cmp.Diff([]string{"first", "unmatched", "second"}, p.Names()); diff != "" {
		t.Errorf("Names() mismatch (-want +got):\n%s", diff)
	}
	got, err := p.Lookup(ctx, "reg.example/team/app:1", testPod, nil)
	if err != nil {
		t.Fatalf("Lookup() error = %v", err)
	}
	want := []cred{
		{Username: "first-host", Password: "p1", Source: "node"},
		{Username: "second-team", Password: "p", Source: "node"},
		{Username: "second-host", Password: "p", Source: "node"},
		{Username: "second-glob", Password: "p", Source: "node"},
	}
	if diff := cmp.Diff(want, creds(got)); diff != "" {
		t.Errorf("Lookup() mismatch (-want +got):\n%s", diff)
	}
	for _, c := range got {
		if c.AuthConfigHash == "" {
			t.Errorf("credential %v has no hash", c)
		}
	}
}

// cacheStep is one lookup in a cache test.
type cacheStep struct {
	// advance moves the clock before the lookup.
	advance time.Duration
	image   string
	// execs is the total number of executions after the lookup.
	execs int
}

func TestLookupCache(t *testing.T) {
	tests := []struct {
		name            string
		keyType         string
		responseTTL     string // cacheDuration in the response; "" none
		defaultDuration string
		steps           []cacheStep
	}{
		{
			name: "image key", keyType: "Image", responseTTL: "10m", defaultDuration: "1h",
			steps: []cacheStep{
				{image: "reg.example/app:1", execs: 1},
				{image: "reg.example/app:1", execs: 1},
				{image: "reg.example/app:2", execs: 2},
				{advance: 9 * time.Minute, image: "reg.example/app:1", execs: 2},
				{advance: time.Minute, image: "reg.example/app:1", execs: 3},
				// The image as requested: the familiar and full names are
				// two keys.
				{image: "reg.example/app:1", execs: 3},
			},
		},
		{
			name: "registry key", keyType: "Registry", responseTTL: "10m", defaultDuration: "0s",
			steps: []cacheStep{
				{image: "reg.example/a", execs: 1},
				{image: "reg.example/b:2", execs: 1},
				{image: "reg.example:5000/b", execs: 2},
				{image: "other.example/a", execs: 3},
				{image: "reg.example/c", execs: 3},
				{advance: 10 * time.Minute, image: "reg.example/c", execs: 4},
			},
		},
		{
			name: "global key", keyType: "Global", responseTTL: "10m", defaultDuration: "0s",
			steps: []cacheStep{
				{image: "reg.example/a", execs: 1},
				{image: "other.example/b", execs: 1},
				{image: "reg.example:5000/c", execs: 1},
				{advance: 10*time.Minute - time.Nanosecond, image: "other.example/b", execs: 1},
				{advance: time.Nanosecond, image: "other.example/b", execs: 2},
			},
		},
		{
			name: "default duration when the response has none", keyType: "Image", defaultDuration: "5m",
			steps: []cacheStep{
				{image: "reg.example/a", execs: 1},
				{advance: 4 * time.Minute, image: "reg.example/a", execs: 1},
				{advance: time.Minute, image: "reg.example/a", execs: 2},
			},
		},
		{
			name: "response duration 0 is not cached", keyType: "Global", responseTTL: "0s", defaultDuration: "1h",
			steps: []cacheStep{
				{image: "reg.example/a", execs: 1},
				{image: "reg.example/a", execs: 2},
			},
		},
		{
			name: "default duration 0 is not cached", keyType: "Image", defaultDuration: "0s",
			steps: []cacheStep{
				{image: "reg.example/a", execs: 1},
				{image: "reg.example/a", execs: 2},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			record := recordFile(t)
			clock := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			env := map[string]string{
				"FAKE_PLUGIN_RECORD":         record,
				"FAKE_PLUGIN_CACHE_KEY_TYPE": tc.keyType,
				"FAKE_PLUGIN_AUTH":           "reg.example=u:p;other.example=o:p;reg.example:5000=port:p",
			}
			if tc.responseTTL != "" {
				env["FAKE_PLUGIN_CACHE_DURATION"] = tc.responseTTL
			}
			p := newProviders(t, plugin.Options{Clock: clock}, providerSpec{
				name: "fake", match: []string{"reg.example", "other.example", "reg.example:5000"},
				cacheDuration: tc.defaultDuration, env: env,
			})
			for i, step := range tc.steps {
				clock.Step(step.advance)
				got, err := p.Lookup(ctx, step.image, testPod, nil)
				if err != nil {
					t.Fatalf("step %d: Lookup(%q) error = %v", i, step.image, err)
				}
				if len(got) != 1 {
					t.Errorf("step %d: Lookup(%q) = %v, want one credential", i, step.image, creds(got))
				}
				if n := execs(t, record); n != step.execs {
					t.Errorf("step %d: Lookup(%q): %d executions, want %d", i, step.image, n, step.execs)
				}
			}
		})
	}
}

func TestLookupCacheServesEachImageItsOwnEntries(t *testing.T) {
	// A Registry response serves other images of the registry, each with
	// the entries that match it.
	_, ctx := ktesting.NewTestContext(t)
	record := recordFile(t)
	p := newProviders(t, plugin.Options{}, providerSpec{
		name: "fake", match: []string{"reg.example"}, cacheDuration: "1h",
		env: map[string]string{
			"FAKE_PLUGIN_RECORD":         record,
			"FAKE_PLUGIN_CACHE_KEY_TYPE": "Registry",
			"FAKE_PLUGIN_AUTH":           "reg.example/team-a=a:p;reg.example/team-b=b:p",
		},
	})
	for _, tc := range []struct {
		image string
		want  []cred
	}{
		{image: "reg.example/team-a/app", want: []cred{{Username: "a", Password: "p", Source: "node"}}},
		{image: "reg.example/team-b/app", want: []cred{{Username: "b", Password: "p", Source: "node"}}},
		{image: "reg.example/team-c/app", want: nil},
	} {
		got, err := p.Lookup(ctx, tc.image, testPod, nil)
		if err != nil {
			t.Fatalf("Lookup(%q) error = %v", tc.image, err)
		}
		if diff := cmp.Diff(tc.want, creds(got)); diff != "" {
			t.Errorf("Lookup(%q) mismatch (-want +got):\n%s", tc.image, diff)
		}
	}
	if n := execs(t, record); n != 1 {
		t.Errorf("%d executions, want 1", n)
	}
}

func TestLookupServiceAccount(t *testing.T) {
	saSource := "serviceaccount team-a/puller (sa-uid-1)"
	tests := []struct {
		name       string
		apiVersion string
		// attrs are the provider's tokenAttributes; nil for none.
		attrs map[string]any
		pod   plugin.PodInfo
		// noAPIServer passes a nil ServiceAccountSource.
		noAPIServer bool
		sa          *v1.ServiceAccount
		tokenErr    error
		// wantErr is a substring of the error; wantIs an error it wraps.
		wantErr string
		wantIs  error
		// wantNotFound: the error satisfies apierrors.IsNotFound.
		wantNotFound bool
		// wantSource is the credentials' source; wantToken and
		// wantAnnotations what the plugin got.
		wantSource      string
		wantToken       string
		wantAnnotations map[string]string
		wantTokens      int
	}{
		{
			name: "no tokenAttributes: node-wide, no token, no API calls",
			pod:  testPod, sa: serviceAccount("sa-uid-1", nil),
			wantSource: "node",
		},
		{
			name: "v1alpha1 provider never gets a token", apiVersion: v1alpha1Exec,
			pod: testPod, sa: serviceAccount("sa-uid-1", nil),
			wantSource: "node",
		},
		{
			name: "v1beta1 provider never gets a token", apiVersion: v1beta1Exec,
			pod: testPod, sa: serviceAccount("sa-uid-1", nil),
			wantSource: "node",
		},
		{
			name:       "token and annotations",
			attrs:      map[string]any{"serviceAccountTokenAudience": "reg-aud", "cacheType": "Token", "requireServiceAccount": true, "requiredServiceAccountAnnotationKeys": []string{"example.com/role"}, "optionalServiceAccountAnnotationKeys": []string{"example.com/region", "example.com/absent"}},
			pod:        testPod,
			sa:         serviceAccount("sa-uid-1", map[string]string{"example.com/role": "reader", "example.com/region": "eu", "example.com/unlisted": "FAKE-SECRET-ANNOTATION"}),
			wantSource: saSource, wantToken: "FAKE-TOKEN-team-a-puller-reg-aud-pod-uid-1",
			wantAnnotations: map[string]string{"example.com/role": "reader", "example.com/region": "eu"},
			wantTokens:      1,
		},
		{
			name:       "requireServiceAccount false with a service account still sends a token",
			attrs:      map[string]any{"serviceAccountTokenAudience": "reg-aud", "cacheType": "ServiceAccount", "requireServiceAccount": false},
			pod:        testPod,
			sa:         serviceAccount("sa-uid-1", nil),
			wantSource: saSource, wantToken: "FAKE-TOKEN-team-a-puller-reg-aud-pod-uid-1", wantTokens: 1,
		},
		{
			name:    "pod without a service account, required",
			attrs:   map[string]any{"serviceAccountTokenAudience": "reg-aud", "cacheType": "Token", "requireServiceAccount": true},
			pod:     plugin.PodInfo{Namespace: "team-a", Name: "static", UID: "u"},
			wantErr: "pod team-a/static has no service account", wantIs: plugin.ErrServiceAccountRequired,
		},
		{
			name:       "pod without a service account, not required: node-wide",
			attrs:      map[string]any{"serviceAccountTokenAudience": "reg-aud", "cacheType": "Token", "requireServiceAccount": false},
			pod:        plugin.PodInfo{Namespace: "team-a", Name: "static", UID: "u"},
			wantSource: "node",
		},
		{
			name:  "no API server, required",
			attrs: map[string]any{"serviceAccountTokenAudience": "reg-aud", "cacheType": "Token", "requireServiceAccount": true},
			pod:   testPod, noAPIServer: true,
			wantErr: "service account tokens need the API server (--kubeconfig)", wantIs: plugin.ErrNoAPIServer,
		},
		{
			name:  "no API server, not required: node-wide",
			attrs: map[string]any{"serviceAccountTokenAudience": "reg-aud", "cacheType": "Token", "requireServiceAccount": false},
			pod:   testPod, noAPIServer: true,
			wantSource: "node",
		},
		{
			name:    "service account not found",
			attrs:   map[string]any{"serviceAccountTokenAudience": "reg-aud", "cacheType": "Token", "requireServiceAccount": true},
			pod:     testPod,
			wantErr: "service account team-a/puller not found", wantNotFound: true,
		},
		{
			name:    "required annotation missing",
			attrs:   map[string]any{"serviceAccountTokenAudience": "reg-aud", "cacheType": "ServiceAccount", "requireServiceAccount": true, "requiredServiceAccountAnnotationKeys": []string{"example.com/present", "example.com/role"}},
			pod:     testPod,
			sa:      serviceAccount("sa-uid-1", map[string]string{"example.com/present": "FAKE-SECRET-ANNOTATION"}),
			wantErr: `service account team-a/puller: missing required annotation "example.com/role"`, wantIs: plugin.ErrRequiredAnnotationMissing,
		},
		{
			name:     "token request fails",
			attrs:    map[string]any{"serviceAccountTokenAudience": "reg-aud", "cacheType": "Token", "requireServiceAccount": true},
			pod:      testPod,
			sa:       serviceAccount("sa-uid-1", nil),
			tokenErr: errors.New("forbidden"),
			wantErr:  "requesting a token for service account team-a/puller: forbidden",
		},
		{
			name:     "token request fails for cacheType ServiceAccount",
			attrs:    map[string]any{"serviceAccountTokenAudience": "reg-aud", "cacheType": "ServiceAccount", "requireServiceAccount": true},
			pod:      testPod,
			sa:       serviceAccount("sa-uid-1", nil),
			tokenErr: errors.New("forbidden"),
			wantErr:  "requesting a token for service account team-a/puller: forbidden",
		},
		{
			name:    "service account without UID",
			attrs:   map[string]any{"serviceAccountTokenAudience": "reg-aud", "cacheType": "Token", "requireServiceAccount": true},
			pod:     testPod,
			sa:      serviceAccount("", nil),
			wantErr: "service account team-a/puller has no UID",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			record := recordFile(t)
			p := newProviders(t, plugin.Options{ServiceAccountTokens: true}, providerSpec{
				name: "fake", match: []string{"reg.example"}, apiVersion: tc.apiVersion,
				env: map[string]string{
					"FAKE_PLUGIN_RECORD": record,
					"FAKE_PLUGIN_AUTH":   "reg.example=u:p",
				},
				tokenAttributes: tc.attrs,
			})
			sas := newFakeSAs()
			if tc.sa != nil {
				sas.put(tc.sa)
			}
			sas.tokenErr = tc.tokenErr
			var source plugin.ServiceAccountSource = sas
			if tc.noAPIServer {
				source = nil
			}
			got, err := p.Lookup(ctx, "reg.example/app", tc.pod, source)
			if tc.wantErr != "" {
				var pe *plugin.PluginError
				if !errors.As(err, &pe) || pe.Plugin != "fake" {
					t.Fatalf("Lookup() error = %v, want a *PluginError for plugin fake", err)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Lookup() error = %q, want it to contain %q", err, tc.wantErr)
				}
				if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
					t.Errorf("Lookup() error = %v, want errors.Is %v", err, tc.wantIs)
				}
				if tc.wantNotFound && !apierrors.IsNotFound(err) {
					t.Errorf("Lookup() error = %v, want IsNotFound", err)
				}
				for _, secret := range []string{"FAKE-SECRET", "FAKE-TOKEN"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("Lookup() error = %q contains %s", err, secret)
					}
				}
				if got != nil {
					t.Errorf("Lookup() = %v with an error, want nothing", creds(got))
				}
				if n := execs(t, record); n != 0 {
					t.Errorf("%d executions after a service account error, want 0", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("Lookup() error = %v", err)
			}
			if diff := cmp.Diff([]cred{{Username: "u", Password: "p", Source: tc.wantSource}}, creds(got)); diff != "" {
				t.Errorf("Lookup() mismatch (-want +got):\n%s", diff)
			}
			reqs := requests(t, record)
			if len(reqs) != 1 {
				t.Fatalf("%d executions, want 1", len(reqs))
			}
			if reqs[0].Image != "reg.example/app" {
				t.Errorf("request image = %q, want reg.example/app", reqs[0].Image)
			}
			wantVersion := tc.apiVersion
			if wantVersion == "" {
				wantVersion = v1Exec
			}
			if reqs[0].APIVersion != wantVersion || reqs[0].Kind != "CredentialProviderRequest" {
				t.Errorf("request is %s %s, want %s CredentialProviderRequest", reqs[0].APIVersion, reqs[0].Kind, wantVersion)
			}
			if reqs[0].ServiceAccountToken != tc.wantToken {
				t.Errorf("request token = %q, want %q", reqs[0].ServiceAccountToken, tc.wantToken)
			}
			if diff := cmp.Diff(tc.wantAnnotations, reqs[0].ServiceAccountAnnotations); diff != "" {
				t.Errorf("request annotations mismatch (-want +got):\n%s", diff)
			}
			if tc.wantToken == "" && strings.Contains(rawRequests(t, record)[0], "serviceAccount") {
				t.Errorf("request %s has service account fields, want none", rawRequests(t, record)[0])
			}
			if _, tokens := sas.counts(); tokens != tc.wantTokens {
				t.Errorf("%d token requests, want %d", tokens, tc.wantTokens)
			}
			if tc.wantTokens > 0 {
				sas.mu.Lock()
				if sas.lastPod != tc.pod || sas.lastAudience != "reg-aud" {
					t.Errorf("token requested for pod %+v audience %q, want %+v and reg-aud", sas.lastPod, sas.lastAudience, tc.pod)
				}
				sas.mu.Unlock()
			}
		})
	}
}

// saLookupStep is one lookup in a service account cache test.
type saLookupStep struct {
	name string
	// sa replaces the service account before the lookup.
	sa  *v1.ServiceAccount
	pod plugin.PodInfo
	// wantExecs and wantTokens are totals after the lookup.
	wantExecs, wantTokens int
	wantSource            string
}

func TestLookupServiceAccountCacheTypes(t *testing.T) {
	otherPod := plugin.PodInfo{Namespace: "team-a", Name: "web-1", UID: "pod-uid-2", ServiceAccountName: "puller"}
	annotated := func(uid types.UID, role, unlisted string) *v1.ServiceAccount {
		return serviceAccount(uid, map[string]string{"example.com/role": role, "example.com/unlisted": unlisted})
	}
	tests := []struct {
		name      string
		cacheType string
		steps     []saLookupStep
	}{
		{
			name:      "ServiceAccount",
			cacheType: "ServiceAccount",
			steps: []saLookupStep{
				{name: "miss", sa: annotated("uid-1", "reader", "x"), pod: testPod, wantExecs: 1, wantTokens: 1, wantSource: "serviceaccount team-a/puller (uid-1)"},
				{name: "hit needs no token", pod: testPod, wantExecs: 1, wantTokens: 1, wantSource: "serviceaccount team-a/puller (uid-1)"},
				{name: "another pod of the service account hits", pod: otherPod, wantExecs: 1, wantTokens: 1, wantSource: "serviceaccount team-a/puller (uid-1)"},
				{name: "an unlisted annotation changed: hit", sa: annotated("uid-1", "reader", "y"), pod: testPod, wantExecs: 1, wantTokens: 1, wantSource: "serviceaccount team-a/puller (uid-1)"},
				{name: "a passed annotation changed: miss", sa: annotated("uid-1", "writer", "y"), pod: testPod, wantExecs: 2, wantTokens: 2, wantSource: "serviceaccount team-a/puller (uid-1)"},
				{name: "recreated with a new UID: miss", sa: annotated("uid-2", "writer", "y"), pod: testPod, wantExecs: 3, wantTokens: 3, wantSource: "serviceaccount team-a/puller (uid-2)"},
				{name: "recreated: hit again", pod: otherPod, wantExecs: 3, wantTokens: 3, wantSource: "serviceaccount team-a/puller (uid-2)"},
				{name: "optional annotation appears: miss", sa: serviceAccount("uid-2", map[string]string{"example.com/role": "writer", "example.com/region": "eu"}), pod: testPod, wantExecs: 4, wantTokens: 4, wantSource: "serviceaccount team-a/puller (uid-2)"},
				{name: "optional annotation empty differs from absent: miss", sa: serviceAccount("uid-2", map[string]string{"example.com/role": "writer", "example.com/region": ""}), pod: testPod, wantExecs: 5, wantTokens: 5, wantSource: "serviceaccount team-a/puller (uid-2)"},
			},
		},
		{
			name:      "Token",
			cacheType: "Token",
			steps: []saLookupStep{
				{name: "miss", sa: annotated("uid-1", "reader", "x"), pod: testPod, wantExecs: 1, wantTokens: 1, wantSource: "serviceaccount team-a/puller (uid-1)"},
				{name: "same token hits", pod: testPod, wantExecs: 1, wantTokens: 2, wantSource: "serviceaccount team-a/puller (uid-1)"},
				{name: "another pod has another token: miss", pod: otherPod, wantExecs: 2, wantTokens: 3, wantSource: "serviceaccount team-a/puller (uid-1)"},
				{name: "recreated with a new UID, even with the same token: miss", sa: annotated("uid-2", "reader", "x"), pod: testPod, wantExecs: 3, wantTokens: 4, wantSource: "serviceaccount team-a/puller (uid-2)"},
				{name: "a passed annotation changed, same token: miss", sa: annotated("uid-2", "writer", "x"), pod: testPod, wantExecs: 4, wantTokens: 5, wantSource: "serviceaccount team-a/puller (uid-2)"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			record := recordFile(t)
			p := newProviders(t, plugin.Options{ServiceAccountTokens: true}, providerSpec{
				name: "fake", match: []string{"reg.example"}, cacheDuration: "1h",
				env: map[string]string{"FAKE_PLUGIN_RECORD": record, "FAKE_PLUGIN_AUTH": "reg.example=u:p"},
				tokenAttributes: map[string]any{
					"serviceAccountTokenAudience":          "reg-aud",
					"cacheType":                            tc.cacheType,
					"requireServiceAccount":                true,
					"requiredServiceAccountAnnotationKeys": []string{"example.com/role"},
					"optionalServiceAccountAnnotationKeys": []string{"example.com/region"},
				},
			})
			sas := newFakeSAs()
			for _, step := range tc.steps {
				if step.sa != nil {
					sas.put(step.sa)
				}
				got, err := p.Lookup(ctx, "reg.example/app", step.pod, sas)
				if err != nil {
					t.Fatalf("%s: Lookup() error = %v", step.name, err)
				}
				if len(got) != 1 || got[0].Source.String() != step.wantSource {
					t.Errorf("%s: Lookup() = %v, want one credential from %s", step.name, creds(got), step.wantSource)
				}
				if n := execs(t, record); n != step.wantExecs {
					t.Errorf("%s: %d executions, want %d", step.name, n, step.wantExecs)
				}
				if _, tokens := sas.counts(); tokens != step.wantTokens {
					t.Errorf("%s: %d token requests, want %d", step.name, tokens, step.wantTokens)
				}
			}
		})
	}
}

func TestLookupSingleflight(t *testing.T) {
	tests := []struct {
		name       string
		attrs      map[string]any
		wantTokens int
	}{
		{name: "no tokens"},
		{
			name:       "cacheType ServiceAccount",
			attrs:      map[string]any{"serviceAccountTokenAudience": "aud", "cacheType": "ServiceAccount", "requireServiceAccount": true},
			wantTokens: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			record := recordFile(t)
			// The plugin is slow enough that every goroutine misses the
			// cache while the first execution runs; the cache then makes
			// the count exact for any goroutine that starts late.
			p := newProviders(t, plugin.Options{ServiceAccountTokens: true}, providerSpec{
				name: "fake", match: []string{"reg.example"}, cacheDuration: "1h",
				env: map[string]string{
					"FAKE_PLUGIN_RECORD": record,
					"FAKE_PLUGIN_AUTH":   "reg.example=u:p",
					"FAKE_PLUGIN_SLEEP":  "300ms",
				},
				tokenAttributes: tc.attrs,
			})
			sas := newFakeSAs(serviceAccount("uid-1", nil))
			const n = 8
			var wg sync.WaitGroup
			errs := make([]error, n)
			results := make([]int, n)
			for i := range n {
				wg.Go(func() {
					got, err := p.Lookup(ctx, "reg.example/app", testPod, sas)
					errs[i], results[i] = err, len(got)
				})
			}
			wg.Wait()
			for i := range n {
				if errs[i] != nil || results[i] != 1 {
					t.Errorf("goroutine %d: %d credentials, error %v; want 1, nil", i, results[i], errs[i])
				}
			}
			if got := execs(t, record); got != 1 {
				t.Errorf("%d executions for %d concurrent lookups, want 1", got, n)
			}
			if _, tokens := sas.counts(); tokens != tc.wantTokens {
				t.Errorf("%d token requests, want %d", tokens, tc.wantTokens)
			}
		})
	}
}

func TestLookupCallerCanceled(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	record := recordFile(t)
	p := newProviders(t, plugin.Options{}, providerSpec{
		name: "fake", match: []string{"reg.example"}, cacheDuration: "1h",
		env: map[string]string{"FAKE_PLUGIN_RECORD": record, "FAKE_PLUGIN_AUTH": "reg.example=u:p", "FAKE_PLUGIN_SLEEP": "500ms"},
	})
	// The first caller starts the execution and gives up; the second,
	// who joined it (or, if it came late, finds its result cached), still
	// gets its answer.
	canceled, cancel := context.WithCancel(ctx)
	firstErr := make(chan error, 1)
	go func() {
		_, err := p.Lookup(canceled, "reg.example/app", testPod, nil)
		firstErr <- err
	}()
	// Wait for the plugin to be running before going on.
	for startedExecs(record) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	secondDone := make(chan []cred, 1)
	go func() {
		got, err := p.Lookup(ctx, "reg.example/app", testPod, nil)
		if err != nil {
			t.Errorf("second Lookup() error = %v", err)
		}
		secondDone <- creds(got)
	}()
	cancel()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled Lookup() error = %v, want context.Canceled", err)
	}
	if got := <-secondDone; len(got) != 1 {
		t.Errorf("second Lookup() = %v, want one credential", got)
	}
	if n := execs(t, record); n != 1 {
		t.Errorf("%d executions, want 1", n)
	}
}

func TestNewProvidersErrors(t *testing.T) {
	tokens := providerSpec{name: "fake", match: []string{"reg.example"}, tokenAttributes: map[string]any{
		"serviceAccountTokenAudience": "aud", "cacheType": "Token", "requireServiceAccount": true,
	}}
	tests := []struct {
		name    string
		opts    func(t *testing.T) plugin.Options
		wantErr string
	}{
		{
			name:    "no config file",
			opts:    func(t *testing.T) plugin.Options { return plugin.Options{BinDir: t.TempDir()} },
			wantErr: "no config file",
		},
		{
			name: "missing config file",
			opts: func(t *testing.T) plugin.Options {
				return plugin.Options{ConfigPath: "/nonexistent/config.yaml", BinDir: t.TempDir()}
			},
			wantErr: "/nonexistent/config.yaml",
		},
		{
			name: "tokenAttributes with the gate off",
			opts: func(t *testing.T) plugin.Options {
				return plugin.Options{ConfigPath: writeConfig(t, tokens), BinDir: binDir(t, "fake"), ServiceAccountTokens: false}
			},
			wantErr: "providers[0].tokenAttributes: not allowed when the KubeletServiceAccountTokenForCredentialProviders feature gate is disabled",
		},
		{
			name: "plugin missing",
			opts: func(t *testing.T) plugin.Options {
				return plugin.Options{ConfigPath: writeConfig(t, tokens), BinDir: binDir(t), ServiceAccountTokens: true}
			},
			wantErr: `providers[0].name: invalid value "fake": no such plugin`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := plugin.NewProviders(tc.opts(t))
			if err == nil {
				t.Fatalf("NewProviders() = %v, want an error", p.Names())
			}
			if !errors.Is(err, plugin.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("NewProviders() error = %q, want ErrInvalidConfig containing %q", err, tc.wantErr)
			}
		})
	}
}
