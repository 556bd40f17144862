#!/usr/bin/env bash
# ccip-tail: CCIP logs decoded and stored per second from a recorded eth_getLogs response of 10,000 mixed
# CCIP 1.5/1.6/Router logs (generated deterministically into $BUILD/bench by ccip_gen_logs.js), against
# ethers.js v6 Interface.parseLog on the same logs in the same run; then the process memory after 10k, 50k
# and 100k tracked messages (fresh LMDB each). Reports numbers and ratios; never fails on them.
set -euo pipefail
export HTTP_PORT=${HTTP_PORT-0} # actors listen on the seed's 8000/8080 unless told: here, no HTTP unless a start asks (docs/MIGRATION.md)
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
[ -d tests/chain/node_modules/ethers ] || { echo "ccip_vs_ethers: run make deps first"; exit 1; }
bench="$BUILD/bench/actors/ccip-tail/ccip_bench"
make -s "$bench" >/dev/null
logs="$BUILD/bench/ccip_logs_10k.json" cfg="$BUILD/bench/ccip_config.json"
mkdir -p "$BUILD/bench"
if [ ! -s "$logs" ] || [ ! -s "$cfg" ] || [ tests/bench/ccip_gen_logs.js -nt "$logs" ] || [ tests/bench/ccip_abi.js -nt "$logs" ]; then
	node tests/bench/ccip_gen_logs.js "$logs" "$cfg" 10000
fi
read -r ethers_rate ethers_parsed ethers_n < <(node tests/bench/ccip_ethers_parse.js "$logs" 5)
ours=$("$bench" "$logs" "$cfg")
echo "$ours" | head -1
track=$(echo "$ours" | awk '/decode \+ track/ {print $9}')
dec=$(echo "$ours" | awk '/decode only/ {print $9}')
abi=$(echo "$ours" | sed -n 's/.*ABI decode [0-9.]* ms (\([0-9]*\) logs\/s).*/\1/p')
awk -v e="$ethers_rate" -v p="$ethers_parsed" -v n="$ethers_n" -v t="$track" -v d="$dec" -v a="$abi" 'BEGIN {
	printf "logs/s: ethers.js Interface.parseLog %d (baseline; %d of %d parsed, JSON.parse not timed)\n", e, p, n
	printf "  ours, JSON + decode + LMDB track (1 txn, fsync)  %7d  ratio %5.1fx (aim >= 20x)\n", t, t / e
	printf "  ours, JSON + decode, no LMDB                     %7d  ratio %5.1fx\n", d, d / e
	printf "  ours, decode from parsed JSON (as parseLog)      %7d  ratio %5.1fx\n", a, a / e }'
echo "$ours" | tail -n +2 | sed 's/^/  /'
echo "memory (fresh LMDB each; one write txn per 10,000-log range):"
for n in 10000 50000 100000; do "$bench" --mem "$n" "$logs" "$cfg"; done
echo "memory with 1,000-log ranges (growth above is the per-range LMDB dirty-page pool, not per message):"
for n in 10000 100000; do "$bench" --mem "$n" "$logs" "$cfg" 1000; done
