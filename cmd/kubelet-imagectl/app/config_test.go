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
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"

	"k8s.io/imagepullrecords"
	"k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// TestResolveConfig checks the precedence of flags over the configuration
// file, key-by-key feature gate merging and the endpoint choice.
func TestResolveConfig(t *testing.T) {
	const gate = "KubeletEnsureSecretPulledImages"
	tests := []struct {
		name        string
		file        string // "" for no --config
		flagGates   map[string]bool
		endpoint    string // --runtime-endpoint when set
		endpointSet bool

		wantEndpoint  string
		wantGate      bool
		wantPolicy    config.ImagePullCredentialsVerificationPolicy
		wantSerialize bool
		wantWarnings  int
	}{
		{name: "defaults", wantEndpoint: "unix:///run/containerd/containerd.sock", wantGate: true, wantPolicy: config.NeverVerifyPreloadedImages, wantSerialize: true},
		{name: "containerRuntimeEndpoint from the file", file: "containerRuntimeEndpoint: unix:///a.sock\n",
			wantEndpoint: "unix:///a.sock", wantGate: true, wantPolicy: config.NeverVerifyPreloadedImages, wantSerialize: true},
		{name: "imageServiceEndpoint wins over containerRuntimeEndpoint", file: "containerRuntimeEndpoint: unix:///a.sock\nimageServiceEndpoint: unix:///images.sock\n",
			wantEndpoint: "unix:///images.sock", wantGate: true, wantPolicy: config.NeverVerifyPreloadedImages, wantSerialize: true},
		{name: "the flag wins over both", file: "containerRuntimeEndpoint: unix:///a.sock\nimageServiceEndpoint: unix:///images.sock\n", endpoint: "unix:///flag.sock", endpointSet: true,
			wantEndpoint: "unix:///flag.sock", wantGate: true, wantPolicy: config.NeverVerifyPreloadedImages, wantSerialize: true},
		{name: "the file turns the gate off", file: "featureGates:\n  " + gate + ": false\n",
			wantEndpoint: "unix:///run/containerd/containerd.sock", wantGate: false, wantSerialize: true},
		{name: "the flag turns the file's gate back on", file: "featureGates:\n  " + gate + ": false\n", flagGates: map[string]bool{gate: true},
			wantEndpoint: "unix:///run/containerd/containerd.sock", wantGate: true, wantPolicy: config.NeverVerifyPreloadedImages, wantSerialize: true},
		{name: "the flag turns the file's gate off", file: "featureGates:\n  " + gate + ": true\nmaxPods: 50\n", flagGates: map[string]bool{gate: false},
			wantEndpoint: "unix:///run/containerd/containerd.sock", wantGate: false, wantSerialize: true},
		{name: "the flag alone", flagGates: map[string]bool{gate: false},
			wantEndpoint: "unix:///run/containerd/containerd.sock", wantGate: false, wantSerialize: true},
		{name: "the file's policy", file: "imagePullCredentialsVerificationPolicy: AlwaysVerify\nmaxParallelImagePulls: 3\n",
			wantEndpoint: "unix:///run/containerd/containerd.sock", wantGate: true, wantPolicy: config.AlwaysVerify, wantSerialize: false},
		{name: "unknown fields are warnings", file: "imagePullCredentialsVerificationPolicy: AlwaysVerify\nnoSuchField: 1\n",
			wantEndpoint: "unix:///run/containerd/containerd.sock", wantGate: true, wantPolicy: config.AlwaysVerify, wantSerialize: true, wantWarnings: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := configInputs{featureGates: tc.flagGates, runtimeEndpoint: tc.endpoint, runtimeEndpointSet: tc.endpointSet}
			if tc.file != "" {
				in.configFile = filepath.Join(t.TempDir(), "config.yaml")
				if err := os.WriteFile(in.configFile, []byte(configHeader+tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := resolveConfig(in)
			if err != nil {
				t.Fatal(err)
			}
			if got.endpoint != tc.wantEndpoint {
				t.Errorf("endpoint %q, want %q", got.endpoint, tc.wantEndpoint)
			}
			if got.ensureSecretPulledImages() != tc.wantGate {
				t.Errorf("gate %v, want %v", got.ensureSecretPulledImages(), tc.wantGate)
			}
			if got.kc.ImagePullCredentialsVerificationPolicy != tc.wantPolicy {
				t.Errorf("policy %q, want %q", got.kc.ImagePullCredentialsVerificationPolicy, tc.wantPolicy)
			}
			if got.kc.SerializeImagePulls != tc.wantSerialize {
				t.Errorf("serializeImagePulls %v, want %v", got.kc.SerializeImagePulls, tc.wantSerialize)
			}
			if len(got.warnings) != tc.wantWarnings {
				t.Errorf("warnings %q, want %d", got.warnings, tc.wantWarnings)
			}
		})
	}
}

// TestEnsureEndpointPrecedence runs ensure against the embedded runtime
// with the endpoint coming from the file or the flag; a dead endpoint
// proves which one was used.
func TestEnsureEndpointPrecedence(t *testing.T) {
	f := newFixture(t)
	f.push(t, "public/tools:1.0")
	dead := "unix://" + filepath.Join(f.dir, "dead.sock")
	pod := f.write(t, "pod.yaml", typed(testPod("team-b", "b", v1.PullIfNotPresent, nil, f.reg.Ref("public/tools:1.0"))))
	tests := []struct {
		name     string
		file     string
		flag     string // "" for no --runtime-endpoint
		wantCode int
		// wantStderr are substrings of stderr.
		wantStderr []string
	}{
		{name: "imageServiceEndpoint is used for image calls", file: "containerRuntimeEndpoint: " + dead + "\nimageServiceEndpoint: " + f.endpoint + "\n", wantCode: ExitOK},
		{name: "containerRuntimeEndpoint when there is no imageServiceEndpoint", file: "containerRuntimeEndpoint: " + f.endpoint + "\n", wantCode: ExitOK},
		{name: "imageServiceEndpoint wins even when dead", file: "containerRuntimeEndpoint: " + f.endpoint + "\nimageServiceEndpoint: " + dead + "\n",
			wantCode: ExitEnvironment, wantStderr: []string{dead, "unreachable"}},
		{name: "the flag overrides a dead file endpoint", file: "imageServiceEndpoint: " + dead + "\n", flag: f.endpoint, wantCode: ExitOK},
		{name: "a dead flag overrides the file", file: "imageServiceEndpoint: " + f.endpoint + "\n", flag: dead,
			wantCode: ExitEnvironment, wantStderr: []string{dead, "unreachable"}},
		{name: "unknown fields warn and the run goes on", file: "imageServiceEndpoint: " + f.endpoint + "\nnoSuchField: 1\n",
			wantCode: ExitOK, wantStderr: []string{"warning: kubelet config file", "noSuchField"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := f.write(t, "config.yaml", configHeader+tc.file)
			args := []string{"ensure", "--root-dir", f.rootDir, "--docker-config", "", "--pod", pod, "--config", cfg}
			if tc.flag != "" {
				args = append(args, "--runtime-endpoint", tc.flag)
			}
			res := runCLI(t, Deps{}, args...)
			if res.code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stderr %q", res.code, tc.wantCode, res.stderr)
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr %q does not contain %q", res.stderr, w)
				}
			}
			if len(tc.wantStderr) == 0 && res.stderr != "" {
				t.Errorf("stderr %q, want nothing", res.stderr)
			}
		})
	}
}

// TestEnsureFeatureGateMerge checks that --feature-gates overrides the
// file's featureGates: the records directory exists exactly when the
// effective gate is on.
func TestEnsureFeatureGateMerge(t *testing.T) {
	const gate = "KubeletEnsureSecretPulledImages"
	tests := []struct {
		name     string
		file     string
		flag     string
		wantGate bool
	}{
		{name: "default on", wantGate: true},
		{name: "file off", file: "featureGates:\n  " + gate + ": false\n", wantGate: false},
		{name: "file off, flag on", file: "featureGates:\n  " + gate + ": false\n", flag: gate + "=true", wantGate: true},
		{name: "file on, flag off", file: "featureGates:\n  " + gate + ": true\n", flag: gate + "=false", wantGate: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.push(t, "public/tools:1.0")
			args := f.ensureArgs("-o", "json", "--pod", f.write(t, "pod.yaml", typed(testPod("team-b", "b", v1.PullIfNotPresent, nil, f.reg.Ref("public/tools:1.0")))),
				"--config", f.write(t, "config.yaml", configHeader+tc.file))
			if tc.flag != "" {
				args = append(args, "--feature-gates", tc.flag)
			}
			res := runCLI(t, Deps{}, args...)
			if res.code != ExitOK {
				t.Fatalf("exit code %d; stderr %q", res.code, res.stderr)
			}
			_, err := os.Stat(filepath.Join(f.rootDir, imagepullrecords.ManagerDirName))
			if gotGate := err == nil; gotGate != tc.wantGate {
				t.Errorf("image_manager exists: %v, want %v", gotGate, tc.wantGate)
			}
		})
	}
}
