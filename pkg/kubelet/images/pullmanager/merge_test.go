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
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// Fixtures of this file are built inside each test: other tests of the
// package declare their own package-level names.

func TestMergeCredentials(t *testing.T) {
	secret := func(uid, namespace, name, hash string) kubeletconfig.ImagePullSecret {
		return kubeletconfig.ImagePullSecret{UID: uid, Namespace: namespace, Name: name, CredentialHash: hash}
	}
	sa := func(uid, namespace, name string) kubeletconfig.ImagePullServiceAccount {
		return kubeletconfig.ImagePullServiceAccount{UID: uid, Namespace: namespace, Name: name}
	}
	s1 := secret("uid-1", "ns-a", "s1", "hash-1")
	s1Rotated := secret("uid-1", "ns-a", "s1", "hash-2")
	s1Recreated := secret("uid-1b", "ns-a", "s1", "hash-3")
	s2 := secret("uid-2", "ns-a", "s2", "hash-1")
	s3 := secret("uid-3", "ns-b", "s0", "hash-4")
	saA := sa("uid-sa-a", "ns-a", "builder")
	saB := sa("uid-sa-b", "ns-b", "builder")
	saC := sa("uid-sa-c", "ns-a", "deployer")
	nodeAccessible := &kubeletconfig.ImagePullCredentials{NodePodsAccessible: true}

	tests := []struct {
		name        string
		existing    *kubeletconfig.ImagePullCredentials
		update      *kubeletconfig.ImagePullCredentials
		want        kubeletconfig.ImagePullCredentials
		wantChanged bool
	}{
		// nil or empty credentials add `{}` when there is no entry, and
		// never grant or remove anything.
		{
			name:        "no entry, nil credentials add an empty entry",
			existing:    nil,
			update:      nil,
			want:        kubeletconfig.ImagePullCredentials{},
			wantChanged: true,
		},
		{
			name:        "no entry, empty credentials add an empty entry",
			existing:    nil,
			update:      &kubeletconfig.ImagePullCredentials{},
			want:        kubeletconfig.ImagePullCredentials{},
			wantChanged: true,
		},
		{
			name:     "no entry, empty non-nil lists add an empty entry",
			existing: nil,
			update: &kubeletconfig.ImagePullCredentials{
				KubernetesSecrets:         []kubeletconfig.ImagePullSecret{},
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{},
			},
			want:        kubeletconfig.ImagePullCredentials{},
			wantChanged: true,
		},
		{
			name:        "empty entry, nil credentials: unchanged",
			existing:    &kubeletconfig.ImagePullCredentials{},
			update:      nil,
			want:        kubeletconfig.ImagePullCredentials{},
			wantChanged: false,
		},
		{
			name:        "empty entry, empty credentials: unchanged",
			existing:    &kubeletconfig.ImagePullCredentials{},
			update:      &kubeletconfig.ImagePullCredentials{},
			want:        kubeletconfig.ImagePullCredentials{},
			wantChanged: false,
		},
		{
			name: "secrets and service accounts, nil credentials: kept, unchanged",
			existing: &kubeletconfig.ImagePullCredentials{
				KubernetesSecrets:         []kubeletconfig.ImagePullSecret{s1},
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA},
			},
			update: nil,
			want: kubeletconfig.ImagePullCredentials{
				KubernetesSecrets:         []kubeletconfig.ImagePullSecret{s1},
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA},
			},
			wantChanged: false,
		},
		{
			name:        "nodePodsAccessible, empty credentials: kept, unchanged",
			existing:    nodeAccessible,
			update:      &kubeletconfig.ImagePullCredentials{},
			want:        kubeletconfig.ImagePullCredentials{NodePodsAccessible: true},
			wantChanged: false,
		},

		// An existing nodePodsAccessible entry absorbs everything.
		{
			name:     "nodePodsAccessible absorbs secrets and service accounts",
			existing: nodeAccessible,
			update: &kubeletconfig.ImagePullCredentials{
				KubernetesSecrets:         []kubeletconfig.ImagePullSecret{s1},
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA},
			},
			want:        kubeletconfig.ImagePullCredentials{NodePodsAccessible: true},
			wantChanged: false,
		},
		{
			name:        "nodePodsAccessible absorbs nodePodsAccessible",
			existing:    nodeAccessible,
			update:      nodeAccessible,
			want:        kubeletconfig.ImagePullCredentials{NodePodsAccessible: true},
			wantChanged: false,
		},

		// New nodePodsAccessible credentials replace the entry.
		{
			name:        "no entry, nodePodsAccessible",
			existing:    nil,
			update:      nodeAccessible,
			want:        kubeletconfig.ImagePullCredentials{NodePodsAccessible: true},
			wantChanged: true,
		},
		{
			name:        "empty entry, nodePodsAccessible replaces",
			existing:    &kubeletconfig.ImagePullCredentials{},
			update:      nodeAccessible,
			want:        kubeletconfig.ImagePullCredentials{NodePodsAccessible: true},
			wantChanged: true,
		},
		{
			name: "secrets and service accounts, nodePodsAccessible replaces",
			existing: &kubeletconfig.ImagePullCredentials{
				KubernetesSecrets:         []kubeletconfig.ImagePullSecret{s1, s2},
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA},
			},
			update:      nodeAccessible,
			want:        kubeletconfig.ImagePullCredentials{NodePodsAccessible: true},
			wantChanged: true,
		},
		{
			// nodePodsAccessible excludes the lists in the same entry.
			name:     "no entry, nodePodsAccessible with secrets keeps only nodePodsAccessible",
			existing: nil,
			update: &kubeletconfig.ImagePullCredentials{
				NodePodsAccessible:        true,
				KubernetesSecrets:         []kubeletconfig.ImagePullSecret{s1},
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA},
			},
			want:        kubeletconfig.ImagePullCredentials{NodePodsAccessible: true},
			wantChanged: true,
		},

		// Secrets merge by (uid, namespace, name), the new hash winning.
		{
			name:        "no entry, secrets",
			existing:    nil,
			update:      &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
			want:        kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
			wantChanged: true,
		},
		{
			name:        "empty entry, secrets",
			existing:    &kubeletconfig.ImagePullCredentials{},
			update:      &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
			want:        kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
			wantChanged: true,
		},
		{
			name:        "same secret, same hash: unchanged",
			existing:    &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1, s2}},
			update:      &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
			want:        kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1, s2}},
			wantChanged: false,
		},
		{
			name:        "rotated secret: new hash wins",
			existing:    &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1, s2}},
			update:      &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1Rotated}},
			want:        kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1Rotated, s2}},
			wantChanged: true,
		},
		{
			// A Secret deleted and recreated has a new UID: another Secret.
			name:        "recreated secret with a new uid is added",
			existing:    &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
			update:      &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1Recreated}},
			want:        kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1, s1Recreated}},
			wantChanged: true,
		},
		{
			name:        "same uid and name in another namespace is another secret",
			existing:    &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
			update:      &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{secret("uid-1", "ns-z", "s1", "hash-1")}},
			want:        kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1, secret("uid-1", "ns-z", "s1", "hash-1")}},
			wantChanged: true,
		},
		{
			name:        "same uid and namespace with another name is another secret",
			existing:    &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
			update:      &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{secret("uid-1", "ns-a", "s9", "hash-1")}},
			want:        kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1, secret("uid-1", "ns-a", "s9", "hash-1")}},
			wantChanged: true,
		},
		{
			name: "secrets merge and service accounts are kept",
			existing: &kubeletconfig.ImagePullCredentials{
				KubernetesSecrets:         []kubeletconfig.ImagePullSecret{s2},
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA},
			},
			update: &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
			want: kubeletconfig.ImagePullCredentials{
				KubernetesSecrets:         []kubeletconfig.ImagePullSecret{s1, s2},
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA},
			},
			wantChanged: true,
		},

		// Service accounts merge as a set.
		{
			name:        "no entry, service accounts",
			existing:    nil,
			update:      &kubeletconfig.ImagePullCredentials{KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA}},
			want:        kubeletconfig.ImagePullCredentials{KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA}},
			wantChanged: true,
		},
		{
			name:        "known service account: unchanged",
			existing:    &kubeletconfig.ImagePullCredentials{KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA, saB}},
			update:      &kubeletconfig.ImagePullCredentials{KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saB}},
			want:        kubeletconfig.ImagePullCredentials{KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA, saB}},
			wantChanged: false,
		},
		{
			name:        "known and new service accounts: union",
			existing:    &kubeletconfig.ImagePullCredentials{KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA}},
			update:      &kubeletconfig.ImagePullCredentials{KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saB, saA}},
			want:        kubeletconfig.ImagePullCredentials{KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA, saB}},
			wantChanged: true,
		},
		{
			name: "service accounts merge and secrets are kept",
			existing: &kubeletconfig.ImagePullCredentials{
				KubernetesSecrets:         []kubeletconfig.ImagePullSecret{s1},
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saB},
			},
			update: &kubeletconfig.ImagePullCredentials{KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA}},
			want: kubeletconfig.ImagePullCredentials{
				KubernetesSecrets:         []kubeletconfig.ImagePullSecret{s1},
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA, saB},
			},
			wantChanged: true,
		},

		// Lists stay sorted by namespace, name, uid.
		{
			name:     "no entry, unsorted lists come out sorted",
			existing: nil,
			update: &kubeletconfig.ImagePullCredentials{
				KubernetesSecrets:         []kubeletconfig.ImagePullSecret{s3, s1Recreated, s2, s1},
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saB, saC, saA},
			},
			want: kubeletconfig.ImagePullCredentials{
				// ns-a/s1 (uid-1, uid-1b), ns-a/s2, ns-b/s0.
				KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1, s1Recreated, s2, s3},
				// ns-a/builder, ns-a/deployer, ns-b/builder.
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA, saC, saB},
			},
			wantChanged: true,
		},
		{
			name: "merged into the middle of sorted lists",
			existing: &kubeletconfig.ImagePullCredentials{
				KubernetesSecrets:         []kubeletconfig.ImagePullSecret{s1, s3},
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA, saB},
			},
			update: &kubeletconfig.ImagePullCredentials{
				KubernetesSecrets:         []kubeletconfig.ImagePullSecret{s2, s1Recreated},
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saC},
			},
			want: kubeletconfig.ImagePullCredentials{
				KubernetesSecrets:         []kubeletconfig.ImagePullSecret{s1, s1Recreated, s2, s3},
				KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA, saC, saB},
			},
			wantChanged: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			existingBefore := mergeTestCopyCredentials(tc.existing)
			updateBefore := mergeTestCopyCredentials(tc.update)

			got, changed := mergeCredentials(tc.existing, tc.update)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mergeCredentials() mismatch (-want +got):\n%s", diff)
			}
			if changed != tc.wantChanged {
				t.Errorf("mergeCredentials() changed = %t, want %t", changed, tc.wantChanged)
			}
			// Records are shared between readers: merging never modifies
			// either input.
			if diff := cmp.Diff(existingBefore, tc.existing); diff != "" {
				t.Errorf("mergeCredentials() modified existing (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(updateBefore, tc.update); diff != "" {
				t.Errorf("mergeCredentials() modified update (-before +after):\n%s", diff)
			}
		})
	}
}

// mergeTestCopyCredentials deep-copies c, nil staying nil.
func mergeTestCopyCredentials(c *kubeletconfig.ImagePullCredentials) *kubeletconfig.ImagePullCredentials {
	if c == nil {
		return nil
	}
	out := *c
	if c.KubernetesSecrets != nil {
		out.KubernetesSecrets = append([]kubeletconfig.ImagePullSecret{}, c.KubernetesSecrets...)
	}
	if c.KubernetesServiceAccounts != nil {
		out.KubernetesServiceAccounts = append([]kubeletconfig.ImagePullServiceAccount{}, c.KubernetesServiceAccounts...)
	}
	return &out
}

// mergeTestCopyRecord deep-copies r, nil staying nil.
func mergeTestCopyRecord(r *kubeletconfig.ImagePulledRecord) *kubeletconfig.ImagePulledRecord {
	if r == nil {
		return nil
	}
	out := *r
	if r.CredentialMapping != nil {
		out.CredentialMapping = make(map[string]kubeletconfig.ImagePullCredentials, len(r.CredentialMapping))
		for k, v := range r.CredentialMapping {
			out.CredentialMapping[k] = *mergeTestCopyCredentials(&v)
		}
	}
	return &out
}

func TestWithCredentials(t *testing.T) {
	const (
		ref   = "sha256:aaaa"
		repo  = "reg.example/team/app"
		other = "docker.io/library/busybox"
	)
	updated := metav1.NewTime(time.Date(2026, time.January, 2, 3, 4, 5, 0, time.UTC))
	s1 := kubeletconfig.ImagePullSecret{UID: "uid-1", Namespace: "ns-a", Name: "s1", CredentialHash: "hash-1"}
	s2 := kubeletconfig.ImagePullSecret{UID: "uid-2", Namespace: "ns-a", Name: "s2", CredentialHash: "hash-2"}

	tests := []struct {
		name        string
		record      *kubeletconfig.ImagePulledRecord
		update      *kubeletconfig.ImagePullCredentials
		want        *kubeletconfig.ImagePulledRecord
		wantChanged bool
	}{
		{
			name:   "no record, secrets",
			record: nil,
			update: &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
			want: &kubeletconfig.ImagePulledRecord{
				ImageRef: ref,
				CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
					repo: {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
				},
			},
			wantChanged: true,
		},
		{
			name:   "no record, nil credentials record the name only",
			record: nil,
			update: nil,
			want: &kubeletconfig.ImagePulledRecord{
				ImageRef:          ref,
				CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{repo: {}},
			},
			wantChanged: true,
		},
		{
			name: "other names are kept and the time is carried over",
			record: &kubeletconfig.ImagePulledRecord{
				LastUpdatedTime: updated,
				ImageRef:        ref,
				CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
					other: {NodePodsAccessible: true},
					repo:  {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s2}},
				},
			},
			update: &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
			want: &kubeletconfig.ImagePulledRecord{
				LastUpdatedTime: updated,
				ImageRef:        ref,
				CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
					other: {NodePodsAccessible: true},
					repo:  {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1, s2}},
				},
			},
			wantChanged: true,
		},
		{
			name: "new name added next to others",
			record: &kubeletconfig.ImagePulledRecord{
				LastUpdatedTime:   updated,
				ImageRef:          ref,
				CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{other: {NodePodsAccessible: true}},
			},
			update: nil,
			want: &kubeletconfig.ImagePulledRecord{
				LastUpdatedTime: updated,
				ImageRef:        ref,
				CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
					other: {NodePodsAccessible: true},
					repo:  {},
				},
			},
			wantChanged: true,
		},
		{
			name: "nothing new",
			record: &kubeletconfig.ImagePulledRecord{
				LastUpdatedTime:   updated,
				ImageRef:          ref,
				CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{repo: {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}}},
			},
			update: &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
			want: &kubeletconfig.ImagePulledRecord{
				LastUpdatedTime:   updated,
				ImageRef:          ref,
				CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{repo: {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}}},
			},
			wantChanged: false,
		},
		{
			name: "nodePodsAccessible replaces the name's entry only",
			record: &kubeletconfig.ImagePulledRecord{
				LastUpdatedTime: updated,
				ImageRef:        ref,
				CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
					other: {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s2}},
					repo:  {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
				},
			},
			update: &kubeletconfig.ImagePullCredentials{NodePodsAccessible: true},
			want: &kubeletconfig.ImagePulledRecord{
				LastUpdatedTime: updated,
				ImageRef:        ref,
				CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
					other: {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s2}},
					repo:  {NodePodsAccessible: true},
				},
			},
			wantChanged: true,
		},
		{
			// Released kubelets write an empty mapping for an interrupted
			// pull; a pull then adds the name.
			name:        "empty mapping",
			record:      &kubeletconfig.ImagePulledRecord{LastUpdatedTime: updated, ImageRef: ref, CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{}},
			update:      &kubeletconfig.ImagePullCredentials{NodePodsAccessible: true},
			want:        &kubeletconfig.ImagePulledRecord{LastUpdatedTime: updated, ImageRef: ref, CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{repo: {NodePodsAccessible: true}}},
			wantChanged: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := mergeTestCopyRecord(tc.record)

			got, changed := withCredentials(tc.record, ref, repo, tc.update)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("withCredentials() mismatch (-want +got):\n%s", diff)
			}
			if changed != tc.wantChanged {
				t.Errorf("withCredentials() changed = %t, want %t", changed, tc.wantChanged)
			}
			if diff := cmp.Diff(before, tc.record); diff != "" {
				t.Errorf("withCredentials() modified its input record (-before +after):\n%s", diff)
			}
			if tc.record == nil {
				return
			}
			if got == tc.record {
				t.Fatalf("withCredentials() returned its input record, want a copy")
			}
			// The copy's mapping is its own: readers of the input keep
			// seeing the stored record when the copy is changed.
			got.CredentialMapping["reg.example/added-after"] = kubeletconfig.ImagePullCredentials{NodePodsAccessible: true}
			if diff := cmp.Diff(before, tc.record); diff != "" {
				t.Errorf("changing the record withCredentials() returned changed its input (-before +after):\n%s", diff)
			}
		})
	}
}

func TestNormalizeRecord(t *testing.T) {
	const ref = "sha256:bbbb"
	updated := metav1.NewTime(time.Date(2026, time.January, 2, 3, 4, 5, 0, time.UTC))
	s1 := kubeletconfig.ImagePullSecret{UID: "uid-1", Namespace: "ns-a", Name: "s1", CredentialHash: "hash-1"}
	s2 := kubeletconfig.ImagePullSecret{UID: "uid-2", Namespace: "ns-a", Name: "s2", CredentialHash: "hash-2"}
	saA := kubeletconfig.ImagePullServiceAccount{UID: "uid-sa", Namespace: "ns-b", Name: "builder"}
	record := func(mapping map[string]kubeletconfig.ImagePullCredentials) *kubeletconfig.ImagePulledRecord {
		return &kubeletconfig.ImagePulledRecord{LastUpdatedTime: updated, ImageRef: ref, CredentialMapping: mapping}
	}

	tests := []struct {
		name        string
		record      *kubeletconfig.ImagePulledRecord
		want        *kubeletconfig.ImagePulledRecord
		wantChanged bool
	}{
		{
			name: "familiar name is normalised",
			record: record(map[string]kubeletconfig.ImagePullCredentials{
				"busybox": {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
			}),
			want: record(map[string]kubeletconfig.ImagePullCredentials{
				"docker.io/library/busybox": {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
			}),
			wantChanged: true,
		},
		{
			name: "three spellings of one name merge",
			record: record(map[string]kubeletconfig.ImagePullCredentials{
				"busybox":                   {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s2}},
				"library/busybox":           {KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA}},
				"docker.io/library/busybox": {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
			}),
			want: record(map[string]kubeletconfig.ImagePullCredentials{
				"docker.io/library/busybox": {
					KubernetesSecrets:         []kubeletconfig.ImagePullSecret{s1, s2},
					KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA},
				},
			}),
			wantChanged: true,
		},
		{
			name: "a lone empty entry keeps its pulled-by-the-kubelet signal",
			record: record(map[string]kubeletconfig.ImagePullCredentials{
				"busybox": {},
			}),
			want: record(map[string]kubeletconfig.ImagePullCredentials{
				"docker.io/library/busybox": {},
			}),
			wantChanged: true,
		},
		{
			name: "empty entries that collide stay one empty entry",
			record: record(map[string]kubeletconfig.ImagePullCredentials{
				"busybox":         {},
				"library/busybox": {},
			}),
			want: record(map[string]kubeletconfig.ImagePullCredentials{
				"docker.io/library/busybox": {},
			}),
			wantChanged: true,
		},
		{
			name: "an empty entry colliding with secrets",
			record: record(map[string]kubeletconfig.ImagePullCredentials{
				"busybox":                   {},
				"docker.io/library/busybox": {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
			}),
			want: record(map[string]kubeletconfig.ImagePullCredentials{
				"docker.io/library/busybox": {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
			}),
			wantChanged: true,
		},
		{
			// "busybox" sorts before the other spellings: nodePodsAccessible
			// comes first and absorbs the rest.
			name: "nodePodsAccessible met first wins",
			record: record(map[string]kubeletconfig.ImagePullCredentials{
				"busybox":                   {NodePodsAccessible: true},
				"docker.io/library/busybox": {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
				"library/busybox":           {},
			}),
			want: record(map[string]kubeletconfig.ImagePullCredentials{
				"docker.io/library/busybox": {NodePodsAccessible: true},
			}),
			wantChanged: true,
		},
		{
			// "library/busybox" sorts last: nodePodsAccessible comes last and
			// replaces what was merged before.
			name: "nodePodsAccessible met last wins",
			record: record(map[string]kubeletconfig.ImagePullCredentials{
				"busybox":                   {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
				"docker.io/library/busybox": {KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{saA}},
				"library/busybox":           {NodePodsAccessible: true},
			}),
			want: record(map[string]kubeletconfig.ImagePullCredentials{
				"docker.io/library/busybox": {NodePodsAccessible: true},
			}),
			wantChanged: true,
		},
		{
			name: "unparsable keys are kept as they are",
			record: record(map[string]kubeletconfig.ImagePullCredentials{
				"busybox":       {NodePodsAccessible: true},
				"Not/Lowercase": {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
				"bad::name":     {},
			}),
			want: record(map[string]kubeletconfig.ImagePullCredentials{
				"docker.io/library/busybox": {NodePodsAccessible: true},
				"Not/Lowercase":             {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
				"bad::name":                 {},
			}),
			wantChanged: true,
		},
		{
			name: "other names are untouched",
			record: record(map[string]kubeletconfig.ImagePullCredentials{
				"library/busybox":        {},
				"reg.example/team/app":   {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s2}},
				"reg.example:5000/a/b/c": {NodePodsAccessible: true},
			}),
			want: record(map[string]kubeletconfig.ImagePullCredentials{
				"docker.io/library/busybox": {},
				"reg.example/team/app":      {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s2}},
				"reg.example:5000/a/b/c":    {NodePodsAccessible: true},
			}),
			wantChanged: true,
		},
		{
			name: "already normalised",
			record: record(map[string]kubeletconfig.ImagePullCredentials{
				"docker.io/library/busybox": {NodePodsAccessible: true},
				"reg.example/team/app":      {KubernetesSecrets: []kubeletconfig.ImagePullSecret{s1}},
				"reg.example/team/empty":    {},
			}),
			wantChanged: false,
		},
		{
			name: "already normalised with unparsable keys",
			record: record(map[string]kubeletconfig.ImagePullCredentials{
				"docker.io/library/busybox": {},
				"Not/Lowercase":             {},
			}),
			wantChanged: false,
		},
		{
			name:        "empty mapping",
			record:      record(map[string]kubeletconfig.ImagePullCredentials{}),
			wantChanged: false,
		},
		{
			name:        "nil mapping",
			record:      record(nil),
			wantChanged: false,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := mergeTestCopyRecord(tc.record)

			got, changed := normalizeRecord(tc.record)
			if changed != tc.wantChanged {
				t.Errorf("normalizeRecord() changed = %t, want %t", changed, tc.wantChanged)
			}
			if diff := cmp.Diff(before, tc.record); diff != "" {
				t.Errorf("normalizeRecord() modified its input (-before +after):\n%s", diff)
			}
			if !tc.wantChanged {
				// Unchanged records are shared, not copied.
				if got != tc.record {
					t.Errorf("normalizeRecord() of an unchanged record returned a new record, want the same pointer")
				}
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("normalizeRecord() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
