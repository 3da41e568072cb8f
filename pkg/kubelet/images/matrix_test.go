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
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2/ktesting"

	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
	"k8s.io/kubernetes/pkg/util/parsers"
)

// outcomeKind is what EnsureImageExists did for pod B.
type outcomeKind string

const (
	reusedKind outcomeKind = "reused"
	pulledKind outcomeKind = "pulled"
	failedKind outcomeKind = "failed" // pull attempted, refused (401)
	deniedKind outcomeKind = "denied" // ErrImageNeverPull
)

type outcome struct {
	kind         outcomeKind
	verification pullmanager.Verification
}

func reused(v pullmanager.Verification) outcome { return outcome{kind: reusedKind, verification: v} }
func pulled(v pullmanager.Verification) outcome { return outcome{kind: pulledKind, verification: v} }
func failed(v pullmanager.Verification) outcome { return outcome{kind: failedKind, verification: v} }
func denied(v pullmanager.Verification) outcome { return outcome{kind: deniedKind, verification: v} }

// byPullPolicy holds the expected outcome for each pull policy.
type byPullPolicy struct {
	always, ifNotPresent, never outcome
}

func (b byPullPolicy) get(p v1.PullPolicy) outcome {
	switch p {
	case v1.PullAlways:
		return b.always
	case v1.PullIfNotPresent:
		return b.ifNotPresent
	default:
		return b.never
	}
}

// expected derives the exact result and container events of an outcome.
func (o outcome) expected(image, imageID string, size uint64) (EnsureResult, []string) {
	const target = "spec.containers{app} "
	withTag, _ := parsers.ApplyDefaultImageTag(image)
	switch o.kind {
	case reusedKind:
		msg := fmt.Sprintf("Container image %q already present on machine and can be accessed by the pod", image)
		if o.verification == pullmanager.VerificationGateOff {
			msg = fmt.Sprintf("Container image %q already present on machine", image)
		}
		return EnsureResult{ImageRef: imageID, Verification: o.verification, Message: msg},
			[]string{target + "Normal Pulled " + msg}
	case pulledKind:
		return EnsureResult{ImageRef: imageID, Verification: o.verification, PullAttempted: true},
			[]string{
				target + fmt.Sprintf("Normal Pulling Pulling image %q", image),
				target + fmt.Sprintf("Normal Pulled Successfully pulled image %q in <d> (<d> including waiting). Image size: %d bytes.", image, size),
			}
	case failedKind:
		text := unauthorizedText(withTag)
		return EnsureResult{Verification: o.verification, PullAttempted: true, Reason: "ErrImagePull", Message: text},
			[]string{
				target + fmt.Sprintf("Normal Pulling Pulling image %q", image),
				target + fmt.Sprintf("Warning Failed Failed to pull image %q: %s", image, text),
			}
	default:
		msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", image)
		return EnsureResult{Verification: o.verification, Reason: "ErrImageNeverPull", Message: msg},
			[]string{target + "Warning ErrImageNeverPull " + msg}
	}
}

// matrixColumn is a feature gate and verification policy setting.
type matrixColumn struct {
	name      string
	gateOff   bool
	policy    kubeletconfig.ImagePullCredentialsVerificationPolicy
	allowlist []string
	// want selects the row's expectations for this column.
	want func(r matrixRow) byPullPolicy
}

var matrixColumns = []matrixColumn{
	{name: "gate off", gateOff: true, want: func(r matrixRow) byPullPolicy { return r.gateOff }},
	{name: "NeverVerify", policy: kubeletconfig.NeverVerify, want: func(r matrixRow) byPullPolicy { return r.neverVerify }},
	{name: "NeverVerifyPreloadedImages", policy: kubeletconfig.NeverVerifyPreloadedImages, want: func(r matrixRow) byPullPolicy { return r.preloaded }},
	{name: "AlwaysVerify", policy: kubeletconfig.AlwaysVerify, want: func(r matrixRow) byPullPolicy { return r.alwaysVerify }},
	{
		name: "NeverVerifyAllowlistedImages listing the image", policy: kubeletconfig.NeverVerifyAllowlistedImages,
		allowlist: []string{"reg.example/team/*"},
		want:      func(r matrixRow) byPullPolicy { return r.allowlisted },
	},
	{
		// An image that is not listed is verified as under AlwaysVerify.
		name: "NeverVerifyAllowlistedImages not listing the image", policy: kubeletconfig.NeverVerifyAllowlistedImages,
		allowlist: []string{"reg.example/other/app"},
		want:      func(r matrixRow) byPullPolicy { return r.alwaysVerify },
	},
}

// setup prepares the node before pod B's turn.
type setup string

const (
	// setupAbsent: the image is not on the node.
	setupAbsent setup = "absent"
	// setupPreloaded: the image is on the node, and the kubelet never
	// pulled it.
	setupPreloaded setup = "preloaded"
	// setupPulledByA: pod A (namespace X, Secret S1) pulled the image.
	setupPulledByA setup = "pulled by A with S1"
	// setupPulledAnonymously: pod A (no Secret) pulled the public image.
	setupPulledAnonymously setup = "pulled anonymously by A"
)

type matrixRow struct {
	name  string
	setup setup
	image string
	// podB's namespace and Secrets.
	podNamespace string
	podSecrets   []string
	// Expectations per column.
	gateOff, neverVerify, preloaded, alwaysVerify, allowlisted byPullPolicy
}

// TestEnsureImageExistsMatrix runs every pull policy under every gate and
// policy setting, for the situations of the multi-tenant story: pod B
// arrives after the image was pulled (or preloaded) and presents various
// credentials.
func TestEnsureImageExistsMatrix(t *testing.T) {
	const (
		notPresent = pullmanager.VerificationNotPresent
		gateOff    = pullmanager.VerificationGateOff
		policy     = pullmanager.VerificationPolicy
		notPulled  = pullmanager.VerificationNotPulledByKubelet
		nodeAccess = pullmanager.VerificationNodeAccessible
		secretHash = pullmanager.VerificationSecretHash
		mustPull   = pullmanager.VerificationMustPull
	)
	// Outcomes shared by rows whose pod B must prove access like anyone
	// without valid credentials.
	noAccess := byPullPolicy{always: failed(mustPull), ifNotPresent: failed(mustPull), never: denied(mustPull)}
	recordedAccess := byPullPolicy{always: pulled(mustPull), ifNotPresent: reused(secretHash), never: reused(secretHash)}

	rows := []matrixRow{
		{
			name: "absent; pod B with S1", setup: setupAbsent, image: privateApp,
			podNamespace: nsX, podSecrets: []string{"s1"},
			gateOff:      byPullPolicy{always: pulled(notPresent), ifNotPresent: pulled(notPresent), never: denied(notPresent)},
			neverVerify:  byPullPolicy{always: pulled(notPresent), ifNotPresent: pulled(notPresent), never: denied(notPresent)},
			preloaded:    byPullPolicy{always: pulled(notPresent), ifNotPresent: pulled(notPresent), never: denied(notPresent)},
			alwaysVerify: byPullPolicy{always: pulled(notPresent), ifNotPresent: pulled(notPresent), never: denied(notPresent)},
			allowlisted:  byPullPolicy{always: pulled(notPresent), ifNotPresent: pulled(notPresent), never: denied(notPresent)},
		},
		{
			name: "preloaded; pod B without Secret", setup: setupPreloaded, image: privateApp,
			podNamespace: nsY,
			gateOff:      byPullPolicy{always: failed(mustPull), ifNotPresent: reused(gateOff), never: reused(gateOff)},
			neverVerify:  byPullPolicy{always: failed(mustPull), ifNotPresent: reused(policy), never: reused(policy)},
			preloaded:    byPullPolicy{always: failed(mustPull), ifNotPresent: reused(notPulled), never: reused(notPulled)},
			alwaysVerify: noAccess,
			allowlisted:  byPullPolicy{always: failed(mustPull), ifNotPresent: reused(policy), never: reused(policy)},
		},
		{
			name: "pulled by A; pod B with the same Secret S1", setup: setupPulledByA, image: privateApp,
			podNamespace: nsX, podSecrets: []string{"s1"},
			gateOff:      byPullPolicy{always: pulled(mustPull), ifNotPresent: reused(gateOff), never: reused(gateOff)},
			neverVerify:  byPullPolicy{always: pulled(mustPull), ifNotPresent: reused(policy), never: reused(policy)},
			preloaded:    recordedAccess,
			alwaysVerify: recordedAccess,
			allowlisted:  byPullPolicy{always: pulled(mustPull), ifNotPresent: reused(policy), never: reused(policy)},
		},
		{
			name: "pulled by A; pod B without Secret", setup: setupPulledByA, image: privateApp,
			podNamespace: nsY,
			gateOff:      byPullPolicy{always: failed(mustPull), ifNotPresent: reused(gateOff), never: reused(gateOff)},
			neverVerify:  byPullPolicy{always: failed(mustPull), ifNotPresent: reused(policy), never: reused(policy)},
			preloaded:    noAccess,
			alwaysVerify: noAccess,
			allowlisted:  byPullPolicy{always: failed(mustPull), ifNotPresent: reused(policy), never: reused(policy)},
		},
		{
			name: "pulled by A; pod B with credentials the registry refuses", setup: setupPulledByA, image: privateApp,
			podNamespace: nsY, podSecrets: []string{"refused"},
			gateOff:      byPullPolicy{always: failed(mustPull), ifNotPresent: reused(gateOff), never: reused(gateOff)},
			neverVerify:  byPullPolicy{always: failed(mustPull), ifNotPresent: reused(policy), never: reused(policy)},
			preloaded:    noAccess,
			alwaysVerify: noAccess,
			allowlisted:  byPullPolicy{always: failed(mustPull), ifNotPresent: reused(policy), never: reused(policy)},
		},
		{
			name: "pulled by A; pod B with another Secret S2 holding the same credentials", setup: setupPulledByA, image: privateApp,
			podNamespace: nsX, podSecrets: []string{"s2"},
			gateOff:      byPullPolicy{always: pulled(mustPull), ifNotPresent: reused(gateOff), never: reused(gateOff)},
			neverVerify:  byPullPolicy{always: pulled(mustPull), ifNotPresent: reused(policy), never: reused(policy)},
			preloaded:    recordedAccess,
			alwaysVerify: recordedAccess,
			allowlisted:  byPullPolicy{always: pulled(mustPull), ifNotPresent: reused(policy), never: reused(policy)},
		},
		{
			name: "pulled by A; pod B with another Secret S3 holding other valid credentials", setup: setupPulledByA, image: privateApp,
			podNamespace: nsX, podSecrets: []string{"s3"},
			gateOff:      byPullPolicy{always: pulled(mustPull), ifNotPresent: reused(gateOff), never: reused(gateOff)},
			neverVerify:  byPullPolicy{always: pulled(mustPull), ifNotPresent: reused(policy), never: reused(policy)},
			preloaded:    byPullPolicy{always: pulled(mustPull), ifNotPresent: pulled(mustPull), never: denied(mustPull)},
			alwaysVerify: byPullPolicy{always: pulled(mustPull), ifNotPresent: pulled(mustPull), never: denied(mustPull)},
			allowlisted:  byPullPolicy{always: pulled(mustPull), ifNotPresent: reused(policy), never: reused(policy)},
		},
		{
			name: "public image pulled anonymously by A; pod B without Secret", setup: setupPulledAnonymously, image: publicTool,
			podNamespace: nsY,
			gateOff:      byPullPolicy{always: pulled(mustPull), ifNotPresent: reused(gateOff), never: reused(gateOff)},
			neverVerify:  byPullPolicy{always: pulled(mustPull), ifNotPresent: reused(policy), never: reused(policy)},
			preloaded:    byPullPolicy{always: pulled(mustPull), ifNotPresent: reused(nodeAccess), never: reused(nodeAccess)},
			alwaysVerify: byPullPolicy{always: pulled(mustPull), ifNotPresent: reused(nodeAccess), never: reused(nodeAccess)},
			// The allowlist names reg.example/team/*, not the public tool.
			allowlisted: byPullPolicy{always: pulled(mustPull), ifNotPresent: reused(nodeAccess), never: reused(nodeAccess)},
		},
	}

	for _, row := range rows {
		for _, col := range matrixColumns {
			for _, pullPolicy := range []v1.PullPolicy{v1.PullAlways, v1.PullIfNotPresent, v1.PullNever} {
				t.Run(fmt.Sprintf("%s/%s/%s", row.name, col.name, pullPolicy), func(t *testing.T) {
					_, ctx := ktesting.NewTestContext(t)
					runMatrixCell(ctx, t, row, col, pullPolicy)
				})
			}
		}
	}
}

func runMatrixCell(ctx context.Context, t *testing.T, row matrixRow, col matrixColumn, pullPolicy v1.PullPolicy) {
	env := newTestEnv(ctx, t, envOptions{gateOff: col.gateOff, policy: col.policy, allowlist: col.allowlist})
	imageID, size := privateAppID, uint64(appSize)
	if row.image == publicTool {
		imageID, size = publicToolID, toolSize
	}
	switch row.setup {
	case setupPreloaded:
		env.runtime.preload(row.image)
	case setupPulledByA:
		env.mustAdmit(ctx, newPod(nsX, "pod-a", row.image, v1.PullIfNotPresent, "s1"))
	case setupPulledAnonymously:
		env.mustAdmit(ctx, newPod(nsX, "pod-a", row.image, v1.PullIfNotPresent))
	}
	env.recorder.take()
	env.runtime.resetPulls()

	want := col.want(row).get(pullPolicy)
	wantResult, wantEvents := want.expected(row.image, imageID, size)
	res, err := env.ensure(ctx, newPod(row.podNamespace, "pod-b", row.image, pullPolicy, row.podSecrets...))

	if diff := cmp.Diff(wantResult, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if (err != nil) != (wantResult.Reason != "") {
		t.Errorf("error = %v, want one exactly when the reason is set (%q)", err, wantResult.Reason)
	}
	var ensureErr *EnsureError
	if err != nil && (!errors.As(err, &ensureErr) || ensureErr.Reason.Error() != wantResult.Reason) {
		t.Errorf("error = %v, want an *EnsureError with reason %s", err, wantResult.Reason)
	}
	if diff := cmp.Diff(wantEvents, env.recorder.take()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	pulls := env.runtime.pullLog()
	if attempted := len(pulls) > 0; attempted != wantResult.PullAttempted {
		t.Errorf("runtime pulls = %v, want pulls: %v", pulls, wantResult.PullAttempted)
	}
	// A pull leaves no intent behind, whatever its outcome.
	if intents := env.intentFiles(); len(intents) != 0 {
		t.Errorf("intent files left: %v", intents)
	}
	if col.gateOff {
		if records := env.recordFiles(); len(records) != 0 {
			t.Errorf("gate off wrote records: %v", records)
		}
	}
}
