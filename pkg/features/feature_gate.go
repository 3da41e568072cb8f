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
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"k8s.io/component-base/featuregate"
)

// ErrUnknownFeatureGate is wrapped by the errors of NewFeatureGate and
// ParseFeatureGates when a gate name is not known to this tree, so that a
// typo in a config file or flag is not silently ignored.
var ErrUnknownFeatureGate = errors.New("unknown feature gate")

// DefaultMutableFeatureGate is the process-wide gate at EmulationVersion with
// every gate of this tree registered. Tests flip gates on it with
// k8s.io/component-base/featuregate/testing (see package
// k8s.io/kubernetes/pkg/features/testing); binaries should prefer a gate
// built with NewFeatureGate and passed down explicitly.
var DefaultMutableFeatureGate featuregate.MutableVersionedFeatureGate = mustNewGate()

// DefaultFeatureGate is the read-only view of DefaultMutableFeatureGate.
var DefaultFeatureGate featuregate.FeatureGate = DefaultMutableFeatureGate

// mustNewGate builds a gate with this tree's gates registered. Registration
// only fails for a malformed spec table, a programming error caught by any
// test of this package, hence the panic.
func mustNewGate() featuregate.MutableVersionedFeatureGate {
	gate := featuregate.NewVersionedFeatureGate(EmulationVersion)
	if err := gate.AddVersioned(VersionedSpecs()); err != nil {
		panic(fmt.Sprintf("registering feature gates: %v", err))
	}
	return gate
}

// NewFeatureGate returns a fresh gate at EmulationVersion with every gate of
// this tree registered and the overrides applied. A name that is not a gate of
// this tree is an error wrapping ErrUnknownFeatureGate and naming the gate;
// other refusals (such as a locked gate) come from component-base.
func NewFeatureGate(overrides map[string]bool) (featuregate.MutableVersionedFeatureGate, error) {
	gate := mustNewGate()
	known := gate.GetAllVersioned()
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		if _, ok := known[featuregate.Feature(name)]; !ok {
			return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownFeatureGate, name, strings.Join(knownNames(known), ", "))
		}
	}
	if len(overrides) == 0 {
		return gate, nil
	}
	if err := gate.SetFromMap(overrides); err != nil {
		return nil, fmt.Errorf("setting feature gates: %w", err)
	}
	return gate, nil
}

// MergeFeatureGates merges gate maps key by key, a later map winning over an
// earlier one for the keys it sets: pass the configuration file's
// featureGates first and the --feature-gates flag last. The result is a new
// map; nil when no layer sets anything.
func MergeFeatureGates(layers ...map[string]bool) map[string]bool {
	var merged map[string]bool
	for _, layer := range layers {
		for name, enabled := range layer {
			if merged == nil {
				merged = map[string]bool{}
			}
			merged[name] = enabled
		}
	}
	return merged
}

// ParseFeatureGates parses the value of a --feature-gates flag,
// "Name=true,Other=false", into a map. Empty items are skipped; an item
// without "=" or with a value that is not a boolean is an error, and so is a
// name that is not a gate of this tree (wrapping ErrUnknownFeatureGate).
func ParseFeatureGates(value string) (map[string]bool, error) {
	known := DefaultMutableFeatureGate.GetAllVersioned()
	out := map[string]bool{}
	for item := range strings.SplitSeq(value, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, raw, ok := strings.Cut(item, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("feature gate %q: missing \"=true\" or \"=false\"", name)
		}
		enabled, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("feature gate %q: value %q is not a boolean", name, strings.TrimSpace(raw))
		}
		if _, ok := known[featuregate.Feature(name)]; !ok {
			return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownFeatureGate, name, strings.Join(knownNames(known), ", "))
		}
		out[name] = enabled
	}
	return out, nil
}

// knownNames lists the registered gate names, sorted, for error messages.
func knownNames(known map[featuregate.Feature]featuregate.VersionedSpecs) []string {
	names := make([]string, 0, len(known))
	for name := range known {
		names = append(names, string(name))
	}
	slices.Sort(names)
	return names
}
