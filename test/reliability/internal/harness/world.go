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

package harness

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"

	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
	"k8s.io/kubernetes/pkg/util/parsers"
)

// Generations is how many contents (rotations) each Secret can have.
const Generations = 3

// SecretDef is a Secret of the world; its content changes with a generation.
type SecretDef struct {
	UID, Namespace, Name string
	// User is the registry user; two Secrets with one user have the same
	// content (and hash) in every generation.
	User string
	// Tenant is the tenant whose repositories accept it; empty: none.
	Tenant string
}

// ImageDef is an image string of the world.
type ImageDef struct {
	Image string
	// Ref is the runtime's image ID; two image strings may share one.
	Ref string
	// Tenant owns the repository; "public" repositories accept anyone.
	Tenant string
	// Preloaded images are in the runtime from the start.
	Preloaded bool
}

// ServiceAccountDef is a service account of the world, whose token a
// credential provider plugin exchanges for registry credentials.
type ServiceAccountDef struct {
	UID, Namespace, Name string
	// Tenant is the tenant whose repositories accept the credentials the
	// plugin gives for it; empty: none (the plugin answers credentials the
	// registry refuses).
	Tenant string
}

// Cred is the credential a pull or a decision uses: Secret -1 is anonymous
// (or, for a decision, a pod without Secrets). With SA > 0 it is instead
// the credential a credential provider plugin gave for service account
// SA-1, and Secret is -1: a pull with it records the service account, and
// a decision presents the service account (the plugin answered).
type Cred struct {
	Secret int `json:"s"`
	Gen    int `json:"g"`
	SA     int `json:"a,omitempty"`
}

// Anonymous is the credential of a pull without Secrets.
var Anonymous = Cred{Secret: -1}

// ServiceAccountCred is the plugin credential of service account i.
func ServiceAccountCred(i int) Cred { return Cred{Secret: -1, SA: i + 1} }

// World is the fixed universe of the workload.
type World struct {
	Secrets         []SecretDef
	ServiceAccounts []ServiceAccountDef
	Images          []ImageDef
	byImage         map[string]ImageDef
	// refsByHash maps a file name hash to the image refs hashing to it.
	refsByHash map[string]string
}

func ref(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// NewWorld returns the world every reliability test uses: private
// repositories of two tenants, a public one, a preloaded image, one image ID
// under two names, an untagged image string, Secrets that are valid,
// refused, and copies of each other, and service accounts of each tenant
// (one of them recreated under its name with a new UID) and one whose
// plugin credentials the registry refuses.
func NewWorld() *World {
	w := &World{
		Secrets: []SecretDef{
			{UID: "uid-a1", Namespace: "team-a", Name: "regcred", User: "alice", Tenant: "a"},
			{UID: "uid-a2", Namespace: "team-a", Name: "regcred-copy", User: "alice", Tenant: "a"},
			{UID: "uid-a3", Namespace: "team-a", Name: "wrong", User: "mallory"},
			{UID: "uid-b1", Namespace: "team-b", Name: "regcred", User: "bob", Tenant: "b"},
		},
		ServiceAccounts: []ServiceAccountDef{
			{UID: "uid-sa-a1", Namespace: "team-a", Name: "builder", Tenant: "a"},
			{UID: "uid-sa-a1-recreated", Namespace: "team-a", Name: "builder", Tenant: "a"},
			{UID: "uid-sa-a2", Namespace: "team-a", Name: "default"},
			{UID: "uid-sa-b1", Namespace: "team-b", Name: "builder", Tenant: "b"},
		},
		Images: []ImageDef{
			{Image: "reg.example/team-a/app:v1", Ref: ref("a1"), Tenant: "a"},
			{Image: "reg.example/team-a/app:v2", Ref: ref("a2"), Tenant: "a"},
			{Image: "reg.example/team-a/tool:v1", Ref: ref("t1"), Tenant: "a"},
			{Image: "reg.example/team-b/app:v1", Ref: ref("a1"), Tenant: "b"},
			{Image: "reg.example/team-b/app:v2", Ref: ref("b2"), Tenant: "b"},
			{Image: "reg.example/public/base", Ref: ref("p"), Tenant: "public"},
			{Image: "reg.example/public/base:1", Ref: ref("p"), Tenant: "public"},
			{Image: "reg.example/preloaded/os:1", Ref: ref("l"), Tenant: "a", Preloaded: true},
		},
		byImage:    map[string]ImageDef{},
		refsByHash: map[string]string{},
	}
	for _, img := range w.Images {
		w.byImage[img.Image] = img
		sum := sha256.Sum256([]byte(img.Ref))
		w.refsByHash[hex.EncodeToString(sum[:])] = img.Ref
	}
	return w
}

// Image returns the definition of an image string.
func (w *World) Image(image string) ImageDef { return w.byImage[image] }

// RefForHash returns the image ref whose file name hash is hash.
func (w *World) RefForHash(hash string) (string, bool) {
	r, ok := w.refsByHash[hash]
	return r, ok
}

// Repo returns repo(image).
func Repo(image string) string {
	r, err := parsers.RepositoryName(image)
	if err != nil {
		panic(fmt.Sprintf("world image %q does not parse: %v", image, err))
	}
	return r
}

// Hash is the credential hash of a Secret in a generation. Two Secrets with
// one user share it.
func (w *World) Hash(c Cred) string {
	s := w.Secrets[c.Secret]
	sum := sha256.Sum256([]byte(fmt.Sprintf(`{"username":%q,"password":"%s-pw-%d"}`, s.User, s.User, c.Gen)))
	return hex.EncodeToString(sum[:])
}

// PodSecret is the pod credential a Cred stands for.
func (w *World) PodSecret(c Cred) kubeletconfig.ImagePullSecret {
	s := w.Secrets[c.Secret]
	return kubeletconfig.ImagePullSecret{UID: s.UID, Namespace: s.Namespace, Name: s.Name, CredentialHash: w.Hash(c)}
}

// PodServiceAccount is the service account a plugin credential stands for
// (c.SA > 0).
func (w *World) PodServiceAccount(c Cred) kubeletconfig.ImagePullServiceAccount {
	sa := w.ServiceAccounts[c.SA-1]
	return kubeletconfig.ImagePullServiceAccount{UID: sa.UID, Namespace: sa.Namespace, Name: sa.Name}
}

// PullCredentials is what RecordImagePulled records for a pull with c, as
// the image manager records it: the service account for a plugin
// credential, the Secret for a Secret's, nodePodsAccessible otherwise.
func (w *World) PullCredentials(c Cred) *kubeletconfig.ImagePullCredentials {
	switch {
	case c.SA > 0:
		return &kubeletconfig.ImagePullCredentials{KubernetesServiceAccounts: []kubeletconfig.ImagePullServiceAccount{w.PodServiceAccount(c)}}
	case c.Secret < 0:
		return &kubeletconfig.ImagePullCredentials{NodePodsAccessible: true}
	}
	return &kubeletconfig.ImagePullCredentials{KubernetesSecrets: []kubeletconfig.ImagePullSecret{w.PodSecret(c)}}
}

// PodCredentials resolves a pod's credentials for a decision: its Secret,
// or its service account (its plugin answered).
func (w *World) PodCredentials(c Cred) pullmanager.GetPodCredentials {
	return func() ([]kubeletconfig.ImagePullSecret, *kubeletconfig.ImagePullServiceAccount, error) {
		switch {
		case c.SA > 0:
			sa := w.PodServiceAccount(c)
			return nil, &sa, nil
		case c.Secret < 0:
			return nil, nil, nil
		}
		return []kubeletconfig.ImagePullSecret{w.PodSecret(c)}, nil, nil
	}
}

// Accepts is the registry's rule: a public repository lets anyone pull; a
// private one only valid Secrets of its tenant (every generation is valid)
// and the plugin credentials of its tenant's service accounts.
func (w *World) Accepts(image string, c Cred) bool {
	img := w.byImage[image]
	if img.Tenant == "public" {
		return true
	}
	if c.SA > 0 {
		sa := w.ServiceAccounts[c.SA-1]
		return sa.Tenant != "" && sa.Tenant == img.Tenant
	}
	if c.Secret < 0 {
		return false
	}
	s := w.Secrets[c.Secret]
	return s.Tenant != "" && s.Tenant == img.Tenant
}

// AllCreds lists every credential of the world, anonymous first, then the
// Secrets' and the service accounts'.
func (w *World) AllCreds() []Cred {
	creds := []Cred{Anonymous}
	for i := range w.Secrets {
		for g := 0; g < Generations; g++ {
			creds = append(creds, Cred{Secret: i, Gen: g})
		}
	}
	for i := range w.ServiceAccounts {
		creds = append(creds, ServiceAccountCred(i))
	}
	return creds
}

// runtimeImages turns present (ref -> image strings) into the runtime's list.
func runtimeImages(present map[string]map[string]bool) []pullmanager.RuntimeImage {
	var out []pullmanager.RuntimeImage
	for id, names := range present {
		img := pullmanager.RuntimeImage{ID: id}
		for name := range names {
			if n, err := parsers.NormalizedReference(name); err == nil {
				img.RepoTags = append(img.RepoTags, n)
			}
		}
		sort.Strings(img.RepoTags)
		out = append(out, img)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func normalized(image string) string {
	n, err := parsers.NormalizedReference(image)
	if err != nil {
		panic(fmt.Sprintf("world image %q does not parse: %v", image, err))
	}
	return n
}
