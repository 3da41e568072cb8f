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

# Fails when a Go file is not gofmt'ed.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bad=$(git ls-files -co --exclude-standard '*.go' | xargs -r gofmt -l)
if [[ -n "${bad}" ]]; then
  echo "gofmt needed (run make update):" >&2
  echo "${bad}" >&2
  exit 1
fi
