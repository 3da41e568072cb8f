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
	"sync"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// kubeletSubsystem prefixes every metric of this package. The metric names
// below continue with "imagemanager_", the spelling released kubelets use.
const kubeletSubsystem = "kubelet"

// CheckResult is the `result` label of
// kubelet_imagemanager_image_mustpull_checks_total.
type CheckResult string

// The results of a MustAttemptImagePull decision.
const (
	CheckResultPolicyAllowed    CheckResult = "credentialPolicyAllowed"
	CheckResultRecordFound      CheckResult = "credentialRecordFound"
	CheckResultMustAuthenticate CheckResult = "mustAuthenticate"
	CheckResultError            CheckResult = "error"
)

var (
	// OnDiskPullIntents is the number of intent files that decode.
	OnDiskPullIntents = metrics.NewGauge(&metrics.GaugeOpts{
		Subsystem:      kubeletSubsystem,
		Name:           "imagemanager_ondisk_pullintents",
		Help:           "Number of image pull intent files on disk that decode; maintained on every write and removal.",
		StabilityLevel: metrics.ALPHA,
	})
	// OnDiskPulledRecords is the number of record files that decode.
	OnDiskPulledRecords = metrics.NewGauge(&metrics.GaugeOpts{
		Subsystem:      kubeletSubsystem,
		Name:           "imagemanager_ondisk_pulledrecords",
		Help:           "Number of image pulled record files on disk that decode; maintained on every write and removal.",
		StabilityLevel: metrics.ALPHA,
	})
	// InMemoryPullIntentsUsage is intents held in memory as a percentage of
	// 2 x maxPods.
	InMemoryPullIntentsUsage = metrics.NewGauge(&metrics.GaugeOpts{
		Subsystem:      kubeletSubsystem,
		Name:           "imagemanager_inmemory_pullintents_usage_percent",
		Help:           "Image pull intents held in memory as a percentage of a soft size of 2 x maxPods. The in-memory layer never evicts, so values above 100 are allowed.",
		StabilityLevel: metrics.ALPHA,
	})
	// InMemoryPulledRecordsUsage is records held in memory as a percentage
	// of 5 x maxPods.
	InMemoryPulledRecordsUsage = metrics.NewGauge(&metrics.GaugeOpts{
		Subsystem:      kubeletSubsystem,
		Name:           "imagemanager_inmemory_pulledrecords_usage_percent",
		Help:           "Image pulled records held in memory as a percentage of a soft size of 5 x maxPods. The in-memory layer never evicts, so values above 100 are allowed.",
		StabilityLevel: metrics.ALPHA,
	})
	// AbsentImagePullIntents is the number of intents for images the runtime
	// does not have, found by the last start-up housekeeping.
	AbsentImagePullIntents = metrics.NewGauge(&metrics.GaugeOpts{
		Subsystem:      kubeletSubsystem,
		Name:           "imagemanager_absent_image_pullintents",
		Help:           "Number of image pull intents whose image was not in the container runtime at the last housekeeping pass.",
		StabilityLevel: metrics.ALPHA,
	})
	// RecordWriteErrors counts failed writes and removals of intent and
	// record files.
	RecordWriteErrors = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem:      kubeletSubsystem,
		Name:           "imagemanager_record_write_errors_total",
		Help:           "Counter of failed writes or removals of image pull intent and record files, by kind (intent, record).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"kind"})
)

var registerOnce sync.Once

// RegisterMetrics registers the pull manager's metrics with the legacy
// registry. It is safe to call more than once.
func RegisterMetrics() {
	registerOnce.Do(func() {
		legacyregistry.MustRegister(OnDiskPullIntents, OnDiskPulledRecords,
			InMemoryPullIntentsUsage, InMemoryPulledRecordsUsage,
			AbsentImagePullIntents, RecordWriteErrors)
		legacyregistry.CustomMustRegister(mustPullChecks)
	})
}

// managerMetrics holds label values resolved once, after registration: a
// vector resolved before registration never counts.
type managerMetrics struct {
	checks            map[CheckResult]metrics.CounterMetric
	intentWriteErrors metrics.CounterMetric
	recordWriteErrors metrics.CounterMetric
	intentsSoftSize   float64
	recordsSoftSize   float64
}

func newManagerMetrics(maxPods int32) *managerMetrics {
	RegisterMetrics()
	if maxPods <= 0 {
		maxPods = 110
	}
	m := &managerMetrics{
		intentWriteErrors: RecordWriteErrors.WithLabelValues("intent"),
		recordWriteErrors: RecordWriteErrors.WithLabelValues("record"),
		intentsSoftSize:   float64(2 * maxPods),
		recordsSoftSize:   float64(5 * maxPods),
	}
	return m
}

func (m *managerMetrics) check(result CheckResult, imageRef string) {
	mustPullChecks.inc(result, imageRef)
}

// setInMemoryUsage updates the usage gauges from the in-memory counts.
func (m *managerMetrics) setInMemoryUsage(records, intents int) {
	InMemoryPulledRecordsUsage.Set(float64(records) / m.recordsSoftSize * 100)
	InMemoryPullIntentsUsage.Set(float64(intents) / m.intentsSoftSize * 100)
}
