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

package crash

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
	"k8s.io/kubernetes/test/reliability/internal/harness"
)

// message is one line from the child to the parent.
type message struct {
	Op       string               `json:"op"`
	Image    string               `json:"image,omitempty"`
	Ref      string               `json:"ref,omitempty"`
	Cred     harness.Cred         `json:"cred"`
	Refs     []string             `json:"refs,omitempty"`
	Decision pullmanager.Decision `json:"decision"`
	// Namespace is a deleted namespace (deleted, revoked).
	Namespace string `json:"ns,omitempty"`
}

// reply is one line from the parent to the child.
type reply struct {
	Ref    string                     `json:"ref,omitempty"`
	OK     bool                       `json:"ok"`
	Images []pullmanager.RuntimeImage `json:"images,omitempty"`
}

// Operations that wait for a reply.
var needsReply = map[string]bool{"pull": true, "images": true, "gc": true}

// pipeEnv is the child's harness.Env: every call goes to the parent.
type pipeEnv struct {
	mu  sync.Mutex
	enc *json.Encoder
	dec *json.Decoder
}

var _ harness.Env = &pipeEnv{}

func newPipeEnv(w io.Writer, r io.Reader) *pipeEnv {
	return &pipeEnv{enc: json.NewEncoder(w), dec: json.NewDecoder(bufio.NewReader(r))}
}

func (e *pipeEnv) call(m message) reply {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enc.Encode(m); err != nil {
		panic(fmt.Sprintf("parent gone: %v", err))
	}
	var r reply
	if needsReply[m.Op] {
		if err := e.dec.Decode(&r); err != nil {
			panic(fmt.Sprintf("parent gone: %v", err))
		}
	}
	return r
}

func (e *pipeEnv) Pull(image string, c harness.Cred) (string, bool) {
	r := e.call(message{Op: "pull", Image: image, Cred: c})
	return r.Ref, r.OK
}

func (e *pipeEnv) Recorded(image, ref string, c harness.Cred) {
	e.call(message{Op: "recorded", Image: image, Ref: ref, Cred: c})
}

func (e *pipeEnv) Decide(image, ref string, c harness.Cred) {
	e.call(message{Op: "decide", Image: image, Ref: ref, Cred: c})
}

func (e *pipeEnv) Decided(image, ref string, c harness.Cred, d pullmanager.Decision) {
	e.call(message{Op: "decided", Image: image, Ref: ref, Cred: c, Decision: d})
}

func (e *pipeEnv) Images() []pullmanager.RuntimeImage { return e.call(message{Op: "images"}).Images }

func (e *pipeEnv) GC(refs []string) { e.call(message{Op: "gc", Refs: refs}) }

func (e *pipeEnv) Deleted(c harness.Cred, namespace string) {
	e.call(message{Op: "deleted", Cred: c, Namespace: namespace})
}

func (e *pipeEnv) Revoked(c harness.Cred, namespace string) {
	e.call(message{Op: "revoked", Cred: c, Namespace: namespace})
}

// serve is the parent's side: it answers the child from the oracle until
// the child's end of the pipe closes, and returns the live violations (a
// decision that granted without a proof).
func serve(oracle *harness.Oracle, r io.Reader, w io.Writer) []string {
	dec := json.NewDecoder(bufio.NewReader(r))
	enc := json.NewEncoder(w)
	var violations []string
	for {
		var m message
		if err := dec.Decode(&m); err != nil {
			// EOF, or a line cut short by the kill.
			return violations
		}
		var rep reply
		switch m.Op {
		case "pull":
			rep.Ref, rep.OK = oracle.Pull(m.Image, m.Cred)
		case "recorded":
			oracle.Append(harness.Event{Kind: harness.EventRecorded, Image: m.Image, Ref: m.Ref, Cred: m.Cred})
		case "decide":
			oracle.Append(harness.Event{Kind: harness.EventDecide, Image: m.Image, Ref: m.Ref, Cred: m.Cred})
		case "decided":
			if msg := oracle.View(-1).CheckDecision(m.Image, m.Ref, m.Cred, m.Decision); msg != "" {
				violations = append(violations, "live: "+msg)
			}
		case "images":
			rep.Images = oracle.View(-1).RuntimeImages()
		case "gc":
			oracle.Append(harness.Event{Kind: harness.EventGC, Refs: m.Refs})
		case "deleted":
			oracle.Append(harness.Event{Kind: harness.EventDeleted, Cred: m.Cred, Namespace: m.Namespace})
		case "revoked":
			oracle.Append(harness.Event{Kind: harness.EventRevoked, Cred: m.Cred, Namespace: m.Namespace})
		}
		if needsReply[m.Op] {
			// A write error means the child is dead; the next read ends.
			_ = enc.Encode(rep)
		}
	}
}
