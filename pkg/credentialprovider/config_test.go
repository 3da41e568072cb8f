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
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"k8s.io/kubernetes/pkg/credentialprovider"
)

// secretMaterial is a password used by inputs whose errors must not echo it.
const secretMaterial = "s3cr3t-P4ss"

func TestParseDockerConfig(t *testing.T) {
	type parser struct {
		name  string
		parse func([]byte) (credentialprovider.DockerConfig, error)
	}
	jsonParsers := []parser{
		{name: "ParseDockerConfigJSON", parse: credentialprovider.ParseDockerConfigJSON},
		{name: "ParseDockerConfig", parse: credentialprovider.ParseDockerConfig},
	}
	legacyParsers := []parser{
		{name: "ParseDockercfg", parse: credentialprovider.ParseDockercfg},
		{name: "ParseDockerConfig", parse: credentialprovider.ParseDockerConfig},
	}

	tests := []struct {
		name    string
		parsers []parser
		data    string
		want    credentialprovider.DockerConfig
		// wantErr is a substring of the expected error; "" means success.
		wantErr string
	}{
		{
			name:    "config.json with username and password",
			parsers: jsonParsers,
			data:    `{"auths":{"reg.example":{"username":"u","password":"p","email":"e@example.com"}}}`,
			want:    credentialprovider.DockerConfig{"reg.example": {Username: "u", Password: "p", Email: "e@example.com"}},
		},
		{
			name:    "config.json with auth only",
			parsers: jsonParsers,
			data:    `{"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"}}}`,
			want:    credentialprovider.DockerConfig{"https://index.docker.io/v1/": {Username: "u", Password: "p"}},
		},
		{
			name:    "config.json auth wins over username and password",
			parsers: jsonParsers,
			data:    `{"auths":{"reg.example":{"auth":"dTpw","username":"x","password":"y"}}}`,
			want:    credentialprovider.DockerConfig{"reg.example": {Username: "u", Password: "p"}},
		},
		{
			name:    "config.json unpadded auth",
			parsers: jsonParsers,
			data:    `{"auths":{"reg.example":{"auth":"dXNlcjpwYTpzcw"}}}`,
			want:    credentialprovider.DockerConfig{"reg.example": {Username: "user", Password: "pa:ss"}},
		},
		{
			name:    "config.json with other members and several registries",
			parsers: jsonParsers,
			data:    `{"auths":{"a.example":{"auth":"dTpw"},"b.example:5000":{"username":"b"}},"credsStore":"desktop","HttpHeaders":{"X":"y"}}`,
			want: credentialprovider.DockerConfig{
				"a.example":      {Username: "u", Password: "p"},
				"b.example:5000": {Username: "b"},
			},
		},
		{
			name:    "config.json with null auths",
			parsers: jsonParsers,
			data:    `{"auths":null}`,
			want:    credentialprovider.DockerConfig{},
		},
		{
			name:    "legacy dockercfg",
			parsers: legacyParsers,
			data:    `{"reg.example":{"auth":"dTpw","email":"e@example.com"},"other.example":{"username":"o","password":"q"}}`,
			want: credentialprovider.DockerConfig{
				"reg.example":   {Username: "u", Password: "p", Email: "e@example.com"},
				"other.example": {Username: "o", Password: "q"},
			},
		},
		{
			name:    "legacy empty",
			parsers: legacyParsers,
			data:    `{}`,
			want:    credentialprovider.DockerConfig{},
		},
		{
			name:    "legacy auth that is not base64",
			parsers: legacyParsers,
			data:    `{"reg.example":{"auth":"` + secretMaterial + `!!"}}`,
			wantErr: "auth field is not valid base64",
		},
		{
			name:    "legacy registry key holding a number",
			parsers: legacyParsers,
			data:    `{"reg.example":73217321}`,
			wantErr: "unexpected JSON number where an object was expected",
		},
		{
			name:    "auth that is not base64",
			parsers: jsonParsers,
			data:    `{"auths":{"reg.example":{"auth":"` + secretMaterial + `!!"}}}`,
			wantErr: "auth field is not valid base64",
		},
		{
			name:    "auth without a colon",
			parsers: jsonParsers,
			data:    `{"auths":{"reg.example":{"auth":"bm9jb2xvbg=="}}}`,
			wantErr: "does not decode to username:password",
		},
		{
			name:    "malformed JSON",
			parsers: append(jsonParsers, legacyParsers[0]),
			data:    `{"auths":{"reg.example":{"password":"` + secretMaterial + `"`,
			wantErr: "malformed JSON",
		},
		{
			name:    "invalid character right after a password",
			parsers: append(jsonParsers, legacyParsers[0]),
			data:    `{"auths":{"reg.example":{"password":"x"` + secretMaterial + `}}}`,
			wantErr: "malformed JSON at byte offset",
		},
		{
			name:    "number where a password belongs",
			parsers: jsonParsers,
			data:    `{"auths":{"reg.example":{"password":73217321}}}`,
			wantErr: "unexpected JSON number where a string was expected",
		},
		{
			name:    "registry key holding a string",
			parsers: jsonParsers,
			data:    `{"auths":{"reg.example":"` + secretMaterial + `"}}`,
			wantErr: "unexpected JSON string where an object was expected",
		},
		{
			name:    "empty",
			parsers: append(jsonParsers, legacyParsers...),
			data:    ``,
			wantErr: "malformed JSON",
		},
		{
			name:    "not an object",
			parsers: append(jsonParsers, legacyParsers...),
			data:    `["` + secretMaterial + `"]`,
			wantErr: "unexpected JSON array",
		},
	}
	for _, tc := range tests {
		for _, p := range tc.parsers {
			t.Run(tc.name+"/"+p.name, func(t *testing.T) {
				got, err := p.parse([]byte(tc.data))
				if tc.wantErr == "" {
					if err != nil {
						t.Fatalf("unexpected error: %v", err)
					}
					if diff := cmp.Diff(tc.want, got); diff != "" {
						t.Errorf("config mismatch (-want +got):\n%s", diff)
					}
					return
				}
				if err == nil {
					t.Fatalf("got no error, want one containing %q", tc.wantErr)
				}
				if !errors.Is(err, credentialprovider.ErrInvalidDockerConfig) {
					t.Errorf("error %v does not wrap ErrInvalidDockerConfig", err)
				}
				var parseErr *credentialprovider.ParseError
				if !errors.As(err, &parseErr) {
					t.Errorf("error %v is not a *ParseError", err)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q does not contain %q", err, tc.wantErr)
				}
				for _, material := range []string{secretMaterial, "73217321", "reg.example", "nocolon"} {
					if strings.Contains(err.Error(), material) {
						t.Errorf("error %q echoes input %q", err, material)
					}
				}
			})
		}
	}
}

func TestDockerConfigEntryJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		entry credentialprovider.DockerConfigEntry
	}{
		{name: "username and password", entry: credentialprovider.DockerConfigEntry{Username: "u", Password: "p"}},
		{name: "colon in password and email", entry: credentialprovider.DockerConfigEntry{Username: "u", Password: "a:b", Email: "e@example.com"}},
		{name: "email only", entry: credentialprovider.DockerConfigEntry{Email: "e@example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := credentialprovider.DockerConfigJSON{Auths: credentialprovider.DockerConfig{"reg.example": tc.entry}}
			data, err := json.Marshal(in)
			if err != nil {
				t.Fatalf("json.Marshal() error: %v", err)
			}
			viaParser, err := credentialprovider.ParseDockerConfigJSON(data)
			if err != nil {
				t.Fatalf("ParseDockerConfigJSON(%s) error: %v", data, err)
			}
			if diff := cmp.Diff(in.Auths, viaParser); diff != "" {
				t.Errorf("ParseDockerConfigJSON round trip mismatch (-want +got):\n%s", diff)
			}
			var viaUnmarshal credentialprovider.DockerConfigJSON
			if err := json.Unmarshal(data, &viaUnmarshal); err != nil {
				t.Fatalf("json.Unmarshal(%s) error: %v", data, err)
			}
			if diff := cmp.Diff(in, viaUnmarshal); diff != "" {
				t.Errorf("json.Unmarshal round trip mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDockerConfigEntryUnmarshalJSONErrors(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{name: "bad base64", data: `{"auths":{"reg.example":{"auth":"` + secretMaterial + `!"}}}`},
		{name: "number password", data: `{"auths":{"reg.example":{"password":73217321}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cfg credentialprovider.DockerConfigJSON
			err := json.Unmarshal([]byte(tc.data), &cfg)
			if !errors.Is(err, credentialprovider.ErrInvalidDockerConfig) {
				t.Fatalf("json.Unmarshal() error = %v, want ErrInvalidDockerConfig", err)
			}
			for _, material := range []string{secretMaterial, "73217321"} {
				if strings.Contains(err.Error(), material) {
					t.Errorf("error %q echoes input %q", err, material)
				}
			}
		})
	}
}

func TestReadDockerConfigFile(t *testing.T) {
	const (
		configJSON = `{"auths":{"reg.example":{"auth":"dTpw"}}}`
		dockercfg  = `{"reg.example":{"auth":"dTpw"}}`
	)
	want := credentialprovider.DockerConfig{"reg.example": {Username: "u", Password: "p"}}
	tests := []struct {
		name     string
		fileName string
		content  string
		want     credentialprovider.DockerConfig
		// wantErr is matched with errors.Is; nil means success.
		wantErr error
	}{
		{name: "config.json", fileName: "config.json", content: configJSON, want: want},
		{name: "dockercfg", fileName: ".dockercfg", content: dockercfg, want: want},
		{name: "other name, config.json content", fileName: "creds", content: configJSON, want: want},
		{name: "other name, dockercfg content", fileName: "creds", content: dockercfg, want: want},
		{name: "config.json with only a credential store", fileName: "config.json", content: `{"credsStore":"desktop"}`, want: credentialprovider.DockerConfig{}},
		{name: "config.json is never read as dockercfg", fileName: "config.json", content: dockercfg, want: credentialprovider.DockerConfig{}},
		{name: "broken", fileName: "config.json", content: `{"auths":{"reg.example":{"password":"` + secretMaterial, wantErr: credentialprovider.ErrInvalidDockerConfig},
		{name: "missing", fileName: "", wantErr: fs.ErrNotExist},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "absent")
			if tc.fileName != "" {
				path = filepath.Join(t.TempDir(), tc.fileName)
				if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := credentialprovider.ReadDockerConfigFile(path)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("ReadDockerConfigFile() error = %v, want %v", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), secretMaterial) {
					t.Errorf("error %q echoes the file's content", err)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name the file %s", err, path)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadDockerConfigFile() error: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ReadDockerConfigFile() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
