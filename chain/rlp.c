/* rlp.c — RLP encoder (length-counting, list headers patched in place) and canonical decoder.
 *
 * Lists: the encoder cannot know a list's payload length in advance, so rlp_list_begin only
 * remembers where the payload starts and rlp_list_end shifts the payload right by the header size
 * once it is known. The shift costs a memmove per list, trivial for transaction-sized data, and it
 * keeps the API a single pass for callers.
 */
#include "chain/rlp.h"

#include <string.h>

static void
rlp_emit(rlp_enc *e, const uint8_t *p, size_t n)
{
	if (e->len <= e->cap && n <= e->cap - e->len && n)
		memcpy(e->buf + e->len, p, n);
	e->len += n;
}

/* Writes the header (short form if len < 56) for a payload: 0x80 strings, 0xc0 lists. */
static size_t
rlp_header(uint8_t h[9], uint8_t base, size_t len)
{
	if (len < 56) {
		h[0] = (uint8_t)(base + len);
		return 1;
	}
	size_t nb = 0;
	for (size_t t = len; t; t >>= 8)
		nb++;
	h[0] = (uint8_t)(base + 55 + nb);
	for (size_t i = 0; i < nb; i++)
		h[nb - i] = (uint8_t)(len >> (8 * i));
	return 1 + nb;
}

size_t
rlp_encode_header(uint8_t h[9], int is_list, size_t payload_len)
{
	return rlp_header(h, is_list ? 0xc0 : 0x80, payload_len);
}

void
rlp_enc_init(rlp_enc *e, uint8_t *buf, size_t cap)
{
	e->buf = buf;
	e->cap = buf ? cap : 0;
	e->len = 0;
}

void
rlp_put_bytes(rlp_enc *e, const uint8_t *p, size_t n)
{
	uint8_t h[9];
	if (n == 1 && p[0] < 0x80) {
		rlp_emit(e, p, 1);
		return;
	}
	rlp_emit(e, h, rlp_header(h, 0x80, n));
	rlp_emit(e, p, n);
}

void
rlp_put_u64(rlp_enc *e, uint64_t v)
{
	uint8_t b[8];
	size_t n = 0;
	for (int i = 7; i >= 0; i--)
		if (n || (v >> (8 * i)) & 0xff)
			b[n++] = (uint8_t)(v >> (8 * i));
	rlp_put_bytes(e, b, n);
}

void
rlp_put_u256(rlp_enc *e, const u256 *v)
{
	uint8_t b[32];
	size_t z = 0;
	u256_to_be(v, b);
	while (z < 32 && b[z] == 0)
		z++;
	rlp_put_bytes(e, b + z, 32 - z);
}

void
rlp_put_raw(rlp_enc *e, const uint8_t *p, size_t n)
{
	rlp_emit(e, p, n);
}

size_t
rlp_list_begin(rlp_enc *e)
{
	return e->len;
}

void
rlp_list_end(rlp_enc *e, size_t mark)
{
	uint8_t h[9];
	size_t payload = e->len - mark, hn = rlp_header(h, 0xc0, payload);
	if (e->len + hn <= e->cap) {
		memmove(e->buf + mark + hn, e->buf + mark, payload);
		memcpy(e->buf + mark, h, hn);
	}
	e->len += hn;
}

int
rlp_enc_finish(const rlp_enc *e, size_t *len)
{
	*len = e->len;
	return e->len <= e->cap ? RLP_OK : RLP_ESPACE;
}

/* ---- decoder ---- */

/* Parses the item starting at in[pos] within in[0..n); base = offset of in[] in the top input. */
static int
rlp_item_at(const uint8_t *in, size_t n, size_t pos, size_t base, rlp_item *it, size_t *err_off)
{
	size_t hl, len;
	uint8_t b;
	*err_off = base + pos;
	if (pos >= n)
		return RLP_ETRUNC;
	b = in[pos];
	it->off = base + pos;
	it->is_list = b >= 0xc0;
	if (b < 0x80) { /* the byte is its own payload */
		it->p = in + pos;
		it->len = 1;
		it->size = 1;
		return RLP_OK;
	}
	uint8_t kind = it->is_list ? 0xc0 : 0x80;
	if (b - kind < 56) {
		hl = 1;
		len = (size_t)(b - kind);
	} else {
		size_t nb = (size_t)(b - kind - 55);
		if (nb > n - pos - 1)
			return RLP_ETRUNC;
		if (in[pos + 1] == 0)
			return RLP_ENONCANON; /* length-of-length with a leading zero */
		if (nb > sizeof(size_t))
			return RLP_ETRUNC; /* cannot be satisfied by any input in memory */
		len = 0;
		for (size_t i = 0; i < nb; i++)
			len = (len << 8) | in[pos + 1 + i];
		if (len < 56)
			return RLP_ENONCANON;
		hl = 1 + nb;
	}
	if (len > n - pos - hl)
		return RLP_ETRUNC;
	if (!it->is_list && len == 1 && hl == 1 && in[pos + 1] < 0x80)
		return RLP_ESINGLE;
	it->p = in + pos + hl;
	it->len = len;
	it->size = hl + len;
	return RLP_OK;
}

static int
rlp_validate(const rlp_item *list, size_t base, int depth, size_t *err_off)
{
	size_t pos = 0;
	if (depth > RLP_MAX_DEPTH) {
		*err_off = list->off;
		return RLP_EDEPTH;
	}
	while (pos < list->len) {
		rlp_item it;
		int rc = rlp_item_at(list->p, list->len, pos, base, &it, err_off);
		if (rc)
			return rc;
		if (it.is_list && (rc = rlp_validate(&it, it.off + (it.size - it.len), depth + 1, err_off)))
			return rc;
		pos += it.size;
	}
	return RLP_OK;
}

int
rlp_decode(const uint8_t *in, size_t n, rlp_item *it, size_t *err_off)
{
	size_t dummy;
	int rc;
	if (!err_off)
		err_off = &dummy;
	if ((rc = rlp_item_at(in, n, 0, 0, it, err_off)))
		return rc;
	if (it->size != n) {
		*err_off = it->size;
		return RLP_ETRAILING;
	}
	return it->is_list ? rlp_validate(it, it->size - it->len, 1, err_off) : RLP_OK;
}

void
rlp_iter_init(rlp_iter *i, const rlp_item *list)
{
	i->p = list->p;
	i->n = list->is_list ? list->len : 0;
	i->pos = 0;
	i->base = list->off + (list->size - list->len);
}

int
rlp_iter_next(rlp_iter *i, rlp_item *it, size_t *err_off)
{
	size_t dummy;
	int rc;
	if (i->pos >= i->n)
		return 0;
	if ((rc = rlp_item_at(i->p, i->n, i->pos, i->base, it, err_off ? err_off : &dummy)))
		return rc;
	i->pos += it->size;
	return 1;
}

size_t
rlp_list_count(const rlp_item *list)
{
	rlp_iter i;
	rlp_item it;
	size_t c = 0;
	rlp_iter_init(&i, list);
	while (rlp_iter_next(&i, &it, NULL) == 1)
		c++;
	return c;
}

int
rlp_get_u64(const rlp_item *it, uint64_t *v)
{
	if (it->is_list)
		return RLP_ETYPE;
	if (it->len > 8)
		return RLP_EBIG;
	if (it->len > 0 && it->p[0] == 0)
		return RLP_ELEADZERO;
	*v = 0;
	for (size_t i = 0; i < it->len; i++)
		*v = (*v << 8) | it->p[i];
	return RLP_OK;
}

int
rlp_get_u256(const rlp_item *it, u256 *v)
{
	if (it->is_list)
		return RLP_ETYPE;
	if (it->len > 32)
		return RLP_EBIG;
	if (it->len > 0 && it->p[0] == 0)
		return RLP_ELEADZERO;
	u256_from_be(v, it->p, it->len);
	return RLP_OK;
}

int
rlp_get_fixed(const rlp_item *it, uint8_t *out, size_t n)
{
	if (it->is_list)
		return RLP_ETYPE;
	if (it->len != n)
		return it->len > n ? RLP_EBIG : RLP_ETRUNC;
	memcpy(out, it->p, n);
	return RLP_OK;
}

const char *
rlp_strerror(int err)
{
	static const char *const msg[] = {
		"ok",
		"item runs past the end of its input",
		"non-canonical length prefix",
		"single byte below 0x80 encoded as a string",
		"integer with a leading zero byte",
		"lists nested too deeply",
		"trailing bytes after the item",
		"list where a string was expected, or the reverse",
		"value too large for its destination",
		"output buffer too small",
	};
	unsigned i = (unsigned)-err;
	return err <= 0 && i < sizeof msg / sizeof msg[0] ? msg[i] : "unknown rlp error";
}
