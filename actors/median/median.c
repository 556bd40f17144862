/* median.c - per-feed freshest-per-source median with outliers, spread and quorum (median.h). */
#include "actors/median/median.h"

#include <stdio.h>
#include <string.h>

/* ---- exact helpers ------------------------------------------------------------------------ */

/* a / 2 truncated toward zero, and the remainder's sign (-1, 0, 1). */
static int
md_half(u256 *r, const u256 *a)
{
	u256 m;
	int neg = i256_is_neg(a);
	i256_abs(&m, a);
	uint64_t rem = u256_divmod_u64(r, &m, 2);
	if (neg) {
		i256_neg(r, r);
		return rem ? -1 : 0;
	}
	return rem ? 1 : 0;
}

void
md_avg_toward_zero(u256 *r, const u256 *a, const u256 *b)
{
	int na = i256_is_neg(a), nb = i256_is_neg(b);
	int za = u256_is_zero(a), zb = u256_is_zero(b);
	if (!za && !zb && na != nb) {
		/* Opposite signs: the sum cannot overflow int256. */
		u256 s;
		u256_add(&s, a, b);
		md_half(r, &s);
		return;
	}
	/* Same sign (or a zero): halve each, then add half of what the two remainders make. The
	 * remainders share the sign, so (ra + rb) / 2 is 0 or +-1. */
	u256 ha, hb;
	int ra = md_half(&ha, a), rb = md_half(&hb, b);
	u256_add(r, &ha, &hb);
	int extra = (ra + rb) / 2;
	if (extra != 0) {
		u256 one;
		u256_from_u64(&one, 1);
		if (extra > 0)
			u256_add(r, r, &one);
		else
			u256_sub(r, r, &one);
	}
}

/* ---- feed state --------------------------------------------------------------------------- */

void
md_feed_init(md_feed *f, const char *feed)
{
	memset(f, 0, sizeof *f);
	snprintf(f->feed, sizeof f->feed, "%s", feed);
}

static int
md_fresh(const md_cfg *c, uint64_t t, uint64_t now_ns)
{
	/* md_observe never stores a time after its arrival; the test keeps a held one valid. */
	return t >= now_ns || now_ns - t <= c->window_ns;
}

size_t
md_prune(md_feed *f, const md_cfg *c, uint64_t now_ns)
{
	size_t k = 0, removed = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (md_fresh(c, f->src[i].observed_at_ns, now_ns))
			f->src[k++] = f->src[i];
		else
			removed++;
	}
	f->n = k;
	return removed;
}

int
md_observe(md_feed *f, const md_cfg *c, const sc_price_obs *o, uint64_t now_ns)
{
	if (strcmp(o->feed, f->feed) != 0)
		return MD_EFEED;
	md_prune(f, c, now_ns); /* so a feed whose sources all went quiet may change its decimals */
	/* An observation cannot be fresher than its arrival: one stamped in the future (a fast
	 * clock) is held as observed now, so it expires one WINDOW later like any other instead of
	 * keeping an aggregate "fresh" for as long as the clock is ahead. */
	uint64_t t = o->observed_at_ns > now_ns ? now_ns : o->observed_at_ns;
	if (!md_fresh(c, t, now_ns))
		return MD_ESTALE;
	if (f->n > 0 && o->decimals != f->decimals)
		return MD_EDECIMALS;
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->src[i].source, o->source) != 0)
			continue;
		/* A source sends one price at a time: keep its freshest, ignore a late older one. */
		if (t < f->src[i].observed_at_ns)
			return MD_ESTALE;
		f->src[i].value = o->value;
		f->src[i].observed_at_ns = t;
		return MD_OK;
	}
	if (f->n == MD_MAX_SOURCES)
		return MD_EFULL;
	if (f->n == 0)
		f->decimals = o->decimals;
	sc_source_value *s = &f->src[f->n++];
	memset(s, 0, sizeof *s);
	snprintf(s->source, sizeof s->source, "%s", o->source);
	s->value = o->value;
	s->observed_at_ns = t;
	return MD_OK;
}

/* Insertion sort by signed value: at most 16 elements, and stable, so equal values keep their
 * arrival order (deterministic output). */
static void
md_sort(sc_source_value *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		sc_source_value x = v[i];
		size_t j = i;
		for (; j > 0 && i256_cmp(&v[j - 1].value, &x.value) > 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static void
md_median_sorted(u256 *m, const sc_source_value *v, size_t n)
{
	if (n % 2)
		*m = v[n / 2].value;
	else
		md_avg_toward_zero(m, &v[n / 2 - 1].value, &v[n / 2].value);
}

int
md_compute(md_feed *f, const md_cfg *c, uint64_t now_ns, sc_price_agg *out, size_t *fresh)
{
	sc_source_value v[MD_MAX_SOURCES];
	memset(out, 0, sizeof *out);
	snprintf(out->feed, sizeof out->feed, "%s", f->feed);
	out->aggregated_at_ns = now_ns;
	out->window_ms = c->window_ns / 1000000; /* consumers (the gate) refuse it once older */
	md_prune(f, c, now_ns);
	out->decimals = f->decimals;
	*fresh = f->n;
	if (f->n == 0)
		return MD_NO_DATA;
	memcpy(v, f->src, f->n * sizeof v[0]);
	md_sort(v, f->n);

	u256 prov, m, mag, d;
	md_median_sorted(&prov, v, f->n);
	i256_abs(&mag, &prov);
	for (size_t i = 0; i < f->n; i++) {
		i256_absdiff(&d, &v[i].value, &prov);
		int outlier = c->max_dev_ppm > 0 && u256_cmp_scaled(&d, 1000000, &mag, c->max_dev_ppm) > 0;
		if (outlier)
			out->dropped[out->dropped_count++] = v[i];
		else
			out->used[out->used_count++] = v[i];
	}
	if (out->used_count > 0) {
		md_median_sorted(&m, out->used, out->used_count);
		out->median = m;
		i256_abs(&mag, &m);
		i256_absdiff(&d, &out->used[out->used_count - 1].value, &out->used[0].value);
		out->spread_ppm = u256_ratio_ppm(&d, &mag);
		out->oldest_observed_at_ns = UINT64_MAX;
		for (size_t i = 0; i < out->used_count; i++)
			if (out->used[i].observed_at_ns < out->oldest_observed_at_ns)
				out->oldest_observed_at_ns = out->used[i].observed_at_ns;
	}
	if (out->used_count < c->quorum || out->used_count == 0)
		return MD_BELOW_QUORUM;
	if (c->max_spread_ppm > 0 && out->spread_ppm > c->max_spread_ppm)
		return MD_DISAGREE;
	return MD_AGG;
}

int
md_same_aggregate(const sc_price_agg *a, const sc_price_agg *b)
{
	if (u256_cmp(&a->median, &b->median) != 0 || a->decimals != b->decimals || a->used_count != b->used_count)
		return 0;
	for (uint32_t i = 0; i < a->used_count; i++)
		if (strcmp(a->used[i].source, b->used[i].source) != 0)
			return 0;
	return 1;
}

int
md_publish_due(const sc_price_agg *last, const sc_price_agg *next, uint64_t since_pub_ns, uint64_t now_ns,
               uint64_t min_pub_ns, uint64_t window_ns)
{
	if (!md_same_aggregate(last, next) || since_pub_ns >= min_pub_ns)
		return 1;
	uint64_t age = now_ns > last->oldest_observed_at_ns ? now_ns - last->oldest_observed_at_ns : 0;
	return age >= window_ns / 2 && next->oldest_observed_at_ns > last->oldest_observed_at_ns;
}

static const char *const md_status_names[] = {
	[MD_AGG] = "ok",
	[MD_NO_DATA] = "no_data",
	[MD_BELOW_QUORUM] = "below_quorum",
	[MD_DISAGREE] = "sources_disagree",
};

static const char *const md_observe_names[] = {
	[MD_OK] = "ok",        [MD_EFEED] = "wrong_feed",       [MD_EDECIMALS] = "decimals_mismatch",
	[MD_ESTALE] = "stale", [MD_EFULL] = "too_many_sources",
};

const char *
md_status_name(int s)
{
	return s >= 0 && (size_t)s < sizeof md_status_names / sizeof md_status_names[0] ? md_status_names[s] : "?";
}

const char *
md_observe_error_name(int e)
{
	return e >= 0 && (size_t)e < sizeof md_observe_names / sizeof md_observe_names[0] ? md_observe_names[e] : "?";
}
