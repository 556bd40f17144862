#!/usr/bin/env bash
# One signer per key, enforced at run time (actors/signer/README.md, "One signer per key"): the
# whole publisher on anvil (tests/lib/oracle_stack.sh) with signer A; then a second signer B for
# the same key on the same bus (as a hand-scaled replica or a restored volume would start, with
# its own empty store). B hears A's signer.lease, refuses to sign (signer_dropped_total{reason=
# "lease"}, /health 503 naming the lease), and alert.critical.duplicate_signer fires; updates keep
# landing, signed by A only, and no nonce is signed twice. Stopping A (SIGTERM: its lease is
# released) lets B sign: the next update lands, signed by B. Then a transaction from the key sent
# behind the stack's back (anvil, unlocked account) raises alert.critical.foreign_transaction.
set -euo pipefail
# shellcheck source=../lib/oracle_stack.sh
. "$(dirname "$0")/../lib/oracle_stack.sh"
ok() { echo "ok: $*"; }
metric() { curl -sf "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1==m{print $2}'; }

stack_up
read -r R A < <(wait_round 1 40) || fail "no first update (round $R)"
ok "signer A signs: round $R"

BPORT=$(free_port)
PRIVATE_KEY=$KEY1 ALLOW_EMPTY_STATE=true BUS_SIGNING_KEY=$SSEC STATE_DIR=$TMP/signer-b CHAIN_ID=138 GAS_PRICE=auto \
	BUS_TRUST="price.update.=$GPUB;tx.ack=$XPUB;tx.bump=$XPUB;gas.quote=$XPUB;nonce.sync=$XPUB" \
	ALLOWED_CONTRACTS=$AGG MIN_ANSWER=1 MAX_ANSWER=100000 OUTBOX_RETRY=1s UPDATE_SIGNATURE="$UPDATE_SIG" \
	HTTP_PORT=$BPORT HTTP_ADDR=127.0.0.1 INSTANCE=signer-b "$B/signer" 2>>"$TMP/signer-b.log" &
PID[signer-b]=$!
wait_for 30 "B detects A" grep -q '"duplicate signer".*"peer":"signer-e"' "$TMP/signer-b.log"
wait_for 30 "A detects B" grep -q '"duplicate signer".*"peer":"signer-b"' "$TMP/signer.log"
wait_for 30 "duplicate_signer alert" grep -q '"alert.critical.duplicate_signer"' "$TMP/bus.jsonl"
grep '"duplicate signer"' "$TMP/signer-b.log" | grep -q 'refuses to sign' || fail "B does not say it refuses"
grep '"duplicate signer"' "$TMP/signer.log" | grep -q 'keeps signing' || fail "A does not say it keeps signing"
code=$(curl -s -o "$TMP/hb.json" -w '%{http_code}' "http://127.0.0.1:$BPORT/health")
[ "$code" = 503 ] && grep -q 'another signer for this address is live' "$TMP/hb.json" || fail "B health $code: $(cat "$TMP/hb.json")"
code=$(curl -s -o "$TMP/ha.json" -w '%{http_code}' "http://127.0.0.1:$SGPORT/health")
[ "$code" = 200 ] || fail "A health $code: $(cat "$TMP/ha.json")"
[ "$(metric "$SGPORT" signer_lease_peers)" = 1 ] && [ "$(metric "$BPORT" signer_lease_peers)" = 1 ] || fail "lease peers"
ok "B refuses (health 503, lease), A keeps signing, duplicate_signer alert fired"

# updates go on, signed by A only; B holds every price.update it hears
for p in 3100 3200; do
	price $p
	read -r R A < <(wait_round $((R + 1)) 30) || fail "no update at $p while B is there (round $R)"
done
wait_for 20 "B held updates" sh -c "[ \"\$(curl -sf http://127.0.0.1:$BPORT/metrics | awk '\$1==\"signer_dropped_total{reason=\\\"lease\\\"}\"{print \$2}')\" -ge 1 ]"
[ "$(metric "$BPORT" 'signer_signed_total{kind="update"}')" = 0 ] || fail "B signed"
[ "$(jq -r 'select(.topic=="tx.signed") | .origin' "$TMP/bus.jsonl" | sort -u | tr '\n' ' ')" = "signer-e " ] ||
	fail "tx.signed from: $(jq -r 'select(.topic=="tx.signed") | .origin' "$TMP/bus.jsonl" | sort -u | tr '\n' ' ')"
dups=$(jq -r 'select(.topic=="tx.signed") | "\(.body.nonce) \(.body.tx_hash)"' "$TMP/bus.jsonl" | sort -u | awk '{print $1}' | uniq -d)
[ -z "$dups" ] || fail "nonces signed twice: $dups"
ok "updates land (round $R), every tx.signed from A, no nonce signed twice"

# A stops: its released lease lets B take over at once
kill -TERM "${PID[signer]}"
wait "${PID[signer]}" 2>/dev/null || true
wait_for 20 "B takes over" grep -q '"lease","state":"active"' "$TMP/signer-b.log"
price 3300
read -r R2 A2 < <(wait_round $((R + 1)) 40) || fail "no update after A stopped (round $R2)"
[ "$A2" = 330000000000 ] || fail "answer $A2 after A stopped"
[ "$(metric "$BPORT" 'signer_signed_total{kind="update"}')" -ge 1 ] || fail "B did not sign"
jq -r 'select(.topic=="tx.signed") | .origin' "$TMP/bus.jsonl" | grep -q '^signer-b$' || fail "no tx.signed from B"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$BPORT/health")
[ "$code" = 200 ] || fail "B health $code after taking over"
ok "A stopped: B signs (round $R2), health 200"

# a transaction from the key that this stack did not sign (anvil sends it for the unlocked account);
# A's own transactions were not taken for foreign ones
grep -q '"alert.critical.foreign_transaction"' "$TMP/bus.jsonl" && fail "foreign_transaction before any foreign tx"
"$CHAIN" cast send --unlocked --from "$ADDR1" "$ADDR1" --value 0 --rpc-url "$RPC_URL" >/dev/null 2>>"$TMP/deploy.log" ||
	fail "cast send"
wait_for 30 "foreign_transaction alert" grep -q '"alert.critical.foreign_transaction"' "$TMP/bus.jsonl"
ok "a transaction the stack did not sign: alert.critical.foreign_transaction"
echo "PASS signer_duplicate"
