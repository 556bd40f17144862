#!/usr/bin/env bash
# busd's private memory (RssAnon) with 80 stalled subscribers (connected, never reading, each
# holding different frames) while a live subscriber gets 2000 frames of 64 KiB, against its bound
# (BUSD_MAX_BYTES = 64 MiB of frames, default, + 32 MiB for the rest: 96 MiB); and after the stalled
# subscribers left (given back by malloc_trim). Before the byte bounds, one such subscriber and 600
# frames of 1 MB took busd from 9 to 589 MiB, still 418 MiB 45 s after it left.
# Reports; never fails on numbers (tests/integration/busd_bounds.sh asserts the bound).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
BUILD=${BUILD:-build}
IN=tcp://127.0.0.1:$(free_port) OUT=tcp://127.0.0.1:$(free_port)
BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$TMP/journal BUSD_SUB_STALL=0 LOG_LEVEL=error \
	"$BUILD/bin/busd" 2>"$TMP/busd.log" &
BPID=$!
PIDS+=($BPID)
sleep 0.5
line=$("$BUILD/bin/busd-load" --ingress "$IN" --egress "$OUT" --pid $BPID --stalled 80 --frames 2000 --body 65000 \
	--after-mib 4 2>"$TMP/load.log") || true
echo "$line"
python3 - "$line" <<'PY'
import re, sys
kv = dict(re.findall(r"(\w+)=([\d.]+)", sys.argv[1]))
if "peak" not in kv:
    print("busd memory: no result"); sys.exit(0)
print("busd private memory, 80 stalled subscribers, 2000 x 64 KiB frames: peak %.1f MiB (bound 96 MiB), "
      "%.1f MiB after they left (idle before: %.1f MiB); live subscriber got %s/2000"
      % (int(kv["peak"]) / 1024, int(kv["after_they_left"]) / 1024, int(kv["before"]) / 1024, kv["live_got"]))
PY
