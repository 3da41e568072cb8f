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

package plugin_test

import (
	"context"
	"testing"

	"k8s.io/klog/v2"

	"k8s.io/kubernetes/pkg/credentialprovider/plugin"
)

// benchProviders returns providers whose one plugin answers for
// reg.example, with cacheDuration as its default, and tokenAttributes of
// cacheType when not empty.
func benchProviders(b *testing.B, cacheDuration, cacheType string) *plugin.Providers {
	b.Helper()
	spec := providerSpec{
		name: "bench", match: []string{"*.example", "reg.example"}, cacheDuration: cacheDuration,
		env: map[string]string{"FAKE_PLUGIN_AUTH": "reg.example=u:p;reg.example/team=t:p", "FAKE_PLUGIN_CACHE_KEY_TYPE": "Registry"},
	}
	if cacheType != "" {
		spec.tokenAttributes = map[string]any{
			"serviceAccountTokenAudience": "aud", "cacheType": cacheType, "requireServiceAccount": true,
			"requiredServiceAccountAnnotationKeys": []string{"example.com/role"},
		}
	}
	return newProviders(b, plugin.Options{ServiceAccountTokens: true}, spec)
}

func BenchmarkLookupCacheHit(b *testing.B) {
	for _, bc := range []struct {
		name      string
		cacheType string
	}{
		{name: "tokens=none"},
		{name: "cacheType=ServiceAccount", cacheType: "ServiceAccount"},
		{name: "cacheType=Token", cacheType: "Token"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			// Logging discarded: the benchmark measures the lookup.
			ctx := klog.NewContext(context.Background(), klog.Background().V(10))
			p := benchProviders(b, "1h", bc.cacheType)
			sas := newFakeSAs(serviceAccount("uid-1", map[string]string{"example.com/role": "reader"}))
			const image = "reg.example/team/app:1"
			if _, err := p.Lookup(ctx, image, testPod, sas); err != nil {
				b.Fatalf("Lookup() error = %v", err)
			}
			b.ReportAllocs()
			for b.Loop() {
				creds, err := p.Lookup(ctx, image, testPod, sas)
				if err != nil || len(creds) != 2 {
					b.Fatalf("Lookup() = %d credentials, %v", len(creds), err)
				}
			}
		})
	}
}

func BenchmarkLookupCacheHitParallel(b *testing.B) {
	ctx := klog.NewContext(context.Background(), klog.Background().V(10))
	p := benchProviders(b, "1h", "ServiceAccount")
	sas := newFakeSAs(serviceAccount("uid-1", map[string]string{"example.com/role": "reader"}))
	const image = "reg.example/team/app:1"
	if _, err := p.Lookup(ctx, image, testPod, sas); err != nil {
		b.Fatalf("Lookup() error = %v", err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Lookup(ctx, image, testPod, sas); err != nil {
				b.Errorf("Lookup() error = %v", err)
				return
			}
		}
	})
}

func BenchmarkLookupExecMiss(b *testing.B) {
	// cacheDuration 0: every lookup runs the plugin.
	ctx := klog.NewContext(context.Background(), klog.Background().V(10))
	p := benchProviders(b, "0s", "")
	b.ReportAllocs()
	for b.Loop() {
		creds, err := p.Lookup(ctx, "reg.example/team/app:1", testPod, nil)
		if err != nil || len(creds) != 2 {
			b.Fatalf("Lookup() = %d credentials, %v", len(creds), err)
		}
	}
}
