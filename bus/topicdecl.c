/*
 * topicdecl.c - the subscriber's topic declaration and busd's ack (see topicdecl.h).
 */
#include "bus/topicdecl.h"

#include <stdio.h>
#include <string.h>

static const uint8_t td_magic[4] = { 'O', 'B', 'T', 'F' };
static const uint8_t td_ack_magic[5] = { 0, 'O', 'B', 'T', 'A' };

static uint32_t
td_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
td_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int
topicdecl_parse(const uint8_t *buf, size_t len, topicdecl *d, char *err, size_t errlen)
{
	size_t off = TOPICDECL_HDR;
	if (len < TOPICDECL_HDR || memcmp(buf, td_magic, sizeof td_magic) != 0) {
		snprintf(err, errlen, "not a topic declaration (magic)");
		return -1;
	}
	if (buf[4] != TOPICDECL_VERSION) {
		snprintf(err, errlen, "topic declaration version %u unsupported", buf[4]);
		return -1;
	}
	d->seq = td_u32(buf + 5);
	d->n = (size_t)buf[9] << 8 | buf[10];
	d->all = 0;
	if (d->n > TOPICDECL_MAX_PREFIXES) {
		snprintf(err, errlen, "topic declaration: %zu prefixes (at most %d)", d->n, TOPICDECL_MAX_PREFIXES);
		return -1;
	}
	for (size_t i = 0; i < d->n; i++) {
		if (off >= len) {
			snprintf(err, errlen, "topic declaration truncated at prefix %zu", i);
			return -1;
		}
		size_t pl = buf[off++];
		if (pl > TOPICDECL_PREFIX_MAX || pl > len - off) {
			snprintf(err, errlen, "topic declaration: prefix %zu of %zu bytes %s", i, pl,
			         pl > TOPICDECL_PREFIX_MAX ? "over the bound" : "truncated");
			return -1;
		}
		d->pfx[i] = buf + off;
		d->len[i] = (uint8_t)pl;
		d->all |= pl == 0;
		off += pl;
	}
	if (off != len) {
		snprintf(err, errlen, "topic declaration: %zu trailing bytes", len - off);
		return -1;
	}
	return 0;
}

int
topicdecl_match(const topicdecl *d, const uint8_t *frame, size_t len)
{
	if (d->all)
		return 1;
	for (size_t i = 0; i < d->n; i++)
		if (d->len[i] <= len && memcmp(d->pfx[i], frame, d->len[i]) == 0)
			return 1;
	return 0;
}

size_t
topicdecl_encode(uint32_t seq, const char *const *pfx, size_t n, uint8_t *out, size_t cap)
{
	size_t off = TOPICDECL_HDR;
	if (n > TOPICDECL_MAX_PREFIXES || cap < TOPICDECL_HDR)
		return 0;
	memcpy(out, td_magic, sizeof td_magic);
	out[4] = TOPICDECL_VERSION;
	td_put_u32(out + 5, seq);
	out[9] = (uint8_t)(n >> 8);
	out[10] = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		size_t pl = strlen(pfx[i]);
		if (pl > TOPICDECL_PREFIX_MAX || cap - off < 1 + pl)
			return 0;
		out[off++] = (uint8_t)pl;
		memcpy(out + off, pfx[i], pl);
		off += pl;
	}
	return off;
}

void
topicdecl_ack(uint32_t seq, uint8_t out[TOPICDECL_ACK_LEN])
{
	memcpy(out, td_ack_magic, sizeof td_ack_magic);
	out[5] = TOPICDECL_VERSION;
	td_put_u32(out + 6, seq);
}

int
topicdecl_is_ack(const uint8_t *msg, size_t len, uint32_t *seq)
{
	if (len != TOPICDECL_ACK_LEN || memcmp(msg, td_ack_magic, sizeof td_ack_magic) != 0 ||
	    msg[5] != TOPICDECL_VERSION)
		return 0;
	*seq = td_u32(msg + 6);
	return 1;
}
