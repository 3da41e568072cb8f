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

package imagemanager

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"

	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// deniedOutcome is the outcome for a pod that must verify an image it cannot
// pull: with IfNotPresent the pull is attempted as pulledAs and the registry
// answers 401, with Never the pod is denied without contacting the registry.
func deniedOutcome(pullPolicy v1.PullPolicy, verification pullmanager.Verification, pulledAs string) outcome {
	if pullPolicy == v1.PullNever {
		return outcome{
			reason: "ErrImageNeverPull", verification: verification, noRegistryContact: true,
			message: "is not present with pull policy of Never",
		}
	}
	return outcome{
		reason: "ErrImagePull", verification: verification,
		pullAttempted: true, pulledAs: []string{pulledAs}, message: "401 Unauthorized",
	}
}

// TestSecretRotationAndRecreation: S1 rotated in place keeps access and the
// record takes the new hash; S1 deleted and recreated (new UID) with refused
// credentials gets nothing from the old record.
func TestSecretRotationAndRecreation(t *testing.T) {
	tests := []struct {
		name       string
		pullPolicy v1.PullPolicy
		// change modifies S1 after pod A pulled P.
		change func(e *env)
		want   outcome
		// wantS1 is S1's entry in the record afterwards.
		wantS1 kubeletv1beta1.ImagePullSecret
	}{
		{
			name:       "rotated to other valid credentials, IfNotPresent",
			pullPolicy: v1.PullIfNotPresent,
			change: func(e *env) {
				e.setSecret(nsX, secretS1, "uid-s1-1", dockerConfigJSON(e.reg.Addr(), user2, pass2))
			},
			want:   outcome{admitted: true, verification: pullmanager.VerificationSecretCoordinates, noRegistryContact: true},
			wantS1: kubeletv1beta1.ImagePullSecret{UID: "uid-s1-1", Namespace: nsX, Name: secretS1, CredentialHash: credHash(user2, pass2)},
		},
		{
			name:       "rotated to other valid credentials, Never",
			pullPolicy: v1.PullNever,
			change: func(e *env) {
				e.setSecret(nsX, secretS1, "uid-s1-1", dockerConfigJSON(e.reg.Addr(), user2, pass2))
			},
			want:   outcome{admitted: true, verification: pullmanager.VerificationSecretCoordinates, noRegistryContact: true},
			wantS1: kubeletv1beta1.ImagePullSecret{UID: "uid-s1-1", Namespace: nsX, Name: secretS1, CredentialHash: credHash(user2, pass2)},
		},
		{
			name:       "rotated to several credentials: the most specific one's hash is stored",
			pullPolicy: v1.PullNever,
			change: func(e *env) {
				e.setSecret(nsX, secretS1, "uid-s1-1", mustJSON(map[string]any{
					"auths": map[string]any{
						e.reg.Addr():               map[string]string{"username": user1, "password": refusedPassword},
						e.reg.Addr() + "/" + repoP: map[string]string{"username": user2, "password": pass2},
					},
				}))
			},
			want:   outcome{admitted: true, verification: pullmanager.VerificationSecretCoordinates, noRegistryContact: true},
			wantS1: kubeletv1beta1.ImagePullSecret{UID: "uid-s1-1", Namespace: nsX, Name: secretS1, CredentialHash: credHash(user2, pass2)},
		},
		{
			name:       "deleted and recreated with refused credentials, IfNotPresent",
			pullPolicy: v1.PullIfNotPresent,
			change: func(e *env) {
				e.deleteSecret(nsX, secretS1)
				e.setSecret(nsX, secretS1, "uid-s1-2", dockerConfigJSON(e.reg.Addr(), user1, refusedPassword))
			},
			want:   deniedOutcome(v1.PullIfNotPresent, pullmanager.VerificationMustPull, user1),
			wantS1: kubeletv1beta1.ImagePullSecret{UID: "uid-s1-1", Namespace: nsX, Name: secretS1, CredentialHash: credHash(user1, pass1)},
		},
		{
			name:       "deleted and recreated with refused credentials, Never",
			pullPolicy: v1.PullNever,
			change: func(e *env) {
				e.deleteSecret(nsX, secretS1)
				e.setSecret(nsX, secretS1, "uid-s1-2", dockerConfigJSON(e.reg.Addr(), user1, refusedPassword))
			},
			want:   deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""),
			wantS1: kubeletv1beta1.ImagePullSecret{UID: "uid-s1-1", Namespace: nsX, Name: secretS1, CredentialHash: credHash(user1, pass1)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			e.pullAsPodA(repoP)
			tc.change(e)
			e.check(e.pod(nsX, e.image(repoP), tc.pullPolicy, secretS1), e.ids[repoP], tc.want)
			assertMapping(t, e.mapping(e.ids[repoP]), map[string]kubeletv1beta1.ImagePullCredentials{
				e.repoKey(repoP): secretsEntry(tc.wantS1),
			})
		})
	}
}

// TestAnonymousImageFirstPulledWithSecret: an image anyone may pull, first
// pulled with S1, is pulled anonymously by a pod without a Secret, and the
// record then says every pod on the node may use it.
func TestAnonymousImageFirstPulledWithSecret(t *testing.T) {
	tests := []struct {
		name   string
		policy kubeletconfig.ImagePullCredentialsVerificationPolicy
	}{
		{name: "default policy", policy: kubeletconfig.NeverVerifyPreloadedImages},
		{name: "AlwaysVerify", policy: kubeletconfig.AlwaysVerify},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{policy: tc.policy})
			e.pullAsPodA(repoPublic)
			id := e.ids[repoPublic]

			e.check(e.pod(nsY, e.image(repoPublic), v1.PullIfNotPresent), id, outcome{
				admitted: true, verification: pullmanager.VerificationMustPull, pullAttempted: true, pulledAs: []string{""},
			})
			assertMapping(t, e.mapping(id), map[string]kubeletv1beta1.ImagePullCredentials{
				e.repoKey(repoPublic): {NodePodsAccessible: true},
			})
			// Any pod may now use it, even one that may not pull.
			e.check(e.pod(nsY, e.image(repoPublic), v1.PullNever), id, outcome{
				admitted: true, verification: pullmanager.VerificationNodeAccessible, noRegistryContact: true,
			})
			e.check(e.pod(nsY, e.image(repoPublic), v1.PullIfNotPresent, secretRefused), id, outcome{
				admitted: true, verification: pullmanager.VerificationNodeAccessible, noRegistryContact: true,
			})
		})
	}
}

// TestAllowlist: under NeverVerifyAllowlistedImages, P pulled by pod A is
// usable by a pod without a Secret when an exact or prefix entry lists it;
// entries for other repositories do not exempt it.
func TestAllowlist(t *testing.T) {
	tests := []struct {
		name       string
		allowlist  func(host string) []string
		pullPolicy v1.PullPolicy
		want       outcome
	}{
		{
			name:       "exact entry, IfNotPresent",
			allowlist:  func(host string) []string { return []string{host + "/" + repoP} },
			pullPolicy: v1.PullIfNotPresent,
			want:       outcome{admitted: true, verification: pullmanager.VerificationPolicy, noRegistryContact: true},
		},
		{
			name:       "exact entry, Never",
			allowlist:  func(host string) []string { return []string{host + "/" + repoP} },
			pullPolicy: v1.PullNever,
			want:       outcome{admitted: true, verification: pullmanager.VerificationPolicy, noRegistryContact: true},
		},
		{
			name:       "prefix entry, IfNotPresent",
			allowlist:  func(host string) []string { return []string{host + "/team-a/*"} },
			pullPolicy: v1.PullIfNotPresent,
			want:       outcome{admitted: true, verification: pullmanager.VerificationPolicy, noRegistryContact: true},
		},
		{
			name:       "prefix entry on the host, Never",
			allowlist:  func(host string) []string { return []string{host + "/*"} },
			pullPolicy: v1.PullNever,
			want:       outcome{admitted: true, verification: pullmanager.VerificationPolicy, noRegistryContact: true},
		},
		{
			name:       "near miss: exact entry with a longer name",
			allowlist:  func(host string) []string { return []string{host + "/" + repoP + "p"} },
			pullPolicy: v1.PullIfNotPresent,
			want:       deniedOutcome(v1.PullIfNotPresent, pullmanager.VerificationMustPull, ""),
		},
		{
			name:       "near miss: exact entry for a neighbour",
			allowlist:  func(host string) []string { return []string{host + "/" + repoQ} },
			pullPolicy: v1.PullNever,
			want:       deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""),
		},
		{
			name:       "near miss: prefix entry below P",
			allowlist:  func(host string) []string { return []string{host + "/" + repoP + "/*"} },
			pullPolicy: v1.PullNever,
			want:       deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""),
		},
		{
			name:       "near miss: prefix entry on another host",
			allowlist:  func(string) []string { return []string{"reg.example/*"} },
			pullPolicy: v1.PullIfNotPresent,
			want:       deniedOutcome(v1.PullIfNotPresent, pullmanager.VerificationMustPull, ""),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{policy: kubeletconfig.NeverVerifyAllowlistedImages, allowlist: tc.allowlist})
			e.pullAsPodA(repoP)
			e.check(e.pod(nsY, e.image(repoP), tc.pullPolicy), e.ids[repoP], tc.want)
		})
	}
}

// TestPreloadedImage: an image put in the runtime without the kubelet (no
// record, no intent) is usable without a Secret under the default policy
// and must be verified under the others.
func TestPreloadedImage(t *testing.T) {
	tests := []struct {
		name       string
		policy     kubeletconfig.ImagePullCredentialsVerificationPolicy
		pullPolicy v1.PullPolicy
		want       outcome
	}{
		{
			name:       "default policy, IfNotPresent",
			policy:     kubeletconfig.NeverVerifyPreloadedImages,
			pullPolicy: v1.PullIfNotPresent,
			want:       outcome{admitted: true, verification: pullmanager.VerificationNotPulledByKubelet, noRegistryContact: true},
		},
		{
			name:       "default policy, Never",
			policy:     kubeletconfig.NeverVerifyPreloadedImages,
			pullPolicy: v1.PullNever,
			want:       outcome{admitted: true, verification: pullmanager.VerificationNotPulledByKubelet, noRegistryContact: true},
		},
		{
			name:       "AlwaysVerify, IfNotPresent",
			policy:     kubeletconfig.AlwaysVerify,
			pullPolicy: v1.PullIfNotPresent,
			want:       deniedOutcome(v1.PullIfNotPresent, pullmanager.VerificationMustPull, ""),
		},
		{
			name:       "AlwaysVerify, Never",
			policy:     kubeletconfig.AlwaysVerify,
			pullPolicy: v1.PullNever,
			want:       deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""),
		},
		{
			name:       "NeverVerifyAllowlistedImages, not listed, Never",
			policy:     kubeletconfig.NeverVerifyAllowlistedImages,
			pullPolicy: v1.PullNever,
			want:       deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""),
		},
		{
			name:       "NeverVerify, Never",
			policy:     kubeletconfig.NeverVerify,
			pullPolicy: v1.PullNever,
			want:       outcome{admitted: true, verification: pullmanager.VerificationPolicy, noRegistryContact: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{policy: tc.policy})
			id := e.preload(repoP)
			e.check(e.pod(nsY, e.image(repoP), tc.pullPolicy), id, tc.want)
			if rec := e.record(id); rec != nil {
				t.Errorf("a preloaded image that no pull succeeded for has a record: %+v", rec)
			}
		})
	}
}

// TestSameImageIDUnderTwoNames: M and N name one image ID. Pulling M with S1
// never grants N; N absent is pulled with the pod's credentials; N present
// but never pulled by the kubelet (preloaded before or after M was pulled)
// keeps its preloaded status.
func TestSameImageIDUnderTwoNames(t *testing.T) {
	tests := []struct {
		name   string
		policy kubeletconfig.ImagePullCredentialsVerificationPolicy
		// preloadN: "" leaves N absent, "before" or "after" preloads N
		// before or after pod A pulls M.
		preloadN   string
		ns         string
		secrets    []string
		pullPolicy v1.PullPolicy
		want       outcome
		// wantN is N's entry in the record afterwards, nil for none.
		wantN *kubeletv1beta1.ImagePullCredentials
	}{
		{
			name: "N absent, S1, IfNotPresent: pulled with S1", preloadN: "",
			ns: nsX, secrets: []string{secretS1}, pullPolicy: v1.PullIfNotPresent,
			want: outcome{admitted: true, verification: pullmanager.VerificationNotPresent, pullAttempted: true, pulledAs: []string{user1}},
			wantN: &kubeletv1beta1.ImagePullCredentials{KubernetesSecrets: []kubeletv1beta1.ImagePullSecret{
				{UID: "uid-s1-1", Namespace: nsX, Name: secretS1, CredentialHash: credHash(user1, pass1)},
			}},
		},
		{
			name: "N absent, no secret, IfNotPresent: 401", preloadN: "",
			ns: nsY, pullPolicy: v1.PullIfNotPresent,
			want: deniedOutcome(v1.PullIfNotPresent, pullmanager.VerificationNotPresent, ""),
		},
		{
			name: "N absent, S1, Never", preloadN: "",
			ns: nsX, secrets: []string{secretS1}, pullPolicy: v1.PullNever,
			want: deniedOutcome(v1.PullNever, pullmanager.VerificationNotPresent, ""),
		},
		{
			name: "N preloaded before M, default policy, no secret, Never", preloadN: "before",
			ns: nsY, pullPolicy: v1.PullNever,
			want: outcome{admitted: true, verification: pullmanager.VerificationNotPulledByKubelet, noRegistryContact: true},
		},
		{
			name: "N preloaded after M, default policy, no secret, IfNotPresent", preloadN: "after",
			ns: nsY, pullPolicy: v1.PullIfNotPresent,
			want: outcome{admitted: true, verification: pullmanager.VerificationNotPulledByKubelet, noRegistryContact: true},
		},
		{
			name: "N preloaded before M, AlwaysVerify, no secret, IfNotPresent", policy: kubeletconfig.AlwaysVerify, preloadN: "before",
			ns: nsY, pullPolicy: v1.PullIfNotPresent,
			want: deniedOutcome(v1.PullIfNotPresent, pullmanager.VerificationMustPull, ""),
		},
		{
			name: "N preloaded after M, AlwaysVerify, no secret, Never", policy: kubeletconfig.AlwaysVerify, preloadN: "after",
			ns: nsY, pullPolicy: v1.PullNever,
			want: deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""),
		},
		{
			name: "N preloaded after M, AlwaysVerify, S1, Never: M's record does not grant N", policy: kubeletconfig.AlwaysVerify, preloadN: "after",
			ns: nsX, secrets: []string{secretS1}, pullPolicy: v1.PullNever,
			want: deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""),
		},
		{
			name: "N preloaded before M, AlwaysVerify, S1, IfNotPresent: verified by a pull", policy: kubeletconfig.AlwaysVerify, preloadN: "before",
			ns: nsX, secrets: []string{secretS1}, pullPolicy: v1.PullIfNotPresent,
			want: outcome{admitted: true, verification: pullmanager.VerificationMustPull, pullAttempted: true, pulledAs: []string{user1}},
			wantN: &kubeletv1beta1.ImagePullCredentials{KubernetesSecrets: []kubeletv1beta1.ImagePullSecret{
				{UID: "uid-s1-1", Namespace: nsX, Name: secretS1, CredentialHash: credHash(user1, pass1)},
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{policy: tc.policy})
			if tc.preloadN == "before" {
				e.preload(repoN)
			}
			e.pullAsPodA(repoM)
			if tc.preloadN == "after" {
				e.preload(repoN)
			}
			id := e.ids[repoN]
			e.check(e.pod(tc.ns, e.image(repoN), tc.pullPolicy, tc.secrets...), id, tc.want)

			want := map[string]kubeletv1beta1.ImagePullCredentials{
				e.repoKey(repoM): secretsEntry(kubeletv1beta1.ImagePullSecret{
					UID: "uid-s1-1", Namespace: nsX, Name: secretS1, CredentialHash: credHash(user1, pass1),
				}),
			}
			if tc.wantN != nil {
				want[e.repoKey(repoN)] = *tc.wantN
			}
			assertMapping(t, e.mapping(id), want)
		})
	}
}

// TestAlwaysPullPolicy: with Always, the pull is the verification, every
// time, whatever the record says and whatever the policy.
func TestAlwaysPullPolicy(t *testing.T) {
	tests := []struct {
		name   string
		policy kubeletconfig.ImagePullCredentialsVerificationPolicy
	}{
		{name: "default policy", policy: kubeletconfig.NeverVerifyPreloadedImages},
		{name: "NeverVerify", policy: kubeletconfig.NeverVerify},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{policy: tc.policy})
			e.pullAsPodA(repoP)
			id := e.ids[repoP]
			e.check(e.pod(nsX, e.image(repoP), v1.PullAlways, secretS1), id, outcome{
				admitted: true, verification: pullmanager.VerificationMustPull, pullAttempted: true, pulledAs: []string{user1},
			})
			e.check(e.pod(nsY, e.image(repoP), v1.PullAlways, secretRefused), "", outcome{
				reason: "ErrImagePull", verification: pullmanager.VerificationMustPull,
				pullAttempted: true, pulledAs: []string{user1}, message: "401 Unauthorized",
			})
			e.check(e.pod(nsY, e.image(repoP), v1.PullAlways), "", outcome{
				reason: "ErrImagePull", verification: pullmanager.VerificationMustPull,
				pullAttempted: true, pulledAs: []string{""}, message: "401 Unauthorized",
			})
			assertMapping(t, e.mapping(id), map[string]kubeletv1beta1.ImagePullCredentials{
				e.repoKey(repoP): secretsEntry(e.secretCred(nsX, secretS1, user1, pass1)),
			})
		})
	}
}
