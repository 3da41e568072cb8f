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

var _ = ginkgo.Describe(describeFeature+"Preloaded images", featureLabels, func() {
	// A preloaded image is pulled straight through CRI, never through the
	// tool: the kubelet has no record and no intent for it.
	ginkgo.DescribeTable("an image preloaded through CRI, asked for by a pod without Secret",
		func(ctx context.Context, policy kubeletconfigv1beta1.ImagePullCredentialsVerificationPolicy, pullPolicy v1.PullPolicy) {
			opts := nodeOptions{policy: policy}
			if policy == kubeletconfigv1beta1.NeverVerifyAllowlistedImages {
				// Preloaded but not listed: no exemption.
				opts.allowlist = []string{suite.regA.Host + "/e2e/preloaded"}
			}
			n := newNode(opts)
			p := pushImage(ctx, suite.regA, &suite.user1, "e2e/preloaded")
			gomega.Expect(preload(ctx, p.Image, &suite.user1)).To(gomega.Equal(p.ID))

			mark := markLog(suite.regA)
			run := n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-b", p.Image, pullPolicy)}, nil)
			switch {
			case policy == kubeletconfigv1beta1.NeverVerify:
				c := expectReused(run, verifyPolicy)
				gomega.Expect(c.ImageRef).To(gomega.Equal(p.ID))
				mark.expectNoContact(p.Path)
			case policy == "" || policy == kubeletconfigv1beta1.NeverVerifyPreloadedImages:
				c := expectReused(run, verifyNotPulledByKubelet)
				gomega.Expect(c.ImageRef).To(gomega.Equal(p.ID))
				mark.expectNoContact(p.Path)
			case pullPolicy == v1.PullIfNotPresent:
				expectPullFailed(run, verifyMustPull)
				mark.expectRefused(p.Path, "")
			default:
				expectDenied(run, verifyMustPull)
				mark.expectNoContact(p.Path)
			}
			// A decision about a preloaded image writes no record.
			gomega.Expect(n.records(ctx).record(p.ID)).To(gomega.BeNil())
		},
		ginkgo.Entry("default policy, IfNotPresent: admitted", kubeletconfigv1beta1.ImagePullCredentialsVerificationPolicy(""), v1.PullIfNotPresent),
		ginkgo.Entry("default policy, Never: admitted", kubeletconfigv1beta1.ImagePullCredentialsVerificationPolicy(""), v1.PullNever),
		ginkgo.Entry("AlwaysVerify, IfNotPresent: pulled, fails without credentials", kubeletconfigv1beta1.AlwaysVerify, v1.PullIfNotPresent),
		ginkgo.Entry("AlwaysVerify, Never: denied", kubeletconfigv1beta1.AlwaysVerify, v1.PullNever),
		ginkgo.Entry("NeverVerifyAllowlistedImages (not listed), IfNotPresent: pulled, fails without credentials", kubeletconfigv1beta1.NeverVerifyAllowlistedImages, v1.PullIfNotPresent),
		ginkgo.Entry("NeverVerifyAllowlistedImages (not listed), Never: denied", kubeletconfigv1beta1.NeverVerifyAllowlistedImages, v1.PullNever),
		ginkgo.Entry("NeverVerify, Never: admitted", kubeletconfigv1beta1.NeverVerify, v1.PullNever),
	)

	// One image ID under two names M and N: pulling M with S1 never grants
	// N, and a preloaded N keeps its status (judged per repository name).
	ginkgo.DescribeTable("one image ID under names M and N, M pulled with S1",
		func(ctx context.Context, policy kubeletconfigv1beta1.ImagePullCredentialsVerificationPolicy, preloadN string) {
			n := newNode(nodeOptions{policy: policy})
			img, err := framework.NewImage(1, 1024)
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			suffix := randomName()
			pushed, err := suite.regA.Push(ctx, img, &suite.user1, "e2e/name-m-"+suffix+":v1", "e2e/name-n-"+suffix+":v1")
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			removeFromRuntimeAfterSpec(pushed.ID)
			m := &testImage{PushedImage: pushed, Image: pushed.Refs[0], Repo: suite.regA.Host + "/e2e/name-m-" + suffix, Path: "e2e/name-m-" + suffix}
			nn := &testImage{PushedImage: pushed, Image: pushed.Refs[1], Repo: suite.regA.Host + "/e2e/name-n-" + suffix, Path: "e2e/name-n-" + suffix}
			s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)

			if preloadN == "before" {
				gomega.Expect(preload(ctx, nn.Image, &suite.user1)).To(gomega.Equal(pushed.ID))
			}
			ginkgo.By("pod A pulls M with S1")
			expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", m.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyNotPresent)
			rec := n.record(ctx, pushed.ID)
			expectSecrets(rec, m.Repo, secretCoordinates(s1, suite.user1))
			gomega.Expect(rec.CredentialMapping).NotTo(gomega.HaveKey(nn.Repo), "pulling M wrote nothing for N")

			if preloadN == "" {
				ginkgo.By("N is absent from the runtime: a pod without Secret pulls it and fails, a pod with S1 pulls it")
				mark := markLog(suite.regA)
				expectPullFailed(n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-b", nn.Image, v1.PullIfNotPresent)}, nil), verifyNotPresent)
				mark.expectRefused(nn.Path, "")
				gomega.Expect(n.records(ctx).Intents).To(gomega.BeEmpty(), "the failed pull removed its intent")
				expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-c", nn.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyNotPresent)
				rec := n.record(ctx, pushed.ID)
				expectSecrets(rec, m.Repo, secretCoordinates(s1, suite.user1))
				expectSecrets(rec, nn.Repo, secretCoordinates(s1, suite.user1))
				return
			}
			if preloadN == "after" {
				gomega.Expect(preload(ctx, nn.Image, &suite.user1)).To(gomega.Equal(pushed.ID))
			}

			ginkgo.By("a pod without Secret asks for the preloaded name N with pull policy Never")
			mark := markLog(suite.regA)
			run := n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-b", nn.Image, v1.PullNever)}, nil)
			if policy == kubeletconfigv1beta1.AlwaysVerify {
				expectDenied(run, verifyMustPull)
			} else {
				expectReused(run, verifyNotPulledByKubelet)
			}
			mark.expectNoContact(nn.Path)

			ginkgo.By("a pod without Secret asks for the kubelet-pulled name M with pull policy Never")
			expectDenied(n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-c", m.Image, v1.PullNever)}, nil), verifyMustPull)
			mark.expectNoContact(m.Path)
		},
		ginkgo.Entry("N absent: pulled with the pod's credentials", kubeletconfigv1beta1.ImagePullCredentialsVerificationPolicy(""), ""),
		ginkgo.Entry("N preloaded before M was pulled: N admitted without Secret (default policy)", kubeletconfigv1beta1.ImagePullCredentialsVerificationPolicy(""), "before"),
		ginkgo.Entry("N preloaded after M was pulled: N admitted without Secret (default policy)", kubeletconfigv1beta1.ImagePullCredentialsVerificationPolicy(""), "after"),
		ginkgo.Entry("N preloaded, AlwaysVerify: N verified (denied with Never)", kubeletconfigv1beta1.AlwaysVerify, "before"),
	)
})
