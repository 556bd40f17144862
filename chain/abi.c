/* abi.c — Solidity ABI type trees, encoder and strict decoder.
 *
 * The decoder trusts nothing in the data: every offset and length is checked against the input
 * size before use, array lengths are capped by the bytes that remain (each element needs at least
 * its in-place size), and recursion follows the *type* tree, whose depth the parser bounds, so
 * crafted data cannot deepen it. Scalar words are validated as Solidity's own decoder does:
 * uintN/address/bool must be zero-padded, intN sign-extended, bytesN right-padded with zeros.
 */
#include "chain/abi.h"

#include <string.h>

#include "base/keccak.h"

/* ---- parser ---- */

typedef struct {
	abi_sig *s;
	const char *src;
	size_t pos;
	size_t err_off;
} abi_parser;

static int
abi_new(abi_parser *ps, uint8_t kind, uint16_t *idx)
{
	if (ps->s->n >= ABI_MAX_TYPES)
		return ABI_ETOOBIG;
	*idx = ps->s->n++;
	abi_type *t = &ps->s->t[*idx];
	memset(t, 0, sizeof *t);
	t->kind = kind;
	t->first = t->next = ABI_NONE;
	return ABI_OK;
}

/* Elementary type names: (prefix, kind, has a size suffix). Longest prefixes first. */
static const struct {
	const char *name;
	uint8_t kind;
} abi_names[] = {
	{ "address", ABI_ADDRESS }, { "bool", ABI_BOOL }, { "string", ABI_STRING },
	{ "bytes", ABI_FBYTES },    { "uint", ABI_UINT }, { "int", ABI_INT },
};

static int
abi_is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Parses decimal digits (no leading zero) into *v <= max; returns number of digits or -1. */
static int
abi_digits(const char *p, uint32_t max, uint32_t *v)
{
	int n = 0;
	uint64_t x = 0;
	if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
		return -1;
	while (p[n] >= '0' && p[n] <= '9') {
		x = x * 10 + (uint64_t)(p[n] - '0');
		if (x > max)
			return -1;
		n++;
	}
	*v = (uint32_t)x;
	return n;
}

static int abi_parse_type(abi_parser *ps, int depth, uint16_t *out);

/* '(' [type {',' type}] ')' at ps->pos. */
static int
abi_parse_tuple(abi_parser *ps, int depth, uint16_t *out)
{
	uint16_t idx, prev = ABI_NONE, c;
	int rc;
	if (depth > ABI_MAX_DEPTH) {
		ps->err_off = ps->pos;
		return ABI_ETOOBIG;
	}
	if ((rc = abi_new(ps, ABI_TUPLE, &idx)))
		return rc;
	ps->pos++; /* '(' */
	if (ps->src[ps->pos] != ')') {
		for (;;) {
			if ((rc = abi_parse_type(ps, depth + 1, &c)))
				return rc;
			abi_type *t = &ps->s->t[idx];
			if (prev == ABI_NONE)
				t->first = c;
			else
				ps->s->t[prev].next = c;
			prev = c;
			t->ncomp++;
			t->dynamic |= ps->s->t[c].dynamic;
			if (ps->src[ps->pos] == ',') {
				ps->pos++;
				continue;
			}
			break;
		}
	}
	if (ps->src[ps->pos] != ')') {
		ps->err_off = ps->pos;
		return ABI_ESYNTAX;
	}
	ps->pos++;
	/* static size: sum of components' sizes, bounded so that T[k] products cannot overflow */
	abi_type *t = &ps->s->t[idx];
	uint64_t sz = 0;
	for (uint16_t k = t->first; k != ABI_NONE; k = ps->s->t[k].next)
		sz += ps->s->t[k].ssize;
	if (sz > (1u << 24)) {
		ps->err_off = ps->pos;
		return ABI_ETOOBIG;
	}
	t->ssize = t->dynamic ? 32 : (uint32_t)sz;
	*out = idx;
	return ABI_OK;
}

static int
abi_parse_elementary(abi_parser *ps, uint16_t *out)
{
	const char *p = ps->src + ps->pos;
	size_t len = 0, i;
	uint32_t bits = 0;
	int rc;
	while (abi_is_ident(p[len]))
		len++;
	for (i = 0; i < sizeof abi_names / sizeof abi_names[0]; i++)
		if (strncmp(p, abi_names[i].name, strlen(abi_names[i].name)) == 0)
			break;
	if (i == sizeof abi_names / sizeof abi_names[0] || len == 0)
		goto bad;
	uint8_t kind = abi_names[i].kind;
	size_t nl = strlen(abi_names[i].name);
	if (nl < len) { /* a size suffix */
		int d = abi_digits(p + nl, 256, &bits);
		if (d <= 0 || nl + (size_t)d != len)
			goto bad;
		if (kind == ABI_UINT || kind == ABI_INT) {
			if (bits == 0 || bits % 8)
				goto bad;
		} else if (kind == ABI_FBYTES) {
			if (bits == 0 || bits > 32)
				goto bad;
		} else {
			goto bad;
		}
	} else if (kind == ABI_UINT || kind == ABI_INT) {
		bits = 256; /* "uint" is an alias of uint256 */
	} else if (kind == ABI_FBYTES) {
		kind = ABI_BYTES;
	}
	if ((rc = abi_new(ps, kind, out)))
		return rc;
	abi_type *t = &ps->s->t[*out];
	t->bits = (uint16_t)bits;
	t->dynamic = kind == ABI_BYTES || kind == ABI_STRING;
	t->ssize = 32;
	ps->pos += len;
	return ABI_OK;
bad:
	ps->err_off = ps->pos;
	return ABI_ETYPE;
}

static int
abi_parse_type(abi_parser *ps, int depth, uint16_t *out)
{
	uint16_t idx;
	int rc;
	if (depth > ABI_MAX_DEPTH) {
		ps->err_off = ps->pos;
		return ABI_ETOOBIG;
	}
	if (strncmp(ps->src + ps->pos, "tuple(", 6) == 0)
		ps->pos += 5;
	if (ps->src[ps->pos] == '(')
		rc = abi_parse_tuple(ps, depth, &idx);
	else if (abi_is_ident(ps->src[ps->pos]))
		rc = abi_parse_elementary(ps, &idx);
	else {
		ps->err_off = ps->pos;
		return ABI_ESYNTAX;
	}
	if (rc)
		return rc;
	if (ps->s->t[idx].kind == ABI_TUPLE && ps->s->t[idx].ncomp == 0) {
		ps->err_off = ps->pos; /* a zero-sized type would let an array length run unbounded */
		return ABI_ETYPE;
	}
	while (ps->src[ps->pos] == '[') {
		uint16_t a;
		uint32_t k = 0;
		int d = abi_digits(ps->src + ps->pos + 1, 1u << 24, &k);
		if (d < 0 || ps->src[ps->pos + 1 + (size_t)d] != ']' || (d > 0 && k == 0)) {
			ps->err_off = ps->pos;
			return d < 0 || (d > 0 && k == 0) ? ABI_ETYPE : ABI_ESYNTAX; /* bad size / no ']' */
		}
		if (++depth > ABI_MAX_DEPTH) {
			ps->err_off = ps->pos;
			return ABI_ETOOBIG;
		}
		if ((rc = abi_new(ps, d ? ABI_FARRAY : ABI_ARRAY, &a)))
			return rc;
		abi_type *t = &ps->s->t[a], *e = &ps->s->t[idx];
		t->first = idx;
		t->alen = k;
		t->dynamic = !d || e->dynamic;
		if (!t->dynamic) {
			uint64_t sz = (uint64_t)k * e->ssize;
			if (sz > (1u << 24)) {
				ps->err_off = ps->pos;
				return ABI_ETOOBIG;
			}
			t->ssize = (uint32_t)sz;
		} else {
			t->ssize = 32;
		}
		ps->pos += 2 + (size_t)d;
		idx = a;
	}
	*out = idx;
	return ABI_OK;
}

/* Canonical text of a type subtree. */
typedef struct {
	char *b;
	size_t n, cap;
} abi_str;

static void
abi_cat(abi_str *o, const char *s, size_t n)
{
	if (o->n + n < o->cap)
		memcpy(o->b + o->n, s, n);
	o->n += n;
}

static void
abi_cat_u(abi_str *o, uint32_t v)
{
	char d[12];
	int i = 12;
	do
		d[--i] = (char)('0' + v % 10);
	while (v /= 10);
	abi_cat(o, d + i, (size_t)(12 - i));
}

static void
abi_canon_type(const abi_sig *s, uint16_t i, abi_str *o)
{
	static const char *const base[] = {
		[ABI_UINT] = "uint",    [ABI_INT] = "int",     [ABI_ADDRESS] = "address", [ABI_BOOL] = "bool",
		[ABI_FBYTES] = "bytes", [ABI_BYTES] = "bytes", [ABI_STRING] = "string",
	};
	const abi_type *t = &s->t[i];
	switch (t->kind) {
	case ABI_TUPLE:
		abi_cat(o, "(", 1);
		for (uint16_t k = t->first; k != ABI_NONE; k = s->t[k].next) {
			abi_canon_type(s, k, o);
			if (s->t[k].next != ABI_NONE)
				abi_cat(o, ",", 1);
		}
		abi_cat(o, ")", 1);
		return;
	case ABI_ARRAY:
	case ABI_FARRAY:
		abi_canon_type(s, t->first, o);
		abi_cat(o, "[", 1);
		if (t->kind == ABI_FARRAY)
			abi_cat_u(o, t->alen);
		abi_cat(o, "]", 1);
		return;
	default:
		abi_cat(o, base[t->kind], strlen(base[t->kind]));
		if (t->kind == ABI_UINT || t->kind == ABI_INT || t->kind == ABI_FBYTES)
			abi_cat_u(o, t->bits);
	}
}

static int
abi_finish(abi_sig *s, const char *name, size_t name_len)
{
	abi_str o = { s->canon, 0, sizeof s->canon };
	abi_cat(&o, name, name_len);
	abi_canon_type(s, s->root, &o);
	if (o.n >= o.cap)
		return ABI_ETOOBIG;
	s->canon[o.n] = '\0';
	s->canon_len = o.n;
	s->name_len = name_len;
	kec_256(s->canon, s->canon_len, s->topic0);
	memcpy(s->selector, s->topic0, 4);
	return ABI_OK;
}

int
abi_parse_sig(abi_sig *s, const char *sig, size_t *err_off)
{
	abi_parser ps = { s, sig, 0, 0 };
	size_t dummy, nl = 0;
	int rc;
	if (!err_off)
		err_off = &dummy;
	s->n = 0;
	while ((sig[nl] >= 'a' && sig[nl] <= 'z') || (sig[nl] >= 'A' && sig[nl] <= 'Z') ||
	       (sig[nl] >= '0' && sig[nl] <= '9' && nl > 0) || sig[nl] == '_' || sig[nl] == '$')
		nl++;
	ps.pos = nl;
	if (nl == 0 || sig[nl] != '(') {
		*err_off = nl;
		return ABI_ESYNTAX;
	}
	if ((rc = abi_parse_tuple(&ps, 0, &s->root)))
		goto fail;
	if (sig[ps.pos] != '\0') {
		ps.err_off = ps.pos;
		rc = ABI_ESYNTAX;
		goto fail;
	}
	return abi_finish(s, sig, nl);
fail:
	*err_off = ps.err_off;
	return rc;
}

int
abi_parse_types(abi_sig *s, const char *types, size_t *err_off)
{
	abi_parser ps = { s, types, 0, 0 };
	size_t dummy;
	uint16_t c;
	int rc;
	if (!err_off)
		err_off = &dummy;
	s->n = 0;
	if (types[0] == '(') { /* a list: the root tuple itself (may be "()") */
		rc = abi_parse_tuple(&ps, 0, &s->root);
	} else { /* a single type, wrapped in a 1-tuple */
		if ((rc = abi_new(&ps, ABI_TUPLE, &s->root)) == ABI_OK && (rc = abi_parse_type(&ps, 1, &c)) == ABI_OK) {
			abi_type *r = &s->t[s->root];
			r->first = c;
			r->ncomp = 1;
			r->dynamic = s->t[c].dynamic;
			r->ssize = r->dynamic ? 32 : s->t[c].ssize;
		}
	}
	if (rc == ABI_OK && types[ps.pos] != '\0') {
		ps.err_off = ps.pos;
		rc = ABI_ESYNTAX;
	}
	if (rc) {
		*err_off = ps.err_off;
		return rc;
	}
	return abi_finish(s, "", 0);
}

void
abi_topic(const char *canon, uint8_t topic[32])
{
	kec_256(canon, strlen(canon), topic);
}

void
abi_selector(const char *canon, uint8_t sel[4])
{
	uint8_t h[32];
	abi_topic(canon, h);
	memcpy(sel, h, 4);
}

/* ---- word validation (shared by the decoder and the encoder) ---- */

static int
abi_all(const uint8_t *p, size_t n, uint8_t b)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= (uint8_t)(p[i] ^ b);
	return acc == 0;
}

static int
abi_check_word(const abi_type *t, const uint8_t w[32])
{
	size_t pad;
	switch (t->kind) {
	case ABI_UINT:
		return abi_all(w, 32 - t->bits / 8u, 0) ? ABI_OK : ABI_EVALUE;
	case ABI_INT:
		pad = 32 - t->bits / 8u; /* the pad and the top bit of the value all equal the sign */
		return abi_all(w, pad, (w[pad] & 0x80) ? 0xff : 0x00) ? ABI_OK : ABI_EVALUE;
	case ABI_ADDRESS:
		return abi_all(w, 12, 0) ? ABI_OK : ABI_EVALUE;
	case ABI_BOOL:
		return abi_all(w, 31, 0) && w[31] <= 1 ? ABI_OK : ABI_EVALUE;
	case ABI_FBYTES:
		return abi_all(w + t->bits, 32u - t->bits, 0) ? ABI_OK : ABI_EVALUE;
	}
	return ABI_EVALUE;
}

/* ---- decoder ---- */

typedef struct {
	const abi_sig *s;
	const uint8_t *d;
	size_t n;
	abi_val *out;
	size_t cap, used;
	size_t err_off;
} abi_dec;

/* Reads a word at pos as a size/offset no larger than n. */
static int
abi_read_size(abi_dec *D, size_t pos, size_t *v)
{
	if (pos > D->n || D->n - pos < 32) {
		D->err_off = pos;
		return ABI_ESHORT;
	}
	const uint8_t *w = D->d + pos;
	uint64_t x = 0;
	if (!abi_all(w, 24, 0)) {
		D->err_off = pos;
		return ABI_EOFFSET;
	}
	for (int i = 24; i < 32; i++)
		x = (x << 8) | w[i];
	if (x > D->n) {
		D->err_off = pos;
		return ABI_EOFFSET;
	}
	*v = (size_t)x;
	return ABI_OK;
}

static int abi_dec_value(abi_dec *D, uint16_t ti, size_t pos);

/* count elements, each of type elem_of(k), encoded as a tuple starting at base. */
static int
abi_dec_seq(abi_dec *D, const abi_type *t, size_t base, uint32_t count, size_t node)
{
	size_t head = base;
	uint16_t c = t->first; /* tuples walk their components; arrays repeat their element */
	int rc;
	for (uint32_t k = 0; k < count; k++) {
		const abi_type *ct = &D->s->t[c];
		if (ct->dynamic) {
			size_t off;
			if ((rc = abi_read_size(D, head, &off)))
				return rc;
			if (off > D->n - base) {
				D->err_off = head;
				return ABI_EOFFSET;
			}
			if ((rc = abi_dec_value(D, c, base + off)))
				return rc;
		} else if ((rc = abi_dec_value(D, c, head))) {
			return rc;
		}
		head += ct->ssize;
		if (t->kind == ABI_TUPLE)
			c = ct->next;
	}
	D->out[node].size = (uint32_t)(D->used - node);
	return ABI_OK;
}

static int
abi_dec_value(abi_dec *D, uint16_t ti, size_t pos)
{
	const abi_type *t = &D->s->t[ti];
	size_t node = D->used, len;
	int rc;
	if (D->used >= D->cap) {
		D->err_off = pos;
		return ABI_ESPACE;
	}
	abi_val *v = &D->out[D->used++];
	memset(v, 0, sizeof *v);
	v->type = ti;
	v->kind = t->kind;
	v->size = 1;
	switch (t->kind) {
	case ABI_TUPLE:
		v->count = t->ncomp;
		return abi_dec_seq(D, t, pos, t->ncomp, node);
	case ABI_FARRAY:
		v->count = t->alen;
		return abi_dec_seq(D, t, pos, t->alen, node);
	case ABI_ARRAY: {
		if ((rc = abi_read_size(D, pos, &len)))
			return rc;
		/* every element occupies at least its in-place size after the length word */
		size_t room = D->n - pos - 32, each = D->s->t[t->first].ssize;
		if (len > room / each) {
			D->err_off = pos;
			return ABI_EOFFSET;
		}
		D->out[node].count = (uint32_t)len;
		return abi_dec_seq(D, t, pos + 32, (uint32_t)len, node);
	}
	case ABI_BYTES:
	case ABI_STRING: {
		if ((rc = abi_read_size(D, pos, &len)))
			return rc;
		size_t padded = (len + 31) / 32 * 32;
		if (padded > D->n - pos - 32) {
			D->err_off = pos;
			return ABI_ESHORT;
		}
		v->p = D->d + pos + 32;
		v->len = len;
		return ABI_OK;
	}
	default:
		if (pos > D->n || D->n - pos < 32) {
			D->err_off = pos;
			return ABI_ESHORT;
		}
		if ((rc = abi_check_word(t, D->d + pos))) {
			D->err_off = pos;
			return rc;
		}
		memcpy(v->word, D->d + pos, 32);
		return ABI_OK;
	}
}

int
abi_decode(const abi_sig *s, const uint8_t *data, size_t n, abi_val *out, size_t cap, size_t *nout, size_t *err_off)
{
	abi_dec D = { s, data, n, out, cap, 0, 0 };
	int rc = abi_dec_value(&D, s->root, 0);
	if (nout)
		*nout = D.used;
	if (err_off)
		*err_off = D.err_off;
	return rc;
}

/* ---- encoder ---- */

typedef struct {
	const abi_sig *s;
	const abi_val *v;
	size_t nv;
	uint8_t *out; /* NULL: size pass */
} abi_enc;

static void
abi_put_size(abi_enc *E, size_t at, size_t x)
{
	if (!E->out)
		return;
	memset(E->out + at, 0, 24);
	for (int i = 0; i < 8; i++)
		E->out[at + 24 + i] = (uint8_t)((uint64_t)x >> (8 * (7 - i)));
}

static int abi_enc_value(abi_enc *E, uint16_t ti, size_t vi, size_t at, size_t *sz);

static int
abi_enc_seq(abi_enc *E, const abi_type *t, size_t vi, uint32_t count, size_t at, size_t *sz)
{
	uint16_t c = t->first;
	size_t head = 0, tail = 0, ci = vi + 1, csz;
	int rc;
	/* heads first: their total size fixes where the tails begin */
	for (uint32_t k = 0; k < count; k++) {
		head += E->s->t[c].ssize;
		if (t->kind == ABI_TUPLE)
			c = E->s->t[c].next;
	}
	tail = head;
	head = 0;
	c = t->first;
	for (uint32_t k = 0; k < count; k++) {
		const abi_type *ct = &E->s->t[c];
		if (ci >= E->nv)
			return ABI_EMISMATCH;
		if (ct->dynamic) {
			abi_put_size(E, at + head, tail);
			if ((rc = abi_enc_value(E, c, ci, at + tail, &csz)))
				return rc;
			tail += csz;
		} else if ((rc = abi_enc_value(E, c, ci, at + head, &csz))) {
			return rc;
		}
		head += ct->ssize;
		ci += E->v[ci].size ? E->v[ci].size : 1;
		if (t->kind == ABI_TUPLE)
			c = ct->next;
	}
	if (ci - vi != E->v[vi].size)
		return ABI_EMISMATCH;
	*sz = tail;
	return ABI_OK;
}

/* Builders cannot know every type (abi_v_list serves tuples and arrays, abi_v_bytes strings,
 * abi_v_uint intN too), so values match types by class, and the type tree decides the rest. */
static const uint8_t abi_class[] = {
	[ABI_UINT] = 1,  [ABI_INT] = 1,    [ABI_ADDRESS] = 2, [ABI_BOOL] = 3,  [ABI_FBYTES] = 4,
	[ABI_BYTES] = 5, [ABI_STRING] = 5, [ABI_TUPLE] = 6,   [ABI_ARRAY] = 6, [ABI_FARRAY] = 6,
};

static int
abi_enc_value(abi_enc *E, uint16_t ti, size_t vi, size_t at, size_t *sz)
{
	const abi_type *t = &E->s->t[ti];
	const abi_val *v = &E->v[vi];
	int rc;
	if (vi >= E->nv || v->kind == 0 || v->kind > ABI_FARRAY || abi_class[v->kind] != abi_class[t->kind])
		return ABI_EMISMATCH;
	switch (t->kind) {
	case ABI_TUPLE:
		if (v->count != t->ncomp)
			return ABI_EMISMATCH;
		return abi_enc_seq(E, t, vi, t->ncomp, at, sz);
	case ABI_FARRAY:
		if (v->count != t->alen)
			return ABI_EMISMATCH;
		return abi_enc_seq(E, t, vi, t->alen, at, sz);
	case ABI_ARRAY:
		abi_put_size(E, at, v->count);
		if ((rc = abi_enc_seq(E, t, vi, v->count, at + 32, sz)))
			return rc;
		*sz += 32;
		return ABI_OK;
	case ABI_BYTES:
	case ABI_STRING: {
		size_t padded = (v->len + 31) / 32 * 32;
		abi_put_size(E, at, v->len);
		if (E->out) {
			if (v->len)
				memcpy(E->out + at + 32, v->p, v->len);
			memset(E->out + at + 32 + v->len, 0, padded - v->len);
		}
		*sz = 32 + padded;
		return ABI_OK;
	}
	default:
		if ((rc = abi_check_word(t, v->word)))
			return rc;
		if (E->out)
			memcpy(E->out + at, v->word, 32);
		*sz = 32;
		return ABI_OK;
	}
}

int
abi_encode(const abi_sig *s, const abi_val *vals, size_t nvals, int with_selector, uint8_t *out, size_t cap,
           size_t *len)
{
	abi_enc E = { s, vals, nvals, NULL };
	size_t sz, pre = with_selector ? 4 : 0;
	int rc;
	*len = 0;
	if (nvals == 0)
		return ABI_EMISMATCH;
	if ((rc = abi_enc_value(&E, s->root, 0, 0, &sz)))
		return rc;
	*len = pre + sz;
	if (!out || cap < pre + sz)
		return ABI_ESPACE;
	if (pre)
		memcpy(out, s->selector, 4);
	E.out = out + pre;
	return abi_enc_value(&E, s->root, 0, 0, &sz);
}

/* ---- builders and accessors ---- */

static void
abi_v_word(abi_val *v, uint8_t kind)
{
	memset(v, 0, sizeof *v);
	v->kind = kind;
	v->size = 1;
}

void
abi_v_uint(abi_val *v, const u256 *x)
{
	abi_v_word(v, ABI_UINT);
	u256_to_be(x, v->word);
}

void
abi_v_u64(abi_val *v, uint64_t x)
{
	u256 u;
	u256_from_u64(&u, x);
	abi_v_uint(v, &u);
}

void
abi_v_i64(abi_val *v, int64_t x)
{
	abi_v_word(v, ABI_INT);
	memset(v->word, x < 0 ? 0xff : 0, 24);
	for (int i = 0; i < 8; i++)
		v->word[24 + i] = (uint8_t)((uint64_t)x >> (8 * (7 - i)));
}

void
abi_v_address(abi_val *v, const uint8_t a[20])
{
	abi_v_word(v, ABI_ADDRESS);
	memcpy(v->word + 12, a, 20);
}

void
abi_v_bool(abi_val *v, int b)
{
	abi_v_word(v, ABI_BOOL);
	v->word[31] = b ? 1 : 0;
}

void
abi_v_fbytes(abi_val *v, const uint8_t *b, size_t n)
{
	abi_v_word(v, ABI_FBYTES);
	memcpy(v->word, b, n > 32 ? 32 : n);
}

void
abi_v_bytes(abi_val *v, const uint8_t *b, size_t n)
{
	memset(v, 0, sizeof *v);
	v->kind = ABI_BYTES;
	v->size = 1;
	v->p = b;
	v->len = n;
}

void
abi_v_list(abi_val *v, uint32_t count, uint32_t size)
{
	memset(v, 0, sizeof *v);
	v->kind = ABI_TUPLE;
	v->count = count;
	v->size = size;
}

int
abi_get_u256(const abi_val *v, u256 *x)
{
	if (v->kind != ABI_UINT && v->kind != ABI_INT)
		return ABI_EMISMATCH;
	u256_from_be(x, v->word, 32);
	return ABI_OK;
}

int
abi_get_u64(const abi_val *v, uint64_t *x)
{
	if (v->kind != ABI_UINT && v->kind != ABI_INT)
		return ABI_EMISMATCH;
	if (!abi_all(v->word, 24, 0))
		return ABI_EVALUE;
	*x = 0;
	for (int i = 24; i < 32; i++)
		*x = (*x << 8) | v->word[i];
	return ABI_OK;
}

int
abi_get_i64(const abi_val *v, int64_t *x)
{
	if (v->kind != ABI_INT)
		return ABI_EMISMATCH;
	uint8_t sign = (v->word[24] & 0x80) ? 0xff : 0;
	if (!abi_all(v->word, 24, sign))
		return ABI_EVALUE;
	uint64_t u = 0;
	for (int i = 24; i < 32; i++)
		u = (u << 8) | v->word[i];
	memcpy(x, &u, sizeof u); /* two's complement reinterpretation without UB */
	return ABI_OK;
}

int
abi_get_address(const abi_val *v, uint8_t a[20])
{
	if (v->kind != ABI_ADDRESS)
		return ABI_EMISMATCH;
	memcpy(a, v->word + 12, 20);
	return ABI_OK;
}

int
abi_get_bool(const abi_val *v, int *b)
{
	if (v->kind != ABI_BOOL)
		return ABI_EMISMATCH;
	*b = v->word[31];
	return ABI_OK;
}

size_t
abi_next(const abi_val *vals, size_t i)
{
	return i + (vals[i].size ? vals[i].size : 1);
}

size_t
abi_child(const abi_val *vals, size_t i, uint32_t k)
{
	size_t c = i + 1;
	while (k--)
		c = abi_next(vals, c);
	return c;
}

const char *
abi_strerror(int err)
{
	static const char *const msg[] = {
		"ok",
		"signature syntax error",
		"unknown type or bad type size",
		"signature too large or too deeply nested",
		"data too short",
		"offset or length out of range",
		"value out of range for its type",
		"output too small",
		"trailing data",
		"values do not match the types",
	};
	unsigned i = (unsigned)-err;
	return err <= 0 && i < sizeof msg / sizeof msg[0] ? msg[i] : "unknown abi error";
}
