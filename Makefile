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

# The targets are the interface: see README.md.

SHELL := /usr/bin/env bash
GO ?= go
GOFLAGS_TEST ?= -p 2
OUT := _output/bin
STAGING := staging/src/k8s.io/imagepullrecords
# Benchmarks: medians need repetitions; override for a quick look.
BENCH_COUNT ?= 10
BENCH ?= .
# Fuzzing: time per target for `make fuzz`.
FUZZTIME ?= 60s

.PHONY: all build demo test test-unit test-staging test-compat test-compat-build test-e2e-node bench fuzz test-reliability verify update clean

all: build

build:
	@mkdir -p $(OUT)
	$(GO) build -o $(OUT)/ ./cmd/...

demo: build
	$(OUT)/kubelet-imagectl demo

# Unit and integration tests (hermetic: embedded registry and runtime), with
# the race detector; fuzz seed corpora run as ordinary tests. The records
# compatibility test with released kubelets (test/compat/records, part of
# ./...) runs binaries built beforehand by test-compat-build, so that a cold
# build (minutes) does not count against go test's timeout.
test: test-staging test-compat-build test-unit

test-unit:
	$(GO) test -race $(GOFLAGS_TEST) ./...

test-staging:
	cd $(STAGING) && $(GO) test -race $(GOFLAGS_TEST) ./...

# The records-compat binaries of hack/tools/records-compat/release-*, from
# the module cache only (cached by hack/build-records-compat.sh).
test-compat-build:
	hack/build-records-compat.sh >/dev/null

test-compat: test-compat-build
	$(GO) test -count=1 ./test/compat/records/...

# Node e2e: real containerd and real distribution registries. Needs root.
test-e2e-node: build
	hack/test-e2e-node.sh

bench:
	hack/bench.sh $(BENCH_COUNT) '$(BENCH)'

fuzz:
	hack/fuzz.sh $(FUZZTIME)

test-reliability:
	hack/test-reliability.sh

verify:
	hack/verify-all.sh

update:
	hack/update-all.sh

clean:
	rm -rf _output
