/* track_test.c - the lifecycle state machine over a real LMDB env: in-order and out-of-order
 * facts, failure then manual re-execution, overdue deadlines, OnRamp-mismatched roots, reorg
 * rollback of executions and of sends, the publication queue's deterministic ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "actors/ccip-tail/track.h"
#include "schemas/schema.h"

#define SRC 5009297550715157269ULL /* source chain selector */
#define DST 138ULL                 /* destination chain selector */
#define T0  1700000000ULL          /* send block time */

typedef struct {
	char dir[64];
	st_env *env;
	ct_track *t;
} fx;

static int
setup(void **st)
{
	fx *f = calloc(1, sizeof *f);
	st_err e;
	snprintf(f->dir, sizeof f->dir, "/tmp/ct_track_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(st_open(&f->env, f->dir, NULL, &e), 0);
	ct_track_cfg cfg = { .overdue_after_s = 100, .commit_overdue_after_s = 50 };
	assert_int_equal(ct_track_open(f->env, &cfg, &f->t, &e), 0);
	*st = f;
	return 0;
}

static int
teardown(void **st)
{
	fx *f = *st;
	char cmd[128];
	ct_track_close(f->t);
	st_close(f->env);
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static ct_event ev;

static void
at(sc_ccip_msg *m, uint64_t block, uint64_t log)
{
	m->block_number = block;
	m->log_index = log;
	memset(m->block_hash, (int)block, 32);
	memset(m->tx_hash, (int)(block + log), 32);
	m->observed_at_ns = T0 * 1000000000ull;
}

static const ct_event *
send(uint8_t idb, uint64_t seq, uint64_t block)
{
	memset(&ev, 0, sizeof ev);
	ev.kind = CT_SEND;
	sc_ccip_msg *m = &ev.msg;
	memset(m->message_id, idb, 32);
	m->state = SC_CCIP_SENT;
	m->ccip_version = SC_CCIP_V1_6;
	m->source_chain_selector = SRC;
	m->dest_chain_selector = DST;
	m->sequence_number = seq;
	m->sender_len = 20;
	memset(m->contract, 0xa1, 20); /* the OnRamp */
	at(m, block, 0);
	m->block_time_s = T0;
	return &ev;
}

static const ct_event *
commit(uint64_t min, uint64_t max, uint64_t block, int onramp_byte)
{
	memset(&ev, 0, sizeof ev);
	ev.kind = CT_COMMIT;
	ev.msg.dest_chain_selector = DST;
	at(&ev.msg, block, 1);
	ev.nroots = 1;
	ev.roots[0].source_selector = SRC;
	ev.roots[0].min_seq = min;
	ev.roots[0].max_seq = max;
	ev.roots[0].onramp_len = 20;
	memset(ev.roots[0].onramp, onramp_byte, 20);
	return &ev;
}

static const ct_event *
exec(uint8_t idb, uint64_t seq, int state, uint64_t block)
{
	memset(&ev, 0, sizeof ev);
	ev.kind = CT_EXEC;
	ev.exec_state = state;
	memset(ev.msg.message_id, idb, 32);
	ev.msg.sequence_number = seq;
	ev.msg.source_chain_selector = SRC;
	ev.msg.dest_chain_selector = DST;
	at(&ev.msg, block, 2);
	if (state == CT_EX_FAILURE) {
		memcpy(ev.msg.return_data, "\x08\xc3\x79\xa0", 4);
		ev.msg.return_data_len = 4;
	}
	return &ev;
}

/* Applies one event on chain, settles, commits. Returns the transitions. */
static uint64_t
step(fx *f, uint64_t chain, const ct_event *e1)
{
	MDB_txn *txn;
	st_err e;
	uint64_t ch = 0;
	assert_int_equal(st_begin(f->env, 0, &txn, &e), 0);
	if (e1)
		assert_int_equal(ct_apply(f->t, txn, chain, e1, &e), 0);
	assert_int_equal(ct_settle(f->t, txn, T0 * 1000000000ull, &ch, &e), 0);
	assert_int_equal(st_commit(txn, &e), 0);
	return ch;
}

static int
state_of(fx *f, uint8_t idb)
{
	MDB_txn *txn;
	st_err e;
	uint8_t id[32];
	memset(id, idb, 32);
	assert_int_equal(st_begin(f->env, 1, &txn, &e), 0);
	int s = ct_state_of(f->t, txn, id);
	st_abort(txn);
	return s;
}

/* Drains the publication queue into "topic,topic,..." (alerts included), returns the count. */
static int
drain(fx *f, char *out, size_t cap)
{
	MDB_txn *txn;
	st_err e;
	ct_pub p;
	uint64_t after = 0;
	int n = 0;
	out[0] = '\0';
	assert_int_equal(st_begin(f->env, 0, &txn, &e), 0);
	while (ct_pub_next(f->t, txn, after, &p, &e) == 0) {
		if (p.is_alert) {
			sc_alert al;
			sc_err se;
			assert_int_equal(sc_decode(&SC_ALERT, p.body, p.body_len, &al, &se), 0);
			snprintf(out + strlen(out), cap - strlen(out), "%s%s:%s", n ? "," : "", p.topic,
			         al.status == SC_ALERT_FIRING ? "firing" : "resolved");
		} else {
			static sc_ccip_msg m;
			sc_err se;
			assert_int_equal(sc_decode(&SC_CCIP_MSG, p.body, p.body_len, &m, &se), 0);
			snprintf(out + strlen(out), cap - strlen(out), "%s%s", n ? "," : "", p.topic);
		}
		after = p.seq;
		assert_int_equal(ct_pub_del(f->t, txn, p.seq, &e), 0);
		n++;
	}
	assert_int_equal(st_commit(txn, &e), 0);
	return n;
}

static void
test_in_order(void **st)
{
	fx *f = *st;
	char got[1024];
	assert_int_equal(step(f, SRC, send(1, 5, 10)), 1);
	assert_int_equal(state_of(f, 1), SC_CCIP_SENT);
	drain(f, got, sizeof got);
	assert_string_equal(got, "ccip.msg.sent");
	step(f, DST, commit(1, 9, 20, 0xa1));
	assert_int_equal(state_of(f, 1), SC_CCIP_COMMITTED);
	step(f, DST, exec(1, 5, CT_EX_SUCCESS, 21));
	assert_int_equal(state_of(f, 1), SC_CCIP_EXECUTED_SUCCESS);
	/* a Router duplicate of the same success changes nothing */
	assert_int_equal(step(f, DST, exec(1, 0, CT_EX_SUCCESS, 21)), 0);
	/* the same log applied twice changes nothing */
	assert_int_equal(step(f, SRC, send(1, 5, 10)), 0);
	drain(f, got, sizeof got);
	assert_string_equal(got, "ccip.msg.committed,ccip.msg.executed_success");

	MDB_txn *txn;
	st_err e;
	uint8_t id[32];
	memset(id, 1, 32);
	assert_int_equal(st_begin(f->env, 1, &txn, &e), 0);
	json_t *j = ct_msg_json(f->t, txn, id);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "executed_success");
	assert_int_equal(json_array_size(json_object_get(j, "history")), 3);
	json_decref(j);
	j = ct_list_json(f->t, txn, SC_CCIP_EXECUTED_SUCCESS, NULL, 10);
	assert_int_equal(json_array_size(json_object_get(j, "messages")), 1);
	json_decref(j);
	j = ct_list_json(f->t, txn, SC_CCIP_SENT, NULL, 10);
	assert_int_equal(json_array_size(json_object_get(j, "messages")), 0);
	json_decref(j);
	uint64_t tracked, pubs, raw;
	assert_int_equal(ct_counts(f->t, txn, &tracked, &pubs, &raw, &e), 0);
	assert_int_equal(tracked, 1);
	assert_int_equal(pubs, 0);
	st_abort(txn);
}

static void
test_out_of_order(void **st)
{
	fx *f = *st;
	char got[1024];
	/* failure and commit on the destination first: pending, nothing published */
	assert_int_equal(step(f, DST, exec(2, 7, CT_EX_FAILURE, 30)), 0);
	assert_int_equal(step(f, DST, commit(6, 8, 29, 0xa1)), 0);
	assert_int_equal(state_of(f, 2), -1);
	assert_int_equal(drain(f, got, sizeof got), 0);
	/* the send arrives: every step, in order, and the failure alert */
	step(f, SRC, send(2, 7, 11));
	assert_int_equal(state_of(f, 2), SC_CCIP_EXECUTED_FAILURE);
	drain(f, got, sizeof got);
	assert_string_equal(got, "ccip.msg.sent,ccip.msg.committed,ccip.msg.executed_failure,"
	                         "alert.critical.ccip_failure:firing");
	/* manual re-execution succeeds: the failure alert resolves */
	step(f, DST, exec(2, 7, CT_EX_SUCCESS, 40));
	assert_int_equal(state_of(f, 2), SC_CCIP_EXECUTED_SUCCESS);
	drain(f, got, sizeof got);
	assert_string_equal(got, "ccip.msg.executed_success,alert.critical.ccip_failure:resolved");
}

static void
test_onramp_mismatch(void **st)
{
	fx *f = *st;
	step(f, SRC, send(3, 20, 12));
	step(f, DST, commit(15, 25, 31, 0xee)); /* a root for another OnRamp of the same source */
	assert_int_equal(state_of(f, 3), SC_CCIP_SENT);
	step(f, DST, commit(20, 20, 32, 0xa1));
	assert_int_equal(state_of(f, 3), SC_CCIP_COMMITTED);
	/* a v1.5 interval (no OnRamp in the report: the CommitStore's lane) */
	step(f, SRC, send(8, 70, 14));
	const ct_event *c15 = commit(50, 90, 33, 0);
	ev.roots[0].onramp_len = 0;
	step(f, DST, c15);
	assert_int_equal(state_of(f, 8), SC_CCIP_COMMITTED);
}

static void
overdue_at(fx *f, uint64_t now_s)
{
	MDB_txn *txn;
	st_err e;
	assert_int_equal(st_begin(f->env, 0, &txn, &e), 0);
	assert_int_equal(ct_overdue(f->t, txn, now_s, &e), 0);
	assert_int_equal(ct_settle(f->t, txn, now_s * 1000000000ull, NULL, &e), 0);
	assert_int_equal(st_commit(txn, &e), 0);
}

static void
test_overdue(void **st)
{
	fx *f = *st;
	char got[1024];
	step(f, SRC, send(4, 30, 13));
	step(f, SRC, send(5, 31, 13));
	drain(f, got, sizeof got);
	overdue_at(f, T0 + 49);
	assert_int_equal(state_of(f, 4), SC_CCIP_SENT);
	overdue_at(f, T0 + 50); /* not committed within COMMIT_OVERDUE_AFTER */
	assert_int_equal(state_of(f, 4), SC_CCIP_OVERDUE);
	drain(f, got, sizeof got);
	assert_string_equal(got, "ccip.msg.overdue,alert.warning.ccip_overdue:firing,"
	                         "ccip.msg.overdue,alert.warning.ccip_overdue:firing");
	/* commit late: committed again, the overdue alert stays until execution */
	step(f, DST, commit(30, 30, 50, 0xa1));
	assert_int_equal(state_of(f, 4), SC_CCIP_COMMITTED);
	overdue_at(f, T0 + 100); /* not executed within OVERDUE_AFTER */
	assert_int_equal(state_of(f, 4), SC_CCIP_OVERDUE);
	drain(f, got, sizeof got);
	assert_string_equal(got, "ccip.msg.committed,ccip.msg.overdue");
	step(f, DST, exec(4, 30, CT_EX_SUCCESS, 51));
	assert_int_equal(state_of(f, 4), SC_CCIP_EXECUTED_SUCCESS);
	drain(f, got, sizeof got);
	assert_string_equal(got, "ccip.msg.executed_success,alert.warning.ccip_overdue:resolved");
	/* executed in time: no deadline fires for it */
	step(f, DST, exec(5, 31, CT_EX_SUCCESS, 52));
	drain(f, got, sizeof got);
	overdue_at(f, T0 + 1000);
	assert_int_equal(state_of(f, 5), SC_CCIP_EXECUTED_SUCCESS);
	assert_int_equal(drain(f, got, sizeof got), 0);
}

static void
rollback(fx *f, uint64_t chain, uint64_t keep)
{
	MDB_txn *txn;
	st_err e;
	uint64_t touched;
	assert_int_equal(st_begin(f->env, 0, &txn, &e), 0);
	assert_int_equal(ct_rollback(f->t, txn, chain, keep, &touched, &e), 0);
	assert_int_equal(ct_settle(f->t, txn, T0 * 1000000000ull, NULL, &e), 0);
	assert_int_equal(st_commit(txn, &e), 0);
}

static void
test_reorg(void **st)
{
	fx *f = *st;
	char got[1024];
	step(f, SRC, send(6, 40, 100));
	step(f, DST, commit(40, 40, 200, 0xa1));
	step(f, DST, exec(6, 40, CT_EX_FAILURE, 201));
	assert_int_equal(state_of(f, 6), SC_CCIP_EXECUTED_FAILURE);
	drain(f, got, sizeof got);
	/* the destination rewinds to 200: the failure is undone, the commit stays */
	rollback(f, DST, 200);
	assert_int_equal(state_of(f, 6), SC_CCIP_COMMITTED);
	drain(f, got, sizeof got);
	assert_string_equal(got, "ccip.msg.reorged,ccip.msg.committed,alert.critical.ccip_failure:resolved");
	/* history: sent, committed, (failure removed), reorged, committed */
	MDB_txn *txn;
	st_err e;
	uint8_t id[32];
	memset(id, 6, 32);
	assert_int_equal(st_begin(f->env, 1, &txn, &e), 0);
	json_t *j = ct_msg_json(f->t, txn, id);
	json_t *h = json_object_get(j, "history");
	assert_int_equal(json_array_size(h), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(h, 2), "state")), "reorged");
	json_decref(j);
	st_abort(txn);
	/* the new branch executes it successfully */
	step(f, DST, exec(6, 40, CT_EX_SUCCESS, 202));
	assert_int_equal(state_of(f, 6), SC_CCIP_EXECUTED_SUCCESS);
	drain(f, got, sizeof got);
	assert_string_equal(got, "ccip.msg.executed_success");
	/* a rewind of an unrelated range touches nothing */
	rollback(f, DST, 500);
	assert_int_equal(drain(f, got, sizeof got), 0);
	/* the source rewinds below the send: the message is retracted and forgotten */
	rollback(f, SRC, 99);
	assert_int_equal(state_of(f, 6), -1);
	drain(f, got, sizeof got);
	assert_string_equal(got, "ccip.msg.reorged");
	/* the send re-appears in the new branch: the destination facts are still there */
	step(f, SRC, send(6, 40, 101));
	assert_int_equal(state_of(f, 6), SC_CCIP_EXECUTED_SUCCESS);
	drain(f, got, sizeof got);
	assert_string_equal(got, "ccip.msg.sent,ccip.msg.committed,ccip.msg.executed_success");
	/* a rolled-back commit un-commits */
	step(f, SRC, send(7, 41, 102));
	step(f, DST, commit(41, 41, 300, 0xa1));
	assert_int_equal(state_of(f, 7), SC_CCIP_COMMITTED);
	rollback(f, DST, 299);
	assert_int_equal(state_of(f, 7), SC_CCIP_SENT);
}

static void
test_cursor_blocks(void **st)
{
	fx *f = *st;
	MDB_txn *txn;
	st_err e;
	uint8_t h[32], g[32];
	uint64_t b;
	assert_int_equal(st_begin(f->env, 0, &txn, &e), 0);
	assert_int_equal(ct_cursor_get(f->t, txn, 1, &b, h, &e), MDB_NOTFOUND);
	memset(h, 9, 32);
	assert_int_equal(ct_cursor_put(f->t, txn, 1, 50, h, &e), 0);
	memset(h, 8, 32);
	assert_int_equal(ct_block_put(f->t, txn, 1, 40, h, &e), 0);
	assert_int_equal(ct_block_put(f->t, txn, 2, 45, h, &e), 0);
	assert_int_equal(ct_cursor_get(f->t, txn, 1, &b, g, &e), 0);
	assert_int_equal(b, 50);
	assert_int_equal(ct_block_below(f->t, txn, 1, 50, &b, g, &e), 0);
	assert_int_equal(b, 40);
	assert_int_equal(g[0], 8);
	assert_int_equal(ct_block_below(f->t, txn, 1, 51, &b, g, &e), 0);
	assert_int_equal(b, 50);
	assert_int_equal(ct_block_below(f->t, txn, 1, 40, &b, g, &e), MDB_NOTFOUND);
	assert_int_equal(ct_block_below(f->t, txn, 2, 1000, &b, g, &e), 0);
	assert_int_equal(b, 45);
	assert_int_equal(ct_blocks_prune(f->t, txn, 1, 45, &e), 0);
	assert_int_equal(ct_block_below(f->t, txn, 1, 50, &b, g, &e), MDB_NOTFOUND);
	assert_int_equal(ct_block_below(f->t, txn, 2, 1000, &b, g, &e), 0);
	assert_int_equal(st_commit(txn, &e), 0);
}

static void
test_raw(void **st)
{
	fx *f = *st;
	MDB_txn *txn;
	st_err e;
	ct_log lg;
	uint64_t tracked, pubs, raw;
	memset(&lg, 0, sizeof lg);
	lg.ntopics = 1;
	lg.data = (const uint8_t *)"xyz";
	lg.data_len = 3;
	lg.block_number = 9;
	assert_int_equal(st_begin(f->env, 0, &txn, &e), 0);
	assert_int_equal(ct_keep_raw(f->t, txn, DST, &lg, "data: short", &e), 0);
	assert_int_equal(ct_counts(f->t, txn, &tracked, &pubs, &raw, &e), 0);
	assert_int_equal(raw, 1);
	assert_int_equal(ct_rollback(f->t, txn, DST, 8, NULL, &e), 0); /* raw logs of rewound blocks go too */
	assert_int_equal(ct_counts(f->t, txn, &tracked, &pubs, &raw, &e), 0);
	assert_int_equal(raw, 0);
	assert_int_equal(st_commit(txn, &e), 0);
}

/* Envelope ids depend only on (message, history position, state): a re-derivation after a crash
 * before commit publishes the same ids, so consumers drop the duplicates. */
static void
test_ids_deterministic(void **st)
{
	fx *f = *st, *g;
	MDB_txn *txn;
	st_err e;
	ct_pub p1, p2;
	setup((void **)&g);
	step(f, SRC, send(9, 1, 10));
	step(g, SRC, send(9, 1, 10));
	assert_int_equal(st_begin(f->env, 1, &txn, &e), 0);
	assert_int_equal(ct_pub_next(f->t, txn, 0, &p1, &e), 0);
	st_abort(txn);
	assert_int_equal(st_begin(g->env, 1, &txn, &e), 0);
	assert_int_equal(ct_pub_next(g->t, txn, 0, &p2, &e), 0);
	st_abort(txn);
	assert_memory_equal(p1.id, p2.id, 16);
	void *gs = g;
	teardown(&gs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_onramp_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overdue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reorg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursor_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids_deterministic, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
