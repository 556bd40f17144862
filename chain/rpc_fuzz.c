/* rpc_fuzz.c - libFuzzer: the JSON-RPC response decoder (envelope, hex quantities, receipts,
 * blocks) never crashes or leaks on any body a node could send, and every quantity it accepts
 * re-encodes as canonical hex that decodes to the same value. The raw (jscan) envelope reader
 * must agree with it whenever both accept: the same result (json_equal of its text), or the same
 * node error code and message; its result always lies inside the body and is valid JSON. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/rpc.h"

static void
check_quantity(const json_t *v)
{
	u256 a, b;
	if (rpc_parse_u256(v, &a) != 0)
		return;
	uint8_t be[32];
	char hex[67] = "0x";
	u256_to_be(&a, be);
	size_t k = 0, o = 2;
	while (k < 31 && be[k] == 0)
		k++;
	o += (size_t)snprintf(hex + o, 3, be[k] >= 16 ? "%02x" : "%x", be[k]);
	for (k++; k < 32; k++)
		o += (size_t)snprintf(hex + o, 3, "%02x", be[k]);
	json_t *j = json_string(hex);
	if (rpc_parse_u256(j, &b) != 0 || u256_cmp(&a, &b) != 0)
		__builtin_trap();
	json_decref(j);
	uint64_t x;
	if (rpc_parse_u64(v, &x) == 0 && (!u256_fits_u64(&a) || x != u256_low64(&a)))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *res = NULL;
	rpc_error e, e2;
	js_val raw;
	char *copy = malloc(size ? size : 1); /* exact size: ASan sees any overread of the raw reader */
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	int rc = rpc_parse_response((const char *)data, size, -1, &res, &e);
	int rc2 = rpc_parse_response_raw(copy, size, -1, &raw, &e2);
	if (rc2 == RPC_OK &&
	    (raw.p < copy || raw.p + raw.n > copy + size || js_validate(raw.p, raw.n, NULL, NULL) != 0))
		__builtin_trap();
	if (rc == RPC_OK && rc2 == RPC_OK) {
		json_t *j = json_loadb(raw.p, raw.n, JSON_DECODE_ANY, NULL);
		if (j == NULL || !json_equal(j, res))
			__builtin_trap();
		json_decref(j);
	}
	if (rc == RPC_ENODE && rc2 == RPC_ENODE && (e.code != e2.code || strcmp(e.msg, e2.msg) != 0))
		__builtin_trap();
	free(copy);
	if (rc != RPC_OK)
		return 0;
	check_quantity(res);
	rpc_receipt r;
	rpc_block b;
	uint8_t h[32];
	(void)rpc_parse_receipt(res, &r);
	(void)rpc_parse_block(res, &b);
	(void)rpc_parse_bytes(res, h, 32);
	if (json_is_object(res)) {
		const char *k;
		json_t *v;
		json_object_foreach(res, k, v) check_quantity(v);
	}
	json_decref(res);
	return 0;
}
