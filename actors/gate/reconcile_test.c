/*
 * reconcile_test.c - the gate's view of the chain from polls and tx.status (reconcile.h): our
 * update confirmed then a lagging poll, a late "final" of an older update, someone else's update,
 * failures and drops, an in-flight update seen on chain without its status, and the trust window
 * after which a poll wins anyway.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "actors/gate/reconcile.h"

#define S     1000000000ull
#define TRUST (2 * S)

static u256
v64(uint64_t x)
{
	u256 v;
	u256_from_u64(&v, x);
	return v;
}

static gc_round
rd(uint64_t round, uint64_t answer, uint64_t updated_s)
{
	gc_round r;
	memset(&r, 0, sizeof r);
	r.round_id = v64(round);
	r.answer = v64(answer);
	r.updated_at_s = updated_s;
	return r;
}

static sc_tx_status
st(int state, uint64_t answer, uint64_t block, uint64_t observed_ns)
{
	sc_tx_status s;
	memset(&s, 0, sizeof s);
	s.state = state;
	snprintf(s.feed, sizeof s.feed, "ETH-USD");
	s.answer = v64(answer);
	s.block_number = block;
	s.observed_at_ns = observed_ns;
	return s;
}

static const uint8_t ID_A[16] = { 1, 2, 3 }, ID_B[16] = { 9, 9, 9 };

/* A view that knows round 4 = 100 at t=1000 s, with our update of 110 in flight since 1005 s. */
static gr_view
inflight_view(void)
{
	gr_view v;
	memset(&v, 0, sizeof v);
	gc_round r = rd(4, 100, 1000);
	assert_int_equal(gr_poll(&v, &r, 1 * S, TRUST), GR_ADOPTED | GR_CHANGED);
	v.st.inflight = 1;
	v.st.inflight_since_ns = 1005 * S;
	memcpy(v.inf_id, ID_A, 16);
	v.inf_answer = v64(110);
	return v;
}

static void
test_unknown_then_poll(void **state)
{
	(void)state;
	gr_view v;
	memset(&v, 0, sizeof v);
	gc_round r = rd(0, 0, 0);
	assert_int_equal(gr_poll(&v, &r, 1, TRUST), GR_ADOPTED | GR_CHANGED); /* no answer yet is known too */
	assert_true(v.st.known);
	assert_int_equal(v.st.updated_at_s, 0);
	assert_int_equal(gr_poll(&v, &r, 2, TRUST), GR_ADOPTED); /* same read: not a change */
}

static void
test_ours_confirmed_then_lagging_poll(void **state)
{
	(void)state;
	gr_view v = inflight_view();
	sc_tx_status s = st(SC_TX_CONFIRMED, 110, 50, 1007 * S);
	assert_int_equal(gr_status(&v, &s, ID_A, 0, 10 * S), GR_S_OURS_DONE);
	assert_false(v.st.inflight);
	assert_int_equal(u256_low64(&v.st.answer), 110);
	assert_int_equal(v.st.updated_at_s, 1007);
	assert_int_equal(u256_low64(&v.st.round_id), 5);
	/* A node behind: still round 4 = 100. Not adopted within the trust window... */
	gc_round old = rd(4, 100, 1000);
	assert_int_equal(gr_poll(&v, &old, 11 * S, TRUST), 0);
	assert_int_equal(u256_low64(&v.st.answer), 110);
	/* ...adopted once the status is older than it (the chain is the authority in the end). */
	assert_int_equal(gr_poll(&v, &old, 10 * S + TRUST + 1, TRUST), GR_ADOPTED | GR_CHANGED);
	assert_int_equal(u256_low64(&v.st.answer), 100);
	assert_int_equal(v.status_mono, 0);
}

static void
test_poll_catches_up(void **state)
{
	(void)state;
	gr_view v = inflight_view();
	sc_tx_status s = st(SC_TX_CONFIRMED, 110, 50, 1007 * S);
	gr_status(&v, &s, ID_A, 0, 10 * S);
	gc_round r = rd(5, 110, 1006); /* the exact round and time */
	assert_int_equal(gr_poll(&v, &r, 11 * S, TRUST), GR_ADOPTED | GR_CHANGED);
	assert_int_equal(v.st.updated_at_s, 1006);
	assert_int_equal(v.status_mono, 0);
}

static void
test_late_final_of_older_update(void **state)
{
	(void)state;
	gr_view v = inflight_view();
	sc_tx_status c = st(SC_TX_CONFIRMED, 110, 50, 1007 * S);
	gr_status(&v, &c, ID_A, 0, 10 * S);
	/* The final of the update BEFORE (answer 100, block 40, another id): ignored. */
	sc_tx_status f = st(SC_TX_FINAL, 100, 40, 1010 * S);
	assert_int_equal(gr_status(&v, &f, ID_B, 0, 11 * S), GR_S_IGNORED);
	assert_int_equal(u256_low64(&v.st.answer), 110);
	/* Not even from a newer block: a final that is not ours is never taken. */
	f.block_number = 60;
	assert_int_equal(gr_status(&v, &f, ID_B, 0, 11 * S), GR_S_IGNORED);
	assert_int_equal(u256_low64(&v.st.answer), 110);
}

static void
test_someone_elses_update(void **state)
{
	(void)state;
	gr_view v = inflight_view();
	v.st.inflight = 0;
	sc_tx_status s = st(SC_TX_CONFIRMED, 120, 70, 1020 * S);
	assert_int_equal(gr_status(&v, &s, NULL, 0, 20 * S), GR_S_OTHERS);
	assert_int_equal(u256_low64(&v.st.answer), 120);
	assert_int_equal(v.st.updated_at_s, 1020);
	assert_int_equal(u256_low64(&v.st.round_id), 4); /* the poll brings the exact round */
	/* An older block, or the same answer: not taken. */
	sc_tx_status o = st(SC_TX_CONFIRMED, 130, 69, 1021 * S);
	assert_int_equal(gr_status(&v, &o, NULL, 0, 21 * S), GR_S_IGNORED);
	sc_tx_status same = st(SC_TX_CONFIRMED, 120, 80, 1022 * S);
	assert_int_equal(gr_status(&v, &same, NULL, 0, 22 * S), GR_S_IGNORED);
	/* Unknown view: nothing to compare with, wait for the poll. */
	gr_view u;
	memset(&u, 0, sizeof u);
	assert_int_equal(gr_status(&u, &s, NULL, 0, 1), GR_S_IGNORED);
	assert_false(u.st.known);
}

static void
test_failed_and_dropped(void **state)
{
	(void)state;
	gr_view v = inflight_view();
	sc_tx_status f = st(SC_TX_FAILED, 0, 51, 0);
	assert_int_equal(gr_status(&v, &f, ID_B, 0, 1), GR_S_IGNORED); /* not ours */
	assert_true(v.st.inflight);
	assert_int_equal(gr_status(&v, &f, ID_A, 0, 1), GR_S_OURS_FAILED);
	assert_false(v.st.inflight);
	assert_int_equal(u256_low64(&v.st.answer), 100); /* unchanged */
	gr_view w = inflight_view();
	sc_tx_status d = st(SC_TX_DROPPED, 0, 0, 0);
	assert_int_equal(gr_status(&w, &d, ID_A, 0, 1), GR_S_OURS_DROPPED);
	assert_false(w.st.inflight);
	/* Pending/included of ours: nothing yet. */
	gr_view x = inflight_view();
	sc_tx_status p = st(SC_TX_PENDING, 0, 0, 0);
	assert_int_equal(gr_status(&x, &p, ID_A, 0, 1), GR_S_IGNORED);
	assert_true(x.st.inflight);
	/* A confirmed status without observed_at takes now. */
	sc_tx_status c = st(SC_TX_CONFIRMED, 110, 52, 0);
	assert_int_equal(gr_status(&x, &c, ID_A, 1234 * S + 5, 2), GR_S_OURS_DONE);
	assert_int_equal(x.st.updated_at_s, 1234);
}

static void
test_landed_without_status(void **state)
{
	(void)state;
	gr_view v = inflight_view();
	/* Our answer on chain, updated at 1004 s: one second before we decided still counts (the
	 * chain's time has second resolution). */
	gc_round r = rd(5, 110, 1004);
	assert_int_equal(gr_poll(&v, &r, 5 * S, TRUST), GR_ADOPTED | GR_CHANGED | GR_LANDED);
	assert_false(v.st.inflight);
	/* The same answer from before we decided (1003 s) is not ours. */
	gr_view w = inflight_view();
	gc_round e = rd(5, 110, 1003);
	assert_int_equal(gr_poll(&w, &e, 5 * S, TRUST), GR_ADOPTED | GR_CHANGED);
	assert_true(w.st.inflight);
	/* Another answer: still in flight. */
	gc_round o = rd(5, 111, 1009);
	assert_int_equal(gr_poll(&w, &o, 6 * S, TRUST) & GR_LANDED, 0);
	assert_true(w.st.inflight);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_then_poll),     cmocka_unit_test(test_ours_confirmed_then_lagging_poll),
		cmocka_unit_test(test_poll_catches_up),       cmocka_unit_test(test_late_final_of_older_update),
		cmocka_unit_test(test_someone_elses_update),  cmocka_unit_test(test_failed_and_dropped),
		cmocka_unit_test(test_landed_without_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
