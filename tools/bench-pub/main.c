/*
 * bench-pub - load for the benches at scale (tests/bench/publisher_scale.sh, alerter_scale.sh):
 * publishes the bus messages many producers would, from one process, paced by the clock.
 *
 *   bench-pub obs --url URL --feeds N [--sources 3] [--interval-ms 1000] [--duration S]
 *                 [--move-every S] [--moves-after S] [--moves FILE] [--key-file FILE]
 *   bench-pub alerts --url URL --rate PER_S --count N [--keys K] [--resolve-every M]
 *   bench-pub --help | --version
 *
 * obs: price.obs.<feed> for N feeds (F000-USD, F001-USD, ...) x S sources (src0, src1, ...), each
 * source of each feed once per interval, the N x S publications spread evenly over the interval (as
 * independent fetchers polling on their own phase would be). What a fetcher publishes (schemas/
 * SC_PRICE_OBS, 8 decimals, observed_at_ns = now), without the HTTP fetch: the fetcher is one feed
 * per process today, and 1,500 of them would measure process count, not the publisher. From
 * --moves-after on, every feed's price moves by 1 % every --move-every seconds (feeds staggered
 * evenly), alternating up and back; a source reports the new price from its next publication on.
 * SIGUSR1 starts the moves at once instead (a bench sends it once the stack has settled).
 * --moves FILE gets one line per move: "<feed> <new value, fixed point> <t_ns>", t_ns = the wall
 * time the second source published the new value (the median's quorum of 2 could first see it:
 * source polling excluded, as tests/bench/oracle_latency.sh times it).
 *
 * alerts: alert.warning.<kind> at --rate per second until --count, rotating over --keys dedupe keys
 * (kinds feed_stale, tx_stuck, ccip_overdue, below_quorum); every --resolve-every-th alert of a key
 * is a resolve (then it fires again), as flapping conditions do.
 *
 * --key-file FILE signs every frame (BUS_SIGNING_KEY's hex), as the actors sign theirs.
 * Prints one summary line on stdout (published, seconds, rate, late publications) at the end or on
 * SIGTERM / SIGINT (which stop it early). Exit 0, 2 on
 * usage, 3 when no busd is reachable within 5 s or a publish fails.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/rt_version.h"
#include "base/u256.h"
#include "bus/bus.h"
#include "schemas/messages.h"
#include "schemas/schema.h"

#define BP_MAX_FEEDS   4096
#define BP_MAX_SOURCES 16

typedef struct {
	const char *mode, *url, *moves, *key_file;
	unsigned long feeds, sources, interval_ms, duration_s, move_every_s, moves_after_s;
	unsigned long rate, count, keys, resolve_every;
} bp_opts;

static volatile sig_atomic_t bp_stop, bp_move_now;

static void
bp_on_term(int sig)
{
	(void)sig;
	bp_stop = 1;
}

static void
bp_on_usr1(int sig)
{
	(void)sig;
	bp_move_now = 1;
}

static void
bp_usage_to(FILE *f)
{
	fprintf(f, "usage: bench-pub obs --url URL --feeds N [--sources 3] [--interval-ms 1000] [--duration S]\n"
	           "                     [--move-every S] [--moves-after S] [--moves FILE] [--key-file FILE]\n"
	           "       bench-pub alerts --url URL --rate PER_S --count N [--keys K] [--resolve-every M]\n"
	           "                     [--key-file FILE]\n"
	           "       bench-pub --help | --version\n");
}

static int
bp_usage(const char *why)
{
	if (why)
		fprintf(stderr, "bench-pub: %s\n", why);
	bp_usage_to(stderr);
	return 2;
}

static uint64_t
bp_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
bp_sleep_until(uint64_t t_ns)
{
	struct timespec ts = { (time_t)(t_ns / 1000000000ull), (long)(t_ns % 1000000000ull) };
	while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR && !bp_stop)
		;
}

static int
bp_publish(bus_pub *p, const char *topic, const sc_msgdef *d, const void *rec)
{
	static uint8_t buf[FRAME_BODY_MAX];
	size_t len;
	sc_err e;
	if (sc_encode(d, rec, buf, sizeof buf, &len, &e) != 0) {
		fprintf(stderr, "bench-pub: encode %s: %s\n", topic, e.text);
		return -1;
	}
	int rc = bus_publish(p, topic, sc_type(d), NULL, buf, len, NULL);
	if (rc != BUS_OK) {
		fprintf(stderr, "bench-pub: publish %s failed (%d)\n", topic, rc);
		return -1;
	}
	return 0;
}

/* ---- obs ----------------------------------------------------------------------------------- */

typedef struct {
	uint64_t base, value;  /* fixed point, 8 decimals */
	uint64_t next_move_ns; /* when the price moves next */
	uint64_t moved_ns;     /* when it last moved */
	unsigned reported;     /* sources that published the current value since it moved */
	uint8_t seen[BP_MAX_SOURCES];
} bp_feed;

static int
bp_obs(bus_pub *p, const bp_opts *o)
{
	static bp_feed f[BP_MAX_FEEDS];
	static sc_price_obs ob;
	FILE *mv = NULL;
	uint64_t slots = o->feeds * o->sources, itv = o->interval_ms * 1000000ull;
	uint64_t t0 = bp_now(), end = t0 + o->duration_s * 1000000000ull, published = 0, late = 0, moves = 0;
	if (o->moves && (mv = fopen(o->moves, "w")) == NULL) {
		fprintf(stderr, "bench-pub: %s: %s\n", o->moves, strerror(errno));
		return 3;
	}
	for (unsigned long i = 0; i < o->feeds; i++) {
		f[i].base = f[i].value = (1000 + i) * 100000000ull;
		f[i].next_move_ns = o->move_every_s ? t0 + o->moves_after_s * 1000000000ull +
		                                              o->move_every_s * 1000000000ull * i / o->feeds
		                                    : UINT64_MAX;
		f[i].reported = (unsigned)o->sources;
	}
	int moving = 0;
	for (uint64_t k = 0;; k++) {
		uint64_t at = t0 + (k / slots) * itv + (k % slots) * itv / slots;
		if (at >= end || bp_stop)
			break;
		if (bp_move_now && !moving && o->move_every_s) {
			/* SIGUSR1: the moves start now (staggered from now), not at --moves-after */
			uint64_t t = bp_now();
			for (unsigned long i = 0; i < o->feeds; i++) {
				uint64_t m = t + o->move_every_s * 1000000000ull * i / o->feeds;
				if (m < f[i].next_move_ns)
					f[i].next_move_ns = m;
			}
		}
		moving = moving || bp_move_now;
		uint64_t now = bp_now();
		if (now < at)
			bp_sleep_until(at);
		else if (now - at > itv / 10)
			late++; /* more than a tenth of the interval behind: the machine is saturated */
		unsigned long fi = (unsigned long)(k % slots) / o->sources,
		              si = (unsigned long)(k % slots) % o->sources;
		bp_feed *fd = &f[fi];
		now = bp_now();
		if (now >= fd->next_move_ns) {
			fd->value = fd->value == fd->base ? fd->base + fd->base / 100 : fd->base;
			fd->moved_ns = now;
			fd->next_move_ns += o->move_every_s * 1000000000ull;
			fd->reported = 0;
			memset(fd->seen, 0, sizeof fd->seen);
		}
		memset(&ob, 0, sizeof ob);
		snprintf(ob.feed, sizeof ob.feed, "F%03lu-USD", fi);
		snprintf(ob.source, sizeof ob.source, "src%lu", si);
		u256_from_u64(&ob.value, fd->value);
		ob.decimals = 8;
		ob.source_ts_ms = now / 1000000;
		ob.fetch_latency_us = 1000;
		ob.observed_at_ns = now;
		char topic[96];
		snprintf(topic, sizeof topic, "price.obs.%s", ob.feed);
		if (bp_publish(p, topic, &SC_PRICE_OBS, &ob) != 0)
			return 3;
		published++;
		if (!fd->seen[si] && fd->reported < o->sources) {
			fd->seen[si] = 1;
			if (++fd->reported == 2 && mv && fd->moved_ns) {
				fprintf(mv, "%s %llu %llu\n", ob.feed, (unsigned long long)fd->value,
				        (unsigned long long)now);
				moves++;
			}
		}
	}
	if (mv)
		fclose(mv);
	double dt = (double)(bp_now() - t0) / 1e9;
	printf("bench-pub obs: %llu observations in %.1f s (%.0f/s) for %lu feeds x %lu sources, %llu moves, %llu "
	       "late\n",
	       (unsigned long long)published, dt, published / dt, o->feeds, o->sources, (unsigned long long)moves,
	       (unsigned long long)late);
	return 0;
}

/* ---- alerts -------------------------------------------------------------------------------- */

static int
bp_alerts(bus_pub *p, const bp_opts *o)
{
	static const char *const kinds[] = { "feed_stale", "tx_stuck", "ccip_overdue", "below_quorum" };
	static sc_alert a;
	static uint32_t *n_of_key;
	uint64_t t0 = bp_now(), late = 0;
	if ((n_of_key = calloc(o->keys, sizeof *n_of_key)) == NULL)
		return 3;
	for (unsigned long i = 0; i < o->count; i++) {
		uint64_t at = t0 + i * 1000000000ull / o->rate, now = bp_now();
		if (bp_stop)
			break;
		if (now < at)
			bp_sleep_until(at);
		else if (now - at > 100000000ull)
			late++;
		unsigned long key = i % o->keys;
		const char *kind = kinds[key % 4];
		uint32_t n = ++n_of_key[key];
		memset(&a, 0, sizeof a);
		snprintf(a.kind, sizeof a.kind, "%s", kind);
		a.severity = SC_SEV_WARNING;
		a.status = o->resolve_every && n % o->resolve_every == 0 ? SC_ALERT_RESOLVED : SC_ALERT_FIRING;
		snprintf(a.dedupe_key, sizeof a.dedupe_key, "bench:%s:%lu", kind, key);
		snprintf(a.summary, sizeof a.summary, "bench condition %lu of kind %s (repeat %u)", key, kind, n);
		snprintf(a.labels[0].key, sizeof a.labels[0].key, "feed");
		snprintf(a.labels[0].value, sizeof a.labels[0].value, "F%03lu-USD", key);
		a.labels_count = 1;
		snprintf(a.origin, sizeof a.origin, "bench-pub");
		a.started_at_ns = t0;
		if (a.status == SC_ALERT_RESOLVED)
			a.resolved_at_ns = bp_now();
		char topic[96];
		snprintf(topic, sizeof topic, "alert.warning.%s", kind);
		if (bp_publish(p, topic, &SC_ALERT, &a) != 0)
			return 3;
	}
	double dt = (double)(bp_now() - t0) / 1e9;
	printf("bench-pub alerts: %lu alerts in %.2f s (%.0f/s) over %lu keys, %llu late\n", o->count, dt,
	       o->count / dt, o->keys, (unsigned long long)late);
	free(n_of_key);
	return 0;
}

/* ---- main ---------------------------------------------------------------------------------- */

static int
bp_num(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	bp_opts o = { .sources = 3, .interval_ms = 1000, .duration_s = 30, .keys = 200 };
	static const struct {
		const char *name;
		size_t off;
		unsigned long min, max;
	} nums[] = {
		{ "--feeds", offsetof(bp_opts, feeds), 1, BP_MAX_FEEDS },
		{ "--sources", offsetof(bp_opts, sources), 1, BP_MAX_SOURCES },
		{ "--interval-ms", offsetof(bp_opts, interval_ms), 1, 3600000 },
		{ "--duration", offsetof(bp_opts, duration_s), 1, 86400 },
		{ "--move-every", offsetof(bp_opts, move_every_s), 1, 86400 },
		{ "--moves-after", offsetof(bp_opts, moves_after_s), 0, 86400 },
		{ "--rate", offsetof(bp_opts, rate), 1, 1000000 },
		{ "--count", offsetof(bp_opts, count), 1, 100000000 },
		{ "--keys", offsetof(bp_opts, keys), 1, 1000000 },
		{ "--resolve-every", offsetof(bp_opts, resolve_every), 0, 1000000 },
	};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			bp_usage_to(stdout);
			return 0;
		}
		if (!strcmp(a, "--version")) {
			rt_version_print("bench-pub", stdout);
			return 0;
		}
		if (i == 1 && (!strcmp(a, "obs") || !strcmp(a, "alerts"))) {
			o.mode = a;
			continue;
		}
		if (i + 1 >= argc || a[0] != '-')
			return bp_usage(a[0] == '-' ? "an option is missing its value" : "unexpected argument");
		const char *v = argv[++i];
		if (!strcmp(a, "--url")) {
			o.url = v;
			continue;
		}
		if (!strcmp(a, "--moves")) {
			o.moves = v;
			continue;
		}
		if (!strcmp(a, "--key-file")) {
			o.key_file = v;
			continue;
		}
		size_t k = 0;
		for (; k < sizeof nums / sizeof nums[0]; k++)
			if (!strcmp(a, nums[k].name))
				break;
		if (k == sizeof nums / sizeof nums[0])
			return bp_usage("unknown option");
		if (bp_num(v, nums[k].min, nums[k].max, (unsigned long *)((char *)&o + nums[k].off)) != 0) {
			fprintf(stderr, "bench-pub: %s: '%s' is not a number in %lu..%lu\n", a, v, nums[k].min,
			        nums[k].max);
			return bp_usage(NULL);
		}
	}
	if (o.mode == NULL || o.url == NULL)
		return bp_usage("obs or alerts, and --url, are required");
	if (!strcmp(o.mode, "obs") && o.feeds == 0)
		return bp_usage("obs needs --feeds");
	if (!strcmp(o.mode, "alerts") && (o.rate == 0 || o.count == 0))
		return bp_usage("alerts needs --rate and --count");

	char err[256];
	sig_key *key = NULL;
	struct sigaction sa = { .sa_handler = bp_on_term };
	sigaction(SIGTERM, &sa, NULL); /* stop publishing, print the summary, exit 0 */
	sigaction(SIGINT, &sa, NULL);
	struct sigaction su = { .sa_handler = bp_on_usr1 };
	sigaction(SIGUSR1, &su, NULL); /* obs: the moves start now */
	if (o.key_file) {
		char hex[130] = "";
		FILE *f = fopen(o.key_file, "r");
		if (f == NULL || fgets(hex, sizeof hex, f) == NULL) {
			fprintf(stderr, "bench-pub: cannot read key file %s\n", o.key_file);
			if (f)
				fclose(f);
			return 2;
		}
		fclose(f);
		hex[strcspn(hex, "\r\n")] = '\0';
		if ((key = sig_key_from_hex(hex)) == NULL) {
			fprintf(stderr, "bench-pub: %s: not a secp256k1 secret key in hex\n", o.key_file);
			return 2;
		}
	}
	bus_pub *p = bus_pub_open(o.url, "bench-pub", err, sizeof err);
	if (p == NULL) {
		fprintf(stderr, "bench-pub: %s\n", err);
		sig_key_free(key);
		return 2;
	}
	if (key)
		bus_pub_set_key(p, key);
	int rc;
	if (bus_pub_wait(p, 1, 5000) != 0) {
		fprintf(stderr, "bench-pub: no busd at %s after 5 s\n", o.url);
		rc = 3;
	} else {
		rc = !strcmp(o.mode, "obs") ? bp_obs(p, &o) : bp_alerts(p, &o);
	}
	bus_pub_close(p);
	sig_key_free(key);
	return rc;
}
