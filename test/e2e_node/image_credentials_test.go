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
	"fmt"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	v1 "k8s.io/api/core/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/kubernetes/test/e2e_node/framework"
)

// Labels of every spec of the feature, as upstream writes them.
var featureLabels = ginkgo.Label("sig-node", "Serial", "FeatureGate:"+featureGate)

const (
	// describeFeature prefixes the feature's Describe texts.
	describeFeature = "[sig-node] [Serial] [FeatureGate:" + featureGate + "] "
	// nsX is tenant A's namespace (pod A, Secret S1), nsY another tenant's.
	nsX = "tenant-x"
	nsY = "tenant-y"
)

// podBRow is a row of SPEC section 9's table: what pod B presents.
type podBRow string

const (
	rowNoSecret     podBRow = "no pull secret"
	rowRefused      podBRow = "a Secret with credentials the registry refuses"
	rowSameSecret   podBRow = "the same Secret S1 (namespace X)"
	rowSameCreds    podBRow = "another Secret (namespace X) with the same credentials"
	rowOtherCreds   podBRow = "another Secret (namespace X) with other valid credentials"
	matrixImagePath         = "e2e/matrix"
)

var (
	matrixPolicies = []kubeletconfigv1beta1.ImagePullCredentialsVerificationPolicy{
		kubeletconfigv1beta1.NeverVerifyPreloadedImages,
		kubeletconfigv1beta1.AlwaysVerify,
		kubeletconfigv1beta1.NeverVerifyAllowlistedImages,
		kubeletconfigv1beta1.NeverVerify,
	}
	matrixPullPolicies = []v1.PullPolicy{v1.PullIfNotPresent, v1.PullNever}
	matrixRows         = []podBRow{rowNoSecret, rowRefused, rowSameSecret, rowSameCreds, rowOtherCreds}
)

// matrixEntries is one Entry per cell of the matrix.
func matrixEntries() []ginkgo.TableEntry {
	var entries []ginkgo.TableEntry
	for _, policy := range matrixPolicies {
		for _, pullPolicy := range matrixPullPolicies {
			for _, row := range matrixRows {
				entries = append(entries, ginkgo.Entry(fmt.Sprintf("%s, %s, pod B with %s", policy, pullPolicy, row), policy, pullPolicy, row))
			}
		}
	}
	return entries
}

var _ = ginkgo.Describe(describeFeature+"Image credential verification", featureLabels, func() {
	// SPEC section 9: P is pulled first by pod A (namespace X, Secret S1
	// with user1 of registry A), then pod B asks for P.
	ginkgo.DescribeTable("the SPEC matrix: after pod A pulled P with S1, pod B",
		func(ctx context.Context, policy kubeletconfigv1beta1.ImagePullCredentialsVerificationPolicy, pullPolicy v1.PullPolicy, row podBRow) {
			opts := nodeOptions{policy: policy}
			if policy == kubeletconfigv1beta1.NeverVerifyAllowlistedImages {
				// P is not listed; the entries are near P but miss it.
				opts.allowlist = []string{suite.regB.Host + "/" + matrixImagePath + "/*", suite.regA.Host + "/e2e/other"}
			}
			n := newNode(opts)
			p := pushImage(ctx, suite.regA, &suite.user1, matrixImagePath)
			s1 := newSecret(nsX, "s1", suite.regA.Host, suite.user1)

			ginkgo.By("pod A pulls P with S1")
			mark := markLog(suite.regA)
			c := expectPulled(n.ensure(ctx, []*v1.Pod{newPod(nsX, "pod-a", p.Image, v1.PullIfNotPresent, "s1")}, []*v1.Secret{s1}), verifyNotPresent)
			gomega.Expect(c.ImageRef).To(gomega.Equal(p.ID), "imageRef is the config digest")
			mark.expectManifestFetchedBy(p.Path, suite.user1.Username)
			expectSecrets(n.record(ctx, p.ID), p.Repo, secretCoordinates(s1, suite.user1))

			ginkgo.By("pod B asks for P: " + string(row))
			var podB *v1.Pod
			var secrets []*v1.Secret
			// The Secrets pod B does not reference are given too: the tool
			// must only use what the pod references.
			refused := newSecret(nsY, "refused", suite.regA.Host, framework.Credential{Username: suite.user1.Username, Password: suite.user1.Password + "-wrong"})
			s2 := newSecret(nsX, "s2", suite.regA.Host, suite.user1)
			s3 := newSecret(nsX, "s3", suite.regA.Host, suite.user2)
			secrets = []*v1.Secret{s1, refused, s2, s3}
			switch row {
			case rowNoSecret:
				podB = newPod(nsY, "pod-b", p.Image, pullPolicy)
			case rowRefused:
				podB = newPod(nsY, "pod-b", p.Image, pullPolicy, "refused")
			case rowSameSecret:
				podB = newPod(nsX, "pod-b", p.Image, pullPolicy, "s1")
			case rowSameCreds:
				podB = newPod(nsX, "pod-b", p.Image, pullPolicy, "s2")
			case rowOtherCreds:
				podB = newPod(nsX, "pod-b", p.Image, pullPolicy, "s3")
			}
			mark = markLog(suite.regA)
			run := n.ensure(ctx, []*v1.Pod{podB}, secrets)
			onlyS1 := []kubeletconfigv1beta1.ImagePullSecret{secretCoordinates(s1, suite.user1)}

			// Whatever happened, no pull is left in flight on disk.
			ginkgo.DeferCleanup(func(ctx context.Context) {
				gomega.Expect(n.records(ctx).Intents).To(gomega.BeEmpty(), "intents left behind")
			})

			if policy == kubeletconfigv1beta1.NeverVerify {
				// NeverVerify admits any present image without looking at
				// the record, and writes nothing for the reuse.
				c := expectReused(run, verifyPolicy)
				gomega.Expect(c.ImageRef).To(gomega.Equal(p.ID))
				mark.expectNoContact(p.Path)
				expectSecrets(n.record(ctx, p.ID), p.Repo, onlyS1...)
				return
			}

			switch {
			case row == rowNoSecret || row == rowRefused:
				if pullPolicy == v1.PullIfNotPresent {
					expectPullFailed(run, verifyMustPull)
					if row == rowRefused {
						mark.expectRefused(p.Path, suite.user1.Username)
					} else {
						mark.expectRefused(p.Path, "")
					}
				} else {
					expectDenied(run, verifyMustPull)
					mark.expectNoContact(p.Path)
				}
				expectSecrets(n.record(ctx, p.ID), p.Repo, onlyS1...)
			case row == rowSameSecret:
				c := expectReused(run, verifySecretHash)
				gomega.Expect(c.ImageRef).To(gomega.Equal(p.ID))
				mark.expectNoContact(p.Path)
				expectSecrets(n.record(ctx, p.ID), p.Repo, onlyS1...)
			case row == rowSameCreds:
				c := expectReused(run, verifySecretHash)
				gomega.Expect(c.ImageRef).To(gomega.Equal(p.ID))
				mark.expectNoContact(p.Path)
				// The record gains S2's coordinates with the same hash.
				expectSecrets(n.record(ctx, p.ID), p.Repo, secretCoordinates(s1, suite.user1), secretCoordinates(s2, suite.user1))
			case row == rowOtherCreds && pullPolicy == v1.PullIfNotPresent:
				c := expectPulled(run, verifyMustPull)
				gomega.Expect(c.ImageRef).To(gomega.Equal(p.ID))
				mark.expectManifestFetchedBy(p.Path, suite.user2.Username)
				expectSecrets(n.record(ctx, p.ID), p.Repo, secretCoordinates(s1, suite.user1), secretCoordinates(s3, suite.user2))
			case row == rowOtherCreds && pullPolicy == v1.PullNever:
				expectDenied(run, verifyMustPull)
				mark.expectNoContact(p.Path)
				expectSecrets(n.record(ctx, p.ID), p.Repo, onlyS1...)
			default:
				ginkgo.Fail(fmt.Sprintf("no expectation for row %q", row))
			}
		},
		matrixEntries(),
	)
})
