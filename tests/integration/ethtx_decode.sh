#!/usr/bin/env bash
# `ethtx decode` / `ethtx inspect` against Foundry's cast (an independent implementation), no RPC:
# transactions signed by cast (EIP-155 legacy, pre-EIP-155, EIP-2930, EIP-1559 with and without an
# access list, a contract creation, a second key) must decode to the same hash, sender and fields
# as `cast decode-tx` reports; malformed input exits 1 naming the field and byte offset; --help
# exits 0 with usage on stdout; unknown options exit 2 with usage on stderr. Uses only anvil's
# public development keys. Needs tests/chain/node_modules (`make deps`) and build/bin/ethtx (`make`).
set -euo pipefail
export HTTP_PORT=${HTTP_PORT-0} # actors listen on the seed's 8000/8080 unless told: here, no HTTP unless a start asks (docs/MIGRATION.md)
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
ETHTX=$BUILD/bin/ethtx
if [ ! -d tests/chain/node_modules ]; then
  echo "ethtx_decode: tests/chain/node_modules is missing: run \`make deps\` first" >&2
  exit 1
fi
CAST=$(tools/chain.sh bin cast)
[ -x "$ETHTX" ] || { echo "ethtx_decode: $ETHTX missing: run make" >&2; exit 1; }
export ETH_RPC_URL= FOUNDRY_DISABLE_NIGHTLY_WARNING=1
KEY0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80  # anvil #0, public
KEY1=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d  # anvil #1, public
TO=0x5FbDB2315678afecb367f032d93F642f64180aa3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0; fail=0

ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL $*"; }

# Compares `ethtx decode --json` with `cast decode-tx` field by field (cast prints quantities as hex,
# ethtx as decimal strings; cast prints lowercase addresses, ethtx EIP-55).
agree() {  # label raw
  local label=$1 raw=$2 why
  "$ETHTX" decode --json "$raw" >"$TMP/ours.json" || { bad "$label: ethtx decode exit $?"; return; }
  "$CAST" decode-tx "$raw" >"$TMP/cast.json" 2>"$TMP/cast.err" || { bad "$label: cast decode-tx failed: $(cat "$TMP/cast.err")"; return; }
  if why=$(python3 - "$TMP/ours.json" "$TMP/cast.json" <<'EOF'
import json, sys
ours = json.load(open(sys.argv[1]))
c = json.load(open(sys.argv[2]))
if isinstance(c, str):      # cast 1.7 prints the object as a JSON string
    c = json.loads(c)
q = lambda k: int(c[k], 16)
pairs = [("type", ours["type"], q("type")), ("nonce", int(ours["nonce"]), q("nonce")),
         ("gasLimit", int(ours["gasLimit"]), q("gas")), ("value", int(ours["value"]), q("value")),
         ("data", ours["data"], c["input"]), ("r", int(ours["r"], 16), q("r")), ("s", int(ours["s"], 16), q("s")),
         ("to", (ours["to"] or "").lower(), c.get("to") or ""),
         ("hash", ours["hash"], c["hash"]), ("from", ours["from"].lower(), c["signer"])]
if ours["type"] == 2:
    pairs += [("maxFeePerGas", int(ours["maxFeePerGas"]), q("maxFeePerGas")),
              ("maxPriorityFeePerGas", int(ours["maxPriorityFeePerGas"]), q("maxPriorityFeePerGas"))]
else:
    pairs += [("gasPrice", int(ours["gasPrice"]), q("gasPrice"))]
if ours["type"] == 0:
    pairs += [("v", int(ours["v"]), q("v")), ("chainId", int(ours["chainId"] or 0), int(c.get("chainId", "0x0"), 16))]
else:
    al = c["accessList"]
    pairs += [("chainId", int(ours["chainId"]), q("chainId")), ("yParity", ours["yParity"], q("yParity")),
              ("accessListAddresses", ours["accessListAddresses"], len(al)),
              ("accessListStorageKeys", ours["accessListStorageKeys"], sum(len(e["storageKeys"]) for e in al))]
bad = ["%s: ethtx %r, cast %r" % p for p in pairs if p[1] != p[2]]
print("; ".join(bad))
sys.exit(1 if bad else 0)
EOF
  ); then ok; else bad "$label: $why"; fi
}

mk() { "$CAST" mktx "$@" 2>/dev/null | tail -1; }

# 1. cast-signed transactions of every supported kind
T155=$(mk --private-key $KEY0 --legacy --chain 138 --nonce 5 --gas-limit 100000 --gas-price 1000000007 \
       $TO 'updateAnswer(int256)' -- -200000000000)
T2=$(mk --private-key $KEY0 --chain 138 --nonce 7 --gas-limit 100000 --gas-price 2000000000 \
     --priority-gas-price 1000000000 --value 1000000000000000000000 $TO 'submit(uint256,int256)' 42 -- -1)
AL='[{"address":"0x5FbDB2315678afecb367f032d93F642f64180aa3","storageKeys":["0x0000000000000000000000000000000000000000000000000000000000000001","0x00000000000000000000000000000000000000000000000000000000000000ff"]},{"address":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8","storageKeys":[]}]'
T1=$(mk --private-key $KEY0 --legacy --access-list "$AL" --chain 138 --nonce 3 --gas-limit 50000 \
     --gas-price 7 $TO --value 5)
T2AL=$(mk --private-key $KEY1 --access-list "$AL" --chain 1 --nonce 18446744073709551614 \
       --gas-limit 30000000 --gas-price 340282366920938463463374607431768211455 --priority-gas-price 1 $TO)
TCREATE=$(mk --private-key $KEY1 --chain 138 --nonce 0 --gas-limit 200000 --gas-price 0 \
          --priority-gas-price 0 --create 0x6080604052348015600f57600080fd5b50)
# pre-EIP-155: cast signs the 6-field signing hash, the raw tx is assembled with cast to-rlp, v = 27/28
F='"0x03","0x07","0xc350","0x5fbdb2315678afecb367f032d93f642f64180aa3","0x05","0xdeadbeef"'
SIG=$("$CAST" wallet sign --no-hash --private-key $KEY1 "$("$CAST" keccak "$("$CAST" to-rlp "[$F]")")")
TPRE=$("$CAST" to-rlp "[$F,\"0x${SIG:130:2}\",\"0x${SIG:2:64}\",\"0x${SIG:66:64}\"]")

for t in T155 T2 T1 T2AL TCREATE TPRE; do
  [ -n "${!t}" ] || { bad "$t: cast produced nothing"; continue; }
  agree "$t" "${!t}"
done
case $TPRE in 0xf8*|0xf9*) ok ;; *) bad "TPRE is not a legacy list: $TPRE" ;; esac
[ "$("$ETHTX" decode --json "$TPRE" | jq -r .chainId)" = null ] && ok || bad "pre-155 chainId is not null"
[ "$("$ETHTX" decode --json "$T1" | jq -r '.type, .accessListAddresses, .accessListStorageKeys' | tr '\n' ' ')" = "1 2 2 " ] \
  && ok || bad "type 1 access list counts"
# the sender is the signing key's, not a constant
[ "$("$ETHTX" decode --json "$T2AL" | jq -r .from)" = "$(ETHTX_KEY=$KEY1 "$ETHTX" address)" ] && ok || bad "T2AL sender is not key #1"

# 2. input forms: stdin, no 0x, upper case, surrounding whitespace; text and inspect
want=$("$ETHTX" decode "$T2")
[ "$(printf '  %s\n\n' "$T2" | "$ETHTX" decode -)" = "$want" ] && ok || bad "stdin input differs"
[ "$("$ETHTX" decode "$(echo "${T2#0x}" | tr a-f A-F)")" = "$want" ] && ok || bad "no-0x upper-case input differs"
grep -q "^from  *0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266$" <<<"$want" && ok || bad "text lacks from: $want"
grep -q "^type  *2 (EIP-1559)$" <<<"$want" && ok || bad "text lacks type"
ins=$("$ETHTX" inspect --json "$T1")
[ "$(jq -r '.accessList[0].storageKeys[1]' <<<"$ins")" = 0x00000000000000000000000000000000000000000000000000000000000000ff ] \
  && ok || bad "inspect access list"
[ "$(jq -r .signingHash <<<"$("$ETHTX" inspect --json "$TPRE")")" = "$("$CAST" keccak "$("$CAST" to-rlp "[$F]")")" ] \
  && ok || bad "inspect signing hash of the pre-155 tx differs from cast keccak(to-rlp)"
[ "$(jq -r '.words | length' <<<"$("$ETHTX" inspect --json "$T2")")" = 2 ] && ok || bad "inspect words"
[ "$(jq -r .to <<<"$("$ETHTX" decode --json "$TCREATE")")" = null ] && ok || bad "creation to is not null"

# 3. refusals: exit 1, a message naming what and where, nothing on stdout
refuse() {  # label expected-stderr-substring input
  local out rc=0
  out=$("$ETHTX" decode "$3" 2>"$TMP/err") || rc=$?
  if [ "$rc" = 1 ] && [ -z "$out" ] && grep -qF -- "$2" "$TMP/err"; then ok
  else bad "$1: rc $rc, stdout '$out', stderr '$(cat "$TMP/err")', want '$2'"; fi
}
refuse "trailing byte" "not canonical RLP at byte $(( (${#TPRE} - 2) / 2 ))" "${TPRE}00"
refuse "truncated" "not canonical RLP at byte 1" "${T2:0:40}"
refuse "type 3" "unsupported transaction type 0x03 at byte 0" "0x03${T2:4}"
refuse "high s" "field s at byte" "${T155:0:$((${#T155} - 64))}7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a1"
# T2 is 0x 02 f8 LL 818a 07 ...: the nonce (byte 5) re-encoded as 820007, the list 2 bytes longer
refuse "leading zero nonce" "field nonce at byte 5: integer with a leading zero byte" \
  "0x02f8$(printf %02x $((16#${T2:6:2} + 2)))818a820007${T2:14}"
refuse "odd hex" "odd number of hex digits" "${T2}0"
refuse "not hex" "not hex at character 5" "0x02fz"
refuse "empty" "empty input" ""
rc=0; echo "" | "$ETHTX" decode - 2>/dev/null || rc=$?
[ "$rc" = 1 ] && ok || bad "empty stdin: rc $rc"

# 4. usage: --help on stdout with exit 0; unknown options exit 2 with usage on stderr
for args in "--help" "-h" "decode --help" "inspect -h" "mktx --help"; do
  rc=0; "$ETHTX" $args >"$TMP/out" 2>"$TMP/err" || rc=$?
  if [ "$rc" = 0 ] && grep -q "^usage: ethtx" "$TMP/out" && [ ! -s "$TMP/err" ]; then ok
  else bad "'$args': rc $rc"; fi
done
for args in "decode --bogus $T2" "inspect -x $T2" "mktx --frob 1" "frobnicate" ""; do
  rc=0; "$ETHTX" $args >"$TMP/out" 2>"$TMP/err" || rc=$?
  if [ "$rc" = 2 ] && grep -q "^usage: ethtx" "$TMP/err" && [ ! -s "$TMP/out" ]; then ok
  else bad "'$args': rc $rc (want 2 and usage on stderr)"; fi
done

echo "ethtx_decode: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
