#!/usr/bin/env bash
# make demo: the Oracle Publisher on a local chain, end to end, until Ctrl-C.
#
#   anvil (chain id 138, 1 s blocks) + OracleAggregator      deploy/local/local-chain.sh
#   price-sim (random walk, real CoinGecko/Binance/Coinbase/Kraken formats)
#   busd, 3 fetchers, median, gate, signer, submitter        with bus keys and trust lists
#
# Shows the bus (bus-tap, pretty) and the contract's latestRoundData every few seconds. Ctrl-C
# stops everything it started. Env: DEMO_SECONDS (stop by itself after that long, for tests),
# CHAIN_PORT (8545), DEVIATION_THRESHOLD (0.5), HEARTBEAT (30s), DEMO_DIR (build/demo),
# DEMO_HTTP_BASE (9100: busd, then fetchers, median, gate, signer, submitter on the next ports).
set -euo pipefail
export HTTP_PORT=${HTTP_PORT-0} # actors listen on the seed's 8000/8080 unless told: here, no HTTP unless a start asks (docs/MIGRATION.md)
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
B=build/bin
DIR=${DEMO_DIR:-$ROOT/build/demo}
mkdir -p "$DIR/logs"
rm -rf "$DIR/state"
declare -a PIDS=()
CHAIN_STARTED=

stop_all() {
	trap - INT TERM EXIT
	echo
	echo "demo: stopping"
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	sleep 0.5
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "$CHAIN_STARTED" ] && CHAIN_ENV=$DIR/chain.env deploy/local/local-chain.sh down >/dev/null 2>&1 || true
	echo "demo: stopped (logs in $DIR/logs)"
}
trap stop_all INT TERM EXIT
run() {  # name cmd... : start in the background, log to $DIR/logs/name.log
	local name=$1; shift
	"$@" 2>"$DIR/logs/$name.log" &
	PIDS+=($!)
}

# The signer's transaction key: anvil's well-known public dev key #1 (never a real key).
export PRIVATE_KEY=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d # anvil public dev key #1
echo "demo: starting the chain and deploying OracleAggregator ..."
ANVIL_ARGS="--block-time 1" CHAIN_ENV=$DIR/chain.env FEEDS=ETH-USD deploy/local/local-chain.sh up >"$DIR/logs/chain.log" 2>&1 ||
	{ cat "$DIR/logs/chain.log"; exit 1; }
CHAIN_STARTED=1
# shellcheck disable=SC1091
. "$DIR/chain.env"
export RPC_URL
echo "demo: chain $RPC_URL (id $CHAIN_ID), aggregator $AGGREGATOR_ADDRESS, transmitter $TRANSMITTER"

# Bus keys: the signer trusts price.update only from the gate; the submitter trusts tx.signed only
# from the signer; the signer and the gate trust the submitter's messages.
key() { "$B/bus-tap" --keygen; }
{ read -r _ GSEC; read -r _ GPUB; } < <(key)
{ read -r _ SSEC; read -r _ SPUB; } < <(key)
{ read -r _ XSEC; read -r _ XPUB; } < <(key)
IN=ipc://$DIR/bus-in.ipc OUT=ipc://$DIR/bus-out.ipc
H=${DEMO_HTTP_BASE:-9100}
export BUS_PUB_URL=$IN BUS_SUB_URL=$OUT

run busd env BUSD_INGRESS="$IN" BUSD_EGRESS="$OUT" JOURNAL_DIR="$DIR/state/busd" HTTP_PORT=$H \
	HTTP_ADDR=127.0.0.1 "$B/busd"
# price-sim prints its URL on stdout
"$B/price-sim" --port 0 --feed ETH-USD=3000.00 --walk --walk-interval 1s --walk-ppm 6000 \
	>"$DIR/logs/price-sim.url" 2>"$DIR/logs/price-sim.log" &
PIDS+=($!)
for _ in $(seq 50); do [ -s "$DIR/logs/price-sim.url" ] && break; sleep 0.1; done
SIM=$(head -1 "$DIR/logs/price-sim.url")
[ -n "$SIM" ] || { echo "demo: price-sim did not start"; exit 1; }

declare -A URL=(
	[coinbase]="$SIM/v2/prices/ETH-USD/spot"
	[binance]="$SIM/api/v3/ticker/price?symbol=ETHUSDT"
	[kraken]="$SIM/0/public/Ticker?pair=XETHZUSD"
)
port=$((H + 1))
for s in coinbase binance kraken; do
	run "fetcher-$s" env SOURCES="$s=${URL[$s]}" FEED=ETH-USD FETCH_INTERVAL=2s INSTANCE="fetcher-$s" \
		HTTP_PORT=$port HTTP_ADDR=127.0.0.1 "$B/fetcher"
	port=$((port + 1))
done
run median env WINDOW=10s QUORUM=2 HTTP_PORT=$((H + 4)) HTTP_ADDR=127.0.0.1 "$B/median"
run submitter env BUS_SIGNING_KEY="$XSEC" BUS_TRUST="tx.signed=$SPUB" STATE_DIR="$DIR/state/submitter" \
	CHAIN_ID="$CHAIN_ID" SIGNER_ADDRESS="$TRANSMITTER" CONFIRMATIONS=1 FINALITY_DEPTH=5 \
	HTTP_PORT=$((H + 7)) HTTP_ADDR=127.0.0.1 "$B/submitter"
run signer env BUS_SIGNING_KEY="$SSEC" STATE_DIR="$DIR/state/signer" CHAIN_ID="$CHAIN_ID" \
	BUS_TRUST="price.update.=$GPUB;tx.ack=$XPUB;tx.bump=$XPUB;gas.quote=$XPUB;nonce.sync=$XPUB" \
	ALLOWED_CONTRACTS="$AGGREGATOR_ADDRESS" GAS_PRICE=auto HTTP_PORT=$((H + 6)) HTTP_ADDR=127.0.0.1 "$B/signer"
run gate env BUS_SIGNING_KEY="$GSEC" BUS_TRUST="tx.status=$XPUB" FEED=ETH-USD \
	AGGREGATOR_ADDRESS="$AGGREGATOR_ADDRESS" CHAIN_ID="$CHAIN_ID" TRANSMITTER="$TRANSMITTER" \
	DEVIATION_THRESHOLD="${DEVIATION_THRESHOLD:-0.5}" HEARTBEAT="${HEARTBEAT:-30s}" MIN_INTERVAL=2s \
	STATE_DIR="$DIR/state/gate" HTTP_PORT=$((H + 5)) HTTP_ADDR=127.0.0.1 "$B/gate"

echo "demo: busd :$H, fetchers :$((H + 1))-$((H + 3)), median :$((H + 4)), gate :$((H + 5)), signer :$((H + 6)), submitter :$((H + 7))"
echo "demo: (GET /health and /metrics on each). Watching price.update and tx.status; Ctrl-C stops."
echo
"$B/bus-tap" --url "$OUT" --topic price.update. --topic tx.status --format pretty &
PIDS+=($!)

start=$(date +%s)
while :; do
	sleep 5
	line=$(tools/chain.sh latest "$AGGREGATOR_ADDRESS" 2>/dev/null || echo "unavailable")
	echo "chain: ETH-USD latestRoundData $line"
	if [ -n "${DEMO_SECONDS:-}" ] && [ $(( $(date +%s) - start )) -ge "$DEMO_SECONDS" ]; then break; fi
done
