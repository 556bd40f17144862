/* keccak.c — Keccak-f[1600] with 64-bit lanes and the 256-bit sponge Ethereum uses.
 *
 * Straightforward round structure (theta, rho+pi, chi, iota) with the rho offsets and pi
 * permutation unrolled through tables; the compiler keeps the 25 lanes in registers well enough
 * for hundreds of MB/s, which is far beyond what transaction signing or log decoding need.
 * Lanes are little-endian: bytes are absorbed with explicit shifts so the code is endian-neutral.
 */
#include "chain/keccak.h"

#include <string.h>

static const uint64_t kec_rc[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* rho rotation and pi destination, following lane 1 around the single 24-cycle of pi. */
static const unsigned kec_rotc[24] = {1,  3,  6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
                                      27, 41, 56, 8,  25, 43, 62, 18, 39, 61, 20, 44};
static const unsigned kec_piln[24] = {10, 7,  11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
                                      15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1};

static inline uint64_t kec_rol(uint64_t x, unsigned n) { return (x << n) | (x >> (64 - n)); }

void kec_f1600(uint64_t s[25])
{
    uint64_t bc[5], t;
    for (int r = 0; r < 24; r++) {
        for (int i = 0; i < 5; i++)
            bc[i] = s[i] ^ s[i + 5] ^ s[i + 10] ^ s[i + 15] ^ s[i + 20];
        for (int i = 0; i < 5; i++) {
            t = bc[(i + 4) % 5] ^ kec_rol(bc[(i + 1) % 5], 1);
            for (int j = 0; j < 25; j += 5)
                s[j + i] ^= t;
        }
        t = s[1];
        for (int i = 0; i < 24; i++) {
            unsigned j = kec_piln[i];
            uint64_t u = s[j];
            s[j] = kec_rol(t, kec_rotc[i]);
            t = u;
        }
        for (int j = 0; j < 25; j += 5) {
            for (int i = 0; i < 5; i++)
                bc[i] = s[j + i];
            for (int i = 0; i < 5; i++)
                s[j + i] ^= (~bc[(i + 1) % 5]) & bc[(i + 2) % 5];
        }
        s[0] ^= kec_rc[r];
    }
}

static void kec_init_pad(kec_ctx *c, uint8_t pad)
{
    memset(c, 0, sizeof *c);
    c->pad = pad;
}

void kec_init(kec_ctx *c) { kec_init_pad(c, 0x01); }

static inline uint64_t kec_load64(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

void kec_update(kec_ctx *c, const void *data, size_t n)
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

void kec_final(kec_ctx *c, uint8_t out[32])
{
    c->s[c->pos / 8] ^= (uint64_t)c->pad << (8 * (c->pos % 8));
    c->s[(KEC_RATE - 1) / 8] ^= (uint64_t)0x80 << (8 * ((KEC_RATE - 1) % 8));
    kec_f1600(c->s);
    for (int i = 0; i < 32; i++)
        out[i] = (uint8_t)(c->s[i / 8] >> (8 * (i % 8)));
    /* The state may have absorbed secrets (e.g. key material hashed by a caller). */
    explicit_bzero(c, sizeof *c);
}

void kec_256(const void *data, size_t n, uint8_t out[32])
{
    kec_ctx c;
    kec_init(&c);
    kec_update(&c, data, n);
    kec_final(&c, out);
}

void kec_sha3_256(const void *data, size_t n, uint8_t out[32])
{
    kec_ctx c;
    kec_init_pad(&c, 0x06);
    kec_update(&c, data, n);
    kec_final(&c, out);
}
