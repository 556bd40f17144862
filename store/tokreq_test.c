/* tokreq_test.c - the token backends' shared store: records and the open index by state, the result
 * outbox and its token.status acks (rejected shows as failed at the tokenizer), re-publication at start
 * and its bound, calls acked, and a batch that fails to commit publishes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/rt_metrics.h"
#include "schemas/schema.h"
#include "store/store.h"
#include "store/tokreq.h"
#include "store/tokreq_testing.h"

static void
req(sc_token_request *r, const char *key)
{
	memset(r, 0, sizeof *r);
	snprintf(r->idempotency_key, sizeof r->idempotency_key, "%s", key);
	r->kind = SC_TOKEN_MINT;
	snprintf(r->pool, sizeof r->pool, "p");
	u256_from_u64(&r->amount, 5);
	snprintf(r->currency, sizeof r->currency, "EUR");
	r->decimals = 6;
	r->received_at_ns = 7;
}

static const tq_cfg qcfg = {
	.backend = "test", .map_size = 1u << 20, .retry_ns = 10, .retry_max_ns = 10, .result_attempts = 2
};

static void
test_tokreq(void **state)
{
	char err[256];
	tqt_store fs;
	sc_token_request r;
	sc_token_result st;
	tq_rec rec, got;
	tq_stats s;
	uint8_t ids[4][16];
	int acked, seen;
	tq *q = tqt_store_open(&fs, "tokreq_test", &qcfg);

	/* The key id is the tokenizer's (computed independently with Python's hashlib). */
	static const uint8_t want[16] = { 0x71, 0xc8, 0x1b, 0x8c, 0x67, 0xd9, 0x85, 0xbf,
		                          0x21, 0x5c, 0xc1, 0x33, 0xcf, 0x5c, 0x90, 0x46 };
	uint8_t id[16];
	tq_key_id("174c245f-2682-4291-ad67-2a41e530cd27", id);
	assert_memory_equal(id, want, 16);

	/* New, stored open (queued) with a call in the outbox; the frames leave only after the commit. */
	req(&r, "k1");
	tqt_reset();
	assert_int_equal(tq_begin(q, err, sizeof err), 0);
	assert_int_equal(tq_take(q, &r, 100, &rec, &seen, err, sizeof err), 0);
	assert_int_equal(seen, TQ_T_NEW);
	rec.state = TQ_QUEUED;
	rec.next_ns = 500;
	assert_int_equal(tq_put(q, &rec, err, sizeof err), 0);
	assert_int_equal(tq_emit(q, &rec, 100, err, sizeof err), 0);
	assert_int_equal(tq_send(q, "call.topic", "call", rec.id, (const uint8_t *)"x", 1, 1, 100, err, sizeof err), 0);
	assert_int_equal(tqt_nframes, 0);
	assert_int_equal(tq_commit(q, tqt_pub, NULL, err, sizeof err), 0);
	assert_int_equal(tqt_count("token.result"), 1);
	assert_int_equal(tqt_count("call.topic"), 1);
	assert_int_equal(tqt_last_result(&st), SC_TOKST_PENDING);
	assert_string_equal(st.backend, "test");
	assert_true(tqt_last("call.topic")->has_id); /* calls keep their id: the consumer dedupes by it */
	/* An aborted batch: nothing stored, nothing published. */
	req(&r, "k2");
	assert_int_equal(tq_begin(q, err, sizeof err), 0);
	assert_int_equal(tq_take(q, &r, 100, &rec, &seen, err, sizeof err), 0);
	assert_int_equal(seen, TQ_T_NEW);
	rec.state = TQ_QUEUED;
	assert_int_equal(tq_put(q, &rec, err, sizeof err), 0);
	assert_int_equal(tq_emit(q, &rec, 100, err, sizeof err), 0);
	tq_abort(q);
	assert_int_equal(tqt_nframes, 2);
	assert_int_equal(tq_get(q, rec.id, &got, err, sizeof err), MDB_NOTFOUND);

	/* Known (receive time differs), conflict (amount differs). */
	req(&r, "k1");
	r.received_at_ns = 99;
	assert_int_equal(tq_begin(q, err, sizeof err), 0);
	assert_int_equal(tq_take(q, &r, 200, &rec, &seen, err, sizeof err), 0);
	assert_int_equal(seen, TQ_T_KNOWN);
	u256_from_u64(&r.amount, 6);
	assert_int_equal(tq_take(q, &r, 200, &rec, &seen, err, sizeof err), 0);
	assert_int_equal(seen, TQ_T_CONFLICT);
	tq_abort(q);

	/* The open index by state and due time. */
	assert_int_equal(tq_list(q, TQ_QUEUED, 499, ids, 4, err, sizeof err), 0);
	assert_int_equal(tq_list(q, TQ_QUEUED, 500, ids, 4, err, sizeof err), 1);
	assert_int_equal(tq_list(q, TQ_SUBMITTED, UINT64_MAX, ids, 4, err, sizeof err), 0);

	/* Calls acked; a terminal (rejected) result into the outbox, leaving the open index. */
	assert_int_equal(tq_begin(q, err, sizeof err), 0);
	assert_int_equal(tq_call_ack(q, ids[0], &acked, err, sizeof err), 0);
	assert_int_equal(acked, 1);
	assert_int_equal(tq_get(q, ids[0], &rec, err, sizeof err), 0);
	rec.state = TQ_REJECTED;
	snprintf(rec.reason, sizeof rec.reason, "AM01");
	assert_int_equal(tq_put(q, &rec, err, sizeof err), 0);
	assert_int_equal(tq_emit(q, &rec, 300, err, sizeof err), 0);
	assert_int_equal(tq_commit(q, tqt_pub, NULL, err, sizeof err), 0);
	assert_int_equal(tq_get_stats(q, &s, err, sizeof err), 0);
	assert_int_equal(s.open[TQ_QUEUED], 0);
	assert_int_equal(s.results_pending, 1);
	assert_int_equal(s.calls_pending, 0);

	/* After a restart everything queued goes out again (all, due or not). */
	tq_close(q);
	q = tqt_reopen(&fs);
	tqt_reset();
	assert_int_equal(tq_resend(q, 301, 1, tqt_pub, NULL, NULL, err, sizeof err), 1);

	/* token.status: confirmed does not ack a rejection; failed (how the tokenizer stores it) does. */
	memset(&st, 0, sizeof st);
	snprintf(st.idempotency_key, sizeof st.idempotency_key, "k1");
	st.state = SC_TOKST_CONFIRMED;
	assert_int_equal(tq_begin(q, err, sizeof err), 0);
	assert_int_equal(tq_status_ack(q, &st, &acked, err, sizeof err), 0);
	assert_int_equal(acked, 0);
	st.state = SC_TOKST_PENDING;
	assert_int_equal(tq_status_ack(q, &st, &acked, err, sizeof err), 0);
	assert_int_equal(acked, 0);
	st.state = SC_TOKST_FAILED;
	assert_int_equal(tq_status_ack(q, &st, &acked, err, sizeof err), 0);
	assert_int_equal(acked, 1);
	assert_int_equal(tq_commit(q, tqt_pub, NULL, err, sizeof err), 0);
	assert_int_equal(tq_get_stats(q, &s, err, sizeof err), 0);
	assert_int_equal(s.results_pending, 0);

	/* The bound: a result nobody acks is re-published result_attempts (2) times, then dropped. */
	req(&r, "k3");
	assert_int_equal(tq_begin(q, err, sizeof err), 0);
	assert_int_equal(tq_take(q, &r, 400, &rec, &seen, err, sizeof err), 0);
	assert_int_equal(seen, TQ_T_NEW);
	rec.state = TQ_FAILED;
	assert_int_equal(tq_put(q, &rec, err, sizeof err), 0);
	assert_int_equal(tq_emit(q, &rec, 400, err, sizeof err), 0);
	assert_int_equal(tq_commit(q, tqt_pub, NULL, err, sizeof err), 0);
	uint64_t gave = 0;
	long sent = 0;
	for (uint64_t now = 1000; now < 10000; now += 1000)
		sent += tq_resend(q, now, 0, tqt_pub, NULL, &gave, err, sizeof err);
	assert_int_equal(sent, 2);
	assert_int_equal(gave, 1);
	tqt_store_close(&fs);
}

/* tq_resend_tick, act_run's re-publish job: the first call sends everything (due or not) and counts
 * nothing; later ones send what is due into `republished` and give up into `gave_up`. */
static void
test_resend_tick(void **state)
{
	char err[256];
	sc_token_request r;
	tq_rec rec;
	tqt_store fs;
	int seen;
	tq_cfg c = qcfg;
	c.retry_ns = c.retry_max_ns = 1; /* due again at once */
	tq *q = tqt_store_open(&fs, "tokreq_tick", &c);
	req(&r, "t1");
	assert_int_equal(tq_begin(q, err, sizeof err), 0);
	assert_int_equal(tq_take(q, &r, 1, &rec, &seen, err, sizeof err), 0);
	assert_int_equal(seen, TQ_T_NEW);
	rec.state = TQ_FAILED;
	assert_int_equal(tq_put(q, &rec, err, sizeof err), 0);
	assert_int_equal(tq_emit(q, &rec, 1, err, sizeof err), 0);
	assert_int_equal(tq_commit(q, NULL, NULL, err, sizeof err), 0); /* lost: nothing published */
	rt_metric *rep = rt_counter("tqt_republished_total", "test", NULL),
	          *gave = rt_counter("tqt_gave_total", "test", NULL);
	tq_resender rs = { .q = q, .pub = tqt_pub, .republished = rep, .gave_up = gave };
	tq_resend_tick(&rs); /* at start: everything, not counted */
	assert_int_equal(tqt_count("token.result"), 1);
	assert_int_equal(rt_counter_value(rep), 0);
	tq_resend_tick(&rs); /* attempts 1 < 2: once more */
	assert_int_equal(tqt_count("token.result"), 2);
	assert_int_equal(rt_counter_value(rep), 1);
	assert_int_equal(rt_counter_value(gave), 0);
	tq_resend_tick(&rs); /* result_attempts (2) reached: given up */
	assert_int_equal(tqt_count("token.result"), 2);
	assert_int_equal(rt_counter_value(gave), 1);
	tqt_store_close(&fs);
}

/* Results are codes of base/err.h: a stored record of another layout is OB_ESCHEMA with its text
 * (from tq_get, tq_take and tq_put alike), an absent one OB_ENOTFOUND, and tq_take gives no outcome
 * with an error. */
static void
test_error_codes(void **state)
{
	char err[256];
	tqt_store fs;
	sc_token_request r;
	tq_rec rec;
	st_env *env;
	st_err e;
	MDB_txn *txn;
	MDB_dbi dbi;
	int seen = -1;
	uint8_t id[16];
	tq *q = tqt_store_open(&fs, "tokreq_codes", &qcfg);
	req(&r, "foreign");
	tq_key_id(r.idempotency_key, id);
	assert_int_equal(tq_get(q, id, &rec, err, sizeof err), OB_ENOTFOUND);
	tq_close(q);
	/* Another build's record under the key (a shorter layout). */
	assert_int_equal(st_open(&env, fs.dir, NULL, &e), 0);
	assert_int_equal(st_begin(env, 0, &txn, &e), 0);
	assert_int_equal(st_table(txn, "requests", &dbi, &e), 0);
	assert_int_equal(st_put(txn, dbi, id, 16, "\x09old", 4, &e), 0);
	assert_int_equal(st_commit(txn, &e), 0);
	st_close(env);
	q = tqt_reopen(&fs);
	err[0] = '\0';
	assert_int_equal(tq_get(q, id, &rec, err, sizeof err), OB_ESCHEMA);
	assert_non_null(strstr(err, "is not this build's"));
	assert_int_equal(tq_begin(q, err, sizeof err), 0);
	assert_int_equal(tq_take(q, &r, 1, &rec, &seen, err, sizeof err), OB_ESCHEMA);
	assert_int_equal(seen, 0); /* no outcome with an error */
	memset(&rec, 0, sizeof rec);
	rec.version = TQ_REC_VERSION;
	memcpy(rec.id, id, 16);
	rec.state = TQ_QUEUED;
	assert_int_equal(tq_put(q, &rec, err, sizeof err), OB_ESCHEMA);
	tq_abort(q);
	assert_string_equal(ob_err_class(OB_ESCHEMA), "store");
	tqt_store_close(&fs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_tokreq), cmocka_unit_test(test_resend_tick),
		                            cmocka_unit_test(test_error_codes) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
