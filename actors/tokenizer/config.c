/* config.c - TOKEN_CONFIG loading and the payment -> token operation rule (see config.h). */
#include "actors/tokenizer/config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rt_config.h"
#include "base/hex.h"
#include "schemas/messages.h"

#define TKC_ALL_KINDS ((1u << SC_TOKEN_MINT) | (1u << SC_TOKEN_BURN) | (1u << SC_TOKEN_TRANSFER))

const char *
tk_backend_name(int backend)
{
	return backend == TK_BE_FIREFLY ? "firefly" : backend == TK_BE_ERC20 ? "erc20" : "";
}

void
tk_account_norm(const char *in, char out[PM_ACCT_CAP])
{
	size_t n = 0;
	for (; *in && n < PM_ACCT_CAP - 1; in++)
		if (*in != ' ')
			out[n++] = (char)toupper((unsigned char)*in);
	out[n] = '\0';
}

static int
tkc_acct_cmp(const void *a, const void *b)
{
	return strcmp(((const tk_account *)a)->id, ((const tk_account *)b)->id);
}

const tk_token *
tk_token_for(const tk_config *c, const char *ccy)
{
	for (size_t i = 0; i < c->ntokens; i++)
		if (strcmp(c->tokens[i].ccy, ccy) == 0)
			return &c->tokens[i];
	return NULL;
}

const tk_account *
tk_account_for(const tk_config *c, const char *id)
{
	tk_account k;
	if (id == NULL || !id[0])
		return NULL;
	tk_account_norm(id, k.id);
	return bsearch(&k, c->accounts, c->naccounts, sizeof k, tkc_acct_cmp);
}

int
tk_is_redemption(const tk_config *c, const char *id)
{
	char n[PM_ACCT_CAP];
	if (id == NULL || !id[0])
		return 0;
	tk_account_norm(id, n);
	for (size_t i = 0; i < c->nredemption; i++)
		if (strcmp(c->redemption[i], n) == 0)
			return 1;
	return 0;
}

void
tk_config_free(tk_config *c)
{
	if (c == NULL)
		return;
	free(c->tokens);
	free(c->accounts);
	free(c->redemption);
	free(c);
}

/* ---- loading -------------------------------------------------------------------------------- */

static int
tkc_only_keys(const json_t *o, const char *const *keys, const char *where, char *err, size_t errlen)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		int ok = 0;
		for (size_t i = 0; keys[i]; i++)
			ok |= strcmp(keys[i], k) == 0;
		if (!ok) {
			snprintf(err, errlen, "%s: unknown key '%.40s'", where, k);
			return -1;
		}
	}
	return 0;
}

static int
tkc_addr(const json_t *v, uint8_t out[20], const char *where, char *err, size_t errlen)
{
	static const uint8_t zero[20];
	const char *s = json_string_value(v);
	if (s == NULL || hex_addr_parse(s, strlen(s), out) != 0 || memcmp(out, zero, 20) == 0) {
		snprintf(err, errlen, "%s: not a non-zero 0x address (40 hex digits, EIP-55 checksum if mixed case)",
		         where);
		return -1;
	}
	return 0;
}

static int
tkc_token(const char *ccy, const json_t *o, tk_token *t, char *err, size_t errlen)
{
	static const char *const keys[] = { "backend", "pool", "address", "decimals", "operations", NULL };
	static const char *const kind_names[] = { "mint", "burn", "transfer" };
	char where[64];
	snprintf(where, sizeof where, "tokens.%.8s", ccy);
	memset(t, 0, sizeof *t);
	int minor = strlen(ccy) == 3 ? pm_ccy_minor_units(ccy) : -1;
	if (minor < 0) {
		snprintf(err, errlen, "%s: not an ISO 4217 currency with minor units", where);
		return -1;
	}
	memcpy(t->ccy, ccy, 4);
	t->minor = (unsigned)minor;
	if (!json_is_object(o)) {
		snprintf(err, errlen, "%s: expected an object", where);
		return -1;
	}
	if (tkc_only_keys(o, keys, where, err, errlen) != 0)
		return -1;
	const char *be = json_string_value(json_object_get(o, "backend"));
	if (be && strcmp(be, "firefly") == 0)
		t->backend = TK_BE_FIREFLY;
	else if (be && strcmp(be, "erc20") == 0)
		t->backend = TK_BE_ERC20;
	else {
		snprintf(err, errlen, "%s.backend: expected \"firefly\" or \"erc20\"", where);
		return -1;
	}
	json_t *d = json_object_get(o, "decimals");
	if (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > 77) {
		snprintf(err, errlen, "%s.decimals: expected an integer 0..77", where);
		return -1;
	}
	t->decimals = (unsigned)json_integer_value(d);
	if (t->decimals < t->minor) {
		snprintf(err, errlen,
		         "%s.decimals: %u is fewer than the %u minor units of %s: amounts could not be "
		         "represented exactly",
		         where, t->decimals, t->minor, ccy);
		return -1;
	}
	json_t *a = json_object_get(o, "address");
	if (a) {
		if (tkc_addr(a, t->address, where, err, errlen) != 0)
			return -1;
		t->has_address = 1;
	} else if (t->backend == TK_BE_ERC20) {
		snprintf(err, errlen, "%s.address: required for the erc20 backend", where);
		return -1;
	}
	const char *pool = json_string_value(json_object_get(o, "pool"));
	if (json_object_get(o, "pool") && (pool == NULL || !pool[0] || strlen(pool) >= sizeof t->pool)) {
		snprintf(err, errlen, "%s.pool: expected a name of 1..63 bytes", where);
		return -1;
	}
	if (pool == NULL && t->backend == TK_BE_FIREFLY) {
		snprintf(err, errlen, "%s.pool: required for the firefly backend (always name the pool)", where);
		return -1;
	}
	snprintf(t->pool, sizeof t->pool, "%s", pool ? pool : ccy);
	json_t *ops = json_object_get(o, "operations");
	t->kinds = TKC_ALL_KINDS;
	if (ops) {
		size_t i;
		json_t *v;
		t->kinds = 0;
		if (!json_is_array(ops))
			goto bad_ops;
		json_array_foreach(ops, i, v)
		{
			const char *s = json_string_value(v);
			int k = -1;
			for (int j = 0; j < 3 && s; j++)
				if (strcmp(s, kind_names[j]) == 0)
					k = j;
			if (k < 0)
				goto bad_ops;
			t->kinds |= 1u << k;
		}
	}
	return 0;
bad_ops:
	snprintf(err, errlen, "%s.operations: expected a list of \"mint\", \"burn\", \"transfer\"", where);
	return -1;
}

static int
tkc_account(const char *id, const json_t *v, tk_account *a, char *err, size_t errlen)
{
	static const char *const keys[] = { "address", "status", NULL };
	char where[64];
	snprintf(where, sizeof where, "accounts.%.34s", id);
	memset(a, 0, sizeof *a);
	if (strlen(id) >= PM_ACCT_CAP || !id[0]) {
		snprintf(err, errlen, "%s: an account id has 1..34 characters", where);
		return -1;
	}
	tk_account_norm(id, a->id);
	if (json_is_string(v))
		return tkc_addr(v, a->address, where, err, errlen);
	if (!json_is_object(v) || tkc_only_keys(v, keys, where, err, errlen) != 0) {
		if (!json_is_object(v))
			snprintf(err, errlen, "%s: expected an address or {address, status}", where);
		return -1;
	}
	if (tkc_addr(json_object_get(v, "address"), a->address, where, err, errlen) != 0)
		return -1;
	const char *st = json_string_value(json_object_get(v, "status"));
	if (st == NULL || strcmp(st, "open") == 0)
		a->status = TK_ACCT_OPEN;
	else if (strcmp(st, "closed") == 0)
		a->status = TK_ACCT_CLOSED;
	else if (strcmp(st, "blocked") == 0)
		a->status = TK_ACCT_BLOCKED;
	else {
		snprintf(err, errlen, "%s.status: expected open, closed or blocked", where);
		return -1;
	}
	return 0;
}

tk_config *
tk_config_from_json(const json_t *j, char *err, size_t errlen)
{
	static const char *const keys[] = { "tokens", "accounts", "redemption_accounts", NULL };
	tk_config *c = calloc(1, sizeof *c);
	const char *k;
	json_t *v;
	size_t i;

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!json_is_object(j)) {
		snprintf(err, errlen, "expected a JSON object");
		goto fail;
	}
	if (tkc_only_keys(j, keys, "TOKEN_CONFIG", err, errlen) != 0)
		goto fail;
	json_t *toks = json_object_get(j, "tokens"), *accts = json_object_get(j, "accounts");
	json_t *red = json_object_get(j, "redemption_accounts");
	if (!json_is_object(toks) || json_object_size(toks) == 0) {
		snprintf(err, errlen, "tokens: expected an object with at least one currency");
		goto fail;
	}
	if ((accts && !json_is_object(accts)) || (red && !json_is_array(red))) {
		snprintf(err, errlen, "accounts must be an object, redemption_accounts a list");
		goto fail;
	}
	c->tokens = calloc(json_object_size(toks), sizeof *c->tokens);
	c->accounts = calloc(accts ? json_object_size(accts) + 1 : 1, sizeof *c->accounts);
	c->redemption = calloc(red ? json_array_size(red) + 1 : 1, sizeof *c->redemption);
	if (!c->tokens || !c->accounts || !c->redemption) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	json_object_foreach(toks, k, v) if (tkc_token(k, v, &c->tokens[c->ntokens++], err, errlen) != 0) goto fail;
	if (accts)
		json_object_foreach(accts, k,
		                    v) if (tkc_account(k, v, &c->accounts[c->naccounts++], err, errlen) != 0) goto fail;
	qsort(c->accounts, c->naccounts, sizeof *c->accounts, tkc_acct_cmp);
	for (i = 1; i < c->naccounts; i++)
		if (strcmp(c->accounts[i - 1].id, c->accounts[i].id) == 0) {
			snprintf(err, errlen, "accounts.%s: listed twice (ids compare without spaces, any case)",
			         c->accounts[i].id);
			goto fail;
		}
	if (red)
		json_array_foreach(red, i, v)
		{
			const char *s = json_string_value(v);
			if (s == NULL || !s[0] || strlen(s) >= PM_ACCT_CAP) {
				snprintf(err, errlen,
				         "redemption_accounts[%zu]: expected an account id of 1..34 characters", i);
				goto fail;
			}
			if (tk_account_for(c, s)) {
				snprintf(err, errlen,
				         "redemption_accounts[%zu]: %.34s is also a mapped account: a payment "
				         "to it would be both a burn and a mint",
				         i, s);
				goto fail;
			}
			tk_account_norm(s, c->redemption[c->nredemption++]);
		}
	return c;
fail:
	tk_config_free(c);
	return NULL;
}

tk_config *
tk_config_load(const char *env_name, char *err, size_t errlen)
{
	char e2[256];
	json_t *j = rt_config_file(env_name, e2, sizeof e2);
	if (j == NULL) {
		snprintf(err, errlen, "%s", e2[0] ? e2 : "TOKEN_CONFIG: required (the currency/account mapping file)");
		return NULL;
	}
	tk_config *c = tk_config_from_json(j, e2, sizeof e2);
	json_decref(j);
	if (c == NULL)
		snprintf(err, errlen, "%s: %s", env_name, e2);
	return c;
}

/* ---- the rule --------------------------------------------------------------------------------- */

static int tkc_refuse(const pm_payment *p, pm_error *e, const char *reason, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

static int
tkc_refuse(const pm_payment *p, pm_error *e, const char *reason, const char *field, const char *fmt, ...)
{
	char text[sizeof e->text];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	pm_error_set(e, reason, field, p->line, p->offset, "%s", text);
	snprintf(e->msg_id, sizeof e->msg_id, "%s", p->msg_id);
	snprintf(e->instr_id, sizeof e->instr_id, "%s", p->instr_id);
	snprintf(e->end_to_end_id, sizeof e->end_to_end_id, "%s", p->end_to_end_id);
	snprintf(e->uetr, sizeof e->uetr, "%s", p->uetr);
	snprintf(e->msgdef, sizeof e->msgdef, "%s", p->msgdef);
	return -1;
}

/* An account the payment names and the configuration maps: open, or refused with AC04/AC06. */
static int
tkc_usable(const pm_payment *p, const tk_account *a, const char *field, pm_error *e)
{
	if (a->status == TK_ACCT_CLOSED)
		return tkc_refuse(p, e, "AC04", field, "account %s is closed", a->id);
	if (a->status == TK_ACCT_BLOCKED)
		return tkc_refuse(p, e, "AC06", field, "account %s is blocked", a->id);
	return 0;
}

int
tk_map(const tk_config *c, const pm_payment *p, tk_op *op, pm_error *e)
{
	memset(op, 0, sizeof *op);
	const tk_token *t = tk_token_for(c, p->ccy);
	if (t == NULL)
		return tkc_refuse(p, e, "AM03", "Ccy", "no token is configured for currency %s", p->ccy);
	if (p->amount.units == 0)
		return tkc_refuse(p, e, "AM01", "Amt", "zero amount");
	if (pm_amount_decimals(&p->amount) > t->minor)
		return tkc_refuse(p, e, "AM03", "Amt", "more fraction digits than the currency's minor units (%s)",
		                  p->ccy);
	if (pm_amount_to_token_units(&p->amount, t->minor, t->decimals, &op->units) != 0)
		return tkc_refuse(p, e, "AM02", "Amt", "amount does not fit the token's units (%s)", t->pool);
	op->token = t;

	const tk_account *d = tk_account_for(c, p->debtor_account);
	const tk_account *k = tk_account_for(c, p->creditor_account);
	if (tk_is_redemption(c, p->creditor_account)) {
		if (tk_is_redemption(c, p->debtor_account))
			return tkc_refuse(p, e, "AG01", "DbtrAcct", "payment between redemption accounts (%s)",
			                  p->debtor_account);
		if (!p->debtor_account[0])
			return tkc_refuse(p, e, "AC01", "DbtrAcct", "a redemption needs the debtor's account");
		if (d == NULL)
			return tkc_refuse(p, e, "AC01", "DbtrAcct",
			                  "debtor account %s is not mapped to a chain address", p->debtor_account);
		if (tkc_usable(p, d, "DbtrAcct", e) != 0)
			return -1;
		op->kind = SC_TOKEN_BURN;
		memcpy(op->from, d->address, 20);
	} else if (k != NULL) {
		if (tkc_usable(p, k, "CdtrAcct", e) != 0)
			return -1;
		if (d != NULL) {
			if (tkc_usable(p, d, "DbtrAcct", e) != 0)
				return -1;
			op->kind = SC_TOKEN_TRANSFER;
			memcpy(op->from, d->address, 20);
		} else {
			op->kind = SC_TOKEN_MINT;
		}
		memcpy(op->to, k->address, 20);
	} else if (!p->creditor_account[0]) {
		return tkc_refuse(p, e, "AC01", "CdtrAcct", "no creditor account");
	} else {
		return tkc_refuse(p, e, "AC01", "CdtrAcct",
		                  "creditor account %s is neither mapped to a chain address "
		                  "nor a redemption account",
		                  p->creditor_account);
	}
	if (!(t->kinds & (1u << op->kind)))
		return tkc_refuse(p, e, "AG01", "Ccy", "the %s token does not allow this operation", t->pool);
	return 0;
}
