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
# hack/bench.sh --summarize FILE prints the medians of an earlier run.
if [[ "${1:-}" == --summarize ]]; then
  raw="$2"
  count="the"
else
  count="${1:-10}"
  regex="${2:-.}"
  out=_output/bench
  mkdir -p "${out}"
  raw="${out}/bench.txt"
{
  echo "# $(date -u +%FT%TZ) $(go version) $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  go test -run='^$' -bench="${regex}" -benchmem -count="${count}" -p 1 ./pkg/... 2>&1
} | tee "${raw}"
fi
echo
echo "Medians over ${count} runs, from ${raw}:"
# Every "value unit" pair after the iteration count is a measurement: ns/op,
# B/op, allocs/op and the custom ones (B/record, MiB-VmHWM).
awk '/^Benchmark/ {
  name=$1
  if (!(name in seen)) { seen[name]=1; order[++n]=name }
  for (i=3; i<NF; i+=2) { unit=$(i+1); key=name SUBSEP unit; vals[key]=vals[key]" "$i; if (!((name, unit) in hasunit)) { hasunit[name, unit]=1; units[name]=units[name]" "unit } }
}
function median(s,   c, v, i, j, t) { c=split(s, v, " "); for (i=1;i<=c;i++) for (j=i+1;j<=c;j++) if (v[j]+0<v[i]+0) {t=v[i]; v[i]=v[j]; v[j]=t}; return (c%2) ? v[(c+1)/2] : (v[c/2]+v[c/2+1])/2 }
END {
  for (k=1; k<=n; k++) {
    name=order[k]; line=sprintf("%-78s", name)
    c=split(units[name], us, " ")
    for (u=1; u<=c; u++) line=line sprintf(" %12.6g %s", median(vals[name, us[u]]), us[u])
    print line
  }
}' "${raw}" | sort
