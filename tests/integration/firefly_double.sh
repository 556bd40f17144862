#!/usr/bin/env bash
# The FireFly v1.3 tokens API double (tests/chain/firefly-double.js) against a real chain: anvil, the
# PaymentToken ERC-20 (6 decimals) with the double's key as minter and burner, the double started with
# duplicate event delivery on, then the published @hyperledger/firefly-sdk client driving it
# (tests/chain/firefly-sdk-check.js: 3 payments minted, a transfer, a burn, idempotency replays, every
# fault mode). The balances, the total supply and the Transfer logs are then read from the chain with
# cast and must equal what the check script asked for: every payment once, nothing twice.
# Waits for conditions with generous deadlines (passes on a loaded machine).
set -u
# shellcheck source=../lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
CHAIN="$T_ROOT/tools/chain.sh"
CD="$T_ROOT/tests/chain"
[ -x "$CD/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" ] || { echo "tests/chain/node_modules missing: run make deps"; exit 1; }
[ -d "$CD/node_modules/@hyperledger/firefly-sdk" ] || { echo "@hyperledger/firefly-sdk missing: run make deps"; exit 1; }

# anvil's public dev keys (never real keys): #1 = FireFly's org key, #2 = custodial account A, #3 = B
KEY1=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
ORG=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
KEY2=0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
A=0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC
KEY3=0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6
B=0x90F79bf6EB2c4f870365E785982E1f101E93b906

CPORT=$(free_port)
export RPC_URL=http://127.0.0.1:$CPORT ETH_RPC_URL=http://127.0.0.1:$CPORT
ANVIL_PID=$(CHAIN_LOG=$TMP/anvil.log "$CHAIN" start "$CPORT") || fail "anvil did not start"
TOKEN=$(TOKEN_NAME="Euro Payment Token" TOKEN_SYMBOL=EURP "$CHAIN" deploy-token 6 "$ORG" "$ORG" 2>"$TMP/deploy.log") ||
	fail "deploy-token failed"
[[ "$TOKEN" =~ ^0x[0-9a-fA-F]{40}$ ]] || fail "deploy-token printed '$TOKEN'"
c() { "$CHAIN" cast "$@"; }
[ "$(c call "$TOKEN" 'decimals()(uint8)')" = 6 ] || fail "decimals != 6"
[ "$(c call "$TOKEN" 'hasRole(bytes32,address)(bool)' "$(c keccak MINTER_ROLE)" "$ORG")" = true ] || fail "ORG is not a minter"
[ "$(c call "$TOKEN" 'hasRole(bytes32,address)(bool)' "$(c keccak BURNER_ROLE)" "$ORG")" = true ] || fail "ORG is not a burner"
[ "$(c call "$TOKEN" 'hasRole(bytes32,address)(bool)' "$(c keccak MINTER_ROLE)" "$A")" = false ] || fail "A is a minter"

FPORT=$(free_port)
APORT=$(free_port)
FF_DOUBLE_PORT=$FPORT FF_DOUBLE_ADMIN_PORT=$APORT FF_DOUBLE_KEYS="$KEY1,$KEY2" FF_DOUBLE_DUPLICATE_EVENTS=1 \
	FF_DOUBLE_LOG_LEVEL=debug node "$CD/firefly-double.js" 2>"$TMP/double.log" &
DPID=$!
PIDS+=("$DPID")
wait_for 30 "the double answers /api/v1/status" curl -sf "http://127.0.0.1:$FPORT/api/v1/status"

FF_URL=http://127.0.0.1:$FPORT FF_ADMIN_URL=http://127.0.0.1:$APORT POOL_ADDRESS=$TOKEN ORG=$ORG A=$A B=$B \
	B_KEY=$KEY3 EXPECT_DUPLICATES=1 DEADLINE_S=90 timeout 600 node "$CD/firefly-sdk-check.js" >"$TMP/check.out" 2>"$TMP/check.log" ||
	fail "firefly-sdk-check.js failed: $(tail -3 "$TMP/check.log")"
# the SDK logs its websocket's life on stdout; the summary is the script's last line
tail -n 1 "$TMP/check.out" >"$TMP/summary.json"
SUMMARY=$(cat "$TMP/summary.json")
echo "check: $SUMMARY"
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$TMP/summary.json" "$1"; }

# the chain has exactly what the script asked for
num() { c call "$TOKEN" "$@" | awk '{print $1}'; }
for who in A B ORG; do
	want=$(field "$who")
	got=$(num 'balanceOf(address)(uint256)' "${!who}")
	[ "$got" = "$want" ] || fail "balance of $who: chain $got, expected $want"
	echo "balance $who = $got"
done
[ "$(num 'totalSupply()(uint256)')" = "$(field supply)" ] || fail "totalSupply $(num 'totalSupply()(uint256)') != $(field supply)"

# Transfer logs: one per confirmed transfer, none more (replays, faults and reverts added nothing)
c logs --from-block 0 --to-block latest --address "$TOKEN" 'Transfer(address,address,uint256)' --json >"$TMP/logs.json" ||
	fail "cast logs failed"
python3 - "$TMP/logs.json" "$TMP/summary.json" "$A" "$B" <<'EOF' || fail "Transfer logs do not match"
import json, sys
logs = json.load(open(sys.argv[1]))
s = json.load(open(sys.argv[2]))
a, b = sys.argv[3].lower(), sys.argv[4].lower()
topic = lambda x: '0x' + x[-40:]
n = len(logs)
assert n == s['transferLogs'] == s['confirmed'], f"{n} Transfer logs, script expected {s['transferLogs']}, confirmed {s['confirmed']}"
mints = [l for l in logs if topic(l['topics'][1]) == '0x' + '0' * 40]
burns = [l for l in logs if topic(l['topics'][2]) == '0x' + '0' * 40]
moves = [l for l in logs if l not in mints and l not in burns]
assert all(topic(l['topics'][2]) == a for l in mints), 'a mint went elsewhere than A'
assert len(moves) == 1 and topic(moves[0]['topics'][1]) == a and topic(moves[0]['topics'][2]) == b and int(moves[0]['data'], 16) == 500000, 'the A->B transfer'
assert len(burns) == 1 and topic(burns[0]['topics'][1]) == b and int(burns[0]['data'], 16) == 200000, 'the burn from B'
minted = sum(int(l['data'], 16) for l in mints)
assert minted - 200000 == int(s['supply']), f'minted {minted} - burned 200000 != supply {s["supply"]}'
print(f"{n} Transfer logs: {len(mints)} mints ({minted}), 1 transfer, 1 burn")
EOF

# the double: JSON lines only, no private key in them, stops on SIGTERM
python3 - "$TMP/double.log" <<'EOF' || fail "the double wrote a line that is not JSON"
import json, sys
n = 0
for line in open(sys.argv[1]):
    json.loads(line); n += 1
print(f"double log: {n} JSON lines")
EOF
for k in "$KEY1" "$KEY2" "${KEY1#0x}" "${KEY2#0x}"; do
	! grep -qi -- "$k" "$TMP/double.log" || fail "a private key appears in the double's log"
done
kill -TERM "$DPID"
for _ in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$DPID" 2>/dev/null || fail "the double did not stop on SIGTERM"
wait "$DPID"
rc=$?
[ "$rc" = 0 ] || fail "the double exited $rc on SIGTERM"
echo "PASS firefly_double: $SUMMARY"
