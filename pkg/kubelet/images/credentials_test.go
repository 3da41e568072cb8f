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
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2/ktesting"

	"k8s.io/kubernetes/pkg/credentialprovider"
	"k8s.io/kubernetes/pkg/credentialprovider/secrets"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// nodeKeyringFor returns a node-wide keyring with one credential.
func nodeKeyringFor(t *testing.T, registry, user, password string) credentialprovider.DockerKeyring {
	t.Helper()
	cfg, err := credentialprovider.ParseDockerConfigJSON(dockerConfigJSON(registry, user, password))
	if err != nil {
		t.Fatalf("parsing a docker config: %v", err)
	}
	keyring := &credentialprovider.BasicDockerKeyring{}
	keyring.Add(nil, cfg)
	return keyring
}

// secretFor is a dockerconfigjson Secret in namespace X for one registry key.
func secretFor(name, registry, user, password string) *v1.Secret {
	s := dockerSecret(nsX, name, "uid-"+name, user, password)
	s.Data[v1.DockerConfigJsonKey] = dockerConfigJSON(registry, user, password)
	return s
}

func TestCredentialsTriedInOrder(t *testing.T) {
	extraSecrets := []*v1.Secret{
		secretFor("refused-x", "reg.example", "mallory", "guess"),
		secretFor("other-registry", "other.example", "alice", "alice-pw"),
		// carol is allowed on the team path only; alice everywhere.
		secretFor("team-carol", "reg.example/team", "carol", "carol-pw"),
		secretFor("host-alice", "reg.example", "alice", "alice-pw"),
	}
	tests := []struct {
		name        string
		image       string
		secrets     []string
		nodeKeyring bool
		wantPulls   []string
		wantReason  string
		// wantRecorded is what the record holds under repo(image).
		wantRecorded []string
	}{
		{
			name: "pod Secrets in order until one succeeds", image: privateApp, secrets: []string{"refused-x", "s1"},
			wantPulls:    []string{privateApp + " mallory", privateApp + " alice"},
			wantRecorded: []string{nsX + "/s1"},
		},
		{
			name: "the more specific registry key first", image: privateApp, secrets: []string{"host-alice", "team-carol"},
			wantPulls:    []string{privateApp + " carol"},
			wantRecorded: []string{nsX + "/team-carol"},
		},
		{
			name: "pod Secrets before node-wide credentials", image: privateApp, secrets: []string{"s1"}, nodeKeyring: true,
			wantPulls:    []string{privateApp + " alice"},
			wantRecorded: []string{nsX + "/s1"},
		},
		{
			name: "node-wide credentials after refused pod Secrets", image: privateApp, secrets: []string{"refused-x"}, nodeKeyring: true,
			wantPulls:    []string{privateApp + " mallory", privateApp + " carol"},
			wantRecorded: []string{"node"},
		},
		{
			name: "no matching credential: anonymous pull", image: publicTool, secrets: []string{"other-registry"},
			wantPulls:    []string{publicTool},
			wantRecorded: []string{"node"},
		},
		{
			name: "matching credentials all refused: no anonymous retry", image: publicTool, secrets: []string{"refused-x"},
			wantPulls:  []string{publicTool + " mallory"},
			wantReason: "ErrImagePull",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			opts := envOptions{secrets: extraSecrets}
			if tc.nodeKeyring {
				opts.nodeKeyring = nodeKeyringFor(t, "reg.example", "carol", "carol-pw")
			}
			env := newTestEnv(ctx, t, opts)
			res, _ := env.ensure(ctx, newPod(nsX, "pod", tc.image, v1.PullAlways, tc.secrets...))
			if res.Reason != tc.wantReason {
				t.Errorf("reason = %q (%s), want %q", res.Reason, res.Message, tc.wantReason)
			}
			if diff := cmp.Diff(tc.wantPulls, env.runtime.pullLog()); diff != "" {
				t.Errorf("runtime pulls (-want +got):\n%s", diff)
			}
			imageID := privateAppID
			if tc.image == publicTool {
				imageID = publicToolID
			}
			if diff := cmp.Diff(tc.wantRecorded, env.recordedCredentials(imageID, tc.image)); diff != "" {
				t.Errorf("recorded credentials (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRecordedHash: the recorded Secret carries the hash of the credential
// that succeeded, so that another Secret with the same content matches it.
func TestRecordedHash(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	pm := &recordingPullManager{PullManager: pullmanager.NewNoopPullManager()}
	var recorded *kubeletconfig.ImagePullCredentials
	env := newTestEnv(ctx, t, envOptions{pullManager: &credsCapture{PullManager: pm, got: &recorded}})
	env.mustAdmit(ctx, newPod(nsX, "pod", privateApp, v1.PullAlways, "s1"))
	want := &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{{
		UID: "uid-s1", Namespace: nsX, Name: "s1",
		CredentialHash: credentialprovider.HashAuthConfig(credentialprovider.AuthConfig{Username: "alice", Password: "alice-pw"}),
	}}}
	if diff := cmp.Diff(want, recorded); diff != "" {
		t.Errorf("recorded credentials (-want +got):\n%s", diff)
	}
}

// credsCapture keeps the credentials of the last RecordImagePulled call.
type credsCapture struct {
	pullmanager.PullManager
	got **kubeletconfig.ImagePullCredentials
}

func (c *credsCapture) RecordImagePulled(ctx context.Context, image, imageRef string, creds *kubeletconfig.ImagePullCredentials) error {
	*c.got = creds
	return c.PullManager.RecordImagePulled(ctx, image, imageRef, creds)
}

func TestPullSecrets(t *testing.T) {
	opaque := &v1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: nsX, Name: "opaque", UID: "uid-opaque"}, Type: v1.SecretTypeOpaque,
		Data: map[string][]byte{v1.DockerConfigJsonKey: dockerConfigJSON("reg.example", "alice", "alice-pw")}}
	empty := &v1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: nsX, Name: "empty", UID: "uid-empty"}, Type: v1.SecretTypeDockerConfigJson}
	broken := dockerSecret(nsX, "broken", "uid-broken", "", "")
	broken.Data[v1.DockerConfigJsonKey] = []byte(`{"auths":{"reg.example":{"auth":"not base64!"}}}`)
	stringData := &v1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: nsX, Name: "string-data", UID: "uid-string-data"}, Type: v1.SecretTypeDockerConfigJson,
		StringData: map[string]string{v1.DockerConfigJsonKey: string(dockerConfigJSON("reg.example", "alice", "alice-pw"))}}
	noNamespace := dockerSecret("", "no-namespace", "uid-no-namespace", "alice", "alice-pw")
	// Stored under tenant-x, claiming tenant-y: a getter that misbehaves.
	foreign := dockerSecret(nsY, "foreign", "uid-foreign", "alice", "alice-pw")

	const brokenMessage = `invalid image pull secret "tenant-x/broken": invalid docker config (config.json format): an entry's auth field is not valid base64`
	warning := func(names string) string {
		return "pod Warning FailedToRetrieveImagePullSecret Unable to retrieve some image pull secrets (" + names + "); attempting to pull the image may not succeed."
	}
	tests := []struct {
		name       string
		policy     kubeletconfig.ImagePullCredentialsVerificationPolicy
		setup      setup
		pullPolicy v1.PullPolicy
		secrets    []string
		getterErr  error
		wantReason string
		wantMsg    string
		wantPull   bool
		// wantPodEvents are the pod-level events.
		wantPodEvents []string
		// wantGets are the Secrets fetched, in order.
		wantGets     []string
		wantRecorded []string
	}{
		{
			name: "missing Secret: warning, pull proceeds", pullPolicy: v1.PullAlways, secrets: []string{"absent", "s1"},
			wantPull: true, wantPodEvents: []string{warning("absent")},
			wantGets: []string{nsX + "/absent", nsX + "/s1"}, wantRecorded: []string{nsX + "/s1"},
		},
		{
			name: "Secret of another type: warning", pullPolicy: v1.PullAlways, secrets: []string{"opaque", "s1"},
			wantPull: true, wantPodEvents: []string{warning("opaque")},
			wantGets: []string{nsX + "/opaque", nsX + "/s1"}, wantRecorded: []string{nsX + "/s1"},
		},
		{
			name: "Secret without its key: warning", pullPolicy: v1.PullAlways, secrets: []string{"empty", "s1"},
			wantPull: true, wantPodEvents: []string{warning("empty")},
			wantGets: []string{nsX + "/empty", nsX + "/s1"}, wantRecorded: []string{nsX + "/s1"},
		},
		{
			name: "several: one warning in the pod's order, duplicates fetched once", pullPolicy: v1.PullAlways,
			secrets:  []string{"opaque", "s1", "absent", "s1", ""},
			wantPull: true, wantPodEvents: []string{warning("opaque, absent")},
			wantGets: []string{nsX + "/opaque", nsX + "/s1", nsX + "/absent"}, wantRecorded: []string{nsX + "/s1"},
		},
		{
			name: "only missing Secrets: anonymous pull refused", pullPolicy: v1.PullIfNotPresent, secrets: []string{"absent"},
			wantReason: "ErrImagePull", wantMsg: unauthorizedText(privateApp), wantPull: true,
			wantPodEvents: []string{warning("absent")}, wantGets: []string{nsX + "/absent"},
		},
		{
			name: "stringData is read", pullPolicy: v1.PullAlways, secrets: []string{"string-data"},
			wantPull: true, wantGets: []string{nsX + "/string-data"}, wantRecorded: []string{nsX + "/string-data"},
		},
		{
			name: "a Secret without namespace is the pod's", pullPolicy: v1.PullAlways, secrets: []string{"no-namespace"},
			wantPull: true, wantGets: []string{nsX + "/no-namespace"}, wantRecorded: []string{nsX + "/no-namespace"},
		},
		{
			name: "a Secret of another namespace is ignored", pullPolicy: v1.PullAlways, secrets: []string{"foreign"},
			wantReason: "ErrImagePull", wantMsg: unauthorizedText(privateApp), wantPull: true,
			wantPodEvents: []string{warning("foreign")}, wantGets: []string{nsX + "/foreign"},
		},
		{
			name: "unparsable Secret, Always", pullPolicy: v1.PullAlways, secrets: []string{"s1", "broken"},
			wantReason: "ErrImagePull", wantMsg: brokenMessage, wantGets: []string{nsX + "/s1", nsX + "/broken"},
		},
		{
			name: "unparsable Secret, IfNotPresent, absent", pullPolicy: v1.PullIfNotPresent, secrets: []string{"broken"},
			wantReason: "ErrImagePull", wantMsg: brokenMessage, wantGets: []string{nsX + "/broken"},
		},
		{
			name: "unparsable Secret, IfNotPresent, decision needs credentials", policy: kubeletconfig.AlwaysVerify,
			setup: setupPulledByA, pullPolicy: v1.PullIfNotPresent, secrets: []string{"broken"},
			wantReason: "ErrImagePull", wantMsg: `resolving the pod's credentials for "reg.example/team/app:1": ` + brokenMessage,
			wantGets: []string{nsX + "/broken"}, wantRecorded: []string{nsX + "/s1"},
		},
		{
			name: "unparsable Secret, Never, decision needs credentials", policy: kubeletconfig.AlwaysVerify,
			setup: setupPulledByA, pullPolicy: v1.PullNever, secrets: []string{"broken"},
			wantReason: "ErrImagePull", wantMsg: `resolving the pod's credentials for "reg.example/team/app:1": ` + brokenMessage,
			wantGets: []string{nsX + "/broken"}, wantRecorded: []string{nsX + "/s1"},
		},
		{
			name: "unparsable Secret not needed: preloaded image", setup: setupPreloaded, pullPolicy: v1.PullIfNotPresent, secrets: []string{"broken"},
		},
		{
			name: "unparsable Secret not needed: node accessible", policy: kubeletconfig.AlwaysVerify,
			setup: setupPulledAnonymously, pullPolicy: v1.PullNever, secrets: []string{"broken"}, wantRecorded: nil,
		},
		{
			name: "Secret not retrievable", pullPolicy: v1.PullAlways, secrets: []string{"s1"}, getterErr: errInjected,
			wantReason: "ErrImagePull", wantMsg: `retrieving image pull secret "tenant-x/s1": injected write failure`,
			wantGets: []string{nsX + "/s1"},
		},
		{
			name: "fetched once for the decision and the pull", policy: kubeletconfig.AlwaysVerify,
			setup: setupPulledByA, pullPolicy: v1.PullIfNotPresent, secrets: []string{"s3", "absent"},
			wantPull: true, wantPodEvents: []string{warning("absent")},
			wantGets: []string{nsX + "/s3", nsX + "/absent"}, wantRecorded: []string{nsX + "/s1", nsX + "/s3"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			env := newTestEnv(ctx, t, envOptions{policy: tc.policy, secrets: []*v1.Secret{opaque, empty, broken, stringData, foreign}})
			env.secrets[nsX+"/no-namespace"] = noNamespace
			env.secrets[nsX+"/foreign"] = foreign
			image, imageID := privateApp, privateAppID
			switch tc.setup {
			case setupPreloaded:
				env.runtime.preload(privateApp)
			case setupPulledByA:
				env.mustAdmit(ctx, newPod(nsX, "pod-a", privateApp, v1.PullIfNotPresent, "s1"))
			case setupPulledAnonymously:
				image, imageID = publicTool, publicToolID
				env.mustAdmit(ctx, newPod(nsX, "pod-a", publicTool, v1.PullIfNotPresent))
			}
			env.recorder.take()
			env.takeSecretGets()
			env.runtime.resetPulls()
			env.getSecretErr = tc.getterErr

			res, err := env.ensure(ctx, newPod(nsX, "pod-b", image, tc.pullPolicy, tc.secrets...))
			if res.Reason != tc.wantReason {
				t.Errorf("reason = %q (%s), want %q", res.Reason, res.Message, tc.wantReason)
			}
			if tc.wantReason != "" && res.Message != tc.wantMsg {
				t.Errorf("message = %q, want %q", res.Message, tc.wantMsg)
			}
			if tc.wantReason == "" && (err != nil || res.ImageRef != imageID) {
				t.Errorf("result = %+v, %v; want admitted as %s", res, err, imageID)
			}
			if res.PullAttempted != tc.wantPull || (len(env.runtime.pullLog()) > 0) != tc.wantPull {
				t.Errorf("PullAttempted = %v, runtime pulls %v; want a pull: %v", res.PullAttempted, env.runtime.pullLog(), tc.wantPull)
			}
			var podEvents []string
			for _, e := range env.recorder.take() {
				if len(e) > 4 && e[:4] == "pod " {
					podEvents = append(podEvents, e)
				}
			}
			if diff := cmp.Diff(tc.wantPodEvents, podEvents); diff != "" {
				t.Errorf("pod events (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantGets, env.takeSecretGets()); diff != "" {
				t.Errorf("Secrets fetched (-want +got):\n%s", diff)
			}
			if tc.setup != setupPulledAnonymously {
				if diff := cmp.Diff(tc.wantRecorded, env.recordedCredentials(imageID, image)); diff != "" {
					t.Errorf("recorded credentials (-want +got):\n%s", diff)
				}
			}
			switch {
			case tc.getterErr != nil:
				var secretErr *PullSecretError
				if !errors.As(err, &secretErr) || !errors.Is(err, tc.getterErr) || !errors.Is(err, ErrImagePull) {
					t.Errorf("error = %v, want ErrImagePull with a *PullSecretError wrapping the getter's error", err)
				}
			case tc.wantMsg == brokenMessage || tc.name == "unparsable Secret, Never, decision needs credentials":
				if !errors.Is(err, secrets.ErrInvalidPullSecret) || !errors.Is(err, ErrImagePull) {
					t.Errorf("error = %v, want ErrImagePull wrapping ErrInvalidPullSecret", err)
				}
			}
		})
	}
}

// TestNoSecretGetter: without a getter every referenced Secret counts as
// missing.
func TestNoSecretGetter(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	rt := newFakeRuntime()
	addRegistryImages(rt)
	recorder := &fakeRecorder{}
	m, err := NewImageManager(Options{ImageService: rt, Recorder: recorder})
	if err != nil {
		t.Fatalf("NewImageManager: %v", err)
	}
	defer m.Stop()
	pod := newPod(nsX, "pod", publicTool, v1.PullAlways, "s1", "s2")
	if _, err := m.EnsureImageExists(ctx, &v1.ObjectReference{Kind: "Pod", FieldPath: "spec.containers{app}"}, pod, &pod.Spec.Containers[0]); err != nil {
		t.Fatalf("EnsureImageExists: %v", err)
	}
	want := []string{
		"pod Warning FailedToRetrieveImagePullSecret Unable to retrieve some image pull secrets (s1, s2); attempting to pull the image may not succeed.",
		`spec.containers{app} Normal Pulling Pulling image "reg.example/public/tool:1"`,
		`spec.containers{app} Normal Pulled Successfully pulled image "reg.example/public/tool:1" in <d> (<d> including waiting). Image size: 567 bytes.`,
	}
	if diff := cmp.Diff(want, recorder.take()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
