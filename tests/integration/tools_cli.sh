#!/usr/bin/env bash
# The command line every oraclebus program shares (issue 11, items 6 and 7), met as an operator would:
#  1. every actor and tool answers --help (stdout, exit 0), --version ("NAME VERSION (git REV, built
#     DATE)", the VERSION file's version, one revision for all) and refuses an unknown option (the
#     usage on stderr, nothing on stdout, exit 2) - the list comes from the source tree, so a new
#     program is checked without editing this file;
#  2. an actor exports oraclebus_build_info{version,revision} 1 (promtool-valid);
#  3. bus-tap, alert-subscriber and bus-replay publish with no busd say so, naming the URL, and exit 3;
#     a missing journal exits 3; --timeout without --count exits 0, with --count unmet exits 1;
#  4. JSON output is jq-safe: bus-tap --format json, bus-replay dump, alert-subscriber --format json and
#     ethtx decode --json carry integers beyond 2^53 as strings that jq returns exactly, and no number
#     beyond 2^53 anywhere;
#  5. alert-subscriber filters by severity and kind, and reports untrusted alerts on stderr.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
BUILD=${BUILD:-build}
B=$BUILD/bin
ROOT=$T_ROOT
ACTORS=$(cd "$ROOT/actors" && for d in */; do [ -f "$d/main.c" ] && echo "${d%/}"; done)
TOOLS=$(cd "$ROOT/tools" && for d in */; do [ -f "$d/main.c" ] && echo "${d%/}"; done)
for p in $ACTORS $TOOLS; do [ -x "$B/$p" ] || { echo "missing $B/$p (run make)"; exit 1; }; done
command -v jq >/dev/null || { echo "missing jq (make deps)"; exit 1; }

echo "== 1. --help, --version and unknown options, in every program"
WANT_VERSION=$(head -1 "$ROOT/VERSION" | tr -d ' \r\n')
HEAD_REV=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
revs=()
n=0
for p in $ACTORS $TOOLS; do
	# a clean environment: none of this may depend on configuration
	rc=0; env -i PATH="$PATH" timeout 20 "$B/$p" --help >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ $rc = 0 ] || fail "$p --help: exit $rc, want 0: $(head -3 "$TMP/err")"
	[ -s "$TMP/out" ] || fail "$p --help printed nothing on stdout"
	grep -qi "usage" "$TMP/out" || fail "$p --help: no usage line on stdout"

	rc=0; env -i PATH="$PATH" timeout 20 "$B/$p" --version >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ $rc = 0 ] || fail "$p --version: exit $rc, want 0"
	line=$(cat "$TMP/out")
	[[ "$line" =~ ^$p\ ([^ ]+)\ \(git\ ([^ ,]+),\ built\ ([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z)\)$ ]] ||
		fail "$p --version: '$line' is not 'NAME VERSION (git REV, built DATE)'"
	[ "${BASH_REMATCH[1]}" = "$WANT_VERSION" ] || fail "$p --version says ${BASH_REMATCH[1]}, VERSION says $WANT_VERSION"
	revs+=("${BASH_REMATCH[2]}")
	[ "$(wc -l <"$TMP/out")" = 1 ] || fail "$p --version: more than one line"

	for bad in --definitely-not-an-option -Q; do
		rc=0; env -i PATH="$PATH" timeout 20 "$B/$p" $bad >"$TMP/out" 2>"$TMP/err" || rc=$?
		[ $rc = 2 ] || fail "$p $bad: exit $rc, want 2 (usage)"
		grep -qi "usage" "$TMP/err" || fail "$p $bad: no usage on stderr: $(head -2 "$TMP/err")"
		[ -s "$TMP/out" ] && fail "$p $bad: printed on stdout: $(head -2 "$TMP/out")"
	done
	n=$((n + 1))
done
[ "$(printf '%s\n' "${revs[@]}" | sort -u | wc -l)" = 1 ] || fail "programs disagree on the revision: ${revs[*]}"
REV=${revs[0]}
case "$REV" in
"$HEAD_REV" | "$HEAD_REV-dirty") ;;
*) [ "$HEAD_REV" = unknown ] && [ "$REV" = unknown ] || fail "revision $REV is not HEAD ($HEAD_REV)" ;;
esac
# the actors name the offending option (the tools' messages are checked by name below)
rc=0; "$B/busd" --frobnicate 2>"$TMP/err" || rc=$?
grep -q "busd: unknown option '--frobnicate'" "$TMP/err" || fail "busd does not name the unknown option"
rc=0; "$B/bus-tap" --frobnicate 2>"$TMP/err" || rc=$?
grep -q -- "--frobnicate" "$TMP/err" || fail "bus-tap does not name the unknown option"
echo "ok: $n programs: --help 0, --version '$WANT_VERSION (git $REV)', unknown options 2"

echo "== 2. oraclebus_build_info in an actor's /metrics"
IN=ipc://$TMP/in.ipc OUT=ipc://$TMP/out.ipc HP=$(free_port)
BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$TMP/journal JOURNAL_FLUSH_MS=10 HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 \
	"$B/busd" 2>"$TMP/busd.log" &
BPID=$!
PIDS+=($BPID)
wait_for 30 "busd /metrics" curl -sf "http://127.0.0.1:$HP/metrics"
curl -sf "http://127.0.0.1:$HP/metrics" >"$TMP/metrics.txt"
grep -qx "oraclebus_build_info{version=\"$WANT_VERSION\",revision=\"$REV\"} 1" "$TMP/metrics.txt" ||
	fail "no build_info line: $(grep build_info "$TMP/metrics.txt")"
promtool check metrics <"$TMP/metrics.txt" || fail "promtool rejected /metrics"
grep -q "\"msg\":\"started\",\"version\":\"$WANT_VERSION\",\"revision\":\"$REV\"" "$TMP/busd.log" ||
	fail "the started line does not carry the version"
echo "ok: oraclebus_build_info{version=\"$WANT_VERSION\",revision=\"$REV\"} 1"

echo "== 3. no busd: said at once, naming the URL, exit 3"
NOPORT=$(free_port)
for cmd in "bus-tap --url tcp://127.0.0.1:$NOPORT --count 1" \
	"alert-subscriber --url tcp://127.0.0.1:$NOPORT" \
	"bus-tap --url tcp://127.0.0.1:$NOPORT --publish x.y --type raw --hex 00"; do
	name=${cmd%% *}
	t0=$(date +%s.%N)
	rc=0; timeout 60 "$B/"$cmd >"$TMP/out" 2>"$TMP/err" || rc=$?
	took=$(python3 -c "import sys,time; print(round(time.time()-float(sys.argv[1]),1))" "$t0")
	[ $rc = 3 ] || fail "$cmd: exit $rc, want 3"
	grep -qx "$name: no busd at tcp://127.0.0.1:$NOPORT after 2 s" "$TMP/err" || fail "$cmd: stderr '$(cat "$TMP/err")'"
	awk -v t="$took" 'BEGIN{exit !(t >= 1.9)}' || fail "$cmd gave up after $took s, before its 2 s deadline"
	echo "  $cmd: exit 3 after $took s"
done
rc=0; "$B/bus-tap" --url "tcp://127.0.0.1:$NOPORT" --connect-timeout 0.2 --count 1 2>"$TMP/err" || rc=$?
[ $rc = 3 ] && grep -q "after 0.2 s" "$TMP/err" || fail "--connect-timeout 0.2: exit $rc, $(cat "$TMP/err")"
rc=0; "$B/bus-replay" --journal "$TMP/journal" publish --url "tcp://127.0.0.1:$NOPORT" --wait-ms 300 2>"$TMP/err" || rc=$?
[ $rc = 3 ] && grep -q "no busd at tcp://127.0.0.1:$NOPORT" "$TMP/err" || fail "bus-replay publish: exit $rc, $(cat "$TMP/err")"
rc=0; "$B/bus-replay" --journal "$TMP/nosuch" list 2>"$TMP/err" || rc=$?
[ $rc = 3 ] || fail "bus-replay on a missing journal: exit $rc, want 3 ($(cat "$TMP/err"))"
rc=0; env -i PATH="$PATH" BUS_SUB_URL=tcp://1.2.3.4:0 "$B/alert-subscriber" 2>"$TMP/err" || rc=$?
[ $rc = 78 ] && grep -q "BUS_SUB_URL" "$TMP/err" || fail "alert-subscriber bad env: exit $rc, want 78"
echo "ok: no busd -> exit 3 with the URL; missing journal 3; bad environment 78"

# --timeout: the end of a watch window is success; a --count not reached is "no result"
rc=0; "$B/bus-tap" --url "$OUT" --topic nothing.here. --timeout 0.5 >"$TMP/out" 2>"$TMP/err" || rc=$?
[ $rc = 0 ] || fail "bus-tap --timeout without --count: exit $rc, want 0 ($(cat "$TMP/err"))"
rc=0; "$B/bus-tap" --url "$OUT" --topic nothing.here. --count 2 --timeout 0.5 >"$TMP/out" 2>"$TMP/err" || rc=$?
[ $rc = 1 ] && grep -q "0 of 2 frames" "$TMP/err" || fail "bus-tap --count 2 unmet: exit $rc, want 1 ($(cat "$TMP/err"))"
rc=0; "$B/alert-subscriber" --url "$OUT" --count 1 --timeout 0.5 >"$TMP/out" 2>"$TMP/err" || rc=$?
[ $rc = 1 ] || fail "alert-subscriber --count 1 unmet: exit $rc, want 1"
echo "ok: --timeout alone exits 0, an unmet --count exits 1"

echo "== 4. JSON through jq: integers beyond 2^53 exact"
{ read -r _ SEC; read -r _ PUB; } < <("$B/bus-tap" --keygen)
subscribers() { curl -sf "http://127.0.0.1:$HP/metrics" | awk '$1=="busd_subscribers"{print $2}'; }
subs_are() { [ "$(subscribers)" = "$1" ]; } # re-read at each try of wait_for
# busd refreshes the gauge every second: first let the earlier subscribers' departure show
wait_for 30 "earlier subscribers gone" subs_are 0
BASE=0
# starts a subscriber in the background; waits until busd counts it
start_sub() { # name cmd...
	local name=$1
	shift
	"$@" >"$TMP/$name.out" 2>"$TMP/$name.log" &
	PIDS+=($!)
	eval "PID_$name=$!"
	BASE=$((BASE + 1))
	wait_for 30 "$name connected to busd" subs_are "$BASE"
}
start_sub tap "$B/bus-tap" --url "$OUT" --topic price.obs.BIG --count 1 --timeout 60 --format json
start_sub sevwarn "$B/alert-subscriber" --url "$OUT" --severity warning --count 3 --timeout 60 --format json
start_sub kindtx "$B/alert-subscriber" --url "$OUT" --kind tx_failed --count 2 --timeout 60
start_sub both "$B/alert-subscriber" --url "$OUT" --severity error --kind tx_failed --count 1 --timeout 60 --format json
start_sub trusted "$B/alert-subscriber" --url "$OUT" --trust "alert.=$PUB" --count 1 --timeout 60 --format json

BIG64=18446744073709551615
P53=9007199254740993 # 2^53 + 1: a double reads it as ...992
U256MAX=115792089237316195423570985008687907853269984665640564039457584007913129639935
I256MAX=57896044618658097711785492504343953926634992332820282019728792003956564819967 # price values are int256
"$B/bus-tap" --url "$IN" --publish price.obs.BIG --type price.obs --json \
	"{\"feed\":\"BIG\",\"source\":\"t\",\"value\":\"$I256MAX\",\"decimals\":8,\"source_ts_ms\":\"$P53\",\"observed_at_ns\":\"$BIG64\"}" \
	2>>"$TMP/pub.log" || fail "publish price.obs"
alert() { # severity kind [bus-tap options]
	local sev=$1 kind=$2
	shift 2
	"$B/bus-tap" --url "$IN" --publish "alert.$sev.$kind" --origin tester-0 --json \
		"{\"kind\":\"$kind\",\"severity\":\"$sev\",\"status\":\"firing\",\"dedupe_key\":\"$kind:$sev\",\"summary\":\"$sev $kind\",\"labels\":{},\"origin\":\"tester-0\",\"started_at_ns\":\"$BIG64\"}" \
		"$@" 2>>"$TMP/pub.log" || fail "publish alert.$sev.$kind"
}
alert info disk_low        # 1: below every --severity asked
alert warning tx_failed    # 2
alert critical feed_stale  # 3
alert error tx_failed      # 4
BUS_SIGNING_KEY=$SEC alert critical signed_one # 5: the only signed alert
for s in tap sevwarn kindtx both trusted; do
	pid=PID_$s
	wait "${!pid}" || fail "$s exited $? ($(cat "$TMP/$s.log"))"
done

# jq_safe FILE: every number within 2^53, and jq's view of each document is python's (exact ints)
jq_safe() {
	python3 - "$1" <<'PY' || fail "$1: a number beyond 2^53"
import json, sys
def walk(v, path):
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return
    if isinstance(v, (int, float)):
        assert abs(v) <= 2**53, f"{path} = {v} is a number beyond 2^53"
    elif isinstance(v, list):
        for i, x in enumerate(v): walk(x, f"{path}[{i}]")
    else:
        for k, x in v.items(): walk(x, f"{path}.{k}")
text = open(sys.argv[1]).read()
dec = json.JSONDecoder(); i = 0; n = 0
while i < len(text):
    if text[i].isspace(): i += 1; continue
    v, i = dec.raw_decode(text, i); walk(v, "$"); n += 1
assert n > 0, "no JSON"
PY
	jq -c . "$1" >"$1.jq" || fail "$1: jq refused it"
	python3 -c '
import json, sys
dec = json.JSONDecoder()
def docs(t):
    i = 0
    while i < len(t):
        if t[i].isspace(): i += 1; continue
        v, i = dec.raw_decode(t, i); yield v
a = list(docs(open(sys.argv[1]).read())); b = list(docs(open(sys.argv[2]).read()))
assert a == b, "jq changed a value"' "$1" "$1.jq" || fail "$1: jq's values differ"
}
# expect FILE JQ-FILTER WANT: jq -r's output, exactly
expect() {
	local got
	got=$(jq -r "$2" "$1") || fail "$1: jq '$2' failed"
	[ "$got" = "$3" ] || fail "$1: jq '$2' = '$got', want '$3'"
}

jq_safe "$TMP/tap.out"
expect "$TMP/tap.out" .body.observed_at_ns "$BIG64"
expect "$TMP/tap.out" .body.source_ts_ms "$P53"
expect "$TMP/tap.out" .body.value "$I256MAX"
expect "$TMP/tap.out" '.ts|type' string
expect "$TMP/tap.out" '.id|test("^0x[0-9a-f]{32}$")' true
echo "  bus-tap --format json: exact"

for _ in $(seq 100); do "$B/bus-replay" --journal "$TMP/journal" dump --topic price.obs.BIG >"$TMP/dump.out" 2>/dev/null && break; sleep 0.1; done
[ -s "$TMP/dump.out" ] || fail "bus-replay dump found nothing"
jq_safe "$TMP/dump.out"
expect "$TMP/dump.out" .body.observed_at_ns "$BIG64"
expect "$TMP/dump.out" .body.source_ts_ms "$P53"
expect "$TMP/dump.out" '.recv_ts|type' string
expect "$TMP/dump.out" .ts "$(jq -r .ts "$TMP/tap.out")"
expect "$TMP/dump.out" .id "$(jq -r .id "$TMP/tap.out")"
echo "  bus-replay dump: exact, same ts and id as bus-tap"

jq_safe "$TMP/sevwarn.out"
expect "$TMP/sevwarn.out" .body.started_at_ns "$BIG64
$BIG64
$BIG64"
echo "  alert-subscriber --format json: exact"

export ETHTX_KEY=4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318
RAW=$("$B/ethtx" mktx --chain $P53 --nonce 18446744073709551614 --gas-limit $P53 --gas-price $U256MAX \
	--priority-gas-price 1 --value $U256MAX 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed) || fail "ethtx mktx"
"$B/ethtx" decode --json "$RAW" >"$TMP/ethtx.out" || fail "ethtx decode --json"
jq_safe "$TMP/ethtx.out"
expect "$TMP/ethtx.out" .nonce 18446744073709551614
expect "$TMP/ethtx.out" .chainId "$P53"
expect "$TMP/ethtx.out" .gasLimit "$P53"
expect "$TMP/ethtx.out" .value "$U256MAX"
expect "$TMP/ethtx.out" '.hash|test("^0x[0-9a-f]{64}$")' true
echo "  ethtx decode --json: exact"
echo "ok: jq reads every big integer exactly in all four"

echo "== 5. alert-subscriber filters"
expect "$TMP/sevwarn.out" '[.body.severity, .body.kind] | join(" ")' "warning tx_failed
critical feed_stale
error tx_failed"
[ "$(wc -l <"$TMP/kindtx.out")" = 2 ] || fail "--kind tx_failed: $(cat "$TMP/kindtx.out")"
grep -q "FIRING   warning  tx_failed tx_failed:warning (tester-0) warning tx_failed" "$TMP/kindtx.out" ||
	fail "--kind: pretty line: $(head -1 "$TMP/kindtx.out")"
sed -n 2p "$TMP/kindtx.out" | grep -q " error    tx_failed " || fail "--kind: second line $(sed -n 2p "$TMP/kindtx.out")"
expect "$TMP/both.out" '[.body.severity, .body.kind] | join(" ")' "error tx_failed"
expect "$TMP/trusted.out" '[.body.kind, .signed] | join(" ")' "signed_one true"
[ "$(grep -c "alert-subscriber: rejected on alert\." "$TMP/trusted.log")" = 4 ] ||
	fail "untrusted alerts not reported 4 times: $(cat "$TMP/trusted.log")"
grep -q "missing_signature" "$TMP/trusted.log" || fail "no reason for the rejection"
echo "ok: --severity, --kind, both, --trust (4 unsigned alerts reported on stderr)"

kill -TERM $BPID
wait $BPID || fail "busd exit $?"
echo "tools_cli: all passed"
