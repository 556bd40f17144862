#!/usr/bin/env bash
# seed_publisher.sh - the seed's contract as an operator meets it (issue 11, item 1): the Oracle
# Publisher started from the seed's variables only (RPC_URL, AGGREGATOR_ADDRESS, PRIVATE_KEY,
# HEARTBEAT, DEVIATION_THRESHOLD) plus the bus keys directory made once by tools/bus-keys.sh, on
# anvil, and an update lands; the seed's ports (metrics 8000, health 8080) answer; a port already
# taken stops an actor with exit 1 and the port named; ccip-tail runs from CCIP_ROUTER_ADDRESS and
# MONITORING_INTERVAL and answers /health on 8080; a missing setting is refused at start, all named.
#
# Every actor uses its defaults for everything else: the bus on tcp://127.0.0.1:7701/7702, the feed
# ETH-USD, the state directories under the working directory, the ports 8000/8080. So the test runs
# in a network namespace of its own (unshare -rn: a private loopback, nothing else on the host can
# hold those ports); where user namespaces are not allowed it runs on the host if the ports are
# free. The one variable that is not the seed's: PUBLIC_SOURCES_ORIGIN, pointing the fetcher's
# default public sources (CoinGecko, Binance, Coinbase at their real paths) at tools/price-sim,
# since this machine reaches no internet.
set -euo pipefail
if [ -z "${SEED_NETNS:-}" ] && unshare -rn true 2>/dev/null; then
	exec unshare -rn env SEED_NETNS=1 bash "$0" "$@"
fi
if [ -n "${SEED_NETNS:-}" ]; then
	ip link set lo up
fi
. "$(dirname "$0")/../lib/common.sh"
B=$T_ROOT/${BUILD:-build}/bin
CHAIN=$T_ROOT/tools/chain.sh
for p in 7701 7702 8000 8080; do
	python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1',$p))" 2>/dev/null ||
		fail "port $p is taken on this host and no network namespace could be made (unshare -rn)"
done
cd "$TMP"

KEY1=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d # anvil's public dev key #1
ADDR1=0x70997970C51812dc3A010C7d01b50e0d17dc79C8

echo "== a chain with the seed's aggregator"
cport=$(free_port)
ANVIL_PID=$(ANVIL_ARGS="--block-time 1" CHAIN_LOG=$TMP/anvil.log "$CHAIN" start "$cport")
export RPC_URL=http://127.0.0.1:$cport
"$CHAIN" compile OracleAggregator >/dev/null 2>"$TMP/deploy.log"
AGG=$("$CHAIN" deploy OracleAggregator 8 "ETH / USD" 0 0 "[\"$ADDR1\"]" 2>>"$TMP/deploy.log")
[[ "$AGG" =~ ^0x[0-9a-fA-F]{40}$ ]] || fail "deploy printed '$AGG'"

echo "== the bus keys, made once"
"$T_ROOT/tools/bus-keys.sh" "$TMP/bus-keys" >/dev/null
[ "$(stat -c %a "$TMP/bus-keys/gate.key")" = 600 ] || fail "gate.key is not mode 0600"
"$T_ROOT/tools/bus-keys.sh" "$TMP/bus-keys" 2>/dev/null && fail "bus-keys.sh overwrote an existing directory"

"$B/price-sim" --port 0 --feed ETH-USD=3000 >"$TMP/sim.url" 2>"$TMP/sim.log" &
PIDS+=($!)
wait_for 10 "price-sim URL" test -s "$TMP/sim.url"
SIM=$(head -1 "$TMP/sim.url")

# The seed's settings, as its ConfigMap and Secret give them (HEARTBEAT in seconds, the threshold
# in percent), and the keys directory.
export RPC_URL AGGREGATOR_ADDRESS=$AGG PRIVATE_KEY=$KEY1 HEARTBEAT=60 \
	DEVIATION_THRESHOLD=0.5 BUS_KEYS_DIR=$TMP/bus-keys

echo "== anything missing is refused at start, every problem named"
rc=0
env -u PRIVATE_KEY "$B/signer" --check-config 2>"$TMP/signer-nokey.err" || rc=$?
[ $rc = 78 ] || fail "signer without PRIVATE_KEY: exit $rc, want 78"
grep -q 'PRIVATE_KEY: required' "$TMP/signer-nokey.err" || fail "signer: PRIVATE_KEY not named"
rc=0
env -u PRIVATE_KEY -u BUS_KEYS_DIR -u AGGREGATOR_ADDRESS "$B/submitter" --check-config 2>"$TMP/sub-none.err" || rc=$?
[ $rc = 78 ] || fail "submitter without PRIVATE_KEY or SIGNER_ADDRESS: exit $rc, want 78"
grep -q 'SIGNER_ADDRESS: required.*PRIVATE_KEY' "$TMP/sub-none.err" || fail "submitter: the fix is not named"
rc=0
env -u BUS_KEYS_DIR -u AGGREGATOR_ADDRESS "$B/gate" --check-config 2>"$TMP/gate-none.err" || rc=$?
[ $rc = 78 ] || fail "gate without keys and aggregator: exit $rc, want 78"
grep -q 'BUS_SIGNING_KEY: required' "$TMP/gate-none.err" && grep -q 'AGGREGATOR_ADDRESS: required' "$TMP/gate-none.err" ||
	fail "gate: not every problem listed"
for a in busd fetcher median gate signer submitter; do
	"$B/$a" --check-config 2>"$TMP/$a-check.err" || fail "$a refuses the seed's variables: $(tail -3 "$TMP/$a-check.err")"
done
echo "  every actor accepts the seed's variables; missing ones are named at start"

echo "== the publisher from the seed's variables"
# HTTP_PORT=0 (exported by common.sh for every test) keeps these off 8000/8080; the submitter, the
# seed's publisher with oracle_updates_sent_total, runs on the seed's ports.
"$B/busd" 2>"$TMP/busd.log" &
PIDS+=($!)
PUBLIC_SOURCES_ORIGIN=$SIM "$B/fetcher" 2>"$TMP/fetcher.log" &
PIDS+=($!)
"$B/median" 2>"$TMP/median.log" &
PIDS+=($!)
"$B/signer" 2>"$TMP/signer.log" &
PIDS+=($!)
env -u HTTP_PORT "$B/submitter" 2>"$TMP/submitter.log" &
SUB=$!
PIDS+=($SUB)
"$B/gate" 2>"$TMP/gate.log" &
PIDS+=($!)
for s in coingecko binance coinbase; do
	wait_for 10 "fetcher's default source $s" grep -q "\"feed\":\"ETH-USD\",\"source\":\"$s\"" "$TMP/fetcher.log"
done
wait_for 10 "submitter derives the signer's address" grep -q "\"address\":\"$ADDR1\"" "$TMP/submitter.log"
grep -q 'PRIVATE_KEY\|59c6995e' "$TMP/submitter.log" && fail "the submitter logged its PRIVATE_KEY"

landed() {
	local out
	out=$("$CHAIN" latest "$AGG" 2>/dev/null) || return 1
	[[ "$out" == *"answer=300000000000"* ]]
}
wait_for 120 "an update of 3000.00000000 lands on the aggregator" landed
echo "  landed: $("$CHAIN" latest "$AGG")"

echo "== the seed's ports"
wait_for 30 "oracle_updates_sent_total on :8000" \
	sh -c "curl -fsS http://127.0.0.1:8000/metrics | grep -Eq '^oracle_updates_sent_total [1-9]'"
curl -fsS http://127.0.0.1:8080/health | grep -q '"actor":"submitter"' || fail "no /health on 8080"
code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8000/health)
[ "$code" = 404 ] || fail "the metrics port answers /health with $code, want 404 (metrics only)"
echo "  submitter: /metrics on 8000 (oracle_updates_sent_total), /health on 8080"

echo "== ccip-tail from the seed's CCIP_ROUTER_ADDRESS and MONITORING_INTERVAL"
# Any address will do for a Router here (its logs are read with eth_getLogs; none is there yet):
# ccip_real_send.sh follows the real CCIP contracts.
ROUTER=0x1111111111111111111111111111111111111111
rc=0
env -i PATH="$PATH" RPC_URL="$RPC_URL" CCIP_ROUTER_ADDRESS=$ROUTER MONITORING_INTERVAL=30 \
	timeout 20 "$B/ccip-tail" 2>"$TMP/ccip-taken.log" || rc=$?
[ $rc = 1 ] || fail "ccip-tail with 8080 taken: exit $rc, want 1"
grep -q 'HEALTH_PORT 8080: cannot listen' "$TMP/ccip-taken.log" || fail "ccip-tail did not name the taken port"
echo "  with 8080 taken: exit 1, 'HEALTH_PORT 8080: cannot listen'"
kill "$SUB"
wait "$SUB" 2>/dev/null || true
env -i PATH="$PATH" RPC_URL="$RPC_URL" CCIP_ROUTER_ADDRESS=$ROUTER MONITORING_INTERVAL=30 \
	"$B/ccip-tail" 2>"$TMP/ccip-tail.log" &
PIDS+=($!)
wait_for 20 "ccip-tail /health on 8080" sh -c "curl -fsS http://127.0.0.1:8080/health | grep -q '\"actor\":\"ccip-tail\"'"
wait_for 20 "ccip-tail /metrics on 8000" sh -c "curl -fsS http://127.0.0.1:8000/metrics | grep -q '^ccip_messages_tracked'"
echo "  ccip-tail: /health on 8080, /metrics on 8000"
echo "PASS seed_publisher"
