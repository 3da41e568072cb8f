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
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/component-base/featuregate"
	featuregatetesting "k8s.io/component-base/featuregate/testing"
)

func TestDefaultGateAtEmulationVersion(t *testing.T) {
	if got, want := DefaultMutableFeatureGate.EmulationVersion().String(), "1.37"; got != want {
		t.Errorf("EmulationVersion() = %q, want %q", got, want)
	}
	for _, gate := range []featuregate.Feature{KubeletEnsureSecretPulledImages, KubeletServiceAccountTokenForCredentialProviders} {
		if !DefaultFeatureGate.Enabled(gate) {
			t.Errorf("%s is off by default at 1.37, want on (beta)", gate)
		}
	}
}

func TestGateByEmulationVersion(t *testing.T) {
	tests := []struct {
		name      string
		feature   featuregate.Feature
		emulation *version.Version
		want      bool
	}{
		{name: "ensure secret pulled images before alpha", feature: KubeletEnsureSecretPulledImages, emulation: version.MajorMinor(1, 32), want: false},
		{name: "ensure secret pulled images alpha", feature: KubeletEnsureSecretPulledImages, emulation: version.MajorMinor(1, 33), want: false},
		{name: "ensure secret pulled images still alpha", feature: KubeletEnsureSecretPulledImages, emulation: version.MajorMinor(1, 34), want: false},
		{name: "ensure secret pulled images beta", feature: KubeletEnsureSecretPulledImages, emulation: version.MajorMinor(1, 35), want: true},
		{name: "ensure secret pulled images this tree", feature: KubeletEnsureSecretPulledImages, emulation: version.MajorMinor(1, 37), want: true},
		{name: "service account tokens before alpha", feature: KubeletServiceAccountTokenForCredentialProviders, emulation: version.MajorMinor(1, 32), want: false},
		{name: "service account tokens alpha", feature: KubeletServiceAccountTokenForCredentialProviders, emulation: version.MajorMinor(1, 33), want: false},
		{name: "service account tokens beta", feature: KubeletServiceAccountTokenForCredentialProviders, emulation: version.MajorMinor(1, 34), want: true},
		{name: "service account tokens this tree", feature: KubeletServiceAccountTokenForCredentialProviders, emulation: version.MajorMinor(1, 37), want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A fresh gate per case: emulation versions can only be changed
			// before a gate is queried.
			gate := mustNewGate()
			if err := gate.SetEmulationVersion(tc.emulation); err != nil {
				t.Fatalf("SetEmulationVersion(%s): %v", tc.emulation, err)
			}
			if got := gate.Enabled(tc.feature); got != tc.want {
				t.Errorf("%s enabled at %s = %v, want %v", tc.feature, tc.emulation, got, tc.want)
			}
		})
	}
}

func TestDefaultGateEmulating134(t *testing.T) {
	featuregatetesting.SetFeatureGateEmulationVersionDuringTest(t, DefaultFeatureGate, version.MajorMinor(1, 34))
	if DefaultFeatureGate.Enabled(KubeletEnsureSecretPulledImages) {
		t.Errorf("%s is on when emulating 1.34, want off (alpha)", KubeletEnsureSecretPulledImages)
	}
	if !DefaultFeatureGate.Enabled(KubeletServiceAccountTokenForCredentialProviders) {
		t.Errorf("%s is off when emulating 1.34, want on (beta)", KubeletServiceAccountTokenForCredentialProviders)
	}
}

func TestDefaultGateEmulating133(t *testing.T) {
	featuregatetesting.SetFeatureGateEmulationVersionDuringTest(t, DefaultFeatureGate, version.MajorMinor(1, 33))
	if DefaultFeatureGate.Enabled(KubeletServiceAccountTokenForCredentialProviders) {
		t.Errorf("%s is on when emulating 1.33, want off (alpha)", KubeletServiceAccountTokenForCredentialProviders)
	}
}

func TestFlipDefaultGateDuringTest(t *testing.T) {
	t.Run("off", func(t *testing.T) {
		featuregatetesting.SetFeatureGateDuringTest(t, DefaultFeatureGate, KubeletEnsureSecretPulledImages, false)
		if DefaultFeatureGate.Enabled(KubeletEnsureSecretPulledImages) {
			t.Errorf("gate is on after being set off")
		}
	})
	// The override is undone when the subtest ends.
	if !DefaultFeatureGate.Enabled(KubeletEnsureSecretPulledImages) {
		t.Errorf("gate stayed off after the subtest that turned it off ended")
	}
}

func TestNewFeatureGate(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]bool
		want      bool
		wantErr   string
		wantIs    error
	}{
		{name: "nil overrides keep the default", overrides: nil, want: true},
		{name: "turned off", overrides: map[string]bool{"KubeletEnsureSecretPulledImages": false}, want: false},
		{name: "turned on", overrides: map[string]bool{"KubeletEnsureSecretPulledImages": true}, want: true},
		{name: "AllBeta=false does not override an explicit setting", overrides: map[string]bool{"AllBeta": false, "KubeletEnsureSecretPulledImages": true}, want: true},
		{name: "another gate turned off leaves it alone", overrides: map[string]bool{"KubeletServiceAccountTokenForCredentialProviders": false}, want: true},
		{
			name:      "unknown gate",
			overrides: map[string]bool{"KubeletEnsureSecretPulledImages": true, "NoSuchGate": true},
			wantErr:   `unknown feature gate "NoSuchGate"`,
			wantIs:    ErrUnknownFeatureGate,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gate, err := NewFeatureGate(tc.overrides)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("NewFeatureGate() error = %v, want it to contain %q", err, tc.wantErr)
				}
				if !errors.Is(err, tc.wantIs) {
					t.Errorf("NewFeatureGate() error = %v, want errors.Is %v", err, tc.wantIs)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewFeatureGate() error = %v", err)
			}
			if got := gate.Enabled(KubeletEnsureSecretPulledImages); got != tc.want {
				t.Errorf("Enabled() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNewFeatureGateServiceAccountTokens(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]bool
		want      bool
	}{
		{name: "default", overrides: nil, want: true},
		{name: "turned off", overrides: map[string]bool{"KubeletServiceAccountTokenForCredentialProviders": false}, want: false},
		{name: "AllBeta=false turns it off", overrides: map[string]bool{"AllBeta": false}, want: false},
		{name: "ensure secret pulled images off leaves it on", overrides: map[string]bool{"KubeletEnsureSecretPulledImages": false}, want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gate, err := NewFeatureGate(tc.overrides)
			if err != nil {
				t.Fatalf("NewFeatureGate() error = %v", err)
			}
			if got := gate.Enabled(KubeletServiceAccountTokenForCredentialProviders); got != tc.want {
				t.Errorf("Enabled() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNewFeatureGateIsIndependent(t *testing.T) {
	gate, err := NewFeatureGate(map[string]bool{string(KubeletEnsureSecretPulledImages): false})
	if err != nil {
		t.Fatalf("NewFeatureGate() error = %v", err)
	}
	if gate.Enabled(KubeletEnsureSecretPulledImages) {
		t.Fatalf("new gate is on, want off")
	}
	if !DefaultFeatureGate.Enabled(KubeletEnsureSecretPulledImages) {
		t.Errorf("turning the gate off in a new gate turned DefaultFeatureGate off too")
	}
}

func TestMergeFeatureGates(t *testing.T) {
	tests := []struct {
		name   string
		layers []map[string]bool
		want   map[string]bool
	}{
		{name: "nothing", layers: nil, want: nil},
		{name: "empty layers", layers: []map[string]bool{{}, nil}, want: nil},
		{
			name:   "file only",
			layers: []map[string]bool{{"A": true, "B": false}, nil},
			want:   map[string]bool{"A": true, "B": false},
		},
		{
			name:   "flag overrides the file key by key",
			layers: []map[string]bool{{"A": true, "B": false}, {"B": true, "C": false}},
			want:   map[string]bool{"A": true, "B": true, "C": false},
		},
		{
			name:   "flag turns off what the file turned on",
			layers: []map[string]bool{{"KubeletEnsureSecretPulledImages": true}, {"KubeletEnsureSecretPulledImages": false}},
			want:   map[string]bool{"KubeletEnsureSecretPulledImages": false},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := MergeFeatureGates(tc.layers...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("MergeFeatureGates() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeFeatureGatesDoesNotAlias(t *testing.T) {
	file := map[string]bool{"A": true}
	merged := MergeFeatureGates(file)
	merged["A"] = false
	if !file["A"] {
		t.Errorf("changing the merged map changed the input layer")
	}
}

func TestEffectiveGateFromFileAndFlag(t *testing.T) {
	tests := []struct {
		name string
		file map[string]bool
		flag map[string]bool
		want bool
	}{
		{name: "defaults", want: true},
		{name: "file off", file: map[string]bool{"KubeletEnsureSecretPulledImages": false}, want: false},
		{name: "file off, flag on", file: map[string]bool{"KubeletEnsureSecretPulledImages": false}, flag: map[string]bool{"KubeletEnsureSecretPulledImages": true}, want: true},
		{name: "file on, flag off", file: map[string]bool{"KubeletEnsureSecretPulledImages": true}, flag: map[string]bool{"KubeletEnsureSecretPulledImages": false}, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gate, err := NewFeatureGate(MergeFeatureGates(tc.file, tc.flag))
			if err != nil {
				t.Fatalf("NewFeatureGate() error = %v", err)
			}
			if got := gate.Enabled(KubeletEnsureSecretPulledImages); got != tc.want {
				t.Errorf("Enabled() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseFeatureGates(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		want    map[string]bool
		wantErr string
		wantIs  error
	}{
		{name: "empty", value: "", want: map[string]bool{}},
		{name: "one", value: "KubeletEnsureSecretPulledImages=false", want: map[string]bool{"KubeletEnsureSecretPulledImages": false}},
		{name: "spaces and empty items", value: " KubeletEnsureSecretPulledImages = true ,,AllAlpha=false", want: map[string]bool{"KubeletEnsureSecretPulledImages": true, "AllAlpha": false}},
		{name: "last wins", value: "KubeletEnsureSecretPulledImages=true,KubeletEnsureSecretPulledImages=false", want: map[string]bool{"KubeletEnsureSecretPulledImages": false}},
		{name: "missing value", value: "KubeletEnsureSecretPulledImages", wantErr: `feature gate "KubeletEnsureSecretPulledImages": missing`},
		{name: "not a bool", value: "KubeletEnsureSecretPulledImages=yes", wantErr: `value "yes" is not a boolean`},
		{name: "both gates", value: "KubeletEnsureSecretPulledImages=true,KubeletServiceAccountTokenForCredentialProviders=false", want: map[string]bool{"KubeletEnsureSecretPulledImages": true, "KubeletServiceAccountTokenForCredentialProviders": false}},
		{name: "unknown", value: "Typo=true", wantErr: `unknown feature gate "Typo"`, wantIs: ErrUnknownFeatureGate},
		{name: "unknown lists the known gates", value: "Typo=true", wantErr: "KubeletServiceAccountTokenForCredentialProviders", wantIs: ErrUnknownFeatureGate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFeatureGates(tc.value)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseFeatureGates(%q) error = %v, want it to contain %q", tc.value, err, tc.wantErr)
				}
				if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
					t.Errorf("ParseFeatureGates(%q) error = %v, want errors.Is %v", tc.value, err, tc.wantIs)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFeatureGates(%q) error = %v", tc.value, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseFeatureGates(%q) mismatch (-want +got):\n%s", tc.value, diff)
			}
		})
	}
}

func TestVersionedSpecsIsACopy(t *testing.T) {
	specs := VersionedSpecs()
	specs[KubeletEnsureSecretPulledImages][0].Default = true
	if VersionedSpecs()[KubeletEnsureSecretPulledImages][0].Default {
		t.Errorf("changing the result of VersionedSpecs() changed the registered specs")
	}
}
