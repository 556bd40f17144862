/*
 * format.c - bus-replay's parsing and rendering, apart from the CLI so that unit tests
 * (format_test.c) can reach them: time arguments in, list lines and dump JSON out.
 */
#include "tools/bus-replay/format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus/frame.h"
#include "bus/frame_json.h"

/* RFC 3339 in UTC with milliseconds: 2026-11-27T17:00:00.123Z */
void
rp_fmt_time(uint64_t ns, char out[40])
{
	time_t secs = (time_t)(ns / 1000000000u);
	struct tm tm;
	gmtime_r(&secs, &tm);
	size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 40 - n, ".%03uZ", (unsigned)(ns % 1000000000u / 1000000u));
}

/* Copies a frame string for a whitespace-separated list column: no spaces, no control bytes. */
static void
rp_col(char *out, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (s[i] > ' ' && s[i] < 0x7f) ? s[i] : '?';
	out[n] = '\0';
	if (n == 0)
		snprintf(out, cap, "-");
}

/* A JSON string of n bytes. jansson refuses invalid UTF-8, and a malformed frame may hold any
 * bytes, so fall back to a copy with every non-ASCII or control byte replaced by '?'. */
static json_t *
rp_jstr(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	if (j != NULL)
		return j;
	char *c = malloc(n + 1);
	if (c == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		c[i] = (s[i] >= ' ' && s[i] < 0x7f) ? s[i] : '?';
	j = json_stringn(c, n);
	free(c);
	return j;
}

/* Strict unsigned decimal: no sign, no spaces, no trailing bytes, no overflow. */
int
rp_parse_u64(const char *s, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

int
rp_parse_double(const char *s, double *out)
{
	errno = 0;
	char *end;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v > 0) || v > 1e9)
		return -1;
	*out = v;
	return 0;
}

/* Reads exactly n decimal digits at *p. */
static int
rp_digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* RFC 3339: YYYY-MM-DD(T|t| )HH:MM:SS[.fraction](Z|z|+HH:MM|-HH:MM) -> ns since the epoch. */
int
rp_parse_rfc3339(const char *s, uint64_t *out)
{
	const char *p = s;
	int Y, M, D, h, m, sec, oh = 0, om = 0;
	if (rp_digits(&p, 4, &Y) || *p++ != '-' || rp_digits(&p, 2, &M) || *p++ != '-' || rp_digits(&p, 2, &D) ||
	    (*p != 'T' && *p != 't' && *p != ' ') || !*p++ || rp_digits(&p, 2, &h) || *p++ != ':' ||
	    rp_digits(&p, 2, &m) || *p++ != ':' || rp_digits(&p, 2, &sec))
		return -1;
	uint64_t frac = 0;
	if (*p == '.') {
		int nd = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, nd++)
			if (nd < 9)
				frac = frac * 10 + (uint64_t)(*p - '0');
		if (nd == 0)
			return -1;
		for (; nd < 9; nd++)
			frac *= 10;
	}
	int sign = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (rp_digits(&p, 2, &oh) || *p++ != ':' || rp_digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*p != '\0' || Y < 1970 || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return -1;
	struct tm tm = { .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m, .tm_sec = sec };
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != D) /* timegm normalises Feb 30 into March: refuse it */
		return -1;
	t -= (time_t)sign * (oh * 3600 + om * 60);
	if (t < 0)
		return -1;
	*out = (uint64_t)t * 1000000000u + frac;
	return 0;
}

/* -10m, -2h, -30s, -1d, -500ms: that long before now. */
int
rp_parse_relative(const char *s, uint64_t now, uint64_t *out)
{
	char *end;
	unsigned long long n;
	if (s[0] != '-' || s[1] < '0' || s[1] > '9')
		return -1;
	errno = 0;
	n = strtoull(s + 1, &end, 10);
	if (errno != 0)
		return -1;
	uint64_t unit;
	if (strcmp(end, "ms") == 0)
		unit = 1000000u;
	else if (strcmp(end, "s") == 0)
		unit = 1000000000u;
	else if (strcmp(end, "m") == 0)
		unit = 60000000000u;
	else if (strcmp(end, "h") == 0)
		unit = 3600000000000u;
	else if (strcmp(end, "d") == 0)
		unit = 86400000000000u;
	else
		return -1;
	if (n > now / unit)
		return -1; /* before the epoch */
	*out = now - n * unit;
	return 0;
}

int
rp_parse_time(const char *s, uint64_t now, uint64_t *out)
{
	if (strcmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	if (s[0] == '-')
		return rp_parse_relative(s, now, out);
	if (strlen(s) > 4 && s[4] == '-')
		return rp_parse_rfc3339(s, out);
	return rp_parse_u64(s, out);
}

void
rp_list_line(FILE *out, const jn_rec *rec)
{
	char when[40], topic[FRAME_TOPIC_MAX + 1], type[FRAME_TYPE_MAX + 1];
	char origin[FRAME_ORIGIN_MAX + 1], err[160];
	frame_view v;
	rp_fmt_time(rec->ts_ns, when);
	if (frame_decode(rec->frame, rec->len, &v, err, sizeof err) != 0) {
		const uint8_t *nul = memchr(rec->frame, 0, rec->len < FRAME_TOPIC_MAX ? rec->len : FRAME_TOPIC_MAX);
		rp_col(topic, sizeof topic, (const char *)rec->frame, nul ? (size_t)(nul - rec->frame) : 0);
		fprintf(out, "%-8" PRIu64 " %s %-28s %-14s %-24s %8s %7zu # %s\n", rec->index, when, topic, "!error",
		        "-", "-", rec->len, err);
		return;
	}
	rp_col(topic, sizeof topic, v.topic, v.topic_len);
	rp_col(type, sizeof type, v.type, v.type_len);
	rp_col(origin, sizeof origin, v.origin, v.origin_len);
	fprintf(out, "%-8" PRIu64 " %s %-28s %-14s %-24s %8" PRIu64 " %7zu\n", rec->index, when, topic, type, origin,
	        v.seq, rec->len);
}

/* One frame as a JSON object (a new reference), or NULL when out of memory: index and recv_ts, then
 * the view every tool shares (bus/frame_json.h: 0x-hex bytes, integers beyond 2^53 as strings). */
json_t *
rp_dump_obj(const jn_rec *rec)
{
	char err[160];
	frame_view v;
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	int bad = json_object_set_new(o, "index", frame_json_u64(rec->index));
	bad |= json_object_set_new(o, "recv_ts", frame_json_u64(rec->ts_ns));
	if (frame_decode(rec->frame, rec->len, &v, err, sizeof err) != 0) {
		bad |= json_object_set_new(o, "error", rp_jstr(err, strlen(err)));
		bad |= json_object_set_new(o, "hex", frame_json_hex(rec->frame, rec->len));
	} else {
		bad |= frame_json_add(o, &v);
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
