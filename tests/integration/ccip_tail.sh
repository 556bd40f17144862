#!/usr/bin/env bash
# ccip-tail end to end on anvil (chain id 138) with CcipEventEmitter (deploy/contracts/test), which
# emits the exact CCIP 1.5/1.6/Router events (topic0s checked against @chainlink/contracts-ccip's ABIs
# first). Two "chains" in one CCIP_CONFIG share the anvil: SRC (its OnRamps = emitter A) and DST
# (its OffRamp/CommitStore/Router = emitter B), so lanes SRC->DST are followed end to end.
# Covers: send, commit, success, failure with return data, v1.5 lane, out-of-order (exec and commit
# before send), overdue + resolve, an undecodable log kept raw, a reorg (evm_snapshot/evm_revert),
# kill -9 mid-range and restart (no lost or duplicated state change on the bus), an RPC outage
# (a dead first URL: failover; anvil stopped with SIGSTOP: rpc_unreachable alert, /health 503).
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
on_exit() { [ -n "$TAIL_PID" ] && kill -9 "$TAIL_PID" 2>/dev/null; }
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
TAIL=$BUILD/bin/ccip-tail BUSD=$BUILD/bin/busd TAP=$BUILD/bin/bus-tap CHAIN=tools/chain.sh
for b in "$TAIL" "$BUSD" "$TAP"; do [ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }; done
[ -d tests/chain/node_modules ] || { echo "tests/chain/node_modules missing: make deps"; exit 1; }

TAIL_PID=""
checks=0
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }

# ---- chain, contracts, ABI cross-check --------------------------------------------------------------
PORT=$(free_port)
export CHAIN_LOG=$TMP/anvil.log
ANVIL_PID=$("$CHAIN" start "$PORT") || fail "anvil"
export RPC_URL=http://127.0.0.1:$PORT
"$CHAIN" compile CcipEventEmitter >/dev/null 2>&1 || fail "compile CcipEventEmitter"
cat >"$TMP/xcheck.js" <<'JS'
'use strict';
const path = require('path'), fs = require('fs');
const NM = path.resolve('tests/chain/node_modules');
const { Interface } = require(path.join(NM, 'ethers'));
const ABI = path.join(NM, '@chainlink', 'contracts-ccip', 'abi');
const ours = new Interface(JSON.parse(fs.readFileSync('build/contracts/CcipEventEmitter.json', 'utf8')).abi);
let bad = 0;
for (const [file, name] of [['v1_5_0/evm_2_evm_onramp.json', 'CCIPSendRequested'],
  ['v1_5_0/evm_2_evm_offramp.json', 'ExecutionStateChanged'], ['v1_5_0/commit_store.json', 'ReportAccepted'],
  ['v1_6_0/onramp.json', 'CCIPMessageSent'], ['v1_6_0/offramp.json', 'ExecutionStateChanged'],
  ['v1_6_0/offramp.json', 'CommitReportAccepted'], ['v1_2_0/router.json', 'MessageExecuted']]) {
  const ev = new Interface(JSON.parse(fs.readFileSync(path.join(ABI, file), 'utf8'))).getEvent(name);
  const mine = ours.getEvent(ev.topicHash);
  const idx = (e) => e.inputs.map((i) => (i.indexed ? 'i' : '-')).join('');
  if (!mine || idx(mine) !== idx(ev)) { console.error(`MISMATCH ${file} ${ev.format('sighash')}`); bad++; }
}
process.exit(bad);
JS
node "$TMP/xcheck.js" || fail "emitter events differ from the official CCIP ABIs"
ok "CcipEventEmitter's 7 events match @chainlink/contracts-ccip (1.5 onramp/offramp/commit_store, 1.6 onramp/offramp, router)"
A=$("$CHAIN" deploy CcipEventEmitter) B=$("$CHAIN" deploy CcipEventEmitter)
[ -n "$A" ] && [ -n "$B" ] && [ "$A" != "$B" ] || fail "deploy"
KEY0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
tx() { "$CHAIN" cast send -q --rpc-url "$RPC_URL" --private-key $KEY0 "$@" >/dev/null || fail "cast send $*"; }
rpc() { curl -s -H 'content-type: application/json' --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" "$RPC_URL"; }
SRC=5009297550715157269 DST=3478487238524512106
id() { printf '0x%064x' "$1"; }

# ---- bus and the tail --------------------------------------------------------------------------------
IN=tcp://127.0.0.1:$(free_port) OUT=tcp://127.0.0.1:$(free_port)
BP=$(free_port)
BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$TMP/journal HTTP_PORT=$BP HTTP_ADDR=127.0.0.1 INSTANCE=busd-ct \
	"$BUSD" 2>>"$TMP/busd.log" & PIDS+=($!)
wait_for 5 "busd /health" curl -sf "http://127.0.0.1:$BP/health"
"$TAP" --url "$OUT" --topic ccip.msg. --topic alert. --format json >"$TMP/bus.jsonl" 2>>"$TMP/tap.log" & PIDS+=($!)
wait_subscribers "$BP" 1
DEAD=$(free_port)
cat >"$TMP/ccip.json" <<JSON
{"chains":[
 {"name":"src","selector":"$SRC","chain_id":138,"rpc_url":["http://127.0.0.1:$DEAD","$RPC_URL"],
  "contracts":[{"address":"$A","peer_selector":"$DST"}]},
 {"name":"dst","selector":"$DST","chain_id":138,"rpc_url":"$RPC_URL","router":"$B",
  "contracts":[{"address":"$B","peer_selector":"$SRC"}]}]}
JSON
HP=$(free_port)
start_tail() {
	CCIP_CONFIG=$TMP/ccip.json BUS_PUB_URL=$IN HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 DATA_DIR=$TMP/lmdb \
		MONITORING_INTERVAL=300ms CONFIRMATIONS=0 START_BLOCK=0 MAX_BLOCK_RANGE=${MAXR:-1000} MAX_RANGES_PER_POLL=${RPP:-64} OVERDUE_AFTER=6s \
		COMMIT_OVERDUE_AFTER=0 RPC_TIMEOUT=700ms INSTANCE=ccip-tail-test "$TAIL" 2>>"$TMP/tail.log" &
	TAIL_PID=$!
	wait_for 10 "ccip-tail /health" curl -sf "http://127.0.0.1:$HP/metrics"
}
msg() { curl -s "http://127.0.0.1:$HP/messages/$(id "$1")"; }
state() { msg "$1" | jq -r '.state // "none"'; }
has_state() { [ "$(state "$1")" = "$2" ]; }
metric() { curl -s "http://127.0.0.1:$HP/metrics" | awk -v m="$1" '$1==m {print $2}'; }
start_tail
ok "ccip-tail up (first RPC URL dead: failover to anvil)"

# ---- lifecycle ------------------------------------------------------------------------------------------
tx "$A" "send16(bytes32,uint64,uint64,uint64,bytes,uint256)" "$(id 1)" $SRC $DST 1 0x68656c6c6f 1000
tx "$B" "commit16(uint64,address,uint64,uint64,bytes32)" $SRC "$A" 1 2 "$(id 99)"
tx "$B" "exec16(uint64,uint64,bytes32,uint8,bytes)" $SRC 1 "$(id 1)" 2 0x
tx "$B" "routerExecuted(bytes32,uint64)" "$(id 1)" $SRC
wait_for 10 "m1 executed_success" has_state 1 executed_success
[ "$(msg 1 | jq -r '[.history[].state]|join(",")')" = "sent,committed,executed_success" ] || fail "m1 history: $(msg 1)"
[ "$(msg 1 | jq -r '.message.token_amounts[0].amount')" = 1000 ] || fail "m1 tokens: $(msg 1)"
ok "v1.6 send -> commit -> success (history sent,committed,executed_success; tokens decoded)"

tx "$A" "send16(bytes32,uint64,uint64,uint64,bytes,uint256)" "$(id 2)" $SRC $DST 2 0x 0
tx "$B" "exec16(uint64,uint64,bytes32,uint8,bytes)" $SRC 2 "$(id 2)" 3 0x08c379a0deadbeef
wait_for 10 "m2 executed_failure" has_state 2 executed_failure
[ "$(msg 2 | jq -r '.message.return_data')" = 0x08c379a0deadbeef ] || fail "m2 return data: $(msg 2)"
curl -s "http://127.0.0.1:$HP/messages?state=executed_failure&limit=5" | jq -e '.messages|length==1' >/dev/null ||
	fail "list executed_failure"
ok "failure with return data; GET /messages?state=executed_failure lists it"

tx "$A" "send15(bytes32,uint64,uint64,bytes)" "$(id 3)" $SRC 7 0x
tx "$B" "commit15(uint64,uint64,bytes32)" 5 9 "$(id 98)"
tx "$B" "exec15(uint64,bytes32,uint8,bytes)" 7 "$(id 3)" 2 0x
wait_for 10 "m3 (v1.5) executed_success" has_state 3 executed_success
[ "$(msg 3 | jq -r '[.history[].state]|join(",")')" = "sent,committed,executed_success" ] || fail "m3: $(msg 3)"
ok "v1.5 lane: CCIPSendRequested -> ReportAccepted interval -> ExecutionStateChanged"

tx "$B" "exec16(uint64,uint64,bytes32,uint8,bytes)" $SRC 3 "$(id 4)" 2 0x
tx "$B" "commit16(uint64,address,uint64,uint64,bytes32)" $SRC "$A" 3 3 "$(id 97)"
# the tail has processed the block of that commit (and the exec before it): only then "none" means it
cursor_ge() { local c; c=$(metric "ccip_cursor_block{chain=\"$1\"}"); [ "${c:-0}" -ge "$2" ]; }
BLK=$("$CHAIN" cast block-number --rpc-url "$RPC_URL")
wait_for 10 "the tail processed block $BLK of dst" cursor_ge dst "$BLK"
[ "$(state 4)" = none ] || fail "m4 known before its send"
tx "$A" "send16(bytes32,uint64,uint64,uint64,bytes,uint256)" "$(id 4)" $SRC $DST 3 0x 0
wait_for 10 "m4 applied when the send arrives" has_state 4 executed_success
ok "out of order: exec and commit before the send wait, then apply"

tx "$A" "send16(bytes32,uint64,uint64,uint64,bytes,uint256)" "$(id 5)" $SRC $DST 4 0x 0
wait_for 15 "m5 overdue" has_state 5 overdue
tx "$B" "exec16(uint64,uint64,bytes32,uint8,bytes)" $SRC 4 "$(id 5)" 2 0x
wait_for 10 "m5 executed after overdue" has_state 5 executed_success
wait_for 5 "overdue resolved on the bus" grep -q '"alert.warning.ccip_overdue".*"status":"resolved"' "$TMP/bus.jsonl"
grep -q '"alert.warning.ccip_overdue".*"status":"firing"' "$TMP/bus.jsonl" || fail "no ccip_overdue firing alert"
grep -q '"alert.critical.ccip_failure".*"status":"firing"' "$TMP/bus.jsonl" || fail "no ccip_failure alert"
ok "overdue (alert firing) then executed (alert resolved); ccip_failure alert on the bus"

T0=$(printf '0x%064x' 0)
tx "$A" "raw(bytes32,bytes)" 0x192442a2b2adb6a7948f097023cb6b57d29d3a7a5dd33e6666d33c39cc456f32 0x1234
wait_for 10 "undecodable counted" sh -c "curl -s http://127.0.0.1:$HP/metrics | grep -q '^ccip_undecodable_logs_total{contract=\"$A\"'"
[ "$(metric ccip_raw_logs)" = 1 ] || fail "raw log not kept: $(metric ccip_raw_logs)"
ok "a CCIPMessageSent topic0 with bad topics/data: counted by contract+topic0 and kept raw"

# ---- reorg ----------------------------------------------------------------------------------------------
SNAP=$(rpc evm_snapshot '[]' | jq -r .result)
tx "$A" "send16(bytes32,uint64,uint64,uint64,bytes,uint256)" "$(id 6)" $SRC $DST 50 0x 0
wait_for 10 "m6 sent" has_state 6 sent
rpc evm_revert "[\"$SNAP\"]" | jq -e '.result==true' >/dev/null || fail "evm_revert"
rpc anvil_mine '["0x3"]' >/dev/null
tx "$A" "send16(bytes32,uint64,uint64,uint64,bytes,uint256)" "$(id 7)" $SRC $DST 50 0x 0
wait_for 10 "m7 sent on the new branch" has_state 7 sent
wait_for 5 "m6 retracted" sh -c "curl -s http://127.0.0.1:$HP/messages/$(id 6) | jq -e '.message==null and (.history|map(.state)|index(\"reorged\"))' "
grep -q '"topic":"ccip.msg.reorged"' "$TMP/bus.jsonl" || fail "no ccip.msg.reorged on the bus"
[ "$(metric 'ccip_reorgs_total{chain="src"}')" -ge 1 ] || fail "ccip_reorgs_total"
ok "reorg: m6's send reorged away (ccip.msg.reorged, history kept), m7 on the new branch tracked"

# ---- kill -9 mid-range and restart ------------------------------------------------------------------
kill -TERM "$TAIL_PID"; wait "$TAIL_PID" || fail "ccip-tail did not exit 0 on SIGTERM"
for i in $(seq 10 39); do tx "$A" "send16(bytes32,uint64,uint64,uint64,bytes,uint256)" "$(id $i)" $SRC $DST $i 0x 0; done
before=$(grep -c '"ccip.msg.sent"' "$TMP/bus.jsonl" || true)
MAXR=1 RPP=2 start_tail  # one block per range, two ranges per 300 ms poll: ~4 s for the 30 sends
sent_count() { grep -c '"ccip.msg.sent"' "$TMP/bus.jsonl" || true; }
few_sent() { [ "$(sent_count)" -ge $((before + 3)) ]; }
wait_for 10 "a few sends published" few_sent
kill -9 "$TAIL_PID"; wait "$TAIL_PID" 2>/dev/null || true
mid=$(( $(sent_count) - before ))
[ "$mid" -lt 30 ] || fail "the kill came after the whole range ($mid of 30 published)"
start_tail
wait_for 30 "all 30 sends after the restart" has_state 39 sent
for i in $(seq 10 39); do
	n=$(msg "$i" | jq '[.history[]|select(.state=="sent")]|length')
	[ "$n" = 1 ] || fail "message $i has $n sent entries"
done
all_on_bus() { for i in $(seq 10 39); do grep -q "\"message_id\":\"$(id $i)\"" "$TMP/bus.jsonl" || return 1; done; }
wait_for 10 "all 30 sends on the bus" all_on_bus
# on the bus: every (message, state) once by envelope id (a re-publication after the crash has the same id)
dups=$(jq -r 'select(.topic|startswith("ccip.msg.")) | "\(.body.message_id) \(.topic) \(.id)"' "$TMP/bus.jsonl" |
	sort -u | awk '{print $1, $2}' | sort | uniq -d | grep -v reorged || true)
[ -z "$dups" ] || fail "duplicated state changes with different ids: $dups"
ok "kill -9 mid-range ($mid of 30 sends published before the kill): 30 sends, one history entry and one bus id each"

# ---- RPC outage -------------------------------------------------------------------------------------------
curl -sf "http://127.0.0.1:$HP/health" >/dev/null || fail "/health not ok before the outage"
kill -STOP "$ANVIL_PID"
wait_for 15 "/health 503 during the outage" sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$HP/health) = 503 ]"
kill -CONT "$ANVIL_PID"
wait_for 20 "/health ok after the outage" curl -sf "http://127.0.0.1:$HP/health"
wait_for 5 "rpc_unreachable resolved" grep -q '"alert.warning.rpc_unreachable".*"status":"resolved"' "$TMP/bus.jsonl"
grep -q '"alert.warning.rpc_unreachable".*"status":"firing"' "$TMP/bus.jsonl" || fail "no rpc_unreachable alert"
[ $(( $(metric 'ccip_rpc_errors_total{chain="src"}') + $(metric 'ccip_rpc_errors_total{chain="dst"}') )) -ge 1 ] ||
	fail "ccip_rpc_errors_total"
ok "RPC outage (anvil SIGSTOP): rpc_unreachable firing + /health 503, then resolved"

# ---- metrics ----------------------------------------------------------------------------------------------
tx "$B" "exec16(uint64,uint64,bytes32,uint8,bytes)" $SRC 50 "$(id 7)" 3 0x
wait_for 10 "m7 failed" has_state 7 executed_failure
curl -s "http://127.0.0.1:$HP/metrics" >"$TMP/metrics.txt"
if command -v promtool >/dev/null; then promtool check metrics <"$TMP/metrics.txt" || fail "promtool"; fi
[ "$(metric ccip_messages_tracked)" -ge 35 ] || fail "ccip_messages_tracked $(metric ccip_messages_tracked)"
[ "$(metric ccip_message_failures_total)" -ge 1 ] || fail "ccip_message_failures_total"
grep -q '^ccip_logs_decoded_total{event="CCIPMessageSent"}' "$TMP/metrics.txt" || fail "ccip_logs_decoded_total"
grep -q '^ccip_cursor_block{chain="dst"}' "$TMP/metrics.txt" || fail "ccip_cursor_block"
kill -TERM "$TAIL_PID"; wait "$TAIL_PID" || fail "exit on SIGTERM"; TAIL_PID=""
ok "metrics (promtool-clean), SIGTERM exit 0"
echo "$checks checks passed"
