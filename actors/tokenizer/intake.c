/* intake.c - format detection, parsing into prepared items, answers (see intake.h). */
#include "actors/tokenizer/intake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "payments/mt.h"
#include "payments/pacs002.h"
#include "payments/validate.h"

const char *
tk_in_name(int in)
{
	static const char *const n[] = { "unknown", "xml", "mt", "json" };
	return in >= 0 && in <= TK_IN_JSON ? n[in] : "unknown";
}

int
tk_detect(const uint8_t *b, size_t n, const char *ctype)
{
	size_t i = 0;
	if (n >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf)
		i = 3;
	while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
		i++;
	if (i == n)
		return TK_IN_UNKNOWN;
	if (b[i] == '<')
		return TK_IN_XML;
	if (b[i] == ':' || b[i] == '$')
		return TK_IN_MT;
	if (b[i] == '{') {
		if (i + 2 < n && b[i + 1] >= '1' && b[i + 1] <= '5' && b[i + 2] == ':')
			return TK_IN_MT;
		size_t j = i + 1;
		while (j < n && (b[j] == ' ' || b[j] == '\t' || b[j] == '\r' || b[j] == '\n'))
			j++;
		if (j < n && (b[j] == '"' || b[j] == '}'))
			return TK_IN_JSON;
		/* Neither shape: let the Content-Type decide between the two brace formats. */
		if (ctype && strstr(ctype, "json"))
			return TK_IN_JSON;
		return TK_IN_MT;
	}
	return TK_IN_UNKNOWN;
}

/* ---- batches ------------------------------------------------------------------------------------ */

typedef struct {
	tk_batch *b;
	const tk_config *c;
	uint64_t now;
} tki_ctx;

static tk_item *
tki_push(tk_batch *b)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 8;
		tk_item **v = realloc(b->items, cap * sizeof *v);
		if (v == NULL)
			return NULL;
		b->items = v;
		b->cap = cap;
	}
	tk_item *it = calloc(1, sizeof *it);
	if (it)
		b->items[b->n++] = it;
	return it;
}

static int
tki_sink(void *ctx, const pm_payment *p, const pm_error *e)
{
	tki_ctx *x = ctx;
	tk_item *it = tki_push(x->b);
	if (it == NULL) {
		x->b->oom = 1;
		return 1;
	}
	it->received_ns = x->now;
	if (p) {
		it->p = *p;
		tk_prepare(x->c, it);
	} else {
		it->err = *e;
		it->outcome = TK_REFUSED;
	}
	return 0;
}

static void
tki_refuse(tk_batch *b, uint64_t now, const char *reason, const char *field, const char *text)
{
	pm_error e;
	pm_error_set(&e, reason, field, 0, 0, "%s", text);
	tki_ctx x = { .b = b, .now = now };
	tki_sink(&x, NULL, &e);
}

int
tk_batch_parse(tk_batch *b, const tk_config *c, const uint8_t *body, size_t len, const char *ctype,
               const pm_xml_limits *lim, uint64_t received_ns)
{
	tki_ctx x = { .b = b, .c = c, .now = received_ns };
	size_t before = b->n;
	b->format = tk_detect(body, len, ctype);
	switch (b->format) {
	case TK_IN_XML:
		pm_xml_parse((const char *)body, len, lim, tki_sink, &x);
		break;
	case TK_IN_MT:
		pm_mt_parse((const char *)body, len, tki_sink, &x);
		break;
	case TK_IN_JSON: {
		json_error_t je;
		sc_token_request q;
		sc_err se;
		json_t *j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
		if (j == NULL) {
			char t[200];
			snprintf(t, sizeof t, "JSON line %d column %d: %s", je.line, je.column, je.text);
			tki_refuse(b, received_ns, "FF01", "json", t);
		} else if (sc_from_json(&SC_TOKEN_REQUEST, j, &q, &se) != 0) {
			tki_refuse(b, received_ns, "FF01", "token.request", se.text);
		} else {
			tk_batch_add_request(b, c, &q, received_ns);
		}
		json_decref(j);
		break;
	}
	default:
		tki_refuse(b, received_ns, "FF01", "body",
		           len == 0
		                   ? "empty body"
		                   : "neither ISO 20022 XML ('<'), SWIFT FIN ('{1:') nor a JSON token.request ('{\"')");
		break;
	}
	if (b->n == before && !b->oom)
		tki_refuse(b, received_ns, "FF01", "body", "no payment in the message");
	return b->oom ? -1 : (int)(b->n - before);
}

void
tk_batch_free(tk_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->items[i]);
	free(b->items);
	memset(b, 0, sizeof *b);
}

/* ---- token.request from the bus ------------------------------------------------------------------ */

int
tk_payment_from_request(const tk_config *c, const sc_token_request *q, pm_payment *p, pm_error *e)
{
	static const uint8_t zero[20];
	const tk_token *t = tk_token_for(c, q->currency);
	memset(p, 0, sizeof *p);
	p->format = PM_FMT_JSON;
	snprintf(p->msgdef, sizeof p->msgdef, "token.request");
	snprintf(p->msg_id, sizeof p->msg_id, "%.35s", q->message_ref[0] ? q->message_ref : "NOTPROVIDED");
	snprintf(p->end_to_end_id, sizeof p->end_to_end_id, "NOTPROVIDED");
	if (tk_is_uetr(q->idempotency_key)) {
		snprintf(p->uetr, sizeof p->uetr, "%.36s", q->idempotency_key);
	} else if (strlen(q->idempotency_key) > 30 || !q->idempotency_key[0]) {
		/* Not a UETR: it becomes the reference of the key "json/<date>/<ref>" (Max35Text). */
		pm_error_set(e, "FF01", "idempotency_key", 0, 0, "an idempotency_key is a UETR or 1..30 characters");
		return -1;
	} else {
		snprintf(p->instr_id, sizeof p->instr_id, "%.35s", q->idempotency_key);
		snprintf(p->instg_agent_bic, sizeof p->instg_agent_bic, "json");
	}
	snprintf(e->uetr, sizeof e->uetr, "%s", p->uetr);
	if (strlen(q->currency) != 3 || !pm_ccy_known(q->currency)) {
		pm_error_set(e, "AM03", "currency", 0, 0, "'%.31s' is not an ISO 4217 currency", q->currency);
		return -1;
	}
	memcpy(p->ccy, q->currency, 4);
	if (t && q->decimals != t->decimals) {
		pm_error_set(e, "AM03", "decimals", 0, 0, "the %s token has %u decimals, the request says %llu",
		             t->pool, t->decimals, (unsigned long long)q->decimals);
		return -1;
	}
	/* amount / 10^decimals as an exact decimal of at most 5 fraction digits and 18 digits. */
	u256 v = q->amount, ten18;
	uint64_t s = q->decimals;
	while (s > 0) {
		u256 qq;
		if (u256_divmod_u64(&qq, &v, 10) != 0)
			break;
		v = qq;
		s--;
	}
	u256_from_u64(&ten18, 1000000000000000000ull);
	if (s > (uint64_t)pm_ccy_minor_units(q->currency)) {
		pm_error_set(e, "AM03", "amount", 0, 0, "more fraction digits than %s has", q->currency);
		return -1;
	}
	if (u256_cmp(&v, &ten18) >= 0) {
		pm_error_set(e, "AM02", "amount", 0, 0, "not representable as a payment amount");
		return -1;
	}
	p->amount.units = u256_low64(&v);
	p->amount.scale = (uint8_t)s;
	if (strlen(q->debtor_account) >= PM_ACCT_CAP || strlen(q->creditor_account) >= PM_ACCT_CAP) {
		pm_error_set(e, "AC01", "creditor_account", 0, 0, "an account id has at most 34 characters");
		return -1;
	}
	snprintf(p->debtor_account, sizeof p->debtor_account, "%.34s", q->debtor_account);
	snprintf(p->creditor_account, sizeof p->creditor_account, "%.34s", q->creditor_account);
	tk_op op;
	if (tk_map(c, p, &op, e) != 0)
		return -1;
	/* What the sender says must match what the configuration decides: it never chooses addresses. */
	if (q->kind != op.kind || (memcmp(q->to, zero, 20) && memcmp(q->to, op.to, 20)) ||
	    (memcmp(q->from, zero, 20) && memcmp(q->from, op.from, 20))) {
		pm_error_set(e, "AG01", "kind", 0, 0, "the request's kind/from/to differ from the configured mapping");
		snprintf(e->uetr, sizeof e->uetr, "%s", p->uetr);
		return -1;
	}
	return 0;
}

int
tk_batch_add_request(tk_batch *b, const tk_config *c, const sc_token_request *q, uint64_t received_ns)
{
	tk_item *it = tki_push(b);
	if (it == NULL) {
		b->oom = 1;
		return -1;
	}
	it->received_ns = received_ns;
	if (tk_payment_from_request(c, q, &it->p, &it->err) != 0) {
		snprintf(it->err.msg_id, sizeof it->err.msg_id, "%.35s", q->message_ref);
		snprintf(it->err.msgdef, sizeof it->err.msgdef, "token.request");
		it->outcome = TK_REFUSED;
	} else {
		tk_prepare(c, it);
	}
	return 1;
}

/* ---- pacs.002 ------------------------------------------------------------------------------------ */

const char *
tk_tx_status(const tk_rec *r)
{
	switch (r->state) {
	case SC_TOKST_ACCEPTED:
		return "ACTC";
	case SC_TOKST_PENDING:
		return r->interim_error ? "PDNG" : "ACSP";
	case SC_TOKST_CONFIRMED:
		return "ACSC";
	default:
		return "RJCT";
	}
}

static void
tki_report_id(const uint8_t id[16], int state, char out[PM_ID_CAP])
{
	char hex[33];
	hex_encode(id, 16, 0, hex);
	/* Max35Text: "S" + state digit + 32 hex digits; one report id per payment and state. */
	snprintf(out, PM_ID_CAP, "S%c%.32s", (char)('0' + (state & 7)), hex);
}

int
tk_pacs002_rec(const tk_rec *r, char *out, size_t cap, char *err, size_t errlen)
{
	pm_status_report s;
	memset(&s, 0, sizeof s);
	tki_report_id(r->id, r->state, s.msg_id);
	snprintf(s.orgnl_msg_id, sizeof s.orgnl_msg_id, "%s", r->msg_id[0] ? r->msg_id : "NOTPROVIDED");
	snprintf(s.orgnl_msg_nm_id, sizeof s.orgnl_msg_nm_id, "%s", r->msgdef);
	snprintf(s.orgnl_instr_id, sizeof s.orgnl_instr_id, "%s", r->instr_id);
	snprintf(s.orgnl_end_to_end_id, sizeof s.orgnl_end_to_end_id, "%s", r->end_to_end_id);
	snprintf(s.orgnl_uetr, sizeof s.orgnl_uetr, "%s", r->uetr);
	snprintf(s.tx_sts, sizeof s.tx_sts, "%s", tk_tx_status(r));
	if (r->state == SC_TOKST_FAILED) {
		snprintf(s.reason, sizeof s.reason, "%.4s", r->reason[0] ? r->reason : "NARR");
		snprintf(s.addtl_inf, sizeof s.addtl_inf, "%s", r->error[0] ? r->error : "token operation failed");
	} else if (r->interim_error) {
		snprintf(s.addtl_inf, sizeof s.addtl_inf, "%s", r->error);
	}
	/* The report goes back: its instructing agent is the payment's instructed agent. */
	snprintf(s.instg_agt_bic, sizeof s.instg_agt_bic, "%s", r->instd_bic);
	snprintf(s.instd_agt_bic, sizeof s.instd_agt_bic, "%s", r->instg_bic);
	return pm_pacs002_write(&s, out, cap, err, errlen);
}

int
tk_pacs002_err(const pm_error *e, const char *instg_bic, const char *instd_bic, char *out, size_t cap, char *err,
               size_t errlen)
{
	pm_status_report s;
	uint8_t id[16];
	char seed[128];
	pm_status_from_error(&s, e);
	snprintf(seed, sizeof seed, "%s|%s|%s|%s|%u", e->msg_id, e->instr_id, e->uetr, e->reason, e->offset);
	tk_key_id(seed, id);
	tki_report_id(id, SC_TOKST_REJECTED, s.msg_id);
	if (!s.orgnl_msg_id[0])
		snprintf(s.orgnl_msg_id, sizeof s.orgnl_msg_id, "NOTPROVIDED");
	if (!s.orgnl_msg_nm_id[0])
		snprintf(s.orgnl_msg_nm_id, sizeof s.orgnl_msg_nm_id, "UNKNOWN");
	snprintf(s.instg_agt_bic, sizeof s.instg_agt_bic, "%s", instg_bic ? instg_bic : "");
	snprintf(s.instd_agt_bic, sizeof s.instd_agt_bic, "%s", instd_bic ? instd_bic : "");
	return pm_pacs002_write(&s, out, cap, err, errlen);
}

/* ---- JSON answers ------------------------------------------------------------------------------- */

static void
tki_kv(rt_buf *o, const char *k, const char *v, int comma)
{
	if (comma)
		rt_buf_puts(o, ",");
	rt_buf_json_str(o, k);
	rt_buf_puts(o, ":");
	rt_buf_json_str(o, v);
}

void
tk_rec_json(const tk_rec *r, rt_buf *o)
{
	static const char *const kinds[] = { "mint", "burn", "transfer", "bridge" };
	static const char *const fmts[] = { "", "pacs.008", "pain.001", "mt103", "json" };
	char hex[67], units[80], addr[43], num[24];
	hex_encode(r->id, 16, 0, hex);
	rt_buf_puts(o, "{");
	tki_kv(o, "id", hex, 0);
	tki_kv(o, "key", r->key, 1);
	tki_kv(o, "state", tk_state_name(r->state), 1);
	tki_kv(o, "tx_status", tk_tx_status(r), 1);
	tki_kv(o, "kind", r->kind < 4 ? kinds[r->kind] : "?", 1);
	tki_kv(o, "backend", tk_backend_name(r->backend), 1);
	tki_kv(o, "pool", r->pool, 1);
	tki_kv(o, "currency", r->ccy, 1);
	tki_kv(o, "amount", r->amount, 1);
	u256_to_dec(&r->units, units);
	tki_kv(o, "units", units, 1);
	snprintf(num, sizeof num, "%u", r->decimals);
	rt_buf_printf(o, ",\"decimals\":%s", num);
	static const uint8_t zero[20];
	if (memcmp(r->from, zero, 20)) {
		hex_addr_format(r->from, addr);
		tki_kv(o, "from", addr, 1);
	}
	if (memcmp(r->to, zero, 20)) {
		hex_addr_format(r->to, addr);
		tki_kv(o, "to", addr, 1);
	}
	tki_kv(o, "debtor_account", r->debtor_account, 1);
	tki_kv(o, "creditor_account", r->creditor_account, 1);
	tki_kv(o, "format", r->format <= PM_FMT_JSON ? fmts[r->format] : "?", 1);
	tki_kv(o, "msgdef", r->msgdef, 1);
	tki_kv(o, "msg_id", r->msg_id, 1);
	tki_kv(o, "instr_id", r->instr_id, 1);
	tki_kv(o, "end_to_end_id", r->end_to_end_id, 1);
	tki_kv(o, "uetr", r->uetr, 1);
	tki_kv(o, "value_date", r->value_date, 1);
	hex_encode(r->hash, 32, 1, hex);
	tki_kv(o, "content_hash", hex, 1);
	rt_buf_printf(o, ",\"accepted_at_ns\":%llu,\"updated_at_ns\":%llu", (unsigned long long)r->accepted_ns,
	              (unsigned long long)r->updated_ns);
	static const uint8_t z32[32];
	if (memcmp(r->tx_hash, z32, 32)) {
		hex_encode(r->tx_hash, 32, 1, hex);
		tki_kv(o, "tx_hash", hex, 1);
		rt_buf_printf(o, ",\"block_number\":%llu", (unsigned long long)r->block_number);
	}
	if (r->ff_tx_id[0])
		tki_kv(o, "firefly_tx_id", r->ff_tx_id, 1);
	if (r->reason[0])
		tki_kv(o, "reason", r->reason, 1);
	if (r->error[0])
		tki_kv(o, "error", r->error, 1);
	rt_buf_puts(o, "}");
}

static void
tki_err_json(const tk_item *it, rt_buf *o)
{
	const pm_error *e = &it->err;
	char xml[8192], perr[200];
	rt_buf_puts(o, "{");
	tki_kv(o, "state",
	       it->outcome == TK_CONFLICT      ? "conflict"
	       : it->outcome == TK_STORE_ERROR ? "not_stored"
	                                       : "rejected",
	       0);
	if (it->outcome == TK_CONFLICT) {
		char hex[33];
		hex_encode(it->id, 16, 0, hex);
		tki_kv(o, "id", hex, 1);
		tki_kv(o, "key", it->key, 1);
	}
	tki_kv(o, "reason", e->reason, 1);
	tki_kv(o, "field", e->field, 1);
	rt_buf_printf(o, ",\"line\":%u,\"offset\":%u", e->line, e->offset);
	tki_kv(o, "text", e->text, 1);
	if (e->msg_id[0])
		tki_kv(o, "msg_id", e->msg_id, 1);
	if (e->uetr[0])
		tki_kv(o, "uetr", e->uetr, 1);
	if (it->outcome != TK_STORE_ERROR) {
		if (tk_pacs002_err(e, it->p.instd_agent_bic, it->p.instg_agent_bic, xml, sizeof xml, perr,
		                   sizeof perr) >= 0)
			tki_kv(o, "pacs002", xml, 1);
		else
			tki_kv(o, "pacs002_error", perr, 1);
	}
	rt_buf_puts(o, "}");
}

int
tk_render(const tk_batch *b, rt_buf *o)
{
	int nnew = 0, ndup = 0, nconf = 0, nfmt = 0, nstore = 0;
	rt_buf_puts(o, "{");
	tki_kv(o, "format", tk_in_name(b->format), 0);
	rt_buf_puts(o, ",\"payments\":[");
	for (size_t i = 0; i < b->n; i++) {
		const tk_item *it = b->items[i];
		if (i)
			rt_buf_puts(o, ",");
		switch (it->outcome) {
		case TK_NEW:
		case TK_DUP:
			nnew += it->outcome == TK_NEW;
			ndup += it->outcome == TK_DUP;
			rt_buf_puts(o, "{");
			tki_kv(o, "result", it->outcome == TK_NEW ? "accepted" : "duplicate", 0);
			rt_buf_puts(o, ",\"payment\":");
			tk_rec_json(&it->rec, o);
			rt_buf_puts(o, "}");
			break;
		default:
			nconf += it->outcome == TK_CONFLICT;
			nstore += it->outcome == TK_STORE_ERROR;
			nfmt += strcmp(it->err.reason, "FF01") == 0;
			tki_err_json(it, o);
			break;
		}
	}
	rt_buf_puts(o, "]}\n");
	return nnew ? 202 : ndup ? 200 : nstore ? 503 : nconf ? 409 : nfmt ? 400 : 422;
}
