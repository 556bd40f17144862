#!/usr/bin/env python3
"""Checks deploy/k8s against what the actors need (run by tests/integration/deploy_checks.sh).

  python3 deploy/k8s/validate.py [DIR]     exit 0 when every check passes, 1 otherwise

YAML via PyYAML when importable, else via node and the `yaml` package of tests/chain/node_modules
(YAML 1.1 either way, as Kubernetes reads it: defaultMode 0400 is octal).
Checks: every file parses and is listed in kustomization.yaml; namespace besu-network; one kind per
actor (busd 2 replicas, gate/signer/submitter/ccip-tail/alerter StatefulSets of 1 with a state
volume, fetcher/median Deployments); every env variable is one the actor knows (its README's env
table); METRICS_PORT 8000 = the metrics containerPort = the prometheus.io/port annotation,
HEALTH_PORT 8080 = the health containerPort (no one-port HTTP_PORT); readiness on GET /health of the
health port; BUS_TLS_CERT/KEY/CA together, on a Secret volume, and tls+tcp:// bus URLs with them
(busd listening on tls+tcp:// too); BUS_TRUST covering every signed topic (signer.lease included); non-root, read-only root, no privilege escalation, no service account token, no
service links; memory requests/limits; bus URLs list both busd replicas over tcp://; the signer's
key (PRIVATE_KEY_FILE, or KEYSTORE_FILE + KEYSTORE_PASSWORD_FILE) from a Secret with defaultMode 0400
copied as a regular file to a memory emptyDir, never PRIVATE_KEY/KEYSTORE_PASSWORD in env; the token
backends (StatefulSets of 1, PDB), token-erc20's tx.request trusted by exactly one signer whose
ALLOWED_CONTRACTS cover its TOKENS,
JSON in ConfigMaps parses; the never-two-signers comment.
Labels: every object part-of=oraclebus; every pod app=<its seed service> (oracle-publisher,
ccip-monitor, financial-tokenization) and app.kubernetes.io/name=<actor>; the seed's ports 8000/8080;
seccomp RuntimeDefault; CPU and memory requests, memory limits.
Secrets: every secret is a file of a Secret volume (defaultMode 0400): no secretKeyRef/secretRef in
any env, no secret variable (BUS_SIGNING_KEY, PRIVATE_KEY, ...) set directly, NAME_FILE only through
/usr/local/bin/oraclebus-run and pointing into a mounted Secret volume.
NetworkPolicy: every pod selected for Ingress and Egress; busd's bus ports only from the stack's
pods; 8000 of every pod from the monitoring namespace; every actor reaches busd; the signer reaches
nothing but busd (and DNS) and its remote signer's port, token-firefly nothing but busd and
FIREFLY_URL's port; RPC egress for gate/submitter/ccip-tail/token-erc20; no internet for the others.
PodDisruptionBudgets: busd minAvailable 1 of 2; one per signer/submitter/token backend StatefulSet (maxUnavailable
0 or 1); every PDB and Service selects pods that exist.
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


notes = []


def env_table(actor):
    """The actor's variables from its README's env table; empty (checks skipped, noted) when the
    actor is not in this tree yet (a manifest may land before its actor is merged)."""
    names = set()
    path = os.path.join(ROOT, "actors", actor, "README.md")
    if not os.path.exists(path):
        note = f"note: actors/{actor}/README.md not in this tree: {actor}'s variables not checked"
        if note not in notes:
            notes.append(note)
        return names
    with open(path) as f:
        for line in f:
            m = re.match(r"\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", line)
            if m:
                names.add(m.group(1))
    return names


def match(sel, labels):
    """Kubernetes label selector semantics (matchLabels, matchExpressions); {} matches everything."""
    if sel is None:
        return False
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


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
    if (md.get("labels") or {}).get("app.kubernetes.io/part-of") != "oraclebus":
        err(f"{f}: {d.get('kind')}/{md.get('name')}: label app.kubernetes.io/part-of: oraclebus missing")
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
scheme = "tls+tcp" if common.get("BUS_TLS_CA") else "tcp"
for var, port in (("BUS_PUB_URL", 7701), ("BUS_SUB_URL", 7702)):
    want = {f"{scheme}://busd-0.busd:{port}", f"{scheme}://busd-1.busd:{port}"}
    if set(common.get(var, "").split(",")) != want:
        err(f"ConfigMap oraclebus-common: {var} must list {sorted(want)}")
trust = common.get("BUS_TRUST", "")
for prefix in ("price.obs.", "price.agg.", "price.update.", "tx.signed", "signer.lease", "tx.ack", "tx.bump",
               "tx.status", "gas.quote", "nonce.sync", "alert."):
    if not re.search(r"(^|;)" + re.escape(prefix) + "=", trust):
        err(f"ConfigMap oraclebus-common: BUS_TRUST does not cover {prefix}")
TRUST_MAX_KEYS = 32  # bus/sig.h SIG_TRUST_MAX_KEYS


def trust_check(where, t):
    for part in t.split(";"):
        if len(part.split("=", 1)[-1].split(",")) > TRUST_MAX_KEYS:
            err(f"{where}: BUS_TRUST {part.split('=')[0]}: more than {TRUST_MAX_KEYS} keys (the bus's limit)")


trust_check("ConfigMap oraclebus-common", trust)

# ---- workloads --------------------------------------------------------------------------------
EXPECT = {"busd": ("StatefulSet", "JOURNAL_DIR"), "fetcher": ("Deployment", None),
          "median": ("Deployment", None), "gate": ("StatefulSet", "STATE_DIR"),
          "signer": ("StatefulSet", "STATE_DIR"), "submitter": ("StatefulSet", "STATE_DIR"),
          "ccip-tail": ("StatefulSet", "DATA_DIR"), "alerter": ("StatefulSet", "STATE_DIR"),
          "tokenizer": ("StatefulSet", "STATE_DIR"), "token-firefly": ("StatefulSet", "STATE_DIR"),
          "token-erc20": ("StatefulSet", "STATE_DIR")}
# The seed's three services (SERVICES_ARCHITECTURE.md: kubectl get pods -l app=...). busd carries
# every service's frames and is labelled with the publisher, its first user; the alerter is the
# CCIP Monitor's "alerting system" and delivers everyone's alerts.
SERVICE = {"busd": "oracle-publisher", "fetcher": "oracle-publisher", "median": "oracle-publisher",
           "gate": "oracle-publisher", "signer": "oracle-publisher", "submitter": "oracle-publisher",
           "ccip-tail": "ccip-monitor", "alerter": "ccip-monitor", "tokenizer": "financial-tokenization",
           "token-firefly": "financial-tokenization", "token-erc20": "financial-tokenization"}
MEM_LIMIT = {"busd": 128, "tokenizer": 256}  # Mi; others 64
KEYSTORE_MEM_LIMIT = 320  # a keystore signer: scrypt's 128*r*n bytes at start (256 MiB for geth's n = 2^18)
METRICS_PORT, HEALTH_PORT = "8000", "8080"  # the seed's ports, the same in every pod (one IP per pod)
HTTP_PORT = METRICS_PORT  # what Prometheus (monitoring namespace) must reach
SECRET_VARS = ("BUS_SIGNING_KEY", "PRIVATE_KEY", "KEYSTORE_PASSWORD", "PAGERDUTY_ROUTING_KEY", "SLACK_WEBHOOK_URL",
               "WEBHOOK_SECRET")
KEY_FILE_VARS = ("PRIVATE_KEY_FILE", "KEYSTORE_FILE", "KEYSTORE_PASSWORD_FILE")  # read by the signer itself
RUN = "/usr/local/bin/oraclebus-run"  # deploy/bin/oraclebus-run: NAME_FILE -> NAME, then exec
RUN_VARS = {v + "_FILE" for v in SECRET_VARS if v not in ("PRIVATE_KEY", "KEYSTORE_PASSWORD")} | {"ORACLEBUS_OPTIONAL_SECRETS"}
pods = []  # (where, actor, template labels, pod spec)
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
        plabels = tmeta.get("labels", {})
        pods.append((where, actor, plabels, pod))
        if plabels.get("app") != SERVICE[actor]:
            err(f"{where}: pod label app must be {SERVICE[actor]} (the seed's service), got {plabels.get('app')!r}")
        if plabels.get("app.kubernetes.io/part-of") != "oraclebus":
            err(f"{where}: pod label app.kubernetes.io/part-of: oraclebus missing")
        if (pod.get("securityContext", {}).get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            err(f"{where}: pod securityContext.seccompProfile must be RuntimeDefault")
        for v in pod.get("volumes", []):
            if "secret" in v and v["secret"].get("defaultMode") != 0o400:
                err(f"{where}: Secret volume {v.get('name')} must have defaultMode 0400")
        want_kind, state_var = EXPECT[actor]
        if kind != want_kind:
            err(f"{where}: {actor} must be a {want_kind}")
        replicas = spec.get("replicas")
        if actor == "busd" and replicas != 2:
            err(f"{where}: busd needs 2 replicas")
        if actor in ("gate", "signer", "submitter", "ccip-tail", "alerter", "tokenizer", "token-firefly",
                     "token-erc20") and replicas != 1:
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
        if any("secret" in v for v in vols.values()) and not psc.get("fsGroup"):
            err(f"{where}: Secret volumes without fsGroup: their root-owned 0400 files are unreadable by a non-root user")
        claims = {c.get("metadata", {}).get("name") for c in spec.get("volumeClaimTemplates", [])}
        known = env_table(actor)
        ann = tmeta.get("annotations", {})
        keystore = any(e.get("name") == "KEYSTORE_FILE" for c in pod.get("containers", []) for e in c.get("env", []))
        mem_limit = KEYSTORE_MEM_LIMIT if actor == "signer" and keystore else MEM_LIMIT.get(actor, 64)
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
            if req is None or lim is None or not (16 <= req <= 32) or lim < req or lim > mem_limit:
                err(f"{cw}: memory requests 16-32Mi and limit <= {mem_limit}Mi expected, got {req}/{lim}")
            if not r.get("requests", {}).get("cpu"):
                err(f"{cw}: no CPU request")
            for e in c.get("env", []):
                vf = e.get("valueFrom", {})
                if "secretKeyRef" in vf:
                    err(f"{cw}: {e.get('name')} from a Secret in the environment: mount the Secret as a file")
                if e.get("name") in SECRET_VARS:
                    err(f"{cw}: {e.get('name')} set in the environment: use {e.get('name')}_FILE")
            for src in c.get("envFrom", []):
                if "secretRef" in src:
                    err(f"{cw}: envFrom secretRef puts secrets in the environment: mount them as files")
            mounts = {m.get("name"): m for m in c.get("volumeMounts", [])}
            for m in mounts:
                if m not in vols and m not in claims:
                    err(f"{cw}: volumeMount {m} has no volume")
            if init:
                continue
            cmd = c.get("command", [])
            wrapped = bool(cmd) and cmd[0] == RUN
            prog = cmd[1:] if wrapped else cmd
            if not prog or prog[0] != f"/usr/local/bin/{actor}":
                err(f"{cw}: command must run /usr/local/bin/{actor} (directly or through {RUN})")
            env = {e.get("name"): e for e in c.get("env", [])}
            for e in env:
                if e in RUN_VARS:
                    if not wrapped:
                        err(f"{cw}: {e} is read by {RUN}, which the command does not run")
                    elif e != "ORACLEBUS_OPTIONAL_SECRETS" and e[:-5] not in known and known:
                        err(f"{cw}: {e[:-5]} is not a variable of {actor}")
                elif known and e not in known:
                    err(f"{cw}: {e} is not a variable of {actor} (actors/{actor}/README.md)")
            for e in env:
                if e.endswith("_FILE") and (e in RUN_VARS or e in KEY_FILE_VARS):
                    path = env[e].get("value", "")
                    m = [m for m in mounts.values() if path.startswith(m.get("mountPath", "//").rstrip("/") + "/")]
                    vol = vols.get(m[0]["name"], {}) if m else {}
                    if e not in KEY_FILE_VARS and "secret" not in vol:
                        err(f"{cw}: {e}={path} is not on a Secret volume")
            for src in c.get("envFrom", []):
                cm = src.get("configMapRef", {}).get("name")
                if cm not in configmaps:
                    err(f"{cw}: envFrom ConfigMap {cm} not defined here")
                elif cm != "oraclebus-common" and known:
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
            if actor != "busd" and "BUS_SIGNING_KEY_FILE" not in env:
                err(f"{cw}: BUS_SIGNING_KEY_FILE missing (every publisher signs)")
            if "HTTP_PORT" in env:
                err(f"{cw}: HTTP_PORT (one port for everything) set: the seed's ports are METRICS_PORT {METRICS_PORT} and HEALTH_PORT {HEALTH_PORT}")
            mport = env.get("METRICS_PORT", {}).get("value")
            hport = env.get("HEALTH_PORT", {}).get("value")
            if mport != METRICS_PORT or hport != HEALTH_PORT:
                err(f"{cw}: METRICS_PORT must be {METRICS_PORT} and HEALTH_PORT {HEALTH_PORT} (the seed's), got {mport}/{hport}")
            cports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
            if mport is None or str(cports.get("metrics")) != mport or ann.get("prometheus.io/port") != mport:
                err(f"{cw}: METRICS_PORT {mport}, containerPort metrics {cports.get('metrics')} and "
                    f"prometheus.io/port {ann.get('prometheus.io/port')} must agree")
            if hport is None or str(cports.get("health")) != hport:
                err(f"{cw}: HEALTH_PORT {hport} and containerPort health {cports.get('health')} must agree")
            rp = c.get("readinessProbe", {}).get("httpGet", {})
            if rp.get("path") != "/health" or rp.get("port") not in ("health", cports.get("health")):
                err(f"{cw}: readinessProbe must GET /health on the health port")
            lp = c.get("livenessProbe", {}).get("httpGet", {})
            if lp.get("port") not in ("metrics", "health", cports.get("metrics"), cports.get("health")) or not lp.get("path"):
                err(f"{cw}: livenessProbe must GET the metrics or health port")
            tls = [v for v in ("BUS_TLS_CERT", "BUS_TLS_KEY", "BUS_TLS_CA") if v in env or v in common]
            if tls and len(tls) != 3:
                err(f"{cw}: BUS_TLS_CERT, BUS_TLS_KEY and BUS_TLS_CA go together, got {tls}")
            for v in tls:
                path = (env.get(v) or {}).get("value") or common.get(v, "")
                m = [m for m in mounts.values() if path.startswith(m.get("mountPath", "//").rstrip("/") + "/")]
                if not m or "secret" not in vols.get(m[0]["name"], {}):
                    err(f"{cw}: {v}={path} is not on a Secret volume")
            if state_var:
                sv = env.get(state_var, {}).get("value", "")
                ok = any(sv.startswith(m.get("mountPath", "//").rstrip("/") + "/") and m["name"] in claims
                         for m in mounts.values())
                if not ok:
                    err(f"{cw}: {state_var}={sv!r} is not on a volumeClaimTemplate")
            for fv in ("FEEDS_FILE", "CONFIG_FILE", "CCIP_CONFIG") + KEY_FILE_VARS:
                if fv in env:
                    path = env[fv].get("value", "")
                    m = [m for m in mounts.values() if path.startswith(m.get("mountPath", "//") + "/")]
                    if not m:
                        err(f"{cw}: {fv}={path} is on no volume")
                    elif fv not in KEY_FILE_VARS:
                        v = vols.get(m[0]["name"], {}).get("configMap", {})
                        key = os.path.basename(path)
                        items = [i.get("path") for i in v.get("items", [])] or list(configmaps.get(v.get("name"), {}))
                        if key not in items:
                            err(f"{cw}: {fv}={path}: not in ConfigMap {v.get('name')}")
        remote = any(e.get("name") == "REMOTE_SIGNER_URL" for c in pod.get("containers", []) for e in c.get("env", []))
        if actor == "signer" and remote:
            if any(e.get("name") in ("PRIVATE_KEY_FILE", "KEYSTORE_FILE") for c in pod.get("containers", [])
                   for e in c.get("env", [])):
                err(f"{where}: a remote signer and a local key at once")
        if actor == "signer" and not remote:
            secrets = [v for v in vols.values() if "secret" in v]
            if not secrets or any(v["secret"].get("defaultMode") != 0o400 for v in secrets):
                err(f"{where}: the key Secret volume must have defaultMode 0400")
            main = pod.get("containers", [{}])[0]
            init_secret = {m["name"] for ic in pod.get("initContainers", []) for m in ic.get("volumeMounts", [])
                           if "secret" in vols.get(m["name"], {})}
            if not init_secret or any(m["name"] in init_secret for m in main.get("volumeMounts", [])):
                err(f"{where}: the signer must read the 0400 copy, not the Secret volume (symlinks, fsGroup 0440)")
            menv = {e.get("name"): e.get("value", "") for e in main.get("env", [])}
            srcs = [v for v in ("PRIVATE_KEY_FILE", "KEYSTORE_FILE") if v in menv]
            if len(srcs) != 1:
                err(f"{where}: exactly one key source (PRIVATE_KEY_FILE or KEYSTORE_FILE), got {srcs}")
            if "KEYSTORE_FILE" in menv and "KEYSTORE_PASSWORD_FILE" not in menv:
                err(f"{where}: KEYSTORE_FILE without KEYSTORE_PASSWORD_FILE")
            for v in KEY_FILE_VARS:
                if v not in menv:
                    continue
                kv = [vols.get(m["name"], {}) for m in main.get("volumeMounts", [])
                      if menv[v].startswith(m.get("mountPath", "//").rstrip("/") + "/")]
                if not kv or (kv[0].get("emptyDir") or {}).get("medium") != "Memory":
                    err(f"{where}: {v} must be the copy on a memory emptyDir (never on a disk)")
            text = open(os.path.join(DIR, f)).read()
            if not re.search(r"never\s+(run\s+)?two\s+signers", text, re.I):
                err(f"{f}: the 'never two signers on one key' comment is missing")

for actor in EXPECT:  # the publisher is the core; ccip-tail, alerter, tokenizer are there when configured
    if actor not in seen and SERVICE[actor] == "oracle-publisher":
        err(f"no workload for {actor}")
if common.get("BUS_TLS_CA"):
    for where, actor, labels, pod in pods:
        if actor != "busd":
            continue
        benv = {e.get("name"): e.get("value", "") for c in pod.get("containers", []) for e in c.get("env", [])}
        if not all(v in benv for v in ("BUS_TLS_CERT", "BUS_TLS_KEY", "BUS_TLS_CA")):
            err(f"{where}: the actors dial tls+tcp:// but busd has no BUS_TLS_CERT/KEY/CA")
        for v in ("BUSD_INGRESS", "BUSD_EGRESS"):
            if not benv.get(v, "").startswith("tls+tcp://"):
                err(f"{where}: {v} must listen on tls+tcp:// (the actors dial it so)")
svc = by_kind.get("Service", {}).get("busd", (None, {}))[1].get("spec", {})
if svc.get("clusterIP") != "None":
    err("Service busd must be headless (clusterIP: None) for busd-0.busd / busd-1.busd")
if by_kind.get("StatefulSet", {}).get("busd", (None, {}))[1].get("spec", {}).get("serviceName") != "busd":
    err("StatefulSet busd must be governed by Service busd")

# ---- the token backends' trust: token.result from them; tx.request (token-erc20's calls) trusted by exactly
# one signer, whose ALLOWED_CONTRACTS cover the backend's TOKENS --------------------------------------
def pod_env(pod):
    return {e.get("name"): e.get("value", "") for c in pod.get("containers", []) for e in c.get("env", [])}


backends = [a for _, a, _, _ in pods if a in ("token-firefly", "token-erc20")]
if backends and not re.search(r"(^|;)token\.result=", trust):
    err("ConfigMap oraclebus-common: BUS_TRUST does not cover token.result (the token backends' results)")
for where, actor, labels, pod in pods:
    if actor != "token-erc20":
        continue
    tokens = {t.lower() for t in pod_env(pod).get("TOKENS", "").split(",") if t}
    takers = []
    for w2, a2, _, p2 in pods:
        penv = pod_env(p2)
        t2 = penv.get("BUS_TRUST", trust)
        if a2 == "signer":
            trust_check(w2, t2)
        if a2 == "signer" and re.search(r"(^|;)tx\.request=", t2):
            takers.append(w2)
            allowed = {c.lower() for c in penv.get("ALLOWED_CONTRACTS", "").split(",") if c}
            if not tokens or not tokens <= allowed:
                err(f"{w2}: takes tx.request but ALLOWED_CONTRACTS {sorted(allowed)} do not cover token-erc20's TOKENS {sorted(tokens)}")
            if not penv.get("ALLOWED_SELECTORS"):
                err(f"{w2}: takes tx.request without ALLOWED_SELECTORS")
    if len(takers) != 1:
        err(f"{where}: its tx.requests must be trusted by exactly one signer, got {takers or 'none'}")

# ---- NetworkPolicy ----------------------------------------------------------------------------
NS = "besu-network"
policies = [d for _, d in by_kind.get("NetworkPolicy", {}).values()]
busd_labels = next((l for _, a, l, _ in pods if a == "busd"), {})
DNS = {"kube-system": {"k8s-app": "kube-dns"}}


def peer_ns_labels(peer):
    """The namespace labels a peer's namespaceSelector requires (None: the policy's own namespace)."""
    if "namespaceSelector" not in peer:
        return None
    return (peer["namespaceSelector"] or {}).get("matchLabels", {})


def port_ok(rule, port, proto="TCP"):
    ports = rule.get("ports")
    return not ports or any(str(p.get("port")) == str(port) and p.get("protocol", "TCP") == proto for p in ports)


def rules_for(labels, kind):
    out = []
    for pol in policies:
        spec = pol.get("spec", {})
        if kind in spec.get("policyTypes", []) and match(spec.get("podSelector"), labels):
            out += spec.get(kind.lower(), []) or []
    return out


def is_busd_peer(peer):
    return set(peer) == {"podSelector"} and match(peer["podSelector"], busd_labels)


def is_dns_peer(peer):
    ns = peer_ns_labels(peer)
    return (ns == {"kubernetes.io/metadata.name": "kube-system"}
            and match(peer.get("podSelector"), {"k8s-app": "kube-dns"}))


RPC_ACTORS = ("gate", "submitter", "ccip-tail", "token-erc20")
INTERNET_OK = RPC_ACTORS + ("fetcher", "alerter")
for where, actor, labels, pod in pods:
    for kind in ("Ingress", "Egress"):
        if not any(kind in p.get("spec", {}).get("policyTypes", []) and match(p["spec"].get("podSelector"), labels)
                   for p in policies):
            err(f"{where}: no NetworkPolicy selects its pods for {kind} (default deny missing)")
    ing, egr = rules_for(labels, "Ingress"), rules_for(labels, "Egress")
    if not any(port_ok(r, HTTP_PORT) and any(peer_ns_labels(p) == {"kubernetes.io/metadata.name": "monitoring"}
                                             for p in r.get("from", [])) for r in ing):
        err(f"{where}: NetworkPolicy: {HTTP_PORT} (/metrics, /health) not open to the monitoring namespace")
    for r in ing:
        if not r.get("from"):
            err(f"{where}: NetworkPolicy ingress rule without 'from' admits everyone")
    if actor == "busd":
        if egr:
            err(f"{where}: busd only listens: it must have no egress rule")
        for r in ing:
            if port_ok(r, 7701) or port_ok(r, 7702):
                for peer in r.get("from", []):
                    sel = peer.get("podSelector")
                    if set(peer) != {"podSelector"} or not match(sel, {"app.kubernetes.io/part-of": "oraclebus"}) \
                            or match(sel, {}):
                        err(f"{where}: bus ports 7701/7702 open to {peer}: only the stack's pods (podSelector on part-of)")
        if not any(port_ok(r, 7701) and port_ok(r, 7702) for r in ing):
            err(f"{where}: NetworkPolicy does not open the bus ports 7701/7702 to the stack")
        continue
    # every other actor reaches both bus ports, and busd admits it
    for port in (7701, 7702):
        if not any(port_ok(r, port) and any(is_busd_peer(p) for p in r.get("to", [])) for r in egr):
            err(f"{where}: NetworkPolicy egress to busd:{port} missing")
        if not any(port_ok(r, port) and any(set(p) == {"podSelector"} and match(p["podSelector"], labels)
                                            for p in r.get("from", []))
                   for r in rules_for(busd_labels, "Ingress")):
            err(f"{where}: busd's NetworkPolicy does not admit this pod on {port}")
    for r in egr:
        if not r.get("to"):
            err(f"{where}: NetworkPolicy egress rule without 'to' allows everything")
        for peer in r.get("to", []):
            if is_busd_peer(peer) and all(port_ok({"ports": [pp]}, 7701) or port_ok({"ports": [pp]}, 7702)
                                          for pp in r.get("ports") or [{}]):
                continue
            if is_dns_peer(peer) and r.get("ports") and all(str(pp.get("port")) == "53" for pp in r["ports"]):
                continue
            if actor in ("signer", "token-firefly"):
                # a remote signer (REMOTE_SIGNER_URL), FireFly (FIREFLY_URL): its port, and nothing else
                uvar = "REMOTE_SIGNER_URL" if actor == "signer" else "FIREFLY_URL"
                url = next((e.get("value", "") for c in pod.get("containers", []) for e in c.get("env", [])
                            if e.get("name") == uvar), "")
                m = re.match(r"(https?)://[^/:]+(?::(\d+))?", url)
                rport = (m.group(2) or ("443" if m.group(1) == "https" else "80")) if m else None
                if rport and r.get("ports") and all(str(pp.get("port")) == rport for pp in r["ports"]):
                    continue
                err(f"{where}: {actor} may reach nothing but busd (and DNS) and {uvar}'s port, policy allows {peer}")
            elif actor not in INTERNET_OK and "ipBlock" in peer:
                err(f"{where}: {actor} has no business outside the cluster (egress to {peer})")
    if actor in RPC_ACTORS and not any("ipBlock" in p and (port_ok(r, 443) or port_ok(r, 8545))
                                       for r in egr for p in r.get("to", [])):
        err(f"{where}: {actor} needs egress to the RPC endpoints (443 / 8545)")

# ---- PodDisruptionBudgets and Services --------------------------------------------------------
pdbs = by_kind.get("PodDisruptionBudget", {})
for name, (f, d) in pdbs.items():
    sel = d.get("spec", {}).get("selector")
    if not any(match(sel, l) for _, _, l, _ in pods):
        err(f"{f}: PodDisruptionBudget/{name} selects no pod")
busd_pdb = [d for _, d in pdbs.values() if match(d["spec"].get("selector"), busd_labels)]
if len(busd_pdb) != 1 or busd_pdb[0]["spec"].get("minAvailable") != 1:
    err("busd needs one PodDisruptionBudget with minAvailable: 1 (of its 2 replicas)")
for where, actor, labels, pod in pods:
    if actor in ("signer", "submitter", "token-firefly", "token-erc20"):
        mine = [d for _, d in pdbs.values() if match(d["spec"].get("selector"), labels)]
        if len(mine) != 1 or mine[0]["spec"].get("maxUnavailable") not in (0, 1):
            err(f"{where}: needs one PodDisruptionBudget with maxUnavailable 0 or 1")
for name, (f, d) in by_kind.get("Service", {}).items():
    sel = d.get("spec", {}).get("selector")
    if not any(match({"matchLabels": sel}, l) for _, _, l, _ in pods):
        err(f"{f}: Service/{name} selects no pod")

for n in notes:
    print(n)

for e in errors:
    print("FAIL:", e)
print(f"validate: {len(objs)} objects in {len(res)} files, {len(errors)} problem(s)")
sys.exit(1 if errors else 0)
