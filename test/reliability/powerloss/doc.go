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

// Package powerloss simulates power cuts under the image pull record store
// (issue 6, item 2). MemFS implements imagepullrecords.FS in memory and
// keeps, beside what readers see, what a power cut would leave: a file's
// content is durable after an fsync of that file, a directory entry change
// (create, rename, remove, mkdir) after an fsync of that directory. A cut
// leaves, per loss mode, nothing unsynced (lose), everything (keep, a plain
// process crash), or a random mix: each unsynced entry takes any value it
// had since its directory's last fsync, each unsynced file its synced
// content, its current content or a torn prefix of it.
//
// TestPowerLoss runs the harness workload once and cuts the power before
// every state-changing operation, under each mode, restarting a manager
// over every survivor and checking the invariants of
// test/reliability/internal/harness (whose pulls include service
// accounts' plugin credentials, recorded as kubernetesServiceAccounts, so
// cuts also meet those records). One step in six deletes a Secret, a
// service account or a namespace from the world's cluster and revokes it
// through RevokeCredentials (harness.Workload.RevokeEvery), so cuts also
// land inside revocations: between the deletion and the acknowledgement
// either version of each record it touched is accepted, after it no
// survivor may hold the revoked source, and revoked names still count as
// pulled by the kubelet, as in the crash campaign. A second sweep also
// crashes the workload's process now and then (every unsynced change kept,
// a new manager continuing over it), so later cuts meet what a crash left.
//
// TestPowerLossRewrite populates a store with records and intents in
// v1beta1 and v1alpha1, canonical and indented (another tool's), records
// with secrets, service accounts, nodePodsAccessible, {} entries and an
// empty mapping, and plans a rewrite as kubelet-imagectl records migrate,
// records downgrade --to v1alpha1 and records downgrade
// --drop-service-accounts do (Store.PlanRewrite under the writer lock). It
// cuts the power before every operation of Store.ApplyRewrite, and once
// after it returned, under each mode, and checks each survivor: every file
// is there and holds its old or its new bytes, never a torn or empty file,
// and decodes to the record or intent it held before (with
// DropServiceAccounts, or less its service accounts); no other file
// appears. Running the rewrite again over the survivor finishes it (a new
// plan then finds nothing to do), and a writer's start-up over it removes
// every leftover temporary and keeps every record and intent. After
// ApplyRewrite returned, every file holds its new version whatever the
// cut. The short run recovers one survivor per operation (the loss mode
// taking turns), the long run every survivor.
//
// # What each fsync protects
//
// TestFsyncMap turns one fsync at a time into a no-op (in the MemFS, not in
// production code) and reruns the sweep, with revocations (the rewrite
// sweep for ApplyRewrite's fsyncs):
//
//   - record file before its rename (imagepullrecords atomic.go): critical.
//     Without it the renamed record can be empty or torn after a cut: it is
//     poisoned, so it grants nothing, but the credentials an acknowledged
//     pull earned are lost ("never lose a record that a successful pull
//     earned").
//   - pulled/ after a record's rename (atomic.go): critical. The rename is
//     lost while RecordImagePulled already returned and the intent was
//     removed: the acknowledged record is gone, and once a later intent
//     write fsyncs pulling/ the name looks preloaded. A revocation's
//     rewrite is lost the same way: the record comes back holding the
//     Secret or service account whose revocation RevokeCredentials
//     acknowledged.
//   - pulling/ after an intent's rename (atomic.go): critical. The intent
//     vanishes although the runtime pull started only after it was
//     "durable": a pulled name with no record entry passes for preloaded.
//   - the root dir and image_manager/ when the store opens (store.go Open):
//     critical. Without them the record directories themselves, with every
//     file fsynced into them, can vanish. This fsync was missing; the sweep
//     found it.
//   - pulling/ and pulled/ when the store opens (store.go Open): critical
//     once a process crash precedes the power cut. A process that died
//     between a record's rename and the directory fsync leaves a record the
//     next process trusts: start-up housekeeping finds the name in it and
//     removes the intent; a cut then keeps the removal and drops the record,
//     and the pulled name passes for preloaded. Also missing; found by the
//     sweep with process crashes interleaved.
//   - intent file before its rename (atomic.go): not critical. A torn
//     intent file still counts as an intent for every image string hashing
//     to its name, which fails safe; the fsync keeps start-up from meeting a
//     broken file that only the next pull of that image repairs.
//   - pulled/ after a record's removal (store.go DeleteRecord): not
//     critical. A pruned record may come back after a cut; it grants only
//     what pulls proved, and the next prune removes it again. The fsync
//     makes a prune final, so recovery does not redo it.
//   - each temporary of a rewrite before the renames (rewrite.go
//     writeTemporary): critical. Without it a renamed file can be empty or
//     torn after a cut, before or after the directory fsync: a record then
//     poisons its image ref and loses what it granted, a v1alpha1 file
//     being downgraded is no longer readable by the old kubelet either.
//   - pulling/ and pulled/ after a rewrite's renames (rewrite.go
//     ApplyRewrite): not critical. Without it, files rewritten before a
//     cut that follows ApplyRewrite's return can come back in their old
//     version; both versions decode to the same record here, and a rerun
//     finishes the rewrite. The fsync makes a reported rewrite final,
//     which matters after a downgrade: kubelets 1.33 and 1.34 cannot read
//     a v1beta1 file that came back, and pull that image again.
//
// The removal of an intent is not fsynced on purpose: an intent that comes
// back only makes its name count as pulled by the kubelet.
package powerloss
