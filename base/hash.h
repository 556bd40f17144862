/* base/hash.h: SHA-256 and HMAC-SHA256 through OpenSSL's libcrypto (already linked through libcurl),
 * over one buffer or the concatenation of several parts (so "timestamp.body" or a domain-separated
 * key needs no copy).
 *
 * Used by the alerter (webhook signatures), its test double, and the tokenizer (payment key ids).
 * Memory: callers own every buffer; nothing is kept. Returns 0, or -1 when libcrypto fails (out of
 * memory); out is then zeroed. */
#ifndef OB_BASE_HASH_H
#define OB_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

int ob_sha256_v(const void *const *parts, const size_t *lens, size_t n, uint8_t out[32]);
int ob_sha256(const void *data, size_t n, uint8_t out[32]);
int ob_hmac_sha256_v(const void *key, size_t klen, const void *const *parts, const size_t *lens, size_t n,
                     uint8_t out[32]);
int ob_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen, uint8_t out[32]);

#endif
