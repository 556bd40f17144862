/*
 * deliver_test.c - the delivery thread's step (dl_step) over a real engine and LMDB, with the HTTP
 * call faked: the rate limit holds entries that are due, and the next pass is scheduled at the next
 * token, not at once (the thread used to spin on the outbox while it was over the limit).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/alerter/deliver.h"
#include "actors/alerter/engine.h"
#include "actors/alerter/sinks.h"

#define S 1000000000ull

static int posts;

static long
fake_post(void *ctx, const char *url, const sk_headers *hd, const uint8_t *body, size_t len, rt_buf *resp, char *why,
          size_t whylen)
{
	(void)ctx, (void)url, (void)hd, (void)body, (void)len, (void)resp, (void)why, (void)whylen;
	posts++;
	return 200;
}

static void
test_rate_limit_waits_for_the_token(void **state)
{
	(void)state;
	char dir[] = "/tmp/dl_test_XXXXXX", cmd[64];
	assert_non_null(mkdtemp(dir));
	st_env *env;
	st_err e;
	st_opts so = { .map_size = 16 << 20, .max_tables = 16 };
	assert_int_equal(st_open(&env, dir, &so, &e), 0);
	sk_sink s;
	memset(&s, 0, sizeof s);
	s.kind = SK_WEBHOOK;
	s.ops = &sk_ops_table[SK_WEBHOOK];
	strcpy(s.name, "hook");
	s.url = strdup("http://127.0.0.1:1/hook");
	s.secret = strdup("k");
	s.secret_len = 1;
	al_cfg ac = { .group_ns = 300 * S, .resend_ns = 60 * S, .retention_ns = 3600 * S,
		      .backoff = { S, 2.0, 60 * S, 0 }, .instance = "alerter-t" };
	al_engine *eng;
	assert_int_equal(al_open(&eng, env, &s, 1, &ac, &e), 0);
	uint64_t now = 1700000000ull * S;
	for (int k = 0; k < 3; k++) { /* three keys: three entries due now */
		sc_alert a;
		uint8_t id[16] = { (uint8_t)(k + 1) };
		unsigned q = 0;
		memset(&a, 0, sizeof a);
		strcpy(a.kind, "feed_stale");
		a.severity = SC_SEV_WARNING;
		snprintf(a.dedupe_key, sizeof a.dedupe_key, "gate:F%d:feed_stale", k);
		strcpy(a.summary, "stale");
		strcpy(a.origin, "gate-0");
		a.started_at_ns = now;
		assert_int_equal(al_ingest(eng, id, &a, now, &q, &e), 0);
		assert_int_equal(q, 1);
	}
	dl_sink d = { .e = eng, .i = 0, .s = &s, .post = fake_post, .rate_per_min = 1, .timeout_ms = 1000,
		      .fail_after = 3 };
	assert_int_equal(dl_init(&d), 0);
	uint64_t next = 0, n = 0, due = 0;
	assert_int_equal(dl_step(&d, now, &next), 1); /* the bucket starts with one token */
	assert_int_equal(posts, 1);
	assert_int_equal(al_pending(eng, 0, &n, &due, &e), 0);
	assert_int_equal(n, 2);
	assert_true(due <= now); /* the other two are due, held by the limit */
	/* one token a minute: the next pass is about 60 s away, not now */
	if (next < now + 59 * S)
		fail_msg("next pass in %.3f s with the rate limit empty: the thread would spin",
		         (double)(int64_t)(next - now) / 1e9);
	assert_int_equal(dl_step(&d, now + S, &next), 0); /* a kick in between sends nothing */
	assert_int_equal(posts, 1);
	assert_true(next >= now + 59 * S);
	assert_int_equal(dl_step(&d, now + 61 * S, &next), 1);
	assert_int_equal(posts, 2);
	dl_fini(&d);
	al_close(eng);
	st_close(env);
	sk_sink_free(&s);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_limit_waits_for_the_token),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
