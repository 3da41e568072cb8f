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

# Shell functions that start and stop the node e2e components: distribution
# registries, a containerd, an etcd and a kube-apiserver, each a plain
# background process of the calling shell, everything under one short work
# directory and on loopback only.
# Sourced by hack/local-up-e2e-node.sh; every function is prefixed e2e_node::.
#
# State kept in globals (the caller owns E2E_NODE_DIR):
#   E2E_NODE_DIR        work directory (short: unix socket paths < 108 bytes)
#   E2E_NODE_PIDS       PIDs of the daemons started, in start order
#   E2E_NODE_ENV        KEY=VALUE lines describing what runs (see local-up)

E2E_NODE_PIDS=()
E2E_NODE_ENV=()
E2E_NODE_OWNED_NAMES=()

e2e_node::log() {
  echo "e2e-node: $*" >&2
}

# e2e_node::env KEY VALUE records one exported variable of the environment.
e2e_node::env() {
  E2E_NODE_ENV+=("$1=$2")
  export "$1=$2"
}

# e2e_node::random_token prints 24 hex characters from /dev/urandom.
e2e_node::random_token() {
  od -An -N12 -tx1 /dev/urandom | tr -d ' \n'
}

# e2e_node::http_status HOST PORT PATH prints the HTTP status code of a GET,
# or nothing when nothing answers. Plain bash, so no curl is needed.
e2e_node::http_status() {
  local fd status=""
  if ! { exec {fd}<>"/dev/tcp/$1/$2"; } 2>/dev/null; then
    return 0
  fi
  printf 'GET %s HTTP/1.0\r\nHost: %s:%s\r\n\r\n' "$3" "$1" "$2" >&"${fd}" || true
  IFS=' ' read -r -t 2 _ status _ <&"${fd}" || true
  exec {fd}>&-
  echo "${status}"
}

# e2e_node::port_in_use PORT succeeds when something accepts on 127.0.0.1:PORT.
e2e_node::port_in_use() {
  local fd
  if { exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null; then
    exec {fd}>&-
    return 0
  fi
  return 1
}

# e2e_node::free_port prints a port that nothing listens on now, below the
# ephemeral range so outgoing connections do not take it meanwhile. Another
# process may still bind it first: callers retry when their daemon fails to.
e2e_node::free_port() {
  local port
  while true; do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    if ! e2e_node::port_in_use "${port}"; then
      echo "${port}"
      return 0
    fi
  done
}

# e2e_node::wait_for DESCRIPTION PID TIMEOUT_SECONDS COMMAND... runs COMMAND
# every 50ms until it succeeds; fails when PID exits or the time runs out.
e2e_node::wait_for() {
  local what=$1 pid=$2 timeout=$3
  shift 3
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    if ! kill -0 "${pid}" 2>/dev/null; then
      e2e_node::log "${what} (pid ${pid}) exited before it answered"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      e2e_node::log "${what} (pid ${pid}) did not answer within ${timeout}s"
      return 1
    fi
    sleep 0.05
  done
}

e2e_node::registry_answers() {
  local log=$1 port=$2 status
  grep -q "listening on 127.0.0.1:${port}" "${log}" 2>/dev/null || return 1
  status=$(e2e_node::http_status 127.0.0.1 "${port}" /v2/)
  [[ ${status} == 200 || ${status} == 401 ]]
}

# e2e_node::start_registry NAME [USER PASSWORD]... starts a distribution
# registry on a free loopback port with its storage, config and logs under
# E2E_NODE_DIR/registry/NAME. With users it requires htpasswd basic auth (any
# listed user may pull and push every repository); without, it is anonymous.
# Sets E2E_NODE_REGISTRY_HOST (127.0.0.1:port) and E2E_NODE_REGISTRY_DIR.
#
# The registry's JSON log (stderr) is the access log the tests read. Its
# level is debug because registry 2.8 names the authenticated user
# (auth.user.name) only on lines its route handlers log, which are debug
# ones ("GetImageManifest", "GetBlob"); the closing "response completed"
# line has the status but no user, and lines of one request share
# http.request.id. A request refused for missing or wrong credentials logs
# "error authorizing context" (after "error authenticating user" with the
# name tried). The combined-format HTTP log (stdout) has no user and is
# kept for people.
e2e_node::start_registry() {
  local name=$1
  shift
  local dir=${E2E_NODE_DIR}/registry/${name}
  mkdir -p "${dir}/data"
  local auth=""
  if (($# > 0)); then
    : >"${dir}/htpasswd"
    while (($# > 0)); do
      htpasswd -Bbn "$1" "$2" | grep -v '^$' >>"${dir}/htpasswd"
      shift 2
    done
    auth="auth:
  htpasswd:
    realm: e2e-${name}
    path: ${dir}/htpasswd"
  fi

  local attempt port pid
  for attempt in 1 2 3 4 5; do
    port=$(e2e_node::free_port)
    cat >"${dir}/config.yml" <<EOF
version: 0.1
log:
  level: debug
  formatter: json
  fields:
    registry: ${name}
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: ${dir}/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:${port}
  secret: $(e2e_node::random_token)
${auth}
EOF
    : >"${dir}/access.log"
    docker-registry serve "${dir}/config.yml" >"${dir}/http.log" 2>"${dir}/access.log" &
    pid=$!
    E2E_NODE_PIDS+=("${pid}")
    if e2e_node::wait_for "registry ${name}" "${pid}" 20 e2e_node::registry_answers "${dir}/access.log" "${port}"; then
      # shellcheck disable=SC2034 # read by the caller
      E2E_NODE_REGISTRY_HOST=127.0.0.1:${port}
      # shellcheck disable=SC2034 # read by the caller
      E2E_NODE_REGISTRY_DIR=${dir}
      return 0
    fi
    e2e_node::stop_pid "${pid}"
    if ! grep -q 'address already in use' "${dir}/access.log"; then
      tail -n 20 "${dir}/access.log" >&2 || true
      return 1
    fi
    e2e_node::log "registry ${name}: port ${port} taken meanwhile, trying another (attempt ${attempt})"
  done
  return 1
}

# e2e_node::stop_pid PID sends TERM, waits up to 10s, then KILL. PID must be
# a child of this shell (it is reaped with wait).
e2e_node::stop_pid() {
  local pid=$1 i
  kill -TERM "${pid}" 2>/dev/null || return 0
  for ((i = 0; i < 200; i++)); do
    kill -0 "${pid}" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "${pid}" 2>/dev/null || true
  wait "${pid}" 2>/dev/null || true
}

# e2e_node::snapshotter prints overlayfs when an overlay mount works inside
# E2E_NODE_DIR (it does not on overlay-on-overlay or without privileges), else
# native. E2E_CONTAINERD_SNAPSHOTTER overrides the probe.
e2e_node::snapshotter() {
  if [[ -n ${E2E_CONTAINERD_SNAPSHOTTER:-} ]]; then
    echo "${E2E_CONTAINERD_SNAPSHOTTER}"
    return 0
  fi
  local d=${E2E_NODE_DIR}/ovl-probe result=native
  mkdir -p "${d}/l" "${d}/u" "${d}/w" "${d}/m"
  if mount -t overlay overlay -o "lowerdir=${d}/l,upperdir=${d}/u,workdir=${d}/w" "${d}/m" 2>/dev/null; then
    umount "${d}/m"
    result=overlayfs
  fi
  rm -rf "${d}"
  echo "${result}"
}

# e2e_node::hosts_toml HOST writes containerd's certs.d/HOST/hosts.toml so the
# CRI plugin talks plain HTTP to that loopback registry.
e2e_node::hosts_toml() {
  local host=$1 dir=${E2E_NODE_DIR}/containerd/certs.d/$1
  mkdir -p "${dir}"
  cat >"${dir}/hosts.toml" <<EOF
server = "http://${host}"

[host."http://${host}"]
  capabilities = ["pull", "resolve", "push"]
  skip_verify = true
EOF
}

e2e_node::containerd_answers() {
  local sock=$1 plugins
  [[ -S ${sock} ]] || return 1
  plugins=$(ctr --address "${sock}" --timeout 1s plugins ls 2>/dev/null) || return 1
  grep -Eq '^io\.containerd\.grpc\.v1[[:space:]]+cri[[:space:]].*[[:space:]]ok[[:space:]]*$' <<<"${plugins}"
}

# e2e_node::start_containerd starts containerd with its own config, socket,
# root, state, opt dir and runc root under E2E_NODE_DIR/containerd, the CRI
# plugin on, and a certs.d dir (filled by e2e_node::hosts_toml) as the CRI
# registry config_path (read on every pull, so hosts may be added later).
# Returns at once; e2e_node::wait_containerd waits for it. Sets
# E2E_NODE_CONTAINERD_SOCK, E2E_NODE_CONTAINERD_PID and
# E2E_NODE_CONTAINERD_SNAPSHOTTER.
e2e_node::start_containerd() {
  local dir=${E2E_NODE_DIR}/containerd
  local sock=${E2E_NODE_DIR}/run/containerd.sock
  mkdir -p "${dir}/root" "${dir}/state" "${dir}/opt" "${dir}/runc" "${dir}/certs.d" \
    "${dir}/cni/bin" "${dir}/cni/net.d" "${E2E_NODE_DIR}/run"
  local snapshotter
  snapshotter=$(e2e_node::snapshotter)
  # shellcheck disable=SC2034 # read by the caller
  E2E_NODE_CONTAINERD_SNAPSHOTTER=${snapshotter}
  # Plugins that only probe for kernel features or disks absent here: off, so
  # the log says what matters and start-up does not wait on them.
  cat >"${dir}/config.toml" <<EOF
version = 2
root = "${dir}/root"
state = "${dir}/state"
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = "${sock}"
  uid = 0
  gid = 0

[ttrpc]
  address = "${sock}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "${dir}/opt"

  [plugins."io.containerd.runtime.v1.linux"]
    runtime_root = "${dir}/runc-v1"

  [plugins."io.containerd.grpc.v1.cri"]
    # Root here lacks CAP_SYS_RESOURCE: never lower a container's OOM score
    # below containerd's own.
    restrict_oom_score_adj = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    enable_selinux = false

    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "${snapshotter}"
      default_runtime_name = "runc"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"

        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          Root = "${dir}/runc"

    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "${dir}/cni/bin"
      conf_dir = "${dir}/cni/net.d"

    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "${dir}/certs.d"
EOF
  mkdir -p "${E2E_NODE_DIR}/logs"
  containerd --config "${dir}/config.toml" --log-level "${E2E_CONTAINERD_LOG_LEVEL:-info}" \
    >"${E2E_NODE_DIR}/logs/containerd.log" 2>&1 &
  E2E_NODE_CONTAINERD_PID=$!
  E2E_NODE_PIDS+=("${E2E_NODE_CONTAINERD_PID}")
  E2E_NODE_CONTAINERD_SOCK=${sock}
}

# e2e_node::wait_containerd waits until the containerd started by
# e2e_node::start_containerd answers and its CRI plugin is up.
e2e_node::wait_containerd() {
  if ! e2e_node::wait_for containerd "${E2E_NODE_CONTAINERD_PID}" 30 \
    e2e_node::containerd_answers "${E2E_NODE_CONTAINERD_SOCK}"; then
    tail -n 30 "${E2E_NODE_DIR}/logs/containerd.log" >&2 || true
    return 1
  fi
}

# e2e_node::shims prints "PID NAMESPACE ID" for every containerd shim whose
# command line names our containerd socket (and so was started by it).
e2e_node::shims() {
  local sock=$1 proc pid args ns id i local_match
  for proc in /proc/[0-9]*; do
    pid=${proc#/proc/}
    [[ -r ${proc}/cmdline ]] || continue
    mapfile -d '' -t args <"${proc}/cmdline" 2>/dev/null || continue
    ((${#args[@]} > 0)) || continue
    [[ ${args[0]##*/} == containerd-shim* ]] || continue
    ns="" id="" local_match=false
    for ((i = 1; i < ${#args[@]}; i++)); do
      case ${args[i]} in
        -address) [[ ${args[i + 1]:-} == "${sock}" ]] && local_match=true ;;
        -namespace) ns=${args[i + 1]:-} ;;
        -id) id=${args[i + 1]:-} ;;
      esac
    done
    if [[ ${local_match} == true ]]; then
      echo "${pid} ${ns} ${id}"
    fi
  done
}

# e2e_node::stop_containerd kills the tasks our containerd runs, stops it by
# PID, then its shims, and removes the shim sockets they left in
# /run/containerd/s (containerd 1.6 puts them there whatever its state dir;
# the name is sha256(<socket>/<namespace>/<id>)).
e2e_node::stop_containerd() {
  local pid=${E2E_NODE_CONTAINERD_PID:-}
  local sock=${E2E_NODE_DIR}/run/containerd.sock
  [[ -n ${pid} ]] || return 0
  local ns task
  E2E_NODE_OWNED_NAMES=()
  if kill -0 "${pid}" 2>/dev/null && [[ -S ${sock} ]]; then
    for ns in $(ctr --address "${sock}" --timeout 2s namespaces ls -q 2>/dev/null); do
      E2E_NODE_OWNED_NAMES+=("${ns}")
      for task in $(ctr --address "${sock}" --timeout 2s -n "${ns}" tasks ls -q 2>/dev/null); do
        E2E_NODE_OWNED_NAMES+=("${task}")
        timeout 10 ctr --address "${sock}" -n "${ns}" tasks kill -a -s SIGKILL "${task}" >/dev/null 2>&1 || true
        timeout 10 ctr --address "${sock}" -n "${ns}" tasks delete -f "${task}" >/dev/null 2>&1 || true
      done
    done
  fi
  local shims
  shims=$(e2e_node::shims "${sock}")
  e2e_node::stop_pid "${pid}"
  local spid sns sid
  while read -r spid sns sid; do
    [[ -n ${spid} ]] || continue
    E2E_NODE_OWNED_NAMES+=("${sns}" "${sid}")
    kill -KILL "${spid}" 2>/dev/null || true
    rm -f "/run/containerd/s/$(printf '%s' "${sock}/${sns}/${sid}" | sha256sum | cut -d' ' -f1)"
  done <<<"${shims}"
  # Containers a killed shim left behind, still known to runc.
  local root id
  for root in "${E2E_NODE_DIR}"/containerd/runc/*/; do
    [[ -d ${root} ]] || continue
    for id in $(runc --root "${root}" list -q 2>/dev/null); do
      runc --root "${root}" delete -f "${id}" >/dev/null 2>&1 || true
    done
  done
}

# e2e_node::unmount_all unmounts everything mounted under E2E_NODE_DIR,
# deepest first (lazily when busy).
e2e_node::unmount_all() {
  local mnt
  awk -v d="${E2E_NODE_DIR}/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r |
    while IFS= read -r mnt; do
      umount "${mnt}" 2>/dev/null || umount -l "${mnt}" 2>/dev/null || e2e_node::log "cannot unmount ${mnt}"
    done
}

# e2e_node::snapshot_cgroups writes the cgroup directories that exist now, so
# e2e_node::remove_new_cgroups can tell which ones the run created.
e2e_node::snapshot_cgroups() {
  find /sys/fs/cgroup -mindepth 1 -type d 2>/dev/null | sort >"${E2E_NODE_DIR}/cgroups.before" || true
}

# e2e_node::remove_new_cgroups removes the cgroup directories created since
# the snapshot whose path names one of our containerd namespaces, tasks or
# shims (rmdir only succeeds on cgroups without processes or children).
e2e_node::remove_new_cgroups() {
  local before=${E2E_NODE_DIR}/cgroups.before
  [[ -f ${before} ]] || return 0
  ((${#E2E_NODE_OWNED_NAMES[@]} > 0)) || return 0
  local pattern name dir
  pattern=""
  for name in "${E2E_NODE_OWNED_NAMES[@]}"; do
    [[ -n ${name} ]] || continue
    pattern+="${pattern:+|}/${name//./\\.}(/|$)"
  done
  [[ -n ${pattern} ]] || return 0
  find /sys/fs/cgroup -mindepth 1 -type d 2>/dev/null | sort | comm -13 "${before}" - |
    grep -E "${pattern}" | sort -r | while read -r dir; do
    rmdir "${dir}" 2>/dev/null || true
  done
}

# e2e_node::apiserver_pki writes, under E2E_NODE_DIR/apiserver/pki, what the
# API server and its admin client need: a serving CA and a serving cert for
# 127.0.0.1 and localhost, a client CA and the admin's client cert (CN
# e2e-admin, O system:masters: cluster-admin whatever RBAC holds), and the
# RSA service-account key pair. ECDSA where the choice is ours, because RSA
# key generation dominates start-up; the service-account key is RSA as the
# tests' token verifiers expect RS256. Valid for two days.
e2e_node::apiserver_pki() {
  local d=${E2E_NODE_DIR}/apiserver/pki
  mkdir -p "${d}"
  (
    umask 077
    openssl genrsa -out "${d}/sa.key" 2048 2>/dev/null
    openssl rsa -in "${d}/sa.key" -pubout -out "${d}/sa.pub" 2>/dev/null
  ) &
  local rsa_pid=$!
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
  (
    umask 077
    set -o errexit
    local name
    for name in serving-ca client-ca; do
      openssl req -x509 "${ec[@]}" -days 2 -subj "/CN=e2e-${name}" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -keyout "${d}/${name}.key" -out "${d}/${name}.crt" 2>/dev/null
    done
    openssl req "${ec[@]}" -subj /CN=kube-apiserver -keyout "${d}/serving.key" 2>/dev/null |
      openssl x509 -req -days 2 -CA "${d}/serving-ca.crt" -CAkey "${d}/serving-ca.key" -out "${d}/serving.crt" \
        -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n') 2>/dev/null
    openssl req "${ec[@]}" -subj /O=system:masters/CN=e2e-admin -keyout "${d}/admin.key" 2>/dev/null |
      openssl x509 -req -days 2 -CA "${d}/client-ca.crt" -CAkey "${d}/client-ca.key" -out "${d}/admin.crt" \
        -extfile <(printf 'extendedKeyUsage=clientAuth\n') 2>/dev/null
  )
  wait "${rsa_pid}"
  [[ -s ${d}/sa.pub && -s ${d}/serving.crt && -s ${d}/admin.crt ]] || {
    e2e_node::log "openssl failed to write the API server's keys and certificates"
    return 1
  }
}

e2e_node::etcd_answers() {
  [[ $(e2e_node::http_status 127.0.0.1 "$1" /health) == 200 ]]
}

# e2e_node::start_etcd starts a single-member etcd on free loopback client
# and peer ports, its data dir under E2E_NODE_DIR/etcd and its log in
# E2E_NODE_DIR/logs/etcd.log. Returns at once; e2e_node::wait_etcd waits
# for it. Sets E2E_NODE_ETCD_URL and E2E_NODE_ETCD_PID. etcd 3.4 has no
# --unsafe-no-fsync (3.5 added it), so writes are fsynced: a tmpfs data dir
# was tried and made no measurable difference to the API server's start (it
# is CPU-bound here). The short heartbeat and election timeout only make the
# lone member elect itself sooner.
e2e_node::start_etcd() {
  local dir=${E2E_NODE_DIR}/etcd client peer
  mkdir -p "${dir}" "${E2E_NODE_DIR}/logs"
  rm -rf "${dir}/data"
  client=$(e2e_node::free_port)
  peer=$(e2e_node::free_port)
  while [[ ${peer} == "${client}" ]]; do peer=$(e2e_node::free_port); done
  E2E_NODE_ETCD_PORT=${client}
  E2E_NODE_ETCD_URL=http://127.0.0.1:${client}
  etcd --name e2e --data-dir "${dir}/data" \
    --listen-client-urls "${E2E_NODE_ETCD_URL}" --advertise-client-urls "${E2E_NODE_ETCD_URL}" \
    --listen-peer-urls "http://127.0.0.1:${peer}" --initial-advertise-peer-urls "http://127.0.0.1:${peer}" \
    --initial-cluster "e2e=http://127.0.0.1:${peer}" --initial-cluster-state new \
    --heartbeat-interval 20 --election-timeout 200 \
    --logger zap --log-outputs stderr >"${E2E_NODE_DIR}/logs/etcd.log" 2>&1 &
  E2E_NODE_ETCD_PID=$!
  E2E_NODE_PIDS+=("${E2E_NODE_ETCD_PID}")
}

# e2e_node::wait_etcd waits until the etcd of e2e_node::start_etcd answers
# /health, starting it again on other ports (up to 5 times) when one was
# taken meanwhile. Succeeds with E2E_NODE_ETCD_RESTARTED=true when it did.
e2e_node::wait_etcd() {
  local attempt log=${E2E_NODE_DIR}/logs/etcd.log
  E2E_NODE_ETCD_RESTARTED=false
  for attempt in 1 2 3 4 5; do
    if e2e_node::wait_for etcd "${E2E_NODE_ETCD_PID}" 30 e2e_node::etcd_answers "${E2E_NODE_ETCD_PORT}"; then
      return 0
    fi
    e2e_node::stop_pid "${E2E_NODE_ETCD_PID}"
    if ! grep -q 'address already in use' "${log}"; then
      tail -n 20 "${log}" >&2 || true
      return 1
    fi
    e2e_node::log "etcd: a port was taken meanwhile, trying others (attempt ${attempt})"
    # shellcheck disable=SC2034 # read by the caller
    E2E_NODE_ETCD_RESTARTED=true
    e2e_node::start_etcd
  done
  return 1
}

# e2e_node::start_apiserver starts the kube-apiserver binary $1 on a free
# loopback port against the etcd of e2e_node::start_etcd, with the keys and
# certificates of e2e_node::apiserver_pki, and writes the admin kubeconfig.
# Returns at once; e2e_node::wait_apiserver waits for /readyz. Sets
# E2E_NODE_APISERVER_URL, E2E_NODE_APISERVER_PID, E2E_NODE_KUBECONFIG and
# E2E_NODE_SERVICE_ACCOUNT_ISSUER.
e2e_node::start_apiserver() {
  local bin=$1 dir=${E2E_NODE_DIR}/apiserver port
  local pki=${dir}/pki
  E2E_NODE_APISERVER_BIN=${bin}
  E2E_NODE_SERVICE_ACCOUNT_ISSUER=https://kubernetes.default.svc.cluster.local
  port=$(e2e_node::free_port)
  E2E_NODE_APISERVER_PORT=${port}
  E2E_NODE_APISERVER_URL=https://127.0.0.1:${port}
  mkdir -p "${dir}/certs" "${E2E_NODE_DIR}/logs"
  # Flags beyond the defaults, and why:
  # - --endpoint-reconciler-type=none: the reconciler of the "kubernetes"
  #   Service refuses a loopback advertise address and the API server then
  #   exits; nothing here routes to that Service anyway.
  # - --cert-dir: where it would write anything of its own (it writes
  #   nothing, given a serving cert), so never /var/run/kubernetes.
  # - --service-cluster-ip-range: a flag value only, nothing binds there.
  # The default admission plugins stay on, ServiceAccount included: no
  # controller manager runs, so no "default" ServiceAccount exists and a
  # test creates the ServiceAccounts its pods use. etcd 3.4 lacks
  # RequestWatchProgress; the API server notices and serves consistent
  # lists from etcd instead of its watch cache, which is all it costs.
  "${bin}" \
    --etcd-servers="${E2E_NODE_ETCD_URL}" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="${port}" \
    --tls-cert-file="${pki}/serving.crt" --tls-private-key-file="${pki}/serving.key" \
    --cert-dir="${dir}/certs" \
    --client-ca-file="${pki}/client-ca.crt" \
    --authorization-mode=Node,RBAC \
    --service-account-issuer="${E2E_NODE_SERVICE_ACCOUNT_ISSUER}" \
    --api-audiences="${E2E_NODE_SERVICE_ACCOUNT_ISSUER}" \
    --service-account-key-file="${pki}/sa.pub" \
    --service-account-signing-key-file="${pki}/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --endpoint-reconciler-type=none \
    >"${E2E_NODE_DIR}/logs/kube-apiserver.log" 2>&1 &
  E2E_NODE_APISERVER_PID=$!
  E2E_NODE_PIDS+=("${E2E_NODE_APISERVER_PID}")
  e2e_node::write_kubeconfig "${dir}/admin.kubeconfig"
  # shellcheck disable=SC2034 # read by the caller
  E2E_NODE_KUBECONFIG=${dir}/admin.kubeconfig
}

# e2e_node::write_kubeconfig PATH writes a kubeconfig for the admin identity
# (client cert CN e2e-admin, O system:masters) with everything embedded.
e2e_node::write_kubeconfig() {
  local pki=${E2E_NODE_DIR}/apiserver/pki
  (
    umask 077
    cat >"$1.tmp" <<EOT
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: ${E2E_NODE_APISERVER_URL}
    certificate-authority-data: $(base64 -w0 "${pki}/serving-ca.crt")
users:
- name: e2e-admin
  user:
    client-certificate-data: $(base64 -w0 "${pki}/admin.crt")
    client-key-data: $(base64 -w0 "${pki}/admin.key")
contexts:
- name: e2e
  context:
    cluster: e2e
    user: e2e-admin
current-context: e2e
EOT
    mv "$1.tmp" "$1"
  )
}

e2e_node::apiserver_ready() {
  local pki=${E2E_NODE_DIR}/apiserver/pki
  [[ $(curl -s --max-time 2 --cacert "${pki}/serving-ca.crt" --cert "${pki}/admin.crt" --key "${pki}/admin.key" \
    "${E2E_NODE_APISERVER_URL}/readyz" 2>/dev/null) == ok ]]
}

# e2e_node::wait_apiserver waits until the API server of
# e2e_node::start_apiserver answers ok on /readyz to the admin, starting it
# again on another port (up to 5 times) when its port was taken meanwhile.
e2e_node::wait_apiserver() {
  local attempt log=${E2E_NODE_DIR}/logs/kube-apiserver.log
  for attempt in 1 2 3 4 5; do
    if e2e_node::wait_for kube-apiserver "${E2E_NODE_APISERVER_PID}" 60 e2e_node::apiserver_ready; then
      return 0
    fi
    e2e_node::stop_pid "${E2E_NODE_APISERVER_PID}"
    if ! grep -q 'address already in use' "${log}"; then
      tail -n 30 "${log}" >&2 || true
      return 1
    fi
    e2e_node::log "kube-apiserver: port ${E2E_NODE_APISERVER_PORT} taken meanwhile, trying another (attempt ${attempt})"
    e2e_node::start_apiserver "${E2E_NODE_APISERVER_BIN}"
  done
  return 1
}
