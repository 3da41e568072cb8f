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

package records

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/imagepullrecords"
	"k8s.io/kubernetes/cmd/kubelet-imagectl/app"
)

const (
	apiV1alpha1 = "kubelet.config.k8s.io/v1alpha1"
	apiV1beta1  = "kubelet.config.k8s.io/v1beta1"
)

// fixtureIntents are the intents every fixture holds.
func fixtureIntents() []string {
	return []string{
		"reg.example/team/app:1.2",
		"reg.example/team/app@sha256:abababababababababababababababababababababababababababababababab",
		"busybox",
	}
}

// fixtureRecords are records of every shape: several names per image ref,
// a familiar-form key, an entry without credentials, node-wide access,
// Secrets and service accounts, an interrupted pull (no mapping) with a
// zero time, a non-ASCII repository.
func fixtureRecords() []*kubeletv1beta1.ImagePulledRecord {
	updated := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	return []*kubeletv1beta1.ImagePulledRecord{
		{
			ImageRef:        "sha256:1111111111111111111111111111111111111111111111111111111111111111",
			LastUpdatedTime: updated,
			CredentialMapping: map[string]kubeletv1beta1.ImagePullCredentials{
				"docker.io/library/busybox": {NodePodsAccessible: true},
				"busybox":                   {},
				"reg.example/team/app": {
					KubernetesSecrets: []kubeletv1beta1.ImagePullSecret{
						{UID: "7c9e6679-7425-40de-944b-e07fc1f90ae7", Namespace: "team-a", Name: "regcred", CredentialHash: "9a0b55d91a3561684b32df5e58a0d91968b93798af4f924bba383e1c98625ec0"},
						{UID: "8d0f7780-8536-41ef-a55c-f18fd2fa1bf8", Namespace: "team-a", Name: "rotated", CredentialHash: "1b2c66e02b4672795c43ef6f69b1ea2a79ca4809b0f5035ccb494f2d09736fd1"},
					},
					KubernetesServiceAccounts: []kubeletv1beta1.ImagePullServiceAccount{
						{UID: "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9", Namespace: "team-b", Name: "builder"},
					},
				},
				"reg.example/team/tool": {
					KubernetesServiceAccounts: []kubeletv1beta1.ImagePullServiceAccount{
						{UID: "2a3b4c5d-6e7f-4081-9293-a4b5c6d7e8f9", Namespace: "ci", Name: "a"},
						{UID: "3b4c5d6e-7f80-4192-a3b4-c5d6e7f8091a", Namespace: "ci", Name: "b"},
					},
				},
			},
		},
		{ImageRef: "sha256:2222222222222222222222222222222222222222222222222222222222222222"},
		{
			ImageRef:        "sha256:3333333333333333333333333333333333333333333333333333333333333333",
			LastUpdatedTime: updated,
			CredentialMapping: map[string]kubeletv1beta1.ImagePullCredentials{
				"reg.example/ünï/app": {KubernetesSecrets: []kubeletv1beta1.ImagePullSecret{{UID: "u", Namespace: "n", Name: "s", CredentialHash: "h"}}},
			},
		},
	}
}

// withoutServiceAccounts returns copies of records without their service
// accounts, entries kept: what kubelet 1.33 can hold.
func withoutServiceAccounts(records []*kubeletv1beta1.ImagePulledRecord) []*kubeletv1beta1.ImagePulledRecord {
	var out []*kubeletv1beta1.ImagePulledRecord
	for _, r := range records {
		c := *r
		if r.CredentialMapping != nil {
			c.CredentialMapping = map[string]kubeletv1beta1.ImagePullCredentials{}
			for repo, creds := range r.CredentialMapping {
				creds.KubernetesServiceAccounts = nil
				c.CredentialMapping[repo] = creds
			}
		}
		out = append(out, &c)
	}
	return out
}

// Raw files in older or non-canonical forms, which only this tree's
// fixtures hold: an indented v1alpha1 record with an offset time and
// fields out of order, and a v1alpha1 intent in its canonical form (which
// a downgrade leaves as it is).
const (
	rawRecordRef   = "sha256:4444444444444444444444444444444444444444444444444444444444444444"
	rawRecordImage = "reg.example/old/app:0.9"
)

func rawRecord() string {
	return "{\n  \"credentialMapping\": {\"reg.example/old/app\": {\"kubernetesSecrets\": [{\"name\": \"old\", \"namespace\": \"legacy\", \"uid\": \"9f8e\", \"credentialHash\": \"77aa\"}]}},\n" +
		"  \"apiVersion\": \"" + apiV1alpha1 + "\",\n  \"kind\": \"ImagePulledRecord\",\n" +
		"  \"lastUpdatedTime\": \"2025-12-31T23:30:00-01:00\",\n  \"imageRef\": \"" + rawRecordRef + "\"\n}\n"
}

func rawIntent() string {
	return `{"kind":"ImagePullIntent","apiVersion":"` + apiV1alpha1 + `","image":"` + rawRecordImage + `"}` + "\n"
}

// writeFixture writes the fixture intents and records with this tree's
// writer into rootDir, and the raw older-version files next to them.
func writeFixture(t *testing.T, rootDir string) {
	t.Helper()
	managerDir := filepath.Join(rootDir, imagepullrecords.ManagerDirName)
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: managerDir})
	if err != nil {
		t.Fatal(err)
	}
	for _, image := range fixtureIntents() {
		if err := store.WriteIntent(&kubeletv1beta1.ImagePullIntent{Image: image}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range fixtureRecords() {
		if err := store.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(managerDir, imagepullrecords.RecordsDirName, imagepullrecords.FileName(rawRecordRef)), rawRecord())
	writeFile(t, filepath.Join(managerDir, imagepullrecords.IntentsDirName, imagepullrecords.FileName(rawRecordImage)), rawIntent())
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// documents encodes intents and records as v1alpha1 documents, one a
// line: the input of records-compat write (every release reads v1alpha1).
func documents(t *testing.T, intents []string, records []*kubeletv1beta1.ImagePulledRecord) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, image := range intents {
		data, err := imagepullrecords.EncodeIntentVersion(&kubeletv1beta1.ImagePullIntent{Image: image}, apiV1alpha1)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(data)
	}
	for _, r := range records {
		data, err := imagepullrecords.EncodeRecordVersion(r, apiV1alpha1)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(data)
	}
	return buf.Bytes()
}

// expected maps the files that intents and records are written to
// (relative to image_manager/) to their canonical v1beta1 encoding.
func expected(t *testing.T, intents []string, records []*kubeletv1beta1.ImagePulledRecord) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, image := range intents {
		data, err := imagepullrecords.EncodeIntent(&kubeletv1beta1.ImagePullIntent{Image: image})
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Join(imagepullrecords.IntentsDirName, imagepullrecords.FileName(image))] = strings.TrimSpace(string(data))
	}
	for _, r := range records {
		data, err := imagepullrecords.EncodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Join(imagepullrecords.RecordsDirName, imagepullrecords.FileName(r.ImageRef))] = strings.TrimSpace(string(data))
	}
	return out
}

// canonicalize decodes one object with this tree's strict decoder, checks
// that it belongs in file, and returns its canonical v1beta1 encoding and
// the apiVersion it was in.
func canonicalize(file string, data []byte) (string, string, error) {
	var meta struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		return "", "", err
	}
	dir, name := filepath.Split(file)
	var key string
	var out []byte
	switch {
	case filepath.Clean(dir) == imagepullrecords.IntentsDirName && meta.Kind == imagepullrecords.KindImagePullIntent:
		intent, _, err := imagepullrecords.DecodeIntent(data)
		if err != nil {
			return "", "", err
		}
		key = intent.Image
		if out, err = imagepullrecords.EncodeIntent(intent); err != nil {
			return "", "", err
		}
	case filepath.Clean(dir) == imagepullrecords.RecordsDirName && meta.Kind == imagepullrecords.KindImagePulledRecord:
		record, _, err := imagepullrecords.DecodeRecord(data)
		if err != nil {
			return "", "", err
		}
		key = record.ImageRef
		if out, err = imagepullrecords.EncodeRecord(record); err != nil {
			return "", "", err
		}
	default:
		return "", "", fmt.Errorf("a %s in %s", meta.Kind, dir)
	}
	if imagepullrecords.FileName(key) != name {
		return "", "", fmt.Errorf("key %q does not hash to %s", key, name)
	}
	return strings.TrimSpace(string(out)), meta.APIVersion, nil
}

// treeView reads rootDir as this tree does and returns, for each file
// (relative to image_manager/), the canonical v1beta1 encoding of what it
// holds. Every file must pass every check.
func treeView(t *testing.T, rootDir string) map[string]string {
	t.Helper()
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: filepath.Join(rootDir, imagepullrecords.ManagerDirName), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	badIntents, err := store.WalkIntents(func(f imagepullrecords.IntentFile) {
		data, err := imagepullrecords.EncodeIntent(f.Intent)
		if err != nil {
			t.Errorf("%s: %v", f.File, err)
		}
		out[f.File] = strings.TrimSpace(string(data))
	})
	if err != nil {
		t.Fatal(err)
	}
	badRecords, err := store.WalkRecords(func(f imagepullrecords.RecordFile) {
		data, err := imagepullrecords.EncodeRecord(f.Record)
		if err != nil {
			t.Errorf("%s: %v", f.File, err)
		}
		out[f.File] = strings.TrimSpace(string(data))
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range append(badIntents, badRecords...) {
		t.Errorf("this tree cannot read %s: %v", bad.File, bad.Err)
	}
	return out
}

// files returns the content of every file under rootDir/image_manager,
// keyed by its path relative to image_manager/, lock file excluded.
func files(t *testing.T, rootDir string) map[string]string {
	t.Helper()
	managerDir := filepath.Join(rootDir, imagepullrecords.ManagerDirName)
	out := map[string]string{}
	err := filepath.WalkDir(managerDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == imagepullrecords.LockFileName {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(managerDir, path)
		if err != nil {
			return err
		}
		out[rel] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// apiVersions returns the apiVersion of each record and intent file.
func apiVersions(t *testing.T, rootDir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for rel, content := range files(t, rootDir) {
		if !strings.HasPrefix(filepath.Base(rel), imagepullrecords.FilePrefix) || imagepullrecords.IsTemporary(filepath.Base(rel)) {
			continue
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
		}
		if err := json.Unmarshal([]byte(content), &meta); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		out[rel] = meta.APIVersion
	}
	return out
}

// checkAllIn fails unless every record and intent file is in apiVersion.
func checkAllIn(t *testing.T, rootDir, apiVersion string) {
	t.Helper()
	for rel, v := range apiVersions(t, rootDir) {
		if v != apiVersion {
			t.Errorf("%s is in %s, want %s", rel, v, apiVersion)
		}
	}
}

// copyRoot copies rootDir's image_manager/ into a new root dir, so that a
// release (which may migrate files when it opens them) reads a copy.
func copyRoot(t *testing.T, rootDir string) string {
	t.Helper()
	dst := t.TempDir()
	for rel, content := range files(t, rootDir) {
		path := filepath.Join(dst, imagepullrecords.ManagerDirName, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, path, content)
	}
	for _, dir := range []string{imagepullrecords.IntentsDirName, imagepullrecords.RecordsDirName} {
		if err := os.MkdirAll(filepath.Join(dst, imagepullrecords.ManagerDirName, dir), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// rewriteOutput is the JSON output of records migrate and downgrade.
type rewriteOutput struct {
	Rewritten []struct {
		File string `json:"file"`
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"rewritten"`
	Unchanged int `json:"unchanged"`
}

// imagectl runs kubelet-imagectl in-process with -o json and fails the
// test unless it exits 0.
func imagectl(t *testing.T, args ...string) rewriteOutput {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := app.Run(ctx, append(args, "-o", "json"), &app.Deps{Stdout: &stdout, Stderr: &stderr})
	if code != app.ExitOK {
		t.Fatalf("kubelet-imagectl %q: exit %d, stderr %q", args, code, stderr.String())
	}
	var out rewriteOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("kubelet-imagectl %q: %v: %q", args, err, stdout.String())
	}
	return out
}
