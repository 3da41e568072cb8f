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
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	kubeletconfigv1 "k8s.io/kubelet/config/v1"
	"k8s.io/utils/ptr"

	"k8s.io/kubernetes/pkg/credentialprovider/plugin"
)

// validationBinDir holds "ok" and "ok2" (executables), "noexec" (not
// executable) and "dir" (a directory).
func validationBinDir(t *testing.T) string {
	t.Helper()
	dir := binDir(t, "ok", "ok2")
	if err := os.WriteFile(filepath.Join(dir, "noexec"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func validProvider() kubeletconfigv1.CredentialProvider {
	return kubeletconfigv1.CredentialProvider{
		Name:                 "ok",
		MatchImages:          []string{"reg.example"},
		DefaultCacheDuration: &metav1.Duration{Duration: time.Minute},
		APIVersion:           plugin.ExecAPIVersionV1,
	}
}

func validTokenAttributes() *kubeletconfigv1.ServiceAccountTokenAttributes {
	return &kubeletconfigv1.ServiceAccountTokenAttributes{
		ServiceAccountTokenAudience: "registry.example",
		CacheType:                   kubeletconfigv1.TokenServiceAccountTokenCacheType,
		RequireServiceAccount:       ptr.To(true),
	}
}

func TestValidateConfig(t *testing.T) {
	tests := []struct {
		name string
		// mutate changes a config of one valid provider.
		mutate func(cfg *kubeletconfigv1.CredentialProviderConfig)
		// saTokensOff runs with the gate off (default on).
		saTokensOff bool
		// wantErrs are substrings of the error (each problem also names
		// the file); none means valid.
		wantErrs []string
		// problems is the number of problems, when not len(wantErrs).
		problems int
	}{
		{name: "valid", mutate: func(*kubeletconfigv1.CredentialProviderConfig) {}},
		{name: "valid with gate off", saTokensOff: true, mutate: func(*kubeletconfigv1.CredentialProviderConfig) {}},
		{
			name: "valid everything",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				p := &cfg.Providers[0]
				p.MatchImages = []string{"*.k8s.io", "k8s.*.io", "app*.k8s.io", "reg.example:5000", "reg.example:5000/team/app", "*.*.registry.io", "k8s.*", "localhost:5000", "127.0.0.1:5000", "[::1]:5000/x", "reg[0-9].example", "r?g.example"}
				p.DefaultCacheDuration = &metav1.Duration{}
				p.Args = []string{"--flag"}
				p.Env = []kubeletconfigv1.ExecEnvVar{{Name: "A", Value: ""}}
				p.TokenAttributes = validTokenAttributes()
				p.TokenAttributes.RequiredServiceAccountAnnotationKeys = []string{"example.com/role", "Simple"}
				p.TokenAttributes.OptionalServiceAccountAnnotationKeys = []string{"example.com/region"}
				q := validProvider()
				q.Name, q.APIVersion = "ok2", plugin.ExecAPIVersionV1alpha1
				cfg.Providers = append(cfg.Providers, q)
			},
		},
		{name: "no providers", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) { cfg.Providers = nil }, wantErrs: []string{"providers: required: at least one provider"}},
		{name: "name required", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) { cfg.Providers[0].Name = "" }, wantErrs: []string{"providers[0].name: required"}},
		{name: "name with a slash", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) { cfg.Providers[0].Name = "../ok" }, wantErrs: []string{`providers[0].name: invalid value "../ok": must be a file name`}},
		{name: "name absolute", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) { cfg.Providers[0].Name = "/bin/sh" }, wantErrs: []string{`providers[0].name: invalid value "/bin/sh"`}},
		{name: "name dot", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) { cfg.Providers[0].Name = "." }, wantErrs: []string{`providers[0].name: invalid value ".": must be a file name`}},
		{name: "name dot dot", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) { cfg.Providers[0].Name = ".." }, wantErrs: []string{`providers[0].name: invalid value "..": must be a file name`}},
		{name: "name not in bin dir", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) { cfg.Providers[0].Name = "absent" }, wantErrs: []string{`providers[0].name: invalid value "absent": no such plugin in`}},
		{name: "name not executable", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) { cfg.Providers[0].Name = "noexec" }, wantErrs: []string{`providers[0].name: invalid value "noexec"`, "is not executable"}, problems: 1},
		{name: "name a directory", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) { cfg.Providers[0].Name = "dir" }, wantErrs: []string{`providers[0].name: invalid value "dir"`, "is not a regular file"}, problems: 1},
		{
			name: "name duplicate",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers = append(cfg.Providers, validProvider())
			},
			wantErrs: []string{`providers[1].name: duplicate value "ok"`},
		},
		{name: "matchImages required", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) { cfg.Providers[0].MatchImages = nil }, wantErrs: []string{"providers[0].matchImages: required"}},
		{name: "matchImages empty entry", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
			cfg.Providers[0].MatchImages = []string{"a.io", ""}
		}, wantErrs: []string{"providers[0].matchImages[1]: required"}},
		{name: "matchImages scheme", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
			cfg.Providers[0].MatchImages = []string{"a.io", "https://b.io"}
		}, wantErrs: []string{`providers[0].matchImages[1]: invalid value "https://b.io": must not have a scheme`}},
		{name: "matchImages glob in port", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) { cfg.Providers[0].MatchImages = []string{"a.io:*"} }, wantErrs: []string{`providers[0].matchImages[0]: invalid value "a.io:*": the port must not be a glob`}},
		{name: "matchImages port not numeric", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
			cfg.Providers[0].MatchImages = []string{"a.io:http"}
		}, wantErrs: []string{`invalid value "a.io:http": the port must be a number`}},
		{name: "matchImages port out of range", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
			cfg.Providers[0].MatchImages = []string{"a.io:65536"}
		}, wantErrs: []string{`invalid value "a.io:65536": the port must be a number`}},
		{name: "matchImages port empty", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
			cfg.Providers[0].MatchImages = []string{"a.io:/x"}
		}, wantErrs: []string{`invalid value "a.io:/x": the port must be a number`}},
		{name: "matchImages glob in path", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
			cfg.Providers[0].MatchImages = []string{"a.io/team/*"}
		}, wantErrs: []string{`invalid value "a.io/team/*": the path must not contain globs`}},
		{name: "matchImages no host", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) { cfg.Providers[0].MatchImages = []string{"/path"} }, wantErrs: []string{`invalid value "/path": has no host`}},
		{name: "matchImages empty label", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) { cfg.Providers[0].MatchImages = []string{"a..io"} }, wantErrs: []string{`invalid value "a..io": has an empty host label`}},
		{name: "matchImages bad glob", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) { cfg.Providers[0].MatchImages = []string{"a[.io"} }, wantErrs: []string{`invalid value "a[.io": host label "a[" is not a valid glob`}},
		{name: "matchImages bad character", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) { cfg.Providers[0].MatchImages = []string{"a_b.io"} }, wantErrs: []string{`invalid value "a_b.io": host label "a_b" has the character '_'`}},
		{name: "matchImages white space", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) { cfg.Providers[0].MatchImages = []string{"a.io "} }, wantErrs: []string{`invalid value "a.io ": must not contain white space`}},
		{name: "matchImages bad IPv6", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
			cfg.Providers[0].MatchImages = []string{"[zz]:5000"}
		}, wantErrs: []string{`invalid value "[zz]:5000": has an invalid IPv6 address`}},
		{name: "defaultCacheDuration required", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) { cfg.Providers[0].DefaultCacheDuration = nil }, wantErrs: []string{"providers[0].defaultCacheDuration: required"}},
		{
			name: "defaultCacheDuration negative",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].DefaultCacheDuration = &metav1.Duration{Duration: -time.Second}
			},
			wantErrs: []string{`providers[0].defaultCacheDuration: invalid value "-1s": must be greater than or equal to 0`},
		},
		{name: "apiVersion required", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) { cfg.Providers[0].APIVersion = "" }, wantErrs: []string{"providers[0].apiVersion: required"}},
		{
			name: "apiVersion unsupported",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].APIVersion = "credentialprovider.kubelet.k8s.io/v2"
			},
			wantErrs: []string{`providers[0].apiVersion: unsupported value "credentialprovider.kubelet.k8s.io/v2": supported values: "credentialprovider.kubelet.k8s.io/v1"`},
		},
		{
			name: "apiVersion v1beta1 is fine",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].APIVersion = plugin.ExecAPIVersionV1beta1
			},
		},
		{
			name: "env name required",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].Env = []kubeletconfigv1.ExecEnvVar{{Name: "A"}, {Value: "v"}}
			},
			wantErrs: []string{"providers[0].env[1].name: required"},
		},
		{
			name:        "tokenAttributes with the gate off",
			saTokensOff: true,
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].TokenAttributes = validTokenAttributes()
			},
			wantErrs: []string{"providers[0].tokenAttributes: not allowed when the KubeletServiceAccountTokenForCredentialProviders feature gate is disabled"},
		},
		{
			name: "tokenAttributes with the gate off reports only that",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].TokenAttributes = &kubeletconfigv1.ServiceAccountTokenAttributes{}
			},
			saTokensOff: true,
			wantErrs:    []string{"providers[0].tokenAttributes: not allowed when the KubeletServiceAccountTokenForCredentialProviders feature gate is disabled"},
		},
		{name: "tokenAttributes valid", mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
			cfg.Providers[0].TokenAttributes = validTokenAttributes()
		}},
		{
			name: "tokenAttributes need v1",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].APIVersion = plugin.ExecAPIVersionV1beta1
				cfg.Providers[0].TokenAttributes = validTokenAttributes()
			},
			wantErrs: []string{`providers[0].tokenAttributes: only allowed with apiVersion credentialprovider.kubelet.k8s.io/v1, not "credentialprovider.kubelet.k8s.io/v1beta1"`},
		},
		{
			name: "tokenAttributes need v1, not v1alpha1",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].APIVersion = plugin.ExecAPIVersionV1alpha1
				cfg.Providers[0].TokenAttributes = validTokenAttributes()
			},
			wantErrs: []string{`not "credentialprovider.kubelet.k8s.io/v1alpha1"`},
		},
		{
			name: "audience required",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].TokenAttributes = validTokenAttributes()
				cfg.Providers[0].TokenAttributes.ServiceAccountTokenAudience = ""
			},
			wantErrs: []string{"providers[0].tokenAttributes.serviceAccountTokenAudience: required"},
		},
		{
			name: "cacheType required",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].TokenAttributes = validTokenAttributes()
				cfg.Providers[0].TokenAttributes.CacheType = ""
			},
			wantErrs: []string{"providers[0].tokenAttributes.cacheType: required"},
		},
		{
			name: "cacheType unsupported",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].TokenAttributes = validTokenAttributes()
				cfg.Providers[0].TokenAttributes.CacheType = "Pod"
			},
			wantErrs: []string{`providers[0].tokenAttributes.cacheType: unsupported value "Pod": supported values: "Token", "ServiceAccount"`},
		},
		{
			name: "requireServiceAccount required",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].TokenAttributes = validTokenAttributes()
				cfg.Providers[0].TokenAttributes.RequireServiceAccount = nil
			},
			wantErrs: []string{"providers[0].tokenAttributes.requireServiceAccount: required"},
		},
		{
			name: "requireServiceAccount false is fine without required keys",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].TokenAttributes = validTokenAttributes()
				cfg.Providers[0].TokenAttributes.RequireServiceAccount = ptr.To(false)
				cfg.Providers[0].TokenAttributes.OptionalServiceAccountAnnotationKeys = []string{"a.io/b"}
			},
		},
		{
			name: "required keys need requireServiceAccount",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].TokenAttributes = validTokenAttributes()
				cfg.Providers[0].TokenAttributes.RequireServiceAccount = ptr.To(false)
				cfg.Providers[0].TokenAttributes.RequiredServiceAccountAnnotationKeys = []string{"a.io/b"}
			},
			wantErrs: []string{"providers[0].tokenAttributes.requireServiceAccount: invalid value false: must be true when requiredServiceAccountAnnotationKeys is not empty"},
		},
		{
			name: "required key invalid",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].TokenAttributes = validTokenAttributes()
				cfg.Providers[0].TokenAttributes.RequiredServiceAccountAnnotationKeys = []string{"a.io/b", "bad key!"}
			},
			wantErrs: []string{`providers[0].tokenAttributes.requiredServiceAccountAnnotationKeys[1]: invalid value "bad key!"`},
		},
		{
			name: "optional key invalid",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].TokenAttributes = validTokenAttributes()
				cfg.Providers[0].TokenAttributes.OptionalServiceAccountAnnotationKeys = []string{"/b"}
			},
			wantErrs: []string{`providers[0].tokenAttributes.optionalServiceAccountAnnotationKeys[0]: invalid value "/b"`},
		},
		{
			name: "required key duplicate",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].TokenAttributes = validTokenAttributes()
				cfg.Providers[0].TokenAttributes.RequiredServiceAccountAnnotationKeys = []string{"a.io/b", "a.io/b"}
			},
			wantErrs: []string{`providers[0].tokenAttributes.requiredServiceAccountAnnotationKeys[1]: duplicate value "a.io/b"`},
		},
		{
			name: "optional key duplicate",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].TokenAttributes = validTokenAttributes()
				cfg.Providers[0].TokenAttributes.OptionalServiceAccountAnnotationKeys = []string{"x", "y", "x"}
			},
			wantErrs: []string{`providers[0].tokenAttributes.optionalServiceAccountAnnotationKeys[2]: duplicate value "x"`},
		},
		{
			name: "required and optional keys mutually exclusive",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].TokenAttributes = validTokenAttributes()
				cfg.Providers[0].TokenAttributes.RequiredServiceAccountAnnotationKeys = []string{"a.io/b"}
				cfg.Providers[0].TokenAttributes.OptionalServiceAccountAnnotationKeys = []string{"a.io/b"}
			},
			wantErrs: []string{`providers[0].tokenAttributes.optionalServiceAccountAnnotationKeys[0]: invalid value "a.io/b": must not also be in requiredServiceAccountAnnotationKeys`},
		},
		{
			name: "every problem reported",
			mutate: func(cfg *kubeletconfigv1.CredentialProviderConfig) {
				cfg.Providers[0].MatchImages = []string{"a.io", "http://b.io"}
				cfg.Providers[0].APIVersion = ""
				q := validProvider()
				q.Name = "absent"
				q.DefaultCacheDuration = nil
				cfg.Providers = append(cfg.Providers, q)
			},
			wantErrs: []string{
				`providers[0].matchImages[1]: invalid value "http://b.io"`,
				"providers[0].apiVersion: required",
				`providers[1].name: invalid value "absent"`,
				"providers[1].defaultCacheDuration: required",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := validationBinDir(t)
			const configPath = "/etc/kubernetes/credential-providers.yaml"
			cfg := &kubeletconfigv1.CredentialProviderConfig{Providers: []kubeletconfigv1.CredentialProvider{validProvider()}}
			tc.mutate(cfg)
			err := plugin.ValidateConfig(cfg, configPath, dir, !tc.saTokensOff)
			if len(tc.wantErrs) == 0 {
				if err != nil {
					t.Fatalf("ValidateConfig() error = %v, want none", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidateConfig() = nil, want errors %q", tc.wantErrs)
			}
			if !errors.Is(err, plugin.ErrInvalidConfig) {
				t.Errorf("ValidateConfig() error = %v, want errors.Is ErrInvalidConfig", err)
			}
			var agg utilerrors.Aggregate
			if !errors.As(err, &agg) {
				t.Fatalf("ValidateConfig() error is a %T, want an Aggregate", err)
			}
			members := agg.Errors()
			wantProblems := tc.problems
			if wantProblems == 0 {
				wantProblems = len(tc.wantErrs)
			}
			if len(members) != wantProblems {
				t.Errorf("ValidateConfig() = %d problems, want %d: %v", len(members), wantProblems, err)
			}
			for _, want := range tc.wantErrs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("ValidateConfig() error = %q\nwant it to contain %q", err, want)
				}
			}
			for _, m := range members {
				if !strings.Contains(m.Error(), configPath) {
					t.Errorf("problem %q does not name the config file", m)
				}
				if !errors.Is(m, plugin.ErrInvalidConfig) {
					t.Errorf("problem %v does not wrap ErrInvalidConfig", m)
				}
			}
		})
	}
}

func TestValidateConfigNoBinDir(t *testing.T) {
	cfg := &kubeletconfigv1.CredentialProviderConfig{Providers: []kubeletconfigv1.CredentialProvider{validProvider()}}
	err := plugin.ValidateConfig(cfg, "c.yaml", "", true)
	if err == nil || !strings.Contains(err.Error(), "--image-credential-provider-bin-dir") {
		t.Errorf("ValidateConfig() error = %v, want one naming --image-credential-provider-bin-dir", err)
	}
}
