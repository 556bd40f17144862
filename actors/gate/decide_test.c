/*
 * decide_test.c - the gate's decision: Chainlink's deviation rules as a table (zero thresholds,
 * strict absolute, >= relative, old == 0, negative prices, int256 extremes), the same rules
 * checked against a straight __int128 transcription of deviation_checker.go on random inputs,
 * deviation ppm, and gd_decide (first, deviation, heartbeat, min interval, in flight and
 * superseding, unknown chain state, clock skew).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/gate/decide.h"

#define S 1000000000ull

static const char *I256_MAX = "57896044618658097711785492504343953926634992332820282019728792003956564819967";
static const char *I256_MIN = "-57896044618658097711785492504343953926634992332820282019728792003956564819968";

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
	if (x >= 0) {
		u256_from_u64(&v, (uint64_t)x);
	} else {
		u256_from_u64(&v, (uint64_t)(-(x + 1)) + 1); /* |x| without overflow at INT64_MIN */
		i256_neg(&v, &v);
	}
	return v;
}

static const struct dev_case {
	const char *cur, *next;
	uint64_t rel_ppm;
	const char *abs;
	int want;
} dev_cases[] = {
	/* both thresholds zero: always true, even for equal answers */
	{ "100", "100", 0, "0", 1 },
	{ "0", "0", 0, "0", 1 },
	/* relative 0.5 %: >= */
	{ "100000", "100500", 5000, "0", 1 },
	{ "100000", "100499", 5000, "0", 0 },
	{ "100000", "99500", 5000, "0", 1 },
	{ "100000", "99501", 5000, "0", 0 },
	{ "100000", "100000", 5000, "0", 0 },
	/* relative only: abs 0 still requires diff > 0 */
	{ "7", "7", 1, "0", 0 },
	{ "7", "8", 1, "0", 1 },
	/* negative answers: relative to |cur| */
	{ "-100000", "-100500", 5000, "0", 1 },
	{ "-100000", "-99501", 5000, "0", 0 },
	{ "-100000", "100000", 5000, "0", 1 },
	{ "100000", "-100000", 2000000, "0", 1 }, /* exactly 200 % */
	{ "100000", "-100000", 2000001, "0", 0 },
	/* old == 0: infinite unless new == 0 */
	{ "0", "1", 5000, "0", 1 },
	{ "0", "-1", 5000, "0", 1 },
	{ "0", "0", 5000, "0", 0 },
	/* absolute only: strictly greater */
	{ "100", "110", 0, "10", 0 },
	{ "100", "111", 0, "10", 1 },
	{ "100", "89", 0, "10", 1 },
	{ "0", "5", 0, "10", 0 },
	{ "0", "11", 0, "10", 1 },
	{ "0", "0", 0, "10", 0 },
	/* both: AND */
	{ "100", "101", 10000, "5", 0 },   /* 1 % met, abs not */
	{ "1000", "1010", 10000, "5", 1 }, /* both met */
	{ "1000", "1006", 10000, "5", 0 }, /* abs met, 0.6 % < 1 % */
	{ "100000", "100005", 1, "5", 0 }, /* diff 5 not > 5 */
	{ "-1000", "-1010", 10000, "9", 1 },
	/* extremes: |max - min| = 2^256 - 1 must not wrap */
	{ NULL, NULL, 1000000, "0", 1 },
	/* a huge relative threshold */
	{ "1", "1000000", 1000000000000ull, "0", 0 },
	{ "1", "10000001", 1000000000000ull, "0", 1 }, /* 10^9 % >= 10^6 % */
};

static void
test_deviation_table(void **st)
{
	(void)st;
	for (size_t i = 0; i < sizeof dev_cases / sizeof dev_cases[0]; i++) {
		const struct dev_case *k = &dev_cases[i];
		u256 cur = dec(k->cur ? k->cur : I256_MIN), next = dec(k->next ? k->next : I256_MAX);
		u256 abs;
		assert_int_equal(u256_from_dec(&abs, k->abs, strlen(k->abs)), 0);
		int got = gd_outside_deviation(&cur, &next, k->rel_ppm, &abs);
		if (got != k->want)
			fail_msg("case %zu: cur=%s next=%s rel=%llu abs=%s: got %d want %d", i, k->cur, k->next,
			         (unsigned long long)k->rel_ppm, k->abs, got, k->want);
	}
}

/* deviation_checker.go transcribed with __int128 (exact for int64 inputs): the reference. */
static int
ref_outside(int64_t cur, int64_t next, uint64_t rel_ppm, uint64_t abs)
{
	if (rel_ppm == 0 && abs == 0)
		return 1;
	__int128 diff = (__int128)cur - next;
	if (diff < 0)
		diff = -diff;
	if (!(diff > (__int128)abs))
		return 0;
	if (cur == 0)
		return next != 0;
	__int128 mag = cur < 0 ? -(__int128)cur : cur;
	/* 100*diff/|cur| >= rel%  <=>  diff*1e6 >= rel_ppm*|cur|; both < 2^127 here */
	return diff * 1000000 >= (__int128)rel_ppm * mag;
}

static int64_t
rnd64(void)
{
	int64_t x = (int64_t)(((uint64_t)rand() << 33) ^ ((uint64_t)rand() << 12) ^ (uint64_t)rand());
	switch (rand() % 4) {
	case 0:
		return x % 2000 - 1000; /* small, many zeros and ties */
	case 1:
		return x % 100000000000 * ((rand() & 1) ? 1 : -1);
	default:
		return (rand() & 1) ? x : -x;
	}
}

static void
test_deviation_random(void **st)
{
	(void)st;
	srand(4242);
	for (int i = 0; i < 200000; i++) {
		int64_t cur = rnd64(), next = rand() % 3 ? cur + rnd64() % 10000 : rnd64();
		uint64_t rel = (uint64_t)(rand() % 5 ? rand() % 50000 : 0);
		uint64_t abs = (uint64_t)(rand() % 3 ? 0 : rand() % 5000);
		u256 c = i64v(cur), n = i64v(next), a;
		u256_from_u64(&a, abs);
		int want = ref_outside(cur, next, rel, abs);
		int got = gd_outside_deviation(&c, &n, rel, &a);
		if (got != want)
			fail_msg("cur=%lld next=%lld rel=%llu abs=%llu: got %d want %d", (long long)cur,
			         (long long)next, (unsigned long long)rel, (unsigned long long)abs, got, want);
		if (cur != 0) {
			__int128 diff = (__int128)cur - next, mag = cur < 0 ? -(__int128)cur : cur;
			if (diff < 0)
				diff = -diff;
			__int128 ppm = diff * 1000000 / mag;
			uint64_t wantp = ppm > (__int128)UINT64_MAX ? UINT64_MAX : (uint64_t)ppm;
			assert_int_equal(gd_deviation_ppm(&c, &n), wantp);
		}
	}
}

static void
test_deviation_ppm(void **st)
{
	(void)st;
	u256 a = dec("300000000000"), b = dec("301500000000");
	assert_int_equal(gd_deviation_ppm(&a, &b), 5000);
	b = dec("298499999999");
	assert_int_equal(gd_deviation_ppm(&a, &b), 5000); /* 0.50000000033 % floors */
	a = dec("0");
	assert_int_equal(gd_deviation_ppm(&a, &b), UINT64_MAX);
	b = dec("0");
	assert_int_equal(gd_deviation_ppm(&a, &b), 0);
	a = dec(I256_MIN), b = dec(I256_MAX);
	assert_int_equal(gd_deviation_ppm(&a, &b), 1999999); /* (2^256-1)/2^255 = 1.99999... */
	a = dec("-3"), b = dec("-2");
	assert_int_equal(gd_deviation_ppm(&a, &b), 333333);
}

/* ---- gd_decide --------------------------------------------------------------------------- */

static gd_cfg
base_cfg(void)
{
	gd_cfg c = {
		.threshold_ppm = 5000, .heartbeat_ns = 60 * S, .min_interval_ns = 10 * S, .update_timeout_ns = 120 * S
	};
	return c;
}

static gd_state
chain_at(const char *answer, uint64_t updated_at_s)
{
	gd_state s = { .known = 1, .answer = dec(answer), .updated_at_s = updated_at_s };
	u256_from_u64(&s.round_id, updated_at_s ? 7 : 0);
	return s;
}

static void
decide(const gd_cfg *c, const gd_state *s, const char *next, uint64_t now_ns, int action, int reason, int why)
{
	gd_decision d;
	u256 n = dec(next);
	gd_decide(c, s, &n, now_ns, &d);
	if (d.action != action || (reason >= 0 && d.reason != reason) || d.why != why)
		fail_msg("next=%s now=%llu: got action %d reason %s why %s; want %d %s %s", next,
		         (unsigned long long)(now_ns / S), d.action, gd_reason_name(d.reason), gd_why_name(d.why),
		         action, gd_reason_name(reason), gd_why_name(why));
}

static void
test_first_and_unknown(void **st)
{
	(void)st;
	gd_cfg c = base_cfg();
	gd_state s = { 0 };
	decide(&c, &s, "100", 1000 * S, GD_HOLD, -1, GD_WHY_NO_CHAIN);
	s = chain_at("0", 0); /* latestRoundData all zeros */
	decide(&c, &s, "100", 1000 * S, GD_PUBLISH, SC_REASON_FIRST, GD_WHY_REASON);
	decide(&c, &s, "0", 1000 * S, GD_PUBLISH, SC_REASON_FIRST, GD_WHY_REASON); /* first even if 0 */
	/* first, but we published 3 s ago (not yet confirmed, in flight cleared by a failure) */
	s.last_publish_ns = 997 * S;
	decide(&c, &s, "100", 1000 * S, GD_HOLD, SC_REASON_FIRST, GD_WHY_MIN_INTERVAL);
	s.inflight = 1, s.inflight_since_ns = 997 * S;
	decide(&c, &s, "100", 1000 * S, GD_HOLD, SC_REASON_FIRST, GD_WHY_INFLIGHT);
}

static void
test_deviation_and_heartbeat(void **st)
{
	(void)st;
	gd_cfg c = base_cfg();
	gd_state s = chain_at("300000000000", 1000);
	decide(&c, &s, "300000000000", 1001 * S, GD_HOLD, -1, GD_WHY_WITHIN);
	decide(&c, &s, "301499999999", 1020 * S, GD_HOLD, -1, GD_WHY_WITHIN);
	decide(&c, &s, "301500000000", 1020 * S, GD_PUBLISH, SC_REASON_DEVIATION, GD_WHY_REASON);
	decide(&c, &s, "298500000000", 1020 * S, GD_PUBLISH, SC_REASON_DEVIATION, GD_WHY_REASON);
	/* the heartbeat counts from the on-chain updatedAt */
	decide(&c, &s, "300000000000", 1059 * S + S - 1, GD_HOLD, -1, GD_WHY_WITHIN);
	decide(&c, &s, "300000000000", 1060 * S, GD_PUBLISH, SC_REASON_HEARTBEAT, GD_WHY_REASON);
	/* both due: deviation wins */
	decide(&c, &s, "400000000000", 1060 * S, GD_PUBLISH, SC_REASON_DEVIATION, GD_WHY_REASON);
	/* numbers carried with the decision */
	gd_decision d;
	u256 n = dec("301500000000");
	gd_decide(&c, &s, &n, 1042 * S + 5, &d);
	assert_int_equal(d.deviation_ppm, 5000);
	assert_int_equal(d.since_update_s, 42);
	assert_true(d.outside);
	assert_false(d.supersede);
	/* no heartbeat configured */
	c.heartbeat_ns = 0;
	decide(&c, &s, "300000000000", 99999 * S, GD_HOLD, -1, GD_WHY_WITHIN);
	/* on-chain updatedAt ahead of our clock: no heartbeat, since 0 */
	c = base_cfg();
	s = chain_at("300000000000", 5000);
	gd_decide(&c, &s, &n, 1000 * S, &d);
	assert_int_equal(d.since_update_s, 0);
	decide(&c, &s, "300000000000", 1000 * S, GD_HOLD, -1, GD_WHY_WITHIN);
	/* zero thresholds: every aggregate is a deviation (Chainlink), paced by the min interval */
	c.threshold_ppm = 0;
	s = chain_at("300000000000", 1000);
	decide(&c, &s, "300000000000", 1010 * S, GD_PUBLISH, SC_REASON_DEVIATION, GD_WHY_REASON);
	decide(&c, &s, "300000000000", 1009 * S, GD_HOLD, SC_REASON_DEVIATION, GD_WHY_MIN_INTERVAL);
	/* absolute threshold with the relative one */
	c = base_cfg();
	c.threshold_abs = dec("2000000000");                                  /* 20.00000000 */
	decide(&c, &s, "301500000000", 1020 * S, GD_HOLD, -1, GD_WHY_WITHIN); /* 0.5 % = 15 < 20 */
	decide(&c, &s, "302000000001", 1020 * S, GD_PUBLISH, SC_REASON_DEVIATION, GD_WHY_REASON);
}

static void
test_min_interval(void **st)
{
	(void)st;
	gd_cfg c = base_cfg();
	gd_state s = chain_at("1000", 1000);
	/* the on-chain update itself counts (someone else updated 5 s ago) */
	decide(&c, &s, "2000", 1005 * S, GD_HOLD, SC_REASON_DEVIATION, GD_WHY_MIN_INTERVAL);
	decide(&c, &s, "2000", 1010 * S, GD_PUBLISH, SC_REASON_DEVIATION, GD_WHY_REASON);
	/* and so does our own last publish */
	s.last_publish_ns = 1015 * S;
	decide(&c, &s, "2000", 1024 * S, GD_HOLD, SC_REASON_DEVIATION, GD_WHY_MIN_INTERVAL);
	decide(&c, &s, "2000", 1025 * S, GD_PUBLISH, SC_REASON_DEVIATION, GD_WHY_REASON);
	/* a heartbeat waits for the interval too */
	s.last_publish_ns = 1055 * S;
	decide(&c, &s, "1000", 1060 * S, GD_HOLD, SC_REASON_HEARTBEAT, GD_WHY_MIN_INTERVAL);
	decide(&c, &s, "1000", 1065 * S, GD_PUBLISH, SC_REASON_HEARTBEAT, GD_WHY_REASON);
	/* min interval 0: never holds */
	c.min_interval_ns = 0;
	decide(&c, &s, "2000", 1055 * S, GD_PUBLISH, SC_REASON_DEVIATION, GD_WHY_REASON);
	/* The hold says when it ends (the gate decides again at that moment, not on its next tick):
	 * from the later of our publish and the on-chain updatedAt; nothing when not held by time. */
	c = base_cfg(); /* min interval 10 s */
	s = chain_at("1000", 1000);
	gd_decision d;
	u256 n = dec("2000");
	gd_decide(&c, &s, &n, 1005 * S + 7, &d);
	assert_int_equal(d.why, GD_WHY_MIN_INTERVAL);
	assert_int_equal(d.until_ns, 1010 * S);
	s.last_publish_ns = 1003 * S + 5;
	gd_decide(&c, &s, &n, 1005 * S, &d);
	assert_int_equal(d.until_ns, 1013 * S + 5);
	gd_decide(&c, &s, &n, 1013 * S + 5, &d);
	assert_int_equal(d.action, GD_PUBLISH);
	assert_int_equal(d.until_ns, 0);
	n = dec("1000"); /* within the threshold: no time ends that hold */
	gd_decide(&c, &s, &n, 1005 * S, &d);
	assert_int_equal(d.why, GD_WHY_WITHIN);
	assert_int_equal(d.until_ns, 0);
	s.inflight = 1, s.inflight_since_ns = 1004 * S;
	gd_decide(&c, &s, &n, 1005 * S, &d);
	assert_int_equal(d.why, GD_WHY_INFLIGHT);
	assert_int_equal(d.until_ns, 0);
}

static void
test_inflight(void **st)
{
	(void)st;
	gd_cfg c = base_cfg();
	c.heartbeat_ns = 180 * S;
	gd_state s = chain_at("1000", 1000);
	s.inflight = 1, s.inflight_since_ns = 1020 * S, s.last_publish_ns = 1020 * S;
	decide(&c, &s, "2000", 1030 * S, GD_HOLD, SC_REASON_DEVIATION, GD_WHY_INFLIGHT);
	decide(&c, &s, "2000", 1139 * S, GD_HOLD, SC_REASON_DEVIATION, GD_WHY_INFLIGHT);
	gd_decision d;
	u256 n = dec("2000");
	gd_decide(&c, &s, &n, 1140 * S, &d);
	assert_int_equal(d.action, GD_PUBLISH);
	assert_int_equal(d.reason, SC_REASON_DEVIATION);
	assert_true(d.supersede);
	/* timed out, but nothing to say: the old one stays, no supersede */
	n = dec("1001");
	gd_decide(&c, &s, &n, 1140 * S, &d);
	assert_int_equal(d.action, GD_HOLD);
	assert_int_equal(d.why, GD_WHY_WITHIN);
	assert_false(d.supersede);
	/* timed out with the heartbeat due (1000 + 180) */
	gd_decide(&c, &s, &n, 1179 * S, &d);
	assert_int_equal(d.why, GD_WHY_WITHIN);
	gd_decide(&c, &s, &n, 1180 * S, &d);
	assert_int_equal(d.action, GD_PUBLISH);
	assert_int_equal(d.reason, SC_REASON_HEARTBEAT);
	assert_true(d.supersede);
	/* in-flight timestamp ahead of now (clock step back): still in flight */
	s.inflight_since_ns = 5000 * S;
	decide(&c, &s, "2000", 1200 * S, GD_HOLD, -1, GD_WHY_INFLIGHT);
	/* unknown chain wins over everything */
	s.known = 0;
	decide(&c, &s, "2000", 9000 * S, GD_HOLD, -1, GD_WHY_NO_CHAIN);
	assert_string_equal(gd_reason_name(SC_REASON_HEARTBEAT), "heartbeat");
	assert_string_equal(gd_why_name(GD_WHY_MIN_INTERVAL), "min_interval");
}

/* ---- gd_evaluate: staleness, backoff, breaker -------------------------------------------- */

static gd_decision
eval(const gd_cfg *c, const gd_state *s, const char *next, uint64_t oldest_ns, uint64_t window_ms, uint64_t now_ns)
{
	gd_agg a = { .median = dec(next), .oldest_observed_ns = oldest_ns, .window_ms = window_ms };
	gd_decision d;
	gd_evaluate(c, s, &a, now_ns, &d);
	return d;
}

static void
test_stale_aggregate(void **st)
{
	(void)st;
	gd_cfg c = base_cfg();
	/* The limit: min(AGG_MAX_AGE, window), 0 = unset; both unset = 60 s. */
	assert_int_equal(gd_agg_limit_ns(&c, 0), GD_AGG_AGE_FALLBACK_NS);
	assert_int_equal(gd_agg_limit_ns(&c, 3000), 3 * S);
	c.agg_max_age_ns = 2 * S;
	assert_int_equal(gd_agg_limit_ns(&c, 3000), 2 * S);
	assert_int_equal(gd_agg_limit_ns(&c, 0), 2 * S);
	c.agg_max_age_ns = 0;
	/* Issue 7: quorum lost, the last aggregate ages; the heartbeat is due (60 s since updatedAt).
	 * With the median's window of 3 s, an aggregate observed 3 s ago is still usable, 3 s + 1 ns
	 * is not: no heartbeat round may carry it. */
	gd_state s = chain_at("100", 1000);
	uint64_t now = 1061 * S;
	gd_decision d = eval(&c, &s, "100", now - 3 * S, 3000, now);
	assert_int_equal(d.action, GD_PUBLISH);
	assert_int_equal(d.reason, SC_REASON_HEARTBEAT);
	d = eval(&c, &s, "100", now - 3 * S - 1, 3000, now);
	assert_int_equal(d.action, GD_HOLD);
	assert_int_equal(d.why, GD_WHY_STALE_AGG);
	assert_string_equal(gd_why_name(d.why), "stale_aggregate");
	/* Once held, a barely fresh aggregate (two sources expiring apart) does not flip the feed back:
	 * it resumes at 3/4 of the limit (2.25 s of 3 s), not before. */
	assert_int_equal(gd_agg_stale(&c, &(gd_agg){ .oldest_observed_ns = now - 3 * S, .window_ms = 3000 }, now, 0),
	                 0);
	assert_int_equal(gd_agg_stale(&c, &(gd_agg){ .oldest_observed_ns = now - 3 * S, .window_ms = 3000 }, now, 1),
	                 1);
	s.agg_held = 1;
	d = eval(&c, &s, "100", now - 3 * S, 3000, now);
	assert_int_equal(d.action, GD_HOLD);
	assert_int_equal(d.why, GD_WHY_STALE_AGG);
	d = eval(&c, &s, "100", now - 2250 * S / 1000 - 1, 3000, now);
	assert_int_equal(d.action, GD_HOLD);
	d = eval(&c, &s, "100", now - 2250 * S / 1000, 3000, now);
	assert_int_equal(d.action, GD_PUBLISH);
	s.agg_held = 0;
	/* ...and no first or deviation either. */
	gd_state first = chain_at("0", 0);
	assert_int_equal(eval(&c, &first, "100", now - 10 * S, 3000, now).why, GD_WHY_STALE_AGG);
	assert_int_equal(eval(&c, &s, "200", now - 10 * S, 3000, now).why, GD_WHY_STALE_AGG);
	/* An aggregate that does not say its window: AGG_MAX_AGE, else 60 s. */
	assert_int_equal(eval(&c, &s, "200", now - 60 * S, 0, now).action, GD_PUBLISH);
	assert_int_equal(eval(&c, &s, "200", now - 61 * S, 0, now).why, GD_WHY_STALE_AGG);
	c.agg_max_age_ns = 5 * S;
	assert_int_equal(eval(&c, &s, "200", now - 6 * S, 0, now).why, GD_WHY_STALE_AGG);
	assert_int_equal(eval(&c, &s, "200", now - 6 * S, 60000, now).why, GD_WHY_STALE_AGG);
	/* Observed "in the future" (skewed clocks) counts as age 0. */
	assert_int_equal(eval(&c, &s, "200", now + 5 * S, 3000, now).action, GD_PUBLISH);
}

static void
test_backoff_and_breaker(void **st)
{
	(void)st;
	gd_cfg c = base_cfg(); /* min interval 10 s */
	c.backoff_max_ns = 600 * S;
	c.breaker_after = 5;
	assert_int_equal(gd_backoff_ns(&c, 1), 20 * S);
	assert_int_equal(gd_backoff_ns(&c, 2), 40 * S);
	assert_int_equal(gd_backoff_ns(&c, 5), 320 * S);
	assert_int_equal(gd_backoff_ns(&c, 6), 600 * S);   /* capped */
	assert_int_equal(gd_backoff_ns(&c, 200), 600 * S); /* no overflow */
	c.min_interval_ns = 0;
	assert_int_equal(gd_backoff_ns(&c, 1), 2 * S); /* at least 1 s per step */
	c.min_interval_ns = 10 * S;

	/* The revert loop of issue 7: first, reverted, first again... Each failure doubles the wait
	 * and the fifth opens the breaker; then nothing is published, whatever the reason. */
	gd_state s = chain_at("0", 0);
	uint64_t now = 1000 * S;
	int published = 0;
	for (int i = 0; i < 1000; i++, now += 1 * S) {
		gd_decision d = eval(&c, &s, "100", now, 3000, now);
		if (d.action != GD_PUBLISH) {
			assert_true(d.why == GD_WHY_BACKOFF || d.why == GD_WHY_MIN_INTERVAL || d.why == GD_WHY_BREAKER);
			continue;
		}
		published++;
		s.last_publish_ns = now;
		int tripped = gd_fail(&c, &s, now + 1); /* reverted at once */
		assert_int_equal(tripped, published == 5);
	}
	assert_int_equal(published, 5);
	assert_true(s.breaker_open);
	assert_int_equal(eval(&c, &s, "100", now, 3000, now).why, GD_WHY_BREAKER);
	assert_int_equal(eval(&c, &s, "100", now, 3000, now).until_ns, 0); /* no time reopens it */
	/* The waits between attempts: 20, 40, 80, 160 s after each failure. */
	gd_state t = chain_at("0", 0);
	gd_fail(&c, &t, 0);
	assert_int_equal(eval(&c, &t, "100", 20 * S - 1, 3000, 20 * S - 1).why, GD_WHY_BACKOFF);
	assert_int_equal(eval(&c, &t, "100", 3 * S, 3000, 3 * S).until_ns, 20 * S); /* when it ends */
	assert_int_equal(eval(&c, &t, "100", 20 * S, 3000, 20 * S).action, GD_PUBLISH);
	/* A success clears the count (no backoff), not an open breaker; a reset does both. */
	gd_succeed(&t);
	assert_int_equal(t.failures, 0);
	assert_int_equal(eval(&c, &t, "100", 1, 3000, 1).action, GD_PUBLISH);
	gd_succeed(&s);
	assert_true(s.breaker_open);
	gd_reset(&s);
	assert_false(s.breaker_open);
	assert_int_equal(eval(&c, &s, "100", now, 3000, now).action, GD_PUBLISH);
	/* breaker_after 0: never opens */
	c.breaker_after = 0;
	gd_state u = chain_at("0", 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(gd_fail(&c, &u, (uint64_t)i), 0);
	assert_false(u.breaker_open);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deviation_table),
		cmocka_unit_test(test_deviation_random),
		cmocka_unit_test(test_deviation_ppm),
		cmocka_unit_test(test_first_and_unknown),
		cmocka_unit_test(test_deviation_and_heartbeat),
		cmocka_unit_test(test_min_interval),
		cmocka_unit_test(test_inflight),
		cmocka_unit_test(test_stale_aggregate),
		cmocka_unit_test(test_backoff_and_breaker),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
