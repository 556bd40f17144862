/* schema_bench: how fast the generic codec handles a price.obs, against msgpack-c itself.
 *
 * Baseline, measured in the same process on the same bytes: msgpack-c's msgpack_unpack into a
 * msgpack_object with a caller-held zone (cleared, not freed, between messages), which only
 * parses and does none of our checks or copies. Reported as rates and ratios, never pass/fail. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <msgpack.h>

#include "schemas/messages.h"
#include "schemas/schema.h"

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile uint64_t sink;

int
main(void)
{
	sc_price_obs o = { .feed = "ETH-USD",
		           .source = "coinbase",
		           .decimals = 8,
		           .source_ts_ms = 1732700000123ULL,
		           .fetch_latency_us = 48211,
		           .observed_at_ns = 1732700000456789012ULL };
	uint8_t buf[512];
	size_t len;
	sc_err e;
	u256_from_u64(&o.value, 312345670000ULL);
	if (sc_encode(&SC_PRICE_OBS, &o, buf, sizeof buf, &len, &e)) {
		fprintf(stderr, "encode: %s\n", e.text);
		return 1;
	}
	const long N = 2000000;

	/* baseline: msgpack-c unpack into an object tree, zone reused */
	msgpack_zone zone;
	msgpack_zone_init(&zone, 2048);
	double t0 = now();
	for (long i = 0; i < N; i++) {
		msgpack_object obj;
		size_t off = 0;
		if (msgpack_unpack((const char *)buf, len, &off, &zone, &obj) != MSGPACK_UNPACK_SUCCESS)
			return 1;
		sink += obj.via.map.size;
		msgpack_zone_clear(&zone);
	}
	double t_base = now() - t0;
	msgpack_zone_destroy(&zone);

	sc_price_obs r;
	t0 = now();
	for (long i = 0; i < N; i++) {
		if (sc_decode(&SC_PRICE_OBS, buf, len, &r, &e))
			return 1;
		sink += r.decimals;
	}
	double t_dec = now() - t0;

	uint8_t out[512];
	t0 = now();
	for (long i = 0; i < N; i++) {
		size_t n;
		if (sc_encode(&SC_PRICE_OBS, &o, out, sizeof out, &n, &e))
			return 1;
		sink += n;
	}
	double t_enc = now() - t0;

	t0 = now();
	for (long i = 0; i < N; i++) {
		size_t n;
		sc_decode(&SC_PRICE_OBS, buf, len, &r, &e);
		sc_encode(&SC_PRICE_OBS, &r, out, sizeof out, &n, &e);
		sink += n;
	}
	double t_both = now() - t0;

	printf("schema_bench: price.obs body %zu bytes, %ld iterations each\n", len, N);
	printf("  baseline msgpack_unpack (zone reused): %10.0f msg/s  %6.1f ns/msg\n", N / t_base, t_base / N * 1e9);
	printf("  sc_decode (strict, into the struct):   %10.0f msg/s  %6.1f ns/msg  ratio %.2f x baseline\n",
	       N / t_dec, t_dec / N * 1e9, t_base / t_dec);
	printf("  sc_encode:                             %10.0f msg/s  %6.1f ns/msg  ratio %.2f x baseline\n",
	       N / t_enc, t_enc / N * 1e9, t_base / t_enc);
	printf("  sc_decode + sc_encode:                 %10.0f msg/s  %6.1f ns/msg  ratio %.2f x baseline\n",
	       N / t_both, t_both / N * 1e9, t_base / t_both);
	return 0;
}
