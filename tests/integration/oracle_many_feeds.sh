#!/usr/bin/env bash
# The oracle end to end with many feeds (issue 12): N (50) OracleAggregators on anvil, each
# listing the signer's address AND an OracleBatcher as transmitters; price-sim (two instances: 32
# feeds each at most), three fetchers (one per source: coinbase, binance, kraken; each prices every
# feed from one CONFIG_FILE), the median, the gate (FEEDS_FILE), the signer and the submitter.
#  1. single: every feed's first answer lands, one transaction per feed; each on-chain answer is
#     read back and compared with the price its sources serve;
#  2. batched: a gate with BATCH_CALL=updateAnswers (a state directory of its own) follows the
#     chain; every price moves 2 %, and every feed's new answer lands through batches (at most N/4
#     transactions; 1 on an idle machine), each read back and compared with its sources;
#  3. single again, every price 4 %: the same kind of update as the batch's, for gas per feed.
# Gas per feed update of both phases is printed (gate_landed_gas_total / gate_landed_updates_total).
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD=${BUILD:-build}
B=$BUILD/bin CHAIN=$ROOT/tools/chain.sh
for b in busd bus-tap price-sim fetcher median gate signer submitter; do
	[ -x "$B/$b" ] || { echo "missing $B/$b (run make)"; exit 1; }
done
[ -x "$ROOT/tests/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" ] ||
	{ echo "SKIP: tests/chain/node_modules missing (make deps)"; exit 0; }
FAIL_TAIL=20
N=${MANY_FEEDS:-50}
KEY1=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d # anvil public dev key #1 (signer)
ADDR1=0x70997970C51812dc3A010C7d01b50e0d17dc79C8

export ANVIL_ARGS="--block-time 1" CHAIN_LOG=$TMP/anvil.log
anvil_start
"$CHAIN" compile OracleAggregator OracleBatcher >/dev/null 2>"$TMP/deploy.log"
BATCHER=$("$CHAIN" deploy OracleBatcher "[\"$ADDR1\"]" 2>>"$TMP/deploy.log")
[[ "$BATCHER" =~ ^0x[0-9a-fA-F]{40}$ ]] || fail "deploy printed '$BATCHER'"
(cd "$ROOT/tests/chain" && node deploy-feeds.js "$N" "$ADDR1,$BATCHER") >"$TMP/aggs" 2>>"$TMP/deploy.log" ||
	fail "deploy-feeds"
[ "$(wc -l <"$TMP/aggs")" -eq "$N" ] || fail "deploy-feeds printed $(wc -l <"$TMP/aggs") addresses"
feed() { printf 'F%02d-USD' "$1"; }
addr() { sed -n "$(($1 + 1))p" "$TMP/aggs"; }
echo "$N aggregators and OracleBatcher $BATCHER on $RPC_URL"

# Prices: feed i at (1000 + 10 i).25 in phase 0, then 2 % more (phase 1), 4 % more (phase 2):
# PX<p> as decimals (what the sources serve), FX<p> in the feeds' fixed point (8 decimals).
for p in 0 1 2; do
	mapfile -t "PX$p" < <(python3 -c "for i in range($N): print('%.2f' % ((1000 + 10 * i + 0.25) * (1 + 0.02 * $p)))")
	eval 'mapfile -t FX'$p' < <(printf "%s\n" "${PX'$p'[@]}" | python3 -c "import sys; [print(int(round(float(l) * 100)) * 10**6) for l in sys.stdin]")'
done
px() { local -n a=PX$2; echo "${a[$1]}"; }
sims=() SIMS=()
for ((h = 0; h * 32 < N; h++)); do
	args=()
	for ((i = h * 32; i < N && i < (h + 1) * 32; i++)); do args+=(--feed "$(feed $i)=$(px $i 0)"); done
	sim_start "$B/price-sim" "sim$h" "${args[@]}"
	SIMS+=("$SIMURL")
done
sim_of() { echo "${SIMS[$(($1 / 32))]}"; }

busd_start "$B/busd" busd-m
{ read -r _ GSEC; read -r _ GPUB; } < <("$B/bus-tap" --keygen)
{ read -r _ SSEC; read -r _ SPUB; } < <("$B/bus-tap" --keygen)
{ read -r _ XSEC; read -r _ XPUB; } < <("$B/bus-tap" --keygen)
export BUS_PUB_URL=$IN BUS_SUB_URL=$OUT LOG_LEVEL=${LOG_LEVEL:-info}
"$B/bus-tap" --url "$OUT" --topic price.update. --topic tx.status --timeout 1800 >"$TMP/tap.out" 2>"$TMP/tap.log" &
PIDS+=($!)
wait_subscribers "$BP" 1

# one fetcher per source, every feed in its CONFIG_FILE
for s in coinbase binance kraken; do
	python3 - "$N" "$s" "${SIMS[@]}" >"$TMP/fetch-$s.json" <<'PY'
import json, sys
n, src, sims = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
feeds = []
for i in range(n):
    name = "F%02d-USD" % i
    base = sims[i // 32]
    url = {"coinbase": "%s/v2/prices/%s/spot" % (base, name),
           "binance": "%s/api/v3/ticker/price?symbol=F%02dUSDT" % (base, i),
           "kraken": "%s/0/public/Ticker?pair=F%02dUSD" % (base, i)}[src]
    feeds.append({"feed": name, "decimals": 8, "sources": [{"name": src, "kind": src, "url": url}]})
print(json.dumps({"feeds": feeds}))
PY
	CONFIG_FILE="$TMP/fetch-$s.json" FETCH_INTERVAL=1s HTTP_TIMEOUT=2s RETRIES=0 INSTANCE=fetcher-$s \
		"$B/fetcher" 2>"$TMP/fetcher-$s.log" &
	PIDS+=($!)
done
WINDOW=5s QUORUM=2 MAX_DEVIATION=2 MAX_SPREAD=5 AGG_INTERVAL=500ms MIN_PUBLISH_INTERVAL=1s INSTANCE=median-m \
	"$B/median" 2>"$TMP/median.log" &
PIDS+=($!)

python3 - "$N" "$TMP/aggs" >"$TMP/feeds.json" <<'PY'
import json, sys
n, addrs = int(sys.argv[1]), open(sys.argv[2]).read().split()
print(json.dumps({"feeds": [{"feed": "F%02d-USD" % i, "aggregator": addrs[i]} for i in range(n)]}))
PY
BUS_SIGNING_KEY=$XSEC BUS_TRUST="tx.signed=$SPUB" STATE_DIR=$TMP/submitter CHAIN_ID=138 SIGNER_ADDRESS=$ADDR1 \
	CONFIRMATIONS=1 FINALITY_DEPTH=3 POLL_INTERVAL=200ms NONCE_SYNC_INTERVAL=2s GAS_QUOTE_INTERVAL=2s \
	INSTANCE=submitter-m "$B/submitter" 2>"$TMP/submitter.log" &
PIDS+=($!)
SGP=$(free_port)
PRIVATE_KEY=$KEY1 BUS_SIGNING_KEY=$SSEC STATE_DIR=$TMP/signer CHAIN_ID=138 GAS_PRICE=auto MAX_GAS_LIMIT=8000000 \
	BUS_TRUST="price.update.=$GPUB;tx.ack=$XPUB;tx.bump=$XPUB;gas.quote=$XPUB;nonce.sync=$XPUB" \
	ALLOWED_CONTRACTS="$BATCHER" FEEDS_FILE="$TMP/feeds.json" MIN_ANSWER=1 MAX_ANSWER=100000 \
	OUTBOX_RETRY=1s HTTP_PORT=$SGP HTTP_ADDR=127.0.0.1 INSTANCE=signer-m "$B/signer" 2>"$TMP/signer.log" &
PIDS+=($!)
wait_for 15 "signer ready (nonce.sync, gas.quote)" curl -sf "http://127.0.0.1:$SGP/health"

GP= GPID=
start_gate() { # phase batch_call
	GP=$(free_port)
	BUS_SIGNING_KEY=$GSEC BUS_TRUST="tx.status=$XPUB" FEEDS_FILE="$TMP/feeds.json" CHAIN_ID=138 \
		TRANSMITTER=$ADDR1 DEVIATION_THRESHOLD=1 HEARTBEAT=1h MIN_INTERVAL=1s UPDATE_TIMEOUT=60s CHAIN_POLL=5s \
		GAS_LIMIT_MAX=8000000 BATCH_CALL="$2" BATCH_CONTRACT="$BATCHER" BATCH_MAX=64 BATCH_WINDOW=6s \
		STATE_DIR=$TMP/gate-$1 HTTP_PORT=$GP HTTP_ADDR=127.0.0.1 INSTANCE=gate-$1 \
		"$B/gate" 2>>"$TMP/gate-$1.log" &
	GPID=$!
	PIDS+=($GPID)
	wait_for 5 "gate $1 /metrics" curl -sf "http://127.0.0.1:$GP/metrics"
}
stop_gate() { kill "$GPID" 2>/dev/null; wait "$GPID" 2>/dev/null || true; }
answer() { "$CHAIN" latest "$1" | sed -n 's/.*answer=\([-0-9]*\).*/\1/p'; }
answer_is() { [ "$(answer "$1")" = "$2" ]; }
# every feed's on-chain answer equals what its sources serve (price-sim's own state, all sources alike)
all_landed() { # moved
	local i want
	for ((i = 0; i < N; i++)); do
		local -n fx=FX$1
		want=${fx[$i]}
		wait_for 60 "$(feed $i) on chain = $want (its sources' price)" answer_is "$(addr $i)" "$want"
	done
}
metric() { metric_at "$GP" "$1"; }
metric_ge() { local v; v=$(metric "$1"); [ "${v:-0}" -ge "$2" ]; }
txs() { # mode: distinct confirmed transactions of the gate's updates (single: feed F*, batched: feed batch)
	python3 - "$TMP/tap.out" "$1" <<'PY'
import json, sys
txs = set()
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    l = json.loads(line)
    b = l.get("body", {})
    if l.get("topic") == "tx.status" and b.get("state") == "confirmed":
        if (sys.argv[2] == "batched") == (b.get("feed") == "batch"):
            txs.add(b["tx_hash"])
print(len(txs))
PY
}

set_prices() { # phase
	local i
	for ((i = 0; i < N; i++)); do
		curl -sf -X POST "$(sim_of $i)/ctl/set?feed=$(feed $i)&price=$(px $i "$1")" >/dev/null ||
			fail "price-sim set $(feed $i)"
	done
}
gas_per_feed() { echo $(($(metric "gate_landed_gas_total{mode=\"$1\"}") / $(metric "gate_landed_updates_total{mode=\"$1\"}"))); }

echo "== 1. single: $N feeds, one transaction each (first answers)"
start_gate single off
all_landed 0
# Three sources per feed, so a median is one source's price: with one source failing, the median
# of two is their mean while a move is half seen, and the rest of a 2 % move from that mean is under
# the 1 % threshold (kraken's pair was once misnamed here: a feed stuck at the mean, 1 run in ~10).
for s in coinbase binance kraken; do
	if line=$(grep -m1 '"source failing"' "$TMP/fetcher-$s.log"); then fail "fetcher-$s: a source failing ($line)"; fi
done
wait_for 20 "the gate counted $N landed updates" metric_ge 'gate_landed_updates_total{mode="single"}' "$N"
[ "$(txs single)" -eq "$N" ] || fail "$(txs single) transactions for $N single updates"
GAS_FIRST=$(gas_per_feed single)
stop_gate

echo "== 2. batched (updateAnswers): every price +2 %"
start_gate batched updateAnswers
set_prices 1
all_landed 1
wait_for 20 "the gate counted $N batched updates" metric_ge 'gate_landed_updates_total{mode="batched"}' "$N"
T=$(txs batched)
[ "$T" -ge 1 ] && [ "$T" -le $((N / 4)) ] || fail "$T batch transactions for $N feeds"
GAS_B=$(gas_per_feed batched)
for ((i = 0; i < N; i++)); do
	[ "$(metric "gate_update_failures_total{feed=\"$(feed $i)\"}")" = 0 ] || fail "$(feed $i) counted a failure"
done
stop_gate

echo "== 3. single again: every price +4 % (the same kind of update as the batch's)"
start_gate single2 off
set_prices 2
all_landed 2
wait_for 20 "the gate counted $N landed updates" metric_ge 'gate_landed_updates_total{mode="single"}' "$N"
GAS_S=$(gas_per_feed single)
stop_gate
echo "gas per feed update, $N feeds: single $GAS_S, batched $GAS_B ($N feeds in $T transaction(s)); a feed's first answer single: $GAS_FIRST"
[ "$GAS_B" -lt "$GAS_S" ] || fail "batched $GAS_B gas per feed, single $GAS_S"
echo "oracle_many_feeds: ok"
