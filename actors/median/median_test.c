/*
 * median_test.c - the median's pure logic: odd and even counts (truncation toward zero, checked
 * against __int128 arithmetic on random sets), negative prices, int256 extremes, outliers,
 * spread refusal, staleness, quorum, duplicate source updates, equal values, decimals mismatch,
 * exact ppm ratios and the identical-aggregate rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/median/median.h"

#define S  1000000000ull /* ns per second */
#define MS 1000000ull    /* ns per millisecond */

static md_cfg
cfg(uint32_t quorum, uint64_t dev_ppm, uint64_t spread_ppm)
{
	md_cfg c = { .window_ns = 60 * S, .quorum = quorum, .max_dev_ppm = dev_ppm, .max_spread_ppm = spread_ppm };
	return c;
}

static u256
dec(const char *s)
{
	u256 v;
	assert_int_equal(i256_from_dec(&v, s, strlen(s)), 0);
	return v;
}

static u256
i64v(int64_t x)
{
	u256 v;
	u256_from_u64(&v, (uint64_t)(x < 0 ? -(x + 1) : x));
	if (x < 0) { /* -(|x|-1) - 1 without overflow at INT64_MIN */
		u256 one;
		u256_from_u64(&one, 1);
		i256_neg(&v, &v);
		u256_sub(&v, &v, &one);
	}
	return v;
}

static void
obs(md_feed *f, const md_cfg *c, const char *src, const char *val, uint64_t t, uint64_t now, int want)
{
	sc_price_obs o;
	memset(&o, 0, sizeof o);
	snprintf(o.feed, sizeof o.feed, "%s", f->feed);
	snprintf(o.source, sizeof o.source, "%s", src);
	o.value = dec(val);
	o.decimals = 8;
	o.observed_at_ns = t;
	assert_int_equal(md_observe(f, c, &o, now), want);
}

static void
assert_dec(const u256 *v, const char *want)
{
	char buf[80];
	i256_to_dec(v, buf);
	assert_string_equal(buf, want);
}

static void
test_odd_even(void **st)
{
	(void)st;
	md_cfg c = cfg(1, 0, 0);
	md_feed f;
	sc_price_agg a;
	size_t fresh;
	md_feed_init(&f, "ETH-USD");
	obs(&f, &c, "a", "300", 100 * S, 100 * S, MD_OK);
	assert_int_equal(md_compute(&f, &c, 100 * S, &a, &fresh), MD_AGG);
	assert_dec(&a.median, "300");
	obs(&f, &c, "b", "101", 100 * S, 100 * S, MD_OK);
	assert_int_equal(md_compute(&f, &c, 100 * S, &a, &fresh), MD_AGG);
	assert_dec(&a.median, "200"); /* (101 + 300) / 2 = 200.5 -> 200 */
	obs(&f, &c, "c", "200", 100 * S, 100 * S, MD_OK);
	assert_int_equal(md_compute(&f, &c, 100 * S, &a, &fresh), MD_AGG);
	assert_dec(&a.median, "200");
	assert_int_equal(a.used_count, 3);
	assert_string_equal(a.used[0].source, "b"); /* sorted by value */
	assert_string_equal(a.used[2].source, "a");
	assert_int_equal(a.decimals, 8);
	assert_int_equal(a.oldest_observed_at_ns, 100 * S);
	/* spread (300 - 101) / 200 = 0.995 */
	assert_int_equal(a.spread_ppm, 995000);
}

static void
test_negative_and_rounding(void **st)
{
	(void)st;
	u256 r, a = dec("-3"), b = dec("-4");
	md_avg_toward_zero(&r, &a, &b);
	assert_dec(&r, "-3");
	a = dec("3"), b = dec("4");
	md_avg_toward_zero(&r, &a, &b);
	assert_dec(&r, "3");
	a = dec("-3"), b = dec("4");
	md_avg_toward_zero(&r, &a, &b);
	assert_dec(&r, "0"); /* 0.5 -> 0 */
	a = dec("-5"), b = dec("2");
	md_avg_toward_zero(&r, &a, &b);
	assert_dec(&r, "-1"); /* -1.5 -> -1 */
	/* int256 extremes: the sum would overflow, the mean does not */
	const char *max = "57896044618658097711785492504343953926634992332820282019728792003956564819967";
	const char *min = "-57896044618658097711785492504343953926634992332820282019728792003956564819968";
	a = dec(max), b = dec(max);
	md_avg_toward_zero(&r, &a, &b);
	assert_dec(&r, max);
	a = dec(min), b = dec(min);
	md_avg_toward_zero(&r, &a, &b);
	assert_dec(&r, min);
	a = dec(min), b = dec(max);
	md_avg_toward_zero(&r, &a, &b);
	assert_dec(&r, "0"); /* -0.5 -> 0 */

	md_cfg c = cfg(2, 0, 0);
	md_feed f;
	sc_price_agg agg;
	size_t fresh;
	md_feed_init(&f, "SPREAD");
	obs(&f, &c, "a", "-150", S, S, MD_OK);
	obs(&f, &c, "b", "-101", S, S, MD_OK);
	assert_int_equal(md_compute(&f, &c, S, &agg, &fresh), MD_AGG);
	assert_dec(&agg.median, "-125");          /* -125.5 -> -125 */
	assert_int_equal(agg.spread_ppm, 392000); /* 49 / 125 */
}

static int
cmp64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return (a > b) - (a < b);
}

/* Random sets of int64 values against an independent __int128 median. */
static void
test_random_against_int128(void **st)
{
	(void)st;
	srand(12345);
	md_cfg c = cfg(1, 0, 0);
	for (int iter = 0; iter < 2000; iter++) {
		md_feed f;
		md_feed_init(&f, "R");
		size_t n = 1 + (size_t)(rand() % MD_MAX_SOURCES);
		int64_t vals[MD_MAX_SOURCES];
		for (size_t i = 0; i < n; i++) {
			int64_t x = (int64_t)(((uint64_t)rand() << 32) ^ ((uint64_t)rand() << 8) ^ (uint64_t)rand());
			if (iter % 3 == 0)
				x %= 1000; /* many ties */
			vals[i] = (rand() & 1) ? -x : x;
			sc_price_obs o;
			memset(&o, 0, sizeof o);
			snprintf(o.feed, sizeof o.feed, "R");
			snprintf(o.source, sizeof o.source, "s%zu", i);
			o.value = i64v(vals[i]);
			o.decimals = 8;
			o.observed_at_ns = S;
			assert_int_equal(md_observe(&f, &c, &o, S), MD_OK);
		}
		qsort(vals, n, sizeof vals[0], cmp64);
		__int128 want = n % 2 ? vals[n / 2] : ((__int128)vals[n / 2 - 1] + vals[n / 2]) / 2;
		sc_price_agg a;
		size_t fresh;
		assert_int_equal(md_compute(&f, &c, S, &a, &fresh), MD_AGG);
		u256 w = i64v((int64_t)want);
		assert_int_equal(u256_cmp(&a.median, &w), 0);
		assert_int_equal(a.used_count, n);
	}
}

static void
test_outliers(void **st)
{
	(void)st;
	md_cfg c = cfg(3, 10000 /* 1 % */, 0);
	md_feed f;
	sc_price_agg a;
	size_t fresh;
	md_feed_init(&f, "ETH-USD");
	obs(&f, &c, "a", "300000000000", S, S, MD_OK);
	obs(&f, &c, "b", "300100000000", S, S, MD_OK);
	obs(&f, &c, "c", "299900000000", S, S, MD_OK);
	obs(&f, &c, "liar", "330000000000", S, S, MD_OK); /* +10 % */
	assert_int_equal(md_compute(&f, &c, S, &a, &fresh), MD_AGG);
	assert_int_equal(fresh, 4);
	assert_int_equal(a.used_count, 3);
	assert_int_equal(a.dropped_count, 1);
	assert_string_equal(a.dropped[0].source, "liar");
	assert_dec(&a.median, "300000000000");
	/* exactly at the limit stays: provisional median of {100, 101, 99, 1000}... use a clean case */
	md_feed_init(&f, "EDGE");
	obs(&f, &c, "a", "10000", S, S, MD_OK);
	obs(&f, &c, "b", "10100", S, S, MD_OK); /* exactly 1 % from 10000: not "more than" */
	obs(&f, &c, "c", "9899", S, S, MD_OK);  /* 1.01 %: dropped */
	obs(&f, &c, "d", "10000", S, S, MD_OK);
	assert_int_equal(md_compute(&f, &c, S, &a, &fresh), MD_AGG);
	assert_int_equal(a.dropped_count, 1);
	assert_string_equal(a.dropped[0].source, "c");
	/* dropping outliers can lose the quorum */
	md_feed_init(&f, "Q");
	obs(&f, &c, "a", "100", S, S, MD_OK);
	obs(&f, &c, "b", "100", S, S, MD_OK);
	obs(&f, &c, "c", "200", S, S, MD_OK);
	assert_int_equal(md_compute(&f, &c, S, &a, &fresh), MD_BELOW_QUORUM);
	assert_int_equal(a.used_count, 2);
	assert_int_equal(a.dropped_count, 1);
	/* negative prices: distance is on magnitudes */
	md_feed_init(&f, "NEG");
	obs(&f, &c, "a", "-1000", S, S, MD_OK);
	obs(&f, &c, "b", "-1005", S, S, MD_OK);
	obs(&f, &c, "c", "-998", S, S, MD_OK);
	obs(&f, &c, "d", "-500", S, S, MD_OK);
	assert_int_equal(md_compute(&f, &c, S, &a, &fresh), MD_AGG);
	assert_int_equal(a.dropped_count, 1);
	assert_string_equal(a.dropped[0].source, "d");
	assert_dec(&a.median, "-1000");
}

static void
test_spread_refusal(void **st)
{
	(void)st;
	md_cfg c = cfg(2, 0, 20000 /* 2 % */);
	md_feed f;
	sc_price_agg a;
	size_t fresh;
	md_feed_init(&f, "ETH-USD");
	obs(&f, &c, "a", "1000", S, S, MD_OK);
	obs(&f, &c, "b", "1020", S, S, MD_OK); /* spread 20 / 1010 = 1.98 % */
	assert_int_equal(md_compute(&f, &c, S, &a, &fresh), MD_AGG);
	assert_int_equal(a.spread_ppm, 19801);
	obs(&f, &c, "b", "1030", 2 * S, 2 * S, MD_OK); /* 30 / 1015 = 2.96 % */
	assert_int_equal(md_compute(&f, &c, 2 * S, &a, &fresh), MD_DISAGREE);
	assert_int_equal(a.spread_ppm, 29556);
	/* spread of a zero median with different values is unbounded */
	md_feed_init(&f, "Z");
	obs(&f, &c, "a", "-1", S, S, MD_OK);
	obs(&f, &c, "b", "1", S, S, MD_OK);
	assert_int_equal(md_compute(&f, &c, S, &a, &fresh), MD_DISAGREE);
	assert_int_equal(a.spread_ppm, UINT64_MAX);
}

static void
test_staleness_and_quorum(void **st)
{
	(void)st;
	md_cfg c = cfg(2, 0, 0);
	md_feed f;
	sc_price_agg a;
	size_t fresh;
	md_feed_init(&f, "ETH-USD");
	assert_int_equal(md_compute(&f, &c, 100 * S, &a, &fresh), MD_NO_DATA);
	obs(&f, &c, "a", "100", 100 * S, 100 * S, MD_OK);
	assert_int_equal(md_compute(&f, &c, 100 * S, &a, &fresh), MD_BELOW_QUORUM);
	obs(&f, &c, "b", "102", 130 * S, 130 * S, MD_OK);
	assert_int_equal(md_compute(&f, &c, 160 * S, &a, &fresh), MD_AGG); /* a is exactly 60 s old */
	assert_int_equal(a.oldest_observed_at_ns, 100 * S);
	assert_int_equal(md_compute(&f, &c, 160 * S + 1, &a, &fresh), MD_BELOW_QUORUM);
	assert_int_equal(fresh, 1);
	assert_int_equal(f.n, 1);
	/* an observation already older than the window is refused */
	obs(&f, &c, "c", "100", 99 * S, 160 * S, MD_ESTALE);
	/* from the future (skew) counts as fresh, but as observed on arrival: it expires one window
	 * after that, not after its own (future) time */
	obs(&f, &c, "c", "101", 170 * S, 160 * S, MD_OK);
	assert_int_equal(md_compute(&f, &c, 160 * S, &a, &fresh), MD_AGG);
	assert_int_equal(a.oldest_observed_at_ns, 130 * S);
	assert_int_equal(a.used[0].observed_at_ns, 160 * S);
	assert_int_equal(a.window_ms, 60000); /* the window travels with the aggregate */
	obs(&f, &c, "b", "102", 190 * S, 190 * S, MD_OK);
	assert_int_equal(md_compute(&f, &c, 220 * S, &a, &fresh), MD_AGG);
	assert_int_equal(md_compute(&f, &c, 220 * S + 1, &a, &fresh), MD_BELOW_QUORUM); /* c stored at 160 s */
	/* every aggregate produced holds only observations within the window it states */
	for (uint64_t now = 221 * S; now < 400 * S; now += 7 * S) {
		obs(&f, &c, "a", "100", now - 59 * S, now, MD_OK);
		obs(&f, &c, "b", "101", now, now, MD_OK);
		if (md_compute(&f, &c, now, &a, &fresh) == MD_AGG)
			assert_true(now - a.oldest_observed_at_ns <= a.window_ms * 1000000ull);
	}
}

static void
test_duplicates_equal_decimals(void **st)
{
	(void)st;
	md_cfg c = cfg(3, 10000, 10000);
	md_feed f;
	sc_price_agg a, b;
	size_t fresh;
	md_feed_init(&f, "ETH-USD");
	/* one source updating many times is still one source */
	for (int i = 0; i < 5; i++)
		obs(&f, &c, "a", i % 2 ? "101" : "100", (uint64_t)(10 + i) * S, 20 * S, MD_OK);
	obs(&f, &c, "b", "100", 20 * S, 20 * S, MD_OK);
	assert_int_equal(md_compute(&f, &c, 20 * S, &a, &fresh), MD_BELOW_QUORUM);
	assert_int_equal(fresh, 2);
	/* a late, older observation of a source does not replace a newer one */
	obs(&f, &c, "a", "999", 20 * S, 21 * S, MD_OK); /* newer than its t=14 */
	obs(&f, &c, "a", "100", 19 * S, 21 * S, MD_ESTALE);
	assert_dec(&f.src[0].value, "999");
	obs(&f, &c, "a", "100", 21 * S, 21 * S, MD_OK);
	obs(&f, &c, "c", "100", 21 * S, 21 * S, MD_OK);
	/* equal values: spread 0, median that value */
	assert_int_equal(md_compute(&f, &c, 21 * S, &a, &fresh), MD_AGG);
	assert_dec(&a.median, "100");
	assert_int_equal(a.spread_ppm, 0);
	assert_int_equal(a.dropped_count, 0);
	/* decimals must match the feed's */
	sc_price_obs o;
	memset(&o, 0, sizeof o);
	snprintf(o.feed, sizeof o.feed, "ETH-USD");
	snprintf(o.source, sizeof o.source, "d");
	o.value = dec("100");
	o.decimals = 18;
	o.observed_at_ns = 21 * S;
	assert_int_equal(md_observe(&f, &c, &o, 21 * S), MD_EDECIMALS);
	snprintf(o.feed, sizeof o.feed, "BTC-USD");
	assert_int_equal(md_observe(&f, &c, &o, 21 * S), MD_EFEED);
	/* identical aggregates: same median and sources, whatever the times */
	assert_int_equal(md_compute(&f, &c, 22 * S, &b, &fresh), MD_AGG);
	assert_true(md_same_aggregate(&a, &b));
	obs(&f, &c, "c", "101", 23 * S, 23 * S, MD_OK);
	obs(&f, &c, "b", "101", 23 * S, 23 * S, MD_OK);
	assert_int_equal(md_compute(&f, &c, 23 * S, &b, &fresh), MD_AGG);
	assert_false(md_same_aggregate(&a, &b));
	/* too many sources */
	md_feed_init(&f, "MANY");
	for (int i = 0; i < MD_MAX_SOURCES; i++) {
		char name[16];
		snprintf(name, sizeof name, "s%d", i);
		obs(&f, &c, name, "1", S, S, MD_OK);
	}
	obs(&f, &c, "one-more", "1", S, S, MD_EFULL);
	assert_string_equal(md_observe_error_name(MD_EDECIMALS), "decimals_mismatch");
	assert_string_equal(md_status_name(MD_DISAGREE), "sources_disagree");
}

/* Repeats of an equal aggregate: after MIN_PUBLISH_INTERVAL, or sooner once the last one's oldest
 * observation is half a WINDOW old and the repeat is fresher (publisher_scale.sh ran WINDOW 3 s with
 * the default 5 s: every quiet feed went stale at the gate for 2-3 s of each 5, an
 * aggregate_stale alert firing and resolved per feed every 5 s - ~190 alerts/s at 500 feeds). */
static void
test_repeat_before_stale(void **st)
{
	(void)st;
	sc_price_agg last, next;
	memset(&last, 0, sizeof last);
	snprintf(last.feed, sizeof last.feed, "ETH-USD");
	last.median = dec("100");
	last.decimals = 8;
	last.used_count = 2;
	snprintf(last.used[0].source, sizeof last.used[0].source, "a");
	snprintf(last.used[1].source, sizeof last.used[1].source, "b");
	last.oldest_observed_at_ns = 10 * S;
	next = last;
	next.oldest_observed_at_ns = 12 * S; /* fresher observations, same aggregate */
	const uint64_t W = 3 * S, MINP = 5 * S;
	assert_false(md_publish_due(&last, &next, 1 * S, 11 * S, MINP, W));
	assert_false(md_publish_due(&last, &next, 1 * S, 11 * S + 499 * MS, MINP, W));
	assert_true(md_publish_due(&last, &next, 1 * S, 11 * S + 500 * MS, MINP, W)); /* half a window old */
	assert_true(md_publish_due(&last, &next, MINP, 11 * S, MINP, W));             /* the interval passed */
	/* no fresher observation (a source quiet): no repeat until the interval, however often asked */
	next.oldest_observed_at_ns = last.oldest_observed_at_ns;
	assert_false(md_publish_due(&last, &next, 1 * S, 12 * S, MINP, W));
	assert_true(md_publish_due(&last, &next, MINP, 12 * S, MINP, W));
	/* a wide window (the default 60 s): the interval alone paces repeats, as before */
	next.oldest_observed_at_ns = 12 * S;
	assert_false(md_publish_due(&last, &next, 1 * S, 12 * S, MINP, 60 * S));
	/* a different aggregate always goes */
	next.median = dec("101");
	assert_true(md_publish_due(&last, &next, 0, 10 * S, MINP, W));
	next.median = last.median;
	snprintf(next.used[1].source, sizeof next.used[1].source, "c");
	assert_true(md_publish_due(&last, &next, 0, 10 * S, MINP, W));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_odd_even),
		cmocka_unit_test(test_negative_and_rounding),
		cmocka_unit_test(test_random_against_int128),
		cmocka_unit_test(test_outliers),
		cmocka_unit_test(test_spread_refusal),
		cmocka_unit_test(test_staleness_and_quorum),
		cmocka_unit_test(test_duplicates_equal_decimals),
		cmocka_unit_test(test_repeat_before_stale),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
