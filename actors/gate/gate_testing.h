/*
 * gate_testing.h - what the gate's unit tests (gate_test.c, gate_batch_test.c) share: the fake
 * clock's units, a feed and a gt_cfg with the tests' usual values, the fake chain's id, an
 * aggregate handed to the gate, and removing a test's state directory. Test-only: included by
 * *_test.c files after cmocka.h, never by the actor. Nothing here allocates; the caller owns every struct.
 */
#ifndef OB_ACTORS_GATE_GATE_TESTING_H
#define OB_ACTORS_GATE_GATE_TESTING_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/gate/gate.h"

#define S  1000000000ull
#define MS 1000000ull
#define T0 (1700000000ull * S) /* wall clock at mono 0 */

/* A feed whose aggregator ends in agg_byte, 8 decimals, 0.5 % threshold, 5 s between updates,
 * sent by the transmitter 0x70.. */
static inline void
gtt_feed(gf_feed *f, const char *name, uint8_t agg_byte, uint64_t heartbeat_ms)
{
	snprintf(f->feed, sizeof f->feed, "%s", name);
	f->aggregator[19] = agg_byte;
	f->decimals = 8;
	f->threshold_ppm = 5000;
	f->heartbeat_ms = heartbeat_ms;
	f->min_interval_ms = 5000;
	f->transmitter[0] = 0x70;
	f->has_transmitter = 1;
}

/* The gate's configuration the tests start from (state in dir; the test adds what it checks). */
static inline gt_cfg
gtt_cfg(const char *dir)
{
	return (gt_cfg){ .state_dir = dir,
		         .update_timeout_ms = 120000,
		         .poll_ms = 30000,
		         .stale_factor = 2,
		         .update_sig = "updateAnswer(int256)",
		         .estimate = 1,
		         .gas_margin_ppm = 250000,
		         .gas_limit_max = 2000000,
		         .backoff_max_ms = 600000,
		         .breaker_after = 5 };
}

/* The fake chain's id (gt_io.chain_id). */
static inline uint64_t
gtt_chain_id(void *ctx)
{
	(void)ctx;
	return 138;
}

/* Hands the gate an aggregate of feed (8 decimals) from "median-t"; it must be taken. */
static inline void
gtt_agg(gt *g, const char *feed, uint64_t median, uint32_t used, uint64_t oldest_ns, uint64_t window_ms, uint64_t now,
        uint64_t mono)
{
	sc_price_agg a;
	memset(&a, 0, sizeof a);
	snprintf(a.feed, sizeof a.feed, "%s", feed);
	u256_from_u64(&a.median, median);
	a.decimals = 8;
	a.used_count = used;
	a.oldest_observed_at_ns = oldest_ns;
	a.aggregated_at_ns = now;
	a.window_ms = window_ms;
	assert_int_equal(gt_on_agg(g, &a, "median-t", 9, now, mono), GT_AGG_TAKEN);
}

/* Removes a test's state directory: 0, or -1 (a cmocka teardown's failure). */
static inline int
gtt_rm_dir(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif
