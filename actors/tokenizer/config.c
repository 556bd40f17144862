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

/* Where problems go: every one is added to e as "<env>: <JSON path>: what", so a file with several
 * mistakes is fixed in one round. */
typedef struct {
	rt_cfg_errs *e;
	const char *env;
} tkc_ctx;

static void tkc_err(tkc_ctx *x, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
tkc_err(tkc_ctx *x, const char *path, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	rt_config_error(x->e, x->env, "%s: %s", path, msg);
}

static void
tkc_only_keys(tkc_ctx *x, const json_t *o, const char *const *keys, const char *where)
{
	const char *k;
	json_t *v;
	char path[128];
	json_object_foreach((json_t *)o, k, v)
	{
		int ok = 0;
		for (size_t i = 0; keys[i]; i++)
			ok |= strcmp(keys[i], k) == 0;
		if (!ok) {
			snprintf(path, sizeof path, "%s.%.40s", where, k);
			tkc_err(x, path, "unknown key");
		}
	}
}

static int
tkc_addr(tkc_ctx *x, const json_t *v, uint8_t out[20], const char *where)
{
	static const uint8_t zero[20];
	const char *s = json_string_value(v);
	if (s == NULL || hex_addr_parse(s, strlen(s), out) != 0 || memcmp(out, zero, 20) == 0) {
		tkc_err(x, where, "not a non-zero 0x address (40 hex digits, EIP-55 checksum if mixed case)");
		return -1;
	}
	return 0;
}

static void
tkc_token(tkc_ctx *x, const char *ccy, const json_t *o, tk_token *t)
{
	static const char *const keys[] = { "backend", "pool", "address", "decimals", "operations", NULL };
	static const char *const kind_names[] = { "mint", "burn", "transfer" };
	char where[64], path[128];
	snprintf(where, sizeof where, "tokens.%.8s", ccy);
	memset(t, 0, sizeof *t);
	int minor = strlen(ccy) == 3 ? pm_ccy_minor_units(ccy) : -1;
	if (minor < 0)
		tkc_err(x, where, "not an ISO 4217 currency with minor units");
	else
		memcpy(t->ccy, ccy, 4);
	t->minor = minor < 0 ? 0 : (unsigned)minor;
	if (!json_is_object(o)) {
		tkc_err(x, where, "expected an object");
		return;
	}
	tkc_only_keys(x, o, keys, where);
	const char *be = json_string_value(json_object_get(o, "backend"));
	snprintf(path, sizeof path, "%s.backend", where);
	if (be && strcmp(be, "firefly") == 0)
		t->backend = TK_BE_FIREFLY;
	else if (be && strcmp(be, "erc20") == 0)
		t->backend = TK_BE_ERC20;
	else
		tkc_err(x, path, "expected \"firefly\" or \"erc20\"");
	json_t *d = json_object_get(o, "decimals");
	snprintf(path, sizeof path, "%s.decimals", where);
	if (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > 77) {
		tkc_err(x, path, "expected an integer 0..77");
	} else {
		t->decimals = (unsigned)json_integer_value(d);
		if (minor >= 0 && t->decimals < t->minor)
			tkc_err(x, path,
			        "%u is fewer than the %u minor units of %s: amounts could not be represented exactly",
			        t->decimals, t->minor, ccy);
	}
	json_t *a = json_object_get(o, "address");
	snprintf(path, sizeof path, "%s.address", where);
	if (a)
		t->has_address = tkc_addr(x, a, t->address, path) == 0;
	else if (t->backend == TK_BE_ERC20)
		tkc_err(x, path, "required for the erc20 backend");
	const char *pool = json_string_value(json_object_get(o, "pool"));
	snprintf(path, sizeof path, "%s.pool", where);
	if (json_object_get(o, "pool") && (pool == NULL || !pool[0] || strlen(pool) >= sizeof t->pool))
		tkc_err(x, path, "expected a name of 1..63 bytes");
	else if (pool == NULL && t->backend == TK_BE_FIREFLY)
		tkc_err(x, path, "required for the firefly backend (always name the pool)");
	snprintf(t->pool, sizeof t->pool, "%s", pool && strlen(pool) < sizeof t->pool ? pool : ccy);
	json_t *ops = json_object_get(o, "operations");
	t->kinds = TKC_ALL_KINDS;
	if (ops) {
		size_t i;
		json_t *v;
		t->kinds = 0;
		snprintf(path, sizeof path, "%s.operations", where);
		if (!json_is_array(ops))
			tkc_err(x, path, "expected a list of \"mint\", \"burn\", \"transfer\"");
		json_array_foreach(ops, i, v)
		{
			const char *s = json_string_value(v);
			int k = -1;
			for (int j = 0; j < 3 && s; j++)
				if (strcmp(s, kind_names[j]) == 0)
					k = j;
			if (k < 0) {
				snprintf(path, sizeof path, "%s.operations[%zu]", where, i);
				tkc_err(x, path, "expected \"mint\", \"burn\" or \"transfer\"");
			} else {
				t->kinds |= 1u << k;
			}
		}
	}
}

static void
tkc_account(tkc_ctx *x, const char *id, const json_t *v, tk_account *a)
{
	static const char *const keys[] = { "address", "status", NULL };
	char where[64], path[128];
	snprintf(where, sizeof where, "accounts.%.34s", id);
	memset(a, 0, sizeof *a);
	if (strlen(id) >= PM_ACCT_CAP || !id[0])
		tkc_err(x, where, "an account id has 1..34 characters");
	tk_account_norm(id, a->id);
	if (json_is_string(v)) {
		tkc_addr(x, v, a->address, where);
		return;
	}
	if (!json_is_object(v)) {
		tkc_err(x, where, "expected an address or {address, status}");
		return;
	}
	tkc_only_keys(x, v, keys, where);
	snprintf(path, sizeof path, "%s.address", where);
	tkc_addr(x, json_object_get(v, "address"), a->address, path);
	const char *st = json_string_value(json_object_get(v, "status"));
	json_t *stv = json_object_get(v, "status");
	snprintf(path, sizeof path, "%s.status", where);
	if (stv == NULL || (st && strcmp(st, "open") == 0))
		a->status = TK_ACCT_OPEN;
	else if (st && strcmp(st, "closed") == 0)
		a->status = TK_ACCT_CLOSED;
	else if (st && strcmp(st, "blocked") == 0)
		a->status = TK_ACCT_BLOCKED;
	else
		tkc_err(x, path, "expected open, closed or blocked");
}

tk_config *
tk_config_parse(const json_t *j, const char *env, rt_cfg_errs *e)
{
	static const char *const keys[] = { "tokens", "accounts", "redemption_accounts", NULL };
	tkc_ctx x = { e, env };
	unsigned before = e->n;
	tk_config *c = calloc(1, sizeof *c);
	const char *k;
	json_t *v;
	size_t i;
	char path[96];

	if (c == NULL) {
		rt_config_error(e, env, "out of memory");
		return NULL;
	}
	if (!json_is_object(j)) {
		tkc_err(&x, "$", "expected a JSON object");
		goto fail;
	}
	tkc_only_keys(&x, j, keys, "$");
	json_t *toks = json_object_get(j, "tokens"), *accts = json_object_get(j, "accounts");
	json_t *red = json_object_get(j, "redemption_accounts");
	if (!json_is_object(toks) || json_object_size(toks) == 0) {
		tkc_err(&x, "tokens", "expected an object with at least one currency");
		toks = NULL;
	}
	if (accts && !json_is_object(accts)) {
		tkc_err(&x, "accounts", "expected an object (account id -> address)");
		accts = NULL;
	}
	if (red && !json_is_array(red)) {
		tkc_err(&x, "redemption_accounts", "expected a list of account ids");
		red = NULL;
	}
	c->tokens = calloc(toks ? json_object_size(toks) : 1, sizeof *c->tokens);
	c->accounts = calloc(accts ? json_object_size(accts) + 1 : 1, sizeof *c->accounts);
	c->redemption = calloc(red ? json_array_size(red) + 1 : 1, sizeof *c->redemption);
	if (!c->tokens || !c->accounts || !c->redemption) {
		rt_config_error(e, env, "out of memory");
		goto fail;
	}
	if (toks)
		json_object_foreach(toks, k, v) tkc_token(&x, k, v, &c->tokens[c->ntokens++]);
	if (accts)
		json_object_foreach(accts, k, v) tkc_account(&x, k, v, &c->accounts[c->naccounts++]);
	qsort(c->accounts, c->naccounts, sizeof *c->accounts, tkc_acct_cmp);
	for (i = 1; i < c->naccounts; i++)
		if (c->accounts[i].id[0] && strcmp(c->accounts[i - 1].id, c->accounts[i].id) == 0) {
			snprintf(path, sizeof path, "accounts.%s", c->accounts[i].id);
			tkc_err(&x, path, "listed twice (ids compare without spaces, any case)");
		}
	if (red)
		json_array_foreach(red, i, v)
		{
			const char *s = json_string_value(v);
			snprintf(path, sizeof path, "redemption_accounts[%zu]", i);
			if (s == NULL || !s[0] || strlen(s) >= PM_ACCT_CAP) {
				tkc_err(&x, path, "expected an account id of 1..34 characters");
				continue;
			}
			if (tk_account_for(c, s)) {
				tkc_err(&x, path,
				        "%.34s is also a mapped account: a payment to it would be both a burn and a "
				        "mint",
				        s);
				continue;
			}
			tk_account_norm(s, c->redemption[c->nredemption++]);
		}
	if (e->n == before)
		return c;
fail:
	tk_config_free(c);
	return NULL;
}

tk_config *
tk_config_from_json(const json_t *j, char *err, size_t errlen)
{
	rt_cfg_errs e = { err, errlen, 0 };
	if (err && errlen)
		err[0] = '\0';
	return tk_config_parse(j, NULL, &e);
}

tk_config *
tk_config_load(const char *env_name, rt_cfg_errs *e)
{
	const char *path = getenv(env_name);
	if (path == NULL || !*path) {
		rt_config_error(e, env_name, "required (the currency/account mapping file)");
		return NULL;
	}
	json_t *j = rt_config_json(e, env_name);
	if (j == NULL)
		return NULL;
	tk_config *c = tk_config_parse(j, env_name, e);
	json_decref(j);
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
