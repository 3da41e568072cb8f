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

package app

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestDefaultPullPolicy(t *testing.T) {
	tests := []struct {
		image string
		want  v1.PullPolicy
	}{
		{image: "busybox", want: v1.PullAlways},
		{image: "busybox:latest", want: v1.PullAlways},
		{image: "busybox:1.36", want: v1.PullIfNotPresent},
		{image: "reg.example:5000/team/app", want: v1.PullAlways},
		{image: "reg.example:5000/team/app:1", want: v1.PullIfNotPresent},
		{image: "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", want: v1.PullIfNotPresent},
		{image: "busybox:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", want: v1.PullAlways},
		{image: "Not/A:Valid:Image", want: v1.PullIfNotPresent},
	}
	for _, tc := range tests {
		t.Run(tc.image, func(t *testing.T) {
			if got := defaultPullPolicy(tc.image); got != tc.want {
				t.Errorf("defaultPullPolicy(%q) = %s, want %s", tc.image, got, tc.want)
			}
		})
	}
}

func TestEventCollector(t *testing.T) {
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web", UID: "u1"}}
	other := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "other"}}
	c := newEventCollector()
	c.register(pod)
	ref := func(fieldPath string) *v1.ObjectReference {
		return &v1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "web", UID: "u1", FieldPath: fieldPath}
	}
	c.Event(ref(containerFieldPath(true, "init")), v1.EventTypeNormal, "Pulling", "init 1")
	c.Eventf(ref(containerFieldPath(false, "app")), v1.EventTypeNormal, "Pulled", "app %d", 1)
	c.AnnotatedEventf(ref(containerFieldPath(false, "app")), map[string]string{"a": "b"}, v1.EventTypeWarning, "Failed", "app %d", 2)
	c.Event(ref(""), v1.EventTypeWarning, "FailedToRetrieveImagePullSecret", "missing")
	c.Event(pod, v1.EventTypeWarning, "FailedToRetrieveImagePullSecret", "missing") // a repeat, through the object
	c.Event(ref("spec.containers{"), v1.EventTypeWarning, "Odd", "malformed field path")
	c.Event(other, v1.EventTypeNormal, "Pulled", "not registered")

	podLevel, containers := c.eventsOf(pod)
	wantPod := []eventOutput{
		{Type: v1.EventTypeWarning, Reason: "FailedToRetrieveImagePullSecret", Message: "missing"},
		{Type: v1.EventTypeWarning, Reason: "Odd", Message: "malformed field path"},
	}
	if diff := cmp.Diff(wantPod, podLevel); diff != "" {
		t.Errorf("pod events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]eventOutput{{Type: v1.EventTypeNormal, Reason: "Pulling", Message: "init 1"}}, containers("init")); diff != "" {
		t.Errorf("init events (-want +got):\n%s", diff)
	}
	wantApp := []eventOutput{{Type: v1.EventTypeNormal, Reason: "Pulled", Message: "app 1"}, {Type: v1.EventTypeWarning, Reason: "Failed", Message: "app 2"}}
	if diff := cmp.Diff(wantApp, containers("app")); diff != "" {
		t.Errorf("app events (-want +got):\n%s", diff)
	}
	if got := containers("none"); got == nil || len(got) != 0 {
		t.Errorf("events of an unknown container: %#v, want an empty, non-nil list", got)
	}
	if len(c.unrouted) != 1 {
		t.Errorf("unrouted events %+v, want the one about an unregistered pod", c.unrouted)
	}
}

// TestSecretsFromFiles reads Secrets in every accepted form.
func TestSecretsFromFiles(t *testing.T) {
	const secretA = `apiVersion: v1
kind: Secret
metadata: {name: a, namespace: ns, uid: uid-a}
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: e30=
`
	const secretB = `apiVersion: v1
kind: Secret
metadata: {name: b, uid: uid-b}
type: kubernetes.io/dockercfg
stringData:
  .dockercfg: '{}'
`
	tests := []struct {
		name    string
		content string
		want    []string // namespace/name=uid
	}{
		{name: "one secret", content: secretA, want: []string{"ns/a=uid-a"}},
		{name: "several documents, namespace defaulted", content: secretA + "---\n# comment only\n---\n" + secretB, want: []string{"default/b=uid-b", "ns/a=uid-a"}},
		{name: "a List", content: "apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(secretA, "\n", "\n  ") + "\n- " + strings.ReplaceAll(secretB, "\n", "\n  "),
			want: []string{"default/b=uid-b", "ns/a=uid-a"}},
		{name: "a SecretList", content: "apiVersion: v1\nkind: SecretList\nitems:\n- metadata: {name: a, namespace: ns, uid: uid-a}\n  type: Opaque\n",
			want: []string{"ns/a=uid-a"}},
		{name: "a JSON stream", content: `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a","namespace":"ns","uid":"uid-a"}}` + "\n" +
			`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Secret","metadata":{"name":"b","uid":"uid-b"}}]}`,
			want: []string{"default/b=uid-b", "ns/a=uid-a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secrets")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			secrets, err := secretsFromFiles([]string{path})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for k, s := range secrets {
				got = append(got, k.String()+"="+string(s.UID))
			}
			if diff := cmp.Diff(tc.want, got, cmpSorted()); diff != "" {
				t.Errorf("secrets (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDemo runs the demo: every decision and check must be the expected one.
func TestDemo(t *testing.T) {
	res := runCLI(t, Deps{}, "demo")
	if res.code != ExitOK {
		t.Fatalf("demo exit code %d; stderr %q\n%s", res.code, res.stderr, res.stdout)
	}
	for _, w := range []string{"SCENARIO", "POLICY", "PULL POLICY", "RESULT", "RULE", "REGISTRY", "Records on disk", "decisions and", "checks are as expected",
		// The credential provider scene, its stand-in API server said plainly.
		"in-process stand-in", ruleServiceAccount, "serviceaccount team-a/builder"} {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("demo output does not contain %q", w)
		}
	}
	if strings.Contains(res.stdout, "UNEXPECTED") || strings.Contains(res.stdout, "FAIL") {
		t.Errorf("demo output reports an unexpected outcome:\n%s", res.stdout)
	}
}

// cmpSorted compares string slices regardless of order.
func cmpSorted() cmp.Option {
	return cmp.Transformer("sorted", func(in []string) []string {
		out := append([]string(nil), in...)
		slices.Sort(out)
		return out
	})
}
