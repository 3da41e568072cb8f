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
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"k8s.io/klog/v2"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// Memory is measured in a fresh process: the benchmark re-runs this test
// binary with one of the child tests below selected, so that nothing the
// parent allocated (other benchmarks, fixtures) is counted.
const memoryChildEnv = "PULLMANAGER_MEMORY_CHILD"

type memoryReport struct {
	HeapBytes  uint64 `json:"heapBytes"`
	VmHWMBytes uint64 `json:"vmHWMBytes"`
}

func runMemoryChild(b *testing.B, test, arg string) memoryReport {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.v=false")
	cmd.Env = append(os.Environ(), memoryChildEnv+"="+arg)
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("memory child %s(%s): %v\n%s", test, arg, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "MEMORY "); ok {
			var r memoryReport
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				b.Fatal(err)
			}
			return r
		}
	}
	b.Fatalf("memory child %s(%s) printed no report:\n%s", test, arg, out)
	return memoryReport{}
}

func reportMemory(heap uint64) {
	r := memoryReport{HeapBytes: heap, VmHWMBytes: vmHWM()}
	data, _ := json.Marshal(r)
	fmt.Println("MEMORY " + string(data))
}

// vmHWM reads the process's peak resident set size.
func vmHWM() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestRetainedMemoryChild holds N generated records in a manager's memory
// and reports the live heap. It only runs as a child of
// BenchmarkRetainedMemory.
func TestRetainedMemoryChild(t *testing.T) {
	arg := os.Getenv(memoryChildEnv)
	if arg == "" {
		t.Skip("runs only as a child of BenchmarkRetainedMemory")
	}
	n, err := strconv.Atoi(arg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := klog.NewContext(context.Background(), klog.Background().V(10))
	m, err := NewFileBackedPullManager(ctx, Options{RootDir: t.TempDir(), Policy: kubeletconfig.AlwaysVerify, ImageLister: &fakeLister{}})
	if err != nil {
		t.Fatal(err)
	}
	fm := m.(*fileBackedManager)
	func() {
		w := generateWorkload(n)
		for _, rec := range w.records {
			_ = fm.records.mem.WriteImagePulledRecord(rec)
		}
	}()
	heap := heapAfterGC()
	reportMemory(heap)
	runtime.KeepAlive(m)
}

// BenchmarkRetainedMemory reports (live heap with N records - with 0) / N,
// each measured in a fresh process after two garbage collections.
func BenchmarkRetainedMemory(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			var perRecord float64
			for b.Loop() {
				base := runMemoryChild(b, "TestRetainedMemoryChild", "0")
				full := runMemoryChild(b, "TestRetainedMemoryChild", strconv.Itoa(n))
				perRecord = (float64(full.HeapBytes) - float64(base.HeapBytes)) / float64(n)
			}
			b.ReportMetric(perRecord, "B/record")
		})
	}
}

// TestStartupPeakMemoryChild starts a manager over a fixture of N records
// and reports the process's peak resident memory. It only runs as a child
// of BenchmarkStartupPeakMemory.
func TestStartupPeakMemoryChild(t *testing.T) {
	dir := os.Getenv(memoryChildEnv)
	if dir == "" {
		t.Skip("runs only as a child of BenchmarkStartupPeakMemory")
	}
	ctx := klog.NewContext(context.Background(), klog.Background().V(10))
	m, err := NewFileBackedPullManager(ctx, Options{RootDir: dir, ImageLister: &fakeLister{}})
	if err != nil {
		t.Fatal(err)
	}
	reportMemory(heapAfterGC())
	_ = m.Close()
}

// BenchmarkStartupPeakMemory reports VmHWM of a fresh process that started
// a manager over N records on disk.
func BenchmarkStartupPeakMemory(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			fixture := writeFixture(b, n, 0)
			var r memoryReport
			for b.Loop() {
				r = runMemoryChild(b, "TestStartupPeakMemoryChild", fixture)
			}
			b.ReportMetric(float64(r.VmHWMBytes)/(1<<20), "MiB-VmHWM")
		})
	}
}
