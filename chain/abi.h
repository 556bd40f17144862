/* abi.h — Solidity ABI: signatures parsed into a type tree, selectors and event topics, call
 * encoding from values, and strict bounds-checked decoding of return data and event data.
 *
 * Memory: no allocation. An abi_sig is a caller-owned value (about 3 KiB) holding the whole type
 * tree; it has no pointers and may be copied or kept in static storage. Decoding writes a flat,
 * pre-order array of abi_val nodes into the caller's array; the payloads of bytes/string nodes are
 * BORROWED from the decoded input (valid while the caller keeps the input); word values are copied
 * into the node. Encoding reads such an array (built by the caller or by the decoder) and writes
 * into the caller's buffer.
 *
 * Pre-order layout: a tuple or array node is followed by its `count` children, each one a whole
 * subtree; `size` is the number of nodes in a subtree including its root, so abi_next() skips one.
 * An event's `data` with a single struct parameter S is the encoding of the 1-tuple (S): parse
 * "((...))" for it. Indexed parameters live in topics, not data.
 */
#ifndef OB_CHAIN_ABI_H
#define OB_CHAIN_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "base/u256.h"

#define ABI_MAX_TYPES 64   /* type-tree nodes per signature */
#define ABI_MAX_DEPTH 16   /* nesting of tuples and arrays */
#define ABI_MAX_CANON 1024 /* canonical signature length, NUL included */
#define ABI_NONE      0xffff

enum abi_kind {
	ABI_UINT = 1,
	ABI_INT,
	ABI_ADDRESS,
	ABI_BOOL,
	ABI_FBYTES, /* bytesN */
	ABI_BYTES,
	ABI_STRING,
	ABI_TUPLE,
	ABI_ARRAY,  /* T[] */
	ABI_FARRAY, /* T[k] */
};

typedef struct {
	uint8_t kind;    /* enum abi_kind */
	uint8_t dynamic; /* encoded through an offset */
	uint16_t bits;   /* uintN/intN: N; bytesN: N (bytes) */
	uint16_t first;  /* tuple: first component; arrays: element type */
	uint16_t next;   /* next component of the parent tuple, or ABI_NONE */
	uint16_t ncomp;  /* tuple: number of components */
	uint32_t alen;   /* T[k]: k */
	uint32_t ssize;  /* in-place size: static types' full size, 32 for dynamic ones */
} abi_type;

typedef struct {
	abi_type t[ABI_MAX_TYPES];
	uint16_t n;                /* nodes used */
	uint16_t root;             /* the parameter tuple */
	char canon[ABI_MAX_CANON]; /* canonical "name(type,...)" (or "(type,...)" without a name) */
	size_t canon_len;
	size_t name_len;     /* canon[0..name_len) is the function/event name */
	uint8_t selector[4]; /* keccak(canon)[0..4) */
	uint8_t topic0[32];  /* keccak(canon) */
} abi_sig;

typedef struct {
	uint16_t type; /* index into abi_sig.t */
	uint8_t kind;
	uint32_t count;   /* tuple/arrays: direct children */
	uint32_t size;    /* nodes in this subtree, itself included */
	const uint8_t *p; /* bytes/string: payload (borrowed) */
	size_t len;
	uint8_t word[32]; /* static scalar: the 32-byte word, big-endian, as encoded */
} abi_val;

enum {
	ABI_OK = 0,
	ABI_ESYNTAX = -1,   /* signature: unexpected character (offset in the signature) */
	ABI_ETYPE = -2,     /* signature: unknown type or bad size (uint7, bytes33, T[0], ...) */
	ABI_ETOOBIG = -3,   /* signature: too many nodes, too deep, or canonical form too long */
	ABI_ESHORT = -4,    /* data: read past the end (offset in the data) */
	ABI_EOFFSET = -5,   /* data: an offset or length out of range */
	ABI_EVALUE = -6,    /* data/value: a word out of range for its type (dirty padding, intN) */
	ABI_ESPACE = -7,    /* output array or buffer too small */
	ABI_ETRAILING = -8, /* data: bytes left over (only with abi_decode_exact) */
	ABI_EMISMATCH = -9, /* encode: the values do not follow the type tree */
};

/* Parses "name(t1,t2,...)" ("uint" and "int" are canonicalized to 256 bits; no spaces or names).
 * Also fills canon, selector and topic0. */
int abi_parse_sig(abi_sig *s, const char *sig, size_t *err_off);
/* Parses a bare type list "(t1,...)" or a single type "t" as the root tuple (no name). */
int abi_parse_types(abi_sig *s, const char *types, size_t *err_off);

/* 4-byte selector / 32-byte topic of any signature string (no parsing: the string must already
 * be canonical). */
void abi_selector(const char *canon, uint8_t sel[4]);
void abi_topic(const char *canon, uint8_t topic[32]);

/* Decodes data as the root tuple into out[0..cap); *nout = nodes written (out[0] is the root).
 * Trailing bytes past what the types reference are allowed (Solidity allows them). */
int abi_decode(const abi_sig *s, const uint8_t *data, size_t n, abi_val *out, size_t cap, size_t *nout,
               size_t *err_off);

/* Encodes vals (pre-order, vals[0] the root tuple) as the root tuple; with_selector prepends the
 * 4-byte selector (a call). Size query: out NULL / cap too small -> ABI_ESPACE, *len = needed. */
int abi_encode(const abi_sig *s, const abi_val *vals, size_t nvals, int with_selector, uint8_t *out, size_t cap,
               size_t *len);

/* Builders for encoding: they set kind/word/p/len/count/size of one node (type is ignored). */
void abi_v_uint(abi_val *v, const u256 *x); /* uintN, also intN from a two's complement u256 */
void abi_v_u64(abi_val *v, uint64_t x);
void abi_v_i64(abi_val *v, int64_t x);
void abi_v_address(abi_val *v, const uint8_t a[20]);
void abi_v_bool(abi_val *v, int b);
void abi_v_fbytes(abi_val *v, const uint8_t *b, size_t n);  /* bytesN: n <= 32, left-aligned */
void abi_v_bytes(abi_val *v, const uint8_t *b, size_t n);   /* bytes / string: borrowed */
void abi_v_list(abi_val *v, uint32_t count, uint32_t size); /* tuple / array header */

/* Accessors for decoded scalars. */
int abi_get_u256(const abi_val *v, u256 *x);    /* uintN, or intN as two's complement */
int abi_get_u64(const abi_val *v, uint64_t *x); /* ABI_EVALUE if it does not fit */
int abi_get_i64(const abi_val *v, int64_t *x);  /* intN only */
int abi_get_address(const abi_val *v, uint8_t a[20]);
int abi_get_bool(const abi_val *v, int *b);

/* Index of the node after the subtree at i; and the k-th child of a tuple/array node at i. */
size_t abi_next(const abi_val *vals, size_t i);
size_t abi_child(const abi_val *vals, size_t i, uint32_t k);

const char *abi_strerror(int err);

#endif
