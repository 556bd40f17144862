#!/usr/bin/env bash
# Configuration errors, all at once (issue 7 item 6), for every actor and the tools that read env:
#  1. each actor started with several independent bad settings exits 78 (EX_CONFIG) and names every
#     one of them in stderr (one line each), without echoing a secret;
#  2. each actor with a valid configuration passes `--check-config` (exit 0) without starting: no
#     state directory is created, no "started" line;
#  3. a valid median really starts (past validation: "started", its HTTP /health answers);
#  4. bus-tap and ethtx refuse a bad environment with the same exit code;
#  5. the feed bounds of one shard: the median's FEEDS, the gate's FEEDS_FILE, the signer's FEEDS,
#     FEEDS_FILE and ALLOWED_CONTRACTS take 1024 (--check-config passes), 1025 exit 78 naming the
#     bound; ALLOWED_SELECTORS 256 and 257.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
BUILD=${BUILD:-build}
B=$BUILD/bin
for a in busd fetcher median gate signer submitter ccip-tail alerter bus-tap ethtx; do
	[ -x "$B/$a" ] || { echo "missing $B/$a (run make)"; exit 1; }
done

# Keys: a valid BIP-340 pair for the bus, the secp256k1 order n (not a key), an all-zero key.
{ read -r _ GSEC; read -r _ GPUB; } < <("$B/bus-tap" --keygen)
ORDER=fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141
ZERO=0000000000000000000000000000000000000000000000000000000000000000
ADDR=0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed    # EIP-55's own example
BADSUM=0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD  # the same with one letter's case flipped

# run NAME VAR=VALUE... -- runs build/bin/NAME (plus args after --) in a clean environment;
# sets RC and leaves stderr in $TMP/NAME.err
run() {
	local name=$1 args=()
	shift
	local envs=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
	[ "${1:-}" = -- ] && { shift; args=("$@"); }
	RC=0
	(cd "$TMP" && env -i PATH="$PATH" INSTANCE="$name-cfgtest" HTTP_PORT=0 "${envs[@]}" "$T_ROOT/$B/$name" "${args[@]}") \
		>"$TMP/$name.out" 2>"$TMP/$name.err" || RC=$?
}

# expect_errors NAME N 'needle' ...: exit 78, every needle in stderr, and exactly N "config:" lines
expect_errors() {
	local name=$1 n=$2
	shift 2
	[ "$RC" = 78 ] || { cat "$TMP/$name.err"; fail "$name: exit $RC, want 78"; }
	for needle in "$@"; do
		grep -qF -- "$needle" "$TMP/$name.err" || { cat "$TMP/$name.err"; fail "$name: stderr lacks: $needle"; }
	done
	local got
	got=$(grep -c '"msg":"config: ' "$TMP/$name.err" || true)
	[ "$got" = "$n" ] || { cat "$TMP/$name.err"; fail "$name: $got config lines, want $n"; }
	grep -q '"msg":"started"' "$TMP/$name.err" && fail "$name started with a bad configuration"
	for secret in "$ORDER" "$GSEC"; do
		grep -qi "$secret" "$TMP/$name.err" && fail "$name echoed a secret"
	done
	echo "  $name: exit 78, $n problems named"
}

echo "== 1. several independent bad settings per actor: every one named, exit 78"
run busd BUSD_INGRESS=tcp://256.1.1.1:7701 BUSD_EGRESS=tcp://127.0.0.1:99999 JOURNAL_BATCH=0 LOG_LEVEL=loud \
	JOURNAL_DIR="$TMP/busd-j"
expect_errors busd 4 "BUSD_INGRESS: 'tcp://256.1.1.1:7701' is not a bus URL: IPv4 octet 256 is above 255" \
	"BUSD_EGRESS: 'tcp://127.0.0.1:99999' is not a bus URL: port 99999 is not in 1..65535" \
	"JOURNAL_BATCH: '0' is out of range" "LOG_LEVEL: 'loud' is not a level"
[ -e "$TMP/busd-j" ] && fail "busd opened its journal with a bad configuration"

run fetcher BUS_PUB_URL=tcp://256.1.1.1:99999 SOURCES=cb:coinbase=ftp://x/y FETCH_INTERVAL=abc BUS_SIGNING_KEY=$ZERO
expect_errors fetcher 4 "BUS_PUB_URL: 'tcp://256.1.1.1:99999' is not a bus URL" \
	'SOURCES[0] \"cb\": url must be http:// or https://' "FETCH_INTERVAL: 'abc' is not a duration" \
	"BUS_SIGNING_KEY: not a valid secp256k1 secret key"
grep -q "BUS_SIGNING_KEY: required" "$TMP/fetcher.err" && fail "an all-zero key was called missing"

run median BUS_SUB_URL=http://busd:7702 FEEDS="ETH USD,BTC-USD" QUORUM=0 MAX_SPREAD=-1 BUS_TRUST=nonsense
expect_errors median 5 "BUS_SUB_URL: 'http://busd:7702' is not a bus URL: scheme 'http' is not a bus transport" \
	"FEEDS: 'ETH USD' is not a feed name" "QUORUM: '0' is out of range" "MAX_SPREAD: '-1' is not a percent" \
	"BUS_TRUST: trust rule 'nonsense'"

# The runtime's checks and the gate's own (no aggregator, a transmitter that is no address) in one pass.
run gate BUS_PUB_URL=tcp://busd HEARTBEAT=soon DEVIATION_THRESHOLD=-1 BUS_SIGNING_KEY=$ORDER TRANSMITTER=0x12
gate_needles=("BUS_PUB_URL: 'tcp://busd' is not a bus URL: no port" "HEARTBEAT: 'soon' is not a duration"
	"DEVIATION_THRESHOLD: '-1' is not a percent" "RPC_URL: required" "BUS_SIGNING_KEY: not a valid secp256k1"
	"AGGREGATOR_ADDRESS: required" "TRANSMITTER: not an address")
expect_errors gate 7 "${gate_needles[@]}"
# batches (issue 12): the call, the contract, the sender, the name
run gate RPC_URL=http://127.0.0.1:1 FEED=ETH-USD AGGREGATOR_ADDRESS=$ADDR BUS_SIGNING_KEY="$GSEC" BATCH_CALL=multicall BATCH_MAX=65
expect_errors gate 2 "BATCH_CALL: 'multicall' is not off, aggregate3 or updateAnswers" "BATCH_MAX: '65' is out of range"
run gate RPC_URL=http://127.0.0.1:1 FEED=ETH-USD AGGREGATOR_ADDRESS=$ADDR BUS_SIGNING_KEY="$GSEC" BATCH_CALL=updateAnswers \
	BATCH_NAME=ETH-USD UPDATE_SIGNATURE='submit(uint256,int256)'
expect_errors gate 5 "BATCH_CONTRACT: required with BATCH_CALL=updateAnswers" \
	"BATCH_CALL: updateAnswers makes OracleBatcher call updateAnswer(int256)" "BATCH_NAME: 'ETH-USD' is also a feed's name" \
	"BATCH_CALL: feed ETH-USD has no transmitter"

printf '{"feeds": [{"feed": "ETH-USD", "aggregator": "0x12"}]}' >"$TMP/signer-feeds.json"
run signer PRIVATE_KEY=$ORDER ALLOWED_CONTRACTS=0x1234 TX_TYPE=fast GAS_PRICE=cheap FEEDS_FILE="$TMP/signer-feeds.json" \
	BATCH_MAX=0 STATE_DIR="$TMP/signer-state"
expect_errors signer 7 "PRIVATE_KEY: not a valid secp256k1 secret key" "ALLOWED_CONTRACTS: '0x1234' is not an address" \
	"TX_TYPE: 'fast' is neither legacy nor eip1559" "GAS_PRICE: 'cheap' is not an amount in wei" \
	"FEEDS_FILE: feed ETH-USD: aggregator is not an address" "BATCH_MAX: '0' is out of range" \
	"BUS_TRUST: must list the publisher keys of price.update."
[ -e "$TMP/signer-state" ] && fail "the signer opened its state with a bad configuration"
run signer PRIVATE_KEY=$ZERO BUS_TRUST="price.update.=$GPUB"
expect_errors signer 2 "PRIVATE_KEY: not a valid secp256k1 secret key" \
	"ALLOWED_CONTRACTS: required (or AGGREGATOR_ADDRESS, or aggregators in FEEDS_FILE)"

run submitter RPC_URL=http://300.0.0.1:8545 SIGNER_ADDRESS=$BADSUM CONFIRMATIONS=-1 BUMP_PERCENT=5 STATE_DIR="$TMP/sub-state"
expect_errors submitter 4 "RPC_URL: 'http://300.0.0.1:8545' is not an HTTP(S) URL: IPv4 octet 300 is above 255" \
	"SIGNER_ADDRESS: '$BADSUM' has a wrong EIP-55 checksum" "CONFIRMATIONS: '-1' is not an unsigned integer" \
	"BUMP_PERCENT: '5' is out of range"
[ -e "$TMP/sub-state" ] && fail "the submitter opened its state with a bad configuration"

run ccip-tail RPC_URL=ftp://node CCIP_CONTRACTS=0x12 MONITORING_INTERVAL=1ms
expect_errors ccip-tail 4 "RPC_URL: 'ftp://node' is not an HTTP(S) URL" "CHAIN_SELECTOR: required with CCIP_CONTRACTS" \
	"CCIP_CONTRACTS:" "MONITORING_INTERVAL: '1ms' is out of range"

# The two HTTP forms at once, and a bus-keys directory without its trust list (tools/bus-keys.sh makes both).
mkdir -p "$TMP/nokeys"
run median HTTP_PORT=9100 METRICS_PORT=9200 BUS_KEYS_DIR="$TMP/nokeys"
expect_errors median 2 "HTTP_PORT: set either HTTP_PORT (one port for everything) or METRICS_PORT/HEALTH_PORT" \
	"BUS_KEYS_DIR: $TMP/nokeys/trust: no such file (make the directory with tools/bus-keys.sh)"

run alerter ALERTMANAGER_URL=http://am:70000 CONFIG_FILE="$TMP/none.json" RESEND_INTERVAL=10ms SINK_FAILING_AFTER=0 \
	SLACK_WEBHOOK_URL=hooks.slack.com/T0/B0/SECRETTOKEN
expect_errors alerter 5 "ALERTMANAGER_URL: 'http://am:70000' is not an HTTP(S) URL: port 70000 is not in 1..65535" \
	"CONFIG_FILE: $TMP/none.json" "RESEND_INTERVAL: '10ms' is out of range" "SINK_FAILING_AFTER: '0' is out of range" \
	"SLACK_WEBHOOK_URL: value (hidden) is not an HTTP(S) URL"
grep -q SECRETTOKEN "$TMP/alerter.err" && fail "the alerter echoed the Slack webhook URL"

echo "== 2. valid configurations pass --check-config without starting"
check_ok() {
	local name=$1
	[ "$RC" = 0 ] || { cat "$TMP/$name.err"; fail "$name --check-config: exit $RC, want 0"; }
	grep -q '"msg":"configuration valid (--check-config)"' "$TMP/$name.err" || fail "$name: no validation message"
	grep -q '"msg":"started"' "$TMP/$name.err" && fail "$name started under --check-config"
	echo "  $name: valid"
}
run busd BUSD_INGRESS="ipc://$TMP/in.ipc" BUSD_EGRESS="tcp://*:7702" JOURNAL_DIR="$TMP/busd-j" -- --check-config
check_ok busd
[ -e "$TMP/busd-j" ] && fail "busd --check-config created its journal"
run fetcher SOURCES=cb:coinbase=http://127.0.0.1:1/v2/prices/ETH-USD/spot BUS_SIGNING_KEY="$GSEC" -- --check-config
check_ok fetcher
run median FEEDS=ETH-USD,BTC-USD BUS_PUB_URL="tcp://[::1]:7701,ipc://$TMP/x" -- --check-config
check_ok median
run gate RPC_URL=http://127.0.0.1:1 FEED=ETH-USD AGGREGATOR_ADDRESS=$ADDR TRANSMITTER=$ADDR BUS_SIGNING_KEY="$GSEC" -- --check-config
check_ok gate
printf '{"feeds": [{"feed": "ETH-USD", "aggregator": "%s"}]}' "$ADDR" >"$TMP/signer-feeds.json"
run signer PRIVATE_KEY=0x0000000000000000000000000000000000000000000000000000000000000001 \
	BUS_TRUST="price.update.=$GPUB" ALLOWED_CONTRACTS=$ADDR FEEDS_FILE="$TMP/signer-feeds.json" \
	STATE_DIR="$TMP/signer-state" -- --check-config
check_ok signer
[ -e "$TMP/signer-state" ] && fail "signer --check-config created its state"
run submitter RPC_URL=http://127.0.0.1:1,https://rpc.example.org SIGNER_ADDRESS=$ADDR STATE_DIR="$TMP/sub-state" -- --check-config
check_ok submitter
run ccip-tail RPC_URL=http://127.0.0.1:1 CHAIN_SELECTOR=16015286601757825753 CCIP_ROUTER_ADDRESS=$ADDR \
	DATA_DIR="$TMP/ct" -- --check-config
check_ok ccip-tail
run alerter ALERTMANAGER_URL=http://127.0.0.1:9093 STATE_DIR="$TMP/al" -- --check-config
check_ok alerter
[ -e "$TMP/ct" ] || [ -e "$TMP/al" ] || [ -e "$TMP/sub-state" ] && fail "--check-config created a state directory"

echo "== 3. a valid median starts (past validation)"
HP=$(free_port)
env -i PATH="$PATH" HTTP_PORT=0 BUSD_INGRESS="ipc://$TMP/in.ipc" BUSD_EGRESS="ipc://$TMP/out.ipc" JOURNAL_DIR= \
	"$B/busd" 2>"$TMP/busd.log" &
PIDS+=($!)
env -i PATH="$PATH" BUS_PUB_URL="ipc://$TMP/in.ipc" BUS_SUB_URL="ipc://$TMP/out.ipc" HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 \
	"$B/median" 2>"$TMP/median.log" &
PIDS+=($!)
wait_for 20 "median started" grep -q '"msg":"median ready"' "$TMP/median.log"
wait_for 20 "median /health" curl -fsS "http://127.0.0.1:$HP/health"
echo "  median: started, /health answers"

echo "== 4. tools: bus-tap and ethtx refuse a bad environment with 78"
RC=0
env -i PATH="$PATH" BUS_SUB_URL=tcp://1.2.3.4:0 BUS_TRUST=x "$B/bus-tap" --count 1 2>"$TMP/tap.err" || RC=$?
[ "$RC" = 78 ] || fail "bus-tap: exit $RC, want 78"
grep -q "BUS_SUB_URL: 'tcp://1.2.3.4:0' is not a bus URL: port 0" "$TMP/tap.err" || fail "bus-tap: no BUS_SUB_URL line"
grep -q "BUS_TRUST: trust rule 'x'" "$TMP/tap.err" || fail "bus-tap: no BUS_TRUST line"
RC=0
env -i PATH="$PATH" ETHTX_KEY=$ORDER "$B/ethtx" address 2>"$TMP/ethtx.err" || RC=$?
[ "$RC" = 78 ] || fail "ethtx: exit $RC, want 78"
grep -q "ETHTX_KEY must hold a valid secp256k1 private key" "$TMP/ethtx.err" || fail "ethtx: message"
echo "  bus-tap, ethtx: exit 78"
echo "== 5. feeds of one shard: at the bound valid, one over refused (78)"
MAXF=1024
names() { seq -f 'F%g-USD' 0 $(($1 - 1)) | paste -sd, -; }
addrs() { for i in $(seq 1 "$1"); do printf '0x%040x\n' "$i"; done | paste -sd, -; }
feeds_file() { # N FILE: {"feeds":[{"feed","aggregator"}...]} of N feeds
	python3 - "$1" >"$2" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps({"feeds": [{"feed": "F%d-USD" % i, "aggregator": "0x%040x" % (i + 1)} for i in range(n)]}))
PY
}
run median FEEDS="$(names $MAXF)" -- --check-config
check_ok median
run median FEEDS="$(names $((MAXF + 1)))"
expect_errors median 1 "FEEDS: more than $MAXF items ($((MAXF + 1)) given)"
feeds_file $MAXF "$TMP/gate-max.json"
feeds_file $((MAXF + 1)) "$TMP/gate-over.json"
run gate RPC_URL=http://127.0.0.1:1 FEEDS_FILE="$TMP/gate-max.json" TRANSMITTER=$ADDR BUS_SIGNING_KEY="$GSEC" -- --check-config
check_ok gate
run gate RPC_URL=http://127.0.0.1:1 FEEDS_FILE="$TMP/gate-over.json" TRANSMITTER=$ADDR BUS_SIGNING_KEY="$GSEC"
expect_errors gate 1 "FEEDS_FILE: $((MAXF + 1)) feeds, at most $MAXF"
SKEY=0x0000000000000000000000000000000000000000000000000000000000000001
run signer PRIVATE_KEY=$SKEY BUS_TRUST="price.update.=$GPUB" ALLOWED_CONTRACTS="$(addrs $MAXF)" FEEDS="$(names $MAXF)" \
	FEEDS_FILE="$TMP/gate-max.json" ALLOWED_SELECTORS="$(seq -f '0x%08g' 1 256 | paste -sd, -)" \
	STATE_DIR="$TMP/signer-state" -- --check-config
check_ok signer
run signer PRIVATE_KEY=$SKEY BUS_TRUST="price.update.=$GPUB" ALLOWED_CONTRACTS="$(addrs $((MAXF + 1)))" \
	FEEDS="$(names $((MAXF + 1)))" FEEDS_FILE="$TMP/gate-over.json" \
	ALLOWED_SELECTORS="$(seq -f '0x%08g' 1 257 | paste -sd, -)" STATE_DIR="$TMP/signer-state"
expect_errors signer 4 "ALLOWED_CONTRACTS: more than $MAXF items ($((MAXF + 1)) given)" \
	"FEEDS: more than $MAXF items ($((MAXF + 1)) given)" "FEEDS_FILE: $((MAXF + 1)) feeds, at most $MAXF" \
	"ALLOWED_SELECTORS: more than 256 items (257 given)"
[ -e "$TMP/signer-state" ] && fail "the signer opened its state with a bad configuration"
echo "PASS config_errors"
