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

package security

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"
	kubeletconfigv1 "k8s.io/kubelet/config/v1"

	"k8s.io/kubernetes/pkg/credentialprovider"
	"k8s.io/kubernetes/pkg/credentialprovider/plugin"
	"k8s.io/kubernetes/pkg/kubelet/cri/remote"
	"k8s.io/kubernetes/pkg/kubelet/images"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
	"k8s.io/kubernetes/test/reliability/internal/fakeplugin"
)

// TestMain removes the fake credential provider plugin at the end.
func TestMain(m *testing.M) { os.Exit(fakeplugin.Run(m)) }

// What the credential provider plugin part of the campaign must never let
// out: the passwords the plugin returns (carried by a service account
// annotation, so the plugin answers per tenant), the other annotation
// values, the plugin's stderr and stdout, and every service account token
// the fake API server issues (their common prefix is forbidden too).
const (
	userPlugin        = "pluginuser"
	passPlugin        = "Plugin-pw-J6tN-8r3Wd-unique"
	passPluginRefused = "PluginRefused-pw-C5hX-0v7Qm-unique"
	annotationRole    = "Annot-role-F2kZ-4n9Ls-unique"
	annotationOther   = "Annot-other-Y8bG-6e1Pu-unique"
	pluginStderr      = "Plugin-stderr-V3qA-5m8Kj-unique"
	pluginStdout      = "Plugin-stdout-N7wE-2c4Hy-unique"
	tokenPrefix       = "SA-tok-D9sR-1x5Tb"
)

// The repository only the plugin's user may pull, and the service account
// annotations the provider reads.
const (
	repoSA        = "team/sa"
	keyPassword   = "registry.example/password"
	keyRole       = "registry.example/role"
	keyNotPassed  = "registry.example/not-passed"
	pluginName    = "sa-exchange"
	tokenAudience = "registry.example/sa"
)

// pluginStats count what the plugin part of the campaign did.
type pluginStats struct {
	runs, executions, tokens, failureModes, crossNamespace int
	// forbidden are the strings of the plugin part, also in s.forbidden.
	forbidden map[string]bool
	// config and binDir are the plugin's flags, for records explain.
	config, binDir string
}

// forbidPlugin forbids secret and its base64 forms as strings of the
// plugin part.
func (s *suite) forbidPlugin(st *pluginStats, secret, what string) {
	for _, needle := range s.forbid(secret, what) {
		st.forbidden[needle] = true
	}
}

func serviceAccount(ns, name, uid, password, role string) *v1.ServiceAccount {
	return &v1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid), Annotations: map[string]string{
			keyPassword: password, keyRole: role, keyNotPassed: annotationOther,
		}},
	}
}

// saPod returns a pod of service account sa from the API server.
func saPod(ns, name, sa, image string, policy v1.PullPolicy) *v1.Pod {
	p := pod(ns, name, "app", image, policy)
	p.Spec.ServiceAccountName = sa
	return p
}

// pluginCampaign runs kubelet-imagectl ensure with a credential provider
// plugin that exchanges the pod's service account token (from a fake API
// server) for registry credentials, in every failure mode, and the exec
// timeout through the library (the tool has no flag for it). The caller
// searches the capture for the strings forbidden here.
func (s *suite) pluginCampaign(t *testing.T, config, nodeConfig string) *pluginStats {
	st := &pluginStats{forbidden: map[string]bool{}}
	for secret, what := range map[string]string{
		passPlugin:        "a password a plugin returned",
		passPluginRefused: "a password a plugin returned",
		annotationRole:    "a service account annotation value",
		annotationOther:   "a service account annotation value",
		pluginStderr:      "a plugin's stderr",
		pluginStdout:      "a plugin's stdout",
		tokenPrefix:       "a service account token",
	} {
		s.forbidPlugin(st, secret, what)
	}
	saImage := s.reg.Ref(repoSA + tag)
	modeFile := filepath.Join(t.TempDir(), "mode")
	recordFile := filepath.Join(t.TempDir(), "requests")
	fakeplugin.SetMode(t, modeFile, fakeplugin.ModeOK)
	pluginConfig, binDir := fakeplugin.Install(t, fakeplugin.Provider{
		Name:               pluginName,
		MatchImages:        []string{s.reg.Addr() + "/" + repoSA},
		ModeFile:           modeFile,
		AuthKey:            s.reg.Addr(),
		User:               userPlugin,
		PasswordAnnotation: keyPassword,
		Stderr:             pluginStderr,
		Stdout:             pluginStdout,
		Record:             recordFile,
		TokenAttributes:    fakeplugin.TokenAttributes(tokenAudience, kubeletconfigv1.ServiceAccountServiceAccountTokenCacheType, []string{keyPassword}, []string{keyRole}),
	})
	st.config, st.binDir = pluginConfig, binDir

	// Tenant S's service account maps to the plugin user's password; a
	// service account of the same name in namespace O maps to a password
	// the registry refuses, and one in namespace M lacks the annotation the
	// provider requires.
	objects := []runtime.Object{
		serviceAccount("ns-s", "builder", "uid-sa-s-builder", passPlugin, annotationRole),
		serviceAccount("ns-o", "builder", "uid-sa-o-builder", passPluginRefused, annotationRole),
		&v1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns-m", Name: "builder", UID: "uid-sa-m-builder", Annotations: map[string]string{keyRole: annotationRole}}},
		saPod("ns-s", "p1", "builder", saImage, v1.PullIfNotPresent),
		saPod("ns-s", "p2", "builder", saImage, v1.PullIfNotPresent),
		saPod("ns-s", "p3", "builder", saImage, v1.PullAlways),
		saPod("ns-o", "q1", "builder", saImage, v1.PullIfNotPresent),
		saPod("ns-o", "q2", "builder", saImage, v1.PullNever),
		saPod("ns-m", "m1", "builder", saImage, v1.PullIfNotPresent),
	}
	api := fakeplugin.NewAPIServer(tokenPrefix, objects...)
	newClient := func(string) (kubernetes.Interface, error) { return api.Client, nil }
	args := func(pods ...string) []string {
		out := []string{"ensure", "-o", "json", "--root-dir", s.root, "--runtime-endpoint", s.rt.Endpoint(),
			"--config", config, "--docker-config", nodeConfig, "--kubeconfig", filepath.Join(s.inputs, "kubeconfig"),
			"--image-credential-provider-config", pluginConfig, "--image-credential-provider-bin-dir", binDir}
		for _, p := range pods {
			out = append(out, "--pod-name", p)
		}
		return out
	}
	run := func(want map[string]string, extra []string, pods ...string) {
		t.Helper()
		st.runs++
		res, _ := s.runWith(newClient, append(args(pods...), extra...)...)
		for p, w := range want {
			got := res[p]
			if len(got.Containers) != 1 || got.Containers[0].Result != w {
				t.Errorf("pod %s: %+v, want %s", p, got, w)
				continue
			}
			if c := got.Containers[0]; w == "Failed" && c.Reason != images.ErrImagePull.Error() {
				t.Errorf("pod %s failed with reason %q, want %s", p, c.Reason, images.ErrImagePull)
			}
		}
	}

	// 1. The plugin answers for tenant S: pulled, recorded under the
	// service account; a second pod of it reuses the image without a
	// pull. Namespace O's account of the same name is not granted (its
	// pull is refused, Never is denied), nor is M's, which lacks the
	// required annotation.
	run(map[string]string{"ns-s/p1": "Pulled"}, nil, "ns-s/p1")
	run(map[string]string{"ns-s/p2": "Reused", "ns-o/q1": "Failed", "ns-o/q2": "Denied", "ns-m/m1": "Failed"}, nil, "ns-s/p2", "ns-o/q1", "ns-o/q2", "ns-m/m1")
	st.crossNamespace = 2
	okPulls := 0
	for _, p := range s.rt.Pulls() {
		if p.Image == saImage && p.Err == "" {
			okPulls++
		}
	}
	if okPulls != 1 {
		t.Errorf("%d successful pulls of %s, want 1 (tenant S's first)", okPulls, saImage)
	}
	// A dry run reuses through the recorded service account too.
	run(map[string]string{"ns-s/p2": "Reused"}, []string{"--dry-run"}, "ns-s/p2")

	// 2. Every failure mode, for a present image on record (the decision
	// must fail) and for a pull (Always).
	for _, mode := range fakeplugin.FailureModes {
		fakeplugin.SetMode(t, modeFile, mode)
		run(map[string]string{"ns-s/p2": "Failed", "ns-s/p3": "Failed"}, nil, "ns-s/p2", "ns-s/p3")
		st.failureModes++
	}
	fakeplugin.SetMode(t, modeFile, fakeplugin.ModeOK)

	// 3. The API server refuses the TokenRequest.
	api.FailTokens(apierrors.NewInternalError(errors.New("the token signer is down")))
	run(map[string]string{"ns-s/p2": "Failed"}, nil, "ns-s/p2")
	api.FailTokens(nil)

	// 4. The exec timeout, which the tool does not expose: the same
	// plugin through the library, killed at a short timeout while it
	// hangs, for a decision and for a pull.
	s.pluginTimeout(t, pluginConfig, binDir, modeFile, api, saImage)

	reqs := fakeplugin.Requests(t, recordFile)
	st.executions = len(reqs)
	tokens := api.Tokens()
	st.tokens = len(tokens)
	for _, tok := range tokens {
		s.forbidPlugin(st, tok, "a service account token")
	}
	// The forbidden strings were in play: the plugin got the tokens and
	// the annotation values it asked for, and only those.
	delivered := 0
	for _, r := range reqs {
		if strings.HasPrefix(r.ServiceAccountToken, tokenPrefix) {
			delivered++
		}
		if _, ok := r.ServiceAccountAnnotations[keyNotPassed]; ok {
			t.Errorf("the plugin got annotation %s, which the provider does not list", keyNotPassed)
		}
	}
	if delivered != len(reqs) || delivered == 0 {
		t.Errorf("%d of %d plugin executions got a service account token", delivered, len(reqs))
	}
	for _, aud := range api.Audiences() {
		if aud != tokenAudience {
			t.Errorf("a token was requested for audience %q, want %q", aud, tokenAudience)
		}
	}
	return st
}

// pluginTimeout runs the image manager over the suite's runtime with the
// plugin's providers at a short exec timeout: a healthy call records the
// service account, then the plugin hangs for a decision and for a pull.
// Logs (at -v=10), events and errors go into the capture.
func (s *suite) pluginTimeout(t *testing.T, pluginConfig, binDir, modeFile string, api *fakeplugin.APIServer, image string) {
	t.Helper()
	ctx := s.ctx
	providers, err := plugin.NewProviders(plugin.Options{
		ConfigPath:           pluginConfig,
		BinDir:               binDir,
		ServiceAccountTokens: true,
		ExecTimeout:          500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	cri, err := remote.NewImageService(ctx, s.rt.Endpoint(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cri.Close(ctx) }()
	pm, err := pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{RootDir: t.TempDir(), ImageLister: remote.ImageLister{ImageService: cri}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pm.Close() }()
	recorder := record.NewFakeRecorder(100)
	sas := plugin.NewAPIServiceAccountSource(api.Client)
	im, err := images.NewImageManager(images.Options{
		ImageService:             cri,
		PullManager:              pm,
		EnsureSecretPulledImages: true,
		Recorder:                 recorder,
		PluginCredentials: func(ctx context.Context, pod *v1.Pod, image string) ([]credentialprovider.TrackedAuthConfig, error) {
			return providers.Lookup(ctx, image, plugin.PodInfo{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, ServiceAccountName: pod.Spec.ServiceAccountName}, sas)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Stop()
	ensure := func(name string, policy v1.PullPolicy) (images.EnsureResult, error) {
		p := saPod("ns-s", name, "builder", image, policy)
		ref := &v1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: p.Namespace, Name: p.Name, UID: p.UID, FieldPath: "spec.containers{app}"}
		res, err := im.EnsureImageExists(ctx, ref, p, &p.Spec.Containers[0])
		fmt.Fprintf(s.capture, "library EnsureImageExists %s: %+v, %v\n", name, res, err)
		return res, err
	}
	if res, err := ensure("t1", v1.PullAlways); err != nil || !res.PullAttempted {
		t.Errorf("healthy plugin through the library: %+v, %v; want a pull", res, err)
	}
	fakeplugin.SetMode(t, modeFile, fakeplugin.ModeHang)
	defer fakeplugin.SetMode(t, modeFile, fakeplugin.ModeOK)
	for _, policy := range []v1.PullPolicy{v1.PullIfNotPresent, v1.PullAlways} {
		res, err := ensure("t-"+strings.ToLower(string(policy)), policy)
		if !errors.Is(err, images.ErrImagePull) || !strings.Contains(res.Message, "timed out") {
			t.Errorf("hanging plugin, %s: %+v, %v; want ErrImagePull with a timeout", policy, res, err)
		}
	}
	close(recorder.Events)
	for e := range recorder.Events {
		fmt.Fprintln(s.capture, "event:", e)
	}
}
