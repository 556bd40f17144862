/*
 * gate.c - the gate's core (gate.h): aggregates in, decisions out through an LMDB outbox, the
 * chain followed by polls and tx.status (reconcile.c). See README.md beside this file.
 */
#include "actors/gate/gate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "bus/bus.h"
#include "bus/rt_http.h"
#include "bus/rt_log.h"
#include "bus/rt_metrics.h"
#include "chain/hex.h"
#include "store/outbox.h"
#include "store/store.h"

#define GT_N(a) (sizeof(a) / sizeof((a)[0]))
#define GT_MS 1000000ull
#define GT_NS 1000000000ull

/* In-flight record (table "inflight", key = feed): version, id, since, answer. */
enum { GT_INF_V = 1, GT_INF_LEN = 1 + 16 + 8 + 32 };

typedef struct {
	gf_feed      c;
	gd_cfg       dc;
	gr_view      v;
	char         topic[FRAME_TOPIC_MAX + 1];
	char         esc[80];
	/* the latest aggregate */
	int          have_agg;
	sc_price_agg agg;
	uint64_t     agg_mono;
	char         agg_origin[SC_ORIGIN_CAP + 1];
	uint64_t     agg_seq;
	/* chain following */
	uint64_t     next_poll_mono;
	int          stale;         /* feed_stale alert firing */
	int          last_why;
	rt_metric   *m_upd[3], *m_dev, *m_age, *m_inflight, *m_chain_err, *m_refused;
} gt_feed;

struct gt {
	gt_cfg     c;
	char      *state_dir;
	gt_io      io;
	gt_feed    feeds[GF_MAX_FEEDS];
	size_t     n;
	st_env    *env;
	ob_box    *ob;
	MDB_dbi    t_last, t_inf;
	uint64_t   next_tick_mono;
	rt_metric *m_ob_pending, *m_status_unknown;
};

/* ---- persistence ------------------------------------------------------------------------- */

static void
gt_inf_encode(const gt_feed *f, uint8_t b[GT_INF_LEN])
{
	b[0] = GT_INF_V;
	memcpy(b + 1, f->v.inf_id, 16);
	st_key_u64(b + 17, f->v.st.inflight_since_ns);
	u256_to_be(&f->v.inf_answer, b + 25);
}

/* Loads the last decision and the in-flight update of every feed (after a restart). */
static int
gt_load(gt *g, char *err, size_t errlen)
{
	MDB_txn *txn;
	st_err   e;
	if (st_begin(g->env, 1, &txn, &e) != 0) {
		snprintf(err, errlen, "state: %s", e.text);
		return -1;
	}
	for (size_t i = 0; i < g->n; i++) {
		gt_feed        *f = &g->feeds[i];
		sc_price_update last;
		MDB_val         v;
		size_t          klen = strlen(f->c.feed);
		if (st_get_rec(txn, g->t_last, f->c.feed, klen, &SC_PRICE_UPDATE, &last, &e) == 0)
			f->v.st.last_publish_ns = last.decided_at_ns;
		if (st_get(txn, g->t_inf, f->c.feed, klen, &v, &e) == 0 && v.mv_size == GT_INF_LEN &&
		    ((uint8_t *)v.mv_data)[0] == GT_INF_V) {
			const uint8_t *b = v.mv_data;
			f->v.st.inflight = 1;
			memcpy(f->v.inf_id, b + 1, 16);
			f->v.st.inflight_since_ns = st_u64_at(b + 17);
			u256_from_be(&f->v.inf_answer, b + 25, 32);
			char id[33];
			hex_encode(f->v.inf_id, 16, 0, id);
			rt_logkv(RT_INFO, "update in flight from before the restart", "feed", f->c.feed, "id", id, NULL);
		}
		rt_gauge_set(f->m_inflight, f->v.st.inflight);
	}
	st_abort(txn);
	return 0;
}

/* Persists that a feed's in-flight update is over (the view already says so). */
static void
gt_drop_inflight(gt *g, gt_feed *f, const uint8_t id[16], const char *why)
{
	MDB_txn *txn;
	st_err   e;
	int      rc = st_begin(g->env, 0, &txn, &e);
	if (rc == 0) {
		rc = st_del(txn, g->t_inf, f->c.feed, strlen(f->c.feed), &e);
		if (rc == MDB_NOTFOUND)
			rc = 0;
		rc = rc ? rc : ob_ack(txn, g->ob, id, NULL, &e);
		if (rc == 0)
			rc = st_commit(txn, &e);
		else
			st_abort(txn);
	}
	if (rc != 0)
		rt_log(RT_ERROR, "state: clearing in-flight update of %s: %s", f->c.feed, e.text);
	rt_gauge_set(f->m_inflight, 0);
	rt_logkv(RT_INFO, "update no longer in flight", "feed", f->c.feed, "why", why, NULL);
}

/* ---- the outbox ---------------------------------------------------------------------------- */

/* (Re)publishes every due update; each keeps its id, so the signer deduplicates. */
static void
gt_flush_outbox(gt *g, uint64_t now_ns)
{
	uint8_t  ids[16][OB_ID_LEN];
	MDB_txn *txn;
	st_err   e;
	if (st_begin(g->env, 0, &txn, &e) != 0) {
		rt_log(RT_ERROR, "outbox: %s", e.text);
		return;
	}
	long n = ob_due(txn, g->ob, now_ns, ids, GT_N(ids), &e);
	for (long i = 0; i < n; i++) {
		ob_msg m;
		char   topic[OB_TOPIC_MAX + 1], type[OB_TYPE_MAX + 1];
		if (ob_get(txn, g->ob, ids[i], &m, &e) != 0)
			continue;
		snprintf(topic, sizeof topic, "%.*s", (int)m.topic_len, m.topic);
		snprintf(type, sizeof type, "%.*s", (int)m.type_len, m.type);
		int rv = g->io.publish(g->io.ctx, topic, type, m.id, m.body, m.body_len);
		if (m.attempts > 0 && rt_log_enabled(RT_DEBUG))
			rt_logkv(RT_DEBUG, "re-published update", "topic", topic, NULL);
		ob_mark_sent(txn, g->ob, ids[i], now_ns, rv == BUS_OK ? NULL : "publish failed", &e);
	}
	uint64_t cnt = 0;
	ob_count(txn, g->ob, &cnt, &e);
	rt_gauge_set(g->m_ob_pending, (double)cnt);
	if (st_commit(txn, &e) != 0)
		rt_log(RT_ERROR, "outbox: %s", e.text);
}

/* ---- following the chain ------------------------------------------------------------------- */

static void
gt_poll(gt *g, gt_feed *f, uint64_t mono)
{
	gc_round  r;
	rpc_error e;
	int       rc = g->io.read_latest(g->io.ctx, f->c.aggregator, &r, &e);
	char      key[64];
	snprintf(key, sizeof key, "chain:%.31s", f->c.feed);
	if (rc != RPC_OK) {
		rt_inc(f->m_chain_err);
		rt_health_set(key, 1, e.msg);
		if (rt_log_state_change(key, "error"))
			rt_logkv(RT_WARN, "cannot read latestRoundData", "feed", f->c.feed, "error", e.msg, NULL);
		/* Retry soon while the answer is unknown, else at the normal pace. */
		f->next_poll_mono = mono + (f->v.st.known ? g->c.poll_ms : 1000) * GT_MS;
		return;
	}
	rt_health_set(key, 0, NULL);
	f->next_poll_mono = mono + g->c.poll_ms * GT_MS;
	uint8_t id[16];
	memcpy(id, f->v.inf_id, 16);
	int fl = gr_poll(&f->v, &r, mono, 2 * g->c.poll_ms * GT_MS);
	if (!(fl & GR_ADOPTED))
		return;
	if (rt_log_state_change(key, "ok") || (fl & GR_CHANGED)) {
		char a[96], t[24], rd[80];
		fixed_to_dec(&r.answer, (unsigned)f->c.decimals, a);
		snprintf(t, sizeof t, "%llu", (unsigned long long)r.updated_at_s);
		u256_to_dec(&r.round_id, rd);
		rt_logkv(RT_INFO, "on-chain answer", "feed", f->c.feed, "answer", a, "updated_at", t, "round", rd, NULL);
	}
	/* Our in-flight update landed even if its tx.status was lost. */
	if (fl & GR_LANDED)
		gt_drop_inflight(g, f, id, "seen on chain");
}

/* The round the update will be for: FluxAggregator's submit needs the exact one. */
static void
gt_round_for_update(gt *g, gt_feed *f, u256 *round)
{
	u256 one;
	u256_from_u64(&one, 1);
	u256_add(round, &f->v.st.round_id, &one);
	if (!g->c.flux)
		return;
	uint64_t  rd;
	rpc_error e;
	if (g->io.read_oracle_round(g->io.ctx, f->c.aggregator, g->c.transmitter, &rd, &e) == RPC_OK)
		u256_from_u64(round, rd);
	else
		rt_logkv(RT_WARN, "oracleRoundState failed; using latest round + 1", "feed", f->c.feed, "error", e.msg,
		         NULL);
}

static void
gt_check_stale(gt *g, gt_feed *f, uint64_t now_ns)
{
	uint64_t now_s = now_ns / GT_NS;
	const gd_state *st = &f->v.st;
	uint64_t age = st->known && st->updated_at_s && now_s > st->updated_at_s ? now_s - st->updated_at_s : 0;
	rt_gauge_set(f->m_age, (double)age);
	if (!st->known || f->c.heartbeat_ms == 0 || st->updated_at_s == 0)
		return;
	int stale = age * 1000 > g->c.stale_factor * f->c.heartbeat_ms;
	if (stale == f->stale)
		return;
	f->stale = stale;
	char key[64], text[200];
	snprintf(key, sizeof key, "gate:%.31s:feed_stale", f->c.feed);
	snprintf(text, sizeof text, "%.31s: on-chain answer is %llu s old (heartbeat %llu s x %llu)", f->c.feed,
	         (unsigned long long)age, (unsigned long long)(f->c.heartbeat_ms / 1000),
	         (unsigned long long)g->c.stale_factor);
	const char *labels[] = { "feed", f->c.feed, NULL };
	if (g->io.alert)
		g->io.alert(g->io.ctx, SC_SEV_ERROR, stale ? SC_ALERT_FIRING : SC_ALERT_RESOLVED, "feed_stale", key, text,
		            labels);
	rt_logkv(stale ? RT_WARN : RT_INFO, stale ? "feed stale" : "feed fresh again", "feed", f->c.feed, NULL);
}

/* ---- deciding ---------------------------------------------------------------------------- */

static void
gt_publish(gt *g, gt_feed *f, const gd_decision *d, uint64_t now_ns)
{
	sc_price_update u;
	memset(&u, 0, sizeof u);
	snprintf(u.feed, sizeof u.feed, "%s", f->c.feed);
	u.answer = f->agg.median;
	u.decimals = f->c.decimals;
	u.reason = d->reason;
	u.previous_answer = f->v.st.answer;
	u.previous_updated_at_s = f->v.st.updated_at_s;
	u.deviation_ppm = d->deviation_ppm;
	u.threshold_ppm = f->c.threshold_ppm;
	u.threshold_abs = f->c.threshold_abs;
	u.since_update_s = d->since_update_s;
	u.heartbeat_s = f->c.heartbeat_ms / 1000;
	gt_round_for_update(g, f, &u.round_id);
	u.chain_id = g->io.chain_id(g->io.ctx);
	memcpy(u.contract, f->c.aggregator, 20);
	u.decided_at_ns = now_ns;
	snprintf(u.agg_origin, sizeof u.agg_origin, "%s", f->agg_origin);
	u.agg_seq = f->agg_seq;
	u.agg_sources = f->agg.used_count;

	uint8_t id[16], body[2048], inf[GT_INF_LEN];
	size_t  len;
	sc_err  se;
	st_err  e;
	if (getrandom(id, sizeof id, 0) != (ssize_t)sizeof id ||
	    sc_encode(&SC_PRICE_UPDATE, &u, body, sizeof body, &len, &se) != 0) {
		rt_log(RT_ERROR, "cannot build the update for %s", f->c.feed);
		return;
	}
	uint8_t old[16];
	int     supersede = d->supersede && f->v.st.inflight;
	memcpy(old, f->v.inf_id, 16);
	gr_view saved = f->v;
	memcpy(f->v.inf_id, id, 16);
	f->v.inf_answer = u.answer;
	f->v.st.inflight = 1;
	f->v.st.inflight_since_ns = u.decided_at_ns;
	f->v.st.last_publish_ns = u.decided_at_ns;
	gt_inf_encode(f, inf);

	/* Decision, in-flight marker and outbox entry commit together or not at all. */
	MDB_txn *txn;
	int      rc = st_begin(g->env, 0, &txn, &e);
	if (rc == 0 && supersede)
		rc = ob_ack(txn, g->ob, old, NULL, &e);
	if (rc == 0)
		rc = ob_put(txn, g->ob, id, f->topic, "price.update", body, len, u.decided_at_ns, &e);
	if (rc == 0)
		rc = st_put_rec(txn, g->t_last, f->c.feed, strlen(f->c.feed), &SC_PRICE_UPDATE, &u, &e);
	if (rc == 0)
		rc = st_put(txn, g->t_inf, f->c.feed, strlen(f->c.feed), inf, sizeof inf, &e);
	if (rc == 0)
		rc = st_commit(txn, &e);
	else if (txn)
		st_abort(txn);
	if (rc != 0) {
		f->v = saved;
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
	gt_flush_outbox(g, now_ns);
}

static void
gt_evaluate(gt *g, gt_feed *f, uint64_t now_ns, uint64_t mono_ns)
{
	if (!f->have_agg || mono_ns - f->agg_mono > g->c.agg_max_age_ms * GT_MS)
		return;
	gd_decision d;
	gd_decide(&f->dc, &f->v.st, &f->agg.median, now_ns, &d);
	rt_gauge_set(f->m_dev, d.deviation_ppm == UINT64_MAX ? 1e18 : (double)d.deviation_ppm);
	if (d.action == GD_PUBLISH) {
		gt_publish(g, f, &d, now_ns);
	} else if (d.why != f->last_why && d.why != GD_WHY_WITHIN) {
		rt_logkv(RT_DEBUG, "holding", "feed", f->c.feed, "why", gd_why_name(d.why), "reason",
		         gd_reason_name(d.reason), NULL);
	}
	f->last_why = d.why;
}

static gt_feed *
gt_find(const gt *g, const char *name)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->feeds[i].c.feed, name) == 0)
			return (gt_feed *)&g->feeds[i];
	return NULL;
}

int
gt_on_agg(gt *g, const sc_price_agg *a, const char *origin, uint64_t seq, uint64_t now_ns, uint64_t mono_ns)
{
	gt_feed *f = gt_find(g, a->feed);
	if (f == NULL)
		return GT_AGG_OTHER_FEED; /* another shard's feed */
	if (a->decimals != f->c.decimals) {
		rt_inc(f->m_refused);
		char key[64];
		snprintf(key, sizeof key, "decimals:%.31s", a->feed);
		if (rt_log_state_change(key, "mismatch"))
			rt_logkv(RT_ERROR, "aggregate refused: decimals differ from the feed's", "feed", a->feed, NULL);
		return GT_AGG_REFUSED;
	}
	f->agg = *a;
	f->have_agg = 1;
	f->agg_mono = mono_ns;
	snprintf(f->agg_origin, sizeof f->agg_origin, "%s", origin);
	f->agg_seq = seq;
	gt_evaluate(g, f, now_ns, mono_ns);
	return GT_AGG_TAKEN;
}

void
gt_on_status(gt *g, const sc_tx_status *s, uint64_t now_ns, uint64_t mono_ns)
{
	uint8_t ref[16];
	int     has_ref = strlen(s->ref) == 32 && hex_decode_exact(s->ref, 32, ref, 16) == HEX_OK;
	if (has_ref) {
		/* Any status for our update means the signer has it: stop re-publishing. */
		MDB_txn *txn;
		st_err   e;
		int      removed = 0;
		if (st_begin(g->env, 0, &txn, &e) == 0) {
			if (ob_ack(txn, g->ob, ref, &removed, &e) == 0)
				st_commit(txn, &e);
			else
				st_abort(txn);
		}
		if (removed)
			rt_logkv(RT_DEBUG, "update acknowledged", "ref", s->ref, NULL);
	}
	gt_feed *f = s->feed[0] ? gt_find(g, s->feed) : NULL;
	if (f == NULL) {
		if (has_ref)
			rt_inc(g->m_status_unknown);
		return;
	}
	uint8_t id[16];
	memcpy(id, f->v.inf_id, 16);
	int out = gr_status(&f->v, s, has_ref ? ref : NULL, now_ns, mono_ns);
	switch (out) {
	case GR_S_OURS_DONE:
		gt_drop_inflight(g, f, id, sc_enum_name(&SC_TX_STATUS, "state", s->state));
		/* fall through */
	case GR_S_OTHERS: {
		char a[96];
		fixed_to_dec(&s->answer, (unsigned)f->c.decimals, a);
		rt_logkv(RT_INFO, "confirmed answer", "feed", f->c.feed, "answer", a, "ref", s->ref, NULL);
		break;
	}
	case GR_S_OURS_FAILED:
	case GR_S_OURS_DROPPED:
		gt_drop_inflight(g, f, id, sc_enum_name(&SC_TX_STATUS, "state", s->state));
		rt_logkv(RT_WARN, "update failed", "feed", f->c.feed, "error", s->error_text, NULL);
		break;
	default:
		break;
	}
}

void
gt_step(gt *g, uint64_t now_ns, uint64_t mono_ns)
{
	for (size_t i = 0; i < g->n; i++)
		if (mono_ns >= g->feeds[i].next_poll_mono)
			gt_poll(g, &g->feeds[i], mono_ns);
	if (mono_ns < g->next_tick_mono)
		return;
	/* Timers: heartbeats and expired in-flight updates need no new aggregate. */
	g->next_tick_mono = mono_ns + 250 * GT_MS;
	for (size_t i = 0; i < g->n; i++) {
		gt_check_stale(g, &g->feeds[i], now_ns);
		gt_evaluate(g, &g->feeds[i], now_ns, mono_ns);
	}
	gt_flush_outbox(g, now_ns);
}

/* ---- start ------------------------------------------------------------------------------- */

static void
gt_feed_init(gt *g, gt_feed *f, const gf_feed *c)
{
	memset(f, 0, sizeof *f);
	f->c = *c;
	f->dc = (gd_cfg){ .threshold_ppm = c->threshold_ppm, .threshold_abs = c->threshold_abs,
	                  .heartbeat_ns = c->heartbeat_ms * GT_MS, .min_interval_ns = c->min_interval_ms * GT_MS,
	                  .update_timeout_ns = g->c.update_timeout_ms * GT_MS };
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
}

gt *
gt_open(const gt_cfg *cfg, const gf_feed *feeds, size_t n, const gt_io *io, char *err, size_t errlen)
{
	if (n == 0 || n > GF_MAX_FEEDS) {
		snprintf(err, errlen, "between 1 and %d feeds", GF_MAX_FEEDS);
		return NULL;
	}
	gt *g = calloc(1, sizeof *g);
	if (g == NULL || (g->state_dir = strdup(cfg->state_dir)) == NULL) {
		free(g);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->c = *cfg;
	g->c.state_dir = g->state_dir;
	g->io = *io;
	g->m_ob_pending = rt_gauge("gate_outbox_pending", "Updates in the outbox, not yet seen by the signer.", NULL);
	g->m_status_unknown = rt_counter("gate_status_unknown_total", "tx.status with a ref for no feed of this gate.",
	                                 NULL);
	for (size_t i = 0; i < n; i++)
		gt_feed_init(g, &g->feeds[g->n++], &feeds[i]);

	st_err     e;
	MDB_txn   *txn;
	ob_backoff bo = { .initial_ns = 1 * GT_NS, .factor = 2.0, .max_ns = 30 * GT_NS, .jitter = 0.1 };
	st_opts    o = { .map_size = 16u << 20, .max_tables = 8 };
	if (st_open(&g->env, g->state_dir, &o, &e) != 0 || st_begin(g->env, 0, &txn, &e) != 0) {
		snprintf(err, errlen, "STATE_DIR %s: %s", g->state_dir, e.text);
		gt_close(g);
		return NULL;
	}
	if (st_table(txn, "last", &g->t_last, &e) || st_table(txn, "inflight", &g->t_inf, &e) ||
	    ob_open(txn, "updates", &bo, &g->ob, &e) || st_commit(txn, &e)) {
		snprintf(err, errlen, "STATE_DIR %s: %s", g->state_dir, e.text);
		gt_close(g);
		return NULL;
	}
	if (gt_load(g, err, errlen) != 0) {
		gt_close(g);
		return NULL;
	}
	return g;
}

void
gt_close(gt *g)
{
	if (g == NULL)
		return;
	ob_close(g->ob);
	st_close(g->env);
	free(g->state_dir);
	free(g);
}

const gr_view *
gt_view(const gt *g, const char *feed)
{
	const gt_feed *f = gt_find(g, feed);
	return f ? &f->v : NULL;
}

size_t
gt_feed_count(const gt *g)
{
	return g->n;
}

const char *
gt_feed_name(const gt *g, size_t i)
{
	return i < g->n ? g->feeds[i].c.feed : NULL;
}
