#!/usr/bin/env bash
# The local chain end to end: anvil (chain id 138) on a free loopback port, the contracts compiled
# with solc-js, then OracleAggregator (ours), Chainlink's MockV3Aggregator and FluxAggregator deployed
# and updated the way the signer will update them, with every answer read back by latestRoundData().
# Needs tests/chain/node_modules (`make deps`). Exits 0 only if every check holds.
set -euo pipefail
cd "$(dirname "$0")/../.."
CHAIN=tools/chain.sh

if [ ! -d tests/chain/node_modules ]; then
  echo "chain_contracts: tests/chain/node_modules is missing: run \`make deps\` (npm ci in tests/chain) first" >&2
  exit 1
fi

# anvil's well-known public development accounts (never real keys).
KEY0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
KEY1=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
ADDR1=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
KEY2=0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
ADDR2=0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC

ANVIL_PID=""
TMP="$(mktemp -d)"
cleanup() {
  [ -n "$ANVIL_PID" ] && "$CHAIN" stop "$ANVIL_PID" || true
  python3 tests/lib/free_port.py --release $$ || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

checks=0
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }
field() {  # "roundId=1 answer=5 ..." NAME -> value
  tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"
}

# ---- start anvil on a free port, reserved for this test (tests/lib/free_port.py) ----------------
for attempt in 1 2 3 4 5; do
  PORT=$(python3 tests/lib/free_port.py --owner $$)
  export CHAIN_LOG="$TMP/anvil.log"
  if ANVIL_PID="$("$CHAIN" start "$PORT")"; then break; fi
  ANVIL_PID=""
done
[ -n "$ANVIL_PID" ] || fail "could not start anvil"
export RPC_URL="http://127.0.0.1:$PORT"
ok "anvil pid $ANVIL_PID answers chain id 138 on $RPC_URL"
cast() { "$CHAIN" cast "$@"; }

# ---- compile -------------------------------------------------------------------------------------
"$CHAIN" compile
for n in OracleAggregator MockV3Aggregator FluxAggregator; do
  f="build/contracts/$n.json"
  [ -s "$f" ] || fail "$f missing"
  [ "$(jq -r '.bytecode | length > 100' "$f")" = true ] || fail "$f has no bytecode"
  [ "$(jq -r '.abi | length > 0' "$f")" = true ] || fail "$f has no abi"
done
ok "compiled OracleAggregator, MockV3Aggregator, FluxAggregator"

# ---- OracleAggregator ----------------------------------------------------------------------------
AGG="$("$CHAIN" deploy OracleAggregator 8 "ETH / USD" 1 100000000000000 "[\"$ADDR1\"]")"
[[ "$AGG" =~ ^0x[0-9a-fA-F]{40}$ ]] || fail "deploy OracleAggregator printed '$AGG'"
[ "$(cast call --rpc-url "$RPC_URL" "$AGG" 'decimals()(uint8)')" = 8 ] || fail "decimals"
[ "$(cast call --rpc-url "$RPC_URL" "$AGG" 'description()(string)')" = '"ETH / USD"' ] || fail "description"
[ "$(cast call --rpc-url "$RPC_URL" "$AGG" "isTransmitter(address)(bool)" "$ADDR1")" = true ] || fail "transmitter #1"
L="$("$CHAIN" latest "$AGG")"
[ "$(field "$L" roundId)" = 0 ] && [ "$(field "$L" updatedAt)" = 0 ] || fail "fresh aggregator: $L"
ok "OracleAggregator at $AGG: 8 decimals, transmitter #1, no round yet ($L)"

cast send --rpc-url "$RPC_URL" --private-key "$KEY1" "$AGG" "updateAnswer(int256)" 300012345678 --json >"$TMP/r1.json"
[ "$(jq -r .status "$TMP/r1.json")" = 0x1 ] || fail "updateAnswer from #1 failed: $(cat "$TMP/r1.json")"
BLOCK_TS=$(cast block --rpc-url "$RPC_URL" "$(jq -r .blockNumber "$TMP/r1.json")" --field timestamp)
BLOCK_TS=${BLOCK_TS%% *}
L="$("$CHAIN" latest "$AGG")"
[ "$(field "$L" roundId)" = 1 ] || fail "roundId after first update: $L"
[ "$(field "$L" answer)" = 300012345678 ] || fail "answer after first update: $L"
[ "$(field "$L" updatedAt)" = "$((BLOCK_TS))" ] || fail "updatedAt $L != block timestamp $BLOCK_TS"
[ "$(field "$L" answeredInRound)" = 1 ] || fail "answeredInRound: $L"
ok "updateAnswer from #1: $L"

# Chainlink's events, in FluxAggregator's order: NewRound, then AnswerUpdated.
T_NEW=$(cast keccak "NewRound(uint256,address,uint256)")
T_ANS=$(cast keccak "AnswerUpdated(int256,uint256,uint256)")
[ "$(jq -r '.logs[0].topics[0]' "$TMP/r1.json")" = "$T_NEW" ] || fail "first log is not NewRound"
[ "$(jq -r '.logs[1].topics[0]' "$TMP/r1.json")" = "$T_ANS" ] || fail "second log is not AnswerUpdated"
[ "$(cast to-dec "$(jq -r '.logs[1].topics[1]' "$TMP/r1.json")")" = 300012345678 ] || fail "AnswerUpdated.current"
[ "$(cast to-dec "$(jq -r '.logs[1].topics[2]' "$TMP/r1.json")")" = 1 ] || fail "AnswerUpdated.roundId"
[ "$(jq -r '.logs[0].topics[2]' "$TMP/r1.json" | tail -c 41)" = "$(echo "${ADDR1#0x}" | tr 'A-F' 'a-f')" ] ||
  fail "NewRound.startedBy"
ok "events NewRound($T_NEW) and AnswerUpdated($T_ANS)"

cast send --rpc-url "$RPC_URL" --private-key "$KEY1" "$AGG" "updateAnswer(int256)" 300100000000 >/dev/null
L="$("$CHAIN" latest "$AGG")"
[ "$(field "$L" roundId)" = 2 ] && [ "$(field "$L" answer)" = 300100000000 ] || fail "second update: $L"
R1="$(cast call --rpc-url "$RPC_URL" "$AGG" 'getRoundData(uint80)(uint80,int256,uint256,uint256,uint80)' 1 | sed -n 2p)"
[ "${R1%% *}" = 300012345678 ] || fail "getRoundData(1) answer: $R1"
ok "second update: $L; getRoundData(1) keeps round 1"

# Refusals: a non-transmitter, an out-of-bounds answer, a round that does not exist.
if cast send --rpc-url "$RPC_URL" --private-key "$KEY2" "$AGG" "updateAnswer(int256)" 1 >"$TMP/refused.txt" 2>&1; then
  fail "updateAnswer from non-transmitter #2 was accepted"
fi
# The revert carries the custom error NotTransmitter(address) with the caller.
SEL=$(cast sig "NotTransmitter(address)")
grep -qi "revert.*${SEL}.*${ADDR2#0x}" "$TMP/refused.txt" || fail "non-transmitter: no NotTransmitter revert: $(cat "$TMP/refused.txt")"
SEL=$(cast sig "AnswerOutOfBounds(int256,int256,int256)")
for bad in 100000000000001 0 -5; do
  if cast send --rpc-url "$RPC_URL" --private-key "$KEY1" "$AGG" "updateAnswer(int256)" -- "$bad" >"$TMP/bounds.txt" 2>&1; then
    fail "answer $bad outside [1, 1e14] was accepted"
  fi
  grep -qi "revert.*${SEL}" "$TMP/bounds.txt" || fail "answer $bad: no AnswerOutOfBounds revert: $(cat "$TMP/bounds.txt")"
done
if cast call --rpc-url "$RPC_URL" "$AGG" 'getRoundData(uint80)(uint80,int256,uint256,uint256,uint80)' 99 >/dev/null 2>&1; then
  fail "getRoundData(99) did not revert"
fi
L="$("$CHAIN" latest "$AGG")"
[ "$(field "$L" roundId)" = 2 ] && [ "$(field "$L" answer)" = 300100000000 ] || fail "state changed by refused calls: $L"
ok "refused: non-transmitter #2 (reverts), answers out of [1, 1e14], getRoundData(99); state unchanged"

# The owner can add #2; then #2 may update.
cast send --rpc-url "$RPC_URL" --private-key "$KEY0" "$AGG" "setTransmitter(address,bool)" "$ADDR2" true >/dev/null
cast send --rpc-url "$RPC_URL" --private-key "$KEY2" "$AGG" "updateAnswer(int256)" 299900000000 >/dev/null
L="$("$CHAIN" latest "$AGG")"
[ "$(field "$L" roundId)" = 3 ] && [ "$(field "$L" answer)" = 299900000000 ] || fail "update from added #2: $L"
if cast send --rpc-url "$RPC_URL" --private-key "$KEY1" "$AGG" "setTransmitter(address,bool)" "$ADDR1" false >/dev/null 2>&1; then
  fail "a transmitter (not the owner) changed the transmitter list"
fi
ok "owner adds transmitter #2, which then updates ($L); non-owner cannot manage transmitters"

# ---- Chainlink MockV3Aggregator (1.5.0) ------------------------------------------------------------
MOCK="$("$CHAIN" deploy MockV3Aggregator 8 200000000000)"
L="$("$CHAIN" latest "$MOCK")"
[ "$(field "$L" roundId)" = 1 ] && [ "$(field "$L" answer)" = 200000000000 ] || fail "MockV3 initial: $L"
cast send --rpc-url "$RPC_URL" --private-key "$KEY1" "$MOCK" "updateAnswer(int256)" 210000000000 >/dev/null
L="$("$CHAIN" latest "$MOCK")"
[ "$(field "$L" roundId)" = 2 ] && [ "$(field "$L" answer)" = 210000000000 ] || fail "MockV3 after update: $L"
[ "$(field "$L" updatedAt)" -gt 0 ] || fail "MockV3 updatedAt: $L"
ok "MockV3Aggregator at $MOCK: updateAnswer(int256) -> $L"

# ---- Chainlink FluxAggregator (0.8.0, solc 0.6.6), zero payment, oracle = #1 ------------------------
FLUX="$("$CHAIN" deploy-flux "$ADDR1")"
[ "$(cast call --rpc-url "$RPC_URL" "$FLUX" 'getOracles()(address[])')" = "[$ADDR1]" ] || fail "Flux oracles"
# The round the oracle should submit next, as the signer will read it: oracleRoundState(oracle, 0).
NEXT="$(cast call --rpc-url "$RPC_URL" "$FLUX" 'oracleRoundState(address,uint32)(bool,uint32,int256,uint64,uint64,uint128,uint8,uint128)' "$ADDR1" 0 | sed -n 2p)"
[ "$NEXT" = 1 ] || fail "Flux suggested round: $NEXT"
cast send --rpc-url "$RPC_URL" --private-key "$KEY1" "$FLUX" "submit(uint256,int256)" 1 305000000000 >/dev/null
L="$("$CHAIN" latest "$FLUX")"
[ "$(field "$L" roundId)" = 1 ] && [ "$(field "$L" answer)" = 305000000000 ] || fail "Flux after submit: $L"
[ "$(field "$L" updatedAt)" -gt 0 ] || fail "Flux updatedAt: $L"
NEXT="$(cast call --rpc-url "$RPC_URL" "$FLUX" 'oracleRoundState(address,uint32)(bool,uint32,int256,uint64,uint64,uint128,uint8,uint128)' "$ADDR1" 0 | sed -n 2p)"
[ "$NEXT" = 2 ] || fail "Flux suggested round after 1: $NEXT"
cast send --rpc-url "$RPC_URL" --private-key "$KEY1" "$FLUX" "submit(uint256,int256)" 2 306000000000 >/dev/null
L="$("$CHAIN" latest "$FLUX")"
[ "$(field "$L" roundId)" = 2 ] && [ "$(field "$L" answer)" = 306000000000 ] || fail "Flux second round: $L"
if cast send --rpc-url "$RPC_URL" --private-key "$KEY2" "$FLUX" "submit(uint256,int256)" 3 1 >/dev/null 2>&1; then
  fail "Flux accepted a submission from a non-oracle"
fi
ok "FluxAggregator at $FLUX: submit(1,..) and submit(2,..) from oracle #1 -> $L; non-oracle refused"

# ---- stop ----------------------------------------------------------------------------------------
"$CHAIN" stop "$ANVIL_PID"
kill -0 "$ANVIL_PID" 2>/dev/null && fail "anvil $ANVIL_PID still running after stop"
ANVIL_PID=""
ok "anvil stopped"
echo "chain_contracts: all $checks checks passed"
