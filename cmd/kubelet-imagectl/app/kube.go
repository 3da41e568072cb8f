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
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"k8s.io/kubernetes/pkg/util/clientlog"
)

// apiTimeout bounds every request to the API server.
const apiTimeout = 30 * time.Second

// newKubeClient builds a clientset from a kubeconfig file. It is the default
// of Deps.NewKubeClient.
func newKubeClient(kubeconfig string) (kubernetes.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.Timeout = apiTimeout
	cfg.UserAgent = "kubelet-imagectl"
	return kubernetes.NewForConfig(cfg)
}

// podsFromAPIServer reads the named Pods and the pull Secrets they
// reference. Pods are read in the order given. A Pod that does not exist and
// any API error are environment errors. A referenced Secret that does not
// exist is left out: the image manager then warns with
// FailedToRetrieveImagePullSecret, as the kubelet does. Secrets are read
// before any decision, as the kubelet reads them before pulling, so that an
// API failure stops the run instead of changing its decisions.
func podsFromAPIServer(ctx context.Context, client kubernetes.Interface, names []types.NamespacedName) ([]*v1.Pod, map[secretKey]*v1.Secret, error) {
	// client-go would log the Secrets' bodies, data included, at -v=8.
	ctx = clientlog.WithoutBodies(ctx)
	pods := make([]*v1.Pod, 0, len(names))
	secrets := map[secretKey]*v1.Secret{}
	for _, nn := range names {
		reqCtx, cancel := context.WithTimeout(ctx, apiTimeout)
		pod, err := client.CoreV1().Pods(nn.Namespace).Get(reqCtx, nn.Name, metav1.GetOptions{})
		cancel()
		switch {
		case apierrors.IsNotFound(err):
			return nil, nil, environmentErrorf("pod %s not found", nn)
		case err != nil:
			return nil, nil, environmentErrorf("reading pod %s from the API server: %v", nn, err)
		}
		// The API server validated and defaulted the Pod; completing it
		// again only fills what an older server might leave empty.
		if err := completePod(pod); err != nil {
			return nil, nil, environmentErrorf("pod %s from the API server: %v", nn, err)
		}
		pods = append(pods, pod)
		for _, ref := range pod.Spec.ImagePullSecrets {
			key := secretKey{namespace: pod.Namespace, name: ref.Name}
			if _, done := secrets[key]; done {
				continue
			}
			reqCtx, cancel := context.WithTimeout(ctx, apiTimeout)
			secret, err := client.CoreV1().Secrets(key.namespace).Get(reqCtx, key.name, metav1.GetOptions{})
			cancel()
			switch {
			case apierrors.IsNotFound(err):
				// Missing: remembered as absent so that it is read once.
				secrets[key] = nil
			case err != nil:
				return nil, nil, environmentErrorf("reading secret %s (pull secret of pod %s) from the API server: %v", key, nn, err)
			default:
				secrets[key] = secret
			}
		}
	}
	for key, s := range secrets {
		if s == nil {
			delete(secrets, key)
		}
	}
	return pods, secrets, nil
}
