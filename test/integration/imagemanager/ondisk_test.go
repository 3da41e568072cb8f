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

package imagemanager

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/imagepullrecords"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"

	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// writeFile writes a file under <root>/image_manager/<dir>.
func (e *env) writeFile(dir, name, content string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.managerDir(), dir, name), []byte(content), 0o600); err != nil {
		e.t.Fatalf("writing %s/%s: %v", dir, name, err)
	}
}

// dirNames lists <root>/image_manager/<dir>.
func (e *env) dirNames(dir string) []string {
	e.t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.managerDir(), dir))
	if err != nil {
		e.t.Fatalf("listing %s: %v", dir, err)
	}
	var names []string
	for _, entry := range entries {
		names = append(names, entry.Name())
	}
	return names
}

// TestOnDiskStateAtRestart: files another kubelet (or a crash) left in the
// root dir decide after a restart: broken files never grant, older-version
// records are honoured and rewritten, temporaries go.
func TestOnDiskStateAtRestart(t *testing.T) {
	tests := []struct {
		name string
		// pulledByPodA: pod A pulled P with S1 first; otherwise P is
		// preloaded.
		pulledByPodA bool
		// prepare changes the files while the kubelet is down.
		prepare func(e *env)
		// checks run after the restart.
		checks func(e *env)
	}{
		{
			name:         "broken record poisons the image",
			pulledByPodA: true,
			prepare: func(e *env) {
				e.writeFile(imagepullrecords.RecordsDirName, imagepullrecords.FileName(e.ids[repoP]), "{\"kind\":")
			},
			checks: func(e *env) {
				id := e.ids[repoP]
				// Absent would look preloaded; broken must not.
				e.check(e.pod(nsY, e.image(repoP), v1.PullNever), id, deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""))
				e.check(e.pod(nsX, e.image(repoP), v1.PullNever, secretS1), id, deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""))
				// A successful pull repairs it with only what it proved.
				e.check(e.pod(nsX, e.image(repoP), v1.PullIfNotPresent, secretS3), id, outcome{
					admitted: true, verification: pullmanager.VerificationMustPull, pullAttempted: true, pulledAs: []string{user2},
				})
				assertMapping(e.t, e.mapping(id), map[string]kubeletv1beta1.ImagePullCredentials{
					e.repoKey(repoP): secretsEntry(e.secretCred(nsX, secretS3, user2, pass2)),
				})
				e.check(e.pod(nsX, e.image(repoP), v1.PullNever, secretS3), id, outcome{
					admitted: true, verification: pullmanager.VerificationSecretHash, noRegistryContact: true,
				})
			},
		},
		{
			name: "record whose imageRef does not hash to its name poisons that name",
			prepare: func(e *env) {
				e.writeFile(imagepullrecords.RecordsDirName, imagepullrecords.FileName(e.ids[repoP]),
					`{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2026-01-02T03:04:05Z","imageRef":"sha256:0000000000000000000000000000000000000000000000000000000000000000","credentialMapping":{"`+e.repoKey(repoP)+`":{"nodePodsAccessible":true}}}`+"\n")
			},
			checks: func(e *env) {
				e.check(e.pod(nsY, e.image(repoP), v1.PullNever), e.ids[repoP], deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""))
			},
		},
		{
			name: "broken intent counts as an intent for the image hashing to it",
			prepare: func(e *env) {
				e.writeFile(imagepullrecords.IntentsDirName, imagepullrecords.FileName(e.image(repoP)), "not json")
			},
			checks: func(e *env) {
				e.check(e.pod(nsY, e.image(repoP), v1.PullNever), e.ids[repoP], deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""))
			},
		},
		{
			name: "v1alpha1 record is honoured and rewritten as v1beta1",
			prepare: func(e *env) {
				e.writeFile(imagepullrecords.RecordsDirName, imagepullrecords.FileName(e.ids[repoP]),
					`{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1alpha1","lastUpdatedTime":"2026-01-02T03:04:05Z","imageRef":"`+e.ids[repoP]+
						`","credentialMapping":{"`+e.repoKey(repoP)+`":{"kubernetesSecrets":[{"uid":"uid-s1-1","namespace":"`+nsX+`","name":"`+secretS1+`","credentialHash":"`+credHash(user1, pass1)+`"}]}}}`+"\n")
			},
			checks: func(e *env) {
				data, err := os.ReadFile(filepath.Join(e.managerDir(), imagepullrecords.RecordsDirName, imagepullrecords.FileName(e.ids[repoP])))
				if err != nil {
					e.t.Fatalf("reading the record: %v", err)
				}
				if !strings.Contains(string(data), `"apiVersion":"kubelet.config.k8s.io/v1beta1"`) {
					e.t.Errorf("record not rewritten as v1beta1 at start-up: %s", data)
				}
				e.check(e.pod(nsX, e.image(repoP), v1.PullNever, secretS1), e.ids[repoP], outcome{
					admitted: true, verification: pullmanager.VerificationSecretHash, noRegistryContact: true,
				})
				e.check(e.pod(nsY, e.image(repoP), v1.PullNever), e.ids[repoP], deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""))
			},
		},
		{
			name: "record with an empty mapping counts as pulled by the kubelet under every name",
			prepare: func(e *env) {
				e.writeFile(imagepullrecords.RecordsDirName, imagepullrecords.FileName(e.ids[repoP]),
					`{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2026-01-02T03:04:05Z","imageRef":"`+e.ids[repoP]+`"}`+"\n")
			},
			checks: func(e *env) {
				e.check(e.pod(nsY, e.image(repoP), v1.PullNever), e.ids[repoP], deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""))
			},
		},
		{
			name:         "leftover temporaries are removed and never read",
			pulledByPodA: true,
			prepare: func(e *env) {
				// A temporary claiming the image is node-accessible must
				// not be read.
				bogus := `{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2026-01-02T03:04:05Z","imageRef":"` + e.ids[repoP] +
					`","credentialMapping":{"` + e.repoKey(repoP) + `":{"nodePodsAccessible":true}}}` + "\n"
				e.writeFile(imagepullrecords.RecordsDirName, imagepullrecords.TempPrefix+"123", bogus)
				e.writeFile(imagepullrecords.RecordsDirName, imagepullrecords.FileName(e.ids[repoP])+".tmp", bogus)
				e.writeFile(imagepullrecords.IntentsDirName, imagepullrecords.TempPrefix+"456", "{}")
			},
			checks: func(e *env) {
				if got, want := e.dirNames(imagepullrecords.RecordsDirName), []string{imagepullrecords.FileName(e.ids[repoP])}; !slices.Equal(got, want) {
					e.t.Errorf("records directory after start-up = %v, want %v", got, want)
				}
				if got := e.dirNames(imagepullrecords.IntentsDirName); len(got) != 0 {
					e.t.Errorf("intents directory after start-up = %v, want empty", got)
				}
				e.check(e.pod(nsY, e.image(repoP), v1.PullNever), e.ids[repoP], deniedOutcome(v1.PullNever, pullmanager.VerificationMustPull, ""))
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{policy: kubeletconfig.NeverVerifyPreloadedImages})
			if tc.pulledByPodA {
				e.pullAsPodA(repoP)
			} else {
				e.preload(repoP)
			}
			e.stop()
			tc.prepare(e)
			e.start()
			tc.checks(e)
		})
	}
}
