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
	"slices"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/kubernetes/pkg/credentialprovider"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// TestPullSecretProblems: a missing pull Secret is a warning and the pod
// goes on with its other Secrets; a Secret that does not parse fails the
// container with ErrImagePull whatever its pull policy, but only when a
// decision or a pull needs the pod's credentials.
func TestPullSecretProblems(t *testing.T) {
	const (
		missing  = "missing"
		garbled  = "garbled"
		warnings = "Warning FailedToRetrieveImagePullSecret Unable to retrieve some image pull secrets (" + missing + "); attempting to pull the image may not succeed."
	)
	tests := []struct {
		name   string
		policy kubeletconfig.ImagePullCredentialsVerificationPolicy
		// preloaded puts P in the runtime without the kubelet instead of
		// pod A pulling it.
		preloaded  bool
		secrets    []string
		pullPolicy v1.PullPolicy
		want       outcome
		wantEvent  string
	}{
		{
			name:    "missing secret and S1, Never",
			secrets: []string{missing, secretS1}, pullPolicy: v1.PullNever,
			want:      outcome{admitted: true, verification: pullmanager.VerificationSecretHash, noRegistryContact: true},
			wantEvent: warnings,
		},
		{
			name:    "missing secret only, IfNotPresent",
			secrets: []string{missing}, pullPolicy: v1.PullIfNotPresent,
			want:      deniedOutcome(v1.PullIfNotPresent, pullmanager.VerificationMustPull, ""),
			wantEvent: warnings,
		},
		{
			name:    "garbled secret, IfNotPresent",
			secrets: []string{garbled, secretS1}, pullPolicy: v1.PullIfNotPresent,
			want: outcome{reason: "ErrImagePull", verification: pullmanager.VerificationMustPull, noRegistryContact: true, message: garbled},
		},
		{
			name:    "garbled secret, Never",
			secrets: []string{garbled, secretS1}, pullPolicy: v1.PullNever,
			want: outcome{reason: "ErrImagePull", verification: pullmanager.VerificationMustPull, noRegistryContact: true, message: garbled},
		},
		{
			name:    "garbled secret not needed under NeverVerify",
			policy:  kubeletconfig.NeverVerify,
			secrets: []string{garbled}, pullPolicy: v1.PullNever,
			want: outcome{admitted: true, verification: pullmanager.VerificationPolicy, noRegistryContact: true},
		},
		{
			name:      "garbled secret not needed for a preloaded image",
			preloaded: true,
			secrets:   []string{garbled}, pullPolicy: v1.PullIfNotPresent,
			want: outcome{admitted: true, verification: pullmanager.VerificationNotPulledByKubelet, noRegistryContact: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{policy: tc.policy})
			e.setSecret(nsX, garbled, "uid-garbled-1", []byte(`{"auths":`))
			if tc.preloaded {
				e.preload(repoP)
			} else {
				e.pullAsPodA(repoP)
			}
			e.events()
			e.check(e.pod(nsX, e.image(repoP), tc.pullPolicy, tc.secrets...), e.ids[repoP], tc.want)
			// Nothing is granted to a Secret that does not parse.
			var want map[string]kubeletv1beta1.ImagePullCredentials
			if !tc.preloaded {
				want = map[string]kubeletv1beta1.ImagePullCredentials{
					e.repoKey(repoP): secretsEntry(e.secretCred(nsX, secretS1, user1, pass1)),
				}
			}
			assertMapping(t, e.mapping(e.ids[repoP]), want)
			events := e.events()
			if tc.wantEvent != "" && !hasEvent(events, v1.EventTypeWarning, "FailedToRetrieveImagePullSecret") {
				t.Errorf("events %q lack %q", events, tc.wantEvent)
			}
			for _, ev := range events {
				if strings.HasPrefix(ev, "Warning FailedToRetrieveImagePullSecret") && ev != tc.wantEvent {
					t.Errorf("event %q, want %q", ev, tc.wantEvent)
				}
			}
		})
	}
}

// TestSecondWriterRefused: a second pull manager cannot open a root dir a
// running one writes to, and can once it is closed.
func TestSecondWriterRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.pullAsPodA(repoP)
	second, err := pullmanager.NewFileBackedPullManager(e.ctx, pullmanager.Options{RootDir: e.rootDir})
	if err == nil {
		_ = second.Close()
		t.Fatalf("a second pull manager opened %s while the first holds it", e.rootDir)
	}
	e.restart()
	e.check(e.pod(nsX, e.image(repoP), v1.PullNever, secretS1), e.ids[repoP], outcome{
		admitted: true, verification: pullmanager.VerificationSecretHash, noRegistryContact: true,
	})
}

// TestImageStringForms: records are keyed by repo(image) and the image ID
// whatever form the pod writes the image in, so S1's pull of P by tag
// decides for P by digest, by tag and digest, and untagged (latest is the
// same image).
func TestImageStringForms(t *testing.T) {
	tests := []struct {
		name  string
		image func(e *env) string
	}{
		{name: "by digest", image: func(e *env) string { return e.repoKey(repoP) + "@" + e.digests[repoP] }},
		{name: "by tag and digest", image: func(e *env) string { return e.image(repoP) + "@" + e.digests[repoP] }},
		{name: "untagged", image: func(e *env) string { return e.repoKey(repoP) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{policy: kubeletconfig.AlwaysVerify})
			e.pullAsPodA(repoP)
			// The untagged form needs latest in the runtime: pod A pulls
			// it, which also tells whether the record takes it under the
			// same key.
			if tc.name == "untagged" {
				e.check(e.pod(nsX, tc.image(e), v1.PullIfNotPresent, secretS1), e.ids[repoP], outcome{
					admitted: true, verification: pullmanager.VerificationNotPresent, pullAttempted: true, pulledAs: []string{user1},
				})
			}
			id := e.ids[repoP]
			e.check(e.pod(nsX, tc.image(e), v1.PullNever, secretS1), id, outcome{
				admitted: true, verification: pullmanager.VerificationSecretHash, noRegistryContact: true,
			})
			e.check(e.pod(nsY, tc.image(e), v1.PullNever), id, deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""))
			assertMapping(t, e.mapping(id), map[string]kubeletv1beta1.ImagePullCredentials{
				e.repoKey(repoP): secretsEntry(e.secretCred(nsX, secretS1, user1, pass1)),
			})
		})
	}
}

// TestCredentialOrder: every credential of the pod that matches the image is
// tried, most specific registry key first, until one pull succeeds; the one
// that succeeded is recorded, and when some matched and all failed there is
// no anonymous retry.
func TestCredentialOrder(t *testing.T) {
	const multi = "multi"
	e := newEnv(t, envOptions{})
	// The specific key holds a refused password, the host-wide key user2.
	e.setSecret(nsX, multi, "uid-multi-1", mustJSON(map[string]any{
		"auths": map[string]any{
			e.reg.Addr():               map[string]string{"username": user2, "password": pass2},
			e.reg.Addr() + "/" + repoP: map[string]string{"username": user1, "password": refusedPassword},
		},
	}))
	e.check(e.pod(nsX, e.image(repoP), v1.PullIfNotPresent, multi), e.ids[repoP], outcome{
		admitted: true, verification: pullmanager.VerificationNotPresent, pullAttempted: true, pulledAs: []string{user1, user2},
	})
	assertMapping(t, e.mapping(e.ids[repoP]), map[string]kubeletv1beta1.ImagePullCredentials{
		e.repoKey(repoP): secretsEntry(kubeletv1beta1.ImagePullSecret{
			UID: "uid-multi-1", Namespace: nsX, Name: multi, CredentialHash: credHash(user2, pass2),
		}),
	})
	// The same Secret now decides from the record, whichever of its
	// credentials matches.
	e.check(e.pod(nsX, e.image(repoP), v1.PullNever, multi), e.ids[repoP], outcome{
		admitted: true, verification: pullmanager.VerificationSecretHash, noRegistryContact: true,
	})

	// Only a refused credential matches the public image: the pull fails
	// although an anonymous pull would succeed.
	e.check(e.pod(nsY, e.image(repoPublic), v1.PullIfNotPresent, secretRefused), "", outcome{
		reason: "ErrImagePull", verification: pullmanager.VerificationNotPresent,
		pullAttempted: true, pulledAs: []string{user1}, message: "401 Unauthorized",
	})
}

// TestNodeWideCredentials: a pull with node-wide credentials makes the name
// usable by every pod on the node; pod credentials are tried first and
// recorded as the pod's.
func TestNodeWideCredentials(t *testing.T) {
	e := newEnv(t, envOptions{
		policy: kubeletconfig.AlwaysVerify,
		nodeCreds: func(host string) credentialprovider.DockerConfig {
			return credentialprovider.DockerConfig{host: {Username: user1, Password: pass1}}
		},
	})
	e.check(e.pod(nsX, e.image(repoQ), v1.PullIfNotPresent, secretS3), e.ids[repoQ], outcome{
		admitted: true, verification: pullmanager.VerificationNotPresent, pullAttempted: true, pulledAs: []string{user2},
	})
	assertMapping(t, e.mapping(e.ids[repoQ]), map[string]kubeletv1beta1.ImagePullCredentials{
		e.repoKey(repoQ): secretsEntry(e.secretCred(nsX, secretS3, user2, pass2)),
	})

	e.check(e.pod(nsY, e.image(repoP), v1.PullIfNotPresent), e.ids[repoP], outcome{
		admitted: true, verification: pullmanager.VerificationNotPresent, pullAttempted: true, pulledAs: []string{user1},
	})
	assertMapping(t, e.mapping(e.ids[repoP]), map[string]kubeletv1beta1.ImagePullCredentials{
		e.repoKey(repoP): {NodePodsAccessible: true},
	})
	e.check(e.pod(nsY, e.image(repoP), v1.PullNever, secretRefused), e.ids[repoP], outcome{
		admitted: true, verification: pullmanager.VerificationNodeAccessible, noRegistryContact: true,
	})
}

// TestSecretTypes: kubernetes.io/dockercfg Secrets count like
// dockerconfigjson ones; Secrets of another type are ignored with a warning;
// a Secret for another registry leaves the pull anonymous.
func TestSecretTypes(t *testing.T) {
	e := newEnv(t, envOptions{policy: kubeletconfig.AlwaysVerify})
	e.pullAsPodA(repoP)
	id := e.ids[repoP]
	e.secretsMu.Lock()
	e.secrets[nsX+"/legacy"] = &v1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: nsX, Name: "legacy", UID: "uid-legacy-1"},
		Type:       v1.SecretTypeDockercfg,
		Data: map[string][]byte{v1.DockerConfigKey: mustJSON(map[string]any{
			e.reg.Addr(): map[string]string{"username": user1, "password": pass1},
		})},
	}
	e.secrets[nsX+"/opaque"] = &v1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: nsX, Name: "opaque", UID: "uid-opaque-1"},
		Type:       v1.SecretTypeOpaque,
		Data:       map[string][]byte{v1.DockerConfigJsonKey: dockerConfigJSON(e.reg.Addr(), user1, pass1)},
	}
	e.secretsMu.Unlock()
	e.setSecret(nsY, "elsewhere", "uid-elsewhere-1", dockerConfigJSON("reg.example", user1, pass1))

	e.check(e.pod(nsX, e.image(repoP), v1.PullNever, "legacy"), id, outcome{
		admitted: true, verification: pullmanager.VerificationSecretHash, noRegistryContact: true,
	})
	assertMapping(t, e.mapping(id), map[string]kubeletv1beta1.ImagePullCredentials{
		e.repoKey(repoP): secretsEntry(
			kubeletv1beta1.ImagePullSecret{UID: "uid-legacy-1", Namespace: nsX, Name: "legacy", CredentialHash: credHash(user1, pass1)},
			e.secretCred(nsX, secretS1, user1, pass1),
		),
	})

	e.events()
	e.check(e.pod(nsX, e.image(repoP), v1.PullIfNotPresent, "opaque"), "", deniedOutcome(v1.PullIfNotPresent, pullmanager.VerificationMustPull, ""))
	want := "Warning FailedToRetrieveImagePullSecret Unable to retrieve some image pull secrets (opaque); attempting to pull the image may not succeed."
	if events := e.events(); !slices.Contains(events, want) {
		t.Errorf("events %q lack %q", events, want)
	}

	e.check(e.pod(nsY, e.image(repoPublic), v1.PullIfNotPresent, "elsewhere"), e.ids[repoPublic], outcome{
		admitted: true, verification: pullmanager.VerificationNotPresent, pullAttempted: true, pulledAs: []string{""},
	})
	assertMapping(t, e.mapping(e.ids[repoPublic]), map[string]kubeletv1beta1.ImagePullCredentials{
		e.repoKey(repoPublic): {NodePodsAccessible: true},
	})
}

// TestInvalidImageName: an image string that does not parse fails with
// InvalidImageName before the runtime or the registry is asked.
func TestInvalidImageName(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.events()
	e.check(e.pod(nsX, e.reg.Addr()+"/Team-A/P:1", v1.PullIfNotPresent, secretS1), "", outcome{
		reason: "InvalidImageName", noRegistryContact: true, message: "Failed to apply default image tag",
	})
	if events := e.events(); !hasEvent(events, v1.EventTypeWarning, "InspectFailed") {
		t.Errorf("events %q lack a Warning InspectFailed event", events)
	}
	if got := e.intentFiles(); len(got) != 0 {
		t.Errorf("intents written for an invalid image: %v", got)
	}
}
