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

/* The one-URL form: the source prices one feed. */
static void
fc_one_member(fc_source *s, size_t feed, fc_errs *e)
{
	if ((s->members = calloc(1, sizeof *s->members)) == NULL) {
		fc_err(e, "out of memory");
		return;
	}
	s->members[0].feed = feed;
	s->nmembers = 1;
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

/* One source entry. batched: an entry of the many-feeds form's "sources" (its own keys and checks
 * follow in fc_feeds_sources). */
static void
fc_parse_source(const json_t *js, fc_source *s, size_t fi, size_t si, int batched, fc_errs *e)
{
	char where[96];
	const json_t *name = json_object_get(js, "name");
	if (batched)
		snprintf(where, sizeof where, "sources[%zu]", si);
	else
		snprintf(where, sizeof where, "feeds[%zu].sources[%zu]", fi, si);
	if (!json_is_object(js)) {
		fc_err(e, "%s: must be an object", where);
		return;
	}
	if (!json_is_string(name) || !fc_valid_name(json_string_value(name))) {
		fc_err(e, "%s: \"name\" must be 1..31 characters of [A-Za-z0-9._:/@+-]", where);
	} else {
		snprintf(s->name, sizeof s->name, "%s", json_string_value(name));
		if (batched)
			snprintf(where, sizeof where, "sources[%zu] \"%s\"", si, s->name);
		else
			snprintf(where, sizeof where, "feeds[%zu].sources[%zu] \"%s\"", fi, si, s->name);
	}
	if (!batched)
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
	if (batched) {
		s->spec.path = s->path;
		s->spec.ts_path = s->ts_path;
		return;
	}
	fc_one_member(s, fi, e);
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
			fc_parse_source(js, s, fi, si, 0, &e);
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
		fc_one_member(s, 0, &e);
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
		free(s->members);
	}
	free(c->srcs);
	free(c->feeds);
	memset(c, 0, sizeof *c);
}

/* ---- the many-feeds form ------------------------------------------------------------------------ */

/* BASE and QUOTE of a feed "BASE-QUOTE" (upper-case as given). 0 or -1. */
static int
fc_split_feed(const char *feed, char *base, char *quote, size_t cap)
{
	const char *dash = strchr(feed, '-');
	size_t bl = dash ? (size_t)(dash - feed) : 0;
	if (!dash || bl == 0 || bl >= cap || !dash[1] || strlen(dash + 1) >= cap || strchr(dash + 1, '-'))
		return -1;
	memcpy(base, feed, bl);
	base[bl] = '\0';
	snprintf(quote, cap, "%s", dash + 1);
	return 0;
}

static void
fc_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

int
fc_default_symbol(fx_kind kind, const char *feed, char *sym, size_t cap)
{
	static const char *const cg[][2] = { { "ETH", "ethereum" },   { "BTC", "bitcoin" },
		                             { "LINK", "chainlink" }, { "USDC", "usd-coin" },
		                             { "USDT", "tether" },    { "DAI", "dai" },
		                             { "SOL", "solana" },     { "MATIC", "matic-network" } };
	/* Kraken's older assets keep X/Z-prefixed pair keys against the fiat currencies */
	static const char *const kr_legacy[] = { "XBT", "ETH", "LTC", "XRP", "XLM", "ETC", "ZEC", "XMR", "REP", "MLN" };
	static const char *const kr_fiat[] = { "USD", "EUR", "GBP", "JPY", "CAD" };
	char base[24], quote[24], lq[24];
	if (fc_split_feed(feed, base, quote, sizeof base) != 0)
		return -1;
	snprintf(lq, sizeof lq, "%s", quote);
	fc_lower(lq);
	int n = -1;
	switch (kind) {
	case FX_COINGECKO:
		for (size_t i = 0; i < sizeof cg / sizeof cg[0]; i++)
			if (strcmp(cg[i][0], base) == 0)
				n = snprintf(sym, cap, "%s/%s", cg[i][1], lq);
		break;
	case FX_BINANCE:
		n = snprintf(sym, cap, "%s%s", base, strcmp(quote, "USD") == 0 ? "USDT" : quote);
		break;
	case FX_COINBASE:
		n = snprintf(sym, cap, "%s-%s", base, quote);
		break;
	case FX_KRAKEN: {
		const char *kb = strcmp(base, "BTC") == 0 ? "XBT" : base;
		int legacy = 0, fiat = 0;
		for (size_t i = 0; i < sizeof kr_legacy / sizeof kr_legacy[0]; i++)
			legacy |= strcmp(kr_legacy[i], kb) == 0;
		for (size_t i = 0; i < sizeof kr_fiat / sizeof kr_fiat[0]; i++)
			fiat |= strcmp(kr_fiat[i], quote) == 0;
		n = legacy && fiat ? snprintf(sym, cap, "X%sZ%s", kb, quote) : snprintf(sym, cap, "%s%s", kb, quote);
		break;
	}
	default:
		n = snprintf(sym, cap, "%s", feed);
		break;
	}
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* A symbol goes into URLs and paths: 1..FX_SYM_MAX of [A-Za-z0-9_-] (coingecko: "id" or "id/vs"). */
static int
fc_valid_sym(const char *s, int coingecko)
{
	size_t n = strlen(s);
	int slashes = 0;
	if (n == 0 || n > FX_SYM_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '/' && coingecko && i > 0 && i + 1 < n && slashes++ == 0)
			continue;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

/* Sets m's symbol (checked); coingecko's "id/vs" is split, vs defaulting to the quote. */
static void
fc_set_sym(const fc_source *src, const fc_feed *f, fc_member *m, const char *sym, const char *where, fc_errs *e)
{
	if (!fc_valid_sym(sym, src->spec.kind == FX_COINGECKO)) {
		fc_err(e, "%s: symbol \"%.60s\" for %s: 1..%d of [A-Za-z0-9_-]%s", where, sym, src->name, FX_SYM_MAX,
		       src->spec.kind == FX_COINGECKO ? " (coingecko: id or id/vs)" : "");
		return;
	}
	const char *slash = strchr(sym, '/');
	if (src->spec.kind == FX_COINGECKO) {
		char base[24], quote[24];
		snprintf(m->sym, sizeof m->sym, "%.*s", slash ? (int)(slash - sym) : (int)strlen(sym), sym);
		if (slash)
			snprintf(m->vs, sizeof m->vs, "%.15s", slash + 1);
		else if (fc_split_feed(f->name, base, quote, sizeof base) == 0)
			snprintf(m->vs, sizeof m->vs, "%.15s", quote);
		else
			fc_err(e, "%s: feed is not BASE-QUOTE: give %s's symbol as id/vs", where, src->name);
		fc_lower(m->sym);
		fc_lower(m->vs);
	} else {
		snprintf(m->sym, sizeof m->sym, "%.*s", FX_SYM_MAX, sym); /* checked: at most FX_SYM_MAX */
	}
}

static const char *const fc_bsrc_keys[] = { "name",     "kind",         "url",     "path",  "ts_path", "ts_unit",
	                                    "interval", "min_interval", "headers", "batch", NULL };
static const char *const fc_bfeed_keys[] = { "feed", "decimals", "symbols", NULL };

static unsigned
fc_default_batch(fx_kind k)
{
	return k == FX_KRAKEN ? 50 : k == FX_COINBASE ? 1 : 100;
}

/* A batched source's URL: http(s), and for the API kinds an origin (no query: the path is ours). */
static void
fc_check_origin(fc_source *s, const char *where, fc_errs *e)
{
	char err[160];
	if (s->url == NULL || rt_check_http_url(s->url, err, sizeof err) != 0) {
		fc_err(e, "%s: url must be http:// or https:// (%s)", where, s->url ? err : "missing");
		return;
	}
	size_t n = strlen(s->url);
	while (n > 0 && s->url[n - 1] == '/')
		s->url[--n] = '\0'; /* origin + "/api/v3/..." */
	if (s->spec.kind != FX_GENERIC && strpbrk(s->url, "?#{"))
		fc_err(e,
		       "%s: with FEEDS/FEEDS_FILE a %s url is the API's origin (https://host[:port][/prefix]), "
		       "without a query",
		       where, fx_kind_name(s->spec.kind));
	if (s->spec.kind == FX_GENERIC) {
		int tmpl = strstr(s->url, "{symbol}") != NULL;
		if (s->path == NULL)
			fc_err(e, "%s: a generic source needs \"path\" (e.g. \"data.price\")", where);
		else if (!tmpl && strstr(s->path, "{symbol}") == NULL)
			fc_err(e,
			       "%s: a generic source serving many feeds needs \"{symbol}\" in its url (one request "
			       "per feed) or in its path (one request for all)",
			       where);
	}
}

/* The file's "sources" entries, or SOURCES, or the public defaults, into c->srcs. */
static void
fc_feeds_sources(const json_t *root, const rt_strlist *list, const char *origin, uint64_t min_interval_ms, fc_config *c,
                 fc_errs *e)
{
	const json_t *arr = root ? json_object_get(root, "sources") : NULL;
	char dflt[3][320];
	const char *dv[3];
	rt_strlist dl = { 0, dv, NULL };
	if (arr == NULL && list->n == 0) {
		const char *o = origin && *origin ? origin : NULL;
		snprintf(dflt[0], sizeof dflt[0], "coingecko=%s", o ? o : "https://api.coingecko.com");
		snprintf(dflt[1], sizeof dflt[1], "binance=%s", o ? o : "https://api.binance.com");
		snprintf(dflt[2], sizeof dflt[2], "coinbase=%s", o ? o : "https://api.coinbase.com");
		for (size_t i = 0; i < 3; i++)
			dl.v[i] = dflt[i];
		dl.n = 3;
		list = &dl;
	}
	size_t n = arr ? json_array_size(arr) : list->n;
	if (arr && (!json_is_array(arr) || n == 0)) {
		fc_err(e, "sources: must be a non-empty array");
		return;
	}
	if (n > FC_MAX_SOURCES) {
		fc_err(e, "sources: %zu, at most %d", n, FC_MAX_SOURCES);
		return;
	}
	if ((c->srcs = calloc(n, sizeof *c->srcs)) == NULL) {
		fc_err(e, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		fc_source *s = &c->srcs[c->nsrcs++];
		char where[80];
		s->batched = 1;
		s->spec.ts_unit = FX_TS_S;
		if (arr) {
			const json_t *js = json_array_get(arr, i), *b;
			snprintf(where, sizeof where, "sources[%zu]", i);
			/* the same reader as the one-URL form, then the batch's own keys */
			fc_parse_source(js, s, 0, i, 1, e);
			if (s->name[0])
				snprintf(where, sizeof where, "sources[%zu] \"%s\"", i, s->name);
			if (json_is_object(js))
				fc_unknown_keys(js, fc_bsrc_keys, where, e);
			s->batch_max = fc_default_batch(s->spec.kind);
			if ((b = json_object_get(js, "batch")) != NULL) {
				if (!json_is_integer(b) || json_integer_value(b) < 1 ||
				    json_integer_value(b) > FC_BATCH_MAX)
					fc_err(e, "%s: batch must be an integer 1..%d", where, FC_BATCH_MAX);
				else if (s->spec.kind != FX_COINBASE)
					s->batch_max = (unsigned)json_integer_value(b);
			}
		} else {
			const char *item = list->v[i], *eq = strchr(item, '=');
			char name[64];
			snprintf(where, sizeof where, "SOURCES[%zu]", i);
			if (eq == NULL || eq == item || (size_t)(eq - item) >= sizeof name) {
				fc_err(e, "%s: \"%s\" is not name=origin or name:kind=origin", where, item);
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
				fc_err(e, "%s: name \"%s\" must be 1..31 characters of [A-Za-z0-9._@+-]", where, name);
			snprintf(s->name, sizeof s->name, "%.31s", name);
			snprintf(where, sizeof where, "SOURCES[%zu] \"%s\"", i, s->name);
			int k = fx_kind_from_name(kname);
			if (k < 0 || k == FX_GENERIC)
				fc_err(e,
				       "%s: kind \"%s\" unknown (coingecko, binance, coinbase, kraken; generic needs "
				       "FEEDS_FILE)",
				       where, kname);
			s->spec.kind = k < 0 ? FX_COINBASE : (fx_kind)k;
			s->url = strdup(eq + 1);
			s->min_interval_ms = min_interval_ms;
			s->batch_max = fc_default_batch(s->spec.kind);
		}
		fc_check_origin(s, where, e);
		for (size_t j = 0; j + 1 < c->nsrcs; j++)
			if (s->name[0] && strcmp(c->srcs[j].name, s->name) == 0)
				fc_err(e, "%s: source name used twice", where);
	}
}

int
fc_from_feeds(const json_t *root, const rt_strlist *feeds, unsigned decimals, const rt_strlist *sources,
              const char *public_origin, uint64_t min_interval_ms, fc_config *c, char *err, size_t errlen)
{
	fc_errs e = { err, errlen, 0, 0 };
	memset(c, 0, sizeof *c);
	if (errlen)
		err[0] = '\0';
	const json_t *jf = root ? json_object_get(root, "feeds") : NULL;
	if (root && (!json_is_object(root) || !json_is_array(jf) || json_array_size(jf) == 0)) {
		fc_err(&e, "want {\"feeds\":[{\"feed\":..,\"symbols\":{..}}, ...], \"sources\":[..]}");
		return -1;
	}
	if (root)
		fc_unknown_keys(root, (const char *const[]){ "feeds", "sources", NULL }, "FEEDS_FILE", &e);
	size_t nf = root ? json_array_size(jf) : feeds->n;
	if (nf == 0 || nf > FC_MAX_FEEDS) {
		fc_err(&e, "feeds: %zu, want 1..%d", nf, FC_MAX_FEEDS);
		return -1;
	}
	if (decimals > U256_MAX_DECIMALS)
		fc_err(&e, "DECIMALS: at most %d", U256_MAX_DECIMALS);
	fc_feeds_sources(root, sources, public_origin, min_interval_ms, c, &e);
	if ((c->feeds = calloc(nf, sizeof *c->feeds)) == NULL) {
		fc_err(&e, "out of memory");
		fc_free(c);
		return -1;
	}
	for (size_t i = 0; i < c->nsrcs; i++)
		if ((c->srcs[i].members = calloc(nf, sizeof *c->srcs[i].members)) == NULL) {
			fc_err(&e, "out of memory");
			fc_free(c);
			return -1;
		}
	/* symbols[f * nsrcs + s]: given (json), derived, or excluded (null) */
	for (size_t fi = 0; fi < nf; fi++) {
		fc_feed *fd = &c->feeds[c->nfeeds++];
		const json_t *f = root ? json_array_get(jf, fi) : NULL, *syms = NULL;
		const char *name = root ? json_string_value(json_object_get(f, "feed")) : feeds->v[fi];
		char where[80];
		snprintf(where, sizeof where, "%s[%zu]", root ? "feeds" : "FEEDS", fi);
		if (root && !json_is_object(f)) {
			fc_err(&e, "%s: must be an object", where);
			continue;
		}
		if (!fc_valid_name(name)) {
			fc_err(&e, "%s: \"feed\" must be 1..31 characters of [A-Za-z0-9._:/@+-]", where);
			continue;
		}
		snprintf(fd->name, sizeof fd->name, "%s", name);
		snprintf(where, sizeof where, "%s[%zu] \"%s\"", root ? "feeds" : "FEEDS", fi, fd->name);
		fd->decimals = decimals;
		if (root) {
			const json_t *dec = json_object_get(f, "decimals");
			fc_unknown_keys(f, fc_bfeed_keys, where, &e);
			if (dec && (!json_is_integer(dec) || json_integer_value(dec) < 0 ||
			            json_integer_value(dec) > U256_MAX_DECIMALS))
				fc_err(&e, "%s: decimals must be an integer 0..%d", where, U256_MAX_DECIMALS);
			else if (dec)
				fd->decimals = (unsigned)json_integer_value(dec);
			syms = json_object_get(f, "symbols");
			if (syms && !json_is_object(syms))
				fc_err(&e, "%s: symbols must be an object {\"<source name>\": \"<symbol>\" or null}",
				       where);
			const char *k;
			json_t *v;
			json_object_foreach((json_t *)syms, k, v)
			{
				size_t si;
				for (si = 0; si < c->nsrcs && strcmp(c->srcs[si].name, k) != 0; si++)
					;
				if (si == c->nsrcs)
					fc_err(&e, "%s: symbols: no source named \"%s\"", where, k);
				else if (!json_is_string(v) && !json_is_null(v))
					fc_err(&e, "%s: symbols.%s must be a string or null", where, k);
			}
		}
		for (size_t k = 0; k + 1 < c->nfeeds; k++)
			if (strcmp(c->feeds[k].name, fd->name) == 0)
				fc_err(&e, "%s: feed listed twice", where);
		size_t priced = 0;
		for (size_t si = 0; si < c->nsrcs; si++) {
			fc_source *src = &c->srcs[si];
			const json_t *v = syms ? json_object_get(syms, src->name) : NULL;
			char sym[FX_SYM_MAX + 20];
			if (v && json_is_null(v))
				continue; /* not from this source */
			if (v && json_is_string(v))
				snprintf(sym, sizeof sym, "%s", json_string_value(v));
			else if (fc_default_symbol(src->spec.kind, fd->name, sym, sizeof sym) != 0)
				continue; /* none derivable (e.g. a coin CoinGecko's id table lacks): left out */
			fc_member *m = &src->members[src->nmembers++];
			m->feed = fi;
			fc_set_sym(src, fd, m, sym, where, &e);
			priced++;
		}
		if (priced == 0 && c->nsrcs > 0)
			fc_err(&e, "%s: no source prices this feed (give its symbols)", where);
	}
	/* the generic adapter substitutes symbols into its path: check the result fits once */
	for (size_t si = 0; si < c->nsrcs; si++) {
		fc_source *src = &c->srcs[si];
		char buf[1024];
		for (size_t i = 0; i < src->nmembers && !e.bad; i++)
			if (fc_batch_url(src, &src->members[i], 1, buf, sizeof buf) != 0) {
				fc_err(&e, "sources \"%s\": url for %s too long", src->name, src->members[i].sym);
				break;
			}
	}
	if (e.bad) {
		fc_free(c);
		return -1;
	}
	return 0;
}

/* Appends "%s" of s to url at *o, with the characters a query may not hold %-encoded. */
static int
fc_put(char *url, size_t cap, size_t *o, const char *s, int enc)
{
	for (; *s; s++) {
		int esc = enc && strchr("[]\",", *s) != NULL;
		size_t need = esc ? 3 : 1;
		if (*o + need >= cap)
			return -1;
		if (esc)
			*o += (size_t)snprintf(url + *o, cap - *o, "%%%02X", (unsigned char)*s);
		else
			url[(*o)++] = *s;
	}
	url[*o] = '\0';
	return 0;
}

int
fc_batch_url(const fc_source *s, const fc_member *m, size_t n, char *url, size_t cap)
{
	size_t o = 0;
	int rc = 0;
#define FC_PUT(str, enc) (rc |= fc_put(url, cap, &o, (str), (enc)))
	if (cap == 0 || s->url == NULL)
		return -1;
	url[0] = '\0';
	FC_PUT(s->url, 0);
	switch (s->spec.kind) {
	case FX_COINGECKO: /* ids and vs_currencies are each listed once; the answer is their product */
		FC_PUT("/api/v3/simple/price?ids=", 0);
		for (size_t i = 0, first = 1; i < n; i++) {
			size_t k;
			for (k = 0; k < i && strcmp(m[k].sym, m[i].sym) != 0; k++)
				;
			if (k < i)
				continue;
			FC_PUT(first ? "" : ",", 0);
			FC_PUT(m[i].sym, 0);
			first = 0;
		}
		FC_PUT("&vs_currencies=", 0);
		for (size_t i = 0, first = 1; i < n; i++) {
			size_t k;
			for (k = 0; k < i && strcmp(m[k].vs, m[i].vs) != 0; k++)
				;
			if (k < i)
				continue;
			FC_PUT(first ? "" : ",", 0);
			FC_PUT(m[i].vs, 0);
			first = 0;
		}
		FC_PUT("&include_last_updated_at=true", 0);
		break;
	case FX_BINANCE:
		if (n == 1) {
			FC_PUT("/api/v3/ticker/price?symbol=", 0);
			FC_PUT(m[0].sym, 0);
			break;
		}
		FC_PUT("/api/v3/ticker/price?symbols=", 0);
		FC_PUT("[", 1);
		for (size_t i = 0; i < n; i++) {
			FC_PUT(i ? "," : "", 1);
			FC_PUT("\"", 1);
			FC_PUT(m[i].sym, 0);
			FC_PUT("\"", 1);
		}
		FC_PUT("]", 1);
		break;
	case FX_KRAKEN:
		FC_PUT("/0/public/Ticker?pair=", 0);
		for (size_t i = 0; i < n; i++) {
			FC_PUT(i ? "," : "", 0);
			FC_PUT(m[i].sym, 0);
		}
		break;
	case FX_COINBASE:
		if (n != 1)
			return -1;
		FC_PUT("/v2/prices/", 0);
		FC_PUT(m[0].sym, 0);
		FC_PUT("/spot", 0);
		break;
	default: /* generic: its url, "{symbol}" replaced when it has one (then one member per request) */
		if (strstr(s->url, "{symbol}") != NULL && (n != 1 || fx_subst(s->url, m[0].sym, url, cap) != 0))
			return -1;
		break;
	}
#undef FC_PUT
	return rc ? -1 : 0;
}

int
fc_source_each(const fc_source *s)
{
	return s->batched &&
	       (s->spec.kind == FX_COINBASE || (s->spec.kind == FX_GENERIC && strstr(s->url, "{symbol}")));
}
