/* adapters: response formats of the price sources -> exact fixed point (see adapters.h).
 *
 * One table row per source kind: where the price and the time are, and a check that turns the
 * API's own error report (Kraken's "error" array, Binance's {"code","msg"}, Coinbase's "errors",
 * CoinGecko's "status") into a clear FX_E_SOURCE instead of a vague "price missing". */
#include "base/hex.h"
#include "actors/fetcher/adapters.h"
#include "chain/jscan.h"

#include <stdarg.h>
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
	"missing", "source_error", "range",   "nonpositive", "stale",
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

static fx_err
fx_parse_inner(const fx_spec *s, const char *body, size_t len, u256 *value, uint64_t *ts_ms, int *inexact, char *err,
               size_t errlen)
{
	size_t off;
	const char *why;
	js_val v;
	char text[FX_TEXT_MAX];

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
	if (fx_text(&v, text, sizeof text) != 0)
		return fx_fail(v.type == JS_STRING ? FX_E_RANGE : FX_E_MISSING, err, errlen,
		               v.type == JS_STRING ? "price at %s: string too long"
		                                   : "price at %s is a %s, want a number or a decimal string",
		               path, js_type_name(v.type));
	if (dec_to_fixed(text, strlen(text), s->decimals, value, inexact) != 0)
		return fx_fail(FX_E_RANGE, err, errlen, "price at %s is not a decimal in range: \"%.40s\"", path, text);
	if (i256_is_neg(value) || u256_is_zero(value))
		return fx_fail(FX_E_NONPOSITIVE, err, errlen, "price at %s is not positive: %.40s", path, text);

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
