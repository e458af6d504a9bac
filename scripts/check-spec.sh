#!/usr/bin/env bash
# Model-checks the specs listed in spec/configs.tsv with TLC.
#   scripts/check-spec.sh          every CI config; fails on any violation or state-count drift
#   scripts/check-spec.sh BUG      the seeded-bug variant BUG; exits 1 and prints the violated
#                                  property (which must be the one configs.tsv expects)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bug="${1:-}"
tlc="$root/scripts/tlc.sh"
found=0
fail=0
while IFS=$'\t' read -r dir module cfg name expect; do
  case "$dir" in ''|'#'*) continue ;; esac
  if [ -z "$bug" ] && [ "$name" != "-" ]; then continue; fi
  if [ -n "$bug" ] && [ "$name" != "$bug" ]; then continue; fi
  found=$((found + 1))
  meta="$(mktemp -d)"
  start=$(date +%s)
  out="$(cd "$root/spec/$dir" && bash "$tlc" -workers 1 -metadir "$meta" -config "$cfg" "$module" 2>&1 || true)"
  secs=$(( $(date +%s) - start ))
  rm -rf "$meta"
  distinct="$(printf '%s\n' "$out" | sed -n 's/.* \([0-9]*\) distinct states found.*/\1/p' | tail -1)"
  violated="$(printf '%s\n' "$out" | sed -n 's/^Error: \(Invariant\|Action property\) \([^ ]*\) is violated.*/\2/p' | head -1)"
  if printf '%s\n' "$out" | grep -q '^Error: Temporal properties were violated'; then violated="${violated:-temporal}"; fi
  if printf '%s\n' "$out" | grep -q '^Error: Deadlock reached'; then violated="${violated:-deadlock}"; fi
  if [ "$name" = "-" ]; then
    if printf '%s\n' "$out" | grep -q 'Model checking completed. No error has been found' && [ "$distinct" = "$expect" ]; then
      echo "ok   $dir/$cfg: $distinct distinct states, ${secs}s"
    else
      echo "FAIL $dir/$cfg: violated='${violated}' distinct=${distinct:-?} (want $expect), ${secs}s"
      printf '%s\n' "$out" | tail -30
      fail=1
    fi
  else
    echo "$dir/$cfg ($name) violates: ${violated:-nothing}"
    if [ "$violated" != "$expect" ]; then
      echo "FAIL bug $name: want a violation of $expect"
      printf '%s\n' "$out" | tail -30
      fail=2
    fi
  fi
done < "$root/spec/configs.tsv"
if [ "$found" -eq 0 ]; then
  echo "check-spec: no model named '${bug:-CI}' in spec/configs.tsv" >&2
  exit 2
fi
if [ -n "$bug" ]; then
  [ "$fail" -eq 2 ] && exit 2
  exit 1 # the seeded bug was caught, which is a failing model
fi
exit "$fail"
