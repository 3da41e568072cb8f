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
	"sync/atomic"

	"k8s.io/component-base/metrics"
)

// checkResults are the values of the `result` label, in index order.
var checkResults = [...]CheckResult{CheckResultPolicyAllowed, CheckResultRecordFound, CheckResultMustAuthenticate, CheckResultError}

// counterStripes spreads each count over cache lines so that decisions on
// different CPUs do not fight over one: a single shared counter was the only
// thing that serialised parallel decisions.
const counterStripes = 16

// paddedCount fills a cache line so that neighbouring stripes never share one.
type paddedCount struct {
	n atomic.Uint64
	_ [56]byte
}

// mustPullChecksCollector is kubelet_imagemanager_image_mustpull_checks_total:
// a counter by result, kept in striped cells that are added up only when
// the metric is collected. It is registered once, with the other metrics.
type mustPullChecksCollector struct {
	metrics.BaseStableCollector
	desc  *metrics.Desc
	cells [len(checkResults)][counterStripes]paddedCount
}

var mustPullChecks = &mustPullChecksCollector{
	desc: metrics.NewDesc(
		kubeletSubsystem+"_imagemanager_image_mustpull_checks_total",
		"Counter of how often the image pull manager decided whether a pod must pull an image present on the node, by result.",
		[]string{"result"}, nil, metrics.ALPHA, ""),
}

var _ metrics.StableCollector = mustPullChecks

func checkResultIndex(result CheckResult) int {
	for i, r := range checkResults {
		if r == result {
			return i
		}
	}
	return len(checkResults) - 1 // unknown results count as errors
}

// inc counts one decision about imageRef. The stripe comes from the image
// ref's last character, a hex digit of a content digest for real image IDs:
// decisions about different images land on different cache lines (and stay
// on them, so a line is not passed back and forth between CPUs), while
// decisions about one image share a line, as they share its record's lock.
func (c *mustPullChecksCollector) inc(result CheckResult, imageRef string) {
	c.cells[checkResultIndex(result)][counterStripe(imageRef)].n.Add(1)
}

func counterStripe(imageRef string) int {
	if imageRef == "" {
		return 0
	}
	switch b := imageRef[len(imageRef)-1]; {
	case b >= '0' && b <= '9':
		return int(b - '0')
	case b >= 'a' && b <= 'f':
		return int(b-'a') + 10
	default:
		return int(b) % counterStripes
	}
}

// value returns the count of result.
func (c *mustPullChecksCollector) value(result CheckResult) uint64 {
	var sum uint64
	for i := range c.cells[checkResultIndex(result)] {
		sum += c.cells[checkResultIndex(result)][i].n.Load()
	}
	return sum
}

// MustPullChecksValue returns the current value of
// kubelet_imagemanager_image_mustpull_checks_total for result.
func MustPullChecksValue(result CheckResult) uint64 {
	return mustPullChecks.value(result)
}

func (c *mustPullChecksCollector) DescribeWithStability(ch chan<- *metrics.Desc) {
	ch <- c.desc
}

func (c *mustPullChecksCollector) CollectWithStability(ch chan<- metrics.Metric) {
	for _, r := range checkResults {
		ch <- metrics.NewLazyConstMetric(c.desc, metrics.CounterValue, float64(c.value(r)), string(r))
	}
}
