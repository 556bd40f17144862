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
#include "actors/ccip-tail/track_impl.h"

void
ct_be(uint8_t *p, uint64_t v)
{
	st_key_u64(p, v);
}

/* ---- open ------------------------------------------------------------------------------------ */

int
ct_track_open(st_env *env, const ct_track_cfg *cfg, ct_track **out, st_err *e)
{
	ct_track *t = calloc(1, sizeof *t);
	MDB_txn *txn;
	int rc;
	if (t == NULL)
		return ENOMEM;
	t->env = env;
	if (cfg)
		t->cfg = *cfg;
	struct {
		const char *name;
		MDB_dbi *dbi;
	} tabs[] = {
		{ "msg", &t->msg },   { "laneseq", &t->laneseq }, { "commit", &t->commit },
		{ "exec", &t->exec }, { "byblock", &t->byblock }, { "dirty", &t->dirty },
		{ "hist", &t->hist }, { "due", &t->due },         { "bystate", &t->bystate },
		{ "pub", &t->pub },   { "cursor", &t->cursor },   { "blocks", &t->blocks },
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

int
ct_msg_get(ct_track *t, MDB_txn *txn, const uint8_t id[32], ct_hdr *h, sc_ccip_msg *m, st_err *e)
{
	MDB_val v;
	int rc = st_get(txn, t->msg, id, 32, &v, e);
	if (rc != 0)
		return rc;
	if (v.mv_size < sizeof *h) {
		snprintf(e->text, sizeof e->text, "msg: short record");
		return ST_ESCHEMA;
	}
	memcpy(h, v.mv_data, sizeof *h);
	if (m) {
		sc_err se;
		if (sc_decode(&SC_CCIP_MSG, (const uint8_t *)v.mv_data + sizeof *h, v.mv_size - sizeof *h, m, &se) !=
		    0) {
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
int
ct_hdr_put(ct_track *t, MDB_txn *txn, const uint8_t id[32], const ct_hdr *h, st_err *e)
{
	MDB_val v;
	int rc = st_get(txn, t->msg, id, 32, &v, e);
	if (rc != 0)
		return rc;
	if (v.mv_size > sizeof t->buf)
		return MDB_BAD_VALSIZE;
	memcpy(t->buf, v.mv_data, v.mv_size);
	memcpy(t->buf, h, sizeof *h);
	return st_put(txn, t->msg, id, 32, t->buf, v.mv_size, e);
}

int
ct_mark(ct_track *t, MDB_txn *txn, const uint8_t id[32], int reorg, uint64_t chain, uint64_t keep, st_err *e)
{
	ct_dirty d = { 0 };
	MDB_val v;
	/* A reorg mark is never downgraded by a later plain mark in the same batch. */
	if (!reorg && st_get(txn, t->dirty, id, 32, &v, NULL) == 0)
		return 0;
	d.reorg = (uint8_t)reorg;
	d.chain = chain;
	d.keep = keep;
	return st_put(txn, t->dirty, id, 32, &d, sizeof d, e);
}

static int
ct_byblock(ct_track *t, MDB_txn *txn, uint64_t chain, const sc_ccip_msg *m, uint8_t k, int type, const uint8_t *key,
           size_t klen, st_err *e)
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
	ct_hdr h;
	sc_ccip_msg old;
	uint8_t lk[24], dk[41];
	int rc = ct_msg_get(t, txn, m->message_id, &h, &old, e);
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
	int rc;
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
	int rc;
	for (unsigned k = 0; k < ev->nroots; k++) {
		const ct_root *r = &ev->roots[k];
		uint8_t key[57];
		ct_cval cv;
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
		    (rc = ct_mark_range(t, txn, r->source_selector, m->dest_chain_selector, r->min_seq, r->max_seq, 0,
		                        0, 0, e)) != 0)
			return rc;
	}
	return 0;
}

static int
ct_apply_exec(ct_track *t, MDB_txn *txn, uint64_t chain, const ct_event *ev, st_err *e)
{
	const sc_ccip_msg *m = &ev->msg;
	uint8_t key[56];
	ct_eval x;
	int rc;
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
		[CT_SEND] = ct_apply_send,
		[CT_EXEC] = ct_apply_exec,
		[CT_COMMIT] = ct_apply_commit,
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
	size_t wl = why ? strlen(why) : 0, n = 0;
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
	size_t klen;
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
		size_t kl;
		int rc = st_iter_open(&it, txn, dbi, lo, lolen, hi, hilen, e);
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
	uint8_t lo[16], hi[8];
	ct_undo *u = NULL;
	size_t n = 0, cap = 0;
	st_iter it;
	MDB_val k, v;
	int rc;
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
				rc = ct_mark_range(t, txn, st_u64_at(x->key), st_u64_at(x->key + 8),
				                   st_u64_at(x->key + 24), st_u64_at(x->key + 16), 1, chain, keep, e);
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
ct_block_below(ct_track *t, MDB_txn *txn, uint64_t chain, uint64_t below, uint64_t *block, uint8_t hash[32], st_err *e)
{
	uint8_t k[16];
	MDB_cursor *cur;
	MDB_val key, val;
	int rc;
	ct_be(k, chain);
	ct_be(k + 8, below);
	if ((rc = mdb_cursor_open(txn, t->blocks, &cur)) != 0)
		return rc;
	key.mv_data = k;
	key.mv_size = 16;
	/* the first key >= (chain, below), then one step back */
	rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
	rc = rc == MDB_NOTFOUND ? mdb_cursor_get(cur, &key, &val, MDB_LAST) : mdb_cursor_get(cur, &key, &val, MDB_PREV);
	if (rc == 0 &&
	    (key.mv_size != 16 || st_u64_at(key.mv_data) != chain || st_u64_at((uint8_t *)key.mv_data + 8) >= below))
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
	int rc;
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
