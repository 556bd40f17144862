#!/usr/bin/env bash
# Keys outside environment variables, on the whole publisher (tests/lib/oracle_stack.sh) and anvil:
#   1. SIGNER_KEY_SOURCE=keystore: the key in a v3 keystore written by ethers.js (Wallet.encrypt's
#      format, scrypt), its password in a 0600 file: the signer decrypts it (its address is the
#      one ethers printed), and an update lands on chain, sent from that address;
#   2. the same keystore with a wrong password, and with the password file mode 0644: the signer
#      refuses to start (exit 78) naming the problem, and prints no password;
#   3. SIGNER_KEY_SOURCE=remote: no key in the signer; anvil signs over eth_signTransaction for its
#      unlocked account; every signature is checked against the request; an update lands;
#      a REMOTE_SIGNER_ADDRESS anvil holds no key for (its nonce.sync published by bus-tap with the
#      submitter's bus key) is refused by anvil ("No Signer available"): nothing is signed, the
#      refusal is counted (signer_dropped_total{reason="remote_signer"}) and /health says so.
set -euo pipefail
# shellcheck source=../lib/oracle_stack.sh
. "$(dirname "$0")/../lib/oracle_stack.sh"
command -v node >/dev/null || { echo "node missing: run make deps"; exit 1; }

metric() { curl -sf "http://127.0.0.1:$SGPORT/metrics" | awk -v m="$1" '$1==m{print $2}'; }
ok() { echo "ok: $*"; }

# ---- 1. keystore --------------------------------------------------------------------------------
SIGNER_KEY_SOURCE=keystore stack_up
wait_for 30 "signer ready" grep -q '"signer ready"' "$TMP/signer.log"
grep '"signer ready"' "$TMP/signer.log" | grep -q "\"address\":\"$ADDR1\"" || fail "signer address is not $ADDR1"
grep '"signer ready"' "$TMP/signer.log" | grep -q '"key":"keystore"' || fail "signer did not say it used the keystore"
read -r R A < <(wait_round 1 40) || fail "no update on chain with the keystore key (round $R)"
[ "$(nonce)" -ge 1 ] || fail "no transaction from $ADDR1"
ok "keystore (ethers.js, scrypt): round $R answer $A from $ADDR1"

# ---- 2. wrong password, loose file mode ---------------------------------------------------------
(umask 077 && printf 'not the password\n' >"$TMP/wrong.pw")
set +e
out=$(KEYSTORE_FILE=$TMP/keystore.json KEYSTORE_PASSWORD_FILE=$TMP/wrong.pw BUS_TRUST="price.update.=$GPUB" \
	"$B/signer" --check-config 2>&1)
rc=$?
set -e
[ $rc = 78 ] || fail "wrong password: exit $rc, want 78"
echo "$out" | grep -q 'KEYSTORE_FILE: .*MAC mismatch: wrong password' || fail "wrong password: $out"
echo "$out" | grep -q 'not the password' && fail "the password was printed"
chmod 644 "$TMP/keystore.pw"
set +e
out=$(KEYSTORE_FILE=$TMP/keystore.json KEYSTORE_PASSWORD_FILE=$TMP/keystore.pw BUS_TRUST="price.update.=$GPUB" \
	"$B/signer" --check-config 2>&1)
rc=$?
set -e
[ $rc = 78 ] && echo "$out" | grep -q 'KEYSTORE_PASSWORD_FILE: .*mode 644' || fail "password file 0644: exit $rc: $out"
chmod 600 "$TMP/keystore.pw"
ok "wrong password and a 0644 password file refused at start (78), named, password not printed"

# ---- 3. remote signer (anvil's eth_signTransaction) -------------------------------------------
kill -TERM "${PID[signer]}"
wait "${PID[signer]}" 2>/dev/null || true
rm -rf "$TMP/signer"
ALLOW_EMPTY_STATE=true SIGNER_KEY_SOURCE=remote start_signer
wait_for 30 "remote signer ready" grep -q '"key":"http://127.0.0.1:' "$TMP/signer.log"
grep '"signer ready"' "$TMP/signer.log" | tail -1 | grep -q "\"address\":\"$ADDR1\"" || fail "remote signer address"
price 3100
read -r R2 A2 < <(wait_round $((R + 1)) 40) || fail "no update on chain through the remote signer (round $R2)"
[ "$A2" = 310000000000 ] || fail "remote-signed answer $A2, want 310000000000"
[ "$(metric 'signer_remote_sign_seconds_count')" -ge 1 ] || fail "no remote signature counted"
ok "remote signer (anvil eth_signTransaction): round $R2 answer $A2"

# an address anvil holds no key for: anvil refuses, nothing is signed
kill -TERM "${PID[signer]}"
wait "${PID[signer]}" 2>/dev/null || true
rm -rf "$TMP/signer"
SIGNER_KEY_ENV=()
env REMOTE_SIGNER_URL="$RPC_URL" REMOTE_SIGNER_ADDRESS=0x00000000000000000000000000000000000000b0 ALLOW_EMPTY_STATE=true \
	BUS_SIGNING_KEY=$SSEC STATE_DIR=$TMP/signer CHAIN_ID=138 GAS_PRICE=auto \
	BUS_TRUST="price.update.=$GPUB;tx.ack=$XPUB;tx.bump=$XPUB;gas.quote=$XPUB;nonce.sync=$XPUB" \
	ALLOWED_CONTRACTS=$AGG MIN_ANSWER=1 MAX_ANSWER=100000 UPDATE_SIGNATURE="$UPDATE_SIG" \
	HTTP_PORT=$SGPORT HTTP_ADDR=127.0.0.1 INSTANCE=signer-x "$B/signer" 2>>"$TMP/signer-x.log" &
PID[signer]=$!
# the submitter syncs ADDR1 only: the nonce.sync for this address, signed with the submitter's key
BUS_SIGNING_KEY=$XSEC "$B/bus-tap" --publish nonce.sync --type nonce.sync --repeat 60 --interval 1000 \
	--json '{"v":1,"chain_id":138,"address":"0x00000000000000000000000000000000000000b0","latest_nonce":0,"pending_nonce":0,"block_number":1,"synced_at_ns":"1"}' \
	>/dev/null 2>"$TMP/tap-sync.log" &
PID[tap-sync]=$!
price 3300
wait_for 60 "remote refusal counted" sh -c "[ \"\$(curl -sf http://127.0.0.1:$SGPORT/metrics | awk '\$1==\"signer_dropped_total{reason=\\\"remote_signer\\\"}\"{print \$2}')\" -ge 1 ]"
grep -q 'remote signer did not sign' "$TMP/signer-x.log" || fail "no log of the refusal"
code=$(curl -s -o "$TMP/health.json" -w '%{http_code}' "http://127.0.0.1:$SGPORT/health")
[ "$code" = 503 ] && grep -q 'remote signer' "$TMP/health.json" || fail "health $code: $(cat "$TMP/health.json")"
[ "$(metric 'signer_signed_total{kind="update"}')" = 0 ] || fail "signed although the remote signer refused"
ok "an address the remote signer holds no key for: refused, counted, health 503, nothing signed"
echo "PASS signer_keys"
