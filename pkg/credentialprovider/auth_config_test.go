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
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/textlogger"

	"k8s.io/kubernetes/pkg/credentialprovider"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// The expected hashes below were computed outside Go, on the JSON text
// encoding/json must produce, e.g.
//
//	printf '%s' '{"username":"u","password":"p"}' | sha256sum
//
// so they pin the encoding (field order, omission, escaping) and not just
// whatever the code happens to do.
const (
	// {"username":"u","password":"p"}
	hashUP = "edbd57ca9372e64eb1c9070ecf3a049ac553596b0529acf034c7a71d4e618e88"
	// {"username":"u","password":"p","email":"e@example.com"}
	hashUPEmail = "638bed302c3f345b3378e23f50d5f34908da32cc4fc93258d0dd5f4a4101fc50"
	// {"username":"a\u0026b","password":"\u003cp\u003e"}
	hashHTMLEscaped = "bf1e11fdc3502c4bf6b16f250dce0fd25042498914c4872c3be6fbbc391ad0c4"
	// {"username":"u","password":"pässwörd"} (UTF-8, not escaped)
	hashNonASCII = "cc637ff79c8fb722c983d381e986ec95b91eefb9e11db61798213e83fab78b5a"
	// {"username":"u","password":"a\u2028b"}
	hashLineSeparator = "044d53838bee66f5872c72d4a1d19fccd92b58e906b7977521e85f6cc261b0aa"
	// {"username":"u","password":"p\ufffd"} (the escape, for an invalid byte)
	hashInvalidUTF8 = "2e856984b076a21ad3d316c5673d16d60589936ff43884e70bcc0690a99d4455"
	// {}
	hashEmpty = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
	// {"username":"u","password":"p","auth":"a","email":"e","serveraddress":"s","identitytoken":"i","registrytoken":"r"}
	hashAllFields = "3f7cbff8c318b0be76e2a6130f0177d5c4e469d9417d3784bbe4a2b588422c12"
	// {"username":"u","password":"p\n\"q\u0001"}
	hashControl = "af5ea3a2e5af4d1d01d5d08abbaffc0c754b4b5d6efa738790979116f88c54d5"
	// {"password":"p"}
	hashPasswordOnly = "4740c69667dfa5280279787e20b1cce2eb2b245c53bb5f5696b30890a911e29c"
	// {"username":"user","password":"pa:ss"}
	hashColonInPassword = "0cb2c6c0f0e39dc1c3e74aa31905d88201c29ff6c53b585aeced7f4261611651"
	// {"identitytoken":"tok"}
	hashIdentityToken = "8dfc49a9e3897ed156a172adc656d7bfff6a41ef455657c11de188aa0e48af6b"
)

func TestHashAuthConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  credentialprovider.AuthConfig
		want string
	}{
		{name: "username and password", cfg: credentialprovider.AuthConfig{Username: "u", Password: "p"}, want: hashUP},
		{name: "with email", cfg: credentialprovider.AuthConfig{Username: "u", Password: "p", Email: "e@example.com"}, want: hashUPEmail},
		{name: "HTML characters are escaped", cfg: credentialprovider.AuthConfig{Username: "a&b", Password: "<p>"}, want: hashHTMLEscaped},
		{name: "non-ASCII stays UTF-8", cfg: credentialprovider.AuthConfig{Username: "u", Password: "pässwörd"}, want: hashNonASCII},
		{name: "U+2028 is escaped", cfg: credentialprovider.AuthConfig{Username: "u", Password: "a\u2028b"}, want: hashLineSeparator},
		{name: "invalid UTF-8 becomes U+FFFD", cfg: credentialprovider.AuthConfig{Username: "u", Password: "p\xff"}, want: hashInvalidUTF8},
		{name: "control characters and quotes", cfg: credentialprovider.AuthConfig{Username: "u", Password: "p\n\"q\x01"}, want: hashControl},
		{name: "empty", cfg: credentialprovider.AuthConfig{}, want: hashEmpty},
		{name: "password only", cfg: credentialprovider.AuthConfig{Password: "p"}, want: hashPasswordOnly},
		{name: "identity token only", cfg: credentialprovider.AuthConfig{IdentityToken: "tok"}, want: hashIdentityToken},
		{
			name: "every field, in order",
			cfg: credentialprovider.AuthConfig{
				Username: "u", Password: "p", Auth: "a", Email: "e",
				ServerAddress: "s", IdentityToken: "i", RegistryToken: "r",
			},
			want: hashAllFields,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := credentialprovider.HashAuthConfig(tc.cfg); got != tc.want {
				t.Errorf("HashAuthConfig() = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestHashOfParsedEntries checks the hashes of credentials as they come out
// of a docker config: an `auth` member is decoded and not itself hashed.
func TestHashOfParsedEntries(t *testing.T) {
	tests := []struct {
		name  string
		entry string
		want  string
	}{
		{name: "username and password", entry: `{"username":"u","password":"p"}`, want: hashUP},
		{name: "auth only", entry: `{"auth":"dTpw"}`, want: hashUP},
		{name: "auth wins over username and password", entry: `{"auth":"dTpw","username":"x","password":"y"}`, want: hashUP},
		{name: "auth with email", entry: `{"auth":"dTpw","email":"e@example.com"}`, want: hashUPEmail},
		{name: "auth with a colon in the password", entry: `{"auth":"dXNlcjpwYTpzcw=="}`, want: hashColonInPassword},
		{name: "auth of HTML characters", entry: `{"auth":"YSZiOjxwPg=="}`, want: hashHTMLEscaped},
		{name: "auth of non-ASCII", entry: `{"auth":"dTpww6Rzc3fDtnJk"}`, want: hashNonASCII},
		{name: "auth of invalid UTF-8", entry: `{"auth":"dTpw/w=="}`, want: hashInvalidUTF8},
		{name: "identity token is not read", entry: `{"auth":"dTpw","identitytoken":"tok"}`, want: hashUP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := credentialprovider.ParseDockerConfigJSON([]byte(`{"auths":{"reg.example":` + tc.entry + `}}`))
			if err != nil {
				t.Fatalf("ParseDockerConfigJSON() error: %v", err)
			}
			keyring := &credentialprovider.BasicDockerKeyring{}
			keyring.Add(nil, cfg)
			creds, _ := keyring.Lookup("reg.example/app")
			if len(creds) != 1 {
				t.Fatalf("Lookup() returned %d credentials, want 1", len(creds))
			}
			if creds[0].AuthConfigHash != tc.want {
				t.Errorf("AuthConfigHash = %s, want %s", creds[0].AuthConfigHash, tc.want)
			}
			if got := credentialprovider.HashAuthConfig(cfg["reg.example"].AuthConfig()); got != tc.want {
				t.Errorf("HashAuthConfig(entry.AuthConfig()) = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestToImagePullSecret(t *testing.T) {
	secretA := &credentialprovider.CredentialSource{Secret: &credentialprovider.SecretCoordinates{UID: "uid-a", Namespace: "ns", Name: "a"}}
	secretB := &credentialprovider.CredentialSource{Secret: &credentialprovider.SecretCoordinates{UID: "uid-b", Namespace: "ns", Name: "b"}}
	serviceAccount := &credentialprovider.CredentialSource{ServiceAccount: &credentialprovider.ServiceAccountCoordinates{UID: "uid-sa", Namespace: "ns", Name: "builder"}}
	up := credentialprovider.AuthConfig{Username: "u", Password: "p"}
	upEmail := credentialprovider.AuthConfig{Username: "u", Password: "p", Email: "e@example.com"}

	tests := []struct {
		name  string
		creds []credentialprovider.TrackedAuthConfig
		want  []kubeletconfig.ImagePullSecret
	}{
		{name: "none", creds: nil, want: nil},
		{
			name:  "node-wide and service account credentials are left out",
			creds: []credentialprovider.TrackedAuthConfig{credentialprovider.NewTrackedAuthConfig(up, nil), credentialprovider.NewTrackedAuthConfig(up, serviceAccount)},
			want:  nil,
		},
		{
			name: "order is kept",
			creds: []credentialprovider.TrackedAuthConfig{
				credentialprovider.NewTrackedAuthConfig(upEmail, secretB),
				credentialprovider.NewTrackedAuthConfig(up, nil),
				credentialprovider.NewTrackedAuthConfig(up, secretA),
			},
			want: []kubeletconfig.ImagePullSecret{
				{UID: "uid-b", Namespace: "ns", Name: "b", CredentialHash: hashUPEmail},
				{UID: "uid-a", Namespace: "ns", Name: "a", CredentialHash: hashUP},
			},
		},
		{
			name: "one Secret with two hashes keeps both, exact duplicates once",
			creds: []credentialprovider.TrackedAuthConfig{
				credentialprovider.NewTrackedAuthConfig(up, secretA),
				credentialprovider.NewTrackedAuthConfig(upEmail, secretA),
				credentialprovider.NewTrackedAuthConfig(up, secretA),
			},
			want: []kubeletconfig.ImagePullSecret{
				{UID: "uid-a", Namespace: "ns", Name: "a", CredentialHash: hashUP},
				{UID: "uid-a", Namespace: "ns", Name: "a", CredentialHash: hashUPEmail},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := credentialprovider.ImagePullSecrets(tc.creds)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ImagePullSecrets() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestToImagePullServiceAccount(t *testing.T) {
	tests := []struct {
		name   string
		source *credentialprovider.CredentialSource
		want   kubeletconfig.ImagePullServiceAccount
		wantOK bool
	}{
		{name: "node", source: nil, wantOK: false},
		{name: "secret", source: &credentialprovider.CredentialSource{Secret: &credentialprovider.SecretCoordinates{UID: "u", Namespace: "ns", Name: "s"}}, wantOK: false},
		{
			name:   "service account",
			source: &credentialprovider.CredentialSource{ServiceAccount: &credentialprovider.ServiceAccountCoordinates{UID: "uid-sa", Namespace: "ns", Name: "builder"}},
			want:   kubeletconfig.ImagePullServiceAccount{UID: "uid-sa", Namespace: "ns", Name: "builder"},
			wantOK: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := credentialprovider.NewTrackedAuthConfig(credentialprovider.AuthConfig{}, tc.source).ToImagePullServiceAccount()
			if ok != tc.wantOK {
				t.Errorf("ToImagePullServiceAccount() ok = %v, want %v", ok, tc.wantOK)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ToImagePullServiceAccount() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCredentialsAreRedacted makes sure that printing or logging a
// credential by mistake does not leak it.
func TestCredentialsAreRedacted(t *testing.T) {
	const (
		user     = "user-canary-1"
		password = "password-canary-2"
		token    = "token-canary-3"
	)
	auth := credentialprovider.AuthConfig{
		Username: user, Password: password, Auth: token, Email: "mail-canary-4",
		ServerAddress: "reg.example", IdentityToken: token, RegistryToken: token,
	}
	tracked := credentialprovider.NewTrackedAuthConfig(auth, &credentialprovider.CredentialSource{
		Secret: &credentialprovider.SecretCoordinates{UID: "uid-1", Namespace: "team-a", Name: "regcred"},
	})
	entry := credentialprovider.DockerConfigEntry{Username: user, Password: password, Email: "mail-canary-4"}

	var logged bytes.Buffer
	logger := textlogger.NewLogger(textlogger.NewConfig(textlogger.Output(&logged)))
	logger.Info("credential", "auth", auth, "tracked", tracked, "entry", entry, "config", credentialprovider.DockerConfig{"reg.example": entry},
		"json", credentialprovider.DockerConfigJSON{Auths: credentialprovider.DockerConfig{"reg.example": entry}})
	klog.Flush()

	outputs := map[string]string{
		"%v auth":     fmt.Sprintf("%v", auth),
		"%+v auth":    fmt.Sprintf("%+v", auth),
		"%#v auth":    fmt.Sprintf("%#v", auth),
		"%v tracked":  fmt.Sprintf("%v", tracked),
		"%#v tracked": fmt.Sprintf("%#v", tracked),
		"%v entry":    fmt.Sprintf("%v", entry),
		"%#v entry":   fmt.Sprintf("%#v", entry),
		"%v config":   fmt.Sprintf("%v", credentialprovider.DockerConfig{"reg.example": entry}),
		"%v slice":    fmt.Sprintf("%v", []credentialprovider.TrackedAuthConfig{tracked}),
		"log":         logged.String(),
	}
	for name, out := range outputs {
		for _, secret := range []string{user, password, token, "mail-canary-4", tracked.AuthConfigHash} {
			if strings.Contains(out, secret) {
				t.Errorf("%s output %q contains credential material %q", name, out, secret)
			}
		}
	}
	if !strings.Contains(outputs["%v tracked"], "team-a/regcred") {
		t.Errorf("%%v of a tracked credential = %q, want its source team-a/regcred", outputs["%v tracked"])
	}
	if !strings.Contains(outputs["log"], "<redacted>") {
		t.Errorf("log output %q does not show the redacted form", outputs["log"])
	}
}
