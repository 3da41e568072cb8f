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

# Fails when a Go or shell file lacks the Apache-2.0 header.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
missing=()
while IFS= read -r f; do
  [[ -f "${f}" ]] || continue
  if ! head -n 16 "${f}" | grep -q 'Licensed under the Apache License, Version 2.0'; then
    missing+=("${f}")
  fi
done < <(git ls-files -co --exclude-standard '*.go' '*.sh' 'Makefile' '.ci/run' | grep -v '/testdata/')
if (( ${#missing[@]} > 0 )); then
  echo "missing the license header (see hack/boilerplate/boilerplate.go.txt):" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi
