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
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

// TestEnsureFromAPIServer reads the Pod and its pull Secrets with client-go
// (a fake clientset injected through Deps.NewKubeClient).
func TestEnsureFromAPIServer(t *testing.T) {
	f := newFixture(t)
	appID := f.push(t, "team-a/app:1.0")
	apiPod := func() *v1.Pod {
		p := testPod("team-a", "web", v1.PullIfNotPresent, []string{"regcred", "missing"}, f.reg.Ref("team-a/app:1.0"))
		p.UID = types.UID("0f4f8a4e-5c1a-4c55-9b7a-1c2f0a7a1d11")
		return p
	}
	apiError := apierrors.NewInternalError(errors.New("etcd is on fire"))
	tests := []struct {
		name     string
		objects  []runtime.Object
		reactor  func(c *fake.Clientset)
		podNames []string
		// factoryErr makes the client factory fail.
		factoryErr error

		wantCode   int
		wantStderr string
		check      func(t *testing.T, res cliResult)
	}{
		{
			name:     "pod and secrets from the API server",
			objects:  []runtime.Object{apiPod(), f.secret("team-a", "regcred", "alice")},
			podNames: []string{"team-a/web"},
			wantCode: ExitOK,
			check: func(t *testing.T, res cliResult) {
				p := res.pods(t)[0]
				c := p.Containers[0]
				if p.Pod != "team-a/web" || c.Result != resultPulled || c.ImageRef != appID {
					t.Errorf("got %+v, want team-a/web Pulled %s", p, appID)
				}
				if len(p.Events) != 1 || p.Events[0].Reason != "FailedToRetrieveImagePullSecret" || !strings.Contains(p.Events[0].Message, "missing") {
					t.Errorf("pod events %+v, want the missing Secret named", p.Events)
				}
			},
		},
		{
			name:       "pod not found",
			objects:    []runtime.Object{f.secret("team-a", "regcred", "alice")},
			podNames:   []string{"team-a/web"},
			wantCode:   ExitEnvironment,
			wantStderr: "pod team-a/web not found",
		},
		{
			name:     "API server error reading the pod",
			objects:  []runtime.Object{apiPod()},
			podNames: []string{"team-a/web"},
			reactor: func(c *fake.Clientset) {
				c.PrependReactor("get", "pods", func(clienttesting.Action) (bool, runtime.Object, error) { return true, nil, apiError })
			},
			wantCode:   ExitEnvironment,
			wantStderr: "etcd is on fire",
		},
		{
			name:     "API server error reading a secret",
			objects:  []runtime.Object{apiPod()},
			podNames: []string{"team-a/web"},
			reactor: func(c *fake.Clientset) {
				c.PrependReactor("get", "secrets", func(clienttesting.Action) (bool, runtime.Object, error) { return true, nil, apiError })
			},
			wantCode:   ExitEnvironment,
			wantStderr: "secret team-a/regcred",
		},
		{
			name:       "client cannot be built",
			podNames:   []string{"team-a/web"},
			factoryErr: errors.New("no server in the kubeconfig"),
			wantCode:   ExitUsage,
			wantStderr: "no server in the kubeconfig",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset(tc.objects...)
			if tc.reactor != nil {
				tc.reactor(client)
			}
			var gotKubeconfig string
			deps := Deps{NewKubeClient: func(kubeconfig string) (kubernetes.Interface, error) {
				gotKubeconfig = kubeconfig
				if tc.factoryErr != nil {
					return nil, tc.factoryErr
				}
				return client, nil
			}}
			args := f.ensureArgs("-o", "json", "--kubeconfig", "/etc/kubelet-imagectl/kubeconfig")
			for _, n := range tc.podNames {
				args = append(args, "--pod-name", n)
			}
			res := runCLI(t, deps, args...)
			if res.code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stdout %q, stderr %q", res.code, tc.wantCode, res.stdout, res.stderr)
			}
			if gotKubeconfig != "/etc/kubelet-imagectl/kubeconfig" {
				t.Errorf("client built from %q", gotKubeconfig)
			}
			if tc.wantStderr != "" {
				if l := res.stderrLines(); len(l) != 1 || !strings.Contains(l[0], tc.wantStderr) {
					t.Errorf("stderr %q, want one line containing %q", res.stderr, tc.wantStderr)
				}
				if res.stdout != "" {
					t.Errorf("stdout %q, want nothing", res.stdout)
				}
			}
			if tc.check != nil {
				tc.check(t, res)
			}
		})
	}
}

// TestEnsureBadKubeconfig uses the real client factory: a kubeconfig that
// cannot be loaded is a bad input file.
func TestEnsureBadKubeconfig(t *testing.T) {
	dir := t.TempDir()
	res := runCLI(t, Deps{}, "ensure", "--root-dir", dir, "--kubeconfig", dir+"/missing-kubeconfig", "--pod-name", "team-a/web")
	if res.code != ExitUsage {
		t.Fatalf("exit code %d, want %d; stderr %q", res.code, ExitUsage, res.stderr)
	}
	if l := res.stderrLines(); len(l) != 1 || !strings.Contains(l[0], "missing-kubeconfig") {
		t.Errorf("stderr %q, want one line naming the kubeconfig", res.stderr)
	}
}

// TestAPIRequestsLogNoBodies: ensure and records explain, reading the Pod
// and its pull Secret over HTTP with the default client factory at -v=10,
// never log the Secret's data, which client-go would print from -v=8 as
// part of the response body.
func TestAPIRequestsLogNoBodies(t *testing.T) {
	f := newFixture(t)
	f.push(t, "team-a/app:1.0")
	pod := testPod("team-a", "web", v1.PullIfNotPresent, []string{"regcred"}, f.reg.Ref("team-a/app:1.0"))
	pod.UID = types.UID("3c1f4e0a-6b7d-4d4e-8f00-5d3a2b1c0e9f")
	secret := f.secret("team-a", "regcred", "alice")
	bodies := map[string]any{
		"/api/v1/namespaces/team-a/pods/web":        pod,
		"/api/v1/namespaces/team-a/secrets/regcred": secret,
	}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := bodies[r.URL.Path]
		if !ok || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(server.Close)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: %s
users:
- name: node
  user: {}
contexts:
- name: test
  context: {cluster: test, user: node}
current-context: test
`, server.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	// The forms the data takes in a JSON body: the base64 of the whole
	// docker config, and the password inside it.
	forbidden := []string{
		base64.StdEncoding.EncodeToString(secret.Data[v1.DockerConfigJsonKey]),
		f.passwords["alice"],
	}
	for _, tc := range []struct {
		name string
		args []string
		// wantLogged is a message of the command's own, proving the
		// logger ran at a high verbosity.
		wantLogged string
	}{
		{name: "ensure", args: f.ensureArgs("--kubeconfig", kubeconfig, "--pod-name", "team-a/web", "-v=10"), wantLogged: "Pulled"},
		{name: "records explain", args: []string{"records", "explain", "--root-dir", f.rootDir, "--runtime-endpoint", f.endpoint, "--docker-config", "",
			"--kubeconfig", kubeconfig, "--pod-name", "team-a/web", "-v=10", f.reg.Ref("team-a/app:1.0")}, wantLogged: "team-a/web"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			// No Deps.Logger: the tool's own logger on stderr.
			code := Run(ctx, tc.args, &Deps{Stdout: &stdout, Stderr: &stderr})
			if code != ExitOK {
				t.Fatalf("exit %d; stdout %q, stderr %q", code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.wantLogged) {
				t.Errorf("stderr holds no %q: the logger did not run at -v=10:\n%s", tc.wantLogged, stderr.String())
			}
			for _, s := range forbidden {
				if strings.Contains(stderr.String(), s) || strings.Contains(stdout.String(), s) {
					t.Errorf("the Secret's data (%.12s...) was printed:\n%s", s, stderr.String())
				}
			}
		})
	}
}
