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

package imageservice

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"

	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// maxSocketPath is the longest unix socket path the kernel accepts
// (sun_path is 108 bytes including the terminating NUL).
const maxSocketPath = 107

// ErrSocketPathTooLong is wrapped by Start when Options.SocketPath cannot be
// bound; keep sockets in a short directory such as os.MkdirTemp("", "cri").
var ErrSocketPathTooLong = errors.New("unix socket path too long")

// Options configures a Server.
type Options struct {
	// Dir holds the image content and index. Empty means a new temporary
	// directory that Stop removes; give a directory to keep images across a
	// restart of the server.
	Dir string
	// SocketPath is the unix socket to serve on. Empty means a socket in a
	// new short temporary directory that Stop removes. A stale socket file
	// at the path is replaced.
	SocketPath string
	// Logger receives pull and removal messages at verbosity 2. The zero
	// value discards them. Credentials are never logged.
	Logger klog.Logger
}

// Pull is one PullImage request (through the CRI or Preload) as the server
// saw it, for tests that assert what was pulled and with whom.
type Pull struct {
	// Image is the image string of the request.
	Image string
	// Username is the user name of the request's credentials, "" for an
	// anonymous pull. Passwords and tokens are not kept.
	Username string
	// ImageRef is the image ID returned, "" when the pull failed.
	ImageRef string
	// Err is the error text returned, "" on success.
	Err string
}

// Server is a running embedded image service.
type Server struct {
	runtimeapi.UnimplementedImageServiceServer

	logger     klog.Logger
	store      *store
	socketPath string
	grpc       *grpc.Server
	serveDone  chan struct{}
	// removeOnStop lists the temporary directories Start created.
	removeOnStop []string

	stopOnce sync.Once
	stopErr  error

	pullsMu sync.Mutex
	pulls   []Pull
}

var _ runtimeapi.ImageServiceServer = &Server{}

// unimplementedRuntime answers every RuntimeService call with
// codes.Unimplemented: clients that probe the runtime learn that this
// endpoint serves images only.
type unimplementedRuntime struct {
	runtimeapi.UnimplementedRuntimeServiceServer
}

// Start opens the content directory, binds the socket and serves the CRI
// ImageService (and an unimplemented RuntimeService) until Stop.
func Start(opts Options) (srv *Server, err error) {
	s := &Server{logger: opts.Logger, serveDone: make(chan struct{})}
	defer func() {
		if err != nil {
			s.removeTemporaries()
		}
	}()
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "cri-images-"); err != nil {
			return nil, fmt.Errorf("create content directory: %w", err)
		}
		s.removeOnStop = append(s.removeOnStop, dir)
	}
	if s.store, err = openStore(dir); err != nil {
		return nil, err
	}
	s.socketPath = opts.SocketPath
	if s.socketPath == "" {
		sockDir, err := os.MkdirTemp("", "cri")
		if err != nil {
			return nil, fmt.Errorf("create socket directory: %w", err)
		}
		s.removeOnStop = append(s.removeOnStop, sockDir)
		s.socketPath = filepath.Join(sockDir, "cri.sock")
	}
	if len(s.socketPath) > maxSocketPath {
		return nil, fmt.Errorf("%w: %d bytes: %s", ErrSocketPathTooLong, len(s.socketPath), s.socketPath)
	}
	if err := os.Remove(s.socketPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("remove stale socket: %w", err)
	}
	lis, err := net.Listen("unix", s.socketPath)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s.socketPath, err)
	}
	// Stop waits for handlers, so that no pull writes into a directory
	// Stop is removing; pulls follow their context, which Stop cancels.
	s.grpc = grpc.NewServer(grpc.WaitForHandlers(true))
	runtimeapi.RegisterImageServiceServer(s.grpc, s)
	runtimeapi.RegisterRuntimeServiceServer(s.grpc, unimplementedRuntime{})
	go func() {
		defer close(s.serveDone)
		// Serve returns nil after Stop; any other error means the listener
		// broke, and clients will see that as an unreachable runtime.
		if err := s.grpc.Serve(lis); err != nil {
			s.logger.Error(err, "Embedded image service stopped serving", "socket", s.socketPath)
		}
	}()
	s.logger.V(2).Info("Embedded image service serving", "endpoint", s.Endpoint(), "dir", dir)
	return s, nil
}

// Endpoint returns the CRI endpoint, "unix:///...".
func (s *Server) Endpoint() string {
	return "unix://" + s.socketPath
}

// Stop stops serving (cancelling pulls in flight), waits for the serving
// goroutine and the handlers, and removes the temporary directories Start created. It may be
// called more than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.grpc.Stop()
		<-s.serveDone
		// The socket file outlives the listener when it was given in the
		// options; remove it so that clients see an absent runtime.
		if err := os.Remove(s.socketPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.stopErr = fmt.Errorf("remove socket: %w", err)
		}
		s.stopErr = errors.Join(s.stopErr, s.removeTemporaries())
	})
	return s.stopErr
}

func (s *Server) removeTemporaries() error {
	var errs []error
	for _, d := range s.removeOnStop {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
		}
	}
	s.removeOnStop = nil
	return errors.Join(errs...)
}

// Preload pulls image into the service without a CRI call, as an operator
// would preload a node; the kubelet under test never saw this pull. auth may
// be nil for an anonymous pull. It returns the image ID.
func (s *Server) Preload(ctx context.Context, image string, auth *runtimeapi.AuthConfig) (string, error) {
	return s.pullAndRecord(ctx, image, auth)
}

// Pulls returns the pulls seen since start or the last ResetPulls, oldest
// first.
func (s *Server) Pulls() []Pull {
	s.pullsMu.Lock()
	defer s.pullsMu.Unlock()
	return append([]Pull(nil), s.pulls...)
}

// ResetPulls forgets the recorded pulls.
func (s *Server) ResetPulls() {
	s.pullsMu.Lock()
	defer s.pullsMu.Unlock()
	s.pulls = nil
}

func (s *Server) pullAndRecord(ctx context.Context, image string, auth *runtimeapi.AuthConfig) (string, error) {
	p := Pull{Image: image, Username: auth.GetUsername()}
	// Only the image and whether credentials came are logged, never the
	// credentials themselves.
	s.logger.V(2).Info("Pulling image", "image", image, "withCredentials", auth != nil)
	id, err := s.pull(ctx, image, auth)
	p.ImageRef = id
	if err != nil {
		p.Err = err.Error()
		s.logger.V(2).Info("Pull failed", "image", image, "err", err)
	} else {
		s.logger.V(2).Info("Pulled image", "image", image, "imageRef", id)
	}
	s.pullsMu.Lock()
	s.pulls = append(s.pulls, p)
	s.pullsMu.Unlock()
	return id, err
}
