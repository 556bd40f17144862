/* hmac.h - SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for signing the generic webhook.
 *
 * Small and self-contained on purpose: the build links no libcrypto, and the alerter needs one
 * MAC per delivery, not speed. Tested against the FIPS 180-2 examples and RFC 4231's vectors.
 * Memory: callers own every buffer; nothing is allocated. Contexts are wiped when finished. */
#ifndef ALERTER_HMAC_H
#define ALERTER_HMAC_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint32_t h[8];
	uint64_t len;     /* bytes hashed so far */
	uint8_t  buf[64];
	size_t   nbuf;
} hm_ctx;

void hm_sha256_init(hm_ctx *c);
void hm_sha256_update(hm_ctx *c, const void *data, size_t n);
void hm_sha256_final(hm_ctx *c, uint8_t out[32]);
void hm_sha256(const void *data, size_t n, uint8_t out[32]);

/* HMAC-SHA256 over the concatenation of parts (n parts), so "timestamp.body" needs no copy. */
void hm_hmac_sha256_v(const void *key, size_t klen, const void *const *parts, const size_t *lens,
                      size_t n, uint8_t out[32]);
void hm_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen, uint8_t out[32]);


#endif
