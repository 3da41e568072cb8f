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

// Package e2enode is the node e2e suite of the image manager: it drives the
// built kubelet-imagectl binary (a fresh process per step, so every step is
// a kubelet restart) against the containerd and distribution registries that
// hack/local-up-e2e-node.sh starts, and checks the tool's JSON, its exit
// codes, the records on disk and the registries' access logs.
//
// Run it with:
//
//	make
//	hack/local-up-e2e-node.sh -- go test -count=1 -v ./test/e2e_node/
//
// Without that environment every spec is skipped, so `go test ./...` passes
// without root.
//
// The tool under test is $E2E_KUBELET_IMAGECTL (hack/test-e2e-node.sh sets
// it to _output/bin/kubelet-imagectl), else built from ./cmd/kubelet-imagectl
// before the specs run. The crash specs need a test-only build that exits
// right after the runtime's pull returned (go build -tags failpoints, fired
// by KUBELET_IMAGECTL_FAILPOINT=after-pull): $E2E_KUBELET_IMAGECTL_FAILPOINTS,
// else built the same way. Specs labelled "cri" run the CRI behaviour suite
// of pkg/kubelet/cri/behavior against containerd; the others are labelled
// "FeatureGate:KubeletEnsureSecretPulledImages", for example:
//
//	go test ./test/e2e_node/ -args -ginkgo.label-filter=cri
package e2enode

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	internalapi "k8s.io/cri-api/pkg/apis"
	"k8s.io/klog/v2"

	"k8s.io/kubernetes/test/e2e_node/framework"
)

const (
	// envImagectl names a prebuilt kubelet-imagectl (hack/test-e2e-node.sh
	// sets it to _output/bin/kubelet-imagectl); without it the suite builds
	// the tool itself.
	envImagectl = "E2E_KUBELET_IMAGECTL"
	// envFailpointImagectl names a prebuilt failpoint build of the tool
	// (go build -tags failpoints); without it the suite builds one.
	envFailpointImagectl = "E2E_KUBELET_IMAGECTL_FAILPOINTS"
	// envFailpoint is read by the failpoint build of the tool.
	envFailpoint = "KUBELET_IMAGECTL_FAILPOINT"
)

// suiteEnv is what every spec shares, set up once in
// SynchronizedBeforeSuite.
type suiteEnv struct {
	cfg *framework.Config
	// configErr is set when the environment is not configured: every spec
	// is then skipped.
	configErr error

	regA, regB, anon *framework.Registry
	// user1 and user2 are tenant A's two users of registry A.
	user1, user2 framework.Credential

	images internalapi.ImageManagerService

	// imagectl and failpointImagectl are the binaries; buildErr and
	// failpointBuildErr say why one is missing, so that only the specs
	// that need it fail.
	imagectl, failpointImagectl string
	buildErr, failpointBuildErr error
	buildDir                    string
}

var suite suiteEnv

func TestE2ENode(t *testing.T) {
	gomega.RegisterFailHandler(ginkgo.Fail)
	// The CRI client logs every failed pull; many pulls here fail on
	// purpose. Its log belongs to the spec that caused it, not to stderr.
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	_ = klogFlags.Set("logtostderr", "false")
	_ = klogFlags.Set("alsologtostderr", "false")
	klog.SetOutput(ginkgo.GinkgoWriter)
	suiteConfig, reporterConfig := ginkgo.GinkgoConfiguration()
	// Keep the whole suite inside go test's default timeout with room to
	// spare; a wedged runtime must not hang CI.
	if suiteConfig.Timeout == 0 || suiteConfig.Timeout > 15*time.Minute {
		suiteConfig.Timeout = 15 * time.Minute
	}
	ginkgo.RunSpecs(t, "Node e2e: kubelet image credential verification", suiteConfig, reporterConfig)
}

var _ = ginkgo.SynchronizedBeforeSuite(func(ctx context.Context) []byte {
	// One process runs the suite under go test; the first function does
	// everything and the second has nothing to add.
	setUpSuite(ctx)
	return nil
}, func(context.Context, []byte) {})

var _ = ginkgo.SynchronizedAfterSuite(func() {}, func(ctx context.Context) {
	if suite.images != nil {
		_ = suite.images.Close(ctx)
	}
	if suite.buildDir != "" {
		_ = os.RemoveAll(suite.buildDir)
	}
	if pluginBuild.dir != "" {
		_ = os.RemoveAll(pluginBuild.dir)
	}
})

// Every spec skips when hack/local-up-e2e-node.sh did not set up the
// environment.
var _ = ginkgo.BeforeEach(func() {
	if suite.configErr != nil {
		// Nothing configured at all: go test ./... (make test) runs the
		// suite this way by design; make test-e2e-node configures it.
		ginkgo.Skip(suite.configErr.Error())
	}
})

// skipOutsideCI skips a spec whose environment is configured but lacks a
// piece it needs, except with CI=true (.ci/run): there
// hack/local-up-e2e-node.sh sets up everything, so a missing piece is a
// broken setup, and a green run must not hide it.
func skipOutsideCI(why string) {
	ginkgo.GinkgoHelper()
	if os.Getenv("CI") == "true" {
		ginkgo.Fail("CI=true, yet this spec would skip: " + why)
	}
	ginkgo.Skip(why)
}

func setUpSuite(ctx context.Context) {
	cfg, err := framework.LoadConfig()
	if err != nil {
		if errors.Is(err, framework.ErrNotConfigured) {
			suite.configErr = err
			return
		}
		ginkgo.Fail(fmt.Sprintf("node e2e environment: %v", err))
	}
	suite.cfg = cfg
	for name, dst := range map[string]**framework.Registry{
		framework.RegistryA:    &suite.regA,
		framework.RegistryB:    &suite.regB,
		framework.RegistryAnon: &suite.anon,
	} {
		r, err := cfg.Registry(name)
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		*dst = r
	}
	gomega.Expect(suite.regA.Users).To(gomega.HaveLen(2), "registry A needs two users (E2E_REGISTRY_A_USER1, E2E_REGISTRY_A_USER2)")
	gomega.Expect(suite.regB.Users).NotTo(gomega.BeEmpty(), "registry B needs a user")
	suite.user1, suite.user2 = suite.regA.Users[0], suite.regA.Users[1]

	suite.images, err = framework.NewImageService(ctx, cfg.ContainerdEndpoint)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())

	suite.buildDir, err = os.MkdirTemp("", "e2e-node-bin-")
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	suite.imagectl, suite.buildErr = toolBinary(ctx, envImagectl, filepath.Join(suite.buildDir, "kubelet-imagectl"))
	suite.failpointImagectl, suite.failpointBuildErr = toolBinary(ctx, envFailpointImagectl, filepath.Join(suite.buildDir, "kubelet-imagectl-failpoints"), "-tags", "failpoints")
}

// toolBinary returns the binary named by env, or builds
// ./cmd/kubelet-imagectl to out with the extra build flags.
func toolBinary(ctx context.Context, env, out string, buildFlags ...string) (string, error) {
	if path := os.Getenv(env); path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("%s: %w", env, err)
		}
		return path, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	args := append([]string{"build", "-o", out}, buildFlags...)
	args = append(args, "./cmd/kubelet-imagectl")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if output, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %v: %w\n%s", args, err, output)
	}
	return out, nil
}

// repoRoot finds the module root from the test's working directory
// (test/e2e_node under go test).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// requireImagectl fails the spec when the tool could not be found or built.
func requireImagectl() string {
	ginkgo.GinkgoHelper()
	gomega.Expect(suite.buildErr).NotTo(gomega.HaveOccurred(), "kubelet-imagectl binary")
	return suite.imagectl
}

// requireFailpointImagectl fails the spec when the failpoint build of the
// tool could not be found or built.
func requireFailpointImagectl() string {
	ginkgo.GinkgoHelper()
	gomega.Expect(suite.failpointBuildErr).NotTo(gomega.HaveOccurred(), "kubelet-imagectl failpoint build")
	return suite.failpointImagectl
}
