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

package v1beta1

import (
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/kubernetes/pkg/kubelet/apis/config"
)

// Convert_v1beta1_ImagePullIntent_To_config_ImagePullIntent converts a
// versioned pull intent to the internal type.
func Convert_v1beta1_ImagePullIntent_To_config_ImagePullIntent(in *kubeletconfigv1beta1.ImagePullIntent, out *config.ImagePullIntent) error {
	out.Image = in.Image
	return nil
}

// Convert_config_ImagePullIntent_To_v1beta1_ImagePullIntent converts an
// internal pull intent to the versioned type, leaving out.TypeMeta as it is.
func Convert_config_ImagePullIntent_To_v1beta1_ImagePullIntent(in *config.ImagePullIntent, out *kubeletconfigv1beta1.ImagePullIntent) error {
	out.Image = in.Image
	return nil
}

// Convert_v1beta1_ImagePulledRecord_To_config_ImagePulledRecord converts a
// versioned pulled record to the internal type.
func Convert_v1beta1_ImagePulledRecord_To_config_ImagePulledRecord(in *kubeletconfigv1beta1.ImagePulledRecord, out *config.ImagePulledRecord) error {
	out.LastUpdatedTime = in.LastUpdatedTime
	out.ImageRef = in.ImageRef
	if in.CredentialMapping == nil {
		out.CredentialMapping = nil
		return nil
	}
	out.CredentialMapping = make(map[string]config.ImagePullCredentials, len(in.CredentialMapping))
	for repo, inCreds := range in.CredentialMapping {
		var outCreds config.ImagePullCredentials
		if err := Convert_v1beta1_ImagePullCredentials_To_config_ImagePullCredentials(&inCreds, &outCreds); err != nil {
			return err
		}
		out.CredentialMapping[repo] = outCreds
	}
	return nil
}

// Convert_config_ImagePulledRecord_To_v1beta1_ImagePulledRecord converts an
// internal pulled record to the versioned type, leaving out.TypeMeta as it
// is.
func Convert_config_ImagePulledRecord_To_v1beta1_ImagePulledRecord(in *config.ImagePulledRecord, out *kubeletconfigv1beta1.ImagePulledRecord) error {
	out.LastUpdatedTime = in.LastUpdatedTime
	out.ImageRef = in.ImageRef
	if in.CredentialMapping == nil {
		out.CredentialMapping = nil
		return nil
	}
	out.CredentialMapping = make(map[string]kubeletconfigv1beta1.ImagePullCredentials, len(in.CredentialMapping))
	for repo, inCreds := range in.CredentialMapping {
		var outCreds kubeletconfigv1beta1.ImagePullCredentials
		if err := Convert_config_ImagePullCredentials_To_v1beta1_ImagePullCredentials(&inCreds, &outCreds); err != nil {
			return err
		}
		out.CredentialMapping[repo] = outCreds
	}
	return nil
}

// Convert_v1beta1_ImagePullCredentials_To_config_ImagePullCredentials converts
// the versioned credentials of one repository name to the internal type.
func Convert_v1beta1_ImagePullCredentials_To_config_ImagePullCredentials(in *kubeletconfigv1beta1.ImagePullCredentials, out *config.ImagePullCredentials) error {
	out.NodePodsAccessible = in.NodePodsAccessible
	out.KubernetesSecrets = nil
	if in.KubernetesSecrets != nil {
		out.KubernetesSecrets = make([]config.ImagePullSecret, len(in.KubernetesSecrets))
		for i := range in.KubernetesSecrets {
			if err := Convert_v1beta1_ImagePullSecret_To_config_ImagePullSecret(&in.KubernetesSecrets[i], &out.KubernetesSecrets[i]); err != nil {
				return err
			}
		}
	}
	out.KubernetesServiceAccounts = nil
	if in.KubernetesServiceAccounts != nil {
		out.KubernetesServiceAccounts = make([]config.ImagePullServiceAccount, len(in.KubernetesServiceAccounts))
		for i := range in.KubernetesServiceAccounts {
			if err := Convert_v1beta1_ImagePullServiceAccount_To_config_ImagePullServiceAccount(&in.KubernetesServiceAccounts[i], &out.KubernetesServiceAccounts[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// Convert_config_ImagePullCredentials_To_v1beta1_ImagePullCredentials converts
// the internal credentials of one repository name to the versioned type.
func Convert_config_ImagePullCredentials_To_v1beta1_ImagePullCredentials(in *config.ImagePullCredentials, out *kubeletconfigv1beta1.ImagePullCredentials) error {
	out.NodePodsAccessible = in.NodePodsAccessible
	out.KubernetesSecrets = nil
	if in.KubernetesSecrets != nil {
		out.KubernetesSecrets = make([]kubeletconfigv1beta1.ImagePullSecret, len(in.KubernetesSecrets))
		for i := range in.KubernetesSecrets {
			if err := Convert_config_ImagePullSecret_To_v1beta1_ImagePullSecret(&in.KubernetesSecrets[i], &out.KubernetesSecrets[i]); err != nil {
				return err
			}
		}
	}
	out.KubernetesServiceAccounts = nil
	if in.KubernetesServiceAccounts != nil {
		out.KubernetesServiceAccounts = make([]kubeletconfigv1beta1.ImagePullServiceAccount, len(in.KubernetesServiceAccounts))
		for i := range in.KubernetesServiceAccounts {
			if err := Convert_config_ImagePullServiceAccount_To_v1beta1_ImagePullServiceAccount(&in.KubernetesServiceAccounts[i], &out.KubernetesServiceAccounts[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// Convert_v1beta1_ImagePullSecret_To_config_ImagePullSecret converts a
// versioned Secret coordinate and hash to the internal type.
func Convert_v1beta1_ImagePullSecret_To_config_ImagePullSecret(in *kubeletconfigv1beta1.ImagePullSecret, out *config.ImagePullSecret) error {
	out.UID = in.UID
	out.Namespace = in.Namespace
	out.Name = in.Name
	out.CredentialHash = in.CredentialHash
	return nil
}

// Convert_config_ImagePullSecret_To_v1beta1_ImagePullSecret converts an
// internal Secret coordinate and hash to the versioned type.
func Convert_config_ImagePullSecret_To_v1beta1_ImagePullSecret(in *config.ImagePullSecret, out *kubeletconfigv1beta1.ImagePullSecret) error {
	out.UID = in.UID
	out.Namespace = in.Namespace
	out.Name = in.Name
	out.CredentialHash = in.CredentialHash
	return nil
}

// Convert_v1beta1_ImagePullServiceAccount_To_config_ImagePullServiceAccount
// converts versioned service account coordinates to the internal type.
func Convert_v1beta1_ImagePullServiceAccount_To_config_ImagePullServiceAccount(in *kubeletconfigv1beta1.ImagePullServiceAccount, out *config.ImagePullServiceAccount) error {
	out.UID = in.UID
	out.Namespace = in.Namespace
	out.Name = in.Name
	return nil
}

// Convert_config_ImagePullServiceAccount_To_v1beta1_ImagePullServiceAccount
// converts internal service account coordinates to the versioned type.
func Convert_config_ImagePullServiceAccount_To_v1beta1_ImagePullServiceAccount(in *config.ImagePullServiceAccount, out *kubeletconfigv1beta1.ImagePullServiceAccount) error {
	out.UID = in.UID
	out.Namespace = in.Namespace
	out.Name = in.Name
	return nil
}

// Convert_v1beta1_KubeletConfiguration_To_config_KubeletConfiguration copies
// the fields this tree reads from a versioned KubeletConfiguration into the
// internal subset. Call it after SetDefaults_KubeletConfiguration: a nil
// serializeImagePulls converts to false, as a generated conversion of
// *bool to bool does.
func Convert_v1beta1_KubeletConfiguration_To_config_KubeletConfiguration(in *kubeletconfigv1beta1.KubeletConfiguration, out *config.KubeletConfiguration) error {
	out.FeatureGates = copyMap(in.FeatureGates)
	out.ImagePullCredentialsVerificationPolicy = config.ImagePullCredentialsVerificationPolicy(in.ImagePullCredentialsVerificationPolicy)
	out.PreloadedImagesVerificationAllowlist = copySlice(in.PreloadedImagesVerificationAllowlist)
	out.SerializeImagePulls = in.SerializeImagePulls != nil && *in.SerializeImagePulls
	out.MaxParallelImagePulls = copyPointer(in.MaxParallelImagePulls)
	out.ContainerRuntimeEndpoint = in.ContainerRuntimeEndpoint
	out.ImageServiceEndpoint = in.ImageServiceEndpoint
	out.MaxPods = in.MaxPods
	return nil
}

// Convert_config_KubeletConfiguration_To_v1beta1_KubeletConfiguration copies
// the internal subset into a versioned KubeletConfiguration. Only the fields
// of the subset are written; every other field of out keeps its value, so a
// caller can write the subset back over the object it was read from.
func Convert_config_KubeletConfiguration_To_v1beta1_KubeletConfiguration(in *config.KubeletConfiguration, out *kubeletconfigv1beta1.KubeletConfiguration) error {
	out.FeatureGates = copyMap(in.FeatureGates)
	out.ImagePullCredentialsVerificationPolicy = kubeletconfigv1beta1.ImagePullCredentialsVerificationPolicy(in.ImagePullCredentialsVerificationPolicy)
	out.PreloadedImagesVerificationAllowlist = copySlice(in.PreloadedImagesVerificationAllowlist)
	serialize := in.SerializeImagePulls
	out.SerializeImagePulls = &serialize
	out.MaxParallelImagePulls = copyPointer(in.MaxParallelImagePulls)
	out.ContainerRuntimeEndpoint = in.ContainerRuntimeEndpoint
	out.ImageServiceEndpoint = in.ImageServiceEndpoint
	out.MaxPods = in.MaxPods
	return nil
}

// copyMap returns a copy of m, nil when m is nil and empty when m is empty.
func copyMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return nil
	}
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// copySlice returns a copy of s, nil when s is nil and empty when s is empty.
func copySlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// copyPointer returns a pointer to a copy of *p, or nil.
func copyPointer[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
