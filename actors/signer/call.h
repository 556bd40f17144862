/*
 * call.h - the update call: a Solidity signature (UPDATE_SIGNATURE) turned into calldata for a
 * price.update. Supported shapes: f(intN|uintN answer) - Chainlink's MockV3Aggregator
 * updateAnswer(int256), or updateAnswer(uint256) - and f(uintN round, intN|uintN answer) -
 * FluxAggregator's submit(uint256,int256), whose round is the price.update's round_id.
 *
 * Memory: an sgc_call is a plain value (the parsed abi_sig, about 3 KiB) owned by the caller.
 */
#ifndef OB_ACTORS_SIGNER_CALL_H
#define OB_ACTORS_SIGNER_CALL_H

#include <stddef.h>
#include <stdint.h>

#include "chain/abi.h"
#include "schemas/messages.h"

typedef struct {
	abi_sig sig;
	int has_round;       /* two arguments: (round, answer) */
	int answer_unsigned; /* uintN answer: negative answers are refused */
} sgc_call;

/* Parses and checks the signature. 0, or -1 with the reason in err. */
int sgc_init(sgc_call *c, const char *signature, char *err, size_t errlen);
/* Selector of the configured call. */
const uint8_t *sgc_selector(const sgc_call *c);
/* Calldata for u into out[cap]: SGP_OK, SGP_NEGATIVE (unsigned answer below 0) or SGP_ENCODE
 * (a value out of its ABI type's range, or cap too small). */
int sgc_build(const sgc_call *c, const sc_price_update *u, uint8_t *out, size_t cap, size_t *len);

#endif
