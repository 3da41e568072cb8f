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
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/textlogger"

	"k8s.io/kubernetes/pkg/credentialprovider/plugin"
)

// TestAPIServiceAccountSourceLogsNoBodies reads a ServiceAccount and
// requests a token from an API server over HTTP with a caller's logger at
// verbosity 10: neither the token nor the annotations (which configure
// plugins) may be logged, though client-go prints response bodies from
// verbosity 8.
func TestAPIServiceAccountSourceLogsNoBodies(t *testing.T) {
	const (
		token      = "sa-token-that-must-not-be-logged"
		annotation = "annotation-value-that-must-not-be-logged"
	)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/v1/namespaces/team-a/serviceaccounts/puller":
			_ = json.NewEncoder(w).Encode(&v1.ServiceAccount{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
				ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "puller", UID: "uid-1", Annotations: map[string]string{"registry.example/role": annotation}},
			})
		case r.Method == http.MethodPost && r.URL.Path == "/api/v1/namespaces/team-a/serviceaccounts/puller/token":
			_ = json.NewEncoder(w).Encode(&authenticationv1.TokenRequest{
				TypeMeta: metav1.TypeMeta{APIVersion: "authentication.k8s.io/v1", Kind: "TokenRequest"},
				Status:   authenticationv1.TokenRequestStatus{Token: token},
			})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(server.Close)
	client, err := kubernetes.NewForConfig(&rest.Config{Host: server.URL})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logger := textlogger.NewLogger(textlogger.NewConfig(textlogger.Verbosity(10), textlogger.Output(&logs)))
	ctx := klog.NewContext(context.Background(), logger)

	sas := plugin.NewAPIServiceAccountSource(client)
	sa, err := sas.ServiceAccount(ctx, "team-a", "puller")
	if err != nil || sa.Annotations["registry.example/role"] != annotation {
		t.Fatalf("ServiceAccount() = %v, %v", sa, err)
	}
	got, err := sas.Token(ctx, "team-a", "puller", "registry.example", plugin.PodInfo{Namespace: "team-a", Name: "web", UID: "pod-uid", ServiceAccountName: "puller"})
	if err != nil || got != token {
		t.Fatalf("Token() = %q, %v", got, err)
	}
	for _, s := range []string{token, annotation} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("%q was logged:\n%s", s, logs.String())
		}
	}
}
