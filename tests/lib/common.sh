# common.sh - the scaffolding every multi-process test and bench script shares; source it first.
#   TMP        a fresh temp dir, removed at exit (KEEP_TMP=1 keeps it and says where)
#   PIDS       background processes to kill at exit: PIDS+=($!)
#   ANVIL_PID  an anvil started with tools/chain.sh start, stopped at exit (even if SIGSTOPped)
#   on_exit    a function the script may define; it runs first at exit
#   fail MSG   prints MSG and the tail (FAIL_TAIL lines, 25) of every $TMP/*.log, exits 1
#   free_port [N]  prints a TCP port free on this host and reserved for this test (with N, the first
#              of N consecutive ones): see "Ports" below
#   poll S CMD...           runs CMD every 0.1 s until it succeeds (0), or returns 1 after S × T_SLOW s
#   wait_for S DESC CMD...  the same, but fails the script with DESC on timeout
#   metric_at PORT NAME     the value of the sample NAME (exact, labels included) at :PORT/metrics
#   wait_subscribers PORT N waits until the busd whose HTTP port is PORT has N subscriber pipes
#   busd_start BIN INSTANCE  busd (BIN) on IN=ipc://$TMP/in.ipc / OUT=ipc://$TMP/out.ipc, journal in
#                           $TMP/journal, HTTP on 127.0.0.1:BP (IN, OUT, BP set here), log appended to
#                           $TMP/busd.log; waits for its /health
#   anvil_start             anvil (tools/chain.sh start, five tries for a free port; ANVIL_ARGS adds
#                           options): sets PORT and ANVIL_PID, exports RPC_URL and CHAIN_LOG (its log,
#                           $TMP/anvil.out unless set)
#   rpc METHOD [PARAMS]     a JSON-RPC call to $RPC_URL (PARAMS a JSON array, default []), answer on stdout
#   need_bins DIR NAME...   exits 1 (saying "run make") unless every DIR/NAME is executable
#   bus_keys BUS_TAP X...   a fresh bus signing key pair for each name X, as XSEC and XPUB (bus-tap --keygen)
#   mine_by_hand N GAP CMD...  mines up to N blocks, GAP s apart, until CMD succeeds
#   tap_count FILE PRED [ARG...]  how many lines of a bus-tap JSON capture satisfy the python expression
#                           PRED on the line l, its body b and the ARGs a (a list)
#   HTTP_PORT  exported as 0 unless set: actors would otherwise listen on the seed's 8000/8080, and a
#              test starts many on one host (a start that wants HTTP sets HTTP_PORT=port; one that
#              wants the two ports runs with env -u HTTP_PORT METRICS_PORT=.. HEALTH_PORT=..)
#
# Timing rule (make test must pass while other work loads both cores): a test waits for the event
# it needs (poll/wait_for), never for a fixed sleep. S is what an idle machine needs at most; the
# deadline is S × T_SLOW (default 4), so a loaded machine only makes a passing test slower, and a
# deadline only ends a test that would fail anyway. A check that something did NOT happen first
# waits for a positive marker proving the input was processed (a counter moved, a log line).
#
# Ports (tests/lib/free_port.py): never port 0's kernel choice, which comes from the ephemeral range
# (/proc/sys/net/ipv4/ip_local_port_range) that every outgoing connection (curl, actors dialing,
# anvil's clients) also takes, so a port found free could be a connection's a moment later. free_port
# hands out ports below that range (20000 up to its start), checked bindable on 0.0.0.0 without
# SO_REUSEADDR, and reserved under an flock in a file all tests of this user share
# ($OB_PORTS_DIR, default /tmp/oraclebus-ports-UID) for this script's pid: tests running at the same
# time (run-tests.sh TEST_JOBS) never get the same port. The reservations go at exit (t_cleanup), or
# at anyone's next call once the script is gone. A server that picks its own port (price-sim --port
# 0) is fine: it holds the port from the moment it gets it.
export HTTP_PORT=${HTTP_PORT-0}
T_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
T_SLOW=${T_SLOW:-4}
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
	python3 "$T_ROOT/tests/lib/free_port.py" --release $$ 2>/dev/null || true
	if [ -n "${KEEP_TMP:-}" ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap t_cleanup EXIT
fail() {
	echo "FAIL: $*"
	[ -d "$TMP" ] || echo "(its temp dir $TMP is gone: removed by something outside the test)"
	for f in "$TMP"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -"${FAIL_TAIL:-25}" "$f"; }; done
	exit 1
}
# run-tests.sh's time limit (timeout(1)) ends a test with SIGTERM: say so, with the logs' tails, as any
# failure does (without this, a test stuck in a long wait_for left only "timed out" to go on).
trap 'fail "terminated by SIGTERM (the test runner'"'"'s time limit, INTEGRATION_TIMEOUT?)"' TERM
free_port() { python3 "$T_ROOT/tests/lib/free_port.py" --owner $$ ${1:+--count "$1"}; }
# The deadline is on the clock, not a count of tries: a slow CMD does not stretch it unboundedly.
poll() {
	local end=$((${EPOCHREALTIME/./} + $(awk -v s="$1" -v k="$T_SLOW" 'BEGIN{printf "%d", s * k * 1e6}')))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "${EPOCHREALTIME/./}" -lt "$end" ] || return 1
		sleep 0.1
	done
}
wait_for() {
	local t=$1 what=$2
	shift 2
	poll "$t" "$@" || fail "timeout ($(awk -v s="$t" -v k="$T_SLOW" 'BEGIN{print s * k}') s): $what"
}
metric_at() { curl -sf "http://127.0.0.1:$1/metrics" | awk -v k="$2" '$1==k{print $2}'; }
t_subs_ge() { local n; n=$(metric_at "$1" busd_subscribers); [ "${n:-0}" -ge "$2" ]; }
# pub/sub drops what is published before a subscriber's pipe is up: wait for busd to count them.
wait_subscribers() { wait_for 5 "$2 subscriber(s) connected to busd :$1" t_subs_ge "$1" "$2"; }
busd_start() {
	IN=ipc://$TMP/in.ipc OUT=ipc://$TMP/out.ipc
	BP=$(free_port)
	BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$TMP/journal HTTP_PORT=$BP HTTP_ADDR=127.0.0.1 INSTANCE=$2 \
		"$1" 2>>"$TMP/busd.log" &
	PIDS+=($!)
	wait_for 5 "busd /health" curl -sf "http://127.0.0.1:$BP/health"
}
# price-sim on a port of its choosing: `sim_start BIN NAME ARGS...` waits for the URL it prints, sets
# SIMURL to it (its log: $TMP/NAME.log, its pid in PIDS).
sim_start() {
	local bin=$1 name=$2
	shift 2
	"$bin" --port 0 "$@" >"$TMP/$name.url" 2>"$TMP/$name.log" &
	PIDS+=($!)
	wait_for 5 "$name printed its URL" test -s "$TMP/$name.url"
	SIMURL=$(head -1 "$TMP/$name.url")
	[ -n "$SIMURL" ] || fail "$name printed no URL"
}
# A port found free can be taken before anvil binds it: try another.
anvil_start() {
	export CHAIN_LOG=${CHAIN_LOG:-$TMP/anvil.out}
	for _ in 1 2 3 4 5; do
		PORT=$(free_port)
		if ANVIL_PID="$("$T_ROOT/tools/chain.sh" start "$PORT")"; then break; fi
		ANVIL_PID=""
	done
	[ -n "$ANVIL_PID" ] || fail "could not start anvil"
	export RPC_URL="http://127.0.0.1:$PORT"
}
need_bins() {
	local d=$1 b
	shift
	for b in "$@"; do
		[ -x "$d/$b" ] || { echo "missing $d/$b (run make)"; exit 1; }
	done
}
bus_keys() {
	local tap=$1 x sec pub
	shift
	for x in "$@"; do
		{ read -r _ sec; read -r _ pub; } < <("$tap" --keygen)
		printf -v "${x}SEC" %s "$sec"
		printf -v "${x}PUB" %s "$pub"
	done
}
tap_count() {
	python3 - "$@" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    try:
        l = json.loads(line)
    except ValueError:
        continue
    b = l.get("body") or {}
    a = sys.argv[3:]
    if eval(sys.argv[2]):
        n += 1
print(n)
PY
}
rpc() { curl -s -H 'content-type: application/json' --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":${2:-[]}}" "$RPC_URL"; }
# mine_by_hand N GAP CMD...: mines up to N blocks (evm_mine), GAP s apart, until CMD succeeds. GAP is
# not a wait for an outcome: it spaces the blocks so pollers (the submitter) see each one. The caller
# then waits for CMD with wait_for.
mine_by_hand() {
	local n=$1 gap=$2
	shift 2
	for _ in $(seq "$n"); do
		rpc evm_mine >/dev/null
		"$@" && return 0
		sleep "$gap"
	done
	return 0
}
