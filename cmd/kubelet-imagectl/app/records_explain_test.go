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
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/imagepullrecords"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// explainFixture is a node where tenant A's pod pulled team-a/app with its
// Secret, a pod without Secret pulled public/tools anonymously, and
// team-b/app was preloaded.
type explainFixture struct {
	*fixture
	appID, toolsID, preloadedID string
	regcred                     *v1.Secret
}

func newExplainFixture(t *testing.T) *explainFixture {
	t.Helper()
	f := &explainFixture{fixture: newFixture(t)}
	f.appID = f.push(t, "team-a/app:1.0")
	f.toolsID = f.push(t, "public/tools:1.0")
	f.push(t, "team-a/other:1.0")
	f.preloadedID = f.push(t, "team-b/app:1.0")
	f.regcred = f.secret("team-a", "regcred", "alice")
	pull := runCLI(t, Deps{}, f.ensureArgs("--secret", f.write(t, "secrets.yaml", f.regcred),
		"--pod", f.write(t, "a.yaml", typed(testPod("team-a", "a", v1.PullIfNotPresent, []string{"regcred"}, f.reg.Ref("team-a/app:1.0")))),
		"--pod", f.write(t, "tools.yaml", typed(testPod("team-b", "tools", v1.PullIfNotPresent, nil, f.reg.Ref("public/tools:1.0")))))...)
	if pull.code != ExitOK {
		t.Fatalf("setup pulls: exit code %d; stdout %q, stderr %q", pull.code, pull.stdout, pull.stderr)
	}
	user, password := f.reg.AdminCredentials()
	if _, err := f.runtime.Preload(context.Background(), f.reg.Ref("team-b/app:1.0"), &runtimeapi.AuthConfig{Username: user, Password: password}); err != nil {
		t.Fatal(err)
	}
	return f
}

// explainArgs are the arguments of an explain run of pod for image.
func (f *explainFixture) explainArgs(t *testing.T, pod *v1.Pod, secrets []*v1.Secret, image string, extra ...string) []string {
	t.Helper()
	args := []string{"records", "explain", "--root-dir", f.rootDir, "--runtime-endpoint", f.endpoint, "--docker-config", "",
		"--pod", f.write(t, pod.Name+".yaml", typed(pod))}
	if len(secrets) > 0 {
		docs := make([]any, 0, len(secrets))
		for _, s := range secrets {
			docs = append(docs, s)
		}
		args = append(args, "--secret", f.write(t, "secrets.yaml", docs...))
	}
	return append(append(args, extra...), image)
}

// decodeExplain decodes explain's JSON output.
func decodeExplain(t *testing.T, res cliResult) explainPodOutput {
	t.Helper()
	var out explainPodOutput
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("decoding explain output %q: %v", res.stdout, err)
	}
	return out
}

// recordedHash returns the full credential hash tenant A's pull recorded.
func (f *explainFixture) recordedHash(t *testing.T) string {
	t.Helper()
	listing, err := listRecords(f.rootDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range listing.Pulled {
		if p.record.ImageRef == f.appID {
			for _, c := range p.record.CredentialMapping {
				return c.KubernetesSecrets[0].CredentialHash
			}
		}
	}
	t.Fatalf("no record of %s", f.appID)
	return ""
}

// TestRecordsExplain explains each kind of outcome over one node, checks
// the rule, the result as ensure would give it and the exit code, and that
// nothing on disk or in the runtime changed.
func TestRecordsExplain(t *testing.T) {
	f := newExplainFixture(t)
	app := f.reg.Ref("team-a/app:1.0")
	repoApp := f.reg.Ref("team-a/app")
	regcred2 := f.secret("team-a", "regcred2", "alice")
	rotated := f.secret("team-a", "regcred", "bob")
	rotated.UID = f.regcred.UID
	broken := f.secret("team-a", "broken", "alice")
	broken.Data[v1.DockerConfigJsonKey] = []byte("{not json")
	allowlist := f.write(t, "allowlist.yaml", configHeader+"imagePullCredentialsVerificationPolicy: NeverVerifyAllowlistedImages\n"+
		"preloadedImagesVerificationAllowlist:\n- "+f.reg.Addr()+"/team-a/*\n")
	alwaysVerify := f.write(t, "always.yaml", configHeader+"imagePullCredentialsVerificationPolicy: AlwaysVerify\n")
	fullHash := f.recordedHash(t)

	tests := []struct {
		name             string
		pod              *v1.Pod
		secrets          []*v1.Secret
		image            string
		extra            []string
		wantCode         int
		wantResult       string
		wantVerification string
		wantDecidedBy    string
		wantRule         pullmanager.Rule
		check            func(t *testing.T, c explainContainerOutput)
	}{
		{
			name: "tenant A's own Secret", pod: testPod("team-a", "a2", v1.PullIfNotPresent, []string{"regcred"}, app), secrets: []*v1.Secret{f.regcred},
			wantCode: ExitOK, wantResult: resultReused, wantVerification: ruleSecretHash, wantDecidedBy: decidedByPullManager, wantRule: pullmanager.RuleSecretHash,
			check: func(t *testing.T, c explainContainerOutput) {
				ex := c.Explanation.PullManager
				if ex.Repository != repoApp || ex.Record.File != recordFile(f.appID) || !ex.Record.OnDisk || !ex.Entry.Found {
					t.Errorf("explanation %+v: want %s's entry in %s", ex, repoApp, recordFile(f.appID))
				}
				want := []pullmanager.SecretExplanation{{UID: string(f.regcred.UID), Namespace: "team-a", Name: "regcred", CredentialHash: fullHash[:8], Match: pullmanager.MatchHash, Decided: true}}
				if diff := cmp.Diff(want, ex.Credentials.KubernetesSecrets); diff != "" {
					t.Errorf("pod secrets (-want +got):\n%s", diff)
				}
				if !c.Explanation.Present || c.Explanation.RuntimeImageID != f.appID || c.ImageRef != f.appID {
					t.Errorf("explanation %+v, imageRef %q: want present as %s", c.Explanation, c.ImageRef, f.appID)
				}
			},
		},
		{
			name: "another Secret with the same credentials", pod: testPod("team-a", "a3", v1.PullNever, []string{"regcred2"}, app), secrets: []*v1.Secret{regcred2},
			wantCode: ExitOK, wantResult: resultReused, wantVerification: ruleSecretHash, wantDecidedBy: decidedByPullManager, wantRule: pullmanager.RuleSecretHash,
			check: func(t *testing.T, c explainContainerOutput) {
				if got := c.Explanation.PullManager.Credentials.WriteBack; got != pullmanager.WriteBackAddCoordinates {
					t.Errorf("write-back %q, want %q", got, pullmanager.WriteBackAddCoordinates)
				}
			},
		},
		{
			name: "rotated Secret", pod: testPod("team-a", "a4", v1.PullIfNotPresent, []string{"regcred"}, app), secrets: []*v1.Secret{rotated},
			wantCode: ExitOK, wantResult: resultReused, wantVerification: ruleSecretCoordinates, wantDecidedBy: decidedByPullManager, wantRule: pullmanager.RuleSecretCoordinates,
			check: func(t *testing.T, c explainContainerOutput) {
				if got := c.Explanation.PullManager.Credentials.WriteBack; got != pullmanager.WriteBackStoreHash {
					t.Errorf("write-back %q, want %q", got, pullmanager.WriteBackStoreHash)
				}
			},
		},
		{
			name: "tenant B without a Secret, IfNotPresent", pod: testPod("team-b", "b", v1.PullIfNotPresent, nil, app),
			wantCode: ExitOK, wantResult: resultWouldPull, wantVerification: ruleMustPull, wantDecidedBy: decidedByPullManager, wantRule: pullmanager.RuleNoMatch,
			check: func(t *testing.T, c explainContainerOutput) {
				ex := c.Explanation.PullManager
				if !ex.PulledByKubelet.Pulled || ex.PulledByKubelet.Why != pullmanager.PulledByEntry || !ex.Credentials.Resolved {
					t.Errorf("pulled %+v, credentials %+v", ex.PulledByKubelet, ex.Credentials)
				}
				if !strings.Contains(c.Explanation.Summary, "the registry decides") {
					t.Errorf("summary %q: want what the pull is for", c.Explanation.Summary)
				}
			},
		},
		{
			name: "tenant B without a Secret, Never", pod: testPod("team-b", "b-never", v1.PullNever, nil, app),
			wantCode: ExitNotAdmitted, wantResult: resultDenied, wantVerification: ruleMustPull, wantDecidedBy: decidedByPullManager, wantRule: pullmanager.RuleNoMatch,
			check: func(t *testing.T, c explainContainerOutput) {
				if c.Reason != "ErrImageNeverPull" || !strings.Contains(c.Explanation.Summary, "not present for it") {
					t.Errorf("reason %q, summary %q", c.Reason, c.Explanation.Summary)
				}
			},
		},
		{
			name: "a Secret that cannot be parsed", pod: testPod("team-a", "a5", v1.PullNever, []string{"broken"}, app), secrets: []*v1.Secret{broken},
			wantCode: ExitNotAdmitted, wantResult: resultFailed, wantVerification: ruleMustPull, wantDecidedBy: decidedByPullManager, wantRule: pullmanager.RuleCredentialsError,
			check: func(t *testing.T, c explainContainerOutput) {
				if c.Reason != "ErrImagePull" || !strings.Contains(c.Explanation.PullManager.Credentials.Error, "broken") {
					t.Errorf("reason %q, credentials %+v", c.Reason, c.Explanation.PullManager.Credentials)
				}
			},
		},
		{
			name: "anonymously pulled image", pod: testPod("team-a", "tools", v1.PullNever, nil, f.reg.Ref("public/tools:1.0")),
			wantCode: ExitOK, wantResult: resultReused, wantVerification: ruleNodeAccessible, wantDecidedBy: decidedByPullManager, wantRule: pullmanager.RuleNodePodsAccessible,
		},
		{
			name: "preloaded image", pod: testPod("team-a", "pre", v1.PullNever, nil, f.reg.Ref("team-b/app:1.0")),
			wantCode: ExitOK, wantResult: resultReused, wantVerification: ruleNotPulledByKubelet, wantDecidedBy: decidedByPullManager, wantRule: pullmanager.RuleNotPulledByKubelet,
			check: func(t *testing.T, c explainContainerOutput) {
				ex := c.Explanation.PullManager
				if ex.Record.Found || ex.PulledByKubelet.Pulled || c.Explanation.RuntimeImageID != f.preloadedID {
					t.Errorf("explanation %+v: want a preloaded image without a record", c.Explanation)
				}
			},
		},
		{
			name: "preloaded image under AlwaysVerify", pod: testPod("team-a", "pre-always", v1.PullNever, nil, f.reg.Ref("team-b/app:1.0")),
			extra:    []string{"--config", alwaysVerify},
			wantCode: ExitNotAdmitted, wantResult: resultDenied, wantVerification: ruleMustPull, wantDecidedBy: decidedByPullManager, wantRule: pullmanager.RuleNoEntry,
		},
		{
			name: "allowlisted by a prefix entry", pod: testPod("team-b", "b-allow", v1.PullNever, nil, app),
			extra:    []string{"--config", allowlist},
			wantCode: ExitOK, wantResult: resultReused, wantVerification: rulePolicy, wantDecidedBy: decidedByPullManager, wantRule: pullmanager.RuleAllowlisted,
			check: func(t *testing.T, c explainContainerOutput) {
				if got := c.Explanation.PullManager.Policy.AllowlistEntry; got != f.reg.Addr()+"/team-a/*" {
					t.Errorf("allowlist entry %q", got)
				}
			},
		},
		{
			name: "absent image", pod: testPod("team-a", "absent", v1.PullIfNotPresent, []string{"regcred"}, f.reg.Ref("team-a/other:1.0")), secrets: []*v1.Secret{f.regcred},
			wantCode: ExitOK, wantResult: resultWouldPull, wantVerification: ruleNotPresent, wantDecidedBy: decidedByNotPresent,
			check: func(t *testing.T, c explainContainerOutput) {
				if c.Explanation.Present || c.Explanation.PullManager != nil {
					t.Errorf("explanation %+v: want an absent image and no pull manager decision", c.Explanation)
				}
			},
		},
		{
			name: "absent image, Never", pod: testPod("team-a", "absent-never", v1.PullNever, nil, f.reg.Ref("team-a/other:1.0")),
			wantCode: ExitNotAdmitted, wantResult: resultDenied, wantVerification: ruleNotPresent, wantDecidedBy: decidedByNotPresent,
		},
		{
			name: "pull policy Always", pod: testPod("team-b", "always", v1.PullAlways, nil, app),
			wantCode: ExitOK, wantResult: resultWouldPull, wantVerification: ruleMustPull, wantDecidedBy: decidedByPullPolicy,
			check: func(t *testing.T, c explainContainerOutput) {
				if !c.Explanation.Present || !strings.Contains(c.Explanation.Summary, "Always") {
					t.Errorf("explanation %+v", c.Explanation)
				}
			},
		},
		{
			name: "feature gate off", pod: testPod("team-b", "gate-off", v1.PullNever, nil, app),
			extra:    []string{"--feature-gates", "KubeletEnsureSecretPulledImages=false"},
			wantCode: ExitOK, wantResult: resultReused, wantVerification: ruleGateOff, wantDecidedBy: decidedByGateOff,
			check: func(t *testing.T, c explainContainerOutput) {
				if c.Explanation.EnsureSecretPulledImages {
					t.Errorf("explanation %+v: want the gate off", c.Explanation)
				}
			},
		},
	}
	before := snapshot(t, f.rootDir)
	f.runtime.ResetPulls()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			image := tc.image
			if image == "" {
				image = tc.pod.Spec.Containers[0].Image
			}
			for _, output := range []string{"json", "text"} {
				res := runCLI(t, Deps{}, f.explainArgs(t, tc.pod, tc.secrets, image, append([]string{"-o", output}, tc.extra...)...)...)
				if res.code != tc.wantCode {
					t.Fatalf("-o %s: exit code %d, want %d; stdout %q, stderr %q", output, res.code, tc.wantCode, res.stdout, res.stderr)
				}
				if tc.wantCode == ExitUsage {
					if res.stdout != "" || len(res.stderrLines()) != 1 {
						t.Errorf("stdout %q, stderr %q: want nothing and one line", res.stdout, res.stderr)
					}
					return
				}
				if strings.Contains(res.stdout, fullHash) {
					t.Errorf("-o %s: output holds the full credential hash:\n%s", output, res.stdout)
				}
				if output == "text" {
					for _, want := range []string{"Pod " + podKey(tc.pod) + ", container c0", "Result:", tc.wantResult, "Decided by:"} {
						if !strings.Contains(res.stdout, want) {
							t.Errorf("text output lacks %q:\n%s", want, res.stdout)
						}
					}
					continue
				}
				out := decodeExplain(t, res)
				if len(out.Containers) != 1 {
					t.Fatalf("containers %+v, want one", out.Containers)
				}
				c := out.Containers[0]
				if c.Result != tc.wantResult || c.Verification != tc.wantVerification || c.Explanation.DecidedBy != tc.wantDecidedBy {
					t.Errorf("result %s, verification %s, decided by %s; want %s, %s, %s (summary %q)",
						c.Result, c.Verification, c.Explanation.DecidedBy, tc.wantResult, tc.wantVerification, tc.wantDecidedBy, c.Explanation.Summary)
				}
				var rule pullmanager.Rule
				if ex := c.Explanation.PullManager; ex != nil {
					rule = ex.Rule
				}
				if rule != tc.wantRule {
					t.Errorf("rule %q, want %q", rule, tc.wantRule)
				}
				if c.Explanation.Summary == "" || !strings.HasPrefix(c.Explanation.Summary, c.Result) {
					t.Errorf("summary %q: want it to start with the result", c.Explanation.Summary)
				}
				if tc.check != nil {
					tc.check(t, c)
				}
			}
		})
	}
	if diff := cmp.Diff(before, snapshot(t, f.rootDir)); diff != "" {
		t.Errorf("explain changed the root dir (-before +after):\n%s", diff)
	}
	if pulls := f.runtime.Pulls(); len(pulls) != 0 {
		t.Errorf("explain pulled %+v", pulls)
	}
}

// TestRecordsExplainNormalisedImage finds the containers whose image is
// IMAGE after normalisation, init containers first.
func TestRecordsExplainNormalisedImage(t *testing.T) {
	pod := testPod("team-a", "p", v1.PullIfNotPresent, nil, "busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.37")
	pod.Spec.InitContainers = []v1.Container{{Name: "init", Image: "library/busybox:1.36"}}
	var got []string
	for _, u := range containersUsing(pod, "busybox:1.36") {
		got = append(got, u.container.Name)
	}
	if diff := cmp.Diff([]string{"init", "c0", "c1"}, got); diff != "" {
		t.Errorf("containers (-want +got):\n%s", diff)
	}
}

// TestRecordsExplainRecordStates explains over broken and half-written
// states of the records: a poisoned record, and an intent left by a pull
// whose record was never written.
func TestRecordsExplainRecordStates(t *testing.T) {
	t.Run("poisoned record", func(t *testing.T) {
		f := newExplainFixture(t)
		app := f.reg.Ref("team-a/app:1.0")
		path := filepath.Join(f.rootDir, filepath.FromSlash(recordFile(f.appID)))
		if err := os.WriteFile(path, []byte("{broken"), 0o600); err != nil {
			t.Fatal(err)
		}
		res := runCLI(t, Deps{}, f.explainArgs(t, testPod("team-a", "a", v1.PullNever, []string{"regcred"}, app), []*v1.Secret{f.regcred}, app, "-o", "json")...)
		if res.code != ExitNotAdmitted {
			t.Fatalf("exit code %d; stdout %q, stderr %q", res.code, res.stdout, res.stderr)
		}
		ex := decodeExplain(t, res).Containers[0].Explanation.PullManager
		if ex == nil || ex.Rule != pullmanager.RulePoisonedRecord || !ex.Record.Poisoned || ex.Record.Error == "" {
			t.Errorf("explanation %+v: want the poisoned record and why", ex)
		}
		if data, _ := os.ReadFile(path); string(data) != "{broken" {
			t.Errorf("explain rewrote the broken record: %q", data)
		}
	})
	t.Run("intent of an interrupted pull", func(t *testing.T) {
		f := newExplainFixture(t)
		other := f.reg.Ref("team-a/other:1.0")
		user, password := f.reg.AdminCredentials()
		if _, err := f.runtime.Preload(context.Background(), other, &runtimeapi.AuthConfig{Username: user, Password: password}); err != nil {
			t.Fatal(err)
		}
		// A pull of another tag of the name was interrupted: the intent
		// stays, and the name counts as pulled by the kubelet.
		s := recordStore(t, f.rootDir)
		if err := s.WriteIntent(&kubeletv1beta1.ImagePullIntent{Image: f.reg.Ref("team-a/other:2.0")}); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, f.rootDir)
		res := runCLI(t, Deps{}, f.explainArgs(t, testPod("team-b", "b", v1.PullNever, nil, other), nil, other, "-o", "json")...)
		if res.code != ExitNotAdmitted {
			t.Fatalf("exit code %d; stdout %q, stderr %q", res.code, res.stdout, res.stderr)
		}
		ex := decodeExplain(t, res).Containers[0].Explanation.PullManager
		wantIntents := []pullmanager.IntentExplanation{{
			File:  relToRoot(filepath.Join(imagepullrecords.IntentsDirName, imagepullrecords.FileName(f.reg.Ref("team-a/other:2.0")))),
			Image: f.reg.Ref("team-a/other:2.0"),
		}}
		if ex == nil || ex.Rule != pullmanager.RuleNoEntry || ex.PulledByKubelet.Why != pullmanager.PulledByIntent {
			t.Fatalf("explanation %+v: want no entry, pulled by the kubelet through an intent", ex)
		}
		if diff := cmp.Diff(wantIntents, ex.PulledByKubelet.Intents); diff != "" {
			t.Errorf("intents (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(before, snapshot(t, f.rootDir)); diff != "" {
			t.Errorf("explain changed the root dir (-before +after):\n%s", diff)
		}
	})
}

// TestRecordsExplainFieldNames checks that explain's JSON uses ensure's
// field names, adding only explanation to each container.
func TestRecordsExplainFieldNames(t *testing.T) {
	f := newExplainFixture(t)
	app := f.reg.Ref("team-a/app:1.0")
	pod := testPod("team-a", "a2", v1.PullIfNotPresent, []string{"regcred", "missing"}, app)
	args := f.explainArgs(t, pod, []*v1.Secret{f.regcred}, app, "-o", "json")
	explain := runCLI(t, Deps{}, args...)
	ensureArgs := append([]string{"ensure", "--dry-run"}, args[2:len(args)-1]...)
	ensure := runCLI(t, Deps{}, ensureArgs...)
	if explain.code != ExitOK || ensure.code != ExitOK {
		t.Fatalf("exit codes %d, %d; stderr %q, %q", explain.code, ensure.code, explain.stderr, ensure.stderr)
	}
	if diff := cmp.Diff(jsonKeys(t, []byte(ensure.stdout)), jsonKeys(t, []byte(explain.stdout))); diff != "" {
		t.Errorf("pod keys (-ensure +explain):\n%s", diff)
	}
	var ensureOut, explainOut struct {
		Events     []json.RawMessage `json:"events"`
		Containers []json.RawMessage `json:"containers"`
	}
	if err := json.Unmarshal([]byte(ensure.stdout), &ensureOut); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(explain.stdout), &explainOut); err != nil {
		t.Fatal(err)
	}
	wantKeys := append(jsonKeys(t, ensureOut.Containers[0]), "explanation")
	if diff := cmp.Diff(wantKeys, jsonKeys(t, explainOut.Containers[0])); diff != "" {
		t.Errorf("container keys (-ensure plus explanation +explain):\n%s", diff)
	}
	if diff := cmp.Diff(ensureOut.Events, explainOut.Events); diff != "" {
		t.Errorf("pod events (-ensure +explain):\n%s", diff)
	}
	got := decodeExplain(t, explain).Containers[0].containerOutput
	var want podOutput
	if err := json.Unmarshal([]byte(ensure.stdout), &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.Containers[0], got); diff != "" {
		t.Errorf("container (-ensure +explain):\n%s", diff)
	}
}

// TestRecordsExplainFromAPIServer reads the Pod and its Secret with
// client-go, as ensure does.
func TestRecordsExplainFromAPIServer(t *testing.T) {
	f := newExplainFixture(t)
	app := f.reg.Ref("team-a/app:1.0")
	pod := testPod("team-a", "web", v1.PullNever, []string{"regcred"}, app)
	pod.UID = types.UID("0f4f8a4e-5c1a-4c55-9b7a-1c2f0a7a1d11")
	client := fake.NewClientset([]runtime.Object{pod, f.regcred}...)
	deps := Deps{NewKubeClient: func(string) (kubernetes.Interface, error) { return client, nil }}
	res := runCLI(t, deps, "records", "explain", "--root-dir", f.rootDir, "--runtime-endpoint", f.endpoint, "--docker-config", "",
		"--kubeconfig", "/etc/kubelet-imagectl/kubeconfig", "--pod-name", "team-a/web", "-o", "json", app)
	if res.code != ExitOK {
		t.Fatalf("exit code %d; stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	out := decodeExplain(t, res)
	if c := out.Containers[0]; out.Pod != "team-a/web" || c.Result != resultReused || c.Explanation.PullManager.Rule != pullmanager.RuleSecretHash {
		t.Errorf("got %+v, want team-a/web Reused by its Secret's hash", out)
	}
}

// TestRecordsExplainExitCodes checks the usage and environment errors:
// nothing on stdout, one line on stderr.
func TestRecordsExplainExitCodes(t *testing.T) {
	f := newFixture(t)
	image := f.reg.Ref("team-a/app:1.0")
	pod := f.write(t, "pod.yaml", typed(testPod("team-a", "a", v1.PullIfNotPresent, nil, image)))
	base := []string{"records", "explain", "--root-dir", f.rootDir, "--runtime-endpoint", f.endpoint, "--docker-config", ""}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{name: "no image", args: []string{"--pod", pod}, wantCode: ExitUsage},
		{name: "two images", args: []string{"--pod", pod, image, image}, wantCode: ExitUsage},
		{name: "empty image", args: []string{"--pod", pod, " "}, wantCode: ExitUsage, wantStderr: "IMAGE"},
		{name: "no pod", args: []string{image}, wantCode: ExitUsage, wantStderr: "--pod"},
		{name: "pod and pod name", args: []string{"--pod", pod, "--kubeconfig", "k", "--pod-name", "a/b", image}, wantCode: ExitUsage, wantStderr: "exclusive"},
		{name: "image not in the pod", args: []string{"--pod", pod, f.reg.Ref("team-b/app:1.0")}, wantCode: ExitUsage, wantStderr: "no container using image"},
		{name: "bad output", args: []string{"--pod", pod, "-o", "yaml", image}, wantCode: ExitUsage, wantStderr: "--output"},
		{name: "bad config", args: []string{"--pod", pod, "--config", f.write(t, "bad.yaml", configHeader+"imagePullCredentialsVerificationPolicy: Sometimes\n"), image}, wantCode: ExitUsage, wantStderr: "invalid configuration"},
		{name: "root dir missing", args: []string{"--pod", pod, "--root-dir", filepath.Join(f.dir, "nowhere"), image}, wantCode: ExitEnvironment, wantStderr: "does not exist"},
		{name: "runtime unreachable", args: []string{"--pod", pod, "--runtime-endpoint", "unix://" + filepath.Join(f.dir, "dead.sock"), image}, wantCode: ExitEnvironment, wantStderr: "unreachable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, Deps{}, append(slices.Clone(base), tc.args...)...)
			if res.code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stdout %q, stderr %q", res.code, tc.wantCode, res.stdout, res.stderr)
			}
			if res.stdout != "" || len(res.stderrLines()) != 1 || !strings.Contains(res.stderr, tc.wantStderr) {
				t.Errorf("stdout %q, stderr %q: want nothing and one line containing %q", res.stdout, res.stderr, tc.wantStderr)
			}
		})
	}
}

// TestRecordsExplainNextToAKubelet runs while another writer holds the
// lock, as next to a running kubelet.
func TestRecordsExplainNextToAKubelet(t *testing.T) {
	f := newExplainFixture(t)
	lockRecords(t, f.rootDir)
	app := f.reg.Ref("team-a/app:1.0")
	res := runCLI(t, Deps{}, f.explainArgs(t, testPod("team-a", "a2", v1.PullNever, []string{"regcred"}, app), []*v1.Secret{f.regcred}, app)...)
	if res.code != ExitOK || !strings.Contains(res.stdout, "secretHash") {
		t.Errorf("exit code %d; stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	t.Logf("text output:\n%s", res.stdout)
}
