/*
 * fees.h - the fees of a new transaction and of a replacement (tx.bump), within policy caps.
 *
 * Legacy: a fixed GAS_PRICE (zero is valid: Besu networks often run free gas) or the latest
 * gas.quote's gas price ("auto"). EIP-1559: max fee and priority fee from the latest gas.quote.
 * A replacement keeps the nonce and raises every fee to at least the minimum the submitter asks,
 * at least BUMP_PERCENT over the old fee (rounded up: nodes refuse a replacement under their
 * bump, 10% for geth/Besu, 12.5% for some pools) and at least the current quote.
 * Anything above MAX_GAS_PRICE / MAX_FEE_PER_GAS is refused, never clamped: a clamped
 * replacement would be refused by the node anyway.
 *
 * Memory: plain values, no allocation.
 */
#ifndef OB_ACTORS_SIGNER_FEES_H
#define OB_ACTORS_SIGNER_FEES_H

#include <stdint.h>

#include "schemas/messages.h"

typedef struct {
	int eip1559;
	u256 gas_price;    /* legacy */
	u256 max_fee;      /* eip1559 */
	u256 max_priority; /* eip1559 */
} sgf_fees;

typedef struct {
	int eip1559;    /* TX_TYPE */
	int gas_auto;   /* legacy: GAS_PRICE=auto */
	u256 gas_price; /* legacy fixed */
	u256 max_gas_price;
	u256 max_fee_per_gas;
	uint64_t bump_ppm; /* BUMP_PERCENT in ppm: 12.5% = 125000 */
} sgf_cfg;

enum {
	SGF_OK = 0,
	SGF_NO_QUOTE = -1
}; /* or SGP_FEE_CAP / SGP_BUMP_NO_INCREASE (policy.h) */

/* Does this configuration need a gas.quote before it can sign? */
int sgf_needs_quote(const sgf_cfg *c);
/* Fees for a new transaction. q: latest quote or NULL. */
int sgf_new(const sgf_cfg *c, const sc_gas_quote *q, sgf_fees *out);
/* Fees for a replacement of `old`. q may be NULL. */
int sgf_bump(const sgf_cfg *c, const sgf_fees *old, const sc_tx_bump *b, const sc_gas_quote *q, sgf_fees *out);
/* old + ceil(old * ppm / 10^6), saturating at 2^256-1. */
void sgf_raise(u256 *r, const u256 *old, uint64_t ppm);

#endif
