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

# Rewrites what the verify scripts check: gofmt and tidy modules. There is no
# generated code: conversions are hand-written (pkg/kubelet/apis/config/v1beta1).
cd "$(dirname "${BASH_SOURCE[0]}")/.."
git ls-files -co --exclude-standard '*.go' | xargs -r gofmt -w
go mod tidy
(cd staging/src/k8s.io/imagepullrecords && go mod tidy)
(cd hack/tools/kube-apiserver && go mod tidy)
for dir in hack/tools/records-compat/compatcli hack/tools/records-compat/release-*; do
  (cd "${dir}" && go mod tidy)
done
