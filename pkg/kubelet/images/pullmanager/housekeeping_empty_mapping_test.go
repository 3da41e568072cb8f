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
