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
	"errors"
	"fmt"
	"io"

	v1 "k8s.io/api/core/v1"

	"k8s.io/kubernetes/pkg/kubelet/images"
)

// The result of a container in ensure's output.
const (
	// resultReused: admitted without a pull (present and allowed, gate off,
	// NeverVerify).
	resultReused = "Reused"
	// resultPulled: a pull succeeded.
	resultPulled = "Pulled"
	// resultWouldPull: --dry-run only, a pull would be made; whether it
	// succeeds is up to the registry.
	resultWouldPull = "WouldPull"
	// resultDenied: not admitted, reason ErrImageNeverPull.
	resultDenied = "Denied"
	// resultFailed: not admitted for any other reason (ErrImagePull,
	// ImagePullBackOff, InvalidImageName, ImageInspectError,
	// RegistryUnavailable, SignatureValidationFailed).
	resultFailed = "Failed"
)

// podOutput is one pod in ensure's output; -o json writes one per line.
type podOutput struct {
	// Pod is NAMESPACE/NAME.
	Pod string `json:"pod"`
	// Events are the pod-level warnings (FailedToRetrieveImagePullSecret).
	Events []eventOutput `json:"events"`
	// Containers are the init containers, then the regular ones, each in
	// spec order.
	Containers []containerOutput `json:"containers"`
}

// containerOutput is one container's outcome.
type containerOutput struct {
	Name          string        `json:"name"`
	Image         string        `json:"image"`
	PullPolicy    v1.PullPolicy `json:"pullPolicy"`
	Result        string        `json:"result"`
	Reason        string        `json:"reason"`
	Message       string        `json:"message"`
	ImageRef      string        `json:"imageRef"`
	Verification  string        `json:"verification"`
	PullAttempted bool          `json:"pullAttempted"`
	Events        []eventOutput `json:"events"`
}

// admitted reports whether every container of the pod was admitted (a dry
// run's WouldPull counts: nothing refused the pod).
func (p podOutput) admitted() bool {
	for _, c := range p.Containers {
		if c.Result == resultDenied || c.Result == resultFailed {
			return false
		}
	}
	return true
}

// containerResult turns the image manager's answer into the output form.
func containerResult(container *v1.Container, result images.EnsureResult, err error, dryRun bool) containerOutput {
	out := containerOutput{
		Name:          container.Name,
		Image:         container.Image,
		PullPolicy:    container.ImagePullPolicy,
		Reason:        result.Reason,
		Message:       result.Message,
		ImageRef:      result.ImageRef,
		Verification:  string(result.Verification),
		PullAttempted: result.PullAttempted,
		Events:        []eventOutput{},
	}
	if err == nil {
		switch {
		case dryRun && result.PullAttempted:
			out.Result = resultWouldPull
		case result.PullAttempted:
			out.Result = resultPulled
			out.Message = ""
		default:
			out.Result = resultReused
			// The image manager's message for a reused image is the
			// Pulled event's, which the events carry; message is for
			// why a container was not admitted.
			out.Message = ""
		}
		return out
	}
	// Not admitted: the reason comes with the result; the error's reason
	// is the fallback, and ErrImagePull the last resort, so that a failure
	// never goes out without one.
	if out.Reason == "" {
		var ee *images.EnsureError
		if errors.As(err, &ee) && ee.Reason != nil {
			out.Reason = ee.Reason.Error()
		} else {
			out.Reason = images.ErrImagePull.Error()
		}
	}
	if out.Message == "" {
		out.Message = err.Error()
	}
	out.ImageRef = ""
	if out.Reason == images.ErrImageNeverPull.Error() {
		out.Result = resultDenied
	} else {
		out.Result = resultFailed
	}
	return out
}

// orNone shows an empty cell as kubectl does.
func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// writeEnsureText writes ensure's kubectl-style table, then the events.
func writeEnsureText(w io.Writer, pods []podOutput) error {
	tw := newTabWriter(w)
	fmt.Fprintln(tw, "POD\tCONTAINER\tIMAGE\tPULL POLICY\tRESULT\tVERIFICATION\tREASON\tIMAGE REF")
	for _, p := range pods {
		for _, c := range p.Containers {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Pod, c.Name, c.Image, c.PullPolicy, c.Result,
				orNone(c.Verification), orNone(c.Reason), orNone(shortImageRef(c.ImageRef)))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	any := false
	for _, p := range pods {
		any = any || len(p.Events) > 0
		for _, c := range p.Containers {
			any = any || len(c.Events) > 0
		}
	}
	if !any {
		return nil
	}
	fmt.Fprintln(w)
	tw = newTabWriter(w)
	fmt.Fprintln(tw, "OBJECT\tTYPE\tREASON\tMESSAGE")
	for _, p := range pods {
		for _, e := range p.Events {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Pod, e.Type, e.Reason, oneLine(e.Message))
		}
		for _, c := range p.Containers {
			for _, e := range c.Events {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Pod+"/"+c.Name, e.Type, e.Reason, oneLine(e.Message))
			}
		}
	}
	return tw.Flush()
}
