#!/usr/bin/env bash
# Runs unit test binaries and integration scripts; prints one closing line "N passed, N failed".
# Usage: run-tests.sh unit|integration|all BIN... [-- SCRIPT...]
# Each unit binary is a cmocka suite; each integration script exits 0 on success.
# Passing tests print one line each. A failing one prints its FAIL/assert lines, then the last
# TAIL_LINES (60) lines of its log ($BUILD/test-logs/). Each test runs in its own process group
# and is killed with everything it started when it exceeds its timeout (UNIT_TIMEOUT, 300 s;
# INTEGRATION_TIMEOUT, 900 s: generous, so a loaded machine only makes tests slower) or ends
# leaving processes behind (listed as a failure: a script must clean up what it starts).
set -u
export HTTP_PORT=${HTTP_PORT-0} # actors listen on the seed's 8000/8080 unless told: here, no HTTP unless a start asks (docs/MIGRATION.md)
mode=$1; shift
pass=0; fail=0; failed=()
BUILD=${BUILD:-build}
logdir="$BUILD/test-logs"; mkdir -p "$logdir"
run_one() {  # kind path
  local kind=$1 t=$2 name log start rc left secs
  name=$(echo "$t" | tr '/' '_')
  log="$logdir/$name.log"
  start=$(date +%s.%N)
  # setsid: the test leads its own process group, so a timeout (or a leak check) reaches
  # every process it started, not only the top one.
  if [ "$kind" = unit ]; then
    setsid timeout -k 10 "${UNIT_TIMEOUT:-300}" "$t" >"$log" 2>&1 </dev/null & 
  else
    BUILD="$BUILD" setsid timeout -k 10 "${INTEGRATION_TIMEOUT:-900}" bash "$t" >"$log" 2>&1 </dev/null &
  fi
  local pid=$!
  wait $pid; rc=$?
  [ $rc -eq 124 ] && echo "run-tests: timed out" >>"$log"
  # processes the test left in its group (setsid made pid the group id)
  # (killed grandchildren may take a moment to be reaped)
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    left=$(pgrep -g "$pid" 2>/dev/null | tr '\n' ' ')
    [ -z "$left" ] && break
    sleep 0.2
  done
  if [ -n "$left" ]; then
    { echo "run-tests: left running after the test ended:"; ps -o pid=,args= -g "$pid"; } >>"$log" 2>&1
    kill -9 -- -"$pid" 2>/dev/null
    [ $rc -eq 0 ] && rc=99
  fi
  secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
  if [ $rc -eq 0 ]; then
    pass=$((pass+1)); printf 'PASS %-60s %6ss\n' "$t" "$secs"
  else
    fail=$((fail+1)); failed+=("$t")
    printf 'FAIL %-60s %6ss (exit %d)\n' "$t" "$secs" "$rc"
    # the reason first: a long log tail (anvil's request lines) can push it out of view
    grep -E '^(FAIL|not ok|\[  FAILED  \]|.*[Aa]ssert)|run-tests:' "$log" | head -n 10 | sed 's/^/    > /'
    tail -n "${TAIL_LINES:-60}" "$log" | sed 's/^/    | /'
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
