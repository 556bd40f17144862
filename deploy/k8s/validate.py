#!/usr/bin/env python3
"""Checks deploy/k8s against what the actors need (run by tests/integration/deploy_checks.sh).

  python3 deploy/k8s/validate.py [DIR]     exit 0 when every check passes, 1 otherwise

YAML via PyYAML when importable, else via node and the `yaml` package of tests/chain/node_modules
(YAML 1.1 either way, as Kubernetes reads it: defaultMode 0400 is octal).
Checks: every file parses and is listed in kustomization.yaml; namespace besu-network; one kind per
actor (busd 2 replicas, gate/signer/submitter/ccip-tail/alerter StatefulSets of 1 with a state
volume, fetcher/median Deployments); every env variable is one the actor knows (its README's env
table); HTTP_PORT = the http containerPort = the prometheus.io/port annotation; readiness on
GET /health; non-root, read-only root, no privilege escalation, no service account token, no
service links; memory requests/limits; bus URLs list both busd replicas over tcp://; the signer's
key from a Secret with defaultMode 0400 copied as a regular file, never PRIVATE_KEY in env,
BUS_SIGNING_KEY only from Secrets; JSON in ConfigMaps parses; the never-two-signers comment.
"""
import json, os, re, subprocess, sys

DIR = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__file__))
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
errors = []


def err(msg):
    errors.append(msg)


def load_all(path):
    try:
        import yaml  # noqa
        with open(path) as f:
            return [d for d in yaml.safe_load_all(f) if d is not None]
    except ImportError:
        pass
    js = ("const fs=require('fs');let Y;try{Y=require('yaml')}catch(e){Y=null}"
          "const t=fs.readFileSync(process.argv[1],'utf8');"
          "const docs=Y?Y.parseAllDocuments(t,{version:'1.1'}).map(d=>{if(d.errors.length)throw d.errors[0];return d.toJSON()})"
          ":require('js-yaml').loadAll(t);"
          "console.log(JSON.stringify(docs.filter(d=>d!=null)))")
    env = dict(os.environ, NODE_PATH=os.path.join(ROOT, "tests/chain/node_modules"))
    out = subprocess.run(["node", "-e", js, path], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise ValueError(out.stderr.strip().splitlines()[-1] if out.stderr else "node failed")
    return json.loads(out.stdout)


def env_table(actor):
    names = set()
    with open(os.path.join(ROOT, "actors", actor, "README.md")) as f:
        for line in f:
            m = re.match(r"\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", line)
            if m:
                names.add(m.group(1))
    return names


def mem_mi(q):
    m = re.fullmatch(r"(\d+)(Mi|Gi)", str(q))
    return None if not m else int(m.group(1)) * (1024 if m.group(2) == "Gi" else 1)


# ---- files and kustomization ----------------------------------------------------------------
files = sorted(f for f in os.listdir(DIR) if f.endswith((".yaml", ".yml")))
docs = {}
for f in files:
    try:
        docs[f] = load_all(os.path.join(DIR, f))
    except Exception as e:  # noqa
        err(f"{f}: does not parse: {e}")
kust = (docs.get("kustomization.yaml") or [{}])[0]
if kust.get("namespace") != "besu-network":
    err("kustomization.yaml: namespace must be besu-network")
res = kust.get("resources", [])
for r in res:
    if r not in docs:
        err(f"kustomization.yaml: resource {r} missing or unparsable")
for f in files:
    if f not in res and f not in ("kustomization.yaml", "secrets.example.yaml"):
        err(f"{f}: not listed in kustomization.yaml resources")

objs = [(f, d) for f in res if f in docs for d in docs[f]]
by_kind = {}
configmaps = {}
for f, d in objs:
    for k in ("apiVersion", "kind", "metadata"):
        if k not in d:
            err(f"{f}: a document without {k}")
    md = d.get("metadata", {})
    if md.get("namespace") != "besu-network":
        err(f"{f}: {d.get('kind')}/{md.get('name')}: namespace must be besu-network")
    if d.get("kind") == "Namespace":
        err(f"{f}: the shared namespace must not be a resource (kubectl delete -k would delete it)")
    by_kind.setdefault(d.get("kind"), {})[md.get("name")] = (f, d)
    if d.get("kind") == "ConfigMap":
        configmaps[md.get("name")] = d.get("data", {})
        for k, v in d.get("data", {}).items():
            if k.endswith(".json"):
                try:
                    json.loads(v)
                except ValueError as e:
                    err(f"{f}: ConfigMap {md.get('name')} key {k}: bad JSON: {e}")

common = configmaps.get("oraclebus-common", {})
for var in ("RPC_URL", "CHAIN_ID", "BUS_PUB_URL", "BUS_SUB_URL", "BUS_TRUST"):
    if var not in common:
        err(f"ConfigMap oraclebus-common: {var} missing")
if common.get("CHAIN_ID") != "138":
    err("ConfigMap oraclebus-common: CHAIN_ID must be 138")
for var, port in (("BUS_PUB_URL", 7701), ("BUS_SUB_URL", 7702)):
    want = {f"tcp://busd-0.busd:{port}", f"tcp://busd-1.busd:{port}"}
    if set(common.get(var, "").split(",")) != want:
        err(f"ConfigMap oraclebus-common: {var} must list {sorted(want)}")
trust = common.get("BUS_TRUST", "")
for prefix in ("price.update.", "tx.signed", "tx.status", "nonce.sync"):
    if not re.search(r"(^|;)" + re.escape(prefix) + "=", trust):
        err(f"ConfigMap oraclebus-common: BUS_TRUST does not cover {prefix}")
for part in trust.split(";"):
    if len(part.split("=", 1)[-1].split(",")) > 8:
        err(f"BUS_TRUST {part.split('=')[0]}: more than 8 keys (the bus's limit)")

# ---- workloads --------------------------------------------------------------------------------
EXPECT = {"busd": ("StatefulSet", "JOURNAL_DIR"), "fetcher": ("Deployment", None),
          "median": ("Deployment", None), "gate": ("StatefulSet", "STATE_DIR"),
          "signer": ("StatefulSet", "STATE_DIR"), "submitter": ("StatefulSet", "STATE_DIR"),
          "ccip-tail": ("StatefulSet", "DATA_DIR"), "alerter": ("StatefulSet", "STATE_DIR")}
seen = {}
for kind in ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"):
    for name, (f, d) in by_kind.get(kind, {}).items():
        where = f"{f}: {kind}/{name}"
        spec = d.get("spec", {})
        pod = spec.get("template", {}).get("spec", {})
        tmeta = spec.get("template", {}).get("metadata", {})
        actor = tmeta.get("labels", {}).get("app.kubernetes.io/name")
        if actor not in EXPECT:
            err(f"{where}: label app.kubernetes.io/name {actor!r} is not an actor")
            continue
        seen.setdefault(actor, []).append(name)
        want_kind, state_var = EXPECT[actor]
        if kind != want_kind:
            err(f"{where}: {actor} must be a {want_kind}")
        replicas = spec.get("replicas")
        if actor == "busd" and replicas != 2:
            err(f"{where}: busd needs 2 replicas")
        if actor in ("gate", "signer", "submitter", "ccip-tail", "alerter") and replicas != 1:
            err(f"{where}: {actor} must run exactly 1 replica per StatefulSet")
        sel = spec.get("selector", {}).get("matchLabels", {})
        if not sel or any(tmeta.get("labels", {}).get(k) != v for k, v in sel.items()):
            err(f"{where}: selector does not match the pod labels")
        if kind == "StatefulSet" and spec.get("serviceName") not in by_kind.get("Service", {}):
            err(f"{where}: serviceName {spec.get('serviceName')!r} is no Service here")
        if pod.get("automountServiceAccountToken") is not False:
            err(f"{where}: automountServiceAccountToken must be false")
        if pod.get("enableServiceLinks") is not False:
            err(f"{where}: enableServiceLinks must be false (injected *_PORT variables)")
        psc = pod.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True or not psc.get("runAsUser"):
            err(f"{where}: pod must set runAsNonRoot: true and a runAsUser")
        vols = {v.get("name"): v for v in pod.get("volumes", [])}
        claims = {c.get("metadata", {}).get("name") for c in spec.get("volumeClaimTemplates", [])}
        known = env_table(actor)
        ann = tmeta.get("annotations", {})
        if ann.get("prometheus.io/scrape") != "true":
            err(f"{where}: annotation prometheus.io/scrape: \"true\" missing")
        for c in pod.get("initContainers", []) + pod.get("containers", []):
            cw = f"{where} container {c.get('name')}"
            init = c in pod.get("initContainers", [])
            if not c.get("image"):
                err(f"{cw}: no image")
            csc = c.get("securityContext", {})
            if csc.get("readOnlyRootFilesystem") is not True:
                err(f"{cw}: readOnlyRootFilesystem must be true")
            if csc.get("allowPrivilegeEscalation") is not False:
                err(f"{cw}: allowPrivilegeEscalation must be false")
            if "ALL" not in csc.get("capabilities", {}).get("drop", []):
                err(f"{cw}: capabilities must drop ALL")
            if csc.get("runAsUser") == 0 or csc.get("runAsNonRoot") is False:
                err(f"{cw}: runs as root")
            r = c.get("resources", {})
            req, lim = mem_mi(r.get("requests", {}).get("memory")), mem_mi(r.get("limits", {}).get("memory"))
            if req is None or lim is None or not (16 <= req <= 32) or lim < req or lim > (128 if actor == "busd" else 64):
                err(f"{cw}: memory requests 16-32Mi and limit <= 64Mi (busd 128Mi) expected, got {req}/{lim}")
            mounts = {m.get("name"): m for m in c.get("volumeMounts", [])}
            for m in mounts:
                if m not in vols and m not in claims:
                    err(f"{cw}: volumeMount {m} has no volume")
            if init:
                continue
            cmd = c.get("command", [])
            if not cmd or os.path.basename(cmd[0]) != actor:
                err(f"{cw}: command must run /usr/local/bin/{actor}")
            env = {e.get("name"): e for e in c.get("env", [])}
            for e in env:
                if e not in known:
                    err(f"{cw}: {e} is not a variable of {actor} (actors/{actor}/README.md)")
            for src in c.get("envFrom", []):
                cm = src.get("configMapRef", {}).get("name")
                if cm not in configmaps:
                    err(f"{cw}: envFrom ConfigMap {cm} not defined here")
                elif cm != "oraclebus-common":
                    for k in configmaps[cm]:
                        if k not in known:
                            err(f"{cw}: envFrom {cm}: {k} is not a variable of {actor}")
            for e in env.values():
                ref = e.get("valueFrom", {}).get("configMapKeyRef")
                if ref and ref.get("key") not in configmaps.get(ref.get("name"), {}):
                    err(f"{cw}: {e['name']} from ConfigMap {ref.get('name')} key {ref.get('key')}: no such key")
            if actor != "busd" and not any(s.get("configMapRef", {}).get("name") == "oraclebus-common"
                                           for s in c.get("envFrom", [])):
                err(f"{cw}: envFrom oraclebus-common missing")
            for secret_var in ("BUS_SIGNING_KEY", "PRIVATE_KEY", "PAGERDUTY_ROUTING_KEY", "SLACK_WEBHOOK_URL",
                               "WEBHOOK_SECRET"):
                if secret_var in env and "secretKeyRef" not in env[secret_var].get("valueFrom", {}):
                    err(f"{cw}: {secret_var} must come from a Secret")
            if actor != "busd" and "BUS_SIGNING_KEY" not in env:
                err(f"{cw}: BUS_SIGNING_KEY missing (every publisher signs)")
            if "PRIVATE_KEY" in env:
                err(f"{cw}: PRIVATE_KEY in the environment: use PRIVATE_KEY_FILE")
            port = env.get("HTTP_PORT", {}).get("value")
            cports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
            if port is None or str(cports.get("http")) != port or ann.get("prometheus.io/port") != port:
                err(f"{cw}: HTTP_PORT {port}, containerPort http {cports.get('http')} and "
                    f"prometheus.io/port {ann.get('prometheus.io/port')} must agree")
            rp = c.get("readinessProbe", {}).get("httpGet", {})
            if rp.get("path") != "/health" or rp.get("port") not in ("http", cports.get("http")):
                err(f"{cw}: readinessProbe must GET /health on the http port")
            lp = c.get("livenessProbe", {}).get("httpGet", {})
            if lp.get("port") not in ("http", cports.get("http")) or not lp.get("path"):
                err(f"{cw}: livenessProbe must GET the http port")
            if state_var:
                sv = env.get(state_var, {}).get("value", "")
                ok = any(sv.startswith(m.get("mountPath", "//").rstrip("/") + "/") and m["name"] in claims
                         for m in mounts.values())
                if not ok:
                    err(f"{cw}: {state_var}={sv!r} is not on a volumeClaimTemplate")
            for fv in ("FEEDS_FILE", "CONFIG_FILE", "CCIP_CONFIG", "PRIVATE_KEY_FILE"):
                if fv in env:
                    path = env[fv].get("value", "")
                    m = [m for m in mounts.values() if path.startswith(m.get("mountPath", "//") + "/")]
                    if not m:
                        err(f"{cw}: {fv}={path} is on no volume")
                    elif fv != "PRIVATE_KEY_FILE":
                        v = vols.get(m[0]["name"], {}).get("configMap", {})
                        key = os.path.basename(path)
                        items = [i.get("path") for i in v.get("items", [])] or list(configmaps.get(v.get("name"), {}))
                        if key not in items:
                            err(f"{cw}: {fv}={path}: not in ConfigMap {v.get('name')}")
        if actor == "signer":
            secrets = [v for v in vols.values() if "secret" in v]
            if not secrets or any(v["secret"].get("defaultMode") != 0o400 for v in secrets):
                err(f"{where}: the key Secret volume must have defaultMode 0400")
            main = pod.get("containers", [{}])[0]
            if any(m["name"] in {v["name"] for v in secrets} for m in main.get("volumeMounts", [])):
                err(f"{where}: the signer must read the 0400 copy, not the Secret volume (symlinks, fsGroup 0440)")
            text = open(os.path.join(DIR, f)).read()
            if not re.search(r"never\s+(run\s+)?two\s+signers", text, re.I):
                err(f"{f}: the 'never two signers on one key' comment is missing")

for actor in EXPECT:
    if actor not in seen:
        err(f"no workload for {actor}")
svc = by_kind.get("Service", {}).get("busd", (None, {}))[1].get("spec", {})
if svc.get("clusterIP") != "None":
    err("Service busd must be headless (clusterIP: None) for busd-0.busd / busd-1.busd")
if by_kind.get("StatefulSet", {}).get("busd", (None, {}))[1].get("spec", {}).get("serviceName") != "busd":
    err("StatefulSet busd must be governed by Service busd")

for e in errors:
    print("FAIL:", e)
print(f"validate: {len(objs)} objects in {len(res)} files, {len(errors)} problem(s)")
sys.exit(1 if errors else 0)
