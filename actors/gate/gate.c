/*
 * gate.c - the gate's core (gate.h): aggregates in, decisions out through an LMDB outbox, the
 * chain followed by polls and tx.status (reconcile.c). See README.md beside this file.
 */
#include "actors/gate/gate.h"

#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "bus/bus.h"
#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_metrics.h"
#include "base/hex.h"
#include "chain/batch.h"
#include "chain/revert.h"
#include "store/outbox.h"
#include "store/store.h"

#define GT_N(a) (sizeof(a) / sizeof((a)[0]))
#define GT_MS   1000000ull
#define GT_NS   1000000000ull

#define GT_RECENT    256  /* landed updates remembered for their gas (gt_landed) */
#define GT_BCONF_MAX 64   /* confirmed batches read together at a turn's end (more: read at once) */
#define GT_ACKS      1024 /* outbox acks a turn holds; a full list is committed at once */
#define GT_EST_BATCH 100  /* eth_estimateGas per JSON-RPC batch: under the usual provider limits */
/* How long an estimate's limit is reused, each update (or batch) checked at it by one eth_call
 * (gt_estimate_turn, gt_batch_checked). Bounded in time only: a check that passes proves the call
 * passes at the limit sent (a call that needs more now fails it and takes the full path at once),
 * so a re-estimate only follows a cost that drifted down. A count bound (32 uses) re-estimated a
 * 500-feed gate's batches every 2 s (24-30 estimates, each with its preflight and checks, in a
 * 45 s bench run; now one): node calls saved, no latency difference measured beyond the noise. */
#define GT_GAS_REUSE_NS (600 * GT_NS)

/* In-flight record (table "inflight", key = feed): version, id, since, answer. */
enum {
	GT_INF_V = 1,
	GT_INF_LEN = 1 + 16 + 8 + 32
};

typedef struct {
	gf_feed c;
	gd_cfg dc;
	gr_view v;
	char topic[FRAME_TOPIC_MAX + 1];
	/* the latest aggregate */
	int have_agg;
	sc_price_agg agg;
	uint64_t agg_mono;
	char agg_origin[SC_ORIGIN_CAP + 1];
	uint64_t agg_seq;
	/* chain following */
	uint64_t next_poll_mono;
	int stale;     /* feed_stale alert firing */
	int agg_stale; /* held: the aggregate is older than it may be used */
	int last_why;
	uint64_t retry_mono; /* no publishing before this (the estimate could not be made) */
	uint64_t wake_mono;  /* decide again at this moment (a timed hold ends: min interval, backoff,
	                        retry); 0 = none. Not left to the 250 ms tick: a move held only by the
	                        min interval went out up to 250 ms after it could have */
	char fail_text[160]; /* why the last failure happened */
	rt_metric *m_upd[3], *m_dev, *m_age, *m_inflight, *m_chain_err, *m_refused;
	rt_metric *m_agg_stale, *m_agg_age, *m_breaker, *m_failures, *m_consecutive, *m_gas;
	/* batches: decided, waiting (at most BATCH_WINDOW) for the batch to go out */
	int due;
	uint64_t due_mono;
	u256 next_round;       /* the round its call is for */
	uint8_t inner[4 + 64]; /* its call for aggregate3 (scratch of the batch being built) */
	size_t inner_len;
	char culprit_text[160]; /* why its call failed in the batch's eth_call */
	/* turns (gate.h): decided, queued until the turn ends */
	int pend;
	gd_decision pend_d;
	uint64_t pend_ns;   /* when it was decided */
	uint64_t est_gas;   /* its gas limit, from the turn's estimates */
	int inf_dirty;      /* table "inflight" is to be written as the view says (a drop) */
	gr_view saved;      /* the view before the turn queued it, restored if the commit fails */
	uint8_t old_id[16]; /* the update it supersedes (acked in the same commit) */
	int supersede;
	uint64_t gas_ok;      /* the limit of its latest estimate, checked by eth_call until GT_GAS_REUSE_NS */
	uint64_t gas_ok_mono; /* when that estimate was made */
} gt_feed;

struct gt {
	gt_cfg c;
	char *state_dir;
	gt_io io;
	gt_feed *feeds; /* n, allocated to the configured count */
	size_t n;
	st_env *env;
	ob_box *ob;
	MDB_dbi t_last, t_inf, t_breaker;
	uint64_t next_tick_mono;
	char *instance;
	gc_call call;
	int rpc_down; /* rpc_unreachable alert firing */
	rt_metric *m_ob_pending, *m_status_unknown, *m_store_err, *m_rpc_up;
	/* batches */
	char *batch_name;
	char batch_topic[FRAME_TOPIC_MAX + 1];
	gt_feed *members[CB_MAX_CALLS];
	uint8_t batch_data[SC_RAWTX_CAP];
	sc_price_update bu;            /* the batch being built */
	sc_price_update one;           /* a member's own record (table "last") */
	uint8_t body[SC_MAX_BODY / 4]; /* a batch's price.update body */
	rt_metric *m_batches, *m_batch_feeds, *m_culprits, *m_gas_used[2], *m_landed[2], *m_batch_checked;
	/* confirmed batches whose members are read at the turn's end, all in one JSON-RPC batch
	 * (gt_batch_confirmed): a block confirms a dozen batches at once */
	struct {
		uint8_t ref[16];
		uint64_t block, gas_used;
	} bconf[GT_BCONF_MAX];
	size_t nbconf;
	/* a batch's gas per call from its latest estimate (gt_batch_checked), as a feed's gas_ok */
	uint64_t bgas_call, bgas_mono;
	/* updates seen landed, until their transaction's confirmed tx.status brings its gas_used (a
	 * poll may see an update on chain before its status arrives) */
	struct {
		uint8_t id[16];
		uint32_t feeds;
		int counted;
	} recent[GT_RECENT];
	size_t nrecent;
	/* turns (gate.h): what the turn writes in its one transaction */
	int turn;
	size_t npend, ndirty, nacks;
	uint8_t acks[GT_ACKS][16];
	gt_feed **pub;               /* n: the turn's decisions being queued */
	gc_estimate *est;            /* n: their estimates */
	int est_no_batch;            /* the node refused a batch: estimate one by one from then on */
	int resend_due;              /* the tick: re-publish due outbox entries after the turn's commit */
	gc_read reads[GT_EST_BATCH]; /* a batch of polls */
	int read_no_batch;           /* the node refused a batch: poll one by one from then on */
	rt_metric *m_turn_updates;
};

/* Gas per landed update, by how it was sent: gate_landed_gas_total / gate_landed_updates_total. */
enum {
	GT_SINGLE = 0,
	GT_BATCHED = 1
};

/* Breaker record (table "breaker", key = feed): version, open, failures (be32), last failure
 * (be64 ns), text length, text. */
enum {
	GT_BRK_V = 1,
	GT_BRK_HDR = 1 + 1 + 4 + 8 + 1
};

/* Counts and logs a failed store write; the in-memory state stays as decided (the next write
 * retries), and /metrics shows it. */
static void
gt_store_failed(gt *g, const char *what, const char *feed, const st_err *e)
{
	rt_inc(g->m_store_err);
	rt_logkv(RT_ERROR, "state write failed", "what", what, "feed", feed ? feed : "", "error", e->text, NULL);
}

static void
gt_alert(gt *g, int severity, int status, const char *kind, const char *key, const char *text,
         const char *const *labels)
{
	if (g->io.alert && g->io.alert(g->io.ctx, severity, status, kind, key, text, labels) != BUS_OK)
		rt_logkv(RT_ERROR, "cannot publish the alert", "kind", kind, "key", key, NULL);
}

/* The RPC is up as long as any endpoint answers (a node error is an answer). */
static void
gt_rpc_result(gt *g, int rc, const rpc_error *e)
{
	int down;
	if (rc == RPC_ETRANSPORT)
		down = 1;
	else if (rc == RPC_OK || rc == RPC_ENODE)
		down = 0;
	else
		return;
	if (down == g->rpc_down)
		return;
	g->rpc_down = down;
	rt_gauge_set(g->m_rpc_up, !down);
	rt_health_set("rpc", down, down ? "no RPC endpoint answers" : NULL);
	char key[160], text[320];
	snprintf(key, sizeof key, "rpc_unreachable:gate:%.100s", g->instance);
	if (down)
		snprintf(text, sizeof text, "gate %.60s cannot reach any RPC endpoint: %.200s", g->instance, e->msg);
	else
		snprintf(text, sizeof text, "gate %.60s reaches an RPC endpoint again", g->instance);
	const char *labels[] = { "actor", "gate", NULL };
	gt_alert(g, SC_SEV_ERROR, down ? SC_ALERT_FIRING : SC_ALERT_RESOLVED, "rpc_unreachable", key, text, labels);
	rt_logkv(down ? RT_ERROR : RT_INFO, down ? "rpc unreachable" : "rpc reachable again", "error",
	         down ? e->msg : "", NULL);
}

static void gt_succeed(gt *g, gt_feed *f);
static void gt_landed(gt *g, const uint8_t id[16]);

/* ---- persistence ------------------------------------------------------------------------- */

static void
gt_inf_encode(const gt_feed *f, uint8_t b[GT_INF_LEN])
{
	b[0] = GT_INF_V;
	memcpy(b + 1, f->v.inf_id, 16);
	st_key_u64(b + 17, f->v.st.inflight_since_ns);
	u256_to_be(&f->v.inf_answer, b + 25);
}

static int
gt_brk_put(gt *g, MDB_txn *txn, const gt_feed *f, st_err *e)
{
	size_t tl = strlen(f->fail_text);
	uint8_t b[GT_BRK_HDR + sizeof f->fail_text];
	if (f->v.st.failures == 0 && !f->v.st.breaker_open) {
		int rc = st_del(txn, g->t_breaker, f->c.feed, strlen(f->c.feed), e);
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	b[0] = GT_BRK_V;
	b[1] = (uint8_t)f->v.st.breaker_open;
	for (int i = 0; i < 4; i++)
		b[2 + i] = (uint8_t)(f->v.st.failures >> (24 - 8 * i));
	st_key_u64(b + 6, f->v.st.last_failure_ns);
	b[14] = (uint8_t)tl;
	memcpy(b + GT_BRK_HDR, f->fail_text, tl);
	return st_put(txn, g->t_breaker, f->c.feed, strlen(f->c.feed), b, GT_BRK_HDR + tl, e);
}

/* Persists a feed's failure count and breaker on their own (a failure or a reset). */
static void
gt_brk_save(gt *g, const gt_feed *f)
{
	MDB_txn *txn;
	st_err e;
	int rc = st_begin(g->env, 0, &txn, &e);
	if (rc == 0 && (rc = gt_brk_put(g, txn, f, &e)) == 0)
		rc = st_commit(txn, &e);
	else
		st_abort(txn);
	if (rc != 0)
		gt_store_failed(g, "breaker", f->c.feed, &e);
}

static void
gt_brk_load(gt_feed *f, const MDB_val *v)
{
	const uint8_t *b = v->mv_data;
	if (v->mv_size < GT_BRK_HDR || b[0] != GT_BRK_V || v->mv_size != GT_BRK_HDR + (size_t)b[14] ||
	    b[14] >= sizeof f->fail_text) {
		rt_logkv(RT_ERROR, "breaker record unreadable: ignored", "feed", f->c.feed, NULL);
		return;
	}
	f->v.st.breaker_open = b[1] != 0;
	f->v.st.failures = (uint32_t)b[2] << 24 | (uint32_t)b[3] << 16 | (uint32_t)b[4] << 8 | b[5];
	f->v.st.last_failure_ns = st_u64_at(b + 6);
	memcpy(f->fail_text, b + GT_BRK_HDR, b[14]);
	f->fail_text[b[14]] = 0;
}

/* Loads the last decision and the in-flight update of every feed (after a restart). */
static int
gt_load(gt *g, char *err, size_t errlen)
{
	MDB_txn *txn;
	st_err e;
	if (st_begin(g->env, 1, &txn, &e) != 0) {
		snprintf(err, errlen, "state: %s", e.text);
		return -1;
	}
	for (size_t i = 0; i < g->n; i++) {
		gt_feed *f = &g->feeds[i];
		sc_price_update last;
		MDB_val v;
		size_t klen = strlen(f->c.feed);
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
			rt_logkv(RT_INFO, "update in flight from before the restart", "feed", f->c.feed, "id", id,
			         NULL);
		}
		if (st_get(txn, g->t_breaker, f->c.feed, klen, &v, &e) == 0)
			gt_brk_load(f, &v);
		rt_gauge_set(f->m_inflight, f->v.st.inflight);
		rt_gauge_set(f->m_consecutive, f->v.st.failures);
		rt_gauge_set(f->m_breaker, f->v.st.breaker_open);
		if (f->v.st.breaker_open) {
			/* A restart does not close it: only gt_reset does. The alert was sent when it opened. */
			char key[64], text[240];
			snprintf(key, sizeof key, "breaker:%.31s", f->c.feed);
			snprintf(text, sizeof text, "updates stopped after %u failures: %s", f->v.st.failures,
			         f->fail_text);
			rt_health_set(key, 1, text);
			rt_logkv(RT_ERROR, "breaker open (from before the restart): no updates until reset", "feed",
			         f->c.feed, "why", f->fail_text, NULL);
		}
	}
	st_abort(txn);
	return 0;
}

/* Queues the outbox ack of id for the turn's transaction (gt_turn_flush); a full list is
 * committed at once. */
static void gt_commit_writes(gt *g);
static void
gt_queue_ack(gt *g, const uint8_t id[16])
{
	if (g->nacks == GT_ACKS)
		gt_commit_writes(g);
	if (g->nacks < GT_ACKS) /* (else the commit failed: the entry is re-published, acked again) */
		memcpy(g->acks[g->nacks++], id, 16);
}

/* A feed's in-flight update is over (the view already says so): its marker and outbox entry go
 * in the turn's transaction. */
static void
gt_drop_inflight(gt *g, gt_feed *f, const uint8_t id[16], const char *why)
{
	if (!f->inf_dirty) {
		f->inf_dirty = 1;
		g->ndirty++;
	}
	gt_queue_ack(g, id);
	rt_gauge_set(f->m_inflight, 0);
	rt_logkv(RT_INFO, "update no longer in flight", "feed", f->c.feed, "why", why, NULL);
}

/* Writes the queued acks and the "inflight" rows of the dirty feeds (as their views say) into txn. */
static int
gt_write_queued(gt *g, MDB_txn *txn, st_err *e)
{
	int rc = 0;
	for (size_t i = 0; i < g->nacks && rc == 0; i++)
		rc = ob_ack(txn, g->ob, g->acks[i], NULL, e);
	for (size_t i = 0; i < g->n && g->ndirty && rc == 0; i++) {
		gt_feed *f = &g->feeds[i];
		if (!f->inf_dirty)
			continue;
		if (f->v.st.inflight) {
			uint8_t inf[GT_INF_LEN];
			gt_inf_encode(f, inf);
			rc = st_put(txn, g->t_inf, f->c.feed, strlen(f->c.feed), inf, sizeof inf, e);
		} else if ((rc = st_del(txn, g->t_inf, f->c.feed, strlen(f->c.feed), e)) == MDB_NOTFOUND) {
			rc = 0;
		}
	}
	return rc;
}

static void
gt_written(gt *g)
{
	g->nacks = 0;
	for (size_t i = 0; i < g->n && g->ndirty; i++)
		if (g->feeds[i].inf_dirty) {
			g->feeds[i].inf_dirty = 0;
			g->ndirty--;
		}
}

/* Commits the queued acks and drops on their own (the ack list is full). A failure keeps them
 * queued for the turn's commit. */
static void
gt_commit_writes(gt *g)
{
	MDB_txn *txn;
	st_err e;
	int rc = st_begin(g->env, 0, &txn, &e);
	if (rc == 0) {
		if ((rc = gt_write_queued(g, txn, &e)) == 0)
			rc = st_commit(txn, &e);
		else
			st_abort(txn);
	}
	if (rc != 0) {
		gt_store_failed(g, "acks and in-flight drops", NULL, &e);
		return;
	}
	gt_written(g);
}

/* ---- the outbox ---------------------------------------------------------------------------- */

static const char *
gt_send_update(void *ctx, const ob_msg *m)
{
	gt *g = ctx;
	char topic[OB_TOPIC_MAX + 1], type[OB_TYPE_MAX + 1];
	snprintf(topic, sizeof topic, "%.*s", (int)m->topic_len, m->topic);
	snprintf(type, sizeof type, "%.*s", (int)m->type_len, m->type);
	if (m->attempts > 0 && rt_log_enabled(RT_DEBUG))
		rt_logkv(RT_DEBUG, "re-published update", "topic", topic, NULL);
	return g->io.publish(g->io.ctx, topic, type, m->id, m->body, m->body_len) == BUS_OK ? NULL : "publish failed";
}

/* (Re)publishes every due update; each keeps its id, so the signer deduplicates. A failure is not
 * fatal: the entry stays due and goes out again next time (same id). */
static void
gt_flush_outbox(gt *g, uint64_t now_ns)
{
	st_err e;
	uint64_t pending = 0;
	if (ob_send_due(g->env, g->ob, now_ns, now_ns, gt_send_update, g, &pending, &e) < 0)
		gt_store_failed(g, "outbox", NULL, &e);
	else
		rt_gauge_set(g->m_ob_pending, (double)pending);
}

/* ---- following the chain ------------------------------------------------------------------- */

/* A poll's answer for f (rc, then r or e): the chain's answer adopted (reconcile.h), our
 * in-flight update seen landed. */
static void
gt_polled(gt *g, gt_feed *f, int rc, const gc_round *rp, const rpc_error *ep, uint64_t mono)
{
	gc_round r = *rp;
	char key[64];
	snprintf(key, sizeof key, "chain:%.31s", f->c.feed);
	if (rc != RPC_OK) {
		rt_inc(f->m_chain_err);
		rt_health_set(key, 1, ep->msg);
		if (rt_log_state_change(key, "error"))
			rt_logkv(RT_WARN, "cannot read latestRoundData", "feed", f->c.feed, "error", ep->msg, NULL);
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
		rt_logkv(RT_INFO, "on-chain answer", "feed", f->c.feed, "answer", a, "updated_at", t, "round", rd,
		         NULL);
	}
	/* Our in-flight update landed even if its tx.status was lost. */
	if (fl & GR_LANDED) {
		gt_drop_inflight(g, f, id, "seen on chain");
		gt_succeed(g, f);
		gt_landed(g, id);
	}
}

/* The answer brc of a JSON-RPC batch request: RPC_ENOBATCH (the node takes no batches) is
 * remembered in *no_batch and said once ("the node takes no JSON-RPC batches: <then>"), and the
 * caller makes the calls one by one; anything else is the endpoint's state (gt_rpc_result).
 * Returns brc. */
static int
gt_batch_outcome(gt *g, int brc, const rpc_error *be, int *no_batch, const char *then)
{
	if (brc == RPC_ENOBATCH) {
		char msg[96];
		*no_batch = 1;
		snprintf(msg, sizeof msg, "the node takes no JSON-RPC batches: %s", then);
		rt_logkv(RT_WARN, msg, "error", be->msg, NULL);
	} else {
		gt_rpc_result(g, brc, be);
	}
	return brc;
}

/* Reads latestRoundData of fs[0..k) (k <= GT_EST_BATCH), fs[j] at block[j] (block NULL or 0: latest), into
 * g->reads[0..k): one JSON-RPC batch when the I/O can, else one by one (a node that refuses
 * batches is remembered and said once). Each read's rc, round and e are set. */
static void
gt_read_chunk(gt *g, gt_feed *const *fs, size_t k, const uint64_t *block)
{
	int brc = RPC_ENOBATCH;
	rpc_error be;
	memset(&be, 0, sizeof be);
	for (size_t j = 0; j < k; j++)
		g->reads[j] = (gc_read){ .agg = fs[j]->c.aggregator, .block = block ? block[j] : 0 };
	if (k > 1 && g->io.read_latest_many && !g->read_no_batch)
		brc = gt_batch_outcome(g, g->io.read_latest_many(g->io.ctx, g->reads, k, &be), &be, &g->read_no_batch,
		                       "reading feeds one by one");
	for (size_t j = 0; j < k && brc == RPC_ENOBATCH; j++) {
		gc_read *r = &g->reads[j];
		r->rc = r->block ? g->io.read_latest_at(g->io.ctx, r->agg, r->block, &r->round, &r->e)
		                 : g->io.read_latest(g->io.ctx, r->agg, &r->round, &r->e);
		gt_rpc_result(g, r->rc, &r->e);
	}
}

/* Reads the due feeds, in JSON-RPC batches of GT_EST_BATCH when the I/O can (at 500 feeds and
 * CHAIN_POLL 30 s, polled one at a time they kept the gate's thread from new aggregates for ~1.5 s
 * every 30 s). */
static void
gt_poll_due(gt *g, uint64_t mono)
{
	size_t n = 0;
	for (size_t i = 0; i < g->n; i++)
		if (mono >= g->feeds[i].next_poll_mono)
			g->pub[n++] = &g->feeds[i]; /* (pub is free outside gt_turn_flush) */
	for (size_t at = 0; at < n;) {
		size_t k = n - at > GT_EST_BATCH ? GT_EST_BATCH : n - at;
		gt_read_chunk(g, g->pub + at, k, NULL);
		for (size_t j = 0; j < k; j++)
			gt_polled(g, g->pub[at + j], g->reads[j].rc, &g->reads[j].round, &g->reads[j].e, mono);
		at += k;
	}
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
	uint64_t rd;
	rpc_error e;
	int rc = g->io.read_oracle_round(g->io.ctx, f->c.aggregator, f->c.transmitter, &rd, &e);
	gt_rpc_result(g, rc, &e);
	if (rc == RPC_OK)
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
	gt_alert(g, SC_SEV_ERROR, stale ? SC_ALERT_FIRING : SC_ALERT_RESOLVED, "feed_stale", key, text, labels);
	rt_logkv(stale ? RT_WARN : RT_INFO, stale ? "feed stale" : "feed fresh again", "feed", f->c.feed, NULL);
}

/* ---- failures and the breaker ---------------------------------------------------------------- */

/* Printable ASCII only: error texts come from contracts and other processes. */
static void
gt_clean(const char *in, char *out, size_t cap)
{
	size_t k = 0;
	for (; *in && k + 1 < cap; in++)
		out[k++] = (unsigned char)*in >= 0x20 && (unsigned char)*in < 0x7f && *in != '"' && *in != '\\' ? *in
		                                                                                                : '?';
	out[k] = 0;
}

/* A failed update (estimate reverted or over the cap, tx failed): back off, maybe open the
 * breaker (one grouped alert per feed, keyed by the configured feed name only). */
static void
gt_fail(gt *g, gt_feed *f, uint64_t now_ns, const char *why)
{
	gt_clean(why && *why ? why : "failed without a reason", f->fail_text, sizeof f->fail_text);
	f->gas_ok = 0; /* estimated again next time */
	int tripped = gd_fail(&f->dc, &f->v.st, now_ns);
	gt_brk_save(g, f);
	rt_inc(f->m_failures);
	rt_gauge_set(f->m_consecutive, f->v.st.failures);
	char n[16], wait[24];
	snprintf(n, sizeof n, "%u", f->v.st.failures);
	snprintf(wait, sizeof wait, "%llu", (unsigned long long)(gd_backoff_ns(&f->dc, f->v.st.failures) / GT_MS));
	rt_logkv(RT_WARN, "update failed", "feed", f->c.feed, "why", f->fail_text, "consecutive", n,
	         "next_attempt_after_ms", tripped ? "never (breaker open)" : wait, NULL);
	if (!tripped)
		return;
	char key[64], hkey[64], text[300];
	snprintf(key, sizeof key, "gate:%.31s:update_failing", f->c.feed);
	snprintf(hkey, sizeof hkey, "breaker:%.31s", f->c.feed);
	snprintf(text, sizeof text,
	         "%.31s: updates stopped after %u consecutive failures: %s (reset: POST "
	         "/feeds/%.31s/reset)",
	         f->c.feed, f->v.st.failures, f->fail_text, f->c.feed);
	const char *labels[] = { "feed", f->c.feed, NULL };
	gt_alert(g, SC_SEV_ERROR, SC_ALERT_FIRING, "update_failing", key, text, labels);
	rt_health_set(hkey, 1, text);
	rt_gauge_set(f->m_breaker, 1);
	rt_logkv(RT_ERROR, "breaker open: no more updates of this feed until reset", "feed", f->c.feed, "why",
	         f->fail_text, NULL);
}

static void
gt_succeed(gt *g, gt_feed *f)
{
	if (f->v.st.failures == 0)
		return;
	gd_succeed(&f->v.st);
	f->fail_text[0] = 0;
	gt_brk_save(g, f);
	rt_gauge_set(f->m_consecutive, 0);
	rt_logkv(RT_INFO, "update succeeded: failure count cleared", "feed", f->c.feed, NULL);
}

int
gt_reset(gt *g, const char *feed, int *was_open, uint32_t *failures)
{
	gt_feed *f = NULL;
	for (size_t i = 0; i < g->n && f == NULL; i++)
		if (strcmp(g->feeds[i].c.feed, feed) == 0)
			f = &g->feeds[i];
	if (f == NULL)
		return -1;
	int open = f->v.st.breaker_open;
	uint32_t n = f->v.st.failures;
	if (was_open)
		*was_open = open;
	if (failures)
		*failures = n;
	gd_reset(&f->v.st);
	f->fail_text[0] = 0;
	f->retry_mono = 0;
	gt_brk_save(g, f);
	rt_gauge_set(f->m_breaker, 0);
	rt_gauge_set(f->m_consecutive, 0);
	char key[64], hkey[64], text[200], cnt[16];
	snprintf(hkey, sizeof hkey, "breaker:%.31s", f->c.feed);
	rt_health_set(hkey, 0, NULL);
	if (open) {
		snprintf(key, sizeof key, "gate:%.31s:update_failing", f->c.feed);
		snprintf(text, sizeof text, "%.31s: breaker reset by the operator; updates resume", f->c.feed);
		const char *labels[] = { "feed", f->c.feed, NULL };
		gt_alert(g, SC_SEV_ERROR, SC_ALERT_RESOLVED, "update_failing", key, text, labels);
	}
	snprintf(cnt, sizeof cnt, "%u", n);
	rt_logkv(RT_WARN, "breaker reset", "feed", f->c.feed, "was_open", open ? "yes" : "no", "failures", cnt, NULL);
	return 0;
}

/* ---- deciding ---------------------------------------------------------------------------- */

/* What an estimate of a feed's update call says: 1 with *limit (the estimate plus GAS_MARGIN, at
 * most GAS_LIMIT_MAX), 0 on a failure (counted: revert, over the cap), -1 when it could not be
 * asked (RPC down: try again shortly, no failure). */
static int
gt_estimate_outcome(gt *g, gt_feed *f, int rc, uint64_t gas, const rpc_error *e, uint64_t now_ns, uint64_t mono_ns,
                    uint64_t *limit)
{
	char why[200];
	if (rc == RPC_ENODE) {
		/* The node ran the call and it failed: the reason is in the revert data (or the message). */
		char reason[160];
		if (e->data[0])
			rv_describe_hex(e->data, reason, sizeof reason);
		else
			gt_clean(e->msg[0] ? e->msg : "reverted", reason, sizeof reason);
		snprintf(why, sizeof why, "gas estimate: %s", reason);
		gt_fail(g, f, now_ns, why);
		return 0;
	}
	char lkey[64];
	snprintf(lkey, sizeof lkey, "estimate:%.31s", f->c.feed);
	if (rc != RPC_OK) {
		f->retry_mono = mono_ns + 1000 * GT_MS;
		f->wake_mono = f->retry_mono;
		if (rt_log_state_change(lkey, "error"))
			rt_logkv(RT_WARN, "cannot estimate gas: holding the update", "feed", f->c.feed, "error", e->msg,
			         NULL);
		return -1;
	}
	rt_log_state_change(lkey, "ok");
	rt_gauge_set(f->m_gas, (double)gas);
	if (gas > g->c.gas_limit_max) {
		snprintf(why, sizeof why, "gas estimate %llu exceeds GAS_LIMIT_MAX %llu", (unsigned long long)gas,
		         (unsigned long long)g->c.gas_limit_max);
		gt_fail(g, f, now_ns, why);
		return 0;
	}
	uint64_t margin = (gas * g->c.gas_margin_ppm + 999999) / 1000000; /* gas < 2^40: no overflow */
	*limit = gas + margin > g->c.gas_limit_max ? g->c.gas_limit_max : gas + margin;
	return 1;
}

/* Estimates (or checks, check_gas > 0) c[0..n): in JSON-RPC batches of GT_EST_BATCH when the I/O
 * can, else one by one (a check without the call I/O becomes an estimate). */
static void
gt_estimate_round(gt *g, gc_estimate *c, size_t n)
{
	for (size_t at = 0; at < n;) {
		size_t k = n - at > GT_EST_BATCH ? GT_EST_BATCH : n - at;
		gc_estimate *b = c + at;
		int brc = RPC_ENOBATCH;
		rpc_error be;
		memset(&be, 0, sizeof be);
		if (k > 1 && g->io.estimate_gas_many && !g->est_no_batch)
			brc = gt_batch_outcome(g, g->io.estimate_gas_many(g->io.ctx, b, k, &be), &be, &g->est_no_batch,
			                       "estimating one by one");
		for (size_t j = 0; j < k && brc == RPC_ENOBATCH; j++) {
			memset(&b[j].e, 0, sizeof b[j].e);
			if (b[j].check_gas && g->io.call) {
				uint8_t *out = NULL;
				size_t outlen = 0;
				b[j].rc = g->io.call(g->io.ctx, b[j].from, b[j].to, b[j].data, b[j].len, b[j].check_gas,
				                     &out, &outlen, &b[j].e);
				free(out);
				b[j].gas = b[j].check_gas;
			} else {
				b[j].check_gas = 0;
				b[j].rc = g->io.estimate_gas(g->io.ctx, b[j].from, b[j].to, b[j].data, b[j].len,
				                             &b[j].gas, &b[j].e);
			}
			gt_rpc_result(g, b[j].rc, &b[j].e);
		}
		at += k;
	}
}

/* The gas of the turn's decisions pub[0..n). A feed whose call was estimated lately (fewer than
 * GT_GAS_REUSE_NS ago, no failure since) is CHECKED at that limit with
 * one eth_call instead: eth_estimateGas runs the call several times (a search for the limit), the
 * check once, and a passing check proves the update passes at the limit it is sent with. A check
 * that fails (a revert, or the call needs more gas now) is followed by a real estimate, which
 * names the revert or finds the new limit. Sets each feed's est_gas; returns how many are left in
 * pub (the others failed or wait for a retry). */
static size_t
gt_estimate_turn(gt *g, size_t n, uint64_t now_ns, uint64_t mono_ns)
{
	size_t again = 0;
	for (size_t i = 0; i < n; i++) {
		gt_feed *f = g->pub[i];
		int reuse = f->gas_ok && mono_ns - f->gas_ok_mono < GT_GAS_REUSE_NS;
		g->est[i] = (gc_estimate){ .from = f->c.transmitter,
			                   .to = f->c.aggregator,
			                   .data = f->inner,
			                   .len = f->inner_len,
			                   .check_gas = reuse ? f->gas_ok : 0 };
	}
	gt_estimate_round(g, g->est, n);
	/* the failed checks, estimated (in a batch of their own): moved to the front of est */
	for (size_t i = 0; i < n; i++)
		if (g->est[i].check_gas && g->est[i].rc == RPC_ENODE) {
			g->pub[i]->gas_ok = 0;
			gt_feed *t = g->pub[again];
			g->pub[again] = g->pub[i];
			g->pub[i] = t;
			gc_estimate c = g->est[again];
			g->est[again] = g->est[i];
			g->est[i] = c;
			g->est[again++].check_gas = 0;
		}
	if (again)
		gt_estimate_round(g, g->est, again);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		gt_feed *f = g->pub[i];
		const gc_estimate *c = &g->est[i];
		if (c->check_gas && c->rc == RPC_OK) { /* passed at the limit estimated before */
			f->est_gas = c->check_gas;
			g->pub[kept++] = f;
		} else if (gt_estimate_outcome(g, f, c->rc, c->gas, &c->e, now_ns, mono_ns, &f->est_gas) == 1) {
			f->gas_ok = f->est_gas;
			f->gas_ok_mono = mono_ns;
			g->pub[kept++] = f;
		}
	}
	return kept;
}

/* Gathers the turn's decisions into pub: each one's round (FluxAggregator: oracleRoundState) and
 * call, then their estimates. Returns how many are to be queued. */
static size_t
gt_prepare_turn(gt *g, uint64_t now_ns, uint64_t mono_ns)
{
	size_t n = 0;
	for (size_t i = 0; i < g->n && g->npend; i++) {
		gt_feed *f = &g->feeds[i];
		if (!f->pend)
			continue;
		f->pend = 0;
		g->npend--;
		f->est_gas = 0;
		gt_round_for_update(g, f, &f->next_round);
		if (gc_call_build(&g->call, &f->next_round, &f->agg.median, f->inner, sizeof f->inner, &f->inner_len) !=
		    0) {
			gt_fail(g, f, now_ns, "the answer does not fit the update call's types");
			continue;
		}
		g->pub[n++] = f;
	}
	return g->c.estimate && n ? gt_estimate_turn(g, n, now_ns, mono_ns) : n;
}

/* Writes f's decision into txn: its record (table "last"), its in-flight marker and its outbox
 * entry, acking the update it supersedes; the view says it is in flight (f->saved holds the one
 * before, restored by the caller if the commit fails). */
static int
gt_queue_update(gt *g, gt_feed *f, MDB_txn *txn, st_err *e)
{
	const gd_decision *d = &f->pend_d;
	f->saved = f->v; /* first: the caller restores it whatever step below fails */
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
	u.round_id = f->next_round;
	u.chain_id = g->io.chain_id(g->io.ctx);
	memcpy(u.contract, f->c.aggregator, 20);
	u.decided_at_ns = f->pend_ns;
	snprintf(u.agg_origin, sizeof u.agg_origin, "%s", f->agg_origin);
	u.agg_seq = f->agg_seq;
	u.agg_sources = f->agg.used_count;
	u.gas_limit = f->est_gas;

	uint8_t id[16], body[2048], inf[GT_INF_LEN];
	size_t len;
	sc_err se;
	if (getrandom(id, sizeof id, 0) != (ssize_t)sizeof id ||
	    sc_encode(&SC_PRICE_UPDATE, &u, body, sizeof body, &len, &se) != 0) {
		snprintf(e->text, sizeof e->text, "cannot build the update for %s", f->c.feed);
		return EINVAL;
	}
	f->supersede = d->supersede && f->v.st.inflight;
	memcpy(f->old_id, f->v.inf_id, 16);
	memcpy(f->v.inf_id, id, 16);
	f->v.inf_answer = u.answer;
	f->v.st.inflight = 1;
	f->v.st.inflight_since_ns = u.decided_at_ns;
	f->v.st.last_publish_ns = u.decided_at_ns;
	gt_inf_encode(f, inf);
	int rc = f->supersede ? ob_ack(txn, g->ob, f->old_id, NULL, e) : 0;
	if (rc == 0)
		rc = ob_put(txn, g->ob, id, f->topic, "price.update", body, len, u.decided_at_ns, e);
	if (rc == 0)
		rc = st_put(txn, g->t_last, f->c.feed, strlen(f->c.feed), body, len, e); /* = st_put_rec's bytes */
	if (rc == 0)
		rc = st_put(txn, g->t_inf, f->c.feed, strlen(f->c.feed), inf, sizeof inf, e);
	return rc;
}

static void
gt_log_update(gt_feed *f)
{
	const gd_decision *d = &f->pend_d;
	char a[96], p[96], dev[24], ids[33], since[24], gas[24];
	snprintf(gas, sizeof gas, "%llu", (unsigned long long)f->est_gas);
	fixed_to_dec(&f->v.inf_answer, (unsigned)f->c.decimals, a);
	fixed_to_dec(&f->v.st.answer, (unsigned)f->c.decimals, p);
	snprintf(dev, sizeof dev, "%llu", (unsigned long long)d->deviation_ppm);
	snprintf(since, sizeof since, "%llu", (unsigned long long)d->since_update_s);
	hex_encode(f->v.inf_id, 16, 0, ids);
	rt_logkv(RT_INFO, "update", "feed", f->c.feed, "reason", gd_reason_name(d->reason), "answer", a, "previous", p,
	         "deviation_ppm", dev, "since_update_s", since, "id", ids, "supersedes", f->supersede ? "yes" : "no",
	         "gas_limit", gas, NULL);
}

static void gt_batch_flush(gt *g, uint64_t now_ns, uint64_t mono_ns);
static void gt_batch_confirmed(gt *g, uint64_t now_ns, uint64_t mono_ns);

/* The end of a turn (gate.h): the confirmed batches' members read (gt_batch_confirmed), the due
 * batches (gt_batch_flush), then the queued decisions estimated together, then they, the acks and
 * the in-flight drops committed in ONE transaction, then the outbox published. A failed commit
 * restores the views (decided again later) and keeps the acks and drops queued. */
static void
gt_turn_flush(gt *g, uint64_t now_ns, uint64_t mono_ns)
{
	if (g->nbconf)
		gt_batch_confirmed(g, now_ns, mono_ns);
	if (g->c.batch_call != CB_NONE) /* the turn's due feeds, and those whose window ended */
		gt_batch_flush(g, now_ns, mono_ns);
	size_t n = g->npend ? gt_prepare_turn(g, now_ns, mono_ns) : 0, k = 0;
	if (n || g->nacks || g->ndirty) {
		MDB_txn *txn;
		st_err e;
		int rc = st_begin(g->env, 0, &txn, &e);
		if (rc == 0)
			rc = gt_write_queued(g, txn, &e);
		for (; k < n && rc == 0; k++)
			rc = gt_queue_update(g, g->pub[k], txn, &e);
		if (rc == 0)
			rc = st_commit(txn, &e);
		else if (txn)
			st_abort(txn);
		if (rc != 0) {
			for (size_t i = 0; i < k; i++)
				g->pub[i]->v = g->pub[i]->saved;
			gt_store_failed(g, n ? "queueing the updates" : "acks and in-flight drops", NULL, &e);
			return;
		}
		gt_written(g);
		for (size_t i = 0; i < n; i++) {
			gt_feed *f = g->pub[i];
			rt_inc(f->m_upd[f->pend_d.reason]);
			rt_gauge_set(f->m_inflight, 1);
			gt_log_update(f);
		}
		if (n)
			rt_observe(g->m_turn_updates, (double)n);
	}
	if (n || g->resend_due) {
		g->resend_due = 0;
		gt_flush_outbox(g, now_ns);
	}
}

/* Queues f's decision d for the end of the turn (a later one in the same turn replaces it). */
static void
gt_pend(gt *g, gt_feed *f, const gd_decision *d, uint64_t now_ns)
{
	if (!f->pend) {
		f->pend = 1;
		g->npend++;
	}
	f->pend_d = *d;
	f->pend_ns = now_ns;
}

static void
gt_unpend(gt *g, gt_feed *f)
{
	if (f->pend) {
		f->pend = 0;
		g->npend--;
	}
}

/* Entry points open a turn of their own unless the caller's is open. */
static int
gt_enter(gt *g)
{
	if (g->turn)
		return 0;
	g->turn = 1;
	return 1;
}

static void
gt_leave(gt *g, int own, uint64_t now_ns, uint64_t mono_ns)
{
	if (!own)
		return;
	gt_turn_flush(g, now_ns, mono_ns);
	g->turn = 0;
}

void
gt_turn_begin(gt *g)
{
	g->turn = 1;
}

void
gt_turn_end(gt *g, uint64_t now_ns, uint64_t mono_ns)
{
	gt_turn_flush(g, now_ns, mono_ns);
	g->turn = 0;
}

/* Says so once per change when the feed is held because its aggregate is too old (quorum lost
 * at the median, or the median gone): metric, log, /health, and a warning alert. The rule is
 * gd_agg_stale's, hysteresis included, and its answer is what gd_evaluate holds on. */
static void
gt_agg_state(gt *g, gt_feed *f, const gd_agg *a, uint64_t now_ns)
{
	uint64_t age = gd_agg_age_ns(a, now_ns), lim = gd_agg_limit_ns(&f->dc, a->window_ms);
	int stale = gd_agg_stale(&f->dc, a, now_ns, f->agg_stale);
	rt_gauge_set(f->m_agg_age, (double)age / 1e9);
	if (stale == f->agg_stale)
		return;
	f->agg_stale = stale;
	rt_gauge_set(f->m_agg_stale, stale);
	char key[64], hkey[64], text[240], ages[24], lims[24];
	snprintf(key, sizeof key, "gate:%.31s:aggregate_stale", f->c.feed);
	snprintf(hkey, sizeof hkey, "aggregate:%.31s", f->c.feed);
	snprintf(ages, sizeof ages, "%.1f", (double)age / 1e9);
	snprintf(lims, sizeof lims, "%.1f", (double)lim / 1e9);
	snprintf(text, sizeof text,
	         "%.31s: held, the latest aggregate is %s s old (limit %s s): no update until "
	         "the median publishes a fresh one",
	         f->c.feed, ages, lims);
	if (!stale)
		snprintf(text, sizeof text, "%.31s: a fresh aggregate again", f->c.feed);
	rt_health_set(hkey, stale, stale ? text : NULL);
	const char *labels[] = { "feed", f->c.feed, NULL };
	gt_alert(g, SC_SEV_WARNING, stale ? SC_ALERT_FIRING : SC_ALERT_RESOLVED, "aggregate_stale", key, text, labels);
	rt_logkv(stale ? RT_WARN : RT_INFO, stale ? "aggregate stale: holding the feed" : "aggregate fresh again",
	         "feed", f->c.feed, "age_s", ages, "limit_s", lims, NULL);
}

/* ---- batches ------------------------------------------------------------------------------ */

/* Batch size limits: the batch call must fit the signed transaction (SC_RAWTX_CAP) with room for
 * the RLP envelope, fees and signature. */
#define GT_BATCH_DATA_MAX (SC_RAWTX_CAP - 300)

/* The batch call of members[0..n) into g->batch_data. 0, or -1 when it does not fit. */
static int
gt_batch_encode(gt *g, gt_feed *const *m, size_t n, size_t *len)
{
	cb_call c[CB_MAX_CALLS];
	for (size_t i = 0; i < n; i++)
		c[i] = (cb_call){ .target = m[i]->c.aggregator,
			          .data = m[i]->inner,
			          .len = m[i]->inner_len,
			          .answer = m[i]->agg.median };
	if (cb_encode(g->c.batch_call, c, n, g->batch_data, sizeof g->batch_data, len) != 0)
		return -1;
	return *len <= GT_BATCH_DATA_MAX ? 0 : -1;
}

typedef struct {
	gt *g;
	size_t n;
	uint64_t gas; /* the eth_call's gas limit; 0 = the node's */
	int rpc_failed;
} gt_probe_ctx;

/* cb_isolate's probe: eth_call of the batch of the members idx[0..k), from the transmitter. */
static int
gt_batch_probe(void *ctx, const size_t *idx, size_t k, uint8_t *failed)
{
	gt_probe_ctx *pc = ctx;
	gt *g = pc->g;
	gt_feed *sub[CB_MAX_CALLS];
	cb_result res[CB_MAX_CALLS];
	size_t len, outlen = 0;
	uint8_t *out = NULL;
	rpc_error e;
	char err[160];
	for (size_t j = 0; j < k; j++)
		sub[j] = g->members[idx[j]];
	if (gt_batch_encode(g, sub, k, &len) != 0)
		return CB_P_ERROR;
	memset(&e, 0, sizeof e);
	int rc = g->io.call(g->io.ctx, g->members[0]->c.transmitter, g->c.batch_contract, g->batch_data, len, pc->gas,
	                    &out, &outlen, &e);
	gt_rpc_result(g, rc, &e);
	if (rc == RPC_ENODE) {
		if (k == 1) { /* this call alone reverts the batch: say why */
			char reason[140];
			if (e.data[0])
				rv_describe_hex(e.data, reason, sizeof reason);
			else
				gt_clean(e.msg[0] ? e.msg : "reverted", reason, sizeof reason);
			snprintf(sub[0]->culprit_text, sizeof sub[0]->culprit_text, "batch call reverted: %.130s",
			         reason);
		}
		return CB_P_REVERT;
	}
	if (rc != RPC_OK) {
		pc->rpc_failed = 1;
		return CB_P_ERROR;
	}
	rc = cb_decode_results(out, outlen, res, k, err, sizeof err);
	if (rc != 0) {
		free(out);
		rt_logkv(RT_ERROR, "batch contract answered something else than its results", "error", err, NULL);
		return CB_P_ERROR;
	}
	for (size_t j = 0; j < k; j++) {
		failed[j] = !res[j].success;
		if (failed[j]) {
			char reason[140], hexd[2 * 96 + 3];
			size_t dl = res[j].len > 96 ? 96 : res[j].len;
			hex_encode(res[j].data, dl, 1, hexd);
			if (res[j].len == 0)
				snprintf(reason, sizeof reason, "reverted without data");
			else
				rv_describe_hex(hexd, reason, sizeof reason);
			snprintf(sub[j]->culprit_text, sizeof sub[j]->culprit_text, "call in the batch: %.130s",
			         reason);
		}
	}
	free(out);
	return CB_P_OK;
}

/* Is id the in-flight update of a feed other than the members of the batch being built? */
static int
gt_id_held(const gt *g, const uint8_t id[16], gt_feed *const *m, size_t n)
{
	for (size_t i = 0; i < g->n; i++) {
		const gt_feed *f = &g->feeds[i];
		int member = 0;
		for (size_t j = 0; j < n; j++)
			member |= m[j] == f;
		if (!member && f->v.st.inflight && memcmp(f->v.inf_id, id, 16) == 0)
			return 1;
	}
	return 0;
}

/* The member's own record for table "last" (gt_load reads decided_at_ns from it). */
static void
gt_member_record(gt *g, gt_feed *f, const gd_decision *d, const sc_batch_entry *b, uint64_t now_ns, sc_price_update *u)
{
	memset(u, 0, sizeof *u);
	snprintf(u->feed, sizeof u->feed, "%s", f->c.feed);
	u->answer = b->answer;
	u->decimals = f->c.decimals;
	u->reason = d->reason;
	u->previous_answer = f->v.st.answer;
	u->previous_updated_at_s = f->v.st.updated_at_s;
	u->deviation_ppm = d->deviation_ppm;
	u->threshold_ppm = f->c.threshold_ppm;
	u->threshold_abs = f->c.threshold_abs;
	u->since_update_s = d->since_update_s;
	u->heartbeat_s = f->c.heartbeat_ms / 1000;
	u->round_id = b->round_id;
	u->chain_id = g->bu.chain_id;
	memcpy(u->contract, f->c.aggregator, 20);
	u->decided_at_ns = now_ns;
	snprintf(u->agg_origin, sizeof u->agg_origin, "%s", f->agg_origin);
	u->agg_seq = f->agg_seq;
	u->agg_sources = f->agg.used_count;
}

/* Queues members[0..n) (each with its decision d[i]) as ONE price.update: every member's last
 * decision and in-flight marker (the batch's id) and the one outbox entry in one transaction. */
static int
gt_batch_queue(gt *g, gt_feed **m, const gd_decision *d, size_t n, uint64_t gas_limit, uint64_t now_ns)
{
	sc_price_update *u = &g->bu;
	uint8_t id[16], inf[GT_INF_LEN];
	size_t len;
	sc_err se;
	st_err e;
	memset(u, 0, sizeof *u);
	snprintf(u->feed, sizeof u->feed, "%s", g->batch_name);
	u->decimals = m[0]->c.decimals;
	u->reason = d[0].reason;
	u->chain_id = g->io.chain_id(g->io.ctx);
	memcpy(u->contract, g->c.batch_contract, 20);
	u->decided_at_ns = now_ns;
	u->gas_limit = gas_limit;
	u->batch_call = g->c.batch_call == CB_AGGREGATE3 ? SC_BATCH_AGGREGATE3 : SC_BATCH_UPDATE_ANSWERS;
	u->batch_count = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		sc_batch_entry *b = &u->batch[i];
		snprintf(b->feed, sizeof b->feed, "%s", m[i]->c.feed);
		b->answer = m[i]->agg.median;
		b->decimals = m[i]->c.decimals;
		memcpy(b->contract, m[i]->c.aggregator, 20);
		b->round_id = m[i]->next_round; /* read when its call was built (gt_batch_flush) */
	}
	if (getrandom(id, sizeof id, 0) != (ssize_t)sizeof id ||
	    sc_encode(&SC_PRICE_UPDATE, u, g->body, sizeof g->body, &len, &se) != 0) {
		rt_logkv(RT_ERROR, "cannot build the batch", "error", se.text, NULL);
		return -1;
	}
	static gr_view saved[CB_MAX_CALLS];
	MDB_txn *txn;
	int rc = st_begin(g->env, 0, &txn, &e);
	for (size_t i = 0; i < n && rc == 0; i++) {
		gt_feed *f = m[i];
		saved[i] = f->v;
		/* A superseded update's outbox entry goes, unless another feed still waits on it. */
		if (d[i].supersede && f->v.st.inflight && !gt_id_held(g, f->v.inf_id, m, n))
			rc = ob_ack(txn, g->ob, f->v.inf_id, NULL, &e);
		gt_member_record(g, f, &d[i], &u->batch[i], now_ns, &g->one);
		memcpy(f->v.inf_id, id, 16);
		f->v.inf_answer = u->batch[i].answer;
		f->v.st.inflight = 1;
		f->v.st.inflight_since_ns = now_ns;
		f->v.st.last_publish_ns = now_ns;
		gt_inf_encode(f, inf);
		if (rc == 0)
			rc = st_put_rec(txn, g->t_last, f->c.feed, strlen(f->c.feed), &SC_PRICE_UPDATE, &g->one, &e);
		if (rc == 0)
			rc = st_put(txn, g->t_inf, f->c.feed, strlen(f->c.feed), inf, sizeof inf, &e);
	}
	if (rc == 0)
		rc = ob_put(txn, g->ob, id, g->batch_topic, "price.update", g->body, len, now_ns, &e);
	if (rc == 0)
		rc = st_commit(txn, &e);
	else if (txn)
		st_abort(txn);
	if (rc != 0) {
		for (size_t i = 0; i < n; i++)
			m[i]->v = saved[i];
		gt_store_failed(g, "queueing the batch", NULL, &e);
		return -1;
	}
	char ids[33], cnt[24], gas[24];
	hex_encode(id, 16, 0, ids);
	snprintf(cnt, sizeof cnt, "%zu", n);
	snprintf(gas, sizeof gas, "%llu", (unsigned long long)gas_limit);
	rt_inc(g->m_batches);
	rt_observe(g->m_batch_feeds, (double)n);
	for (size_t i = 0; i < n; i++) {
		char a[96];
		m[i]->due = 0;
		rt_inc(m[i]->m_upd[d[i].reason]);
		rt_gauge_set(m[i]->m_inflight, 1);
		fixed_to_dec(&u->batch[i].answer, (unsigned)m[i]->c.decimals, a);
		rt_logkv(RT_INFO, "update", "feed", m[i]->c.feed, "reason", gd_reason_name(d[i].reason), "answer", a,
		         "batch", ids, NULL);
	}
	rt_logkv(RT_INFO, "batch", "id", ids, "feeds", cnt, "call", cb_kind_name(g->c.batch_call), "gas_limit", gas,
	         NULL);
	gt_flush_outbox(g, now_ns);
	return 0;
}

/* The gas limit of the batch of members[0..*n): eth_estimateGas plus GAS_MARGIN, then the batch
 * eth_call'ed at that limit, raised (doubled, up to GAS_LIMIT_MAX) until every call passes: a
 * contract that catches its calls' reverts lets the estimate stop where the calls run out of gas
 * and the batch still succeeds (Multicall3 allowFailure and the 63/64 rule). A batch that cannot
 * pass under GAS_LIMIT_MAX is halved (*n; the rest stays due). Returns 1 with *limit, 0 when
 * nothing is to be sent (a lone feed above the cap: a failure), -1 when the RPC could not say. */
static int
gt_batch_gas(gt *g, size_t *n, uint64_t *limit, uint64_t now_ns)
{
	size_t len;
	for (;;) {
		rpc_error e;
		uint64_t gas = 0;
		if (gt_batch_encode(g, g->members, *n, &len) != 0)
			return 0;
		memset(&e, 0, sizeof e);
		int rc = g->io.estimate_gas(g->io.ctx, g->members[0]->c.transmitter, g->c.batch_contract, g->batch_data,
		                            len, &gas, &e);
		gt_rpc_result(g, rc, &e);
		if (rc != RPC_OK) {
			rt_logkv(RT_WARN, "cannot estimate the batch: holding its feeds", "error", e.msg, NULL);
			return -1;
		}
		uint64_t margin = (gas * g->c.gas_margin_ppm + 999999) / 1000000;
		uint64_t lim = gas + margin > g->c.gas_limit_max ? g->c.gas_limit_max : gas + margin;
		for (;;) {
			uint8_t failed[CB_MAX_CALLS], any = 0;
			size_t idx[CB_MAX_CALLS];
			gt_probe_ctx pc = { .g = g, .n = *n, .gas = lim };
			for (size_t i = 0; i < *n; i++)
				idx[i] = i;
			memset(failed, 0, sizeof failed);
			rc = gt_batch_probe(&pc, idx, *n, failed);
			if (rc == CB_P_ERROR)
				return -1;
			for (size_t i = 0; i < *n && rc == CB_P_OK; i++)
				any |= failed[i];
			if (rc == CB_P_OK && !any) {
				*limit = lim;
				return 1;
			}
			if (lim >= g->c.gas_limit_max)
				break;
			lim = lim > g->c.gas_limit_max / 2 ? g->c.gas_limit_max : 2 * lim;
		}
		if (*n == 1) {
			gt_fail(g, g->members[0], now_ns, "its call needs more gas than GAS_LIMIT_MAX");
			g->members[0]->due = 0;
			return 0;
		}
		*n /= 2; /* too much gas for one transaction: half now, the rest stays due */
	}
}

/* The transaction's own gas (21,000) apart from its calls: a batch's limit is this plus a gas per
 * call learned from the latest estimate (gt_batch_checked). */
#define GT_TX_GAS 21000u

/* The fast path of a batch's gas, as gt_estimate_turn's for single updates: when a batch was
 * estimated lately (less than GT_GAS_REUSE_NS ago), members[0..n) is
 * eth_call'ed ONCE at the limit that estimate gives n calls. Every call passing is both the
 * preflight (no culprit) and the check at the limit the transaction is sent with, where the full
 * path takes three calls (preflight, eth_estimateGas, check). 1 and *limit set when every call
 * passed; 0 otherwise (a revert, a call short of gas, the RPC): the full path decides then. */
static int
gt_batch_checked(gt *g, size_t n, uint64_t mono_ns, uint64_t *limit)
{
	if (!g->bgas_call || mono_ns - g->bgas_mono >= GT_GAS_REUSE_NS)
		return 0;
	uint64_t lim = GT_TX_GAS + g->bgas_call * n;
	if (lim > g->c.gas_limit_max)
		return 0;
	uint8_t failed[CB_MAX_CALLS];
	size_t idx[CB_MAX_CALLS];
	gt_probe_ctx pc = { .g = g, .n = n, .gas = lim };
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	memset(failed, 0, sizeof failed);
	if (gt_batch_probe(&pc, idx, n, failed) != CB_P_OK)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (failed[i])
			return 0;
	rt_inc(g->m_batch_checked);
	*limit = lim;
	return 1;
}

/* One batch of the due feeds when the oldest has waited BATCH_WINDOW, or BATCH_MAX are due (see
 * gate.h). 1 when a batch was queued, else 0 (nothing due yet, or its calls or RPC failed). */
static int
gt_batch_once(gt *g, uint64_t now_ns, uint64_t mono_ns)
{
	static gd_decision d[CB_MAX_CALLS];
	size_t ndue = 0, n = 0;
	uint64_t oldest = UINT64_MAX;
	for (size_t i = 0; i < g->n; i++)
		if (g->feeds[i].due) {
			ndue++;
			oldest = g->feeds[i].due_mono < oldest ? g->feeds[i].due_mono : oldest;
		}
	if (ndue == 0 || (ndue < g->c.batch_max && mono_ns - oldest < g->c.batch_window_ms * GT_MS))
		return 0;
	/* Decide again now (a newer aggregate, a status may have come in the window). */
	for (size_t i = 0; i < g->n && n < g->c.batch_max; i++) {
		gt_feed *f = &g->feeds[i];
		if (!f->due)
			continue;
		gd_agg a = { .median = f->agg.median,
			     .oldest_observed_ns = f->agg.oldest_observed_at_ns,
			     .window_ms = f->agg.window_ms };
		f->v.st.agg_held = f->agg_stale;
		gd_evaluate(&f->dc, &f->v.st, &a, now_ns, &d[n]);
		if (d[n].action != GD_PUBLISH || mono_ns < f->retry_mono) {
			f->due = 0;
			continue;
		}
		gt_round_for_update(g, f, &f->next_round);
		if (gc_call_build(&g->call, &f->next_round, &f->agg.median, f->inner, sizeof f->inner, &f->inner_len) !=
		    0) {
			f->due = 0;
			gt_fail(g, f, now_ns, "the answer does not fit the update call's types");
			continue;
		}
		f->culprit_text[0] = 0;
		g->members[n++] = f;
	}
	if (n == 0)
		return 0;
	/* Even a lone feed goes through the batch contract: the aggregators of a batching deployment
	 * trust that contract, not necessarily the key itself. */
	/* Fit the transaction's size: the feeds left out stay due for the next batch. */
	size_t len;
	while (n > 1 && gt_batch_encode(g, g->members, n, &len) != 0)
		n--;
	uint64_t limit = 0;
	if (g->c.estimate && gt_batch_checked(g, n, mono_ns, &limit))
		return gt_batch_queue(g, g->members, d, n, limit, now_ns) == 0;
	/* Take out every call that would revert (one eth_call when the batch catches reverts). */
	uint8_t culprit[CB_MAX_CALLS];
	gt_probe_ctx pc = { .g = g, .n = n };
	int probes = cb_isolate(n, gt_batch_probe, &pc, culprit);
	if (probes < 0) {
		for (size_t i = 0; i < n; i++)
			g->members[i]->retry_mono = mono_ns + 1000 * GT_MS;
		if (rt_log_state_change("batch:preflight", "error"))
			rt_logkv(RT_WARN, "cannot eth_call the batch: holding its feeds", NULL);
		return 0;
	}
	rt_log_state_change("batch:preflight", "ok");
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		gt_feed *f = g->members[i];
		if (culprit[i]) {
			f->due = 0;
			rt_inc(g->m_culprits);
			gt_fail(g, f, now_ns, f->culprit_text[0] ? f->culprit_text : "call in the batch reverted");
			continue;
		}
		d[k] = d[i];
		g->members[k++] = f;
	}
	n = k;
	if (n == 0)
		return 0;
	if (g->c.estimate) {
		int r = gt_batch_gas(g, &n, &limit, now_ns);
		if (r < 0) {
			/* The calls passed the eth_call a moment ago: the chain moved, or the RPC is down.
			 * Not the feeds' fault: decided again in a second. */
			for (size_t i = 0; i < n; i++)
				g->members[i]->retry_mono = mono_ns + 1000 * GT_MS;
			return 0;
		}
		if (r == 0)
			return 0;
		if (limit > GT_TX_GAS) { /* the gas per call of the next batches (gt_batch_checked) */
			g->bgas_call = (limit - GT_TX_GAS + n - 1) / n;
			g->bgas_mono = mono_ns;
		}
	} else if (gt_batch_encode(g, g->members, n, &len) != 0) {
		return 0;
	}
	return gt_batch_queue(g, g->members, d, n, limit, now_ns) == 0;
}

/* Called once per turn, at its end (gt_turn_flush): the feeds decided in the turn go together,
 * batch after batch while enough are due (more than BATCH_MAX, or more than one transaction's
 * size). With BATCH_WINDOW=0 a batch is what came in while the gate was busy with the last one. */
static void
gt_batch_flush(gt *g, uint64_t now_ns, uint64_t mono_ns)
{
	for (size_t i = 0; i < g->n && gt_batch_once(g, now_ns, mono_ns); i++)
		;
}

/* One more feed landed by the update id (a batch's members share it). */
static void
gt_landed(gt *g, const uint8_t id[16])
{
	size_t n = g->nrecent < GT_RECENT ? g->nrecent : GT_RECENT, i;
	for (i = 0; i < n && memcmp(g->recent[i].id, id, 16) != 0; i++)
		;
	if (i == n) {
		i = g->nrecent++ % GT_RECENT; /* past GT_RECENT the oldest goes (its status never came) */
		memcpy(g->recent[i].id, id, 16);
		g->recent[i].feeds = 0;
		g->recent[i].counted = 0;
	}
	g->recent[i].feeds++;
	/* Its confirmed status was counted already, with the members read then: one read after it
	 * failed and the feed's poll saw it landed. Its gas is in that count; its update is added now. */
	if (g->recent[i].counted)
		rt_inc(g->m_landed[g->c.batch_call != CB_NONE ? GT_BATCHED : GT_SINGLE]);
}

/* The confirmed tx.status of update id: its gas, once, over the feeds it landed
 * (gate_landed_gas_total / gate_landed_updates_total = gas per feed update, by mode). */
static void
gt_landed_gas(gt *g, const uint8_t id[16], uint64_t gas_used)
{
	size_t n = g->nrecent < GT_RECENT ? g->nrecent : GT_RECENT;
	for (size_t i = 0; i < n; i++)
		if (memcmp(g->recent[i].id, id, 16) == 0 && !g->recent[i].counted && g->recent[i].feeds) {
			int mode = g->c.batch_call != CB_NONE ? GT_BATCHED : GT_SINGLE;
			rt_add(g->m_gas_used[mode], gas_used);
			rt_add(g->m_landed[mode], g->recent[i].feeds);
			g->recent[i].counted = 1;
		}
}

static void gt_batch_members(gt *g, const sc_tx_status *s, const uint8_t ref[16], uint64_t now_ns, uint64_t mono_ns,
                             gt_feed **m, size_t n);

/* A tx.status of a batch: every member whose in-flight update is its ref. */
static void
gt_batch_status(gt *g, const sc_tx_status *s, const uint8_t ref[16], uint64_t now_ns, uint64_t mono_ns)
{
	gt_feed *mbuf[CB_MAX_CALLS], **m = mbuf; /* a batch has at most CB_MAX_CALLS members, */
	size_t n = 0;
	for (size_t i = 0; i < g->n; i++)
		if (g->feeds[i].v.st.inflight && memcmp(g->feeds[i].v.inf_id, ref, 16) == 0)
			n++;
	if (n > CB_MAX_CALLS && (m = malloc(n * sizeof *m)) == NULL) /* but a ref is the peer's: no trust */
		return;
	n = 0;
	for (size_t i = 0; i < g->n; i++)
		if (g->feeds[i].v.st.inflight && memcmp(g->feeds[i].v.inf_id, ref, 16) == 0)
			m[n++] = &g->feeds[i];
	gt_batch_members(g, s, ref, now_ns, mono_ns, m, n);
	if (m != mbuf)
		free(m);
}

static void
gt_batch_members(gt *g, const sc_tx_status *s, const uint8_t ref[16], uint64_t now_ns, uint64_t mono_ns, gt_feed **m,
                 size_t n)
{
	if (n == 0) {
		if (s->state == SC_TX_CONFIRMED || s->state == SC_TX_FINAL) /* members seen landed by the polls */
			gt_landed_gas(g, ref, s->gas_used);
		return;
	}
	if (s->state == SC_TX_FAILED) {
		char why[200];
		g->bgas_call = 0; /* the next batch is estimated */
		snprintf(why, sizeof why, "batch transaction failed: %.160s",
		         s->error_text[0] ? s->error_text : "reverted");
		for (size_t i = 0; i < n; i++) {
			m[i]->v.st.inflight = 0;
			gt_drop_inflight(g, m[i], ref, "batch failed");
			gt_fail(g, m[i], now_ns, why);
		}
		return;
	}
	if (s->state == SC_TX_DROPPED) {
		for (size_t i = 0; i < n; i++) {
			m[i]->v.st.inflight = 0;
			gt_drop_inflight(g, m[i], ref, "batch dropped");
		}
		return;
	}
	if (s->state != SC_TX_CONFIRMED && s->state != SC_TX_FINAL)
		return;
	/* Each member's answer at the batch's block, read at the turn's end with the other batches
	 * confirmed in it (a turn outside the main loop's ends with this status). */
	for (size_t i = 0; i < g->nbconf; i++)
		if (memcmp(g->bconf[i].ref, ref, 16) == 0)
			return; /* confirmed and final in one turn: read once */
	if (g->nbconf == GT_BCONF_MAX)
		gt_batch_confirmed(g, now_ns, mono_ns);
	memcpy(g->bconf[g->nbconf].ref, ref, 16);
	g->bconf[g->nbconf].block = s->block_number;
	g->bconf[g->nbconf++].gas_used = s->gas_used;
}

/* One member f of the confirmed batch ref, given its read r at the batch's block: its answer is
 * there (landed), or its call did not take effect (failed). 1 when it landed. */
static int
gt_batch_member_read(gt *g, gt_feed *f, const uint8_t ref[16], const gc_read *r, uint64_t now_ns, uint64_t mono_ns)
{
	if (r->rc != RPC_OK) {
		/* Read again by the feed's polls: our answer seen there is "landed"; else the update is
		 * superseded after UPDATE_TIMEOUT. */
		f->next_poll_mono = mono_ns;
		rt_logkv(RT_WARN, "cannot read the feed after its batch", "feed", f->c.feed, "error", r->e.msg, NULL);
		return 0;
	}
	if (gr_poll(&f->v, &r->round, mono_ns, 2 * g->c.poll_ms * GT_MS) & GR_LANDED) {
		gt_drop_inflight(g, f, ref, "confirmed in a batch");
		gt_succeed(g, f);
		gt_landed(g, ref);
		return 1;
	}
	f->v.st.inflight = 0;
	gt_drop_inflight(g, f, ref, "not in its confirmed batch");
	gt_fail(g, f, now_ns,
	        "batch confirmed without this feed's answer: its call reverted or the signer left it out");
	return 0;
}

/* Reads the k members fs[0..k) at their batches' blocks in one request and acts on each; landed[c]
 * counts the members of bconf[c] that landed. */
static void
gt_batch_read_members(gt *g, gt_feed **fs, const uint64_t *blocks, const uint8_t *which, size_t k, size_t *landed,
                      uint64_t now_ns, uint64_t mono_ns)
{
	gt_read_chunk(g, fs, k, blocks);
	for (size_t j = 0; j < k; j++)
		landed[which[j]] +=
		        (size_t)gt_batch_member_read(g, fs[j], g->bconf[which[j]].ref, &g->reads[j], now_ns, mono_ns);
}

/* The members of the batches confirmed in this turn (bconf), each read at its batch's block, in
 * JSON-RPC batches of GT_EST_BATCH: one round trip for a block that confirmed a dozen batches, not
 * one per batch while the node is busiest, just after it mined. */
static void
gt_batch_confirmed(gt *g, uint64_t now_ns, uint64_t mono_ns)
{
	gt_feed *fs[GT_EST_BATCH];
	uint64_t blocks[GT_EST_BATCH];
	uint8_t which[GT_EST_BATCH];
	size_t landed[GT_BCONF_MAX] = { 0 }, k = 0, nb = g->nbconf;
	for (size_t i = 0; i < g->n; i++) {
		gt_feed *f = &g->feeds[i];
		size_t c = 0;
		while (f->v.st.inflight && c < nb && memcmp(f->v.inf_id, g->bconf[c].ref, 16) != 0)
			c++;
		if (!f->v.st.inflight || c == nb)
			continue; /* not a member of a batch confirmed in this turn */
		fs[k] = f;
		blocks[k] = g->bconf[c].block;
		which[k++] = (uint8_t)c;
		if (k == GT_EST_BATCH) {
			gt_batch_read_members(g, fs, blocks, which, k, landed, now_ns, mono_ns);
			k = 0;
		}
	}
	if (k)
		gt_batch_read_members(g, fs, blocks, which, k, landed, now_ns, mono_ns);
	for (size_t c = 0; c < nb; c++)
		if (landed[c])
			gt_landed_gas(g, g->bconf[c].ref, g->bconf[c].gas_used);
	g->nbconf = 0;
}

static void
gt_evaluate(gt *g, gt_feed *f, uint64_t now_ns, uint64_t mono_ns)
{
	if (!f->have_agg)
		return;
	gd_agg a = { .median = f->agg.median,
		     .oldest_observed_ns = f->agg.oldest_observed_at_ns,
		     .window_ms = f->agg.window_ms };
	gt_agg_state(g, f, &a, now_ns);
	if (mono_ns < f->retry_mono) {
		f->wake_mono = f->retry_mono;
		return;
	}
	gd_decision d;
	f->v.st.agg_held = f->agg_stale;
	gd_evaluate(&f->dc, &f->v.st, &a, now_ns, &d);
	/* A hold that ends by time alone is decided again when it ends (gt_step, gt_next_wake). */
	f->wake_mono = d.action == GD_HOLD && d.until_ns > now_ns ? mono_ns + (d.until_ns - now_ns) : 0;
	rt_gauge_set(f->m_dev, d.deviation_ppm == UINT64_MAX ? 1e18 : (double)d.deviation_ppm);
	if (d.action == GD_PUBLISH && g->c.batch_call != CB_NONE) {
		if (!f->due) { /* gathered by gt_batch_flush with the others due within BATCH_WINDOW */
			f->due = 1;
			f->due_mono = mono_ns;
		}
	} else if (d.action == GD_PUBLISH) {
		gt_pend(g, f, &d, now_ns); /* queued by the end of the turn (gt_turn_flush) */
	} else {
		gt_unpend(g, f); /* decided again in the turn: the latest decision holds */
		if (d.why != f->last_why && d.why != GD_WHY_WITHIN)
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
	int own = gt_enter(g);
	f->agg = *a;
	f->have_agg = 1;
	f->agg_mono = mono_ns;
	snprintf(f->agg_origin, sizeof f->agg_origin, "%s", origin);
	f->agg_seq = seq;
	gt_evaluate(g, f, now_ns, mono_ns);
	gt_leave(g, own, now_ns, mono_ns);
	return GT_AGG_TAKEN;
}

static void gt_status(gt *g, const sc_tx_status *s, uint64_t now_ns, uint64_t mono_ns);

void
gt_on_status(gt *g, const sc_tx_status *s, uint64_t now_ns, uint64_t mono_ns)
{
	int own = gt_enter(g);
	gt_status(g, s, now_ns, mono_ns);
	gt_leave(g, own, now_ns, mono_ns);
}

static void
gt_status(gt *g, const sc_tx_status *s, uint64_t now_ns, uint64_t mono_ns)
{
	uint8_t ref[16];
	int has_ref = strlen(s->ref) == 32 && hex_decode_exact(s->ref, 32, ref, 16) == HEX_OK;
	if (has_ref) /* any status for our update means the signer has it: stop re-publishing */
		gt_queue_ack(g, ref);
	if (g->c.batch_call != CB_NONE && has_ref && strcmp(s->feed, g->batch_name) == 0) {
		gt_batch_status(g, s, ref, now_ns, mono_ns);
		return;
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
		gt_succeed(g, f);
		gt_landed(g, id);
		/* fall through */
	case GR_S_OTHERS: {
		char a[96];
		fixed_to_dec(&s->answer, (unsigned)f->c.decimals, a);
		rt_logkv(RT_INFO, "confirmed answer", "feed", f->c.feed, "answer", a, "ref", s->ref, NULL);
		break;
	}
	case GR_S_OURS_FAILED: {
		/* Mined and reverted (out of gas, a require): counted, backed off, maybe the breaker. */
		char why[200];
		snprintf(why, sizeof why, "transaction failed: %.160s", s->error_text[0] ? s->error_text : "reverted");
		gt_drop_inflight(g, f, id, "failed");
		gt_fail(g, f, now_ns, why);
		break;
	}
	case GR_S_OURS_DROPPED:
		/* Never mined (replaced, evicted): not the call's fault, decided again as usual. */
		gt_drop_inflight(g, f, id, "dropped");
		rt_logkv(RT_WARN, "update dropped", "feed", f->c.feed, "error", s->error_text, NULL);
		break;
	default:
		break;
	}
	if (has_ref && (s->state == SC_TX_CONFIRMED || s->state == SC_TX_FINAL)) /* counted once */
		gt_landed_gas(g, ref, s->gas_used);
	/* The feed is free (or its answer changed): decide now, not on the next tick; a hold that
	 * follows (the min interval from the confirmed answer, a backoff) sets its wake. */
	if (out == GR_S_OURS_DONE || out == GR_S_OURS_FAILED || out == GR_S_OURS_DROPPED || out == GR_S_OTHERS)
		gt_evaluate(g, f, now_ns, mono_ns);
}

static void gt_timers(gt *g, uint64_t now_ns, uint64_t mono_ns);

void
gt_step(gt *g, uint64_t now_ns, uint64_t mono_ns)
{
	int own = gt_enter(g);
	gt_timers(g, now_ns, mono_ns);
	gt_leave(g, own, now_ns, mono_ns);
}

static void
gt_timers(gt *g, uint64_t now_ns, uint64_t mono_ns)
{
	gt_poll_due(g, mono_ns);
	for (size_t i = 0; i < g->n; i++) {
		gt_feed *f = &g->feeds[i];
		if (f->wake_mono != 0 && mono_ns >= f->wake_mono) {
			f->wake_mono = 0;
			gt_evaluate(g, f, now_ns, mono_ns);
		}
	}
	if (mono_ns < g->next_tick_mono)
		return;
	/* Timers: heartbeats and expired in-flight updates need no new aggregate. */
	g->next_tick_mono = mono_ns + 250 * GT_MS;
	for (size_t i = 0; i < g->n; i++) {
		gt_check_stale(g, &g->feeds[i], now_ns);
		gt_evaluate(g, &g->feeds[i], now_ns, mono_ns);
	}
	g->resend_due = 1; /* after the turn's commit: an entry acked in this turn is not re-sent */
}

uint64_t
gt_next_wake(const gt *g)
{
	uint64_t w = g->next_tick_mono;
	for (size_t i = 0; i < g->n; i++) {
		const gt_feed *f = &g->feeds[i];
		if (f->next_poll_mono < w)
			w = f->next_poll_mono;
		if (f->wake_mono != 0 && f->wake_mono < w)
			w = f->wake_mono;
		if (f->due && f->due_mono + g->c.batch_window_ms * GT_MS < w)
			w = f->due_mono + g->c.batch_window_ms * GT_MS;
	}
	return w;
}

/* ---- start ------------------------------------------------------------------------------- */

static void
gt_feed_init(gt *g, gt_feed *f, const gf_feed *c)
{
	memset(f, 0, sizeof *f);
	f->c = *c;
	f->dc = (gd_cfg){ .threshold_ppm = c->threshold_ppm,
		          .threshold_abs = c->threshold_abs,
		          .heartbeat_ns = c->heartbeat_ms * GT_MS,
		          .min_interval_ns = c->min_interval_ms * GT_MS,
		          .update_timeout_ns = g->c.update_timeout_ms * GT_MS,
		          .agg_max_age_ns = g->c.agg_max_age_ms * GT_MS,
		          .backoff_max_ns = g->c.backoff_max_ms * GT_MS,
		          .breaker_after = g->c.breaker_after };
	f->last_why = -1;
	/* (not snprintf: source and destination are parts of one object) */
	memcpy(f->topic, "price.update.", 13);
	memcpy(f->topic + 13, f->c.feed, strlen(f->c.feed) + 1);
	char l[160];
	for (int r = 0; r < 3; r++)
		f->m_upd[r] = rt_counter("gate_updates_total", "Updates published, by reason.",
		                         rt_labels(l, sizeof l, "feed", f->c.feed, "reason", gd_reason_name(r), NULL));
	rt_labels(l, sizeof l, "feed", f->c.feed, NULL);
	f->m_dev =
	        rt_gauge("gate_deviation_ppm", "Deviation of the latest aggregate from the on-chain answer, ppm.", l);
	f->m_age = rt_gauge("gate_onchain_age_seconds", "Seconds since the on-chain updatedAt.", l);
	f->m_inflight = rt_gauge("gate_inflight", "1 while an update of the feed is in flight.", l);
	f->m_chain_err = rt_counter("gate_chain_read_errors_total", "latestRoundData reads that failed.", l);
	f->m_refused = rt_counter("gate_aggregates_refused_total", "Aggregates refused (decimals differ).", l);
	f->m_agg_stale = rt_gauge("gate_aggregate_stale",
	                          "1 while the feed is held because its latest aggregate is "
	                          "older than min(AGG_MAX_AGE, the median's window).",
	                          l);
	f->m_agg_age = rt_gauge("gate_aggregate_age_seconds", "Age of the latest aggregate's oldest observation.", l);
	f->m_breaker = rt_gauge("gate_breaker_open",
	                        "1 while the feed's breaker is open (updates stopped until "
	                        "POST /feeds/<feed>/reset).",
	                        l);
	f->m_failures = rt_counter("gate_update_failures_total",
	                           "Failed updates: estimate reverted or over "
	                           "GAS_LIMIT_MAX, transaction failed.",
	                           l);
	f->m_consecutive = rt_gauge("gate_consecutive_failures",
	                            "Failed updates in a row (BREAKER_AFTER opens the "
	                            "breaker).",
	                            l);
	f->m_gas = rt_gauge("gate_gas_estimate", "The latest eth_estimateGas of the feed's update call.", l);
}

gt *
gt_open(const gt_cfg *cfg, const gf_feed *feeds, size_t n, const gt_io *io, char *err, size_t errlen)
{
	if (n == 0 || n > GF_MAX_FEEDS) {
		snprintf(err, errlen, "between 1 and %d feeds", GF_MAX_FEEDS);
		return NULL;
	}
	gt *g = calloc(1, sizeof *g);
	if (g == NULL || (g->feeds = calloc(n, sizeof *g->feeds)) == NULL ||
	    (g->pub = calloc(n, sizeof *g->pub)) == NULL || (g->est = calloc(n, sizeof *g->est)) == NULL ||
	    (g->state_dir = strdup(cfg->state_dir)) == NULL) {
		if (g) {
			free(g->feeds);
			free(g->pub);
			free(g->est);
		}
		free(g);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->c = *cfg;
	g->c.state_dir = g->state_dir;
	g->c.instance = NULL;
	g->c.update_sig = NULL;
	g->io = *io;
	if ((g->instance = strdup(cfg->instance ? cfg->instance : "gate")) == NULL) {
		snprintf(err, errlen, "out of memory");
		gt_close(g);
		return NULL;
	}
	if (cfg->batch_call != CB_NONE && (io->call == NULL || io->read_latest_at == NULL)) {
		snprintf(err, errlen, "batches need the call and read_latest_at I/O");
		gt_close(g);
		return NULL;
	}
	if (gc_call_init(&g->call, cfg->update_sig ? cfg->update_sig : "updateAnswer(int256)", err, errlen) != 0) {
		gt_close(g);
		return NULL;
	}
	g->m_store_err =
	        rt_counter("gate_store_errors_total", "LMDB writes that failed (retried by the next one).", NULL);
	g->m_rpc_up = rt_gauge("gate_rpc_up", "1 while an RPC endpoint answers the gate.", NULL);
	rt_gauge_set(g->m_rpc_up, 1);
	g->m_ob_pending = rt_gauge("gate_outbox_pending", "Updates in the outbox, not yet seen by the signer.", NULL);
	g->m_status_unknown =
	        rt_counter("gate_status_unknown_total", "tx.status with a ref for no feed of this gate.", NULL);
	static const double turn_buckets[] = { 1, 2, 4, 8, 16, 32, 64, 128 };
	g->m_turn_updates = rt_histogram("gate_turn_updates",
	                                 "Updates queued together at the end of a loop turn (one estimate batch, "
	                                 "one commit).",
	                                 NULL, turn_buckets, sizeof turn_buckets / sizeof turn_buckets[0]);
	g->m_batches = rt_counter("gate_batches_total", "Batches queued (several feeds in one transaction).", NULL);
	g->m_batch_checked =
	        rt_counter("gate_batch_checked_total",
	                   "Batches sent at the gas per call of an earlier estimate, checked by one eth_call.", NULL);
	static const double feeds_buckets[] = { 2, 4, 8, 16, 32, 64 };
	g->m_batch_feeds = rt_histogram("gate_batch_feeds", "Feeds per batch queued.", NULL, feeds_buckets,
	                                sizeof feeds_buckets / sizeof feeds_buckets[0]);
	g->m_culprits = rt_counter("gate_batch_culprits_total",
	                           "Feeds taken out of a batch before it was sent: their call reverted in the "
	                           "batch's eth_call (counted as failures of the feed).",
	                           NULL);
	for (int mode = 0; mode < 2; mode++) {
		char l[64];
		rt_labels(l, sizeof l, "mode", mode == GT_SINGLE ? "single" : "batched", NULL);
		g->m_gas_used[mode] = rt_counter("gate_landed_gas_total",
		                                 "Gas used by the transactions of landed updates (a batch's counted "
		                                 "once); divided by gate_landed_updates_total: gas per feed update.",
		                                 l);
		g->m_landed[mode] = rt_counter("gate_landed_updates_total", "Feed updates confirmed on chain.", l);
	}
	if ((g->batch_name = strdup(cfg->batch_name ? cfg->batch_name : "batch")) == NULL) {
		snprintf(err, errlen, "out of memory");
		gt_close(g);
		return NULL;
	}
	g->c.batch_name = g->batch_name;
	snprintf(g->batch_topic, sizeof g->batch_topic, "price.update.%s", g->batch_name);
	if (g->c.batch_call != CB_NONE && (g->c.batch_max < 2 || g->c.batch_max > CB_MAX_CALLS))
		g->c.batch_max = g->c.batch_max < 2 ? 2 : CB_MAX_CALLS;
	for (size_t i = 0; i < n; i++)
		gt_feed_init(g, &g->feeds[g->n++], &feeds[i]);

	st_err e;
	MDB_txn *txn;
	ob_backoff bo = { .initial_ns = 1 * GT_NS, .factor = 2.0, .max_ns = 30 * GT_NS, .jitter = 0.1 };
	st_opts o = { .map_size = 16u << 20, .max_tables = 8 };
	if (st_open(&g->env, g->state_dir, &o, &e) != 0 || st_begin(g->env, 0, &txn, &e) != 0) {
		snprintf(err, errlen, "STATE_DIR %s: %s", g->state_dir, e.text);
		gt_close(g);
		return NULL;
	}
	if (st_table(txn, "last", &g->t_last, &e) || st_table(txn, "inflight", &g->t_inf, &e) ||
	    st_table(txn, "breaker", &g->t_breaker, &e) || ob_open(txn, "updates", &bo, &g->ob, &e)) {
		st_abort(txn);
		snprintf(err, errlen, "STATE_DIR %s: %s", g->state_dir, e.text);
		gt_close(g);
		return NULL;
	}
	if (st_commit(txn, &e) != 0) {
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
	free(g->instance);
	free(g->batch_name);
	free(g->feeds);
	free(g->pub);
	free(g->est);
	free(g);
}

const gr_view *
gt_view(const gt *g, const char *feed)
{
	const gt_feed *f = gt_find(g, feed);
	return f ? &f->v : NULL;
}

uint64_t
gt_txn_id(const gt *g)
{
	MDB_envinfo info;
	return mdb_env_info(st_mdb(g->env), &info) == 0 ? (uint64_t)info.me_last_txnid : 0;
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
