#!/usr/bin/env bash
# busd with real publishers and subscribers (bus-tap), over ipc:// and tcp://127.0.0.1:
#  1. delivery: frames published with bus-tap --publish arrive, decoded, in order; an invalid body
#     is refused by the publisher with a message naming the field; /metrics passes promtool.
#  2. busd killed (SIGKILL) and restarted while traffic flows: the subscriber recovers by itself,
#     and the frames lost meanwhile show up as gaps in its per-stream stats.
#  3. trust: a frame signed with the wrong key (and an unsigned one) on a protected topic is
#     rejected and shown as an error line; the right key passes.
#  4. two busd replicas: the subscriber dials both and sees each frame once.
#  5. a publisher that exits right after a burst while busd reads nothing (SIGSTOPped) loses none
#     of it: bus-tap's close waits until its frames are written (pub0 dropped its queue at close);
#     a busd that reads nothing for 5 s: the loss is said and bus-tap exits 3.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
BUILD=${BUILD:-build}
BUSD=$BUILD/bin/busd TAP=$BUILD/bin/bus-tap
for b in "$BUSD" "$TAP"; do [ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }; done
FAIL_TAIL=20

start_busd() {  # name ingress egress http_port: returns once it serves /health
	BUSD_INGRESS=$2 BUSD_EGRESS=$3 JOURNAL_DIR=$TMP/$1-journal HTTP_PORT=$4 HTTP_ADDR=127.0.0.1 \
		INSTANCE=$1 "$BUSD" 2>>"$TMP/$1.log" &
	PIDS+=($!)
	LAST_PID=$!
	wait_for 5 "$1 /health" curl -sf "http://127.0.0.1:$4/health"
}
lines_ge() { [ "$(wc -l <"$1")" -ge "$2" ]; }
# before a new subscriber on a busd whose last one just ended: its pipe gone, so that
# wait_subscribers counts the new one
subs_is_0() { [ "$(metric_at "$1" busd_subscribers)" = 0 ]; }
wait_no_subscribers() { wait_for 5 "no subscriber left on :$1" subs_is_0 "$1"; }

OBS='{"feed":"ETH-USD","source":"coinbase","value":"300012345678","decimals":8,"source_ts_ms":1700000000000,"fetch_latency_us":1500,"observed_at_ns":1700000000000000000}'

echo "== 1. delivery over ipc:// and tcp://"
for transport in ipc tcp; do
	if [ $transport = ipc ]; then IN=ipc://$TMP/in.ipc; OUT=ipc://$TMP/out.ipc; else
		IN=tcp://127.0.0.1:$(free_port); OUT=tcp://127.0.0.1:$(free_port); fi
	HP=$(free_port)
	start_busd busd-$transport "$IN" "$OUT" "$HP"
	BPID=$LAST_PID
	"$TAP" --url "$OUT" --topic price.obs. --count 3 --timeout 120 >"$TMP/sub1.out" 2>"$TMP/sub1.log" &
	SUB=$!
	wait_subscribers "$HP" 1
	for i in 1 2 3; do
		"$TAP" --url "$IN" --publish price.obs.ETH-USD --origin pub-a --json "$OBS" 2>>"$TMP/pub.log" || fail "publish $i"
	done
	# a topic the subscriber did not ask for
	"$TAP" --url "$IN" --publish alert.info.test --type raw --hex 00 2>>"$TMP/pub.log"
	wait $SUB || fail "$transport: subscriber did not get 3 frames (exit $?)"
	[ "$(wc -l <"$TMP/sub1.out")" = 3 ] || fail "$transport: want 3 lines"
	python3 - "$TMP/sub1.out" <<'PY' || fail "$transport: decoded frames"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
for l in lines:
    assert l["topic"] == "price.obs.ETH-USD" and l["type"] == "price.obs", l
    assert l["body"]["value"] == "300012345678" and l["body"]["source"] == "coinbase", l
    assert l["signed"] is False
PY
	if "$TAP" --url "$IN" --publish price.obs.ETH-USD --json '{"feed":"ETH-USD"}' 2>"$TMP/bad.err"; then
		fail "an incomplete body was published"
	fi
	grep -q "missing" "$TMP/bad.err" || fail "error does not name the missing field: $(cat "$TMP/bad.err")"
	curl -sf "http://127.0.0.1:$HP/metrics" >"$TMP/metrics.txt" || fail "busd /metrics"
	promtool check metrics <"$TMP/metrics.txt" || fail "promtool rejected busd /metrics"
	fwd=$(awk '$1=="busd_forwarded_total"{print $2}' "$TMP/metrics.txt")
	[ "$fwd" -ge 4 ] || fail "busd_forwarded_total=$fwd, want >= 4"
	curl -sf "http://127.0.0.1:$HP/health" | grep -q '"ok"' || fail "busd /health"
	kill -TERM $BPID; wait $BPID || fail "busd did not exit 0 on SIGTERM"
	grep -q "frames forwarded" "$TMP/busd-$transport.log" || fail "no final log line"
	echo "ok: $transport"
done

echo "== 2. busd killed and restarted under traffic"
IN=ipc://$TMP/in2.ipc OUT=ipc://$TMP/out2.ipc RP=$(free_port)
start_busd busd-r "$IN" "$OUT" "$RP"
BPID=$LAST_PID
"$TAP" --url "$OUT" --topic flow. --timeout 600 --stats >"$TMP/sub2.out" 2>"$TMP/sub2.stats" &
SUB=$!
wait_subscribers "$RP" 1
"$TAP" --url "$IN" --publish flow.t --type raw --hex 01 --origin flow-pub --repeat 300 --interval 20 \
	2>"$TMP/pub2.log" &
PUB=$!
wait_for 10 "frames flowing" lines_ge "$TMP/sub2.out" 20
kill -9 $BPID
wait $BPID 2>/dev/null || true
sleep 1 # frames published now are lost: nobody listens (the publisher goes on: 300 x 20 ms)
start_busd busd-r "$IN" "$OUT" "$RP"
wait $PUB || fail "publisher failed"
last_seq() { tail -1 "$TMP/sub2.out" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["seq"])'; }
last_is_300() { [ "$(last_seq)" = 300 ]; }
poll 10 last_is_300 || true  # the subscriber recovers by itself; then stop it (its stats at exit)
kill -INT $SUB
wait $SUB || fail "subscriber exit $?"
got=$(wc -l <"$TMP/sub2.out")
last=$(last_seq)
gaps=$(awk '$1=="flow-pub"{print $5}' "$TMP/sub2.stats")
echo "received $got of 300, last seq $last, gaps counted $gaps"
[ "$last" = 300 ] || fail "subscriber did not recover: last seq $last"
[ "$got" -lt 300 ] || fail "expected frames lost while busd was down"
[ "$gaps" -gt 0 ] || fail "no gaps counted"
[ $((got + gaps)) = 300 ] || fail "received $got + gaps $gaps != 300"
grep -q '"gap":' "$TMP/sub2.out" || fail "no frame marked with its gap"

echo "== 3. trust: forged and unsigned frames are rejected"
read -r _ GOODSEC < <("$TAP" --keygen | head -1)
wait_no_subscribers "$RP"
# the public key of GOODSEC, as subscribers see it: sign one frame and read its key from a tap
"$TAP" --url "$OUT" --topic keyprobe. --count 1 --timeout 120 >"$TMP/probe.out" &
P=$!
wait_subscribers "$RP" 1
BUS_SIGNING_KEY=$GOODSEC "$TAP" --url "$IN" --publish keyprobe.x --type raw --hex 00 2>/dev/null
wait $P || fail "key probe"
GOODPUB=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["key"][2:])' "$TMP/probe.out")
read -r _ EVILSEC < <("$TAP" --keygen | head -1)
wait_no_subscribers "$RP"
"$TAP" --url "$OUT" --topic price.update. --trust "price.update.=$GOODPUB" --timeout 600 \
	>"$TMP/sub3.out" 2>"$TMP/sub3.log" &
SUB=$!
wait_subscribers "$RP" 1
BUS_SIGNING_KEY=$EVILSEC "$TAP" --url "$IN" --publish price.update.ETH-USD --type raw --hex 01 2>/dev/null
"$TAP" --url "$IN" --publish price.update.ETH-USD --type raw --hex 02 2>/dev/null
BUS_SIGNING_KEY=$GOODSEC "$TAP" --url "$IN" --publish price.update.ETH-USD --type raw --hex 03 2>/dev/null
wait_for 10 "three frames seen" lines_ge "$TMP/sub3.out" 3
kill -INT $SUB; wait $SUB || fail "subscriber exit $?"
grep '"body_hex":"0x01"' "$TMP/sub3.out" | grep -q 'untrusted_key' || fail "wrong-key frame not reported as rejected"
grep '"body_hex":"0x02"' "$TMP/sub3.out" | grep -q 'missing_signature' || fail "unsigned frame not reported as rejected"
[ "$(grep -c '"error"' "$TMP/sub3.out")" = 2 ] || fail "want exactly 2 rejections"
grep '"body_hex":"0x03"' "$TMP/sub3.out" | grep -vq '"error"' || fail "the good frame was not accepted"
grep -q "$GOODSEC" "$TMP"/*.out "$TMP"/*.log && fail "a secret key appeared in output"
echo "ok: forged and unsigned rejected"

echo "== 4. two busd replicas: one delivery each"
AP=$(free_port) BBP=$(free_port)
start_busd busd-a ipc://$TMP/a-in ipc://$TMP/a-out "$AP"
APID=$LAST_PID
start_busd busd-b ipc://$TMP/b-in ipc://$TMP/b-out "$BBP"
"$TAP" --url ipc://$TMP/a-out --url ipc://$TMP/b-out --topic dup. --timeout 600 --stats \
	>"$TMP/sub4.out" 2>"$TMP/sub4.stats" &
SUB=$!
wait_subscribers "$AP" 1
wait_subscribers "$BBP" 1
"$TAP" --url ipc://$TMP/a-in,ipc://$TMP/b-in --publish dup.t --type raw --hex 05 --origin dup-pub \
	--repeat 20 --interval 5 2>/dev/null
# Both busd forwarded the 20; then one end marker through each: a busd forwards to a subscriber in
# order, so once both markers are printed every copy of the 20 has reached the subscriber.
fwd_ge() { local v; v=$(metric_at "$1" busd_forwarded_total); [ "${v:-0}" -ge "$2" ]; }
wait_for 5 "busd-a forwarded 20" fwd_ge "$AP" 20
wait_for 5 "busd-b forwarded 20" fwd_ge "$BBP" 20
"$TAP" --url ipc://$TMP/a-in --publish dup.end --type raw --hex 0a --origin end-a 2>/dev/null
"$TAP" --url ipc://$TMP/b-in --publish dup.end --type raw --hex 0b --origin end-b 2>/dev/null
both_ends() { grep -q '"origin":"end-a"' "$TMP/sub4.out" && grep -q '"origin":"end-b"' "$TMP/sub4.out"; }
wait_for 5 "both end markers" both_ends
kill -INT $SUB; wait $SUB || fail "subscriber exit $?"
[ "$(grep -c '"origin":"dup-pub"' "$TMP/sub4.out")" = 20 ] || fail "want 20 frames once each, got $(grep -c '"origin":"dup-pub"' "$TMP/sub4.out")"
dups=$(awk '$1=="dup-pub"{print $6}' "$TMP/sub4.stats")
[ "$dups" = 20 ] || fail "want 20 duplicates dropped, got $dups"
echo "ok: 20 frames, 20 duplicates dropped"

echo "== 5. a burst published just before the publisher exits, busd slow: nothing lost"
# 2 KiB frames, one every 2 ms: busd is stopped once the first is out (the publisher has connected),
# so the rest pile up: the kernel's socket buffer takes ~100, the others wait in the publisher's pub0
# queue (1024 deep) when it is done publishing. busd reads nothing until SIGCONT.
wait_no_subscribers "$AP"
"$TAP" --url ipc://$TMP/a-out --topic burst. --timeout 600 --format json >"$TMP/sub5.out" 2>"$TMP/sub5.log" &
SUB=$!
wait_subscribers "$AP" 1
BIG=$(head -c 2048 /dev/zero | od -An -v -tx1 | tr -d ' \n')
"$TAP" --url ipc://$TMP/a-in --publish burst.t --type raw --hex "$BIG" --origin burst-pub --repeat 600 \
	--interval 2 2>"$TMP/pub5.log" &
PUB=$!
published_ge() { [ "$(grep -c '^published burst.t' "$TMP/pub5.log")" -ge "$1" ]; }
wait_for 10 "the first frame published" published_ge 1
kill -STOP "$APID"
wait_for 20 "600 frames published (busd stopped)" published_ge 600
kill -CONT "$APID"
wait $PUB || fail "publisher exit $?"
wait_for 10 "the 600 frames delivered" lines_ge "$TMP/sub5.out" 600
kill -INT $SUB; wait $SUB || fail "subscriber exit $?"
[ "$(grep -c '"origin":"burst-pub"' "$TMP/sub5.out")" = 600 ] || fail "want 600 frames, got $(grep -c '"origin":"burst-pub"' "$TMP/sub5.out")"
grep -q "lost at close" "$TMP/pub5.log" && fail "the publisher said it lost frames: $(grep 'lost at close' "$TMP/pub5.log")"
echo "ok: 600 frames published (most while busd was stopped), the publisher exited, all 600 delivered"
# busd reading nothing past the publisher's 5 s wait: the loss is said and the exit code is 3
"$TAP" --url ipc://$TMP/a-in --publish burst.t --type raw --hex "$BIG" --origin burst-lost --repeat 600 \
	--interval 5 2>"$TMP/pub5.log" &
PUB=$!
wait_for 10 "the first frame published" published_ge 1
kill -STOP "$APID"
rc=0; wait $PUB || rc=$?
kill -CONT "$APID"
[ $rc = 3 ] || fail "a publisher whose frames busd never read exited $rc, want 3"
grep -q "frames not written to busd after 5 s: lost" "$TMP/pub5.log" || fail "the loss was not said: $(tail -2 "$TMP/pub5.log")"
echo "ok: busd stopped past the 5 s wait: 'lost' said, exit 3"
echo "PASS"
