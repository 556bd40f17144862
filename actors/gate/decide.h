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
 *   (min_interval), whatever the reason; until_ns says when it ends.
 *
 * gd_evaluate wraps gd_decide with what the aggregate and the feed's failures allow:
 *   breaker open (BREAKER_AFTER consecutive failures)            -> hold (breaker)
 *   aggregate older than gd_agg_limit_ns (from oldest_observed_at) -> hold (stale_aggregate);
 *   once held (agg_held), the feed resumes only on an aggregate at most GD_AGG_RESUME_NUM/DEN of
 *   the limit old: two sources expiring a few hundred ms apart would otherwise flip the feed
 *   held -> usable -> held (and its alert firing -> resolved -> firing) on one barely-fresh aggregate
 *   gd_decide's outcome; a publish within the backoff after the last failure -> hold (backoff,
 *   until_ns when it ends)
 * The backoff after n consecutive failures is max(MIN_INTERVAL, 1 s) * 2^n, capped by
 * backoff_max; gd_fail/gd_succeed keep the count (a success clears it; only gd_reset closes an
 * open breaker).
 *
 * Memory: plain values, owned by the caller; nothing allocates. */
#ifndef OB_ACTORS_GATE_DECIDE_H
#define OB_ACTORS_GATE_DECIDE_H

#include <stdint.h>

#include "schemas/messages.h"
#include "base/u256.h"

typedef struct {
	uint64_t threshold_ppm;     /* DEVIATION_THRESHOLD: relative, ppm of |cur| */
	u256 threshold_abs;         /* DEVIATION_ABSOLUTE: in the feed's fixed point, >= 0 */
	uint64_t heartbeat_ns;      /* HEARTBEAT: 0 = none */
	uint64_t min_interval_ns;   /* MIN_INTERVAL */
	uint64_t update_timeout_ns; /* UPDATE_TIMEOUT: an in-flight update older than this is superseded */
	uint64_t agg_max_age_ns;    /* AGG_MAX_AGE: 0 = the aggregate's own window only */
	uint64_t backoff_max_ns;    /* BACKOFF_MAX: cap of the failure backoff; 0 = uncapped */
	uint32_t breaker_after;     /* BREAKER_AFTER: consecutive failures that open the breaker; 0 = never */
} gd_cfg;

/* An aggregate's age limit when neither AGG_MAX_AGE nor the aggregate's window_ms says one. */
#define GD_AGG_AGE_FALLBACK_NS (60ull * 1000000000ull)

typedef struct {
	int known;                /* the on-chain state was read (or followed) at least once */
	u256 answer;              /* I256: the on-chain latest answer */
	uint64_t updated_at_s;    /* its updatedAt; 0 = the contract has no answer yet */
	u256 round_id;            /* U256: latest round id */
	uint64_t last_publish_ns; /* the gate's last published update; 0 = none */
	int inflight;             /* an update is published and not yet confirmed or failed */
	uint64_t inflight_since_ns;
	uint32_t failures; /* consecutive failed updates (estimate reverted, tx failed) */
	uint64_t last_failure_ns;
	int breaker_open; /* no updates until gd_reset */
	int agg_held;     /* held for a stale aggregate (gd_agg_stale said so last); not persisted */
} gd_state;

/* The aggregate as the decision sees it. */
typedef struct {
	u256 median;                 /* I256 */
	uint64_t oldest_observed_ns; /* price.agg.oldest_observed_at_ns */
	uint64_t window_ms;          /* price.agg.window_ms (0 = not said) */
} gd_agg;

enum {
	GD_HOLD = 0,
	GD_PUBLISH = 1
};
enum {
	GD_WHY_REASON = 0,   /* publishing: see reason */
	GD_WHY_NO_CHAIN,     /* the on-chain answer is not known yet */
	GD_WHY_INFLIGHT,     /* one update per feed at a time */
	GD_WHY_WITHIN,       /* no deviation and the heartbeat is not due */
	GD_WHY_MIN_INTERVAL, /* a reason exists but the last update is too recent */
	GD_WHY_STALE_AGG,    /* the aggregate is older than the median considers fresh */
	GD_WHY_BACKOFF,      /* a reason exists but the last failure is too recent */
	GD_WHY_BREAKER,      /* too many consecutive failures: stopped until reset */
	GD_WHY_COUNT
};

typedef struct {
	int action;              /* GD_HOLD | GD_PUBLISH */
	int reason;              /* SC_REASON_* (the reason found, even when min_interval holds it) */
	int why;                 /* GD_WHY_*: GD_WHY_REASON when publishing */
	int supersede;           /* publishing over a timed-out in-flight update: ack the old one */
	int outside;             /* the deviation thresholds are met */
	uint64_t deviation_ppm;  /* floor(|next - cur| * 1e6 / |cur|); UINT64_MAX when cur == 0 != next */
	uint64_t since_update_s; /* now - updatedAt (0 if none or in the future) */
	uint64_t until_ns;       /* holding for min_interval or backoff: when that hold ends (wall ns), so the
	                            caller can decide again at that moment rather than on its next tick; else 0 */
} gd_decision;

/* Chainlink's OutsideDeviation, exactly (see above). abs must be >= 0 (read as uint256). */
int gd_outside_deviation(const u256 *cur, const u256 *next, uint64_t rel_ppm, const u256 *abs);
/* floor(|next - cur| * 10^6 / |cur|), saturated at UINT64_MAX (also when cur == 0 != next). */
uint64_t gd_deviation_ppm(const u256 *cur, const u256 *next);

void gd_decide(const gd_cfg *c, const gd_state *s, const u256 *next, uint64_t now_ns, gd_decision *d);
/* gd_decide plus breaker, staleness and backoff (see above). */
void gd_evaluate(const gd_cfg *c, const gd_state *s, const gd_agg *a, uint64_t now_ns, gd_decision *d);

/* min(agg_max_age, window_ms), 0 meaning unset; both unset: GD_AGG_AGE_FALLBACK_NS. */
uint64_t gd_agg_limit_ns(const gd_cfg *c, uint64_t window_ms);
/* now - oldest_observed (0 when that is in the future). */
uint64_t gd_agg_age_ns(const gd_agg *a, uint64_t now_ns);
int gd_agg_fresh(const gd_cfg *c, const gd_agg *a, uint64_t now_ns);
/* The hold rule with its hysteresis: 1 when the aggregate may not be used, given whether the feed
 * is held already (older than the limit; when held, older than GD_AGG_RESUME_NUM/DEN of it). */
#define GD_AGG_RESUME_NUM 3
#define GD_AGG_RESUME_DEN 4
int gd_agg_stale(const gd_cfg *c, const gd_agg *a, uint64_t now_ns, int held);
/* The wait after the failures-th consecutive failure. */
uint64_t gd_backoff_ns(const gd_cfg *c, uint32_t failures);
/* Counts a failure at now; returns 1 when it opens the breaker (once). */
int gd_fail(const gd_cfg *c, gd_state *s, uint64_t now_ns);
/* A success: the failure count is cleared (an open breaker stays open). */
void gd_succeed(gd_state *s);
/* The operator's reset: breaker closed, count cleared. */
void gd_reset(gd_state *s);

const char *gd_why_name(int why);       /* "no_chain", "inflight", ... */
const char *gd_reason_name(int reason); /* "first", "deviation", "heartbeat" */

#endif
