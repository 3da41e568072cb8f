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
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"sync"
	"syscall"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	internalapi "k8s.io/cri-api/pkg/apis"
	"k8s.io/klog/v2"

	"k8s.io/imagepullrecords"
	"k8s.io/kubernetes/pkg/credentialprovider"
	"k8s.io/kubernetes/pkg/kubelet/cri/remote"
	"k8s.io/kubernetes/pkg/kubelet/images"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// sessionOptions configure an ensure session.
type sessionOptions struct {
	cfg         *nodeConfig
	rootDir     string
	nodeKeyring credentialprovider.DockerKeyring
	plugins     images.PluginCredentials
	secrets     map[secretKey]*v1.Secret
	dryRun      bool
}

// ensureSession is one image manager over one runtime connection and one
// root dir: what a kubelet process holds. Pods go through it concurrently.
type ensureSession struct {
	imageService internalapi.ImageManagerService
	pullManager  pullmanager.Manager
	manager      images.ImageManager
	events       *eventCollector
	dryRun       bool
}

// openSession connects to the runtime, checks that it answers, opens the
// pull records (gate on) and starts the image manager. Every failure is an
// environment error. With the gate off no pull manager file is touched: the
// no-op pull manager is used and image_manager/ is not even created.
func openSession(ctx context.Context, deps *Deps, opts sessionOptions) (_ *ensureSession, err error) {
	s := &ensureSession{events: newEventCollector(), dryRun: opts.dryRun}
	defer func() {
		if err != nil {
			s.close(ctx)
		}
	}()
	s.imageService, err = connectRuntime(ctx, deps, opts.cfg.endpoint)
	if err != nil {
		return nil, err
	}

	gateOn := opts.cfg.ensureSecretPulledImages()
	if gateOn && !opts.dryRun {
		if err := checkRecordsWritable(opts.rootDir); err != nil {
			return nil, err
		}
	}
	if gateOn {
		s.pullManager, err = pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{
			RootDir:     opts.rootDir,
			Policy:      opts.cfg.kc.ImagePullCredentialsVerificationPolicy,
			Allowlist:   opts.cfg.kc.PreloadedImagesVerificationAllowlist,
			ImageLister: remote.ImageLister{ImageService: s.imageService},
			MaxPods:     opts.cfg.kc.MaxPods,
			// A dry run takes no lock and writes nothing, so it is safe
			// next to a running kubelet.
			ReadOnly: opts.dryRun,
		})
		if err != nil {
			return nil, rootDirError(opts.rootDir, err)
		}
		if err := s.pullManager.Writable(); err != nil && !opts.dryRun {
			return nil, environmentErrorf("root dir %s: %v", opts.rootDir, err)
		}
	} else {
		s.pullManager = pullmanager.NewNoopPullManager()
	}

	secrets := opts.secrets
	s.manager, err = images.NewImageManager(images.Options{
		ImageService:             s.imageService,
		PullManager:              s.pullManager,
		EnsureSecretPulledImages: gateOn,
		Recorder:                 s.events,
		NodeKeyring:              opts.nodeKeyring,
		PluginCredentials:        opts.plugins,
		GetSecret: func(_ context.Context, namespace, name string) (*v1.Secret, error) {
			if secret, ok := secrets[secretKey{namespace: namespace, name: name}]; ok {
				return secret.DeepCopy(), nil
			}
			return nil, apierrors.NewNotFound(v1.Resource("secrets"), name)
		},
		SerializeImagePulls:   opts.cfg.kc.SerializeImagePulls,
		MaxParallelImagePulls: opts.cfg.kc.MaxParallelImagePulls,
		// A nil Backoff is the kubelet's: 10s doubling up to 300s.
		DryRun: opts.dryRun,
	})
	if err != nil {
		return nil, environmentErrorf("starting the image manager: %v", err)
	}
	return s, nil
}

// connectRuntime connects to the CRI image service and proves that it
// answers with a ListImages call, so that an unreachable runtime is an
// environment error before any decision.
func connectRuntime(ctx context.Context, deps *Deps, endpoint string) (internalapi.ImageManagerService, error) {
	svc, err := deps.NewImageService(ctx, endpoint, runtimeTimeout)
	if err != nil {
		return nil, environmentErrorf("container runtime at %s is unreachable: %v", endpoint, err)
	}
	checkCtx, cancel := context.WithTimeout(ctx, startupCheckTimeout)
	defer cancel()
	if _, err := svc.ListImages(checkCtx, nil); err != nil {
		_ = svc.Close(ctx)
		return nil, environmentErrorf("container runtime at %s is unreachable: %v", endpoint, err)
	}
	return svc, nil
}

// rootDirError turns a failure to open the records into an environment
// error that says what to do about a lock held by another writer.
func rootDirError(rootDir string, err error) error {
	if errors.Is(err, imagepullrecords.ErrLocked) {
		return environmentErrorf("root dir %s: %v (a running kubelet? use --dry-run or records list next to it)", rootDir, err)
	}
	return environmentErrorf("root dir %s: %v", rootDir, err)
}

// checkRecordsWritable refuses, before anything is opened, a records
// directory that cannot be written: the image manager would fail closed on
// every pull, so the tool says so once and exits with ExitEnvironment. The
// nearest existing directory of <root-dir>/image_manager is checked, since
// the manager creates what is missing. access(2) reports a read-only
// filesystem even to root.
func checkRecordsWritable(rootDir string) error {
	dir := filepath.Join(rootDir, imagepullrecords.ManagerDirName)
	for {
		err := syscall.Access(dir, unixWriteOK)
		if errors.Is(err, fs.ErrNotExist) && filepath.Dir(dir) != dir {
			dir = filepath.Dir(dir)
			continue
		}
		if errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
			return environmentErrorf("image pull records directory %s is not writable: %v", dir, err)
		}
		// Anything else is reported by opening the records.
		return nil
	}
}

// unixWriteOK is access(2)'s W_OK.
const unixWriteOK = 0x2

// close stops the image manager, releases the records lock and closes the
// runtime connection.
func (s *ensureSession) close(ctx context.Context) {
	logger := klog.FromContext(ctx)
	if s.manager != nil {
		s.manager.Stop()
	}
	if s.pullManager != nil {
		if err := s.pullManager.Close(); err != nil {
			logger.Error(err, "Failed to release the image pull records")
		}
	}
	if s.imageService != nil {
		if err := s.imageService.Close(ctx); err != nil {
			logger.V(2).Info("Closing the runtime connection failed", "err", err)
		}
	}
}

// ensurePods runs every pod concurrently, as a kubelet's pod workers do,
// and returns their results in the order given. Within a pod, init
// containers then regular containers are processed in spec order, each
// even after an earlier one failed.
func (s *ensureSession) ensurePods(ctx context.Context, pods []*v1.Pod) []podOutput {
	for _, pod := range pods {
		s.events.register(pod)
	}
	containers := make([][]containerOutput, len(pods))
	var wg sync.WaitGroup
	for i, pod := range pods {
		wg.Go(func() {
			containers[i] = s.ensurePod(ctx, pod)
		})
	}
	wg.Wait()

	out := make([]podOutput, len(pods))
	for i, pod := range pods {
		podLevel, containerEvents := s.events.eventsOf(pod)
		for j := range containers[i] {
			containers[i][j].Events = containerEvents(containers[i][j].Name)
		}
		out[i] = podOutput{Pod: podKey(pod), Events: podLevel, Containers: containers[i]}
	}
	return out
}

// ensurePod processes one pod's containers in order.
func (s *ensureSession) ensurePod(ctx context.Context, pod *v1.Pod) []containerOutput {
	logger := klog.LoggerWithValues(klog.FromContext(ctx), "pod", klog.KObj(pod))
	ctx = klog.NewContext(ctx, logger)
	out := make([]containerOutput, 0, len(pod.Spec.InitContainers)+len(pod.Spec.Containers))
	for _, list := range []struct {
		init       bool
		containers []v1.Container
	}{{init: true, containers: pod.Spec.InitContainers}, {init: false, containers: pod.Spec.Containers}} {
		for i := range list.containers {
			container := &list.containers[i]
			ref := &v1.ObjectReference{
				Kind:       "Pod",
				APIVersion: "v1",
				Namespace:  pod.Namespace,
				Name:       pod.Name,
				UID:        pod.UID,
				FieldPath:  containerFieldPath(list.init, container.Name),
			}
			result, err := s.manager.EnsureImageExists(ctx, ref, pod, container)
			out = append(out, containerResult(container, result, err, s.dryRun))
		}
	}
	return out
}
