#!/usr/bin/env bash
# make demo: the Oracle Publisher on a local chain, end to end, until Ctrl-C.
#
#   anvil (chain id 138, 1 s blocks) + OracleAggregator      deploy/local/local-chain.sh
#   price-sim (random walk, real CoinGecko/Binance/Coinbase/Kraken formats)
#   busd, 3 fetchers, median, gate, signer, submitter        with bus keys and trust lists
#   Financial Tokenization: two PaymentToken ERC-20s (USD via token-erc20 -> signer -> submitter, EUR as
#   the pool of a FireFly double via token-firefly), the tokenizer; a sample pacs.008 (USD) and an
#   MT103 (EUR) are posted, their tokens shown on chain and their pacs.002 printed
#
# Shows the bus (bus-tap, pretty) and the contract's latestRoundData every few seconds. Ctrl-C
# stops everything it started. Env: DEMO_SECONDS (stop by itself after that long, for tests),
# DEMO_ROUNDS (stop by itself once the contract has that many rounds and the sample payments
# settled, for tests),
# CHAIN_PORT (8545), DEVIATION_THRESHOLD (0.5), HEARTBEAT (30s), DEMO_DIR (build/demo),
# DEMO_HTTP_BASE (9100: busd, then fetchers, median, gate, signer, submitter, tokenizer, token-erc20,
# token-firefly, the FireFly double on the next ports).
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

# Tokens (6 decimals): USD minted/burned by the signer's key (token-erc20), EUR by anvil's public dev
# key #0, the FireFly double's signing key (token-firefly). The holder is anvil's dev account #2.
FF_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 # anvil public dev key #0
FF_ADDR=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
HOLDER=0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC
echo "demo: deploying the USD and EUR PaymentTokens ..."
USD=$(TOKEN_SYMBOL=USDP tools/chain.sh deploy-token 6 "$TRANSMITTER" "$TRANSMITTER" 2>>"$DIR/logs/chain.log")
EUR=$(TOKEN_SYMBOL=EURP tools/chain.sh deploy-token 6 "$FF_ADDR" "$FF_ADDR" 2>>"$DIR/logs/chain.log")
echo "demo: USD token $USD (token-erc20), EUR token $EUR (FireFly pool eurc)"
FIREFLY=1
(cd tests/chain && node -e 'require("ws")' 2>/dev/null) || { FIREFLY=; echo "demo: npm ws missing (make deps): EUR/FireFly skipped"; }

# Bus keys: the signer trusts price.update only from the gate and tx.request only from token-erc20; the
# submitter trusts tx.signed only from the signer; the signer, the gate and token-erc20 trust the
# submitter's messages; the backends trust token.request from the tokenizer, which trusts their results.
key() { "$B/bus-tap" --keygen; }
{ read -r _ GSEC; read -r _ GPUB; } < <(key)
{ read -r _ SSEC; read -r _ SPUB; } < <(key)
{ read -r _ XSEC; read -r _ XPUB; } < <(key)
{ read -r _ TSEC; read -r _ TPUB; } < <(key)
{ read -r _ ESEC; read -r _ EPUB; } < <(key)
{ read -r _ FSEC; read -r _ FPUB; } < <(key)
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
	BUS_TRUST="price.update.=$GPUB;tx.request=$EPUB;tx.ack=$XPUB;tx.bump=$XPUB;gas.quote=$XPUB;nonce.sync=$XPUB" \
	ALLOWED_CONTRACTS="$AGGREGATOR_ADDRESS,$USD" ALLOWED_SELECTORS=0x40c10f19,0x9dc29fac,0x23b872dd \
	GAS_PRICE=auto HTTP_PORT=$((H + 6)) HTTP_ADDR=127.0.0.1 "$B/signer"
run gate env BUS_SIGNING_KEY="$GSEC" BUS_TRUST="tx.status=$XPUB" FEED=ETH-USD \
	AGGREGATOR_ADDRESS="$AGGREGATOR_ADDRESS" CHAIN_ID="$CHAIN_ID" TRANSMITTER="$TRANSMITTER" \
	DEVIATION_THRESHOLD="${DEVIATION_THRESHOLD:-0.5}" HEARTBEAT="${HEARTBEAT:-30s}" MIN_INTERVAL=2s \
	STATE_DIR="$DIR/state/gate" HTTP_PORT=$((H + 5)) HTTP_ADDR=127.0.0.1 "$B/gate"

# ---- Financial Tokenization --------------------------------------------------------------------
cat >"$DIR/token-config.json" <<EOF
{ "tokens": { "USD": { "backend": "erc20", "address": "$USD", "decimals": 6 },
              "EUR": { "backend": "firefly", "pool": "eurc", "decimals": 6 } },
  "accounts": { "254178963": "$HOLDER" },
  "redemption_accounts": [ "DE02100100109307118603" ] }
EOF
run token-erc20 env BUS_SIGNING_KEY="$ESEC" BUS_TRUST="token.request=$TPUB;token.status=$TPUB;tx.status=$XPUB" \
	RPC_URL="$RPC_URL" CHAIN_ID="$CHAIN_ID" TOKENS="$USD" STATE_DIR="$DIR/state/token-erc20" \
	HTTP_PORT=$((H + 9)) HTTP_ADDR=127.0.0.1 "$B/token-erc20"
if [ -n "$FIREFLY" ]; then
	run firefly-double env FF_DOUBLE_PORT=$((H + 11)) FF_DOUBLE_KEYS="$FF_KEY" FF_DOUBLE_POOLS="eurc=$EUR" \
		RPC_URL="$RPC_URL" node tests/chain/firefly-double.js
	run token-firefly env BUS_SIGNING_KEY="$FSEC" BUS_TRUST="token.request=$TPUB;token.status=$TPUB" \
		FIREFLY_URL="http://127.0.0.1:$((H + 11))" STATE_DIR="$DIR/state/token-firefly" \
		HTTP_PORT=$((H + 10)) HTTP_ADDR=127.0.0.1 "$B/token-firefly"
fi
run tokenizer env BUS_SIGNING_KEY="$TSEC" BUS_TRUST="token.result=$EPUB,$FPUB" TOKEN_CONFIG="$DIR/token-config.json" \
	STATE_DIR="$DIR/state/tokenizer" HTTP_PORT=$((H + 8)) HTTP_ADDR=127.0.0.1 "$B/tokenizer"
TOK=http://127.0.0.1:$((H + 8))

echo "demo: busd :$H, fetchers :$((H + 1))-$((H + 3)), median :$((H + 4)), gate :$((H + 5)), signer :$((H + 6)), submitter :$((H + 7)),"
echo "demo: tokenizer :$((H + 8)) (POST /payments), token-erc20 :$((H + 9)), token-firefly :$((H + 10)), FireFly double :$((H + 11))"
echo "demo: (GET /health and /metrics on each). Watching price.update, tx.status, token.status; Ctrl-C stops."
echo
"$B/bus-tap" --url "$OUT" --topic price.update. --topic tx.status --topic token.status --format pretty &
PIDS+=($!)

# Two sample payments: the public CBPR+ pacs.008 (USD 136500, a mint to the holder) and an MT103 (EUR).
for _ in $(seq 100); do curl -sf "$TOK/health" >/dev/null 2>&1 && break; sleep 0.2; done
if [ -n "$FIREFLY" ]; then
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$((H + 11))/api/v1/status" >/dev/null 2>&1 && break; sleep 0.2; done
fi
PAY_IDS=()
post_payment() {  # file what
	local out id
	out=$(curl -s --data-binary @"$1" "$TOK/payments" || true)
	id=$(printf '%s' "$out" | python3 -c 'import json,sys
try: print(json.load(sys.stdin)["payments"][0]["payment"]["id"])
except Exception: pass' 2>/dev/null || true)
	echo "demo: posted $2 -> payment ${id:-(refused: $out)}"
	[ -n "$id" ] && PAY_IDS+=("$id")
	return 0
}
post_payment payments/testdata/iso/ballerina_p_2_1_2_mt103_pacs_008_A_B.xml "pacs.008 USD 136500.00"
if [ -n "$FIREFLY" ]; then
	printf '%s\r\n' '{1:F01CHASUS33XXXX0000000000}{2:O1031013210511CHASGB2LXXXX00000000002105111013N}{3:{121:8a7e1f4c-3b2d-4c5e-9f60-0d1e2f3a4b5c}}{4:' \
		':20:DEMOEUR0001' ':23B:CRED' ':32A:210511EUR2500,00' ':50F:/96325874' '1/GB Engineering' '2/Industrial Park' \
		'3/GB/Cambridge' ':52A:CHASGB2LXXX' ':59F:/254178963' '1/US Engines' '2/20 Main St' '3/US/Casper WY' ':71A:SHA' \
		>"$DIR/demo-mt103.fin"
	printf '%s' '-}' >>"$DIR/demo-mt103.fin"
	post_payment "$DIR/demo-mt103.fin" "MT103 EUR 2500,00"
fi
pacs_shown=
show_tokens() {
	local u e st all=1 id s
	u=$(tools/chain.sh cast call --rpc-url "$RPC_URL" "$USD" "balanceOf(address)(uint256)" "$HOLDER" 2>/dev/null | awk '{print $1}')
	e=$(tools/chain.sh cast call --rpc-url "$RPC_URL" "$EUR" "balanceOf(address)(uint256)" "$HOLDER" 2>/dev/null | awk '{print $1}')
	st=""
	for id in "${PAY_IDS[@]}"; do
		s=$(curl -sf "$TOK/payments/$id" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("payment", d).get("state"))' 2>/dev/null || echo "?")
		st="$st ${id:0:8}=$s"
		[ "$s" = confirmed ] || [ "$s" = failed ] || all=
	done
	echo "tokens: holder $HOLDER: USD ${u:-?}, EUR ${e:-?} base units (6 decimals); payments:$st"
	if [ -n "$all" ] && [ -z "$pacs_shown" ] && [ ${#PAY_IDS[@]} -gt 0 ]; then
		pacs_shown=1
		for id in "${PAY_IDS[@]}"; do
			echo "pacs.002 of payment $id:"
			curl -sf "$TOK/payments/$id/pacs002" | sed 's/^/    /'
			echo
		done
	fi
}

start=$(date +%s)
while :; do
	sleep 5
	line=$(tools/chain.sh latest "$AGGREGATOR_ADDRESS" 2>/dev/null || echo "unavailable")
	echo "chain: ETH-USD latestRoundData $line"
	show_tokens
	if [ -n "${DEMO_SECONDS:-}" ] && [ $(( $(date +%s) - start )) -ge "$DEMO_SECONDS" ]; then break; fi
	round=$(sed -n 's/.*roundId=\([0-9]*\).*/\1/p' <<<"$line")
	# (for tests) enough rounds, and the sample payments settled and their pacs.002 shown
	if [ -n "${DEMO_ROUNDS:-}" ] && [ "${round:-0}" -ge "$DEMO_ROUNDS" ] &&
		{ [ -n "$pacs_shown" ] || [ ${#PAY_IDS[@]} -eq 0 ]; }; then break; fi
done
