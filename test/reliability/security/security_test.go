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
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/imagepullrecords"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/textlogger"
	"sigs.k8s.io/yaml"

	"k8s.io/kubernetes/cmd/kubelet-imagectl/app"
	"k8s.io/kubernetes/pkg/kubelet/cri/embedded/imageservice"
	"k8s.io/kubernetes/pkg/kubelet/cri/embedded/registry"
)

// Distinctive credentials: any of them (or an encoding of them) in the
// captured output is a leak.
const (
	userAlice     = "alice"
	passAlice     = "Alice-pw-Q7zX-9d2Lk-unique"
	userBob       = "bob"
	passBob       = "Bob-pw-M4vR-1s8Hq-unique"
	userNode      = "nodeuser"
	passNode      = "Node-pw-W2cJ-5p0Tn-unique"
	passRefused   = "Refused-pw-K9fD-3x6Bz-unique"
	passBroken    = "Broken-pw-H1gS-7y4Nc-unique"
	identityToken = "Ident-tok-R8mP-2w5Vf-unique"
	registryToken = "Reg-tok-T3kL-6q9Za-unique"
)

// Repositories: app for tenant users, nodeonly for the node-wide user.
const (
	repoApp      = "team/app"
	repoNodeOnly = "team/nodeonly"
	tag          = ":1"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writers of a run.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// suite is one node: registry, runtime, a root dir and the tool's inputs.
type suite struct {
	t       *testing.T
	ctx     context.Context
	reg     *registry.Registry
	rt      *imageservice.Server
	base    string // t.TempDir(): holds only parent
	parent  string // holds only root
	root    string
	inputs  string // pod, Secret and config files (outside base)
	capture *syncBuffer
	// forbidden maps each forbidden string to what it is.
	forbidden map[string]string
	runs      int
	// pullSecrets are the Secrets dockerSecret made, for the API servers
	// of the records part.
	pullSecrets []*v1.Secret
}

func newSuite(t *testing.T) *suite {
	t.Helper()
	s := &suite{t: t, capture: &syncBuffer{}, forbidden: map[string]string{}}
	// Every component logs at verbosity 10 into the capture.
	logger := textlogger.NewLogger(textlogger.NewConfig(textlogger.Verbosity(10), textlogger.Output(s.capture)))
	s.ctx = klog.NewContext(context.Background(), logger)
	var klogFlags flag.FlagSet
	klog.InitFlags(&klogFlags)
	for name, value := range map[string]string{"v": "10", "logtostderr": "false", "alsologtostderr": "false", "stderrthreshold": "FATAL"} {
		if err := klogFlags.Set(name, value); err != nil {
			t.Fatalf("klog flag %s: %v", name, err)
		}
	}
	klog.SetOutput(s.capture)
	t.Cleanup(func() {
		klog.Flush()
		klog.SetOutput(os.Stderr)
		_ = klogFlags.Set("v", "0")
		_ = klogFlags.Set("logtostderr", "true")
	})

	var err error
	s.reg, err = registry.New(registry.Options{
		Users: map[string]string{userAlice: passAlice, userBob: passBob, userNode: passNode, userPlugin: passPlugin},
		Repos: map[string]registry.Access{
			repoApp:      {Users: []string{userAlice, userBob}},
			repoNodeOnly: {Users: []string{userNode}},
			repoSA:       {Users: []string{userPlugin}},
		},
		Logger: logger,
	})
	if err != nil {
		t.Fatalf("starting the registry: %v", err)
	}
	t.Cleanup(func() { _ = s.reg.Stop() })
	for _, repo := range []string{repoApp, repoNodeOnly, repoSA} {
		if _, err := s.reg.Push(s.ctx, repo+tag); err != nil {
			t.Fatalf("pushing %s: %v", repo, err)
		}
	}
	s.rt, err = imageservice.Start(imageservice.Options{Logger: logger})
	if err != nil {
		t.Fatalf("starting the image service: %v", err)
	}
	t.Cleanup(func() { _ = s.rt.Stop() })

	s.base = t.TempDir()
	s.parent = filepath.Join(s.base, "parent")
	s.root = filepath.Join(s.parent, "root")
	s.inputs = t.TempDir()
	if err := os.MkdirAll(s.root, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{passAlice, passBob, passNode, passRefused, passBroken, identityToken, registryToken} {
		s.forbid(p, "a password or token")
	}
	for _, up := range [][2]string{{userAlice, passAlice}, {userBob, passBob}, {userNode, passNode}, {userAlice, passRefused}, {userPlugin, passPlugin}, {userPlugin, passPluginRefused}} {
		s.forbid(base64.StdEncoding.EncodeToString([]byte(up[0]+":"+up[1])), "a docker auth value")
	}
	return s
}

// forbid adds secret and its base64 forms at every byte alignment (the
// middle of the encoding, which does not depend on neighbours), and
// returns them.
func (s *suite) forbid(secret, what string) []string {
	s.forbidden[secret] = what
	needles := []string{secret}
	for k := range 3 {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x00", k) + secret))
		if len(enc) > 12 {
			s.forbidden[enc[4:len(enc)-4]] = what + " in base64"
			needles = append(needles, enc[4:len(enc)-4])
		}
	}
	return needles
}

// writeJSON writes objs (as YAML documents) into the inputs dir and returns the path.
func (s *suite) writeJSON(name string, objs ...any) string {
	s.t.Helper()
	var buf bytes.Buffer
	for i, obj := range objs {
		data, err := yaml.Marshal(obj)
		if err != nil {
			s.t.Fatal(err)
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(data)
		buf.WriteString("\n")
	}
	path := filepath.Join(s.inputs, name)
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		s.t.Fatal(err)
	}
	return path
}

// dockerSecret returns a pull Secret and forbids its data.
func (s *suite) dockerSecret(ns, name string, secretType v1.SecretType, data string) *v1.Secret {
	s.forbid(data, "Secret data")
	s.forbidden[base64.StdEncoding.EncodeToString([]byte(data))] = "Secret data in base64"
	key := v1.DockerConfigJsonKey
	if secretType == v1.SecretTypeDockercfg {
		key = v1.DockerConfigKey
	}
	secret := &v1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + ns + "-" + name)},
		Type:       secretType,
		Data:       map[string][]byte{key: []byte(data)},
	}
	s.pullSecrets = append(s.pullSecrets, secret)
	return secret
}

// pod returns a one-container pod.
func pod(ns, name, container, image string, policy v1.PullPolicy, secrets ...string) *v1.Pod {
	p := &v1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-pod-" + name)},
		Spec:       v1.PodSpec{Containers: []v1.Container{{Name: container, Image: image, ImagePullPolicy: policy}}},
	}
	for _, sec := range secrets {
		p.Spec.ImagePullSecrets = append(p.Spec.ImagePullSecrets, v1.LocalObjectReference{Name: sec})
	}
	return p
}

// containerResult is the part of ensure's JSON output the test reads.
type containerResult struct {
	Result        string `json:"result"`
	Reason        string `json:"reason"`
	Message       string `json:"message"`
	Verification  string `json:"verification"`
	PullAttempted bool   `json:"pullAttempted"`
}

type podResult struct {
	Pod    string `json:"pod"`
	Events []struct {
		Reason string `json:"reason"`
	} `json:"events"`
	Containers []containerResult `json:"containers"`
}

// run runs kubelet-imagectl in-process at -v=10; stdout and stderr go into
// the capture too.
func (s *suite) run(args ...string) (map[string]podResult, int) {
	s.t.Helper()
	return s.runWith(nil, args...)
}

// runWith runs kubelet-imagectl as run does, with newClient as its API
// server connection (nil: the real one).
func (s *suite) runWith(newClient app.KubeClientFactory, args ...string) (map[string]podResult, int) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 2*time.Minute)
	defer cancel()
	stdout, _, code := s.exec(ctx, newClient, args...)
	results := map[string]podResult{}
	for _, line := range strings.Split(stdout, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var r podResult
		if err := json.Unmarshal([]byte(line), &r); err == nil && r.Pod != "" {
			results[r.Pod] = r
		}
	}
	return results, code
}

// exec runs kubelet-imagectl in-process at -v=10 until it exits or ctx
// ends, and returns its stdout and stderr, which go into the capture too.
func (s *suite) exec(ctx context.Context, newClient app.KubeClientFactory, args ...string) (stdout, stderr string, code int) {
	var out syncBuffer
	return s.execTo(ctx, newClient, &out, args...)
}

// execTo is exec with stdout written to out as the tool writes it, for a
// run that ends only with ctx.
func (s *suite) execTo(ctx context.Context, newClient app.KubeClientFactory, out *syncBuffer, args ...string) (stdout, stderr string, code int) {
	s.runs++
	// The tool's logger writes to stderr from every pod's goroutine.
	var errOut syncBuffer
	// -v=10 goes before a "--" that ends the flags.
	end := slices.Index(args, "--")
	if end < 0 {
		end = len(args)
	}
	args = slices.Concat(args[:end], []string{"-v=10"}, args[end:])
	code = app.Run(ctx, args, &app.Deps{Stdout: out, Stderr: &errOut, NewKubeClient: newClient})
	stdout, stderr = out.String(), errOut.String()
	_, _ = s.capture.Write([]byte(stdout))
	_, _ = s.capture.Write([]byte(stderr))
	return stdout, stderr, code
}

// ensureArgs are the common flags of an ensure run.
func (s *suite) ensureArgs(config, secrets, nodeConfig string, pods ...string) []string {
	args := []string{"ensure", "-o", "json", "--root-dir", s.root, "--runtime-endpoint", s.rt.Endpoint(),
		"--config", config, "--secret", secrets, "--docker-config", nodeConfig}
	for _, p := range pods {
		args = append(args, "--pod", p)
	}
	return args
}

// hostileNames are pod-controlled strings that try to leave the root dir.
func hostileNames(long bool) []string {
	names := []string{"..", "../..", "../../../../../../tmp/pwned", "/etc/passwd", "a/../../b", "./.", "%2e%2e%2f", "..\\..\\x", "pwned\x00nul", "sha256-../x"}
	if long {
		for i := range 90 {
			names = append(names, strings.Repeat("../", i%12+1)+fmt.Sprintf("pwned-%d", i))
		}
	}
	return names
}

func TestCredentialsNeverLeakNorCrossNamespacesNorEscapeTheRootDir(t *testing.T) {
	long := os.Getenv("RELIABILITY_SCALE") == "long"
	s := newSuite(t)
	host := s.reg.Addr()
	app1 := s.reg.Ref(repoApp + tag)
	nodeOnly := s.reg.Ref(repoNodeOnly + tag)

	// A looser existing record directory must be tightened.
	for _, dir := range []string{"image_manager", "image_manager/pulled"} {
		if err := os.MkdirAll(filepath.Join(s.root, dir), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(s.root, dir), 0o777); err != nil {
			t.Fatal(err)
		}
	}

	auth := func(user, pass string) string {
		return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	}
	secrets := s.writeJSON("secrets.yaml",
		s.dockerSecret("ns-x", "s1", v1.SecretTypeDockerConfigJson,
			fmt.Sprintf(`{"auths":{%q:{"username":%q,"password":%q}}}`, host, userAlice, passAlice)),
		s.dockerSecret("ns-x", "s2", v1.SecretTypeDockerConfigJson,
			fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, auth(userAlice, passAlice))),
		s.dockerSecret("ns-x", "legacy", v1.SecretTypeDockercfg,
			fmt.Sprintf(`{%q:{"auth":%q,"email":"b@example.com"}}`, "http://"+host, auth(userBob, passBob))),
		s.dockerSecret("ns-x", "refused", v1.SecretTypeDockerConfigJson,
			fmt.Sprintf(`{"auths":{%q:{"username":%q,"password":%q}}}`, host, userAlice, passRefused)),
		s.dockerSecret("ns-x", "broken", v1.SecretTypeDockerConfigJson,
			fmt.Sprintf(`{"auths":{%q:{"username":%q,"password":%q`, host, userAlice, passBroken)),
		s.dockerSecret("ns-z", "tokens", v1.SecretTypeDockerConfigJson,
			fmt.Sprintf(`{"auths":{%q:{"identitytoken":%q,"registrytoken":%q}}}`, host, identityToken, registryToken)),
	)
	nodeConfigData := fmt.Sprintf(`{"auths":{"%s/team/nodeonly":{"auth":%q}}}`, host, auth(userNode, passNode))
	s.forbid(nodeConfigData, "node docker config")
	nodeConfig := filepath.Join(s.inputs, "config.json")
	if err := os.WriteFile(nodeConfig, []byte(nodeConfigData), 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(s.inputs, "kubelet.yaml")
	if err := os.WriteFile(config, []byte("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nimagePullCredentialsVerificationPolicy: AlwaysVerify\nmaxParallelImagePulls: 4\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// 1. Tenant X pulls the private image with s1.
	res, code := s.run(s.ensureArgs(config, secrets, nodeConfig, s.writeJSON("a.yaml", pod("ns-x", "a", "app", app1, v1.PullIfNotPresent, "s1")))...)
	if code != app.ExitOK || res["ns-x/a"].Containers[0].Result != "Pulled" {
		t.Fatalf("pod A with valid credentials: exit %d, %+v\n%s", code, res, s.capture.String())
	}

	// 2. A pod in ns-y naming s1, which exists only in ns-x: never gets its
	// credentials. Present image, IfNotPresent: it must pull, anonymously,
	// and the registry refuses; Never: denied.
	pullsBefore := len(s.rt.Pulls())
	res, code = s.run(s.ensureArgs(config, secrets, nodeConfig,
		s.writeJSON("d.yaml", pod("ns-y", "d", "app", app1, v1.PullIfNotPresent, "s1")),
		s.writeJSON("e.yaml", pod("ns-y", "e", "app", app1, v1.PullNever, "s1")))...)
	if code != app.ExitNotAdmitted || res["ns-y/d"].Containers[0].Result != "Failed" || res["ns-y/e"].Containers[0].Result != "Denied" {
		t.Errorf("pods in ns-y naming ns-x's Secret: exit %d, %+v; want Failed and Denied", code, res)
	}
	for _, p := range s.rt.Pulls()[pullsBefore:] {
		if p.Username != "" {
			t.Errorf("a pod in ns-y pulled %s as %q: another namespace's Secret was used", p.Image, p.Username)
		}
	}
	crossNamespace := 2

	// 3. Everything else at once: same content in auth form, a legacy
	// dockercfg Secret, refused credentials, a Secret that does not parse,
	// tokens, node-wide credentials.
	res, code = s.run(s.ensureArgs(config, secrets, nodeConfig,
		s.writeJSON("b.yaml", pod("ns-x", "b", "app", app1, v1.PullIfNotPresent, "s2")),
		s.writeJSON("c.yaml", pod("ns-x", "c", "app", app1, v1.PullIfNotPresent, "refused")),
		s.writeJSON("f.yaml", pod("ns-x", "f", "app", app1, v1.PullIfNotPresent, "broken")),
		s.writeJSON("g.yaml", pod("ns-x", "g", "app", app1, v1.PullAlways, "legacy")),
		s.writeJSON("h.yaml", pod("ns-z", "h", "app", app1, v1.PullAlways, "tokens")),
		s.writeJSON("n.yaml", pod("ns-w", "n", "app", nodeOnly, v1.PullAlways)))...)
	want := map[string]string{"ns-x/b": "Reused", "ns-x/c": "Failed", "ns-x/f": "Failed", "ns-x/g": "Pulled", "ns-z/h": "Failed", "ns-w/n": "Pulled"}
	for p, w := range want {
		if got := res[p]; len(got.Containers) != 1 || got.Containers[0].Result != w {
			t.Errorf("pod %s: %+v, want %s", p, got, w)
		}
	}
	if code != app.ExitNotAdmitted {
		t.Errorf("mixed run: exit %d, want %d", code, app.ExitNotAdmitted)
	}
	if m := res["ns-x/f"]; len(m.Containers) == 1 && !strings.Contains(m.Containers[0].Message, "broken") {
		t.Errorf("a Secret that does not parse: message %q does not name it", m.Containers[0].Message)
	}

	// 4. Hostile pod-controlled strings: namespace, name, container name,
	// image and Secret names. Each pod runs alone: the tool may refuse the
	// file (exit 2) or the pod (exit 1), never write outside the root.
	hostile := hostileNames(long)
	for i, name := range hostile {
		images := []string{app1, s.reg.Ref(repoApp) + "/" + name + tag, name + tag, host + "/" + name + tag}
		p := pod("ns-x", name, name, images[i%len(images)], v1.PullIfNotPresent, name, "s1")
		if i%2 == 1 {
			p.Namespace = name
		}
		_, code := s.run(s.ensureArgs(config, secrets, nodeConfig, s.writeJSON(fmt.Sprintf("hostile-%d.yaml", i), p))...)
		if code != app.ExitOK && code != app.ExitNotAdmitted && code != app.ExitUsage {
			t.Errorf("hostile pod %q: exit %d", name, code)
		}
	}

	// 5. The read-only tools at -v=10, and a dry run.
	if _, code := s.run("records", "list", "-o", "json", "--root-dir", s.root); code != app.ExitOK {
		t.Errorf("records list: exit %d", code)
	}
	if _, code := s.run(append(s.ensureArgs(config, secrets, nodeConfig, s.writeJSON("dry.yaml", pod("ns-x", "dry", "app", app1, v1.PullIfNotPresent, "s2"))), "--dry-run")...); code != app.ExitOK {
		t.Errorf("dry run: exit %d", code)
	}

	// 6. Credential provider plugins: service account tokens from a fake
	// API server, every failure mode of the plugin, the exec timeout.
	plugins := s.pluginCampaign(t, config, nodeConfig)

	// 7. Every records subcommand over this root dir, explain with hostile
	// names too.
	records := s.recordsCampaign(t, config, secrets, nodeConfig, plugins, long)

	// Leaks: the capture holds every log line of every component at
	// verbosity 10, the events and errors (in the JSON output), stdout and
	// stderr.
	klog.Flush()
	captured := s.capture.String()
	if dump := os.Getenv("SECURITY_CAPTURE_FILE"); dump != "" {
		_ = os.WriteFile(dump, []byte(captured), 0o600)
	}
	leaks, pluginLeaks, recordsLeaks := 0, 0, 0
	recordsPart := captured[records.from:records.to]
	for needle, what := range s.forbidden {
		if i := strings.Index(captured, needle); i >= 0 {
			leaks++
			if plugins.forbidden[needle] {
				pluginLeaks++
			}
			t.Errorf("%s leaked into the output: ...%s...", what, excerpt(captured, i, len(needle)))
		}
		if i := strings.Index(recordsPart, needle); i >= 0 {
			recordsLeaks++
			t.Errorf("%s leaked into the output of a records subcommand: ...%s...", what, excerpt(recordsPart, i, len(needle)))
		}
	}
	lower := strings.ToLower(captured)
	for _, needle := range []string{"authorization:", `"authorization"`, "authorization=", "basic " + strings.ToLower(auth(userAlice, passAlice))} {
		if i := strings.Index(lower, needle); i >= 0 {
			leaks++
			if i >= records.from && i < records.to {
				recordsLeaks++
			}
			t.Errorf("an auth header leaked into the output: ...%s...", excerpt(captured, i, len(needle)))
		}
	}

	// The root dir: 0700 directories, 0600 files, nothing outside.
	files, dirs := 0, 0
	err := filepath.WalkDir(s.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(s.root, path)
		switch {
		case rel == ".":
		case d.IsDir():
			dirs++
			if !slices.Contains([]string{imagepullrecords.ManagerDirName, filepath.Join(imagepullrecords.ManagerDirName, imagepullrecords.IntentsDirName), filepath.Join(imagepullrecords.ManagerDirName, imagepullrecords.RecordsDirName)}, rel) {
				t.Errorf("unexpected directory %s under the root dir", rel)
			}
			if perm := info.Mode().Perm(); perm != 0o700 {
				t.Errorf("directory %s has mode %o, want 700", rel, perm)
			}
		default:
			files++
			if !info.Mode().IsRegular() {
				t.Errorf("%s is not a regular file: %v", rel, info.Mode())
			}
			if perm := info.Mode().Perm(); perm != 0o600 {
				t.Errorf("file %s has mode %o, want 600", rel, perm)
			}
			if base := filepath.Base(rel); !strings.HasPrefix(base, imagepullrecords.FilePrefix) && base != ".lock" {
				t.Errorf("unexpected file %s under the root dir", rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("walking the root dir: %v", err)
	}
	for dir, only := range map[string]string{s.base: "parent", s.parent: "root"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != only {
				t.Errorf("stray %s next to the root dir (in %s)", e.Name(), dir)
			}
		}
	}
	if _, err := os.Lstat("/tmp/pwned"); err == nil {
		t.Errorf("/tmp/pwned exists")
	}

	fmt.Printf("RELIABILITY: security: %d kubelet-imagectl runs at -v=10 (%d bytes of logs, events, errors, stdout, stderr) searched for %d forbidden strings (passwords, tokens, Secret data, docker auth values, their base64 forms, Authorization headers): %d leaks; %d cross-namespace Secret references, 0 used; %d hostile pod-controlled names: 0 files outside the root dir; %d files 0600, %d dirs 0700 (a 0777 existing directory tightened)\n",
		s.runs, len(captured), len(s.forbidden)+4, leaks, crossNamespace, len(hostile), files, dirs)
	fmt.Printf("RELIABILITY: security: credential provider plugins: %d of those runs with a plugin exchanging service account tokens from a fake API server (%d plugin executions, %d tokens issued, %d plugin failure modes through the tool, a TokenRequest refused, the exec timeout through the library), %d forbidden plugin strings (returned passwords, tokens, annotation values, plugin stdout and stderr, with their base64 forms): %d leaks; %d pods of a same-named service account in other namespaces, 0 granted\n",
		plugins.runs, plugins.executions, plugins.tokens, plugins.failureModes, len(plugins.forbidden), pluginLeaks, plugins.crossNamespace)
	fmt.Printf("RELIABILITY: security: records: %d of those runs of the records subcommands (%d forms: %s) over that root dir (%d bytes captured), searched for the same %d forbidden strings (%d of them added here: tokens issued for explain, revoke's kubeconfig token), Secrets with their data from a fake API server for explain and with it in kubectl's last-applied annotation in the metadata revoke lists (%d requests): %d leaks; %d explain runs, %d abbreviated credential hashes shown, 0 of %d full hashes; %d hostile pod-controlled names and %d ../ --pod-name values: 0 files written outside the root dir, 0 changed anywhere by explain, every file explain names inside image_manager/; %d credentials revoked; %d writing runs under umask 0: 0 files looser than 0600, 0 dirs looser than 0700\n",
		records.runs, len(records.forms), strings.Join(slices.Sorted(maps.Keys(records.forms)), ", "), records.to-records.from, len(s.forbidden)+4, len(records.forbidden),
		records.metadataRequests, recordsLeaks, records.explains, records.hashesShown, records.fullHashes, records.hostile, records.podNames, records.revoked, records.writers)
}

// excerpt returns the text around a match, with the match itself masked so
// that a failure message does not repeat the leak.
func excerpt(s string, i, n int) string {
	from, to := max(0, i-60), min(len(s), i+n+60)
	return strings.ReplaceAll(s[from:i]+"<MATCH>"+s[i+n:to], "\n", "\\n")
}

// TestForbiddenFormsAreFound proves the search can see a leak: a password
// inside a base64-encoded docker config (at any alignment) and a docker
// auth value are found; the masked excerpt does not repeat them.
func TestForbiddenFormsAreFound(t *testing.T) {
	s := &suite{forbidden: map[string]string{}}
	s.forbid(passAlice, "password")
	tests := []struct {
		name string
		text string
	}{
		{name: "plain", text: `msg="pulling" password="` + passAlice + `"`},
		{name: "base64 at offset 0", text: base64.StdEncoding.EncodeToString([]byte(passAlice + "}}"))},
		{name: "base64 at offset 1", text: base64.StdEncoding.EncodeToString([]byte(`"` + passAlice + `"}}`))},
		{name: "base64 at offset 2", text: base64.StdEncoding.EncodeToString([]byte(`:"` + passAlice + `"}}`))},
		{name: "base64 of a docker config", text: base64.StdEncoding.EncodeToString([]byte(`{"auths":{"h":{"username":"alice","password":"` + passAlice + `"}}}`))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for needle := range s.forbidden {
				if i := strings.Index(tc.text, needle); i >= 0 {
					if strings.Contains(excerpt(tc.text, i, len(needle)), needle) {
						t.Errorf("the excerpt repeats the leak")
					}
					return
				}
			}
			t.Errorf("no forbidden form found in %q", tc.text)
		})
	}
}
