#!/usr/bin/env bash

# Copyright The Kubernetes Authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

set -o errexit -o nounset -o pipefail

# Runs the node e2e suite (test/e2e_node) against real containerd and real
# distribution registries started by hack/local-up-e2e-node.sh. Needs root.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ "$(id -u)" != 0 ]]; then
  echo "make test-e2e-node needs root: it starts containerd and mounts snapshots (run it with sudo)" >&2
  exit 1
fi
hack/install-e2e-node-deps.sh
export E2E_KUBELET_IMAGECTL="${E2E_KUBELET_IMAGECTL:-$(pwd)/_output/bin/kubelet-imagectl}"
hack/local-up-e2e-node.sh -- go test -p 1 -count=1 -timeout 20m -v ./test/e2e_node/... ./pkg/kubelet/cri/behavior/
