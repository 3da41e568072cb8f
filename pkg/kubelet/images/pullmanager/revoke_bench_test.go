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

package pullmanager

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// The revocation workload: N records, record i for image ref
// "sha256:<64 hex of i>" under repository "registry-<i%7>.example.com/team-<i%53>/app-<i%1000>",
// holding Secret i (36-character UID, namespace ns-<i%500>, name
// regcred-<i>, 64-hex hash): one pull Secret per image, as a cluster where
// every deployment has its own. The first D Secrets are deleted, so a pass
// rewrites D records and only scans the others.
type revokeWorkload struct {
	records []*kubeletconfig.ImagePulledRecord
	// existing maps namespace/name to the UID of every Secret that exists.
	existing map[string]string
}

func generateRevokeWorkload(n, deleted int) *revokeWorkload {
	w := &revokeWorkload{existing: make(map[string]string, n-deleted)}
	updated := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	for i := range n {
		secret := kubeletconfig.ImagePullSecret{
			UID:            fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i),
			Namespace:      fmt.Sprintf("ns-%d", i%500),
			Name:           fmt.Sprintf("regcred-%d", i),
			CredentialHash: fmt.Sprintf("%064x", i),
		}
		w.records = append(w.records, &kubeletconfig.ImagePulledRecord{
			LastUpdatedTime: updated,
			ImageRef:        fmt.Sprintf("sha256:%064x", i),
			CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
				fmt.Sprintf("registry-%d.example.com/team-%d/app-%d", i%7, i%53, i%1000): {KubernetesSecrets: []kubeletconfig.ImagePullSecret{secret}},
			},
		})
		if i >= deleted {
			w.existing[secret.Namespace+"/"+secret.Name] = secret.UID
		}
	}
	return w
}

// benchSources is the "exists" oracle a listing builds: namespace/name to
// UID. Every service account exists.
type benchSources map[string]string

func (s benchSources) SecretExists(namespace, name, uid string) bool {
	return s[namespace+"/"+name] == uid
}

func (s benchSources) ServiceAccountExists(string, string, string) bool { return true }

// revokeBenchFilesystems are where the records are written: tmpfs shows the
// CPU cost of a pass, the disk adds one fsync'd atomic write per record
// revoked from.
func revokeBenchFilesystems() []struct{ name, dir string } {
	out := []struct{ name, dir string }{{name: "disk", dir: os.TempDir()}}
	if info, err := os.Stat("/dev/shm"); err == nil && info.IsDir() {
		out = append(out, struct{ name, dir string }{name: "tmpfs", dir: "/dev/shm"})
	}
	return out
}

// BenchmarkRevokeCredentials is one revocation pass over 100,000 records:
// with nothing deleted (the steady state of revoke --watch: a scan), and
// with 10,000 deleted Secrets (10,000 records rewritten durably). Between
// iterations the revoked records are put back in memory, untimed; the pass
// rewrites their files.
func BenchmarkRevokeCredentials(b *testing.B) {
	const records = 100_000
	for _, deleted := range []int{0, 10_000} {
		w := generateRevokeWorkload(records, deleted)
		for _, fs := range revokeBenchFilesystems() {
			if deleted == 0 && fs.name == "disk" {
				// A scan writes nothing: the filesystem does not matter.
				continue
			}
			b.Run(fmt.Sprintf("records=%d/deletedSecrets=%d/fs=%s", records, deleted, fs.name), func(b *testing.B) {
				root, err := os.MkdirTemp(fs.dir, "revoke-bench-")
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = os.RemoveAll(root) })
				ctx := klog.NewContext(context.Background(), klog.Background().V(10))
				m, err := NewFileBackedPullManager(ctx, Options{RootDir: root, ImageLister: &fakeLister{}})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = m.Close() })
				fm := m.(*fileBackedManager)
				for _, rec := range w.records {
					_ = fm.records.mem.WriteImagePulledRecord(rec)
				}
				sources := benchSources(w.existing)
				before := w.records[0].LastUpdatedTime.Add(time.Hour)
				b.ReportAllocs()
				for b.Loop() {
					res, err := fm.RevokeCredentials(ctx, sources, before)
					if err != nil {
						b.Fatal(err)
					}
					if len(res.Revoked) != deleted {
						b.Fatalf("revoked %d credentials, want %d", len(res.Revoked), deleted)
					}
					b.StopTimer()
					for _, rec := range w.records[:deleted] {
						_ = fm.records.mem.WriteImagePulledRecord(rec)
					}
					b.StartTimer()
				}
			})
		}
	}
}
