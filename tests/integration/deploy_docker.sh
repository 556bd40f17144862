#!/usr/bin/env bash
# deploy/docker/Dockerfile, checked statically (no Docker engine here): every FROM pinned by digest
# and both stages on the same base; the runtime stage runs as a non-root USER, installs no compiler
# or -dev package, copies nothing from build/test, build/bench, build/fuzz or tests/, ships every
# actor and no test double; every shared library the shipped binaries load (their ELF NEEDED
# entries, resolved on this Debian 12 machine to their packages) is installed in the runtime stage.
# Also deploy/bin/oraclebus-run, the secret-file wrapper the image runs actors through.
# Broken copies of the Dockerfile must be refused.
set -euo pipefail
export HTTP_PORT=${HTTP_PORT-0} # actors listen on the seed's 8000/8080 unless told: here, no HTTP unless a start asks (docs/MIGRATION.md)
cd "$(dirname "$0")/../.."
# The image's build stage runs plain `make`: its binaries are the default build's, whatever build this
# run tests (an ASan build needs libasan and, at -O1, libmsgpackc, which the image rightly lacks).
BUILD=build
[ -x "$BUILD/bin/gate" ] || { echo "deploy_docker checks the default build's binaries: run make first (skipped)"; exit 0; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

check() {  # Dockerfile -> prints problems, exit 1 if any
	python3 - "$1" "$BUILD" <<'PY'
import os, re, shlex, subprocess, sys
path, build = sys.argv[1], sys.argv[2]
text = open(path).read()
# join continuation lines, drop comments
lines, cur = [], ""
for raw in text.splitlines():
    s = raw.strip()
    if not cur and (not s or s.startswith("#")):
        continue
    if s.startswith("#"):
        continue
    cur += (" " if cur else "") + (s[:-1].rstrip() if s.endswith("\\") else s)
    if not s.endswith("\\"):
        lines.append(cur); cur = ""
stages, errs = [], []
for l in lines:
    instr, _, rest = l.partition(" ")
    instr = instr.upper()
    if instr == "FROM":
        stages.append({"from": rest.split()[0], "name": (rest.split() + ["", "", ""])[2], "lines": []})
    elif stages:
        stages[-1]["lines"].append((instr, rest))
if len(stages) < 2:
    errs.append("not a multi-stage build")
for st in stages:
    if not re.fullmatch(r"[a-z0-9./-]+(:[A-Za-z0-9._-]+)?@sha256:[0-9a-f]{64}", st["from"]):
        errs.append(f"FROM {st['from']}: not pinned by digest (image@sha256:...)")
if len({st["from"] for st in stages}) != 1:
    errs.append("the build and runtime stages use different base images")
if stages and not re.match(r"debian:12\.\d+-slim@", stages[-1]["from"]):
    errs.append(f"runtime base {stages[-1]['from']}: expected a pinned debian:12.x-slim")
rt = stages[-1] if stages else {"lines": []}
users = [r for i, r in rt["lines"] if i == "USER"]
if not users or users[-1].split(":")[0] in ("0", "root") or not users[-1].split(":")[0]:
    errs.append("runtime stage: no non-root USER as the last USER")
installed = set()
for i, r in rt["lines"]:
    if i == "RUN":
        for m in re.finditer(r"apt-get install ([^&|;]*)", r):
            installed |= {w for w in shlex.split(m.group(1)) if not w.startswith("-")}
    if i in ("COPY", "ADD"):
        src = [w for w in r.split() if not w.startswith("--")][:-1]
        for s in src:
            if re.search(r"(^|/)(build/(test|bench|fuzz|asan)|tests)(/|$)", s) or s in (".", "./"):
                errs.append(f"runtime stage copies {s}: test binaries or the source tree")
        if "--from=" not in r and i == "COPY":
            errs.append(f"runtime stage COPY {r}: only the built programs belong there (--from=build)")
for p in sorted(installed):
    if re.search(r"(-dev$|^build-essential$|^gcc|^g\+\+|^clang|^make$|^cmake$|^pkg-config$|^cmocka)", p):
        errs.append(f"runtime stage installs {p}: no compilers or -dev packages at run time")
# What ships: every actor plus ORACLEBUS_TOOLS; never a test double.
tools = re.search(r'ARG ORACLEBUS_TOOLS="([^"]*)"', text)
tools = tools.group(1).split() if tools else []
if not tools:
    errs.append("ARG ORACLEBUS_TOOLS missing")
for t in tools:
    if not os.path.exists(f"tools/{t}/main.c"):
        errs.append(f"ORACLEBUS_TOOLS: tools/{t} is no tool")
    if re.search(r"double|crash|sim$|example|test|bench|fuzz", t):
        errs.append(f"ORACLEBUS_TOOLS ships {t}: a test double/helper, not an operator tool")
if "for m in actors/*/main.c" not in text:
    errs.append("the build stage does not ship every actor (actors/*/main.c)")
if "oraclebus-run" not in text:
    errs.append("deploy/bin/oraclebus-run (secret files) not in the image")
# Libraries: every NEEDED soname of every shipped program, by Debian package.
progs = [d for d in sorted(os.listdir("actors")) if os.path.exists(f"actors/{d}/main.c")] + tools
ldcache = {}
for line in subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout.splitlines():
    m = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)", line)
    if m and "x86-64" in m.group(2) or (m and "," not in m.group(2)):
        ldcache.setdefault(m.group(1), m.group(3))
need = {}
for p in progs:
    b = os.path.join(build, "bin", p)
    if not os.path.exists(b):
        errs.append(f"{b} not built (make first): its libraries cannot be checked")
        continue
    out = subprocess.run(["objdump", "-p", b], capture_output=True, text=True).stdout
    for so in re.findall(r"NEEDED\s+(\S+)", out):
        need.setdefault(so, set()).add(p)
base = {"libc6"}  # in every debian image
for so, who in sorted(need.items()):
    lib = ldcache.get(so)
    if not lib:
        errs.append(f"{so} (needed by {', '.join(sorted(who))}): not found on this machine")
        continue
    r = subprocess.run(["dpkg", "-S", os.path.realpath(lib)], capture_output=True, text=True)
    if r.returncode != 0:
        r = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True)
    pkg = r.stdout.split(":")[0].strip() if r.returncode == 0 else None
    if pkg is None:
        errs.append(f"{so}: no Debian package owns {lib}")
    elif pkg not in installed and pkg not in base:
        errs.append(f"{so} (package {pkg}, needed by {', '.join(sorted(who))}) is not installed in the runtime stage")
for e in errs:
    print("  -", e)
print(f"  {len(stages)} stages, {len(progs)} programs, {len(need)} shared libraries, {len(installed)} runtime packages")
sys.exit(1 if errs else 0)
PY
}

if check deploy/docker/Dockerfile >"$TMP/out" 2>&1; then ok "Dockerfile: $(tail -1 "$TMP/out" | sed 's/^ *//')"; else cat "$TMP/out"; bad "Dockerfile"; fi
grep -qx 'build' deploy/docker/Dockerfile.dockerignore && grep -qx '.git' deploy/docker/Dockerfile.dockerignore &&
	ok "Dockerfile.dockerignore keeps build/ and .git out" || bad "Dockerfile.dockerignore must exclude build and .git"

mutate() {  # name old new: a broken Dockerfile must be refused
	python3 - deploy/docker/Dockerfile "$TMP/Dockerfile" "$2" "$3" <<'PY'
import sys
src, dst, old, new = sys.argv[1:5]
s = open(src).read()
assert old in s, old
open(dst, "w").write(s.replace(old, new))
PY
	if check "$TMP/Dockerfile" >"$TMP/out" 2>&1; then bad "accepted: $1"; else ok "refuses: $1"; fi
	[ -z "${DEPLOY_CHECKS_VERBOSE:-}" ] || grep -- "  - " "$TMP/out" | sed 's/^/      /' || true
}
mutate "an unpinned base" "FROM debian:12.11-slim@sha256:b1a741487078b369e78119849663d7f1a5341ef2768798f7b7406c4240f86aef AS build" "FROM debian:bookworm-slim AS build"
mutate "root at run time" "USER 10001:10001" "USER root"
mutate "test binaries copied" "COPY --from=build /out/bin/ /usr/local/bin/" "COPY --from=build /out/bin/ /usr/local/bin/
COPY --from=build /src/build/test/ /usr/local/lib/oraclebus-tests/"
mutate "a compiler in the runtime" "ca-certificates lmdb-utils" "ca-certificates lmdb-utils gcc"
mutate "a test double shipped" 'ORACLEBUS_TOOLS="bus-tap' 'ORACLEBUS_TOOLS="alert-sink-double bus-tap'
mutate "a library missing at run time" "libnng1 liblmdb0" "liblmdb0"

# oraclebus-run: NAME_FILE -> NAME for the actor, refusals exit 78 without the content.
run=deploy/bin/oraclebus-run
printf 'deadbeef\n\n' >"$TMP/key" && chmod 400 "$TMP/key"
out=$(env -i PATH="$PATH" BUS_SIGNING_KEY_FILE="$TMP/key" sh "$run" sh -c 'echo "$BUS_SIGNING_KEY|${BUS_SIGNING_KEY_FILE-unset}"')
[ "$out" = "deadbeef|unset" ] && ok "oraclebus-run exports the file's content, unsets NAME_FILE" || bad "oraclebus-run gave '$out'"
set +e
env -i PATH="$PATH" BUS_SIGNING_KEY_FILE="$TMP/none" sh "$run" true 2>"$TMP/err"; rc=$?
[ $rc -eq 78 ] && grep -q "BUS_SIGNING_KEY_FILE=$TMP/none: no such file" "$TMP/err" && ok "oraclebus-run: missing file -> exit 78, named" || bad "oraclebus-run missing file: rc $rc $(cat "$TMP/err")"
: >"$TMP/empty"
env -i PATH="$PATH" PAGERDUTY_ROUTING_KEY_FILE="$TMP/empty" sh "$run" true 2>"$TMP/err"; rc=$?
[ $rc -eq 78 ] && grep -q "empty" "$TMP/err" && ok "oraclebus-run: empty file -> exit 78" || bad "oraclebus-run empty file: rc $rc"
env -i PATH="$PATH" BUS_SIGNING_KEY=x BUS_SIGNING_KEY_FILE="$TMP/key" sh "$run" true 2>"$TMP/err"; rc=$?
[ $rc -eq 78 ] && ! grep -q deadbeef "$TMP/err" && ok "oraclebus-run: NAME and NAME_FILE both set -> exit 78 (content not shown)" || bad "oraclebus-run both set: rc $rc"
out=$(env -i PATH="$PATH" SLACK_WEBHOOK_URL_FILE="$TMP/none" ORACLEBUS_OPTIONAL_SECRETS="SLACK_WEBHOOK_URL" sh "$run" sh -c 'echo "${SLACK_WEBHOOK_URL-unset}"'); rc=$?
[ $rc -eq 0 ] && [ "$out" = unset ] && ok "oraclebus-run: an optional secret's missing file leaves it unset" || bad "oraclebus-run optional: rc $rc '$out'"
env -i PATH="$PATH" BUS_SIGNING_KEY_FILE="$TMP/key" sh "$run" sh -c 'exit 3'; rc=$?
[ $rc -eq 3 ] && ok "oraclebus-run execs: the actor's exit status is the container's" || bad "oraclebus-run exit status $rc"
set -e

[ "$fails" -eq 0 ] && echo "deploy_docker: all passed" || { echo "deploy_docker: $fails failed"; exit 1; }
