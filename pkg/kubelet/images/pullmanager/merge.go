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
	"cmp"
	"slices"

	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/util/parsers"
)

// maxSecretsPerEntry caps the Secrets a decision's write-back adds to one
// repository entry, so pods cannot grow a record without pulling. Merges
// from real pulls are never capped.
const maxSecretsPerEntry = 100

// isEmptyCredentials reports whether c grants nothing.
func isEmptyCredentials(c *kubeletconfig.ImagePullCredentials) bool {
	return c == nil || (!c.NodePodsAccessible && len(c.KubernetesSecrets) == 0 && len(c.KubernetesServiceAccounts) == 0)
}

// mergeCredentials merges the credentials of a successful pull into the
// existing entry for one repository name (nil when the name has none) and
// returns the new entry and whether it differs from the existing one:
//   - nil or empty credentials add an empty entry if there is none, and never grant;
//   - an existing nodePodsAccessible entry absorbs everything;
//   - new nodePodsAccessible credentials replace the entry;
//   - Secrets merge by (uid, namespace, name), the new hash winning;
//   - service accounts merge as a set;
//   - lists stay sorted by namespace, name, uid.
func mergeCredentials(existing, update *kubeletconfig.ImagePullCredentials) (kubeletconfig.ImagePullCredentials, bool) {
	switch {
	case existing == nil && isEmptyCredentials(update):
		return kubeletconfig.ImagePullCredentials{}, true
	case existing == nil:
		merged := kubeletconfig.ImagePullCredentials{NodePodsAccessible: update.NodePodsAccessible}
		if !update.NodePodsAccessible {
			merged.KubernetesSecrets = mergeSecrets(nil, update.KubernetesSecrets)
			merged.KubernetesServiceAccounts = mergeServiceAccounts(nil, update.KubernetesServiceAccounts)
		}
		return merged, true
	case existing.NodePodsAccessible || isEmptyCredentials(update):
		return *existing, false
	case update.NodePodsAccessible:
		return kubeletconfig.ImagePullCredentials{NodePodsAccessible: true}, true
	}
	merged := kubeletconfig.ImagePullCredentials{
		KubernetesSecrets:         mergeSecrets(existing.KubernetesSecrets, update.KubernetesSecrets),
		KubernetesServiceAccounts: mergeServiceAccounts(existing.KubernetesServiceAccounts, update.KubernetesServiceAccounts),
	}
	changed := !slices.Equal(merged.KubernetesSecrets, existing.KubernetesSecrets) ||
		!slices.Equal(merged.KubernetesServiceAccounts, existing.KubernetesServiceAccounts)
	return merged, changed
}

func compareSecrets(a, b kubeletconfig.ImagePullSecret) int {
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name), cmp.Compare(a.UID, b.UID))
}

func compareServiceAccounts(a, b kubeletconfig.ImagePullServiceAccount) int {
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name), cmp.Compare(a.UID, b.UID))
}

// mergeSecrets returns a new sorted list: existing with update merged in by
// coordinates, the update's hash winning.
func mergeSecrets(existing, update []kubeletconfig.ImagePullSecret) []kubeletconfig.ImagePullSecret {
	if len(existing)+len(update) == 0 {
		return nil
	}
	out := make([]kubeletconfig.ImagePullSecret, 0, len(existing)+len(update))
	out = append(out, existing...)
	slices.SortFunc(out, compareSecrets)
	for _, s := range update {
		if i, found := slices.BinarySearchFunc(out, s, compareSecrets); found {
			out[i].CredentialHash = s.CredentialHash
		} else {
			out = slices.Insert(out, i, s)
		}
	}
	return out
}

// mergeServiceAccounts returns the sorted union of both lists.
func mergeServiceAccounts(existing, update []kubeletconfig.ImagePullServiceAccount) []kubeletconfig.ImagePullServiceAccount {
	if len(existing)+len(update) == 0 {
		return nil
	}
	out := make([]kubeletconfig.ImagePullServiceAccount, 0, len(existing)+len(update))
	out = append(out, existing...)
	slices.SortFunc(out, compareServiceAccounts)
	for _, sa := range update {
		if i, found := slices.BinarySearchFunc(out, sa, compareServiceAccounts); !found {
			out = slices.Insert(out, i, sa)
		}
	}
	return out
}

// withCredentials returns a copy of record (or a new record for imageRef
// when record is nil) with update merged under repo, and whether the mapping
// changed. The caller sets LastUpdatedTime.
func withCredentials(record *kubeletconfig.ImagePulledRecord, imageRef, repo string, update *kubeletconfig.ImagePullCredentials) (*kubeletconfig.ImagePulledRecord, bool) {
	out := &kubeletconfig.ImagePulledRecord{ImageRef: imageRef}
	var existing *kubeletconfig.ImagePullCredentials
	if record != nil {
		out.LastUpdatedTime = record.LastUpdatedTime
		if e, ok := record.CredentialMapping[repo]; ok {
			existing = &e
		}
	}
	merged, changed := mergeCredentials(existing, update)
	out.CredentialMapping = make(map[string]kubeletconfig.ImagePullCredentials, 1)
	if record != nil {
		for k, v := range record.CredentialMapping {
			out.CredentialMapping[k] = v
		}
	}
	out.CredentialMapping[repo] = merged
	return out, changed
}

// normalizeRecord rewrites credentialMapping keys in familiar form
// (`busybox`) to repo(image) form, merging entries that then collide, and
// reports whether anything changed. A key that does not parse is kept as it
// is: it can never match a pod's image, and dropping it could drop a
// "pulled by the kubelet" signal.
func normalizeRecord(record *kubeletconfig.ImagePulledRecord) (*kubeletconfig.ImagePulledRecord, bool) {
	return normalizeRecordWith(record, parsers.RepositoryName)
}

// normalizeRecordWith is normalizeRecord with the key parser given, so that
// start-up can parse each distinct key once across all records.
func normalizeRecordWith(record *kubeletconfig.ImagePulledRecord, repositoryName func(string) (string, error)) (*kubeletconfig.ImagePulledRecord, bool) {
	changed := false
	for key := range record.CredentialMapping {
		if repo, err := repositoryName(key); err == nil && repo != key {
			changed = true
			break
		}
	}
	if !changed {
		return record, false
	}
	out := &kubeletconfig.ImagePulledRecord{
		LastUpdatedTime:   record.LastUpdatedTime,
		ImageRef:          record.ImageRef,
		CredentialMapping: make(map[string]kubeletconfig.ImagePullCredentials, len(record.CredentialMapping)),
	}
	// Visit keys in a fixed order so the merge result does not depend on map order.
	keys := make([]string, 0, len(record.CredentialMapping))
	for key := range record.CredentialMapping {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	for _, key := range keys {
		creds := record.CredentialMapping[key]
		repo := key
		if r, err := repositoryName(key); err == nil {
			repo = r
		}
		var existing *kubeletconfig.ImagePullCredentials
		if e, ok := out.CredentialMapping[repo]; ok {
			existing = &e
		}
		merged, _ := mergeCredentials(existing, &creds)
		out.CredentialMapping[repo] = merged
	}
	return out, true
}
