/* schema_wire: the byte-level half of the codec (declared in schema_impl.h): a strict msgpack
 * reader, the text checks every string passes on its way in or out, and the msgpack writer into the
 * caller's buffer. It knows nothing of descriptor tables; schema.c's per-kind operations call it.
 *
 * Decoding uses the small strict reader below rather than msgpack_unpack: it never allocates, never
 * builds an object tree, knows the byte offset of every value for error messages, and refuses
 * impossible counts before anything loops on them. Nothing here allocates or keeps a pointer. */
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "schemas/schema_impl.h"

void
sc_fail(sc_err *e, const char *fmt, ...)
{
	va_list ap;
	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof e->text, fmt, ap);
	va_end(ap);
}

/* ---- strict msgpack reader -------------------------------------------------------------------- */

const char *const sc_tname[] = { "nil", "bool", "uint", "negative int", "float", "str", "bin", "array", "map", "ext" };

static uint64_t
sc_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Reads one value header (and the body of str/bin/ext/float). 0 ok; -1 truncated or the reserved
 * byte 0xc1. Array and map headers leave the reader on their first element. */
int
sc_rd_next(sc_rd *r, sc_obj *o)
{
	size_t left = (size_t)(r->end - r->p);
	if (left < 1)
		return -1;
	uint8_t b = *r->p;
	o->at = (size_t)(r->p - r->start);
	r->p++, left--;
	int hdr = 0;     /* bytes of length/value after the type byte */
	size_t body = 0; /* bytes of payload after that */
	if (b <= 0x7f) {
		o->t = SC_T_UINT;
		o->u = b;
		return 0;
	}
	if (b >= 0xe0) {
		o->t = SC_T_INT;
		o->i = (int8_t)b;
		return 0;
	}
	if (b >= 0x80 && b <= 0x8f) {
		o->t = SC_T_MAP;
		o->n = b & 0x0f;
		goto count;
	}
	if (b >= 0x90 && b <= 0x9f) {
		o->t = SC_T_ARRAY;
		o->n = b & 0x0f;
		goto count;
	}
	if (b >= 0xa0 && b <= 0xbf) {
		o->t = SC_T_STR;
		o->n = b & 0x1f;
		goto payload;
	}
	switch (b) {
	case 0xc0:
		o->t = SC_T_NIL;
		return 0;
	case 0xc2:
	case 0xc3:
		o->t = SC_T_BOOL;
		o->u = b & 1;
		return 0;
	case 0xc4:
	case 0xc5:
	case 0xc6:
		o->t = SC_T_BIN;
		hdr = 1 << (b - 0xc4);
		break;
	case 0xd9:
	case 0xda:
	case 0xdb:
		o->t = SC_T_STR;
		hdr = 1 << (b - 0xd9);
		break;
	case 0xc7:
	case 0xc8:
	case 0xc9:
		o->t = SC_T_EXT;
		hdr = 1 << (b - 0xc7);
		body = 1;
		break;
	case 0xd4:
	case 0xd5:
	case 0xd6:
	case 0xd7:
	case 0xd8:
		o->t = SC_T_EXT;
		o->n = 0;
		body = 1 + ((size_t)1 << (b - 0xd4));
		if (left < body)
			return -1;
		r->p += body;
		return 0;
	case 0xca:
	case 0xcb:
		o->t = SC_T_FLOAT;
		body = b == 0xca ? 4 : 8;
		if (left < body)
			return -1;
		r->p += body;
		return 0;
	case 0xcc:
	case 0xcd:
	case 0xce:
	case 0xcf: {
		int n = 1 << (b - 0xcc);
		if (left < (size_t)n)
			return -1;
		o->t = SC_T_UINT;
		o->u = sc_be(r->p, n);
		r->p += n;
		return 0;
	}
	case 0xd0:
	case 0xd1:
	case 0xd2:
	case 0xd3: {
		int n = 1 << (b - 0xd0);
		if (left < (size_t)n)
			return -1;
		uint64_t v = sc_be(r->p, n);
		if (n < 8 && (v >> (8 * n - 1)))
			v |= ~0ULL << (8 * n); /* sign-extend */
		r->p += n;
		if ((int64_t)v >= 0) {
			o->t = SC_T_UINT;
			o->u = v;
		} else {
			o->t = SC_T_INT;
			o->i = (int64_t)v;
		}
		return 0;
	}
	case 0xdc:
	case 0xdd:
		o->t = SC_T_ARRAY;
		hdr = b == 0xdc ? 2 : 4;
		break;
	case 0xde:
	case 0xdf:
		o->t = SC_T_MAP;
		hdr = b == 0xde ? 2 : 4;
		break;
	default:
		return -1; /* 0xc1: never used */
	}
	if (left < (size_t)hdr)
		return -1;
	o->n = (uint32_t)sc_be(r->p, hdr);
	r->p += hdr, left -= (size_t)hdr;
	if (o->t == SC_T_ARRAY || o->t == SC_T_MAP)
		goto count;
	if (o->t == SC_T_EXT) {
		if (left < body + o->n)
			return -1;
		r->p += body + o->n;
		return 0;
	}
payload:
	if (left < o->n)
		return -1;
	o->s = r->p;
	r->p += o->n;
	return 0;
count:
	/* every element takes at least one byte: refuse impossible counts before looping */
	if ((size_t)o->n > (size_t)(r->end - r->p) / (o->t == SC_T_MAP ? 2 : 1))
		return -1;
	return 0;
}

/* Reads the value of field `name`; on truncation fails naming it. */
int
sc_rd_value(sc_rd *r, sc_obj *o, const char *name, sc_err *e)
{
	size_t at = (size_t)(r->p - r->start);
	if (sc_rd_next(r, o) == 0)
		return 0;
	sc_fail(e, "%s: truncated or malformed value at byte %zu", name, at);
	return -1;
}

int
sc_wrong(sc_err *e, const char *name, const char *want, const sc_obj *o)
{
	sc_fail(e, "%s: expected %s, got %s at byte %zu", name, want, sc_tname[o->t], o->at);
	return -1;
}

/* ---- text validation -------------------------------------------------------------------------- */

/* Well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF) and no NUL: strings are C strings. */
static int
sc_utf8_ok(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t len;
		uint32_t cp, min;
		if ((c & 0xe0) == 0xc0) {
			len = 2;
			cp = c & 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			cp = c & 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			cp = c & 0x07;
			min = 0x10000;
		} else
			return 0;
		if (n - i < len)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

static int
sc_token_ok(const uint8_t *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("._:/@+-", c) != NULL) ||
		    c == 0)
			return 0;
	}
	return 1;
}

/* Checks a string and copies it into dst[cap+1]. flags: SC_TOKEN (charset; non-empty when
 * SC_REQ too: an optional token may be empty, which is the same as absent). */
int
sc_put_str(const char *name, int flags, uint32_t cap, char *dst, const uint8_t *s, size_t n, sc_err *e)
{
	int token = (flags & SC_TOKEN) && (n > 0 || (flags & SC_REQ));
	if (n > cap) {
		sc_fail(e, "%s: %zu bytes exceeds capacity %u", name, n, cap);
		return -1;
	}
	if (!sc_utf8_ok(s, n)) {
		sc_fail(e, "%s: not valid UTF-8 (or contains NUL)", name);
		return -1;
	}
	if (token && !sc_token_ok(s, n)) {
		sc_fail(e, "%s: must be non-empty and only [A-Za-z0-9._:/@+-]", name);
		return -1;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/* A stored string is valid if NUL-terminated within its capacity and would decode. */
int
sc_check_str(const char *name, int token, uint32_t cap, const char *s, size_t *n, sc_err *e)
{
	*n = strnlen(s, (size_t)cap + 1);
	if (*n > cap) {
		sc_fail(e, "%s: not NUL-terminated within capacity %u", name, cap);
		return -1;
	}
	if (!sc_utf8_ok((const uint8_t *)s, *n)) {
		sc_fail(e, "%s: not valid UTF-8", name);
		return -1;
	}
	if (token && *n > 0 && !sc_token_ok((const uint8_t *)s, *n)) {
		sc_fail(e, "%s: must be only [A-Za-z0-9._:/@+-]", name);
		return -1;
	}
	return 0;
}

/* ---- msgpack writer into the caller's buffer -------------------------------------------------- */

int
sc_wbuf_write(void *data, const char *p, size_t n)
{
	sc_wbuf *w = data;
	if (w->overflow || w->cap - w->len < n) {
		w->overflow = 1;
		return -1;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}

void
sc_pack_str(msgpack_packer *pk, const char *s, size_t n)
{
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

void
sc_pack_bin(msgpack_packer *pk, const void *s, size_t n)
{
	msgpack_pack_bin(pk, n);
	msgpack_pack_bin_body(pk, s, n);
}
