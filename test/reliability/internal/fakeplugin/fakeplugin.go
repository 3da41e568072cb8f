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

// Package fakeplugin gives the reliability campaigns an exec credential
// provider plugin: command cmd/fakeplugin (standard library only), built
// once per test binary on first use, linked into a bin dir under each
// provider's name, with a v1 CredentialProviderConfig that sets its
// behaviour through the provider's env.
//
// Every execution prints the provider's Stderr secret on stderr, followed by
// the token and the annotation values it received, so that a kubelet that
// kept stderr would leak them; the failure modes also print the Stdout
// secret and the password on stdout, where the kubelet reads it.
//
// A test binary that installs plugins calls Run from its TestMain, which
// removes the built binary at the end.
package fakeplugin

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletconfigv1 "k8s.io/kubelet/config/v1"
	credentialproviderv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
)

// command is the plugin's package.
const command = "k8s.io/kubernetes/test/reliability/internal/fakeplugin/cmd/fakeplugin"

// Mode is how the plugin behaves.
type Mode string

// The modes.
const (
	// ModeOK answers one credential for AuthKey.
	ModeOK Mode = "ok"
	// ModeCrash prints the secrets and exits 1.
	ModeCrash Mode = "crash"
	// ModeGarbage prints the secrets and the password on stdout as text
	// that is not JSON, and exits 0.
	ModeGarbage Mode = "garbage"
	// ModeWrongKind answers valid JSON, with the credential, whose kind is
	// the Stdout secret.
	ModeWrongKind Mode = "wrongkind"
	// ModeWrongVersion answers with an apiVersion that is not the
	// request's (it ends with the Stdout secret).
	ModeWrongVersion Mode = "wrongversion"
	// ModeBadCacheKey answers a cacheKeyType that does not exist (the
	// Stdout secret).
	ModeBadCacheKey Mode = "badcachekey"
	// ModeBig prints 2 MiB of the Stdout secret, past the kubelet's 1 MiB
	// bound.
	ModeBig Mode = "big"
	// ModeEmpty exits 0 without a byte on stdout.
	ModeEmpty Mode = "empty"
	// ModeHang prints the secrets, starts a response and sleeps for an
	// hour: only the exec timeout ends it.
	ModeHang Mode = "hang"
)

// FailureModes are the modes that fail by themselves (ModeHang needs the
// exec timeout).
var FailureModes = []Mode{ModeCrash, ModeGarbage, ModeWrongKind, ModeWrongVersion, ModeBadCacheKey, ModeBig, ModeEmpty}

var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// Run runs the tests of m and removes the plugin binary if one was built.
// Call it from TestMain: os.Exit(fakeplugin.Run(m)).
func Run(m *testing.M) int {
	code := m.Run()
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
	return code
}

// binary builds the plugin once per test binary.
func binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "reliability-fakeplugin-")
		if build.err != nil {
			return
		}
		build.bin = filepath.Join(build.dir, "fakeplugin")
		cmd := exec.Command(goTool(), "build", "-o", build.bin, command)
		out, err := cmd.CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build %s: %v\n%s", command, err, out)
		}
	})
	if build.err != nil {
		t.Fatalf("building the fake plugin: %v", build.err)
	}
	return build.bin
}

// goTool is the go command of the toolchain running the tests.
func goTool() string {
	if root := runtime.GOROOT(); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}

// Provider is one configured plugin.
type Provider struct {
	// Name is the provider's name, the plugin's file name in the bin dir.
	Name string
	// MatchImages are the provider's matchImages.
	MatchImages []string
	// Mode is the plugin's mode; ModeFile, when set, overrides it with the
	// file's content at each execution (see SetMode).
	Mode     Mode
	ModeFile string
	// AuthKey is the key of the one credential answered (a registry
	// host[:port][/path]); User and Password are its credential. With
	// PasswordAnnotation, the password is the value of that service
	// account annotation in the request instead.
	AuthKey, User, Password, PasswordAnnotation string
	// Stderr is printed on stderr by every execution; Stdout on stdout by
	// the failure modes.
	Stderr, Stdout string
	// Record, when set, is a file every execution appends its request to.
	Record string
	// CacheDuration is defaultCacheDuration (0: not cached).
	CacheDuration time.Duration
	// TokenAttributes are the provider's tokenAttributes, or nil.
	TokenAttributes *kubeletconfigv1.ServiceAccountTokenAttributes
}

// Install links the plugin into a new bin dir under every provider's name
// and writes a v1 CredentialProviderConfig naming them, in order. It
// returns the config file and the bin dir.
func Install(t testing.TB, providers ...Provider) (configPath, binDir string) {
	t.Helper()
	bin := binary(t)
	dir := t.TempDir()
	binDir = filepath.Join(dir, "bin")
	if err := os.Mkdir(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := &kubeletconfigv1.CredentialProviderConfig{
		TypeMeta: metav1.TypeMeta{Kind: "CredentialProviderConfig", APIVersion: kubeletconfigv1.SchemeGroupVersion.String()},
	}
	for _, p := range providers {
		if err := os.Symlink(bin, filepath.Join(binDir, p.Name)); err != nil {
			t.Fatalf("linking plugin %s: %v", p.Name, err)
		}
		env := map[string]string{
			"FAKE_PLUGIN_MODE":                string(p.Mode),
			"FAKE_PLUGIN_MODE_FILE":           p.ModeFile,
			"FAKE_PLUGIN_AUTH_KEY":            p.AuthKey,
			"FAKE_PLUGIN_USER":                p.User,
			"FAKE_PLUGIN_PASSWORD":            p.Password,
			"FAKE_PLUGIN_PASSWORD_ANNOTATION": p.PasswordAnnotation,
			"FAKE_PLUGIN_STDERR":              p.Stderr,
			"FAKE_PLUGIN_STDOUT":              p.Stdout,
			"FAKE_PLUGIN_RECORD":              p.Record,
		}
		keys := make([]string, 0, len(env))
		for k := range env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		cp := kubeletconfigv1.CredentialProvider{
			Name:                 p.Name,
			MatchImages:          p.MatchImages,
			DefaultCacheDuration: &metav1.Duration{Duration: p.CacheDuration},
			APIVersion:           credentialproviderv1.SchemeGroupVersion.String(),
			TokenAttributes:      p.TokenAttributes,
		}
		for _, k := range keys {
			if env[k] != "" {
				cp.Env = append(cp.Env, kubeletconfigv1.ExecEnvVar{Name: k, Value: env[k]})
			}
		}
		cfg.Providers = append(cfg.Providers, cp)
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	configPath = filepath.Join(dir, "credential-providers.json")
	if err := os.WriteFile(configPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return configPath, binDir
}

// SetMode makes the plugins reading modeFile behave as mode from their next
// execution on.
func SetMode(t testing.TB, modeFile string, mode Mode) {
	t.Helper()
	if err := os.WriteFile(modeFile, []byte(mode), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Requests returns the requests recorded in path, one per execution.
func Requests(t testing.TB, path string) []credentialproviderv1.CredentialProviderRequest {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out []credentialproviderv1.CredentialProviderRequest
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var req credentialproviderv1.CredentialProviderRequest
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			t.Fatalf("decoding a recorded request: %v", err)
		}
		out = append(out, req)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TokenAttributes returns tokenAttributes for audience and cacheType that
// require a service account, with the required and optional annotation
// keys given.
func TokenAttributes(audience string, cacheType kubeletconfigv1.ServiceAccountTokenCacheType, required, optional []string) *kubeletconfigv1.ServiceAccountTokenAttributes {
	yes := true
	return &kubeletconfigv1.ServiceAccountTokenAttributes{
		ServiceAccountTokenAudience:          audience,
		CacheType:                            cacheType,
		RequireServiceAccount:                &yes,
		RequiredServiceAccountAnnotationKeys: required,
		OptionalServiceAccountAnnotationKeys: optional,
	}
}

// Processes returns the number of live processes running the plugin built
// for this test binary (Linux: /proc/<pid>/exe), so that a test can check
// that no execution outlived its timeout. It is 0 before the first Install.
func Processes() int {
	if build.bin == "" {
		return 0
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == build.bin {
			n++
		}
	}
	return n
}
