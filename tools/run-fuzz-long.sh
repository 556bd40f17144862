#!/usr/bin/env bash
# make fuzz-long: every libFuzzer target (ASan + UBSan) for RUNS executions each (default 10 million),
# on the corpus `make fuzz` grows, and a report of the executions each made and how long they took
# (build/fuzz/long-report.txt; the README's table comes from it). Not in CI: it takes hours on 2 cores.
# Any crash, leak or sanitizer report fails the run; the reproducer is kept in build/fuzz/artifacts/.
set -u
runs=${FUZZ_RUNS:-10000000}
# Inputs up to FUZZ_MAX_LEN bytes (65536). A smaller bound is a fair trade for decoders whose real input
# is small (a SWIFT FIN message is at most 10,000 characters of text block): the run is several times
# faster per execution and reaches the same grammar; the README's record says which bound each used.
max_len=${FUZZ_MAX_LEN:-65536}
report=build/fuzz/long-report.txt
fail=0 pass=0
mkdir -p build/fuzz/artifacts
printf '# make fuzz-long, %s, %s executions per target\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$runs" >"$report"
for t in "$@"; do
	name=$(basename "$t")
	corpus="build/fuzz/corpus/$name"
	mkdir -p "$corpus"
	seeds=()
	[ -d "tests/fuzz/seeds/$name" ] && seeds=("tests/fuzz/seeds/$name")
	start=$(date +%s)
	if "$t" -runs="$runs" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix=build/fuzz/artifacts/"$name"- "$corpus" "${seeds[@]}" >build/fuzz/"$name".long.log 2>&1; then
		pass=$((pass + 1))
		execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' build/fuzz/"$name".long.log | grep -oE '[0-9]+$')
		line="$name ${execs:-?} executions in $(($(date +%s) - start)) s (max_len $max_len), no finding"
		echo "FUZZ OK   $line"
	else
		fail=$((fail + 1))
		line="$name FAILED after $(($(date +%s) - start)) s (see build/fuzz/$name.long.log)"
		echo "FUZZ FAIL $line"
		tail -40 build/fuzz/"$name".long.log | sed 's/^/    | /'
	fi
	echo "$line" >>"$report"
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
