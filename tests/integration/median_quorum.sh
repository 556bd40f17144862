#!/usr/bin/env bash
# median with busd and bus-tap-injected observations (ipc://, free HTTP port):
#  1. one source is below QUORUM=2: no aggregate; a second source: an aggregate whose median is
#     the truncated mean of the two, computed here independently;
#  2. a source 10 % off is dropped as an outlier (in `dropped`, median unchanged,
#     median_outliers_total{source} counted);
#  3. sources spreading past MAX_SPREAD: no aggregate, one sources_disagree alert firing (not one
#     per observation), resolved when they agree again;
#  4. a decimals mismatch is refused and counted;
#  5. every source quiet for WINDOW: below_quorum fires; sources back: it resolves and
#     aggregates flow again;
#  6. RSS of the running median is reported.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
BUILD=${BUILD:-build}
BUSD=$BUILD/bin/busd TAP=$BUILD/bin/bus-tap MED=$BUILD/bin/median
for b in "$BUSD" "$TAP" "$MED"; do [ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }; done

IN=ipc://$TMP/in.ipc OUT=ipc://$TMP/out.ipc
BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$TMP/journal INSTANCE=busd-m "$BUSD" 2>"$TMP/busd.log" &
PIDS+=($!)
sleep 0.3
HP=$(free_port)
BUS_PUB_URL=$IN BUS_SUB_URL=$OUT QUORUM=2 WINDOW=3s MAX_DEVIATION=1 MAX_SPREAD=0.5 AGG_INTERVAL=200ms \
	MIN_PUBLISH_INTERVAL=1s HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 INSTANCE=median-t LOG_LEVEL=debug \
	"$MED" 2>"$TMP/median.log" &
MPID=$!
PIDS+=($MPID)
"$TAP" --url "$OUT" --topic price.agg. --topic alert. --timeout 120 >"$TMP/tap.out" 2>"$TMP/tap.log" &
PIDS+=($!)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$HP/health" >/dev/null 2>&1 && break; sleep 0.1; done
kill -0 $MPID 2>/dev/null || fail "median did not start"
sleep 0.5

obs() {  # source value [decimals]
	local body
	body=$(printf '{"feed":"ETH-USD","source":"%s","value":"%s","decimals":%s,"fetch_latency_us":100,"observed_at_ns":%s}' \
		"$1" "$2" "${3:-8}" "$(date +%s%N)")
	"$TAP" --url "$IN" --publish price.obs.ETH-USD --origin "fetcher-$1" --json "$body" 2>>"$TMP/pub.log" ||
		fail "publish $1"
}
# count LINES of tap output matching a python predicate on the parsed line `l`
count() {
	python3 - "$TMP/tap.out" "$1" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    try:
        l = json.loads(line)
    except ValueError:
        continue
    b = l.get("body", {})
    if eval(sys.argv[2]):
        n += 1
print(n)
PY
}
wait_count() {  # predicate want timeout_s
	local i
	for i in $(seq $(($3 * 10))); do
		[ "$(count "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
metric() { curl -sf "http://127.0.0.1:$HP/metrics" | awk -v k="$1" '$1==k{print $2}'; }
AGG='l["topic"]=="price.agg.ETH-USD"'

echo "== 1. quorum"
obs a 300000000000
sleep 0.6
[ "$(count "$AGG")" = 0 ] || fail "aggregate published with one source"
obs b 300100000001
wait_count "$AGG" 1 5 || fail "no aggregate with two sources"
want=$(python3 -c 'print((300000000000 + 300100000001) // 2)')
got=$(count "$AGG and b['median']=='$want' and len(b['used'])==2")
[ "$got" -ge 1 ] || fail "median is not $want: $(grep price.agg "$TMP/tap.out" | head -1)"
echo "ok: median $want from 2 sources"

echo "== 2. outlier"
obs c 330000000000
wait_count "$AGG and len(b.get('dropped',[]))==1 and b['dropped'][0]['source']=='c' and b['median']=='$want'" 1 5 ||
	fail "the 10 % source was not dropped"
[ "$(metric 'median_outliers_total{feed="ETH-USD",source="c"}')" = 1 ] || fail "outlier not counted"
echo "ok: c dropped, median unchanged"

echo "== 3. disagreement"
before=$(count "$AGG")
obs b 302000000000  # 0.67 % from a: kept (MAX_DEVIATION 1 %), spread 0.66 % > 0.5 %
obs a 300000000000
obs b 302000000000
wait_count "l['type']=='alert' and b['kind']=='sources_disagree' and b['status']=='firing'" 1 5 ||
	fail "no sources_disagree alert"
sleep 1
[ "$(count "l['type']=='alert' and b['kind']=='sources_disagree' and b['status']=='firing'")" = 1 ] ||
	fail "sources_disagree fired more than once"
[ "$(count "$AGG")" = "$before" ] || fail "an aggregate was published while sources disagree"
[ "$(metric 'median_refusals_total{feed="ETH-USD",reason="sources_disagree"}')" -ge 3 ] || fail "refusals not counted"
curl -s "http://127.0.0.1:$HP/health" | grep -q degraded || fail "/health not degraded"
obs b 300100000001
wait_count "l['type']=='alert' and b['kind']=='sources_disagree' and b['status']=='resolved'" 1 5 ||
	fail "sources_disagree not resolved"
wait_count "$AGG" $((before + 1)) 5 || fail "no aggregate after agreement"
curl -sf "http://127.0.0.1:$HP/health" >/dev/null || fail "/health still degraded"
echo "ok: fired once, resolved"

echo "== 4. decimals mismatch"
obs d 3000000000000000000000 18
sleep 0.3
[ "$(metric 'median_rejected_total{feed="ETH-USD",why="decimals_mismatch"}')" = 1 ] || fail "decimals mismatch not counted"
echo "ok"

echo "== 5. staleness -> below_quorum"
wait_count "l['type']=='alert' and b['kind']=='below_quorum' and b['status']=='firing'" 1 8 ||
	fail "no below_quorum alert after WINDOW of silence"
obs a 300000000000
obs b 300000000000
wait_count "l['type']=='alert' and b['kind']=='below_quorum' and b['status']=='resolved'" 1 5 ||
	fail "below_quorum not resolved"
wait_count "$AGG and b['median']=='300000000000'" 1 5 || fail "no aggregate after recovery"
[ "$(count "l['type']=='alert' and b['kind']=='below_quorum' and b['status']=='firing'")" = 1 ] ||
	fail "below_quorum fired more than once"
echo "ok"

echo "== 6. repeats of an identical aggregate are paced by MIN_PUBLISH_INTERVAL (1 s)"
n0=$(count "$AGG")
for _ in $(seq 10); do obs a 300000000000; obs b 300000000000; sleep 0.1; done
n1=$(count "$AGG")
[ $((n1 - n0)) -le 3 ] || fail "$((n1 - n0)) identical aggregates in ~1.5 s"
rss=$(awk '/VmRSS/{print $2}' /proc/$MPID/status)
echo "median RSS: ${rss} KiB"
kill -TERM $MPID
wait $MPID || fail "median did not exit 0 on SIGTERM"
echo "PASS"
