#!/usr/bin/env bash
# make demo, unattended: tools/demo.sh until two rounds landed on chain and the sample payments settled
# (DEMO_ROUNDS=2: the first update and a deviation or heartbeat; DEMO_SECONDS=240 only bounds a demo
# that never gets there), on free ports and a temp dir; the payments' pacs.002 must show ACSC, and
# everything the demo started must be gone afterwards.
set -euo pipefail
export HTTP_PORT=${HTTP_PORT-0} # actors listen on the seed's 8000/8080 unless told: here, no HTTP unless a start asks (docs/MIGRATION.md)
BUILD=${BUILD:-build}
[ "$BUILD" = build ] || { echo "demo smoke runs on the default build only (skipped for $BUILD)"; exit 0; }
cd "$(dirname "$0")/../.."
[ -d tests/chain/node_modules ] || { echo "run make deps first"; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
base=$(( $(free_port) / 10 * 10 ))
[ $base -lt 60000 ] || base=41000
CPORT=$(free_port)
DEMO_ROUNDS=2 DEMO_SECONDS=240 DEMO_DIR=$TMP DEMO_HTTP_BASE=$base CHAIN_PORT=$CPORT DEVIATION_THRESHOLD=0.3 \
	timeout 300 tools/demo.sh >"$TMP/out.txt" 2>&1 || { tail -30 "$TMP/out.txt"; exit 1; }
rounds=$(awk -F'roundId=' '/^chain:/ {split($2, a, " "); if (a[1] > m) m = a[1]} END {print m + 0}' "$TMP/out.txt")
echo "rounds landed during the demo: $rounds"
[ "$rounds" -ge 2 ] || { tail -40 "$TMP/out.txt"; exit 1; }
grep -q '"reason":"first"' "$TMP/out.txt" || { echo "no first update shown"; exit 1; }
# the tokenization part: the sample payments settled on chain (their pacs.002 shown with ACSC)
grep -q '<TxSts>ACSC</TxSts>' "$TMP/out.txt" || { echo "no payment settled (pacs.002 ACSC) during the demo"; grep '^tokens:' "$TMP/out.txt" | tail -3; exit 1; }
# the demo waited for what it killed; give stragglers (reparented grandchildren) 10 s to go
for _ in $(seq 100); do pgrep -f "$TMP" >/dev/null || break; sleep 0.1; done
if pgrep -f "$TMP" >/dev/null; then echo "demo left processes behind:"; pgrep -af "$TMP"; exit 1; fi
if curl -s --max-time 1 "http://127.0.0.1:$CPORT" >/dev/null 2>&1; then echo "demo left anvil running"; exit 1; fi
echo "PASS"
