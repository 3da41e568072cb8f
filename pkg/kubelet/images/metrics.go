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

package images

import (
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// kubeletSubsystem is the metric subsystem. The name continues with
// "image_manager_", the spelling released kubelets use for this metric
// (the pull manager's metrics use "imagemanager_"; both are fixed).
const kubeletSubsystem = "kubelet"

// pullPolicyLabel is the pull_policy label value.
type pullPolicyLabel string

const (
	pullPolicyAlways       pullPolicyLabel = "always"
	pullPolicyIfNotPresent pullPolicyLabel = "ifnotpresent"
	pullPolicyNever        pullPolicyLabel = "never"
)

// triStateLabel is the present_locally and pull_required label value.
type triStateLabel string

const (
	labelTrue  triStateLabel = "true"
	labelFalse triStateLabel = "false"
	// labelUnknown: not determined because of an earlier error.
	labelUnknown triStateLabel = "unknown"
)

func triState(b bool) triStateLabel {
	if b {
		return labelTrue
	}
	return labelFalse
}

// EnsureImageRequests counts EnsureImageExists calls.
var EnsureImageRequests = metrics.NewCounterVec(&metrics.CounterOpts{
	Subsystem:      kubeletSubsystem,
	Name:           "image_manager_ensure_image_requests_total",
	Help:           "Number of EnsureImageExists requests, by pull policy, whether the image was present locally and whether a pull was required (unknown when an earlier error prevented telling).",
	StabilityLevel: metrics.ALPHA,
}, []string{"pull_policy", "present_locally", "pull_required"})

var registerOnce sync.Once

// RegisterMetrics registers the image manager's metrics with the legacy
// registry. NewImageManager calls it before any label value is resolved (a
// vector resolved before registration never counts). It is safe to call
// more than once.
func RegisterMetrics() {
	registerOnce.Do(func() {
		legacyregistry.MustRegister(EnsureImageRequests)
	})
}

// ensureLabels are the label values of one EnsureImageExists call; they
// start unknown and are filled in as the call learns them.
type ensureLabels struct {
	pullPolicy     pullPolicyLabel
	presentLocally triStateLabel
	pullRequired   triStateLabel
}

func newEnsureLabels(policy v1.PullPolicy) *ensureLabels {
	l := &ensureLabels{presentLocally: labelUnknown, pullRequired: labelUnknown}
	switch policy {
	case v1.PullAlways:
		l.pullPolicy = pullPolicyAlways
	case v1.PullIfNotPresent:
		l.pullPolicy = pullPolicyIfNotPresent
	default:
		l.pullPolicy = pullPolicyNever
	}
	return l
}

// record counts the call; EnsureImageExists defers it, so it runs exactly
// once per call.
func (l *ensureLabels) record() {
	EnsureImageRequests.WithLabelValues(string(l.pullPolicy), string(l.presentLocally), string(l.pullRequired)).Inc()
}
