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
	"os"
	"testing"
)

// TestMain lets the test binary stand in for kubelet-imagectl where the
// demo runs its credential provider plugin: the demo links the plugin to
// os.Executable(), which under go test is this binary, and the image
// manager runs it as "demo credential-provider --config FILE". Anything
// else runs the tests.
func TestMain(m *testing.M) {
	if len(os.Args) >= 3 && os.Args[1] == "demo" && os.Args[2] == "credential-provider" {
		os.Exit(Run(context.Background(), os.Args[1:], DefaultDeps()))
	}
	os.Exit(m.Run())
}
