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
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/imagepullrecords"

	"k8s.io/kubernetes/pkg/credentialprovider"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/cri/remote"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
	"k8s.io/kubernetes/pkg/util/parsers"
)

// The images of the fake registry.
const (
	// privateApp may be pulled by alice and carol.
	privateApp   = "reg.example/team/app:1"
	privateAppID = "sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
	// publicTool may be pulled by anyone, alice included.
	publicTool   = "reg.example/public/tool:1"
	publicToolID = "sha256:b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"

	appSize  = 1234
	toolSize = 567
)

// Namespaces of the tenants.
const (
	nsX = "tenant-x"
	nsY = "tenant-y"
)

func addRegistryImages(rt *fakeRuntime) {
	rt.addRemote(privateApp, remoteImage{
		id: privateAppID, size: appSize,
		manifestDigest: "sha256:c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3",
		users:          map[string]string{"alice": "alice-pw", "carol": "carol-pw"},
	})
	rt.addRemote(publicTool, remoteImage{
		id: publicToolID, size: toolSize,
		manifestDigest: "sha256:d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4",
		anonymous:      true,
		users:          map[string]string{"alice": "alice-pw"},
	})
}

// dockerConfigJSON returns a .dockerconfigjson for one registry entry.
func dockerConfigJSON(registry, user, password string) []byte {
	data, err := json.Marshal(map[string]any{
		"auths": map[string]any{registry: map[string]string{"username": user, "password": password}},
	})
	if err != nil {
		panic(err)
	}
	return data
}

// dockerSecret is a kubernetes.io/dockerconfigjson Secret for reg.example.
func dockerSecret(ns, name, uid, user, password string) *v1.Secret {
	return &v1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid)},
		Type:       v1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{v1.DockerConfigJsonKey: dockerConfigJSON("reg.example", user, password)},
	}
}

// The Secrets of the tests: S1 and S2 hold alice's credentials, S3 carol's,
// refused a password the registry refuses.
var (
	secretS1      = dockerSecret(nsX, "s1", "uid-s1", "alice", "alice-pw")
	secretS2      = dockerSecret(nsX, "s2", "uid-s2", "alice", "alice-pw")
	secretS3      = dockerSecret(nsX, "s3", "uid-s3", "carol", "carol-pw")
	secretRefused = dockerSecret(nsY, "refused", "uid-refused", "mallory", "guess")
)

type envOptions struct {
	gateOff   bool
	policy    kubeletconfig.ImagePullCredentialsVerificationPolicy
	allowlist []string
	// fs is the pull manager's filesystem; nil for the real one.
	fs imagepullrecords.FS
	// pullManager replaces the file-backed one when set.
	pullManager pullmanager.PullManager
	readOnly    bool
	dryRun      bool
	serialize   bool
	maxParallel *int32
	backoff     *flowcontrol.Backoff
	nodeKeyring credentialprovider.DockerKeyring
	// plugins stands in for the credential provider plugins.
	plugins PluginCredentials
	// noRegistry leaves the fake registry empty.
	noRegistry bool
	secrets    []*v1.Secret
	// rootDir reuses a root dir; empty for a new one.
	rootDir string
}

// testEnv is an image manager over a fake runtime, a file-backed pull
// manager in a temporary root dir, a fake recorder and a Secret store.
type testEnv struct {
	t        *testing.T
	runtime  *fakeRuntime
	recorder *fakeRecorder
	rootDir  string
	manager  ImageManager

	mu         sync.Mutex
	secrets    map[string]*v1.Secret
	secretGets []string
	// getSecretErr fails every GetSecret call when set.
	getSecretErr error
}

func newTestEnv(ctx context.Context, t *testing.T, opts envOptions) *testEnv {
	t.Helper()
	env := &testEnv{
		t:        t,
		runtime:  newFakeRuntime(),
		recorder: &fakeRecorder{},
		rootDir:  opts.rootDir,
		secrets:  map[string]*v1.Secret{},
	}
	if !opts.noRegistry {
		addRegistryImages(env.runtime)
	}
	if env.rootDir == "" {
		env.rootDir = t.TempDir()
	}
	for _, s := range append([]*v1.Secret{secretS1, secretS2, secretS3, secretRefused}, opts.secrets...) {
		env.secrets[s.Namespace+"/"+s.Name] = s
	}
	pm := opts.pullManager
	if pm == nil {
		policy := opts.policy
		if policy == "" {
			policy = kubeletconfig.NeverVerifyPreloadedImages
		}
		fm, err := pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{
			RootDir:     env.rootDir,
			FS:          opts.fs,
			Policy:      policy,
			Allowlist:   opts.allowlist,
			ImageLister: remote.ImageLister{ImageService: env.runtime},
			ReadOnly:    opts.readOnly,
		})
		if err != nil {
			t.Fatalf("NewFileBackedPullManager: %v", err)
		}
		t.Cleanup(func() { _ = fm.Close() })
		pm = fm
	}
	manager, err := NewImageManager(Options{
		ImageService:             env.runtime,
		PullManager:              pm,
		EnsureSecretPulledImages: !opts.gateOff,
		Recorder:                 env.recorder,
		NodeKeyring:              opts.nodeKeyring,
		GetSecret:                env.getSecret,
		PluginCredentials:        opts.plugins,
		SerializeImagePulls:      opts.serialize,
		MaxParallelImagePulls:    opts.maxParallel,
		Backoff:                  opts.backoff,
		DryRun:                   opts.dryRun,
	})
	if err != nil {
		t.Fatalf("NewImageManager: %v", err)
	}
	t.Cleanup(manager.Stop)
	env.manager = manager
	return env
}

func (e *testEnv) getSecret(_ context.Context, namespace, name string) (*v1.Secret, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.secretGets = append(e.secretGets, namespace+"/"+name)
	if e.getSecretErr != nil {
		return nil, e.getSecretErr
	}
	s, ok := e.secrets[namespace+"/"+name]
	if !ok {
		return nil, apierrors.NewNotFound(v1.Resource("secrets"), name)
	}
	return s.DeepCopy(), nil
}

func (e *testEnv) takeSecretGets() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.secretGets
	e.secretGets = nil
	return out
}

// newPod returns a pod with one container named "app" using image with the
// pull policy, referencing the named pull Secrets.
func newPod(ns, name string, image string, policy v1.PullPolicy, secretNames ...string) *v1.Pod {
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + ns + "-" + name)},
		Spec: v1.PodSpec{
			Containers: []v1.Container{{Name: "app", Image: image, ImagePullPolicy: policy}},
		},
	}
	for _, s := range secretNames {
		pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, v1.LocalObjectReference{Name: s})
	}
	return pod
}

// ensure runs EnsureImageExists for the pod's first container.
func (e *testEnv) ensure(ctx context.Context, pod *v1.Pod) (EnsureResult, error) {
	c := &pod.Spec.Containers[0]
	ref := &v1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, FieldPath: "spec.containers{" + c.Name + "}"}
	return e.manager.EnsureImageExists(ctx, ref, pod, c)
}

// mustAdmit runs ensure and fails the test unless the image is admitted.
func (e *testEnv) mustAdmit(ctx context.Context, pod *v1.Pod) EnsureResult {
	e.t.Helper()
	res, err := e.ensure(ctx, pod)
	if err != nil || res.ImageRef == "" {
		e.t.Fatalf("EnsureImageExists(%s) = %+v, %v; want admitted", pod.Name, res, err)
	}
	return res
}

// files lists the record files of a subdirectory of image_manager.
func (e *testEnv) files(subdir string) []string {
	e.t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.rootDir, imagepullrecords.ManagerDirName, subdir))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		e.t.Fatalf("reading %s: %v", subdir, err)
	}
	var names []string
	for _, entry := range entries {
		names = append(names, entry.Name())
	}
	return names
}

func (e *testEnv) intentFiles() []string { return e.files(imagepullrecords.IntentsDirName) }
func (e *testEnv) recordFiles() []string { return e.files(imagepullrecords.RecordsDirName) }

// recordedCredentials returns the credentials recorded for imageRef under
// repo(image), read from disk: "node" for nodePodsAccessible, else
// "ns/name" of every Secret and "sa:ns/name" of every service account,
// sorted; nil when there is no entry.
func (e *testEnv) recordedCredentials(imageRef, image string) []string {
	e.t.Helper()
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: filepath.Join(e.rootDir, imagepullrecords.ManagerDirName), ReadOnly: true})
	if err != nil {
		e.t.Fatalf("opening the records: %v", err)
	}
	record, err := store.ReadRecord(imageRef)
	if err != nil {
		e.t.Fatalf("reading the record of %s: %v", imageRef, err)
	}
	if record == nil {
		return nil
	}
	repo, err := parsers.RepositoryName(image)
	if err != nil {
		e.t.Fatalf("RepositoryName(%s): %v", image, err)
	}
	entry, ok := record.CredentialMapping[repo]
	if !ok {
		return nil
	}
	out := []string{}
	if entry.NodePodsAccessible {
		out = append(out, "node")
	}
	for _, s := range entry.KubernetesSecrets {
		out = append(out, s.Namespace+"/"+s.Name)
	}
	for _, sa := range entry.KubernetesServiceAccounts {
		out = append(out, "sa:"+sa.Namespace+"/"+sa.Name)
	}
	sort.Strings(out)
	return out
}
