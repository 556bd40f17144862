#!/usr/bin/env bash
# make test-loaded: `make test` while busy loops occupy the cores, RUNS times in a row (default 1),
# to show that the tests wait for events and not for windows tuned to an idle machine.
#   LOADERS  busy loops (default: one per core, nproc)      RUNS  make test runs (default 1)
# The loops are plain shell `while :; do :; done` subshells at normal priority; they are killed
# (by pid) when this script ends, however it ends. Prints each run's duration and result; exits
# non-zero if any run failed. Extra arguments go to make (e.g. BUILD=build/asan).
set -u
cd "$(dirname "$0")/.."
LOADERS=${LOADERS:-$(nproc)}
RUNS=${RUNS:-1}
loops=()
stop_loops() { for p in "${loops[@]}"; do kill "$p" 2>/dev/null; done; wait "${loops[@]}" 2>/dev/null; loops=(); }
trap stop_loops EXIT
trap 'exit 130' INT TERM
for _ in $(seq "$LOADERS"); do
	(while :; do :; done) &
	loops+=($!)
done
echo "test-loaded: $LOADERS busy loops (pids ${loops[*]}) on $(nproc) cores; $RUNS run(s) of make test"
failed=0
summary=()
for i in $(seq "$RUNS"); do
	start=$(date +%s)
	log=${BUILD:-build}/test-logs/loaded-run-$i.log  # kept (not in /tmp, which others may clean)
	mkdir -p "$(dirname "$log")"
	${MAKE:-make} --no-print-directory test "$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	secs=$(($(date +%s) - start))
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	summary+=("run $i: ${line:-no result line}, exit $rc, ${secs} s (load average $(cut -d' ' -f1-3 /proc/loadavg))")
	[ "$rc" -eq 0 ] || failed=$((failed + 1))
done
stop_loops
echo
printf 'test-loaded: %s\n' "${summary[@]}"
echo "test-loaded: $((RUNS - failed)) of $RUNS run(s) passed with $LOADERS busy loops"
[ "$failed" -eq 0 ]
