/*
 * gate_turn_test.c - turns (gate.h): the decisions of one loop turn go out together. Twenty feeds
 * moving in one turn: nothing published before the turn ends, then their estimates in ONE batch,
 * their decisions in ONE commit (LMDB's transaction id counts commits), every update published
 * with its own id and answer; their acks and confirmed statuses in one more commit, and a restart
 * finds nothing in flight. A feed decided twice in a turn goes out once with its latest answer,
 * or not at all when its latest decision holds. A node without batches: one by one, and never
 * asked for a batch again. One call reverting and one unanswered in a batch: the first a failure
 * of its feed, the second held for a retry, the others published. A peer's flood of statuses in
 * one turn: the ack list stays bounded (committed when full) and every ack takes effect. The due
 * polls of the chain in one batch too (one by one for a node without batches). A feed's estimate
 * reused for its next updates, each checked by one eth_call at that limit: a check out of gas or
 * reverting is estimated again in the same turn; after ten minutes, estimated again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/gate/gate.h"
#include "actors/gate/gate_testing.h"
#include "base/hex.h"
#include "bus/bus.h"

#define NF  20
#define CAP 1024

typedef struct {
	gc_round chain[NF]; /* latestRoundData of aggregator i (address ...00 i+1) */
	/* eth_estimateGas */
	int batches;       /* estimate_gas_many calls */
	size_t batch_size; /* calls in the last one */
	int singles;       /* estimate_gas calls */
	int no_batch;      /* the node answers a batch with one error */
	int read_batches;  /* read_latest_many calls */
	int checks;        /* eth_calls at a known limit in the estimate batches */
	int estimates;     /* eth_estimateGas in them */
	uint64_t need[NF]; /* gas feed i's call needs (0 = 60,000) */
	int reads;         /* read_latest calls */
	int revert_of;     /* 1 + the feed whose call reverts; 0 = none */
	int silent_of;     /* 1 + the feed whose call gets no answer in the batch */
	/* the bus */
	size_t nframes;
	uint8_t ids[CAP][16];
	sc_price_update *upd; /* [CAP] */
} fake;

static int
f_index(const uint8_t a[20])
{
	return a[19] >= 1 && a[19] <= NF ? a[19] - 1 : -1;
}

static int
f_latest(void *ctx, const uint8_t a[20], gc_round *r, rpc_error *e)
{
	(void)e;
	((fake *)ctx)->reads++;
	*r = ((fake *)ctx)->chain[f_index(a)];
	return RPC_OK;
}

static int
f_latest_many(void *ctx, gc_read *rd, size_t n, rpc_error *e)
{
	fake *f = ctx;
	f->read_batches++;
	if (f->no_batch) {
		memset(e, 0, sizeof *e);
		e->code = -32600;
		snprintf(e->msg, sizeof e->msg, "batch requests are not supported");
		for (size_t i = 0; i < n; i++)
			rd[i].rc = RPC_ENOBATCH;
		return RPC_ENOBATCH;
	}
	for (size_t i = 0; i < n; i++) {
		rd[i].round = f->chain[f_index(rd[i].agg)];
		rd[i].rc = RPC_OK;
	}
	return RPC_OK;
}

static int
f_oracle_round(void *ctx, const uint8_t agg[20], const uint8_t oracle[20], uint64_t *round, rpc_error *e)
{
	(void)ctx, (void)agg, (void)oracle, (void)e;
	*round = 1;
	return RPC_OK;
}

/* One call as the node would answer it: reverting, unanswered, its gas (60,000 unless need says),
 * or for a check (eth_call at check_gas) passing or out of gas. */
static int
f_one(fake *f, const uint8_t to[20], uint64_t check_gas, uint64_t *gas, rpc_error *e)
{
	int i = f_index(to);
	assert_true(i >= 0);
	memset(e, 0, sizeof *e);
	uint64_t need = f->need[i] ? f->need[i] : 60000;
	if (check_gas && need > check_gas) {
		e->code = -32000;
		snprintf(e->msg, sizeof e->msg, "out of gas");
		return RPC_ENODE;
	}
	if (f->revert_of == i + 1) {
		e->code = 3;
		snprintf(e->msg, sizeof e->msg, "execution reverted");
		snprintf(e->data, sizeof e->data, "0x6e153168");
		return RPC_ENODE;
	}
	if (f->silent_of == i + 1) {
		snprintf(e->msg, sizeof e->msg, "no answer for this call in the batch");
		return RPC_EDECODE;
	}
	*gas = check_gas ? check_gas : need;
	return RPC_OK;
}

static int
f_estimate(void *ctx, const uint8_t from[20], const uint8_t to[20], const uint8_t *data, size_t len, uint64_t *gas,
           rpc_error *e)
{
	(void)from, (void)data, (void)len;
	fake *f = ctx;
	f->singles++;
	return f_one(f, to, 0, gas, e);
}

static int
f_estimate_many(void *ctx, gc_estimate *c, size_t n, rpc_error *e)
{
	fake *f = ctx;
	f->batches++;
	f->batch_size = n;
	if (f->no_batch) {
		memset(e, 0, sizeof *e);
		e->code = -32600;
		snprintf(e->msg, sizeof e->msg, "batch requests are not supported");
		for (size_t i = 0; i < n; i++)
			c[i].rc = RPC_ENOBATCH;
		return RPC_ENOBATCH;
	}
	for (size_t i = 0; i < n; i++) {
		*(c[i].check_gas ? &f->checks : &f->estimates) += 1;
		c[i].rc = f_one(f, c[i].to, c[i].check_gas, &c[i].gas, &c[i].e);
	}
	return RPC_OK;
}

static int
f_publish(void *ctx, const char *topic, const char *type, const uint8_t id[16], const uint8_t *body, size_t len)
{
	fake *f = ctx;
	(void)topic;
	assert_string_equal(type, "price.update");
	assert_true(f->nframes < CAP);
	sc_err se;
	assert_int_equal(sc_decode(&SC_PRICE_UPDATE, body, len, &f->upd[f->nframes], &se), 0);
	memcpy(f->ids[f->nframes++], id, 16);
	return BUS_OK;
}

typedef struct {
	char dir[64];
	fake fk;
	gt *g;
	gf_feed feeds[NF];
	gt_cfg cfg;
	uint64_t mono;
	int batch_io; /* the gate gets estimate_gas_many */
} env;

static uint64_t
now(const env *e)
{
	return T0 + e->mono;
}

static void
open_gate(env *e)
{
	char err[256];
	gt_io io = { .ctx = &e->fk,
		     .read_latest = f_latest,
		     .read_oracle_round = f_oracle_round,
		     .estimate_gas = f_estimate,
		     .estimate_gas_many = e->batch_io ? f_estimate_many : NULL,
		     .read_latest_many = e->batch_io ? f_latest_many : NULL,
		     .chain_id = gtt_chain_id,
		     .publish = f_publish };
	e->g = gt_open(&e->cfg, e->feeds, NF, &io, err, sizeof err);
	if (e->g == NULL)
		fail_msg("gt_open: %s", err);
}

static int
setup(void **state)
{
	env *e = calloc(1, sizeof *e);
	snprintf(e->dir, sizeof e->dir, "/tmp/gate_turn_test.XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	e->fk.upd = calloc(CAP, sizeof *e->fk.upd);
	e->mono = 100 * S;
	for (int i = 0; i < NF; i++) {
		char name[24];
		snprintf(name, sizeof name, "F%d-USD", i);
		gtt_feed(&e->feeds[i], name, (uint8_t)(i + 1), 3600000);
		u256_from_u64(&e->fk.chain[i].round_id, 5);
		u256_from_u64(&e->fk.chain[i].answer, 10000000000ull); /* 100.00000000 */
		e->fk.chain[i].updated_at_s = now(e) / S - 60;
	}
	e->cfg = gtt_cfg(e->dir);
	e->cfg.agg_max_age_ms = 60000;
	e->batch_io = 1;
	open_gate(e);
	gt_step(e->g, now(e), e->mono); /* polls every feed: the chain is known */
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	env *e = *state;
	gt_close(e->g);
	free(e->fk.upd);
	if (gtt_rm_dir(e->dir) != 0)
		return -1;
	free(e);
	return 0;
}

static void
agg(env *e, int i, uint64_t median)
{
	gtt_agg(e->g, e->feeds[i].feed, median, 2, now(e), 0, now(e), e->mono);
}

static void
status(env *e, int i, int state, const uint8_t id[16], uint64_t answer)
{
	sc_tx_status s;
	memset(&s, 0, sizeof s);
	s.state = state;
	snprintf(s.feed, sizeof s.feed, "%s", e->feeds[i].feed);
	hex_encode(id, 16, 0, s.ref);
	u256_from_u64(&s.answer, answer);
	s.block_number = 10;
	s.observed_at_ns = now(e);
	gt_on_status(e->g, &s, now(e), e->mono);
}

/* The frame published for feed i (the latest), or -1. */
static int
frame_of(const fake *f, int i)
{
	char name[24];
	snprintf(name, sizeof name, "F%d-USD", i);
	for (int k = (int)f->nframes - 1; k >= 0; k--)
		if (strcmp(f->upd[k].feed, name) == 0)
			return k;
	return -1;
}

/* Every feed moves 1 %, 2 %, ... in one turn. */
static void
move_all(env *e)
{
	for (int i = 0; i < NF; i++)
		agg(e, i, 10000000000ull + (uint64_t)(i + 1) * 100000000ull);
}

/* Every feed's latest update confirmed, in one turn. */
static void
confirm_all(env *e)
{
	gt_turn_begin(e->g);
	for (int i = 0; i < NF; i++) {
		int k = frame_of(&e->fk, i);
		if (k >= 0 && gt_view(e->g, e->feeds[i].feed)->st.inflight)
			status(e, i, SC_TX_CONFIRMED, e->fk.ids[k], u256_low64(&e->fk.upd[k].answer));
	}
	gt_turn_end(e->g, now(e), e->mono);
}

/* Every feed moves to base + (i+1) %, in one turn, 10 s after the last. */
static void
move_all_to(env *e, uint64_t base)
{
	e->mono += 10 * S;
	gt_turn_begin(e->g);
	for (int i = 0; i < NF; i++)
		agg(e, i, base + (uint64_t)(i + 1) * (base / 100));
	gt_turn_end(e->g, now(e), e->mono);
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void
test_turn_one_batch_one_commit(void **state)
{
	env *e = *state;
	/* setup's first step polled every feed in one batch */
	assert_int_equal(e->fk.read_batches, 1);
	assert_int_equal(e->fk.reads, 0);
	uint64_t txn0 = gt_txn_id(e->g);
	gt_turn_begin(e->g);
	move_all(e);
	/* nothing estimated, written or published before the turn ends */
	assert_int_equal(e->fk.batches + e->fk.singles, 0);
	assert_int_equal(e->fk.nframes, 0);
	assert_int_equal(gt_txn_id(e->g), txn0);
	gt_turn_end(e->g, now(e), e->mono);
	assert_int_equal(e->fk.batches, 1);
	assert_int_equal(e->fk.batch_size, NF);
	assert_int_equal(e->fk.singles, 0);
	/* one commit of the decisions, one of the outbox marking them sent */
	assert_int_equal(gt_txn_id(e->g) - txn0, 2);
	assert_int_equal(e->fk.nframes, NF);
	for (int i = 0; i < NF; i++) {
		int k = frame_of(&e->fk, i);
		assert_true(k >= 0);
		assert_int_equal(u256_low64(&e->fk.upd[k].answer), 10000000000ull + (uint64_t)(i + 1) * 100000000ull);
		assert_int_equal(e->fk.upd[k].gas_limit, 75000); /* 60,000 + 25 % */
		assert_true(gt_view(e->g, e->feeds[i].feed)->st.inflight);
		for (int j = 0; j < i; j++)
			assert_memory_not_equal(e->fk.ids[k], e->fk.ids[frame_of(&e->fk, j)], 16);
	}
	/* Their pending and confirmed statuses in one turn: one commit (acks and drops together). */
	uint8_t ids[NF][16];
	for (int i = 0; i < NF; i++)
		memcpy(ids[i], e->fk.ids[frame_of(&e->fk, i)], 16);
	uint64_t txn1 = gt_txn_id(e->g);
	gt_turn_begin(e->g);
	for (int i = 0; i < NF; i++)
		status(e, i, SC_TX_PENDING, ids[i], 0);
	for (int i = 0; i < NF; i++)
		status(e, i, SC_TX_CONFIRMED, ids[i], 10000000000ull + (uint64_t)(i + 1) * 100000000ull);
	assert_int_equal(gt_txn_id(e->g), txn1);
	gt_turn_end(e->g, now(e), e->mono);
	assert_int_equal(gt_txn_id(e->g) - txn1, 1);
	for (int i = 0; i < NF; i++)
		assert_false(gt_view(e->g, e->feeds[i].feed)->st.inflight);
	/* Acked: nothing re-published later; and a restart finds nothing in flight. */
	size_t n = e->fk.nframes;
	for (int s = 0; s < 5; s++) {
		e->mono += 1 * S;
		gt_step(e->g, now(e), e->mono);
	}
	assert_int_equal(e->fk.nframes, n);
	gt_close(e->g);
	open_gate(e);
	for (int i = 0; i < NF; i++)
		assert_false(gt_view(e->g, e->feeds[i].feed)->st.inflight);
}

static void
test_turn_latest_decision_wins(void **state)
{
	env *e = *state;
	gt_turn_begin(e->g);
	agg(e, 0, 10200000000ull); /* +2 % */
	agg(e, 0, 10300000000ull); /* +3 %: this one goes */
	agg(e, 1, 10200000000ull); /* +2 % */
	agg(e, 1, 10010000000ull); /* back within 0.5 %: holds */
	gt_turn_end(e->g, now(e), e->mono);
	assert_int_equal(e->fk.nframes, 1);
	assert_string_equal(e->fk.upd[0].feed, "F0-USD");
	assert_int_equal(u256_low64(&e->fk.upd[0].answer), 10300000000ull);
	assert_false(gt_view(e->g, "F1-USD")->st.inflight);
	/* Outside a turn each aggregate is decided and published before gt_on_agg returns. */
	agg(e, 2, 10200000000ull);
	assert_int_equal(e->fk.nframes, 2);
	assert_string_equal(e->fk.upd[1].feed, "F2-USD");
}

static void
test_turn_node_without_batches(void **state)
{
	env *e = *state;
	e->fk.no_batch = 1;
	gt_turn_begin(e->g);
	move_all(e);
	gt_turn_end(e->g, now(e), e->mono);
	assert_int_equal(e->fk.batches, 1);
	assert_int_equal(e->fk.singles, NF);
	assert_int_equal(e->fk.nframes, NF);
	/* never asked for a batch again: confirmed, then (after MIN_INTERVAL) all move again */
	gt_turn_begin(e->g);
	for (int i = 0; i < NF; i++)
		status(e, i, SC_TX_CONFIRMED, e->fk.ids[frame_of(&e->fk, i)],
		       10000000000ull + (uint64_t)(i + 1) * 100000000ull);
	gt_turn_end(e->g, now(e), e->mono);
	e->mono += 10 * S;
	gt_turn_begin(e->g);
	for (int i = 0; i < NF; i++)
		agg(e, i, 9000000000ull);
	gt_turn_end(e->g, now(e), e->mono);
	assert_int_equal(e->fk.nframes, 2 * NF);
	assert_int_equal(e->fk.batches, 1);
	assert_int_equal(e->fk.singles, 2 * NF);
	/* the polls too: the next ones (CHAIN_POLL 30 s) refused as a batch, then one by one */
	e->mono += 31 * S;
	gt_step(e->g, T0 + e->mono, e->mono);
	assert_int_equal(e->fk.read_batches, 2);
	assert_int_equal(e->fk.reads, NF);
	e->mono += 31 * S;
	gt_step(e->g, T0 + e->mono, e->mono);
	assert_int_equal(e->fk.read_batches, 2);
	assert_int_equal(e->fk.reads, 2 * NF);
}

static void
test_turn_mixed_outcomes(void **state)
{
	env *e = *state;
	e->fk.revert_of = 1 + 3;
	e->fk.silent_of = 1 + 7;
	gt_turn_begin(e->g);
	move_all(e);
	gt_turn_end(e->g, now(e), e->mono);
	assert_int_equal(e->fk.batches, 1);
	assert_int_equal(e->fk.nframes, NF - 2);
	assert_int_equal(frame_of(&e->fk, 3), -1);
	assert_int_equal(frame_of(&e->fk, 7), -1);
	assert_int_equal(gt_view(e->g, "F3-USD")->st.failures, 1); /* the revert counts */
	assert_int_equal(gt_view(e->g, "F7-USD")->st.failures, 0); /* no answer is no failure */
	/* the unanswered one is decided again when its retry comes (1 s), and goes */
	e->fk.silent_of = 0;
	uint64_t t0 = e->mono;
	for (int k = 0; k < 20 && frame_of(&e->fk, 7) < 0; k++) {
		uint64_t wake = gt_next_wake(e->g);
		e->mono = wake > e->mono ? wake : e->mono;
		gt_step(e->g, now(e), e->mono);
	}
	assert_true(frame_of(&e->fk, 7) >= 0);
	assert_true(e->mono - t0 <= 1000 * MS);
	assert_int_equal(frame_of(&e->fk, 3), -1); /* backing off */
}

static void
test_turn_status_flood_bounded(void **state)
{
	env *e = *state;
	move_all(e); /* outside a turn: twenty turns of one */
	assert_int_equal(e->fk.nframes, NF);
	uint64_t txn0 = gt_txn_id(e->g);
	gt_turn_begin(e->g);
	for (int i = 0; i < NF; i++) /* the real acks first: written by the first full list's commit */
		status(e, i, SC_TX_PENDING, e->fk.ids[frame_of(&e->fk, i)], 0);
	assert_int_equal(gt_txn_id(e->g), txn0);
	/* then a peer's 3,000 statuses with refs of no update: each queues an ack (deleting nothing),
	 * the list stays bounded: committed when full, while the turn goes on */
	for (int k = 0; k < 3000; k++) {
		uint8_t ref[16] = { 0xee };
		memcpy(ref + 8, &k, sizeof k);
		status(e, k % NF, SC_TX_PENDING, ref, 0);
	}
	assert_int_equal(gt_txn_id(e->g) - txn0, 1);
	gt_turn_end(e->g, now(e), e->mono);
	size_t n = e->fk.nframes;
	for (int s = 0; s < 5; s++) { /* every ack took effect: nothing re-published */
		e->mono += 1 * S;
		gt_step(e->g, now(e), e->mono);
	}
	assert_int_equal(e->fk.nframes, n);
	for (int i = 0; i < NF; i++)
		assert_true(gt_view(e->g, e->feeds[i].feed)->st.inflight); /* pending: still in flight */
}

/* Without a batch call in the I/O: one by one, as before turns. */
static void
test_turn_without_batch_io(void **state)
{
	env *e = *state;
	gt_close(e->g);
	e->batch_io = 0;
	open_gate(e);
	gt_step(e->g, now(e), e->mono);
	gt_turn_begin(e->g);
	move_all(e);
	gt_turn_end(e->g, now(e), e->mono);
	assert_int_equal(e->fk.batches, 0);
	assert_int_equal(e->fk.singles, NF);
	assert_int_equal(e->fk.nframes, NF);
	assert_int_equal(e->fk.reads, NF); /* the reopened gate's polls, one by one */
}

/* A feed's estimate is reused, each time checked by one eth_call at its limit; a check that fails
 * (out of gas at the old limit, a revert) is estimated again in the same turn. */
static void
test_turn_checks_reuse_estimate(void **state)
{
	env *e = *state;
	move_all_to(e, 10000000000ull);
	assert_int_equal(e->fk.estimates, NF);
	assert_int_equal(e->fk.checks, 0);
	confirm_all(e);
	move_all_to(e, 11000000000ull);
	assert_int_equal(e->fk.estimates, NF); /* no new estimate: checks at 75,000 */
	assert_int_equal(e->fk.checks, NF);
	assert_int_equal(e->fk.batches, 2);
	assert_int_equal(e->fk.nframes, 2 * NF);
	for (int i = 0; i < NF; i++)
		assert_int_equal(e->fk.upd[frame_of(&e->fk, i)].gas_limit, 75000);
	confirm_all(e);
	e->fk.need[5] = 80000;   /* the call costs more now: out of gas at 75,000 */
	e->fk.revert_of = 1 + 6; /* and this one reverts */
	move_all_to(e, 12000000000ull);
	assert_int_equal(e->fk.checks, 2 * NF);
	assert_int_equal(e->fk.estimates, NF + 2); /* the two failed checks, estimated */
	assert_int_equal(e->fk.batches, 4);        /* in a batch of their own */
	assert_int_equal(e->fk.batch_size, 2);
	assert_int_equal(e->fk.nframes, 3 * NF - 1);
	assert_int_equal(e->fk.upd[frame_of(&e->fk, 5)].gas_limit, 100000); /* 80,000 + 25 % */
	assert_int_equal(u256_low64(&e->fk.upd[frame_of(&e->fk, 5)].answer), 12000000000ull + 6 * 120000000ull);
	assert_int_equal(gt_view(e->g, "F6-USD")->st.failures, 1); /* the revert named by the estimate */
	/* ten minutes on, every limit is estimated again */
	confirm_all(e);
	e->mono += 600 * S;
	e->fk.revert_of = 0;
	int est = e->fk.estimates;
	move_all_to(e, 13000000000ull);
	assert_int_equal(e->fk.estimates - est, NF);
}

/* A feed's limit is reused for every update within ten minutes, each checked: 40 updates of every
 * feed (more than the old bound of 32) take one estimate each. */
static void
test_turn_reuse_bound_in_time(void **state)
{
	env *e = *state;
	uint64_t base = 10000000000ull;
	move_all_to(e, base);
	assert_int_equal(e->fk.estimates, NF);
	for (int i = 0; i < 40; i++) { /* 10 s apart: 400 s */
		confirm_all(e);
		base += base / 50;
		move_all_to(e, base);
	}
	assert_int_equal(e->fk.nframes, 41 * NF);
	assert_int_equal(e->fk.estimates, NF);
	assert_int_equal(e->fk.checks, 40 * NF);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_turn_one_batch_one_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_turn_latest_decision_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_turn_node_without_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_turn_mixed_outcomes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_turn_status_flood_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_turn_without_batch_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_turn_checks_reuse_estimate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_turn_reuse_bound_in_time, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
