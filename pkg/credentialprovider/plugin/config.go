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

package plugin

import (
	"errors"
	"fmt"
	"os"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletconfigv1 "k8s.io/kubelet/config/v1"
	kubeletconfigv1alpha1 "k8s.io/kubelet/config/v1alpha1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// KindCredentialProviderConfig is the kind of a configuration file.
const KindCredentialProviderConfig = "CredentialProviderConfig"

// The configuration versions ReadConfig reads.
var (
	ConfigAPIVersionV1       = kubeletconfigv1.SchemeGroupVersion.String()
	ConfigAPIVersionV1beta1  = kubeletconfigv1beta1.SchemeGroupVersion.String()
	ConfigAPIVersionV1alpha1 = kubeletconfigv1alpha1.SchemeGroupVersion.String()
)

// ReadConfig reads a CredentialProviderConfig file: kind
// CredentialProviderConfig, apiVersion kubelet.config.k8s.io/v1, v1beta1 or
// v1alpha1, in YAML or JSON, decoded strictly (unknown, duplicate or
// wrongly cased fields are errors), and returns it as the v1 type. Older
// versions are converted field by field; tokenAttributes exists only in v1,
// so an older file that sets it is an unknown-field error. The result is
// not validated (see ValidateConfig). Errors wrap ErrInvalidConfig and name
// the file.
func ReadConfig(path string) (*kubeletconfigv1.CredentialProviderConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrInvalidConfig, path, err)
	}
	cfg, err := decodeConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrInvalidConfig, path, err)
	}
	return cfg, nil
}

// decodeConfig decodes a configuration of any supported version into v1.
func decodeConfig(data []byte) (*kubeletconfigv1.CredentialProviderConfig, error) {
	// YAMLToJSONStrict rejects duplicate keys; JSON is YAML, so both
	// formats go through it.
	jsonData, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, fmt.Errorf("not valid YAML or JSON: %w", err)
	}
	var typeMeta metav1.TypeMeta
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(jsonData, &typeMeta); err != nil {
		return nil, fmt.Errorf("not a %s object: %w", KindCredentialProviderConfig, err)
	}
	if typeMeta.Kind != KindCredentialProviderConfig {
		return nil, fmt.Errorf("kind is %q, want %q", typeMeta.Kind, KindCredentialProviderConfig)
	}
	switch typeMeta.APIVersion {
	case ConfigAPIVersionV1:
		cfg := &kubeletconfigv1.CredentialProviderConfig{}
		if err := unmarshalStrict(jsonData, cfg); err != nil {
			return nil, err
		}
		return cfg, nil
	case ConfigAPIVersionV1beta1:
		in := &kubeletconfigv1beta1.CredentialProviderConfig{}
		if err := unmarshalStrict(jsonData, in); err != nil {
			return nil, err
		}
		return convertV1beta1(in), nil
	case ConfigAPIVersionV1alpha1:
		in := &kubeletconfigv1alpha1.CredentialProviderConfig{}
		if err := unmarshalStrict(jsonData, in); err != nil {
			return nil, err
		}
		return convertV1alpha1(in), nil
	default:
		return nil, fmt.Errorf("apiVersion %q is not supported (supported: %s, %s, %s)",
			typeMeta.APIVersion, ConfigAPIVersionV1, ConfigAPIVersionV1beta1, ConfigAPIVersionV1alpha1)
	}
}

// unmarshalStrict decodes data into out, case-sensitively, and fails on
// unknown and duplicate fields.
func unmarshalStrict(data []byte, out any) error {
	strictErrs, err := sigsjson.UnmarshalStrict(data, out)
	if err != nil {
		return fmt.Errorf("decoding: %w", err)
	}
	if len(strictErrs) > 0 {
		return fmt.Errorf("strict decoding: %w", errors.Join(strictErrs...))
	}
	return nil
}

// v1Config starts a converted configuration.
func v1Config(n int) *kubeletconfigv1.CredentialProviderConfig {
	out := &kubeletconfigv1.CredentialProviderConfig{
		TypeMeta: metav1.TypeMeta{Kind: KindCredentialProviderConfig, APIVersion: ConfigAPIVersionV1},
	}
	if n > 0 {
		out.Providers = make([]kubeletconfigv1.CredentialProvider, 0, n)
	}
	return out
}

// convertV1beta1 converts field by field. The two versions differ only by
// v1's tokenAttributes, which v1beta1 cannot set.
func convertV1beta1(in *kubeletconfigv1beta1.CredentialProviderConfig) *kubeletconfigv1.CredentialProviderConfig {
	out := v1Config(len(in.Providers))
	for _, p := range in.Providers {
		var env []kubeletconfigv1.ExecEnvVar
		for _, e := range p.Env {
			env = append(env, kubeletconfigv1.ExecEnvVar{Name: e.Name, Value: e.Value})
		}
		out.Providers = append(out.Providers, kubeletconfigv1.CredentialProvider{
			Name:                 p.Name,
			MatchImages:          append([]string(nil), p.MatchImages...),
			DefaultCacheDuration: copyDuration(p.DefaultCacheDuration),
			APIVersion:           p.APIVersion,
			Args:                 append([]string(nil), p.Args...),
			Env:                  env,
		})
	}
	return out
}

// convertV1alpha1 converts field by field, as convertV1beta1.
func convertV1alpha1(in *kubeletconfigv1alpha1.CredentialProviderConfig) *kubeletconfigv1.CredentialProviderConfig {
	out := v1Config(len(in.Providers))
	for _, p := range in.Providers {
		var env []kubeletconfigv1.ExecEnvVar
		for _, e := range p.Env {
			env = append(env, kubeletconfigv1.ExecEnvVar{Name: e.Name, Value: e.Value})
		}
		out.Providers = append(out.Providers, kubeletconfigv1.CredentialProvider{
			Name:                 p.Name,
			MatchImages:          append([]string(nil), p.MatchImages...),
			DefaultCacheDuration: copyDuration(p.DefaultCacheDuration),
			APIVersion:           p.APIVersion,
			Args:                 append([]string(nil), p.Args...),
			Env:                  env,
		})
	}
	return out
}

func copyDuration(d *metav1.Duration) *metav1.Duration {
	if d == nil {
		return nil
	}
	c := *d
	return &c
}
