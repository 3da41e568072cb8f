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

package framework

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"
)

// AccessLog is a distribution registry's JSON log (log.formatter: json),
// the only place its requests are written with the authenticated user.
//
// What registry 2.8 writes, one JSON object a line, each with
// http.request.id, http.request.method and http.request.uri:
//   - once authorized, at level debug, every line the route handler logs
//     ("GetImageManifest", "GetBlob", storage calls) carries
//     auth.user.name, and vars.name (repository) and vars.reference (tag or
//     digest); at level info no line of a successful request names its user;
//   - when done, "response completed" (2xx, 3xx) or "response completed
//     with error" carries http.response.status;
//   - refused: "error authorizing context: basic authentication
//     challenge..." and no status (the answer is 401), preceded by
//     `error authenticating user "NAME"` when a wrong password was offered.
//
// Lines of one request share http.request.id; Read merges them into one
// AccessEntry. hack/local-up-e2e-node.sh runs its registries at level debug.
type AccessLog struct {
	// Path of the log file.
	Path string
}

// AccessEntry is one request as the registry logged it.
type AccessEntry struct {
	Time      time.Time
	RequestID string
	Method    string
	URI       string
	// Repository and Reference come from the route: set for manifest and
	// blob requests, empty for /v2/.
	Repository string
	Reference  string
	// User is the authenticated user, empty for anonymous requests.
	User string
	// RefusedUser is the name offered with a password the registry refused.
	RefusedUser string
	// Status is the HTTP status, http.StatusUnauthorized for refusals.
	Status int
}

// IsManifest tells whether the request is for a manifest.
func (e AccessEntry) IsManifest() bool {
	return strings.Contains(e.URI, "/manifests/")
}

// Served tells whether the registry answered 2xx.
func (e AccessEntry) Served() bool {
	return e.Status >= 200 && e.Status < 300
}

func (e AccessEntry) String() string {
	user := e.User
	if user == "" {
		user = "-"
	}
	if e.RefusedUser != "" {
		user = "refused:" + e.RefusedUser
	}
	return fmt.Sprintf("%s %s %s %d", user, e.Method, e.URI, e.Status)
}

// AccessEntries are requests in log order.
type AccessEntries []AccessEntry

// Filter returns the entries for which keep returns true.
func (es AccessEntries) Filter(keep func(AccessEntry) bool) AccessEntries {
	var out AccessEntries
	for _, e := range es {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// ManifestFetches returns the manifest requests (GET or HEAD) that were
// served, by whoever made them.
func (es AccessEntries) ManifestFetches() AccessEntries {
	return es.Filter(func(e AccessEntry) bool {
		return e.IsManifest() && e.Served() && (e.Method == http.MethodGet || e.Method == http.MethodHead)
	})
}

// ForRepository returns the entries for one repository.
func (es AccessEntries) ForRepository(repository string) AccessEntries {
	return es.Filter(func(e AccessEntry) bool { return e.Repository == repository })
}

// ByUser returns the entries made as that authenticated user ("" for
// anonymous ones).
func (es AccessEntries) ByUser(user string) AccessEntries {
	return es.Filter(func(e AccessEntry) bool { return e.User == user })
}

// Since returns the entries logged at or after t.
func (es AccessEntries) Since(t time.Time) AccessEntries {
	return es.Filter(func(e AccessEntry) bool { return !e.Time.Before(t) })
}

// Offset returns the current size of the log: pass it to Read to get only
// the requests made from now on.
func (l AccessLog) Offset() (int64, error) {
	fi, err := os.Stat(l.Path)
	if err != nil {
		return 0, fmt.Errorf("access log: %w", err)
	}
	return fi.Size(), nil
}

// Read parses the complete lines written from offset on. It returns the
// requests and the offset after the last complete line, where a later Read
// continues (a line being written is left for it).
func (l AccessLog) Read(offset int64) (AccessEntries, int64, error) {
	if l.Path == "" {
		return nil, offset, fmt.Errorf("access log: no path configured")
	}
	f, err := os.Open(l.Path)
	if err != nil {
		return nil, offset, fmt.Errorf("access log: %w", err)
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, offset, fmt.Errorf("access log: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, offset, fmt.Errorf("access log: %w", err)
	}
	end := bytes.LastIndexByte(data, '\n') + 1
	return ParseAccessLog(data[:end]), offset + int64(end), nil
}

// WaitFor reads the log from offset until an entry satisfies match, and
// returns every entry read. The registry writes a request's line when it is
// done with it, which may be just after the client got its answer.
func (l AccessLog) WaitFor(ctx context.Context, offset int64, match func(AccessEntry) bool) (AccessEntries, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		// Read from offset each time: the lines of one request (user,
		// then status) may straddle two reads and must be merged.
		entries, _, err := l.Read(offset)
		if err != nil {
			return entries, err
		}
		for _, e := range entries {
			if match(e) {
				return entries, nil
			}
		}
		select {
		case <-ctx.Done():
			return entries, fmt.Errorf("waiting for a request in %s: %w (read %d requests)", l.Path, context.Cause(ctx), len(entries))
		case <-tick.C:
		}
	}
}

// logLine is the subset of the registry's JSON fields used here.
type logLine struct {
	Msg            string    `json:"msg"`
	Time           time.Time `json:"time"`
	RequestID      string    `json:"http.request.id"`
	Method         string    `json:"http.request.method"`
	URI            string    `json:"http.request.uri"`
	User           string    `json:"auth.user.name"`
	Repository     string    `json:"vars.name"`
	Reference      string    `json:"vars.reference"`
	ResponseStatus int       `json:"http.response.status"`
}

var refusedUserRE = regexp.MustCompile(`^error authenticating user "([^"]*)"`)

// ParseAccessLog parses registry JSON log lines into requests, in the order
// their first line appears. Lines that are not JSON or belong to no request
// (start-up messages) are skipped.
func ParseAccessLog(data []byte) AccessEntries {
	var entries AccessEntries
	index := map[string]int{}
	for _, raw := range bytes.Split(data, []byte("\n")) {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || raw[0] != '{' {
			continue
		}
		var line logLine
		if err := json.Unmarshal(raw, &line); err != nil {
			// A registry option or version that logs other types for
			// these fields must not hide the requests around it.
			continue
		}
		if line.RequestID == "" {
			continue
		}
		i, ok := index[line.RequestID]
		if !ok {
			i = len(entries)
			index[line.RequestID] = i
			entries = append(entries, AccessEntry{
				Time:       line.Time,
				RequestID:  line.RequestID,
				Method:     line.Method,
				URI:        line.URI,
				Repository: line.Repository,
				Reference:  line.Reference,
			})
		}
		e := &entries[i]
		if line.User != "" {
			e.User = line.User
		}
		if e.Repository == "" {
			e.Repository = line.Repository
		}
		if e.Reference == "" {
			e.Reference = line.Reference
		}
		switch {
		case line.ResponseStatus != 0:
			e.Status = line.ResponseStatus
		case strings.HasPrefix(line.Msg, "error authorizing context"):
			e.Status = http.StatusUnauthorized
		}
		if m := refusedUserRE.FindStringSubmatch(line.Msg); m != nil {
			e.RefusedUser = m[1]
		}
	}
	return entries
}
