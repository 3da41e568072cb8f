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
	"path/filepath"

	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
)

// WriteRecordVersion durably writes record in apiVersion (one of
// WritableAPIVersions), replacing any file of its name, as WriteRecord
// does in v1beta1. A repair that rewrites one record keeps the version the
// file had, so that it does not undo a downgrade for a kubelet that reads
// only v1alpha1.
func (s *Store) WriteRecordVersion(record *kubeletv1beta1.ImagePulledRecord, apiVersion string) error {
	if s.readOnly {
		return ErrReadOnly
	}
	data, err := EncodeRecordVersion(record, apiVersion)
	if err != nil {
		return err
	}
	return writeFileAtomic(s.fs, filepath.Join(s.recordsDir, FileName(record.ImageRef)), data)
}
