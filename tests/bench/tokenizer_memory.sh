#!/usr/bin/env bash
# Private memory of the Financial Tokenization actors (aim: < 4 MiB each, issue 9), running, after a
# workload: anvil + two PaymentToken ERC-20s + the FireFly v1.3 double (real token effects on anvil) +
# busd + tokenizer + token-firefly + token-erc20 + signer + submitter, all with signed frames and trust
# lists as deployed (the setup of tests/integration/tokenizer_e2e.sh, without its faults and kills).
# Workload: TOKMEM_PAYMENTS (400) pacs.008 mints posted over HTTP by TOKMEM_CLIENTS (4) clients at once,
# half USD (erc20 backend), half EUR (FireFly); then it waits until every one is confirmed on chain.
# Reported per actor, idle after start and after the workload: RssAnon (/proc/<pid>/status: heap,
# stacks, the process's own memory; the aim is judged on it), Private_Clean + Private_Dirty
# (smaps_rollup: RssAnon plus the file pages only this process maps: LMDB pages it read, library pages no
# other process has touched; reclaimable) and VmRSS (the rest being shared library pages).
# Reports; fails only when the workload does not complete (never on the memory numbers).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/lib/common.sh
B=$BUILD/bin
CHAIN=$T_ROOT/tools/chain.sh
NM=$T_ROOT/tests/chain/node_modules
need_bins "$B" busd bus-tap tokenizer token-firefly token-erc20 signer submitter
[ -x "$NM/@foundry-rs/anvil-linux-amd64/bin/anvil" ] || { echo "tests/chain/node_modules missing: run make deps"; exit 1; }
N=${TOKMEM_PAYMENTS:-400} CLIENTS=${TOKMEM_CLIENTS:-4}

# anvil's public dev keys: #0 FireFly's signing key, #1 the signer's, #2 the token holder.
K0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 A0=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
K1=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d A1=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
A2=0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC
ANVIL_ARGS="--block-time 1" anvil_start
USD=$(TOKEN_SYMBOL=USDP "$CHAIN" deploy-token 6 "$A1" "$A1" 2>"$TMP/deploy.log") || fail "deploy USD"
EUR=$(TOKEN_SYMBOL=EURP "$CHAIN" deploy-token 6 "$A0" "$A0" 2>>"$TMP/deploy.log") || fail "deploy EUR"
[[ "$USD" =~ ^0x[0-9a-fA-F]{40}$ && "$EUR" =~ ^0x[0-9a-fA-F]{40}$ ]] || fail "deploy printed '$USD' '$EUR'"

busd_start "$B/busd" busd
export BUS_PUB_URL=$IN BUS_SUB_URL=$OUT LOG_LEVEL=warn
# T tokenizer, F token-firefly, E token-erc20, S signer, X submitter, G a gate that never speaks (the
# signer insists on a price.update. trust rule)
bus_keys "$B/bus-tap" T F E S X G

FFP=$(free_port) FFA=$(free_port)
FF_DOUBLE_PORT=$FFP FF_DOUBLE_ADMIN_PORT=$FFA FF_DOUBLE_KEYS=$K0 FF_DOUBLE_POOLS="eurc=$EUR" \
	node "$T_ROOT/tests/chain/firefly-double.js" 2>"$TMP/firefly.log" &
PIDS+=($!)
wait_for 60 "FireFly double up" curl -sf "http://127.0.0.1:$FFP/api/v1/status"

HP=$(free_port)
H=http://127.0.0.1:$HP
cat >"$TMP/cfg.json" <<EOF
{ "tokens": { "USD": { "backend": "erc20", "address": "$USD", "decimals": 6 },
              "EUR": { "backend": "firefly", "pool": "eurc", "address": "$EUR", "decimals": 6 } },
  "accounts": { "254178963": "$A2" } }
EOF
BUS_SIGNING_KEY=$TSEC BUS_TRUST="token.result=$FPUB,$EPUB" TOKEN_CONFIG=$TMP/cfg.json STATE_DIR=$TMP/tokenizer \
	HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 INSTANCE=tokenizer "$B/tokenizer" 2>>"$TMP/tokenizer.log" &
TPID=$!
PIDS+=($TPID)
BUS_SIGNING_KEY=$FSEC BUS_TRUST="token.request=$TPUB;token.status=$TPUB" FIREFLY_URL=http://127.0.0.1:$FFP \
	STATE_DIR=$TMP/token-firefly POLL_INTERVAL=200ms INSTANCE=token-firefly "$B/token-firefly" 2>>"$TMP/token-firefly.log" &
FPID=$!
PIDS+=($FPID)
BUS_SIGNING_KEY=$ESEC BUS_TRUST="token.request=$TPUB;token.status=$TPUB;tx.status=$XPUB" RPC_URL=$RPC_URL \
	CHAIN_ID=138 TOKENS=$USD STATE_DIR=$TMP/token-erc20 INSTANCE=token-erc20 "$B/token-erc20" 2>>"$TMP/token-erc20.log" &
EPID=$!
PIDS+=($EPID)
BUS_SIGNING_KEY=$SSEC PRIVATE_KEY=$K1 STATE_DIR=$TMP/signer CHAIN_ID=138 GAS_PRICE=auto GAS_LIMIT=200000 \
	BUS_TRUST="price.update.=$GPUB;tx.request=$EPUB;tx.ack=$XPUB;tx.bump=$XPUB;gas.quote=$XPUB;nonce.sync=$XPUB" \
	ALLOWED_CONTRACTS=$USD ALLOWED_SELECTORS=0x40c10f19 INSTANCE=signer "$B/signer" 2>"$TMP/signer.log" &
PIDS+=($!)
BUS_SIGNING_KEY=$XSEC BUS_TRUST="tx.signed=$SPUB" STATE_DIR=$TMP/submitter CHAIN_ID=138 SIGNER_ADDRESS=$A1 \
	CONFIRMATIONS=1 FINALITY_DEPTH=3 POLL_INTERVAL=200ms INSTANCE=submitter "$B/submitter" 2>"$TMP/submitter.log" &
PIDS+=($!)
wait_for 30 "tokenizer up" curl -sf "$H/health"
wait_subscribers "$BP" 5

# mem PID -> "RssAnon Private VmRSS" in kB
mem() {
	local a p r
	a=$(awk '/^RssAnon/{print $2}' "/proc/$1/status")
	r=$(awk '/^VmRSS/{print $2}' "/proc/$1/status")
	p=$(awk '/^Private_(Clean|Dirty)/{s += $2} END {print s}' "/proc/$1/smaps_rollup")
	echo "$a $p $r"
}
declare -A IDLE
for a in tokenizer:$TPID token-firefly:$FPID token-erc20:$EPID; do IDLE[${a%%:*}]=$(mem "${a#*:}"); done

# ---- the workload: N pacs.008 mints, half per backend, CLIENTS at a time; then all confirmed ---------
t0=$(date +%s.%N)
python3 - "$H" "$T_ROOT/payments/testdata/iso/ballerina_p_2_1_2_mt103_pacs_008_A_B.xml" "$N" "$CLIENTS" \
	>"$TMP/keys" 2>"$TMP/post.log" <<'PY' || fail "posting the payments: $(tail -3 "$TMP/post.log")"
import concurrent.futures, hashlib, sys, urllib.error, urllib.request, uuid
url, tpl, n, clients = sys.argv[1], open(sys.argv[2]).read(), int(sys.argv[3]), int(sys.argv[4])
def post(i):
    uetr = str(uuid.uuid4())
    ccy = "USD" if i % 2 else "EUR"
    x = tpl.replace("174c245f-2682-4291-ad67-2a41e530cd27", uetr).replace('Ccy="USD"', 'Ccy="%s"' % ccy)
    x = x.replace("A2B0506272708", uetr[:8].upper()).replace('>136500<', '>%d.%02d<' % (1 + i, i % 100))
    for _ in range(50):
        try:
            r = urllib.request.urlopen(urllib.request.Request(url + "/payments", x.encode()), timeout=60)
            if r.status in (200, 202):
                return hashlib.sha256(b"oraclebus/payment-key\0" + uetr.encode()).hexdigest()[:32]
        except urllib.error.HTTPError as e:
            raise SystemExit("payment %d: HTTP %d %s" % (i, e.code, e.read()[:300]))
        except OSError:
            pass
    raise SystemExit("payment %d: no answer" % i)
with concurrent.futures.ThreadPoolExecutor(clients) as ex:
    for k in ex.map(post, range(n)):
        print(k)
PY
t1=$(date +%s.%N)
confirmed() { metric_at "$HP" "tokenization_pending" | awk '{exit !($1 == 0)}'; }
all_confirmed() {
	confirmed || return 1
	curl -sf "$H/metrics" | awk '$1 ~ /^tokenization_success_total/ {s += $2} END {exit !(s >= '"$N"')}'
}
wait_for 300 "all $N payments confirmed" all_confirmed
t2=$(date +%s.%N)
for p in $TPID $FPID $EPID; do kill -0 "$p" 2>/dev/null || fail "an actor died during the workload"; done
echo "workload: $N pacs.008 mints ($CLIENTS clients; half erc20, half FireFly) posted in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}') s, all confirmed after $(awk -v a="$t0" -v b="$t2" 'BEGIN{printf "%.1f", b - a}') s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-14s %26s %40s\n' "" "idle after start" "after the workload"
printf '%-14s %8s %8s %8s   %8s %8s %8s %12s\n' actor RssAnon Private VmRSS RssAnon Private VmRSS "RssAnon < 4 MiB"
for a in tokenizer:$TPID token-firefly:$FPID token-erc20:$EPID; do
	name=${a%%:*}
	read -r ia ip ir <<<"${IDLE[$name]}"
	read -r wa wp wr <<<"$(mem "${a#*:}")"
	awk -v n="$name" -v ia="$ia" -v ip="$ip" -v ir="$ir" -v wa="$wa" -v wp="$wp" -v wr="$wr" 'BEGIN {
		printf "%-14s %6.1f M %6.1f M %6.1f M   %6.1f M %6.1f M %6.1f M %12s\n", n, ia / 1024, ip / 1024, ir / 1024,
			wa / 1024, wp / 1024, wr / 1024, wa < 4096 ? "met" : "MISSED"
	}'
done
