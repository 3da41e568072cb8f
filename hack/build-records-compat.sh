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

# Builds the records-compat binaries of the tools modules
# hack/tools/records-compat/release-* (each the pull records code of one
# released k8s.io/kubernetes) and prints one line per release on stdout:
#   release-1.34 /path/to/records-compat
# With arguments (release-1.34 ...), only those.
#
# Binaries live in
#   ${RECORDS_COMPAT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubelet-imagectl-records-compat}/<release>-<key>/
# where <key> hashes the module's go.mod, go.sum and Go files, the shared
# compatcli module, the Go version and target, and the build flags: a warm
# call costs a few hashes; a cold one compiles most of a release's kubelet
# (its kubelet config scheme alone pulls in ~1,400 packages; see the
# README for the figures). Builds are serialised with flock, written to a
# temp name and renamed, so concurrent callers and interrupted builds never
# see half a binary. Entries unused for 30 days are removed after a build.
#
# Hermetic: builds run with GOPROXY=off and -mod=readonly, so they never
# reach the network; the modules must be in the module cache (.ci/run's
# modules stage downloads them; so does
# `cd hack/tools/records-compat/release-X && go mod download`).
# RECORDS_COMPAT_ALLOW_DOWNLOAD=1 lets a build fetch what is missing.
# When modules are missing, the release is left out of the output with a
# message on stderr, and the script exits 0, so that the driver test skips
# it with that message; with CI=true it fails instead (exit code 1).
#
# Build output goes to stderr; stdout has the lines above only.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${REPO_ROOT}/hack/tools/records-compat

log() {
  echo "build-records-compat: $*" >&2
}

releases=("$@")
if [[ ${#releases[@]} -eq 0 ]]; then
  for dir in "${TOOLS}"/release-*/; do
    releases+=("$(basename "${dir}")")
  done
fi

# Unoptimised code (-N -l) compiles with about a third less CPU; the
# binaries only decode a few files. -s -w make the link faster.
default_flags=(-trimpath "-gcflags=all=-N -l" "-ldflags=-s -w")
# Except the release that links the k8s.io/kubernetes version of the node
# e2e kube-apiserver (hack/tools/kube-apiserver): built with that build's
# compiler flags (hack/build-e2e-kube-apiserver.sh), the two share nearly
# all of this binary's compiled packages (1,385 of 1,419 for 1.37), so on a
# cold machine whichever builds second compiles only the rest.
apiserver_flags=(-trimpath "-ldflags=-s -w")
apiserver_kubernetes=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "${REPO_ROOT}/hack/tools/kube-apiserver/go.mod")
build_env=(CGO_ENABLED=0 GOWORK=off)
if [[ ${RECORDS_COMPAT_ALLOW_DOWNLOAD:-} != 1 ]]; then
  build_env+=(GOPROXY=off "GOFLAGS=${GOFLAGS:-} -mod=readonly")
fi

cache=${RECORDS_COMPAT_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/kubelet-imagectl-records-compat}
mkdir -p "${cache}"
go_env=$(cd "${TOOLS}/compatcli" && go env GOVERSION GOOS GOARCH)
rc=0

for release in "${releases[@]}"; do
  module=${TOOLS}/${release}
  if [[ ! -f ${module}/go.mod ]]; then
    log "no tools module ${module}"
    exit 1
  fi
  build_flags=("${default_flags[@]}")
  if [[ $(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "${module}/go.mod") == "${apiserver_kubernetes}" ]]; then
    build_flags=("${apiserver_flags[@]}")
  fi
  key=$(
    {
      for m in "${module}" "${TOOLS}/compatcli"; do
        cat "${m}/go.mod"
        cat "${m}/go.sum" 2>/dev/null || true
        find "${m}" -name '*.go' -type f | LC_ALL=C sort | xargs cat
      done
      echo "${go_env}"
      echo "${build_env[*]} ${build_flags[*]}"
    } | sha256sum | cut -c1-16
  )
  entry=${cache}/${release}-${key}
  bin=${entry}/records-compat
  if [[ ! -x ${bin} ]]; then
    exec 9>"${cache}/.${release}.lock"
    if ! flock -n 9; then
      log "another build holds ${cache}/.${release}.lock; waiting for it"
      flock 9
    fi
    # The build that held the lock may have made this very binary.
    if [[ ! -x ${bin} ]]; then
      log "building ${release} into ${entry} (minutes when the Go build cache is cold)"
      mkdir -p "${entry}"
      tmp=${bin}.tmp.$$
      start=${SECONDS}
      if ! out=$(cd "${module}" && env "${build_env[@]}" go build "${build_flags[@]}" -o "${tmp}" . 2>&1); then
        rm -f "${tmp}"
        echo "${out}" >&2
        if grep -qE 'GOPROXY=off|missing go.sum entry|module lookup disabled|no required module provides|cannot find module' <<<"${out}"; then
          log "${release}: its modules are not in the module cache; run: (cd ${module} && go mod download)"
          if [[ ${CI:-} == true ]]; then
            rc=1
          fi
        else
          log "${release}: build failed"
          rc=1
        fi
        exec 9>&-
        continue
      fi
      mv "${tmp}" "${bin}"
      log "built ${release} in $((SECONDS - start))s"
      find "${cache}" -mindepth 1 -maxdepth 1 -type d -name "${release}-*" ! -path "${entry}" -mtime +30 \
        -exec rm -rf {} + 2>/dev/null || true
    fi
    exec 9>&-
  fi
  touch "${entry}"
  echo "${release} ${bin}"
done
exit ${rc}
