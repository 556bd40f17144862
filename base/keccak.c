/* keccak.c — Keccak-f[1600] with 64-bit lanes and the 256-bit sponge Ethereum uses.
 *
 * The round (theta, rho+pi, chi, iota) is written from the specification's index formulas, with
 * constant loops the compiler fully unrolls (see kec_f1600).
 * Lanes are little-endian: bytes are absorbed with explicit shifts so the code is endian-neutral.
 */
#include "base/keccak.h"

#include <string.h>

static const uint64_t kec_rc[24] = {
	0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
	0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
	0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
	0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
	0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
	0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* rho rotation offsets, indexed by lane x + 5y. */
static const unsigned kec_rho[25] = { 0,  1,  62, 28, 27, 36, 44, 6,  55, 20, 3,  10, 43,
	                              25, 39, 41, 45, 15, 21, 8,  18, 2,  61, 56, 14 };

/* n may be 0 (lane 0 is not rotated): the mask keeps the right shift defined. */
static inline uint64_t
kec_rol(uint64_t x, unsigned n)
{
	return (x << n) | (x >> ((64 - n) & 63));
}

/* Every loop has a constant trip count and every index is a compile-time constant once unrolled,
 * so the compiler turns the tables into immediate rotations and keeps the lanes in registers:
 * readable like the specification, within a small factor of hand-scheduled code. */
void
kec_f1600(uint64_t s[25])
{
	uint64_t a[25], b[25], c[5], d[5];
	memcpy(a, s, sizeof a);
	for (int r = 0; r < 24; r++) {
#pragma GCC unroll 5
		for (int x = 0; x < 5; x++)
			c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
#pragma GCC unroll 5
		for (int x = 0; x < 5; x++)
			d[x] = c[(x + 4) % 5] ^ kec_rol(c[(x + 1) % 5], 1);
			/* theta, rho and pi together: lane (x,y) moves to (y, 2x+3y) */
#pragma GCC unroll 5
		for (int y = 0; y < 5; y++)
#pragma GCC unroll 5
			for (int x = 0; x < 5; x++)
				b[y + 5 * ((2 * x + 3 * y) % 5)] = kec_rol(a[x + 5 * y] ^ d[x], kec_rho[x + 5 * y]);
				/* chi */
#pragma GCC unroll 5
		for (int y = 0; y < 5; y++)
#pragma GCC unroll 5
			for (int x = 0; x < 5; x++)
				a[x + 5 * y] = b[x + 5 * y] ^ (~b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
		a[0] ^= kec_rc[r]; /* iota */
	}
	memcpy(s, a, sizeof a);
}

static void
kec_init_pad(kec_ctx *c, uint8_t pad)
{
	memset(c, 0, sizeof *c);
	c->pad = pad;
}

void
kec_init(kec_ctx *c)
{
	kec_init_pad(c, 0x01);
}

static inline uint64_t
kec_load64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	       (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

void
kec_update(kec_ctx *c, const void *data, size_t n)
{
	const uint8_t *p = data;
	/* Finish a partial block byte by byte. */
	while (n > 0 && c->pos != 0) {
		c->s[c->pos / 8] ^= (uint64_t)*p++ << (8 * (c->pos % 8));
		n--;
		if (++c->pos == KEC_RATE) {
			kec_f1600(c->s);
			c->pos = 0;
		}
	}
	/* Whole blocks, a lane at a time: the hot path for long inputs. */
	while (n >= KEC_RATE) {
		for (int i = 0; i < KEC_RATE / 8; i++)
			c->s[i] ^= kec_load64(p + 8 * i);
		kec_f1600(c->s);
		p += KEC_RATE;
		n -= KEC_RATE;
	}
	while (n > 0) {
		c->s[c->pos / 8] ^= (uint64_t)*p++ << (8 * (c->pos % 8));
		c->pos++;
		n--;
	}
}

void
kec_final(kec_ctx *c, uint8_t out[32])
{
	c->s[c->pos / 8] ^= (uint64_t)c->pad << (8 * (c->pos % 8));
	c->s[(KEC_RATE - 1) / 8] ^= (uint64_t)0x80 << (8 * ((KEC_RATE - 1) % 8));
	kec_f1600(c->s);
	for (int i = 0; i < 32; i++)
		out[i] = (uint8_t)(c->s[i / 8] >> (8 * (i % 8)));
	/* The state may have absorbed secrets (e.g. key material hashed by a caller). */
	explicit_bzero(c, sizeof *c);
}

void
kec_256(const void *data, size_t n, uint8_t out[32])
{
	kec_ctx c;
	kec_init(&c);
	kec_update(&c, data, n);
	kec_final(&c, out);
}

void
kec_sha3_256(const void *data, size_t n, uint8_t out[32])
{
	kec_ctx c;
	kec_init_pad(&c, 0x06);
	kec_update(&c, data, n);
	kec_final(&c, out);
}
