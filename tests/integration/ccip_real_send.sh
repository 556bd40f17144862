#!/usr/bin/env bash
# ccip-tail on the REAL CCIP 1.6 send side, on anvil (chain id 138): tests/chain/ccip/deploy_send_side.js
# deploys Router 1.2.0, OnRamp/FeeQuoter/NonceManager/RMNRemote 1.6.0 and TokenAdminRegistry 1.5.0 from
# @chainlink/contracts-ccip 1.6.4's shipped bytecode, then tests/chain/ccip/send.js makes real
# Router.ccipSend calls (native fee) whose CCIPMessageSent logs come from the real OnRamp. The receive
# side (signed commit reports) is CcipEventEmitter (deploy/contracts/test), as in ccip_tail.sh.
# Checks: every ccip.msg.sent carries the message id, sequence number, nonce, sender, receiver, fee token
# and amount, data length/hash, tx, block and log index that the OnRamp's log carries (decoded twice:
# ethers with the official ABI, and cast abi-decode of `cast receipt`); then commit + execution via the
# emitter for those sequence numbers (committed, executed_success, a failure then a manual
# re-execution); GET /messages/<id> shows the full history.
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
lc() { tr 'A-F' 'a-f' <<<"$1"; }

# ---- chain, the real send side, the emitter -----------------------------------------------------------
PORT=$(free_port)
export CHAIN_LOG=$TMP/anvil.log
ANVIL_PID=$("$CHAIN" start "$PORT") || fail "anvil"
export RPC_URL=http://127.0.0.1:$PORT
node tests/chain/ccip/deploy_send_side.js >"$TMP/addrs.json" 2>"$TMP/deploy.log" || fail "deploy_send_side.js"
A() { jq -r ".$1" "$TMP/addrs.json"; }
ONRAMP=$(A onRamp) ROUTER=$(A router) NM=$(A nonceManager) WETH=$(A weth9)
SRC=$(A localChainSelector) DST=$(A destChainSelector) ME=$(A deployer)
jq -e '.typeAndVersion == {"router":"Router 1.2.0","onRamp":"OnRamp 1.6.0","feeQuoter":"FeeQuoter 1.6.0",
  "nonceManager":"NonceManager 1.6.0","rmnRemote":"RMNRemote 1.6.0","tokenAdminRegistry":"TokenAdminRegistry 1.5.0"}' \
	"$TMP/addrs.json" >/dev/null || fail "typeAndVersion: $(jq -c .typeAndVersion "$TMP/addrs.json")"
[ "$("$CHAIN" cast call --rpc-url "$RPC_URL" "$ROUTER" 'getOnRamp(uint64)(address)' "$DST")" = "$ONRAMP" ] ||
	fail "Router.getOnRamp($DST) is not the OnRamp"
[ "$("$CHAIN" cast call --rpc-url "$RPC_URL" "$ROUTER" 'isChainSupported(uint64)(bool)' "$DST")" = true ] ||
	fail "Router.isChainSupported"
ok "real send side deployed from @chainlink/contracts-ccip bytecode (Router 1.2.0, OnRamp/FeeQuoter/NonceManager/RMNRemote 1.6.0, TAR 1.5.0), lane $SRC -> $DST wired"

"$CHAIN" compile CcipEventEmitter >/dev/null 2>&1 || fail "compile CcipEventEmitter"
B=$("$CHAIN" deploy CcipEventEmitter) || fail "deploy CcipEventEmitter"
KEY0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
tx() { "$CHAIN" cast send -q --rpc-url "$RPC_URL" --private-key $KEY0 "$@" >/dev/null || fail "cast send $*"; }

# ---- bus and the tail: "src" = chain 138's real OnRamp, "dst" = the emitter's OffRamp/Router events --------
IN=tcp://127.0.0.1:$(free_port) OUT=tcp://127.0.0.1:$(free_port)
BP=$(free_port)
BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$TMP/journal HTTP_PORT=$BP HTTP_ADDR=127.0.0.1 INSTANCE=busd-crs \
	"$BUSD" 2>>"$TMP/busd.log" & PIDS+=($!)
wait_for 5 "busd /health" curl -sf "http://127.0.0.1:$BP/health"
"$TAP" --url "$OUT" --topic ccip.msg. --topic alert. --format json >"$TMP/bus.jsonl" 2>>"$TMP/tap.log" & PIDS+=($!)
wait_subscribers "$BP" 1
cat >"$TMP/ccip.json" <<JSON
{"chains":[
 {"name":"src","selector":"$SRC","chain_id":138,"rpc_url":"$RPC_URL","router":"$ROUTER","contracts":["$ONRAMP"]},
 {"name":"dst","selector":"$DST","chain_id":138,"rpc_url":"$RPC_URL","router":"$B","contracts":["$B"]}]}
JSON
HP=$(free_port)
CCIP_CONFIG=$TMP/ccip.json BUS_PUB_URL=$IN HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 DATA_DIR=$TMP/lmdb \
	MONITORING_INTERVAL=300ms CONFIRMATIONS=0 START_BLOCK=0 OVERDUE_AFTER=0 COMMIT_OVERDUE_AFTER=0 \
	INSTANCE=ccip-tail-real "$TAIL" 2>>"$TMP/tail.log" &
TAIL_PID=$!
wait_for 10 "ccip-tail /metrics" curl -sf "http://127.0.0.1:$HP/metrics"
msg() { curl -s "http://127.0.0.1:$HP/messages/$1"; }
has_state() { [ "$(msg "$1" | jq -r '.state // "none"')" = "$2" ]; }
ok "ccip-tail up on the OnRamp (chain 138, test selector $SRC) and the emitter"

# ---- three real sends ----------------------------------------------------------------------------------
R1=0x70997970C51812dc3A010C7d01b50e0d17dc79C8 R2=0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC
R3=0x90F79bf6EB2c4f870365E785982E1f101E93b906
DATA2=0x$(printf 'ab%.0s' $(seq 1 100))
node tests/chain/ccip/send.js "$TMP/addrs.json" $R1 0x68656c6c6f >"$TMP/s1.json" 2>>"$TMP/send.log" || fail "send 1: $(cat "$TMP/send.log")"
node tests/chain/ccip/send.js "$TMP/addrs.json" $R2 "$DATA2" >"$TMP/s2.json" 2>>"$TMP/send.log" || fail "send 2: $(cat "$TMP/send.log")"
node tests/chain/ccip/send.js "$TMP/addrs.json" $R3 0x v2:300000:true >"$TMP/s3.json" 2>>"$TMP/send.log" ||
	fail "send 3: $(cat "$TMP/send.log")"
S() { jq -r "$2" "$TMP/s$1.json"; }
for i in 1 2 3; do [ "$(S $i .message.sequenceNumber)" = $i ] || fail "send $i: sequence $(S $i .message.sequenceNumber)"; done
[ "$(S 1 .message.nonce)/$(S 2 .message.nonce)/$(S 3 .message.nonce)" = 1/2/0 ] ||
	fail "nonces $(S 1 .message.nonce)/$(S 2 .message.nonce)/$(S 3 .message.nonce) (want 1/2/0: the third is out-of-order)"
[ "$(S 3 .message.extraArgs)" = "$(node -e 'console.log(require("./tests/chain/ccip/lib").extraArgsV2(300000,true))')" ] ||
	fail "send 3 extraArgs $(S 3 .message.extraArgs)"
[ "$("$CHAIN" cast call --rpc-url "$RPC_URL" "$ONRAMP" 'getExpectedNextSequenceNumber(uint64)(uint64)' "$DST")" = 4 ] ||
	fail "OnRamp.getExpectedNextSequenceNumber"
[ "$("$CHAIN" cast call --rpc-url "$RPC_URL" "$NM" 'getOutboundNonce(uint64,address)(uint64)' "$DST" "$ME")" = 2 ] ||
	fail "NonceManager.getOutboundNonce"
ok "3 real Router.ccipSend (native fee = getFee; gas $(S 1 .gasUsed), $(S 2 .gasUsed), $(S 3 .gasUsed)): seq 1..3, nonces 1/2/0 (third out-of-order, EVMExtraArgsV2)"

# The OnRamp's log from `cast receipt`, decoded by cast (independently of ethers in send.js).
TUPLE='((bytes32,uint64,uint64,uint64,uint64),address,bytes,bytes,bytes,address,uint256,uint256,(address,bytes,bytes,uint256,bytes)[])'
TOPIC0=$("$CHAIN" cast keccak "CCIPMessageSent(uint64,uint64,$TUPLE)")
for i in 1 2 3; do
	"$CHAIN" cast receipt --rpc-url "$RPC_URL" --json "$(S $i .txHash)" >"$TMP/r$i.json" || fail "cast receipt $i"
	jq -e --arg a "$(lc "$ONRAMP")" --arg t "$TOPIC0" '[.logs[]|select((.address|ascii_downcase)==$a and .topics[0]==$t)]|length==1' \
		"$TMP/r$i.json" >/dev/null || fail "receipt $i: not exactly one CCIPMessageSent from the OnRamp"
	jq -c --arg a "$(lc "$ONRAMP")" '.logs[]|select((.address|ascii_downcase)==$a)' "$TMP/r$i.json" >"$TMP/l$i.json"
	"$CHAIN" cast abi-decode --json "f()($TUPLE)" "$(jq -r .data "$TMP/l$i.json")" >"$TMP/d$i.json" || fail "cast abi-decode $i"
done
ok "cast receipt: one CCIPMessageSent (topic0 $TOPIC0) from the OnRamp in each send"

wait_for 10 "three ccip.msg.sent" sh -c "[ \$(grep -c '\"ccip.msg.sent\"' '$TMP/bus.jsonl') -ge 3 ]"
num() { python3 -c 'import sys; print(int(sys.argv[1], 0))' "$1"; }
for i in 1 2 3; do
	id=$(S $i .message.messageId)
	body=$(jq -c --arg id "$id" 'select(.topic=="ccip.msg.sent" and .body.message_id==$id)|.body' "$TMP/bus.jsonl")
	[ -n "$body" ] && [ "$(wc -l <<<"$body")" = 1 ] || fail "send $i: ccip.msg.sent for $id: ${body:-none}"
	echo "$body" >"$TMP/b$i.json"
	B_() { jq -r "$1" "$TMP/b$i.json"; }
	# cast's decode: [[[id,src,dst,seq,nonce], sender, data, receiver, extraArgs, feeToken, fee, juels, tokens]],
	# read by python (jq would round the uint64/uint256s to doubles). The tail unwraps an abi-encoded EVM
	# receiver (32 bytes, 12 zero) to its 20-byte address.
	flat=$(python3 - "$TMP/d$i.json" "$TMP/l$i.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))[0]; l = json.load(open(sys.argv[2]))
rcv = d[3].lower()
if len(rcv) == 66 and rcv[2:26] == "0" * 24: rcv = "0x" + rcv[26:]
print("|".join(str(x) for x in [d[0][0], d[0][1], d[0][2], d[0][3], d[0][4], d[1].lower(), rcv, d[5].lower(), d[6],
      (len(d[2]) - 2) // 2, d[2], l["transactionHash"], int(l["blockNumber"], 0), int(l["logIndex"], 0)]))
PY
)
	IFS='|' read -r d_id d_src d_dst d_seq d_nonce d_sender d_rcv d_ftok d_fee d_dlen d_data d_tx d_blk d_li <<<"$flat"
	[ "$d_id" = "$id" ] || fail "send $i: cast's message id $d_id != ethers' $id"
	want="$id|$d_src|$d_dst|$d_seq|$d_nonce|$d_sender|$d_rcv|$d_ftok|$d_fee|$d_dlen|$("$CHAIN" cast keccak "$d_data")"
	want+="|$(lc "$ONRAMP")|$d_tx|$d_blk|$d_li|1.6"
	got="$(B_ .message_id)|$(B_ .source_chain_selector)|$(B_ .dest_chain_selector)|$(B_ .sequence_number)|$(B_ .nonce)"
	got+="|$(lc "$(B_ .sender)")|$(lc "$(B_ .receiver)")|$(lc "$(B_ .fee_token)")|$(B_ .fee_amount)|$(B_ .data_len)|$(B_ .data_hash)"
	got+="|$(lc "$(B_ .contract)")|$(B_ .tx_hash)|$(B_ .block_number)|$(B_ .log_index)|$(B_ .ccip_version)"
	[ "$got" = "$want" ] || fail "send $i: ccip.msg.sent differs from the OnRamp's log
 got  $got
 want $want"
	# and the ethers decode agrees with cast's on the fields both have
	[ "$(S $i .message.feeTokenAmount)|$(lc "$(S $i .message.feeToken)")|$(S $i .message.nonce)|$(S $i .sequenceNumber)" = \
		"$d_fee|$(lc "$WETH")|$d_nonce|$d_seq" ] || fail "send $i: ethers/cast disagree"
done
ok "each ccip.msg.sent = the OnRamp's log (id, selectors, seq, nonce, sender, receiver, fee token WETH9 + amount, data len/keccak, contract, tx, block, log index)"

# ---- the receive side through the emitter: commit 1..3, execute ------------------------------------------
ID1=$(S 1 .message.messageId) ID2=$(S 2 .message.messageId) ID3=$(S 3 .message.messageId)
tx "$B" "commit16(uint64,address,uint64,uint64,bytes32)" "$SRC" "$ONRAMP" 1 3 "$(printf '0x%064x' 77)"
for id in $ID1 $ID2 $ID3; do wait_for 10 "committed $id" has_state "$id" committed; done
ok "CommitReportAccepted (root for the real OnRamp, seq 1..3): all three committed"

tx "$B" "exec16(uint64,uint64,bytes32,uint8,bytes)" "$SRC" 1 "$ID1" 2 0x
tx "$B" "routerExecuted(bytes32,uint64)" "$ID1" "$SRC"
tx "$B" "exec16(uint64,uint64,bytes32,uint8,bytes)" "$SRC" 2 "$ID2" 2 0x
tx "$B" "exec16(uint64,uint64,bytes32,uint8,bytes)" "$SRC" 3 "$ID3" 3 0x08c379a0deadbeef
wait_for 10 "m1 executed_success" has_state "$ID1" executed_success
wait_for 10 "m2 executed_success" has_state "$ID2" executed_success
wait_for 10 "m3 executed_failure" has_state "$ID3" executed_failure
[ "$(msg "$ID3" | jq -r .message.return_data)" = 0x08c379a0deadbeef ] || fail "m3 return data: $(msg "$ID3")"
tx "$B" "exec16(uint64,uint64,bytes32,uint8,bytes)" "$SRC" 3 "$ID3" 2 0x
wait_for 10 "m3 re-executed" has_state "$ID3" executed_success
for id in $ID1 $ID2; do
	[ "$(jq -c --arg id "$id" 'select(.topic=="ccip.msg.committed" or .topic=="ccip.msg.executed_success")
		| select(.body.message_id==$id) | .topic' "$TMP/bus.jsonl" | sort -u | wc -l)" = 2 ] ||
		fail "ccip.msg.committed/executed_success for $id not on the bus"
done
wait_for 5 "ccip_failure resolved" grep -q '"alert.critical.ccip_failure".*"status":"resolved"' "$TMP/bus.jsonl"
ok "ExecutionStateChanged: m1, m2 executed_success; m3 failure (return data kept) then manual re-execution (alert resolved)"

# ---- GET /messages/<id>: the full history ----------------------------------------------------------------
[ "$(msg "$ID1" | jq -r '[.history[].state]|join(",")')" = sent,committed,executed_success ] || fail "m1 history: $(msg "$ID1")"
[ "$(msg "$ID2" | jq -r '[.history[].state]|join(",")')" = sent,committed,executed_success ] || fail "m2 history: $(msg "$ID2")"
[ "$(msg "$ID3" | jq -r '[.history[].state]|join(",")')" = sent,committed,executed_failure,executed_success ] ||
	fail "m3 history: $(msg "$ID3")"
h=$(msg "$ID1")
jq -e --arg tx "$(S 1 .txHash)" --argjson b "$(S 1 .blockNumber)" --arg src "$SRC" \
	'.history[0].tx_hash==$tx and .history[0].block_number==$b and (.history[0].chain_selector|tostring)==$src
	 and .message.sequence_number==1 and .message.nonce==1' <<<"$h" >/dev/null || fail "m1 /messages: $h"
ok "GET /messages/<id>: sent,committed,executed_success (m3: ...,executed_failure,executed_success); sent entry = the ccipSend tx"

kill -TERM "$TAIL_PID"; wait "$TAIL_PID" || fail "ccip-tail exit on SIGTERM"; TAIL_PID=""
echo "$checks checks passed (send gas: $(S 1 .gasUsed) $(S 2 .gasUsed) $(S 3 .gasUsed); fee wei: $(S 1 .fee) $(S 2 .fee) $(S 3 .fee))"
