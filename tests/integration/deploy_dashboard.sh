#!/usr/bin/env bash
# deploy/grafana/oraclebus.json: every panel's and variable's PromQL parses (promtool) and names
# only metrics the actors export (tools/metric-names.py, from the C sources) or rules.yml records;
# the rules get the same metric check. The source scan is proved complete against live actors:
# busd and a median are started and every family their /metrics shows must be in the scan, with
# its type. Broken copies (a renamed metric in a panel or a rule, an unparsable query, an unknown
# variable, a missing topic) must be refused.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
BUILD=${BUILD:-build}
fails=0
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
command -v promtool >/dev/null || { echo "FAIL: promtool missing (apt-get install prometheus; make deps)"; exit 1; }
PY=python3; python3 -c 'import yaml' 2>/dev/null || { /usr/bin/python3 -c 'import yaml' 2>/dev/null && PY=/usr/bin/python3; }
D=deploy/grafana/oraclebus.json

if $PY deploy/grafana/check.py >"$TMP/out" 2>&1; then ok "$(tail -1 "$TMP/out")"; else cat "$TMP/out"; bad "deploy/grafana/check.py"; fi
grep '^note:' "$TMP/out" || true

# The scan must know every family a running actor exports.
ingress=$(free_port); egress=$(free_port); hb=$(free_port); hm=$(free_port)
BUSD_INGRESS="tcp://127.0.0.1:$ingress" BUSD_EGRESS="tcp://127.0.0.1:$egress" JOURNAL_DIR="$TMP/journal" \
	HTTP_PORT=$hb HTTP_ADDR=127.0.0.1 "$BUILD/bin/busd" >"$TMP/busd.log" 2>&1 &
PIDS+=($!)
BUS_PUB_URL="tcp://127.0.0.1:$ingress" BUS_SUB_URL="tcp://127.0.0.1:$egress" FEEDS=ETH-USD \
	HTTP_PORT=$hm HTTP_ADDR=127.0.0.1 "$BUILD/bin/median" >"$TMP/median.log" 2>&1 &
PIDS+=($!)
wait_for 30 "busd /metrics" curl -fsS -o "$TMP/busd.prom" "http://127.0.0.1:$hb/metrics"
wait_for 30 "median /metrics" curl -fsS -o "$TMP/median.prom" "http://127.0.0.1:$hm/metrics"
kill -TERM "${PIDS[@]}" 2>/dev/null || true
wait "${PIDS[@]}" 2>/dev/null || true
PIDS=()
$PY tools/metric-names.py >"$TMP/scan"
missing=$(cat "$TMP/busd.prom" "$TMP/median.prom" | awk '/^# TYPE /{print $3, $4}' | sort -u |
	while read -r name type; do
		grep -q "^$name	$type	" "$TMP/scan" || echo "$name ($type)"
	done)
n=$(cat "$TMP/busd.prom" "$TMP/median.prom" | awk '/^# TYPE /{print $3}' | sort -u | wc -l)
[ "$n" -ge 20 ] && [ -z "$missing" ] && ok "tools/metric-names.py knows all $n families busd and median export" ||
	bad "tools/metric-names.py misses: ${missing:-<none>} (families seen: $n)"

mutate() {  # name file old new: a broken copy must be refused
	local src=$2 dst="$TMP/$(basename "$2")"
	python3 - "$src" "$dst" "$3" "$4" <<'PY'
import sys
src, dst, old, new = sys.argv[1:5]
s = open(src).read()
assert old in s, old
open(dst, "w").write(s.replace(old, new, 1))
PY
	local d=$D r=deploy/prometheus/rules.yml
	[ "$src" = "$D" ] && d=$dst || r=$dst
	if $PY deploy/grafana/check.py "$d" "$r" >"$TMP/out" 2>&1; then bad "accepted: $1"; else ok "refuses: $1"; fi
	[ -z "${DEPLOY_CHECKS_VERBOSE:-}" ] || grep FAIL "$TMP/out" | sed 's/^/      /' || true
}
mutate "a renamed metric in a panel" $D "signer_outbox_pending" "signer_outbox_size"
mutate "a histogram without _bucket" $D "rate(submitter_confirm_seconds_bucket" "rate(submitter_confirm_seconds"
mutate "an unparsable query" $D "sum by (chain) (rate(ccip_reorgs_total" "sum by (chain (rate(ccip_reorgs_total"
mutate "an unknown variable" $D 'gate_deviation_ppm{feed=~\"$feed\"}' 'gate_deviation_ppm{feed=~\"$feeds\"}'
mutate "a renamed metric in the feed variable" $D '"query": "label_values(gate_onchain_age_seconds, feed)"' '"query": "label_values(gate_onchain_age, feed)"'
mutate "no panel for the oldest pending payment" $D "max(tokenization_oldest_pending_age_seconds)" "max(tokenization_pending)"
mutate "a renamed metric in an alert rule" deploy/prometheus/rules.yml "max by (source, feed) (fetcher_up)" "max by (source, feed) (fetcher_healthy)"

[ "$fails" -eq 0 ] && echo "deploy_dashboard: all passed" || { echo "deploy_dashboard: $fails failed"; exit 1; }
