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

# Prints the path of a kube-apiserver binary built from the tools module
# hack/tools/kube-apiserver (the released k8s.io/kubernetes module at the
# version its go.mod names), building it first when the cache has none.
#
# The binary lives in
#   ${E2E_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubelet-imagectl-e2e}/kube-apiserver-<version>-<key>/
# where <key> hashes the module's go.mod, go.sum and main.go, the Go version
# and target, and the build flags below: a warm call costs a few hashes, a
# cold one compiles the whole API server (minutes on two cores; see the
# README's Node e2e section). Builds are serialised with flock, written to a
# temp name and renamed, so concurrent callers and interrupted builds never
# see half a binary. Entries unused for 30 days are removed after a build.
#
# Build output goes to stderr; stdout has the path only.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODULE_DIR=${REPO_ROOT}/hack/tools/kube-apiserver

log() {
  echo "build-e2e-kube-apiserver: $*" >&2
}

# The release the module builds, for the binary's /version and the cache
# entry's name (the key alone already changes with go.mod).
version=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" {print $3} $1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2}' \
  "${MODULE_DIR}/go.mod" | head -n 1)
if [[ ! ${version} =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]]; then
  log "cannot read the k8s.io/kubernetes version from ${MODULE_DIR}/go.mod"
  exit 1
fi
major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]}

# Upstream sets these with -X too; without them /version says v0.0.0-master.
# -s -w drop the symbol tables (a third of the size, and a faster link).
ldflags="-s -w"
ldflags+=" -X k8s.io/component-base/version.gitVersion=${version}"
ldflags+=" -X k8s.io/component-base/version.gitMajor=${major}"
ldflags+=" -X k8s.io/component-base/version.gitMinor=${minor}"
ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
build_flags=(-trimpath "-ldflags=${ldflags}")

go_env=$(cd "${MODULE_DIR}" && go env GOVERSION GOOS GOARCH)
key=$(
  {
    cat "${MODULE_DIR}/go.mod" "${MODULE_DIR}/go.sum" "${MODULE_DIR}/main.go"
    echo "${go_env}"
    echo "CGO_ENABLED=0 ${build_flags[*]}"
  } | sha256sum | cut -c1-16
)

cache=${E2E_TOOLS_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/kubelet-imagectl-e2e}
entry=${cache}/kube-apiserver-${version}-${key}
bin=${entry}/kube-apiserver

if [[ -x ${bin} ]]; then
  touch "${entry}"
  echo "${bin}"
  exit 0
fi

mkdir -p "${cache}"
exec 9>"${cache}/.kube-apiserver.lock"
if ! flock -n 9; then
  log "another build holds ${cache}/.kube-apiserver.lock; waiting for it"
  flock 9
fi
# The build that held the lock may have made this very binary.
if [[ ! -x ${bin} ]]; then
  log "building kube-apiserver ${version} into ${entry} (minutes when the Go build cache is cold)"
  mkdir -p "${entry}"
  tmp=${bin}.tmp.$$
  trap 'rm -f "${tmp}"' EXIT
  start=${SECONDS}
  (cd "${MODULE_DIR}" && CGO_ENABLED=0 go build "${build_flags[@]}" -o "${tmp}" .)
  mv "${tmp}" "${bin}"
  trap - EXIT
  log "built in $((SECONDS - start))s"
  find "${cache}" -mindepth 1 -maxdepth 1 -type d -name 'kube-apiserver-*' ! -path "${entry}" -mtime +30 \
    -exec rm -rf {} + 2>/dev/null || true
fi
touch "${entry}"
echo "${bin}"
