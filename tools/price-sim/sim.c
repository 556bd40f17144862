/* sim: price simulator model and responses (see sim.h). */
#include "base/hex.h"
#include "tools/price-sim/sim.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/u256.h"

enum {
	PS_COINGECKO,
	PS_BINANCE,
	PS_COINBASE,
	PS_KRAKEN,
	PS_GENERIC,
	PS_NSRC
};
typedef enum {
	PM_OK,
	PM_DOWN,
	PM_SLOW,
	PM_GARBAGE,
	PM_STALE,
	PM_RATELIMIT,
	PM_N
} ps_mode;

static const char *const ps_src_names[PS_NSRC] = { "coingecko", "binance", "coinbase", "kraken", "generic" };
static const char *const ps_mode_names[PM_N] = { "ok", "down", "slow", "garbage", "stale", "ratelimit" };
static const char *const ps_form_names[] = { "seconds", "date", "none" };

typedef struct {
	char name[32];
	char base_sym[16], quote_sym[16]; /* "ETH", "USD" */
	u256 base;                        /* PS_DEC decimals */
	u256 over[PS_NSRC];               /* a source's own price, when has_over */
	uint8_t has_over[PS_NSRC];
} ps_feed;

typedef struct {
	ps_mode mode;
	int64_t lie_upct;  /* offset in millionths of a percent (10% = 10000000) */
	uint64_t delay_ms; /* slow: how long to hold an answer */
	uint64_t age_s;    /* stale: how old the served timestamp is */
	uint64_t retry_s;  /* ratelimit: the Retry-After given */
	int retry_form;    /* 0 delay-seconds, 1 HTTP-date, 2 no header */
	uint64_t until_ms; /* the last Retry-After's end (wall clock): a request before it is "early" */
	uint64_t requests, limited, early;
} ps_source;

struct ps_sim {
	pthread_mutex_t mu;
	ps_feed *feeds; /* nfeeds, grown by doubling as feeds are set (at most PS_MAX_FEEDS) */
	size_t nfeeds, capfeeds;
	ps_source src[PS_NSRC];
};

ps_sim *
ps_new(void)
{
	ps_sim *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	pthread_mutex_init(&s->mu, NULL);
	for (int i = 0; i < PS_NSRC; i++) {
		s->src[i].delay_ms = 60000;
		s->src[i].age_s = 3600;
		s->src[i].retry_s = 1;
	}
	return s;
}

void
ps_free(ps_sim *s)
{
	if (s) {
		pthread_mutex_destroy(&s->mu);
		free(s->feeds);
		free(s);
	}
}

/* ---- small helpers ---------------------------------------------------------------------- */

/* Percent-decoded value of query parameter key, or -1 when absent (or too long). */
static int
ps_q(const char *q, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);
	while (q && *q) {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		if (len >= klen && strncmp(q, key, klen) == 0 && (len == klen || q[klen] == '=')) {
			size_t o = 0;
			for (size_t i = klen + 1; i < len; i++) {
				char c = q[i];
				if (c == '%' && i + 2 < len && hex_digit(q[i + 1]) >= 0 && hex_digit(q[i + 2]) >= 0) {
					c = (char)(hex_digit(q[i + 1]) << 4 | hex_digit(q[i + 2]));
					i += 2;
				} else if (c == '+')
					c = ' ';
				if (o + 1 >= cap)
					return -1;
				out[o++] = c;
			}
			out[o] = '\0';
			return 0;
		}
		q = amp ? amp + 1 : NULL;
	}
	return -1;
}

static void
ps_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static ps_feed *
ps_feed_find(ps_sim *s, const char *name)
{
	for (size_t i = 0; i < s->nfeeds; i++)
		if (strcmp(s->feeds[i].name, name) == 0)
			return &s->feeds[i];
	return NULL;
}

static int
ps_src_find(const char *name)
{
	for (int i = 0; i < PS_NSRC; i++)
		if (strcmp(ps_src_names[i], name) == 0)
			return i;
	return -1;
}

/* The price source i serves for feed f right now: its own or the base, then the lie applied. */
static u256
ps_served(const ps_sim *s, const ps_feed *f, int i)
{
	u256 p = f->has_over[i] ? f->over[i] : f->base;
	int64_t lie = s->src[i].lie_upct;
	if (lie != 0) {
		/* p * (10^8 + lie) / 10^8, lie > -10^8: exact integer arithmetic, truncated */
		u256_mul_u64(&p, &p, (uint64_t)(100000000 + lie));
		u256_divmod_u64(&p, &p, 100000000u);
	}
	return p;
}

/* Exact decimal text with at least min_frac fractional digits (exchanges pad to their tick). */
static void
ps_dec(const u256 *v, unsigned min_frac, char out[128])
{
	char d[96];
	fixed_to_dec(v, PS_DEC, d);
	const char *dot = strchr(d, '.');
	size_t frac = dot ? strlen(dot + 1) : 0;
	snprintf(out, 128, "%s%s", d, dot || min_frac == 0 ? "" : ".");
	for (size_t k = frac; k < min_frac; k++)
		strcat(out, "0");
}

/* ---- source formats ---------------------------------------------------------------------- */

typedef struct {
	int status;
	rt_buf *out;
	uint64_t now_ms;
} ps_ctx;

static void
ps_garbage(rt_buf *out)
{
	/* What a broken upstream or a captive portal sends with a 200: the start of a page. */
	rt_buf_puts(out, "<html><head><title>502 Bad Gateway</title></head><body>{\"data\":{\"amount\":\"");
}

/* Coingecko ids for the common coins; others are the lower-cased symbol. */
static void
ps_cg_id(const char *base_sym, char *out, size_t cap)
{
	static const char *const map[][2] = { { "BTC", "bitcoin" },    { "ETH", "ethereum" }, { "SOL", "solana" },
		                              { "LINK", "chainlink" }, { "USDT", "tether" },  { "USDC", "usd-coin" } };
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i][0], base_sym) == 0) {
			snprintf(out, cap, "%s", map[i][1]);
			return;
		}
	snprintf(out, cap, "%s", base_sym);
	ps_lower(out);
}

static int
ps_coingecko(ps_sim *s, const char *query, ps_ctx *c)
{
	char ids[PS_QUERY_MAX], vs[512], inc[16] = "";
	if (ps_q(query, "ids", ids, sizeof ids) || ps_q(query, "vs_currencies", vs, sizeof vs)) {
		rt_buf_puts(c->out, "{\"error\":\"Missing parameter ids or vs_currencies\"}");
		return 400;
	}
	ps_q(query, "include_last_updated_at", inc, sizeof inc);
	ps_lower(ids);
	ps_lower(vs);
	uint64_t ts = c->now_ms / 1000 - (s->src[PS_COINGECKO].mode == PM_STALE ? s->src[PS_COINGECKO].age_s : 0);
	int nid = 0;
	char *save_id, *save_cur;
	rt_buf_puts(c->out, "{");
	for (char *id = strtok_r(ids, ",", &save_id); id; id = strtok_r(NULL, ",", &save_id)) {
		char vsc[sizeof vs];
		int ncur = 0;
		snprintf(vsc, sizeof vsc, "%s", vs);
		for (char *cur = strtok_r(vsc, ",", &save_cur); cur; cur = strtok_r(NULL, ",", &save_cur)) {
			for (size_t i = 0; i < s->nfeeds; i++) {
				char fid[32], q[16], p[128];
				ps_cg_id(s->feeds[i].base_sym, fid, sizeof fid);
				snprintf(q, sizeof q, "%s", s->feeds[i].quote_sym);
				ps_lower(q);
				if (strcmp(fid, id) != 0 || strcmp(q, cur) != 0)
					continue;
				u256 v = ps_served(s, &s->feeds[i], PS_COINGECKO);
				ps_dec(&v, 0, p);
				if (ncur++ == 0)
					rt_buf_printf(c->out, "%s\"%s\":{", nid++ ? "," : "", id);
				else
					rt_buf_puts(c->out, ",");
				rt_buf_printf(c->out, "\"%s\":%s", cur,
				              p); /* a bare JSON number, as the real API sends */
			}
		}
		if (ncur && strcmp(inc, "true") == 0)
			rt_buf_printf(c->out, ",\"last_updated_at\":%llu", (unsigned long long)ts);
		if (ncur)
			rt_buf_puts(c->out, "}");
	}
	rt_buf_puts(c->out, "}"); /* unknown ids: {} as the real API answers */
	return 200;
}

/* Kraken's pair key: its older assets (XBT, ETH, ...) against fiat keep X/Z prefixes (XETHZUSD,
 * XXBTZEUR); the others are plain (SOLUSD), as the real API names them in "result". */
static void
ps_kraken_key(const ps_feed *f, char *out, size_t cap)
{
	static const char *const legacy[] = { "XBT", "ETH", "LTC", "XRP", "XLM", "ETC", "ZEC", "XMR", "REP", "MLN" };
	static const char *const fiat[] = { "USD", "EUR", "GBP", "JPY", "CAD" };
	const char *kb = strcmp(f->base_sym, "BTC") == 0 ? "XBT" : f->base_sym;
	int l = 0, q = 0;
	for (size_t i = 0; i < sizeof legacy / sizeof legacy[0]; i++)
		l |= strcmp(legacy[i], kb) == 0;
	for (size_t i = 0; i < sizeof fiat / sizeof fiat[0]; i++)
		q |= strcmp(fiat[i], f->quote_sym) == 0;
	if (l && q)
		snprintf(out, cap, "X%sZ%s", kb, f->quote_sym);
	else
		snprintf(out, cap, "%s%s", kb, f->quote_sym);
}

static ps_feed *
ps_feed_by_pair(ps_sim *s, const char *pair, int kraken)
{
	for (size_t i = 0; i < s->nfeeds; i++) {
		ps_feed *f = &s->feeds[i];
		char a[40], b[40], k[40], kp[40];
		const char *kb = strcmp(f->base_sym, "BTC") == 0 ? "XBT" : f->base_sym;
		snprintf(a, sizeof a, "%s%s", f->base_sym, f->quote_sym);
		snprintf(b, sizeof b, "%s%sT", f->base_sym, f->quote_sym); /* Binance quotes USD as USDT */
		ps_kraken_key(f, k, sizeof k);
		snprintf(kp, sizeof kp, "%s%s", kb, f->quote_sym);
		if (strcasecmp(pair, a) == 0 ||
		    (!kraken && strcmp(f->quote_sym, "USD") == 0 && strcasecmp(pair, b) == 0) ||
		    (kraken && (strcasecmp(pair, k) == 0 || strcasecmp(pair, kp) == 0)))
			return f;
	}
	return NULL;
}

static void
ps_binance_one(ps_sim *s, ps_feed *f, const char *sym, rt_buf *out)
{
	char p[128];
	u256 v = ps_served(s, f, PS_BINANCE);
	ps_dec(&v, 8, p);
	rt_buf_printf(out, "{\"symbol\":\"%s\",\"price\":\"%s\"}", sym, p);
}

/* symbol=ETHUSDT, symbols=["ETHUSDT","BTCUSDT"] (one unknown symbol fails the whole request, as on
 * Binance), or no parameter: every ticker. */
static int
ps_binance(ps_sim *s, const char *query, ps_ctx *c)
{
	char sym[32], list[PS_QUERY_MAX];
	ps_feed *f;
	if (ps_q(query, "symbol", sym, sizeof sym) == 0) {
		if ((f = ps_feed_by_pair(s, sym, 0)) == NULL)
			goto invalid;
		ps_binance_one(s, f, sym, c->out);
		return 200;
	}
	if (ps_q(query, "symbols", list, sizeof list) == 0) {
		size_t n = strlen(list), k = 0;
		if (n < 2 || list[0] != '[' || list[n - 1] != ']')
			goto invalid;
		list[n - 1] = '\0';
		rt_buf tmp = RT_BUF_INIT;
		rt_buf_puts(&tmp, "[");
		char *save;
		for (char *it = strtok_r(list + 1, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
			size_t l = strlen(it);
			if (l < 3 || it[0] != '"' || it[l - 1] != '"' || l - 2 >= sizeof sym) {
				rt_buf_free(&tmp);
				goto invalid;
			}
			snprintf(sym, sizeof sym, "%.*s", (int)(l - 2), it + 1);
			if ((f = ps_feed_by_pair(s, sym, 0)) == NULL) {
				rt_buf_free(&tmp);
				goto invalid;
			}
			if (k++)
				rt_buf_puts(&tmp, ",");
			ps_binance_one(s, f, sym, &tmp);
		}
		rt_buf_puts(&tmp, "]");
		rt_buf_append(c->out, tmp.data, tmp.len);
		rt_buf_free(&tmp);
		return 200;
	}
	rt_buf_puts(c->out, "[");
	for (size_t i = 0; i < s->nfeeds; i++) {
		f = &s->feeds[i];
		snprintf(sym, sizeof sym, "%s%s%s", f->base_sym, f->quote_sym,
		         strcmp(f->quote_sym, "USD") == 0 ? "T" : "");
		if (i)
			rt_buf_puts(c->out, ",");
		ps_binance_one(s, f, sym, c->out);
	}
	rt_buf_puts(c->out, "]");
	return 200;
invalid:
	rt_buf_reset(c->out);
	rt_buf_puts(c->out, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}");
	return 400;
}

static int
ps_coinbase(ps_sim *s, const char *path, ps_ctx *c)
{
	char feed[40];
	const char *p0 = path + strlen("/v2/prices/"), *end = strstr(p0, "/spot");
	ps_feed *f = NULL;
	if (end && end[5] == '\0' && (size_t)(end - p0) < sizeof feed) {
		snprintf(feed, sizeof feed, "%.*s", (int)(end - p0), p0);
		f = ps_feed_find(s, feed);
	}
	if (f == NULL) {
		rt_buf_puts(c->out, "{\"errors\":[{\"id\":\"not_found\",\"message\":\"Invalid currency pair\"}]}");
		return 404;
	}
	char p[128];
	u256 v = ps_served(s, f, PS_COINBASE);
	ps_dec(&v, 0, p);
	rt_buf_printf(c->out, "{\"data\":{\"amount\":\"%s\",\"base\":\"%s\",\"currency\":\"%s\"}}", p, f->base_sym,
	              f->quote_sym);
	return 200;
}

static void
ps_kraken_one(ps_sim *s, ps_feed *f, rt_buf *out)
{
	char p[128], a[128], b[128], key[40];
	u256 v = ps_served(s, f, PS_KRAKEN), ask, bid, tick;
	dec_to_fixed("0.01", 4, PS_DEC, &tick, NULL);
	u256_add(&ask, &v, &tick);
	u256_sub(&bid, &v, &tick);
	ps_dec(&v, 5, p);
	ps_dec(&ask, 5, a);
	ps_dec(&bid, 5, b);
	ps_kraken_key(f, key, sizeof key);
	rt_buf_printf(out,
	              "\"%s\":{\"a\":[\"%s\",\"1\",\"1.000\"],\"b\":[\"%s\",\"2\",\"2.000\"],"
	              "\"c\":[\"%s\",\"0.05000000\"],\"v\":[\"1234.56789012\",\"5678.90123456\"],\"p\":[\"%s\",\"%s\"],"
	              "\"t\":[1234,5678],\"l\":[\"%s\",\"%s\"],\"h\":[\"%s\",\"%s\"],\"o\":\"%s\"}",
	              key, a, b, p, p, p, b, b, a, a, p);
}

/* pair=XETHZUSD or pair=XETHZUSD,SOLUSD: one unknown pair fails the whole request, as on Kraken. */
static int
ps_kraken(ps_sim *s, const char *query, ps_ctx *c)
{
	char list[PS_QUERY_MAX], *save;
	ps_feed *found[PS_MAX_FEEDS];
	size_t n = 0;
	if (ps_q(query, "pair", list, sizeof list) != 0 || !list[0])
		goto unknown;
	for (char *it = strtok_r(list, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
		if (n == PS_MAX_FEEDS || (found[n] = ps_feed_by_pair(s, it, 1)) == NULL)
			goto unknown;
		n++;
	}
	rt_buf_puts(c->out, "{\"error\":[],\"result\":{");
	for (size_t i = 0; i < n; i++) {
		if (i)
			rt_buf_puts(c->out, ",");
		ps_kraken_one(s, found[i], c->out);
	}
	rt_buf_puts(c->out, "}}");
	return 200;
unknown:
	rt_buf_puts(c->out, "{\"error\":[\"EQuery:Unknown asset pair\"]}");
	return 200; /* Kraken reports errors in the body with a 200 */
}

static int
ps_generic(ps_sim *s, const char *path, ps_ctx *c)
{
	ps_feed *f = ps_feed_find(s, path + strlen("/generic/"));
	if (f == NULL) {
		rt_buf_puts(c->out, "{\"error\":\"unknown feed\"}");
		return 404;
	}
	char p[128];
	u256 v = ps_served(s, f, PS_GENERIC);
	ps_dec(&v, 0, p);
	uint64_t ts = c->now_ms / 1000 - (s->src[PS_GENERIC].mode == PM_STALE ? s->src[PS_GENERIC].age_s : 0);
	rt_buf_printf(c->out, "{\"feed\":\"%s\",\"data\":{\"price\":\"%s\",\"ts\":%llu}}", f->name, p,
	              (unsigned long long)ts);
	return 200;
}

/* ---- control ------------------------------------------------------------------------------ */

static int
ps_bad(rt_buf *out, const char *why)
{
	rt_buf_puts(out, "{\"error\":");
	rt_buf_json_str(out, why);
	rt_buf_puts(out, "}");
	return 400;
}

/* Source selector: a source's index, PS_NSRC for all, -1 if unknown. */
static int
ps_sel(const char *query)
{
	char src[32];
	if (ps_q(query, "source", src, sizeof src) != 0 || !src[0] || strcmp(src, "all") == 0)
		return PS_NSRC;
	return ps_src_find(src);
}

static int
ps_ctl_set(ps_sim *s, const char *query, rt_buf *out)
{
	char feed[32], price[100];
	int inexact = 0, sel = ps_sel(query);
	u256 v;
	if (ps_q(query, "feed", feed, sizeof feed) || !feed[0] || !strchr(feed, '-') || strchr(feed, '/') ||
	    strlen(feed) > 31)
		return ps_bad(out, "feed=BASE-QUOTE required (e.g. ETH-USD)");
	if (ps_q(query, "price", price, sizeof price) || dec_to_fixed(price, strlen(price), PS_DEC, &v, &inexact) ||
	    inexact || i256_is_neg(&v) || u256_is_zero(&v))
		return ps_bad(out, "price must be a positive decimal with at most 18 decimals");
	if (sel < 0)
		return ps_bad(out, "unknown source (coingecko, binance, coinbase, kraken, generic, all)");
	ps_feed *f = ps_feed_find(s, feed);
	if (f == NULL) {
		if (s->nfeeds == PS_MAX_FEEDS)
			return ps_bad(out, "too many feeds");
		if (s->nfeeds == s->capfeeds) { /* no pointer into feeds outlives a call: realloc is safe */
			size_t cap = s->capfeeds ? 2 * s->capfeeds : 16;
			ps_feed *nf = realloc(s->feeds, cap * sizeof *nf);
			if (nf == NULL)
				return ps_bad(out, "out of memory");
			s->feeds = nf, s->capfeeds = cap;
		}
		f = &s->feeds[s->nfeeds++];
		memset(f, 0, sizeof *f);
		snprintf(f->name, sizeof f->name, "%s", feed);
		const char *dash = strchr(feed, '-');
		snprintf(f->base_sym, sizeof f->base_sym, "%.*s", (int)(dash - feed) < 15 ? (int)(dash - feed) : 15,
		         feed);
		snprintf(f->quote_sym, sizeof f->quote_sym, "%.15s", dash + 1);
		if (sel != PS_NSRC)
			f->base = v; /* a new feed needs a base for the other sources */
	}
	if (sel == PS_NSRC) {
		f->base = v;
		memset(f->has_over, 0, sizeof f->has_over);
	} else {
		f->over[sel] = v;
		f->has_over[sel] = 1;
	}
	rt_buf_puts(out, "{\"ok\":true}");
	return 200;
}

static int
ps_ctl_mode(ps_sim *s, const char *query, rt_buf *out)
{
	char mode[16], num[24];
	int sel = ps_sel(query), m;
	if (sel < 0)
		return ps_bad(out, "unknown source (coingecko, binance, coinbase, kraken, generic, all)");
	if (ps_q(query, "mode", mode, sizeof mode) != 0)
		return ps_bad(out, "mode=ok|down|slow|garbage|stale|ratelimit required");
	for (m = 0; m < PM_N && strcmp(ps_mode_names[m], mode) != 0; m++)
		;
	if (m == PM_N)
		return ps_bad(out, "mode must be ok, down, slow, garbage, stale or ratelimit");
	uint64_t delay = 0, age = 0, retry = 0;
	int form = -1;
	if (ps_q(query, "retry_after", num, sizeof num) == 0 && (retry = strtoull(num, NULL, 10)) == 0)
		return ps_bad(out, "retry_after must be a positive number of seconds");
	if (ps_q(query, "retry_form", num, sizeof num) == 0) {
		for (form = 0; form < 3 && strcmp(ps_form_names[form], num) != 0; form++)
			;
		if (form == 3)
			return ps_bad(out, "retry_form must be seconds, date or none");
	}
	if (ps_q(query, "delay_ms", num, sizeof num) == 0 && (delay = strtoull(num, NULL, 10)) == 0)
		return ps_bad(out, "delay_ms must be a positive integer");
	if (ps_q(query, "age_s", num, sizeof num) == 0 && (age = strtoull(num, NULL, 10)) == 0)
		return ps_bad(out, "age_s must be a positive integer");
	for (int i = 0; i < PS_NSRC; i++)
		if (sel == PS_NSRC || sel == i) {
			s->src[i].mode = (ps_mode)m;
			if (delay)
				s->src[i].delay_ms = delay;
			if (age)
				s->src[i].age_s = age;
			if (retry)
				s->src[i].retry_s = retry;
			if (form >= 0)
				s->src[i].retry_form = form;
		}
	rt_buf_puts(out, "{\"ok\":true}");
	return 200;
}

static int
ps_ctl_lie(ps_sim *s, const char *query, rt_buf *out)
{
	char off[40];
	int sel = ps_sel(query), inexact;
	u256 v;
	if (sel < 0)
		return ps_bad(out, "unknown source (coingecko, binance, coinbase, kraken, generic, all)");
	/* offset in percent, kept exact in millionths of a percent; must stay above -100% */
	if (ps_q(query, "offset", off, sizeof off) || dec_to_fixed(off, strlen(off), 6, &v, &inexact) || inexact)
		return ps_bad(out, "offset must be a percent with at most 6 decimals (e.g. 10, -2.5)");
	u256 lim, neg;
	u256_from_u64(&lim, 1000000000000ull);
	i256_neg(&neg, &v);
	int negative = i256_is_neg(&v);
	const u256 *mag = negative ? &neg : &v;
	if (u256_cmp(mag, &lim) > 0 || (negative && u256_low64(mag) >= 100000000u))
		return ps_bad(out, "offset must be above -100 and at most 1000000");
	int64_t upct = negative ? -(int64_t)u256_low64(mag) : (int64_t)u256_low64(mag);
	for (int i = 0; i < PS_NSRC; i++)
		if (sel == PS_NSRC || sel == i)
			s->src[i].lie_upct = upct;
	rt_buf_puts(out, "{\"ok\":true}");
	return 200;
}

static int
ps_ctl_state(ps_sim *s, const char *query, rt_buf *out)
{
	char p[128];
	rt_buf_puts(out, "{\"feeds\":{");
	for (size_t i = 0; i < s->nfeeds; i++) {
		ps_feed *f = &s->feeds[i];
		ps_dec(&f->base, 0, p);
		rt_buf_printf(out, "%s\"%s\":{\"price\":\"%s\",\"served\":{", i ? "," : "", f->name, p);
		for (int k = 0; k < PS_NSRC; k++) {
			u256 v = ps_served(s, f, k);
			ps_dec(&v, 0, p);
			rt_buf_printf(out, "%s\"%s\":\"%s\"", k ? "," : "", ps_src_names[k], p);
		}
		rt_buf_puts(out, "}}");
	}
	rt_buf_puts(out, "},\"sources\":{");
	for (int k = 0; k < PS_NSRC; k++) {
		const ps_source *src = &s->src[k];
		u256 lie;
		char l[128];
		u256_from_u64(&lie, (uint64_t)(src->lie_upct < 0 ? -src->lie_upct : src->lie_upct));
		fixed_to_dec(&lie, 6, l);
		rt_buf_printf(out,
		              "%s\"%s\":{\"mode\":\"%s\",\"lie_percent\":\"%s%s\",\"delay_ms\":%llu,\"age_s\":%llu,"
		              "\"retry_after\":%llu,\"retry_form\":\"%s\",\"requests\":%llu,\"limited\":%llu,"
		              "\"early\":%llu}",
		              k ? "," : "", ps_src_names[k], ps_mode_names[src->mode], src->lie_upct < 0 ? "-" : "", l,
		              (unsigned long long)src->delay_ms, (unsigned long long)src->age_s,
		              (unsigned long long)src->retry_s, ps_form_names[src->retry_form],
		              (unsigned long long)src->requests, (unsigned long long)src->limited,
		              (unsigned long long)src->early);
	}
	rt_buf_puts(out, "}}");
	return 200;
}

/* ---- dispatch ----------------------------------------------------------------------------- */

typedef int (*ps_ctl_fn)(ps_sim *s, const char *query, rt_buf *out);

static const struct {
	const char *verb, *method;
	ps_ctl_fn fn;
} ps_ctls[] = {
	{ "set", "POST", ps_ctl_set },
	{ "mode", "POST", ps_ctl_mode },
	{ "lie", "POST", ps_ctl_lie },
	{ "state", "GET", ps_ctl_state },
};

/* Source routes: a path (prefix when it ends in '/') and which source answers there. */
static const struct {
	const char *path;
	int src;
} ps_routes[] = {
	{ "/api/v3/simple/price", PS_COINGECKO },
	{ "/api/v3/ticker/price", PS_BINANCE },
	{ "/v2/prices/", PS_COINBASE },
	{ "/0/public/Ticker", PS_KRAKEN },
	{ "/generic/", PS_GENERIC },
};

int
ps_command(ps_sim *s, const char *verb, const char *query, rt_buf *out)
{
	for (size_t i = 0; i < sizeof ps_ctls / sizeof ps_ctls[0]; i++)
		if (strcmp(ps_ctls[i].verb, verb) == 0) {
			pthread_mutex_lock(&s->mu);
			int st = ps_ctls[i].fn(s, query ? query : "", out);
			pthread_mutex_unlock(&s->mu);
			return st;
		}
	return ps_bad(out, "unknown command (set, mode, lie, state)");
}

/* What each API answers with its 429 (their documented bodies). */
static const char *const ps_429_body[PS_NSRC] = {
	[PS_COINGECKO] = "{\"status\":{\"error_code\":429,\"error_message\":\"You've exceeded the Rate Limit. Please "
	                 "visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher "
	                 "rate limits.\"}}",
	[PS_BINANCE] = "{\"code\":-1003,\"msg\":\"Too much request weight used; current limit is 6000 request weight "
	               "per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.\"}",
	[PS_COINBASE] = "{\"errors\":[{\"id\":\"rate_limit_exceeded\",\"message\":\"Too many requests\"}]}",
	[PS_KRAKEN] = "{\"error\":[\"EAPI:Rate limit exceeded\"]}",
	[PS_GENERIC] = "{\"error\":\"rate limited\"}",
};

/* A 429 with Retry-After in the form asked for; remembers until when the client must stay away. */
static int
ps_ratelimit(ps_source *ps, int src, uint64_t now_ms, rt_buf *out, ps_reply *r)
{
	ps->limited++;
	rt_buf_puts(out, ps_429_body[src]);
	if (ps->retry_form == 0) {
		snprintf(r->retry_after, sizeof r->retry_after, "%llu", (unsigned long long)ps->retry_s);
		ps->until_ms = now_ms + ps->retry_s * 1000u;
	} else if (ps->retry_form == 1) {
		/* an HTTP-date has whole seconds: the first second at or after now + retry */
		time_t t = (time_t)((now_ms + ps->retry_s * 1000u + 999u) / 1000u);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(r->retry_after, sizeof r->retry_after, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		ps->until_ms = (uint64_t)t * 1000u;
	}
	return 429;
}

int
ps_handle(ps_sim *s, const char *method, const char *path, const char *query, uint64_t now_ms, rt_buf *out, ps_reply *r)
{
	memset(r, 0, sizeof *r);
	if (strncmp(path, "/ctl/", 5) == 0) {
		for (size_t i = 0; i < sizeof ps_ctls / sizeof ps_ctls[0]; i++)
			if (strcmp(path + 5, ps_ctls[i].verb) == 0) {
				if (strcmp(method, ps_ctls[i].method) != 0) {
					rt_buf_printf(out, "{\"error\":\"use %s\"}", ps_ctls[i].method);
					return 405;
				}
				return ps_command(s, ps_ctls[i].verb, query, out);
			}
		rt_buf_puts(out, "{\"error\":\"not found\"}");
		return 404;
	}
	int src = -1;
	for (size_t i = 0; i < sizeof ps_routes / sizeof ps_routes[0] && src < 0; i++) {
		size_t n = strlen(ps_routes[i].path);
		if (ps_routes[i].path[n - 1] == '/' ? strncmp(path, ps_routes[i].path, n) == 0 && path[n]
		                                    : strcmp(path, ps_routes[i].path) == 0)
			src = ps_routes[i].src;
	}
	if (src < 0) {
		rt_buf_puts(out, "{\"error\":\"not found\"}");
		return 404;
	}
	ps_ctx c = { 0, out, now_ms };
	int st;
	pthread_mutex_lock(&s->mu);
	ps_source *ps = &s->src[src];
	ps->requests++;
	if (now_ms < ps->until_ms)
		ps->early++; /* the client came back before the Retry-After it was given */
	switch (ps->mode) {
	case PM_DOWN:
		rt_buf_puts(out, "{\"error\":\"simulated outage\"}");
		st = 500;
		break;
	case PM_GARBAGE:
		ps_garbage(out);
		st = 200;
		break;
	case PM_RATELIMIT:
		st = ps_ratelimit(ps, src, now_ms, out, r);
		break;
	default:
		if (ps->mode == PM_SLOW)
			r->delay_ms = ps->delay_ms;
		switch (src) {
		case PS_COINGECKO:
			st = ps_coingecko(s, query, &c);
			break;
		case PS_BINANCE:
			st = ps_binance(s, query, &c);
			break;
		case PS_COINBASE:
			st = ps_coinbase(s, path, &c);
			break;
		case PS_KRAKEN:
			st = ps_kraken(s, query, &c);
			break;
		default:
			st = ps_generic(s, path, &c);
			break;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return st;
}

void
ps_walk(ps_sim *s, uint64_t *rng, uint64_t max_ppm, unsigned decimals)
{
	u256 q;
	u256_from_u64(&q, 1);
	for (unsigned k = decimals; k < PS_DEC; k++)
		u256_mul_u64(&q, &q, 10);
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->nfeeds; i++) {
		*rng ^= *rng << 13;
		*rng ^= *rng >> 7;
		*rng ^= *rng << 17;
		uint64_t step = *rng % (2 * max_ppm + 1); /* 0 .. 2*max: factor (10^6 - max + step) / 10^6 */
		u256 *b = &s->feeds[i].base, old = *b, r;
		u256_mul_u64(b, b, 1000000u - max_ppm + step);
		u256_divmod_u64(b, b, 1000000u);
		u256_divmod(b, &r, b, &q); /* round down to `decimals` */
		u256_mul(b, b, &q);
		if (u256_is_zero(b))
			*b = old;
	}
	pthread_mutex_unlock(&s->mu);
}
