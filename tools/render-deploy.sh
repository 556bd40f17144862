#!/usr/bin/env bash
# render-deploy.sh - renders deploy/oraclebus.example.json with tools/ob-config into the checked-in
# deployment files: deploy/k8s/*.yaml (but validate.py), deploy/systemd/env/*.env and
# deploy/systemd/etc/*.json, deploy/prometheus/prometheus.yml and feeds.rules.yml. Run it after editing the example or
# the generator; tests/integration/deploy_config.sh fails when the checked-in files differ.
#   tools/render-deploy.sh [OUTDIR]     OUTDIR given: render there only (what the test compares)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
gen="$root/${BUILD:-build}/bin/ob-config"
[ -x "$gen" ] || { echo "render-deploy: $gen not built (make)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$gen" render "$root/deploy/oraclebus.example.json" "$tmp/out"
if [ $# -eq 1 ]; then
	rm -rf "$1" && cp -r "$tmp/out" "$1"
	exit 0
fi
d=$root/deploy
find "$d/k8s" -name '*.yaml' -delete
cp "$tmp/out/k8s/"*.yaml "$d/k8s/"
rm -rf "$d/systemd/env" "$d/systemd/etc"
cp -r "$tmp/out/env" "$d/systemd/env"
cp -r "$tmp/out/etc" "$d/systemd/etc"
cp "$tmp/out/prometheus/prometheus.yml" "$tmp/out/prometheus/feeds.rules.yml" "$d/prometheus/"
python3 "$root/tools/gen-prometheusrule.py"   # the PrometheusRule carries the feeds' heartbeats too
echo "render-deploy: deploy/k8s, deploy/systemd/env, deploy/systemd/etc, deploy/prometheus/prometheus.yml and feeds.rules.yml rendered from deploy/oraclebus.example.json"
