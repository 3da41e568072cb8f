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

// TestOracleJudgesServiceAccounts shows that the oracle sees what it
// guards against for service accounts: a record or a step-10 grant for an
// account whose plugin credentials never pulled the name (another tenant's,
// the same name recreated with a new UID, one the registry refuses) is a
// violation; the account that pulled is not.
func TestOracleJudgesServiceAccounts(t *testing.T) {
	w := NewWorld()
	o := NewOracle(w)
	const image = "reg.example/team-a/app:v1"
	ref := w.Image(image).Ref
	puller, recreated, refused, otherTenant := ServiceAccountCred(0), ServiceAccountCred(1), ServiceAccountCred(2), ServiceAccountCred(3)
	if w.PodServiceAccount(puller).Name != w.PodServiceAccount(recreated).Name || w.PodServiceAccount(puller).UID == w.PodServiceAccount(recreated).UID {
		t.Fatalf("the world's second service account is not the first one recreated")
	}
	if _, ok := o.Pull(image, refused); ok {
		t.Fatalf("the registry accepted the plugin credentials of %+v", w.PodServiceAccount(refused))
	}
	if _, ok := o.Pull(image, otherTenant); ok {
		t.Fatalf("the registry accepted another tenant's service account")
	}
	if _, ok := o.Pull(image, puller); !ok {
		t.Fatalf("the registry refused the tenant's service account")
	}
	v := o.View(-1)
	if got := w.PullCredentials(puller).KubernetesServiceAccounts; len(got) != 1 || got[0] != w.PodServiceAccount(puller) {
		t.Errorf("a pull with plugin credentials records %+v, want the service account", w.PullCredentials(puller))
	}
	secrets, sa, err := w.PodCredentials(puller)()
	if err != nil || len(secrets) != 0 || sa == nil || *sa != w.PodServiceAccount(puller) {
		t.Errorf("a pod of the service account presents %v, %v, %v; want the service account only", secrets, sa, err)
	}
	granted := pullmanager.Decision{Verification: pullmanager.VerificationServiceAccount}
	for _, tc := range []struct {
		name      string
		c         Cred
		violation bool
	}{
		{name: "the account that pulled", c: puller},
		{name: "recreated under its name", c: recreated, violation: true},
		{name: "refused by the registry", c: refused, violation: true},
		{name: "another tenant's", c: otherTenant, violation: true},
		{name: "a Secret", c: Cred{Secret: 0}, violation: true},
		{name: "anonymous", c: Anonymous, violation: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg := v.CheckDecision(image, ref, tc.c, granted); (msg != "") != tc.violation {
				t.Errorf("a step-10 grant to %+v: violation %q, want one: %v", tc.c, msg, tc.violation)
			}
			if tc.c.SA == 0 {
				return
			}
			record := &kubeletconfig.ImagePulledRecord{ImageRef: ref, CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{
				Repo(image): *w.PullCredentials(tc.c),
			}}
			if msgs := v.CheckRecord(record); (len(msgs) > 0) != tc.violation {
				t.Errorf("a record of %+v: violations %q, want some: %v", tc.c, msgs, tc.violation)
			}
		})
	}
	// Another name of the same image ID was not pulled by the account.
	if msg := v.CheckDecision("reg.example/team-b/app:v1", ref, puller, granted); msg == "" {
		t.Errorf("a grant under a name the account never pulled is not a violation")
	}
}
