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

package credentialprovider

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DockerConfig maps registry keys (see the package doc) to credentials. It
// is the legacy `.dockercfg` format and the `auths` member of `config.json`.
type DockerConfig map[string]DockerConfigEntry

// DockerConfigEntry is one registry's credentials. When decoded from JSON,
// an `auth` member (base64 of `username:password`) replaces Username and
// Password.
type DockerConfigEntry struct {
	Username string
	Password string
	Email    string
}

// DockerConfigJSON is the `config.json` / `.dockerconfigjson` format.
type DockerConfigJSON struct {
	Auths DockerConfig `json:"auths"`
}

// AuthConfig returns the credential the entry stands for. The `auth` member
// was decoded into Username and Password and is deliberately not set, so
// that the credential hashes like released kubelets' hashes.
func (e DockerConfigEntry) AuthConfig() AuthConfig {
	return AuthConfig{Username: e.Username, Password: e.Password, Email: e.Email}
}

// rawDockerConfigEntry is an entry as written on disk.
type rawDockerConfigEntry struct {
	Auth     string `json:"auth,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Email    string `json:"email,omitempty"`
}

// entry decodes r's auth member, which wins over username and password.
func (r rawDockerConfigEntry) entry() (DockerConfigEntry, error) {
	e := DockerConfigEntry{Username: r.Username, Password: r.Password, Email: r.Email}
	if r.Auth == "" {
		return e, nil
	}
	var err error
	e.Username, e.Password, err = decodeAuthField(r.Auth)
	return e, err
}

// decodeAuthField decodes base64(username:password), padded or not (both
// appear in configs written by hand and by tools). Errors are fixed strings:
// the field is a credential.
func decodeAuthField(field string) (username, password string, err error) {
	encoding := base64.RawStdEncoding
	if strings.HasSuffix(field, "=") {
		encoding = base64.StdEncoding
	}
	decoded, err := encoding.DecodeString(field)
	if err != nil {
		return "", "", &authError{reason: reasonAuthNotBase64}
	}
	username, password, found := strings.Cut(string(decoded), ":")
	if !found {
		return "", "", &authError{reason: reasonAuthNoSeparator}
	}
	return username, password, nil
}

// UnmarshalJSON decodes an entry, including its `auth` member. Errors never
// quote the input.
func (e *DockerConfigEntry) UnmarshalJSON(data []byte) error {
	// The format is left out of errors: an entry is the same in both.
	var raw rawDockerConfigEntry
	if err := json.Unmarshal(data, &raw); err != nil {
		return sanitizeJSONError("", err)
	}
	decoded, err := raw.entry()
	if err != nil {
		return sanitizeJSONError("", err)
	}
	*e = decoded
	return nil
}

// MarshalJSON encodes the entry with an `auth` member, as docker writes it,
// so that tests and tools can build Secrets and files from a DockerConfig.
// The output contains the credential: never log it.
func (e DockerConfigEntry) MarshalJSON() ([]byte, error) {
	raw := rawDockerConfigEntry{Username: e.Username, Password: e.Password, Email: e.Email}
	if e.Username != "" || e.Password != "" {
		raw.Auth = base64.StdEncoding.EncodeToString([]byte(e.Username + ":" + e.Password))
	}
	return json.Marshal(raw)
}

// String redacts the credential.
func (e DockerConfigEntry) String() string {
	return fmt.Sprintf("DockerConfigEntry{Username:%s, Password:%s, Email:%s}", redact(e.Username), redact(e.Password), redact(e.Email))
}

// GoString makes %#v as safe as %v.
func (e DockerConfigEntry) GoString() string { return e.String() }

// MarshalLog implements logr.Marshaler so that structured loggers print the
// redacted form.
func (e DockerConfigEntry) MarshalLog() any { return e.String() }

// MarshalLog implements logr.Marshaler: structured loggers would otherwise
// encode the map with each entry's MarshalJSON, credentials included.
func (c DockerConfig) MarshalLog() any {
	out := make(map[string]string, len(c))
	for key, e := range c {
		out[key] = e.String()
	}
	return out
}

// MarshalLog implements logr.Marshaler, for the same reason as
// DockerConfig.MarshalLog.
func (c DockerConfigJSON) MarshalLog() any {
	return map[string]any{"auths": c.Auths.MarshalLog()}
}

// toDockerConfig decodes every entry of raw.
func toDockerConfig(format Format, raw map[string]rawDockerConfigEntry) (DockerConfig, error) {
	cfg := make(DockerConfig, len(raw))
	for key, r := range raw {
		e, err := r.entry()
		if err != nil {
			return nil, sanitizeJSONError(format, err)
		}
		cfg[key] = e
	}
	return cfg, nil
}

// ParseDockerConfigJSON parses the `config.json` / `.dockerconfigjson`
// format. Content without `auths` yields an empty config. Errors are
// *ParseError and never quote data.
func ParseDockerConfigJSON(data []byte) (DockerConfig, error) {
	var doc struct {
		Auths map[string]rawDockerConfigEntry `json:"auths"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, sanitizeJSONError(FormatDockerConfigJSON, err)
	}
	return toDockerConfig(FormatDockerConfigJSON, doc.Auths)
}

// ParseDockercfg parses the legacy `.dockercfg` format. Errors are
// *ParseError and never quote data.
func ParseDockercfg(data []byte) (DockerConfig, error) {
	var raw map[string]rawDockerConfigEntry
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, sanitizeJSONError(FormatDockercfg, err)
	}
	return toDockerConfig(FormatDockercfg, raw)
}

// ParseDockerConfig parses either format: content with a top-level `auths`
// member is `config.json`, anything else `.dockercfg`. A legacy file with a
// registry literally named "auths" cannot exist in practice.
func ParseDockerConfig(data []byte) (DockerConfig, error) {
	// The probe matches "auths" the way decoding does (case-insensitively).
	var probe struct {
		Auths json.RawMessage `json:"auths"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, sanitizeJSONError("", err)
	}
	if probe.Auths != nil {
		return ParseDockerConfigJSON(data)
	}
	return ParseDockercfg(data)
}

// ReadDockerConfigFile reads a docker configuration file. A file named
// `config.json` is always the `config.json` format (one with only
// `credsStore` or `credHelpers` holds no credentials this package can use);
// any other file is detected by content (see ParseDockerConfig). Errors
// name the path, never the content.
func ReadDockerConfigFile(path string) (DockerConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading docker config: %w", err)
	}
	var cfg DockerConfig
	if filepath.Base(path) == "config.json" {
		cfg, err = ParseDockerConfigJSON(data)
	} else {
		cfg, err = ParseDockerConfig(data)
	}
	if err != nil {
		return nil, fmt.Errorf("docker config file %q: %w", path, err)
	}
	return cfg, nil
}
