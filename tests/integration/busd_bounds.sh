#!/usr/bin/env bash
# busd's memory bounds, with the real binary over tcp://127.0.0.1:
#  1. 80 stalled subscribers (connected, handshake done, never reading; they connect one by one
#     while frames flow, so each holds different frames) and 2000 frames of 64 KiB: a live
#     subscriber gets every frame, busd's private memory (RssAnon) stays under its bound and comes
#     back down after they leave; the drops are counted (busd_egress_dropped_total) and logged.
#  2. a frame over BUSD_MAX_FRAME is refused at the ingress (never forwarded); the next ones pass.
#  3. a paused (SIGSTOP) subscriber past BUSD_SUB_STALL is disconnected (counted), and resumes by
#     redialing when continued.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
BUILD=${BUILD:-build}
BUSD=$BUILD/bin/busd TAP=$BUILD/bin/bus-tap LOAD=$BUILD/bin/busd-load
for b in "$BUSD" "$TAP" "$LOAD"; do [ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }; done
FAIL_TAIL=15
# The bound: BUSD_MAX_BYTES (64 MiB, the default) of frames + what busd uses besides (NNG's ingress
# buffers, the journal's write batch, malloc's slack): 96 MiB. Without the byte bounds (NNG pub0,
# 8192 frames per subscriber) the same run took busd to 128 MiB, still 107 MiB 30 s after.
BOUND_MIB=96 AFTER_MIB=8
# ASan's allocator keeps freed memory in quarantine: there the bounds are not RssAnon's to show (the
# frame bytes held are still checked through busd_egress_held_peak_bytes).
MEM_ARGS=(--max-private-mib $BOUND_MIB --after-mib $AFTER_MIB)
case "$BUILD" in *asan*) MEM_ARGS=(--after-mib 100000) ;; esac

IN=tcp://127.0.0.1:$(free_port) OUT=tcp://127.0.0.1:$(free_port) HP=$(free_port)
BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$TMP/journal HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 BUSD_SUB_STALL=0 \
	INSTANCE=busd-b "$BUSD" 2>"$TMP/busd.log" &
BPID=$!
PIDS+=($BPID)
wait_for 10 "busd /health" curl -sf "http://127.0.0.1:$HP/health"
metric() { curl -sf "http://127.0.0.1:$HP/metrics" | awk -v m="$1" '$1==m{print $2}'; }
metric_is() { [ "$(metric "$1")" = "$2" ]; }

echo "== 1. 80 stalled subscribers, 2000 frames of 64 KiB (125 MiB)"
"$LOAD" --ingress "$IN" --egress "$OUT" --pid $BPID --stalled 80 --frames 2000 --body 65000 \
	"${MEM_ARGS[@]}" >"$TMP/load.out" 2>"$TMP/load.log" ||
	{ cat "$TMP/load.out"; fail "busd-load"; }
cat "$TMP/load.out"
drops=$(metric 'busd_egress_dropped_total{bound="subscriber"}')
[ "${drops%.*}" -gt 0 ] || fail "busd_egress_dropped_total=$drops: the stalled subscribers lost nothing?"
grep -q 'is behind: lost' "$TMP/busd.log" || fail "no log line for a subscriber losing frames"
peak=$(metric busd_egress_held_peak_bytes)
[ "${peak%.*}" -le $((64 << 20)) ] || fail "busd_egress_held_peak_bytes=$peak over BUSD_MAX_BYTES"
echo "busd_egress_dropped_total=$drops busd_egress_held_peak_bytes=$peak"

echo "== 2. BUSD_MAX_FRAME at the ingress"
# busd-load publishes one frame of 70,000 bytes first: busd must not forward it (the live
# subscriber must then count exactly the 20 frames that follow).
"$LOAD" --ingress "$IN" --egress "$OUT" --pid $BPID --stalled 0 --frames 20 --body 1000 --oversize 70000 \
	>"$TMP/over.out" 2>"$TMP/over.log" || { cat "$TMP/over.out"; fail "oversize frame"; }

echo "== 3. a paused subscriber is disconnected after BUSD_SUB_STALL"
kill $BPID
wait $BPID 2>/dev/null || true
BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$TMP/journal HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 BUSD_SUB_STALL=2s \
	BUSD_SUB_MAX_BYTES=1048576 INSTANCE=busd-b "$BUSD" 2>>"$TMP/busd.log" &
BPID=$!
PIDS+=($BPID)
wait_for 10 "busd /health" curl -sf "http://127.0.0.1:$HP/health"
# subscribed to the load's topic: busd sends a subscriber only the topics it declared
"$TAP" --url "$OUT" --topic load. --timeout 60 >/dev/null 2>"$TMP/stall-sub.log" &
SUB=$!
PIDS+=($SUB)
wait_for 10 "subscriber connected" metric_is busd_subscribers 1
kill -STOP $SUB
# 26 MB through busd fill the paused subscriber's socket buffers, then its 1 MiB queue.
"$LOAD" --ingress "$IN" --egress "$OUT" --pid $BPID --stalled 0 --frames 400 --body 65000 \
	>"$TMP/stall-load.out" 2>"$TMP/stall-load.log" || { cat "$TMP/stall-load.out"; fail "load while paused"; }
wait_for 20 "stalled subscriber disconnected" metric_is 'busd_subscribers_disconnected_total{reason="stalled"}' 1
grep -q 'took nothing for' "$TMP/busd.log" || fail "no log line for the stalled subscriber"
kill -CONT $SUB
wait_for 20 "the subscriber redialed" metric_is busd_subscribers 1
echo "PASS busd_bounds"
