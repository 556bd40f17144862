# oracle_stack.sh - sourced by tests and benches: brings up the whole Oracle Publisher on a local
# chain in $TMP (anvil + OracleAggregator, busd, price-sim, 3 fetchers, median, gate, signer,
# submitter; bus keys and trust lists), and the helpers to drive and read it.
#
# Sources common.sh (TMP, fail, free_port, cleanup at exit). The caller may set BUILD, and before
# stack_up: FETCH_INTERVAL (300ms),
# DEVIATION_THRESHOLD (1), HEARTBEAT (12s), GATE_MIN_INTERVAL (1s), LOG_LEVEL (info),
# ORACLE_CONTRACT (oracle = our OracleAggregator with updateAnswer(int256); flux = Chainlink's
# FluxAggregator with submit(uint256,int256), the round read from oracleRoundState),
# SIGNER_KEY_SOURCE (key = PRIVATE_KEY; keystore = KEYSTORE_FILE written by ethers.js from KEY1,
# with KEYSTORE_PASSWORD_FILE; remote = REMOTE_SIGNER_URL: anvil itself signs for its unlocked
# ADDR1 over eth_signTransaction).
# STACK_TLS=1 runs the bus over tls+tcp:// with client certificates (a CA, busd's certificate and one
# for the pods made with openssl in $TMP/pki; every actor gets BUS_TLS_CERT/KEY/CA).
# After stack_up: RPC_URL, AGG, ADDR1, IN, OUT, SIM, BPORT (busd HTTP), MPORT (median HTTP),
# SGPORT (signer HTTP), GTPORT (gate HTTP), UPDATE_SIG, PID[name] for every process; all are stopped
# at exit. stack_up returns once every subscriber (tap, median, gate, signer, submitter) is connected.
# Functions: ctl, price, round ("roundId answer"), nonce, wait_round, wait_answer, start_signer,
# start_submitter, start_gate, fail.

# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
STACK_ROOT=$T_ROOT
B=${BUILD:-build}/bin
CHAIN=$STACK_ROOT/tools/chain.sh
KEY1=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d # anvil's public dev key #1
ADDR1=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
declare -A PID
FAIL_TAIL=15
on_exit() { for p in "${PID[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
round() { "$CHAIN" latest "$AGG" 2>/dev/null | tr ' ' '\n' | awk -F= '$1=="roundId"{r=$2} $1=="answer"{a=$2} END{print r+0, a}'; }
nonce() { "$CHAIN" cast nonce --rpc-url "$RPC_URL" "$ADDR1" 2>/dev/null; }
round_ge() { local r a; read -r r a < <(round); [ "${r:-0}" -ge "$1" ]; }
answer_is() { local r a; read -r r a < <(round); [ "$a" = "$1" ]; }
# wait_round want_round timeout_s / wait_answer answer timeout_s -> print "round answer"; 1 on
# timeout (timeout_s x T_SLOW, see common.sh)
wait_round() { local rc=0; poll "$2" round_ge "$1" || rc=1; round; return $rc; }
wait_answer() { local rc=0; poll "$2" answer_is "$1" || rc=1; round; return $rc; }
ctl() { local o; o=$(curl -sS -f -X POST "$SIM/ctl/$1?$2" 2>&1) || fail "price-sim ctl $1 $2: $o"; }
price() { ctl set "feed=ETH-USD&price=$1"; }

start_gate() {
	BUS_SIGNING_KEY=$GSEC BUS_TRUST="tx.status=$XPUB" FEED=ETH-USD AGGREGATOR_ADDRESS=$AGG CHAIN_ID=138 TRANSMITTER=$ADDR1 \
		DEVIATION_THRESHOLD=${DEVIATION_THRESHOLD:-1} HEARTBEAT=${HEARTBEAT:-12s} \
		MIN_INTERVAL=${GATE_MIN_INTERVAL:-1s} UPDATE_TIMEOUT=30s CHAIN_POLL=2s \
		UPDATE_SIGNATURE="$UPDATE_SIG" STATE_DIR=$TMP/gate HTTP_PORT=$GTPORT HTTP_ADDR=127.0.0.1 INSTANCE=gate-e \
		"$B/gate" 2>>"$TMP/gate.log" &
	PID[gate]=$!
}
# The signer's key variables for SIGNER_KEY_SOURCE (see above), into the array SIGNER_KEY_ENV.
signer_key_env() {
	case ${SIGNER_KEY_SOURCE:-key} in
	key) SIGNER_KEY_ENV=(PRIVATE_KEY=$KEY1) ;;
	keystore)
		if [ ! -s "$TMP/keystore.json" ]; then
			# scrypt n = 2^14 keeps the test quick; ethers' default (2^17) is read in chain/keystore_test.c
			(cd "$STACK_ROOT/tests/chain" && node keystore.js "$KEY1" "stack password" "$TMP/keystore.json" 16384) \
				>"$TMP/keystore.addr" 2>>"$TMP/deploy.log" || fail "ethers could not write the keystore"
			[ "$(cat "$TMP/keystore.addr")" = "$ADDR1" ] || fail "ethers keystore address $(cat "$TMP/keystore.addr")"
			(umask 077 && printf 'stack password\n' >"$TMP/keystore.pw")
		fi
		SIGNER_KEY_ENV=(KEYSTORE_FILE="$TMP/keystore.json" KEYSTORE_PASSWORD_FILE="$TMP/keystore.pw") ;;
	remote) SIGNER_KEY_ENV=(REMOTE_SIGNER_URL="$RPC_URL" REMOTE_SIGNER_ADDRESS=$ADDR1) ;;
	*) fail "SIGNER_KEY_SOURCE=$SIGNER_KEY_SOURCE: key, keystore or remote" ;;
	esac
}
start_signer() {
	signer_key_env
	env "${SIGNER_KEY_ENV[@]}" BUS_SIGNING_KEY=$SSEC STATE_DIR=$TMP/signer CHAIN_ID=138 GAS_PRICE=auto \
		BUS_TRUST="price.update.=$GPUB;tx.ack=$XPUB;tx.bump=$XPUB;gas.quote=$XPUB;nonce.sync=$XPUB" \
		ALLOWED_CONTRACTS=$AGG MIN_ANSWER=1 MAX_ANSWER=100000 OUTBOX_RETRY=1s UPDATE_SIGNATURE="$UPDATE_SIG" \
		HTTP_PORT=$SGPORT HTTP_ADDR=127.0.0.1 INSTANCE=signer-e "$B/signer" 2>>"$TMP/signer.log" &
	PID[signer]=$!
}
start_submitter() {
	# SUBMITTER_SUB_FILTER=0: the submitter subscribes as a plain sub0 (takes every frame busd has)
	BUS_SUB_FILTER=${SUBMITTER_SUB_FILTER:-1} BUS_SIGNING_KEY=$XSEC BUS_TRUST="tx.signed=$SPUB" STATE_DIR=$TMP/submitter CHAIN_ID=138 \
		SIGNER_ADDRESS=$ADDR1 CONFIRMATIONS=1 FINALITY_DEPTH=3 POLL_INTERVAL=200ms NONCE_SYNC_INTERVAL=2s \
		GAS_QUOTE_INTERVAL=2s INSTANCE=submitter-e "$B/submitter" 2>>"$TMP/submitter.log" &
	PID[submitter]=$!
}

# The bus PKI for STACK_TLS=1 (actors/busd/README.md shows the same commands).
stack_pki() {
	local p=$TMP/pki n
	mkdir -p "$p"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$p/ca.key" -out "$p/ca.crt" \
		-days 3650 -subj /CN=oraclebus-bus-ca 2>>"$TMP/openssl.log" || fail "openssl CA"
	for n in busd pod; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$p/$n.key" -out "$p/$n.csr" \
			-subj "/CN=$n" 2>>"$TMP/openssl.log" || fail "openssl $n key"
		if [ $n = busd ]; then
			printf 'subjectAltName=DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'
		else
			printf 'extendedKeyUsage=clientAuth\n'
		fi >"$p/$n.ext"
		openssl x509 -req -in "$p/$n.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -days 825 \
			-extfile "$p/$n.ext" -out "$p/$n.crt" 2>>"$TMP/openssl.log" || fail "openssl $n cert"
	done
}

stack_up() {
	for b in busd bus-tap price-sim fetcher median gate signer submitter; do
		[ -x "$B/$b" ] || { echo "missing $B/$b (run make)"; exit 1; }
	done
	[ -x "$STACK_ROOT/tests/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" ] ||
		{ echo "tests/chain/node_modules missing: run make deps"; exit 1; }
	local cport
	cport=$(free_port)
	export RPC_URL=http://127.0.0.1:$cport
	ANVIL_PID=$(ANVIL_ARGS="--block-time 1" CHAIN_LOG=$TMP/anvil.log "$CHAIN" start "$cport")
	if [ "${ORACLE_CONTRACT:-oracle}" = flux ]; then
		"$CHAIN" compile FluxAggregator >/dev/null 2>"$TMP/deploy.log"
		AGG=$("$CHAIN" deploy-flux "$ADDR1" 2>>"$TMP/deploy.log")
		UPDATE_SIG="submit(uint256,int256)"
	else
		"$CHAIN" compile OracleAggregator >/dev/null 2>"$TMP/deploy.log"
		AGG=$("$CHAIN" deploy OracleAggregator 8 "ETH / USD" 0 0 "[\"$ADDR1\"]" 2>>"$TMP/deploy.log")
		UPDATE_SIG="updateAnswer(int256)"
	fi
	[[ "$AGG" =~ ^0x[0-9a-fA-F]{40}$ ]] || fail "deploy printed '$AGG'"

	IN=ipc://$TMP/in.ipc OUT=ipc://$TMP/out.ipc
	BPORT=$(free_port)
	local busd_tls=()
	if [ "${STACK_TLS:-0}" = 1 ]; then
		stack_pki
		IN=tls+tcp://127.0.0.1:$(free_port) OUT=tls+tcp://127.0.0.1:$(free_port)
		busd_tls=(BUS_TLS_CERT="$TMP/pki/busd.crt" BUS_TLS_KEY="$TMP/pki/busd.key" BUS_TLS_CA="$TMP/pki/ca.crt")
	fi
	env "${busd_tls[@]}" BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$TMP/journal INSTANCE=busd-e \
		HTTP_PORT=$BPORT HTTP_ADDR=127.0.0.1 "$B/busd" 2>"$TMP/busd.log" &
	PID[busd]=$!
	if [ "${STACK_TLS:-0}" = 1 ]; then
		export BUS_TLS_CERT=$TMP/pki/pod.crt BUS_TLS_KEY=$TMP/pki/pod.key BUS_TLS_CA=$TMP/pki/ca.crt
	fi
	{ read -r _ GSEC; read -r _ GPUB; } < <("$B/bus-tap" --keygen)
	{ read -r _ SSEC; read -r _ SPUB; } < <("$B/bus-tap" --keygen)
	{ read -r _ XSEC; read -r _ XPUB; } < <("$B/bus-tap" --keygen)
	export BUS_PUB_URL=$IN BUS_SUB_URL=$OUT LOG_LEVEL=${LOG_LEVEL:-info}

	"$B/price-sim" --port 0 --feed ETH-USD=3000 >"$TMP/sim.url" 2>"$TMP/sim.log" &
	PID[sim]=$!
	wait_for 5 "price-sim printed its URL" test -s "$TMP/sim.url"
	SIM=$(head -1 "$TMP/sim.url")
	[ -n "$SIM" ] || fail "price-sim printed no URL"

	"$B/bus-tap" --url "$OUT" --topic price.obs. --topic price.agg. --topic price.update. --topic tx.signed --topic tx.status \
		--topic alert. --timeout 900 >"$TMP/bus.jsonl" 2>"$TMP/tap.log" &
	PID[tap]=$!
	wait_subscribers "$BPORT" 1  # the tap sees everything from the first observation on

	local -A url=(
		[coinbase]="$SIM/v2/prices/ETH-USD/spot"
		[binance]="$SIM/api/v3/ticker/price?symbol=ETHUSDT"
		[kraken]="$SIM/0/public/Ticker?pair=XETHZUSD"
	)
	local s
	for s in coinbase binance kraken; do
		SOURCES="$s=${url[$s]}" FEED=ETH-USD FETCH_INTERVAL=${FETCH_INTERVAL:-300ms} HTTP_TIMEOUT=1s \
			RETRIES=0 INSTANCE=fetcher-$s "$B/fetcher" 2>"$TMP/fetcher-$s.log" &
		PID[fetcher-$s]=$!
	done
	MPORT=$(free_port)
	WINDOW=3s QUORUM=2 MAX_DEVIATION=2 MAX_SPREAD=5 AGG_INTERVAL=300ms MIN_PUBLISH_INTERVAL=1s \
		HTTP_PORT=$MPORT HTTP_ADDR=127.0.0.1 INSTANCE=median-e "$B/median" 2>"$TMP/median.log" &
	PID[median]=$!
	SGPORT=$(free_port) GTPORT=$(free_port)
	start_submitter
	start_signer
	start_gate
	wait_subscribers "$BPORT" 5
}
