#!/usr/bin/env bash
# gate against a real chain: anvil (chain id 138), OracleAggregator with anvil's public dev
# account #1 as transmitter, busd, the gate; aggregates injected with bus-tap, updates watched
# with bus-tap. Checks:
#  A. first aggregate -> one update, reason first, signed by the gate's key, round 1, chain 138,
#     re-published with the SAME id until a tx.status whose ref is that id, then no more;
#  B. a move within DEVIATION_THRESHOLD (0.4667 % < 0.5 %) -> no update;
#  C. exactly 0.5 % -> one update, reason deviation, deviation_ppm 5000, previous answer right;
#  C2. a late 'final' status of the first update does not roll the gate back;
#  E. restart (the chain updated by a real `cast send updateAnswer` from the transmitter just
#     before): no needless update, and the heartbeat comes on time, measured from the on-chain
#     updatedAt read at start;
#  D. the next heartbeat, without a restart, measured from the confirmed heartbeat update;
#  F. RSS of the running gate.
# Every confirmation is real: the transmitter sends updateAnswer on chain, and a tx.status
# (confirmed, feed, answer, ref) is published as the submitter would.
# Timing: A-C2 run with HEARTBEAT=1h so no heartbeat can overtake a step however slow the machine;
# the heartbeat steps restart the gate with HEARTBEAT=$HB right after an on-chain update. "No
# update" checks first wait for the gate's metrics to show it evaluated the input.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD=${BUILD:-build}
BUSD=$BUILD/bin/busd TAP=$BUILD/bin/bus-tap GATE=$BUILD/bin/gate CHAIN=$ROOT/tools/chain.sh
for b in "$BUSD" "$TAP" "$GATE"; do [ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }; done
[ -x "$ROOT/tests/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" ] ||
	{ echo "SKIP: tests/chain/node_modules missing (make deps)"; exit 0; }
FAIL_TAIL=30
HB=8  # the heartbeat (s) of steps E and D

KEY1=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d  # anvil public dev key #1
ADDR1=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
PORT=$(free_port)
export RPC_URL=http://127.0.0.1:$PORT
ANVIL_PID=$(CHAIN_LOG=$TMP/anvil.log "$CHAIN" start "$PORT")
"$CHAIN" compile OracleAggregator >/dev/null 2>"$TMP/deploy.log"
AGG=$("$CHAIN" deploy OracleAggregator 8 "ETH / USD" 0 0 "[\"$ADDR1\"]" 2>>"$TMP/deploy.log")
[[ "$AGG" =~ ^0x[0-9a-fA-F]{40}$ ]] || fail "deploy printed '$AGG'"
echo "aggregator $AGG on $RPC_URL"

IN=ipc://$TMP/in.ipc OUT=ipc://$TMP/out.ipc
BP=$(free_port)
BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$TMP/journal HTTP_PORT=$BP HTTP_ADDR=127.0.0.1 INSTANCE=busd-g \
	"$BUSD" 2>"$TMP/busd.log" &
PIDS+=($!)
wait_for 5 "busd /health" curl -sf "http://127.0.0.1:$BP/health"
{ read -r _ GSEC; read -r _ GPUB; } < <("$TAP" --keygen)
HP=$(free_port)
GPID=
start_gate() {  # heartbeat; returns once the gate is subscribed and has read the chain
	local reads; reads=$(chain_reads)
	BUS_PUB_URL=$IN BUS_SUB_URL=$OUT BUS_SIGNING_KEY=$GSEC FEED=ETH-USD AGGREGATOR_ADDRESS=$AGG CHAIN_ID=138 TRANSMITTER=$ADDR1 \
		DEVIATION_THRESHOLD=0.5 HEARTBEAT=$1 MIN_INTERVAL=1s UPDATE_TIMEOUT=60s CHAIN_POLL=1s \
		STATE_DIR=$TMP/gate-state HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 INSTANCE=gate-t LOG_LEVEL=debug \
		"$GATE" 2>>"$TMP/gate.log" &
	GPID=$!
	PIDS+=($GPID)
	wait_for 5 "gate /health" curl -sf "http://127.0.0.1:$HP/health"
	kill -0 $GPID 2>/dev/null || fail "gate did not start"
	wait_subscribers "$BP" 2  # the tap and the gate
	wait_for 5 "the gate read the chain" chain_reads_gt "$reads"
}
chain_reads() { local n; n=$(grep -c '"on-chain answer"' "$TMP/gate.log" 2>/dev/null); echo "${n:-0}"; }
chain_reads_gt() { [ "$(chain_reads)" -gt "$1" ]; }
# Only frames signed by the gate's key are accepted on price.update.
"$TAP" --url "$OUT" --topic price.update. --trust "price.update.=$GPUB" --timeout 600 >"$TMP/tap.out" \
	2>"$TMP/tap.log" &
PIDS+=($!)
wait_subscribers "$BP" 1
start_gate 1h

now() { date +%s%N; }
agg() {  # median
	local t; t=$(now)
	"$TAP" --url "$IN" --publish price.agg.ETH-USD --origin median-t --json \
		"{\"feed\":\"ETH-USD\",\"median\":\"$1\",\"decimals\":8,\"used\":[{\"source\":\"a\",\"value\":\"$1\",\"observed_at_ns\":$t},{\"source\":\"b\",\"value\":\"$1\",\"observed_at_ns\":$t}],\"spread_ppm\":0,\"oldest_observed_at_ns\":$t,\"aggregated_at_ns\":$t}" \
		2>>"$TMP/pub.log" || fail "publish agg"
}
status() {  # ref answer
	"$TAP" --url "$IN" --publish tx.status --origin submitter-t --json \
		"{\"tx_hash\":\"0x$(printf '%064d' 7)\",\"chain_id\":138,\"from\":\"$ADDR1\",\"nonce\":1,\"state\":\"confirmed\",\"feed\":\"ETH-USD\",\"answer\":\"$2\",\"ref\":\"$1\",\"observed_at_ns\":$(now)}" \
		2>>"$TMP/pub.log" || fail "publish tx.status"
}
onchain() { "$CHAIN" cast send --rpc-url "$RPC_URL" --private-key "$KEY1" "$AGG" 'updateAnswer(int256)' "$1" >/dev/null; }
chain_updated() { "$CHAIN" latest "$AGG" | sed -n 's/.*updatedAt=\([0-9]*\).*/\1/p'; }
# python over the tap's lines: U = list of price.update lines (l), bodies b; ids in order
q() {
	python3 - "$TMP/tap.out" "$1" <<'PY'
import json, sys
U = []
for line in open(sys.argv[1]):
    try:
        l = json.loads(line)
    except ValueError:
        continue
    if l.get("topic") == "price.update.ETH-USD":
        U.append(l)
ids = []
for l in U:
    if l["id"] not in ids:
        ids.append(l["id"])
print(eval(sys.argv[2]))
PY
}
is_true() { [ "$(q "$1")" = True ]; }
wait_q() { poll "$2" is_true "$1"; }  # expr timeout_s: waits until expr prints True
last() { q "[l for l in U if l['id'] == ids[-1]][0]['body']['$1']"; }
lastid() { q "ids[-1][2:]"; }
metric() { metric_at "$HP" "$1"; }
metric_is() { [ "$(metric "$1")" = "$2" ]; }
metric_ge() { local v; v=$(metric "$1"); [ "${v:-0}" -ge "$2" ]; }
# rx_mark: frames the gate accepted so far; rx_wait N: until it has accepted N more (then it has
# evaluated them: each frame is handled right after it is received, on the same thread)
rx_mark() { RX=$(metric bus_rx_frames_total); RX=${RX:-0}; }
rx_wait() { wait_for 5 "the gate received $1 more frame(s)" metric_ge bus_rx_frames_total $((RX + $1)); }

echo "== A. first"
agg 300000000000
wait_q "len(ids) == 1" 5 || fail "no first update"
[ "$(last reason)" = first ] || fail "reason $(last reason), want first"
[ "$(last previous_answer)" = 0 ] && [ "$(last answer)" = 300000000000 ] || fail "numbers of the first update"
[ "$(last round_id)" = 1 ] && [ "$(last chain_id)" = 138 ] || fail "round $(last round_id) chain $(last chain_id)"
[ "$(last contract)" = "$(echo "$AGG" | tr A-F a-f)" ] || fail "contract $(last contract)"
[ "$(q "all(l['signed'] for l in U)")" = True ] || fail "unsigned update"
ID1=$(lastid)
wait_q "len(U) >= 2 and len(ids) == 1" 5 || fail "update not re-published with the same id"
status "$ID1" 300000000000
onchain 300000000000
wait_for 5 "the gate took the confirmed answer" grep -q '"confirmed answer"' "$TMP/gate.log"
wait_for 5 "outbox empty after the tx.status" metric_is gate_outbox_pending 0
[ "$(metric 'gate_inflight{feed="ETH-USD"}')" = 0 ] || fail "still in flight"
# Whatever the tap delivers late was published before the ack; nothing may be published after it
# (the next re-publication would have been due within 2 s of the ack: backoff 1 s, x2).
T_ACK=$(now)
sleep 2.5
n=$(q "len(U)")
[ "$(q "[l['ts'] for l in U if int(l['ts']) > $T_ACK]")" = "[]" ] || fail "still re-published after its tx.status"
echo "ok: first, re-published until acked ($n frames, one id)"

echo "== B. within threshold"
agg 301400000000
# the gate has evaluated it once its deviation gauge shows 0.4667 % (floor of 1.4e9 * 1e6 / 3e11)
wait_for 5 "the gate evaluated 3014.00" metric_is 'gate_deviation_ppm{feed="ETH-USD"}' 4666
[ "$(q "len(ids)")" = 1 ] || fail "an update within the threshold: $(last reason)"
echo "ok: none"

echo "== C. deviation"
agg 301500000000
wait_q "len(ids) == 2" 5 || fail "no deviation update"
[ "$(last reason)" = deviation ] || fail "reason $(last reason)"
[ "$(last deviation_ppm)" = 5000 ] || fail "deviation_ppm $(last deviation_ppm), want 5000"
[ "$(last previous_answer)" = 300000000000 ] && [ "$(last threshold_ppm)" = 5000 ] || fail "numbers"
[ "$(last round_id)" = 2 ] || fail "round $(last round_id), want 2"
ID2=$(lastid)
onchain 301500000000
status "$ID2" 301500000000
wait_for 5 "the gate took the second confirmed answer" metric_is 'gate_inflight{feed="ETH-USD"}' 0
echo "ok: deviation 5000 ppm"

echo "== C2. a late 'final' of an older update does not roll the gate back"
# The first update's final status arrives after the second update was confirmed (finality lags
# confirmation): taking its answer again made the gate publish the current answer a second time.
rx_mark
"$TAP" --url "$IN" --publish tx.status --origin submitter-t --json \
	"{\"tx_hash\":\"0x$(printf '%064d' 6)\",\"chain_id\":138,\"from\":\"$ADDR1\",\"nonce\":0,\"state\":\"final\",\"block_number\":1,\"feed\":\"ETH-USD\",\"answer\":\"300000000000\",\"ref\":\"$ID1\",\"observed_at_ns\":$(now)}" \
	2>>"$TMP/pub.log" || fail "publish tx.status"
agg 301500000000
rx_wait 2  # both handled: a rolled-back gate would now see 5000 ppm and publish at once
sleep 0.5  # two more evaluations (every 250 ms): a roll-back would show in the gauge
[ "$(metric 'gate_deviation_ppm{feed="ETH-USD"}')" = 0 ] ||
	fail "the stale final status moved the gate's answer (deviation $(metric 'gate_deviation_ppm{feed="ETH-USD"}') ppm)"
[ "$(q "len(ids)")" = 2 ] || fail "a stale final status made the gate publish again ($(last reason))"
echo "ok: no second update for the same answer"

echo "== E. restart right after an on-chain update by the transmitter (heartbeat $HB s)"
kill -TERM $GPID
wait $GPID || fail "gate did not exit 0 on SIGTERM"
onchain 301500000000  # round 3, updatedAt = now: the heartbeat is due HB s after it
UPD=$(chain_updated)
n=$(q "len(ids)")
start_gate ${HB}s
grep '"on-chain answer"' "$TMP/gate.log" | tail -1 | grep -q "\"updated_at\":\"$UPD\"" ||
	fail "the gate did not read updatedAt $UPD at start: $(grep '"on-chain answer"' "$TMP/gate.log" | tail -1)"
rx_mark
agg 301500000000
rx_wait 1
# Only a heartbeat may follow: HB s after updatedAt (on a slow enough machine, at once)
wait_q "len(ids) == $((n + 1))" $((HB + 2)) || fail "the heartbeat was missed after the restart"
[ "$(last reason)" = heartbeat ] || fail "needless update after restart: reason $(last reason)"
[ "$(last previous_updated_at_s)" = "$UPD" ] || fail "previous_updated_at_s $(last previous_updated_at_s), chain $UPD"
[ "$(last heartbeat_s)" = $HB ] || fail "heartbeat_s $(last heartbeat_s)"
since=$(last since_update_s)
[ "$since" -ge $HB ] && [ "$since" -le $((HB + 4)) ] || fail "heartbeat after restart at $since s, want $HB..$((HB + 4))"
echo "ok: no other update on restart, heartbeat at $since s from the on-chain updatedAt"

echo "== D. the next heartbeat, measured from the confirmed one"
ID3=$(lastid)
onchain 301500000000
UPD=$(chain_updated)
status "$ID3" 301500000000
wait_for 5 "the gate took the heartbeat's confirmation" metric_is 'gate_inflight{feed="ETH-USD"}' 0
wait_q "len(ids) == $((n + 2))" $((HB + 2)) || fail "no second heartbeat"
[ "$(last reason)" = heartbeat ] || fail "reason $(last reason), want heartbeat"
[ "$(last previous_updated_at_s)" = "$UPD" ] || fail "previous_updated_at_s $(last previous_updated_at_s), chain $UPD"
since=$(last since_update_s)
[ "$since" -ge $HB ] && [ "$since" -le $((HB + 4)) ] || fail "heartbeat after $since s, want $HB..$((HB + 4))"
echo "ok: heartbeat after $since s"

echo "== F. resources"
rss=$(awk '/VmRSS/{print $2}' /proc/$GPID/status)
echo "gate RSS: ${rss} KiB"
[ "$(metric 'gate_updates_total{feed="ETH-USD",reason="heartbeat"}')" = 2 ] || fail "updates metric after restart"
kill -TERM $GPID
wait $GPID || fail "gate did not exit 0"
echo "PASS"
