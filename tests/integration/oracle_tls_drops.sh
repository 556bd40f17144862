#!/usr/bin/env bash
# The Oracle Publisher over an authenticated bus, and its outbox after busd dropped frames:
#  1. STACK_TLS=1: busd and every actor on tls+tcp:// with client certificates; an update lands.
#  2. the submitter is paused (SIGSTOP) while 20 MiB of large frames pass through busd: it goes
#     past its byte bound and loses frames (busd_egress_dropped_total grows); the tx.signed of a new
#     price then waits in its full queue, which busd throws away when it disconnects the stalled
#     submitter (BUSD_SUB_STALL, 4 s x T_SLOW). When continued, the submitter redials, the signer's outbox
#     re-publishes tx.signed until the submitter acknowledges it, and the update lands.
set -euo pipefail
STACK_TLS=1
# 4 s x T_SLOW (common.sh's slow-machine factor, default 4): on a loaded machine under ASan a 4 s bound
# also cut off busd-load's own live subscriber, which reads continuously but got no CPU for 4 s.
export BUSD_SUB_STALL=$((4 * ${T_SLOW:-4}))s
# The submitter takes every frame (no topic declaration, as a plain NNG sub0 or an older client would):
# busd-load's large frames on load.* then fill its queue, which is what step 2 needs. A declaring
# submitter would never be sent them (busd filters topics per subscriber since the topic declarations).
export SUBMITTER_SUB_FILTER=0
# shellcheck source=../lib/oracle_stack.sh
. "$(dirname "$0")/../lib/oracle_stack.sh"
[ -x "$B/busd-load" ] || { echo "missing $B/busd-load (run make)"; exit 1; }
step() { echo "== $*"; }
metric() { curl -sf "http://127.0.0.1:$BPORT/metrics" | awk -v m="$1" '$1==m{print $2}'; }
stack_up

step "1. an update over tls+tcp://"
wait_for 10 "busd says tls on" grep -q '"tls":"on"' "$TMP/busd.log"
wait_round 1 40 >"$TMP/round" || fail "no first update over TLS (round $(cat "$TMP/round"))"
read -r R A <"$TMP/round"
echo "round $R answer $A over $OUT"
[ "$(metric 'busd_refused_total{reason="tls"}')" = 0 ] || fail "busd refused one of the stack's pods"

step "2. a paused submitter loses frames; the outbox recovers the update"
kill -STOP "${PID[submitter]}"
before=$(metric 'busd_egress_dropped_total{bound="subscriber"}')
"$B/busd-load" --ingress "$IN" --egress "$OUT" --pid "${PID[busd]}" --stalled 0 --frames 320 --body 65000 --after-mib 100000 \
	>"$TMP/load.out" 2>"$TMP/load.log" || { cat "$TMP/load.out"; fail "busd-load"; }
after=$(metric 'busd_egress_dropped_total{bound="subscriber"}')
[ "${after%.*}" -gt "${before%.*}" ] || fail "the paused submitter lost no frame ($before -> $after)"
signed_n() { grep -c '"msg":"signed"' "$TMP/signer.log" || true; }
signed_more() { [ "$(signed_n)" -gt "$1" ]; }
n0=$(signed_n)
price 3100
wait_for 20 "tx.signed for 3100 published" signed_more "$n0"
# at least one: under load a live subscriber starved of CPU for BUSD_SUB_STALL is disconnected too (and
# redials); the submitter's own disconnection is the line naming the frames it lost to its bound
metric_ge() { [ "$(metric "$1" | cut -d. -f1)" -ge "$2" ] 2>/dev/null; }
wait_for 20 "the stalled submitter disconnected" grep -qE 'took nothing for [0-9]+ ms with [0-9]+ frames .* queued: disconnected \([1-9][0-9]* frames lost to its bound' "$TMP/busd.log"
metric_ge 'busd_subscribers_disconnected_total{reason="stalled"}' 1 || fail "busd_subscribers_disconnected_total{reason=stalled} not counted"
grep -q 'is behind: lost' "$TMP/busd.log" || fail "busd did not log the subscriber losing frames"
kill -CONT "${PID[submitter]}"
wait_round $((R + 1)) 60 >"$TMP/round" || fail "the update after the drops did not land (round $(cat "$TMP/round"))"
read -r R2 A2 <"$TMP/round"
[ "$A2" = 310000000000 ] || fail "answer $A2, want 310000000000"
echo "dropped for the paused submitter: $((${after%.*} - ${before%.*})) frames, then disconnected with tx.signed queued; round $R2 answer $A2 landed after it continued"
