#!/usr/bin/env bash
# The signer with a corrupt entry in its LMDB: busd + signer, one update signed (nonce 10); the
# signer is stopped, the stored tx.signed of nonce 10 truncated with mdb_dump/mdb_load (as a disk or
# a bug would), the signer restarted, and the gate's re-publication of that update played together
# with a new one. Checks:
#  - the corrupt entry is refused: no tx.signed for the re-published update (it was once read as
#    "already signed" and the batch committed with the corruption hidden), log "store error";
#  - the new update is still signed (nonce 11): one bad entry does not stop the others (within one
#    batch the items then run alone: actors/signer/signer_test.c checks that case exactly);
#  - alert.critical.store_error published once per dedupe key (the re-publications group under it);
#  - /health 503 with reason "store", the process stays up, signer_dropped_total{reason="store_error"}.
set -euo pipefail
# the signer's lease (one signer per key) short: this test restarts it often and times its readiness
export LEASE_TTL=1s LEASE_INTERVAL=200ms
. "$(dirname "$0")/../lib/common.sh"
on_exit() { [ -n "${SIGNER_PID:-}" ] && kill -9 "$SIGNER_PID" 2>/dev/null; }
BUILD=${BUILD:-build}
BUSD=$BUILD/bin/busd TAP=$BUILD/bin/bus-tap SIGNER=$BUILD/bin/signer
for b in "$BUSD" "$TAP" "$SIGNER"; do [ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }; done
command -v mdb_load >/dev/null || { echo "missing mdb_load (lmdb-utils; run make deps)"; exit 1; }
SIGNER_PID=
checks=0
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }

KEY=59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d # anvil dev key #1 (public)
ADDR=0x70997970c51812dc3a010c7d01b50e0d17dc79c8
CON=0x5fbdb2315678afecb367f032d93f642f64180aa3
IN=ipc://$TMP/in.ipc OUT=ipc://$TMP/out.ipc
HP=$(free_port)
read -r GATE_SEC GATE_PUB < <("$TAP" --keygen | awk '{printf "%s ", $2} END {print ""}')

BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR= INSTANCE=busd "$BUSD" 2>>"$TMP/busd.log" &
PIDS+=($!)
"$TAP" --url "$OUT" --topic tx.signed --topic alert. --timeout 300 >"$TMP/cap.jsonl" 2>"$TMP/tap.log" &
PIDS+=($!)
run_signer() {
	env BUS_PUB_URL=$IN BUS_SUB_URL=$OUT BUS_TRUST="price.update.=$GATE_PUB" STATE_DIR=$TMP/state \
		ALLOWED_CONTRACTS=$CON GAS_PRICE=0 PRIVATE_KEY=$KEY OUTBOX_RETRY=1h HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 \
		ALLOW_EMPTY_STATE=true INSTANCE=signer-0 "$SIGNER" 2>>"$TMP/signer.log" &
	SIGNER_PID=$!
	# its first answer: 503 (the runtime's "starting", then the lease listens), never a 200 before it can sign
	wait_for 10 "signer /health" first_health
	[ "$(cat "$TMP/first_health")" = 503 ] || fail "the signer's first /health answer was $(cat "$TMP/first_health"), want 503"
}
first_health() {
	local c; c=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/health")
	[ "$c" != 000 ] && echo "$c" >"$TMP/first_health"
}
health_code() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/health"; }
health_is() { [ "$(health_code)" = "$1" ]; }
signed_nonce() { jq -e -s "[.[] | select(.topic==\"tx.signed\" and .body.nonce==$1)] | length > 0" "$TMP/cap.jsonl"; }
update() { # id-number answer
	local id body
	id=$(printf '%032x' $((0xa000 + $1)))
	body="{\"feed\":\"ETH-USD\",\"answer\":\"$2\",\"decimals\":8,\"reason\":\"deviation\",\"previous_answer\":\"0\",\"previous_updated_at_s\":0,\"deviation_ppm\":0,\"threshold_ppm\":5000,\"threshold_abs\":\"0\",\"since_update_s\":0,\"heartbeat_s\":3600,\"round_id\":\"0\",\"chain_id\":138,\"contract\":\"$CON\",\"decided_at_ns\":1,\"agg_origin\":\"median-0\",\"agg_seq\":$1,\"agg_sources\":3}"
	BUS_SIGNING_KEY=$GATE_SEC "$TAP" --url "$IN" --publish price.update.ETH-USD --origin gate-0 --id "$id" \
		--json "$body" >/dev/null 2>>"$TMP/pub.log" || fail "publish update $1"
}

run_signer
sleep 0.3 # subscriptions settle
SYNC="{\"chain_id\":138,\"address\":\"$ADDR\",\"latest_nonce\":10,\"pending_nonce\":10,\"block_number\":1,\"synced_at_ns\":1}"
"$TAP" --url "$IN" --publish nonce.sync --origin submitter-0 --json "$SYNC" >/dev/null 2>>"$TMP/pub.log"
wait_for 10 "health ok after the nonce.sync" health_is 200
update 1 300000000000
wait_for 10 "update 1 signed as nonce 10" signed_nonce 10
kill -TERM "$SIGNER_PID"
wait "$SIGNER_PID" || fail "signer exit status $? on SIGTERM"
SIGNER_PID=
ok "update 1 signed as nonce 10; signer stopped"

# Truncate the value of txs[be64 10] to half its bytes (mdb_dump's hex lines: key line, value line).
mdb_dump -s txs "$TMP/state" >"$TMP/txs.dump"
python3 - "$TMP/txs.dump" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().split("\n")
i = lines.index(" 000000000000000a")
v = lines[i + 1].strip()
lines[i + 1] = " " + v[: len(v) // 4 * 2]
open(p, "w").write("\n".join(lines))
PY
mdb_load -s txs -f "$TMP/txs.dump" "$TMP/state" || fail "mdb_load"
ok "stored tx.signed of nonce 10 truncated in LMDB"

run_signer
wait_for 10 "signer holds its lease (signs)" health_is 200
H10=$(jq -r 'select(.topic=="tx.signed" and .body.nonce==10) | .body.tx_hash' "$TMP/cap.jsonl" | head -1)
update 1 300000000000 # the gate re-publishes update 1 (same id): its dedupe entry points at the corrupt tx
update 2 301000000000
wait_for 10 "update 2 signed as nonce 11" signed_nonce 11
wait_for 10 "store error logged" grep -q '"msg":"store error: not signed, nothing published"' "$TMP/signer.log"
update 1 300000000000 # and again
wait_for 10 "second store error logged" test "$(grep -c '"msg":"store error: not signed' "$TMP/signer.log")" -ge 2
# What counts is what was signed, not how often: the outbox re-publishes an unacked tx.signed (nonce 10's
# own stored copy, the same bytes) once the lease is active, whenever that falls against the updates.
signed=$(jq -r 'select(.topic=="tx.signed") | "\(.body.nonce) \(.body.ref) \(.body.tx_hash)"' "$TMP/cap.jsonl" | sort -u)
want=$(printf '10 %032x %s\n11 %032x ' $((0xa001)) "$H10" $((0xa002)))
[ "$(wc -l <<<"$signed")" = 2 ] && [ "$(head -1 <<<"$signed")" = "$(head -1 <<<"$want")" ] &&
	[[ "$(tail -1 <<<"$signed")" == "$(tail -1 <<<"$want")"* ]] ||
	fail "signed after the corruption (nonce ref hash): $(tr '\n' ';' <<<"$signed"), want only nonce 10's original and nonce 11 for update 2"
grep -q '"error":"stored record does not decode"' "$TMP/signer.log" || fail "log does not name the error"
ok "corrupt entry refused twice (no tx.signed, logged); update 2 signed as nonce 11"

alerts() { jq -c 'select(.topic=="alert.critical.store_error")' "$TMP/cap.jsonl"; }
wait_for 10 "store_error alert" test -n "$(alerts)"
[ "$(alerts | jq -r .body.dedupe_key | sort -u)" = "store_error/integrity" ] || fail "alert keys: $(alerts | jq -r .body.dedupe_key)"
ok "alert.critical.store_error, one dedupe key (store_error/integrity) for every retry"

[ "$(health_code)" = 503 ] || fail "health not degraded"
curl -s "http://127.0.0.1:$HP/health" | grep -q '"store' || fail "no store reason in /health"
kill -0 "$SIGNER_PID" || fail "signer died"
dropped() { curl -s "http://127.0.0.1:$HP/metrics" | grep -Eq '^signer_dropped_total\{reason="store_error"\} [2-9]'; }
wait_for 10 "signer_dropped_total{reason=store_error} >= 2" dropped
ok "/health 503 (store), process up, signer_dropped_total{reason=\"store_error\"} counted"
kill -TERM "$SIGNER_PID"
wait "$SIGNER_PID" || fail "signer exit status $? on SIGTERM"
SIGNER_PID=
echo "signer_store_corrupt: $checks checks passed"
