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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// AuthConfig is a registry credential as the CRI receives it.
//
// Its String, GoString and MarshalLog methods redact every credential field,
// so that printing or logging one by mistake cannot leak it.
type AuthConfig struct {
	Username      string
	Password      string
	Auth          string
	Email         string
	ServerAddress string
	// IdentityToken is used to authenticate the user and get an access
	// token for the registry.
	IdentityToken string
	// RegistryToken is a bearer token to be sent to a registry.
	RegistryToken string
}

// SecretCoordinates identify the Secret a credential came from.
type SecretCoordinates struct {
	UID       string
	Namespace string
	Name      string
}

// ServiceAccountCoordinates identify the service account whose token a
// credential provider plugin exchanged for a credential.
type ServiceAccountCoordinates struct {
	UID       string
	Namespace string
	Name      string
}

// CredentialSource says where a credential came from. A nil source means a
// node-wide credential, which every pod on the node may use.
type CredentialSource struct {
	Secret         *SecretCoordinates
	ServiceAccount *ServiceAccountCoordinates
}

// TrackedAuthConfig is a credential with its source and its hash, so that
// the pull that succeeds with it can be recorded under that source.
type TrackedAuthConfig struct {
	AuthConfig
	// Source is nil for node-wide credentials.
	Source *CredentialSource
	// AuthConfigHash is HashAuthConfig(AuthConfig).
	AuthConfigHash string
}

// NewTrackedAuthConfig returns c tracked with source and its hash.
func NewTrackedAuthConfig(c AuthConfig, source *CredentialSource) TrackedAuthConfig {
	return TrackedAuthConfig{AuthConfig: c, Source: source, AuthConfigHash: HashAuthConfig(c)}
}

// hashedAuthConfig fixes the encoding HashAuthConfig hashes. It is separate
// from AuthConfig so that a change to AuthConfig can never silently change
// the hashes stored in pull records (released kubelets wrote the same ones).
type hashedAuthConfig struct {
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	Auth          string `json:"auth,omitempty"`
	Email         string `json:"email,omitempty"`
	ServerAddress string `json:"serveraddress,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
	RegistryToken string `json:"registrytoken,omitempty"`
}

// HashAuthConfig returns the lowercase hex SHA-256 of the encoding/json
// encoding of c's fields (username, password, auth, email, serveraddress,
// identitytoken, registrytoken, in that order, each omitted when empty).
// encoding/json's HTML escaping and its replacement of invalid UTF-8 by
// U+FFFD are part of the format.
func HashAuthConfig(c AuthConfig) string {
	encoded, err := json.Marshal(hashedAuthConfig(c))
	if err != nil {
		// Marshalling a struct of strings cannot fail; panicking beats
		// returning a hash that matches nothing or, worse, everything.
		panic(fmt.Sprintf("encoding an auth config for hashing: %v", err))
	}
	sum := sha256.Sum256(encoded)
	return hex.EncodeToString(sum[:])
}

// ToImagePullSecret returns the pull-record form of t: its Secret's
// coordinates and its hash. It returns false when t did not come from a
// Secret (node-wide or service account credentials).
func (t TrackedAuthConfig) ToImagePullSecret() (kubeletconfig.ImagePullSecret, bool) {
	if t.Source == nil || t.Source.Secret == nil {
		return kubeletconfig.ImagePullSecret{}, false
	}
	return kubeletconfig.ImagePullSecret{
		UID:            t.Source.Secret.UID,
		Namespace:      t.Source.Secret.Namespace,
		Name:           t.Source.Secret.Name,
		CredentialHash: t.AuthConfigHash,
	}, true
}

// ToImagePullServiceAccount returns the pull-record form of the service
// account t came from, or false when t did not come from one.
func (t TrackedAuthConfig) ToImagePullServiceAccount() (kubeletconfig.ImagePullServiceAccount, bool) {
	if t.Source == nil || t.Source.ServiceAccount == nil {
		return kubeletconfig.ImagePullServiceAccount{}, false
	}
	return kubeletconfig.ImagePullServiceAccount{
		UID:       t.Source.ServiceAccount.UID,
		Namespace: t.Source.ServiceAccount.Namespace,
		Name:      t.Source.ServiceAccount.Name,
	}, true
}

// ImagePullSecrets returns the pull-record form of the Secret credentials
// among creds, in the order given (a keyring returns the most specific
// first, and the pull manager stores the first one's hash on rotation).
// Node-wide and service account credentials are left out, and exact
// duplicates (one Secret matching through two keys with equal content) are
// kept once.
func ImagePullSecrets(creds []TrackedAuthConfig) []kubeletconfig.ImagePullSecret {
	var out []kubeletconfig.ImagePullSecret
	seen := make(map[kubeletconfig.ImagePullSecret]bool, len(creds))
	for _, c := range creds {
		s, ok := c.ToImagePullSecret()
		if !ok || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// redacted stands in for a credential field in printed output.
const redacted = "<redacted>"

func redact(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

// String redacts every credential field; only the server address is shown.
func (c AuthConfig) String() string {
	return fmt.Sprintf("AuthConfig{Username:%s, Password:%s, Auth:%s, Email:%s, ServerAddress:%q, IdentityToken:%s, RegistryToken:%s}",
		redact(c.Username), redact(c.Password), redact(c.Auth), redact(c.Email), c.ServerAddress, redact(c.IdentityToken), redact(c.RegistryToken))
}

// GoString makes %#v as safe as %v.
func (c AuthConfig) GoString() string { return c.String() }

// MarshalLog implements logr.Marshaler so that structured loggers print the
// redacted form.
func (c AuthConfig) MarshalLog() any { return c.String() }

// String shows the source of t and redacts its credential. The hash is left
// out too: it is a fast hash of possibly guessable passwords.
func (t TrackedAuthConfig) String() string {
	return fmt.Sprintf("TrackedAuthConfig{%s, Source:%s}", t.AuthConfig.String(), t.Source.String())
}

// GoString makes %#v as safe as %v.
func (t TrackedAuthConfig) GoString() string { return t.String() }

// MarshalLog implements logr.Marshaler so that structured loggers print the
// redacted form.
func (t TrackedAuthConfig) MarshalLog() any { return t.String() }

// String describes the source: `secret ns/name (uid)`,
// `serviceaccount ns/name (uid)`, or `node` for a nil source.
func (s *CredentialSource) String() string {
	switch {
	case s == nil:
		return "node"
	case s.Secret != nil:
		return fmt.Sprintf("secret %s/%s (%s)", s.Secret.Namespace, s.Secret.Name, s.Secret.UID)
	case s.ServiceAccount != nil:
		return fmt.Sprintf("serviceaccount %s/%s (%s)", s.ServiceAccount.Namespace, s.ServiceAccount.Name, s.ServiceAccount.UID)
	default:
		return "unknown"
	}
}
