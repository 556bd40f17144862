#!/usr/bin/env bash
# A damaged LMDB store is refused with a clear message and a non-signal exit, never a crash:
# busd's journal, bus-replay reading it, and the signer's state, each cut to half (SIGBUS before),
# emptied (taken as a fresh store before: the signer forgot its history), and with garbage over its
# data pages (SIGSEGV before). Then mdb_copy backup and restore: a store restored from a copy opens
# and keeps its records.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
BUILD=${BUILD:-build}
BUSD=$BUILD/bin/busd TAP=$BUILD/bin/bus-tap REPLAY=$BUILD/bin/bus-replay SIGNER=$BUILD/bin/signer
for b in "$BUSD" "$TAP" "$REPLAY" "$SIGNER"; do [ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }; done
IN=ipc://$TMP/in.ipc OUT=ipc://$TMP/out.ipc
KEY=59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d   # anvil dev key #1 (public)
CON=0x5fbdb2315678afecb367f032d93f642f64180aa3
read -r _ GATE_PUB < <("$TAP" --keygen | awk '{printf "%s ", $2} END {print ""}')

# A journal with 300 frames, written by a real busd.
BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$TMP/journal INSTANCE=busd "$BUSD" 2>>"$TMP/busd.log" &
BUSD_PID=$!
PIDS+=($BUSD_PID)
"$TAP" --url "$IN" --publish test.frames --type test --hex "$(printf 'ab%.0s' $(seq 200))" \
	--repeat 300 --interval 1 >/dev/null 2>>"$TMP/tap.log" || fail "bus-tap --publish"
wait_for 90 "journal has 300 frames" sh -c "'$REPLAY' --journal '$TMP/journal' stats 2>/dev/null | grep -Eq '^frames +300$'"
kill -TERM $BUSD_PID
wait $BUSD_PID || true
cp -a "$TMP/journal" "$TMP/journal.good"

# A signer state directory (the signer creates its tables at start).
SIGNER_ENV=(BUS_PUB_URL=$IN BUS_SUB_URL=$OUT BUS_TRUST="price.update.=$GATE_PUB" STATE_DIR=$TMP/signer
	ALLOWED_CONTRACTS=$CON GAS_PRICE=0 PRIVATE_KEY=$KEY INSTANCE=signer-0)
env "${SIGNER_ENV[@]}" "$SIGNER" 2>"$TMP/signer.log" &
SPID=$!
PIDS+=($SPID)
wait_for 90 "signer state created" test -s "$TMP/signer/data.mdb"
sleep 0.5
kill -TERM $SPID
wait $SPID || true
cp -a "$TMP/signer" "$TMP/signer.good"

# expect_refusal NAME WORD CMD...: CMD exits on its own, not by a signal, non-zero, naming WORD.
expect_refusal() {
	local name=$1 word=$2 rc
	shift 2
	set +e
	timeout 60 "$@" >"$TMP/out.txt" 2>&1
	rc=$?
	set -e
	[ $rc -ne 124 ] || fail "$name: still running after 60 s"
	[ $rc -ne 0 ] || fail "$name: accepted a damaged store"
	[ $rc -lt 128 ] || fail "$name: died of signal $((rc - 128)) instead of refusing"
	grep -q "$word" "$TMP/out.txt" || { cat "$TMP/out.txt"; fail "$name: no '$word' in its error"; }
	echo "ok: $name refused ($word, exit $rc)"
}
damage() { # DIR HOW
	local f=$1/data.mdb
	case $2 in
	truncate) truncate -s $(($(stat -c %s "$f") / 2)) "$f" ;;  # half: whatever its size, pages go missing
	empty) : >"$f" ;;
	garbage) python3 - "$f" <<'PY'
import os, random, sys
f = sys.argv[1]; n = os.path.getsize(f); random.seed(5)
with open(f, "r+b") as fh:
    for off in range(2 * 4096, n, 4096):
        fh.seek(off); fh.write(bytes(random.getrandbits(8) for _ in range(4096)))
PY
		;;
	esac
}

for how in truncate empty garbage; do
	word=$how; [ $how = garbage ] && word=corrupt; [ $how = truncate ] && word=truncated
	rm -rf "$TMP/journal" && cp -a "$TMP/journal.good" "$TMP/journal" && damage "$TMP/journal" $how
	expect_refusal "busd ($how journal)" "$word" env BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$TMP/journal "$BUSD"
	expect_refusal "bus-replay ($how journal)" "$word" "$REPLAY" --journal "$TMP/journal" list
	rm -rf "$TMP/signer" && cp -a "$TMP/signer.good" "$TMP/signer" && damage "$TMP/signer" $how
	expect_refusal "signer ($how state)" "$word" env "${SIGNER_ENV[@]}" "$SIGNER"
done

# Backup with mdb_copy while nothing runs, restore it, and the journal reads as before.
rm -rf "$TMP/journal" "$TMP/backup" && mkdir "$TMP/backup"
mdb_copy "$TMP/journal.good" "$TMP/backup"
cp -a "$TMP/backup" "$TMP/journal"
"$REPLAY" --journal "$TMP/journal" stats | grep -Eq '^frames +300$' || fail "restored journal lost frames"
echo "ok: mdb_copy backup restored with 300 frames"
# A signer whose STATE_DIR is gone (a new, empty directory) while the chain shows transactions
# from its key: it signs nothing, says why on /health and raises state_missing, until told to start
# afresh (ALLOW_EMPTY_STATE) or given its store back.
ADDR=0x70997970c51812dc3a010c7d01b50e0d17dc79c8
HP=$(free_port)
BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR= INSTANCE=busd "$BUSD" 2>>"$TMP/busd.log" &
PIDS+=($!)
"$TAP" --url "$OUT" --topic alert. --timeout 120 >"$TMP/alerts.jsonl" 2>>"$TMP/tap.log" &
PIDS+=($!)
env "${SIGNER_ENV[@]}" STATE_DIR=$TMP/signer-new HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 "$SIGNER" 2>>"$TMP/signer.log" &
PIDS+=($!)
wait_for 90 "signer HTTP" curl -s -o /dev/null "http://127.0.0.1:$HP/health"
SYNC="{\"chain_id\":138,\"address\":\"$ADDR\",\"latest_nonce\":12,\"pending_nonce\":12,\"block_number\":1,\"synced_at_ns\":1}"
health_says_state() { curl -s "http://127.0.0.1:$HP/health" | grep -q '"key":"state"'; }
for _ in $(seq 100); do # nonce.sync is lossy on the bus (the submitter repeats it): so do we
	"$TAP" --url "$IN" --publish nonce.sync --origin submitter-0 --json "$SYNC" >/dev/null 2>>"$TMP/tap.log"
	health_says_state && break
	sleep 0.3
done
health_says_state || fail "the signer took an empty store for a key with 12 transactions"
for _ in $(seq 200); do # the alert repeats every 30 s while the state is missing
	grep -q '"kind":"state_missing"' "$TMP/alerts.jsonl" && break
	"$TAP" --url "$IN" --publish nonce.sync --origin submitter-0 --json "$SYNC" >/dev/null 2>>"$TMP/tap.log"
	sleep 0.5
done
grep -q '"kind":"state_missing"' "$TMP/alerts.jsonl" || fail "no state_missing alert"
curl -s "http://127.0.0.1:$HP/health" | grep -q ALLOW_EMPTY_STATE || fail "/health does not say how to proceed"
echo "ok: signer on an empty store for a used key: refuses, /health 503 (state), state_missing alert"
echo "store_corrupt: all refusals clear"
