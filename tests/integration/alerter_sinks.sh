#!/usr/bin/env bash
# The alerter with all four sinks: busd, the REAL Alertmanager (Debian's prometheus-alertmanager,
# null receiver), alert-sink-double for Slack / PagerDuty / the signed webhook, alerts injected
# with bus-tap. Checks:
#  1. one firing alert reaches every sink in its format: Alertmanager's GET /api/v2/alerts shows it
#     with its labels; Slack got {"text"}; PagerDuty a trigger with the dedup_key; the webhook's
#     HMAC verifies (in the double, and again here with Python's hmac); Alertmanager gets re-sends
#  2. a storm of 50 identical alerts -> one delivery per sink within GROUP_INTERVAL
#  3. a resolve -> PagerDuty resolve with the same dedup_key; gone from Alertmanager's active list
#  4. PagerDuty answering 429 twice then 202 -> delivered exactly once after retries
#  5. the double down while an alert arrives, the alerter SIGKILLed and restarted, the double
#     back -> delivered exactly once per sink; alert.error.sink_failing raised and resolved
#  6. promtool check metrics; RSS and delivery latency reported
set -Eeuo pipefail
. "$(dirname "$0")/../lib/common.sh"
BUILD=${BUILD:-build}
BUSD=$BUILD/bin/busd TAP=$BUILD/bin/bus-tap AL=$BUILD/bin/alerter DBL=$BUILD/bin/alert-sink-double
AM=/usr/bin/prometheus-alertmanager
for b in "$BUSD" "$TAP" "$AL" "$DBL" "$AM"; do [ -x "$b" ] || { echo "missing $b (run make / make deps)"; exit 1; }; done
trap 'fail "command failed at line $LINENO"' ERR

IN=ipc://$TMP/in.ipc OUT=ipc://$TMP/out.ipc
AMP=$(free_port) DP=$(free_port) HP=$(free_port)
REC=$TMP/rec.jsonl
PD_KEY=0123456789abcdef0123456789abcdef HOOK_SECRET=hook-secret-for-tests

BP=$(free_port)
BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$TMP/journal HTTP_PORT=$BP HTTP_ADDR=127.0.0.1 INSTANCE=busd \
	"$BUSD" 2>>"$TMP/busd.log" &
PIDS+=($!)
cat >"$TMP/am.yml" <<YML
route:
  receiver: "null"
receivers:
  - name: "null"
YML
"$AM" --config.file="$TMP/am.yml" --web.listen-address=127.0.0.1:$AMP --storage.path="$TMP/am" \
	--cluster.listen-address= 2>>"$TMP/alertmanager.log" &
PIDS+=($!)
start_double() {
	"$DBL" --port "$DP" --record "$REC" --secret "$HOOK_SECRET" 2>>"$TMP/double.log" &
	DPID=$!
	PIDS+=($DPID)
}
start_double
cat >"$TMP/sinks.json" <<JSON
{"sinks": [
  {"name": "am", "type": "alertmanager", "url": "http://127.0.0.1:$AMP", "generator_url": "http://127.0.0.1:$HP/metrics"},
  {"name": "chat", "type": "slack", "url_env": "T_SLACK_URL", "send_resolved": true},
  {"name": "oncall", "type": "pagerduty", "url": "http://127.0.0.1:$DP/v2/enqueue", "secret_env": "T_PD_KEY",
   "min_severity": "error"},
  {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:$DP/hook", "secret_env": "T_HOOK_SECRET"}
]}
JSON
start_alerter() {
	T_SLACK_URL=http://127.0.0.1:$DP/slack/T000/B000/XXXX T_PD_KEY=$PD_KEY T_HOOK_SECRET=$HOOK_SECRET \
	CONFIG_FILE=$TMP/sinks.json STATE_DIR=$TMP/alerter BUS_PUB_URL=$IN BUS_SUB_URL=$OUT INSTANCE=alerter-t \
	HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 RESEND_INTERVAL=2s GROUP_INTERVAL=5m RETRY_INITIAL=300ms RETRY_MAX=2s \
	SINK_RATE_LIMIT=600 SINK_FAILING_AFTER=3 HTTP_TIMEOUT=2s LOG_LEVEL=info "$AL" 2>>"$TMP/alerter.log" &
	APID=$!
	PIDS+=($APID)
	wait_for 10 "alerter /health" curl -sf "http://127.0.0.1:$HP/health"
	wait_subscribers "$BP" 1  # the alerter
}
wait_for 15 "alertmanager ready" curl -sf "http://127.0.0.1:$AMP/-/ready"
wait_for 5 "double up" curl -s -o /dev/null "http://127.0.0.1:$DP/"
wait_for 5 "busd /health" curl -sf "http://127.0.0.1:$BP/health"
start_alerter

alert() {  # status kind key severity [labels-json]
	local st=$1 kind=$2 key=$3 sev=$4 labels=${5:-'{"chain":"138","tx_hash":"0xabc"}'}
	echo "{\"v\":1,\"kind\":\"$kind\",\"severity\":\"$sev\",\"status\":\"$st\",\"dedupe_key\":\"$key\",\"summary\":\"$kind on $key\",\"labels\":$labels,\"origin\":\"submitter-0\",\"started_at_ns\":\"$(date +%s%N)\",\"resolved_at_ns\":0}"
}
publish() {  # status kind key severity [bus-tap options]
	local body topic="alert.$4.$2"
	body=$(alert "$1" "$2" "$3" "$4")
	shift 4
	"$TAP" --url "$IN" --publish "$topic" --origin submitter-0 --json "$body" "$@" 2>>"$TMP/tap.log"
}
# count of records: kind status-filter key [action]
recs() {
	python3 - "$REC" "$@" <<'PY'
import json, sys
rec, kind, stf, key = sys.argv[1:5]
action = sys.argv[5] if len(sys.argv) > 5 else None
n = 0
for l in open(rec):
    r = json.loads(l)
    if r["kind"] != kind or key not in r["body"]:
        continue
    if stf == "2xx" and not (200 <= r["status"] < 300): continue
    if stf not in ("2xx", "any") and r["status"] != int(stf): continue
    if action and json.loads(r["body"]).get("event_action") != action: continue
    n += 1
print(n)
PY
}
has() { [ "$(recs "$@")" -ge 1 ]; }
am_has() {  # key [label=value]
	curl -sf "http://127.0.0.1:$AMP/api/v2/alerts" | python3 -c '
import json, sys
key = sys.argv[1]; want = sys.argv[2:]
for a in json.load(sys.stdin):
    l = a["labels"]
    if l.get("dedupe_key") == key and all(l.get(w.split("=")[0]) == w.split("=", 1)[1] for w in want):
        sys.exit(0)
sys.exit(1)' "$@"
}
metric() { curl -sf "http://127.0.0.1:$HP/metrics" | awk -v m="$1" '$1==m{print $2}'; }

echo "== 1. one alert to every sink"
"$BUILD/bin/alert-subscriber" --url "$OUT" --severity critical --count 1 --timeout 20 >"$TMP/subscriber.out" 2>>"$TMP/subscriber.log" &
SUBPID=$!
PIDS+=($SUBPID)
wait_subscribers "$BP" 2
publish firing tx_failed tx_failed:0xaaa critical
wait_for 10 "slack got the alert" has slack 2xx tx_failed:0xaaa
wait_for 10 "pagerduty trigger" has pagerduty 2xx tx_failed:0xaaa trigger
wait_for 10 "webhook" has webhook 2xx tx_failed:0xaaa
wait_for 10 "alertmanager shows it with its labels" am_has tx_failed:0xaaa alertname=tx_failed severity=critical \
	chain=138 tx_hash=0xabc origin=submitter-0
python3 - "$REC" "$HOOK_SECRET" "$PD_KEY" <<'PY' || fail "payload checks"
import json, sys, hmac, hashlib
rec, secret, pdkey = sys.argv[1:4]
rs = [json.loads(l) for l in open(rec)]
slack = [r for r in rs if r["kind"] == "slack" and "0xaaa" in r["body"]][0]
t = json.loads(slack["body"])["text"]
assert list(json.loads(slack["body"]).keys()) == ["text"] and "CRITICAL" in t and "tx_failed on tx_failed:0xaaa" in t, t
pd = json.loads([r for r in rs if r["kind"] == "pagerduty" and "0xaaa" in r["body"]][0]["body"])
assert pd["routing_key"] == pdkey and pd["event_action"] == "trigger" and pd["dedup_key"] == "tx_failed:0xaaa", pd
assert pd["payload"]["severity"] == "critical" and pd["payload"]["source"] == "submitter-0", pd
hook = [r for r in rs if r["kind"] == "webhook" and "0xaaa" in r["body"]][0]
mac = hmac.new(secret.encode(), (hook["ts"] + "." + hook["body"]).encode(), hashlib.sha256).hexdigest()
assert hook["verified"] and hook["sig"] == "sha256=" + mac, hook
assert json.loads(hook["body"])["status"] == "firing"
PY
grep -q "$PD_KEY" "$TMP"/alerter/*.mdb && fail "the PagerDuty routing key is stored in LMDB"
grep -q "$HOOK_SECRET" "$TMP"/alerter/*.mdb && fail "the webhook secret is stored in LMDB"
am_updated() { curl -sf "http://127.0.0.1:$AMP/api/v2/alerts" | python3 -c 'import json,sys; print([a["updatedAt"] for a in json.load(sys.stdin) if a["labels"]["dedupe_key"]=="tx_failed:0xaaa"][0])'; }
U1=$(am_updated)
resent() { [ "$(am_updated)" != "$U1" ]; }
wait $SUBPID || fail "alert-subscriber did not print the alert"
grep -q "FIRING   critical tx_failed tx_failed:0xaaa (submitter-0)" "$TMP/subscriber.out" || fail "subscriber line: $(cat "$TMP/subscriber.out")"
echo "ok: Alertmanager, Slack, PagerDuty, webhook (HMAC re-verified), the example subscriber"

echo "== 2. a storm of 50 identical alerts"
publish firing tx_stuck tx_stuck:0xbbb critical --repeat 50 --interval 5
wait_for 10 "storm received" bash -c "[ \"\$(curl -sf http://127.0.0.1:$HP/metrics | awk '\$1==\"alerter_received_total{kind=\\\"tx_stuck\\\",severity=\\\"critical\\\"}\"{print \$2}')\" -ge 45 ]"
# every alert of the storm was either the one delivered or suppressed: then count deliveries
for k in slack pagerduty webhook; do wait_for 10 "storm: $k got one" has $k any tx_stuck:0xbbb; done
rcv=$(metric 'alerter_received_total{kind="tx_stuck",severity="critical"}')
sup_ge() { local v; v=$(metric "alerter_suppressed_total{sink=\"$1\"}"); [ "${v:-0}" -ge "$2" ]; }
for s in chat oncall hook; do wait_for 10 "storm: $s suppressed the rest" sup_ge $s $((rcv - 1)); done
for k in slack pagerduty webhook; do
	n=$(recs $k any tx_stuck:0xbbb)
	[ "$n" = 1 ] || fail "storm: $k got $n messages, want 1"
done
sup=$(metric 'alerter_suppressed_total{sink="chat"}')
[ "${sup:-0}" -ge 44 ] || fail "suppressed_total{chat}=$sup, want >= 44"
# Alertmanager re-sends (RESEND_INTERVAL=2s): updatedAt of the first alert moved on
wait_for 8 "Alertmanager re-send (its updatedAt moves)" resent
echo "ok: one message per sink for $(metric 'alerter_received_total{kind="tx_stuck",severity="critical"}') alerts; $sup grouped (chat); Alertmanager re-sent"

echo "== 3. resolve"
publish resolved tx_failed tx_failed:0xaaa critical
wait_for 10 "pagerduty resolve" has pagerduty 2xx tx_failed:0xaaa resolve
wait_for 10 "slack resolved" bash -c "grep -q RESOLVED '$REC'"
wait_for 10 "alertmanager resolved" bash -c "! curl -sf http://127.0.0.1:$AMP/api/v2/alerts?active=true | grep -q 'tx_failed:0xaaa'"
echo "ok: resolve delivered (PagerDuty resolve, Slack, Alertmanager endsAt)"

echo "== 4. PagerDuty 429, 429, then 202"
curl -sf -X POST --data '429 429' "http://127.0.0.1:$DP/_ctl/script?kind=pagerduty" >/dev/null
publish firing ccip_failure ccip_failure:0xccc critical
wait_for 15 "pagerduty delivered after retries" has pagerduty 2xx ccip_failure:0xccc
pending_is_0() { [ "$(metric "alerter_outbox_pending{sink=\"$1\"}")" = 0 ]; }
wait_for 10 "oncall outbox empty" pending_is_0 oncall
[ "$(recs pagerduty 429 ccip_failure:0xccc)" = 2 ] || fail "want two 429s"
[ "$(recs pagerduty 2xx ccip_failure:0xccc)" = 1 ] || fail "want exactly one 202"
thr=$(metric 'alerter_delivery_failures_total{sink="oncall",class="throttled"}')
[ "$thr" = 2 ] || fail "throttled failures=$thr"
echo "ok: 429 x2 then 202, delivered once"

echo "== 5. sink down, alerter SIGKILLed and restarted, sink back"
kill -9 $DPID
wait $DPID 2>/dev/null || true
publish firing nonce_gap nonce_gap:0xddd critical
wait_for 10 "delivery failures while down" bash -c "[ \"\$(curl -sf http://127.0.0.1:$HP/metrics | awk '\$1==\"alerter_delivery_failures_total{sink=\\\"hook\\\",class=\\\"network\\\"}\"{print \$2}')\" -ge 3 ]"
wait_for 10 "sink_failing raised" am_has "sink_failing:alerter-t:hook"
kill -9 $APID
wait $APID 2>/dev/null || true
start_alerter
pend_ge1() { local v; v=$(metric 'alerter_outbox_pending{sink="chat"}'); [ "${v:-0}" -ge 1 ]; }
poll 5 pend_ge1 || fail "the outbox lost the event across SIGKILL (pending=$(metric 'alerter_outbox_pending{sink="chat"}'))"
start_double
for k in slack pagerduty webhook; do
	wait_for 15 "$k delivered after restart" has $k 2xx nonce_gap:0xddd
done
for s in chat oncall hook; do wait_for 10 "$s outbox drained" pending_is_0 $s; done
for k in slack pagerduty webhook; do
	[ "$(recs $k 2xx nonce_gap:0xddd)" = 1 ] || fail "$k: nonce_gap delivered $(recs $k 2xx nonce_gap:0xddd) times"
done
wait_for 10 "sink_failing resolved" bash -c "! curl -sf 'http://127.0.0.1:$AMP/api/v2/alerts?active=true' | grep -q 'sink_failing:alerter-t:hook'"
# our own sink_failing about the webhook went to the other sinks, never to the webhook itself
has slack 2xx "sink_failing:alerter-t:hook" || fail "slack did not get the webhook's sink_failing"
[ "$(recs webhook any sink_failing:alerter-t:hook)" = 0 ] || fail "sink_failing about the webhook was sent to it"
echo "ok: delivered exactly once after outage + SIGKILL; sink_failing raised and resolved"

echo "== 6. metrics, memory, latency"
curl -sf "http://127.0.0.1:$HP/metrics" >"$TMP/metrics.txt" || fail "/metrics"
promtool check metrics <"$TMP/metrics.txt" || fail "promtool rejected /metrics"
for m in alerter_received_total alerter_delivered_total alerter_delivery_failures_total alerter_suppressed_total \
	alerter_outbox_pending alerter_delivery_seconds_bucket alerter_firing; do
	grep -q "^$m" "$TMP/metrics.txt" || fail "metric $m missing"
done
rss=$(awk '/VmRSS/{print $2}' /proc/$APID/status)
python3 - "$TMP/metrics.txt" "$rss" <<'PY'
import sys, re
text = open(sys.argv[1]).read()
b = {float(m.group(1)) if m.group(1) != "+Inf" else float("inf"): float(m.group(2))
     for m in re.finditer(r'alerter_delivery_seconds_bucket\{le="([^"]+)"\} (\S+)', text)}
cnt = float(re.search(r'^alerter_delivery_seconds_count (\S+)', text, re.M).group(1))
tot = float(re.search(r'^alerter_delivery_seconds_sum (\S+)', text, re.M).group(1))
p50 = min(k for k, v in b.items() if v >= cnt / 2)
print(f"alerter RSS {int(sys.argv[2]) // 1024} MiB; deliveries since restart {int(cnt)}, mean {tot / cnt * 1000:.0f} ms (retries included), p50 <= {p50 * 1000:.0f} ms")
PY
kill -TERM $APID
wait $APID || fail "alerter did not exit 0 on SIGTERM"
echo "PASS"
