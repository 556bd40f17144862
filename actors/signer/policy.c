/*
 * policy.c - the signer's policy checks (see policy.h).
 */
#include "actors/signer/policy.h"

#include <stdio.h>
#include <string.h>

#include "base/rt_config.h"
#include "chain/abi.h"
#include "base/hex.h"

static const char *const sgp_names[SGP_NREASONS] = {
	[SGP_OK] = "ok",
	[SGP_CHAIN_ID] = "chain_id",
	[SGP_CONTRACT] = "contract",
	[SGP_SELECTOR] = "selector",
	[SGP_BELOW_MIN] = "below_min",
	[SGP_ABOVE_MAX] = "above_max",
	[SGP_MAX_CHANGE] = "max_change",
	[SGP_NEGATIVE] = "negative_answer",
	[SGP_VALUE] = "value",
	[SGP_GAS_LIMIT] = "gas_limit",
	[SGP_FEE_CAP] = "fee_cap",
	[SGP_ENCODE] = "encode",
	[SGP_BUMP_UNKNOWN] = "bump_unknown",
	[SGP_BUMP_NO_INCREASE] = "bump_no_increase",
};

const char *
sgp_reason_name(int reason)
{
	return reason >= 0 && reason < SGP_NREASONS ? sgp_names[reason] : "?";
}

void
sgp_free(sgp_policy *p)
{
	free(p->contracts);
	free(p->selectors);
	free(p->feeds);
	memset(p, 0, sizeof *p);
}

/* Room for one more element in *v (n used of *cap, each size bytes): doubles. 0 or -1. */
static int
sgp_grow(void *v, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? 2 * *cap : 8;
	void *nv = realloc(*(void **)v, nc * size);
	if (nv == NULL)
		return -1;
	*(void **)v = nv;
	*cap = nc;
	return 0;
}

int
sgp_add_contract(sgp_policy *p, const char *addr, char *err, size_t errlen)
{
	if (p->ncontracts == SGP_MAX_CONTRACTS) {
		snprintf(err, errlen, "more than %d allowed contracts", SGP_MAX_CONTRACTS);
		return -1;
	}
	if (sgp_grow(&p->contracts, p->ncontracts, &p->capcontracts, sizeof *p->contracts) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (hex_addr_parse(addr, strlen(addr), p->contracts[p->ncontracts]) != HEX_OK) {
		snprintf(err, errlen, "'%.60s' is not an address (0x + 40 hex digits, EIP-55 if mixed case)", addr);
		return -1;
	}
	p->ncontracts++;
	return 0;
}

int
sgp_add_selector(sgp_policy *p, const char *sel, char *err, size_t errlen)
{
	if (p->nselectors == SGP_MAX_SELECTORS) {
		snprintf(err, errlen, "more than %d allowed selectors", SGP_MAX_SELECTORS);
		return -1;
	}
	if (sgp_grow(&p->selectors, p->nselectors, &p->capselectors, sizeof *p->selectors) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	uint8_t *out = p->selectors[p->nselectors];
	if (strchr(sel, '(') != NULL) {
		abi_sig s;
		if (abi_parse_sig(&s, sel, NULL) != ABI_OK) {
			snprintf(err, errlen, "'%.60s' is not a Solidity function signature", sel);
			return -1;
		}
		memcpy(out, s.selector, 4);
	} else if (hex_decode_exact(sel, strlen(sel), out, 4) != HEX_OK) {
		snprintf(err, errlen, "'%.60s' is neither 0x + 8 hex digits nor a signature", sel);
		return -1;
	}
	p->nselectors++;
	return 0;
}

int
sgp_set_bound(char out[SGP_DEC_CAP], const char *dec, const char *what, char *err, size_t errlen)
{
	u256 v;
	size_t n = strlen(dec);
	if (n == 0) {
		out[0] = 0;
		return 0;
	}
	/* Syntax only here; the value is converted with each message's decimals. */
	if (n >= SGP_DEC_CAP || dec_to_fixed(dec, n, 0, &v, NULL) != 0) {
		snprintf(err, errlen, "%s: '%.40s' is not a decimal number", what, dec);
		return -1;
	}
	memcpy(out, dec, n + 1);
	return 0;
}

const sgp_feed *
sgp_feed_find(const sgp_policy *p, const char *feed)
{
	for (size_t i = 0; i < p->nfeeds; i++)
		if (strcmp(p->feeds[i].feed, feed) == 0)
			return &p->feeds[i];
	return NULL;
}

/* A bound may be written as a JSON string or integer. */
static int
sgp_json_bound(const json_t *o, const char *key, char out[SGP_DEC_CAP], const char *feed, char *err, size_t errlen)
{
	char what[80], buf[40];
	const json_t *v = json_object_get(o, key);
	snprintf(what, sizeof what, "feed %s: %s", feed, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
		return sgp_set_bound(out, buf, what, err, errlen);
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "%s: a decimal string is expected", what);
		return -1;
	}
	return sgp_set_bound(out, json_string_value(v), what, err, errlen);
}

static int
sgp_load_feed(sgp_policy *p, const json_t *o, size_t idx, char *err, size_t errlen)
{
	static const char *const known[] = { "feed",       "aggregator", "min_answer",  "max_answer",
		                             "max_change", "decimals",   "description", NULL };
	const char *key;
	const json_t *v;
	sgp_feed *f = &p->feeds[p->nfeeds];
	memset(f, 0, sizeof *f);
	if (!json_is_object(o)) {
		snprintf(err, errlen, "feeds[%zu]: an object is expected", idx);
		return -1;
	}
	json_object_foreach((json_t *)o, key, v)
	{
		size_t k = 0;
		while (known[k] && strcmp(known[k], key) != 0)
			k++;
		if (known[k] == NULL) {
			snprintf(err, errlen, "feeds[%zu]: unknown key '%.40s'", idx, key);
			return -1;
		}
	}
	const char *name = json_string_value(json_object_get(o, "feed"));
	if (name == NULL || name[0] == 0 || strlen(name) > SC_NAME_CAP) {
		snprintf(err, errlen, "feeds[%zu]: \"feed\" (a name up to %d bytes) is required", idx, SC_NAME_CAP);
		return -1;
	}
	if (sgp_feed_find(p, name) != NULL) {
		snprintf(err, errlen, "feeds[%zu]: feed %s listed twice", idx, name);
		return -1;
	}
	snprintf(f->feed, sizeof f->feed, "%s", name);
	if ((v = json_object_get(o, "aggregator")) != NULL) {
		const char *a = json_string_value(v);
		if (a == NULL || hex_addr_parse(a, strlen(a), f->aggregator) != HEX_OK) {
			snprintf(err, errlen, "feed %s: aggregator is not an address", name);
			return -1;
		}
		f->has_aggregator = 1;
	}
	if (sgp_json_bound(o, "min_answer", f->min_answer, name, err, errlen) != 0 ||
	    sgp_json_bound(o, "max_answer", f->max_answer, name, err, errlen) != 0)
		return -1;
	if ((v = json_object_get(o, "max_change")) != NULL) {
		char buf[40];
		const char *s = json_string_value(v);
		if (json_is_integer(v)) {
			snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
			s = buf;
		}
		if (s == NULL || rt_parse_ppm(s, &f->max_change_ppm) != 0) {
			snprintf(err, errlen, "feed %s: max_change is not a percent", name);
			return -1;
		}
		f->has_max_change = 1;
	}
	p->nfeeds++;
	return 0;
}

int
sgp_load_feeds(sgp_policy *p, const json_t *j, char *err, size_t errlen)
{
	if (json_is_object(j))
		j = json_object_get(j, "feeds");
	if (!json_is_array(j)) {
		snprintf(err, errlen, "a list of feeds (or {\"feeds\": [...]}) is expected");
		return -1;
	}
	if (p->nfeeds + json_array_size(j) > SGP_MAX_FEEDS) {
		snprintf(err, errlen, "%zu feeds, at most %d", p->nfeeds + json_array_size(j), SGP_MAX_FEEDS);
		return -1;
	}
	size_t want = p->nfeeds + json_array_size(j);
	sgp_feed *nf = want ? realloc(p->feeds, want * sizeof *nf) : p->feeds;
	if (want && nf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->feeds = nf;
	for (size_t i = 0; i < json_array_size(j); i++)
		if (sgp_load_feed(p, json_array_get(j, i), i, err, errlen) != 0)
			return -1;
	return 0;
}

static int
sgp_contract_allowed(const sgp_policy *p, const uint8_t to[20])
{
	for (size_t i = 0; i < p->ncontracts; i++)
		if (memcmp(p->contracts[i], to, 20) == 0)
			return 1;
	return 0;
}

int
sgp_change_exceeds(const u256 *next, const u256 *prev, uint64_t max_ppm)
{
	u256 diff, aprev;
	i256_absdiff(&diff, next, prev);
	i256_abs(&aprev, prev);
	/* |next - prev| * 10^6 > |prev| * max_ppm, compared on 320 bits so neither side wraps. */
	return u256_cmp_scaled(&diff, 1000000, &aprev, max_ppm) > 0;
}

/* Compares the answer with a decimal bound in its fixed point. bound "" = no bound (0 returned). */
static int
sgp_bound_cmp(const u256 *answer, const char *bound, uint64_t decimals, int *cmp)
{
	u256 b;
	if (bound[0] == 0)
		return 0;
	if (decimals > U256_MAX_DECIMALS || dec_to_fixed(bound, strlen(bound), (unsigned)decimals, &b, NULL) != 0)
		return -1;
	*cmp = i256_cmp(answer, &b);
	return 1;
}

/* The checks every kind of request shares. kind/name ("feed", "ETH-USD") start the detail, or
 * kind NULL for none; each returns SGP_OK or its reason with detail filled in. */
static int
sgp_check_chain(const sgp_policy *p, uint64_t chain_id, char *detail, size_t dlen)
{
	if (chain_id == p->chain_id)
		return SGP_OK;
	snprintf(detail, dlen, "chain id %llu, this signer signs for %llu", (unsigned long long)chain_id,
	         (unsigned long long)p->chain_id);
	return SGP_CHAIN_ID;
}

/* The gate's estimate (eth_estimateGas + margin); 0 = the signer's GAS_LIMIT. Capped so a
 * compromised or buggy gate cannot make the key pay for arbitrary gas. */
static int
sgp_check_gas(const sgp_policy *p, uint64_t gas_limit, const char *kind, const char *name, char *detail, size_t dlen)
{
	size_t n = 0;
	if (gas_limit <= p->max_gas_limit && (gas_limit == 0 || gas_limit >= SGP_GAS_MIN))
		return SGP_OK;
	if (kind) {
		int w = snprintf(detail, dlen, "%s %s: ", kind, name);
		n = w < 0 ? 0 : (size_t)w < dlen ? (size_t)w : dlen - 1;
	}
	if (gas_limit > p->max_gas_limit)
		snprintf(detail + n, dlen - n, "gas limit %llu above MAX_GAS_LIMIT %llu", (unsigned long long)gas_limit,
		         (unsigned long long)p->max_gas_limit);
	else
		snprintf(detail + n, dlen - n, "gas limit %llu below the %d any transaction costs",
		         (unsigned long long)gas_limit, SGP_GAS_MIN);
	return SGP_GAS_LIMIT;
}

int
sgp_check_update(const sgp_policy *p, const sc_price_update *u, const u256 *prev, char *detail, size_t dlen)
{
	char tmp[8];
	char a[80], b[80];
	const sgp_feed *f = sgp_feed_find(p, u->feed);
	const char *min = f && f->min_answer[0] ? f->min_answer : p->min_answer;
	const char *max = f && f->max_answer[0] ? f->max_answer : p->max_answer;
	uint64_t max_ppm = f && f->has_max_change ? f->max_change_ppm : p->max_change_ppm;
	int cmp = 0, rv;

	if (detail == NULL) {
		detail = tmp;
		dlen = sizeof tmp;
	}
	detail[0] = 0;
	if ((rv = sgp_check_chain(p, u->chain_id, detail, dlen)) != SGP_OK)
		return rv;
	if (f && f->has_aggregator ? memcmp(f->aggregator, u->contract, 20) != 0
	                           : !sgp_contract_allowed(p, u->contract)) {
		hex_addr_format(u->contract, a);
		snprintf(detail, dlen, "feed %s: contract %s is not allowed", u->feed, a);
		return SGP_CONTRACT;
	}
	if ((rv = sgp_check_gas(p, u->gas_limit, "feed", u->feed, detail, dlen)) != SGP_OK)
		return rv;
	/* the answer is rendered in decimal only for a refusal's detail: most checks pass */
	if ((rv = sgp_bound_cmp(&u->answer, min, u->decimals, &cmp)) != 0 && (rv < 0 || cmp < 0)) {
		i256_to_dec(&u->answer, a);
		snprintf(detail, dlen, "feed %s: answer %s below minimum %s (decimals %llu)", u->feed, a, min,
		         (unsigned long long)u->decimals);
		return SGP_BELOW_MIN;
	}
	if ((rv = sgp_bound_cmp(&u->answer, max, u->decimals, &cmp)) != 0 && (rv < 0 || cmp > 0)) {
		i256_to_dec(&u->answer, a);
		snprintf(detail, dlen, "feed %s: answer %s above maximum %s (decimals %llu)", u->feed, a, max,
		         (unsigned long long)u->decimals);
		return SGP_ABOVE_MAX;
	}
	if (prev && max_ppm && sgp_change_exceeds(&u->answer, prev, max_ppm)) {
		i256_to_dec(&u->answer, a);
		i256_to_dec(prev, b);
		snprintf(detail, dlen, "feed %s: answer %s changes more than %llu ppm from %s", u->feed, a,
		         (unsigned long long)max_ppm, b);
		return SGP_MAX_CHANGE;
	}
	return SGP_OK;
}

int
sgp_check_request(const sgp_policy *p, const sc_tx_request *r, char *detail, size_t dlen)
{
	char tmp[8], a[43];
	size_t i;
	int rv;
	if (detail == NULL) {
		detail = tmp;
		dlen = sizeof tmp;
	}
	detail[0] = 0;
	if ((rv = sgp_check_chain(p, r->chain_id, detail, dlen)) != SGP_OK)
		return rv;
	if (!sgp_contract_allowed(p, r->to)) {
		hex_addr_format(r->to, a);
		snprintf(detail, dlen, "contract %s is not allowed", a);
		return SGP_CONTRACT;
	}
	for (i = 0; i < p->nselectors; i++)
		if (r->data_len >= 4 && memcmp(p->selectors[i], r->data, 4) == 0)
			break;
	if (i == p->nselectors) {
		snprintf(detail, dlen, "selector %s is not allowed",
		         r->data_len >= 4 ? (hex_encode(r->data, 4, 1, a), a) : "(none)");
		return SGP_SELECTOR;
	}
	if (!u256_is_zero(&r->value)) {
		snprintf(detail, dlen, "calls carrying value are not signed");
		return SGP_VALUE;
	}
	return sgp_check_gas(p, r->gas_limit, NULL, NULL, detail, dlen);
}

int
sgp_check_batch(const sgp_policy *p, const sc_price_update *u, int call_has_round, int call_unsigned, char *detail,
                size_t dlen)
{
	char tmp[8], a[43];
	int rv;
	if (detail == NULL) {
		detail = tmp;
		dlen = sizeof tmp;
	}
	detail[0] = 0;
	if ((rv = sgp_check_chain(p, u->chain_id, detail, dlen)) != SGP_OK)
		return rv;
	/* The batch contract itself: only ALLOWED_CONTRACTS (never a feed's aggregator by default). */
	if (!sgp_contract_allowed(p, u->contract)) {
		hex_addr_format(u->contract, a);
		snprintf(detail, dlen, "batch %s: contract %s is not allowed", u->feed, a);
		return SGP_CONTRACT;
	}
	if (u->batch_count == 0 || u->batch_count > SC_BATCH_MAX ||
	    (u->batch_call != SC_BATCH_AGGREGATE3 && u->batch_call != SC_BATCH_UPDATE_ANSWERS)) {
		snprintf(detail, dlen, "batch %s: %u entries (1..%d) of call %d", u->feed, u->batch_count, SC_BATCH_MAX,
		         u->batch_call);
		return SGP_ENCODE;
	}
	if (u->batch_call == SC_BATCH_UPDATE_ANSWERS && (call_has_round || call_unsigned)) {
		snprintf(detail, dlen, "batch %s: updateAnswers calls updateAnswer(int256), not UPDATE_SIGNATURE",
		         u->feed);
		return SGP_ENCODE;
	}
	return sgp_check_gas(p, u->gas_limit, "batch", u->feed, detail, dlen);
}
