/*
 * actor_test.c - the shared actor bus wiring: typed publish/decode round trip, a body of the wrong
 * type or shape is refused and counted, and a forged frame raises a forged_message alert.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/actor.h"
#include "bus/fwd.h"
#include "bus/rt_main.h"
#include "bus/rt_metrics.h"

static atomic_int fwd_stop;
static void *
fwd_main(void *arg)
{
	while (!atomic_load(&fwd_stop))
		bus_fwd_run(arg, 20, 100);
	return NULL;
}

static void
test_actor_roundtrip_and_forgery(void **state)
{
	(void)state;
	char err[160];
	bus_fwd *f = bus_fwd_open("inproc://act-in", "inproc://act-out", err, sizeof err);
	assert_non_null(f);
	pthread_t th;
	pthread_create(&th, NULL, fwd_main, f);

	/* the receiver trusts only key 0x11.. for price.update. */
	uint8_t sec[32];
	memset(sec, 0x11, 32);
	sig_key *good = sig_key_new(sec);
	char spec[128] = "price.update.=";
	for (int i = 0; i < 32; i++)
		snprintf(spec + strlen(spec), 3, "%02x", sig_key_pub(good)[i]);
	act_bus_cfg rc = { .pub_urls = "inproc://act-in", .sub_urls = "inproc://act-out", .trust = spec };
	act_bus_cfg pc = { .pub_urls = "inproc://act-in", .sub_urls = "inproc://act-out", .trust = "" };
	memset(pc.key, 0x22, 32); /* the sender signs with another key */
	const char *rtopics[] = { "price.", "alert.", NULL };
	act_bus *rx = act_open(&rc, ACT_PUB | ACT_SUB, rtopics, err, sizeof err);
	act_bus *tx = act_open(&pc, ACT_PUB, NULL, err, sizeof err);
	if (rx == NULL || tx == NULL)
		fail_msg("act_open: %s", err);
	for (int i = 0; i < 32; i++)
		assert_int_equal(pc.key[i], 0); /* wiped */
	assert_int_equal(bus_pub_wait(act_pub(tx), 1, 10000), 0);
	assert_int_equal(bus_pub_wait(act_pub(rx), 1, 10000), 0);
	assert_int_equal(bus_sub_wait(act_sub(rx), 1, 10000), 0);
	/* and the forwarder's side of those pipes (pub/sub drops frames sent before): poll, so a
	 * loaded machine is only slower */
	for (int i = 0; i < 10000 && (bus_fwd_publishers(f) < 2 || bus_fwd_subscribers(f) < 1); i++)
		nng_msleep(1);
	assert_true(bus_fwd_publishers(f) >= 2 && bus_fwd_subscribers(f) >= 1);

	sc_price_obs obs = { .feed = "ETH-USD", .source = "kraken", .decimals = 8, .observed_at_ns = 5 };
	u256_from_u64(&obs.value, 300000000000ull);
	assert_int_equal(act_publish(tx, "price.obs.ETH-USD", &SC_PRICE_OBS, &obs, NULL, NULL), BUS_OK);
	bus_msg m;
	assert_int_equal(act_recv(rx, &m, 10000), BUS_OK);
	sc_price_obs got;
	assert_int_equal(act_decode(&m, &SC_PRICE_OBS, &got), 0);
	assert_true(sc_equal(&SC_PRICE_OBS, &obs, &got));
	/* the same message read as another type is refused and counted */
	rt_metric *bad = rt_counter("actor_bad_messages_total", "",
	                            "type=\"price.obs\",why=\"unexpected_type\"");
	uint64_t bad0 = rt_counter_value(bad);
	sc_price_agg agg;
	assert_int_equal(act_decode(&m, &SC_PRICE_AGG, &agg), -1);
	assert_int_equal(rt_counter_value(bad) - bad0, 1);
	bus_msg_free(&m);

	/* a price.update signed by the wrong key: act_recv skips it and the receiver raises an alert,
	 * which it then hears itself on alert. */
	sc_price_update up;
	memset(&up, 0, sizeof up);
	snprintf(up.feed, sizeof up.feed, "ETH-USD");
	assert_int_equal(act_publish(tx, "price.update.ETH-USD", &SC_PRICE_UPDATE, &up, NULL, NULL), BUS_OK);
	assert_int_equal(act_recv(rx, &m, 10000), BUS_OK);
	assert_memory_equal(m.f.topic, "alert.warning.forged_message", m.f.topic_len);
	sc_alert al;
	assert_int_equal(act_decode(&m, &SC_ALERT, &al), 0);
	assert_string_equal(al.kind, "forged_message");
	assert_non_null(strstr(al.summary, "untrusted_key"));
	bus_msg_free(&m);

	act_close(tx);
	act_close(rx);
	sig_key_free(good);
	atomic_store(&fwd_stop, 1);
	pthread_join(th, NULL);
	bus_fwd_close(f);
}

int
main(int argc, char **argv)
{
	setenv("INSTANCE", "actor-test-0", 1);
	rt_init("actor-test", argc, argv, NULL, 0);
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_actor_roundtrip_and_forgery) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
