#!/usr/bin/env bash
# The local EVM chain for tests and the demo: anvil (chain id 138), contracts, deploys and reads.
# Everything comes from tests/chain/node_modules (`make deps`).
#
#   tools/chain.sh start PORT            start anvil on 127.0.0.1:PORT in the background (log:
#                                        $CHAIN_LOG or build/chain/anvil-PORT.log), wait until
#                                        eth_chainId answers 0x8a, print its pid
#   tools/chain.sh stop PID              stop that anvil (SIGTERM, then SIGKILL after 5 s)
#   tools/chain.sh compile [--force] [NAME...]
#                                        build/contracts/<NAME>.json: OracleAggregator,
#                                        MockV3Aggregator, FluxAggregator (skipped when up to date)
#   tools/chain.sh deploy NAME [ARGS...] deploy build/contracts/NAME.json, print the address; ARGS by
#                                        the constructor's types (arrays as JSON or comma lists), e.g.
#                                          deploy OracleAggregator 8 "ETH / USD" 0 0 '["0x7099..."]'
#                                          deploy MockV3Aggregator 8 200000000000
#   tools/chain.sh deploy-flux [ORACLE...]
#                                        deploy Chainlink's FluxAggregator with zero payment and let
#                                        ORACLEs (default: anvil account #1) submit; print the address
#   tools/chain.sh deploy-token DECIMALS [MINTERS [BURNERS]]
#                                        deploy PaymentToken (OpenZeppelin ERC20 + AccessControl) with
#                                        DECIMALS; MINTERS/BURNERS are comma lists of addresses given
#                                        MINTER_ROLE/BURNER_ROLE ('' for none); print the address.
#                                        Name/symbol: TOKEN_NAME ("Payment Token"), TOKEN_SYMBOL (PAY);
#                                        admin (DEFAULT_ADMIN_ROLE): TOKEN_ADMIN (the deployer)
#   tools/chain.sh deploy-multicall3     compile Multicall3 and put its runtime code at the canonical
#                                        0xcA11bde05977b3631167028862bE2a173976CA11 (anvil_setCode:
#                                        anvil only); print the address
#   tools/chain.sh latest ADDR           latestRoundData() as one line:
#                                        roundId=N answer=N startedAt=N updatedAt=N answeredInRound=N
#   tools/chain.sh cast ARGS...          run the pinned cast
#   tools/chain.sh bin anvil|cast        print the binary's path
#
# Env: RPC_URL (default http://127.0.0.1:8545); DEPLOYER_KEY (default anvil's public dev key #0);
#      for deploy-flux: DECIMALS (8), DESCRIPTION ("ETH / USD"), FLUX_TIMEOUT (3600 s),
#      FLUX_MIN (0), FLUX_MAX (2^255-1).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CHAIN_DIR="$ROOT/tests/chain"
NM="$CHAIN_DIR/node_modules"
ANVIL="${ANVIL:-$NM/@foundry-rs/anvil-linux-amd64/bin/anvil}"
CAST="${CAST:-$NM/@foundry-rs/cast-linux-amd64/bin/cast}"
RPC_URL="${RPC_URL:-http://127.0.0.1:8545}"
# anvil's well-known public development keys and accounts (never real keys).
DEV_KEY0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 # anvil public dev key #0
DEV_ADDR1=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
DEPLOYER_KEY="${DEPLOYER_KEY:-$DEV_KEY0}"
export RPC_URL DEPLOYER_KEY

die() { echo "chain.sh: $*" >&2; exit 1; }
need_deps() {
  [ -x "$ANVIL" ] && [ -x "$CAST" ] && [ -d "$NM/solc" ] ||
    die "tests/chain/node_modules is missing or incomplete: run \`make deps\` (npm ci in tests/chain)"
}

chain_id() {  # URL -> prints the chain id result (e.g. 0x8a) or nothing
  curl -s --max-time 1 -H 'content-type: application/json' \
    --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$1" 2>/dev/null |
    sed -n 's/.*"result":"\([^"]*\)".*/\1/p'
}

cmd_start() {
  local port="${1:?usage: chain.sh start PORT}"
  need_deps
  [[ "$port" =~ ^[0-9]+$ ]] || die "bad port: $port"
  local url="http://127.0.0.1:$port"
  [ -z "$(chain_id "$url")" ] || die "something already answers on $url"
  local log="${CHAIN_LOG:-$ROOT/build/chain/anvil-$port.log}"
  mkdir -p "$(dirname "$log")"
  # Detached from our stdout so that $(chain.sh start ...) returns at once. ANVIL_ARGS adds options,
  # e.g. "--block-time 1" so blocks (and so confirmations) advance without transactions.
  # shellcheck disable=SC2086
  "$ANVIL" --host 127.0.0.1 --port "$port" --chain-id 138 ${ANVIL_ARGS:-} </dev/null >"$log" 2>&1 &
  local pid=$!
  local i
  for i in $(seq 1 200); do  # up to ~20 s
    if [ "$(chain_id "$url")" = "0x8a" ]; then echo "$pid"; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$log" >&2 || true
      die "anvil exited during start (log: $log)"
    fi
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  die "anvil did not answer eth_chainId on $url within 20 s (log: $log)"
}

cmd_stop() {
  local pid="${1:?usage: chain.sh stop PID}"
  [[ "$pid" =~ ^[0-9]+$ ]] || die "bad pid: $pid"
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

cmd_compile() {
  need_deps
  node "$CHAIN_DIR/compile.js" "$@"
}

cmd_deploy() {
  [ $# -ge 1 ] || die "usage: chain.sh deploy NAME [constructor args...]"
  need_deps
  node "$CHAIN_DIR/deploy.js" "$@"
}

cmd_deploy_flux() {
  need_deps
  local oracles=("$@")
  [ ${#oracles[@]} -gt 0 ] || oracles=("$DEV_ADDR1")
  local admin
  admin="$("$CAST" wallet address --private-key "$DEPLOYER_KEY")"
  local list admins n=${#oracles[@]}
  list="[$(IFS=,; echo "${oracles[*]}")]"
  admins="[$(for _ in "${oracles[@]}"; do printf '%s,' "$admin"; done | sed 's/,$//')]"
  # FluxAggregator(link, paymentAmount, timeout, validator, minSubmissionValue, maxSubmissionValue,
  # decimals, description). With paymentAmount 0 the LINK token is never called by submit() (only by
  # updateAvailableFunds, withdrawPayment, withdrawFunds and onTokenTransfer), so LINK is the zero
  # address; validator 0 means none.
  local addr
  addr="$(node "$CHAIN_DIR/deploy.js" FluxAggregator 0x0000000000000000000000000000000000000000 0 \
    "${FLUX_TIMEOUT:-3600}" 0x0000000000000000000000000000000000000000 "${FLUX_MIN:-0}" \
    "${FLUX_MAX:-57896044618658097711785492504343953926634992332820282019728792003956564819967}" \
    "${DECIMALS:-8}" "${DESCRIPTION:-ETH / USD}")"
  # changeOracles(removed, added, addedAdmins, minSubmissions, maxSubmissions, restartDelay):
  # a round is answered by the first submission; every oracle may start the next round at once.
  "$CAST" send --rpc-url "$RPC_URL" --private-key "$DEPLOYER_KEY" "$addr" \
    "changeOracles(address[],address[],address[],uint32,uint32,uint32)" "[]" "$list" "$admins" 1 "$n" 0 \
    >/dev/null
  echo "$addr"
}

cmd_deploy_token() {
  local decimals="${1:?usage: chain.sh deploy-token DECIMALS [MINTERS [BURNERS]]}"
  need_deps
  [[ "$decimals" =~ ^[0-9]+$ ]] && [ "$decimals" -le 255 ] || die "bad decimals: $decimals"
  local minters="${2:-}" burners="${3:-}" admin="${TOKEN_ADMIN:-}"
  local a
  for a in ${minters//,/ } ${burners//,/ } $admin; do
    [[ "$a" =~ ^0x[0-9a-fA-F]{40}$ ]] || die "not an address: $a"
  done
  [ -n "$admin" ] || admin="$("$CAST" wallet address --private-key "$DEPLOYER_KEY")"
  node "$CHAIN_DIR/compile.js" PaymentToken  # progress on stderr; stdout is only the address
  # PaymentToken(name, symbol, decimals, admin, minters[], burners[]): roles granted in the constructor,
  # so the token is never deployed without them.
  node "$CHAIN_DIR/deploy.js" PaymentToken "${TOKEN_NAME:-Payment Token}" "${TOKEN_SYMBOL:-PAY}" \
    "$decimals" "$admin" "$minters" "$burners"
}

cmd_deploy_multicall3() {
  need_deps
  local addr=0xcA11bde05977b3631167028862bE2a173976CA11 code
  node "$CHAIN_DIR/compile.js" Multicall3  # progress on stderr
  code="$(node -e 'process.stdout.write(require(process.argv[1]).deployedBytecode)' \
    "${CONTRACTS_OUT:-$ROOT/build/contracts}/Multicall3.json")"
  "$CAST" rpc --rpc-url "$RPC_URL" anvil_setCode "$addr" "$code" >/dev/null
  [ "$("$CAST" code --rpc-url "$RPC_URL" "$addr")" = "$code" ] || die "Multicall3 code not set at $addr"
  echo "$addr"
}

cmd_latest() {
  local addr="${1:?usage: chain.sh latest ADDR}"
  need_deps
  local out
  out="$("$CAST" call --rpc-url "$RPC_URL" "$addr" \
    "latestRoundData()(uint80,int256,uint256,uint256,uint80)")" || die "latestRoundData() failed on $addr"
  # cast prints one value per line, big ones followed by " [1.7e9]": keep the first word.
  local v=() line
  while IFS= read -r line; do v+=("${line%% *}"); done <<<"$out"
  [ ${#v[@]} -eq 5 ] || die "unexpected latestRoundData output: $out"
  echo "roundId=${v[0]} answer=${v[1]} startedAt=${v[2]} updatedAt=${v[3]} answeredInRound=${v[4]}"
}

sub="${1:-}"
[ $# -gt 0 ] && shift
case "$sub" in
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  compile) cmd_compile "$@" ;;
  deploy) cmd_deploy "$@" ;;
  deploy-flux) cmd_deploy_flux "$@" ;;
  deploy-token) cmd_deploy_token "$@" ;;
  deploy-multicall3) cmd_deploy_multicall3 "$@" ;;
  latest) cmd_latest "$@" ;;
  cast) need_deps; exec "$CAST" "$@" ;;
  bin)
    case "${1:-}" in
      anvil) echo "$ANVIL" ;;
      cast) echo "$CAST" ;;
      *) die "usage: chain.sh bin anvil|cast" ;;
    esac ;;
  *) sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
