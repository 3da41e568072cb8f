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

package faults

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"k8s.io/kubernetes/pkg/kubelet/cri/embedded/imageservice"
	"k8s.io/kubernetes/pkg/kubelet/cri/remote"
	"k8s.io/kubernetes/pkg/kubelet/images"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// hangingImageService answers ImageStatus "absent" (or hangs, with
// hangStatus) and hangs in PullImage until the caller gives up.
type hangingImageService struct {
	runtimeapi.UnimplementedImageServiceServer
	hangStatus bool
}

func (s *hangingImageService) ImageStatus(ctx context.Context, _ *runtimeapi.ImageStatusRequest) (*runtimeapi.ImageStatusResponse, error) {
	if s.hangStatus {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return &runtimeapi.ImageStatusResponse{}, nil
}

func (s *hangingImageService) ListImages(context.Context, *runtimeapi.ListImagesRequest) (*runtimeapi.ListImagesResponse, error) {
	return &runtimeapi.ListImagesResponse{}, nil
}

func (s *hangingImageService) ImageFsInfo(context.Context, *runtimeapi.ImageFsInfoRequest) (*runtimeapi.ImageFsInfoResponse, error) {
	return &runtimeapi.ImageFsInfoResponse{}, nil
}

func (s *hangingImageService) PullImage(ctx context.Context, _ *runtimeapi.PullImageRequest) (*runtimeapi.PullImageResponse, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// startHangingRuntime serves a hangingImageService on a unix socket in a
// short directory and returns its endpoint and a stop function.
func startHangingRuntime(t *testing.T, hangStatus bool) (string, func()) {
	t.Helper()
	dir, err := os.MkdirTemp("", "hang")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "cri.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	runtimeapi.RegisterImageServiceServer(srv, &hangingImageService{hangStatus: hangStatus})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	return "unix://" + sock, func() {
		srv.Stop()
		<-done
		_ = os.RemoveAll(dir)
	}
}

// startTCP serves raw connections with handle until stopped; stop closes
// the listener and every connection and waits for the handlers.
func startTCP(t *testing.T, handle func(net.Conn)) (string, func()) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { handle(c) })
		}
	})
	return lis.Addr().String(), func() {
		_ = lis.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}
}

// runtimeFaultCase is one broken runtime or registry.
type runtimeFaultCase struct {
	name string
	// setup starts what the case needs and returns the CRI endpoint, the
	// image to pull, and a stop function.
	setup func(t *testing.T) (endpoint, image string, stop func())
	// timeout bounds the CRI calls other than PullImage.
	timeout time.Duration
	// deadline bounds the EnsureImageExists call, as a kubelet's pod
	// worker context does.
	deadline time.Duration
	// wantReason is the EnsureResult reason.
	wantReason error
	// wantText is part of the error message.
	wantText string
	// failsToConnect: connecting to the runtime fails first.
	failsToConnect bool
	// breakAfterConnect stops the runtime once the client connected.
	breakAfterConnect bool
	// longOnly: slow (the runtime's retries); run at RELIABILITY_SCALE=long.
	longOnly bool
}

func embeddedRuntime(t *testing.T) (string, func()) {
	t.Helper()
	srv, err := imageservice.Start(imageservice.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return srv.Endpoint(), func() { _ = srv.Stop() }
}

func TestRuntimeAndRegistryFaults(t *testing.T) {
	rounds := 1
	if longScale() {
		rounds = 20
	}
	cases := []runtimeFaultCase{
		{
			name: "runtime socket gone before connecting",
			setup: func(t *testing.T) (string, string, func()) {
				endpoint, stop := embeddedRuntime(t)
				stop()
				return endpoint, imageP, func() {}
			},
			timeout:        2 * time.Second,
			deadline:       10 * time.Second,
			failsToConnect: true,
		},
		{
			name: "runtime socket gone after connecting",
			setup: func(t *testing.T) (string, string, func()) {
				endpoint, stop := embeddedRuntime(t)
				return endpoint, imageP, stop
			},
			timeout:           2 * time.Second,
			deadline:          10 * time.Second,
			breakAfterConnect: true,
			wantReason:        images.ErrImageInspect,
			wantText:          "Failed to inspect image",
		},
		{
			name: "runtime hangs in ImageStatus past the deadline",
			setup: func(t *testing.T) (string, string, func()) {
				endpoint, stop := startHangingRuntime(t, true)
				return endpoint, imageP, stop
			},
			// Long enough to connect on a loaded machine under -race.
			timeout:    time.Second,
			deadline:   10 * time.Second,
			wantReason: images.ErrImageInspect,
			wantText:   "DeadlineExceeded",
		},
		{
			name: "runtime hangs in PullImage past the deadline",
			setup: func(t *testing.T) (string, string, func()) {
				endpoint, stop := startHangingRuntime(t, false)
				return endpoint, imageP, stop
			},
			timeout:    2 * time.Second,
			deadline:   time.Second,
			wantReason: images.ErrImagePull,
			wantText:   "DeadlineExceeded",
		},
		{
			name: "registry answers 500",
			setup: func(t *testing.T) (string, string, func()) {
				reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					http.Error(w, "boom", http.StatusInternalServerError)
				}))
				endpoint, stop := embeddedRuntime(t)
				return endpoint, reg.Listener.Addr().String() + "/team/p:1", func() { stop(); reg.Close() }
			},
			timeout:    5 * time.Second,
			deadline:   20 * time.Second,
			wantReason: images.ErrImagePull,
			wantText:   "500",
		},
		{
			name: "registry never answers",
			setup: func(t *testing.T) (string, string, func()) {
				addr, stopTCP := startTCP(t, func(c net.Conn) {
					// Read and never answer, until the connection closes.
					buf := make([]byte, 4096)
					for {
						if _, err := c.Read(buf); err != nil {
							return
						}
					}
				})
				endpoint, stop := embeddedRuntime(t)
				return endpoint, addr + "/team/p:1", func() { stop(); stopTCP() }
			},
			timeout:    5 * time.Second,
			deadline:   time.Second,
			wantReason: images.ErrImagePull,
			wantText:   "DeadlineExceeded",
		},
		{
			name: "registry speaks TLS the runtime cannot verify",
			setup: func(t *testing.T) (string, string, func()) {
				reg := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					w.WriteHeader(http.StatusOK)
				}))
				reg.Config.ErrorLog = nil
				endpoint, stop := embeddedRuntime(t)
				return endpoint, reg.Listener.Addr().String() + "/team/p:1", func() { stop(); reg.Close() }
			},
			timeout:    5 * time.Second,
			deadline:   20 * time.Second,
			wantReason: images.ErrImagePull,
			wantText:   "failed to pull",
		},
		{
			name: "registry closes every connection",
			setup: func(t *testing.T) (string, string, func()) {
				addr, stopTCP := startTCP(t, func(c net.Conn) { _ = c.Close() })
				endpoint, stop := embeddedRuntime(t)
				return endpoint, addr + "/team/p:1", func() { stop(); stopTCP() }
			},
			timeout:    5 * time.Second,
			deadline:   20 * time.Second,
			wantReason: images.ErrImagePull,
			wantText:   "failed to pull",
			longOnly:   true,
		},
	}
	total := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.longOnly && !longScale() {
				// The runtime retries with back-off for seconds; the
				// TLS case covers a registry it cannot talk to.
				t.Skip("RELIABILITY_SCALE=long only")
			}
			for range rounds {
				runRuntimeFault(t, tc)
				total++
			}
		})
	}
	fmt.Printf("RELIABILITY: faults: runtime and registry: %d cases x %d rounds = %d broken pulls, right reason and no goroutine left behind in each, violations=%d\n",
		len(cases), rounds, total, map[bool]int{false: 0, true: 1}[t.Failed()])
}

func runRuntimeFault(t *testing.T, tc runtimeFaultCase) {
	t.Helper()
	check := goroutineBaseline(t)
	defer check()
	ctx := klog.NewContext(context.Background(), klog.Logger{})
	endpoint, image, stop := tc.setup(t)
	defer stop()

	var cri internalapi.ImageManagerService
	cri, err := remote.NewImageService(ctx, endpoint, tc.timeout)
	if err != nil {
		// A runtime that is gone is found when connecting (as
		// kubelet-imagectl does at start-up): the error names the
		// endpoint, and the kubelet never gets to pull.
		if !tc.failsToConnect || !strings.Contains(err.Error(), endpoint) {
			t.Errorf("connecting: %v; want the endpoint named (failsToConnect %v)", err, tc.failsToConnect)
		}
		return
	}
	if tc.breakAfterConnect {
		stop()
	}
	defer func() { _ = cri.Close(ctx) }()
	root := t.TempDir()
	pm, err := pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{
		RootDir:                root,
		ImageLister:            remote.ImageLister{ImageService: cri},
		HousekeepingAttempts:   1,
		HousekeepingRetryDelay: time.Millisecond,
	})
	if err != nil {
		t.Fatalf("the pull manager must start without a runtime: %v", err)
	}
	defer func() { _ = pm.Close() }()
	im, err := images.NewImageManager(images.Options{
		ImageService:             cri,
		PullManager:              pm,
		EnsureSecretPulledImages: true,
		Recorder:                 record.NewFakeRecorder(100),
		GetSecret:                getSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Stop()

	callCtx, cancel := context.WithTimeout(ctx, tc.deadline)
	defer cancel()
	pod, ref := newPod(nsX, image, v1.PullIfNotPresent, true)
	res, err := im.EnsureImageExists(callCtx, ref, pod, &pod.Spec.Containers[0])
	if !errors.Is(err, tc.wantReason) || res.Reason != tc.wantReason.Error() {
		t.Errorf("EnsureImageExists = %+v, %v; want reason %v", res, err, tc.wantReason)
	} else if !strings.Contains(res.Message, tc.wantText) {
		t.Errorf("message %q, want it to contain %q", res.Message, tc.wantText)
	}
	if res.ImageRef != "" {
		t.Errorf("a failed pull admitted %q", res.ImageRef)
	}
	// Nothing was recorded for a pull that did not happen, and no intent
	// is left behind by a pull that failed.
	for _, sub := range []string{"pulled", "pulling"} {
		entries, _ := os.ReadDir(filepath.Join(root, "image_manager", sub))
		if len(entries) != 0 {
			t.Errorf("image_manager/%s after a failed pull: %d files", sub, len(entries))
		}
	}
}
