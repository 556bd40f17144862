#!/usr/bin/env bash
# fetcher end to end against price-sim, through busd (ipc in a temp dir), watched with bus-tap:
#  1. five sources for ETH-USD (coingecko, binance, coinbase, kraken in their real formats, and a
#     generic one), each simulated at its own price: every observation equals its source's
#     simulated price exactly (fixed point, 8 decimals); the sources with a time carry it.
#  2. binance down (HTTP 500), kraken garbage, coingecko stale, coinbase slow (past HTTP_TIMEOUT):
#     their observations stop, fetcher_errors_total grows with the right kind, fetcher_up drops,
#     the generic source continues and /health stays 200; then generic down too: /health 503.
#  3. everything back, a new price: every source resumes with the new value; /health 200.
#  4. /metrics passes promtool; memory while running: VmRSS is reported, and the limit
#     (MEM_LIMIT_KB, default 8192; not for asan) applies to the anonymous memory (RssAnon: heap and
#     stacks), because ~9.5 MiB of the RSS are the clean pages of Debian's libcurl and its ~35
#     dependencies (a program that only calls curl_global_init has that RSS; see
#     actors/fetcher/README.md); USS and PSS move with how many other processes map the same
#     libraries. SIGTERM exits 0.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
BUILD=${BUILD:-build}
BUSD=$BUILD/bin/busd TAP=$BUILD/bin/bus-tap FETCHER=$BUILD/bin/fetcher SIM=$BUILD/bin/price-sim
for b in "$BUSD" "$TAP" "$FETCHER" "$SIM"; do [ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }; done
now_ns() { date +%s%N; }

busd_start "$BUSD" busd-f

sim_start "$SIM" sim --feed ETH-USD=3000
ctl() { curl -sf -X POST "$SIMURL/ctl/$1?$2" >/dev/null || fail "ctl $1 $2"; }

# Each source its own price, so a source mixed up with another would show.
ctl set "feed=ETH-USD&price=3000.11&source=coingecko"
ctl set "feed=ETH-USD&price=3000.12345678&source=binance"
ctl set "feed=ETH-USD&price=3000.13&source=coinbase"
ctl set "feed=ETH-USD&price=2999.99999&source=kraken"
ctl set "feed=ETH-USD&price=3000.15&source=generic"

cat >"$TMP/fetcher.json" <<JSON
{"feeds":[{"feed":"ETH-USD","decimals":8,"sources":[
 {"name":"coingecko","kind":"coingecko","url":"$SIMURL/api/v3/simple/price?ids=ethereum&vs_currencies=usd&include_last_updated_at=true"},
 {"name":"binance","kind":"binance","url":"$SIMURL/api/v3/ticker/price?symbol=ETHUSDT"},
 {"name":"coinbase","kind":"coinbase","url":"$SIMURL/v2/prices/ETH-USD/spot"},
 {"name":"kraken","kind":"kraken","url":"$SIMURL/0/public/Ticker?pair=XETHZUSD"},
 {"name":"sim-generic","kind":"generic","url":"$SIMURL/generic/ETH-USD","path":"data.price","ts_path":"data.ts","ts_unit":"s"}
]}]}
JSON

"$TAP" --url "$OUT" --topic price.obs. --timeout 600 >"$TMP/tap.out" 2>"$TMP/tap.log" &
TAP_PID=$!
PIDS+=($TAP_PID)
wait_subscribers "$BP" 1

HP=$(free_port)
MURL=http://127.0.0.1:$HP
CONFIG_FILE=$TMP/fetcher.json BUS_PUB_URL=$IN FETCH_INTERVAL=250ms HTTP_TIMEOUT=800ms MAX_STALENESS=60s \
	RETRIES=1 RETRY_BACKOFF=50ms HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 INSTANCE=fetcher-t \
	"$FETCHER" 2>"$TMP/fetcher.log" &
FPID=$!
PIDS+=($FPID)

# check.py MODE ARGS: reads the tap output; asserts on observations observed after a time.
cat >"$TMP/check.py" <<'PY'
import json, sys
from decimal import Decimal
tap, since, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
obs = {}
for line in open(tap):
    try:
        f = json.loads(line)
    except ValueError:
        continue
    b = f["body"]
    if f["topic"] != "price.obs.ETH-USD" or b["feed"] != "ETH-USD" or int(b["observed_at_ns"]) < since:
        continue
    obs.setdefault(b["source"], []).append(b)
if mode == "values":          # every listed source seen, each value exact: source=price ...
    for kv in sys.argv[4:]:
        src, price = kv.split("=")
        got = obs.get(src, [])
        assert got, "no observation from %s (seen: %s)" % (src, sorted(obs))
        want = int(Decimal(price) * 10**8)
        for b in got:
            assert int(b["value"]) == want and int(b["decimals"]) == 8, (src, b, want)
            assert int(b["fetch_latency_us"]) > 0, b
        if src in ("coingecko", "sim-generic"):
            assert all(int(b["source_ts_ms"]) > 0 for b in got), (src, got[-1])
        print("%s: %d observations, value %s" % (src, len(got), got[-1]["value"]))
elif mode == "has":           # every listed source has an observation of exactly this price
    for kv in sys.argv[4:]:
        src, price = kv.split("=")
        want = int(Decimal(price) * 10**8)
        assert any(int(b["value"]) == want for b in obs.get(src, [])), "%s: no %s yet" % (src, price)
elif mode == "silent":        # none from these sources, at least 3 from the rest listed after '--'
    args = sys.argv[4:]
    cut = args.index("--")
    for src in args[:cut]:
        assert src not in obs, "%s still observed: %s" % (src, obs[src][-1])
    for src in args[cut + 1:]:
        assert len(obs.get(src, [])) >= 3, "%s stopped (%d)" % (src, len(obs.get(src, [])))
PY
check() { python3 "$TMP/check.py" "$TMP/tap.out" "$@"; }
metric() { awk -v k="$1" '$1==k{print $2}' "$2"; }
health_is() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$MURL/health")" = "$1" ]; }
# errors_grown FILE N: every broken source's error counter (of its kind) is N more than in FILE
errors_grown() {
	curl -sf "$MURL/metrics" >"$TMP/m.now" || return 1
	local sk key a b
	for sk in binance:http kraken:parse coingecko:stale coinbase:timeout; do
		key="fetcher_errors_total{source=\"${sk%%:*}\",feed=\"ETH-USD\",kind=\"${sk#*:}\"}"
		a=$(metric "$key" "$1"); b=$(metric "$key" "$TMP/m.now")
		[ "${b:-0}" -ge $((${a:-0} + $2)) ] || return 1
	done
}

echo "== 1. five sources, exact values"
T0=$(now_ns)
wait_for 10 "an observation from every source" check "$T0" has coingecko=3000.11 binance=3000.12345678 \
	coinbase=3000.13 kraken=2999.99999 sim-generic=3000.15
check "$T0" values coingecko=3000.11 binance=3000.12345678 coinbase=3000.13 kraken=2999.99999 \
	sim-generic=3000.15 || fail "values"
curl -sf "$MURL/metrics" >"$TMP/m0.txt" || fail "/metrics"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$MURL/health")" = 200 ] || fail "/health not 200"

echo "== 2. four sources broken in four ways"
ctl mode "source=binance&mode=down"
ctl mode "source=kraken&mode=garbage"
ctl mode "source=coingecko&mode=stale&age_s=3600"
ctl mode "source=coinbase&mode=slow&delay_ms=5000"
# every broken source failed twice since: nothing fetched before the change is still in flight
curl -sf "$MURL/metrics" >"$TMP/m0b.txt" || fail "/metrics"
wait_for 10 "every broken source failing" errors_grown "$TMP/m0b.txt" 2
T1=$(now_ns)
curl -sf "$MURL/metrics" >"$TMP/m1.txt" || fail "/metrics"
# ...and twice more after T1, while the generic source went on
generic_after_t1() { check "$T1" silent -- sim-generic; }
wait_for 10 "two more failures each" errors_grown "$TMP/m1.txt" 2
wait_for 10 "3 generic observations after T1" generic_after_t1
check "$T1" silent binance kraken coingecko coinbase -- sim-generic || fail "broken sources"
curl -sf "$MURL/metrics" >"$TMP/m2.txt" || fail "/metrics"
for sk in binance:http kraken:parse coingecko:stale coinbase:timeout; do
	key="fetcher_errors_total{source=\"${sk%%:*}\",feed=\"ETH-USD\",kind=\"${sk#*:}\"}"
	a=$(metric "$key" "$TMP/m1.txt"); b=$(metric "$key" "$TMP/m2.txt")
	[ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ] || fail "$key did not grow ($a -> $b)"
	up=$(metric "fetcher_up{source=\"${sk%%:*}\",feed=\"ETH-USD\"}" "$TMP/m2.txt")
	[ "$up" = 0 ] || fail "fetcher_up for ${sk%%:*} = $up"
	echo "ok: ${sk%%:*} refused as ${sk#*:} ($a -> $b)"
done
[ "$(metric 'fetcher_up{source="sim-generic",feed="ETH-USD"}' "$TMP/m2.txt")" = 1 ] || fail "generic not up"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$MURL/health")" = 200 ] || fail "/health not 200 with one source"
r=$(metric fetcher_retries_total "$TMP/m2.txt"); [ "${r:-0}" -gt 0 ] || fail "no retries counted"
for s in binance kraken coingecko coinbase; do
	n=$(grep -c "\"msg\":\"source failing\".*\"source\":\"$s\"" "$TMP/fetcher.log" || true)
	[ "$n" = 1 ] || fail "$s: $n 'source failing' log lines, want exactly 1 (once per state change)"
done
ctl mode "source=generic&mode=down"
poll 3 health_is 503 || true
[ "$(curl -s "$MURL/health" -o "$TMP/h.json" -w '%{http_code}')" = 503 ] || fail "/health not 503 with every source down"
grep -q 'feed:ETH-USD' "$TMP/h.json" || fail "health reason does not name the feed: $(cat "$TMP/h.json")"
echo "ok: /health 503 with every source failing"

echo "== 3. back to normal at a new price"
ctl mode "source=all&mode=ok"
ctl set "feed=ETH-USD&price=3100.5"
# once every source has given the new price, whatever follows must be it
wait_for 10 "every source at the new price" check "$(now_ns)" has coingecko=3100.5 binance=3100.5 \
	coinbase=3100.5 kraken=3100.5 sim-generic=3100.5
T2=$(now_ns)
wait_for 10 "an observation from every source after T2" check "$T2" has coingecko=3100.5 binance=3100.5 \
	coinbase=3100.5 kraken=3100.5 sim-generic=3100.5
check "$T2" values coingecko=3100.5 binance=3100.5 coinbase=3100.5 kraken=3100.5 sim-generic=3100.5 || fail "resume"
wait_for 3 "/health back to 200" health_is 200
grep -q '"msg":"source up".*"source":"binance"' "$TMP/fetcher.log" || fail "no 'source up' log line"

echo "== 4. metrics, RSS, stop"
curl -sf "$MURL/metrics" >"$TMP/m3.txt" || fail "/metrics"
promtool check metrics <"$TMP/m3.txt" || fail "promtool rejected /metrics"
grep -q '^fetcher_latency_seconds_count{source="kraken"} [1-9]' "$TMP/m3.txt" || fail "latency histogram"
rss=$(awk '/^VmRSS/{print $2}' /proc/$FPID/status)
hwm=$(awk '/^VmHWM/{print $2}' /proc/$FPID/status)
anon=$(awk '/^RssAnon/{print $2}' /proc/$FPID/status)
pss=$(awk '/^Pss:/{print $2}' /proc/$FPID/smaps_rollup)
uss=$(awk '/^Private_(Clean|Dirty):/{s+=$2} END{print s}' /proc/$FPID/smaps_rollup)
nobs=$(wc -l <"$TMP/tap.out")
echo "fetcher: VmRSS ${rss} kB (peak ${hwm} kB), private (USS) ${uss} kB, RssAnon ${anon} kB, Pss ${pss} kB;" \
	"${nobs} observations published"
# The limit applies to RssAnon (heap, stacks: what the fetcher itself allocates). USS is not used:
# it counts libcurl's library pages as private whenever no other process happens to map them.
case "$BUILD" in *asan*) ;; *) [ "$anon" -le "${MEM_LIMIT_KB:-8192}" ] || fail "anonymous memory ${anon} kB over limit";; esac
kill -TERM $FPID
rc=0; wait $FPID || rc=$?
[ $rc -eq 0 ] || fail "fetcher exit $rc after SIGTERM"
echo "PASS"
