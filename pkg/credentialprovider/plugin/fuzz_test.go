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

package plugin

import (
	"regexp"
	"testing"
)

// decodeErrorPattern matches every message decodeResponse can return: a
// fixed vocabulary, so that no byte of a plugin's stdout reaches an error.
var decodeErrorPattern = regexp.MustCompile(`^(the response is not valid JSON|` +
	`the response does not decode as a CredentialProviderResponse|` +
	`the response's kind is not CredentialProviderResponse|` +
	`the response's apiVersion is not credentialprovider\.kubelet\.k8s\.io/(v1|v1beta1|v1alpha1), the request's|` +
	`the response's cacheKeyType is not one of Image, Registry, Global|` +
	`the response's cacheDuration is negative)$`)

func FuzzDecodeResponse(f *testing.F) {
	for _, seed := range []string{
		`{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Image","cacheDuration":"1m","auth":{"reg.example":{"username":"u","password":"p"}}}`,
		`{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","auth":{"*.example":{"username":"","password":""}}}`,
		`{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Global","cacheDuration":"-5s"}`,
		`{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Image","cacheDuration":"forever"}`,
		`{"kind":"Other","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Image"}`,
		`{"auth":{"k":1}}`,
		`not json`,
		``,
	} {
		for _, v := range []string{ExecAPIVersionV1, ExecAPIVersionV1beta1, ExecAPIVersionV1alpha1} {
			f.Add([]byte(seed), v)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, apiVersion string) {
		switch apiVersion {
		case ExecAPIVersionV1, ExecAPIVersionV1beta1, ExecAPIVersionV1alpha1:
		default:
			// Validation only lets these through.
			return
		}
		resp, err := decodeResponse(data, apiVersion)
		if err != nil {
			if !decodeErrorPattern.MatchString(err.Error()) {
				t.Fatalf("decodeResponse() error %q is not from the fixed vocabulary", err)
			}
			return
		}
		switch resp.cacheKeyType {
		case cacheKeyImage, cacheKeyRegistry, cacheKeyGlobal:
		default:
			t.Fatalf("decodeResponse() accepted cacheKeyType %q", resp.cacheKeyType)
		}
		if resp.cacheDuration != nil && *resp.cacheDuration < 0 {
			t.Fatalf("decodeResponse() accepted a negative cacheDuration %s", *resp.cacheDuration)
		}
		if resp.auth == nil {
			t.Fatalf("decodeResponse() returned a nil auth map")
		}
	})
}
