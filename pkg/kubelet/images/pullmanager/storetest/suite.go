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

package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// NewStoreFunc returns a new, empty store that no other caller uses. It may
// register cleanups on t.
type NewStoreFunc func(t *testing.T) pullmanager.RecordsStore

// RunRecordsStoreSuite runs the conformance suite for RecordsStore against
// the stores newStore returns, one new store per subtest.
func RunRecordsStoreSuite(t *testing.T, newStore func(t *testing.T) pullmanager.RecordsStore) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, newStore NewStoreFunc)
	}{
		{name: "EmptyStore", run: testEmptyStore},
		{name: "Intents", run: testIntents},
		{name: "IntentsAreExactImageStrings", run: testIntentsAreExactImageStrings},
		{name: "IntentWriteIsIdempotent", run: testIntentWriteIsIdempotent},
		{name: "DeleteAbsentIntent", run: testDeleteAbsentIntent},
		{name: "GetAbsentRecord", run: testGetAbsentRecord},
		{name: "RecordRoundTrip", run: testRecordRoundTrip},
		{name: "OverwriteReplacesRecord", run: testOverwriteReplacesRecord},
		{name: "DeleteRecord", run: testDeleteRecord},
		{name: "ManyRecords", run: testManyRecords},
		{name: "IntentsAndRecordsAreSeparate", run: testIntentsAndRecordsAreSeparate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newStore)
		})
	}
}

// equateStored compares what a store returns with what was written: an
// empty list or map is the same as an absent one, because the file encoding
// omits both. Times compare as instants (time.Time.Equal).
var equateStored = cmpopts.EquateEmpty()

// lastUpdated is a whole-second time, the precision the file encoding keeps.
var lastUpdated = metav1.NewTime(time.Date(2026, time.January, 2, 3, 4, 5, 0, time.UTC))

// imageRef returns a distinct image ID in the form containerd reports.
func imageRef(i int) string {
	return fmt.Sprintf("sha256:%064x", i)
}

// digest is a valid digest for image strings pinned by digest.
var digest = "sha256:" + strings.Repeat("ab", 32)

// intentImages lists the store's intents as sorted image strings, failing
// the test on any error or broken file.
func intentImages(t *testing.T, store pullmanager.RecordsStore) []string {
	t.Helper()
	intents, bad, err := store.ListImagePullIntents()
	if err != nil {
		t.Fatalf("ListImagePullIntents() error: %v", err)
	}
	if len(bad) != 0 {
		t.Fatalf("ListImagePullIntents() returned broken files of a store that only this test wrote: %v", bad)
	}
	images := make([]string, 0, len(intents))
	for _, intent := range intents {
		images = append(images, intent.Image)
	}
	slices.Sort(images)
	return images
}

// records lists the store's records sorted by image ref, failing the test on
// any error or broken file.
func records(t *testing.T, store pullmanager.RecordsStore) []*kubeletconfig.ImagePulledRecord {
	t.Helper()
	recs, bad, err := store.ListImagePulledRecords()
	if err != nil {
		t.Fatalf("ListImagePulledRecords() error: %v", err)
	}
	if len(bad) != 0 {
		t.Fatalf("ListImagePulledRecords() returned broken files of a store that only this test wrote: %v", bad)
	}
	sorted := slices.Clone(recs)
	slices.SortFunc(sorted, func(a, b *kubeletconfig.ImagePulledRecord) int {
		return strings.Compare(a.ImageRef, b.ImageRef)
	})
	return sorted
}

func intentExists(t *testing.T, store pullmanager.RecordsStore, image string) bool {
	t.Helper()
	exists, err := store.ImagePullIntentExists(image)
	if err != nil {
		t.Fatalf("ImagePullIntentExists(%q) error: %v", image, err)
	}
	return exists
}

func writeIntent(t *testing.T, store pullmanager.RecordsStore, image string) {
	t.Helper()
	if err := store.WriteImagePullIntent(image); err != nil {
		t.Fatalf("WriteImagePullIntent(%q) error: %v", image, err)
	}
}

func deleteIntent(t *testing.T, store pullmanager.RecordsStore, image string) {
	t.Helper()
	if err := store.DeleteImagePullIntent(image); err != nil {
		t.Fatalf("DeleteImagePullIntent(%q) error: %v", image, err)
	}
}

func writeRecord(t *testing.T, store pullmanager.RecordsStore, record *kubeletconfig.ImagePulledRecord) {
	t.Helper()
	if err := store.WriteImagePulledRecord(record); err != nil {
		t.Fatalf("WriteImagePulledRecord(%q) error: %v", record.ImageRef, err)
	}
}

func getRecord(t *testing.T, store pullmanager.RecordsStore, ref string) *kubeletconfig.ImagePulledRecord {
	t.Helper()
	record, err := store.GetImagePulledRecord(ref)
	if err != nil {
		t.Fatalf("GetImagePulledRecord(%q) error: %v", ref, err)
	}
	return record
}

func deleteRecord(t *testing.T, store pullmanager.RecordsStore, ref string) {
	t.Helper()
	if err := store.DeleteImagePulledRecord(ref); err != nil {
		t.Fatalf("DeleteImagePulledRecord(%q) error: %v", ref, err)
	}
}

func testEmptyStore(t *testing.T, newStore NewStoreFunc) {
	store := newStore(t)
	if got := intentImages(t, store); len(got) != 0 {
		t.Errorf("new store lists intents %q, want none", got)
	}
	if got := records(t, store); len(got) != 0 {
		t.Errorf("new store lists records %v, want none", got)
	}
	if intentExists(t, store, "busybox") {
		t.Errorf("new store: ImagePullIntentExists(%q) = true, want false", "busybox")
	}
	if got := getRecord(t, store, imageRef(1)); got != nil {
		t.Errorf("new store: GetImagePulledRecord(%q) = %v, want nil", imageRef(1), got)
	}
}

// intentImageStrings are image strings as pod specs write them: familiar and
// fully qualified names, tags, digests, ports and nested paths. Each must be
// stored as its own intent.
var intentImageStrings = []string{
	"busybox",
	"busybox:1.36",
	"library/busybox",
	"docker.io/library/busybox",
	"docker.io/library/busybox:latest",
	"busybox@" + digest,
	"reg.example/team/app:1.2",
	"reg.example/team/app:1.2@" + digest,
	"reg.example:5000/a/b/c@" + digest,
	"localhost/app",
}

func testIntents(t *testing.T, newStore NewStoreFunc) {
	store := newStore(t)
	for _, image := range intentImageStrings {
		writeIntent(t, store, image)
		if !intentExists(t, store, image) {
			t.Errorf("after WriteImagePullIntent(%q): ImagePullIntentExists = false, want true", image)
		}
	}
	want := slices.Sorted(slices.Values(intentImageStrings))
	if diff := cmp.Diff(want, intentImages(t, store)); diff != "" {
		t.Errorf("ListImagePullIntents() images mismatch (-want +got):\n%s", diff)
	}

	// Delete one by one; the rest stay listed and present.
	remaining := slices.Clone(want)
	for _, image := range intentImageStrings {
		deleteIntent(t, store, image)
		remaining = slices.DeleteFunc(remaining, func(s string) bool { return s == image })
		if intentExists(t, store, image) {
			t.Errorf("after DeleteImagePullIntent(%q): ImagePullIntentExists = true, want false", image)
		}
		for _, other := range remaining {
			if !intentExists(t, store, other) {
				t.Errorf("after DeleteImagePullIntent(%q): ImagePullIntentExists(%q) = false, want true", image, other)
			}
		}
		if diff := cmp.Diff(remaining, intentImages(t, store), equateStored); diff != "" {
			t.Errorf("after DeleteImagePullIntent(%q): ListImagePullIntents() images mismatch (-want +got):\n%s", image, diff)
		}
	}
}

func testIntentsAreExactImageStrings(t *testing.T, newStore NewStoreFunc) {
	tests := []struct {
		name    string
		written string
		// others name the same repository (or even the same image) but are
		// different strings: an intent is keyed by the string as written.
		others []string
	}{
		{
			name:    "familiar name",
			written: "busybox",
			others:  []string{"busybox:latest", "library/busybox", "docker.io/library/busybox", "docker.io/library/busybox:latest"},
		},
		{
			name:    "fully qualified name",
			written: "docker.io/library/busybox:1.36",
			others:  []string{"busybox:1.36", "docker.io/library/busybox", "docker.io/library/busybox:1.3"},
		},
		{
			name:    "digest",
			written: "reg.example/team/app@" + digest,
			others:  []string{"reg.example/team/app", "reg.example/team/app:1.2@" + digest, digest},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := newStore(t)
			writeIntent(t, store, tc.written)
			for _, other := range tc.others {
				if intentExists(t, store, other) {
					t.Errorf("after WriteImagePullIntent(%q): ImagePullIntentExists(%q) = true, want false", tc.written, other)
				}
				// Deleting another string must not remove the written intent.
				deleteIntent(t, store, other)
			}
			if diff := cmp.Diff([]string{tc.written}, intentImages(t, store)); diff != "" {
				t.Errorf("ListImagePullIntents() images mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func testIntentWriteIsIdempotent(t *testing.T, newStore NewStoreFunc) {
	store := newStore(t)
	const image = "reg.example/team/app:1.2"
	writeIntent(t, store, image)
	writeIntent(t, store, image)
	if diff := cmp.Diff([]string{image}, intentImages(t, store)); diff != "" {
		t.Errorf("after two writes: ListImagePullIntents() images mismatch (-want +got):\n%s", diff)
	}
	// One delete removes the intent however often it was written: intents
	// are files, not counters (the pull manager counts pulls in flight).
	deleteIntent(t, store, image)
	if intentExists(t, store, image) {
		t.Errorf("after one delete: ImagePullIntentExists(%q) = true, want false", image)
	}
	if got := intentImages(t, store); len(got) != 0 {
		t.Errorf("after one delete: ListImagePullIntents() images = %q, want none", got)
	}
}

func testDeleteAbsentIntent(t *testing.T, newStore NewStoreFunc) {
	store := newStore(t)
	deleteIntent(t, store, "never-written")
	writeIntent(t, store, "busybox")
	deleteIntent(t, store, "busybox")
	deleteIntent(t, store, "busybox")
	if got := intentImages(t, store); len(got) != 0 {
		t.Errorf("ListImagePullIntents() images = %q, want none", got)
	}
}

func testGetAbsentRecord(t *testing.T, newStore NewStoreFunc) {
	store := newStore(t)
	writeRecord(t, store, &kubeletconfig.ImagePulledRecord{
		LastUpdatedTime:   lastUpdated,
		ImageRef:          imageRef(1),
		CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{"docker.io/library/busybox": {NodePodsAccessible: true}},
	})
	for _, ref := range []string{imageRef(2), "", "sha256:", "busybox"} {
		got, err := store.GetImagePulledRecord(ref)
		if err != nil || got != nil {
			t.Errorf("GetImagePulledRecord(%q) = (%v, %v), want (nil, nil)", ref, got, err)
		}
	}
}

func testRecordRoundTrip(t *testing.T, newStore NewStoreFunc) {
	tests := []struct {
		name   string
		record *kubeletconfig.ImagePulledRecord
	}{
		{
			name: "secrets",
			record: &kubeletconfig.ImagePulledRecord{
				LastUpdatedTime: lastUpdated,
				ImageRef:        imageRef(1),
				CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
					"reg.example/team/app": {
						KubernetesSecrets: []kubeletconfig.ImagePullSecret{
							{UID: "7c9e-uid-a", Namespace: "team-a", Name: "regcred", CredentialHash: strings.Repeat("9a", 32)},
							{UID: "8d0f-uid-b", Namespace: "team-b", Name: "regcred", CredentialHash: strings.Repeat("0b", 32)},
						},
					},
				},
			},
		},
		{
			name: "service accounts",
			record: &kubeletconfig.ImagePulledRecord{
				LastUpdatedTime: lastUpdated,
				ImageRef:        imageRef(2),
				CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
					"reg.example/team/app": {
						KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{
							{UID: "1f2e-uid", Namespace: "team-b", Name: "builder"},
							{UID: "3a4b-uid", Namespace: "team-c", Name: "default"},
						},
					},
				},
			},
		},
		{
			name: "secrets and service accounts",
			record: &kubeletconfig.ImagePulledRecord{
				LastUpdatedTime: lastUpdated,
				ImageRef:        imageRef(3),
				CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
					"reg.example/team/app": {
						KubernetesSecrets: []kubeletconfig.ImagePullSecret{
							{UID: "7c9e-uid-a", Namespace: "team-a", Name: "regcred", CredentialHash: strings.Repeat("9a", 32)},
						},
						KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{
							{UID: "1f2e-uid", Namespace: "team-b", Name: "builder"},
						},
					},
				},
			},
		},
		{
			name: "node pods accessible",
			record: &kubeletconfig.ImagePulledRecord{
				LastUpdatedTime: lastUpdated,
				ImageRef:        imageRef(4),
				CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
					"docker.io/library/busybox": {NodePodsAccessible: true},
				},
			},
		},
		{
			name: "empty entry",
			record: &kubeletconfig.ImagePulledRecord{
				LastUpdatedTime: lastUpdated,
				ImageRef:        imageRef(5),
				CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
					"reg.example/team/app": {},
				},
			},
		},
		{
			name: "several names",
			record: &kubeletconfig.ImagePulledRecord{
				LastUpdatedTime: lastUpdated,
				ImageRef:        imageRef(6),
				CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
					"docker.io/library/busybox": {NodePodsAccessible: true},
					"reg.example/team/app": {
						KubernetesSecrets: []kubeletconfig.ImagePullSecret{
							{UID: "7c9e-uid-a", Namespace: "team-a", Name: "regcred", CredentialHash: strings.Repeat("9a", 32)},
						},
					},
					"reg.example:5000/a/b": {},
					"quay.io/org/tool": {
						KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{
							{UID: "1f2e-uid", Namespace: "team-b", Name: "builder"},
						},
					},
				},
			},
		},
		{
			name: "repo digest as image ref",
			record: &kubeletconfig.ImagePulledRecord{
				LastUpdatedTime: lastUpdated,
				ImageRef:        "reg.example/team/app@" + digest,
				CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
					"reg.example/team/app": {NodePodsAccessible: true},
				},
			},
		},
		{
			// Released kubelets write an empty mapping for an interrupted
			// pull: "pulled by the kubelet" under every name.
			name: "empty credential mapping",
			record: &kubeletconfig.ImagePulledRecord{
				LastUpdatedTime:   lastUpdated,
				ImageRef:          imageRef(7),
				CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{},
			},
		},
		{
			name: "nil credential mapping",
			record: &kubeletconfig.ImagePulledRecord{
				LastUpdatedTime: lastUpdated,
				ImageRef:        imageRef(8),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := newStore(t)
			writeRecord(t, store, tc.record)
			got := getRecord(t, store, tc.record.ImageRef)
			if got == nil {
				t.Fatalf("GetImagePulledRecord(%q) = nil after writing it", tc.record.ImageRef)
			}
			if diff := cmp.Diff(tc.record, got, equateStored); diff != "" {
				t.Errorf("GetImagePulledRecord(%q) mismatch (-want +got):\n%s", tc.record.ImageRef, diff)
			}
			// A dropped `{}` entry is caught above too; the count makes the
			// report plain.
			if len(got.CredentialMapping) != len(tc.record.CredentialMapping) {
				t.Errorf("GetImagePulledRecord(%q) has %d credentialMapping entries, want %d", tc.record.ImageRef, len(got.CredentialMapping), len(tc.record.CredentialMapping))
			}
			if diff := cmp.Diff([]*kubeletconfig.ImagePulledRecord{tc.record}, records(t, store), equateStored); diff != "" {
				t.Errorf("ListImagePulledRecords() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func testOverwriteReplacesRecord(t *testing.T, newStore NewStoreFunc) {
	store := newStore(t)
	ref := imageRef(1)
	first := &kubeletconfig.ImagePulledRecord{
		LastUpdatedTime: lastUpdated,
		ImageRef:        ref,
		CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
			"reg.example/team/app": {
				KubernetesSecrets: []kubeletconfig.ImagePullSecret{
					{UID: "uid-a", Namespace: "team-a", Name: "regcred", CredentialHash: strings.Repeat("9a", 32)},
				},
			},
			"reg.example/team/other": {},
		},
	}
	// The store does not merge: the second write is the whole new record,
	// with fewer names and another time.
	second := &kubeletconfig.ImagePulledRecord{
		LastUpdatedTime: metav1.NewTime(lastUpdated.Add(time.Hour)),
		ImageRef:        ref,
		CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
			"reg.example/team/app": {
				KubernetesSecrets: []kubeletconfig.ImagePullSecret{
					{UID: "uid-a", Namespace: "team-a", Name: "regcred", CredentialHash: strings.Repeat("0b", 32)},
				},
			},
		},
	}
	writeRecord(t, store, first)
	writeRecord(t, store, second)
	if diff := cmp.Diff(second, getRecord(t, store, ref), equateStored); diff != "" {
		t.Errorf("GetImagePulledRecord(%q) after overwrite mismatch (-want +got):\n%s", ref, diff)
	}
	if diff := cmp.Diff([]*kubeletconfig.ImagePulledRecord{second}, records(t, store), equateStored); diff != "" {
		t.Errorf("ListImagePulledRecords() after overwrite mismatch (-want +got):\n%s", diff)
	}
}

func testDeleteRecord(t *testing.T, newStore NewStoreFunc) {
	store := newStore(t)
	kept := &kubeletconfig.ImagePulledRecord{
		LastUpdatedTime:   lastUpdated,
		ImageRef:          imageRef(1),
		CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{"docker.io/library/busybox": {NodePodsAccessible: true}},
	}
	deleted := &kubeletconfig.ImagePulledRecord{
		LastUpdatedTime:   lastUpdated,
		ImageRef:          imageRef(2),
		CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{"docker.io/library/alpine": {}},
	}
	// Deleting what was never written is fine.
	deleteRecord(t, store, deleted.ImageRef)
	writeRecord(t, store, kept)
	writeRecord(t, store, deleted)
	deleteRecord(t, store, deleted.ImageRef)
	if got := getRecord(t, store, deleted.ImageRef); got != nil {
		t.Errorf("GetImagePulledRecord(%q) after delete = %v, want nil", deleted.ImageRef, got)
	}
	// Deleting twice is fine too.
	deleteRecord(t, store, deleted.ImageRef)
	if diff := cmp.Diff(kept, getRecord(t, store, kept.ImageRef), equateStored); diff != "" {
		t.Errorf("GetImagePulledRecord(%q) of the kept record mismatch (-want +got):\n%s", kept.ImageRef, diff)
	}
	if diff := cmp.Diff([]*kubeletconfig.ImagePulledRecord{kept}, records(t, store), equateStored); diff != "" {
		t.Errorf("ListImagePulledRecords() after delete mismatch (-want +got):\n%s", diff)
	}
}

func testManyRecords(t *testing.T, newStore NewStoreFunc) {
	const n = 100
	store := newStore(t)
	var want []*kubeletconfig.ImagePulledRecord
	for i := range n {
		record := &kubeletconfig.ImagePulledRecord{
			LastUpdatedTime: metav1.NewTime(lastUpdated.Add(time.Duration(i) * time.Second)),
			ImageRef:        imageRef(i),
			CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
				fmt.Sprintf("reg.example/team/app-%d", i): {
					KubernetesSecrets: []kubeletconfig.ImagePullSecret{
						{UID: fmt.Sprintf("uid-%d", i), Namespace: "team-a", Name: "regcred", CredentialHash: fmt.Sprintf("%064x", i)},
					},
				},
			},
		}
		writeRecord(t, store, record)
		want = append(want, record)
	}
	for _, record := range want {
		if diff := cmp.Diff(record, getRecord(t, store, record.ImageRef), equateStored); diff != "" {
			t.Errorf("GetImagePulledRecord(%q) mismatch (-want +got):\n%s", record.ImageRef, diff)
		}
	}
	// imageRef(i) sorts by i, so want is already sorted by image ref.
	if diff := cmp.Diff(want, records(t, store), equateStored); diff != "" {
		t.Errorf("ListImagePulledRecords() mismatch (-want +got):\n%s", diff)
	}

	var remaining []*kubeletconfig.ImagePulledRecord
	for i, record := range want {
		if i%3 == 0 {
			deleteRecord(t, store, record.ImageRef)
			continue
		}
		remaining = append(remaining, record)
	}
	if diff := cmp.Diff(remaining, records(t, store), equateStored); diff != "" {
		t.Errorf("ListImagePulledRecords() after deleting every third record mismatch (-want +got):\n%s", diff)
	}
	for i, record := range want {
		got := getRecord(t, store, record.ImageRef)
		if i%3 == 0 {
			if got != nil {
				t.Errorf("GetImagePulledRecord(%q) of a deleted record = %v, want nil", record.ImageRef, got)
			}
			continue
		}
		if diff := cmp.Diff(record, got, equateStored); diff != "" {
			t.Errorf("GetImagePulledRecord(%q) mismatch (-want +got):\n%s", record.ImageRef, diff)
		}
	}
}

// testIntentsAndRecordsAreSeparate uses one string both as an intent's image
// and as a record's image ref: their file names hash the same string, so
// only the kind keeps them apart.
func testIntentsAndRecordsAreSeparate(t *testing.T, newStore NewStoreFunc) {
	store := newStore(t)
	key := imageRef(1)
	record := &kubeletconfig.ImagePulledRecord{
		LastUpdatedTime:   lastUpdated,
		ImageRef:          key,
		CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{"docker.io/library/busybox": {NodePodsAccessible: true}},
	}

	writeRecord(t, store, record)
	if intentExists(t, store, key) {
		t.Errorf("writing a record made ImagePullIntentExists(%q) true", key)
	}
	writeIntent(t, store, key)
	if diff := cmp.Diff(record, getRecord(t, store, key), equateStored); diff != "" {
		t.Errorf("GetImagePulledRecord(%q) after writing an intent of the same key mismatch (-want +got):\n%s", key, diff)
	}

	deleteIntent(t, store, key)
	if diff := cmp.Diff(record, getRecord(t, store, key), equateStored); diff != "" {
		t.Errorf("GetImagePulledRecord(%q) after deleting the intent of the same key mismatch (-want +got):\n%s", key, diff)
	}

	writeIntent(t, store, key)
	deleteRecord(t, store, key)
	if !intentExists(t, store, key) {
		t.Errorf("deleting the record made ImagePullIntentExists(%q) false", key)
	}
	if diff := cmp.Diff([]string{key}, intentImages(t, store)); diff != "" {
		t.Errorf("ListImagePullIntents() images mismatch (-want +got):\n%s", diff)
	}
}
