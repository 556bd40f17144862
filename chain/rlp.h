/* rlp.h — Ethereum Recursive Length Prefix: an encoder into a caller buffer and a strict decoder.
 *
 * Memory: no allocation anywhere. The encoder writes only into the caller's buffer; when it is too
 * small it keeps counting, so a first pass with (NULL, 0) yields the exact size needed. Decoded
 * items are BORROWED slices of the input: they are valid only while the caller keeps the input.
 *
 * The decoder accepts canonical RLP only (as Ethereum clients do for transactions): minimal length
 * prefixes, no single byte < 0x80 wrapped as a string, integers without leading zeros, nothing past
 * the end of the input or of the enclosing list, nesting depth at most RLP_MAX_DEPTH.
 */
#ifndef OB_CHAIN_RLP_H
#define OB_CHAIN_RLP_H

#include <stddef.h>
#include <stdint.h>

#include "base/u256.h"

#define RLP_MAX_DEPTH 32

enum {
	RLP_OK = 0,
	RLP_ETRUNC = -1,    /* an item's length runs past its input or enclosing list */
	RLP_ENONCANON = -2, /* a length encoded in a longer form than needed */
	RLP_ESINGLE = -3,   /* a single byte < 0x80 encoded as a one-byte string */
	RLP_ELEADZERO = -4, /* an integer with a leading zero byte */
	RLP_EDEPTH = -5,    /* lists nested deeper than RLP_MAX_DEPTH */
	RLP_ETRAILING = -6, /* bytes after the top-level item */
	RLP_ETYPE = -7,     /* a list where a string was expected or the reverse */
	RLP_EBIG = -8,      /* an integer or byte string larger than the destination */
	RLP_ESPACE = -9,    /* the encoder's buffer was too small */
};

/* ---- encoder ---- */
typedef struct {
	uint8_t *buf;
	size_t cap;
	size_t len; /* bytes produced so far (counted even past cap) */
} rlp_enc;

void rlp_enc_init(rlp_enc *e, uint8_t *buf, size_t cap);
void rlp_put_bytes(rlp_enc *e, const uint8_t *p, size_t n); /* a byte string */
void rlp_put_u64(rlp_enc *e, uint64_t v);                   /* minimal big-endian; 0 = "" */
void rlp_put_u256(rlp_enc *e, const u256 *v);
void rlp_put_raw(rlp_enc *e, const uint8_t *p, size_t n); /* an already encoded item */
size_t rlp_list_begin(rlp_enc *e);                        /* returns a mark for rlp_list_end */
void rlp_list_end(rlp_enc *e, size_t mark);
/* The prefix of a string (is_list 0) or list payload of payload_len bytes; returns its length
 * (1..9). For streaming an encoding elsewhere (e.g. straight into a hash). */
size_t rlp_encode_header(uint8_t h[9], int is_list, size_t payload_len);
/* RLP_OK with *len = encoded size, or RLP_ESPACE with *len = the size that was needed. */
int rlp_enc_finish(const rlp_enc *e, size_t *len);

/* ---- decoder ---- */
typedef struct {
	const uint8_t *p; /* payload (borrowed from the input) */
	size_t len;       /* payload length */
	size_t off;       /* offset of the item's first (prefix) byte in the top-level input */
	size_t size;      /* prefix + payload */
	int is_list;
} rlp_item;

/* Decodes and fully validates exactly one item spanning in[0..n). */
int rlp_decode(const uint8_t *in, size_t n, rlp_item *it, size_t *err_off);

/* Walks the items of a validated list. rlp_iter_next returns 1 with *it, 0 at the end, <0 on error
 * (errors only occur for lists that did not come from rlp_decode). */
typedef struct {
	const uint8_t *p;
	size_t n, pos, base;
} rlp_iter;
void rlp_iter_init(rlp_iter *i, const rlp_item *list);
int rlp_iter_next(rlp_iter *i, rlp_item *it, size_t *err_off);
/* Number of items in a validated list (0 for a string). */
size_t rlp_list_count(const rlp_item *list);

/* Typed views of a string item. */
int rlp_get_u64(const rlp_item *it, uint64_t *v);
int rlp_get_u256(const rlp_item *it, u256 *v);
int rlp_get_fixed(const rlp_item *it, uint8_t *out, size_t n); /* payload must be exactly n bytes */

const char *rlp_strerror(int err);

#endif
