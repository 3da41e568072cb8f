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

// Command records-compat reads and writes image pull records with the code
// of the released kubelet 1.34 (see package compatcli for the protocol):
// pkg/kubelet/images/pullmanager's NewFSPullRecordsAccessor, which decodes
// strictly into the internal types through a scheme of the internal and
// v1alpha1 kubelet config types only, and writes v1alpha1.
package main

import (
	"bytes"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	kubeletv1alpha1 "k8s.io/kubelet/config/v1alpha1"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	kubeletconfigv1alpha1 "k8s.io/kubernetes/pkg/kubelet/apis/config/v1alpha1"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"

	"k8s.io/kubernetes/hack/tools/records-compat/compatcli"
)

func main() { compatcli.Main(release{}) }

type release struct{}

var writeVersion = kubeletv1alpha1.SchemeGroupVersion

func (release) WriteVersion() string { return writeVersion.String() }

// codec is the codec the release's accessor makes for itself
// (createKubeletConfigSchemeEncoderDecoder, unexported): the same scheme,
// strict, encoding in the version it writes.
func codec() (runtime.Encoder, runtime.Decoder, error) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{kubeletconfigv1alpha1.AddToScheme, kubeletconfig.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, nil, err
		}
	}
	codecs := serializer.NewCodecFactory(scheme, serializer.EnableStrict)
	info, ok := runtime.SerializerInfoForMediaType(codecs.SupportedMediaTypes(), runtime.ContentTypeJSON)
	if !ok {
		return nil, nil, errors.New("no JSON serializer")
	}
	return codecs.EncoderForVersion(info.Serializer, writeVersion), codecs.UniversalDecoder(), nil
}

func encode(enc runtime.Encoder, obj runtime.Object) ([]byte, error) {
	var buf bytes.Buffer
	if err := enc.Encode(obj, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (release) Read(rootDir string) (*compatcli.Objects, error) {
	accessor, err := pullmanager.NewFSPullRecordsAccessor(rootDir)
	if err != nil {
		return nil, err
	}
	enc, _, err := codec()
	if err != nil {
		return nil, err
	}
	intents, intentsErr := accessor.ListImagePullIntents()
	records, recordsErr := accessor.ListImagePulledRecords()
	if err := errors.Join(intentsErr, recordsErr); err != nil {
		return nil, err
	}
	out := &compatcli.Objects{}
	for _, intent := range intents {
		exists, err := accessor.ImagePullIntentExists(intent.Image)
		if err != nil || !exists {
			return nil, fmt.Errorf("intent for %q listed but not found by ImagePullIntentExists (exists %v): %v", intent.Image, exists, err)
		}
		data, err := encode(enc, intent)
		if err != nil {
			return nil, err
		}
		out.Intents = append(out.Intents, compatcli.Object{Key: intent.Image, Data: data})
	}
	for _, record := range records {
		got, exists, err := accessor.GetImagePulledRecord(record.ImageRef)
		if err != nil || !exists || got == nil {
			return nil, fmt.Errorf("record for %q listed but not found by GetImagePulledRecord (exists %v): %v", record.ImageRef, exists, err)
		}
		data, err := encode(enc, got)
		if err != nil {
			return nil, err
		}
		out.Records = append(out.Records, compatcli.Object{Key: record.ImageRef, Data: data})
	}
	return out, nil
}

func (release) Write(rootDir string, docs [][]byte) error {
	accessor, err := pullmanager.NewFSPullRecordsAccessor(rootDir)
	if err != nil {
		return err
	}
	_, dec, err := codec()
	if err != nil {
		return err
	}
	for i, doc := range docs {
		obj, _, err := dec.Decode(doc, nil, nil)
		if err != nil {
			return fmt.Errorf("document %d: %w", i+1, err)
		}
		switch o := obj.(type) {
		case *kubeletconfig.ImagePullIntent:
			err = accessor.WriteImagePullIntent(o.Image)
		case *kubeletconfig.ImagePulledRecord:
			err = accessor.WriteImagePulledRecord(o)
		default:
			err = fmt.Errorf("a %T, want an ImagePullIntent or an ImagePulledRecord", obj)
		}
		if err != nil {
			return fmt.Errorf("document %d: %w", i+1, err)
		}
	}
	return nil
}
