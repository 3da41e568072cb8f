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

package features

import (
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/component-base/featuregate"
)

// KubeletEnsureSecretPulledImages makes the kubelet remember which
// credentials pulled each image, and makes a pod prove it could pull a
// present image before it may use it (KEP-2535).
//
// KEP: https://kep.k8s.io/2535
const KubeletEnsureSecretPulledImages featuregate.Feature = "KubeletEnsureSecretPulledImages"

// KubeletServiceAccountTokenForCredentialProviders lets a credential
// provider plugin that sets tokenAttributes receive a service account token
// bound to the pod whose image is pulled, and the pod's service account
// annotations the plugin asked for (KEP-4412). Off, a configuration with
// tokenAttributes is rejected.
//
// KEP: https://kep.k8s.io/4412
const KubeletServiceAccountTokenForCredentialProviders featuregate.Feature = "KubeletServiceAccountTokenForCredentialProviders"

// EmulationVersion is the Kubernetes version whose feature defaults this tree
// applies. Upstream derives it from the binary version; this tree is not a
// whole kubelet, so it is pinned here.
var EmulationVersion = version.MajorMinor(1, 37)

// defaultVersionedKubernetesFeatureGates lists every gate with the spec that
// applies from each version on; the spec with the highest version not above
// the emulation version wins.
var defaultVersionedKubernetesFeatureGates = map[featuregate.Feature]featuregate.VersionedSpecs{
	KubeletEnsureSecretPulledImages: {
		{Version: version.MajorMinor(1, 33), Default: false, PreRelease: featuregate.Alpha},
		{Version: version.MajorMinor(1, 35), Default: true, PreRelease: featuregate.Beta},
	},
	KubeletServiceAccountTokenForCredentialProviders: {
		{Version: version.MajorMinor(1, 33), Default: false, PreRelease: featuregate.Alpha},
		{Version: version.MajorMinor(1, 34), Default: true, PreRelease: featuregate.Beta},
	},
}

// VersionedSpecs returns a copy of the versioned specs of every gate this tree
// declares, for components that register them in a gate of their own.
func VersionedSpecs() map[featuregate.Feature]featuregate.VersionedSpecs {
	out := make(map[featuregate.Feature]featuregate.VersionedSpecs, len(defaultVersionedKubernetesFeatureGates))
	for name, specs := range defaultVersionedKubernetesFeatureGates {
		out[name] = append(featuregate.VersionedSpecs(nil), specs...)
	}
	return out
}
