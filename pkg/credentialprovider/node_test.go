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

package credentialprovider_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"k8s.io/kubernetes/pkg/credentialprovider"
)

// Node config locations, relative to the test's root ("root/...") or home
// ("home/...") directory.
const (
	rootConfigJSON = "root/config.json"
	rootDockercfg  = "root/.dockercfg"
	homeConfigJSON = "home/.docker/config.json"
	homeDockercfg  = "home/.dockercfg"
	explicitFile   = "elsewhere/creds"
)

// nodeFileContent returns a config in the format the location expects,
// whose only credential has the location as its username.
func nodeFileContent(location string) string {
	if filepath.Base(location) == ".dockercfg" {
		return fmt.Sprintf(`{"reg.example":{"username":%q,"password":"p"}}`, location)
	}
	return fmt.Sprintf(`{"auths":{"reg.example":{"username":%q,"password":"p"}}}`, location)
}

func ptr(s string) *string { return &s }

func TestNodeKeyring(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		// broken files hold content that cannot be parsed.
		broken []string
		// explicit is DockerConfigPath relative to the test directory;
		// nil searches, a pointer to "" disables.
		explicit *string
		// homeFromEnv leaves HomeDir empty and sets $HOME instead.
		homeFromEnv bool
		// want is the location whose credential is found; "" for none.
		want    string
		wantErr error
	}{
		{name: "nothing", files: nil, want: ""},
		{name: "home dockercfg", files: []string{homeDockercfg}, want: homeDockercfg},
		{name: "home config.json before home dockercfg", files: []string{homeConfigJSON, homeDockercfg}, want: homeConfigJSON},
		{name: "root dockercfg before home", files: []string{rootDockercfg, homeConfigJSON, homeDockercfg}, want: rootDockercfg},
		{name: "root config.json first", files: []string{rootConfigJSON, rootDockercfg, homeConfigJSON, homeDockercfg}, want: rootConfigJSON},
		{name: "$HOME when HomeDir is empty", files: []string{homeConfigJSON}, homeFromEnv: true, want: homeConfigJSON},
		{name: "explicit path replaces the search", files: []string{rootConfigJSON, explicitFile}, explicit: ptr(explicitFile), want: explicitFile},
		{name: "explicit empty path disables", files: []string{rootConfigJSON, homeConfigJSON}, explicit: ptr(""), want: ""},
		{name: "explicit path that does not exist", files: []string{rootConfigJSON}, explicit: ptr(explicitFile), wantErr: fs.ErrNotExist},
		{name: "explicit path that is broken", broken: []string{explicitFile}, explicit: ptr(explicitFile), wantErr: credentialprovider.ErrInvalidDockerConfig},
		{name: "a broken first file does not let a later one in", files: []string{homeConfigJSON}, broken: []string{rootDockercfg}, wantErr: credentialprovider.ErrInvalidDockerConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write := func(location, content string) {
				path := filepath.Join(dir, location)
				if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range tc.files {
				write(f, nodeFileContent(f))
			}
			for _, f := range tc.broken {
				write(f, `{"auths":{"reg.example":{"password":"`+secretMaterial)
			}
			opts := credentialprovider.NodeCredentialsOptions{
				RootDir: filepath.Join(dir, "root"),
				HomeDir: filepath.Join(dir, "home"),
			}
			// Never read the real $HOME, whatever the case.
			t.Setenv("HOME", filepath.Join(dir, "no-home"))
			if tc.homeFromEnv {
				opts.HomeDir = ""
				t.Setenv("HOME", filepath.Join(dir, "home"))
			}
			if tc.explicit != nil {
				opts.DockerConfigPath = ptr("")
				if *tc.explicit != "" {
					opts.DockerConfigPath = ptr(filepath.Join(dir, *tc.explicit))
				}
			}

			keyring, err := credentialprovider.NodeKeyring(opts)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("NodeKeyring() error = %v, want %v", err, tc.wantErr)
				}
				if errors.Is(err, credentialprovider.ErrInvalidDockerConfig) && strings.Contains(err.Error(), secretMaterial) {
					t.Errorf("error %q echoes the file's content", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NodeKeyring() error: %v", err)
			}
			creds, _ := keyring.Lookup("reg.example/app")
			var want []credentialprovider.TrackedAuthConfig
			if tc.want != "" {
				want = []credentialprovider.TrackedAuthConfig{
					credentialprovider.NewTrackedAuthConfig(credentialprovider.AuthConfig{Username: tc.want, Password: "p"}, nil),
				}
			}
			if diff := cmp.Diff(want, creds); diff != "" {
				t.Errorf("Lookup() mismatch (-want +got):\n%s", diff)
			}

			path, err := credentialprovider.NodeConfigPath(opts)
			if err != nil {
				t.Fatalf("NodeConfigPath() error: %v", err)
			}
			wantPath := ""
			if tc.want != "" {
				wantPath = filepath.Join(dir, tc.want)
			}
			if path != wantPath {
				t.Errorf("NodeConfigPath() = %q, want %q", path, wantPath)
			}
		})
	}
}

func TestNodeConfigCandidates(t *testing.T) {
	t.Setenv("HOME", "/home/env")
	tests := []struct {
		name string
		opts credentialprovider.NodeCredentialsOptions
		want []string
	}{
		{
			name: "search order",
			opts: credentialprovider.NodeCredentialsOptions{RootDir: "/r", HomeDir: "/h"},
			want: []string{"/r/config.json", "/r/.dockercfg", "/h/.docker/config.json", "/h/.dockercfg"},
		},
		{
			name: "defaults",
			opts: credentialprovider.NodeCredentialsOptions{},
			want: []string{"/var/lib/kubelet/config.json", "/var/lib/kubelet/.dockercfg", "/home/env/.docker/config.json", "/home/env/.dockercfg"},
		},
		{name: "explicit", opts: credentialprovider.NodeCredentialsOptions{DockerConfigPath: ptr("/etc/creds.json"), RootDir: "/r"}, want: []string{"/etc/creds.json"}},
		{name: "disabled", opts: credentialprovider.NodeCredentialsOptions{DockerConfigPath: ptr(""), RootDir: "/r"}, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, credentialprovider.NodeConfigCandidates(tc.opts)); diff != "" {
				t.Errorf("NodeConfigCandidates() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNodeConfigCandidatesWithoutHome(t *testing.T) {
	t.Setenv("HOME", "")
	got := credentialprovider.NodeConfigCandidates(credentialprovider.NodeCredentialsOptions{RootDir: "/r"})
	if diff := cmp.Diff([]string{"/r/config.json", "/r/.dockercfg"}, got); diff != "" {
		t.Errorf("NodeConfigCandidates() mismatch (-want +got):\n%s", diff)
	}
}
