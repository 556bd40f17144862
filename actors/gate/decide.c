/* decide.c - the gate's decision: Chainlink deviation, heartbeat, min interval, in flight
 * (decide.h). */
#include "actors/gate/decide.h"

#include <stddef.h>

#define GD_NS 1000000000ull
#define GD_PPM 1000000ull

/* a * m on 320 bits (little-endian limbs). */
static void
gd_mul320(const u256 *a, uint64_t m, uint64_t out[5])
{
	unsigned __int128 carry = 0;
	for (int i = 0; i < 4; i++) {
		unsigned __int128 p = (unsigned __int128)a->w[i] * m + carry;
		out[i] = (uint64_t)p;
		carry = p >> 64;
	}
	out[4] = (uint64_t)carry;
}

/* Compares a*ma with b*mb exactly. */
static int
gd_cmp_scaled(const u256 *a, uint64_t ma, const u256 *b, uint64_t mb)
{
	uint64_t x[5], y[5];
	gd_mul320(a, ma, x);
	gd_mul320(b, mb, y);
	for (int i = 4; i >= 0; i--)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

/* |a - b| of two int256, exact as uint256. */
static void
gd_absdiff(u256 *r, const u256 *a, const u256 *b)
{
	if (i256_cmp(a, b) >= 0)
		u256_sub(r, a, b);
	else
		u256_sub(r, b, a);
}

static void
gd_abs(u256 *r, const u256 *a)
{
	if (i256_is_neg(a))
		i256_neg(r, a); /* -2^255 becomes 2^255 read unsigned: the right magnitude */
	else
		*r = *a;
}

int
gd_outside_deviation(const u256 *cur, const u256 *next, uint64_t rel_ppm, const u256 *abs)
{
	if (rel_ppm == 0 && u256_is_zero(abs))
		return 1;
	u256 diff, mag;
	gd_absdiff(&diff, cur, next);
	if (u256_cmp(&diff, abs) <= 0)
		return 0;
	if (u256_is_zero(cur))
		return !u256_is_zero(next);
	gd_abs(&mag, cur);
	return gd_cmp_scaled(&diff, GD_PPM, &mag, rel_ppm) >= 0;
}

uint64_t
gd_deviation_ppm(const u256 *cur, const u256 *next)
{
	u256 diff, mag, q, r;
	gd_absdiff(&diff, cur, next);
	if (u256_is_zero(cur))
		return u256_is_zero(&diff) ? 0 : UINT64_MAX;
	gd_abs(&mag, cur);
	u256_divmod(&q, &r, &diff, &mag);
	if (!u256_fits_u64(&q) || u256_low64(&q) > (UINT64_MAX - GD_PPM) / GD_PPM)
		return UINT64_MAX;
	/* floor(r * 1e6 / |cur|) < 2^20: set it bit by bit with exact compares. */
	uint64_t frac = 0;
	for (int bit = 19; bit >= 0; bit--) {
		uint64_t t = frac | (uint64_t)1 << bit;
		if (gd_cmp_scaled(&mag, t, &r, GD_PPM) <= 0)
			frac = t;
	}
	return u256_low64(&q) * GD_PPM + frac;
}

static uint64_t
gd_sat_mul(uint64_t a, uint64_t b)
{
	return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
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
		return;
	}
	d->action = GD_PUBLISH;
	d->why = GD_WHY_REASON;
}

static const char *const gd_why_names[GD_WHY_COUNT] = {
	[GD_WHY_REASON] = "reason",
	[GD_WHY_NO_CHAIN] = "no_chain",
	[GD_WHY_INFLIGHT] = "inflight",
	[GD_WHY_WITHIN] = "within_threshold",
	[GD_WHY_MIN_INTERVAL] = "min_interval",
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
