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

# Checks shell scripts with bash -n (syntax); shellcheck when installed.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rc=0
mapfile -t scripts < <(git ls-files -co --exclude-standard '*.sh'; echo .ci/run)
for f in "${scripts[@]}"; do
  bash -n "${f}" || rc=1
done
if command -v shellcheck >/dev/null; then
  shellcheck -S warning "${scripts[@]}" || rc=1
fi
exit ${rc}
