#!/usr/bin/env bash
# The alerter at 10,000 alerts a minute: the real process (bus -> engine: state, grouping, outbox in
# LMDB -> delivery thread: rate limit, signed webhook) with a local HTTP receiver
# (tools/alert-sink-double), fed by tools/bench-pub over busd.
#
#   1. sustained: 10,000 alerts a minute (167/s) for ALERT_SECONDS (30) over ALERT_KEYS (200) dedupe
#      keys, every 10th alert of a key a resolve: CPU seconds per 1,000 alerts (utime + stime of
#      /proc/<pid>/stat), every alert received (alerter_received_total);
#   2. burst: ALERT_BURST (10,000) alerts at ALERT_BURST_RATE (2,000/s: 12 times the aim) : the
#      alerter's ingest rate (received / time until the last was counted) and how many were lost (a
#      subscriber that falls behind loses frames at its NNG receive queue);
#   3. what the sink saw: with GROUP_INTERVAL 5m and SINK_RATE_LIMIT 30 per minute, the webhook
#      requests must stay within the rate limit (30 at start, the bucket is full, + 30 per minute
#      after) however many alerts arrive, and the outbox within one entry per key;
#   4. the alerter's private memory (Private_Clean + Private_Dirty of smaps_rollup) at the end.
# Fails when an alert is lost in the sustained phase or the sink saw more than the rate limit allows.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/lib/common.sh
B=$BUILD/bin
for b in busd alerter alert-sink-double bench-pub; do [ -x "$B/$b" ] || { echo "missing $B/$b (run make)"; exit 1; }; done
SECS=${ALERT_SECONDS:-30} KEYS=${ALERT_KEYS:-200} BURST=${ALERT_BURST:-10000} BRATE=${ALERT_BURST_RATE:-2000}
RATE_LIMIT=30
IN=ipc://$TMP/in.ipc OUT=ipc://$TMP/out.ipc
BP=$(free_port) DP=$(free_port) HP=$(free_port)
SECRET=bench-hook-secret
BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$TMP/journal HTTP_PORT=$BP HTTP_ADDR=127.0.0.1 INSTANCE=busd \
	LOG_LEVEL=warn "$B/busd" 2>>"$TMP/busd.log" &
PIDS+=($!)
"$B/alert-sink-double" --port "$DP" --record "$TMP/rec.jsonl" --secret "$SECRET" 2>>"$TMP/double.log" &
PIDS+=($!)
T_HOOK_SECRET=$SECRET WEBHOOK_URL=http://127.0.0.1:$DP/hook WEBHOOK_SECRET=$SECRET STATE_DIR=$TMP/alerter \
	BUS_PUB_URL=$IN BUS_SUB_URL=$OUT INSTANCE=alerter-b HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 GROUP_INTERVAL=5m \
	SINK_RATE_LIMIT=$RATE_LIMIT LOG_LEVEL=warn "$B/alerter" 2>>"$TMP/alerter.log" &
APID=$!
PIDS+=($APID)
wait_for 10 "alerter /health" curl -sf "http://127.0.0.1:$HP/health"
wait_for 5 "double up" curl -s -o /dev/null "http://127.0.0.1:$DP/"
wait_subscribers "$BP" 1

received() { curl -sf "http://127.0.0.1:$HP/metrics" | awk '$1 ~ /^alerter_received_total/ {s += $2} END {print s + 0}'; }
pending() { curl -sf "http://127.0.0.1:$HP/metrics" | awk '$1 ~ /^alerter_outbox_pending/ {s += $2} END {print s + 0}'; }
ticks() { awk '{print $14 + $15}' "/proc/$APID/stat"; }
received_ge() { [ "$(received)" -ge "$1" ]; }
HZ=$(getconf CLK_TCK)
T0=$(date +%s.%N)

# 1. sustained
n1=$((SECS * 10000 / 60))
c0=$(ticks)
"$B/bench-pub" alerts --url "$IN" --rate 167 --count "$n1" --keys "$KEYS" --resolve-every 10
wait_for 10 "the alerter counted the sustained phase's alerts" received_ge "$n1"
c1=$(ticks)
r1=$(received)

# 2. burst
t2=$(date +%s.%N)
"$B/bench-pub" alerts --url "$IN" --rate "$BRATE" --count "$BURST" --keys "$KEYS" --resolve-every 10
# every alert or as many as arrived: wait until the count stops moving
last=-1
while :; do
	r=$(received)
	[ "$r" -ge $((n1 + BURST)) ] && break
	[ "$r" = "$last" ] && break
	last=$r
	sleep 1
done
t3=$(date +%s.%N)
c2=$(ticks)
r2=$(received)
sleep 1
T1=$(date +%s.%N)
sink=$(grep -c '"kind":"webhook"' "$TMP/rec.jsonl" || true)
ok=$(grep -c '"status":200' "$TMP/rec.jsonl" || true)
priv=$(awk '/^Private_(Clean|Dirty)/ {s += $2} END {print s}' "/proc/$APID/smaps_rollup")
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$APID/status")
pend=$(pending)

python3 - "$n1" "$r1" "$c0" "$c1" "$c2" "$HZ" "$BURST" "$r2" "$t2" "$t3" "$T0" "$T1" "$sink" "$ok" "$priv" "$rss" \
	"$pend" "$KEYS" "$RATE_LIMIT" "$SECS" "$BRATE" <<'PY'
import sys
a = sys.argv[1:]
n1, r1, c0, c1, c2, hz, burst, r2 = (int(x) for x in a[:8])
t2, t3, T0, T1 = (float(x) for x in a[8:12])
sink, ok, priv, rss, pend, keys, rl, secs, brate = (int(x) for x in a[12:21])
cpu1 = (c1 - c0) / hz
got_burst = r2 - r1
print(f"sustained 10,000 alerts/min for {secs} s over {keys} keys: {r1} of {n1} received, "
      f"CPU {cpu1:.2f} s = {cpu1 * 1000 / max(r1, 1):.3f} CPU s per 1,000 alerts ({cpu1 / secs * 100:.1f} % of a core)")
print(f"burst of {burst} at {brate}/s: {got_burst} received in {t3 - t2:.2f} s = {got_burst / (t3 - t2):.0f} alerts/s "
      f"({got_burst / (t3 - t2) * 60:.0f}/min; lost {burst - got_burst}), "
      f"CPU {(c2 - c1) / hz * 1000 / max(got_burst, 1):.3f} s per 1,000")
minutes = (T1 - T0) / 60
bound = rl + rl * minutes
print(f"sink traffic: {sink} webhook requests ({ok} accepted) for {r2} alerts in {T1 - T0:.0f} s "
      f"(rate limit {rl}/min allows {bound:.0f}); outbox pending {pend} (keys {keys})")
print(f"alerter memory: private {priv / 1024:.1f} MiB, VmRSS {rss / 1024:.1f} MiB")
bad = []
if r1 < n1: bad.append(f"{n1 - r1} alerts lost at 10,000/min")
if sink > bound + 1: bad.append("the sink saw more than the rate limit allows")
if pend > keys + 1: bad.append("more than one outbox entry per key")
if bad:
    print("FAIL: " + "; ".join(bad)); sys.exit(1)
PY
