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
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
)

var _ = ginkgo.Describe(describeFeature+"Image records on disk", featureLabels, func() {
	ginkgo.It("honours a v1alpha1 record written by a released kubelet, and migrates it at start-up only", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/v1alpha1")
		gomega.Expect(preload(ctx, p.Image, &suite.user1)).To(gomega.Equal(p.ID))
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)
		s2 := newSecret(nsX, "s2", suite.regA.Host, suite.user1)

		// What a 1.33 kubelet writes after pod A pulled P with S1: the hash
		// must match the one this tree computes.
		old := map[string]any{
			"kind":            "ImagePulledRecord",
			"apiVersion":      "kubelet.config.k8s.io/v1alpha1",
			"lastUpdatedTime": metav1.NewTime(time.Now().Add(-time.Hour).Truncate(time.Second)),
			"imageRef":        p.ID,
			"credentialMapping": map[string]any{
				p.Repo: map[string]any{"kubernetesSecrets": []kubeletconfigv1beta1.ImagePullSecret{secretCoordinates(s1, suite.user1)}},
			},
		}
		data, err := json.Marshal(old)
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		path := n.recordPath(p.ID)
		gomega.Expect(os.MkdirAll(filepath.Dir(path), 0o700)).To(gomega.Succeed())
		gomega.Expect(os.WriteFile(path, append(data, '\n'), 0o600)).To(gomega.Succeed())

		ginkgo.By("records list reads it and rewrites nothing")
		expectSecrets(n.record(ctx, p.ID), p.Repo, secretCoordinates(s1, suite.user1))
		gomega.Expect(os.ReadFile(path)).To(gomega.Equal(append(data, '\n')), "records list left the file alone")

		ginkgo.By("a pod without Secret and pull policy Never is denied: the name is kubelet-pulled")
		mark := markLog(suite.regA)
		expectDenied(n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-b", p.Image, v1.PullNever)}, nil), verifyMustPull)
		ginkgo.By("a pod with another Secret holding the same credentials matches the released kubelet's hash")
		expectReused(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-c", p.Image, v1.PullNever, "s2")}, []*v1.Secret{s2}), verifySecretHash)
		mark.expectNoContact(p.Path)

		var migrated struct {
			APIVersion string `json:"apiVersion"`
		}
		raw, err := os.ReadFile(path)
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		gomega.Expect(json.Unmarshal(raw, &migrated)).To(gomega.Succeed())
		gomega.Expect(migrated.APIVersion).To(gomega.Equal("kubelet.config.k8s.io/v1beta1"), "start-up rewrote the file in the current version")
		expectSecrets(n.record(ctx, p.ID), p.Repo, secretCoordinates(s1, suite.user1), secretCoordinates(s2, suite.user1))
	})

	ginkgo.DescribeTable("never grants anything from a broken record, and a successful pull repairs it",
		func(ctx context.Context, breakRecord func(good string, p *testImage) string) {
			n := newNode(nodeOptions{})
			p := pushImage(ctx, suite.regA, &suite.user1, "e2e/poisoned")
			s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)
			expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyNotPresent)
			path := n.recordPath(p.ID)
			good, err := os.ReadFile(path)
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			gomega.Expect(os.WriteFile(path, []byte(breakRecord(string(good), p)), 0o600)).To(gomega.Succeed())

			ginkgo.By("records list shows the file among the errors only")
			listing := n.listRecords(ctx)
			gomega.Expect(listing.Pulled).To(gomega.BeEmpty())
			gomega.Expect(listing.Errors).To(gomega.ContainElement(gomega.HaveField("File", filepath.Join("image_manager", "pulled", filepath.Base(path)))))

			ginkgo.By("with pull policy Never, neither S1 nor no Secret is admitted: the broken record is not absent (absent would look preloaded)")
			mark := markLog(suite.regA)
			expectDenied(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-b", p.Image, v1.PullNever, "s1")}, []*v1.Secret{s1}), verifyMustPull)
			expectDenied(n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-c", p.Image, v1.PullNever)}, nil), verifyMustPull)
			mark.expectNoContact(p.Path)

			ginkgo.By("a pod with S1 and IfNotPresent re-pulls and the record is repaired")
			expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-d", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyMustPull)
			mark.expectManifestFetchedBy(p.Path, suite.user1.Username)
			expectSecrets(n.record(ctx, p.ID), p.Repo, secretCoordinates(s1, suite.user1))
		},
		ginkgo.Entry("truncated JSON", func(string, *testImage) string {
			return `{"kind":"ImagePulledRecord","apiVersion":`
		}),
		ginkgo.Entry("empty file (a rename without fsync)", func(string, *testImage) string { return "" }),
		ginkgo.Entry("imageRef that does not hash to the file name", func(good string, p *testImage) string {
			return strings.Replace(good, p.ID, "sha256:"+strings.Repeat("0", 64), 1)
		}),
		ginkgo.Entry("unknown field", func(good string, _ *testImage) string {
			return strings.Replace(good, `"imageRef":`, `"grantEveryone":true,"imageRef":`, 1)
		}),
		ginkgo.Entry("duplicate field", func(good string, p *testImage) string {
			return strings.Replace(good, `"imageRef":`, fmt.Sprintf(`"imageRef":%q,"imageRef":`, p.ID), 1)
		}),
		ginkgo.Entry("wrong kind", func(good string, _ *testImage) string {
			return strings.Replace(good, `"kind":"ImagePulledRecord"`, `"kind":"ImagePullIntent"`, 1)
		}),
		ginkgo.Entry("unknown apiVersion", func(good string, _ *testImage) string {
			return strings.Replace(good, `kubelet.config.k8s.io/v1beta1`, `kubelet.config.k8s.io/v2`, 1)
		}),
	)

	ginkgo.It("writes private files atomically: directories 0700, files 0600, no temporaries left", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/modes")
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyNotPresent)
		for _, dir := range []string{"pulled", "pulling"} {
			fi, err := os.Stat(filepath.Join(n.rootDir, "image_manager", dir))
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			gomega.Expect(fi.Mode().Perm()).To(gomega.Equal(os.FileMode(0o700)), "mode of %s", dir)
			entries, err := os.ReadDir(filepath.Join(n.rootDir, "image_manager", dir))
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			for _, e := range entries {
				gomega.Expect(e.Name()).To(gomega.HavePrefix("sha256-"), "only final files in %s", dir)
				info, err := e.Info()
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(info.Mode().Perm()).To(gomega.Equal(os.FileMode(0o600)), "mode of %s/%s", dir, e.Name())
			}
		}
		data, err := os.ReadFile(n.recordPath(p.ID))
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		gomega.Expect(string(data)).To(gomega.HavePrefix(`{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":`))
		gomega.Expect(string(data)).To(gomega.HaveSuffix("}}}\n"))
	})

	ginkgo.It("refuses to share a root dir with another writer (exit code 3), while records list still reads it", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/locked")
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyNotPresent)

		// The test process plays the running kubelet holding the lock.
		lock, err := os.OpenFile(filepath.Join(n.rootDir, "image_manager", ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		ginkgo.DeferCleanup(lock.Close)
		gomega.Expect(syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)).To(gomega.Succeed())

		run := n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-b", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1})
		gomega.Expect(run.ExitCode).To(gomega.Equal(exitEnvironment), "stderr:\n%s", run.Stderr)
		gomega.Expect(run.Pods).To(gomega.BeEmpty())
		expectSecrets(n.record(ctx, p.ID), p.Repo, secretCoordinates(s1, suite.user1))

		ginkgo.By("--dry-run takes no lock and decides next to the running writer")
		dry := n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-c", p.Image, v1.PullNever, "s1")}, []*v1.Secret{s1}, "--dry-run")
		expectReused(dry, verifySecretHash)
	})

	ginkgo.It("exits with code 3 when the runtime is unreachable", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		endpoint := "unix://" + filepath.Join(n.dir, "no-runtime.sock")
		run := n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", suite.regA.Image("e2e/unreachable:v1"), v1.PullIfNotPresent)}, nil, "--runtime-endpoint", endpoint)
		gomega.Expect(run.ExitCode).To(gomega.Equal(exitEnvironment), "stderr:\n%s", run.Stderr)
		gomega.Expect(run.Pods).To(gomega.BeEmpty())
	})

	ginkgo.It("--dry-run decides without pulling or writing anything", func(ctx context.Context) {
		n := newNode(nodeOptions{})
		p := pushImage(ctx, suite.regA, &suite.user1, "e2e/dry-run")
		s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)

		ginkgo.By("an absent image would be pulled")
		mark := markLog(suite.regA)
		dry := n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}, "--dry-run")
		gomega.Expect(dry.only()).To(gomega.And(gomega.HaveField("Result", "WouldPull"), gomega.HaveField("Verification", verifyNotPresent)))
		gomega.Expect(dry.ExitCode).To(gomega.Equal(exitAdmitted))
		mark.expectNoContact(p.Path)
		status, err := suite.images.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: p.Image}, false)
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		gomega.Expect(status.GetImage()).To(gomega.BeNil(), "nothing was pulled")
		listing := n.records(ctx)
		gomega.Expect(listing.Intents).To(gomega.BeEmpty())
		gomega.Expect(listing.Pulled).To(gomega.BeEmpty())

		ginkgo.By("after a real pull, a pod that must verify would pull, and the record is untouched")
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyNotPresent)
		before, err := os.ReadFile(n.recordPath(p.ID))
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		s2 := newSecret(nsX, "s2", suite.regA.Host, suite.user1)
		mark = markLog(suite.regA)
		dry = n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-b", p.Image, v1.PullIfNotPresent)}, nil, "--dry-run")
		gomega.Expect(dry.only()).To(gomega.And(gomega.HaveField("Result", "WouldPull"), gomega.HaveField("Verification", verifyMustPull)))
		ginkgo.By("a hash match that would add coordinates writes nothing either")
		expectReused(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-c", p.Image, v1.PullNever, "s2")}, []*v1.Secret{s2}, "--dry-run"), verifySecretHash)
		mark.expectNoContact(p.Path)
		gomega.Expect(os.ReadFile(n.recordPath(p.ID))).To(gomega.Equal(before))
		gomega.Expect(n.records(ctx).Intents).To(gomega.BeEmpty())
	})
})
