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

package config

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ImagePullIntent is the internal form of a record of the kubelet attempting
// to pull an image. On disk it is stored as the published
// kubelet.config.k8s.io ImagePullIntent.
type ImagePullIntent struct {
	// Image is the image string exactly as a container's `image` field wrote it.
	Image string
}

// ImagePulledRecord is the internal form of a record of an image the kubelet
// pulled, with the credentials that succeeded, per repository name.
type ImagePulledRecord struct {
	// LastUpdatedTime is refreshed on every successful pull of the image.
	LastUpdatedTime metav1.Time
	// ImageRef is the runtime's image ID (for containerd, the config digest).
	ImageRef string
	// CredentialMapping maps repo(image) to the credentials that pulled the
	// image under that name. An empty value grants nothing and only says the
	// kubelet pulled the image under that name.
	CredentialMapping map[string]ImagePullCredentials
}

// ImagePullCredentials describe the credentials that pulled an image under
// one repository name.
type ImagePullCredentials struct {
	// KubernetesSecrets are the Secrets whose credentials pulled the image,
	// sorted by namespace, name, uid.
	KubernetesSecrets []ImagePullSecret
	// KubernetesServiceAccounts are the service accounts whose tokens a
	// credential provider plugin used, sorted by namespace, name, uid.
	KubernetesServiceAccounts []ImagePullServiceAccount
	// NodePodsAccessible means any pod on the node may use the image under
	// this name. It excludes the two lists above.
	NodePodsAccessible bool
}

// ImagePullSecret holds a Secret's coordinates and the hash of the credential
// it provided.
type ImagePullSecret struct {
	UID       string
	Namespace string
	Name      string
	// CredentialHash is the lowercase hex SHA-256 of the credential.
	CredentialHash string
}

// ImagePullServiceAccount holds the coordinates of a service account.
type ImagePullServiceAccount struct {
	UID       string
	Namespace string
	Name      string
}

// ImagePullCredentialsVerificationPolicy says which present images a pod may
// use without proving it can pull them.
type ImagePullCredentialsVerificationPolicy string

// The four verification policies.
const (
	NeverVerify                  ImagePullCredentialsVerificationPolicy = "NeverVerify"
	NeverVerifyPreloadedImages   ImagePullCredentialsVerificationPolicy = "NeverVerifyPreloadedImages"
	NeverVerifyAllowlistedImages ImagePullCredentialsVerificationPolicy = "NeverVerifyAllowlistedImages"
	AlwaysVerify                 ImagePullCredentialsVerificationPolicy = "AlwaysVerify"
)
