#!/usr/bin/env bash
# Many feeds per transaction on a real chain (issue 12): anvil, N (10) OracleAggregators per mode,
# busd, the gate (FEEDS_FILE), the signer and the submitter; aggregates injected with bus-tap.
#  S. BATCH_CALL=off: N feeds, N transactions (the reference for gas per feed);
#  U. BATCH_CALL=updateAnswers through OracleBatcher (the aggregators' only transmitter): the N
#     feeds due together go out in ONE transaction, except feed 3 whose aggregator's bounds make
#     its call revert: the batch's eth_call takes it out before sending (a failure of that feed:
#     backoff), the N-1 others land in one tx; once its bounds are lifted, it lands after its backoff;
#  M. the same with BATCH_CALL=aggregate3 through Multicall3 (its runtime code set at the
#     canonical address; the aggregators list Multicall3 as transmitter - on anvil only: see
#     deploy/README.md, anyone can call Multicall3).
#  B. a stuck batch: the base fee raised far above the M batch's fee cap, the batch of all N feeds
#     (aggregate3: more than 2 KB of calldata) waits unmined; the submitter asks a tx.bump after
#     BUMP_AFTER_BLOCKS, the signer signs a replacement with the same calldata (it once refused any
#     batch longer than 2 KB as "does not decode", so a stuck batch was never replaced) and it lands.
# Every answer is read back from the chain; gas per feed update comes from the gate's
# gate_landed_gas_total / gate_landed_updates_total and is printed for each mode.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD=${BUILD:-build}
B=$BUILD/bin CHAIN=$ROOT/tools/chain.sh
for b in busd bus-tap gate signer submitter; do [ -x "$B/$b" ] || { echo "missing $B/$b (run make)"; exit 1; }; done
[ -x "$ROOT/tests/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" ] ||
	{ echo "SKIP: tests/chain/node_modules missing (make deps)"; exit 0; }
FAIL_TAIL=30
N=${BATCH_FEEDS:-10}
CUL=3 # the feed whose call reverts in the batched modes
KEY0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 # anvil public dev key #0 (deployer)
KEY1=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d # anvil public dev key #1 (signer)
ADDR1=0x70997970C51812dc3A010C7d01b50e0d17dc79C8

export ANVIL_ARGS="--block-time 1" CHAIN_LOG=$TMP/anvil.log
anvil_start
"$CHAIN" compile OracleAggregator OracleBatcher >/dev/null 2>"$TMP/deploy.log"
BATCHER=$("$CHAIN" deploy OracleBatcher "[\"$ADDR1\"]" 2>>"$TMP/deploy.log")
MC=$("$CHAIN" deploy-multicall3 2>>"$TMP/deploy.log")
[[ "$BATCHER" =~ ^0x[0-9a-fA-F]{40}$ && "$MC" =~ ^0x[0-9a-fA-F]{40}$ ]] || fail "deploy printed '$BATCHER' '$MC'"
declare -A TXR=([S]=$ADDR1 [U]=$BATCHER [M]=$MC)
for m in S U M; do
	(cd "$ROOT/tests/chain" && node deploy-feeds.js "$N" "${TXR[$m]}") >"$TMP/$m.addrs" 2>>"$TMP/deploy.log" ||
		fail "deploy-feeds $m"
	[ "$(wc -l <"$TMP/$m.addrs")" -eq "$N" ] || fail "deploy-feeds $m printed $(wc -l <"$TMP/$m.addrs") addresses"
done
addr() { sed -n "$(($2 + 1))p" "$TMP/$1.addrs"; } # mode index
cast_send() { "$CHAIN" cast send --rpc-url "$RPC_URL" --private-key "$KEY0" "$@" >/dev/null; }
for m in U M; do cast_send "$(addr $m $CUL)" 'setAnswerBounds(int256,int256)' 1 2; done
echo "batcher $BATCHER, multicall3 $MC, $N aggregators per mode on $RPC_URL"

feeds_json() { # mode -> {"feeds":[...]} for the gate
	local m=$1 i sep=
	printf '{"feeds":['
	for ((i = 0; i < N; i++)); do printf '%s{"feed":"%s%d-USD","aggregator":"%s"}' "$sep" "$m" "$i" "$(addr "$m" $i)"; sep=,; done
	printf ']}\n'
}
{
	printf '{"feeds":['
	sep=
	for m in S U M; do for ((i = 0; i < N; i++)); do
		printf '%s{"feed":"%s%d-USD","aggregator":"%s"}' "$sep" "$m" "$i" "$(addr $m $i)"; sep=,
	done; done
	printf ']}\n'
} >"$TMP/signer-feeds.json"

busd_start "$B/busd" busd-b
{ read -r _ GSEC; read -r _ GPUB; } < <("$B/bus-tap" --keygen)
{ read -r _ SSEC; read -r _ SPUB; } < <("$B/bus-tap" --keygen)
{ read -r _ XSEC; read -r _ XPUB; } < <("$B/bus-tap" --keygen)
export BUS_PUB_URL=$IN BUS_SUB_URL=$OUT
"$B/bus-tap" --url "$OUT" --topic price.update. --topic tx.status --topic tx.signed --timeout 900 >"$TMP/tap.out" \
	2>"$TMP/tap.log" &
PIDS+=($!)
wait_subscribers "$BP" 1
BUS_SIGNING_KEY=$XSEC BUS_TRUST="tx.signed=$SPUB" STATE_DIR=$TMP/submitter CHAIN_ID=138 SIGNER_ADDRESS=$ADDR1 \
	CONFIRMATIONS=1 FINALITY_DEPTH=3 POLL_INTERVAL=200ms NONCE_SYNC_INTERVAL=2s GAS_QUOTE_INTERVAL=2s \
	INSTANCE=submitter-b "$B/submitter" 2>"$TMP/submitter.log" &
PIDS+=($!)
SGP=$(free_port)
PRIVATE_KEY=$KEY1 BUS_SIGNING_KEY=$SSEC STATE_DIR=$TMP/signer CHAIN_ID=138 GAS_PRICE=auto \
	BUS_TRUST="price.update.=$GPUB;tx.ack=$XPUB;tx.bump=$XPUB;gas.quote=$XPUB;nonce.sync=$XPUB" \
	ALLOWED_CONTRACTS="$BATCHER,$MC" FEEDS_FILE="$TMP/signer-feeds.json" MIN_ANSWER=1 MAX_ANSWER=100000 \
	OUTBOX_RETRY=1s HTTP_PORT=$SGP HTTP_ADDR=127.0.0.1 INSTANCE=signer-b "$B/signer" 2>"$TMP/signer.log" &
PIDS+=($!)
wait_subscribers "$BP" 3
wait_for 10 "signer ready (nonce.sync, gas.quote)" curl -sf "http://127.0.0.1:$SGP/health"

GP= GPID=
start_gate() { # mode batch_call contract
	local m=$1
	feeds_json "$m" >"$TMP/gate-$m.json"
	GP=$(free_port)
	BUS_SIGNING_KEY=$GSEC BUS_TRUST="tx.status=$XPUB" FEEDS_FILE="$TMP/gate-$m.json" CHAIN_ID=138 \
		TRANSMITTER=$ADDR1 DEVIATION_THRESHOLD=0.5 HEARTBEAT=1h MIN_INTERVAL=1s BACKOFF_MAX=8s \
		UPDATE_TIMEOUT=60s CHAIN_POLL=2s BATCH_CALL="$2" BATCH_CONTRACT="$3" BATCH_MAX="$N" BATCH_WINDOW=5s \
		STATE_DIR=$TMP/gate-$m HTTP_PORT=$GP HTTP_ADDR=127.0.0.1 INSTANCE=gate-$m \
		"$B/gate" 2>>"$TMP/gate-$m.log" &
	GPID=$!
	PIDS+=($GPID)
	wait_for 5 "gate $m /health" curl -sf "http://127.0.0.1:$GP/metrics"
	wait_subscribers "$BP" 4
	wait_for 10 "gate $m read every feed" reads_ge "$m" "$N"
}
reads_ge() { [ "$(grep -c '"on-chain answer"' "$TMP/gate-$1.log" 2>/dev/null)" -ge "$2" ]; }
stop_gate() { kill "$GPID" 2>/dev/null; wait "$GPID" 2>/dev/null || true; }
price() { echo $((300000000000 + $2 * 100000000 + ${3:-0})); } # mode index [delta]: 3000 + i dollars
agg() { # feed median
	local t; t=$(date +%s%N)
	"$B/bus-tap" --url "$IN" --publish "price.agg.$1" --origin median-b --json \
		"{\"feed\":\"$1\",\"median\":\"$2\",\"decimals\":8,\"used\":[{\"source\":\"a\",\"value\":\"$2\",\"observed_at_ns\":$t},{\"source\":\"b\",\"value\":\"$2\",\"observed_at_ns\":$t}],\"spread_ppm\":0,\"oldest_observed_at_ns\":$t,\"aggregated_at_ns\":$t}" \
		2>>"$TMP/pub.log" || fail "publish agg $1"
}
answer() { "$CHAIN" latest "$1" | sed -n 's/.*answer=\([-0-9]*\).*/\1/p'; }
answer_is() { [ "$(answer "$1")" = "$2" ]; }
landed_all() { # mode skip: every feed but skip shows its price
	local i
	for ((i = 0; i < N; i++)); do
		[ "$i" = "$2" ] && continue
		answer_is "$(addr "$1" $i)" "$(price "$1" $i)" || return 1
	done
}
metric() { metric_at "$GP" "$1"; }
metric_ge() { local v; v=$(metric "$1"); [ "${v:-0}" -ge "$2" ]; }
# distinct confirmed transactions whose tx.status refs one of the gate's updates of mode m
txs_of() {
	python3 - "$TMP/tap.out" "$1" <<'PY'
import json, sys
ids, txs, feeds = set(), set(), 0
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
for l in lines:
    b = l.get("body", {})
    if l.get("topic", "").startswith("price.update."):
        names = [e["feed"] for e in b.get("batch", [])] or [b.get("feed", "")]
        if any(n.startswith(sys.argv[2]) for n in names):
            ids.add(l["id"][2:])
for l in lines:
    b = l.get("body", {})
    if l.get("topic") == "tx.status" and b.get("state") == "confirmed" and b.get("ref") in ids:
        txs.add(b["tx_hash"])
print(len(txs))
PY
}
gas_per_feed() { # mode label -> prints and sets GAS_<label>
	local g u
	g=$(metric "gate_landed_gas_total{mode=\"$1\"}") u=$(metric "gate_landed_updates_total{mode=\"$1\"}")
	[ "${u:-0}" -gt 0 ] || fail "no landed update counted for mode $1"
	echo $((g / u))
}

publish_all() { # mode
	local i
	for ((i = 0; i < N; i++)); do agg "$1$i-USD" "$(price "$1" $i)"; done
}

echo "== S. one transaction per feed"
start_gate S off ""
publish_all S
wait_for 30 "every S feed on chain" landed_all S -1
wait_for 10 "the gate counted every S update" metric_ge 'gate_landed_updates_total{mode="single"}' "$N"
[ "$(txs_of S)" -eq "$N" ] || fail "S: $(txs_of S) transactions for $N feeds"
GAS_S=$(gas_per_feed single)
stop_gate

for m in U M; do
	if [ $m = U ]; then call=updateAnswers to=$BATCHER; else call=aggregate3 to=$MC; fi
	echo "== $m. $call: $N feeds due together, feed $CUL reverts"
	start_gate $m $call "$to"
	publish_all $m
	wait_for 30 "every $m feed but $CUL on chain" landed_all $m $CUL
	wait_for 10 "the gate counted $((N - 1)) batched updates" metric_ge 'gate_landed_updates_total{mode="batched"}' $((N - 1))
	[ "$(txs_of $m)" -eq 1 ] || fail "$m: $(txs_of $m) transactions for $((N - 1)) feeds, want 1"
	[ "$(metric gate_batch_culprits_total)" -ge 1 ] || fail "$m: no culprit counted"
	metric_ge "gate_update_failures_total{feed=\"$m$CUL-USD\"}" 1 || fail "$m: the culprit's failure not counted"
	[ "$(answer "$(addr $m $CUL)")" = 0 ] || fail "$m: the culprit has an answer"
	grep -q "\"feed\":\"$m$CUL-USD\".*call in the batch: custom error 0x" "$TMP/gate-$m.log" ||
		fail "$m: the culprit's failure does not say its revert"
	for ((i = 0; i < N; i++)); do
		[ $i = $CUL ] || metric_ge "gate_update_failures_total{feed=\"$m$i-USD\"}" 1 && [ $i != $CUL ] &&
			fail "$m: feed $i counted a failure"
	done
	gas=$(gas_per_feed batched)
	eval "GAS_$m=$gas"
	# the culprit's contract fixed: it lands after its backoff (BACKOFF_MAX 8 s), through the batch
	cast_send "$(addr $m $CUL)" 'setAnswerBounds(int256,int256)' 0 0
	wait_for 30 "$m$CUL lands once its bounds are lifted" answer_is "$(addr $m $CUL)" "$(price $m $CUL)"
	wait_for 10 "$m$CUL's failure count cleared" metric_ge "gate_consecutive_failures{feed=\"$m$CUL-USD\"}" 0
	[ $m = M ] || stop_gate
done

echo "== B. a stuck batch of $N feeds (aggregate3, more than 2 KB of calldata) is replaced and lands"
# replacements of a batch: tx.signed of the batch whose replaces is set, and their calldata's length
replaced_batches() {
	python3 - "$TMP/tap.out" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    l = json.loads(line)
    b = l.get("body", {})
    if l.get("topic") == "tx.signed" and b.get("feed") == "batch" and b.get("replaces", "0x").strip("0x"):
        print(b["nonce"], len(b["raw"]) // 2 - 2)
PY
}
# batches the node took (a tx.status pending whose ref is a batch's price.update)
batches_pending() {
	python3 - "$TMP/tap.out" <<'PY'
import json, sys
ids, n = set(), 0
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    l = json.loads(line)
    b = l.get("body", {})
    if l.get("topic", "").startswith("price.update.") and b.get("batch"):
        ids.add(l["id"][2:])
    elif l.get("topic") == "tx.status" and b.get("state") == "pending" and b.get("ref") in ids:
        n += 1
print(n)
PY
}
# Mining by hand from here (as key_inflight.sh 5): the batch must be in the pool, signed at the
# quote of before, when the base fee jumps; with blocks every second a gas.quote taken after the
# jump could price it high enough to be mined at once.
P0=$(batches_pending)
rpc evm_setIntervalMining '[0]' >/dev/null
MOVE=3000000000 # +30 dollars: past DEVIATION_THRESHOLD (0.5 %) for every feed
for ((i = 0; i < N; i++)); do agg "M$i-USD" "$(price M $i $MOVE)"; done
batch_taken() { [ "$(batches_pending)" -gt "$P0" ]; }
wait_for 30 "the node took the batch of the $N moves" batch_taken
GWEI=1000000000
rpc anvil_setNextBlockBaseFeePerGas "[\"0x$(printf '%x' $((50 * GWEI)))\"]" >/dev/null
batch_replaced() { [ -n "$(replaced_batches)" ]; }
mine_by_hand 20 0.4 batch_replaced # blocks the stuck batch cannot enter; BUMP_AFTER_BLOCKS (3) ask a bump
wait_for 30 "a replacement of the stuck batch signed" batch_replaced
rpc evm_setIntervalMining '[1]' >/dev/null
read -r RN RLEN < <(replaced_batches | head -1)
[ "$RLEN" -gt 2200 ] || fail "the replaced batch's raw tx is $RLEN bytes: want more than 2 KB of calldata"
for ((i = 0; i < N; i++)); do
	wait_for 30 "M$i-USD's new answer on chain (the replacement mined)" answer_is "$(addr M $i)" "$(price M $i $MOVE)"
done
echo "ok: the stuck batch (nonce $RN, $RLEN-byte raw tx) was replaced by a tx.bump and every feed's answer landed"
stop_gate

echo "gas per feed update, $N feeds: single $GAS_S, updateAnswers $GAS_U ($((N - 1)) per tx), aggregate3 $GAS_M ($((N - 1)) per tx)"
[ "$GAS_U" -lt "$GAS_S" ] || fail "updateAnswers costs $GAS_U gas per feed, single $GAS_S"
[ "$GAS_M" -lt "$GAS_S" ] || fail "aggregate3 costs $GAS_M gas per feed, single $GAS_S"
echo "gate_batch: ok"
