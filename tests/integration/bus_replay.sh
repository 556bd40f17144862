#!/usr/bin/env bash
# bus-replay end to end: journal a known run through busd, read it back, and replay it into a
# second bus.
#   1. busd #1 (ipc:// in a temp dir, journal there); bus-tap --publish injects 20 frames on
#      several topics from several origins, 10 before a time mark and 10 after.
#   2. list shows all 20 in order with the right topic, type, origin and seq; dump gives the
#      bodies as JSON (decoded) or hex (unknown type); --topic, --from-seq/--to-seq, --since/
#      --until (RFC 3339, ns, relative) and --count select exact subsets; no match exits 1.
#   3. busd #1 stopped; busd #2 (fresh journal) with a bus-tap subscriber; bus-replay publish
#      --rate 50 replays journal #1 into it: the subscriber gets exactly the recorded frames
#      (same topic, origin, seq, id, publish ts, body), and busd #2 journals the same frames.
#      Before that, a replay of journal #1 into busd #1 itself must end (range fixed at start).
#      The achieved rate is printed and checked loosely; --speed is checked loosely too.
#   4. a 3,000-frame bus-tap burst and its unpaced replay (--rate 0) arrive whole: the publishers
#      wait on busd's backlog instead of overflowing pub0's queue.
set -euo pipefail
export HTTP_PORT=${HTTP_PORT-0} # actors listen on the seed's 8000/8080 unless told: here, no HTTP unless a start asks (docs/MIGRATION.md)
BUILD=${BUILD:-build}
BIN=$BUILD/bin
for b in busd bus-tap bus-replay; do
	[ -x "$BIN/$b" ] || { echo "missing $BIN/$b (run make)"; exit 1; }
done
. "$(dirname "$0")/../lib/common.sh"
FAIL_TAIL=20
RP() { "$BIN/bus-replay" --journal "$TMP/b1.j" "$@"; }
count() { RP list "$@" | wc -l; }
expect_count() { # want args...
	local want=$1 got; shift
	got=$(count "$@") || fail "bus-replay list $* exited non-zero"
	[ "$got" -eq "$want" ] || fail "list $*: $got frames, want $want"
	echo "ok  list $*: $got"
}

# start_busd NAME [HTTP_PORT]: busd on ipc://$TMP/NAME.in / .out, journal $TMP/NAME.j
start_busd() {
	BUSD_INGRESS=ipc://$TMP/$1.in BUSD_EGRESS=ipc://$TMP/$1.out JOURNAL_DIR=$TMP/$1.j \
		JOURNAL_FLUSH_MS=10 HTTP_PORT=${2:-0} HTTP_ADDR=127.0.0.1 "$BIN/busd" 2>"$TMP/$1.log" &
	PIDS+=($!)
	wait_for 5 "busd $1 listening" test -S "$TMP/$1.in" -a -S "$TMP/$1.out"
}
# journal_ge J N: the journal J (busd commits it every 10 ms here) holds at least N frames
journal_ge() { local n; n=$("$BIN/bus-replay" --journal "$1" stats 2>/dev/null | awk '$1=="frames"{print $2}'); [ "${n:-0}" -ge "$2" ]; }
stop_busd() { # pid
	kill -TERM "$1"
	wait "$1" || fail "busd exited with $?"
}
vec() { python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))[0]["json"]))' "schemas/vectors/$1.json"; }
pub() { # topic type origin repeat --json|--hex body
	"$BIN/bus-tap" --url "ipc://$TMP/b1.in" --publish "$1" --type "$2" --origin "$3" --repeat "$4" \
		--interval 20 "$5" "$6" 2>>"$TMP/pub.log" || fail "bus-tap --publish $1 failed"
}

# ---- 1. journal a known run -------------------------------------------------------------------
start_busd b1
B1=${PIDS[-1]}
OBS=$(vec price.obs); AGG=$(vec price.agg); ALERT=$(vec alert)
pub price.obs.ETH-USD price.obs fetch-a 6 --json "$OBS"
pub price.obs.BTC-USD price.obs fetch-b 4 --json "$OBS"
# the mark falls after busd received the first 10 (their recv_ts) however slow the machine
wait_for 5 "the first 10 frames journalled" journal_ge "$TMP/b1.j" 10
sleep 0.3
MARK_NS=$(date +%s%N)
MARK_RFC=$(date -u -d "@${MARK_NS:0:10}.${MARK_NS:10:3}" +%Y-%m-%dT%H:%M:%S.%3NZ)
sleep 0.3
pub price.agg.ETH-USD price.agg median-0 3 --json "$AGG"
pub alert.critical.ccip alert alerter-0 4 --json "$ALERT"
pub debug.blob blob.raw tester 3 --hex 00ff10
wait_for 5 "20 frames journalled" journal_ge "$TMP/b1.j" 20
n=$(RP stats 2>/dev/null | awk '$1=="frames"{print $2}')
[ "${n:-0}" -eq 20 ] || fail "journal holds ${n:-0} frames, want 20"

# ---- 2. list, dump, ranges ----------------------------------------------------------------------
RP list >"$TMP/list.txt" || fail "list exited non-zero"
expected=$(
	for i in 1 2 3 4 5 6; do echo "price.obs.ETH-USD price.obs fetch-a $i"; done
	for i in 1 2 3 4; do echo "price.obs.BTC-USD price.obs fetch-b $i"; done
	for i in 1 2 3; do echo "price.agg.ETH-USD price.agg median-0 $i"; done
	for i in 1 2 3 4; do echo "alert.critical.ccip alert alerter-0 $i"; done
	for i in 1 2 3; do echo "debug.blob blob.raw tester $i"; done
)
got=$(awk '{print $3, $4, $5, $6}' "$TMP/list.txt")
[ "$got" = "$expected" ] || fail "list order/content differs:$(diff <(echo "$expected") <(echo "$got"))"
[ "$(awk '{print $1}' "$TMP/list.txt" | tr '\n' ' ')" = "$(seq -s ' ' 1 20) " ] || fail "indexes not 1..20"
grep -Eq '^1 +20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z ' "$TMP/list.txt" || fail "list time format"
echo "ok  list: 20 frames in order"

RP dump >"$TMP/dump1.jsonl" || fail "dump exited non-zero"
python3 - "$TMP/dump1.jsonl" "$OBS" "$AGG" "$ALERT" <<'PY' || fail "dump content"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
obs, agg, alert = (json.loads(a) for a in sys.argv[2:5])
assert len(rows) == 20, len(rows)
want = {"price.obs": obs, "price.agg": agg, "alert": alert}
ids = set()
for i, r in enumerate(rows, 1):
    assert r["index"] == i, r
    assert r["signed"] is False, r
    assert len(r["id"]) == 34 and r["id"].startswith("0x") and r["id"] not in ids, r
    ids.add(r["id"])
    # ns since the epoch are beyond 2^53: decimal strings (exact in jq), never numbers
    assert isinstance(r["recv_ts"], str) and isinstance(r["ts"], str), r
    assert i == 1 or int(r["recv_ts"]) >= int(rows[i - 2]["recv_ts"]), "recv_ts went back"
    if r["type"] in want:
        # the body decoded through the schema equals what was published (plus "v")
        for k, v in want[r["type"]].items():
            assert r["body"].get(k) == v, (r["type"], k, r["body"].get(k), v)
        assert "body_hex" not in r
    else:
        assert r["type"] == "blob.raw" and r["body_hex"] == "0x00ff10" and "body" not in r, r
print("ok  dump: 20 JSON lines, bodies decoded, unknown type as hex")
PY

expect_count 10 --topic price.obs.
expect_count 6 --topic price.obs.ETH
expect_count 7 --topic price.agg --topic alert.
expect_count 20 --topic price --topic alert --topic debug
expect_count 8 --from-seq 5 --to-seq 12
expect_count 4 --from-seq 5 --to-seq 12 --topic price.obs.BTC
expect_count 10 --since "$MARK_RFC"
expect_count 10 --since "$MARK_NS"
expect_count 10 --until "$MARK_NS"
expect_count 4 --since "$MARK_RFC" --topic alert.
expect_count 20 --since -1h --until now
expect_count 3 --count 3 --topic price.agg.
expect_count 2 --since "$MARK_NS" --from-seq 17 --to-seq 18
[ "$(RP list --from-seq 5 --to-seq 12 | awk 'NR==1{print $1} END{print $1}' | tr '\n' ' ')" = "5 12 " ] ||
	fail "--from-seq 5 --to-seq 12 is not 5..12"
rc=0; RP list --topic nosuch. >/dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "no match: exit $rc, want 1"
rc=0; RP list --since 2026-02-30T00:00:00Z >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "bad date: exit $rc, want 2"
RP list --stats --topic alert. | grep -q '^matched  4 frames' || fail "stats with a range"
echo "ok  no match exits 1, bad date exits 2, stats counts a range"

# Replaying into the busd that writes the journal ends: the range is fixed at start.
timeout 10 "$BIN/bus-replay" --journal "$TMP/b1.j" publish --url "ipc://$TMP/b1.in" --from-seq 19 \
	2>"$TMP/self.log" || fail "self-replay did not end cleanly"
wait_for 5 "the self-replay journalled" journal_ge "$TMP/b1.j" 22
stop_busd "$B1"
[ "$(count)" -eq 22 ] || fail "after a self-replay of 2 frames the journal holds $(count), want 22"
echo "ok  self-replay of 2 frames ended; journal #1 now 22 frames"

# ---- 3. replay into a second bus ----------------------------------------------------------------
PORT=$(free_port)
start_busd b2 "$PORT"
B2=${PIDS[-1]}
"$BIN/bus-tap" --url "ipc://$TMP/b2.out" --count 20 --timeout 300 --format json \
	>"$TMP/sub.jsonl" 2>"$TMP/sub.log" &
SUB=$!
PIDS+=($SUB)
wait_subscribers "$PORT" 1

RP publish --to-seq 20 --url "ipc://$TMP/b2.in" --rate 50 2>"$TMP/replay.log" || fail "publish exited non-zero"
cat "$TMP/replay.log"
rate=$(sed -n 's/.*s (\([0-9.]*\) frames\/s.*/\1/p' "$TMP/replay.log")
grep -q 'sent 20 frames' "$TMP/replay.log" || fail "publish did not send 20 frames"
# not much faster than asked; slower only by what a loaded machine costs
awk -v r="$rate" 'BEGIN{exit !(r >= 10 && r <= 75)}' || fail "achieved rate $rate, requested 50"
echo "ok  replay rate: $rate frames/s (requested 50)"
wait "$SUB" || fail "subscriber exited $? (timed out before 20 frames?)"

wait_for 5 "journal #2 holds 20" journal_ge "$TMP/b2.j" 20
"$BIN/bus-replay" --journal "$TMP/b2.j" dump >"$TMP/dump2.jsonl" || fail "dump of journal #2"
python3 - "$TMP/dump1.jsonl" "$TMP/sub.jsonl" "$TMP/dump2.jsonl" <<'PY' || fail "replayed frames differ"
import json, sys
keys = ("topic", "type", "id", "origin", "seq", "ts", "signed")
def load(p):
    return [json.loads(l) for l in open(p)]
rec, sub, j2 = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3])
def view(r):
    return tuple(r.get(k) for k in keys) + (json.dumps(r.get("body"), sort_keys=True), r.get("body_hex"))
assert len(sub) == 20, f"subscriber got {len(sub)} frames"
for a, b in zip(rec, sub):
    assert view(a) == view(b), f"subscriber saw {view(b)}, recorded {view(a)}"
assert len(j2) == 20, f"journal #2 holds {len(j2)} frames"
for a, b in zip(rec, j2):
    assert view(a) == view(b), f"journal #2 holds {view(b)}, journal #1 {view(a)}"
assert all("gap" not in r for r in sub), "subscriber counted gaps"
print("ok  subscriber and journal #2 got exactly the 20 recorded frames (topic, origin, seq, id, ts, body)")
PY

# --speed: the original pacing, scaled. Journal #1 spans at least 0.6 s (the sleeps around the mark).
span=$(python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print((int(r[-1]["recv_ts"])-int(r[0]["recv_ts"]))/1e9)' "$TMP/dump1.jsonl")
RP publish --to-seq 20 --url "ipc://$TMP/b2.in" --speed 2 --linger-ms 0 2>"$TMP/speed.log" || fail "publish --speed exited non-zero"
cat "$TMP/speed.log"
took=$(sed -n 's/.* in \([0-9.]*\) s .*/\1/p' "$TMP/speed.log")
awk -v t="$took" -v s="$span" 'BEGIN{exit !(t >= s/2*0.8 && t <= s/2*1.5 + 2)}' ||
	fail "--speed 2 took $took s for a $span s recording"
echo "ok  --speed 2: $took s for a $span s recording"

# ---- 4. unpaced: nothing lost to pub0's queue ------------------------------------------------------
# 3,000 frames published by bus-tap in one burst into busd #3 (journaled), then replayed unpaced
# (--rate 0) into busd #2: both publishers wait whenever busd has not taken 256 of their frames
# (pub0 drops once its 1,024-frame queue is full: 1,212 of 3,000 arrived before).
start_busd b3
"$BIN/bus-tap" --url "ipc://$TMP/b3.in" --publish price.obs.BURST-USD --type raw --hex 0102 --origin burst \
	--repeat 3000 --interval 0 2>"$TMP/burst.log" || fail "bus-tap burst exited $?"
wait_for 10 "journal #3 holds the 3000" journal_ge "$TMP/b3.j" 3000
stop_busd "${PIDS[-1]}"
j3=$("$BIN/bus-replay" --journal "$TMP/b3.j" stats | awk '$1=="frames"{print $2}')
[ "$j3" = 3000 ] || fail "journal #3 holds $j3 frames, want exactly 3000"
before=$("$BIN/bus-replay" --journal "$TMP/b2.j" stats | awk '$1=="frames"{print $2}')
"$BIN/bus-replay" --journal "$TMP/b3.j" publish --url "ipc://$TMP/b2.in" --rate 0 2>"$TMP/unpaced.log" ||
	fail "unpaced publish exited $?: $(cat "$TMP/unpaced.log")"
cat "$TMP/unpaced.log"
wait_for 10 "journal #2 holds $before + 3000" journal_ge "$TMP/b2.j" $((before + 3000))
j2=$("$BIN/bus-replay" --journal "$TMP/b2.j" stats | awk '$1=="frames"{print $2}')
[ "$j2" = $((before + 3000)) ] || fail "journal #2 holds $j2 frames, want exactly $before + 3000"
echo "ok  a 3000-frame burst (bus-tap) and its unpaced replay (bus-replay --rate 0): every frame arrived"
stop_busd "$B2"
echo "PASS bus_replay"
