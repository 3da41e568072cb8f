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

package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

// scriptPlugin writes an exec plugin named name into a new bin dir: a shell
// script that appends its stdin to execLog and answers with user's
// credentials for the fixture's registry. It is a real executable run by
// the real exec path; what it answers does not depend on the request.
func (f *fixture) scriptPlugin(t *testing.T, name, user, execLog string) string {
	t.Helper()
	binDir := filepath.Join(t.TempDir(), "bin")
	if err := os.Mkdir(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	response := fmt.Sprintf(`{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","auth":{%q:{"username":%q,"password":%q}}}`,
		f.reg.Addr(), user, f.passwords[user])
	script := fmt.Sprintf("#!/bin/sh\ncat >> %q\necho >> %q\ncat <<'EOF'\n%s\nEOF\n", execLog, execLog, response)
	if err := os.WriteFile(filepath.Join(binDir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return binDir
}

// providerConfig returns a CredentialProviderConfig for one provider
// matching the fixture's registry, with tokenAttributes when audience is
// set.
func (f *fixture) providerConfig(name, audience string) string {
	config := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
- name: %s
  apiVersion: credentialprovider.kubelet.k8s.io/v1
  matchImages: [%q]
  defaultCacheDuration: 1m
`, name, f.reg.Addr())
	if audience != "" {
		config += fmt.Sprintf(`  tokenAttributes:
    serviceAccountTokenAudience: %s
    cacheType: ServiceAccount
    requireServiceAccount: true
    requiredServiceAccountAnnotationKeys: [registry.example/tenant]
`, audience)
	}
	return config
}

// TestEnsurePluginFlags: the provider flags come in pairs and the
// configuration is validated before anything else happens (exit code 2,
// one line naming the file and the field, nothing on stdout).
func TestEnsurePluginFlags(t *testing.T) {
	f := newFixture(t)
	binDir := f.scriptPlugin(t, "exchange", "alice", filepath.Join(t.TempDir(), "exec.log"))
	pod := f.write(t, "pod.yaml", testPod("team-a", "web", v1.PullIfNotPresent, nil, f.reg.Ref("team-a/app:1.0")))
	good := f.write(t, "providers.yaml", f.providerConfig("exchange", "registry.example"))
	tests := []struct {
		name       string
		args       []string
		wantStderr []string
	}{
		{
			name:       "config without bin dir",
			args:       []string{"--image-credential-provider-config", good},
			wantStderr: []string{"--image-credential-provider-bin-dir"},
		},
		{
			name:       "bin dir without config",
			args:       []string{"--image-credential-provider-bin-dir", binDir},
			wantStderr: []string{"--image-credential-provider-config"},
		},
		{
			name:       "config file missing",
			args:       []string{"--image-credential-provider-config", filepath.Join(f.dir, "nope.yaml"), "--image-credential-provider-bin-dir", binDir},
			wantStderr: []string{"nope.yaml"},
		},
		{
			name:       "plugin not in the bin dir",
			args:       []string{"--image-credential-provider-config", f.write(t, "providers.yaml", f.providerConfig("missing-plugin", "")), "--image-credential-provider-bin-dir", binDir},
			wantStderr: []string{"providers[0].name", "missing-plugin"},
		},
		{
			name:       "plugin name with a path",
			args:       []string{"--image-credential-provider-config", f.write(t, "providers.yaml", f.providerConfig("../bin/exchange", "")), "--image-credential-provider-bin-dir", binDir},
			wantStderr: []string{"providers[0].name"},
		},
		{
			name:       "token attributes with the gate off",
			args:       []string{"--image-credential-provider-config", good, "--image-credential-provider-bin-dir", binDir, "--feature-gates", "KubeletServiceAccountTokenForCredentialProviders=false"},
			wantStderr: []string{"tokenAttributes"},
		},
		{
			name:       "unknown field",
			args:       []string{"--image-credential-provider-config", f.write(t, "providers.yaml", f.providerConfig("exchange", "")+"  colour: blue\n"), "--image-credential-provider-bin-dir", binDir},
			wantStderr: []string{"colour"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, Deps{}, f.ensureArgs(append([]string{"--pod", pod}, tc.args...)...)...)
			if res.code != ExitUsage {
				t.Fatalf("exit code %d, want %d; stderr %q", res.code, ExitUsage, res.stderr)
			}
			l := res.stderrLines()
			if len(l) != 1 {
				t.Fatalf("stderr %q, want one line", res.stderr)
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(l[0], w) {
					t.Errorf("stderr %q does not name %q", l[0], w)
				}
			}
			if res.stdout != "" {
				t.Errorf("stdout %q, want nothing", res.stdout)
			}
		})
	}
}

// TestEnsureServiceAccountPlugin runs a plugin with the pod's service
// account token from the API server (a fake clientset): the token is bound
// to the pod, the pull records the service account, a pod of the same
// account reuses the image, one of a recreated account must pull, and
// without an API server the provider that requires a service account fails
// the container.
func TestEnsureServiceAccountPlugin(t *testing.T) {
	f := newFixture(t)
	appID := f.push(t, "team-a/app:1.0")
	image := f.reg.Ref("team-a/app:1.0")
	execLog := filepath.Join(t.TempDir(), "exec.log")
	binDir := f.scriptPlugin(t, "exchange", "alice", execLog)
	providers := f.write(t, "providers.yaml", f.providerConfig("exchange", "registry.example"))
	pluginArgs := []string{"--image-credential-provider-config", providers, "--image-credential-provider-bin-dir", binDir, "-o", "json"}

	sa := &v1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "builder", UID: "uid-builder-1",
		Annotations: map[string]string{"registry.example/tenant": "a"}}}
	apiPod := func(name string, policy v1.PullPolicy) *v1.Pod {
		p := testPod("team-a", name, policy, nil, image)
		p.UID = types.UID("uid-pod-" + name)
		p.Spec.ServiceAccountName = "builder"
		return p
	}
	client := fake.NewClientset(sa, apiPod("first", v1.PullIfNotPresent), apiPod("same-sa", v1.PullNever), apiPod("recreated", v1.PullNever))
	var tokenRequests []string
	client.PrependReactor("create", "serviceaccounts", func(action clienttesting.Action) (bool, runtime.Object, error) {
		create, ok := action.(clienttesting.CreateActionImpl)
		if !ok || create.GetSubresource() != "token" {
			return false, nil, nil
		}
		tr := create.GetObject().(*authenticationv1.TokenRequest)
		ref := tr.Spec.BoundObjectRef
		if ref == nil || ref.Kind != "Pod" {
			return true, nil, fmt.Errorf("token request without a pod binding")
		}
		tokenRequests = append(tokenRequests, fmt.Sprintf("%s/%s aud=%v pod=%s/%s", create.GetNamespace(), create.Name, tr.Spec.Audiences, ref.Name, ref.UID))
		out := tr.DeepCopy()
		out.Status.Token = "token-for-" + ref.Name
		return true, out, nil
	})
	deps := Deps{NewKubeClient: func(string) (kubernetes.Interface, error) { return client, nil }}
	run := func(t *testing.T, podName string) containerOutput {
		t.Helper()
		res := runCLI(t, deps, f.ensureArgs(append([]string{"--kubeconfig", "kubeconfig", "--pod-name", "team-a/" + podName}, pluginArgs...)...)...)
		pods := res.pods(t)
		if len(pods) != 1 || len(pods[0].Containers) != 1 {
			t.Fatalf("output %q, stderr %q", res.stdout, res.stderr)
		}
		return pods[0].Containers[0]
	}

	c := run(t, "first")
	if c.Result != resultPulled || c.ImageRef != appID {
		t.Fatalf("first pod: %+v, want Pulled", c)
	}
	if want := []string{"team-a/builder aud=[registry.example] pod=first/uid-pod-first"}; strings.Join(tokenRequests, ";") != strings.Join(want, ";") {
		t.Errorf("token requests %v, want %v", tokenRequests, want)
	}
	data, err := os.ReadFile(execLog)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"serviceAccountToken":"token-for-first"`, `"registry.example/tenant":"a"`} {
		if !strings.Contains(string(data), w) {
			t.Errorf("the plugin's request %s lacks %s", data, w)
		}
	}
	listing := runCLI(t, Deps{}, "records", "list", "--root-dir", f.rootDir, "-o", "json")
	if !strings.Contains(listing.stdout, `"kubernetesServiceAccounts":[{"uid":"uid-builder-1","namespace":"team-a","name":"builder"}]`) {
		t.Errorf("records list %s does not record the service account", listing.stdout)
	}

	if c := run(t, "same-sa"); c.Result != resultReused || c.Verification != "serviceAccount" || c.PullAttempted {
		t.Errorf("same service account: %+v, want Reused by serviceAccount", c)
	}

	// Deleted and recreated: same name, new UID.
	if err := client.Tracker().Delete(v1.SchemeGroupVersion.WithResource("serviceaccounts"), "team-a", "builder"); err != nil {
		t.Fatal(err)
	}
	recreated := sa.DeepCopy()
	recreated.UID = "uid-builder-2"
	if err := client.Tracker().Add(recreated); err != nil {
		t.Fatal(err)
	}
	if c := run(t, "recreated"); c.Result != resultDenied || c.Verification != "mustPull" {
		t.Errorf("recreated service account: %+v, want Denied by mustPull", c)
	}

	// Without an API server there is no token to hand the plugin.
	podFile := f.write(t, "pod.yaml", apiPod("from-file", v1.PullIfNotPresent))
	res := runCLI(t, Deps{}, f.ensureArgs(append([]string{"--pod", podFile}, pluginArgs...)...)...)
	if res.code != ExitNotAdmitted {
		t.Fatalf("from a file: exit code %d, stderr %q", res.code, res.stderr)
	}
	if c := res.pods(t)[0].Containers[0]; c.Result != resultFailed || !strings.Contains(c.Message, "--kubeconfig") || !strings.Contains(c.Message, `"exchange"`) {
		t.Errorf("from a file: %+v, want Failed naming the plugin and --kubeconfig", c)
	}
}
