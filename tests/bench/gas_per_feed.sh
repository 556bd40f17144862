#!/usr/bin/env bash
# Gas per feed update, one transaction per feed versus batched (issue 12): runs
# tests/integration/oracle_many_feeds.sh (the whole oracle on anvil with BENCH_FEEDS feeds, 50 by
# default: single, then every feed in OracleBatcher batches, then single again) and reports its
# numbers as a ratio. Reports; fails only when the run itself fails.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
out=$(MANY_FEEDS=${BENCH_FEEDS:-50} BUILD="$BUILD" bash tests/integration/oracle_many_feeds.sh 2>&1)
rc=$?
line=$(printf '%s\n' "$out" | grep '^gas per feed update')
if [ $rc -ne 0 ] || [ -z "$line" ]; then
	printf '%s\n' "$out" | tail -20
	echo "gas per feed: no result (exit $rc)"
	exit 1
fi
echo "$line"
python3 - "$line" <<'PY'
import re, sys
m = re.search(r"single (\d+), batched (\d+) \((\d+) feeds in (\d+) transaction", sys.argv[1])
s, b, n, t = map(int, m.groups())
print("gas per feed update, batched / single: %.2f (%d / %d gas; %d feeds in %d transaction(s); aim < 1)" % (b / s, b, s, n, t))
PY
