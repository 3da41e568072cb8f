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

package credentialprovider_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"k8s.io/kubernetes/pkg/credentialprovider"
)

// Markers in fuzz inputs that are replaced by the fuzzed password: as the
// inside of a JSON string, and as an `auth` value for user:password.
const (
	passwordMarker = "@PASSWORD@"
	authMarker     = "@AUTH@"
)

// withPassword replaces the markers in data by password.
func withPassword(data []byte, password string) []byte {
	quoted, _ := json.Marshal(password)
	inner := string(quoted[1 : len(quoted)-1])
	s := strings.ReplaceAll(string(data), passwordMarker, inner)
	s = strings.ReplaceAll(s, authMarker, base64.StdEncoding.EncodeToString([]byte("user:"+password)))
	return []byte(s)
}

// parseErrorPattern matches every message a *ParseError can have. The
// vocabulary is fixed and only offsets vary, so no input (a password, a
// registry key, a single character) can appear in one.
var parseErrorPattern = regexp.MustCompile(`^invalid docker config( \((config\.json|\.dockercfg) format\))?: ` +
	`(malformed JSON|unexpected JSON (string|number|bool|array|object) where (a string|an object|an array|a boolean|a value) was expected|` +
	`an entry's auth field is not valid base64|an entry's auth field does not decode to username:password)` +
	`( at byte offset [0-9]+)?$`)

func FuzzReadDockerConfigJSON(f *testing.F) {
	f.Add([]byte(`{"auths":{"reg.example":{"username":"u","password":"@PASSWORD@"}}}`), "p")
	f.Add([]byte(`{"auths":{"reg.example":{"auth":"@AUTH@","email":"e@example.com"}}}`), "s3cr3t")
	f.Add([]byte(`{"reg.example":{"auth":"@AUTH@"}}`), "pa:ss")
	f.Add([]byte(`{"auths":{"reg.example":{"password":"@PASSWORD@"`), "truncated")
	f.Add([]byte(`{"auths":{"reg.example":{"password":"@PASSWORD@"x}}}`), "garbage-after")
	f.Add([]byte(`{"auths":{"reg.example":{"password":@PASSWORD@}}}`), "12345678")
	f.Add([]byte(`{"auths":{"*.example.com:5000/team":{"auth":"@PASSWORD@"}}}`), "not base64!")
	f.Add([]byte(`{"auths":{"https://index.docker.io/v1/":{"auth":"@AUTH@"}}}`), "<&>\u2028\xff")

	f.Fuzz(func(t *testing.T, data []byte, password string) {
		input := withPassword(data, password)
		parsers := []struct {
			name  string
			parse func([]byte) (credentialprovider.DockerConfig, error)
		}{
			{name: "ParseDockerConfigJSON", parse: credentialprovider.ParseDockerConfigJSON},
			{name: "ParseDockercfg", parse: credentialprovider.ParseDockercfg},
			{name: "ParseDockerConfig", parse: credentialprovider.ParseDockerConfig},
		}
		for _, p := range parsers {
			cfg, err := p.parse(input)
			if err != nil {
				if !errors.Is(err, credentialprovider.ErrInvalidDockerConfig) {
					t.Fatalf("%s: error %v does not wrap ErrInvalidDockerConfig", p.name, err)
				}
				if !parseErrorPattern.MatchString(err.Error()) {
					t.Fatalf("%s: error %q is not from the fixed vocabulary: it may quote the input", p.name, err)
				}
				continue
			}

			keyring := &credentialprovider.BasicDockerKeyring{}
			keyring.Add(nil, cfg)
			for key := range cfg {
				// Keys are arbitrary strings: neither may panic.
				keyring.Lookup(key)
				keyring.Lookup(key + "/app:1")
			}

			// What MarshalJSON writes parses back to the same config,
			// unless a username holds a colon (which base64(user:pass)
			// cannot represent, in docker too).
			roundTrip := true
			for _, e := range cfg {
				if strings.Contains(e.Username, ":") {
					roundTrip = false
				}
			}
			if !roundTrip {
				continue
			}
			encoded, err := json.Marshal(credentialprovider.DockerConfigJSON{Auths: cfg})
			if err != nil {
				t.Fatalf("%s: json.Marshal() error: %v", p.name, err)
			}
			again, err := credentialprovider.ParseDockerConfigJSON(encoded)
			if err != nil {
				t.Fatalf("%s: parsing MarshalJSON output error: %v", p.name, err)
			}
			if diff := cmp.Diff(normalizeUTF8(cfg), normalizeUTF8(again)); diff != "" {
				t.Fatalf("%s: round trip mismatch (-want +got):\n%s", p.name, diff)
			}
		}
	})
}

// normalizeUTF8 replaces invalid UTF-8 in emails by U+FFFD: an email has
// no `auth` to carry its raw bytes, so encoding/json replaces them.
func normalizeUTF8(cfg credentialprovider.DockerConfig) credentialprovider.DockerConfig {
	out := make(credentialprovider.DockerConfig, len(cfg))
	for k, e := range cfg {
		e.Email = strings.ToValidUTF8(e.Email, "\uFFFD")
		out[k] = e
	}
	return out
}
