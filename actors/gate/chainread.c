/* chainread.c - latestRoundData() and oracleRoundState() over JSON-RPC (chainread.h). */
#include "actors/gate/chainread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/abi.h"
#include "base/hex.h"

/* Return types, parsed once per call (cheap: no allocation, a few hundred ns). */
static int
gc_decode(const char *types, const uint8_t *data, size_t len, abi_val *v, size_t cap, size_t *nv, char *err,
          size_t errlen)
{
	abi_sig s;
	size_t off = 0;
	int rc = abi_parse_types(&s, types, &off);
	if (rc == ABI_OK)
		rc = abi_decode(&s, data, len, v, cap, nv, &off);
	if (rc != ABI_OK) {
		snprintf(err, errlen, "%s: %s at byte %zu (%zu bytes returned)", types, abi_strerror(rc), off, len);
		return -1;
	}
	return 0;
}

int
gc_decode_latest(const uint8_t *data, size_t len, gc_round *r, char *err, size_t errlen)
{
	abi_val v[8];
	size_t nv;
	memset(r, 0, sizeof *r);
	if (gc_decode("(uint80,int256,uint256,uint256,uint80)", data, len, v, 8, &nv, err, errlen) != 0)
		return -1;
	if (abi_get_u256(&v[1], &r->round_id) || abi_get_u256(&v[2], &r->answer) ||
	    abi_get_u64(&v[3], &r->started_at_s) || abi_get_u64(&v[4], &r->updated_at_s) ||
	    abi_get_u256(&v[5], &r->answered_in_round)) {
		snprintf(err, errlen, "latestRoundData: a timestamp does not fit 64 bits");
		return -1;
	}
	return 0;
}

int
gc_decode_oracle_round(const uint8_t *data, size_t len, uint64_t *round, char *err, size_t errlen)
{
	abi_val v[10];
	size_t nv;
	if (gc_decode("(bool,uint32,int256,uint64,uint64,uint128,uint8,uint128)", data, len, v, 10, &nv, err, errlen) !=
	    0)
		return -1;
	return abi_get_u64(&v[2], round) == ABI_OK ? 0 : -1;
}

int
gc_read_latest(rpc *r, const uint8_t agg[20], gc_round *out, rpc_error *e)
{
	return gc_read_latest_at(r, agg, 0, out, e);
}

/* What an eth_call of latestRoundData() says (rc and the returned bytes res[0..rlen), which it
 * frees): the round, or an error. */
static int
gc_latest_outcome(int rc, uint8_t *res, size_t rlen, gc_round *out, rpc_error *e)
{
	if (rc == RPC_ENODE && strstr(e->msg, "No data present") != NULL) {
		memset(out, 0, sizeof *out); /* FluxAggregator before its first round */
		return RPC_OK;
	}
	if (rc != RPC_OK)
		return rc;
	if (rlen == 0) {
		free(res);
		snprintf(e->msg, sizeof e->msg, "latestRoundData returned no data: no contract at that address?");
		e->code = 0;
		e->transport = RPC_T_NONE;
		return RPC_EDECODE;
	}
	rc = gc_decode_latest(res, rlen, out, e->msg, sizeof e->msg) == 0 ? RPC_OK : RPC_EDECODE;
	free(res);
	return rc;
}

int
gc_read_latest_at(rpc *r, const uint8_t agg[20], uint64_t block, gc_round *out, rpc_error *e)
{
	uint8_t sel[4];
	uint8_t *res;
	size_t rlen;
	int rc;
	abi_selector("latestRoundData()", sel);
	if (block == 0) {
		rc = rpc_eth_call(r, agg, sel, 4, &res, &rlen, e);
	} else {
		rpc_callmsg m = { .to = agg, .data = sel, .len = 4, .block = block };
		rc = rpc_eth_call_at(r, &m, &res, &rlen, e);
	}
	return gc_latest_outcome(rc, res, rlen, out, e);
}

/* The calls of a batch of n (1..RPC_BATCH_MAX), zeroed; NULL with e filled. */
static rpc_batch_call *
gc_batch_new(size_t n, rpc_error *e)
{
	int bad = n == 0 || n > RPC_BATCH_MAX;
	rpc_batch_call *calls = bad ? NULL : calloc(n, sizeof *calls);
	if (calls == NULL) {
		memset(e, 0, sizeof *e);
		if (bad)
			snprintf(e->msg, sizeof e->msg, "%zu calls: outside 1..%d", n, RPC_BATCH_MAX);
		else
			snprintf(e->msg, sizeof e->msg, "out of memory");
	}
	return calls;
}

/* A batch whose params could not all be built (out of memory): the k built are released. */
static int
gc_batch_abandon(rpc_batch_call *calls, size_t k, rpc_error *e)
{
	for (size_t j = 0; j < k; j++)
		json_decref(calls[j].params);
	free(calls);
	memset(e, 0, sizeof *e);
	snprintf(e->msg, sizeof e->msg, "out of memory");
	return RPC_EDECODE;
}

int
gc_read_latest_many(rpc *r, gc_read *rd, size_t n, rpc_error *e)
{
	rpc_batch_call *calls = gc_batch_new(n, e);
	if (calls == NULL)
		return RPC_EDECODE;
	uint8_t sel[4];
	abi_selector("latestRoundData()", sel);
	for (size_t i = 0; i < n; i++) {
		rpc_callmsg m = {
			.to = rd[i].agg, .data = sel, .len = 4, .block = rd[i].block ? rd[i].block : RPC_LATEST
		};
		if (rpc_eth_call_call(&calls[i], &m) != 0)
			return gc_batch_abandon(calls, i, e);
	}
	int brc = rpc_call_batch(r, calls, n, e);
	for (size_t i = 0; i < n; i++) {
		uint8_t *res = NULL;
		size_t rlen = 0;
		int rc = calls[i].rc;
		rd[i].e = calls[i].e;
		if (rc == RPC_OK)
			rc = rpc_eth_call_result(calls[i].result, &res, &rlen, &rd[i].e);
		rd[i].rc = gc_latest_outcome(rc, res, rlen, &rd[i].round, &rd[i].e);
		json_decref(calls[i].result);
	}
	free(calls);
	return brc;
}

int
gc_read_oracle_round(rpc *r, const uint8_t agg[20], const uint8_t oracle[20], uint64_t *round, rpc_error *e)
{
	abi_sig s;
	abi_val v[3];
	uint8_t data[4 + 64], *res;
	size_t len, rlen, off;
	if (abi_parse_sig(&s, "oracleRoundState(address,uint32)", &off) != ABI_OK)
		return RPC_EDECODE;
	abi_v_list(&v[0], 2, 3);
	abi_v_address(&v[1], oracle);
	abi_v_u64(&v[2], 0);
	if (abi_encode(&s, v, 3, 1, data, sizeof data, &len) != ABI_OK)
		return RPC_EDECODE;
	int rc = rpc_eth_call(r, agg, data, len, &res, &rlen, e);
	if (rc != RPC_OK)
		return rc;
	rc = gc_decode_oracle_round(res, rlen, round, e->msg, sizeof e->msg) == 0 ? RPC_OK : RPC_EDECODE;
	free(res);
	return rc;
}

int
gc_call_init(gc_call *c, const char *signature, char *err, size_t errlen)
{
	size_t off = 0;
	memset(c, 0, sizeof *c);
	int rv = abi_parse_sig(&c->sig, signature, &off);
	if (rv != ABI_OK) {
		snprintf(err, errlen, "UPDATE_SIGNATURE: %s at offset %zu", abi_strerror(rv), off);
		return -1;
	}
	const abi_type *root = &c->sig.t[c->sig.root];
	const abi_type *first = root->ncomp >= 1 ? &c->sig.t[root->first] : NULL;
	const abi_type *last = root->ncomp == 2 ? &c->sig.t[first->next] : first;
	if ((root->ncomp != 1 && root->ncomp != 2) || (last->kind != ABI_INT && last->kind != ABI_UINT) ||
	    (root->ncomp == 2 && first->kind != ABI_UINT)) {
		snprintf(err, errlen, "UPDATE_SIGNATURE: %s: (answer intN|uintN) or (round uintN, answer) expected",
		         c->sig.canon);
		return -1;
	}
	c->has_round = root->ncomp == 2;
	c->answer_unsigned = last->kind == ABI_UINT;
	return 0;
}

int
gc_call_build(const gc_call *c, const u256 *round, const u256 *answer, uint8_t *out, size_t cap, size_t *len)
{
	abi_val v[3];
	size_t n = 0;
	if (c->answer_unsigned && i256_is_neg(answer))
		return -1;
	abi_v_list(&v[n++], c->has_round ? 2 : 1, c->has_round ? 3 : 2);
	if (c->has_round)
		abi_v_uint(&v[n++], round);
	abi_v_uint(&v[n++], answer);
	return abi_encode(&c->sig, v, n, 1, out, cap, len) == ABI_OK ? 0 : -1;
}

/* The params of eth_estimateGas {from, to, data}, or with gas > 0 of eth_call {from, to, data,
 * gas} at "latest"; NULL (out of memory). */
static json_t *
gc_estimate_params(const uint8_t from[20], const uint8_t to[20], const uint8_t *data, size_t len, uint64_t gas)
{
	char f[43], t[43], q[24], *d = malloc(2 * len + 3);
	if (d == NULL)
		return NULL;
	hex_encode(from, 20, 1, f);
	hex_encode(to, 20, 1, t);
	hex_encode(data, len, 1, d);
	snprintf(q, sizeof q, "0x%llx", (unsigned long long)gas);
	json_t *params = gas ? json_pack("[{s:s, s:s, s:s, s:s}, s]", "from", f, "to", t, "data", d, "gas", q, "latest")
	                     : json_pack("[{s:s, s:s, s:s}]", "from", f, "to", t, "data", d);
	free(d);
	return params;
}

static int
gc_estimate_result(json_t *res, uint64_t *gas, rpc_error *e)
{
	if (rpc_parse_u64(res, gas) != 0) {
		memset(e, 0, sizeof *e);
		snprintf(e->msg, sizeof e->msg, "eth_estimateGas: result is not a quantity");
		return RPC_EDECODE;
	}
	return RPC_OK;
}

int
gc_estimate_gas(rpc *r, const uint8_t from[20], const uint8_t to[20], const uint8_t *data, size_t len, uint64_t *gas,
                rpc_error *e)
{
	json_t *params = gc_estimate_params(from, to, data, len, 0), *res = NULL;
	if (params == NULL) {
		memset(e, 0, sizeof *e);
		snprintf(e->msg, sizeof e->msg, "out of memory");
		return RPC_EDECODE;
	}
	int rc = rpc_call(r, "eth_estimateGas", params, &res, e);
	if (rc != RPC_OK)
		return rc;
	rc = gc_estimate_result(res, gas, e);
	json_decref(res);
	return rc;
}

int
gc_estimate_gas_many(rpc *r, gc_estimate *c, size_t n, rpc_error *e)
{
	rpc_batch_call *calls = gc_batch_new(n, e);
	if (calls == NULL)
		return RPC_EDECODE;
	for (size_t i = 0; i < n; i++) {
		calls[i].method = c[i].check_gas ? "eth_call" : "eth_estimateGas";
		if ((calls[i].params = gc_estimate_params(c[i].from, c[i].to, c[i].data, c[i].len, c[i].check_gas)) ==
		    NULL)
			return gc_batch_abandon(calls, i, e);
	}
	int brc = rpc_call_batch(r, calls, n, e);
	for (size_t i = 0; i < n; i++) {
		c[i].gas = 0;
		c[i].rc = calls[i].rc;
		c[i].e = calls[i].e;
		if (calls[i].rc == RPC_OK && c[i].check_gas) { /* the call passed at that limit */
			c[i].gas = c[i].check_gas;
			c[i].rc = json_is_string(calls[i].result) ? RPC_OK : RPC_EDECODE;
		} else if (calls[i].rc == RPC_OK) {
			c[i].rc = gc_estimate_result(calls[i].result, &c[i].gas, &c[i].e);
		}
		json_decref(calls[i].result);
	}
	free(calls);
	return brc;
}
