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

	"github.com/google/go-cmp/cmp"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// TestIntentsResolvedAtStartup checks that the exported matching resolves
// exactly the intents start-up housekeeping resolves.
func TestIntentsResolvedAtStartup(t *testing.T) {
	digest := "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	images := []RuntimeImage{
		{ID: refA, RepoTags: []string{"docker.io/library/busybox:1.36", "reg.example/team/app:latest"}},
		{ID: refB, RepoDigests: []string{"reg.example/team/other@" + digest}},
	}
	intents := []string{"busybox:1.36", "reg.example/team/app", "reg.example/team/other@" + digest, "reg.example/team/other:1", "busybox:1.37"}
	want := map[string]string{"busybox:1.36": refA, "reg.example/team/app": refA, "reg.example/team/other@" + digest: refB}
	if diff := cmp.Diff(want, IntentsResolvedAtStartup(intents, images)); diff != "" {
		t.Errorf("resolved (-want +got):\n%s", diff)
	}

	// The manager's start-up agrees.
	env := newTestEnv(t)
	for _, image := range intents {
		env.writeIntent(t, image)
	}
	env.lister.set(images, nil)
	_ = env.start(t, kubeletconfig.NeverVerifyPreloadedImages)
	for _, image := range intents {
		_, resolved := want[image]
		if env.intentExists(t, image) == resolved {
			t.Errorf("intent %q: on disk %v after start-up, want %v", image, !resolved, !resolved)
		}
	}
}

func TestNormalizeRecordKeys(t *testing.T) {
	in := &kubeletconfig.ImagePulledRecord{ImageRef: refA, CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
		"busybox": {KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1}},
		repoBusy:  {KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS2}},
		repoApp:   {},
		"Not::Ok": {},
	}}
	out, changed := NormalizeRecordKeys(in)
	want := map[string]kubeletconfig.ImagePullCredentials{
		repoBusy:  {KubernetesSecrets: []kubeletconfig.ImagePullSecret{secretS1, secretS2}},
		repoApp:   {},
		"Not::Ok": {},
	}
	if !changed {
		t.Error("not changed, want the familiar key normalised")
	}
	if diff := cmp.Diff(want, out.CredentialMapping); diff != "" {
		t.Errorf("mapping (-want +got):\n%s", diff)
	}
	if _, ok := in.CredentialMapping["busybox"]; !ok {
		t.Error("the input was modified")
	}
	if _, changed := NormalizeRecordKeys(out); changed {
		t.Error("a normalised record changed again")
	}
}
