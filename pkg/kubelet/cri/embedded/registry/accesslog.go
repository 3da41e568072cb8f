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

package registry

import "sync"

// Entry is one request in the access log.
type Entry struct {
	// Method is the HTTP method.
	Method string
	// Path is the URL path, without the query.
	Path string
	// Repository is the repository the path names, "" for the version check
	// and the catalog.
	Repository string
	// User is the user whose password was accepted, even when the
	// repository then refused them; "" for anonymous requests and wrong
	// passwords.
	User string
	// Status is the HTTP status code answered.
	Status int
}

// accessLog keeps every request in memory; tests are short, so it is not
// bounded.
type accessLog struct {
	mu      sync.Mutex
	entries []Entry
}

func (l *accessLog) add(e Entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, e)
}

// AccessLog returns a copy of the requests served since the registry was
// created or the log was last reset, oldest first.
func (r *Registry) AccessLog() []Entry {
	r.log.mu.Lock()
	defer r.log.mu.Unlock()
	return append([]Entry(nil), r.log.entries...)
}

// ResetAccessLog forgets the recorded requests, typically right before the
// step that must not contact the registry.
func (r *Registry) ResetAccessLog() {
	r.log.mu.Lock()
	defer r.log.mu.Unlock()
	r.log.entries = nil
}
