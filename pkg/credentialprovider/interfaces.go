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

package credentialprovider

// DockerKeyring finds the registry credentials for an image.
type DockerKeyring interface {
	// Lookup returns every credential whose registry key matches image
	// (normalised first, so `busybox:1` and `docker.io/library/busybox`
	// are one image), most specific first, and whether there was any. An
	// image that cannot be parsed matches nothing.
	Lookup(image string) ([]TrackedAuthConfig, bool)
}

var (
	_ DockerKeyring = &BasicDockerKeyring{}
	_ DockerKeyring = UnionDockerKeyring{}
)
