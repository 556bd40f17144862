/* rpc_batch_fuzz.c - libFuzzer: the JSON-RPC batch answer decoder (rpc_parse_batch) on any body a
 * node could send, for a batch of 1..16 calls (the first byte says how many). It never crashes or
 * leaks; a refused answer keeps no result; every call it attributes is decoded exactly as the
 * single-response decoder decodes that element alone (same rc, same result, same node error); a
 * call answered twice or an id not of the request is never accepted; "no batches" is said only for
 * one error object, with that error's code and message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/rpc.h"

#define FIRST_ID 1000

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t n = (size_t)(data[0] % 16) + 1;
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	rpc_batch_call calls[16];
	rpc_error e;
	memset(calls, 0, sizeof calls);
	int rc = rpc_parse_batch(body, len, FIRST_ID, calls, n, &e);
	if (rc != RPC_OK && rc != RPC_ENOBATCH && rc != RPC_EDECODE)
		__builtin_trap();
	if (rc != RPC_OK) {
		for (size_t i = 0; i < n; i++)
			if (calls[i].result || calls[i].rc != RPC_EDECODE)
				__builtin_trap();
		if (rc == RPC_ENOBATCH) {
			json_t *res;
			rpc_error e1;
			if (rpc_parse_response(body, len, -1, &res, &e1) != RPC_ENODE || e1.code != e.code ||
			    strcmp(e1.msg, e.msg) != 0)
				__builtin_trap();
		}
		return 0;
	}
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_array(root) || json_array_size(root) > n)
		__builtin_trap();
	size_t answered = 0;
	for (size_t i = 0; i < n; i++) {
		rpc_batch_call *c = &calls[i];
		if ((c->rc == RPC_OK) != (c->result != NULL))
			__builtin_trap();
		/* the element answering call i, alone */
		json_t *el = NULL, *x;
		size_t k;
		int seen = 0;
		json_array_foreach(root, k, x)
		{
			json_t *id = json_object_get(x, "id");
			if (json_is_integer(id) && json_integer_value(id) == FIRST_ID + (json_int_t)i)
				el = x, seen++;
		}
		if (seen > 1)
			__builtin_trap(); /* one id twice was accepted */
		if (!el) {
			if (c->rc != RPC_EDECODE)
				__builtin_trap(); /* an answer out of nowhere */
			continue;
		}
		answered++;
		char *one = json_dumps(el, JSON_COMPACT);
		json_t *res = NULL;
		rpc_error e1;
		int r1 = one ? rpc_parse_response(one, strlen(one), FIRST_ID + (long long)i, &res, &e1) : c->rc;
		if (one && (r1 != c->rc || (r1 == RPC_OK && !json_equal(res, c->result)) ||
		            (r1 == RPC_ENODE && (e1.code != c->e.code || strcmp(e1.msg, c->e.msg) != 0))))
			__builtin_trap();
		json_decref(res);
		free(one);
		json_decref(c->result);
	}
	if (answered > json_array_size(root))
		__builtin_trap();
	json_decref(root);
	return 0;
}
