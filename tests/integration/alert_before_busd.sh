#!/usr/bin/env bash
# An alert raised before the actor's busd connection is up reaches the bus once it is (bus/actor.h
# act_alert). Pub/sub drops a frame published with no pipe to busd, and alerts are raised once per
# state change, so the old act_alert lost it for good. ccip-tail with only a dead RPC endpoint raises
# rpc_unreachable in its first poll; busd is held (SIGSTOP) across its start, so its publisher
# cannot be connected then. busd resumed: the alert arrives (firing, once).
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
need_bins "$BUILD/bin" ccip-tail busd bus-tap
TAIL_PID="" BUSD_PID=""
on_exit() { [ -n "$BUSD_PID" ] && kill -CONT "$BUSD_PID" 2>/dev/null; [ -n "$TAIL_PID" ] && kill -9 "$TAIL_PID" 2>/dev/null; }

busd_start "$BUILD/bin/busd" busd-ab
BUSD_PID=${PIDS[-1]}
"$BUILD/bin/bus-tap" --url "$OUT" --topic alert. --format json >"$TMP/bus.jsonl" 2>>"$TMP/tap.log" & PIDS+=($!)
wait_subscribers "$BP" 1
DEAD=$(free_port)
rpc_alerts() { tap_count "$TMP/bus.jsonl" 'l.get("topic") == "alert.warning.rpc_unreachable" and b.get("status") == a[0]' "$1"; }

kill -STOP "$BUSD_PID"
BUS_PUB_URL=$IN RPC_URL=http://127.0.0.1:$DEAD CHAIN_ID=1 CHAIN_SELECTOR=5009297550715157269 CHAIN_NAME=deadchain \
	CCIP_CONTRACTS=0x1111111111111111111111111111111111111111 MONITORING_INTERVAL=300ms RPC_TIMEOUT=300ms \
	DATA_DIR=$TMP/lmdb INSTANCE=ccip-tail-ab "$BUILD/bin/ccip-tail" 2>>"$TMP/tail.log" &
TAIL_PID=$!
# the first poll failed: the alert was raised while busd could not take the connection
wait_for 10 "ccip-tail's first poll failed (chain unreachable)" grep -q '"msg":"chain unreachable"' "$TMP/tail.log"
kill -CONT "$BUSD_PID"
got_firing() { [ "$(rpc_alerts firing)" -ge 1 ]; }
poll 10 got_firing || fail "rpc_unreachable raised before the busd connection never reached the bus (lost, as pub/sub drops it)"
echo "ok 1 - rpc_unreachable raised before the busd connection reaches the bus once it is up"
# once: kept and sent, not repeated (the chain stays down, no second state change)
kill -TERM "$TAIL_PID"; wait "$TAIL_PID" || fail "ccip-tail exit $? on SIGTERM"
TAIL_PID=""
[ "$(rpc_alerts firing)" -eq 1 ] || fail "rpc_unreachable firing $(rpc_alerts firing) times, expected 1"
[ "$(rpc_alerts resolved)" -eq 0 ] || fail "rpc_unreachable resolved while the chain is down"
echo "ok 2 - sent once, not resolved"
