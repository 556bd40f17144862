/*
 * actor_test.c - the shared actor bus wiring: typed publish/decode round trip, a body of the wrong
 * type or shape is refused and counted, a forged frame raises a forged_message alert, and the
 * start-up waits for busd (act_open's readiness gate), an alert raised with no busd connection is
 * kept until there is one.
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
#include <sys/stat.h>
#include <unistd.h>

#include "bus/actor.h"
#include "bus/fwd.h"
#include "base/rt_http.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"
#include "base/util.h"

static atomic_int fwd_stop;
static void *
fwd_main(void *arg)
{
	while (!atomic_load(&fwd_stop))
		bus_fwd_run(arg, 20, 100);
	return NULL;
}

/* busd's stand-in: a forwarder from in to out run by a thread of its own until busd_down (one at a
 * time: fwd_stop is shared). */
typedef struct {
	bus_fwd *f;
	pthread_t th;
} test_busd;

static void
busd_up(test_busd *b, const char *in, const char *out)
{
	char err[160];
	atomic_store(&fwd_stop, 0);
	b->f = bus_fwd_open(in, out, err, sizeof err);
	if (b->f == NULL)
		fail_msg("bus_fwd_open: %s", err);
	pthread_create(&b->th, NULL, fwd_main, b->f);
}

static void
busd_down(test_busd *b)
{
	atomic_store(&fwd_stop, 1);
	pthread_join(b->th, NULL);
	bus_fwd_close(b->f);
}

/* The /health status, its body in text (cap bytes). */
static int
health(char *text, size_t cap)
{
	rt_buf b = { 0 };
	int st = rt_health_json(&b);
	snprintf(text, cap, "%.*s", (int)b.len, (const char *)b.data);
	rt_buf_free(&b);
	return st;
}

/* First: the process is still "starting" from rt_init (main). rt_ready alone does not end it while a
 * bus handle has no busd; a closed handle no longer counts; a busd appearing ends it. */
static void
test_ready_waits_for_busd(void **state)
{
	(void)state;
	char err[160], h[1024];
	act_bus_cfg dc = { .pub_urls = "inproc://rdy-dead", .sub_urls = "inproc://rdy-dead", .trust = "" };
	act_bus_cfg c = { .pub_urls = "inproc://rdy-in", .sub_urls = "inproc://rdy-out", .trust = "" };
	const char *topics[] = { "price.", NULL };
	act_bus *dead = act_open(&dc, ACT_PUB, NULL, err, sizeof err);
	act_bus *a = act_open(&c, ACT_PUB | ACT_SUB, topics, err, sizeof err);
	if (dead == NULL || a == NULL)
		fail_msg("act_open: %s", err);
	assert_int_equal(health(h, sizeof h), 503);
	assert_non_null(strstr(h, "{\"key\":\"starting\",\"text\":\"starting\"}"));
	rt_ready();
	assert_false(rt_is_ready());
	assert_int_equal(health(h, sizeof h), 503);
	assert_non_null(strstr(h, "\"starting: waiting for busd (BUS_PUB_URL)\""));
	act_close(dead); /* its gate goes with it: the next one not met is named */
	assert_int_equal(health(h, sizeof h), 503);
	assert_non_null(strstr(h, "\"starting: waiting for busd (BUS_PUB_URL and BUS_SUB_URL)\""));

	test_busd b;
	busd_up(&b, "inproc://rdy-in", "inproc://rdy-out");
	for (int i = 0; i < 20000 && !rt_is_ready(); i++) /* a deadline, not a wait: 20 s at most */
		nng_msleep(1);
	assert_true(rt_is_ready());
	assert_int_equal(health(h, sizeof h), 200);
	assert_null(strstr(h, "starting"));
	act_close(a);
	busd_down(&b);
}

static void
test_actor_roundtrip_and_forgery(void **state)
{
	(void)state;
	char err[160];
	test_busd b;
	busd_up(&b, "inproc://act-in", "inproc://act-out");

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
	for (int i = 0; i < 10000 && (bus_fwd_publishers(b.f) < 2 || bus_fwd_subscribers(b.f) < 1); i++)
		nng_msleep(1);
	assert_true(bus_fwd_publishers(b.f) >= 2 && bus_fwd_subscribers(b.f) >= 1);

	sc_price_obs obs = { .feed = "ETH-USD", .source = "kraken", .decimals = 8, .observed_at_ns = 5 };
	u256_from_u64(&obs.value, 300000000000ull);
	assert_int_equal(act_publish(tx, "price.obs.ETH-USD", &SC_PRICE_OBS, &obs, NULL, NULL), BUS_OK);
	bus_msg m;
	assert_int_equal(act_recv(rx, &m, 10000), BUS_OK);
	sc_price_obs got;
	assert_int_equal(act_decode(&m, &SC_PRICE_OBS, &got), 0);
	assert_true(sc_equal(&SC_PRICE_OBS, &obs, &got));
	/* the same message read as another type is refused and counted */
	rt_metric *bad = rt_counter("actor_bad_messages_total", "", "type=\"price.obs\",why=\"unexpected_type\"");
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
	busd_down(&b);
}

static uint64_t
rejected_total(void)
{
	static const char *const why[] = { "bad_signature", "missing_signature", "untrusted_key" };
	uint64_t n = 0;
	for (int i = 0; i < 3; i++) {
		char l[64];
		snprintf(l, sizeof l, "reason=\"%s\"", why[i]);
		n += rt_counter_value(rt_counter("bus_rx_rejected_total", "", l));
	}
	return n;
}

static size_t
series_of(const char *name)
{
	size_t len, n = 0;
	char *text = rt_metrics_text(&len);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (strncmp(line, name, strlen(name)) == 0 && line[strlen(name)] == '{')
			n++;
	free(text);
	return n;
}

/* A flood of unsigned frames with 2,000 made-up types and topics: one forged_message alert (keyed by
 * the trust rule, not by anything the sender chose), and no metric series named after their types. */
static void
test_forgery_flood_is_bounded(void **state)
{
	(void)state;
	char err[160];
	test_busd b;
	busd_up(&b, "inproc://fl-in", "inproc://fl-out");
	uint8_t sec[32];
	memset(sec, 0x11, 32);
	sig_key *good = sig_key_new(sec);
	char spec[128] = "price.update.=";
	for (int i = 0; i < 32; i++)
		snprintf(spec + strlen(spec), 3, "%02x", sig_key_pub(good)[i]);
	act_bus_cfg rc = { .pub_urls = "inproc://fl-in", .sub_urls = "inproc://fl-out", .trust = spec };
	const char *rtopics[] = { "price.update.", "alert.", NULL };
	act_bus *rx = act_open(&rc, ACT_PUB | ACT_SUB, rtopics, err, sizeof err);
	bus_pub *evil = bus_pub_open("inproc://fl-in", "evil", err, sizeof err);
	assert_non_null(rx);
	assert_non_null(evil);
	assert_int_equal(bus_pub_wait(evil, 1, 2000), 0);
	assert_int_equal(bus_pub_wait(act_pub(rx), 1, 2000), 0);
	assert_int_equal(bus_sub_wait(act_sub(rx), 1, 2000), 0);
	nng_msleep(50);
	size_t series0 = series_of("actor_bad_messages_total");
	uint64_t rej0 = rejected_total();
	int alerts = 0;
	sc_alert al;
	for (int batch = 0; batch < 10; batch++) {
		for (int i = 0; i < 200; i++) {
			char topic[64], type[32];
			snprintf(topic, sizeof topic, "price.update.F%d", batch * 200 + i);
			snprintf(type, sizeof type, "t%d", batch * 200 + i);
			assert_int_equal(bus_publish(evil, topic, type, NULL, (const uint8_t *)"x", 1, NULL), BUS_OK);
		}
		uint64_t want = rej0 + (uint64_t)(batch + 1) * 200;
		for (int tries = 0; rejected_total() < want && tries < 300; tries++) {
			bus_msg m;
			if (act_recv(rx, &m, 100) == BUS_OK) {
				assert_int_equal(act_decode(&m, &SC_ALERT, &al), 0);
				assert_string_equal(al.kind, "forged_message");
				alerts++;
				bus_msg_free(&m);
			}
		}
		assert_int_equal(rejected_total(), want);
	}
	for (int i = 0; i < 5; i++) { /* an alert still in flight would arrive now */
		bus_msg m;
		if (act_recv(rx, &m, 100) == BUS_OK) {
			alerts++;
			bus_msg_free(&m);
		}
	}
	assert_int_equal(alerts, 1);
	assert_non_null(strstr(al.dedupe_key, "price.update."));
	assert_null(strstr(al.dedupe_key, "evil"));
	assert_null(strstr(al.dedupe_key, "F1"));
	/* at most one new series (type="unknown",why="rejected") for 2,000 distinct types */
	assert_true(series_of("actor_bad_messages_total") <= series0 + 1);
	assert_int_equal(
	        rt_counter_value(rt_counter("actor_bad_messages_total", "", "type=\"unknown\",why=\"rejected\"")),
	        2000);
	bus_pub_close(evil);
	act_close(rx);
	sig_key_free(good);
	busd_down(&b);
}

/* BUS_KEYS_DIR: the actor's key and the trust list from the directory tools/bus-keys.sh makes; a key
 * file readable by others, a missing trust file and a signed actor without a key are each named. */
static act_bus_cfg kc, kcs;
static const rt_opt kopts[] = { ACT_BUS_OPTS(kc) };
static const rt_opt kopts_signed[] = { ACT_BUS_OPTS_SIGNED(kcs) };

static void
put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void
test_keys_dir(void **state)
{
	(void)state;
	char dir[] = "/tmp/actor_test_keys_XXXXXX", path[128], err[2048];
	static const char sec[] = "290fb1ff4324f4bca610dda1f48664baa871d77a92cc1b9f2c73cdbd139d49c1\n";
	static const char trust[] = "price.update.=d101562a66c1b71bc2a62dc9c982e334da35e8fe3f525b40d90ee5ebf5d6a145\n";
	assert_non_null(mkdtemp(dir));
	setenv("BUS_KEYS_DIR", dir, 1);
	unsetenv("BUS_TRUST");
	unsetenv("BUS_SIGNING_KEY");

	/* nothing in it: no trust file is named; the signed form also names the missing key */
	assert_int_equal(rt_config_load(kopts_signed, OB_COUNT(kopts_signed), err, sizeof err), -1);
	assert_non_null(strstr(err, "/trust: no such file"));
	assert_non_null(strstr(err, "BUS_SIGNING_KEY: required"));
	assert_non_null(strstr(err, "actor-test.key"));

	snprintf(path, sizeof path, "%s/trust", dir);
	put(path, trust, 0644);
	snprintf(path, sizeof path, "%s/actor-test.key", dir);
	put(path, sec, 0644);
	assert_int_equal(rt_config_load(kopts, OB_COUNT(kopts), err, sizeof err), -1);
	assert_non_null(strstr(err, "mode 644"));
	assert_null(strstr(err, "290fb1ff")); /* the key never in an error */

	assert_int_equal(chmod(path, 0600), 0);
	free(kc.trust_mem);
	memset(&kc, 0, sizeof kc);
	assert_int_equal(rt_config_load(kopts, OB_COUNT(kopts), err, sizeof err), 0);
	assert_int_equal(kc.key[0], 0x29);
	assert_int_equal(kc.key[31], 0xc1);
	assert_string_equal(kc.trust, "price.update.=d101562a66c1b71bc2a62dc9c982e334da35e8fe3f525b40d90ee5ebf5d6a145");

	/* the environment wins over the directory */
	setenv("BUS_TRUST", "tx.signed=d101562a66c1b71bc2a62dc9c982e334da35e8fe3f525b40d90ee5ebf5d6a145", 1);
	free(kc.trust_mem);
	memset(&kc, 0, sizeof kc);
	assert_int_equal(rt_config_load(kopts, OB_COUNT(kopts), err, sizeof err), 0);
	assert_non_null(strstr(kc.trust, "tx.signed="));

	put(path, "not hex\n", 0600);
	free(kc.trust_mem);
	memset(&kc, 0, sizeof kc);
	assert_int_equal(rt_config_load(kopts, OB_COUNT(kopts), err, sizeof err), -1);
	assert_non_null(strstr(err, "not a BIP-340 secret key"));

	unlink(path);
	snprintf(path, sizeof path, "%s/trust", dir);
	unlink(path);
	rmdir(dir);
	unsetenv("BUS_KEYS_DIR");
	unsetenv("BUS_TRUST");
	free(kc.trust_mem);
	free(kcs.trust_mem);
}

/* act_run: queued frames are drained into batches of at most `batch`; the every-round job runs after
 * each receive; a periodic job with at_start runs in the first round and (with an hour's period)
 * never again, with its own ctx; act_run returns 0 once a stop is requested. Last in the file: the
 * stop request is for the whole process. */
typedef struct {
	size_t n, total, batches, max_batch;
	act_bus *tx;
} run_ctx;
static void
run_frame(void *ctx, const bus_msg *m)
{
	run_ctx *c = ctx;
	c->n++;
	c->total++;
}
static void
run_commit(void *ctx)
{
	run_ctx *c = ctx;
	if (c->n > 0)
		c->batches++;
	if (c->n > c->max_batch)
		c->max_batch = c->n;
	c->n = 0;
	if (c->total >= 10)
		rt_request_stop();
}
static void
run_periodic(void *ctx)
{
	(*(int *)ctx)++;
}
static void
run_deadline(void *ctx)
{
	rt_request_stop(); /* frames lost: fail below rather than hang */
}

static void
test_run_batches(void **state)
{
	(void)state;
	char err[160];
	test_busd b;
	busd_up(&b, "inproc://run-in", "inproc://run-out");
	act_bus_cfg rc = { .pub_urls = "inproc://run-in", .sub_urls = "inproc://run-out", .trust = "" };
	act_bus_cfg pc = rc;
	const char *rtopics[] = { "price.", NULL };
	act_bus *rx = act_open(&rc, ACT_SUB, rtopics, err, sizeof err);
	act_bus *tx = act_open(&pc, ACT_PUB, NULL, err, sizeof err);
	if (rx == NULL || tx == NULL)
		fail_msg("act_open: %s", err);
	assert_int_equal(bus_pub_wait(act_pub(tx), 1, 10000), 0);
	assert_int_equal(bus_sub_wait(act_sub(rx), 1, 10000), 0);
	for (int i = 0; i < 10000 && (bus_fwd_publishers(b.f) < 1 || bus_fwd_subscribers(b.f) < 1); i++)
		nng_msleep(1);
	for (int i = 0; i < 10; i++)
		act_publish_body(tx, "price.obs.X", "price.obs", NULL, (const uint8_t *)"\x80", 1);
	run_ctx c = { 0 };
	int periodic = 0;
	const act_tick ticks[] = {
		{ 0, 0, run_commit, NULL },
		{ 3600000000000ull, 1, run_periodic, &periodic },
		{ 20000000000ull, 0, run_deadline, NULL },
	};
	act_loop l = {
		.recv_ms = 100, .on_frame = run_frame, .n = &c.n, .batch = 4, .ticks = ticks, .nticks = 3, .ctx = &c
	};
	assert_int_equal(act_run(rx, &l), 0);
	assert_int_equal(c.total, 10);
	assert_true(c.max_batch >= 1 && c.max_batch <= 4);
	assert_true(c.batches >= 3);
	assert_int_equal(periodic, 1);
	act_close(tx);
	act_close(rx);
	busd_down(&b);
}

/* busd up (busd_up) and a subscriber rx of topics on it (returned; the caller closes it), once tx's
 * publisher and rx's subscriber reach it on both sides (pub/sub drops frames sent before the
 * forwarder's side of a pipe is up): a deadline, not a window, 20 s at most. */
static act_bus *
held_busd_up(test_busd *b, act_bus_cfg *rc, const char **topics, act_bus *tx)
{
	char err[160];
	busd_up(b, rc->pub_urls, rc->sub_urls);
	act_bus *rx = act_open(rc, ACT_SUB, topics, err, sizeof err);
	if (rx == NULL)
		fail_msg("act_open: %s", err);
	assert_int_equal(bus_pub_wait(act_pub(tx), 1, 20000), 0);
	assert_int_equal(bus_sub_wait(act_sub(rx), 1, 20000), 0);
	for (int i = 0; i < 20000 && (bus_fwd_publishers(b->f) < 1 || bus_fwd_subscribers(b->f) < 1); i++)
		nng_msleep(1);
	assert_true(bus_fwd_publishers(b->f) >= 1 && bus_fwd_subscribers(b->f) >= 1);
	return rx;
}

/* The next frame rx hears: an alert of kind with status, or (kind NULL) a price.obs. */
static void
held_expect(act_bus *rx, const char *kind, int status, uint64_t *started)
{
	bus_msg m;
	assert_int_equal(act_recv(rx, &m, 20000), BUS_OK);
	if (kind == NULL) {
		assert_memory_equal(m.f.topic, "price.obs.ETH-USD", m.f.topic_len);
	} else {
		sc_alert al;
		if (act_decode(&m, &SC_ALERT, &al) != 0)
			fail_msg("expected alert %s, got %.*s", kind, (int)m.f.topic_len, m.f.topic);
		assert_string_equal(al.kind, kind);
		assert_int_equal(al.status, status);
		*started = al.started_at_ns;
	}
	bus_msg_free(&m);
}

/* An alert raised while the publisher has no busd connection (the start: dialing is asynchronous;
 * busd away) is kept and sent once one is up, before what follows it, with its own times: pub/sub
 * would drop it, and an alert is raised once per state change. */
static void
test_alert_waits_for_busd(void **state)
{
	(void)state;
	char err[160];
	act_bus_cfg tc = { .pub_urls = "inproc://held-in", .sub_urls = "inproc://held-out", .trust = "" };
	act_bus_cfg rc = tc;
	const char *topics[] = { "alert.", "price.", NULL };
	act_bus *tx = act_open(&tc, ACT_PUB, NULL, err, sizeof err);
	if (tx == NULL)
		fail_msg("act_open: %s", err);
	assert_int_equal(bus_pub_connected(act_pub(tx)), 0); /* no busd yet */
	uint64_t t0 = rt_now_ns(), fired = 0, resolved = 0;
	assert_int_equal(act_alert(tx, SC_SEV_ERROR, SC_ALERT_FIRING, "rpc_unreachable", "k", "down", NULL), BUS_OK);
	assert_int_equal(act_alert(tx, SC_SEV_ERROR, SC_ALERT_RESOLVED, "rpc_unreachable", "k", "up", NULL), BUS_OK);

	test_busd b;
	act_bus *rx = held_busd_up(&b, &rc, topics, tx);
	/* the actor's next publish: the kept alerts leave first, in order */
	sc_price_obs obs = { .feed = "ETH-USD", .source = "kraken", .decimals = 8, .observed_at_ns = 5 };
	u256_from_u64(&obs.value, 1);
	assert_int_equal(act_publish(tx, "price.obs.ETH-USD", &SC_PRICE_OBS, &obs, NULL, NULL), BUS_OK);
	held_expect(rx, "rpc_unreachable", SC_ALERT_FIRING, &fired);
	held_expect(rx, "rpc_unreachable", SC_ALERT_RESOLVED, &resolved);
	held_expect(rx, NULL, 0, NULL);
	assert_true(fired >= t0 && resolved >= fired && fired < rt_now_ns());

	/* busd goes away and comes back: an alert raised meanwhile is sent by act_alert_flush */
	busd_down(&b);
	act_close(rx);
	for (int i = 0; i < 20000 && act_pub_up(tx); i++)
		nng_msleep(1);
	assert_false(act_pub_up(tx));
	assert_int_equal(act_alert(tx, SC_SEV_WARNING, SC_ALERT_FIRING, "feed_stale", "s", "stale", NULL), BUS_OK);
	assert_int_equal(act_alert_flush(tx), 0); /* still no busd: kept */
	rx = held_busd_up(&b, &rc, topics, tx);
	assert_int_equal(act_alert_flush(tx), 1);
	held_expect(rx, "feed_stale", SC_ALERT_FIRING, &fired);

	act_close(tx);
	act_close(rx);
	busd_down(&b);
}

/* The alerts kept while busd is away are bounded: 70 raised with no connection keep the newest 64
 * (the 6 oldest counted lost: actor_alerts_lost_total), sent in order once busd is there. */
static void
test_alerts_kept_bounded(void **state)
{
	(void)state;
	char err[160], key[16];
	act_bus_cfg tc = { .pub_urls = "inproc://bound-in", .sub_urls = "inproc://bound-out", .trust = "" };
	act_bus_cfg rc = tc;
	const char *topics[] = { "alert.", NULL };
	rt_metric *lost = rt_counter("actor_alerts_lost_total", "", NULL);
	uint64_t lost0 = rt_counter_value(lost);
	act_bus *tx = act_open(&tc, ACT_PUB, NULL, err, sizeof err);
	if (tx == NULL)
		fail_msg("act_open: %s", err);
	for (int i = 0; i < 70; i++) {
		snprintf(key, sizeof key, "k%d", i);
		assert_int_equal(act_alert(tx, SC_SEV_WARNING, SC_ALERT_FIRING, "feed_stale", key, "stale", NULL),
		                 BUS_OK);
	}
	assert_int_equal(rt_counter_value(lost) - lost0, 6);
	test_busd b;
	act_bus *rx = held_busd_up(&b, &rc, topics, tx);
	assert_int_equal(act_alert_flush(tx), 1);
	for (int i = 6; i < 70; i++) {
		bus_msg m;
		sc_alert al;
		assert_int_equal(act_recv(rx, &m, 20000), BUS_OK);
		assert_int_equal(act_decode(&m, &SC_ALERT, &al), 0);
		snprintf(key, sizeof key, "k%d", i);
		assert_string_equal(al.dedupe_key, key);
		bus_msg_free(&m);
	}
	bus_msg m;
	assert_int_equal(act_recv(rx, &m, 200), BUS_TIMEOUT); /* nothing more */
	assert_int_equal(rt_counter_value(lost) - lost0, 6);
	act_close(tx);
	act_close(rx);
	busd_down(&b);
}

int
main(int argc, char **argv)
{
	setenv("INSTANCE", "actor-test-0", 1);
	setenv("HTTP_PORT", "0", 1); /* no listener: the seed's 8000/8080 may be taken on a test host */
	rt_init("actor-test", argc, argv, NULL, 0);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_waits_for_busd), /* first: the process is still starting */
		cmocka_unit_test(test_actor_roundtrip_and_forgery),
		cmocka_unit_test(test_forgery_flood_is_bounded),
		cmocka_unit_test(test_keys_dir),
		cmocka_unit_test(test_alert_waits_for_busd),
		cmocka_unit_test(test_alerts_kept_bounded),
		cmocka_unit_test(test_run_batches), /* last: it requests the stop */
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
