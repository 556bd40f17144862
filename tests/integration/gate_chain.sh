#!/usr/bin/env bash
# gate against a real chain: anvil (chain id 138), OracleAggregator with anvil's public dev
# account #1 as transmitter, busd, the gate; aggregates injected with bus-tap, updates watched
# with bus-tap. Checks:
#  A. first aggregate -> one update, reason first, signed by the gate's key, round 1, chain 138,
#     re-published with the SAME id until a tx.status whose ref is that id, then no more;
#  B. a move within DEVIATION_THRESHOLD (0.4667 % < 0.5 %) -> no update;
#  C. exactly 0.5 % -> one update, reason deviation, deviation_ppm 5000, previous answer right;
#  D. flat price -> after HEARTBEAT, reason heartbeat;
#  E. restart (the chain updated by a real `cast send updateAnswer` from the transmitter): no
#     needless update, and the next heartbeat still comes on time, measured from the on-chain
#     updatedAt read at start;
#  F. RSS of the running gate.
# Every confirmation is real: the transmitter sends updateAnswer on chain, and a tx.status
# (confirmed, feed, answer, ref) is published as the submitter would.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD=${BUILD:-build}
BUSD=$BUILD/bin/busd TAP=$BUILD/bin/bus-tap GATE=$BUILD/bin/gate CHAIN=$ROOT/tools/chain.sh
for b in "$BUSD" "$TAP" "$GATE"; do [ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }; done
[ -x "$ROOT/tests/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" ] ||
	{ echo "SKIP: tests/chain/node_modules missing (make deps)"; exit 0; }
FAIL_TAIL=30

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
BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$TMP/journal INSTANCE=busd-g "$BUSD" 2>"$TMP/busd.log" &
PIDS+=($!)
sleep 0.3
{ read -r _ GSEC; read -r _ GPUB; } < <("$TAP" --keygen)
HP=$(free_port)
GPID=
start_gate() {
	BUS_PUB_URL=$IN BUS_SUB_URL=$OUT BUS_SIGNING_KEY=$GSEC FEED=ETH-USD AGGREGATOR_ADDRESS=$AGG CHAIN_ID=138 TRANSMITTER=$ADDR1 \
		DEVIATION_THRESHOLD=0.5 HEARTBEAT=6s MIN_INTERVAL=1s UPDATE_TIMEOUT=60s CHAIN_POLL=1s \
		STATE_DIR=$TMP/gate-state HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 INSTANCE=gate-t LOG_LEVEL=debug \
		"$GATE" 2>>"$TMP/gate.log" &
	GPID=$!
	PIDS+=($GPID)
	for _ in $(seq 50); do curl -sf "http://127.0.0.1:$HP/health" >/dev/null 2>&1 && break; sleep 0.1; done
	kill -0 $GPID 2>/dev/null || fail "gate did not start"
	sleep 0.5
}
start_gate
# Only frames signed by the gate's key are accepted on price.update.
"$TAP" --url "$OUT" --topic price.update. --trust "price.update.=$GPUB" --timeout 120 >"$TMP/tap.out" \
	2>"$TMP/tap.log" &
PIDS+=($!)
sleep 0.3

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
# python over the tap's lines: U = list of price.update lines (l), bodies b
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
wait_q() {  # expr timeout_s: waits until expr prints True
	local i
	for i in $(seq $(($2 * 10))); do
		[ "$(q "$1")" = True ] && return 0
		sleep 0.1
	done
	return 1
}
last() { q "[l for l in U if l['id'] == ids[-1]][0]['body']['$1']"; }
lastid() { q "ids[-1][2:]"; }
metric() { curl -sf "http://127.0.0.1:$HP/metrics" | awk -v k="$1" '$1==k{print $2}'; }

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
sleep 0.5
grep -q '"confirmed answer"' "$TMP/gate.log" || fail "gate did not take the confirmed answer"
n=$(q "len(U)")
sleep 2.5
[ "$(q "len(U)")" = "$n" ] || fail "still re-published after its tx.status"
[ "$(metric 'gate_outbox_pending')" = 0 ] || fail "outbox not empty"
[ "$(metric 'gate_inflight{feed="ETH-USD"}')" = 0 ] || fail "still in flight"
echo "ok: first, re-published until acked ($n frames, one id)"

echo "== B. within threshold"
agg 301400000000
sleep 1.5
[ "$(q "len(ids)")" = 1 ] || fail "an update within the threshold"
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
T_CONF=$(date +%s)
echo "ok: deviation 5000 ppm"

echo "== C2. a late 'final' of an older update does not roll the gate back"
# The first update's final status arrives after the second update was confirmed (finality lags
# confirmation): taking its answer again made the gate publish the current answer a second time.
"$TAP" --url "$IN" --publish tx.status --origin submitter-t --json \
	"{\"tx_hash\":\"0x$(printf '%064d' 6)\",\"chain_id\":138,\"from\":\"$ADDR1\",\"nonce\":0,\"state\":\"final\",\"block_number\":1,\"feed\":\"ETH-USD\",\"answer\":\"300000000000\",\"ref\":\"$ID1\",\"observed_at_ns\":$(now)}" \
	2>>"$TMP/pub.log" || fail "publish tx.status"
sleep 0.3
agg 301500000000
sleep 1.5
[ "$(q "len(ids)")" = 2 ] || fail "a stale final status made the gate publish again ($(last reason))"
echo "ok: no second update for the same answer"

echo "== D. heartbeat"
wait_q "len(ids) == 3" 10 || fail "no heartbeat update"
[ "$(last reason)" = heartbeat ] || fail "reason $(last reason), want heartbeat"
since=$(last since_update_s)
[ "$since" -ge 6 ] && [ "$since" -le 8 ] || fail "heartbeat after $since s, want 6..8"
[ "$(last heartbeat_s)" = 6 ] || fail "heartbeat_s"
ID3=$(lastid)
onchain 301500000000
status "$ID3" 301500000000
echo "ok: heartbeat after $since s"

echo "== E. restart"
sleep 1
read -r _ ANS _ UPD _ < <("$CHAIN" latest "$AGG" | tr ' =' '  ' | awk '{print $3, $4, $7, $8}' | sed 's/^/x /')
kill -TERM $GPID
wait $GPID || fail "gate did not exit 0 on SIGTERM"
n=$(q "len(ids)")
start_gate
grep -q '"on-chain answer"' "$TMP/gate.log" || fail "no chain read at start"
agg 301500000000
sleep 2
[ "$(q "len(ids)")" = "$n" ] || fail "needless update after restart: $(last reason)"
wait_q "len(ids) == $((n + 1))" 8 || fail "the heartbeat was missed after the restart"
[ "$(last reason)" = heartbeat ] || fail "reason $(last reason)"
updated=$("$CHAIN" latest "$AGG" | sed -n 's/.*updatedAt=\([0-9]*\).*/\1/p')
[ "$(last previous_updated_at_s)" = "$updated" ] || fail "previous_updated_at_s $(last previous_updated_at_s), chain $updated"
since=$(last since_update_s)
[ "$since" -ge 6 ] && [ "$since" -le 8 ] || fail "heartbeat after restart at $since s"
echo "ok: no update on restart, heartbeat at $since s from the on-chain updatedAt"

echo "== F. resources"
rss=$(awk '/VmRSS/{print $2}' /proc/$GPID/status)
echo "gate RSS: ${rss} KiB"
[ "$(metric 'gate_updates_total{feed="ETH-USD",reason="heartbeat"}')" = 1 ] || fail "updates metric after restart"
kill -TERM $GPID
wait $GPID || fail "gate did not exit 0"
echo "PASS"
