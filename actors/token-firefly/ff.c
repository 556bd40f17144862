/* ff.c - token-firefly: FireFly token calls, answers and the request state machine (ff.h). */
#include "actors/token-firefly/ff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/hex.h"
#include "store/store.h"

static const uint8_t tf_zero[20];

int
tf_urlenc(const char *s, char *out, size_t cap)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t n = 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		            c == '_' || c == '.' || c == '~';
		if (n + (plain ? 1 : 3) >= cap)
			return -1;
		if (plain) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hx[c >> 4];
			out[n++] = hx[c & 15];
		}
	}
	out[n] = '\0';
	return 0;
}

int
tf_body(const tf_cfg *c, const sc_token_request *req, const char **path, char **body, char reason[8], char *why,
        size_t whylen)
{
	char amount[80], from[43], to[43];
	int need_from = 0, need_to = 0;
	snprintf(reason, 8, "NARR");
	*body = NULL;
	switch (req->kind) {
	case SC_TOKEN_MINT:
		*path = "mint";
		need_to = 1;
		break;
	case SC_TOKEN_BURN:
		*path = "burn";
		need_from = 1;
		break;
	case SC_TOKEN_TRANSFER:
		*path = "transfers";
		need_from = need_to = 1;
		break;
	default:
		snprintf(why, whylen, "operation not done by the firefly backend");
		return -1;
	}
	if (req->pool[0] == '\0') {
		snprintf(why, whylen, "no FireFly pool in the request");
		return -1;
	}
	if (u256_is_zero(&req->amount)) {
		snprintf(reason, 8, "AM01");
		snprintf(why, whylen, "zero amount");
		return -1;
	}
	if ((need_from && memcmp(req->from, tf_zero, 20) == 0) || (need_to && memcmp(req->to, tf_zero, 20) == 0)) {
		snprintf(reason, 8, "AC01");
		snprintf(why, whylen, "%s address missing",
		         need_from && memcmp(req->from, tf_zero, 20) == 0 ? "from" : "to");
		return -1;
	}
	u256_to_dec(&req->amount, amount);
	hex_addr_format(req->from, from);
	hex_addr_format(req->to, to);
	/* FireFly compares addresses case-insensitively; lower case is what its connector emits. */
	for (char *p = from; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
	for (char *p = to; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
	json_t *j = json_pack("{s:s, s:s, s:s}", "pool", req->pool, "amount", amount, "idempotencyKey",
	                      req->idempotency_key);
	if (j == NULL) {
		snprintf(why, whylen, "cannot build the body");
		return -1;
	}
	if (need_from)
		json_object_set_new(j, "from", json_string(from));
	if (need_to)
		json_object_set_new(j, "to", json_string(to));
	if (c->key && c->key[0])
		json_object_set_new(j, "key", json_string(c->key));
	*body = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(j);
	if (*body == NULL) {
		snprintf(why, whylen, "cannot build the body");
		return -1;
	}
	reason[0] = '\0';
	return 0;
}

/* ---- answers ------------------------------------------------------------------------------------ */

static json_t *
tf_json(const tf_http *h)
{
	json_error_t je;
	if (h->body == NULL || h->len == 0)
		return NULL;
	return json_loadb(h->body, h->len, 0, &je);
}

/* FireFly's {"error": "FFxxxxx: text"}, else the start of the body. */
static void
tf_error_text(const tf_http *h, char *out, size_t cap)
{
	json_t *j = tf_json(h);
	const char *e = json_string_value(json_object_get(j, "error"));
	if (e)
		snprintf(out, cap, "HTTP %ld: %.150s", h->status, e);
	else
		snprintf(out, cap, "HTTP %ld", h->status);
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	json_decref(j);
}

/* An id of FireFly's (a UUID): copied only when it is one, so nothing odd reaches records or logs. */
static int
tf_copy_id(char out[64], const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 63)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F') ||
		      s[i] == '-'))
			return -1;
	memcpy(out, s, n + 1);
	return 0;
}

void
tf_classify_post(const tf_http *h, tf_post *out)
{
	memset(out, 0, sizeof *out);
	if (h->status == 0) {
		out->kind = TF_P_RETRY;
		snprintf(out->text, sizeof out->text, "no answer: %.150s", h->err ? h->err : "?");
		return;
	}
	if (h->status == 200 || h->status == 202) {
		json_t *j = tf_json(h);
		out->kind = TF_P_ACCEPTED;
		tf_copy_id(out->tx_id, json_string_value(json_object_get(json_object_get(j, "tx"), "id")));
		tf_copy_id(out->local_id, json_string_value(json_object_get(j, "localId")));
		json_decref(j);
		return;
	}
	tf_error_text(h, out->text, sizeof out->text);
	if (h->status == 409) {
		/* FF10431: Idempotency key '<key>' already used for transaction '<id>' */
		json_t *j = tf_json(h);
		const char *e = json_string_value(json_object_get(j, "error"));
		const char *m = e ? strstr(e, "already used for transaction '") : NULL;
		if (e && strncmp(e, "FF10431", 7) == 0) {
			out->kind = TF_P_USED;
			if (m) {
				char id[64];
				m += strlen("already used for transaction '");
				const char *end = strchr(m, '\'');
				if (end && end - m < 64) {
					memcpy(id, m, (size_t)(end - m));
					id[end - m] = '\0';
					tf_copy_id(out->tx_id, id);
				}
			}
		} else {
			out->kind = TF_P_RETRY; /* another conflict (connector-level): try again */
		}
		json_decref(j);
		return;
	}
	if (h->status == 408) {
		out->kind = TF_P_TIMEOUT; /* FireFly does not cancel on its timeout: the transfer may proceed */
		return;
	}
	if (h->status >= 500 || h->status == 429 || h->status == 404) {
		/* 404: a pool FireFly does not know is the payment's problem (FF10109); an unknown namespace or
		 * a missing route is ours (configuration, a proxy): retried, and alerted once it persists. */
		out->kind = strstr(out->text, "FF10109") ? TF_P_REJECT : TF_P_RETRY;
		return;
	}
	out->kind = TF_P_REJECT;
}

void
tf_parse_lookup(const tf_http *h, tf_poll *out)
{
	memset(out, 0, sizeof *out);
	if (h->status != 200) {
		out->kind = TF_S_ERROR;
		if (h->status == 0)
			snprintf(out->text, sizeof out->text, "no answer: %.150s", h->err ? h->err : "?");
		else
			tf_error_text(h, out->text, sizeof out->text);
		return;
	}
	json_t *j = tf_json(h), *a = json_is_array(j) ? j : json_object_get(j, "items");
	if (!json_is_array(a)) {
		out->kind = TF_S_ERROR;
		snprintf(out->text, sizeof out->text, "transaction lookup: not a list");
	} else if (json_array_size(a) == 0) {
		out->kind = TF_S_NOT_FOUND;
	} else if (tf_copy_id(out->tx_id, json_string_value(json_object_get(json_array_get(a, 0), "id"))) != 0) {
		out->kind = TF_S_ERROR;
		snprintf(out->text, sizeof out->text, "transaction lookup: no id");
	} else {
		out->kind = TF_S_PENDING;
	}
	json_decref(j);
}

void
tf_parse_status(const tf_http *h, tf_poll *out, char bevent[64])
{
	memset(out, 0, sizeof *out);
	bevent[0] = '\0';
	if (h->status != 200) {
		out->kind = h->status == 404 ? TF_S_NOT_FOUND : TF_S_ERROR;
		if (h->status == 0)
			snprintf(out->text, sizeof out->text, "no answer: %.150s", h->err ? h->err : "?");
		else
			tf_error_text(h, out->text, sizeof out->text);
		return;
	}
	json_t *j = tf_json(h);
	const char *st = json_string_value(json_object_get(j, "status"));
	json_t *details = json_object_get(j, "details");
	if (st == NULL) {
		out->kind = TF_S_ERROR;
		snprintf(out->text, sizeof out->text, "transaction status without status");
		json_decref(j);
		return;
	}
	out->kind = strcmp(st, "Succeeded") == 0 ? TF_S_SUCCEEDED
	            : strcmp(st, "Failed") == 0  ? TF_S_FAILED
	                                         : TF_S_PENDING;
	for (size_t i = 0; json_is_array(details) && i < json_array_size(details); i++) {
		json_t *d = json_array_get(details, i);
		const char *type = json_string_value(json_object_get(d, "type"));
		const char *dst = json_string_value(json_object_get(d, "status"));
		const char *err = json_string_value(json_object_get(d, "error"));
		if (type && strcmp(type, "BlockchainEvent") == 0 && bevent[0] == '\0')
			tf_copy_id(bevent, json_string_value(json_object_get(d, "id")));
		if (out->kind == TF_S_FAILED && dst && strcmp(dst, "Failed") == 0 && err && out->text[0] == '\0')
			snprintf(out->text, sizeof out->text, "%.190s", err);
	}
	if (out->kind == TF_S_FAILED && out->text[0] == '\0')
		snprintf(out->text, sizeof out->text, "FireFly reports the transaction Failed");
	for (char *p = out->text; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	json_decref(j);
}

static void
tf_hash_into(const char *s, tf_poll *out)
{
	if (s && strlen(s) == 66 && hex_decode_exact(s, 66, out->tx_hash, 32) == HEX_OK)
		out->has_hash = 1;
}

static uint64_t
tf_u64(const json_t *v)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		return (uint64_t)json_integer_value(v);
	const char *s = json_string_value(v);
	uint64_t n = 0;
	if (s == NULL || *s == '\0' || strlen(s) > 19)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	return n;
}

void
tf_parse_bevent(const tf_http *h, tf_poll *out)
{
	if (h->status != 200)
		return;
	json_t *j = tf_json(h), *info = json_object_get(j, "info");
	tf_hash_into(json_string_value(json_object_get(info, "transactionHash")), out);
	if (out->block_number == 0)
		out->block_number = tf_u64(json_object_get(info, "blockNumber"));
	json_decref(j);
}

void
tf_parse_tx(const tf_http *h, tf_poll *out)
{
	if (h->status != 200 || out->has_hash)
		return;
	json_t *j = tf_json(h), *ids = json_object_get(j, "blockchainIds");
	if (json_is_array(ids) && json_array_size(ids) > 0)
		tf_hash_into(json_string_value(json_array_get(ids, json_array_size(ids) - 1)), out);
	json_decref(j);
}

/* ---- state machine ------------------------------------------------------------------------------ */

static int
tf_store_emit(tf_ctx *x, tq_rec *rec, uint64_t now_ns, char *err, size_t errlen)
{
	int rv;
	rec->updated_ns = now_ns;
	if ((rv = tq_put(x->q, rec, err, errlen)) != 0)
		return rv;
	return tq_emit(x->q, rec, now_ns, err, errlen);
}

/* A state machine's result: the store's code, and the outcome only when it is 0. */
static int
tf_out(int rv, int *out, int outcome)
{
	if (rv == 0)
		*out = outcome;
	return rv;
}

int
tf_on_request(tf_ctx *x, const sc_token_request *req, uint64_t now_ns, tq_rec *rec, int *out, char *err, size_t errlen)
{
	const char *path;
	char *body, reason[8], why[160];
	int t, rv;
	*out = 0;
	if ((rv = tq_take(x->q, req, now_ns, rec, &t, err, errlen)) != 0)
		return rv;
	if (t != TQ_T_NEW) {
		return tf_out(tq_emit(x->q, rec, now_ns, err, errlen), out,
		              t == TQ_T_KNOWN ? TF_O_REPEAT : TF_O_CONFLICT);
	}
	if (tf_body(x->cfg, req, &path, &body, reason, why, sizeof why) != 0) {
		rec->state = TQ_REJECTED;
		snprintf(rec->reason, sizeof rec->reason, "%s", reason);
		snprintf(rec->error, sizeof rec->error, "%s", why);
		return tf_out(tf_store_emit(x, rec, now_ns, err, errlen), out, TF_O_REJECTED);
	}
	free(body);
	rec->state = TQ_QUEUED;
	rec->next_ns = now_ns;
	return tf_out(tf_store_emit(x, rec, now_ns, err, errlen), out, TF_O_NEW);
}

static uint64_t
tf_backoff(const tf_cfg *c, uint32_t failures)
{
	uint64_t d = c->retry_ns ? c->retry_ns : 1000000000ull;
	for (uint32_t i = 1; i < failures && d < c->retry_max_ns; i++)
		d *= 2;
	return c->retry_max_ns && d > c->retry_max_ns ? c->retry_max_ns : d;
}

#define TF_GAVE_UP_POSTING 0x01 /* tq_rec.reserved[0]: MAX_FAILURES reached, no POST again */

static void
tf_submitted(tf_ctx *x, tq_rec *rec, const char *tx_id, uint64_t now_ns)
{
	rec->state = TQ_SUBMITTED;
	if (tx_id && tx_id[0])
		snprintf(rec->ff_tx_id, sizeof rec->ff_tx_id, "%s", tx_id);
	if (rec->deadline_ns == 0)
		rec->deadline_ns = now_ns + x->cfg->deadline_ns;
	rec->next_ns = now_ns + x->cfg->poll_ns;
	rec->failures = 0;
	rec->first_fail_ns = 0;
	rec->error[0] = '\0';
}

int
tf_on_post(tf_ctx *x, const uint8_t id[16], const tf_post *p, uint64_t now_ns, tq_rec *rec, int *out, char *err,
           size_t errlen)
{
	int rv;
	*out = 0;
	if ((rv = tq_get(x->q, id, rec, err, errlen)) == MDB_NOTFOUND)
		return tf_out(0, out, TF_O_UNKNOWN);
	if (rv != 0)
		return rv;
	if (rec->state != TQ_QUEUED)
		return tf_out(0, out, TF_O_SAME);
	rec->attempts++;
	switch (p->kind) {
	case TF_P_ACCEPTED:
		if (p->local_id[0])
			snprintf(rec->ff_request_id, sizeof rec->ff_request_id, "%s", p->local_id);
		tf_submitted(x, rec, p->tx_id, now_ns);
		return tf_out(tf_store_emit(x, rec, now_ns, err, errlen), out, TF_O_CHANGED);
	case TF_P_USED:    /* an earlier POST of ours got through: follow that transaction */
	case TF_P_TIMEOUT: /* not cancelled: follow it (looked up by key when there is no id) */
		tf_submitted(x, rec, p->tx_id, now_ns);
		rec->updated_ns = now_ns;
		return tf_out(tq_put(x->q, rec, err, errlen), out, TF_O_CHANGED);
	case TF_P_REJECT:
		rec->state = TQ_REJECTED;
		snprintf(rec->reason, sizeof rec->reason, "NARR");
		snprintf(rec->error, sizeof rec->error, "FireFly refused: %s", p->text);
		return tf_out(tf_store_emit(x, rec, now_ns, err, errlen), out, TF_O_REJECTED);
	default: {
		int changed = rec->error[0] == '\0';
		rec->failures++;
		if (rec->first_fail_ns == 0)
			rec->first_fail_ns = now_ns;
		snprintf(rec->error, sizeof rec->error, "FireFly: %s (attempt %u, retrying)", p->text, rec->failures);
		if (rec->failures >= x->cfg->max_failures) {
			/* No more POSTs. Failed only once FireFly shows it holds no transaction for the key: a POST
			 * whose answer was lost may have got through (then that transaction is followed, to its end
			 * or the deadline: a stuck operation fails there). */
			uint32_t n = rec->failures;
			rec->reserved[0] |= TF_GAVE_UP_POSTING;
			tf_submitted(x, rec, NULL, now_ns);
			snprintf(rec->error, sizeof rec->error, "FireFly failed %u times in a row: %.150s", n, p->text);
			rec->next_ns = now_ns;
			rec->updated_ns = now_ns;
			return tf_out(tq_put(x->q, rec, err, errlen), out, TF_O_CHANGED);
		}
		rec->next_ns = now_ns + tf_backoff(x->cfg, rec->failures);
		/* The first failure of a run is reported (pending with error: pacs.002 PDNG); repeats are not. */
		if (changed)
			return tf_out(tf_store_emit(x, rec, now_ns, err, errlen), out, TF_O_SAME);
		rec->updated_ns = now_ns;
		return tf_out(tq_put(x->q, rec, err, errlen), out, TF_O_SAME);
	}
	}
}

int
tf_on_poll(tf_ctx *x, const uint8_t id[16], const tf_poll *p, uint64_t now_ns, tq_rec *rec, int *out, char *err,
           size_t errlen)
{
	int rv;
	*out = 0;
	if ((rv = tq_get(x->q, id, rec, err, errlen)) == MDB_NOTFOUND)
		return tf_out(0, out, TF_O_UNKNOWN);
	if (rv != 0)
		return rv;
	if (rec->state != TQ_SUBMITTED)
		return tf_out(0, out, TF_O_SAME);
	rec->attempts++;
	if (rec->ff_tx_id[0] == '\0' && p->tx_id[0] && p->kind == TF_S_PENDING) {
		/* found by its key: poll its status next */
		snprintf(rec->ff_tx_id, sizeof rec->ff_tx_id, "%s", p->tx_id);
		rec->next_ns = now_ns;
		return tf_out(tf_store_emit(x, rec, now_ns, err, errlen), out, TF_O_CHANGED);
	}
	switch (p->kind) {
	case TF_S_SUCCEEDED:
		rec->state = TQ_CONFIRMED;
		if (p->has_hash)
			memcpy(rec->tx_hash, p->tx_hash, 32);
		rec->block_number = p->block_number;
		rec->error[0] = '\0';
		return tf_out(tf_store_emit(x, rec, now_ns, err, errlen), out, TF_O_CHANGED);
	case TF_S_FAILED:
		rec->state = TQ_FAILED;
		snprintf(rec->reason, sizeof rec->reason, "NARR");
		snprintf(rec->error, sizeof rec->error, "FireFly: %s", p->text);
		return tf_out(tf_store_emit(x, rec, now_ns, err, errlen), out, TF_O_CHANGED);
	case TF_S_NOT_FOUND:
		if (rec->ff_tx_id[0] == '\0' && (rec->reserved[0] & TF_GAVE_UP_POSTING)) {
			rec->state = TQ_FAILED;
			snprintf(rec->reason, sizeof rec->reason, "NARR");
			/* rec->error says why the POSTs stopped */
			return tf_out(tf_store_emit(x, rec, now_ns, err, errlen), out, TF_O_GAVE_UP);
		}
		if (rec->ff_tx_id[0] == '\0') {
			/* FireFly holds no transaction with our key: the POST never got in. Sending it again is safe. */
			rec->state = TQ_QUEUED;
			rec->next_ns = now_ns;
			rec->updated_ns = now_ns;
			return tf_out(tq_put(x->q, rec, err, errlen), out, TF_O_CHANGED);
		}
		/* a transaction id FireFly no longer knows is polled until the deadline */
		__attribute__((fallthrough));
	default:
		if (now_ns >= rec->deadline_ns) {
			rec->state = TQ_FAILED;
			snprintf(rec->reason, sizeof rec->reason, "NARR");
			snprintf(rec->error, sizeof rec->error,
			         "not final in FireFly by the deadline (transaction %s%s%.100s)",
			         rec->ff_tx_id[0] ? rec->ff_tx_id : "not found", p->text[0] ? ": " : "", p->text);
			return tf_out(tf_store_emit(x, rec, now_ns, err, errlen), out, TF_O_GAVE_UP);
		}
		rec->next_ns = now_ns + (p->kind == TF_S_ERROR ? tf_backoff(x->cfg, ++rec->failures) : x->cfg->poll_ns);
		if (p->kind != TF_S_ERROR)
			rec->failures = 0;
		rec->updated_ns = now_ns;
		return tf_out(tq_put(x->q, rec, err, errlen), out, TF_O_SAME);
	}
}
