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

package faults

import (
	"bytes"
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
	"k8s.io/client-go/tools/record"
	"k8s.io/imagepullrecords"
	"k8s.io/klog/v2"
	kubeletconfigv1 "k8s.io/kubelet/config/v1"

	"k8s.io/kubernetes/pkg/credentialprovider"
	"k8s.io/kubernetes/pkg/credentialprovider/plugin"
	"k8s.io/kubernetes/pkg/kubelet/cri/remote"
	"k8s.io/kubernetes/pkg/kubelet/images"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
	"k8s.io/kubernetes/test/reliability/internal/fakeplugin"
)

// The service account whose token the plugin exchanges for user1's
// credentials, and the annotation the provider requires of it.
const (
	saBuilder     = "builder"
	saBuilderUID  = "uid-sa-builder"
	annotationKey = "reg.example/role"
	// pluginExecTimeout bounds every plugin execution of the campaign: a
	// healthy one takes milliseconds (the plugin imports the standard
	// library only, and is built without -race), a hanging one is killed
	// at this bound.
	pluginExecTimeout = 500 * time.Millisecond
)

func builderServiceAccount(annotated bool) *v1.ServiceAccount {
	sa := &v1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: nsX, Name: saBuilder, UID: saBuilderUID}}
	if annotated {
		sa.Annotations = map[string]string{annotationKey: "puller"}
	}
	return sa
}

// pluginNode is one node whose image manager gets its credentials for
// reg.example from the fake exec plugin only, with the pod's service
// account token from a fake API server.
type pluginNode struct {
	root     string
	rt       *fakeRuntime
	api      *fakeplugin.APIServer
	modeFile string
	pm       pullmanager.Manager
	im       images.ImageManager
}

func newPluginNode(t *testing.T, ctx context.Context) *pluginNode {
	t.Helper()
	n := &pluginNode{root: t.TempDir(), rt: newFakeRuntime()}
	n.modeFile = filepath.Join(t.TempDir(), "mode")
	fakeplugin.SetMode(t, n.modeFile, fakeplugin.ModeOK)
	config, binDir := fakeplugin.Install(t, fakeplugin.Provider{
		Name:            "token-exchange",
		MatchImages:     []string{regHost},
		ModeFile:        n.modeFile,
		AuthKey:         regHost,
		User:            user1,
		Password:        pass1,
		Stderr:          "plugin-stderr",
		Stdout:          "plugin-stdout",
		TokenAttributes: fakeplugin.TokenAttributes(regHost, kubeletconfigv1.TokenServiceAccountTokenCacheType, []string{annotationKey}, nil),
	})
	providers, err := plugin.NewProviders(plugin.Options{
		ConfigPath:           config,
		BinDir:               binDir,
		ServiceAccountTokens: true,
		ExecTimeout:          pluginExecTimeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	n.api = fakeplugin.NewAPIServer("faults-token", builderServiceAccount(true))
	sas := plugin.NewAPIServiceAccountSource(n.api.Client)
	n.pm, err = pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{
		RootDir:     n.root,
		ImageLister: remote.ImageLister{ImageService: n.rt},
	})
	if err != nil {
		t.Fatal(err)
	}
	n.im, err = images.NewImageManager(images.Options{
		ImageService:             n.rt,
		PullManager:              n.pm,
		EnsureSecretPulledImages: true,
		Recorder:                 record.NewFakeRecorder(100),
		PluginCredentials: func(ctx context.Context, pod *v1.Pod, image string) ([]credentialprovider.TrackedAuthConfig, error) {
			return providers.Lookup(ctx, image, plugin.PodInfo{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, ServiceAccountName: pod.Spec.ServiceAccountName}, sas)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (n *pluginNode) stop() {
	n.im.Stop()
	_ = n.pm.Close()
}

// ensure runs EnsureImageExists for a new pod of the builder service
// account (no Secret) within deadline.
func (n *pluginNode) ensure(ctx context.Context, image string, deadline time.Duration) (images.EnsureResult, error) {
	pod, ref := newPod(nsX, image, v1.PullIfNotPresent, false)
	pod.Spec.ServiceAccountName = saBuilder
	callCtx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	return n.im.EnsureImageExists(callCtx, ref, pod, &pod.Spec.Containers[0])
}

// files returns the files of image_manager/<sub> and their content.
func (n *pluginNode) files(t *testing.T, sub string) map[string][]byte {
	t.Helper()
	dir := filepath.Join(n.root, imagepullrecords.ManagerDirName, sub)
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = data
	}
	return out
}

// pluginFaultCase is one way the plugin or the API server fails.
type pluginFaultCase struct {
	name string
	// inject breaks the plugin or the API server; heal repairs it.
	inject, heal func(t *testing.T, n *pluginNode)
	// deadline bounds the failing calls, as a pod worker's context does.
	deadline time.Duration
	// wantText is part of the failure message.
	wantText string
}

func pluginModeCase(mode fakeplugin.Mode, wantText string) pluginFaultCase {
	return pluginFaultCase{
		name:     "plugin " + string(mode),
		inject:   func(t *testing.T, n *pluginNode) { fakeplugin.SetMode(t, n.modeFile, mode) },
		heal:     func(t *testing.T, n *pluginNode) { fakeplugin.SetMode(t, n.modeFile, fakeplugin.ModeOK) },
		deadline: 10 * time.Second,
		wantText: wantText,
	}
}

func pluginFaultCases() []pluginFaultCase {
	apiError := apierrors.NewInternalError(errors.New("etcd is on fire"))
	cases := []pluginFaultCase{
		pluginModeCase(fakeplugin.ModeCrash, "exit status 1"),
		pluginModeCase(fakeplugin.ModeGarbage, "not valid JSON"),
		pluginModeCase(fakeplugin.ModeWrongKind, "kind"),
		pluginModeCase(fakeplugin.ModeWrongVersion, "apiVersion"),
		pluginModeCase(fakeplugin.ModeBadCacheKey, "cacheKeyType"),
		pluginModeCase(fakeplugin.ModeBig, "stdout exceeded"),
		pluginModeCase(fakeplugin.ModeEmpty, "not valid JSON"),
		pluginModeCase(fakeplugin.ModeHang, "timed out"),
	}
	// The pod's deadline comes before the exec timeout: the call gives up
	// at its deadline, and the plugin is killed at the exec timeout (the
	// goroutine check waits for it).
	hangPastDeadline := pluginModeCase(fakeplugin.ModeHang, "waiting for the plugin")
	hangPastDeadline.name = "plugin hang past the pod's deadline"
	hangPastDeadline.deadline = pluginExecTimeout / 2
	cases = append(cases, hangPastDeadline,
		pluginFaultCase{
			name:     "TokenRequest fails",
			inject:   func(_ *testing.T, n *pluginNode) { n.api.FailTokens(apiError) },
			heal:     func(_ *testing.T, n *pluginNode) { n.api.FailTokens(nil) },
			deadline: 10 * time.Second,
			wantText: "requesting a token",
		},
		pluginFaultCase{
			name: "TokenRequest times out",
			inject: func(_ *testing.T, n *pluginNode) {
				n.api.FailTokens(apierrors.NewServerTimeout(v1.Resource("serviceaccounts/token"), "create", 1))
			},
			heal:     func(_ *testing.T, n *pluginNode) { n.api.FailTokens(nil) },
			deadline: 10 * time.Second,
			wantText: "requesting a token",
		},
		pluginFaultCase{
			name:     "TokenRequest returns an empty token",
			inject:   func(_ *testing.T, n *pluginNode) { n.api.EmptyTokens(true) },
			heal:     func(_ *testing.T, n *pluginNode) { n.api.EmptyTokens(false) },
			deadline: 10 * time.Second,
			wantText: "empty token",
		},
		pluginFaultCase{
			name:     "ServiceAccount GET fails",
			inject:   func(_ *testing.T, n *pluginNode) { n.api.FailServiceAccounts(apiError) },
			heal:     func(_ *testing.T, n *pluginNode) { n.api.FailServiceAccounts(nil) },
			deadline: 10 * time.Second,
			wantText: "getting service account",
		},
		pluginFaultCase{
			name: "ServiceAccount deleted",
			inject: func(t *testing.T, n *pluginNode) {
				if err := n.api.Client.CoreV1().ServiceAccounts(nsX).Delete(context.Background(), saBuilder, metav1.DeleteOptions{}); err != nil {
					t.Fatal(err)
				}
			},
			heal: func(t *testing.T, n *pluginNode) {
				if _, err := n.api.Client.CoreV1().ServiceAccounts(nsX).Create(context.Background(), builderServiceAccount(true), metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			},
			deadline: 10 * time.Second,
			wantText: "not found",
		},
		pluginFaultCase{
			name: "ServiceAccount loses the required annotation",
			inject: func(t *testing.T, n *pluginNode) {
				if _, err := n.api.Client.CoreV1().ServiceAccounts(nsX).Update(context.Background(), builderServiceAccount(false), metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			},
			heal: func(t *testing.T, n *pluginNode) {
				if _, err := n.api.Client.CoreV1().ServiceAccounts(nsX).Update(context.Background(), builderServiceAccount(true), metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			},
			deadline: 10 * time.Second,
			wantText: "missing required annotation",
		},
	)
	return cases
}

// TestPluginAndTokenFaults breaks the credential provider plugin (every
// failure mode, a hang killed at the exec timeout, a hang that outlives
// the pod's deadline) and the API server's part (TokenRequest errors and
// empty tokens, ServiceAccount errors, a deleted account, a lost required
// annotation). For an absent image and for a present one whose record
// holds the service account: the container fails with ErrImagePull, the
// runtime is not asked to pull, the records are byte for byte what they
// were, no intent is left, no goroutine outlives the case; once repaired,
// the present image is reused through the recorded service account and the
// absent one is pulled and recorded.
func TestPluginAndTokenFaults(t *testing.T) {
	rounds := 1
	if longScale() {
		rounds = 10
	}
	cases := pluginFaultCases()
	failed := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for range rounds {
				failed += runPluginFault(t, tc)
			}
		})
	}
	fmt.Printf("RELIABILITY: faults: credential provider plugin and TokenRequest: %d cases x %d rounds = %d broken lookups (a present image on record for the service account, an absent one), ErrImagePull with nothing pulled, recorded or left pending and no goroutine left behind in each, then reuse through the recorded service account, violations=%d\n",
		len(cases), rounds, failed, map[bool]int{false: 0, true: 1}[t.Failed()])
}

// runPluginFault runs one case on a fresh node and returns the number of
// failed calls it checked.
func runPluginFault(t *testing.T, tc pluginFaultCase) int {
	t.Helper()
	check := goroutineBaseline(t)
	defer func() {
		check()
		// The executions ended with their goroutines: no plugin process
		// is left either.
		if left := fakeplugin.Processes(); left != 0 {
			t.Errorf("%d plugin processes left running", left)
		}
	}()
	ctx := klog.NewContext(context.Background(), klog.Logger{})
	n := newPluginNode(t, ctx)
	defer n.stop()

	// A healthy plugin pulls P and records the service account.
	if res, err := n.ensure(ctx, imageP, 10*time.Second); err != nil || !res.PullAttempted {
		t.Fatalf("healthy first pull of %s = %+v, %v", imageP, res, err)
	}
	records := n.files(t, imagepullrecords.RecordsDirName)
	if len(records) != 1 {
		t.Fatalf("after the first pull: %d records, want 1", len(records))
	}
	for _, data := range records {
		if !bytes.Contains(data, []byte(saBuilderUID)) {
			t.Fatalf("the record does not hold the service account: %s", data)
		}
	}
	pulls := n.rt.pullCount()

	tc.inject(t, n)
	checked := 0
	for _, image := range []string{imageQ, imageP} {
		res, err := n.ensure(ctx, image, tc.deadline)
		checked++
		if !errors.Is(err, images.ErrImagePull) || res.Reason != images.ErrImagePull.Error() {
			t.Errorf("%s with the plugin broken: %+v, %v; want ErrImagePull", image, res, err)
			continue
		}
		if res.ImageRef != "" {
			t.Errorf("%s with the plugin broken: admitted %s", image, res.ImageRef)
		}
		if !strings.Contains(res.Message, tc.wantText) {
			t.Errorf("%s: message %q, want it to contain %q", image, res.Message, tc.wantText)
		}
		var pe *plugin.PluginError
		if !errors.As(err, &pe) {
			t.Errorf("%s: error %v is not a *plugin.PluginError", image, err)
		}
	}
	if got := n.rt.pullCount(); got != pulls {
		t.Errorf("the runtime was asked to pull %d times while the plugin was broken", got-pulls)
	}
	if got := n.files(t, imagepullrecords.RecordsDirName); !sameFiles(got, records) {
		t.Errorf("the records changed while the plugin was broken: %d files, want the one of %s unchanged", len(got), imageP)
	}
	if intents := n.files(t, imagepullrecords.IntentsDirName); len(intents) != 0 {
		t.Errorf("%d intents left by failed lookups", len(intents))
	}

	tc.heal(t, n)
	res, err := n.ensure(ctx, imageP, 10*time.Second)
	if err != nil || res.PullAttempted || res.Verification != pullmanager.VerificationServiceAccount {
		t.Errorf("%s once repaired: %+v, %v; want a reuse through the recorded service account", imageP, res, err)
	}
	if res, err := n.ensure(ctx, imageQ, 10*time.Second); err != nil || !res.PullAttempted {
		t.Errorf("%s once repaired: %+v, %v; want a pull", imageQ, res, err)
	}
	if got := len(n.files(t, imagepullrecords.RecordsDirName)); got != 2 {
		t.Errorf("once repaired: %d records, want 2", got)
	}
	return checked
}

func sameFiles(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for name, data := range a {
		if other, ok := b[name]; !ok || !bytes.Equal(data, other) {
			return false
		}
	}
	return true
}
