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

	"k8s.io/component-base/metrics/legacyregistry"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// TestMetricsExposed checks the names, types and labels of SPEC section 7 as
// a scrape sees them, and that a decision is counted under its result.
func TestMetricsExposed(t *testing.T) {
	env := newTestEnv(t)
	m := env.start(t, kubeletconfig.NeverVerify)
	creds, _ := podCreds(nil, nil, nil)
	before := MustPullChecksValue(CheckResultPolicyAllowed)
	if _, err := m.MustAttemptImagePull(testContext(t), "busybox:1.36", refA, creds); err != nil {
		t.Fatal(err)
	}
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"kubelet_imagemanager_ondisk_pullintents":                   "GAUGE",
		"kubelet_imagemanager_ondisk_pulledrecords":                 "GAUGE",
		"kubelet_imagemanager_inmemory_pullintents_usage_percent":   "GAUGE",
		"kubelet_imagemanager_inmemory_pulledrecords_usage_percent": "GAUGE",
		"kubelet_imagemanager_image_mustpull_checks_total":          "COUNTER",
	}
	for _, f := range families {
		wantType, ok := want[f.GetName()]
		if !ok {
			continue
		}
		delete(want, f.GetName())
		if got := f.GetType().String(); got != wantType {
			t.Errorf("%s: type %s, want %s", f.GetName(), got, wantType)
		}
		if f.GetName() != "kubelet_imagemanager_image_mustpull_checks_total" {
			continue
		}
		found := false
		for _, metric := range f.GetMetric() {
			labels := metric.GetLabel()
			if len(labels) != 1 || labels[0].GetName() != "result" {
				t.Errorf("%s: labels %v, want only result", f.GetName(), labels)
				continue
			}
			if labels[0].GetValue() == string(CheckResultPolicyAllowed) {
				found = true
				if got := metric.GetCounter().GetValue(); got < float64(before+1) {
					t.Errorf("%s{result=%s} = %v, want at least %v", f.GetName(), CheckResultPolicyAllowed, got, before+1)
				}
			}
		}
		if !found {
			t.Errorf("%s has no series for result=%s", f.GetName(), CheckResultPolicyAllowed)
		}
	}
	for name := range want {
		t.Errorf("metric %s not exposed", name)
	}
}
