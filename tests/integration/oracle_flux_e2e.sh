#!/usr/bin/env bash
# The Oracle Publisher on Chainlink's FluxAggregator (0.8.0 from npm), with the documented gas defaults
# (the gate estimates each submit, the signer's GAS_LIMIT default is not used up, nothing set by the
# test): the first round (FluxAggregator's most expensive submit, 207,292 gas, above the old 200,000
# default that reverted out of gas in a loop), later rounds by deviation and heartbeat, every
# transaction successful (nonce == transactions == rounds), and while quorum is lost no round lands,
# past the heartbeat, with the gate saying why.
set -euo pipefail
ORACLE_CONTRACT=flux
# shellcheck source=../lib/oracle_stack.sh
. "$(dirname "$0")/../lib/oracle_stack.sh"
step() { echo "== $*"; }
metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m {print $2; exit}'; }
stack_up

step "1. first round (submit(1, answer)) with estimated gas"
read -r R A < <(wait_round 1 60) || fail "no first round on the FluxAggregator (round $R)"
[ "$A" = 300000000000 ] || fail "first answer $A, want 300000000000"
TX1=$(grep '"topic":"tx.signed"' "$TMP/bus.jsonl" | head -1 | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["body"]["tx_hash"])')
GL=$("$CHAIN" cast tx --rpc-url "$RPC_URL" "$TX1" gas 2>/dev/null)
GU=$("$CHAIN" cast receipt --rpc-url "$RPC_URL" "$TX1" gasUsed 2>/dev/null)
ST=$("$CHAIN" cast receipt --rpc-url "$RPC_URL" "$TX1" status 2>/dev/null)
echo "first submit: gas limit $GL, used $GU, status $ST"
# The first submit needs 207,292 gas to execute (refunds bring gasUsed lower afterwards): the old
# fixed 200,000 reverted out of gas; the estimate plus its margin must clear it.
[ "$GL" -gt 207292 ] || fail "gas limit $GL is below what FluxAggregator's first submit needs"
[ "$GL" -gt "$GU" ] || fail "gas limit $GL does not cover the $GU used"
# ...and it is the gate's estimate, not the signer's fallback GAS_LIMIT (500,000, which would pass the
# two checks above): eth_estimateGas of the same call (the transaction's own input, from the
# transmitter, on the state just before its block: nothing else touched the aggregator) plus
# GAS_MARGIN 25 % rounded up, as the gate computes it, is exactly the transaction's limit and the
# price.update's gas_limit.
BLK=$("$CHAIN" cast receipt --rpc-url "$RPC_URL" "$TX1" blockNumber 2>/dev/null)
INPUT=$("$CHAIN" cast tx --rpc-url "$RPC_URL" "$TX1" input 2>/dev/null)
FROM=$("$CHAIN" cast tx --rpc-url "$RPC_URL" "$TX1" from 2>/dev/null)
[ "${FROM,,}" = "${ADDR1,,}" ] || fail "the first submit came from $FROM, not the transmitter $ADDR1"
[[ "$INPUT" =~ ^0x202ee0ed ]] || fail "the first transaction is not submit(uint256,int256): $INPUT" # its selector
EST=$(rpc eth_estimateGas "[{\"from\":\"$ADDR1\",\"to\":\"$AGG\",\"data\":\"$INPUT\"},\"$(printf '0x%x' $((BLK - 1)))\"]" |
	python3 -c 'import json,sys; print(int(json.load(sys.stdin)["result"], 16))') || fail "eth_estimateGas of the first submit"
WANT=$(((EST * 125 + 99) / 100))
PGL=$(grep '"topic":"price.update.ETH-USD"' "$TMP/bus.jsonl" | head -1 | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["body"].get("gas_limit", 0))')
echo "eth_estimateGas $EST at block $((BLK - 1)): + 25 % = $WANT; price.update gas_limit $PGL"
[ "$PGL" = "$WANT" ] || fail "price.update gas_limit $PGL, want the estimate $EST + 25 % = $WANT"
[ "$GL" = "$WANT" ] || fail "gas limit $GL is not the gate's estimate $EST + 25 % = $WANT"
case "$ST" in 1 | true | *success*) ;; *) fail "first submit status $ST" ;; esac

step "2. a move past the threshold: round 2"
price 3060
read -r R2 A2 < <(wait_round 2 30) || fail "no second round (round $R2)"
[ "$A2" = 306000000000 ] || fail "round 2 answer $A2"

step "3. flat price: heartbeat round"
read -r R3 A3 < <(wait_round 3 60) || fail "no heartbeat round (round $R3)"
[ "$A3" = 306000000000 ] || fail "heartbeat answer $A3"
grep -q '"reason":"heartbeat"' "$TMP/bus.jsonl" || fail "no heartbeat update"

step "4. every transaction succeeded: nonce == rounds, no failed status"
wait_for 30 "nonce reaches the round count" sh -c "[ \"\$('$CHAIN' cast nonce --rpc-url '$RPC_URL' '$ADDR1')\" -ge $R3 ]"
N=$(nonce)
read -r RN _ < <(round)
[ "$N" = "$RN" ] || fail "nonce $N but $RN rounds: a transaction did not land as a round (reverted?)"
! grep '"topic":"tx.status"' "$TMP/bus.jsonl" | grep -q '"state":"failed"' || fail "a failed transaction"
echo "nonce $N == rounds $RN, no failed transaction"

step "5. quorum lost: no round, even past the heartbeat"
ctl mode "source=binance&mode=down"
ctl mode "source=coinbase&mode=down"
# the median stops (below_quorum), the gate holds the last aggregate until it is stale
wait_for 60 "below_quorum alert" grep -q '"kind":"below_quorum"' "$TMP/bus.jsonl"
wait_for 60 "the gate calls the aggregate stale" grep -q '"kind":"aggregate_stale"' "$TMP/bus.jsonl"
read -r RQ _ < <(round)
price 3300  # +7.8%: an update if a quorum were there
# proof the gate decided past the heartbeat: its on-chain age gauge exceeds HEARTBEAT (12 s)
wait_for 90 "the gate's view of the on-chain age passes the heartbeat" sh -c \
	"[ \"\$(curl -s http://127.0.0.1:$GTPORT/metrics | awk '\$1 ~ /^gate_onchain_age_seconds/ {print int(\$2); exit}')\" -ge 14 ]"
read -r RQ2 AQ2 < <(round)
[ "$RQ2" = "$RQ" ] || fail "a round landed without quorum (round $RQ2, answer $AQ2)"
echo "round still $RQ2 past the heartbeat with 1 of 3 sources"
ctl mode "source=binance&mode=ok"
ctl mode "source=coinbase&mode=ok"
read -r RR AR < <(wait_round $((RQ + 1)) 60) || fail "no round after the sources came back"
[ "$AR" = 330000000000 ] || fail "answer after recovery $AR"
echo "oracle_flux_e2e: FluxAggregator rounds 1..$RR with default gas settings, none without quorum"
