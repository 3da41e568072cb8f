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

// Command token-exchange-credential-provider is a kubelet exec credential
// provider plugin that does what a cloud's token exchange does, against the
// node e2e suite's own registries: it takes the pod's service account token
// from the kubelet, has the API server vouch for it (a TokenReview), maps
// the service account to a tenant and answers with that tenant's registry
// credentials. It is small and real, so the suite and the demo exercise the
// kubelet's service-account credential path without a cloud.
//
// # Protocol
//
// The kubelet runs the binary with the provider's args and env, writes one
// CredentialProviderRequest to stdin and reads one CredentialProviderResponse
// from stdout: kind CredentialProviderResponse, the request's apiVersion,
// cacheKeyType and cacheDuration from the config, and auth keyed by registry
// host. The protocol is credentialprovider.kubelet.k8s.io/v1; v1beta1 and
// v1alpha1 requests carry no token, so only node mode can answer them. Exit
// 0 means the response is valid. On any error the plugin prints one line to
// stderr, never the token or a password, and exits 1: the kubelet then pulls
// without these credentials.
//
// # Modes
//
// serviceAccount (the default when the request carries a token) sends a
// TokenReview with spec.audiences set to the configured audience to the API
// server named by the kubeconfig, and requires status.authenticated, the
// audience in status.audiences, a user system:serviceaccount:NS:NAME and a
// pod binding (extra authentication.kubernetes.io/pod-name and pod-uid):
// unbound tokens are refused. The tenant is the value of the service
// account annotation named tenantAnnotation, else the serviceAccounts entry
// for NS/NAME; no tenant is an error. The annotation is trusted as it is:
// whoever may edit the service account picks its tenant (a cloud would also
// check a trust policy). status.user.uid (the account's UID) is not checked:
// the request carries nothing to compare it with. A dead API server is an
// error, never a reason to fall back. The kubeconfig's user must be allowed
// to create tokenreviews (the system:auth-delegator ClusterRole).
//
// node (a request without a token, or mode node) answers with the node
// credentials, for providers used without service accounts.
//
// # Configuration
//
// --config FILE (required) names a JSON or YAML file, decoded strictly:
//
//	{
//	  "audience": "tokenexchange.e2e.example",
//	  "tenantAnnotation": "tokenexchange.e2e.example/tenant",
//	  "serviceAccounts": {"team-b/puller": "b"},
//	  "tenants": {
//	    "a": {"127.0.0.1:5001": {"username": "alice", "password": "..."}},
//	    "b": {"127.0.0.1:5002": {"username": "bob", "password": "..."}}
//	  },
//	  "node": {"127.0.0.1:5001": {"username": "node", "password": "..."}},
//	  "cacheKeyType": "Registry",
//	  "cacheDuration": "5m"
//	}
//
// mode ("serviceAccount" or "node") forces a mode; cacheKeyType is Image,
// Registry or Global (Image when unset); cacheDuration may be "0s" (do not
// cache) or unset (the provider's defaultCacheDuration applies); fail sets
// a failure knob. All of the tenant's registries are returned; the kubelet
// matches them against the image.
//
// --kubeconfig FILE names the API server for TokenReviews, falling back to
// TOKEN_EXCHANGE_KUBECONFIG; --mode overrides the config's mode.
//
// # Environment
//
//	TOKEN_EXCHANGE_KUBECONFIG  kubeconfig when --kubeconfig is not given
//	TOKEN_EXCHANGE_EXEC_LOG    file to append one JSON line per exec to
//	TOKEN_EXCHANGE_FAIL        hang, crash, garbage or wrongkind
//
// An exec log line is
//
//	{"image":"127.0.0.1:5001/x:1","mode":"serviceAccount","serviceAccount":"team-a/puller","tenant":"a","result":"ok"}
//
// with result "error" and an "error" reason on failure. Lines are single
// O_APPEND writes, so concurrent execs do not interleave; a log that cannot
// be written fails the exec, so a test never misses one.
//
// The failure knobs (env, or fail in the config) test the kubelet's fail-safe
// paths: hang sleeps until killed, crash exits 1, garbage prints something
// that is not JSON and wrongkind prints a response of kind
// CredentialProviderRequest (with the node credentials), both exiting 0.
// Each logs its exec first.
//
// # Kubelet configuration
//
// The provider in the kubelet's CredentialProviderConfig
// (kubelet.config.k8s.io/v1), the binary in --image-credential-provider-bin-dir:
//
//	providers:
//	  - name: token-exchange-credential-provider
//	    apiVersion: credentialprovider.kubelet.k8s.io/v1
//	    matchImages: ["127.0.0.1:5001", "127.0.0.1:5002"]
//	    defaultCacheDuration: 1m
//	    args: ["--config=/etc/e2e/token-exchange.json", "--kubeconfig=/etc/e2e/plugin.kubeconfig"]
//	    env: [{name: TOKEN_EXCHANGE_EXEC_LOG, value: /tmp/e2e/exec.log}]
//	    tokenAttributes:
//	      serviceAccountTokenAudience: tokenexchange.e2e.example
//	      cacheType: ServiceAccount
//	      requireServiceAccount: true
//	      requiredServiceAccountAnnotationKeys: ["tokenexchange.e2e.example/tenant"]
//
// The audience must equal the config's. With the annotation key required the
// kubelet does not exec the plugin for an account without it; list it in
// optionalServiceAccountAnnotationKeys instead to let serviceAccounts
// entries map such accounts.
package main
