//go:build failpoints

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

import "os"

// failpointEnv names the failpoint to fire in a test build
// (go build -tags failpoints); the node e2e suite sets it.
const failpointEnv = "KUBELET_IMAGECTL_FAILPOINT"

// failpointAfterPull exits the process abruptly, like a SIGKILL, right after
// the runtime's pull returned and before the pull is recorded, when
// KUBELET_IMAGECTL_FAILPOINT=after-pull. It exists only in test builds: a
// crash there is what the pull intent protects against, and killing the
// process during the runtime pull cannot reach that window (containerd
// cancels a pull whose client goes away).
func failpointAfterPull() {
	if os.Getenv(failpointEnv) == "after-pull" {
		os.Exit(137)
	}
}
