/* chainread.h - what the gate reads from an aggregator contract: latestRoundData() (Chainlink
 * AggregatorV3Interface) and, for FluxAggregator, the round an oracle may submit next
 * (oracleRoundState(address,uint32)). Decoding is pure and separate from the RPC, for tests.
 *
 * Memory: results are plain values in the caller's structs. */
#ifndef OB_ACTORS_GATE_CHAINREAD_H
#define OB_ACTORS_GATE_CHAINREAD_H

#include <stddef.h>
#include <stdint.h>

#include "chain/abi.h"
#include "chain/rpc.h"
#include "base/u256.h"

typedef struct {
	u256 round_id; /* uint80 */
	u256 answer;   /* int256 */
	uint64_t started_at_s;
	uint64_t updated_at_s; /* 0: no answer yet */
	u256 answered_in_round;
} gc_round;

/* Decodes latestRoundData()'s return data (5 words). 0, or -1 (err names what is wrong). */
int gc_decode_latest(const uint8_t *data, size_t len, gc_round *r, char *err, size_t errlen);
/* Decodes oracleRoundState's return data; *round = its second field (_roundId, uint32). */
int gc_decode_oracle_round(const uint8_t *data, size_t len, uint64_t *round, char *err, size_t errlen);

/* eth_call latestRoundData() on agg. A FluxAggregator with no round yet reverts ("No data
 * present"): that is returned as an all-zero round, like OracleAggregator's. RPC_OK or an rpc
 * error code (e filled), or RPC_EDECODE with e->msg. */
int gc_read_latest(rpc *r, const uint8_t agg[20], gc_round *out, rpc_error *e);
/* The same at a block (0 = latest): a batch's members read at the block it was mined in. */
int gc_read_latest_at(rpc *r, const uint8_t agg[20], uint64_t block, gc_round *out, rpc_error *e);
/* latestRoundData() of several aggregators in ONE JSON-RPC batch (the gate's due polls, a batch's
 * members at its block): the caller sets agg (borrowed) and block (0 = latest); each read's rc,
 * round and e are as gc_read_latest_at's. Returns as gc_estimate_gas_many (RPC_OK: each rc says;
 * RPC_ENOBATCH: read one by one). */
typedef struct {
	const uint8_t *agg;
	uint64_t block;
	int rc;
	gc_round round;
	rpc_error e;
} gc_read;
int gc_read_latest_many(rpc *r, gc_read *rd, size_t n, rpc_error *e);
/* eth_call oracleRoundState(oracle, 0) on agg: the round oracle may submit to. */
int gc_read_oracle_round(rpc *r, const uint8_t agg[20], const uint8_t oracle[20], uint64_t *round, rpc_error *e);

/* The update call the signer will send (UPDATE_SIGNATURE, as actors/signer/call.c builds it):
 * f(intN|uintN answer) or f(uintN round, intN|uintN answer). */
typedef struct {
	abi_sig sig;
	int has_round;
	int answer_unsigned;
} gc_call;

/* Parses and checks the signature. 0, or -1 with err. */
int gc_call_init(gc_call *c, const char *signature, char *err, size_t errlen);
/* Calldata for (round, answer) into out[cap]. 0, or -1 (negative answer for a uintN, a value out
 * of its type's range, or cap too small). */
int gc_call_build(const gc_call *c, const u256 *round, const u256 *answer, uint8_t *out, size_t cap, size_t *len);

/* eth_estimateGas {from, to, data}. RPC_OK with *gas, or an rpc error code; a revert is
 * RPC_ENODE with e->data holding the revert data (chain/revert.h reads it). */
int gc_estimate_gas(rpc *r, const uint8_t from[20], const uint8_t to[20], const uint8_t *data, size_t len,
                    uint64_t *gas, rpc_error *e);

/* Several eth_estimateGas in ONE JSON-RPC batch (the gate's decisions of a loop turn). The
 * caller fills from, to, data, len (borrowed for the call); each call's rc is set as
 * gc_estimate_gas would return it (gas, or e: a revert is RPC_ENODE with the revert data). A
 * call with check_gas > 0 is an eth_call at that gas limit instead (from, "latest"): RPC_OK with
 * gas = check_gas when it passes, RPC_ENODE when it reverts or runs out of that gas.
 * Returns RPC_OK when the batch was answered (each rc says what became of its call),
 * RPC_ENOBATCH when the node takes no batches (nothing estimated: ask one by one),
 * RPC_ETRANSPORT when no endpoint answered, RPC_EDECODE for n outside 1..RPC_BATCH_MAX. */
typedef struct {
	const uint8_t *from, *to, *data;
	size_t len;
	uint64_t check_gas; /* 0: eth_estimateGas; else eth_call at this gas limit */
	int rc;
	uint64_t gas;
	rpc_error e;
} gc_estimate;
int gc_estimate_gas_many(rpc *r, gc_estimate *c, size_t n, rpc_error *e);

#endif
