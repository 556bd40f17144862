#!/usr/bin/env bash
# An RPC endpoint that moves to another chain while in use (chain/rpc): two anvils, chain 138 and
# chain 1, behind a tiny TCP forwarder (the URL the submitter is given first; the 138 anvil is
# also the second URL). The forwarder switches its target and drops its connections, as a
# restarted node or a load balancer's other backend would: no request fails, libcurl simply
# reconnects. Checks:
#   1. through the forwarder on chain 138: endpoint up, used
#   2. switched to chain 1: the submitter notices on the reconnect (RPC_CHAIN_CHECK=0: only
#      reconnects check), refuses it (rpc_errors_total{kind="wrong_chain"}, submitter_rpc_up 0,
#      /health 503 with reason rpc_chain:<endpoint>) and keeps working on the second URL
#   3. switched back: used again, the health reason cleared
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
cd "$T_ROOT"
BUILD=${BUILD:-build}
ANVIL=tests/chain/node_modules/.bin/anvil
[ -x "$ANVIL" ] || { echo "rpc_chain_switch: run \`make deps\` first" >&2; exit 1; }
ADDR1=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
checks=0
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }
chain_of() { curl -s -H 'content-type: application/json' --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$1" | jq -r .result; }
chain_is() { [ "$(chain_of "$1")" = "$2" ]; }

# ---- two chains ------------------------------------------------------------------------------------
for _ in 1 2 3 4 5; do
	PA=$(free_port)
	if ANVIL_PID="$(CHAIN_LOG="$TMP/anvil-a.out" tools/chain.sh start "$PA")"; then break; fi
	ANVIL_PID=""
done
[ -n "$ANVIL_PID" ] || fail "could not start anvil (chain 138)"
PB=$(free_port)
"$ANVIL" --host 127.0.0.1 --port "$PB" --chain-id 1 </dev/null >"$TMP/anvil-b.log" 2>&1 &
PIDS+=($!)
wait_for 30 "anvil on chain 1" chain_is "http://127.0.0.1:$PB" 0x1

# ---- the forwarder: SIGUSR1 switches between the two targets and drops every connection --------------
cat >"$TMP/fwd.py" <<'PY'
import asyncio, signal, sys
listen, targets = int(sys.argv[1]), [int(p) for p in sys.argv[2:]]
state = {"i": 0, "conns": set()}
async def pipe(r, w):
    try:
        while data := await r.read(65536):
            w.write(data)
            await w.drain()
    except Exception:
        pass
    finally:
        w.close()
async def handle(cr, cw):
    try:
        ur, uw = await asyncio.open_connection("127.0.0.1", targets[state["i"]])
    except OSError:
        cw.close()
        return
    pair = (cw, uw)
    state["conns"].add(pair)
    await asyncio.gather(pipe(cr, uw), pipe(ur, cw))
    state["conns"].discard(pair)
def switch():
    state["i"] = (state["i"] + 1) % len(targets)
    for cw, uw in list(state["conns"]):
        cw.close()
        uw.close()
    print("switched to", targets[state["i"]], flush=True)
async def main():
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, switch)
    srv = await asyncio.start_server(handle, "127.0.0.1", listen)
    print("listening", flush=True)
    async with srv:
        await srv.serve_forever()
asyncio.run(main())
PY
PF=$(free_port)
python3 "$TMP/fwd.py" "$PF" "$PA" "$PB" >"$TMP/fwd.log" 2>&1 &
FWD=$!
PIDS+=($FWD)
wait_for 10 "forwarder" chain_is "http://127.0.0.1:$PF" 0x8a

# ---- busd and the submitter -------------------------------------------------------------------------
IN=ipc://$TMP/in.ipc OUT=ipc://$TMP/out.ipc
BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR="$TMP/journal" INSTANCE=busd-t "$BUILD/bin/busd" 2>"$TMP/busd.log" &
PIDS+=($!)
HP=$(free_port)
FURL="http://127.0.0.1:$PF"
RPC_URL="$FURL,http://127.0.0.1:$PA" CHAIN_ID=138 SIGNER_ADDRESS=$ADDR1 STATE_DIR="$TMP/state" BUS_PUB_URL=$IN \
	BUS_SUB_URL=$OUT POLL_INTERVAL=100ms RPC_CHAIN_CHECK=0 HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 INSTANCE=submitter-t \
	"$BUILD/bin/submitter" 2>"$TMP/submitter.log" &
PIDS+=($!)
metrics() { curl -s "http://127.0.0.1:$HP/metrics"; }
up_is() { metrics | grep -q "^submitter_rpc_up{endpoint=\"$FURL\"} $1\$"; }
health() { curl -s "http://127.0.0.1:$HP/health"; }
wait_for 20 "submitter using the forwarder" up_is 1
health | grep -q rpc_chain && fail "health has rpc_chain before the switch"
ok "submitter on chain 138 through the forwarder ($FURL)"

# ---- 2. switch to chain 1 ----------------------------------------------------------------------------
kill -USR1 "$FWD"
wait_for 10 "forwarder switched" grep -q "switched to $PB" "$TMP/fwd.log"
wrong() { metrics | grep -Eq "^rpc_errors_total\{endpoint=\"$FURL\",kind=\"wrong_chain\"\} [1-9]"; }
wait_for 20 "wrong chain noticed after the reconnect" wrong
wait_for 10 "forwarder endpoint marked not up" up_is 0
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/health")" = 503 ] || fail "health not 503"
health | grep -q "rpc_chain:$FURL" || fail "no rpc_chain reason in /health: $(health)"
grep -q '"msg":"rpc endpoint is on another chain; not used".*"got":"1"' "$TMP/submitter.log" || fail "not logged"
metrics | grep -q "^submitter_rpc_up{endpoint=\"http://127.0.0.1:$PA\"} 1" || fail "second URL not in use"
ok "switched to chain 1: refused (wrong_chain metric, rpc_up 0, /health 503 rpc_chain, log); second URL in use"

# ---- 3. back to chain 138 ----------------------------------------------------------------------------
kill -USR1 "$FWD"
wait_for 10 "forwarder switched back" grep -q "switched to $PA" "$TMP/fwd.log"
healthy() { ! health | grep -q rpc_chain; }
wait_for 40 "forwarder endpoint used again (after the 10 s recheck)" up_is 1
wait_for 10 "health reason cleared" healthy
ok "back on chain 138: used again, health reason cleared"
echo "rpc_chain_switch: $checks checks passed"
