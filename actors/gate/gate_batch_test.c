/*
 * gate_batch_test.c - many feeds per transaction (gate.h, "Batches"): ten feeds due within
 * BATCH_WINDOW go out as ONE price.update for the batch contract; a feed whose call reverts in the
 * batch's eth_call is taken out first (by the per-call results of a catching contract, or by
 * halving when the batch reverts as a whole) and backed off; the members stay in flight under the
 * batch's id across a restart; when the batch is confirmed each member's answer is read at its
 * block, and one whose answer is not there (its call reverted, or the signer left it out) fails.
 * The fake chain runs the batch calls (updateAnswers and aggregate3) on a table of aggregators.
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
#include "base/rt_metrics.h"
#include "bus/bus.h"
#include "chain/abi.h"
#include "chain/batch.h"

#define NF  10
#define CAP 64

/* "cast calldata 'AnswerOutOfBounds(int256,int256,int256)' 1 2 3" is not needed: any data does */
static const uint8_t REVERT[] = { 0x6e, 0x15, 0x31, 0x68 };

typedef struct {
	/* the chain: one aggregator per feed (address ...00 i+1) */
	gc_round agg[NF];
	int bad[NF];   /* its updateAnswer reverts */
	int catches;   /* the batch contract catches each call (Multicall3, OracleBatcher) */
	int read_fail; /* 1 + the feed whose read at a block (after its batch) times out; 0 = none */
	int kind;      /* CB_* the contract speaks */
	int calls;     /* eth_calls of batches */
	int estimates;
	uint64_t gas_per_call;  /* what eth_estimateGas says a call needs */
	uint64_t need_per_call; /* what a call really needs to succeed (more: the estimate is short) */
	int gas_checks;         /* eth_calls at the gas limit to be sent */
	int read_batches;       /* JSON-RPC batches of latestRoundData reads */
	int reads_at;           /* reads at a block (a batch's members), batched or not */
	/* the bus */
	size_t nframes;
	char topics[CAP][64];
	uint8_t ids[CAP][16];
	sc_price_update *upd; /* [CAP] */
} fake;

static int
f_index(const uint8_t a[20])
{
	return a[19] >= 1 && a[19] <= NF ? a[19] - 1 : -1;
}

static int
f_latest_at(void *ctx, const uint8_t a[20], uint64_t block, gc_round *r, rpc_error *e)
{
	fake *f = ctx;
	if (block && f->read_fail == f_index(a) + 1) {
		snprintf(e->msg, sizeof e->msg, "timeout");
		return RPC_ETRANSPORT;
	}
	*r = f->agg[f_index(a)];
	return RPC_OK;
}

static int
f_latest(void *ctx, const uint8_t a[20], gc_round *r, rpc_error *e)
{
	return f_latest_at(ctx, a, 0, r, e);
}

/* gc_read_latest_many's contract: one batch, each read's own outcome. */
static int
f_latest_many(void *ctx, gc_read *rd, size_t n, rpc_error *e)
{
	fake *f = ctx;
	(void)e;
	f->read_batches++;
	for (size_t i = 0; i < n; i++) {
		memset(&rd[i].e, 0, sizeof rd[i].e);
		f->reads_at += rd[i].block != 0;
		rd[i].rc = f_latest_at(ctx, rd[i].agg, rd[i].block, &rd[i].round, &rd[i].e);
	}
	return RPC_OK;
}

/* Decodes a batch's calldata into the targets it calls (what the contract would do). */
static size_t
f_targets(const fake *f, const uint8_t *data, size_t len, int *idx)
{
	abi_sig s;
	static abi_val v[512];
	size_t nv, n;
	assert_true(len > 4);
	if (f->kind == CB_AGGREGATE3) {
		assert_int_equal(abi_parse_sig(&s, CB_AGGREGATE3_SIG, NULL), ABI_OK);
		assert_memory_equal(data, s.selector, 4);
		assert_int_equal(abi_decode(&s, data + 4, len - 4, v, 512, &nv, NULL), ABI_OK);
		n = v[1].count;
		for (size_t i = 0; i < n; i++) {
			uint8_t a[20];
			size_t t = abi_child(v, 1, (uint32_t)i);
			assert_int_equal(abi_get_address(&v[abi_child(v, t, 0)], a), ABI_OK);
			idx[i] = f_index(a);
		}
	} else {
		assert_int_equal(abi_parse_sig(&s, CB_UPDATE_ANSWERS_SIG, NULL), ABI_OK);
		assert_memory_equal(data, s.selector, 4);
		assert_int_equal(abi_decode(&s, data + 4, len - 4, v, 512, &nv, NULL), ABI_OK);
		n = v[1].count;
		for (size_t i = 0; i < n; i++) {
			uint8_t a[20];
			assert_int_equal(abi_get_address(&v[abi_child(v, 1, (uint32_t)i)], a), ABI_OK);
			idx[i] = f_index(a);
		}
	}
	return n;
}

static int
f_call(void *ctx, const uint8_t from[20], const uint8_t to[20], const uint8_t *data, size_t len, uint64_t gas,
       uint8_t **out, size_t *outlen, rpc_error *e)
{
	fake *f = ctx;
	int idx[CB_MAX_CALLS], any = 0;
	(void)from, (void)to;
	f->calls++;
	size_t n = f_targets(f, data, len, idx);
	/* A catching contract given too little gas: the calls past what it covers fail, the batch does
	 * not (Multicall3's allowFailure with the 63/64 rule; an estimate that stopped there). */
	size_t covered = gas == 0 ? n : gas < 30000 ? 0 : (gas - 30000) / f->need_per_call;
	for (size_t i = 0; i < n; i++)
		any |= f->bad[idx[i]];
	if (any && !f->catches) {
		memset(e, 0, sizeof *e);
		e->code = 3;
		snprintf(e->msg, sizeof e->msg, "execution reverted");
		snprintf(e->data, sizeof e->data, "0x6e153168");
		return RPC_ENODE;
	}
	/* (bool success, bytes returnData)[] */
	abi_sig s;
	abi_val v[2 + 3 * CB_MAX_CALLS];
	size_t k = 0;
	assert_int_equal(abi_parse_types(&s, "((bool,bytes)[])", NULL), ABI_OK);
	abi_v_list(&v[k++], 1, (uint32_t)(2 + 3 * n));
	abi_v_list(&v[k++], (uint32_t)n, (uint32_t)(1 + 3 * n));
	for (size_t i = 0; i < n; i++) {
		int ok = !f->bad[idx[i]] && i < covered;
		abi_v_list(&v[k++], 2, 3);
		abi_v_bool(&v[k++], ok);
		abi_v_bytes(&v[k++], REVERT, ok ? 0 : sizeof REVERT);
	}
	if (gas)
		f->gas_checks++;
	*out = malloc(8192);
	assert_int_equal(abi_encode(&s, v, k, 0, *out, 8192, outlen), ABI_OK);
	return RPC_OK;
}

static int
f_estimate(void *ctx, const uint8_t from[20], const uint8_t to[20], const uint8_t *data, size_t len, uint64_t *gas,
           rpc_error *e)
{
	fake *f = ctx;
	int idx[CB_MAX_CALLS];
	(void)from, (void)e;
	f->estimates++;
	*gas = 50000;
	if (to[19] == 0xba) /* the batch contract */
		*gas = 30000 + f->gas_per_call * f_targets(f, data, len, idx);
	return RPC_OK;
}

static int
f_oracle_round(void *ctx, const uint8_t agg[20], const uint8_t oracle[20], uint64_t *round, rpc_error *e)
{
	(void)ctx, (void)agg, (void)oracle, (void)e;
	*round = 1;
	return RPC_OK;
}

static int
f_publish(void *ctx, const char *topic, const char *type, const uint8_t id[16], const uint8_t *body, size_t len)
{
	fake *f = ctx;
	sc_err se;
	assert_string_equal(type, "price.update");
	assert_true(f->nframes < CAP);
	assert_int_equal(sc_decode(&SC_PRICE_UPDATE, body, len, &f->upd[f->nframes], &se), 0);
	snprintf(f->topics[f->nframes], sizeof f->topics[0], "%s", topic);
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
		     .read_latest_at = f_latest_at,
		     .read_latest_many = f_latest_many,
		     .call = f_call,
		     .read_oracle_round = f_oracle_round,
		     .estimate_gas = f_estimate,
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
	e->fk.upd = calloc(CAP, sizeof *e->fk.upd);
	snprintf(e->dir, sizeof e->dir, "/tmp/gate_batch_test.XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	for (int i = 0; i < NF; i++) {
		char name[24];
		snprintf(name, sizeof name, "F%d-USD", i);
		gtt_feed(&e->feeds[i], name, (uint8_t)(i + 1), 3600000);
		/* on chain: 1000.00000000, round 5, ten seconds ago */
		u256_from_u64(&e->fk.agg[i].answer, 100000000000ull);
		u256_from_u64(&e->fk.agg[i].round_id, 5);
		e->fk.agg[i].updated_at_s = T0 / S - 10;
	}
	e->cfg = gtt_cfg(e->dir);
	e->cfg.batch_call = CB_UPDATE_ANSWERS;
	e->cfg.batch_max = 16;
	e->cfg.batch_window_ms = 200;
	e->cfg.batch_name = "batch";
	e->cfg.batch_contract[19] = 0xba;
	e->fk.kind = CB_UPDATE_ANSWERS;
	e->fk.catches = 1;
	e->fk.gas_per_call = 40000;
	e->fk.need_per_call = 40000;
	open_gate(e);
	gt_step(e->g, now(e), e->mono); /* reads every feed's answer */
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	env *e = *state;
	gt_close(e->g);
	if (gtt_rm_dir(e->dir) != 0)
		return -1;
	free(e->fk.upd);
	free(e);
	return 0;
}

static void
step(env *e, uint64_t advance_ns)
{
	e->mono += advance_ns;
	gt_step(e->g, now(e), e->mono);
}

/* An aggregate of feed i: 1000 * (1 + pct/100). */
static void
agg(env *e, int i, uint64_t median)
{
	char name[16];
	snprintf(name, sizeof name, "F%d-USD", i);
	gtt_agg(e->g, name, median, 3, now(e), 0, now(e), e->mono);
}

static void
all_aggs(env *e, uint64_t median)
{
	for (int i = 0; i < NF; i++) {
		e->mono += 5 * MS;
		agg(e, i, median);
	}
}

static const gr_view *
view(env *e, int i)
{
	char name[16];
	snprintf(name, sizeof name, "F%d-USD", i);
	return gt_view(e->g, name);
}

static int
in_batch(const sc_price_update *u, int i)
{
	char name[16];
	snprintf(name, sizeof name, "F%d-USD", i);
	for (uint32_t k = 0; k < u->batch_count; k++)
		if (strcmp(u->batch[k].feed, name) == 0)
			return 1;
	return 0;
}

/* The chain after a batch: the given feeds have the answer, updated now. */
static void
chain_lands(env *e, const sc_price_update *u, int except)
{
	for (uint32_t k = 0; k < u->batch_count; k++) {
		int i = f_index(u->batch[k].contract);
		if (i == except)
			continue;
		e->fk.agg[i].answer = u->batch[k].answer;
		e->fk.agg[i].updated_at_s = now(e) / S;
		u256 one;
		u256_from_u64(&one, 1);
		u256_add(&e->fk.agg[i].round_id, &e->fk.agg[i].round_id, &one);
	}
}

static void
batch_status(env *e, int state, const uint8_t id[16], uint64_t gas_used)
{
	sc_tx_status s;
	memset(&s, 0, sizeof s);
	s.state = state;
	snprintf(s.feed, sizeof s.feed, "batch");
	hex_encode(id, 16, 0, s.ref);
	s.block_number = 10;
	s.gas_used = gas_used;
	s.observed_at_ns = now(e);
	if (state == SC_TX_FAILED)
		snprintf(s.error_text, sizeof s.error_text, "out of gas (used 100 of 100)");
	gt_on_status(e->g, &s, now(e), e->mono);
}

static int
metric_has(const char *line)
{
	size_t len;
	char *t = rt_metrics_text(&len);
	int has = t && strstr(t, line) != NULL;
	free(t);
	return has;
}

/* A batched counter's value, read from the registry (as bus_test reads its counters). */
static uint64_t
batched(const char *name)
{
	return rt_counter_value(rt_counter(name, "", "mode=\"batched\""));
}

/* A member whose answer cannot be read right after its batch's confirmed status (the node timed
 * out) stays in flight, lands through its feed's next poll, and is counted then: the batch's gas
 * was counted once with the members read, and a member landing later still adds its update to
 * gate_landed_updates_total (it once never did, and gas per feed read high). */
static void
test_member_landed_late_counted(void **state)
{
	env *e = *state;
	const char *key = "gate_landed_updates_total";
	uint64_t before = batched(key), gas0 = batched("gate_landed_gas_total");
	all_aggs(e, 101000000000ull);
	step(e, 250 * MS);
	assert_int_equal(e->fk.nframes, 1);
	static sc_price_update b;
	b = e->fk.upd[0];
	assert_int_equal(b.batch_count, NF);
	uint8_t id[16];
	memcpy(id, e->fk.ids[0], 16);
	chain_lands(e, &b, -1);
	e->fk.read_fail = 4 + 1;
	batch_status(e, SC_TX_CONFIRMED, id, 300000);
	assert_true(view(e, 4)->st.inflight);
	assert_false(view(e, 3)->st.inflight);
	assert_int_equal((int)(batched(key) - before), NF - 1);
	e->fk.read_fail = 0;
	step(e, 10 * MS); /* its poll is due at once */
	assert_false(view(e, 4)->st.inflight);
	assert_int_equal(view(e, 4)->st.failures, 0);
	assert_int_equal((int)(batched(key) - before), NF);
	batch_status(e, SC_TX_FINAL, id, 300000); /* later statuses count nothing again */
	assert_int_equal((int)(batched(key) - before), NF);
	assert_int_equal((int)(batched("gate_landed_gas_total") - gas0), 300000);
}

/* BATCH_WINDOW=0: the feeds decided in one turn (what the main loop drained at once) go out as one
 * batch at its end, and nothing before the turn ends; outside a turn each aggregate is a turn of
 * its own and goes at once (a batch of one). The batch was once made at each aggregate, so a turn
 * of ten sent ten batches, each with its own eth_calls and commit. */
static void
test_window_zero_turn_is_batch(void **state)
{
	env *e = *state;
	e->cfg.batch_window_ms = 0;
	gt_close(e->g);
	open_gate(e);
	step(e, 10 * MS);
	gt_turn_begin(e->g);
	all_aggs(e, 101000000000ull);
	assert_int_equal(e->fk.nframes, 0); /* nothing before the turn ends */
	assert_int_equal(e->fk.calls, 0);
	gt_turn_end(e->g, now(e), e->mono);
	assert_int_equal(e->fk.nframes, 1);
	assert_int_equal(e->fk.upd[0].batch_count, NF);
	assert_int_equal(e->fk.calls, 2); /* one preflight, one check at the limit: for all ten */

	static sc_price_update b;
	b = e->fk.upd[0];
	chain_lands(e, &b, -1);
	uint8_t id[16];
	memcpy(id, e->fk.ids[0], 16);
	int batches = e->fk.read_batches;
	batch_status(e, SC_TX_CONFIRMED, id, 300000);
	/* its ten members read at its block in ONE JSON-RPC batch */
	assert_int_equal(e->fk.read_batches - batches, 1);
	assert_int_equal(e->fk.reads_at, NF);
	for (int i = 0; i < NF; i++)
		assert_false(view(e, i)->st.inflight);
	e->mono += 6 * S; /* past MIN_INTERVAL (5 s) */
	e->fk.nframes = 0;
	for (int i = 0; i < 3; i++) { /* no turn open: each aggregate goes alone, at once */
		agg(e, i, 102100000000ull);
		assert_int_equal(e->fk.nframes, (size_t)i + 1);
		assert_int_equal(e->fk.upd[i].batch_count, 1);
	}
}

/* A moved batch: its members landed on chain, then MIN_INTERVAL passes and every feed moves. */
static void
land_and_move(env *e, uint64_t median)
{
	static sc_price_update b;
	b = e->fk.upd[e->fk.nframes - 1];
	uint8_t id[16];
	memcpy(id, e->fk.ids[e->fk.nframes - 1], 16);
	chain_lands(e, &b, -1);
	batch_status(e, SC_TX_CONFIRMED, id, 300000);
	e->mono += 6 * S;
	all_aggs(e, median);
	step(e, 250 * MS);
}

/* gate_batch_checked_total: the batches sent at an earlier estimate's gas, checked by one eth_call */
static uint64_t
batches_checked(void)
{
	return rt_counter_value(rt_counter("gate_batch_checked_total", "", NULL));
}

/* The batch after an estimated one is sent at the gas per call that estimate gave, checked by ONE
 * eth_call (preflight and check at once) instead of preflight + eth_estimateGas + check; a check
 * that fails (calls needing more gas now, a call that reverts) takes the full path, which finds
 * the new limit or the culprit. */
static void
test_checked_batch_gas(void **state)
{
	env *e = *state;
	uint64_t checked0 = batches_checked();
	all_aggs(e, 101000000000ull);
	step(e, 250 * MS);
	assert_int_equal(e->fk.nframes, 1);
	assert_int_equal(e->fk.calls, 2); /* preflight, check at the estimate's limit */
	assert_int_equal(e->fk.estimates, 1);
	uint64_t lim1 = e->fk.upd[0].gas_limit; /* (30000 + 40000 x 10) x 1.25 = 537,500 */
	assert_int_equal(lim1, 537500);

	land_and_move(e, 102100000000ull);
	assert_int_equal(e->fk.nframes, 2);
	assert_int_equal(e->fk.upd[1].batch_count, NF);
	assert_int_equal(e->fk.calls, 3); /* one eth_call */
	assert_int_equal(e->fk.estimates, 1);
	/* 21,000 + 10 x ceil((537,500 - 21,000) / 10) */
	assert_int_equal(e->fk.upd[1].gas_limit, 21000 + 10 * 51650);
	assert_int_equal(batches_checked() - checked0, 1);

	/* the calls need more gas now: the check fails, the full path estimates and doubles */
	e->fk.need_per_call = 60000;
	land_and_move(e, 103200000000ull);
	assert_int_equal(e->fk.nframes, 3);
	assert_int_equal(e->fk.upd[2].batch_count, NF);
	assert_int_equal(e->fk.estimates, 2);
	assert_int_equal(e->fk.calls, 3 + 1 + 1 + 2); /* the failed check, preflight, two checks */
	assert_int_equal(e->fk.upd[2].gas_limit, 2 * 537500);

	/* a call that reverts now: the check fails, the full path's preflight names the culprit */
	e->fk.bad[2] = 1;
	land_and_move(e, 104300000000ull);
	assert_int_equal(e->fk.nframes, 4);
	assert_int_equal(e->fk.upd[3].batch_count, NF - 1);
	assert_false(in_batch(&e->fk.upd[3], 2));
	assert_int_equal(view(e, 2)->st.failures, 1);
	assert_int_equal(batches_checked() - checked0, 1);
}

/* The gas per call is reused for as many batches as come within ten minutes, each checked by one
 * eth_call: 40 batches (more than the old bound of 32, which re-estimated a busy gate's batches
 * every 2 s) take one estimate; ten minutes after it, the next batch is estimated again. */
static void
test_batch_gas_reuse_bound_in_time(void **state)
{
	env *e = *state;
	uint64_t checked0 = batches_checked();
	all_aggs(e, 101000000000ull);
	step(e, 250 * MS);
	assert_int_equal(e->fk.estimates, 1);
	uint64_t m = 101000000000ull;
	for (int i = 0; i < 40; i++) { /* 6 s apart: 240 s */
		m += m / 100;
		land_and_move(e, m);
		assert_int_equal(e->fk.nframes, (size_t)i + 2);
		assert_int_equal(e->fk.upd[i + 1].batch_count, NF);
	}
	assert_int_equal(e->fk.estimates, 1);
	assert_int_equal(batches_checked() - checked0, 40);
	e->mono += 600 * S;
	land_and_move(e, m + m / 100);
	assert_int_equal(e->fk.nframes, 42);
	assert_int_equal(e->fk.estimates, 2);
	assert_int_equal(batches_checked() - checked0, 40);
}

/* A block confirms several batches at once (their statuses come together): the members of every
 * batch confirmed in a turn are read in ONE JSON-RPC batch at its end, each at its batch's block,
 * and each batch's gas is counted once. (One read round trip per batch held the gate while the
 * node was busiest, just after it mined.) */
static void
test_confirmed_batches_read_together(void **state)
{
	env *e = *state;
	e->cfg.batch_max = 5; /* ten due feeds: two batches */
	gt_close(e->g);
	open_gate(e);
	step(e, 10 * MS);
	uint64_t gas0 = batched("gate_landed_gas_total"), upd0 = batched("gate_landed_updates_total");
	all_aggs(e, 101000000000ull);
	step(e, 250 * MS);
	assert_int_equal(e->fk.nframes, 2);
	static sc_price_update b0, b1;
	b0 = e->fk.upd[0];
	b1 = e->fk.upd[1];
	assert_int_equal(b0.batch_count + b1.batch_count, NF);
	chain_lands(e, &b0, -1);
	chain_lands(e, &b1, -1);
	int batches = e->fk.read_batches, reads = e->fk.reads_at;
	gt_turn_begin(e->g);
	batch_status(e, SC_TX_CONFIRMED, e->fk.ids[0], 200000);
	batch_status(e, SC_TX_CONFIRMED, e->fk.ids[1], 100000);
	batch_status(e, SC_TX_FINAL, e->fk.ids[1], 100000); /* confirmed and final in one turn: read once */
	assert_int_equal(e->fk.read_batches, batches);      /* nothing read before the turn ends */
	assert_true(view(e, 0)->st.inflight);
	gt_turn_end(e->g, now(e), e->mono);
	assert_int_equal(e->fk.read_batches - batches, 1);
	assert_int_equal(e->fk.reads_at - reads, NF);
	for (int i = 0; i < NF; i++) {
		assert_false(view(e, i)->st.inflight);
		assert_int_equal(view(e, i)->st.failures, 0);
	}
	assert_int_equal(batched("gate_landed_gas_total") - gas0, 300000);
	assert_int_equal(batched("gate_landed_updates_total") - upd0, NF);
}

static void
test_ten_feeds_one_culprit(void **state)
{
	env *e = *state;
	e->fk.bad[3] = 1;
	all_aggs(e, 101000000000ull);       /* +1 %: every feed is due */
	assert_int_equal(e->fk.nframes, 0); /* waiting for the window */
	step(e, 250 * MS);
	assert_int_equal(e->fk.nframes, 1);
	const sc_price_update *u = &e->fk.upd[0];
	assert_string_equal(e->fk.topics[0], "price.update.batch");
	assert_int_equal(u->batch_call, SC_BATCH_UPDATE_ANSWERS);
	assert_int_equal(u->batch_count, NF - 1);
	assert_int_equal(u->contract[19], 0xba);
	assert_false(in_batch(u, 3));
	/* one eth_call found the culprit, one checked the 9 calls at the limit: the estimate of the 9
	 * calls plus GAS_MARGIN */
	assert_int_equal(e->fk.calls, 2);
	assert_int_equal(e->fk.gas_checks, 1);
	assert_int_equal(u->gas_limit, (30000 + 40000 * 9) * 5 / 4);
	assert_int_equal(view(e, 3)->st.failures, 1);
	assert_false(view(e, 3)->st.inflight);
	for (int i = 0; i < NF; i++)
		if (i != 3) {
			assert_true(view(e, i)->st.inflight);
			assert_memory_equal(view(e, i)->inf_id, e->fk.ids[0], 16);
		}

	/* a restart keeps every member in flight under the batch's id, and re-publishes it */
	gt_close(e->g);
	open_gate(e);
	for (int i = 0; i < NF; i++)
		assert_int_equal(view(e, i)->st.inflight, i != 3);
	e->fk.nframes = 0;
	step(e, 2 * S);
	assert_true(e->fk.nframes >= 1);
	assert_string_equal(e->fk.topics[0], "price.update.batch");
	uint8_t id[16];
	memcpy(id, view(e, 0)->inf_id, 16);
	assert_memory_equal(e->fk.ids[0], id, 16);

	/* confirmed: every member but F5 landed (F5 left out by the signer): F5 fails, the rest succeed */
	static sc_price_update b;
	b = e->fk.upd[0];
	chain_lands(e, &b, 5);
	batch_status(e, SC_TX_CONFIRMED, id, 300000);
	for (int i = 0; i < NF; i++) {
		assert_false(view(e, i)->st.inflight);
		assert_int_equal(view(e, i)->st.failures, i == 3 || i == 5);
	}
	assert_true(view(e, 0)->st.updated_at_s == now(e) / S);
	assert_true(metric_has("gate_landed_gas_total{mode=\"batched\"} 300000"));
	assert_true(metric_has("gate_landed_updates_total{mode=\"batched\"} 8"));
	assert_true(metric_has("gate_batch_culprits_total 1"));

	/* the failing feeds back off: a new move 6 s later sends the 8 others, not F3 nor F5 */
	e->fk.nframes = 0;
	e->mono += 6 * S;
	e->fk.bad[3] = 0;
	all_aggs(e, 102100000000ull);
	step(e, 250 * MS);
	assert_int_equal(e->fk.nframes, 1);
	assert_int_equal(e->fk.upd[0].batch_count, 8);
	assert_false(in_batch(&e->fk.upd[0], 3));
	assert_false(in_batch(&e->fk.upd[0], 5));

	/* the batch transaction fails as a whole: every member fails once */
	memcpy(id, e->fk.ids[0], 16);
	batch_status(e, SC_TX_FAILED, id, 0);
	for (int i = 0; i < NF; i++)
		if (i != 3 && i != 5) {
			assert_false(view(e, i)->st.inflight);
			assert_int_equal(view(e, i)->st.failures, 1);
		}
}

static void
test_whole_revert_halving(void **state)
{
	env *e = *state;
	/* a contract that does not catch: a bad call reverts the whole batch; halving isolates two */
	e->fk.catches = 0;
	e->fk.bad[2] = e->fk.bad[7] = 1;
	all_aggs(e, 101000000000ull);
	step(e, 250 * MS);
	assert_int_equal(e->fk.nframes, 1);
	assert_int_equal(e->fk.upd[0].batch_count, NF - 2);
	assert_false(in_batch(&e->fk.upd[0], 2));
	assert_false(in_batch(&e->fk.upd[0], 7));
	assert_true(e->fk.calls > 2);
	assert_int_equal(view(e, 2)->st.failures, 1);
	assert_int_equal(view(e, 7)->st.failures, 1);
	assert_int_equal(view(e, 0)->st.failures, 0);
}

static void
test_aggregate3_limits(void **state)
{
	env *e = *state;
	/* aggregate3, at most 4 per batch and 170000 gas: ten due feeds go out over several batches */
	gt_close(e->g);
	e->cfg.batch_call = CB_AGGREGATE3;
	e->cfg.batch_max = 4;
	e->cfg.gas_limit_max = 170000; /* 30000 + 40000 x 3 fits, x 4 does not: halved to 2 */
	e->fk.kind = CB_AGGREGATE3;
	open_gate(e);
	step(e, 0);
	all_aggs(e, 101000000000ull);
	for (int t = 0; t < 8 && e->fk.nframes < 5; t++)
		step(e, 250 * MS);
	size_t feeds = 0;
	for (size_t k = 0; k < e->fk.nframes; k++) {
		assert_int_equal(e->fk.upd[k].batch_call, SC_BATCH_AGGREGATE3);
		assert_int_equal(e->fk.upd[k].batch_count, 2);
		assert_true(e->fk.upd[k].gas_limit <= 170000);
		feeds += e->fk.upd[k].batch_count;
	}
	assert_int_equal(feeds, NF);
	/* a lone due feed goes through the batch contract too (the aggregators trust it, maybe not the key) */
	e->fk.nframes = 0;
	e->mono += 10 * S;
	static sc_price_update b;
	for (int k = 0; k < 5; k++) {
		b = e->fk.upd[k];
		chain_lands(e, &b, -1);
	}
	step(e, 31 * S); /* polls: every member seen landed */
	for (int i = 0; i < NF; i++)
		assert_false(view(e, i)->st.inflight);
	e->fk.nframes = 0;
	agg(e, 4, 110000000000ull);
	step(e, 250 * MS);
	assert_int_equal(e->fk.nframes, 1);
	assert_string_equal(e->fk.topics[0], "price.update.batch");
	assert_int_equal(e->fk.upd[0].batch_call, SC_BATCH_AGGREGATE3);
	assert_int_equal(e->fk.upd[0].batch_count, 1);
	assert_true(in_batch(&e->fk.upd[0], 4));
}

static void
test_short_estimate(void **state)
{
	env *e = *state;
	/* the estimate stops where the catching contract succeeds with its calls failing: the gate
	 * checks the batch at the limit it will send and raises the limit until every call passes */
	e->fk.need_per_call = 90000;
	all_aggs(e, 101000000000ull);
	step(e, 250 * MS);
	assert_int_equal(e->fk.nframes, 1);
	const sc_price_update *u = &e->fk.upd[0];
	assert_int_equal(u->batch_count, NF);
	assert_true(u->gas_limit >= 30000 + 90000 * NF);
	assert_true(e->fk.gas_checks >= 2);
	/* never above GAS_LIMIT_MAX: a batch that cannot pass under it is halved, the rest follows */
	gt_close(e->g);
	e->cfg.gas_limit_max = 500000; /* 30000 + 90000 x 5 = 480000 fits, x 10 does not */
	e->cfg.state_dir = e->dir;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s/*", e->dir);
	assert_int_equal(system(cmd), 0);
	e->fk.nframes = 0;
	open_gate(e);
	step(e, 0);
	all_aggs(e, 101000000000ull);
	for (int t = 0; t < 4 && e->fk.nframes < 2; t++)
		step(e, 250 * MS);
	assert_int_equal(e->fk.nframes, 2);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(e->fk.upd[k].batch_count, NF / 2);
		assert_true(e->fk.upd[k].gas_limit <= 500000 && e->fk.upd[k].gas_limit >= 30000 + 90000 * NF / 2);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ten_feeds_one_culprit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_zero_turn_is_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checked_batch_gas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_gas_reuse_bound_in_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_confirmed_batches_read_together, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whole_revert_halving, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aggregate3_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_estimate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_landed_late_counted, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
