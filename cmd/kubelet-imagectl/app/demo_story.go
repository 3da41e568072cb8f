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
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"

	"k8s.io/imagepullrecords"
	"k8s.io/kubernetes/pkg/credentialprovider"
	"k8s.io/kubernetes/pkg/kubelet/images/pullmanager"
)

// Verification values as the output spells them.
var (
	ruleNotPresent         = string(pullmanager.VerificationNotPresent)
	ruleGateOff            = string(pullmanager.VerificationGateOff)
	rulePolicy             = string(pullmanager.VerificationPolicy)
	ruleNotPulledByKubelet = string(pullmanager.VerificationNotPulledByKubelet)
	ruleNodeAccessible     = string(pullmanager.VerificationNodeAccessible)
	ruleSecretHash         = string(pullmanager.VerificationSecretHash)
	ruleSecretCoordinates  = string(pullmanager.VerificationSecretCoordinates)
	ruleServiceAccount     = string(pullmanager.VerificationServiceAccount)
	ruleMustPull           = string(pullmanager.VerificationMustPull)
)

// want builds an expectation.
func want(result, rule string, contacted bool, otherRules ...string) demoWant {
	return demoWant{result: result, rules: append([]string{rule}, otherRules...), contacted: contacted}
}

// The demo's verification policies, in the order of the story.
const (
	policyPreloaded   = "NeverVerifyPreloadedImages"
	policyAlways      = "AlwaysVerify"
	policyAllowlisted = "NeverVerifyAllowlistedImages"
	policyNever       = "NeverVerify"
)

// pod builds a demo pod with one container.
func pod(scenario, namespace, name, image string, pullPolicy v1.PullPolicy, secrets []string, w demoWant) demoPod {
	return demoPod{scenario: scenario, namespace: namespace, name: name, image: image, pullPolicy: pullPolicy, secrets: secrets, want: w}
}

// story runs the multi-tenant story of KEP-2535 (the scenarios every build
// must pass). Team A's namespace is team-a (X), team B's is team-b (Y).
func (e *demoEnv) story() error {
	never, ifNotPresent := v1.PullNever, v1.PullIfNotPresent
	host := e.reg.Addr()
	p := e.ref("team-a/app:1.0")
	alias := e.ref("team-a/app-alias:1.0")
	mirror := e.ref("team-a/app-mirror:1.0")
	tools := e.ref("public/tools:1.0")
	base := e.ref("team-a/base:1.0")
	race := e.ref("team-a/race:1.0")
	crash := e.ref("team-a/crash:1.0")
	gcOld := e.ref("team-a/gc-old:1.0")
	gcNew := e.ref("team-a/gc-new:1.0")
	repoP := host + "/team-a/app"

	// One image under three names: P, a preloaded alias and a mirror.
	pImage, err := e.push("team-a/app:1.0", "team-a/app-alias:1.0", "team-a/app-mirror:1.0")
	if err != nil {
		return err
	}
	ids := map[string]string{}
	for _, name := range []string{"public/tools:1.0", "team-a/base:1.0", "team-a/race:1.0", "team-a/crash:1.0", "team-a/gc-old:1.0", "team-a/gc-new:1.0"} {
		img, err := e.push(name)
		if err != nil {
			return err
		}
		ids[name] = img.ID
	}

	e.addSecret("team-a", "regcred", "", "alice", e.passwords["alice"])      // S1
	e.addSecret("team-a", "regcred-copy", "", "alice", e.passwords["alice"]) // S2: S1's credentials under another Secret
	e.addSecret("team-b", "regcred", "", "bob", e.passwords["bob"])          // refused by team-a's repositories
	for i := 1; i <= 4; i++ {
		user := fmt.Sprintf("ci-%d", i)
		e.addSecret("team-a", user, "", user, e.passwords[user]) // other valid credentials, one per policy
	}
	s1 := []string{"regcred"}
	s2 := []string{"regcred-copy"}
	refused := []string{"regcred"} // in team-b

	e.section = "Tenant A pulls its private image P with Secret S1 (team-a/regcred)"
	if err := e.ensure(demoStep{pods: []demoPod{
		pod("A, Secret S1", "team-a", "a", p, ifNotPresent, s1, want(resultPulled, ruleNotPresent, true)),
	}}); err != nil {
		return err
	}

	for i, policy := range []string{policyPreloaded, policyAlways, policyAllowlisted, policyNever} {
		e.section = "Pod B and P (pulled by A), policy " + policy
		var allowlist []string
		if policy == policyAllowlisted {
			allowlist = []string{host + "/team-b/*"} // P not listed
		}
		other := []string{fmt.Sprintf("ci-%d", i+1)}
		cases := []struct {
			scenario  string
			namespace string
			secrets   []string
			never     demoWant
			ifPresent demoWant
		}{
			{"B, no pull secret", "team-b", nil,
				want(resultDenied, ruleMustPull, false), want(resultFailed, ruleMustPull, true)},
			{"B, credentials the registry refuses", "team-b", refused,
				want(resultDenied, ruleMustPull, false), want(resultFailed, ruleMustPull, true)},
			{"B (team-a), the same Secret S1", "team-a", s1,
				want(resultReused, ruleSecretHash, false), want(resultReused, ruleSecretHash, false)},
			{"B (team-a), S1's credentials in Secret S2", "team-a", s2,
				want(resultReused, ruleSecretHash, false), want(resultReused, ruleSecretHash, false)},
			{"B (team-a), other valid credentials", "team-a", other,
				want(resultDenied, ruleMustPull, false), want(resultPulled, ruleMustPull, true)},
		}
		for j, c := range cases {
			neverWant, ifPresentWant := c.never, c.ifPresent
			if policy == policyNever {
				neverWant = want(resultReused, rulePolicy, false)
				ifPresentWant = neverWant
			}
			// Never first: an IfNotPresent pull with other valid
			// credentials records them, which would admit the Never pod.
			for _, run := range []struct {
				pull v1.PullPolicy
				w    demoWant
			}{{never, neverWant}, {ifNotPresent, ifPresentWant}} {
				name := fmt.Sprintf("b%d-%s", j+1, strings.ToLower(string(run.pull)))
				if err := e.ensure(demoStep{policy: policy, allowlist: allowlist, pods: []demoPod{
					pod(c.scenario, c.namespace, name, p, run.pull, c.secrets, run.w),
				}}); err != nil {
					return err
				}
			}
		}
	}
	if err := e.checkSecrets(pImage.ID, repoP,
		[]string{"team-a/ci-1", "team-a/ci-2", "team-a/ci-3", "team-a/regcred", "team-a/regcred-copy"},
		"the record of P lists S1, S2 (added by a hash match) and the other valid credentials that pulled it, not B's refused Secret"); err != nil {
		return err
	}

	e.section = "An anonymously pullable image, first pulled with a Secret"
	for _, step := range []demoPod{
		pod("A pulls it with Secret S1", "team-a", "a-tools", tools, ifNotPresent, s1, want(resultPulled, ruleNotPresent, true)),
		pod("B, no secret: not granted by A's pull", "team-b", "b-tools-never", tools, never, nil, want(resultDenied, ruleMustPull, false)),
		pod("B, no secret: pulls anonymously", "team-b", "b-tools", tools, ifNotPresent, nil, want(resultPulled, ruleMustPull, true)),
		pod("C, no secret: now node-accessible", "team-b", "c-tools-never", tools, never, nil, want(resultReused, ruleNodeAccessible, false)),
	} {
		if err := e.ensure(demoStep{pods: []demoPod{step}}); err != nil {
			return err
		}
	}
	if err := e.checkRecord(ids["public/tools:1.0"], "the record of the anonymous image gains nodePodsAccessible", func(r *kubeletv1beta1.ImagePulledRecord) bool {
		return r.CredentialMapping[host+"/public/tools"].NodePodsAccessible
	}); err != nil {
		return err
	}

	e.section = "P allowlisted under NeverVerifyAllowlistedImages (pod without Secret)"
	for _, c := range []struct {
		scenario, entry string
		w               demoWant
	}{
		{"exact entry " + repoP, repoP, want(resultReused, rulePolicy, false)},
		{"prefix entry " + host + "/team-a/*", host + "/team-a/*", want(resultReused, rulePolicy, false)},
		{"near miss " + repoP + "/*", repoP + "/*", want(resultDenied, ruleMustPull, false)},
	} {
		if err := e.ensure(demoStep{policy: policyAllowlisted, allowlist: []string{c.entry}, pods: []demoPod{
			pod(c.scenario, "team-b", "b-allowlist", p, never, nil, c.w),
		}}); err != nil {
			return err
		}
	}

	e.section = "A preloaded image (in the runtime, never pulled by the kubelet)"
	if err := e.preload(base); err != nil {
		return err
	}
	for _, c := range []struct {
		policy string
		pod    demoPod
	}{
		{"", pod("B, no secret", "team-b", "b-base", base, never, nil, want(resultReused, ruleNotPulledByKubelet, false))},
		{policyAlways, pod("B, no secret: verified by a pull", "team-b", "b-base", base, ifNotPresent, nil, want(resultFailed, ruleMustPull, true))},
		{policyAlways, pod("B, no secret", "team-b", "b-base-never", base, never, nil, want(resultDenied, ruleMustPull, false))},
	} {
		if err := e.ensure(demoStep{policy: c.policy, pods: []demoPod{c.pod}}); err != nil {
			return err
		}
	}

	e.section = "One image ID under two names: pulling P with S1 never grants another name"
	if err := e.preload(alias); err != nil {
		return err
	}
	for _, c := range []struct {
		policy string
		pod    demoPod
	}{
		{"", pod("A, S1, name absent from the runtime", "team-a", "a-mirror", mirror, ifNotPresent, s1, want(resultPulled, ruleNotPresent, true))},
		{"", pod("B, no secret, preloaded alias of P", "team-b", "b-alias", alias, never, nil, want(resultReused, ruleNotPulledByKubelet, false))},
		{policyAlways, pod("A, S1, preloaded alias of P", "team-a", "a-alias", alias, never, s1, want(resultDenied, ruleMustPull, false))},
	} {
		if err := e.ensure(demoStep{policy: c.policy, pods: []demoPod{c.pod}}); err != nil {
			return err
		}
	}

	e.section = "Two pods pull a new image at once: valid and refused credentials"
	if err := e.ensure(demoStep{pods: []demoPod{
		pod("A, Secret S1", "team-a", "a-race", race, ifNotPresent, s1, want(resultPulled, ruleNotPresent, true)),
		// Absent if it is decided before A's pull lands, present but
		// unverified after.
		pod("B, refused credentials", "team-b", "b-race", race, ifNotPresent, refused, want(resultFailed, ruleNotPresent, true, ruleMustPull)),
	}}); err != nil {
		return err
	}
	if err := e.checkSecrets(ids["team-a/race:1.0"], host+"/team-a/race", []string{"team-a/regcred"},
		"only the valid pull of the two is recorded"); err != nil {
		return err
	}

	e.section = "Registry down"
	if err := e.reg.Stop(); err != nil {
		return err
	}
	for _, step := range []demoPod{
		pod("A, S2 on record", "team-a", "a-down", p, ifNotPresent, s2, want(resultReused, ruleSecretHash, false)),
		pod("B, no secret", "team-b", "b-down", p, ifNotPresent, nil, want(resultFailed, ruleMustPull, false)),
	} {
		if err := e.ensure(demoStep{pods: []demoPod{step}}); err != nil {
			_ = e.reg.Start()
			return err
		}
	}
	if err := e.reg.Start(); err != nil {
		return err
	}

	e.section = "A crash after the runtime pull, before the record was written"
	if err := e.simulateCrash(crash); err != nil {
		return err
	}
	for _, step := range []demoPod{
		pod("B, no secret: pulled by the kubelet, unverified", "team-b", "b-crash", crash, never, nil, want(resultDenied, ruleMustPull, false)),
		pod("A, S1: proves access by pulling", "team-a", "a-crash", crash, ifNotPresent, s1, want(resultPulled, ruleMustPull, true)),
	} {
		if err := e.ensure(demoStep{pods: []demoPod{step}}); err != nil {
			return err
		}
	}

	e.section = "Records survive restarts (every step is a new image manager)"
	if err := e.ensure(demoStep{pods: []demoPod{
		pod("A, S1, Never", "team-a", "a-restart", p, never, s1, want(resultReused, ruleSecretHash, false)),
	}}); err != nil {
		return err
	}

	e.section = "S1 rotated, then deleted and recreated"
	rotatedHash := credentialprovider.HashAuthConfig(credentialprovider.AuthConfig{Username: "alice-rotated", Password: e.passwords["alice-rotated"]})
	e.addSecret("team-a", "regcred", e.secretUID("team-a", "regcred"), "alice-rotated", e.passwords["alice-rotated"])
	if err := e.ensure(demoStep{pods: []demoPod{
		pod("A, S1 rotated to new valid credentials", "team-a", "a-rotated", p, never, s1, want(resultReused, ruleSecretCoordinates, false)),
	}}); err != nil {
		return err
	}
	if err := e.checkRecord(pImage.ID, "the record of P takes rotated S1's new hash", func(r *kubeletv1beta1.ImagePulledRecord) bool {
		for _, s := range r.CredentialMapping[repoP].KubernetesSecrets {
			if s.Namespace == "team-a" && s.Name == "regcred" {
				return s.CredentialHash == rotatedHash
			}
		}
		return false
	}); err != nil {
		return err
	}
	e.addSecret("team-a", "regcred", "", "bob", e.passwords["bob"]) // new UID, refused credentials
	for _, step := range []demoPod{
		pod("A, S1 recreated (new UID), refused credentials", "team-a", "a-recreated", p, ifNotPresent, s1, want(resultFailed, ruleMustPull, true)),
		pod("A, S1 recreated (new UID), refused credentials", "team-a", "a-recreated-never", p, never, s1, want(resultDenied, ruleMustPull, false)),
	} {
		if err := e.ensure(demoStep{pods: []demoPod{step}}); err != nil {
			return err
		}
	}

	e.section = "Dry run and feature gate off: nothing written under the root dir"
	for _, c := range []struct {
		step demoStep
		what string
	}{
		{demoStep{dryRun: true, pods: []demoPod{pod("B, no secret (dry run)", "team-b", "b-dry-run", p, ifNotPresent, nil, want(resultWouldPull, ruleMustPull, false))}},
			"the dry run wrote nothing under the root dir"},
		{demoStep{gateOff: true, pods: []demoPod{pod("B, no secret, gate off: old behaviour", "team-b", "b-gate-off", p, never, nil, want(resultReused, ruleGateOff, false))}},
			"with the gate off nothing was written under the root dir"},
	} {
		before, err := snapshotDir(e.rootDir)
		if err != nil {
			return err
		}
		if err := e.ensure(c.step); err != nil {
			return err
		}
		after, err := snapshotDir(e.rootDir)
		if err != nil {
			return err
		}
		e.check(c.what, maps.Equal(before, after), "the root dir changed")
	}

	e.section = "Garbage collection, then records prune"
	if err := e.ensure(demoStep{pods: []demoPod{
		pod("A, S2, image collected later", "team-a", "a-gc-old", gcOld, ifNotPresent, s2, want(resultPulled, ruleNotPresent, true)),
	}}); err != nil {
		return err
	}
	// Records carry whole seconds, rounded up (a record never looks older
	// than it is): the first record is stamped at most one second after
	// now, so a cut-off two whole seconds on is strictly after it, and the
	// next pull, made once the cut-off has passed, is not before it.
	now := e.deps.Now()
	cutoff := now.UTC().Truncate(time.Second).Add(2 * time.Second)
	time.Sleep(cutoff.Sub(now))
	if err := e.ensure(demoStep{pods: []demoPod{
		pod("A, S2, refreshed after the cut-off", "team-a", "a-gc-new", gcNew, ifNotPresent, s2, want(resultPulled, ruleNotPresent, true)),
	}}); err != nil {
		return err
	}
	if err := e.collectAndPrune(cutoff, []string{gcOld, gcNew}, ids["team-a/gc-old:1.0"], ids["team-a/gc-new:1.0"]); err != nil {
		return err
	}
	return e.serviceAccountStory()
}

// saPod builds a pod of the credential provider scene: no pull Secret, a
// service account.
func saPod(scenario, namespace, name, image string, pullPolicy v1.PullPolicy, serviceAccount string, w demoWant) demoPod {
	return demoPod{scenario: scenario, namespace: namespace, name: name, image: image, pullPolicy: pullPolicy, serviceAccount: serviceAccount, want: w}
}

// serviceAccountStory is the credential provider scene: pods without pull
// Secrets whose credentials come from the demo's plugin, which exchanges
// the pod's service account token for its tenant's credentials. Both
// namespaces have a service account named builder: team-a's is tenant a
// (robot-a, who may pull team-a/sa-app), team-b's tenant b (robot-b, whom
// the registry refuses there).
func (e *demoEnv) serviceAccountStory() error {
	never, ifNotPresent := v1.PullNever, v1.PullIfNotPresent
	host := e.reg.Addr()
	image := e.ref("team-a/sa-app:1.0")
	repo := host + "/team-a/sa-app"
	pushed, err := e.push("team-a/sa-app:1.0")
	if err != nil {
		return err
	}
	const sa = "builder"
	serviceAccount := func(namespace, tenant string) *v1.ServiceAccount {
		return &v1.ServiceAccount{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: sa, UID: uuid.NewUUID(),
				Annotations: map[string]string{demoTenantAnnotation: tenant}},
		}
	}
	saA, saB := serviceAccount("team-a", "a"), serviceAccount("team-b", "b")
	tenants := map[string]map[string]demoCredential{
		"a": {host: {Username: "robot-a", Password: e.passwords["robot-a"]}},
		"b": {host: {Username: "robot-b", Password: e.passwords["robot-b"]}},
	}
	if err := e.startPlugin(tenants, saA, saB); err != nil {
		return err
	}
	step := func(pods ...demoPod) error { return e.ensure(demoStep{api: true, pods: pods}) }
	recordsAccounts := func(what string, want ...*v1.ServiceAccount) error {
		return e.checkRecord(pushed.ID, what, func(r *kubeletv1beta1.ImagePulledRecord) bool {
			var got, wantKeys []string
			for _, a := range r.CredentialMapping[repo].KubernetesServiceAccounts {
				got = append(got, a.Namespace+"/"+a.Name+"="+a.UID)
			}
			for _, a := range want {
				wantKeys = append(wantKeys, a.Namespace+"/"+a.Name+"="+string(a.UID))
			}
			slices.Sort(got)
			slices.Sort(wantKeys)
			return slices.Equal(got, wantKeys)
		})
	}

	e.section = "A credential provider plugin and service account tokens (the API server is an in-process stand-in)"
	if err := step(saPod("A, service account team-a/builder (tenant a)", "team-a", "a-sa", image, ifNotPresent, sa, want(resultPulled, ruleNotPresent, true))); err != nil {
		return err
	}
	if err := recordsAccounts(fmt.Sprintf("the record of team-a/sa-app lists serviceaccount team-a/builder uid=%s (kubernetesServiceAccounts), no Secret", shortHash(string(saA.UID))), saA); err != nil {
		return err
	}

	execs, err := e.pluginExecs()
	if err != nil {
		return err
	}
	tokens := e.plugin.api.tokensMinted()
	if err := step(
		saPod("A, another pod of team-a/builder", "team-a", "a-sa-never-1", image, never, sa, want(resultReused, ruleServiceAccount, false)),
		saPod("A, a third pod of team-a/builder", "team-a", "a-sa-never-2", image, never, sa, want(resultReused, ruleServiceAccount, false)),
	); err != nil {
		return err
	}
	after, err := e.pluginExecs()
	if err != nil {
		return err
	}
	gotExecs, gotTokens := len(after)-len(execs), e.plugin.api.tokensMinted()-tokens
	e.check("two pods of team-a/builder in one ensure run: one token request and one plugin exec (cached per service account)",
		gotExecs == 1 && gotTokens == 1, fmt.Sprintf("%d execs, %d token requests", gotExecs, gotTokens))

	for _, p := range []demoPod{
		saPod("B, service account team-b/builder (tenant b)", "team-b", "b-sa-never", image, never, sa, want(resultDenied, ruleMustPull, false)),
		saPod("B, team-b/builder: the registry refuses tenant b", "team-b", "b-sa", image, ifNotPresent, sa, want(resultFailed, ruleMustPull, true)),
	} {
		if err := step(p); err != nil {
			return err
		}
	}

	// Deleted and recreated: the same name and annotation, a new UID.
	recreated := serviceAccount("team-a", "a")
	if err := e.plugin.api.putServiceAccount(recreated); err != nil {
		return err
	}
	for _, p := range []demoPod{
		saPod("A, team-a/builder recreated (new UID)", "team-a", "a-sa-recreated-never", image, never, sa, want(resultDenied, ruleMustPull, false)),
		saPod("A, team-a/builder recreated: proves access by pulling", "team-a", "a-sa-recreated", image, ifNotPresent, sa, want(resultPulled, ruleMustPull, true)),
	} {
		if err := step(p); err != nil {
			return err
		}
	}
	if err := recordsAccounts(fmt.Sprintf("the record then lists team-a/builder under both UIDs, uid=%s and uid=%s (the old one matches no pod any more)",
		shortHash(string(saA.UID)), shortHash(string(recreated.UID))), saA, recreated); err != nil {
		return err
	}

	all, err := e.pluginExecs()
	if err != nil {
		return err
	}
	refused := 0
	for _, x := range all {
		if x.Result != demoExecOK {
			refused++
		}
	}
	e.check(fmt.Sprintf("every plugin exec verified its token and answered for the account's tenant (%d execs)", len(all)),
		refused == 0 && len(all) > 0, fmt.Sprintf("%d of %d execs refused", refused, len(all)))
	return nil
}

// simulateCrash leaves what a kubelet killed between the runtime pull and
// the record write leaves: the intent on disk and the image in the runtime.
func (e *demoEnv) simulateCrash(image string) error {
	store, err := imagepullrecords.Open(imagepullrecords.Options{ManagerDir: filepath.Join(e.rootDir, imagepullrecords.ManagerDirName)})
	if err != nil {
		return err
	}
	if err := store.WriteIntent(&kubeletv1beta1.ImagePullIntent{Image: image}); err != nil {
		return err
	}
	user, password := "alice", e.passwords["alice"]
	_, err = e.runtime.Preload(e.ctx, image, &runtimeapi.AuthConfig{Username: user, Password: password})
	return err
}

// collectAndPrune removes images from the runtime as image garbage
// collection would, runs "records prune --until cutoff" and checks that only
// the record updated before the cut-off went.
func (e *demoEnv) collectAndPrune(cutoff time.Time, collect []string, oldID, newID string) error {
	ctx, cancel := context.WithTimeout(e.ctx, runtimeTimeout)
	defer cancel()
	svc, err := e.deps.NewImageService(ctx, e.endpoint, runtimeTimeout)
	if err != nil {
		return err
	}
	defer func() { _ = svc.Close(ctx) }()
	for _, image := range collect {
		if err := svc.RemoveImage(ctx, &runtimeapi.ImageSpec{Image: image}); err != nil {
			return err
		}
	}
	stdout, _, err := e.invoke("records", "prune", "--root-dir", e.rootDir, "--runtime-endpoint", e.endpoint,
		"--until", cutoff.Format(time.RFC3339), "-o", "json")
	if err != nil {
		return err
	}
	var out recordsPruneOutput
	if err := json.Unmarshal(stdout, &out); err != nil {
		return fmt.Errorf("decoding records prune output: %w", err)
	}
	wantRemoved := []removedOutput{{File: recordFile(oldID), ImageRef: oldID}}
	e.check(fmt.Sprintf("records prune --until %s removed exactly the collected image's older record (%s)", cutoff.Format(time.RFC3339), shortFile(recordFile(oldID))),
		slices.Equal(out.Removed, wantRemoved), fmt.Sprintf("removed %v", out.Removed))
	rec, err := e.recordOf(newID)
	if err != nil {
		return err
	}
	e.check("the record refreshed after the cut-off survives, although its image was collected", rec != nil, "it was removed")
	return nil
}

// checkSecrets checks that the record of imageRef lists exactly the given
// Secrets (namespace/name) under repo.
func (e *demoEnv) checkSecrets(imageRef, repo string, secrets []string, what string) error {
	rec, err := e.recordOf(imageRef)
	if err != nil {
		return err
	}
	var got []string
	if rec != nil {
		for _, s := range rec.record.CredentialMapping[repo].KubernetesSecrets {
			got = append(got, s.Namespace+"/"+s.Name)
		}
	}
	slices.Sort(got)
	e.check(what, slices.Equal(got, secrets), fmt.Sprintf("recorded %v, want %v", got, secrets))
	return nil
}

// checkRecord checks a predicate on the record of imageRef.
func (e *demoEnv) checkRecord(imageRef, what string, ok func(*kubeletv1beta1.ImagePulledRecord) bool) error {
	rec, err := e.recordOf(imageRef)
	if err != nil {
		return err
	}
	e.check(what, rec != nil && ok(rec.record), "not so on disk")
	return nil
}
