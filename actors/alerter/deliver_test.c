/*
 * deliver_test.c - the delivery thread's step (dl_step) over a real engine and LMDB, with the HTTP
 * call faked: the rate limit holds entries that are due, and the next pass is scheduled at the next
 * token, not at once (the thread used to spin on the outbox while it was over the limit); and the
 * engine's batch ingest (one write transaction for what the bus thread found queued) has the effects
 * of the same alerts ingested one by one.
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

/* One engine over a fresh LMDB and one webhook sink (secret NULL: unsigned). */
typedef struct {
	char dir[32];
	st_env *env;
	sk_sink s;
	al_engine *eng;
} dl_fix;

static void
fix_open(dl_fix *f, const char *secret, int send_resolved)
{
	st_err e;
	st_opts so = { .map_size = 16 << 20, .max_tables = 16 };
	snprintf(f->dir, sizeof f->dir, "/tmp/dl_test_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(st_open(&f->env, f->dir, &so, &e), 0);
	memset(&f->s, 0, sizeof f->s);
	f->s.kind = SK_WEBHOOK;
	f->s.ops = &sk_ops_table[SK_WEBHOOK];
	strcpy(f->s.name, "hook");
	f->s.url = strdup("http://127.0.0.1:1/hook");
	if (secret) {
		f->s.secret = strdup(secret);
		f->s.secret_len = strlen(secret);
	}
	f->s.send_resolved = send_resolved;
	al_cfg ac = { .group_ns = 300 * S,
		      .resend_ns = 60 * S,
		      .retention_ns = 3600 * S,
		      .backoff = { S, 2.0, 60 * S, 0 },
		      .instance = "alerter-t" };
	assert_int_equal(al_open(&f->eng, f->env, &f->s, 1, &ac, &e), 0);
}

static void
fix_close(dl_fix *f)
{
	char cmd[64];
	al_close(f->eng);
	st_close(f->env);
	sk_sink_free(&f->s);
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_rate_limit_waits_for_the_token(void **state)
{
	(void)state;
	dl_fix fx;
	fix_open(&fx, "k", 0);
	al_engine *eng = fx.eng;
	st_err e;
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
	dl_sink d = {
		.e = eng, .i = 0, .s = &fx.s, .post = fake_post, .rate_per_min = 1, .timeout_ms = 1000, .fail_after = 3
	};
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
	fix_close(&fx);
}

static void
batch_alert(sc_alert *a, const char *key, int status, uint64_t now)
{
	memset(a, 0, sizeof *a);
	strcpy(a->kind, "tx_stuck");
	a->severity = SC_SEV_ERROR;
	a->status = status;
	snprintf(a->dedupe_key, sizeof a->dedupe_key, "%s", key);
	strcpy(a->summary, "stuck");
	strcpy(a->origin, "submitter-0");
	a->started_at_ns = now;
}

/* fire A, repeat A (grouped), fire B, resolve A, and A's first frame again (a duplicate): one txn */
static void
ingest_five(al_engine *eng, int batched, uint64_t now)
{
	static sc_alert a[5];
	uint8_t ids[5][16] = { { 1 }, { 2 }, { 3 }, { 4 }, { 1 } };
	batch_alert(&a[0], "A", SC_ALERT_FIRING, now);
	batch_alert(&a[1], "A", SC_ALERT_FIRING, now);
	batch_alert(&a[2], "B", SC_ALERT_FIRING, now);
	batch_alert(&a[3], "A", SC_ALERT_RESOLVED, now);
	batch_alert(&a[4], "A", SC_ALERT_FIRING, now);
	st_err e;
	unsigned q = 0;
	if (batched) {
		assert_int_equal(al_ingest_batch(eng, 5, (const uint8_t(*)[16])ids, a, now, &q, &e), 0);
	} else {
		for (int i = 0; i < 5; i++)
			assert_int_equal(al_ingest(eng, ids[i], &a[i], now, &q, &e), 0);
	}
}

static void
test_batch_is_the_same_as_one_by_one(void **state)
{
	(void)state;
	uint64_t pend[2], firing_a[2], firing_b[2];
	for (int batched = 0; batched < 2; batched++) {
		dl_fix fx;
		fix_open(&fx, NULL, 1);
		al_engine *eng = fx.eng;
		st_err e;
		uint64_t now = 1700000000ull * S, due;
		ingest_five(eng, batched, now);
		assert_int_equal(al_pending(eng, 0, &pend[batched], &due, &e), 0);
		firing_a[batched] = (uint64_t)al_is_firing(eng, "tx_stuck", "A");
		firing_b[batched] = (uint64_t)al_is_firing(eng, "tx_stuck", "B");
		fix_close(&fx);
	}
	assert_int_equal(pend[0], pend[1]);
	assert_int_equal(pend[1], 2); /* A's resolve (it superseded its firing) and B's firing */
	assert_int_equal(firing_a[0], 0);
	assert_int_equal(firing_a[1], 0); /* the duplicate of A's first frame did not re-fire it */
	assert_int_equal(firing_b[0], 1);
	assert_int_equal(firing_b[1], 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_limit_waits_for_the_token),
		cmocka_unit_test(test_batch_is_the_same_as_one_by_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
