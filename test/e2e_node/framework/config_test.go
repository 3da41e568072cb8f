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
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    *Config
		wantErr error
	}{
		{
			name:    "no endpoint",
			env:     map[string]string{"E2E_REGISTRY_A": "127.0.0.1:1"},
			wantErr: ErrNotConfigured,
		},
		{
			name: "as local-up writes it",
			env: map[string]string{
				"E2E_CONTAINERD_ENDPOINT":      "unix:///tmp/e2eX/run/containerd.sock",
				"E2E_CONTAINERD_NAMESPACE":     "k8s.io",
				"E2E_CONTAINERD_CERTS_DIR":     "/tmp/e2eX/containerd/certs.d",
				"E2E_WORK_DIR":                 "/tmp/e2eX",
				"E2E_REGISTRY_A":               "127.0.0.1:20001",
				"E2E_REGISTRY_A_USER1":         "tenant-a-1",
				"E2E_REGISTRY_A_PASS1":         "p1",
				"E2E_REGISTRY_A_USER2":         "tenant-a-2",
				"E2E_REGISTRY_A_PASS2":         "p2",
				"E2E_REGISTRY_A_ACCESS_LOG":    "/tmp/e2eX/registry/a/access.log",
				"E2E_REGISTRY_A_HTTP_LOG":      "/tmp/e2eX/registry/a/http.log",
				"E2E_REGISTRY_ANON":            "127.0.0.1:20003",
				"E2E_REGISTRY_ANON_INSECURE":   "true",
				"E2E_REGISTRY_ANON_USER2":      "ignored-without-user1",
				"E2E_CONTAINERD_SNAPSHOTTER":   "overlayfs",
				"E2E_REGISTRY_ANON_ACCESS_LOG": "/tmp/e2eX/registry/anon/access.log",
				"E2E_KUBECONFIG":               "/tmp/e2eX/apiserver/admin.kubeconfig",
				"E2E_APISERVER_URL":            "https://127.0.0.1:20004",
				"E2E_APISERVER_LOG":            "/tmp/e2eX/logs/kube-apiserver.log",
				"E2E_ETCD_LOG":                 "/tmp/e2eX/logs/etcd.log",
				"E2E_SERVICE_ACCOUNT_ISSUER":   "https://kubernetes.default.svc.cluster.local",
			},
			want: &Config{
				ContainerdEndpoint:  "unix:///tmp/e2eX/run/containerd.sock",
				ContainerdNamespace: "k8s.io",
				ContainerdCertsDir:  "/tmp/e2eX/containerd/certs.d",
				WorkDir:             "/tmp/e2eX",
				Registries: map[string]*Registry{
					"A": {
						Name:      "A",
						Host:      "127.0.0.1:20001",
						Users:     []Credential{{Username: "tenant-a-1", Password: "p1"}, {Username: "tenant-a-2", Password: "p2"}},
						AccessLog: AccessLog{Path: "/tmp/e2eX/registry/a/access.log"},
					},
					"ANON": {
						Name:      "ANON",
						Host:      "127.0.0.1:20003",
						AccessLog: AccessLog{Path: "/tmp/e2eX/registry/anon/access.log"},
						Insecure:  true,
					},
				},
				Kubeconfig:           "/tmp/e2eX/apiserver/admin.kubeconfig",
				APIServerURL:         "https://127.0.0.1:20004",
				ServiceAccountIssuer: "https://kubernetes.default.svc.cluster.local",
			},
		},
		{
			name: "namespace defaults to the CRI plugin's",
			env:  map[string]string{"E2E_CONTAINERD_ENDPOINT": "unix:///run/containerd/containerd.sock"},
			want: &Config{
				ContainerdEndpoint:  "unix:///run/containerd/containerd.sock",
				ContainerdNamespace: "k8s.io",
				Registries:          map[string]*Registry{},
			},
		},
		{
			name: "bad insecure value",
			env: map[string]string{
				"E2E_CONTAINERD_ENDPOINT": "unix:///x.sock",
				"E2E_REGISTRY_B":          "registry.example:5000",
				"E2E_REGISTRY_B_INSECURE": "maybe",
			},
			wantErr: strconv.ErrSyntax,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ConfigFromEnv(tc.env)
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ConfigFromEnv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadConfigFromEnvFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env")
	content := "# written by hack/local-up-e2e-node.sh\n" +
		"E2E_CONTAINERD_ENDPOINT=unix:///tmp/e2eX/run/containerd.sock\n" +
		"\n" +
		"export E2E_REGISTRY_B=127.0.0.1:20002\n" +
		"E2E_REGISTRY_B_USER1=tenant-b-1\n" +
		"E2E_REGISTRY_B_PASS1=secret=with=equals\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	// Hide the environment of a run under hack/local-up-e2e-node.sh: empty
	// values count as unset.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "E2E_") {
			t.Setenv(k, "")
		}
	}
	t.Setenv(EnvFile, path)
	// A value set in the process wins over the file; an empty one does not.
	t.Setenv(EnvContainerdEndpoint, "")
	t.Setenv("E2E_REGISTRY_B_USER1", "from-process")

	cfg, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ContainerdEndpoint != "unix:///tmp/e2eX/run/containerd.sock" {
		t.Errorf("endpoint %q, want the file's", cfg.ContainerdEndpoint)
	}
	b, err := cfg.Registry(RegistryB)
	if err != nil {
		t.Fatal(err)
	}
	want := []Credential{{Username: "from-process", Password: "secret=with=equals"}}
	if diff := cmp.Diff(want, b.Users); diff != "" {
		t.Errorf("registry B users (-want +got):\n%s", diff)
	}
	if _, err := cfg.Registry(RegistryA); err == nil {
		t.Errorf("Registry(A) without E2E_REGISTRY_A: no error")
	}

	if err := os.WriteFile(path, []byte("not a pair\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(); err == nil {
		t.Errorf("LoadConfig with a malformed env file: no error")
	}
}

func TestConfigAddFlags(t *testing.T) {
	cfg, err := ConfigFromEnv(map[string]string{
		"E2E_CONTAINERD_ENDPOINT": "unix:///from/env.sock",
		"E2E_REGISTRY_A":          "127.0.0.1:20001",
		"E2E_REGISTRY_A_USER1":    "u",
		"E2E_REGISTRY_A_PASS1":    "p",
		"E2E_KUBECONFIG":          "/from/env.kubeconfig",
	})
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("e2e", flag.ContinueOnError)
	cfg.AddFlags(fs)
	if err := fs.Parse([]string{
		"--e2e-containerd-endpoint=unix:///run/containerd/containerd.sock",
		"--e2e-registry-a=registry.node.example:5000",
		"--e2e-registry-anon-access-log=/var/log/registry.json",
		"--e2e-kubeconfig=/etc/kubernetes/admin.conf",
	}); err != nil {
		t.Fatal(err)
	}
	if cfg.ContainerdEndpoint != "unix:///run/containerd/containerd.sock" {
		t.Errorf("endpoint %q after flags", cfg.ContainerdEndpoint)
	}
	a, err := cfg.Registry(RegistryA)
	if err != nil {
		t.Fatal(err)
	}
	if a.Host != "registry.node.example:5000" || len(a.Users) != 1 {
		t.Errorf("registry A after flags: %+v, want the flag's host and the environment's user", a)
	}
	if _, err := cfg.Registry(RegistryAnon); err == nil {
		t.Errorf("Registry(ANON) with only its access log set: no error")
	}
	if got := cfg.Registries[RegistryAnon].AccessLog.Path; got != "/var/log/registry.json" {
		t.Errorf("anonymous registry access log %q after flags", got)
	}
	if cfg.Kubeconfig != "/etc/kubernetes/admin.conf" {
		t.Errorf("kubeconfig %q after flags", cfg.Kubeconfig)
	}
}
