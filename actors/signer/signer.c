/*
 * signer.c - the signer's durable core (see signer.h): one write transaction per batch, handlers
 * per message kind in a table, publishing only after the commit.
 */
#include "actors/signer/signer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/keccak.h"
#include "chain/batch.h"
#include "chain/tx.h"
#include "store/outbox.h"
#include "store/store.h"

#define SG_TOPIC      "tx.signed"
#define SG_DEDUPE_LEN (16 + 8 + 8) /* tx id, nonce, time */
#define SG_FINISH_MAX 1024         /* finished txs removed per nonce.sync (the rest at the next) */

typedef struct {
	uint8_t id[16];
	size_t off, len;
} sg_out;

/* One signature made ahead (sg_presign): where its signing payload (tx_signing_payload: the
 * unsigned transaction's bytes) lies in the memo's buf, and the signature. */
typedef struct {
	size_t off, len;
	uint8_t r[32], s[32];
	uint8_t y;
} sg_psig;

/* The memo of one batch: filled by the caller (sg_presign), read by the batch's handlers, which
 * compare payloads byte for byte: cheaper than hashing each transaction again, and as exact. */
typedef struct {
	sg_psig *v;
	size_t n, cap, hint;
	uint8_t *buf;
	size_t blen, bcap;
} sg_memo;

/* A signing payload is smaller than the signed transaction, which must fit SC_RAWTX_CAP anyway. */
#define SG_PAYLOAD_CAP SC_RAWTX_CAP

enum {
	SG_W_IDLE,
	SG_W_QUEUED,
	SG_W_DONE
}; /* the batch handed to the writer */

struct sg {
	st_env *env;
	MDB_dbi t_nonce, t_txs, t_acks, t_dedupe, t_last;
	ob_box *ob;
	sg_cfg cfg;
	const uint8_t *key; /* borrowed secret */
	uint8_t addr[20];
	uint8_t nonce_key[28];
	/* committed state */
	int synced;
	uint64_t next;
	uint64_t pending;
	int have_quote;
	sc_gas_quote quote;     /* the latest gas.quote (the caller's) */
	int run_have_quote;     /* the quote the running batch signs with (a snapshot: */
	sc_gas_quote run_quote; /* the caller may take a new one while the writer runs) */
	/* state of the running transaction, adopted on commit */
	int t_synced;
	uint64_t t_next, t_pending;
	int fresh;         /* opened on a store that never held a nonce */
	int state_missing; /* fresh, and the chain says the key was used: sign nothing */
	uint64_t now;
	/* frames to publish after the commit */
	sg_out *outs;
	size_t nouts, capouts;
	uint8_t *obuf;
	size_t olen, ocap;
	/* scratch */
	sc_tx_signed rec;
	uint8_t body[SC_MAX_BODY];
	uint8_t calldata[SC_CALLDATA_CAP];
	uint8_t batchdata[SC_RAWTX_CAP]; /* a batch's calldata, or a bump's: it must fit the signed tx anyway */
	uint8_t inner[SC_BATCH_MAX][4 + 64];
	sc_price_update one; /* a batch entry as the price.update it stands for */
	uint64_t finish[SG_FINISH_MAX];
	/* the pipeline: a batch handed to the writer thread (sg_submit .. sg_complete) */
	int busy; /* a batch submitted and not yet completed */
	const sg_item *j_items;
	sg_result *j_res;
	size_t j_n;
	int j_rv;
	char j_err[256];
	int w_started, w_stop, w_state; /* SG_W_*, under mu */
	pthread_t w_thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* signatures made ahead: pre is filled by sg_presign (the caller's), run is the submitted
	 * batch's (its handlers'); swapped at sg_submit */
	sg_memo pre, run;
	uint64_t pred_next; /* the next nonce predicted after the batch in flight */
	uint64_t pre_next;  /* the nonce sg_presign_add guesses for the next item it signs ahead */
	uint64_t memo_hits, memo_misses;
	uint8_t pcalldata[SC_CALLDATA_CAP]; /* sg_presign's scratch (the writer uses calldata) */
	uint8_t payload[SG_PAYLOAD_CAP];    /* the handlers' signing payload, compared with the memo's */
};

/* ---- small helpers --------------------------------------------------------------------------- */

static int
sg_out_add(sg *s, const uint8_t id[16], const uint8_t *body, size_t len, st_err *e)
{
	if (s->nouts == s->capouts) {
		size_t cap = s->capouts ? s->capouts * 2 : 64;
		sg_out *o = realloc(s->outs, cap * sizeof *o);
		if (o == NULL)
			goto nomem;
		s->outs = o;
		s->capouts = cap;
	}
	if (s->olen + len > s->ocap) {
		size_t cap = s->ocap ? s->ocap : 65536;
		while (cap < s->olen + len)
			cap *= 2;
		uint8_t *b = realloc(s->obuf, cap);
		if (b == NULL)
			goto nomem;
		s->obuf = b;
		s->ocap = cap;
	}
	memcpy(s->obuf + s->olen, body, len);
	memcpy(s->outs[s->nouts].id, id, 16);
	s->outs[s->nouts].off = s->olen;
	s->outs[s->nouts].len = len;
	s->nouts++;
	s->olen += len;
	return 0;
nomem:
	snprintf(e->text, sizeof e->text, "out of memory queuing a frame");
	return ENOMEM;
}

static void
sg_be64(uint8_t out[8], uint64_t v)
{
	st_key_u64(out, v);
}

/* Puts body into the outbox, marked as sent now (it is published right after the commit; the
 * backoff only covers a loss), and queues it for that publish. */
static int
sg_queue(sg *s, MDB_txn *txn, const uint8_t id[16], const uint8_t *body, size_t len, st_err *e)
{
	int rv = ob_put_sent(txn, s->ob, id, SG_TOPIC, "tx.signed", body, len, s->now, e);
	return rv ? rv : sg_out_add(s, id, body, len, e);
}

static int
sg_decode_rec(sg *s, const MDB_val *v, st_err *e)
{
	sc_err se;
	if (sc_decode(&SC_TX_SIGNED, v->mv_data, v->mv_size, &s->rec, &se) != 0) {
		snprintf(e->text, sizeof e->text, "txs: stored tx.signed does not decode: %s", se.text);
		return ST_ESCHEMA;
	}
	return 0;
}

/* ---- signing and storing one transaction --------------------------------------------------- */

typedef struct {
	const sgf_fees *fees;
	const uint8_t *to;
	const uint8_t *data;
	size_t dlen;
	uint64_t gas_limit;
	uint64_t nonce;
	const char *feed;        /* "" for generic calls */
	const u256 *answer;      /* NULL for generic calls */
	const uint8_t *ref;      /* 16-byte request id, rendered as 32 hex digits */
	const uint8_t *replaces; /* NULL, or the hash of the replaced tx */
} sg_txspec;

/* The unsigned transaction of ts: one function for the handlers and sg_presign, so a signature
 * made ahead is for exactly the bytes a handler would sign. */
static void
sg_tx_fill(const sg *s, const sg_txspec *ts, tx *t)
{
	memset(t, 0, sizeof *t);
	t->type = ts->fees->eip1559 ? TX_EIP1559 : TX_LEGACY;
	t->chain_id = s->cfg.chain_id;
	t->nonce = ts->nonce;
	t->gas_price = ts->fees->gas_price;
	t->max_fee = ts->fees->max_fee;
	t->max_priority_fee = ts->fees->max_priority;
	t->gas_limit = ts->gas_limit;
	t->has_to = 1;
	memcpy(t->to, ts->to, 20);
	t->data = ts->data;
	t->data_len = ts->dlen;
}

/* Signs t from the running batch's memo when a signature was made ahead for its signing payload,
 * byte for byte (the same key: RFC 6979 makes it the very signature tx_sign would make now).
 * 1 = signed. */
static int
sg_memo_sign(sg *s, tx *t)
{
	sg_memo *m = &s->run;
	size_t len;
	if (m->n == 0 || tx_signing_payload(t, s->payload, sizeof s->payload, &len) != TX_OK)
		return 0;
	for (size_t k = 0; k < m->n; k++) {
		size_t i = (m->hint + k) % m->n; /* in order, the next one is the one asked for */
		if (m->v[i].len == len && memcmp(m->buf + m->v[i].off, s->payload, len) == 0) {
			memcpy(t->r, m->v[i].r, 32);
			memcpy(t->s, m->v[i].s, 32);
			t->y_parity = m->v[i].y;
			t->is_signed = 1;
			m->hint = i + 1;
			return 1;
		}
	}
	return 0;
}

/* Signs, stores txs[nonce] and queues the tx.signed: r->status SG_R_SIGNED and r->nonce set, or
 * SG_R_REFUSED (SGP_ENCODE) when it does not fit. Returns 0 or an error code (base/err.h). */
static int
sg_sign_store(sg *s, MDB_txn *txn, const sg_txspec *ts, sg_result *r, st_err *e)
{
	tx t;
	sc_tx_signed *rec = &s->rec;
	size_t rawlen, blen;
	sc_err se;
	uint8_t k[8];
	int rv;

	sg_tx_fill(s, ts, &t);
	if (s->cfg.sign != NULL) {
		/* The remote signer's answer is checked field by field (chain/rsign.h). A failure signs
		 * nothing and allocates no nonce: the request comes again (the gate re-publishes). */
		if ((rv = s->cfg.sign(s->cfg.sign_arg, &t, r->detail, sizeof r->detail)) != 0) {
			r->status = SG_R_DROPPED;
			r->reason = rv == OB_ERS_MISMATCH ? SG_DROP_REMOTE_BAD : SG_DROP_REMOTE;
			r->err = rv;
			return 0;
		}
	} else if (sg_memo_sign(s, &t)) {
		s->memo_hits++;
	} else if (s->memo_misses++, (rv = tx_sign(&t, s->key)) != TX_OK) {
		/* tx_strerror never includes key material. */
		snprintf(e->text, sizeof e->text, "signing failed: %s", tx_strerror(rv));
		return EINVAL;
	}
	/* Every field but raw, whose first raw_len bytes are all that is read: 4 KiB less to clear. */
	memset(rec, 0, offsetof(sc_tx_signed, raw));
	memset((uint8_t *)rec + offsetof(sc_tx_signed, raw_len), 0, sizeof *rec - offsetof(sc_tx_signed, raw_len));
	if (tx_encode(&t, rec->raw, sizeof rec->raw, &rawlen) != TX_OK) {
		snprintf(r->detail, sizeof r->detail, "signed transaction larger than %d bytes", SC_RAWTX_CAP);
		r->status = SG_R_REFUSED;
		r->reason = SGP_ENCODE;
		return 0;
	}
	rec->raw_len = (uint32_t)rawlen;
	tx_hash(rec->raw, rawlen, rec->tx_hash);
	/* id = be64 nonce || the hash's first 8 bytes: unique per signed tx (a replacement has another
	 * hash), the same if a batch is re-run, and ordered by nonce so the outbox's inserts append
	 * to its B-tree instead of dirtying a random page each (that halves the commit's bytes). */
	sg_be64(rec->id, ts->nonce);
	memcpy(rec->id + 8, rec->tx_hash, 8);
	rec->chain_id = s->cfg.chain_id;
	memcpy(rec->from, s->addr, 20);
	memcpy(rec->to, ts->to, 20);
	rec->nonce = ts->nonce;
	rec->tx_type = ts->fees->eip1559 ? SC_TXTYPE_EIP1559 : SC_TXTYPE_LEGACY;
	rec->gas_limit = ts->gas_limit;
	rec->gas_price = ts->fees->gas_price;
	rec->max_fee_per_gas = ts->fees->max_fee;
	rec->max_priority_fee_per_gas = ts->fees->max_priority;
	if (ts->replaces)
		memcpy(rec->replaces, ts->replaces, 32);
	snprintf(rec->feed, sizeof rec->feed, "%s", ts->feed);
	if (ts->answer)
		rec->answer = *ts->answer;
	hex_encode(ts->ref, 16, 0, rec->ref);
	rec->signed_at_ns = s->now;
	if (sc_encode(&SC_TX_SIGNED, rec, s->body, sizeof s->body, &blen, &se) != 0) {
		snprintf(r->detail, sizeof r->detail, "tx.signed does not encode: %s", se.text);
		r->status = SG_R_REFUSED;
		r->reason = SGP_ENCODE;
		return 0;
	}
	sg_be64(k, ts->nonce);
	if ((rv = st_put(txn, s->t_txs, k, 8, s->body, blen, e)) != 0)
		return rv;
	/* A replacement's nonce may hold the old tx's ack; a new nonce (t_next, which only grows, and
	 * acks are only ever stored for nonces signed below it) cannot: no lookup for it. */
	if (ts->replaces && (rv = st_del(txn, s->t_acks, k, 8, e)) != 0 && rv != MDB_NOTFOUND)
		return rv;
	r->nonce = ts->nonce;
	if ((rv = sg_queue(s, txn, rec->id, s->body, blen, e)) != 0)
		return rv;
	r->status = SG_R_SIGNED;
	return 0;
}

/* ---- deduplication of price.update / tx.request ids ---------------------------------------- */

/* Was reqid signed already? If so *dup = 1, r says so and the stored tx is queued for
 * re-publishing. Returns 0 or an error code: an unreadable or corrupt entry is an error that
 * aborts the batch, never "already signed" (that once hid corruption and committed the batch). */
static int
sg_dup(sg *s, MDB_txn *txn, const uint8_t reqid[16], sg_result *r, st_err *e, int *dup)
{
	MDB_val v;
	uint8_t k[8];
	int rv = st_get(txn, s->t_dedupe, reqid, 16, &v, e);
	*dup = 0;
	if (rv == MDB_NOTFOUND)
		return 0;
	if (rv != 0)
		return rv;
	if (v.mv_size != SG_DEDUPE_LEN) {
		snprintf(e->text, sizeof e->text, "dedupe: entry of %zu bytes, expected %d", v.mv_size, SG_DEDUPE_LEN);
		return OB_ECORRUPT;
	}
	uint64_t nonce = st_u64_at((const uint8_t *)v.mv_data + 16);
	sg_be64(k, nonce);
	rv = st_get(txn, s->t_txs, k, 8, &v, e);
	if (rv == MDB_NOTFOUND) {
		snprintf(r->detail, sizeof r->detail, "already signed as nonce %llu, since final",
		         (unsigned long long)nonce);
	} else if (rv != 0) {
		return rv;
	} else {
		/* Re-publish the latest tx for that nonce (a bump may have replaced it): the submitter
		 * deduplicates by id. */
		if ((rv = sg_decode_rec(s, &v, e)) != 0)
			return rv;
		if (s->rec.nonce != nonce) {
			snprintf(e->text, sizeof e->text, "txs: entry for nonce %llu holds nonce %llu",
			         (unsigned long long)nonce, (unsigned long long)s->rec.nonce);
			return OB_ECORRUPT;
		}
		if ((rv = sg_out_add(s, s->rec.id, v.mv_data, v.mv_size, e)) != 0)
			return rv;
		snprintf(r->detail, sizeof r->detail, "already signed as nonce %llu", (unsigned long long)nonce);
	}
	r->status = SG_R_DUPLICATE;
	r->nonce = nonce;
	*dup = 1;
	return 0;
}

static int
sg_dedupe_put(sg *s, MDB_txn *txn, const uint8_t reqid[16], st_err *e)
{
	uint8_t v[SG_DEDUPE_LEN];
	memcpy(v, s->rec.id, 16);
	sg_be64(v + 16, s->rec.nonce);
	sg_be64(v + 24, s->now);
	return st_put(txn, s->t_dedupe, reqid, 16, v, sizeof v, e);
}

/* Fees for a new tx: 0, or the result is filled (dropped or refused) and 1 returned. */
static int
sg_new_fees(sg *s, sgf_fees *f, sg_result *r)
{
	int rv = sgf_new(&s->cfg.fees, s->run_have_quote ? &s->run_quote : NULL, f);
	if (rv == SGF_OK)
		return 0;
	if (rv == SGF_NO_QUOTE) {
		r->status = SG_R_DROPPED;
		r->reason = SG_DROP_NO_QUOTE;
		snprintf(r->detail, sizeof r->detail, "no gas.quote yet");
	} else {
		r->status = SG_R_REFUSED;
		r->reason = rv;
		snprintf(r->detail, sizeof r->detail, "fees of the latest gas.quote above the cap");
	}
	return 1;
}

/* ---- handlers, one per item kind ------------------------------------------------------------ */

/* The answer last signed for a feed (table "last"): *has = 1 with *prev, 0 when there is none.
 * Returns 0 or an error code. */
static int
sg_last(sg *s, MDB_txn *txn, const char *feed, u256 *prev, int *has, st_err *e)
{
	MDB_val v;
	int rv = st_get(txn, s->t_last, feed, strlen(feed), &v, e);
	*has = 0;
	if (rv == MDB_NOTFOUND)
		return 0;
	if (rv != 0)
		return rv;
	if (v.mv_size != 32) {
		/* Reading it as "no previous answer" would skip the MAX_CHANGE check. */
		snprintf(e->text, sizeof e->text, "last: entry for feed %s of %zu bytes, expected 32", feed, v.mv_size);
		return OB_ECORRUPT;
	}
	u256_from_be(prev, v.mv_data, 32);
	*has = 1;
	return 0;
}

/* A batched price.update (batch_call != none): each entry is checked as the price.update it
 * stands for (chain, the feed's contract, bounds, MAX_CHANGE from the feed's last signed answer);
 * the entries the policy refuses are left out (r->left_out, r->detail says which and why: the
 * gate sees them not land and backs those feeds off), the others are signed as ONE transaction to
 * the batch contract, which must be in ALLOWED_CONTRACTS (sgp_check_batch). All refused: refused. */
static int
sg_on_batch(sg *s, MDB_txn *txn, const sg_item *it, sg_result *r, st_err *e)
{
	const sc_price_update *u = &it->u;
	sc_price_update *one = &s->one;
	cb_call calls[SC_BATCH_MAX];
	uint32_t idx[SC_BATCH_MAX]; /* calls[j] is entry idx[j] */
	size_t n = 0, dlen, k;
	int first_reason = 0, rv;
	char why[200] = "", first_detail[200] = "";
	sgf_fees f;

	if ((rv = sgp_check_batch(s->cfg.policy, u, s->cfg.call->has_round, s->cfg.call->answer_unsigned, r->detail,
	                          sizeof r->detail)) != SGP_OK) {
		r->status = SG_R_REFUSED;
		r->reason = rv;
		return 0;
	}
	for (uint32_t i = 0; i < u->batch_count; i++) {
		const sc_batch_entry *b = &u->batch[i];
		u256 prev;
		memset(one, 0, sizeof *one);
		memcpy(one->feed, b->feed, sizeof one->feed);
		one->answer = b->answer;
		one->decimals = b->decimals;
		one->round_id = b->round_id;
		one->chain_id = u->chain_id;
		memcpy(one->contract, b->contract, 20);
		for (k = 0; k < i && strcmp(u->batch[k].feed, b->feed) != 0; k++)
			;
		int has_prev;
		if ((rv = sg_last(s, txn, b->feed, &prev, &has_prev, e)) != 0)
			return rv;
		if (k < i) {
			rv = SGP_ENCODE;
			snprintf(why, sizeof why, "feed %s: twice in one batch", b->feed);
		} else if ((rv = sgp_check_update(s->cfg.policy, one, has_prev ? &prev : NULL, why, sizeof why)) ==
		           SGP_OK) {
			calls[n] = (cb_call){ .target = b->contract, .answer = b->answer, .data = s->inner[n] };
			if (u->batch_call == SC_BATCH_AGGREGATE3 &&
			    (rv = sgc_build(s->cfg.call, one, s->inner[n], sizeof s->inner[n], &calls[n].len)) !=
			            SGP_OK)
				snprintf(why, sizeof why, "feed %s: answer does not fit %.100s", b->feed,
				         s->cfg.call->sig.canon);
		}
		if (rv != SGP_OK) {
			if (r->left_out++ == 0) {
				first_reason = rv;
				snprintf(first_detail, sizeof first_detail, "%s", why);
			}
			continue;
		}
		idx[n++] = i;
	}
	if (n == 0) {
		r->status = SG_R_REFUSED;
		r->reason = first_reason;
		snprintf(r->detail, sizeof r->detail, "batch: every entry refused, first: %.120s", first_detail);
		return 0;
	}
	if (cb_encode(u->batch_call == SC_BATCH_AGGREGATE3 ? CB_AGGREGATE3 : CB_UPDATE_ANSWERS, calls, n, s->batchdata,
	              sizeof s->batchdata, &dlen) != 0) {
		r->status = SG_R_REFUSED;
		r->reason = SGP_ENCODE;
		snprintf(r->detail, sizeof r->detail, "batch of %zu calls larger than %zu bytes", n,
		         sizeof s->batchdata);
		return 0;
	}
	if (sg_new_fees(s, &f, r))
		return 0;
	sg_txspec ts = { .fees = &f,
		         .to = u->contract,
		         .data = s->batchdata,
		         .dlen = dlen,
		         .gas_limit = u->gas_limit ? u->gas_limit : s->cfg.gas_limit,
		         .nonce = s->t_next,
		         .feed = u->feed,
		         .ref = it->msg_id };
	if ((rv = sg_sign_store(s, txn, &ts, r, e)) != 0 || r->status != SG_R_SIGNED)
		return rv;
	for (size_t j = 0; j < n; j++) {
		const sc_batch_entry *b = &u->batch[idx[j]];
		uint8_t be[32];
		u256_to_be(&b->answer, be);
		if ((rv = st_put(txn, s->t_last, b->feed, strlen(b->feed), be, 32, e)) != 0)
			return rv;
	}
	if ((rv = sg_dedupe_put(s, txn, it->msg_id, e)) != 0)
		return rv;
	if (r->left_out) {
		r->left_reason = first_reason;
		snprintf(r->detail, sizeof r->detail, "batch: %zu signed, %u left out, first: %.120s", n, r->left_out,
		         first_detail);
	}
	s->t_next++;
	return 0;
}

static int
sg_on_update(sg *s, MDB_txn *txn, const sg_item *it, sg_result *r, st_err *e)
{
	const sc_price_update *u = &it->u;
	MDB_val v;
	u256 prev;
	int has_prev = 0, rv;
	sgf_fees f;
	size_t dlen;
	int dup;

	if ((rv = sg_dup(s, txn, it->msg_id, r, e, &dup)) != 0 || dup)
		return rv;
	if (!s->t_synced) {
		r->status = SG_R_DROPPED;
		r->reason = s->state_missing ? SG_DROP_STATE_MISSING : SG_DROP_NOT_SYNCED;
		snprintf(r->detail, sizeof r->detail, "%s",
		         s->state_missing ? "the store is empty but the key has sent transactions (see nonce.sync)"
		                          : "waiting for the first nonce.sync");
		return 0;
	}
	if (u->batch_call != SC_BATCH_NONE)
		return sg_on_batch(s, txn, it, r, e);
	rv = st_get(txn, s->t_last, u->feed, strlen(u->feed), &v, e);
	if (rv == 0 && v.mv_size == 32) {
		u256_from_be(&prev, v.mv_data, 32);
		has_prev = 1;
	} else if (rv == 0) {
		/* Reading it as "no previous answer" would skip the MAX_CHANGE check. */
		snprintf(e->text, sizeof e->text, "last: entry for feed %s of %zu bytes, expected 32", u->feed,
		         v.mv_size);
		return OB_ECORRUPT;
	} else if (rv != MDB_NOTFOUND) {
		return rv;
	}
	if ((rv = sgp_check_update(s->cfg.policy, u, has_prev ? &prev : NULL, r->detail, sizeof r->detail))) {
		r->status = SG_R_REFUSED;
		r->reason = rv;
		return 0;
	}
	if ((rv = sgc_build(s->cfg.call, u, s->calldata, sizeof s->calldata, &dlen)) != SGP_OK) {
		r->status = SG_R_REFUSED;
		r->reason = rv;
		snprintf(r->detail, sizeof r->detail, "feed %s: answer does not fit %.100s", u->feed,
		         s->cfg.call->sig.canon);
		return 0;
	}
	if (sg_new_fees(s, &f, r))
		return 0;
	/* The gate's estimate when it sent one (checked against MAX_GAS_LIMIT by the policy). */
	sg_txspec ts = { .fees = &f,
		         .to = u->contract,
		         .data = s->calldata,
		         .dlen = dlen,
		         .gas_limit = u->gas_limit ? u->gas_limit : s->cfg.gas_limit,
		         .nonce = s->t_next,
		         .feed = u->feed,
		         .answer = &u->answer,
		         .ref = it->msg_id };
	if ((rv = sg_sign_store(s, txn, &ts, r, e)) != 0 || r->status != SG_R_SIGNED)
		return rv;
	uint8_t be[32];
	u256_to_be(&u->answer, be);
	if ((rv = st_put(txn, s->t_last, u->feed, strlen(u->feed), be, 32, e)) != 0 ||
	    (rv = sg_dedupe_put(s, txn, it->msg_id, e)) != 0)
		return rv;
	s->t_next++;
	return 0;
}

static int
sg_on_request(sg *s, MDB_txn *txn, const sg_item *it, sg_result *r, st_err *e)
{
	const sc_tx_request *q = &it->r;
	sgf_fees f;
	int rv, dup;

	if ((rv = sg_dup(s, txn, q->id, r, e, &dup)) != 0 || dup)
		return rv;
	if (!s->t_synced) {
		r->status = SG_R_DROPPED;
		r->reason = s->state_missing ? SG_DROP_STATE_MISSING : SG_DROP_NOT_SYNCED;
		snprintf(r->detail, sizeof r->detail, "%s",
		         s->state_missing ? "the store is empty but the key has sent transactions (see nonce.sync)"
		                          : "waiting for the first nonce.sync");
		return 0;
	}
	if ((rv = sgp_check_request(s->cfg.policy, q, r->detail, sizeof r->detail))) {
		r->status = SG_R_REFUSED;
		r->reason = rv;
		return 0;
	}
	if (sg_new_fees(s, &f, r))
		return 0;
	sg_txspec ts = { .fees = &f,
		         .to = q->to,
		         .data = q->data,
		         .dlen = q->data_len,
		         .gas_limit = q->gas_limit ? q->gas_limit : s->cfg.gas_limit,
		         .nonce = s->t_next,
		         .feed = "",
		         .ref = q->id };
	if ((rv = sg_sign_store(s, txn, &ts, r, e)) != 0 || r->status != SG_R_SIGNED)
		return rv;
	if ((rv = sg_dedupe_put(s, txn, q->id, e)) != 0)
		return rv;
	s->t_next++;
	return 0;
}

static int
sg_on_ack(sg *s, MDB_txn *txn, const sg_item *it, sg_result *r, st_err *e)
{
	ob_msg m;
	uint8_t k[8], t[8];
	int rv = ob_get(txn, s->ob, it->a.id, &m, e);
	if (rv == MDB_NOTFOUND) {
		r->status = SG_R_IGNORED; /* a repeated ack, or one for a replaced tx */
		return 0;
	}
	if (rv != 0)
		return rv;
	MDB_val v = { .mv_size = m.body_len, .mv_data = (void *)m.body };
	if ((rv = sg_decode_rec(s, &v, e)) != 0)
		return rv;
	r->status = SG_R_DONE;
	r->nonce = s->rec.nonce;
	sg_be64(k, s->rec.nonce);
	sg_be64(t, s->now);
	if ((rv = st_put(txn, s->t_acks, k, 8, t, 8, e)) != 0)
		return rv;
	return ob_ack(txn, s->ob, it->a.id, NULL, e);
}

/* Drops txs the chain has passed (nonce < latest): they are mined, ours or someone else's. */
static int
sg_finish_below(sg *s, MDB_txn *txn, uint64_t latest, sg_result *r, st_err *e)
{
	st_iter it;
	MDB_val k, v;
	uint8_t hi[8];
	size_t n = 0;
	int rv;

	sg_be64(hi, latest);
	if ((rv = st_iter_open(&it, txn, s->t_txs, NULL, 0, hi, 8, e)) != 0)
		return rv;
	while (n < SG_FINISH_MAX && (rv = st_iter_next(&it, &k, &v, e)) == 0)
		s->finish[n++] = st_u64_at(k.mv_data);
	st_iter_close(&it);
	if (rv != 0 && rv != MDB_NOTFOUND)
		return rv;
	for (size_t i = 0; i < n; i++) {
		uint8_t key[8];
		sg_be64(key, s->finish[i]);
		if ((rv = st_get(txn, s->t_txs, key, 8, &v, e)) != 0 || (rv = sg_decode_rec(s, &v, e)) != 0)
			return rv;
		if ((rv = ob_ack(txn, s->ob, s->rec.id, NULL, e)) != 0 || (rv = st_del(txn, s->t_txs, key, 8, e)) != 0)
			return rv;
		if ((rv = st_del(txn, s->t_acks, key, 8, e)) != 0 && rv != MDB_NOTFOUND)
			return rv;
		r->finished++;
	}
	return 0;
}

/* The node lacks nonces [from, t_next): re-queue our signed txs for them that are neither in the
 * outbox (which re-publishes by itself) nor acked within the grace period (the submitter may
 * simply not have sent them yet). */
static int
sg_requeue_gap(sg *s, MDB_txn *txn, uint64_t from, sg_result *r, st_err *e)
{
	for (uint64_t n = from; n < s->t_next && n - from < SG_FINISH_MAX; n++) {
		uint8_t key[8];
		MDB_val v, a;
		ob_msg m;
		int rv;
		sg_be64(key, n);
		if ((rv = st_get(txn, s->t_txs, key, 8, &v, e)) == MDB_NOTFOUND)
			continue; /* refused or never signed by us: nothing we can re-send */
		if (rv != 0 || (rv = sg_decode_rec(s, &v, e)) != 0)
			return rv;
		if ((rv = ob_get(txn, s->ob, s->rec.id, &m, e)) == 0)
			continue;
		if (rv != MDB_NOTFOUND)
			return rv;
		rv = st_get(txn, s->t_acks, key, 8, &a, e);
		if (rv == 0 && a.mv_size == 8 && s->now - st_u64_at(a.mv_data) < s->cfg.gap_grace_ns)
			continue;
		if (rv != 0 && rv != MDB_NOTFOUND)
			return rv;
		/* v is still valid (only reads since its st_get); copy it before writing. */
		memcpy(s->body, v.mv_data, v.mv_size);
		if ((rv = sg_queue(s, txn, s->rec.id, s->body, v.mv_size, e)) != 0)
			return rv;
		r->requeued++;
	}
	return 0;
}

static int
sg_on_sync(sg *s, MDB_txn *txn, const sg_item *it, sg_result *r, st_err *e)
{
	const sc_nonce_sync *y = &it->s;
	uint64_t chain_next = y->pending_nonce > y->latest_nonce ? y->pending_nonce : y->latest_nonce;
	int rv;

	if (y->chain_id != s->cfg.chain_id || memcmp(y->address, s->addr, 20) != 0) {
		r->status = SG_R_IGNORED;
		snprintf(r->detail, sizeof r->detail, "nonce.sync for another chain or address");
		return 0;
	}
	r->status = SG_R_DONE;
	if (!s->t_synced && chain_next > 0 && !s->cfg.allow_empty_state && s->fresh) {
		r->status = SG_R_DROPPED;
		r->reason = SG_DROP_STATE_MISSING;
		s->state_missing = 1;
		snprintf(r->detail, sizeof r->detail,
		         "the store is empty but the chain shows %llu transactions from this key: restore the store "
		         "(mdb_copy backup) or set ALLOW_EMPTY_STATE=true to start afresh",
		         (unsigned long long)chain_next);
		return 0;
	}
	if (!s->t_synced) {
		s->t_synced = 1;
		s->t_next = chain_next;
		snprintf(r->detail, sizeof r->detail, "first sync: next nonce %llu", (unsigned long long)chain_next);
	} else if (chain_next > s->t_next) {
		/* Nonces we never signed are used on chain: the key is used elsewhere. Never reuse. */
		r->jumped = 1;
		r->jumped_from = s->t_next;
		r->jumped_to = chain_next;
		s->t_next = chain_next;
		snprintf(r->detail, sizeof r->detail, "chain nonce %llu above ours %llu: jumped",
		         (unsigned long long)chain_next, (unsigned long long)r->jumped_from);
	}
	r->nonce = s->t_next;
	if ((rv = sg_finish_below(s, txn, y->latest_nonce, r, e)) != 0)
		return rv;
	if (y->pending_nonce < s->t_next)
		return sg_requeue_gap(s, txn, y->pending_nonce > y->latest_nonce ? y->pending_nonce : y->latest_nonce,
		                      r, e);
	return 0;
}

static int
sg_on_bump(sg *s, MDB_txn *txn, const sg_item *it, sg_result *r, st_err *e)
{
	const sc_tx_bump *b = &it->b;
	uint8_t key[8], old_hash[32], ref[16];
	char feed[SC_NAME_CAP + 1];
	u256 answer;
	MDB_val v;
	tx t;
	sgf_fees old, nf;
	int rv;

	if (b->chain_id != s->cfg.chain_id || memcmp(b->from, s->addr, 20) != 0) {
		r->status = SG_R_IGNORED;
		snprintf(r->detail, sizeof r->detail, "tx.bump for another chain or address");
		return 0;
	}
	r->nonce = b->nonce;
	sg_be64(key, b->nonce);
	if ((rv = st_get(txn, s->t_txs, key, 8, &v, e)) == MDB_NOTFOUND) {
		r->status = SG_R_REFUSED;
		r->reason = SGP_BUMP_UNKNOWN;
		snprintf(r->detail, sizeof r->detail, "no signed tx for nonce %llu", (unsigned long long)b->nonce);
		return 0;
	}
	if (rv != 0 || (rv = sg_decode_rec(s, &v, e)) != 0)
		return rv;
	if (memcmp(s->rec.tx_hash, b->tx_hash, 32) != 0) {
		/* Already replaced: hand the submitter the current one again. */
		r->status = SG_R_DUPLICATE;
		snprintf(r->detail, sizeof r->detail, "nonce %llu was already replaced", (unsigned long long)b->nonce);
		rv = sg_out_add(s, s->rec.id, v.mv_data, v.mv_size, e);
		return rv;
	}
	/* The replacement's calldata goes to batchdata: a batch's is longer than a single call's cap
	 * (calldata) and fits the signed tx like any stored one. */
	if (tx_decode(s->rec.raw, s->rec.raw_len, &t, NULL) != TX_OK || t.data_len > sizeof s->batchdata) {
		snprintf(e->text, sizeof e->text, "txs: stored raw tx for nonce %llu does not decode",
		         (unsigned long long)b->nonce);
		return ST_ESCHEMA;
	}
	memcpy(s->batchdata, t.data, t.data_len); /* s->rec is rewritten by sg_sign_store */
	memset(&old, 0, sizeof old);
	old.eip1559 = s->rec.tx_type == SC_TXTYPE_EIP1559;
	old.gas_price = s->rec.gas_price;
	old.max_fee = s->rec.max_fee_per_gas;
	old.max_priority = s->rec.max_priority_fee_per_gas;
	if ((rv = sgf_bump(&s->cfg.fees, &old, b, s->run_have_quote ? &s->run_quote : NULL, &nf)) != SGF_OK) {
		r->status = SG_R_REFUSED;
		r->reason = rv;
		snprintf(r->detail, sizeof r->detail, "nonce %llu: %s", (unsigned long long)b->nonce,
		         rv == SGP_FEE_CAP ? "replacement fees above the cap" : "replacement would not raise fees");
		return 0;
	}
	uint8_t old_id[16], to[20];
	memcpy(old_id, s->rec.id, 16);
	memcpy(old_hash, s->rec.tx_hash, 32);
	memcpy(to, s->rec.to, 20);
	memcpy(feed, s->rec.feed, sizeof feed);
	answer = s->rec.answer;
	if (hex_decode_exact(s->rec.ref, strlen(s->rec.ref), ref, 16) != HEX_OK)
		memset(ref, 0, sizeof ref);
	sg_txspec ts = { .fees = &nf,
		         .to = to,
		         .data = s->batchdata,
		         .dlen = t.data_len,
		         .gas_limit = s->rec.gas_limit,
		         .nonce = b->nonce,
		         .feed = feed,
		         .answer = feed[0] ? &answer : NULL,
		         .ref = ref,
		         .replaces = old_hash };
	if ((rv = sg_sign_store(s, txn, &ts, r, e)) != 0 || r->status != SG_R_SIGNED)
		return rv;
	return ob_ack(txn, s->ob, old_id, NULL, e); /* the old one is no longer ours to push */
}

typedef int (*sg_handler)(sg *, MDB_txn *, const sg_item *, sg_result *, st_err *);
static const sg_handler sg_handlers[SG_NKINDS] = {
	[SG_UPDATE] = sg_on_update, [SG_REQUEST] = sg_on_request, [SG_ACK] = sg_on_ack,
	[SG_BUMP] = sg_on_bump,     [SG_SYNC] = sg_on_sync,
};

/* ---- the batch ------------------------------------------------------------------------------ */

typedef struct {
	sg *s;
	const sg_item *items;
	size_t n;
	sg_result *res;
	size_t nouts, olen; /* the frames queued before this transaction (kept if it fails) */
} sg_batch;

/* st_write may run this twice (map full): it depends only on the txn and the committed state. */
static int
sg_batch_fn(MDB_txn *txn, void *arg, st_err *e)
{
	sg_batch *b = arg;
	sg *s = b->s;
	int rv;
	s->nouts = b->nouts;
	s->olen = b->olen;
	s->t_synced = s->synced;
	s->t_next = s->next;
	s->run.hint = 0;
	for (size_t i = 0; i < b->n; i++) {
		memset(&b->res[i], 0, sizeof b->res[i]);
		if ((unsigned)b->items[i].kind >= SG_NKINDS) {
			b->res[i].status = SG_R_IGNORED;
			continue;
		}
		if ((rv = sg_handlers[b->items[i].kind](s, txn, &b->items[i], &b->res[i], e)) != 0)
			return rv;
	}
	if (s->t_synced && (!s->synced || s->t_next != s->next)) {
		uint8_t v[8];
		sg_be64(v, s->t_next);
		if ((rv = st_put(txn, s->t_nonce, s->nonce_key, sizeof s->nonce_key, v, 8, e)) != 0)
			return rv;
	}
	return ob_count(txn, s->ob, &s->t_pending, e);
}

/* Runs items as one write transaction; after its commit adopts the state. The frames it queued
 * are published by sg_publish_outs, after the commit; a failed transaction queues none. */
static int
sg_run(sg *s, const sg_item *items, size_t n, sg_result *res, st_err *e)
{
	sg_batch b = { s, items, n, res, s->nouts, s->olen };
	int rv = st_write(s->env, sg_batch_fn, &b, e);
	if (rv != 0) {
		s->nouts = b.nouts;
		s->olen = b.olen;
		for (size_t i = 0; i < n; i++) {
			memset(&res[i], 0, sizeof res[i]);
			res[i].status = SG_R_DROPPED;
			res[i].reason = SG_DROP_STORE;
			res[i].err = rv;
			snprintf(res[i].detail, sizeof res[i].detail, "%.190s", e->text);
		}
		return rv;
	}
	s->synced = s->t_synced;
	s->next = s->t_next;
	s->pending = s->t_pending;
	return 0;
}

/* A whole batch, durable when it returns (frames queued in s->outs, not yet published). */
static int
sg_exec(sg *s, const sg_item *items, size_t n, sg_result *res, char *err, size_t errlen)
{
	st_err e;
	s->nouts = s->olen = 0;
	int rv = sg_run(s, items, n, res, &e);
	if (rv == 0 || n == 1) {
		if (rv != 0)
			snprintf(err, errlen, "%s", e.text);
		return rv;
	}
	/* One bad entry (say, the corrupt record of one request id) must not stop every other
	 * request in the batch, now and each time the gate re-publishes: run each item alone, so
	 * only the ones that fail by themselves are dropped. */
	int first = 0;
	for (size_t i = 0; i < n; i++) {
		int r1 = sg_run(s, &items[i], 1, &res[i], &e);
		if (r1 != 0 && first == 0) {
			first = r1;
			snprintf(err, errlen, "%s", e.text);
		}
	}
	return first;
}

static void
sg_publish_outs(sg *s, sg_publish_fn pub, void *arg)
{
	for (size_t i = 0; i < s->nouts; i++)
		pub(arg, s->outs[i].id, s->obuf + s->outs[i].off, s->outs[i].len);
	s->nouts = s->olen = 0;
}

int
sg_process(sg *s, const sg_item *items, size_t n, sg_result *res, uint64_t now_ns, sg_publish_fn pub, void *arg,
           char *err, size_t errlen)
{
	if (s->busy) {
		snprintf(err, errlen, "a pipelined batch is in flight");
		return EBUSY;
	}
	s->now = now_ns;
	s->run_have_quote = s->have_quote;
	s->run_quote = s->quote;
	s->run.n = 0; /* a memo is for the batch it was made for */
	int rv = sg_exec(s, items, n, res, err, errlen);
	sg_publish_outs(s, pub, arg);
	return rv;
}

/* ---- the pipeline --------------------------------------------------------------------------- */

/* The writer thread: runs each submitted batch (its write transaction begins and commits here,
 * as LMDB wants: a write transaction belongs to the thread that began it). */
static void *
sg_writer(void *arg)
{
	sg *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->w_state != SG_W_QUEUED && !s->w_stop)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->w_state != SG_W_QUEUED)
			break;
		pthread_mutex_unlock(&s->mu);
		s->j_rv = sg_exec(s, s->j_items, s->j_n, s->j_res, s->j_err, sizeof s->j_err);
		pthread_mutex_lock(&s->mu);
		__atomic_store_n(&s->w_state, SG_W_DONE, __ATOMIC_RELEASE); /* sg_committing reads it unlocked */
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Items that would take a nonce if nothing refuses them (sg_presign's guess). */
static int
sg_takes_nonce(const sg_item *it)
{
	return it->kind == SG_UPDATE || it->kind == SG_REQUEST;
}

int
sg_submit(sg *s, const sg_item *items, size_t n, sg_result *res, uint64_t now_ns)
{
	if (s->busy)
		return EBUSY;
	s->busy = 1;
	s->now = now_ns;
	s->run_have_quote = s->have_quote;
	s->run_quote = s->quote;
	sg_memo t = s->run; /* the memo made for these items becomes the batch's */
	s->run = s->pre;
	s->pre = t;
	s->pre.n = 0;
	/* The committed state is stable until this batch runs: guess the next nonce after it. */
	s->pred_next = s->next;
	for (size_t i = 0; i < n; i++)
		s->pred_next += sg_takes_nonce(&items[i]);
	s->pre_next = s->pred_next; /* sg_presign_add's guesses now follow this batch */
	s->pre.blen = s->pre.hint = 0;
	s->j_items = items;
	s->j_n = n;
	s->j_res = res;
	s->j_err[0] = 0;
	if (!s->w_started) {
		s->j_rv = sg_exec(s, items, n, res, s->j_err, sizeof s->j_err);
		s->w_state = SG_W_DONE;
		return 0;
	}
	pthread_mutex_lock(&s->mu);
	__atomic_store_n(&s->w_state, SG_W_QUEUED, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int
sg_complete(sg *s, sg_publish_fn pub, void *arg, char *err, size_t errlen)
{
	if (!s->busy)
		return 0;
	if (s->w_started) {
		pthread_mutex_lock(&s->mu);
		while (s->w_state != SG_W_DONE)
			pthread_cond_wait(&s->cv, &s->mu);
		__atomic_store_n(&s->w_state, SG_W_IDLE, __ATOMIC_RELEASE); /* the writer reads it under mu */
		pthread_mutex_unlock(&s->mu);
	} else {
		s->w_state = SG_W_IDLE;
	}
	s->busy = 0;
	s->run.n = 0;
	sg_publish_outs(s, pub, arg); /* committed: durable */
	if (s->j_rv != 0)
		snprintf(err, errlen, "%s", s->j_err);
	return s->j_rv;
}

int
sg_busy(const sg *s)
{
	return s->busy;
}

int
sg_committing(const sg *s)
{
	return s->busy && s->w_started && __atomic_load_n(&s->w_state, __ATOMIC_ACQUIRE) != SG_W_DONE;
}

int
sg_group_more(const sg *s, size_t n, size_t batch_max, size_t grow_max)
{
	if (n == 0 || n < batch_max)
		return 1;
	return n < grow_max && sg_committing(s);
}

static int
sg_memo_grow(sg_memo *m, size_t need)
{
	if (need <= m->cap)
		return 0;
	sg_psig *v = realloc(m->v, need * sizeof *v);
	if (v == NULL)
		return -1;
	m->v = v;
	m->cap = need;
	return 0;
}

/* Room in the memo's buf for one more payload of up to SG_PAYLOAD_CAP bytes. */
static int
sg_memo_room(sg_memo *m)
{
	if (m->bcap - m->blen >= SG_PAYLOAD_CAP)
		return 0;
	size_t cap = m->bcap ? m->bcap * 2 : 16 * SG_PAYLOAD_CAP;
	while (cap - m->blen < SG_PAYLOAD_CAP)
		cap *= 2;
	uint8_t *b = realloc(m->buf, cap);
	if (b == NULL)
		return -1;
	m->buf = b;
	m->bcap = cap;
	return 0;
}

/* Reads only the caller's fields and the immutable configuration (policy, call, fees): the writer
 * may be running a batch meanwhile. No store read: the guess needs none, a wrong guess costs only
 * the signing time it was meant to save. */
size_t
sg_presign(sg *s, const sg_item *items, size_t n)
{
	sg_memo *m = &s->pre;
	m->n = m->hint = m->blen = 0;
	s->pre_next = s->busy ? s->pred_next : s->next;
	return sg_presign_add(s, items, n);
}

size_t
sg_presign_add(sg *s, const sg_item *items, size_t n)
{
	sg_memo *m = &s->pre;
	size_t n0 = m->n;
	if (s->key == NULL || s->cfg.sign != NULL || sg_memo_grow(m, m->n + n) != 0)
		return 0;
	uint64_t nonce = s->pre_next;
	for (size_t i = 0; i < n; i++) {
		const sg_item *it = &items[i];
		sgf_fees f;
		sg_txspec ts;
		size_t dlen;
		tx t;
		if (!sg_takes_nonce(it))
			continue;
		if (sgf_new(&s->cfg.fees, s->have_quote ? &s->quote : NULL, &f) != SGF_OK)
			break; /* the batch signs nothing without fees either */
		if (it->kind == SG_UPDATE) {
			/* The MAX_CHANGE check needs the stored answer: left to the handler. */
			if (sgp_check_update(s->cfg.policy, &it->u, NULL, NULL, 0) != SGP_OK ||
			    sgc_build(s->cfg.call, &it->u, s->pcalldata, sizeof s->pcalldata, &dlen) != SGP_OK)
				continue;
			ts = (sg_txspec){ .fees = &f,
				          .to = it->u.contract,
				          .data = s->pcalldata,
				          .dlen = dlen,
				          .gas_limit = it->u.gas_limit ? it->u.gas_limit : s->cfg.gas_limit,
				          .nonce = nonce };
		} else {
			if (sgp_check_request(s->cfg.policy, &it->r, NULL, 0) != SGP_OK)
				continue;
			ts = (sg_txspec){ .fees = &f,
				          .to = it->r.to,
				          .data = it->r.data,
				          .dlen = it->r.data_len,
				          .gas_limit = it->r.gas_limit ? it->r.gas_limit : s->cfg.gas_limit,
				          .nonce = nonce };
		}
		sg_tx_fill(s, &ts, &t);
		sg_psig *p = &m->v[m->n];
		uint8_t h[32];
		if (sg_memo_room(m) != 0)
			break;
		if (tx_signing_payload(&t, m->buf + m->blen, m->bcap - m->blen, &p->len) != TX_OK)
			continue;
		kec_256(m->buf + m->blen, p->len, h);
		if (tx_sign_digest(&t, s->key, h) != TX_OK)
			continue;
		p->off = m->blen;
		m->blen += p->len;
		memcpy(p->r, t.r, 32);
		memcpy(p->s, t.s, 32);
		p->y = t.y_parity;
		m->n++;
		nonce++;
	}
	s->pre_next = nonce;
	return m->n - n0;
}

void
sg_memo_stats(const sg *s, uint64_t *hits, uint64_t *misses)
{
	*hits = s->memo_hits;
	*misses = s->memo_misses;
}

/* ---- outbox re-publishing and housekeeping -------------------------------------------------- */

typedef struct {
	sg_publish_fn pub;
	void *arg;
} sg_resend_arg;

static const char *
sg_resend_one(void *ctx, const ob_msg *m)
{
	sg_resend_arg *r = ctx;
	r->pub(r->arg, m->id, m->body, m->body_len); /* borrowed: published before the commit */
	return NULL;
}

long
sg_resend(sg *s, uint64_t now_ns, int all, sg_publish_fn pub, void *arg, char *err, size_t errlen)
{
	st_err e;
	sg_resend_arg r = { pub, arg };
	long n = ob_send_due(s->env, s->ob, now_ns, all ? UINT64_MAX : now_ns, sg_resend_one, &r, NULL, &e);
	if (n < 0)
		snprintf(err, errlen, "outbox: %s", e.text);
	return n;
}

typedef struct {
	sg *s;
	uint64_t older_than_ns, removed;
} sg_prune_arg;

static int
sg_prune_fn(MDB_txn *txn, void *arg, st_err *e)
{
	sg_prune_arg *p = arg;
	MDB_cursor *c;
	MDB_val k, v;
	int rv = mdb_cursor_open(txn, p->s->t_dedupe, &c);
	p->removed = 0;
	if (rv != 0) {
		snprintf(e->text, sizeof e->text, "dedupe: %s", mdb_strerror(rv));
		return rv;
	}
	for (rv = mdb_cursor_get(c, &k, &v, MDB_FIRST); rv == 0; rv = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (v.mv_size == SG_DEDUPE_LEN && st_u64_at((uint8_t *)v.mv_data + 24) < p->older_than_ns) {
			if ((rv = mdb_cursor_del(c, 0)) != 0)
				break;
			p->removed++;
		}
	}
	mdb_cursor_close(c);
	if (rv != MDB_NOTFOUND) {
		snprintf(e->text, sizeof e->text, "dedupe prune: %s", mdb_strerror(rv));
		return rv;
	}
	return 0;
}

long
sg_prune(sg *s, uint64_t older_than_ns, char *err, size_t errlen)
{
	sg_prune_arg p = { s, older_than_ns, 0 };
	st_err e;
	if (st_write(s->env, sg_prune_fn, &p, &e) != 0) {
		snprintf(err, errlen, "%s", e.text);
		return -1;
	}
	return (long)p.removed;
}

/* ---- open / close / accessors --------------------------------------------------------------- */

sg *
sg_open(const char *dir, const sg_cfg *cfg, const uint8_t *key, char *err, size_t errlen)
{
	st_opts o = { .map_size = cfg->map_size ? cfg->map_size : 16u << 20, .map_max = 4ull << 30, .max_tables = 16 };
	st_err e;
	MDB_txn *txn = NULL;
	MDB_val v;
	ob_backoff bo = { .initial_ns = cfg->retry_ns, .factor = 2.0, .max_ns = cfg->retry_max_ns, .jitter = 0.2 };
	sg *s = calloc(1, sizeof *s);

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->key = key;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (key == NULL && cfg->sign != NULL) {
		memcpy(s->addr, cfg->address, 20);
	} else if (key == NULL || tx_address_from_key(key, s->addr) != TX_OK) {
		snprintf(err, errlen, "PRIVATE_KEY: not a valid secp256k1 secret key");
		goto fail_quiet;
	}
	sg_be64(s->nonce_key, cfg->chain_id);
	memcpy(s->nonce_key + 8, s->addr, 20);
	if (st_open(&s->env, dir, &o, &e) != 0 || st_begin(s->env, 0, &txn, &e) != 0 ||
	    st_table(txn, "nonce", &s->t_nonce, &e) != 0 || st_table(txn, "txs", &s->t_txs, &e) != 0 ||
	    st_table(txn, "acks", &s->t_acks, &e) != 0 || st_table(txn, "dedupe", &s->t_dedupe, &e) != 0 ||
	    st_table(txn, "last", &s->t_last, &e) != 0 || ob_open(txn, "outbox", &bo, &s->ob, &e) != 0)
		goto fail;
	int rv = st_get(txn, s->t_nonce, s->nonce_key, sizeof s->nonce_key, &v, &e);
	if (rv == 0 && v.mv_size == 8) {
		s->synced = 1;
		s->next = st_u64_at(v.mv_data);
	} else if (rv == MDB_NOTFOUND) {
		s->fresh = 1; /* no nonce was ever stored here */
	} else if (rv == 0) {
		/* Never guess a nonce: a corrupt one could reuse a nonce or skip many. */
		snprintf(e.text, sizeof e.text, "nonce: entry of %zu bytes, expected 8 (corrupt store)", v.mv_size);
		goto fail;
	} else if (rv != MDB_NOTFOUND) {
		goto fail;
	}
	if (ob_count(txn, s->ob, &s->pending, &e) != 0)
		goto fail;
	rv = st_commit(txn, &e);
	txn = NULL;
	if (rv != 0)
		goto fail;
	/* A remote signer is one HTTP call per signature from the batch: nothing to sign ahead. */
	if (cfg->pipeline && key != NULL && cfg->sign == NULL) {
		if ((rv = pthread_create(&s->w_thread, NULL, sg_writer, s)) != 0) {
			snprintf(e.text, sizeof e.text, "writer thread: %s", strerror(rv));
			goto fail;
		}
		s->w_started = 1;
	}
	return s;
fail:
	snprintf(err, errlen, "STATE_DIR %s: %s", dir, e.text);
fail_quiet:
	st_abort(txn);
	sg_close(s);
	return NULL;
}

void
sg_close(sg *s)
{
	if (s == NULL)
		return;
	if (s->w_started) {
		/* A batch in flight is finished (committed) first; its frames go out with the outbox at
		 * the next start, like any frame a stop kept from going out. */
		pthread_mutex_lock(&s->mu);
		while (s->w_state == SG_W_QUEUED)
			pthread_cond_wait(&s->cv, &s->mu);
		s->w_stop = 1;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->w_thread, NULL);
	}
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->pre.v);
	free(s->run.v);
	free(s->pre.buf);
	free(s->run.buf);
	ob_close(s->ob);
	st_close(s->env);
	free(s->outs);
	free(s->obuf);
	free(s);
}

const uint8_t *
sg_address(const sg *s)
{
	return s->addr;
}
int
sg_synced(const sg *s)
{
	return s->synced;
}
uint64_t
sg_next_nonce(const sg *s)
{
	return s->next;
}
uint64_t
sg_outbox_pending(const sg *s)
{
	return s->pending;
}
int
sg_has_quote(const sg *s)
{
	return s->have_quote;
}

void
sg_set_quote(sg *s, const sc_gas_quote *q)
{
	s->quote = *q;
	s->have_quote = 1;
}
