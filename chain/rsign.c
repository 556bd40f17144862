/*
 * rsign.c - the remote signer client (see rsign.h): one libcurl easy handle kept alive, the
 * answer parsed by chain/rpc's JSON-RPC envelope parser, then checked field by field.
 */
#include "chain/rsign.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "base/hex.h"
#include "base/rt_config.h"
#include "chain/rpc.h"

struct rs {
	CURL *h;
	struct curl_slist *headers;
	char *url;
	char name[128]; /* scheme://host:port */
	char method[40];
	uint8_t from[20];
	long long id;
	int backoff_ms;
	uint64_t down_until; /* monotonic ns: no calls before */
	char last[200];      /* the failure that started the back-off */
	char *buf;
	size_t len;
	int too_big;
};

static uint64_t
rs_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int rs_fail(int code, char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int
rs_fail(int code, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

static size_t
rs_write_cb(char *p, size_t sz, size_t nm, void *arg)
{
	rs *r = arg;
	size_t n = sz * nm;
	if (r->len + n > RS_MAX_RESPONSE) {
		r->too_big = 1;
		return 0;
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	return n;
}

rs *
rs_open(const char *url, const uint8_t from[20], const char *method, int timeout_ms, char *err, size_t errlen)
{
	char why[160];
	if (rt_check_http_url(url, why, sizeof why) != 0) {
		rs_fail(-1, err, errlen, "remote signer URL: %s", why);
		return NULL;
	}
	if (method == NULL || method[0] == 0)
		method = "eth_signTransaction";
	if (strcmp(method, "eth_signTransaction") != 0 && strcmp(method, "account_signTransaction") != 0) {
		rs_fail(-1, err, errlen,
		        "remote signer method '%.40s' is neither eth_signTransaction nor "
		        "account_signTransaction",
		        method);
		return NULL;
	}
	rs *r = calloc(1, sizeof *r);
	if (r == NULL || (r->buf = malloc(RS_MAX_RESPONSE + 1)) == NULL || (r->url = strdup(url)) == NULL ||
	    (r->h = curl_easy_init()) == NULL) {
		rs_fail(-1, err, errlen, "remote signer: out of memory");
		rs_close(r);
		return NULL;
	}
	memcpy(r->from, from, 20);
	snprintf(r->method, sizeof r->method, "%s", method);
	r->backoff_ms = 1000;
	/* the name: scheme://host[:port] without credentials or path */
	const char *s = strstr(url, "://"), *h = s + 3, *at, *end = h + strcspn(h, "/?#");
	if ((at = memchr(h, '@', (size_t)(end - h))) != NULL)
		h = at + 1;
	snprintf(r->name, sizeof r->name, "%.*s://%.*s", (int)(s - url), url, (int)(end - h), h);
	r->headers = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(r->h, CURLOPT_URL, r->url);
	curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, rs_write_cb);
	curl_easy_setopt(r->h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(r->h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(r->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(r->h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(r->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)RS_MAX_RESPONSE);
	return r;
}

void
rs_close(rs *r)
{
	if (r == NULL)
		return;
	if (r->h)
		curl_easy_cleanup(r->h);
	curl_slist_free_all(r->headers);
	free(r->url);
	free(r->buf);
	free(r);
}

void
rs_set_backoff_ms(rs *r, int ms)
{
	r->backoff_ms = ms > 0 ? ms : 0;
}
const char *
rs_endpoint(const rs *r)
{
	return r->name;
}

/* ---- the request ---------------------------------------------------------------------------- */

static json_t *
rs_qty_u64(uint64_t v)
{
	char b[24];
	snprintf(b, sizeof b, "0x%llx", (unsigned long long)v);
	return json_string(b);
}

static json_t *
rs_qty(const u256 *v)
{
	uint8_t be[32];
	char b[2 + 64 + 1];
	size_t i = 0;
	u256_to_be(v, be);
	while (i < 31 && be[i] == 0)
		i++;
	b[0] = '0';
	b[1] = 'x';
	hex_encode(be + i, 32 - i, 0, b + 2);
	char *p = b + 2;
	if (p[0] == '0' && p[1] != 0) /* no leading zero digit in a quantity */
		memmove(p, p + 1, strlen(p));
	return json_string(b);
}

static json_t *
rs_data(const uint8_t *d, size_t n)
{
	char *b = malloc(2 * n + 3);
	if (b == NULL)
		return NULL;
	b[0] = '0';
	b[1] = 'x';
	hex_encode(d, n, 0, b + 2);
	json_t *j = json_string(b);
	free(b);
	return j;
}

json_t *
rs_tx_json(const tx *t, const uint8_t from[20])
{
	char a[43];
	u256 zero;
	json_t *o = json_object();
	u256_zero(&zero);
	hex_addr_format(from, a);
	json_object_set_new(o, "from", json_string(a));
	if (t->has_to) {
		hex_addr_format(t->to, a);
		json_object_set_new(o, "to", json_string(a));
	}
	json_object_set_new(o, "gas", rs_qty_u64(t->gas_limit));
	if (t->type == TX_EIP1559) {
		json_object_set_new(o, "type", json_string("0x2"));
		json_object_set_new(o, "maxFeePerGas", rs_qty(&t->max_fee));
		json_object_set_new(o, "maxPriorityFeePerGas", rs_qty(&t->max_priority_fee));
	} else {
		json_object_set_new(o, "gasPrice", rs_qty(&t->gas_price));
	}
	json_object_set_new(o, "value", rs_qty(&t->value));
	json_object_set_new(o, "data", rs_data(t->data, t->data_len));
	json_object_set_new(o, "nonce", rs_qty_u64(t->nonce));
	json_object_set_new(o, "chainId", rs_qty_u64(t->chain_id));
	return o;
}

/* ---- the answer ----------------------------------------------------------------------------- */

int
rs_result_raw(const json_t *result, uint8_t *raw, size_t cap, size_t *n, char *err, size_t errlen)
{
	const json_t *v = result;
	if (json_is_object(result))
		v = json_object_get(result, "raw");
	if (!json_is_string(v))
		return rs_fail(-1, err, errlen, "the answer is neither a hex string nor an object with \"raw\"");
	const char *s = json_string_value(v);
	if (hex_decode(s, json_string_length(v), HEX_PREFIX_REQUIRED, raw, cap, n, NULL) != HEX_OK || *n == 0)
		return rs_fail(-1, err, errlen, "the raw transaction is not 0x-prefixed hex of at most %zu bytes", cap);
	return 0;
}

#define RS_DIFF(cond, field)                                                                                           \
	do {                                                                                                           \
		if (cond)                                                                                              \
			return rs_fail(RS_EMISMATCH, err, errlen, "remote signer returned another %s than asked",      \
			               field);                                                                         \
	} while (0)

int
rs_check(tx *want, const uint8_t from[20], const uint8_t *raw, size_t n, char *err, size_t errlen)
{
	tx got;
	tx_derr de;
	uint8_t sender[20], again[4096];
	size_t elen;
	int rv = tx_decode_at(raw, n, &got, &de);
	if (rv != TX_OK)
		return rs_fail(RS_EMISMATCH, err, errlen, "remote signer's raw tx does not decode: %s%s%s at byte %zu",
		               tx_strerror(rv), de.field ? ": " : "", de.field ? de.field : "", de.off);
	RS_DIFF(got.type != want->type, "transaction type");
	RS_DIFF(got.chain_id != want->chain_id, "chain id");
	RS_DIFF(got.nonce != want->nonce, "nonce");
	RS_DIFF(got.gas_limit != want->gas_limit, "gas limit");
	if (want->type == TX_EIP1559) {
		RS_DIFF(u256_cmp(&got.max_fee, &want->max_fee) != 0, "maxFeePerGas");
		RS_DIFF(u256_cmp(&got.max_priority_fee, &want->max_priority_fee) != 0, "maxPriorityFeePerGas");
	} else {
		RS_DIFF(u256_cmp(&got.gas_price, &want->gas_price) != 0, "gas price");
	}
	RS_DIFF(got.has_to != want->has_to || (want->has_to && memcmp(got.to, want->to, 20) != 0), "recipient (to)");
	RS_DIFF(u256_cmp(&got.value, &want->value) != 0, "value");
	RS_DIFF(got.data_len != want->data_len || (got.data_len && memcmp(got.data, want->data, got.data_len) != 0),
	        "calldata");
	RS_DIFF(got.access_list_len > 1 || (got.access_list_len == 1 && got.access_list[0] != 0xc0), "access list");
	if (!got.is_signed || tx_recover_sender(&got, sender) != TX_OK)
		return rs_fail(RS_EMISMATCH, err, errlen, "remote signer's tx has no valid signature");
	if (memcmp(sender, from, 20) != 0) {
		char a[43], b[43];
		hex_addr_format(sender, a);
		hex_addr_format(from, b);
		return rs_fail(RS_EMISMATCH, err, errlen, "remote signer signed as %s, not as the configured %s", a, b);
	}
	want->is_signed = 1;
	want->y_parity = got.y_parity;
	memcpy(want->r, got.r, 32);
	memcpy(want->s, got.s, 32);
	/* Our encoding of what we asked for, with its signature, must be the very bytes returned. */
	if (tx_encode(want, again, sizeof again, &elen) != TX_OK || elen != n || memcmp(again, raw, n) != 0) {
		want->is_signed = 0;
		return rs_fail(RS_EMISMATCH, err, errlen,
		               "remote signer's raw tx does not re-encode to the same bytes");
	}
	return RS_OK;
}

/* ---- the call ------------------------------------------------------------------------------- */

static int rs_down(rs *r, char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int
rs_down(rs *r, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->last, sizeof r->last, fmt, ap);
	va_end(ap);
	r->down_until = rs_mono_ns() + (uint64_t)r->backoff_ms * 1000000u;
	return rs_fail(RS_ETRANSPORT, err, errlen, "remote signer %s: %s", r->name, r->last);
}

int
rs_sign(rs *r, tx *t, char *err, size_t errlen)
{
	uint8_t raw[4096];
	size_t rawlen;
	if (r->down_until && rs_mono_ns() < r->down_until)
		return rs_fail(RS_ETRANSPORT, err, errlen, "remote signer %s: not asked again yet after: %s", r->name,
		               r->last);
	t->is_signed = 0;
	json_t *req = json_object();
	json_object_set_new(req, "jsonrpc", json_string("2.0"));
	json_object_set_new(req, "id", json_integer(++r->id));
	json_object_set_new(req, "method", json_string(r->method));
	json_object_set_new(req, "params", json_pack("[o]", rs_tx_json(t, r->from)));
	char *body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (body == NULL)
		return rs_fail(RS_ETRANSPORT, err, errlen, "remote signer: out of memory");
	r->len = 0;
	r->too_big = 0;
	curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(r->h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	CURLcode cc = curl_easy_perform(r->h);
	curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, NULL);
	free(body);
	long status = 0;
	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
	if (r->too_big)
		return rs_down(r, err, errlen, "answer larger than %u bytes", RS_MAX_RESPONSE);
	if (cc != CURLE_OK)
		return rs_down(r, err, errlen, "%s", curl_easy_strerror(cc));
	r->buf[r->len] = 0;
	json_t *result = NULL;
	rpc_error e;
	int rv = rpc_parse_response(r->buf, r->len, r->id, &result, &e);
	if (rv == RPC_ENODE) {
		r->down_until = 0;
		return rs_fail(RS_EREFUSED, err, errlen, "remote signer %s refused: %d %s", r->name, e.code, e.msg);
	}
	if (rv != RPC_OK)
		return rs_down(r, err, errlen, "HTTP %ld, not a JSON-RPC answer: %s", status, e.msg);
	r->down_until = 0;
	char why[160];
	rv = rs_result_raw(result, raw, sizeof raw, &rawlen, why, sizeof why);
	json_decref(result);
	if (rv != 0)
		return rs_fail(RS_EMISMATCH, err, errlen, "remote signer %s: %s", r->name, why);
	return rs_check(t, r->from, raw, rawlen, err, errlen);
}
