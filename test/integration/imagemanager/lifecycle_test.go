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
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/imagepullrecords"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// intentFiles lists <root>/image_manager/pulling.
func (e *env) intentFiles() []string {
	e.t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.managerDir(), imagepullrecords.IntentsDirName))
	if err != nil {
		e.t.Fatalf("listing the intents: %v", err)
	}
	var names []string
	for _, entry := range entries {
		names = append(names, entry.Name())
	}
	return names
}

// TestRecordsSurviveRestart: after a kubelet restart (new pull manager over
// the same root dir), the records decide as before.
func TestRecordsSurviveRestart(t *testing.T) {
	tests := []struct {
		name   string
		policy kubeletconfig.ImagePullCredentialsVerificationPolicy
	}{
		{name: "default policy", policy: kubeletconfig.NeverVerifyPreloadedImages},
		{name: "AlwaysVerify", policy: kubeletconfig.AlwaysVerify},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{policy: tc.policy})
			e.pullAsPodA(repoP)
			id := e.ids[repoP]
			before := e.record(id)

			e.restart()
			e.check(e.pod(nsX, e.image(repoP), v1.PullNever, secretS1), id, outcome{
				admitted: true, verification: pullmanager.VerificationSecretHash, noRegistryContact: true,
			})
			e.check(e.pod(nsY, e.image(repoP), v1.PullNever), id, deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""))
			e.check(e.pod(nsY, e.image(repoP), v1.PullIfNotPresent, secretRefused), id,
				deniedOutcome(v1.PullIfNotPresent, pullmanager.VerificationMustPull, user1))
			if diff := cmp.Diff(before, e.record(id)); diff != "" {
				t.Errorf("record changed across the restart (-before +after):\n%s", diff)
			}
			if got := e.intentFiles(); len(got) != 0 {
				t.Errorf("intents left after the restart: %v", got)
			}
		})
	}
}

// TestCrashBeforeRecordDurable: the kubelet wrote the intent and the runtime
// pull returned, but the kubelet died before the record was written. After
// the restart, start-up housekeeping finds the image in the runtime: the
// name counts as pulled by the kubelet but nobody is verified for it.
func TestCrashBeforeRecordDurable(t *testing.T) {
	tests := []struct {
		name string
		// image is the pod's image string, from the registry address.
		image func(e *env) string
	}{
		{name: "tagged", image: func(e *env) string { return e.image(repoP) }},
		{name: "untagged (latest)", image: func(e *env) string { return e.repoKey(repoP) }},
		{name: "by digest", image: func(e *env) string { return e.repoKey(repoP) + "@" + e.digests[repoP] }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			image := tc.image(e)
			if err := e.pullManager.RecordPullIntent(e.ctx, image); err != nil {
				t.Fatalf("RecordPullIntent: %v", err)
			}
			// The runtime pull the dead kubelet asked for.
			id := e.preloadAs(repoP, image)
			e.restart()

			if got := e.intentFiles(); len(got) != 0 {
				t.Errorf("start-up housekeeping left the intents of a present image: %v", got)
			}
			assertMapping(t, e.mapping(id), map[string]kubeletv1beta1.ImagePullCredentials{e.repoKey(repoP): {}})
			e.check(e.pod(nsY, image, v1.PullNever), id, deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""))
			e.check(e.pod(nsX, image, v1.PullNever, secretS1), id, deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""))
			e.check(e.pod(nsX, image, v1.PullIfNotPresent, secretS1), id, outcome{
				admitted: true, verification: pullmanager.VerificationMustPull, pullAttempted: true, pulledAs: []string{user1},
			})
			assertMapping(t, e.mapping(id), map[string]kubeletv1beta1.ImagePullCredentials{
				e.repoKey(repoP): secretsEntry(e.secretCred(nsX, secretS1, user1, pass1)),
			})
		})
	}
}

// TestPruneAfterGC: the post-GC hook removes the records of images the
// runtime no longer has, unless they were refreshed after the cut-off.
func TestPruneAfterGC(t *testing.T) {
	t0 := time.Date(2026, time.January, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		// refresh is when Q is pulled again, cutOff the prune's until, both
		// from t0 (when P, Q and the public image were pulled).
		refresh, cutOff time.Duration
		// qPruned: Q's record goes too.
		qPruned bool
	}{
		{name: "Q refreshed an hour after the cut-off", refresh: time.Hour, cutOff: 30 * time.Minute},
		{name: "Q refreshed within the cut-off's second", refresh: 700 * time.Millisecond, cutOff: 500 * time.Millisecond},
		{name: "Q refreshed before the cut-off", refresh: 20 * time.Minute, cutOff: 30 * time.Minute, qPruned: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := clocktesting.NewFakeClock(t0)
			e := newEnv(t, envOptions{clock: clock})
			e.pullAsPodA(repoP)
			e.pullAsPodA(repoQ)
			e.pullAsPodA(repoPublic)

			clock.SetTime(t0.Add(tc.refresh))
			e.check(e.pod(nsX, e.image(repoQ), v1.PullAlways, secretS3), e.ids[repoQ], outcome{
				admitted: true, verification: pullmanager.VerificationMustPull, pullAttempted: true, pulledAs: []string{user2},
			})
			// Records keep whole seconds, rounded up so that a record never
			// looks older than it is.
			wantStamp := t0.Add(tc.refresh).Add(time.Second - time.Nanosecond).Truncate(time.Second)
			if rec := e.record(e.ids[repoQ]); rec == nil || !rec.LastUpdatedTime.Time.Equal(wantStamp) {
				t.Fatalf("record of Q after the second pull = %+v, want lastUpdatedTime %v", rec, wantStamp)
			}

			// Image garbage collection removes P and Q; the public image stays.
			e.removeImage(e.ids[repoP])
			e.removeImage(e.ids[repoQ])
			pruned, err := e.manager.PruneUnknownRecords(e.ctx, t0.Add(tc.cutOff))
			if err != nil {
				t.Fatalf("PruneUnknownRecords: %v", err)
			}
			want := []string{e.ids[repoP]}
			if tc.qPruned {
				want = append(want, e.ids[repoQ])
			}
			slices.Sort(pruned)
			slices.Sort(want)
			if !slices.Equal(pruned, want) {
				t.Errorf("PruneUnknownRecords pruned %v, want %v", pruned, want)
			}
			if rec := e.record(e.ids[repoP]); rec != nil {
				t.Errorf("record of the collected image P survived the prune: %+v", rec)
			}
			if gotQ := e.record(e.ids[repoQ]) != nil; gotQ == tc.qPruned {
				t.Errorf("record of Q present after the prune: %v, want %v", gotQ, !tc.qPruned)
			}
			if e.record(e.ids[repoPublic]) == nil {
				t.Errorf("record of the present public image was pruned")
			}

			// P is absent again: Never is refused, and pod A pulls it again.
			e.check(e.pod(nsY, e.image(repoP), v1.PullNever), "", deniedOutcome(v1.PullNever, pullmanager.VerificationNotPresent, ""))
			e.pullAsPodA(repoP)
		})
	}
}

// TestConcurrentPulls: two pods pull the absent P at once, one with valid
// and one with refused credentials. Only the valid one is admitted and
// recorded, whatever the order the pulls end in.
func TestConcurrentPulls(t *testing.T) {
	tests := []struct {
		name        string
		serialize   bool
		maxParallel *int32
	}{
		{name: "parallel puller, unbounded"},
		{name: "parallel puller, bounded", maxParallel: ptr.To[int32](2)},
		{name: "serial puller", serialize: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for attempt := range 3 {
				e := newEnv(t, envOptions{serialize: tc.serialize, maxParallel: tc.maxParallel})
				valid := e.pod(nsX, e.image(repoP), v1.PullIfNotPresent, secretS1)
				refused := e.pod(nsY, e.image(repoP), v1.PullIfNotPresent, secretRefused)

				var (
					wg      sync.WaitGroup
					start   = make(chan struct{})
					results [2]images.EnsureResult
					errs    [2]error
				)
				for i, pod := range []*v1.Pod{valid, refused} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						results[i], errs[i] = e.ensure(pod)
					}()
				}
				close(start)
				wg.Wait()

				if errs[0] != nil || results[0].ImageRef != e.ids[repoP] {
					t.Errorf("attempt %d: valid pod = %+v, %v; want admitted", attempt, results[0], errs[0])
				}
				if errs[1] == nil || results[1].ImageRef != "" || results[1].Reason != "ErrImagePull" {
					t.Errorf("attempt %d: refused pod = %+v, %v; want ErrImagePull", attempt, results[1], errs[1])
				}
				assertMapping(t, e.mapping(e.ids[repoP]), map[string]kubeletv1beta1.ImagePullCredentials{
					e.repoKey(repoP): secretsEntry(e.secretCred(nsX, secretS1, user1, pass1)),
				})
				if got := e.intentFiles(); len(got) != 0 {
					t.Errorf("attempt %d: intents left after both pulls ended: %v", attempt, got)
				}
				// The refused pod is not admitted afterwards either.
				e.check(e.pod(nsY, e.image(repoP), v1.PullNever, secretRefused), e.ids[repoP],
					deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""))
			}
		})
	}
}

// TestRegistryDown: with the registry stopped, pods whose credentials are on
// record are admitted without it; the others fail.
func TestRegistryDown(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.pullAsPodA(repoP)
	id := e.ids[repoP]
	if err := e.reg.Stop(); err != nil {
		t.Fatalf("stopping the registry: %v", err)
	}
	image := e.image(repoP)
	unreachable := func(pulledAs string) outcome {
		return outcome{reason: "ErrImagePull", verification: pullmanager.VerificationMustPull, pullAttempted: true, pulledAs: []string{pulledAs}}
	}
	tests := []struct {
		name string
		pod  *v1.Pod
		want outcome
	}{
		{
			name: "S1, IfNotPresent",
			pod:  e.pod(nsX, image, v1.PullIfNotPresent, secretS1),
			want: outcome{admitted: true, verification: pullmanager.VerificationSecretHash},
		},
		{
			name: "S1, Never",
			pod:  e.pod(nsX, image, v1.PullNever, secretS1),
			want: outcome{admitted: true, verification: pullmanager.VerificationSecretHash},
		},
		{
			name: "same credentials in S2, IfNotPresent",
			pod:  e.pod(nsX, image, v1.PullIfNotPresent, secretS2),
			want: outcome{admitted: true, verification: pullmanager.VerificationSecretHash},
		},
		{
			name: "no secret, IfNotPresent",
			pod:  e.pod(nsY, image, v1.PullIfNotPresent),
			want: unreachable(""),
		},
		{
			name: "other valid credentials, IfNotPresent",
			pod:  e.pod(nsX, image, v1.PullIfNotPresent, secretS3),
			want: unreachable(user2),
		},
		{
			name: "refused credentials, IfNotPresent",
			pod:  e.pod(nsY, image, v1.PullIfNotPresent, secretRefused),
			want: unreachable(user1),
		},
		{
			name: "no secret, Never",
			pod:  e.pod(nsY, image, v1.PullNever),
			want: deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""),
		},
	}
	// One node, one after the other: the rows share the stopped registry
	// (the error messages name the pod's image, policy and Secrets).
	for _, tc := range tests {
		t.Logf("%s", tc.name)
		e.check(tc.pod, id, tc.want)
	}
	assertMapping(t, e.mapping(id), map[string]kubeletv1beta1.ImagePullCredentials{
		e.repoKey(repoP): secretsEntry(
			e.secretCred(nsX, secretS1, user1, pass1),
			e.secretCred(nsX, secretS2, user1, pass1),
		),
	})
}

// TestGateOff: with KubeletEnsureSecretPulledImages off, a present image is
// used by every pod as before the feature, and nothing is written under
// <root>/image_manager.
func TestGateOff(t *testing.T) {
	e := newEnv(t, envOptions{gateOff: true})
	e.pullAsPodA(repoP)
	id := e.ids[repoP]
	image := e.image(repoP)
	admitted := outcome{
		admitted: true, verification: pullmanager.VerificationGateOff, noRegistryContact: true,
		message: `Container image "` + image + `" already present on machine`,
	}
	e.events()
	for _, pod := range []*v1.Pod{
		e.pod(nsY, image, v1.PullIfNotPresent),
		e.pod(nsY, image, v1.PullNever),
		e.pod(nsY, image, v1.PullIfNotPresent, secretRefused),
		e.pod(nsX, image, v1.PullNever, secretS3),
	} {
		res := e.check(pod, id, admitted)
		if res.Message != admitted.message {
			t.Errorf("message = %q, want %q", res.Message, admitted.message)
		}
	}
	for _, ev := range e.events() {
		if want := "Normal Pulled " + admitted.message; ev != want {
			t.Errorf("event %q, want %q", ev, want)
		}
	}
	// An absent image is still pulled, with the pod's credentials.
	e.check(e.pod(nsY, e.image(repoQ), v1.PullIfNotPresent), "", deniedOutcome(v1.PullIfNotPresent, pullmanager.VerificationNotPresent, ""))
	e.check(e.pod(nsX, e.image(repoQ), v1.PullIfNotPresent, secretS3), e.ids[repoQ], outcome{
		admitted: true, verification: pullmanager.VerificationNotPresent, pullAttempted: true, pulledAs: []string{user2},
	})
	if _, err := e.manager.PruneUnknownRecords(e.ctx, time.Time{}); err != nil {
		t.Errorf("PruneUnknownRecords: %v", err)
	}
	e.restart()
	e.check(e.pod(nsY, image, v1.PullNever), id, admitted)
	if e.managerDirExists() {
		t.Errorf("%s exists with the gate off", e.managerDir())
	}
}

// TestManyConcurrentPods: pods of every kind ask for the absent P at once,
// several times each. Whatever the interleaving, every valid Secret ends up
// on record (by a pull or by its hash), no refused or missing one does, and
// no intent is left.
func TestManyConcurrentPods(t *testing.T) {
	tests := []struct {
		name        string
		maxParallel *int32
	}{
		{name: "unbounded puller"},
		{name: "puller bounded to 2", maxParallel: ptr.To[int32](2)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{policy: kubeletconfig.AlwaysVerify, maxParallel: tc.maxParallel})
			type podCase struct {
				pod   *v1.Pod
				valid bool
			}
			var pods []podCase
			for range 3 {
				pods = append(pods,
					podCase{pod: e.pod(nsX, e.image(repoP), v1.PullIfNotPresent, secretS1), valid: true},
					podCase{pod: e.pod(nsX, e.image(repoP), v1.PullIfNotPresent, secretS2), valid: true},
					podCase{pod: e.pod(nsX, e.image(repoP), v1.PullIfNotPresent, secretS3), valid: true},
					podCase{pod: e.pod(nsY, e.image(repoP), v1.PullIfNotPresent, secretRefused)},
					podCase{pod: e.pod(nsY, e.image(repoP), v1.PullIfNotPresent)},
				)
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			results := make([]images.EnsureResult, len(pods))
			errs := make([]error, len(pods))
			for i, pc := range pods {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					results[i], errs[i] = e.ensure(pc.pod)
				}()
			}
			close(start)
			wg.Wait()
			for i, pc := range pods {
				admitted := errs[i] == nil && results[i].ImageRef == e.ids[repoP]
				if admitted != pc.valid {
					t.Errorf("pod %s with secrets %v = %+v, %v; want admitted %v",
						pc.pod.Name, pc.pod.Spec.ImagePullSecrets, results[i], errs[i], pc.valid)
				}
				if !pc.valid && results[i].Reason != "ErrImagePull" {
					t.Errorf("pod %s reason = %q, want ErrImagePull", pc.pod.Name, results[i].Reason)
				}
			}
			assertMapping(t, e.mapping(e.ids[repoP]), map[string]kubeletv1beta1.ImagePullCredentials{
				e.repoKey(repoP): secretsEntry(
					e.secretCred(nsX, secretS1, user1, pass1),
					e.secretCred(nsX, secretS2, user1, pass1),
					e.secretCred(nsX, secretS3, user2, pass2),
				),
			})
			if got := e.intentFiles(); len(got) != 0 {
				t.Errorf("intents left after every pull ended: %v", got)
			}
		})
	}
}

// TestBackOff: a pod whose pull failed is in back-off for that image and
// does not contact the registry again; other pods are not delayed by it.
func TestBackOff(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.pullAsPodA(repoP)
	failing := e.pod(nsY, e.image(repoP), v1.PullIfNotPresent)
	e.check(failing, "", deniedOutcome(v1.PullIfNotPresent, pullmanager.VerificationMustPull, ""))
	e.check(failing, "", outcome{reason: "ImagePullBackOff", verification: pullmanager.VerificationMustPull, noRegistryContact: true})
	e.check(e.pod(nsY, e.image(repoP), v1.PullIfNotPresent), "", deniedOutcome(v1.PullIfNotPresent, pullmanager.VerificationMustPull, ""))
	e.check(e.pod(nsX, e.image(repoP), v1.PullIfNotPresent, secretS3), e.ids[repoP], outcome{
		admitted: true, verification: pullmanager.VerificationMustPull, pullAttempted: true, pulledAs: []string{user2},
	})
}

// TestRestartWithRuntimeUnreachable: when start-up housekeeping cannot list
// the runtime's images, the manager starts anyway, every decision fails safe
// (must pull), and the intents stay; a later pass, once the runtime answers,
// resolves them and the records decide again.
func TestRestartWithRuntimeUnreachable(t *testing.T) {
	clock := clocktesting.NewFakeClock(time.Date(2026, time.January, 2, 3, 4, 5, 0, time.UTC))
	down := &atomic.Bool{}
	e := newEnv(t, envOptions{clock: clock, listerDown: down, housekeepingAttempts: 1})
	e.pullAsPodA(repoP)
	// The kubelet died between Q's runtime pull and its record.
	imageQ := e.image(repoQ)
	if err := e.pullManager.RecordPullIntent(e.ctx, imageQ); err != nil {
		t.Fatalf("RecordPullIntent: %v", err)
	}
	e.preload(repoQ)

	down.Store(true)
	e.restart()
	e.check(e.pod(nsX, e.image(repoP), v1.PullNever, secretS1), e.ids[repoP],
		deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""))
	e.check(e.pod(nsY, imageQ, v1.PullNever), e.ids[repoQ], deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""))
	if got := e.intentFiles(); len(got) != 1 {
		t.Errorf("intents while the runtime cannot be listed = %v, want Q's", got)
	}

	// The runtime answers again; the next decision after the retry interval
	// runs housekeeping.
	down.Store(false)
	clock.Step(time.Minute)
	e.check(e.pod(nsX, e.image(repoP), v1.PullNever, secretS1), e.ids[repoP], outcome{
		admitted: true, verification: pullmanager.VerificationSecretHash, noRegistryContact: true,
	})
	if got := e.intentFiles(); len(got) != 0 {
		t.Errorf("intents after housekeeping succeeded = %v, want none", got)
	}
	assertMapping(t, e.mapping(e.ids[repoQ]), map[string]kubeletv1beta1.ImagePullCredentials{e.repoKey(repoQ): {}})
	e.check(e.pod(nsY, imageQ, v1.PullNever), e.ids[repoQ], deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""))
	e.check(e.pod(nsX, imageQ, v1.PullIfNotPresent, secretS1), e.ids[repoQ], outcome{
		admitted: true, verification: pullmanager.VerificationMustPull, pullAttempted: true, pulledAs: []string{user1},
	})
}

// TestPullInFlight: while a pull of any image string of P's repository is in
// flight (intent recorded, runtime pull not yet returned), a preloaded P
// counts as pulled by the kubelet, and a prune does not delete P's record.
func TestPullInFlight(t *testing.T) {
	t.Run("preloaded name", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOptions{})
		id := e.preload(repoP)
		inFlight := e.repoKey(repoP) + ":2"
		if err := e.pullManager.RecordPullIntent(e.ctx, inFlight); err != nil {
			t.Fatalf("RecordPullIntent: %v", err)
		}
		e.check(e.pod(nsY, e.image(repoP), v1.PullNever), id, deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""))
		e.pullManager.RecordImagePullFailed(e.ctx, inFlight)
		e.check(e.pod(nsY, e.image(repoP), v1.PullNever), id, outcome{
			admitted: true, verification: pullmanager.VerificationNotPulledByKubelet, noRegistryContact: true,
		})
	})
	t.Run("prune", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOptions{})
		e.pullAsPodA(repoP)
		id := e.ids[repoP]
		e.removeImage(id)
		inFlight := e.repoKey(repoP) + ":2"
		if err := e.pullManager.RecordPullIntent(e.ctx, inFlight); err != nil {
			t.Fatalf("RecordPullIntent: %v", err)
		}
		if pruned, err := e.manager.PruneUnknownRecords(e.ctx, time.Time{}); err != nil || len(pruned) != 0 {
			t.Errorf("PruneUnknownRecords with a pull of the repository in flight = %v, %v; want nothing pruned", pruned, err)
		}
		if e.record(id) == nil {
			t.Fatalf("record pruned while a pull of its repository was in flight")
		}
		e.pullManager.RecordImagePullFailed(e.ctx, inFlight)
		// Records are stamped rounded up to the second the file keeps, so a
		// cut-off in the same second as the pull would keep it: take one
		// safely after it.
		if pruned, err := e.manager.PruneUnknownRecords(e.ctx, time.Now().Add(2*time.Second)); err != nil || !slices.Equal(pruned, []string{id}) {
			t.Errorf("PruneUnknownRecords after the pull ended = %v, %v; want [%s]", pruned, err, id)
		}
	})
}

// snapshot returns every file under <root>/image_manager with its content.
func (e *env) snapshot() map[string]string {
	e.t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(e.managerDir(), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files[strings.TrimPrefix(path, e.managerDir())] = string(data)
		return nil
	})
	if err != nil {
		e.t.Fatalf("reading %s: %v", e.managerDir(), err)
	}
	return files
}

// TestGateTurnedOff: a node that ran with the gate on and restarts with it
// off uses present images as before the feature and leaves the records it
// wrote untouched; turned on again, they decide as before.
func TestGateTurnedOff(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.pullAsPodA(repoP)
	before := e.snapshot()

	e.stop()
	e.opts.gateOff = true
	e.start()
	e.check(e.pod(nsY, e.image(repoP), v1.PullNever), e.ids[repoP], outcome{
		admitted: true, verification: pullmanager.VerificationGateOff, noRegistryContact: true,
	})
	e.check(e.pod(nsX, e.image(repoQ), v1.PullIfNotPresent, secretS3), e.ids[repoQ], outcome{
		admitted: true, verification: pullmanager.VerificationNotPresent, pullAttempted: true, pulledAs: []string{user2},
	})
	e.removeImage(e.ids[repoP])
	if _, err := e.manager.PruneUnknownRecords(e.ctx, time.Time{}); err != nil {
		t.Errorf("PruneUnknownRecords: %v", err)
	}
	if diff := cmp.Diff(before, e.snapshot()); diff != "" {
		t.Errorf("files under image_manager changed with the gate off (-before +after):\n%s", diff)
	}

	e.stop()
	e.opts.gateOff = false
	e.start()
	// Q was pulled with the gate off: no record, so it looks preloaded.
	e.check(e.pod(nsY, e.image(repoQ), v1.PullNever), e.ids[repoQ], outcome{
		admitted: true, verification: pullmanager.VerificationNotPulledByKubelet, noRegistryContact: true,
	})
	// P's record is still there; P itself is gone and is pulled again.
	e.check(e.pod(nsY, e.image(repoP), v1.PullNever), "", deniedOutcome(v1.PullNever, pullmanager.VerificationNotPresent, ""))
	if e.record(e.ids[repoP]) == nil {
		t.Errorf("the record of P written with the gate on is gone")
	}
}
