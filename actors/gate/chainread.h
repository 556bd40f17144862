/* chainread.h - what the gate reads from an aggregator contract: latestRoundData() (Chainlink
 * AggregatorV3Interface) and, for FluxAggregator, the round an oracle may submit next
 * (oracleRoundState(address,uint32)). Decoding is pure and separate from the RPC, for tests.
 *
 * Memory: results are plain values in the caller's structs. */
#ifndef ACTORS_GATE_CHAINREAD_H
#define ACTORS_GATE_CHAINREAD_H

#include <stddef.h>
#include <stdint.h>

#include "chain/rpc.h"
#include "schemas/u256.h"

typedef struct {
	u256     round_id;      /* uint80 */
	u256     answer;        /* int256 */
	uint64_t started_at_s;
	uint64_t updated_at_s;  /* 0: no answer yet */
	u256     answered_in_round;
} gc_round;

/* Decodes latestRoundData()'s return data (5 words). 0, or -1 (err names what is wrong). */
int gc_decode_latest(const uint8_t *data, size_t len, gc_round *r, char *err, size_t errlen);
/* Decodes oracleRoundState's return data; *round = its second field (_roundId, uint32). */
int gc_decode_oracle_round(const uint8_t *data, size_t len, uint64_t *round, char *err, size_t errlen);

/* eth_call latestRoundData() on agg. A FluxAggregator with no round yet reverts ("No data
 * present"): that is returned as an all-zero round, like OracleAggregator's. RPC_OK or an rpc
 * error code (e filled), or RPC_EDECODE with e->msg. */
int gc_read_latest(rpc *r, const uint8_t agg[20], gc_round *out, rpc_error *e);
/* eth_call oracleRoundState(oracle, 0) on agg: the round oracle may submit to. */
int gc_read_oracle_round(rpc *r, const uint8_t agg[20], const uint8_t oracle[20], uint64_t *round, rpc_error *e);

#endif
