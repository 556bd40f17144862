#!/usr/bin/env bash
# The Oracle Publisher end to end on a real local chain (anvil, chain id 138):
#   price-sim (real CoinGecko/Binance/Coinbase/Kraken formats) -> 3 fetchers -> median -> gate
#   -> signer -> submitter -> OracleAggregator, all through busd, frames signed and trust-checked.
# It asserts the on-chain latestRoundData after each step:
#   1. first update; 2. moves within the threshold: none until the heartbeat; 3. a move past the
#   threshold: one update, promptly; 4. flat price: heartbeat updates; 5. one source lying: ignored;
#   6. two sources down: no quorum, below_quorum alert, no update; 7. a wrong-key price.update
#   injected with bus-tap: refused and alerted; 8. signer and submitter each SIGKILLed mid-run and
#   restarted: no nonce gap, no duplicate, no lost update.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD=${BUILD:-build}
B=$BUILD/bin CHAIN=$ROOT/tools/chain.sh
for b in busd bus-tap price-sim fetcher median gate signer submitter; do
	[ -x "$B/$b" ] || { echo "missing $B/$b (run make)"; exit 1; }
done
[ -x "$ROOT/tests/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" ] ||
	{ echo "tests/chain/node_modules missing: run make deps"; exit 1; }
TMP=$(mktemp -d)
declare -A PID
ANVIL_PID=
cleanup() {
	for p in "${PID[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	[ -n "$ANVIL_PID" ] && "$CHAIN" stop "$ANVIL_PID" >/dev/null 2>&1 || true
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	for f in "$TMP"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -15 "$f"; }; done
	exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
step() { echo "== $*"; }

# ---- chain ------------------------------------------------------------------------------------
KEY1=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d # anvil's public dev key #1
ADDR1=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
CPORT=$(free_port)
export RPC_URL=http://127.0.0.1:$CPORT
ANVIL_PID=$(ANVIL_ARGS="--block-time 1" CHAIN_LOG=$TMP/anvil.log "$CHAIN" start "$CPORT")
"$CHAIN" compile OracleAggregator >/dev/null 2>"$TMP/deploy.log"
AGG=$("$CHAIN" deploy OracleAggregator 8 "ETH / USD" 0 0 "[\"$ADDR1\"]" 2>>"$TMP/deploy.log")
[[ "$AGG" =~ ^0x[0-9a-fA-F]{40}$ ]] || fail "deploy printed '$AGG'"

round() { "$CHAIN" latest "$AGG" 2>/dev/null | tr ' ' '\n' | awk -F= '$1=="roundId"{r=$2} $1=="answer"{a=$2} END{print r+0, a}'; }
nonce() { "$CHAIN" cast nonce --rpc-url "$RPC_URL" "$ADDR1" 2>/dev/null; }
wait_round() {  # want_round timeout_s -> prints "round answer"
	local want=$1 t=$2 r a
	for _ in $(seq $((t * 5))); do
		read -r r a < <(round)
		[ "${r:-0}" -ge "$want" ] && { echo "$r $a"; return 0; }
		sleep 0.2
	done
	read -r r a < <(round)
	echo "$r $a"
	return 1
}

# ---- bus, keys, prices ------------------------------------------------------------------------
IN=ipc://$TMP/in.ipc OUT=ipc://$TMP/out.ipc
BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$TMP/journal INSTANCE=busd-e "$B/busd" 2>"$TMP/busd.log" &
PID[busd]=$!
{ read -r _ GSEC; read -r _ GPUB; } < <("$B/bus-tap" --keygen)
{ read -r _ SSEC; read -r _ SPUB; } < <("$B/bus-tap" --keygen)
{ read -r _ XSEC; read -r _ XPUB; } < <("$B/bus-tap" --keygen)
export BUS_PUB_URL=$IN BUS_SUB_URL=$OUT LOG_LEVEL=info

"$B/price-sim" --port 0 --feed ETH-USD=3000 >"$TMP/sim.url" 2>"$TMP/sim.log" &
PID[sim]=$!
for _ in $(seq 50); do [ -s "$TMP/sim.url" ] && break; sleep 0.1; done
SIM=$(head -1 "$TMP/sim.url")
[ -n "$SIM" ] || fail "price-sim printed no URL"
ctl() { curl -sf -X POST "$SIM/ctl/$1?$2" >/dev/null || fail "price-sim ctl $1 $2"; }
price() { ctl set "feed=ETH-USD&price=$1"; }

"$B/bus-tap" --url "$OUT" --topic price.update. --topic tx.signed --topic tx.status --topic alert. \
	--timeout 600 >"$TMP/bus.jsonl" 2>"$TMP/tap.log" &
PID[tap]=$!

# ---- actors -----------------------------------------------------------------------------------
declare -A URL=(
	[coinbase]="$SIM/v2/prices/ETH-USD/spot"
	[binance]="$SIM/api/v3/ticker/price?symbol=ETHUSDT"
	[kraken]="$SIM/0/public/Ticker?pair=XETHZUSD"
)
for s in coinbase binance kraken; do
	SOURCES="$s=${URL[$s]}" FEED=ETH-USD FETCH_INTERVAL=300ms HTTP_TIMEOUT=500ms RETRIES=0 \
		INSTANCE=fetcher-$s "$B/fetcher" 2>"$TMP/fetcher-$s.log" &
	PID[fetcher-$s]=$!
done
MPORT=$(free_port)
WINDOW=3s QUORUM=2 MAX_DEVIATION=2 MAX_SPREAD=5 AGG_INTERVAL=300ms MIN_PUBLISH_INTERVAL=1s \
	HTTP_PORT=$MPORT HTTP_ADDR=127.0.0.1 INSTANCE=median-e "$B/median" 2>"$TMP/median.log" &
PID[median]=$!

start_gate() {
	BUS_SIGNING_KEY=$GSEC BUS_TRUST="tx.status=$XPUB" FEED=ETH-USD AGGREGATOR_ADDRESS=$AGG CHAIN_ID=138 \
		DEVIATION_THRESHOLD=1 HEARTBEAT=12s MIN_INTERVAL=1s UPDATE_TIMEOUT=30s CHAIN_POLL=2s \
		AGG_MAX_AGE=3s STATE_DIR=$TMP/gate INSTANCE=gate-e "$B/gate" 2>>"$TMP/gate.log" &
	PID[gate]=$!
}
SGPORT=$(free_port)
start_signer() {
	BUS_SIGNING_KEY=$SSEC PRIVATE_KEY=$KEY1 STATE_DIR=$TMP/signer CHAIN_ID=138 GAS_PRICE=auto \
		BUS_TRUST="price.update.=$GPUB;tx.ack=$XPUB;tx.bump=$XPUB;gas.quote=$XPUB;nonce.sync=$XPUB" \
		ALLOWED_CONTRACTS=$AGG MIN_ANSWER=1 MAX_ANSWER=100000 OUTBOX_RETRY=1s \
		HTTP_PORT=$SGPORT HTTP_ADDR=127.0.0.1 INSTANCE=signer-e "$B/signer" 2>>"$TMP/signer.log" &
	PID[signer]=$!
}
start_submitter() {
	BUS_SIGNING_KEY=$XSEC BUS_TRUST="tx.signed=$SPUB" STATE_DIR=$TMP/submitter CHAIN_ID=138 \
		SIGNER_ADDRESS=$ADDR1 CONFIRMATIONS=1 FINALITY_DEPTH=3 POLL_INTERVAL=200ms NONCE_SYNC_INTERVAL=2s \
		GAS_QUOTE_INTERVAL=2s INSTANCE=submitter-e "$B/submitter" 2>>"$TMP/submitter.log" &
	PID[submitter]=$!
}
start_submitter
start_signer
start_gate

# ---- 1. first update --------------------------------------------------------------------------
step "1. first update"
read -r R A < <(wait_round 1 25) || fail "no first update on chain (round $R)"
[ "$A" = 300000000000 ] || fail "first answer $A, want 300000000000"
grep -q '"reason":"first"' "$TMP/bus.jsonl" || fail "no price.update with reason first"
echo "round $R answer $A"

# ---- 2. moves within the 1% threshold: none until the heartbeat --------------------------------
step "2. moves within the threshold"
T0=$(date +%s)
price 3015  # +0.5%
sleep 2
price 3020  # +0.67%
sleep 2
read -r R2 A2 < <(round)
[ "$R2" = "$R" ] || fail "an update within the threshold (round $R2, answer $A2)"
echo "no update for 0.5% and 0.67% moves (round still $R2)"

# ---- 3. a move past the threshold: one update, promptly ---------------------------------------
step "3. a move past the threshold"
T1=$(date +%s%N)
price 3060  # +2%
read -r R3 A3 < <(wait_round $((R + 1)) 10) || fail "no deviation update within 10 s"
T2=$(date +%s%N)
[ "$A3" = 306000000000 ] || fail "deviation answer $A3, want 306000000000"
grep -q '"reason":"deviation"' "$TMP/bus.jsonl" || fail "no price.update with reason deviation"
echo "round $R3 answer $A3 after $(( (T2 - T1) / 1000000 )) ms (includes the fetch interval)"
sleep 2
read -r R3b _ < <(round)
[ "$R3b" = "$R3" ] || fail "more than one update for one move (round $R3b)"

# ---- 4. flat price: heartbeat ----------------------------------------------------------------
step "4. flat price: heartbeat"
read -r R4 A4 < <(wait_round $((R3 + 1)) 20) || fail "no heartbeat update within 20 s"
[ "$A4" = 306000000000 ] || fail "heartbeat answer $A4"
grep -q '"reason":"heartbeat"' "$TMP/bus.jsonl" || fail "no price.update with reason heartbeat"
echo "heartbeat round $R4"

# ---- 5. one source lying: ignored --------------------------------------------------------------
step "5. one source lying"
ctl lie "source=kraken&offset=10"
sleep 3
read -r R5 A5 < <(round)
[ "$A5" = 306000000000 ] || fail "the lying source moved the answer to $A5"
outl=$(curl -s "http://127.0.0.1:$MPORT/metrics" | awk '/^median_outliers_total/ {s += $2} END {print s + 0}')
[ "$outl" -gt 0 ] || fail "the median did not count the lying source as an outlier"
ctl lie "source=kraken&offset=0"
echo "kraken +10% ignored ($outl outliers counted), answer still $A5"

# ---- 6. two sources down: no quorum, alert, no update ------------------------------------------
step "6. two sources down"
ctl mode "source=binance&mode=down"
ctl mode "source=coinbase&mode=down"
sleep 4.5
read -r R6 _ < <(round)
price 3200  # +4.6%: would be an update if there were a quorum
sleep 3
read -r R6b A6b < <(round)
[ "$R6b" = "$R6" ] || fail "an update without quorum (round $R6b, answer $A6b)"
grep -q '"kind":"below_quorum"' "$TMP/bus.jsonl" || fail "no below_quorum alert"
echo "no update without quorum; below_quorum alerted"
ctl mode "source=binance&mode=ok"
ctl mode "source=coinbase&mode=ok"
read -r R6c A6c < <(wait_round $((R6 + 1)) 15) || fail "no update after the sources came back"
[ "$A6c" = 320000000000 ] || fail "answer after recovery $A6c"

# ---- 7. a wrong-key price.update is refused ---------------------------------------------------
step "7. forged price.update"
read -r _ EVIL < <("$B/bus-tap" --keygen | head -1)
read -r R7 _ < <(round)
BUS_SIGNING_KEY=$EVIL "$B/bus-tap" --url "$IN" --publish price.update.ETH-USD --json \
	"{\"feed\":\"ETH-USD\",\"answer\":\"100000000\",\"decimals\":8,\"reason\":\"deviation\",\"chain_id\":138,\"contract\":\"$AGG\",\"decided_at_ns\":1}" \
	2>>"$TMP/pub.log" || fail "publish forged"
sleep 3
read -r R7b A7b < <(round)
[ "$A7b" != 100000000 ] || fail "the forged answer reached the chain"
rej=$(curl -s "http://127.0.0.1:$SGPORT/metrics" | awk '/^actor_bad_messages_total/ && /rejected/ {s += $2} END {print s + 0}')
[ "$rej" -ge 1 ] || fail "the signer did not count the forged frame"
grep -q '"kind":"forged_message"' "$TMP/bus.jsonl" || fail "no forged_message alert"
echo "forged update refused ($rej rejected), answer $A7b"

# ---- 8. SIGKILL the signer and the submitter mid-run --------------------------------------------
step "8. signer and submitter killed mid-run"
read -r R8 _ < <(round)
price 3300
sleep 0.5
kill -9 "${PID[signer]}"; wait "${PID[signer]}" 2>/dev/null || true
sleep 1
start_signer
read -r R8a A8a < <(wait_round $((R8 + 1)) 20) || fail "no update after the signer restart"
price 3400
sleep 0.7
kill -9 "${PID[submitter]}"; wait "${PID[submitter]}" 2>/dev/null || true
sleep 1
start_submitter
read -r R8b A8b < <(wait_round $((R8a + 1)) 20) || fail "no update after the submitter restart"
for _ in $(seq 30); do read -r R8c A8c < <(round); [ "$A8c" = 340000000000 ] && break; sleep 0.5; done
[ "$A8c" = 340000000000 ] || fail "last price 3400 never landed (answer $A8c): an update was lost"
sleep 3

# ---- accounting: every round is one transaction, nonces contiguous, nothing signed twice --------
read -r RF AF < <(round)
N=$(nonce)
echo "final round $RF answer $AF; account nonce $N"
[ "$N" = "$RF" ] || fail "account nonce $N != rounds $RF: a gap, a duplicate or a foreign tx"
python3 - "$TMP/bus.jsonl" <<'PY' || fail "bus accounting"
import json, sys
signed = {}
by_ref = {}
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("type") != "tx.signed" or "body" not in m:
        continue
    b = m["body"]
    n, raw, ref = int(b["nonce"]), b["raw"], b.get("ref", "")
    if b.get("replaces", "0x" + "00" * 32) != "0x" + "00" * 32:
        continue  # fee bumps legitimately re-use a nonce
    assert signed.setdefault(n, raw) == raw, f"two different transactions for nonce {n}"
    by_ref.setdefault(ref, set()).add(n)
dups = {r: ns for r, ns in by_ref.items() if len(ns) > 1}
assert not dups, f"one update signed under several nonces: {dups}"
ns = sorted(signed)
assert ns == list(range(ns[0], ns[-1] + 1)), f"nonce gap in {ns}"
print(f"bus: {len(ns)} nonces {ns[0]}..{ns[-1]} contiguous, one per update")
PY
echo "PASS"
