/* tokreq.c - token requests held by a backend: records, open index, result and call outboxes (tokreq.h). */
#include "store/tokreq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/rt_http.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"
#include "schemas/schema.h"
#include "store/outbox.h"
#include "store/store.h"

#define TQ_TOPIC_RESULT "token.result"
#define TQ_QMAX         256 /* frames queued in one transaction at most; more are published by the outbox */

typedef struct {
	char topic[64], type[32];
	uint8_t id[16];
	int has_id;
	uint8_t *body;
	size_t len;
} tq_frame;

struct tq {
	st_env *env;
	MDB_dbi t_req, t_open;
	ob_box *results, *calls;
	tq_cfg cfg;
	char backend[16];
	MDB_txn *txn;
	tq_frame q[TQ_QMAX];
	size_t nq;
};

static const char *const tq_names[TQ_NSTATES] = {
	"?", "queued", "submitted", "mined", "confirmed", "failed", "rejected"
};

const char *
tq_state_name(int state)
{
	return state > 0 && state < TQ_NSTATES ? tq_names[state] : "?";
}

int
tq_terminal(int state)
{
	return state == TQ_CONFIRMED || state == TQ_FAILED || state == TQ_REJECTED;
}

static void
tq_sha256(const void *const *parts, const size_t *lens, size_t n, uint8_t *out, size_t outlen)
{
	uint8_t md[32];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	for (size_t i = 0; i < n; i++)
		EVP_DigestUpdate(c, parts[i], lens[i]);
	EVP_DigestFinal_ex(c, md, NULL);
	EVP_MD_CTX_free(c);
	memcpy(out, md, outlen);
}

void
tq_key_id(const char *key, uint8_t id[16])
{
	static const char tag[] = "oraclebus/payment-key"; /* with its NUL: the tokenizer's key.c */
	const void *parts[] = { tag, key };
	size_t lens[] = { sizeof tag, strlen(key) };
	tq_sha256(parts, lens, 2, id, 16);
}

/* Hash of what the request asks for: its encoding with the receive time zeroed (a re-publication
 * after a tokenizer restart keeps every field; another publisher's copy may differ in time only). */
static int
tq_req_hash(const sc_token_request *req, uint8_t out[32])
{
	static uint8_t buf[SC_MAX_BODY];
	sc_token_request r = *req;
	size_t len;
	sc_err e;
	r.received_at_ns = 0;
	if (sc_encode(&SC_TOKEN_REQUEST, &r, buf, sizeof buf, &len, &e) != 0)
		return -1;
	const void *parts[] = { buf };
	size_t lens[] = { len };
	tq_sha256(parts, lens, 1, out, 32);
	return 0;
}

static void
tq_discard(tq *q)
{
	for (size_t i = 0; i < q->nq; i++)
		free(q->q[i].body);
	q->nq = 0;
}

/* The store's code, as it is (one error space), with its text. */
static int
tq_fail(char *err, size_t errlen, const st_err *e, int rv)
{
	if (err && rv != MDB_NOTFOUND)
		snprintf(err, errlen, "%s", e->text);
	return rv;
}

tq *
tq_open(const char *dir, const tq_cfg *cfg, char *err, size_t errlen)
{
	tq *q = calloc(1, sizeof *q);
	st_err e = { { 0 } };
	MDB_txn *txn = NULL;
	int rv;
	if (q == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	q->cfg = *cfg;
	snprintf(q->backend, sizeof q->backend, "%s", cfg->backend ? cfg->backend : "");
	if (q->cfg.result_attempts == 0)
		q->cfg.result_attempts = 10;
	st_opts o = { .map_size = cfg->map_size ? cfg->map_size : 64u << 20, .max_tables = 16 };
	ob_backoff b = { .initial_ns = cfg->retry_ns ? cfg->retry_ns : 2000000000ull,
		         .factor = 2.0,
		         .max_ns = cfg->retry_max_ns ? cfg->retry_max_ns : 60000000000ull,
		         .jitter = 0.1 };
	if ((rv = st_open(&q->env, dir, &o, &e)) != 0)
		goto fail;
	if ((rv = st_begin(q->env, 0, &txn, &e)) != 0)
		goto fail;
	if ((rv = st_table(txn, "requests", &q->t_req, &e)) != 0 || (rv = st_table(txn, "open", &q->t_open, &e)) != 0 ||
	    (rv = ob_open(txn, "results", &b, &q->results, &e)) != 0 ||
	    (rv = ob_open(txn, "calls", &b, &q->calls, &e)) != 0) {
		st_abort(txn);
		goto fail;
	}
	if ((rv = st_commit(txn, &e)) != 0)
		goto fail;
	return q;
fail:
	snprintf(err, errlen, "%s: %s", dir, e.text);
	tq_close(q);
	return NULL;
}

void
tq_close(tq *q)
{
	if (q == NULL)
		return;
	tq_abort(q);
	ob_close(q->results);
	ob_close(q->calls);
	st_close(q->env);
	free(q);
}

int
tq_begin(tq *q, char *err, size_t errlen)
{
	st_err e;
	int rv;
	tq_discard(q);
	if ((rv = st_begin(q->env, 0, &q->txn, &e)) != 0) {
		q->txn = NULL;
		return tq_fail(err, errlen, &e, rv);
	}
	return 0;
}

void
tq_abort(tq *q)
{
	if (q->txn)
		st_abort(q->txn);
	q->txn = NULL;
	tq_discard(q);
}

int
tq_commit(tq *q, tq_pub_fn pub, void *arg, char *err, size_t errlen)
{
	st_err e;
	int rv = st_commit(q->txn, &e);
	q->txn = NULL;
	if (rv != 0) {
		tq_discard(q);
		if (rv == MDB_MAP_FULL && st_grow(q->env, NULL) == 0)
			snprintf(err, errlen, "%s (map grown: the batch is retried by its producers)", e.text);
		else
			snprintf(err, errlen, "%s", e.text);
		return rv;
	}
	for (size_t i = 0; i < q->nq && pub; i++)
		pub(arg, q->q[i].topic, q->q[i].type, q->q[i].has_id ? q->q[i].id : NULL, q->q[i].body, q->q[i].len);
	tq_discard(q);
	return 0;
}

/* ---- records -------------------------------------------------------------------------------- */

static void
tq_open_key(const tq_rec *r, uint8_t k[17])
{
	k[0] = r->state;
	memcpy(k + 1, r->id, 16);
}

static int
tq_read(tq *q, MDB_txn *txn, const uint8_t id[16], tq_rec *rec, st_err *e)
{
	MDB_val v;
	int rv = st_get(txn, q->t_req, id, 16, &v, e);
	if (rv != 0)
		return rv;
	if (v.mv_size != sizeof *rec || ((const uint8_t *)v.mv_data)[0] != TQ_REC_VERSION) {
		snprintf(e->text, sizeof e->text,
		         "requests: record of %zu bytes / version %u is not this build's (%zu, %u)", v.mv_size,
		         v.mv_size ? ((const uint8_t *)v.mv_data)[0] : 0, sizeof *rec, TQ_REC_VERSION);
		return ST_ESCHEMA;
	}
	memcpy(rec, v.mv_data, sizeof *rec);
	return 0;
}

int
tq_get(tq *q, const uint8_t id[16], tq_rec *rec, char *err, size_t errlen)
{
	st_err e;
	MDB_txn *txn = q->txn;
	int rv;
	if (txn == NULL && (rv = st_begin(q->env, 1, &txn, &e)) != 0)
		return tq_fail(err, errlen, &e, rv);
	rv = tq_read(q, txn, id, rec, &e);
	if (txn != q->txn)
		st_abort(txn);
	return rv == 0 ? 0 : tq_fail(err, errlen, &e, rv);
}

int
tq_take(tq *q, const sc_token_request *req, uint64_t now_ns, tq_rec *rec, int *seen, char *err, size_t errlen)
{
	uint8_t id[16], h[32];
	st_err e;
	*seen = 0;
	tq_key_id(req->idempotency_key, id);
	if (tq_req_hash(req, h) != 0) {
		snprintf(err, errlen, "token.request does not encode");
		return OB_EENCODE;
	}
	int rv = tq_read(q, q->txn, id, rec, &e);
	if (rv == 0) {
		*seen = memcmp(rec->req_hash, h, 32) == 0 && strcmp(rec->req.idempotency_key, req->idempotency_key) == 0
		                ? TQ_T_KNOWN
		                : TQ_T_CONFLICT;
		return 0;
	}
	if (rv != MDB_NOTFOUND)
		return tq_fail(err, errlen, &e, rv);
	memset(rec, 0, sizeof *rec);
	rec->version = TQ_REC_VERSION;
	memcpy(rec->id, id, 16);
	memcpy(rec->req_hash, h, 32);
	rec->req = *req;
	rec->created_ns = rec->updated_ns = now_ns;
	*seen = TQ_T_NEW;
	return 0;
}

int
tq_put(tq *q, const tq_rec *rec, char *err, size_t errlen)
{
	tq_rec old;
	uint8_t k[17], due[8];
	st_err e;
	int rv = tq_read(q, q->txn, rec->id, &old, &e);
	if (rv != 0 && rv != MDB_NOTFOUND)
		return tq_fail(err, errlen, &e, rv);
	if (rv == 0 && !tq_terminal(old.state) && old.state != 0) {
		tq_open_key(&old, k);
		if ((rv = st_del(q->txn, q->t_open, k, sizeof k, &e)) != 0 && rv != MDB_NOTFOUND)
			return tq_fail(err, errlen, &e, rv);
	}
	if (!tq_terminal(rec->state)) {
		tq_open_key(rec, k);
		st_key_u64(due, rec->next_ns);
		if ((rv = st_put(q->txn, q->t_open, k, sizeof k, due, sizeof due, &e)) != 0)
			return tq_fail(err, errlen, &e, rv);
	}
	if ((rv = st_put(q->txn, q->t_req, rec->id, 16, rec, sizeof *rec, &e)) != 0)
		return tq_fail(err, errlen, &e, rv);
	return 0;
}

/* ---- frames --------------------------------------------------------------------------------- */

static int
tq_queue(tq *q, const char *topic, const char *type, const uint8_t *id, const uint8_t *body, size_t len)
{
	if (q->nq == TQ_QMAX)
		return 0; /* the outbox (or the producer's re-publish) carries it */
	tq_frame *f = &q->q[q->nq];
	if ((f->body = malloc(len ? len : 1)) == NULL)
		return -1;
	memcpy(f->body, body, len);
	f->len = len;
	snprintf(f->topic, sizeof f->topic, "%s", topic);
	snprintf(f->type, sizeof f->type, "%s", type);
	f->has_id = id != NULL;
	if (id)
		memcpy(f->id, id, 16);
	q->nq++;
	return 0;
}

void
tq_result_of(const tq *q, const tq_rec *rec, uint64_t now_ns, sc_token_result *out)
{
	static const uint8_t zero[32];
	memset(out, 0, sizeof *out);
	snprintf(out->idempotency_key, sizeof out->idempotency_key, "%s", rec->req.idempotency_key);
	switch (rec->state) {
	case TQ_CONFIRMED:
		out->state = SC_TOKST_CONFIRMED;
		break;
	case TQ_FAILED:
		out->state = SC_TOKST_FAILED;
		break;
	case TQ_REJECTED:
		out->state = SC_TOKST_REJECTED;
		break;
	default:
		out->state = SC_TOKST_PENDING;
		break;
	}
	out->kind = rec->req.kind;
	out->amount = rec->req.amount;
	snprintf(out->firefly_request_id, sizeof out->firefly_request_id, "%s", rec->ff_request_id);
	snprintf(out->firefly_tx_id, sizeof out->firefly_tx_id, "%s", rec->ff_tx_id);
	if (memcmp(rec->tx_hash, zero, 32) != 0)
		memcpy(out->tx_hash, rec->tx_hash, 32);
	out->block_number = rec->block_number;
	if (rec->state != TQ_CONFIRMED)
		snprintf(out->error, sizeof out->error, "%s", rec->error);
	if (rec->state == TQ_FAILED || rec->state == TQ_REJECTED)
		snprintf(out->reason, sizeof out->reason, "%s", rec->reason[0] ? rec->reason : "NARR");
	out->decided_at_ns = rec->updated_ns ? rec->updated_ns : now_ns;
	snprintf(out->backend, sizeof out->backend, "%s", q->backend);
}

int
tq_emit(tq *q, const tq_rec *rec, uint64_t now_ns, char *err, size_t errlen)
{
	static uint8_t buf[SC_MAX_BODY];
	sc_token_result r;
	size_t len;
	sc_err se;
	st_err e;
	int rv;
	tq_result_of(q, rec, now_ns, &r);
	if (sc_encode(&SC_TOKEN_RESULT, &r, buf, sizeof buf, &len, &se) != 0) {
		snprintf(err, errlen, "token.result: %s", se.text);
		return OB_EENCODE;
	}
	if (tq_terminal(rec->state)) {
		/* A later terminal state (a late confirmation after a failure) replaces the queued one. */
		if ((rv = ob_ack(q->txn, q->results, rec->id, NULL, &e)) != 0 ||
		    (rv = ob_put(q->txn, q->results, rec->id, TQ_TOPIC_RESULT, "token.result", buf, len, now_ns, &e)) !=
		            0)
			return tq_fail(err, errlen, &e, rv);
	}
	if (tq_queue(q, TQ_TOPIC_RESULT, "token.result", NULL, buf, len) != 0) {
		snprintf(err, errlen, "out of memory queuing a frame");
		return ENOMEM;
	}
	return 0;
}

int
tq_send(tq *q, const char *topic, const char *type, const uint8_t id[16], const uint8_t *body, size_t len, int outbox,
        uint64_t now_ns, char *err, size_t errlen)
{
	st_err e;
	int rv;
	if (outbox && (rv = ob_put(q->txn, q->calls, id, topic, type, body, len, now_ns, &e)) != 0 &&
	    rv != MDB_KEYEXIST)
		return tq_fail(err, errlen, &e, rv);
	if (tq_queue(q, topic, type, id, body, len) != 0) {
		snprintf(err, errlen, "out of memory queuing a frame");
		return ENOMEM;
	}
	return 0;
}

int
tq_call_ack(tq *q, const uint8_t id[16], int *removed, char *err, size_t errlen)
{
	st_err e;
	int rv = ob_ack(q->txn, q->calls, id, removed, &e);
	return rv == 0 ? 0 : tq_fail(err, errlen, &e, rv);
}

int
tq_status_ack(tq *q, const sc_token_result *st, int *acked, char *err, size_t errlen)
{
	uint8_t id[16];
	tq_rec rec;
	st_err e;
	int rv, want;
	if (acked)
		*acked = 0;
	if (st->state != SC_TOKST_CONFIRMED && st->state != SC_TOKST_FAILED && st->state != SC_TOKST_REJECTED)
		return 0;
	tq_key_id(st->idempotency_key, id);
	if ((rv = tq_read(q, q->txn, id, &rec, &e)) == MDB_NOTFOUND)
		return 0;
	if (rv != 0)
		return tq_fail(err, errlen, &e, rv);
	/* The tokenizer stores rejected as failed. */
	want = rec.state == TQ_CONFIRMED ? SC_TOKST_CONFIRMED : SC_TOKST_FAILED;
	if (!tq_terminal(rec.state) || (st->state == SC_TOKST_CONFIRMED) != (want == SC_TOKST_CONFIRMED))
		return 0;
	if ((rv = ob_ack(q->txn, q->results, id, acked, &e)) != 0)
		return tq_fail(err, errlen, &e, rv);
	return 0;
}

/* ---- outside a transaction ------------------------------------------------------------------ */

long
tq_list(tq *q, int state, uint64_t now_ns, uint8_t (*ids)[16], size_t max, char *err, size_t errlen)
{
	MDB_txn *txn;
	st_iter it;
	MDB_val k, v;
	st_err e;
	uint8_t lo[1] = { (uint8_t)state }, hi[1] = { (uint8_t)(state + 1) };
	long n = 0;
	int rv;
	if ((rv = st_begin(q->env, 1, &txn, &e)) != 0)
		return tq_fail(err, errlen, &e, rv), -1;
	if ((rv = st_iter_open(&it, txn, q->t_open, lo, 1, hi, 1, &e)) == 0) {
		while ((size_t)n < max && (rv = st_iter_next(&it, &k, &v, &e)) == 0)
			if (k.mv_size == 17 && v.mv_size == 8 && st_u64_at(v.mv_data) <= now_ns)
				memcpy(ids[n++], (const uint8_t *)k.mv_data + 1, 16);
		st_iter_close(&it);
	}
	st_abort(txn);
	if (rv != 0 && rv != MDB_NOTFOUND)
		return tq_fail(err, errlen, &e, rv), -1;
	return n;
}

/* One outbox entry of tq_resend, through ob_send_due: a terminal result re-published
 * result_attempts times is given up (OB_DROP); results go out under a fresh frame id (the
 * tokenizer dedupes by key), calls under their own id (the consumer dedupes by it). */
typedef struct {
	const tq *q;
	int results;
	tq_pub_fn pub;
	void *arg;
	uint64_t *gave_up;
	long sent;
} tq_rs;

static const char *
tq_resend_one(void *ctx, const ob_msg *m)
{
	tq_rs *r = ctx;
	if (r->results && m->attempts >= r->q->cfg.result_attempts) {
		if (r->gave_up)
			(*r->gave_up)++;
		return OB_DROP;
	}
	char topic[64], type[32];
	snprintf(topic, sizeof topic, "%.*s", (int)m->topic_len, m->topic);
	snprintf(type, sizeof type, "%.*s", (int)m->type_len, m->type);
	if (r->pub)
		r->pub(r->arg, topic, type, r->results ? NULL : m->id, m->body, m->body_len);
	r->sent++;
	return NULL;
}

long
tq_resend(tq *q, uint64_t now_ns, int all, tq_pub_fn pub, void *arg, uint64_t *gave_up, char *err, size_t errlen)
{
	st_err e;
	uint64_t due = all ? UINT64_MAX : now_ns;
	tq_rs r = { .q = q, .results = 1, .pub = pub, .arg = arg, .gave_up = gave_up };
	if (ob_send_due(q->env, q->results, now_ns, due, tq_resend_one, &r, NULL, &e) < 0)
		goto fail;
	r.results = 0;
	r.gave_up = NULL;
	if (ob_send_due(q->env, q->calls, now_ns, due, tq_resend_one, &r, NULL, &e) < 0)
		goto fail;
	return r.sent;
fail:
	snprintf(err, errlen, "%s", e.text);
	return -1;
}

void
tq_resend_tick(void *resender)
{
	tq_resender *r = resender;
	int all = !r->started;
	char err[256];
	uint64_t gave = 0;
	r->started = 1;
	long k = tq_resend(r->q, rt_now_ns(), all, r->pub, r->arg, &gave, err, sizeof err);
	/* As every store failure: counted each time, logged and shown in /health once per change (the
	 * entries stay in the outbox and go out in a later round). */
	if ((k < 0) != r->failing) {
		r->failing = k < 0;
		rt_health_set("outbox", r->failing, r->failing ? "outbox re-publish failing" : NULL);
		if (r->failing)
			rt_logkv(RT_ERROR, "outbox re-publish failed", "error", err, NULL);
		else
			rt_logkv(RT_INFO, "outbox re-publish works again", NULL);
	}
	if (k < 0)
		rt_add(r->store_errors, 1);
	else if (all && k > 0)
		rt_log(RT_INFO, "re-published %ld outbox entries", k);
	if (!all) {
		rt_add(r->republished, k > 0 ? (uint64_t)k : 0);
		rt_add(r->gave_up, gave);
	}
}

int
tq_get_stats(tq *q, tq_stats *s, char *err, size_t errlen)
{
	MDB_txn *txn;
	st_iter it;
	MDB_val k, v;
	st_err e;
	int rv;
	memset(s, 0, sizeof *s);
	if ((rv = st_begin(q->env, 1, &txn, &e)) != 0)
		return tq_fail(err, errlen, &e, rv);
	if ((rv = st_iter_open(&it, txn, q->t_open, NULL, 0, NULL, 0, &e)) == 0) {
		while ((rv = st_iter_next(&it, &k, &v, &e)) == 0) {
			const uint8_t *kb = k.mv_data;
			tq_rec rec;
			if (k.mv_size != 17 || kb[0] >= TQ_NSTATES)
				continue;
			s->open[kb[0]]++;
			if (tq_read(q, txn, kb + 1, &rec, &e) == 0 &&
			    (s->oldest_open_ns == 0 || rec.created_ns < s->oldest_open_ns))
				s->oldest_open_ns = rec.created_ns;
		}
		st_iter_close(&it);
	}
	if (rv == MDB_NOTFOUND)
		rv = 0;
	if (rv == 0)
		rv = ob_count(txn, q->results, &s->results_pending, &e);
	if (rv == 0)
		rv = ob_count(txn, q->calls, &s->calls_pending, &e);
	st_abort(txn);
	return rv == 0 ? 0 : tq_fail(err, errlen, &e, rv);
}
