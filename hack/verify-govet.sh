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

# Fails on go vet findings in the main and staging modules.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# -race: vet compiles every dependency for its type information; with the
# flags make test builds with, that work is in the build cache for the
# tests afterwards (minutes on a cold machine, as in CI) instead of done
# twice. Vet then reads the files of the race build, which in this tree are
# the same files.
go vet -race ./...
(cd staging/src/k8s.io/imagepullrecords && go vet -race ./...)
