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
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/imagepullrecords"
	"k8s.io/klog/v2"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	kubeletconfigv1beta1 "k8s.io/kubernetes/pkg/kubelet/apis/config/v1beta1"
)

// The benchmark workload (issue "Performance"): N records, each for an image
// ref "sha256:" + 64 hex, with one repository name drawn from a pool of
// 1,000 and one Secret drawn from a pool of 200 (36-character UID,
// namespace and name of up to 16 characters, 64-hex hash). The generator is
// deterministic, so every run and every machine sees the same records.
const (
	benchRepoPool   = 1000
	benchSecretPool = 200
)

type benchWorkload struct {
	records []*kubeletconfig.ImagePulledRecord
	// images[i] is an image string whose repo is the repository of records[i].
	images []string
	// repos[i] and hashes[i] are the repository and Secret hash of records[i].
	repos   []string
	hashes  []string
	secrets []kubeletconfig.ImagePullSecret
}

func hex64(r *rand.Rand) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 64)
	for i := range b {
		b[i] = digits[r.IntN(16)]
	}
	return string(b)
}

func benchName(r *rand.Rand, prefix string) string {
	s := fmt.Sprintf("%s-%d", prefix, r.IntN(1_000_000_000))
	return s[:min(16, len(s))]
}

// generateWorkload builds n records with the documented distribution.
func generateWorkload(n int) *benchWorkload {
	r := rand.New(rand.NewPCG(2535, uint64(n)))
	repos := make([]string, benchRepoPool)
	for i := range repos {
		repos[i] = fmt.Sprintf("registry-%d.example.com/team-%d/app-%d", i%7, i%53, i)
	}
	w := &benchWorkload{secrets: make([]kubeletconfig.ImagePullSecret, benchSecretPool)}
	for i := range w.secrets {
		uid := hex64(r)
		w.secrets[i] = kubeletconfig.ImagePullSecret{
			UID:            uid[0:8] + "-" + uid[8:12] + "-" + uid[12:16] + "-" + uid[16:20] + "-" + uid[20:32],
			Namespace:      benchName(r, "ns"),
			Name:           benchName(r, "regcred"),
			CredentialHash: hex64(r),
		}
	}
	now := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	for i := 0; i < n; i++ {
		repo := repos[r.IntN(benchRepoPool)]
		secret := w.secrets[r.IntN(benchSecretPool)]
		w.records = append(w.records, &kubeletconfig.ImagePulledRecord{
			LastUpdatedTime: now,
			ImageRef:        "sha256:" + hex64(r),
			CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
				repo: {KubernetesSecrets: []kubeletconfig.ImagePullSecret{secret}},
			},
		})
		w.images = append(w.images, repo+":v1")
		w.repos = append(w.repos, repo)
		w.hashes = append(w.hashes, secret.CredentialHash)
	}
	return w
}

// benchServiceAccountPool is the number of service accounts the service
// account workload draws from, as the Secret workload draws from 200
// Secrets.
const benchServiceAccountPool = 200

// saWorkload is the service account counterpart of benchWorkload: N
// records, each with one repository name from the same pool of 1,000 and
// one service account from a pool of 200 (36-character UID, namespace and
// name of up to 16 characters), recorded as kubernetesServiceAccounts, as
// a pull with a credential provider plugin's service account credentials
// records it.
type saWorkload struct {
	records []*kubeletconfig.ImagePulledRecord
	// images[i] is an image string whose repo is the repository of
	// records[i]; accounts[i] is the service account of records[i].
	images   []string
	accounts []kubeletconfig.ImagePullServiceAccount
}

// generateServiceAccountWorkload builds n records with the documented
// distribution, deterministically.
func generateServiceAccountWorkload(n int) *saWorkload {
	r := rand.New(rand.NewPCG(4412, uint64(n)))
	repos := make([]string, benchRepoPool)
	for i := range repos {
		repos[i] = fmt.Sprintf("registry-%d.example.com/team-%d/app-%d", i%7, i%53, i)
	}
	pool := make([]kubeletconfig.ImagePullServiceAccount, benchServiceAccountPool)
	for i := range pool {
		uid := hex64(r)
		pool[i] = kubeletconfig.ImagePullServiceAccount{
			UID:       uid[0:8] + "-" + uid[8:12] + "-" + uid[12:16] + "-" + uid[16:20] + "-" + uid[20:32],
			Namespace: benchName(r, "ns"),
			Name:      benchName(r, "builder"),
		}
	}
	w := &saWorkload{}
	now := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	for i := 0; i < n; i++ {
		repo := repos[r.IntN(benchRepoPool)]
		sa := pool[r.IntN(benchServiceAccountPool)]
		w.records = append(w.records, &kubeletconfig.ImagePulledRecord{
			LastUpdatedTime: now,
			ImageRef:        "sha256:" + hex64(r),
			CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
				repo: {KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{sa}},
			},
		})
		w.images = append(w.images, repo+":v1")
		w.accounts = append(w.accounts, sa)
	}
	return w
}

// benchManager starts a manager over an empty root and loads the workload
// straight into memory: decisions never read the disk, so how the records got
// there does not matter to what a decision costs.
func benchManager(b *testing.B, w *benchWorkload, policy kubeletconfig.ImagePullCredentialsVerificationPolicy) *fileBackedManager {
	return benchManagerIn(b, w, policy, b.TempDir())
}

// benchFilesystems are where write benchmarks put the records: tmpfs shows
// the CPU cost of a write, the disk adds the fsyncs.
func benchFilesystems() map[string]string {
	dirs := map[string]string{"disk": os.TempDir()}
	if info, err := os.Stat("/dev/shm"); err == nil && info.IsDir() {
		dirs["tmpfs"] = "/dev/shm"
	}
	return dirs
}

func benchManagerIn(b *testing.B, w *benchWorkload, policy kubeletconfig.ImagePullCredentialsVerificationPolicy, root string) *fileBackedManager {
	b.Helper()
	ctx := klog.NewContext(context.Background(), klog.Background().V(10))
	m, err := NewFileBackedPullManager(ctx, Options{
		RootDir:     root,
		Policy:      policy,
		ImageLister: &fakeLister{},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	fm := m.(*fileBackedManager)
	for _, rec := range w.records {
		_ = fm.records.mem.WriteImagePulledRecord(rec)
	}
	return fm
}

var benchSizes = []int{1, 100, 10_000, 100_000}

func BenchmarkMustAttemptImagePull(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes {
		w := generateWorkload(n)
		m := benchManager(b, w, kubeletconfig.AlwaysVerify)
		rec := w.records[n/2]
		image := w.images[n/2]
		var recordedSecret kubeletconfig.ImagePullSecret
		for _, entry := range rec.CredentialMapping {
			recordedSecret = entry.KubernetesSecrets[0]
		}
		hit := []kubeletconfig.ImagePullSecret{recordedSecret}
		unknown := []kubeletconfig.ImagePullSecret{{UID: "u", Namespace: "n", Name: "s", CredentialHash: "h"}}
		cases := []struct {
			name     string
			imageRef string
			secrets  []kubeletconfig.ImagePullSecret
			want     bool
		}{
			{name: "hit", imageRef: rec.ImageRef, secrets: hit, want: false},
			{name: "unknown-credentials", imageRef: rec.ImageRef, secrets: unknown, want: true},
			{name: "no-record", imageRef: "sha256:" + hex64(rand.New(rand.NewPCG(1, 2))), secrets: hit, want: true},
		}
		for _, tc := range cases {
			creds := func() ([]kubeletconfig.ImagePullSecret, *kubeletconfig.ImagePullServiceAccount, error) {
				return tc.secrets, nil, nil
			}
			if d, _ := m.MustAttemptImagePull(ctx, image, tc.imageRef, creds); d.MustPull != tc.want {
				b.Fatalf("%s: decision %+v, want MustPull=%v", tc.name, d, tc.want)
			}
			b.Run(fmt.Sprintf("records=%d/%s/parallel=1", n, tc.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_, _ = m.MustAttemptImagePull(ctx, image, tc.imageRef, creds)
				}
			})
		}
		// Different images in parallel: each goroutine decides its own image.
		b.Run(fmt.Sprintf("records=%d/hit/parallel=8", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8 / max(1, runtimeGOMAXPROCS()))
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(1)) % n
				img, ref := w.images[i], w.records[i].ImageRef
				secrets := []kubeletconfig.ImagePullSecret{{CredentialHash: w.hashes[i]}}
				creds := func() ([]kubeletconfig.ImagePullSecret, *kubeletconfig.ImagePullServiceAccount, error) {
					return secrets, nil, nil
				}
				for pb.Next() {
					_, _ = m.MustAttemptImagePull(ctx, img, ref, creds)
				}
			})
		})
		benchServiceAccountHit(b, n)
	}
}

// benchServiceAccountHit measures a decision that grants through a recorded
// service account (step 10: the pod's credential provider plugin answered
// with its service account, no Secret), over n records that each hold one
// service account, serially and with each goroutine deciding its own
// image.
func benchServiceAccountHit(b *testing.B, n int) {
	ctx := context.Background()
	w := generateServiceAccountWorkload(n)
	m := benchManagerIn(b, &benchWorkload{records: w.records}, kubeletconfig.AlwaysVerify, b.TempDir())
	credsFor := func(i int) GetPodCredentials {
		sa := w.accounts[i]
		return func() ([]kubeletconfig.ImagePullSecret, *kubeletconfig.ImagePullServiceAccount, error) {
			return nil, &sa, nil
		}
	}
	i := n / 2
	image, ref, creds := w.images[i], w.records[i].ImageRef, credsFor(i)
	if d, err := m.MustAttemptImagePull(ctx, image, ref, creds); err != nil || d.MustPull || d.Verification != VerificationServiceAccount {
		b.Fatalf("serviceaccount-hit: decision %+v, %v; want a grant through the service account", d, err)
	}
	b.Run(fmt.Sprintf("records=%d/serviceaccount-hit/parallel=1", n), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = m.MustAttemptImagePull(ctx, image, ref, creds)
		}
	})
	b.Run(fmt.Sprintf("records=%d/serviceaccount-hit/parallel=8", n), func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(8 / max(1, runtimeGOMAXPROCS()))
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(1)) % n
			img, ref, creds := w.images[i], w.records[i].ImageRef, credsFor(i)
			for pb.Next() {
				_, _ = m.MustAttemptImagePull(ctx, img, ref, creds)
			}
		})
	})
}

// BenchmarkLockFreeBaseline is the yardstick for the parallel decision
// benchmark: the same lookups a decision makes (record by image ref, entry
// by repository name, Secret by hash) in a plain map that nothing writes,
// with no lock at all. Its parallel=8 / parallel=1 ratio is the speed-up the
// machine allows; the decision benchmark's ratio is compared with it.
func BenchmarkLockFreeBaseline(b *testing.B) {
	const n = 10_000
	w := generateWorkload(n)
	records := make(map[string]*memRecord, n)
	for _, rec := range w.records {
		records[rec.ImageRef] = newMemRecord(rec)
	}
	decide := func(i int) bool {
		rec := w.records[i]
		r := records[rec.ImageRef]
		e := r.entry(w.repos[i])
		if e == nil {
			return true
		}
		for _, s := range e.secrets {
			if s.Value().CredentialHash == w.hashes[i] {
				return false
			}
		}
		return true
	}
	b.Run("parallel=1", func(b *testing.B) {
		// One image per goroutine, as in the parallel run and the
		// decision benchmarks.
		i := n / 2
		for b.Loop() {
			_ = decide(i)
		}
	})
	b.Run("parallel=8", func(b *testing.B) {
		b.SetParallelism(8 / max(1, runtimeGOMAXPROCS()))
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(1)) % n
			for pb.Next() {
				_ = decide(i)
			}
		})
	})
}

// BenchmarkRecordNewImage measures a new image's intent write, record write
// and intent removal, with N records already present, on tmpfs (the CPU
// cost) and on the disk (plus three fsyncs of files and two of the
// directory per image).
func BenchmarkRecordNewImage(b *testing.B) {
	ctx := klog.NewContext(context.Background(), klog.Background().V(10))
	for fsName, base := range benchFilesystems() {
		for _, n := range []int{1, 100_000} {
			b.Run(fmt.Sprintf("fs=%s/records=%d", fsName, n), func(b *testing.B) {
				root, err := os.MkdirTemp(base, "pullmanager-bench-")
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = os.RemoveAll(root) })
				w := generateWorkload(n)
				m := benchManagerIn(b, w, kubeletconfig.AlwaysVerify, root)
				creds := &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{w.secrets[0]}}
				r := rand.New(rand.NewPCG(7, 7))
				b.ReportAllocs()
				for b.Loop() {
					image := w.images[r.IntN(n)]
					if err := m.RecordPullIntent(ctx, image); err != nil {
						b.Fatal(err)
					}
					if err := m.RecordImagePulled(ctx, image, "sha256:"+hex64(r), creds); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// writeFixture writes the workload's records and intents as files without
// fsync (fixtures only) into a directory reused across -count runs.
func writeFixture(b *testing.B, records, intents int) string {
	return writeFixtureIn(b, os.TempDir(), records, intents)
}

func writeFixtureIn(b *testing.B, base string, records, intents int) string {
	b.Helper()
	dir := filepath.Join(base, fmt.Sprintf("pullmanager-bench-%d-%d", records, intents))
	done := filepath.Join(dir, ".complete")
	if _, err := os.Stat(done); err == nil {
		return dir
	}
	_ = os.RemoveAll(dir)
	w := generateWorkload(records)
	pulled := filepath.Join(dir, imagepullrecords.ManagerDirName, imagepullrecords.RecordsDirName)
	pulling := filepath.Join(dir, imagepullrecords.ManagerDirName, imagepullrecords.IntentsDirName)
	for _, d := range []string{pulled, pulling} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			b.Fatal(err)
		}
	}
	for _, rec := range w.records {
		out := &kubeletv1beta1.ImagePulledRecord{}
		if err := kubeletconfigv1beta1.Convert_config_ImagePulledRecord_To_v1beta1_ImagePulledRecord(rec, out); err != nil {
			b.Fatal(err)
		}
		data, err := imagepullrecords.EncodeRecord(out)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pulled, imagepullrecords.FileName(rec.ImageRef)), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < intents; i++ {
		data, err := imagepullrecords.EncodeIntent(&kubeletv1beta1.ImagePullIntent{Image: w.images[i]})
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pulling, imagepullrecords.FileName(w.images[i])), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(done, nil, 0o600); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkStartup measures a manager's start-up over N records and M
// intents whose images are present in the runtime, with the files on disk
// (page-cached after the first run) and on tmpfs. Housekeeping resolves the
// intents, which changes the fixture, so each iteration with intents starts
// from a fresh copy (made outside the timer).
func BenchmarkStartup(b *testing.B) {
	ctx := klog.NewContext(context.Background(), klog.Background().V(10))
	for fsName, base := range benchFilesystems() {
		for _, tc := range []struct{ records, intents int }{{10_000, 0}, {10_000, 1_000}, {100_000, 0}} {
			b.Run(fmt.Sprintf("fs=%s/records=%d/intents=%d", fsName, tc.records, tc.intents), func(b *testing.B) {
				fixture := writeFixtureIn(b, base, tc.records, tc.intents)
				w := generateWorkload(tc.records)
				var images []RuntimeImage
				for i := 0; i < tc.intents; i++ {
					images = append(images, RuntimeImage{ID: w.records[i].ImageRef, RepoTags: []string{w.images[i]}})
				}
				lister := &fakeLister{images: images}
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					root := fixture
					if tc.intents > 0 {
						var err error
						if root, err = os.MkdirTemp(base, "pullmanager-startup-"); err != nil {
							b.Fatal(err)
						}
						if err := os.CopyFS(root, os.DirFS(fixture)); err != nil {
							b.Fatal(err)
						}
					}
					b.StartTimer()
					m, err := NewFileBackedPullManager(ctx, Options{RootDir: root, ImageLister: lister})
					if err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					_ = m.Close()
					if root != fixture {
						_ = os.RemoveAll(root)
					}
					b.StartTimer()
				}
			})
		}
	}
}

func runtimeGOMAXPROCS() int { return runtime.GOMAXPROCS(0) }
