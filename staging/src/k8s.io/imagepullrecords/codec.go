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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletv1alpha1 "k8s.io/kubelet/config/v1alpha1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	sigsjson "sigs.k8s.io/json"
)

// Kinds of the two record objects.
const (
	KindImagePullIntent   = "ImagePullIntent"
	KindImagePulledRecord = "ImagePulledRecord"
)

var (
	// APIVersionV1alpha1 is the first published version; read and migrated.
	APIVersionV1alpha1 = kubeletv1alpha1.SchemeGroupVersion.String()
	// APIVersionV1beta1 is the version this package writes.
	APIVersionV1beta1 = kubeletv1beta1.SchemeGroupVersion.String()
)

// ErrDecode is wrapped by every decoding error.
var ErrDecode = errors.New("invalid image pull record")

// decodeStrict decodes data into out (a v1beta1 object whose embedded
// TypeMeta receives kind and apiVersion) in one pass, then checks, in this
// order: syntax, kind, apiVersion, and the strict rules (unknown, duplicate
// or wrongly cased fields). The published v1alpha1 and v1beta1 types have
// the same fields (a test keeps it so), so one strict decode into v1beta1
// checks either version exactly. It returns whether the file is of the
// current version.
func decodeStrict(data []byte, out any, typeMeta *metav1.TypeMeta, wantKind string) (bool, error) {
	// encoding/json silently replaces invalid UTF-8 with U+FFFD: the decoded
	// key would then hash to another name than the one the writer chose, and
	// re-encoding would not give back the file.
	if !utf8.Valid(data) {
		return false, fmt.Errorf("%w: not valid UTF-8", ErrDecode)
	}
	strictErrs, err := sigsjson.UnmarshalStrict(data, out)
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	if typeMeta.Kind != wantKind {
		return false, fmt.Errorf("%w: kind is %q, want %q", ErrDecode, typeMeta.Kind, wantKind)
	}
	if typeMeta.APIVersion != APIVersionV1alpha1 && typeMeta.APIVersion != APIVersionV1beta1 {
		return false, fmt.Errorf("%w: unsupported apiVersion %q", ErrDecode, typeMeta.APIVersion)
	}
	if len(strictErrs) > 0 {
		return false, fmt.Errorf("%w: %v", ErrDecode, errors.Join(strictErrs...))
	}
	return typeMeta.APIVersion == APIVersionV1beta1, nil
}

// DecodeIntent strictly decodes an ImagePullIntent of either version into the
// v1beta1 type. current is false when the file is of an older version and a
// writer should rewrite it.
func DecodeIntent(data []byte) (intent *kubeletv1beta1.ImagePullIntent, current bool, err error) {
	out := &kubeletv1beta1.ImagePullIntent{}
	current, err = decodeStrict(data, out, &out.TypeMeta, KindImagePullIntent)
	if err != nil {
		return nil, false, err
	}
	if out.Image == "" {
		return nil, false, fmt.Errorf("%w: image is empty", ErrDecode)
	}
	out.Kind, out.APIVersion = KindImagePullIntent, APIVersionV1beta1
	return out, current, nil
}

// DecodeRecord strictly decodes an ImagePulledRecord of either version into
// the v1beta1 type. current is false when the file is of an older version.
func DecodeRecord(data []byte) (record *kubeletv1beta1.ImagePulledRecord, current bool, err error) {
	out := &kubeletv1beta1.ImagePulledRecord{}
	current, err = decodeStrict(data, out, &out.TypeMeta, KindImagePulledRecord)
	if err != nil {
		return nil, false, err
	}
	if out.ImageRef == "" {
		return nil, false, fmt.Errorf("%w: imageRef is empty", ErrDecode)
	}
	if err := normalizeRecord(out); err != nil {
		return nil, false, err
	}
	out.Kind, out.APIVersion = KindImagePulledRecord, APIVersionV1beta1
	return out, current, nil
}

// normalizeRecord makes a decoded record equal to what decoding its own
// encoding gives, so that a decoded object can be compared with a rewritten
// one: the time is kept in UTC with whole seconds (the precision the
// encoding keeps), and empty lists and maps (omitted when encoding) become
// nil.
func normalizeRecord(r *kubeletv1beta1.ImagePulledRecord) error {
	if !r.LastUpdatedTime.IsZero() {
		t := r.LastUpdatedTime.UTC().Truncate(time.Second)
		if err := checkTimeEncodable(t); err != nil {
			return fmt.Errorf("%w: %v", ErrDecode, err)
		}
		r.LastUpdatedTime = metav1.NewTime(t)
	}
	if len(r.CredentialMapping) == 0 {
		r.CredentialMapping = nil
	}
	for repo, c := range r.CredentialMapping {
		if len(c.KubernetesSecrets) == 0 {
			c.KubernetesSecrets = nil
		}
		if len(c.KubernetesServiceAccounts) == 0 {
			c.KubernetesServiceAccounts = nil
		}
		r.CredentialMapping[repo] = c
	}
	return nil
}

// checkTimeEncodable rejects times whose RFC 3339 form in UTC cannot be
// parsed back: the format has room for years 0 to 9999 only, and an offset
// can push a parsed time outside that range.
func checkTimeEncodable(t time.Time) error {
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return fmt.Errorf("lastUpdatedTime %s is outside years 0000-9999 in UTC", t.UTC().Format(time.RFC3339))
	}
	return nil
}

// EncodeIntent returns the canonical v1beta1 encoding of intent.
func EncodeIntent(intent *kubeletv1beta1.ImagePullIntent) ([]byte, error) {
	if intent == nil || intent.Image == "" {
		return nil, fmt.Errorf("%w: image is empty", ErrDecode)
	}
	// The file name hashes the raw key, but encoding would replace invalid
	// UTF-8: the file would never match its name again.
	if !utf8.ValidString(intent.Image) {
		return nil, fmt.Errorf("%w: image %q is not valid UTF-8", ErrDecode, intent.Image)
	}
	out := *intent
	out.Kind, out.APIVersion = KindImagePullIntent, APIVersionV1beta1
	return encode(&out)
}

// EncodeRecord returns the canonical v1beta1 encoding of record. The caller
// keeps the credential lists sorted; encoding does not reorder them.
func EncodeRecord(record *kubeletv1beta1.ImagePulledRecord) ([]byte, error) {
	if record == nil || record.ImageRef == "" {
		return nil, fmt.Errorf("%w: imageRef is empty", ErrDecode)
	}
	if !utf8.ValidString(record.ImageRef) {
		return nil, fmt.Errorf("%w: imageRef %q is not valid UTF-8", ErrDecode, record.ImageRef)
	}
	// Never write a file that cannot be read back.
	if !record.LastUpdatedTime.IsZero() {
		if err := checkTimeEncodable(record.LastUpdatedTime.Time); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrDecode, err)
		}
	}
	out := *record
	out.Kind, out.APIVersion = KindImagePulledRecord, APIVersionV1beta1
	return encode(&out)
}

func encode(obj any) ([]byte, error) {
	var buf bytes.Buffer
	// Encoder.Encode writes compact JSON with sorted map keys and one
	// trailing newline: the canonical form.
	if err := json.NewEncoder(&buf).Encode(obj); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
