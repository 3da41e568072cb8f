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
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	credentialproviderv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
)

// execTimeout bounds every run of the binary; only a broken plugin or a
// starved machine comes near it.
const execTimeout = 60 * time.Second

var (
	buildOnce sync.Once
	buildDir  string
	binPath   string
	errBuild  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// pluginBinary builds the plugin once per test binary, as an e2e test does.
func pluginBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			errBuild = err
			return
		}
		if buildDir, errBuild = os.MkdirTemp("", "tokenexchange-"); errBuild != nil {
			return
		}
		binPath = filepath.Join(buildDir, binaryName)
		if out, err := exec.Command(goTool, "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			errBuild = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if errBuild != nil {
		t.Fatalf("building the plugin: %v", errBuild)
	}
	return binPath
}

// pluginCommand prepares the binary with only the given environment.
func pluginCommand(ctx context.Context, t *testing.T, env map[string]string, stdin string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.CommandContext(ctx, pluginBinary(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	return cmd, &stdout, &stderr
}

// runBinary runs the plugin to completion.
func runBinary(t *testing.T, env map[string]string, stdin string, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), execTimeout)
	defer cancel()
	cmd, stdout, stderr := pluginCommand(ctx, t, env, stdin, args...)
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("running the plugin: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("the plugin did not exit within %s", execTimeout)
	}
	return runResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// fakeAPIServer answers TokenReviews like kube-apiserver, over TLS (client-go
// sends a kubeconfig's credentials over TLS only): tokens it knows get their
// status, others are unauthenticated. It requires the plugin's own bearer
// token from the kubeconfig.
func fakeAPIServer(t *testing.T, statuses map[string]authenticationv1.TokenReviewStatus) (*httptest.Server, *[]authenticationv1.TokenReviewSpec) {
	t.Helper()
	var mu sync.Mutex
	var specs []authenticationv1.TokenReviewSpec
	mux := http.NewServeMux()
	mux.HandleFunc("POST /apis/authentication.k8s.io/v1/tokenreviews", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer plugin-reviewer-token" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var review authenticationv1.TokenReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		specs = append(specs, review.Spec)
		mu.Unlock()
		review.Status = statuses[review.Spec.Token]
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(&review)
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv, &specs
}

// writeKubeconfig points a kubeconfig at srv, trusting its certificate.
func writeKubeconfig(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	ca := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	data := `apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: "` + srv.URL + `", certificate-authority-data: "` + ca + `"}
users:
- name: plugin
  user: {token: plugin-reviewer-token}
contexts:
- name: e2e
  context: {cluster: e2e, user: plugin}
current-context: e2e
`
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func decodeResponse(t *testing.T, stdout string) *credentialproviderv1.CredentialProviderResponse {
	t.Helper()
	var resp credentialproviderv1.CredentialProviderResponse
	if err := json.Unmarshal([]byte(stdout), &resp); err != nil {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	return &resp
}

func TestBinaryNodeMode(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "exec.log")
	res := runBinary(t, map[string]string{EnvExecLog: logPath}, requestJSON(t, "", nil), "--config", "testdata/config.json")
	if res.code != 0 || res.stderr != "" {
		t.Fatalf("exit code %d, stderr %q; want 0 and nothing", res.code, res.stderr)
	}
	want := response(v1APIVersion, map[string]Credential{"127.0.0.1:5001": credNode})
	if diff := cmp.Diff(want, decodeResponse(t, res.stdout)); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	wantLog := []execLogEntry{{Image: testImage, Mode: ModeNode, Result: resultOK}}
	if diff := cmp.Diff(wantLog, readExecLog(t, logPath)); diff != "" {
		t.Errorf("exec log (-want +got):\n%s", diff)
	}
}

func TestBinaryServiceAccount(t *testing.T) {
	const otherToken = "eyJhbGciOiJSUzI1NiJ9.unknown-token.signature"
	srv, specs := fakeAPIServer(t, map[string]authenticationv1.TokenReviewStatus{testToken: boundStatus("team-a", "puller")})
	env := map[string]string{EnvKubeconfig: writeKubeconfig(t, srv)}

	res := runBinary(t, env, requestJSON(t, testToken, map[string]string{testAnnotation: "a"}), "--config", "testdata/config.json")
	if res.code != 0 || res.stderr != "" {
		t.Fatalf("exit code %d, stderr %q; want 0 and nothing", res.code, res.stderr)
	}
	want := response(v1APIVersion, map[string]Credential{"127.0.0.1:5001": credA})
	if diff := cmp.Diff(want, decodeResponse(t, res.stdout)); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}

	res = runBinary(t, env, requestJSON(t, otherToken, map[string]string{testAnnotation: "a"}), "--config", "testdata/config.json")
	if res.code != 1 || res.stdout != "" || !strings.Contains(res.stderr, "not authenticated") || strings.Contains(res.stderr, otherToken) {
		t.Errorf("unknown token: exit code %d, stdout %q, stderr %q; want 1, nothing, one reason without the token", res.code, res.stdout, res.stderr)
	}

	wantSpecs := []authenticationv1.TokenReviewSpec{
		{Token: testToken, Audiences: []string{testAudience}},
		{Token: otherToken, Audiences: []string{testAudience}},
	}
	if diff := cmp.Diff(wantSpecs, *specs); diff != "" {
		t.Errorf("token reviews (-want +got):\n%s", diff)
	}
}

func TestBinaryDeadAPIServer(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	kubeconfig := writeKubeconfig(t, srv)
	srv.Close()
	env := map[string]string{EnvKubeconfig: kubeconfig}
	res := runBinary(t, env, requestJSON(t, testToken, map[string]string{testAnnotation: "a"}), "--config", "testdata/config.json")
	if res.code != 1 || res.stdout != "" || len(res.stderrLines()) != 1 || !strings.Contains(res.stderr, "token review failed") {
		t.Errorf("exit code %d, stdout %q, stderr %q; want 1, nothing, one token review line", res.code, res.stdout, res.stderr)
	}
}

func TestBinaryFailureKnobs(t *testing.T) {
	failConfig := filepath.Join(t.TempDir(), "fail.json")
	if err := os.WriteFile(failConfig, []byte(`{"fail": "crash"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		env      map[string]string
		config   string
		wantCode int
		check    func(t *testing.T, res runResult)
	}{
		{
			name:     "crash",
			env:      map[string]string{EnvFail: "crash"},
			wantCode: 1,
			check: func(t *testing.T, res runResult) {
				if res.stdout != "" || !strings.Contains(res.stderr, "failure knob crash") {
					t.Errorf("stdout %q, stderr %q", res.stdout, res.stderr)
				}
			},
		},
		{
			name:     "crash from the config",
			config:   failConfig,
			wantCode: 1,
		},
		{
			name: "garbage",
			env:  map[string]string{EnvFail: "garbage"},
			check: func(t *testing.T, res runResult) {
				if res.stdout == "" || json.Valid([]byte(res.stdout)) {
					t.Errorf("stdout %q, want something that is not JSON", res.stdout)
				}
			},
		},
		{
			name: "wrongkind",
			env:  map[string]string{EnvFail: "wrongkind"},
			check: func(t *testing.T, res runResult) {
				resp := decodeResponse(t, res.stdout)
				if resp.Kind != requestKind || resp.APIVersion != v1APIVersion || len(resp.Auth) == 0 {
					t.Errorf("response %+v, want kind %s, apiVersion %s and credentials", resp, requestKind, v1APIVersion)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logPath := filepath.Join(t.TempDir(), "exec.log")
			env := map[string]string{EnvExecLog: logPath}
			for k, v := range tc.env {
				env[k] = v
			}
			config := tc.config
			if config == "" {
				config = "testdata/config.json"
			}
			res := runBinary(t, env, requestJSON(t, "", nil), "--config", config)
			if res.code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stdout %q, stderr %q", res.code, tc.wantCode, res.stdout, res.stderr)
			}
			if tc.check != nil {
				tc.check(t, res)
			}
			if log := readExecLog(t, logPath); len(log) != 1 || log[0].Result != resultError || !strings.HasPrefix(log[0].Error, "failure knob ") {
				t.Errorf("exec log %+v, want one error line for the knob", log)
			}
		})
	}
}

func TestBinaryHang(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "exec.log")
	ctx, cancel := context.WithTimeout(t.Context(), execTimeout)
	defer cancel()
	cmd, stdout, _ := pluginCommand(ctx, t, map[string]string{EnvExecLog: logPath, EnvFail: "hang"}, requestJSON(t, "", nil), "--config", "testdata/config.json")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// The knob logs before it sleeps: once the line is there, the process
	// has read the request and must still be running.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for len(readExecLog(t, logPath)) == 0 {
		select {
		case err := <-exited:
			t.Fatalf("the plugin exited (%v) before logging its exec", err)
		case <-ctx.Done():
			t.Fatalf("no exec log line within %s", execTimeout)
		case <-tick.C:
		}
	}
	select {
	case err := <-exited:
		t.Fatalf("the plugin exited (%v), want it to hang", err)
	default:
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing", stdout.String())
	}
}

func TestBinaryConcurrentExecLog(t *testing.T) {
	const execs = 6
	logPath := filepath.Join(t.TempDir(), "exec.log")
	ctx, cancel := context.WithTimeout(t.Context(), execTimeout)
	defer cancel()
	stdin := requestJSON(t, "", nil)
	cmds := make([]*exec.Cmd, execs)
	for i := range cmds {
		cmds[i], _, _ = pluginCommand(ctx, t, map[string]string{EnvExecLog: logPath}, stdin, "--config", "testdata/config.json")
	}
	var wg sync.WaitGroup
	errs := make([]error, execs)
	for i, cmd := range cmds {
		wg.Go(func() { errs[i] = cmd.Run() })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("exec %d: %v", i, err)
		}
	}
	if log := readExecLog(t, logPath); len(log) != execs {
		t.Errorf("%d exec log lines, want %d", len(log), execs)
	}
}
