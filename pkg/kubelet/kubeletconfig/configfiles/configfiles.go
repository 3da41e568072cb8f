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

package configfiles

import (
	"errors"
	"fmt"
	"os"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"sigs.k8s.io/yaml"
)

// Errors wrapped by Load and Decode, for errors.Is.
var (
	// ErrUnsupportedAPIVersion: the file's apiVersion is not
	// kubelet.config.k8s.io/v1beta1 (or is missing).
	ErrUnsupportedAPIVersion = errors.New("unsupported apiVersion")
	// ErrUnsupportedKind: the file's kind is not KubeletConfiguration (or is
	// missing).
	ErrUnsupportedKind = errors.New("unsupported kind")
	// ErrMalformed: the file is not valid YAML or JSON, or a field has the
	// wrong type.
	ErrMalformed = errors.New("malformed configuration")
)

// The only type this package reads.
const (
	APIVersion = "kubelet.config.k8s.io/v1beta1"
	Kind       = "KubeletConfiguration"
)

// strictCodecs and lenientCodecs decode into a scheme holding only the
// published v1beta1 types; they are safe for concurrent use.
var strictCodecs, lenientCodecs = newCodecs()

func newCodecs() (strict, lenient serializer.CodecFactory) {
	scheme := runtime.NewScheme()
	if err := kubeletconfigv1beta1.AddToScheme(scheme); err != nil {
		// Registering published types into a fresh scheme cannot fail
		// unless the types are broken; fail at start-up, loudly.
		panic(fmt.Sprintf("registering %s: %v", APIVersion, err))
	}
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict), serializer.NewCodecFactory(scheme)
}

// Load reads the kubelet configuration file at path. It returns the decoded
// versioned object without defaults, and one warning per unknown or duplicate
// field. Errors name the file.
func Load(path string) (*kubeletconfigv1beta1.KubeletConfiguration, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading kubelet config file %q: %w", path, err)
	}
	kc, warnings, err := Decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("kubelet config file %q: %w", path, err)
	}
	return kc, warnings, nil
}

// Decode decodes a KubeletConfiguration from YAML or JSON, as Load does.
func Decode(data []byte) (*kubeletconfigv1beta1.KubeletConfiguration, []string, error) {
	// Check the type first, so that a file of another kind or version is
	// refused with a message that says so, not with a decoder's complaint.
	var typeMeta metav1.TypeMeta
	if err := yaml.Unmarshal(data, &typeMeta); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if typeMeta.APIVersion != APIVersion {
		return nil, nil, fmt.Errorf("%w %q, want %q", ErrUnsupportedAPIVersion, typeMeta.APIVersion, APIVersion)
	}
	if typeMeta.Kind != Kind {
		return nil, nil, fmt.Errorf("%w %q, want %q", ErrUnsupportedKind, typeMeta.Kind, Kind)
	}

	kc, err := decodeWith(strictCodecs, data)
	if err == nil {
		return kc, nil, nil
	}
	strictErr, isStrict := runtime.AsStrictDecodingError(err)
	if !isStrict {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	// Unknown or duplicate fields only: accept the file as the kubelet does,
	// and report each problem.
	kc, err = decodeWith(lenientCodecs, data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	warnings := make([]string, 0, len(strictErr.Errors()))
	for _, problem := range strictErr.Errors() {
		// The YAML library's messages span lines; a warning is one line.
		warnings = append(warnings, strings.Join(strings.Fields(problem.Error()), " "))
	}
	return kc, warnings, nil
}

// decodeWith decodes data with codecs and checks the result's type.
func decodeWith(codecs serializer.CodecFactory, data []byte) (*kubeletconfigv1beta1.KubeletConfiguration, error) {
	obj, _, err := codecs.UniversalDeserializer().Decode(data, nil, nil)
	if err != nil {
		return nil, err
	}
	kc, ok := obj.(*kubeletconfigv1beta1.KubeletConfiguration)
	if !ok {
		return nil, fmt.Errorf("%w %T, want %s", ErrUnsupportedKind, obj, Kind)
	}
	return kc, nil
}
