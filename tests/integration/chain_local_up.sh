#!/usr/bin/env bash
# deploy/local/local-chain.sh, as `make demo` uses it: up (anvil + one OracleAggregator per feed and an
# env file), the env file's contents checked on chain, an update by the transmitter, then down.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -d tests/chain/node_modules ]; then
  echo "chain_local_up: tests/chain/node_modules is missing: run \`make deps\` (npm ci in tests/chain) first" >&2
  exit 1
fi
TMP="$(mktemp -d)"
export CHAIN_ENV="$TMP/chain.env" FEEDS="ETH-USD BTC-USD"
cleanup() { deploy/local/local-chain.sh down || true; python3 tests/lib/free_port.py --release $$ || true; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }
# a port reserved for this test (tests/lib/free_port.py); the chain's log in its temp dir
CHAIN_PORT=$(python3 tests/lib/free_port.py --owner $$)
export CHAIN_PORT CHAIN_LOG="$TMP/anvil.log"
deploy/local/local-chain.sh up >/dev/null
set -a; . "$CHAIN_ENV"; set +a
[ "$RPC_URL" = "http://127.0.0.1:$CHAIN_PORT" ] || fail "RPC_URL=$RPC_URL"
[ -n "$ANVIL_PID" ] && kill -0 "$ANVIL_PID" || fail "ANVIL_PID=$ANVIL_PID not running"
[ "$AGGREGATOR_ADDRESS" = "$AGGREGATOR_ADDRESS_ETH_USD" ] || fail "AGGREGATOR_ADDRESS is not the first feed's"
[ "$UPDATE_SIGNATURE" = "updateAnswer(int256)" ] || fail "UPDATE_SIGNATURE=$UPDATE_SIGNATURE"
c() { tools/chain.sh cast "$@"; }
[ "$(c call --rpc-url "$RPC_URL" "$AGGREGATOR_ADDRESS_BTC_USD" 'description()(string)')" = '"BTC / USD"' ] || fail "BTC description"
[ "$(c call --rpc-url "$RPC_URL" "$AGGREGATOR_ADDRESS" "isTransmitter(address)(bool)" "$TRANSMITTER")" = true ] || fail transmitter
# The transmitter is anvil's public dev account #1 by default.
c send --rpc-url "$RPC_URL" --private-key 0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d \
  "$AGGREGATOR_ADDRESS" "$UPDATE_SIGNATURE" 123456789 >/dev/null
L="$(tools/chain.sh latest "$AGGREGATOR_ADDRESS")"
[[ "$L" == "roundId=1 answer=123456789 "* ]] || fail "after update: $L"
deploy/local/local-chain.sh down
! kill -0 "$ANVIL_PID" 2>/dev/null || fail "anvil still running after down"
[ ! -f "$CHAIN_ENV" ] || fail "env file left after down"
echo "chain_local_up: ok ($L)"
