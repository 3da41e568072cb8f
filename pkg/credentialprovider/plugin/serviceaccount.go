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
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	kubeletconfigv1 "k8s.io/kubelet/config/v1"
	"k8s.io/utils/clock"

	"k8s.io/kubernetes/pkg/credentialprovider"
	"k8s.io/kubernetes/pkg/util/clientlog"
)

// Errors of the service account flow, wrapped in the *PluginError of the
// provider that needed the service account.
var (
	// ErrServiceAccountRequired: the pod has no service account and the
	// provider requires one.
	ErrServiceAccountRequired = errors.New("the provider requires a service account (tokenAttributes.requireServiceAccount)")
	// ErrNoAPIServer: the provider requires a service account token and
	// there is no API server to get one from.
	ErrNoAPIServer = errors.New("service account tokens need the API server (--kubeconfig)")
	// ErrRequiredAnnotationMissing: the pod's service account lacks an
	// annotation the provider requires.
	ErrRequiredAnnotationMissing = errors.New("missing required annotation")
)

// tokenExpirationSeconds is the lifetime asked of the tokens the kubelet
// requests for plugins.
const tokenExpirationSeconds int64 = 3600

// tokenAttributes is a provider's validated tokenAttributes.
type tokenAttributes struct {
	audience  string
	cacheType kubeletconfigv1.ServiceAccountTokenCacheType
	require   bool
	required  []string
	optional  []string
}

// principal is who a plugin is asked for: nobody (node-wide), or a pod's
// service account. What only a miss needs (the source, the annotations
// map) is built by its methods, so that a cache hit stays cheap.
type principal struct {
	// sa is the pod's service account; nil for node-wide (no token is
	// sent, and the credentials carry no source).
	sa *v1.ServiceAccount
	// namespace and name are the pod's namespace and service account name.
	namespace, name string
	// cacheKey separates cache entries and concurrent executions by
	// principal: empty for node-wide; the service account's namespace,
	// name, UID and passed annotations, and for cacheType Token also the
	// token's SHA-256.
	cacheKey string
	// token is the token to send. With cacheType ServiceAccount it is only
	// requested on a cache miss (tokenLater).
	token      string
	tokenLater bool
}

// source returns the credential source for credentials obtained for who.
func (who principal) source() *credentialprovider.CredentialSource {
	if who.sa == nil {
		return nil
	}
	return &credentialprovider.CredentialSource{ServiceAccount: &credentialprovider.ServiceAccountCoordinates{
		UID:       string(who.sa.UID),
		Namespace: who.namespace,
		Name:      who.name,
	}}
}

// annotations returns the service account's annotations the provider asks
// for: every required one (resolvePrincipal checked they exist) and the
// optional ones present.
func (who principal) annotations(attrs *tokenAttributes) map[string]string {
	if who.sa == nil || attrs == nil {
		return nil
	}
	var out map[string]string
	for _, keys := range [][]string{attrs.required, attrs.optional} {
		for _, k := range keys {
			v, ok := who.sa.Annotations[k]
			if !ok {
				continue
			}
			if out == nil {
				out = make(map[string]string, len(attrs.required)+len(attrs.optional))
			}
			out[k] = v
		}
	}
	return out
}

// resolvePrincipal decides who a provider with tokenAttributes is asked
// for, and for cacheType Token gets the token (its hash keys the cache).
func (p *provider) resolvePrincipal(ctx context.Context, pod PodInfo, sas ServiceAccountSource) (principal, error) {
	attrs := p.tokens
	if attrs == nil {
		return principal{}, nil
	}
	if pod.ServiceAccountName == "" {
		if attrs.require {
			return principal{}, fmt.Errorf("pod %s/%s has no service account: %w", pod.Namespace, pod.Name, ErrServiceAccountRequired)
		}
		// Nothing to send: the plugin answers as for any pod, node-wide.
		return principal{}, nil
	}
	if sas == nil {
		if attrs.require {
			return principal{}, fmt.Errorf("cannot get a token for service account %s/%s: %w", pod.Namespace, pod.ServiceAccountName, ErrNoAPIServer)
		}
		return principal{}, nil
	}
	sa, err := sas.ServiceAccount(ctx, pod.Namespace, pod.ServiceAccountName)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return principal{}, fmt.Errorf("service account %s/%s not found: %w", pod.Namespace, pod.ServiceAccountName, err)
		}
		return principal{}, fmt.Errorf("getting service account %s/%s: %w", pod.Namespace, pod.ServiceAccountName, err)
	}
	if sa == nil || sa.UID == "" {
		// Records need the UID; without it nothing can be recorded safely.
		return principal{}, fmt.Errorf("service account %s/%s has no UID", pod.Namespace, pod.ServiceAccountName)
	}

	// The key is written as length-prefixed fields, so that no choice of
	// names or annotation values can make two principals' keys collide.
	// Annotation keys are not written: their order is the config's.
	var key strings.Builder
	key.Grow(64 + len(pod.Namespace) + len(pod.ServiceAccountName) + len(sa.UID))
	writeField := func(s string) {
		key.WriteString(strconv.Itoa(len(s)))
		key.WriteByte(':')
		key.WriteString(s)
	}
	key.WriteString("sa/")
	writeField(pod.Namespace)
	writeField(pod.ServiceAccountName)
	writeField(string(sa.UID))
	for _, k := range attrs.required {
		v, ok := sa.Annotations[k]
		if !ok {
			return principal{}, fmt.Errorf("service account %s/%s: %w %q (tokenAttributes.requiredServiceAccountAnnotationKeys)",
				pod.Namespace, pod.ServiceAccountName, ErrRequiredAnnotationMissing, k)
		}
		writeField(v)
	}
	for _, k := range attrs.optional {
		v, ok := sa.Annotations[k]
		if !ok {
			// Absent differs from present and empty.
			key.WriteByte('-')
			continue
		}
		key.WriteByte('+')
		writeField(v)
	}

	who := principal{sa: sa, namespace: pod.Namespace, name: pod.ServiceAccountName}
	if attrs.cacheType == kubeletconfigv1.ServiceAccountServiceAccountTokenCacheType {
		// A cache hit needs no token: request it only on a miss.
		who.cacheKey, who.tokenLater = key.String(), true
		return who, nil
	}
	token, err := p.requestToken(ctx, pod, sas)
	if err != nil {
		return principal{}, err
	}
	// The token's hash, after the account's fields: a token is bound to
	// one account, but a source that handed out a token of a deleted
	// account must not get its cached credentials recorded under the new
	// one, and the annotations sent are part of the question too.
	sum := sha256.Sum256([]byte(token))
	key.WriteString("/token/")
	key.Write(sum[:])
	who.token, who.cacheKey = token, key.String()
	return who, nil
}

// requestToken gets a token for the pod's service account and the
// provider's audience.
func (p *provider) requestToken(ctx context.Context, pod PodInfo, sas ServiceAccountSource) (string, error) {
	token, err := sas.Token(ctx, pod.Namespace, pod.ServiceAccountName, p.tokens.audience, pod)
	if err != nil {
		return "", fmt.Errorf("requesting a token for service account %s/%s: %w", pod.Namespace, pod.ServiceAccountName, err)
	}
	if token == "" {
		return "", fmt.Errorf("requesting a token for service account %s/%s: the token is empty", pod.Namespace, pod.ServiceAccountName)
	}
	return token, nil
}

// maxCachedTokens bounds the token cache of NewAPIServiceAccountSource:
// keys include pod UIDs, which come and go.
const maxCachedTokens = 1024

// NewAPIServiceAccountSource returns a ServiceAccountSource backed by the
// API server: ServiceAccounts are read with a GET every time (never cached:
// a recreated ServiceAccount must be seen with its new UID), and tokens are
// requested with TokenRequest, bound to the pod, for 3600 seconds, and
// cached per (namespace, service account, audience, pod UID) until 80% of
// their lifetime. A cached token is also dropped when a later GET of its
// ServiceAccount shows another UID: the old account's tokens are no longer
// valid.
func NewAPIServiceAccountSource(client kubernetes.Interface) ServiceAccountSource {
	return newAPIServiceAccountSource(client, clock.RealClock{})
}

func newAPIServiceAccountSource(client kubernetes.Interface, c clock.PassiveClock) *apiServiceAccountSource {
	return &apiServiceAccountSource{
		client: client,
		clock:  c,
		tokens: newLRU[tokenKey, cachedToken](maxCachedTokens),
		uids:   newLRU[types.NamespacedName, types.UID](maxCachedTokens),
	}
}

// apiServiceAccountSource implements ServiceAccountSource with client-go.
type apiServiceAccountSource struct {
	client kubernetes.Interface
	clock  clock.PassiveClock

	mu     sync.Mutex
	tokens *lru[tokenKey, cachedToken]
	// uids are the UIDs last seen for each service account, so that
	// tokens of a deleted and recreated account are not reused.
	uids *lru[types.NamespacedName, types.UID]
}

type tokenKey struct {
	namespace, serviceAccount, audience string
	podUID                              types.UID
}

type cachedToken struct {
	token     string
	refreshAt time.Time
	// saUID is the service account's UID last seen when the token was
	// requested.
	saUID types.UID
}

// ServiceAccount GETs the service account.
func (s *apiServiceAccountSource) ServiceAccount(ctx context.Context, namespace, name string) (*v1.ServiceAccount, error) {
	// client-go would log the body, annotations included, at -v=8.
	sa, err := s.client.CoreV1().ServiceAccounts(namespace).Get(clientlog.WithoutBodies(ctx), name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.uids.add(types.NamespacedName{Namespace: namespace, Name: name}, sa.UID)
	s.mu.Unlock()
	return sa, nil
}

// Token returns a cached token or requests one.
func (s *apiServiceAccountSource) Token(ctx context.Context, namespace, serviceAccount, audience string, pod PodInfo) (string, error) {
	key := tokenKey{namespace: namespace, serviceAccount: serviceAccount, audience: audience, podUID: pod.UID}
	now := s.clock.Now()
	s.mu.Lock()
	saUID, _ := s.uids.get(types.NamespacedName{Namespace: namespace, Name: serviceAccount})
	if t, ok := s.tokens.get(key); ok {
		if now.Before(t.refreshAt) && t.saUID == saUID {
			s.mu.Unlock()
			return t.token, nil
		}
		s.tokens.remove(key)
	}
	s.mu.Unlock()

	expiration := tokenExpirationSeconds
	// client-go would log the response body, the token, at -v=8.
	tr, err := s.client.CoreV1().ServiceAccounts(namespace).CreateToken(clientlog.WithoutBodies(ctx), serviceAccount, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{
			Audiences:         []string{audience},
			ExpirationSeconds: &expiration,
			BoundObjectRef: &authenticationv1.BoundObjectReference{
				Kind:       "Pod",
				APIVersion: "v1",
				Name:       pod.Name,
				UID:        pod.UID,
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	if tr.Status.Token == "" {
		return "", errors.New("the API server returned an empty token")
	}
	if exp := tr.Status.ExpirationTimestamp.Time; exp.After(now) {
		// Refresh at 80% of the lifetime, as the kubelet's token manager
		// does, so that a plugin never gets a token about to expire.
		refreshAt := now.Add(exp.Sub(now) * 8 / 10)
		s.mu.Lock()
		s.tokens.add(key, cachedToken{token: tr.Status.Token, refreshAt: refreshAt, saUID: saUID})
		s.mu.Unlock()
	}
	return tr.Status.Token, nil
}
