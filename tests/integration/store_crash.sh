#!/usr/bin/env bash
# Crash consistency of the store: SIGKILL a writer (build/bin/store-crash-writer) at random
# moments, KILLS times; after each kill reopen the env and check its invariants (counter equals
# the ledger sum, outbox and its due index agree, dedupe saw every id), that nothing the writer
# reported committed was lost, and that the counter never goes backwards.
# Then prove the check can fail: a writer that splits one update into two commits must be caught.
set -u
export HTTP_PORT=${HTTP_PORT-0} # actors listen on the seed's 8000/8080 unless told: here, no HTTP unless a start asks (docs/MIGRATION.md)
BUILD=${BUILD:-build}
bin="$BUILD/bin/store-crash-writer"
KILLS=${KILLS:-50}
[ -x "$bin" ] || { echo "missing $bin (run make)"; exit 1; }
. "$(dirname "$0")/../lib/common.sh"
tmp=$TMP
# progress_gt N: the writer reported a committed counter above N (its progress file)
progress_gt() { local c; c=$(tr -d ' \n' <"$tmp/progress" 2>/dev/null); [ "${c:-0}" -gt "$1" ]; }

prev=0
for i in $(seq 1 "$KILLS"); do
  "$bin" write "$tmp/env" "$tmp/progress" 2>"$tmp/writer.err" &
  pid=$!
  # every 10th kill comes after a commit of this run, so the check never only sees empty runs
  # however slow the machine; the others 20..219 ms after the start: anywhere in a commit, a
  # map growth or the open itself
  [ $((i % 10)) = 0 ] && { poll 10 progress_gt "$prev" || { echo "kill $i: the writer committed nothing in time"; exit 1; }; }
  sleep "0.$(printf '%03d' $((20 + RANDOM % 200)))"
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null
  if [ -s "$tmp/writer.err" ]; then
    echo "kill $i: writer failed on its own:"; cat "$tmp/writer.err"; exit 1
  fi
  if ! c=$("$bin" check "$tmp/env" "$tmp/progress" "$prev"); then
    echo "kill $i: invariant broken after SIGKILL (previous counter $prev)"; exit 1
  fi
  prev=$c
done
echo "$KILLS kills: store consistent every time, final counter $prev"
[ "$prev" -gt 0 ] || { echo "writer never committed anything"; exit 1; }

# The check must be able to fail: a writer that commits the counter and its ledger entry in two
# transactions leaves them disagreeing when killed in between (a 2 ms window per increment).
rm -rf "$tmp/env" "$tmp/progress"
caught=0
done_=0
for i in $(seq 1 60); do
  "$bin" write "$tmp/env" "$tmp/progress" --broken 2>/dev/null &
  pid=$!
  # once it is committing (a slow machine may take longer than any fixed delay to get there)
  poll 10 progress_gt "$done_" || { echo "the broken writer committed nothing in time"; exit 1; }
  sleep "0.$(printf '%03d' $((RANDOM % 100)))"
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null
  if ! "$bin" check "$tmp/env" "$tmp/progress" >/dev/null 2>"$tmp/check.err"; then
    caught=1
    echo "broken writer caught after $i kills: $(head -n1 "$tmp/check.err")"
    break
  fi
  done_=$(tr -d ' \n' <"$tmp/progress")
done
[ "$caught" = 1 ] || { echo "the check never detected the deliberately broken writer"; exit 1; }
echo "ok"
