#!/usr/bin/env bash
# The bus over TLS with client certificates (tls+tcp://127.0.0.1), keys made here with openssl:
#  1. busd listens on tls+tcp:// for both ingress and egress; bus-tap with a certificate of the bus CA
#     publishes and subscribes (the actors over TLS: tests/integration/oracle_tls_drops.sh).
#  2. refused: a TLS client without a certificate (openssl s_client), bus-tap with a certificate
#     from another CA, and a plain tcp:// sub0 on the TLS port: each is counted
#     (busd_refused_total{reason="tls"}) and gets nothing; a publisher of another CA forwards nothing.
#  3. configuration: a missing key file, or a key of another certificate (an actor: median, through
#     ACT_BUS_OPTS), is a configuration error (exit 78) naming the variable; a tls+tcp:// URL without
#     BUS_TLS_* is refused at start.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
BUILD=${BUILD:-build}
BUSD=$BUILD/bin/busd TAP=$BUILD/bin/bus-tap MEDIAN=$BUILD/bin/median
for b in "$BUSD" "$TAP" "$MEDIAN"; do [ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }; done
command -v openssl >/dev/null || { echo "missing openssl"; exit 1; }
FAIL_TAIL=15
P=$TMP/pki
mkdir -p "$P"

# A CA, busd's server certificate (the names subscribers dial), a client certificate per pod, and a
# rogue CA with its own client certificate. EC P-256 keys; mbedTLS (NNG's TLS) checks the server's
# DNS names, so 127.0.0.1 is listed as a DNS name too.
ca() {  # name
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/$1.key" \
		-out "$P/$1.crt" -days 3650 -subj "/CN=$1" 2>>"$TMP/openssl.log"
}
cert() {  # name ca extensions
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/$1.key" -out "$P/$1.csr" \
		-subj "/CN=$1" 2>>"$TMP/openssl.log"
	printf '%s\n' "$3" >"$P/$1.ext"
	openssl x509 -req -in "$P/$1.csr" -CA "$P/$2.crt" -CAkey "$P/$2.key" -CAcreateserial -days 825 \
		-extfile "$P/$1.ext" -out "$P/$1.crt" 2>>"$TMP/openssl.log"
	chmod 600 "$P/$1.key"
}
ca bus-ca
ca rogue-ca
cert busd bus-ca "subjectAltName=DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1
extendedKeyUsage=serverAuth"
cert pod bus-ca "extendedKeyUsage=clientAuth"
cert rogue rogue-ca "extendedKeyUsage=clientAuth"
openssl verify -CAfile "$P/bus-ca.crt" "$P/busd.crt" "$P/pod.crt" >/dev/null || fail "openssl verify"

P1=$(free_port) P2=$(free_port) HP=$(free_port)
IN=tls+tcp://127.0.0.1:$P1 OUT=tls+tcp://127.0.0.1:$P2
BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$TMP/journal HTTP_PORT=$HP HTTP_ADDR=127.0.0.1 \
	BUS_TLS_CERT=$P/busd.crt BUS_TLS_KEY=$P/busd.key BUS_TLS_CA=$P/bus-ca.crt INSTANCE=busd-tls \
	"$BUSD" 2>"$TMP/busd.log" &
PIDS+=($!)
wait_for 10 "busd /health" curl -sf "http://127.0.0.1:$HP/health"
wait_for 10 "busd says tls on" grep -q '"tls":"on"' "$TMP/busd.log"
metric() { curl -sf "http://127.0.0.1:$HP/metrics" | awk -v m="$1" '$1==m{print $2}'; }
metric_ge() { local v; v=$(metric "$1"); [ "${v%.*}" -ge "$2" ]; }
pod() { BUS_TLS_CERT=$P/pod.crt BUS_TLS_KEY=$P/pod.key BUS_TLS_CA=$P/bus-ca.crt "$@"; }

echo "== 1. publish and subscribe over tls+tcp:// with a certificate of the bus CA"
pod "$TAP" --url "$OUT" --topic tls. --count 2 --timeout 20 >"$TMP/sub.out" 2>"$TMP/sub.log" &
SUB=$!
PIDS+=($SUB)
wait_for 20 "a TLS subscriber" metric_ge busd_subscribers 1
wait_for 10 "the TLS subscriber declared its topics (busd filters for it)" metric_ge busd_subscribers_filtered 1
pod "$TAP" --url "$IN" --publish tls.x --type raw --hex 01 --repeat 2 --interval 100 2>>"$TMP/pub.log" ||
	fail "publish over TLS"
wait $SUB || { curl -s "http://127.0.0.1:$HP/metrics" | grep "^busd" >"$TMP/metrics.log"; fail "bus-tap over TLS did not get 2 frames"; }
[ "$(grep -c '"topic":"tls.x"' "$TMP/sub.out")" = 2 ] || fail "want 2 tls.x frames: $(cat "$TMP/sub.out")"

echo "== 2. clients without a valid certificate are refused and counted"
before=$(metric 'busd_refused_total{reason="tls"}')
timeout 20 openssl s_client -connect 127.0.0.1:"$P2" -CAfile "$P/bus-ca.crt" </dev/null >"$TMP/s_client.out" 2>&1 || true
wait_for 10 "refusal of a client without certificate counted" metric_ge 'busd_refused_total{reason="tls"}' $((${before%.*} + 1))
timeout 20 openssl s_client -connect 127.0.0.1:"$P1" -CAfile "$P/bus-ca.crt" </dev/null >"$TMP/s_client_in.out" 2>&1 || true
wait_for 10 "ingress refusal counted" metric_ge 'busd_ingress_refused_total{reason="tls"}' 1
BUS_TLS_CERT=$P/rogue.crt BUS_TLS_KEY=$P/rogue.key BUS_TLS_CA=$P/bus-ca.crt \
	"$TAP" --url "$OUT" --topic tls. --count 1 --timeout 3 >"$TMP/rogue.out" 2>"$TMP/rogue.log" &
ROGUE=$!
wait_for 10 "refusal of another CA's certificate counted" metric_ge 'busd_refused_total{reason="tls"}' $((${before%.*} + 2))
"$TAP" --url "tcp://127.0.0.1:$P2" --topic tls. --count 1 --timeout 3 >"$TMP/plain.out" 2>"$TMP/plain.log" &
PLAIN=$!
wait_for 10 "refusal of a plain tcp:// subscriber counted" metric_ge 'busd_refused_total{reason="tls"}' $((${before%.*} + 3))
pod "$TAP" --url "$IN" --publish tls.x --type raw --hex 03 2>>"$TMP/pub.log" || fail "publish 3"
if wait $ROGUE; then fail "a client of another CA got a frame"; fi
if wait $PLAIN; then fail "a plain tcp:// client got a frame"; fi
[ ! -s "$TMP/plain.out" ] || fail "a plain client got: $(cat "$TMP/plain.out")"
[ ! -s "$TMP/rogue.out" ] || fail "a client of another CA got: $(cat "$TMP/rogue.out")"
# the rogue publisher's frames never arrive either
pod "$TAP" --url "$OUT" --topic rogue. --count 1 --timeout 4 >"$TMP/rogue-sub.out" 2>>"$TMP/sub.log" &
RSUB=$!
sleep 1
BUS_TLS_CERT=$P/rogue.crt BUS_TLS_KEY=$P/rogue.key BUS_TLS_CA=$P/bus-ca.crt \
	"$TAP" --url "$IN" --publish rogue.x --type raw --hex 04 2>>"$TMP/rogue-pub.log" || true
if wait $RSUB; then fail "a frame from a publisher of another CA was forwarded"; fi

echo "== 3. configuration errors"
set +e
BUS_TLS_CERT=$P/pod.crt BUS_TLS_KEY=$P/missing.key BUS_TLS_CA=$P/bus-ca.crt "$TAP" --url "$OUT" --timeout 1 \
	>/dev/null 2>"$TMP/cfg1.err"; rc1=$?
BUS_TLS_CERT=$P/pod.crt BUS_TLS_KEY=$P/rogue.key BUS_TLS_CA=$P/bus-ca.crt BUS_PUB_URL=$IN BUS_SUB_URL=$OUT \
	timeout 20 "$MEDIAN" >/dev/null 2>"$TMP/cfg2.err"; rc2=$?
BUS_TLS_CERT=$P/pod.crt BUSD_INGRESS=tcp://127.0.0.1:$(free_port) BUSD_EGRESS=tcp://127.0.0.1:$(free_port) \
	JOURNAL_DIR=$TMP/j2 "$BUSD" >/dev/null 2>"$TMP/cfg3.err"; rc3=$?
"$TAP" --url "$OUT" --timeout 1 >/dev/null 2>"$TMP/cfg4.err"; rc4=$?
set -e
[ $rc1 = 78 ] && grep -q 'BUS_TLS_KEY' "$TMP/cfg1.err" || fail "missing key file: rc $rc1: $(cat "$TMP/cfg1.err")"
[ $rc2 = 78 ] && grep -q 'not the private key' "$TMP/cfg2.err" || fail "key of another cert: rc $rc2: $(cat "$TMP/cfg2.err")"
[ $rc3 = 78 ] && grep -q 'go together' "$TMP/cfg3.err" || fail "half a TLS config: rc $rc3: $(cat "$TMP/cfg3.err")"
[ $rc4 != 0 ] && grep -q 'BUS_TLS_CERT' "$TMP/cfg4.err" || fail "tls+tcp without identity: rc $rc4: $(cat "$TMP/cfg4.err")"
if grep -q 'BEGIN' "$TMP"/cfg*.err "$TMP/busd.log"; then fail "key material in an error or log"; fi
echo "PASS bus_tls"
