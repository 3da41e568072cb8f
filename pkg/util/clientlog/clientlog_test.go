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

package clientlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/textlogger"
)

func newLogger(buf *bytes.Buffer) klog.Logger {
	return textlogger.NewLogger(textlogger.NewConfig(textlogger.Verbosity(10), textlogger.Output(buf)))
}

// TestWithoutBodies GETs a Secret over HTTP with a logger at verbosity 10:
// with the original context client-go logs the body, data included (the
// reason for the package); with WithoutBodies it does not.
func TestWithoutBodies(t *testing.T) {
	const data = "c2VjcmV0LWRhdGEtdGhhdC1tdXN0LW5vdC1iZS1sb2dnZWQ="
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"apiVersion": "v1", "kind": "Secret",
			"metadata": map[string]any{"namespace": "team-a", "name": "regcred"},
			"data":     map[string]string{"token": data},
		})
	}))
	t.Cleanup(server.Close)
	client, err := kubernetes.NewForConfig(&rest.Config{Host: server.URL})
	if err != nil {
		t.Fatal(err)
	}
	get := func(ctx context.Context) {
		t.Helper()
		if _, err := client.CoreV1().Secrets("team-a").Get(ctx, "regcred", metav1.GetOptions{}); err != nil {
			t.Fatalf("Get() error = %v", err)
		}
	}

	var uncapped bytes.Buffer
	get(klog.NewContext(context.Background(), newLogger(&uncapped)))
	if !strings.Contains(uncapped.String(), data) {
		t.Fatalf("client-go no longer logs bodies at verbosity 10; this package may be unneeded:\n%s", uncapped.String())
	}

	var capped bytes.Buffer
	get(WithoutBodies(klog.NewContext(context.Background(), newLogger(&capped))))
	if strings.Contains(capped.String(), data) {
		t.Errorf("the body was logged through WithoutBodies:\n%s", capped.String())
	}
}

// TestCappedLogger: levels up to MaxVerbosity and errors pass, higher
// levels do not, derived loggers keep the cap, and a context that is
// already capped is returned as is.
func TestCappedLogger(t *testing.T) {
	var buf bytes.Buffer
	ctx := WithoutBodies(klog.NewContext(context.Background(), newLogger(&buf)))
	logger := klog.FromContext(ctx).WithName("client").WithValues("k", "v")
	logger.V(MaxVerbosity).Info("at the cap")
	logger.V(MaxVerbosity + 1).Info("above the cap")
	logger.Error(errors.New("boom"), "an error")
	out := buf.String()
	for _, want := range []string{"at the cap", "an error", "k=\"v\""} {
		if !strings.Contains(out, want) {
			t.Errorf("%q missing from:\n%s", want, out)
		}
	}
	if strings.Contains(out, "above the cap") {
		t.Errorf("a message above the cap was logged:\n%s", out)
	}
	if again := WithoutBodies(ctx); again != ctx {
		t.Error("WithoutBodies wrapped an already capped context again")
	}
}
