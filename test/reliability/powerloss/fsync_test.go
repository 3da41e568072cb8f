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

package powerloss

import (
	"fmt"
	"testing"
)

// TestFsyncMap turns each fsync of the store into a no-op in turn (through
// the MemFS, not in production code) and runs the power-cut sweep: removing
// a critical fsync must break an invariant, removing one that only makes
// recovery faster must not. See the package documentation for the map.
func TestFsyncMap(t *testing.T) {
	seeds, steps := []uint64{1}, 40
	if long() {
		seeds, steps = []uint64{1, 2, 3, 4}, 120
	}
	for _, tc := range []struct {
		class    SyncClass
		critical bool
		// shows says what the sweep must have met without the fsync for
		// "no violation" to mean anything: torn files, revived records.
		shows string
		// crashes: what the fsync protects needs a process crash before
		// the power cut to show.
		crashes bool
	}{
		{class: SyncRecordFile, critical: true},
		{class: SyncRecordDir, critical: true},
		{class: SyncIntentDir, critical: true},
		{class: SyncOpenParents, critical: true},
		{class: SyncOpenRecordDirs, critical: true, crashes: true},
		{class: SyncIntentFile, critical: false, shows: "broken"},
		{class: SyncRecordDirDelete, critical: false, shows: "revived"},
	} {
		t.Run(string(tc.class), func(t *testing.T) {
			cuts, violations, skipped, broken, revived := 0, 0, 0, 0, 0
			var sample []string
			for _, seed := range seeds {
				for _, crashes := range []bool{false, true} {
					if crashes && !tc.crashes && !long() {
						continue
					}
					res := sweep(t, sweepConfig{seed: seed, steps: steps, modes: []LossMode{LoseAll, Mixed}, skip: map[SyncClass]bool{tc.class: true}, crashes: crashes, crashEvery: crashEvery})
					cuts += res.cuts
					violations += len(res.violations)
					skipped += res.syncs[tc.class]
					broken += res.broken
					revived += res.revived
					if len(sample) < 3 {
						sample = append(sample, res.violations[:min(3, len(res.violations))]...)
					}
				}
			}
			if skipped == 0 {
				t.Fatalf("the workload never issued the %s fsync", tc.class)
			}
			met := map[string]int{"broken": broken, "revived": revived}
			switch {
			case tc.shows != "" && met[tc.shows] == 0:
				t.Errorf("without the %s fsync the sweep met no %s file: it shows nothing", tc.class, tc.shows)
			case tc.critical && violations == 0:
				t.Errorf("without the %s fsync (%d skipped) %d power cuts broke no invariant: the sweep cannot see what it protects", tc.class, skipped, cuts)
			case !tc.critical && violations > 0:
				t.Errorf("without the %s fsync, %d invariant violations:\n%s", tc.class, violations, summary(sample, 3))
			}
			msg := fmt.Sprintf("RELIABILITY: powerloss: without the %s fsync (%d skipped): %d power cuts, %d invariant violations (critical: %v; %d broken files met, %d pruned records came back)", tc.class, skipped, cuts, violations, tc.critical, broken, revived)
			t.Log(msg)
			if tc.critical && len(sample) > 0 {
				t.Logf("for example: %s", sample[0])
			}
			if long() {
				fmt.Println(msg)
			}
		})
	}
}
