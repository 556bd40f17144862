#!/usr/bin/env bash
# tokenizer intake: busd + tokenizer (LMDB in a temp dir) + a bus-tap capture of token.* and alert.
# Checks:
#  - a CBPR+ pacs.008 (public ballerina sample) is accepted (202, transfer, exact units), and the MT103
#    of the same payment (same UETR, same content) is ONE payment: 200 duplicate, one token.request;
#  - the same message again is a duplicate; other content under the same UETR is a conflict: 409 AM05
#    with a pacs.002 RJCT, alert payment_conflict keyed by the key id, the stored payment unchanged;
#  - an unmapped creditor is refused 422 AC01; a body that is no known format 400 FF01;
#  - each refusal names the reason, the field, the line and an offset on that line, and carries the
#    pacs.002 RJCT (reason, field, original ids): MT103 with a bad :32A:, pacs.008 with a bad ChrgBr
#    (400 FF01) or an amount finer than its currency (422 AM03);
#  - hostile XML touches nothing: XXE against a live loopback listener (which must see no connection),
#    billion laughs, 10k-deep nesting: 400 FF01; a 16 MiB body: 413 before it is read;
#  - a spool file is moved to done/ with its status file; a garbage file to rejected/;
#  - a token.request on token.submit signed by a trusted key is accepted (token.status), the same request
#    as JSON over HTTP is its duplicate, an unsigned one is rejected by the trust check;
#  - a backend's token.result moves the state (pending, confirmed) and the pacs.002 (ACSP, ACSC);
#    token.status carries the changes; metrics tokenization_requests_total / _success_total;
#  - payment_pending_too_long (PENDING_ALERT=2s): fires once for all overdue payments (a third payment
#    becoming overdue raises no second alert), names the oldest, resolves once when they are confirmed;
#  - a full disk (a second tokenizer, LMDB on a 2 MiB tmpfs): 503 not_stored, nothing stored, /health 503
#    naming the store and the cause, tokenization_store_errors_total; the same payment is accepted as new
#    and /health is 200 once space returns;
#  - SIGKILL loop: clients post payments (and retry until answered) while the tokenizer is killed -9
#    and restarted (at least KILLS_MIN times before the clients post their last tenth); every payment answered 202 is in LMDB (mdb_dump, not the actor's own view), LMDB
#    holds exactly the payments that were posted, and each stored key has exactly one token.request
#    frame id (= its key id) on the bus, re-published after restarts until a backend takes it.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
on_exit() {
	[ -n "${TOK_PID:-}" ] && kill -9 "$TOK_PID" 2>/dev/null
	[ -n "${FULL_PID:-}" ] && kill -9 "$FULL_PID" 2>/dev/null
	[ -n "${FULL_MOUNTED:-}" ] && umount -l "$FULL" 2>/dev/null
	return 0
}
BUILD=${BUILD:-build}
BUSD=$BUILD/bin/busd TAP=$BUILD/bin/bus-tap TOK=${TOKENIZER:-$BUILD/bin/tokenizer}
for b in "$BUSD" "$TAP" "$TOK"; do [ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }; done
command -v mdb_dump >/dev/null || { echo "missing mdb_dump (lmdb-utils)"; exit 1; }
TOK_PID=
FAIL_TAIL=20
IN=ipc://$TMP/in.ipc OUT=ipc://$TMP/out.ipc
HP=$(free_port)
H=http://127.0.0.1:$HP
XML=payments/testdata/iso/ballerina_p_2_1_2_mt103_pacs_008_A_B.xml
UETR=174c245f-2682-4291-ad67-2a41e530cd27
N=${TOKENIZER_KILL_PAYMENTS:-1500}
KILLS_MIN=${TOKENIZER_KILLS_MIN:-5}   # SIGKILLs of the tokenizer while payments are posted, at least

# The MT103 of the same payment: ballerina-platform/module-ballerinax-financial.swiftmt-to-iso20022,
# tests/test_p_2_1_2_mt_mx.bal (Apache-2.0), the pair of $XML.
printf '%s\r\n' '{1:F01CHASUS33XXXX0000000000}{2:O1031013210511CHASGB2LXXXX00000000002105111013N}{3:{121:174c245f-2682-4291-ad67-2a41e530cd27}}{4:' \
	':20:A2B0506272708' ':23B:CRED' ':32A:210511USD136500,' ':33B:USD136500,' ':50F:/96325874' '1/GB Engineering' \
	'2/Industrial Park' '3/GB/Cambridge' ':52A:CHASGB2LXXX' ':56A:ANBTUS44XXX' ':57A:HNBAUS51XXX' ':59F:/254178963' \
	'1/US Engines' '2/20 Main St' '3/US/Casper WY' ':70:/ROC/E2E04044506271305' ':71A:SHA' >"$TMP/p212.fin"
printf '%s' '-}' >>"$TMP/p212.fin"

cat >"$TMP/cfg.json" <<'EOF'
{ "tokens": { "USD": { "backend": "erc20", "address": "0x5FbDB2315678afecb367f032d93F642f64180aa3", "decimals": 6 },
              "EUR": { "backend": "firefly", "pool": "eurc", "decimals": 18 } },
  "accounts": { "254178963": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                "96325874": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" },
  "redemption_accounts": [ "DE02100100109307118603" ] }
EOF
mkdir -p "$TMP/spool"
read -r SUB_SEC SUB_PUB < <("$TAP" --keygen | awk '{printf "%s ", $2} END {print ""}')
printf '%s\n' "$SUB_SEC" >"$TMP/sub.key"
chmod 600 "$TMP/sub.key"

BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$TMP/journal INSTANCE=busd "$BUSD" 2>>"$TMP/busd.log" &
PIDS+=($!)
"$TAP" --url "$OUT" --topic token. --topic alert. --timeout 900 >"$TMP/cap.jsonl" 2>"$TMP/tap.log" &
PIDS+=($!)

run_tok() {
	env BUS_PUB_URL=$IN BUS_SUB_URL=$OUT TOKEN_CONFIG=$TMP/cfg.json STATE_DIR=$TMP/state SPOOL_DIR=$TMP/spool \
		SPOOL_POLL=100ms OUTBOX_RETRY=500ms OUTBOX_RETRY_MAX=2s BODY_MAX=4194304 HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 \
		BUS_TRUST="token.submit=$SUB_PUB" INSTANCE=tokenizer-0 "$@" "$TOK" 2>>"$TMP/tokenizer.log" &
	TOK_PID=$!
}
up() { curl -sf "$H/health" >/dev/null; }
post() {  # file [content-type] -> prints "<status> <body>" into $TMP/resp, echoes the status
	local ct=${2:-application/octet-stream}
	curl -s -o "$TMP/resp" -w '%{http_code}' -H "Content-Type: $ct" --data-binary @"$1" "$H/payments"
}
jq_resp() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$TMP/resp" "$1"; }
key_id() { python3 -c 'import hashlib,sys; print(hashlib.sha256(b"oraclebus/payment-key\0"+sys.argv[1].encode()).hexdigest()[:32])' "$1"; }
cap_count() { python3 - "$TMP/cap.jsonl" "$@" <<'PY'
import json, sys
path, topic, key = sys.argv[1], sys.argv[2], sys.argv[3]
n = 0
for line in open(path):
    try: f = json.loads(line)
    except ValueError: continue
    if f.get("topic") == topic and (key == "*" or f.get("body", {}).get("idempotency_key") == key
                                    or f.get("body", {}).get("dedupe_key", "").endswith(key)):
        n += 1
print(n)
PY
}
# (a function: wait_for must count again at every try, not once when its arguments are expanded)
cap_ge() { [ "$(cap_count "$1" "$2")" -ge "$3" ]; }

echo "== start-up refusals"
set +e
echo '{"tokens":{"EUR":{"backend":"firefly","pool":"p","decimals":1}}}' >"$TMP/bad.json"
env TOKEN_CONFIG=$TMP/bad.json STATE_DIR=$TMP/s0 HTTP_PORT=$HP "$TOK" 2>"$TMP/bad.err"; rc=$?
set -e
cat "$TMP/bad.err" >>"$TMP/tokenizer.log"
[ $rc = 78 ] || fail "started with token decimals below the currency's minor units (exit $rc, want 78)"
grep -q 'config: TOKEN_CONFIG: tokens.EUR.decimals: 1 is fewer than the 2 minor units' "$TMP/bad.err" ||
	fail "no clear error for the decimals"
grep -q '"msg":"started"' "$TMP/bad.err" && fail "started before refusing the mapping"
[ -e "$TMP/s0" ] && fail "opened its state with a bad mapping"
echo ok

run_tok
wait_for 10 "tokenizer /health" up

echo "== pacs.008 and the MT103 of the same payment: one payment"
ID=$(key_id $UETR)
[ "$(post $XML application/xml)" = 202 ] || fail "pacs.008 not accepted: $(cat $TMP/resp)"
[ "$(jq_resp 'd["payments"][0]["payment"]["id"]')" = "$ID" ] || fail "key id differs: $(cat $TMP/resp)"
[ "$(jq_resp 'd["payments"][0]["payment"]["kind"]')" = transfer ] || fail "not a transfer"
[ "$(jq_resp 'd["payments"][0]["payment"]["units"]')" = 136500000000 ] || fail "units: $(cat $TMP/resp)"
st=$(post "$TMP/p212.fin" text/plain)
[ "$st" = 200 ] || fail "MT103 of the same UETR not a duplicate ($st): $(cat $TMP/resp)"
[ "$(jq_resp 'd["format"]')" = mt ] || fail "MT103 not detected"
[ "$(jq_resp 'd["payments"][0]["result"]')" = duplicate ] || fail "MT103: $(cat $TMP/resp)"
[ "$(post $XML)" = 200 ] || fail "same pacs.008 again not a duplicate"
wait_for 10 "one token.request for the UETR" cap_ge token.request "$UETR" 1
echo ok

echo "== conflict, refusals"
sed 's/>136500</>136500.01</' "$XML" >"$TMP/conflict.xml"
[ "$(post $TMP/conflict.xml)" = 409 ] || fail "conflict not refused 409: $(cat $TMP/resp)"
[ "$(jq_resp 'd["payments"][0]["reason"]')" = AM05 ] || fail "conflict reason"
[[ "$(jq_resp 'd["payments"][0]["pacs002"]')" == *"<Cd>AM05</Cd>"* ]] || fail "conflict pacs.002 has no AM05"
[[ "$(curl -sf "$H/payments/$ID")" == *'"amount":"136500.00"'* ]] || fail "the conflict changed the stored payment"
wait_for 10 "payment_conflict alert" cap_ge alert.warning.payment_conflict "$ID" 1
grep -F 'payment_conflict' "$TMP/cap.jsonl" >"$TMP/conflict_alerts"
if grep -qF 'A2B0506272708' "$TMP/conflict_alerts"; then fail "the conflict alert carries sender-chosen text"; fi
sed -e "s/$UETR/aaaaaaaa-2682-4291-ad67-2a41e530cd27/" -e 's/>254178963</>999999999</' "$XML" >"$TMP/unmapped.xml"
[ "$(post $TMP/unmapped.xml)" = 422 ] || fail "unmapped creditor not 422: $(cat $TMP/resp)"
[ "$(jq_resp 'd["payments"][0]["reason"]')" = AC01 ] || fail "unmapped creditor reason"
echo 'hello' >"$TMP/garbage.txt"
[ "$(post $TMP/garbage.txt)" = 400 ] || fail "garbage not 400"
echo ok

echo "== 4xx answers name the reason, the field, the line/offset, and carry the pacs.002 RJCT"
# check_refusal FILE STATUS REASON FIELD NEEDLE UETR: the answer's line is the line of FILE holding NEEDLE (the
# bad field), its offset lies on that line, and its pacs.002 is an RJCT with the reason, the field and the
# original ids; nothing is stored under the UETR.
check_refusal() {
	local st
	st=$(post "$1")
	[ "$st" = "$2" ] || fail "$1: HTTP $st, want $2: $(head -c 600 "$TMP/resp")"
	python3 - "$1" "$TMP/resp" "$3" "$4" "$5" "$6" <<'PY' || fail "$1: the refusal does not say what and where: $(head -c 800 "$TMP/resp")"
import json, sys, xml.etree.ElementTree as ET
src, resp, reason, field, needle, uetr = sys.argv[1:]
data = open(src, "rb").read()
d = json.load(open(resp))
assert len(d["payments"]) == 1, d
e = d["payments"][0]
assert e["state"] == "rejected", e["state"]
assert e["reason"] == reason, (e["reason"], reason)
assert e["field"] == field, (e["field"], field)
assert e["text"], "no text"
lines = data.split(b"\n")
want_line = next(i + 1 for i, l in enumerate(lines) if needle.encode() in l)
assert e["line"] == want_line, "line %s, the bad field is on line %d" % (e["line"], want_line)
off_line = data[: e["offset"]].count(b"\n") + 1
assert 0 < e["offset"] <= len(data) and off_line == want_line, "offset %d is on line %d, not %d" % (e["offset"], off_line, want_line)
assert e.get("uetr") == uetr, (e.get("uetr"), uetr)
ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"}
doc = ET.fromstring(e["pacs002"].encode())
tx = doc.find("p:FIToFIPmtStsRpt/p:TxInfAndSts", ns)
assert tx.findtext("p:TxSts", None, ns) == "RJCT", "pacs.002 not RJCT"
assert tx.findtext("p:StsRsnInf/p:Rsn/p:Cd", None, ns) == reason, "pacs.002 reason"
add = tx.findtext("p:StsRsnInf/p:AddtlInf", "", ns)
assert add.startswith(field + ":") and e["text"][:40] in add, "pacs.002 AddtlInf %r" % add
assert tx.findtext("p:OrgnlUETR", None, ns) == uetr, "pacs.002 OrgnlUETR"
assert tx.findtext("p:OrgnlGrpInf/p:OrgnlMsgId", None, ns) == e["msg_id"], "pacs.002 OrgnlMsgId"
PY
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$H/payments/$6")" = 404 ] || fail "$1: a refused payment was stored"
}
# MT103: an amount with a decimal point (FIN wants the comma) in :32A:, on line 4.
sed -e 's/174c245f-2682-4291-ad67-2a41e530cd27/dddddddd-2682-4291-ad67-2a41e530cd27/' -e 's/^:32A:210511USD136500,/:32A:210511USD136500.5/' \
	"$TMP/p212.fin" >"$TMP/bad32a.fin"
check_refusal "$TMP/bad32a.fin" 400 FF01 32A ':32A:' dddddddd-2682-4291-ad67-2a41e530cd27
[ "$(jq_resp 'd["format"]')" = mt ] || fail "bad MT103 not read as MT"
# pacs.008: a charge bearer the schema does not list (line 60 of the sample), and an amount with more
# decimals than USD has (AM03, 422; the line of the transaction it belongs to).
sed -e 's/<pacs:ChrgBr>SHAR</<pacs:ChrgBr>XXXX</' -e "s/$UETR/eeeeeeee-2682-4291-ad67-2a41e530cd27/" "$XML" >"$TMP/badchrg.xml"
check_refusal "$TMP/badchrg.xml" 400 FF01 CdtTrfTxInf/ChrgBr '<pacs:ChrgBr>XXXX<' eeeeeeee-2682-4291-ad67-2a41e530cd27
sed -e 's/>136500</>136500.123</' -e "s/$UETR/ffffffff-2682-4291-ad67-2a41e530cd27/" "$XML" >"$TMP/badamt.xml"
check_refusal "$TMP/badamt.xml" 422 AM03 IntrBkSttlmAmt '<pacs:CdtTrfTxInf>' ffffffff-2682-4291-ad67-2a41e530cd27
echo ok

echo "== hostile XML"
LP=$(free_port)
python3 - "$LP" "$TMP/xxe_hits" <<'PY' 2>>"$TMP/listener.log" &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5)
while True:
    c, _ = s.accept()
    open(sys.argv[2], "a").write("hit\n")
    c.close()
PY
PIDS+=($!)
wait_for 5 "xxe listener" python3 -c "import socket; socket.create_connection(('127.0.0.1', $LP)).close()"
rm -f "$TMP/xxe_hits"
printf '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "http://127.0.0.1:%s/x">]>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">&x;</Document>\n' "$LP" >"$TMP/xxe.xml"
[ "$(post $TMP/xxe.xml)" = 400 ] || fail "XXE not refused 400"
[ "$(jq_resp 'd["payments"][0]["reason"]')" = FF01 ] || fail "XXE reason"
python3 -c '
import sys
ents = "".join("<!ENTITY l%d \"%s\">" % (i, "&l%d;" % (i - 1) * 10) for i in range(1, 10))
open(sys.argv[1], "w").write("<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY l0 \"lol\">%s]><d>&l9;</d>" % ents)
open(sys.argv[2], "w").write("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\">" + "<a>" * 10000 + "</a>" * 10000 + "</Document>")
' "$TMP/laughs.xml" "$TMP/deep.xml"
[ "$(post $TMP/laughs.xml)" = 400 ] || fail "billion laughs not refused 400"
[ "$(post $TMP/deep.xml)" = 400 ] || fail "deep nesting not refused 400"
head -c $((16 << 20)) /dev/zero | tr '\0' 'a' | sed 's/^/</' >"$TMP/big.xml"
[ "$(post $TMP/big.xml)" = 413 ] || fail "16 MiB body not refused 413"
sleep 0.5
[ ! -s "$TMP/xxe_hits" ] || fail "the XXE listener saw a connection"
[[ "$(curl -s "$H/metrics")" == *'http_refused_total{status="413"} 1'* ]] || fail "413 not counted"
up || fail "tokenizer down after hostile input"
echo ok

echo "== spool"
sed -e "s/$UETR/bbbbbbbb-2682-4291-ad67-2a41e530cd27/" "$XML" >"$TMP/spool/.in.xml"
mv "$TMP/spool/.in.xml" "$TMP/spool/pay1.xml"
cp "$TMP/garbage.txt" "$TMP/spool/junk.txt"
wait_for 10 "spool file done" test -f "$TMP/spool/done/pay1.xml"
wait_for 10 "junk rejected" test -f "$TMP/spool/rejected/junk.txt"
grep -q '"result":"accepted"' "$TMP/spool/done/pay1.xml.status.json" || fail "spool status: $(cat $TMP/spool/done/pay1.xml.status.json)"
grep -q '"FF01"' "$TMP/spool/rejected/junk.txt.status.json" || fail "junk status"
[ ! -e "$TMP/spool/pay1.xml" ] || fail "spool file still there"
echo ok

echo "== token.request from another system (bus token.submit, signed; HTTP JSON)"
REQ='{"idempotency_key":"order-42","kind":"mint","pool":"x","amount":"2500000","currency":"USD","decimals":6,"creditor_account":"254178963","source_format":"json","received_at_ns":1}'
"$TAP" --url "$IN" --publish token.submit --type token.request --key-file "$TMP/sub.key" --json "$REQ" >/dev/null
wait_for 10 "token.status accepted for the submitted request" sh -c "grep -F '\"topic\":\"token.status\"' $TMP/cap.jsonl | grep -F '\"state\":\"accepted\"' | grep -qF 'json/-/order-42'"
[[ "$(curl -sf "$H/payments/json%2F-%2Forder-42")" == *'"kind":"mint"'* ]] || fail "submitted request not stored"
printf '%s' "$REQ" >"$TMP/req.json"
[ "$(post $TMP/req.json application/json)" = 200 ] || fail "the same request over HTTP is not a duplicate: $(cat $TMP/resp)"
# Unsigned: not trusted, never reaches the tokenizer.
"$TAP" --url "$IN" --publish token.submit --type token.request --json "${REQ/order-42/order-43}" >/dev/null
wait_for 10 "the unsigned token.submit rejected" grep -q '"msg":"rejected frame' "$TMP/tokenizer.log"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$H/payments/json%2F-%2Forder-43")" = 404 ] || fail "unsigned token.submit accepted"
echo ok

echo "== backend results, pacs.002"
[[ "$(curl -sf "$H/payments/$ID/pacs002")" == *'<TxSts>ACTC</TxSts>'* ]] || fail "accepted payment not ACTC"
"$TAP" --url "$IN" --publish token.result --json "{\"idempotency_key\":\"$UETR\",\"state\":\"pending\",\"kind\":\"transfer\",\"amount\":\"136500000000\",\"decided_at_ns\":1,\"backend\":\"erc20\"}" >/dev/null
pacs_is() { [[ "$(curl -sf "$H/payments/$ID/pacs002")" == *"<TxSts>$1</TxSts>"* ]]; }
wait_for 10 "pending" pacs_is ACSP
"$TAP" --url "$IN" --publish token.result --json "{\"idempotency_key\":\"$UETR\",\"state\":\"confirmed\",\"kind\":\"transfer\",\"amount\":\"136500000000\",\"tx_hash\":\"0x$(printf 'ab%.0s' $(seq 32))\",\"block_number\":42,\"decided_at_ns\":2,\"backend\":\"erc20\"}" >/dev/null
wait_for 10 "confirmed" pacs_is ACSC
[[ "$(curl -sf "$H/payments/$UETR")" == *'"block_number":42'* ]] || fail "GET by key"
wait_for 10 "token.status confirmed" sh -c "grep -F '\"topic\":\"token.status\"' $TMP/cap.jsonl | grep -F '\"state\":\"confirmed\"' | grep -qF $UETR"
metric() { [[ "$(curl -s "$H/metrics")" == *"$1"* ]]; }
wait_for 10 "success counted" metric 'tokenization_success_total{format="pacs008",backend="erc20"} 1'
metric 'tokenization_requests_total{format="mt103",backend="erc20",outcome="duplicate"} 1' || fail "MT duplicate not counted"
echo ok

echo "== payment_pending_too_long: one alert for all overdue payments, resolved when none is left"
# Open now: the spool payment (bbbbbbbb...) and json/-/order-42. A restart with PENDING_ALERT=2s makes them
# overdue; a third payment becoming overdue later must not raise a second alert.
kill -9 "$TOK_PID"; wait "$TOK_PID" 2>/dev/null || true
run_tok PENDING_ALERT=2s
wait_for 20 "tokenizer up (PENDING_ALERT=2s)" up
alert_status_count() {  # STATUS -> payment_pending_too_long alerts with that status so far
	python3 - "$TMP/cap.jsonl" "$1" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    try: f = json.loads(line)
    except ValueError: continue
    b = f.get("body", {})
    n += f.get("topic") == "alert.warning.payment_pending_too_long" and b.get("status") == sys.argv[2]
print(n)
PY
}
alerts_ge() { [ "$(alert_status_count "$1")" -ge "$2" ]; }
wait_for 15 "payment_pending_too_long firing" alerts_ge firing 1
sed -e "s/$UETR/cccccccc-2682-4291-ad67-2a41e530cd27/" "$XML" >"$TMP/late.xml"
[ "$(post $TMP/late.xml)" = 202 ] || fail "third open payment not accepted: $(cat $TMP/resp)"
wait_for 15 "three payments overdue" metric 'tokenization_pending_overdue 3'
[ "$(alert_status_count firing)" = 1 ] || fail "payment_pending_too_long fired $(alert_status_count firing) times for one condition"
[ "$(alert_status_count resolved)" = 0 ] || fail "payment_pending_too_long resolved while payments are overdue"
grep -F 'payment_pending_too_long' "$TMP/cap.jsonl" | grep -qF "$(key_id bbbbbbbb-2682-4291-ad67-2a41e530cd27)" ||
	fail "the alert does not name the oldest payment: $(grep -F payment_pending_too_long "$TMP/cap.jsonl" | head -1)"
# A backend confirms them all: nothing overdue, the alert resolves (once).
confirm() {  # key kind units
	"$TAP" --url "$IN" --publish token.result --json "{\"idempotency_key\":\"$1\",\"state\":\"confirmed\",\"kind\":\"$2\",\"amount\":\"$3\",\"tx_hash\":\"0x$(printf 'cd%.0s' $(seq 32))\",\"block_number\":43,\"decided_at_ns\":3,\"backend\":\"$4\"}" >/dev/null
}
confirm bbbbbbbb-2682-4291-ad67-2a41e530cd27 transfer 136500000000 erc20
confirm cccccccc-2682-4291-ad67-2a41e530cd27 transfer 136500000000 erc20
confirm json/-/order-42 mint 2500000 erc20
wait_for 15 "nothing overdue" metric 'tokenization_pending_overdue 0'
wait_for 15 "payment_pending_too_long resolved" alerts_ge resolved 1
[ "$(alert_status_count firing)" = 1 ] && [ "$(alert_status_count resolved)" = 1 ] ||
	fail "payment_pending_too_long: $(alert_status_count firing) firing, $(alert_status_count resolved) resolved (want 1, 1)"
echo ok

echo "== a full disk: 503 (nothing accepted), /health 503 naming the store and why; both recover"
# A second tokenizer whose LMDB lives on a small tmpfs of its own (the test runs as root, as CI does; see
# disk_full.sh), filled up by a file.
FULL=$TMP/full
mkdir -p "$FULL"
mount -t tmpfs -o size=2m tmpfs "$FULL" || fail "cannot mount a tmpfs (the test needs root)"
FULL_MOUNTED=1
HP2=$(free_port)
H2=http://127.0.0.1:$HP2
env BUS_PUB_URL=$IN BUS_SUB_URL=$OUT TOKEN_CONFIG=$TMP/cfg.json STATE_DIR=$FULL/state MAP_SIZE_MB=1 HTTP_PORT=$HP2 \
	HTTP_ADDR=127.0.0.1 INSTANCE=tokenizer-full "$TOK" 2>>"$TMP/tokenizer-full.log" &
FULL_PID=$!
wait_for 20 "tokenizer-full /health" curl -sf "$H2/health"
dd if=/dev/zero of="$FULL/filler" bs=4k 2>/dev/null || true
# Every write needs new pages sooner or later: post fresh payments until one is refused 503.
nfull=0
post_full() {
	nfull=$((nfull + 1))
	FULL_UETR=$(printf '%08x-2682-4291-ad67-2a41e530cd27' "$nfull")
	sed -e "s/$UETR/$FULL_UETR/" "$XML" >"$TMP/full.xml"
	FULL_ST=$(curl -s -o "$TMP/full.resp" -w '%{http_code}' --data-binary @"$TMP/full.xml" "$H2/payments")
}
full_refused() { post_full; [ "$FULL_ST" = 503 ]; }
poll 60 full_refused || fail "no 503 with a full disk after $nfull payments (last $FULL_ST: $(head -c 300 "$TMP/full.resp"))"
python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["payments"][0]; assert e["state"]=="not_stored" and "pacs002" not in e, e' \
	"$TMP/full.resp" || fail "503 answer: $(cat "$TMP/full.resp")"
[ "$(curl -s -o "$TMP/full.health" -w '%{http_code}' "$H2/health")" = 503 ] || fail "full disk but /health $(cat "$TMP/full.health")"
python3 -c '
import json, sys
r = {x["key"]: x["text"] for x in json.load(open(sys.argv[1]))["reasons"]}
assert "No space left on device" in r.get("store", ""), r' "$TMP/full.health" ||
	fail "/health does not say the store cannot commit for want of space: $(cat "$TMP/full.health")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$H2/payments/$FULL_UETR")" = 404 ] || fail "a payment answered 503 was stored"
[[ "$(curl -s "$H2/metrics")" == *'tokenization_store_errors_total '[1-9]* ]] || fail "store error not counted"
echo "ok: refused 503 after $nfull payments; health: $(head -c 200 "$TMP/full.health")"
rm -f "$FULL/filler"
# The same payment again once space is back: accepted as new (the 503 left nothing behind), health 200.
st=$(curl -s -o "$TMP/full.resp" -w '%{http_code}' --data-binary @"$TMP/full.xml" "$H2/payments")
[ "$st" = 202 ] || fail "after space returned: $st $(head -c 300 "$TMP/full.resp")"
grep -q '"result":"accepted"' "$TMP/full.resp" || fail "not accepted as new: $(head -c 300 "$TMP/full.resp")"
wait_for 10 "tokenizer-full healthy again" curl -sf "$H2/health"
kill -9 "$FULL_PID"; wait "$FULL_PID" 2>/dev/null || true
FULL_PID=
umount -l "$FULL" && FULL_MOUNTED=
echo ok

echo "== SIGKILL loop while clients post $N payments"
python3 - "$H" "$XML" "$N" "$TMP/accepted.txt" "$TMP/all.txt" "$TMP/kill-quota" <<'PY' 2>"$TMP/clients.log" &
import http.client, os, sys, threading, time, uuid, urllib.parse
h, xml, n, acc_path, all_path = sys.argv[1], open(sys.argv[2]).read(), int(sys.argv[3]), sys.argv[4], sys.argv[5]
quota = sys.argv[6]
u = urllib.parse.urlparse(h)
uetrs = [str(uuid.uuid4()) for _ in range(n)]
open(all_path, "w").write("".join(x + "\n" for x in uetrs))
lock = threading.Lock()
acc = open(acc_path, "a")
def worker(part):
    for i, x in enumerate(part):
        if i == len(part) - len(part) // 10:   # the last tenth only once the kill quota is met: kills under traffic
            end = time.time() + 600
            while not os.path.exists(quota) and time.time() < end:
                time.sleep(0.05)
        body = xml.replace("174c245f-2682-4291-ad67-2a41e530cd27", x)
        while True:   # a client retries until it gets an answer: 202 new, or 200 if the first try was stored
            try:
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                c.request("POST", "/payments", body, {"Content-Type": "application/xml"})
                r = c.getresponse(); r.read(); c.close()
                if r.status in (200, 202):
                    with lock:
                        acc.write("%s %d\n" % (x, r.status)); acc.flush()
                    break
                if r.status != 503:
                    print("unexpected", r.status, file=sys.stderr); break
            except Exception:
                time.sleep(0.05)
ts = [threading.Thread(target=worker, args=(uetrs[i::4],)) for i in range(4)]
for t in ts: t.start()
for t in ts: t.join()
PY
CLIENTS=$!
PIDS+=($CLIENTS)
kills=0
while kill -0 $CLIENTS 2>/dev/null; do
	sleep "0.$((RANDOM % 5 + 1))"
	kill -9 "$TOK_PID" 2>/dev/null || true
	wait "$TOK_PID" 2>/dev/null || true
	kills=$((kills + 1))
	run_tok
	wait_for 20 "tokenizer back up" up
	[ $kills -lt "$KILLS_MIN" ] || touch "$TMP/kill-quota"
done
wait $CLIENTS || fail "clients failed"
[ $kills -ge "$KILLS_MIN" ] || fail "the tokenizer was killed $kills times while payments were posted, want >= $KILLS_MIN"
if grep -q unexpected "$TMP/clients.log"; then fail "unexpected answers: $(head -3 $TMP/clients.log)"; fi
[ "$(wc -l <"$TMP/accepted.txt")" = "$N" ] || fail "not every payment was answered"
echo "killed $kills times"
# One more restart: what the last run did not publish leaves the outbox now.
kill -9 "$TOK_PID"; wait "$TOK_PID" 2>/dev/null || true
run_tok
wait_for 20 "tokenizer up" up
mdb_dump -s payments "$TMP/state" >"$TMP/payments.dump"
sleep 3   # > OUTBOX_RETRY_MAX: at least one publication of every unacked request after the last start
python3 - "$TMP/all.txt" "$TMP/accepted.txt" "$TMP/payments.dump" "$TMP/cap.jsonl" <<'PY' || fail "durability check"
import hashlib, json, sys
all_u = [l.strip() for l in open(sys.argv[1]) if l.strip()]
acc = {l.split()[0]: int(l.split()[1]) for l in open(sys.argv[2]) if l.strip()}
kid = lambda k: hashlib.sha256(b"oraclebus/payment-key\0" + k.encode()).hexdigest()[:32]
# mdb_dump: header, then key line / value line pairs (hex, one leading space each) up to DATA=END.
lines = open(sys.argv[3]).read().split("\n")
start = lines.index("HEADER=END") + 1
stored = set()
for i in range(start, len(lines) - 1, 2):
    if lines[i] == "DATA=END": break
    stored.add(lines[i].strip())
want = {kid(u) for u in all_u}
missing = [u for u in acc if kid(u) not in stored]
assert not missing, "answered but not in LMDB: %s" % missing[:3]
extra = stored - want - {kid("174c245f-2682-4291-ad67-2a41e530cd27"), kid("bbbbbbbb-2682-4291-ad67-2a41e530cd27"),
                         kid("cccccccc-2682-4291-ad67-2a41e530cd27"), kid("json/-/order-42")}
assert not extra, "LMDB holds payments nobody posted: %d" % len(extra)
assert want <= stored, "posted payments missing from LMDB: %d" % len(want - stored)
ids = {}
for line in open(sys.argv[4]):
    try: f = json.loads(line)
    except ValueError: continue
    if f.get("topic") != "token.request": continue
    k = f["body"]["idempotency_key"]
    ids.setdefault(k, set()).add(f["id"][2:])
for u in all_u:
    got = ids.get(u, set())
    assert got == {kid(u)}, "payment %s: token.request frame ids %s, want exactly {%s}" % (u, got, kid(u))
print("payments %d, answered %d (%d as 200 after a kill), stored %d, one token.request id each" %
      (len(all_u), len(acc), sum(1 for s in acc.values() if s == 200), len(stored)))
PY
if grep -q "AddressSanitizer\|runtime error:\|LeakSanitizer" "$TMP/tokenizer.log"; then fail "sanitizer report in the tokenizer's log"; fi
echo ok
