/* engine.c - state per alert key and the per-sink outboxes; see engine.h for the rules. */
#include "base/hex.h"
#include "actors/alerter/engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/alerter/config.h"
#include "actors/alerter/group.h"
#include "base/hash.h"
#include "base/rt_log.h"
#include "schemas/schema.h"
#include "store/dedupe.h"

#define AL_VER          1
#define AL_SEEN_KEEP_NS (24ull * 3600 * 1000000000ull)
#define AL_TICK_BATCH   256 /* keys re-sent or pruned per tick; the rest wait for the next one */

/* Per sink, in the state record; found by sink name so a reordered config keeps its history. */
typedef struct {
	char name[SK_NAME_MAX + 1];
	gp_slot g;
	uint64_t last_resend_ns;
	uint8_t last_id[OB_ID_LEN]; /* last entry queued for this key; all-zero = none */
} al_slot;

/* The fixed head of a state record (internal, host byte order, versioned), then the alert. */
typedef struct {
	uint8_t ver, status, pad[6];
	uint64_t firing_since_ns, last_seen_ns, resolved_at_ns, count;
	al_slot slot[SK_MAX_SINKS];
} al_head;

typedef struct {
	al_head h;
	sc_alert a;
} al_state;

struct al_engine {
	st_env *env;
	sk_sink *sinks;
	size_t n;
	al_cfg cfg;
	MDB_dbi state;
	dd_set *seen;
	ob_box *ob[SK_MAX_SINKS];
	rt_metric *m_suppressed[SK_MAX_SINKS], *m_superseded[SK_MAX_SINKS];
};

static int
al_fail(st_err *err, int rc, const char *what)
{
	if (err && rc != MDB_NOTFOUND && rc != 0 && err->text[0] == '\0')
		snprintf(err->text, sizeof err->text, "%s failed (%d)", what, rc);
	return rc;
}

int
al_open(al_engine **out, st_env *env, sk_sink *sinks, size_t nsinks, const al_cfg *cfg, st_err *err)
{
	al_engine *e = calloc(1, sizeof *e);
	MDB_txn *txn = NULL;
	int rc;
	if (!e)
		return ENOMEM;
	e->env = env, e->sinks = sinks, e->n = nsinks < SK_MAX_SINKS ? nsinks : SK_MAX_SINKS, e->cfg = *cfg;
	if ((rc = st_begin(env, 0, &txn, err)) != 0 || (rc = st_table(txn, "state", &e->state, err)) != 0 ||
	    (rc = dd_open(txn, "seen", &e->seen, err)) != 0)
		goto fail;
	for (size_t i = 0; i < e->n; i++) {
		char name[64], labels[64];
		snprintf(name, sizeof name, "ob.%s", sinks[i].name);
		if ((rc = ob_open(txn, name, &cfg->backoff, &e->ob[i], err)) != 0)
			goto fail;
		snprintf(labels, sizeof labels, "sink=\"%s\"", sinks[i].name); /* names are [a-z0-9_-] */
		e->m_suppressed[i] =
		        rt_counter("alerter_suppressed_total",
		                   "Firing repeats grouped into a later message (GROUP_INTERVAL).", labels);
		e->m_superseded[i] =
		        rt_counter("alerter_superseded_total",
		                   "Undelivered events replaced by a newer event of the same key.", labels);
	}
	if ((rc = st_commit(txn, err)) != 0) {
		txn = NULL;
		goto fail;
	}
	*out = e;
	return 0;
fail:
	st_abort(txn);
	al_close(e);
	return rc;
}

void
al_close(al_engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < SK_MAX_SINKS; i++)
		ob_close(e->ob[i]);
	dd_close(e->seen);
	free(e);
}

static size_t
al_key(const char *kind, const char *dedupe_key, uint8_t *k)
{
	size_t kl = strlen(kind), dl = strlen(dedupe_key);
	memcpy(k, kind, kl);
	k[kl] = '\0';
	memcpy(k + kl + 1, dedupe_key, dl);
	return kl + 1 + dl;
}

static int
al_load(MDB_txn *txn, al_engine *e, const uint8_t *k, size_t kl, al_state *s, st_err *err)
{
	MDB_val v;
	sc_err se;
	int rc = st_get(txn, e->state, k, kl, &v, err);
	if (rc != 0)
		return rc;
	if (v.mv_size < sizeof s->h || ((const uint8_t *)v.mv_data)[0] != AL_VER) {
		snprintf(err->text, sizeof err->text, "state: record of %zu bytes is not version %d", v.mv_size,
		         AL_VER);
		return ST_ESCHEMA;
	}
	memcpy(&s->h, v.mv_data, sizeof s->h);
	if (sc_decode(&SC_ALERT, (const uint8_t *)v.mv_data + sizeof s->h, v.mv_size - sizeof s->h, &s->a, &se) != 0) {
		snprintf(err->text, sizeof err->text, "state: %s", se.text);
		return ST_ESCHEMA;
	}
	return 0;
}

static int
al_store(MDB_txn *txn, al_engine *e, const uint8_t *k, size_t kl, const al_state *s, st_err *err)
{
	uint8_t buf[sizeof(al_head) + 8192];
	size_t len;
	sc_err se;
	memcpy(buf, &s->h, sizeof s->h);
	if (sc_encode(&SC_ALERT, &s->a, buf + sizeof s->h, sizeof buf - sizeof s->h, &len, &se) != 0) {
		snprintf(err->text, sizeof err->text, "state: %s", se.text);
		return ST_ESCHEMA;
	}
	return st_put(txn, e->state, k, kl, buf, sizeof s->h + len, err);
}

static al_slot *
al_slot_of(al_state *s, const char *name)
{
	al_slot *free_slot = NULL;
	for (size_t i = 0; i < SK_MAX_SINKS; i++) {
		if (strcmp(s->h.slot[i].name, name) == 0)
			return &s->h.slot[i];
		if (!free_slot && s->h.slot[i].name[0] == '\0')
			free_slot = &s->h.slot[i];
	}
	if (!free_slot) { /* a sink removed from the config leaves a slot behind: reuse the first */
		free_slot = &s->h.slot[0];
		memset(free_slot, 0, sizeof *free_slot);
	}
	snprintf(free_slot->name, sizeof free_slot->name, "%s", name);
	return free_slot;
}

static int
al_zero_id(const uint8_t id[OB_ID_LEN])
{
	static const uint8_t z[OB_ID_LEN];
	return memcmp(id, z, OB_ID_LEN) == 0;
}

/* An entry id from (sink, what, extra): deterministic, so the same event queues once. */
static void
al_entry_id(const char *sink, const char *what, const void *x, size_t xl, uint64_t n, uint8_t id[OB_ID_LEN])
{
	uint8_t d[32], nb[8];
	st_key_u64(nb, n);
	const void *parts[] = { sink, what, x, nb };
	size_t lens[] = { strlen(sink) + 1, strlen(what) + 1, xl, 8 };
	ob_sha256_v(parts, lens, 4, d);
	memcpy(id, d, OB_ID_LEN);
}

/* Our own sink_failing alert about sink s must not be delivered to s: it is down, and the
 * attempt would feed its own failure count. */
static int
al_routable(const al_engine *e, const sk_sink *s, const sc_alert *a)
{
	if (strcmp(a->origin, e->cfg.instance) == 0)
		for (uint32_t i = 0; i < a->labels_count && i < 16; i++)
			if (strcmp(a->labels[i].key, "sink") == 0 && strcmp(a->labels[i].value, s->name) == 0)
				return 0;
	return ac_match(s, a);
}

/* Queues one event for sink i, superseding the key's pending entry there. */
static int
al_queue(MDB_txn *txn, al_engine *e, size_t i, al_slot *slot, const uint8_t id[OB_ID_LEN], const sc_alert *a,
         const al_state *s, uint64_t now_ns, uint64_t grouped, st_err *err)
{
	const sk_sink *sk = &e->sinks[i];
	ob_msg m;
	rt_buf body = RT_BUF_INIT;
	char hex[2 * OB_ID_LEN + 1], topic[OB_TOPIC_MAX + 1];
	int rc, removed = 0;
	if (!al_zero_id(slot->last_id) && memcmp(slot->last_id, id, OB_ID_LEN) != 0 &&
	    ob_get(txn, e->ob[i], slot->last_id, &m, err) == 0) {
		if ((rc = ob_ack(txn, e->ob[i], slot->last_id, &removed, err)) != 0)
			return rc;
		if (removed)
			rt_inc(e->m_superseded[i]);
	}
	hex_encode(id, OB_ID_LEN, 0, hex);
	sk_event ev = { a, s->h.firing_since_ns, now_ns, s->h.count, grouped, hex, e->cfg.instance };
	if (sk->ops->format(sk, &ev, &body) != 0) {
		rt_buf_free(&body);
		return ENOMEM;
	}
	snprintf(topic, sizeof topic, "%s:%s", a->kind, a->dedupe_key);
	rc = ob_put(txn, e->ob[i], id, topic, sk->ops->name, body.data, body.len, now_ns, err);
	rt_buf_free(&body);
	if (rc == MDB_KEYEXIST) /* the same event again (a re-published frame): already queued */
		return MDB_KEYEXIST;
	if (rc == 0)
		memcpy(slot->last_id, id, OB_ID_LEN);
	return rc;
}

/* One alert inside the caller's write txn; *queued gets its sinks' bits added. */
static int
al_ingest_in(al_engine *e, MDB_txn *txn, const uint8_t id[16], const sc_alert *a, uint64_t now_ns, unsigned *queued,
             st_err *err)
{
	uint8_t k[512];
	size_t kl = al_key(a->kind, a->dedupe_key, k);
	al_state s;
	int rc, seen, have;
	if ((rc = dd_seen(txn, e->seen, id, now_ns, &seen, err)) != 0)
		return rc;
	if (seen)
		return 0;
	rc = al_load(txn, e, k, kl, &s, err);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	have = rc == 0;
	rc = 0;
	if (a->status == SC_ALERT_FIRING) {
		if (!have || s.h.status == SC_ALERT_RESOLVED) {
			al_head old = have ? s.h : (al_head){ 0 };
			memset(&s.h, 0, sizeof s.h);
			s.h.ver = AL_VER;
			s.h.status = SC_ALERT_FIRING;
			s.h.firing_since_ns = a->started_at_ns ? a->started_at_ns : now_ns;
			/* a new episode: grouping restarts, but the last queued ids stay (ordering) */
			for (size_t i = 0; i < SK_MAX_SINKS; i++) {
				memcpy(s.h.slot[i].name, old.slot[i].name, sizeof s.h.slot[i].name);
				memcpy(s.h.slot[i].last_id, old.slot[i].last_id, OB_ID_LEN);
			}
		}
		s.h.count++;
		s.h.last_seen_ns = now_ns;
		s.a = *a;
		for (size_t i = 0; i < e->n; i++) {
			uint64_t grouped;
			uint8_t eid[OB_ID_LEN];
			if (!al_routable(e, &e->sinks[i], a))
				continue;
			al_slot *slot = al_slot_of(&s, e->sinks[i].name);
			if (!gp_decide(&slot->g, now_ns, e->cfg.group_ns, &grouped)) {
				rt_inc(e->m_suppressed[i]);
				continue;
			}
			slot->last_resend_ns = now_ns;
			al_entry_id(e->sinks[i].name, "event", id, 16, 0, eid);
			rc = al_queue(txn, e, i, slot, eid, a, &s, now_ns, grouped, err);
			if (rc == MDB_KEYEXIST)
				rc = 0;
			else if (rc == 0)
				*queued |= 1u << i;
			else
				return rc;
		}
	} else {
		if (!have || s.h.status == SC_ALERT_RESOLVED)
			return 0; /* nothing fired (or already resolved): nothing to clear */
		/* The resolve carries the firing alert's labels: Alertmanager matches on them. Its text
		 * is the resolve's own ("executed after all"), else a resolve would read as the failure;
		 * a resolve without one keeps the firing text. */
		s.h.status = SC_ALERT_RESOLVED;
		s.h.resolved_at_ns = a->resolved_at_ns ? a->resolved_at_ns : now_ns;
		s.h.last_seen_ns = now_ns;
		s.a.status = SC_ALERT_RESOLVED;
		s.a.resolved_at_ns = s.h.resolved_at_ns;
		if (a->summary[0])
			memcpy(s.a.summary, a->summary, sizeof s.a.summary);
		for (size_t i = 0; i < e->n; i++) {
			uint8_t eid[OB_ID_LEN];
			al_slot *slot = al_slot_of(&s, e->sinks[i].name);
			if (!e->sinks[i].send_resolved || slot->g.last_sent_ns == 0)
				continue; /* never told of the firing, or does not want resolves */
			al_entry_id(e->sinks[i].name, "event", id, 16, 0, eid);
			rc = al_queue(txn, e, i, slot, eid, &s.a, &s, now_ns, 0, err);
			if (rc == MDB_KEYEXIST)
				rc = 0;
			else if (rc == 0)
				*queued |= 1u << i;
			else
				return rc;
		}
	}
	return al_store(txn, e, k, kl, &s, err);
}

int
al_ingest(al_engine *e, const uint8_t id[16], const sc_alert *a, uint64_t now_ns, unsigned *queued, st_err *err)
{
	return al_ingest_batch(e, 1, (const uint8_t(*)[16])id, a, now_ns, queued, err);
}

int
al_ingest_batch(al_engine *e, size_t n, const uint8_t ids[][16], const sc_alert *a, uint64_t now_ns, unsigned *queued,
                st_err *err)
{
	MDB_txn *txn;
	unsigned q = 0;
	int rc;
	*queued = 0;
	err->text[0] = '\0';
	if ((rc = st_begin(e->env, 0, &txn, err)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = al_ingest_in(e, txn, ids[i], &a[i], now_ns, &q, err)) != 0) {
			st_abort(txn);
			return rc;
		}
	if ((rc = st_commit(txn, err)) == 0)
		*queued = q;
	return rc;
}

int
al_tick(al_engine *e, uint64_t now_ns, unsigned *queued, st_err *err)
{
	MDB_txn *txn;
	st_iter it;
	MDB_val k, v;
	int rc;
	static uint8_t keys[AL_TICK_BATCH][512];
	size_t klen[AL_TICK_BATCH], nk = 0;
	*queued = 0;
	err->text[0] = '\0';
	if ((rc = st_begin(e->env, 0, &txn, err)) != 0)
		return rc;
	/* pass 1: find the keys needing work (LMDB forbids writing a table being iterated) */
	if ((rc = st_iter_open(&it, txn, e->state, NULL, 0, NULL, 0, err)) != 0)
		goto out;
	while (nk < AL_TICK_BATCH && (rc = st_iter_next(&it, &k, &v, err)) == 0) {
		al_head h;
		int work = 0;
		if (v.mv_size < sizeof h || k.mv_size > sizeof keys[0])
			continue;
		memcpy(&h, v.mv_data, sizeof h);
		if (h.status == SC_ALERT_RESOLVED) {
			work = now_ns > h.resolved_at_ns && now_ns - h.resolved_at_ns >= e->cfg.retention_ns;
		} else {
			for (size_t i = 0; i < e->n && !work; i++) {
				if (!e->sinks[i].ops->resends)
					continue;
				for (size_t j = 0; j < SK_MAX_SINKS; j++)
					if (strcmp(h.slot[j].name, e->sinks[i].name) == 0 && h.slot[j].g.last_sent_ns &&
					    now_ns - h.slot[j].last_resend_ns >= e->cfg.resend_ns)
						work = 1;
			}
		}
		if (work) {
			memcpy(keys[nk], k.mv_data, k.mv_size);
			klen[nk++] = k.mv_size;
		}
	}
	st_iter_close(&it);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto out;
	rc = 0;
	/* pass 2: re-send or prune */
	for (size_t n = 0; n < nk; n++) {
		al_state s;
		ob_msg m;
		if ((rc = al_load(txn, e, keys[n], klen[n], &s, err)) != 0)
			goto out;
		if (s.h.status == SC_ALERT_RESOLVED) {
			int pending = 0;
			for (size_t i = 0; i < e->n; i++) {
				al_slot *slot = al_slot_of(&s, e->sinks[i].name);
				pending |= !al_zero_id(slot->last_id) &&
				           ob_get(txn, e->ob[i], slot->last_id, &m, err) == 0;
			}
			if (!pending && (rc = st_del(txn, e->state, keys[n], klen[n], err)) != 0)
				goto out;
			continue;
		}
		for (size_t i = 0; i < e->n; i++) {
			al_slot *slot;
			uint8_t eid[OB_ID_LEN];
			if (!e->sinks[i].ops->resends || !al_routable(e, &e->sinks[i], &s.a))
				continue;
			slot = al_slot_of(&s, e->sinks[i].name);
			if (!slot->g.last_sent_ns || now_ns - slot->last_resend_ns < e->cfg.resend_ns)
				continue;
			slot->last_resend_ns = now_ns;
			/* still pending (the sink is down): that entry will carry the alert; no pile-up */
			if (!al_zero_id(slot->last_id) && ob_get(txn, e->ob[i], slot->last_id, &m, err) == 0)
				continue;
			al_entry_id(e->sinks[i].name, "resend", keys[n], klen[n], now_ns, eid);
			rc = al_queue(txn, e, i, slot, eid, &s.a, &s, now_ns, 0, err);
			if (rc == 0)
				*queued |= 1u << i;
			else if (rc != MDB_KEYEXIST)
				goto out;
		}
		if ((rc = al_store(txn, e, keys[n], klen[n], &s, err)) != 0)
			goto out;
	}
	if (now_ns > AL_SEEN_KEEP_NS && (rc = dd_prune(txn, e->seen, now_ns - AL_SEEN_KEEP_NS, NULL, err)) != 0)
		goto out;
	return st_commit(txn, err);
out:
	st_abort(txn);
	return al_fail(err, rc, "tick");
}

long
al_due(al_engine *e, size_t i, uint64_t now_ns, al_item *items, size_t max, st_err *err)
{
	MDB_txn *txn;
	uint8_t ids[16][OB_ID_LEN];
	long n, got = 0;
	if (max > 16)
		max = 16;
	err->text[0] = '\0';
	if (st_begin(e->env, 1, &txn, err) != 0)
		return -1;
	n = ob_due(txn, e->ob[i], now_ns, ids, max, err);
	for (long j = 0; j < n; j++) {
		ob_msg m;
		al_item *it = &items[got];
		if (ob_get(txn, e->ob[i], ids[j], &m, err) != 0)
			continue;
		if (!(it->body = malloc(m.body_len ? m.body_len : 1)))
			break;
		memcpy(it->id, ids[j], OB_ID_LEN);
		memcpy(it->body, m.body, m.body_len);
		it->len = m.body_len;
		snprintf(it->key, sizeof it->key, "%.*s", (int)m.topic_len, m.topic);
		it->created_ns = m.created_ns;
		it->attempts = m.attempts;
		got++;
	}
	st_abort(txn);
	return n < 0 ? -1 : got;
}

void
al_items_free(al_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(items[i].body);
		items[i].body = NULL;
	}
}

int
al_done(al_engine *e, size_t i, const uint8_t id[OB_ID_LEN], sk_verdict v, const char *why, uint64_t now_ns,
        uint64_t *backoff_ns, st_err *err)
{
	MDB_txn *txn;
	ob_msg m;
	int rc;
	err->text[0] = '\0';
	if (backoff_ns)
		*backoff_ns = 0;
	if ((rc = st_begin(e->env, 0, &txn, err)) != 0)
		return rc;
	if (v == SK_RETRY) {
		rc = ob_mark_sent(txn, e->ob[i], id, now_ns, why, err);
		if (rc == 0 && backoff_ns && ob_get(txn, e->ob[i], id, &m, err) == 0)
			*backoff_ns = m.next_due_ns > now_ns ? m.next_due_ns - now_ns : 0;
		if (rc == MDB_NOTFOUND) /* superseded meanwhile */
			rc = 0;
	} else {
		rc = ob_ack(txn, e->ob[i], id, NULL, err);
	}
	if (rc != 0) {
		st_abort(txn);
		return rc;
	}
	return st_commit(txn, err);
}

int
al_pending(al_engine *e, size_t i, uint64_t *n, uint64_t *next_due_ns, st_err *err)
{
	MDB_txn *txn;
	int rc;
	*n = 0;
	*next_due_ns = UINT64_MAX;
	if ((rc = st_begin(e->env, 1, &txn, err)) != 0)
		return rc;
	rc = ob_count(txn, e->ob[i], n, err);
	if (rc == 0 && (rc = ob_next_due(txn, e->ob[i], next_due_ns, err)) == MDB_NOTFOUND)
		rc = 0;
	st_abort(txn);
	return rc;
}

int
al_is_firing(al_engine *e, const char *kind, const char *dedupe_key)
{
	MDB_txn *txn;
	st_err err;
	uint8_t k[512];
	al_state s;
	size_t kl = al_key(kind, dedupe_key, k);
	if (st_begin(e->env, 1, &txn, &err) != 0)
		return -1;
	int rc = al_load(txn, e, k, kl, &s, &err);
	st_abort(txn);
	return rc == 0 ? s.h.status == SC_ALERT_FIRING : rc == MDB_NOTFOUND ? 0 : -1;
}

int
al_firing_by_kind(al_engine *e, void (*fn)(void *arg, const char *kind, uint64_t n), void *arg)
{
	MDB_txn *txn;
	st_iter it;
	MDB_val k, v;
	st_err err;
	char kind[64] = "";
	uint64_t n = 0;
	int rc;
	if (st_begin(e->env, 1, &txn, &err) != 0)
		return -1;
	if (st_iter_open(&it, txn, e->state, NULL, 0, NULL, 0, &err) != 0) {
		st_abort(txn);
		return -1;
	}
	/* keys sort by kind first, so each kind is one run */
	while ((rc = st_iter_next(&it, &k, &v, &err)) == 0) {
		const char *kk = k.mv_data;
		size_t kl = strnlen(kk, k.mv_size);
		if (kl >= sizeof kind || v.mv_size < sizeof(al_head))
			continue;
		if (strlen(kind) != kl || memcmp(kind, kk, kl) != 0) {
			if (kind[0])
				fn(arg, kind, n);
			memcpy(kind, kk, kl);
			kind[kl] = '\0';
			n = 0;
		}
		n += ((const uint8_t *)v.mv_data)[1] == SC_ALERT_FIRING;
	}
	if (kind[0])
		fn(arg, kind, n);
	st_iter_close(&it);
	st_abort(txn);
	return 0;
}
