#!/usr/bin/env bash
# One configuration file for a whole deployment (tools/ob-config, deploy/oraclebus.example.json):
#   1. the example renders, and the checked-in deploy files are exactly that rendering
#      (deploy/k8s/*.yaml, deploy/systemd/env, deploy/systemd/etc, deploy/prometheus/prometheus.yml);
#   2. the rendered manifests are valid YAML with the objects Kubernetes needs, pass deploy/k8s/validate.py,
#      and the rendered prometheus.yml passes promtool check config;
#   3. every actor, run with --check-config through oraclebus-run on its rendered env (key files,
#      state and JSON files where the env says), exits 0; a broken value in one exits 78: the
#      generator and the actors agree because the actors themselves judge the output; the same for a
#      remote signer, a keystore signer (a real keystore made by ethers.js, decrypted by --check-config,
#      a wrong password refused) and two signers (10 keys in alert.'s trust, tx.request on one signer);
#   3e. 1,000 feeds in 2 shards x 3 sources render whole (FEEDS and files counted) and the fetchers,
#      medians, gates and signer take them (--check-config); 1,025 in one shard exit 78 at that feed;
#   4. broken configurations exit 78 naming the line of the problem (unknown key, bad address, feed
#      referenced but not defined, duplicate feed, threshold out of range, a key instead of a reference,
#      JSON syntax, duplicate member) and write nothing;
#   5. every actor README's env table equals its --env-table (tools/readme-env.py), and a README
#      missing a row is caught.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
BUILD=${BUILD:-build}
B=$T_ROOT/$BUILD/bin
GEN=$B/ob-config
EX=$T_ROOT/deploy/oraclebus.example.json
[ -x "$GEN" ] || { echo "missing $GEN (run make)"; exit 1; }
cd "$T_ROOT"

echo "== 1. the example renders; the checked-in files are its rendering"
"$GEN" check "$EX" || fail "ob-config check refused the example"
BUILD=$BUILD tools/render-deploy.sh "$TMP/out"
for f in "$TMP"/out/k8s/*.yaml; do
	cmp -s "$f" "deploy/k8s/$(basename "$f")" || fail "deploy/k8s/$(basename "$f") is not the rendering of the example (tools/render-deploy.sh): $(diff "$f" "deploy/k8s/$(basename "$f")" | head -5)"
done
for f in deploy/k8s/*.yaml; do
	[ -f "$TMP/out/k8s/$(basename "$f")" ] || fail "$f is not rendered from the example (left over?)"
done
diff -r "$TMP/out/env" deploy/systemd/env >/dev/null || fail "deploy/systemd/env differs from the rendering: $(diff -r "$TMP/out/env" deploy/systemd/env | head -5)"
diff -r "$TMP/out/etc" deploy/systemd/etc >/dev/null || fail "deploy/systemd/etc differs from the rendering"
cmp -s "$TMP/out/prometheus/prometheus.yml" deploy/prometheus/prometheus.yml || fail "deploy/prometheus/prometheus.yml differs from the rendering"
cmp -s "$TMP/out/prometheus/feeds.rules.yml" deploy/prometheus/feeds.rules.yml || fail "deploy/prometheus/feeds.rules.yml differs from the rendering"
# the output depends on the file only: a second rendering is identical
"$GEN" render "$EX" "$TMP/again" && diff -r "$TMP/out" "$TMP/again" >/dev/null || fail "two renderings differ"
echo "ok: $(ls "$TMP"/out/k8s/*.yaml | wc -l) manifests, $(ls "$TMP"/out/env | wc -l) env files, $(ls "$TMP"/out/etc | wc -l) JSON files, prometheus.yml: as checked in"

echo "== 2. the manifests and the scrape configuration"
python3 - "$TMP/out/k8s" <<'PY' || fail "YAML structure"
import os, sys
import yaml
d = sys.argv[1]
n = 0
kinds = {}
for f in sorted(os.listdir(d)):
    for doc in yaml.safe_load_all(open(os.path.join(d, f))):
        if doc is None:
            continue
        n += 1
        for k in ("apiVersion", "kind"):
            assert k in doc, f"{f}: a document without {k}"
        if doc["kind"] != "Kustomization":
            md = doc.get("metadata") or {}
            assert md.get("name") and md.get("namespace") == "besu-network", f"{f}: {doc['kind']} without name/namespace"
        kinds[doc["kind"]] = kinds.get(doc["kind"], 0) + 1
for k in ("StatefulSet", "Deployment", "Service", "ConfigMap", "NetworkPolicy", "PodDisruptionBudget", "Secret"):
    assert kinds.get(k), f"no {k} rendered"
print(f"ok: {n} YAML documents parse: " + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items())))
PY
out=$(python3 deploy/k8s/validate.py "$TMP/out/k8s") || { echo "$out"; fail "validate.py refused the rendered manifests"; }
echo "ok: ${out##*$'\n'}"
if command -v kubectl >/dev/null; then
	kubectl kustomize "$TMP/out/k8s" >"$TMP/all.yaml" 2>"$TMP/kout" || { cat "$TMP/kout"; fail "kubectl kustomize refused the rendered manifests"; }
	echo "ok: kubectl kustomize renders them ($(grep -c '^kind:' "$TMP/all.yaml") objects)"
else
	echo "skip: kubectl not installed (kustomize rendering not checked)"
fi
cp deploy/prometheus/rules.yml "$TMP/out/prometheus/"
promtool check config "$TMP/out/prometheus/prometheus.yml" >/dev/null || fail "promtool check config refused the rendered prometheus.yml"
echo "ok: promtool check config (rendered prometheus.yml)"
# labels the seed's checks select on (kubectl get pods -n besu-network -l app=...)
for app in oracle-publisher ccip-monitor financial-tokenization; do
	grep -q "app: $app}" "$TMP"/out/k8s/*.yaml || fail "no pod labelled app=$app"
done
echo "ok: pods labelled app=oracle-publisher, app=ccip-monitor, app=financial-tokenization"

echo "== 3. every actor accepts its rendered environment (--check-config)"
# The example with its host paths in this test's directory: the same rendering otherwise.
jq --arg t "$TMP/h" '.host.etc_dir=$t+"/out/etc" | .host.keys_dir=$t+"/keys" | .host.state_dir=$t+"/state"
	| .signers[0].key.file=$t+"/keys/signer-0.key"' "$EX" >"$TMP/host.json"
mkdir -p "$TMP/h/keys" "$TMP/h/state"
"$GEN" render "$TMP/host.json" "$TMP/h/out" || fail "render with host paths"
"$GEN" instances "$TMP/host.json" >"$TMP/instances"
(
	umask 077
	while read -r actor inst; do
		[ "$actor" = busd ] && continue
		"$B/bus-tap" --keygen | awk '/^secret/{print $2}' >"$TMP/h/keys/$inst.bus"
	done <"$TMP/instances"
	python3 -c "import secrets; print(secrets.token_hex(32))" >"$TMP/h/keys/signer-0.key"
)
check_env() { # ACTOR ENVFILE: the actor's --check-config on exactly that file's variables
	local a=$1 f=$2 vars=()
	while IFS= read -r line; do
		[[ -z "$line" || "$line" == \#* ]] || vars+=("$line")
	done <"$f"
	env -i PATH="$PATH" "${vars[@]}" "$T_ROOT/deploy/bin/oraclebus-run" "$B/$a" --check-config
}
n=0
while read -r actor inst; do
	rc=0
	check_env "$actor" "$TMP/h/out/run/$inst.env" >"$TMP/cc.out" 2>&1 || rc=$?
	[ $rc = 0 ] || { cat "$TMP/cc.out"; fail "$actor --check-config on run/$inst.env: exit $rc"; }
	n=$((n + 1))
done <"$TMP/instances"
[ "$n" -ge 12 ] || fail "only $n instances rendered"
echo "ok: $n actors exit 0 with --check-config on their rendered env: $(awk '{print $2}' "$TMP/instances" | tr '\n' ' ')"
# ...and the same check refuses a broken value (the check is not a formality)
sed 's/^QUORUM=.*/QUORUM=0/' "$TMP/h/out/run/median-0.env" >"$TMP/bad.env"
rc=0; check_env median "$TMP/bad.env" >"$TMP/cc.out" 2>&1 || rc=$?
[ $rc = 78 ] && grep -q QUORUM "$TMP/cc.out" || fail "median --check-config accepted QUORUM=0 (exit $rc)"
sed 's/"aggregator": "0x1000000000000000000000000000000000000001"/"aggregator": "0x10"/' "$TMP/h/out/etc/gate-0.json" >"$TMP/h/out/etc/gate-bad.json"
sed "s#gate-0.json#gate-bad.json#" "$TMP/h/out/run/gate-0.env" >"$TMP/bad.env"
rc=0; check_env gate "$TMP/bad.env" >"$TMP/cc.out" 2>&1 || rc=$?
[ $rc = 78 ] || fail "gate --check-config accepted a bad aggregator in its FEEDS_FILE (exit $rc)"
echo "ok: --check-config refuses QUORUM=0 (median) and a bad aggregator in FEEDS_FILE (gate): exit 78"

echo "== 3b. a remote signer (Web3Signer, Clef) instead of a key file"
jq '.signers[0].key={"remote_signer_url": "https://web3signer.besu-network:9000"}' "$TMP/host.json" >"$TMP/remote.json"
"$GEN" render "$TMP/remote.json" "$TMP/rs" || fail "render with a remote signer"
grep -q '^REMOTE_SIGNER_URL=https://web3signer.besu-network:9000$' "$TMP/rs/run/signer-0.env" &&
	grep -q '^REMOTE_SIGNER_ADDRESS=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266$' "$TMP/rs/run/signer-0.env" &&
	! grep -q PRIVATE_KEY "$TMP/rs/run/signer-0.env" "$TMP/rs/k8s/signer.yaml" || fail "remote signer env"
rc=0; check_env signer "$TMP/rs/run/signer-0.env" >"$TMP/cc.out" 2>&1 || rc=$?
[ $rc = 0 ] || { cat "$TMP/cc.out"; fail "signer --check-config with a remote signer: exit $rc"; }
out=$(python3 deploy/k8s/validate.py "$TMP/rs/k8s") || { echo "$out"; fail "validate.py refused the remote signer's manifests"; }
grep -q "name: signer-0-remote-signer" "$TMP/rs/k8s/networkpolicy.yaml" || fail "no egress policy to the remote signer"
sed -i 's/port: 9000}/port: 9000}\n        - {protocol: TCP, port: 8545}/' "$TMP/rs/k8s/networkpolicy.yaml"
python3 deploy/k8s/validate.py "$TMP/rs/k8s" >/dev/null && fail "validate.py let the signer reach the RPC port next to its remote signer"
echo "ok: remote signer: REMOTE_SIGNER_URL/ADDRESS, no key volume, --check-config 0, egress to its port only (a wider policy is refused)"

echo "== 3c. a keystore signer (KEYSTORE_FILE + KEYSTORE_PASSWORD_FILE): a real keystore made by ethers.js"
# anvil's first key: the example's signer address 0xf39F...2266
(
	umask 077
	printf 'correct horse battery\n' >"$TMP/h/keys/signer-0.pw"
	(cd tests/chain && node keystore.js 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 \
		"correct horse battery" "$TMP/h/keys/signer-0.json" 1024) >"$TMP/ks.addr"
)
[ "$(cat "$TMP/ks.addr")" = 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 ] || fail "keystore.js made a keystore of $(cat "$TMP/ks.addr")"
jq --arg t "$TMP/h" '.signers[0].key={"keystore_file": ($t+"/keys/signer-0.json"),
	"keystore_password_file": ($t+"/keys/signer-0.pw"), "k8s_secret": "signer-0-keystore"}' "$TMP/host.json" >"$TMP/ks.json"
"$GEN" render "$TMP/ks.json" "$TMP/ks" || fail "render with a keystore signer"
for t in env run; do
	grep -q "^KEYSTORE_FILE=$TMP/h/keys/signer-0.json$" "$TMP/ks/$t/signer-0.env" &&
		grep -q "^KEYSTORE_PASSWORD_FILE=$TMP/h/keys/signer-0.pw$" "$TMP/ks/$t/signer-0.env" &&
		! grep -q "PRIVATE_KEY\|KEYSTORE_PASSWORD=" "$TMP/ks/$t/signer-0.env" || fail "keystore signer: $t/signer-0.env: $(grep -i key "$TMP/ks/$t/signer-0.env")"
done
rc=0; check_env signer "$TMP/ks/run/signer-0.env" >"$TMP/cc.out" 2>&1 || rc=$?
[ $rc = 0 ] || { cat "$TMP/cc.out"; fail "signer --check-config with the rendered keystore env: exit $rc"; }
# --check-config decrypts the keystore: a wrong password is refused (the check is real)
printf 'wrong\n' >"$TMP/h/keys/signer-0.pw"
rc=0; check_env signer "$TMP/ks/run/signer-0.env" >"$TMP/cc.out" 2>&1 || rc=$?
[ $rc = 78 ] && grep -q "MAC mismatch" "$TMP/cc.out" || { cat "$TMP/cc.out"; fail "signer --check-config accepted a wrong keystore password (exit $rc)"; }
out=$(python3 deploy/k8s/validate.py "$TMP/ks/k8s") || { echo "$out"; fail "validate.py refused the keystore signer's manifests"; }
grep -q "items: \[{key: keystore.json, path: keystore.json}, {key: password, path: password}\]" "$TMP/ks/k8s/signer.yaml" &&
	grep -q '{name: KEYSTORE_FILE, value: "/run/oraclebus-key/keystore.json"}' "$TMP/ks/k8s/signer.yaml" &&
	grep -q "limits: {memory: 320Mi}" "$TMP/ks/k8s/signer.yaml" &&
	grep -q "name: signer-0-keystore" "$TMP/ks/k8s/secrets.example.yaml" || fail "keystore signer manifests"
sed 's#{name: KEYSTORE_PASSWORD_FILE, value: "/run/oraclebus-key/password"}#{name: KEYSTORE_PASSWORD, value: "x"}#' "$TMP/ks/k8s/signer.yaml" >"$TMP/ks/s.yaml" && mv "$TMP/ks/s.yaml" "$TMP/ks/k8s/signer.yaml"
python3 deploy/k8s/validate.py "$TMP/ks/k8s" >/dev/null && fail "validate.py let a keystore password into the environment"
echo "ok: keystore signer: KEYSTORE_FILE/KEYSTORE_PASSWORD_FILE rendered, --check-config decrypts it (0; wrong password 78), Secret copied to memory, 320Mi for scrypt"

echo "== 3d. two signers: the trust lists hold every key (alert. takes 10), the erc20 signer alone takes tx.request"
keypub() { "$B/bus-tap" --keygen | awk '/^public/{print $2}'; }
jq --arg t "$TMP/h" --arg e "$TMP/two/etc" --arg p1 "$(keypub)" --arg p2 "$(keypub)" '.host.etc_dir=$e | .signers += [.signers[0] | .name="signer-1"
	| .address="0x70997970C51812dc3A010C7d01b50e0d17dc79C8" | .bus_public_key=$p1 | .submitter_bus_public_key=$p2
	| .key={"file": ($t+"/keys/signer-1.key"), "k8s_secret": "signer-1-key"}]
	| .feeds[0].signer="signer-0" | .feeds[1].signer="signer-0" | .feeds[2].signer="signer-1"
	| .tokenizer.erc20.signer="signer-1"' "$TMP/host.json" >"$TMP/two.json"
"$GEN" render "$TMP/two.json" "$TMP/two" || fail "render with two signers"
"$GEN" instances "$TMP/two.json" >"$TMP/two.inst"
(umask 077; python3 -c "import secrets; print(secrets.token_hex(32))" >"$TMP/h/keys/signer-1.key"
	for i in signer-1 submitter-1; do "$B/bus-tap" --keygen | awk '/^secret/{print $2}' >"$TMP/h/keys/$i.bus"; done)
n=$(grep '^BUS_TRUST=' "$TMP/two/run/gate-0.env" | tr ';' '\n' | awk -F= '$1=="alert."{print $2}' | tr ',' '\n' | wc -l)
[ "$n" = 10 ] || fail "two signers: $n keys in alert. (want 10)"
grep -q ';tx.request=' "$TMP/two/run/signer-1.env" && ! grep -q ';tx.request=' "$TMP/two/run/signer-0.env" "$TMP/two/run/gate-0.env" &&
	grep -q '^ALLOWED_CONTRACTS=0x4000000000000000000000000000000000000001$' "$TMP/two/run/signer-1.env" &&
	! grep -q ALLOWED_CONTRACTS "$TMP/two/run/signer-0.env" || fail "two signers: tx.request / ALLOWED_CONTRACTS not on signer-1 alone"
while read -r actor inst; do
	case $actor in signer | submitter | token-erc20) ;; *) continue ;; esac
	rc=0; check_env "$actor" "$TMP/two/run/$inst.env" >"$TMP/cc.out" 2>&1 || rc=$?
	[ $rc = 0 ] || { cat "$TMP/cc.out"; fail "two signers: $actor --check-config on run/$inst.env: exit $rc"; }
done <"$TMP/two.inst"
out=$(python3 deploy/k8s/validate.py "$TMP/two/k8s") || { echo "$out"; fail "validate.py refused the two signers' manifests"; }
echo "ok: two signers: alert. trusts 10 keys, every signer, submitter and token-erc20 --check-config 0, tx.request and the tokens on signer-1 only, manifests valid"

echo "== 3e. 1,000 feeds in 2 shards x 3 sources: every share whole, every actor's --check-config 0; 1,025 in a shard refused"
# feeds and sources one per line, so that a problem's line is the line of its feed
many() { # NFEEDS NSHARDS OUT: host.json with generated feeds (F0000-USD..) and 3 sources each (groups a, b, c)
	python3 - "$TMP/host.json" "$1" "$2" "$TMP/many/etc" >"$3" <<'PY'
import json, sys
src, n, shards, etc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
d = json.load(open(src))
d["host"]["etc_dir"] = etc
feeds = [{"name": "F%04d-USD" % i, "aggregator": "0x%040x" % (i + 1), "deviation": "0.5", "heartbeat": "1h",
          "shard": i % shards} for i in range(n)]
sources = [{"group": g, "feed": "F%04d-USD" % i, "name": "s" + g, "kind": "coinbase",
            "url": "https://api.coinbase.com/v2/prices/F%04d-USD/spot" % i} for i in range(n) for g in "abc"]
d["feeds"], d["sources"] = "@FEEDS@", "@SOURCES@"
text = json.dumps(d, indent=2)
text = text.replace('"@FEEDS@"', "[\n" + ",\n".join("    " + json.dumps(f) for f in feeds) + "\n  ]")
text = text.replace('"@SOURCES@"', "[\n" + ",\n".join("    " + json.dumps(s) for s in sources) + "\n  ]")
print(text)
PY
}
many 1000 2 "$TMP/many.json"
"$GEN" render "$TMP/many.json" "$TMP/many" || fail "render of 1,000 feeds"
"$GEN" instances "$TMP/many.json" >"$TMP/many.inst"
(umask 077; while read -r actor inst; do
	[ "$actor" = busd ] || [ -f "$TMP/h/keys/$inst.bus" ] || "$B/bus-tap" --keygen | awk '/^secret/{print $2}' >"$TMP/h/keys/$inst.bus"
done <"$TMP/many.inst")
nfeeds() { grep "^FEEDS=" "$1" | cut -d= -f2- | tr ',' '\n' | grep -c .; }
for t in env run; do
	[ "$(nfeeds "$TMP/many/$t/median-0.env")" = 500 ] && [ "$(nfeeds "$TMP/many/$t/median-1.env")" = 500 ] &&
		[ "$(nfeeds "$TMP/many/$t/signer-0.env")" = 1000 ] || fail "1,000 feeds: FEEDS of $t/median-0, median-1, signer-0: $(nfeeds "$TMP/many/$t/median-0.env"), $(nfeeds "$TMP/many/$t/median-1.env"), $(nfeeds "$TMP/many/$t/signer-0.env")"
	[ "$(cat "$TMP/many/$t/median-0.env" "$TMP/many/$t/median-1.env" | grep "^FEEDS=" | cut -d= -f2- | tr ',' '\n' | sort -u | wc -l)" = 1000 ] || fail "1,000 feeds: the medians do not hold 1,000 distinct feeds"
done
got=$(for f in gate-0 gate-1 signer-0 fetcher-a fetcher-b fetcher-c; do jq '.feeds | length' "$TMP/many/etc/$f.json"; done | tr '\n' ' ')
[ "$got" = "500 500 1000 1000 1000 1000 " ] || fail "1,000 feeds: feeds in gate-0, gate-1, signer-0, fetcher-a..c.json: $got"
n=0
while read -r actor inst; do
	case $actor in fetcher | median | gate | signer) ;; *) continue ;; esac
	rc=0; check_env "$actor" "$TMP/many/run/$inst.env" >"$TMP/cc.out" 2>&1 || rc=$?
	[ $rc = 0 ] || { cat "$TMP/cc.out"; fail "1,000 feeds: $actor --check-config on run/$inst.env: exit $rc"; }
	n=$((n + 1))
done <"$TMP/many.inst"
[ $n = 8 ] || fail "1,000 feeds: $n fetchers, medians, gates and signers checked (want 8)"
out=$(python3 deploy/k8s/validate.py "$TMP/many/k8s") || { echo "$out"; fail "validate.py refused the 1,000 feeds' manifests"; }
echo "ok: 1,000 feeds: FEEDS 500 + 500 (medians), 1000 (signer), files 500 + 500 (gates), 1000 (signer, each fetcher); fetcher, median, gate, signer --check-config 0 on all 8; manifests valid"
many 1025 1 "$TMP/over.json"
line=$(grep -n '"name": "F1024-USD"' "$TMP/over.json" | cut -d: -f1)
rc=0; "$GEN" render "$TMP/over.json" "$TMP/over" 2>"$TMP/err.txt" || rc=$?
[ $rc = 78 ] && [ ! -e "$TMP/over" ] &&
	grep -qF "over.json:$line: feeds[1024].shard: shard 0 has 1025 feeds, at most 1024" "$TMP/err.txt" || fail "1,025 feeds in a shard: exit $rc: $(cat "$TMP/err.txt")"
echo "ok: 1,025 feeds in one shard: exit 78, nothing written: $(grep -F 'feeds[1024].shard' "$TMP/err.txt")"

echo "== 4. broken configurations: exit 78, the line named, nothing written"
broken() { # NAME OLD NEW MARKER MESSAGE: replace OLD by NEW once; the error must name MARKER's line and MESSAGE
	local name=$1 old=$2 new=$3 marker=$4 msg=$5
	python3 - "$EX" "$TMP/broken.json" "$old" "$new" <<'PY'
import sys
src, dst, old, new = sys.argv[1:5]
s = open(src).read()
assert old in s, old
open(dst, "w").write(s.replace(old, new, 1))
PY
	local line
	line=$(grep -nF -- "$marker" "$TMP/broken.json" | head -1 | cut -d: -f1)
	[ -n "$line" ] || fail "$name: marker $marker not in the broken file"
	rm -rf "$TMP/nothing"
	rc=0; "$GEN" render "$TMP/broken.json" "$TMP/nothing" >"$TMP/out.txt" 2>"$TMP/err.txt" || rc=$?
	[ $rc = 78 ] || fail "$name: exit $rc, want 78: $(cat "$TMP/err.txt")"
	grep -qF "broken.json:$line: " "$TMP/err.txt" || fail "$name: line $line not named: $(cat "$TMP/err.txt")"
	grep "broken.json:$line: " "$TMP/err.txt" | grep -qF -- "$msg" || fail "$name: '$msg' not said at line $line: $(cat "$TMP/err.txt")"
	[ ! -e "$TMP/nothing" ] || fail "$name: render wrote $TMP/nothing despite the error"
	echo "ok: $name -> $(grep "broken.json:$line: " "$TMP/err.txt" | head -1)"
}
broken "unknown key" '"deviation": "1", "heartbeat"' '"deviation": "1", "colour": "red", "heartbeat"' \
	'"colour": "red"' 'feeds[2].colour: unknown key'
broken "bad address" '"aggregator": "0x1000000000000000000000000000000000000002"' '"aggregator": "0x10000000000000000000000000000000000002"' \
	'"aggregator": "0x10000000000000000000000000000000000002"' "feeds[1].aggregator: '0x10000000000000000000000000000000000002' is not an address"
broken "EIP-55 checksum" '"address": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"' '"address": "0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266"' \
	'"address": "0xF39F' 'signers[0].address:'
broken "feed referenced but not defined" '"feed": "LINK-USD", "name": "binance"' '"feed": "DOGE-USD", "name": "binance"' \
	'"DOGE-USD"' "sources[10].feed: feed 'DOGE-USD' is not defined in feeds"
broken "duplicate feed" '{"name": "BTC-USD"' '{"name": "ETH-USD"' \
	'"name": "ETH-USD", "decimals": 8, "aggregator": "0x1000000000000000000000000000000000000002"' "feeds[1].name: duplicate feed 'ETH-USD'"
broken "threshold out of range" '"deviation": "0.5", "heartbeat": "1h", "min_interval": "5s", "shard": 0,
     "min_answer": "1", "max_answer": "10000000"' '"deviation": "150", "heartbeat": "1h", "min_interval": "5s", "shard": 0,
     "min_answer": "1", "max_answer": "10000000"' '"deviation": "150"' "feeds[1].deviation: '150' % is out of range"
broken "zero deviation" '"deviation": "1", "heartbeat"' '"deviation": "0", "heartbeat"' '"deviation": "0"' "feeds[2].deviation:"
broken "signer not defined" '"shard": 1,' '"shard": 1, "signer": "signer-7",' '"signer-7"' "feeds[2].signer: signer 'signer-7' is not defined"
broken "a key instead of a reference" '"key": {"file"' '"key": {"private_key": "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d", "file"' \
	'"private_key"' 'signers[0].key.private_key: unknown key'
broken "a bus public key that is no key" '"gate": "c125d58cd2a509a47c12485dd662d3354efae9b89a7463185626ca07f1fac637"' '"gate": "c125d58cd2a509a47c12485dd662d3354efae9b89a7463185626ca07f1fac6"' \
	'"gate": "c125' 'bus.public_keys.gate: a public key is 64 hex digits'
broken "quorum above the sources" '"quorum": 2' '"quorum": 5' '"name": "ETH-USD"' "feed ETH-USD has 4 source(s), below the median's quorum 5"
broken "median window longer than a heartbeat" '"deviation": "1", "heartbeat": "1h"' '"deviation": "1", "heartbeat": "30s"' \
	'"heartbeat": "30s"' "feeds[2].heartbeat: feed LINK-USD: heartbeat '30s' is shorter than median.window '60s'"
broken "a keystore without its password file" '"key": {"file": "/etc/oraclebus/keys/signer-0.key",' '"key": {"keystore_file": "/etc/oraclebus/keys/signer-0.json",' \
	'"keystore_file"' 'signers[0].key: keystore_file and keystore_password_file go together'
broken "a key file and a keystore" '"key": {"file": "/etc/oraclebus/keys/signer-0.key",' '"key": {"file": "/etc/oraclebus/keys/signer-0.key", "keystore_file": "/k.json", "keystore_password_file": "/k.pw",' \
	'"keystore_file"' 'file or keystore_file, not both'
broken "erc20 signer not defined" '"erc20": {"signer": "signer-0"' '"erc20": {"signer": "signer-3"' \
	'"signer-3"' "tokenizer.erc20.signer: signer 'signer-3' is not defined"
broken "an erc20 token without its contract" '"USD": {"backend": "erc20", "address": "0x4000000000000000000000000000000000000001",' '"USD": {"backend": "erc20",' \
	'"USD": {"backend": "erc20",' 'tokenizer.config.tokens.USD: address: required'
broken "FireFly's URL" '"url": "http://firefly.besu-network:5000"' '"url": "firefly:5000"' \
	'"url": "firefly:5000"' 'tokenizer.firefly.url:'
broken "JSON syntax" '"log_level": "info",' '"log_level": "info"' '"monitoring_namespace"' "column"
broken "duplicate member" '"replicas": 2,' '"replicas": 2, "replicas": 1,' '"replicas": 2, "replicas": 1' "duplicate object key"

echo "== 5. actor READMEs: env tables equal --env-table"
out=$(BUILD=$BUILD python3 tools/readme-env.py) || { echo "$out"; fail "an actor README is out of step (tools/readme-env.py --fix)"; }
echo "ok: ${out##*$'\n'}"
mkdir -p "$TMP/r/actors"
for d in actors/*/; do [ -f "$d/README.md" ] && mkdir -p "$TMP/r/$d" && cp "$d/README.md" "$TMP/r/$d"; done
grep -v '^| `BUS_TLS_CA`' actors/gate/README.md >"$TMP/r/actors/gate/README.md"
rc=0; out=$(BUILD=$BUILD python3 tools/readme-env.py --root "$TMP/r") || rc=$?
[ $rc = 1 ] && grep -q "gate/README.md: \`BUS_TLS_CA\` missing" <<<"$out" || fail "readme-env.py missed a missing row: $out"
echo "ok: a README without its BUS_TLS_CA row is caught"

echo "deploy_config: all passed"
