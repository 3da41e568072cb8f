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

# Fails when go.mod/go.sum of a module (the main one, the staging one, the
# kube-apiserver tools module, the records-compat tools modules) are not
# tidy, or when the published k8s.io modules are not all at one minor
# version: those the main module uses, and those the tools module builds
# the API server from (its replaced staging modules and k8s.io/kubernetes
# itself), so the node e2e API server is the release the client libraries
# belong to. Each records-compat module must link one release throughout:
# k8s.io/kubernetes v1.X.Y of its directory's minor version, and every
# staging module replaced with v0.X.Y.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rc=0
# same: two files are equal, or both absent (a module without dependencies
# has no go.sum).
same() {
  if [[ -e $1 || -e $2 ]]; then
    cmp -s "$1" "$2"
  fi
}
tools=hack/tools/kube-apiserver
compat=(hack/tools/records-compat/compatcli hack/tools/records-compat/release-*)
for dir in . staging/src/k8s.io/imagepullrecords "${tools}" "${compat[@]}"; do
  tmp=$(mktemp -d)
  cp "${dir}/go.mod" "${tmp}/go.mod"
  cp "${dir}/go.sum" "${tmp}/go.sum" 2>/dev/null || true
  (cd "${dir}" && go mod tidy >/dev/null)
  if ! same "${tmp}/go.mod" "${dir}/go.mod" || ! same "${tmp}/go.sum" "${dir}/go.sum"; then
    echo "${dir}: go.mod/go.sum not tidy (run make update)" >&2
    cp "${tmp}/go.mod" "${dir}/go.mod"; cp "${tmp}/go.sum" "${dir}/go.sum" 2>/dev/null || true
    rc=1
  fi
  rm -rf "${tmp}"
done
minors=$(go list -m -f '{{.Path}} {{.Version}}' all 2>/dev/null \
  | awk '$1 ~ /^k8s\.io\/(api|apimachinery|client-go|component-base|cri-api|cri-client|kubelet)$/ {split($2, v, "."); print v[1]"."v[2]}' | sort -u)
if [[ $(echo "${minors}" | wc -l) -ne 1 ]]; then
  echo "published k8s.io modules at more than one minor version: ${minors}" >&2
  rc=1
fi
# In the tools module the staging modules are required at v0.0.0 (as
# k8s.io/kubernetes requires them) and replaced with releases: check the
# replacements, and v1.X.Y of k8s.io/kubernetes as v0.X.
tool_minors=$(cd "${tools}" && go list -m -f '{{.Path}} {{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' all 2>/dev/null \
  | awk '$1 ~ /^k8s\.io\/(api|apimachinery|apiserver|client-go|component-base|kube-aggregator|kubelet|kubernetes)$/ {
      split($2, v, "."); if ($1 == "k8s.io/kubernetes") v[1] = "v0"; print v[1]"."v[2]}' | sort -u)
if [[ $(echo "${tool_minors}" | wc -l) -ne 1 || ${tool_minors} != "${minors}" ]]; then
  echo "${tools}: kube-apiserver built from k8s.io modules at ${tool_minors//$'\n'/ }, the main module uses ${minors//$'\n'/ }" >&2
  rc=1
fi
# Read from go.mod itself: listing the module graph would need every
# module's go.mod, which a build from the module cache does not.
for dir in hack/tools/records-compat/release-*; do
  minor=${dir##*/release-}
  kube=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2}' "${dir}/go.mod")
  if [[ ! ${kube} =~ ^v${minor//./\.}\.[0-9]+$ ]]; then
    echo "${dir}: requires k8s.io/kubernetes ${kube:-(none)}, want v${minor}.x" >&2
    rc=1
    continue
  fi
  staging=v0.${kube#v1.}
  bad=$(awk -v want="${staging}" '$2 == "=>" && $3 ~ /^k8s\.io\// && $3 !~ /records-compat/ && $4 != want {print $1 " => " $3 " " $4}' "${dir}/go.mod")
  if [[ -n ${bad} ]]; then
    echo "${dir}: staging modules not at ${staging} (k8s.io/kubernetes ${kube}): ${bad//$'\n'/, }" >&2
    rc=1
  fi
done
exit ${rc}
