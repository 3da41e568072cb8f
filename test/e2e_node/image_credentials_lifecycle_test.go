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

package e2enode

import (
	"context"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	v1 "k8s.io/api/core/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/kubernetes/test/e2e_node/framework"
)

// refusedCredential is user1 with a wrong password: registry A refuses it
// with 401.
func refusedCredential() framework.Credential {
	return framework.Credential{Username: suite.user1.Username, Password: suite.user1.Password + "-wrong"}
}

var _ = ginkgo.Describe(describeFeature+"Image pull Secret lifecycle", featureLabels, func() {
	var (
		n  *node
		p  *testImage
		s1 *v1.Secret
	)

	// pullWithS1 is the common start: pod A (namespace X) pulls P with S1
	// (user1 of registry A) under the default policy.
	pullWithS1 := func(ctx context.Context) {
		n = newNode(nodeOptions{})
		p = pushImage(ctx, suite.regA, &suite.user1, "e2e/lifecycle")
		s1 = newSecret(nsX, "s1", suite.regA.Host, suite.user1)
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyNotPresent)
		expectSecrets(n.record(ctx, p.ID), p.Repo, secretCoordinates(s1, suite.user1))
	}

	ginkgo.It("admits S1 rotated to other valid credentials (same UID) and records the new hash", func(ctx context.Context) {
		pullWithS1(ctx)
		rotated := withCredential(s1, suite.regA.Host, suite.user2)

		ginkgo.By("a pod with the rotated S1 and pull policy Never is admitted by coordinates")
		mark := markLog(suite.regA)
		expectReused(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-b", p.Image, v1.PullNever, "s1")}, []*v1.Secret{rotated}), verifySecretCoordinates)
		mark.expectNoContact(p.Path)
		expectSecrets(n.record(ctx, p.ID), p.Repo, secretCoordinates(rotated, suite.user2))

		ginkgo.By("after a restart the new hash matches")
		expectReused(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-c", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{rotated}), verifySecretHash)
		mark.expectNoContact(p.Path)
	})

	ginkgo.DescribeTable("S1 deleted and recreated (new UID) with refused credentials",
		func(ctx context.Context, pullPolicy v1.PullPolicy) {
			pullWithS1(ctx)
			recreated := newSecret(nsX, "s1", suite.regA.Host, refusedCredential())
			mark := markLog(suite.regA)
			run := n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-b", p.Image, pullPolicy, "s1")}, []*v1.Secret{recreated})
			if pullPolicy == v1.PullIfNotPresent {
				expectPullFailed(run, verifyMustPull)
				mark.expectRefused(p.Path, suite.user1.Username)
			} else {
				expectDenied(run, verifyMustPull)
				mark.expectNoContact(p.Path)
			}
			// The old coordinates stay; the recreated Secret gains nothing.
			expectSecrets(n.record(ctx, p.ID), p.Repo, secretCoordinates(s1, suite.user1))
		},
		ginkgo.Entry("IfNotPresent: the pull fails with 401", v1.PullIfNotPresent),
		ginkgo.Entry("Never: denied", v1.PullNever),
	)

	ginkgo.It("records nodePodsAccessible when a pod without Secret pulls an anonymous image first pulled with a Secret", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		q := pushImage(ctx, suite.anon, nil, "e2e/anonymous")
		// The anonymous registry never challenges, so the Secret's
		// credentials are never sent; the kubelet still records the Secret
		// it pulled with.
		s := newSecret(nsX, "s1", suite.anon.Host, suite.user1)
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", q.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s}), verifyNotPresent)
		expectSecrets(n.record(ctx, q.ID), q.Repo, secretCoordinates(s, suite.user1))

		ginkgo.By("a pod without Secret pulls anonymously")
		mark := markLog(suite.anon)
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-b", q.Image, v1.PullIfNotPresent)}, nil), verifyMustPull)
		mark.expectManifestFetchedBy(q.Path, "")
		rec := n.record(ctx, q.ID)
		gomega.Expect(rec.CredentialMapping).To(gomega.HaveKeyWithValue(q.Repo, kubeletconfigv1beta1.ImagePullCredentials{NodePodsAccessible: true}))

		ginkgo.By("then any pod may use it, even with pull policy Never")
		mark = markLog(suite.anon)
		expectReused(n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-c", q.Image, v1.PullNever)}, nil), verifyNodeAccessible)
		mark.expectNoContact(q.Path)
	})

	ginkgo.DescribeTable("NeverVerifyAllowlistedImages: after pod A pulled P with S1, a pod without Secret with pull policy Never",
		func(ctx context.Context, allowlist func(p *testImage) []string, admitted bool) {
			p := pushImage(ctx, suite.regA, &suite.user1, "e2e/allowlist")
			n := newNode(nodeOptions{policy: kubeletconfigv1beta1.NeverVerifyAllowlistedImages, allowlist: allowlist(p)})
			s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)
			expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyNotPresent)

			mark := markLog(suite.regA)
			run := n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-b", p.Image, v1.PullNever)}, nil)
			if admitted {
				expectReused(run, verifyPolicy)
			} else {
				expectDenied(run, verifyMustPull)
			}
			mark.expectNoContact(p.Path)
		},
		ginkgo.Entry("exact entry (the pod's image is tagged): admitted",
			func(p *testImage) []string { return []string{p.Repo} }, true),
		ginkgo.Entry("prefix entry: admitted",
			func(p *testImage) []string { return []string{suite.regA.Host + "/e2e/*"} }, true),
		ginkgo.Entry("prefix entry for the whole registry host: admitted",
			func(p *testImage) []string { return []string{suite.regA.Host + "/*"} }, true),
		ginkgo.Entry("near miss, another repository: denied",
			func(p *testImage) []string { return []string{p.Repo + "-other", suite.regA.Host + "/e2e/allowlist/*"} }, false),
	)
})
