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

package harness

import (
	"testing"

	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// TestOracleJudgesRevocations shows that the oracle follows a revocation:
// after the deletion an acknowledged pull of the source no longer has to
// grant; after the acknowledgement a record holding it, or a grant through
// its service account, is a violation; a later pull brings it back; a
// namespace deletion covers every source in it.
func TestOracleJudgesRevocations(t *testing.T) {
	w := NewWorld()
	o := NewOracle(w)
	env := &OracleEnv{Oracle: o}
	const image = "reg.example/team-a/app:v1"
	ref := w.Image(image).Ref
	secret, sa := Cred{Secret: 0}, ServiceAccountCred(0)
	for _, c := range []Cred{secret, sa} {
		if _, ok := o.Pull(image, c); !ok {
			t.Fatalf("the registry refused %+v", c)
		}
		env.Recorded(image, ref, c)
	}
	recordOf := func(c Cred) *kubeletconfig.ImagePulledRecord {
		return &kubeletconfig.ImagePulledRecord{ImageRef: ref, CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{Repo(image): *w.PullCredentials(c)}}
	}
	expected := func() int { return len(o.View(-1).Expected) }
	if expected() != 2 {
		t.Fatalf("%d acknowledged pulls expected to grant, want 2", expected())
	}

	env.Deleted(secret, "")
	if expected() != 1 {
		t.Errorf("after the Secret's deletion %d pulls must still grant, want 1 (the service account's)", expected())
	}
	if msgs := o.View(-1).CheckRecord(recordOf(secret)); len(msgs) != 0 {
		t.Errorf("before the acknowledgement a record may still hold the Secret: %q", msgs)
	}
	env.Revoked(secret, "")
	if msgs := o.View(-1).CheckRecord(recordOf(secret)); len(msgs) == 0 {
		t.Errorf("a record holding an acknowledged revocation is not a violation")
	}
	if msgs := o.View(-1).CheckRecord(recordOf(sa)); len(msgs) != 0 {
		t.Errorf("the service account was not revoked: %q", msgs)
	}
	if _, ok := o.Pull(image, secret); !ok {
		t.Fatal("the registry refused the Secret")
	}
	if msgs := o.View(-1).CheckRecord(recordOf(secret)); len(msgs) != 0 {
		t.Errorf("a pull brought the Secret back, yet: %q", msgs)
	}

	namespace := w.PodServiceAccount(sa).Namespace
	env.Deleted(Cred{}, namespace)
	env.Revoked(Cred{}, namespace)
	v := o.View(-1)
	if len(v.Expected) != 0 {
		t.Errorf("after the namespace's deletion %d pulls must still grant, want 0", len(v.Expected))
	}
	for _, c := range []Cred{secret, sa} {
		if msgs := v.CheckRecord(recordOf(c)); len(msgs) == 0 {
			t.Errorf("a record holding %+v of a revoked namespace is not a violation", c)
		}
	}
	if msg := v.CheckDecision(image, ref, sa, pullmanager.Decision{Verification: pullmanager.VerificationServiceAccount}); msg == "" {
		t.Errorf("a grant through a revoked service account is not a violation")
	}
	// The view of a prefix of the log knows nothing of what came later.
	if len(o.View(2).Expected) != 1 {
		t.Errorf("the view before any revocation lost an expectation")
	}
}
