/* median.h - the median actor's pure logic: per feed, the freshest observation of each distinct
 * source within a window, outlier removal around a provisional median, a spread check, a quorum,
 * and the aggregate record the actor publishes. No I/O, no clock: callers pass `now`.
 *
 * Arithmetic is exact on int256 (base/u256.h). With an even number of values the median is the
 * mean of the two middle ones, truncated toward zero, as Chainlink's Median.sol does
 * (SignedSafeMath.avg): avg(3, 4) = 3, avg(-3, -4) = -3. Ratios (deviation, spread) are computed
 * on 320-bit products, floor'd, and compared without rounding: |v - m| * 10^6 > max_ppm * |m|.
 *
 * Memory: md_feed is a plain value owned by the caller (one per feed); nothing allocates. */
#ifndef OB_ACTORS_MEDIAN_MEDIAN_H
#define OB_ACTORS_MEDIAN_MEDIAN_H

#include <stddef.h>
#include <stdint.h>

#include "schemas/messages.h"
#include "base/u256.h"

#define MD_MAX_SOURCES SC_MAX_SOURCES

typedef struct {
	uint64_t window_ns;      /* an observation older than now - window is not used */
	uint32_t quorum;         /* distinct fresh sources needed after outliers are dropped */
	uint64_t max_dev_ppm;    /* drop a source farther than this from the provisional median; 0 = off */
	uint64_t max_spread_ppm; /* refuse when (max - min) / |median| exceeds this; 0 = off */
} md_cfg;

typedef struct {
	char feed[SC_NAME_CAP + 1];
	uint64_t decimals; /* of every observation held; learned from the first one */
	sc_source_value src[MD_MAX_SOURCES];
	size_t n;
} md_feed;

/* md_observe results. */
enum {
	MD_OK = 0,
	MD_EFEED,     /* the observation is for another feed */
	MD_EDECIMALS, /* decimals differ from the feed's */
	MD_ESTALE,    /* older than the window, or older than what this source already gave */
	MD_EFULL,     /* a new source but MD_MAX_SOURCES are held */
};

/* md_compute results: the refusal reasons double as metric label values (md_status_name). */
enum {
	MD_AGG = 0,      /* *out is an aggregate to publish */
	MD_NO_DATA,      /* no fresh observation at all */
	MD_BELOW_QUORUM, /* fewer than quorum fresh sources (before or after outlier removal) */
	MD_DISAGREE,     /* the remaining sources spread beyond max_spread_ppm */
};

void md_feed_init(md_feed *f, const char *feed);
/* Keeps o (observed at o->observed_at_ns, which must be set) as its source's freshest value. */
int md_observe(md_feed *f, const md_cfg *c, const sc_price_obs *o, uint64_t now_ns);
/* Forgets observations older than the window; returns how many were removed. */
size_t md_prune(md_feed *f, const md_cfg *c, uint64_t now_ns);
/* Prunes, then aggregates. Always fills out (feed, decimals, used/dropped, spread, times) so the
 * caller can log and count what happened even on a refusal; *fresh = sources before outlier
 * removal. */
int md_compute(md_feed *f, const md_cfg *c, uint64_t now_ns, sc_price_agg *out, size_t *fresh);

/* Whether two aggregates are equal for publishing (same median, decimals and set of used
 * sources), whatever their times. */
int md_same_aggregate(const sc_price_agg *a, const sc_price_agg *b);

/* Whether next may be published after last (published since_pub_ns ago): a different aggregate
 * always; an equal one after min_pub_ns (MIN_PUBLISH_INTERVAL), or sooner when last's oldest
 * observation is half window_ns (WINDOW) old at now_ns and next's is newer - consumers stop using
 * an aggregate once its oldest observation is WINDOW old, so with MIN_PUBLISH_INTERVAL near or
 * above WINDOW they would see a live feed go stale (and its gate hold it and alert) between
 * repeats; a repeat that would not be any fresher (a source gone quiet) waits as before. */
int md_publish_due(const sc_price_agg *last, const sc_price_agg *next, uint64_t since_pub_ns, uint64_t now_ns,
                   uint64_t min_pub_ns, uint64_t window_ns);

/* Pure helpers, exposed for tests. */
void md_avg_toward_zero(u256 *r, const u256 *a, const u256 *b); /* (a+b)/2, truncated */
const char *md_status_name(int status);
const char *md_observe_error_name(int err);

#endif
