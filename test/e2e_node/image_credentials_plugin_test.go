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
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"sigs.k8s.io/yaml"

	"k8s.io/kubernetes/test/e2e_node/framework"
)

// The token exchange plugin of test/e2e_node/plugins/tokenexchange, as the
// specs below configure it.
const (
	exchangePlugin     = "token-exchange-credential-provider"
	exchangeAudience   = "tokenexchange.e2e.example"
	tenantAnnotation   = "tokenexchange.e2e.example/tenant"
	verifyServiceAcct  = "serviceAccount"
	saTokenFeatureGate = "KubeletServiceAccountTokenForCredentialProviders"
)

// pluginBuild builds the plugin once per suite run.
var pluginBuild struct {
	once sync.Once
	dir  string
	err  error
}

// requireExchangePlugin returns the bin dir holding the built plugin.
func requireExchangePlugin(ctx context.Context) string {
	ginkgo.GinkgoHelper()
	pluginBuild.once.Do(func() {
		root, err := repoRoot()
		if err != nil {
			pluginBuild.err = err
			return
		}
		dir, err := os.MkdirTemp("", "e2e-node-plugins-")
		if err != nil {
			pluginBuild.err = err
			return
		}
		pluginBuild.dir = dir
		buildCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(buildCtx, "go", "build", "-o", filepath.Join(dir, exchangePlugin), "./test/e2e_node/plugins/tokenexchange")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			pluginBuild.err = err
			ginkgo.GinkgoWriter.Printf("building the plugin:\n%s", out)
		}
	})
	gomega.Expect(pluginBuild.err).NotTo(gomega.HaveOccurred(), "building the token exchange plugin")
	return pluginBuild.dir
}

// requireAPIServer skips a spec when no API server runs (hack/local-up-e2e-node.sh
// always starts one) and returns an admin client.
func requireAPIServer() kubernetes.Interface {
	ginkgo.GinkgoHelper()
	if suite.cfg.Kubeconfig == "" {
		skipOutsideCI("no API server: set " + framework.EnvKubeconfig + " (hack/local-up-e2e-node.sh starts one)")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", suite.cfg.Kubeconfig)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	client, err := kubernetes.NewForConfig(cfg)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return client
}

// apiNamespace creates a namespace for the spec and deletes it after.
func apiNamespace(ctx context.Context, client kubernetes.Interface, prefix string) string {
	ginkgo.GinkgoHelper()
	ns, err := client.CoreV1().Namespaces().Create(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}, metav1.CreateOptions{})
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	ginkgo.DeferCleanup(func(ctx context.Context) {
		err := client.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
		}
	})
	// Pods need a default service account; no controller manager makes it.
	apiServiceAccount(ctx, client, ns.Name, "default", "")
	return ns.Name
}

// apiServiceAccount creates a ServiceAccount, annotated with its tenant
// unless tenant is empty.
func apiServiceAccount(ctx context.Context, client kubernetes.Interface, namespace, name, tenant string) *v1.ServiceAccount {
	ginkgo.GinkgoHelper()
	sa := &v1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	if tenant != "" {
		sa.Annotations = map[string]string{tenantAnnotation: tenant}
	}
	created, err := client.CoreV1().ServiceAccounts(namespace).Create(ctx, sa, metav1.CreateOptions{})
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return created
}

// recreateServiceAccount deletes a ServiceAccount and creates it again under
// the same name: it gets a new UID.
func recreateServiceAccount(ctx context.Context, client kubernetes.Interface, old *v1.ServiceAccount) *v1.ServiceAccount {
	ginkgo.GinkgoHelper()
	gomega.Expect(client.CoreV1().ServiceAccounts(old.Namespace).Delete(ctx, old.Name, metav1.DeleteOptions{})).To(gomega.Succeed())
	gomega.Eventually(ctx, func(ctx context.Context) bool {
		_, err := client.CoreV1().ServiceAccounts(old.Namespace).Get(ctx, old.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}).WithTimeout(30 * time.Second).Should(gomega.BeTrue())
	sa := apiServiceAccount(ctx, client, old.Namespace, old.Name, old.Annotations[tenantAnnotation])
	gomega.Expect(sa.UID).NotTo(gomega.Equal(old.UID))
	return sa
}

// apiPod creates a Pod running one container per image with the service
// account and pull Secrets, and returns "namespace/name".
func apiPod(ctx context.Context, client kubernetes.Interface, namespace, name, serviceAccount string, policy v1.PullPolicy, images []string, secretNames ...string) string {
	ginkgo.GinkgoHelper()
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       v1.PodSpec{ServiceAccountName: serviceAccount},
	}
	for i, image := range images {
		pod.Spec.Containers = append(pod.Spec.Containers, v1.Container{Name: "c" + string(rune('0'+i)), Image: image, ImagePullPolicy: policy})
	}
	for _, s := range secretNames {
		pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, v1.LocalObjectReference{Name: s})
	}
	_, err := client.CoreV1().Pods(namespace).Create(ctx, pod, metav1.CreateOptions{})
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return namespace + "/" + name
}

// exchangeSetup is the plugin's configuration for one spec.
type exchangeSetup struct {
	// binDir holds the plugin; configPath is the kubelet's
	// CredentialProviderConfig; execLog the plugin's exec log.
	binDir, configPath, execLog string
}

// exchangeOptions vary the plugin and its provider entry.
type exchangeOptions struct {
	// nodeMode configures a provider without tokenAttributes whose plugin
	// answers with node credentials (tenant A's second user).
	nodeMode bool
	// cacheType is tokenAttributes.cacheType (ServiceAccount by default).
	cacheType string
	// cacheKeyType and cacheDuration are the plugin's response fields.
	cacheKeyType  string
	cacheDuration string
	// fail is the plugin's failure knob (TOKEN_EXCHANGE_FAIL).
	fail string
}

// setUpExchange writes the plugin's config (tenant a: registry A's first
// user; tenant b: registry B's user) and the kubelet's provider config.
func setUpExchange(ctx context.Context, n *node, opts exchangeOptions) *exchangeSetup {
	ginkgo.GinkgoHelper()
	s := &exchangeSetup{
		binDir:     requireExchangePlugin(ctx),
		configPath: filepath.Join(n.dir, "credential-providers.yaml"),
		execLog:    filepath.Join(n.dir, "plugin-exec.log"),
	}
	cred := func(c framework.Credential) map[string]string {
		return map[string]string{"username": c.Username, "password": c.Password}
	}
	pluginConfig := map[string]any{
		"audience":         exchangeAudience,
		"tenantAnnotation": tenantAnnotation,
		"tenants": map[string]any{
			"a": map[string]any{suite.regA.Host: cred(suite.user1)},
			"b": map[string]any{suite.regB.Host: cred(suite.regB.Users[0])},
		},
		"node": map[string]any{suite.regA.Host: cred(suite.user2)},
	}
	if opts.nodeMode {
		pluginConfig["mode"] = "node"
	}
	if opts.cacheKeyType != "" {
		pluginConfig["cacheKeyType"] = opts.cacheKeyType
	}
	if opts.cacheDuration != "" {
		pluginConfig["cacheDuration"] = opts.cacheDuration
	}
	pluginConfigPath := filepath.Join(n.dir, "token-exchange.json")
	data, err := json.Marshal(pluginConfig)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	gomega.Expect(os.WriteFile(pluginConfigPath, data, 0o600)).To(gomega.Succeed())

	env := []map[string]string{
		{"name": "TOKEN_EXCHANGE_EXEC_LOG", "value": s.execLog},
		{"name": "TOKEN_EXCHANGE_KUBECONFIG", "value": suite.cfg.Kubeconfig},
	}
	if opts.fail != "" {
		env = append(env, map[string]string{"name": "TOKEN_EXCHANGE_FAIL", "value": opts.fail})
	}
	provider := map[string]any{
		"name":                 exchangePlugin,
		"apiVersion":           "credentialprovider.kubelet.k8s.io/v1",
		"matchImages":          []string{suite.regA.Host, suite.regB.Host},
		"defaultCacheDuration": "5m",
		"args":                 []string{"--config=" + pluginConfigPath},
		"env":                  env,
	}
	if !opts.nodeMode {
		cacheType := opts.cacheType
		if cacheType == "" {
			cacheType = "ServiceAccount"
		}
		provider["tokenAttributes"] = map[string]any{
			"serviceAccountTokenAudience":          exchangeAudience,
			"cacheType":                            cacheType,
			"requireServiceAccount":                true,
			"requiredServiceAccountAnnotationKeys": []string{tenantAnnotation},
		}
	}
	config := map[string]any{
		"apiVersion": "kubelet.config.k8s.io/v1",
		"kind":       "CredentialProviderConfig",
		"providers":  []any{provider},
	}
	data, err = yaml.Marshal(config)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	gomega.Expect(os.WriteFile(s.configPath, data, 0o600)).To(gomega.Succeed())
	return s
}

// args are the tool's plugin flags.
func (s *exchangeSetup) args() []string {
	return []string{"--image-credential-provider-config", s.configPath, "--image-credential-provider-bin-dir", s.binDir}
}

// pluginExec is one line of the plugin's exec log.
type pluginExec struct {
	Image          string `json:"image"`
	Mode           string `json:"mode"`
	ServiceAccount string `json:"serviceAccount"`
	Tenant         string `json:"tenant"`
	Result         string `json:"result"`
}

// takeExecs returns the plugin's execs since the last call and empties the log.
func (s *exchangeSetup) takeExecs() []pluginExec {
	ginkgo.GinkgoHelper()
	data, err := os.ReadFile(s.execLog)
	if os.IsNotExist(err) {
		return nil
	}
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	gomega.Expect(os.Truncate(s.execLog, 0)).To(gomega.Succeed())
	var out []pluginExec
	scanner := bufio.NewScanner(strings.NewReader(string(data)))
	for scanner.Scan() {
		var e pluginExec
		gomega.Expect(json.Unmarshal(scanner.Bytes(), &e)).To(gomega.Succeed(), "exec log line %q", scanner.Text())
		out = append(out, e)
	}
	return out
}

// recordedServiceAccount is a service account as the record stores it.
func recordedServiceAccount(sa *v1.ServiceAccount) kubeletconfigv1beta1.ImagePullServiceAccount {
	return kubeletconfigv1beta1.ImagePullServiceAccount{UID: string(sa.UID), Namespace: sa.Namespace, Name: sa.Name}
}

// manifestFetches returns registry A's manifest requests for img since offset.
func manifestFetches(reg *framework.Registry, img *testImage, offset int64) framework.AccessEntries {
	ginkgo.GinkgoHelper()
	entries, _, err := reg.AccessLog.Read(offset)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return entries.ForRepository(img.Path).ManifestFetches()
}

var _ = ginkgo.Describe("[sig-node] [Serial] [FeatureGate:KubeletEnsureSecretPulledImages] [FeatureGate:KubeletServiceAccountTokenForCredentialProviders] credential provider plugins",
	ginkgo.Label("FeatureGate:KubeletEnsureSecretPulledImages", "FeatureGate:KubeletServiceAccountTokenForCredentialProviders", "apiserver"), func() {
		var (
			client       kubernetes.Interface
			nsA, nsB     string
			builder      *v1.ServiceAccount
			otherTenant  *v1.ServiceAccount
			untenanted   *v1.ServiceAccount
			privateImage *testImage
		)
		ginkgo.BeforeEach(func(ctx context.Context) {
			client = requireAPIServer()
			nsA = apiNamespace(ctx, client, "tenant-a")
			nsB = apiNamespace(ctx, client, "tenant-b")
			builder = apiServiceAccount(ctx, client, nsA, "builder", "a")
			otherTenant = apiServiceAccount(ctx, client, nsB, "builder", "b")
			untenanted = apiServiceAccount(ctx, client, nsB, "untenanted", "")
			privateImage = pushImage(ctx, suite.regA, &suite.user1, "plugin/private")
		})

		ginkgo.It("records the service account of a plugin pull and lets only that service account reuse the image", func(ctx context.Context) {
			n := newNode(nodeOptions{policy: kubeletconfigv1beta1.AlwaysVerify})
			plugin := setUpExchange(ctx, n, exchangeOptions{})

			ginkgo.By("a pod of tenant A's service account pulls with the token exchange's credentials")
			run := n.ensureAPI(ctx, []string{apiPod(ctx, client, nsA, "first", "builder", v1.PullIfNotPresent, []string{privateImage.Image})}, plugin.args()...)
			gomega.Expect(run.ExitCode).To(gomega.Equal(exitAdmitted), "stderr: %s", run.Stderr)
			c := run.only()
			gomega.Expect(c.Result).To(gomega.Equal(resultPulled))
			gomega.Expect(c.Verification).To(gomega.Equal(verifyNotPresent))
			gomega.Expect(plugin.takeExecs()).To(gomega.Equal([]pluginExec{{Image: privateImage.Image, Mode: "serviceAccount", ServiceAccount: nsA + "/builder", Tenant: "a", Result: "ok"}}))
			record := n.record(ctx, privateImage.ID)
			gomega.Expect(record.CredentialMapping[privateImage.Repo]).To(gomega.Equal(kubeletconfigv1beta1.ImagePullCredentials{
				KubernetesServiceAccounts: []kubeletconfigv1beta1.ImagePullServiceAccount{recordedServiceAccount(builder)},
			}))

			ginkgo.By("another pod of the same service account reuses it without contacting the registry")
			for _, policy := range []v1.PullPolicy{v1.PullNever, v1.PullIfNotPresent} {
				offset, err := suite.regA.AccessLog.Offset()
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				run = n.ensureAPI(ctx, []string{apiPod(ctx, client, nsA, "same-sa-"+strings.ToLower(string(policy)), "builder", policy, []string{privateImage.Image})}, plugin.args()...)
				gomega.Expect(run.ExitCode).To(gomega.Equal(exitAdmitted), "stderr: %s", run.Stderr)
				c = run.only()
				gomega.Expect(c.Result).To(gomega.Equal(resultReused))
				gomega.Expect(c.Verification).To(gomega.Equal(verifyServiceAcct))
				gomega.Expect(c.PullAttempted).To(gomega.BeFalse())
				gomega.Expect(manifestFetches(suite.regA, privateImage, offset)).To(gomega.BeEmpty(), "registry requests for a reused image")
			}

			ginkgo.By("a pod of another tenant's service account must pull, and the registry refuses it")
			mark := markLog(suite.regA)
			run = n.ensureAPI(ctx, []string{apiPod(ctx, client, nsB, "other-sa", "builder", v1.PullIfNotPresent, []string{privateImage.Image})}, plugin.args()...)
			gomega.Expect(run.ExitCode).To(gomega.Equal(exitNotAdmitted))
			c = run.only()
			gomega.Expect(c.Result).To(gomega.Equal(resultFailed))
			gomega.Expect(c.Reason).To(gomega.Equal(reasonErrImagePull))
			gomega.Expect(c.Verification).To(gomega.Equal(verifyMustPull))
			gomega.Expect(c.Message).To(gomega.ContainSubstring("401"))
			// Tenant b's credentials are for registry B only: the pull to
			// registry A goes without credentials and the registry refuses it.
			mark.expectRefused(privateImage.Path, "")

			ginkgo.By("with Never the other tenant's pod is refused")
			run = n.ensureAPI(ctx, []string{apiPod(ctx, client, nsB, "other-sa-never", "builder", v1.PullNever, []string{privateImage.Image})}, plugin.args()...)
			c = run.only()
			gomega.Expect(c.Result).To(gomega.Equal(resultDenied))
			gomega.Expect(c.Reason).To(gomega.Equal(reasonErrImageNeverPull))
			gomega.Expect(n.record(ctx, privateImage.ID).CredentialMapping[privateImage.Repo].KubernetesServiceAccounts).To(
				gomega.Equal([]kubeletconfigv1beta1.ImagePullServiceAccount{recordedServiceAccount(builder)}), "only tenant A's account on record")
			_ = otherTenant
		})

		ginkgo.It("makes a pod of a recreated service account (same name, new UID) pull again", func(ctx context.Context) {
			n := newNode(nodeOptions{})
			plugin := setUpExchange(ctx, n, exchangeOptions{})
			run := n.ensureAPI(ctx, []string{apiPod(ctx, client, nsA, "first", "builder", v1.PullIfNotPresent, []string{privateImage.Image})}, plugin.args()...)
			gomega.Expect(run.only().Result).To(gomega.Equal(resultPulled), "stderr: %s", run.Stderr)

			recreated := recreateServiceAccount(ctx, client, builder)
			run = n.ensureAPI(ctx, []string{apiPod(ctx, client, nsA, "recreated-never", "builder", v1.PullNever, []string{privateImage.Image})}, plugin.args()...)
			c := run.only()
			gomega.Expect(c.Result).To(gomega.Equal(resultDenied), "stderr: %s", run.Stderr)
			gomega.Expect(c.Verification).To(gomega.Equal(verifyMustPull))

			run = n.ensureAPI(ctx, []string{apiPod(ctx, client, nsA, "recreated", "builder", v1.PullIfNotPresent, []string{privateImage.Image})}, plugin.args()...)
			c = run.only()
			gomega.Expect(c.Result).To(gomega.Equal(resultPulled), "stderr: %s", run.Stderr)
			gomega.Expect(c.Verification).To(gomega.Equal(verifyMustPull))
			gomega.Expect(n.record(ctx, privateImage.ID).CredentialMapping[privateImage.Repo].KubernetesServiceAccounts).To(
				gomega.ConsistOf(recordedServiceAccount(builder), recordedServiceAccount(recreated)))
		})

		ginkgo.It("fails safe when the plugin is down: nothing granted, pulled or recorded", func(ctx context.Context) {
			n := newNode(nodeOptions{})
			plugin := setUpExchange(ctx, n, exchangeOptions{})
			run := n.ensureAPI(ctx, []string{apiPod(ctx, client, nsA, "first", "builder", v1.PullIfNotPresent, []string{privateImage.Image})}, plugin.args()...)
			gomega.Expect(run.only().Result).To(gomega.Equal(resultPulled), "stderr: %s", run.Stderr)
			before := n.record(ctx, privateImage.ID)
			newImage := pushImage(ctx, suite.regA, &suite.user1, "plugin/new")

			for _, fail := range []string{"crash", "garbage", "wrongkind"} {
				ginkgo.By("the plugin answers with " + fail)
				down := setUpExchange(ctx, n, exchangeOptions{fail: fail})
				offset, err := suite.regA.AccessLog.Offset()
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				run = n.ensureAPI(ctx, []string{
					apiPod(ctx, client, nsA, "down-never-"+fail, "builder", v1.PullNever, []string{privateImage.Image}),
					apiPod(ctx, client, nsA, "down-new-"+fail, "builder", v1.PullIfNotPresent, []string{newImage.Image}),
				}, down.args()...)
				gomega.Expect(run.ExitCode).To(gomega.Equal(exitNotAdmitted))
				for _, pod := range run.Pods {
					c := pod.Containers[0]
					gomega.Expect(c.Result).To(gomega.Equal(resultFailed), "pod %s", pod.Pod)
					gomega.Expect(c.Reason).To(gomega.Equal(reasonErrImagePull))
					gomega.Expect(c.PullAttempted).To(gomega.BeFalse())
					gomega.Expect(c.Message).To(gomega.ContainSubstring(`credential provider plugin "` + exchangePlugin + `"`))
					for _, secret := range []string{suite.user1.Password, suite.user2.Password, suite.regB.Users[0].Password} {
						gomega.Expect(c.Message).NotTo(gomega.ContainSubstring(secret))
					}
				}
				gomega.Expect(manifestFetches(suite.regA, newImage, offset)).To(gomega.BeEmpty())
				listing := n.records(ctx)
				gomega.Expect(listing.record(newImage.ID)).To(gomega.BeNil())
				gomega.Expect(listing.hasIntent(newImage.Image)).To(gomega.BeFalse())
				gomega.Expect(n.record(ctx, privateImage.ID).CredentialMapping).To(gomega.Equal(before.CredentialMapping))
			}
		})

		ginkgo.It("caches the plugin's answers per cacheKeyType and cacheType (visible as the plugin's exec count)", func(ctx context.Context) {
			second := pushImage(ctx, suite.regA, &suite.user1, "plugin/second")
			for _, c := range []struct {
				cacheKeyType, cacheType string
				// twoPods runs one image in two pods of one service account
				// (processed concurrently) instead of two images in two
				// containers of one pod (processed in order).
				twoPods   bool
				wantExecs int
			}{
				{cacheKeyType: "Image", cacheType: "ServiceAccount", wantExecs: 2},
				{cacheKeyType: "Registry", cacheType: "ServiceAccount", wantExecs: 1},
				{cacheKeyType: "Global", cacheType: "ServiceAccount", wantExecs: 1},
				// Two pods of one service account pulling one image at once:
				// their requests share a ServiceAccount key and make one exec;
				// their tokens differ (bound to each pod), so with cacheType
				// Token each pod's request is its own.
				{cacheKeyType: "Registry", cacheType: "ServiceAccount", twoPods: true, wantExecs: 1},
				{cacheKeyType: "Registry", cacheType: "Token", twoPods: true, wantExecs: 2},
			} {
				ginkgo.By("cacheKeyType " + c.cacheKeyType + ", cacheType " + c.cacheType)
				n := newNode(nodeOptions{})
				plugin := setUpExchange(ctx, n, exchangeOptions{cacheKeyType: c.cacheKeyType, cacheType: c.cacheType})
				suffix := strings.ToLower(c.cacheKeyType + "-" + c.cacheType)
				var pods []string
				if c.twoPods {
					suffix += "-pods"
					pods = []string{
						apiPod(ctx, client, nsA, "cache-1-"+suffix, "builder", v1.PullAlways, []string{privateImage.Image}),
						apiPod(ctx, client, nsA, "cache-2-"+suffix, "builder", v1.PullAlways, []string{privateImage.Image}),
					}
				} else {
					pods = []string{apiPod(ctx, client, nsA, "cache-"+suffix, "builder", v1.PullAlways, []string{privateImage.Image, second.Image})}
				}
				run := n.ensureAPI(ctx, pods, plugin.args()...)
				gomega.Expect(run.ExitCode).To(gomega.Equal(exitAdmitted), "stderr: %s", run.Stderr)
				gomega.Expect(plugin.takeExecs()).To(gomega.HaveLen(c.wantExecs))
			}
		})

		ginkgo.It("records nodePodsAccessible for a plugin used without service account tokens", func(ctx context.Context) {
			n := newNode(nodeOptions{policy: kubeletconfigv1beta1.AlwaysVerify})
			plugin := setUpExchange(ctx, n, exchangeOptions{nodeMode: true})
			run := n.ensureAPI(ctx, []string{apiPod(ctx, client, nsA, "node-creds", "builder", v1.PullIfNotPresent, []string{privateImage.Image})}, plugin.args()...)
			c := run.only()
			gomega.Expect(c.Result).To(gomega.Equal(resultPulled), "stderr: %s", run.Stderr)
			gomega.Expect(n.record(ctx, privateImage.ID).CredentialMapping[privateImage.Repo]).To(gomega.Equal(kubeletconfigv1beta1.ImagePullCredentials{NodePodsAccessible: true}))
			gomega.Expect(plugin.takeExecs()).To(gomega.Equal([]pluginExec{{Image: privateImage.Image, Mode: "node", Result: "ok"}}))

			run = n.ensureAPI(ctx, []string{apiPod(ctx, client, nsB, "anyone", "untenanted", v1.PullNever, []string{privateImage.Image})}, plugin.args()...)
			c = run.only()
			gomega.Expect(c.Result).To(gomega.Equal(resultReused))
			gomega.Expect(c.Verification).To(gomega.Equal(verifyNodeAccessible))
		})

		ginkgo.It("fails a pod whose service account lacks the required annotation, naming it", func(ctx context.Context) {
			n := newNode(nodeOptions{})
			plugin := setUpExchange(ctx, n, exchangeOptions{})
			run := n.ensureAPI(ctx, []string{apiPod(ctx, client, nsB, "no-annotation", "untenanted", v1.PullIfNotPresent, []string{privateImage.Image})}, plugin.args()...)
			c := run.only()
			gomega.Expect(c.Result).To(gomega.Equal(resultFailed))
			gomega.Expect(c.Reason).To(gomega.Equal(reasonErrImagePull))
			gomega.Expect(c.Message).To(gomega.And(gomega.ContainSubstring(tenantAnnotation), gomega.ContainSubstring(nsB+"/untenanted")))
			gomega.Expect(plugin.takeExecs()).To(gomega.BeEmpty(), "the plugin is not run")
			_ = untenanted
		})

		ginkgo.It("without an API server, fails a container whose provider requires a service account", func(ctx context.Context) {
			n := newNode(nodeOptions{})
			plugin := setUpExchange(ctx, n, exchangeOptions{})
			pod := newPod("tenant-a", "from-file", privateImage.Image, v1.PullIfNotPresent)
			pod.Spec.ServiceAccountName = "builder"
			run := n.ensure(ctx, []*v1.Pod{pod}, nil, plugin.args()...)
			c := run.only()
			gomega.Expect(c.Result).To(gomega.Equal(resultFailed), "stderr: %s", run.Stderr)
			gomega.Expect(c.Message).To(gomega.ContainSubstring("--kubeconfig"))
			gomega.Expect(plugin.takeExecs()).To(gomega.BeEmpty())
		})

		ginkgo.It("rejects an invalid provider configuration with exit code 2", func(ctx context.Context) {
			n := newNode(nodeOptions{})
			plugin := setUpExchange(ctx, n, exchangeOptions{})
			pod := apiPod(ctx, client, nsA, "bad-config", "builder", v1.PullIfNotPresent, []string{privateImage.Image})
			run := n.ensureAPI(ctx, []string{pod}, "--image-credential-provider-config", plugin.configPath, "--image-credential-provider-bin-dir", n.dir)
			gomega.Expect(run.ExitCode).To(gomega.Equal(exitBadInput))
			gomega.Expect(run.Pods).To(gomega.BeEmpty())
			gomega.Expect(run.Stderr).To(gomega.ContainSubstring(exchangePlugin))
			run = n.ensureAPI(ctx, []string{pod}, append(plugin.args(), "--feature-gates", saTokenFeatureGate+"=false")...)
			gomega.Expect(run.ExitCode).To(gomega.Equal(exitBadInput))
			gomega.Expect(run.Stderr).To(gomega.ContainSubstring("tokenAttributes"))
		})
	})

var _ = ginkgo.Describe("[sig-node] [Serial] [FeatureGate:KubeletEnsureSecretPulledImages] pull Secrets from the API server",
	ginkgo.Label("FeatureGate:KubeletEnsureSecretPulledImages", "apiserver"), func() {
		ginkgo.It("records a Secret read from the API server and refuses its recreated (new UID) copy", func(ctx context.Context) {
			client := requireAPIServer()
			nsX := apiNamespace(ctx, client, "tenant-x")
			nsY := apiNamespace(ctx, client, "tenant-y")
			img := pushImage(ctx, suite.regA, &suite.user1, "apisecret/private")
			n := newNode(nodeOptions{})
			createSecret := func(ns, name string, cred framework.Credential) *v1.Secret {
				s := newSecret(ns, name, suite.regA.Host, cred)
				s.UID = ""
				created, err := client.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{})
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				return created
			}
			s1 := createSecret(nsX, "regcred", suite.user1)

			run := n.ensureAPI(ctx, []string{apiPod(ctx, client, nsX, "a", "default", v1.PullIfNotPresent, []string{img.Image}, "regcred")})
			gomega.Expect(run.only().Result).To(gomega.Equal(resultPulled), "stderr: %s", run.Stderr)
			gomega.Expect(n.record(ctx, img.ID).CredentialMapping[img.Repo].KubernetesSecrets).To(gomega.Equal([]kubeletconfigv1beta1.ImagePullSecret{secretCoordinates(s1, suite.user1)}))

			offset, err := suite.regA.AccessLog.Offset()
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			run = n.ensureAPI(ctx, []string{apiPod(ctx, client, nsX, "b", "default", v1.PullNever, []string{img.Image}, "regcred")})
			c := run.only()
			gomega.Expect(c.Result).To(gomega.Equal(resultReused))
			gomega.Expect(c.Verification).To(gomega.Equal(verifySecretHash))
			gomega.Expect(manifestFetches(suite.regA, img, offset)).To(gomega.BeEmpty())

			run = n.ensureAPI(ctx, []string{apiPod(ctx, client, nsY, "c", "default", v1.PullNever, []string{img.Image})})
			gomega.Expect(run.only().Result).To(gomega.Equal(resultDenied))

			ginkgo.By("S1 deleted and recreated with credentials the registry refuses")
			gomega.Expect(client.CoreV1().Secrets(nsX).Delete(ctx, "regcred", metav1.DeleteOptions{})).To(gomega.Succeed())
			gomega.Expect(wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
				_, err := client.CoreV1().Secrets(nsX).Get(ctx, "regcred", metav1.GetOptions{})
				return apierrors.IsNotFound(err), nil
			})).To(gomega.Succeed())
			recreated := createSecret(nsX, "regcred", framework.Credential{Username: suite.user1.Username, Password: "not-the-password"})
			gomega.Expect(recreated.UID).NotTo(gomega.Equal(types.UID(s1.UID)))
			run = n.ensureAPI(ctx, []string{apiPod(ctx, client, nsX, "d", "default", v1.PullNever, []string{img.Image}, "regcred")})
			gomega.Expect(run.only().Result).To(gomega.Equal(resultDenied))
			run = n.ensureAPI(ctx, []string{apiPod(ctx, client, nsX, "e", "default", v1.PullIfNotPresent, []string{img.Image}, "regcred")})
			c = run.only()
			gomega.Expect(c.Result).To(gomega.Equal(resultFailed))
			gomega.Expect(c.Message).To(gomega.ContainSubstring("401"))
		})
	})
