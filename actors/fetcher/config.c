/* config: feeds and sources from JSON or SOURCES, validated with named errors (see config.h). */
#include "actors/fetcher/config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	char *buf;
	size_t cap, len;
	int bad;
} fc_errs;

static void fc_err(fc_errs *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
fc_err(fc_errs *e, const char *fmt, ...)
{
	e->bad = 1;
	if (e->cap == 0 || e->len + 1 >= e->cap)
		return;
	if (e->len > 0)
		e->buf[e->len++] = '\n';
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(e->buf + e->len, e->cap - e->len, fmt, ap);
	va_end(ap);
	e->len = n < 0 ? e->len : e->len + (size_t)n >= e->cap ? e->cap - 1 : e->len + (size_t)n;
	e->buf[e->len] = '\0';
}

int
fc_valid_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > FC_NAME_CAP)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      strchr("._:/@+-", c)))
			return 0;
	}
	return 1;
}

/* Fills the parts of a source every origin (file or list) shares, checks them. */
static void
fc_finish_source(fc_source *s, int kind_ok, const char *where, fc_errs *e)
{
	char err[160];
	if (s->url == NULL || rt_check_http_url(s->url, err, sizeof err) != 0) {
		if (s->url == NULL || strncmp(err, "not an http", 11) == 0)
			fc_err(e, "%s: url must be http:// or https://", where);
		else
			fc_err(e, "%s: url: %s", where, err); /* host or port: the checker says which */
	}
	if (s->spec.kind == FX_COINGECKO && s->path == NULL && s->url) {
		char p[96], t[96];
		if (fx_coingecko_paths(s->url, p, sizeof p, t, sizeof t, err, sizeof err) != 0)
			fc_err(e, "%s: %s", where, err);
		else {
			s->path = strdup(p);
			if (s->ts_path == NULL)
				s->ts_path = strdup(t);
		}
	}
	if (kind_ok && s->spec.kind == FX_GENERIC && s->path == NULL)
		fc_err(e, "%s: a generic source needs \"path\" (e.g. \"data.price\")", where);
	s->spec.path = s->path;
	s->spec.ts_path = s->ts_path;
}

static const char *fc_kind_list = "coingecko, binance, coinbase, kraken, generic";

static int
fc_grow(fc_config *c, size_t nf, size_t ns)
{
	c->feeds = calloc(nf ? nf : 1, sizeof *c->feeds);
	c->srcs = calloc(ns ? ns : 1, sizeof *c->srcs);
	return c->feeds && c->srcs ? 0 : -1;
}

/* A duration given as a string ("5s") or a number of seconds. */
static int
fc_duration(const json_t *v, uint64_t *ms)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*ms = (uint64_t)json_integer_value(v) * 1000u;
		return 0;
	}
	return json_is_string(v) ? rt_parse_duration_ms(json_string_value(v), ms) : -1;
}

static const char *const fc_src_keys[] = { "name",    "kind",     "url",          "path",    "ts_path",
	                                   "ts_unit", "interval", "min_interval", "headers", NULL };
static const char *const fc_feed_keys[] = { "feed", "decimals", "sources", NULL };

static void
fc_unknown_keys(const json_t *obj, const char *const *keys, const char *where, fc_errs *e)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)obj, k, v)
	{
		size_t i;
		for (i = 0; keys[i] && strcmp(keys[i], k) != 0; i++)
			;
		if (!keys[i])
			fc_err(e, "%s: unknown key \"%s\"", where, k);
	}
}

static char *
fc_opt_str(const json_t *o, const char *key, const char *where, fc_errs *e)
{
	const json_t *v = json_object_get(o, key);
	if (v == NULL)
		return NULL;
	if (!json_is_string(v) || json_string_length(v) == 0) {
		fc_err(e, "%s: \"%s\" must be a non-empty string", where, key);
		return NULL;
	}
	return strdup(json_string_value(v));
}

static void
fc_parse_source(const json_t *js, fc_source *s, size_t fi, size_t si, fc_errs *e)
{
	char where[96];
	const json_t *name = json_object_get(js, "name");
	snprintf(where, sizeof where, "feeds[%zu].sources[%zu]", fi, si);
	if (!json_is_object(js)) {
		fc_err(e, "%s: must be an object", where);
		return;
	}
	if (!json_is_string(name) || !fc_valid_name(json_string_value(name))) {
		fc_err(e, "%s: \"name\" must be 1..31 characters of [A-Za-z0-9._:/@+-]", where);
	} else {
		snprintf(s->name, sizeof s->name, "%s", json_string_value(name));
		snprintf(where, sizeof where, "feeds[%zu].sources[%zu] \"%s\"", fi, si, s->name);
	}
	fc_unknown_keys(js, fc_src_keys, where, e);
	const json_t *kind = json_object_get(js, "kind");
	const char *kname = json_is_string(kind) ? json_string_value(kind) : s->name;
	int k = fx_kind_from_name(kname);
	if (k < 0)
		fc_err(e, "%s: kind \"%s\" unknown (%s)", where, kname, fc_kind_list);
	s->spec.kind = k < 0 ? FX_GENERIC : (fx_kind)k;
	s->url = fc_opt_str(js, "url", where, e);
	if (s->url == NULL && json_object_get(js, "url") == NULL)
		fc_err(e, "%s: \"url\" is required", where);
	s->path = fc_opt_str(js, "path", where, e);
	s->ts_path = fc_opt_str(js, "ts_path", where, e);
	const json_t *unit = json_object_get(js, "ts_unit");
	s->spec.ts_unit = FX_TS_S;
	if (unit) {
		int u = json_is_string(unit) ? fx_unit_from_name(json_string_value(unit)) : -1;
		if (u < 0)
			fc_err(e, "%s: ts_unit must be one of s, ms, us, ns, rfc3339", where);
		else
			s->spec.ts_unit = (fx_ts_unit)u;
	}
	const json_t *iv = json_object_get(js, "interval"), *mi = json_object_get(js, "min_interval");
	if (iv && (fc_duration(iv, &s->interval_ms) != 0 || s->interval_ms == 0))
		fc_err(e, "%s: interval must be a positive duration (\"10s\", \"500ms\", or seconds)", where);
	if (mi && fc_duration(mi, &s->min_interval_ms) != 0)
		fc_err(e, "%s: min_interval must be a duration (\"1s\", or seconds)", where);
	const json_t *hd = json_object_get(js, "headers");
	if (hd && !json_is_object(hd))
		fc_err(e, "%s: headers must be an object of strings", where);
	const char *hk;
	json_t *hv;
	json_object_foreach((json_t *)hd, hk, hv)
	{
		if (s->nheaders == FC_MAX_HEADERS || !json_is_string(hv) || !*hk || strpbrk(hk, ": \r\n") ||
		    strpbrk(json_string_value(hv), "\r\n")) {
			fc_err(e,
			       "%s: header \"%s\": at most %d, names without ':' or spaces, string values on one line",
			       where, hk, FC_MAX_HEADERS);
			break;
		}
		size_t n = strlen(hk) + json_string_length(hv) + 3;
		if ((s->headers[s->nheaders] = malloc(n)) != NULL)
			snprintf(s->headers[s->nheaders++], n, "%s: %s", hk, json_string_value(hv));
	}
	s->feed = fi;
	fc_finish_source(s, k >= 0, where, e);
}

int
fc_from_json(const json_t *root, fc_config *c, char *err, size_t errlen)
{
	fc_errs e = { err, errlen, 0, 0 };
	const json_t *feeds = json_object_get(root, "feeds");
	memset(c, 0, sizeof *c);
	if (errlen)
		err[0] = '\0';
	if (!json_is_object(root) || !json_is_array(feeds) || json_array_size(feeds) == 0) {
		fc_err(&e, "config: want {\"feeds\":[{\"feed\":..,\"sources\":[..]}, ...]}");
		return -1;
	}
	size_t ns = 0, fi, si;
	json_t *f, *js;
	json_array_foreach(feeds, fi, f) ns += json_array_size(json_object_get(f, "sources"));
	if (fc_grow(c, json_array_size(feeds), ns) != 0) {
		fc_err(&e, "config: out of memory");
		return -1;
	}
	json_array_foreach(feeds, fi, f)
	{
		char where[64];
		fc_feed *fd = &c->feeds[c->nfeeds++];
		snprintf(where, sizeof where, "feeds[%zu]", fi);
		if (!json_is_object(f)) {
			fc_err(&e, "%s: must be an object", where);
			continue;
		}
		const json_t *name = json_object_get(f, "feed"), *dec = json_object_get(f, "decimals");
		if (!json_is_string(name) || !fc_valid_name(json_string_value(name)))
			fc_err(&e, "%s: \"feed\" must be 1..31 characters of [A-Za-z0-9._:/@+-]", where);
		else {
			snprintf(fd->name, sizeof fd->name, "%s", json_string_value(name));
			snprintf(where, sizeof where, "feeds[%zu] \"%s\"", fi, fd->name);
		}
		fc_unknown_keys(f, fc_feed_keys, where, &e);
		fd->decimals = 8;
		if (dec && (!json_is_integer(dec) || json_integer_value(dec) < 0 ||
		            json_integer_value(dec) > U256_MAX_DECIMALS))
			fc_err(&e, "%s: decimals must be an integer 0..%d", where, U256_MAX_DECIMALS);
		else if (dec)
			fd->decimals = (unsigned)json_integer_value(dec);
		for (size_t k = 0; k + 1 < c->nfeeds && fd->name[0]; k++)
			if (strcmp(c->feeds[k].name, fd->name) == 0)
				fc_err(&e, "%s: feed listed twice", where);
		const json_t *srcs = json_object_get(f, "sources");
		if (!json_is_array(srcs) || json_array_size(srcs) == 0) {
			fc_err(&e, "%s: \"sources\" must be a non-empty array", where);
			continue;
		}
		size_t first = c->nsrcs;
		json_array_foreach(srcs, si, js)
		{
			fc_source *s = &c->srcs[c->nsrcs++];
			fc_parse_source(js, s, fi, si, &e);
			s->spec.decimals = fd->decimals;
			for (size_t k = first; k + 1 < c->nsrcs && s->name[0]; k++)
				if (strcmp(c->srcs[k].name, s->name) == 0)
					fc_err(&e, "%s.sources[%zu]: source name \"%s\" used twice in this feed", where,
					       si, s->name);
		}
	}
	if (e.bad) {
		fc_free(c);
		return -1;
	}
	return 0;
}

int
fc_from_list(const char *feed, unsigned decimals, const rt_strlist *sources, uint64_t min_interval_ms, fc_config *c,
             char *err, size_t errlen)
{
	fc_errs e = { err, errlen, 0, 0 };
	memset(c, 0, sizeof *c);
	if (errlen)
		err[0] = '\0';
	if (!fc_valid_name(feed))
		fc_err(&e, "FEED: \"%s\" must be 1..31 characters of [A-Za-z0-9._:/@+-]", feed ? feed : "");
	if (decimals > U256_MAX_DECIMALS)
		fc_err(&e, "DECIMALS: at most %d", U256_MAX_DECIMALS);
	if (sources->n == 0)
		fc_err(&e, "SOURCES: empty (name=url or name:kind=url, comma-separated), or set CONFIG_FILE");
	if (e.bad || fc_grow(c, 1, sources->n) != 0) {
		fc_free(c);
		return -1;
	}
	snprintf(c->feeds[0].name, sizeof c->feeds[0].name, "%s", feed);
	c->feeds[0].decimals = decimals;
	c->nfeeds = 1;
	for (size_t i = 0; i < sources->n; i++) {
		char where[64], name[64];
		const char *item = sources->v[i], *eq = strchr(item, '=');
		fc_source *s = &c->srcs[c->nsrcs++];
		snprintf(where, sizeof where, "SOURCES[%zu]", i);
		if (eq == NULL || eq == item || (size_t)(eq - item) >= sizeof name) {
			fc_err(&e, "%s: \"%s\" is not name=url or name:kind=url", where, item);
			continue;
		}
		snprintf(name, sizeof name, "%.*s", (int)(eq - item), item);
		char *colon = strchr(name, ':');
		const char *kname = name;
		if (colon) {
			*colon = '\0';
			kname = colon + 1;
		}
		if (!fc_valid_name(name))
			fc_err(&e, "%s: name \"%s\" must be 1..31 characters of [A-Za-z0-9._@+-]", where, name);
		snprintf(s->name, sizeof s->name, "%.31s", name);
		snprintf(where, sizeof where, "SOURCES[%zu] \"%s\"", i, s->name);
		int k = fx_kind_from_name(kname);
		if (k < 0 || k == FX_GENERIC)
			fc_err(&e,
			       "%s: kind \"%s\" unknown (coingecko, binance, coinbase, kraken; generic needs "
			       "CONFIG_FILE)",
			       where, kname);
		s->spec.kind = k < 0 ? FX_GENERIC : (fx_kind)k;
		s->url = strdup(eq + 1);
		s->min_interval_ms = min_interval_ms;
		s->spec.decimals = decimals;
		fc_finish_source(s, k >= 0 && k != FX_GENERIC, where, &e);
		for (size_t j = 0; j + 1 < c->nsrcs; j++)
			if (strcmp(c->srcs[j].name, s->name) == 0)
				fc_err(&e, "%s: name used twice", where);
	}
	if (e.bad) {
		fc_free(c);
		return -1;
	}
	return 0;
}

void
fc_free(fc_config *c)
{
	for (size_t i = 0; c->srcs && i < c->nsrcs; i++) {
		fc_source *s = &c->srcs[i];
		free(s->url);
		free(s->path);
		free(s->ts_path);
		for (size_t h = 0; h < s->nheaders; h++)
			free(s->headers[h]);
	}
	free(c->srcs);
	free(c->feeds);
	memset(c, 0, sizeof *c);
}
