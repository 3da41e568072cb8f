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

package images

import (
	"context"
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
	"k8s.io/utils/lru"

	"k8s.io/kubernetes/pkg/credentialprovider"
	"k8s.io/kubernetes/pkg/credentialprovider/secrets"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// podCredentials resolves one pod's registry credentials for one
// EnsureImageExists call, lazily and at most once: the pod's Secrets are
// fetched, and the credential provider plugins run, only when a decision or
// a pull needs them. It is used by one goroutine.
type podCredentials struct {
	m      *imageManager
	pod    *v1.Pod
	podRef *v1.ObjectReference

	resolved bool
	keyring  credentialprovider.DockerKeyring
	err      error

	// The plugins' answer for pluginImage, kept for the call: a decision
	// followed by a pull asks once (a plugin that disables its cache would
	// otherwise run twice).
	pluginsRan  bool
	pluginImage string
	pluginCreds []credentialprovider.TrackedAuthConfig
	pluginErr   error
}

// lookup returns the credentials matching image in the order they are
// tried: the pod's Secrets (most specific registry key first), then the
// node-wide docker config, then the credential provider plugins in their
// configured order. An error means a Secret could not be fetched or parsed,
// or a plugin failed; nothing may then be granted or pulled.
func (c *podCredentials) lookup(ctx context.Context, image string) ([]credentialprovider.TrackedAuthConfig, error) {
	keyring, err := c.resolve(ctx)
	if err != nil {
		return nil, err
	}
	creds, _ := keyring.Lookup(image)
	fromPlugins, err := c.plugins(ctx, image)
	if err != nil {
		return nil, err
	}
	switch {
	case len(fromPlugins) == 0:
		return creds, nil
	case len(creds) == 0:
		return fromPlugins, nil
	}
	return append(creds[:len(creds):len(creds)], fromPlugins...), nil
}

// plugins runs the credential provider plugins for image, once per call.
func (c *podCredentials) plugins(ctx context.Context, image string) ([]credentialprovider.TrackedAuthConfig, error) {
	if c.m.plugins == nil {
		return nil, nil
	}
	if !c.pluginsRan || c.pluginImage != image {
		c.pluginsRan, c.pluginImage = true, image
		c.pluginCreds, c.pluginErr = c.m.plugins(ctx, c.pod, image)
	}
	return c.pluginCreds, c.pluginErr
}

// forDecision is the pull manager's credential callback: the pod's Secret
// credentials matching image, most specific first, and the pod's service
// account when a credential provider plugin gave a credential for image
// with its token. Node-wide credentials are left out: they are recorded as
// nodePodsAccessible, which the pull manager checks without asking. The
// service account is presented only when its plugin answered now: a plugin
// that is down, or that no longer maps the account to a credential, grants
// nothing (fail safe), whatever the record holds.
func (c *podCredentials) forDecision(ctx context.Context, image string) ([]kubeletconfig.ImagePullSecret, *kubeletconfig.ImagePullServiceAccount, error) {
	creds, err := c.lookup(ctx, image)
	if err != nil {
		return nil, nil, err
	}
	var serviceAccount *kubeletconfig.ImagePullServiceAccount
	for i := range creds {
		if sa, ok := creds[i].ToImagePullServiceAccount(); ok {
			serviceAccount = &sa
			break
		}
	}
	return credentialprovider.ImagePullSecrets(creds), serviceAccount, nil
}

func (c *podCredentials) resolve(ctx context.Context) (credentialprovider.DockerKeyring, error) {
	if !c.resolved {
		c.resolved = true
		c.keyring, c.err = c.fetch(ctx)
	}
	return c.keyring, c.err
}

// fetch gets the pod's image pull Secrets and builds the keyring. Missing
// Secrets and Secrets of another type are reported in one pod-level
// warning and skipped (they grant nothing, so skipping is safe); a Secret
// that cannot be fetched for another reason, or whose content cannot be
// parsed, is an error.
func (c *podCredentials) fetch(ctx context.Context) (credentialprovider.DockerKeyring, error) {
	logger := klog.FromContext(ctx)
	pod := c.pod
	var (
		fetched     []v1.Secret
		unavailable = map[string]bool{}
		seen        = map[string]bool{}
	)
	for _, ref := range pod.Spec.ImagePullSecrets {
		// The API allowed empty names (https://issue.k8s.io/99454); they
		// name nothing and are not worth a warning.
		if ref.Name == "" || seen[ref.Name] {
			continue
		}
		seen[ref.Name] = true
		if c.m.getSecret == nil {
			unavailable[ref.Name] = true
			continue
		}
		secret, err := c.m.getSecret(ctx, pod.Namespace, ref.Name)
		switch {
		case apierrors.IsNotFound(err) || (err == nil && secret == nil):
			logger.V(2).Info("Image pull secret not found", "secret", klog.KRef(pod.Namespace, ref.Name))
			unavailable[ref.Name] = true
		case err != nil:
			return nil, &PullSecretError{Namespace: pod.Namespace, Name: ref.Name, Err: err}
		case secret.Namespace != "" && secret.Namespace != pod.Namespace:
			// Only Secrets of the pod's own namespace may lend it credentials.
			logger.Info("Ignoring image pull secret from another namespace", "secret", klog.KObj(secret), "podNamespace", pod.Namespace)
			unavailable[ref.Name] = true
		default:
			s := *secret
			// Secret files given with a pod may leave the namespace out;
			// the Secret is the pod's, and its coordinates must say so.
			s.Namespace = pod.Namespace
			fetched = append(fetched, s)
		}
	}

	podKeyring, err := c.m.keyrings.podKeyring(fetched, c.m.nodeKeyring)
	if err != nil {
		// The error names the Secret and never quotes its content.
		return nil, err
	}
	for _, s := range podKeyring.Skipped {
		logger.V(2).Info("Image pull secret carries no registry credentials", "secret", klog.KRef(s.Namespace, s.Name), "type", s.Type, "reason", s.Reason)
		unavailable[s.Name] = true
	}
	if len(unavailable) > 0 {
		// Names in the pod's order, so the message is stable.
		var names []string
		for _, ref := range pod.Spec.ImagePullSecrets {
			if unavailable[ref.Name] {
				names = append(names, ref.Name)
				delete(unavailable, ref.Name)
			}
		}
		c.m.event(ctx, c.podRef, v1.EventTypeWarning, EventFailedToRetrieveImagePullSecret,
			fmt.Sprintf("Unable to retrieve some image pull secrets (%s); attempting to pull the image may not succeed.", strings.Join(names, ", ")))
	}
	return podKeyring.Keyring, nil
}

// pulledCredentials is what a successful pull with cred records: a pod
// Secret's coordinates and hash; nodePodsAccessible for an anonymous pull or
// node-wide credentials; a service account for a plugin credential that
// used one. A credential of unknown origin records nil, which grants
// nothing.
func pulledCredentials(cred *credentialprovider.TrackedAuthConfig) *kubeletconfig.ImagePullCredentials {
	if cred == nil || cred.Source == nil {
		return &kubeletconfig.ImagePullCredentials{NodePodsAccessible: true}
	}
	if s, ok := cred.ToImagePullSecret(); ok {
		return &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s}}
	}
	if sa, ok := cred.ToImagePullServiceAccount(); ok {
		return &kubeletconfig.ImagePullCredentials{KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{sa}}
	}
	return nil
}

// keyringCacheSize bounds the cache of parsed pod keyrings.
const keyringCacheSize = 1024

// keyringCache keeps the parsed keyring of a pod's list of Secrets, keyed
// by each Secret's UID and resourceVersion in the pod's order: a Secret that
// changes gets a new resourceVersion, so a cached keyring is never stale,
// and a pod that starts again (or a second pod with the same Secrets) skips
// parsing docker configs and hashing credentials. Secrets without a
// resourceVersion (read from files) are parsed every time. The cache holds
// derived credentials only as long as the pod keyrings the manager would
// build anyway.
type keyringCache struct {
	cache *lru.Cache
}

func newKeyringCache() *keyringCache {
	return &keyringCache{cache: lru.New(keyringCacheSize)}
}

// podKeyring returns the keyring of secrets followed by nodeKeyring.
func (k *keyringCache) podKeyring(fetched []v1.Secret, nodeKeyring credentialprovider.DockerKeyring) (*secrets.PodKeyring, error) {
	key, cacheable := keyringCacheKey(fetched)
	if cacheable {
		if v, ok := k.cache.Get(key); ok {
			return v.(*secrets.PodKeyring), nil
		}
	}
	podKeyring, err := secrets.MakePodKeyring(fetched, nodeKeyring)
	if err != nil {
		return nil, err
	}
	if cacheable {
		k.cache.Add(key, podKeyring)
	}
	return podKeyring, nil
}

// keyringCacheKey is "uid/resourceVersion" of every Secret, in order; it
// reports false when a Secret has no UID or resourceVersion.
func keyringCacheKey(fetched []v1.Secret) (string, bool) {
	var b strings.Builder
	for i := range fetched {
		s := &fetched[i]
		if s.UID == "" || s.ResourceVersion == "" {
			return "", false
		}
		b.WriteString(string(s.UID))
		b.WriteByte('/')
		b.WriteString(s.ResourceVersion)
		b.WriteByte(',')
	}
	return b.String(), true
}
