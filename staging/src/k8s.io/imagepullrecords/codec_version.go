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

package imagepullrecords

import (
	"errors"
	"fmt"

	kubeletv1alpha1 "k8s.io/kubelet/config/v1alpha1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
)

// ErrUnsupportedVersion is returned when asked to encode in an apiVersion
// this package cannot write.
var ErrUnsupportedVersion = errors.New("unsupported apiVersion for writing")

// WritableAPIVersions are the versions EncodeIntentVersion and
// EncodeRecordVersion can write: v1beta1, which this tree and kubelets 1.35
// and later write, and v1alpha1, the only version kubelets 1.33 and 1.34 read.
func WritableAPIVersions() []string {
	return []string{APIVersionV1beta1, APIVersionV1alpha1}
}

func checkWritableVersion(apiVersion string) error {
	for _, v := range WritableAPIVersions() {
		if v == apiVersion {
			return nil
		}
	}
	return fmt.Errorf("%w: %q (want one of %q)", ErrUnsupportedVersion, apiVersion, WritableAPIVersions())
}

// EncodeIntentVersion returns the canonical encoding of intent in
// apiVersion: the same compact JSON as EncodeIntent, made from the published
// types of that version. The v1beta1 encoding is EncodeIntent's.
func EncodeIntentVersion(intent *kubeletv1beta1.ImagePullIntent, apiVersion string) ([]byte, error) {
	if err := checkWritableVersion(apiVersion); err != nil {
		return nil, err
	}
	// EncodeIntent checks what every version needs (a key, valid UTF-8),
	// so both versions refuse the same objects.
	data, err := EncodeIntent(intent)
	if err != nil || apiVersion == APIVersionV1beta1 {
		return data, err
	}
	out := &kubeletv1alpha1.ImagePullIntent{Image: intent.Image}
	out.Kind, out.APIVersion = KindImagePullIntent, APIVersionV1alpha1
	return encode(out)
}

// EncodeRecordVersion returns the canonical encoding of record in
// apiVersion: the same compact JSON as EncodeRecord (fields in the
// declaration order of that version's published type, map keys sorted, one
// trailing newline). The v1beta1 encoding is EncodeRecord's.
func EncodeRecordVersion(record *kubeletv1beta1.ImagePulledRecord, apiVersion string) ([]byte, error) {
	if err := checkWritableVersion(apiVersion); err != nil {
		return nil, err
	}
	data, err := EncodeRecord(record)
	if err != nil || apiVersion == APIVersionV1beta1 {
		return data, err
	}
	return encode(recordToV1alpha1(record))
}

// recordToV1alpha1 copies a record into the published v1alpha1 type, field
// by field. TestVersionsShareOneWireForm keeps the two types alike, and a
// rewrite decodes what it encoded and compares, so a field added to one
// version and not copied here cannot be dropped silently.
func recordToV1alpha1(in *kubeletv1beta1.ImagePulledRecord) *kubeletv1alpha1.ImagePulledRecord {
	out := &kubeletv1alpha1.ImagePulledRecord{
		LastUpdatedTime: in.LastUpdatedTime,
		ImageRef:        in.ImageRef,
	}
	out.Kind, out.APIVersion = KindImagePulledRecord, APIVersionV1alpha1
	if in.CredentialMapping != nil {
		out.CredentialMapping = make(map[string]kubeletv1alpha1.ImagePullCredentials, len(in.CredentialMapping))
	}
	for repo, c := range in.CredentialMapping {
		oc := kubeletv1alpha1.ImagePullCredentials{NodePodsAccessible: c.NodePodsAccessible}
		for _, s := range c.KubernetesSecrets {
			oc.KubernetesSecrets = append(oc.KubernetesSecrets, kubeletv1alpha1.ImagePullSecret{
				UID:            s.UID,
				Namespace:      s.Namespace,
				Name:           s.Name,
				CredentialHash: s.CredentialHash,
			})
		}
		for _, sa := range c.KubernetesServiceAccounts {
			oc.KubernetesServiceAccounts = append(oc.KubernetesServiceAccounts, kubeletv1alpha1.ImagePullServiceAccount{
				UID:       sa.UID,
				Namespace: sa.Namespace,
				Name:      sa.Name,
			})
		}
		out.CredentialMapping[repo] = oc
	}
	return out
}
