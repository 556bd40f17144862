/* lease_test.c - the signer.lease rules (lease.h) with a hand-driven monotonic clock: listening at
 * start, the own-echo requirement, the newer of two live signers yields (both sides agree, whatever
 * their wall clocks), a lease expires ttl after it was last heard, a released lease ends at once,
 * other addresses and chains are ignored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "actors/signer/lease.h"

#define MS 1000000ull
static const uint8_t addr[20] = { 0xf3, 0x9f };
static const uint8_t boot_a[16] = { 1 }, boot_b[16] = { 2 };

/* Two signers A (started at wall 100) and B (wall 200), same address, on one "bus". */
static void
lt_pair(sgl *a, sgl *b, uint64_t wall_a, uint64_t wall_b)
{
	sgl_init(a, 138, addr, "a", boot_a, wall_a, 6000 * MS, 0);
	sgl_init(b, 138, addr, "b", boot_b, wall_b, 6000 * MS, 0);
}

/* Both publish at now; each hears both. */
static void
lt_round(sgl *a, sgl *b, uint64_t now)
{
	sc_signer_lease la, lb;
	sgl_make(a, &la, 0, now);
	sgl_make(b, &lb, 0, now);
	sgl_on_lease(a, &la, now);
	sgl_on_lease(b, &lb, now);
	sgl_on_lease(a, &lb, now);
	sgl_on_lease(b, &la, now);
}

static void
test_alone(void **st)
{
	sgl a;
	sc_signer_lease m;
	char why[256];
	sgl_init(&a, 138, addr, "a", boot_a, 100, 6000 * MS, 1000 * MS);
	assert_int_equal(sgl_state(&a, 1000 * MS, why, sizeof why), SGL_LISTENING);
	sgl_make(&a, &m, 0, 5);
	assert_int_equal(m.seq, 1);
	assert_int_equal(m.ttl_ms, 6000);
	assert_int_equal(sgl_on_lease(&a, &m, 1001 * MS), SGL_EV_OWN);
	assert_int_equal(sgl_state(&a, 6999 * MS, why, sizeof why), SGL_LISTENING);
	assert_int_equal(sgl_state(&a, 7000 * MS, why, sizeof why), SGL_ACTIVE);
	assert_int_equal(sgl_state(&a, 7001 * MS, why, sizeof why), SGL_NO_ECHO); /* echo a ttl old */
	assert_non_null(strstr(why, "not heard back"));
	assert_int_equal(sgl_on_lease(&a, &m, 7001 * MS), SGL_EV_OWN);
	assert_int_equal(sgl_state(&a, 7001 * MS, why, sizeof why), SGL_ACTIVE);
	assert_int_equal(sgl_live_peers(&a, 7001 * MS), 0);
}

static void
test_newer_yields(void **st)
{
	sgl a, b;
	lt_pair(&a, &b, 100, 200);
	for (uint64_t t = 0; t <= 8000; t += 2000)
		lt_round(&a, &b, t * MS);
	assert_int_equal(sgl_state(&a, 8000 * MS, NULL, 0), SGL_ACTIVE);
	assert_int_equal(sgl_state(&b, 8000 * MS, NULL, 0), SGL_YIELD);
	assert_int_equal(sgl_live_peers(&a, 8000 * MS), 1);
	/* the same wall clock on both: the boot id decides, and both agree */
	lt_pair(&a, &b, 100, 100);
	for (uint64_t t = 0; t <= 8000; t += 2000)
		lt_round(&a, &b, t * MS);
	assert_int_equal(sgl_state(&a, 8000 * MS, NULL, 0) == SGL_YIELD,
	                 sgl_state(&b, 8000 * MS, NULL, 0) != SGL_YIELD);
	/* B's clock is wrong (ahead or behind): still exactly one yields */
	lt_pair(&a, &b, 300, 200);
	for (uint64_t t = 0; t <= 8000; t += 2000)
		lt_round(&a, &b, t * MS);
	assert_int_equal(sgl_state(&a, 8000 * MS, NULL, 0), SGL_YIELD);
	assert_int_equal(sgl_state(&b, 8000 * MS, NULL, 0), SGL_ACTIVE);
}

static void
test_first_hearing_is_new(void **st)
{
	sgl a, b;
	sc_signer_lease lb;
	lt_pair(&a, &b, 100, 200);
	sgl_make(&b, &lb, 0, 1);
	assert_int_equal(sgl_on_lease(&a, &lb, 1 * MS), SGL_EV_PEER_NEW);
	assert_int_equal(sgl_on_lease(&a, &lb, 2 * MS), SGL_EV_PEER);
	assert_int_equal(sgl_on_lease(&a, &lb, 9000 * MS), SGL_EV_PEER_NEW); /* it had expired */
}

static void
test_expiry_and_release(void **st)
{
	sgl a, b;
	sc_signer_lease la;
	lt_pair(&a, &b, 100, 200);
	for (uint64_t t = 0; t <= 8000; t += 2000)
		lt_round(&a, &b, t * MS);
	/* A dies at 8 s: B keeps hearing itself; it resumes 6 s after A's last lease, not before */
	sc_signer_lease lb;
	for (uint64_t t = 10000; t <= 14000; t += 2000) {
		sgl_make(&b, &lb, 0, t);
		sgl_on_lease(&b, &lb, t * MS);
	}
	assert_int_equal(sgl_state(&b, 13999 * MS, NULL, 0), SGL_YIELD);
	assert_int_equal(sgl_state(&b, 14000 * MS, NULL, 0), SGL_ACTIVE);
	/* graceful stop: the released lease ends A's lease at once */
	lt_pair(&a, &b, 100, 200);
	for (uint64_t t = 0; t <= 8000; t += 2000)
		lt_round(&a, &b, t * MS);
	sgl_make(&a, &la, 1, 8001);
	assert_int_equal(sgl_on_lease(&b, &la, 8001 * MS), SGL_EV_RELEASED);
	assert_int_equal(sgl_state(&b, 8002 * MS, NULL, 0), SGL_ACTIVE);
	/* a peer announcing a short ttl does not shorten ours */
	lt_pair(&a, &b, 100, 200);
	for (uint64_t t = 0; t <= 8000; t += 2000)
		lt_round(&a, &b, t * MS);
	sgl_make(&a, &la, 0, 8500);
	la.ttl_ms = 1;
	sgl_on_lease(&b, &la, 8500 * MS);
	assert_int_equal(sgl_state(&b, 9000 * MS, NULL, 0), SGL_YIELD);
}

static void
test_others_ignored(void **st)
{
	sgl a, b;
	sc_signer_lease lb;
	lt_pair(&a, &b, 100, 50);
	sgl_make(&b, &lb, 0, 1);
	lb.chain_id = 1;
	assert_int_equal(sgl_on_lease(&a, &lb, 1 * MS), SGL_EV_IGNORED);
	lb.chain_id = 138;
	lb.address[19] = 1;
	assert_int_equal(sgl_on_lease(&a, &lb, 1 * MS), SGL_EV_IGNORED);
	assert_int_equal(sgl_live_peers(&a, 1 * MS), 0);
}

static void
test_many_peers(void **st)
{
	sgl a;
	sc_signer_lease m;
	sgl_init(&a, 138, addr, "a", boot_a, 100, 6000 * MS, 0);
	for (int i = 0; i < 3 * SGL_PEERS; i++) {
		memset(&m, 0, sizeof m);
		m.chain_id = 138;
		memcpy(m.address, addr, 20);
		m.boot_id[0] = 0x80;
		m.boot_id[1] = (uint8_t)i;
		m.started_at_ns = 1000 + (uint64_t)i;
		m.ttl_ms = 6000;
		sgl_on_lease(&a, &m, (uint64_t)i * MS);
	}
	assert_int_equal(sgl_live_peers(&a, 30 * MS), SGL_PEERS);
	assert_int_equal(sgl_state(&a, 7000 * MS, NULL, 0), SGL_NO_ECHO); /* all newer: A does not yield */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alone),
		cmocka_unit_test(test_newer_yields),
		cmocka_unit_test(test_first_hearing_is_new),
		cmocka_unit_test(test_expiry_and_release),
		cmocka_unit_test(test_others_ignored),
		cmocka_unit_test(test_many_peers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
