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

package framework

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2/ktesting"
)

// TestAPIServerBoundToken checks, against the running API server, what the
// credential-provider work builds on: a ServiceAccount token bound to a pod
// and scoped to an audience, issued by the TokenRequest API and accepted by
// the TokenReview API with the pod's name and UID as extra, refused for
// another audience, and refused once the pod is gone (which takes the API
// server's 10s authentication cache). It skips unless the
// environment of hack/local-up-e2e-node.sh (with its API server) is set.
func TestAPIServerBoundToken(t *testing.T) {
	cfg, cs := RequireAPIServer(t)
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-apiserver-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Without a controller manager the namespace stays Terminating;
		// what this test put in it is deleted below already.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil {
			t.Errorf("cleanup: delete namespace %s: %v", ns.Name, err)
		}
	})

	// No controller manager creates "default": the pod's ServiceAccount is
	// the test's to create, and the ServiceAccount admission plugin
	// refuses the pod without it.
	sa, err := cs.CoreV1().ServiceAccounts(ns.Name).Create(ctx, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "puller"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Never scheduled (no node, no scheduler): the image is never pulled.
	pod, err := cs.CoreV1().Pods(ns.Name).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "workload"},
		Spec: corev1.PodSpec{
			ServiceAccountName: sa.Name,
			Containers:         []corev1.Container{{Name: "app", Image: "registry.invalid/e2e/never-run:v1"}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	const audience = "e2e-test"
	expiration := int64(600) // the API's minimum
	tr, err := cs.CoreV1().ServiceAccounts(ns.Name).CreateToken(ctx, sa.Name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{
			Audiences:         []string{audience},
			ExpirationSeconds: &expiration,
			BoundObjectRef: &authenticationv1.BoundObjectReference{
				Kind:       "Pod",
				APIVersion: "v1",
				Name:       pod.Name,
				UID:        pod.UID,
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	token := tr.Status.Token
	if token == "" {
		t.Fatal("TokenRequest returned no token")
	}
	if iss, err := jwtIssuer(token); err != nil {
		t.Errorf("token: %v", err)
	} else if cfg.ServiceAccountIssuer != "" && iss != cfg.ServiceAccountIssuer {
		t.Errorf("token issuer %q, want %s=%q", iss, EnvServiceAccountIssuer, cfg.ServiceAccountIssuer)
	}

	status, err := reviewToken(ctx, cs.AuthenticationV1().TokenReviews(), token, audience)
	if err != nil {
		t.Fatal(err)
	}
	if !status.Authenticated {
		t.Fatalf("TokenReview for audience %s: not authenticated (error %q)", audience, status.Error)
	}
	if want := fmt.Sprintf("system:serviceaccount:%s:%s", ns.Name, sa.Name); status.User.Username != want {
		t.Errorf("TokenReview username %q, want %q", status.User.Username, want)
	}
	if !slices.Contains(status.Audiences, audience) {
		t.Errorf("TokenReview audiences %v, want %s among them", status.Audiences, audience)
	}
	wantExtra := map[string]authenticationv1.ExtraValue{
		"authentication.kubernetes.io/pod-name": {pod.Name},
		"authentication.kubernetes.io/pod-uid":  {string(pod.UID)},
	}
	gotExtra := map[string]authenticationv1.ExtraValue{}
	for k := range wantExtra {
		gotExtra[k] = status.User.Extra[k]
	}
	if diff := cmp.Diff(wantExtra, gotExtra); diff != "" {
		t.Errorf("TokenReview extra (-want +got):\n%s", diff)
	}

	// Scoped to its audience: the API server's own (the default when a
	// review names none) must refuse it.
	status, err = reviewToken(ctx, cs.AuthenticationV1().TokenReviews(), token)
	if err != nil {
		t.Fatal(err)
	}
	if status.Authenticated {
		t.Errorf("TokenReview with the API server's audiences accepted a token for %s only: %+v", audience, status.User)
	}

	// Bound to the pod: gone with it. An unscheduled pod is deleted at once.
	if err := cs.CoreV1().Pods(ns.Name).Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Pods(ns.Name).Get(ctx, pod.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get pod %s after delete: %v, want not found", pod.Name, err)
	}
	_, err = cs.CoreV1().ServiceAccounts(ns.Name).CreateToken(ctx, sa.Name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{
			Audiences:      []string{audience},
			BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
		},
	}, metav1.CreateOptions{})
	if err == nil {
		t.Errorf("TokenRequest bound to deleted pod %s succeeded", pod.Name)
	}
	// The API server caches successful authentications for 10s (no flag
	// changes it), so the issued token stops working within that.
	var last authenticationv1.TokenReviewStatus
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		status, err := reviewToken(ctx, cs.AuthenticationV1().TokenReviews(), token, audience)
		last = status
		return err == nil && !status.Authenticated, err
	})
	if err != nil {
		t.Errorf("token of deleted pod %s still accepted: %v; last review %+v", pod.Name, err, last.User)
	}
	if err := cs.CoreV1().ServiceAccounts(ns.Name).Delete(ctx, sa.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

type tokenReviewer interface {
	Create(ctx context.Context, review *authenticationv1.TokenReview, opts metav1.CreateOptions) (*authenticationv1.TokenReview, error)
}

func reviewToken(ctx context.Context, r tokenReviewer, token string, audiences ...string) (authenticationv1.TokenReviewStatus, error) {
	review, err := r.Create(ctx, &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: token, Audiences: audiences},
	}, metav1.CreateOptions{})
	if err != nil {
		return authenticationv1.TokenReviewStatus{}, err
	}
	return review.Status, nil
}

// jwtIssuer returns the iss claim of a JWT without verifying it (the
// TokenReview is the verification).
func jwtIssuer(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("not a JWT: %d parts", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("JWT payload: %w", err)
	}
	var claims struct {
		Issuer string `json:"iss"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", fmt.Errorf("JWT payload: %w", err)
	}
	return claims.Issuer, nil
}

func TestNewClientset(t *testing.T) {
	cfg := &Config{}
	if _, err := cfg.NewClientset(); !errors.Is(err, ErrNoAPIServer) {
		t.Errorf("NewClientset without a kubeconfig: error %v, want %v", err, ErrNoAPIServer)
	}

	dir := t.TempDir()
	cfg.Kubeconfig = filepath.Join(dir, "missing")
	if _, err := cfg.NewClientset(); err == nil || errors.Is(err, ErrNoAPIServer) {
		t.Errorf("NewClientset with a missing kubeconfig: error %v, want a load error", err)
	}

	// Loading contacts nothing: any URL does.
	cfg.Kubeconfig = filepath.Join(dir, "kubeconfig")
	kubeconfig := `apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: https://127.0.0.1:1
    insecure-skip-tls-verify: true
users:
- name: e2e-admin
  user:
    token: not-a-real-token
contexts:
- name: e2e
  context:
    cluster: e2e
    user: e2e-admin
current-context: e2e
`
	if err := os.WriteFile(cfg.Kubeconfig, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	rc, err := cfg.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	if rc.Host != "https://127.0.0.1:1" || rc.BearerToken != "not-a-real-token" {
		t.Errorf("RESTConfig host %q, token set %v: not the kubeconfig's", rc.Host, rc.BearerToken != "")
	}
	if _, err := cfg.NewClientset(); err != nil {
		t.Errorf("NewClientset: %v", err)
	}
}

// skipRecorder is a TB that records what RequireAPIServer did.
type skipRecorder struct {
	skipped, failed bool
	msg             string
}

func (r *skipRecorder) Helper() {}
func (r *skipRecorder) Skip(args ...any) {
	r.skipped = true
	r.msg = fmt.Sprint(args...)
}
func (r *skipRecorder) Fatal(args ...any) {
	r.failed = true
	r.msg = fmt.Sprint(args...)
}

func TestRequireAPIServerSkips(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		wantSkip string
	}{
		{
			name:     "no components",
			env:      map[string]string{},
			wantSkip: EnvContainerdEndpoint,
		},
		{
			name:     "components without an API server",
			env:      map[string]string{EnvContainerdEndpoint: "unix:///tmp/e2eX/run/containerd.sock"},
			wantSkip: EnvKubeconfig,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Hide the environment of a run under hack/local-up-e2e-node.sh:
			// empty values count as unset.
			for _, kv := range os.Environ() {
				if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "E2E_") {
					t.Setenv(k, "")
				}
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var r skipRecorder
			cfg, cs := RequireAPIServer(&r)
			if !r.skipped || r.failed || cfg != nil || cs != nil {
				t.Fatalf("RequireAPIServer: skipped %v, failed %v (%q), config %v; want a skip", r.skipped, r.failed, r.msg, cfg)
			}
			if !strings.Contains(r.msg, tc.wantSkip) {
				t.Errorf("skip message %q does not name %s", r.msg, tc.wantSkip)
			}
		})
	}
}
