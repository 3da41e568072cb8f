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
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2/ktesting"

	"k8s.io/kubernetes/pkg/credentialprovider"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// fakePlugins stands in for the credential provider plugins: it maps a
// pod's service account to a registry user (a token exchange), or gives a
// node credential to pods without one. It counts its calls.
type fakePlugins struct {
	mu sync.Mutex
	// bySA maps "ns/serviceaccount" to the user the exchange returns;
	// the password is user+"-pw".
	bySA map[string]string
	// saUID gives each service account's UID (a recreated account has a
	// new one).
	saUID map[string]string
	// nodeUser is returned, without a source, to pods whose service
	// account is not mapped; "" for none.
	nodeUser string
	// err fails every call when set.
	err   error
	calls []string
}

func (f *fakePlugins) lookup(_ context.Context, pod *v1.Pod, image string) ([]credentialprovider.TrackedAuthConfig, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := pod.Namespace + "/" + pod.Spec.ServiceAccountName
	f.calls = append(f.calls, key+" "+image)
	if f.err != nil {
		return nil, f.err
	}
	if !strings.HasPrefix(image, "reg.example/") {
		return nil, nil
	}
	if user, ok := f.bySA[key]; ok {
		src := &credentialprovider.CredentialSource{ServiceAccount: &credentialprovider.ServiceAccountCoordinates{
			UID: f.saUID[key], Namespace: pod.Namespace, Name: pod.Spec.ServiceAccountName,
		}}
		return []credentialprovider.TrackedAuthConfig{credentialprovider.NewTrackedAuthConfig(credentialprovider.AuthConfig{Username: user, Password: user + "-pw"}, src)}, nil
	}
	if f.nodeUser != "" {
		return []credentialprovider.TrackedAuthConfig{credentialprovider.NewTrackedAuthConfig(credentialprovider.AuthConfig{Username: f.nodeUser, Password: f.nodeUser + "-pw"}, nil)}, nil
	}
	return nil, nil
}

func (f *fakePlugins) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.calls
	f.calls = nil
	return out
}

func saPod(ns, name, serviceAccount, image string, policy v1.PullPolicy, secretNames ...string) *v1.Pod {
	pod := newPod(ns, name, image, policy, secretNames...)
	pod.Spec.ServiceAccountName = serviceAccount
	return pod
}

// TestServiceAccountCredentials: a pull with a credential a plugin got with
// the pod's service account token records the service account; a pod of
// the same account reuses the image without a pull, one of another account
// or of a recreated account (new UID) must pull.
func TestServiceAccountCredentials(t *testing.T) {
	for _, policy := range []kubeletconfig.ImagePullCredentialsVerificationPolicy{kubeletconfig.NeverVerifyPreloadedImages, kubeletconfig.AlwaysVerify} {
		t.Run(string(policy), func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			plugins := &fakePlugins{
				bySA:  map[string]string{nsX + "/builder": "alice", nsY + "/other": "mallory"},
				saUID: map[string]string{nsX + "/builder": "uid-builder", nsY + "/other": "uid-other"},
			}
			env := newTestEnv(ctx, t, envOptions{policy: policy, plugins: plugins.lookup})

			res := env.mustAdmit(ctx, saPod(nsX, "first", "builder", privateApp, v1.PullIfNotPresent))
			if res.Verification != pullmanager.VerificationNotPresent || !res.PullAttempted {
				t.Fatalf("first pull: %+v", res)
			}
			if diff := cmp.Diff([]string{"sa:" + nsX + "/builder"}, env.recordedCredentials(privateAppID, privateApp)); diff != "" {
				t.Errorf("recorded (-want +got):\n%s", diff)
			}
			env.runtime.resetPulls()

			// The same service account, another pod: no pull.
			for _, pullPolicy := range []v1.PullPolicy{v1.PullIfNotPresent, v1.PullNever} {
				res = env.mustAdmit(ctx, saPod(nsX, "same-sa-"+strings.ToLower(string(pullPolicy)), "builder", privateApp, pullPolicy))
				if res.Verification != pullmanager.VerificationServiceAccount || res.PullAttempted {
					t.Errorf("same service account, %s: %+v, want reused by serviceAccount", pullPolicy, res)
				}
			}
			if pulls := env.runtime.pullLog(); len(pulls) != 0 {
				t.Errorf("same service account pulled: %v", pulls)
			}

			// Another service account whose credentials the registry refuses.
			res, err := env.ensure(ctx, saPod(nsY, "other-sa", "other", privateApp, v1.PullIfNotPresent))
			if !errors.Is(err, ErrImagePull) || !res.PullAttempted || res.Verification != pullmanager.VerificationMustPull {
				t.Errorf("other service account, IfNotPresent: %+v, %v; want a refused pull", res, err)
			}
			res, err = env.ensure(ctx, saPod(nsY, "other-sa-never", "other", privateApp, v1.PullNever))
			if !errors.Is(err, ErrImageNeverPull) || res.PullAttempted {
				t.Errorf("other service account, Never: %+v, %v; want ErrImageNeverPull", res, err)
			}

			// The account deleted and recreated: same name, new UID.
			plugins.mu.Lock()
			plugins.saUID[nsX+"/builder"] = "uid-builder-2"
			plugins.mu.Unlock()
			env.runtime.resetPulls()
			res, err = env.ensure(ctx, saPod(nsX, "recreated", "builder", privateApp, v1.PullNever))
			if !errors.Is(err, ErrImageNeverPull) {
				t.Errorf("recreated service account, Never: %+v, %v; want ErrImageNeverPull", res, err)
			}
			res = env.mustAdmit(ctx, saPod(nsX, "recreated-pull", "builder", privateApp, v1.PullIfNotPresent))
			if res.Verification != pullmanager.VerificationMustPull || !res.PullAttempted {
				t.Errorf("recreated service account, IfNotPresent: %+v, want a pull", res)
			}
		})
	}
}

// TestPluginCredentialsOrderAndSources: plugin credentials are tried after
// the pod's Secrets and the node-wide docker config; a plugin credential
// without a service account records nodePodsAccessible.
func TestPluginCredentialsOrderAndSources(t *testing.T) {
	tests := []struct {
		name         string
		secrets      []string
		nodeKeyring  bool
		plugins      *fakePlugins
		wantPulls    []string
		wantRecorded []string
	}{
		{
			name:         "pod Secret first",
			secrets:      []string{"s3"},
			plugins:      &fakePlugins{bySA: map[string]string{nsX + "/builder": "alice"}, saUID: map[string]string{nsX + "/builder": "uid-b"}},
			wantPulls:    []string{privateApp + " carol"},
			wantRecorded: []string{nsX + "/s3"},
		},
		{
			name:         "node-wide docker config before plugins",
			nodeKeyring:  true,
			plugins:      &fakePlugins{bySA: map[string]string{nsX + "/builder": "alice"}, saUID: map[string]string{nsX + "/builder": "uid-b"}},
			wantPulls:    []string{privateApp + " mallory", privateApp + " alice"},
			wantRecorded: []string{"sa:" + nsX + "/builder"},
		},
		{
			name:         "plugin credential without a token is node-wide",
			plugins:      &fakePlugins{nodeUser: "carol"},
			wantPulls:    []string{privateApp + " carol"},
			wantRecorded: []string{"node"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			opts := envOptions{plugins: tc.plugins.lookup}
			if tc.nodeKeyring {
				opts.nodeKeyring = nodeKeyringFor(t, "reg.example", "mallory", "guess")
			}
			env := newTestEnv(ctx, t, opts)
			env.mustAdmit(ctx, saPod(nsX, "pod", "builder", privateApp, v1.PullAlways, tc.secrets...))
			if diff := cmp.Diff(tc.wantPulls, env.runtime.pullLog()); diff != "" {
				t.Errorf("runtime pulls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantRecorded, env.recordedCredentials(privateAppID, privateApp)); diff != "" {
				t.Errorf("recorded (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPluginFailureFailsSafe: a plugin that fails fails the container
// whatever its pull policy, even for a pod whose service account is on
// record; nothing is pulled or recorded.
func TestPluginFailureFailsSafe(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	plugins := &fakePlugins{bySA: map[string]string{nsX + "/builder": "alice"}, saUID: map[string]string{nsX + "/builder": "uid-b"}}
	env := newTestEnv(ctx, t, envOptions{plugins: plugins.lookup})
	env.mustAdmit(ctx, saPod(nsX, "first", "builder", privateApp, v1.PullIfNotPresent))
	before := env.recordedCredentials(privateAppID, privateApp)
	env.runtime.resetPulls()

	plugins.mu.Lock()
	plugins.err = errors.New(`credential provider plugin "exchange": timed out after 1m0s`)
	plugins.mu.Unlock()
	for _, policy := range []v1.PullPolicy{v1.PullIfNotPresent, v1.PullNever, v1.PullAlways} {
		res, err := env.ensure(ctx, saPod(nsX, "down-"+strings.ToLower(string(policy)), "builder", privateApp, policy))
		if !errors.Is(err, ErrImagePull) || res.ImageRef != "" {
			t.Errorf("%s with the plugin down: %+v, %v; want ErrImagePull", policy, res, err)
		}
		if !strings.Contains(res.Message, `credential provider plugin "exchange"`) {
			t.Errorf("%s: message %q does not name the plugin", policy, res.Message)
		}
	}
	// A new image with the plugin down: no intent, no pull, no record.
	res, err := env.ensure(ctx, saPod(nsX, "new-image", "builder", "reg.example/team/other:1", v1.PullIfNotPresent))
	if !errors.Is(err, ErrImagePull) || res.PullAttempted {
		t.Errorf("new image with the plugin down: %+v, %v", res, err)
	}
	if pulls := env.runtime.pullLog(); len(pulls) != 0 {
		t.Errorf("pulled with the plugin down: %v", pulls)
	}
	if got := env.intentFiles(); len(got) != 0 {
		t.Errorf("intents left: %v", got)
	}
	if diff := cmp.Diff(before, env.recordedCredentials(privateAppID, privateApp)); diff != "" {
		t.Errorf("record changed with the plugin down (-before +after):\n%s", diff)
	}
}

// TestPluginsRunLazilyOnce: plugins run only when the decision needs the
// pod's credentials, and once per container even when a decision is
// followed by a pull.
func TestPluginsRunLazilyOnce(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	plugins := &fakePlugins{bySA: map[string]string{nsX + "/builder": "alice"}, saUID: map[string]string{nsX + "/builder": "uid-b"}}
	env := newTestEnv(ctx, t, envOptions{plugins: plugins.lookup})

	// A preloaded image under the default policy: no credentials needed.
	env.runtime.preload(publicTool)
	env.mustAdmit(ctx, saPod(nsX, "preloaded", "builder", publicTool, v1.PullIfNotPresent))
	if calls := plugins.takeCalls(); len(calls) != 0 {
		t.Errorf("plugins ran for a preloaded image: %v", calls)
	}

	env.mustAdmit(ctx, saPod(nsX, "first", "builder", privateApp, v1.PullIfNotPresent))
	if diff := cmp.Diff([]string{nsX + "/builder " + privateApp}, plugins.takeCalls()); diff != "" {
		t.Errorf("plugin calls for a pull (-want +got):\n%s", diff)
	}
	// Decision (service account not recorded for nsY) then pull: one call.
	_, _ = env.ensure(ctx, saPod(nsY, "other", "nobody", privateApp, v1.PullIfNotPresent))
	if diff := cmp.Diff([]string{nsY + "/nobody " + privateApp}, plugins.takeCalls()); diff != "" {
		t.Errorf("plugin calls for a decision and a pull (-want +got):\n%s", diff)
	}
}
