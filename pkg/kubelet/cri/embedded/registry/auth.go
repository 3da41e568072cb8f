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

import (
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"
)

// unauthorizedBody is the distribution registry's error body for a refused
// request; clients show its message next to the status.
const unauthorizedBody = `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}` + "\n"

// serveHTTP authorises the request, hands it to the registry handler and
// records it in the access log.
func (r *Registry) serveHTTP(w http.ResponseWriter, req *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	repo := repositoryOf(req.URL.Path)
	user, ok := r.authorize(req, repo)
	if ok {
		r.handler.ServeHTTP(rec, req)
	} else {
		writeUnauthorized(rec, req)
	}
	entry := Entry{
		Method:     req.Method,
		Path:       req.URL.Path,
		Repository: repo,
		User:       user,
		Status:     rec.status,
	}
	r.log.add(entry)
	// Only the user name is logged: never the Authorization header or a
	// password.
	r.logger.V(4).Info("Registry request", "method", entry.Method, "path", entry.Path,
		"repository", entry.Repository, "user", entry.User, "status", entry.Status)
}

// authorize returns the authenticated user ("" for anonymous requests and
// wrong passwords) and whether the request may proceed.
func (r *Registry) authorize(req *http.Request, repo string) (string, bool) {
	user, password, presented := req.BasicAuth()
	if presented && !r.validPassword(user, password) {
		// A wrong password is refused even where anonymous pulls are
		// allowed, as registries with authentication do.
		return "", false
	}
	if !presented {
		user = ""
	}
	admin := user == AdminUsername
	path := strings.TrimSuffix(req.URL.Path, "/")
	switch {
	case path == "/v2":
		// The version check tells anonymous clients to authenticate, so
		// that they learn the basic challenge before fetching anything.
		return user, user != ""
	case path == "/v2/_catalog":
		return user, admin
	case repo == "":
		// Not a repository URL: the handler answers 404 to anyone who has
		// authenticated; anonymous clients learn nothing.
		return user, user != ""
	}
	if admin {
		return user, true
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return user, false
	}
	access, listed := r.repos[repo]
	if !listed {
		return user, false
	}
	if access.Anonymous {
		return user, true
	}
	return user, user != "" && slices.Contains(access.Users, user)
}

// validPassword compares in constant time so that the registry does not leak
// passwords through timing, which costs nothing here.
func (r *Registry) validPassword(user, password string) bool {
	want, ok := r.users[user]
	if user == AdminUsername {
		want, ok = r.adminPassword, true
	}
	if !ok {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(password)) == 1
}

func writeUnauthorized(w http.ResponseWriter, req *http.Request) {
	h := w.Header()
	h.Set("WWW-Authenticate", `Basic realm="`+Realm+`"`)
	h.Set("Docker-Distribution-API-Version", "registry/2.0")
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	if req.Method != http.MethodHead {
		_, _ = w.Write([]byte(unauthorizedBody))
	}
}

// repositoryOf extracts the repository path from a distribution API path
// ("/v2/team-a/app/manifests/1" -> "team-a/app"). It returns "" for paths
// that name no repository (the version check, the catalog, unknown URLs).
func repositoryOf(path string) string {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return ""
	}
	elems := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	n := len(elems)
	// The endpoint keyword sits at most three elements from the end:
	// <repo>/manifests/<ref>, <repo>/blobs/<digest>, <repo>/tags/list,
	// <repo>/referrers/<digest>, <repo>/blobs/uploads[/<id>].
	for i := n - 2; i >= 1 && i >= n-3; i-- {
		switch elems[i] {
		case "manifests", "referrers", "tags":
			if i != n-2 {
				continue
			}
		case "blobs":
			if i != n-2 && elems[i+1] != "uploads" {
				continue
			}
		default:
			continue
		}
		return strings.Join(elems[:i], "/")
	}
	return ""
}

// statusRecorder remembers the status code written through it.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status = code
		s.wroteHeader = true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wroteHeader = true
	return s.ResponseWriter.Write(b)
}
