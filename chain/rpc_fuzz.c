/* rpc_fuzz.c - libFuzzer: the JSON-RPC response decoder (envelope, hex quantities, receipts,
 * blocks) never crashes or leaks on any body a node could send, and every quantity it accepts
 * re-encodes as canonical hex that decodes to the same value. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "chain/rpc.h"

static void check_quantity(const json_t *v)
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *res = NULL;
	rpc_error e;
	int rc = rpc_parse_response((const char *)data, size, -1, &res, &e);
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
