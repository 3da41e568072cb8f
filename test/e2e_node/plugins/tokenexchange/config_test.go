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
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletconfigv1 "k8s.io/kubelet/config/v1"
	credentialproviderv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
	"sigs.k8s.io/yaml"
)

func TestLoadConfig(t *testing.T) {
	want := &Config{
		Audience:         testAudience,
		TenantAnnotation: testAnnotation,
		ServiceAccounts:  map[string]string{"team-b/puller": "b"},
		Tenants: map[string]map[string]Credential{
			"a": {"127.0.0.1:5001": credA},
			"b": {"127.0.0.1:5002": credB},
		},
		Node:          map[string]Credential{"127.0.0.1:5001": credNode},
		CacheKeyType:  credentialproviderv1.RegistryPluginCacheKeyType,
		CacheDuration: &metav1.Duration{Duration: 5 * time.Minute},
	}
	for _, file := range []string{"testdata/config.json", "testdata/config.yaml"} {
		t.Run(file, func(t *testing.T) {
			got, err := LoadConfig(file)
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, []byte(`{"audience": "`+strings.Repeat("x", maxConfigBytes)+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing.json"), big} {
		if _, err := LoadConfig(path); err == nil {
			t.Errorf("LoadConfig(%s): no error", path)
		}
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name string
		data string
		// wantErr is a substring of the error; empty means valid.
		wantErr string
		check   func(t *testing.T, c *Config)
	}{
		{
			name: "empty config defaults the cache key to Image",
			data: `{}`,
			check: func(t *testing.T, c *Config) {
				if c.CacheKeyType != credentialproviderv1.ImagePluginCacheKeyType || c.CacheDuration != nil {
					t.Errorf("cacheKeyType %q, cacheDuration %v; want Image and none", c.CacheKeyType, c.CacheDuration)
				}
			},
		},
		{
			name: "zero cache duration is kept",
			data: `{"cacheDuration": "0s"}`,
			check: func(t *testing.T, c *Config) {
				if c.CacheDuration == nil || c.CacheDuration.Duration != 0 {
					t.Errorf("cacheDuration %v, want 0s", c.CacheDuration)
				}
			},
		},
		{
			name: "node mode needs no audience",
			data: `{"mode": "node", "fail": "hang"}`,
			check: func(t *testing.T, c *Config) {
				if c.Mode != ModeNode || c.Fail != FailHang {
					t.Errorf("mode %q, fail %q", c.Mode, c.Fail)
				}
			},
		},
		{name: "unknown field", data: `{"tenantAnotation": "x"}`, wantErr: "unknown field"},
		{name: "not JSON or YAML", data: `{"audience": [`, wantErr: "decoding config"},
		{name: "unknown mode", data: `{"mode": "cloud"}`, wantErr: `mode "cloud"`},
		{name: "serviceAccount mode without audience", data: `{"mode": "serviceAccount"}`, wantErr: "needs an audience"},
		{name: "unknown failure knob", data: `{"fail": "explode"}`, wantErr: `failure knob "explode"`},
		{name: "unknown cache key type", data: `{"cacheKeyType": "Token"}`, wantErr: `cacheKeyType "Token"`},
		{name: "negative cache duration", data: `{"cacheDuration": "-1m"}`, wantErr: "negative"},
		{name: "bad cache duration", data: `{"cacheDuration": "soon"}`, wantErr: "decoding config"},
		{
			name:    "service account key without namespace",
			data:    `{"serviceAccounts": {"puller": "a"}, "tenants": {"a": {"r:1": {"username": "u"}}}}`,
			wantErr: `"puller": want namespace/name`,
		},
		{
			name:    "service account mapped to a missing tenant",
			data:    `{"serviceAccounts": {"ns/puller": "z"}}`,
			wantErr: `tenant "z" is not in tenants`,
		},
		{name: "tenant without registries", data: `{"tenants": {"a": {}}}`, wantErr: "no registry"},
		{
			name:    "registry with a scheme",
			data:    `{"tenants": {"a": {"https://r:1": {"username": "u"}}}}`,
			wantErr: "want host[:port]",
		},
		{name: "node credential without user", data: `{"node": {"r:1": {"password": "p"}}}`, wantErr: "empty username"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tc.data))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseConfig: %v", err)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func TestConfigSecrets(t *testing.T) {
	got := testConfig(t).secrets()
	want := []string{"alice-password", "bob-password", "node-password"}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
}

// TestKubeletProviderConfig keeps the documented provider entry decodable
// and in step with testdata/config.json.
func TestKubeletProviderConfig(t *testing.T) {
	data, err := os.ReadFile("testdata/credential-provider-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var pc kubeletconfigv1.CredentialProviderConfig
	if err := yaml.UnmarshalStrict(data, &pc); err != nil {
		t.Fatalf("decoding: %v", err)
	}
	cfg, err := LoadConfig("testdata/config.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(pc.Providers) != 1 {
		t.Fatalf("%d providers, want 1", len(pc.Providers))
	}
	p := pc.Providers[0]
	if p.Name != binaryName || p.APIVersion != credentialproviderv1.SchemeGroupVersion.String() {
		t.Errorf("provider %q in %q, want %q in %q", p.Name, p.APIVersion, binaryName, credentialproviderv1.SchemeGroupVersion)
	}
	ta := p.TokenAttributes
	if ta == nil || ta.ServiceAccountTokenAudience != cfg.Audience || !slices.Equal(ta.RequiredServiceAccountAnnotationKeys, []string{cfg.TenantAnnotation}) {
		t.Errorf("tokenAttributes %+v, want audience %q and the required key %q", ta, cfg.Audience, cfg.TenantAnnotation)
	}
	for _, host := range []string{"127.0.0.1:5001", "127.0.0.1:5002"} {
		if !slices.Contains(p.MatchImages, host) {
			t.Errorf("matchImages %q lack %s", p.MatchImages, host)
		}
	}
}
