#!/usr/bin/env python3
"""Static checks of deploy/systemd (run by tests/integration/deploy_systemd.sh).

  python3 deploy/systemd/check.py [DIR]

Every actor has a template unit oraclebus-<actor>@.service: EnvironmentFile=/etc/oraclebus/
<actor>-%i.env, Restart=on-failure (not on exit 78, a configuration error), hardening
(NoNewPrivileges, ProtectSystem=strict, no capabilities, a user: DynamicUser or the signer's static
user), StateDirectory for the actors with state, PartOf/WantedBy oraclebus.target, secrets only as
files (LoadCredential / *_FILE), LimitCORE=0 and no DynamicUser for the signer, whose unit sets no key source (its env file names
exactly one: PRIVATE_KEY_FILE, KEYSTORE_FILE + KEYSTORE_PASSWORD_FILE under /etc/oraclebus/keys, or
REMOTE_SIGNER_URL). Every example env
file names only variables its actor knows (actors/<actor>/README.md), holds no secret, and has its
its own METRICS_PORT and HEALTH_PORT (no port used twice); deploy/prometheus/prometheus.yml scrapes
exactly the METRICS_PORTs with the right actor. The env files and prometheus.yml are rendered by
tools/ob-config from deploy/oraclebus.example.json (tools/render-deploy.sh).
"""
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DIR = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
ACTORS = ("busd", "fetcher", "median", "gate", "signer", "submitter", "ccip-tail", "alerter", "tokenizer",
          "token-firefly", "token-erc20")
STATE = {"busd": "JOURNAL_DIR", "gate": "STATE_DIR", "signer": "STATE_DIR", "submitter": "STATE_DIR",
         "ccip-tail": "DATA_DIR", "alerter": "STATE_DIR", "tokenizer": "STATE_DIR", "token-firefly": "STATE_DIR",
         "token-erc20": "STATE_DIR"}
SECRETS = ("BUS_SIGNING_KEY", "PRIVATE_KEY", "KEYSTORE_PASSWORD", "PAGERDUTY_ROUTING_KEY", "SLACK_WEBHOOK_URL",
           "WEBHOOK_SECRET")
# The signer's key sources (actors/signer/README.md, Keys): exactly one, named by its env file.
KEY_SOURCES = ("PRIVATE_KEY_FILE", "KEYSTORE_FILE", "REMOTE_SIGNER_URL")
errors, notes = [], []


def unit(path):
    sec, out = None, {}
    for line in open(path):
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            sec = line.strip("[]")
            continue
        k, _, v = line.partition("=")
        out.setdefault((sec, k), []).append(v)
    return out


def env_table(actor):
    path = os.path.join(ROOT, "actors", actor, "README.md")
    if not os.path.exists(path):
        notes.append(f"note: actors/{actor}/README.md not in this tree: {actor}'s variables not checked")
        return None
    return {m.group(1) for line in open(path) for m in [re.match(r"\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", line)] if m}


target = os.path.join(DIR, "oraclebus.target")
if not os.path.exists(target) or "multi-user.target" not in unit(target).get(("Install", "WantedBy"), []):
    errors.append("oraclebus.target missing or not WantedBy=multi-user.target")
for a in ACTORS:
    path = os.path.join(DIR, f"oraclebus-{a}@.service")
    if not os.path.exists(path):
        errors.append(f"no template unit oraclebus-{a}@.service")
        continue
    u, w = unit(path), f"oraclebus-{a}@.service"
    one = lambda s, k: (u.get((s, k)) or [None])[-1]  # noqa: E731
    envs = {e.split("=", 1)[0]: e.split("=", 1)[1] for e in u.get(("Service", "Environment"), [])}
    want = {("Service", "EnvironmentFile"): f"/etc/oraclebus/{a}-%i.env", ("Service", "Restart"): "on-failure",
            ("Service", "NoNewPrivileges"): "yes", ("Service", "ProtectSystem"): "strict",
            ("Service", "CapabilityBoundingSet"): "", ("Service", "RestartPreventExitStatus"): "78",
            ("Unit", "PartOf"): "oraclebus.target", ("Install", "WantedBy"): "oraclebus.target"}
    for k, v in want.items():
        if one(*k) != v:
            errors.append(f"{w}: {k[1]}={v} expected, got {one(*k)!r}")
    if a == "signer":
        if one("Service", "LimitCORE") != "0":
            errors.append(f"{w}: LimitCORE=0 (a core dump would hold the key)")
        if one("Service", "DynamicUser") == "yes" or not one("Service", "User"):
            errors.append(f"{w}: the signer runs as its static user (the key file's owner), not a DynamicUser")
        for k in KEY_SOURCES + ("KEYSTORE_PASSWORD_FILE",):
            if k in envs:
                errors.append(f"{w}: {k} in the unit: the env file names the key source (the signer refuses two)")
    elif one("Service", "DynamicUser") != "yes":
        errors.append(f"{w}: DynamicUser=yes expected (its own uid: it cannot read the signer's key)")
    if a in STATE:
        sd = one("Service", "StateDirectory")
        if sd != f"oraclebus/{a}-%i" or envs.get(STATE[a]) != f"%S/oraclebus/{a}-%i":
            errors.append(f"{w}: StateDirectory=oraclebus/{a}-%i and {STATE[a]}=%S/oraclebus/{a}-%i expected")
    for k in envs:
        if k in SECRETS:
            errors.append(f"{w}: secret {k} in Environment=: use a credential file")
    execs = one("Service", "ExecStart") or ""
    if a != "busd":
        if envs.get("BUS_SIGNING_KEY_FILE") != "%d/bus-signing-key" or not any(
                c.startswith("bus-signing-key:") for c in u.get(("Service", "LoadCredential"), [])):
            errors.append(f"{w}: the bus key must come as LoadCredential=bus-signing-key:... -> BUS_SIGNING_KEY_FILE")
        if not execs.startswith("/usr/local/bin/oraclebus-run "):
            errors.append(f"{w}: ExecStart must go through /usr/local/bin/oraclebus-run (reads *_FILE)")
    if not execs.endswith(f"/usr/local/bin/{a}"):
        errors.append(f"{w}: ExecStart must run /usr/local/bin/{a}")

# ---- example env files and the Prometheus targets ---------------------------------------------
ports = {}   # METRICS_PORT -> (file, actor)
used = {}    # every port of every file -> file
for f in sorted(os.listdir(os.path.join(DIR, "env"))):
    m = re.fullmatch(r"(.+)-([A-Za-z0-9]+)\.env", f)
    actor = m.group(1) if m else None
    if actor not in ACTORS:
        errors.append(f"env/{f}: not <actor>-<instance>.env")
        continue
    known = env_table(actor)
    for n, line in enumerate(open(os.path.join(DIR, "env", f)), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        k, _, v = line.partition("=")
        if k in SECRETS:
            errors.append(f"env/{f}:{n}: secret {k} in an environment file: use a key file")
        elif known is not None and k not in known:
            errors.append(f"env/{f}:{n}: {k} is not a variable of {actor}")
        if k == "HTTP_PORT":
            errors.append(f"env/{f}:{n}: HTTP_PORT (one port): the seed's pair is METRICS_PORT and HEALTH_PORT")
        if k in ("METRICS_PORT", "HEALTH_PORT"):
            if v in used:
                errors.append(f"env/{f}:{n}: {k} {v} already used by env/{used[v]}")
            used[v] = f
        if k == "METRICS_PORT":
            ports[v] = (f, actor)
    if not any(p[0] == f for p in ports.values()):
        errors.append(f"env/{f}: no METRICS_PORT (no /metrics)")
    if actor == "signer":
        kv = dict(l.strip().split("=", 1) for l in open(os.path.join(DIR, "env", f)) if "=" in l and not l.startswith("#"))
        srcs = [k for k in KEY_SOURCES if k in kv]
        if len(srcs) != 1:
            errors.append(f"env/{f}: exactly one key source of {', '.join(KEY_SOURCES)} expected, got {srcs}")
        if ("KEYSTORE_FILE" in kv) != ("KEYSTORE_PASSWORD_FILE" in kv):
            errors.append(f"env/{f}: KEYSTORE_FILE and KEYSTORE_PASSWORD_FILE go together")
        for k in ("PRIVATE_KEY_FILE", "KEYSTORE_FILE", "KEYSTORE_PASSWORD_FILE"):
            if k in kv and not kv[k].startswith("/etc/oraclebus/keys/"):
                errors.append(f"env/{f}: {k} must be under /etc/oraclebus/keys (readable by oraclebus-signer only)")
prom = open(os.path.join(ROOT, "deploy/prometheus/prometheus.yml")).read()
targets = {p: a for p, a in re.findall(r'targets: \["127\.0\.0\.1:(\d+)"\]\s*\n\s*labels: \{actor: ([\w-]+)', prom)}
for p, (f, actor) in ports.items():
    if targets.get(p) != actor:
        errors.append(f"env/{f}: METRICS_PORT {p} is not scraped as actor {actor} by deploy/prometheus/prometheus.yml")
for p, actor in targets.items():
    if p not in ports:
        errors.append(f"prometheus.yml scrapes 127.0.0.1:{p} ({actor}): no env file uses that port")
if "9100" in used:
    errors.append("port 9100 is node_exporter's")

for n in sorted(set(notes)):
    print(n)
for e in errors:
    print("FAIL:", e)
print(f"systemd: {len(ACTORS)} template units, {len(ports)} example instances, {len(errors)} problem(s)")
sys.exit(1 if errors else 0)
