#!/usr/bin/env bash
# deploy/: the Prometheus config and rules with the real promtool (check config, check rules,
# the rule unit tests of rules_test.yml), the Kubernetes manifests with deploy/k8s/validate.py
# (and `kubectl kustomize` when kubectl is installed), and proof that the checks can fail: broken
# copies of a manifest and of a rule must be refused.
set -euo pipefail
export HTTP_PORT=${HTTP_PORT-0} # actors listen on the seed's 8000/8080 unless told: here, no HTTP unless a start asks (docs/MIGRATION.md)
cd "$(dirname "$0")/../.."
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
command -v promtool >/dev/null || { echo "FAIL: promtool missing (apt-get install prometheus; make deps)"; exit 1; }
P=deploy/prometheus

promtool check rules "$P/rules.yml" "$P/feeds.rules.yml" "$P/feeds-demo.rules.yml" >"$TMP/out" 2>&1 && ok "promtool check rules (rules.yml, feeds.rules.yml)" || { cat "$TMP/out"; bad "promtool check rules"; }
promtool test rules "$P/rules_test.yml" >"$TMP/out" 2>&1 && ok "promtool test rules (rules_test.yml)" || { cat "$TMP/out"; bad "promtool test rules"; }
promtool check config "$P/prometheus-demo.yml" >"$TMP/out" 2>&1 && ok "promtool check config prometheus-demo.yml" || { cat "$TMP/out"; bad "promtool check config prometheus-demo.yml"; }
# prometheus.yml (one host): passes Debian's promtool as it is.
promtool check config "$P/prometheus.yml" >"$TMP/out" 2>&1 && ok "promtool check config prometheus.yml" || { cat "$TMP/out"; bad "promtool check config prometheus.yml"; }
# prometheus-kubernetes.yml: Debian's promtool has no Kubernetes discovery. Use it if it has;
# otherwise check the file with the kubernetes_sd_configs block swapped for a static one (the
# relabelling and the rest are still checked), and the block itself here.
K="$P/prometheus-kubernetes.yml"
if promtool check config "$K" >"$TMP/out" 2>&1; then
	ok "promtool check config prometheus-kubernetes.yml"
elif grep -q "field kubernetes_sd_configs not found" "$TMP/out"; then
	python3 - "$K" "$TMP/prometheus-static.yml" <<'PY' || bad "prometheus-kubernetes.yml kubernetes_sd block"
import re, sys
s = open(sys.argv[1]).read()
m = re.search(r"    kubernetes_sd_configs:\n      - role: pod\n        namespaces:\n          names: \[besu-network\]\n", s)
if not m:
    sys.exit("kubernetes_sd_configs: role pod in namespace besu-network not found")
for need in ("__meta_kubernetes_pod_annotation_prometheus_io_scrape", "__meta_kubernetes_pod_annotation_prometheus_io_port",
             "__meta_kubernetes_pod_label_app_kubernetes_io_name", "__meta_kubernetes_pod_label_app_kubernetes_io_part_of"):
    if need not in s:
        sys.exit("relabel on " + need + " missing")
open(sys.argv[2], "w").write(s.replace(m.group(0), "    static_configs:\n      - targets: ['127.0.0.1:8000']\n"))
PY
	cp "$P/rules.yml" "$P/feeds.rules.yml" "$TMP/"
	promtool check config "$TMP/prometheus-static.yml" >"$TMP/out" 2>&1 &&
		ok "promtool check config prometheus-kubernetes.yml (kubernetes_sd block checked by script: this promtool lacks it)" ||
		{ cat "$TMP/out"; bad "promtool check config prometheus-kubernetes.yml"; }
else
	cat "$TMP/out"; bad "promtool check config prometheus-kubernetes.yml"
fi

python3 deploy/k8s/validate.py >"$TMP/out" 2>&1 && ok "$(tail -1 "$TMP/out")" || { cat "$TMP/out"; bad "deploy/k8s/validate.py"; }
if command -v kubectl >/dev/null; then
	kubectl kustomize deploy/k8s >"$TMP/all.yaml" 2>"$TMP/out" && ok "kubectl kustomize deploy/k8s ($(grep -c '^kind:' "$TMP/all.yaml") objects)" ||
		{ cat "$TMP/out"; bad "kubectl kustomize"; }
	# The operator overlay names its base as a directory (resources: [../k8s]): kustomize >= 2.1
	# (kubectl >= 1.21). Debian 12's kubernetes-client is 1.20: it renders deploy/k8s only.
	minor=$(kubectl version --client -o json 2>/dev/null | python3 -c 'import json,sys; print(int("".join(c for c in json.load(sys.stdin)["clientVersion"]["minor"] if c.isdigit())))' 2>/dev/null || echo 0)
	if [ "$minor" -ge 21 ]; then
		kubectl kustomize deploy/k8s-prometheus-operator >"$TMP/op.yaml" 2>"$TMP/out" &&
			grep -q '^kind: PodMonitor' "$TMP/op.yaml" && grep -q '^kind: PrometheusRule' "$TMP/op.yaml" &&
			ok "kubectl kustomize deploy/k8s-prometheus-operator ($(grep -c '^kind:' "$TMP/op.yaml") objects, PodMonitor, PrometheusRule)" ||
			{ cat "$TMP/out"; bad "kubectl kustomize deploy/k8s-prometheus-operator"; }
	else
		echo "skip: kubectl 1.$minor renders no directory resources (deploy/k8s-prometheus-operator not rendered)"
	fi
else
	echo "skip: kubectl not installed (kustomize build not checked)"
fi
# The PrometheusRule is generated from rules.yml: it must not be stale.
if python3 -c 'import yaml' 2>/dev/null || /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
	py=python3; python3 -c 'import yaml' 2>/dev/null || py=/usr/bin/python3
	$py tools/gen-prometheusrule.py "$TMP/prometheusrule.yaml" &&
		cmp -s "$TMP/prometheusrule.yaml" deploy/k8s-prometheus-operator/prometheusrule.yaml &&
		ok "deploy/k8s-prometheus-operator/prometheusrule.yaml matches rules.yml" ||
		bad "deploy/k8s-prometheus-operator/prometheusrule.yaml is stale: run tools/gen-prometheusrule.py"
else
	bad "PyYAML missing (apt-get install python3-yaml; make deps)"
fi

# The checks must be able to fail.
mutate() {  # name file python-replace-old python-replace-new
	rm -rf "$TMP/k8s" && cp -r deploy/k8s "$TMP/k8s"
	python3 - "$TMP/k8s/$2" "$3" "$4" <<'PY'
import sys
p, old, new = sys.argv[1:4]
s = open(p).read()
assert old in s, old
open(p, "w").write(s.replace(old, new, 1))
PY
	if python3 deploy/k8s/validate.py "$TMP/k8s" >"$TMP/out" 2>&1; then bad "validate.py accepted: $1"; else ok "validate.py refuses: $1"; fi
	[ -z "${DEPLOY_CHECKS_VERBOSE:-}" ] || grep FAIL "$TMP/out" | sed "s/^/      /" || true
}
mutate "two signer replicas" signer.yaml "replicas: 1                   # NEVER" "replicas: 2                   # NEVER"
mutate "key Secret mode 0440" signer.yaml "defaultMode: 0400" "defaultMode: 0440"
mutate "root filesystem writable" gate.yaml "readOnlyRootFilesystem: true" "readOnlyRootFilesystem: false"
mutate "misspelt variable" median.yaml "name: QUORUM" "name: QUOROM"
mutate "one busd in BUS_SUB_URL" common-config.yaml "tls+tcp://busd-0.busd:7702,tls+tcp://busd-1.busd:7702" "tls+tcp://busd-0.busd:7702"
mutate "plain tcp:// next to the bus TLS files" common-config.yaml "tls+tcp://busd-0.busd:7701,tls+tcp://busd-1.busd:7701" "tcp://busd-0.busd:7701,tcp://busd-1.busd:7701"
mutate "BUS_TRUST without signer.lease" common-config.yaml ";signer.lease=" ";signer.leasex="
mutate "the one-port HTTP_PORT instead of the seed's two" gate.yaml '- {name: METRICS_PORT, value: "8000"}' '- {name: HTTP_PORT, value: "8000"}'
mutate "health probe on the metrics port" median.yaml "httpGet: {path: /health, port: health}" "httpGet: {path: /health, port: metrics}"
mutate "METRICS_PORT not the scraped port" submitter.yaml 'prometheus.io/port: "8000"' 'prometheus.io/port: "9100"'
mutate "a bus key in the environment (secretKeyRef)" submitter.yaml \
	'- {name: BUS_SIGNING_KEY_FILE, value: "/run/secrets/oraclebus/bus-signing-key"}' \
	"- {name: BUS_SIGNING_KEY, valueFrom: {secretKeyRef: {name: oraclebus-bus-keys, key: submitter-0}}}"
mutate "a secret file read without oraclebus-run" gate.yaml 'command: ["/usr/local/bin/oraclebus-run", "/usr/local/bin/gate"]' 'command: ["/usr/local/bin/gate"]'
mutate "pod labelled with no seed service" ccip-tail.yaml "app: ccip-monitor}" "app: oraclebus}"
mutate "tokenizer under the wrong service" tokenizer.yaml "app: financial-tokenization}" "app: oracle-publisher}"
mutate "no seccomp profile" median.yaml "        seccompProfile: {type: RuntimeDefault}" ""
mutate "no CPU request" alerter.yaml "requests: {cpu: 20m, memory: 32Mi}" "requests: {memory: 32Mi}"
mutate "bus ports open to the whole namespace" networkpolicy.yaml \
	"    - from:
        - podSelector:
            matchLabels: {app.kubernetes.io/part-of: oraclebus}" \
	"    - from:
        - podSelector: {}"
mutate "signer allowed to reach the RPC" networkpolicy.yaml "values: [gate, submitter, ccip-tail, token-erc20]" "values: [gate, submitter, ccip-tail, token-erc20, signer]"
mutate "token-erc20 without its RPC" networkpolicy.yaml "values: [gate, submitter, ccip-tail, token-erc20]" "values: [gate, submitter, ccip-tail]"
mutate "token-firefly allowed beyond FireFly's port" networkpolicy.yaml "        - {protocol: TCP, port: 5000}" "        - {protocol: TCP, port: 5000}
        - {protocol: TCP, port: 443}"
mutate "token-erc20's tokens not allowed to the signer" signer.yaml '{name: ALLOWED_CONTRACTS, value: "0x4000000000000000000000000000000000000001"}' '{name: ALLOWED_CONTRACTS, value: "0x4000000000000000000000000000000000000009"}'
mutate "no signer takes token-erc20's tx.request" signer.yaml ";tx.request=" ";tx.requestx="
mutate "token-firefly without a PDB" token-firefly.yaml "kind: PodDisruptionBudget" "kind: PodDisruptionBudgetX"
mutate "median allowed onto the internet" networkpolicy.yaml "matchLabels: {app.kubernetes.io/name: fetcher, app.kubernetes.io/part-of: oraclebus}
  policyTypes: [Egress]" "matchExpressions: [{key: app.kubernetes.io/name, operator: In, values: [fetcher, median]}]
  policyTypes: [Egress]"
mutate "no default deny for egress" networkpolicy.yaml "policyTypes: [Ingress, Egress]" "policyTypes: [Ingress]"
mutate "metrics closed to Prometheus" networkpolicy.yaml "            matchLabels: {kubernetes.io/metadata.name: monitoring}
      ports:
        - {protocol: TCP, port: 8000}" "            matchLabels: {kubernetes.io/metadata.name: prometheus}
      ports:
        - {protocol: TCP, port: 8000}"
mutate "busd on plain tcp:// while the actors dial tls+tcp://" busd.yaml '"tls+tcp://0.0.0.0:7701"' '"tcp://0.0.0.0:7701"'
mutate "a Secret file its non-root user cannot read (no fsGroup)" fetcher.yaml "        fsGroup: 10001
" ""
mutate "busd PDB allowing both down" busd.yaml "  minAvailable: 1" "  maxUnavailable: 2"
mutate "signer PDB selecting nothing" signer.yaml "  maxUnavailable: 1         # its one replica may move; never two at once
  selector:
    matchLabels: {app.kubernetes.io/name: signer, app.kubernetes.io/instance: signer-0}" "  maxUnavailable: 1
  selector:
    matchLabels: {app.kubernetes.io/name: signer, app.kubernetes.io/instance: signer-9}"
rule_mutate() {  # name old new: the rule tests must fail on a broken rules.yml
	python3 - "$P/rules.yml" "$TMP/rules.yml" "$2" "$3" <<'PY'
import sys
src, dst, old, new = sys.argv[1:5]
s = open(src).read()
assert old in s, old
open(dst, "w").write(s.replace(old, new, 1))
PY
	sed "s#- rules.yml#- $TMP/rules.yml#; s#- feeds.rules.yml#- $PWD/$P/feeds.rules.yml#" "$P/rules_test.yml" >"$TMP/rules_test.yml"
	if promtool test rules "$TMP/rules_test.yml" >/dev/null 2>&1; then bad "rule tests passed a broken rule: $1"; else ok "rule tests refuse: $1"; fi
}
rule_mutate "OracleFeedStale at 3 heartbeats" "on (feed) 2 * oraclebus:feed_heartbeat_seconds" "on (feed) 3 * oraclebus:feed_heartbeat_seconds"
rule_mutate "TokenizationBackendDown on a draining outbox" "min_over_time(tokenization_outbox_pending[10m])" "max_over_time(tokenization_outbox_pending[10m])"
rule_mutate "TokenizationConflict on every rejection" 'tokenization_rejections_total{reason="AM05"}' 'tokenization_rejections_total'
rule_mutate "TokenizationPaymentPendingTooLong without its 5 m" "        expr: max by (workload) (tokenization_pending_overdue) > 0
        for: 5m" "        expr: max by (workload) (tokenization_pending_overdue) > 0"
# ...and on a heartbeat out of step with the feed's (feeds.rules.yml is rendered from the config)
sed 's/expr: vector(3600)/expr: vector(7200)/' "$P/feeds.rules.yml" >"$TMP/feeds.rules.yml"
sed "s#- rules.yml#- $PWD/$P/rules.yml#; s#- feeds.rules.yml#- $TMP/feeds.rules.yml#" "$P/rules_test.yml" >"$TMP/rules_test.yml"
if promtool test rules "$TMP/rules_test.yml" >/dev/null 2>&1; then bad "rule tests passed a 2 h heartbeat for 1 h feeds"; else ok "rule tests refuse: feeds.rules.yml with a 2 h heartbeat for 1 h feeds"; fi

[ "$fails" -eq 0 ] && echo "deploy_checks: all passed" || { echo "deploy_checks: $fails failed"; exit 1; }
