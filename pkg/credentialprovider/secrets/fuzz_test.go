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
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/kubernetes/pkg/credentialprovider"
	"k8s.io/kubernetes/pkg/credentialprovider/secrets"
)

// invalidSecretPattern matches every message MakePodKeyring can return for
// the fuzzed Secret team-a/fuzzed: fixed words, the Secret's name and byte
// offsets, and nothing from its content.
var invalidSecretPattern = regexp.MustCompile(`^invalid image pull secret "team-a/fuzzed": ` +
	`invalid docker config \((config\.json|\.dockercfg) format\): ` +
	`(malformed JSON|unexpected JSON (string|number|bool|array|object) where (a string|an object|an array|a boolean|a value) was expected|` +
	`an entry's auth field is not valid base64|an entry's auth field does not decode to username:password)` +
	`( at byte offset [0-9]+)?$`)

// fuzzContent replaces @PASSWORD@ in content by the JSON-escaped password
// and @AUTH@ by base64 of user:password.
func fuzzContent(content []byte, password string) string {
	quoted, _ := json.Marshal(password)
	s := strings.ReplaceAll(string(content), "@PASSWORD@", string(quoted[1:len(quoted)-1]))
	return strings.ReplaceAll(s, "@AUTH@", base64.StdEncoding.EncodeToString([]byte("user:"+password)))
}

func FuzzMakeDockerKeyring(f *testing.F) {
	f.Add(string(v1.SecretTypeDockerConfigJson), v1.DockerConfigJsonKey, []byte(`{"auths":{"reg.example":{"auth":"@AUTH@"}}}`), "s3cr3t", false)
	f.Add(string(v1.SecretTypeDockercfg), v1.DockerConfigKey, []byte(`{"reg.example":{"username":"u","password":"@PASSWORD@"}}`), "p", true)
	f.Add(string(v1.SecretTypeDockerConfigJson), v1.DockerConfigJsonKey, []byte(`{"auths":{"reg.example":{"password":@PASSWORD@}}}`), "12345678", false)
	f.Add(string(v1.SecretTypeDockerConfigJson), v1.DockerConfigJsonKey, []byte(`{"auths":{"reg.example":{"auth":"@PASSWORD@"}}}`), "not base64", true)
	f.Add(string(v1.SecretTypeOpaque), v1.DockerConfigJsonKey, []byte(`{"auths":{"reg.example":{"auth":"@AUTH@"}}}`), "opaque", false)
	f.Add(string(v1.SecretTypeDockercfg), v1.DockerConfigJsonKey, []byte(`{"reg.example":{"auth":"@AUTH@"}}`), "wrong key", false)

	f.Fuzz(func(t *testing.T, secretType, key string, content []byte, password string, useStringData bool) {
		s := v1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "fuzzed", UID: "uid-fuzzed"},
			Type:       v1.SecretType(secretType),
		}
		value := fuzzContent(content, password)
		if useStringData {
			s.StringData = map[string]string{key: value}
		} else {
			s.Data = map[string][]byte{key: []byte(value)}
		}

		got, err := secrets.MakePodKeyring([]v1.Secret{s}, nil)
		if err != nil {
			if got != nil {
				t.Fatalf("MakePodKeyring() returned a keyring with error %v", err)
			}
			if !errors.Is(err, secrets.ErrInvalidPullSecret) || !errors.Is(err, credentialprovider.ErrInvalidDockerConfig) {
				t.Fatalf("MakePodKeyring() error %v is not an invalid pull secret error", err)
			}
			if !invalidSecretPattern.MatchString(err.Error()) {
				t.Fatalf("MakePodKeyring() error %q is not from the fixed vocabulary: it may quote the Secret", err)
			}
			return
		}

		isRegistryType := s.Type == v1.SecretTypeDockerConfigJson || s.Type == v1.SecretTypeDockercfg
		if !isRegistryType {
			want := []secrets.SkippedSecret{{Namespace: "team-a", Name: "fuzzed", Type: s.Type, Reason: secrets.SkipReasonUnsupportedType}}
			if len(got.Skipped) != 1 || got.Skipped[0] != want[0] {
				t.Fatalf("Skipped = %+v, want %+v", got.Skipped, want)
			}
		}
		for _, image := range []string{"reg.example/app", "busybox", key} {
			creds, _ := got.Keyring.Lookup(image)
			for _, c := range creds {
				if c.Source == nil || c.Source.Secret == nil || *c.Source.Secret != (credentialprovider.SecretCoordinates{UID: "uid-fuzzed", Namespace: "team-a", Name: "fuzzed"}) {
					t.Fatalf("credential from %v, want Secret team-a/fuzzed", c.Source)
				}
				if c.AuthConfigHash != credentialprovider.HashAuthConfig(c.AuthConfig) {
					t.Fatalf("credential hash %s is not the hash of its credential", c.AuthConfigHash)
				}
			}
		}
	})
}
