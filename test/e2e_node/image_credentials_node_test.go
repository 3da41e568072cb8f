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
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/kubernetes/test/e2e_node/framework"
)

// failpointExitCode is what the failpoint build of the tool exits with,
// like a SIGKILLed process.
const failpointExitCode = 137

var _ = ginkgo.Describe(describeFeature+"Image records across node events", featureLabels, func() {
	ginkgo.It("a crash after the runtime pull and before the record is durable leaves the name kubelet-pulled but unverified", func(ctx context.Context) {
		failpointTool := requireFailpointImagectl()
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/crash")
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)

		ginkgo.By("pod A pulls P with S1 and the tool dies right after the runtime's pull returned")
		run := n.ensureWith(ctx, failpointTool, []string{envFailpoint + "=after-pull"},
			[]*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1})
		gomega.Expect(run.ExitCode).To(gomega.Equal(failpointExitCode), "the failpoint fired; stderr:\n%s", run.Stderr)
		gomega.Expect(run.Pods).To(gomega.BeEmpty(), "no output from a crashed run")
		status, err := suite.images.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: p.Image}, false)
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		gomega.Expect(status.GetImage()).NotTo(gomega.BeNil(), "the runtime finished the pull")
		gomega.Expect(status.GetImage().GetId()).To(gomega.Equal(p.ID))
		listing := n.records(ctx)
		gomega.Expect(listing.hasIntent(p.Image)).To(gomega.BeTrue(), "the intent remains after the crash: %+v", listing.Intents)
		gomega.Expect(listing.record(p.ID)).To(gomega.BeNil(), "no record was written")

		ginkgo.By("after the restart a pod without credentials and pull policy Never is denied: the name counts as kubelet-pulled, never as preloaded")
		mark := markLog(suite.regA)
		expectDenied(n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-b", p.Image, v1.PullNever)}, nil), verifyMustPull)
		mark.expectNoContact(p.Path)
		// Start-up housekeeping turned the intent of a present image into an
		// empty entry, which grants nothing.
		listing = n.records(ctx)
		gomega.Expect(listing.hasIntent(p.Image)).To(gomega.BeFalse(), "the intent was resolved at start-up: %+v", listing.Intents)
		rec := listing.record(p.ID)
		gomega.Expect(rec).NotTo(gomega.BeNil(), "start-up housekeeping recorded the kubelet-pulled name")
		gomega.Expect(rec.CredentialMapping).To(gomega.HaveKeyWithValue(p.Repo, kubeletconfigv1beta1.ImagePullCredentials{}))

		ginkgo.By("a pod with S1 re-pulls P and is recorded")
		mark = markLog(suite.regA)
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-c", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyMustPull)
		mark.expectManifestFetchedBy(p.Path, suite.user1.Username)
		expectSecrets(n.record(ctx, p.ID), p.Repo, secretCoordinates(s1, suite.user1))
	})

	ginkgo.It("records prune removes the record of an image garbage-collected from the runtime", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/gc")
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyNotPresent)
		rec := n.record(ctx, p.ID)

		ginkgo.By("a prune while the image is present keeps the record")
		gomega.Expect(n.prune(ctx, time.Time{})).NotTo(gomega.ContainElement(p.ID))
		n.record(ctx, p.ID)

		ginkgo.By("the image is garbage-collected, then pruned")
		removeFromRuntime(ctx, p.ID)
		// lastUpdatedTime is rounded up to the whole second the file keeps,
		// so a record never looks older than it is; the default cut-off is
		// taken when prune starts, which must be past it.
		time.Sleep(time.Until(rec.LastUpdatedTime.Add(10 * time.Millisecond)))
		gomega.Expect(n.prune(ctx, time.Time{})).To(gomega.ContainElement(p.ID))
		gomega.Expect(n.records(ctx).record(p.ID)).To(gomega.BeNil(), "the record is gone")
	})

	ginkgo.It("records prune --until before a refresh keeps the refreshed record", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/gc-until")
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)
		s3 := newSecret(nsX, "s3", suite.regA.Host, suite.user2)
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyNotPresent)

		// RFC 3339 and lastUpdatedTime have second precision: the cut-off
		// is taken at a whole second, so a refresh after it is not before it.
		cut := time.Now().Truncate(time.Second)
		ginkgo.By("a pod with other valid credentials re-pulls P after the cut-off: the record is refreshed")
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-b", p.Image, v1.PullIfNotPresent, "s3")}, []*v1.Secret{s3}), verifyMustPull)
		rec := n.record(ctx, p.ID)
		gomega.Expect(rec.LastUpdatedTime.Time).NotTo(gomega.BeTemporally("<", cut))

		removeFromRuntime(ctx, p.ID)
		ginkgo.By("prune --until the cut-off keeps the refreshed record")
		gomega.Expect(n.prune(ctx, cut)).NotTo(gomega.ContainElement(p.ID))
		n.record(ctx, p.ID)
		ginkgo.By("prune --until after the refresh removes it")
		gomega.Expect(n.prune(ctx, time.Now().Add(2*time.Second))).To(gomega.ContainElement(p.ID))
		gomega.Expect(n.records(ctx).record(p.ID)).To(gomega.BeNil())
	})

	ginkgo.It("two pods pulling P at once, one with valid and one with refused credentials: only the valid one is recorded and admitted", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/concurrent")
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)
		refused := newSecret(nsY, "refused", suite.regA.Host, refusedCredential())
		run := n.ensure(ctx, []*v1.Pod{
			newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1"),
			newPod(nsY, "pod-b", p.Image, v1.PullIfNotPresent, "refused"),
		}, []*v1.Secret{s1, refused})
		gomega.Expect(run.ExitCode).To(gomega.Equal(exitNotAdmitted), "exit code; stderr:\n%s", run.Stderr)
		gomega.Expect(run.Pods).To(gomega.HaveLen(2))
		gomega.Expect(run.Pods[0].Pod).To(gomega.Equal(nsX+"/pod-a"), "pods in the order given")

		a := run.pod(nsX + "/pod-a").Containers
		gomega.Expect(a).To(gomega.HaveLen(1))
		expectContainer(a[0], resultPulled, "", verifyNotPresent, true)
		gomega.Expect(a[0].ImageRef).To(gomega.Equal(p.ID))
		b := run.pod(nsY + "/pod-b").Containers
		gomega.Expect(b).To(gomega.HaveLen(1))
		// Whether pod B's decision saw P absent or already pulled by pod A,
		// it had to pull with its own credentials and the registry refused.
		gomega.Expect(b[0]).To(gomega.And(
			gomega.HaveField("Result", resultFailed),
			gomega.HaveField("Reason", reasonErrImagePull),
			gomega.HaveField("PullAttempted", true),
			gomega.HaveField("ImageRef", ""),
			gomega.HaveField("Verification", gomega.BeElementOf(verifyNotPresent, verifyMustPull)),
		))

		listing := n.records(ctx)
		gomega.Expect(listing.Intents).To(gomega.BeEmpty(), "no intent left behind")
		rec := listing.record(p.ID)
		gomega.Expect(rec).NotTo(gomega.BeNil())
		expectSecrets(rec, p.Repo, secretCoordinates(s1, suite.user1))
	})

	ginkgo.It("with the registry down, recorded credentials are still admitted and others fail", func(ctx context.Context) {
		if suite.cfg.ContainerdCertsDir == "" {
			skipOutsideCI("E2E_CONTAINERD_CERTS_DIR is not set: containerd cannot be pointed at a registry this spec starts")
		}
		users := []framework.Credential{
			{Username: "down-1", Password: framework.RandomSuffix()},
			{Username: "down-2", Password: framework.RandomSuffix()},
		}
		reg, err := framework.StartLocalRegistry(ctx, framework.LocalRegistryOptions{
			Name:     "down",
			Dir:      ginkgo.GinkgoT().TempDir(),
			Users:    users,
			CertsDir: suite.cfg.ContainerdCertsDir,
		})
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		ginkgo.DeferCleanup(reg.Close)

		n := newNode(nodeOptions{})
		p := pushImage(ctx, &reg.Registry, &users[0], "e2e/down")
		s1 := newSecret(nsX, "s1", reg.Host, users[0])
		s3 := newSecret(nsX, "s3", reg.Host, users[1])
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyNotPresent)

		gomega.Expect(reg.Stop()).To(gomega.Succeed())
		ginkgo.By("recorded credentials are admitted, whatever the pull policy")
		expectReused(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-b", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifySecretHash)
		expectReused(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-c", p.Image, v1.PullNever, "s1")}, []*v1.Secret{s1}), verifySecretHash)

		ginkgo.By("other valid credentials must pull, and the pull fails")
		c := n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-d", p.Image, v1.PullIfNotPresent, "s3")}, []*v1.Secret{s3})
		gomega.Expect(c.ExitCode).To(gomega.Equal(exitNotAdmitted))
		gomega.Expect(c.only()).To(gomega.And(
			gomega.HaveField("Result", resultFailed),
			gomega.HaveField("Reason", gomega.BeElementOf(reasonErrImagePull, "RegistryUnavailable")),
			gomega.HaveField("Verification", verifyMustPull),
			gomega.HaveField("PullAttempted", true),
			gomega.HaveField("Message", gomega.ContainSubstring("connection refused")),
		))

		ginkgo.By("no credentials with pull policy Never are denied")
		expectDenied(n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-e", p.Image, v1.PullNever)}, nil), verifyMustPull)
		expectSecrets(n.record(ctx, p.ID), p.Repo, secretCoordinates(s1, users[0]))
	})

	ginkgo.It("with the feature gate off, behaves as before the feature and writes nothing under image_manager", func(ctx context.Context) {
		n := newNode(nodeOptions{gateOff: true})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/gate-off")
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyNotPresent)

		mark := markLog(suite.regA)
		expectReused(n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-b", p.Image, v1.PullIfNotPresent)}, nil), verifyGateOff)
		expectReused(n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-c", p.Image, v1.PullNever)}, nil), verifyGateOff)
		mark.expectNoContact(p.Path)

		var written []string
		err := filepath.WalkDir(filepath.Join(n.rootDir, "image_manager"), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				written = append(written, path)
			}
			return nil
		})
		if !os.IsNotExist(err) {
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
		}
		gomega.Expect(written).To(gomega.BeEmpty(), "files under image_manager with the gate off")
	})
})
