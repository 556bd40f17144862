#!/usr/bin/env bash
# The actor runtime end to end, through build/bin/rt-example: /health and /metrics over HTTP,
# promtool acceptance, health flipping to 503 and back (SIGUSR1), graceful SIGTERM (exit 0,
# final log line, every line JSON), --env-table, and a bad configuration exiting 2 with every
# problem named. Also reports the idle memory (private: PRIVATE_LIMIT_KB, default 1024; VmRSS:
# RSS_LIMIT_KB, default 6144; skipped for asan).
set -euo pipefail
export HTTP_PORT=${HTTP_PORT-0} # actors listen on the seed's 8000/8080 unless told: here, no HTTP unless a start asks (docs/MIGRATION.md)
BUILD=${BUILD:-build}
BIN=$BUILD/bin/rt-example
[ -x "$BIN" ] || { echo "missing $BIN (run make)"; exit 1; }
. "$(dirname "$0")/../lib/common.sh"
PID=
on_exit() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; }

PORT=$(free_port)
URL=http://127.0.0.1:$PORT

status() { curl -s -o "$TMP/body" -w '%{http_code}' "$URL$1" || echo 000; }
status_is() { [ "$(status "$1")" = "$2" ]; }
HTTP_PORT=$PORT HTTP_ADDR=127.0.0.1 INSTANCE=rtx-1 EXAMPLE_FEEDS='ETH-USD, "odd"\feed' \
	"$BIN" 2>"$TMP/err.log" &
PID=$!
poll 5 status_is /health 200 || true

# /health: 200 and JSON naming the actor and instance
[ "$(status /health)" = 200 ] || fail "/health not 200"
python3 - "$TMP/body" <<'PY' || fail "/health body"
import json, sys
h = json.load(open(sys.argv[1]))
assert h == {"status": "ok", "actor": "rt-example", "instance": "rtx-1"}, h
PY

# /metrics: content type, promtool, and a counter that moves
ct=$(curl -s -o "$TMP/m1" -w '%{content_type}' "$URL/metrics")
case "$ct" in "text/plain; version=0.0.4"*) ;; *) fail "content type '$ct'";; esac
promtool check metrics <"$TMP/m1" || fail "promtool rejected /metrics"
grep -q '^process_resident_memory_bytes [0-9]' "$TMP/m1" || fail "no process RSS metric"
grep -q '^example_feed_threshold_ppm{feed="\\"odd\\"\\\\feed"} 5000$' "$TMP/m1" || fail "label escaping"
t1=$(awk '$1=="example_ticks_total"{print $2}' "$TMP/m1")
ticked() { curl -s "$URL/metrics" >"$TMP/m2"; [ "$(awk '$1=="example_ticks_total"{print $2}' "$TMP/m2")" -gt "$t1" ]; }
poll 3 ticked || true
t2=$(awk '$1=="example_ticks_total"{print $2}' "$TMP/m2")
[ "$t2" -gt "$t1" ] || fail "ticks did not advance ($t1 -> $t2)"
[ "$(curl -s "$URL/hello")" = "hello from rtx-1" ] || fail "/hello route"

# Idle RSS with the HTTP server running
sleep 0.5
rss=$(awk '/^VmRSS/{print $2}' /proc/$PID/status)
anon=$(awk '/^RssAnon/{print $2}' /proc/$PID/status)
threads=$(awk '/^Threads/{print $2}' /proc/$PID/status)
echo "rt-example idle: VmRSS ${rss} kB (private ${anon} kB), ${threads} threads"
# Private memory is what each actor adds; the rest of VmRSS is shared library pages (libmicrohttpd's
# GnuTLS, libcurl's dependencies), mapped once per machine.
case "$BUILD" in *asan*) ;; *)
  [ "$anon" -le "${PRIVATE_LIMIT_KB:-1024}" ] || fail "private memory ${anon} kB over limit"
  [ "$rss" -le "${RSS_LIMIT_KB:-6144}" ] || fail "RSS ${rss} kB over limit";; esac

# Degraded and back
kill -USR1 $PID
poll 3 status_is /health 503 || true
[ "$(status /health)" = 503 ] || fail "/health did not turn 503"
python3 - "$TMP/body" <<'PY' || fail "degraded body"
import json, sys
h = json.load(open(sys.argv[1]))
assert h["status"] == "degraded" and h["reasons"] == [{"key": "demo", "text": "toggled by SIGUSR1"}], h
PY
kill -USR1 $PID
poll 3 status_is /health 200 || true
[ "$(status /health)" = 200 ] || fail "/health did not return to 200"

# Graceful stop
kill -TERM $PID
rc=0; wait $PID || rc=$?
PID=
[ $rc -eq 0 ] || fail "exit $rc after SIGTERM"
python3 - "$TMP/err.log" <<'PY' || fail "log lines"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines, "no log lines"
for l in lines:
    assert set(["ts", "level", "actor", "instance", "msg"]) <= set(l), l
    assert l["actor"] == "rt-example" and l["instance"] == "rtx-1", l
assert lines[-1]["msg"] == "stopped", lines[-1]
assert any(l["msg"] == "health changed" and l["state"] == "degraded" for l in lines)
PY

# --env-table: a markdown table with the actor's and the common variables
"$BIN" --env-table >"$TMP/table" || fail "--env-table exit"
head -2 "$TMP/table" | grep -q '^| variable | default | meaning |$' || fail "table header"
grep -q '^| `EXAMPLE_TICK` | `100ms` | main loop period (duration' "$TMP/table" || fail "table row"
grep -q '^| `HTTP_PORT` |  | compatibility' "$TMP/table" && grep -q '^| `METRICS_PORT` | `8000` |' "$TMP/table" && grep -q '^| `HEALTH_PORT` | `8080` |' "$TMP/table" || fail "common rows"

# A bad configuration: exit 78 (EX_CONFIG), every problem named, nothing started
rc=0
EXAMPLE_TICK=abc HTTP_PORT=70000 LOG_LEVEL=loud "$BIN" 2>"$TMP/bad.log" || rc=$?
[ $rc -eq 78 ] || fail "bad config exit $rc, want 78"
grep -q "EXAMPLE_TICK: 'abc' is not a duration" "$TMP/bad.log" || fail "EXAMPLE_TICK not named"
grep -q "HTTP_PORT: '70000' is out of range" "$TMP/bad.log" || fail "HTTP_PORT not named"
grep -q "LOG_LEVEL: 'loud' is not a level" "$TMP/bad.log" || fail "LOG_LEVEL not named"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$TMP/bad.log" || fail "bad-config log not JSON"
echo "runtime_http: ok"
