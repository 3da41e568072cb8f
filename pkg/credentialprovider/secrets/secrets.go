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

package secrets

import (
	"errors"
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"

	"k8s.io/kubernetes/pkg/credentialprovider"
)

// ErrInvalidPullSecret is matched (errors.Is) by every error about an image
// pull Secret whose content cannot be parsed.
var ErrInvalidPullSecret = errors.New("invalid image pull secret")

// InvalidSecretError names a Secret whose registry credentials cannot be
// parsed. Err never quotes the Secret's content.
type InvalidSecretError struct {
	Namespace string
	Name      string
	// Err is the parse error; it wraps
	// credentialprovider.ErrInvalidDockerConfig.
	Err error
}

// Error names the Secret as namespace/name.
func (e *InvalidSecretError) Error() string {
	return fmt.Sprintf("%v %q: %v", ErrInvalidPullSecret, e.Namespace+"/"+e.Name, e.Err)
}

// Is makes errors.Is(err, ErrInvalidPullSecret) hold.
func (e *InvalidSecretError) Is(target error) bool { return target == ErrInvalidPullSecret }

// Unwrap returns the parse error.
func (e *InvalidSecretError) Unwrap() error { return e.Err }

// invalidSecrets reports several unparsable Secrets on one line (the message
// ends up in an event) while errors.Is and errors.As still see each one.
type invalidSecrets []error

func (errs invalidSecrets) Error() string {
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (errs invalidSecrets) Unwrap() []error { return errs }

// SkipReason says why a Secret contributed no credentials.
type SkipReason string

// The reasons a Secret is skipped.
const (
	// SkipReasonUnsupportedType: the Secret is not of a registry
	// credential type.
	SkipReasonUnsupportedType SkipReason = "UnsupportedType"
	// SkipReasonMissingKey: the Secret lacks its type's key, or its value
	// is empty.
	SkipReasonMissingKey SkipReason = "MissingKey"
)

// SkippedSecret is a Secret that was passed but contributed no credentials.
type SkippedSecret struct {
	Namespace string
	Name      string
	Type      v1.SecretType
	Reason    SkipReason
}

// PodKeyring is the result of resolving a pod's image pull Secrets.
type PodKeyring struct {
	// Keyring looks up the pod's Secrets' credentials (each tracked with
	// its Secret and hash), then the node-wide keyring.
	Keyring credentialprovider.DockerKeyring
	// Skipped are the Secrets that contributed nothing, in the order
	// passed. The caller reports them like missing Secrets, with the
	// `FailedToRetrieveImagePullSecret` warning.
	Skipped []SkippedSecret
}

// SkippedNames returns the names of the skipped Secrets, in order, as the
// `FailedToRetrieveImagePullSecret` message lists them (the Secrets are all
// in the pod's namespace).
func (k *PodKeyring) SkippedNames() []string {
	names := make([]string, 0, len(k.Skipped))
	for _, s := range k.Skipped {
		names = append(names, s.Name)
	}
	return names
}

// MakePodKeyring builds the keyring of passedSecrets followed by
// defaultKeyring (nil for none), and lists the Secrets that were skipped.
// If any Secret's content cannot be parsed it returns no keyring and an
// error naming every such Secret (see the package doc for why).
func MakePodKeyring(passedSecrets []v1.Secret, defaultKeyring credentialprovider.DockerKeyring) (*PodKeyring, error) {
	fromSecrets := &credentialprovider.BasicDockerKeyring{}
	result := &PodKeyring{}
	var invalid invalidSecrets
	for i := range passedSecrets {
		secret := &passedSecrets[i]
		key, parse, ok := formatFor(secret.Type)
		if !ok {
			result.Skipped = append(result.Skipped, skipped(secret, SkipReasonUnsupportedType))
			continue
		}
		data := secretValue(secret, key)
		if len(data) == 0 {
			result.Skipped = append(result.Skipped, skipped(secret, SkipReasonMissingKey))
			continue
		}
		cfg, err := parse(data)
		if err != nil {
			invalid = append(invalid, &InvalidSecretError{Namespace: secret.Namespace, Name: secret.Name, Err: err})
			continue
		}
		fromSecrets.Add(&credentialprovider.CredentialSource{
			Secret: &credentialprovider.SecretCoordinates{
				UID:       string(secret.UID),
				Namespace: secret.Namespace,
				Name:      secret.Name,
			},
		}, cfg)
	}
	switch len(invalid) {
	case 0:
	case 1:
		return nil, invalid[0]
	default:
		return nil, invalid
	}
	result.Keyring = credentialprovider.UnionDockerKeyring{fromSecrets, defaultKeyring}
	return result, nil
}

// MakeDockerKeyring builds a keyring of the pod's Secrets (each credential
// tracked with the Secret's namespace, name, UID and hash), followed by
// defaultKeyring. It is MakePodKeyring for callers that do not report
// skipped Secrets.
func MakeDockerKeyring(passedSecrets []v1.Secret, defaultKeyring credentialprovider.DockerKeyring) (credentialprovider.DockerKeyring, error) {
	k, err := MakePodKeyring(passedSecrets, defaultKeyring)
	if err != nil {
		return nil, err
	}
	return k.Keyring, nil
}

// formatFor returns the key and parser of a registry credential Secret type.
func formatFor(t v1.SecretType) (string, func([]byte) (credentialprovider.DockerConfig, error), bool) {
	switch t {
	case v1.SecretTypeDockerConfigJson:
		return v1.DockerConfigJsonKey, credentialprovider.ParseDockerConfigJSON, true
	case v1.SecretTypeDockercfg:
		return v1.DockerConfigKey, credentialprovider.ParseDockercfg, true
	default:
		return "", nil, false
	}
}

// secretValue returns key's value, stringData winning over data as when
// the API server merges them.
func secretValue(s *v1.Secret, key string) []byte {
	if v, ok := s.StringData[key]; ok {
		return []byte(v)
	}
	return s.Data[key]
}

func skipped(s *v1.Secret, reason SkipReason) SkippedSecret {
	return SkippedSecret{Namespace: s.Namespace, Name: s.Name, Type: s.Type, Reason: reason}
}
