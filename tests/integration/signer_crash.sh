#!/usr/bin/env bash
# signer under SIGKILL: busd + signer (LMDB in a temp dir, anvil's public dev key #1), price.updates
# signed by a gate key it trusts, a bus-tap capture, and a player standing in for the submitter (it
# acks the tx.signed whose hash is even, over the real wire format). The signer is killed with -9 at
# random moments while it signs (its lease active) and restarted (alternately from PRIVATE_KEY and
# a 0600 PRIVATE_KEY_FILE) while updates flow; then the gate's re-publishing is played (every update id once more).
# Checks:
#  - start-up refusals: BUS_TRUST without price.update., a key file of mode 0644;
#  - /health is 503 "nonce: waiting for sync" until the first nonce.sync;
#  - every tx.signed decodes with Foundry's cast (an independent decoder) and recovers to the signer
#    address, with the nonce, chain id and hash the message claims;
#  - nonces are contiguous from the synced start, one transaction per nonce (re-publications are
#    byte-identical), one nonce per update id, and every update id was signed (nothing lost);
#  - unacked txs are re-published after restarts, and at the end exactly the unacked ones remain in
#    the outbox (signer_outbox_pending);
#  - an update signed by an untrusted key is refused (forged_message alert, counted); an answer above
#    MAX_ANSWER is refused (policy_refusal alert, signer_refusals_total{reason="above_max"});
#  - the key's hex never appears in the signer's stderr, the bus capture or /metrics.
set -euo pipefail
# the signer's lease (one signer per key) short: this test restarts it often and times its readiness
export LEASE_TTL=1s LEASE_INTERVAL=200ms
. "$(dirname "$0")/../lib/common.sh"
on_exit() { [ -n "${SIGNER_PID:-}" ] && kill -9 "$SIGNER_PID" 2>/dev/null; }
BUILD=${BUILD:-build}
BUSD=$BUILD/bin/busd TAP=$BUILD/bin/bus-tap SIGNER=$BUILD/bin/signer
CAST=${CAST:-tests/chain/node_modules/.bin/cast}
for b in "$BUSD" "$TAP" "$SIGNER"; do [ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }; done
[ -x "$CAST" ] || { echo "missing $CAST (run make deps)"; exit 1; }
SIGNER_PID=
FAIL_TAIL=15

KEY=59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d   # anvil dev key #1 (public)
ADDR=0x70997970c51812dc3a010c7d01b50e0d17dc79c8
CON=0x5fbdb2315678afecb367f032d93f642f64180aa3
IN=ipc://$TMP/in.ipc OUT=ipc://$TMP/out.ipc
HP=$(free_port)
N=${SIGNER_CRASH_UPDATES:-120}
START_NONCE=10
read -r GATE_SEC GATE_PUB < <("$TAP" --keygen | awk '{printf "%s ", $2} END {print ""}')
read -r FORGE_SEC _ < <("$TAP" --keygen | awk '{printf "%s ", $2} END {print ""}')
printf '%s\n' "$KEY" >"$TMP/key.hex"
chmod 644 "$TMP/key.hex"

BP=$(free_port)
BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR= HTTP_PORT=$BP HTTP_ADDR=127.0.0.1 INSTANCE=busd "$BUSD" 2>>"$TMP/busd.log" &
PIDS+=($!)
wait_for 5 "busd /health" curl -sf "http://127.0.0.1:$BP/health"

run_signer() {  # [env assignments...]: starts the signer in the background (SIGNER_PID)
	env BUS_PUB_URL=$IN BUS_SUB_URL=$OUT BUS_TRUST="price.update.=$GATE_PUB" STATE_DIR=$TMP/state \
		ALLOWED_CONTRACTS=$CON GAS_PRICE=0 MAX_ANSWER=5000 MIN_ANSWER=1 MAX_CHANGE=10 OUTBOX_RETRY=1h \
		ALLOW_EMPTY_STATE=true HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 INSTANCE=signer-0 "$@" "$SIGNER" 2>>"$TMP/signer.log" &
	SIGNER_PID=$!
}
wait_http() { poll 5 curl -s "http://127.0.0.1:$HP/health"; }
health_is() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/health")" = "$1" ]; }

echo "== start-up refusals"
set +e
env BUS_PUB_URL=$IN BUS_SUB_URL=$OUT BUS_TRUST="tx.ack=$GATE_PUB" STATE_DIR=$TMP/s0 PRIVATE_KEY=$KEY \
	"$SIGNER" 2>>"$TMP/signer.log"; rc=$?
[ $rc = 78 ] || fail "started without BUS_TRUST covering price.update. (exit $rc)"
env BUS_PUB_URL=$IN BUS_SUB_URL=$OUT BUS_TRUST="price.update.=$GATE_PUB" STATE_DIR=$TMP/s0 \
	PRIVATE_KEY_FILE=$TMP/key.hex "$SIGNER" 2>"$TMP/mode.err"; rc=$?
set -e
cat "$TMP/mode.err" >>"$TMP/signer.log"
[ $rc = 78 ] || fail "started with a key file of mode 0644 (exit $rc)"
grep -q "chmod 600" "$TMP/mode.err" || fail "no clear error for the key file mode"
chmod 600 "$TMP/key.hex"
echo "ok"

echo "== capture, player, first start"
"$TAP" --url "$OUT" --topic tx.signed --topic alert. --timeout 600 >"$TMP/cap.jsonl" 2>"$TMP/tap.log" &
CAP=$!
PIDS+=($CAP)
# The submitter's stand-in: acks every tx.signed whose id is even (stored "durably" in acked.txt).
python3 - "$TMP/cap.jsonl" "$TMP/acked.txt" "$TAP" "$IN" <<'PY' 2>"$TMP/player.log" &
import json, subprocess, sys, time
cap, acked_path, tap, url = sys.argv[1:]
acked, pos = set(), 0
out = open(acked_path, "a")
while True:
    with open(cap) as f:
        f.seek(pos)
        lines = f.readlines()
        pos = f.tell()
    for l in lines:
        if not l.endswith("\n"):
            pos -= len(l.encode()); break
        j = json.loads(l)
        if j.get("type") != "tx.signed": continue
        b = j["body"]
        if int(b["tx_hash"], 16) % 2: continue # like a submitter, ack every copy seen
        body = json.dumps({"id": b["id"], "tx_hash": b["tx_hash"], "received_at_ns": time.time_ns()})
        subprocess.run([tap, "--url", url, "--publish", "tx.ack", "--origin", "submitter-0", "--json", body],
                       check=True, stdout=subprocess.DEVNULL)
        if b["id"] not in acked:
            acked.add(b["id"]); out.write(b["id"] + "\n"); out.flush()
    time.sleep(0.05)
PY
PIDS+=($!)
wait_subscribers "$BP" 1  # the capture
run_signer PRIVATE_KEY=$KEY
wait_http || fail "signer /health not up"
wait_subscribers "$BP" 2  # and the signer: the nonce.sync must reach it
code=$(curl -s -o "$TMP/health.json" -w '%{http_code}' "http://127.0.0.1:$HP/health")
[ "$code" = 503 ] && grep -q "waiting for sync" "$TMP/health.json" || fail "health before sync: $code $(cat "$TMP/health.json")"
SYNC="{\"chain_id\":138,\"address\":\"$ADDR\",\"latest_nonce\":$START_NONCE,\"pending_nonce\":$START_NONCE,\"block_number\":1,\"synced_at_ns\":1}"
"$TAP" --url "$IN" --publish nonce.sync --origin submitter-0 --json "$SYNC" >/dev/null 2>>"$TMP/pub.log"
wait_for 3 "signer /health ok after the nonce.sync" health_is 200
echo "ok"

update() {  # id-number answer [key]
	local id answer body
	id=$(printf '%032x' $((0xa000 + $1)))
	answer=$2
	body="{\"feed\":\"ETH-USD\",\"answer\":\"$answer\",\"decimals\":8,\"reason\":\"deviation\",\"previous_answer\":\"0\",\"previous_updated_at_s\":0,\"deviation_ppm\":0,\"threshold_ppm\":5000,\"threshold_abs\":\"0\",\"since_update_s\":0,\"heartbeat_s\":3600,\"round_id\":\"0\",\"chain_id\":138,\"contract\":\"$CON\",\"decided_at_ns\":1,\"agg_origin\":\"median-0\",\"agg_seq\":$1,\"agg_sources\":3}"
	BUS_SIGNING_KEY=${3:-$GATE_SEC} "$TAP" --url "$IN" --publish price.update.ETH-USD --origin gate-0 --id "$id" \
		--json "$body" >/dev/null 2>>"$TMP/pub.log" || fail "publish update $1"
}

echo "== $N updates with the signer killed (-9) at random moments while it signs"
# Each kill waits for the restarted signer's lease to be active (/health 200: it signs; a restart
# listens one LEASE_TTL first), then comes a random 0-0.4 s later: a kill timed blind from the
# restart lands in the listening on a slow machine (under ASan in CI no signer ever signed before
# the last restart and nothing was left to re-publish). The publisher is paced (~20 updates/s) so
# the updates span several kills; the loop goes on until all are published and 6 kills are done.
KILLS=0
(
	for i in $(seq 0 $((N - 1))); do
		update "$i" $((300000000000 + i * 1000000))
		sleep 0.05
	done
	touch "$TMP/published"
) &
PUBLISHER=$!
PIDS+=($PUBLISHER)
while [ ! -e "$TMP/published" ] || [ $KILLS -lt 6 ]; do
	wait_for 15 "signer /health ok (lease active) before kill $((KILLS + 1))" health_is 200
	sleep "0.$((RANDOM % 5))"
	kill -9 "$SIGNER_PID" 2>/dev/null || true
	wait "$SIGNER_PID" 2>/dev/null || true
	KILLS=$((KILLS + 1))
	sleep "0.$((RANDOM % 3))"
	if [ $((KILLS % 2)) = 1 ]; then run_signer PRIVATE_KEY_FILE=$TMP/key.hex; else run_signer PRIVATE_KEY=$KEY; fi
done
wait $PUBLISHER
[ $KILLS -ge 3 ] || fail "only $KILLS kills"
echo "ok: $KILLS kills"

echo "== the gate re-publishes every update (same ids); then forged and out-of-bounds updates"
# The last signer started from its LMDB state (synced): once it is up and subscribed, the
# re-publication reaches it. Like the gate, re-publish what has no tx.signed yet until all have.
# (a deadline, not a wait: under ASan on a loaded VM the restart's lease listening, nonce sync and
# gas.quote once took more than 5 s x T_SLOW)
wait_for 15 "signer /health ok after the last restart" health_is 200
wait_subscribers "$BP" 2
for i in $(seq 0 $((N - 1))); do update "$i" $((300000000000 + i * 1000000)); done
# unsigned: the update numbers without a tx.signed in the capture
unsigned() {
	python3 - "$TMP/cap.jsonl" "$N" <<'PY'
import json, sys
refs = set()
for l in open(sys.argv[1]):
    if l.endswith("\n") and '"tx.signed"' in l:
        refs.add(json.loads(l)["body"]["ref"])
print(" ".join(str(i) for i in range(int(sys.argv[2])) if "%032x" % (0xa000 + i) not in refs))
PY
}
all_signed() {
	local u; u=$(unsigned)
	[ -z "$u" ] && return 0
	for i in $u; do update "$i" $((300000000000 + i * 1000000)); done
	return 1
}
wait_for 30 "every update signed" all_signed
update 9000 300000000000 "$FORGE_SEC"          # untrusted key
update 9001 999900000000                       # 9999 > MAX_ANSWER 5000
# the player acks the last ones: the signer's outbox must come to hold exactly the unacked ones
settled() {
	curl -s "http://127.0.0.1:$HP/metrics" >"$TMP/metrics.now" || return 1
	python3 - "$TMP/cap.jsonl" "$TMP/acked.txt" "$TMP/metrics.now" <<'PY'
import json, sys
cap, acked_path, metrics = sys.argv[1:]
ids, even = set(), set()
for l in open(cap):
    if not l.endswith("\n") or '"tx.signed"' not in l: continue
    b = json.loads(l)["body"]
    ids.add(b["id"])
    if int(b["tx_hash"], 16) % 2 == 0: even.add(b["id"])
acked = set(open(acked_path).read().split())
m = dict(l.rsplit(" ", 1) for l in open(metrics) if l.strip() and not l.startswith("#"))
ok = even <= acked and float(m.get("signer_outbox_pending", -1)) == len(ids - acked) \
    and float(m.get('signer_refusals_total{reason="above_max"}', 0)) == 1 \
    and float(m.get('actor_bad_messages_total{type="price.update",why="rejected"}', 0)) >= 1
sys.exit(0 if ok else 1)
PY
}
wait_for 15 "the player's acks processed, both refusals counted" settled
curl -s "http://127.0.0.1:$HP/metrics" >"$TMP/metrics.txt" || fail "/metrics"
kill -TERM "$SIGNER_PID"; wait "$SIGNER_PID" || fail "signer did not exit 0 on SIGTERM"
SIGNER_PID=
kill -INT $CAP; wait $CAP || true
promtool check metrics <"$TMP/metrics.txt" >/dev/null 2>&1 || fail "promtool rejected /metrics"

echo "== checks"
# every kill came while the signer signed: the restarts after it find unacked txs to re-publish
REPUB=$(grep -c 're-published [1-9][0-9]* unacked tx.signed from the outbox' "$TMP/signer.log" || true)
[ "$REPUB" -ge 2 ] || fail "unacked tx.signed re-published after only ${REPUB:-0} of $KILLS restarts"
python3 - "$TMP/cap.jsonl" "$TMP/acked.txt" "$TMP/metrics.txt" "$CAST" "$ADDR" "$N" "$START_NONCE" <<'PY' || fail "capture checks"
import json, subprocess, sys
cap, acked_path, metrics_path, cast, addr, n, start = sys.argv[1:]
n, start = int(n), int(start)
frames = [json.loads(l) for l in open(cap) if l.strip()]
errors = [f for f in frames if "error" in f and "body" not in f]
signed = [f["body"] for f in frames if f.get("type") == "tx.signed"]
alerts = [f["body"] for f in frames if f.get("type") == "alert"]
by_nonce, by_ref, seen = {}, {}, {}
for b in signed:
    if b["raw"] in seen: continue
    seen[b["raw"]] = b
    d = json.loads(json.loads(subprocess.check_output([cast, "decode-transaction", b["raw"]])))
    assert d["signer"].lower() == addr, ("signer", d["signer"])
    assert int(d["nonce"], 16) == b["nonce"], ("nonce", d, b["nonce"])
    assert int(d["chainId"], 16) == 138 and d["hash"] == b["tx_hash"] and b["id"] == "0x%016x" % b["nonce"] + b["tx_hash"][2:18], d
    assert b["from"] == addr
    assert by_nonce.setdefault(b["nonce"], b["raw"]) == b["raw"], ("two txs for nonce", b["nonce"])
    assert by_ref.setdefault(b["ref"], b["nonce"]) == b["nonce"], ("update signed twice", b["ref"])
nonces = sorted(by_nonce)
assert nonces == list(range(start, start + len(nonces))), ("not contiguous", nonces[:5], nonces[-5:])
want_refs = {"%032x" % (0xa000 + i) for i in range(n)}
assert set(by_ref) == want_refs, ("refs", len(by_ref), sorted(want_refs - set(by_ref))[:5], sorted(set(by_ref) - want_refs)[:5])
assert len(nonces) == n
ids = {b["id"] for b in seen.values()}
acked = set(open(acked_path).read().split())
unacked = ids - acked
republished = sum(1 for b in signed) - len(seen)
m = {}
for l in open(metrics_path):
    if l and not l.startswith("#"):
        k, v = l.rsplit(" ", 1); m[k] = float(v)
assert m["signer_outbox_pending"] == len(unacked), ("outbox", m["signer_outbox_pending"], len(unacked))
assert m['signer_refusals_total{reason="above_max"}'] == 1, m
assert m['actor_bad_messages_total{type="price.update",why="rejected"}'] >= 1, m
kinds = [a["kind"] for a in alerts]
assert "forged_message" in kinds and "policy_refusal" in kinds, kinds
assert not errors, errors[:2]
print(f"ok: {len(signed)} tx.signed frames, {len(seen)} distinct txs, nonces {nonces[0]}..{nonces[-1]}, "
      f"{len(acked)} acked, {len(unacked)} unacked in the outbox, {republished} re-publications; "
      f"signer RSS {m['process_resident_memory_bytes'] / 2**20:.1f} MiB")
PY
for k in "$KEY" "${KEY^^}"; do
	for f in "$TMP/signer.log" "$TMP/cap.jsonl" "$TMP/metrics.txt" "$TMP/tap.log"; do
		grep -qi "$k" "$f" && fail "the private key appears in $(basename "$f")"
	done
done
echo "ok: the key appears in no log, capture or metrics"
echo "PASS"
