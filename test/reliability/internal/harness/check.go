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
	"context"
	"fmt"
	"path/filepath"

	"k8s.io/imagepullrecords"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
	"k8s.io/utils/clock"
)

// Lister serves a fixed list of runtime images.
type Lister []pullmanager.RuntimeImage

// ListImages implements pullmanager.ImageLister.
func (l Lister) ListImages(context.Context) ([]pullmanager.RuntimeImage, error) { return l, nil }

// CheckOptions say where and against what a restart is checked.
type CheckOptions struct {
	// RootDir is the kubelet root dir.
	RootDir string
	// FS is the filesystem of the records; nil means the real one.
	FS imagepullrecords.FS
	// View is what really happened up to the crash.
	View *View
	// Clock stamps what the new manager writes; nil means the real one.
	Clock clock.Clock
}

// Report is the outcome of one restart check.
type Report struct {
	// Files, Temporaries and Broken count what the crash left on disk.
	Files, Temporaries, Broken int
	// Decisions counts the decisions the check asked for;
	// ServiceAccountGrants those granted through a recorded service account.
	Decisions, ServiceAccountGrants int
	// Violations describes every broken invariant.
	Violations []string
}

func (r *Report) violate(format string, args ...any) {
	r.Violations = append(r.Violations, fmt.Sprintf(format, args...))
}

// CheckRestart inspects what a crash left under opts.RootDir, starts a new
// pull manager over it (NeverVerifyPreloadedImages), checks every invariant
// of the package documentation and closes the manager again.
func CheckRestart(ctx context.Context, opts CheckOptions) *Report {
	rep := &Report{}
	fsys := opts.FS
	if fsys == nil {
		fsys = imagepullrecords.OS
	}
	v := opts.View
	w := v.world
	managerDir := filepath.Join(opts.RootDir, imagepullrecords.ManagerDirName)

	// What the crash left, before start-up tidies it.
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: managerDir, FS: fsys, ReadOnly: true})
	if err != nil {
		rep.violate("opening the records read-only: %v", err)
		return rep
	}
	for _, dir := range []string{imagepullrecords.IntentsDirName, imagepullrecords.RecordsDirName} {
		names, _ := fsys.ReadDirNames(filepath.Join(managerDir, dir))
		for _, name := range names {
			rep.Files++
			if imagepullrecords.IsTemporary(name) {
				rep.Temporaries++
			}
		}
	}
	var poisoned []string
	badRecords, err := store.WalkRecords(func(rf imagepullrecords.RecordFile) {
		rec := &kubeletconfig.ImagePulledRecord{ImageRef: rf.Record.ImageRef, CredentialMapping: map[string]kubeletconfig.ImagePullCredentials{}}
		for repo, c := range rf.Record.CredentialMapping {
			ic := kubeletconfig.ImagePullCredentials{NodePodsAccessible: c.NodePodsAccessible}
			for _, s := range c.KubernetesSecrets {
				ic.KubernetesSecrets = append(ic.KubernetesSecrets, kubeletconfig.ImagePullSecret{UID: s.UID, Namespace: s.Namespace, Name: s.Name, CredentialHash: s.CredentialHash})
			}
			for _, sa := range c.KubernetesServiceAccounts {
				ic.KubernetesServiceAccounts = append(ic.KubernetesServiceAccounts, kubeletconfig.ImagePullServiceAccount{UID: sa.UID, Namespace: sa.Namespace, Name: sa.Name})
			}
			rec.CredentialMapping[repo] = ic
		}
		for _, msg := range v.CheckRecord(rec) {
			rep.violate("%s: %s", rf.File, msg)
		}
	})
	if err != nil {
		rep.violate("listing records: %v", err)
	}
	for _, bad := range badRecords {
		rep.Broken++
		if ref, ok := w.RefForHash(bad.Hash); ok {
			poisoned = append(poisoned, ref)
		}
	}
	badIntents, err := store.WalkIntents(func(imagepullrecords.IntentFile) {})
	if err != nil {
		rep.violate("listing intents: %v", err)
	}
	rep.Broken += len(badIntents)

	// Start-up must complete.
	m, err := pullmanager.NewFileBackedPullManager(ctx, pullmanager.Options{
		RootDir:     opts.RootDir,
		FS:          fsys,
		Policy:      kubeletconfig.NeverVerifyPreloadedImages,
		ImageLister: Lister(v.RuntimeImages()),
		Clock:       opts.Clock,
	})
	if err != nil {
		rep.violate("start-up failed: %v", err)
		return rep
	}
	defer func() { _ = m.Close() }()
	decide := func(image, ref string, c Cred) pullmanager.Decision {
		rep.Decisions++
		d, err := m.MustAttemptImagePull(ctx, image, ref, w.PodCredentials(c))
		if err != nil && !d.MustPull {
			rep.violate("decision for %s with %+v granted with an error: %v", image, c, err)
		}
		if msg := v.CheckDecision(image, ref, c, d); msg != "" {
			rep.violate("after restart: %s", msg)
		}
		if !d.MustPull && d.Verification == pullmanager.VerificationServiceAccount {
			rep.ServiceAccountGrants++
		}
		return d
	}

	// A broken record grants nothing.
	for _, ref := range poisoned {
		for _, img := range w.Images {
			if img.Ref != ref {
				continue
			}
			for _, c := range w.AllCreds() {
				if d := decide(img.Image, ref, c); !d.MustPull {
					rep.violate("broken record of %s granted %s to %+v (%s)", ref, img.Image, c, d.Verification)
				}
			}
		}
	}
	// Every acknowledged record still grants.
	for _, ev := range v.Expected {
		if d := decide(ev.Image, ev.Ref, ev.Cred); d.MustPull {
			rep.violate("acknowledged record lost: %s (%.19s) pulled with %+v must pull after restart", ev.Image, ev.Ref, ev.Cred)
		}
	}
	// A name the runtime pulled never passes for preloaded.
	for rr, image := range v.pulledOK {
		if d := decide(image, rr.ref, Anonymous); d.Verification == pullmanager.VerificationNotPulledByKubelet {
			rep.violate("%s was pulled by the kubelet and passes for preloaded after restart (record entry and intent both lost)", image)
		}
	}
	// Start-up removed the temporaries.
	for _, dir := range []string{imagepullrecords.IntentsDirName, imagepullrecords.RecordsDirName} {
		names, _ := fsys.ReadDirNames(filepath.Join(managerDir, dir))
		for _, name := range names {
			if imagepullrecords.IsTemporary(name) {
				rep.violate("temporary %s/%s left after start-up", dir, name)
			}
		}
	}
	return rep
}
