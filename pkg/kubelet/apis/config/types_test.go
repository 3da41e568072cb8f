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

import "testing"

func TestEffectiveImageServiceEndpoint(t *testing.T) {
	tests := []struct {
		name string
		kc   KubeletConfiguration
		want string
	}{
		{name: "runtime endpoint only", kc: KubeletConfiguration{ContainerRuntimeEndpoint: "unix:///run/a.sock"}, want: "unix:///run/a.sock"},
		{name: "image endpoint wins", kc: KubeletConfiguration{ContainerRuntimeEndpoint: "unix:///run/a.sock", ImageServiceEndpoint: "unix:///run/b.sock"}, want: "unix:///run/b.sock"},
		{name: "neither", kc: KubeletConfiguration{}, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.kc.EffectiveImageServiceEndpoint(); got != tc.want {
				t.Errorf("EffectiveImageServiceEndpoint() = %q, want %q", got, tc.want)
			}
		})
	}
}
