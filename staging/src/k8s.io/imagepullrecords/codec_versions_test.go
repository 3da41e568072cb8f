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
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	kubeletv1alpha1 "k8s.io/kubelet/config/v1alpha1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
)

// jsonShape describes a type as its JSON field names and their shapes, so
// two types with the same wire form compare equal.
func jsonShape(t reflect.Type) any {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice:
		return []any{t.Kind().String(), jsonShape(t.Elem())}
	case reflect.Map:
		return []any{"map", jsonShape(t.Key()), jsonShape(t.Elem())}
	case reflect.Struct:
		if t.PkgPath() == "k8s.io/apimachinery/pkg/apis/meta/v1" {
			return t.Name()
		}
		fields := map[string]any{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			fields[f.Name+" "+f.Tag.Get("json")] = jsonShape(f.Type)
		}
		return fields
	default:
		return t.Kind().String()
	}
}

// TestVersionsShareOneWireForm guards decodeStrict, which decodes both
// published versions into the v1beta1 types: that is exact only while the
// two versions have the same fields.
func TestVersionsShareOneWireForm(t *testing.T) {
	for _, pair := range []struct {
		name            string
		v1alpha1, beta1 any
	}{
		{name: "ImagePullIntent", v1alpha1: kubeletv1alpha1.ImagePullIntent{}, beta1: kubeletv1beta1.ImagePullIntent{}},
		{name: "ImagePulledRecord", v1alpha1: kubeletv1alpha1.ImagePulledRecord{}, beta1: kubeletv1beta1.ImagePulledRecord{}},
	} {
		if diff := cmp.Diff(jsonShape(reflect.TypeOf(pair.v1alpha1)), jsonShape(reflect.TypeOf(pair.beta1))); diff != "" {
			t.Errorf("%s: v1alpha1 and v1beta1 differ on the wire (-v1alpha1 +v1beta1):\n%s", pair.name, diff)
		}
	}
}
