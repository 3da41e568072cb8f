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

// Package storetest is the conformance suite for pullmanager.RecordsStore.
// Every implementation (the file store, the in-memory layer and their
// composition) runs the same suite, so that the layers cannot drift apart:
// what one layer stores, every layer stores, lists and returns the same way.
//
// The suite covers behaviour every store shares. Behaviour only the file
// store has (broken files, failing disks) is tested next to it.
//
// Records are compared after a round trip through the file encoding, which
// keeps lastUpdatedTime in whole seconds (RFC 3339) and drops empty lists and
// maps; the suite therefore writes whole-second times and treats an empty
// list or map as equal to an absent one.
package storetest
