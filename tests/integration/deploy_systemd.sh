#!/usr/bin/env bash
# deploy/systemd: `systemd-analyze verify` of every template unit (an instance of each, with
# ExecStart pointed at this build so the programs exist; any warning fails) when systemd-analyze is
# installed, deploy/systemd/check.py's static checks always, and broken copies that must be refused.
set -euo pipefail
export HTTP_PORT=${HTTP_PORT-0} # actors listen on the seed's 8000/8080 unless told: here, no HTTP unless a start asks (docs/MIGRATION.md)
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
S=deploy/systemd

verify() {  # DIR: every template of DIR verified as an instance; prints what systemd says
	local dir=$1 u n=0 out=""
	for u in "$dir"/oraclebus-*@.service; do
		sed -i "s#/usr/local/bin/oraclebus-run#$PWD/deploy/bin/oraclebus-run#; s#/usr/local/bin/#$PWD/$BUILD/bin/#" "$u"
	done
	# A program not built in this tree (an actor on another branch) is stood in for by /bin/true.
	for u in "$dir"/oraclebus-*@.service; do
		prog=$(awk -F'[ =]' '/^ExecStart=/{print $NF}' "$u")
		[ -x "$prog" ] || { sed -i "s#$prog#/bin/true#" "$u"; echo "note: $(basename "$u"): $prog not built here, verified with /bin/true"; }
	done
	(cd "$dir" && for u in oraclebus-*@.service; do systemd-analyze verify "${u%@.service}@x.service" 2>&1; done;
		systemd-analyze verify oraclebus.target 2>&1)
}

if command -v systemd-analyze >/dev/null; then
	rm -rf "$TMP/u" && mkdir "$TMP/u" && cp "$S"/*.service "$S"/oraclebus.target "$TMP/u/"
	out=$(verify "$TMP/u")
	notes=$(echo "$out" | grep '^note:' || true)
	rest=$(echo "$out" | grep -v '^note:' || true)
	[ -n "$notes" ] && echo "$notes"
	[ -z "$rest" ] && ok "systemd-analyze verify: $(ls "$S"/*@.service | wc -l) template units and oraclebus.target, no warning" ||
		{ echo "$rest"; bad "systemd-analyze verify"; }
	# verify must be able to fail
	cp -r "$TMP/u" "$TMP/v" && sed -i 's/^ProtectSystem=strict/ProtectSystem=stricter/' "$TMP/v/oraclebus-gate@.service"
	[ -n "$(cd "$TMP/v" && systemd-analyze verify oraclebus-gate@x.service 2>&1)" ] &&
		ok "systemd-analyze verify refuses a bad hardening value" || bad "systemd-analyze verify accepted ProtectSystem=stricter"
else
	echo "skip: systemd-analyze not installed (static checks only)"
fi

if python3 $S/check.py >"$TMP/out" 2>&1; then ok "$(tail -1 "$TMP/out")"; else cat "$TMP/out"; bad "deploy/systemd/check.py"; fi
grep '^note:' "$TMP/out" || true

mutate() {  # name file old new
	rm -rf "$TMP/s" && cp -r $S "$TMP/s"
	python3 - "$TMP/s/$2" "$3" "$4" <<'PY'
import sys
p, old, new = sys.argv[1:4]
s = open(p).read()
assert old in s, old
open(p, "w").write(s.replace(old, new, 1))
PY
	if python3 $S/check.py "$TMP/s" >"$TMP/out" 2>&1; then bad "check.py accepted: $1"; else ok "check.py refuses: $1"; fi
	[ -z "${DEPLOY_CHECKS_VERBOSE:-}" ] || grep FAIL "$TMP/out" | sed 's/^/      /' || true
}
mutate "the signer may dump core" oraclebus-signer@.service "LimitCORE=0" "LimitCORE=infinity"
mutate "the signer as a DynamicUser" oraclebus-signer@.service "User=oraclebus-signer" "DynamicUser=yes"
mutate "a writable system" oraclebus-gate@.service "ProtectSystem=strict" "ProtectSystem=full"
mutate "restart loops on a configuration error" oraclebus-median@.service "RestartPreventExitStatus=78" "RestartPreventExitStatus="
mutate "a key in Environment=" oraclebus-fetcher@.service "Environment=BUS_SIGNING_KEY_FILE=%d/bus-signing-key" "Environment=BUS_SIGNING_KEY=00"
mutate "a misspelt variable" env/median-0.env "QUORUM=2" "QUOROM=2"
mutate "two instances on one port" env/fetcher-b.env "METRICS_PORT=8002" "METRICS_PORT=8001"
mutate "a health port taken by another instance" env/gate-1.env "HEALTH_PORT=8086" "HEALTH_PORT=8005"
mutate "a key source set by the signer unit (the env file names it)" oraclebus-signer@.service "User=oraclebus-signer" "User=oraclebus-signer
Environment=PRIVATE_KEY_FILE=/etc/oraclebus/keys/signer-%i.key"
mutate "two key sources in the signer's env file" env/signer-0.env "PRIVATE_KEY_FILE=/etc/oraclebus/keys/signer-0.key" "PRIVATE_KEY_FILE=/etc/oraclebus/keys/signer-0.key
REMOTE_SIGNER_URL=http://127.0.0.1:9000"
mutate "the token-erc20 unit outside oraclebus.target" oraclebus-token-erc20@.service "PartOf=oraclebus.target" "PartOf="
mutate "state outside StateDirectory" oraclebus-submitter@.service "Environment=STATE_DIR=%S/oraclebus/submitter-%i" "Environment=STATE_DIR=/tmp/submitter"

[ "$fails" -eq 0 ] && echo "deploy_systemd: all passed" || { echo "deploy_systemd: $fails failed"; exit 1; }
