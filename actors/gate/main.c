/*
 * gate - decides when a feed's aggregate becomes an on-chain update: reads price.agg.<feed>,
 * publishes price.update.<feed> (signed with BUS_SIGNING_KEY) on deviation (Chainlink's rules),
 * heartbeat or first answer, never more often than MIN_INTERVAL (decide.c).
 *
 * It knows the on-chain answer from latestRoundData() (read at start and every CHAIN_POLL) and
 * from tx.status (confirmed/final with a feed and an answer), so a restart neither re-publishes
 * needlessly nor misses a heartbeat. An update goes through an LMDB outbox and is re-published
 * with the same id until a tx.status whose ref is that id (32 hex digits) arrives; one update per
 * feed is in flight until it is confirmed or fails, or UPDATE_TIMEOUT passes (then a new decision
 * supersedes it). The last decision and the in-flight update per feed are persisted in the same
 * write transaction as the outbox entry. See README.md beside this file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "actors/gate/chainread.h"
#include "actors/gate/decide.h"
#include "actors/gate/feeds.h"
#include "bus/actor.h"
#include "bus/rt_http.h"
#include "bus/rt_log.h"
#include "bus/rt_main.h"
#include "bus/rt_metrics.h"
#include "chain/hex.h"
#include "chain/rpc.h"
#include "store/outbox.h"
#include "store/store.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MS 1000000ull
#define NS 1000000000ull

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

/* In-flight record (table "inflight", key = feed): version, id, since, answer. */
enum { GT_INF_V = 1, GT_INF_LEN = 1 + 16 + 8 + 32 };

typedef struct {
	gf_feed      c;
	gd_cfg       dc;
	gd_state     st;
	char         topic[FRAME_TOPIC_MAX + 1];
	char         esc[80];
	/* the latest aggregate */
	int          have_agg;
	sc_price_agg agg;
	uint64_t     agg_mono;
	char         agg_origin[SC_ORIGIN_CAP + 1];
	uint64_t     agg_seq;
	/* in flight */
	uint8_t      inf_id[16];
	u256         inf_answer;
	/* chain following */
	uint64_t     next_poll_mono;
	uint64_t     status_block;   /* newest block of a confirmed tx.status taken as the chain's answer */
	uint64_t     status_mono;   /* when st was last set from a tx.status; 0 = from the chain */
	int          stale;         /* feed_stale alert firing */
	int          last_why;
	rt_metric   *m_upd[3], *m_dev, *m_age, *m_inflight, *m_chain_err, *m_refused;
} gt_feed;

static gt_feed   gt_feeds[GF_MAX_FEEDS];
static size_t    gt_nfeeds;
static act_bus  *gt_bus;
static rpc      *gt_rpc;
static st_env   *gt_env;
static ob_box   *gt_ob;
static MDB_dbi   gt_t_last, gt_t_inf;
static int       gt_flux;
static uint8_t   gt_transmitter[20];
static rt_metric *m_ob_pending, *m_status_unknown;

/* ---- persistence ------------------------------------------------------------------------- */

static void
gt_inf_encode(const gt_feed *f, uint8_t b[GT_INF_LEN])
{
	b[0] = GT_INF_V;
	memcpy(b + 1, f->inf_id, 16);
	st_key_u64(b + 17, f->st.inflight_since_ns);
	u256_to_be(&f->inf_answer, b + 25);
}

/* Loads the last decision and the in-flight update of every feed (after a restart). */
static int
gt_load(void)
{
	MDB_txn *txn;
	st_err   e;
	if (st_begin(gt_env, 1, &txn, &e) != 0) {
		rt_log(RT_ERROR, "state: %s", e.text);
		return -1;
	}
	for (size_t i = 0; i < gt_nfeeds; i++) {
		gt_feed        *f = &gt_feeds[i];
		sc_price_update last;
		MDB_val         v;
		size_t          klen = strlen(f->c.feed);
		if (st_get_rec(txn, gt_t_last, f->c.feed, klen, &SC_PRICE_UPDATE, &last, &e) == 0)
			f->st.last_publish_ns = last.decided_at_ns;
		if (st_get(txn, gt_t_inf, f->c.feed, klen, &v, &e) == 0 && v.mv_size == GT_INF_LEN &&
		    ((uint8_t *)v.mv_data)[0] == GT_INF_V) {
			const uint8_t *b = v.mv_data;
			f->st.inflight = 1;
			memcpy(f->inf_id, b + 1, 16);
			f->st.inflight_since_ns = st_u64_at(b + 17);
			u256_from_be(&f->inf_answer, b + 25, 32);
			char id[33];
			hex_encode(f->inf_id, 16, 0, id);
			rt_logkv(RT_INFO, "update in flight from before the restart", "feed", f->c.feed, "id", id, NULL);
		}
		rt_gauge_set(f->m_inflight, f->st.inflight);
	}
	st_abort(txn);
	return 0;
}

/* Clears a feed's in-flight update (confirmed, failed, or seen on chain). */
static void
gt_clear_inflight(gt_feed *f, const char *why)
{
	if (!f->st.inflight)
		return;
	MDB_txn *txn;
	st_err   e;
	int      rc = st_begin(gt_env, 0, &txn, &e);
	if (rc == 0) {
		rc = st_del(txn, gt_t_inf, f->c.feed, strlen(f->c.feed), &e);
		if (rc == MDB_NOTFOUND)
			rc = 0;
		rc = rc ? rc : ob_ack(txn, gt_ob, f->inf_id, NULL, &e);
		if (rc == 0)
			rc = st_commit(txn, &e);
		else
			st_abort(txn);
	}
	if (rc != 0)
		rt_log(RT_ERROR, "state: clearing in-flight update of %s: %s", f->c.feed, e.text);
	f->st.inflight = 0;
	rt_gauge_set(f->m_inflight, 0);
	rt_logkv(RT_INFO, "update no longer in flight", "feed", f->c.feed, "why", why, NULL);
}

/* ---- the outbox ---------------------------------------------------------------------------- */

/* (Re)publishes every due update; each keeps its id, so the signer deduplicates. */
static void
gt_flush_outbox(void)
{
	uint8_t  ids[16][OB_ID_LEN];
	MDB_txn *txn;
	st_err   e;
	if (st_begin(gt_env, 0, &txn, &e) != 0) {
		rt_log(RT_ERROR, "outbox: %s", e.text);
		return;
	}
	long n = ob_due(txn, gt_ob, rt_now_ns(), ids, N(ids), &e);
	for (long i = 0; i < n; i++) {
		ob_msg m;
		char   topic[OB_TOPIC_MAX + 1], type[OB_TYPE_MAX + 1];
		if (ob_get(txn, gt_ob, ids[i], &m, &e) != 0)
			continue;
		snprintf(topic, sizeof topic, "%.*s", (int)m.topic_len, m.topic);
		snprintf(type, sizeof type, "%.*s", (int)m.type_len, m.type);
		int rv = bus_publish(act_pub(gt_bus), topic, type, m.id, m.body, m.body_len, NULL);
		if (m.attempts > 0 && rt_log_enabled(RT_DEBUG))
			rt_logkv(RT_DEBUG, "re-published update", "topic", topic, NULL);
		if (ob_mark_sent(txn, gt_ob, ids[i], rt_now_ns(), rv == BUS_OK ? NULL : "publish failed", &e) != 0)
			rt_logkv(RT_WARN, "outbox: cannot reschedule update", "error", e.text, NULL);
	}
	uint64_t cnt = 0;
	ob_count(txn, gt_ob, &cnt, &e);
	rt_gauge_set(m_ob_pending, (double)cnt);
	if (st_commit(txn, &e) != 0)
		rt_log(RT_ERROR, "outbox: %s", e.text);
}

/* ---- following the chain ------------------------------------------------------------------- */

static void
gt_set_chain(gt_feed *f, const u256 *answer, uint64_t updated_at_s, const u256 *round)
{
	f->st.known = 1;
	f->st.answer = *answer;
	f->st.updated_at_s = updated_at_s;
	f->st.round_id = *round;
}

static void
gt_poll(gt_feed *f)
{
	gc_round  r;
	rpc_error e;
	int       rc = gc_read_latest(gt_rpc, f->c.aggregator, &r, &e);
	uint64_t  mono = rt_mono_ns();
	char      key[64];
	snprintf(key, sizeof key, "chain:%.31s", f->c.feed);
	if (rc != RPC_OK) {
		rt_inc(f->m_chain_err);
		rt_health_set(key, 1, e.msg);
		if (rt_log_state_change(key, "error"))
			rt_logkv(RT_WARN, "cannot read latestRoundData", "feed", f->c.feed, "error", e.msg, NULL);
		/* Retry soon while the answer is unknown, else at the normal pace. */
		f->next_poll_mono = mono + (f->st.known ? cfg_poll_ms : 1000) * MS;
		return;
	}
	rt_health_set(key, 0, NULL);
	f->next_poll_mono = mono + cfg_poll_ms * MS;
	/* A node behind the one that confirmed our tx.status must not take the answer back: adopt
	 * the read when it is at least as new, or once the status is older than two polls. */
	int adopt = !f->st.known || f->status_mono == 0 || u256_cmp(&r.round_id, &f->st.round_id) >= 0 ||
	            r.updated_at_s >= f->st.updated_at_s || mono - f->status_mono > 2 * cfg_poll_ms * MS;
	if (!adopt)
		return;
	int changed = !f->st.known || u256_cmp(&r.answer, &f->st.answer) != 0 || r.updated_at_s != f->st.updated_at_s;
	gt_set_chain(f, &r.answer, r.updated_at_s, &r.round_id);
	f->status_mono = 0;
	if (rt_log_state_change(key, "ok") || changed) {
		char a[96], t[24], rd[80];
		fixed_to_dec(&r.answer, (unsigned)f->c.decimals, a);
		snprintf(t, sizeof t, "%llu", (unsigned long long)r.updated_at_s);
		u256_to_dec(&r.round_id, rd);
		rt_logkv(RT_INFO, "on-chain answer", "feed", f->c.feed, "answer", a, "updated_at", t, "round", rd, NULL);
	}
	/* Our in-flight update landed even if its tx.status was lost. */
	if (f->st.inflight && u256_cmp(&r.answer, &f->inf_answer) == 0 &&
	    r.updated_at_s * NS + NS >= f->st.inflight_since_ns)
		gt_clear_inflight(f, "seen on chain");
}

/* The round the update will be for: FluxAggregator's submit needs the exact one. */
static void
gt_round_for_update(gt_feed *f, u256 *round)
{
	u256 one;
	u256_from_u64(&one, 1);
	u256_add(round, &f->st.round_id, &one);
	if (!gt_flux)
		return;
	uint64_t  rd;
	rpc_error e;
	if (gc_read_oracle_round(gt_rpc, f->c.aggregator, gt_transmitter, &rd, &e) == RPC_OK)
		u256_from_u64(round, rd);
	else
		rt_logkv(RT_WARN, "oracleRoundState failed; using latest round + 1", "feed", f->c.feed, "error", e.msg,
		         NULL);
}

static void
gt_check_stale(gt_feed *f)
{
	uint64_t now_s = rt_now_ns() / NS;
	uint64_t age = f->st.known && f->st.updated_at_s && now_s > f->st.updated_at_s ? now_s - f->st.updated_at_s : 0;
	rt_gauge_set(f->m_age, (double)age);
	if (!f->st.known || f->c.heartbeat_ms == 0 || f->st.updated_at_s == 0)
		return;
	int stale = age * 1000 > cfg_stale_factor * f->c.heartbeat_ms;
	if (stale == f->stale)
		return;
	f->stale = stale;
	char key[64], text[200];
	snprintf(key, sizeof key, "gate:%.31s:feed_stale", f->c.feed);
	snprintf(text, sizeof text, "%.31s: on-chain answer is %llu s old (heartbeat %llu s x %llu)", f->c.feed,
	         (unsigned long long)age, (unsigned long long)(f->c.heartbeat_ms / 1000),
	         (unsigned long long)cfg_stale_factor);
	const char *labels[] = { "feed", f->c.feed, NULL };
	act_alert(gt_bus, SC_SEV_ERROR, stale ? SC_ALERT_FIRING : SC_ALERT_RESOLVED, "feed_stale", key, text, labels);
	rt_logkv(stale ? RT_WARN : RT_INFO, stale ? "feed stale" : "feed fresh again", "feed", f->c.feed, NULL);
}

/* ---- deciding ---------------------------------------------------------------------------- */

static void
gt_publish(gt_feed *f, const gd_decision *d)
{
	sc_price_update u;
	memset(&u, 0, sizeof u);
	snprintf(u.feed, sizeof u.feed, "%s", f->c.feed);
	u.answer = f->agg.median;
	u.decimals = f->c.decimals;
	u.reason = d->reason;
	u.previous_answer = f->st.answer;
	u.previous_updated_at_s = f->st.updated_at_s;
	u.deviation_ppm = d->deviation_ppm;
	u.threshold_ppm = f->c.threshold_ppm;
	u.threshold_abs = f->c.threshold_abs;
	u.since_update_s = d->since_update_s;
	u.heartbeat_s = f->c.heartbeat_ms / 1000;
	gt_round_for_update(f, &u.round_id);
	u.chain_id = rpc_chain_id(gt_rpc);
	memcpy(u.contract, f->c.aggregator, 20);
	u.decided_at_ns = rt_now_ns();
	snprintf(u.agg_origin, sizeof u.agg_origin, "%s", f->agg_origin);
	u.agg_seq = f->agg_seq;
	u.agg_sources = f->agg.used_count;

	uint8_t id[16], body[2048], inf[GT_INF_LEN];
	size_t  len;
	sc_err  se;
	st_err  e;
	if (getrandom(id, sizeof id, 0) != (ssize_t)sizeof id || sc_encode(&SC_PRICE_UPDATE, &u, body, sizeof body,
	                                                                    &len, &se) != 0) {
		rt_log(RT_ERROR, "cannot build the update for %s", f->c.feed);
		return;
	}
	uint8_t old[16];
	int     supersede = d->supersede && f->st.inflight;
	memcpy(old, f->inf_id, 16);
	gt_feed saved = *f;
	memcpy(f->inf_id, id, 16);
	f->inf_answer = u.answer;
	f->st.inflight = 1;
	f->st.inflight_since_ns = u.decided_at_ns;
	f->st.last_publish_ns = u.decided_at_ns;
	gt_inf_encode(f, inf);

	/* Decision, in-flight marker and outbox entry commit together or not at all. */
	MDB_txn *txn;
	int      rc = st_begin(gt_env, 0, &txn, &e);
	if (rc == 0 && supersede)
		rc = ob_ack(txn, gt_ob, old, NULL, &e);
	if (rc == 0)
		rc = ob_put(txn, gt_ob, id, f->topic, "price.update", body, len, u.decided_at_ns, &e);
	if (rc == 0)
		rc = st_put_rec(txn, gt_t_last, f->c.feed, strlen(f->c.feed), &SC_PRICE_UPDATE, &u, &e);
	if (rc == 0)
		rc = st_put(txn, gt_t_inf, f->c.feed, strlen(f->c.feed), inf, sizeof inf, &e);
	if (rc == 0)
		rc = st_commit(txn, &e);
	else if (txn)
		st_abort(txn);
	if (rc != 0) {
		*f = saved;
		rt_log(RT_ERROR, "state: cannot queue the update of %s: %s", f->c.feed, e.text);
		return;
	}
	rt_inc(f->m_upd[d->reason]);
	rt_gauge_set(f->m_inflight, 1);
	char a[96], p[96], dev[24], ids[33], since[24];
	fixed_to_dec(&u.answer, (unsigned)u.decimals, a);
	fixed_to_dec(&u.previous_answer, (unsigned)u.decimals, p);
	snprintf(dev, sizeof dev, "%llu", (unsigned long long)d->deviation_ppm);
	snprintf(since, sizeof since, "%llu", (unsigned long long)d->since_update_s);
	hex_encode(id, 16, 0, ids);
	rt_logkv(RT_INFO, "update", "feed", f->c.feed, "reason", gd_reason_name(d->reason), "answer", a, "previous", p,
	         "deviation_ppm", dev, "since_update_s", since, "id", ids, "supersedes", supersede ? "yes" : "no", NULL);
	gt_flush_outbox();
}

static void
gt_evaluate(gt_feed *f)
{
	uint64_t mono = rt_mono_ns();
	if (!f->have_agg || mono - f->agg_mono > cfg_agg_age_ms * MS)
		return;
	gd_decision d;
	gd_decide(&f->dc, &f->st, &f->agg.median, rt_now_ns(), &d);
	rt_gauge_set(f->m_dev, d.deviation_ppm == UINT64_MAX ? 1e18 : (double)d.deviation_ppm);
	if (d.action == GD_PUBLISH) {
		gt_publish(f, &d);
	} else if (d.why != f->last_why && d.why != GD_WHY_WITHIN) {
		rt_logkv(RT_DEBUG, "holding", "feed", f->c.feed, "why", gd_why_name(d.why), "reason",
		         gd_reason_name(d.reason), NULL);
	}
	f->last_why = d.why;
}

static gt_feed *
gt_feed_by_name(const char *name)
{
	for (size_t i = 0; i < gt_nfeeds; i++)
		if (strcmp(gt_feeds[i].c.feed, name) == 0)
			return &gt_feeds[i];
	return NULL;
}

static void
gt_on_agg(const bus_msg *m)
{
	sc_price_agg a;
	if (act_decode(m, &SC_PRICE_AGG, &a) != 0)
		return;
	gt_feed *f = gt_feed_by_name(a.feed);
	size_t   plen = strlen("price.agg.");
	if (f == NULL || m->f.topic_len != plen + strlen(a.feed) || memcmp(m->f.topic + plen, a.feed, strlen(a.feed))) {
		return; /* another shard's feed */
	}
	if (a.decimals != f->c.decimals) {
		rt_inc(f->m_refused);
		char key[64];
		snprintf(key, sizeof key, "decimals:%.31s", a.feed);
		if (rt_log_state_change(key, "mismatch"))
			rt_logkv(RT_ERROR, "aggregate refused: decimals differ from the feed's", "feed", a.feed, NULL);
		return;
	}
	f->agg = a;
	f->have_agg = 1;
	f->agg_mono = rt_mono_ns();
	snprintf(f->agg_origin, sizeof f->agg_origin, "%.*s", (int)m->f.origin_len, m->f.origin);
	f->agg_seq = m->f.seq;
	gt_evaluate(f);
}

static void
gt_on_status(const bus_msg *m)
{
	sc_tx_status s;
	uint8_t      ref[16];
	if (act_decode(m, &SC_TX_STATUS, &s) != 0)
		return;
	int has_ref = strlen(s.ref) == 32 && hex_decode_exact(s.ref, 32, ref, 16) == HEX_OK;
	if (has_ref) {
		/* Any status for our update means the signer has it: stop re-publishing. */
		MDB_txn *txn;
		st_err   e;
		int      removed = 0;
		if (st_begin(gt_env, 0, &txn, &e) == 0) {
			if (ob_ack(txn, gt_ob, ref, &removed, &e) == 0) {
				if (st_commit(txn, &e) != 0) {
					rt_logkv(RT_WARN, "outbox: ack not stored", "error", e.text, NULL);
					removed = 0;
				}
			} else
				st_abort(txn);
		}
		if (removed)
			rt_logkv(RT_DEBUG, "update acknowledged", "ref", s.ref, NULL);
	}
	gt_feed *f = s.feed[0] ? gt_feed_by_name(s.feed) : NULL;
	if (f == NULL) {
		if (has_ref)
			rt_inc(m_status_unknown);
		return;
	}
	int ours = has_ref && f->st.inflight && memcmp(ref, f->inf_id, 16) == 0;
	if (s.state == SC_TX_CONFIRMED || s.state == SC_TX_FINAL) {
		uint64_t t = (s.observed_at_ns ? s.observed_at_ns : rt_now_ns()) / NS;
		if (ours) {
			u256 round, one;
			u256_from_u64(&one, 1);
			u256_add(&round, &f->st.round_id, &one);
			gt_set_chain(f, &s.answer, t, &round);
			f->status_mono = rt_mono_ns();
			if (s.block_number > f->status_block)
				f->status_block = s.block_number;
			gt_clear_inflight(f, sc_enum_name(&SC_TX_STATUS, "state", s.state));
		} else if (s.state == SC_TX_CONFIRMED && s.block_number > f->status_block && f->st.known &&
		           u256_cmp(&s.answer, &f->st.answer) != 0) {
			/* Someone else's confirmed update (another replica, an operator): take it; the
			 * next poll brings the exact round and time. Only a newer block counts, and never a
			 * "final": that is a later state of an update already taken when it was confirmed,
			 * often our own previous one, and taking its answer again would roll the gate back
			 * and make it publish the current answer a second time. */
			gt_set_chain(f, &s.answer, t, &f->st.round_id);
			f->status_mono = rt_mono_ns();
			f->status_block = s.block_number;
		} else {
			return;
		}
		char a[96];
		fixed_to_dec(&s.answer, (unsigned)f->c.decimals, a);
		rt_logkv(RT_INFO, "confirmed answer", "feed", f->c.feed, "answer", a, "ref", s.ref, NULL);
	} else if (ours && (s.state == SC_TX_FAILED || s.state == SC_TX_DROPPED)) {
		gt_clear_inflight(f, sc_enum_name(&SC_TX_STATUS, "state", s.state));
		rt_logkv(RT_WARN, "update failed", "feed", f->c.feed, "error", s.error_text, NULL);
	}
}

/* ---- start ------------------------------------------------------------------------------- */

static int
gt_load_feeds(void)
{
	char    err[256];
	gf_feed dflt, list[GF_MAX_FEEDS];
	memset(&dflt, 0, sizeof dflt);
	dflt.decimals = cfg_decimals;
	dflt.threshold_ppm = cfg_dev_ppm;
	dflt.heartbeat_ms = cfg_heartbeat_ms;
	dflt.min_interval_ms = cfg_min_ms;
	if (cfg_abs && *cfg_abs && u256_from_dec(&dflt.threshold_abs, cfg_abs, strlen(cfg_abs)) != 0) {
		rt_log(RT_ERROR, "DEVIATION_ABSOLUTE: '%s' is not a non-negative integer", cfg_abs);
		return -1;
	}
	int n;
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
		if (gf_from_env(cfg_feed, cfg_agg, cfg_abs, &dflt, &list[0], err, sizeof err) != 0) {
			rt_log(RT_ERROR, "%s (or set FEEDS_FILE)", err);
			return -1;
		}
		n = 1;
	}
	for (int i = 0; i < n; i++) {
		gt_feed *f = &gt_feeds[gt_nfeeds++];
		memset(f, 0, sizeof *f);
		f->c = list[i];
		f->dc = (gd_cfg){ .threshold_ppm = f->c.threshold_ppm, .threshold_abs = f->c.threshold_abs,
		                  .heartbeat_ns = f->c.heartbeat_ms * MS, .min_interval_ns = f->c.min_interval_ms * MS,
		                  .update_timeout_ns = cfg_timeout_ms * MS };
		f->last_why = -1;
		/* (not snprintf: source and destination are parts of one object) */
		memcpy(f->topic, "price.update.", 13);
		memcpy(f->topic + 13, f->c.feed, strlen(f->c.feed) + 1);
		rt_label_escape(f->c.feed, f->esc, sizeof f->esc);
		char l[160];
		for (int r = 0; r < 3; r++) {
			snprintf(l, sizeof l, "feed=\"%s\",reason=\"%s\"", f->esc, gd_reason_name(r));
			f->m_upd[r] = rt_counter("gate_updates_total", "Updates published, by reason.", l);
		}
		snprintf(l, sizeof l, "feed=\"%s\"", f->esc);
		f->m_dev = rt_gauge("gate_deviation_ppm", "Deviation of the latest aggregate from the on-chain answer, ppm.", l);
		f->m_age = rt_gauge("gate_onchain_age_seconds", "Seconds since the on-chain updatedAt.", l);
		f->m_inflight = rt_gauge("gate_inflight", "1 while an update of the feed is in flight.", l);
		f->m_chain_err = rt_counter("gate_chain_read_errors_total", "latestRoundData reads that failed.", l);
		f->m_refused = rt_counter("gate_aggregates_refused_total", "Aggregates refused (decimals differ).", l);
		char addr[43];
		hex_addr_format(f->c.aggregator, addr);
		rt_logkv(RT_INFO, "feed", "feed", f->c.feed, "aggregator", addr, NULL);
	}
	return 0;
}

static int
gt_open_state(void)
{
	st_err   e;
	MDB_txn *txn;
	ob_backoff bo = { .initial_ns = 1 * NS, .factor = 2.0, .max_ns = 30 * NS, .jitter = 0.1 };
	st_opts  o = { .map_size = 16u << 20, .max_tables = 8 };
	if (st_open(&gt_env, cfg_state_dir, &o, &e) != 0 || st_begin(gt_env, 0, &txn, &e) != 0) {
		rt_log(RT_ERROR, "STATE_DIR %s: %s", cfg_state_dir, e.text);
		return -1;
	}
	if (st_table(txn, "last", &gt_t_last, &e) || st_table(txn, "inflight", &gt_t_inf, &e) ||
	    ob_open(txn, "updates", &bo, &gt_ob, &e) || st_commit(txn, &e)) {
		rt_log(RT_ERROR, "STATE_DIR %s: %s", cfg_state_dir, e.text);
		return -1;
	}
	return gt_load();
}

int
main(int argc, char **argv)
{
	char err[512];
	if (rt_init("gate", argc, argv, opts, N(opts)) != 0)
		return 1;
	gt_flux = strcmp(cfg_sig, "submit(uint256,int256)") == 0;
	if (gt_flux && (cfg_transmitter == NULL ||
	                hex_addr_parse(cfg_transmitter, strlen(cfg_transmitter), gt_transmitter) != HEX_OK)) {
		rt_log(RT_ERROR, "TRANSMITTER: the signer's address is required with %s", cfg_sig);
		return 2;
	}
	m_ob_pending = rt_gauge("gate_outbox_pending", "Updates in the outbox, not yet seen by the signer.", NULL);
	m_status_unknown = rt_counter("gate_status_unknown_total", "tx.status with a ref for no feed of this gate.", NULL);
	if (gt_load_feeds() != 0)
		return 2;
	if (gt_open_state() != 0)
		return 1;
	if ((gt_rpc = rpc_open(cfg_rpc, cfg_chain_id, (int)cfg_rpc_timeout_ms, err, sizeof err)) == NULL) {
		rt_log(RT_ERROR, "RPC_URL: %s", err);
		return 1;
	}
	const char *topics[] = { "price.agg.", "tx.status", NULL };
	if ((gt_bus = act_open(&busc, ACT_PUB | ACT_SUB, topics, err, sizeof err)) == NULL) {
		rt_log(RT_ERROR, "bus: %s", err);
		return 1;
	}
	rt_logkv(RT_INFO, "gate ready", "signature", cfg_sig, NULL);

	uint64_t next_tick = 0;
	while (!rt_stopping()) {
		bus_msg m;
		int     rv = act_recv(gt_bus, &m, 100);
		if (rv == BUS_OK) {
			if (m.f.topic_len >= 10 && memcmp(m.f.topic, "price.agg.", 10) == 0)
				gt_on_agg(&m);
			else
				gt_on_status(&m);
			bus_msg_free(&m);
		} else if (rv == BUS_ECLOSED) {
			break;
		}
		uint64_t mono = rt_mono_ns();
		for (size_t i = 0; i < gt_nfeeds; i++)
			if (mono >= gt_feeds[i].next_poll_mono)
				gt_poll(&gt_feeds[i]);
		if (mono >= next_tick) {
			/* Timers: heartbeats and expired in-flight updates need no new aggregate. */
			next_tick = mono + 250 * MS;
			for (size_t i = 0; i < gt_nfeeds; i++) {
				gt_check_stale(&gt_feeds[i]);
				gt_evaluate(&gt_feeds[i]);
			}
			gt_flush_outbox();
		}
	}
	rt_log(RT_INFO, "stopping");
	act_close(gt_bus);
	rpc_close(gt_rpc);
	ob_close(gt_ob);
	st_close(gt_env);
	rt_shutdown();
	return 0;
}
