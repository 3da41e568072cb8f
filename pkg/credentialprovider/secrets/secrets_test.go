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

package secrets_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"k8s.io/kubernetes/pkg/credentialprovider"
	"k8s.io/kubernetes/pkg/credentialprovider/secrets"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

const (
	// Credentials and their base64 `auth` values (printf 'tenant-a:s3cr3t-A' | base64).
	authA = "dGVuYW50LWE6czNjcjN0LUE="
	authB = "dGVuYW50LWI6czNjcjN0LUI="
	// passwordCanary is a password that errors must never contain.
	passwordCanary = "Canary-Pa55word"
)

var (
	credA    = credentialprovider.AuthConfig{Username: "tenant-a", Password: "s3cr3t-A"}
	credB    = credentialprovider.AuthConfig{Username: "tenant-b", Password: "s3cr3t-B"}
	credNode = credentialprovider.AuthConfig{Username: "node", Password: "n0de-pw"}
)

func secret(name string, secretType v1.SecretType, data map[string]string) v1.Secret {
	s := v1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: name, UID: types.UID("uid-" + name)},
		Type:       secretType,
		Data:       map[string][]byte{},
	}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func withStringData(s v1.Secret, data map[string]string) v1.Secret {
	s.StringData = data
	return s
}

func fromSecret(c credentialprovider.AuthConfig, name string) credentialprovider.TrackedAuthConfig {
	return credentialprovider.NewTrackedAuthConfig(c, &credentialprovider.CredentialSource{
		Secret: &credentialprovider.SecretCoordinates{UID: "uid-" + name, Namespace: "team-a", Name: name},
	})
}

func configJSON(registry, auth string) string {
	return `{"auths":{"` + registry + `":{"auth":"` + auth + `"}}}`
}

func dockercfg(registry, auth string) string {
	return `{"` + registry + `":{"auth":"` + auth + `"}}`
}

func TestMakePodKeyring(t *testing.T) {
	nodeKeyring := &credentialprovider.BasicDockerKeyring{}
	nodeKeyring.Add(nil, credentialprovider.DockerConfig{"reg.example": {Username: "node", Password: "n0de-pw"}})
	nodeCred := credentialprovider.NewTrackedAuthConfig(credNode, nil)

	tests := []struct {
		name        string
		secrets     []v1.Secret
		noDefault   bool
		image       string
		want        []credentialprovider.TrackedAuthConfig
		wantSkipped []secrets.SkippedSecret
	}{
		{
			name:    "no secrets: node credentials only",
			secrets: nil,
			image:   "reg.example/app",
			want:    []credentialprovider.TrackedAuthConfig{nodeCred},
		},
		{
			name:      "no secrets and no default keyring",
			secrets:   nil,
			noDefault: true,
			image:     "reg.example/app",
			want:      nil,
		},
		{
			name:    "dockerconfigjson before node credentials",
			secrets: []v1.Secret{secret("a", v1.SecretTypeDockerConfigJson, map[string]string{v1.DockerConfigJsonKey: configJSON("reg.example", authA)})},
			image:   "reg.example/team/app:1",
			want:    []credentialprovider.TrackedAuthConfig{fromSecret(credA, "a"), nodeCred},
		},
		{
			name:      "dockercfg",
			secrets:   []v1.Secret{secret("a", v1.SecretTypeDockercfg, map[string]string{v1.DockerConfigKey: dockercfg("reg.example", authA)})},
			noDefault: true,
			image:     "reg.example/app",
			want:      []credentialprovider.TrackedAuthConfig{fromSecret(credA, "a")},
		},
		{
			name: "stringData",
			secrets: []v1.Secret{withStringData(secret("a", v1.SecretTypeDockerConfigJson, nil),
				map[string]string{v1.DockerConfigJsonKey: configJSON("reg.example", authA)})},
			noDefault: true,
			image:     "reg.example/app",
			want:      []credentialprovider.TrackedAuthConfig{fromSecret(credA, "a")},
		},
		{
			name: "stringData wins over data",
			secrets: []v1.Secret{withStringData(
				secret("a", v1.SecretTypeDockerConfigJson, map[string]string{v1.DockerConfigJsonKey: configJSON("reg.example", authB)}),
				map[string]string{v1.DockerConfigJsonKey: configJSON("reg.example", authA)})},
			noDefault: true,
			image:     "reg.example/app",
			want:      []credentialprovider.TrackedAuthConfig{fromSecret(credA, "a")},
		},
		{
			name:      "a Secret that does not match the image",
			secrets:   []v1.Secret{secret("a", v1.SecretTypeDockerConfigJson, map[string]string{v1.DockerConfigJsonKey: configJSON("other.example", authA)})},
			noDefault: true,
			image:     "reg.example/app",
			want:      nil,
		},
		{
			name: "equal keys: the Secret listed first first",
			secrets: []v1.Secret{
				secret("b", v1.SecretTypeDockerConfigJson, map[string]string{v1.DockerConfigJsonKey: configJSON("https://reg.example/v2/", authB)}),
				secret("a", v1.SecretTypeDockercfg, map[string]string{v1.DockerConfigKey: dockercfg("reg.example", authA)}),
			},
			image: "reg.example/app",
			want:  []credentialprovider.TrackedAuthConfig{fromSecret(credB, "b"), fromSecret(credA, "a"), nodeCred},
		},
		{
			name: "across Secrets the more specific key first",
			secrets: []v1.Secret{
				secret("a", v1.SecretTypeDockerConfigJson, map[string]string{v1.DockerConfigJsonKey: configJSON("*.example", authA)}),
				secret("b", v1.SecretTypeDockerConfigJson, map[string]string{v1.DockerConfigJsonKey: configJSON("reg.example/team", authB)}),
			},
			image: "reg.example/team/app",
			want:  []credentialprovider.TrackedAuthConfig{fromSecret(credB, "b"), fromSecret(credA, "a"), nodeCred},
		},
		{
			name: "other types are skipped and reported",
			secrets: []v1.Secret{
				secret("opaque", v1.SecretTypeOpaque, map[string]string{v1.DockerConfigJsonKey: configJSON("reg.example", authB)}),
				secret("untyped", "", map[string]string{v1.DockerConfigKey: dockercfg("reg.example", authB)}),
				secret("token", v1.SecretTypeServiceAccountToken, map[string]string{"token": "x"}),
				secret("a", v1.SecretTypeDockerConfigJson, map[string]string{v1.DockerConfigJsonKey: configJSON("reg.example", authA)}),
			},
			noDefault: true,
			image:     "reg.example/app",
			want:      []credentialprovider.TrackedAuthConfig{fromSecret(credA, "a")},
			wantSkipped: []secrets.SkippedSecret{
				{Namespace: "team-a", Name: "opaque", Type: v1.SecretTypeOpaque, Reason: secrets.SkipReasonUnsupportedType},
				{Namespace: "team-a", Name: "untyped", Type: "", Reason: secrets.SkipReasonUnsupportedType},
				{Namespace: "team-a", Name: "token", Type: v1.SecretTypeServiceAccountToken, Reason: secrets.SkipReasonUnsupportedType},
			},
		},
		{
			name: "missing or empty keys are skipped and reported",
			secrets: []v1.Secret{
				secret("no-key", v1.SecretTypeDockerConfigJson, nil),
				secret("empty", v1.SecretTypeDockerConfigJson, map[string]string{v1.DockerConfigJsonKey: ""}),
				secret("other-format-key", v1.SecretTypeDockercfg, map[string]string{v1.DockerConfigJsonKey: configJSON("reg.example", authB)}),
				withStringData(secret("emptied", v1.SecretTypeDockerConfigJson, map[string]string{v1.DockerConfigJsonKey: configJSON("reg.example", authB)}),
					map[string]string{v1.DockerConfigJsonKey: ""}),
			},
			image: "reg.example/app",
			want:  []credentialprovider.TrackedAuthConfig{nodeCred},
			wantSkipped: []secrets.SkippedSecret{
				{Namespace: "team-a", Name: "no-key", Type: v1.SecretTypeDockerConfigJson, Reason: secrets.SkipReasonMissingKey},
				{Namespace: "team-a", Name: "empty", Type: v1.SecretTypeDockerConfigJson, Reason: secrets.SkipReasonMissingKey},
				{Namespace: "team-a", Name: "other-format-key", Type: v1.SecretTypeDockercfg, Reason: secrets.SkipReasonMissingKey},
				{Namespace: "team-a", Name: "emptied", Type: v1.SecretTypeDockerConfigJson, Reason: secrets.SkipReasonMissingKey},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var defaultKeyring credentialprovider.DockerKeyring = nodeKeyring
			if tc.noDefault {
				defaultKeyring = nil
			}
			got, err := secrets.MakePodKeyring(tc.secrets, defaultKeyring)
			if err != nil {
				t.Fatalf("MakePodKeyring() error: %v", err)
			}
			creds, found := got.Keyring.Lookup(tc.image)
			if found != (len(tc.want) > 0) {
				t.Errorf("Lookup() found = %v, want %v", found, len(tc.want) > 0)
			}
			if diff := cmp.Diff(tc.want, creds); diff != "" {
				t.Errorf("Lookup() mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantSkipped, got.Skipped); diff != "" {
				t.Errorf("Skipped mismatch (-want +got):\n%s", diff)
			}

			// MakeDockerKeyring is the same keyring without the report.
			keyring, err := secrets.MakeDockerKeyring(tc.secrets, defaultKeyring)
			if err != nil {
				t.Fatalf("MakeDockerKeyring() error: %v", err)
			}
			viaWrapper, _ := keyring.Lookup(tc.image)
			if diff := cmp.Diff(tc.want, viaWrapper); diff != "" {
				t.Errorf("MakeDockerKeyring Lookup() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHashOfSecretCredential pins the hash recorded for a Secret's
// credential to a value computed outside Go.
func TestHashOfSecretCredential(t *testing.T) {
	tests := []struct {
		name   string
		secret v1.Secret
		want   []kubeletconfig.ImagePullSecret
	}{
		{
			name:   "auth entry",
			secret: secret("a", v1.SecretTypeDockerConfigJson, map[string]string{v1.DockerConfigJsonKey: `{"auths":{"reg.example":{"auth":"dTpw"}}}`}),
			// printf '%s' '{"username":"u","password":"p"}' | sha256sum
			want: []kubeletconfig.ImagePullSecret{{UID: "uid-a", Namespace: "team-a", Name: "a", CredentialHash: "edbd57ca9372e64eb1c9070ecf3a049ac553596b0529acf034c7a71d4e618e88"}},
		},
		{
			name:   "username, password and email",
			secret: secret("a", v1.SecretTypeDockercfg, map[string]string{v1.DockerConfigKey: `{"reg.example":{"username":"u","password":"p","email":"e@example.com"}}`}),
			// printf '%s' '{"username":"u","password":"p","email":"e@example.com"}' | sha256sum
			want: []kubeletconfig.ImagePullSecret{{UID: "uid-a", Namespace: "team-a", Name: "a", CredentialHash: "638bed302c3f345b3378e23f50d5f34908da32cc4fc93258d0dd5f4a4101fc50"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keyring, err := secrets.MakeDockerKeyring([]v1.Secret{tc.secret}, nil)
			if err != nil {
				t.Fatalf("MakeDockerKeyring() error: %v", err)
			}
			creds, _ := keyring.Lookup("reg.example/app")
			if diff := cmp.Diff(tc.want, credentialprovider.ImagePullSecrets(creds)); diff != "" {
				t.Errorf("ImagePullSecrets() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMakePodKeyringInvalidSecrets(t *testing.T) {
	valid := secret("valid", v1.SecretTypeDockerConfigJson, map[string]string{v1.DockerConfigJsonKey: configJSON("reg.example", authA)})
	tests := []struct {
		name    string
		secrets []v1.Secret
		// wantNames are the namespace/name of every Secret the error names.
		wantNames []string
	}{
		{
			name:      "malformed JSON",
			secrets:   []v1.Secret{secret("broken", v1.SecretTypeDockerConfigJson, map[string]string{v1.DockerConfigJsonKey: `{"auths":{"reg.example":{"password":"` + passwordCanary})},
			wantNames: []string{"team-a/broken"},
		},
		{
			name:      "character after the password",
			secrets:   []v1.Secret{secret("broken", v1.SecretTypeDockercfg, map[string]string{v1.DockerConfigKey: `{"reg.example":{"password":"x"` + passwordCanary + `}}`})},
			wantNames: []string{"team-a/broken"},
		},
		{
			name:      "auth that is not base64",
			secrets:   []v1.Secret{secret("broken", v1.SecretTypeDockerConfigJson, map[string]string{v1.DockerConfigJsonKey: configJSON("reg.example", passwordCanary+"!")})},
			wantNames: []string{"team-a/broken"},
		},
		{
			name:      "auth without a colon",
			secrets:   []v1.Secret{secret("broken", v1.SecretTypeDockercfg, map[string]string{v1.DockerConfigKey: dockercfg("reg.example", "bm9jb2xvbg==")})},
			wantNames: []string{"team-a/broken"},
		},
		{
			name: "stringData that cannot be parsed",
			secrets: []v1.Secret{withStringData(secret("broken", v1.SecretTypeDockerConfigJson, nil),
				map[string]string{v1.DockerConfigJsonKey: `{"auths":{"reg.example":{"password":12345678}}}`})},
			wantNames: []string{"team-a/broken"},
		},
		{
			name:      "one broken Secret among valid ones grants nothing",
			secrets:   []v1.Secret{valid, secret("broken", v1.SecretTypeDockerConfigJson, map[string]string{v1.DockerConfigJsonKey: "not json " + passwordCanary})},
			wantNames: []string{"team-a/broken"},
		},
		{
			name: "every broken Secret is named",
			secrets: []v1.Secret{
				secret("broken-1", v1.SecretTypeDockerConfigJson, map[string]string{v1.DockerConfigJsonKey: passwordCanary}),
				valid,
				secret("broken-2", v1.SecretTypeDockercfg, map[string]string{v1.DockerConfigKey: `[` + passwordCanary}),
			},
			wantNames: []string{"team-a/broken-1", "team-a/broken-2"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := secrets.MakePodKeyring(tc.secrets, nil)
			if err == nil {
				t.Fatalf("MakePodKeyring() = %v, want an error", got)
			}
			if got != nil {
				t.Errorf("MakePodKeyring() returned a keyring with its error")
			}
			if !errors.Is(err, secrets.ErrInvalidPullSecret) {
				t.Errorf("error %v is not ErrInvalidPullSecret", err)
			}
			if !errors.Is(err, credentialprovider.ErrInvalidDockerConfig) {
				t.Errorf("error %v does not wrap ErrInvalidDockerConfig", err)
			}
			msg := err.Error()
			for _, name := range tc.wantNames {
				if !strings.Contains(msg, `"`+name+`"`) {
					t.Errorf("error %q does not name Secret %s", msg, name)
				}
			}
			if strings.Contains(msg, "team-a/valid") {
				t.Errorf("error %q names a valid Secret", msg)
			}
			var invalid *secrets.InvalidSecretError
			if !errors.As(err, &invalid) || invalid.Namespace != "team-a" || invalid.Name != strings.TrimPrefix(tc.wantNames[0], "team-a/") {
				t.Errorf("errors.As(*InvalidSecretError) = %+v, want %s", invalid, tc.wantNames[0])
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q spans several lines; it ends up in an event", msg)
			}
			for _, material := range []string{passwordCanary, "12345678", "reg.example", "nocolon", "not json", "s3cr3t"} {
				if strings.Contains(msg, material) {
					t.Errorf("error %q contains Secret content %q", msg, material)
				}
			}

			if _, err := secrets.MakeDockerKeyring(tc.secrets, nil); !errors.Is(err, secrets.ErrInvalidPullSecret) {
				t.Errorf("MakeDockerKeyring() error = %v, want ErrInvalidPullSecret", err)
			}
		})
	}
}

func TestSkippedNames(t *testing.T) {
	k := &secrets.PodKeyring{Skipped: []secrets.SkippedSecret{
		{Namespace: "team-a", Name: "opaque", Reason: secrets.SkipReasonUnsupportedType},
		{Namespace: "team-a", Name: "empty", Reason: secrets.SkipReasonMissingKey},
	}}
	if diff := cmp.Diff([]string{"opaque", "empty"}, k.SkippedNames()); diff != "" {
		t.Errorf("SkippedNames() mismatch (-want +got):\n%s", diff)
	}
}
