#!/usr/bin/env bash
# Configuration errors, all at once (issue 7 item 6), for every actor and the tools that read env:
#  1. each actor started with several independent bad settings exits 78 (EX_CONFIG) and names every
#     one of them in stderr (one line each), without echoing a secret; the tokenization actors
#     check their files the same way (every problem of the token mapping file, with its JSON path),
#     and --check-config fails on them exactly as a start does;
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
for a in busd fetcher median gate signer submitter ccip-tail alerter tokenizer token-firefly token-erc20 bus-tap ethtx; do
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

# Defaults that disagree with each other (actors/gate/README.md "Consistency"): each contradiction
# alone is a valid setting, so the runtime's per-variable checks pass and only the gate's own
# cross-check can name them - all of them, per feed.
run gate RPC_URL=http://127.0.0.1:1 FEED=ETH-USD AGGREGATOR_ADDRESS=$ADDR BUS_SIGNING_KEY="$GSEC" GAS_ESTIMATE=true \
	HEARTBEAT=10s MIN_INTERVAL=20s AGG_MAX_AGE=30s UPDATE_TIMEOUT=5s BACKOFF_MAX=2s
expect_errors gate 5 "feed ETH-USD: no transmitter (TRANSMITTER, or the feed's \\\"transmitter\\\"): needed to estimate" \
	"feed ETH-USD: MIN_INTERVAL 20000 ms exceeds HEARTBEAT 10000 ms: the heartbeat cannot be kept" \
	"feed ETH-USD: AGG_MAX_AGE 30000 ms exceeds HEARTBEAT 10000 ms" \
	"feed ETH-USD: UPDATE_TIMEOUT 5000 ms is shorter than MIN_INTERVAL 20000 ms" \
	"feed ETH-USD: BACKOFF_MAX 2000 ms is shorter than MIN_INTERVAL 20000 ms"
# ...against each feed's own heartbeat and min_interval in a FEEDS_FILE: ETH-USD keeps the defaults
# (1h, 5s: consistent with AGG_MAX_AGE 2m), BTC-USD's 1m heartbeat is below AGG_MAX_AGE and below its
# own 90s min_interval, which also outlasts UPDATE_TIMEOUT 1m; a third feed with a heartbeat of 0
# (never) has no heartbeat to compare with.
printf '{"feeds": [{"feed": "ETH-USD", "aggregator": "%s"},
	{"feed": "BTC-USD", "aggregator": "%s", "heartbeat": "1m", "min_interval": "90s"},
	{"feed": "LINK-USD", "aggregator": "%s", "heartbeat": "0"}]}' "$ADDR" "$ADDR" "$ADDR" >"$TMP/gate-feeds.json"
run gate RPC_URL=http://127.0.0.1:1 FEEDS_FILE="$TMP/gate-feeds.json" TRANSMITTER=$ADDR BUS_SIGNING_KEY="$GSEC" \
	AGG_MAX_AGE=2m UPDATE_TIMEOUT=1m
expect_errors gate 3 "feed BTC-USD: MIN_INTERVAL 90000 ms exceeds HEARTBEAT 60000 ms" \
	"feed BTC-USD: AGG_MAX_AGE 120000 ms exceeds HEARTBEAT 60000 ms" \
	"feed BTC-USD: UPDATE_TIMEOUT 60000 ms is shorter than MIN_INTERVAL 90000 ms"
grep -q "feed ETH-USD\|feed LINK-USD" "$TMP/gate.err" && { cat "$TMP/gate.err"; fail "gate: a consistent feed was refused"; }
# the limits themselves are allowed: AGG_MAX_AGE = HEARTBEAT, MIN_INTERVAL = HEARTBEAT = UPDATE_TIMEOUT
sed 's/"min_interval": "90s"/"min_interval": "1m"/' "$TMP/gate-feeds.json" >"$TMP/gate-feeds-ok.json"
run gate RPC_URL=http://127.0.0.1:1 FEEDS_FILE="$TMP/gate-feeds-ok.json" TRANSMITTER=$ADDR BUS_SIGNING_KEY="$GSEC" \
	AGG_MAX_AGE=1m UPDATE_TIMEOUT=1m BACKOFF_MAX=1m -- --check-config
[ "$RC" = 0 ] || { cat "$TMP/gate.err"; fail "gate: exit $RC with every duration at its limit, want 0"; }
echo "  gate: contradicting durations named per feed; each at its limit is accepted"

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

# The tokenization actors: every problem of the mapping file with its JSON path, and the settings'.
cat >"$TMP/tok-bad.json" <<EOF
{"tokens": {"EUR": {"backend": "fabric", "pool": "eurc", "decimals": 1},
            "USD": {"backend": "erc20", "decimals": 6, "address": "$BADSUM"}},
 "accounts": {"DE89370400440532013000": {"address": "$ADDR", "status": "frozen"}},
 "redemption_accounts": ["DE89 3704 0044 0532 0130 00"]}
EOF
tok_needles=("TOKEN_CONFIG: tokens.EUR.backend: expected" "TOKEN_CONFIG: tokens.EUR.decimals: 1 is fewer than the 2 minor units of EUR"
	"TOKEN_CONFIG: tokens.USD.address: not a non-zero 0x address"
	"TOKEN_CONFIG: accounts.DE89370400440532013000.status: expected open, closed or blocked"
	"TOKEN_CONFIG: redemption_accounts[0]: DE89 3704 0044 0532 0130 00 is also a mapped account"
	"BATCH_MAX: '0' is out of range" "BUS_TRUST: trust rule 'nonsense'"
	"SPOOL_DIR: no intake: set SPOOL_DIR and/or a HEALTH_PORT or HTTP_PORT")
run tokenizer TOKEN_CONFIG="$TMP/tok-bad.json" BATCH_MAX=0 BUS_TRUST=nonsense STATE_DIR="$TMP/tok-state"
expect_errors tokenizer 8 "${tok_needles[@]}"
# --check-config is the same pass: the same lines, the same exit code, nothing created.
run tokenizer TOKEN_CONFIG="$TMP/tok-bad.json" BATCH_MAX=0 BUS_TRUST=nonsense STATE_DIR="$TMP/tok-state" -- --check-config
expect_errors tokenizer 8 "${tok_needles[@]}"
grep -q 'configuration valid' "$TMP/tokenizer.err" && fail "tokenizer --check-config called a bad mapping valid"
# A missing file and a spool directory that is not there (nothing is created to make it so).
run tokenizer TOKEN_CONFIG="$TMP/none.json" SPOOL_DIR="$TMP/no-spool" STATE_DIR="$TMP/tok-state"
expect_errors tokenizer 2 "TOKEN_CONFIG: $TMP/none.json" "SPOOL_DIR: $TMP/no-spool: No such file or directory"
[ -e "$TMP/tok-state" ] || [ -e "$TMP/no-spool" ] && fail "the tokenizer created a directory with a bad configuration"

run token-firefly FIREFLY_URL=http://ff:5000/api/v1 FIREFLY_NAMESPACE=-ns- FIREFLY_KEY=0x1234 POLL_INTERVAL=soon \
	STATE_DIR="$TMP/tok-bad.json"
expect_errors token-firefly 5 "FIREFLY_URL: ends in /api/v1: give the base URL" \
	"FIREFLY_NAMESPACE: '-ns-' is not a FireFly name" "FIREFLY_KEY: '0x1234' is not an address" \
	"POLL_INTERVAL: 'soon' is not a duration" "STATE_DIR: $TMP/tok-bad.json: not a directory"
run token-firefly FIREFLY_URL=ftp://ff FIREFLY_KEY=$BADSUM
expect_errors token-firefly 2 "FIREFLY_URL: 'ftp://ff' is not an HTTP(S) URL" "FIREFLY_KEY: '$BADSUM' has a wrong EIP-55 checksum"

run token-erc20 RPC_URL=http://node:99999 TOKENS="$BADSUM,0x0000000000000000000000000000000000000000,$ADDR,$ADDR" \
	BURN_FUNCTION=destroy CHAIN_ID=0 STATE_DIR="$TMP/erc20-state"
expect_errors token-erc20 6 "RPC_URL: 'http://node:99999' is not an HTTP(S) URL: port 99999" \
	"TOKENS: '$BADSUM' has a wrong EIP-55 checksum" \
	"TOKENS: '0x0000000000000000000000000000000000000000' is not an address: the zero address" \
	"TOKENS: '$ADDR' is listed twice" "BURN_FUNCTION: 'destroy' is neither burn nor burnFrom" "CHAIN_ID: '0' is out of range"
[ -e "$TMP/erc20-state" ] && fail "token-erc20 opened its state with a bad configuration"

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

cat >"$TMP/tok-good.json" <<EOF
{"tokens": {"EUR": {"backend": "firefly", "pool": "eurc", "decimals": 18},
            "USD": {"backend": "erc20", "decimals": 6, "address": "$ADDR"}},
 "accounts": {"DE89370400440532013000": {"address": "$ADDR", "status": "closed"}},
 "redemption_accounts": ["DE02100100109307118603"]}
EOF
mkdir -p "$TMP/spool"
run tokenizer TOKEN_CONFIG="$TMP/tok-good.json" SPOOL_DIR="$TMP/spool" STATE_DIR="$TMP/tok-state" -- --check-config
check_ok tokenizer
[ -e "$TMP/spool/done" ] && fail "tokenizer --check-config created the spool's subdirectories"
run token-firefly FIREFLY_URL=http://127.0.0.1:5000/ FIREFLY_KEY=$ADDR STATE_DIR="$TMP/ff-state" -- --check-config
check_ok token-firefly
run token-erc20 RPC_URL=http://127.0.0.1:1 TOKENS=$ADDR STATE_DIR="$TMP/erc20-state" -- --check-config
check_ok token-erc20
[ -e "$TMP/tok-state" ] || [ -e "$TMP/ff-state" ] || [ -e "$TMP/erc20-state" ] && fail "--check-config created a token actor's state"

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
