#!/usr/bin/env bash
# make demo, unattended, the way a newcomer meets it: tools/demo.sh as a terminal's foreground job (its
# own session), on ports outside the kernel's ephemeral range (no connection can hold one) and a temp
# dir. It waits for the events the demo is there to show - the first update decided, two rounds on
# chain, both sample payments settled (pacs.002 ACSC) and the holder's USDP/EURP balances it shows equal to
# those payments' amounts (read from the pacs.008 sample and the demo's MT103), the CCIP messages sent and executed, the
# ccip_failure alert fired, delivered by the alerter and resolved - then presses Ctrl-C (SIGINT to the
# whole process group): the demo must exit 0, every process stopped by its one SIGTERM (none killed,
# none exiting non-zero), nothing left running, its chain gone. Also: it refuses a taken CHAIN_PORT.
# On a failure it prints what is missing, the key metrics of the publisher while it still runs, then
# the tail of every process's log.
#
# Why below the ephemeral range: this test once put the actors' ports at free_port()/10*10 and up,
# inside it. Every connection to anvil takes a local port there, and while it is open or in TIME_WAIT
# (60 s) nothing can listen on that port, SO_REUSEADDR or not; an actor that cannot bind exits. A gate,
# median or fetcher lost that way gives what a CI run showed: 0 rounds while the payments settled (the
# demo then did not notice a dead actor; it stops now, with the actor's log).
set -euo pipefail
BUILD=${BUILD:-build}
[ "$BUILD" = build ] || { echo "demo smoke runs on the default build only (skipped for $BUILD)"; exit 0; }
# shellcheck source=../lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
cd "$T_ROOT"
[ -d tests/chain/node_modules ] || { echo "run make deps first"; exit 1; }
D=$TMP/demo
OUT=$TMP/out.txt
DEMO_PID=
trap 'exit 143' TERM # the runner's timeout: still stop the demo (on_exit)

# HTTP base and chain port: 16 ports in a row that bind now, below the ephemeral range, reserved for
# this test (free_port, common.sh).
BASE=$(free_port 16) || fail "no 16 free ports in a row below the ephemeral range"
CPORT=$((BASE + 15))

# The demo never reuses a chain it did not start: a taken CHAIN_PORT is refused before anything starts.
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(60)' \
	"$CPORT" &
HOLD=$!
PIDS+=($HOLD)
wait_for 5 "a listener on $CPORT" python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1)' "$CPORT"
rc=0
DEMO_DIR=$D DEMO_HTTP_BASE=$BASE CHAIN_PORT=$CPORT tools/demo.sh >"$TMP/refused.txt" 2>&1 || rc=$?
[ $rc -ne 0 ] && grep -q "port $CPORT (CHAIN_PORT) is taken" "$TMP/refused.txt" ||
	fail "a taken CHAIN_PORT was not refused (exit $rc): $(cat "$TMP/refused.txt")"
kill "$HOLD"
wait "$HOLD" 2>/dev/null || true
echo "ok - a taken CHAIN_PORT is refused: $(grep -o 'port [0-9]* (CHAIN_PORT) is taken' "$TMP/refused.txt")"

demo_alive() { [ -n "$DEMO_PID" ] && kill -0 "$DEMO_PID" 2>/dev/null; }
stop_demo() { # Ctrl-C: SIGINT to the demo's process group; waits for it; its exit status in DEMO_RC
	DEMO_RC=
	demo_alive || return 0
	kill -INT -- -"$DEMO_PID" 2>/dev/null || true
	poll 30 eval '! demo_alive' || true
	if demo_alive; then
		echo "the demo did not stop within $((30 * T_SLOW)) s of Ctrl-C"
		kill -KILL -- -"$DEMO_PID" 2>/dev/null || true
	fi
	DEMO_RC=0
	wait "$DEMO_PID" 2>/dev/null || DEMO_RC=$?
	DEMO_PID=
}
# Processes of this demo: the temp dir in their command line or their environment (actors take it
# from DEMO_DIR-derived variables only); pid and command line, one a line.
leftovers() {
	python3 - "$TMP" <<'PY'
import os, sys
t, mine, p = sys.argv[1].encode(), set(), os.getpid()
while p > 1:  # this scan and its ancestors (a pyenv shim has the dir in its arguments)
    mine.add(p)
    with open(f"/proc/{p}/stat") as f:
        p = int(f.read().rsplit(")", 1)[1].split()[1])
for p in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{p}/cmdline", "rb") as f:
            c = f.read()
        with open(f"/proc/{p}/environ", "rb") as f:
            e = f.read()
    except OSError:
        continue
    if int(p) not in mine and (t in c or t in e):
        print(p, c.replace(b"\0", b" ").decode(errors="replace")[:160])
PY
}
on_exit() {
	stop_demo >/dev/null 2>&1 || true
	local p
	for p in $(leftovers | awk '{print $1}'); do kill -KILL "$p" 2>/dev/null || true; done
}
# What a failure needs to be diagnosed: the markers, the publisher's metrics (while it runs), the logs.
diagnose() {
	echo "FAIL: $*"
	echo "--- the demo's output (last 60 lines)"
	tail -n 60 "$OUT"
	echo "--- metrics"
	local i n
	local names=(busd fetcher-coinbase fetcher-binance fetcher-kraken median gate signer submitter)
	for i in "${!names[@]}"; do
		n=${names[i]}
		echo "[$n :$((BASE + i))]"
		curl -s --max-time 3 "http://127.0.0.1:$((BASE + i))/metrics" |
			grep -E '^(busd_|fetcher_|median_|gate_|signer_|submitter_|bus_rx_(frames|gaps|dropped|rejected))' |
			grep -v '_bucket{' | head -n 40 || echo "    (no answer)"
	done
	stop_demo >/dev/null 2>&1 || true
	echo "--- logs"
	local f
	for f in "$D"/logs/*.log; do
		[ -f "$f" ] || continue
		echo "--- $f"
		tail -n 20 "$f"
	done
	exit 1
}

# SIGINT as a terminal's foreground job has it (a background start, as the test runner's, ignores it, and
# bash cannot trap a signal ignored at entry)
setsid env --default-signal=INT DEMO_DIR="$D" DEMO_HTTP_BASE="$BASE" CHAIN_PORT="$CPORT" DEVIATION_THRESHOLD=0.3 tools/demo.sh \
	</dev/null >"$OUT" 2>&1 &
DEMO_PID=$!

rounds() { awk '/ chain +ETH-USD latestRoundData: round / {r = $6 + 0; if (r > m) m = r} END {print m + 0}' "$OUT"; }
marks=(
	"first update decided|decide +ETH-USD update to [0-9,.]+ USD: first answer"
	"an update landed|landed +ETH-USD [0-9,.]+ USD in block"
	"payment 1 settled (pacs.002 ACSC)|pacs.002 of payment .*<TxSts>ACSC</TxSts>"
	"a CCIP message sent|ccip +message 0x[0-9a-f]+…[0-9a-f]+ sent \\(CCIP 1.6\\)"
	"a CCIP message executed|ccip +message .* executed on the destination"
	"the ccip_failure alert fired|ALERT +critical ccip_failure firing"
	"the alerter delivered it|alerter +delivered to the webhook sink .*firing ccip_failure"
	"the alert resolved|ALERT +critical ccip_failure resolved"
	"the holder's tokens shown|tokens +holder 0x[0-9a-fA-F]{40}: [0-9,.]+ USDP, [0-9,.]+ EURP"
)
missing() {
	local m
	for m in "${marks[@]}"; do grep -Eq -- "${m#*|}" "$OUT" || echo "${m%%|*}"; done
	[ "$(rounds)" -ge 2 ] || echo "two rounds on chain (saw $(rounds))"
	[ "$(grep -c '<TxSts>ACSC</TxSts>' "$OUT")" -ge 2 ] || echo "both payments settled (pacs.002 ACSC)"
}
seen_or_ended() { ! demo_alive || [ -z "$(missing)" ]; }
# S = 75: the start deploys four sets of contracts with node (about 20 s idle, over 100 s when both
# cores are busy); then everything happens within about 30 s.
poll 75 seen_or_ended || diagnose "after $((75 * T_SLOW)) s still missing: $(missing | paste -sd, -)"
if ! demo_alive; then
	rc=0
	wait "$DEMO_PID" 2>/dev/null || rc=$?
	DEMO_PID=
	diagnose "the demo ended by itself (exit $rc); missing: $(missing | paste -sd, -)"
fi
echo "ok - the demo showed: first update, $(rounds) rounds on chain, an update landed, both payments settled (ACSC), CCIP messages sent and executed, ccip_failure alert fired, delivered (webhook), resolved"
grep -E '  (price|decide|landed|ccip|ALERT|alerter) ' "$OUT" | head -n 8 | sed 's/^/    /'
# Human units, two ways: the answer of the last round on chain (cast's latestRoundData, by the demo)
# is a price that a "landed" line (the submitter's tx.status on the bus, by the event view) shows too.
last=$(grep -E ' chain +ETH-USD latestRoundData: round [0-9]+, ' "$OUT" | tail -n 1 | sed -E 's/.*round [0-9]+, ([0-9,.]+) USD.*/\1/')
[[ "$last" =~ ^[0-9]{1,3}(,[0-9]{3})*\.[0-9]{2}$ ]] || diagnose "the chain line's answer is not in human units: '$last'"
poll 5 grep -Eq "landed +ETH-USD $last USD in block" "$OUT" || diagnose "no landed line shows the answer on chain, $last USD"
echo "ok - human units: the answer on chain ($last USD) is the one a landed line shows"
# The tokens the demo shows are the two payments': the pacs.008 (USD) and the MT103 (EUR) both mint to the
# account they credit, whose address the demo's token configuration maps; nothing else moves them.
python3 - "$OUT" payments/testdata/iso/ballerina_p_2_1_2_mt103_pacs_008_A_B.xml "$D/demo-mt103.fin" "$D/token-config.json" \
	>"$TMP/tokens.txt" 2>&1 <<'PY' || diagnose "the holder's balances shown are not the payments': $(cat "$TMP/tokens.txt")"
import json, re, sys
from decimal import Decimal
out, xml, fin, cfg = sys.argv[1:]
x, m = open(xml).read(), open(fin).read()
usd = Decimal(re.search(r'IntrBkSttlmAmt Ccy="USD">([0-9.]+)<', x).group(1))
eur = Decimal(re.search(r":32A:[0-9]{6}EUR([0-9,]+)", m).group(1).replace(",", "."))
accounts = json.load(open(cfg))["accounts"]
holder = accounts[re.search(r"<pacs:CdtrAcct>.*?<pacs:Id>([^<]+)</pacs:Id>", x, re.S).group(1)]
assert accounts[re.search(r":59F?:/(\S+)", m).group(1)] == holder, "the two payments credit different holders"
lines = [l for l in open(out) if re.search(r" tokens +holder ", l)]
got = re.search(r"holder (0x[0-9a-fA-F]{40}): ([0-9,.]+) USDP, ([0-9,.]+) EURP", lines[-1])
want = (holder.lower(), f"{usd:,.2f}", f"{eur:,.2f}")
assert (got.group(1).lower(), got.group(2), got.group(3)) == want, "shown %s, payments %s" % (got.groups(), want)
print("%s USDP, %s EURP for %s" % (want[1], want[2], holder))
PY
echo "ok - the holder's tokens shown are the payments': $(cat "$TMP/tokens.txt")"

# Ctrl-C
stop_demo
[ "$DEMO_RC" = 0 ] || diagnose "Ctrl-C: the demo exited $DEMO_RC, not 0"
grep -q '^demo: stopped' "$OUT" || diagnose "no 'demo: stopped' line after Ctrl-C"
if grep -E '^demo: .*(did not stop|exited with status|exited \(status)' "$OUT"; then
	diagnose "a process did not stop cleanly on its one SIGTERM"
fi
poll 10 eval '[ -z "$(leftovers)" ]' || { echo "left running after the demo:"; leftovers; fail "the demo left processes behind"; }
! curl -s --max-time 1 "http://127.0.0.1:$CPORT" >/dev/null 2>&1 || fail "the demo left its chain running on $CPORT"
echo "ok - Ctrl-C: exit 0, every process stopped by its one SIGTERM, nothing left running, the chain gone"
echo "PASS"
