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

package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	ggcrremote "github.com/google/go-containerregistry/pkg/v1/remote"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/imagepullrecords"
	"k8s.io/klog/v2"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	"k8s.io/utils/ptr"

	"k8s.io/kubernetes/pkg/credentialprovider"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/cri/embedded/imageservice"
	"k8s.io/kubernetes/pkg/kubelet/cri/embedded/registry"
	"k8s.io/kubernetes/pkg/kubelet/cri/remote"
	"k8s.io/kubernetes/pkg/kubelet/images"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// scale is the size of one run.
type scale struct {
	calls, images, secrets int
	deadline               time.Duration
}

func loadScale() scale {
	if os.Getenv("RELIABILITY_SCALE") == "long" {
		return scale{calls: 1000, images: 100, secrets: 50, deadline: 10 * time.Minute}
	}
	return scale{calls: 100, images: 10, secrets: 50, deadline: 2 * time.Minute}
}

// Registry users; Secrets spread over them so that several Secrets share
// content. Every seventh Secret holds a password the registry refuses.
const users = 10

func userName(i int) string     { return fmt.Sprintf("user%d", i) }
func userPassword(i int) string { return fmt.Sprintf("load-pass-%d", i) }

// loadSecret is one pull Secret of the run.
type loadSecret struct {
	namespace, name, uid string
	user, password       string
	refused              bool
}

// node is one kubelet: a verification policy, a root dir, a pull manager
// and an image manager over the shared runtime.
type node struct {
	policy  kubeletconfig.ImagePullCredentialsVerificationPolicy
	rootDir string
	pm      pullmanager.Manager
	manager images.ImageManager
}

// call is one EnsureImageExists call and its result.
type call struct {
	node   int
	pod    *v1.Pod
	repo   string
	secret *loadSecret
	res    images.EnsureResult
	err    error
}

func TestConcurrentEnsureImageExists(t *testing.T) {
	sc := loadScale()
	ctx := klog.NewContext(context.Background(), klog.Logger{})

	userPasswords := map[string]string{}
	var userNames []string
	for i := range users {
		userPasswords[userName(i)] = userPassword(i)
		userNames = append(userNames, userName(i))
	}
	repos := map[string]registry.Access{}
	var repoPaths []string
	for i := range sc.images {
		path := fmt.Sprintf("load/img-%03d", i)
		repoPaths = append(repoPaths, path)
		// Every tenth repository is also anonymously pullable.
		repos[path] = registry.Access{Users: userNames, Anonymous: i%10 == 9}
	}
	reg, err := registry.New(registry.Options{Users: userPasswords, Repos: repos})
	if err != nil {
		t.Fatalf("starting the registry: %v", err)
	}
	t.Cleanup(func() { _ = reg.Stop() })
	for _, path := range repoPaths {
		if _, err := reg.Push(ctx, path+":1"); err != nil {
			t.Fatalf("pushing %s: %v", path, err)
		}
	}
	rt, err := imageservice.Start(imageservice.Options{})
	if err != nil {
		t.Fatalf("starting the image service: %v", err)
	}
	t.Cleanup(func() { _ = rt.Stop() })
	// Every third image is preloaded: present, and never pulled by a node.
	adminUser, adminPassword := reg.AdminCredentials()
	preloaded := 0
	for i, path := range repoPaths {
		if i%3 == 1 {
			if _, err := rt.Preload(ctx, reg.Ref(path+":1"), &runtimeapi.AuthConfig{Username: adminUser, Password: adminPassword}); err != nil {
				t.Fatalf("preloading %s: %v", path, err)
			}
			preloaded++
		}
	}
	cri, err := remote.NewImageService(ctx, rt.Endpoint(), time.Minute)
	if err != nil {
		t.Fatalf("connecting to the image service: %v", err)
	}
	t.Cleanup(func() { _ = cri.Close(context.Background()) })

	secrets := make([]*loadSecret, sc.secrets)
	secretObjs := map[string]*v1.Secret{}
	for i := range secrets {
		u := i % users
		s := &loadSecret{
			namespace: fmt.Sprintf("ns-%d", i%5),
			name:      fmt.Sprintf("secret-%d", i),
			uid:       fmt.Sprintf("uid-secret-%d", i),
			user:      userName(u),
			password:  userPassword(u),
			refused:   i%7 == 6,
		}
		if s.refused {
			s.password = "refused-" + s.password
		}
		secrets[i] = s
		cfg, _ := json.Marshal(map[string]any{"auths": map[string]any{reg.Addr(): map[string]string{"username": s.user, "password": s.password}}})
		secretObjs[s.namespace+"/"+s.name] = &v1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: s.namespace, Name: s.name, UID: types.UID(s.uid)},
			Type:       v1.SecretTypeDockerConfigJson,
			Data:       map[string][]byte{v1.DockerConfigJsonKey: cfg},
		}
	}
	getSecret := func(_ context.Context, ns, name string) (*v1.Secret, error) {
		s, ok := secretObjs[ns+"/"+name]
		if !ok {
			return nil, apierrors.NewNotFound(v1.Resource("secrets"), name)
		}
		return s.DeepCopy(), nil
	}

	// The baseline is taken with the registry and runtime up and before
	// the nodes start: what the nodes start must stop with them.
	baseGoroutines, baseHeap := settle()

	policies := []kubeletconfig.ImagePullCredentialsVerificationPolicy{
		kubeletconfig.NeverVerifyPreloadedImages, kubeletconfig.AlwaysVerify,
		kubeletconfig.NeverVerifyAllowlistedImages, kubeletconfig.NeverVerify,
	}
	// Pullers differ per node: unbounded, bounded and serial.
	pullers := []struct {
		serialize   bool
		maxParallel *int32
	}{{}, {maxParallel: ptr.To[int32](4)}, {serialize: true}, {maxParallel: ptr.To[int32](10)}}
	recorder := record.NewFakeRecorder(100 * sc.calls)
	nodes := make([]*node, len(policies))
	for i, policy := range policies {
		n := &node{policy: policy, rootDir: t.TempDir()}
		var allowlist []string
		if policy == kubeletconfig.NeverVerifyAllowlistedImages {
			// The anonymous repositories' prefix is not allowlisted; a few
			// exact names are.
			allowlist = []string{reg.Ref(repoPaths[0]), reg.Ref(repoPaths[len(repoPaths)/2])}
		}
		n.pm, err = pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{
			RootDir:     n.rootDir,
			Policy:      policy,
			Allowlist:   allowlist,
			ImageLister: remote.ImageLister{ImageService: cri},
		})
		if err != nil {
			t.Fatalf("starting the pull manager of node %d: %v", i, err)
		}
		n.manager, err = images.NewImageManager(images.Options{
			ImageService:             cri,
			PullManager:              n.pm,
			EnsureSecretPulledImages: true,
			Recorder:                 recorder,
			GetSecret:                getSecret,
			SerializeImagePulls:      pullers[i].serialize,
			MaxParallelImagePulls:    pullers[i].maxParallel,
		})
		if err != nil {
			t.Fatalf("starting the image manager of node %d: %v", i, err)
		}
		nodes[i] = n
	}
	stopNodes := func() {
		for _, n := range nodes {
			if n.manager != nil {
				n.manager.Stop()
				_ = n.pm.Close()
				n.manager = nil
			}
		}
	}
	t.Cleanup(stopNodes)

	// Calls: a random image, mostly with one Secret of the pod's namespace,
	// mostly IfNotPresent; a fixed seed so a failure can be replayed.
	rnd := rand.New(rand.NewSource(2535))
	calls := make([]*call, sc.calls)
	for i := range calls {
		repo := repoPaths[rnd.Intn(len(repoPaths))]
		c := &call{node: i % len(nodes), repo: repo}
		ns := fmt.Sprintf("ns-%d", rnd.Intn(5))
		if rnd.Intn(10) > 0 {
			c.secret = secrets[rnd.Intn(len(secrets))]
			ns = c.secret.namespace
		}
		pullPolicy := v1.PullIfNotPresent
		switch r := rnd.Intn(10); {
		case r < 2:
			pullPolicy = v1.PullAlways
		case r == 2:
			pullPolicy = v1.PullNever
		}
		c.pod = &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("pod-%d", i), UID: types.UID(fmt.Sprintf("pod-uid-%d", i))},
			Spec: v1.PodSpec{Containers: []v1.Container{{
				Name: "app", Image: reg.Ref(repo + ":1"), ImagePullPolicy: pullPolicy,
			}}},
		}
		if c.secret != nil {
			c.pod.Spec.ImagePullSecrets = []v1.LocalObjectReference{{Name: c.secret.name}}
		}
		calls[i] = c
	}

	runCtx, cancel := context.WithTimeout(ctx, sc.deadline)
	defer cancel()
	var wg sync.WaitGroup
	startGate := make(chan struct{})
	for _, c := range calls {
		wg.Go(func() {
			<-startGate
			container := &c.pod.Spec.Containers[0]
			ref := &v1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: c.pod.Namespace, Name: c.pod.Name, UID: c.pod.UID,
				FieldPath: "spec.containers{app}"}
			c.res, c.err = nodes[c.node].manager.EnsureImageExists(runCtx, ref, c.pod, container)
		})
	}
	finished := make(chan struct{})
	began := time.Now()
	close(startGate)
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(sc.deadline + 30*time.Second):
		// Calls ignore their deadline: something blocks without a context.
		var buf strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
		t.Fatalf("EnsureImageExists calls still running %v after their deadline: deadlock?\n%s", 30*time.Second, buf.String())
	}
	elapsed := time.Since(began)

	// Outcomes and the invariants of the calls.
	outcomes := map[string]int{}
	verifications := map[string]int{}
	pulled := 0
	for _, c := range calls {
		key := c.res.Reason
		if key == "" {
			key = "admitted"
		}
		outcomes[key]++
		verifications[string(c.res.Verification)]++
		if (c.err == nil) != (c.res.Reason == "") || (c.err == nil && c.res.ImageRef == "") {
			t.Errorf("pod %s: inconsistent result %+v, %v", c.pod.Name, c.res, c.err)
		}
		if c.err != nil && (errors.Is(c.err, context.DeadlineExceeded) || strings.Contains(c.err.Error(), "context deadline exceeded")) {
			t.Errorf("pod %s hit the run's deadline: %v", c.pod.Name, c.err)
		}
		if c.err == nil && c.res.PullAttempted {
			pulled++
		}
	}

	// No record lost, nothing granted that no pull earned: read the files
	// back as a node tool would.
	stopNodes()
	type recordKey struct {
		node int
		ref  string
	}
	records := map[recordKey]*kubeletv1beta1.ImagePulledRecord{}
	filesRead := 0
	for i, n := range nodes {
		store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: filepath.Join(n.rootDir, imagepullrecords.ManagerDirName), ReadOnly: true})
		if err != nil {
			t.Fatalf("opening the records of node %d: %v", i, err)
		}
		bad, err := store.WalkRecords(func(f imagepullrecords.RecordFile) {
			records[recordKey{i, f.Record.ImageRef}] = f.Record
			filesRead++
			for repo, creds := range f.Record.CredentialMapping {
				for _, s := range creds.KubernetesSecrets {
					for _, ls := range secrets {
						if ls.refused && ls.uid == s.UID {
							t.Errorf("node %d record %s grants %s to refused Secret %s/%s", i, f.Record.ImageRef, repo, s.Namespace, s.Name)
						}
					}
				}
			}
		})
		if err != nil || len(bad) > 0 {
			t.Errorf("node %d: record files that do not decode: %v %v", i, err, bad)
		}
		var intents []string
		if _, err := store.WalkIntents(func(f imagepullrecords.IntentFile) { intents = append(intents, f.Intent.Image) }); err != nil || len(intents) > 0 {
			t.Errorf("node %d: intents left after every call returned: %v %v", i, intents, err)
		}
	}
	lost := 0
	for _, c := range calls {
		if c.err != nil || !c.res.PullAttempted {
			continue
		}
		rec := records[recordKey{c.node, c.res.ImageRef}]
		var entry kubeletv1beta1.ImagePullCredentials
		found := false
		if rec != nil {
			entry, found = rec.CredentialMapping[reg.Ref(c.repo)]
		}
		if found && !entry.NodePodsAccessible && c.secret != nil {
			found = false
			want := credentialprovider.HashAuthConfig(credentialprovider.AuthConfig{Username: c.secret.user, Password: c.secret.password})
			for _, s := range entry.KubernetesSecrets {
				if s.UID == c.secret.uid && s.Namespace == c.secret.namespace && s.Name == c.secret.name && s.CredentialHash == want {
					found = true
				}
			}
		} else if found && c.secret == nil {
			found = entry.NodePodsAccessible
		}
		if !found {
			lost++
			t.Errorf("node %d (%s): the pull of %s by pod %s succeeded but its credentials are not on record: %+v",
				c.node, nodes[c.node].policy, c.pod.Spec.Containers[0].Image, c.pod.Name, rec)
		}
	}

	// Goroutines and heap back to the baseline once the nodes stopped.
	// The embedded runtime pulls through go-containerregistry's shared
	// transport, which keeps up to 50 idle connections per registry: a
	// bounded pool, not a leak. Close it before counting.
	if tr, ok := ggcrremote.DefaultTransport.(interface{ CloseIdleConnections() }); ok {
		tr.CloseIdleConnections()
	}
	const goroutineSlack = 10  // connections closing, the gRPC client's
	const heapSlack = 64 << 20 // the runtime's index, the parsed-name cache
	goroutines, heap := settleTo(baseGoroutines+goroutineSlack, baseHeap+heapSlack)
	if goroutines > baseGoroutines+goroutineSlack {
		var buf strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
		t.Errorf("goroutines: %d after the run, baseline %d\n%s", goroutines, baseGoroutines, buf.String())
	}
	if heap > baseHeap+heapSlack {
		t.Errorf("heap after GC: %d bytes after the run, baseline %d", heap, baseHeap)
	}

	var outcomeList []string
	for k, v := range outcomes {
		outcomeList = append(outcomeList, fmt.Sprintf("%s=%d", k, v))
	}
	for k, v := range verifications {
		if k == "" {
			k = "none"
		}
		outcomeList = append(outcomeList, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(outcomeList)
	fmt.Printf("RELIABILITY: load: %d concurrent EnsureImageExists calls over %d images (%d preloaded), %d Secrets, 4 policies in %.1fs = %.0f calls/s (-race); %d successful pulls, %d records read back, %d lost; outcomes and rules %s; goroutines %d -> %d, heap %.1f -> %.1f MiB after GC\n",
		len(calls), sc.images, preloaded, sc.secrets, elapsed.Seconds(), float64(len(calls))/elapsed.Seconds(),
		pulled, filesRead, lost, strings.Join(outcomeList, " "), baseGoroutines, goroutines, float64(baseHeap)/(1<<20), float64(heap)/(1<<20))
}

// settle returns the goroutine count and heap after GC once they stop
// falling.
func settle() (int, uint64) {
	return settleTo(0, 0)
}

// settleTo waits up to 20s for goroutines and heap to reach the targets
// (or to stop falling) and returns the last values.
func settleTo(goroutines int, heap uint64) (int, uint64) {
	var g int
	var h uint64
	deadline := time.Now().Add(20 * time.Second)
	prevG := -1
	for {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		g, h = runtime.NumGoroutine(), ms.HeapAlloc
		if (g <= goroutines && h <= heap) || time.Now().After(deadline) || (goroutines == 0 && g == prevG) {
			return g, h
		}
		prevG = g
		time.Sleep(200 * time.Millisecond)
	}
}
