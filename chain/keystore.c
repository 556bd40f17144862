/*
 * keystore.c - Web3 Secret Storage v3 (see keystore.h): parameters checked first, the KDF by
 * OpenSSL, the MAC compared in constant time, then AES-128-CTR into the caller's buffer.
 */
#include "chain/keystore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base/hex.h"
#include "base/keccak.h"
#include "chain/tx.h"

#define KS_SALT_MIN 16 /* bytes: geth, Besu and ethers all write 32 */
#define KS_SALT_MAX 64
#define KS_CT_LEN   32 /* a secp256k1 key */

void
ks_limits_default(ks_limits *l)
{
	l->scrypt_n_min = 1u << 10;
	l->scrypt_n_max = 1u << 20;
	l->scrypt_r_max = 32;
	l->scrypt_p_max = 16;
	l->scrypt_mem_max = 1ull << 30;
	l->pbkdf2_c_min = 1u << 13;
	l->pbkdf2_c_max = 1u << 24;
	l->json_max = KS_JSON_MAX_DEFAULT;
}

static int ks_fail(int code, char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int
ks_fail(int code, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

/* A hex string member of exactly n bytes (or, when max > n, n..max bytes); "0x" tolerated. */
static int
ks_hex(const json_t *obj, const char *name, uint8_t *out, size_t n, size_t max, size_t *got, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, name);
	size_t len;
	if (!json_is_string(v))
		return ks_fail(KS_EFORMAT, err, errlen, "keystore: %s missing or not a string", name);
	const char *s = json_string_value(v);
	size_t sl = json_string_length(v);
	if (hex_decode(s, sl, HEX_PREFIX_OPTIONAL, out, max, &len, NULL) != HEX_OK || len < n)
		return ks_fail(KS_EFORMAT, err, errlen, "keystore: %s must be %zu%s bytes of hex", name, n,
		               max > n ? " or more" : "");
	if (max == n && len != n)
		return ks_fail(KS_EFORMAT, err, errlen, "keystore: %s must be %zu bytes of hex", name, n);
	if (got)
		*got = len;
	return KS_OK;
}

/* A non-negative integer member. */
static int
ks_uint(const json_t *obj, const char *name, uint64_t *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, name);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return ks_fail(KS_EFORMAT, err, errlen, "keystore: kdfparams.%s missing or not a non-negative integer",
		               name);
	*out = (uint64_t)json_integer_value(v);
	return KS_OK;
}

/* The derived key from the "kdf" and "kdfparams" of crypto, after checking them against lim. */
static int
ks_derive(const json_t *crypto, const uint8_t *pw, size_t pwlen, const ks_limits *lim, uint8_t dk[32], char *err,
          size_t errlen)
{
	const json_t *kdf = json_object_get(crypto, "kdf"), *kp = json_object_get(crypto, "kdfparams");
	uint8_t salt[KS_SALT_MAX];
	size_t saltlen;
	uint64_t dklen;
	int rv;

	if (!json_is_string(kdf))
		return ks_fail(KS_EFORMAT, err, errlen, "keystore: crypto.kdf missing");
	if (!json_is_object(kp))
		return ks_fail(KS_EFORMAT, err, errlen, "keystore: crypto.kdfparams missing or not an object");
	if ((rv = ks_uint(kp, "dklen", &dklen, err, errlen)) != KS_OK)
		return rv;
	if (dklen != 32)
		return ks_fail(KS_EPARAMS, err, errlen, "keystore: kdfparams.dklen %llu, must be 32",
		               (unsigned long long)dklen);
	if ((rv = ks_hex(kp, "salt", salt, KS_SALT_MIN, KS_SALT_MAX, &saltlen, err, errlen)) != KS_OK)
		return rv == KS_EFORMAT ? ks_fail(KS_EFORMAT, err, errlen,
		                                  "keystore: kdfparams.salt must be %d..%d "
		                                  "bytes of hex",
		                                  KS_SALT_MIN, KS_SALT_MAX)
		                        : rv;
	const char *name = json_string_value(kdf);
	if (strcmp(name, "scrypt") == 0) {
		uint64_t n, r, p;
		if ((rv = ks_uint(kp, "n", &n, err, errlen)) != KS_OK ||
		    (rv = ks_uint(kp, "r", &r, err, errlen)) != KS_OK ||
		    (rv = ks_uint(kp, "p", &p, err, errlen)) != KS_OK)
			return rv;
		if (n < 2 || (n & (n - 1)) != 0)
			return ks_fail(KS_EPARAMS, err, errlen, "keystore: scrypt n %llu is not a power of two",
			               (unsigned long long)n);
		if (n < lim->scrypt_n_min)
			return ks_fail(KS_EPARAMS, err, errlen,
			               "keystore: scrypt n %llu is below %llu: too weak (re-encrypt "
			               "the key with stronger parameters)",
			               (unsigned long long)n, (unsigned long long)lim->scrypt_n_min);
		if (n > lim->scrypt_n_max)
			return ks_fail(KS_EPARAMS, err, errlen, "keystore: scrypt n %llu is above %llu",
			               (unsigned long long)n, (unsigned long long)lim->scrypt_n_max);
		if (r < 1 || r > lim->scrypt_r_max)
			return ks_fail(KS_EPARAMS, err, errlen, "keystore: scrypt r %llu is outside 1..%u",
			               (unsigned long long)r, lim->scrypt_r_max);
		if (p < 1 || p > lim->scrypt_p_max)
			return ks_fail(KS_EPARAMS, err, errlen, "keystore: scrypt p %llu is outside 1..%u",
			               (unsigned long long)p, lim->scrypt_p_max);
		/* RFC 7914 requires n < 2^(128 * r / 8). OpenSSL and ethers.js refuse such files, and so do
		 * we, with the reason (the Web3 Secret Storage page's own scrypt example, r = 1 and
		 * n = 2^18, is one; geth's Go scrypt does not check it). */
		if (16 * r < 64 && n >= (1ull << (16 * r)))
			return ks_fail(
			        KS_EPARAMS, err, errlen,
			        "keystore: scrypt n %llu is not below 2^(16*r) = %llu with r "
			        "%llu (RFC 7914; OpenSSL and ethers.js refuse it too): re-encrypt the key with r = 8",
			        (unsigned long long)n, 1ull << (16 * r), (unsigned long long)r);
		/* scrypt's V array is 128*r*n bytes, plus 128*r*p for B and 256*r for XY. */
		uint64_t mem = 128 * r * n + 128 * r * p + 256 * r;
		if (mem > lim->scrypt_mem_max)
			return ks_fail(KS_EPARAMS, err, errlen,
			               "keystore: scrypt n %llu, r %llu would use %llu MiB, above "
			               "%llu MiB",
			               (unsigned long long)n, (unsigned long long)r, (unsigned long long)(mem >> 20),
			               (unsigned long long)(lim->scrypt_mem_max >> 20));
		if (EVP_PBE_scrypt((const char *)pw, pwlen, salt, saltlen, n, r, p, mem + 65536, dk, 32) != 1)
			return ks_fail(KS_ECRYPTO, err, errlen, "keystore: scrypt failed (out of memory?)");
		return KS_OK;
	}
	if (strcmp(name, "pbkdf2") == 0) {
		const json_t *prf = json_object_get(kp, "prf");
		uint64_t c;
		if (!json_is_string(prf) || strcmp(json_string_value(prf), "hmac-sha256") != 0)
			return ks_fail(KS_EPARAMS, err, errlen, "keystore: kdfparams.prf must be hmac-sha256");
		if ((rv = ks_uint(kp, "c", &c, err, errlen)) != KS_OK)
			return rv;
		if (c < lim->pbkdf2_c_min || c > lim->pbkdf2_c_max)
			return ks_fail(KS_EPARAMS, err, errlen, "keystore: pbkdf2 c %llu is outside %u..%u%s",
			               (unsigned long long)c, lim->pbkdf2_c_min, lim->pbkdf2_c_max,
			               c < lim->pbkdf2_c_min ? ": too weak" : "");
		if (PKCS5_PBKDF2_HMAC((const char *)pw, (int)pwlen, salt, (int)saltlen, (int)c, EVP_sha256(), 32, dk) !=
		    1)
			return ks_fail(KS_ECRYPTO, err, errlen, "keystore: pbkdf2 failed");
		return KS_OK;
	}
	return ks_fail(KS_EPARAMS, err, errlen, "keystore: kdf '%.20s' is neither scrypt nor pbkdf2", name);
}

/* AES-128-CTR of ct into key. */
static int
ks_aes_ctr(const uint8_t k[16], const uint8_t iv[16], const uint8_t ct[KS_CT_LEN], uint8_t key[32])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0, ok;
	if (c == NULL)
		return -1;
	ok = EVP_DecryptInit_ex(c, EVP_aes_128_ctr(), NULL, k, iv) == 1 &&
	     EVP_DecryptUpdate(c, key, &n1, ct, KS_CT_LEN) == 1 && EVP_DecryptFinal_ex(c, key + n1, &n2) == 1 &&
	     n1 + n2 == KS_CT_LEN;
	EVP_CIPHER_CTX_free(c); /* cleanses its key schedule */
	return ok ? 0 : -1;
}

static int
ks_decrypt_json(const json_t *root, const uint8_t *pw, size_t pwlen, const ks_limits *lim, uint8_t key[32],
                uint8_t addr[20], uint8_t dk[32], char *err, size_t errlen)
{
	const json_t *ver = json_object_get(root, "version");
	const json_t *c1 = json_object_get(root, "crypto"), *c2 = json_object_get(root, "Crypto");
	uint8_t iv[16], ct[KS_CT_LEN], mac[32], want[32], fileaddr[20], a[20];
	int rv;

	if (!json_is_integer(ver) || json_integer_value(ver) != 3)
		return ks_fail(KS_EFORMAT, err, errlen, "keystore: version must be 3");
	if ((c1 != NULL) == (c2 != NULL))
		return ks_fail(KS_EFORMAT, err, errlen, "keystore: needs one crypto (or Crypto) object");
	const json_t *crypto = c1 ? c1 : c2;
	if (!json_is_object(crypto))
		return ks_fail(KS_EFORMAT, err, errlen, "keystore: crypto is not an object");
	const json_t *cipher = json_object_get(crypto, "cipher"), *cp = json_object_get(crypto, "cipherparams");
	if (!json_is_string(cipher) || strcmp(json_string_value(cipher), "aes-128-ctr") != 0)
		return ks_fail(KS_EFORMAT, err, errlen, "keystore: crypto.cipher must be aes-128-ctr");
	if (!json_is_object(cp))
		return ks_fail(KS_EFORMAT, err, errlen, "keystore: crypto.cipherparams missing");
	if ((rv = ks_hex(cp, "iv", iv, 16, 16, NULL, err, errlen)) != KS_OK ||
	    (rv = ks_hex(crypto, "ciphertext", ct, KS_CT_LEN, KS_CT_LEN, NULL, err, errlen)) != KS_OK ||
	    (rv = ks_hex(crypto, "mac", mac, 32, 32, NULL, err, errlen)) != KS_OK)
		return rv;
	const json_t *ja = json_object_get(root, "address");
	if (ja != NULL && (rv = ks_hex(root, "address", fileaddr, 20, 20, NULL, err, errlen)) != KS_OK)
		return rv;
	if ((rv = ks_derive(crypto, pw, pwlen, lim, dk, err, errlen)) != KS_OK)
		return rv;
	kec_ctx k;
	kec_init(&k);
	kec_update(&k, dk + 16, 16);
	kec_update(&k, ct, sizeof ct);
	kec_final(&k, want);
	if (CRYPTO_memcmp(want, mac, 32) != 0)
		return ks_fail(KS_EMAC, err, errlen, "keystore: MAC mismatch: wrong password, or the file was altered");
	if (ks_aes_ctr(dk, iv, ct, key) != 0)
		return ks_fail(KS_ECRYPTO, err, errlen, "keystore: AES-128-CTR failed");
	if (tx_address_from_key(key, a) != TX_OK)
		return ks_fail(KS_EKEY, err, errlen, "keystore: the decrypted key is not a valid secp256k1 key");
	if (ja != NULL && memcmp(a, fileaddr, 20) != 0) {
		char got[43];
		hex_addr_format(a, got);
		return ks_fail(KS_EADDR, err, errlen, "keystore: its address field is not the address of its key (%s)",
		               got);
	}
	if (addr)
		memcpy(addr, a, 20);
	return KS_OK;
}

int
ks_decrypt(const char *json, size_t len, const uint8_t *pw, size_t pwlen, const ks_limits *lim, uint8_t key[32],
           uint8_t addr[20], char *err, size_t errlen)
{
	ks_limits dl;
	json_error_t je;
	uint8_t dk[32];
	int rv;

	if (lim == NULL) {
		ks_limits_default(&dl);
		lim = &dl;
	}
	if (errlen)
		err[0] = 0;
	memset(key, 0, 32);
	if (len > lim->json_max)
		return ks_fail(KS_EFORMAT, err, errlen, "keystore: %zu bytes, more than %zu", len, lim->json_max);
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return ks_fail(KS_EFORMAT, err, errlen, "keystore: not JSON (line %d: %.80s)", je.line, je.text);
	if (!json_is_object(root))
		rv = ks_fail(KS_EFORMAT, err, errlen, "keystore: not a JSON object");
	else
		rv = ks_decrypt_json(root, pw, pwlen, lim, key, addr, dk, err, errlen);
	json_decref(root);
	OPENSSL_cleanse(dk, sizeof dk);
	if (rv != KS_OK)
		OPENSSL_cleanse(key, 32);
	return rv;
}

int
ks_read_password_file(const char *path, uint8_t *pw, size_t cap, size_t *pwlen, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rv = -1;
	ssize_t n;

	*pwlen = 0;
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: mode %03o; it must be a regular file of mode 0600 or stricter (chmod 600)",
		         path, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	if (cap < 2 || (n = read(fd, pw, cap)) < 0) {
		snprintf(err, errlen, "%s: %s", path, cap < 2 ? "no room" : strerror(errno));
		goto out;
	}
	if ((size_t)n == cap) {
		snprintf(err, errlen, "%s: longer than %zu bytes", path, cap - 1);
		goto out;
	}
	size_t l = 0;
	while (l < (size_t)n && pw[l] != '\n' && pw[l] != '\r')
		l++;
	OPENSSL_cleanse(pw + l, cap - l); /* the line end and anything after the first line */
	*pwlen = l;
	rv = 0;
out:
	if (rv != 0)
		OPENSSL_cleanse(pw, cap);
	if (fd >= 0)
		close(fd);
	return rv;
}

const char *
ks_strerror(int code)
{
	return ob_strerror(code);
}
