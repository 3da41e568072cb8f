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

	"k8s.io/component-base/featuregate"
	featuregatetesting "k8s.io/component-base/featuregate/testing"

	"k8s.io/kubernetes/pkg/features"
)

// SetEnsureSecretPulledImagesDuringTest sets KubeletEnsureSecretPulledImages
// on features.DefaultFeatureGate to enabled until tb ends.
func SetEnsureSecretPulledImagesDuringTest(tb featuregatetesting.TB, enabled bool) {
	tb.Helper()
	featuregatetesting.SetFeatureGateDuringTest(tb, features.DefaultFeatureGate, features.KubeletEnsureSecretPulledImages, enabled)
}

// RunWithGate runs fn twice as subtests named "gate=on" and "gate=off", with
// feature set on features.DefaultFeatureGate accordingly, so every table can
// be checked with the gate on and off where behaviour differs.
func RunWithGate(t *testing.T, feature featuregate.Feature, fn func(t *testing.T, enabled bool)) {
	t.Helper()
	for _, enabled := range []bool{true, false} {
		name := "gate=off"
		if enabled {
			name = "gate=on"
		}
		t.Run(name, func(t *testing.T) {
			featuregatetesting.SetFeatureGateDuringTest(t, features.DefaultFeatureGate, feature, enabled)
			fn(t, enabled)
		})
	}
}
