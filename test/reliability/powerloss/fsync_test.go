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
	"strings"
	"testing"
)

// TestFsyncMap turns each fsync of the store into a no-op in turn (through
// the MemFS, not in production code) and runs the power-cut sweep (with
// revocations), or for ApplyRewrite's fsyncs the rewrite sweep: removing
// a critical fsync must break an invariant, removing one that only makes
// recovery faster, or a finished rewrite final, must not. See the package
// documentation for the map.
func TestFsyncMap(t *testing.T) {
	seeds, steps := []uint64{1}, 40
	if long() {
		seeds, steps = []uint64{1, 2, 3, 4}, 120
	}
	for _, tc := range []struct {
		class    SyncClass
		critical bool
		// shows says what the sweep must have met without the fsync for
		// "no violation" to mean anything: torn files, revived records,
		// rewritten files back in their old version ("undone").
		shows string
		// crashes: what the fsync protects needs a process crash before
		// the power cut to show.
		crashes bool
		// breaks, when set, must appear among the violations: what else
		// the fsync protects.
		breaks string
		// rewrite: the fsync is ApplyRewrite's; the rewrite sweep runs.
		rewrite bool
	}{
		{class: SyncRecordFile, critical: true},
		{class: SyncRecordDir, critical: true, breaks: "after its revocation was acknowledged"},
		{class: SyncIntentDir, critical: true},
		{class: SyncOpenParents, critical: true},
		{class: SyncOpenRecordDirs, critical: true, crashes: true},
		{class: SyncIntentFile, critical: false, shows: "broken"},
		{class: SyncRecordDirDelete, critical: false, shows: "revived"},
		{class: SyncRewriteFile, critical: true, rewrite: true},
		{class: SyncRewriteDir, critical: false, shows: "undone", rewrite: true},
	} {
		t.Run(string(tc.class), func(t *testing.T) {
			cuts, violations, skipped, broken, revived, undone, breaks := 0, 0, 0, 0, 0, 0, 0
			var sample []string
			note := func(found []string) {
				violations += len(found)
				for _, v := range found {
					if tc.breaks != "" && strings.Contains(v, tc.breaks) {
						breaks++
					}
				}
				if len(sample) < 3 {
					sample = append(sample, found[:min(3, len(found))]...)
				}
			}
			skip := map[SyncClass]bool{tc.class: true}
			for _, seed := range seeds {
				if tc.rewrite {
					for _, variant := range rewriteVariants {
						res := rewriteSweep(t, rewriteConfig{seed: seed, records: rewriteRecords, intents: rewriteIntents, variant: variant, modes: []LossMode{LoseAll, Mixed}, skip: skip})
						cuts += res.cuts
						skipped += res.syncs[tc.class]
						undone += len(res.durability)
						note(res.safety)
					}
					continue
				}
				for _, crashes := range []bool{false, true} {
					if crashes && !tc.crashes && !long() {
						continue
					}
					res := sweep(t, sweepConfig{seed: seed, steps: steps, modes: []LossMode{LoseAll, Mixed}, skip: skip, crashes: crashes, crashEvery: crashEvery, revokeEvery: revokeEvery})
					cuts += res.cuts
					skipped += res.syncs[tc.class]
					broken += res.broken
					revived += res.revived
					note(res.violations)
				}
			}
			if skipped == 0 {
				t.Fatalf("the sweep never issued the %s fsync", tc.class)
			}
			met := map[string]int{"broken": broken, "revived": revived, "undone": undone}
			switch {
			case tc.shows != "" && met[tc.shows] == 0:
				t.Errorf("without the %s fsync the sweep met no %s file: it shows nothing", tc.class, tc.shows)
			case tc.critical && violations == 0:
				t.Errorf("without the %s fsync (%d skipped) %d power cuts broke no invariant: the sweep cannot see what it protects", tc.class, skipped, cuts)
			case !tc.critical && violations > 0:
				t.Errorf("without the %s fsync, %d invariant violations:\n%s", tc.class, violations, summary(sample, 3))
			case tc.breaks != "" && breaks == 0:
				t.Errorf("without the %s fsync no violation says %q: the sweep does not show all it protects", tc.class, tc.breaks)
			}
			msg := fmt.Sprintf("RELIABILITY: powerloss: without the %s fsync (%d skipped): %d power cuts, %d invariant violations (critical: %v; %d broken files met, %d pruned records came back)", tc.class, skipped, cuts, violations, tc.critical, broken, revived)
			switch {
			case tc.rewrite:
				msg = fmt.Sprintf("RELIABILITY: powerloss: without the %s fsync (%d skipped): %d power cuts during ApplyRewrite, %d invariant violations (critical: %v; %d files without their new version after the rewrite returned)", tc.class, skipped, cuts, violations, tc.critical, undone)
			case tc.breaks != "":
				msg += fmt.Sprintf(" (%d of them: %s)", breaks, tc.breaks)
			}
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
