/* core.c - the tokenizer's durable core (see core.h): one write transaction per batch, frames handed
 * to the publisher only after the commit. */
#include "actors/tokenizer/core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/outbox.h"
#include "store/store.h"

#define TKC_TOPIC_REQUEST "token.request"
#define TKC_TOPIC_STATUS  "token.status"

typedef struct {
	const char *topic, *type;
	uint8_t id[16];
	int has_id;
	size_t off, len;
} tkc_out;

struct tk_core {
	st_env *env;
	MDB_dbi t_pay, t_open;
	ob_box *ob;
	uint64_t now;
	tkc_out *outs;
	size_t nouts, capouts;
	uint8_t *obuf;
	size_t olen, ocap;
	uint8_t body[SC_MAX_BODY];
	uint8_t zbuf[2 * sizeof(tk_rec)];
};

static const char *const tkc_state_names[] = { "accepted", "pending", "confirmed", "failed", "rejected", "duplicate" };

const char *
tk_state_name(int state)
{
	return state >= 0 && state < 6 ? tkc_state_names[state] : "?";
}

static int
tkc_final(int state)
{
	return state == SC_TOKST_CONFIRMED || state == SC_TOKST_FAILED;
}

/* ---- frames queued for after the commit ------------------------------------------------------- */

static int
tkc_out_add(tk_core *k, const char *topic, const char *type, const uint8_t *id, const uint8_t *body, size_t len,
            st_err *e)
{
	if (k->nouts == k->capouts) {
		size_t cap = k->capouts ? k->capouts * 2 : 64;
		tkc_out *o = realloc(k->outs, cap * sizeof *o);
		if (o == NULL)
			goto nomem;
		k->outs = o;
		k->capouts = cap;
	}
	if (k->olen + len > k->ocap) {
		size_t cap = k->ocap ? k->ocap : 65536;
		while (cap < k->olen + len)
			cap *= 2;
		uint8_t *b = realloc(k->obuf, cap);
		if (b == NULL)
			goto nomem;
		k->obuf = b;
		k->ocap = cap;
	}
	tkc_out *o = &k->outs[k->nouts++];
	o->topic = topic;
	o->type = type;
	o->has_id = id != NULL;
	if (id)
		memcpy(o->id, id, 16);
	o->off = k->olen;
	o->len = len;
	memcpy(k->obuf + k->olen, body, len);
	k->olen += len;
	return 0;
nomem:
	snprintf(e->text, sizeof e->text, "out of memory queuing a frame");
	return ENOMEM;
}

static void
tkc_flush(tk_core *k, tk_pub_fn pub, void *arg)
{
	for (size_t i = 0; i < k->nouts; i++) {
		const tkc_out *o = &k->outs[i];
		if (pub)
			pub(arg, o->topic, o->type, o->has_id ? o->id : NULL, k->obuf + o->off, o->len);
	}
	k->nouts = 0;
	k->olen = 0;
}

static void
tkc_discard(tk_core *k)
{
	k->nouts = 0;
	k->olen = 0;
}

/* ---- records --------------------------------------------------------------------------------- */

/* Records are mostly NUL padding of fixed text fields: stored with every run of zero bytes as 0x00 and
 * a 16-bit little-endian count (a 1.3 KiB record takes ~0.4 KiB, which is what an LMDB commit writes).
 * Returns the encoded length (out has 2 * n bytes, enough for any input). */
static size_t
tkc_zpack(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		if (in[i] != 0) {
			out[o++] = in[i++];
			continue;
		}
		size_t run = 0;
		while (i < n && in[i] == 0 && run < 65535)
			i++, run++;
		out[o++] = 0;
		out[o++] = (uint8_t)run;
		out[o++] = (uint8_t)(run >> 8);
	}
	return o;
}

/* 0, or -1 when the input does not decode to exactly n bytes. */
static int
tkc_zunpack(const uint8_t *in, size_t len, uint8_t *out, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		if (in[i] != 0) {
			if (o == n)
				return -1;
			out[o++] = in[i++];
			continue;
		}
		if (i + 3 > len)
			return -1;
		size_t run = (size_t)in[i + 1] | (size_t)in[i + 2] << 8;
		if (run == 0 || run > n - o)
			return -1;
		memset(out + o, 0, run);
		o += run;
		i += 3;
	}
	return o == n ? 0 : -1;
}

static int
tkc_get(tk_core *k, MDB_txn *txn, const uint8_t id[16], tk_rec *r, st_err *e)
{
	MDB_val v;
	int rv = st_get(txn, k->t_pay, id, 16, &v, e);
	if (rv != 0)
		return rv;
	if (tkc_zunpack(v.mv_data, v.mv_size, (uint8_t *)r, sizeof *r) != 0 || r->version != TK_REC_VERSION) {
		snprintf(e->text, sizeof e->text,
		         "payments: a record of %zu bytes that is not a version %d record of "
		         "this build",
		         v.mv_size, TK_REC_VERSION);
		return ST_ESCHEMA;
	}
	return 0;
}

static int
tkc_put(tk_core *k, MDB_txn *txn, const tk_rec *r, st_err *e)
{
	size_t n = tkc_zpack((const uint8_t *)r, sizeof *r, k->zbuf);
	return st_put(txn, k->t_pay, r->id, 16, k->zbuf, n, e);
}

static void
tkc_open_key(const tk_rec *r, uint8_t out[24])
{
	st_key_u64(out, r->accepted_ns);
	memcpy(out + 8, r->id, 16);
}

static void
tkc_status_body(tk_core *k, const tk_rec *r, st_err *e, int *rv)
{
	sc_token_result s;
	sc_err se;
	size_t len;
	tk_status_of(r, &s, k->now);
	if (sc_encode(&SC_TOKEN_RESULT, &s, k->body, sizeof k->body, &len, &se) != 0) {
		snprintf(e->text, sizeof e->text, "token.result does not encode: %s", se.text);
		*rv = OB_EENCODE;
		return;
	}
	*rv = tkc_out_add(k, TKC_TOPIC_STATUS, "token.result", NULL, k->body, len, e);
}

void
tk_status_of(const tk_rec *r, sc_token_result *s, uint64_t now_ns)
{
	memset(s, 0, sizeof *s);
	snprintf(s->idempotency_key, sizeof s->idempotency_key, "%s", r->key);
	s->state = r->state;
	s->kind = r->kind;
	s->amount = r->units;
	snprintf(s->firefly_request_id, sizeof s->firefly_request_id, "%s", r->ff_request_id);
	snprintf(s->firefly_tx_id, sizeof s->firefly_tx_id, "%s", r->ff_tx_id);
	memcpy(s->tx_hash, r->tx_hash, 32);
	s->block_number = r->block_number;
	snprintf(s->error, sizeof s->error, "%s", r->error);
	snprintf(s->reason, sizeof s->reason, "%s", r->reason);
	s->decided_at_ns = r->updated_ns ? r->updated_ns : now_ns;
}

static const int tkc_fmt_to_sc[] = { [PM_FMT_PACS008] = SC_FMT_ISO20022_PACS008,
	                             [PM_FMT_PAIN001] = SC_FMT_ISO20022_PAIN001,
	                             [PM_FMT_MT103] = SC_FMT_MT103,
	                             [PM_FMT_JSON] = SC_FMT_JSON };

int
tk_request_body(const tk_rec *r, uint8_t *buf, size_t cap, size_t *len)
{
	sc_token_request q;
	sc_err se;
	memset(&q, 0, sizeof q);
	snprintf(q.idempotency_key, sizeof q.idempotency_key, "%s", r->key);
	q.kind = r->kind;
	snprintf(q.pool, sizeof q.pool, "%s", r->pool);
	memcpy(q.token, r->token, 20);
	q.amount = r->units;
	snprintf(q.currency, sizeof q.currency, "%s", r->ccy);
	q.decimals = r->decimals;
	memcpy(q.from, r->from, 20);
	memcpy(q.to, r->to, 20);
	snprintf(q.debtor_account, sizeof q.debtor_account, "%s", r->debtor_account);
	snprintf(q.creditor_account, sizeof q.creditor_account, "%s", r->creditor_account);
	q.source_format = r->format <= PM_FMT_JSON ? tkc_fmt_to_sc[r->format] : SC_FMT_JSON;
	snprintf(q.message_ref, sizeof q.message_ref, "%s", r->msg_id);
	q.received_at_ns = r->accepted_ns;
	snprintf(q.backend, sizeof q.backend, "%s", tk_backend_name(r->backend));
	return sc_encode(&SC_TOKEN_REQUEST, &q, buf, cap, len, &se) == 0 ? 0 : OB_EENCODE;
}

/* ---- open / close ---------------------------------------------------------------------------- */

tk_core *
tk_open(const char *dir, const tk_core_cfg *cfg, char *err, size_t errlen)
{
	tk_core *k = calloc(1, sizeof *k);
	st_err e;
	MDB_txn *txn = NULL;
	int rv;
	if (k == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st_opts o = { .map_size = cfg->map_size ? cfg->map_size : 64ull << 20, .max_tables = 8 };
	ob_backoff bo = { .initial_ns = cfg->retry_ns ? cfg->retry_ns : 2000000000ull,
		          .max_ns = cfg->retry_max_ns ? cfg->retry_max_ns : 60000000000ull,
		          .jitter = 0.2 };
	if ((rv = st_open(&k->env, dir, &o, &e)) != 0 || (rv = st_begin(k->env, 0, &txn, &e)) != 0 ||
	    (rv = st_table(txn, "payments", &k->t_pay, &e)) != 0 || (rv = st_table(txn, "open", &k->t_open, &e)) != 0 ||
	    (rv = ob_open(txn, "outbox", &bo, &k->ob, &e)) != 0 || (rv = st_commit(txn, &e)) != 0) {
		if (rv != 0 && txn)
			st_abort(txn);
		snprintf(err, errlen, "state %s: %s", dir, e.text);
		tk_close(k);
		return NULL;
	}
	return k;
}

void
tk_close(tk_core *k)
{
	if (k == NULL)
		return;
	ob_close(k->ob);
	st_close(k->env);
	free(k->outs);
	free(k->obuf);
	free(k);
}

/* ---- intake ----------------------------------------------------------------------------------- */

void
tk_prepare(const tk_config *c, tk_item *it)
{
	it->outcome = 0;
	if (tk_key(&it->p, it->key, &it->err) != 0 || tk_map(c, &it->p, &it->op, &it->err) != 0) {
		it->outcome = TK_REFUSED;
		return;
	}
	tk_key_id(it->key, it->id);
	tk_content_hash(&it->p, it->op.kind, it->hash);
}

static void
tkc_new_rec(const tk_item *it, uint64_t now, tk_rec *r)
{
	const pm_payment *p = &it->p;
	const tk_token *t = it->op.token;
	memset(r, 0, sizeof *r);
	r->version = TK_REC_VERSION;
	r->state = SC_TOKST_ACCEPTED;
	r->kind = (uint8_t)it->op.kind;
	r->format = (uint8_t)p->format;
	r->backend = (uint8_t)t->backend;
	r->decimals = (uint8_t)t->decimals;
	memcpy(r->id, it->id, 16);
	memcpy(r->hash, it->hash, 32);
	snprintf(r->key, sizeof r->key, "%s", it->key);
	memcpy(r->ccy, p->ccy, 4);
	if (pm_amount_format(&p->amount, t->minor, r->amount, sizeof r->amount) < 0)
		snprintf(r->amount, sizeof r->amount, "?");
	r->units = it->op.units;
	snprintf(r->pool, sizeof r->pool, "%s", t->pool);
	if (t->has_address)
		memcpy(r->token, t->address, 20);
	memcpy(r->from, it->op.from, 20);
	memcpy(r->to, it->op.to, 20);
	snprintf(r->debtor_account, sizeof r->debtor_account, "%s", p->debtor_account);
	snprintf(r->creditor_account, sizeof r->creditor_account, "%s", p->creditor_account);
	snprintf(r->msgdef, sizeof r->msgdef, "%s", p->msgdef);
	snprintf(r->msg_id, sizeof r->msg_id, "%s", p->msg_id);
	snprintf(r->instr_id, sizeof r->instr_id, "%s", p->instr_id);
	snprintf(r->end_to_end_id, sizeof r->end_to_end_id, "%s", p->end_to_end_id);
	snprintf(r->tx_id, sizeof r->tx_id, "%s", p->tx_id);
	snprintf(r->uetr, sizeof r->uetr, "%s", p->uetr);
	snprintf(r->instg_bic, sizeof r->instg_bic, "%s", p->instg_agent_bic);
	snprintf(r->instd_bic, sizeof r->instd_bic, "%s", p->instd_agent_bic);
	snprintf(r->value_date, sizeof r->value_date, "%s", p->value_date);
	r->accepted_ns = it->received_ns ? it->received_ns : now;
	r->updated_ns = now;
}

static int
tkc_intake_one(tk_core *k, MDB_txn *txn, tk_item *it, st_err *e)
{
	uint8_t ok[24];
	size_t len;
	int rv = tkc_get(k, txn, it->id, &it->rec, e);
	if (rv == 0) {
		if (memcmp(it->rec.hash, it->hash, 32) == 0) {
			it->outcome = TK_DUP;
			return 0;
		}
		it->outcome = TK_CONFLICT;
		pm_error_set(&it->err, "AM05", "PmtId", it->p.line, it->p.offset,
		             "payment %.79s was already accepted with other content (amount, currency, accounts or "
		             "operation)",
		             it->key);
		snprintf(it->err.msg_id, sizeof it->err.msg_id, "%s", it->p.msg_id);
		snprintf(it->err.instr_id, sizeof it->err.instr_id, "%s", it->p.instr_id);
		snprintf(it->err.end_to_end_id, sizeof it->err.end_to_end_id, "%s", it->p.end_to_end_id);
		snprintf(it->err.uetr, sizeof it->err.uetr, "%s", it->p.uetr);
		snprintf(it->err.msgdef, sizeof it->err.msgdef, "%s", it->p.msgdef);
		return 0;
	}
	if (rv != MDB_NOTFOUND)
		return rv;
	tkc_new_rec(it, k->now, &it->rec);
	if (tk_request_body(&it->rec, k->body, sizeof k->body, &len) != 0) {
		snprintf(e->text, sizeof e->text, "token.request for %.79s does not encode", it->key);
		return OB_EENCODE;
	}
	tkc_open_key(&it->rec, ok);
	/* Marked sent now: it is published right after the commit; the backoff only covers a loss. */
	if ((rv = tkc_put(k, txn, &it->rec, e)) != 0 || (rv = st_put(txn, k->t_open, ok, sizeof ok, "", 0, e)) != 0 ||
	    (rv = ob_put_sent(txn, k->ob, it->id, TKC_TOPIC_REQUEST, "token.request", k->body, len, k->now, e)) != 0 ||
	    (rv = tkc_out_add(k, TKC_TOPIC_REQUEST, "token.request", it->id, k->body, len, e)) != 0)
		return rv;
	tkc_status_body(k, &it->rec, e, &rv);
	if (rv != 0)
		return rv;
	it->outcome = TK_NEW;
	return 0;
}

int
tk_commit(tk_core *k, tk_item *const *items, size_t n, uint64_t now_ns, tk_pub_fn pub, void *arg, char *err,
          size_t errlen)
{
	MDB_txn *txn;
	st_err e;
	int rv;
	k->now = now_ns;
	tkc_discard(k);
	if ((rv = st_begin(k->env, 0, &txn, &e)) == 0) {
		for (size_t i = 0; i < n && rv == 0; i++)
			if (items[i]->outcome == 0)
				rv = tkc_intake_one(k, txn, items[i], &e);
		if (rv == 0)
			rv = st_commit(txn, &e);
		else
			st_abort(txn);
	}
	if (rv == MDB_MAP_FULL) {
		/* Grow and run the batch again (nothing of it is stored). */
		st_err e2;
		for (size_t i = 0; i < n; i++)
			if (items[i]->outcome != TK_REFUSED)
				items[i]->outcome = 0;
		if (st_grow(k->env, &e2) == 0)
			return tk_commit(k, items, n, now_ns, pub, arg, err, errlen);
	}
	if (rv != 0) {
		snprintf(err, errlen, "%s", e.text);
		tkc_discard(k);
		for (size_t i = 0; i < n; i++)
			if (items[i]->outcome != TK_REFUSED)
				items[i]->outcome = TK_STORE_ERROR;
		return rv;
	}
	tkc_flush(k, pub, arg);
	return 0;
}

/* ---- results from backends -------------------------------------------------------------------- */

static int
tkc_result_one(tk_core *k, MDB_txn *txn, tk_result_item *it, st_err *e)
{
	const sc_token_result *r = &it->r;
	uint8_t id[16], ok[24];
	tk_rec *rec = &it->rec;
	int rv, to = -1;

	tk_key_id(r->idempotency_key, id);
	if ((rv = tkc_get(k, txn, id, rec, e)) == MDB_NOTFOUND) {
		it->outcome = TK_R_UNKNOWN;
		return 0;
	}
	if (rv != 0)
		return rv;
	if (strcmp(rec->key, r->idempotency_key) != 0) {
		it->outcome = TK_R_UNKNOWN; /* a key id collision would need SHA-256 broken; refuse anyway */
		return 0;
	}
	switch (r->state) {
	case SC_TOKST_PENDING:
		to = SC_TOKST_PENDING;
		break;
	case SC_TOKST_CONFIRMED:
		to = SC_TOKST_CONFIRMED;
		break;
	case SC_TOKST_FAILED:
	case SC_TOKST_REJECTED:
		to = SC_TOKST_FAILED;
		break;
	default: /* accepted, duplicate: the tokenizer's own states, not a backend's */
		it->outcome = TK_R_IGNORED;
		return 0;
	}
	/* Any backend state acks the request: a backend has it. */
	if ((rv = ob_ack(txn, k->ob, id, NULL, e)) != 0)
		return rv;
	int from = rec->state;
	int change = 0;
	if (to == SC_TOKST_PENDING)
		change = from == SC_TOKST_ACCEPTED ||
		         (from == SC_TOKST_PENDING &&
		          (strcmp(rec->error, r->error) || memcmp(rec->tx_hash, r->tx_hash, 32) ||
		           strcmp(rec->ff_tx_id, r->firefly_tx_id)));
	else if (to == SC_TOKST_CONFIRMED)
		change = from != SC_TOKST_CONFIRMED;
	else
		change = !tkc_final(from);
	if (to == SC_TOKST_CONFIRMED && from == SC_TOKST_FAILED)
		it->contradiction = rec->contradiction = 1;
	if (!change) {
		if (to == SC_TOKST_FAILED && from == SC_TOKST_CONFIRMED)
			it->contradiction = 1;
		it->outcome = TK_R_SAME;
		return 0;
	}
	if (!tkc_final(from) && tkc_final(to)) {
		tkc_open_key(rec, ok);
		if ((rv = st_del(txn, k->t_open, ok, sizeof ok, e)) != 0 && rv != MDB_NOTFOUND)
			return rv;
	}
	rec->state = (uint8_t)to;
	rec->updated_ns = r->decided_at_ns ? r->decided_at_ns : k->now;
	rec->interim_error = to == SC_TOKST_PENDING && r->error[0];
	if (r->firefly_request_id[0])
		snprintf(rec->ff_request_id, sizeof rec->ff_request_id, "%s", r->firefly_request_id);
	if (r->firefly_tx_id[0])
		snprintf(rec->ff_tx_id, sizeof rec->ff_tx_id, "%s", r->firefly_tx_id);
	static const uint8_t zero[32];
	if (memcmp(r->tx_hash, zero, 32) != 0)
		memcpy(rec->tx_hash, r->tx_hash, 32);
	if (r->block_number)
		rec->block_number = r->block_number;
	snprintf(rec->error, sizeof rec->error, "%s", to == SC_TOKST_CONFIRMED ? "" : r->error);
	if (to == SC_TOKST_FAILED)
		snprintf(rec->reason, sizeof rec->reason, "%s", r->reason[0] ? r->reason : "NARR");
	else
		rec->reason[0] = '\0';
	if ((rv = tkc_put(k, txn, rec, e)) != 0)
		return rv;
	tkc_status_body(k, rec, e, &rv);
	if (rv != 0)
		return rv;
	it->outcome = TK_R_CHANGED;
	return 0;
}

int
tk_results(tk_core *k, tk_result_item *items, size_t n, uint64_t now_ns, tk_pub_fn pub, void *arg, char *err,
           size_t errlen)
{
	MDB_txn *txn;
	st_err e;
	int rv;
	k->now = now_ns;
	tkc_discard(k);
	if ((rv = st_begin(k->env, 0, &txn, &e)) == 0) {
		for (size_t i = 0; i < n && rv == 0; i++) {
			items[i].outcome = 0;
			items[i].contradiction = 0;
			rv = tkc_result_one(k, txn, &items[i], &e);
		}
		if (rv == 0)
			rv = st_commit(txn, &e);
		else
			st_abort(txn);
	}
	if (rv != 0) {
		snprintf(err, errlen, "%s", e.text);
		tkc_discard(k);
		return rv;
	}
	tkc_flush(k, pub, arg);
	return 0;
}

/* ---- resend, queries ---------------------------------------------------------------------------- */

/* Publishes every outbox entry of the payments still open (at start: whatever a crash kept from
 * going out, due or not), marking each sent now. */
static long
tkc_resend_all(tk_core *k, uint64_t now_ns, st_err *e, int *rvp)
{
	MDB_txn *txn;
	st_iter it;
	MDB_val key, val;
	long n = 0;
	int rv;
	if ((rv = st_begin(k->env, 0, &txn, e)) != 0)
		goto out;
	if ((rv = st_iter_open(&it, txn, k->t_open, NULL, 0, NULL, 0, e)) != 0) {
		st_abort(txn);
		goto out;
	}
	while ((rv = st_iter_next(&it, &key, &val, e)) == 0) {
		ob_msg m;
		const uint8_t *id = (const uint8_t *)key.mv_data + 8;
		if (key.mv_size != 24)
			continue;
		rv = ob_get(txn, k->ob, id, &m, e);
		if (rv == MDB_NOTFOUND)
			continue; /* a backend has it */
		if (rv != 0 ||
		    (rv = tkc_out_add(k, TKC_TOPIC_REQUEST, "token.request", id, m.body, m.body_len, e)) != 0 ||
		    (rv = ob_mark_sent(txn, k->ob, id, now_ns, NULL, e)) != 0)
			break;
		n++;
	}
	st_iter_close(&it);
	if (rv != MDB_NOTFOUND) {
		st_abort(txn);
		goto out;
	}
	rv = st_commit(txn, e);
out:
	*rvp = rv;
	return n;
}

static const char *
tkc_resend_one(void *ctx, const ob_msg *m)
{
	st_err e;
	return tkc_out_add(ctx, TKC_TOPIC_REQUEST, "token.request", m->id, m->body, m->body_len, &e) == 0
	               ? NULL
	               : "out of memory";
}

long
tk_resend(tk_core *k, uint64_t now_ns, int all, tk_pub_fn pub, void *arg, char *err, size_t errlen)
{
	st_err e;
	long total = 0;
	int rv;
	tkc_discard(k);
	if (all) {
		total = tkc_resend_all(k, now_ns, &e, &rv);
		if (rv != 0)
			goto fail;
		tkc_flush(k, pub, arg);
		return total;
	}
	/* queued aside and published once the marks are committed */
	if ((total = ob_send_due(k->env, k->ob, now_ns, now_ns, tkc_resend_one, k, NULL, &e)) < 0)
		goto fail;
	tkc_flush(k, pub, arg);
	return total;
fail:
	tkc_discard(k);
	snprintf(err, errlen, "outbox: %s", e.text);
	return -1;
}

int
tk_get(tk_core *k, const uint8_t id[16], tk_rec *out, char *err, size_t errlen)
{
	MDB_txn *txn;
	st_err e;
	int rv = st_begin(k->env, 1, &txn, &e);
	if (rv == 0) {
		rv = tkc_get(k, txn, id, out, &e);
		st_abort(txn);
	}
	if (rv != 0 && rv != MDB_NOTFOUND)
		snprintf(err, errlen, "%s", e.text);
	return rv;
}

int
tk_open_stats(tk_core *k, uint64_t older_than_ns, tk_stats *s, char *err, size_t errlen)
{
	MDB_txn *txn;
	st_err e;
	st_iter it;
	MDB_val key, val;
	uint8_t hi[8];
	int rv;
	memset(s, 0, sizeof *s);
	if ((rv = st_begin(k->env, 1, &txn, &e)) != 0)
		goto fail;
	if ((rv = st_count(txn, k->t_open, &s->open, &e)) != 0 || (rv = ob_count(txn, k->ob, &s->outbox, &e)) != 0)
		goto abort;
	st_key_u64(hi, older_than_ns);
	if ((rv = st_iter_open(&it, txn, k->t_open, NULL, 0, hi, 8, &e)) != 0)
		goto abort;
	/* Counting the overdue ones walks them; they are few unless something is badly wrong, so cap it. */
	while (s->overdue < 100000 && (rv = st_iter_next(&it, &key, &val, &e)) == 0) {
		if (s->overdue++ == 0 && key.mv_size == 24) {
			s->oldest_ns = st_u64_at(key.mv_data);
			memcpy(s->oldest_id, (const uint8_t *)key.mv_data + 8, 16);
		}
	}
	st_iter_close(&it);
	if (rv != 0 && rv != MDB_NOTFOUND)
		goto abort;
	if (s->overdue == 0 && (rv = st_iter_open(&it, txn, k->t_open, NULL, 0, NULL, 0, &e)) == 0) {
		if ((rv = st_iter_next(&it, &key, &val, &e)) == 0 && key.mv_size == 24)
			s->oldest_ns = st_u64_at(key.mv_data);
		st_iter_close(&it);
	}
	st_abort(txn);
	if (rv == 0 || rv == MDB_NOTFOUND)
		return 0;
	snprintf(err, errlen, "%s", e.text);
	return rv;
abort:
	st_abort(txn);
fail:
	snprintf(err, errlen, "%s", e.text);
	return rv;
}
