/* jscan: strict JSON validation and exact-text lookup by path (see jscan.h for why). */
#include "base/hex.h"
#include "chain/jscan.h"

#include <stdint.h>
#include <string.h>

typedef struct {
	const char *s;
	size_t n, i;
	const char *why;
} js_cur;

typedef struct {
	const char *p;
	size_t n;
} js_seg;

static int
js_fail(js_cur *c, const char *why)
{
	if (c->why == NULL)
		c->why = why;
	return -1;
}

static void
js_ws(js_cur *c)
{
	while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\n' || c->s[c->i] == '\r'))
		c->i++;
}

static int
js_hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int k = 0; k < 4; k++) {
		int d = hex_digit(p[k]);
		if (d < 0)
			return -1;
		*v = *v << 4 | (unsigned)d;
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at p (avail bytes), 0 when invalid (overlong forms,
 * surrogates and code points past U+10FFFF included). */
static size_t
js_utf8(const unsigned char *p, size_t avail)
{
	unsigned char b = p[0];
	size_t len;
	unsigned lo = 0x80, hi = 0xBF;
	if (b < 0x80)
		return 1;
	if (b >= 0xC2 && b <= 0xDF)
		len = 2;
	else if (b >= 0xE0 && b <= 0xEF) {
		len = 3;
		if (b == 0xE0)
			lo = 0xA0;
		else if (b == 0xED)
			hi = 0x9F;
	} else if (b >= 0xF0 && b <= 0xF4) {
		len = 4;
		if (b == 0xF0)
			lo = 0x90;
		else if (b == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (avail < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if ((p[k] & 0xC0) != 0x80)
			return 0;
	return len;
}

/* Index of the first byte at or after i that is not plain printable ASCII (0x20..0x7F other than
 * '"' and '\\'), or n: eight bytes at a time (hex data, the bulk of an RPC answer, is all plain). */
static size_t
js_plain_run(const char *s, size_t i, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	while (i + 8 <= n) {
		uint64_t x, q, b;
		memcpy(&x, s + i, 8);
		q = x ^ (ones * '"');
		b = x ^ (ones * '\\');
		/* a byte below 0x20, a zero byte of q or b (a quote or a backslash), or a high bit */
		uint64_t hit = ((x - ones * 0x20) | (q - ones) | (b - ones) | x) & high;
		if (hit)
			break;
		i += 8;
	}
	while (i < n) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch >= 0x80 || ch == '"' || ch == '\\')
			break;
		i++;
	}
	return i;
}

/* A string starting at the quote under the cursor; leaves the cursor after the closing quote. */
static int
js_skip_string(js_cur *c)
{
	c->i++;
	while (c->i < c->n) {
		c->i = js_plain_run(c->s, c->i, c->n);
		if (c->i >= c->n)
			break;
		unsigned char ch = (unsigned char)c->s[c->i];
		if (ch == '"') {
			c->i++;
			return 0;
		}
		if (ch < 0x20)
			return js_fail(c, "control character in string");
		if (ch == '\\') {
			if (c->i + 1 >= c->n)
				break;
			char e = c->s[c->i + 1];
			if (e != 'u') {
				if (!strchr("\"\\/bfnrt", e) || e == 0)
					return js_fail(c, "bad escape");
				c->i += 2;
				continue;
			}
			unsigned u, u2;
			if (c->i + 6 > c->n || js_hex4(c->s + c->i + 2, &u))
				return js_fail(c, "bad \\u escape");
			c->i += 6;
			if (u >= 0xDC00 && u <= 0xDFFF)
				return js_fail(c, "lone low surrogate");
			if (u >= 0xD800 && u <= 0xDBFF) {
				if (c->i + 6 > c->n || c->s[c->i] != '\\' || c->s[c->i + 1] != 'u' ||
				    js_hex4(c->s + c->i + 2, &u2) || u2 < 0xDC00 || u2 > 0xDFFF)
					return js_fail(c, "unpaired surrogate");
				c->i += 6;
			}
			continue;
		}
		size_t len = js_utf8((const unsigned char *)c->s + c->i, c->n - c->i);
		if (len == 0)
			return js_fail(c, "invalid UTF-8");
		c->i += len;
	}
	return js_fail(c, "unterminated string");
}

static int
js_digits(js_cur *c)
{
	size_t i0 = c->i;
	while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
		c->i++;
	return c->i > i0 ? 0 : -1;
}

/* RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
js_skip_number(js_cur *c)
{
	if (c->s[c->i] == '-')
		c->i++;
	if (c->i < c->n && c->s[c->i] == '0')
		c->i++;
	else if (js_digits(c))
		return js_fail(c, "bad number");
	if (c->i < c->n && c->s[c->i] == '.') {
		c->i++;
		if (js_digits(c))
			return js_fail(c, "bad number fraction");
	}
	if (c->i < c->n && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
		c->i++;
		if (c->i < c->n && (c->s[c->i] == '+' || c->s[c->i] == '-'))
			c->i++;
		if (js_digits(c))
			return js_fail(c, "bad number exponent");
	}
	return 0;
}

static int
js_literal(js_cur *c, const char *lit)
{
	size_t l = strlen(lit);
	if (c->n - c->i < l || memcmp(c->s + c->i, lit, l) != 0)
		return js_fail(c, "unexpected character");
	c->i += l;
	return 0;
}

static js_type
js_peek(const js_cur *c)
{
	if (c->i >= c->n)
		return JS_NONE;
	switch (c->s[c->i]) {
	case '{':
		return JS_OBJECT;
	case '[':
		return JS_ARRAY;
	case '"':
		return JS_STRING;
	case 't':
		return JS_TRUE;
	case 'f':
		return JS_FALSE;
	case 'n':
		return JS_NULL;
	default:
		return c->s[c->i] == '-' || (c->s[c->i] >= '0' && c->s[c->i] <= '9') ? JS_NUMBER : JS_NONE;
	}
}

static int js_skip_value(js_cur *c, int depth);

/* Object or array body after its opening bracket; each member calls back with the cursor on the
 * member's value (for objects, after the key, which is in key/klen with its quotes). */
static int
js_skip_container(js_cur *c, int depth, char close)
{
	if (depth >= JS_MAX_DEPTH)
		return js_fail(c, "nested too deeply");
	c->i++;
	js_ws(c);
	if (c->i < c->n && c->s[c->i] == close) {
		c->i++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			if (c->i >= c->n || c->s[c->i] != '"')
				return js_fail(c, "expected a key");
			if (js_skip_string(c))
				return -1;
			js_ws(c);
			if (c->i >= c->n || c->s[c->i] != ':')
				return js_fail(c, "expected ':'");
			c->i++;
			js_ws(c);
		}
		if (js_skip_value(c, depth + 1))
			return -1;
		js_ws(c);
		if (c->i >= c->n)
			return js_fail(c, "truncated");
		if (c->s[c->i] == close) {
			c->i++;
			return 0;
		}
		if (c->s[c->i] != ',')
			return js_fail(c, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
		c->i++;
		js_ws(c);
	}
}

static int
js_skip_value(js_cur *c, int depth)
{
	switch (js_peek(c)) {
	case JS_OBJECT:
		return js_skip_container(c, depth, '}');
	case JS_ARRAY:
		return js_skip_container(c, depth, ']');
	case JS_STRING:
		return js_skip_string(c);
	case JS_NUMBER:
		return js_skip_number(c);
	case JS_TRUE:
		return js_literal(c, "true");
	case JS_FALSE:
		return js_literal(c, "false");
	case JS_NULL:
		return js_literal(c, "null");
	default:
		return js_fail(c, c->i >= c->n ? "truncated" : "unexpected character");
	}
}

int
js_validate(const char *doc, size_t n, size_t *off, const char **why)
{
	js_cur c = { doc, n, 0, NULL };
	js_ws(&c);
	int rc = js_skip_value(&c, 0);
	if (rc == 0) {
		js_ws(&c);
		if (c.i != n)
			rc = js_fail(&c, "data after the value");
	}
	if (off)
		*off = c.i;
	if (why)
		*why = rc ? c.why : NULL;
	return rc;
}

/* Unescapes the string whose opening quote is at p (validated) into out. */
static long
js_unescape(const char *p, size_t n, char *out, size_t cap)
{
	size_t o = 0, i = 1; /* after the quote */
	while (i < n && p[i] != '"') {
		unsigned cp;
		char ch = p[i];
		if (ch != '\\') {
			if (o + 1 >= cap)
				return -1;
			out[o++] = ch;
			i++;
			continue;
		}
		if (i + 1 >= n)
			return -1; /* only on text that was not validated */
		char e = p[i + 1];
		static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
		const char *k = e != 'u' ? strchr(from, e) : NULL;
		if (k) {
			if (o + 1 >= cap)
				return -1;
			out[o++] = to[k - from];
			i += 2;
			continue;
		}
		if (i + 6 > n || js_hex4(p + i + 2, &cp))
			return -1;
		i += 6;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			unsigned lo;
			if (i + 6 > n || js_hex4(p + i + 2, &lo))
				return -1;
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			i += 6;
		}
		if (cp == 0)
			return -1;
		unsigned char u[4];
		size_t len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
		static const unsigned char lead[5] = { 0, 0, 0xC0, 0xE0, 0xF0 };
		for (size_t b = len - 1; b > 0; b--, cp >>= 6)
			u[b] = (unsigned char)(0x80 | (cp & 0x3F));
		u[0] = (unsigned char)(len == 1 ? cp : (lead[len] | cp));
		if (o + len >= cap)
			return -1;
		memcpy(out + o, u, len);
		o += len;
	}
	if (cap == 0)
		return -1;
	out[o] = '\0';
	return (long)o;
}

long
js_string(const js_val *v, char *out, size_t cap)
{
	if (v->type != JS_STRING)
		return -1;
	return js_unescape(v->p, v->n, out, cap);
}

static int
js_seg_match(const js_seg *sg, const char *key, size_t klen)
{
	return (sg->n == 1 && sg->p[0] == '*') || (sg->n == klen && memcmp(sg->p, key, klen) == 0);
}

/* Index segment: decimal digits without leading zeros (except "0"), or "*" (returns -2). */
static long
js_seg_index(const js_seg *sg)
{
	if (sg->n == 1 && sg->p[0] == '*')
		return -2;
	if (sg->n == 0 || sg->n > 9 || (sg->n > 1 && sg->p[0] == '0'))
		return -1;
	long v = 0;
	for (size_t k = 0; k < sg->n; k++) {
		if (sg->p[k] < '0' || sg->p[k] > '9')
			return -1;
		v = v * 10 + (sg->p[k] - '0');
	}
	return v;
}

/* Cursor on a value; finds segs[k..] below it. Restores nothing: callers pass a copy. */
static int
js_find_at(js_cur c, const js_seg *segs, size_t k, size_t nseg, js_val *out)
{
	js_type t = js_peek(&c);
	if (k == nseg) {
		size_t i0 = c.i;
		if (t == JS_NONE || js_skip_value(&c, 0))
			return -1;
		out->type = t;
		out->p = c.s + i0;
		out->n = c.i - i0;
		return 0;
	}
	if (t != JS_OBJECT && t != JS_ARRAY)
		return -1;
	long want = t == JS_ARRAY ? js_seg_index(&segs[k]) : 0;
	if (want == -1)
		return -1;
	c.i++;
	js_ws(&c);
	for (long idx = 0; c.i < c.n && c.s[c.i] != (t == JS_OBJECT ? '}' : ']'); idx++) {
		int match;
		if (t == JS_OBJECT) {
			char key[256];
			size_t k0 = c.i;
			if (js_skip_string(&c))
				return -1;
			long klen = js_unescape(c.s + k0, c.i - k0, key, sizeof key);
			match = klen >= 0 && js_seg_match(&segs[k], key, (size_t)klen);
			js_ws(&c);
			c.i++; /* ':' */
			js_ws(&c);
		} else {
			match = want == -2 || want == idx;
		}
		if (match && js_find_at(c, segs, k + 1, nseg, out) == 0)
			return 0;
		if (js_skip_value(&c, 0))
			return -1;
		js_ws(&c);
		if (c.i < c.n && c.s[c.i] == ',') {
			c.i++;
			js_ws(&c);
		}
	}
	return -1;
}

int
js_find(const char *doc, size_t n, const char *path, js_val *out)
{
	js_seg segs[JS_MAX_PATH];
	size_t nseg = 0;
	const char *p = path;
	if (path == NULL)
		return -1;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		if (len == 0 || nseg == JS_MAX_PATH)
			return -1;
		segs[nseg].p = p;
		segs[nseg++].n = len;
		p += len;
		if (*p == '.' && *++p == '\0')
			return -1;
	}
	js_cur c = { doc, n, 0, NULL };
	js_ws(&c);
	return js_find_at(c, segs, 0, nseg, out);
}

size_t
js_count(const js_val *v)
{
	if (v->type != JS_OBJECT && v->type != JS_ARRAY)
		return 0;
	js_cur c = { v->p, v->n, 1, NULL };
	size_t count = 0;
	js_ws(&c);
	char close = v->type == JS_OBJECT ? '}' : ']';
	while (c.i < c.n && c.s[c.i] != close) {
		if (v->type == JS_OBJECT) {
			if (js_skip_string(&c))
				return count;
			js_ws(&c);
			c.i++;
			js_ws(&c);
		}
		if (js_skip_value(&c, 0))
			return count;
		count++;
		js_ws(&c);
		if (c.i < c.n && c.s[c.i] == ',') {
			c.i++;
			js_ws(&c);
		}
	}
	return count;
}

const char *
js_type_name(js_type t)
{
	static const char *const names[] = {
		"nothing", "object", "array", "string", "number", "true", "false", "null"
	};
	return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

/* ---- iteration ------------------------------------------------------------------------------
 * Trusted skips: the text is part of a validated document, so a string ends at the first '"' not
 * escaped, and a container at its matching bracket. Every read is bounds-checked anyway, so text
 * that was not validated yields garbage, never an out-of-bounds read or an endless loop. */

static size_t
js_fast_string(const char *s, size_t n, size_t i) /* i on the opening quote */
{
	i++;
	while (i < n) {
		const char *q = memchr(s + i, '"', n - i);
		if (q == NULL)
			return n;
		size_t k = (size_t)(q - s), bs = 0;
		while (k - bs > i && s[k - bs - 1] == '\\')
			bs++;
		if (bs % 2 == 0)
			return k + 1;
		i = k + 1;
	}
	return n;
}

static size_t
js_fast_value(const char *s, size_t n, size_t i)
{
	if (i >= n)
		return n;
	char ch = s[i];
	if (ch == '"')
		return js_fast_string(s, n, i);
	if (ch == '[' || ch == '{') {
		size_t depth = 0;
		while (i < n) {
			ch = s[i];
			if (ch == '"') {
				i = js_fast_string(s, n, i);
				continue;
			}
			if (ch == '[' || ch == '{')
				depth++;
			else if ((ch == ']' || ch == '}') && --depth == 0)
				return i + 1;
			i++;
		}
		return n;
	}
	/* number or literal */
	size_t i0 = i;
	while (i < n && s[i] != ',' && s[i] != ']' && s[i] != '}' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
	       s[i] != '\r')
		i++;
	return i > i0 ? i : i0 + 1;
}

static size_t
js_fast_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

void
js_iter_init(js_iter *it, const js_val *v)
{
	it->s = v->p;
	it->n = v->n;
	it->i = 1;
	it->close = v->type == JS_OBJECT ? '}' : v->type == JS_ARRAY ? ']' : 0;
	if (v->n < 2 || v->p[0] != (it->close == '}' ? '{' : '['))
		it->close = 0;
}

static js_type
js_type_at(const char *s, size_t n, size_t i)
{
	js_cur c = { s, n, i, NULL };
	return js_peek(&c);
}

int
js_iter_next(js_iter *it, js_val *key, js_val *val)
{
	const char *s = it->s;
	size_t n = it->n, i = js_fast_ws(s, n, it->i);
	if (key) {
		key->type = JS_NONE;
		key->p = NULL;
		key->n = 0;
	}
	if (it->close == 0 || i >= n || s[i] == it->close) {
		it->close = 0;
		return 0;
	}
	if (it->close == '}') {
		if (s[i] != '"') {
			it->close = 0;
			return 0;
		}
		size_t k0 = i;
		i = js_fast_string(s, n, i);
		if (key) {
			key->type = JS_STRING;
			key->p = s + k0;
			key->n = i - k0;
		}
		i = js_fast_ws(s, n, i);
		if (i >= n || s[i] != ':') {
			it->close = 0;
			return 0;
		}
		i = js_fast_ws(s, n, i + 1);
	}
	js_type t = js_type_at(s, n, i);
	if (t == JS_NONE) {
		it->close = 0;
		return 0;
	}
	size_t v0 = i;
	i = js_fast_value(s, n, i);
	val->type = t;
	val->p = s + v0;
	val->n = i - v0;
	i = js_fast_ws(s, n, i);
	if (i < n && s[i] == ',')
		i++;
	it->i = i;
	return 1;
}

int
js_string_raw(const js_val *v, const char **p, size_t *len)
{
	if (v->type != JS_STRING || v->n < 2 || memchr(v->p + 1, '\\', v->n - 2) != NULL)
		return -1;
	*p = v->p + 1;
	*len = v->n - 2;
	return 0;
}

int
js_key_eq(const js_val *key, const char *name)
{
	const char *p;
	size_t len, nl = strlen(name);
	if (js_string_raw(key, &p, &len) == 0)
		return len == nl && memcmp(p, name, nl) == 0;
	char buf[256];
	long l = key->type == JS_STRING ? js_unescape(key->p, key->n, buf, sizeof buf) : -1;
	return l >= 0 && (size_t)l == nl && memcmp(buf, name, nl) == 0;
}

int
js_get(const js_val *obj, const char *key, js_val *out)
{
	js_iter it;
	js_val k, v;
	if (obj->type != JS_OBJECT)
		return -1;
	js_iter_init(&it, obj);
	while (js_iter_next(&it, &k, &v))
		if (js_key_eq(&k, key)) {
			*out = v;
			return 0;
		}
	return -1;
}
