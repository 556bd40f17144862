/* track.c - facts, derived states, history and the publication queue in LMDB (see track.h).
 *
 * Key layouts (integers big-endian, so LMDB's order is numeric order):
 *   msg      id32                                   -> ct_hdr + msgpack(sc_ccip_msg of the send)
 *   laneseq  src8 dst8 seq8                         -> id32
 *   commit   src8 dst8 max8 min8 chain8 block8 log8 k1 -> ct_cval (k: root index in the report)
 *   exec     id32 chain8 block8 log8                -> ct_eval + return data
 *   byblock  chain8 block8 log8 k1                  -> type1 + the fact's key (for rollback)
 *   dirty    id32                                   -> ct_dirty (messages to re-derive)
 *   hist     id32 n4                                -> ct_hist
 *   due      deadline_s8 id32 kind1                 -> "" (overdue deadlines, oldest first)
 *   bystate  state1 id32                            -> ""
 *   pub      seq8                                   -> ct_pval + msgpack body
 *   cursor   chain8                                 -> block8 hash32
 *   blocks   chain8 block8                          -> hash32
 *   raw      chain8 block8 log8                     -> address20 ntopics1 topics why-len2 why data
 * Records are internal (never on the wire): fixed little structs with a version byte, memcpy'd. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/ccip-tail/track.h"
#include "base/rt_main.h"
#include "base/hex.h"
#include "base/keccak.h"
#include "schemas/schema.h"

#define CT_NONE 255 /* hdr.state before the first publication */

enum { F_OD_COMMIT = 1, F_OD_EXEC = 2, F_OD_ALERTED = 4, F_FAIL_ALERTED = 8, F_PUB_COMMITTED = 16,
       F_SEND_GONE = 32 };
enum { B_SEND = 1, B_COMMIT, B_EXEC };

typedef struct {
	uint8_t  ver, state, flags, pad;
	uint32_t nhist;
	uint64_t chain;       /* selector of the chain the send came from */
	uint64_t sent_time_s; /* block time of the send (or when it was seen) */
} ct_hdr;

typedef struct {
	uint8_t  onramp_len, pad[7];
	uint8_t  onramp[32], root[32], block_hash[32], tx[32], contract[20];
} ct_cval;

typedef struct {
	uint8_t  state, router;
	uint16_t rlen;
	uint8_t  pad[4];
	uint8_t  contract[20], block_hash[32], tx[32];
	uint64_t seq;
} ct_eval;

typedef struct {
	uint8_t  reorg, pad[7];
	uint64_t chain, keep;
} ct_dirty;

typedef struct {
	uint8_t  state, pad[7];
	uint64_t chain, block, log, at_ns;
	uint8_t  block_hash[32], tx[32];
} ct_hist;

typedef struct {
	uint8_t is_alert, id[16], topic_len;
} ct_pval;

struct ct_track {
	st_env      *env;
	ct_track_cfg cfg;
	MDB_dbi      msg, laneseq, commit, exec, byblock, dirty, hist, due, bystate, pub, cursor, blocks, raw;
	uint8_t      buf[16384]; /* record encoding scratch (a write txn is single-threaded) */
};

static void
ct_be(uint8_t *p, uint64_t v)
{
	st_key_u64(p, v);
}

/* ---- open ------------------------------------------------------------------------------------ */

int
ct_track_open(st_env *env, const ct_track_cfg *cfg, ct_track **out, st_err *e)
{
	ct_track *t = calloc(1, sizeof *t);
	MDB_txn  *txn;
	int       rc;
	if (t == NULL)
		return ENOMEM;
	t->env = env;
	if (cfg)
		t->cfg = *cfg;
	struct { const char *name; MDB_dbi *dbi; } tabs[] = {
		{ "msg", &t->msg },         { "laneseq", &t->laneseq }, { "commit", &t->commit },
		{ "exec", &t->exec },       { "byblock", &t->byblock }, { "dirty", &t->dirty },
		{ "hist", &t->hist },       { "due", &t->due },         { "bystate", &t->bystate },
		{ "pub", &t->pub },         { "cursor", &t->cursor },   { "blocks", &t->blocks },
		{ "raw", &t->raw },
	};
	if ((rc = st_begin(env, 0, &txn, e)) != 0) {
		free(t);
		return rc;
	}
	for (size_t i = 0; i < sizeof tabs / sizeof tabs[0]; i++)
		if ((rc = st_table(txn, tabs[i].name, tabs[i].dbi, e)) != 0) {
			st_abort(txn);
			free(t);
			return rc;
		}
	if ((rc = st_commit(txn, e)) != 0) {
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void
ct_track_close(ct_track *t)
{
	free(t);
}

/* ---- message records ------------------------------------------------------------------------- */

static int
ct_msg_get(ct_track *t, MDB_txn *txn, const uint8_t id[32], ct_hdr *h, sc_ccip_msg *m, st_err *e)
{
	MDB_val v;
	int     rc = st_get(txn, t->msg, id, 32, &v, e);
	if (rc != 0)
		return rc;
	if (v.mv_size < sizeof *h) {
		snprintf(e->text, sizeof e->text, "msg: short record");
		return ST_ESCHEMA;
	}
	memcpy(h, v.mv_data, sizeof *h);
	if (m) {
		sc_err se;
		if (sc_decode(&SC_CCIP_MSG, (const uint8_t *)v.mv_data + sizeof *h, v.mv_size - sizeof *h, m, &se) != 0) {
			snprintf(e->text, sizeof e->text, "msg: %s", se.text);
			return ST_ESCHEMA;
		}
	}
	return 0;
}

static int
ct_msg_put(ct_track *t, MDB_txn *txn, const ct_hdr *h, const sc_ccip_msg *m, st_err *e)
{
	size_t n;
	sc_err se;
	memcpy(t->buf, h, sizeof *h);
	if (sc_encode(&SC_CCIP_MSG, m, t->buf + sizeof *h, sizeof t->buf - sizeof *h, &n, &se) != 0) {
		snprintf(e->text, sizeof e->text, "msg: %s", se.text);
		return ST_ESCHEMA;
	}
	return st_put(txn, t->msg, m->message_id, 32, t->buf, sizeof *h + n, e);
}

/* Only the header changes (flags, state, history count): rewrite it in place of the old one. */
static int
ct_hdr_put(ct_track *t, MDB_txn *txn, const uint8_t id[32], const ct_hdr *h, st_err *e)
{
	MDB_val v;
	int     rc = st_get(txn, t->msg, id, 32, &v, e);
	if (rc != 0)
		return rc;
	if (v.mv_size > sizeof t->buf)
		return MDB_BAD_VALSIZE;
	memcpy(t->buf, v.mv_data, v.mv_size);
	memcpy(t->buf, h, sizeof *h);
	return st_put(txn, t->msg, id, 32, t->buf, v.mv_size, e);
}

static int
ct_mark(ct_track *t, MDB_txn *txn, const uint8_t id[32], int reorg, uint64_t chain, uint64_t keep, st_err *e)
{
	ct_dirty d = { 0 };
	MDB_val  v;
	/* A reorg mark is never downgraded by a later plain mark in the same batch. */
	if (!reorg && st_get(txn, t->dirty, id, 32, &v, NULL) == 0)
		return 0;
	d.reorg = (uint8_t)reorg;
	d.chain = chain;
	d.keep = keep;
	return st_put(txn, t->dirty, id, 32, &d, sizeof d, e);
}

static int
ct_byblock(ct_track *t, MDB_txn *txn, uint64_t chain, const sc_ccip_msg *m, uint8_t k, int type,
           const uint8_t *key, size_t klen, st_err *e)
{
	uint8_t bk[25], v[1 + 64];
	ct_be(bk, chain);
	ct_be(bk + 8, m->block_number);
	ct_be(bk + 16, m->log_index);
	bk[24] = k;
	v[0] = (uint8_t)type;
	memcpy(v + 1, key, klen);
	return st_put(txn, t->byblock, bk, sizeof bk, v, 1 + klen, e);
}

/* ---- facts ----------------------------------------------------------------------------------- */

static int
ct_apply_send(ct_track *t, MDB_txn *txn, uint64_t chain, const ct_event *ev, st_err *e)
{
	const sc_ccip_msg *m = &ev->msg;
	ct_hdr             h;
	sc_ccip_msg        old;
	uint8_t            lk[24], dk[41];
	int                rc = ct_msg_get(t, txn, m->message_id, &h, &old, e);
	if (rc == 0 && !(h.flags & F_SEND_GONE))
		return 0; /* seen already (same log re-scanned, or a duplicate id: the first send wins) */
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (rc == MDB_NOTFOUND) {
		memset(&h, 0, sizeof h);
		h.ver = 1;
		h.state = CT_NONE;
	}
	h.flags &= (uint8_t)~F_SEND_GONE;
	h.chain = chain;
	h.sent_time_s = m->block_time_s ? m->block_time_s : m->observed_at_ns / 1000000000u;
	if ((rc = ct_msg_put(t, txn, &h, m, e)) != 0)
		return rc;
	ct_be(lk, m->source_chain_selector);
	ct_be(lk + 8, m->dest_chain_selector);
	ct_be(lk + 16, m->sequence_number);
	if ((rc = st_put(txn, t->laneseq, lk, sizeof lk, m->message_id, 32, e)) != 0)
		return rc;
	if ((rc = ct_byblock(t, txn, chain, m, 0, B_SEND, m->message_id, 32, e)) != 0)
		return rc;
	/* Deadlines: checked lazily when they fire, so a later execution needs no cleanup here. */
	const uint64_t after[2] = { t->cfg.commit_overdue_after_s, t->cfg.overdue_after_s };
	for (int k = 0; k < 2; k++) {
		if (after[k] == 0)
			continue;
		ct_be(dk, h.sent_time_s + after[k]);
		memcpy(dk + 8, m->message_id, 32);
		dk[40] = k == 0 ? 'c' : 'e';
		if ((rc = st_put(txn, t->due, dk, sizeof dk, "", 0, e)) != 0)
			return rc;
	}
	return ct_mark(t, txn, m->message_id, 0, 0, 0, e);
}

static int
ct_mark_range(ct_track *t, MDB_txn *txn, uint64_t src, uint64_t dst, uint64_t min, uint64_t max, int reorg,
              uint64_t chain, uint64_t keep, st_err *e)
{
	uint8_t lo[24], hi[24];
	st_iter it;
	MDB_val k, v;
	int     rc;
	ct_be(lo, src);
	ct_be(lo + 8, dst);
	ct_be(lo + 16, min);
	memcpy(hi, lo, 16);
	ct_be(hi + 16, max);
	/* [min, max] inclusive: iterate [min, max) and then max itself (max may be UINT64_MAX). */
	if ((rc = st_iter_open(&it, txn, t->laneseq, lo, 24, hi, 24, e)) != 0)
		return rc;
	while ((rc = st_iter_next(&it, &k, &v, e)) == 0)
		if ((rc = ct_mark(t, txn, v.mv_data, reorg, chain, keep, e)) != 0)
			break;
	st_iter_close(&it);
	if (rc != MDB_NOTFOUND)
		return rc;
	if (st_get(txn, t->laneseq, hi, 24, &v, NULL) == 0) {
		uint8_t id[32];
		memcpy(id, v.mv_data, 32);
		return ct_mark(t, txn, id, reorg, chain, keep, e);
	}
	return 0;
}

static int
ct_apply_commit(ct_track *t, MDB_txn *txn, uint64_t chain, const ct_event *ev, st_err *e)
{
	const sc_ccip_msg *m = &ev->msg;
	int                rc;
	for (unsigned k = 0; k < ev->nroots; k++) {
		const ct_root *r = &ev->roots[k];
		uint8_t        key[57];
		ct_cval        cv;
		memset(&cv, 0, sizeof cv);
		ct_be(key, r->source_selector);
		ct_be(key + 8, m->dest_chain_selector);
		ct_be(key + 16, r->max_seq);
		ct_be(key + 24, r->min_seq);
		ct_be(key + 32, chain);
		ct_be(key + 40, m->block_number);
		ct_be(key + 48, m->log_index);
		key[56] = (uint8_t)k;
		cv.onramp_len = (uint8_t)r->onramp_len;
		memcpy(cv.onramp, r->onramp, r->onramp_len);
		memcpy(cv.root, r->root, 32);
		memcpy(cv.block_hash, m->block_hash, 32);
		memcpy(cv.tx, m->tx_hash, 32);
		memcpy(cv.contract, m->contract, 20);
		if ((rc = st_put(txn, t->commit, key, sizeof key, &cv, sizeof cv, e)) != 0 ||
		    (rc = ct_byblock(t, txn, chain, m, (uint8_t)(k + 1), B_COMMIT, key, sizeof key, e)) != 0 ||
		    (rc = ct_mark_range(t, txn, r->source_selector, m->dest_chain_selector, r->min_seq, r->max_seq, 0, 0,
		                        0, e)) != 0)
			return rc;
	}
	return 0;
}

static int
ct_apply_exec(ct_track *t, MDB_txn *txn, uint64_t chain, const ct_event *ev, st_err *e)
{
	const sc_ccip_msg *m = &ev->msg;
	uint8_t            key[56];
	ct_eval            x;
	int                rc;
	memset(&x, 0, sizeof x);
	memcpy(key, m->message_id, 32);
	ct_be(key + 32, chain);
	ct_be(key + 40, m->block_number);
	ct_be(key + 48, m->log_index);
	x.state = (uint8_t)ev->exec_state;
	x.router = (uint8_t)ev->from_router;
	x.rlen = (uint16_t)m->return_data_len;
	memcpy(x.contract, m->contract, 20);
	memcpy(x.block_hash, m->block_hash, 32);
	memcpy(x.tx, m->tx_hash, 32);
	x.seq = m->sequence_number;
	memcpy(t->buf, &x, sizeof x);
	memcpy(t->buf + sizeof x, m->return_data, x.rlen);
	if ((rc = st_put(txn, t->exec, key, sizeof key, t->buf, sizeof x + x.rlen, e)) != 0 ||
	    (rc = ct_byblock(t, txn, chain, m, 0, B_EXEC, key, sizeof key, e)) != 0)
		return rc;
	/* No send yet: the fact waits; the send's settle will find it by id. */
	return ct_mark(t, txn, m->message_id, 0, 0, 0, e);
}

int
ct_apply(ct_track *t, MDB_txn *txn, uint64_t chain, const ct_event *ev, st_err *e)
{
	static int (*const by_kind[])(ct_track *, MDB_txn *, uint64_t, const ct_event *, st_err *) = {
		[CT_SEND] = ct_apply_send, [CT_EXEC] = ct_apply_exec, [CT_COMMIT] = ct_apply_commit,
	};
	uint8_t bk[24];
	if (ev->kind < CT_SEND || ev->kind > CT_COMMIT)
		return EINVAL;
	/* The block's hash is remembered: a reorg walk-back compares against it. */
	ct_be(bk, chain);
	ct_be(bk + 8, ev->msg.block_number);
	int rc = st_put(txn, t->blocks, bk, 16, ev->msg.block_hash, 32, e);
	return rc ? rc : by_kind[ev->kind](t, txn, chain, ev, e);
}

int
ct_keep_raw(ct_track *t, MDB_txn *txn, uint64_t chain, const ct_log *lg, const char *why, st_err *e)
{
	uint8_t key[24];
	size_t  wl = why ? strlen(why) : 0, n = 0;
	if (wl > 200)
		wl = 200;
	size_t need = 20 + 1 + 32 * lg->ntopics + 2 + wl + lg->data_len;
	uint8_t *b = need <= sizeof t->buf ? t->buf : malloc(need);
	if (b == NULL)
		return ENOMEM;
	memcpy(b, lg->address, 20), n = 20;
	b[n++] = (uint8_t)lg->ntopics;
	memcpy(b + n, lg->topics, 32 * lg->ntopics), n += 32 * lg->ntopics;
	b[n++] = (uint8_t)(wl >> 8), b[n++] = (uint8_t)wl;
	memcpy(b + n, why, wl), n += wl;
	memcpy(b + n, lg->data, lg->data_len), n += lg->data_len;
	ct_be(key, chain);
	ct_be(key + 8, lg->block_number);
	ct_be(key + 16, lg->log_index);
	int rc = st_put(txn, t->raw, key, sizeof key, b, n, e);
	if (b != t->buf)
		free(b);
	return rc;
}

/* ---- rollback -------------------------------------------------------------------------------- */

typedef struct {
	uint8_t bk[25];
	uint8_t type;
	uint8_t key[64];
	size_t  klen;
} ct_undo;

static int
ct_del_prefix_range(MDB_txn *txn, MDB_dbi dbi, const uint8_t *lo, size_t lolen, const uint8_t *hi, size_t hilen,
                    st_err *e)
{
	/* Delete by repeatedly taking the first key of [lo, hi): no write while a cursor walks. */
	for (;;) {
		st_iter it;
		MDB_val k, v;
		uint8_t key[64];
		size_t  kl;
		int     rc = st_iter_open(&it, txn, dbi, lo, lolen, hi, hilen, e);
		if (rc != 0)
			return rc;
		rc = st_iter_next(&it, &k, &v, e);
		if (rc == 0) {
			kl = k.mv_size < sizeof key ? k.mv_size : sizeof key;
			memcpy(key, k.mv_data, kl);
		}
		st_iter_close(&it);
		if (rc == MDB_NOTFOUND)
			return 0;
		if (rc != 0)
			return rc;
		if ((rc = st_del(txn, dbi, key, kl, e)) != 0)
			return rc;
	}
}

int
ct_rollback(ct_track *t, MDB_txn *txn, uint64_t chain, uint64_t keep, uint64_t *touched, st_err *e)
{
	uint8_t  lo[16], hi[8];
	ct_undo *u = NULL;
	size_t   n = 0, cap = 0;
	st_iter  it;
	MDB_val  k, v;
	int      rc;
	ct_be(lo, chain);
	ct_be(lo + 8, keep + 1);
	ct_be(hi, chain + 1);
	if ((rc = st_iter_open(&it, txn, t->byblock, lo, 16, hi, 8, e)) != 0)
		return rc;
	/* Collect first: LMDB cursors must not see their table written under them. */
	while ((rc = st_iter_next(&it, &k, &v, e)) == 0) {
		if (n == cap) {
			ct_undo *nu = realloc(u, (cap = cap ? cap * 2 : 64) * sizeof *u);
			if (nu == NULL) {
				rc = ENOMEM;
				break;
			}
			u = nu;
		}
		if (k.mv_size != 25 || v.mv_size < 1 || v.mv_size - 1 > sizeof u[n].key)
			continue;
		memcpy(u[n].bk, k.mv_data, 25);
		u[n].type = *(const uint8_t *)v.mv_data;
		u[n].klen = v.mv_size - 1;
		memcpy(u[n].key, (const uint8_t *)v.mv_data + 1, u[n].klen);
		n++;
	}
	st_iter_close(&it);
	if (rc != MDB_NOTFOUND)
		goto out;
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		ct_undo *x = &u[i];
		if (x->type == B_SEND) {
			ct_hdr h;
			if (ct_msg_get(t, txn, x->key, &h, NULL, e) == 0) {
				h.flags |= F_SEND_GONE; /* settle publishes the retraction, then forgets it */
				rc = ct_hdr_put(t, txn, x->key, &h, e);
			}
			if (rc == 0)
				rc = ct_mark(t, txn, x->key, 1, chain, keep, e);
		} else if (x->type == B_COMMIT) {
			rc = st_del(txn, t->commit, x->key, x->klen, e);
			if (rc == MDB_NOTFOUND)
				rc = 0;
			if (rc == 0)
				rc = ct_mark_range(t, txn, st_u64_at(x->key), st_u64_at(x->key + 8), st_u64_at(x->key + 24),
				                   st_u64_at(x->key + 16), 1, chain, keep, e);
		} else if (x->type == B_EXEC) {
			rc = st_del(txn, t->exec, x->key, x->klen, e);
			if (rc == MDB_NOTFOUND)
				rc = 0;
			if (rc == 0)
				rc = ct_mark(t, txn, x->key, 1, chain, keep, e);
		}
		if (rc == 0 && (rc = st_del(txn, t->byblock, x->bk, 25, e)) == MDB_NOTFOUND)
			rc = 0;
	}
	if (rc == 0)
		rc = ct_del_prefix_range(txn, t->raw, lo, 16, hi, 8, e);
	if (rc == 0)
		rc = ct_del_prefix_range(txn, t->blocks, lo, 16, hi, 8, e);
	if (touched)
		*touched = n;
out:
	free(u);
	return rc;
}

/* ---- overdue --------------------------------------------------------------------------------- */

int
ct_overdue(ct_track *t, MDB_txn *txn, uint64_t now_s, st_err *e)
{
	for (;;) {
		uint8_t keys[64][41];
		size_t  n = 0;
		uint8_t hi[8];
		st_iter it;
		MDB_val k, v;
		int     rc;
		ct_be(hi, now_s + 1);
		if ((rc = st_iter_open(&it, txn, t->due, NULL, 0, hi, 8, e)) != 0)
			return rc;
		while (n < 64 && (rc = st_iter_next(&it, &k, &v, e)) == 0)
			if (k.mv_size == 41)
				memcpy(keys[n++], k.mv_data, 41);
		st_iter_close(&it);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
		if (n == 0)
			return 0;
		for (size_t i = 0; i < n; i++) {
			const uint8_t *id = keys[i] + 8;
			ct_hdr         h;
			if ((rc = st_del(txn, t->due, keys[i], 41, e)) != 0)
				return rc;
			if ((rc = ct_msg_get(t, txn, id, &h, NULL, e)) == MDB_NOTFOUND)
				continue; /* rolled back meanwhile */
			if (rc != 0)
				return rc;
			int executed = h.state == SC_CCIP_EXECUTED_SUCCESS || h.state == SC_CCIP_EXECUTED_FAILURE;
			int committed = (h.flags & F_PUB_COMMITTED) != 0;
			uint8_t f = keys[i][40] == 'c' ? (committed || executed ? 0 : F_OD_COMMIT) : (executed ? 0 : F_OD_EXEC);
			if (f == 0)
				continue;
			h.flags |= f;
			if ((rc = ct_hdr_put(t, txn, id, &h, e)) != 0 || (rc = ct_mark(t, txn, id, 0, 0, 0, e)) != 0)
				return rc;
		}
	}
}

/* ---- derivation ------------------------------------------------------------------------------ */

typedef struct {
	int     found;
	uint64_t chain, block, log;
	ct_cval cv;
} ct_commit_ev;

typedef struct {
	int      state; /* 0 none, CT_EX_SUCCESS, CT_EX_FAILURE */
	uint64_t chain, block, log;
	ct_eval  x;
	uint8_t  ret[1024];
} ct_exec_ev;

/* A commit covering m: the interval table is ordered by max, so the candidates start at the first
 * interval whose max >= seq; intervals on a lane do not overlap, so a few looks suffice. */
static int
ct_find_commit(ct_track *t, MDB_txn *txn, const sc_ccip_msg *m, ct_commit_ev *c, st_err *e)
{
	uint8_t lo[24];
	st_iter it;
	MDB_val k, v;
	int     rc, looks = 0;
	memset(c, 0, sizeof *c);
	ct_be(lo, m->source_chain_selector);
	ct_be(lo + 8, m->dest_chain_selector);
	ct_be(lo + 16, m->sequence_number);
	if ((rc = st_iter_open(&it, txn, t->commit, lo, 24, NULL, 0, e)) != 0)
		return rc;
	while (looks++ < 64 && (rc = st_iter_next(&it, &k, &v, e)) == 0) {
		const uint8_t *kb = k.mv_data;
		if (k.mv_size != 57 || memcmp(kb, lo, 16) != 0 || v.mv_size != sizeof(ct_cval))
			break;
		ct_cval cv;
		memcpy(&cv, v.mv_data, sizeof cv);
		if (st_u64_at(kb + 24) > m->sequence_number)
			continue;
		/* v1.6 roots name their OnRamp; a root for another OnRamp of the same source is another lane. */
		if (cv.onramp_len == 20 && memcmp(cv.onramp, m->contract, 20) != 0)
			continue;
		c->found = 1;
		c->chain = st_u64_at(kb + 32);
		c->block = st_u64_at(kb + 40);
		c->log = st_u64_at(kb + 48);
		c->cv = cv;
		break;
	}
	st_iter_close(&it);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

/* The execution outcome: any success wins (manual re-execution after a failure); else the latest
 * failure. */
static int
ct_find_exec(ct_track *t, MDB_txn *txn, const uint8_t id[32], ct_exec_ev *x, st_err *e)
{
	st_iter it;
	MDB_val k, v;
	int     rc;
	x->state = 0;
	if ((rc = st_iter_open(&it, txn, t->exec, id, 32, NULL, 0, e)) != 0)
		return rc;
	while ((rc = st_iter_next(&it, &k, &v, e)) == 0) {
		const uint8_t *kb = k.mv_data;
		if (k.mv_size != 56 || memcmp(kb, id, 32) != 0)
			break;
		if (v.mv_size < sizeof(ct_eval))
			continue;
		ct_eval ev;
		memcpy(&ev, v.mv_data, sizeof ev);
		if (x->state == CT_EX_SUCCESS && ev.state != CT_EX_SUCCESS)
			continue;
		if (x->state == CT_EX_SUCCESS && ev.state == CT_EX_SUCCESS && !(x->x.router && !ev.router))
			continue; /* keep the first success, preferring the OffRamp's over the Router's */
		x->state = ev.state;
		x->chain = st_u64_at(kb + 32);
		x->block = st_u64_at(kb + 40);
		x->log = st_u64_at(kb + 48);
		x->x = ev;
		size_t rl = v.mv_size - sizeof ev;
		if (rl > sizeof x->ret)
			rl = sizeof x->ret;
		x->x.rlen = (uint16_t)rl;
		memcpy(x->ret, (const uint8_t *)v.mv_data + sizeof ev, rl);
	}
	st_iter_close(&it);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

/* One publication and its history entry. `where` gives the block the state came from. */
typedef struct {
	uint64_t       chain, block, log;
	const uint8_t *block_hash, *tx, *contract;
	const uint8_t *ret;
	size_t         rlen;
} ct_where;

static void
ct_env_id(const uint8_t id[32], uint32_t n, uint8_t tag, uint8_t out[16])
{
	uint8_t in[37], h[32];
	memcpy(in, id, 32);
	in[32] = (uint8_t)(n >> 24), in[33] = (uint8_t)(n >> 16), in[34] = (uint8_t)(n >> 8), in[35] = (uint8_t)n;
	in[36] = tag;
	kec_256(in, sizeof in, h);
	memcpy(out, h, 16);
}

static int
ct_queue(ct_track *t, MDB_txn *txn, int is_alert, const uint8_t id[16], const char *topic, const void *rec,
         st_err *e)
{
	MDB_val  k, v;
	uint64_t seq = 1;
	uint8_t  key[8];
	size_t   tl = strlen(topic), n;
	sc_err   se;
	ct_pval  pv = { (uint8_t)is_alert, { 0 }, (uint8_t)tl };
	int      rc = st_last(txn, t->pub, &k, &v, e);
	if (rc == 0)
		seq = st_u64_at(k.mv_data) + 1;
	else if (rc != MDB_NOTFOUND)
		return rc;
	memcpy(pv.id, id, 16);
	memcpy(t->buf, &pv, sizeof pv);
	memcpy(t->buf + sizeof pv, topic, tl);
	if (sc_encode(is_alert ? &SC_ALERT : &SC_CCIP_MSG, rec, t->buf + sizeof pv + tl, sizeof t->buf - sizeof pv - tl,
	              &n, &se) != 0) {
		snprintf(e->text, sizeof e->text, "pub: %s", se.text);
		return ST_ESCHEMA;
	}
	ct_be(key, seq);
	return st_put(txn, t->pub, key, 8, t->buf, sizeof pv + tl + n, e);
}

static void
ct_sel_str(uint64_t v, char *out, size_t n)
{
	snprintf(out, n, "%llu", (unsigned long long)v);
}

static int
ct_alert(ct_track *t, MDB_txn *txn, const sc_ccip_msg *m, uint32_t n, const char *kind, int sev, int status,
         uint64_t now_ns, st_err *e)
{
	static sc_alert al; /* large; a write txn is single-threaded */
	char            idhex[67], src[24], dst[24], seq[24], topic[96];
	uint8_t         eid[16];
	memset(&al, 0, sizeof al);
	hex_encode(m->message_id, 32, 1, idhex);
	ct_sel_str(m->source_chain_selector, src, sizeof src);
	ct_sel_str(m->dest_chain_selector, dst, sizeof dst);
	ct_sel_str(m->sequence_number, seq, sizeof seq);
	snprintf(al.kind, sizeof al.kind, "%s", kind);
	al.severity = sev;
	al.status = status;
	snprintf(al.dedupe_key, sizeof al.dedupe_key, "%s:%s", kind, idhex);
	if (strcmp(kind, "ccip_failure") == 0)
		snprintf(al.summary, sizeof al.summary, "CCIP message %s (lane %s->%s seq %s) %s", idhex, src, dst, seq,
		         status == SC_ALERT_FIRING ? "failed on execution" : "executed after all");
	else
		snprintf(al.summary, sizeof al.summary, "CCIP message %s (lane %s->%s seq %s) %s", idhex, src, dst, seq,
		         status == SC_ALERT_FIRING ? "is overdue" : "executed");
	const char *kv[][2] = { { "message_id", idhex }, { "source_chain_selector", src },
	                        { "dest_chain_selector", dst }, { "sequence_number", seq } };
	for (size_t i = 0; i < 4; i++) {
		snprintf(al.labels[i].key, sizeof al.labels[i].key, "%s", kv[i][0]);
		snprintf(al.labels[i].value, sizeof al.labels[i].value, "%s", kv[i][1]);
	}
	al.labels_count = 4;
	snprintf(al.origin, sizeof al.origin, "%s", rt_instance() ? rt_instance() : "ccip-tail");
	al.started_at_ns = now_ns;
	if (status == SC_ALERT_RESOLVED)
		al.resolved_at_ns = now_ns;
	snprintf(topic, sizeof topic, "alert.%s.%s", sev == SC_SEV_CRITICAL ? "critical" : "warning", kind);
	ct_env_id(m->message_id, n, (uint8_t)(status == SC_ALERT_FIRING ? 'F' : 'R'), eid);
	return ct_queue(t, txn, 1, eid, topic, &al, e);
}

/* Emits state `st` for message m: history entry n = h->nhist, the by-state index, a publication. */
static int
ct_emit(ct_track *t, MDB_txn *txn, ct_hdr *h, const sc_ccip_msg *send, int st, const ct_where *w, uint64_t now_ns,
        st_err *e)
{
	static sc_ccip_msg m; /* large; a write txn is single-threaded */
	uint8_t            hk[36], sk[33], eid[16];
	ct_hist            he;
	char               topic[64];
	int                rc;
	m = *send;
	m.state = st;
	m.observed_at_ns = now_ns;
	if (w) {
		m.block_number = w->block;
		m.log_index = w->log;
		if (w->block_hash)
			memcpy(m.block_hash, w->block_hash, 32);
		if (w->tx)
			memcpy(m.tx_hash, w->tx, 32);
		if (w->contract)
			memcpy(m.contract, w->contract, 20);
		m.return_data_len = (uint32_t)w->rlen;
		if (w->rlen)
			memcpy(m.return_data, w->ret, w->rlen);
	}
	memset(&he, 0, sizeof he);
	he.state = (uint8_t)st;
	he.chain = w ? w->chain : 0;
	he.block = m.block_number;
	he.log = m.log_index;
	he.at_ns = now_ns;
	memcpy(he.block_hash, m.block_hash, 32);
	memcpy(he.tx, m.tx_hash, 32);
	memcpy(hk, m.message_id, 32);
	hk[32] = (uint8_t)(h->nhist >> 24), hk[33] = (uint8_t)(h->nhist >> 16), hk[34] = (uint8_t)(h->nhist >> 8);
	hk[35] = (uint8_t)h->nhist;
	if ((rc = st_put(txn, t->hist, hk, sizeof hk, &he, sizeof he, e)) != 0)
		return rc;
	ct_env_id(m.message_id, h->nhist, (uint8_t)st, eid);
	snprintf(topic, sizeof topic, "ccip.msg.%s", sc_enum_name(&SC_CCIP_MSG, "state", st));
	if ((rc = ct_queue(t, txn, 0, eid, topic, &m, e)) != 0)
		return rc;
	/* by-state index: the message moves from its old state's list to the new one's */
	if (h->state != CT_NONE) {
		sk[0] = h->state;
		memcpy(sk + 1, m.message_id, 32);
		if ((rc = st_del(txn, t->bystate, sk, sizeof sk, e)) != 0 && rc != MDB_NOTFOUND)
			return rc;
	}
	if (st != SC_CCIP_REORGED) {
		sk[0] = (uint8_t)st;
		memcpy(sk + 1, m.message_id, 32);
		if ((rc = st_put(txn, t->bystate, sk, sizeof sk, "", 0, e)) != 0)
			return rc;
	}
	if (st < CT_NSTATES)
		rt_inc(t->cfg.m_state[st]);
	if (st == SC_CCIP_EXECUTED_FAILURE)
		rt_inc(t->cfg.m_failures);
	h->state = st == SC_CCIP_REORGED ? CT_NONE : (uint8_t)st;
	h->nhist++;
	/* Alerts follow the transition. */
	if (st == SC_CCIP_EXECUTED_FAILURE && !(h->flags & F_FAIL_ALERTED)) {
		h->flags |= F_FAIL_ALERTED;
		if ((rc = ct_alert(t, txn, &m, h->nhist, "ccip_failure", SC_SEV_CRITICAL, SC_ALERT_FIRING, now_ns, e)) != 0)
			return rc;
	} else if (st != SC_CCIP_EXECUTED_FAILURE && st != SC_CCIP_REORGED && (h->flags & F_FAIL_ALERTED)) {
		h->flags &= (uint8_t)~F_FAIL_ALERTED; /* re-executed, or the failure was reorged away */
		if ((rc = ct_alert(t, txn, &m, h->nhist, "ccip_failure", SC_SEV_CRITICAL, SC_ALERT_RESOLVED, now_ns, e)) != 0)
			return rc;
	}
	if (st == SC_CCIP_OVERDUE && !(h->flags & F_OD_ALERTED)) {
		h->flags |= F_OD_ALERTED;
		if ((rc = ct_alert(t, txn, &m, h->nhist, "ccip_overdue", SC_SEV_WARNING, SC_ALERT_FIRING, now_ns, e)) != 0)
			return rc;
	} else if ((st == SC_CCIP_EXECUTED_SUCCESS || st == SC_CCIP_EXECUTED_FAILURE) && (h->flags & F_OD_ALERTED)) {
		h->flags &= (uint8_t)~F_OD_ALERTED;
		if ((rc = ct_alert(t, txn, &m, h->nhist, "ccip_overdue", SC_SEV_WARNING, SC_ALERT_RESOLVED, now_ns, e)) != 0)
			return rc;
	}
	return 0;
}

/* Deletes the history entries that came from blocks of `chain` above `keep` (undone by a reorg). */
static int
ct_hist_undo(ct_track *t, MDB_txn *txn, const uint8_t id[32], uint64_t chain, uint64_t keep, int *undone, st_err *e)
{
	uint8_t  del[64][36];
	size_t   n = 0;
	st_iter  it;
	MDB_val  k, v;
	int      rc;
	*undone = 0;
	if ((rc = st_iter_open(&it, txn, t->hist, id, 32, NULL, 0, e)) != 0)
		return rc;
	while (n < 64 && (rc = st_iter_next(&it, &k, &v, e)) == 0) {
		if (k.mv_size != 36 || memcmp(k.mv_data, id, 32) != 0)
			break;
		ct_hist he;
		if (v.mv_size != sizeof he)
			continue;
		memcpy(&he, v.mv_data, sizeof he);
		if (he.chain == chain && he.block > keep && he.state != SC_CCIP_REORGED)
			memcpy(del[n++], k.mv_data, 36);
	}
	st_iter_close(&it);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = st_del(txn, t->hist, del[i], 36, e)) != 0)
			return rc;
	*undone = (int)n;
	return 0;
}

static int
ct_settle_one(ct_track *t, MDB_txn *txn, const uint8_t id[32], const ct_dirty *d, uint64_t now_ns, uint64_t *changes,
              st_err *e)
{
	static sc_ccip_msg send;
	static ct_exec_ev  x;
	ct_commit_ev       c;
	ct_hdr             h;
	int                rc = ct_msg_get(t, txn, id, &h, &send, e), undone = 0;
	if (rc == MDB_NOTFOUND)
		return 0; /* facts without a send: they wait */
	if (rc != 0)
		return rc;
	if (d->reorg && (rc = ct_hist_undo(t, txn, id, d->chain, d->keep, &undone, e)) != 0)
		return rc;
	ct_where rw = { d->chain, d->keep, 0, NULL, NULL, NULL, NULL, 0 };
	if (h.flags & F_SEND_GONE) {
		/* The send itself was reorged away: retract, forget the message, keep its history. */
		uint8_t lk[24];
		if (h.state != CT_NONE && (rc = ct_emit(t, txn, &h, &send, SC_CCIP_REORGED, &rw, now_ns, e)) != 0)
			return rc;
		ct_be(lk, send.source_chain_selector);
		ct_be(lk + 8, send.dest_chain_selector);
		ct_be(lk + 16, send.sequence_number);
		if ((rc = st_del(txn, t->laneseq, lk, 24, e)) != 0 && rc != MDB_NOTFOUND)
			return rc;
		(*changes)++;
		return (rc = st_del(txn, t->msg, id, 32, e)) == MDB_NOTFOUND ? 0 : rc;
	}
	if ((rc = ct_find_commit(t, txn, &send, &c, e)) != 0 || (rc = ct_find_exec(t, txn, id, &x, e)) != 0)
		return rc;
	int base = x.state == CT_EX_SUCCESS   ? SC_CCIP_EXECUTED_SUCCESS
	           : x.state == CT_EX_FAILURE ? SC_CCIP_EXECUTED_FAILURE
	           : c.found                  ? SC_CCIP_COMMITTED
	                                      : SC_CCIP_SENT;
	int executed = base == SC_CCIP_EXECUTED_SUCCESS || base == SC_CCIP_EXECUTED_FAILURE;
	int want = base;
	if (!executed && ((h.flags & F_OD_EXEC) || (base == SC_CCIP_SENT && (h.flags & F_OD_COMMIT))))
		want = SC_CCIP_OVERDUE;
	ct_where sw = { h.chain, send.block_number, send.log_index, send.block_hash, send.tx_hash, send.contract, NULL, 0 };
	ct_where cw = { c.chain, c.block, c.log, c.cv.block_hash, c.cv.tx, c.cv.contract, NULL, 0 };
	ct_where xw = { x.chain, x.block, x.log, x.x.block_hash, x.x.tx, x.x.contract, x.ret, x.x.rlen };
	const ct_where *wwant = executed ? &xw : want == SC_CCIP_COMMITTED ? &cw : &sw;
	int before = h.state;

	if (d->reorg && (undone || want != h.state)) {
		/* Corrections: say what was retracted, then where the message stands now. */
		if (h.state != CT_NONE && want != h.state) {
			if ((rc = ct_emit(t, txn, &h, &send, SC_CCIP_REORGED, &rw, now_ns, e)) != 0)
				return rc;
		}
		/* the corrected state stands for the commit too: no separate committed step follows */
		if (c.found)
			h.flags |= F_PUB_COMMITTED;
		else
			h.flags &= (uint8_t)~F_PUB_COMMITTED;
		if (want != h.state || undone) {
			if ((rc = ct_emit(t, txn, &h, &send, want, wwant, now_ns, e)) != 0)
				return rc;
		}
	} else {
		/* Forward: every lifecycle step once, in order. */
		if (h.state == CT_NONE && (rc = ct_emit(t, txn, &h, &send, SC_CCIP_SENT, &sw, now_ns, e)) != 0)
			return rc;
		if (c.found && !(h.flags & F_PUB_COMMITTED)) {
			h.flags |= F_PUB_COMMITTED;
			if ((rc = ct_emit(t, txn, &h, &send, SC_CCIP_COMMITTED, &cw, now_ns, e)) != 0)
				return rc;
		}
		if (want != h.state && !(want == SC_CCIP_SENT) &&
		    (rc = ct_emit(t, txn, &h, &send, want, wwant, now_ns, e)) != 0)
			return rc;
	}
	if (h.state != before || undone)
		(*changes)++;
	return ct_hdr_put(t, txn, id, &h, e);
}

int
ct_settle(ct_track *t, MDB_txn *txn, uint64_t now_ns, uint64_t *changes, st_err *e)
{
	uint64_t ch = 0;
	for (;;) {
		uint8_t  ids[64][32];
		ct_dirty ds[64];
		size_t   n = 0;
		st_iter  it;
		MDB_val  k, v;
		int      rc;
		if ((rc = st_iter_open(&it, txn, t->dirty, NULL, 0, NULL, 0, e)) != 0)
			return rc;
		while (n < 64 && (rc = st_iter_next(&it, &k, &v, e)) == 0)
			if (k.mv_size == 32 && v.mv_size == sizeof(ct_dirty)) {
				memcpy(ids[n], k.mv_data, 32);
				memcpy(&ds[n++], v.mv_data, sizeof(ct_dirty));
			}
		st_iter_close(&it);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++) {
			if ((rc = st_del(txn, t->dirty, ids[i], 32, e)) != 0 ||
			    (rc = ct_settle_one(t, txn, ids[i], &ds[i], now_ns, &ch, e)) != 0)
				return rc;
		}
	}
	if (changes)
		*changes = ch;
	return 0;
}

/* ---- cursor and block hashes ------------------------------------------------------------------- */

int
ct_cursor_get(ct_track *t, MDB_txn *txn, uint64_t chain, uint64_t *block, uint8_t hash[32], st_err *e)
{
	uint8_t k[8];
	MDB_val v;
	ct_be(k, chain);
	int rc = st_get(txn, t->cursor, k, 8, &v, e);
	if (rc != 0)
		return rc;
	if (v.mv_size != 40)
		return ST_ESCHEMA;
	*block = st_u64_at(v.mv_data);
	memcpy(hash, (const uint8_t *)v.mv_data + 8, 32);
	return 0;
}

int
ct_cursor_put(ct_track *t, MDB_txn *txn, uint64_t chain, uint64_t block, const uint8_t hash[32], st_err *e)
{
	uint8_t k[8], v[40];
	ct_be(k, chain);
	ct_be(v, block);
	memcpy(v + 8, hash, 32);
	int rc = st_put(txn, t->cursor, k, 8, v, 40, e);
	return rc ? rc : ct_block_put(t, txn, chain, block, hash, e);
}

int
ct_block_put(ct_track *t, MDB_txn *txn, uint64_t chain, uint64_t block, const uint8_t hash[32], st_err *e)
{
	uint8_t k[16];
	ct_be(k, chain);
	ct_be(k + 8, block);
	return st_put(txn, t->blocks, k, 16, hash, 32, e);
}

int
ct_block_below(ct_track *t, MDB_txn *txn, uint64_t chain, uint64_t below, uint64_t *block, uint8_t hash[32],
               st_err *e)
{
	uint8_t     k[16];
	MDB_cursor *cur;
	MDB_val     key, val;
	int         rc;
	ct_be(k, chain);
	ct_be(k + 8, below);
	if ((rc = mdb_cursor_open(txn, t->blocks, &cur)) != 0)
		return rc;
	key.mv_data = k;
	key.mv_size = 16;
	/* the first key >= (chain, below), then one step back */
	rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
	rc = rc == MDB_NOTFOUND ? mdb_cursor_get(cur, &key, &val, MDB_LAST) : mdb_cursor_get(cur, &key, &val, MDB_PREV);
	if (rc == 0 && (key.mv_size != 16 || st_u64_at(key.mv_data) != chain || st_u64_at((uint8_t *)key.mv_data + 8) >= below))
		rc = MDB_NOTFOUND;
	if (rc == 0) {
		*block = st_u64_at((uint8_t *)key.mv_data + 8);
		memcpy(hash, val.mv_data, 32);
	}
	mdb_cursor_close(cur);
	(void)e;
	return rc;
}

int
ct_blocks_prune(ct_track *t, MDB_txn *txn, uint64_t chain, uint64_t from, st_err *e)
{
	uint8_t lo[8], hi[16];
	ct_be(lo, chain);
	ct_be(hi, chain);
	ct_be(hi + 8, from);
	return ct_del_prefix_range(txn, t->blocks, lo, 8, hi, 16, e);
}

/* ---- publication queue -------------------------------------------------------------------------- */

int
ct_pub_next(ct_track *t, MDB_txn *txn, uint64_t after_seq, ct_pub *p, st_err *e)
{
	uint8_t lo[8];
	st_iter it;
	MDB_val k, v;
	int     rc;
	ct_be(lo, after_seq + 1);
	if ((rc = st_iter_open(&it, txn, t->pub, lo, 8, NULL, 0, e)) != 0)
		return rc;
	rc = st_iter_next(&it, &k, &v, e);
	st_iter_close(&it);
	if (rc != 0)
		return rc;
	ct_pval pv;
	if (v.mv_size < sizeof pv)
		return ST_ESCHEMA;
	memcpy(&pv, v.mv_data, sizeof pv);
	if (v.mv_size < sizeof pv + pv.topic_len || pv.topic_len >= sizeof p->topic)
		return ST_ESCHEMA;
	p->seq = st_u64_at(k.mv_data);
	p->is_alert = pv.is_alert;
	memcpy(p->id, pv.id, 16);
	memcpy(p->topic, (const uint8_t *)v.mv_data + sizeof pv, pv.topic_len);
	p->topic[pv.topic_len] = '\0';
	p->body = (const uint8_t *)v.mv_data + sizeof pv + pv.topic_len;
	p->body_len = v.mv_size - sizeof pv - pv.topic_len;
	return 0;
}

int
ct_pub_del(ct_track *t, MDB_txn *txn, uint64_t seq, st_err *e)
{
	uint8_t k[8];
	ct_be(k, seq);
	int rc = st_del(txn, t->pub, k, 8, e);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ---- queries ------------------------------------------------------------------------------------ */

static json_t *
ct_jhex(const uint8_t *b, size_t n)
{
	char s[2 * 64 + 3];
	if (n > 64)
		n = 64;
	hex_encode(b, n, 1, s);
	return json_string(s);
}

static json_t *
ct_ju64(uint64_t v)
{
	char s[24];
	if (v <= (1ull << 53))
		return json_integer((json_int_t)v);
	snprintf(s, sizeof s, "%llu", (unsigned long long)v);
	return json_string(s);
}

static const char *
ct_state_name(int st)
{
	const char *s = st == CT_NONE ? "none" : sc_enum_name(&SC_CCIP_MSG, "state", st);
	return s ? s : "?";
}

json_t *
ct_msg_json(ct_track *t, MDB_txn *txn, const uint8_t id[32])
{
	static __thread sc_ccip_msg m;
	ct_hdr                      h;
	st_err                      e;
	json_t                     *o = json_object(), *hist = json_array();
	int                         rc = ct_msg_get(t, txn, id, &h, &m, &e);
	if (rc == 0) {
		static __thread ct_exec_ev x;
		m.state = h.state == CT_NONE ? SC_CCIP_SENT : h.state;
		/* the outcome's return data (a failure's revert reason) comes from the execution fact */
		if (ct_find_exec(t, txn, id, &x, &e) == 0 && x.state) {
			memcpy(m.return_data, x.ret, x.x.rlen);
			m.return_data_len = x.x.rlen;
		}
		json_object_set_new(o, "message", sc_to_json(&SC_CCIP_MSG, &m));
		json_object_set_new(o, "state", json_string(ct_state_name(h.state)));
		json_object_set_new(o, "commit_overdue", json_boolean(h.flags & F_OD_COMMIT));
		json_object_set_new(o, "exec_overdue", json_boolean(h.flags & F_OD_EXEC));
		json_object_set_new(o, "sent_time_s", ct_ju64(h.sent_time_s));
	} else {
		json_object_set_new(o, "message", json_null());
	}
	st_iter it;
	MDB_val k, v;
	if (st_iter_open(&it, txn, t->hist, id, 32, NULL, 0, &e) == 0) {
		size_t n = 0;
		while (n++ < 256 && st_iter_next(&it, &k, &v, &e) == 0) {
			ct_hist he;
			if (k.mv_size != 36 || memcmp(k.mv_data, id, 32) != 0)
				break;
			if (v.mv_size != sizeof he)
				continue;
			memcpy(&he, v.mv_data, sizeof he);
			json_t *x = json_object();
			json_object_set_new(x, "state", json_string(ct_state_name(he.state)));
			json_object_set_new(x, "chain_selector", ct_ju64(he.chain));
			json_object_set_new(x, "block_number", ct_ju64(he.block));
			json_object_set_new(x, "log_index", ct_ju64(he.log));
			json_object_set_new(x, "block_hash", ct_jhex(he.block_hash, 32));
			json_object_set_new(x, "tx_hash", ct_jhex(he.tx, 32));
			json_object_set_new(x, "at_ns", ct_ju64(he.at_ns));
			json_array_append_new(hist, x);
		}
		st_iter_close(&it);
	}
	if (rc != 0 && json_array_size(hist) == 0) {
		json_decref(hist);
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "history", hist);
	return o;
}

json_t *
ct_list_json(ct_track *t, MDB_txn *txn, int state, const uint8_t *after, size_t limit)
{
	static __thread sc_ccip_msg m;
	json_t                     *o = json_object(), *arr = json_array();
	uint8_t                     lo[33], hi[1];
	size_t                      lolen = 0;
	st_iter                     it;
	MDB_val                     k, v;
	st_err                      e;
	uint8_t                     last[32];
	int                         more = 0, have_last = 0;
	if (state >= 0) {
		lo[0] = (uint8_t)state;
		hi[0] = (uint8_t)(state + 1);
		lolen = 1;
	}
	if (after && state >= 0) {
		memcpy(lo + 1, after, 32);
		lolen = 33;
	}
	if (st_iter_open(&it, txn, t->bystate, lolen ? lo : NULL, lolen, state >= 0 ? hi : NULL, state >= 0 ? 1 : 0,
	                 &e) == 0) {
		while (st_iter_next(&it, &k, &v, &e) == 0) {
			if (k.mv_size != 33)
				continue;
			const uint8_t *id = (const uint8_t *)k.mv_data + 1;
			if (after && state >= 0 && memcmp(id, after, 32) == 0)
				continue;
			if (json_array_size(arr) >= limit) {
				more = 1;
				break;
			}
			ct_hdr h;
			if (ct_msg_get(t, txn, id, &h, &m, &e) != 0)
				continue;
			json_t *x = json_object();
			json_object_set_new(x, "message_id", ct_jhex(id, 32));
			json_object_set_new(x, "state", json_string(ct_state_name(h.state)));
			json_object_set_new(x, "ccip_version", json_string(m.ccip_version == SC_CCIP_V1_5 ? "1.5" : "1.6"));
			json_object_set_new(x, "source_chain_selector", ct_ju64(m.source_chain_selector));
			json_object_set_new(x, "dest_chain_selector", ct_ju64(m.dest_chain_selector));
			json_object_set_new(x, "sequence_number", ct_ju64(m.sequence_number));
			json_object_set_new(x, "sent_block", ct_ju64(m.block_number));
			json_object_set_new(x, "sent_time_s", ct_ju64(h.sent_time_s));
			json_array_append_new(arr, x);
			memcpy(last, id, 32);
			have_last = 1;
		}
		st_iter_close(&it);
	}
	json_object_set_new(o, "state", state >= 0 ? json_string(ct_state_name(state)) : json_null());
	json_object_set_new(o, "messages", arr);
	json_object_set_new(o, "next", more && have_last ? ct_jhex(last, 32) : json_null());
	return o;
}

int
ct_counts(ct_track *t, MDB_txn *txn, uint64_t *tracked, uint64_t *pubs, uint64_t *raw, st_err *e)
{
	int rc = st_count(txn, t->msg, tracked, e);
	if (rc == 0)
		rc = st_count(txn, t->pub, pubs, e);
	if (rc == 0)
		rc = st_count(txn, t->raw, raw, e);
	return rc;
}

int
ct_state_of(ct_track *t, MDB_txn *txn, const uint8_t id[32])
{
	ct_hdr h;
	st_err e;
	if (ct_msg_get(t, txn, id, &h, NULL, &e) != 0)
		return -1;
	return h.state == CT_NONE ? -1 : h.state;
}
