#!/usr/bin/env bash
# The Oracle Publisher end to end on a real local chain (anvil, chain id 138):
#   price-sim (real CoinGecko/Binance/Coinbase/Kraken formats) -> 3 fetchers -> median -> gate
#   -> signer -> submitter -> OracleAggregator, all through busd, frames signed and trust-checked.
# It asserts the on-chain latestRoundData after each step:
#   1. first update; 2. moves within the threshold: none until the heartbeat; 3. a move past the
#   threshold: one update, promptly; 4. flat price: heartbeat updates; 5. one source lying: ignored;
#   6. two sources down: no quorum, below_quorum alert, no update; 7. a wrong-key price.update
#   injected with bus-tap: refused and alerted; 8. signer and submitter each SIGKILLed mid-run and
#   restarted: no nonce gap, no duplicate, no lost update.
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

# ---- 2. moves within the 1% threshold: none until the heartbeat --------------------------------
step "2. moves within the threshold"
T0=$(date +%s)
price 3015  # +0.5%
sleep 2
price 3020  # +0.67%
sleep 2
read -r R2 A2 < <(round)
[ "$R2" = "$R" ] || fail "an update within the threshold (round $R2, answer $A2)"
echo "no update for 0.5% and 0.67% moves (round still $R2)"

# ---- 3. a move past the threshold: one update, promptly ---------------------------------------
step "3. a move past the threshold"
T1=$(date +%s%N)
price 3060  # +2%
read -r R3 A3 < <(wait_round $((R + 1)) 10) || fail "no deviation update within 10 s"
T2=$(date +%s%N)
[ "$A3" = 306000000000 ] || fail "deviation answer $A3, want 306000000000"
grep -q '"reason":"deviation"' "$TMP/bus.jsonl" || fail "no price.update with reason deviation"
echo "round $R3 answer $A3 after $(( (T2 - T1) / 1000000 )) ms (includes the fetch interval)"
sleep 2
read -r R3b _ < <(round)
[ "$R3b" = "$R3" ] || fail "more than one update for one move (round $R3b)"

# ---- 4. flat price: heartbeat ----------------------------------------------------------------
step "4. flat price: heartbeat"
read -r R4 A4 < <(wait_round $((R3 + 1)) 20) || fail "no heartbeat update within 20 s"
[ "$A4" = 306000000000 ] || fail "heartbeat answer $A4"
grep -q '"reason":"heartbeat"' "$TMP/bus.jsonl" || fail "no price.update with reason heartbeat"
echo "heartbeat round $R4"

# ---- 5. one source lying: ignored --------------------------------------------------------------
step "5. one source lying"
ctl lie "source=kraken&offset=10"
sleep 3
read -r R5 A5 < <(round)
[ "$A5" = 306000000000 ] || fail "the lying source moved the answer to $A5"
outl=$(curl -s "http://127.0.0.1:$MPORT/metrics" | awk '/^median_outliers_total/ {s += $2} END {print s + 0}')
[ "$outl" -gt 0 ] || fail "the median did not count the lying source as an outlier"
ctl lie "source=kraken&offset=0"
echo "kraken +10% ignored ($outl outliers counted), answer still $A5"

# ---- 6. two sources down: no quorum, alert, no update ------------------------------------------
step "6. two sources down"
ctl mode "source=binance&mode=down"
ctl mode "source=coinbase&mode=down"
sleep 4.5
read -r R6 _ < <(round)
price 3200  # +4.6%: would be an update if there were a quorum
sleep 3
read -r R6b A6b < <(round)
[ "$R6b" = "$R6" ] || fail "an update without quorum (round $R6b, answer $A6b)"
grep -q '"kind":"below_quorum"' "$TMP/bus.jsonl" || fail "no below_quorum alert"
echo "no update without quorum; below_quorum alerted"
ctl mode "source=binance&mode=ok"
ctl mode "source=coinbase&mode=ok"
read -r R6c A6c < <(wait_round $((R6 + 1)) 15) || fail "no update after the sources came back"
[ "$A6c" = 320000000000 ] || fail "answer after recovery $A6c"

# ---- 7. a wrong-key price.update is refused ---------------------------------------------------
step "7. forged price.update"
read -r _ EVIL < <("$B/bus-tap" --keygen | head -1)
read -r R7 _ < <(round)
BUS_SIGNING_KEY=$EVIL "$B/bus-tap" --url "$IN" --publish price.update.ETH-USD --json \
	"{\"feed\":\"ETH-USD\",\"answer\":\"100000000\",\"decimals\":8,\"reason\":\"deviation\",\"chain_id\":138,\"contract\":\"$AGG\",\"decided_at_ns\":1}" \
	2>>"$TMP/pub.log" || fail "publish forged"
sleep 3
read -r R7b A7b < <(round)
[ "$A7b" != 100000000 ] || fail "the forged answer reached the chain"
rej=$(curl -s "http://127.0.0.1:$SGPORT/metrics" | awk '/^actor_bad_messages_total/ && /rejected/ {s += $2} END {print s + 0}')
[ "$rej" -ge 1 ] || fail "the signer did not count the forged frame"
grep -q '"kind":"forged_message"' "$TMP/bus.jsonl" || fail "no forged_message alert"
echo "forged update refused ($rej rejected), answer $A7b"

# ---- 8. SIGKILL the signer and the submitter mid-run --------------------------------------------
step "8. signer and submitter killed mid-run"
read -r R8 _ < <(round)
price 3300
sleep 0.5
kill -9 "${PID[signer]}"; wait "${PID[signer]}" 2>/dev/null || true
sleep 1
start_signer
read -r R8a A8a < <(wait_round $((R8 + 1)) 20) || fail "no update after the signer restart"
price 3400
sleep 0.7
kill -9 "${PID[submitter]}"; wait "${PID[submitter]}" 2>/dev/null || true
sleep 1
start_submitter
read -r R8b A8b < <(wait_round $((R8a + 1)) 20) || fail "no update after the submitter restart"
for _ in $(seq 30); do read -r R8c A8c < <(round); [ "$A8c" = 340000000000 ] && break; sleep 0.5; done
[ "$A8c" = 340000000000 ] || fail "last price 3400 never landed (answer $A8c): an update was lost"
sleep 3

# ---- accounting: every round is one transaction, nonces contiguous, nothing signed twice --------
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
