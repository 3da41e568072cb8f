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

package pullmanager

import (
	"errors"
	"fmt"
	"os"

	"k8s.io/imagepullrecords"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	kubeletconfigv1beta1 "k8s.io/kubernetes/pkg/kubelet/apis/config/v1beta1"
)

// ErrRecordPoisoned is wrapped by errors for a record file that exists but
// cannot be read or decoded, or whose name does not hash from its content.
// Such a record never grants anything and is never treated as absent.
var ErrRecordPoisoned = errors.New("image pulled record is broken")

// fsRecords is the file store: the durable source of truth, one file per
// intent and per record, read and written through k8s.io/imagepullrecords.
type fsRecords struct {
	store *imagepullrecords.Store
	// loose collects, during walks, the files whose mode is looser than
	// imagepullrecords.FileMode, for a writer to tighten.
	loose []string
}

var _ RecordsStore = &fsRecords{}

// NewFileRecordsStore returns the file store over an opened records store.
func NewFileRecordsStore(store *imagepullrecords.Store) RecordsStore {
	return &fsRecords{store: store}
}

func (f *fsRecords) ListImagePullIntents() ([]*kubeletconfig.ImagePullIntent, []*imagepullrecords.FileError, error) {
	var intents []*kubeletconfig.ImagePullIntent
	bad, err := f.walkIntents(func(intent *kubeletconfig.ImagePullIntent, _ bool) {
		intents = append(intents, intent)
	})
	if err != nil {
		return nil, nil, err
	}
	return intents, bad, nil
}

// walkIntents calls fn for every intent file that decodes, with whether it
// is of the current version, and returns the files that do not.
func (f *fsRecords) walkIntents(fn func(intent *kubeletconfig.ImagePullIntent, current bool)) ([]*imagepullrecords.FileError, error) {
	var convErrs []*imagepullrecords.FileError
	bad, err := f.store.WalkIntents(func(file imagepullrecords.IntentFile) {
		out := &kubeletconfig.ImagePullIntent{}
		f.handOn(file.File, file.Hash, file.Mode, &convErrs, func() error {
			return kubeletconfigv1beta1.Convert_v1beta1_ImagePullIntent_To_config_ImagePullIntent(file.Intent, out)
		}, func() { fn(out, file.Current) })
	})
	return f.brokenFiles(bad, convErrs, err)
}

// handOn notes a decoded file's loose mode, converts it with convert, and
// hands it to emit, or records the conversion failure as a broken file.
func (f *fsRecords) handOn(file, hash string, mode os.FileMode, convErrs *[]*imagepullrecords.FileError, convert func() error, emit func()) {
	if imagepullrecords.LooseMode(mode) {
		f.loose = append(f.loose, file)
	}
	if err := convert(); err != nil {
		*convErrs = append(*convErrs, &imagepullrecords.FileError{File: file, Hash: hash, Err: err})
		return
	}
	emit()
}

// brokenFiles ends a walk: it notes the loose modes of the files that
// failed a check and returns them with the conversion failures.
func (f *fsRecords) brokenFiles(bad []imagepullrecords.FileError, convErrs []*imagepullrecords.FileError, err error) ([]*imagepullrecords.FileError, error) {
	if err != nil {
		return nil, err
	}
	for _, b := range bad {
		if imagepullrecords.LooseMode(b.Mode) {
			f.loose = append(f.loose, b.File)
		}
	}
	return append(fileErrorPointers(bad), convErrs...), nil
}

func (f *fsRecords) ImagePullIntentExists(image string) (bool, error) {
	intents, bad, err := f.ListImagePullIntents()
	if err != nil {
		return false, err
	}
	for _, i := range intents {
		if i.Image == image {
			return true, nil
		}
	}
	hash := imagepullrecords.KeyHash(image)
	for _, b := range bad {
		if b.Hash == hash {
			return true, nil
		}
	}
	return false, nil
}

func (f *fsRecords) WriteImagePullIntent(image string) error {
	return f.store.WriteIntent(&kubeletv1beta1.ImagePullIntent{Image: image})
}

func (f *fsRecords) DeleteImagePullIntent(image string) error {
	return f.store.DeleteIntent(image)
}

func (f *fsRecords) ListImagePulledRecords() ([]*kubeletconfig.ImagePulledRecord, []*imagepullrecords.FileError, error) {
	var records []*kubeletconfig.ImagePulledRecord
	bad, err := f.walkRecords(func(record *kubeletconfig.ImagePulledRecord, _ bool) {
		records = append(records, record)
	})
	if err != nil {
		return nil, nil, err
	}
	return records, bad, nil
}

// walkRecords calls fn for every record file that decodes, with whether it
// is of the current version, and returns the files that do not.
func (f *fsRecords) walkRecords(fn func(record *kubeletconfig.ImagePulledRecord, current bool)) ([]*imagepullrecords.FileError, error) {
	var convErrs []*imagepullrecords.FileError
	bad, err := f.store.WalkRecords(func(file imagepullrecords.RecordFile) {
		out := &kubeletconfig.ImagePulledRecord{}
		f.handOn(file.File, file.Hash, file.Mode, &convErrs, func() error {
			return kubeletconfigv1beta1.Convert_v1beta1_ImagePulledRecord_To_config_ImagePulledRecord(file.Record, out)
		}, func() { fn(out, file.Current) })
	})
	return f.brokenFiles(bad, convErrs, err)
}

func (f *fsRecords) GetImagePulledRecord(imageRef string) (*kubeletconfig.ImagePulledRecord, error) {
	rec, err := f.store.ReadRecord(imageRef)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRecordPoisoned, err)
	}
	if rec == nil {
		return nil, nil
	}
	out := &kubeletconfig.ImagePulledRecord{}
	if err := kubeletconfigv1beta1.Convert_v1beta1_ImagePulledRecord_To_config_ImagePulledRecord(rec, out); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRecordPoisoned, err)
	}
	return out, nil
}

func (f *fsRecords) WriteImagePulledRecord(record *kubeletconfig.ImagePulledRecord) error {
	out := &kubeletv1beta1.ImagePulledRecord{}
	if err := kubeletconfigv1beta1.Convert_config_ImagePulledRecord_To_v1beta1_ImagePulledRecord(record, out); err != nil {
		return err
	}
	return f.store.WriteRecord(out)
}

func (f *fsRecords) DeleteImagePulledRecord(imageRef string) error {
	return f.store.DeleteRecord(imageRef)
}

func fileErrorPointers(in []imagepullrecords.FileError) []*imagepullrecords.FileError {
	out := make([]*imagepullrecords.FileError, 0, len(in))
	for i := range in {
		out = append(out, &in[i])
	}
	return out
}
