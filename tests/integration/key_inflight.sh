#!/usr/bin/env bash
# Several transactions in flight from one key: anvil (chain 138) + busd + signer + submitter, with
# price.updates published by a gate key the signer trusts (bus-tap), all signed by anvil's public
# dev key #1 against OracleAggregator. Checks, in order:
#   1. MAX_IN_FLIGHT=16 with mining stopped: 40 updates are signed, stored and acked, but the node's
#      pool holds exactly 16 of the key's transactions, the lowest nonces; mining a block lets the
#      next 16 go out, and so on until all 40 are mined with contiguous nonces
#   2. MAX_IN_FLIGHT=64 with mining stopped: 60 updates are all in the node's pool at once, nonces
#      contiguous, and one block mines every one of them
#   3. automine: a burst of THROUGHPUT_N (300) updates from one key; the time from the first publish
#      to the last transaction mined gives "transactions per second from one key" (printed)
#      sent, and their receipts read, as JSON-RPC batches (SEND_BATCH_MAX 16: submitter_rpc_batches_total)
#   3b. an endpoint without batches (a proxy to anvil answering every array request with one error
#      object, as some providers do): the submitter says so once (log, submitter_send_batch_refused_total
#      = 1), sends one by one, and a burst of 40 is mined (its nonces checked with the rest at the end)
#   4. SIGKILL of the signer and of the submitter in the middle of 120 updates (each id published
#      once, then re-published like the gate until every one is signed): every update is mined
#      exactly once, the chain's nonce is the start + the number of updates (no gap), and no nonce
#      was ever signed twice with different bytes (every tx.signed of the run, from the capture)
#   5. a stuck window: 5 updates in flight, the base fee raised above their fee cap; each asks a
#      tx.bump after BUMP_AFTER_BLOCKS, the signer signs replacements (same nonce, `replaces`), and
#      they are mined in nonce order; the only nonces with two signed txs are these, each a
#      replacement of the other
#   6. a new transaction the node refuses for its fee (the next base fee raised above the signer's
#      quote): it is never accepted, yet asks a tx.bump at once, one per head while refused, and the
#      replacement priced from the next block's quote is taken and mined
set -euo pipefail
export LEASE_TTL=1s LEASE_INTERVAL=200ms # the signer restarts here: short listening time
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
BUILD=${BUILD:-build}
CHAIN=tools/chain.sh
SIGNER=$BUILD/bin/signer SUBMITTER=$BUILD/bin/submitter BUSD=$BUILD/bin/busd TAP=$BUILD/bin/bus-tap ETHTX=$BUILD/bin/ethtx
for b in "$SIGNER" "$SUBMITTER" "$BUSD" "$TAP" "$ETHTX"; do [ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }; done
[ -d tests/chain/node_modules ] || { echo "key_inflight: run \`make deps\` first" >&2; exit 1; }
KEY1=59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d # anvil dev key #1 (public)
ADDR1=0x70997970c51812dc3a010c7d01b50e0d17dc79c8
SIG_PID= SUB_PID=
on_exit() {
	[ -n "$SIG_PID" ] && kill -9 "$SIG_PID" 2>/dev/null
	[ -n "$SUB_PID" ] && kill -9 "$SUB_PID" 2>/dev/null
	return 0
}
checks=0
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }

anvil_start
RPC=$RPC_URL
"$CHAIN" compile >/dev/null
AGG="$("$CHAIN" deploy OracleAggregator 8 "ETH / USD" 1 100000000000000 "[\"$ADDR1\"]")"
[[ "$AGG" =~ ^0x[0-9a-fA-F]{40}$ ]] || fail "deploy printed '$AGG'"
AGG=$(tr 'A-F' 'a-f' <<<"$AGG")
# the baseline's own key and aggregator (anvil's public dev key #2), so it takes none of #1's nonces
KEY2=5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
ADDR2=0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc
AGG2="$("$CHAIN" deploy OracleAggregator 8 "ETH / USD" 1 100000000000000 "[\"$ADDR2\"]")"

SHP=$(free_port) UHP=$(free_port)
busd_start "$BUSD" busd
read -r GATE_SEC GATE_PUB < <("$TAP" --keygen | awk '{printf "%s ", $2} END {print ""}')
"$TAP" --url "$OUT" --topic tx. --topic alert. --format json --count 100000000 --timeout 1800 \
	>"$TMP/cap.jsonl" 2>"$TMP/tap.log" &
PIDS+=($!)
wait_subscribers "$BP" 1

start_signer() {
	env PRIVATE_KEY=$KEY1 BUS_PUB_URL=$IN BUS_SUB_URL=$OUT BUS_TRUST="price.update.=$GATE_PUB" STATE_DIR=$TMP/signer \
		ALLOWED_CONTRACTS=$AGG TX_TYPE=eip1559 ALLOW_EMPTY_STATE=true OUTBOX_RETRY=500ms OUTBOX_RETRY_MAX=2s \
		HTTP_PORT=$SHP HTTP_ADDR=127.0.0.1 INSTANCE=signer-0 LOG_LEVEL=warn "$SIGNER" 2>>"$TMP/signer.log" &
	SIG_PID=$!
}
start_submitter() { # MAX_IN_FLIGHT
	env RPC_URL=${SUB_RPC:-$RPC} CHAIN_ID=138 SIGNER_ADDRESS=$ADDR1 STATE_DIR=$TMP/submitter BUS_PUB_URL=$IN BUS_SUB_URL=$OUT \
		MAX_IN_FLIGHT=$1 POLL_INTERVAL=100ms CONFIRMATIONS=1 FINALITY_DEPTH=2 BUMP_AFTER_BLOCKS=${BUMP_AFTER:-0} \
		GAS_QUOTE_INTERVAL=500ms NONCE_SYNC_INTERVAL=500ms HTTP_PORT=$UHP HTTP_ADDR=127.0.0.1 \
		INSTANCE=submitter-0 LOG_LEVEL=warn "$SUBMITTER" 2>>"$TMP/submitter.log" &
	SUB_PID=$!
}
stop_submitter() { kill -TERM "$SUB_PID"; wait "$SUB_PID" || fail "submitter did not exit 0"; SUB_PID=; }
# ready to sign: its own lease heard back (the loop runs), then /health 200 (the lease held after its
# listening time, nonce synced, a gas.quote heard; 503 "starting" before any of it)
signer_ok() {
	local n; n=$(metric_at "$SHP" signer_leases_heard_total)
	[ "${n:-0}" -ge 1 ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SHP/health")" = 200 ]
}
start_submitter 16
start_signer
wait_for 15 "signer /health 200 (lease held, nonce synced, gas.quote heard)" signer_ok

chain_nonce() { printf '%d' "$(rpc eth_getTransactionCount "[\"$ADDR1\",\"latest\"]" | jq -r .result)"; }
# the key's transactions in the node's pool: their nonces, one a line, sorted
pool_nonces() { rpc txpool_content | jq -r --arg a "$ADDR1" '.result.pending | to_entries[] | select((.key|ascii_downcase)==$a) | .value | keys[]' | sort -n; }
pool_count() { pool_nonces | wc -l; }
n_topic() { jq -c "select(.topic==\"$1\")" "$TMP/cap.jsonl" | wc -l; }
burst() { # COUNT: COUNT price.updates with new ids, as fast as bus-tap publishes them
	local body="{\"feed\":\"ETH-USD\",\"answer\":\"$2\",\"decimals\":8,\"reason\":\"deviation\",\"previous_answer\":\"0\",\"previous_updated_at_s\":0,\"deviation_ppm\":0,\"threshold_ppm\":5000,\"threshold_abs\":\"0\",\"since_update_s\":0,\"heartbeat_s\":3600,\"round_id\":\"0\",\"chain_id\":138,\"contract\":\"$AGG\",\"decided_at_ns\":1,\"agg_origin\":\"median-0\",\"agg_seq\":1,\"agg_sources\":3,\"gas_limit\":150000}"
	BUS_SIGNING_KEY=$GATE_SEC "$TAP" --url "$IN" --publish price.update.ETH-USD --origin gate-0 --json "$body" \
		--repeat "$1" --interval 0 2>>"$TMP/pub.log" >/dev/null || fail "publish burst"
}
acks_ge() { [ "$(n_topic tx.ack)" -ge "$1" ]; }
pool_is() { [ "$(pool_count)" = "$1" ]; }
contiguous() { # FROM COUNT: the pool's nonces of the key are FROM..FROM+COUNT-1
	[ "$(pool_nonces | tr '\n' ' ')" = "$(seq "$1" $(($1 + $2 - 1)) | tr '\n' ' ')" ]
}

# ---- 1. MAX_IN_FLIGHT=16 ------------------------------------------------------------------------
rpc evm_setAutomine '[false]' >/dev/null
N0=$(chain_nonce)
burst 40 300000000000
wait_for 20 "40 tx.signed acked by the submitter" acks_ge 40
wait_for 10 "16 of the key's transactions in the pool" pool_is 16
contiguous "$N0" 16 || fail "pool nonces $(pool_nonces | tr '\n' ' '), want $N0.. (16)"
[ "$(pool_count)" = 16 ] || fail "more than MAX_IN_FLIGHT in the pool: $(pool_count)"
MAXSEEN=16 BLOCKS=0
while [ "$(chain_nonce)" -lt $((N0 + 40)) ]; do
	c=$(pool_count)
	[ "$c" -le 16 ] || fail "the pool held $c transactions of the key (MAX_IN_FLIGHT 16)"
	if [ "$c" -gt 0 ]; then rpc evm_mine >/dev/null; BLOCKS=$((BLOCKS + 1)); fi
	[ $BLOCKS -le 20 ] || fail "40 transactions not mined in 20 blocks"
	pool_has_or_done() { [ "$(pool_count)" -gt 0 ] || [ "$(chain_nonce)" -ge $((N0 + 40)) ]; }
	wait_for 10 "the next transactions sent after a block" pool_has_or_done
done
[ "$(chain_nonce)" = $((N0 + 40)) ] || fail "chain nonce $(chain_nonce), want $((N0 + 40))"
ok "MAX_IN_FLIGHT=16: 40 updates acked, the pool held 16 at a time (nonces $N0.. in order), all 40 mined in $BLOCKS blocks"

# ---- 2. MAX_IN_FLIGHT=64: 60 in flight at once -----------------------------------------------------
stop_submitter
start_submitter 64
N1=$(chain_nonce)
A0=$(n_topic tx.ack)
burst 60 300100000000
wait_for 20 "60 more tx.signed acked" acks_ge $((A0 + 60))
wait_for 10 "60 of the key's transactions in the pool at once" pool_is 60
contiguous "$N1" 60 || fail "pool nonces not contiguous from $N1: $(pool_nonces | tr '\n' ' ')"
rpc evm_mine >/dev/null
[ "$(chain_nonce)" = $((N1 + 60)) ] || fail "one block mined $(($(chain_nonce) - N1)) of 60"
BLK=$(rpc eth_getBlockByNumber '["latest",false]' | jq '.result.transactions | length')
[ "$BLK" = 60 ] || fail "the block holds $BLK transactions"
ok "MAX_IN_FLIGHT=64: 60 updates in the pool at once with nonces $N1..$((N1 + 59)), one block mined all 60"
rpc evm_setAutomine '[true]' >/dev/null

# ---- 3. throughput from one key (automine) ----------------------------------------------------------
TN=${THROUGHPUT_N:-300}
N2=$(chain_nonce)
all_mined() { [ "$(chain_nonce)" -ge "$1" ]; }
T0=${EPOCHREALTIME/./}
burst "$TN" 300200000000
wait_for 60 "$TN updates mined" all_mined $((N2 + TN))
T1=${EPOCHREALTIME/./}
TPS=$(awk -v n="$TN" -v us=$((T1 - T0)) 'BEGIN{printf "%.0f", n / (us / 1e6)}')
ok "one key, anvil automine: $TN updates published -> mined in $(awk -v us=$((T1 - T0)) 'BEGIN{printf "%.2f", us / 1e6}') s = $TPS tx/s (signer + submitter, MAX_IN_FLIGHT=64)"
# the baseline in the same run: the same number of update transactions, signed beforehand (ethtx),
# sent one after the other over one keep-alive connection and each mined (automine) before the next
for i in $(seq 0 $((TN - 1))); do
	ETHTX_KEY=$KEY2 "$ETHTX" mktx --chain 138 --nonce "$i" --gas-limit 150000 --gas-price 100000000000 \
		--priority-gas-price 1000000000 "$AGG2" 'updateAnswer(int256)' $((300200000000 + i))
done >"$TMP/raw.txt"
RAWTPS=$(python3 - "$RPC" "$TMP/raw.txt" <<'PY'
import http.client, json, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port)
raws = open(sys.argv[2]).read().split()
t0 = time.monotonic()
for i, r in enumerate(raws):
    c.request("POST", "/", json.dumps({"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [r]}),
              {"content-type": "application/json"})
    a = json.loads(c.getresponse().read())
    assert "result" in a, a
print("%.0f" % (len(raws) / (time.monotonic() - t0)))
PY
) || fail "baseline"
ok "baseline: $TN pre-signed update transactions sent back to back to the same anvil: $RAWTPS tx/s; the stack reached $(awk -v a="$TPS" -v b="$RAWTPS" 'BEGIN{printf "%.2f", a / b}') of it"

BATCHES=$(metric_at "$UHP" 'submitter_rpc_batches_total{method="eth_sendRawTransaction"}')
RBATCHES=$(metric_at "$UHP" 'submitter_rpc_batches_total{method="eth_getTransactionReceipt"}')
[ "${BATCHES%.*}" -ge 1 ] || fail "no batch of sends (submitter_rpc_batches_total ${BATCHES:-none})"
[ "${RBATCHES%.*}" -ge 1 ] || fail "no batch of receipt reads (submitter_rpc_batches_total ${RBATCHES:-none})"
ok "the window's transactions went out in $BATCHES JSON-RPC batch requests, their receipts were read in $RBATCHES (sections 2 and 3)"

# ---- 3b. an endpoint that takes no batch requests -------------------------------------------------------
cat >"$TMP/nobatch.py" <<'PY'
import http.client, http.server, sys, urllib.parse
up = urllib.parse.urlparse(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        if body.lstrip().startswith(b"["):
            out, status = b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch requests are not supported"}}', 200
            with open(sys.argv[3], "a") as f: f.write("batch refused\n")
        else:
            c = http.client.HTTPConnection(up.hostname, up.port)
            c.request("POST", "/", body, {"content-type": "application/json"})
            r = c.getresponse(); out, status = r.read(), r.status
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
NBP=$(free_port)
python3 "$TMP/nobatch.py" "$NBP" "$RPC" "$TMP/nobatch.log" 2>"$TMP/nobatch.err" &
PIDS+=($!)
nb_up() { curl -sf -H 'content-type: application/json' --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "http://127.0.0.1:$NBP" >/dev/null; }
wait_for 10 "the no-batch proxy" nb_up
stop_submitter
SUB_RPC=http://127.0.0.1:$NBP start_submitter 16
N2B=$(chain_nonce)
burst 40 300250000000
wait_for 60 "40 updates mined through an endpoint without batches" all_mined $((N2B + 40))
REFUSED=$(metric_at "$UHP" submitter_send_batch_refused_total)
[ "${REFUSED%.*}" = 1 ] || fail "submitter_send_batch_refused_total ${REFUSED:-none}, want 1"
[ "$(grep -c 'refused a batch request' "$TMP/submitter.log")" = 1 ] || fail "the fallback is not logged exactly once"
[ "$(wc -l <"$TMP/nobatch.log")" = 1 ] || fail "$(wc -l <"$TMP/nobatch.log") batch requests reached the proxy, want 1"
ok "an endpoint without batches: one batch refused, said once (log + metric), 40 updates sent one by one and mined (nonces $N2B..$((N2B + 39)))"

# ---- 4. SIGKILL of both in the middle ---------------------------------------------------------------
stop_submitter
start_submitter 16
N3=$(chain_nonce)
KN=${KILL_UPDATES:-120}
update() { # NUMBER: one update with a fixed id (the gate re-publishes with the same id)
	local id body
	id=$(printf '%032x' $((0xb000 + $1)))
	body="{\"feed\":\"ETH-USD\",\"answer\":\"$((300300000000 + $1))\",\"decimals\":8,\"reason\":\"deviation\",\"previous_answer\":\"0\",\"previous_updated_at_s\":0,\"deviation_ppm\":0,\"threshold_ppm\":5000,\"threshold_abs\":\"0\",\"since_update_s\":0,\"heartbeat_s\":3600,\"round_id\":\"0\",\"chain_id\":138,\"contract\":\"$AGG\",\"decided_at_ns\":1,\"agg_origin\":\"median-0\",\"agg_seq\":$1,\"agg_sources\":3,\"gas_limit\":150000}"
	BUS_SIGNING_KEY=$GATE_SEC "$TAP" --url "$IN" --publish price.update.ETH-USD --origin gate-0 --id "$id" \
		--json "$body" >/dev/null 2>>"$TMP/pub.log" || fail "publish update $1"
}
# Each kill waits until the restarted signer signs again (/health 200: its lease active after one
# LEASE_TTL of listening, nonce synced), then comes 0-0.6 s later: a kill timed from the restart
# alone lands in that listening on a slow machine, before anything is in flight. The publisher is
# paced (~20 updates/s) so the updates span the kills; at least 4 kills.
( for i in $(seq 0 $((KN - 1))); do update "$i"; sleep 0.05; done; touch "$TMP/published" ) &
PUBLISHER=$!
PIDS+=($PUBLISHER)
KILLS=0
while [ ! -e "$TMP/published" ] || [ $KILLS -lt 4 ]; do
	wait_for 15 "signer /health 200 before kill $((KILLS + 1))" signer_ok
	sleep "0.$((RANDOM % 7))"
	if [ $((KILLS % 2)) = 0 ]; then
		kill -9 "$SIG_PID" 2>/dev/null || true; wait "$SIG_PID" 2>/dev/null || true
		kill -9 "$SUB_PID" 2>/dev/null || true; wait "$SUB_PID" 2>/dev/null || true
		start_submitter 16
		start_signer
	else
		kill -9 "$SIG_PID" 2>/dev/null || true; wait "$SIG_PID" 2>/dev/null || true
		start_signer
	fi
	KILLS=$((KILLS + 1))
done
wait $PUBLISHER
[ $KILLS -ge 4 ] || fail "only $KILLS kills"
wait_for 15 "signer /health 200 after the last restart" signer_ok
# the gate's part: re-publish (same id) every update that has no tx.signed yet, until all have one
unsigned() {
	python3 - "$TMP/cap.jsonl" "$KN" <<'PY'
import json, sys
refs = set()
for l in open(sys.argv[1]):
    if l.endswith("\n") and '"tx.signed"' in l:
        refs.add(json.loads(l)["body"]["ref"])
print(" ".join(str(i) for i in range(int(sys.argv[2])) if "%032x" % (0xb000 + i) not in refs))
PY
}
all_signed() {
	local u; u=$(unsigned)
	[ -z "$u" ] && return 0
	for i in $u; do update "$i"; done
	return 1
}
wait_for 60 "every update signed" all_signed
wait_for 60 "every update mined" all_mined $((N3 + KN))
ok "$KILLS SIGKILLs (signer, and every other time the submitter too) during $KN updates; chain nonce $((N3 + KN))"

# ---- 5. a stuck window: every transaction in it replaced with a higher fee ---------------------------
stop_submitter
BUMP_AFTER=2 start_submitter 16
N4=$(chain_nonce)
B0=$(n_topic tx.bump)
rpc evm_setAutomine '[false]' >/dev/null
burst 5 300400000000
wait_for 10 "5 transactions in the pool" pool_is 5
GWEI=1000000000
rpc anvil_setNextBlockBaseFeePerGas "[\"0x$(printf '%x' $((50 * GWEI)))\"]" >/dev/null
bumps_ge() { [ "$(n_topic tx.bump)" -ge $((B0 + $1)) ]; }
head_is() { [ "$(printf '%d' "$(rpc eth_blockNumber | jq -r .result)")" -ge "$1" ]; }
for _ in 1 2 3 4; do # blocks the stuck ones cannot enter (base fee 50 gwei, decaying 12.5% a block)
	rpc evm_mine >/dev/null
	if bumps_ge 5; then break; fi
	sleep 0.3 # not a wait for an outcome: spacing the blocks so the submitter's polls see each one
done
wait_for 10 "a tx.bump for each of the 5 stuck transactions" bumps_ge 5
replaced_ge() { [ "$(jq -c 'select(.type=="tx.signed" and .body.replaces != "0x0000000000000000000000000000000000000000000000000000000000000000")' "$TMP/cap.jsonl" | wc -l)" -ge "$1" ]; }
wait_for 10 "5 replacements signed" replaced_ge 5
# sent: a tx.status pending for each replacement (the node took it), and each is in the pool or
# already mined (a bump made just before one of the blocks above goes into the next one: the capture
# that bumps_ge reads can lag the submitter by a block)
pending_repl() {
	jq -r 'select(.type=="tx.signed" and (.body.replaces|test("^0x0+$")|not)) | .body.tx_hash' "$TMP/cap.jsonl" | sort -u >"$TMP/repl.txt"
	jq -r 'select(.type=="tx.status" and .body.state=="pending") | .body.tx_hash' "$TMP/cap.jsonl" | sort -u >"$TMP/sent.txt"
	[ "$(comm -12 "$TMP/repl.txt" "$TMP/sent.txt" | wc -l)" -ge 5 ] || return 1
	local h taken=0
	rpc txpool_content | jq -r --arg a "$ADDR1" '.result.pending | to_entries[] | select((.key|ascii_downcase)==$a) | .value[].hash' | sort -u >"$TMP/pool.txt"
	for h in $(cat "$TMP/repl.txt"); do
		if grep -qx "$h" "$TMP/pool.txt" || [ "$(rpc eth_getTransactionReceipt "[\"$h\"]" | jq -r '.result.status // empty')" = 0x1 ]; then
			taken=$((taken + 1))
		fi
	done
	[ "$taken" -ge 5 ]
}
wait_for 10 "the 5 replacements sent, each in the pool or mined" pending_repl
rpc evm_mine >/dev/null
rpc evm_setAutomine '[true]' >/dev/null
wait_for 10 "the 5 replacements mined" all_mined $((N4 + 5))
ok "stuck window: 5 in flight behind a base fee of 50 gwei, each bumped (tx.bump, replacement signed with replaces), all 5 replacements mined, nonces $N4..$((N4 + 4))"

# ---- 6. a new transaction the node refuses for its fee ------------------------------------------------
# The base fee of the next block is raised far above the signer's quote before the update is signed:
# the node refuses the transaction (max fee per gas less than block base fee) and never holds it, so
# the stuck check (blocks since acceptance) never sees it. It must ask a tx.bump at once (stuck_blocks
# 0), once per head while refused (a refused replacement is not replaced again in the same block), and
# the bump after the next block, priced from that block's quote, is taken and mined.
N5=$(chain_nonce)
rpc evm_setAutomine '[false]' >/dev/null
BASE=$(printf '%d' "$(rpc eth_getBlockByNumber '["latest",false]' | jq -r .result.baseFeePerGas)")
HIGH=$((BASE * 6 + 20 * GWEI)) # above any quote of the current block (2 x base + tip), 2 x HIGH under the signer's cap
rpc anvil_setNextBlockBaseFeePerGas "[\"0x$(printf '%x' "$HIGH")\"]" >/dev/null
B5=$(n_topic tx.bump)
S5=$(n_topic tx.signed)
burst 1 300500000000
refused_bumped() { [ "$(jq -c --argjson n "$N5" 'select(.type=="tx.bump" and .body.nonce==$n and .body.stuck_blocks==0)' "$TMP/cap.jsonl" | wc -l)" -ge 1 ]; }
wait_for 10 "a tx.bump (stuck_blocks 0) for the transaction the node refused" refused_bumped
signed_n5() { jq -c --argjson n "$N5" 'select(.type=="tx.signed" and .body.nonce==$n)' "$TMP/cap.jsonl" | wc -l; }
signed_ge() { [ "$(signed_n5)" -ge "$1" ]; }
wait_for 10 "the replacement signed" signed_ge 2
# no block yet: the replacement is refused too, re-sent at every poll, and asks no bump of its own
# until a new head; ten more refusals counted = ten more polls in which a bump loop would have shown
fee_refusals() { metric_at "$UHP" 'oracle_update_errors_total{class="fee_too_low"}'; }
R0=$(fee_refusals)
refusals_ge() { local v; v=$(fee_refusals); [ "${v%.*}" -ge "$1" ]; }
wait_for 10 "ten more fee refusals (the replacement re-sent at each poll)" refusals_ge $((${R0%.*} + 10))
[ "$(signed_n5)" = 2 ] || fail "$(signed_n5) transactions signed for nonce $N5 in one head, want 2 (one bump per head)"
[ "$(pool_count)" = 0 ] || fail "the node holds $(pool_count) transactions of the key, want none (all refused)"
rpc evm_mine >/dev/null # an empty block at the high base fee: its quote prices the next bump
in_pool_n5() { [ "$(pool_count)" = 1 ]; }
wait_for 10 "a replacement priced from the new block's quote, taken by the node" in_pool_n5
rpc evm_mine >/dev/null
rpc evm_setAutomine '[true]' >/dev/null
wait_for 10 "the refused update mined" all_mined $((N5 + 1))
ok "a transaction refused for its fee (next base fee $((HIGH / GWEI)) gwei): bumped at once, one replacement per head while refused ($(($(signed_n5) - 1)) in all), mined at nonce $N5"

# ---- checks over the whole run ----------------------------------------------------------------
sleep 0.5 # let the capture flush its last lines (checked below against the chain, not timed)
python3 - "$TMP/cap.jsonl" "$RPC" "$ADDR1" "$N0" "$(chain_nonce)" "$N3" "$KN" "$N4" "$N5" <<'PY' || fail "capture/chain checks"
import json, sys, urllib.request
cap, rpc, addr, n0, nend, n3, kn, n4, n5 = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9])
def call(m, p):
    req = urllib.request.Request(rpc, json.dumps({"jsonrpc": "2.0", "id": 1, "method": m, "params": p}).encode(),
                                 {"content-type": "application/json"})
    return json.load(urllib.request.urlopen(req))["result"]
by_nonce, by_ref = {}, {}
for l in open(cap):
    if not l.endswith("\n"): continue
    j = json.loads(l)
    if j.get("type") != "tx.signed": continue
    b = j["body"]
    assert b["from"].lower() == addr, b["from"]
    by_nonce.setdefault(b["nonce"], {})[b["tx_hash"]] = b
    by_ref.setdefault(b["ref"], set()).add(b["nonce"])
# Two signed txs for one nonce only as a replacement chain: every one but the first replaces another
# of the same nonce, and one of them is mined (checked below).
for n, hs in by_nonce.items():
    if len(hs) == 1: continue
    roots = [h for h, b in hs.items() if int(b["replaces"], 16) == 0]
    assert len(roots) == 1, "nonce %d: %d txs that replace nothing: %s" % (n, len(roots), list(hs))
    for h, b in hs.items():
        assert int(b["replaces"], 16) == 0 or b["replaces"] in hs, "nonce %d: %s replaces an unknown tx" % (n, h)
multi = sorted(n for n, hs in by_nonce.items() if len(hs) > 1)
assert multi == list(range(n4, n4 + 5)) + [n5], "nonces with replacements: %s, want %d..%d and %d" % (multi, n4, n4 + 4, n5)
assert all(len(v) == 1 for v in by_ref.values()), "an update signed under two nonces"
want = set(range(n0, nend))
assert set(by_nonce) == want, "signed nonces %s..%s (%d), chain says %d..%d" % (min(by_nonce), max(by_nonce), len(by_nonce), n0, nend - 1)
kill_refs = {"%032x" % (0xb000 + i) for i in range(kn)}
assert kill_refs <= set(by_ref), "updates never signed: %d" % len(kill_refs - set(by_ref))
assert sorted(n for r in kill_refs for n in by_ref[r]) == list(range(n3, n3 + kn)), "the killed run's nonces are not %d.." % n3
# every nonce of the run: the chain's transaction is the one signed
for n, hs in sorted(by_nonce.items()):
    mined = [r for r in (call("eth_getTransactionReceipt", [h]) for h in hs) if r is not None]
    assert len(mined) == 1 and mined[0]["status"] == "0x1", "nonce %d: %d of %s mined" % (n, len(mined), list(hs))
print("ok: %d nonces %d..%d, each signed once and mined; %d updates of the killed run, one nonce each" % (len(want), n0, nend - 1, kn))
PY
ok "every nonce $N0..$(($(chain_nonce) - 1)) signed once, or as a replacement chain (only the 5 bumped and the refused one), exactly one tx mined with status 1; each update one nonce"
grep -q "$KEY1" "$TMP/signer.log" "$TMP/submitter.log" "$TMP/cap.jsonl" && fail "the key appears in a log or the capture"
kill -TERM "$SIG_PID"; wait "$SIG_PID" || fail "signer did not exit 0"; SIG_PID=
stop_submitter
echo "PASS ($checks checks)"
