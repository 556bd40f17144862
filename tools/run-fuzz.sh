#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS, with a corpus under build/fuzz/corpus/<name> that grows across runs
# (seeded from tests/fuzz/seeds/<name>/ when present). Any crash fails the run; the reproducer is kept.
set -u
secs=$1; shift
fail=0; pass=0
for t in "$@"; do
  name=$(basename "$t")
  corpus="build/fuzz/corpus/$name"; mkdir -p "$corpus" build/fuzz/artifacts
  seeds=(); [ -d "tests/fuzz/seeds/$name" ] && seeds=("tests/fuzz/seeds/$name")
  if "$t" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix=build/fuzz/artifacts/"$name"- "$corpus" "${seeds[@]}" >build/fuzz/"$name".log 2>&1; then
    pass=$((pass+1))
    echo "FUZZ OK   $name ($(grep -oE '#[0-9]+' build/fuzz/"$name".log | tail -1 | tr -d '#') execs in ${secs}s)"
  else
    fail=$((fail+1)); echo "FUZZ FAIL $name"; tail -40 build/fuzz/"$name".log | sed 's/^/    | /'
  fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
