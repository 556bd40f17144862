#!/usr/bin/env bash
# The Oracle Publisher at 100 and 500 feeds x 3 sources, 1 observation per second per source, on a
# local chain (anvil, 1 s blocks, one OracleAggregator per feed):
#   - CPU seconds per 1,000 decisions (price.update) per actor kind, summed over its processes
#     (utime + stime of /proc/<pid>/stat over the measured window);
#   - private memory (Private_Clean + Private_Dirty of smaps_rollup) per actor kind and per feed;
#   - p50 / p99 source change -> transaction accepted (eth_sendRawTransaction returned: the submitter's
#     tx.status "pending"), source polling excluded as in oracle_latency.sh: the clock starts when the
#     second source (quorum 2 of 3) publishes the new price;
#   - transactions per second from one key (the busiest key, and the mean over the keys).
#
# Topology: N feeds run as ceil(N / SCALE_SHARD) shards (SCALE_SHARD feeds each, default 512: 100 and
# 500 feeds in one shard, as one median, gate and key now take them; the README's older rows used 32;
# up to 1024, what one median, gate and signer take: median FEEDS,
# gate GF_MAX_FEEDS, signer ALLOWED_CONTRACTS / FEEDS / SGP_MAX_FEEDS), each with its own median,
# gate, signer and submitter and its own key (one key per feed shard, actors/signer/README.md); busd
# is one. The sources are tools/bench-pub publishing price.obs.<feed> for every feed and source, as
# 3 x N fetchers would (the fetcher is one feed per process today; 1,500 processes would measure
# process count). Each feed's price moves 1 % every MOVE_EVERY (10) s, feeds staggered evenly, so the
# gates decide N / 10 updates a second; a feed's next move comes after its previous update is
# confirmed (the gate keeps one update per feed in flight, by design). A source reports a move at its
# next publication, so the moves of one second reach the median within ~N / 10 x 2 ms of each other
# (at 500 feeds, 50 decisions in ~100 ms each second), as a batched fetcher's round would bring them.
# The moves start once every feed's first update is confirmed; a move made while its feed's previous
# update is in flight or within MIN_INTERVAL of its confirmation is held by the gate by design and
# counted apart. The latency is split per hop: source -> price.agg (aggregated_at_ns) -> the gate's
# decided_at_ns -> price.update published -> tx.signed (signed_at_ns) -> tx.status pending.
#
# Batched (SCALE_BATCH=updateAnswers): each shard's feeds go through an OracleBatcher its key may call
# (the aggregators trust both the key and the batcher): the gate's BATCH_CALL=updateAnswers with
# BATCH_WINDOW=$SCALE_BATCH_WINDOW (default 0: each gate turn's due feeds go as one transaction, what
# came in while the gate was busy) and BATCH_MAX 58 (what fits the signed transaction); a member's
# latency is its batch's (decided, signed, accepted).
#
# SCALE_FEEDS ("100 500"), SCALE_SHARD (512), SCALE_SECONDS (measured window: 40 s at 100 feeds, ~340 moves: the p99 of 20 s was the second largest of ~170; 30 s at 500),
# SCALE_WARMUP (15 s x T_SLOW at most: the window opens once every feed's first update is confirmed),
# SCALE_BATCH (off | updateAnswers), SCALE_BATCH_WINDOW (0ms). Without SCALE_FEEDS and SCALE_BATCH the
# runs are 100 feeds single, 500 single and 500 batched (about 5 minutes).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/lib/common.sh
B=$BUILD/bin
CHAIN=tools/chain.sh
for b in busd bus-tap median gate signer submitter bench-pub; do
	[ -x "$B/$b" ] || { echo "missing $B/$b (run make)"; exit 1; }
done
[ -x tests/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil ] ||
	{ echo "tests/chain/node_modules missing: run make deps"; exit 1; }
SHARD=${SCALE_SHARD:-512}
[ "$SHARD" -ge 1 ] && [ "$SHARD" -le 1024 ] || fail "SCALE_SHARD=$SHARD: want 1..1024 feeds per shard"
# a shard's key has one update per feed in flight at most (the gate's rule): the submitter's window
# (default 16) must not be what holds a big shard back
INFLIGHT=$((SHARD > 16 ? SHARD : 16))
MIN_ITV=1 # the gates' MIN_INTERVAL, seconds
MOVE_EVERY=${MOVE_EVERY:-10}
WARM=${SCALE_WARMUP:-15}
HZ=$(getconf CLK_TCK)
UPDATE_SIG="updateAnswer(int256)"
BATCH=off # set per run (below)
"$CHAIN" compile OracleAggregator OracleBatcher >/dev/null 2>"$TMP/compile.log" ||
	fail "compile OracleAggregator OracleBatcher"

declare -A PROC # name -> pid of every actor of the current run
GPORT=()        # shard -> the gate's HTTP port (its /metrics read at the end of the run)
stop_run() {
	for p in "${PROC[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PROC[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
	PROC=()
	if [ -n "$ANVIL_PID" ]; then "$CHAIN" stop "$ANVIL_PID" >/dev/null 2>&1 || true; ANVIL_PID=; fi
}
on_exit() { stop_run; }

run_scale() {
	local n=$1 secs=$2 d=$TMP/n$1-$BATCH s i # a directory per run: no state carried to the next chain
	local shards=$(((n + SHARD - 1) / SHARD))
	mkdir -p "$d"
	local cport; cport=$(free_port)
	export RPC_URL=http://127.0.0.1:$cport
	ANVIL_PID=$(ANVIL_ARGS="--block-time 1 --gas-limit 3000000000 --accounts $((shards + 2))" \
		CHAIN_LOG=$d/anvil.log "$CHAIN" start "$cport")
	# anvil's dev accounts: 0 deploys, shard s signs with account s + 1
	local -a KEYS ADDRS
	mapfile -t ADDRS < <(awk '/^Available Accounts/{f=1;next} /^Private Keys/{f=0} f && /^\([0-9]+\)/{print $2}' "$d/anvil.log")
	mapfile -t KEYS < <(awk '/^Private Keys/{f=1;next} /^Wallet/{f=0} f && /^\([0-9]+\)/{print $2}' "$d/anvil.log")
	[ "${#KEYS[@]}" -gt $((shards + 1)) ] || fail "anvil listed ${#KEYS[@]} keys, want $((shards + 2))"
	# the node probe's key (the last account): value transfers to itself, one every 100 ms
	local pk=${KEYS[$((shards + 1))]} paddr=${ADDRS[$((shards + 1))]}
	for ((i = 0; i < (secs + 5) * 10; i++)); do
		ETHTX_KEY=${pk#0x} "$B/ethtx" mktx --chain 138 --nonce "$i" --gas-limit 21000 --gas-price 100000000000 \
			--priority-gas-price 1000000000 --value 1 "$paddr"
	done >"$d/probe-raw.txt" || fail "ethtx mktx (the node probe's transfers)"
	local -a BATCHERS=()
	if [ "$BATCH" != off ]; then # one OracleBatcher per shard, its key the one transmitter
		for ((s = 0; s < shards; s++)); do
			BATCHERS[s]=$("$CHAIN" deploy OracleBatcher "[\"${ADDRS[$((s + 1))]}\"]" 2>>"$d/deploy.log")
			[[ "${BATCHERS[s]}" =~ ^0x[0-9a-fA-F]{40}$ ]] || fail "deploy OracleBatcher: ${BATCHERS[s]}"
		done
	fi
	for ((i = 0; i < n; i++)); do
		printf 'F%03d-USD %s%s\n' "$i" "${ADDRS[$((i / SHARD + 1))]}" "${BATCHERS[$((i / SHARD))]:+,${BATCHERS[$((i / SHARD))]}}"
	done >"$d/feeds.txt"
	local t_dep=$EPOCHREALTIME
	mapfile -t AGGS < <(node tests/bench/deploy_many.js "$d/feeds.txt" 2>>"$d/deploy.log")
	[ "${#AGGS[@]}" = "$n" ] || fail "deployed ${#AGGS[@]} of $n aggregators: $(tail -3 "$d/deploy.log")"
	echo "  $n OracleAggregator contracts deployed in $(awk -v a="$t_dep" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b - a}') s"

	local IN=ipc://$d/in.ipc OUT=ipc://$d/out.ipc BP; BP=$(free_port)
	BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$d/journal INSTANCE=busd-s HTTP_PORT=$BP HTTP_ADDR=127.0.0.1 \
		LOG_LEVEL=warn "$B/busd" 2>"$d/busd.log" &
	PROC[busd]=$!
	local GSEC GPUB SSEC SPUB XSEC XPUB
	{ read -r _ GSEC; read -r _ GPUB; } < <("$B/bus-tap" --keygen)
	{ read -r _ SSEC; read -r _ SPUB; } < <("$B/bus-tap" --keygen)
	{ read -r _ XSEC; read -r _ XPUB; } < <("$B/bus-tap" --keygen)
	"$B/bus-tap" --url "$OUT" --topic price.update. --topic price.agg. --topic tx.signed --topic tx.status --timeout 900 \
		>"$d/bus.jsonl" 2>"$d/tap.log" &
	PROC[tap]=$!
	wait_subscribers "$BP" 1
	for ((s = 0; s < shards; s++)); do
		local feeds="" aggs="" entries="" sentries="" lo=$((s * SHARD)) hi=$(((s + 1) * SHARD))
		[ $hi -le "$n" ] || hi=$n
		for ((i = lo; i < hi; i++)); do
			local f; f=$(printf 'F%03d-USD' "$i")
			feeds+="${feeds:+,}$f"; aggs+="${aggs:+,}${AGGS[$i]}"
			entries+="${entries:+,}{\"feed\":\"$f\",\"aggregator\":\"${AGGS[$i]}\",\"decimals\":8}"
			sentries+="${sentries:+,}{\"feed\":\"$f\",\"aggregator\":\"${AGGS[$i]}\"}"
		done
		echo "{\"feeds\":[$entries]}" >"$d/gate-$s.json"
		echo "{\"feeds\":[$sentries]}" >"$d/signer-$s.json"
		# single: the key calls each aggregator; batched: the key calls the shard's OracleBatcher
		local -a sig_feeds=(ALLOWED_CONTRACTS="$aggs" FEEDS="$feeds") gate_batch=()
		if [ "$BATCH" != off ]; then
			sig_feeds=(ALLOWED_CONTRACTS="${BATCHERS[s]}" FEEDS_FILE="$d/signer-$s.json" MAX_GAS_LIMIT=8000000)
			gate_batch=(BATCH_CALL="$BATCH" BATCH_CONTRACT="${BATCHERS[s]}" BATCH_MAX=58
				BATCH_WINDOW="${SCALE_BATCH_WINDOW:-0ms}" GAS_LIMIT_MAX=8000000)
		fi
		local addr=${ADDRS[$((s + 1))]} key=${KEYS[$((s + 1))]}
		GPORT[s]=$(free_port)
		BUS_PUB_URL=$IN BUS_SUB_URL=$OUT FEEDS=$feeds WINDOW=3s QUORUM=2 MAX_DEVIATION=2 MAX_SPREAD=5 \
			AGG_INTERVAL=1s INSTANCE=median-$s LOG_LEVEL=warn "$B/median" 2>"$d/median-$s.log" &
		PROC[median-$s]=$!
		BUS_PUB_URL=$IN BUS_SUB_URL=$OUT BUS_SIGNING_KEY=$XSEC BUS_TRUST="tx.signed=$SPUB" STATE_DIR=$d/submitter-$s \
			CHAIN_ID=138 SIGNER_ADDRESS=$addr CONFIRMATIONS=1 FINALITY_DEPTH=3 MAX_IN_FLIGHT=$INFLIGHT \
			INSTANCE=submitter-$s LOG_LEVEL=warn \
			"$B/submitter" 2>"$d/submitter-$s.log" &
		PROC[submitter-$s]=$!
		BUS_PUB_URL=$IN BUS_SUB_URL=$OUT PRIVATE_KEY=$key BUS_SIGNING_KEY=$SSEC STATE_DIR=$d/signer-$s CHAIN_ID=138 \
			GAS_PRICE=auto BUS_TRUST="price.update.=$GPUB;tx.ack=$XPUB;tx.bump=$XPUB;gas.quote=$XPUB;nonce.sync=$XPUB" \
			env "${sig_feeds[@]}" MIN_ANSWER=1 MAX_ANSWER=100000 OUTBOX_RETRY=1s \
			UPDATE_SIGNATURE="$UPDATE_SIG" INSTANCE=signer-$s LOG_LEVEL=warn "$B/signer" 2>"$d/signer-$s.log" &
		PROC[signer-$s]=$!
		BUS_PUB_URL=$IN BUS_SUB_URL=$OUT BUS_SIGNING_KEY=$GSEC BUS_TRUST="tx.status=$XPUB" FEEDS_FILE=$d/gate-$s.json \
			CHAIN_ID=138 TRANSMITTER=$addr DEVIATION_THRESHOLD=0.5 HEARTBEAT=1h MIN_INTERVAL=${MIN_ITV}s UPDATE_TIMEOUT=30s \
			UPDATE_SIGNATURE="$UPDATE_SIG" STATE_DIR=$d/gate-$s INSTANCE=gate-$s LOG_LEVEL=warn \
			HTTP_PORT="${GPORT[s]}" HTTP_ADDR=127.0.0.1 \
			env "${gate_batch[@]}" "$B/gate" 2>"$d/gate-$s.log" &
		PROC[gate-$s]=$!
	done
	wait_for 30 "$((4 * shards + 1)) subscribers on busd" t_subs_ge "$BP" $((4 * shards + 1))

	local t_pub=$EPOCHREALTIME
	"$B/bench-pub" obs --url "$IN" --feeds "$n" --sources 3 --interval-ms 1000 --duration 3600 \
		--move-every "$MOVE_EVERY" --moves-after 3600 --moves "$d/moves.txt" >"$d/pub.out" 2>"$d/pub.log" &
	local pub=$!
	# The moves start (SIGUSR1) and the window opens once every feed's first update is confirmed and
	# MIN_INTERVAL has passed (or after WARM x T_SLOW s): moves made during the start - 3 x N first
	# decisions queued at once, each feed's update in flight - measured the start, not the pipeline
	# (they set the p99 of 0.5-1.6 s in the README's earlier rows).
	first_confirmed() { # every feed has a confirmed update (a batch confirms each of its members)
		python3 - "$d/bus.jsonl" "$n" <<'PY'
import json, sys
feeds, done = {}, set()
for line in open(sys.argv[1]):
    if '"price.update"' not in line and '"confirmed"' not in line:
        continue
    try:
        m = json.loads(line)
    except ValueError:
        continue  # the line bus-tap is writing
    b = m.get("body") or {}
    if m["type"] == "price.update":
        feeds[m["id"][2:]] = [e["feed"] for e in b.get("batch") or []] or [b["feed"]]
    elif m["type"] == "tx.status" and b.get("state") == "confirmed":
        done.add(b.get("ref"))
sys.exit(0 if len({f for i in done for f in feeds.get(i, ())}) >= int(sys.argv[2]) else 1)
PY
	}
	poll "$WARM" first_confirmed ||
		echo "  (not every feed's first update was confirmed after $(awk -v s="$WARM" -v k="$T_SLOW" 'BEGIN{print s * k}') s)"
	echo "  first update of every feed confirmed $(awk -v a="$t_pub" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b - a}') s after the sources started"
	sleep "$MIN_ITV"
	kill -USR1 "$pub"
	PROC[anvil]=$ANVIL_PID
	local names=("${!PROC[@]}")
	local t0=$EPOCHREALTIME
	for p in "${names[@]}"; do echo "$p $(awk '{print $14 + $15}' "/proc/${PROC[$p]}/stat")"; done >"$d/cpu0.txt"
	# The node's own baseline in the same window: what one state read (latestRoundData, the kind of
	# call the gate makes) takes on the node, every 10 ms, and what taking one transaction takes
	# (eth_sendRawTransaction of a value transfer from a key of its own), every 100 ms; and the disk's:
	# a 4 KB write and fdatasync in the state directories' file system, every 100 ms (each actor's
	# LMDB commit waits for one or two).
	python3 - "$RPC_URL" "${AGGS[0]}" "$d/probe-raw.txt" "$d/probe.txt" "$d/probe-send.txt" "$d/probe-sync" <<'PY' &
import http.client, json, os, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
read = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_call",
                   "params": [{"to": sys.argv[2], "data": "0xfeaf968c"}, "latest"]})
raws = open(sys.argv[3]).read().split()
out, sends, syncs = open(sys.argv[4], "w"), open(sys.argv[5], "w"), open(sys.argv[6] + ".txt", "w")
fd = os.open(sys.argv[6] + ".dat", os.O_WRONLY | os.O_CREAT, 0o600)
for i in range(10 * len(raws)):
    if i % 10 == 5:
        os.pwrite(fd, b"x" * 4096, (i // 10 % 16) * 4096)
        t = time.monotonic()
        os.fdatasync(fd)
        syncs.write("%.3f\n" % ((time.monotonic() - t) * 1e3))
        syncs.flush()
    send = i % 10 == 0
    req = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "eth_sendRawTransaction", "params": [raws[i // 10]]}) if send else read
    t = time.monotonic()
    c.request("POST", "/", req, {"content-type": "application/json"})
    a = json.loads(c.getresponse().read())
    dt = (time.monotonic() - t) * 1e3
    if "result" in a:
        (sends if send else out).write("%.3f\n" % dt)
        (sends if send else out).flush()
    time.sleep(0.01)
PY
	local probe=$!
	sleep "$secs"
	local t1=$EPOCHREALTIME
	# the gates' node calls and batches over the whole run (warm-up included), for the report
	for ((s = 0; s < shards; s++)); do curl -s "http://127.0.0.1:${GPORT[s]}/metrics" >"$d/gate-$s.metrics" || true; done
	kill "$probe" 2>/dev/null || true
	wait "$probe" 2>/dev/null || true
	for p in "${names[@]}"; do
		kill -0 "${PROC[$p]}" 2>/dev/null || fail "$p exited during the run at $n feeds: $(tail -3 "$d/$p.log")"
	done
	for p in "${names[@]}"; do echo "$p $(awk '{print $14 + $15}' "/proc/${PROC[$p]}/stat")"; done >"$d/cpu1.txt"
	for p in "${names[@]}"; do
		echo "$p $(awk '/^Private_(Clean|Dirty)/ {s += $2} END {print s}' "/proc/${PROC[$p]}/smaps_rollup")"
	done >"$d/mem.txt"
	unset 'PROC[anvil]'
	sleep 3 # the last moves' transactions
	kill -TERM "$pub"
	wait "$pub" || fail "bench-pub: $(cat "$d/pub.log")"
	cat "$d/pub.out"
	python3 - "$d" "$n" "$shards" "$t0" "$t1" "$HZ" "$MIN_ITV" <<'PY' || fail "publisher at $n feeds"
import json, sys, collections
d, n, shards = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0, t1, hz = float(sys.argv[4]) * 1e9, float(sys.argv[5]) * 1e9, int(sys.argv[6])
min_itv = float(sys.argv[7]) * 1e9
secs = (t1 - t0) / 1e9
cpu0 = dict(l.split() for l in open(f"{d}/cpu0.txt"))
cpu1 = dict(l.split() for l in open(f"{d}/cpu1.txt"))
mem = dict(l.split() for l in open(f"{d}/mem.txt"))
kind = lambda p: p.split("-")[0]
updates = set()
by_feed = collections.defaultdict(dict)  # feed -> update id -> (decided_at_ns, answer, published ts)
aggs = collections.defaultdict(list)  # (feed, median) -> aggregated_at_ns
first_of = lambda tab, k, t: min((x for x in tab.get(k, ()) if x >= t), default=None)
signed, pending, confirmed = {}, {}, {}  # price.update id -> the earliest time
tx_per_key = collections.Counter()
early = lambda tab, k, t: tab.__setitem__(k, min(t, tab.get(k, t)))
for line in open(f"{d}/bus.jsonl"):
    m = json.loads(line)
    b = m.get("body") or {}
    ts = int(m["ts"])
    if m["type"] == "price.update":
        if t0 <= ts < t1:  # a decision per feed: a batch holds several
            updates.update((m["id"], e["feed"]) for e in b.get("batch") or [b])
        # a batch's members share its id, decision time and transaction
        for e in b.get("batch") or [b]:
            u = by_feed[e["feed"]].setdefault(m["id"][2:], [int(b["decided_at_ns"]), str(e["answer"]), ts])
            u[2] = min(u[2], ts)  # the outbox re-publishes with the same id
    elif m["type"] == "price.agg":
        aggs[(b["feed"], str(b["median"]))].append(int(b["aggregated_at_ns"]))
    elif m["type"] == "tx.signed":
        early(signed, b.get("ref"), int(b["signed_at_ns"]))
    elif m["type"] == "tx.status" and b.get("state") == "pending":
        t = int(b["observed_at_ns"])
        early(pending, b.get("ref"), t)
        if t0 <= t < t1:
            tx_per_key[b["from"]] += 1
    elif m["type"] == "tx.status" and b.get("state") in ("confirmed", "final"):
        early(confirmed, b.get("ref"), int(b["observed_at_ns"]))
decisions = len(updates)
# Each move: its update (the feed's first decided at or after the move with the new answer), and the
# update before it. The gate keeps one update per feed in flight and MIN_INTERVAL after the on-chain
# update (by design): a move made before the previous update was confirmed, or within MIN_INTERVAL of
# that, waits for them; those are counted apart ("held"), not as the pipeline's latency.
free, held, missed = [], [], 0
for line in open(f"{d}/moves.txt"):
    feed, value, t = line.split()
    t = int(t)
    if not (t0 <= t < t1 - 3e9):
        continue
    ups = sorted(by_feed.get(feed, {}).items(), key=lambda kv: kv[1][0])
    prev = [i for i, u in ups if u[0] < t]
    mine = [(i, u) for i, u in ups if u[0] >= t and u[1] == value]
    if not mine or mine[0][0] not in pending:
        missed += 1
        continue
    i, (dec, _, pub) = mine[0]
    c = confirmed.get(prev[-1]) if prev else None
    row = (t, first_of(aggs, (feed, value), t), dec, pub, signed.get(i), pending[i])
    (free if c is not None and c + min_itv <= t else held).append(row)
def q(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else float("nan")
def hop(rows, i, j):
    return [(r[j] - r[i]) / 1e6 for r in rows if r[i] is not None and r[j] is not None]
lat = hop(free, 0, 5)
txs = tx_per_key
busiest = max(txs.values()) / secs if txs else 0
print(f"{n} feeds x 3 sources ({shards} shards of <= {(n + shards - 1) // shards} feeds: median, gate, signer, submitter each; one key "
      f"per shard), {secs:.0f} s measured: {decisions} decisions ({decisions / secs:.1f}/s), "
      f"{sum(txs.values())} transactions ({sum(txs.values()) / secs:.1f}/s)")
print(f"  source change -> tx accepted: {len(lat)} moves, p50 {q(lat, .5):.1f} ms, p99 {q(lat, .99):.1f} ms, "
      f"max {max(lat, default=float('nan')):.1f} ms; {missed} moves without a transaction")
hl = hop(held, 0, 5)
print(f"    and {len(held)} moves made while the feed's previous update was in flight or confirmed less than "
      f"MIN_INTERVAL before (held by the gate by design, not in the above): p50 {q(hl, .5):.1f} ms, max {max(hl, default=float('nan')):.1f} ms")
dl = hop(free, 0, 2)
print(f"    of which source change -> the gate's decision (median + gate): p50 {q(dl, .5):.1f} ms, p99 {q(dl, .99):.1f} ms")
sl = hop(free, 0, 4)
print(f"    of which source change -> tx signed (the publisher's part; what is left is the node taking the "
      f"transaction): p50 {q(sl, .5):.1f} ms, p99 {q(sl, .99):.1f} ms")
print("    per hop, p50 / p99 / max ms: " + "; ".join(
    f"{name} {q(h, .5):.1f} / {q(h, .99):.1f} / {max(h, default=float('nan')):.1f}"
    for name, h in (("source->agg", hop(free, 0, 1)), ("agg->decided", hop(free, 1, 2)), ("decided->published", hop(free, 2, 3)),
                    ("published->signed", hop(free, 3, 4)), ("signed->pending", hop(free, 4, 5)))))
probe = [float(x) for x in open(f"{d}/probe.txt").read().split()]
psend = [float(x) for x in open(f"{d}/probe-send.txt").read().split()]
print(f"  the node alone, the same window: eth_call latestRoundData ({len(probe)} calls) p50 {q(probe, .5):.1f} ms, "
      f"p99 {q(probe, .99):.1f} ms, max {max(probe, default=float('nan')):.1f} ms; eth_sendRawTransaction of a "
      f"transfer ({len(psend)}) p50 {q(psend, .5):.1f} ms, p99 {q(psend, .99):.1f} ms, max {max(psend, default=float('nan')):.1f} ms")
psync = [float(x) for x in open(f"{d}/probe-sync.txt").read().split()]
print(f"  the disk alone, the same window: 4 KB write + fdatasync ({len(psync)}) p50 {q(psync, .5):.2f} ms, "
      f"p99 {q(psync, .99):.1f} ms, max {max(psync, default=float('nan')):.1f} ms")
# the gates' own counts (whole run, warm-up included): node calls by method, batches and how many
# went the checked path (one eth_call) rather than the full one (preflight, estimate, check)
import glob, re
gm = collections.Counter()
for f in glob.glob(f"{d}/gate-*.metrics"):
    for l in open(f):
        r = re.match(r'(rpc_requests_total\{method="([^"]+)"|gate_batches_total|gate_batch_checked_total)[^ ]* (\S+)', l)
        if r:
            gm[r.group(2) or r.group(1)] += float(r.group(3))
if gm:
    print("  the gates, whole run: " + ", ".join(f"{k} {int(v)}" for k, v in sorted(gm.items())))
print(f"  transactions per second from one key: busiest {busiest:.2f}, mean {sum(txs.values()) / secs / max(len(txs), 1):.2f}")
print(f"  {'actor':10} {'procs':>5} {'CPU s':>7} {'CPU s/1k decisions':>19} {'private MiB':>12} {'KiB/feed':>9}")
tot_mem = 0
for k in ["busd", "median", "gate", "signer", "submitter", "anvil"]:
    ps = [p for p in cpu1 if kind(p) == k]
    c = sum(int(cpu1[p]) - int(cpu0[p]) for p in ps) / hz
    m = sum(int(mem[p]) for p in ps)
    if k == "anvil":  # the chain, not the publisher: its CPU for context only
        print(f"  (anvil, the chain: {c:.2f} CPU s)")
        continue
    tot_mem += m
    print(f"  {k:10} {len(ps):5d} {c:7.2f} {c * 1000 / max(decisions, 1):19.2f} {m / 1024:12.1f} {m / n:9.1f}")
print(f"  publisher private memory (busd + actors) {tot_mem / 1024:.1f} MiB = {tot_mem / n:.0f} KiB per feed")
if decisions == 0 or not lat:
    print("FAIL: no decisions or no latency samples"); sys.exit(1)
PY
	stop_run
}

# the runs: feeds:batch-call; SCALE_FEEDS / SCALE_BATCH pick their own
RUNS="100:off 500:off 500:updateAnswers"
if [ -n "${SCALE_FEEDS:-}${SCALE_BATCH:-}" ]; then
	RUNS=
	for n in ${SCALE_FEEDS:-100 500}; do RUNS+=" $n:${SCALE_BATCH:-off}"; done
fi
for r in $RUNS; do
	n=${r%%:*} BATCH=${r#*:}
	case $BATCH in off | updateAnswers) ;; *) fail "SCALE_BATCH=$BATCH: want off or updateAnswers" ;; esac
	secs=${SCALE_SECONDS:-$([ "$n" -ge 500 ] && echo 30 || echo 40)}
	echo "== $n feeds (batches: $BATCH)"
	run_scale "$n" "$secs"
done
