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
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletconfigv1 "k8s.io/kubelet/config/v1"
	"k8s.io/utils/ptr"

	"k8s.io/kubernetes/pkg/credentialprovider/plugin"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("writing %s: %v", name, err)
	}
	return path
}

func TestReadConfig(t *testing.T) {
	basic := func(apiVersion string) *kubeletconfigv1.CredentialProviderConfig {
		return &kubeletconfigv1.CredentialProviderConfig{
			TypeMeta: metav1.TypeMeta{Kind: "CredentialProviderConfig", APIVersion: "kubelet.config.k8s.io/v1"},
			Providers: []kubeletconfigv1.CredentialProvider{{
				Name:                 "ecr",
				MatchImages:          []string{"*.dkr.ecr.*.amazonaws.com", "registry.io:8080/path"},
				DefaultCacheDuration: &metav1.Duration{Duration: 12 * time.Hour},
				APIVersion:           apiVersion,
				Args:                 []string{"get-credentials"},
				Env:                  []kubeletconfigv1.ExecEnvVar{{Name: "AWS_PROFILE", Value: "node"}},
			}},
		}
	}
	withTokens := basic("credentialprovider.kubelet.k8s.io/v1")
	withTokens.Providers[0].TokenAttributes = &kubeletconfigv1.ServiceAccountTokenAttributes{
		ServiceAccountTokenAudience:          "registry.example",
		CacheType:                            kubeletconfigv1.ServiceAccountServiceAccountTokenCacheType,
		RequireServiceAccount:                ptr.To(true),
		RequiredServiceAccountAnnotationKeys: []string{"example.com/role"},
		OptionalServiceAccountAnnotationKeys: []string{"example.com/region"},
	}
	const providerYAML = `
providers:
- name: ecr
  matchImages:
  - "*.dkr.ecr.*.amazonaws.com"
  - registry.io:8080/path
  defaultCacheDuration: 12h
  apiVersion: credentialprovider.kubelet.k8s.io/%s
  args: [get-credentials]
  env:
  - name: AWS_PROFILE
    value: node
`
	yamlOf := func(configVersion, execVersion string) string {
		return "kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/" + configVersion +
			strings.ReplaceAll(providerYAML, "%s", execVersion)
	}
	tests := []struct {
		name    string
		content string
		want    *kubeletconfigv1.CredentialProviderConfig
		// wantErr is a substring of the error; the error must also name
		// the file and wrap ErrInvalidConfig.
		wantErr string
	}{
		{name: "v1 YAML", content: yamlOf("v1", "v1"), want: basic("credentialprovider.kubelet.k8s.io/v1")},
		{name: "v1beta1 YAML converted", content: yamlOf("v1beta1", "v1beta1"), want: basic("credentialprovider.kubelet.k8s.io/v1beta1")},
		{name: "v1alpha1 YAML converted", content: yamlOf("v1alpha1", "v1alpha1"), want: basic("credentialprovider.kubelet.k8s.io/v1alpha1")},
		{
			name: "v1 JSON",
			content: `{"kind":"CredentialProviderConfig","apiVersion":"kubelet.config.k8s.io/v1","providers":[{"name":"ecr",` +
				`"matchImages":["*.dkr.ecr.*.amazonaws.com","registry.io:8080/path"],"defaultCacheDuration":"12h",` +
				`"apiVersion":"credentialprovider.kubelet.k8s.io/v1","args":["get-credentials"],"env":[{"name":"AWS_PROFILE","value":"node"}]}]}`,
			want: basic("credentialprovider.kubelet.k8s.io/v1"),
		},
		{
			name: "v1beta1 JSON converted",
			content: `{"kind":"CredentialProviderConfig","apiVersion":"kubelet.config.k8s.io/v1beta1","providers":[{"name":"ecr",` +
				`"matchImages":["*.dkr.ecr.*.amazonaws.com","registry.io:8080/path"],"defaultCacheDuration":"12h",` +
				`"apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","args":["get-credentials"],"env":[{"name":"AWS_PROFILE","value":"node"}]}]}`,
			want: basic("credentialprovider.kubelet.k8s.io/v1beta1"),
		},
		{
			name: "v1 with tokenAttributes",
			content: yamlOf("v1", "v1") + `  tokenAttributes:
    serviceAccountTokenAudience: registry.example
    cacheType: ServiceAccount
    requireServiceAccount: true
    requiredServiceAccountAnnotationKeys: [example.com/role]
    optionalServiceAccountAnnotationKeys: [example.com/region]
`,
			want: withTokens,
		},
		{
			name:    "no providers decodes (validation rejects it)",
			content: "kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v1\n",
			want:    &kubeletconfigv1.CredentialProviderConfig{TypeMeta: metav1.TypeMeta{Kind: "CredentialProviderConfig", APIVersion: "kubelet.config.k8s.io/v1"}},
		},
		{
			name:    "tokenAttributes do not exist in v1beta1",
			content: yamlOf("v1beta1", "v1") + "  tokenAttributes:\n    cacheType: Token\n",
			wantErr: `unknown field "providers[0].tokenAttributes"`,
		},
		{
			name:    "tokenAttributes do not exist in v1alpha1",
			content: yamlOf("v1alpha1", "v1") + "  tokenAttributes:\n    cacheType: Token\n",
			wantErr: `unknown field "providers[0].tokenAttributes"`,
		},
		{name: "unknown top-level field", content: yamlOf("v1", "v1") + "extra: 1\n", wantErr: `unknown field "extra"`},
		{name: "unknown provider field", content: yamlOf("v1", "v1") + "  cacheDuration: 1h\n", wantErr: `unknown field "providers[0].cacheDuration"`},
		{name: "wrongly cased field", content: strings.Replace(yamlOf("v1", "v1"), "matchImages", "MatchImages", 1), wantErr: `unknown field "providers[0].MatchImages"`},
		{name: "duplicate YAML key", content: yamlOf("v1", "v1") + "  name: other\n", wantErr: `"name" already set`},
		{
			name: "duplicate JSON key",
			content: `{"kind":"CredentialProviderConfig","apiVersion":"kubelet.config.k8s.io/v1","providers":[{"name":"a","name":"b",` +
				`"matchImages":["x.io"],"defaultCacheDuration":"1h","apiVersion":"credentialprovider.kubelet.k8s.io/v1"}]}`,
			wantErr: `"name" already set`,
		},
		{name: "wrong kind", content: strings.Replace(yamlOf("v1", "v1"), "kind: CredentialProviderConfig", "kind: KubeletConfiguration", 1), wantErr: `kind is "KubeletConfiguration", want "CredentialProviderConfig"`},
		{name: "no kind", content: "apiVersion: kubelet.config.k8s.io/v1\nproviders: []\n", wantErr: `kind is "", want`},
		{name: "unsupported apiVersion", content: yamlOf("v2", "v1"), wantErr: `apiVersion "kubelet.config.k8s.io/v2" is not supported`},
		{name: "not YAML", content: "providers: [\n", wantErr: "not valid YAML or JSON"},
		{name: "wrong type", content: strings.Replace(yamlOf("v1", "v1"), "args: [get-credentials]", "args: 3", 1), wantErr: "decoding"},
		{name: "empty file", content: "", wantErr: `kind is ""`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "config.yaml", tc.content)
			got, err := plugin.ReadConfig(path)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("ReadConfig() = %+v, want an error containing %q", got, tc.wantErr)
				}
				for _, want := range []string{tc.wantErr, path} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("ReadConfig() error = %q, want it to contain %q", err, want)
					}
				}
				if !errors.Is(err, plugin.ErrInvalidConfig) {
					t.Errorf("ReadConfig() error = %v, want errors.Is ErrInvalidConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadConfig() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ReadConfig() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadConfigMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.yaml")
	_, err := plugin.ReadConfig(path)
	if !errors.Is(err, plugin.ErrInvalidConfig) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadConfig() error = %v, want ErrInvalidConfig and fs.ErrNotExist", err)
	}
	if err != nil && !strings.Contains(err.Error(), path) {
		t.Errorf("ReadConfig() error = %q, want it to name %s", err, path)
	}
}
