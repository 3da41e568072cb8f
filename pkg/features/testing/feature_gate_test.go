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

package featurestesting

import (
	"testing"

	"k8s.io/kubernetes/pkg/features"
)

func TestSetEnsureSecretPulledImagesDuringTest(t *testing.T) {
	t.Run("off", func(t *testing.T) {
		SetEnsureSecretPulledImagesDuringTest(t, false)
		if features.DefaultFeatureGate.Enabled(features.KubeletEnsureSecretPulledImages) {
			t.Errorf("gate is on, want off")
		}
	})
	if !features.DefaultFeatureGate.Enabled(features.KubeletEnsureSecretPulledImages) {
		t.Errorf("gate was not restored to its default (on) when the subtest ended")
	}
}

func TestRunWithGate(t *testing.T) {
	var seen []bool
	RunWithGate(t, features.KubeletEnsureSecretPulledImages, func(t *testing.T, enabled bool) {
		if got := features.DefaultFeatureGate.Enabled(features.KubeletEnsureSecretPulledImages); got != enabled {
			t.Errorf("gate = %v inside the run for enabled=%v", got, enabled)
		}
		seen = append(seen, enabled)
	})
	if len(seen) != 2 || seen[0] == seen[1] {
		t.Errorf("runs = %v, want one with the gate on and one off", seen)
	}
}
