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
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrv1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	v1 "k8s.io/api/core/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/kubernetes/test/e2e_node/framework"
)

var _ = ginkgo.Describe(describeFeature+"Weaknesses of released kubelets", featureLabels, func() {
	// Released kubelets compared the pod's raw string ("nginx:1") with the
	// runtime's normalised tags at start-up and never resolved such
	// intents.
	ginkgo.DescribeTable("start-up housekeeping resolves the intent left by a crash, whatever the image string's form",
		func(ctx context.Context, form string) {
			failpointTool := requireFailpointImagectl()
			n := newNode(nodeOptions{})
			path := "e2e/crash-form-" + randomName()
			pushed, err := suite.regA.PushRandom(ctx, &suite.user1, path+":latest")
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			removeFromRuntimeAfterSpec(pushed.ID)
			repo := suite.regA.Host + "/" + path
			image := repo
			if form == "digest" {
				image = repo + "@" + pushed.ManifestDigest
			}
			s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)

			run := n.ensureWith(ctx, failpointTool, []string{envFailpoint + "=after-pull"},
				[]*v1.Pod{newPod(nsX, "pod-a", image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1})
			gomega.Expect(run.ExitCode).To(gomega.Equal(failpointExitCode), "stderr:\n%s", run.Stderr)
			gomega.Expect(n.records(ctx).hasIntent(image)).To(gomega.BeTrue())

			expectDenied(n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-b", image, v1.PullNever)}, nil), verifyMustPull)
			listing := n.records(ctx)
			gomega.Expect(listing.Intents).To(gomega.BeEmpty(), "the intent for %s was resolved", image)
			rec := listing.record(pushed.ID)
			gomega.Expect(rec).NotTo(gomega.BeNil())
			gomega.Expect(rec.CredentialMapping).To(gomega.HaveKeyWithValue(repo, kubeletconfigv1beta1.ImagePullCredentials{}))
		},
		ginkgo.Entry("no tag (defaults to :latest)", "untagged"),
		ginkgo.Entry("by digest", "digest"),
	)

	ginkgo.It("keeps the intent of an image gone from the runtime, and it makes the repository kubelet-pulled", func(ctx context.Context) {
		failpointTool := requireFailpointImagectl()
		n := newNode(nodeOptions{})
		path := "e2e/crash-absent-" + randomName()
		v1Image, err := suite.regA.PushRandom(ctx, &suite.user1, path+":v1")
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		removeFromRuntimeAfterSpec(v1Image.ID)
		v2Image, err := suite.regA.PushRandom(ctx, &suite.user1, path+":v2")
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		removeFromRuntimeAfterSpec(v2Image.ID)
		repo := suite.regA.Host + "/" + path
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)

		run := n.ensureWith(ctx, failpointTool, []string{envFailpoint + "=after-pull"},
			[]*v1.Pod{newPod(nsX, "pod-a", repo+":v1", v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1})
		gomega.Expect(run.ExitCode).To(gomega.Equal(failpointExitCode), "stderr:\n%s", run.Stderr)
		removeFromRuntime(ctx, v1Image.ID)
		gomega.Expect(preload(ctx, repo+":v2", &suite.user1)).To(gomega.Equal(v2Image.ID))

		ginkgo.By("after the restart the intent for the absent image stays, and another tag of its repository is not preloaded")
		expectDenied(n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-b", repo+":v2", v1.PullNever)}, nil), verifyMustPull)
		gomega.Expect(n.records(ctx).hasIntent(repo + ":v1")).To(gomega.BeTrue())
	})

	ginkgo.It("counts a record with an empty credentialMapping (a released kubelet's interrupted pull) as pulled by the kubelet under every name", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/empty-mapping")
		gomega.Expect(preload(ctx, p.Image, &suite.user1)).To(gomega.Equal(p.ID))
		data := fmt.Sprintf(`{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1alpha1","lastUpdatedTime":%q,"imageRef":%q}`+"\n",
			time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), p.ID)
		path := n.recordPath(p.ID)
		gomega.Expect(os.MkdirAll(filepath.Dir(path), 0o700)).To(gomega.Succeed())
		gomega.Expect(os.WriteFile(path, []byte(data), 0o600)).To(gomega.Succeed())

		mark := markLog(suite.regA)
		expectDenied(n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-b", p.Image, v1.PullNever)}, nil), verifyMustPull)
		mark.expectNoContact(p.Path)
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-c", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyMustPull)
		expectSecrets(n.record(ctx, p.ID), p.Repo, secretCoordinates(s1, suite.user1))
	})
})

var _ = ginkgo.Describe(describeFeature+"Pull Secrets", featureLabels, func() {
	ginkgo.It("tries the pod's credentials in order and records only the one that succeeded", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/in-order")
		refused := newSecret(nsX, "refused", suite.regA.Host, refusedCredential())
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)
		mark := markLog(suite.regA)
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "refused", "s1")}, []*v1.Secret{refused, s1}), verifyNotPresent)
		mark.expectManifestFetchedBy(p.Path, suite.user1.Username)
		// The refused credentials came first and were refused.
		reqs := mark.requests(p.Path)
		gomega.Expect(reqs.Filter(func(e framework.AccessEntry) bool { return e.RefusedUser == suite.user1.Username })).NotTo(gomega.BeEmpty(), "the refused credentials were tried: %v", reqs)
		expectSecrets(n.record(ctx, p.ID), p.Repo, secretCoordinates(s1, suite.user1))
	})

	ginkgo.It("hashes kubernetes.io/dockercfg and stringData Secrets like dockerconfigjson ones", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/secret-types")
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyNotPresent)

		auth := base64.StdEncoding.EncodeToString([]byte(suite.user1.Username + ":" + suite.user1.Password))
		legacy, err := json.Marshal(map[string]any{"http://" + suite.regA.Host + "/v1/": map[string]string{"auth": auth}})
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		dockercfg := newSecret(nsX, "legacy", suite.regA.Host, suite.user1)
		dockercfg.Type = v1.SecretTypeDockercfg
		dockercfg.Data = map[string][]byte{v1.DockerConfigKey: legacy}

		modern, err := json.Marshal(map[string]any{"auths": map[string]any{suite.regA.Host: map[string]string{"username": suite.user1.Username, "password": suite.user1.Password}}})
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		stringData := newSecret(nsX, "string-data", suite.regA.Host, suite.user1)
		stringData.Data = nil
		stringData.StringData = map[string]string{v1.DockerConfigJsonKey: string(modern)}

		mark := markLog(suite.regA)
		expectReused(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-b", p.Image, v1.PullNever, "legacy")}, []*v1.Secret{dockercfg}), verifySecretHash)
		expectReused(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-c", p.Image, v1.PullNever, "string-data")}, []*v1.Secret{stringData}), verifySecretHash)
		mark.expectNoContact(p.Path)
		expectSecrets(n.record(ctx, p.ID), p.Repo,
			secretCoordinates(s1, suite.user1), secretCoordinates(dockercfg, suite.user1), secretCoordinates(stringData, suite.user1))
	})

	ginkgo.It("records every Secret of pods that pull one absent image at once with the same credentials", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/many-pods")
		var pods []*v1.Pod
		var secrets []*v1.Secret
		var want []kubeletconfigv1beta1.ImagePullSecret
		for i := range 6 {
			s := newSecret(nsX, fmt.Sprintf("s%d", i), suite.regA.Host, suite.user1)
			secrets = append(secrets, s)
			want = append(want, secretCoordinates(s, suite.user1))
			pods = append(pods, newPod(nsX, fmt.Sprintf("pod-%d", i), p.Image, v1.PullIfNotPresent, s.Name))
		}
		run := n.ensure(ctx, pods, secrets)
		gomega.Expect(run.ExitCode).To(gomega.Equal(exitAdmitted), "stderr:\n%s", run.Stderr)
		gomega.Expect(run.Pods).To(gomega.HaveLen(len(pods)))
		for _, pr := range run.Pods {
			gomega.Expect(pr.Containers).To(gomega.HaveLen(1))
			gomega.Expect(pr.Containers[0].Result).To(gomega.BeElementOf(resultPulled, resultReused), "pod %s", pr.Pod)
			gomega.Expect(pr.Containers[0].ImageRef).To(gomega.Equal(p.ID), "pod %s", pr.Pod)
		}
		listing := n.records(ctx)
		gomega.Expect(listing.Intents).To(gomega.BeEmpty())
		expectSecrets(listing.record(p.ID), p.Repo, want...)
	})
})

var _ = ginkgo.Describe(describeFeature+"Configuration", featureLabels, func() {
	ginkgo.DescribeTable("rejects an invalid configuration with exit code 2, naming the field and value",
		func(ctx context.Context, opts nodeOptions, field, value string) {
			n := newNode(opts)
			run := n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", suite.regA.Image("e2e/never-pulled:v1"), v1.PullIfNotPresent)}, nil)
			gomega.Expect(run.ExitCode).To(gomega.Equal(exitBadInput), "stderr:\n%s", run.Stderr)
			gomega.Expect(run.Pods).To(gomega.BeEmpty())
			gomega.Expect(run.Stderr).To(gomega.And(
				gomega.ContainSubstring("invalid configuration: "),
				gomega.ContainSubstring(field),
				gomega.ContainSubstring(value),
			))
		},
		ginkgo.Entry("unknown policy", nodeOptions{policy: "SometimesVerify"}, "imagePullCredentialsVerificationPolicy", "SometimesVerify"),
		ginkgo.Entry("gate off with a policy set", nodeOptions{gateOff: true, policy: kubeletconfigv1beta1.AlwaysVerify}, "imagePullCredentialsVerificationPolicy", "AlwaysVerify"),
		ginkgo.Entry("allowlist with another policy", nodeOptions{policy: kubeletconfigv1beta1.AlwaysVerify, allowlist: []string{"docker.io/library/alpine"}}, "preloadedImagesVerificationAllowlist", "docker.io/library/alpine"),
		ginkgo.Entry("allowlist entry in familiar form", nodeOptions{policy: kubeletconfigv1beta1.NeverVerifyAllowlistedImages, allowlist: []string{"alpine"}}, "preloadedImagesVerificationAllowlist", "alpine"),
		ginkgo.Entry("allowlist entry with a tag", nodeOptions{policy: kubeletconfigv1beta1.NeverVerifyAllowlistedImages, allowlist: []string{"reg.example/app:1"}}, "preloadedImagesVerificationAllowlist", "reg.example/app:1"),
		ginkgo.Entry("allowlist entry with an inner wildcard", nodeOptions{policy: kubeletconfigv1beta1.NeverVerifyAllowlistedImages, allowlist: []string{"reg.example/*/app"}}, "preloadedImagesVerificationAllowlist", "reg.example/*/app"),
	)
})

// pushIndex pushes a new random image wrapped in a one-platform image index
// (as most real images are) to registry A as path:v1, and returns the
// image ID (the platform image's config digest) and the index digest.
func pushIndex(ctx context.Context, path string) (id, indexDigest string) {
	ginkgo.GinkgoHelper()
	img, err := framework.NewImage(1, 1024)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	cfg, err := img.ConfigName()
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{
		Add:        img,
		Descriptor: ggcrv1.Descriptor{Platform: &ggcrv1.Platform{OS: "linux", Architecture: runtime.GOARCH}},
	})
	digest, err := idx.Digest()
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	ref, err := name.ParseReference(suite.regA.Image(path + ":v1"))
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	auth := &authn.Basic{Username: suite.user1.Username, Password: suite.user1.Password}
	gomega.Expect(remote.WriteIndex(ref, idx, remote.WithContext(ctx), remote.WithAuth(auth))).To(gomega.Succeed())
	removeFromRuntimeAfterSpec(cfg.String())
	return cfg.String(), digest.String()
}

var _ = ginkgo.Describe(describeFeature+"Multi-platform images", featureLabels, func() {
	ginkgo.It("records an image index under the platform image's ID and matches it by index digest", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		path := "e2e/index-" + randomName()
		id, indexDigest := pushIndex(ctx, path)
		repo := suite.regA.Host + "/" + path
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)

		c := expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", repo+":v1", v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyNotPresent)
		gomega.Expect(c.ImageRef).To(gomega.Equal(id), "the image ID is the platform image's config digest")
		expectSecrets(n.record(ctx, id), repo, secretCoordinates(s1, suite.user1))

		mark := markLog(suite.regA)
		expectReused(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-b", repo+"@"+indexDigest, v1.PullNever, "s1")}, []*v1.Secret{s1}), verifySecretHash)
		expectDenied(n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-c", repo+"@"+indexDigest, v1.PullNever)}, nil), verifyMustPull)
		mark.expectNoContact(path)
	})

	ginkgo.It("resolves the intent of an index pulled by digest after a crash", func(ctx context.Context) {
		failpointTool := requireFailpointImagectl()
		n := newNode(nodeOptions{})
		path := "e2e/index-crash-" + randomName()
		id, indexDigest := pushIndex(ctx, path)
		repo := suite.regA.Host + "/" + path
		image := repo + "@" + indexDigest
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)

		run := n.ensureWith(ctx, failpointTool, []string{envFailpoint + "=after-pull"},
			[]*v1.Pod{newPod(nsX, "pod-a", image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1})
		gomega.Expect(run.ExitCode).To(gomega.Equal(failpointExitCode), "stderr:\n%s", run.Stderr)

		expectDenied(n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-b", image, v1.PullNever)}, nil), verifyMustPull)
		listing := n.records(ctx)
		gomega.Expect(listing.Intents).To(gomega.BeEmpty(), "the intent for %s was resolved", image)
		rec := listing.record(id)
		gomega.Expect(rec).NotTo(gomega.BeNil())
		gomega.Expect(rec.CredentialMapping).To(gomega.HaveKeyWithValue(repo, kubeletconfigv1beta1.ImagePullCredentials{}))
	})
})
