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
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"syscall"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	v1 "k8s.io/api/core/v1"
)

var _ = ginkgo.Describe(describeFeature+"Image records fail safe", featureLabels, func() {
	var (
		n  *node
		p  *testImage
		s1 *v1.Secret
	)
	ginkgo.BeforeEach(func(ctx context.Context) {
		n = newNode(nodeOptions{})
		p = pushImage(ctx, suite.regA, &suite.user1, "e2e/fail-safe")
		s1 = newSecret(nsX, "s1", suite.regA.Host, suite.user1)
		expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyNotPresent)
	})

	ginkgo.It("records prune with the runtime unreachable removes nothing (exit code 3)", func(ctx context.Context) {
		removeFromRuntime(ctx, p.ID)
		endpoint := "unix://" + filepath.Join(n.dir, "no-runtime.sock")
		_, stderr, code := runTool(ctx, requireImagectl(), nil, "records", "prune", "--root-dir", n.rootDir, "--runtime-endpoint", endpoint, "-o", "json")
		gomega.Expect(code).To(gomega.Equal(exitEnvironment), "stderr:\n%s", stderr)
		n.record(ctx, p.ID)
	})

	ginkgo.It("records prune takes the writer's lock (exit code 3 while another writer holds it)", func(ctx context.Context) {
		removeFromRuntime(ctx, p.ID)
		lock, err := os.OpenFile(filepath.Join(n.rootDir, "image_manager", ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		ginkgo.DeferCleanup(lock.Close)
		gomega.Expect(syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)).To(gomega.Succeed())
		_, stderr, code := runTool(ctx, requireImagectl(), nil, "records", "prune", "--root-dir", n.rootDir, "--runtime-endpoint", suite.cfg.ContainerdEndpoint, "-o", "json")
		gomega.Expect(code).To(gomega.Equal(exitEnvironment), "stderr:\n%s", stderr)
		n.record(ctx, p.ID)
	})

	ginkgo.It("treats a broken intent file as an intent: the name is kubelet-pulled", func(ctx context.Context) {
		// Another image, preloaded: without the intent it would be
		// admitted without credentials under the default policy.
		q := pushImage(ctx, suite.regA, &suite.user1, "e2e/broken-intent")
		gomega.Expect(preload(ctx, q.Image, &suite.user1)).To(gomega.Equal(q.ID))
		sum := sha256.Sum256([]byte(q.Image))
		path := filepath.Join(n.rootDir, "image_manager", "pulling", "sha256-"+hex.EncodeToString(sum[:]))
		gomega.Expect(os.MkdirAll(filepath.Dir(path), 0o700)).To(gomega.Succeed())
		gomega.Expect(os.WriteFile(path, []byte("not an intent"), 0o600)).To(gomega.Succeed())

		listing := n.listRecords(ctx)
		gomega.Expect(listing.Intents).To(gomega.BeEmpty(), "a broken intent is listed among the errors only")
		gomega.Expect(listing.Errors).To(gomega.ContainElement(gomega.HaveField("File", filepath.Join("image_manager", "pulling", filepath.Base(path)))))

		expectDenied(n.ensure(ctx, []*v1.Pod{newPod(nsY, "pod-b", q.Image, v1.PullNever)}, nil), verifyMustPull)
	})

	ginkgo.It("removes leftover temporaries at start-up and never lists them", func(ctx context.Context) {
		pulled := filepath.Dir(n.recordPath(p.ID))
		leftovers := []string{filepath.Join(pulled, ".tmp-123"), filepath.Join(pulled, "sha256-abc.tmp")}
		for _, f := range leftovers {
			gomega.Expect(os.WriteFile(f, []byte("{"), 0o600)).To(gomega.Succeed())
		}
		listing := n.listRecords(ctx)
		gomega.Expect(listing.Errors).To(gomega.BeEmpty())
		gomega.Expect(listing.Pulled).To(gomega.HaveLen(1))

		expectReused(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-b", p.Image, v1.PullNever, "s1")}, []*v1.Secret{s1}), verifySecretHash)
		for _, f := range leftovers {
			gomega.Expect(f).NotTo(gomega.BeAnExistingFile(), "start-up removed the temporary")
		}
	})

	ginkgo.It("exits with code 3 when the root dir cannot hold records", func(ctx context.Context) {
		file := filepath.Join(n.dir, "not-a-dir")
		gomega.Expect(os.WriteFile(file, nil, 0o600)).To(gomega.Succeed())
		run := n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-b", p.Image, v1.PullNever, "s1")}, []*v1.Secret{s1}, "--root-dir", file)
		gomega.Expect(run.ExitCode).To(gomega.Equal(exitEnvironment), "stderr:\n%s", run.Stderr)
		gomega.Expect(run.Pods).To(gomega.BeEmpty())
	})

	ginkgo.DescribeTable("pull policy Always pulls with the pod's credentials every time",
		func(ctx context.Context, secretName string, admitted bool) {
			var secrets []*v1.Secret
			var names []string
			if secretName != "" {
				secrets, names = []*v1.Secret{s1}, []string{secretName}
			}
			mark := markLog(suite.regA)
			run := n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-b", p.Image, v1.PullAlways, names...)}, secrets)
			if admitted {
				expectPulled(run, verifyMustPull)
				mark.expectManifestFetchedBy(p.Path, suite.user1.Username)
			} else {
				expectPullFailed(run, verifyMustPull)
				mark.expectRefused(p.Path, "")
			}
			expectSecrets(n.record(ctx, p.ID), p.Repo, secretCoordinates(s1, suite.user1))
		},
		ginkgo.Entry("with S1: pulled again", "s1", true),
		ginkgo.Entry("without Secret: fails with 401", "", false),
	)
})
