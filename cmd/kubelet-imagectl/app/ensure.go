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
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"k8s.io/kubernetes/pkg/credentialprovider"
	"k8s.io/kubernetes/pkg/credentialprovider/plugin"
	"k8s.io/kubernetes/pkg/features"
)

// ensureOptions are the flags of ensure.
type ensureOptions struct {
	podFiles     []string
	secretFiles  []string
	kubeconfig   string
	podNames     []string
	configFile   string
	rootDir      string
	endpoint     string
	featureGates string
	dockerConfig string
	plugins      pluginFlags
	dryRun       bool
	output       string
}

func newEnsureCommand(deps *Deps) *cobra.Command {
	o := &ensureOptions{}
	cmd := &cobra.Command{
		Use:   "ensure (--pod FILE [--secret FILE]... | --kubeconfig FILE --pod-name NS/NAME) [flags]",
		Short: "Admit (and pull if needed) the images of pods, as the kubelet would",
		Long: `Run the kubelet's image manager for every init and regular container of the
given pods, in spec order, through the node's CRI runtime. Pods are processed
concurrently through one image manager, as a kubelet would.

Each container is Reused (present and allowed), Pulled, Denied (ErrImageNeverPull)
or Failed; with --dry-run a pull that would happen is reported as WouldPull and
nothing is pulled or written (no lock is taken, so it is safe next to a running
kubelet). Pull policies left empty are defaulted as the API server does.`,
		Example: `  # Decide (and pull if needed) as the kubelet would, with the node's configuration
  kubelet-imagectl ensure --pod pod.yaml --secret secrets.yaml --config /var/lib/kubelet/config.yaml -o json

  # The Pod and its pull Secrets from the API server
  kubelet-imagectl ensure --kubeconfig ~/.kube/config --pod-name team-a/web

  # Next to a running kubelet: decide only
  kubelet-imagectl ensure --pod pod.yaml --secret regcred.yaml --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEnsure(cmd.Context(), deps, o, cmd.Flags().Changed("runtime-endpoint"), cmd.Flags().Changed("docker-config"))
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.podFiles, "pod", nil, "A Pod manifest (YAML or JSON). Repeat for several pods, processed concurrently.")
	f.StringArrayVar(&o.secretFiles, "secret", nil, "A file of Secrets (YAML or JSON, several documents or a List) that pods reference in imagePullSecrets. Each needs metadata.uid. Repeatable.")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "Read the Pods and their pull Secrets from the API server with this kubeconfig (exclusive with --pod/--secret).")
	f.StringArrayVar(&o.podNames, "pod-name", nil, "NAMESPACE/NAME of a Pod to read from the API server (with --kubeconfig). Repeatable.")
	f.StringVar(&o.configFile, "config", "", "A KubeletConfiguration file (kubelet.config.k8s.io/v1beta1); validated as the kubelet validates it.")
	f.StringVar(&o.rootDir, "root-dir", defaultRootDir, "The kubelet root directory; records live in <root-dir>/image_manager.")
	f.StringVar(&o.endpoint, "runtime-endpoint", "unix:///run/containerd/containerd.sock",
		"The CRI endpoint for image calls. When not given: the config file's imageServiceEndpoint, else its containerRuntimeEndpoint, else this default.")
	f.StringVar(&o.featureGates, "feature-gates", "", "Feature gates, Name=true|false,...; merged key by key over the config file's featureGates.")
	f.StringVar(&o.dockerConfig, "docker-config", "",
		"The node-wide docker config file (replaces the search of <root-dir>/config.json, <root-dir>/.dockercfg, $HOME/.docker/config.json, $HOME/.dockercfg); an empty value disables node-wide credentials.")
	f.StringVar(&o.plugins.configFile, "image-credential-provider-config", "",
		"A CredentialProviderConfig file (kubelet.config.k8s.io/v1, v1beta1 or v1alpha1) naming the credential provider plugins to run for matching images, as the kubelet's flag of that name.")
	f.StringVar(&o.plugins.binDir, "image-credential-provider-bin-dir", "",
		"The directory holding the credential provider plugin executables named in --image-credential-provider-config.")
	f.BoolVar(&o.dryRun, "dry-run", false, "Decide without pulling or writing anything: report what would be reused, pulled or denied.")
	addOutputFlag(cmd, &o.output)
	return cmd
}

// ensureInputs are the validated inputs of one ensure run.
type ensureInputs struct {
	cfg      *nodeConfig
	pods     []*v1.Pod
	secrets  map[secretKey]*v1.Secret
	keyring  credentialprovider.DockerKeyring
	podNames []types.NamespacedName
	plugins  *plugin.Providers
}

// runEnsure validates every input first (exit code 2), then touches the
// environment (exit code 3), then runs the pods.
func runEnsure(ctx context.Context, deps *Deps, o *ensureOptions, endpointSet, dockerConfigSet bool) error {
	logger := klog.FromContext(ctx)
	in, client, err := o.validate(deps, endpointSet, dockerConfigSet)
	if err != nil {
		return err
	}
	for _, w := range in.cfg.warnings {
		fmt.Fprintf(deps.Stderr, "warning: kubelet config file %s: %s\n", quote(o.configFile), oneLine(w))
	}
	if client != nil {
		in.pods, in.secrets, err = podsFromAPIServer(ctx, client, in.podNames)
		if err != nil {
			return err
		}
	}

	session, err := openSession(ctx, deps, sessionOptions{
		cfg:         in.cfg,
		rootDir:     o.rootDir,
		nodeKeyring: in.keyring,
		plugins:     pluginCredentials(in.plugins, client),
		secrets:     in.secrets,
		dryRun:      o.dryRun,
	})
	if err != nil {
		return err
	}
	defer session.close(ctx)
	logger.V(2).Info("Ensuring pod images", "pods", len(in.pods), "endpoint", in.cfg.endpoint,
		"ensureSecretPulledImages", in.cfg.ensureSecretPulledImages(), "policy", in.cfg.kc.ImagePullCredentialsVerificationPolicy, "dryRun", o.dryRun)

	results := session.ensurePods(ctx, in.pods)
	if o.output == outputJSON {
		for _, r := range results {
			if err := writeJSONLine(deps.Stdout, r); err != nil {
				return environmentErrorf("writing output: %v", err)
			}
		}
	} else if err := writeEnsureText(deps.Stdout, results); err != nil {
		return environmentErrorf("writing output: %v", err)
	}
	for _, r := range results {
		if !r.admitted() {
			return errNotAdmitted
		}
	}
	return nil
}

// validate checks the flags and reads every input file. It returns a client
// when the pods come from the API server.
func (o *ensureOptions) validate(deps *Deps, endpointSet, dockerConfigSet bool) (*ensureInputs, kubernetes.Interface, error) {
	if err := checkOutputFormat(o.output); err != nil {
		return nil, nil, err
	}
	fromFiles := len(o.podFiles) > 0 || len(o.secretFiles) > 0
	fromAPI := o.kubeconfig != "" || len(o.podNames) > 0
	switch {
	case fromFiles && fromAPI:
		return nil, nil, usageErrorf("--pod/--secret and --kubeconfig/--pod-name are exclusive")
	case fromAPI && o.kubeconfig == "":
		return nil, nil, usageErrorf("--pod-name needs --kubeconfig")
	case fromAPI && len(o.podNames) == 0:
		return nil, nil, usageErrorf("--kubeconfig needs at least one --pod-name NAMESPACE/NAME")
	case fromFiles && len(o.podFiles) == 0:
		return nil, nil, usageErrorf("--secret needs at least one --pod FILE")
	case !fromFiles && !fromAPI:
		return nil, nil, usageErrorf("give --pod FILE (with --secret FILE for its pull Secrets) or --kubeconfig FILE --pod-name NAMESPACE/NAME")
	}
	if o.rootDir == "" {
		return nil, nil, usageErrorf("--root-dir: must not be empty")
	}
	flagGates, err := features.ParseFeatureGates(o.featureGates)
	if err != nil {
		return nil, nil, usageErrorf("--feature-gates: %v", err)
	}
	cfg, err := resolveConfig(configInputs{
		configFile:         o.configFile,
		featureGates:       flagGates,
		runtimeEndpoint:    o.endpoint,
		runtimeEndpointSet: endpointSet,
	})
	if err != nil {
		return nil, nil, err
	}
	in := &ensureInputs{cfg: cfg}
	if in.plugins, err = loadPlugins(cfg, o.plugins); err != nil {
		return nil, nil, err
	}

	var client kubernetes.Interface
	if fromFiles {
		seen := map[string]string{}
		for _, path := range o.podFiles {
			pod, err := podFromFile(path)
			if err != nil {
				return nil, nil, err
			}
			if prev, ok := seen[podKey(pod)]; ok {
				return nil, nil, usageErrorf("pod file %s: pod %s is also given in %s", quote(path), podKey(pod), quote(prev))
			}
			seen[podKey(pod)] = path
			in.pods = append(in.pods, pod)
		}
		in.secrets = map[secretKey]*v1.Secret{}
		if len(o.secretFiles) > 0 {
			if in.secrets, err = secretsFromFiles(o.secretFiles); err != nil {
				return nil, nil, err
			}
		}
	} else {
		for _, value := range o.podNames {
			nn, err := parsePodName(value)
			if err != nil {
				return nil, nil, err
			}
			if slices.Contains(in.podNames, nn) {
				return nil, nil, usageErrorf("--pod-name %s is given twice", quote(value))
			}
			in.podNames = append(in.podNames, nn)
		}
		c, err := deps.NewKubeClient(o.kubeconfig)
		if err != nil {
			return nil, nil, usageErrorf("kubeconfig %s: %v", quote(o.kubeconfig), err)
		}
		client = c
	}

	nodeOpts := credentialprovider.NodeCredentialsOptions{RootDir: o.rootDir}
	if dockerConfigSet {
		path := o.dockerConfig
		nodeOpts.DockerConfigPath = &path
	}
	in.keyring, err = credentialprovider.NodeKeyring(nodeOpts)
	if err != nil {
		if dockerConfigSet {
			return nil, nil, usageErrorf("--docker-config %s: %v", quote(o.dockerConfig), err)
		}
		// A broken file found by the default search is the node's
		// problem, not a flag's.
		return nil, nil, environmentErrorf("node-wide credentials: %v", err)
	}
	return in, client, nil
}
