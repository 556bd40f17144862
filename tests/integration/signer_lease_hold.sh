#!/usr/bin/env bash
# A request the signer refuses "for now" because its lease is not active yet is signed once it is,
# even when the sender does not send it again (actors/signer/README.md, "One signer per key").
# busd + signer (long LEASE_TTL: it listens for other signers for that long after start) + a bus-tap
# capture. While the signer listens: a nonce.sync, ONE tx.request and ONE price.update, each
# published once. Checks:
#  - both arrive while the signer listens (/health 503 lease; held, counted);
#  - once the lease is active both are signed (one tx.signed each, nonces 7 and 8) without any
#    re-send: the signer's own retry, not the sender's;
#  - the sender's re-sends afterwards (same ids) are "already signed": the stored tx re-published,
#    never a second nonce;
#  - a second signer of the key, started next to the live one, holds what it hears while listening
#    and drops it when it hears the first (it yields): it signs nothing.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
BUILD=${BUILD:-build}
BUSD=$BUILD/bin/busd TAP=$BUILD/bin/bus-tap SIGNER=$BUILD/bin/signer
for b in "$BUSD" "$TAP" "$SIGNER"; do [ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }; done
FAIL_TAIL=20
declare -a SPIDS=()
on_exit() { for p in "${SPIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }

KEY=59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d # anvil dev key #1 (public)
ADDR=0x70997970c51812dc3a010c7d01b50e0d17dc79c8
CON=0x5fbdb2315678afecb367f032d93f642f64180aa3
IN=ipc://$TMP/in.ipc OUT=ipc://$TMP/out.ipc
HP=$(free_port) HP2=$(free_port) BP=$(free_port)
read -r GATE_SEC GATE_PUB < <("$TAP" --keygen | awk '{printf "%s ", $2} END {print ""}')
read -r REQ_SEC REQ_PUB < <("$TAP" --keygen | awk '{printf "%s ", $2} END {print ""}')
read -r SIG_SEC _ < <("$TAP" --keygen | awk '{printf "%s ", $2} END {print ""}')

BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR= HTTP_PORT=$BP HTTP_ADDR=127.0.0.1 INSTANCE=busd "$BUSD" 2>>"$TMP/busd.log" &
PIDS+=($!)
wait_for 5 "busd /health" curl -sf "http://127.0.0.1:$BP/health"
"$TAP" --url "$OUT" --topic tx.signed --timeout 600 >"$TMP/cap.jsonl" 2>"$TMP/tap.log" &
PIDS+=($!)
wait_subscribers "$BP" 1

# start_signer NAME HTTP_PORT LEASE_TTL LEASE_INTERVAL: one signer of the key, its own store.
start_signer() {
	env BUS_PUB_URL=$IN BUS_SUB_URL=$OUT BUS_SIGNING_KEY=$SIG_SEC BUS_TRUST="price.update.=$GATE_PUB;tx.request=$REQ_PUB" \
		STATE_DIR=$TMP/state-$1 PRIVATE_KEY=$KEY ALLOWED_CONTRACTS=$CON ALLOWED_SELECTORS=0x40c10f19 GAS_PRICE=0 \
		ALLOW_EMPTY_STATE=true OUTBOX_RETRY=1h LEASE_TTL=$3 LEASE_INTERVAL=$4 HTTP_PORT=$2 HTTP_ADDR=127.0.0.1 \
		INSTANCE=$1 "$SIGNER" 2>>"$TMP/$1.log" &
	SPIDS+=($!)
	LAST_SIGNER=$!
}
metric() { curl -sf "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1==m{s+=$2} END{print s+0}'; }
synced() { ! curl -s "http://127.0.0.1:$1/health" | grep -q 'waiting for sync'; }
health_says() { curl -s "http://127.0.0.1:$1/health" | grep -q "$2"; }
# frames received while the lease holds them: held for later (or, without that, dropped "for now")
held() { echo $(($(metric "$1" signer_lease_held_total) + $(metric "$1" 'signer_dropped_total{reason="lease"}'))); }
held_ge() { [ "$(held "$1")" -ge "$2" ]; }
ref_signed() { [ -n "$(signed_for "$1")" ]; }
dups_ge() { [ "$(metric "$HP" signer_duplicates_total)" -ge "$1" ]; }
signed_for() { jq -r --arg r "$1" 'select(.type=="tx.signed" and .body.ref==$r) | "\(.body.nonce) \(.body.tx_hash)"' \
	"$TMP/cap.jsonl" | sort -u; }

SYNC="{\"chain_id\":138,\"address\":\"$ADDR\",\"latest_nonce\":7,\"pending_nonce\":7,\"block_number\":1,\"synced_at_ns\":1}"
RID=00000000000000000000000000c0ffee UPID=000000000000000000000000000abcde
REQ="{\"id\":\"0x$RID\",\"chain_id\":138,\"to\":\"$CON\",\"data\":\"0x40c10f190000000000000000000000003c44cdddb6a900fa2b585dd299e03d12fa4293bc0000000000000000000000000000000000000000000000000000001fc808b500\",\"value\":\"0\",\"gas_limit\":150000,\"ref\":\"$RID\",\"requested_at_ns\":\"1\"}"
UPD="{\"feed\":\"ETH-USD\",\"answer\":\"300000000000\",\"decimals\":8,\"reason\":\"deviation\",\"previous_answer\":\"0\",\"previous_updated_at_s\":0,\"deviation_ppm\":0,\"threshold_ppm\":5000,\"threshold_abs\":\"0\",\"since_update_s\":0,\"heartbeat_s\":3600,\"round_id\":\"0\",\"chain_id\":138,\"contract\":\"$CON\",\"decided_at_ns\":1,\"agg_origin\":\"median-0\",\"agg_seq\":1,\"agg_sources\":3}"
pub_sync() { "$TAP" --url "$IN" --publish nonce.sync --origin submitter-0 --json "$SYNC" >/dev/null 2>>"$TMP/pub.log"; }
pub_req() { BUS_SIGNING_KEY=$REQ_SEC "$TAP" --url "$IN" --publish tx.request --origin token-erc20 --id "$RID" \
	--json "$REQ" >/dev/null 2>>"$TMP/pub.log"; }
pub_upd() { BUS_SIGNING_KEY=$GATE_SEC "$TAP" --url "$IN" --publish price.update.ETH-USD --origin gate-0 --id "$UPID" \
	--json "$UPD" >/dev/null 2>>"$TMP/pub.log"; }

echo "== a request and an update while the signer listens, each sent once"
start_signer signer-a "$HP" 20s 4s  # B (below) hears it up to 4 s after its start
A=$LAST_SIGNER
wait_for 10 "signer-a /health" curl -s -o /dev/null "http://127.0.0.1:$HP/health"
wait_subscribers "$BP" 2
health_says "$HP" listening || fail "signer-a not listening: $(curl -s "http://127.0.0.1:$HP/health")"
pub_sync
wait_for 10 "signer-a synced" synced "$HP"
pub_req
pub_upd
wait_for 10 "both held by the lease" held_ge "$HP" 2
health_says "$HP" listening || fail "the lease became active before both arrived: the test proves nothing (load?)"
[ "$(held "$HP")" -ge 2 ] || fail "held $(held "$HP")"
[ -z "$(signed_for "$RID")" ] || fail "signed while listening"
echo "ok: both held while listening"

wait_for 60 "signer-a lease active" grep -q '"lease","state":"active"' "$TMP/signer-a.log"
wait_for 30 "the held tx.request signed without a re-send" ref_signed "$RID"
wait_for 30 "the held price.update signed without a re-send" ref_signed "$UPID"
R1=$(signed_for "$RID") U1=$(signed_for "$UPID")
[ "$(echo "$R1" | wc -l)" = 1 ] && [ "$(echo "$U1" | wc -l)" = 1 ] || fail "more than one tx: request [$R1] update [$U1]"
[ "$(printf '%s\n%s\n' "${R1%% *}" "${U1%% *}" | sort -n | tr '\n' ' ')" = "7 8 " ] || fail "nonces: [$R1] [$U1]"
echo "ok: signed once the lease is active: request nonce ${R1%% *}, update nonce ${U1%% *}"

echo "== the senders' re-sends: already signed, re-published, no new nonce"
D0=$(metric "$HP" signer_duplicates_total)
pub_req
pub_upd
wait_for 20 "re-sends seen as duplicates" dups_ge $((D0 + 2))
[ "$(signed_for "$RID")" = "$R1" ] && [ "$(signed_for "$UPID")" = "$U1" ] || fail "signed again"
[ "$(metric "$HP" 'signer_signed_total{kind="request"}')" = 1 ] || fail "requests signed: $(metric "$HP" 'signer_signed_total{kind="request"}')"
[ "$(metric "$HP" 'signer_signed_total{kind="update"}')" = 1 ] || fail "updates signed: $(metric "$HP" 'signer_signed_total{kind="update"}')"
echo "ok: re-sends not signed again"

echo "== a second signer of the key: holds while listening, drops when it hears the first"
start_signer signer-b "$HP2" 20s 500ms
wait_for 10 "signer-b /health" curl -s -o /dev/null "http://127.0.0.1:$HP2/health"
wait_subscribers "$BP" 3
pub_sync
RID2=00000000000000000000000000beef01
REQ2=${REQ//$RID/$RID2}
BUS_SIGNING_KEY=$REQ_SEC "$TAP" --url "$IN" --publish tx.request --origin token-erc20 --id "$RID2" --json "$REQ2" \
	>/dev/null 2>>"$TMP/pub.log"
wait_for 20 "signer-b yields" grep -q '"duplicate signer".*refuses to sign' "$TMP/signer-b.log"
wait_for 30 "signer-a signs the new request" ref_signed "$RID2"
if grep -q '"held until the lease is active"' "$TMP/signer-b.log"; then
	grep -q '"held requests dropped' "$TMP/signer-b.log" || fail "signer-b held a request and did not drop it"
	echo "ok: signer-b held the request while listening, dropped it when it yielded"
fi
[ "$(metric "$HP2" signer_lease_held)" = 0 ] || fail "signer-b still holds $(metric "$HP2" signer_lease_held)"
[ "$(signed_for "$RID2" | wc -l)" = 1 ] || fail "the new request signed more than once: $(signed_for "$RID2")"
[ "$(jq -r 'select(.type=="tx.signed") | .origin' "$TMP/cap.jsonl" | sort -u)" = signer-a ] || fail "tx.signed from: $(jq -r 'select(.type=="tx.signed") | .origin' "$TMP/cap.jsonl" | sort -u | tr '\n' ' ')"
echo "ok: signer-b signed nothing"
kill -TERM "$A" "$LAST_SIGNER"
wait "$A" "$LAST_SIGNER" 2>/dev/null || true
grep -lE 'AddressSanitizer|runtime error:|LeakSanitizer' "$TMP"/signer-*.log && fail "sanitizer report"
echo "PASS signer_lease_hold"
