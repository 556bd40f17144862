#!/usr/bin/env bash
# make demo, unattended: tools/demo.sh with DEMO_SECONDS, on free ports and a temp dir; at least two
# rounds must land on chain (the first update and a deviation or heartbeat), and everything the demo
# started must be gone afterwards.
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
DEMO_SECONDS=30 DEMO_DIR=$TMP DEMO_HTTP_BASE=$base CHAIN_PORT=$CPORT DEVIATION_THRESHOLD=0.3 \
	timeout 150 tools/demo.sh >"$TMP/out.txt" 2>&1 || { tail -30 "$TMP/out.txt"; exit 1; }
rounds=$(awk -F'roundId=' '/^chain:/ {split($2, a, " "); if (a[1] > m) m = a[1]} END {print m + 0}' "$TMP/out.txt")
echo "rounds landed during the demo: $rounds"
[ "$rounds" -ge 2 ] || { tail -40 "$TMP/out.txt"; exit 1; }
grep -q '"reason":"first"' "$TMP/out.txt" || { echo "no first update shown"; exit 1; }
sleep 1
if pgrep -f "$TMP" >/dev/null; then echo "demo left processes behind:"; pgrep -af "$TMP"; exit 1; fi
if curl -s --max-time 1 "http://127.0.0.1:$CPORT" >/dev/null 2>&1; then echo "demo left anvil running"; exit 1; fi
echo "PASS"
