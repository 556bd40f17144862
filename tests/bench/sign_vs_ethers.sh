#!/usr/bin/env bash
# Transaction signing: our path (ABI + RLP + keccak + libsecp256k1 via chain/tx, from chain/tx_bench)
# against ethers.js Wallet.signTransaction of the same update call, on this machine, in this run.
# Also checks both produce the same bytes for one transaction (same key, nonce, fields).
set -euo pipefail
export HTTP_PORT=${HTTP_PORT-0} # actors listen on the seed's 8000/8080 unless told: here, no HTTP unless a start asks (docs/MIGRATION.md)
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
[ -d tests/chain/node_modules/ethers ] || { echo "sign_vs_ethers: run make deps first"; exit 1; }
make -s "$BUILD/bench/chain/tx_bench" "$BUILD/bench/actors/signer/signer_bench" "$BUILD/bin/ethtx" >/dev/null
read -r ethers_rate ethers_raw < <(node tests/bench/ethers_sign.js 3000)
ours=$("$BUILD/bench/chain/tx_bench" | awk '/updateAnswer\(int256\) signed legacy tx/ {print $5}')
# the signer's own path: policy, ABI, RLP, keccak, sign, and the nonce durable (fsync'd group commit,
# pipelined: the next group signed while one is fsync'd, the default groups growing while a commit
# runs) before the transaction leaves; its row ends: ratio, median ratio, tx/s, mean and largest
# group, CPU ratio, share signed ahead
durable=$("$BUILD/bench/actors/signer/signer_bench" | awk '/^  pipelined.*\(default\)/ {print $(NF-4)}')
# the same last transaction (nonce 2999, answer 300000000000+2999) from our CLI
mine=$(ETHTX_KEY=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d "$BUILD/bin/ethtx" mktx --legacy \
	--chain 138 --nonce 2999 --gas-limit 200000 --gas-price 0 0x5FbDB2315678afecb367f032d93F642f64180aa3 \
	'updateAnswer(int256)' 300000002999)
same=no; [ "$mine" = "$ethers_raw" ] && same=yes
awk -v o="$ours" -v d="$durable" -v e="$ethers_rate" -v s="$same" 'BEGIN {
	printf "signed update tx/s: ethers.js Wallet.signTransaction %d (baseline)\n", e
	printf "  ours, encode + sign (chain/tx)          %6d  ratio %.1fx (identical bytes: %s)\n", o, o / e, s
	printf "  ours, signer path with durable nonces   %6d  ratio %.1fx\n", d, d / e }'
