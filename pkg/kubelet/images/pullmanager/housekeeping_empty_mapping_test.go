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
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// TestEmptyMappingKeepsEveryNameAfterAPull: a released kubelet's record with
// an empty mapping counts as pulled by the kubelet under every name. A pull
// of the same image ID under one name must not make its other names look
// preloaded (found by FuzzPullManagerModel).
func TestEmptyMappingKeepsEveryNameAfterAPull(t *testing.T) {
	env := newTestEnv(t)
	env.writeRecord(t, &kubeletconfig.ImagePulledRecord{
		LastUpdatedTime:   metav1.NewTime(testStart),
		ImageRef:          refA,
		CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{},
	})
	env.lister.set([]RuntimeImage{{ID: refA, RepoTags: []string{repoApp + ":1", repoOther + ":1"}}}, nil)
	m := env.start(t, kubeletconfig.NeverVerifyPreloadedImages)
	ctx := testContext(t)

	if err := m.RecordPullIntent(ctx, repoApp+":1"); err != nil {
		t.Fatal(err)
	}
	if err := m.RecordImagePulled(ctx, repoApp+":1", refA, &kubeletconfig.ImagePullCredentials{
		KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1},
	}); err != nil {
		t.Fatal(err)
	}
	noCreds, _ := podCreds(nil, nil, nil)
	got, err := m.MustAttemptImagePull(ctx, repoOther+":1", refA, noCreds)
	if err != nil || !got.MustPull {
		t.Errorf("the other name after a pull: %+v, %v; want must pull (pulled by the kubelet)", got, err)
	}
	rec := env.readRecord(t, refA)
	if _, ok := rec.CredentialMapping[repoOther]; !ok {
		t.Errorf("record %+v lost the other name", rec.CredentialMapping)
	}
}

// TestEmptyMappingBeforeHousekeeping: when start-up housekeeping has not run
// (the runtime was unreachable), a pull recorded into a record with an empty
// mapping spells out the image's runtime names itself, or, when the runtime
// cannot list them, leaves the record as it is and keeps the intent.
func TestEmptyMappingBeforeHousekeeping(t *testing.T) {
	for _, tc := range []struct {
		name          string
		runtimeBack   bool
		wantRecordErr bool
	}{
		{name: "runtime answers by the time of the pull", runtimeBack: true},
		{name: "runtime still unreachable", wantRecordErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			env.writeRecord(t, &kubeletconfig.ImagePulledRecord{
				LastUpdatedTime:   metav1.NewTime(testStart),
				ImageRef:          refA,
				CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{},
			})
			env.lister.set(nil, errors.New("connection refused"))
			m := env.start(t, kubeletconfig.NeverVerifyPreloadedImages)
			ctx := testContext(t)
			if tc.runtimeBack {
				// Housekeeping retries only after its interval: it has not run.
				env.lister.set([]RuntimeImage{{ID: refA, RepoTags: []string{repoApp + ":1", repoOther + ":1"}}}, nil)
			}
			if err := m.RecordPullIntent(ctx, repoApp+":1"); err != nil {
				t.Fatal(err)
			}
			err := m.RecordImagePulled(ctx, repoApp+":1", refA, &kubeletconfig.ImagePullCredentials{
				KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1},
			})
			if (err != nil) != tc.wantRecordErr {
				t.Fatalf("RecordImagePulled error = %v, want error %v", err, tc.wantRecordErr)
			}
			rec := env.readRecord(t, refA)
			if tc.wantRecordErr {
				if len(rec.CredentialMapping) != 0 {
					t.Errorf("record changed although the runtime could not name the image: %+v", rec.CredentialMapping)
				}
				if !env.intentExists(t, repoApp+":1") {
					t.Error("intent removed although the record was not written")
				}
				return
			}
			if _, ok := rec.CredentialMapping[repoOther]; !ok {
				t.Errorf("record %+v lost the image's other name", rec.CredentialMapping)
			}
			if entry := rec.CredentialMapping[repoApp]; len(entry.KubernetesSecrets) != 1 {
				t.Errorf("the pulled name's entry = %+v, want the Secret", entry)
			}
		})
	}
}
