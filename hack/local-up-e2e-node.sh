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

# Starts the node e2e components on this machine, as root, all on 127.0.0.1
# and under one short temp dir: three distribution registries (tenant A with
# two htpasswd users, tenant B with one, and one anonymous), a containerd
# with the CRI plugin that pulls from them over plain HTTP, and a real
# Kubernetes API server (the released kube-apiserver, built and cached by
# hack/build-e2e-kube-apiserver.sh) over its own single-member etcd, with
# RBAC and Node authorization, the ServiceAccount admission plugin and a
# service-account issuer, so tests can create pods, ServiceAccounts and
# roles and request and review bound tokens. No controller manager runs: no
# namespace gets a "default" ServiceAccount, and a deleted namespace stays
# Terminating. Every daemon is a child of this script, stopped by PID on
# exit, on failure and on interrupt; its mounts, shim sockets and new empty
# cgroups are removed after it. Install the packages first:
# hack/install-e2e-node-deps.sh.
#
# Usage:
#   hack/local-up-e2e-node.sh -- COMMAND [ARG...]
#       Start, run COMMAND with the environment below exported, tear down,
#       exit with COMMAND's status (what `make test-e2e-node` uses).
#   hack/local-up-e2e-node.sh [--env-file PATH]
#       Start, write the environment to PATH (default: <work dir>/env, the
#       path is printed) and stay up until interrupted or --stop.
#   hack/local-up-e2e-node.sh --stop PATH
#       Stop the instance that wrote the env file PATH and wait for its
#       clean-up.
#
# The env file has one KEY=VALUE a line, unquoted (values hold no spaces):
# `set -a; . PATH; set +a` loads it in a shell, and the Go framework
# (test/e2e_node/framework) loads it itself when E2E_ENV_FILE=PATH is set.
#
# Exported environment:
#   E2E_WORK_DIR                 the temp dir holding everything below
#   E2E_LOCAL_UP_PID             PID of this script (TERM stops everything)
#   E2E_CONTAINERD_ENDPOINT      unix://<work dir>/run/containerd.sock (CRI)
#   E2E_CONTAINERD_ADDRESS       the socket path (ctr --address)
#   E2E_CONTAINERD_NAMESPACE     k8s.io, the CRI plugin's namespace
#   E2E_CONTAINERD_SNAPSHOTTER   overlayfs, or native where overlay fails
#   E2E_CONTAINERD_CERTS_DIR     CRI registry config_path (certs.d/<host>/hosts.toml)
#   E2E_CONTAINERD_LOG           containerd's log file
#   E2E_REGISTRY_A               127.0.0.1:<port>, htpasswd auth
#   E2E_REGISTRY_A_USER1 E2E_REGISTRY_A_PASS1 E2E_REGISTRY_A_USER2 E2E_REGISTRY_A_PASS2
#   E2E_REGISTRY_B               127.0.0.1:<port>, htpasswd auth
#   E2E_REGISTRY_B_USER1 E2E_REGISTRY_B_PASS1
#   E2E_REGISTRY_ANON            127.0.0.1:<port>, no auth
#   E2E_REGISTRY_<X>_ACCESS_LOG  the registry's JSON log at level debug: one
#                                object a line; the lines of one request share
#                                http.request.id, its handler's lines carry
#                                auth.user.name, vars.name and vars.reference,
#                                "response completed" http.response.status;
#                                refusals log "error authorizing context"
#   E2E_REGISTRY_<X>_HTTP_LOG    combined-format HTTP log (no user names)
#   E2E_REGISTRY_<X>_CONFIG      the registry's config.yml
#   E2E_KUBECONFIG               admin kubeconfig of the API server, all
#                                embedded: client cert CN=e2e-admin,
#                                O=system:masters, and the serving CA
#   E2E_APISERVER_URL            https://127.0.0.1:<port>
#   E2E_APISERVER_LOG            kube-apiserver's log file
#   E2E_ETCD_LOG                 etcd's log file
#   E2E_SERVICE_ACCOUNT_ISSUER   --service-account-issuer (also the API
#                                server's audience): the iss of its tokens
#   (none of these five with E2E_APISERVER=0)
#
# Inputs (all optional):
#   E2E_TMPDIR                   parent of the work dir (default /tmp; keep it
#                                short, socket paths must stay < 108 bytes)
#   E2E_CONTAINERD_SNAPSHOTTER   skip the overlayfs probe and use this one
#   E2E_CONTAINERD_LOG_LEVEL     containerd --log-level (default info)
#   E2E_APISERVER=0              start no etcd and no API server
#   E2E_KUBE_APISERVER           kube-apiserver binary to run instead of the
#                                one hack/build-e2e-kube-apiserver.sh builds
#                                (a cold build takes minutes, a warm one
#                                costs nothing)
#   E2E_ARTIFACTS                copy the daemons' logs there on teardown
#   E2E_KEEP_WORK_DIR=1          keep the work dir (logs, images) on teardown

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=hack/lib/e2e-node.sh
source "${REPO_ROOT}/hack/lib/e2e-node.sh"

usage() {
  sed -n '/^# Usage:/,/^# The env file/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
}

stop_instance() {
  local file=$1 pid="" line i
  [[ -f ${file} ]] || {
    e2e_node::log "no env file ${file}"
    return 1
  }
  while IFS= read -r line; do
    [[ ${line} == E2E_LOCAL_UP_PID=* ]] && pid=${line#E2E_LOCAL_UP_PID=}
  done <"${file}"
  [[ ${pid} =~ ^[0-9]+$ ]] || {
    e2e_node::log "no E2E_LOCAL_UP_PID in ${file}"
    return 1
  }
  kill -TERM "${pid}" 2>/dev/null || return 0
  for ((i = 0; i < 1200; i++)); do
    kill -0 "${pid}" 2>/dev/null || return 0
    # Exited but not yet reaped by its parent (init, when started with &
    # from a shell that is gone): done too.
    grep -q '^State:[[:space:]]*Z' "/proc/${pid}/status" 2>/dev/null && return 0
    sleep 0.05
  done
  e2e_node::log "instance ${pid} still running after 60s"
  return 1
}

mode=stay
env_file=""
command=()
while (($# > 0)); do
  case $1 in
    --)
      shift
      mode=run
      command=("$@")
      break
      ;;
    --env-file)
      env_file=${2:?--env-file needs a path}
      shift 2
      ;;
    --stop)
      stop_instance "${2:?--stop needs the env file path}"
      exit
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage
      exit 2
      ;;
  esac
done
if [[ ${mode} == run && ${#command[@]} -eq 0 ]]; then
  usage
  exit 2
fi

if [[ ${EUID} -ne 0 ]]; then
  e2e_node::log "must run as root: containerd mounts snapshots and runs runc"
  exit 1
fi
apiserver=true
[[ ${E2E_APISERVER:-1} != 0 ]] || apiserver=false
bins=(containerd containerd-shim-runc-v2 ctr runc docker-registry htpasswd)
[[ ${apiserver} == false ]] || bins+=(etcd openssl curl)
for bin in "${bins[@]}"; do
  if ! command -v "${bin}" >/dev/null 2>&1; then
    e2e_node::log "${bin} not found; run hack/install-e2e-node-deps.sh first"
    exit 1
  fi
done

apiserver_bin=""
if [[ ${apiserver} == true ]]; then
  # Before anything starts: the first build on a machine takes minutes.
  apiserver_bin=${E2E_KUBE_APISERVER:-$("${REPO_ROOT}/hack/build-e2e-kube-apiserver.sh")}
  if [[ ! -x ${apiserver_bin} ]]; then
    e2e_node::log "kube-apiserver binary ${apiserver_bin} is not executable"
    exit 1
  fi
fi

start_time=${EPOCHREALTIME}
E2E_NODE_DIR=$(mktemp -d "${E2E_TMPDIR:-/tmp}/e2eXXXX")
[[ -n ${env_file} ]] || env_file=${E2E_NODE_DIR}/env
child_pid=""
sleeper_pid=""
# containerd 1.6 keeps shim sockets in /run/containerd/s whatever its state
# dir, and ctr keeps fifos and runc state under /run/containerd: when this
# run created that directory, its empty leftovers go on teardown.
run_containerd_existed=false
[[ ! -e /run/containerd ]] || run_containerd_existed=true

teardown() {
  local rc=$?
  trap - EXIT INT TERM
  set +o errexit
  if [[ -n ${child_pid} ]] && kill -0 "${child_pid}" 2>/dev/null; then
    e2e_node::stop_pid "${child_pid}"
  fi
  [[ -z ${sleeper_pid} ]] || e2e_node::stop_pid "${sleeper_pid}"
  e2e_node::stop_containerd
  local i
  for ((i = ${#E2E_NODE_PIDS[@]} - 1; i >= 0; i--)); do
    e2e_node::stop_pid "${E2E_NODE_PIDS[i]}"
  done
  e2e_node::unmount_all
  e2e_node::remove_new_cgroups
  if [[ ${run_containerd_existed} == false && -d /run/containerd ]]; then
    find /run/containerd -depth -type d -empty -delete 2>/dev/null
  fi
  if [[ -n ${E2E_ARTIFACTS:-} ]]; then
    mkdir -p "${E2E_ARTIFACTS}"
    cp "${E2E_NODE_DIR}/logs/"*.log "${E2E_ARTIFACTS}/" 2>/dev/null
    for d in "${E2E_NODE_DIR}"/registry/*/; do
      [[ -d ${d} ]] || continue
      cp "${d}access.log" "${E2E_ARTIFACTS}/registry-$(basename "${d}")-access.log" 2>/dev/null
      cp "${d}http.log" "${E2E_ARTIFACTS}/registry-$(basename "${d}")-http.log" 2>/dev/null
    done
  fi
  [[ ${env_file} == "${E2E_NODE_DIR}"/* ]] || rm -f "${env_file}"
  if [[ ${E2E_KEEP_WORK_DIR:-} == 1 ]]; then
    find "${E2E_NODE_DIR}" -xdev -type s -delete 2>/dev/null
    e2e_node::log "work dir kept: ${E2E_NODE_DIR}"
  else
    rm -rf --one-file-system "${E2E_NODE_DIR}"
  fi
  exit "${rc}"
}
on_signal() {
  e2e_node::log "interrupted, tearing down"
  exit "$1"
}
trap teardown EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

e2e_node::snapshot_cgroups
# The API server is the slowest to get ready (seconds, against milliseconds
# for the others), so it starts first and everything else starts while it
# comes up: etcd, then the keys, then the API server without waiting for
# etcd (it retries), then containerd and the registries.
if [[ ${apiserver} == true ]]; then
  e2e_node::start_etcd
  e2e_node::apiserver_pki
  e2e_node::start_apiserver "${apiserver_bin}"
fi
e2e_node::start_containerd

user_a1=tenant-a-1 pass_a1=$(e2e_node::random_token)
user_a2=tenant-a-2 pass_a2=$(e2e_node::random_token)
user_b1=tenant-b-1 pass_b1=$(e2e_node::random_token)

declare -A registry_users=(
  [a]="${user_a1} ${pass_a1} ${user_a2} ${pass_a2}"
  [b]="${user_b1} ${pass_b1}"
  [anon]=""
)
for name in a b anon; do
  # shellcheck disable=SC2086 # word splitting of the user list is wanted
  e2e_node::start_registry "${name}" ${registry_users[${name}]}
  e2e_node::hosts_toml "${E2E_NODE_REGISTRY_HOST}"
  var=E2E_REGISTRY_${name^^}
  e2e_node::env "${var}" "${E2E_NODE_REGISTRY_HOST}"
  e2e_node::env "${var}_ACCESS_LOG" "${E2E_NODE_REGISTRY_DIR}/access.log"
  e2e_node::env "${var}_HTTP_LOG" "${E2E_NODE_REGISTRY_DIR}/http.log"
  e2e_node::env "${var}_CONFIG" "${E2E_NODE_REGISTRY_DIR}/config.yml"
done
e2e_node::env E2E_REGISTRY_A_USER1 "${user_a1}"
e2e_node::env E2E_REGISTRY_A_PASS1 "${pass_a1}"
e2e_node::env E2E_REGISTRY_A_USER2 "${user_a2}"
e2e_node::env E2E_REGISTRY_A_PASS2 "${pass_a2}"
e2e_node::env E2E_REGISTRY_B_USER1 "${user_b1}"
e2e_node::env E2E_REGISTRY_B_PASS1 "${pass_b1}"

e2e_node::wait_containerd
if [[ ${apiserver} == true ]]; then
  e2e_node::wait_etcd
  if [[ ${E2E_NODE_ETCD_RESTARTED} == true ]]; then
    # It was pointed at the ports etcd could not have.
    e2e_node::stop_pid "${E2E_NODE_APISERVER_PID}"
    e2e_node::start_apiserver "${apiserver_bin}"
  fi
  e2e_node::wait_apiserver
  e2e_node::env E2E_KUBECONFIG "${E2E_NODE_KUBECONFIG}"
  e2e_node::env E2E_APISERVER_URL "${E2E_NODE_APISERVER_URL}"
  e2e_node::env E2E_APISERVER_LOG "${E2E_NODE_DIR}/logs/kube-apiserver.log"
  e2e_node::env E2E_ETCD_LOG "${E2E_NODE_DIR}/logs/etcd.log"
  e2e_node::env E2E_SERVICE_ACCOUNT_ISSUER "${E2E_NODE_SERVICE_ACCOUNT_ISSUER}"
fi
e2e_node::env E2E_WORK_DIR "${E2E_NODE_DIR}"
e2e_node::env E2E_LOCAL_UP_PID "$$"
e2e_node::env E2E_CONTAINERD_ENDPOINT "unix://${E2E_NODE_CONTAINERD_SOCK}"
e2e_node::env E2E_CONTAINERD_ADDRESS "${E2E_NODE_CONTAINERD_SOCK}"
e2e_node::env E2E_CONTAINERD_NAMESPACE k8s.io
e2e_node::env E2E_CONTAINERD_SNAPSHOTTER "${E2E_NODE_CONTAINERD_SNAPSHOTTER}"
e2e_node::env E2E_CONTAINERD_CERTS_DIR "${E2E_NODE_DIR}/containerd/certs.d"
e2e_node::env E2E_CONTAINERD_LOG "${E2E_NODE_DIR}/logs/containerd.log"

elapsed=$(awk -v a="${start_time}" -v b="${EPOCHREALTIME}" 'BEGIN {printf "%.2f", b - a}')
apiserver_msg=""
[[ ${apiserver} == false ]] || apiserver_msg=", kube-apiserver ${E2E_APISERVER_URL}"
e2e_node::log "up in ${elapsed}s: containerd (${E2E_CONTAINERD_SNAPSHOTTER}) at ${E2E_CONTAINERD_ADDRESS}," \
  "registries A ${E2E_REGISTRY_A}, B ${E2E_REGISTRY_B}, anonymous ${E2E_REGISTRY_ANON}${apiserver_msg}"

# Written whole, then renamed, so a reader never sees half a file.
printf '%s\n' "${E2E_NODE_ENV[@]}" >"${env_file}.tmp"
mv "${env_file}.tmp" "${env_file}"

if [[ ${mode} == run ]]; then
  # Run in the background and wait, so a TERM to this script is handled at
  # once; stdin is handed over explicitly (background jobs get /dev/null).
  exec 3<&0
  "${command[@]}" <&3 3<&- &
  child_pid=$!
  exec 3<&-
  rc=0
  wait "${child_pid}" || rc=$?
  child_pid=""
  exit "${rc}"
fi

e2e_node::log "environment written to ${env_file}"
e2e_node::log "stop with: kill $$  (or: $0 --stop ${env_file})"
sleep infinity &
sleeper_pid=$!
wait "${sleeper_pid}" || true
