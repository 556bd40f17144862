/* decide.h - the gate's pure decision: given the on-chain answer of a feed, the gate's own
 * in-flight update and a new aggregate, publish an update now (and why) or hold (and why not).
 * No I/O and no clock: the caller passes now. Everything is exact integer arithmetic.
 *
 * Deviation follows Chainlink's fluxmonitorv2 DeviationChecker.OutsideDeviation exactly, with
 * the float thresholds replaced by exact integers (rel in ppm of the ratio: 0.5 % = 5000):
 *   1. rel == 0 and abs == 0                -> true (every answer counts)
 *   2. |next - cur| > abs is required       (strict)
 *   3. cur == 0                             -> true unless next == 0 ("relative deviation is inf")
 *   4. 100 * |next - cur| / |cur| >= rel%   i.e. |next - cur| * 10^6 >= rel_ppm * |cur|
 * Products are taken on 320 bits, so no pair of int256 answers can overflow the comparison.
 *
 * Order of the decision (gd_decide):
 *   on-chain state unknown               -> hold (no_chain): never guess after a restart
 *   an update in flight, younger than update_timeout -> hold (inflight); older -> may supersede
 *   contract has no answer (updatedAt 0) -> reason first
 *   deviation thresholds met             -> reason deviation
 *   now - updatedAt >= heartbeat         -> reason heartbeat
 *   otherwise                            -> hold (within_threshold)
 *   then: less than min_interval since our last publish or the on-chain updatedAt -> hold
 *   (min_interval), whatever the reason.
 *
 * Memory: plain values, owned by the caller; nothing allocates. */
#ifndef ACTORS_GATE_DECIDE_H
#define ACTORS_GATE_DECIDE_H

#include <stdint.h>

#include "schemas/messages.h"
#include "schemas/u256.h"

typedef struct {
	uint64_t threshold_ppm;      /* DEVIATION_THRESHOLD: relative, ppm of |cur| */
	u256     threshold_abs;      /* DEVIATION_ABSOLUTE: in the feed's fixed point, >= 0 */
	uint64_t heartbeat_ns;       /* HEARTBEAT: 0 = none */
	uint64_t min_interval_ns;    /* MIN_INTERVAL */
	uint64_t update_timeout_ns;  /* UPDATE_TIMEOUT: an in-flight update older than this is superseded */
} gd_cfg;

typedef struct {
	int      known;              /* the on-chain state was read (or followed) at least once */
	u256     answer;             /* I256: the on-chain latest answer */
	uint64_t updated_at_s;       /* its updatedAt; 0 = the contract has no answer yet */
	u256     round_id;           /* U256: latest round id */
	uint64_t last_publish_ns;    /* the gate's last published update; 0 = none */
	int      inflight;           /* an update is published and not yet confirmed or failed */
	uint64_t inflight_since_ns;
} gd_state;

enum { GD_HOLD = 0, GD_PUBLISH = 1 };
enum {
	GD_WHY_REASON = 0,      /* publishing: see reason */
	GD_WHY_NO_CHAIN,        /* the on-chain answer is not known yet */
	GD_WHY_INFLIGHT,        /* one update per feed at a time */
	GD_WHY_WITHIN,          /* no deviation and the heartbeat is not due */
	GD_WHY_MIN_INTERVAL,    /* a reason exists but the last update is too recent */
	GD_WHY_COUNT
};

typedef struct {
	int      action;         /* GD_HOLD | GD_PUBLISH */
	int      reason;         /* SC_REASON_* (the reason found, even when min_interval holds it) */
	int      why;            /* GD_WHY_*: GD_WHY_REASON when publishing */
	int      supersede;      /* publishing over a timed-out in-flight update: ack the old one */
	int      outside;        /* the deviation thresholds are met */
	uint64_t deviation_ppm;  /* floor(|next - cur| * 1e6 / |cur|); UINT64_MAX when cur == 0 != next */
	uint64_t since_update_s; /* now - updatedAt (0 if none or in the future) */
} gd_decision;

/* Chainlink's OutsideDeviation, exactly (see above). abs must be >= 0 (read as uint256). */
int gd_outside_deviation(const u256 *cur, const u256 *next, uint64_t rel_ppm, const u256 *abs);
/* floor(|next - cur| * 10^6 / |cur|), saturated at UINT64_MAX (also when cur == 0 != next). */
uint64_t gd_deviation_ppm(const u256 *cur, const u256 *next);

void gd_decide(const gd_cfg *c, const gd_state *s, const u256 *next, uint64_t now_ns, gd_decision *d);

const char *gd_why_name(int why);       /* "no_chain", "inflight", ... */
const char *gd_reason_name(int reason); /* "first", "deviation", "heartbeat" */

#endif
