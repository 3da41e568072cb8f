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

package plugin

import (
	"sync"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// kubeletSubsystem prefixes every metric of this package.
const kubeletSubsystem = "kubelet"

// pluginNameLabel is the label naming the provider.
const pluginNameLabel = "plugin_name"

var (
	// PluginErrors counts failed plugin executions: the plugin could not be
	// run, failed, timed out, or answered something that is not a valid
	// response. Service account problems (no service account, a missing
	// annotation, no API server) are the pod's, not the plugin's, and are
	// not counted.
	PluginErrors = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem:      kubeletSubsystem,
		Name:           "credential_provider_plugin_errors_total",
		Help:           "Number of errors from credential provider plugin executions, by plugin.",
		StabilityLevel: metrics.ALPHA,
	}, []string{pluginNameLabel})
	// PluginDuration is how long plugin executions take, failed ones
	// included. Cache hits run nothing and are not observed.
	PluginDuration = metrics.NewHistogramVec(&metrics.HistogramOpts{
		Subsystem:      kubeletSubsystem,
		Name:           "credential_provider_plugin_duration_seconds",
		Help:           "Duration of credential provider plugin executions in seconds, by plugin.",
		Buckets:        metrics.DefBuckets,
		StabilityLevel: metrics.ALPHA,
	}, []string{pluginNameLabel})
)

var registerOnce sync.Once

// RegisterMetrics registers this package's metrics with the legacy registry.
// NewProviders calls it; it is safe to call more than once.
func RegisterMetrics() {
	registerOnce.Do(func() {
		legacyregistry.MustRegister(PluginErrors, PluginDuration)
	})
}

// pluginMetrics are one provider's series, resolved once after
// registration: a vector resolved before registration never records.
type pluginMetrics struct {
	errors   metrics.CounterMetric
	duration metrics.ObserverMetric
}

func newPluginMetrics(name string) *pluginMetrics {
	RegisterMetrics()
	return &pluginMetrics{
		errors:   PluginErrors.WithLabelValues(name),
		duration: PluginDuration.WithLabelValues(name),
	}
}
