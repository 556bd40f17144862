/*
 * gate_test.c - the gate's core (gate.h) with a fake chain (latestRoundData answers set by the
 * test), a fake bus (frames captured and decoded back) and a fake clock: first update through
 * the outbox, re-published with the same id until a tx.status acks it, confirmed answer taken,
 * heartbeat from the on-chain updatedAt, and a restart that keeps the in-flight update.
 * Issue 7: no update from an aggregate older than the median's window (quorum lost) over many
 * heartbeats; the gas limit from the estimate; a reverting call or failing transactions are
 * tried at most BREAKER_AFTER times (backoff), one update_failing alert, the breaker survives a
 * restart and a reset reopens the feed; RPC down raises rpc_unreachable once.
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
#include "bus/bus.h"
#include "base/rt_http.h"
#include "base/hex.h"

/* ---- fakes ----------------------------------------------------------------------------------- */

typedef struct {
	gc_round latest;
	int latest_rc; /* RPC_OK or an error */
	int reads;
	uint8_t ids[64][16]; /* published frames */
	sc_price_update upd[64];
	size_t nframes;
	int alerts;
	char last_alert_kind[64];
	int last_alert_status;
	char last_alert_text[320];
	char kinds[16][40]; /* kind and status of every alert, in order */
	/* eth_estimateGas */
	int est_rc; /* RPC_OK, RPC_ENODE (revert: est_data), RPC_ETRANSPORT */
	uint64_t est_gas;
	const char *est_data;
	int estimates;
	uint8_t est_from[20];
	uint8_t est_call[68];
	size_t est_len;
} fake;

static int
f_estimate(void *ctx, const uint8_t from[20], const uint8_t to[20], const uint8_t *data, size_t len, uint64_t *gas,
           rpc_error *e)
{
	fake *f = ctx;
	(void)to;
	f->estimates++;
	memcpy(f->est_from, from, 20);
	assert_true(len <= sizeof f->est_call);
	memcpy(f->est_call, data, len);
	f->est_len = len;
	if (f->est_rc == RPC_OK) {
		*gas = f->est_gas;
		return RPC_OK;
	}
	memset(e, 0, sizeof *e);
	if (f->est_rc == RPC_ENODE) {
		e->code = 3;
		snprintf(e->msg, sizeof e->msg, "execution reverted");
		snprintf(e->data, sizeof e->data, "%s", f->est_data ? f->est_data : "");
	} else {
		e->transport = RPC_T_CONNECT;
		snprintf(e->msg, sizeof e->msg, "connection refused");
	}
	return f->est_rc;
}

static int
f_latest(void *ctx, const uint8_t agg[20], gc_round *r, rpc_error *e)
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

static int
f_oracle_round(void *ctx, const uint8_t agg[20], const uint8_t oracle[20], uint64_t *round, rpc_error *e)
{
	(void)ctx, (void)agg, (void)oracle, (void)e;
	*round = 77;
	return RPC_OK;
}

static int
f_publish(void *ctx, const char *topic, const char *type, const uint8_t id[16], const uint8_t *body, size_t len)
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

static int
f_alert(void *ctx, int severity, int status, const char *kind, const char *key, const char *text,
        const char *const *labels)
{
	(void)severity, (void)key, (void)labels;
	fake *f = ctx;
	if (f->alerts < 16)
		snprintf(f->kinds[f->alerts], sizeof f->kinds[0], "%s:%s", kind,
		         status == SC_ALERT_FIRING ? "firing" : "resolved");
	f->alerts++;
	snprintf(f->last_alert_kind, sizeof f->last_alert_kind, "%s", kind);
	snprintf(f->last_alert_text, sizeof f->last_alert_text, "%s", text);
	f->last_alert_status = status;
	return BUS_OK;
}

/* ---- helpers --------------------------------------------------------------------------------- */

typedef struct {
	char dir[64];
	fake fk;
	gt *g;
	gf_feed feed;
	gt_cfg cfg;
	uint64_t mono; /* the fake clock; wall = T0 + mono */
} env;

static u256
v64(uint64_t x)
{
	u256 v;
	u256_from_u64(&v, x);
	return v;
}

static void
open_gate(env *e)
{
	char err[256];
	gt_io io = { .ctx = &e->fk,
		     .read_latest = f_latest,
		     .read_oracle_round = f_oracle_round,
		     .estimate_gas = f_estimate,
		     .chain_id = gtt_chain_id,
		     .publish = f_publish,
		     .alert = f_alert };
	e->g = gt_open(&e->cfg, &e->feed, 1, &io, err, sizeof err);
	if (e->g == NULL)
		fail_msg("gt_open: %s", err);
}

static int
setup(void **state)
{
	env *e = calloc(1, sizeof *e);
	snprintf(e->dir, sizeof e->dir, "/tmp/gate_test.XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	gtt_feed(&e->feed, "ETH-USD", 0xaa, 60000);
	e->cfg = gtt_cfg(e->dir);
	e->cfg.agg_max_age_ms = 60000;
	e->fk.latest_rc = RPC_OK;
	e->fk.est_rc = RPC_OK;
	e->fk.est_gas = 207292;
	e->mono = 1 * S;
	open_gate(e);
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
	free(e);
	return 0;
}

static uint64_t
now(const env *e)
{
	return T0 + e->mono;
}

static void
step(env *e, uint64_t advance_ns)
{
	e->mono += advance_ns;
	gt_step(e->g, now(e), e->mono);
}

static void
agg_at(env *e, uint64_t median, uint64_t oldest_ns, uint64_t window_ms)
{
	gtt_agg(e->g, "ETH-USD", median, 2, oldest_ns, window_ms, now(e), e->mono);
}

static void
agg(env *e, uint64_t median)
{
	gtt_agg(e->g, "ETH-USD", median, 2, now(e), 0, now(e), e->mono);
}

static void
status(env *e, int state, const uint8_t id[16], uint64_t answer)
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

/* Whether /health names key as a reason now. */
static int
health_has(const char *key)
{
	rt_buf b = { 0 };
	rt_health_json(&b);
	rt_buf_append(&b, "", 1); /* NUL-terminate */
	char want[80];
	snprintf(want, sizeof want, "\"key\":\"%s\"", key);
	int has = b.data && strstr((const char *)b.data, want) != NULL;
	rt_buf_free(&b);
	return has;
}

/* Alerts of kind:status so far. */
static int
alerts_of(const fake *f, const char *kind_status)
{
	int n = 0;
	for (int i = 0; i < f->alerts && i < 16; i++)
		n += strcmp(f->kinds[i], kind_status) == 0;
	return n;
}

/* Distinct update ids published so far. */
static size_t
distinct(const fake *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->nframes; i++)
		if (i == 0 || memcmp(f->ids[i], f->ids[i - 1], 16) != 0)
			n++;
	return n;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void
test_first_outbox_ack(void **state)
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

static void
test_within_deviation_heartbeat(void **state)
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

static void
test_restart_keeps_inflight(void **state)
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

static void
test_chain_unknown_holds(void **state)
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

/* Issue 7.1: two of three sources down, the median publishes nothing; the gate's last aggregate
 * (window 3 s) must not be sent as a heartbeat, however many heartbeats pass. */
static void
test_quorum_lost_no_heartbeat(void **state)
{
	env *e = *state;
	e->feed.heartbeat_ms = 6000;
	e->feed.min_interval_ms = 1000;
	gt_close(e->g);
	open_gate(e);
	e->fk.latest.round_id = v64(3);
	e->fk.latest.answer = v64(100);
	e->fk.latest.updated_at_s = now(e) / S;
	step(e, 0);
	agg_at(e, 100, now(e), 3000); /* the last good aggregate */
	assert_int_equal(e->fk.nframes, 0);
	assert_int_equal(e->fk.alerts, 0);
	for (int i = 0; i < 4 * 60; i++) /* a minute: ten heartbeats */
		step(e, 250 * MS);
	assert_int_equal(e->fk.nframes, 0);
	assert_int_equal(e->fk.estimates, 0);
	/* said once: alert, health; and the on-chain answer is now stale for consumers too */
	assert_int_equal(alerts_of(&e->fk, "aggregate_stale:firing"), 1);
	assert_int_equal(alerts_of(&e->fk, "feed_stale:firing"), 1);
	assert_int_equal(e->fk.alerts, 2);
	assert_true(health_has("aggregate:ETH-USD"));
	/* A fresh aggregate: resolved, and the heartbeat goes (the chain's answer is a minute old). */
	agg_at(e, 100, now(e), 3000);
	assert_int_equal(alerts_of(&e->fk, "aggregate_stale:resolved"), 1);
	assert_false(health_has("aggregate:ETH-USD"));
	assert_int_equal(e->fk.nframes, 1);
	assert_int_equal(e->fk.upd[0].reason, SC_REASON_HEARTBEAT);
	/* An aggregate already older than its window when it arrives is not used either. */
	status(e, SC_TX_CONFIRMED, e->fk.ids[0], 100);
	step(e, 10 * S);
	agg_at(e, 200, now(e) - 3001 * MS, 3000);
	assert_int_equal(distinct(&e->fk), 1);
}

static void
test_gas_limit_from_estimate(void **state)
{
	env *e = *state;
	step(e, 0);
	agg(e, 5);
	assert_int_equal(e->fk.nframes, 1);
	assert_int_equal(e->fk.estimates, 1);
	/* 207,292 (FluxAggregator's first submit) * 1.25, rounded up */
	assert_int_equal(e->fk.upd[0].gas_limit, 259115);
	assert_int_equal(e->fk.est_from[0], 0x70);
	/* the exact call: updateAnswer(int256) 5 */
	assert_int_equal(e->fk.est_len, 36);
	assert_memory_equal(e->fk.est_call, "\xa8\x7a\x20\xce", 4); /* cast sig "updateAnswer(int256)" */
	assert_int_equal(e->fk.est_call[35], 5);
	/* capped by GAS_LIMIT_MAX */
	status(e, SC_TX_CONFIRMED, e->fk.ids[0], 5);
	e->fk.est_gas = 1900000;
	step(e, 10 * S);
	agg(e, 500);
	assert_int_equal(distinct(&e->fk), 2);
	assert_int_equal(e->fk.upd[e->fk.nframes - 1].gas_limit, 2000000);
	/* over the cap: not published, a failure */
	status(e, SC_TX_CONFIRMED, e->fk.ids[e->fk.nframes - 1], 500);
	e->fk.est_gas = 2000001;
	step(e, 10 * S);
	agg(e, 5000);
	assert_int_equal(distinct(&e->fk), 2);
	assert_int_equal(gt_view(e->g, "ETH-USD")->st.failures, 1);
}

/* Issue 7.2: every attempt reverts. At most BREAKER_AFTER attempts over an hour, one alert. */
static void
test_revert_loop_breaker(void **state)
{
	env *e = *state;
	e->fk.est_rc = RPC_ENODE;
	/* Error("not enabled oracle"), as FluxAggregator says to an oracle it does not know */
	e->fk.est_data =
	        "0x08c379a0000000000000000000000000000000000000000000000000000000000000002000000000000000000000"
	        "000000000000000000000000000000000000000000126e6f7420656e61626c6564206f7261636c650000000000"
	        "00000000000000000000";
	step(e, 0);
	for (int i = 0; i < 3600; i++) {
		agg(e, 5);
		step(e, 1 * S);
	}
	assert_int_equal(e->fk.nframes, 0);
	assert_int_equal(e->fk.estimates, 5);
	assert_int_equal(e->fk.alerts, 1);
	assert_string_equal(e->fk.last_alert_kind, "update_failing");
	assert_non_null(strstr(e->fk.last_alert_text, "reverted: not enabled oracle"));
	assert_non_null(strstr(e->fk.last_alert_text, "5 consecutive"));
	assert_true(gt_view(e->g, "ETH-USD")->st.breaker_open);
	assert_true(health_has("breaker:ETH-USD"));
	/* A restart does not close it. */
	gt_close(e->g);
	open_gate(e);
	assert_true(gt_view(e->g, "ETH-USD")->st.breaker_open);
	assert_int_equal(gt_view(e->g, "ETH-USD")->st.failures, 5);
	for (int i = 0; i < 60; i++) {
		agg(e, 5);
		step(e, 1 * S);
	}
	assert_int_equal(e->fk.estimates, 5);
	/* The reset: resolved, and the next decision goes out (the contract was fixed meanwhile). */
	int was;
	uint32_t n;
	assert_int_equal(gt_reset(e->g, "BTC-USD", &was, &n), -1);
	assert_int_equal(gt_reset(e->g, "ETH-USD", &was, &n), 0);
	assert_true(was);
	assert_int_equal(n, 5);
	assert_int_equal(e->fk.alerts, 2);
	assert_int_equal(e->fk.last_alert_status, SC_ALERT_RESOLVED);
	assert_false(health_has("breaker:ETH-USD"));
	e->fk.est_rc = RPC_OK;
	agg(e, 5);
	assert_int_equal(e->fk.nframes, 1);
	gt_close(e->g);
	open_gate(e);
	assert_false(gt_view(e->g, "ETH-USD")->st.breaker_open);
}

/* Issue 7.2 as it happened: every transaction fails out of gas on chain. */
static void
test_failed_transactions_breaker(void **state)
{
	env *e = *state;
	step(e, 0);
	uint64_t gaps[8];
	size_t handled = 0;
	for (int i = 0; i < 7200; i++) {
		agg(e, 5);
		step(e, 1 * S);
		if (distinct(&e->fk) > handled) { /* a new update: the chain fails it */
			size_t k = ++handled;
			assert_true(k <= 5);
			gaps[k - 1] = e->mono;
			sc_tx_status s;
			memset(&s, 0, sizeof s);
			s.state = SC_TX_FAILED;
			snprintf(s.feed, sizeof s.feed, "ETH-USD");
			hex_encode(e->fk.ids[e->fk.nframes - 1], 16, 0, s.ref);
			snprintf(s.error_text, sizeof s.error_text, "out of gas (used 200000 of 200000)");
			gt_on_status(e->g, &s, now(e), e->mono);
		}
	}
	assert_int_equal(distinct(&e->fk), 5);
	/* backoff: MIN_INTERVAL (5 s) x 2^n between attempts */
	assert_true(gaps[1] - gaps[0] >= 10 * S);
	assert_true(gaps[2] - gaps[1] >= 20 * S);
	assert_true(gaps[3] - gaps[2] >= 40 * S);
	assert_true(gaps[4] - gaps[3] >= 80 * S);
	assert_int_equal(e->fk.alerts, 1);
	assert_non_null(strstr(e->fk.last_alert_text, "out of gas (used 200000 of 200000)"));
}

static void
test_success_clears_count(void **state)
{
	env *e = *state;
	step(e, 0);
	agg(e, 5);
	sc_tx_status s;
	memset(&s, 0, sizeof s);
	s.state = SC_TX_FAILED;
	snprintf(s.feed, sizeof s.feed, "ETH-USD");
	hex_encode(e->fk.ids[0], 16, 0, s.ref);
	gt_on_status(e->g, &s, now(e), e->mono);
	assert_int_equal(gt_view(e->g, "ETH-USD")->st.failures, 1);
	step(e, 11 * S);
	agg(e, 5);
	assert_int_equal(distinct(&e->fk), 2);
	status(e, SC_TX_CONFIRMED, e->fk.ids[e->fk.nframes - 1], 5);
	assert_int_equal(gt_view(e->g, "ETH-USD")->st.failures, 0);
}

/* Issue 7.3: RPC down is said once (firing), and once when it is back (resolved). */
static void
test_rpc_down_alert(void **state)
{
	env *e = *state;
	e->fk.latest_rc = RPC_ETRANSPORT;
	for (int i = 0; i < 10; i++)
		step(e, 1 * S);
	assert_int_equal(e->fk.alerts, 1);
	assert_string_equal(e->fk.last_alert_kind, "rpc_unreachable");
	assert_int_equal(e->fk.last_alert_status, SC_ALERT_FIRING);
	e->fk.latest_rc = RPC_OK;
	for (int i = 0; i < 10; i++)
		step(e, 1 * S);
	assert_int_equal(e->fk.alerts, 2);
	assert_int_equal(e->fk.last_alert_status, SC_ALERT_RESOLVED);
	/* an estimate that cannot be asked: held, retried, no failure counted */
	e->fk.est_rc = RPC_ETRANSPORT;
	agg(e, 5);
	assert_int_equal(e->fk.nframes, 0);
	assert_int_equal(e->fk.alerts, 3);
	assert_int_equal(gt_view(e->g, "ETH-USD")->st.failures, 0);
	e->fk.est_rc = RPC_OK;
	step(e, 1100 * MS);
	assert_int_equal(e->fk.nframes, 1);
	assert_int_equal(e->fk.alerts, 4);
}

/* A move held only by the min interval goes out when the interval ends, not on the 250 ms tick
 * after it (publisher_scale.sh: those moves waited 0-250 ms more); a dropped update is decided
 * again when its status arrives, not on the next tick. */
static void
test_held_move_goes_when_the_hold_ends(void **state)
{
	env *e = *state; /* min interval 5 s */
	e->fk.latest.round_id = v64(3);
	e->fk.latest.answer = v64(300000000000ull);
	e->fk.latest.updated_at_s = now(e) / S - 10;
	step(e, 0);
	agg(e, 301500000000ull); /* deviation, at 1 s */
	assert_int_equal(distinct(&e->fk), 1);
	step(e, 1 * S);
	status(e, SC_TX_CONFIRMED, e->fk.ids[0], 301500000000ull); /* on chain at 2 s */
	step(e, 100 * MS);
	agg(e, 303100000000ull); /* 0.53 % more: held by the min interval until 2 s + 5 s */
	assert_int_equal(distinct(&e->fk), 1);
	step(e, 4800 * MS); /* 6.9 s: the tick runs now, the next one at 7.15 s */
	assert_int_equal(distinct(&e->fk), 1);
	assert_int_equal(gt_next_wake(e->g), 7 * S); /* the loop sleeps until the hold ends */
	step(e, 100 * MS);
	assert_int_equal(distinct(&e->fk), 2);
	sc_price_update *u = &e->fk.upd[e->fk.nframes - 1];
	assert_int_equal(u->decided_at_ns, now(e));
	assert_int_equal(u256_low64(&u->answer), 303100000000ull);
	uint8_t id[16];
	memcpy(id, e->fk.ids[e->fk.nframes - 1], 16);
	status(e, SC_TX_PENDING, id, 0);
	step(e, 5500 * MS); /* 12.5 s: in flight; the next tick at 12.75 s */
	assert_int_equal(distinct(&e->fk), 2);
	e->mono += 100 * MS;
	status(e, SC_TX_DROPPED, id, 0); /* never mined: free, and 5.6 s since the last publish */
	assert_int_equal(distinct(&e->fk), 3);
	assert_int_equal(e->fk.upd[e->fk.nframes - 1].decided_at_ns, now(e));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_outbox_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_within_deviation_heartbeat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_keeps_inflight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_unknown_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quorum_lost_no_heartbeat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gas_limit_from_estimate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revert_loop_breaker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_transactions_breaker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_success_clears_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rpc_down_alert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_move_goes_when_the_hold_ends, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
