/*
 * feeds_test.c - the gate's configuration and chain decoding: FEEDS_FILE entries with defaults,
 * exact percent and absolute thresholds, every malformed field named in the error, duplicates;
 * the environment form; latestRoundData / oracleRoundState return data (including a negative
 * answer, short data and a timestamp beyond 64 bits).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "actors/gate/chainread.h"
#include "actors/gate/feeds.h"

static gf_feed
dflt(void)
{
	gf_feed d;
	memset(&d, 0, sizeof d);
	d.decimals = 8, d.threshold_ppm = 5000, d.heartbeat_ms = 3600000, d.min_interval_ms = 5000;
	return d;
}

static int
parse(const char *text, gf_feed *out, char *err)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	assert_non_null(j);
	gf_feed d = dflt();
	int n = gf_parse(j, &d, out, GF_MAX_FEEDS, err, 256);
	json_decref(j);
	return n;
}

static void
test_file(void **st)
{
	(void)st;
	gf_feed f[GF_MAX_FEEDS];
	char err[256] = "";
	int n = parse("{\"feeds\":[{\"feed\":\"ETH-USD\",\"aggregator\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\","
	              "\"decimals\":18,\"deviation\":\"0.25\",\"deviation_absolute\":\"1000\",\"heartbeat\":\"60s\","
	              "\"min_interval\":\"2s\",\"transmitter\":\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"},"
	              "{\"feed\":\"BTC-USD\",\"aggregator\":\"0x70997970c51812dc3a010c7d01b50e0d17dc79c8\"}]}",
	              f, err);
	assert_int_equal(n, 2);
	assert_string_equal(f[0].feed, "ETH-USD");
	assert_int_equal(f[0].aggregator[0], 0x5F);
	assert_int_equal(f[0].aggregator[19], 0xa3);
	assert_int_equal(f[0].decimals, 18);
	assert_int_equal(f[0].threshold_ppm, 2500);
	assert_int_equal(u256_low64(&f[0].threshold_abs), 1000);
	assert_int_equal(f[0].heartbeat_ms, 60000);
	assert_int_equal(f[0].min_interval_ms, 2000);
	assert_true(f[0].has_transmitter);
	assert_int_equal(f[0].transmitter[0], 0x70);
	assert_false(f[1].has_transmitter);
	/* defaults */
	assert_int_equal(f[1].decimals, 8);
	assert_int_equal(f[1].threshold_ppm, 5000);
	assert_true(u256_is_zero(&f[1].threshold_abs));
	assert_int_equal(f[1].heartbeat_ms, 3600000);
}

static void
test_file_errors(void **st)
{
	(void)st;
	static const struct {
		const char *json, *want;
	} bad[] = {
		{ "{}", "at least one feed" },
		{ "{\"feeds\":[]}", "at least one feed" },
		{ "{\"feeds\":[1]}", "feeds[0]: not an object" },
		{ "{\"feeds\":[{\"aggregator\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\"}]}", "feeds[0]: feed" },
		{ "{\"feeds\":[{\"feed\":\"ETH USD\",\"aggregator\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\"}]}",
		  "feeds[0]: feed" },
		{ "{\"feeds\":[{\"feed\":\"E\"}]}", "feeds[0]: aggregator" },
		{ "{\"feeds\":[{\"feed\":\"E\",\"aggregator\":\"0x5FbDB2315678afecb367f032d93F642f64180aA3\"}]}",
		  "aggregator" }, /* bad checksum */
		{ "{\"feeds\":[{\"feed\":\"E\",\"aggregator\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\","
		  "\"deviation\":0.5}]}",
		  "deviation" },
		{ "{\"feeds\":[{\"feed\":\"E\",\"aggregator\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\","
		  "\"deviation_absolute\":\"-1\"}]}",
		  "deviation_absolute" },
		{ "{\"feeds\":[{\"feed\":\"E\",\"aggregator\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\","
		  "\"heartbeat\":\"soon\"}]}",
		  "heartbeat" },
		{ "{\"feeds\":[{\"feed\":\"E\",\"aggregator\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\","
		  "\"decimals\":78}]}",
		  "decimals" },
		{ "{\"feeds\":[{\"feed\":\"E\",\"aggregator\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\","
		  "\"threshold\":\"1\"}]}",
		  "unknown field 'threshold'" },
		{ "{\"feeds\":[{\"feed\":\"E\",\"aggregator\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\","
		  "\"transmitter\":\"0x12\"}]}",
		  "feeds[0]: transmitter" },
		{ "{\"feeds\":[{\"feed\":\"E\",\"aggregator\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\"},"
		  "{\"feed\":\"E\",\"aggregator\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\"}]}",
		  "feeds[1]: feed: listed twice" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		gf_feed f[GF_MAX_FEEDS];
		char err[256] = "";
		if (parse(bad[i].json, f, err) != -1 || strstr(err, bad[i].want) == NULL)
			fail_msg("case %zu: err '%s', want '%s'", i, err, bad[i].want);
	}
}

/* GF_MAX_FEEDS feeds are taken, one more is refused before any is read. */
static void
test_file_bound(void **st)
{
	(void)st;
	gf_feed *f = calloc(GF_MAX_FEEDS + 1, sizeof *f);
	char err[256] = "", want[64];
	json_t *root = json_pack("{s:[]}", "feeds"), *arr = json_object_get(root, "feeds");
	for (int i = 0; i <= GF_MAX_FEEDS; i++) {
		char name[24], agg[43];
		snprintf(name, sizeof name, "F%d-USD", i);
		snprintf(agg, sizeof agg, "0x%040x", i + 1);
		json_array_append_new(arr, json_pack("{s:s,s:s}", "feed", name, "aggregator", agg));
	}
	gf_feed d = dflt();
	assert_int_equal(gf_parse(root, &d, f, GF_MAX_FEEDS, err, sizeof err), -1);
	snprintf(want, sizeof want, "%d feeds, at most %d", GF_MAX_FEEDS + 1, GF_MAX_FEEDS);
	assert_string_equal(err, want);
	json_array_remove(arr, 0);
	assert_int_equal(gf_parse(root, &d, f, GF_MAX_FEEDS, err, sizeof err), GF_MAX_FEEDS);
	char last[24];
	snprintf(last, sizeof last, "F%d-USD", GF_MAX_FEEDS);
	assert_string_equal(f[GF_MAX_FEEDS - 1].feed, last);
	json_decref(root);
	free(f);
}

static void
test_env(void **st)
{
	(void)st;
	gf_feed d = dflt(), f;
	char err[256];
	assert_int_equal(gf_parse_abs("25", &d.threshold_abs, err, sizeof err), 0);
	assert_int_equal(gf_from_env("ETH-USD", "0x5FbDB2315678afecb367f032d93F642f64180aa3", &d, &f, err, sizeof err),
	                 0);
	assert_int_equal(u256_low64(&f.threshold_abs), 25);
	assert_int_equal(gf_from_env(NULL, "0x5FbDB2315678afecb367f032d93F642f64180aa3", &d, &f, err, sizeof err), -1);
	assert_non_null(strstr(err, "FEED"));
	assert_int_equal(gf_from_env("ETH-USD", "0x12", &d, &f, err, sizeof err), -1);
	assert_non_null(strstr(err, "AGGREGATOR_ADDRESS"));
	u256 abs;
	assert_int_equal(gf_parse_abs("1.5", &abs, err, sizeof err), -1);
	assert_non_null(strstr(err, "1.5"));
	assert_int_equal(gf_parse_abs("", &abs, err, sizeof err), 0);
	assert_true(u256_is_zero(&abs));
}

static void
word_u64(uint8_t w[32], uint64_t v)
{
	memset(w, 0, 32);
	for (int i = 0; i < 8; i++)
		w[31 - i] = (uint8_t)(v >> (8 * i));
}

static void
test_decode_latest(void **st)
{
	(void)st;
	uint8_t d[5 * 32];
	gc_round r;
	char err[128];
	word_u64(d, 7);
	memset(d + 32, 0xff, 32); /* answer -1 ... */
	d[63] = 0x9c;             /* ... -100 */
	word_u64(d + 64, 1700000000);
	word_u64(d + 96, 1700000001);
	word_u64(d + 128, 7);
	assert_int_equal(gc_decode_latest(d, sizeof d, &r, err, sizeof err), 0);
	assert_int_equal(u256_low64(&r.round_id), 7);
	char a[80];
	i256_to_dec(&r.answer, a);
	assert_string_equal(a, "-100");
	assert_int_equal(r.started_at_s, 1700000000);
	assert_int_equal(r.updated_at_s, 1700000001);
	/* before the first update: all zeros */
	memset(d, 0, sizeof d);
	assert_int_equal(gc_decode_latest(d, sizeof d, &r, err, sizeof err), 0);
	assert_int_equal(r.updated_at_s, 0);
	/* short data, and a uint80 round with dirty high bits, and a time beyond 64 bits */
	assert_int_equal(gc_decode_latest(d, 4 * 32, &r, err, sizeof err), -1);
	d[0] = 1;
	assert_int_equal(gc_decode_latest(d, sizeof d, &r, err, sizeof err), -1);
	d[0] = 0;
	d[96 + 23] = 1;
	assert_int_equal(gc_decode_latest(d, sizeof d, &r, err, sizeof err), -1);
}

static void
test_decode_oracle_round(void **st)
{
	(void)st;
	uint8_t d[8 * 32];
	uint64_t round = 0;
	char err[128];
	memset(d, 0, sizeof d);
	word_u64(d, 1);       /* eligible */
	word_u64(d + 32, 42); /* _roundId */
	word_u64(d + 6 * 32, 1);
	assert_int_equal(gc_decode_oracle_round(d, sizeof d, &round, err, sizeof err), 0);
	assert_int_equal(round, 42);
	word_u64(d, 2); /* not a bool */
	assert_int_equal(gc_decode_oracle_round(d, sizeof d, &round, err, sizeof err), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file),          cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_file_bound),    cmocka_unit_test(test_env),
		cmocka_unit_test(test_decode_latest), cmocka_unit_test(test_decode_oracle_round),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
