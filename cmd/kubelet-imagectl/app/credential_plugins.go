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
	"context"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"k8s.io/kubernetes/pkg/credentialprovider"
	"k8s.io/kubernetes/pkg/credentialprovider/plugin"
	"k8s.io/kubernetes/pkg/features"
	"k8s.io/kubernetes/pkg/kubelet/images"
)

// pluginFlags are the kubelet's credential provider flags.
type pluginFlags struct {
	// configFile is --image-credential-provider-config.
	configFile string
	// binDir is --image-credential-provider-bin-dir.
	binDir string
}

// loadPlugins reads and validates the credential provider configuration as
// the kubelet does at start-up. No flag: no plugin. Every problem is a usage
// error (exit 2) naming the flag or the file and the field.
func loadPlugins(cfg *nodeConfig, flags pluginFlags) (*plugin.Providers, error) {
	switch {
	case flags.configFile == "" && flags.binDir == "":
		return nil, nil
	case flags.configFile == "":
		return nil, usageErrorf("--image-credential-provider-bin-dir needs --image-credential-provider-config")
	case flags.binDir == "":
		return nil, usageErrorf("--image-credential-provider-config needs --image-credential-provider-bin-dir")
	}
	providers, err := plugin.NewProviders(plugin.Options{
		ConfigPath:           flags.configFile,
		BinDir:               flags.binDir,
		ServiceAccountTokens: cfg.gate.Enabled(features.KubeletServiceAccountTokenForCredentialProviders),
	})
	if err != nil {
		// The errors name the file and the field.
		return nil, usageErrorf("%v", err)
	}
	return providers, nil
}

// pluginCredentials adapts the providers to the image manager. Service
// account tokens come from the API server when the pods do (--kubeconfig):
// the kubelet asks for a token bound to the pod. Without an API server
// there is no token: a provider that requires a service account fails the
// container with an error that says so.
func pluginCredentials(providers *plugin.Providers, client kubernetes.Interface) images.PluginCredentials {
	if providers == nil {
		return nil
	}
	var sas plugin.ServiceAccountSource
	if client != nil {
		sas = plugin.NewAPIServiceAccountSource(client)
	}
	return func(ctx context.Context, pod *v1.Pod, image string) ([]credentialprovider.TrackedAuthConfig, error) {
		return providers.Lookup(ctx, image, plugin.PodInfo{
			Namespace:          pod.Namespace,
			Name:               pod.Name,
			UID:                pod.UID,
			ServiceAccountName: pod.Spec.ServiceAccountName,
		}, sas)
	}
}
