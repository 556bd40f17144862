#!/usr/bin/env bash
# One fetcher serving many feeds from tools/price-sim, through busd, watched with bus-tap:
#  1. FEEDS_FILE: 20 feeds (10 bases x USD, EUR) from CoinGecko, Binance, Kraken (one request per
#     round each: ids=..., symbols=[...], pair=...) and Coinbase (one request per product over one
#     kept-alive connection); every (feed, source) served its own price: every observation equals its
#     simulated price exactly. Requests per round: price-sim's request count per source against the
#     observations published (a batched source: at most one request more than rounds, whatever the
#     number of feeds); connections opened to price-sim stay a handful (keep-alive).
#  2. HTTP 429: Binance with Retry-After in seconds, CoinGecko with an HTTP-date, Kraken without the
#     header (doubling pause): price-sim counts every request that came back before the Retry-After
#     it was given (none may), the fetcher counts fetcher_rate_limited_total and its pause; the other
#     sources go on; back to ok, every source resumes at a new price.
#  3. FEEDS (the environment form, symbols derived) with an unknown symbol: Binance and Kraken refuse
#     the whole batch, the fetcher falls back to one request per symbol, so ETH-USD goes on and the
#     unknown feed is counted and logged by name.
# Reports requests per round and the fetcher's CPU time per 1,000 observations.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
BUILD=${BUILD:-build}
BUSD=$BUILD/bin/busd TAP=$BUILD/bin/bus-tap FETCHER=$BUILD/bin/fetcher SIM=$BUILD/bin/price-sim
for b in "$BUSD" "$TAP" "$FETCHER" "$SIM"; do [ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }; done
now_ns() { date +%s%N; }

busd_start "$BUSD" busd-m

sim_start "$SIM" sim --feed ETH-USD=3000
ctl() { curl -sf -X POST "$SIMURL/ctl/$1?$2" >/dev/null || fail "ctl $1 $2"; }

BASES="ETH BTC SOL LINK USDC DAI LTC XRP ADA DOT"
SOURCES="coingecko binance kraken coinbase"
# price of (feed number i, source number k): distinct everywhere, so a mix-up shows
price_of() { echo "$((1000 * ($1 + 1) + $2)).$((10 + $1))5"; }
i=0
: >"$TMP/expect.txt"
for b in $BASES; do
	for q in USD EUR; do
		f=$b-$q
		ctl set "feed=$f&price=$(price_of $i 9)"
		k=0
		for s in $SOURCES; do
			p=$(price_of $i $k)
			ctl set "feed=$f&price=$p&source=$s"
			echo "$f $s $p" >>"$TMP/expect.txt"
			k=$((k + 1))
		done
		i=$((i + 1))
	done
done
NFEEDS=$i

# CoinGecko ids are derived for the bases the fetcher knows; the others are given
python3 - "$SIMURL" "$BASES" >"$TMP/feeds.json" <<'PY'
import json, sys
url, bases = sys.argv[1], sys.argv[2].split()
given = {"LTC": "ltc", "XRP": "xrp", "ADA": "ada", "DOT": "dot"}
feeds = []
for b in bases:
    for q in ("USD", "EUR"):
        f = {"feed": "%s-%s" % (b, q), "decimals": 8}
        if b in given:
            f["symbols"] = {"coingecko": given[b]}
        feeds.append(f)
print(json.dumps({"sources": [{"name": n, "url": url} for n in ("coingecko", "binance", "kraken", "coinbase")],
                  "feeds": feeds}))
PY

"$TAP" --url "$OUT" --topic price.obs. --timeout 900 >"$TMP/tap.out" 2>"$TMP/tap.log" &
PIDS+=($!)
wait_subscribers "$BP" 1

simget() { curl -sf "$SIMURL/$1"; }
simget metrics >"$TMP/sim.m0" || fail "price-sim /metrics"
simget ctl/state >"$TMP/state0.json" || fail "price-sim state"
HP=$(free_port)
MURL=http://127.0.0.1:$HP
FEEDS_FILE=$TMP/feeds.json BUS_PUB_URL=$IN FETCH_INTERVAL=1s HTTP_TIMEOUT=2s MAX_STALENESS=60s RETRIES=1 \
	RETRY_BACKOFF=50ms HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 INSTANCE=fetcher-m "$FETCHER" 2>"$TMP/fetcher.log" &
FPID=$!
PIDS+=($FPID)

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
    if f["topic"] != "price.obs." + b["feed"] or int(b["observed_at_ns"]) < since:
        continue
    obs.setdefault((b["feed"], b["source"]), []).append(b)
def want(p):
    return int(Decimal(p) * 10**8)
if mode == "has":       # every line "feed source price" of the file has an observation of that price
    for line in open(sys.argv[4]):
        f, s, p = line.split()
        assert any(int(b["value"]) == want(p) for b in obs.get((f, s), [])), "%s %s: no %s yet" % (f, s, p)
elif mode == "exact":   # ...and every observation since is exactly that price, 8 decimals
    n = 0
    for line in open(sys.argv[4]):
        f, s, p = line.split()
        got = obs.get((f, s), [])
        assert got, (f, s)
        for b in got:
            assert int(b["value"]) == want(p) and int(b["decimals"]) == 8, (f, s, b, p)
            n += 1
        if s == "coingecko":
            assert all(int(b["source_ts_ms"]) > 0 for b in got), (f, s, got[-1])
    print("%d observations of %d (feed, source) pairs, every one exact" % (n, len(obs)))
elif mode == "count":   # observations per (feed, source) since: the least, as "rounds"
    s = sys.argv[4]
    print(min(len(v) for (f, src), v in obs.items() if src == s))
elif mode == "moving":  # these sources each published at least N observations since
    n = int(sys.argv[4])
    for s in sys.argv[5:]:
        c = sum(len(v) for (f, src), v in obs.items() if src == s)
        assert c >= n, "%s: %d observations, want %d" % (s, c, n)
PY
check() { python3 "$TMP/check.py" "$TMP/tap.out" "$@"; }
metric() { awk -v k="$1" '$1==k{print $2}' "$2"; }
state() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sources"][sys.argv[2]][sys.argv[3]])' "$@"; }

echo "== 1. $NFEEDS feeds x 4 sources, exact values, requests per round"
T0=$(now_ns)
CPU0=$(awk '{print $14 + $15}' /proc/$FPID/stat)
wait_for 20 "an observation of every (feed, source) at its price" check 0 has "$TMP/expect.txt"
check 0 exact "$TMP/expect.txt" || fail "values"
# three more rounds of every source
r0=$(check 0 count coinbase)
rounds_3() { [ "$(check 0 count coinbase)" -ge $((r0 + 3)) ] && [ "$(check 0 count binance)" -ge $((r0 + 3)) ]; }
wait_for 20 "three more rounds" rounds_3
simget ctl/state >"$TMP/state1.json" || fail "state"
simget metrics >"$TMP/sim.m1" || fail "price-sim /metrics"
curl -sf "$MURL/metrics" >"$TMP/m1.txt" || fail "/metrics"
check 0 exact "$TMP/expect.txt" || fail "values after more rounds"
for s in coingecko binance kraken coinbase; do
	req=$(($(state "$TMP/state1.json" $s requests) - $(state "$TMP/state0.json" $s requests)))
	# the fetcher's metrics were read after price-sim's count: every request price-sim had answered
	# is in them but for the one in flight per source
	rounds= total=0
	for f in $(awk -v s=$s '$2==s{print $1}' "$TMP/expect.txt"); do
		o=$(metric "fetcher_observations_total{source=\"$s\",feed=\"$f\"}" "$TMP/m1.txt")
		total=$((total + o))
		[ -z "$rounds" ] || [ "$o" -lt "$rounds" ] && rounds=$o
	done
	fr=$(metric "fetcher_requests_total{source=\"$s\"}" "$TMP/m1.txt")
	if [ $s = coinbase ]; then # one request per product, one after the other
		[ "$req" -le $((total + 1)) ] || fail "coinbase: $req requests for $total observations"
		[ "$req" -ge $((NFEEDS * 3)) ] || fail "coinbase: $req requests"
		echo "coinbase: $req requests (fetcher: $fr) for $total observations: $NFEEDS per round, one per product"
	else
		[ "$req" -le $((rounds + 1)) ] || fail "$s: $req requests for $rounds rounds: not one request per round"
		[ "$req" -ge 3 ] || fail "$s: $req requests"
		echo "$s: $req requests (fetcher: $fr) for $rounds rounds of $NFEEDS feeds ($total observations): 1 per round"
	fi
done
c0=$(metric http_connections_total "$TMP/sim.m0"); c1=$(metric http_connections_total "$TMP/sim.m1")
# the test's own curl calls to price-sim between the two reads: 2 (state, metrics)
conns=$((c1 - c0 - 2))
echo "connections the fetcher opened to price-sim: $conns"
[ "$conns" -le 8 ] || fail "$conns connections: not kept alive"
CPU1=$(awk '{print $14 + $15}' /proc/$FPID/stat)
nobs=$(awk -F'} ' '/^fetcher_observations_total/{s+=$2} END{print s}' "$TMP/m1.txt")
awk -v c=$((CPU1 - CPU0)) -v n="$nobs" -v hz="$(getconf CLK_TCK)" \
	'BEGIN{printf "fetcher CPU: %.2f s for %d observations (%.3f s per 1,000)\n", c/hz, n, c/hz/n*1000}'

echo "== 2. 429 with Retry-After (seconds, HTTP-date, none)"
ctl mode "source=binance&mode=ratelimit&retry_after=2&retry_form=seconds"
ctl mode "source=coingecko&mode=ratelimit&retry_after=2&retry_form=date"
ctl mode "source=kraken&mode=ratelimit&retry_form=none"
limited_ge() { simget ctl/state >"$TMP/st.json" && [ "$(state "$TMP/st.json" "$1" limited)" -ge "$2" ]; }
wait_for 30 "binance answered 429 three times" limited_ge binance 3
wait_for 30 "coingecko answered 429 three times" limited_ge coingecko 3
wait_for 30 "kraken answered 429 three times" limited_ge kraken 3
T1=$(now_ns)
wait_for 10 "coinbase goes on meanwhile" check "$T1" moving $NFEEDS coinbase
simget ctl/state >"$TMP/st.json"
for s in binance coingecko; do
	e=$(state "$TMP/st.json" $s early)
	[ "$e" = 0 ] || fail "$s: $e requests came back before their Retry-After"
	echo "ok: $s: $(state "$TMP/st.json" $s limited) answers 429, no request before its Retry-After"
done
curl -sf "$MURL/metrics" >"$TMP/m2.txt" || fail "/metrics"
for s in binance coingecko kraken; do
	n=$(metric "fetcher_rate_limited_total{source=\"$s\"}" "$TMP/m2.txt")
	[ "${n:-0}" -ge 3 ] || fail "fetcher_rate_limited_total{$s} = $n"
	e=$(metric "fetcher_errors_total{source=\"$s\",feed=\"ETH-USD\",kind=\"rate_limited\"}" "$TMP/m2.txt")
	[ "${e:-0}" -ge 1 ] || fail "no rate_limited error counted for $s"
done
p=$(metric 'fetcher_rate_limit_pause_seconds{source="binance"}' "$TMP/m2.txt")
[ "$p" = 2 ] || fail "binance pause $p s, want its Retry-After 2"
p=$(metric 'fetcher_rate_limit_pause_seconds{source="kraken"}' "$TMP/m2.txt")
awk -v p="$p" 'BEGIN{exit !(p >= 4)}' || fail "kraken pause $p s: no doubling without Retry-After"
echo "ok: pauses binance 2 s (Retry-After), kraken ${p} s (doubling)"
grep -q '"msg":"source rate limited".*"source":"coingecko".*"retry_after":"[A-Z][a-z][a-z], [0-9][0-9] [A-Z][a-z][a-z] 20[0-9][0-9] [0-9:]* GMT"' "$TMP/fetcher.log" ||
	fail "no log of coingecko's HTTP-date Retry-After"
ctl mode "source=all&mode=ok"
sed 's/ [0-9.]*$//' "$TMP/expect.txt" | while read -r f s; do echo "$f $s 4242.5"; done >"$TMP/expect2.txt"
for b in $BASES; do for q in USD EUR; do ctl set "feed=$b-$q&price=4242.5"; done; done
# kraken's pause doubled to 8 s or more: allow it
wait_for 30 "every (feed, source) at the new price" check "$(now_ns)" has "$TMP/expect2.txt"
echo "ok: every source resumed"

echo "== 3. FEEDS with an unknown symbol: the batch is refused, then fetched symbol by symbol"
kill -TERM $FPID
rc=0; wait $FPID || rc=$?
[ $rc -eq 0 ] || fail "fetcher exit $rc after SIGTERM"
HP2=$(free_port)
FEEDS=ETH-USD,NOPE-USD SOURCES="binance=$SIMURL,kr:kraken=$SIMURL" BUS_PUB_URL=$IN FETCH_INTERVAL=300ms \
	HTTP_TIMEOUT=2s RETRIES=0 HTTP_PORT=$HP2 HTTP_ADDR=127.0.0.1 INSTANCE=fetcher-u "$FETCHER" 2>"$TMP/fetcher2.log" &
F2=$!
PIDS+=($F2)
T3=$(now_ns)
printf 'ETH-USD binance 4242.5\nETH-USD kr 4242.5\n' >"$TMP/expect3.txt"
wait_for 20 "ETH-USD from both despite NOPE-USD" check "$T3" has "$TMP/expect3.txt"
for s in binance kr; do
	grep -q "\"msg\":\"batch refused: fetching its symbols one by one\".*\"source\":\"$s\"" "$TMP/fetcher2.log" ||
		fail "$s: no 'batch refused' log"
	grep -q "\"msg\":\"source failing\",\"feed\":\"NOPE-USD\",\"source\":\"$s\"" "$TMP/fetcher2.log" ||
		fail "$s: NOPE-USD not named as failing"
done
curl -sf "http://127.0.0.1:$HP2/metrics" >"$TMP/m3.txt" || fail "/metrics"
[ "$(metric 'fetcher_up{source="binance",feed="NOPE-USD"}' "$TMP/m3.txt")" = 0 ] || fail "NOPE-USD up?"
[ "$(metric 'fetcher_up{source="binance",feed="ETH-USD"}' "$TMP/m3.txt")" = 1 ] || fail "ETH-USD not up"
grep -q '^fetcher_errors_total{source="kr",feed="NOPE-USD",kind="source_error"} [1-9]' "$TMP/m3.txt" ||
	fail "kraken's refusal not counted for NOPE-USD"
h=$(curl -s -o "$TMP/h.json" -w '%{http_code}' "http://127.0.0.1:$HP2/health")
[ "$h" = 503 ] && grep -q 'feed:NOPE-USD' "$TMP/h.json" || fail "/health $h: $(cat "$TMP/h.json")"
promtool check metrics <"$TMP/m3.txt" || fail "promtool rejected /metrics"
echo "ok: ETH-USD goes on, NOPE-USD is named, counted and degrades /health"
kill -TERM $F2
rc=0; wait $F2 || rc=$?
[ $rc -eq 0 ] || fail "fetcher exit $rc after SIGTERM"
echo "PASS"
