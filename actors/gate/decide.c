/* decide.c - the gate's decision: Chainlink deviation, heartbeat, min interval, in flight
 * (decide.h). */
#include "actors/gate/decide.h"

#include <stddef.h>

#define GD_NS  1000000000ull
#define GD_PPM 1000000ull

int
gd_outside_deviation(const u256 *cur, const u256 *next, uint64_t rel_ppm, const u256 *abs)
{
	if (rel_ppm == 0 && u256_is_zero(abs))
		return 1;
	u256 diff, mag;
	i256_absdiff(&diff, cur, next);
	if (u256_cmp(&diff, abs) <= 0)
		return 0;
	if (u256_is_zero(cur))
		return !u256_is_zero(next);
	i256_abs(&mag, cur);
	return u256_cmp_scaled(&diff, GD_PPM, &mag, rel_ppm) >= 0;
}

uint64_t
gd_deviation_ppm(const u256 *cur, const u256 *next)
{
	u256 diff, mag;
	i256_absdiff(&diff, cur, next);
	i256_abs(&mag, cur);
	return u256_ratio_ppm(&diff, &mag); /* cur == 0: 0 if unchanged, else "infinite" */
}

static uint64_t
gd_sat_mul(uint64_t a, uint64_t b)
{
	return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static uint64_t
gd_sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void
gd_decide(const gd_cfg *c, const gd_state *s, const u256 *next, uint64_t now_ns, gd_decision *d)
{
	*d = (gd_decision){ .action = GD_HOLD, .reason = -1 };
	if (!s->known) {
		d->why = GD_WHY_NO_CHAIN;
		return;
	}
	uint64_t updated_ns = gd_sat_mul(s->updated_at_s, GD_NS);
	d->since_update_s = s->updated_at_s && now_ns > updated_ns ? (now_ns - updated_ns) / GD_NS : 0;
	d->deviation_ppm = gd_deviation_ppm(&s->answer, next);
	d->outside = gd_outside_deviation(&s->answer, next, c->threshold_ppm, &c->threshold_abs);

	if (s->updated_at_s == 0)
		d->reason = SC_REASON_FIRST;
	else if (d->outside)
		d->reason = SC_REASON_DEVIATION;
	else if (c->heartbeat_ns > 0 && now_ns >= updated_ns && now_ns - updated_ns >= c->heartbeat_ns)
		d->reason = SC_REASON_HEARTBEAT;

	if (s->inflight) {
		if (now_ns < s->inflight_since_ns || now_ns - s->inflight_since_ns < c->update_timeout_ns) {
			d->why = GD_WHY_INFLIGHT;
			return;
		}
		d->supersede = 1;
	}
	if (d->reason < 0) {
		d->why = GD_WHY_WITHIN;
		d->supersede = 0;
		return;
	}
	uint64_t last = s->last_publish_ns > updated_ns ? s->last_publish_ns : updated_ns;
	if (last > 0 && now_ns >= last && now_ns - last < c->min_interval_ns) {
		d->why = GD_WHY_MIN_INTERVAL;
		d->supersede = 0;
		d->until_ns = gd_sat_add(last, c->min_interval_ns);
		return;
	}
	d->action = GD_PUBLISH;
	d->why = GD_WHY_REASON;
}

uint64_t
gd_agg_limit_ns(const gd_cfg *c, uint64_t window_ms)
{
	uint64_t lim = c->agg_max_age_ns, w = gd_sat_mul(window_ms, 1000000ull);
	if (w > 0 && (lim == 0 || w < lim))
		lim = w;
	return lim ? lim : GD_AGG_AGE_FALLBACK_NS;
}

uint64_t
gd_agg_age_ns(const gd_agg *a, uint64_t now_ns)
{
	return now_ns > a->oldest_observed_ns ? now_ns - a->oldest_observed_ns : 0;
}

int
gd_agg_fresh(const gd_cfg *c, const gd_agg *a, uint64_t now_ns)
{
	return gd_agg_age_ns(a, now_ns) <= gd_agg_limit_ns(c, a->window_ms);
}

int
gd_agg_stale(const gd_cfg *c, const gd_agg *a, uint64_t now_ns, int held)
{
	uint64_t lim = gd_agg_limit_ns(c, a->window_ms);
	if (held)
		lim = lim / GD_AGG_RESUME_DEN * GD_AGG_RESUME_NUM;
	return gd_agg_age_ns(a, now_ns) > lim;
}

uint64_t
gd_backoff_ns(const gd_cfg *c, uint32_t failures)
{
	uint64_t base = c->min_interval_ns > GD_NS ? c->min_interval_ns : GD_NS;
	uint64_t v = gd_sat_mul(base, failures >= 63 ? UINT64_MAX : 1ull << failures);
	return c->backoff_max_ns > 0 && v > c->backoff_max_ns ? c->backoff_max_ns : v;
}

void
gd_evaluate(const gd_cfg *c, const gd_state *s, const gd_agg *a, uint64_t now_ns, gd_decision *d)
{
	gd_decide(c, s, &a->median, now_ns, d);
	int hold = -1;
	uint64_t until = 0;
	if (s->breaker_open)
		hold = GD_WHY_BREAKER;
	else if (gd_agg_stale(c, a, now_ns, s->agg_held))
		hold = GD_WHY_STALE_AGG;
	else if (d->action == GD_PUBLISH && s->failures > 0 && now_ns >= s->last_failure_ns &&
	         now_ns - s->last_failure_ns < gd_backoff_ns(c, s->failures)) {
		hold = GD_WHY_BACKOFF;
		until = gd_sat_add(s->last_failure_ns, gd_backoff_ns(c, s->failures));
	}
	if (hold >= 0) {
		d->action = GD_HOLD;
		d->why = hold;
		d->supersede = 0;
		d->until_ns = until;
	}
}

int
gd_fail(const gd_cfg *c, gd_state *s, uint64_t now_ns)
{
	if (s->failures < UINT32_MAX)
		s->failures++;
	s->last_failure_ns = now_ns;
	if (!s->breaker_open && c->breaker_after > 0 && s->failures >= c->breaker_after) {
		s->breaker_open = 1;
		return 1;
	}
	return 0;
}

void
gd_succeed(gd_state *s)
{
	s->failures = 0;
	s->last_failure_ns = 0;
}

void
gd_reset(gd_state *s)
{
	gd_succeed(s);
	s->breaker_open = 0;
}

static const char *const gd_why_names[GD_WHY_COUNT] = {
	[GD_WHY_REASON] = "reason",
	[GD_WHY_NO_CHAIN] = "no_chain",
	[GD_WHY_INFLIGHT] = "inflight",
	[GD_WHY_WITHIN] = "within_threshold",
	[GD_WHY_MIN_INTERVAL] = "min_interval",
	[GD_WHY_STALE_AGG] = "stale_aggregate",
	[GD_WHY_BACKOFF] = "backoff",
	[GD_WHY_BREAKER] = "breaker",
};

static const char *const gd_reason_names[] = {
	[SC_REASON_FIRST] = "first",
	[SC_REASON_DEVIATION] = "deviation",
	[SC_REASON_HEARTBEAT] = "heartbeat",
};

const char *
gd_why_name(int why)
{
	return why >= 0 && why < GD_WHY_COUNT ? gd_why_names[why] : "?";
}

const char *
gd_reason_name(int reason)
{
	return reason >= 0 && (size_t)reason < sizeof gd_reason_names / sizeof gd_reason_names[0]
	               ? gd_reason_names[reason]
	               : "none";
}
