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

package imagemanager

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/imagepullrecords"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	"k8s.io/utils/clock"

	"k8s.io/kubernetes/pkg/credentialprovider"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/cri/embedded/imageservice"
	"k8s.io/kubernetes/pkg/kubelet/cri/embedded/registry"
	"k8s.io/kubernetes/pkg/kubelet/cri/remote"
	"k8s.io/kubernetes/pkg/kubelet/images"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// Tenant A's registry users. user1 and user2 may pull every team-a
// repository; refusedPassword is a password the registry refuses for user1.
const (
	user1           = "user1"
	pass1           = "pass1"
	user2           = "user2"
	pass2           = "pass2"
	refusedPassword = "not-pass1"
)

// Repositories of the registry (URL paths, without host or tag).
const (
	// repoP is tenant A's private image P.
	repoP = "team-a/p"
	// repoQ is a second private image of tenant A (a near miss of P, and a
	// second record for pruning).
	repoQ = "team-a/q"
	// repoM and repoN hold one image (one image ID) under two names.
	repoM = "team-a/m"
	repoN = "team-a/n"
	// repoPublic may be pulled anonymously (and by any valid user).
	repoPublic = "public/app"
)

// tag is the tag every image is pushed with.
const tag = ":1"

// Namespaces of the pods.
const (
	nsX = "ns-x"
	nsY = "ns-y"
)

// Names of the Secrets of the scenarios.
const (
	// secretS1 is pod A's Secret (namespace X, user1).
	secretS1 = "s1"
	// secretS2 holds user1's credentials too, in docker config "auth" form.
	secretS2 = "s2"
	// secretS3 holds other valid credentials (user2).
	secretS3 = "s3"
	// secretRefused holds user1 with a password the registry refuses
	// (namespace Y).
	secretRefused = "refused"
)

// envOptions configure a test environment.
type envOptions struct {
	// gateOff turns KubeletEnsureSecretPulledImages off: the image manager
	// gets the no-op pull manager.
	gateOff bool
	// policy is the verification policy; empty means
	// NeverVerifyPreloadedImages.
	policy kubeletconfig.ImagePullCredentialsVerificationPolicy
	// allowlist is built from the registry address once it is known.
	allowlist func(host string) []string
	// clock stamps the records; nil means the real clock.
	clock clock.Clock
	// nodeCreds are the node-wide credentials, from the registry address.
	nodeCreds func(host string) credentialprovider.DockerConfig
	// listerDown, while true, makes the pull manager's image lister fail as
	// if the runtime were unreachable (EnsureImageExists still reaches it).
	listerDown *atomic.Bool
	// housekeepingAttempts is the pull manager's HousekeepingAttempts.
	housekeepingAttempts int
	// serialize and maxParallel choose the puller.
	serialize   bool
	maxParallel *int32
}

// env is one test's node: a registry, a runtime, a root dir and an image
// manager over them.
type env struct {
	t    *testing.T
	ctx  context.Context
	opts envOptions

	reg      *registry.Registry
	runtime  *imageservice.Server
	cri      internalapi.ImageManagerService
	rootDir  string
	recorder *record.FakeRecorder
	// ids maps repository paths to the image ID pushed there.
	ids map[string]string
	// digests maps repository paths to the manifest digest pushed there.
	digests map[string]string

	pullManager pullmanager.Manager
	manager     images.ImageManager

	secretsMu sync.Mutex
	secrets   map[string]*v1.Secret

	podSeq atomic.Int64
}

// newEnv starts a registry with tenant A's users and images, the embedded
// image service on its own socket, and an image manager over a new root
// dir. Everything stops when the test ends.
func newEnv(t *testing.T, opts envOptions) *env {
	t.Helper()
	_, ctx := ktesting.NewTestContext(t)
	// The registry and the runtime log to nowhere: their request lines
	// would drown the image manager's log on a failure.
	quiet := klog.Logger{}
	tenantA := []string{user1, user2}
	reg, err := registry.New(registry.Options{
		Users: map[string]string{user1: pass1, user2: pass2},
		Repos: map[string]registry.Access{
			repoP:      {Users: tenantA},
			repoQ:      {Users: tenantA},
			repoM:      {Users: tenantA},
			repoN:      {Users: tenantA},
			repoPublic: {Anonymous: true},
		},
		Logger: quiet,
	})
	if err != nil {
		t.Fatalf("starting the registry: %v", err)
	}
	t.Cleanup(func() {
		if err := reg.Stop(); err != nil {
			t.Errorf("stopping the registry: %v", err)
		}
	})

	e := &env{
		t:        t,
		ctx:      ctx,
		opts:     opts,
		reg:      reg,
		rootDir:  t.TempDir(),
		recorder: record.NewFakeRecorder(1000),
		ids:      map[string]string{},
		digests:  map[string]string{},
		secrets:  map[string]*v1.Secret{},
	}
	for _, repo := range []string{repoP, repoQ, repoPublic} {
		// P is also tagged latest, for pods that name it without a tag.
		names := []string{repo + tag}
		if repo == repoP {
			names = append(names, repo+":latest")
		}
		pushed, err := reg.Push(ctx, names...)
		if err != nil {
			t.Fatalf("pushing %s: %v", repo, err)
		}
		e.ids[repo] = pushed.ID
		e.digests[repo] = pushed.ManifestDigest
	}
	mn, err := reg.Push(ctx, repoM+tag, repoN+tag)
	if err != nil {
		t.Fatalf("pushing one image as %s and %s: %v", repoM, repoN, err)
	}
	e.ids[repoM], e.ids[repoN] = mn.ID, mn.ID

	e.runtime, err = imageservice.Start(imageservice.Options{Logger: quiet})
	if err != nil {
		t.Fatalf("starting the image service: %v", err)
	}
	t.Cleanup(func() {
		if err := e.runtime.Stop(); err != nil {
			t.Errorf("stopping the image service: %v", err)
		}
	})
	e.cri, err = remote.NewImageService(ctx, e.runtime.Endpoint(), 30*time.Second)
	if err != nil {
		t.Fatalf("connecting to the image service: %v", err)
	}
	t.Cleanup(func() { _ = e.cri.Close(context.Background()) })

	e.setSecret(nsX, secretS1, "uid-s1-1", dockerConfigJSON(reg.Addr(), user1, pass1))
	e.setSecret(nsX, secretS2, "uid-s2-1", dockerConfigAuth(reg.Addr(), user1, pass1))
	e.setSecret(nsX, secretS3, "uid-s3-1", dockerConfigJSON(reg.Addr(), user2, pass2))
	e.setSecret(nsY, secretRefused, "uid-refused-1", dockerConfigJSON(reg.Addr(), user1, refusedPassword))

	e.start()
	t.Cleanup(e.stop)
	return e
}

// start opens a pull manager over the root dir and an image manager over it,
// as a kubelet does at start-up.
func (e *env) start() {
	e.t.Helper()
	pm := pullmanager.NewNoopPullManager()
	if !e.opts.gateOff {
		var allowlist []string
		if e.opts.allowlist != nil {
			allowlist = e.opts.allowlist(e.reg.Addr())
		}
		var err error
		pm, err = pullmanager.NewFileBackedPullManager(e.ctx, pullmanager.Options{
			RootDir:              e.rootDir,
			Policy:               e.opts.policy,
			Allowlist:            allowlist,
			ImageLister:          switchableLister{lister: remote.ImageLister{ImageService: e.cri}, down: e.opts.listerDown},
			Clock:                e.opts.clock,
			HousekeepingAttempts: e.opts.housekeepingAttempts,
		})
		if err != nil {
			e.t.Fatalf("NewFileBackedPullManager: %v", err)
		}
	}
	var nodeKeyring credentialprovider.DockerKeyring
	if e.opts.nodeCreds != nil {
		keyring := &credentialprovider.BasicDockerKeyring{}
		keyring.Add(nil, e.opts.nodeCreds(e.reg.Addr()))
		nodeKeyring = keyring
	}
	manager, err := images.NewImageManager(images.Options{
		ImageService:             e.cri,
		PullManager:              pm,
		EnsureSecretPulledImages: !e.opts.gateOff,
		Recorder:                 e.recorder,
		GetSecret:                e.getSecret,
		NodeKeyring:              nodeKeyring,
		SerializeImagePulls:      e.opts.serialize,
		MaxParallelImagePulls:    e.opts.maxParallel,
	})
	if err != nil {
		_ = pm.Close()
		e.t.Fatalf("NewImageManager: %v", err)
	}
	e.pullManager, e.manager = pm, manager
}

// stop stops the image manager and releases the pull manager's lock, as a
// kubelet that exits does.
func (e *env) stop() {
	if e.manager == nil {
		return
	}
	e.manager.Stop()
	if err := e.pullManager.Close(); err != nil {
		e.t.Errorf("closing the pull manager: %v", err)
	}
	e.manager, e.pullManager = nil, nil
}

// restart is a kubelet restart: a new pull manager and image manager over
// the same root dir and runtime.
func (e *env) restart() {
	e.t.Helper()
	e.stop()
	e.start()
}

// image returns the pullable reference of repo with the tag.
func (e *env) image(repo string) string {
	return e.reg.Ref(repo + tag)
}

// repoKey returns repo(image) for repo: the credentialMapping key.
func (e *env) repoKey(repo string) string {
	return e.reg.Ref(repo)
}

// dockerConfigJSON returns a .dockerconfigjson with username and password.
func dockerConfigJSON(host, user, password string) []byte {
	return mustJSON(map[string]any{
		"auths": map[string]any{host: map[string]string{"username": user, "password": password}},
	})
}

// dockerConfigAuth returns a .dockerconfigjson with the credentials in the
// "auth" field only.
func dockerConfigAuth(host, user, password string) []byte {
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	return mustJSON(map[string]any{
		"auths": map[string]any{host: map[string]string{"auth": auth}},
	})
}

func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

// credHash is the credential hash a record holds for a user and password.
func credHash(user, password string) string {
	return credentialprovider.HashAuthConfig(credentialprovider.AuthConfig{Username: user, Password: password})
}

// setSecret creates or replaces a kubernetes.io/dockerconfigjson Secret.
func (e *env) setSecret(ns, name, uid string, dockerConfig []byte) {
	e.secretsMu.Lock()
	defer e.secretsMu.Unlock()
	e.secrets[ns+"/"+name] = &v1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid)},
		Type:       v1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{v1.DockerConfigJsonKey: dockerConfig},
	}
}

// deleteSecret removes a Secret.
func (e *env) deleteSecret(ns, name string) {
	e.secretsMu.Lock()
	defer e.secretsMu.Unlock()
	delete(e.secrets, ns+"/"+name)
}

// secretUID returns the UID of a Secret.
func (e *env) secretUID(ns, name string) string {
	e.secretsMu.Lock()
	defer e.secretsMu.Unlock()
	return string(e.secrets[ns+"/"+name].UID)
}

// getSecret is the image manager's SecretGetter.
func (e *env) getSecret(_ context.Context, ns, name string) (*v1.Secret, error) {
	e.secretsMu.Lock()
	defer e.secretsMu.Unlock()
	s, ok := e.secrets[ns+"/"+name]
	if !ok {
		return nil, apierrors.NewNotFound(v1.Resource("secrets"), name)
	}
	return s.DeepCopy(), nil
}

// pod returns a new pod (new name and UID, so no back-off is shared) in ns
// with one container using image with the pull policy and the named pull
// Secrets.
func (e *env) pod(ns, image string, policy v1.PullPolicy, secretNames ...string) *v1.Pod {
	n := e.podSeq.Add(1)
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns,
			Name:      fmt.Sprintf("pod-%d", n),
			UID:       types.UID(fmt.Sprintf("pod-uid-%d", n)),
		},
		Spec: v1.PodSpec{
			Containers: []v1.Container{{Name: "app", Image: image, ImagePullPolicy: policy}},
		},
	}
	for _, s := range secretNames {
		pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, v1.LocalObjectReference{Name: s})
	}
	return pod
}

// ensure runs EnsureImageExists for the pod's container over the CRI socket.
func (e *env) ensure(pod *v1.Pod) (images.EnsureResult, error) {
	c := &pod.Spec.Containers[0]
	ref := &v1.ObjectReference{
		Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
		FieldPath: "spec.containers{" + c.Name + "}",
	}
	return e.manager.EnsureImageExists(e.ctx, ref, pod, c)
}

// mustAdmit runs ensure and fails the test unless the image is admitted.
func (e *env) mustAdmit(pod *v1.Pod) images.EnsureResult {
	e.t.Helper()
	res, err := e.ensure(pod)
	if err != nil || res.ImageRef == "" {
		e.t.Fatalf("EnsureImageExists(%s in %s, %s) = %+v, %v; want admitted",
			pod.Spec.Containers[0].Image, pod.Namespace, pod.Spec.ImagePullSecrets, res, err)
	}
	return res
}

// outcome is what a test expects of one EnsureImageExists call.
type outcome struct {
	// admitted: the image ref is the image ID and the error is nil.
	admitted bool
	// reason is the failure reason when not admitted.
	reason string
	// verification is the rule that decided.
	verification pullmanager.Verification
	// pullAttempted: a runtime pull was made.
	pullAttempted bool
	// noRegistryContact: the registry saw no request during the call.
	noRegistryContact bool
	// pulledAs lists the user names of the runtime pulls made during the
	// call ("" for anonymous); checked when pullAttempted.
	pulledAs []string
	// message is a substring of the result's message (the registry's 401
	// for a refused pull).
	message string
}

// check runs ensure for pod and compares with want; wantID is the image ID
// an admitted pod gets.
func (e *env) check(pod *v1.Pod, wantID string, want outcome) images.EnsureResult {
	e.t.Helper()
	before, pullsBefore := len(e.reg.AccessLog()), len(e.runtime.Pulls())
	res, err := e.ensure(pod)
	contacts := e.reg.AccessLog()[before:]
	var pulledAs []string
	for _, p := range e.runtime.Pulls()[pullsBefore:] {
		pulledAs = append(pulledAs, p.Username)
	}
	what := fmt.Sprintf("EnsureImageExists(%s, %s, ns %s, secrets %v)",
		pod.Spec.Containers[0].Image, pod.Spec.Containers[0].ImagePullPolicy, pod.Namespace, pod.Spec.ImagePullSecrets)
	if want.admitted {
		if err != nil || res.ImageRef != wantID || res.Reason != "" {
			e.t.Errorf("%s = %+v, %v; want admitted with image ref %s", what, res, err, wantID)
		}
	} else {
		if err == nil || res.ImageRef != "" || res.Reason != want.reason {
			e.t.Errorf("%s = %+v, %v; want reason %s", what, res, err, want.reason)
		}
		var ensureErr *images.EnsureError
		if err != nil && (!errors.As(err, &ensureErr) || ensureErr.Reason.Error() != want.reason) {
			e.t.Errorf("%s error %v is not an EnsureError with reason %s", what, err, want.reason)
		}
	}
	if res.Verification != want.verification {
		e.t.Errorf("%s verification = %q, want %q", what, res.Verification, want.verification)
	}
	if res.PullAttempted != want.pullAttempted {
		e.t.Errorf("%s PullAttempted = %v, want %v", what, res.PullAttempted, want.pullAttempted)
	}
	if want.noRegistryContact && len(contacts) != 0 {
		e.t.Errorf("%s contacted the registry: %+v", what, contacts)
	}
	if want.pullAttempted {
		if !slices.Equal(pulledAs, want.pulledAs) {
			e.t.Errorf("%s pulled as users %q, want %q", what, pulledAs, want.pulledAs)
		}
	} else if len(pulledAs) != 0 {
		e.t.Errorf("%s made runtime pulls as users %q, want none", what, pulledAs)
	}
	if !strings.Contains(res.Message, want.message) {
		e.t.Errorf("%s message = %q, want it to contain %q", what, res.Message, want.message)
	}
	return res
}

// events drains the recorded events ("Type Reason Message").
func (e *env) events() []string {
	var out []string
	for {
		select {
		case ev := <-e.recorder.Events:
			out = append(out, ev)
		default:
			return out
		}
	}
}

// hasEvent reports whether events holds one with the type and reason.
func hasEvent(events []string, eventType, reason string) bool {
	for _, ev := range events {
		if strings.HasPrefix(ev, eventType+" "+reason+" ") {
			return true
		}
	}
	return false
}

// managerDir is <root>/image_manager.
func (e *env) managerDir() string {
	return filepath.Join(e.rootDir, imagepullrecords.ManagerDirName)
}

// record reads the record of imageRef from disk, as a node tool would; nil
// when there is none.
func (e *env) record(imageRef string) *kubeletv1beta1.ImagePulledRecord {
	e.t.Helper()
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: e.managerDir(), ReadOnly: true})
	if err != nil {
		e.t.Fatalf("opening the records: %v", err)
	}
	rec, err := store.ReadRecord(imageRef)
	if err != nil {
		e.t.Fatalf("reading the record of %s: %v", imageRef, err)
	}
	return rec
}

// mapping returns the credentialMapping of imageRef's record on disk, nil
// when there is no record.
func (e *env) mapping(imageRef string) map[string]kubeletv1beta1.ImagePullCredentials {
	e.t.Helper()
	rec := e.record(imageRef)
	if rec == nil {
		return nil
	}
	return rec.CredentialMapping
}

// secretCred is the record entry of a Secret holding user and password.
func (e *env) secretCred(ns, name, user, password string) kubeletv1beta1.ImagePullSecret {
	return kubeletv1beta1.ImagePullSecret{
		UID:            e.secretUID(ns, name),
		Namespace:      ns,
		Name:           name,
		CredentialHash: credHash(user, password),
	}
}

// secretsEntry is a credentialMapping entry holding the Secrets.
func secretsEntry(secrets ...kubeletv1beta1.ImagePullSecret) kubeletv1beta1.ImagePullCredentials {
	return kubeletv1beta1.ImagePullCredentials{KubernetesSecrets: secrets}
}

// preload puts repo's image in the runtime without a CRI pull, with user1's
// credentials, as an operator preloading the node would.
func (e *env) preload(repo string) string {
	e.t.Helper()
	return e.preloadAs(repo, e.image(repo))
}

// preloadAs preloads repo's image under the reference image.
func (e *env) preloadAs(repo, image string) string {
	e.t.Helper()
	id, err := e.runtime.Preload(e.ctx, image, &runtimeapi.AuthConfig{Username: user1, Password: pass1})
	if err != nil {
		e.t.Fatalf("preloading %s: %v", image, err)
	}
	if id != e.ids[repo] {
		e.t.Fatalf("preloading %s gave image ID %s, want %s", repo, id, e.ids[repo])
	}
	return id
}

// removeImage removes an image from the runtime through the CRI, as image
// garbage collection does.
func (e *env) removeImage(imageRef string) {
	e.t.Helper()
	if err := e.cri.RemoveImage(e.ctx, &runtimeapi.ImageSpec{Image: imageRef}); err != nil {
		e.t.Fatalf("removing image %s: %v", imageRef, err)
	}
}

// pullAsPodA is the start of every section 9 scenario: pod A (namespace X,
// Secret S1 with user1's valid credentials) pulls repo's image, which is
// not yet on the node, and the record holds S1.
func (e *env) pullAsPodA(repo string) {
	e.t.Helper()
	e.check(e.pod(nsX, e.image(repo), v1.PullIfNotPresent, secretS1), e.ids[repo], outcome{
		admitted: true, verification: pullmanager.VerificationNotPresent, pullAttempted: true, pulledAs: []string{user1},
	})
	if e.opts.gateOff {
		return
	}
	assertMapping(e.t, e.mapping(e.ids[repo]), map[string]kubeletv1beta1.ImagePullCredentials{
		e.repoKey(repo): secretsEntry(e.secretCred(nsX, secretS1, user1, pass1)),
	})
}

// managerDirExists reports whether <root>/image_manager exists.
func (e *env) managerDirExists() bool {
	e.t.Helper()
	_, err := os.Lstat(e.managerDir())
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err != nil {
		e.t.Fatalf("stat %s: %v", e.managerDir(), err)
	}
	return true
}

// assertMapping compares a record's credentialMapping with want.
func assertMapping(t *testing.T, got, want map[string]kubeletv1beta1.ImagePullCredentials) {
	t.Helper()
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("credentialMapping on disk (-want +got):\n%s", diff)
	}
}

// errRuntimeDown is the image lister's error while it is switched off.
var errRuntimeDown = errors.New("container runtime unreachable (switched off by the test)")

// switchableLister fails while down is set.
type switchableLister struct {
	lister pullmanager.ImageLister
	down   *atomic.Bool
}

var _ pullmanager.ImageLister = switchableLister{}

func (l switchableLister) ListImages(ctx context.Context) ([]pullmanager.RuntimeImage, error) {
	if l.down != nil && l.down.Load() {
		return nil, errRuntimeDown
	}
	return l.lister.ListImages(ctx)
}
