#!/usr/bin/env bash
# The submitter against a real anvil (chain id 138) with busd: OracleAggregator deployed with anvil
# account #1 as transmitter; transactions signed by build/bin/ethtx with #1's public test key, wrapped
# into tx.signed and published with bus-tap. Checks, in order:
#   1. tx.ack, then tx.status pending -> included -> confirmed -> final with the block, and the
#      on-chain latestRoundData answer; the first RPC URL is a dead port (failover); confirmations
#      count the inclusion block as the first (ethers' wait(n)): CONFIRMATIONS=2 is one block on top
#   2. a second tx with an already used nonce -> failed, error nonce_too_low, alert nonce_gap
#   3. a tx stuck (automine off, next base fee above its fee cap) -> tx.bump; the replacement
#      (tx.signed with replaces) is mined and the original is replaced
#   4. a reorg (evm_snapshot / evm_revert after inclusion) -> reorged, re-sent, included again
#   5. /metrics passes promtool (sent, errors by class, bumps, rpc_up); gas.quote and nonce.sync
#   6. kill -9 of the submitter right after the ack, restart (CONFIRMATIONS=1) -> the tx is
#      confirmed in its inclusion block, with no block on top
#   7. reverts say why in tx.status.error_text: a custom error (selector + data, from an eth_call
#      replay) and out of gas (gas used of limit); both tx_failed alerts share one dedupe key
#   7b. the submitter's store full (a tmpfs, root): a tx is sent and mined at once but not acked; space
#      back and the signer's re-publish: found mined by its receipt, stored, acked once, confirmed
#   7c. a sent tx the node drops from its pool (anvil_dropTransaction): sent again at the next block
#   7d. nothing waits in front of a send (a logging proxy to anvil): a new tx is sent before the head
#      it records is read; one that arrives while a poll is held on its receipt read is sent right
#      after that round trip, before the tick's gas quote and nonce sync; both mined while it is
#      stopped, restarted with busd held (SIGSTOP) across the start: both confirmed once busd is up
#      (the first poll waits for its busd connection; it used to say confirmed to nobody)
#   8. RSS measured; RPC gone -> /health 503 and alert rpc_unreachable; SIGTERM exits 0
set -euo pipefail
export HTTP_PORT=${HTTP_PORT-0} # actors listen on the seed's 8000/8080 unless told: here, no HTTP unless a start asks (docs/MIGRATION.md)
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
CHAIN=tools/chain.sh
SUBMITTER=$BUILD/bin/submitter BUSD=$BUILD/bin/busd TAP=$BUILD/bin/bus-tap ETHTX=$BUILD/bin/ethtx
[ -d tests/chain/node_modules ] || { echo "submitter_anvil: run \`make deps\` first" >&2; exit 1; }

# anvil's well-known public development key #1 (never a real key).
KEY1=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
ADDR1=0x70997970C51812dc3A010C7d01b50e0d17dc79C8

. tests/lib/common.sh
SUB_PID=""
on_exit() { [ -n "$SUB_PID" ] && kill -9 "$SUB_PID" 2>/dev/null; }
checks=0
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }

# ---- chain ---------------------------------------------------------------------------------------
anvil_start
mine() { for _ in $(seq 1 "${1:-1}"); do rpc evm_mine >/dev/null; done; }
"$CHAIN" compile >/dev/null
AGG="$("$CHAIN" deploy OracleAggregator 8 "ETH / USD" 1 100000000000000 "[\"$ADDR1\"]")"
[[ "$AGG" =~ ^0x[0-9a-fA-F]{40}$ ]] || fail "deploy printed '$AGG'"
ok "anvil on $RPC_URL, OracleAggregator at $AGG (transmitter #1)"

# ---- bus and submitter ---------------------------------------------------------------------------
busd_start "$BUSD" busd-t
BUSD_PID=${PIDS[-1]}
"$TAP" --url "$OUT" --topic tx. --topic gas. --topic nonce. --topic alert. --format json --count 1000000 \
	--timeout 900 >"$TMP/tap.jsonl" 2>"$TMP/tap.log" &
PIDS+=($!)
wait_subscribers "$BP" 1
DEAD=$(free_port)
HP=$(free_port)
# SUB_RPC, SUB_POLL (also the quote and nonce sync intervals when set) and SUB_RPC_TIMEOUT change a start;
# SUB_NOWAIT=1 does not wait for busd to count the submitter's subscription (busd is held: 7d)
start_submitter() {
	RPC_URL="${SUB_RPC:-http://127.0.0.1:$DEAD,$RPC_URL}" CHAIN_ID=138 SIGNER_ADDRESS=$ADDR1 STATE_DIR="${SUB_STATE:-$TMP/state}" BUS_PUB_URL=$IN BUS_SUB_URL=$OUT \
		POLL_INTERVAL=${SUB_POLL:-200ms} CONFIRMATIONS=${CONF:-2} FINALITY_DEPTH=4 BUMP_AFTER_BLOCKS=2 BUMP_PERCENT=20 \
		GAS_QUOTE_INTERVAL=${SUB_POLL:-1s} NONCE_SYNC_INTERVAL=${SUB_POLL:-2s} RPC_TIMEOUT=${SUB_RPC_TIMEOUT:-2s} \
		HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 INSTANCE=submitter-t "$SUBMITTER" 2>>"$TMP/submitter.log" &
	SUB_PID=$!
	wait_for 5 "submitter /health" curl -s "http://127.0.0.1:$HP/health"
	[ -n "${SUB_NOWAIT:-}" ] || wait_subscribers "$BP" 2 # the tap and the submitter
}
start_submitter

# ---- helpers -------------------------------------------------------------------------------------
# mktx NONCE ANSWER MAXFEE PRIO -> raw hex
mktx() { ETHTX_KEY=$KEY1 "$ETHTX" mktx --chain 138 --nonce "$1" --gas-limit "${GASLIM:-200000}" --gas-price "$3" \
	--priority-gas-price "$4" "$AGG" 'updateAnswer(int256)' "$2"; }
# signed ID NONCE ANSWER RAW MAXFEE PRIO [REPLACES] -> tx.signed JSON
signed() {
	local h; h=$("$ETHTX" keccak "$4")
	jq -cn --arg id "$1" --argjson nonce "$2" --arg ans "$3" --arg raw "$4" --arg h "$h" --arg mf "$5" \
		--arg pf "$6" --arg rep "${7:-0x0000000000000000000000000000000000000000000000000000000000000000}" \
		--arg from "$(tr 'A-F' 'a-f' <<<"$ADDR1")" --arg to "$(tr 'A-F' 'a-f' <<<"$AGG")" \
		'{id:$id, chain_id:138, from:$from, to:$to, nonce:$nonce, tx_type:"eip1559", raw:$raw, tx_hash:$h,
		  gas_limit:200000, gas_price:"0", max_fee_per_gas:$mf, max_priority_fee_per_gas:$pf, replaces:$rep,
		  feed:"ETH-USD", answer:$ans, ref:("price.update:test:" + $id[30:]), signed_at_ns:1}'
}
publish() { "$TAP" --url "$IN" --publish tx.signed --type tx.signed --json "$1" >/dev/null 2>>"$TMP/tap.log" ||
	fail "publish"; }
hash_of() { "$ETHTX" keccak "$1"; }
# wait_tap JQ_FILTER SECONDS: a line of the tap output matching the filter (deadline x T_SLOW)
tap_has() { jq -c "select($1)" "$TMP/tap.jsonl" 2>/dev/null | grep -q .; }
wait_tap() { poll "${2:-10}" tap_has "$1"; }
status_is() { wait_tap ".topic==\"tx.status\" and .body.tx_hash==\"$1\" and .body.state==\"$2\"" "${3:-10}"; }
answer() { "$CHAIN" latest "$AGG" | tr ' ' '\n' | sed -n 's/^answer=//p'; }
GWEI=1000000000

# ---- 1. happy path, with failover past a dead first URL ------------------------------------------
RAW=$(mktx 0 300012345678 $((3 * GWEI)) $GWEI)
H1=$(hash_of "$RAW")
ID1=0x00000000000000000000000000000001
publish "$(signed $ID1 0 300012345678 "$RAW" $((3 * GWEI)) $GWEI)"
wait_tap ".topic==\"tx.ack\" and .body.id==\"$ID1\" and .body.tx_hash==\"$H1\"" || fail "no tx.ack for $ID1"
ok "tx.ack with the id and hash"
status_is "$H1" pending || fail "no pending status"
status_is "$H1" included || fail "not included"
BLK=$(jq -r "select(.topic==\"tx.status\" and .body.tx_hash==\"$H1\" and .body.state==\"included\") | .body.block_number" "$TMP/tap.jsonl" | head -1)
RCPT_BLK=$(rpc eth_getTransactionReceipt "[\"$H1\"]" | jq -r '.result.blockNumber')
[ "$((RCPT_BLK))" = "$BLK" ] || fail "included block $BLK, receipt says $RCPT_BLK"
ok "pending -> included in block $BLK (the receipt's block), through the second RPC URL"
wait_tap ".topic==\"tx.status\" and .body.tx_hash==\"$H1\" and .body.state==\"included\" and .body.confirmations==1" 1 ||
	fail "included status does not count its own block as confirmation 1"
mine 1 # one block on top: 2 confirmations (head - inclusion + 1), as ethers' wait(2) counts
status_is "$H1" confirmed || fail "not confirmed with one block on top (CONFIRMATIONS=2)"
wait_tap ".topic==\"tx.status\" and .body.tx_hash==\"$H1\" and .body.state==\"confirmed\" and .body.confirmations==2 and .body.feed==\"ETH-USD\" and .body.answer==\"300012345678\" and .body.block_number==$BLK and .body.ref==\"price.update:test:0001\"" 1 || fail "confirmed status lacks confirmations/feed/answer/block"
mine 2
status_is "$H1" final || fail "not final at 4 confirmations"
[ "$(answer)" = 300012345678 ] || fail "on-chain answer $(answer)"
ok "included = 1 confirmation, confirmed at 2 (one block on top), final at 4; feed/answer/ref copied; answer = 300012345678"

# ---- 2. nonce already used ------------------------------------------------------------------------
RAW=$(mktx 0 111 $((3 * GWEI)) $GWEI)
H2=$(hash_of "$RAW")
publish "$(signed 0x00000000000000000000000000000002 0 111 "$RAW" $((3 * GWEI)) $GWEI)"
wait_tap ".topic==\"tx.status\" and .body.tx_hash==\"$H2\" and .body.error==\"nonce_too_low\" and .body.state==\"failed\"" ||
	fail "no failed/nonce_too_low for a used nonce"
wait_tap '.topic | startswith("alert.") and endswith("nonce_gap")' || fail "no nonce_gap alert"
ok "used nonce -> failed, error nonce_too_low, alert nonce_gap"

# ---- 3. stuck -> tx.bump -> replacement wins -------------------------------------------------------
rpc evm_setAutomine '[false]' >/dev/null
RAW=$(mktx 1 222 $((2 * GWEI)) $GWEI)
H3=$(hash_of "$RAW")
ID3=0x00000000000000000000000000000003
publish "$(signed $ID3 1 222 "$RAW" $((2 * GWEI)) $GWEI)"
status_is "$H3" pending || fail "stuck tx not pending"
rpc anvil_setNextBlockBaseFeePerGas "[\"0x$(printf '%x' $((50 * GWEI)))\"]" >/dev/null
mine 1; sleep 0.5; mine 1; sleep 0.5; mine 1
[ "$(rpc eth_getTransactionReceipt "[\"$H3\"]" | jq -r .result)" = null ] || fail "the stuck tx was mined"
wait_tap ".topic==\"tx.bump\" and .body.tx_hash==\"$H3\" and .body.nonce==1" 10 || fail "no tx.bump"
MINMAX=$(jq -r "select(.topic==\"tx.bump\" and .body.tx_hash==\"$H3\") | .body.min_max_fee_per_gas" "$TMP/tap.jsonl" | head -1)
[ "$(python3 -c "print(int('$MINMAX') >= 2*$GWEI*12//10)")" = True ] || fail "bump min max fee $MINMAX < old + 20%"
ok "stuck 2+ blocks -> tx.bump (min max fee $MINMAX >= old + 20%)"
NEWFEE=$((200 * GWEI))
[ "$MINMAX" -le "$NEWFEE" ] || NEWFEE=$MINMAX
RAW=$(mktx 1 222 $NEWFEE $((2 * GWEI)))
H4=$(hash_of "$RAW")
publish "$(signed 0x00000000000000000000000000000004 1 222 "$RAW" $NEWFEE $((2 * GWEI)) "$H3")"
status_is "$H4" pending || fail "replacement not sent"
mine 1
status_is "$H4" included || fail "replacement not included"
status_is "$H3" replaced || fail "original not replaced"
wait_tap ".topic==\"tx.status\" and .body.tx_hash==\"$H3\" and .body.state==\"replaced\" and .body.replaced_by==\"$H4\"" 1 || fail "replaced_by"
rpc evm_setAutomine '[true]' >/dev/null
mine 4
status_is "$H4" final || fail "replacement not final"
ok "replacement mined; original replaced (replaced_by = replacement)"

# ---- 4. reorg -------------------------------------------------------------------------------------
SNAP=$(rpc evm_snapshot | jq -r .result)
RAW=$(mktx 2 333 $((200 * GWEI)) $((2 * GWEI)))
H5=$(hash_of "$RAW")
publish "$(signed 0x00000000000000000000000000000005 2 333 "$RAW" $((200 * GWEI)) $((2 * GWEI)))"
status_is "$H5" included || fail "reorg tx not included"
B1=$(jq -r "select(.topic==\"tx.status\" and .body.tx_hash==\"$H5\" and .body.state==\"included\") | .body.block_hash" "$TMP/tap.jsonl" | head -1)
mine 1 # a block on top, so the revert removes two
[ "$(rpc evm_revert "[\"$SNAP\"]" | jq -r .result)" = true ] || fail "evm_revert"
mine 1 # a different block at the same height
status_is "$H5" reorged || fail "no reorged status"
wait_tap "[.topic==\"tx.status\" and .body.tx_hash==\"$H5\" and .body.state==\"included\"] | any" 1
n_inc() { jq -c "select(.topic==\"tx.status\" and .body.tx_hash==\"$H5\" and .body.state==\"included\")" "$TMP/tap.jsonl" | wc -l; }
n_inc_ge2() { [ "$(n_inc)" -ge 2 ]; }
poll 10 n_inc_ge2 || true
N_INC=$(n_inc)
[ "$N_INC" -ge 2 ] || fail "not included again after the reorg"
[ "$(rpc eth_getTransactionReceipt "[\"$H5\"]" | jq -r .result.status)" = 0x1 ] || fail "no receipt after re-send"
mine 4
status_is "$H5" final || fail "reorged tx not final"
[ "$(answer)" = 333 ] || fail "answer after reorg $(answer)"
ok "reorg (block $B1 reverted) -> reorged, re-sent, included again, final; answer 333"

# ---- 5. metrics, quotes, nonce sync --------------------------------------------------------
# a tx.signed whose tx_type (eip1559) is not the type of its raw (legacy) is refused, not sent
RAW=$(ETHTX_KEY=$KEY1 "$ETHTX" mktx --legacy --chain 138 --nonce 3 --gas-limit 200000 --gas-price 0 "$AGG")
publish "$(signed 0x000000000000000000000000000000e1 3 0 "$RAW" 0 0)"
for _ in $(seq 1 100); do grep -q 'tx_type differs from the type' "$TMP/submitter.log" && break; sleep 0.1; done
grep -q 'tx_type differs from the type' "$TMP/submitter.log" || fail "tx_type/raw type mismatch not refused"
wait_tap '.topic=="gas.quote" and .body.eip1559==true and (.body.max_fee_per_gas|tonumber) > 0' || fail "no gas.quote"
wait_tap ".topic==\"nonce.sync\" and .body.latest_nonce >= 3" 5 || fail "no nonce.sync"
ok "gas.quote (eip1559) and nonce.sync published"
curl -s "http://127.0.0.1:$HP/metrics" >"$TMP/metrics.txt"
promtool check metrics <"$TMP/metrics.txt" || fail "promtool"
grep -q '^oracle_updates_sent_total [1-9]' "$TMP/metrics.txt" || fail "oracle_updates_sent_total"
grep -q '^oracle_update_errors_total{class="nonce_too_low"} [1-9]' "$TMP/metrics.txt" || fail "errors{nonce_too_low}"
grep -q '^submitter_bumps_total [1-9]' "$TMP/metrics.txt" || fail "bumps"
grep -q '^submitter_rejected_total [1-9]' "$TMP/metrics.txt" || fail "submitter_rejected_total (tx_type mismatch)"
grep -q "^submitter_rpc_up{endpoint=\"http://127.0.0.1:$PORT\"} 1" "$TMP/metrics.txt" || fail "rpc_up"
grep -q "^submitter_rpc_up{endpoint=\"http://127.0.0.1:$DEAD\"} 0" "$TMP/metrics.txt" || fail "rpc_up dead"
grep -q '^rpc_errors_total{endpoint="http://127.0.0.1:'"$DEAD"'",kind="connect"}' "$TMP/metrics.txt" || fail "rpc_errors_total"
ok "tx_type/raw type mismatch refused; /metrics passes promtool; sent, errors, bumps, rejected, rpc_up per endpoint"
# ---- 6. kill -9 after the ack ------------------------------------------------------------------------
rpc evm_setAutomine '[false]' >/dev/null
rpc anvil_setNextBlockBaseFeePerGas "[\"0x$(printf '%x' $GWEI)\"]" >/dev/null
RAW=$(mktx 3 444 $((200 * GWEI)) $((2 * GWEI)))
H6=$(hash_of "$RAW")
ID6=0x00000000000000000000000000000006
publish "$(signed $ID6 3 444 "$RAW" $((200 * GWEI)) $((2 * GWEI)))"
wait_tap ".topic==\"tx.ack\" and .body.id==\"$ID6\"" || fail "no ack before the kill"
kill -9 "$SUB_PID"
wait "$SUB_PID" 2>/dev/null || true
SUB_PID=""
CONF=1 start_submitter
wait_for 5 "restart restored the pending tx" grep -q '"pending transactions restored","count":"1"' "$TMP/submitter.log"
mine 1 # the inclusion block, nothing on top: CONFIRMATIONS=1 means "included"
status_is "$H6" confirmed 15 || fail "tx not confirmed in its inclusion block after kill -9 + restart (CONFIRMATIONS=1)"
B6=$(jq -r "select(.topic==\"tx.status\" and .body.tx_hash==\"$H6\" and .body.state==\"confirmed\") | .body.block_number" "$TMP/tap.jsonl" | head -1)
[ "$((B6))" = "$(($(rpc eth_blockNumber | jq -r .result)))" ] || fail "confirmed with blocks on top (CONFIRMATIONS=1)"
wait_tap ".topic==\"tx.status\" and .body.tx_hash==\"$H6\" and .body.state==\"confirmed\" and .body.confirmations==1" 1 ||
	fail "confirmed status lacks confirmations 1"
rpc evm_setAutomine '[true]' >/dev/null
[ "$(answer)" = 444 ] || fail "answer $(answer)"
ok "kill -9 after ack, restart: restored from LMDB, re-sent, confirmed in its inclusion block with CONFIRMATIONS=1 (answer 444)"

curl -s "http://127.0.0.1:$HP/metrics" | promtool check metrics || fail "promtool after restart"

# ---- 7. reverts: why, and one alert key -----------------------------------------------------------
RAW=$(mktx 4 0 $((200 * GWEI)) $((2 * GWEI))) # answer 0 < the aggregator's minimum 1
H7=$(hash_of "$RAW")
publish "$(signed 0x00000000000000000000000000000007 4 0 "$RAW" $((200 * GWEI)) $((2 * GWEI)))"
wait_tap ".topic==\"tx.status\" and .body.tx_hash==\"$H7\" and .body.state==\"failed\" and .body.error==\"reverted\"" ||
	fail "no failed/reverted status for a reverting tx"
TXT7=$(jq -r "select(.topic==\"tx.status\" and .body.tx_hash==\"$H7\" and .body.state==\"failed\") | .body.error_text" "$TMP/tap.jsonl" | head -1)
# AnswerOutOfBounds(int256 answer=0, int256 min=1, int256 max=1e14)
WANT7="custom error 0x6e153168(0x0,0x1,0x5af3107a4000)"
[[ "$TXT7" == "$WANT7"* ]] || fail "revert reason '$TXT7', expected '$WANT7...'"
RAW=$(GASLIM=30000 mktx 5 555 $((200 * GWEI)) $((2 * GWEI))) # the SSTORE alone needs more
H8=$(hash_of "$RAW")
publish "$(signed 0x00000000000000000000000000000008 5 555 "$RAW" $((200 * GWEI)) $((2 * GWEI)))"
wait_tap ".topic==\"tx.status\" and .body.tx_hash==\"$H8\" and .body.state==\"failed\" and .body.error_text==\"out of gas (used 30000 of limit 30000)\"" ||
	fail "out of gas not told: $(jq -r "select(.topic==\"tx.status\" and .body.tx_hash==\"$H8\") | .body.error_text" "$TMP/tap.jsonl")"
wait_tap "(.topic | startswith(\"alert.\")) and .body.kind==\"tx_failed\" and (.body.summary | contains(\"$H8\"))" 5 || fail "no tx_failed alert"
KEYS=$(jq -r 'select((.topic | startswith("alert.")) and .body.kind=="tx_failed") | .body.dedupe_key' "$TMP/tap.jsonl" | sort -u)
[ "$KEYS" = "tx_failed:reverted:ETH-USD" ] || fail "tx_failed alerts keyed per tx: $KEYS"
ok "reverts: '$TXT7'; 'out of gas (used 30000 of limit 30000)'; one tx_failed key ($KEYS)"
# ---- 7b. the store full: sent at once, acked only once stored ---------------------------------------
# The submitter sends a burst before its one commit (actors/submitter/README.md): a full disk must not
# hold the send, and must hold the ack (the signer re-publishes until acked). Its state on a small
# tmpfs (root, as disk_full.sh), filled up; then space back and the signer's re-publish.
kill -TERM "$SUB_PID"
wait "$SUB_PID" || fail "submitter exit status $? on SIGTERM"
MNT=$TMP/subfs
mkdir -p "$MNT"
mount -t tmpfs -o size=3m tmpfs "$MNT" || fail "cannot mount a tmpfs (the test needs root)"
on_exit() { [ -n "$SUB_PID" ] && kill -9 "$SUB_PID" 2>/dev/null; umount -l "$MNT" 2>/dev/null || true; }
SUB_STATE=$MNT/state start_submitter
wait_for 10 "submitter healthy on the tmpfs" sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$HP/health) = 200 ]"
dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null || true
NERR=$(grep -c 'cannot store pending transactions' "$TMP/submitter.log" || true)
RAW=$(mktx 6 666 $((200 * GWEI)) $((2 * GWEI)))
H9=$(hash_of "$RAW")
ID9=0x00000000000000000000000000000009
T9=$(signed $ID9 6 666 "$RAW" $((200 * GWEI)) $((2 * GWEI)))
publish "$T9"
mined() { [ "$(rpc eth_getTransactionReceipt "[\"$1\"]" | jq -r .result.status)" = 0x1 ]; }
wait_for 15 "the tx sent and mined while the store is full" mined "$H9"
store_failed() { [ "$(grep -c 'cannot store pending transactions' "$TMP/submitter.log")" -gt "$NERR" ]; }
wait_for 10 "the submitter's commit failing" store_failed
tap_has ".topic==\"tx.ack\" and .body.id==\"$ID9\"" && fail "tx.ack for a transaction not stored"
ok "store full: the tx is sent and mined at once, and not acked (not stored)"
rm -f "$MNT/filler"
publish "$T9" # the signer's re-publish of what it has not seen acked
wait_tap ".topic==\"tx.ack\" and .body.id==\"$ID9\" and .body.tx_hash==\"$H9\"" 15 || fail "no tx.ack once space is back"
mine 1
status_is "$H9" confirmed 15 || fail "the re-published tx not followed to confirmed"
[ "$(($(rpc eth_getTransactionCount "[\"$ADDR1\", \"latest\"]" | jq -r .result)))" = 7 ] || fail "nonce count after 7b"
[ "$(answer)" = 666 ] || fail "answer $(answer)"
ok "space back: the re-publish finds it mined (its receipt), stores it, acks it once; confirmed; nonce 6 used once"

# ---- 7c. the node forgets a sent tx: sent again -------------------------------------------------
# Once per block the submitter asks whether the node still holds each sent, unmined tx (in the same
# batch as the receipts when it follows several): one dropped from the pool is sent again.
rpc evm_setAutomine '[false]' >/dev/null
RAW=$(mktx 7 777 $((200 * GWEI)) $((2 * GWEI))); H10=$(hash_of "$RAW")
publish "$(signed 0x0000000000000000000000000000000a 7 777 "$RAW" $((200 * GWEI)) $((2 * GWEI)))"
RAW=$(mktx 8 888 $((200 * GWEI)) $((2 * GWEI))); H11=$(hash_of "$RAW")
publish "$(signed 0x0000000000000000000000000000000b 8 888 "$RAW" $((200 * GWEI)) $((2 * GWEI)))"
status_is "$H10" pending || fail "nonce 7 not pending"
status_is "$H11" pending || fail "nonce 8 not pending"
in_pool() { [ "$(rpc eth_getTransactionByHash "[\"$1\"]" | jq -r .result)" != null ]; }
resent_ge() { [ "$(curl -s "http://127.0.0.1:$HP/metrics" | awk '$1=="submitter_resent_total" {print $2}')" -ge "$1" ] 2>/dev/null; }
resent_ge 1 && fail "submitter_resent_total above 0 before anything was dropped"
DROP=$(rpc anvil_dropTransaction "[\"$H10\"]")
[ "$(jq -r '.error // empty' <<<"$DROP")" = "" ] || fail "anvil_dropTransaction: $DROP"
# the next block (without it: nonce 8 waits behind the gap) makes the submitter ask again
rpc evm_mine >/dev/null
wait_for 15 "the submitter saw the node forgot it (submitter_resent_total)" resent_ge 1
# (the counter goes up just before the log line is written: wait for it too)
wait_for 5 "a warning naming the re-sent tx" \
	grep -q "the node no longer holds the transaction: sending it again\",\"tx\":\"$H10\"" "$TMP/submitter.log"
wait_for 15 "the dropped tx sent again" in_pool "$H10"
mine 2 # mined, and one block on top (CONFIRMATIONS=2)
status_is "$H10" confirmed 15 || fail "the re-sent tx not confirmed"
status_is "$H11" confirmed 15 || fail "nonce 8 not confirmed after the gap closed"
rpc evm_setAutomine '[true]' >/dev/null
[ "$(answer)" = 888 ] || fail "answer $(answer)"
ok "a tx the node dropped from its pool is sent again at the next block (submitter_resent_total, a warning), then both mined in order"

# ---- 7d. nothing waits in front of a send ------------------------------------------------------
# Through a proxy to anvil that logs each request's methods (one line per request) and holds receipt
# reads while $TMP/hold exists:
#  - a new tx is sent before the head is read for it (that read used to cost every send one round
#    trip ahead of it): with long poll/quote/sync intervals the only requests after a publish are
#    the send, then eth_blockNumber;
#  - a tx.signed that arrives while a poll waits on the node goes out right after that round trip,
#    before the tick's gas quote and nonce sync (it used to wait for all of them).
cat >"$TMP/logproxy.py" <<'PY'
import http.client, http.server, json, os, sys, threading, time, urllib.parse
port, up, log, hold = int(sys.argv[1]), urllib.parse.urlparse(sys.argv[2]), sys.argv[3], sys.argv[4]
lock = threading.Lock()
def say(line):
    with lock, open(log, "a") as f:
        f.write(line + "\n")
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            j = json.loads(body)
            methods = ",".join(c.get("method", "?") for c in (j if isinstance(j, list) else [j]))
        except ValueError:
            methods = "?"
        say(methods)
        if "eth_getTransactionReceipt" in methods and os.path.exists(hold):
            say("held")
            while os.path.exists(hold):
                time.sleep(0.01)
            say("released")
        c = http.client.HTTPConnection(up.hostname, up.port)
        c.request("POST", "/", body, {"content-type": "application/json"})
        r = c.getresponse(); out = r.read()
        self.send_response(r.status); self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out))); self.end_headers(); self.wfile.write(out)
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
LPP=$(free_port)
: >"$TMP/rpclog"
python3 "$TMP/logproxy.py" "$LPP" "$RPC_URL" "$TMP/rpclog" "$TMP/hold" 2>"$TMP/logproxy.err" &
PIDS+=($!)
wait_for 5 "the logging proxy" curl -s -o /dev/null -X POST -d '{}' "http://127.0.0.1:$LPP"
kill -TERM "$SUB_PID"; wait "$SUB_PID" || fail "submitter exit $? on SIGTERM"
# POLL_INTERVAL (also the quote and nonce sync intervals); the default RPC timeout (5 s), not 2 s: a
# receipt read is held here longer than that
start_proxied() { SUB_RPC=http://127.0.0.1:$LPP SUB_POLL=$1 SUB_RPC_TIMEOUT=5s start_submitter; }
start_proxied 600s
# its start-up poll, quote and nonce sync done: nothing more for 600 s but what a publish causes
nonce_sync_seen() { grep -q eth_getTransactionCount "$TMP/rpclog"; }
wait_for 10 "the start-up nonce sync" nonce_sync_seen
rpc evm_setAutomine '[false]' >/dev/null
N=$(($(rpc eth_getTransactionCount "[\"$ADDR1\",\"latest\"]" | jq -r .result)))
L=$(wc -l <"$TMP/rpclog")
RAW=$(mktx $N 901 $((200 * GWEI)) $((2 * GWEI))); H12=$(hash_of "$RAW")
publish "$(signed 0x0000000000000000000000000000000c $N 901 "$RAW" $((200 * GWEI)) $((2 * GWEI)))"
status_is "$H12" pending || fail "the proxied tx not pending"
after_send_head() { tail -n +$((L + 1)) "$TMP/rpclog" | grep -q eth_blockNumber; }
wait_for 5 "the head read after the send" after_send_head
FIRST=$(tail -n +$((L + 1)) "$TMP/rpclog" | head -1)
[ "$FIRST" = eth_sendRawTransaction ] ||
	fail "the first request after a tx.signed was '$FIRST', want the send: $(tail -n +$((L + 1)) "$TMP/rpclog" | tr '\n' ' ')"
ok "a new tx goes to the node first; the head it records is read after it ($(tail -n +$((L + 1)) "$TMP/rpclog" | head -2 | tr '\n' ' '))"

# A poll held on its receipt read (the pending tx above is followed) while a tx.signed arrives.
kill -TERM "$SUB_PID"; wait "$SUB_PID" || fail "submitter exit $? on SIGTERM"
start_proxied 300ms
touch "$TMP/hold"
held() { grep -q '^held$' "$TMP/rpclog"; }
wait_for 10 "a poll's receipt read held" held
L=$(wc -l <"$TMP/rpclog")
RAW=$(mktx $((N + 1)) 902 $((200 * GWEI)) $((2 * GWEI))); H13=$(hash_of "$RAW")
publish "$(signed 0x0000000000000000000000000000000d $((N + 1)) 902 "$RAW" $((200 * GWEI)) $((2 * GWEI)))"
# busd wrote it to every tx. subscriber: the tap shows it; the submitter's reader thread takes it
# from its socket at once (the held poll is on the main thread); a moment for it under load
seen_by_tap() { tap_has ".topic==\"tx.signed\" and .body.tx_hash==\"$H13\""; }
wait_for 10 "the tx.signed through busd" seen_by_tap
sleep "$(awk -v k="$T_SLOW" 'BEGIN{print 0.25 * k}')"
rm -f "$TMP/hold"
status_is "$H13" pending || fail "the tx published during a held poll not pending"
# the requests after the release: the send comes before the tick's gas quote and nonce sync
quote_after() { tail -n +$((L + 1)) "$TMP/rpclog" | grep -qE 'eth_gasPrice|eth_getTransactionCount'; }
wait_for 10 "the tick's gas quote or nonce sync after the release" quote_after
AFTER=$(tail -n +$((L + 1)) "$TMP/rpclog" | grep -v '^released$' | tr '\n' ' ')
python3 - "$AFTER" <<'PYC' || fail "a tx.signed that came during a held poll waited for the quote/nonce sync: $AFTER"
import sys
reqs = sys.argv[1].split()
send = next(i for i, r in enumerate(reqs) if "eth_sendRawTransaction" in r)
later = [i for i, r in enumerate(reqs) if "eth_getTransactionCount" in r or "eth_gasPrice" in r]
assert later, reqs
assert send < min(later), reqs
PYC
ok "a tx.signed that arrived during a held poll was sent before the tick's gas quote and nonce sync"
# Stopped with both sent and not mined; mined, with one block on top (CONFIRMATIONS=2), while it is
# down: the restarted submitter says included and confirmed in its first poll, and no block comes
# after to say anything again. That poll must wait for its busd connection (dialing is asynchronous;
# pub/sub drops what is published with none up): busd is held (SIGSTOP) across the start, so the
# connection cannot come up before the first poll, as it sometimes did not under load.
kill -TERM "$SUB_PID"; wait "$SUB_PID" || fail "submitter exit $? on SIGTERM"
rpc evm_setAutomine '[true]' >/dev/null
mine 2
mined_both() { [ $(($(rpc eth_getTransactionCount "[\"$ADDR1\",\"latest\"]" | jq -r .result))) -ge $((N + 2)) ]; }
wait_for 10 "the two proxied txs mined" mined_both
kill -STOP "$BUSD_PID"
on_exit() { kill -CONT "$BUSD_PID" 2>/dev/null; [ -n "$SUB_PID" ] && kill -9 "$SUB_PID" 2>/dev/null; umount -l "$MNT" 2>/dev/null || true; }
SUB_NOWAIT=1 start_submitter
# the first tick has come: it polled (said confirmed to no busd) or waits for the connection
first_tick() { grep -qE "\"msg\":\"tx status\",\"tx\":\"$H13\",\"state\":\"confirmed\"|waiting for a busd connection before the first poll" "$TMP/submitter.log"; }
wait_for 10 "the restarted submitter's first tick" first_tick
kill -CONT "$BUSD_PID"
wait_subscribers "$BP" 2
status_is "$H12" confirmed 15 || fail "the proxied tx $H12 not confirmed after the restart (said before busd was connected?)"
status_is "$H13" confirmed 15 || fail "the proxied tx $H13 not confirmed after the restart (said before busd was connected?)"
ok "restarted with both mined while it was down, busd held across the start: both confirmed once busd is up"

# ---- RSS
RSS=$(awk '/VmRSS/ {print $2}' "/proc/$SUB_PID/status")
HWM=$(awk '/VmHWM/ {print $2}' "/proc/$SUB_PID/status")
echo "submitter RSS ${RSS} KiB (peak ${HWM} KiB)"
ok "RSS measured"

# ---- RPC down -> degraded, then back ------------------------------------------------------------
"$CHAIN" stop "$ANVIL_PID"
ANVIL_PID=""
health_503() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/health")" = 503 ]; }
poll 6 health_503 || true
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/health")" = 503 ] || fail "health not degraded"
wait_tap '.topic | endswith("rpc_unreachable")' 5 || fail "no rpc_unreachable alert"
ok "no RPC endpoint -> /health 503 and alert rpc_unreachable"
kill -TERM "$SUB_PID"
wait "$SUB_PID" || fail "submitter exit status $? on SIGTERM"
SUB_PID=""
ok "SIGTERM: clean exit"
echo "submitter_anvil: $checks checks passed"
