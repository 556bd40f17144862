#!/usr/bin/env bash
# make demo: the whole stack on a local chain, one human line per event, until Ctrl-C.
#
#   anvil (chain id 138, 1 s blocks), OracleAggregator, two PaymentTokens, the real CCIP 1.6 send side
#     (Router 1.2.0, OnRamp 1.6.0, ...) and an OffRamp stand-in (CcipEventEmitter)
#   Oracle Publisher:      price-sim (a random walk served in the Coinbase/Binance/Kraken formats),
#                          3 fetchers, median, gate, signer, submitter (bus keys and trust lists)
#   CCIP Monitor:          ccip-tail on the OnRamp and the OffRamp, alerter -> a webhook sink
#                          (alert-sink-double, HMAC-signed), two real Router.ccipSend messages: one
#                          executed, one failing (alert) then re-executed (alert resolved)
#   Financial Tokenization: tokenizer, token-erc20 (USD, via signer/submitter), token-firefly (EUR,
#                          on a FireFly double); a pacs.008 (USD) and an MT103 (EUR) are posted and
#                          settle on chain (pacs.002 ACSC)
#
# Prints one line per event (tools/demo-events.py over bus-tap): price moved, update decided and why,
# tx sent/landed, payment accepted/settled, CCIP message state, alert fired/resolved, alert delivered;
# and the contract's latestRoundData when it changes. Ctrl-C stops everything it started, each process
# once with SIGTERM (exit 0). It refuses to start when a port it needs is taken, and never reuses a
# chain it did not start; an actor that exits while it runs stops the demo, with the end of its log.
#
# Processes: every actor, the chain and the event view run in their own session (setsid), so a Ctrl-C
# reaches only this script (and its foreground command), which stops each of them once; the story
# (payments, CCIP messages) and the watch loop run in one background process group that the stop ends.
#
# Env: CHAIN_PORT (8545); DEMO_HTTP_BASE (7710: the HTTP ports of busd, fetchers x3, median, gate,
# signer, submitter, tokenizer, token-erc20, token-firefly, the FireFly double, ccip-tail, alerter and
# the alert sink, in this order: 15 ports); DEVIATION_THRESHOLD (0.5); HEARTBEAT (30s); DEMO_DIR
# (build/demo: logs/, state/, the bus sockets);
# DEMO_SECONDS (stop by itself that long after the story was told); DEMO_STOP_WAIT (15: seconds a
# process may take to stop before it is killed, and said so).
set -euo pipefail
export HTTP_PORT=0 # no actor listens on the seed's 8000/8080 here: each start below names its port (docs/MIGRATION.md)
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
B=build/bin
DIR=${DEMO_DIR:-$ROOT/build/demo}
CHAIN_PORT=${CHAIN_PORT:-8545}
H=${DEMO_HTTP_BASE:-7710}
NPORTS=15
say() { echo "demo: $*"; }
# Python helpers die of Ctrl-C silently (as curl, cast and node do), not with a KeyboardInterrupt trace.
py() { python3 -c "import signal; signal.signal(signal.SIGINT, signal.SIG_DFL)
$1" "${@:2}"; }
die() { echo "demo: $*" >&2; exit 1; }

# ---- before anything starts: binaries, packages, ports ----------------------------------------------
for b in busd bus-tap price-sim fetcher median gate signer submitter tokenizer token-erc20 token-firefly \
	ccip-tail alerter alert-sink-double; do
	[ -x "$B/$b" ] || die "missing $B/$b (run make)"
done
[ -d tests/chain/node_modules ] || die "tests/chain/node_modules is missing (make demo installs it: tools/deps.sh --demo)"
# Ports in use, the way the actors bind (SO_REUSEADDR: a closed connection's TIME_WAIT does not count).
taken=$(python3 - "$CHAIN_PORT" $(seq "$H" $((H + NPORTS - 1))) <<'PY'
import socket, sys
for p in sys.argv[1:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", int(p)))
    except OSError:
        print(p, end=" ")
    s.close()
PY
)
case " $taken " in *" $CHAIN_PORT "*)
	die "port $CHAIN_PORT (CHAIN_PORT) is taken: the demo starts its own chain and never reuses one it did not start; stop what listens there or set CHAIN_PORT" ;;
esac
[ -z "$taken" ] || die "ports $taken(DEMO_HTTP_BASE=$H .. $((H + NPORTS - 1))) are taken; set DEMO_HTTP_BASE to a free range"

mkdir -p "$DIR/logs"
rm -rf "$DIR/state" "$DIR/logs/"*
declare -a PIDS=() NAMES=()
STOPPED= WATCHER=

# Every process runs in its own session (setsid): a Ctrl-C reaches this script only, which stops each
# process once with SIGTERM (a second signal would make an actor exit 128+N), busd last so the others'
# last words (a signer's lease release) still go out, then the chain.
start() { # name cmd... : in the background, stdout and stderr to $DIR/logs/name.log
	local name=$1
	shift
	setsid "$@" </dev/null >>"$DIR/logs/$name.log" 2>&1 &
	PIDS+=($!)
	NAMES+=("$name")
}
start_out() { # name stdout cmd... : the same, stdout to the file given (stdin from /dev/null)
	local name=$1 out=$2
	shift 2
	setsid "$@" </dev/null >"$out" 2>>"$DIR/logs/$name.log" &
	PIDS+=($!)
	NAMES+=("$name")
}
stop_pids() { # index... : SIGTERM, wait DEMO_STOP_WAIT s, say what had to be killed or failed
	local i end st
	for i in "$@"; do kill -TERM "${PIDS[i]}" 2>/dev/null || true; done
	end=$((SECONDS + ${DEMO_STOP_WAIT:-15}))
	for i in "$@"; do
		while kill -0 "${PIDS[i]}" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.1; done
		if kill -0 "${PIDS[i]}" 2>/dev/null; then
			say "${NAMES[i]} did not stop within ${DEMO_STOP_WAIT:-15} s: killed (log: $DIR/logs/${NAMES[i]}.log)"
			kill -KILL "${PIDS[i]}" 2>/dev/null || true
		fi
		st=0
		wait "${PIDS[i]}" 2>/dev/null || st=$?
		[ $st -eq 0 ] || say "${NAMES[i]} exited with status $st (log: $DIR/logs/${NAMES[i]}.log)"
	done
}
stop_all() {
	[ -z "$STOPPED" ] || return 0
	STOPPED=1
	[ ${#PIDS[@]} -gt 0 ] || [ -n "$WATCHER" ] || return 0
	# One Ctrl-C is enough: another one while stopping changes nothing. A reader of our output that
	# Ctrl-C ended (make demo | tee) must not end us by SIGPIPE half way through the stop.
	trap '' INT TERM PIPE
	echo
	say "stopping (each process once with SIGTERM) ..."
	if [ -n "$WATCHER" ]; then
		kill -TERM -- -"$WATCHER" 2>/dev/null || true
		wait "$WATCHER" 2>/dev/null || true
	fi
	local i others=() busd=() chain=()
	for i in "${!PIDS[@]}"; do
		case ${NAMES[i]} in
		busd) busd+=("$i") ;;
		anvil) chain+=("$i") ;;
		*) others+=("$i") ;;
		esac
	done
	[ ${#others[@]} -eq 0 ] || stop_pids "${others[@]}"
	[ ${#busd[@]} -eq 0 ] || stop_pids "${busd[@]}"
	[ ${#chain[@]} -eq 0 ] || stop_pids "${chain[@]}"
	say "stopped (logs in $DIR/logs)"
}
trap 'stop_all; exit 0' INT TERM HUP
trap 'rc=$?; stop_all; exit $rc' EXIT
# An actor that exits while the demo runs stops the demo, with its last words.
check_alive() {
	local i st
	for i in "${!PIDS[@]}"; do
		kill -0 "${PIDS[i]}" 2>/dev/null && continue
		st=0
		wait "${PIDS[i]}" 2>/dev/null || st=$?
		say "${NAMES[i]} exited (status $st) while the demo ran; the end of $DIR/logs/${NAMES[i]}.log:"
		tail -n 15 "$DIR/logs/${NAMES[i]}.log" | sed 's/^/    /'
		unset 'PIDS[i]' 'NAMES[i]'
		exit 1
	done
}
wait_http() { # name url: until it answers (any status), the process alive
	local end=$((SECONDS + 60))
	until curl -s -o /dev/null --max-time 2 "$2"; do
		check_alive
		[ $SECONDS -lt $end ] || die "$1 does not answer on $2 after 60 s (log: $DIR/logs/$1.log)"
		sleep 0.2
	done
}

# ---- the chain and its contracts --------------------------------------------------------------------
# The signer's transaction key: anvil's well-known public dev key #1 (never a real key).
export PRIVATE_KEY=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d # anvil public dev key #1
say "starting a chain (anvil, chain id 138) on port $CHAIN_PORT and deploying OracleAggregator ..."
# Started here, like every process (its pid known at once, stopped last); local-chain.sh then deploys
# on it (the chain it finds answering is this one: the port was free above).
ANVIL=$(tools/chain.sh bin anvil)
start anvil "$ANVIL" --host 127.0.0.1 --port "$CHAIN_PORT" --chain-id 138 --block-time 1
wait_http anvil "http://127.0.0.1:$CHAIN_PORT"
CHAIN_ENV=$DIR/chain.env FEEDS=ETH-USD deploy/local/local-chain.sh up >"$DIR/logs/chain.log" 2>&1 </dev/null ||
	{ cat "$DIR/logs/chain.log"; exit 1; }
# shellcheck disable=SC1091
. "$DIR/chain.env"
export RPC_URL
say "chain $RPC_URL, aggregator $AGGREGATOR_ADDRESS (ETH / USD, 8 decimals), transmitter $TRANSMITTER"

# Tokens (6 decimals): USD minted/burned by the signer's key (token-erc20), EUR by anvil's public dev
# key #0, the FireFly double's signing key (token-firefly). The holder is anvil's dev account #2.
FF_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 # anvil public dev key #0
FF_ADDR=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
HOLDER=0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC
say "deploying the USD and EUR PaymentTokens ..."
USD=$(TOKEN_SYMBOL=USDP tools/chain.sh deploy-token 6 "$TRANSMITTER" "$TRANSMITTER" 2>>"$DIR/logs/chain.log")
EUR=$(TOKEN_SYMBOL=EURP tools/chain.sh deploy-token 6 "$FF_ADDR" "$FF_ADDR" 2>>"$DIR/logs/chain.log")
say "USD token $USD (token-erc20), EUR token $EUR (FireFly pool eurc)"

# CCIP: the real send side from @chainlink/contracts-ccip's bytecode, and CcipEventEmitter for the
# destination's OffRamp/Router events (commits need signed OCR reports). Sent by anvil's public dev
# key #3, so that no other sender's nonces interleave.
CCIP_KEY=0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6 # anvil public dev key #3
say "deploying the CCIP send side (Router 1.2.0, OnRamp 1.6.0, FeeQuoter, NonceManager, RMNRemote) ..."
DEPLOYER_KEY=$CCIP_KEY node tests/chain/ccip/deploy_send_side.js >"$DIR/ccip-addrs.json" 2>>"$DIR/logs/chain.log" ||
	{ tail -20 "$DIR/logs/chain.log"; exit 1; }
tools/chain.sh compile CcipEventEmitter >/dev/null 2>>"$DIR/logs/chain.log"
OFFRAMP=$(DEPLOYER_KEY=$CCIP_KEY tools/chain.sh deploy CcipEventEmitter 2>>"$DIR/logs/chain.log")
ccip_addr() { py 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$DIR/ccip-addrs.json" "$1"; }
# (one command substitution per command: bash 5.2 can lose a trap that arrives during the second one)
ROUTER=$(ccip_addr router)
ONRAMP=$(ccip_addr onRamp)
SRC_SEL=$(ccip_addr localChainSelector)
DST_SEL=$(ccip_addr destChainSelector)
say "CCIP lane $SRC_SEL -> $DST_SEL: Router $ROUTER, OnRamp $ONRAMP, OffRamp stand-in $OFFRAMP"


# ---- the bus and the event view ---------------------------------------------------------------------
# Bus keys: the signer trusts price.update only from the gate and tx.request only from token-erc20; the
# submitter trusts tx.signed only from the signer; the signer, the gate and token-erc20 trust the
# submitter's messages; the backends trust token.request from the tokenizer, which trusts their results.
key() { "$B/bus-tap" --keygen; }
{ read -r _ GSEC; read -r _ GPUB; } < <(key)
{ read -r _ SSEC; read -r _ SPUB; } < <(key)
{ read -r _ XSEC; read -r _ XPUB; } < <(key)
{ read -r _ TSEC; read -r _ TPUB; } < <(key)
{ read -r _ ESEC; read -r _ EPUB; } < <(key)
{ read -r _ FSEC; read -r _ FPUB; } < <(key)
IN=ipc://$DIR/bus-in.ipc OUT=ipc://$DIR/bus-out.ipc
export BUS_PUB_URL=$IN BUS_SUB_URL=$OUT
http() { echo "HTTP_PORT=$((H + $1)) HTTP_ADDR=127.0.0.1"; } # the one HTTP port of the actor at offset $1
# shellcheck disable=SC2046
start busd env BUSD_INGRESS="$IN" BUSD_EGRESS="$OUT" JOURNAL_DIR="$DIR/state/busd" INSTANCE=busd $(http 0) "$B/busd"
wait_http busd "http://127.0.0.1:$H/health"

# The view: bus-tap's JSON frames through a fifo into tools/demo-events.py, whose lines go to this
# terminal; it also follows what the alert sink receives. Started before the actors: it sees everything.
mkfifo "$DIR/events.fifo"
setsid python3 tools/demo-events.py --sink-record "$DIR/alert-sink.jsonl" <"$DIR/events.fifo" 2>>"$DIR/logs/events.log" &
PIDS+=($!)
NAMES+=(events)
start_out bus-tap "$DIR/events.fifo" "$B/bus-tap" --url "$OUT" --topic price.agg. --topic price.update. \
	--topic tx.status --topic token.request --topic token.status --topic ccip.msg. --topic alert. --format json
for _ in $(seq 100); do
	[ "$(curl -s "http://127.0.0.1:$H/metrics" | awk '$1=="busd_subscribers"{print $2}')" = 1 ] && break
	sleep 0.1
done

# ---- Oracle Publisher -------------------------------------------------------------------------------
start_out price-sim "$DIR/price-sim.url" "$B/price-sim" --port 0 --feed ETH-USD=3000.00 --walk --walk-interval 3s \
	--walk-ppm 5000
for _ in $(seq 100); do [ -s "$DIR/price-sim.url" ] && break; check_alive; sleep 0.1; done
SIM=$(head -1 "$DIR/price-sim.url")
[ -n "$SIM" ] || die "price-sim printed no URL (log: $DIR/logs/price-sim.log)"
declare -A URL=(
	[coinbase]="$SIM/v2/prices/ETH-USD/spot"
	[binance]="$SIM/api/v3/ticker/price?symbol=ETHUSDT"
	[kraken]="$SIM/0/public/Ticker?pair=XETHZUSD"
)
off=1
for s in coinbase binance kraken; do
	# shellcheck disable=SC2046
	start "fetcher-$s" env SOURCES="$s=${URL[$s]}" FEED=ETH-USD FETCH_INTERVAL=2s INSTANCE="fetcher-$s" \
		$(http $off) "$B/fetcher"
	off=$((off + 1))
done
# shellcheck disable=SC2046
start median env WINDOW=10s QUORUM=2 INSTANCE=median $(http 4) "$B/median"
# shellcheck disable=SC2046
start submitter env BUS_SIGNING_KEY="$XSEC" BUS_TRUST="tx.signed=$SPUB" STATE_DIR="$DIR/state/submitter" \
	CHAIN_ID="$CHAIN_ID" SIGNER_ADDRESS="$TRANSMITTER" CONFIRMATIONS=1 FINALITY_DEPTH=5 INSTANCE=submitter \
	$(http 7) "$B/submitter"
# shellcheck disable=SC2046
start signer env BUS_SIGNING_KEY="$SSEC" STATE_DIR="$DIR/state/signer" CHAIN_ID="$CHAIN_ID" \
	BUS_TRUST="price.update.=$GPUB;tx.request=$EPUB;tx.ack=$XPUB;tx.bump=$XPUB;gas.quote=$XPUB;nonce.sync=$XPUB" \
	ALLOWED_CONTRACTS="$AGGREGATOR_ADDRESS,$USD" ALLOWED_SELECTORS=0x40c10f19,0x9dc29fac,0x23b872dd \
	GAS_PRICE=auto INSTANCE=signer $(http 6) "$B/signer"
# shellcheck disable=SC2046
start gate env BUS_SIGNING_KEY="$GSEC" BUS_TRUST="tx.status=$XPUB" FEED=ETH-USD \
	AGGREGATOR_ADDRESS="$AGGREGATOR_ADDRESS" CHAIN_ID="$CHAIN_ID" TRANSMITTER="$TRANSMITTER" \
	DEVIATION_THRESHOLD="${DEVIATION_THRESHOLD:-0.5}" HEARTBEAT="${HEARTBEAT:-30s}" MIN_INTERVAL=2s \
	STATE_DIR="$DIR/state/gate" INSTANCE=gate $(http 5) "$B/gate"

# ---- Financial Tokenization -------------------------------------------------------------------------
cat >"$DIR/token-config.json" <<JSON
{ "tokens": { "USD": { "backend": "erc20", "address": "$USD", "decimals": 6 },
              "EUR": { "backend": "firefly", "pool": "eurc", "decimals": 6 } },
  "accounts": { "254178963": "$HOLDER" },
  "redemption_accounts": [ "DE02100100109307118603" ] }
JSON
# shellcheck disable=SC2046
start token-erc20 env BUS_SIGNING_KEY="$ESEC" BUS_TRUST="token.request=$TPUB;token.status=$TPUB;tx.status=$XPUB" \
	CHAIN_ID="$CHAIN_ID" TOKENS="$USD" STATE_DIR="$DIR/state/token-erc20" INSTANCE=token-erc20 $(http 9) \
	"$B/token-erc20"
start firefly-double env FF_DOUBLE_PORT=$((H + 11)) FF_DOUBLE_KEYS="$FF_KEY" FF_DOUBLE_POOLS="eurc=$EUR" \
	node tests/chain/firefly-double.js
# shellcheck disable=SC2046
start token-firefly env BUS_SIGNING_KEY="$FSEC" BUS_TRUST="token.request=$TPUB;token.status=$TPUB" \
	FIREFLY_URL="http://127.0.0.1:$((H + 11))" STATE_DIR="$DIR/state/token-firefly" INSTANCE=token-firefly \
	$(http 10) "$B/token-firefly"
# shellcheck disable=SC2046
start tokenizer env BUS_SIGNING_KEY="$TSEC" BUS_TRUST="token.result=$EPUB,$FPUB" TOKEN_CONFIG="$DIR/token-config.json" \
	STATE_DIR="$DIR/state/tokenizer" INSTANCE=tokenizer $(http 8) "$B/tokenizer"
TOK=http://127.0.0.1:$((H + 8))

# ---- CCIP Monitor -----------------------------------------------------------------------------------
cat >"$DIR/ccip.json" <<JSON
{"chains":[
 {"name":"local","selector":"$SRC_SEL","chain_id":138,"rpc_url":"$RPC_URL","router":"$ROUTER","contracts":["$ONRAMP"]},
 {"name":"remote","selector":"$DST_SEL","chain_id":138,"rpc_url":"$RPC_URL","router":"$OFFRAMP","contracts":["$OFFRAMP"]}]}
JSON
# shellcheck disable=SC2046
start ccip-tail env CCIP_CONFIG="$DIR/ccip.json" DATA_DIR="$DIR/state/ccip-tail" MONITORING_INTERVAL=1s \
	CONFIRMATIONS=0 START_BLOCK=0 OVERDUE_AFTER=10m COMMIT_OVERDUE_AFTER=5m INSTANCE=ccip-tail $(http 12) \
	"$B/ccip-tail"
start alert-sink "$B/alert-sink-double" --port $((H + 14)) --record "$DIR/alert-sink.jsonl" --secret demo-webhook-key
# WEBHOOK_SECRET in the environment is for this demo only (a deployment uses secret_file: actors/alerter)
# shellcheck disable=SC2046
start alerter env STATE_DIR="$DIR/state/alerter" WEBHOOK_URL="http://127.0.0.1:$((H + 14))/hook" \
	WEBHOOK_SECRET=demo-webhook-key RETRY_INITIAL=500ms INSTANCE=alerter $(http 13) "$B/alerter"

names=(busd fetcher-coinbase fetcher-binance fetcher-kraken median gate signer submitter tokenizer token-erc20
	token-firefly firefly-double ccip-tail alerter alert-sink)
for i in "${!names[@]}"; do
	case ${names[i]} in
	firefly-double) wait_http firefly-double "http://127.0.0.1:$((H + 11))/api/v1/status" ;;
	alert-sink) wait_http alert-sink "http://127.0.0.1:$((H + 14))/" ;;
	*) wait_http "${names[i]}" "http://127.0.0.1:$((H + i))/health" ;;
	esac
done
echo
say "every process is up (each: GET /health and /metrics on its port; logs in $DIR/logs):"
say "  busd :$H, fetchers :$((H + 1))-$((H + 3)), median :$((H + 4)), gate :$((H + 5)), signer :$((H + 6)), submitter :$((H + 7))"
say "  tokenizer :$((H + 8)) (POST /payments), token-erc20 :$((H + 9)), token-firefly :$((H + 10)), FireFly double :$((H + 11))"
say "  ccip-tail :$((H + 12)) (GET /messages/<id>), alerter :$((H + 13)) -> webhook sink :$((H + 14))"
say "the bus: publish $IN, subscribe $OUT"
say "  watch it:       $B/bus-tap --url $OUT --topic price. --format pretty"
say "  its journal:    $B/bus-replay --journal $DIR/state/busd list   (or dump, stats, publish)"
say "Ctrl-C stops everything."
echo

# ---- the story, then the watch (in the background: see "Ctrl-C" below) -------------------------------
# Two payments; two CCIP messages, the second failing (an alert) then re-executed; then, until Ctrl-C,
# the contract's answer whenever it changes, and the payments' pacs.002 once they settled.
PAY_IDS=()
post_payment() { # file what
	local out id
	out=$(curl -s --data-binary @"$1" "$TOK/payments" || true)
	id=$(printf '%s' "$out" | py 'import json,sys
try: print(json.load(sys.stdin)["payments"][0]["payment"]["id"])
except Exception: pass' 2>/dev/null || true)
	say "posted $2 to the tokenizer -> payment ${id:-(refused: $out)}"
	[ -z "$id" ] || PAY_IDS+=("$id")
}
ccip_tx() {
	tools/chain.sh cast send -q --rpc-url "$RPC_URL" --private-key "$CCIP_KEY" "$@" >>"$DIR/logs/ccip-sends.log" 2>&1 ||
		die "cast send $2 failed (log: $DIR/logs/ccip-sends.log)"
}
ccip_send() { # receiver data -> message id
	DEPLOYER_KEY=$CCIP_KEY node tests/chain/ccip/send.js "$DIR/ccip-addrs.json" "$1" "$2" 2>>"$DIR/logs/ccip-sends.log" |
		py 'import json,sys; print(json.load(sys.stdin)["message"]["messageId"])'
}
delivered() { local n; n=$(grep -c "$1" "$DIR/alert-sink.jsonl" 2>/dev/null) || n=0; echo "${n:-0}"; }
human() { # integer decimals -> 3,012.45 (exact)
	py 'import sys; from decimal import Decimal as D; print(f"{D(sys.argv[1]).scaleb(-int(sys.argv[2])):,.2f}")' "$1" "$2"
}
story() {
	# The public CBPR+ pacs.008 (USD 136500.00, a mint to the holder) and an MT103 (EUR 2500.00).
	post_payment payments/testdata/iso/ballerina_p_2_1_2_mt103_pacs_008_A_B.xml "a pacs.008 (USD 136,500.00)"
	printf '%s\r\n' '{1:F01CHASUS33XXXX0000000000}{2:O1031013210511CHASGB2LXXXX00000000002105111013N}{3:{121:8a7e1f4c-3b2d-4c5e-9f60-0d1e2f3a4b5c}}{4:' \
		':20:DEMOEUR0001' ':23B:CRED' ':32A:210511EUR2500,00' ':50F:/96325874' '1/GB Engineering' '2/Industrial Park' \
		'3/GB/Cambridge' ':52A:CHASGB2LXXX' ':59F:/254178963' '1/US Engines' '2/20 Main St' '3/US/Casper WY' ':71A:SHA' \
		>"$DIR/demo-mt103.fin"
	printf '%s' '-}' >>"$DIR/demo-mt103.fin"
	post_payment "$DIR/demo-mt103.fin" "an MT103 (EUR 2,500.00)"

	local m1 m2 revert end
	m1=$(ccip_send 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 0x68656c6c6f2066726f6d20746865206f7261636c656275732064656d6f) ||
		die "Router.ccipSend failed (log: $DIR/logs/ccip-sends.log)"
	m2=$(ccip_send 0x90F79bf6EB2c4f870365E785982E1f101E93b906 0x) || die "Router.ccipSend failed (log: $DIR/logs/ccip-sends.log)"
	say "sent two CCIP messages with Router.ccipSend: $m1, $m2; committing both, executing the first ..."
	ccip_tx "$OFFRAMP" "commit16(uint64,address,uint64,uint64,bytes32)" "$SRC_SEL" "$ONRAMP" 1 2 0x$(printf '%064x' 138)
	ccip_tx "$OFFRAMP" "exec16(uint64,uint64,bytes32,uint8,bytes)" "$SRC_SEL" 1 "$m1" 2 0x
	ccip_tx "$OFFRAMP" "routerExecuted(bytes32,uint64)" "$m1" "$SRC_SEL"
	revert=$(tools/chain.sh cast calldata "Error(string)" "receiver: out of gas")
	say "... and the second fails on the destination (its receiver reverts): ccip-tail raises an alert"
	ccip_tx "$OFFRAMP" "exec16(uint64,uint64,bytes32,uint8,bytes)" "$SRC_SEL" 2 "$m2" 3 "$revert"
	end=$((SECONDS + 60))
	while [ "$(delivered ccip_failure)" -lt 1 ] && [ $SECONDS -lt $end ]; do sleep 0.5; done
	say "re-executing the failed message by hand (manual execution): the alert resolves"
	ccip_tx "$OFFRAMP" "exec16(uint64,uint64,bytes32,uint8,bytes)" "$SRC_SEL" 2 "$m2" 2 0x
}
shown_round= pacs_shown=
show_chain() {
	local line r a u now ans at
	line=$(tools/chain.sh latest "$AGGREGATOR_ADDRESS" 2>/dev/null) || { say "latestRoundData unavailable"; return 0; }
	r=$(sed -n 's/.*roundId=\([0-9]*\).*/\1/p' <<<"$line")
	a=$(sed -n 's/.*answer=\([-0-9]*\).*/\1/p' <<<"$line")
	u=$(sed -n 's/.*updatedAt=\([0-9]*\).*/\1/p' <<<"$line")
	[ "$r" != "$shown_round" ] || return 0
	shown_round=$r
	now=$(date +%T)
	if [ "${r:-0}" = 0 ]; then
		echo "$now  chain    ETH-USD latestRoundData: no round yet"
	else
		ans=$(human "$a" 8)
		at=$(date -d "@$u" +%T)
		echo "$now  chain    ETH-USD latestRoundData: round $r, $ans USD, updated $at"
	fi
}
show_payments() {
	local id s all=1 sts now usd eur
	[ -z "$pacs_shown" ] && [ ${#PAY_IDS[@]} -gt 0 ] || return 0
	for id in "${PAY_IDS[@]}"; do
		s=$(curl -sf "$TOK/payments/$id" | py 'import json,sys; d=json.load(sys.stdin); print(d.get("payment", d).get("state"))' 2>/dev/null || echo "?")
		[ "$s" = confirmed ] || [ "$s" = failed ] || all=
	done
	[ -n "$all" ] || return 0
	pacs_shown=1
	for id in "${PAY_IDS[@]}"; do
		sts=$(curl -sf "$TOK/payments/$id/pacs002" | grep -o '<TxSts>[A-Z]*</TxSts>' || echo '?')
		now=$(date +%T)
		echo "$now  pacs.002 of payment $id (GET $TOK/payments/$id/pacs002): $sts"
	done
	usd=$(tools/chain.sh cast call --rpc-url "$RPC_URL" "$USD" "balanceOf(address)(uint256)" "$HOLDER" | awk '{print $1}')
	eur=$(tools/chain.sh cast call --rpc-url "$RPC_URL" "$EUR" "balanceOf(address)(uint256)" "$HOLDER" | awk '{print $1}')
	usd=$(human "$usd" 6)
	eur=$(human "$eur" 6)
	now=$(date +%T)
	echo "$now  tokens   holder $HOLDER: $usd USDP, $eur EURP"
}
watch() {
	local start_s=$SECONDS
	while :; do
		show_chain
		show_payments
		if [ -n "${DEMO_SECONDS:-}" ] && [ $((SECONDS - start_s)) -ge "$DEMO_SECONDS" ]; then return 0; fi
		sleep 1
	done
}

# Ctrl-C: the story and the watch run in a background subshell (which ignores SIGINT, as bash makes
# every background job do, so its curl, cast and python calls are not cut half way), and this shell
# only waits (`wait -n`), which a trapped signal always interrupts; a trap that arrives while this shell
# expands a command substitution can be lost (bash 5.2).
# It runs in its own process group (set -m for its start), so that the stop ends it with whatever
# command it is in.
set -m
( trap - EXIT; story; watch ) &
WATCHER=$!
set +m
while :; do
	done_pid=
	st=0
	wait -n -p done_pid || st=$?
	[ -n "$done_pid" ] || continue
	if [ "$done_pid" = "$WATCHER" ]; then
		WATCHER=
		[ $st -eq 0 ] || die "the demo's story failed (status $st)"
		exit 0 # DEMO_SECONDS passed
	fi
	for i in "${!PIDS[@]}"; do
		[ "${PIDS[i]}" = "$done_pid" ] || continue
		say "${NAMES[i]} exited (status $st) while the demo ran; the end of $DIR/logs/${NAMES[i]}.log:"
		tail -n 15 "$DIR/logs/${NAMES[i]}.log" | sed 's/^/    /'
		unset 'PIDS[i]' 'NAMES[i]'
		exit 1
	done
done
