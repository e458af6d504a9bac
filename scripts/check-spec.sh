#!/usr/bin/env bash
# Model-checks the specs listed in spec/configs.tsv with TLC (see `opfsm check`).
#   scripts/check-spec.sh          every CI config; fails on a violation or state-count drift
#   scripts/check-spec.sh BUG      the seeded-bug variant BUG; exits 1 naming the violated
#                                  property, 2 for an unknown name, 3 if it was not caught
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# A built binary keeps opfsm's exit codes ('go run' turns every failure into 1).
go build -o .cache/bin/opfsm ./cmd/opfsm
if [ $# -gt 0 ] && [ -n "$1" ]; then
  exec .cache/bin/opfsm check --bug "$1"
fi
exec .cache/bin/opfsm check
