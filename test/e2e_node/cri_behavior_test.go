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

	"k8s.io/kubernetes/pkg/kubelet/cri/behavior"
)

// The CRI behaviour suite that the hermetic tests run against the embedded
// image service, here against containerd, so that the embedded runtime
// cannot drift from the real one unnoticed.
var _ = ginkgo.Describe("[sig-node] CRI image service behaviour", ginkgo.Label("sig-node", "cri"), func() {
	var fixture *behavior.Fixture

	ginkgo.BeforeEach(func() {
		// Every htpasswd user of registry A may pull every repository
		// there, so the refused credentials are a valid user with a wrong
		// password.
		valid := behavior.Credentials{Username: suite.user1.Username, Password: suite.user1.Password}
		suffix := randomName()
		fixture = &behavior.Fixture{
			Images: suite.images,
			// No raw RuntimeService client: the cases that need one are
			// EmbeddedOnly and skipped here.
			Private: behavior.Private{
				Repo:      suite.regA.Host + "/behavior/private-" + suffix,
				OtherRepo: suite.regA.Host + "/behavior/other-" + suffix,
				Valid:     valid,
				Refused:   behavior.Credentials{Username: valid.Username, Password: valid.Password + "-wrong"},
			},
			Public: suite.anon.Host + "/behavior/public-" + suffix,
			Push:   behavior.NewPusher(map[string]behavior.Credentials{suite.regA.Host: valid}),
		}
		gomega.Expect(fixture.Validate()).To(gomega.Succeed())
	})

	for _, c := range behavior.Cases() {
		ginkgo.It(c.Name, func(ctx context.Context) {
			if c.EmbeddedOnly {
				ginkgo.Skip("expectation of the embedded image service only")
			}
			c.Run(ctx, ginkgo.GinkgoT(), fixture)
		})
	}
})
