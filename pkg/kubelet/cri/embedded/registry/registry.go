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
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"k8s.io/klog/v2"
)

// AdminUsername is the name of the account the registry creates for itself;
// it may push and pull every repository. Options.Users must not use it.
const AdminUsername = "registry-admin"

// Realm is the realm announced in the registry's basic-auth challenges.
const Realm = "embedded-registry"

// ErrRunning is returned by Start when the registry is already serving.
var ErrRunning = errors.New("registry is already running")

// ErrInvalidOptions is wrapped by New when the options are inconsistent.
var ErrInvalidOptions = errors.New("invalid registry options")

// Access lists who may pull a repository.
type Access struct {
	// Anonymous allows pulls without credentials (and by any valid user).
	Anonymous bool
	// Users may pull the repository with their passwords.
	Users []string
}

// Options configures a Registry.
type Options struct {
	// Users maps user names to passwords.
	Users map[string]string
	// Repos maps repository paths as they appear in the URL ("team-a/app",
	// without host, tag or digest) to who may pull them. Repositories that
	// are not listed are pulled by the admin only.
	Repos map[string]Access
	// Addr is the address to listen on; empty means "127.0.0.1:0", a free
	// loopback port. Keep it on loopback: the registry speaks plain HTTP.
	Addr string
	// Logger receives one line per request at verbosity 4 and lifecycle
	// messages at verbosity 2. The zero value discards everything.
	Logger klog.Logger
}

// Registry is a running (or stopped) embedded registry. Its methods are safe
// for concurrent use.
type Registry struct {
	logger        klog.Logger
	handler       http.Handler
	users         map[string]string
	repos         map[string]Access
	adminPassword string
	log           accessLog

	// mu guards the fields below; it is never held while serving requests.
	mu     sync.Mutex
	addr   string
	server *http.Server
	done   chan struct{}
}

// New validates opts, creates the registry and starts serving. Call Stop
// when done, typically with t.Cleanup.
func New(opts Options) (*Registry, error) {
	users := make(map[string]string, len(opts.Users))
	for name, password := range opts.Users {
		if name == "" || name == AdminUsername {
			return nil, fmt.Errorf("%w: user name %q is reserved or empty", ErrInvalidOptions, name)
		}
		users[name] = password
	}
	repos := make(map[string]Access, len(opts.Repos))
	for repo, access := range opts.Repos {
		for _, u := range access.Users {
			if _, ok := users[u]; !ok {
				return nil, fmt.Errorf("%w: repository %q lists unknown user %q", ErrInvalidOptions, repo, u)
			}
		}
		repos[repo] = Access{Anonymous: access.Anonymous, Users: append([]string(nil), access.Users...)}
	}
	password, err := randomPassword()
	if err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	r := &Registry{
		logger: opts.Logger,
		// The upstream handler logs every request to stderr by default; our
		// own access log replaces it.
		handler:       ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))),
		users:         users,
		repos:         repos,
		adminPassword: password,
		addr:          addr,
	}
	if err := r.Start(); err != nil {
		return nil, err
	}
	return r, nil
}

// Addr returns the registry's host:port, e.g. "127.0.0.1:40123". It stays the
// same across Stop and Start.
func (r *Registry) Addr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addr
}

// Ref returns the full image reference for name, a repository path with an
// optional tag or digest ("team-a/app:1" -> "127.0.0.1:40123/team-a/app:1").
func (r *Registry) Ref(name string) string {
	return r.Addr() + "/" + name
}

// AdminCredentials returns the admin account, which may push and pull every
// repository. Use it to preload images into a runtime.
func (r *Registry) AdminCredentials() (username, password string) {
	return AdminUsername, r.adminPassword
}

// Start serves on the registry's address again after Stop. The first start
// happens in New. Restarting keeps the address (the listener is bound with
// SO_REUSEADDR, as Go does by default on Unix) and the pushed content.
func (r *Registry) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.server != nil {
		return ErrRunning
	}
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", r.addr, err)
	}
	r.addr = ln.Addr().String()
	srv := &http.Server{
		Handler:           http.HandlerFunc(r.serveHTTP),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Serve returns http.ErrServerClosed after Close; nothing to report.
		_ = srv.Serve(ln)
	}()
	r.server = srv
	r.done = done
	r.logger.V(2).Info("Embedded registry serving", "address", r.addr)
	return nil
}

// Stop closes the listener and every open connection, so that clients get
// "connection refused" until Start. It waits for the serving goroutine to
// return. Stopping a stopped registry is a no-op.
func (r *Registry) Stop() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.server == nil {
		return nil
	}
	err := r.server.Close()
	<-r.done
	r.server = nil
	r.done = nil
	r.logger.V(2).Info("Embedded registry stopped", "address", r.addr)
	if err != nil {
		return fmt.Errorf("stop registry on %s: %w", r.addr, err)
	}
	return nil
}

// Running reports whether the registry is serving.
func (r *Registry) Running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.server != nil
}

func randomPassword() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate admin password: %w", err)
	}
	return hex.EncodeToString(b), nil
}
