#!/usr/bin/env bash
# The Oracle Publisher under load on a local chain: latency from a source's price change to the
# transaction accepted by anvil (eth_sendRawTransaction returned: the submitter's tx.status
# "pending"), p50 and p99, and the memory of every actor while running.
#
# "Polling excluded": the clock starts when the median can first see the move, i.e. at the
# observed_at_ns of the second source (quorum 2 of 3) reporting the new price, not when the
# simulator changed it (that wait is the fetch interval, a setting). The clock stops at the
# submitter's observed_at_ns of the "pending" status for that answer. Both clocks are the same
# machine's CLOCK_REALTIME. Moves are spaced so no update is in flight when the next one starts (the
# gate holds a feed's next update until the previous one is confirmed, by design).
# Memory: VmRSS (includes shared library pages, e.g. libcurl's ~9 MiB mapped once per machine)
# and private memory (Private_Clean + Private_Dirty from smaps_rollup: what each actor adds).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
N=${N:-25}
FETCH_INTERVAL=200ms DEVIATION_THRESHOLD=0.1 HEARTBEAT=1h GATE_MIN_INTERVAL=0 LOG_LEVEL=warn
# shellcheck source=../lib/oracle_stack.sh
. tests/lib/oracle_stack.sh
stack_up
wait_round 1 30 >/dev/null || fail "no first update"
sleep 2.5

p=3000
for i in $(seq "$N"); do
	if [ $((i % 2)) = 1 ]; then p=3010.5; else p=3000; fi
	price "$p"
	wait_round $((i + 1)) 15 >/dev/null || fail "update $i did not land"
	# The gate keeps one update per feed in flight until it is confirmed (CONFIRMATIONS=1, 1 s
	# blocks): move again only after that, so each sample times one move, not a queue.
	sleep 2.5
done

echo "memory while running (kB):"
printf '  %-18s %8s %8s\n' actor VmRSS private
for name in busd fetcher-coinbase fetcher-binance fetcher-kraken median gate signer submitter; do
	pid=${PID[$name]}
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
	priv=$(awk '/^Private_(Clean|Dirty)/ {s += $2} END {print s}' "/proc/$pid/smaps_rollup")
	printf '  %-18s %8s %8s\n' "$name" "$rss" "$priv"
done

python3 - "$TMP/bus.jsonl" "$N" <<'PY'
import json, sys
obs, pending = [], {}
for line in open(sys.argv[1]):
    m = json.loads(line)
    b = m.get("body")
    if not b:
        continue
    if m["type"] == "price.obs":
        obs.append((int(b["observed_at_ns"]), b["source"], b["value"]))
    elif m["type"] == "tx.status" and b["state"] == "pending":
        pending.setdefault(int(b["nonce"]), (int(b["observed_at_ns"]), b["answer"]))
obs.sort()
# per source, runs of equal values: (start time, value); a source "switched" to a value at the
# start of the run that holds it
runs = {}
for t, src, v in obs:
    r = runs.setdefault(src, [])
    if not r or r[-1][1] != v:
        r.append((t, v))
lat = []
for nonce, (t1, answer) in sorted(pending.items()):
    if nonce == 0:
        continue  # the first update has no "move" to time
    switched = []
    for src, r in runs.items():
        cur = [x for x in r if x[0] <= t1]
        if cur and cur[-1][1] == answer:
            switched.append(cur[-1][0])
    switched.sort()
    if len(switched) >= 2:  # quorum 2: the median could see the move when the second source did
        lat.append((t1 - switched[1]) / 1e6)
# a second transaction for an answer already sent (not a heartbeat) would be a wasted update
answers = [a for _, (_, a) in sorted(pending.items())]
repeats = sum(1 for x, y in zip(answers, answers[1:]) if x == y)
print(f"repeated answers (wasted updates): {repeats}")
lat.sort()
if not lat:
    print("no latency samples"); sys.exit(1)
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f"price change -> tx accepted by anvil: {len(lat)} updates, p50 {p(0.5):.2f} ms, p99 {p(0.99):.2f} ms, max {lat[-1]:.2f} ms")
PY
