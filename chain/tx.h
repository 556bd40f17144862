/* tx.h — Ethereum transactions: legacy (EIP-155, or unprotected), EIP-2930 (type 1) and EIP-1559
 * (type 2): signing hash, signing with libsecp256k1 (RFC 6979 nonces, low-s), raw encoding, strict
 * decoding that names the refused field and its byte offset, sender recovery, and the address of a
 * private key.
 *
 * Memory: no allocation. A tx is a plain value; `data` and `access_list` are BORROWED pointers the
 * caller keeps alive (after tx_decode they point into the raw input). Private keys are only ever
 * taken as `const uint8_t[32]` owned by the caller; this module keeps no copy and never prints one.
 * One secp256k1 context, created and randomized on first use (thread-safe), lives for the process.
 */
#ifndef OB_CHAIN_TX_H
#define OB_CHAIN_TX_H

#include <stddef.h>
#include <stdint.h>

#include "base/u256.h"

enum {
	TX_LEGACY = 0,
	TX_EIP2930 = 1,
	TX_EIP1559 = 2
};

typedef struct {
	int type;          /* TX_LEGACY, TX_EIP2930 or TX_EIP1559 */
	uint64_t chain_id; /* legacy: 0 = unprotected (pre-EIP-155, v = 27/28) */
	uint64_t nonce;
	u256 gas_price;        /* legacy and type 1; zero is valid (Besu free-gas networks) */
	u256 max_priority_fee; /* type 2 only */
	u256 max_fee;          /* type 2 only */
	uint64_t gas_limit;
	int has_to; /* 0 = contract creation */
	uint8_t to[20];
	u256 value;
	const uint8_t *data; /* borrowed */
	size_t data_len;
	const uint8_t *access_list; /* types 1, 2: borrowed RLP of the access list; NULL = empty list */
	size_t access_list_len;
	/* signature: set by tx_sign or tx_decode */
	int is_signed;
	uint8_t y_parity; /* 0/1 (legacy v is derived from it and chain_id) */
	uint8_t r[32], s[32];
} tx;

enum {
	TX_OK = 0,
	TX_ERLP = -1,      /* raw bytes are not canonical RLP (offset given) */
	TX_ETYPE = -2,     /* unknown transaction type byte */
	TX_EFIELDS = -3,   /* wrong number of fields, or a list where a value belongs */
	TX_EFIELD = -4,    /* a field out of range (integer too long, leading zero, bad `to` length) */
	TX_EV = -5,        /* legacy v is neither 27/28 nor chain_id*2+35/36, or y_parity not 0/1 */
	TX_ESIG = -6,      /* r or s zero or >= n, or s > n/2 (EIP-2) */
	TX_ESPACE = -7,    /* output buffer too small */
	TX_EKEY = -8,      /* the private key is zero or >= n */
	TX_ECHAIN = -9,    /* chain id too large for a legacy v */
	TX_ERECOVER = -10, /* no public key recovers from the signature */
	TX_EUNSIGNED = -11,
	TX_ECTX = -12,    /* secp256k1 context could not be created */
	TX_EACCESS = -13, /* malformed access list */
};

/* The hash that is signed (legacy EIP-155: 9 fields with chain_id,0,0; pre-155: 6 fields;
 * type 1: 0x01 || rlp(8); type 2: 0x02 || rlp(9)). */
int tx_signing_hash(const tx *t, uint8_t h[32]);
/* The bytes tx_signing_hash hashes, into out: the unsigned transaction exactly as it is signed, so
 * two transactions with the same payload take the same signature (the signer's memo compares these
 * instead of hashing again). TX_ESPACE sets *len to the size needed. */
int tx_signing_payload(const tx *t, uint8_t *out, size_t cap, size_t *len);

/* Signs t with key: sets r, s, y_parity, is_signed. The key is not retained. */
int tx_sign(tx *t, const uint8_t key[32]);
/* The same, also giving the signing hash it signed (one keccak less for a caller that keeps it). */
int tx_sign_hash_out(tx *t, const uint8_t key[32], uint8_t h[32]);
/* Signs t given its signing hash h (the caller's keccak of tx_signing_payload: a wrong h gives a
 * signature for another transaction). The key is not retained. */
int tx_sign_digest(tx *t, const uint8_t key[32], const uint8_t h[32]);

/* Signed raw transaction bytes (what eth_sendRawTransaction takes). TX_ESPACE sets *len to the
 * size needed; out may be NULL with cap 0 for a size query. */
int tx_encode(const tx *t, uint8_t *out, size_t cap, size_t *len);

/* Transaction hash = keccak256(raw). */
void tx_hash(const uint8_t *raw, size_t n, uint8_t h[32]);

/* Strict decoder of a signed raw tx (legacy, type 1 or type 2); t->data/access_list borrow raw.
 * On error *err_off (if non-NULL) is the byte offset in raw of the refused item. */
int tx_decode(const uint8_t *raw, size_t n, tx *t, size_t *err_off);

/* Why tx_decode_at refused its input, for messages an operator can act on. */
typedef struct {
	size_t off;        /* byte offset in raw of the refused item (the first byte of its prefix) */
	const char *field; /* static name of the refused field ("nonce", "r", "accessList", ...) as in
                        * tx_field_name; NULL when no single field is at fault (type, RLP, count) */
	const char *why;   /* with field: static text saying what is wrong with it ("integer with a
                        * leading zero byte", "above n/2 (EIP-2: high s is malleable)", ...) */
	int rlp_err;       /* TX_ERLP: the rlp.h code saying what is wrong with the RLP; else 0 */
	size_t got, want;  /* TX_EFIELDS on the list: fields found and fields this type has */
} tx_derr;

/* tx_decode with the reason; e may be NULL. */
int tx_decode_at(const uint8_t *raw, size_t n, tx *t, tx_derr *e);

/* JSON-RPC style names of the fields of a raw tx of this type, in order ("chainId", "nonce",
 * "gasPrice" | "maxPriorityFeePerGas", "maxFeePerGas", "gasLimit", "to", "value", "data",
 * "accessList", "v" | "yParity", "r", "s"); NULL past the end or for an unknown type. */
const char *tx_field_name(int type, size_t i);

/* Legacy v as it appears on the wire: 27/28 unprotected, chain_id*2+35+y_parity under EIP-155.
 * Returns TX_ECHAIN when that does not fit 64 bits. Typed txs carry y_parity instead. */
int tx_legacy_v(const tx *t, uint64_t *v);

/* Counts the access list of a decoded (or well-formed) tx: entries (addresses) and storage keys
 * over all entries. Zero for legacy txs and for an empty or absent list; TX_EACCESS if malformed. */
int tx_access_count(const tx *t, size_t *addresses, size_t *keys);

/* Sender address of a signed tx, by public key recovery. */
int tx_recover_sender(const tx *t, uint8_t addr[20]);

/* Address of a private key: last 20 bytes of keccak256 of the 64-byte uncompressed public key. */
int tx_address_from_key(const uint8_t key[32], uint8_t addr[20]);

const char *tx_strerror(int err);

#endif
