#!/usr/bin/env bash
# The fetcher at scale (issue 12): one fetcher serving BENCH_FEEDS feeds (100 by default) from
# tools/price-sim with 4 sources (CoinGecko, Binance, Kraken, Coinbase), the batched form
# (FEEDS_FILE: one request per source and round, Coinbase one per product) against the old
# one-URL-per-feed form (CONFIG_FILE: one request per feed and source) in the same run. Per form:
# requests per round (the fetcher's fetcher_requests_total over its rounds), CPU seconds per 1,000
# observations (utime+stime from /proc/<pid>/stat), private memory (RssAnon from /proc/<pid>/status);
# then the ratios batched / old. Reports; fails only when a run itself fails.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
BUILD=${BUILD:-build}
N=${BENCH_FEEDS:-100}
ROUNDS=${BENCH_ROUNDS:-5}
BUSD=$BUILD/bin/busd FETCHER=$BUILD/bin/fetcher SIM=$BUILD/bin/price-sim
for b in "$BUSD" "$FETCHER" "$SIM"; do [ -x "$b" ] || fail "missing $b (run make)"; done
busd_start "$BUSD" busd-fs

sim_start "$SIM" sim
# feeds B000-USD..: bases price-sim and the fetcher know nothing special about (no X/Z prefixes)
for i in $(seq 0 $((N - 1))); do
	curl -sf -X POST "$SIMURL/ctl/set?feed=$(printf 'B%03d' "$i")-USD&price=$((100 + i)).25" >/dev/null || fail "ctl set"
done
python3 - "$SIMURL" "$N" "$TMP" <<'PY'
import json, sys
url, n, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3]
bases = ["B%03d" % i for i in range(n)]
srcs = ("coingecko", "binance", "kraken", "coinbase")
json.dump({"sources": [{"name": s, "url": url} for s in srcs],
           "feeds": [{"feed": b + "-USD", "decimals": 8, "symbols": {"coingecko": b.lower()}} for b in bases]},
          open(tmp + "/batched.json", "w"))
json.dump({"feeds": [{"feed": b + "-USD", "decimals": 8, "sources": [
    {"name": "coingecko", "url": "%s/api/v3/simple/price?ids=%s&vs_currencies=usd&include_last_updated_at=true" % (url, b.lower())},
    {"name": "binance", "url": "%s/api/v3/ticker/price?symbol=%sUSDT" % (url, b)},
    {"name": "kraken", "url": "%s/0/public/Ticker?pair=%sUSD" % (url, b)},
    {"name": "coinbase", "url": "%s/v2/prices/%s-USD/spot" % (url, b)}]} for b in bases]},
          open(tmp + "/old.json", "w"))
PY

metrics() { curl -sf "http://127.0.0.1:$1/metrics"; }
sum_of() { awk -v k="$1" 'index($1, k "{") == 1 || $1 == k {s += $2} END {printf "%d\n", s}'; }
obs_ge() { [ "$(metrics "$1" | sum_of fetcher_observations_total)" -ge "$2" ]; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# run FORM VAR=FILE: starts the fetcher, lets one full round pass, measures ROUNDS rounds
run() {
	local form=$1 cfg=$2 hp pid o0 r0 c0 o1 r1 c1 rss
	hp=$(free_port)
	env "$cfg" BUS_PUB_URL="$IN" FETCH_INTERVAL=1s HTTP_TIMEOUT=5s MAX_STALENESS=60s RETRIES=1 \
		HTTP_PORT="$hp" HTTP_ADDR=127.0.0.1 INSTANCE="fetcher-$form" "$FETCHER" 2>"$TMP/fetcher-$form.log" &
	pid=$!
	PIDS+=("$pid")
	wait_for 30 "$form: a first round of $((N * 4)) observations" obs_ge "$hp" $((N * 4))
	metrics "$hp" >"$TMP/$form.m0"
	c0=$(cpu_ticks $pid)
	o0=$(sum_of fetcher_observations_total <"$TMP/$form.m0")
	r0=$(sum_of fetcher_requests_total <"$TMP/$form.m0")
	wait_for $((ROUNDS * 10)) "$form: $ROUNDS more rounds" obs_ge "$hp" $((o0 + ROUNDS * N * 4))
	c1=$(cpu_ticks $pid)
	metrics "$hp" >"$TMP/$form.m1"
	o1=$(sum_of fetcher_observations_total <"$TMP/$form.m1")
	r1=$(sum_of fetcher_requests_total <"$TMP/$form.m1")
	rss=$(awk '$1 == "RssAnon:" {print $2}' "/proc/$pid/status")
	[ "$(sum_of fetcher_errors_total <"$TMP/$form.m1")" = 0 ] || fail "$form: errors: $(grep '^fetcher_errors_total' "$TMP/$form.m1" | head -3)"
	kill -TERM $pid
	wait $pid || fail "$form: fetcher exit $? after SIGTERM"
	# requests per round: requests over observations, times one round's observations
	awk -v f="$form" -v n="$N" -v o=$((o1 - o0)) -v r=$((r1 - r0)) -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v m="$rss" \
		'BEGIN {printf "%s %.1f %.3f %.1f\n", f, r / o * n * 4, c / hz / o * 1000, m / 1024}' >>"$TMP/result.txt"
	awk -v f="$form" -v n="$N" -v o=$((o1 - o0)) -v r=$((r1 - r0)) -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v m="$rss" \
		'BEGIN {printf "%s: %d feeds x 4 sources: %.1f requests per round, %.3f CPU s per 1,000 observations (%d observations), private memory %.1f MiB\n", f, n, r / o * n * 4, c / hz / o * 1000, o, m / 1024}'
}
: >"$TMP/result.txt"
run batched FEEDS_FILE="$TMP/batched.json"
run old CONFIG_FILE="$TMP/old.json"
awk -v n="$N" '{r[$1] = $2; c[$1] = $3; m[$1] = $4}
	END {printf "fetcher at %d feeds, batched / old one-URL-per-feed: requests per round %.2f, CPU per observation %.2f, private memory %.2f (aim: requests and CPU < 1)\n",
		n, r["batched"] / r["old"], c["batched"] / c["old"], m["batched"] / m["old"]}' "$TMP/result.txt"
