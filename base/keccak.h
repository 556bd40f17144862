/* keccak.h — Keccak-256 as Ethereum uses it (original Keccak padding 0x01, not FIPS-202 SHA3-256).
 *
 * Memory: no allocation. A kec_ctx is a plain value the caller owns (stack or embedded); it holds no
 * pointers, so it may be copied to fork a running hash. Inputs are only read during the call.
 */
#ifndef OB_BASE_KECCAK_H
#define OB_BASE_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define KEC_RATE 136 /* bytes absorbed per permutation for a 256-bit capacity-512 sponge */

typedef struct {
	uint64_t s[25]; /* the 5x5 lane state, lane (x,y) at s[x + 5y] */
	size_t pos;     /* bytes absorbed into the current block */
	uint8_t pad;    /* domain/padding byte: 0x01 Keccak, 0x06 SHA3 */
} kec_ctx;

/* Incremental Keccak-256. */
void kec_init(kec_ctx *c);
void kec_update(kec_ctx *c, const void *data, size_t n);
void kec_final(kec_ctx *c, uint8_t out[32]); /* leaves c wiped */

/* One-shot Keccak-256 of n bytes. */
void kec_256(const void *data, size_t n, uint8_t out[32]);

/* FIPS-202 SHA3-256 (same permutation, padding 0x06): exists so tests can cross-check the
 * permutation against any SHA3 implementation (e.g. Python's hashlib), which lacks Keccak. */
void kec_sha3_256(const void *data, size_t n, uint8_t out[32]);

/* The raw Keccak-f[1600] permutation (24 rounds) on 25 lanes. */
void kec_f1600(uint64_t s[25]);

#endif
