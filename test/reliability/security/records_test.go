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

package security

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/imagepullrecords"
	"k8s.io/kubernetes/cmd/kubelet-imagectl/app"
	"k8s.io/kubernetes/pkg/credentialprovider"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
	"k8s.io/kubernetes/test/reliability/internal/fakeplugin"
)

// revokeToken is the bearer token of records revoke's kubeconfig: the
// identity that may list Secrets cluster-wide.
const revokeToken = "Revoke-tok-B6nW-4j1Xs-unique"

// lastApplied is the annotation kubectl apply sets: it holds the whole
// object as applied, so a Secret's carries its data.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// recordsStats count what the records part of the campaign did.
type recordsStats struct {
	// runs counts records subcommand runs; forms the distinct
	// subcommand and output combinations among them.
	runs  int
	forms map[string]bool
	// from and to delimit the records part in the capture.
	from, to int
	// explains counts explain runs; hostile those with pod-controlled
	// names, podNames the --pod-name values with ../ forms.
	explains, hostile, podNames int
	// hashesShown counts abbreviated credential hashes in explain's JSON;
	// fullHashes the full hashes searched for in its output.
	hashesShown, fullHashes int
	// revoked counts credentials revoke removed; metadataRequests the
	// requests to its API server.
	revoked, metadataRequests int
	// writers counts the writing runs under umask 0 whose root dir was
	// checked for modes afterwards.
	writers int
	// forbidden are the strings only the records part adds.
	forbidden map[string]bool
}

// recordsCampaign runs every records subcommand, text and JSON, at -v=10
// over the root dir the ensure runs populated (Secrets with the
// distinctive passwords, node-wide credentials, a service account), with
// Secrets, ServiceAccounts and Namespaces from fake API servers whose
// objects carry those passwords; explain also with hostile pod-controlled
// names. The caller searches the capture for the forbidden strings; this
// checks what explain may print, that explain writes nothing anywhere, and
// that the writers create nothing looser than 0600 and 0700.
func (s *suite) recordsCampaign(t *testing.T, config, secrets, nodeConfig string, plugins *pluginStats, long bool) *recordsStats {
	st := &recordsStats{forms: map[string]bool{}, forbidden: map[string]bool{}, from: len(s.capture.String())}
	for _, needle := range s.forbid(revokeToken, "a kubeconfig token") {
		st.forbidden[needle] = true
	}
	// run runs a records subcommand other than explain (which needs an
	// API server) and counts it.
	run := func(args ...string) (string, string, int) {
		t.Helper()
		st.runs++
		form := args[1]
		if slices.Contains(args, "json") {
			form += " -o json"
		}
		st.forms[form] = true
		ctx, cancel := context.WithTimeout(s.ctx, 2*time.Minute)
		defer cancel()
		return s.exec(ctx, nil, args...)
	}
	rootFlag := []string{"--root-dir", s.root}

	// The full credential hashes a pod could present (SPEC: HashAuthConfig
	// of each docker config entry) and those on record. explain may show
	// only their first 8 hex digits.
	hashOf := map[string]string{
		"s1":      credentialprovider.HashAuthConfig(credentialprovider.AuthConfig{Username: userAlice, Password: passAlice}),
		"legacy":  credentialprovider.HashAuthConfig(credentialprovider.AuthConfig{Username: userBob, Password: passBob, Email: "b@example.com"}),
		"refused": credentialprovider.HashAuthConfig(credentialprovider.AuthConfig{Username: userAlice, Password: passRefused}),
		"tokens":  credentialprovider.HashAuthConfig(credentialprovider.AuthConfig{IdentityToken: identityToken, RegistryToken: registryToken}),
		"node":    credentialprovider.HashAuthConfig(credentialprovider.AuthConfig{Username: userNode, Password: passNode}),
	}
	hashOf["s2"] = hashOf["s1"]
	fullHashes := map[string]bool{}
	for _, h := range hashOf {
		fullHashes[h] = true
	}
	list, _, code := run(append([]string{"records", "list", "-o", "json"}, rootFlag...)...)
	if code != app.ExitOK {
		t.Fatalf("records list: exit %d", code)
	}
	recorded := 0
	for _, r := range decodeList(t, list) {
		for repo, creds := range r.CredentialMapping {
			for _, sec := range creds.KubernetesSecrets {
				recorded++
				fullHashes[sec.CredentialHash] = true
				if want, ok := hashOf[sec.Name]; ok && sec.Namespace == "ns-x" && sec.CredentialHash != want {
					t.Errorf("record of %s under %s: %s/%s has hash %s, want %s (the campaign's hashes would be wrong)", r.ImageRef, repo, sec.Namespace, sec.Name, sec.CredentialHash, want)
				}
			}
		}
	}
	if recorded < 3 {
		t.Errorf("%d Secrets on record after the ensure runs, want s1, s2 and legacy at least", recorded)
	}
	st.fullHashes = len(fullHashes)
	if _, _, code := run(append([]string{"records", "list"}, rootFlag...)...); code != app.ExitOK {
		t.Errorf("records list (text): exit %d", code)
	}

	// explain is read-only: nothing may change anywhere under base, the
	// root dir included (no lock file, no migration, no housekeeping).
	before := snapshot(t, s.base)
	s.explainCampaign(t, st, config, secrets, nodeConfig, plugins, hashOf, fullHashes, long)
	if diff := snapshotDiff(before, snapshot(t, s.base)); diff != "" {
		t.Errorf("records explain changed files: %s", diff)
	}

	// The writers run under umask 0, so that a file or directory created
	// with a loose mode (relying on the umask) keeps it and is found.
	oldMask := syscall.Umask(0)
	defer syscall.Umask(oldMask)
	checkModes := func(after string) {
		t.Helper()
		st.writers++
		s.checkRootModes(t, after)
	}

	// verify: read-only first, with and without the runtime; then what
	// --fix repairs, planted: a record with a familiar key (rewritten), a
	// loose record, a temporary, a loose directory.
	before = snapshot(t, s.base)
	for _, args := range [][]string{{"records", "verify"}, {"records", "verify", "-o", "json"}, {"records", "verify", "-o", "json", "--runtime-endpoint", s.rt.Endpoint()}} {
		if _, _, code := run(append(args, rootFlag...)...); code != app.ExitOK && code != app.ExitNotAdmitted {
			t.Errorf("%s: exit %d", strings.Join(args, " "), code)
		}
	}
	if diff := snapshotDiff(before, snapshot(t, s.base)); diff != "" {
		t.Errorf("records verify without --fix changed files: %s", diff)
	}
	pulledDir := filepath.Join(s.root, imagepullrecords.ManagerDirName, imagepullrecords.RecordsDirName)
	planted := s.plantFamiliarRecord(t)
	if err := os.WriteFile(filepath.Join(pulledDir, imagepullrecords.TempPrefix+"left-over"), []byte("{}"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(pulledDir, 0o777); err != nil {
		t.Fatal(err)
	}
	stdout, _, code := run(append([]string{"records", "verify", "--fix", "-o", "json"}, rootFlag...)...)
	var findings struct {
		Findings []struct {
			File  string `json:"file"`
			Kind  string `json:"kind"`
			Fixed bool   `json:"fixed"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &findings); err != nil {
		t.Errorf("verify --fix: %v in %q", err, stdout)
	}
	kinds := map[string]bool{}
	for _, f := range findings.Findings {
		kinds[f.Kind] = true
		if !f.Fixed {
			t.Errorf("verify --fix left %s: %s", f.File, f.Kind)
		}
	}
	for _, k := range []string{"familiarKeys", "looseMode", "temporary"} {
		if !kinds[k] {
			t.Errorf("verify --fix found no %s finding (exit %d): the repairs were not exercised", k, code)
		}
	}
	checkModes("verify --fix")
	if _, _, code := run(append([]string{"records", "verify", "--fix"}, rootFlag...)...); code != app.ExitOK {
		t.Errorf("records verify --fix after the repair: exit %d, want 0", code)
	}

	s.revokeCampaign(t, st, run, rootFlag, checkModes)

	// downgrade and migrate rewrite every file: a loose one must come back
	// 0600 (the new content is a new file).
	if err := os.Chmod(filepath.Join(pulledDir, planted), 0o666); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"records", "downgrade", "--to", "v1alpha1", "--dry-run", "-o", "json"},
		{"records", "downgrade", "--to", "v1alpha1"},
		{"records", "migrate", "--dry-run"},
		{"records", "migrate", "-o", "json"},
		{"records", "migrate"},
	} {
		before := snapshot(t, s.base)
		if _, _, code := run(append(args, rootFlag...)...); code != app.ExitOK {
			t.Errorf("%s: exit %d", strings.Join(args, " "), code)
		}
		if !slices.Contains(args, "--dry-run") {
			checkModes(strings.Join(args[1:], " "))
		} else if diff := snapshotDiff(before, snapshot(t, s.base)); diff != "" {
			t.Errorf("%s changed files: %s", strings.Join(args, " "), diff)
		}
	}
	// prune removes the planted record, whose image the runtime lacks.
	stdout, _, code = run(append([]string{"records", "prune", "-o", "json", "--runtime-endpoint", s.rt.Endpoint()}, rootFlag...)...)
	if code != app.ExitOK || !strings.Contains(stdout, planted) {
		t.Errorf("records prune: exit %d, %s; want the planted record removed", code, stdout)
	}
	checkModes("records prune")
	if _, _, code := run(append([]string{"records", "prune", "--runtime-endpoint", s.rt.Endpoint()}, rootFlag...)...); code != app.ExitOK {
		t.Errorf("records prune (text): exit %d", code)
	}
	st.to = len(s.capture.String())
	return st
}

// explainCampaign runs records explain, text and JSON, for pods from files
// and from a fake API server (a client-go fake clientset through
// Deps.NewKubeClient, serving the pull Secrets with their data), hostile
// pod-controlled names and --pod-name values with ../ in them.
func (s *suite) explainCampaign(t *testing.T, st *recordsStats, config, secrets, nodeConfig string, plugins *pluginStats, hashOf map[string]string, fullHashes map[string]bool, long bool) {
	app1 := s.reg.Ref(repoApp + tag)
	nodeOnly := s.reg.Ref(repoNodeOnly + tag)
	saImage := s.reg.Ref(repoSA + tag)
	common := []string{"--root-dir", s.root, "--runtime-endpoint", s.rt.Endpoint(), "--config", config, "--docker-config", nodeConfig}
	abbreviated := regexp.MustCompile(`^[0-9a-f]{8}$`)

	// explain runs one explain, text or JSON, and checks what it printed:
	// no full credential hash anywhere in its stdout or stderr, every
	// credentialHash of its JSON 8 hex digits, every file it names inside
	// the root dir's image_manager/. It returns the JSON output (nil for
	// text, or when the tool refused).
	explain := func(newClient app.KubeClientFactory, jsonOut bool, image string, args ...string) (*explainJSON, int) {
		t.Helper()
		st.explains++
		st.runs++
		form := "explain"
		args = append(append([]string{"records", "explain"}, args...), common...)
		if jsonOut {
			form += " -o json"
			args = append(args, "-o", "json")
		}
		st.forms[form] = true
		ctx, cancel := context.WithTimeout(s.ctx, 2*time.Minute)
		defer cancel()
		stdout, stderr, code := s.exec(ctx, newClient, append(args, "--", image)...)
		for h := range fullHashes {
			if strings.Contains(stdout, h) || strings.Contains(stderr, h) {
				t.Errorf("records explain %s printed the full credential hash %s...; it may print 8 hex digits", image, h[:8])
			}
		}
		if !jsonOut || code == app.ExitUsage || code == app.ExitEnvironment {
			return nil, code
		}
		out := &explainJSON{}
		if err := json.Unmarshal([]byte(stdout), out); err != nil {
			t.Errorf("records explain -o json %s: %v in %q", image, err, stdout)
			return nil, code
		}
		for _, c := range out.Containers {
			ex := c.Explanation.PullManager
			if ex == nil {
				continue
			}
			for _, sec := range slices.Concat(ex.Entry.KubernetesSecrets, ex.Credentials.KubernetesSecrets) {
				if sec.CredentialHash == "" {
					continue
				}
				st.hashesShown++
				if !abbreviated.MatchString(sec.CredentialHash) {
					t.Errorf("records explain %s: %s/%s has credentialHash %q, want 8 hex digits", image, sec.Namespace, sec.Name, sec.CredentialHash)
				}
			}
			files := []string{ex.Record.File}
			for _, in := range ex.PulledByKubelet.Intents {
				files = append(files, in.File)
			}
			for _, f := range files {
				if f != "" && (filepath.IsAbs(f) || filepath.Clean(f) != f || !strings.HasPrefix(f, imagepullrecords.ManagerDirName+"/")) {
					t.Errorf("records explain %s names the file %q, which is not inside the root dir's %s/", image, f, imagepullrecords.ManagerDirName)
				}
			}
		}
		return out, code
	}
	// both runs explain in text, then in JSON, and returns the JSON.
	both := func(newClient app.KubeClientFactory, image string, args ...string) (*explainJSON, int) {
		t.Helper()
		explain(newClient, false, image, args...)
		return explain(newClient, true, image, args...)
	}
	wantRule := func(out *explainJSON, container, rule string) *pullmanager.Explanation {
		t.Helper()
		for _, c := range out.Containers {
			if c.Name != container {
				continue
			}
			if ex := c.Explanation.PullManager; ex != nil && string(ex.Rule) == rule {
				return ex
			}
			t.Errorf("explain of %s, container %s: %+v, want rule %s", out.Pod, container, c.Explanation, rule)
			return nil
		}
		t.Errorf("explain of %s: no container %s", out.Pod, container)
		return nil
	}

	// Pods from files, with the Secrets file of the ensure runs. x1 has
	// every Secret of ns-x that parses (s1 on record by hash), the shown
	// hashes must be the first 8 digits of each one's.
	withNever := func(p *v1.Pod) *v1.Pod {
		c := p.Spec.Containers[0]
		c.Name, c.ImagePullPolicy = "never", v1.PullNever
		p.Spec.Containers = append(p.Spec.Containers, c)
		return p
	}
	x1 := withNever(pod("ns-x", "x1", "app", app1, v1.PullIfNotPresent, "s1", "s2", "legacy", "refused", "missing"))
	x2 := pod("ns-x", "x2", "app", app1, v1.PullIfNotPresent, "broken")
	z := pod("ns-z", "z", "app", app1, v1.PullIfNotPresent, "tokens")
	w := pod("ns-w", "w", "app", nodeOnly, v1.PullNever)
	y := withNever(pod("ns-y", "y", "app", app1, v1.PullIfNotPresent, "s1"))
	checkX1 := func(out *explainJSON) {
		t.Helper()
		ex := wantRule(out, "app", "secretHash")
		if ex == nil {
			return
		}
		shown := map[string]string{}
		for _, sec := range ex.Credentials.KubernetesSecrets {
			shown[sec.Name] = sec.CredentialHash
		}
		for _, name := range []string{"s1", "s2", "legacy", "refused"} {
			if shown[name] != hashOf[name][:8] {
				t.Errorf("explain of ns-x/x1: Secret %s shown with hash %q, want %q (its hash's first 8 hex digits)", name, shown[name], hashOf[name][:8])
			}
		}
	}
	// Pod files are numbered: pod names may be hostile.
	podFiles := 0
	fileArgs := func(p *v1.Pod) []string {
		podFiles++
		return []string{"--pod", s.writeJSON(fmt.Sprintf("explain-%d.yaml", podFiles), p), "--secret", secrets}
	}
	if out, _ := both(nil, app1, fileArgs(x1)...); out != nil {
		checkX1(out)
		wantRule(out, "never", "secretHash")
	}
	if out, code := both(nil, app1, fileArgs(x2)...); out != nil {
		if ex := wantRule(out, "app", "credentialsError"); ex != nil && !strings.Contains(ex.Credentials.Error, "broken") {
			t.Errorf("explain of ns-x/x2: credentials error %q does not name the Secret", ex.Credentials.Error)
		}
		if code != app.ExitNotAdmitted {
			t.Errorf("explain of ns-x/x2: exit %d, want %d", code, app.ExitNotAdmitted)
		}
	}
	if out, _ := both(nil, app1, fileArgs(z)...); out != nil {
		wantRule(out, "app", "noMatch")
	}
	if out, _ := both(nil, nodeOnly, fileArgs(w)...); out != nil {
		wantRule(out, "app", "nodePodsAccessible")
	}
	if out, _ := both(nil, app1, fileArgs(y)...); out != nil {
		wantRule(out, "never", "noMatch")
	}

	// The same from a fake API server, with the pull Secrets (their data
	// holds the passwords), the plugin's service accounts and the pods of
	// hostile names with a Secret of the same name in their namespace.
	objects := []runtime.Object{x1, x2,
		serviceAccount("ns-s", "builder", "uid-sa-s-builder", passPlugin, annotationRole),
		serviceAccount("ns-o", "builder", "uid-sa-o-builder", passPluginRefused, annotationRole),
		saPod("ns-s", "sp", "builder", saImage, v1.PullIfNotPresent),
		saPod("ns-o", "sq", "builder", saImage, v1.PullNever),
	}
	for _, sec := range s.pullSecrets {
		objects = append(objects, sec)
	}
	hostile := hostileNames(long)
	hostilePods := make([]*v1.Pod, 0, len(hostile))
	for i, name := range hostile {
		images := []string{app1, s.reg.Ref(repoApp) + "/" + name + tag, name + tag, s.reg.Addr() + "/" + name + tag}
		p := pod("ns-x", name, name, images[i%len(images)], v1.PullIfNotPresent, name, "s1")
		if i%2 == 1 {
			p.Namespace = name
		}
		hostilePods = append(hostilePods, p)
		objects = append(objects, p, s.dockerSecret(p.Namespace, name, v1.SecretTypeDockerConfigJson,
			fmt.Sprintf(`{"auths":{%q:{"username":%q,"password":%q}}}`, s.reg.Addr(), userAlice, passAlice)))
	}
	// Tokens under the plugin part's forbidden prefix, numbered apart
	// from its own.
	api := fakeplugin.NewAPIServer(tokenPrefix+"-explain", objects...)
	newClient := func(string) (kubernetes.Interface, error) { return api.Client, nil }
	apiArgs := func(nsName string) []string {
		return []string{"--kubeconfig", filepath.Join(s.inputs, "kubeconfig"), "--pod-name", nsName,
			"--image-credential-provider-config", plugins.config, "--image-credential-provider-bin-dir", plugins.binDir}
	}
	if out, _ := both(newClient, app1, apiArgs("ns-x/x1")...); out != nil {
		checkX1(out)
	}
	if out, _ := both(newClient, app1, apiArgs("ns-x/x2")...); out != nil {
		wantRule(out, "app", "credentialsError")
	}
	// The service account on record by the plugin part: the plugin runs
	// with a token of this API server and its answer decides.
	if out, _ := both(newClient, saImage, apiArgs("ns-s/sp")...); out != nil {
		wantRule(out, "app", "serviceAccount")
	}
	if out, _ := both(newClient, saImage, apiArgs("ns-o/sq")...); out != nil {
		wantRule(out, "app", "noMatch")
	}

	// Hostile names: namespace, pod, container, image, Secret names, from
	// a file and from the API server; IMAGE is the container's image, or
	// the hostile string itself. The tool may refuse (exit 2), fail the
	// container (1) or not find the pod (3); the snapshot of the caller
	// proves it wrote nothing, and the checks of explain that every file
	// it read is inside the root dir.
	for i, p := range hostilePods {
		st.hostile++
		image := p.Spec.Containers[0].Image
		if _, code := explain(nil, i%2 == 0, image, fileArgs(p)...); code > app.ExitEnvironment {
			t.Errorf("explain of hostile pod %q from a file: exit %d", p.Name, code)
		}
		if i%3 == 2 {
			image = p.Name
		}
		if _, code := explain(newClient, i%2 == 1, image, apiArgs(p.Namespace+"/"+p.Name)...); code > app.ExitEnvironment {
			t.Errorf("explain of hostile pod %q from the API server: exit %d", p.Name, code)
		}
	}
	// --pod-name with ../ forms: refused (a name with a slash), or looked
	// up, not found (exit 3) or found among the hostile pods and harmless.
	for _, nsName := range []string{"../x1", "ns-x/../x1", "../../../../tmp/pwned", "../..", "ns-x/..", "..\\ns-x/x1", "%2e%2e/x1", "./x1"} {
		st.podNames++
		if _, code := explain(newClient, true, app1, apiArgs(nsName)...); code != app.ExitUsage && code != app.ExitEnvironment && code != app.ExitOK && code != app.ExitNotAdmitted {
			t.Errorf("explain --pod-name %q: exit %d", nsName, code)
		}
	}
	for _, tok := range api.Tokens() {
		for _, needle := range s.forbid(tok, "a service account token") {
			st.forbidden[needle] = true
		}
	}
}

// explainJSON is the part of records explain's JSON output the campaign
// reads.
type explainJSON struct {
	Pod        string `json:"pod"`
	Containers []struct {
		Name        string `json:"name"`
		Result      string `json:"result"`
		Explanation struct {
			DecidedBy   string                   `json:"decidedBy"`
			PullManager *pullmanager.Explanation `json:"pullManager"`
		} `json:"explanation"`
	} `json:"containers"`
}

// decodeList returns the records of records list's JSON output.
func decodeList(t *testing.T, stdout string) []kubeletv1beta1.ImagePulledRecord {
	t.Helper()
	var out struct {
		Pulled []struct {
			Record kubeletv1beta1.ImagePulledRecord `json:"record"`
		} `json:"pulled"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("records list -o json: %v in %q", err, stdout)
	}
	records := make([]kubeletv1beta1.ImagePulledRecord, 0, len(out.Pulled))
	for _, p := range out.Pulled {
		records = append(records, p.Record)
	}
	return records
}

// plantFamiliarRecord writes a record, 0666, of an image the runtime does
// not have, keyed by a familiar name that loading normalises: verify --fix
// rewrites it, downgrade and migrate rewrite it, prune removes it. It
// returns the file name.
func (s *suite) plantFamiliarRecord(t *testing.T) string {
	t.Helper()
	imageRef := "sha256:" + imagepullrecords.KeyHash("security campaign: a record of an absent image")
	name := imagepullrecords.FileName(imageRef)
	data := fmt.Sprintf(`{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2025-01-02T03:04:05Z","imageRef":%q,"credentialMapping":{"busybox":{"nodePodsAccessible":true}}}`, imageRef)
	path := filepath.Join(s.root, imagepullrecords.ManagerDirName, imagepullrecords.RecordsDirName, name)
	if err := os.WriteFile(path, []byte(data), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	return name
}

// checkRootModes fails for every directory under the root dir that is not
// 0700 and every file that is not 0600.
func (s *suite) checkRootModes(t *testing.T, after string) {
	t.Helper()
	err := filepath.WalkDir(s.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == s.root {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(s.root, path)
		want := os.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if perm := info.Mode().Perm(); perm != want {
			t.Errorf("after %s under umask 0: %s has mode %o, want %o", after, rel, perm, want)
		}
		return nil
	})
	if err != nil {
		t.Errorf("after %s: walking the root dir: %v", after, err)
	}
}

// snapshot maps every path under dir to its mode, size, modification time
// and content hash.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		state := fmt.Sprintf("%v %d %d", info.Mode(), info.Size(), info.ModTime().UnixNano())
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			state += " " + hex.EncodeToString(sum[:])
		}
		out[path] = state
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot of %s: %v", dir, err)
	}
	return out
}

// snapshotDiff says which paths appeared, disappeared or changed.
func snapshotDiff(before, after map[string]string) string {
	var diffs []string
	for path, b := range before {
		switch a, ok := after[path]; {
		case !ok:
			diffs = append(diffs, "removed "+path)
		case a != b:
			diffs = append(diffs, fmt.Sprintf("changed %s (%s -> %s)", path, b, a))
		}
	}
	for path := range after {
		if _, ok := before[path]; !ok {
			diffs = append(diffs, "created "+path)
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, "; ")
}

// revokeCampaign runs records revoke against metadataAPI: a dry run, a
// --watch that revokes what was deleted before it started, then one pass
// after a service account is deleted.
func (s *suite) revokeCampaign(t *testing.T, st *recordsStats, run func(...string) (string, string, int), rootFlag []string, checkModes func(string)) {
	api := newMetadataAPI(t)
	for _, ns := range []string{"ns-x", "ns-y", "ns-z", "ns-w", "ns-s", "ns-o", "ns-m"} {
		api.set("namespaces", metav1.ObjectMeta{Name: ns, UID: types.UID("uid-ns-" + ns)})
	}
	// s2 was deleted, legacy deleted and recreated (a new UID); every
	// Secret carries kubectl's annotation with its data.
	for _, sec := range s.pullSecrets {
		if sec.Namespace != "ns-x" && sec.Namespace != "ns-z" {
			continue
		}
		meta := sec.ObjectMeta
		switch sec.Name {
		case "s2":
			continue
		case "legacy":
			meta.UID = "uid-ns-x-legacy-recreated"
		}
		applied, err := json.Marshal(sec)
		if err != nil {
			t.Fatal(err)
		}
		meta.Annotations = map[string]string{lastApplied: string(applied)}
		api.set("secrets", meta)
	}
	// The service accounts keep the annotations the plugin reads (a
	// password among them).
	for _, sa := range []*v1.ServiceAccount{
		serviceAccount("ns-s", "builder", "uid-sa-s-builder", passPlugin, annotationRole),
		serviceAccount("ns-o", "builder", "uid-sa-o-builder", passPluginRefused, annotationRole),
	} {
		api.set("serviceaccounts", sa.ObjectMeta)
	}
	kubeconfig := api.kubeconfig(t, revokeToken)
	args := func(extra ...string) []string {
		return append(append([]string{"records", "revoke", "--kubeconfig", kubeconfig}, rootFlag...), extra...)
	}

	before := snapshot(t, s.root)
	if _, _, code := run(args("--dry-run")...); code != app.ExitOK {
		t.Errorf("records revoke --dry-run: exit %d", code)
	}
	stdout, _, code := run(args("--dry-run", "-o", "json")...)
	if got := decodeRevoked(t, stdout); code != app.ExitOK || !slices.Contains(got, "secret ns-x/s2") || !slices.Contains(got, "secret ns-x/legacy") {
		t.Errorf("records revoke --dry-run -o json: exit %d, %v; want ns-x/s2 and ns-x/legacy", code, got)
	}
	if diff := snapshotDiff(before, snapshot(t, s.root)); diff != "" {
		t.Errorf("records revoke --dry-run changed the root dir: %s", diff)
	}

	// --watch revokes once its caches synced; it is stopped once it has
	// printed that pass.
	st.runs++
	st.forms["revoke --watch -o json"] = true
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	var watchOut syncBuffer
	done := make(chan int, 1)
	go func() {
		_, _, code := s.execTo(ctx, nil, &watchOut, args("--watch", "-o", "json", "--interval", "1h")...)
		done <- code
	}()
	deadline := time.After(time.Minute)
wait:
	for !strings.Contains(watchOut.String(), "\n") {
		select {
		case <-deadline:
			t.Errorf("records revoke --watch printed no pass within a minute")
			break wait
		case code := <-done:
			t.Errorf("records revoke --watch ended early: exit %d, %s", code, watchOut.String())
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	code = <-done
	got := decodeRevoked(t, watchOut.String())
	st.revoked += len(got)
	if code != app.ExitOK || !slices.Contains(got, "secret ns-x/s2") || !slices.Contains(got, "secret ns-x/legacy") || s.recordsName(t, "ns-x", "s2") {
		t.Errorf("records revoke --watch: exit %d, %v; want ns-x/s2 and ns-x/legacy revoked", code, got)
	}
	checkModes("records revoke --watch")

	// The service account is deleted: one pass, text, then JSON (nothing
	// left).
	api.remove("serviceaccounts", "ns-s/builder")
	stdout, _, code = run(args()...)
	if code != app.ExitOK || !strings.Contains(stdout, "serviceAccount") || !strings.Contains(stdout, "ns-s/builder") {
		t.Errorf("records revoke after the service account was deleted: exit %d, %s", code, stdout)
	} else {
		st.revoked++
	}
	checkModes("records revoke")
	stdout, _, code = run(args("-o", "json")...)
	if got := decodeRevoked(t, stdout); code != app.ExitOK || len(got) != 0 {
		t.Errorf("records revoke -o json, nothing left to revoke: exit %d, %v", code, got)
	}
	checkModes("records revoke -o json")
	requests, withToken := api.requestCount()
	st.metadataRequests = requests
	// The token was in play: every request carried it.
	if withToken == 0 || withToken < requests {
		t.Errorf("%d of %d requests to the metadata API server carried the kubeconfig's token", withToken, requests)
	}
}

// decodeRevoked returns "KIND NS/NAME" for each credential of revoke's
// JSON output (one object per line with --watch).
func decodeRevoked(t *testing.T, stdout string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if line == "" {
			continue
		}
		var pass struct {
			Revoked []struct {
				Kind      string `json:"kind"`
				Namespace string `json:"namespace"`
				Name      string `json:"name"`
			} `json:"revoked"`
		}
		if err := json.Unmarshal([]byte(line), &pass); err != nil {
			t.Errorf("records revoke -o json: %v in %q", err, line)
			continue
		}
		for _, r := range pass.Revoked {
			out = append(out, r.Kind+" "+r.Namespace+"/"+r.Name)
		}
	}
	return out
}

// recordsName reports whether a record on disk names the Secret ns/name.
func (s *suite) recordsName(t *testing.T, ns, name string) bool {
	t.Helper()
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: filepath.Join(s.root, imagepullrecords.ManagerDirName), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	if _, err := store.WalkRecords(func(f imagepullrecords.RecordFile) {
		for _, creds := range f.Record.CredentialMapping {
			for _, sec := range creds.KubernetesSecrets {
				found = found || (sec.Namespace == ns && sec.Name == name)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	return found
}

// metadataAPI is a stand-in for the API server's metadata endpoints that
// records revoke reads: lists and watches of namespaces, secrets and
// serviceaccounts, cluster-wide, as PartialObjectMetadata JSON, without
// watch-list streams (so the informers list too). Objects keep their whole
// metadata, as a real server sends it: annotations included, among them a
// Secret's last-applied-configuration, which holds its data.
type metadataAPI struct {
	server *httptest.Server
	// stop ends the open watches before the server closes.
	stop chan struct{}

	mu       sync.Mutex
	objects  map[string]map[string]metav1.ObjectMeta
	requests int
	// tokens counts the requests that carried the kubeconfig's token.
	tokens int
}

func newMetadataAPI(t *testing.T) *metadataAPI {
	a := &metadataAPI{stop: make(chan struct{}), objects: map[string]map[string]metav1.ObjectMeta{"namespaces": {}, "secrets": {}, "serviceaccounts": {}}}
	// TLS: clientcmd sends a kubeconfig's token only over https.
	a.server = httptest.NewTLSServer(http.HandlerFunc(a.serve))
	t.Cleanup(func() {
		close(a.stop)
		a.server.Close()
	})
	return a
}

func (a *metadataAPI) set(resource string, m metav1.ObjectMeta) {
	a.mu.Lock()
	defer a.mu.Unlock()
	m.ResourceVersion = "1"
	a.objects[resource][metaKey(m)] = m
}

func (a *metadataAPI) remove(resource, key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.objects[resource], key)
}

// requestCount returns the number of list and watch requests, and of
// those that carried the kubeconfig's token.
func (a *metadataAPI) requestCount() (requests, withToken int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests, a.tokens
}

func metaKey(m metav1.ObjectMeta) string {
	if m.Namespace == "" {
		return m.Name
	}
	return m.Namespace + "/" + m.Name
}

// kubeconfig writes a kubeconfig for the server with a bearer token.
func (a *metadataAPI) kubeconfig(t *testing.T, token string) string {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	ca := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.server.Certificate().Raw}))
	config := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: %s\n    certificate-authority-data: %s\nusers:\n- name: u\n  user:\n    token: %s\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\n", a.server.URL, ca, token)
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (a *metadataAPI) items(resource string) []metav1.PartialObjectMetadata {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	out := make([]metav1.PartialObjectMetadata, 0, len(a.objects[resource]))
	for _, m := range a.objects[resource] {
		out = append(out, metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{Kind: "PartialObjectMetadata", APIVersion: "meta.k8s.io/v1"}, ObjectMeta: m})
	}
	slices.SortFunc(out, func(x, y metav1.PartialObjectMetadata) int {
		return strings.Compare(metaKey(x.ObjectMeta), metaKey(y.ObjectMeta))
	})
	return out
}

func (a *metadataAPI) serve(w http.ResponseWriter, r *http.Request) {
	resource, _ := strings.CutPrefix(r.URL.Path, "/api/v1/")
	a.mu.Lock()
	_, known := a.objects[resource]
	if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "+revokeToken) {
		a.tokens++
	}
	a.mu.Unlock()
	if r.Method != http.MethodGet || !known {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	q := r.URL.Query()
	if q.Get("watch") != "true" && q.Get("watch") != "1" {
		_ = json.NewEncoder(w).Encode(&metav1.PartialObjectMetadataList{
			TypeMeta: metav1.TypeMeta{Kind: "PartialObjectMetadataList", APIVersion: "meta.k8s.io/v1"},
			ListMeta: metav1.ListMeta{ResourceVersion: "1"},
			Items:    a.items(resource),
		})
		return
	}
	if q.Get("sendInitialEvents") == "true" {
		// As a server without the WatchList feature answers: the
		// informers fall back to a list, whose body client-go may log.
		w.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(w).Encode(&metav1.Status{
			TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
			Status:   metav1.StatusFailure, Code: http.StatusUnprocessableEntity, Reason: metav1.StatusReasonInvalid,
			Message: "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
		})
		return
	}
	// Objects do not change while a watch is open: it only waits.
	w.WriteHeader(http.StatusOK)
	if flusher, ok := w.(http.Flusher); ok {
		flusher.Flush()
	}
	select {
	case <-r.Context().Done():
	case <-a.stop:
	}
}
