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

# The long reliability runs: the concurrency stress tests repeated under the
# race detector, then the campaigns of test/reliability/ (crashes, power loss,
# faults, hostile files, load) at their long scale.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
go test -race -p 1 -count="${RELIABILITY_COUNT:-50}" -run 'Concurrent' ./pkg/kubelet/images/...

# The reliability campaigns of test/reliability/ at their long scale. Each
# long run prints one "RELIABILITY: <area>: ..." line of figures (quoted by
# the README); the full log is kept in _output/reliability.log.
mkdir -p _output
RELIABILITY_SCALE=long go test -race -p 2 -count=1 -timeout "${RELIABILITY_TIMEOUT:-4h}" -v ./test/reliability/... 2>&1 \
  | tee _output/reliability.log \
  | grep -E '^(RELIABILITY:|--- FAIL|FAIL|ok |panic:)'
