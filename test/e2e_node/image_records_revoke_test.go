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
	"syscall"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/kubernetes/test/e2e_node/framework"
)

// revokedCredential is one entry of `records revoke -o json`.
type revokedCredential struct {
	File       string `json:"file"`
	ImageRef   string `json:"imageRef"`
	Repository string `json:"repository"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
	UID        string `json:"uid"`
}

// revokeRules are exactly the RBAC rules the documentation gives for
// records revoke, one pass and --watch.
var revokeRules = []rbacv1.PolicyRule{{
	APIGroups: []string{""},
	Resources: []string{"namespaces", "secrets", "serviceaccounts"},
	Verbs:     []string{"list", "watch"},
}}

// revokeDeferred is the warning of a pass that left records updated after
// its listing of the cluster (a pull in the same second, rounded up).
const revokeDeferred = "run records revoke again"

// revoke runs `records revoke -o json` with kubeconfig and returns what it
// revoked, its stderr and its exit code. A pass that deferred a record
// just pulled is run again, as its warning says, a second later.
func (n *node) revoke(ctx context.Context, kubeconfig string, extraArgs ...string) ([]revokedCredential, string, int) {
	ginkgo.GinkgoHelper()
	args := append([]string{"records", "revoke", "--kubeconfig", kubeconfig, "--root-dir", n.rootDir, "-o", "json"}, extraArgs...)
	stdout, stderr, code := runTool(ctx, requireImagectl(), nil, args...)
	for try := 0; code == 0 && strings.Contains(stderr, revokeDeferred) && try < 10; try++ {
		time.Sleep(time.Second)
		stdout, stderr, code = runTool(ctx, requireImagectl(), nil, args...)
	}
	if code != 0 {
		return nil, stderr, code
	}
	gomega.Expect(stderr).NotTo(gomega.ContainSubstring(revokeDeferred))
	var out struct {
		Revoked []revokedCredential `json:"revoked"`
	}
	gomega.Expect(json.Unmarshal([]byte(stdout), &out)).To(gomega.Succeed(), "records revoke output %q", stdout)
	gomega.Expect(out.Revoked).NotTo(gomega.BeNil(), "revoked must be a list")
	return out.Revoked, stderr, code
}

// apiSecret creates a pull Secret for registry A with cred.
func apiSecret(ctx context.Context, client kubernetes.Interface, namespace, name string, cred framework.Credential) *v1.Secret {
	ginkgo.GinkgoHelper()
	s := newSecret(namespace, name, suite.regA.Host, cred)
	s.UID = ""
	created, err := client.CoreV1().Secrets(namespace).Create(ctx, s, metav1.CreateOptions{})
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return created
}

// deleteSecret deletes a Secret and waits until it is gone.
func deleteSecret(ctx context.Context, client kubernetes.Interface, s *v1.Secret) {
	ginkgo.GinkgoHelper()
	gomega.Expect(client.CoreV1().Secrets(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{})).To(gomega.Succeed())
	gomega.Expect(wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().Secrets(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})).To(gomega.Succeed())
}

// terminatingNamespace creates a namespace (with its default service
// account) that the spec deletes itself; no controller manager runs, so it
// then stays Terminating. The cleanup tolerates that.
func terminatingNamespace(ctx context.Context, client kubernetes.Interface, prefix string) string {
	ginkgo.GinkgoHelper()
	ns, err := client.CoreV1().Namespaces().Create(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}, metav1.CreateOptions{})
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	ginkgo.DeferCleanup(func(ctx context.Context) {
		_ = client.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
	})
	apiServiceAccount(ctx, client, ns.Name, "default", "")
	return ns.Name
}

// serviceAccountKubeconfig binds exactly rules (cluster-wide) to a new
// ServiceAccount, unless rules is nil, and returns a kubeconfig acting as
// it with a token from the TokenRequest API: a node tool's identity with
// that role and nothing else.
func serviceAccountKubeconfig(ctx context.Context, client kubernetes.Interface, dir, namespace, name string, rules []rbacv1.PolicyRule) string {
	ginkgo.GinkgoHelper()
	apiServiceAccount(ctx, client, namespace, name, "")
	if rules != nil {
		role, err := client.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "kubelet-imagectl-revoke-"},
			Rules:      rules,
		}, metav1.CreateOptions{})
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		ginkgo.DeferCleanup(func(ctx context.Context) {
			_ = client.RbacV1().ClusterRoles().Delete(ctx, role.Name, metav1.DeleteOptions{})
		})
		binding, err := client.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "kubelet-imagectl-revoke-"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: name}},
		}, metav1.CreateOptions{})
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		ginkgo.DeferCleanup(func(ctx context.Context) {
			_ = client.RbacV1().ClusterRoleBindings().Delete(ctx, binding.Name, metav1.DeleteOptions{})
		})
	}
	expiry := int64(3600)
	token, err := client.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry},
	}, metav1.CreateOptions{})
	gomega.Expect(err).NotTo(gomega.HaveOccurred())

	admin, err := clientcmd.LoadFromFile(suite.cfg.Kubeconfig)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	cfg := admin.DeepCopy()
	current := cfg.Contexts[cfg.CurrentContext]
	gomega.Expect(current).NotTo(gomega.BeNil(), "current context of %s", suite.cfg.Kubeconfig)
	for k := range cfg.AuthInfos {
		delete(cfg.AuthInfos, k)
	}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: token.Status.Token}
	current.AuthInfo = name
	path := filepath.Join(dir, name+".kubeconfig")
	gomega.Expect(clientcmd.WriteToFile(*cfg, path)).To(gomega.Succeed())
	return path
}

// expectRevoked checks a revoke's output against want, ignoring file names
// (checked to match the image ref) and order.
func expectRevoked(got []revokedCredential, want ...revokedCredential) {
	ginkgo.GinkgoHelper()
	for i := range got {
		gomega.Expect(got[i].File).To(gomega.HavePrefix("image_manager/pulled/sha256-"))
		got[i].File = ""
	}
	gomega.Expect(got).To(gomega.ConsistOf(want))
}

var _ = ginkgo.Describe("[sig-node] [Serial] [FeatureGate:KubeletEnsureSecretPulledImages] [FeatureGate:KubeletServiceAccountTokenForCredentialProviders] records revoke",
	ginkgo.Label("FeatureGate:KubeletEnsureSecretPulledImages", "apiserver", "revoke"), func() {
		var client kubernetes.Interface
		ginkgo.BeforeEach(func() {
			client = requireAPIServer()
		})

		ginkgo.It("revokes a deleted Secret, service account and namespace, keeps the names pulled by the kubelet, and makes pods of recreated objects pull", func(ctx context.Context) {
			nsA := apiNamespace(ctx, client, "revoke-a")
			nsGone := terminatingNamespace(ctx, client, "revoke-gone")
			builder := apiServiceAccount(ctx, client, nsA, "builder", "a")
			secretImg := pushImage(ctx, suite.regA, &suite.user1, "revoke/secret")
			saImg := pushImage(ctx, suite.regA, &suite.user1, "revoke/sa")
			nsImg := pushImage(ctx, suite.regA, &suite.user1, "revoke/ns")
			// The default policy, NeverVerifyPreloadedImages: a name that
			// lost its "pulled by the kubelet" status would be reused.
			n := newNode(nodeOptions{})
			plugin := setUpExchange(ctx, n, exchangeOptions{})

			ginkgo.By("pulling with a Secret, a service account's plugin credentials, and a Secret of another namespace")
			regcred := apiSecret(ctx, client, nsA, "regcred", suite.user1)
			run := n.ensureAPI(ctx, []string{apiPod(ctx, client, nsA, "secret-pull", "default", v1.PullIfNotPresent, []string{secretImg.Image}, "regcred")})
			gomega.Expect(run.only().Result).To(gomega.Equal(resultPulled), "stderr: %s", run.Stderr)
			run = n.ensureAPI(ctx, []string{apiPod(ctx, client, nsA, "sa-pull", "builder", v1.PullIfNotPresent, []string{saImg.Image})}, plugin.args()...)
			gomega.Expect(run.only().Result).To(gomega.Equal(resultPulled), "stderr: %s", run.Stderr)
			goneSecret := apiSecret(ctx, client, nsGone, "regcred", suite.user1)
			run = n.ensureAPI(ctx, []string{apiPod(ctx, client, nsGone, "ns-pull", "default", v1.PullIfNotPresent, []string{nsImg.Image}, "regcred")})
			gomega.Expect(run.only().Result).To(gomega.Equal(resultPulled), "stderr: %s", run.Stderr)
			gomega.Expect(n.record(ctx, secretImg.ID).CredentialMapping[secretImg.Repo].KubernetesSecrets).To(gomega.Equal([]kubeletconfigv1beta1.ImagePullSecret{secretCoordinates(regcred, suite.user1)}))
			gomega.Expect(n.record(ctx, saImg.ID).CredentialMapping[saImg.Repo].KubernetesServiceAccounts).To(gomega.Equal([]kubeletconfigv1beta1.ImagePullServiceAccount{recordedServiceAccount(builder)}))
			gomega.Expect(n.record(ctx, nsImg.ID).CredentialMapping[nsImg.Repo].KubernetesSecrets).To(gomega.Equal([]kubeletconfigv1beta1.ImagePullSecret{secretCoordinates(goneSecret, suite.user1)}))

			ginkgo.By("nothing is revoked while everything exists")
			revoked, stderr, code := n.revoke(ctx, suite.cfg.Kubeconfig)
			gomega.Expect(code).To(gomega.Equal(0), "stderr: %s", stderr)
			gomega.Expect(revoked).To(gomega.BeEmpty())

			ginkgo.By("deleting the Secret, the service account and the namespace (which stays Terminating)")
			deleteSecret(ctx, client, regcred)
			gomega.Expect(client.CoreV1().ServiceAccounts(nsA).Delete(ctx, "builder", metav1.DeleteOptions{})).To(gomega.Succeed())
			gomega.Expect(client.CoreV1().Namespaces().Delete(ctx, nsGone, metav1.DeleteOptions{})).To(gomega.Succeed())
			ns, err := client.CoreV1().Namespaces().Get(ctx, nsGone, metav1.GetOptions{})
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			gomega.Expect(ns.DeletionTimestamp).NotTo(gomega.BeNil(), "namespace %s terminating", nsGone)
			_, err = client.CoreV1().Secrets(nsGone).Get(ctx, "regcred", metav1.GetOptions{})
			gomega.Expect(err).NotTo(gomega.HaveOccurred(), "the Secret of a terminating namespace still exists (no controller manager)")

			ginkgo.By("a dry run reports and changes nothing")
			revoked, stderr, code = n.revoke(ctx, suite.cfg.Kubeconfig, "--dry-run")
			gomega.Expect(code).To(gomega.Equal(0), "stderr: %s", stderr)
			gomega.Expect(revoked).To(gomega.HaveLen(3))
			gomega.Expect(n.record(ctx, secretImg.ID).CredentialMapping[secretImg.Repo].KubernetesSecrets).To(gomega.HaveLen(1))

			ginkgo.By("records revoke removes exactly the three, and their entries become {}")
			revoked, stderr, code = n.revoke(ctx, suite.cfg.Kubeconfig)
			gomega.Expect(code).To(gomega.Equal(0), "stderr: %s", stderr)
			expectRevoked(revoked,
				revokedCredential{ImageRef: secretImg.ID, Repository: secretImg.Repo, Kind: "secret", Namespace: nsA, Name: "regcred", UID: string(regcred.UID)},
				revokedCredential{ImageRef: saImg.ID, Repository: saImg.Repo, Kind: "serviceAccount", Namespace: nsA, Name: "builder", UID: string(builder.UID)},
				revokedCredential{ImageRef: nsImg.ID, Repository: nsImg.Repo, Kind: "secret", Namespace: nsGone, Name: "regcred", UID: string(goneSecret.UID)},
			)
			for _, img := range []*testImage{secretImg, saImg, nsImg} {
				gomega.Expect(n.record(ctx, img.ID).CredentialMapping).To(gomega.Equal(map[string]kubeletconfigv1beta1.ImagePullCredentials{img.Repo: {}}), "record of %s", img.Image)
			}
			revoked, _, code = n.revoke(ctx, suite.cfg.Kubeconfig)
			gomega.Expect(code).To(gomega.Equal(0))
			gomega.Expect(revoked).To(gomega.BeEmpty(), "a second pass")

			ginkgo.By("the names still count as pulled by the kubelet: a pod without credentials is denied")
			for _, img := range []*testImage{secretImg, saImg, nsImg} {
				run = n.ensureAPI(ctx, []string{apiPod(ctx, client, nsA, "anon-"+randomName(), "default", v1.PullNever, []string{img.Image})})
				c := run.only()
				gomega.Expect(c.Result).To(gomega.Equal(resultDenied), "%s passed for preloaded; stderr: %s", img.Image, run.Stderr)
				gomega.Expect(c.Verification).To(gomega.Equal(verifyMustPull))
			}

			ginkgo.By("a recreated Secret: with the same content it must pull now (its hash was revoked), with refused credentials it is denied and fails")
			apiSecret(ctx, client, nsA, "regcred", suite.user1)
			run = n.ensureAPI(ctx, []string{apiPod(ctx, client, nsA, "recreated-same", "default", v1.PullNever, []string{secretImg.Image}, "regcred")})
			gomega.Expect(run.only().Result).To(gomega.Equal(resultDenied), "stderr: %s", run.Stderr)
			deleteSecret(ctx, client, &v1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: nsA, Name: "regcred"}})
			apiSecret(ctx, client, nsA, "regcred", framework.Credential{Username: suite.user1.Username, Password: "not-the-password"})
			run = n.ensureAPI(ctx, []string{apiPod(ctx, client, nsA, "recreated-never", "default", v1.PullNever, []string{secretImg.Image}, "regcred")})
			gomega.Expect(run.only().Result).To(gomega.Equal(resultDenied), "stderr: %s", run.Stderr)
			run = n.ensureAPI(ctx, []string{apiPod(ctx, client, nsA, "recreated", "default", v1.PullIfNotPresent, []string{secretImg.Image}, "regcred")})
			c := run.only()
			gomega.Expect(c.Result).To(gomega.Equal(resultFailed), "stderr: %s", run.Stderr)
			gomega.Expect(c.Message).To(gomega.ContainSubstring("401"))

			ginkgo.By("a recreated service account is denied with Never and pulls with IfNotPresent")
			recreated := apiServiceAccount(ctx, client, nsA, "builder", "a")
			gomega.Expect(recreated.UID).NotTo(gomega.Equal(builder.UID))
			run = n.ensureAPI(ctx, []string{apiPod(ctx, client, nsA, "sa-recreated-never", "builder", v1.PullNever, []string{saImg.Image})}, plugin.args()...)
			gomega.Expect(run.only().Result).To(gomega.Equal(resultDenied), "stderr: %s", run.Stderr)
			run = n.ensureAPI(ctx, []string{apiPod(ctx, client, nsA, "sa-recreated", "builder", v1.PullIfNotPresent, []string{saImg.Image})}, plugin.args()...)
			gomega.Expect(run.only().Result).To(gomega.Equal(resultPulled), "stderr: %s", run.Stderr)
			gomega.Expect(n.record(ctx, saImg.ID).CredentialMapping[saImg.Repo].KubernetesServiceAccounts).To(gomega.Equal([]kubeletconfigv1beta1.ImagePullServiceAccount{recordedServiceAccount(recreated)}))
		})

		ginkgo.It("works with exactly the documented ClusterRole (one pass and --watch) and exits 3 without it", func(ctx context.Context) {
			nsRBAC := apiNamespace(ctx, client, "revoke-rbac")
			nsA := apiNamespace(ctx, client, "revoke-rbac-a")
			img := pushImage(ctx, suite.regA, &suite.user1, "revoke/rbac")
			n := newNode(nodeOptions{})
			withRole := serviceAccountKubeconfig(ctx, client, n.dir, nsRBAC, "revoker", revokeRules)
			withoutRole := serviceAccountKubeconfig(ctx, client, n.dir, nsRBAC, "no-role", nil)

			first := apiSecret(ctx, client, nsA, "first", suite.user1)
			second := apiSecret(ctx, client, nsA, "second", suite.user1)
			run := n.ensureAPI(ctx, []string{apiPod(ctx, client, nsA, "pull", "default", v1.PullAlways, []string{img.Image}, "first")})
			gomega.Expect(run.only().Result).To(gomega.Equal(resultPulled), "stderr: %s", run.Stderr)
			run = n.ensureAPI(ctx, []string{apiPod(ctx, client, nsA, "pull-2", "default", v1.PullAlways, []string{img.Image}, "second")})
			gomega.Expect(run.only().Result).To(gomega.Equal(resultPulled), "stderr: %s", run.Stderr)
			gomega.Expect(n.record(ctx, img.ID).CredentialMapping[img.Repo].KubernetesSecrets).To(gomega.HaveLen(2))
			deleteSecret(ctx, client, first)

			ginkgo.By("without the role: forbidden, exit 3, nothing revoked")
			_, stderr, code := n.revoke(ctx, withoutRole)
			gomega.Expect(code).To(gomega.Equal(exitEnvironment))
			gomega.Expect(stderr).To(gomega.And(gomega.ContainSubstring("forbidden"), gomega.ContainSubstring("nothing was revoked")))
			gomega.Expect(n.record(ctx, img.ID).CredentialMapping[img.Repo].KubernetesSecrets).To(gomega.HaveLen(2))

			ginkgo.By("with the role: one pass revokes the deleted Secret")
			var revoked []revokedCredential
			// The authorizer learns of a new binding within moments.
			gomega.Eventually(ctx, func() int {
				var code int
				revoked, _, code = n.revoke(ctx, withRole)
				return code
			}).WithTimeout(30 * time.Second).WithPolling(time.Second).Should(gomega.Equal(0))
			expectRevoked(revoked, revokedCredential{ImageRef: img.ID, Repository: img.Repo, Kind: "secret", Namespace: nsA, Name: "first", UID: string(first.UID)})

			ginkgo.By("with the role: --watch revokes a Secret deleted while it runs, and stops on SIGTERM with exit code 0")
			watchCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(watchCtx, requireImagectl(), "records", "revoke", "--watch", "--kubeconfig", withRole, "--root-dir", n.rootDir, "-o", "json", "-v", "2")
			stdout, err := cmd.StdoutPipe()
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			stderrFile, err := os.Create(filepath.Join(n.dir, "watch.stderr"))
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			defer func() { _ = stderrFile.Close() }()
			cmd.Stderr = stderrFile
			gomega.Expect(cmd.Start()).To(gomega.Succeed())
			lines := make(chan string)
			go func() {
				defer close(lines)
				scanner := bufio.NewScanner(stdout)
				for scanner.Scan() {
					lines <- scanner.Text()
				}
			}()
			// Once its informers synced, the deletion reaches it as a watch
			// event.
			gomega.Eventually(func() string {
				data, _ := os.ReadFile(stderrFile.Name())
				return string(data)
			}).WithTimeout(time.Minute).Should(gomega.ContainSubstring("Informer caches synced"))
			deleteSecret(ctx, client, second)
			var line string
			gomega.Eventually(lines).WithTimeout(time.Minute).Should(gomega.Receive(&line))
			var out struct {
				Revoked []revokedCredential `json:"revoked"`
			}
			gomega.Expect(json.Unmarshal([]byte(line), &out)).To(gomega.Succeed(), "watch output %q", line)
			expectRevoked(out.Revoked, revokedCredential{ImageRef: img.ID, Repository: img.Repo, Kind: "secret", Namespace: nsA, Name: "second", UID: string(second.UID)})
			gomega.Expect(cmd.Process.Signal(syscall.SIGTERM)).To(gomega.Succeed())
			err = cmd.Wait()
			data, _ := os.ReadFile(stderrFile.Name())
			ginkgo.GinkgoWriter.Printf("records revoke --watch stderr:\n%s", data)
			gomega.Expect(err).NotTo(gomega.HaveOccurred(), "exit after SIGTERM")
			gomega.Expect(strings.Contains(string(data), "forbidden")).To(gomega.BeFalse(), "the role lacks nothing --watch needs")
			gomega.Expect(n.record(ctx, img.ID).CredentialMapping).To(gomega.Equal(map[string]kubeletconfigv1beta1.ImagePullCredentials{img.Repo: {}}))
		})
	})
