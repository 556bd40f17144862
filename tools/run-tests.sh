#!/usr/bin/env bash
# Runs unit test binaries and integration scripts; prints one closing line "N passed, N failed".
# Usage: run-tests.sh unit|integration|all BIN... [-- SCRIPT...]
# Each unit binary is a cmocka suite; each integration script exits 0 on success.
# Passing tests print one line each. A failing one prints its FAIL/assert lines, then the last
# TAIL_LINES (60) lines of its log ($BUILD/test-logs/). Each test runs in its own process group
# and is killed with everything it started when it exceeds its timeout (UNIT_TIMEOUT, 300 s;
# INTEGRATION_TIMEOUT, 900 s: generous, so a loaded machine only makes tests slower) or ends
# leaving processes behind (listed as a failure: a script must clean up what it starts).
#
# TEST_JOBS (default 3) tests run at a time; a test's line is printed when it ends. Most integration
# scripts spend their time waiting (polls, anvil blocks), not on CPU, so running them side by side
# cuts the wall time (2 cores, make test: TEST_JOBS=2 554 s, 3 434 s; one by one ~19 min; README). They are independent: each has its own temp dir,
# its ports reserved (tests/lib/free_port.py), and nothing outside its own process group is touched.
# The longest tests start first (durations of the last run, $BUILD/test-logs/durations; unknown
# ones count as long), so the short ones fill the gaps at the end. TEST_JOBS=1 runs them one by one.
set -u
export HTTP_PORT=${HTTP_PORT-0} # actors listen on the seed's 8000/8080 unless told: here, no HTTP unless a start asks (docs/MIGRATION.md)
# Tests that must not share the machine with another test, run one by one after the others.
# Say why for each. (None so far: every test waits for events with deadlines that hold on a loaded
# machine, see tests/lib/common.sh "Timing rule".)
ALONE=()
mode=$1; shift
pass=0; fail=0; failed=()
BUILD=${BUILD:-build}
JOBS=${TEST_JOBS:-3}
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || { echo "run-tests: TEST_JOBS must be a positive number, not '$JOBS'" >&2; exit 2; }
logdir="$BUILD/test-logs"; mkdir -p "$logdir"
durations="$logdir/durations"
res=$(mktemp -d "$logdir/.run.XXXXXX")
run_start=$(date +%s.%N)

# kind path idx: runs one test; its report (the PASS/FAIL line, on a failure the reason and the log
# tail) goes to $res/idx.out, its exit code to $res/idx.rc, its duration to $res/idx.secs.
run_one() {
  local kind=$1 t=$2 idx=$3 name log start rc left secs
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
  echo "$pid" >"$res/$idx.pgid"
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
  {
    if [ $rc -eq 0 ]; then
      printf 'PASS %-60s %6ss\n' "$t" "$secs"
    else
      printf 'FAIL %-60s %6ss (exit %d)\n' "$t" "$secs" "$rc"
      # the reason first: a long log tail (anvil's request lines) can push it out of view; a
      # sanitizer's report (exit 1 after every test passed) says what and where in its first lines
      grep -E '^(FAIL|not ok|\[  FAILED  \]|.*[Aa]ssert)|run-tests:|ERROR: [A-Za-z]+Sanitizer|runtime error:|^SUMMARY: ' "$log" |
        head -n 10 | sed 's/^/    > /'
      grep -A8 -E 'ERROR: [A-Za-z]+Sanitizer' "$log" | grep -E '^ +#[0-9]+ ' | grep -v -E 'libsanitizer|interceptor' |
        head -n 6 | sed 's/^/    > /'
      tail -n "${TAIL_LINES:-60}" "$log" | sed 's/^/    | /'
    fi
  } >"$res/$idx.out"
  echo "$secs" >"$res/$idx.secs"
  echo "$rc" >"$res/$idx.rc"
}

# the tests, in the order given, with their kinds
tests=(); kinds=()
kind=unit
for a in "$@"; do
  if [ "$a" = "--" ]; then kind=integration; continue; fi
  [ "$mode" = integration ] && kind=integration
  tests+=("$a"); kinds+=("$kind")
done

# the order they start in: longest first (last run's durations; a script not timed yet first of all)
declare -A last=()
if [ -f "$durations" ]; then
  while read -r s t; do last[$t]=$s; done <"$durations"
fi
order=(); alone=()
while read -r _ i; do
  for x in "${ALONE[@]}"; do [ "${tests[$i]}" = "$x" ] && { alone+=("$i"); continue 2; }; done
  order+=("$i")
done < <(for i in "${!tests[@]}"; do
  d=100000; [ "${kinds[$i]}" = unit ] && d=1000 # not timed yet: integration scripts are the long ones
  echo "${last[${tests[$i]}]:-$d} $i"
done | sort -s -k1,1gr)

declare -A running=() # pid of run_one's subshell -> test index
# the pgid files name the tests' process groups: an interrupted run stops them all
stop_all() {
  local f
  for f in "$res"/*.pgid; do [ -f "$f" ] && kill -TERM -- -"$(cat "$f")" 2>/dev/null; done
  exit 130
}
trap stop_all INT TERM
reap() { # waits for one running test to end, prints its report
  local p i rc
  wait -n -p p "${!running[@]}"
  i=${running[$p]}; unset "running[$p]"
  cat "$res/$i.out"
  rc=$(cat "$res/$i.rc" 2>/dev/null || echo 1)
  if [ "$rc" -eq 0 ]; then pass=$((pass+1)); else fail=$((fail+1)); failed+=("${tests[$i]}"); fi
  last[${tests[$i]}]=$(cat "$res/$i.secs" 2>/dev/null || echo 100000)
  rm -f "$res/$i".*
}
start() { # index, jobs at most
  while [ ${#running[@]} -ge "$2" ]; do reap; done
  run_one "${kinds[$1]}" "${tests[$1]}" "$1" &
  running[$!]=$1
}
for i in "${order[@]}"; do start "$i" "$JOBS"; done
for i in "${alone[@]}"; do start "$i" 1; done
while [ ${#running[@]} -gt 0 ]; do reap; done
rmdir "$res" 2>/dev/null

# durations for the next run's order (every test ever timed here, the latest time)
for t in "${!last[@]}"; do echo "${last[$t]} $t"; done | sort -k2 >"$durations.tmp" && mv "$durations.tmp" "$durations"
echo
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed ($(awk -v s="$run_start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.0f", e-s}') s, TEST_JOBS=$JOBS)"
[ $fail -eq 0 ]
