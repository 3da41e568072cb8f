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

// podB is one row of the SPEC section 9 table: who pod B is.
type podB struct {
	name string
	// ns is pod B's namespace.
	ns string
	// secrets are pod B's pull Secrets.
	secrets []string
	// verified is the outcome when the policy verifies P, by pull policy.
	verified map[v1.PullPolicy]outcome
	// recordGains is the Secret entry the record of P gains when the policy
	// verifies P (nil for none), by pull policy.
	recordGains map[v1.PullPolicy]func(e *env) *kubeletv1beta1.ImagePullSecret
}

// TestSection9Matrix: P is pulled by pod A (namespace X, Secret S1), then pod
// B asks for P under every verification policy, pull policy and pod B row.
func TestSection9Matrix(t *testing.T) {
	// The registry answers 401: the pull fails.
	denied := func(pulledAs string) map[v1.PullPolicy]outcome {
		return map[v1.PullPolicy]outcome{
			v1.PullIfNotPresent: {
				reason: "ErrImagePull", verification: pullmanager.VerificationMustPull,
				pullAttempted: true, pulledAs: []string{pulledAs}, message: "401 Unauthorized",
			},
			v1.PullNever: {reason: "ErrImageNeverPull", verification: pullmanager.VerificationMustPull, noRegistryContact: true},
		}
	}
	byHash := outcome{admitted: true, verification: pullmanager.VerificationSecretHash, noRegistryContact: true}
	s2 := func(e *env) *kubeletv1beta1.ImagePullSecret {
		s := e.secretCred(nsX, secretS2, user1, pass1)
		return &s
	}
	s3 := func(e *env) *kubeletv1beta1.ImagePullSecret {
		s := e.secretCred(nsX, secretS3, user2, pass2)
		return &s
	}
	rows := []podB{
		{
			name:     "no pull secret",
			ns:       nsY,
			verified: denied(""),
		},
		{
			name:     "secret the registry refuses",
			ns:       nsY,
			secrets:  []string{secretRefused},
			verified: denied(user1),
		},
		{
			name:     "same secret S1",
			ns:       nsX,
			secrets:  []string{secretS1},
			verified: map[v1.PullPolicy]outcome{v1.PullIfNotPresent: byHash, v1.PullNever: byHash},
		},
		{
			name:        "another secret with the same credentials",
			ns:          nsX,
			secrets:     []string{secretS2},
			verified:    map[v1.PullPolicy]outcome{v1.PullIfNotPresent: byHash, v1.PullNever: byHash},
			recordGains: map[v1.PullPolicy]func(*env) *kubeletv1beta1.ImagePullSecret{v1.PullIfNotPresent: s2, v1.PullNever: s2},
		},
		{
			name:    "another secret with other valid credentials",
			ns:      nsX,
			secrets: []string{secretS3},
			verified: map[v1.PullPolicy]outcome{
				v1.PullIfNotPresent: {admitted: true, verification: pullmanager.VerificationMustPull, pullAttempted: true, pulledAs: []string{user2}},
				v1.PullNever:        {reason: "ErrImageNeverPull", verification: pullmanager.VerificationMustPull, noRegistryContact: true},
			},
			recordGains: map[v1.PullPolicy]func(*env) *kubeletv1beta1.ImagePullSecret{v1.PullIfNotPresent: s3},
		},
	}
	policies := []struct {
		name      kubeletconfig.ImagePullCredentialsVerificationPolicy
		allowlist func(host string) []string
	}{
		{name: kubeletconfig.NeverVerifyPreloadedImages},
		{name: kubeletconfig.AlwaysVerify},
		{
			name: kubeletconfig.NeverVerifyAllowlistedImages,
			// P is not listed; its neighbour is.
			allowlist: func(host string) []string { return []string{host + "/" + repoQ} },
		},
		{name: kubeletconfig.NeverVerify},
	}
	for _, policy := range policies {
		for _, pullPolicy := range []v1.PullPolicy{v1.PullIfNotPresent, v1.PullNever} {
			for _, row := range rows {
				t.Run(string(policy.name)+"/"+string(pullPolicy)+"/"+row.name, func(t *testing.T) {
					t.Parallel()
					e := newEnv(t, envOptions{policy: policy.name, allowlist: policy.allowlist})
					e.pullAsPodA(repoP)
					want := row.verified[pullPolicy]
					var gains *kubeletv1beta1.ImagePullSecret
					if policy.name == kubeletconfig.NeverVerify {
						// Admitted before any record is read, so the record
						// never changes.
						want = outcome{admitted: true, verification: pullmanager.VerificationPolicy, noRegistryContact: true}
					} else if g := row.recordGains[pullPolicy]; g != nil {
						gains = g(e)
					}
					e.events()
					if want.admitted && !want.pullAttempted {
						want.message = `Container image "` + e.image(repoP) + `" already present on machine and can be accessed by the pod`
					}
					e.check(e.pod(row.ns, e.image(repoP), pullPolicy, row.secrets...), e.ids[repoP], want)

					events := e.events()
					switch {
					case want.admitted && !want.pullAttempted:
						if !hasEvent(events, v1.EventTypeNormal, "Pulled") {
							t.Errorf("events %q lack a Normal Pulled event", events)
						}
					case want.admitted:
						if !hasEvent(events, v1.EventTypeNormal, "Pulling") || !hasEvent(events, v1.EventTypeNormal, "Pulled") {
							t.Errorf("events %q lack Normal Pulling and Pulled events", events)
						}
					case want.reason == "ErrImageNeverPull":
						if !hasEvent(events, v1.EventTypeWarning, "ErrImageNeverPull") {
							t.Errorf("events %q lack a Warning ErrImageNeverPull event", events)
						}
					default:
						if !hasEvent(events, v1.EventTypeWarning, "Failed") {
							t.Errorf("events %q lack a Warning Failed event", events)
						}
					}

					secrets := []kubeletv1beta1.ImagePullSecret{e.secretCred(nsX, secretS1, user1, pass1)}
					if gains != nil {
						secrets = append(secrets, *gains)
					}
					assertMapping(t, e.mapping(e.ids[repoP]), map[string]kubeletv1beta1.ImagePullCredentials{
						e.repoKey(repoP): secretsEntry(secrets...),
					})
				})
			}
		}
	}
}
