#!/usr/bin/env bash
# What a subscriber pays for frames it did not subscribe to, with and without busd filtering for it
# (bus/topicdecl.h): busd, tools/bench-pub publishing price.obs for FILTER_FEEDS (500) feeds x 3
# sources once a second (1,500 frames/s), and FILTER_TAPS (4) bus-tap subscribed to a prefix no frame
# matches. Measured over FILTER_SECONDS (20) per mode: CPU % of a core per bus-tap and for busd
# (utime + stime of /proc/<pid>/stat), and busd's egress counters. Modes: BUS_SUB_FILTER=0 (the
# subscribers are plain sub0: busd writes them every frame, as before) and the default (declared).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/lib/common.sh
B=$BUILD/bin
for b in busd bus-tap bench-pub; do [ -x "$B/$b" ] || { echo "missing $B/$b (run make)"; exit 1; }; done
FEEDS=${FILTER_FEEDS:-500} TAPS=${FILTER_TAPS:-4} SECS=${FILTER_SECONDS:-20}
HZ=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

busd_start "$B/busd" filter
BUSD_PID=${PIDS[-1]}
"$B/bench-pub" obs --url "$IN" --feeds "$FEEDS" --sources 3 --interval-ms 1000 --duration $((4 * SECS + 60)) >"$TMP/pub.out" 2>"$TMP/pub.log" &
PIDS+=($!)
wait_for 5 "bench-pub publishing" bash -c "[ \"\$(curl -sf http://127.0.0.1:$BP/metrics | awk '\$1==\"busd_forwarded_total\"{print \$2}')\" -gt 100 ]"

for mode in 0 1; do
	taps=()
	for i in $(seq "$TAPS"); do
		BUS_SUB_FILTER=$mode "$B/bus-tap" --url "$OUT" --topic nomatch. --format raw >/dev/null 2>>"$TMP/tap.log" &
		taps+=($!)
		PIDS+=($!)
	done
	wait_subscribers "$BP" "$TAPS"
	sleep 2 # past the connection's first second (TLS-free here, but the dial and handshake cost CPU)
	f0=$(metric_at "$BP" busd_forwarded_total) x0=$(metric_at "$BP" busd_egress_filtered_total)
	b0=$(cpu "$BUSD_PID") t0=0
	for p in "${taps[@]}"; do t0=$((t0 + $(cpu "$p"))); done
	s0=$EPOCHREALTIME
	sleep "$SECS"
	s1=$EPOCHREALTIME
	f1=$(metric_at "$BP" busd_forwarded_total) x1=$(metric_at "$BP" busd_egress_filtered_total)
	b1=$(cpu "$BUSD_PID") t1=0
	for p in "${taps[@]}"; do t1=$((t1 + $(cpu "$p"))); done
	awk -v m="$mode" -v n="$TAPS" -v dt="$(awk -v a="$s0" -v b="$s1" 'BEGIN{print b - a}')" -v hz="$HZ" \
		-v t="$((t1 - t0))" -v b="$((b1 - b0))" -v f="$((f1 - f0))" -v x="$((x1 - x0))" 'BEGIN{
		printf "BUS_SUB_FILTER=%s: %.0f frames/s forwarded; per bus-tap (prefix matching none) %.2f %% of a core; busd %.1f %%; filtered at busd %.0f (frame, subscriber)/s\n",
			m, f / dt, 100 * t / hz / dt / n, 100 * b / hz / dt, x / dt }'
	for p in "${taps[@]}"; do kill "$p"; done
	wait_for 5 "the bus-taps gone" bash -c "[ \"\$(curl -sf http://127.0.0.1:$BP/metrics | awk '\$1==\"busd_subscribers\"{print \$2}')\" = 0 ]"
done
