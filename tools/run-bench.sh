#!/usr/bin/env bash
# Runs every benchmark binary and every tests/bench/*.sh, one after another (never in parallel: they
# compare against baselines measured in the same run), and tees the report to build/bench-report.txt.
# BENCH_SCRIPTS (space-separated paths) runs only those scripts: e.g.
#   BENCH_SCRIPTS=tests/bench/fetcher_scale.sh tools/run-bench.sh   (no binaries: only that script)
set -u
export HTTP_PORT=${HTTP_PORT-0} # actors listen on the seed's 8000/8080 unless told: here, no HTTP unless a start asks (docs/MIGRATION.md)
BUILD=${BUILD:-build}
out="$BUILD/bench-report.txt"; : >"$out"
{
  echo "# oraclebus bench $(date -u +%FT%TZ) on $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
  for b in "$@"; do echo; echo "## $b"; "$b" || echo "(exit $?)"; done
  for s in ${BENCH_SCRIPTS:-$(ls tests/bench/*.sh 2>/dev/null)}; do echo; echo "## $s"; BUILD="$BUILD" bash "$s" || echo "(exit $?)"; done
} 2>&1 | tee "$out"
