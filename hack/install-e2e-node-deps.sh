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

# Installs the Debian packages the node e2e suite needs (containerd with runc
# and ctr, the distribution registry, htpasswd, etcd for the API server, and
# openssl and curl to make its keys and certificates and ask it /readyz),
# only when one is missing. Idempotent and silent when everything is already
# there. Root only. The kube-apiserver itself is not a Debian package: it is
# built from the published Go module (hack/build-e2e-kube-apiserver.sh).
#
# Package postinst scripts must not start system services: a system
# containerd, a registry on :5000 or an etcd on :2379 would only get in the
# way (the e2e scripts start their own daemons on their own sockets and free
# ports). Where no policy-rc.d exists, a temporary one that refuses every
# start is put in place for the duration of the install.

E2E_NODE_PACKAGES=(containerd runc docker-registry apache2-utils etcd-server openssl curl)

missing=()
for pkg in "${E2E_NODE_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("${pkg}")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ ${EUID} -ne 0 ]]; then
  echo "install-e2e-node-deps: missing ${missing[*]}; run as root to install them" >&2
  exit 1
fi

echo "install-e2e-node-deps: installing ${missing[*]}" >&2

policy_rc=/usr/sbin/policy-rc.d
created_policy=false
apt_log=$(mktemp)
cleanup() {
  rm -f "${apt_log}"
  if [[ ${created_policy} == true ]]; then
    rm -f "${policy_rc}"
  fi
}
trap cleanup EXIT
if [[ ! -e ${policy_rc} ]]; then
  # 101 = "action forbidden by policy": invoke-rc.d and deb-systemd-invoke
  # then skip starting the services the packages ship.
  printf '#!/bin/sh\nexit 101\n' >"${policy_rc}"
  chmod 0755 "${policy_rc}"
  created_policy=true
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-q -y -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
# apt's chatter goes to a log shown only when the install fails.
if ! {
  apt-get -q update && apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}"
} >"${apt_log}" 2>&1; then
  cat "${apt_log}" >&2
  echo "install-e2e-node-deps: apt-get failed" >&2
  exit 1
fi

# Belt and braces for machines whose policy-rc.d allowed starts anyway: stop
# whatever the packages started. Their daemons are not used by the e2e run.
if [[ -d /run/systemd/system ]]; then
  for unit in containerd.service docker-registry.service etcd.service; do
    systemctl stop "${unit}" >/dev/null 2>&1 || true
  done
fi

for bin in containerd containerd-shim-runc-v2 ctr runc docker-registry htpasswd etcd openssl curl; do
  if ! command -v "${bin}" >/dev/null 2>&1; then
    echo "install-e2e-node-deps: ${bin} still missing after install" >&2
    exit 1
  fi
done
echo "install-e2e-node-deps: done" >&2
