#!/usr/bin/env python3
"""Lists the Prometheus metrics the programs of this tree export, from their C sources.

  tools/metric-names.py             one line per series name: NAME TYPE FILE
  tools/metric-names.py --names     the names a query may use (a histogram: only _bucket, _sum, _count)

Reads every non-test C file (not *_test.c, *_bench.c, *_fuzz.c) for registrations: a call of a
function whose name says counter / gauge / histogram / labeled / register (rt_counter, rt_gauge,
rt_histogram, rtm_register, the actors' small wrappers) whose first string argument is the metric
name. The dashboard and rules checks (tests/integration/deploy_dashboard.sh) use it so that a
renamed metric fails them; the same test scrapes running actors to prove this list is complete.
"""
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DIRS = ("actors", "bus", "store", "chain", "base", "schemas", "payments", "tools")
CALL = re.compile(r"\b(\w*(?:counter|gauge|histogram|labeled|register)\w*)\s*\(\s*(?:[01]\s*,\s*)?"
                  r"\"([a-zA-Z_:][a-zA-Z0-9_:]*)\"")


def scan(root=ROOT):
    found = {}
    for d in DIRS:
        for dirpath, _, files in os.walk(os.path.join(root, d)):
            for f in sorted(files):
                if not f.endswith(".c") or re.search(r"_(test|bench|fuzz)\.c$", f):
                    continue
                path = os.path.join(dirpath, f)
                text = open(path, errors="replace").read()
                for m in CALL.finditer(text):
                    fn, name = m.group(1), m.group(2)
                    call = text[m.start():m.start() + 400].split(";")[0]
                    if "histogram" in fn or "RTM_HISTOGRAM" in call:
                        kind = "histogram"
                    elif "gauge" in fn or "RTM_GAUGE" in call or re.match(r"\w+\(\s*0\s*,", call):
                        kind = "gauge"
                    else:
                        kind = "counter"
                    found.setdefault(name, (kind, os.path.relpath(path, root)))
    return found


def names(found):
    out = set()
    for n, (kind, _) in found.items():
        if kind == "histogram":  # a histogram is only its three series; the bare name selects nothing
            out |= {n + "_bucket", n + "_sum", n + "_count"}
        else:
            out.add(n)
    return out


if __name__ == "__main__":
    found = scan()
    if "--names" in sys.argv[1:]:
        print("\n".join(sorted(names(found))))
    else:
        for n in sorted(found):
            print(f"{n}\t{found[n][0]}\t{found[n][1]}")
