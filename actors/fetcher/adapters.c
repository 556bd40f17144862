/* adapters: response formats of the price sources -> exact fixed point (see adapters.h).
 *
 * One table row per source kind: where the price and the time are, and a check that turns the
 * API's own error report (Kraken's "error" array, Binance's {"code","msg"}, Coinbase's "errors",
 * CoinGecko's "status") into a clear FX_E_SOURCE instead of a vague "price missing". */
#include "base/hex.h"
#include "actors/fetcher/adapters.h"
#include "chain/jscan.h"

#include <curl/curl.h>

#include <stdarg.h>
#include <stdint.h>
#include <strings.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define FX_TEXT_MAX 128 /* longest price/time literal accepted (a uint256 has 78 digits) */

static fx_err fx_fail(fx_err e, char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static fx_err
fx_fail(fx_err e, char *err, size_t errlen, const char *fmt, ...)
{
	if (errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return e;
}

/* A short printable copy of an API's error text for err (the body is untrusted). */
static void
fx_quote(const js_val *v, char *out, size_t cap)
{
	char tmp[96];
	long n = js_string(v, tmp, sizeof tmp);
	if (n < 0)
		snprintf(tmp, sizeof tmp, "%.*s", (int)(v->n < 60 ? v->n : 60), v->p);
	size_t o = 0;
	for (const char *p = tmp; *p && o + 1 < cap; p++)
		out[o++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
	if (cap)
		out[o] = '\0';
}

static fx_err
fx_check_kraken(const char *doc, size_t n, char *err, size_t errlen)
{
	js_val v, first;
	if (js_find(doc, n, "error", &v) != 0)
		return FX_OK;
	if (v.type != JS_ARRAY)
		return fx_fail(FX_E_SOURCE, err, errlen, "kraken: \"error\" is a %s, want an array",
		               js_type_name(v.type));
	if (js_count(&v) == 0)
		return FX_OK;
	char q[96] = "?";
	if (js_find(doc, n, "error.0", &first) == 0)
		fx_quote(&first, q, sizeof q);
	return fx_fail(FX_E_SOURCE, err, errlen, "kraken error: %s", q);
}

static fx_err
fx_check_binance(const char *doc, size_t n, char *err, size_t errlen)
{
	js_val msg, code, price;
	if (js_find(doc, n, "price", &price) == 0 || js_find(doc, n, "msg", &msg) != 0)
		return FX_OK;
	char q[96], c[32] = "?";
	fx_quote(&msg, q, sizeof q);
	if (js_find(doc, n, "code", &code) == 0 && code.type == JS_NUMBER && code.n < sizeof c)
		snprintf(c, sizeof c, "%.*s", (int)code.n, code.p);
	return fx_fail(FX_E_SOURCE, err, errlen, "binance error %s: %s", c, q);
}

static fx_err
fx_check_coinbase(const char *doc, size_t n, char *err, size_t errlen)
{
	js_val v;
	if (js_find(doc, n, "errors.0", &v) != 0)
		return FX_OK;
	char q[96] = "?";
	js_val m;
	if (js_find(doc, n, "errors.0.message", &m) == 0)
		fx_quote(&m, q, sizeof q);
	return fx_fail(FX_E_SOURCE, err, errlen, "coinbase error: %s", q);
}

static fx_err
fx_check_coingecko(const char *doc, size_t n, char *err, size_t errlen)
{
	js_val v;
	if (js_find(doc, n, "status.error_message", &v) != 0 && js_find(doc, n, "error", &v) != 0)
		return FX_OK;
	char q[96];
	fx_quote(&v, q, sizeof q);
	return fx_fail(FX_E_SOURCE, err, errlen, "coingecko error: %s", q);
}

typedef fx_err (*fx_check_fn)(const char *doc, size_t n, char *err, size_t errlen);

static const struct {
	const char *name;
	const char *path; /* default price path */
	int ts_optional;  /* a missing timestamp is normal (CoinGecko without include_last_updated_at) */
	fx_check_fn check;
} fx_kinds[FX_NKINDS] = {
	[FX_COINGECKO] = { "coingecko", NULL, 1, fx_check_coingecko },
	[FX_BINANCE] = { "binance", "price", 0, fx_check_binance },
	[FX_COINBASE] = { "coinbase", "data.amount", 0, fx_check_coinbase },
	[FX_KRAKEN] = { "kraken", "result.*.c.0", 0, fx_check_kraken },
	[FX_GENERIC] = { "generic", NULL, 0, NULL },
};

static const char *const fx_units[FX_NUNITS] = { "s", "ms", "us", "ns", "rfc3339" };

static const char *const fx_errs[FX_NERRS] = {
	"ok",      "connect",      "timeout", "http",        "transfer", "parse",
	"missing", "source_error", "range",   "nonpositive", "stale",    "rate_limited",
};

/* The literal text of a number, or the content of a string: the exact characters to convert. */
static int
fx_text(const js_val *v, char *out, size_t cap)
{
	if (v->type == JS_NUMBER) {
		if (v->n >= cap)
			return -1;
		memcpy(out, v->p, v->n);
		out[v->n] = '\0';
		return 0;
	}
	return v->type == JS_STRING && js_string(v, out, cap) >= 0 ? 0 : -1;
}

/* "2024-01-02T03:04:05.678Z" or with +hh:mm / -hh:mm; fraction truncated to ms. */
static int
fx_rfc3339(const char *s, uint64_t *ms)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	int f[6] = { 0 }, fi = 0;
	size_t i;
	for (i = 0; shape[i]; i++) {
		char c = s[i];
		if (shape[i] == 'd') {
			if (c < '0' || c > '9')
				return -1;
			f[fi] = f[fi] * 10 + (c - '0');
		} else if (c != shape[i] && !(shape[i] == 'T' && (c == 't' || c == ' '))) {
			return -1;
		} else {
			fi++;
		}
	}
	uint64_t frac = 0;
	if (s[i] == '.') {
		int nd = 0;
		for (i++; s[i] >= '0' && s[i] <= '9'; i++, nd++)
			if (nd < 3)
				frac = frac * 10 + (uint64_t)(s[i] - '0');
		if (nd == 0)
			return -1;
		for (; nd < 3; nd++)
			frac *= 10;
	}
	long off = 0;
	if (s[i] == 'Z' || s[i] == 'z') {
		i++;
	} else if ((s[i] == '+' || s[i] == '-') && s[i + 1] >= '0' && s[i + 1] <= '9' && s[i + 2] >= '0' &&
	           s[i + 2] <= '9' && s[i + 3] == ':' && s[i + 4] >= '0' && s[i + 4] <= '9' && s[i + 5] >= '0' &&
	           s[i + 5] <= '9') {
		off = ((s[i + 1] - '0') * 10 + (s[i + 2] - '0')) * 3600L +
		      ((s[i + 4] - '0') * 10 + (s[i + 5] - '0')) * 60L;
		if (s[i] == '-')
			off = -off;
		i += 6;
	} else {
		return -1;
	}
	if (s[i] != '\0' || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60)
		return -1;
	struct tm tm = { .tm_year = f[0] - 1900,
		         .tm_mon = f[1] - 1,
		         .tm_mday = f[2],
		         .tm_hour = f[3],
		         .tm_min = f[4],
		         .tm_sec = f[5] };
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || (long long)t - off < 0)
		return -1;
	*ms = (uint64_t)((long long)t - off) * 1000u + frac;
	return 0;
}

static fx_err
fx_timestamp(const js_val *v, fx_ts_unit unit, const char *path, uint64_t *ts_ms, char *err, size_t errlen)
{
	char text[FX_TEXT_MAX];
	if (fx_text(v, text, sizeof text) != 0)
		return fx_fail(FX_E_MISSING, err, errlen, "timestamp at %s is a %s, want a number or string", path,
		               js_type_name(v->type));
	if (unit == FX_TS_RFC3339) {
		if (v->type != JS_STRING || fx_rfc3339(text, ts_ms) != 0)
			return fx_fail(FX_E_RANGE, err, errlen, "timestamp at %s is not an RFC 3339 time", path);
		return FX_OK;
	}
	/* Seconds may carry a fraction ("1700000000.123"): scale to ms exactly; the finer units divide. */
	static const uint64_t div[FX_NUNITS] = { 1, 1, 1000, 1000000, 1 };
	u256 t;
	if (dec_to_fixed(text, strlen(text), unit == FX_TS_S ? 3 : 0, &t, NULL) != 0 || i256_is_neg(&t))
		return fx_fail(FX_E_RANGE, err, errlen, "timestamp at %s is not a non-negative number", path);
	u256_divmod_u64(&t, &t, div[unit]);
	if (!u256_fits_u64(&t))
		return fx_fail(FX_E_RANGE, err, errlen, "timestamp at %s is out of range", path);
	*ts_ms = u256_low64(&t);
	return FX_OK;
}

/* The price at v (found at `where`) as price * 10^decimals, positive. */
static fx_err
fx_price(const js_val *v, const char *where, unsigned decimals, u256 *value, int *inexact, char *err, size_t errlen)
{
	char text[FX_TEXT_MAX];
	if (fx_text(v, text, sizeof text) != 0)
		return fx_fail(v->type == JS_STRING ? FX_E_RANGE : FX_E_MISSING, err, errlen,
		               v->type == JS_STRING ? "price at %s: string too long"
		                                    : "price at %s is a %s, want a number or a decimal string",
		               where, js_type_name(v->type));
	if (dec_to_fixed(text, strlen(text), decimals, value, inexact) != 0)
		return fx_fail(FX_E_RANGE, err, errlen, "price at %s is not a decimal in range: \"%.40s\"", where,
		               text);
	if (i256_is_neg(value) || u256_is_zero(value))
		return fx_fail(FX_E_NONPOSITIVE, err, errlen, "price at %s is not positive: %.40s", where, text);
	return FX_OK;
}

static fx_err
fx_parse_inner(const fx_spec *s, const char *body, size_t len, u256 *value, uint64_t *ts_ms, int *inexact, char *err,
               size_t errlen)
{
	size_t off;
	const char *why;
	js_val v;

	u256_zero(value);
	*ts_ms = 0;
	if (inexact)
		*inexact = 0;
	if ((unsigned)s->kind >= FX_NKINDS || (unsigned)s->ts_unit >= FX_NUNITS)
		return fx_fail(FX_E_PARSE, err, errlen, "bad adapter spec");
	if (js_validate(body, len, &off, &why) != 0)
		return fx_fail(FX_E_PARSE, err, errlen, "not JSON: %s at byte %zu of %zu", why, off, len);
	if (fx_kinds[s->kind].check) {
		fx_err e = fx_kinds[s->kind].check(body, len, err, errlen);
		if (e != FX_OK)
			return e;
	}
	const char *path = s->path ? s->path : fx_kinds[s->kind].path;
	if (path == NULL)
		return fx_fail(FX_E_MISSING, err, errlen, "%s: no price path configured", fx_kinds[s->kind].name);
	if (js_find(body, len, path, &v) != 0)
		return fx_fail(FX_E_MISSING, err, errlen, "no price at %s", path);
	fx_err pe = fx_price(&v, path, s->decimals, value, inexact, err, errlen);
	if (pe != FX_OK)
		return pe;

	if (s->ts_path) {
		if (js_find(body, len, s->ts_path, &v) != 0) {
			if (!fx_kinds[s->kind].ts_optional)
				return fx_fail(FX_E_MISSING, err, errlen, "no timestamp at %s", s->ts_path);
		} else {
			fx_ts_unit unit = s->kind == FX_COINGECKO ? FX_TS_S : s->ts_unit;
			return fx_timestamp(&v, unit, s->ts_path, ts_ms, err, errlen);
		}
	}
	return FX_OK;
}

fx_err
fx_parse(const fx_spec *s, const char *body, size_t len, u256 *value, uint64_t *ts_ms, int *inexact, char *err,
         size_t errlen)
{
	fx_err e = fx_parse_inner(s, body, len, value, ts_ms, inexact, err, errlen);
	if (e != FX_OK) { /* a refused response leaves nothing behind that could be published by mistake */
		u256_zero(value);
		*ts_ms = 0;
	}
	return e;
}

/* Copies the percent-decoded value of query parameter `key` of url into out. 0, or -1 if absent. */
static int
fx_query_param(const char *url, const char *key, char *out, size_t cap)
{
	const char *q = strchr(url, '?');
	size_t klen = strlen(key);
	for (q = q ? q + 1 : NULL; q && *q;) {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		if (len > klen && strncmp(q, key, klen) == 0 && q[klen] == '=') {
			size_t o = 0;
			for (size_t i = klen + 1; i < len && o + 1 < cap; i++) {
				char c = q[i];
				int hi = i + 2 < len ? hex_digit(q[i + 1]) : -1,
				    lo = i + 2 < len ? hex_digit(q[i + 2]) : -1;
				if (c == '%' && hi >= 0 && lo >= 0) {
					c = (char)(hi << 4 | lo);
					i += 2;
				} else if (c == '+') {
					c = ' ';
				}
				out[o++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
			}
			out[o] = '\0';
			return 0;
		}
		q = amp ? amp + 1 : NULL;
	}
	return -1;
}

int
fx_coingecko_paths(const char *url, char *path, size_t pcap, char *ts_path, size_t tcap, char *err, size_t errlen)
{
	char ids[64], vs[32];
	if (fx_query_param(url, "ids", ids, sizeof ids) != 0 ||
	    fx_query_param(url, "vs_currencies", vs, sizeof vs) != 0 || !ids[0] || !vs[0]) {
		fx_fail(FX_E_MISSING, err, errlen,
		        "coingecko URL needs ?ids=<id>&vs_currencies=<cur> (or give \"path\")");
		return -1;
	}
	if (strpbrk(ids, ",.* ") || strpbrk(vs, ",.* ")) {
		fx_fail(FX_E_MISSING, err, errlen,
		        "coingecko URL names several ids or currencies: give \"path\" (e.g. %s)", "ethereum.usd");
		return -1;
	}
	if ((size_t)snprintf(path, pcap, "%s.%s", ids, vs) >= pcap ||
	    (size_t)snprintf(ts_path, tcap, "%s.last_updated_at", ids) >= tcap) {
		fx_fail(FX_E_MISSING, err, errlen, "coingecko id too long");
		return -1;
	}
	return 0;
}

fx_err
fx_check_fresh(uint64_t ts_ms, uint64_t now_ms, uint64_t max_ms)
{
	if (ts_ms == 0 || max_ms == 0)
		return FX_OK;
	if (ts_ms < now_ms && now_ms - ts_ms > max_ms)
		return FX_E_STALE;
	if (ts_ms > now_ms && ts_ms - now_ms > max_ms)
		return FX_E_STALE;
	return FX_OK;
}

const char *
fx_kind_name(fx_kind k)
{
	return (unsigned)k < FX_NKINDS ? fx_kinds[k].name : "?";
}
const char *
fx_unit_name(fx_ts_unit u)
{
	return (unsigned)u < FX_NUNITS ? fx_units[u] : "?";
}
const char *
fx_err_name(fx_err e)
{
	return (unsigned)e < FX_NERRS ? fx_errs[e] : "?";
}

int
fx_kind_from_name(const char *name)
{
	for (int k = 0; k < FX_NKINDS; k++)
		if (name && strcmp(name, fx_kinds[k].name) == 0)
			return k;
	return -1;
}

int
fx_unit_from_name(const char *name)
{
	for (int u = 0; u < FX_NUNITS; u++)
		if (name && strcmp(name, fx_units[u]) == 0)
			return u;
	return -1;
}

/* ---- batched responses ------------------------------------------------------------------------ */

/* Sets one item's outcome (a refused item keeps no value). */
static void fx_item_fail(fx_item *it, fx_err e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void
fx_item_fail(fx_item *it, fx_err e, const char *fmt, ...)
{
	va_list ap;
	it->err = e;
	u256_zero(&it->value);
	it->ts_ms = 0;
	va_start(ap, fmt);
	vsnprintf(it->why, sizeof it->why, fmt, ap);
	va_end(ap);
	if (it->why[0] == '\0') /* never empty: an empty reason means "not seen yet" */
		snprintf(it->why, sizeof it->why, "%s", fx_err_name(e));
}

/* The items whose sym equals key (a JSON string of the document) and are still unread: marks the
 * first by returning its index, or -1. Keys are compared unescaped. */
static long
fx_match(fx_item *items, size_t n, const js_val *key)
{
	char k[FX_SYM_MAX + 1];
	const char *raw;
	size_t rlen;
	if (js_string_raw(key, &raw, &rlen) == 0) {
		if (rlen > FX_SYM_MAX)
			return -1;
		memcpy(k, raw, rlen);
		k[rlen] = '\0';
	} else if (js_string(key, k, sizeof k) < 0) {
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (items[i].err == FX_E_MISSING && items[i].why[0] == '\0' && strcmp(items[i].sym, k) == 0)
			return (long)i;
	return -1;
}

/* One item's price from the value v found for it, and its time (seconds) when ts is given. */
static void
fx_item_read(fx_item *it, const js_val *v, const char *where, const js_val *ts)
{
	char e[sizeof it->why];
	fx_err r = fx_price(v, where, it->decimals, &it->value, &it->inexact, e, sizeof e);
	if (r == FX_OK && ts)
		r = fx_timestamp(ts, FX_TS_S, "last_updated_at", &it->ts_ms, e, sizeof e);
	if (r != FX_OK) {
		fx_item_fail(it, r, "%s", e);
		return;
	}
	it->err = FX_OK;
	it->why[0] = '\0';
}

/* CoinGecko: {"<id>":{"<vs>":price,...,"last_updated_at":s}, ...}; one item per (id, vs). */
static size_t
fx_batch_coingecko(const js_val *root, fx_item *items, size_t n)
{
	js_iter it;
	js_val key, val, pv, ts;
	size_t walked = 0;
	js_iter_init(&it, root);
	while (js_iter_next(&it, &key, &val) && ++walked <= FX_BATCH_MAX_ENTRIES) {
		long i;
		/* several items may share an id (ethereum/usd, ethereum/eur) */
		while ((i = fx_match(items, n, &key)) >= 0) {
			fx_item *x = &items[i];
			if (x->vs == NULL || js_get(&val, x->vs, &pv) != 0) {
				fx_item_fail(x, FX_E_MISSING, "no %s price for this id", x->vs ? x->vs : "vs");
				continue;
			}
			fx_item_read(x, &pv, x->sym, js_get(&val, "last_updated_at", &ts) == 0 ? &ts : NULL);
		}
	}
	return walked;
}

/* Binance: [{"symbol":"ETHUSDT","price":"..."}, ...], or one such object (symbol=). */
static size_t
fx_batch_binance(const js_val *root, fx_item *items, size_t n)
{
	js_iter it;
	js_val el, sym, pv;
	size_t walked = 0;
	if (root->type == JS_OBJECT) {
		if (js_get(root, "symbol", &sym) == 0 && sym.type == JS_STRING) {
			long i = fx_match(items, n, &sym);
			if (i >= 0 && js_get(root, "price", &pv) == 0)
				fx_item_read(&items[i], &pv, "price", NULL);
		}
		return 1;
	}
	js_iter_init(&it, root);
	while (js_iter_next(&it, NULL, &el) && ++walked <= FX_BATCH_MAX_ENTRIES) {
		if (js_get(&el, "symbol", &sym) != 0 || sym.type != JS_STRING)
			continue;
		long i = fx_match(items, n, &sym);
		if (i < 0)
			continue;
		if (js_get(&el, "price", &pv) != 0)
			fx_item_fail(&items[i], FX_E_MISSING, "%s: entry without \"price\"", items[i].sym);
		else
			fx_item_read(&items[i], &pv, "price", NULL);
	}
	return walked;
}

/* Kraken: {"error":[],"result":{"XETHZUSD":{"c":["3000.1","0.5"],...}, ...}}; c[0] = last trade. */
static size_t
fx_batch_kraken(const js_val *root, fx_item *items, size_t n)
{
	js_iter it;
	js_val result, key, val, pv;
	size_t walked = 0;
	if (js_get(root, "result", &result) != 0)
		return 0;
	js_iter_init(&it, &result);
	while (js_iter_next(&it, &key, &val) && ++walked <= FX_BATCH_MAX_ENTRIES) {
		long i = fx_match(items, n, &key);
		if (i < 0)
			continue;
		if (js_find(val.p, val.n, "c.0", &pv) != 0)
			fx_item_fail(&items[i], FX_E_MISSING, "%s: no last trade (c.0)", items[i].sym);
		else
			fx_item_read(&items[i], &pv, "c.0", NULL);
	}
	return walked;
}

/* Replaces every "{symbol}" of tmpl with sym into out. 0, or -1 when it does not fit. */
int
fx_subst(const char *tmpl, const char *sym, char *out, size_t cap)
{
	size_t o = 0, sl = strlen(sym);
	for (const char *p = tmpl; *p;) {
		if (strncmp(p, "{symbol}", 8) == 0) {
			if (o + sl >= cap)
				return -1;
			memcpy(out + o, sym, sl);
			o += sl;
			p += 8;
		} else {
			if (o + 1 >= cap)
				return -1;
			out[o++] = *p++;
		}
	}
	if (cap == 0)
		return -1;
	out[o] = '\0';
	return 0;
}

fx_err
fx_parse_batch(const fx_spec *s, const char *body, size_t len, fx_item *items, size_t n, char *err, size_t errlen)
{
	size_t off;
	const char *why;
	fx_err e = FX_OK;
	js_val root;

	for (size_t i = 0; i < n; i++) { /* "not found" until an entry says otherwise */
		items[i].err = FX_E_MISSING;
		items[i].why[0] = '\0';
		items[i].inexact = 0;
		items[i].ts_ms = 0;
		u256_zero(&items[i].value);
	}
	if ((unsigned)s->kind >= FX_NKINDS || (unsigned)s->ts_unit >= FX_NUNITS)
		e = fx_fail(FX_E_PARSE, err, errlen, "bad adapter spec");
	else if (js_validate(body, len, &off, &why) != 0)
		e = fx_fail(FX_E_PARSE, err, errlen, "not JSON: %s at byte %zu of %zu", why, off, len);
	else if (fx_kinds[s->kind].check)
		e = fx_kinds[s->kind].check(body, len, err, errlen);
	if (e == FX_OK) {
		/* the document itself (validated): its text without the surrounding whitespace */
		size_t a = 0, b = len;
		while (a < b && (body[a] == ' ' || body[a] == '\t' || body[a] == '\r' || body[a] == '\n'))
			a++;
		while (b > a &&
		       (body[b - 1] == ' ' || body[b - 1] == '\t' || body[b - 1] == '\r' || body[b - 1] == '\n'))
			b--;
		root.p = body + a;
		root.n = b - a;
		root.type = body[a] == '{' ? JS_OBJECT : body[a] == '[' ? JS_ARRAY : JS_NONE;
	}
	size_t walked = 0;
	if (e == FX_OK) {
		switch (s->kind) {
		case FX_COINGECKO:
			if (root.type != JS_OBJECT)
				e = fx_fail(FX_E_MISSING, err, errlen, "coingecko: want an object of ids");
			else
				walked = fx_batch_coingecko(&root, items, n);
			break;
		case FX_BINANCE:
			if (root.type != JS_ARRAY && root.type != JS_OBJECT)
				e = fx_fail(FX_E_MISSING, err, errlen, "binance: want an array of tickers");
			else
				walked = fx_batch_binance(&root, items, n);
			break;
		case FX_KRAKEN:
			if (root.type != JS_OBJECT)
				e = fx_fail(FX_E_MISSING, err, errlen, "kraken: want an object");
			else
				walked = fx_batch_kraken(&root, items, n);
			break;
		default: /* coinbase, generic: one document per symbol or paths with {symbol} */
			for (size_t i = 0; i < n; i++) {
				char path[160], tpath[160], ie[sizeof items[i].why];
				fx_spec one = *s;
				one.decimals = items[i].decimals;
				if (s->kind == FX_GENERIC) {
					if (!s->path || fx_subst(s->path, items[i].sym, path, sizeof path) != 0 ||
					    (s->ts_path &&
					     fx_subst(s->ts_path, items[i].sym, tpath, sizeof tpath) != 0)) {
						fx_item_fail(&items[i], FX_E_MISSING, "%s", "path too long");
						continue;
					}
					one.path = path;
					one.ts_path = s->ts_path ? tpath : NULL;
				} else if (s->kind == FX_COINBASE && items[i].sym[0]) {
					/* the answer names its pair: a mixed-up response is refused, not published */
					js_val b, c;
					char bs[24], cs[24], pair[50];
					if (js_find(body, len, "data.base", &b) == 0 &&
					    js_find(body, len, "data.currency", &c) == 0 &&
					    js_string(&b, bs, sizeof bs) >= 0 && js_string(&c, cs, sizeof cs) >= 0) {
						snprintf(pair, sizeof pair, "%s-%s", bs, cs);
						if (strcasecmp(pair, items[i].sym) != 0) {
							fx_item_fail(&items[i], FX_E_MISSING, "answer is for %s", pair);
							continue;
						}
					}
				}
				fx_err r = fx_parse(&one, body, len, &items[i].value, &items[i].ts_ms,
				                    &items[i].inexact, ie, sizeof ie);
				items[i].err = r;
				snprintf(items[i].why, sizeof items[i].why, "%s", r == FX_OK ? "" : ie);
			}
			walked = n;
			break;
		}
	}
	if (e == FX_OK && walked > FX_BATCH_MAX_ENTRIES)
		e = fx_fail(FX_E_RANGE, err, errlen, "more than %d entries in the response", FX_BATCH_MAX_ENTRIES);
	for (size_t i = 0; i < n; i++) {
		if (e != FX_OK)
			fx_item_fail(&items[i], e, "%s", errlen ? err : fx_err_name(e));
		else if (items[i].err == FX_E_MISSING && items[i].why[0] == '\0')
			fx_item_fail(&items[i], FX_E_MISSING, "%s not in the response", items[i].sym);
	}
	return e;
}

int64_t
fx_retry_after_s(const char *v, int64_t now_s)
{
	if (v == NULL)
		return -1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v >= '0' && *v <= '9') { /* delay-seconds: 1*DIGIT */
		int64_t s = 0;
		for (; *v >= '0' && *v <= '9'; v++)
			s = s > INT64_MAX / 20 ? INT64_MAX / 20 : s * 10 + (*v - '0');
		while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
			v++;
		return *v ? -1 : s;
	}
	/* HTTP-date (IMF-fixdate, or the obsolete RFC 850 / asctime forms): libcurl's date parser */
	char buf[64];
	size_t n = strcspn(v, "\r\n");
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	time_t t = curl_getdate(buf, NULL);
	if (t == (time_t)-1)
		return -1;
	return (int64_t)t > now_s ? (int64_t)t - now_s : 0;
}

uint64_t
fx_backoff_ms(int64_t retry_after_s, unsigned n, uint64_t base_ms, uint64_t max_ms)
{
	uint64_t d;
	if (retry_after_s >= 0)
		d = (uint64_t)retry_after_s > max_ms / 1000u ? max_ms : (uint64_t)retry_after_s * 1000u;
	else {
		unsigned sh = n == 0 ? 0 : n - 1 > 30 ? 30 : n - 1;
		d = base_ms > (max_ms >> sh) ? max_ms : base_ms << sh;
	}
	return d > max_ms ? max_ms : d;
}
