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

// Command kubelet-imagectl runs the kubelet's image manager, with the
// KubeletEnsureSecretPulledImages feature (KEP-2535), for pods on a node:
// it decides whether each container may use an image already on the node
// or must pull it with the pod's credentials, pulls through the node's CRI
// runtime, and keeps the pull records under <root-dir>/image_manager
// exactly as the kubelet does. It also lists and prunes those records, and
// runs a self-contained demo.
//
// # ensure
//
//	kubelet-imagectl ensure --pod FILE [--pod FILE]... [--secret FILE]... [flags]
//	kubelet-imagectl ensure --kubeconfig FILE --pod-name NS/NAME [--pod-name NS/NAME]... [flags]
//
// Every init container, then every regular container, of each pod is
// processed in spec order, each even after an earlier one failed. Pods are
// processed concurrently through one image manager, as a kubelet's pod
// workers would; the output keeps the order in which they were given.
//
// Inputs:
//   - --pod: a Pod manifest, YAML or JSON, exactly one Pod. Decoding is
//     strict (an unknown field is an error naming its path). The namespace
//     defaults to "default". An empty imagePullPolicy is defaulted as the
//     API server does: Always when the tag is "latest" (which an image
//     without tag or digest has), else IfNotPresent.
//   - --secret: Secrets the pods reference in imagePullSecrets, in their
//     pod's namespace. A file may hold several YAML documents, a stream of
//     JSON objects, a List or a SecretList. Every Secret needs metadata.uid
//     (pull records identify Secrets by UID). A referenced Secret that is
//     not given is missing: a FailedToRetrieveImagePullSecret warning, and
//     the pull goes on without it.
//   - --kubeconfig and --pod-name: the Pods and their pull Secrets are read
//     from the API server instead (exclusive with --pod/--secret). Secrets
//     are read before any decision, as the kubelet reads them before
//     pulling.
//   - --config: a KubeletConfiguration file (kubelet.config.k8s.io/v1beta1),
//     decoded strictly (an unknown field is a warning on stderr, as in the
//     kubelet), defaulted with the effective feature gate and validated as
//     the kubelet validates it. Fields read: featureGates,
//     imagePullCredentialsVerificationPolicy,
//     preloadedImagesVerificationAllowlist, serializeImagePulls,
//     maxParallelImagePulls, containerRuntimeEndpoint, imageServiceEndpoint,
//     maxPods.
//   - --feature-gates Name=bool,...: merged key by key over the file's
//     featureGates (the flag wins for the gates it names).
//   - --runtime-endpoint: the CRI endpoint for image calls. When given it
//     wins over the file; otherwise the file's imageServiceEndpoint, else
//     its containerRuntimeEndpoint, else unix:///run/containerd/containerd.sock.
//   - --root-dir (default /var/lib/kubelet): records live in
//     <root-dir>/image_manager.
//   - --docker-config FILE: node-wide credentials from exactly this file
//     (an empty value disables them); by default the kubelet's search:
//     <root-dir>/config.json, <root-dir>/.dockercfg,
//     $HOME/.docker/config.json, $HOME/.dockercfg.
//   - --image-credential-provider-config FILE and
//     --image-credential-provider-bin-dir DIR: the kubelet's exec credential
//     provider plugins (see "Credential provider plugins" below). Both or
//     neither.
//   - --dry-run: decide without pulling or writing anything. The records
//     are opened read-only, without the writer lock, so a dry run is safe
//     next to a running kubelet; a pull that would happen is reported as
//     WouldPull.
//   - -o json|text (default text).
//
// With the feature gate off, the image manager behaves as before the
// feature and no pull manager file is written; image_manager/ is not even
// created.
//
// Output, -o json: one object per pod, one per line, in the order given:
//
//	{"pod":"NS/NAME","events":[{"type":"Warning","reason":"FailedToRetrieveImagePullSecret","message":"..."}],
//	 "containers":[{"name":"app","image":"reg.example/team/app:1","pullPolicy":"IfNotPresent",
//	   "result":"Reused","reason":"","message":"","imageRef":"sha256:...","verification":"secretHash",
//	   "pullAttempted":false,"events":[{"type":"Normal","reason":"Pulled","message":"..."}]}]}
//
// (shown on several lines here). The pod's events are its pod-level
// warnings, each distinct one once; a container's events are the kubelet's
// events for it (Pulling, Pulled, Failed, BackOff, InspectFailed,
// ErrImageNeverPull). Init containers come first in "containers".
//
// result:
//   - Reused: admitted without a pull (present and allowed, gate off,
//     NeverVerify).
//   - Pulled: a pull succeeded.
//   - WouldPull: --dry-run only; a pull would be made (the registry would
//     decide). message is "would pull".
//   - Denied: reason ErrImageNeverPull (absent, or present but not for this
//     pod, with pull policy Never).
//   - Failed: reason ErrImagePull, ImagePullBackOff, InvalidImageName,
//     ImageInspectError, RegistryUnavailable or SignatureValidationFailed.
//
// verification is the rule that decided: notPresent, gateOff, policy,
// notPulledByKubelet, nodeAccessible, secretHash, secretCoordinates,
// serviceAccount or mustPull; it is empty when no rule ran (an invalid
// image name, an image that could not be inspected). reason, message and
// imageRef are empty strings when they do not apply: reason and message
// only for a container that was not admitted (message then carries the
// runtime's error text for a failed pull, never a credential), imageRef
// only for an admitted one.
//
// Output, -o text: a kubectl-style table (POD, CONTAINER, IMAGE, PULL
// POLICY, RESULT, VERIFICATION, REASON, IMAGE REF) followed by the events.
//
// # Credential provider plugins
//
// --image-credential-provider-config names a CredentialProviderConfig
// (kind CredentialProviderConfig, apiVersion kubelet.config.k8s.io/v1; the
// older v1beta1 and v1alpha1 are read too, without tokenAttributes),
// validated as strictly as the kubelet validates it: every plugin name a
// bare executable file in --image-credential-provider-bin-dir, names
// unique, matchImages valid globs (per host label, optional port and
// path), defaultCacheDuration and apiVersion set, tokenAttributes only with
// credentialprovider.kubelet.k8s.io/v1 and the
// KubeletServiceAccountTokenForCredentialProviders gate (beta, on). Any
// problem is exit code 2, naming the file and the field.
//
//	apiVersion: kubelet.config.k8s.io/v1
//	kind: CredentialProviderConfig
//	providers:
//	- name: token-exchange-credential-provider
//	  apiVersion: credentialprovider.kubelet.k8s.io/v1
//	  matchImages: ["registry.example.com", "*.registry.example.com:5000/team"]
//	  defaultCacheDuration: 10m
//	  args: ["--config", "/etc/kubernetes/token-exchange.yaml"]
//	  tokenAttributes:
//	    serviceAccountTokenAudience: registry.example.com
//	    cacheType: ServiceAccount
//	    requireServiceAccount: true
//	    requiredServiceAccountAnnotationKeys: ["registry.example.com/tenant"]
//
// A plugin runs only for images its matchImages match, only when a
// decision or a pull needs the pod's credentials, and at most once per
// container. Its answer is cached in the process as the response's
// cacheKeyType (Image, Registry, Global) and cacheDuration say, and per
// service account (cacheType ServiceAccount: namespace, name, UID and the
// passed annotations) or per token (cacheType Token); concurrent requests
// for one key make one exec.
//
// For a provider with tokenAttributes, the pod's service account token for
// the configured audience, bound to the pod (a TokenRequest with a bound
// object reference to the Pod), is requested from the API server when the
// pods come from it (--kubeconfig), and the ServiceAccount's required and
// optional annotations are passed to the plugin. A missing service account
// or a missing required annotation fails the container, naming them. With
// --pod files there is no API server and no token: a provider with
// requireServiceAccount fails the container saying so; one without it runs
// without a token.
//
// The order in which credentials are tried for a pull: the pod's pull
// Secrets (most specific registry key first), then the node-wide docker
// config, then the plugins in configuration order (each plugin's
// registries most specific first). The first that pulls is recorded: a
// Secret by coordinates and hash; a plugin credential obtained with the
// pod's service account token by the service account's (uid, namespace,
// name) under kubernetesServiceAccounts, so that pods of the same service
// account reuse the image without a pull (verification serviceAccount)
// while pods of another service account, or of a recreated one (new UID),
// must pull; a plugin credential obtained without a token, like the
// node-wide docker config, by nodePodsAccessible.
//
// A plugin that cannot be run, exits non-zero, times out (1 minute), prints
// more than 1 MiB, prints something that is not a CredentialProviderResponse
// of its apiVersion, or answers with an unknown cacheKeyType fails the
// container with ErrImagePull and a message naming the plugin, whatever
// the pull policy: nothing is granted, pulled or recorded. A decision
// presents the pod's service account only when its plugin answered for it.
// No token, password, annotation value or byte of a plugin's output is ever
// logged or put in an error or event.
//
// # records list
//
//	kubelet-imagectl records list [--root-dir DIR] [-o json|text]
//
// Read-only: no lock, no migration, no removal. JSON, one object:
//
//	{"intents":[{"file":"image_manager/pulling/sha256-...","image":"..."}],
//	 "pulled":[{"file":"image_manager/pulled/sha256-...","record":{...}}],
//	 "errors":[{"file":"image_manager/pulled/sha256-...","error":"..."}]}
//
// file is relative to the root dir (so it starts with image_manager/) and
// each list is sorted by file. record is the canonical v1beta1 encoding of
// the record, whatever the version on disk. A file that fails any check
// (read, decode, kind, name) appears only in errors; temporaries and names
// without the sha256- prefix are ignored. The exit code is 0 even when
// errors is not empty. The text form abbreviates hashes; use -o json for
// full names. A root dir without image_manager/ lists nothing; a missing
// root dir is exit code 3.
//
// # records prune
//
//	kubelet-imagectl records prune [--root-dir DIR] [--runtime-endpoint URL] [--until RFC3339] [-o json|text]
//
// What the kubelet's post-GC hook does: remove the records of images that
// are not in the runtime, were last updated before --until (default: a time
// taken before the runtime's images are listed) and have no pull in flight.
// It takes the writer lock. JSON: {"removed":[{"file":"image_manager/pulled/sha256-...","imageRef":"sha256:..."}]},
// sorted by file. A root dir without image_manager/ has nothing to prune
// and is not touched (the runtime is not contacted).
//
// # records explain
//
//	kubelet-imagectl records explain (--pod FILE [--secret FILE]... | --kubeconfig FILE --pod-name NS/NAME) [flags] IMAGE
//
// Says, without pulling or writing anything, which rule would decide for
// the containers of one pod that use IMAGE (as written, or after
// normalisation: busybox:1.36 matches docker.io/library/busybox:1.36), and
// why. It runs ensure's dry run (the records opened read-only, no lock, so
// it is safe next to a running kubelet) with ensure's inputs and flags
// (--config, --root-dir, --runtime-endpoint, --feature-gates,
// --docker-config, the credential provider flags; no --dry-run, it always
// is one), and the pull manager reports, for a present image with
// IfNotPresent or Never, the rule and its step of the decision list, the
// policy line (policy, the allowlist entry that matched), the record file,
// the repository key, whether the name counts as pulled by the kubelet and
// why (entry, empty mapping, intent file, pull in flight), the entry, and
// the pod's Secrets (namespace, name, uid, credential hash abbreviated to 8
// hex digits, hash or coordinates match) and service account. No
// credential is shown. What the kubelet would write back (a second
// Secret's coordinates, a rotated Secret's hash) is said, not done.
//
// JSON (one line): ensure's object for the pod, with only the containers
// that use IMAGE, each with an explanation:
//
//	{"pod":"NS/NAME","events":[...],"containers":[{"name":..,"image":..,"pullPolicy":..,"result":..,"reason":..,
//	  "message":..,"imageRef":..,"verification":..,"pullAttempted":..,"events":[..],
//	  "explanation":{"summary":"...","decidedBy":"pullManager","ensureSecretPulledImages":true,"present":true,
//	    "runtimeImageID":"sha256:...","pullManager":{"rule":"secretHash","step":7,"why":"...","mustPull":false,
//	      "imageRef":"sha256:...","repository":"reg.example/team/app",
//	      "policy":{"name":..,"allowlist":[..],"allowlistEntry":..},
//	      "record":{"file":"image_manager/pulled/sha256-...","found":..,"onDisk":..,"poisoned":..,"error":..,
//	        "lastUpdatedTime":..,"emptyMapping":..,"repositories":[..]},
//	      "pulledByKubelet":{"pulled":..,"why":..,"intents":[{"file":..,"image":..,"broken":..,"resolvedAtStartup":..}]},
//	      "entry":{"found":..,"onDisk":..,"nodePodsAccessible":..,"kubernetesSecrets":[..],"kubernetesServiceAccounts":[..]},
//	      "credentials":{"resolved":..,"error":..,"kubernetesSecrets":[{"uid":..,"namespace":..,"name":..,
//	        "credentialHash":"9a0b1c2d","match":"hash","decided":true}],"kubernetesServiceAccount":..,
//	        "capReached":..,"writeBack":..}}}}]}
//
// result, reason, verification and imageRef are ensure --dry-run's.
// decidedBy is pullManager, notPresent, pullPolicy (Always: the pull is the
// verification), gateOff, imageName or imageStatus; pullManager is null
// unless the pull manager decided. rule is one of housekeepingPending,
// recordsNotWritable (step 0), emptyImageRef (1), neverVerify,
// unparsableImage, allowlisted (2), poisonedRecord (3), notPulledByKubelet
// (4), noEntry, nodePodsAccessible, emptyEntry (5), credentialsError (6),
// secretHash (7), secretCoordinates (8), serviceAccount (10), noMatch (11;
// a rotation refused past the cap of step 9 says so). A record or entry
// with onDisk false was made in memory by start-up housekeeping from an
// intent whose image the runtime has, as the kubelet does when it starts.
// The text form is a paragraph and a list per container, then the events.
// Exit codes are ensure's: 0 admitted or would pull, 1 denied or failed, 2
// bad input (also IMAGE not used by the pod), 3 environment (also a missing
// root dir).
//
// # records verify
//
//	kubelet-imagectl records verify [--root-dir DIR] [--runtime-endpoint URL] [--fix] [--stale-intent-age 24h] [-o json|text]
//
// Reads every file as the manager does and prints one line per finding,
// naming the file relative to the root dir ("FILE: KIND: MESSAGE"; "No
// findings." when clean). Kinds: looseMode (a file looser than 0600, a
// directory looser than 0700, the lock file included), nameMismatch (the
// name does not hash from the imageRef or image inside, or is not sha256-
// and 64 hex digits), decodeError (strict decoding failed), unreadable (not
// a regular file, too large, an I/O error), familiarKeys (credentialMapping
// keys such as busybox that loading normalises), duplicateKeys (keys that
// name one repository once normalised, merged by the merge rules when
// loaded), staleIntent (an intent whose image the runtime has, so start-up
// housekeeping would resolve it, or one written longer ago than
// --stale-intent-age; 0 disables the age check), temporary (.tmp-* and
// *.tmp), and with --runtime-endpoint absentImage (a record of an image ID
// the runtime no longer has). JSON: {"findings":[{"file":..,"kind":..,"message":..,"fixed":false}]},
// sorted by file, then kind.
//
// Without --fix it only reads. --fix takes the writer lock (exit code 3
// while it is held) and repairs only what cannot let a pod use an image it
// could not use before: it tightens modes, removes regular leftover
// temporaries (an entry of another type named like one is reported and
// left), and
// rewrites records whose keys need normalising, merged by the merge rules,
// in the version the file had (so that a downgrade for a kubelet that reads
// only v1alpha1 is not undone). It never removes a broken record (it grants
// nothing; absent, the image could look preloaded), a broken or stale
// intent (it keeps the name pulled by the kubelet), or a record of an
// absent image (records prune does that). A finding is marked fixed when a
// scan after the repair no longer finds it, and its message says what was
// done. A root dir without image_manager/ has no findings and is not
// touched. Exit codes: 0 no findings (with --fix: every finding fixed), 1
// findings, 2 bad flags, 3 environment (missing root dir, unreachable
// runtime, lock held).
//
// # records revoke
//
//	kubelet-imagectl records revoke --kubeconfig FILE [--root-dir DIR] [--dry-run] [--wait-for-lock DURATION] [-o json|text]
//	kubelet-imagectl records revoke --kubeconfig FILE --watch [--root-dir DIR] [--interval DURATION] [-o json|text]
//
// Removes from every pulled record the credentials whose source the
// cluster deleted; released kubelets keep them until the image is
// garbage-collected. By coordinates (uid, namespace, name):
//   - a kubernetesSecrets entry whose Secret does not exist, or exists with
//     another UID (deleted and recreated under its name), is removed;
//   - the same for a kubernetesServiceAccounts entry and its ServiceAccount;
//   - every Secret and service account recorded in a namespace that does
//     not exist, or is being deleted (it has a deletionTimestamp), is
//     removed. Without a namespace controller (as in the node e2e setup) a
//     deleted namespace stays Terminating with its objects in it; revoke
//     treats it as deleted, and likewise a Secret or ServiceAccount with a
//     deletionTimestamp.
//
// An entry whose last credential goes stays, as {}: the kubelet pulled the
// image under that name, so the name keeps counting as pulled by the
// kubelet and never passes for preloaded under NeverVerifyPreloadedImages;
// a pod must now pull (verify) it again. nodePodsAccessible entries are
// never touched; lastUpdatedTime is kept (a revocation proves no pull, so
// it does not move the prune cut-off).
//
// One pass: first every Namespace, Secret and ServiceAccount of the
// cluster is listed, metadata only and in pages of 500; if any request
// fails, on any page (a refusal, a timeout, an expired continue token, the
// API server unreachable), nothing is revoked and the exit code is 3. Then
// the records are opened with the writer lock and revoked through the pull
// manager, under each image ref's lock, as pulls and prune write them, and
// durably. A record updated at or after the moment the listing started
// (a pull that may hold a Secret created after the listing) is left as it
// is, with a warning on stderr to run revoke again. --dry-run takes no lock,
// writes nothing and reports what would be revoked. A root dir without
// image_manager/ has nothing to revoke (the API server is not contacted).
//
// --watch runs until SIGTERM or an interrupt (exit code 0), with shared
// informers on Namespaces, Secrets and ServiceAccounts (metadata only; each
// object is cut down to namespace, name, UID, resourceVersion and
// deletionTimestamp as it is decoded, about 500 bytes per object cached).
// It waits for all three caches to sync (the informers retry with back-off
// while the API server is unreachable or a watch drops), then, after each
// burst of changes and every --interval (default 1m), reads the records
// without the lock and looks for credentials the caches do not have. Only
// then does it run a pass as above: the caches only say where to look,
// never what to revoke, since a cache may lag behind a creation or be
// refilled object by object after a relist. A failed pass (a list error,
// the lock held by another writer) is retried with back-off, 1s doubling
// to 1m; a pass that left a record for later is followed by another.
//
// JSON, one object per pass (per line with --watch, only for passes that
// revoked something):
//
//	{"revoked":[{"file":"image_manager/pulled/sha256-...","imageRef":"sha256:...","repository":"reg.example/team/app",
//	  "kind":"secret","namespace":"team-a","name":"regcred","uid":"..."}]}
//
// kind is secret or serviceAccount; the list is sorted by file,
// repository, kind, namespace, name and UID. Text: a table (REVOKED FROM
// RECORD, IMAGE REF, REPOSITORY, KIND, SOURCE, UID), or "No credentials
// revoked.".
//
// The writer lock: like prune, revoke fails with exit code 3 while another
// writer (a kubelet) holds image_manager/.lock; --wait-for-lock DURATION
// waits for it first. --watch takes the lock only for the moment of a pass.
//
// RBAC: the identity of --kubeconfig needs exactly list and watch (list
// alone for one pass) on namespaces, secrets and serviceaccounts in the
// core API group, cluster-wide, as in this ClusterRole:
//
//	apiVersion: rbac.authorization.k8s.io/v1
//	kind: ClusterRole
//	metadata:
//	  name: kubelet-imagectl-revoke
//	rules:
//	- apiGroups: [""]
//	  resources: ["namespaces", "secrets", "serviceaccounts"]
//	  verbs: ["list", "watch"]
//
// Every request asks for metadata only (PartialObjectMetadata), so Secret
// data is never fetched; RBAC cannot express "metadata only", so the role
// would let its holder read Secret data: give it to this tool only. The
// metadata of a Secret applied with kubectl carries its data in the
// kubectl.kubernetes.io/last-applied-configuration annotation; revoke keeps
// no annotation and logs no object. The kubelet's own credentials (the
// Node authorizer) do not allow cluster-wide lists of Secrets, which is
// why this is a separate identity.
//
// Exit codes: 0 done (also after SIGTERM with --watch); 2 bad flags or a
// kubeconfig that does not load; 3 API server errors (nothing revoked), the
// records lock held, the root dir missing or unwritable, or a record that
// could not be written (the others were revoked).
//
// # records migrate and downgrade
//
//	kubelet-imagectl records migrate [--root-dir DIR] [--dry-run] [-o json|text]
//	kubelet-imagectl records downgrade --to v1alpha1 [--drop-service-accounts] [--root-dir DIR] [--dry-run] [-o json|text]
//
// Rewrite every intent and record file in the canonical encoding of one
// version: migrate in kubelet.config.k8s.io/v1beta1, which kubelets 1.35 and
// later write (they read v1alpha1 too, and rewrite it at start-up);
// downgrade in kubelet.config.k8s.io/v1alpha1, the only version kubelets
// 1.33 and 1.34 read (their scheme has no v1beta1 pull records: every
// v1beta1 file is a decode error, which they turn into a pull). Only the
// encoding changes: fields, map keys (never normalised) and times (to the
// second, in UTC, as every kubelet writes them) decode the same before and
// after, and each new content is decoded and compared before anything is
// written. A file already in its canonical form is unchanged; any other
// file, of either version, is rewritten.
//
// All or nothing: every file is read and decoded first; a file that fails
// any check (read, decode, kind, name) ends the command with exit code 1,
// naming each broken file, and nothing written (also with --dry-run). The
// tool does not remove broken files: a missing record makes its image look
// preloaded. Then every new content goes to a temporary in its directory,
// fsynced and closed; only then is each temporary renamed over its file,
// and each directory is fsynced once. A failure (exit code 3) or a crash
// part way leaves each file either old or new, both complete: a rename
// replaces one file atomically, files are independent of one another, and
// both versions decode to the same record or intent, so any mixture says
// the same thing, and running the command again finishes the rewrite.
// Leftover temporaries are ignored by every reader and removed by a
// writer's start-up.
//
// Both commands take the writer lock (exit code 3 while another writer
// holds it). Released kubelets take no lock: stop the kubelet first.
// --dry-run takes no lock and writes nothing, and lists what would change.
// JSON, one object, sorted by file:
//
//	{"rewritten":[{"file":"image_manager/pulled/sha256-...","from":"kubelet.config.k8s.io/v1beta1","to":"kubelet.config.k8s.io/v1alpha1"}],"unchanged":3}
//
// Kubelet 1.33's v1alpha1 has no kubernetesServiceAccounts field and
// rejects every record naming a service account (that image is then
// pulled again). --drop-service-accounts removes those lists for a rollback
// to 1.33 (each file then reports "droppedServiceAccounts"); every
// credentialMapping entry stays, so each name still counts as pulled by
// the kubelet, and a record only grants less. Without it, downgrade warns
// on stderr, naming the records with service accounts.
//
// Downgrade is the last step before starting the old kubelet: this tool's
// writers (ensure without --dry-run, records prune, revoke, migrate) and
// kubelets 1.35 and later rewrite v1alpha1 files in v1beta1 when they
// start, so none may run as a writer on that root dir in between. The
// released kubelets' own code is run against both commands' output by
// test/compat/records (hack/tools/records-compat).
//
// # demo
//
//	kubelet-imagectl demo [--keep]
//
// Starts an embedded registry (HTTP basic auth, per-repository access) and
// an embedded CRI image service on loopback in a temporary directory, pushes
// a private image for tenant A and runs the multi-tenant story: tenant B
// without a Secret, with credentials the registry refuses, with A's
// credentials under A's Secret and under another one, with other valid
// credentials, under each of the four verification policies and with
// IfNotPresent and Never; an anonymously pullable image; the allowlist
// (exact, prefix, near miss); preloaded images; one image ID under two
// names; two pods pulling at once; the registry down; a crash between the
// pull and the record; a restart; a Secret rotated, then recreated; a dry
// run; the gate off; garbage collection then records prune; and a
// credential provider plugin with service account tokens. Every step runs
// "kubelet-imagectl ensure" (or "records prune") in-process on generated
// manifests and KubeletConfiguration files, each step a new image manager
// over the same root dir, as a restarted kubelet.
//
// In the credential provider scene, pods have no pull Secret but a service
// account, and the image manager runs a real exec plugin through the real
// exec path: the hidden "kubelet-imagectl demo credential-provider", linked
// into a bin dir of the demo's and named in a generated
// CredentialProviderConfig (tokenAttributes with the demo's audience,
// cacheType ServiceAccount, the tenant annotation required). The pods and
// their ServiceAccounts come from a stand-in for the API server (a small
// HTTP server on 127.0.0.1, reached through a generated kubeconfig with
// --kubeconfig), whose TokenRequest only
// mints tokens bound to an existing pod of the account, as an HMAC-SHA256
// of the claims under a random key shared with the plugin; the plugin
// verifies it (where the node e2e suite's plugin sends a TokenReview to a
// real kube-apiserver) and answers with the tenant's registry credentials.
// Tenant A's pod pulls a private image and the record names its service
// account; other pods of that account reuse it (verification
// serviceAccount) without contacting the registry, two of them in one run
// with one token request and one plugin exec (the plugin cache); tenant B's
// account is denied with Never and fails with IfNotPresent (the registry
// refuses its credentials); the account deleted and recreated (new UID) is
// denied until it pulls again.
//
// The demo prints one row per decision (pod, policy, pull policy, result,
// rule, whether the registry's access log shows a request for the image's
// repository, and whether that is the expected outcome), the checks of the
// records, and the records on disk. It exits 0 only when every decision and
// check is the expected one, 1 otherwise.
//
// # Exit codes
//
//   - 0: every container admitted (a dry run's WouldPull counts as
//     admitted: nothing refused the pod).
//   - 1: at least one container Denied or Failed (demo: an unexpected
//     outcome).
//   - 2: bad flags, bad input files or an invalid configuration. Nothing is
//     written to stdout and one line to stderr, naming the flag, or the file
//     and the field.
//   - 3: environment errors: the runtime is unreachable (checked with a
//     ListImages call at start-up), the API server failed or a Pod does not
//     exist, the root dir is missing (records commands), unwritable, or
//     locked by another writer (a running kubelet: use --dry-run or records
//     list next to it).
//
// # Logging
//
// Errors logged by the image manager and the CRI client (a failed pull, a
// record that could not be written) go to stderr; -v N adds informational
// messages up to klog verbosity N (2: decisions and pulls). Credentials are
// never printed or logged.
package main
