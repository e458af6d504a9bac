# opfsm: the commands a newcomer needs. `make run` runs the main job on the built-in
# default; `make test` runs every check CI runs, TLC included.
GO       ?= go
FUZZTIME ?= 10s
SNAPSHOTS ?= 1000000
DEEPWALKS ?= 1000000
BUG      ?=

.PHONY: run test lint gotest bench fuzz check-spec check-deep graphs proto

## run: the main job on the built-in default: a fault campaign with a summary
run:
	$(GO) run ./cmd/opfsm sim

## test: gofmt, go vet, all Go tests (TLC on every spec config and seeded bug included)
test: lint gotest

lint:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# -vet=off: lint has run the whole of go vet, of which go test's own vet pass is a subset
# (skipping it saves about 20 s of CPU on a fresh machine).
gotest:
	$(GO) test -vet=off -count=1 -timeout 40m ./...

## bench: every Go benchmark, with allocations
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## fuzz: every fuzz target for FUZZTIME each (default 10s); FUZZTIME=10000000x is the long
## run, ten million executions of each target (hours on 2 cores; README, "Fuzzing")
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

## check-spec: TLC on every CI config; BUG=<name> runs a seeded-bug variant (must fail)
check-spec:
	bash scripts/check-spec.sh $(BUG)

## proto: regenerate protocol/protocolpb from protocol/protocol.proto and
## cluster/transport/clusterpb from cluster/transport/cluster.proto (needs protoc)
proto:
	$(GO) build -o .cache/bin/protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go
	protoc --plugin=protoc-gen-go=.cache/bin/protoc-gen-go --go_out=. \
		--go_opt=module=github.com/opfsm/opfsm protocol/protocol.proto
	protoc --plugin=protoc-gen-go=.cache/bin/protoc-gen-go --go_out=. \
		--go_opt=module=github.com/opfsm/opfsm cluster/transport/cluster.proto

## check-deep: the long checks: recovery on SNAPSHOTS arbitrary snapshots, the deep
## campaign's DEEPWALKS walks on every core (default a million each), and the explorer on
## TwoFailovers.cfg (3 nodes, 2 failovers, one operation of any kind, losses and a duplicate:
## 2.5 million states in under 2 minutes, up to 9 GB) with TLC simulating it for as long,
## then TLC on the models of spec/deep.tsv (clean twins and worlds too large for CI), the
## graph comparison of NodeCrash.cfg, MergeAbort.cfg and FailoverSplitDup.cfg
## (conformance.DeepConfigs), package recovery against the spec's Recover on every snapshot
## of RecoveryKeysDeep.cfg (three keys, three nodes: 270,504 snapshots, about 40 minutes and
## 17.5 GB) and RecoveryKeysTwo.cfg (two keys, three
## nodes), the parallel explorer's state count on the three largest CI worlds and its bytes per
## visited state (OPFSM_DEEP=1)
check-deep:
	OPFSM_SNAPSHOTS=$(SNAPSHOTS) $(GO) test -count=1 -timeout 12h -run 'TestAnySnapshot$$' -v ./sim
	$(GO) run ./cmd/opfsm sim --deep --runs $(DEEPWALKS)
	$(GO) run ./cmd/opfsm explore --config TwoFailovers.cfg --tlc simulate --max-memory 12
	$(GO) run ./cmd/opfsm check --manifest spec/deep.tsv
	$(GO) run ./cmd/opfsm conform --config NodeCrash.cfg --config MergeAbort.cfg --config FailoverSplitDup.cfg --config LivenessMergeDrop.cfg --traces 0
	$(GO) run ./cmd/opfsm conform --workers 0 --recovery RecoveryKeysDeep.cfg --recovery RecoveryKeysTwo.cfg
	OPFSM_DEEP=1 $(GO) test -count=1 -run 'TestExplorerCountsTLCStates$$|TestExplorerMemoryPerState$$' ./conformance
