/* rt_config: environment configuration from descriptor tables (see rt_config.h).
 *
 * One descriptor per type (name shown in usage, parser, what a bad value "is not"), so adding a
 * type is one row. Parsers write into the destination only when the whole value is valid, and
 * describe a failure in `why` without ever quoting a secret. */
#include "bus/rt_config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
	const char *name; /* shown in the usage table */
	const char *what; /* "'x' is not <what>" */
	int (*parse)(const rt_opt *o, const char *s, char *why, size_t wl);
} rtc_type;

/* The value as it may appear in a message: quoted and shortened, or hidden for secrets. */
static const char *rtc_show(const rt_opt *o, const char *s, char *buf, size_t cap)
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

static int rtc_bounded(const rt_opt *o) { return o->max > o->min; }

static int rtc_range_i(const rt_opt *o, int64_t v, const char *s, char *why, size_t wl)
{
	if (!rtc_bounded(o) || (v >= o->min && v <= o->max))
		return 0;
	char b[80];
	snprintf(why, wl, "%s is out of range [%" PRId64 ", %" PRId64 "]", rtc_show(o, s, b, sizeof b),
	         o->min, o->max);
	return -2;
}

static int rtc_range_u(const rt_opt *o, uint64_t v, const char *s, char *why, size_t wl)
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
static int rtc_u64(const char *s, const char **end, uint64_t *out)
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

static int rtc_parse_str(const rt_opt *o, const char *s, char *why, size_t wl)
{
	*(const char **)o->dst = s;
	return 0;
}

static int rtc_parse_i64(const rt_opt *o, const char *s, char *why, size_t wl)
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

static int rtc_parse_u64(const rt_opt *o, const char *s, char *why, size_t wl)
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

static int rtc_parse_bool(const rt_opt *o, const char *s, char *why, size_t wl)
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

int rt_parse_duration_ms(const char *s, uint64_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t    mult;
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

static int rtc_parse_duration(const rt_opt *o, const char *s, char *why, size_t wl)
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
int rt_parse_ppm(const char *s, uint64_t *ppm)
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

static int rtc_parse_ppm(const rt_opt *o, const char *s, char *why, size_t wl)
{
	uint64_t v;
	if (rt_parse_ppm(s, &v) != 0)
		return -1;
	int rc = rtc_range_u(o, v, s, why, wl);
	if (rc == 0)
		*(uint64_t *)o->dst = v;
	return rc;
}

static int rtc_parse_double(const rt_opt *o, const char *s, char *why, size_t wl)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno != 0 || !isfinite(v) || isspace((unsigned char)*s))
		return -1;
	if (rtc_bounded(o) && (v < (double)o->min || v > (double)o->max)) {
		char b[80];
		snprintf(why, wl, "%s is out of range [%" PRId64 ", %" PRId64 "]", rtc_show(o, s, b, sizeof b),
		         o->min, o->max);
		return -2;
	}
	*(double *)o->dst = v;
	return 0;
}

static size_t rtc_list_cap(const rt_opt *o)
{
	return o->size == 0 || o->size > RT_LIST_MAX ? RT_LIST_MAX : o->size;
}

static int rtc_parse_list(const rt_opt *o, const char *s, char *why, size_t wl)
{
	rt_strlist tmp = { 0, { 0 }, strdup(s) };
	size_t cap = rtc_list_cap(o);
	if (tmp.mem == NULL) {
		snprintf(why, wl, "out of memory");
		return -2;
	}
	for (char *item = tmp.mem, *next; item != NULL; item = next) {
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
		if (tmp.n == cap) {
			snprintf(why, wl, "more than %zu items", cap);
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

static int rtc_hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int rt_parse_hex(const char *s, uint8_t *out, size_t n)
{
	if (s == NULL)
		return -1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) /* validate everything before writing anything */
		if (rtc_hexval(s[2 * i]) < 0 || rtc_hexval(s[2 * i + 1]) < 0)
			return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(rtc_hexval(s[2 * i]) << 4 | rtc_hexval(s[2 * i + 1]));
	return 0;
}

static int rtc_parse_hex(const rt_opt *o, const char *s, char *why, size_t wl)
{
	if (rt_parse_hex(s, o->dst, o->size) == 0)
		return 0;
	const char *h = s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? s + 2 : s;
	int digits_ok = 1;
	for (const char *p = h; *p; p++)
		digits_ok &= rtc_hexval(*p) >= 0;
	char b[80];
	if (digits_ok)
		snprintf(why, wl, "expected %zu bytes (%zu hex digits, 0x optional), got %zu hex digits", o->size,
		         2 * o->size, strlen(h));
	else
		snprintf(why, wl, "%s is not hex (expected %zu bytes, %zu hex digits, 0x optional)",
		         rtc_show(o, s, b, sizeof b), o->size, 2 * o->size);
	return -2;
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
};

/* Appends one line to err, '\n'-separated, keeping it NUL-terminated within errlen. */
static void rtc_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void rtc_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return;
	size_t used = strnlen(err, errlen);
	if (used + 1 >= errlen)
		return;
	if (used > 0)
		err[used++] = '\n';
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
}

int rt_config_load(const rt_opt *opts, size_t n, char *err, size_t errlen)
{
	int bad = 0;
	if (err && errlen)
		err[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const rt_opt *o = &opts[i];
		if (o->type > RT_HEX || o->dst == NULL) {
			rtc_err(err, errlen, "%s: invalid option descriptor", o->env);
			bad = 1;
			continue;
		}
		const char *v = getenv(o->env), *from = "";
		if (v == NULL || *v == '\0') {
			if (o->flags & RT_REQUIRED) {
				rtc_err(err, errlen, "%s: required (%s)", o->env, o->help ? o->help : rtc_types[o->type].name);
				bad = 1;
				continue;
			}
			v = o->dflt;
			from = "default ";
			if (v == NULL)
				continue;
		}
		char why[256] = "", shown[80];
		int rc = rtc_types[o->type].parse(o, v, why, sizeof why);
		if (rc == -1)
			rtc_err(err, errlen, "%s: %s%s is not %s", o->env, from, rtc_show(o, v, shown, sizeof shown),
			        rtc_types[o->type].what);
		else if (rc != 0)
			rtc_err(err, errlen, "%s: %s%s", o->env, from, why);
		bad |= rc != 0;
		if (rc == 0 && (o->flags & RT_SCRUB) && o->type != RT_STR && v != o->dflt) {
			explicit_bzero((char *)v, strlen(v)); /* the environment block itself, not a copy */
			unsetenv(o->env);
		}
	}
	return bad ? -1 : 0;
}

void rt_config_free(const rt_opt *opts, size_t n)
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
static void rtc_cell(FILE *f, const char *s)
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

void rt_config_usage_rows(const rt_opt *opts, size_t n, FILE *f)
{
	for (size_t i = 0; i < n; i++) {
		const rt_opt *o = &opts[i];
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
		fprintf(f, " (%s", o->type <= RT_HEX ? rtc_types[o->type].name : "?");
		if (o->type == RT_HEX)
			fprintf(f, ", %zu bytes", o->size);
		if (o->type == RT_LIST)
			fprintf(f, ", at most %zu", rtc_list_cap(o));
		if (rtc_bounded(o) && o->type != RT_STR && o->type != RT_BOOL && o->type != RT_LIST && o->type != RT_HEX)
			fprintf(f, ", %" PRId64 "..%" PRId64 "%s", o->min, o->max,
			        o->type == RT_DURATION ? " ms" : o->type == RT_PPM ? " ppm" : "");
		if (o->flags & RT_SECRET)
			fputs(", secret", f);
		fputs(") |\n", f);
	}
}

void rt_config_usage(const rt_opt *opts, size_t n, FILE *f)
{
	fputs("| variable | default | meaning |\n|---|---|---|\n", f);
	rt_config_usage_rows(opts, n, f);
}

json_t *rt_config_file(const char *env_name, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	const char *path = getenv(env_name);
	if (path == NULL || *path == '\0')
		return NULL;
	json_error_t je;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL)
		rtc_err(err, errlen, "%s: %s:%d:%d: %s", env_name, path, je.line, je.column, je.text);
	return j;
}
