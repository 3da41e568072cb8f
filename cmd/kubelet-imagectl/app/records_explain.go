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
	"io"
	"strings"

	"github.com/spf13/cobra"
	v1 "k8s.io/api/core/v1"
	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
	"k8s.io/kubernetes/pkg/util/parsers"
)

// explainPodOutput is records explain's output: ensure's output for the
// pod, with only the containers that use the image, each with an
// explanation. The field names are ensure's.
type explainPodOutput struct {
	Pod        string                   `json:"pod"`
	Events     []eventOutput            `json:"events"`
	Containers []explainContainerOutput `json:"containers"`
}

// explainContainerOutput is ensure's container output and why.
type explainContainerOutput struct {
	containerOutput
	Explanation explanationOutput `json:"explanation"`
}

// What decided a container's outcome (explanationOutput.DecidedBy).
const (
	decidedByPullManager = "pullManager"
	decidedByNotPresent  = "notPresent"
	decidedByPullPolicy  = "pullPolicy"
	decidedByGateOff     = "gateOff"
	decidedByImageName   = "imageName"
	decidedByImageStatus = "imageStatus"
)

// explanationOutput says why a container got its result.
type explanationOutput struct {
	// Summary says in a paragraph what ensure would do and why.
	Summary string `json:"summary"`
	// DecidedBy is pullManager (a present image with IfNotPresent or
	// Never), notPresent, pullPolicy (Always: the pull is the
	// verification), gateOff, imageName (InvalidImageName) or imageStatus
	// (ImageInspectError).
	DecidedBy string `json:"decidedBy"`
	// EnsureSecretPulledImages is the effective feature gate.
	EnsureSecretPulledImages bool `json:"ensureSecretPulledImages"`
	// Present is true when the runtime has the image.
	Present bool `json:"present"`
	// RuntimeImageID is the runtime's image ID of the image, "" when absent.
	RuntimeImageID string `json:"runtimeImageID"`
	// PullManager is the pull manager's explanation, null when it did not
	// decide.
	PullManager *pullmanager.Explanation `json:"pullManager"`
}

// recordsExplainOptions are the flags of records explain: ensure's inputs
// for one pod, without --dry-run (explain always is one).
type recordsExplainOptions struct {
	ensure  ensureOptions
	pod     string
	podName string
}

func newRecordsExplainCommand(deps *Deps) *cobra.Command {
	o := &recordsExplainOptions{}
	cmd := &cobra.Command{
		Use:   "explain (--pod FILE [--secret FILE]... | --kubeconfig FILE --pod-name NS/NAME) [flags] IMAGE",
		Short: "Say which rule would decide whether a pod may use an image, and why (read-only)",
		Long: `Run ensure's decision for the containers of one pod that use IMAGE, as ensure
--dry-run would (nothing is pulled or written, no lock is taken, so it is safe
next to a running kubelet), and say which rule decided and why: the policy line,
whether the image is present, the record file, the repository key, the entry,
whether the name counts as pulled by the kubelet, and the pod's Secrets or service
account that match or do not. Hashes are abbreviated; no credential is shown.

IMAGE is matched against the containers' images as written, or after
normalisation (busybox:1.36 matches docker.io/library/busybox:1.36). Exit codes
are ensure's: 0 admitted or would pull, 1 denied or failed, 2 bad input
(IMAGE not used by the pod too), 3 environment.`,
		Example: `  kubelet-imagectl records explain --pod pod.yaml --secret regcred.yaml reg.example/team/app:1.2
  kubelet-imagectl records explain --kubeconfig ~/.kube/config --pod-name team-a/web -o json reg.example/team/app:1.2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRecordsExplain(cmd.Context(), deps, o, args[0], cmd.Flags().Changed("runtime-endpoint"), cmd.Flags().Changed("docker-config"))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.pod, "pod", "", "The Pod manifest (YAML or JSON).")
	f.StringArrayVar(&o.ensure.secretFiles, "secret", nil, "A file of Secrets the pod references in imagePullSecrets (as ensure reads them). Repeatable.")
	f.StringVar(&o.ensure.kubeconfig, "kubeconfig", "", "Read the Pod and its pull Secrets from the API server with this kubeconfig (exclusive with --pod/--secret).")
	f.StringVar(&o.podName, "pod-name", "", "NAMESPACE/NAME of the Pod to read from the API server (with --kubeconfig).")
	f.StringVar(&o.ensure.configFile, "config", "", "A KubeletConfiguration file, read as ensure reads it.")
	f.StringVar(&o.ensure.rootDir, "root-dir", defaultRootDir, "The kubelet root directory holding image_manager/.")
	f.StringVar(&o.ensure.endpoint, "runtime-endpoint", "unix:///run/containerd/containerd.sock",
		"The CRI endpoint for image calls; when not given, chosen from --config as ensure does.")
	f.StringVar(&o.ensure.featureGates, "feature-gates", "", "Feature gates, Name=true|false,...; merged over the config file's featureGates.")
	f.StringVar(&o.ensure.dockerConfig, "docker-config", "", "The node-wide docker config file, as for ensure; an empty value disables node-wide credentials.")
	f.StringVar(&o.ensure.plugins.configFile, "image-credential-provider-config", "", "A CredentialProviderConfig file, as for ensure.")
	f.StringVar(&o.ensure.plugins.binDir, "image-credential-provider-bin-dir", "", "The directory of the credential provider plugins, as for ensure.")
	addOutputFlag(cmd, &o.ensure.output)
	return cmd
}

// usedContainer is a container that uses the image explained.
type usedContainer struct {
	container *v1.Container
	init      bool
}

// containersUsing returns the init and regular containers of pod, in spec
// order, whose image is image as written or after normalisation.
func containersUsing(pod *v1.Pod, image string) []usedContainer {
	want, wantErr := parsers.NormalizedReference(image)
	uses := func(c *v1.Container) bool {
		if c.Image == image {
			return true
		}
		got, err := parsers.NormalizedReference(c.Image)
		return wantErr == nil && err == nil && got == want
	}
	var out []usedContainer
	for i := range pod.Spec.InitContainers {
		if c := &pod.Spec.InitContainers[i]; uses(c) {
			out = append(out, usedContainer{container: c, init: true})
		}
	}
	for i := range pod.Spec.Containers {
		if c := &pod.Spec.Containers[i]; uses(c) {
			out = append(out, usedContainer{container: c})
		}
	}
	return out
}

// podImages lists a pod's images for messages.
func podImages(pod *v1.Pod) string {
	var images []string
	for _, list := range [][]v1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			images = append(images, quote(c.Image))
		}
	}
	return strings.Join(images, ", ")
}

// runRecordsExplain validates the inputs with ensure's code (exit code 2),
// opens ensure's dry-run session (exit code 3) and runs the image manager
// for each container that uses image, with an explanation in the context.
func runRecordsExplain(ctx context.Context, deps *Deps, o *recordsExplainOptions, image string, endpointSet, dockerConfigSet bool) error {
	if strings.TrimSpace(image) == "" {
		return usageErrorf("IMAGE: must not be empty")
	}
	e := o.ensure
	if o.pod != "" {
		e.podFiles = []string{o.pod}
	}
	if o.podName != "" {
		e.podNames = []string{o.podName}
	}
	e.dryRun = true
	in, client, err := e.validate(deps, endpointSet, dockerConfigSet)
	if err != nil {
		return err
	}
	for _, w := range in.cfg.warnings {
		fmt.Fprintf(deps.Stderr, "warning: kubelet config file %s: %s\n", quote(e.configFile), oneLine(w))
	}
	if client != nil {
		if in.pods, in.secrets, err = podsFromAPIServer(ctx, client, in.podNames); err != nil {
			return err
		}
	}
	pod := in.pods[0]
	used := containersUsing(pod, image)
	if len(used) == 0 {
		return usageErrorf("pod %s has no container using image %s (its images: %s)", podKey(pod), quote(image), podImages(pod))
	}
	if err := checkRootDirExists(e.rootDir); err != nil {
		return err
	}

	session, err := openSession(ctx, deps, sessionOptions{
		cfg:         in.cfg,
		rootDir:     e.rootDir,
		nodeKeyring: in.keyring,
		plugins:     pluginCredentials(in.plugins, client),
		secrets:     in.secrets,
		dryRun:      true,
	})
	if err != nil {
		return err
	}
	defer session.close(ctx)
	session.events.register(pod)

	out := explainPodOutput{Pod: podKey(pod), Containers: make([]explainContainerOutput, 0, len(used))}
	gateOn := in.cfg.ensureSecretPulledImages()
	for _, u := range used {
		out.Containers = append(out.Containers, explainContainer(ctx, session, pod, u, gateOn))
	}
	podLevel, containerEvents := session.events.eventsOf(pod)
	out.Events = podLevel
	for i := range out.Containers {
		out.Containers[i].Events = containerEvents(out.Containers[i].Name)
	}

	if e.output == outputJSON {
		err = writeJSONLine(deps.Stdout, out)
	} else {
		err = writeExplainText(deps.Stdout, out)
	}
	if err != nil {
		return environmentErrorf("writing output: %v", err)
	}
	for _, c := range out.Containers {
		if c.Result == resultDenied || c.Result == resultFailed {
			return errNotAdmitted
		}
	}
	return nil
}

// explainContainer runs the dry-run image manager for one container with
// an explanation in the context, and says why it got its result.
func explainContainer(ctx context.Context, s *ensureSession, pod *v1.Pod, u usedContainer, gateOn bool) explainContainerOutput {
	c := u.container
	ref := &v1.ObjectReference{
		Kind:       "Pod",
		APIVersion: "v1",
		Namespace:  pod.Namespace,
		Name:       pod.Name,
		UID:        pod.UID,
		FieldPath:  containerFieldPath(u.init, c.Name),
	}
	ex := &pullmanager.Explanation{}
	result, err := s.manager.EnsureImageExists(pullmanager.WithExplanation(ctx, ex), ref, pod, c)
	out := explainContainerOutput{containerOutput: containerResult(c, result, err, true)}
	exp := explanationOutput{EnsureSecretPulledImages: gateOn}
	exp.RuntimeImageID = runtimeImageID(ctx, s.imageService, c.Image)
	exp.Present = exp.RuntimeImageID != ""
	if ex.Rule != "" {
		exp.PullManager = ex
	}
	exp.DecidedBy = decidedBy(out.containerOutput, ex)
	exp.Summary = explainSummary(out.containerOutput, exp)
	out.Explanation = exp
	return out
}

// runtimeImageID asks the runtime for image's ID, as the image manager
// does; "" when it is absent or the runtime cannot say (the image
// manager's own answer is in the result).
func runtimeImageID(ctx context.Context, svc internalapi.ImageManagerService, image string) string {
	spec, err := parsers.ApplyDefaultImageTag(image)
	if err != nil {
		return ""
	}
	status, err := svc.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: spec}, false)
	if err != nil {
		return ""
	}
	return status.GetImage().GetId()
}

// decidedBy names what decided a container's result.
func decidedBy(c containerOutput, ex *pullmanager.Explanation) string {
	switch {
	case ex.Rule != "":
		return decidedByPullManager
	case c.Verification == string(pullmanager.VerificationNotPresent):
		return decidedByNotPresent
	case c.Verification == string(pullmanager.VerificationGateOff):
		return decidedByGateOff
	case c.Verification == string(pullmanager.VerificationMustPull):
		return decidedByPullPolicy
	case c.Reason == images.ErrInvalidImageName.Error():
		return decidedByImageName
	}
	return decidedByImageStatus
}

// explainSummary says in a paragraph what ensure would do and why.
func explainSummary(c containerOutput, e explanationOutput) string {
	outcome := c.Result
	if c.Reason != "" {
		outcome += " (" + c.Reason + ")"
	}
	var why string
	switch e.DecidedBy {
	case decidedByPullManager:
		why = e.PullManager.Why
		switch {
		case c.Result == resultWouldPull:
			why += fmt.Sprintf("; with pull policy %s the kubelet pulls with the pod's credentials and the registry decides", c.PullPolicy)
		case c.Result == resultDenied:
			why += "; with pull policy Never the pod is told the image is not present for it"
		}
	case decidedByNotPresent:
		why = "the image is not present on the node"
		if c.PullPolicy == v1.PullNever {
			why += ", and pull policy Never forbids pulling it"
		} else {
			why += fmt.Sprintf(", so with pull policy %s the kubelet pulls it with the pod's credentials", c.PullPolicy)
		}
	case decidedByPullPolicy:
		why = "pull policy Always: the kubelet pulls with the pod's credentials every time, and the pull is the verification; the records are not consulted"
	case decidedByGateOff:
		why = "the KubeletEnsureSecretPulledImages feature gate is off: any pod may use a present image, and nothing is recorded"
	default:
		why = c.Message
	}
	if c.Result == resultFailed && e.DecidedBy != decidedByPullManager && c.Message != "" && why != c.Message {
		why += ": " + c.Message
	}
	return outcome + ": " + why + "."
}

// writeExplainText writes one block per container: the summary, then the
// facts a kubectl describe would list, then the events.
func writeExplainText(w io.Writer, out explainPodOutput) error {
	for i, c := range out.Containers {
		if i > 0 {
			fmt.Fprintln(w)
		}
		e := c.Explanation
		fmt.Fprintf(w, "Pod %s, container %s: image %s, pull policy %s\n", out.Pod, c.Name, c.Image, c.PullPolicy)
		fmt.Fprintf(w, "%s\n\n", e.Summary)
		tw := newTabWriter(w)
		row := func(label, value string) { fmt.Fprintf(tw, "  %s:\t%s\n", label, value) }
		row("Result", fmt.Sprintf("%s (verification %s)", c.Result, orNone(c.Verification)))
		row("Decided by", explainDecidedBy(e))
		row("Feature gate", fmt.Sprintf("KubeletEnsureSecretPulledImages=%v", e.EnsureSecretPulledImages))
		if e.Present {
			row("Image", "present, image ID "+e.RuntimeImageID)
		} else {
			row("Image", "not present")
		}
		if ex := e.PullManager; ex != nil {
			row("Policy", explainPolicy(ex.Policy))
			row("Repository", orNone(ex.Repository))
			row("Record file", explainRecordText(ex.Record))
			row("Pulled by kubelet", explainPulledText(ex))
			for _, in := range ex.PulledByKubelet.Intents {
				row("  intent", explainIntentText(in))
			}
			row("Entry", explainEntryText(ex.Entry))
			for _, s := range ex.Entry.KubernetesSecrets {
				row("  recorded secret", secretText(s))
			}
			for _, sa := range ex.Entry.KubernetesServiceAccounts {
				row("  recorded service account", serviceAccountText(sa))
			}
			row("Pod credentials", explainCredentialsText(ex.Credentials))
			for _, s := range ex.Credentials.KubernetesSecrets {
				row("  pod secret", secretText(s))
			}
			if sa := ex.Credentials.KubernetesServiceAccount; sa != nil {
				row("  pod service account", serviceAccountText(*sa))
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	var events [][2]string
	for _, e := range out.Events {
		events = append(events, [2]string{out.Pod, e.Type + "\t" + e.Reason + "\t" + oneLine(e.Message)})
	}
	for _, c := range out.Containers {
		for _, e := range c.Events {
			events = append(events, [2]string{out.Pod + "/" + c.Name, e.Type + "\t" + e.Reason + "\t" + oneLine(e.Message)})
		}
	}
	if len(events) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := newTabWriter(w)
	fmt.Fprintln(tw, "OBJECT\tTYPE\tREASON\tMESSAGE")
	for _, e := range events {
		fmt.Fprintf(tw, "%s\t%s\n", e[0], e[1])
	}
	return tw.Flush()
}

func explainDecidedBy(e explanationOutput) string {
	if e.PullManager == nil {
		return e.DecidedBy
	}
	return fmt.Sprintf("pull manager, step %d (%s)", e.PullManager.Step, e.PullManager.Rule)
}

func explainPolicy(p pullmanager.PolicyExplanation) string {
	if p.Name != config.NeverVerifyAllowlistedImages {
		return string(p.Name)
	}
	if p.AllowlistEntry != "" {
		return fmt.Sprintf("%s; allowlist entry %s matches", p.Name, quote(p.AllowlistEntry))
	}
	return fmt.Sprintf("%s; no allowlist entry matches (allowlist: %s)", p.Name, strings.Join(p.Allowlist, ", "))
}

func explainRecordText(r pullmanager.RecordExplanation) string {
	switch {
	case r.File == "":
		return "<none>"
	case r.Poisoned:
		return shortFile(r.File) + " (broken, grants nothing: " + oneLine(r.Error) + ")"
	case !r.Found:
		return shortFile(r.File) + " (no such record)"
	}
	state := "last updated " + r.LastUpdatedTime
	if !r.OnDisk {
		state = "in memory only: start-up housekeeping made it from an intent, as the kubelet does when it starts"
	}
	names := "repositories " + strings.Join(r.Repositories, ", ")
	if r.EmptyMapping {
		names = "empty mapping: counts as pulled by the kubelet under every name"
	}
	return fmt.Sprintf("%s (%s; %s)", shortFile(r.File), state, names)
}

func explainPulledText(ex *pullmanager.Explanation) string {
	p := ex.PulledByKubelet
	if ex.Repository == "" {
		return "<unknown: the image does not parse>"
	}
	var text string
	switch p.Why {
	case pullmanager.PulledByEntry:
		text = "yes: the record has an entry for " + ex.Repository
	case pullmanager.PulledByEmptyMapping:
		text = "yes: the record's mapping is empty"
	case pullmanager.PulledByPullInFlight:
		text = "yes: a pull of this name is in flight"
	case pullmanager.PulledByIntent:
		text = "yes: an intent exists for this name"
	default:
		text = "no: the name counts as preloaded"
	}
	if ex.Policy.Name != config.NeverVerifyPreloadedImages {
		text += " (matters only under NeverVerifyPreloadedImages)"
	}
	return text
}

func explainIntentText(in pullmanager.IntentExplanation) string {
	switch {
	case in.Broken:
		return shortFile(in.File) + " (broken; counts as an intent for this image)"
	case in.ResolvedAtStartup:
		return fmt.Sprintf("%s for %s (the runtime has the image: start-up housekeeping turns it into an empty entry)", shortFile(in.File), in.Image)
	}
	return fmt.Sprintf("%s for %s", shortFile(in.File), in.Image)
}

func explainEntryText(e pullmanager.EntryExplanation) string {
	var text string
	switch {
	case !e.Found:
		return "<none>"
	case e.NodePodsAccessible:
		text = "nodePodsAccessible (any pod on the node)"
	case len(e.KubernetesSecrets) == 0 && len(e.KubernetesServiceAccounts) == 0:
		text = "{} (pulled by the kubelet; grants nothing)"
	default:
		text = fmt.Sprintf("%d secret(s), %d service account(s)", len(e.KubernetesSecrets), len(e.KubernetesServiceAccounts))
	}
	if !e.OnDisk {
		text += ", in memory only (start-up housekeeping)"
	}
	return text
}

func explainCredentialsText(c pullmanager.CredentialsExplanation) string {
	switch {
	case !c.Resolved:
		return "not resolved (the decision did not need them)"
	case c.Error != "":
		return "could not be resolved: " + oneLine(c.Error)
	case len(c.KubernetesSecrets) == 0 && c.KubernetesServiceAccount == nil:
		return "none for this image"
	}
	text := fmt.Sprintf("%d secret credential(s)", len(c.KubernetesSecrets))
	if c.KubernetesServiceAccount != nil {
		text += ", a service account"
	}
	switch c.WriteBack {
	case pullmanager.WriteBackAddCoordinates:
		text += "; the kubelet would add the deciding Secret's coordinates (explain writes nothing)"
	case pullmanager.WriteBackStoreHash:
		text += "; the kubelet would store the deciding Secret's new hash (explain writes nothing)"
	}
	if c.CapReached {
		text += "; the entry is at the cap of Secrets decisions may add"
	}
	return text
}

func secretText(s pullmanager.SecretExplanation) string {
	text := fmt.Sprintf("%s/%s uid=%s hash=%s", s.Namespace, s.Name, shortHash(s.UID), orNone(s.CredentialHash))
	switch s.Match {
	case pullmanager.MatchHash:
		text += ": hash matches"
	case pullmanager.MatchCoordinates:
		text += ": coordinates match, hash differs"
	default:
		text += ": no match"
	}
	if s.Decided {
		text += " (decided)"
	}
	return text
}

func serviceAccountText(sa pullmanager.ServiceAccountExplanation) string {
	text := fmt.Sprintf("%s/%s uid=%s", sa.Namespace, sa.Name, shortHash(sa.UID))
	if sa.Match {
		return text + ": matches"
	}
	return text + ": no match"
}
