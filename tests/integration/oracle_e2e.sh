#!/usr/bin/env bash
# The Oracle Publisher end to end on a real local chain (anvil, chain id 138):
#   price-sim (real CoinGecko/Binance/Coinbase/Kraken formats) -> 3 fetchers -> median -> gate
#   -> signer -> submitter -> OracleAggregator, all through busd, frames signed and trust-checked.
# It asserts the on-chain latestRoundData after each step:
#   1. first update; 2. moves within the threshold: none until the heartbeat; 3. a move past the
#   threshold: one update, promptly; 4. flat price: heartbeat updates; 5. one source lying: ignored;
#   6. two sources down: no quorum, below_quorum alert, no round at all over two heartbeats;
#   7. a wrong-key price.update injected with bus-tap: refused and alerted; 8. signer and submitter
#   each SIGKILLed mid-run and restarted: no nonce gap, no duplicate, no lost update.
set -euo pipefail
# shellcheck source=../lib/oracle_stack.sh
. "$(dirname "$0")/../lib/oracle_stack.sh"
step() { echo "== $*"; }
stack_up

# ---- 1. first update --------------------------------------------------------------------------
step "1. first update"
read -r R A < <(wait_round 1 25) || fail "no first update on chain (round $R)"
[ "$A" = 300000000000 ] || fail "first answer $A, want 300000000000"
grep -q '"reason":"first"' "$TMP/bus.jsonl" || fail "no price.update with reason first"
echo "round $R answer $A"

# Helpers over the bus capture and the actors' metrics (the "no update" checks first wait for a
# metric proving the gate evaluated the new price; then they look at what was decided, so a
# heartbeat that falls inside a slow step is no failure).
gate_metric() { metric_at "$GTPORT" "$1"; }
gate_dev_is() { [ "$(gate_metric 'gate_deviation_ppm{feed="ETH-USD"}')" = "$1" ]; }
gate_idle() { [ "$(gate_metric 'gate_inflight{feed="ETH-USD"}')" = 0 ]; }
# updates ANSWER [REASON]: distinct price.update ids (the gate re-publishes under the same id)
updates() {
	python3 - "$TMP/bus.jsonl" "$1" "${2:-}" <<'PY'
import json, sys
ids = set()
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("type") == "price.update" and "body" in m and m["body"]["answer"] == sys.argv[2] \
            and (not sys.argv[3] or m["body"]["reason"] == sys.argv[3]):
        ids.add(m["id"])
print(len(ids))
PY
}
updates_ge() { [ "$(updates "$2" "${3:-}")" -ge "$1" ]; }
on_bus() { jq -c "select($1)" "$TMP/bus.jsonl" 2>/dev/null | grep -q .; }  # a jq condition

# ---- 2. moves within the 1% threshold: no deviation update ----------------------------------
step "2. moves within the threshold"
price 3015  # +0.5%
wait_for 10 "the gate evaluated 3015" gate_dev_is 5000
price 3020  # +0.67%
wait_for 10 "the gate evaluated 3020" gate_dev_is 6666
[ "$(updates 301500000000 deviation)" = 0 ] && [ "$(updates 302000000000 deviation)" = 0 ] ||
	fail "an update within the threshold: $(grep '"price.update' "$TMP/bus.jsonl" | tail -1)"
echo "no deviation update for 0.5% and 0.67% moves (a heartbeat may come: 12 s)"

# ---- 3. a move past the threshold: one update, promptly ---------------------------------------
step "3. a move past the threshold"
T1=$(date +%s%N)
price 3060  # +2%
read -r R3 A3 < <(wait_answer 306000000000 10) || fail "no deviation update to 3060 (round $R3 answer $A3)"
T2=$(date +%s%N)
[ "$(updates 306000000000 deviation)" = 1 ] || fail "no single price.update with reason deviation for 3060"
echo "round $R3 answer $A3 after $(( (T2 - T1) / 1000000 )) ms (includes the fetch interval)"
# the gate took the new answer and saw the next aggregates equal to it: no second update follows
wait_for 10 "the gate at 3060 with nothing in flight" sh -c "curl -sf http://127.0.0.1:$GTPORT/metrics |
	grep -q '^gate_deviation_ppm{feed=\"ETH-USD\"} 0\$' && curl -sf http://127.0.0.1:$GTPORT/metrics |
	grep -q '^gate_inflight{feed=\"ETH-USD\"} 0\$'"
[ "$(updates 306000000000 deviation)" = 1 ] || fail "more than one update for one move"

# ---- 4. flat price: heartbeat ----------------------------------------------------------------
step "4. flat price: heartbeat"
wait_for 20 "a heartbeat update of 3060" updates_ge 1 306000000000 heartbeat
read -r R4 A4 < <(wait_round $((R3 + 1)) 10) || fail "the heartbeat did not land (round $R4)"
[ "$A4" = 306000000000 ] || fail "heartbeat answer $A4"
echo "heartbeat round $R4"

# ---- 5. one source lying: ignored --------------------------------------------------------------
step "5. one source lying"
outliers() { curl -s "http://127.0.0.1:$MPORT/metrics" | awk '/^median_outliers_total/ {s += $2} END {print s + 0}'; }
outliers_gt() { [ "$(outliers)" -gt "$1" ]; }
o0=$(outliers)
ctl lie "source=kraken&offset=10"
wait_for 10 "the median dropped the lying source" outliers_gt $((o0 + 2))
read -r R5 A5 < <(round)
[ "$A5" = 306000000000 ] || fail "the lying source moved the answer to $A5"
[ "$(updates 336600000000)" = 0 ] || fail "an update with the lying source's price"
outl=$(outliers)
ctl lie "source=kraken&offset=0"
echo "kraken +10% ignored ($outl outliers counted), answer still $A5"

# ---- 6. two sources down: no quorum, alert, no update ------------------------------------------
step "6. two sources down"
ctl mode "source=binance&mode=down"
ctl mode "source=coinbase&mode=down"
# the median notices once their last observations are older than WINDOW (3 s)
wait_for 10 "below_quorum alert" on_bus '.type=="alert" and .body.kind=="below_quorum" and .body.status=="firing"'
# the gate holds the feed once the last aggregate is older than its window; an update decided before
# that may still land: the round is read once nothing is in flight, and from then on none may land
gate_holds() { [ "$(gate_metric 'gate_aggregate_stale{feed="ETH-USD"}')" = 1 ]; }
wait_for 10 "the gate holds the feed (gate_aggregate_stale)" gate_holds
wait_for 30 "nothing in flight" gate_idle
read -r RQ AQ < <(round)
price 3200  # +4.6%: would be an update if there were a quorum
# kraken observes 3200; once the median refused an aggregation after that, it had the chance
wait_for 10 "kraken observed 3200" on_bus '.type=="price.obs" and .body.source=="kraken" and .body.value=="320000000000"'
refusals() { metric_at "$MPORT" 'median_refusals_total{feed="ETH-USD",reason="below_quorum"}'; }
f0=$(refusals)
refusals_gt() { [ "$(refusals)" -gt "$1" ]; }
wait_for 10 "the median refused again" refusals_gt "${f0:-0}"
[ "$(updates 320000000000)" = 0 ] || fail "an update without quorum"
# no round at all - neither 3200 nor a heartbeat of the old price - until the gate's own view of the
# on-chain age (now - updatedAt of round $RQ) has passed two heartbeats
HB_S=${HEARTBEAT:-12s}
HB_S=${HB_S%s}
onchain_age_ge() {
	local a
	a=$(gate_metric 'gate_onchain_age_seconds{feed="ETH-USD"}')
	[ -n "$a" ] && awk -v a="$a" -v w="$1" 'BEGIN{exit !(a >= w)}'
}
wait_for $((4 * HB_S)) "the on-chain age passes two heartbeats ($((2 * HB_S + 2)) s)" onchain_age_ge $((2 * HB_S + 2))
read -r R6b A6b < <(round)
[ "$R6b" = "$RQ" ] || fail "a round landed without quorum: $RQ -> $R6b (answer $A6b)"
[ "$A6b" = "$AQ" ] || fail "the answer changed without quorum: $AQ -> $A6b"
[ "$(updates 320000000000)" = 0 ] || fail "an update without quorum"
echo "no round without quorum over two heartbeats (round $RQ, on-chain age $(gate_metric 'gate_onchain_age_seconds{feed="ETH-USD"}') s); below_quorum alerted"
ctl mode "source=binance&mode=ok"
ctl mode "source=coinbase&mode=ok"
read -r R6c A6c < <(wait_answer 320000000000 15) || fail "no update to 3200 after the sources came back ($A6c)"

# ---- 7. a wrong-key price.update is refused ---------------------------------------------------
step "7. forged price.update"
read -r _ EVIL < <("$B/bus-tap" --keygen | head -1)
rejected() { curl -s "http://127.0.0.1:$SGPORT/metrics" | awk '/^actor_bad_messages_total/ && /rejected/ {s += $2} END {print s + 0}'; }
rejected_ge() { [ "$(rejected)" -ge "$1" ]; }
BUS_SIGNING_KEY=$EVIL "$B/bus-tap" --url "$IN" --publish price.update.ETH-USD --json \
	"{\"feed\":\"ETH-USD\",\"answer\":\"100000000\",\"decimals\":8,\"reason\":\"deviation\",\"chain_id\":138,\"contract\":\"$AGG\",\"decided_at_ns\":1}" \
	2>>"$TMP/pub.log" || fail "publish forged"
wait_for 10 "the signer counted the forged frame" rejected_ge 1
wait_for 10 "forged_message alert" on_bus '.type=="alert" and .body.kind=="forged_message"'
on_bus '.type=="tx.signed" and .body.answer=="100000000"' && fail "the forged answer was signed"
read -r R7b A7b < <(round)
[ "$A7b" != 100000000 ] || fail "the forged answer reached the chain"
echo "forged update refused ($(rejected) rejected), answer $A7b"

# ---- 8. SIGKILL the signer and the submitter mid-run --------------------------------------------
step "8. signer and submitter killed mid-run"
read -r R8 _ < <(round)
price 3300
sleep 0.5  # somewhere in the update's path: any moment must do
kill -9 "${PID[signer]}"; wait "${PID[signer]}" 2>/dev/null || true
sleep 1
start_signer
read -r R8a A8a < <(wait_answer 330000000000 20) || fail "3300 did not land after the signer restart ($A8a)"
price 3400
sleep 0.7
kill -9 "${PID[submitter]}"; wait "${PID[submitter]}" 2>/dev/null || true
sleep 1
start_submitter
read -r R8b A8b < <(wait_answer 340000000000 20) || fail "last price 3400 never landed (answer $A8b): an update was lost"

# ---- accounting: every round is one transaction, nonces contiguous, nothing signed twice --------
# A heartbeat may land between two reads: the nonce must come to equal the round count (a gap or
# a duplicate never would).
nonce_is_round() { local r a; read -r r a < <(round); [ "$(nonce)" = "$r" ]; }
poll 10 nonce_is_round || true
read -r RF AF < <(round)
N=$(nonce)
echo "final round $RF answer $AF; account nonce $N"
[ "$N" = "$RF" ] || fail "account nonce $N != rounds $RF: a gap, a duplicate or a foreign tx"
python3 - "$TMP/bus.jsonl" <<'PY' || fail "bus accounting"
import json, sys
signed = {}
by_ref = {}
reason = {}   # price.update id (hex) -> reason
answer_of = {}
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("type") == "price.update" and "body" in m:
        reason[m["id"][2:]] = m["body"]["reason"]
    if m.get("type") != "tx.signed" or "body" not in m:
        continue
    b = m["body"]
    answer_of[int(b["nonce"])] = (b["answer"], b.get("ref", ""))
    n, raw, ref = int(b["nonce"]), b["raw"], b.get("ref", "")
    if b.get("replaces", "0x" + "00" * 32) != "0x" + "00" * 32:
        continue  # fee bumps legitimately re-use a nonce
    assert signed.setdefault(n, raw) == raw, f"two different transactions for nonce {n}"
    by_ref.setdefault(ref, set()).add(n)
dups = {r: ns for r, ns in by_ref.items() if len(ns) > 1}
assert not dups, f"one update signed under several nonces: {dups}"
ns = sorted(signed)
assert ns == list(range(ns[0], ns[-1] + 1)), f"nonce gap in {ns}"
# the same answer twice in a row is only right for a heartbeat: anything else is a wasted update
for a, b in zip(ns, ns[1:]):
    (ans_a, _), (ans_b, ref_b) = answer_of[a], answer_of[b]
    if ans_a == ans_b:
        assert reason.get(ref_b) in ("heartbeat", "first"), \
            f"nonces {a} and {b} both publish {ans_a}; the second for reason {reason.get(ref_b)}"
print(f"bus: {len(ns)} nonces {ns[0]}..{ns[-1]} contiguous, one per update")
PY
echo "PASS"
