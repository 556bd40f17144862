#!/usr/bin/env bash
# The demo's chain: anvil (chain id 138) on loopback with one OracleAggregator per feed, described in
# an env file that the demo and the actors can source.
#
#   deploy/local/local-chain.sh up      start anvil (or reuse one already answering chain id 138 on
#                                       CHAIN_PORT), compile, deploy, write and print the env file
#   deploy/local/local-chain.sh down    stop the anvil that `up` started (pid from the env file)
#   deploy/local/local-chain.sh env     print the env file
#
# Env: CHAIN_PORT (8545); FEEDS ("ETH-USD", space-separated); AGGREGATOR_KIND (OracleAggregator,
#      MockV3Aggregator or FluxAggregator); PRIVATE_KEY: the signer's key, whose address becomes the
#      transmitter/oracle (default: anvil's public dev key #1); CHAIN_ENV (build/demo/chain.env).
#      CHAIN_LOG: anvil's log (build/demo/anvil.log).
# The env file has RPC_URL, CHAIN_ID, ANVIL_PID (empty if reused), AGGREGATOR_KIND, UPDATE_SIGNATURE,
# TRANSMITTER, AGGREGATOR_ADDRESS (first feed) and AGGREGATOR_ADDRESS_<FEED> (ETH-USD -> ETH_USD).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CHAIN="$ROOT/tools/chain.sh"
PORT="${CHAIN_PORT:-8545}"
FEEDS="${FEEDS:-ETH-USD}"
KIND="${AGGREGATOR_KIND:-OracleAggregator}"
ENV_FILE="${CHAIN_ENV:-$ROOT/build/demo/chain.env}"
# anvil's well-known public development key #1 (never a real key).
DEV_KEY1=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d # anvil public dev key #1
export RPC_URL="http://127.0.0.1:$PORT"

up() {
  local pid="" cid
  cid="$(curl -s --max-time 1 -H 'content-type: application/json' \
    --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$RPC_URL" 2>/dev/null || true)"
  if [[ "$cid" == *'"0x8a"'* ]]; then
    echo "local-chain: reusing the chain already on $RPC_URL" >&2
    # Keep the pid of an anvil that an earlier `up` started, so that `down` still stops it.
    [ -f "$ENV_FILE" ] && pid="$(sed -n 's/^ANVIL_PID=//p' "$ENV_FILE")"
    [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && pid=""
  else
    pid="$(CHAIN_LOG="${CHAIN_LOG:-$ROOT/build/demo/anvil.log}" "$CHAIN" start "$PORT")"
  fi
  "$CHAIN" compile >&2
  local transmitter sig
  transmitter="$("$CHAIN" cast wallet address --private-key "${PRIVATE_KEY:-$DEV_KEY1}")"
  mkdir -p "$(dirname "$ENV_FILE")"
  {
    echo "RPC_URL=$RPC_URL"
    echo "CHAIN_ID=138"
    echo "ANVIL_PID=$pid"
    echo "AGGREGATOR_KIND=$KIND"
    echo "TRANSMITTER=$transmitter"
  } >"$ENV_FILE.tmp"
  local first="" feed addr var
  for feed in $FEEDS; do
    case "$KIND" in
      OracleAggregator)
        sig="updateAnswer(int256)"
        addr="$("$CHAIN" deploy OracleAggregator 8 "${feed/-/ / }" 0 0 "[$transmitter]")" ;;
      MockV3Aggregator)  # anyone may update it; it starts with answer 0 in round 1
        sig="updateAnswer(int256)"
        addr="$("$CHAIN" deploy MockV3Aggregator 8 0)" ;;
      FluxAggregator)
        sig="submit(uint256,int256)"
        addr="$(DESCRIPTION="${feed/-/ / }" "$CHAIN" deploy-flux "$transmitter")" ;;
      *) echo "local-chain: unknown AGGREGATOR_KIND $KIND" >&2; exit 2 ;;
    esac
    var="AGGREGATOR_ADDRESS_$(echo "$feed" | tr 'a-z-' 'A-Z_')"
    echo "$var=$addr" >>"$ENV_FILE.tmp"
    [ -n "$first" ] || first="$addr"
  done
  echo "UPDATE_SIGNATURE='$sig'" >>"$ENV_FILE.tmp"
  echo "AGGREGATOR_ADDRESS=$first" >>"$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
  cat "$ENV_FILE"
}

down() {
  [ -f "$ENV_FILE" ] || return 0
  local pid
  pid="$(sed -n 's/^ANVIL_PID=//p' "$ENV_FILE")"
  [ -z "$pid" ] || "$CHAIN" stop "$pid"
  rm -f "$ENV_FILE"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) cat "$ENV_FILE" ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
