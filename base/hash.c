/* hash.c: SHA-256 and HMAC-SHA256 on libcrypto's EVP interfaces (see hash.h). */
#include "base/hash.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <string.h>

int
ob_sha256_v(const void *const *parts, const size_t *lens, size_t n, uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int len = 0;
	int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1;
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(c, parts[i], lens[i]) == 1;
	ok = ok && EVP_DigestFinal_ex(c, out, &len) == 1 && len == 32;
	EVP_MD_CTX_free(c);
	if (!ok)
		memset(out, 0, 32);
	return ok ? 0 : -1;
}

int
ob_sha256(const void *data, size_t n, uint8_t out[32])
{
	const void *parts[1] = { data };
	return ob_sha256_v(parts, &n, 1, out);
}

int
ob_hmac_sha256_v(const void *key, size_t klen, const void *const *parts, const size_t *lens, size_t n, uint8_t out[32])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		                OSSL_PARAM_construct_end() };
	static const uint8_t none = 0;
	size_t len = 0;
	int ok = c && EVP_MAC_init(c, klen ? key : &none, klen, params) == 1;
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_MAC_update(c, parts[i], lens[i]) == 1;
	ok = ok && EVP_MAC_final(c, out, &len, 32) == 1 && len == 32;
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(mac);
	if (!ok)
		memset(out, 0, 32);
	return ok ? 0 : -1;
}

int
ob_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen, uint8_t out[32])
{
	const void *parts[1] = { msg };
	return ob_hmac_sha256_v(key, klen, parts, &mlen, 1, out);
}
