/*
 * policy.h - what the signer is allowed to sign: the pure checks, no I/O.
 *
 * A price.update is signed only for an allowed contract (the feed's configured aggregator, or one
 * of ALLOWED_CONTRACTS), on the configured chain, with an answer within the feed's bounds and
 * within the maximum change from the previous answer the signer signed for that feed, and a gas
 * limit (when the gate sends its estimate) within [21000, MAX_GAS_LIMIT]. A generic tx.request
 * needs an allowed contract, an allowed selector, no value and a gas limit in the same bounds.
 * Refusal reasons are outcomes, not errors: they travel in their own field (sg_result.reason),
 * never in an int that carries an error code of base/err.h.
 * Every refusal has a reason from one table (sgp_reason_name), used for the
 * signer_refusals_total{reason} label, the log line and the policy_refusal alert.
 *
 * Bounds are exact decimal text ("1000.5"), turned into the message's fixed point (its decimals)
 * at check time, so feeds with different decimals share one configuration format.
 *
 * Memory: an sgp_policy is owned by the caller; start from a zeroed one; its lists (contracts,
 * selectors, feeds) are heap arrays sized to what was added, released by sgp_free. Checks only read it.
 */
#ifndef OB_ACTORS_SIGNER_POLICY_H
#define OB_ACTORS_SIGNER_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "schemas/messages.h"

/* Bounds of one signer's lists; the arrays grow to what is configured (sgp_free releases them). */
#define SGP_MAX_CONTRACTS 1024 /* ALLOWED_CONTRACTS (and the feeds' aggregators: one shard's feeds) */
#define SGP_MAX_SELECTORS 256
#define SGP_MAX_FEEDS     1024
#define SGP_DEC_CAP       96    /* decimal bound text */
#define SGP_GAS_MIN       21000 /* intrinsic gas of any transaction: a lower limit can never be mined */

enum sgp_reason {
	SGP_OK = 0,
	SGP_CHAIN_ID,         /* message for another chain */
	SGP_CONTRACT,         /* target contract not allowed (for this feed) */
	SGP_SELECTOR,         /* function selector not allowed */
	SGP_BELOW_MIN,        /* answer below the feed's minimum */
	SGP_ABOVE_MAX,        /* answer above the feed's maximum */
	SGP_MAX_CHANGE,       /* change from the previous signed answer too large */
	SGP_NEGATIVE,         /* negative answer for an unsigned update call */
	SGP_VALUE,            /* tx.request with a non-zero value */
	SGP_GAS_LIMIT,        /* gas limit asked (price.update or tx.request) above MAX_GAS_LIMIT or below 21000 */
	SGP_FEE_CAP,          /* fees above MAX_GAS_PRICE / MAX_FEE_PER_GAS */
	SGP_ENCODE,           /* the call cannot be encoded (value out of range for the ABI type) */
	SGP_BUMP_UNKNOWN,     /* tx.bump for a nonce or hash the signer does not hold */
	SGP_BUMP_NO_INCREASE, /* tx.bump that would not raise any fee */
	SGP_NREASONS
};

typedef struct {
	char feed[SC_NAME_CAP + 1];
	int has_aggregator;
	uint8_t aggregator[20];
	char min_answer[SGP_DEC_CAP]; /* "" = the global default */
	char max_answer[SGP_DEC_CAP];
	int has_max_change;
	uint64_t max_change_ppm; /* 0 = no limit */
} sgp_feed;

typedef struct {
	uint64_t chain_id;
	uint8_t (*contracts)[20]; /* ncontracts, allocated as added */
	size_t ncontracts, capcontracts;
	uint8_t (*selectors)[4]; /* for tx.request */
	size_t nselectors, capselectors;
	char min_answer[SGP_DEC_CAP]; /* global bounds, "" = none */
	char max_answer[SGP_DEC_CAP];
	uint64_t max_change_ppm; /* 0 = no limit */
	uint64_t max_gas_limit;  /* cap on the gas limit a price.update or tx.request asks for */
	sgp_feed *feeds;         /* nfeeds, allocated to the feeds file's count */
	size_t nfeeds;
} sgp_policy;

/* Releases the lists and zeroes p (a zeroed policy is empty and valid to fill again). */
void sgp_free(sgp_policy *p);

const char *sgp_reason_name(int reason); /* "max_change"; "?" out of range */

/* Configuration helpers: 0, or -1 with a message in err (which never echoes secrets: there are
 * none here). An address "0x"+40 hex; a selector "0x12345678" or a signature "f(uint256)";
 * a bound a decimal number ("-12.5"). */
int sgp_add_contract(sgp_policy *p, const char *addr, char *err, size_t errlen);
int sgp_add_selector(sgp_policy *p, const char *sel, char *err, size_t errlen);
int sgp_set_bound(char out[SGP_DEC_CAP], const char *dec, const char *what, char *err, size_t errlen);
/* Feeds file: an array of {"feed", "aggregator"?, "min_answer"?, "max_answer"?, "max_change"?}
 * or {"feeds": [...]}; bounds are decimal strings (or integers), max_change a percent. */
int sgp_load_feeds(sgp_policy *p, const json_t *j, char *err, size_t errlen);
const sgp_feed *sgp_feed_find(const sgp_policy *p, const char *feed);

/* The checks. prev: the previous answer signed for the feed, NULL when there is none. detail gets
 * a one-line human explanation of a refusal (may be NULL). */
int sgp_check_update(const sgp_policy *p, const sc_price_update *u, const u256 *prev, char *detail, size_t dlen);
int sgp_check_request(const sgp_policy *p, const sc_tx_request *r, char *detail, size_t dlen);
/* A batched price.update as a whole (its entries are each checked with sgp_check_update): the
 * chain, the batch contract (Multicall3 or OracleBatcher) in ALLOWED_CONTRACTS, 1..SC_BATCH_MAX
 * entries, the gas limit's bounds, and a call the batch can make (updateAnswers calls
 * updateAnswer(int256): an UPDATE_SIGNATURE of another shape cannot be batched that way). */
int sgp_check_batch(const sgp_policy *p, const sc_price_update *u, int call_has_round, int call_unsigned, char *detail,
                    size_t dlen);

/* Is |new - prev| * 10^6 > max_ppm * |prev|? Exact; overflow counts as too large. */
int sgp_change_exceeds(const u256 *next, const u256 *prev, uint64_t max_ppm);

#endif
