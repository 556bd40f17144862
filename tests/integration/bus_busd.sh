#!/usr/bin/env bash
# busd with real publishers and subscribers (bus-tap), over ipc:// and tcp://127.0.0.1:
#  1. delivery: frames published with bus-tap --publish arrive, decoded, in order; an invalid body
#     is refused by the publisher with a message naming the field; /metrics passes promtool.
#  2. busd killed (SIGKILL) and restarted while traffic flows: the subscriber recovers by itself,
#     and the frames lost meanwhile show up as gaps in its per-stream stats.
#  3. trust: a frame signed with the wrong key (and an unsigned one) on a protected topic is
#     rejected and shown as an error line; the right key passes.
#  4. two busd replicas: the subscriber dials both and sees each frame once.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
BUILD=${BUILD:-build}
BUSD=$BUILD/bin/busd TAP=$BUILD/bin/bus-tap
for b in "$BUSD" "$TAP"; do [ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }; done
FAIL_TAIL=20

start_busd() {  # name ingress egress [http_port]
	BUSD_INGRESS=$2 BUSD_EGRESS=$3 JOURNAL_DIR=$TMP/$1-journal HTTP_PORT=${4:-0} HTTP_ADDR=127.0.0.1 \
		INSTANCE=$1 "$BUSD" 2>>"$TMP/$1.log" &
	PIDS+=($!)
	LAST_PID=$!
	sleep 0.3
}

OBS='{"feed":"ETH-USD","source":"coinbase","value":"300012345678","decimals":8,"source_ts_ms":1700000000000,"fetch_latency_us":1500,"observed_at_ns":1700000000000000000}'

echo "== 1. delivery over ipc:// and tcp://"
for transport in ipc tcp; do
	if [ $transport = ipc ]; then IN=ipc://$TMP/in.ipc; OUT=ipc://$TMP/out.ipc; else
		IN=tcp://127.0.0.1:$(free_port); OUT=tcp://127.0.0.1:$(free_port); fi
	HP=$(free_port)
	start_busd busd-$transport "$IN" "$OUT" "$HP"
	BPID=$LAST_PID
	"$TAP" --url "$OUT" --topic price.obs. --count 3 --timeout 10 >"$TMP/sub1.out" 2>"$TMP/sub1.log" &
	SUB=$!
	sleep 0.3
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
IN=ipc://$TMP/in2.ipc OUT=ipc://$TMP/out2.ipc
start_busd busd-r "$IN" "$OUT"
BPID=$LAST_PID
"$TAP" --url "$OUT" --topic flow. --timeout 12 --stats >"$TMP/sub2.out" 2>"$TMP/sub2.stats" &
SUB=$!
sleep 0.3
"$TAP" --url "$IN" --publish flow.t --type raw --hex 01 --origin flow-pub --repeat 300 --interval 20 \
	2>"$TMP/pub2.log" &
PUB=$!
sleep 2
kill -9 $BPID
wait $BPID 2>/dev/null || true
sleep 1 # frames published now are lost: nobody listens
start_busd busd-r "$IN" "$OUT"
wait $PUB || fail "publisher failed"
wait $SUB || true # ends by timeout (exit 1): it had no --count
got=$(wc -l <"$TMP/sub2.out")
last=$(tail -1 "$TMP/sub2.out" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["seq"])')
gaps=$(awk '$1=="flow-pub"{print $5}' "$TMP/sub2.stats")
echo "received $got of 300, last seq $last, gaps counted $gaps"
[ "$last" = 300 ] || fail "subscriber did not recover: last seq $last"
[ "$got" -lt 300 ] || fail "expected frames lost while busd was down"
[ "$gaps" -gt 0 ] || fail "no gaps counted"
[ $((got + gaps)) = 300 ] || fail "received $got + gaps $gaps != 300"
grep -q '"gap":' "$TMP/sub2.out" || fail "no frame marked with its gap"

echo "== 3. trust: forged and unsigned frames are rejected"
read -r _ GOODSEC < <("$TAP" --keygen | head -1)
# the public key of GOODSEC, as subscribers see it: sign one frame and read its key from a tap
"$TAP" --url "$OUT" --topic keyprobe. --count 1 --timeout 5 >"$TMP/probe.out" &
P=$!; sleep 0.3
BUS_SIGNING_KEY=$GOODSEC "$TAP" --url "$IN" --publish keyprobe.x --type raw --hex 00 2>/dev/null
wait $P || fail "key probe"
GOODPUB=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["key"][2:])' "$TMP/probe.out")
read -r _ EVILSEC < <("$TAP" --keygen | head -1)
"$TAP" --url "$OUT" --topic price.update. --trust "price.update.=$GOODPUB" --count 1 --timeout 10 \
	>"$TMP/sub3.out" 2>"$TMP/sub3.log" &
SUB=$!
sleep 0.3
BUS_SIGNING_KEY=$EVILSEC "$TAP" --url "$IN" --publish price.update.ETH-USD --type raw --hex 01 2>/dev/null
"$TAP" --url "$IN" --publish price.update.ETH-USD --type raw --hex 02 2>/dev/null
sleep 0.2
BUS_SIGNING_KEY=$GOODSEC "$TAP" --url "$IN" --publish price.update.ETH-USD --type raw --hex 03 2>/dev/null
wait $SUB || fail "the correctly signed frame did not arrive"
grep -q 'untrusted_key' "$TMP/sub3.out" || fail "wrong-key frame not reported as rejected"
grep -q 'missing_signature' "$TMP/sub3.out" || fail "unsigned frame not reported as rejected"
[ "$(grep -c '"error"' "$TMP/sub3.out")" = 2 ] || fail "want exactly 2 rejections"
tail -1 "$TMP/sub3.out" | grep -q '"body_hex":"0x03"' || fail "the good frame is not last"
grep -q "$GOODSEC" "$TMP"/*.out "$TMP"/*.log && fail "a secret key appeared in output"
echo "ok: forged and unsigned rejected"

echo "== 4. two busd replicas: one delivery each"
start_busd busd-a ipc://$TMP/a-in ipc://$TMP/a-out
start_busd busd-b ipc://$TMP/b-in ipc://$TMP/b-out
"$TAP" --url ipc://$TMP/a-out --url ipc://$TMP/b-out --topic dup. --timeout 3 --stats \
	>"$TMP/sub4.out" 2>"$TMP/sub4.stats" &
SUB=$!
sleep 0.3
"$TAP" --url ipc://$TMP/a-in,ipc://$TMP/b-in --publish dup.t --type raw --hex 05 --origin dup-pub \
	--repeat 20 --interval 5 2>/dev/null
wait $SUB || true
[ "$(wc -l <"$TMP/sub4.out")" = 20 ] || fail "want 20 frames once each, got $(wc -l <"$TMP/sub4.out")"
dups=$(awk '$1=="dup-pub"{print $6}' "$TMP/sub4.stats")
[ "$dups" = 20 ] || fail "want 20 duplicates dropped, got $dups"
echo "ok: 20 frames, 20 duplicates dropped"
echo "PASS"
