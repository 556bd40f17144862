/*
 * gate - decides when a feed's aggregate becomes an on-chain update: reads price.agg.<feed>,
 * publishes price.update.<feed> (signed with BUS_SIGNING_KEY) on deviation (Chainlink's rules),
 * heartbeat or first answer, never more often than MIN_INTERVAL. See README.md beside this file.
 *
 * This file is the process: options, the feeds, the bus, the RPC handle and the loop. The core
 * (gate.h: outbox, persistence, decisions) gets decoded messages, the clock and its I/O as
 * callbacks; the chain's answer is reconciled from polls and tx.status in reconcile.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/util.h"
#include "actors/gate/chainread.h"
#include "actors/gate/feeds.h"
#include "actors/gate/gate.h"
#include "bus/actor.h"
#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"
#include "base/hex.h"
#include "chain/batch.h"
#include "chain/rpc.h"

static act_bus_cfg busc;
static const char *cfg_rpc, *cfg_feeds_file, *cfg_feed, *cfg_agg, *cfg_abs, *cfg_state_dir, *cfg_sig, *cfg_transmitter;
static uint64_t cfg_chain_id, cfg_rpc_timeout_ms, cfg_decimals, cfg_dev_ppm, cfg_heartbeat_ms, cfg_min_ms,
        cfg_timeout_ms, cfg_poll_ms, cfg_stale_factor, cfg_agg_age_ms, cfg_gas_margin_ppm, cfg_gas_max,
        cfg_backoff_max_ms, cfg_breaker_after;
static bool cfg_estimate; /* from GAS_ESTIMATE, decided in gm_check */
static const char *cfg_estimate_text;
static const char *cfg_batch_call, *cfg_batch_contract, *cfg_batch_name;
static uint64_t cfg_batch_max, cfg_batch_window_ms;
static int cfg_batch_kind;
static uint8_t cfg_batch_addr[20];

static void gm_check_all(const rt_opt *o, const char *text, rt_cfg_errs *e);

static const rt_opt opts[] = {
	ACT_BUS_OPTS_SIGNED(busc),
	{ "RPC_URL", RT_HTTP_URL, NULL, "JSON-RPC endpoints (comma list = failover, first preferred)", &cfg_rpc, 0, 0,
	  RPC_MAX_ENDPOINTS, RT_REQUIRED },
	{ "CHAIN_ID", RT_U64, "0", "expected chain id, checked on every endpoint (0 = learn from the first)",
	  &cfg_chain_id, 0, 0, 0, 0 },
	{ "RPC_TIMEOUT", RT_DURATION, "2s", "timeout of one JSON-RPC request", &cfg_rpc_timeout_ms, 100, 60000, 0, 0 },
	{ "FEEDS_FILE", RT_STR, NULL,
	  "JSON file {\"feeds\":[{\"feed\",\"aggregator\",\"decimals\",\"deviation\","
	  "\"deviation_absolute\",\"heartbeat\",\"min_interval\"}]}; unset = the one feed below",
	  &cfg_feeds_file, 0, 0, 0, 0 },
	{ "FEED", RT_STR, "ETH-USD",
	  "feed name when there is no FEEDS_FILE: the topic segment of price.agg.<feed> "
	  "and price.update.<feed>, the same default as the fetcher's FEED",
	  &cfg_feed, 0, 0, 0, 0 },
	{ "AGGREGATOR_ADDRESS", RT_STR, NULL, "the feed's aggregator contract when there is no FEEDS_FILE", &cfg_agg, 0,
	  0, 0, 0 },
	{ "DECIMALS", RT_U64, "8", "decimals of the feed's answers (aggregates with others are refused)", &cfg_decimals,
	  0, 77, 0, 0 },
	{ "DEVIATION_THRESHOLD", RT_PPM, "0.5", "relative threshold, percent of the on-chain answer", &cfg_dev_ppm, 0,
	  0, 0, 0 },
	{ "DEVIATION_ABSOLUTE", RT_STR, "0",
	  "absolute threshold in the feed's fixed point (0 = none); both must "
	  "be met",
	  &cfg_abs, 0, 0, 0, 0 },
	{ "HEARTBEAT", RT_DURATION, "1h",
	  "update when this long has passed since the on-chain updatedAt "
	  "(0 = never)",
	  &cfg_heartbeat_ms, 0, 0, 0, 0 },
	{ "MIN_INTERVAL", RT_DURATION, "5s", "never update a feed more often than this", &cfg_min_ms, 0, 0, 0, 0 },
	{ "UPDATE_TIMEOUT", RT_DURATION, "2m", "an update in flight longer than this may be superseded",
	  &cfg_timeout_ms, 1000, 0, 0, 0 },
	{ "CHAIN_POLL", RT_DURATION, "30s", "re-read latestRoundData this often", &cfg_poll_ms, 100, 0, 0, 0 },
	{ "STALE_FACTOR", RT_U64, "2", "feed_stale alert when the on-chain age exceeds this many heartbeats",
	  &cfg_stale_factor, 1, 1000, 0, 0 },
	{ "AGG_MAX_AGE", RT_DURATION, "0",
	  "an aggregate whose oldest observation is older than this is not used "
	  "(no first, deviation or heartbeat); the limit is min(AGG_MAX_AGE, the aggregate's window_ms); 0 = the "
	  "window only (60s when an aggregate does not say)",
	  &cfg_agg_age_ms, 0, 0, 0, 0 },
	{ "STATE_DIR", RT_STR, "data/gate", "LMDB directory: outbox, last decision and in-flight update per feed",
	  &cfg_state_dir, 0, 0, 0, 0 },
	{ "UPDATE_SIGNATURE", RT_STR, "updateAnswer(int256)",
	  "the signer's update call; submit(uint256,int256) "
	  "makes the round come from oracleRoundState(TRANSMITTER, 0)",
	  &cfg_sig, 0, 0, 0, 0 },
	{ "TRANSMITTER", RT_STR, NULL,
	  "the signer's address, sender of the estimated call and of "
	  "oracleRoundState; required with GAS_ESTIMATE or submit(...) (a FEEDS_FILE entry's \"transmitter\" "
	  "overrides it)",
	  &cfg_transmitter, 0, 0, 0, 0 },
	{ "GAS_ESTIMATE", RT_STR, "auto",
	  "eth_estimateGas of the exact update call (from the transmitter) before "
	  "publishing; its result plus GAS_MARGIN is price.update.gas_limit; a revert is a failure, nothing is "
	  "published. true, false, or auto = on when every feed has a transmitter, else off (the signer's "
	  "GAS_LIMIT)",
	  &cfg_estimate_text, 0, 0, 0, 0 },
	{ "GAS_MARGIN", RT_PPM, "25", "percent added to the gas estimate", &cfg_gas_margin_ppm, 0, 100000000, 0, 0 },
	{ "GAS_LIMIT_MAX", RT_U64, "2000000",
	  "cap of price.update.gas_limit; an estimate above it is a failure "
	  "(keep it at or below the signer's cap)",
	  &cfg_gas_max, 21000, 30000000, 0, 0 },
	{ "BACKOFF_MAX", RT_DURATION, "10m",
	  "after n failed updates in a row a feed waits MIN_INTERVAL x 2^n, at "
	  "most this",
	  &cfg_backoff_max_ms, 1000, 0, 0, 0 },
	{ "BREAKER_AFTER", RT_U64, "5",
	  "failed updates in a row that stop a feed until POST /feeds/<feed>/reset "
	  "(0 = never)",
	  &cfg_breaker_after, 0, 1000, 0, 0 },
	{ "BATCH_CALL", RT_STR, "off",
	  "many feeds per transaction: off (one per feed), aggregate3 (Multicall3 at BATCH_CONTRACT, allowFailure per "
	  "call) or updateAnswers (OracleBatcher at BATCH_CONTRACT)",
	  &cfg_batch_call, 0, 0, 0, 0 },
	{ "BATCH_CONTRACT", RT_STR, NULL,
	  "the batch contract (Multicall3 0xcA11bde05977b3631167028862bE2a173976CA11, or an OracleBatcher); required "
	  "with BATCH_CALL",
	  &cfg_batch_contract, 0, 0, 0, 0 },
	{ "BATCH_MAX", RT_U64, "16",
	  "feeds per batch transaction at most (also cut to fit the signed transaction's 4 KB and GAS_LIMIT_MAX)",
	  &cfg_batch_max, 2, CB_MAX_CALLS, 0, 0 },
	{ "BATCH_WINDOW", RT_DURATION, "200ms",
	  "a due feed waits at most this long for others to join its batch (0: each turn's due feeds go together)",
	  &cfg_batch_window_ms, 0, 60000, 0, 0 },
	{ "BATCH_NAME", RT_STR, "batch",
	  "the batches' feed name: topic price.update.<name> (the signer's FEEDS must list it if set), tx.status.feed",
	  &cfg_batch_name, 0, 0, 0, 0 },
	RT_CHECK_ROW("", gm_check_all),
};

static act_bus *gm_bus;
static rpc *gm_rpc;

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

static int
gm_read_latest_at(void *ctx, const uint8_t agg[20], uint64_t block, gc_round *r, rpc_error *e)
{
	return gc_read_latest_at(ctx, agg, block, r, e);
}

static int
gm_call(void *ctx, const uint8_t from[20], const uint8_t to[20], const uint8_t *data, size_t len, uint64_t gas,
        uint8_t **out, size_t *outlen, rpc_error *e)
{
	rpc_callmsg m = { .from = from, .to = to, .data = data, .len = len, .gas = gas, .block = RPC_LATEST };
	return rpc_eth_call_at(ctx, &m, out, outlen, e);
}

static uint64_t
gm_chain_id(void *ctx)
{
	return rpc_chain_id(ctx);
}

static int
gm_estimate_gas(void *ctx, const uint8_t from[20], const uint8_t to[20], const uint8_t *data, size_t len, uint64_t *gas,
                rpc_error *e)
{
	return gc_estimate_gas(ctx, from, to, data, len, gas, e);
}

static int
gm_read_latest_many(void *ctx, gc_read *reads, size_t n, rpc_error *e)
{
	return gc_read_latest_many(ctx, reads, n, e);
}

static int
gm_estimate_gas_many(void *ctx, gc_estimate *calls, size_t n, rpc_error *e)
{
	return gc_estimate_gas_many(ctx, calls, n, e);
}

static int
gm_publish(void *ctx, const char *topic, const char *type, const uint8_t id[16], const uint8_t *body, size_t len)
{
	(void)ctx;
	return bus_publish(act_pub(gm_bus), topic, type, id, body, len, NULL);
}

static int
gm_alert(void *ctx, int severity, int status, const char *kind, const char *key, const char *text,
         const char *const *labels)
{
	(void)ctx;
	return act_alert(gm_bus, severity, status, kind, key, text, labels);
}

/* ---- POST /feeds/<feed>/reset ------------------------------------------------------------------
 * The HTTP handler runs on an NNG thread: it hands the feed name to the loop and waits for the
 * loop to have reset it (the core is single-threaded), then answers with what was reset. */

static pthread_mutex_t gm_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gm_cv = PTHREAD_COND_INITIALIZER;
static struct {
	char feed[SC_NAME_CAP + 1];
	int pending, done, found, was_open;
	uint32_t failures;
	uint64_t ticket, served;
} gm_reset_req;
static char (*gm_names)[SC_NAME_CAP + 1]; /* gm_nnames; immutable after start: the handler reads it */
static size_t gm_nnames;

static int
gm_http_reset(void *arg, const char *method, const char *path, const char *query, const uint8_t *body, size_t blen,
              rt_buf *out, const char **ctype)
{
	(void)arg, (void)method, (void)query, (void)body, (void)blen;
	*ctype = "application/json";
	const char *p = path + strlen("/feeds/"), *slash = strchr(p, '/');
	size_t fl = slash ? (size_t)(slash - p) : 0;
	int known = 0;
	if (strncmp(path, "/feeds/", 7) != 0 || slash == NULL || strcmp(slash, "/reset") != 0 || fl == 0 ||
	    fl > SC_NAME_CAP) {
		rt_buf_puts(out, "{\"error\":\"POST /feeds/<feed>/reset\"}\n");
		return 404;
	}
	char feed[SC_NAME_CAP + 1];
	memcpy(feed, p, fl);
	feed[fl] = 0;
	for (size_t i = 0; i < gm_nnames; i++)
		known |= strcmp(gm_names[i], feed) == 0;
	if (!known) {
		rt_buf_puts(out, "{\"error\":\"no such feed here\"}\n");
		return 404;
	}
	pthread_mutex_lock(&gm_mu);
	while (gm_reset_req.pending) /* one reset at a time */
		pthread_cond_wait(&gm_cv, &gm_mu);
	snprintf(gm_reset_req.feed, sizeof gm_reset_req.feed, "%s", feed);
	gm_reset_req.pending = 1;
	uint64_t ticket = ++gm_reset_req.ticket;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	int rc = 0;
	while (gm_reset_req.served < ticket && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&gm_cv, &gm_mu, &until);
	int status = 503;
	if (gm_reset_req.served >= ticket) {
		status = 200;
		rt_buf_printf(out, "{\"feed\":\"%s\",\"reset\":true,\"was_open\":%s,\"failures\":%u}\n", feed,
		              gm_reset_req.was_open ? "true" : "false", gm_reset_req.failures);
	} else {
		gm_reset_req.pending = 0; /* the loop is stuck: give up this request */
		rt_buf_puts(out, "{\"error\":\"the gate did not answer in time\"}\n");
	}
	pthread_cond_broadcast(&gm_cv);
	pthread_mutex_unlock(&gm_mu);
	return status;
}

/* In the loop: serves a pending reset. */
static void
gm_serve_reset(gt *g)
{
	pthread_mutex_lock(&gm_mu);
	if (gm_reset_req.pending) {
		gm_reset_req.found =
		        gt_reset(g, gm_reset_req.feed, &gm_reset_req.was_open, &gm_reset_req.failures) == 0;
		gm_reset_req.pending = 0;
		gm_reset_req.served = gm_reset_req.ticket;
		pthread_cond_broadcast(&gm_cv);
	}
	pthread_mutex_unlock(&gm_mu);
}

/* ---- start ------------------------------------------------------------------------------- */

/* The feeds: FEEDS_FILE, or the one feed of the environment, into *listp (allocated to the count,
 * at most GF_MAX_FEEDS; the caller frees it). Returns the count or -1. */
static int
gm_load_feeds(gf_feed **listp, rt_cfg_errs *e)
{
	gf_feed *list = NULL;
	char err[256];
	gf_feed dflt;
	memset(&dflt, 0, sizeof dflt);
	dflt.decimals = cfg_decimals;
	dflt.threshold_ppm = cfg_dev_ppm;
	dflt.heartbeat_ms = cfg_heartbeat_ms;
	dflt.min_interval_ms = cfg_min_ms;
	if (cfg_abs == NULL || gf_parse_abs(cfg_abs, &dflt.threshold_abs, err, sizeof err) != 0) {
		if (cfg_abs)
			rt_config_error(e, "DEVIATION_ABSOLUTE", "%s", err);
		return -1;
	}
	int n;
	if (cfg_feeds_file && *cfg_feeds_file) {
		json_t *root = rt_config_json(e, "FEEDS_FILE");
		if (root == NULL)
			return -1;
		/* room for the file's feeds; more than GF_MAX_FEEDS are refused by gf_parse before any is read */
		size_t want = json_array_size(json_object_get(root, "feeds"));
		size_t room = want == 0 || want > GF_MAX_FEEDS ? 1 : want;
		if ((list = calloc(room, sizeof *list)) == NULL) {
			json_decref(root);
			rt_config_error(e, "FEEDS_FILE", "out of memory");
			return -1;
		}
		n = gf_parse(root, &dflt, list, want > GF_MAX_FEEDS ? GF_MAX_FEEDS : room, err, sizeof err);
		json_decref(root);
		if (n < 0) {
			free(list);
			rt_config_error(e, "FEEDS_FILE", "%s", err);
			return -1;
		}
	} else {
		if ((list = calloc(1, sizeof *list)) == NULL ||
		    gf_from_env(cfg_feed, cfg_agg, &dflt, &list[0], err, sizeof err) != 0) {
			free(list);
			rt_config_error(e, NULL, "%s (or set FEEDS_FILE)", list ? err : "out of memory");
			return -1;
		}
		n = 1;
	}
	*listp = list;
	return n;
}

/* Settings that contradict each other are refused at start, every problem listed (README.md,
 * "Consistency"). Returns the number of problems. */
static int
gm_check(gf_feed *feeds, int n, int flux, rt_cfg_errs *e)
{
	int problems = 0, have_tx = 0;
	uint8_t tx[20];
	if (cfg_transmitter && *cfg_transmitter) {
		if (hex_addr_parse(cfg_transmitter, strlen(cfg_transmitter), tx) != HEX_OK) {
			rt_config_error(e, "TRANSMITTER",
			                "not an address (0x + 40 hex digits, EIP-55 checksum if mixed case)");
			problems++;
		} else {
			have_tx = 1;
		}
	}
	int all_tx = 1;
	for (int i = 0; i < n; i++) {
		if (!feeds[i].has_transmitter && have_tx) {
			memcpy(feeds[i].transmitter, tx, 20);
			feeds[i].has_transmitter = 1;
		}
		all_tx &= feeds[i].has_transmitter;
	}
	/* auto: the gate holds no key and does not guess the sender (see README "Transmitter"): without
	 * one it leaves the gas limit to the signer's GAS_LIMIT. An explicit true still requires one. */
	const char *est = cfg_estimate_text ? cfg_estimate_text : "auto";
	if (strcmp(est, "auto") == 0)
		cfg_estimate = all_tx && n > 0;
	else if (!strcmp(est, "true") || !strcmp(est, "1") || !strcmp(est, "yes") || !strcmp(est, "on"))
		cfg_estimate = true;
	else if (!strcmp(est, "false") || !strcmp(est, "0") || !strcmp(est, "no") || !strcmp(est, "off"))
		cfg_estimate = false;
	else {
		rt_config_error(e, "GAS_ESTIMATE", "'%.20s' is not true, false or auto", est);
		problems++;
	}
	for (int i = 0; i < n; i++) {
		gf_feed *f = &feeds[i];
		char w[200];
		if ((cfg_estimate || flux) && !f->has_transmitter) {
			snprintf(w, sizeof w, "no transmitter (TRANSMITTER, or the feed's \"transmitter\"): needed %s",
			         cfg_estimate ? "to estimate the update's gas (GAS_ESTIMATE)" : "for oracleRoundState");
			rt_config_error(e, NULL, "feed %s: %s", f->feed, w);
			problems++;
		}
		if (f->heartbeat_ms > 0 && f->min_interval_ms > f->heartbeat_ms) {
			snprintf(w, sizeof w,
			         "MIN_INTERVAL %llu ms exceeds HEARTBEAT %llu ms: the heartbeat cannot be kept",
			         (unsigned long long)f->min_interval_ms, (unsigned long long)f->heartbeat_ms);
			rt_config_error(e, NULL, "feed %s: %s", f->feed, w);
			problems++;
		}
		if (cfg_agg_age_ms > 0 && f->heartbeat_ms > 0 && cfg_agg_age_ms > f->heartbeat_ms) {
			snprintf(w, sizeof w,
			         "AGG_MAX_AGE %llu ms exceeds HEARTBEAT %llu ms: a heartbeat round could carry "
			         "a price older than the round before it",
			         (unsigned long long)cfg_agg_age_ms, (unsigned long long)f->heartbeat_ms);
			rt_config_error(e, NULL, "feed %s: %s", f->feed, w);
			problems++;
		}
		if (cfg_timeout_ms < f->min_interval_ms) {
			snprintf(w, sizeof w,
			         "UPDATE_TIMEOUT %llu ms is shorter than MIN_INTERVAL %llu ms: an update would be "
			         "superseded before the gate may send the next one",
			         (unsigned long long)cfg_timeout_ms, (unsigned long long)f->min_interval_ms);
			rt_config_error(e, NULL, "feed %s: %s", f->feed, w);
			problems++;
		}
		if (cfg_backoff_max_ms < f->min_interval_ms) {
			snprintf(w, sizeof w,
			         "BACKOFF_MAX %llu ms is shorter than MIN_INTERVAL %llu ms: a failure would be "
			         "retried sooner than a success",
			         (unsigned long long)cfg_backoff_max_ms, (unsigned long long)f->min_interval_ms);
			rt_config_error(e, NULL, "feed %s: %s", f->feed, w);
			problems++;
		}
	}
	return problems;
}

/* BATCH_*: the contract, one sender for every feed (the batch is one transaction from one key,
 * and its eth_call must come from it), a call the batch contract can make, a name that is no
 * feed's. */
static void
gm_check_batch(const gf_feed *feeds, int n, int flux, rt_cfg_errs *e)
{
	char topic[FRAME_TOPIC_MAX + 16];
	cfg_batch_kind = cb_kind_parse(cfg_batch_call);
	if (cfg_batch_kind < 0) {
		rt_config_error(e, "BATCH_CALL", "'%.30s' is not off, aggregate3 or updateAnswers", cfg_batch_call);
		return;
	}
	if (cfg_batch_kind == CB_NONE)
		return;
	if (cfg_batch_contract == NULL || *cfg_batch_contract == 0)
		rt_config_error(e, "BATCH_CONTRACT", "required with BATCH_CALL=%s", cfg_batch_call);
	else if (hex_addr_parse(cfg_batch_contract, strlen(cfg_batch_contract), cfg_batch_addr) != HEX_OK)
		rt_config_error(e, "BATCH_CONTRACT",
		                "not an address (0x + 40 hex digits, EIP-55 checksum if mixed case)");
	if (cfg_batch_kind == CB_UPDATE_ANSWERS && (flux || strcmp(cfg_sig, "updateAnswer(int256)") != 0))
		rt_config_error(
		        e, "BATCH_CALL",
		        "updateAnswers makes OracleBatcher call updateAnswer(int256), not UPDATE_SIGNATURE %.40s",
		        cfg_sig);
	int n_ = snprintf(topic, sizeof topic, "price.update.%s", cfg_batch_name ? cfg_batch_name : "");
	if (!cfg_batch_name || !*cfg_batch_name || strlen(cfg_batch_name) > SC_NAME_CAP || n_ >= (int)sizeof topic ||
	    !frame_topic_valid(topic, (size_t)n_))
		rt_config_error(e, "BATCH_NAME", "not a feed name (1..%d of [A-Za-z0-9._:-])", SC_NAME_CAP);
	for (int i = 0; i < n; i++) {
		if (cfg_batch_name && strcmp(feeds[i].feed, cfg_batch_name) == 0)
			rt_config_error(e, "BATCH_NAME", "'%s' is also a feed's name", cfg_batch_name);
		if (!feeds[i].has_transmitter) {
			rt_config_error(e, "BATCH_CALL",
			                "feed %s has no transmitter: a batch is eth_call'ed and estimated from the "
			                "signer's address (TRANSMITTER)",
			                feeds[i].feed);
			break;
		}
		if (memcmp(feeds[i].transmitter, feeds[0].transmitter, 20) != 0) {
			rt_config_error(e, "BATCH_CALL",
			                "feeds %s and %s have different transmitters: a batch is one transaction from "
			                "one key (run one gate per key)",
			                feeds[0].feed, feeds[i].feed);
			break;
		}
	}
}

/* Everything that needs more than one variable, in rt_init's single pass (the feeds are parsed
 * here once and kept for main). */
static gf_feed *gm_feeds; /* gm_nfeeds of them */
static int gm_nfeeds = -1;

static void
gm_check_all(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	int flux = cfg_sig && strcmp(cfg_sig, "submit(uint256,int256)") == 0;
	if (cfg_sig && !flux && strcmp(cfg_sig, "updateAnswer(int256)") != 0 &&
	    strcmp(cfg_sig, "updateAnswer(uint256)") != 0)
		rt_config_error(e, "UPDATE_SIGNATURE",
		                "'%.60s' is not one of updateAnswer(int256), updateAnswer(uint256), "
		                "submit(uint256,int256)",
		                cfg_sig);
	free(gm_feeds);
	gm_feeds = NULL;
	gm_nfeeds = gm_load_feeds(&gm_feeds, e);
	gm_check(gm_feeds, gm_nfeeds > 0 ? gm_nfeeds : 0, flux, e); /* TRANSMITTER even without feeds */
	gm_check_batch(gm_feeds, gm_nfeeds > 0 ? gm_nfeeds : 0, flux, e);
}

/* The frame's topic names the body's feed (a body for another feed is a producer bug). */
static int
gm_topic_is(const bus_msg *m, const char *prefix, const char *feed)
{
	size_t plen = strlen(prefix), flen = strlen(feed);
	return m->f.topic_len == plen + flen && memcmp(m->f.topic + plen, feed, flen) == 0;
}

/* Messages one loop turn takes before deciding: enough for a burst of every feed's aggregate
 * and status, bounded so the timers and the HTTP reset requests still get their turn. */
#define GM_TURN_MAX 512

/* One message of the bus: an aggregate or a tx.status, handed to the core. */
static void
gm_handle(gt *g, bus_msg *m)
{
	if (m->f.topic_len >= 10 && memcmp(m->f.topic, "price.agg.", 10) == 0) {
		sc_price_agg a;
		char origin[SC_ORIGIN_CAP + 1];
		if (act_decode(m, &SC_PRICE_AGG, &a) == 0 && gm_topic_is(m, "price.agg.", a.feed)) {
			snprintf(origin, sizeof origin, "%.*s", (int)m->f.origin_len, m->f.origin);
			gt_on_agg(g, &a, origin, m->f.seq, rt_now_ns(), rt_mono_ns());
		}
	} else {
		sc_tx_status s;
		if (act_decode(m, &SC_TX_STATUS, &s) == 0)
			gt_on_status(g, &s, rt_now_ns(), rt_mono_ns());
	}
}

int
main(int argc, char **argv)
{
	char err[512];
	gt_cfg gc;
	if (rt_init("gate", argc, argv, opts, OB_COUNT(opts)) != 0)
		return 1;
	memset(&gc, 0, sizeof gc);
	gc.flux = strcmp(cfg_sig, "submit(uint256,int256)") == 0;
	int n = gm_nfeeds; /* parsed and checked by gm_check_all inside rt_init */
	const gf_feed *feeds = gm_feeds;
	if ((gm_names = calloc((size_t)n, sizeof *gm_names)) == NULL) {
		rt_log(RT_ERROR, "out of memory");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		char addr[43];
		hex_addr_format(feeds[i].aggregator, addr);
		rt_logkv(RT_INFO, "feed", "feed", feeds[i].feed, "aggregator", addr, NULL);
	}
	for (int i = 0; i < n; i++)
		memcpy(gm_names[gm_nnames++], feeds[i].feed, sizeof gm_names[0]); /* same size, NUL-terminated */
	if ((gm_rpc = rpc_open(cfg_rpc, cfg_chain_id, (int)cfg_rpc_timeout_ms, err, sizeof err)) == NULL) {
		rt_log(RT_ERROR, "RPC_URL: %s", err);
		return 1;
	}
	gc.state_dir = cfg_state_dir;
	gc.update_timeout_ms = cfg_timeout_ms;
	gc.poll_ms = cfg_poll_ms;
	gc.stale_factor = cfg_stale_factor;
	gc.agg_max_age_ms = cfg_agg_age_ms;
	gc.instance = rt_instance();
	gc.update_sig = cfg_sig;
	gc.estimate = cfg_estimate;
	gc.gas_margin_ppm = cfg_gas_margin_ppm;
	gc.gas_limit_max = cfg_gas_max;
	gc.backoff_max_ms = cfg_backoff_max_ms;
	gc.breaker_after = (uint32_t)cfg_breaker_after;
	gc.batch_call = cfg_batch_kind;
	memcpy(gc.batch_contract, cfg_batch_addr, 20);
	gc.batch_max = (uint32_t)cfg_batch_max;
	gc.batch_window_ms = cfg_batch_window_ms;
	gc.batch_name = cfg_batch_name;
	gt_io io = { .ctx = gm_rpc,
		     .read_latest = gm_read_latest,
		     .read_oracle_round = gm_read_oracle_round,
		     .estimate_gas = gm_estimate_gas,
		     .estimate_gas_many = gm_estimate_gas_many,
		     .read_latest_many = gm_read_latest_many,
		     .chain_id = gm_chain_id,
		     .read_latest_at = gm_read_latest_at,
		     .call = gm_call,
		     .publish = gm_publish,
		     .alert = gm_alert };
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
	if (rt_http_route("POST", "/feeds", 1, gm_http_reset, NULL) != 0) {
		rt_log(RT_ERROR, "cannot add the HTTP route POST /feeds/<feed>/reset");
		act_close(gm_bus);
		gt_close(g);
		rpc_close(gm_rpc);
		return 1;
	}
	rt_logkv(RT_INFO, "gate ready", "signature", cfg_sig, "batch_call", cb_kind_name(cfg_batch_kind),
	         "gas_estimate",
	         cfg_estimate                             ? "on"
	         : strcmp(cfg_estimate_text, "auto") == 0 ? "off (auto: no TRANSMITTER; the signer's "
	                                                    "GAS_LIMIT applies)"
	                                                  : "off",
	         NULL);

	while (!rt_stopping()) {
		bus_msg m;
		/* wait for a message at most until the core has something to do (a hold that ends, the
		 * tick, a poll), and at most 100 ms (the HTTP reset requests are served between turns) */
		uint64_t mono = rt_mono_ns(), wake = gt_next_wake(g);
		int wait_ms = wake <= mono                      ? 0
		              : wake - mono >= 100 * 1000000ull ? 100
		                                                : (int)((wake - mono + 999999) / 1000000);
		/* One turn (gate.h): the first message, then every one already queued (at most
		 * GM_TURN_MAX), decided together at gt_turn_end. */
		gt_turn_begin(g);
		int rv = act_recv(gm_bus, &m, wait_ms);
		for (int k = 1; rv == BUS_OK; k++) {
			gm_handle(g, &m);
			bus_msg_free(&m);
			if (k == GM_TURN_MAX) /* the rest in the next turn */
				break;
			rv = act_recv(gm_bus, &m, 0);
		}
		if (rv == BUS_ECLOSED) {
			gt_turn_end(g, rt_now_ns(), rt_mono_ns());
			break;
		}
		gt_step(g, rt_now_ns(), rt_mono_ns());
		gt_turn_end(g, rt_now_ns(), rt_mono_ns());
		/* The first turn read every feed's aggregator: the chain answered (or /health says rpc,
		 * chain:<feed>), the store is open, the bus opened; only then may /health say ok. */
		rt_ready();
		gm_serve_reset(g);
	}
	rt_log(RT_INFO, "stopping");
	act_close(gm_bus);
	gt_close(g);
	rpc_close(gm_rpc);
	rt_shutdown();
	return 0;
}
