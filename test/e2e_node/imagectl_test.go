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
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"sigs.k8s.io/yaml"

	"k8s.io/kubernetes/test/e2e_node/framework"
)

// Exit codes of kubelet-imagectl ensure.
const (
	exitAdmitted    = 0
	exitNotAdmitted = 1
	exitBadInput    = 2
	exitEnvironment = 3
)

// Values of the tool's JSON "result" and "verification" fields.
const (
	resultReused = "Reused"
	resultPulled = "Pulled"
	resultDenied = "Denied"
	resultFailed = "Failed"

	verifyNotPresent         = "notPresent"
	verifyGateOff            = "gateOff"
	verifyPolicy             = "policy"
	verifyNotPulledByKubelet = "notPulledByKubelet"
	verifyNodeAccessible     = "nodeAccessible"
	verifySecretHash         = "secretHash"
	verifySecretCoordinates  = "secretCoordinates"
	verifyMustPull           = "mustPull"

	reasonErrImagePull      = "ErrImagePull"
	reasonErrImageNeverPull = "ErrImageNeverPull"
)

const (
	featureGate = "KubeletEnsureSecretPulledImages"
	// toolTimeout bounds one kubelet-imagectl run; a pull of the suite's
	// tiny images takes well under a second.
	toolTimeout = 2 * time.Minute
)

// event is one event of the tool's JSON output.
type event struct {
	Type    string `json:"type"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// containerResult is one container of the tool's JSON output.
type containerResult struct {
	Name          string  `json:"name"`
	Image         string  `json:"image"`
	PullPolicy    string  `json:"pullPolicy"`
	Result        string  `json:"result"`
	Reason        string  `json:"reason"`
	Message       string  `json:"message"`
	ImageRef      string  `json:"imageRef"`
	Verification  string  `json:"verification"`
	PullAttempted bool    `json:"pullAttempted"`
	Events        []event `json:"events"`
}

// podResult is one line of `kubelet-imagectl ensure -o json`.
type podResult struct {
	Pod        string            `json:"pod"`
	Events     []event           `json:"events"`
	Containers []containerResult `json:"containers"`
}

// ensureRun is the outcome of one `ensure` process.
type ensureRun struct {
	ExitCode int
	Pods     []podResult
	Stderr   string
}

// only returns the single container of the single pod of the run.
func (r *ensureRun) only() containerResult {
	ginkgo.GinkgoHelper()
	gomega.Expect(r.Pods).To(gomega.HaveLen(1), "pods in the output; stderr:\n%s", r.Stderr)
	gomega.Expect(r.Pods[0].Containers).To(gomega.HaveLen(1), "containers of pod %s", r.Pods[0].Pod)
	return r.Pods[0].Containers[0]
}

// pod returns the result for NS/NAME.
func (r *ensureRun) pod(key string) podResult {
	ginkgo.GinkgoHelper()
	for _, p := range r.Pods {
		if p.Pod == key {
			return p
		}
	}
	ginkgo.Fail(fmt.Sprintf("pod %s not in the output %+v; stderr:\n%s", key, r.Pods, r.Stderr))
	return podResult{}
}

// recordsListing is `kubelet-imagectl records list -o json`.
type recordsListing struct {
	Intents []struct {
		File  string `json:"file"`
		Image string `json:"image"`
	} `json:"intents"`
	Pulled []struct {
		File   string                                 `json:"file"`
		Record kubeletconfigv1beta1.ImagePulledRecord `json:"record"`
	} `json:"pulled"`
	Errors []struct {
		File  string `json:"file"`
		Error string `json:"error"`
	} `json:"errors"`
}

// record returns the record for imageRef, or nil.
func (l *recordsListing) record(imageRef string) *kubeletconfigv1beta1.ImagePulledRecord {
	for i := range l.Pulled {
		if l.Pulled[i].Record.ImageRef == imageRef {
			return &l.Pulled[i].Record
		}
	}
	return nil
}

// hasIntent reports whether an intent for image is on disk.
func (l *recordsListing) hasIntent(image string) bool {
	for _, in := range l.Intents {
		if in.Image == image {
			return true
		}
	}
	return false
}

// nodeOptions describe the kubelet a spec runs: its KubeletConfiguration
// and flags.
type nodeOptions struct {
	// policy is imagePullCredentialsVerificationPolicy; empty leaves it to
	// defaulting.
	policy kubeletconfigv1beta1.ImagePullCredentialsVerificationPolicy
	// allowlist is preloadedImagesVerificationAllowlist.
	allowlist []string
	// gateOff turns KubeletEnsureSecretPulledImages off with
	// --feature-gates.
	gateOff bool
	// serialize selects the serial puller (serializeImagePulls: true);
	// otherwise the parallel one with maxParallelImagePulls 4.
	serialize bool
}

// node is one kubelet (a root dir and its configuration) that kubelet-imagectl
// processes act as, one process per step: every step is a restart.
type node struct {
	opts       nodeOptions
	dir        string
	rootDir    string
	configPath string
	files      int
}

func newNode(opts nodeOptions) *node {
	ginkgo.GinkgoHelper()
	dir := ginkgo.GinkgoT().TempDir()
	n := &node{
		opts:       opts,
		dir:        dir,
		rootDir:    filepath.Join(dir, "root"),
		configPath: filepath.Join(dir, "kubelet-config.yaml"),
	}
	gomega.Expect(os.Mkdir(n.rootDir, 0o700)).To(gomega.Succeed())
	config := map[string]any{
		"apiVersion":               "kubelet.config.k8s.io/v1beta1",
		"kind":                     "KubeletConfiguration",
		"containerRuntimeEndpoint": suite.cfg.ContainerdEndpoint,
		"serializeImagePulls":      false,
		"maxParallelImagePulls":    4,
	}
	if opts.serialize {
		config["serializeImagePulls"] = true
		delete(config, "maxParallelImagePulls")
	}
	if opts.policy != "" {
		config["imagePullCredentialsVerificationPolicy"] = string(opts.policy)
	}
	if len(opts.allowlist) > 0 {
		config["preloadedImagesVerificationAllowlist"] = opts.allowlist
	}
	data, err := yaml.Marshal(config)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	gomega.Expect(os.WriteFile(n.configPath, data, 0o600)).To(gomega.Succeed())
	return n
}

// writeManifest writes obj as a YAML file in the node's dir.
func (n *node) writeManifest(prefix string, docs ...any) string {
	ginkgo.GinkgoHelper()
	var buf bytes.Buffer
	for i, doc := range docs {
		if i > 0 {
			buf.WriteString("---\n")
		}
		data, err := yaml.Marshal(doc)
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		buf.Write(data)
	}
	n.files++
	path := filepath.Join(n.dir, fmt.Sprintf("%s-%d.yaml", prefix, n.files))
	gomega.Expect(os.WriteFile(path, buf.Bytes(), 0o600)).To(gomega.Succeed())
	return path
}

// ensure runs `kubelet-imagectl ensure` for pods with secrets, the node's
// config and root dir, and no node-wide credentials.
func (n *node) ensure(ctx context.Context, pods []*v1.Pod, secrets []*v1.Secret, extraArgs ...string) *ensureRun {
	ginkgo.GinkgoHelper()
	return n.ensureWith(ctx, requireImagectl(), nil, pods, secrets, extraArgs...)
}

// ensureWith is ensure with another binary and extra environment.
func (n *node) ensureWith(ctx context.Context, binary string, env []string, pods []*v1.Pod, secrets []*v1.Secret, extraArgs ...string) *ensureRun {
	ginkgo.GinkgoHelper()
	args := []string{"ensure",
		"--config", n.configPath,
		"--root-dir", n.rootDir,
		"--runtime-endpoint", suite.cfg.ContainerdEndpoint,
		// Node-wide credentials would make pulls anonymous-looking and
		// depend on the machine; the suite only uses pod Secrets.
		"--docker-config", "",
		"-o", "json",
	}
	if n.opts.gateOff {
		args = append(args, "--feature-gates", featureGate+"=false")
	}
	for _, pod := range pods {
		args = append(args, "--pod", n.writeManifest("pod-"+pod.Name, pod))
	}
	if len(secrets) > 0 {
		docs := make([]any, 0, len(secrets))
		for _, s := range secrets {
			docs = append(docs, s)
		}
		args = append(args, "--secret", n.writeManifest("secrets", docs...))
	}
	args = append(args, extraArgs...)
	return runEnsureTool(ctx, binary, env, args...)
}

// ensureAPI runs `kubelet-imagectl ensure --kubeconfig` for the named pods
// (NAMESPACE/NAME) of the API server under test, with the node's config and
// root dir and no node-wide credentials.
func (n *node) ensureAPI(ctx context.Context, podNames []string, extraArgs ...string) *ensureRun {
	ginkgo.GinkgoHelper()
	args := []string{"ensure",
		"--kubeconfig", suite.cfg.Kubeconfig,
		"--config", n.configPath,
		"--root-dir", n.rootDir,
		"--runtime-endpoint", suite.cfg.ContainerdEndpoint,
		"--docker-config", "",
		"-o", "json",
	}
	if n.opts.gateOff {
		args = append(args, "--feature-gates", featureGate+"=false")
	}
	for _, name := range podNames {
		args = append(args, "--pod-name", name)
	}
	args = append(args, extraArgs...)
	return runEnsureTool(ctx, requireImagectl(), nil, args...)
}

// runEnsureTool runs an ensure command line and decodes its JSON lines.
func runEnsureTool(ctx context.Context, binary string, env []string, args ...string) *ensureRun {
	ginkgo.GinkgoHelper()
	stdout, stderr, code := runTool(ctx, binary, env, args...)
	run := &ensureRun{ExitCode: code, Stderr: stderr}
	scanner := bufio.NewScanner(strings.NewReader(stdout))
	scanner.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" {
			continue
		}
		var p podResult
		gomega.Expect(json.Unmarshal([]byte(line), &p)).To(gomega.Succeed(), "ensure output line %q", line)
		run.Pods = append(run.Pods, p)
	}
	return run
}

// records returns `kubelet-imagectl records list -o json` for the node,
// which must list no broken file.
func (n *node) records(ctx context.Context) *recordsListing {
	ginkgo.GinkgoHelper()
	listing := n.listRecords(ctx)
	gomega.Expect(listing.Errors).To(gomega.BeEmpty(), "records list errors")
	return listing
}

// listRecords returns `kubelet-imagectl records list -o json`, errors
// included.
func (n *node) listRecords(ctx context.Context) *recordsListing {
	ginkgo.GinkgoHelper()
	stdout, stderr, code := runTool(ctx, requireImagectl(), nil, "records", "list", "--root-dir", n.rootDir, "-o", "json")
	gomega.Expect(code).To(gomega.Equal(0), "records list exit code; stderr:\n%s", stderr)
	listing := &recordsListing{}
	gomega.Expect(json.Unmarshal([]byte(stdout), listing)).To(gomega.Succeed(), "records list output %q", stdout)
	return listing
}

// recordPath is the pulled/ file of imageRef (SPEC section 3 naming).
func (n *node) recordPath(imageRef string) string {
	sum := sha256.Sum256([]byte(imageRef))
	return filepath.Join(n.rootDir, "image_manager", "pulled", "sha256-"+hex.EncodeToString(sum[:]))
}

// record returns the record for imageRef; it must exist.
func (n *node) record(ctx context.Context, imageRef string) *kubeletconfigv1beta1.ImagePulledRecord {
	ginkgo.GinkgoHelper()
	r := n.records(ctx).record(imageRef)
	gomega.Expect(r).NotTo(gomega.BeNil(), "record for %s in %s", imageRef, n.rootDir)
	return r
}

// prunedRecord is one entry of `records prune -o json`.
type prunedRecord struct {
	File     string `json:"file"`
	ImageRef string `json:"imageRef"`
}

// prune runs `kubelet-imagectl records prune`, with --until when until is
// not zero, and returns the image refs it removed.
func (n *node) prune(ctx context.Context, until time.Time) []string {
	ginkgo.GinkgoHelper()
	args := []string{"records", "prune", "--root-dir", n.rootDir, "--runtime-endpoint", suite.cfg.ContainerdEndpoint, "-o", "json"}
	if !until.IsZero() {
		args = append(args, "--until", until.UTC().Format(time.RFC3339))
	}
	stdout, stderr, code := runTool(ctx, requireImagectl(), nil, args...)
	gomega.Expect(code).To(gomega.Equal(0), "records prune exit code; stderr:\n%s", stderr)
	var out struct {
		Removed []prunedRecord `json:"removed"`
	}
	gomega.Expect(json.Unmarshal([]byte(stdout), &out)).To(gomega.Succeed(), "records prune output %q", stdout)
	refs := make([]string, 0, len(out.Removed))
	for _, r := range out.Removed {
		refs = append(refs, r.ImageRef)
	}
	return refs
}

// runTool runs binary with args and returns its stdout, stderr and exit
// code (-1 when it did not exit normally, for example on a signal). The
// command line and output go to the spec's log.
func runTool(ctx context.Context, binary string, env []string, args ...string) (string, string, int) {
	ginkgo.GinkgoHelper()
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	code := 0
	if err != nil {
		var exitErr *exec.ExitError
		gomega.Expect(errors.As(err, &exitErr)).To(gomega.BeTrue(), "running %s %v: %v", binary, args, err)
		code = exitErr.ExitCode()
	}
	ginkgo.GinkgoWriter.Printf("$ %s %s%s\n# exit %d in %v\n%s", filepath.Base(binary), strings.Join(quoteArgs(args), " "), envSuffix(env), code, time.Since(start).Round(time.Millisecond), stdout.String())
	if stderr.Len() > 0 {
		ginkgo.GinkgoWriter.Printf("# stderr:\n%s", stderr.String())
	}
	return stdout.String(), stderr.String(), code
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t") {
			a = fmt.Sprintf("%q", a)
		}
		out[i] = a
	}
	return out
}

func envSuffix(env []string) string {
	if len(env) == 0 {
		return ""
	}
	return " (env " + strings.Join(env, " ") + ")"
}

// randomName returns a short random DNS label suffix.
func randomName() string {
	return framework.RandomSuffix()
}

// newSecret returns a kubernetes.io/dockerconfigjson Secret with cred for
// host and a new UID.
func newSecret(namespace, name, host string, cred framework.Credential) *v1.Secret {
	auth := base64.StdEncoding.EncodeToString([]byte(cred.Username + ":" + cred.Password))
	config := map[string]any{"auths": map[string]any{host: map[string]string{"auth": auth}}}
	data, err := json.Marshal(config)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return &v1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: uuid.NewUUID()},
		Type:       v1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{v1.DockerConfigJsonKey: data},
	}
}

// withCredential returns a copy of s (same coordinates and UID) holding
// cred for host: the Secret was rotated.
func withCredential(s *v1.Secret, host string, cred framework.Credential) *v1.Secret {
	rotated := newSecret(s.Namespace, s.Name, host, cred)
	rotated.UID = s.UID
	return rotated
}

// newPod returns a pod with one container running image, pulling with
// policy and the named pull Secrets.
func newPod(namespace, name, image string, policy v1.PullPolicy, secretNames ...string) *v1.Pod {
	pod := &v1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: uuid.NewUUID()},
		Spec: v1.PodSpec{
			Containers: []v1.Container{{Name: "app", Image: image, ImagePullPolicy: policy}},
		},
	}
	for _, s := range secretNames {
		pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, v1.LocalObjectReference{Name: s})
	}
	return pod
}

// credentialHash is SPEC section 4's hash of a username and password
// credential, computed here independently of the product code.
func credentialHash(cred framework.Credential) string {
	data, err := json.Marshal(struct {
		Username string `json:"username,omitempty"`
		Password string `json:"password,omitempty"`
	}{cred.Username, cred.Password})
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// secretCoordinates is a recorded Secret as the record stores it.
func secretCoordinates(s *v1.Secret, cred framework.Credential) kubeletconfigv1beta1.ImagePullSecret {
	return kubeletconfigv1beta1.ImagePullSecret{
		UID:            string(s.UID),
		Namespace:      s.Namespace,
		Name:           s.Name,
		CredentialHash: credentialHash(cred),
	}
}

// testImage is an image pushed for one spec.
type testImage struct {
	*framework.PushedImage
	// Image is the pod's image string (host/repo:tag).
	Image string
	// Repo is repo(Image): the credentialMapping key.
	Repo string
	// Path is the repository path the registry logs (vars.name).
	Path string
}

// pushImage pushes a new random image to reg as path:v1, with cred (nil for
// an anonymous push), and removes it from the runtime after the spec.
func pushImage(ctx context.Context, reg *framework.Registry, cred *framework.Credential, path string) *testImage {
	ginkgo.GinkgoHelper()
	path = path + "-" + randomName()
	pushed, err := reg.PushRandom(ctx, cred, path+":v1")
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	img := &testImage{PushedImage: pushed, Image: reg.Image(path + ":v1"), Repo: reg.Host + "/" + path, Path: path}
	removeFromRuntimeAfterSpec(pushed.ID)
	return img
}

// removeFromRuntimeAfterSpec removes an image ID from containerd when the
// spec ends (RemoveImage is idempotent).
func removeFromRuntimeAfterSpec(id string) {
	ginkgo.DeferCleanup(func(ctx context.Context) {
		err := suite.images.RemoveImage(ctx, &runtimeapi.ImageSpec{Image: id})
		gomega.Expect(err).NotTo(gomega.HaveOccurred(), "removing %s from the runtime", id)
	})
}

// preload pulls image straight through CRI, never through the tool: to the
// kubelet it is a preloaded image.
func preload(ctx context.Context, image string, cred *framework.Credential) string {
	ginkgo.GinkgoHelper()
	var auth *runtimeapi.AuthConfig
	if cred != nil {
		auth = cred.AuthConfig()
	}
	ref, err := suite.images.PullImage(ctx, &runtimeapi.ImageSpec{Image: image}, auth, nil)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "preloading %s through CRI", image)
	return ref
}

// removeFromRuntime removes an image through CRI, as image garbage
// collection would.
func removeFromRuntime(ctx context.Context, id string) {
	ginkgo.GinkgoHelper()
	gomega.Expect(suite.images.RemoveImage(ctx, &runtimeapi.ImageSpec{Image: id})).To(gomega.Succeed())
	status, err := suite.images.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: id}, false)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	gomega.Expect(status.GetImage()).To(gomega.BeNil(), "image %s still present after RemoveImage", id)
}

// logMark is a position in a registry's access log.
type logMark struct {
	log    framework.AccessLog
	offset int64
}

func markLog(reg *framework.Registry) logMark {
	ginkgo.GinkgoHelper()
	off, err := reg.AccessLog.Offset()
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return logMark{log: reg.AccessLog, offset: off}
}

// requests returns the requests for the repository path since the mark.
// The registry logs a request's first lines (which name the repository)
// before it answers, and every request of the tool was answered before the
// tool exited; the short pause covers the log writer.
func (m logMark) requests(path string) framework.AccessEntries {
	ginkgo.GinkgoHelper()
	time.Sleep(50 * time.Millisecond)
	return m.read(path)
}

func (m logMark) read(path string) framework.AccessEntries {
	ginkgo.GinkgoHelper()
	entries, _, err := m.log.Read(m.offset)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return entries.ForRepository(path)
}

// eventually waits until the requests for path since the mark hold an entry
// that keep accepts (a response's status is logged last), and returns them.
func (m logMark) eventually(path, what string, keep func(framework.AccessEntry) bool) framework.AccessEntries {
	ginkgo.GinkgoHelper()
	var reqs framework.AccessEntries
	gomega.Eventually(func() framework.AccessEntries {
		reqs = m.read(path)
		return reqs.Filter(keep)
	}).WithTimeout(5*time.Second).WithPolling(50*time.Millisecond).ShouldNot(gomega.BeEmpty(), "%s for %s in %s", what, path, m.log.Path)
	return reqs
}

// expectNoContact checks that nothing asked the registry about path since
// the mark.
func (m logMark) expectNoContact(path string) {
	ginkgo.GinkgoHelper()
	gomega.Expect(m.requests(path)).To(gomega.BeEmpty(), "registry requests for %s", path)
}

// expectRefused checks that the registry was asked about path since the
// mark, refused it with 401, and served no manifest. refusedUser is the
// user whose password the registry refused, or "" for a pull that sent no
// credentials at all.
func (m logMark) expectRefused(path, refusedUser string) {
	ginkgo.GinkgoHelper()
	reqs := m.eventually(path, "a 401", func(e framework.AccessEntry) bool { return e.Status == http.StatusUnauthorized })
	gomega.Expect(reqs.ManifestFetches()).To(gomega.BeEmpty(), "manifests served for %s: %v", path, reqs)
	if refusedUser == "" {
		gomega.Expect(reqs.Filter(func(e framework.AccessEntry) bool { return e.User != "" || e.RefusedUser != "" })).To(gomega.BeEmpty(), "credentials sent for %s: %v", path, reqs)
		return
	}
	gomega.Expect(reqs.Filter(func(e framework.AccessEntry) bool { return e.RefusedUser == refusedUser })).NotTo(gomega.BeEmpty(), "%s refused for %s: %v", refusedUser, path, reqs)
}

// expectManifestFetchedBy checks that user (empty: anonymous) fetched a
// manifest of path since the mark.
func (m logMark) expectManifestFetchedBy(path, user string) {
	ginkgo.GinkgoHelper()
	m.eventually(path, "a manifest fetched by "+user, func(e framework.AccessEntry) bool {
		return e.IsManifest() && e.Served() && (e.Method == http.MethodGet || e.Method == http.MethodHead) && e.User == user
	})
}

// Container outcomes.

// expectContainer checks one container's result.
func expectContainer(c containerResult, result, reason, verification string, pullAttempted bool) {
	ginkgo.GinkgoHelper()
	gomega.Expect(c).To(gomega.And(
		gomega.HaveField("Result", result),
		gomega.HaveField("Reason", reason),
		gomega.HaveField("Verification", verification),
		gomega.HaveField("PullAttempted", pullAttempted),
	), "container %s (%s): %+v", c.Name, c.Image, c)
	switch result {
	case resultReused, resultPulled:
		gomega.Expect(c.ImageRef).NotTo(gomega.BeEmpty(), "imageRef of an admitted container")
	default:
		gomega.Expect(c.ImageRef).To(gomega.BeEmpty(), "imageRef of a container that was not admitted")
	}
}

// haveEvent matches an event with type and reason whose message contains
// substr.
func haveEvent(eventType, reason, substr string) gomega.OmegaMatcher {
	return gomega.ContainElement(gomega.And(
		gomega.HaveField("Type", eventType),
		gomega.HaveField("Reason", reason),
		gomega.HaveField("Message", gomega.ContainSubstring(substr)),
	))
}

// expectReused checks an admitted container that was not pulled, its event
// and the run's exit code.
func expectReused(run *ensureRun, verification string) containerResult {
	ginkgo.GinkgoHelper()
	c := run.only()
	expectContainer(c, resultReused, "", verification, false)
	msg := fmt.Sprintf("Container image %q already present on machine and can be accessed by the pod", c.Image)
	if verification == verifyGateOff {
		msg = fmt.Sprintf("Container image %q already present on machine", c.Image)
	}
	gomega.Expect(c.Events).To(gomega.ContainElement(event{Type: "Normal", Reason: "Pulled", Message: msg}))
	gomega.Expect(run.ExitCode).To(gomega.Equal(exitAdmitted), "exit code; stderr:\n%s", run.Stderr)
	return c
}

// expectPulled checks a container whose pull succeeded.
func expectPulled(run *ensureRun, verification string) containerResult {
	ginkgo.GinkgoHelper()
	c := run.only()
	expectContainer(c, resultPulled, "", verification, true)
	gomega.Expect(c.Events).To(haveEvent("Normal", "Pulling", fmt.Sprintf("Pulling image %q", c.Image)))
	gomega.Expect(c.Events).To(haveEvent("Normal", "Pulled", fmt.Sprintf("Successfully pulled image %q in ", c.Image)))
	gomega.Expect(run.ExitCode).To(gomega.Equal(exitAdmitted), "exit code; stderr:\n%s", run.Stderr)
	return c
}

// expectPullFailed checks a container whose pull the registry refused.
func expectPullFailed(run *ensureRun, verification string) containerResult {
	ginkgo.GinkgoHelper()
	c := run.only()
	expectContainer(c, resultFailed, reasonErrImagePull, verification, true)
	gomega.Expect(c.Message).To(gomega.ContainSubstring("401 Unauthorized"))
	gomega.Expect(c.Events).To(haveEvent("Warning", "Failed", fmt.Sprintf("Failed to pull image %q: ", c.Image)))
	gomega.Expect(run.ExitCode).To(gomega.Equal(exitNotAdmitted), "exit code; stderr:\n%s", run.Stderr)
	return c
}

// expectDenied checks a container refused under pull policy Never.
func expectDenied(run *ensureRun, verification string) containerResult {
	ginkgo.GinkgoHelper()
	c := run.only()
	expectContainer(c, resultDenied, reasonErrImageNeverPull, verification, false)
	gomega.Expect(c.Events).To(gomega.ContainElement(event{
		Type: "Warning", Reason: "ErrImageNeverPull",
		Message: fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image),
	}))
	gomega.Expect(run.ExitCode).To(gomega.Equal(exitNotAdmitted), "exit code; stderr:\n%s", run.Stderr)
	return c
}

// expectSecrets checks the secrets recorded for repo in rec, in any order.
func expectSecrets(rec *kubeletconfigv1beta1.ImagePulledRecord, repo string, want ...kubeletconfigv1beta1.ImagePullSecret) {
	ginkgo.GinkgoHelper()
	gomega.Expect(rec.CredentialMapping).To(gomega.HaveKey(repo), "record %s", rec.ImageRef)
	entry := rec.CredentialMapping[repo]
	gomega.Expect(entry.NodePodsAccessible).To(gomega.BeFalse(), "nodePodsAccessible for %s", repo)
	gomega.Expect(entry.KubernetesSecrets).To(gomega.ConsistOf(want), "secrets recorded for %s", repo)
}
