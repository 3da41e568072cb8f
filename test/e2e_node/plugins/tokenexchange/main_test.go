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
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/client-go/kubernetes"
	credentialproviderv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
)

type runResult struct {
	code   int
	stdout string
	stderr string
	// kubeconfig is what the client was built from, empty if never built.
	kubeconfig string
}

func (r runResult) stderrLines() []string {
	return strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
}

// runInProcess runs the plugin with a fake API server behind client.
func runInProcess(t *testing.T, args []string, env map[string]string, stdin string, client kubernetes.Interface) runResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	var res runResult
	res.code = run(t.Context(), runOptions{
		Args:   args,
		Getenv: func(k string) string { return env[k] },
		Stdin:  strings.NewReader(stdin),
		Stdout: &stdout,
		Stderr: &stderr,
		NewClient: func(kubeconfig string) (kubernetes.Interface, error) {
			res.kubeconfig = kubeconfig
			return client, nil
		},
	})
	res.stdout, res.stderr = stdout.String(), stderr.String()
	return res
}

func requestJSON(t *testing.T, token string, annotations map[string]string) string {
	t.Helper()
	data, err := json.Marshal(request(token, annotations))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// readExecLog returns the log's entries, failing on any line that is not
// one whole entry.
func readExecLog(t *testing.T, path string) []execLogEntry {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var entries []execLogEntry
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var e execLogEntry
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("exec log line %q: %v", line, err)
		}
		entries = append(entries, e)
	}
	return entries
}

func TestRun(t *testing.T) {
	const kubeconfigFlag, kubeconfigEnv = "/etc/kubernetes/plugin-flag.kubeconfig", "/etc/kubernetes/plugin-env.kubeconfig"
	config := []string{"--config", "testdata/config.json"}
	annotatedA := map[string]string{testAnnotation: "a"}
	unauthenticated := authenticationv1.TokenReviewStatus{Error: "token " + testToken + " has expired"}
	tests := []struct {
		name           string
		args           []string
		env            map[string]string
		stdin          string
		status         authenticationv1.TokenReviewStatus
		want           *credentialproviderv1.CredentialProviderResponse
		wantCode       int
		wantStderr     string
		wantKubeconfig string
		wantLog        []execLogEntry
	}{
		{
			name:           "service account token, kubeconfig from the environment",
			args:           config,
			env:            map[string]string{EnvKubeconfig: kubeconfigEnv},
			stdin:          requestJSON(t, testToken, annotatedA),
			status:         boundStatus("team-a", "puller"),
			want:           response(v1APIVersion, map[string]Credential{"127.0.0.1:5001": credA}),
			wantKubeconfig: kubeconfigEnv,
			wantLog:        []execLogEntry{{Image: testImage, Mode: ModeServiceAccount, ServiceAccount: "team-a/puller", Tenant: "a", Result: resultOK}},
		},
		{
			name:           "--kubeconfig wins over the environment",
			args:           append([]string{"--kubeconfig", kubeconfigFlag}, config...),
			env:            map[string]string{EnvKubeconfig: kubeconfigEnv},
			stdin:          requestJSON(t, testToken, nil),
			status:         boundStatus("team-b", "puller"),
			want:           response(v1APIVersion, map[string]Credential{"127.0.0.1:5002": credB}),
			wantKubeconfig: kubeconfigFlag,
			wantLog:        []execLogEntry{{Image: testImage, Mode: ModeServiceAccount, ServiceAccount: "team-b/puller", Tenant: "b", Result: resultOK}},
		},
		{
			name:    "--mode=node answers without a review",
			args:    append([]string{"--mode=node"}, config...),
			stdin:   requestJSON(t, testToken, annotatedA),
			want:    response(v1APIVersion, map[string]Credential{"127.0.0.1:5001": credNode}),
			wantLog: []execLogEntry{{Image: testImage, Mode: ModeNode, Result: resultOK}},
		},
		{
			name:       "unauthenticated token: exit 1, the token scrubbed from the reason",
			args:       config,
			stdin:      requestJSON(t, testToken, annotatedA),
			status:     unauthenticated,
			wantCode:   1,
			wantStderr: "token rejected: not authenticated: token [redacted] has expired",
			wantLog: []execLogEntry{{
				Image: testImage, Mode: ModeServiceAccount, Result: resultError,
				Error: "token rejected: not authenticated: token [redacted] has expired",
			}},
		},
		{
			name:       "service account of no tenant",
			args:       config,
			stdin:      requestJSON(t, testToken, nil),
			status:     boundStatus("team-c", "puller"),
			wantCode:   1,
			wantStderr: "service account maps to no tenant",
			wantLog: []execLogEntry{{
				Image: testImage, Mode: ModeServiceAccount, ServiceAccount: "team-c/puller", Result: resultError,
				Error: "service account maps to no tenant: team-c/puller has no " + testAnnotation + " annotation and no serviceAccounts entry",
			}},
		},
		{
			name:       "stdin is not JSON",
			args:       config,
			stdin:      "kind: CredentialProviderRequest",
			wantCode:   1,
			wantStderr: "invalid request: reading stdin",
		},
		{
			name:       "stdin larger than the bound",
			args:       config,
			stdin:      `{"kind": "CredentialProviderRequest", "image": "` + strings.Repeat("x", maxRequestBytes) + `"}`,
			wantCode:   1,
			wantStderr: "invalid request: reading stdin",
		},
		{name: "no --config", stdin: requestJSON(t, "", nil), wantCode: 1, wantStderr: "--config is required"},
		{name: "unknown flag", args: []string{"--confg", "x"}, wantCode: 1, wantStderr: "flag provided but not defined"},
		{name: "positional argument", args: []string{"--config", "x", "extra"}, wantCode: 1, wantStderr: `unexpected ["extra"]`},
		{name: "unknown --mode", args: append([]string{"--mode", "cloud"}, config...), wantCode: 1, wantStderr: `--mode "cloud"`},
		{
			name:       "unknown failure knob",
			args:       config,
			env:        map[string]string{EnvFail: "explode"},
			stdin:      requestJSON(t, "", nil),
			wantCode:   1,
			wantStderr: `TOKEN_EXCHANGE_FAIL: failure knob "explode"`,
		},
		{
			name:       "config file missing",
			args:       []string{"--config", "testdata/missing.json"},
			stdin:      requestJSON(t, "", nil),
			wantCode:   1,
			wantStderr: "reading config",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logPath := filepath.Join(t.TempDir(), "exec.log")
			env := map[string]string{EnvExecLog: logPath}
			for k, v := range tc.env {
				env[k] = v
			}
			client, _ := fakeReviewer(tc.status, nil)
			res := runInProcess(t, tc.args, env, tc.stdin, client)
			if res.code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stdout %q, stderr %q", res.code, tc.wantCode, res.stdout, res.stderr)
			}
			if tc.wantCode == 0 {
				if res.stderr != "" {
					t.Errorf("stderr %q, want nothing", res.stderr)
				}
				var got credentialproviderv1.CredentialProviderResponse
				if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
					t.Fatalf("stdout %q: %v", res.stdout, err)
				}
				if diff := cmp.Diff(tc.want, &got); diff != "" {
					t.Errorf("response (-want +got):\n%s", diff)
				}
			} else {
				if res.stdout != "" {
					t.Errorf("stdout %q, want nothing", res.stdout)
				}
				if l := res.stderrLines(); len(l) != 1 || !strings.Contains(l[0], tc.wantStderr) {
					t.Errorf("stderr %q, want one line containing %q", res.stderr, tc.wantStderr)
				}
			}
			if tc.wantKubeconfig != "" && res.kubeconfig != tc.wantKubeconfig {
				t.Errorf("client built from %q, want %q", res.kubeconfig, tc.wantKubeconfig)
			}
			for _, leak := range []string{testToken, credA.Password, credB.Password, credNode.Password} {
				if strings.Contains(res.stderr, leak) {
					t.Errorf("stderr %q holds a secret", res.stderr)
				}
			}
			logData, _ := os.ReadFile(logPath)
			for _, leak := range []string{testToken, credA.Password, credB.Password, credNode.Password} {
				if bytes.Contains(logData, []byte(leak)) {
					t.Errorf("exec log %q holds a secret", logData)
				}
			}
			if tc.wantLog != nil {
				if diff := cmp.Diff(tc.wantLog, readExecLog(t, logPath)); diff != "" {
					t.Errorf("exec log (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestRunUnwritableExecLog(t *testing.T) {
	env := map[string]string{EnvExecLog: filepath.Join(t.TempDir(), "missing-dir", "exec.log")}
	res := runInProcess(t, []string{"--config", "testdata/config.json"}, env, requestJSON(t, "", nil), nil)
	if res.code != 1 || res.stdout != "" || len(res.stderrLines()) != 1 || !strings.Contains(res.stderr, "exec log") {
		t.Errorf("exit code %d, stdout %q, stderr %q; want 1, nothing and one exec log line", res.code, res.stdout, res.stderr)
	}
}

func TestAppendExecLogConcurrently(t *testing.T) {
	const writers, lines = 8, 25
	path := filepath.Join(t.TempDir(), "exec.log")
	// Long lines make interleaving visible if writes were split.
	image := "127.0.0.1:5001/" + strings.Repeat("r", 4096)
	var wg sync.WaitGroup
	errs := make(chan error, writers*lines)
	for w := range writers {
		wg.Go(func() {
			for i := range lines {
				errs <- appendExecLog(path, execLogEntry{Image: image, Mode: ModeNode, Tenant: fmt.Sprintf("%d-%d", w, i), Result: resultOK})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("appendExecLog: %v", err)
		}
	}
	seen := map[string]bool{}
	for _, e := range readExecLog(t, path) {
		if e.Image != image || seen[e.Tenant] {
			t.Fatalf("entry %q written twice or mangled", e.Tenant)
		}
		seen[e.Tenant] = true
	}
	if len(seen) != writers*lines {
		t.Errorf("%d entries, want %d", len(seen), writers*lines)
	}
}
