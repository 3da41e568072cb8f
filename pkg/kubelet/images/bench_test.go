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

package images

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"k8s.io/kubernetes/pkg/credentialprovider"
	"k8s.io/kubernetes/pkg/credentialprovider/secrets"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/cri/remote"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// benchSecret is a typical pull Secret: one registry entry, with a
// resourceVersion as Secrets from the API server have.
func benchSecret() v1.Secret {
	s := *dockerSecret(nsX, "s1", "uid-s1", "alice", "alice-pw")
	s.ResourceVersion = "42"
	return s
}

// BenchmarkResolvePodCredentials measures turning a pod's Secret into the
// credentials a decision needs, parsed every time and from the keyring
// cache (a repeated pod).
func BenchmarkResolvePodCredentials(b *testing.B) {
	fetched := []v1.Secret{benchSecret()}
	resolve := func(k *secrets.PodKeyring) []kubeletconfig.ImagePullSecret {
		creds, _ := k.Keyring.Lookup(privateApp)
		return credentialprovider.ImagePullSecrets(creds)
	}
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			k, err := secrets.MakePodKeyring(fetched, nil)
			if err != nil {
				b.Fatal(err)
			}
			if len(resolve(k)) != 1 {
				b.Fatal("no credential resolved")
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		cache := newKeyringCache()
		b.ReportAllocs()
		for b.Loop() {
			k, err := cache.podKeyring(fetched, nil)
			if err != nil {
				b.Fatal(err)
			}
			if len(resolve(k)) != 1 {
				b.Fatal("no credential resolved")
			}
		}
	})
}

// BenchmarkEnsureImageExistsReused measures EnsureImageExists for a present
// image the pod's Secret is recorded for (fake runtime, no network), next to
// the pull manager's decision alone: the difference is the image manager's
// own overhead.
func BenchmarkEnsureImageExistsReused(b *testing.B) {
	ctx := klog.NewContext(context.Background(), klog.Background().V(10))
	rt := newFakeRuntime()
	addRegistryImages(rt)
	pm, err := pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{
		RootDir:     b.TempDir(),
		Policy:      kubeletconfig.AlwaysVerify,
		ImageLister: remote.ImageLister{ImageService: rt},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer pm.Close()
	secret := benchSecret()
	manager, err := NewImageManager(Options{
		ImageService:             rt,
		PullManager:              pm,
		EnsureSecretPulledImages: true,
		Recorder:                 &record.FakeRecorder{},
		GetSecret: func(context.Context, string, string) (*v1.Secret, error) {
			return &secret, nil
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer manager.Stop()
	pod := newPod(nsX, "pod-a", privateApp, v1.PullIfNotPresent, "s1")
	container := &pod.Spec.Containers[0]
	ref := &v1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, FieldPath: "spec.containers{" + container.Name + "}"}
	// The first call pulls and records the Secret.
	if res, err := manager.EnsureImageExists(ctx, ref, pod, container); err != nil || !res.PullAttempted {
		b.Fatalf("first call = %+v, %v; want a pull", res, err)
	}
	b.Run("ensure", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			res, err := manager.EnsureImageExists(ctx, ref, pod, container)
			if err != nil || res.Verification != pullmanager.VerificationSecretHash {
				b.Fatalf("EnsureImageExists = %+v, %v; want a reuse on the recorded hash", res, err)
			}
		}
	})
	b.Run("serviceaccount", benchEnsureReusedServiceAccount)
	b.Run("decision-only", func(b *testing.B) {
		k, err := secrets.MakePodKeyring([]v1.Secret{secret}, nil)
		if err != nil {
			b.Fatal(err)
		}
		found, _ := k.Keyring.Lookup(privateApp)
		podSecrets := credentialprovider.ImagePullSecrets(found)
		creds := func() ([]kubeletconfig.ImagePullSecret, *kubeletconfig.ImagePullServiceAccount, error) {
			return podSecrets, nil, nil
		}
		b.ReportAllocs()
		for b.Loop() {
			if d, _ := pm.MustAttemptImagePull(ctx, privateApp, privateAppID, creds); d.MustPull {
				b.Fatal("decision must admit")
			}
		}
	})
}

// benchEnsureReusedServiceAccount measures EnsureImageExists for a present
// image recorded for the pod's service account (step 10), with plugin
// credentials that come from memory as a credential provider cache hit
// gives them (the same slice every call, no exec, no API server), next to
// the pull manager's decision alone with that service account.
func benchEnsureReusedServiceAccount(b *testing.B) {
	ctx := klog.NewContext(context.Background(), klog.Background().V(10))
	rt := newFakeRuntime()
	addRegistryImages(rt)
	pm, err := pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{
		RootDir:     b.TempDir(),
		Policy:      kubeletconfig.AlwaysVerify,
		ImageLister: remote.ImageLister{ImageService: rt},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer pm.Close()
	account := kubeletconfig.ImagePullServiceAccount{UID: "uid-builder", Namespace: nsX, Name: "builder"}
	cached := []credentialprovider.TrackedAuthConfig{credentialprovider.NewTrackedAuthConfig(
		credentialprovider.AuthConfig{Username: "alice", Password: "alice-pw"},
		&credentialprovider.CredentialSource{ServiceAccount: &credentialprovider.ServiceAccountCoordinates{UID: account.UID, Namespace: account.Namespace, Name: account.Name}},
	)}
	manager, err := NewImageManager(Options{
		ImageService:             rt,
		PullManager:              pm,
		EnsureSecretPulledImages: true,
		Recorder:                 &record.FakeRecorder{},
		PluginCredentials: func(context.Context, *v1.Pod, string) ([]credentialprovider.TrackedAuthConfig, error) {
			return cached, nil
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer manager.Stop()
	pod := newPod(nsX, "pod-sa", privateApp, v1.PullIfNotPresent)
	pod.Spec.ServiceAccountName = account.Name
	container := &pod.Spec.Containers[0]
	ref := &v1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, FieldPath: "spec.containers{" + container.Name + "}"}
	// The first call pulls with the plugin's credential and records the
	// service account.
	if res, err := manager.EnsureImageExists(ctx, ref, pod, container); err != nil || !res.PullAttempted {
		b.Fatalf("first call = %+v, %v; want a pull", res, err)
	}
	b.Run("ensure", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			res, err := manager.EnsureImageExists(ctx, ref, pod, container)
			if err != nil || res.Verification != pullmanager.VerificationServiceAccount {
				b.Fatalf("EnsureImageExists = %+v, %v; want a reuse through the recorded service account", res, err)
			}
		}
	})
	b.Run("decision-only", func(b *testing.B) {
		creds := func() ([]kubeletconfig.ImagePullSecret, *kubeletconfig.ImagePullServiceAccount, error) {
			return nil, &account, nil
		}
		b.ReportAllocs()
		for b.Loop() {
			if d, _ := pm.MustAttemptImagePull(ctx, privateApp, privateAppID, creds); d.MustPull {
				b.Fatal("decision must admit")
			}
		}
	})
}
