/* eth.c - the eth_* calls the actors make, on top of rpc_call (see rpc.h). */
#include "chain/rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"

/* ---- helpers ------------------------------------------------------------------------------- */
static json_t *
rpc_hex(const uint8_t *b, size_t n)
{
	char *s = malloc(2 * n + 3);
	if (!s)
		return NULL;
	hex_encode(b, n, 1, s);
	json_t *j = json_string(s);
	free(s);
	return j;
}

static int
rpc_decode_fail(rpc_error *e, const char *method)
{
	rpc_seterr(e, RPC_T_DECODE, 0, "%s: unexpected result", method);
	return RPC_EDECODE;
}

/* Calls method and parses a quantity result. */
static int
rpc_call_u256(rpc *r, const char *method, json_t *params, u256 *out, rpc_error *e)
{
	json_t *res;
	int rc = rpc_call(r, method, params, &res, e);
	if (rc != RPC_OK)
		return rc;
	rc = rpc_parse_u256(res, out) == 0 ? RPC_OK : rpc_decode_fail(e, method);
	json_decref(res);
	return rc;
}

static int
rpc_call_u64(rpc *r, const char *method, json_t *params, uint64_t *out, rpc_error *e)
{
	u256 v;
	int rc = rpc_call_u256(r, method, params, &v, e);
	if (rc != RPC_OK)
		return rc;
	if (!u256_fits_u64(&v))
		return rpc_decode_fail(e, method);
	*out = u256_low64(&v);
	return RPC_OK;
}

int
rpc_eth_call_result(const json_t *res, uint8_t **out, size_t *outlen, rpc_error *e)
{
	const char *s = json_string_value(res);
	size_t l = json_string_length(res), bl = 0;
	uint8_t *b = NULL;
	*out = NULL;
	*outlen = 0;
	if (!s || l < 2 || s[0] != '0' || s[1] != 'x' || !(b = malloc(l / 2 + 1)) ||
	    hex_decode(s + 2, l - 2, HEX_PREFIX_OPTIONAL, b, l / 2 + 1, &bl, NULL) != HEX_OK) {
		free(b);
		return rpc_decode_fail(e, "eth_call");
	}
	*out = b;
	*outlen = bl;
	return RPC_OK;
}

int
rpc_eth_call(rpc *r, const uint8_t to[20], const uint8_t *data, size_t len, uint8_t **out, size_t *outlen, rpc_error *e)
{
	*out = NULL;
	*outlen = 0;
	json_t *params = json_pack("[{s:o, s:o}, s]", "to", rpc_hex(to, 20), "data", rpc_hex(data, len), "latest");
	json_t *res;
	int rc = rpc_call(r, "eth_call", params, &res, e);
	if (rc != RPC_OK)
		return rc;
	rc = rpc_eth_call_result(res, out, outlen, e);
	json_decref(res);
	return rc;
}

/* eth_call's params for m: [call object, block]; NULL when out of memory. */
static json_t *
rpc_callmsg_params(const rpc_callmsg *m)
{
	json_t *call = json_pack("{s:o, s:o}", "to", rpc_hex(m->to, 20), "data", rpc_hex(m->data, m->len));
	char q[80];
	if (call && m->from)
		json_object_set_new(call, "from", rpc_hex(m->from, 20));
	if (call && m->gas) {
		snprintf(q, sizeof q, "0x%llx", (unsigned long long)m->gas);
		json_object_set_new(call, "gas", json_string(q));
	}
	if (call && m->value && !u256_is_zero(m->value)) { /* a quantity: "0x" and no leading zeros */
		uint8_t be[32];
		char h[67];
		u256_to_be(m->value, be);
		hex_encode(be, 32, 0, h);
		size_t z = strspn(h, "0");
		snprintf(q, sizeof q, "0x%s", h + (z < 64 ? z : 63));
		json_object_set_new(call, "value", json_string(q));
	}
	if (m->block == RPC_LATEST)
		snprintf(q, sizeof q, "latest");
	else
		snprintf(q, sizeof q, "0x%llx", (unsigned long long)m->block);
	return call ? json_pack("[o, s]", call, q) : NULL; /* "o" steals, also on failure */
}

int
rpc_eth_call_call(rpc_batch_call *c, const rpc_callmsg *m)
{
	memset(c, 0, sizeof *c);
	c->method = "eth_call";
	c->params = rpc_callmsg_params(m);
	return c->params ? 0 : -1;
}

int
rpc_eth_call_at(rpc *r, const rpc_callmsg *m, uint8_t **out, size_t *outlen, rpc_error *e)
{
	*out = NULL;
	*outlen = 0;
	json_t *params = rpc_callmsg_params(m);
	if (!params) {
		rpc_seterr(e, RPC_T_DECODE, 0, "out of memory");
		return RPC_ETRANSPORT;
	}
	json_t *res;
	int rc = rpc_call(r, "eth_call", params, &res, e);
	if (rc != RPC_OK)
		return rc;
	rc = rpc_eth_call_result(res, out, outlen, e);
	json_decref(res);
	return rc;
}

int
rpc_block_number(rpc *r, uint64_t *n, rpc_error *e)
{
	return rpc_call_u64(r, "eth_blockNumber", NULL, n, e);
}

int
rpc_get_tx_count(rpc *r, const uint8_t addr[20], const char *tag, uint64_t *n, rpc_error *e)
{
	return rpc_call_u64(r, "eth_getTransactionCount", json_pack("[o, s]", rpc_hex(addr, 20), tag), n, e);
}

int
rpc_gas_price(rpc *r, u256 *wei, rpc_error *e)
{
	return rpc_call_u256(r, "eth_gasPrice", NULL, wei, e);
}

int
rpc_max_priority_fee(rpc *r, u256 *wei, rpc_error *e)
{
	return rpc_call_u256(r, "eth_maxPriorityFeePerGas", NULL, wei, e);
}

int
rpc_send_raw(rpc *r, const uint8_t *raw, size_t len, uint8_t hash[32], rpc_error *e)
{
	json_t *res;
	int rc = rpc_call(r, "eth_sendRawTransaction", json_pack("[o]", rpc_hex(raw, len)), &res, e);
	if (rc != RPC_OK)
		return rc;
	rc = rpc_send_raw_result(res, hash, e);
	json_decref(res);
	return rc;
}

int
rpc_send_raw_result(const json_t *result, uint8_t hash[32], rpc_error *e)
{
	uint8_t h[32];
	if (rpc_parse_bytes(result, h, 32) != 0)
		return rpc_decode_fail(e, "eth_sendRawTransaction");
	if (hash)
		memcpy(hash, h, 32);
	return RPC_OK;
}

/* One call of a batch whose one parameter is b[0..n) in hex. 0, or -1 (out of memory). */
static int
rpc_hex_call(rpc_batch_call *c, const char *method, const uint8_t *b, size_t n)
{
	memset(c, 0, sizeof *c);
	c->method = method;
	json_t *hex = rpc_hex(b, n);
	c->params = hex ? json_pack("[o]", hex) : NULL; /* "o" steals hex, also on failure */
	return c->params ? 0 : -1;
}

int
rpc_send_raw_call(rpc_batch_call *c, const uint8_t *raw, size_t len)
{
	return rpc_hex_call(c, "eth_sendRawTransaction", raw, len);
}

int
rpc_get_receipt(rpc *r, const uint8_t hash[32], rpc_receipt *rc_out, rpc_error *e)
{
	json_t *res;
	int rc = rpc_call(r, "eth_getTransactionReceipt", json_pack("[o]", rpc_hex(hash, 32)), &res, e);
	if (rc != RPC_OK)
		return rc;
	rc = rpc_get_receipt_result(res, rc_out, e);
	json_decref(res);
	return rc;
}

int
rpc_get_receipt_result(const json_t *res, rpc_receipt *rc_out, rpc_error *e)
{
	if (json_is_null(res))
		return RPC_ENOTFOUND;
	if (rpc_parse_receipt(res, rc_out) != 0)
		return rpc_decode_fail(e, "eth_getTransactionReceipt");
	return RPC_OK;
}

int
rpc_get_receipt_call(rpc_batch_call *c, const uint8_t hash[32])
{
	return rpc_hex_call(c, "eth_getTransactionReceipt", hash, 32);
}

int
rpc_block_by_number(rpc *r, uint64_t number, rpc_block *b, rpc_error *e)
{
	char tag[24];
	if (number == RPC_LATEST)
		snprintf(tag, sizeof tag, "latest");
	else
		snprintf(tag, sizeof tag, "0x%llx", (unsigned long long)number);
	json_t *res;
	int rc = rpc_call(r, "eth_getBlockByNumber", json_pack("[s, b]", tag, 0), &res, e);
	if (rc != RPC_OK)
		return rc;
	if (json_is_null(res))
		rc = RPC_ENOTFOUND;
	else if (rpc_parse_block(res, b) != 0)
		rc = rpc_decode_fail(e, "eth_getBlockByNumber");
	json_decref(res);
	return rc;
}

int
rpc_get_tx_result(const json_t *res, uint64_t *block_number, rpc_error *e)
{
	*block_number = 0;
	if (json_is_null(res))
		return RPC_ENOTFOUND;
	if (!json_is_object(res))
		return rpc_decode_fail(e, "eth_getTransactionByHash");
	const json_t *bn = json_object_get(res, "blockNumber");
	if (bn && !json_is_null(bn) && rpc_parse_u64(bn, block_number) != 0)
		return rpc_decode_fail(e, "eth_getTransactionByHash");
	return RPC_OK;
}

int
rpc_get_tx_call(rpc_batch_call *c, const uint8_t hash[32])
{
	return rpc_hex_call(c, "eth_getTransactionByHash", hash, 32);
}

int
rpc_get_tx(rpc *r, const uint8_t hash[32], uint64_t *block_number, rpc_error *e)
{
	json_t *res;
	int rc = rpc_call(r, "eth_getTransactionByHash", json_pack("[o]", rpc_hex(hash, 32)), &res, e);
	if (rc != RPC_OK)
		return rc;
	rc = rpc_get_tx_result(res, block_number, e);
	json_decref(res);
	return rc;
}
