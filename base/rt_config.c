/* rt_config: environment configuration from descriptor tables (see rt_config.h).
 *
 * One descriptor per type (name shown in usage, parser, what a bad value "is not"), so adding a
 * type is one row. Parsers write into the destination only when the whole value is valid, and
 * describe a failure in `why` without ever quoting a secret. */
#include "base/rt_config.h"
#include "base/hex.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <secp256k1.h>

typedef struct {
	const char *name; /* shown in the usage table */
	const char *what; /* "'x' is not <what>" */
	int (*parse)(const rt_opt *o, const char *s, char *why, size_t wl);
} rtc_type;

/* The value as it may appear in a message: quoted and shortened, or hidden for secrets. */
static const char *
rtc_show(const rt_opt *o, const char *s, char *buf, size_t cap)
{
	if (o->flags & RT_SECRET)
		return "value (hidden)";
	size_t n = strlen(s);
	if (n > 64)
		snprintf(buf, cap, "'%.60s...'", s);
	else
		snprintf(buf, cap, "'%s'", s);
	return buf;
}

static int
rtc_bounded(const rt_opt *o)
{
	return o->max > o->min;
}

static int
rtc_range_i(const rt_opt *o, int64_t v, const char *s, char *why, size_t wl)
{
	if (!rtc_bounded(o) || (v >= o->min && v <= o->max))
		return 0;
	char b[80];
	snprintf(why, wl, "%s is out of range [%" PRId64 ", %" PRId64 "]", rtc_show(o, s, b, sizeof b), o->min, o->max);
	return -2;
}

static int
rtc_range_u(const rt_opt *o, uint64_t v, const char *s, char *why, size_t wl)
{
	if (!rtc_bounded(o))
		return 0;
	uint64_t lo = o->min < 0 ? 0 : (uint64_t)o->min, hi = o->max < 0 ? 0 : (uint64_t)o->max;
	if (v >= lo && v <= hi)
		return 0;
	char b[80];
	snprintf(why, wl, "%s is out of range [%" PRIu64 ", %" PRIu64 "]", rtc_show(o, s, b, sizeof b), lo, hi);
	return -2;
}

/* Decimal digits only, no sign, no spaces; overflow is an error. */
static int
rtc_u64(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*end = p;
	*out = v;
	return 0;
}

static int
rtc_parse_str(const rt_opt *o, const char *s, char *why, size_t wl)
{
	*(const char **)o->dst = s;
	return 0;
}

static int
rtc_parse_i64(const rt_opt *o, const char *s, char *why, size_t wl)
{
	const char *p = s, *end;
	int neg = 0;
	uint64_t u;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (rtc_u64(p, &end, &u) != 0 || *end || u > (uint64_t)INT64_MAX + (uint64_t)neg)
		return -1;
	int64_t v = neg ? (int64_t)(0 - u) : (int64_t)u;
	int rc = rtc_range_i(o, v, s, why, wl);
	if (rc == 0)
		*(int64_t *)o->dst = v;
	return rc;
}

static int
rtc_parse_u64(const rt_opt *o, const char *s, char *why, size_t wl)
{
	const char *end;
	uint64_t v;
	if (rtc_u64(s, &end, &v) != 0 || *end)
		return -1;
	int rc = rtc_range_u(o, v, s, why, wl);
	if (rc == 0)
		*(uint64_t *)o->dst = v;
	return rc;
}

static int
rtc_parse_bool(const rt_opt *o, const char *s, char *why, size_t wl)
{
	static const char *const yes[] = { "1", "true", "yes", "on" }, *const no[] = { "0", "false", "no", "off" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
			*(bool *)o->dst = strcasecmp(s, yes[i]) == 0;
			return 0;
		}
	}
	return -1;
}

int
rt_parse_duration_ms(const char *s, uint64_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = { { "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 } };
	const char *end;
	uint64_t v;
	if (s == NULL || rtc_u64(s, &end, &v) != 0)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(end, units[i].unit) == 0) {
			if (v > UINT64_MAX / units[i].mult)
				return -1;
			*ms = v * units[i].mult;
			return 0;
		}
	}
	return -1;
}

static int
rtc_parse_duration(const rt_opt *o, const char *s, char *why, size_t wl)
{
	uint64_t ms;
	if (rt_parse_duration_ms(s, &ms) != 0)
		return -1;
	int rc = rtc_range_u(o, ms, s, why, wl);
	if (rc == 0)
		*(uint64_t *)o->dst = ms;
	return rc;
}

/* Percent with at most 4 decimals -> ppm: "12.3456" -> 123456, "0.5" -> 5000, "1%" -> 10000. */
int
rt_parse_ppm(const char *s, uint64_t *ppm)
{
	const char *p;
	uint64_t whole, frac = 0;
	if (s == NULL || rtc_u64(s, &p, &whole) != 0)
		return -1;
	if (*p == '.') {
		p++;
		int digits = 0;
		if (!isdigit((unsigned char)*p))
			return -1;
		for (; isdigit((unsigned char)*p); p++, digits++) {
			if (digits < 4)
				frac = frac * 10 + (uint64_t)(*p - '0');
			else if (*p != '0')
				return -1; /* finer than 1 ppm cannot be kept exact */
		}
		for (; digits < 4; digits++)
			frac *= 10;
	}
	if (*p == '%')
		p++;
	if (*p || whole > (UINT64_MAX - frac) / 10000)
		return -1;
	*ppm = whole * 10000 + frac;
	return 0;
}

static int
rtc_parse_ppm(const rt_opt *o, const char *s, char *why, size_t wl)
{
	uint64_t v;
	if (rt_parse_ppm(s, &v) != 0)
		return -1;
	int rc = rtc_range_u(o, v, s, why, wl);
	if (rc == 0)
		*(uint64_t *)o->dst = v;
	return rc;
}

static int
rtc_parse_double(const rt_opt *o, const char *s, char *why, size_t wl)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno != 0 || !isfinite(v) || isspace((unsigned char)*s))
		return -1;
	if (rtc_bounded(o) && (v < (double)o->min || v > (double)o->max)) {
		char b[80];
		snprintf(why, wl, "%s is out of range [%" PRId64 ", %" PRId64 "]", rtc_show(o, s, b, sizeof b), o->min,
		         o->max);
		return -2;
	}
	*(double *)o->dst = v;
	return 0;
}

static size_t
rtc_list_cap(const rt_opt *o)
{
	return o->size == 0 || o->size > RT_LIST_MAX ? RT_LIST_MAX : o->size;
}

static int
rtc_parse_list(const rt_opt *o, const char *s, char *why, size_t wl)
{
	size_t cap = rtc_list_cap(o), items = 1, len = strlen(s);
	for (const char *c = s; *c; c++)
		items += *c == ',';
	if (items > cap) {
		snprintf(why, wl, "more than %zu items (%zu given)", cap, items);
		return -2;
	}
	/* one block: the item pointers, then a copy of the text they point into */
	rt_strlist tmp = { 0, NULL, malloc(items * sizeof(char *) + len + 1) };
	if (tmp.mem == NULL) {
		snprintf(why, wl, "out of memory");
		return -2;
	}
	tmp.v = (const char **)(void *)tmp.mem;
	char *text = tmp.mem + items * sizeof(char *);
	memcpy(text, s, len + 1);
	for (char *item = text, *next; item != NULL; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		while (isspace((unsigned char)*item))
			item++;
		char *e = item + strlen(item);
		while (e > item && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*item == '\0') {
			snprintf(why, wl, "empty item %zu in the comma list", tmp.n + 1);
			free(tmp.mem);
			return -2;
		}
		tmp.v[tmp.n++] = item;
	}
	rt_strlist *dst = o->dst;
	free(dst->mem); /* a reload replaces the previous list */
	*dst = tmp;
	return 0;
}

int
rt_parse_hex(const char *s, uint8_t *out, size_t n)
{
	uint8_t tmp[256]; /* decoded aside: a refused value writes nothing into out */
	if (s == NULL || n > sizeof tmp || hex_decode_exact(s, strlen(s), tmp, n) != HEX_OK)
		return -1;
	memcpy(out, tmp, n);
	explicit_bzero(tmp, n); /* it may be a secret */
	return 0;
}

static int
rtc_parse_hex(const rt_opt *o, const char *s, char *why, size_t wl)
{
	if (rt_parse_hex(s, o->dst, o->size) == 0)
		return 0;
	const char *h = s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? s + 2 : s;
	int digits_ok = 1;
	for (const char *p = h; *p; p++)
		digits_ok &= hex_digit(*p) >= 0;
	char b[80];
	if (digits_ok)
		snprintf(why, wl, "expected %zu bytes (%zu hex digits, 0x optional), got %zu hex digits", o->size,
		         2 * o->size, strlen(h));
	else
		snprintf(why, wl, "%s is not hex (expected %zu bytes, %zu hex digits, 0x optional)",
		         rtc_show(o, s, b, sizeof b), o->size, 2 * o->size);
	return -2;
}

/* ---- URLs, addresses, keys ---------------------------------------------------------------- */

/* host[0..n): a DNS name, an IPv4 address (4 octets <= 255), [IPv6], or, when wildcard is allowed,
 * empty or "*". */
static int
rtc_host(const char *h, size_t n, int wildcard, char *why, size_t wl)
{
	if (n == 0 || (n == 1 && h[0] == '*')) {
		if (wildcard)
			return 0;
		snprintf(why, wl, "no host");
		return -1;
	}
	if (h[0] == '[') {
		char a6[64];
		struct in6_addr in6;
		if (n < 3 || h[n - 1] != ']' || n - 2 >= sizeof a6) {
			snprintf(why, wl, "bad IPv6 host (expected [address])");
			return -1;
		}
		memcpy(a6, h + 1, n - 2);
		a6[n - 2] = '\0';
		if (inet_pton(AF_INET6, a6, &in6) != 1) {
			snprintf(why, wl, "'%.60s' is not an IPv6 address", a6);
			return -1;
		}
		return 0;
	}
	size_t digits_dots = 0;
	for (size_t i = 0; i < n; i++)
		digits_dots += isdigit((unsigned char)h[i]) || h[i] == '.';
	if (digits_dots == n) { /* numeric: must be a whole IPv4 address, not a name */
		unsigned parts = 0;
		for (const char *p = h, *end = h + n;; p++) {
			const char *q = p;
			unsigned v = 0;
			while (q < end && isdigit((unsigned char)*q) && q - p < 4)
				v = v * 10 + (unsigned)(*q++ - '0');
			if (q == p || q - p > 3 || ++parts > 4)
				break;
			if (v > 255) {
				snprintf(why, wl, "IPv4 octet %u is above 255", v);
				return -1;
			}
			if (q == end) {
				if (parts == 4)
					return 0;
				break;
			}
			p = q; /* at the dot */
		}
		snprintf(why, wl, "'%.*s' is not an IPv4 address (four octets 0..255)", (int)(n > 60 ? 60 : n), h);
		return -1;
	}
	if (n > 253) {
		snprintf(why, wl, "host name longer than 253 characters");
		return -1;
	}
	for (size_t i = 0, label = 0; i <= n; i++) {
		if (i == n || h[i] == '.') {
			if (label == 0 || label > 63 || h[i - 1] == '-' || h[i - label] == '-') {
				snprintf(why, wl, "'%.*s' is not a host name", (int)(n > 60 ? 60 : n), h);
				return -1;
			}
			label = 0;
		} else if (isalnum((unsigned char)h[i]) || h[i] == '-' || h[i] == '_') {
			label++;
		} else {
			snprintf(why, wl, "host '%.*s' has a character not allowed in a name", (int)(n > 60 ? 60 : n),
			         h);
			return -1;
		}
	}
	return 0;
}

/* ":port" digits -> 1..65535 */
static int
rtc_port(const char *p, size_t n, char *why, size_t wl)
{
	unsigned long v = 0;
	if (n == 0) {
		snprintf(why, wl, "no port (host:port)");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]) || i >= 6) {
			snprintf(why, wl, "port '%.*s' is not a number in 1..65535", (int)(n > 20 ? 20 : n), p);
			return -1;
		}
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v < 1 || v > 65535) {
		snprintf(why, wl, "port %lu is not in 1..65535", v);
		return -1;
	}
	return 0;
}

/* "host:port" (host may be [v6]); port optional when need_port is 0. */
static int
rtc_hostport(const char *s, size_t n, int wildcard, int need_port, char *why, size_t wl)
{
	const char *colon = NULL;
	const char *close = memchr(s, ']', n);
	for (const char *p = close ? close : s; p < s + n; p++)
		if (*p == ':')
			colon = p;
	if (colon == NULL) {
		if (need_port) {
			snprintf(why, wl, "no port (host:port)");
			return -1;
		}
		return rtc_host(s, n, wildcard, why, wl);
	}
	if (rtc_host(s, (size_t)(colon - s), wildcard, why, wl) != 0)
		return -1;
	return rtc_port(colon + 1, (size_t)(s + n - colon - 1), why, wl);
}

static int
rtc_no_space(const char *url, char *why, size_t wl)
{
	for (const char *p = url; *p; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p)) {
			snprintf(why, wl, "contains a space or control character");
			return -1;
		}
	return 0;
}

int
rt_check_bus_url(const char *url, int listen, char *why, size_t wl)
{
	static const char *const tcp[] = { "tcp", "tcp4", "tcp6", "tls+tcp", "tls+tcp4", "tls+tcp6" };
	const char *sep = strstr(url, "://");
	if (rtc_no_space(url, why, wl) != 0)
		return -1;
	if (sep == NULL) {
		snprintf(why, wl, "not a URL (expected tcp://host:port, ipc:///path or inproc://name)");
		return -1;
	}
	size_t sl = (size_t)(sep - url);
	const char *rest = sep + 3;
	for (size_t i = 0; i < sizeof tcp / sizeof tcp[0]; i++)
		if (strlen(tcp[i]) == sl && strncmp(url, tcp[i], sl) == 0) {
			if (strchr(rest, '/') != NULL) {
				snprintf(why, wl, "a tcp URL has no path (tcp://host:port)");
				return -1;
			}
			return rtc_hostport(rest, strlen(rest), listen, 1, why, wl);
		}
	if (sl == 3 && strncmp(url, "ipc", 3) == 0) {
		if (*rest == '\0' || strlen(rest) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			snprintf(why, wl, "ipc path empty or longer than %zu bytes",
			         sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
			return -1;
		}
		return 0;
	}
	if (sl == 6 && strncmp(url, "inproc", 6) == 0) {
		if (*rest == '\0') {
			snprintf(why, wl, "inproc name is empty");
			return -1;
		}
		return 0;
	}
	snprintf(why, wl, "scheme '%.*s' is not a bus transport (tcp, tls+tcp, ipc, inproc)", (int)(sl > 20 ? 20 : sl),
	         url);
	return -1;
}

int
rt_check_http_url(const char *url, char *why, size_t wl)
{
	const char *rest;
	if (rtc_no_space(url, why, wl) != 0)
		return -1;
	if (strncasecmp(url, "http://", 7) == 0)
		rest = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		rest = url + 8;
	else {
		snprintf(why, wl, "not an http:// or https:// URL");
		return -1;
	}
	size_t n = strcspn(rest, "/?#");
	const char *at = NULL;
	for (const char *p = rest; p < rest + n; p++)
		if (*p == '@')
			at = p; /* user:password@ (never quoted in messages below) */
	if (at) {
		n -= (size_t)(at + 1 - rest);
		rest = at + 1;
	}
	return rtc_hostport(rest, n, 0, 0, why, wl);
}

int
rt_check_addr(const char *s, uint8_t out[20], char *why, size_t wl)
{
	uint8_t tmp[20];
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) {
		snprintf(why, wl, "an address starts with 0x");
		return -1;
	}
	if (rt_parse_hex(s + 2, tmp, 20) != 0) {
		snprintf(why, wl, "an address is 0x and 40 hex digits");
		return -1;
	}
	int zero = 1;
	for (size_t i = 0; i < 20; i++)
		zero &= tmp[i] == 0;
	if (zero) {
		snprintf(why, wl, "the zero address");
		return -1;
	}
	memcpy(out, tmp, 20);
	return 0;
}

int
rt_check_seckey(const uint8_t key[32])
{
	return secp256k1_ec_seckey_verify(secp256k1_context_static, key) == 1 ? 0 : -1;
}

/* Comma list of URLs: items trimmed, none empty, at most o->size (0 = any). */
static int
rtc_parse_urls(const rt_opt *o, const char *s, char *why, size_t wl)
{
	char item[512], e2[160];
	size_t count = 0;
	if (*s == '\0') { /* an empty default: none */
		*(const char **)o->dst = s;
		return 0;
	}
	for (const char *p = s;; p++) {
		size_t l = strcspn(p, ",");
		const char *a = p, *z = p + l;
		while (a < z && isspace((unsigned char)*a))
			a++;
		while (z > a && isspace((unsigned char)z[-1]))
			z--;
		count++;
		if (z == a) {
			snprintf(why, wl, "empty item %zu in the comma list", count);
			return -2;
		}
		if (o->size && count > o->size) {
			snprintf(why, wl, "more than %zu URL%s", o->size, o->size == 1 ? "" : "s");
			return -2;
		}
		snprintf(item, sizeof item, "%.*s", (int)(z - a), a);
		int rc = o->type == RT_BUS_URL ? rt_check_bus_url(item, (o->flags & RT_LISTEN) != 0, e2, sizeof e2)
		                               : rt_check_http_url(item, e2, sizeof e2);
		if (rc != 0) {
			char b[80];
			const char *kind = o->type == RT_BUS_URL ? "a bus URL" : "an HTTP(S) URL";
			if (p == s && p[l] == '\0')
				snprintf(why, wl, "%s is not %s: %s", rtc_show(o, item, b, sizeof b), kind, e2);
			else
				snprintf(why, wl, "item %zu %s is not %s: %s", count, rtc_show(o, item, b, sizeof b),
				         kind, e2);
			return -2;
		}
		p += l;
		if (*p == '\0')
			break;
	}
	*(const char **)o->dst = s;
	return 0;
}

static int
rtc_parse_addr(const rt_opt *o, const char *s, char *why, size_t wl)
{
	char e2[120], b[80];
	if (rt_check_addr(s, o->dst, e2, sizeof e2) == 0)
		return 0;
	snprintf(why, wl, "%s is not an address: %s", rtc_show(o, s, b, sizeof b), e2);
	return -2;
}

static int
rtc_parse_key(const rt_opt *o, const char *s, char *why, size_t wl)
{
	uint8_t k[32];
	rt_opt hex = *o;
	hex.dst = k;
	hex.size = 32;
	int rc = rtc_parse_hex(&hex, s, why, wl);
	if (rc == 0 && rt_check_seckey(k) != 0) {
		snprintf(why, wl, "not a valid secp256k1 secret key (it is zero or not below the curve order)");
		rc = -2;
	}
	if (rc == 0)
		memcpy(o->dst, k, 32);
	explicit_bzero(k, sizeof k);
	return rc;
}

static int
rtc_parse_none(const rt_opt *o, const char *s, char *why, size_t wl)
{
	return 0;
}

static const rtc_type rtc_types[] = {
	[RT_STR] = { "string", "a string", rtc_parse_str },
	[RT_I64] = { "integer", "an integer", rtc_parse_i64 },
	[RT_U64] = { "unsigned integer", "an unsigned integer", rtc_parse_u64 },
	[RT_BOOL] = { "bool", "a bool (true/false, 1/0, yes/no, on/off)", rtc_parse_bool },
	[RT_DURATION] = { "duration", "a duration (examples: 30, 30s, 500ms, 2m, 1h)", rtc_parse_duration },
	[RT_PPM] = { "percent", "a percent with at most 4 decimals (examples: 0.5, 1, 2.25%)", rtc_parse_ppm },
	[RT_DOUBLE] = { "number", "a finite number", rtc_parse_double },
	[RT_LIST] = { "comma list", "a comma list", rtc_parse_list },
	[RT_HEX] = { "hex bytes", "hex", rtc_parse_hex },
	[RT_BUS_URL] = { "bus URL list", "a bus URL list", rtc_parse_urls },
	[RT_HTTP_URL] = { "http(s) URL list", "an HTTP(S) URL list", rtc_parse_urls },
	[RT_ADDR] = { "address", "an address", rtc_parse_addr },
	[RT_KEY] = { "secp256k1 key", "a secp256k1 secret key", rtc_parse_key },
	[RT_CHECK] = { "check", "a check", rtc_parse_none },
};

void
rt_config_error(rt_cfg_errs *e, const char *env, const char *fmt, ...)
{
	e->n++;
	if (e->buf == NULL || e->cap == 0)
		return;
	size_t used = strnlen(e->buf, e->cap);
	if (used + 1 >= e->cap)
		return;
	if (used > 0)
		e->buf[used++] = '\n';
	if (env && *env)
		used += (size_t)snprintf(e->buf + used, e->cap - used, "%s: ", env);
	if (used >= e->cap) {
		e->buf[e->cap - 1] = '\0';
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->buf + used, e->cap - used, fmt, ap);
	va_end(ap);
}

int
rt_config_failed(const rt_cfg_errs *e, const char *env)
{
	size_t l = strlen(env);
	for (const char *line = e->buf; line && *line;) {
		if (strncmp(line, env, l) == 0 && line[l] == ':')
			return 1;
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return 0;
}

void
rt_config_require(rt_cfg_errs *e, const char *env, int when, int given, const char *because)
{
	if (when && !given && !rt_config_failed(e, env))
		rt_config_error(e, env, "required %s", because);
}

int
rt_config_dir(rt_cfg_errs *e, const char *env, const char *path, int must_exist)
{
	struct stat st;
	if (path == NULL || !*path) {
		rt_config_error(e, env, "required (a directory)");
		return -1;
	}
	if (stat(path, &st) != 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		rt_config_error(e, env, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		rt_config_error(e, env, "%s: not a directory", path);
		return -1;
	}
	if (access(path, R_OK | W_OK | X_OK) != 0) {
		rt_config_error(e, env, "%s: not writable by this process: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

json_t *
rt_config_json(rt_cfg_errs *e, const char *env_name)
{
	char err[512];
	json_t *j = rt_config_file(env_name, err, sizeof err);
	if (j == NULL && err[0])
		rt_config_error(e, NULL, "%s", err);
	return j;
}

int
rt_config_load(const rt_opt *opts, size_t n, char *err, size_t errlen)
{
	rt_cfg_errs e = { err, errlen, 0 };
	if (err && errlen)
		err[0] = '\0';
	/* what each row parsed (for its check): NULL = nothing or scrubbed; ok = parsed without error */
	const char **texts = calloc(n ? n : 1, sizeof *texts);
	unsigned char *ok = calloc(n ? n : 1, 1);
	if (texts == NULL || ok == NULL) {
		free(texts);
		free(ok);
		rt_config_error(&e, NULL, "out of memory reading the configuration");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const rt_opt *o = &opts[i];
		if (o->type == RT_CHECK)
			continue;
		if (o->type > RT_CHECK || o->dst == NULL) {
			rt_config_error(&e, o->env, "invalid option descriptor");
			continue;
		}
		const char *v = getenv(o->env), *from = "";
		if (v == NULL || *v == '\0') {
			if (o->flags & RT_REQUIRED) {
				rt_config_error(&e, o->env, "required (%s)",
				                o->help ? o->help : rtc_types[o->type].name);
				continue;
			}
			v = o->dflt;
			from = "default ";
			if (v == NULL) {
				ok[i] = 1;
				continue;
			}
		}
		char why[256] = "", shown[80];
		int rc = rtc_types[o->type].parse(o, v, why, sizeof why);
		if (rc == -1)
			rt_config_error(&e, o->env, "%s%s is not %s", from, rtc_show(o, v, shown, sizeof shown),
			                rtc_types[o->type].what);
		else if (rc != 0)
			rt_config_error(&e, o->env, "%s%s", from, why);
		ok[i] = rc == 0;
		texts[i] = v;
		if (rc == 0 && (o->flags & RT_SCRUB) && o->type != RT_STR && v != o->dflt) {
			explicit_bzero((char *)v, strlen(v)); /* the environment block itself, not a copy */
			unsetenv(o->env);
			texts[i] = NULL;
		}
	}
	/* Second pass: semantic checks see every value, and report into the same list. */
	for (size_t i = 0; i < n; i++) {
		const rt_opt *c = &opts[i], *bound = c;
		const char *text = NULL;
		if (c->type != RT_CHECK)
			continue;
		if (c->dst == NULL) {
			rt_config_error(&e, c->env, "invalid check row (no function)");
			continue;
		}
		if (c->env && *c->env) {
			size_t j = 0;
			while (j < n && (opts[j].type == RT_CHECK || strcmp(opts[j].env, c->env) != 0))
				j++;
			if (j == n) {
				rt_config_error(&e, c->env, "check row for a variable not in the table");
				continue;
			}
			if (!ok[j])
				continue; /* its own error is listed; a check of a bad value would only repeat it */
			bound = &opts[j];
			text = texts[j];
		}
		((rt_check_fn *)c->dst)(bound, text, &e);
	}
	free(texts);
	free(ok);
	return e.n ? -1 : 0;
}

void
rt_config_free(const rt_opt *opts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (opts[i].type == RT_LIST && opts[i].dst) {
			rt_strlist *l = opts[i].dst;
			free(l->mem);
			memset(l, 0, sizeof *l);
		}
	}
}

/* Markdown cell text: '|' would end the cell, newlines would end the row. */
static void
rtc_cell(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

void
rt_config_usage_rows(const rt_opt *opts, size_t n, FILE *f)
{
	for (size_t i = 0; i < n; i++) {
		const rt_opt *o = &opts[i];
		if (o->type == RT_CHECK)
			continue;
		fprintf(f, "| `%s` | ", o->env);
		if (o->flags & RT_REQUIRED)
			fputs("(required)", f);
		else if (o->dflt && (o->flags & RT_SECRET))
			fputs("(secret)", f);
		else if (o->dflt && *o->dflt) {
			fputc('`', f);
			rtc_cell(f, o->dflt);
			fputc('`', f);
		}
		fputs(" | ", f);
		rtc_cell(f, o->help);
		const char *tn = o->type <= RT_CHECK ? rtc_types[o->type].name : "?";
		if (o->size == 1 && (o->type == RT_BUS_URL || o->type == RT_HTTP_URL))
			tn = o->type == RT_BUS_URL ? "bus URL" : "http(s) URL";
		fprintf(f, " (%s", tn);
		if (o->type == RT_HEX)
			fprintf(f, ", %zu bytes", o->size);
		if (o->type == RT_LIST)
			fprintf(f, ", at most %zu", rtc_list_cap(o));
		if ((o->type == RT_BUS_URL || o->type == RT_HTTP_URL) && o->size > 1)
			fprintf(f, ", at most %zu", o->size);
		if (rtc_bounded(o) && o->type <= RT_DOUBLE && o->type != RT_STR && o->type != RT_BOOL)
			fprintf(f, ", %" PRId64 "..%" PRId64 "%s", o->min, o->max,
			        o->type == RT_DURATION ? " ms"
			        : o->type == RT_PPM    ? " ppm"
			                               : "");
		if (o->flags & RT_SECRET)
			fputs(", secret", f);
		fputs(") |\n", f);
	}
}

void
rt_config_usage(const rt_opt *opts, size_t n, FILE *f)
{
	fputs("| variable | default | meaning |\n|---|---|---|\n", f);
	rt_config_usage_rows(opts, n, f);
}

json_t *
rt_config_file(const char *env_name, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	const char *path = getenv(env_name);
	if (path == NULL || *path == '\0')
		return NULL;
	json_error_t je;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL)
		snprintf(err, errlen, "%s: %s:%d:%d: %s", env_name, path, je.line, je.column, je.text);
	return j;
}
