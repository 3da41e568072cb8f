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
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/component-base/metrics/testutil"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/imagepullrecords"
	"k8s.io/klog/v2/ktesting"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

func TestNewImageManagerOptions(t *testing.T) {
	rt := newFakeRuntime()
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{name: "gate off needs no pull manager", opts: Options{ImageService: rt}},
		{name: "gate on with a pull manager", opts: Options{ImageService: rt, EnsureSecretPulledImages: true, PullManager: pullmanager.NewNoopPullManager()}},
		{name: "no image service", opts: Options{}, wantErr: "image manager: no image service"},
		{
			name:    "gate on without a pull manager",
			opts:    Options{ImageService: rt, EnsureSecretPulledImages: true},
			wantErr: "image manager: the feature gate is on but no pull manager was given",
		},
		{name: "serialised with maxParallelImagePulls 1", opts: Options{ImageService: rt, SerializeImagePulls: true, MaxParallelImagePulls: ptr.To[int32](1)}},
		{
			name:    "serialised with maxParallelImagePulls 3",
			opts:    Options{ImageService: rt, SerializeImagePulls: true, MaxParallelImagePulls: ptr.To[int32](3)},
			wantErr: "image manager: maxParallelImagePulls 3 must not be larger than 1 when serializeImagePulls is true",
		},
		{
			name:    "maxParallelImagePulls 0",
			opts:    Options{ImageService: rt, MaxParallelImagePulls: ptr.To[int32](0)},
			wantErr: "image manager: maxParallelImagePulls 0 must be a positive number",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewImageManager(tc.opts)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("NewImageManager: %v", err)
				}
				m.Stop()
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("NewImageManager error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestPullLimit(t *testing.T) {
	tests := []struct {
		name        string
		serialize   bool
		maxParallel *int32
		want        int
	}{
		{name: "serialised", serialize: true, want: 1},
		{name: "parallel without bound", want: 0},
		{name: "parallel bounded", maxParallel: ptr.To[int32](5), want: 5},
		{name: "parallel bounded above 31", maxParallel: ptr.To[int32](64), want: 64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pullLimit(tc.serialize, tc.maxParallel)
			if err != nil || got != tc.want {
				t.Errorf("pullLimit = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestPullPolicyDefaulting(t *testing.T) {
	tests := []struct {
		image  string
		policy v1.PullPolicy
		want   v1.PullPolicy
	}{
		{image: "busybox", want: v1.PullAlways},
		{image: "busybox:latest", want: v1.PullAlways},
		{image: "busybox:1.36", want: v1.PullIfNotPresent},
		{image: "reg.example/a@sha256:0123456789012345678901234567890123456789012345678901234567890123", want: v1.PullIfNotPresent},
		{image: "busybox", policy: v1.PullNever, want: v1.PullNever},
		{image: "busybox:1", policy: v1.PullAlways, want: v1.PullAlways},
		{image: "busybox:1", policy: "Sometimes", want: v1.PullNever},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%q", tc.image, tc.policy), func(t *testing.T) {
			if got := pullPolicy(&v1.Container{Image: tc.image, ImagePullPolicy: tc.policy}); got != tc.want {
				t.Errorf("pullPolicy = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestInvalidImageNameAndInspectError(t *testing.T) {
	errRuntime := errors.New("runtime unreachable")
	tests := []struct {
		name       string
		image      string
		statusErr  error
		wantResult EnsureResult
		wantErr    error
		wantEvents []string
	}{
		{
			name:  "invalid image name",
			image: "Not/A:Valid:Name",
			wantResult: EnsureResult{
				Reason:  "InvalidImageName",
				Message: `Failed to apply default image tag "Not/A:Valid:Name": couldn't parse image name "Not/A:Valid:Name": invalid reference format: repository name (A) must be lowercase`,
			},
			wantErr: ErrInvalidImageName,
			wantEvents: []string{
				`spec.containers{app} Warning InspectFailed Failed to apply default image tag "Not/A:Valid:Name": couldn't parse image name "Not/A:Valid:Name": invalid reference format: repository name (A) must be lowercase`,
			},
		},
		{
			name:      "inspect error",
			image:     privateApp,
			statusErr: errRuntime,
			wantResult: EnsureResult{
				Reason:  "ImageInspectError",
				Message: `Failed to inspect image "reg.example/team/app:1": runtime unreachable`,
			},
			wantErr:    errRuntime,
			wantEvents: []string{`spec.containers{app} Warning InspectFailed Failed to inspect image "reg.example/team/app:1": runtime unreachable`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			env := newTestEnv(ctx, t, envOptions{})
			env.runtime.statusErr = tc.statusErr
			res, err := env.ensure(ctx, newPod(nsX, "pod", tc.image, v1.PullIfNotPresent, "s1"))
			if diff := cmp.Diff(tc.wantResult, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("error = %v, want it to wrap %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.wantEvents, env.recorder.take()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if gets := env.takeSecretGets(); len(gets) != 0 {
				t.Errorf("Secrets fetched: %v, want none", gets)
			}
		})
	}
}

// ensureCounts returns the ensure-image counter of every label combination.
func ensureCounts(t *testing.T) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, policy := range []pullPolicyLabel{pullPolicyAlways, pullPolicyIfNotPresent, pullPolicyNever} {
		for _, present := range []triStateLabel{labelTrue, labelFalse, labelUnknown} {
			for _, required := range []triStateLabel{labelTrue, labelFalse, labelUnknown} {
				v, err := testutil.GetCounterMetricValue(EnsureImageRequests.WithLabelValues(string(policy), string(present), string(required)))
				if err != nil {
					t.Fatalf("reading the counter: %v", err)
				}
				out[fmt.Sprintf("%s/%s/%s", policy, present, required)] = v
			}
		}
	}
	return out
}

func TestEnsureImageRequestsMetric(t *testing.T) {
	brokenSecret := dockerSecret(nsX, "broken", "uid-broken", "", "")
	brokenSecret.Data[v1.DockerConfigJsonKey] = []byte("{not json")
	tests := []struct {
		name       string
		policy     kubeletconfig.ImagePullCredentialsVerificationPolicy
		preload    bool
		pulledByA  bool
		image      string
		pullPolicy v1.PullPolicy
		secrets    []string
		statusErr  error
		// want is pull_policy/present_locally/pull_required.
		want string
	}{
		{name: "Always, absent", pullPolicy: v1.PullAlways, secrets: []string{"s1"}, want: "always/false/true"},
		{name: "Always, present", preload: true, pullPolicy: v1.PullAlways, secrets: []string{"s1"}, want: "always/true/true"},
		{name: "IfNotPresent, absent", pullPolicy: v1.PullIfNotPresent, secrets: []string{"s1"}, want: "ifnotpresent/false/true"},
		{name: "IfNotPresent, present and usable", preload: true, pullPolicy: v1.PullIfNotPresent, want: "ifnotpresent/true/false"},
		{
			name: "IfNotPresent, present and must pull", policy: kubeletconfig.AlwaysVerify, preload: true,
			pullPolicy: v1.PullIfNotPresent, secrets: []string{"s1"}, want: "ifnotpresent/true/true",
		},
		{name: "Never, absent", pullPolicy: v1.PullNever, want: "never/false/true"},
		{name: "Never, present and usable", preload: true, pullPolicy: v1.PullNever, want: "never/true/false"},
		{name: "Never, present and denied", policy: kubeletconfig.AlwaysVerify, preload: true, pullPolicy: v1.PullNever, want: "never/true/true"},
		{name: "invalid image name", image: "Not/Valid:", pullPolicy: v1.PullIfNotPresent, want: "ifnotpresent/unknown/unknown"},
		{name: "inspect error", statusErr: errors.New("down"), pullPolicy: v1.PullNever, want: "never/unknown/unknown"},
		{
			name: "credentials unresolvable for the decision", pulledByA: true,
			pullPolicy: v1.PullIfNotPresent, secrets: []string{"broken"}, want: "ifnotpresent/true/unknown",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			env := newTestEnv(ctx, t, envOptions{policy: tc.policy, secrets: []*v1.Secret{brokenSecret}})
			image := tc.image
			if image == "" {
				image = privateApp
			}
			if tc.preload {
				env.runtime.preload(privateApp)
			}
			if tc.pulledByA {
				env.mustAdmit(ctx, newPod(nsX, "pod-a", privateApp, v1.PullIfNotPresent, "s1"))
			}
			env.runtime.statusErr = tc.statusErr
			before := ensureCounts(t)
			_, _ = env.ensure(ctx, newPod(nsX, "pod-b", image, tc.pullPolicy, tc.secrets...))
			after := ensureCounts(t)
			var total float64
			for k, v := range after {
				total += v - before[k]
			}
			if total != 1 {
				t.Errorf("the call was counted %v times, want once", total)
			}
			if got := after[tc.want] - before[tc.want]; got != 1 {
				t.Errorf("counter %s grew by %v, want 1", tc.want, got)
			}
		})
	}
}

func TestBackOff(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	clock := testingclock.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	env := newTestEnv(ctx, t, envOptions{backoff: flowcontrol.NewFakeBackOff(10*time.Second, 300*time.Second, clock)})
	podB := newPod(nsY, "pod-b", privateApp, v1.PullIfNotPresent)
	backOffResult := EnsureResult{
		Verification: pullmanager.VerificationNotPresent,
		Reason:       "ImagePullBackOff",
		Message:      `Back-off pulling image "reg.example/team/app:1"`,
	}
	backOffEvents := []string{`spec.containers{app} Normal BackOff Back-off pulling image "reg.example/team/app:1"`}

	steps := []struct {
		name       string
		advance    time.Duration
		pod        *v1.Pod
		wantReason string
		wantPull   bool
	}{
		{name: "first pull fails", pod: podB, wantReason: "ErrImagePull", wantPull: true},
		{name: "in back-off", pod: podB, wantReason: "ImagePullBackOff"},
		{name: "another pod is not in back-off", pod: newPod(nsY, "pod-c", privateApp, v1.PullIfNotPresent), wantReason: "ErrImagePull", wantPull: true},
		{name: "the same pod with another image is not in back-off", pod: newPod(nsY, "pod-b", publicTool, v1.PullIfNotPresent), wantPull: true},
		{name: "still in back-off after 9s", advance: 9 * time.Second, pod: podB, wantReason: "ImagePullBackOff"},
		{name: "pulls again after 10s, fails", advance: 2 * time.Second, pod: podB, wantReason: "ErrImagePull", wantPull: true},
		{name: "the back-off doubled", advance: 11 * time.Second, pod: podB, wantReason: "ImagePullBackOff"},
		{name: "pulls again after 20s", advance: 10 * time.Second, pod: podB, wantReason: "ErrImagePull", wantPull: true},
	}
	for _, step := range steps {
		clock.Step(step.advance)
		env.runtime.resetPulls()
		res, err := env.ensure(ctx, step.pod)
		events := env.recorder.take()
		if res.Reason != step.wantReason {
			t.Fatalf("%s: reason = %q (%v), want %q", step.name, res.Reason, err, step.wantReason)
		}
		if pulled := len(env.runtime.pullLog()) > 0; pulled != step.wantPull || res.PullAttempted != step.wantPull {
			t.Errorf("%s: runtime pulls %v, PullAttempted %v; want %v", step.name, env.runtime.pullLog(), res.PullAttempted, step.wantPull)
		}
		if step.wantReason == "ImagePullBackOff" {
			if diff := cmp.Diff(backOffResult, res); diff != "" {
				t.Errorf("%s: result (-want +got):\n%s", step.name, diff)
			}
			if !errors.Is(err, ErrImagePullBackOff) {
				t.Errorf("%s: error = %v, want ErrImagePullBackOff", step.name, err)
			}
			if diff := cmp.Diff(backOffEvents, events); diff != "" {
				t.Errorf("%s: events (-want +got):\n%s", step.name, diff)
			}
		}
		if intents := env.intentFiles(); len(intents) != 0 {
			t.Errorf("%s: intents left: %v", step.name, intents)
		}
	}
}

// failingRecordsFS fails writes into pulled/ while fail is set.
type failingRecordsFS struct {
	imagepullrecords.FS
	fail atomic.Bool
}

var errInjected = errors.New("injected write failure")

func (f *failingRecordsFS) CreateTemp(dir, pattern string) (imagepullrecords.File, error) {
	if f.fail.Load() && filepath.Base(dir) == imagepullrecords.RecordsDirName {
		return nil, errInjected
	}
	return f.FS.CreateTemp(dir, pattern)
}

// TestPinnedIntentWhenRecordWriteFails: a pull whose record cannot be
// written admits the pod (it proved access), keeps the intent, and leaves
// the name counted as pulled by the kubelet until a later pull records it.
func TestPinnedIntentWhenRecordWriteFails(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	fsys := &failingRecordsFS{FS: imagepullrecords.OS}
	env := newTestEnv(ctx, t, envOptions{fs: fsys})
	fsys.fail.Store(true)

	res := env.mustAdmit(ctx, newPod(nsX, "pod-a", privateApp, v1.PullIfNotPresent, "s1"))
	if res.ImageRef != privateAppID || !res.PullAttempted {
		t.Errorf("pod A = %+v, want admitted after a pull as %s", res, privateAppID)
	}
	wantIntent := []string{imagepullrecords.FileName(privateApp)}
	if diff := cmp.Diff(wantIntent, env.intentFiles()); diff != "" {
		t.Errorf("intents after the failed record write (-want +got):\n%s", diff)
	}
	if records := env.recordFiles(); len(records) != 0 {
		t.Errorf("records = %v, want none", records)
	}

	// Under the default policy a name the kubelet never pulled would be
	// usable; the pinned intent says it did pull it.
	res, err := env.ensure(ctx, newPod(nsY, "pod-b", privateApp, v1.PullNever))
	if !errors.Is(err, ErrImageNeverPull) || res.Verification != pullmanager.VerificationMustPull {
		t.Errorf("pod B without credentials = %+v, %v; want ErrImageNeverPull by mustPull", res, err)
	}

	fsys.fail.Store(false)
	res = env.mustAdmit(ctx, newPod(nsX, "pod-a2", privateApp, v1.PullIfNotPresent, "s1"))
	if !res.PullAttempted {
		t.Errorf("pod A again = %+v, want a pull (nothing on record)", res)
	}
	if intents := env.intentFiles(); len(intents) != 0 {
		t.Errorf("intents after the record was written: %v, want none", intents)
	}
	if diff := cmp.Diff([]string{nsX + "/s1"}, env.recordedCredentials(privateAppID, privateApp)); diff != "" {
		t.Errorf("recorded credentials (-want +got):\n%s", diff)
	}
}

// recordingPullManager wraps a pull manager, logs its Record calls and can
// fail RecordPullIntent.
type recordingPullManager struct {
	pullmanager.PullManager
	intentErr error
	calls     []string
}

func (r *recordingPullManager) RecordPullIntent(ctx context.Context, image string) error {
	r.calls = append(r.calls, "intent "+image)
	if r.intentErr != nil {
		return r.intentErr
	}
	return r.PullManager.RecordPullIntent(ctx, image)
}

func (r *recordingPullManager) RecordImagePulled(ctx context.Context, image, imageRef string, creds *kubeletconfig.ImagePullCredentials) error {
	what := "nil"
	switch {
	case creds == nil:
	case creds.NodePodsAccessible:
		what = "node"
	case len(creds.KubernetesSecrets) == 1:
		s := creds.KubernetesSecrets[0]
		what = s.Namespace + "/" + s.Name + "/" + s.UID
		if s.CredentialHash == "" {
			what += " without hash"
		}
	default:
		what = fmt.Sprintf("%+v", *creds)
	}
	r.calls = append(r.calls, fmt.Sprintf("pulled %s as %q with %s", image, imageRef, what))
	return r.PullManager.RecordImagePulled(ctx, image, imageRef, creds)
}

func (r *recordingPullManager) RecordImagePullFailed(ctx context.Context, image string) {
	r.calls = append(r.calls, "failed "+image)
	r.PullManager.RecordImagePullFailed(ctx, image)
}

func (r *recordingPullManager) takeCalls() []string {
	out := r.calls
	r.calls = nil
	return out
}

func TestPullIntentFailure(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	pm := &recordingPullManager{PullManager: pullmanager.NewNoopPullManager(), intentErr: errInjected}
	env := newTestEnv(ctx, t, envOptions{pullManager: pm})
	res, err := env.ensure(ctx, newPod(nsX, "pod", privateApp, v1.PullAlways, "s1"))
	want := EnsureResult{Verification: pullmanager.VerificationNotPresent, Reason: "ErrImagePull", Message: errInjected.Error()}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if !errors.Is(err, ErrImagePull) || !errors.Is(err, errInjected) {
		t.Errorf("error = %v, want ErrImagePull wrapping the intent error", err)
	}
	if pulls := env.runtime.pullLog(); len(pulls) != 0 {
		t.Errorf("runtime pulls = %v, want none without a durable intent", pulls)
	}
	wantEvents := []string{`spec.containers{app} Warning Failed Failed to pull image "reg.example/team/app:1": injected write failure`}
	if diff := cmp.Diff(wantEvents, env.recorder.take()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestRecordCalls checks what the pull manager is told on each path: the
// raw image string, the runtime's image ID, and the credential that
// succeeded.
func TestRecordCalls(t *testing.T) {
	tests := []struct {
		name        string
		image       string
		pullPolicy  v1.PullPolicy
		secrets     []string
		nodeKeyring bool
		repoDigest  bool
		wantCalls   []string
	}{
		{
			name: "pulled with a pod Secret", image: privateApp, pullPolicy: v1.PullAlways, secrets: []string{"s1"},
			wantCalls: []string{"intent " + privateApp, `pulled ` + privateApp + ` as "` + privateAppID + `" with tenant-x/s1/uid-s1`},
		},
		{
			name: "pulled anonymously, raw image without tag", image: "reg.example/public/tool", pullPolicy: v1.PullAlways,
			wantCalls: []string{"intent reg.example/public/tool", `pulled reg.example/public/tool as "` + publicToolLatestID + `" with node`},
		},
		{
			name: "pulled with node-wide credentials", image: privateApp, pullPolicy: v1.PullIfNotPresent, nodeKeyring: true,
			wantCalls: []string{"intent " + privateApp, `pulled ` + privateApp + ` as "` + privateAppID + `" with node`},
		},
		{
			name: "the runtime returns a repo digest", image: privateApp, pullPolicy: v1.PullAlways, secrets: []string{"s1"}, repoDigest: true,
			wantCalls: []string{"intent " + privateApp, `pulled ` + privateApp + ` as "` + privateAppID + `" with tenant-x/s1/uid-s1`},
		},
		{
			name: "the first Secret that succeeds is recorded", image: privateApp, pullPolicy: v1.PullAlways, secrets: []string{"s3", "s1"},
			wantCalls: []string{"intent " + privateApp, `pulled ` + privateApp + ` as "` + privateAppID + `" with tenant-x/s3/uid-s3`},
		},
		{
			name: "failed", image: privateApp, pullPolicy: v1.PullIfNotPresent,
			wantCalls: []string{"intent " + privateApp, "failed " + privateApp},
		},
		{name: "denied: no call", image: privateApp, pullPolicy: v1.PullNever},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			pm := &recordingPullManager{PullManager: pullmanager.NewNoopPullManager()}
			opts := envOptions{pullManager: pm}
			if tc.nodeKeyring {
				opts.nodeKeyring = nodeKeyringFor(t, "reg.example", "carol", "carol-pw")
			}
			env := newTestEnv(ctx, t, opts)
			env.runtime.addRemote("reg.example/public/tool:latest", remoteImage{id: publicToolLatestID, size: 1, manifestDigest: "sha256:e5", anonymous: true})
			env.runtime.returnRepoDigest = tc.repoDigest
			res, _ := env.ensure(ctx, newPod(nsX, "pod", tc.image, tc.pullPolicy, tc.secrets...))
			if diff := cmp.Diff(tc.wantCalls, pm.takeCalls()); diff != "" {
				t.Errorf("pull manager calls (-want +got):\n%s", diff)
			}
			if tc.repoDigest && res.ImageRef != privateAppID {
				t.Errorf("ImageRef = %q, want the image ID %q", res.ImageRef, privateAppID)
			}
		})
	}
}

// publicToolLatestID is the image ID of reg.example/public/tool:latest.
const publicToolLatestID = "sha256:e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5"

// TestImageIDResolution: when PullImage returns a repo digest, the record
// key, the result and the event's size come from the image status.
func TestImageIDResolution(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	env := newTestEnv(ctx, t, envOptions{policy: kubeletconfig.AlwaysVerify})
	env.runtime.returnRepoDigest = true
	res := env.mustAdmit(ctx, newPod(nsX, "pod-a", privateApp, v1.PullIfNotPresent, "s1"))
	if res.ImageRef != privateAppID {
		t.Errorf("ImageRef = %q, want %q", res.ImageRef, privateAppID)
	}
	wantEvents := []string{
		`spec.containers{app} Normal Pulling Pulling image "reg.example/team/app:1"`,
		`spec.containers{app} Normal Pulled Successfully pulled image "reg.example/team/app:1" in <d> (<d> including waiting). Image size: 1234 bytes.`,
	}
	if diff := cmp.Diff(wantEvents, env.recorder.take()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{imagepullrecords.FileName(privateAppID)}, env.recordFiles()); diff != "" {
		t.Errorf("record files (-want +got):\n%s", diff)
	}
	// The record is found by the ID the runtime reports for the present
	// image: pod B with the same Secret reuses it.
	res = env.mustAdmit(ctx, newPod(nsX, "pod-b", privateApp, v1.PullNever, "s1"))
	if res.Verification != pullmanager.VerificationSecretHash {
		t.Errorf("pod B verification = %s, want secretHash", res.Verification)
	}
}

// statusFailingAfterPull fails ImageStatus once a pull has happened.
type statusFailingAfterPull struct {
	*fakeRuntime
}

func (s *statusFailingAfterPull) ImageStatus(ctx context.Context, spec *runtimeapi.ImageSpec, verbose bool) (*runtimeapi.ImageStatusResponse, error) {
	if len(s.pullLog()) > 0 {
		return nil, errors.New("status unavailable")
	}
	return s.fakeRuntime.ImageStatus(ctx, spec, verbose)
}

// TestImageIDUnresolvable: a pull whose image ID cannot be found admits the
// pod under what PullImage returned and pins the intent.
func TestImageIDUnresolvable(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	env := newTestEnv(ctx, t, envOptions{})
	env.runtime.returnRepoDigest = true
	env.manager.(*imageManager).imageService = &statusFailingAfterPull{fakeRuntime: env.runtime}
	res, err := env.ensure(ctx, newPod(nsX, "pod-a", privateApp, v1.PullIfNotPresent, "s1"))
	wantRef := repoDigest(privateApp, "sha256:c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3")
	if err != nil || res.ImageRef != wantRef {
		t.Errorf("result = %+v, %v; want admitted as %s", res, err, wantRef)
	}
	if diff := cmp.Diff([]string{imagepullrecords.FileName(privateApp)}, env.intentFiles()); diff != "" {
		t.Errorf("intents (-want +got):\n%s", diff)
	}
	if records := env.recordFiles(); len(records) != 0 {
		t.Errorf("records = %v, want none", records)
	}
}

func TestRegistryErrorReasons(t *testing.T) {
	tests := []struct {
		name       string
		pullErr    error
		wantReason string
		wantErr    error
	}{
		{name: "registry unavailable", pullErr: errors.New("RegistryUnavailable: dial tcp: connection refused"), wantReason: "RegistryUnavailable", wantErr: ErrRegistryUnavailable},
		{name: "signature", pullErr: errors.New("SignatureValidationFailed: no valid signature"), wantReason: "SignatureValidationFailed", wantErr: ErrSignatureValidationFailed},
		{name: "plain error", pullErr: errors.New("failed to pull: connection refused"), wantReason: "ErrImagePull", wantErr: ErrImagePull},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			env := newTestEnv(ctx, t, envOptions{})
			env.runtime.pullErr = tc.pullErr
			res, err := env.ensure(ctx, newPod(nsX, "pod", privateApp, v1.PullIfNotPresent, "s1"))
			want := EnsureResult{Verification: pullmanager.VerificationNotPresent, PullAttempted: true, Reason: tc.wantReason, Message: tc.pullErr.Error()}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("error = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestPullFailureReason(t *testing.T) {
	unavailable := errors.New("RegistryUnavailable: down")
	signature := errors.New("SignatureValidationFailed: bad")
	plain := errors.New("401 Unauthorized")
	tests := []struct {
		name string
		errs []error
		want error
	}{
		{name: "one unavailable", errs: []error{unavailable}, want: ErrRegistryUnavailable},
		{name: "all unavailable", errs: []error{unavailable, unavailable}, want: ErrRegistryUnavailable},
		{name: "one signature", errs: []error{signature}, want: ErrSignatureValidationFailed},
		{name: "mixed", errs: []error{plain, unavailable}, want: ErrImagePull},
		{name: "plain", errs: []error{plain}, want: ErrImagePull},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := pullFailureReason(tc.errs); got != tc.want {
				t.Errorf("pullFailureReason = %v, want %v", got, tc.want)
			}
		})
	}
}

// emptyLister is a runtime with no image, for pull managers whose start-up
// housekeeping must succeed before the test adds images.
type emptyLister struct{}

func (emptyLister) ListImages(context.Context) ([]pullmanager.RuntimeImage, error) { return nil, nil }

func TestDryRun(t *testing.T) {
	tests := []struct {
		name       string
		policy     kubeletconfig.ImagePullCredentialsVerificationPolicy
		preload    bool
		pullPolicy v1.PullPolicy
		want       EnsureResult
	}{
		{
			name: "absent, IfNotPresent", pullPolicy: v1.PullIfNotPresent,
			want: EnsureResult{Verification: pullmanager.VerificationNotPresent, PullAttempted: true, Message: DryRunPullMessage},
		},
		{
			name: "present, Always", preload: true, pullPolicy: v1.PullAlways,
			want: EnsureResult{Verification: pullmanager.VerificationMustPull, PullAttempted: true, Message: DryRunPullMessage},
		},
		{
			name: "present and must pull, IfNotPresent", policy: kubeletconfig.AlwaysVerify, preload: true, pullPolicy: v1.PullIfNotPresent,
			want: EnsureResult{Verification: pullmanager.VerificationMustPull, PullAttempted: true, Message: DryRunPullMessage},
		},
		{
			name: "present and must pull, Never", policy: kubeletconfig.AlwaysVerify, preload: true, pullPolicy: v1.PullNever,
			want: EnsureResult{
				Verification: pullmanager.VerificationMustPull, Reason: "ErrImageNeverPull",
				Message: `Container image "reg.example/team/app:1" is not present with pull policy of Never`,
			},
		},
		{
			name: "present and usable", preload: true, pullPolicy: v1.PullIfNotPresent,
			want: EnsureResult{
				ImageRef: privateAppID, Verification: pullmanager.VerificationNotPulledByKubelet,
				Message: `Container image "reg.example/team/app:1" already present on machine and can be accessed by the pod`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			rootDir := t.TempDir()
			fm, err := pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{
				RootDir: rootDir, Policy: tc.policy, ReadOnly: true, ImageLister: emptyLister{},
			})
			if err != nil {
				t.Fatalf("NewFileBackedPullManager: %v", err)
			}
			pm := &recordingPullManager{PullManager: fm}
			env := newTestEnv(ctx, t, envOptions{pullManager: pm, dryRun: true, rootDir: rootDir})
			if tc.preload {
				env.runtime.preload(privateApp)
			}
			res, err := env.ensure(ctx, newPod(nsX, "pod", privateApp, tc.pullPolicy, "s1"))
			if diff := cmp.Diff(tc.want, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if (err != nil) != (tc.want.Reason != "") {
				t.Errorf("error = %v, want one only with a reason", err)
			}
			if pulls := env.runtime.pullLog(); len(pulls) != 0 {
				t.Errorf("runtime pulls = %v, want none", pulls)
			}
			if calls := pm.takeCalls(); len(calls) != 0 {
				t.Errorf("pull manager Record calls = %v, want none", calls)
			}
			if intents, records := env.intentFiles(), env.recordFiles(); len(intents)+len(records) != 0 {
				t.Errorf("files written: %v %v", intents, records)
			}
			if _, err := env.manager.PruneUnknownRecords(ctx, time.Time{}); !errors.Is(err, ErrDryRun) {
				t.Errorf("PruneUnknownRecords in a dry run: %v, want ErrDryRun", err)
			}
		})
	}
}

func TestPruneUnknownRecords(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	env := newTestEnv(ctx, t, envOptions{})
	env.mustAdmit(ctx, newPod(nsX, "pod-a", privateApp, v1.PullIfNotPresent, "s1"))
	env.mustAdmit(ctx, newPod(nsX, "pod-a", publicTool, v1.PullIfNotPresent))
	if got := len(env.recordFiles()); got != 2 {
		t.Fatalf("records = %d, want 2", got)
	}

	// A failed listing prunes nothing.
	env.runtime.listErr = errors.New("runtime down")
	if removed, err := env.manager.PruneUnknownRecords(ctx, time.Time{}); err == nil || len(removed) != 0 {
		t.Errorf("PruneUnknownRecords with a failed listing = %v, %v; want an error and nothing removed", removed, err)
	}
	env.runtime.listErr = nil

	// A cut-off before the records were written keeps them.
	env.runtime.remove(privateAppID)
	if removed, err := env.manager.PruneUnknownRecords(ctx, time.Now().Add(-time.Hour)); err != nil || len(removed) != 0 {
		t.Errorf("PruneUnknownRecords with an old cut-off = %v, %v; want nothing removed", removed, err)
	}

	// Records are stamped rounded up to whole seconds: a cut-off taken in
	// the same second as the pull keeps them, so take one after it.
	removed, err := env.manager.PruneUnknownRecords(ctx, time.Now().Add(2*time.Second))
	if err != nil {
		t.Fatalf("PruneUnknownRecords: %v", err)
	}
	if diff := cmp.Diff([]string{privateAppID}, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{imagepullrecords.FileName(publicToolID)}, env.recordFiles()); diff != "" {
		t.Errorf("records left (-want +got):\n%s", diff)
	}
}

// TestGateOffWritesNothing: with the gate off the pull manager given is
// ignored, so a file-backed one writes nothing.
func TestGateOffWritesNothing(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	env := newTestEnv(ctx, t, envOptions{gateOff: true, policy: kubeletconfig.AlwaysVerify})
	env.mustAdmit(ctx, newPod(nsX, "pod-a", privateApp, v1.PullAlways, "s1"))
	env.runtime.preload(publicTool)
	res := env.mustAdmit(ctx, newPod(nsY, "pod-b", publicTool, v1.PullNever))
	if res.Verification != pullmanager.VerificationGateOff {
		t.Errorf("verification = %s, want gateOff", res.Verification)
	}
	if _, err := env.ensure(ctx, newPod(nsY, "pod-c", privateApp, v1.PullAlways)); !errors.Is(err, ErrImagePull) {
		t.Errorf("pod without credentials, Always: %v, want ErrImagePull", err)
	}
	if intents, records := env.intentFiles(), env.recordFiles(); len(intents)+len(records) != 0 {
		t.Errorf("gate off wrote %v %v", intents, records)
	}
	if removed, err := env.manager.PruneUnknownRecords(ctx, time.Time{}); err != nil || len(removed) != 0 {
		t.Errorf("PruneUnknownRecords = %v, %v; want nothing", removed, err)
	}
}
