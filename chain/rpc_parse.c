/* rpc_parse.c - decoding JSON-RPC answers: the envelope (id, error, result) strictly, with jansson or
 * jscan, and the quantities, byte strings, receipts and blocks inside it (see rpc.h). */
#include "chain/rpc.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"

/* ---- decoding ------------------------------------------------------------------------------ */
int
rpc_parse_u256(const json_t *v, u256 *out)
{
	if (!json_is_string(v))
		return -1;
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -1;
	s += 2, n -= 2;
	while (n > 1 && s[0] == '0') /* leading zeros are non-canonical but harmless */
		s++, n--;
	if (n > 64)
		return -1;
	uint8_t be[32] = { 0 };
	for (size_t i = 0; i < n; i++) {
		int d = hex_digit(s[n - 1 - i]);
		if (d < 0)
			return -1;
		be[31 - i / 2] |= (uint8_t)(i % 2 ? d << 4 : d);
	}
	return u256_from_be(out, be, 32) == 0 ? 0 : -1;
}

int
rpc_parse_u64(const json_t *v, uint64_t *out)
{
	u256 x;
	if (rpc_parse_u256(v, &x) != 0 || !u256_fits_u64(&x))
		return -1;
	*out = u256_low64(&x);
	return 0;
}

int
rpc_parse_bytes(const json_t *v, uint8_t *out, size_t n)
{
	if (!json_is_string(v))
		return -1;
	const char *s = json_string_value(v);
	size_t l = json_string_length(v);
	if (l < 2 || s[0] != '0' || s[1] != 'x')
		return -1;
	return hex_decode_exact(s + 2, l - 2, out, n) == HEX_OK ? 0 : -1;
}

int
rpc_parse_receipt(const json_t *v, rpc_receipt *rc)
{
	if (!json_is_object(v))
		return -1;
	memset(rc, 0, sizeof *rc);
	if (rpc_parse_bytes(json_object_get(v, "transactionHash"), rc->tx_hash, 32) != 0 ||
	    rpc_parse_u64(json_object_get(v, "blockNumber"), &rc->block_number) != 0 ||
	    rpc_parse_bytes(json_object_get(v, "blockHash"), rc->block_hash, 32) != 0 ||
	    rpc_parse_u64(json_object_get(v, "gasUsed"), &rc->gas_used) != 0)
		return -1;
	const json_t *st = json_object_get(v, "status");
	uint64_t s;
	if (!st || json_is_null(st))
		rc->status = -1;
	else if (rpc_parse_u64(st, &s) == 0 && s <= 1)
		rc->status = (int)s;
	else
		return -1;
	const json_t *egp = json_object_get(v, "effectiveGasPrice"); /* absent before London on some nodes */
	if (egp && !json_is_null(egp) && rpc_parse_u256(egp, &rc->effective_gas_price) != 0)
		return -1;
	const json_t *ca = json_object_get(v, "contractAddress");
	if (ca && !json_is_null(ca) && rpc_parse_bytes(ca, rc->contract, 20) != 0)
		return -1;
	return 0;
}

int
rpc_parse_block(const json_t *v, rpc_block *b)
{
	if (!json_is_object(v))
		return -1;
	memset(b, 0, sizeof *b);
	if (rpc_parse_u64(json_object_get(v, "number"), &b->number) != 0 ||
	    rpc_parse_bytes(json_object_get(v, "hash"), b->hash, 32) != 0 ||
	    rpc_parse_bytes(json_object_get(v, "parentHash"), b->parent_hash, 32) != 0 ||
	    rpc_parse_u64(json_object_get(v, "timestamp"), &b->timestamp) != 0 ||
	    rpc_parse_u64(json_object_get(v, "gasLimit"), &b->gas_limit) != 0)
		return -1;
	const json_t *bf = json_object_get(v, "baseFeePerGas");
	if (bf && !json_is_null(bf)) {
		if (rpc_parse_u256(bf, &b->base_fee_per_gas) != 0)
			return -1;
		b->has_base_fee = 1;
	}
	return 0;
}

/* The envelope of one response object (root), as rpc_parse_response checks it. RPC_OK with a new
 * reference in *result, RPC_ENODE, or RPC_EDECODE. */
static int
rpc_parse_envelope(const json_t *root, long long expect_id, json_t **result, rpc_error *e)
{
	*result = NULL;
	if (!json_is_object(root)) {
		rpc_seterr(e, RPC_T_DECODE, 0, "response is not a JSON object");
		return RPC_EDECODE;
	}
	const json_t *id = json_object_get(root, "id");
	if (expect_id >= 0 && (!json_is_integer(id) || json_integer_value(id) != expect_id)) {
		rpc_seterr(e, RPC_T_DECODE, 0, "response id does not match the request");
		return RPC_EDECODE;
	}
	const json_t *err = json_object_get(root, "error");
	if (err && !json_is_null(err)) {
		const json_t *code = json_object_get(err, "code"), *msg = json_object_get(err, "message");
		if (!json_is_object(err) || !json_is_integer(code)) {
			rpc_seterr(e, RPC_T_DECODE, 0, "malformed error object");
			return RPC_EDECODE;
		}
		rpc_seterr(e, RPC_T_NONE, (int)json_integer_value(code), "%s",
		           json_is_string(msg) ? json_string_value(msg) : "");
		const json_t *data = json_object_get(err, "data");
		if (e && json_is_string(data) && json_string_length(data) < sizeof e->data)
			memcpy(e->data, json_string_value(data), json_string_length(data) + 1);
		return RPC_ENODE;
	}
	json_t *res = json_object_get(root, "result");
	if (!res) {
		rpc_seterr(e, RPC_T_DECODE, 0, "response has neither result nor error");
		return RPC_EDECODE;
	}
	*result = json_incref(res);
	return RPC_OK;
}

int
rpc_parse_response(const char *body, size_t len, long long expect_id, json_t **result, rpc_error *e)
{
	json_error_t je;
	*result = NULL;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		rpc_seterr(e, RPC_T_DECODE, 0, "response is not JSON: %s", je.text);
		return RPC_EDECODE;
	}
	int rc = rpc_parse_envelope(root, expect_id, result, e);
	json_decref(root);
	return rc;
}

/* Sets every call of a batch to rc with no result; the error text is why. */
static void
rpc_batch_reset(rpc_batch_call *calls, size_t n, int rc, const rpc_error *why)
{
	for (size_t i = 0; i < n; i++) {
		json_decref(calls[i].result);
		calls[i].result = NULL;
		calls[i].rc = rc;
		if (why)
			calls[i].e = *why;
		else
			rpc_seterr(&calls[i].e, RPC_T_DECODE, 0, "no answer to this call in the batch");
	}
}

int
rpc_parse_batch(const char *body, size_t len, long long first_id, rpc_batch_call *calls, size_t n, rpc_error *e)
{
	json_error_t je;
	int rc = RPC_EDECODE;
	rpc_batch_reset(calls, n, RPC_EDECODE, NULL);
	if (n == 0 || n > RPC_BATCH_MAX || first_id < 0 || first_id > LLONG_MAX - (long long)n) {
		rpc_seterr(e, RPC_T_DECODE, 0, "batch of %zu calls: outside 1..%d", n, RPC_BATCH_MAX);
		return RPC_EDECODE;
	}
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		rpc_seterr(e, RPC_T_DECODE, 0, "response is not JSON: %s", je.text);
		return RPC_EDECODE;
	}
	if (json_is_object(root)) {
		/* One object for a whole batch: a server without batches says so with an error (an id of
		 * null, as JSON-RPC 2.0 answers a request it cannot read). A result here answers nothing
		 * we asked. */
		json_t *res;
		int r1 = rpc_parse_envelope(root, -1, &res, e);
		json_decref(res);
		if (r1 == RPC_ENODE)
			rc = RPC_ENOBATCH;
		else if (r1 == RPC_OK)
			rpc_seterr(e, RPC_T_DECODE, 0, "one result answers a batch request");
		goto out;
	}
	if (!json_is_array(root)) {
		rpc_seterr(e, RPC_T_DECODE, 0, "batch response is not a JSON array");
		goto out;
	}
	if (json_array_size(root) > n) {
		rpc_seterr(e, RPC_T_DECODE, 0, "batch response has %zu answers for %zu calls", json_array_size(root),
		           n);
		goto out;
	}
	uint8_t seen[RPC_BATCH_MAX] = { 0 };
	size_t i;
	json_t *el;
	json_array_foreach(root, i, el)
	{
		if (!json_is_object(el)) {
			rpc_seterr(e, RPC_T_DECODE, 0, "batch answer %zu is not a JSON object", i);
			goto fail;
		}
		const json_t *id = json_object_get(el, "id");
		if (json_is_null(id) || !id)
			continue; /* unattributable: its call stays without an answer */
		if (!json_is_integer(id) || json_integer_value(id) < first_id ||
		    json_integer_value(id) - first_id >= (json_int_t)n) {
			rpc_seterr(e, RPC_T_DECODE, 0, "batch answer %zu: id is not one of the request's", i);
			goto fail;
		}
		size_t k = (size_t)(json_integer_value(id) - first_id);
		if (seen[k]) {
			rpc_seterr(e, RPC_T_DECODE, 0, "batch answer %zu: id answered twice", i);
			goto fail;
		}
		seen[k] = 1;
		calls[k].rc = rpc_parse_envelope(el, -1, &calls[k].result, &calls[k].e);
	}
	rc = RPC_OK;
	goto out;
fail:
	rpc_batch_reset(calls, n, RPC_EDECODE, NULL);
out:
	json_decref(root);
	return rc;
}

/* An integer as jansson reads one (no fraction or exponent, fits a json_int_t). 0 or -1. */
static int
rpc_js_int(const js_val *v, long long *out)
{
	if (v->type != JS_NUMBER || memchr(v->p, '.', v->n) || memchr(v->p, 'e', v->n) || memchr(v->p, 'E', v->n))
		return -1;
	const char *p = v->p;
	size_t i = 0;
	int neg = 0;
	unsigned long long x = 0, lim = (unsigned long long)LLONG_MAX;
	if (p[0] == '-')
		neg = 1, i = 1, lim += 1;
	for (; i < v->n; i++) {
		unsigned d = (unsigned)(p[i] - '0');
		if (d > 9 || x > (lim - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*out = neg ? (x == lim ? LLONG_MIN : -(long long)x) : (long long)x;
	return 0;
}

/* The named members of object o (first occurrence each); -1 when one of them appears twice. */
static int
rpc_js_members(const js_val *o, const char *const *names, js_val *out, size_t n)
{
	js_iter it;
	js_val k, v;
	for (size_t i = 0; i < n; i++)
		out[i].type = JS_NONE;
	js_iter_init(&it, o);
	while (js_iter_next(&it, &k, &v))
		for (size_t i = 0; i < n; i++)
			if (js_key_eq(&k, names[i])) {
				if (out[i].type != JS_NONE)
					return -1;
				out[i] = v;
				break;
			}
	return 0;
}

int
rpc_parse_response_raw(const char *body, size_t len, long long expect_id, js_val *result, rpc_error *e)
{
	static const char *const env_names[] = { "jsonrpc", "id", "result", "error" };
	static const char *const err_names[] = { "code", "message", "data" };
	js_val root, m[4], em[3];
	size_t off;
	const char *why;
	long long id;
	result->type = JS_NONE;
	result->p = NULL;
	result->n = 0;
	if (js_validate(body, len, &off, &why) != 0) {
		rpc_seterr(e, RPC_T_DECODE, 0, "response is not JSON: %s at byte %zu", why, off);
		return RPC_EDECODE;
	}
	/* the validated document's root, without scanning it again (js_find would) */
	size_t b0 = 0, b1 = len;
	while (b0 < len && (body[b0] == ' ' || body[b0] == '\t' || body[b0] == '\n' || body[b0] == '\r'))
		b0++;
	while (b1 > b0 && (body[b1 - 1] == ' ' || body[b1 - 1] == '\t' || body[b1 - 1] == '\n' || body[b1 - 1] == '\r'))
		b1--;
	root.type = body[b0] == '{' ? JS_OBJECT : JS_NONE;
	root.p = body + b0;
	root.n = b1 - b0;
	if (root.type != JS_OBJECT) {
		rpc_seterr(e, RPC_T_DECODE, 0, "response is not a JSON object");
		return RPC_EDECODE;
	}
	if (rpc_js_members(&root, env_names, m, 4) != 0) {
		rpc_seterr(e, RPC_T_DECODE, 0, "response is not JSON: duplicate object key");
		return RPC_EDECODE;
	}
	if (expect_id >= 0 && (rpc_js_int(&m[1], &id) != 0 || id != expect_id)) {
		rpc_seterr(e, RPC_T_DECODE, 0, "response id does not match the request");
		return RPC_EDECODE;
	}
	if (m[3].type != JS_NONE && m[3].type != JS_NULL) {
		long long code;
		if (m[3].type != JS_OBJECT || rpc_js_members(&m[3], err_names, em, 3) != 0 ||
		    rpc_js_int(&em[0], &code) != 0) {
			rpc_seterr(e, RPC_T_DECODE, 0, "malformed error object");
			return RPC_EDECODE;
		}
		char msg[sizeof e->msg], *big = NULL;
		const char *text = "";
		if (em[1].type == JS_STRING) {
			if (js_string(&em[1], msg, sizeof msg) >= 0)
				text = msg;
			else if ((big = malloc(em[1].n)) != NULL && js_string(&em[1], big, em[1].n) >= 0)
				text = big; /* longer than e->msg: truncated below, as before */
		}
		rpc_seterr(e, RPC_T_NONE, (int)code, "%s", text);
		free(big);
		if (e && em[2].type == JS_STRING && js_string(&em[2], e->data, sizeof e->data) < 0)
			e->data[0] = 0;
		return RPC_ENODE;
	}
	if (m[2].type == JS_NONE) {
		rpc_seterr(e, RPC_T_DECODE, 0, "response has neither result nor error");
		return RPC_EDECODE;
	}
	*result = m[2];
	return RPC_OK;
}
