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
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"k8s.io/kubernetes/pkg/util/parsers"
)

// maxInputFileSize bounds the Pod and Secret files read, so that a wrong
// path (a disk image, /dev/zero) fails fast instead of filling memory.
const maxInputFileSize = 16 << 20

// strictDecoder decodes the core/v1 types strictly: an unknown or duplicate
// field is an error naming its path, because a typo in a manifest (say
// "imagePullSecret") would otherwise silently change what is checked.
var strictDecoder = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// quote quotes a file name or value for messages.
func quote(s string) string { return strconv.Quote(s) }

// readInputFile reads a Pod or Secret file with a size limit.
func readInputFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, maxInputFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxInputFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxInputFileSize)
	}
	return data, nil
}

// splitDocuments splits a file into its documents: a stream of JSON values
// when the file starts with "{" or "[", else YAML documents separated by
// "---". Empty documents (only comments or whitespace) are dropped.
func splitDocuments(data []byte) ([][]byte, error) {
	trimmed := bytes.TrimSpace(data)
	var docs [][]byte
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		for {
			var raw json.RawMessage
			err := dec.Decode(&raw)
			if errors.Is(err, io.EOF) {
				return docs, nil
			}
			if err != nil {
				return nil, fmt.Errorf("document %d: %w", len(docs)+1, err)
			}
			docs = append(docs, raw)
		}
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(docs)+1, err)
		}
		asJSON, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(docs)+1, err)
		}
		if t := bytes.TrimSpace(asJSON); len(t) == 0 || string(t) == "null" {
			continue
		}
		docs = append(docs, doc)
	}
}

// decodeObject decodes one document strictly. The type is checked first so
// that a document without apiVersion or kind is refused with a message
// that names the fields: the deserializer's own message would quote the
// whole document, which for a Secret is its credentials.
func decodeObject(doc []byte) (runtime.Object, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return nil, err
	}
	var errs field.ErrorList
	if tm.APIVersion == "" {
		errs = append(errs, field.Required(field.NewPath("apiVersion"), ""))
	}
	if tm.Kind == "" {
		errs = append(errs, field.Required(field.NewPath("kind"), ""))
	}
	if len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	if tm.APIVersion != "v1" {
		return nil, field.NotSupported(field.NewPath("apiVersion"), tm.APIVersion, []string{"v1"})
	}
	if err := checkSecretData(tm.Kind, doc); err != nil {
		return nil, err
	}
	obj, _, err := strictDecoder.Decode(doc, nil, nil)
	if err != nil {
		return nil, err
	}
	return obj, nil
}

// checkSecretData checks that every data value of a Secret (or of the
// items of a SecretList) is valid base64, and names the key when one is
// not: the decoder's own message names neither the field nor the key.
// Values are never quoted, as they are credentials.
func checkSecretData(kind string, doc []byte) error {
	type secretData struct {
		Data map[string]any `json:"data"`
	}
	check := func(path *field.Path, data map[string]any) error {
		for _, key := range slices.Sorted(maps.Keys(data)) {
			value, ok := data[key].(string)
			if !ok {
				return fmt.Errorf("%s: must be a base64 string", path.Key(key))
			}
			if _, err := base64.StdEncoding.DecodeString(value); err != nil {
				return fmt.Errorf("%s: not valid base64", path.Key(key))
			}
		}
		return nil
	}
	switch kind {
	case "Secret":
		var s secretData
		if err := yaml.Unmarshal(doc, &s); err != nil {
			return err
		}
		return check(field.NewPath("data"), s.Data)
	case "SecretList":
		var list struct {
			Items []secretData `json:"items"`
		}
		if err := yaml.Unmarshal(doc, &list); err != nil {
			return err
		}
		for i, item := range list.Items {
			if err := check(field.NewPath("items").Index(i).Child("data"), item.Data); err != nil {
				return err
			}
		}
	}
	return nil
}

// podFromFile reads one Pod from a YAML or JSON file.
func podFromFile(path string) (*v1.Pod, error) {
	fail := func(err error) error { return usageErrorf("pod file %s: %v", quote(path), err) }
	data, err := readInputFile(path)
	if err != nil {
		return nil, fail(err)
	}
	docs, err := splitDocuments(data)
	if err != nil {
		return nil, fail(err)
	}
	if len(docs) != 1 {
		return nil, fail(fmt.Errorf("holds %d documents, want exactly one Pod", len(docs)))
	}
	obj, err := decodeObject(docs[0])
	if err != nil {
		return nil, fail(err)
	}
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return nil, fail(field.NotSupported(field.NewPath("kind"), kindOf(obj), []string{"Pod"}))
	}
	if err := completePod(pod); err != nil {
		return nil, fail(err)
	}
	return pod, nil
}

// kindOf names an object's kind for messages.
func kindOf(obj runtime.Object) string {
	if k := obj.GetObjectKind().GroupVersionKind().Kind; k != "" {
		return k
	}
	return fmt.Sprintf("%T", obj)
}

// completePod checks what ensure needs from a Pod and fills what the API
// server would: the namespace ("default"), a UID, and each container's
// imagePullPolicy.
func completePod(pod *v1.Pod) error {
	var errs field.ErrorList
	meta := field.NewPath("metadata")
	if pod.Name == "" {
		errs = append(errs, field.Required(meta.Child("name"), ""))
	}
	if pod.Namespace == "" {
		pod.Namespace = metav1.NamespaceDefault
	}
	if pod.UID == "" {
		// The image manager keys back-off by pod UID; a file need not have
		// one, so give it one as the API server would.
		pod.UID = uuid.NewUUID()
	}
	spec := field.NewPath("spec")
	if len(pod.Spec.Containers) == 0 {
		errs = append(errs, field.Required(spec.Child("containers"), "a Pod needs at least one container"))
	}
	names := map[string]bool{}
	check := func(list []v1.Container, path *field.Path) {
		for i := range list {
			c := &list[i]
			p := path.Index(i)
			switch {
			case c.Name == "":
				errs = append(errs, field.Required(p.Child("name"), ""))
			case names[c.Name]:
				errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
			default:
				names[c.Name] = true
			}
			if strings.TrimSpace(c.Image) == "" {
				errs = append(errs, field.Required(p.Child("image"), ""))
			}
			switch c.ImagePullPolicy {
			case "":
				c.ImagePullPolicy = defaultPullPolicy(c.Image)
			case v1.PullAlways, v1.PullIfNotPresent, v1.PullNever:
			default:
				errs = append(errs, field.NotSupported(p.Child("imagePullPolicy"), c.ImagePullPolicy,
					[]v1.PullPolicy{v1.PullAlways, v1.PullIfNotPresent, v1.PullNever}))
			}
		}
	}
	check(pod.Spec.InitContainers, spec.Child("initContainers"))
	check(pod.Spec.Containers, spec.Child("containers"))
	for i, ref := range pod.Spec.ImagePullSecrets {
		if ref.Name == "" {
			errs = append(errs, field.Required(spec.Child("imagePullSecrets").Index(i).Child("name"), ""))
		}
	}
	return errs.ToAggregate()
}

// defaultPullPolicy defaults imagePullPolicy as the API server does: Always
// for the "latest" tag, which an image without tag or digest has, else
// IfNotPresent (an image with only a digest included). An image that does
// not parse gets IfNotPresent, as there: the image manager reports it as
// InvalidImageName.
func defaultPullPolicy(image string) v1.PullPolicy {
	_, tag, _, err := parsers.ParseImageName(image)
	if err == nil && tag == parsers.DefaultImageTag {
		return v1.PullAlways
	}
	return v1.PullIfNotPresent
}

// secretKey identifies a Secret in the inputs.
type secretKey struct {
	namespace, name string
}

func (k secretKey) String() string { return k.namespace + "/" + k.name }

// secretSource is where a Secret came from, for duplicate messages.
type secretSource struct {
	secret *v1.Secret
	file   string
}

// secretsFromFiles reads every Secret of the files. A file may hold several
// documents and Lists (kind List or SecretList) of Secrets. Every Secret
// needs metadata.name and metadata.uid (pull records identify a Secret by
// its UID); its namespace defaults to "default". A Secret given twice is an
// error.
func secretsFromFiles(paths []string) (map[secretKey]*v1.Secret, error) {
	seen := map[secretKey]secretSource{}
	for _, path := range paths {
		secrets, err := secretsFromFile(path)
		if err != nil {
			return nil, err
		}
		for _, s := range secrets {
			key := secretKey{namespace: s.Namespace, name: s.Name}
			if prev, ok := seen[key]; ok {
				return nil, usageErrorf("secret file %s: Secret %s is also given in %s", quote(path), key, quote(prev.file))
			}
			seen[key] = secretSource{secret: s, file: path}
		}
	}
	out := make(map[secretKey]*v1.Secret, len(seen))
	for k, src := range seen {
		out[k] = src.secret
	}
	return out, nil
}

// secretsFromFile reads the Secrets of one file.
func secretsFromFile(path string) ([]*v1.Secret, error) {
	fail := func(err error) error { return usageErrorf("secret file %s: %v", quote(path), err) }
	data, err := readInputFile(path)
	if err != nil {
		return nil, fail(err)
	}
	docs, err := splitDocuments(data)
	if err != nil {
		return nil, fail(err)
	}
	var out []*v1.Secret
	for i, doc := range docs {
		where := ""
		if len(docs) > 1 {
			where = fmt.Sprintf("document %d: ", i+1)
		}
		obj, err := decodeObject(doc)
		if err != nil {
			return nil, fail(fmt.Errorf("%s%w", where, err))
		}
		secrets, err := secretsOf(obj)
		if err != nil {
			return nil, fail(fmt.Errorf("%s%w", where, err))
		}
		out = append(out, secrets...)
	}
	if len(out) == 0 {
		return nil, fail(errors.New("holds no Secret"))
	}
	return out, nil
}

// secretsOf returns the Secrets of a decoded document: a Secret, a
// SecretList, or a List whose items are all Secrets.
func secretsOf(obj runtime.Object) ([]*v1.Secret, error) {
	switch o := obj.(type) {
	case *v1.Secret:
		if err := completeSecret(o, nil); err != nil {
			return nil, err
		}
		return []*v1.Secret{o}, nil
	case *v1.SecretList:
		out := make([]*v1.Secret, 0, len(o.Items))
		for i := range o.Items {
			s := &o.Items[i]
			if err := completeSecret(s, field.NewPath("items").Index(i)); err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	case *v1.List:
		out := make([]*v1.Secret, 0, len(o.Items))
		for i, raw := range o.Items {
			path := field.NewPath("items").Index(i)
			item, err := decodeObject(raw.Raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			s, ok := item.(*v1.Secret)
			if !ok {
				return nil, field.NotSupported(path.Child("kind"), kindOf(item), []string{"Secret"})
			}
			if err := completeSecret(s, path); err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, field.NotSupported(field.NewPath("kind"), kindOf(obj), []string{"Secret", "SecretList", "List"})
	}
}

// completeSecret checks a Secret's identity and defaults its namespace.
func completeSecret(s *v1.Secret, path *field.Path) error {
	meta := path.Child("metadata")
	if path == nil {
		meta = field.NewPath("metadata")
	}
	if s.Name == "" {
		return field.Required(meta.Child("name"), "")
	}
	if s.Namespace == "" {
		s.Namespace = metav1.NamespaceDefault
	}
	if s.UID == "" {
		return fmt.Errorf("Secret %s/%s: %w", s.Namespace, s.Name,
			field.Required(meta.Child("uid"), "pull records identify a Secret by its UID; copy it from the API server"))
	}
	return nil
}

// podKey is the NS/NAME of a pod, as the output names it.
func podKey(pod *v1.Pod) string { return pod.Namespace + "/" + pod.Name }

// parsePodName parses --pod-name NS/NAME.
func parsePodName(value string) (types.NamespacedName, error) {
	ns, name, ok := strings.Cut(value, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return types.NamespacedName{}, usageErrorf("--pod-name %s: want NAMESPACE/NAME", quote(value))
	}
	return types.NamespacedName{Namespace: ns, Name: name}, nil
}
