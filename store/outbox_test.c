/*
 * outbox_test.c - the outbox: entries round trip, due order, backoff schedule (with and without
 * jitter), ack idempotency, atomicity with the caller's txn, and durability across reopen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/outbox.h"

#define S 1000000000ull

typedef struct {
	char *dir;
	st_env *env;
	ob_box *ob;
} fx;

static void
mkid(uint8_t id[OB_ID_LEN], unsigned n)
{
	memset(id, 0xA5, OB_ID_LEN);
	id[0] = (uint8_t)(n >> 8), id[1] = (uint8_t)n;
}

static void
fx_open(fx *f, const ob_backoff *bo)
{
	st_err e = { { 0 } };
	MDB_txn *txn;
	assert_int_equal(st_open(&f->env, f->dir, NULL, &e), 0);
	assert_int_equal(st_begin(f->env, 0, &txn, &e), 0);
	assert_int_equal(ob_open(txn, "out", bo, &f->ob, &e), 0);
	assert_int_equal(st_commit(txn, &e), 0);
}

static void
fx_close(fx *f)
{
	ob_close(f->ob);
	st_close(f->env);
}

static int
setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	f->dir = strdup("/tmp/ob_test_XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	ob_backoff bo = { .initial_ns = 2 * S, .factor = 2.0, .max_ns = 30 * S };
	fx_open(f, &bo);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;
	fx_close(f);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(f->dir);
	free(f);
	return rc;
}

static MDB_txn *
wtxn(fx *f)
{
	MDB_txn *txn;
	assert_int_equal(st_begin(f->env, 0, &txn, NULL), 0);
	return txn;
}

static void
put(fx *f, unsigned n, uint64_t now)
{
	uint8_t id[OB_ID_LEN];
	char body[32];
	mkid(id, n);
	int len = snprintf(body, sizeof body, "body-%u", n);
	MDB_txn *txn = wtxn(f);
	assert_int_equal(ob_put(txn, f->ob, id, "tx.signed", "tx_signed", body, (size_t)len, now, NULL), 0);
	assert_int_equal(st_commit(txn, NULL), 0);
}

static void
test_roundtrip_and_due_order(void **state)
{
	fx *f = *state;
	put(f, 1, 100 * S);
	put(f, 2, 50 * S);
	put(f, 3, 200 * S);

	MDB_txn *txn = wtxn(f);
	uint8_t ids[8][OB_ID_LEN], want[OB_ID_LEN];
	long n = ob_due(txn, f->ob, 150 * S, ids, 8, NULL);
	assert_int_equal(n, 2);
	mkid(want, 2);
	assert_memory_equal(ids[0], want, OB_ID_LEN); /* due at 50 first */
	mkid(want, 1);
	assert_memory_equal(ids[1], want, OB_ID_LEN);
	/* max bounds the copy */
	assert_int_equal(ob_due(txn, f->ob, 1000 * S, ids, 1, NULL), 1);
	assert_int_equal(ob_due(txn, f->ob, UINT64_MAX, ids, 8, NULL), 3); /* no overflow at the top */
	assert_int_equal(ob_due(txn, f->ob, 49 * S, ids, 8, NULL), 0);
	uint64_t nd = 0;
	assert_int_equal(ob_next_due(txn, f->ob, &nd, NULL), 0);
	assert_true(nd == 50 * S);

	ob_msg m;
	mkid(want, 3);
	assert_int_equal(ob_get(txn, f->ob, want, &m, NULL), 0);
	assert_int_equal(m.topic_len, strlen("tx.signed"));
	assert_memory_equal(m.topic, "tx.signed", m.topic_len);
	assert_memory_equal(m.type, "tx_signed", m.type_len);
	assert_int_equal(m.body_len, strlen("body-3"));
	assert_memory_equal(m.body, "body-3", m.body_len);
	assert_int_equal(m.attempts, 0);
	assert_int_equal(m.error_len, 0);
	assert_true(m.created_ns == 200 * S && m.next_due_ns == 200 * S);

	uint64_t c;
	assert_int_equal(ob_count(txn, f->ob, &c, NULL), 0);
	assert_int_equal(c, 3);
	/* the same id twice is refused */
	assert_int_equal(ob_put(txn, f->ob, want, "t", "y", "b", 1, 1, NULL), MDB_KEYEXIST);
	st_abort(txn);
}

static void
test_backoff_schedule(void **state)
{
	fx *f = *state;
	uint8_t id[OB_ID_LEN];
	mkid(id, 7);
	put(f, 7, 10 * S);
	uint64_t now = 10 * S;
	/* initial 2 s, doubling, capped at 30 s: 2, 4, 8, 16, 30, 30 */
	const uint64_t want[] = { 2, 4, 8, 16, 30, 30 };
	for (unsigned a = 0; a < sizeof want / sizeof want[0]; a++) {
		MDB_txn *txn = wtxn(f);
		assert_int_equal(ob_mark_sent(txn, f->ob, id, now, a == 2 ? "timeout" : NULL, NULL), 0);
		ob_msg m;
		assert_int_equal(ob_get(txn, f->ob, id, &m, NULL), 0);
		assert_int_equal(m.attempts, a + 1);
		assert_true(m.next_due_ns == now + want[a] * S);
		assert_true(m.created_ns == 10 * S);
		if (a >= 2) { /* last_error kept until replaced */
			assert_int_equal(m.error_len, strlen("timeout"));
			assert_memory_equal(m.last_error, "timeout", m.error_len);
		}
		assert_memory_equal(m.body, "body-7", m.body_len);
		uint8_t ids[4][OB_ID_LEN];
		/* not due one ns before, due exactly at next_due; only one due-index key exists */
		assert_int_equal(ob_due(txn, f->ob, m.next_due_ns - 1, ids, 4, NULL), 0);
		assert_int_equal(ob_due(txn, f->ob, m.next_due_ns, ids, 4, NULL), 1);
		assert_int_equal(ob_due(txn, f->ob, UINT64_MAX - 1, ids, 4, NULL), 1);
		assert_int_equal(st_commit(txn, NULL), 0);
		now = m.next_due_ns;
	}
}

/* ob_put_sent leaves exactly what ob_put then ob_mark_sent at the same time leave: the same entry (with
 * jitter on, so the due time is the id's own) and one due-index key; an existing id is refused. */
static void
test_put_sent_equals_put_then_mark(void **state)
{
	fx *f = *state;
	fx_close(f);
	ob_backoff bo = { .initial_ns = 10 * S, .factor = 3.0, .max_ns = 1000 * S, .jitter = 0.25 };
	fx_open(f, &bo);
	uint8_t a[OB_ID_LEN], b[OB_ID_LEN];
	mkid(a, 1);
	mkid(b, 2);
	MDB_txn *txn = wtxn(f);
	assert_int_equal(ob_put(txn, f->ob, a, "token.request", "token.request", "xyz", 3, 50 * S, NULL), 0);
	assert_int_equal(ob_mark_sent(txn, f->ob, a, 50 * S, NULL, NULL), 0);
	assert_int_equal(ob_put_sent(txn, f->ob, b, "token.request", "token.request", "xyz", 3, 50 * S, NULL), 0);
	ob_msg ma, mb;
	assert_int_equal(ob_get(txn, f->ob, a, &ma, NULL), 0);
	assert_int_equal(ob_get(txn, f->ob, b, &mb, NULL), 0);
	assert_int_equal(mb.attempts, 1);
	assert_true(mb.created_ns == 50 * S);
	assert_true(mb.next_due_ns == 50 * S + ob_backoff_ns(f->ob, b, 1));
	assert_true(ma.next_due_ns == 50 * S + ob_backoff_ns(f->ob, a, 1));
	assert_int_equal(ma.attempts, mb.attempts);
	assert_true(ma.created_ns == mb.created_ns);
	assert_int_equal(mb.error_len, 0);
	assert_int_equal(mb.topic_len, ma.topic_len);
	assert_memory_equal(mb.topic, "token.request", mb.topic_len);
	assert_memory_equal(mb.type, "token.request", mb.type_len);
	assert_memory_equal(mb.body, "xyz", mb.body_len);
	uint8_t ids[4][OB_ID_LEN];
	/* b is not due before its backoff, due at it, and has one due-index key */
	assert_int_equal(ob_due(txn, f->ob, 50 * S, ids, 4, NULL), 0);
	uint64_t last = ma.next_due_ns > mb.next_due_ns ? ma.next_due_ns : mb.next_due_ns;
	assert_int_equal(ob_due(txn, f->ob, last, ids, 4, NULL), 2);
	assert_int_equal(ob_put_sent(txn, f->ob, b, "t", "y", "b", 1, 60 * S, NULL), MDB_KEYEXIST);
	assert_int_equal(st_commit(txn, NULL), 0);
}

static void
test_jitter_bounds(void **state)
{
	fx *f = *state;
	fx_close(f);
	ob_backoff bo = { .initial_ns = 10 * S, .factor = 3.0, .max_ns = 1000 * S, .jitter = 0.25 };
	fx_open(f, &bo);
	uint64_t first = 0;
	int differ = 0;
	for (unsigned n = 0; n < 200; n++) {
		uint8_t id[OB_ID_LEN];
		mkid(id, n);
		for (uint32_t a = 1; a <= 4; a++) {
			double base = 10.0 * S;
			for (uint32_t i = 1; i < a; i++)
				base *= 3.0;
			uint64_t d = ob_backoff_ns(f->ob, id, a);
			assert_true((double)d >= base * 0.75 - 1 && (double)d <= base * 1.25 + 1);
			assert_true(ob_backoff_ns(f->ob, id, a) == d); /* reproducible */
		}
		uint64_t d1 = ob_backoff_ns(f->ob, id, 1);
		if (n == 0)
			first = d1;
		else if (d1 != first)
			differ = 1;
	}
	assert_true(differ); /* jitter spreads ids apart */
	assert_true(ob_backoff_ns(f->ob, (uint8_t[OB_ID_LEN]){ 0 }, 0) == 0);
}

static void
test_ack_is_idempotent(void **state)
{
	fx *f = *state;
	for (unsigned n = 0; n < 5; n++)
		put(f, n, (100 + n) * S);
	uint8_t id[OB_ID_LEN];
	mkid(id, 2);
	MDB_txn *txn = wtxn(f);
	assert_int_equal(ob_mark_sent(txn, f->ob, id, 200 * S, NULL, NULL), 0);
	int removed = -1;
	assert_int_equal(ob_ack(txn, f->ob, id, &removed, NULL), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(ob_ack(txn, f->ob, id, &removed, NULL), 0);
	assert_int_equal(removed, 0);
	uint8_t unknown[OB_ID_LEN];
	mkid(unknown, 999);
	assert_int_equal(ob_ack(txn, f->ob, unknown, &removed, NULL), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(ob_mark_sent(txn, f->ob, id, 300 * S, NULL, NULL), MDB_NOTFOUND);
	ob_msg m;
	assert_int_equal(ob_get(txn, f->ob, id, &m, NULL), MDB_NOTFOUND);
	uint64_t c;
	assert_int_equal(ob_count(txn, f->ob, &c, NULL), 0);
	assert_int_equal(c, 4);
	/* the due index holds exactly the four remaining ids, none of them the acked one */
	uint8_t ids[8][OB_ID_LEN];
	assert_int_equal(ob_due(txn, f->ob, UINT64_MAX - 1, ids, 8, NULL), 4);
	for (int i = 0; i < 4; i++)
		assert_memory_not_equal(ids[i], id, OB_ID_LEN);
	assert_int_equal(st_commit(txn, NULL), 0);
}

static void
test_put_is_atomic_with_callers_txn_and_durable(void **state)
{
	fx *f = *state;
	uint8_t id[OB_ID_LEN];
	mkid(id, 42);
	MDB_txn *txn = wtxn(f);
	assert_int_equal(ob_put(txn, f->ob, id, "alert.crit.x", "alert", "zz", 2, 5 * S, NULL), 0);
	st_abort(txn); /* the state change failed: no message either */
	txn = wtxn(f);
	uint64_t c;
	assert_int_equal(ob_count(txn, f->ob, &c, NULL), 0);
	assert_int_equal(c, 0);
	assert_int_equal(ob_put(txn, f->ob, id, "alert.crit.x", "alert", "zz", 2, 5 * S, NULL), 0);
	assert_int_equal(ob_mark_sent(txn, f->ob, id, 6 * S, "sink 503", NULL), 0);
	assert_int_equal(st_commit(txn, NULL), 0);

	fx_close(f);
	fx_open(f, NULL);
	assert_int_equal(st_begin(f->env, 1, &txn, NULL), 0);
	ob_msg m;
	assert_int_equal(ob_get(txn, f->ob, id, &m, NULL), 0);
	assert_int_equal(m.attempts, 1);
	assert_true(m.next_due_ns == 8 * S);
	assert_memory_equal(m.last_error, "sink 503", m.error_len);
	assert_memory_equal(m.topic, "alert.crit.x", m.topic_len);
	st_abort(txn);
}

static void
test_due_scan_touches_only_due(void **state)
{
	fx *f = *state;
	MDB_txn *txn = wtxn(f);
	uint8_t id[OB_ID_LEN];
	for (unsigned n = 0; n < 2000; n++) {
		mkid(id, n);
		assert_int_equal(ob_put(txn, f->ob, id, "t", "y", "b", 1, (n == 1234 ? 1 : 1000 + n) * S, NULL), 0);
	}
	uint8_t ids[4][OB_ID_LEN];
	assert_int_equal(ob_due(txn, f->ob, 500 * S, ids, 4, NULL), 1);
	mkid(id, 1234);
	assert_memory_equal(ids[0], id, OB_ID_LEN);
	st_abort(txn);
}

/* ob_send_due: 150 due entries go out once each in three batches, are rescheduled, and a failed send is
 * recorded and retried; with due_before = all, every entry goes exactly once, even those the call
 * itself just rescheduled. */
typedef struct {
	unsigned sent[200];
	int fail_odd, drop_even;
} sd_ctx;
static const char *
sd_send(void *ctx, const ob_msg *m)
{
	sd_ctx *c = ctx;
	unsigned n = (unsigned)m->id[0] << 8 | m->id[1];
	c->sent[n]++;
	if (c->drop_even && !(n & 1))
		return OB_DROP;
	return c->fail_odd && (n & 1) ? "publish failed" : NULL;
}

static void
test_send_due(void **state)
{
	fx *f = *state;
	st_err e = { { 0 } };
	sd_ctx c;
	memset(&c, 0, sizeof c);
	for (unsigned i = 0; i < 150; i++)
		put(f, i, 10 * S);
	uint64_t pending = 0;
	assert_int_equal(ob_send_due(f->env, f->ob, 10 * S, 10 * S, sd_send, &c, &pending, &e), 150);
	assert_int_equal(pending, 150);
	for (unsigned i = 0; i < 150; i++)
		assert_int_equal(c.sent[i], 1);
	/* nothing is due again until the backoff (2 s) has passed */
	assert_int_equal(ob_send_due(f->env, f->ob, 11 * S, 11 * S, sd_send, &c, NULL, &e), 0);
	c.fail_odd = 1;
	assert_int_equal(ob_send_due(f->env, f->ob, 12 * S, 12 * S, sd_send, &c, NULL, &e), 150);
	MDB_txn *txn;
	ob_msg m;
	uint8_t id[OB_ID_LEN];
	assert_int_equal(st_begin(f->env, 1, &txn, &e), 0);
	mkid(id, 3);
	assert_int_equal(ob_get(txn, f->ob, id, &m, &e), 0);
	assert_int_equal(m.attempts, 2);
	assert_memory_equal(m.last_error, "publish failed", m.error_len);
	st_abort(txn);
	/* everything, whatever its due time: each once */
	memset(c.sent, 0, sizeof c.sent);
	c.fail_odd = 0;
	assert_int_equal(ob_send_due(f->env, f->ob, 13 * S, UINT64_MAX, sd_send, &c, NULL, &e), 150);
	for (unsigned i = 0; i < 150; i++)
		assert_int_equal(c.sent[i], 1);
	/* OB_DROP: the sender gives the even ids up; they are deleted, the odd ones rescheduled */
	c.drop_even = 1;
	assert_int_equal(ob_send_due(f->env, f->ob, 14 * S, UINT64_MAX, sd_send, &c, &pending, &e), 150);
	assert_int_equal(pending, 75);
	assert_int_equal(st_begin(f->env, 1, &txn, &e), 0);
	for (unsigned i = 0; i < 150; i++) {
		mkid(id, i);
		assert_int_equal(ob_get(txn, f->ob, id, &m, &e), i & 1 ? 0 : MDB_NOTFOUND);
	}
	st_abort(txn);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_and_due_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backoff_schedule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jitter_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_sent_equals_put_then_mark, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_is_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_is_atomic_with_callers_txn_and_durable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_due_scan_touches_only_due, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_due, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
