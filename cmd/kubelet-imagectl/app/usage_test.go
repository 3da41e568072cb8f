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
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const (
	goodPod = `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: team-a
spec:
  containers:
  - name: app
    image: reg.example/team-a/app:1
`
	goodSecret = `apiVersion: v1
kind: Secret
metadata:
  name: regcred
  namespace: team-a
  uid: 7c9e6679-7425-40de-944b-e07fc1f90ae7
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: '{"auths":{"reg.example":{"username":"u","password":"topsecret"}}}'
`
	configHeader = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
)

// TestUsageErrors covers bad flags, bad input files and invalid
// configurations: exit code 2, nothing on stdout, one line on stderr naming
// the flag, or the file and the field.
func TestUsageErrors(t *testing.T) {
	// file is a placeholder replaced by the path of the case's first file,
	// file2 by the second one's.
	const file, file2 = "<file>", "<file2>"
	tests := []struct {
		name string
		// files are written in order; their paths replace file and file2.
		files []string
		args  []string
		// want are substrings of the stderr line; file placeholders are
		// replaced too.
		want []string
		// notWant must not appear on stderr (credentials).
		notWant []string
	}{
		// Flags.
		{name: "no pods", args: []string{"ensure"}, want: []string{"--pod FILE", "--kubeconfig FILE --pod-name"}},
		{name: "pod and kubeconfig are exclusive", files: []string{goodPod}, args: []string{"ensure", "--pod", file, "--kubeconfig", "kc", "--pod-name", "a/b"}, want: []string{"exclusive"}},
		{name: "secret and pod-name are exclusive", files: []string{goodSecret}, args: []string{"ensure", "--secret", file, "--kubeconfig", "kc", "--pod-name", "a/b"}, want: []string{"exclusive"}},
		{name: "pod-name without kubeconfig", args: []string{"ensure", "--pod-name", "a/b"}, want: []string{"--pod-name needs --kubeconfig"}},
		{name: "kubeconfig without pod-name", args: []string{"ensure", "--kubeconfig", "kc"}, want: []string{"--kubeconfig needs", "--pod-name"}},
		{name: "secret without pod", files: []string{goodSecret}, args: []string{"ensure", "--secret", file}, want: []string{"--secret needs"}},
		{name: "bad pod-name", args: []string{"ensure", "--kubeconfig", "kc", "--pod-name", "web"}, want: []string{"--pod-name", `"web"`, "NAMESPACE/NAME"}},
		{name: "pod-name given twice", args: []string{"ensure", "--kubeconfig", "kc", "--pod-name", "a/b", "--pod-name", "a/b"}, want: []string{"--pod-name", "twice"}},
		{name: "bad output", files: []string{goodPod}, args: []string{"ensure", "--pod", file, "-o", "yaml"}, want: []string{"--output", `"yaml"`}},
		{name: "unknown feature gate", files: []string{goodPod}, args: []string{"ensure", "--pod", file, "--feature-gates", "NoSuchGate=true"}, want: []string{"--feature-gates", "NoSuchGate"}},
		{name: "feature gate not a boolean", files: []string{goodPod}, args: []string{"ensure", "--pod", file, "--feature-gates", "KubeletEnsureSecretPulledImages=maybe"}, want: []string{"--feature-gates", "maybe"}},
		{name: "unknown flag", args: []string{"ensure", "--no-such-flag"}, want: []string{"unknown flag: --no-such-flag"}},
		{name: "positional argument", args: []string{"ensure", "pod.yaml"}, want: []string{`unknown command "pod.yaml"`}},
		{name: "empty runtime endpoint", files: []string{goodPod}, args: []string{"ensure", "--pod", file, "--runtime-endpoint", ""}, want: []string{"--runtime-endpoint"}},
		{name: "empty root dir", files: []string{goodPod}, args: []string{"ensure", "--pod", file, "--root-dir", ""}, want: []string{"--root-dir"}},
		{name: "unknown command", args: []string{"ensur"}, want: []string{`unknown command "ensur"`}},
		{name: "records without subcommand", args: []string{"records"}, want: []string{"needs a subcommand: downgrade, explain, list, migrate, prune, revoke, verify"}},
		{name: "records list bad output", args: []string{"records", "list", "-o", "wide"}, want: []string{"--output", `"wide"`}},
		{name: "records prune bad until", args: []string{"records", "prune", "--until", "yesterday"}, want: []string{"--until", `"yesterday"`, "RFC3339"}},
		{name: "records prune empty endpoint", args: []string{"records", "prune", "--runtime-endpoint", ""}, want: []string{"--runtime-endpoint"}},

		// Pod files.
		{name: "pod file missing", args: []string{"ensure", "--pod", "/nonexistent/pod.yaml"}, want: []string{`pod file "/nonexistent/pod.yaml"`, "no such file"}},
		{name: "pod file of another kind", files: []string{goodSecret}, args: []string{"ensure", "--pod", file}, want: []string{"pod file " + file, "kind", `"Secret"`}, notWant: []string{"topsecret"}},
		{name: "pod without apiVersion", files: []string{strings.Replace(goodPod, "apiVersion: v1\n", "", 1)}, args: []string{"ensure", "--pod", file}, want: []string{"pod file " + file, "apiVersion: Required value"}},
		{name: "pod of another apiVersion", files: []string{strings.Replace(goodPod, "apiVersion: v1", "apiVersion: v2", 1)}, args: []string{"ensure", "--pod", file}, want: []string{"pod file " + file, "apiVersion", `"v2"`}},
		{name: "pod with an unknown field", files: []string{strings.Replace(goodPod, "    image:", "    imagePullPolicyy: Always\n    image:", 1)}, args: []string{"ensure", "--pod", file}, want: []string{"pod file " + file, "spec.containers[0].imagePullPolicyy"}},
		{name: "pod with a bad pull policy", files: []string{goodPod + "    imagePullPolicy: Sometimes\n"}, args: []string{"ensure", "--pod", file}, want: []string{"pod file " + file, "spec.containers[0].imagePullPolicy", `"Sometimes"`}},
		{name: "pod without containers", files: []string{"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers: []\n"}, args: []string{"ensure", "--pod", file}, want: []string{"pod file " + file, "spec.containers: Required value"}},
		{name: "pod without name", files: []string{strings.Replace(goodPod, "  name: web\n", "", 1)}, args: []string{"ensure", "--pod", file}, want: []string{"pod file " + file, "metadata.name: Required value"}},
		{name: "container without image", files: []string{"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  initContainers:\n  - name: init\n  containers:\n  - name: app\n    image: busybox\n"}, args: []string{"ensure", "--pod", file}, want: []string{"pod file " + file, "spec.initContainers[0].image: Required value"}},
		{name: "container names not unique across init and regular", files: []string{"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  initContainers:\n  - name: app\n    image: busybox\n  containers:\n  - name: app\n    image: busybox\n"}, args: []string{"ensure", "--pod", file}, want: []string{"pod file " + file, "spec.containers[0].name: Duplicate value"}},
		{name: "pull secret reference without name", files: []string{goodPod + "  imagePullSecrets:\n  - name: \"\"\n"}, args: []string{"ensure", "--pod", file}, want: []string{"pod file " + file, "spec.imagePullSecrets[0].name"}},
		{name: "two pods in one file", files: []string{goodPod + "---\n" + goodPod}, args: []string{"ensure", "--pod", file}, want: []string{"pod file " + file, "2 documents"}},
		{name: "pod file not YAML", files: []string{"kind: [Pod\n"}, args: []string{"ensure", "--pod", file}, want: []string{"pod file " + file}},
		{name: "one pod given twice", files: []string{goodPod, goodPod}, args: []string{"ensure", "--pod", file, "--pod", file2}, want: []string{"pod file " + file2, "team-a/web", "also given in " + file}},

		// Secret files.
		{name: "secret without uid", files: []string{goodPod, strings.Replace(goodSecret, "  uid: 7c9e6679-7425-40de-944b-e07fc1f90ae7\n", "", 1)}, args: []string{"ensure", "--pod", file, "--secret", file2},
			want: []string{"secret file " + file2, "team-a/regcred", "metadata.uid: Required value"}, notWant: []string{"topsecret"}},
		{name: "secret in a List without uid", files: []string{goodPod, "apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(goodSecret, "\n", "\n  ") + "\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: other\n"},
			args: []string{"ensure", "--pod", file, "--secret", file2}, want: []string{"secret file " + file2, "items[1].metadata.uid: Required value"}, notWant: []string{"topsecret"}},
		{name: "secret in the second document without uid", files: []string{goodPod, goodSecret + "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: other\n"},
			args: []string{"ensure", "--pod", file, "--secret", file2}, want: []string{"secret file " + file2, "document 2", "default/other", "metadata.uid"}},
		{name: "List item of another kind", files: []string{goodPod, "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: cm\n"},
			args: []string{"ensure", "--pod", file, "--secret", file2}, want: []string{"secret file " + file2, "items[0].kind", `"ConfigMap"`}},
		{name: "secret file of another kind", files: []string{goodPod, goodPod}, args: []string{"ensure", "--pod", file, "--secret", file2}, want: []string{"secret file " + file2, "kind", `"Pod"`}},
		{name: "secret file empty", files: []string{goodPod, "# nothing\n"}, args: []string{"ensure", "--pod", file, "--secret", file2}, want: []string{"secret file " + file2, "no Secret"}},
		{name: "secret without kind does not print its data", files: []string{goodPod, strings.Replace(goodSecret, "kind: Secret\n", "", 1)}, args: []string{"ensure", "--pod", file, "--secret", file2},
			want: []string{"secret file " + file2, "kind: Required value"}, notWant: []string{"topsecret", "dockerconfigjson"}},
		{name: "secret with an unknown field", files: []string{goodPod, strings.Replace(goodSecret, "stringData:", "stringdata:", 1)}, args: []string{"ensure", "--pod", file, "--secret", file2},
			want: []string{"secret file " + file2, `unknown field "stringdata"`}, notWant: []string{"topsecret"}},
		{name: "secret with bad base64 data", files: []string{goodPod, strings.Replace(goodSecret, "stringData:\n  .dockerconfigjson: ", "data:\n  .dockerconfigjson: ", 1)}, args: []string{"ensure", "--pod", file, "--secret", file2},
			want: []string{"secret file " + file2, "data[.dockerconfigjson]: not valid base64"}, notWant: []string{"topsecret"}},
		{name: "secret given twice", files: []string{goodPod, goodSecret, goodSecret}, args: []string{"ensure", "--pod", file, "--secret", file2, "--secret", "<file3>"},
			want: []string{"team-a/regcred", "also given in " + file2}},

		// Configuration.
		{name: "config file missing", files: []string{goodPod}, args: []string{"ensure", "--pod", file, "--config", "/nonexistent/config.yaml"}, want: []string{`"/nonexistent/config.yaml"`, "no such file"}},
		{name: "config with an unknown policy", files: []string{goodPod, configHeader + "imagePullCredentialsVerificationPolicy: Sometimes\n"}, args: []string{"ensure", "--pod", file, "--config", file2},
			want: []string{file2, "invalid configuration", "imagePullCredentialsVerificationPolicy", `"Sometimes"`, "NeverVerifyPreloadedImages"}},
		{name: "config with an allowlist for another policy", files: []string{goodPod, configHeader + "preloadedImagesVerificationAllowlist: [docker.io/library/alpine]\n"}, args: []string{"ensure", "--pod", file, "--config", file2},
			want: []string{file2, "preloadedImagesVerificationAllowlist", "docker.io/library/alpine"}},
		{name: "config with a bad allowlist entry", files: []string{goodPod, configHeader + "imagePullCredentialsVerificationPolicy: NeverVerifyAllowlistedImages\npreloadedImagesVerificationAllowlist: [alpine]\n"}, args: []string{"ensure", "--pod", file, "--config", file2},
			want: []string{file2, "preloadedImagesVerificationAllowlist[0]", "alpine"}},
		{name: "config sets a policy with the gate off", files: []string{goodPod, configHeader + "featureGates:\n  KubeletEnsureSecretPulledImages: false\nimagePullCredentialsVerificationPolicy: AlwaysVerify\n"}, args: []string{"ensure", "--pod", file, "--config", file2},
			want: []string{file2, "imagePullCredentialsVerificationPolicy", "AlwaysVerify", "KubeletEnsureSecretPulledImages"}},
		{name: "flag turns the gate off under a config policy", files: []string{goodPod, configHeader + "imagePullCredentialsVerificationPolicy: AlwaysVerify\n"}, args: []string{"ensure", "--pod", file, "--config", file2, "--feature-gates", "KubeletEnsureSecretPulledImages=false"},
			want: []string{file2, "imagePullCredentialsVerificationPolicy", "AlwaysVerify"}},
		{name: "config with an unknown feature gate", files: []string{goodPod, configHeader + "featureGates:\n  NoSuchGate: true\n"}, args: []string{"ensure", "--pod", file, "--config", file2},
			want: []string{file2, "featureGates", "NoSuchGate"}},
		{name: "config of another apiVersion", files: []string{goodPod, "apiVersion: kubelet.config.k8s.io/v1\nkind: KubeletConfiguration\n"}, args: []string{"ensure", "--pod", file, "--config", file2},
			want: []string{file2, "apiVersion", "kubelet.config.k8s.io/v1"}},
		{name: "config field of the wrong type", files: []string{goodPod, configHeader + "maxPods: many\n"}, args: []string{"ensure", "--pod", file, "--config", file2},
			want: []string{file2, "maxPods"}},
		{name: "config with a bad maxParallelImagePulls", files: []string{goodPod, configHeader + "serializeImagePulls: true\nmaxParallelImagePulls: 5\n"}, args: []string{"ensure", "--pod", file, "--config", file2},
			want: []string{file2, "maxParallelImagePulls"}},

		// Node-wide credentials.
		{name: "docker config missing", files: []string{goodPod}, args: []string{"ensure", "--pod", file, "--docker-config", "/nonexistent/config.json"}, want: []string{"--docker-config", "/nonexistent/config.json"}},
		{name: "docker config malformed", files: []string{goodPod, `{"auths": {"reg.example": {"auth": "topsecret!!"}}}`}, args: []string{"ensure", "--pod", file, "--docker-config", file2},
			want: []string{"--docker-config", file2}, notWant: []string{"topsecret"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("HOME", dir)
			replacer, quoted := []string{}, []string{}
			for i, content := range tc.files {
				path := filepath.Join(dir, "f"+string(rune('1'+i))+".yaml")
				if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
				placeholder := "<file>"
				if i > 0 {
					placeholder = "<file" + string(rune('1'+i)) + ">"
				}
				replacer = append(replacer, placeholder, path)
				quoted = append(quoted, placeholder, strconv.Quote(path))
			}
			r, q := strings.NewReplacer(replacer...), strings.NewReplacer(quoted...)
			args := make([]string, 0, len(tc.args)+4)
			for _, a := range tc.args {
				args = append(args, r.Replace(a))
			}
			if len(args) > 0 && args[0] == "ensure" && !slices.Contains(args, "--root-dir") {
				// Stay away from the machine's root dir and runtime: usage
				// errors must come before either is touched.
				args = append(args, "--root-dir="+filepath.Join(dir, "root"))
			}
			res := runCLI(t, Deps{}, args...)
			if res.code != ExitUsage {
				t.Fatalf("exit code %d, want %d; stdout %q, stderr %q", res.code, ExitUsage, res.stdout, res.stderr)
			}
			if res.stdout != "" {
				t.Errorf("stdout %q, want nothing", res.stdout)
			}
			errLines := res.stderrLines()
			if len(errLines) != 1 {
				t.Fatalf("stderr has %d lines, want 1: %q", len(errLines), res.stderr)
			}
			for _, w := range tc.want {
				if w = q.Replace(w); !strings.Contains(errLines[0], w) {
					t.Errorf("stderr %q does not contain %q", errLines[0], w)
				}
			}
			for _, nw := range tc.notWant {
				if strings.Contains(res.stderr, nw) {
					t.Errorf("stderr %q contains %q", res.stderr, nw)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "root")); err == nil {
				t.Errorf("the root dir was created by a run that ended with a usage error")
			}
		})
	}
}
