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

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2/ktesting"
	credentialproviderv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
)

var (
	testDemoKey   = bytes.Repeat([]byte{0x5a}, demoMinKeyBytes)
	testDemoNow   = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	testDemoClaim = demoTokenClaims{
		Namespace:          "team-a",
		ServiceAccountName: "builder",
		ServiceAccountUID:  "uid-sa",
		PodName:            "web",
		PodUID:             "uid-pod",
		Audience:           demoAudience,
		ExpiresAt:          testDemoNow.Add(time.Hour).Unix(),
	}
)

func mintTestToken(t *testing.T, key []byte, c demoTokenClaims) string {
	t.Helper()
	token, err := mintDemoToken(key, c)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// TestDemoToken: a minted token verifies under its key and audience, and
// anything else is refused without quoting the token.
func TestDemoToken(t *testing.T) {
	good := mintTestToken(t, testDemoKey, testDemoClaim)
	body, sig, _ := strings.Cut(good, ".")
	tampered := testDemoClaim
	tampered.ServiceAccountName = "admin"
	tamperedPayload, err := json.Marshal(tampered)
	if err != nil {
		t.Fatal(err)
	}
	withClaims := func(edit func(*demoTokenClaims)) string {
		c := testDemoClaim
		edit(&c)
		return mintTestToken(t, testDemoKey, c)
	}
	tests := []struct {
		name  string
		token string
		// wantReason is part of the refusal; "" means the token verifies.
		wantReason string
	}{
		{name: "round trip", token: good},
		{name: "another key", token: mintTestToken(t, bytes.Repeat([]byte{0x42}, demoMinKeyBytes), testDemoClaim), wantReason: "signature does not match"},
		{name: "another audience", token: withClaims(func(c *demoTokenClaims) { c.Audience = "registry.example" }), wantReason: "audience"},
		{name: "tampered claims, old signature", token: base64.RawURLEncoding.EncodeToString(tamperedPayload) + "." + sig, wantReason: "signature does not match"},
		{name: "tampered signature", token: body + "." + base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)), wantReason: "signature does not match"},
		{name: "signature not base64", token: body + ".%%%", wantReason: "malformed signature"},
		{name: "no signature", token: body, wantReason: "malformed"},
		{name: "empty", token: "", wantReason: "malformed"},
		{name: "expired", token: withClaims(func(c *demoTokenClaims) { c.ExpiresAt = testDemoNow.Unix() }), wantReason: "expired"},
		{name: "not bound to a pod", token: withClaims(func(c *demoTokenClaims) { c.PodUID = "" }), wantReason: "not bound to a pod"},
		{name: "no service account UID", token: withClaims(func(c *demoTokenClaims) { c.ServiceAccountUID = "" }), wantReason: "no service account"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := verifyDemoToken(testDemoKey, tc.token, demoAudience, testDemoNow)
			if tc.wantReason == "" {
				if err != nil {
					t.Fatalf("verify: %v", err)
				}
				if diff := cmp.Diff(testDemoClaim, *claims); diff != "" {
					t.Errorf("claims (-want +got):\n%s", diff)
				}
				return
			}
			if !errors.Is(err, errDemoTokenRefused) {
				t.Fatalf("verify: %v, want errDemoTokenRefused", err)
			}
			if !strings.Contains(err.Error(), tc.wantReason) {
				t.Errorf("error %q does not say %q", err, tc.wantReason)
			}
			if tc.token != "" && strings.Contains(err.Error(), tc.token) {
				t.Errorf("error %q quotes the token", err)
			}
		})
	}
}

// writeTestPluginConfig writes a plugin config with tenants a and b and an
// exec log, and returns its path and the log's.
func writeTestPluginConfig(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	execLog := filepath.Join(dir, "exec.log")
	data, err := json.Marshal(&demoPluginConfig{
		Key:              testDemoKey,
		Audience:         demoAudience,
		TenantAnnotation: demoTenantAnnotation,
		Tenants: map[string]map[string]demoCredential{
			"a": {"127.0.0.1:5000": {Username: "robot-a", Password: "password-of-robot-a"}},
			"b": {"127.0.0.1:5000": {Username: "robot-b", Password: "password-of-robot-b"}},
		},
		CacheDuration: metav1.Duration{Duration: 5 * time.Minute},
		ExecLog:       execLog,
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "plugin.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, execLog
}

// testRequest returns a v1 request for the tenant annotation value.
func testRequest(t *testing.T, token, tenant string) []byte {
	t.Helper()
	req := credentialproviderv1.CredentialProviderRequest{
		TypeMeta:            metav1.TypeMeta{Kind: "CredentialProviderRequest", APIVersion: "credentialprovider.kubelet.k8s.io/v1"},
		Image:               "127.0.0.1:5000/team-a/sa-app:1.0",
		ServiceAccountToken: token,
	}
	if tenant != "" {
		req.ServiceAccountAnnotations = map[string]string{demoTenantAnnotation: tenant}
	}
	data, err := json.Marshal(&req)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestDemoPluginResponse: the response of a verified request, exactly as
// encoded on stdout, and the exec log line.
func TestDemoPluginResponse(t *testing.T) {
	config, execLog := writeTestPluginConfig(t)
	_, ctx := ktesting.NewTestContext(t)
	var stdout bytes.Buffer
	token := mintTestToken(t, testDemoKey, testDemoClaim)
	if err := runDemoPlugin(ctx, config, bytes.NewReader(testRequest(t, token, "a")), &stdout, testDemoNow); err != nil {
		t.Fatal(err)
	}
	const want = `{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","cacheDuration":"5m0s","auth":{"127.0.0.1:5000":{"username":"robot-a","password":"password-of-robot-a"}}}` + "\n"
	if diff := cmp.Diff(want, stdout.String()); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	// The kubelet's side decodes it.
	var resp credentialproviderv1.CredentialProviderResponse
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	entries, err := readDemoExecLog(execLog)
	if err != nil {
		t.Fatal(err)
	}
	wantEntries := []demoExecEntry{{Image: "127.0.0.1:5000/team-a/sa-app:1.0", ServiceAccount: "team-a/builder", Tenant: "a", Result: demoExecOK}}
	if diff := cmp.Diff(wantEntries, entries); diff != "" {
		t.Errorf("exec log (-want +got):\n%s", diff)
	}
}

// TestDemoPluginRefuses: every request the plugin does not answer is an
// error, logged as refused, with nothing on stdout and never the token.
func TestDemoPluginRefuses(t *testing.T) {
	token := mintTestToken(t, testDemoKey, testDemoClaim)
	otherAudience := testDemoClaim
	otherAudience.Audience = "registry.example"
	wrongVersion := strings.Replace(string(testRequest(t, token, "a")), "credentialprovider.kubelet.k8s.io/v1", "credentialprovider.kubelet.k8s.io/v1beta1", 1)
	tests := []struct {
		name       string
		stdin      string
		wantErr    error
		wantReason string
	}{
		{name: "no token", stdin: string(testRequest(t, "", "a")), wantErr: errDemoTokenRefused, wantReason: "no service account token"},
		{name: "token of another key", stdin: string(testRequest(t, mintTestToken(t, bytes.Repeat([]byte{7}, demoMinKeyBytes), testDemoClaim), "a")), wantErr: errDemoTokenRefused, wantReason: "signature"},
		{name: "token of another audience", stdin: string(testRequest(t, mintTestToken(t, testDemoKey, otherAudience), "a")), wantErr: errDemoTokenRefused, wantReason: "audience"},
		{name: "no tenant annotation", stdin: string(testRequest(t, token, "")), wantErr: errDemoNoTenant, wantReason: demoTenantAnnotation},
		{name: "unknown tenant", stdin: string(testRequest(t, token, "c")), wantErr: errDemoNoTenant, wantReason: "team-a/builder"},
		{name: "older protocol version", stdin: wrongVersion, wantErr: errDemoRequestInvalid, wantReason: "apiVersion"},
		{name: "not JSON", stdin: "token " + token, wantErr: errDemoRequestInvalid, wantReason: "not a JSON"},
		{name: "too large", stdin: strings.Repeat(" ", demoMaxRequestBytes+1), wantErr: errDemoRequestInvalid, wantReason: "more than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			config, execLog := writeTestPluginConfig(t)
			_, ctx := ktesting.NewTestContext(t)
			var stdout bytes.Buffer
			err := runDemoPlugin(ctx, config, strings.NewReader(tc.stdin), &stdout, testDemoNow)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantReason) {
				t.Errorf("error %q does not say %q", err, tc.wantReason)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "password-of") {
				t.Errorf("error %q quotes the token or a password", err)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
			entries, err := readDemoExecLog(execLog)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Result != demoExecRefused {
				t.Errorf("exec log %+v, want one refused exec", entries)
			}
			data, err := os.ReadFile(execLog)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(data), token) {
				t.Errorf("the exec log quotes the token")
			}
		})
	}
}

// TestDemoPluginConfig: the config is decoded strictly and validated.
func TestDemoPluginConfig(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{name: "unknown field", content: `{"key":"` + base64.StdEncoding.EncodeToString(testDemoKey) + `","audience":"a","tenantAnnotation":"t","tenants":{"a":{"h":{"username":"u","password":"p"}}},"cacheDuration":"1m","colour":"blue"}`, want: "colour"},
		{name: "short key", content: `{"key":"c2hvcnQ=","audience":"a","tenantAnnotation":"t","tenants":{"a":{"h":{"username":"u","password":"p"}}},"cacheDuration":"1m"}`, want: "key"},
		{name: "nothing", content: `{}`, want: "tenants"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "plugin.json")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := loadDemoPluginConfig(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}

// TestDemoPluginExec runs the plugin as the kubelet does, as a process
// (this test binary, through TestMain): exit 0 with the response on
// stdout, or exit 1 with one line on stderr that does not quote the token.
func TestDemoPluginExec(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	config, _ := writeTestPluginConfig(t)
	// The process checks the expiry against the real clock.
	claims := testDemoClaim
	claims.ExpiresAt = time.Now().Add(time.Hour).Unix()
	token := mintTestToken(t, testDemoKey, claims)
	tests := []struct {
		name     string
		stdin    []byte
		wantCode int
	}{
		{name: "answered", stdin: testRequest(t, token, "b"), wantCode: 0},
		{name: "refused", stdin: testRequest(t, token, "nobody"), wantCode: demoPluginExitRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(exe, "demo", "credential-provider", "--config", config)
			var stdout, stderr bytes.Buffer
			cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(tc.stdin), &stdout, &stderr
			err := cmd.Run()
			code := 0
			var exitErr *exec.ExitError
			if errors.As(err, &exitErr) {
				code = exitErr.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stderr %q", code, tc.wantCode, stderr.String())
			}
			if strings.Contains(stderr.String(), token) {
				t.Errorf("stderr quotes the token")
			}
			if tc.wantCode == 0 {
				var resp credentialproviderv1.CredentialProviderResponse
				if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
					t.Fatalf("stdout %q: %v", stdout.String(), err)
				}
				if got := resp.Auth["127.0.0.1:5000"].Username; got != "robot-b" {
					t.Errorf("answered for %q, want tenant b's robot-b", got)
				}
				return
			}
			if l := lines(stderr.String()); len(l) != 1 || !strings.Contains(l[0], demoPluginName) {
				t.Errorf("stderr %q, want one line naming the plugin", stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}

// startTestDemoAPIServer starts a stand-in API server holding objects and
// returns it with a client built by the real factory from its kubeconfig.
func startTestDemoAPIServer(t *testing.T, objects ...runtime.Object) (*demoAPIServer, kubernetes.Interface) {
	t.Helper()
	s, err := newDemoAPIServer(testDemoKey, demoAudience, func() time.Time { return testDemoNow }, objects...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("stopping the stand-in API server: %v", err)
		}
	})
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(demoKubeconfig(s.URL())), 0o600); err != nil {
		t.Fatal(err)
	}
	client, err := newKubeClient(path)
	if err != nil {
		t.Fatal(err)
	}
	return s, client
}

// TestDemoAPIServerTokenRequest: the stand-in API server mints a token the
// plugin accepts only for its audience and a pod of the service account.
func TestDemoAPIServerTokenRequest(t *testing.T) {
	sa := &v1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "builder", UID: "uid-sa"}}
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web", UID: "uid-pod"}, Spec: v1.PodSpec{ServiceAccountName: "builder"}}
	other := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "other", UID: "uid-other"}, Spec: v1.PodSpec{ServiceAccountName: "default"}}
	s, client := startTestDemoAPIServer(t, sa, pod, other)
	bound := func(name, uid string) *authenticationv1.BoundObjectReference {
		return &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: name, UID: types.UID(uid)}
	}
	tests := []struct {
		name           string
		serviceAccount string
		audiences      []string
		ref            *authenticationv1.BoundObjectReference
		// wantErr checks the API error; nil means a token is minted.
		wantErr func(error) bool
	}{
		{name: "bound to a pod of the account", serviceAccount: "builder", audiences: []string{demoAudience}, ref: bound("web", "uid-pod")},
		{name: "another audience", serviceAccount: "builder", audiences: []string{"registry.example"}, ref: bound("web", "uid-pod"), wantErr: apierrors.IsBadRequest},
		{name: "two audiences", serviceAccount: "builder", audiences: []string{demoAudience, "registry.example"}, ref: bound("web", "uid-pod"), wantErr: apierrors.IsBadRequest},
		{name: "unbound", serviceAccount: "builder", audiences: []string{demoAudience}, wantErr: apierrors.IsBadRequest},
		{name: "the pod's UID is another", serviceAccount: "builder", audiences: []string{demoAudience}, ref: bound("web", "uid-old"), wantErr: apierrors.IsConflict},
		{name: "a pod of another account", serviceAccount: "builder", audiences: []string{demoAudience}, ref: bound("other", "uid-other"), wantErr: apierrors.IsBadRequest},
		{name: "no such pod", serviceAccount: "builder", audiences: []string{demoAudience}, ref: bound("gone", "uid-gone"), wantErr: apierrors.IsNotFound},
		{name: "no such account", serviceAccount: "deployer", audiences: []string{demoAudience}, ref: bound("web", "uid-pod"), wantErr: apierrors.IsNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			minted := s.tokensMinted()
			tr, err := client.CoreV1().ServiceAccounts("team-a").CreateToken(context.Background(), tc.serviceAccount, &authenticationv1.TokenRequest{
				Spec: authenticationv1.TokenRequestSpec{Audiences: tc.audiences, BoundObjectRef: tc.ref},
			}, metav1.CreateOptions{})
			if tc.wantErr != nil {
				if !tc.wantErr(err) {
					t.Fatalf("error %v, not the expected kind", err)
				}
				if s.tokensMinted() != minted {
					t.Errorf("a token was minted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			claims, err := verifyDemoToken(testDemoKey, tr.Status.Token, demoAudience, testDemoNow)
			if err != nil {
				t.Fatalf("the plugin refuses the minted token: %v", err)
			}
			want := demoTokenClaims{
				Namespace: "team-a", ServiceAccountName: "builder", ServiceAccountUID: "uid-sa",
				PodName: "web", PodUID: "uid-pod", Audience: demoAudience, ExpiresAt: testDemoNow.Add(time.Hour).Unix(),
			}
			if diff := cmp.Diff(want, *claims); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
			if !tr.Status.ExpirationTimestamp.Equal(&metav1.Time{Time: testDemoNow.Add(time.Hour)}) {
				t.Errorf("expiration %s, want an hour on", tr.Status.ExpirationTimestamp)
			}
			if s.tokensMinted() != minted+1 {
				t.Errorf("tokens minted %d, want %d", s.tokensMinted(), minted+1)
			}
		})
	}
}

// TestDemoAPIServerReads: the stand-in API server answers the typed GETs
// of ensure --kubeconfig with the stored objects, a replaced object with
// the new one, and anything it does not hold or serve with a NotFound
// Status.
func TestDemoAPIServerReads(t *testing.T) {
	ctx := context.Background()
	sa := &v1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "builder", UID: "uid-sa",
		Annotations: map[string]string{demoTenantAnnotation: "a"}}}
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web", UID: "uid-pod"},
		Spec: v1.PodSpec{ServiceAccountName: "builder", Containers: []v1.Container{{Name: "app", Image: "127.0.0.1:5000/team-a/sa-app:1.0"}}}}
	secret := &v1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "regcred", UID: "uid-secret"}, Type: v1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{v1.DockerConfigJsonKey: []byte(`{"auths":{}}`)}}
	s, client := startTestDemoAPIServer(t, sa, pod, secret)

	gotPod, err := client.CoreV1().Pods("team-a").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(pod.Spec, gotPod.Spec); diff != "" || gotPod.UID != pod.UID {
		t.Errorf("pod uid %s, spec (-want +got):\n%s", gotPod.UID, diff)
	}
	gotSecret, err := client.CoreV1().Secrets("team-a").Get(ctx, "regcred", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(secret.Data, gotSecret.Data); diff != "" {
		t.Errorf("secret data (-want +got):\n%s", diff)
	}

	recreated := sa.DeepCopy()
	recreated.UID = "uid-sa-2"
	if err := s.putServiceAccount(recreated); err != nil {
		t.Fatal(err)
	}
	gotSA, err := client.CoreV1().ServiceAccounts("team-a").Get(ctx, "builder", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if gotSA.UID != "uid-sa-2" || gotSA.Annotations[demoTenantAnnotation] != "a" {
		t.Errorf("service account uid %s annotations %v, want the recreated one", gotSA.UID, gotSA.Annotations)
	}

	notFound := []struct {
		name string
		call func() error
	}{
		{name: "missing secret", call: func() error {
			_, err := client.CoreV1().Secrets("team-a").Get(ctx, "absent", metav1.GetOptions{})
			return err
		}},
		{name: "pod of another namespace", call: func() error {
			_, err := client.CoreV1().Pods("team-b").Get(ctx, "web", metav1.GetOptions{})
			return err
		}},
		{name: "missing service account", call: func() error {
			_, err := client.CoreV1().ServiceAccounts("team-a").Get(ctx, "deployer", metav1.GetOptions{})
			return err
		}},
		{name: "a request it does not serve", call: func() error {
			_, err := client.CoreV1().Pods("team-a").List(ctx, metav1.ListOptions{})
			return err
		}},
	}
	for _, tc := range notFound {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !apierrors.IsNotFound(err) {
				t.Errorf("error %v, want NotFound", err)
			}
		})
	}
}

// TestDemoAPIServerBodies: TokenRequest bodies as they come over the wire.
// client-go sends protobuf (TestDemoAPIServerTokenRequest); JSON is read
// too; another media type is answered 415 with a Status, as the API server
// answers media types it does not read, and client-go then retries in
// JSON; a body of another kind is a bad request.
func TestDemoAPIServerBodies(t *testing.T) {
	sa := &v1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "builder", UID: "uid-sa"}}
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web", UID: "uid-pod"}, Spec: v1.PodSpec{ServiceAccountName: "builder"}}
	s, _ := startTestDemoAPIServer(t, sa, pod)
	tokenRequest := `{"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1","spec":{"audiences":["` + demoAudience + `"],` +
		`"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"web","uid":"uid-pod"}}}`
	tests := []struct {
		name        string
		contentType string
		body        string
		wantCode    int
		// wantReason is the Status's reason; "" means a TokenRequest with
		// a token is returned.
		wantReason metav1.StatusReason
	}{
		{name: "JSON", contentType: "application/json", body: tokenRequest, wantCode: http.StatusCreated},
		{name: "JSON with a charset", contentType: "application/json; charset=utf-8", body: tokenRequest, wantCode: http.StatusCreated},
		{name: "CBOR", contentType: "application/cbor", body: "\xa0", wantCode: http.StatusUnsupportedMediaType, wantReason: metav1.StatusReasonUnsupportedMediaType},
		{name: "no content type", body: tokenRequest, wantCode: http.StatusUnsupportedMediaType, wantReason: metav1.StatusReasonUnsupportedMediaType},
		{name: "another kind", contentType: "application/json", body: `{"kind":"Pod","apiVersion":"v1"}`, wantCode: http.StatusBadRequest, wantReason: metav1.StatusReasonBadRequest},
		{name: "not an object", contentType: "application/json", body: `[]`, wantCode: http.StatusBadRequest, wantReason: metav1.StatusReasonBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			minted := s.tokensMinted()
			req, err := http.NewRequest(http.MethodPost, s.URL()+"/api/v1/namespaces/team-a/serviceaccounts/builder/token", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			if resp.StatusCode != tc.wantCode {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.wantCode)
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("content type %q, want application/json", got)
			}
			if tc.wantReason == "" {
				var tr authenticationv1.TokenRequest
				if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
					t.Fatal(err)
				}
				if tr.Kind != "TokenRequest" || tr.Status.Token == "" {
					t.Errorf("response %+v, want a TokenRequest with a token", tr)
				}
				if s.tokensMinted() != minted+1 {
					t.Errorf("tokens minted %d, want %d", s.tokensMinted(), minted+1)
				}
				return
			}
			var status metav1.Status
			if err := json.NewDecoder(resp.Body).Decode(&status); err != nil {
				t.Fatal(err)
			}
			if status.Kind != "Status" || status.APIVersion != "v1" || status.Status != metav1.StatusFailure || status.Reason != tc.wantReason || int(status.Code) != tc.wantCode {
				t.Errorf("body %+v, want a Failure Status with reason %s and code %d", status, tc.wantReason, tc.wantCode)
			}
			if s.tokensMinted() != minted {
				t.Errorf("a token was minted")
			}
		})
	}
}
