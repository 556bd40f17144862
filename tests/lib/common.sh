# common.sh - the scaffolding every multi-process test and bench script shares; source it first.
#   TMP        a fresh temp dir, removed at exit (KEEP_TMP=1 keeps it and says where)
#   PIDS       background processes to kill at exit: PIDS+=($!)
#   ANVIL_PID  an anvil started with tools/chain.sh start, stopped at exit (even if SIGSTOPped)
#   on_exit    a function the script may define; it runs first at exit
#   fail MSG   prints MSG and the tail (FAIL_TAIL lines, 25) of every $TMP/*.log, exits 1
#   free_port  prints a free TCP port on 127.0.0.1
#   wait_for S DESC CMD...  runs CMD every 0.1 s until it succeeds; fails with DESC after S seconds
#   HTTP_PORT  exported as 0 unless set: actors would otherwise listen on the seed's 8000/8080, and a
#              test starts many on one host (a start that wants HTTP sets HTTP_PORT=port; one that
#              wants the two ports runs with env -u HTTP_PORT METRICS_PORT=.. HEALTH_PORT=..)
export HTTP_PORT=${HTTP_PORT-0}
T_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TMP=$(mktemp -d)
PIDS=()
ANVIL_PID=
t_cleanup() {
	if declare -F on_exit >/dev/null; then on_exit || true; fi
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	if [ -n "$ANVIL_PID" ]; then
		kill -CONT "$ANVIL_PID" 2>/dev/null || true
		"$T_ROOT/tools/chain.sh" stop "$ANVIL_PID" >/dev/null 2>&1 || true
	fi
	wait 2>/dev/null || true
	if [ -n "${KEEP_TMP:-}" ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap t_cleanup EXIT
fail() {
	echo "FAIL: $*"
	for f in "$TMP"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -"${FAIL_TAIL:-25}" "$f"; }; done
	exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() {
	local t=$1 what=$2
	shift 2
	for _ in $(seq $((t * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	fail "timeout: $what"
}
