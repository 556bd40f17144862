/*
 * gate - decides when a feed's aggregate becomes an on-chain update: reads price.agg.<feed>,
 * publishes price.update.<feed> (signed with BUS_SIGNING_KEY) on deviation (Chainlink's rules),
 * heartbeat or first answer, never more often than MIN_INTERVAL. See README.md beside this file.
 *
 * This file is the process: options, the feeds, the bus, the RPC handle and the loop. The core
 * (gate.h: outbox, persistence, decisions) gets decoded messages, the clock and its I/O as
 * callbacks; the chain's answer is reconciled from polls and tx.status in reconcile.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/gate/chainread.h"
#include "actors/gate/feeds.h"
#include "actors/gate/gate.h"
#include "bus/actor.h"
#include "bus/rt_http.h"
#include "bus/rt_log.h"
#include "bus/rt_main.h"
#include "bus/rt_metrics.h"
#include "chain/hex.h"
#include "chain/rpc.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static act_bus_cfg busc;
static const char *cfg_rpc, *cfg_feeds_file, *cfg_feed, *cfg_agg, *cfg_abs, *cfg_state_dir, *cfg_sig,
                  *cfg_transmitter;
static uint64_t cfg_chain_id, cfg_rpc_timeout_ms, cfg_decimals, cfg_dev_ppm, cfg_heartbeat_ms, cfg_min_ms,
                cfg_timeout_ms, cfg_poll_ms, cfg_stale_factor, cfg_agg_age_ms;

static const rt_opt opts[] = {
	ACT_BUS_OPTS(busc),
	{ "RPC_URL", RT_STR, NULL, "JSON-RPC endpoints (comma list = failover, first preferred)", &cfg_rpc, 0, 0, 0,
	  RT_REQUIRED },
	{ "CHAIN_ID", RT_U64, "0", "expected chain id, checked on every endpoint (0 = learn from the first)",
	  &cfg_chain_id, 0, 0, 0, 0 },
	{ "RPC_TIMEOUT", RT_DURATION, "2s", "timeout of one JSON-RPC request", &cfg_rpc_timeout_ms, 100, 60000, 0, 0 },
	{ "FEEDS_FILE", RT_STR, NULL, "JSON file {\"feeds\":[{\"feed\",\"aggregator\",\"decimals\",\"deviation\","
	  "\"deviation_absolute\",\"heartbeat\",\"min_interval\"}]}; unset = the one feed below",
	  &cfg_feeds_file, 0, 0, 0, 0 },
	{ "FEED", RT_STR, NULL, "feed name when there is no FEEDS_FILE", &cfg_feed, 0, 0, 0, 0 },
	{ "AGGREGATOR_ADDRESS", RT_STR, NULL, "the feed's aggregator contract when there is no FEEDS_FILE", &cfg_agg,
	  0, 0, 0, 0 },
	{ "DECIMALS", RT_U64, "8", "decimals of the feed's answers (aggregates with others are refused)",
	  &cfg_decimals, 0, 77, 0, 0 },
	{ "DEVIATION_THRESHOLD", RT_PPM, "0.5", "relative threshold, percent of the on-chain answer",
	  &cfg_dev_ppm, 0, 0, 0, 0 },
	{ "DEVIATION_ABSOLUTE", RT_STR, "0", "absolute threshold in the feed's fixed point (0 = none); both must "
	  "be met", &cfg_abs, 0, 0, 0, 0 },
	{ "HEARTBEAT", RT_DURATION, "1h", "update when this long has passed since the on-chain updatedAt "
	  "(0 = never)", &cfg_heartbeat_ms, 0, 0, 0, 0 },
	{ "MIN_INTERVAL", RT_DURATION, "5s", "never update a feed more often than this", &cfg_min_ms, 0, 0, 0, 0 },
	{ "UPDATE_TIMEOUT", RT_DURATION, "2m", "an update in flight longer than this may be superseded",
	  &cfg_timeout_ms, 1000, 0, 0, 0 },
	{ "CHAIN_POLL", RT_DURATION, "30s", "re-read latestRoundData this often", &cfg_poll_ms, 100, 0, 0, 0 },
	{ "STALE_FACTOR", RT_U64, "2", "feed_stale alert when the on-chain age exceeds this many heartbeats",
	  &cfg_stale_factor, 1, 1000, 0, 0 },
	{ "AGG_MAX_AGE", RT_DURATION, "60s", "an aggregate older than this is not published (not even on "
	  "heartbeat)", &cfg_agg_age_ms, 100, 0, 0, 0 },
	{ "STATE_DIR", RT_STR, "data/gate", "LMDB directory: outbox, last decision and in-flight update per feed",
	  &cfg_state_dir, 0, 0, 0, 0 },
	{ "UPDATE_SIGNATURE", RT_STR, "updateAnswer(int256)", "the signer's update call; submit(uint256,int256) "
	  "makes the round come from oracleRoundState(TRANSMITTER, 0)", &cfg_sig, 0, 0, 0, 0 },
	{ "TRANSMITTER", RT_STR, NULL, "the signer's address (for oracleRoundState)", &cfg_transmitter, 0, 0, 0, 0 },
};

static act_bus *gm_bus;
static rpc     *gm_rpc;

/* ---- the core's I/O -------------------------------------------------------------------------- */

static int
gm_read_latest(void *ctx, const uint8_t agg[20], gc_round *r, rpc_error *e)
{
	return gc_read_latest(ctx, agg, r, e);
}

static int
gm_read_oracle_round(void *ctx, const uint8_t agg[20], const uint8_t oracle[20], uint64_t *round, rpc_error *e)
{
	return gc_read_oracle_round(ctx, agg, oracle, round, e);
}

static uint64_t
gm_chain_id(void *ctx)
{
	return rpc_chain_id(ctx);
}

static int
gm_publish(void *ctx, const char *topic, const char *type, const uint8_t id[16], const uint8_t *body, size_t len)
{
	(void)ctx;
	return bus_publish(act_pub(gm_bus), topic, type, id, body, len, NULL);
}

static void
gm_alert(void *ctx, int severity, int status, const char *kind, const char *key, const char *text,
         const char *const *labels)
{
	(void)ctx;
	act_alert(gm_bus, severity, status, kind, key, text, labels);
}

/* ---- start ------------------------------------------------------------------------------- */

/* The feeds: FEEDS_FILE, or the one feed of the environment. Returns the count or -1. */
static int
gm_load_feeds(gf_feed *list)
{
	char    err[256];
	gf_feed dflt;
	memset(&dflt, 0, sizeof dflt);
	dflt.decimals = cfg_decimals;
	dflt.threshold_ppm = cfg_dev_ppm;
	dflt.heartbeat_ms = cfg_heartbeat_ms;
	dflt.min_interval_ms = cfg_min_ms;
	if (gf_parse_abs(cfg_abs, &dflt.threshold_abs, err, sizeof err) != 0) {
		rt_log(RT_ERROR, "DEVIATION_ABSOLUTE: %s", err);
		return -1;
	}
	int     n;
	json_t *root = rt_config_file("FEEDS_FILE", err, sizeof err);
	if (root) {
		n = gf_parse(root, &dflt, list, GF_MAX_FEEDS, err, sizeof err);
		json_decref(root);
		if (n < 0) {
			rt_log(RT_ERROR, "FEEDS_FILE: %s", err);
			return -1;
		}
	} else if (err[0]) {
		rt_log(RT_ERROR, "%s", err);
		return -1;
	} else {
		if (gf_from_env(cfg_feed, cfg_agg, &dflt, &list[0], err, sizeof err) != 0) {
			rt_log(RT_ERROR, "%s (or set FEEDS_FILE)", err);
			return -1;
		}
		n = 1;
	}
	for (int i = 0; i < n; i++) {
		char addr[43];
		hex_addr_format(list[i].aggregator, addr);
		rt_logkv(RT_INFO, "feed", "feed", list[i].feed, "aggregator", addr, NULL);
	}
	return n;
}

/* The frame's topic names the body's feed (a body for another feed is a producer bug). */
static int
gm_topic_is(const bus_msg *m, const char *prefix, const char *feed)
{
	size_t plen = strlen(prefix), flen = strlen(feed);
	return m->f.topic_len == plen + flen && memcmp(m->f.topic + plen, feed, flen) == 0;
}

int
main(int argc, char **argv)
{
	char    err[512];
	gt_cfg  gc;
	gf_feed feeds[GF_MAX_FEEDS];
	if (rt_init("gate", argc, argv, opts, N(opts)) != 0)
		return 1;
	memset(&gc, 0, sizeof gc);
	gc.flux = strcmp(cfg_sig, "submit(uint256,int256)") == 0;
	if (gc.flux && (cfg_transmitter == NULL ||
	                hex_addr_parse(cfg_transmitter, strlen(cfg_transmitter), gc.transmitter) != HEX_OK)) {
		rt_log(RT_ERROR, "TRANSMITTER: the signer's address is required with %s", cfg_sig);
		return 2;
	}
	int n = gm_load_feeds(feeds);
	if (n < 0)
		return 2;
	if ((gm_rpc = rpc_open(cfg_rpc, cfg_chain_id, (int)cfg_rpc_timeout_ms, err, sizeof err)) == NULL) {
		rt_log(RT_ERROR, "RPC_URL: %s", err);
		return 1;
	}
	gc.state_dir = cfg_state_dir;
	gc.update_timeout_ms = cfg_timeout_ms;
	gc.poll_ms = cfg_poll_ms;
	gc.stale_factor = cfg_stale_factor;
	gc.agg_max_age_ms = cfg_agg_age_ms;
	gt_io io = { .ctx = gm_rpc, .read_latest = gm_read_latest, .read_oracle_round = gm_read_oracle_round,
	             .chain_id = gm_chain_id, .publish = gm_publish, .alert = gm_alert };
	gt *g = gt_open(&gc, feeds, (size_t)n, &io, err, sizeof err);
	if (g == NULL) {
		rt_log(RT_ERROR, "%s", err);
		rpc_close(gm_rpc);
		return 1;
	}
	const char *topics[] = { "price.agg.", "tx.status", NULL };
	if ((gm_bus = act_open(&busc, ACT_PUB | ACT_SUB, topics, err, sizeof err)) == NULL) {
		rt_log(RT_ERROR, "bus: %s", err);
		gt_close(g);
		rpc_close(gm_rpc);
		return 1;
	}
	rt_logkv(RT_INFO, "gate ready", "signature", cfg_sig, NULL);

	while (!rt_stopping()) {
		bus_msg m;
		int     rv = act_recv(gm_bus, &m, 100);
		if (rv == BUS_OK) {
			if (m.f.topic_len >= 10 && memcmp(m.f.topic, "price.agg.", 10) == 0) {
				sc_price_agg a;
				char         origin[SC_ORIGIN_CAP + 1];
				if (act_decode(&m, &SC_PRICE_AGG, &a) == 0 && gm_topic_is(&m, "price.agg.", a.feed)) {
					snprintf(origin, sizeof origin, "%.*s", (int)m.f.origin_len, m.f.origin);
					gt_on_agg(g, &a, origin, m.f.seq, rt_now_ns(), rt_mono_ns());
				}
			} else {
				sc_tx_status s;
				if (act_decode(&m, &SC_TX_STATUS, &s) == 0)
					gt_on_status(g, &s, rt_now_ns(), rt_mono_ns());
			}
			bus_msg_free(&m);
		} else if (rv == BUS_ECLOSED) {
			break;
		}
		gt_step(g, rt_now_ns(), rt_mono_ns());
	}
	rt_log(RT_INFO, "stopping");
	act_close(gm_bus);
	gt_close(g);
	rpc_close(gm_rpc);
	rt_shutdown();
	return 0;
}
