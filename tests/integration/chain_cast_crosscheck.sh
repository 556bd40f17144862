#!/usr/bin/env bash
# chain/ against Foundry's cast (an independent implementation) on the same inputs, no RPC needed:
# signed raw transactions (legacy EIP-155 and EIP-1559, chain id 138, zero and non-zero gas
# prices, the signer's update calls), keccak-256, ABI encoding and RLP. Uses only anvil's public
# development key. Needs tests/chain/node_modules (`make deps`) and build/bin/ethtx (`make`).
set -euo pipefail
export HTTP_PORT=${HTTP_PORT-0} # actors listen on the seed's 8000/8080 unless told: here, no HTTP unless a start asks (docs/MIGRATION.md)
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
ETHTX=$BUILD/bin/ethtx
if [ ! -d tests/chain/node_modules ]; then
  echo "chain_cast_crosscheck: tests/chain/node_modules is missing: run \`make deps\` first" >&2
  exit 1
fi
CAST=$(tools/chain.sh bin cast)
[ -x "$ETHTX" ] || { echo "chain_cast_crosscheck: $ETHTX missing: run make" >&2; exit 1; }
export ETH_RPC_URL= FOUNDRY_DISABLE_NIGHTLY_WARNING=1
export ETHTX_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80  # anvil #0, public
TO=0x5FbDB2315678afecb367f032d93F642f64180aa3
pass=0; fail=0

same() {  # label ours theirs
  if [ "$2" = "$3" ]; then pass=$((pass+1)); else
    fail=$((fail+1)); echo "MISMATCH $1"; echo "  ethtx: $2"; echo "  cast:  $3"; fi
}

# mktx: identical option syntax for both tools, so one argument list drives both.
mk() {  # label args...
  local label=$1; shift
  local ours theirs
  ours=$("$ETHTX" mktx "$@")
  theirs=$("$CAST" mktx --private-key "$ETHTX_KEY" "$@" 2>&1 | tail -1) || true
  same "mktx $label" "$ours" "$theirs"
}

same "address" "$("$ETHTX" address)" "$("$CAST" wallet address --private-key "$ETHTX_KEY")"

mk "legacy zero gas price" --legacy --chain 138 --nonce 0 --gas-limit 21000 --gas-price 0 --value 1 $TO
mk "legacy updateAnswer(int256)" --legacy --chain 138 --nonce 5 --gas-limit 100000 --gas-price 0 \
   $TO 'updateAnswer(int256)' -- -200000000000
mk "legacy updateAnswer(uint256)" --legacy --chain 138 --nonce 12345 --gas-limit 90000 \
   --gas-price 1000000007 $TO 'updateAnswer(uint256)' 6712345000000
mk "legacy submit" --legacy --chain 138 --nonce 1 --gas-limit 200000 --gas-price 0 \
   $TO 'submit(uint256,int256)' 42 -- -1
mk "1559 updateAnswer(int256)" --chain 138 --nonce 7 --gas-limit 100000 --gas-price 2000000000 \
   --priority-gas-price 1000000000 $TO 'updateAnswer(int256)' 314159265358
mk "1559 zero fees" --chain 138 --nonce 0 --gas-limit 21000 --gas-price 0 --priority-gas-price 0 $TO
# cast caps fees at u128, so 2^128-1 is the largest common max fee.
mk "1559 chain 1 big value" --chain 1 --nonce 18446744073709551614 --gas-limit 30000000 \
   --gas-price 340282366920938463463374607431768211455 \
   --priority-gas-price 1 --value 1000000000000000000000 $TO
mk "legacy chain 1" --legacy --chain 1 --nonce 9 --gas-limit 21000 --gas-price 20000000000 \
   --value 1000000000000000000 0x3535353535353535353535353535353535353535

# A spread of pseudo-random fields (fixed seed: reproducible), both types.
RANDOM=138
for i in $(seq 1 20); do
  n=$((RANDOM * RANDOM)); g=$((RANDOM % 3 == 0 ? 0 : RANDOM * 1000)); a=$((RANDOM * 99991 - 1600000000))
  mk "random legacy $i" --legacy --chain 138 --nonce $n --gas-limit $((21000 + RANDOM)) \
     --gas-price $g $TO 'updateAnswer(int256)' -- $a
  mk "random 1559 $i" --chain 138 --nonce $n --gas-limit $((21000 + RANDOM)) --gas-price $((g + 7)) \
     --priority-gas-price $((g / 2)) --value $RANDOM $TO 'submit(uint256,int256)' $RANDOM -- $a
done

for s in "" hello "Transfer(address,address,uint256)" 0x 0x1234 0xdeadbeefcafe; do
  same "keccak '$s'" "$("$ETHTX" keccak "$s")" "$("$CAST" keccak "$s")"
done

abi() {  # label sig args...
  local label=$1; shift
  same "abi-encode $label" "$("$ETHTX" abi-encode "$@")" "$("$CAST" abi-encode "$@")"
  same "calldata $label" "$("$ETHTX" calldata "$@")" "$("$CAST" calldata "$@")"
}
# cast's abi-encode wants "--" before all the values when one of them is negative.
abi "scalars" 'f(address,bool,uint8,int16,bytes4,uint256)' \
    -- 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 true 255 -32768 0xcafebabe 0x123
abi "dynamic" 'g(string,bytes,uint80,bytes,string)' "Hello, world!" 0xbeef 1208925819614629174706175 0x ""
abi "int256 min" 'updateAnswer(int256)' -- -57896044618658097711785492504343953926634992332820282019728792003956564819968

rlp() { same "to-rlp $1" "$("$ETHTX" to-rlp "$1")" "$("$CAST" to-rlp "$1")"; }
rlp '"0x"'
rlp '"0x7f"'
rlp '"0x80"'
rlp '["0xaa",["0xbbcc",[]],"0x"]'
rlp '[[],[[]],[[],[[]]]]'
rlp "\"0x$(printf '61%.0s' $(seq 1 56))\""
rlp "[\"0x$(printf 'ab%.0s' $(seq 1 300))\",\"0x00\"]"

echo "chain_cast_crosscheck: $pass agree, $fail differ"
[ "$fail" -eq 0 ]
