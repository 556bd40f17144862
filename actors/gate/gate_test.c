/*
 * gate_test.c - the gate's core (gate.h) with a fake chain (latestRoundData answers set by the
 * test), a fake bus (frames captured and decoded back) and a fake clock: first update through
 * the outbox, re-published with the same id until a tx.status acks it, confirmed answer taken,
 * heartbeat from the on-chain updatedAt, and a restart that keeps the in-flight update.
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
#include "bus/bus.h"
#include "chain/hex.h"

#define S 1000000000ull
#define MS 1000000ull
#define T0 (1700000000ull * S) /* wall clock at mono 0 */

/* ---- fakes ----------------------------------------------------------------------------------- */

typedef struct {
	gc_round latest;
	int      latest_rc;      /* RPC_OK or an error */
	int      reads;
	uint8_t  ids[64][16];    /* published frames */
	sc_price_update upd[64];
	size_t   nframes;
	int      alerts;
	char     last_alert_kind[64];
	int      last_alert_status;
} fake;

static int f_latest(void *ctx, const uint8_t agg[20], gc_round *r, rpc_error *e)
{
	(void)agg;
	fake *f = ctx;
	f->reads++;
	if (f->latest_rc != RPC_OK) {
		memset(e, 0, sizeof *e);
		e->transport = RPC_T_CONNECT;
		snprintf(e->msg, sizeof e->msg, "connection refused");
		return f->latest_rc;
	}
	*r = f->latest;
	return RPC_OK;
}

static int f_oracle_round(void *ctx, const uint8_t agg[20], const uint8_t oracle[20], uint64_t *round, rpc_error *e)
{
	(void)ctx, (void)agg, (void)oracle, (void)e;
	*round = 77;
	return RPC_OK;
}

static uint64_t f_chain_id(void *ctx)
{
	(void)ctx;
	return 138;
}

static int f_publish(void *ctx, const char *topic, const char *type, const uint8_t id[16], const uint8_t *body,
                     size_t len)
{
	fake *f = ctx;
	assert_string_equal(type, "price.update");
	assert_string_equal(topic, "price.update.ETH-USD");
	assert_true(f->nframes < 64);
	sc_err se;
	assert_int_equal(sc_decode(&SC_PRICE_UPDATE, body, len, &f->upd[f->nframes], &se), 0);
	memcpy(f->ids[f->nframes++], id, 16);
	return BUS_OK;
}

static void f_alert(void *ctx, int severity, int status, const char *kind, const char *key, const char *text,
                    const char *const *labels)
{
	(void)severity, (void)key, (void)text, (void)labels;
	fake *f = ctx;
	f->alerts++;
	snprintf(f->last_alert_kind, sizeof f->last_alert_kind, "%s", kind);
	f->last_alert_status = status;
}

/* ---- helpers --------------------------------------------------------------------------------- */

typedef struct {
	char    dir[64];
	fake    fk;
	gt     *g;
	gf_feed feed;
	gt_cfg  cfg;
	uint64_t mono; /* the fake clock; wall = T0 + mono */
} env;

static u256 v64(uint64_t x)
{
	u256 v;
	u256_from_u64(&v, x);
	return v;
}

static void open_gate(env *e)
{
	char   err[256];
	gt_io  io = { .ctx = &e->fk, .read_latest = f_latest, .read_oracle_round = f_oracle_round,
	              .chain_id = f_chain_id, .publish = f_publish, .alert = f_alert };
	e->g = gt_open(&e->cfg, &e->feed, 1, &io, err, sizeof err);
	if (e->g == NULL)
		fail_msg("gt_open: %s", err);
}

static int setup(void **state)
{
	env *e = calloc(1, sizeof *e);
	snprintf(e->dir, sizeof e->dir, "/tmp/gate_test.XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->feed.feed, sizeof e->feed.feed, "ETH-USD");
	e->feed.aggregator[19] = 0xaa;
	e->feed.decimals = 8;
	e->feed.threshold_ppm = 5000;
	e->feed.heartbeat_ms = 60000;
	e->feed.min_interval_ms = 5000;
	e->cfg = (gt_cfg){ .state_dir = e->dir, .update_timeout_ms = 120000, .poll_ms = 30000, .stale_factor = 2,
	                   .agg_max_age_ms = 60000 };
	e->fk.latest_rc = RPC_OK;
	e->mono = 1 * S;
	open_gate(e);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;
	gt_close(e->g);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", e->dir);
	if (system(cmd) != 0)
		return -1;
	free(e);
	return 0;
}

static uint64_t now(const env *e) { return T0 + e->mono; }

static void step(env *e, uint64_t advance_ns)
{
	e->mono += advance_ns;
	gt_step(e->g, now(e), e->mono);
}

static void agg(env *e, uint64_t median)
{
	sc_price_agg a;
	memset(&a, 0, sizeof a);
	snprintf(a.feed, sizeof a.feed, "ETH-USD");
	a.median = v64(median);
	a.decimals = 8;
	a.used_count = 2;
	a.oldest_observed_at_ns = now(e);
	a.aggregated_at_ns = now(e);
	assert_int_equal(gt_on_agg(e->g, &a, "median-t", 9, now(e), e->mono), GT_AGG_TAKEN);
}

static void status(env *e, int state, const uint8_t id[16], uint64_t answer)
{
	sc_tx_status s;
	memset(&s, 0, sizeof s);
	s.state = state;
	snprintf(s.feed, sizeof s.feed, "ETH-USD");
	hex_encode(id, 16, 0, s.ref);
	s.answer = v64(answer);
	s.block_number = 10;
	s.observed_at_ns = now(e);
	gt_on_status(e->g, &s, now(e), e->mono);
}

/* Distinct update ids published so far. */
static size_t distinct(const fake *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->nframes; i++)
		if (i == 0 || memcmp(f->ids[i], f->ids[i - 1], 16) != 0)
			n++;
	return n;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_first_outbox_ack(void **state)
{
	env *e = *state;
	agg(e, 300000000000ull);
	assert_int_equal(e->fk.nframes, 0); /* chain not read yet: no_chain */
	step(e, 0);                         /* polls: no answer yet (updatedAt 0) */
	assert_int_equal(e->fk.reads, 1);
	agg(e, 300000000000ull);
	assert_int_equal(e->fk.nframes, 1);
	sc_price_update *u = &e->fk.upd[0];
	assert_int_equal(u->reason, SC_REASON_FIRST);
	assert_int_equal(u256_low64(&u->answer), 300000000000ull);
	assert_int_equal(u256_low64(&u->round_id), 1);
	assert_int_equal(u->chain_id, 138);
	assert_int_equal(u->contract[19], 0xaa);
	assert_string_equal(u->agg_origin, "median-t");
	assert_int_equal(u->agg_seq, 9);
	/* Not acked: re-published with the same id (outbox backoff ~1 s). */
	step(e, 1500 * MS);
	assert_true(e->fk.nframes >= 2);
	assert_memory_equal(e->fk.ids[0], e->fk.ids[e->fk.nframes - 1], 16);
	assert_int_equal(distinct(&e->fk), 1);
	/* A pending status acks it: no more frames; the update is still in flight. */
	status(e, SC_TX_PENDING, e->fk.ids[0], 0);
	size_t n = e->fk.nframes;
	for (int i = 0; i < 20; i++)
		step(e, 1 * S);
	assert_int_equal(e->fk.nframes, n);
	assert_true(gt_view(e->g, "ETH-USD")->st.inflight);
	/* Confirmed: the answer is taken and the feed is free. */
	status(e, SC_TX_CONFIRMED, e->fk.ids[0], 300000000000ull);
	const gr_view *v = gt_view(e->g, "ETH-USD");
	assert_false(v->st.inflight);
	assert_int_equal(u256_low64(&v->st.answer), 300000000000ull);
}

static void test_within_deviation_heartbeat(void **state)
{
	env *e = *state;
	e->fk.latest.round_id = v64(3);
	e->fk.latest.answer = v64(300000000000ull);
	e->fk.latest.updated_at_s = now(e) / S - 10;
	step(e, 0);
	agg(e, 301400000000ull); /* 0.4667 %: within */
	assert_int_equal(e->fk.nframes, 0);
	agg(e, 301500000000ull); /* 0.5 %: deviation */
	assert_int_equal(e->fk.nframes, 1);
	assert_int_equal(e->fk.upd[0].reason, SC_REASON_DEVIATION);
	assert_int_equal(e->fk.upd[0].deviation_ppm, 5000);
	assert_int_equal(u256_low64(&e->fk.upd[0].round_id), 4);
	status(e, SC_TX_CONFIRMED, e->fk.ids[0], 301500000000ull);
	e->fk.latest.round_id = v64(4); /* the chain agrees (later polls) */
	e->fk.latest.answer = v64(301500000000ull);
	e->fk.latest.updated_at_s = now(e) / S;
	/* Heartbeat 60 s after the confirmed answer's time, with a fresh aggregate. */
	size_t n = distinct(&e->fk);
	for (int i = 0; i < 59; i++) {
		step(e, 1 * S);
		agg(e, 301500000000ull);
	}
	assert_int_equal(distinct(&e->fk), n);
	for (int i = 0; i < 2; i++) {
		step(e, 1 * S);
		agg(e, 301500000000ull);
	}
	assert_int_equal(distinct(&e->fk), n + 1);
	assert_int_equal(e->fk.upd[e->fk.nframes - 1].reason, SC_REASON_HEARTBEAT);
}

static void test_restart_keeps_inflight(void **state)
{
	env *e = *state;
	step(e, 0);
	agg(e, 5);
	assert_int_equal(e->fk.nframes, 1);
	uint8_t id[16];
	memcpy(id, e->fk.ids[0], 16);
	gt_close(e->g);
	e->fk.nframes = 0;
	open_gate(e);
	const gr_view *v = gt_view(e->g, "ETH-USD");
	assert_true(v->st.inflight);
	assert_memory_equal(v->inf_id, id, 16);
	assert_int_equal(v->st.last_publish_ns, e->fk.upd[0].decided_at_ns);
	/* The outbox re-sends it (same id) and no second decision is taken. */
	step(e, 2 * S);
	assert_true(e->fk.nframes >= 1);
	assert_memory_equal(e->fk.ids[0], id, 16);
	agg(e, 6);
	assert_int_equal(distinct(&e->fk), 1);
}

static void test_chain_unknown_holds(void **state)
{
	env *e = *state;
	e->fk.latest_rc = RPC_ETRANSPORT;
	step(e, 0);
	agg(e, 5);
	assert_int_equal(e->fk.nframes, 0);
	/* Retried after a second while unknown. */
	int r = e->fk.reads;
	step(e, 500 * MS);
	assert_int_equal(e->fk.reads, r);
	step(e, 600 * MS);
	assert_int_equal(e->fk.reads, r + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_outbox_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_within_deviation_heartbeat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_keeps_inflight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_unknown_holds, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
