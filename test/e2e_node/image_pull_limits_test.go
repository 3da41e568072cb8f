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
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	v1 "k8s.io/api/core/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/kubernetes/test/e2e_node/framework"
)

// maxSecretsPerEntry is SPEC section 5 step 9's cap on write-backs.
const maxSecretsPerEntry = 100

var _ = ginkgo.Describe(describeFeature+"Image pull limits", featureLabels, func() {
	ginkgo.It("stops decision write-backs at 100 Secrets per entry, but never caps real pulls", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/cap")
		secrets := make([]*v1.Secret, 0, maxSecretsPerEntry+1)
		for i := range maxSecretsPerEntry + 1 {
			secrets = append(secrets, newSecret(nsX, fmt.Sprintf("s%03d", i), suite.regA.Host, suite.user1))
		}
		s0 := secrets[0]
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, s0.Name)}, secrets[:1]), verifyNotPresent)

		ginkgo.By("99 pods with other Secrets holding the same credentials fill the entry to the cap")
		pods := make([]*v1.Pod, 0, maxSecretsPerEntry-1)
		for _, s := range secrets[1:maxSecretsPerEntry] {
			pods = append(pods, newPod(nsX, "pod-"+s.Name, p.Image, v1.PullNever, s.Name))
		}
		run := n.ensure(ctx, pods, secrets[1:maxSecretsPerEntry])
		gomega.Expect(run.ExitCode).To(gomega.Equal(exitAdmitted), "stderr:\n%s", run.Stderr)
		gomega.Expect(run.Pods).To(gomega.HaveLen(len(pods)))
		for _, pr := range run.Pods {
			gomega.Expect(pr.Containers[0]).To(gomega.And(gomega.HaveField("Result", resultReused), gomega.HaveField("Verification", verifySecretHash)), "pod %s", pr.Pod)
		}
		want := make([]kubeletconfigv1beta1.ImagePullSecret, 0, maxSecretsPerEntry)
		for _, s := range secrets[:maxSecretsPerEntry] {
			want = append(want, secretCoordinates(s, suite.user1))
		}
		expectSecrets(n.record(ctx, p.ID), p.Repo, want...)

		ginkgo.By("past the cap a hash match is still admitted, without a write")
		last := secrets[maxSecretsPerEntry]
		expectReused(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-last", p.Image, v1.PullNever, last.Name)}, []*v1.Secret{last}), verifySecretHash)
		expectSecrets(n.record(ctx, p.ID), p.Repo, want...)

		ginkgo.By("past the cap a rotation is not accepted: Never is denied")
		rotated := withCredential(s0, suite.regA.Host, suite.user2)
		mark := markLog(suite.regA)
		expectDenied(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-rotated", p.Image, v1.PullNever, s0.Name)}, []*v1.Secret{rotated}), verifyMustPull)
		mark.expectNoContact(p.Path)

		ginkgo.By("a real pull with the rotated Secret is recorded, cap or not")
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-rotated-pull", p.Image, v1.PullIfNotPresent, s0.Name)}, []*v1.Secret{rotated}), verifyMustPull)
		mark.expectManifestFetchedBy(p.Path, suite.user2.Username)
		want[0] = secretCoordinates(rotated, suite.user2)
		expectSecrets(n.record(ctx, p.ID), p.Repo, want...)
	})

	ginkgo.It("tries the most specific docker config key first", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/specific")
		basic := func(c framework.Credential) map[string]string {
			return map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(c.Username + ":" + c.Password))}
		}
		data, err := json.Marshal(map[string]any{"auths": map[string]any{
			suite.regA.Host:          basic(refusedCredential()),
			suite.regA.Host + "/e2e": basic(suite.user1),
		}})
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		s := newSecret(nsX, "two-keys", suite.regA.Host, suite.user1)
		s.Data[v1.DockerConfigJsonKey] = data

		mark := markLog(suite.regA)
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, s.Name)}, []*v1.Secret{s}), verifyNotPresent)
		mark.expectManifestFetchedBy(p.Path, suite.user1.Username)
		reqs := mark.requests(p.Path)
		gomega.Expect(reqs.Filter(func(e framework.AccessEntry) bool { return e.RefusedUser != "" })).To(gomega.BeEmpty(), "the less specific key was not tried first: %v", reqs)
		expectSecrets(n.record(ctx, p.ID), p.Repo, secretCoordinates(s, suite.user1))
	})

	ginkgo.It("reports an invalid image name as InvalidImageName", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		run := n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", suite.regA.Host+"/E2E/Upper:v1", v1.PullIfNotPresent)}, nil)
		gomega.Expect(run.ExitCode).To(gomega.Equal(exitNotAdmitted), "stderr:\n%s", run.Stderr)
		gomega.Expect(run.only()).To(gomega.And(
			gomega.HaveField("Result", resultFailed),
			gomega.HaveField("Reason", "InvalidImageName"),
			gomega.HaveField("PullAttempted", false),
			gomega.HaveField("ImageRef", ""),
		))
	})

	ginkgo.It("backs off a second pull of the same image for the same pod after a failure", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/back-off")
		pod := newPod(nsY, "pod-b", p.Image, v1.PullIfNotPresent)
		pod.Spec.Containers = append(pod.Spec.Containers, v1.Container{Name: "second", Image: p.Image, ImagePullPolicy: v1.PullIfNotPresent})
		run := n.ensure(ctx, []*v1.Pod{pod}, nil)
		gomega.Expect(run.ExitCode).To(gomega.Equal(exitNotAdmitted), "stderr:\n%s", run.Stderr)
		cs := run.Pods[0].Containers
		gomega.Expect(cs).To(gomega.HaveLen(2))
		gomega.Expect(cs[0]).To(gomega.And(gomega.HaveField("Result", resultFailed), gomega.HaveField("Reason", reasonErrImagePull), gomega.HaveField("PullAttempted", true)))
		gomega.Expect(cs[1]).To(gomega.And(gomega.HaveField("Result", resultFailed), gomega.HaveField("Reason", "ImagePullBackOff"), gomega.HaveField("PullAttempted", false)))
		gomega.Expect(cs[1].Events).To(haveEvent("Normal", "BackOff", fmt.Sprintf("Back-off pulling image %q", p.Image)))
	})
})

var _ = ginkgo.DescribeTable(describeFeature+"many pods pulling several images at once, with valid and refused credentials",
	func(ctx context.Context, serialize bool) {
		n := newNode(nodeOptions{serialize: serialize})
		var pods []*v1.Pod
		var secrets []*v1.Secret
		type expectation struct {
			image *testImage
			valid []kubeletconfigv1beta1.ImagePullSecret
		}
		var images []expectation
		validPods := map[string]string{}
		for i := range 3 {
			p := pushImage(ctx, suite.regA, &suite.user1, fmt.Sprintf("e2e/stress-%d", i))
			exp := expectation{image: p}
			for j, cred := range []framework.Credential{suite.user1, suite.user2, refusedCredential(), refusedCredential()} {
				s := newSecret(nsX, fmt.Sprintf("s-%d-%d", i, j), suite.regA.Host, cred)
				secrets = append(secrets, s)
				pod := newPod(nsX, fmt.Sprintf("pod-%d-%d", i, j), p.Image, v1.PullIfNotPresent, s.Name)
				pods = append(pods, pod)
				if j < 2 {
					exp.valid = append(exp.valid, secretCoordinates(s, cred))
					validPods[nsX+"/"+pod.Name] = p.ID
				}
			}
			images = append(images, exp)
		}
		run := n.ensure(ctx, pods, secrets)
		gomega.Expect(run.ExitCode).To(gomega.Equal(exitNotAdmitted), "stderr:\n%s", run.Stderr)
		gomega.Expect(run.Pods).To(gomega.HaveLen(len(pods)))
		for i, pr := range run.Pods {
			gomega.Expect(pr.Pod).To(gomega.Equal(nsX+"/"+pods[i].Name), "pods in the order given")
			gomega.Expect(pr.Containers).To(gomega.HaveLen(1))
			c := pr.Containers[0]
			if id, ok := validPods[pr.Pod]; ok {
				gomega.Expect(c.Result).To(gomega.BeElementOf(resultPulled, resultReused), "pod %s: %+v", pr.Pod, c)
				gomega.Expect(c.ImageRef).To(gomega.Equal(id), "pod %s", pr.Pod)
			} else {
				gomega.Expect(c).To(gomega.And(gomega.HaveField("Result", resultFailed), gomega.HaveField("Reason", reasonErrImagePull)), "pod %s", pr.Pod)
			}
		}
		listing := n.records(ctx)
		gomega.Expect(listing.Intents).To(gomega.BeEmpty())
		gomega.Expect(listing.Pulled).To(gomega.HaveLen(len(images)))
		for _, exp := range images {
			rec := listing.record(exp.image.ID)
			gomega.Expect(rec).NotTo(gomega.BeNil())
			expectSecrets(rec, exp.image.Repo, exp.valid...)
		}
	},
	featureLabels,
	ginkgo.Entry("parallel puller (maxParallelImagePulls 4)", false),
	ginkgo.Entry("serial puller", true),
)
