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

package plugin

import (
	"context"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"k8s.io/kubernetes/pkg/credentialprovider"
)

// PodInfo is the pod whose image is pulled.
type PodInfo struct {
	Namespace string
	Name      string
	UID       types.UID
	// ServiceAccountName is the pod's spec.serviceAccountName; empty when
	// the pod has none (a static pod, for example).
	ServiceAccountName string
}

// ServiceAccountSource is how the kubelet gets a pod's service account and
// a token for it: the API server in production (NewAPIServiceAccountSource).
type ServiceAccountSource interface {
	// ServiceAccount returns the ServiceAccount (its UID and annotations).
	// NotFound must be reported as an error satisfying apierrors.IsNotFound.
	ServiceAccount(ctx context.Context, namespace, name string) (*v1.ServiceAccount, error)
	// Token returns a service account token for audience, bound to pod (a
	// TokenRequest with BoundObjectRef{Kind: "Pod", APIVersion: "v1", Name,
	// UID}).
	Token(ctx context.Context, namespace, serviceAccount, audience string, pod PodInfo) (string, error)
}

// Lookuper finds plugin credentials for an image pulled for a pod. It is
// what the image manager needs of *Providers, so that its tests can fake it.
type Lookuper interface {
	// Lookup returns the credentials of every provider that matches image,
	// in config order, or a *PluginError when a provider fails.
	Lookup(ctx context.Context, image string, pod PodInfo, sas ServiceAccountSource) ([]credentialprovider.TrackedAuthConfig, error)
}

var (
	_ Lookuper             = &Providers{}
	_ ServiceAccountSource = &apiServiceAccountSource{}
)
