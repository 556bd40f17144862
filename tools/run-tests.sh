#!/usr/bin/env bash
# Runs unit test binaries and integration scripts; prints one closing line "N passed, N failed".
# Usage: run-tests.sh unit|integration|all BIN... [-- SCRIPT...]
# Each unit binary is a cmocka suite; each integration script exits 0 on success.
# Output of a failing test is shown; passing tests print one line each.
set -u
export HTTP_PORT=${HTTP_PORT-0} # actors listen on the seed's 8000/8080 unless told: here, no HTTP unless a start asks (docs/MIGRATION.md)
mode=$1; shift
pass=0; fail=0; failed=()
BUILD=${BUILD:-build}
logdir="$BUILD/test-logs"; mkdir -p "$logdir"
run_one() {  # kind path
  local kind=$1 t=$2 name log start rc
  name=$(echo "$t" | tr '/' '_')
  log="$logdir/$name.log"
  start=$(date +%s.%N)
  if [ "$kind" = unit ]; then
    timeout 300 "$t" >"$log" 2>&1; rc=$?
  else
    BUILD="$BUILD" timeout 900 bash "$t" >"$log" 2>&1; rc=$?
  fi
  local secs; secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
  if [ $rc -eq 0 ]; then
    pass=$((pass+1)); printf 'PASS %-60s %6ss\n' "$t" "$secs"
  else
    fail=$((fail+1)); failed+=("$t")
    printf 'FAIL %-60s %6ss (exit %d)\n' "$t" "$secs" "$rc"
    tail -n 60 "$log" | sed 's/^/    | /'
  fi
}
kind=unit
for a in "$@"; do
  if [ "$a" = "--" ]; then kind=integration; continue; fi
  [ "$mode" = integration ] && kind=integration
  run_one "$kind" "$a"
done
echo
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
