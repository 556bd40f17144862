#!/usr/bin/env bash
# Scaling by keys: two signer/submitter pairs (anvil's public dev keys #1 and #2) share one bus, one
# gate and one median, each pair owning one feed (signer FEEDS) and one aggregator. Both feeds
# update on chain, each from its own key; neither signer refuses the other's updates, and each
# submitter leaves the other key's transactions alone (submitter_other_signer_total) instead of
# refusing or alerting.
set -euo pipefail
# shellcheck source=../lib/oracle_stack.sh
. "$(dirname "$0")/../lib/oracle_stack.sh"
for b in busd bus-tap price-sim fetcher median gate signer submitter; do
	[ -x "$B/$b" ] || { echo "missing $B/$b (run make)"; exit 1; }
done
[ -x "$STACK_ROOT/tests/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" ] ||
	{ echo "tests/chain/node_modules missing: run make deps"; exit 1; }

KEY2=0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a # anvil's public dev key #2
ADDR2=0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC
cport=$(free_port)
export RPC_URL=http://127.0.0.1:$cport
ANVIL_PID=$(ANVIL_ARGS="--block-time 1" CHAIN_LOG=$TMP/anvil.log "$CHAIN" start "$cport")
"$CHAIN" compile OracleAggregator >/dev/null 2>"$TMP/deploy.log"
AGG_ETH=$("$CHAIN" deploy OracleAggregator 8 "ETH / USD" 0 0 "[\"$ADDR1\"]" 2>>"$TMP/deploy.log")
AGG_BTC=$("$CHAIN" deploy OracleAggregator 8 "BTC / USD" 0 0 "[\"$ADDR2\"]" 2>>"$TMP/deploy.log")
latest() { "$CHAIN" latest "$1" 2>/dev/null | tr ' ' '\n' | awk -F= '$1=="roundId"{r=$2} $1=="answer"{a=$2} END{print r+0, a}'; }
round_on_ge() { local r a; read -r r a < <(latest "$1"); [ "${r:-0}" -ge "$2" ]; }
answer_on_is() { local r a; read -r r a < <(latest "$1"); [ "$a" = "$2" ]; }
wait_on() {  # aggregator want_round timeout_s -> "round answer"; 1 on timeout (x T_SLOW)
	local rc=0; poll "$3" round_on_ge "$1" "$2" || rc=1; latest "$1"; return $rc
}

IN=ipc://$TMP/in.ipc OUT=ipc://$TMP/out.ipc
BPORT=$(free_port)
BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$TMP/journal HTTP_PORT=$BPORT HTTP_ADDR=127.0.0.1 "$B/busd" 2>"$TMP/busd.log" &
PID[busd]=$!
export BUS_PUB_URL=$IN BUS_SUB_URL=$OUT
{ read -r _ GSEC; read -r _ GPUB; } < <("$B/bus-tap" --keygen)
{ read -r _ SASEC; read -r _ SAPUB; } < <("$B/bus-tap" --keygen)
{ read -r _ SBSEC; read -r _ SBPUB; } < <("$B/bus-tap" --keygen)
{ read -r _ XASEC; read -r _ XAPUB; } < <("$B/bus-tap" --keygen)
{ read -r _ XBSEC; read -r _ XBPUB; } < <("$B/bus-tap" --keygen)

"$B/price-sim" --port 0 --feed ETH-USD=3000 --feed BTC-USD=67000 >"$TMP/sim.url" 2>"$TMP/sim.log" &
PID[sim]=$!
wait_for 5 "price-sim printed its URL" test -s "$TMP/sim.url"
SIM=$(head -1 "$TMP/sim.url")
"$B/bus-tap" --url "$OUT" --topic alert. --timeout 300 >"$TMP/alerts.jsonl" 2>/dev/null &
PID[tap]=$!

for s in coinbase binance; do
	if [ $s = coinbase ]; then e="$SIM/v2/prices/ETH-USD/spot" b="$SIM/v2/prices/BTC-USD/spot"; else
		e="$SIM/api/v3/ticker/price?symbol=ETHUSDT" b="$SIM/api/v3/ticker/price?symbol=BTCUSDT"; fi
	cat >"$TMP/$s.json" <<JSON
{"feeds":[{"feed":"ETH-USD","decimals":8,"sources":[{"name":"$s","kind":"$s","url":"$e"}]},
          {"feed":"BTC-USD","decimals":8,"sources":[{"name":"$s","kind":"$s","url":"$b"}]}]}
JSON
	CONFIG_FILE=$TMP/$s.json FETCH_INTERVAL=300ms INSTANCE=fetcher-$s "$B/fetcher" 2>"$TMP/fetcher-$s.log" &
	PID[fetcher-$s]=$!
done
WINDOW=3s QUORUM=2 AGG_INTERVAL=300ms "$B/median" 2>"$TMP/median.log" &
PID[median]=$!
cat >"$TMP/gate.json" <<JSON
{"feeds":[{"feed":"ETH-USD","aggregator":"$AGG_ETH","decimals":8,"deviation":"1","heartbeat":"1h","min_interval":"1s","transmitter":"$ADDR1"},
          {"feed":"BTC-USD","aggregator":"$AGG_BTC","decimals":8,"deviation":"1","heartbeat":"1h","min_interval":"1s","transmitter":"$ADDR2"}]}
JSON
BUS_SIGNING_KEY=$GSEC BUS_TRUST="tx.status=$XAPUB,$XBPUB" FEEDS_FILE=$TMP/gate.json CHAIN_ID=138 \
	STATE_DIR=$TMP/gate CHAIN_POLL=2s "$B/gate" 2>"$TMP/gate.log" &
PID[gate]=$!

pair() {  # name key feed aggregator signer_secret submitter_secret submitter_addr
	local sp xp
	sp=$(free_port) xp=$(free_port)
	BUS_SIGNING_KEY=$5 PRIVATE_KEY=$2 FEEDS=$3 ALLOWED_CONTRACTS=$4 STATE_DIR=$TMP/signer-$1 CHAIN_ID=138 \
		GAS_PRICE=auto OUTBOX_RETRY=1s HTTP_PORT=$sp HTTP_ADDR=127.0.0.1 INSTANCE=signer-$1 \
		BUS_TRUST="price.update.=$GPUB;tx.ack=$XAPUB,$XBPUB;tx.bump=$XAPUB,$XBPUB;gas.quote=$XAPUB,$XBPUB;nonce.sync=$XAPUB,$XBPUB" \
		"$B/signer" 2>"$TMP/signer-$1.log" &
	PID[signer-$1]=$!
	BUS_SIGNING_KEY=$6 BUS_TRUST="tx.signed=$SAPUB,$SBPUB" SIGNER_ADDRESS=$7 STATE_DIR=$TMP/submitter-$1 \
		CHAIN_ID=138 CONFIRMATIONS=1 POLL_INTERVAL=200ms NONCE_SYNC_INTERVAL=2s HTTP_PORT=$xp \
		HTTP_ADDR=127.0.0.1 INSTANCE=submitter-$1 "$B/submitter" 2>"$TMP/submitter-$1.log" &
	PID[submitter-$1]=$!
	eval "SPORT_$1=$sp XPORT_$1=$xp"
}
pair a "$KEY1" ETH-USD "$AGG_ETH" "$SASEC" "$XASEC" "$ADDR1"
pair b "$KEY2" BTC-USD "$AGG_BTC" "$SBSEC" "$XBSEC" "$ADDR2"
wait_subscribers "$BPORT" 7  # the alert tap, median, gate, two signers, two submitters

read -r r a < <(wait_on "$AGG_ETH" 1 30) || fail "ETH-USD: no first update"
[ "$a" = 300000000000 ] || fail "ETH-USD answer $a"
read -r r b < <(wait_on "$AGG_BTC" 1 30) || fail "BTC-USD: no first update"
[ "$b" = 6700000000000 ] || fail "BTC-USD answer $b"
echo "first updates: ETH-USD $a (key #1), BTC-USD $b (key #2)"

ctl set "feed=BTC-USD&price=68500"
# With two sources the median can first be their mean (67750, itself a >1% move) while one source
# still shows the old price; wait for the final answer.
poll 20 answer_on_is "$AGG_BTC" 6850000000000 || true
read -r rb b < <(latest "$AGG_BTC")
[ "$b" = 6850000000000 ] || fail "BTC-USD answer after the move $b"
read -r re a < <(latest "$AGG_ETH")
[ "$re" = 1 ] || fail "ETH-USD moved without a price change (round $re)"
[ "$("$CHAIN" cast nonce --rpc-url "$RPC_URL" "$ADDR1")" = 1 ] || fail "key #1 sent more than ETH-USD's one update"
[ "$("$CHAIN" cast nonce --rpc-url "$RPC_URL" "$ADDR2")" = "$rb" ] || fail "key #2's nonce is not BTC-USD's round count ($rb)"
echo "BTC-USD moved to $b through key #2 only; ETH-USD untouched"
ctl set "feed=ETH-USD&price=3100"
poll 20 answer_on_is "$AGG_ETH" 310000000000 || true
read -r re a < <(latest "$AGG_ETH")
[ "$a" = 310000000000 ] || fail "ETH-USD answer after its move $a"
[ "$("$CHAIN" cast nonce --rpc-url "$RPC_URL" "$ADDR1")" = "$re" ] || fail "key #1's nonce is not ETH-USD's round count ($re)"

metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 ~ "^"m {s += $2} END {print s + 0}'; }
metric_ge1() { [ "$(metric "$1" "$2")" -ge 1 ]; }
for p in a b; do
	xp=XPORT_$p
	wait_for 10 "submitter $p saw the other key's transactions" metric_ge1 "${!xp}" submitter_other_signer_total
done
for p in a b; do
	sp=SPORT_$p xp=XPORT_$p
	[ "$(metric "${!sp}" signer_refusals_total)" = 0 ] || fail "signer $p refused something"
	[ "$(metric "${!xp}" submitter_rejected_total)" = 0 ] || fail "submitter $p rejected something"
	[ "$(metric "${!xp}" submitter_other_signer_total)" -ge 1 ] || fail "submitter $p never saw the other key's txs"
done
grep -q policy_refusal "$TMP/alerts.jsonl" && fail "a policy_refusal alert was raised"
echo "no refusals, no alerts; each submitter skipped the other key's transactions"
echo "PASS"
