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

package app

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
)

// eventOutput is one event in ensure's output.
type eventOutput struct {
	Type    string `json:"type"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// Field paths the image manager puts on a container's object reference.
const (
	containersFieldPrefix     = "spec.containers{"
	initContainersFieldPrefix = "spec.initContainers{"
)

// containerFieldPath returns the object reference field path of a
// container, as the kubelet writes it.
func containerFieldPath(init bool, name string) string {
	if init {
		return initContainersFieldPrefix + name + "}"
	}
	return containersFieldPrefix + name + "}"
}

// podEvents holds the events of one pod.
type podEvents struct {
	pod        []eventOutput
	containers map[string][]eventOutput
}

// eventCollector is a record.EventRecorder that keeps events in memory,
// sorted by pod (namespace/name) and container (from the reference's field
// path). Events on a pod reference without a container field path are the
// pod's; identical pod-level events are kept once. It is safe for concurrent use: pods are processed in parallel
// through one image manager.
type eventCollector struct {
	mu   sync.Mutex
	pods map[string]*podEvents
	// unrouted holds events about objects that are not a known pod; they
	// are not expected, and kept only so that tests can see them.
	unrouted []eventOutput
}

var _ record.EventRecorder = &eventCollector{}

func newEventCollector() *eventCollector {
	return &eventCollector{pods: map[string]*podEvents{}}
}

// register prepares the collector for a pod; events about pods that were
// not registered are not routed.
func (c *eventCollector) register(pod *v1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pods[podKey(pod)] = &podEvents{containers: map[string][]eventOutput{}}
}

// podEvents returns the events collected for a pod: the pod-level ones and
// a function returning a container's.
func (c *eventCollector) eventsOf(pod *v1.Pod) (podLevel []eventOutput, container func(name string) []eventOutput) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pe := c.pods[podKey(pod)]
	if pe == nil {
		return []eventOutput{}, func(string) []eventOutput { return []eventOutput{} }
	}
	podLevel = append([]eventOutput{}, pe.pod...)
	byName := make(map[string][]eventOutput, len(pe.containers))
	for name, events := range pe.containers {
		byName[name] = append([]eventOutput{}, events...)
	}
	return podLevel, func(name string) []eventOutput {
		if events, ok := byName[name]; ok {
			return events
		}
		return []eventOutput{}
	}
}

// Event implements record.EventRecorder.
func (c *eventCollector) Event(object runtime.Object, eventtype, reason, message string) {
	c.add(object, eventOutput{Type: eventtype, Reason: reason, Message: message})
}

// Eventf implements record.EventRecorder.
func (c *eventCollector) Eventf(object runtime.Object, eventtype, reason, messageFmt string, args ...interface{}) {
	c.add(object, eventOutput{Type: eventtype, Reason: reason, Message: fmt.Sprintf(messageFmt, args...)})
}

// AnnotatedEventf implements record.EventRecorder; annotations are dropped.
func (c *eventCollector) AnnotatedEventf(object runtime.Object, _ map[string]string, eventtype, reason, messageFmt string, args ...interface{}) {
	c.Eventf(object, eventtype, reason, messageFmt, args...)
}

func (c *eventCollector) add(object runtime.Object, e eventOutput) {
	namespace, name, fieldPath := describeObject(object)
	c.mu.Lock()
	defer c.mu.Unlock()
	pe := c.pods[namespace+"/"+name]
	if pe == nil {
		c.unrouted = append(c.unrouted, e)
		return
	}
	if container, ok := containerOfFieldPath(fieldPath); ok {
		pe.containers[container] = append(pe.containers[container], e)
		return
	}
	// The image manager warns about the pod's missing pull Secrets for
	// every container that needs credentials; an event recorder would
	// aggregate the repeats into one event, so the output keeps one.
	if slices.Contains(pe.pod, e) {
		return
	}
	pe.pod = append(pe.pod, e)
}

// describeObject returns the namespace, name and field path an event is
// about: an ObjectReference as given, any other object through its metadata.
func describeObject(object runtime.Object) (namespace, name, fieldPath string) {
	switch o := object.(type) {
	case *v1.ObjectReference:
		return o.Namespace, o.Name, o.FieldPath
	case nil:
		return "", "", ""
	}
	accessor, err := meta.Accessor(object)
	if err != nil {
		return "", "", ""
	}
	return accessor.GetNamespace(), accessor.GetName(), ""
}

// containerOfFieldPath extracts NAME from spec.containers{NAME} or
// spec.initContainers{NAME}. Container names are unique across both lists.
func containerOfFieldPath(fieldPath string) (string, bool) {
	for _, prefix := range []string{containersFieldPrefix, initContainersFieldPrefix} {
		if rest, ok := strings.CutPrefix(fieldPath, prefix); ok {
			if name, ok := strings.CutSuffix(rest, "}"); ok && name != "" {
				return name, true
			}
		}
	}
	return "", false
}
