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

package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/yaml"

	"k8s.io/kubernetes/pkg/features"
	"k8s.io/kubernetes/pkg/kubelet/cri/embedded/imageservice"
	"k8s.io/kubernetes/pkg/kubelet/cri/embedded/registry"
)

type demoOptions struct {
	keep bool
}

func newDemoCommand(deps *Deps) *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the multi-tenant story against an embedded registry and runtime",
		Long: `Start an embedded registry (HTTP basic auth, per-repository access) and an
embedded CRI image service on loopback, in a temporary directory, push a private
image for tenant A, then run the multi-tenant story of KEP-2535: tenant B without
a Secret, with credentials the registry refuses, with A's credentials under A's
Secret and under another one, other valid credentials, the four verification
policies, the allowlist, preloaded images, one image under two names, two pods
pulling at once, the registry down, a crash before the record, a Secret rotated
and recreated, a dry run, the feature gate off, and garbage collection followed
by records prune; then a credential provider plugin with service account
tokens: a tenant's pod pulls through the plugin, pods of the same service
account reuse the image, another tenant's and a recreated service account's
must pull, and the plugin's cache saves execs. That scene's API server is an
in-process stand-in (a loopback HTTP server, reached through a kubeconfig,
minting HMAC tokens for the demo's plugin); the plugin is this executable,
run by the real exec path.

Every step runs "kubelet-imagectl ensure" (or "records prune") in-process with
generated manifests and a KubeletConfiguration file, each run a fresh image
manager over the same root dir, as a restarted kubelet would be. The table shows
each decision, the rule that decided and whether the registry was contacted (from
the registry's access log); the records on disk follow. The exit code is 0 only
when every decision and check is the expected one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The table tells the story; the image manager's own logs (a
			// warning per refusal) only when asked for with -v.
			logger := klog.FromContext(cmd.Context())
			if !cmd.Flags().Changed("v") {
				logger = klog.Logger{}
			}
			return runDemo(klog.NewContext(cmd.Context(), logger), deps, o)
		},
	}
	cmd.Flags().BoolVar(&o.keep, "keep", false, "Keep the temporary directory (manifests, config files, root dir) and print its path.")
	cmd.AddCommand(newDemoPluginCommand(deps))
	return cmd
}

// demoWant is the expected outcome of one container in the demo.
type demoWant struct {
	result string
	// rules are the acceptable verifications; two pods racing for one
	// image may see it absent or already pulled by the other.
	rules     []string
	contacted bool
}

func (w demoWant) matches(c containerOutput, contacted bool) bool {
	return c.Result == w.result && slices.Contains(w.rules, c.Verification) && contacted == w.contacted
}

func (w demoWant) String() string {
	return fmt.Sprintf("%s, %s, registry %s", w.result, strings.Join(w.rules, "|"), yesNo(w.contacted))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// demoPod is one pod of a demo step, with one container.
type demoPod struct {
	scenario   string
	namespace  string
	name       string
	image      string
	pullPolicy v1.PullPolicy
	secrets    []string
	// serviceAccount is the pod's spec.serviceAccountName.
	serviceAccount string
	want           demoWant
}

// demoStep is one in-process ensure run.
type demoStep struct {
	// policy is written to the KubeletConfiguration file; "" writes no
	// file and the default (NeverVerifyPreloadedImages) applies.
	policy    string
	allowlist []string
	gateOff   bool
	dryRun    bool
	// api reads the pods from the stand-in API server (--kubeconfig,
	// --pod-name) and runs the demo's credential provider plugin.
	api  bool
	pods []demoPod
}

// demoRow is one line of the demo table.
type demoRow struct {
	section  string
	scenario string
	pod      string
	policy   string
	pull     string
	result   string
	rule     string
	registry string
	check    string
	ok       bool
}

// demoCheck is a check of the records or the root dir.
type demoCheck struct {
	what string
	ok   bool
	// detail explains a failure.
	detail string
}

// demoEnv is the demo's world: registry, runtime, root dir, manifests and
// the Secrets of the cluster it pretends to be.
type demoEnv struct {
	ctx       context.Context
	deps      *Deps
	dir       string
	rootDir   string
	manifests string
	reg       *registry.Registry
	runtime   *imageservice.Server
	endpoint  string
	passwords map[string]string
	// secrets are the cluster's Secrets, written to every step's Secret
	// file; order keeps the files stable.
	secrets []*v1.Secret
	// plugin is the credential provider scene's set-up, nil before it.
	plugin  *demoPluginSetup
	seq     int
	section string
	rows    []demoRow
	checks  []demoCheck
}

func runDemo(ctx context.Context, deps *Deps, o *demoOptions) (err error) {
	dir, err := os.MkdirTemp("", "kubelet-imagectl-demo-")
	if err != nil {
		return environmentErrorf("creating the demo directory: %v", err)
	}
	defer func() {
		if o.keep {
			fmt.Fprintf(deps.Stdout, "\nDemo files kept in %s\n", dir)
			return
		}
		_ = os.RemoveAll(dir)
	}()
	env := &demoEnv{
		ctx:       ctx,
		deps:      deps,
		dir:       dir,
		rootDir:   filepath.Join(dir, "root"),
		manifests: filepath.Join(dir, "manifests"),
	}
	for _, d := range []string{env.rootDir, env.manifests} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return environmentErrorf("creating %s: %v", d, err)
		}
	}
	if err := env.start(); err != nil {
		return environmentErrorf("starting the demo: %v", err)
	}
	defer env.stop()

	if err := env.story(); err != nil {
		return environmentErrorf("demo: %v", err)
	}
	return env.report()
}

// demoUsers are the registry accounts. Passwords are random and never
// printed.
var demoUsers = []string{"alice", "alice-rotated", "bob", "ci-1", "ci-2", "ci-3", "ci-4", "robot-a", "robot-b"}

// demoRepos says who may pull which repository of the demo registry.
var demoRepos = map[string]registry.Access{
	"team-a/app":        {Users: []string{"alice", "alice-rotated", "ci-1", "ci-2", "ci-3", "ci-4"}},
	"team-a/app-alias":  {Users: []string{"alice"}},
	"team-a/app-mirror": {Users: []string{"alice"}},
	"team-a/base":       {Users: []string{"alice"}},
	"team-a/race":       {Users: []string{"alice"}},
	"team-a/crash":      {Users: []string{"alice"}},
	"team-a/gc-old":     {Users: []string{"alice"}},
	"team-a/gc-new":     {Users: []string{"alice"}},
	"team-a/sa-app":     {Users: []string{"robot-a"}}, // through the credential provider plugin
	"team-b/app":        {Users: []string{"bob", "robot-b"}},
	"public/tools":      {Anonymous: true},
}

func (e *demoEnv) start() error {
	e.passwords = map[string]string{}
	for _, u := range demoUsers {
		e.passwords[u] = string(uuid.NewUUID())
	}
	var err error
	e.reg, err = registry.New(registry.Options{Users: e.passwords, Repos: demoRepos})
	if err != nil {
		return err
	}
	e.runtime, err = imageservice.Start(imageservice.Options{Dir: filepath.Join(e.dir, "runtime")})
	if err != nil {
		return err
	}
	e.endpoint = e.runtime.Endpoint()
	return nil
}

func (e *demoEnv) stop() {
	if e.plugin != nil {
		_ = e.plugin.api.stop()
	}
	if e.runtime != nil {
		_ = e.runtime.Stop()
	}
	if e.reg != nil {
		_ = e.reg.Stop()
	}
}

// ref is the full reference of a repository path on the demo registry.
func (e *demoEnv) ref(name string) string { return e.reg.Ref(name) }

// addSecret adds (or replaces, by namespace and name) a dockerconfigjson
// Secret holding user's credentials for the demo registry. uid "" makes a
// new one.
func (e *demoEnv) addSecret(namespace, name, uid, user, password string) {
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	config := fmt.Sprintf(`{"auths":{%q:{"username":%q,"password":%q,"auth":%q}}}`, e.reg.Addr(), user, password, auth)
	if uid == "" {
		uid = string(uuid.NewUUID())
	}
	s := &v1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: types.UID(uid)},
		Type:       v1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{v1.DockerConfigJsonKey: []byte(config)},
	}
	for i, old := range e.secrets {
		if old.Namespace == namespace && old.Name == name {
			e.secrets[i] = s
			return
		}
	}
	e.secrets = append(e.secrets, s)
}

// secretUID returns the UID of a Secret of the demo cluster.
func (e *demoEnv) secretUID(namespace, name string) string {
	for _, s := range e.secrets {
		if s.Namespace == namespace && s.Name == name {
			return string(s.UID)
		}
	}
	return ""
}

// push pushes one new image under every name (repository paths with tags).
func (e *demoEnv) push(names ...string) (registry.PushedImage, error) {
	return e.reg.Push(e.ctx, names...)
}

// preload puts an image into the runtime behind the kubelet's back, as an
// operator preloading a node would.
func (e *demoEnv) preload(image string) error {
	user, password := e.reg.AdminCredentials()
	_, err := e.runtime.Preload(e.ctx, image, &runtimeapi.AuthConfig{Username: user, Password: password})
	return err
}

// invoke runs kubelet-imagectl in-process and returns its stdout and exit
// code. Exit codes other than 0 and 1 are errors (with stderr).
func (e *demoEnv) invoke(args ...string) ([]byte, int, error) {
	var stdout, stderr bytes.Buffer
	logger := klog.FromContext(e.ctx)
	code := Run(e.ctx, args, &Deps{
		Stdout:          &stdout,
		Stderr:          &stderr,
		NewImageService: e.deps.NewImageService,
		NewKubeClient:   e.deps.NewKubeClient,
		Now:             e.deps.Now,
		Logger:          &logger,
	})
	if code != ExitOK && code != ExitNotAdmitted {
		return nil, code, fmt.Errorf("kubelet-imagectl %s: exit code %d: %s", args[0], code, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), code, nil
}

// writeManifest writes obj as YAML into the step's directory.
func writeManifest(path string, docs ...any) error {
	var buf bytes.Buffer
	for i, d := range docs {
		data, err := yaml.Marshal(d)
		if err != nil {
			return err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(data)
	}
	return os.WriteFile(path, buf.Bytes(), 0o600)
}

// ensure runs one step through "kubelet-imagectl ensure" and records a row
// per pod.
func (e *demoEnv) ensure(step demoStep) error {
	e.seq++
	dir := filepath.Join(e.manifests, fmt.Sprintf("step-%02d", e.seq))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	args := []string{"ensure", "--root-dir", e.rootDir, "--runtime-endpoint", e.endpoint, "--docker-config", "", "-o", "json"}
	if step.api && e.plugin == nil {
		return errors.New("a step reads the stand-in API server before it was started")
	}
	for _, p := range step.pods {
		pod := &v1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Namespace: p.namespace, Name: p.name},
			Spec: v1.PodSpec{
				Containers:         []v1.Container{{Name: "app", Image: p.image, ImagePullPolicy: p.pullPolicy}},
				ServiceAccountName: p.serviceAccount,
			},
		}
		for _, s := range p.secrets {
			pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, v1.LocalObjectReference{Name: s})
		}
		if step.api {
			// The API server gives every pod a UID; tokens are bound to it.
			pod.UID = uuid.NewUUID()
		}
		path := filepath.Join(dir, p.namespace+"-"+p.name+".yaml")
		if err := writeManifest(path, pod); err != nil {
			return err
		}
		if step.api {
			// The manifest stays for --keep; ensure reads the pod from the
			// stand-in API server.
			if err := e.plugin.api.putPod(pod); err != nil {
				return err
			}
			args = append(args, "--pod-name", p.namespace+"/"+p.name)
			continue
		}
		args = append(args, "--pod", path)
	}
	if step.api {
		args = append(args, "--kubeconfig", e.plugin.kubeconfig,
			"--image-credential-provider-config", e.plugin.providersConfig,
			"--image-credential-provider-bin-dir", e.plugin.binDir)
	}
	if len(e.secrets) > 0 && !step.api {
		docs := make([]any, 0, len(e.secrets))
		for _, s := range e.secrets {
			docs = append(docs, s)
		}
		path := filepath.Join(dir, "secrets.yaml")
		if err := writeManifest(path, docs...); err != nil {
			return err
		}
		args = append(args, "--secret", path)
	}
	if step.policy != "" {
		var b strings.Builder
		fmt.Fprintf(&b, "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nimagePullCredentialsVerificationPolicy: %s\n", step.policy)
		if len(step.allowlist) > 0 {
			b.WriteString("preloadedImagesVerificationAllowlist:\n")
			for _, a := range step.allowlist {
				fmt.Fprintf(&b, "- %q\n", a)
			}
		}
		path := filepath.Join(dir, "kubelet-config.yaml")
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			return err
		}
		args = append(args, "--config", path)
	}
	if step.gateOff {
		args = append(args, "--feature-gates", string(features.KubeletEnsureSecretPulledImages)+"=false")
	}
	if step.dryRun {
		args = append(args, "--dry-run")
	}

	e.reg.ResetAccessLog()
	stdout, _, err := e.invoke(args...)
	if err != nil {
		return err
	}
	access := e.reg.AccessLog()
	results, err := decodePodLines(stdout)
	if err != nil {
		return err
	}
	if len(results) != len(step.pods) {
		return fmt.Errorf("ensure returned %d pods, want %d", len(results), len(step.pods))
	}
	policy := step.policy
	switch {
	case step.gateOff:
		policy = "(feature gate off)"
	case policy == "":
		policy = "NeverVerifyPreloadedImages"
	}
	for i, p := range step.pods {
		if len(results[i].Containers) != 1 {
			return fmt.Errorf("pod %s: %d containers in the output, want 1", results[i].Pod, len(results[i].Containers))
		}
		c := results[i].Containers[0]
		contacted := registryContacted(access, e.reg.Addr(), p.image)
		row := demoRow{
			section:  e.section,
			scenario: p.scenario,
			pod:      results[i].Pod,
			policy:   policy,
			pull:     string(c.PullPolicy),
			result:   c.Result,
			rule:     orNone(c.Verification),
			registry: yesNo(contacted),
		}
		if c.Reason != "" {
			row.result += " (" + c.Reason + ")"
		}
		if step.dryRun {
			row.policy += ", dry run"
		}
		row.ok = p.want.matches(c, contacted)
		row.check = "ok"
		if !row.ok {
			row.check = "UNEXPECTED, want " + p.want.String()
		}
		e.rows = append(e.rows, row)
	}
	return nil
}

// decodePodLines decodes ensure's JSON lines.
func decodePodLines(data []byte) ([]podOutput, error) {
	var out []podOutput
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var p podOutput
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			return nil, fmt.Errorf("decoding ensure output: %w", err)
		}
		out = append(out, p)
	}
	return out, sc.Err()
}

// registryContacted reports whether the access log shows a request for
// image's repository.
func registryContacted(access []registry.Entry, host, image string) bool {
	repo := strings.TrimPrefix(image, host+"/")
	if i := strings.IndexAny(repo, ":@"); i >= 0 {
		repo = repo[:i]
	}
	for _, a := range access {
		if a.Repository == repo {
			return true
		}
	}
	return false
}

// check records a check.
func (e *demoEnv) check(what string, ok bool, detail string) {
	e.checks = append(e.checks, demoCheck{what: what, ok: ok, detail: detail})
}

// records lists the records through the same code as records list.
func (e *demoEnv) records() (*recordsListOutput, error) {
	return listRecords(e.rootDir)
}

// recordOf returns the record of imageRef, nil when there is none.
func (e *demoEnv) recordOf(imageRef string) (*pulledOutput, error) {
	out, err := e.records()
	if err != nil {
		return nil, err
	}
	for i := range out.Pulled {
		if out.Pulled[i].record.ImageRef == imageRef {
			return &out.Pulled[i], nil
		}
	}
	return nil, nil
}

// snapshotDir returns every path under dir with its mode and content, to
// prove that a step wrote nothing.
func snapshotDir(dir string) (map[string]string, error) {
	snap := map[string]string{}
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		entry := info.Mode().String()
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			entry += " " + string(data)
		}
		snap[path] = entry
		return nil
	})
	return snap, err
}

// report prints the table, the checks and the records, and returns
// errNotAdmitted-style exit code 1 when anything was unexpected.
func (e *demoEnv) report() error {
	w := e.deps.Stdout
	fmt.Fprintf(w, "kubelet-imagectl demo: KEP-2535 (ensure secret pulled images) against an embedded registry and CRI image service\n")
	fmt.Fprintf(w, "  registry   %s (HTTP basic auth; team-a/* private to tenant A's accounts, public/* anonymous)\n", e.reg.Addr())
	fmt.Fprintf(w, "  runtime    %s (embedded CRI image service)\n", e.endpoint)
	fmt.Fprintf(w, "  root dir   %s\n", e.rootDir)
	fmt.Fprintf(w, "  every step is \"kubelet-imagectl ensure\" in-process: a new image manager over the same root dir (a kubelet restart)\n")
	fmt.Fprintf(w, "  P = %s\n\n", e.ref("team-a/app:1.0"))

	header := []string{"#", "SCENARIO", "POD", "POLICY", "PULL POLICY", "RESULT", "RULE", "REGISTRY", "CHECK"}
	table := [][]string{header}
	sections := map[int]string{}
	section := ""
	for i, r := range e.rows {
		if r.section != section {
			sections[len(table)] = r.section
			section = r.section
		}
		table = append(table, []string{fmt.Sprint(i + 1), r.scenario, r.pod, r.policy, r.pull, r.result, r.rule, r.registry, r.check})
	}
	writeAligned(w, table, sections)

	failed := 0
	for _, r := range e.rows {
		if !r.ok {
			failed++
		}
	}
	fmt.Fprintln(w, "\nChecks")
	for _, c := range e.checks {
		mark := "ok  "
		if !c.ok {
			mark = "FAIL"
			failed++
		}
		line := fmt.Sprintf("  %s  %s", mark, c.what)
		if !c.ok && c.detail != "" {
			line += ": " + c.detail
		}
		fmt.Fprintln(w, line)
	}

	fmt.Fprintf(w, "\nRecords on disk (kubelet-imagectl records list --root-dir %s)\n", e.rootDir)
	out, err := e.records()
	if err != nil {
		return err
	}
	if err := writeRecordsListText(w, out); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if failed > 0 {
		fmt.Fprintf(w, "%d of %d decisions and checks were NOT as expected.\n", failed, len(e.rows)+len(e.checks))
		return &exitError{code: ExitNotAdmitted, err: fmt.Errorf("demo: %d unexpected decisions or checks", failed)}
	}
	fmt.Fprintf(w, "All %d decisions and %d checks are as expected.\n", len(e.rows), len(e.checks))
	return nil
}

// writeAligned writes rows with columns padded to their widest cell (three
// spaces apart, as kubectl), with a section heading before the rows whose
// index is in sections.
func writeAligned(w io.Writer, rows [][]string, sections map[int]string) {
	widths := []int{}
	for _, r := range rows {
		for i, cell := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len([]rune(cell)))
		}
	}
	for i, r := range rows {
		if s, ok := sections[i]; ok {
			fmt.Fprintf(w, "-- %s\n", s)
		}
		var b strings.Builder
		for j, cell := range r {
			b.WriteString(cell)
			if j < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[j]-len([]rune(cell))+3))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
