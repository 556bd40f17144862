/*
 * frame.c - encode and strictly decode bus frames (see frame.h for the layout).
 *
 * Encoding uses msgpack-c's packer writing into the caller's buffer. Decoding is a small
 * hand-written reader rather than msgpack_unpack because the signature check needs the exact byte
 * offset where element 7 starts, and because the hot path of every subscriber should not allocate a
 * zone per frame.
 */
#include "bus/frame.h"

#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- encoding ------------------------------------------------------------------------------ */

typedef struct {
	uint8_t *buf;
	size_t cap, len;
	int overflow;
} fr_out;

static int
fr_write(void *data, const char *p, size_t n)
{
	fr_out *o = data;
	if (o->overflow || n > o->cap - o->len) {
		o->overflow = 1;
		return -1;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return 0;
}

static void fr_seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fr_fail(void *in, const char *what, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
fr_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
frame_topic_valid(const char *t, size_t n)
{
	/* A table rather than a chain of comparisons: this runs for every frame published. */
	static const uint8_t ok[256] = {
		['-'] = 1, ['.'] = 1, [':'] = 1, ['_'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
		['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1,
		['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1,
		['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1,
		['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1,
		['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
		['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1,
		['x'] = 1, ['y'] = 1, ['z'] = 1,
	};
	if (n == 0 || n > FRAME_TOPIC_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!ok[(uint8_t)t[i]])
			return 0;
	return 1;
}

size_t
frame_size_bound(const frame_fields *f)
{
	return f->topic_len + 1 + f->body_len + FRAME_OVERHEAD;
}

size_t
frame_encode(const frame_fields *f, uint8_t *buf, size_t cap, size_t *signed_len, char *err, size_t errlen)
{
	if (!frame_topic_valid(f->topic, f->topic_len)) {
		fr_seterr(err, errlen, "topic: invalid (1..%d bytes of [A-Za-z0-9._:-])", FRAME_TOPIC_MAX);
		return 0;
	}
	if (f->type_len > FRAME_TYPE_MAX || !frame_topic_valid(f->type, f->type_len)) {
		fr_seterr(err, errlen, "type: want 1..%d bytes of [A-Za-z0-9._:-]", FRAME_TYPE_MAX);
		return 0;
	}
	if (f->origin_len > FRAME_ORIGIN_MAX || !frame_topic_valid(f->origin, f->origin_len)) {
		fr_seterr(err, errlen, "origin: want 1..%d bytes of [A-Za-z0-9._:-]", FRAME_ORIGIN_MAX);
		return 0;
	}
	if (f->body_len > FRAME_BODY_MAX) {
		fr_seterr(err, errlen, "body: %zu bytes exceeds %u", f->body_len, FRAME_BODY_MAX);
		return 0;
	}
	if (cap < f->topic_len + 1) {
		fr_seterr(err, errlen, "buffer too small");
		return 0;
	}
	memcpy(buf, f->topic, f->topic_len);
	buf[f->topic_len] = 0;

	fr_out o = { buf, cap, f->topic_len + 1, 0 };
	msgpack_packer pk;
	msgpack_packer_init(&pk, &o, fr_write);
	msgpack_pack_array(&pk, 9);
	msgpack_pack_unsigned_int(&pk, FRAME_VERSION);
	msgpack_pack_str_with_body(&pk, f->type, f->type_len);
	msgpack_pack_bin_with_body(&pk, f->id, 16);
	msgpack_pack_str_with_body(&pk, f->origin, f->origin_len);
	msgpack_pack_uint64(&pk, f->seq);
	msgpack_pack_uint64(&pk, f->ts_ns);
	msgpack_pack_bin_with_body(&pk, f->body, f->body_len);
	size_t sl = o.len;
	msgpack_pack_nil(&pk);
	msgpack_pack_nil(&pk);
	if (o.overflow) {
		fr_seterr(err, errlen, "buffer too small (%zu bytes)", cap);
		return 0;
	}
	if (signed_len)
		*signed_len = sl;
	return o.len;
}

size_t
frame_attach_sig(uint8_t *buf, size_t signed_len, const uint8_t key[32], const uint8_t sig[64])
{
	uint8_t *p = buf + signed_len;
	*p++ = 0xc4; /* bin8 */
	*p++ = 32;
	memcpy(p, key, 32);
	p += 32;
	*p++ = 0xc4;
	*p++ = 64;
	memcpy(p, sig, 64);
	p += 64;
	return (size_t)(p - buf);
}

/* The one walk from a leaf to the top that builder, prover and verifier share (sig.c too): at each
 * level the sibling is index ^ 1 when that exists (an odd last node has none and moves up as is). */
size_t
frame_window_depth(uint32_t index, uint32_t count)
{
	size_t d = 0;
	if (count < 2 || count > FRAME_WINDOW_MAX || index >= count)
		return 0;
	for (uint32_t i = index, m = count; m > 1; i >>= 1, m = (m + 1) / 2)
		d += (i ^ 1) < m;
	return d;
}

void
frame_window_begin(uint8_t *buf, size_t topic_len)
{
	buf[topic_len + 1] = 0x9a; /* fixarray of 10: the proof follows the signature */
}

/* A msgpack uint in its shortest form (the proof's numbers are < 2^16). */
static uint8_t *
fr_put_u16(uint8_t *p, uint32_t v)
{
	if (v <= 0x7f) {
		*p++ = (uint8_t)v;
	} else if (v <= 0xff) {
		*p++ = 0xcc;
		*p++ = (uint8_t)v;
	} else {
		*p++ = 0xcd;
		*p++ = (uint8_t)(v >> 8);
		*p++ = (uint8_t)v;
	}
	return p;
}

size_t
frame_attach_proof(uint8_t *buf, size_t signed_len, const uint8_t key[32], const uint8_t sig[64], uint32_t index,
                   uint32_t count, const uint8_t *path, size_t path_len)
{
	size_t depth = frame_window_depth(index, count);
	if (depth == 0 || path_len != 32 * depth)
		return 0;
	uint8_t *p = buf + frame_attach_sig(buf, signed_len, key, sig);
	*p++ = 0x93;
	p = fr_put_u16(p, index);
	p = fr_put_u16(p, count);
	*p++ = 0xc5; /* bin16: a path can exceed 255 bytes */
	*p++ = (uint8_t)(path_len >> 8);
	*p++ = (uint8_t)path_len;
	memcpy(p, path, path_len);
	p += path_len;
	return (size_t)(p - buf);
}

/* ---- decoding ------------------------------------------------------------------------------ */

typedef struct {
	const uint8_t *p, *end, *start;
	char *err;
	size_t errlen;
} fr_in;

static int
fr_fail(void *arg, const char *what, const char *fmt, ...)
{
	fr_in *in = arg;
	if (in->err && in->errlen) {
		int n = snprintf(in->err, in->errlen, "%s: ", what);
		if (n > 0 && (size_t)n < in->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(in->err + n, in->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -1;
}

static int
fr_need(fr_in *in, const char *what, size_t n)
{
	if ((size_t)(in->end - in->p) < n)
		return fr_fail(in, what, "truncated at offset %zu", (size_t)(in->p - in->start));
	return 0;
}

static uint64_t
fr_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static int
fr_uint(fr_in *in, const char *what, uint64_t *v)
{
	if (fr_need(in, what, 1))
		return -1;
	uint8_t b = *in->p;
	static const int widths[4] = { 1, 2, 4, 8 }; /* 0xcc..0xcf */
	if (b <= 0x7f) {
		*v = b;
		in->p++;
		return 0;
	}
	if (b < 0xcc || b > 0xcf)
		return fr_fail(in, what, "expected uint, got 0x%02x", b);
	int w = widths[b - 0xcc];
	if (fr_need(in, what, 1 + (size_t)w))
		return -1;
	*v = fr_be(in->p + 1, w);
	in->p += 1 + w;
	return 0;
}

/* str (0xa0-0xbf, 0xd9, 0xda, 0xdb) or bin (0xc4, 0xc5, 0xc6): returns the payload. */
static int
fr_raw(fr_in *in, const char *what, int want_bin, size_t max, const uint8_t **out, size_t *len)
{
	if (fr_need(in, what, 1))
		return -1;
	uint8_t b = *in->p;
	int hw; /* width of the length field */
	size_t n;
	if (!want_bin && b >= 0xa0 && b <= 0xbf) {
		hw = 0;
		n = b & 0x1f;
	} else if ((!want_bin && b >= 0xd9 && b <= 0xdb) || (want_bin && b >= 0xc4 && b <= 0xc6)) {
		hw = 1 << (b - (want_bin ? 0xc4 : 0xd9));
		if (fr_need(in, what, 1 + (size_t)hw))
			return -1;
		n = (size_t)fr_be(in->p + 1, hw);
	} else {
		return fr_fail(in, what, "expected %s, got 0x%02x", want_bin ? "bin" : "str", b);
	}
	if (n > max)
		return fr_fail(in, what, "%zu bytes exceeds %zu", n, max);
	in->p += 1 + hw;
	if (fr_need(in, what, n))
		return -1;
	*out = in->p;
	*len = n;
	in->p += n;
	return 0;
}

static int
fr_fixed_bin(fr_in *in, const char *what, size_t want, const uint8_t **out, int nil_ok)
{
	if (nil_ok && in->p < in->end && *in->p == 0xc0) {
		in->p++;
		*out = NULL;
		return 0;
	}
	size_t n;
	if (fr_raw(in, what, 1, want, out, &n))
		return -1;
	if (n != want)
		return fr_fail(in, what, "%zu bytes, want %zu", n, want);
	return 0;
}

/* Element 9: [index, count, path], the path exactly as long as the tree's shape says. */
static int
fr_proof(fr_in *in, frame_view *v)
{
	uint64_t index, count;
	size_t n;
	if (v->key == NULL)
		return fr_fail(in, "proof", "a window proof needs key and sig");
	if (fr_need(in, "proof", 1))
		return -1;
	if (*in->p != 0x93)
		return fr_fail(in, "proof", "expected array of 3, got 0x%02x", *in->p);
	in->p++;
	if (fr_uint(in, "proof index", &index) || fr_uint(in, "proof count", &count))
		return -1;
	if (count < 2 || count > FRAME_WINDOW_MAX || index >= count)
		return fr_fail(in, "proof", "index %llu of count %llu: want index < count, 2 <= count <= %d",
		               (unsigned long long)index, (unsigned long long)count, FRAME_WINDOW_MAX);
	if (fr_raw(in, "proof path", 1, FRAME_PATH_MAX, &v->win_path, &n))
		return -1;
	size_t want = 32 * frame_window_depth((uint32_t)index, (uint32_t)count);
	if (n != want)
		return fr_fail(in, "proof path", "%zu bytes, want %zu for index %llu of %llu", n, want,
		               (unsigned long long)index, (unsigned long long)count);
	v->win_index = (uint32_t)index;
	v->win_count = (uint32_t)count;
	v->win_path_len = n;
	return 0;
}

int
frame_decode(const uint8_t *buf, size_t len, frame_view *v, char *err, size_t errlen)
{
	fr_in in = { buf, buf + len, buf, err, errlen };
	const uint8_t *nul = memchr(buf, 0, len < FRAME_TOPIC_MAX + 1 ? len : FRAME_TOPIC_MAX + 1);
	memset(v, 0, sizeof *v);
	if (nul == NULL)
		return fr_fail(&in, "topic", "no NUL terminator within %d bytes", FRAME_TOPIC_MAX + 1);
	v->topic = (const char *)buf;
	v->topic_len = (size_t)(nul - buf);
	if (!frame_topic_valid(v->topic, v->topic_len))
		return fr_fail(&in, "topic", "invalid characters or length");
	in.p = nul + 1;

	if (fr_need(&in, "envelope", 1))
		return -1;
	if (*in.p != 0x99 && *in.p != 0x9a)
		return fr_fail(&in, "envelope", "expected array of 9 or 10, got 0x%02x", *in.p);
	int windowed = *in.p++ == 0x9a;

	uint64_t ver, seq, ts;
	const uint8_t *s;
	size_t n;
	if (fr_uint(&in, "ver", &ver))
		return -1;
	if (ver != FRAME_VERSION)
		return fr_fail(&in, "ver", "unsupported version %llu", (unsigned long long)ver);
	v->ver = (uint32_t)ver;
	if (fr_raw(&in, "type", 0, FRAME_TYPE_MAX, &s, &n))
		return -1;
	if (!frame_topic_valid((const char *)s, n))
		return fr_fail(&in, "type", "empty or not [A-Za-z0-9._:-]");
	v->type = (const char *)s;
	v->type_len = n;
	if (fr_fixed_bin(&in, "id", 16, &v->id, 0))
		return -1;
	if (fr_raw(&in, "origin", 0, FRAME_ORIGIN_MAX, &s, &n))
		return -1;
	if (!frame_topic_valid((const char *)s, n))
		return fr_fail(&in, "origin", "empty or not [A-Za-z0-9._:-]");
	v->origin = (const char *)s;
	v->origin_len = n;
	if (fr_uint(&in, "seq", &seq) || fr_uint(&in, "ts", &ts))
		return -1;
	v->seq = seq;
	v->ts_ns = ts;
	if (fr_raw(&in, "body", 1, FRAME_BODY_MAX, &v->body, &v->body_len))
		return -1;
	v->signed_len = (size_t)(in.p - buf);
	if (fr_fixed_bin(&in, "key", 32, &v->key, 1) || fr_fixed_bin(&in, "sig", 64, &v->sig, 1))
		return -1;
	if ((v->key == NULL) != (v->sig == NULL))
		return fr_fail(&in, "sig", "key and sig must both be present or both nil");
	if (windowed && fr_proof(&in, v))
		return -1;
	if (in.p != in.end)
		return fr_fail(&in, "frame", "%zu trailing bytes at offset %zu", (size_t)(in.end - in.p),
		               (size_t)(in.p - buf));
	return 0;
}
