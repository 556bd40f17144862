#!/usr/bin/env python3
"""Keeps every actor's README env table equal to the actor's own option table.

  tools/readme-env.py [--fix] [--root DIR]

For each actors/<actor>/main.c, runs build/bin/<actor> --env-table (BUILD overrides build/) and
compares it with the table in DIR/actors/<actor>/README.md (DIR defaults to the source tree) that
starts with the line `| variable | default | meaning |` and runs to the last `|` line after it.
Differences are printed as the variables added, missing or changed; exit 1 when any. --fix rewrites
each README's table with the actor's output (the rest of the README is left as it is).
"""
import os, subprocess, sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BUILD = os.environ.get("BUILD", "build")
HEADER = "| variable | default | meaning |"
args = sys.argv[1:]
fix = "--fix" in args
root = args[args.index("--root") + 1] if "--root" in args else ROOT


def rows(lines):
    return {l.split("|")[1].strip(): l for l in lines if l.startswith("| `")}


problems = 0
n = 0
for actor in sorted(os.listdir(os.path.join(ROOT, "actors"))):
    if not os.path.exists(os.path.join(ROOT, "actors", actor, "main.c")):
        continue
    exe = os.path.join(ROOT, BUILD, "bin", actor)
    if not os.path.exists(exe):
        sys.exit(f"readme-env: {exe} not built (make)")
    want = subprocess.run([exe, "--env-table"], capture_output=True, text=True, check=True).stdout.splitlines()
    path = os.path.join(root, "actors", actor, "README.md")
    text = open(path).read().splitlines()
    if HEADER not in text:
        print(f"actors/{actor}/README.md: no env table (a line '{HEADER}')")
        problems += 1
        continue
    start = text.index(HEADER)
    end = start + 1
    while end < len(text) and text[end].startswith("|"):
        end += 1
    have = text[start:end]
    n += 1
    if have == want:
        continue
    if fix:
        open(path, "w").write("\n".join(text[:start] + want + text[end:]) + "\n")
        print(f"actors/{actor}/README.md: env table rewritten from {actor} --env-table")
        continue
    h, w = rows(have), rows(want)
    for v in w:
        if v not in h:
            print(f"actors/{actor}/README.md: {v} missing (the actor has it)")
        elif h[v] != w[v]:
            print(f"actors/{actor}/README.md: {v} differs:\n    README: {h[v]}\n    actor:  {w[v]}")
    for v in h:
        if v not in w:
            print(f"actors/{actor}/README.md: {v} is not an option of {actor}")
    if [l for l in have if l.startswith("| `")] and list(h) == list(w) and all(h[v] == w[v] for v in w):
        print(f"actors/{actor}/README.md: rows in another order or header changed")
    problems += 1
print(f"readme-env: {n} actor READMEs, {problems} out of step with --env-table" + (" (fixed)" if fix else ""))
sys.exit(1 if problems and not fix else 0)
