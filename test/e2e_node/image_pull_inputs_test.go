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
	"os"
	"path/filepath"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	v1 "k8s.io/api/core/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
)

var _ = ginkgo.Describe(describeFeature+"Pod credentials and images", featureLabels, func() {
	ginkgo.It("records nodePodsAccessible for a pull with node-wide credentials, which then serve every pod", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/node-wide")
		auth := base64.StdEncoding.EncodeToString([]byte(suite.user1.Username + ":" + suite.user1.Password))
		data, err := json.Marshal(map[string]any{"auths": map[string]any{suite.regA.Host: map[string]string{"auth": auth}}})
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		dockerConfig := filepath.Join(n.dir, "node-config.json")
		gomega.Expect(os.WriteFile(dockerConfig, data, 0o600)).To(gomega.Succeed())

		mark := markLog(suite.regA)
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent)}, nil, "--docker-config", dockerConfig), verifyNotPresent)
		mark.expectManifestFetchedBy(p.Path, suite.user1.Username)
		gomega.Expect(n.record(ctx, p.ID).CredentialMapping).To(gomega.HaveKeyWithValue(p.Repo, kubeletconfigv1beta1.ImagePullCredentials{NodePodsAccessible: true}))

		ginkgo.By("without node-wide credentials, a pod without Secret may still use it")
		mark = markLog(suite.regA)
		expectReused(n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-b", p.Image, v1.PullNever)}, nil), verifyNodeAccessible)
		mark.expectNoContact(p.Path)
	})

	ginkgo.It("warns about a missing pull Secret and pulls with the others", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/missing-secret")
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)
		run := n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "ghost", "s1")}, []*v1.Secret{s1})
		expectPulled(run, verifyNotPresent)
		gomega.Expect(append(run.Pods[0].Events, run.Pods[0].Containers[0].Events...)).To(haveEvent("Warning", "FailedToRetrieveImagePullSecret", "ghost"))
		expectSecrets(n.record(ctx, p.ID), p.Repo, secretCoordinates(s1, suite.user1))
	})

	ginkgo.DescribeTable("a pull Secret whose content cannot be parsed fails the container with ErrImagePull, naming the Secret",
		func(ctx context.Context, pullPolicy v1.PullPolicy) {
			n := newNode(nodeOptions{})
			p := pushImage(ctx, suite.regA, &suite.user1, "e2e/broken-secret")
			s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)
			expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyNotPresent)

			broken := newSecret(nsX, "broken", suite.regA.Host, suite.user1)
			broken.Data[v1.DockerConfigJsonKey] = []byte("{not json")
			mark := markLog(suite.regA)
			run := n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-b", p.Image, pullPolicy, "broken")}, []*v1.Secret{broken})
			gomega.Expect(run.ExitCode).To(gomega.Equal(exitNotAdmitted), "stderr:\n%s", run.Stderr)
			gomega.Expect(run.only()).To(gomega.And(
				gomega.HaveField("Result", resultFailed),
				gomega.HaveField("Reason", reasonErrImagePull),
				gomega.HaveField("Message", gomega.ContainSubstring("broken")),
				gomega.HaveField("ImageRef", ""),
			))
			mark.expectNoContact(p.Path)
			expectSecrets(n.record(ctx, p.ID), p.Repo, secretCoordinates(s1, suite.user1))
		},
		ginkgo.Entry("IfNotPresent", v1.PullIfNotPresent),
		ginkgo.Entry("Never", v1.PullNever),
	)

	ginkgo.It("keys the record by repository: a digest reference matches what the tag pulled", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/digest")
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyNotPresent)
		byDigest, err := p.DigestRef(p.Image)
		gomega.Expect(err).NotTo(gomega.HaveOccurred())

		mark := markLog(suite.regA)
		c := expectReused(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-b", byDigest, v1.PullNever, "s1")}, []*v1.Secret{s1}), verifySecretHash)
		gomega.Expect(c.ImageRef).To(gomega.Equal(p.ID))
		expectDenied(n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-c", byDigest, v1.PullNever)}, nil), verifyMustPull)
		mark.expectNoContact(p.Path)
	})

	ginkgo.It("processes every container, init containers first, even after a failure", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/containers")
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)
		missing := suite.regA.Image("e2e/does-not-exist-" + randomName() + ":v1")
		pod := newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1")
		pod.Spec.InitContainers = []v1.Container{{Name: "init", Image: missing, ImagePullPolicy: v1.PullIfNotPresent}}
		pod.Spec.Containers = append(pod.Spec.Containers, v1.Container{Name: "never", Image: p.Image, ImagePullPolicy: v1.PullNever})

		run := n.ensure(ctx, []*v1.Pod{pod}, []*v1.Secret{s1})
		gomega.Expect(run.ExitCode).To(gomega.Equal(exitNotAdmitted), "stderr:\n%s", run.Stderr)
		gomega.Expect(run.Pods).To(gomega.HaveLen(1))
		cs := run.Pods[0].Containers
		gomega.Expect(cs).To(gomega.HaveLen(3))
		gomega.Expect([]string{cs[0].Name, cs[1].Name, cs[2].Name}).To(gomega.Equal([]string{"init", "app", "never"}))
		gomega.Expect(cs[0]).To(gomega.And(gomega.HaveField("Result", resultFailed), gomega.HaveField("Reason", reasonErrImagePull), gomega.HaveField("PullAttempted", true)))
		expectContainer(cs[1], resultPulled, "", verifyNotPresent, true)
		// The regular containers are processed in order: "never" sees the
		// image "app" pulled with the same Secret.
		expectContainer(cs[2], resultReused, "", verifySecretHash, false)
	})
})

var _ = ginkgo.Describe(describeFeature+"Pod and Secret inputs", featureLabels, func() {
	ginkgo.It("never lends a Secret to a pod of another namespace that names it", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/namespaces")
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyNotPresent)

		mark := markLog(suite.regA)
		run := n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-b", p.Image, v1.PullNever, "s1")}, []*v1.Secret{s1})
		expectDenied(run, verifyMustPull)
		gomega.Expect(append(run.Pods[0].Events, run.Pods[0].Containers[0].Events...)).To(haveEvent("Warning", "FailedToRetrieveImagePullSecret", "s1"))
		run = n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-c", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1})
		expectPullFailed(run, verifyMustPull)
		mark.expectRefused(p.Path, "")
		expectSecrets(n.record(ctx, p.ID), p.Repo, secretCoordinates(s1, suite.user1))
	})

	ginkgo.DescribeTable("defaults the pull policy as the API server does",
		func(ctx context.Context, tag string, want v1.PullPolicy) {
			n := newNode(nodeOptions{})
			path := "e2e/defaulting-" + randomName()
			pushed, err := suite.regA.PushRandom(ctx, &suite.user1, path+":latest", path+":v1")
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			removeFromRuntimeAfterSpec(pushed.ID)
			s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)
			run := n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", suite.regA.Image(path+tag), "", "s1")}, []*v1.Secret{s1})
			c := expectPulled(run, verifyNotPresent)
			gomega.Expect(c.PullPolicy).To(gomega.Equal(string(want)))
		},
		ginkgo.Entry("a tag: IfNotPresent", ":v1", v1.PullIfNotPresent),
		ginkgo.Entry("no tag: Always", "", v1.PullAlways),
		ginkgo.Entry(":latest: Always", ":latest", v1.PullAlways),
	)

	ginkgo.It("rejects a Secret without metadata.uid with exit code 2, naming the file", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		s := newSecret(nsX, "no-uid", suite.regA.Host, suite.user1)
		s.UID = ""
		run := n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", suite.regA.Image("e2e/never-pulled:v1"), v1.PullIfNotPresent, "no-uid")}, []*v1.Secret{s})
		gomega.Expect(run.ExitCode).To(gomega.Equal(exitBadInput), "stderr:\n%s", run.Stderr)
		gomega.Expect(run.Pods).To(gomega.BeEmpty())
		gomega.Expect(run.Stderr).To(gomega.And(gomega.ContainSubstring("secrets-"), gomega.ContainSubstring("uid")))
	})
})

var _ = ginkgo.DescribeTable(describeFeature+"an absent image with pull policy Never is denied without a registry contact",
	func(ctx context.Context, opts nodeOptions) {
		n := newNode(opts)
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/absent-never")
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)
		mark := markLog(suite.regA)
		expectDenied(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullNever, "s1")}, []*v1.Secret{s1}), verifyNotPresent)
		mark.expectNoContact(p.Path)
		gomega.Expect(n.records(ctx).Pulled).To(gomega.BeEmpty())
	},
	featureLabels,
	ginkgo.Entry("gate on", nodeOptions{}),
	ginkgo.Entry("gate off", nodeOptions{gateOff: true}),
)
