#!/usr/bin/env bash
# Issue 7 on a real chain (anvil, the whole publisher from tests/lib/oracle_stack.sh, the gate with
# its defaults for AGG_MAX_AGE and GAS_ESTIMATE):
#  1. never stale: two of three fetchers stopped (no quorum at the median): over three heartbeats
#     no round lands (latestRoundData read before and after), the gate says it holds the feed
#     (log, gate_aggregate_stale, /health); fetchers back: the heartbeat lands again;
#  2. gas that fits: the update's gas_limit is the estimate + 25 %;
#  3. a call that reverts (an aggregator whose bounds refuse the price): with GAS_ESTIMATE the
#     gate sends NO transaction, opens the breaker after BREAKER_AFTER (3) estimates, ONE
#     update_failing alert naming the decoded custom error; the breaker survives a restart;
#  4. the old revert loop (GAS_ESTIMATE=false: every tx mined and reverted): after
#     POST /feeds/ETH-USD/reset exactly BREAKER_AFTER transactions are sent (nonce), then the
#     breaker opens again; one more alert, nothing more sent;
#  5. reset onto a good aggregator: the next update lands and clears the count;
#  6. RPC down (anvil SIGSTOPped: its state kept, every call times out): the gate's rpc_unreachable
#     alert on the bus, once however many calls fail, gate_rpc_up 0, /health 503 with the rpc
#     reason; anvil continued: the alert resolves once, /health without it, rounds land again.
# Waits for events (rounds, log lines, alerts); the only fixed windows are the spans over which
# something must NOT happen (three heartbeats; twice the longest backoff).
set -euo pipefail
# shellcheck source=../lib/oracle_stack.sh
. "$(dirname "$0")/../lib/oracle_stack.sh"
step() { echo "== $*"; }
FAIL_TAIL=20
HB=5 # HEARTBEAT seconds
GPORT=$(free_port)
GATE_AGG= GATE_ESTIMATE=true GATE_STATE=gate
start_gate() {  # the gate as in production: AGG_MAX_AGE and GAS_ESTIMATE left at their defaults
	BUS_SIGNING_KEY=$GSEC BUS_TRUST="tx.status=$XPUB" FEED=ETH-USD AGGREGATOR_ADDRESS=${GATE_AGG:-$AGG} \
		CHAIN_ID=138 TRANSMITTER=$ADDR1 DEVIATION_THRESHOLD=1 HEARTBEAT=${HB}s MIN_INTERVAL=1s \
		UPDATE_TIMEOUT=30s CHAIN_POLL=2s BREAKER_AFTER=3 GAS_ESTIMATE=$GATE_ESTIMATE \
		STATE_DIR=$TMP/$GATE_STATE HTTP_PORT=$GPORT HTTP_ADDR=127.0.0.1 INSTANCE=gate-f \
		"$B/gate" 2>>"$TMP/gate.log" &
	PID[gate]=$!
}
start_signer() {  # also allowed to call the refusing aggregator
	BUS_SIGNING_KEY=$SSEC PRIVATE_KEY=$KEY1 STATE_DIR=$TMP/signer CHAIN_ID=138 GAS_PRICE=auto \
		BUS_TRUST="price.update.=$GPUB;tx.ack=$XPUB;tx.bump=$XPUB;gas.quote=$XPUB;nonce.sync=$XPUB" \
		ALLOWED_CONTRACTS="$AGG${AGG_BAD:+,$AGG_BAD}" MIN_ANSWER=1 MAX_ANSWER=100000 OUTBOX_RETRY=1s \
		HTTP_PORT=$SGPORT HTTP_ADDR=127.0.0.1 INSTANCE=signer-e "$B/signer" 2>>"$TMP/signer.log" &
	PID[signer]=$!
}
# returns once the new gate's start-up is done (its state loaded, its first turn run): /metrics
# answers earlier, with the gauges not yet loaded from the store (read there once under load: 0)
restart_gate() {
	local up; up=$(count_log 'start-up done')
	kill -TERM "${PID[gate]}"
	wait "${PID[gate]}" 2>/dev/null || true
	start_gate
	wait_for 20 "gate HTTP" curl -sf "http://127.0.0.1:$GPORT/metrics"
	started_again() { [ "$(count_log 'start-up done')" -gt "$up" ]; }
	wait_for 20 "the restarted gate's start-up" started_again
}
metric() { curl -sf "http://127.0.0.1:$GPORT/metrics" | awk -v k="$1" '$1==k{print $2}'; }
is() { [ "$(metric "$1")" = "$2" ]; }              # metric value (for wait_for: evaluated each try)
alerts_are() { [ "$(alerts "$1" "$2")" = "$3" ]; } # kind status count
count_log() { grep -c "$1" "$TMP/gate.log" || true; }
alerts() {  # kind status -> how many alert frames
	tap_count "$TMP/bus.jsonl" 'l.get("topic", "").startswith("alert.") and b.get("kind") == a[0] and b.get("status") == a[1]' "$1" "$2"
}

# An aggregator whose bounds refuse every ETH price (min 1, max 100 in 8 decimals): updateAnswer
# reverts AnswerOutOfBounds. Deployed before the stack so the signer may call it.
AGG_BAD=
stack_up
AGG_BAD=$("$CHAIN" deploy OracleAggregator 8 "BAD / USD" 1 100 "[\"$ADDR1\"]" 2>>"$TMP/deploy.log")
[[ "$AGG_BAD" =~ ^0x[0-9a-fA-F]{40}$ ]] || fail "deploy printed '$AGG_BAD'"
kill -TERM "${PID[signer]}"; wait "${PID[signer]}" 2>/dev/null || true
start_signer
wait_for 20 "gate HTTP" curl -sf "http://127.0.0.1:$GPORT/metrics"

step "1. never stale"
read -r R A < <(wait_round 1 40) || fail "no first update on chain"
read -r R A < <(wait_round $((R + 1)) 30) || fail "no heartbeat while healthy (round $R)"
echo "healthy: round $R (first, then a heartbeat)"
kill "${PID[fetcher-binance]}" "${PID[fetcher-kraken]}"
wait_for 30 "the gate holding the feed for a stale aggregate" grep -q '"aggregate stale: holding the feed"' "$TMP/gate.log"
wait_for 20 "nothing in flight" is 'gate_inflight{feed="ETH-USD"}' 0
[ "$(metric 'gate_aggregate_stale{feed="ETH-USD"}')" = 1 ] || fail "gate_aggregate_stale not 1"
curl -s "http://127.0.0.1:$GPORT/health" | grep -q '"aggregate:ETH-USD"' || fail "/health does not say it"
read -r R1 _ < <(round)
sleep $((3 * HB + 2)) # three heartbeats: none may land
read -r R2 _ < <(round)
[ "$R2" = "$R1" ] || fail "a round landed without a quorum: $R1 -> $R2"
[ "$(count_log '"aggregate stale: holding the feed"')" = 1 ] || fail "the stale state was logged more than once"
[ "$(alerts aggregate_stale firing)" = 1 ] || fail "aggregate_stale alert not raised exactly once"
echo "no round over $((3 * HB + 2)) s without quorum (round $R1), said once"
for s in binance kraken; do
	case $s in binance) u="$SIM/api/v3/ticker/price?symbol=ETHUSDT" ;; kraken) u="$SIM/0/public/Ticker?pair=XETHZUSD" ;; esac
	SOURCES="$s=$u" FEED=ETH-USD FETCH_INTERVAL=300ms HTTP_TIMEOUT=500ms RETRIES=0 INSTANCE=fetcher-$s \
		"$B/fetcher" 2>>"$TMP/fetcher-$s.log" &
	PID[fetcher-$s]=$!
done
read -r R3 _ < <(wait_round $((R1 + 1)) 40) || fail "no update after the quorum came back"
wait_for 10 "stale state resolved" grep -q '"aggregate fresh again"' "$TMP/gate.log"
echo "quorum back: round $R3"

step "2. gas limit from the estimate"
gl=$(python3 -c '
import json, sys
g = [json.loads(l)["body"].get("gas_limit", 0) for l in open(sys.argv[1]) if "\"price.update.ETH-USD\"" in l]
print(g[-1] if g else 0)' "$TMP/bus.jsonl")
est=$(metric 'gate_gas_estimate{feed="ETH-USD"}')
[ "$gl" -gt 21000 ] && [ "$gl" = $(((est * 125 + 99) / 100)) ] || fail "gas_limit $gl for estimate $est"
echo "gas_limit $gl = estimate $est + 25 %"

step "3. a reverting call with GAS_ESTIMATE: no transaction, breaker after 3"
wait_for 20 "nothing in flight" is 'gate_inflight{feed="ETH-USD"}' 0
N0=$(nonce)
GATE_AGG=$AGG_BAD GATE_STATE=gate-bad
restart_gate
wait_for 60 "the breaker" is 'gate_breaker_open{feed="ETH-USD"}' 1
wait_for 10 "update_failing alert" alerts_are update_failing firing 1
[ "$(nonce)" = "$N0" ] || fail "transactions were sent for a reverting call: nonce $N0 -> $(nonce)"
[ "$(metric 'gate_update_failures_total{feed="ETH-USD"}')" = 3 ] || fail "failures $(metric 'gate_update_failures_total{feed="ETH-USD"}')"
grep -q 'custom error 0x' "$TMP/bus.jsonl" || fail "the alert does not name the revert"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GPORT/health")
[ "$code" = 503 ] || fail "/health $code with the breaker open"
echo "3 estimates, 0 transactions, one alert: $(grep -o 'updates stopped[^"]*' "$TMP/bus.jsonl" | head -1)"

step "4. the old revert loop (GAS_ESTIMATE=false) is bounded; the breaker survived a restart"
GATE_ESTIMATE=false
restart_gate
[ "$(metric 'gate_breaker_open{feed="ETH-USD"}')" = 1 ] || fail "the restart closed the breaker"
resp=$(curl -sf -X POST "http://127.0.0.1:$GPORT/feeds/ETH-USD/reset") || fail "POST reset failed"
echo "reset: $resp"
echo "$resp" | grep -q '"was_open":true' || fail "reset answer $resp"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$GPORT/feeds/NOPE/reset")" = 404 ] ||
	fail "reset of an unknown feed not 404"
wait_for 90 "the breaker again" is 'gate_breaker_open{feed="ETH-USD"}' 1
wait_for 10 "second update_failing alert" alerts_are update_failing firing 2
N1=$(nonce)
sleep 10 # longer than any backoff step before the breaker (1 s x 2^2)
[ "$(nonce)" = "$N1" ] || fail "transactions after the breaker opened: $N1 -> $(nonce)"
[ $((N1 - N0)) = 3 ] || fail "$((N1 - N0)) reverted transactions, want BREAKER_AFTER = 3"
[ "$(alerts update_failing resolved)" = 1 ] || fail "the reset did not resolve the alert once"
grep -q 'reverted' "$TMP/bus.jsonl" || fail "no reverted status"
echo "$((N1 - N0)) reverted transactions then stop; alerts: 2 firing (one per trip), 1 resolved"

step "5. reset onto a good aggregator: updates resume"
GATE_AGG= GATE_ESTIMATE=true
restart_gate # same state dir as 4: the breaker is still open there
[ "$(metric 'gate_breaker_open{feed="ETH-USD"}')" = 1 ] || fail "breaker not persisted"
read -r R4 _ < <(round)
curl -sf -X POST "http://127.0.0.1:$GPORT/feeds/ETH-USD/reset" >/dev/null || fail "reset"
read -r R5 _ < <(wait_round $((R4 + 1)) 30) || fail "no update after the reset"
[ "$(metric 'gate_consecutive_failures{feed="ETH-USD"}')" = 0 ] || fail "count not cleared"
echo "round $R5 after the reset"

step "6. RPC down: rpc_unreachable alert and /health, resolved when the node answers again"
rpc_alerts() {  # status -> the gate's rpc_unreachable alert frames (the submitter says its own)
	tap_count "$TMP/bus.jsonl" '(l.get("topic", "").startswith("alert.") and b.get("kind") == "rpc_unreachable" and
	    b.get("status") == a[0] and b.get("dedupe_key", "").startswith("rpc_unreachable:gate:"))' "$1"
}
rpc_alerts_are() { [ "$(rpc_alerts "$1")" = "$2" ]; }
reads_failed_ge() { [ "$(metric 'gate_chain_read_errors_total{feed="ETH-USD"}')" -ge "$1" ]; }
health() { curl -s "http://127.0.0.1:$GPORT/health"; }
[ "$(rpc_alerts firing)" = 0 ] || fail "rpc_unreachable raised while the node answered"
[ "$(metric gate_rpc_up)" = 1 ] || fail "gate_rpc_up $(metric gate_rpc_up) while the node answers"
read -r R6 _ < <(round)
kill -STOP "$ANVIL_PID"
wait_for 30 "the gate's rpc_unreachable alert" rpc_alerts_are firing 1
[ "$(metric gate_rpc_up)" = 0 ] || fail "gate_rpc_up $(metric gate_rpc_up) with the node stopped"
code=$(curl -s -o "$TMP/health.json" -w '%{http_code}' "http://127.0.0.1:$GPORT/health")
[ "$code" = 503 ] && grep -q '"key":"rpc","text":"no RPC endpoint answers"' "$TMP/health.json" ||
	fail "/health $code without the rpc reason: $(cat "$TMP/health.json")"
# said once, not once per failed call: two more failed polls, still one alert
e0=$(metric 'gate_chain_read_errors_total{feed="ETH-USD"}')
wait_for 30 "two more failed latestRoundData reads" reads_failed_ge $((${e0:-0} + 2))
[ "$(rpc_alerts firing)" = 1 ] || fail "rpc_unreachable raised $(rpc_alerts firing) times for one outage"
kill -CONT "$ANVIL_PID"
wait_for 30 "rpc_unreachable resolved" rpc_alerts_are resolved 1
[ "$(metric gate_rpc_up)" = 1 ] || fail "gate_rpc_up $(metric gate_rpc_up) after the node came back"
health | grep -q '"key":"rpc"' && fail "/health still names rpc: $(health)"
[ "$(rpc_alerts firing)" = 1 ] || fail "rpc_unreachable fired again after it resolved"
read -r R7 _ < <(wait_round $((R6 + 1)) 40) || fail "no round after the node came back (round $R6)"
# an update that could not be estimated for want of a node is retried, not a failure: no breaker
[ "$(metric 'gate_consecutive_failures{feed="ETH-USD"}')" = 0 ] && [ "$(metric 'gate_breaker_open{feed="ETH-USD"}')" = 0 ] ||
	fail "the outage counted as failed updates: $(metric 'gate_consecutive_failures{feed="ETH-USD"}') in a row"
echo "rpc_unreachable: fired once over $(( $(metric 'gate_chain_read_errors_total{feed="ETH-USD"}') - ${e0:-0} )) failed reads, resolved once; round $R7 after"
echo "PASS"
