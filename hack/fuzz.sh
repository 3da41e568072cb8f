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

# Runs every Go fuzz target of both modules for FUZZTIME each (default 60s)
# and prints a summary line per target. New crashers land in the package's
# testdata/fuzz/<Target>/ and become regression seeds once committed.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
fuzztime="${1:-60s}"
summary=()
rc=0
while IFS=: read -r file target; do
  dir=$(dirname "${file}")
  module_dir=.
  pkg="./${dir}"
  if [[ "${dir}" == staging/src/k8s.io/imagepullrecords* ]]; then
    module_dir=staging/src/k8s.io/imagepullrecords
    pkg="./${dir#staging/src/k8s.io/imagepullrecords}"
    pkg="${pkg/#.\//./}"
    [[ "${pkg}" == "." || "${pkg}" == "./" ]] && pkg=.
  fi
  echo "== ${target} (${dir}, ${fuzztime})"
  log=$(mktemp)
  if (cd "${module_dir}" && go test -run='^$' -fuzz="^${target}\$" -fuzztime="${fuzztime}" -parallel=2 "${pkg}") 2>&1 | tee "${log}"; then
    result=ok
  else
    result=FAILED
    rc=1
  fi
  execs=$(grep -oE 'execs: [0-9]+' "${log}" | tail -n 1 | awk '{print $2}')
  summary+=("${target} ${result} execs=${execs:-?}")
  rm -f "${log}"
done < <(grep -rEo --include='*_test.go' '^func (Fuzz[A-Za-z0-9_]+)' pkg cmd staging 2>/dev/null | sed -E 's/:func /:/' | sort -u)
echo
echo "Fuzz summary (${fuzztime} per target):"
printf '  %s\n' "${summary[@]}"
exit ${rc}
