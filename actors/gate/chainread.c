/* chainread.c - latestRoundData() and oracleRoundState() over JSON-RPC (chainread.h). */
#include "actors/gate/chainread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/abi.h"
#include "chain/hex.h"

/* Return types, parsed once per call (cheap: no allocation, a few hundred ns). */
static int
gc_decode(const char *types, const uint8_t *data, size_t len, abi_val *v, size_t cap, size_t *nv, char *err,
          size_t errlen)
{
	abi_sig s;
	size_t  off = 0;
	int     rc = abi_parse_types(&s, types, &off);
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
	size_t  nv;
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
	size_t  nv;
	if (gc_decode("(bool,uint32,int256,uint64,uint64,uint128,uint8,uint128)", data, len, v, 10, &nv, err,
	              errlen) != 0)
		return -1;
	return abi_get_u64(&v[2], round) == ABI_OK ? 0 : -1;
}

int
gc_read_latest(rpc *r, const uint8_t agg[20], gc_round *out, rpc_error *e)
{
	uint8_t  sel[4];
	uint8_t *res;
	size_t   rlen;
	abi_selector("latestRoundData()", sel);
	int rc = rpc_eth_call(r, agg, sel, 4, &res, &rlen, e);
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
gc_read_oracle_round(rpc *r, const uint8_t agg[20], const uint8_t oracle[20], uint64_t *round, rpc_error *e)
{
	abi_sig s;
	abi_val v[3];
	uint8_t data[4 + 64], *res;
	size_t  len, rlen, off;
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
