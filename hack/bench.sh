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

# Runs the benchmarks with -count (default 10) so medians can be taken, and
# prints per-benchmark medians. Usage: hack/bench.sh [COUNT] [REGEX]
cd "$(dirname "${BASH_SOURCE[0]}")/.."
count="${1:-10}"
regex="${2:-.}"
out=_output/bench
mkdir -p "${out}"
raw="${out}/bench.txt"
{
  echo "# $(date -u +%FT%TZ) $(go version) $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  go test -run='^$' -bench="${regex}" -benchmem -count="${count}" -p 1 ./pkg/... 2>&1
} | tee "${raw}"
echo
echo "Medians (ns/op, B/op, allocs/op) from ${raw}:"
awk '/^Benchmark/ {
  name=$1; ns[name]=ns[name]" "$3
  for (i=4; i<=NF; i++) { if ($(i+1)=="B/op") b[name]=b[name]" "$i; if ($(i+1)=="allocs/op") a[name]=a[name]" "$i }
}
function median(s,   n, v, i, j, t) { n=split(s, v, " "); for (i=1;i<=n;i++) for (j=i+1;j<=n;j++) if (v[j]+0<v[i]+0) {t=v[i]; v[i]=v[j]; v[j]=t}; return (n%2) ? v[(n+1)/2] : (v[n/2]+v[n/2+1])/2 }
END { for (n in ns) printf "%-90s %12s ns/op %8s B/op %6s allocs/op\n", n, median(ns[n]), median(b[n]), median(a[n]) }' "${raw}" | sort
