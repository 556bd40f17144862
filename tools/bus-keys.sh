#!/usr/bin/env bash
# bus-keys.sh - makes the bus keys of one deployment, once: a BIP-340 key pair for each actor whose
# frames others take only signed, and the trust list every actor reads. Actors given
# BUS_KEYS_DIR=DIR read DIR/<actor>.key (when BUS_SIGNING_KEY is unset) and DIR/trust (when
# BUS_TRUST is unset), so the seed's variables plus this one directory run the publisher.
#
#   tools/bus-keys.sh DIR                 writes DIR/{gate,signer,submitter}.key (0600), .pub, trust
#   tools/bus-keys.sh --k8s NAME DIR      the same, and DIR/secret.yaml: a Secret NAME in namespace
#                                         besu-network holding the files (mount it at BUS_KEYS_DIR)
#
# Why generated once and kept, not made by each actor on first start: a reader can only trust a
# key it was told about before it hears it. An actor that made its own key and announced it on the
# bus would be trusted on first use, and the first to announce could be anyone who reaches busd.
# DIR must not exist yet (keys are never overwritten: a new key is a new trust list everywhere).
# Uses bus-tap --keygen (libsecp256k1); BUILD (default build) or PATH provides it.
set -euo pipefail

usage() { echo "usage: $0 [--k8s SECRET_NAME] DIR" >&2; exit 2; }
k8s=
case "${1:-}" in
-h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
--k8s) [ $# -eq 3 ] || usage; k8s=$2; shift 2 ;;
esac
[ $# -eq 1 ] || usage
dir=$1
root="$(cd "$(dirname "$0")/.." && pwd)"
tap="$root/${BUILD:-build}/bin/bus-tap"
[ -x "$tap" ] || tap=$(command -v bus-tap || true)
[ -n "$tap" ] || { echo "bus-keys: bus-tap not found (run make, or put it on PATH)" >&2; exit 1; }
[ -e "$dir" ] && { echo "bus-keys: $dir exists; keys are made once and kept (remove it to start over)" >&2; exit 1; }

umask 077
mkdir -p "$dir"
declare -A pub
for a in gate signer submitter; do
	sec= p=
	while read -r k v; do
		case $k in secret) sec=$v ;; public) p=$v ;; esac
	done < <("$tap" --keygen)
	[[ "$sec" =~ ^[0-9a-f]{64}$ && "$p" =~ ^[0-9a-f]{64}$ ]] || { echo "bus-keys: bus-tap --keygen printed no key" >&2; exit 1; }
	printf '%s\n' "$sec" >"$dir/$a.key"
	printf '%s\n' "$p" >"$dir/$a.pub"
	pub[$a]=$p
done
# Who may publish what (actors/README.md, the oracle flow): price.update from the gate; the
# submitter's answers to the signer and to the gate; tx.signed from the signer.
x=${pub[submitter]}
printf 'price.update.=%s;tx.signed=%s;tx.status=%s;tx.ack=%s;tx.bump=%s;gas.quote=%s;nonce.sync=%s\n' \
	"${pub[gate]}" "${pub[signer]}" "$x" "$x" "$x" "$x" "$x" >"$dir/trust"
chmod 0644 "$dir"/*.pub "$dir/trust"

if [ -n "$k8s" ]; then
	{
		echo "apiVersion: v1"
		echo "kind: Secret"
		echo "metadata:"
		echo "  name: $k8s"
		echo "  namespace: besu-network"
		echo "type: Opaque"
		echo "stringData:"
		for f in gate.key signer.key submitter.key trust; do
			echo "  $f: \"$(cat "$dir/$f")\""
		done
	} >"$dir/secret.yaml"
	chmod 0600 "$dir/secret.yaml"
fi
echo "bus keys in $dir: gate, signer, submitter (.key 0600, .pub) and trust; set BUS_KEYS_DIR=$dir"
