/*
 * keystore.h - reads an encrypted Ethereum key: the Web3 Secret Storage v3 JSON keystore that geth,
 * Besu, Foundry (`cast wallet new`) and ethers.js (`Wallet.encrypt`) write.
 *
 * Format: {"version":3, "crypto" (or geth's older "Crypto"): {"cipher":"aes-128-ctr",
 * "cipherparams":{"iv"}, "ciphertext", "kdf":"scrypt"|"pbkdf2", "kdfparams":{...}, "mac"},
 * "address"?, "id"?}. The derived key (32 bytes) comes from scrypt (n, r, p, salt) or
 * PBKDF2-HMAC-SHA256 (c, salt); the MAC is keccak256(derivedKey[16:32] || ciphertext); the
 * private key is AES-128-CTR(derivedKey[0:16], iv) of the ciphertext. OpenSSL libcrypto does the
 * KDFs and AES, base/keccak.h the MAC, jansson the JSON.
 *
 * Parameters are checked before any work: a keystore asking for a KDF cheaper than ks_limits'
 * minimum (a weak file, maybe planted) or dearer than its maximum (an absurd one that would take
 * gigabytes or minutes) is refused with the parameter named. The MAC is compared in constant time
 * before anything is decrypted. A wrong password and an altered file both fail the MAC: the two
 * cannot be told apart, and the error says so.
 *
 * Memory: no allocation survives a call. The password is BORROWED; the private key is written only
 * into the caller's buffer (which should be rt_secret_alloc memory); the derived key and every
 * intermediate copy are wiped before return, on every path. Error texts never contain key material,
 * the password or the ciphertext.
 */
#ifndef OB_CHAIN_KEYSTORE_H
#define OB_CHAIN_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum {
	KS_OK = 0,
	KS_EFORMAT = OB_EKS_FORMAT, /* not a v3 keystore: JSON, missing/odd field, wrong length */
	KS_EPARAMS = OB_EKS_PARAMS, /* KDF parameters outside ks_limits (weak or absurd) */
	KS_EMAC = OB_EKS_MAC,       /* MAC mismatch: wrong password or altered file */
	KS_EKEY = OB_EKS_KEY,       /* decrypted, but not a valid secp256k1 key */
	KS_EADDR = OB_EKS_ADDR,     /* the file's "address" is not the key's address */
	KS_ECRYPTO = OB_EKS_CRYPTO, /* libcrypto failed (out of memory) */
};

typedef struct {
	uint64_t scrypt_n_min, scrypt_n_max; /* n: a power of two in [min, max]; default 2^10 .. 2^20 */
	uint32_t scrypt_r_max, scrypt_p_max; /* default 32, 16 */
	uint64_t scrypt_mem_max;             /* bytes scrypt may use (128 * r * n); default 1 GiB */
	uint32_t pbkdf2_c_min, pbkdf2_c_max; /* default 2^13 .. 2^24 */
	size_t json_max;                     /* default 64 KiB */
} ks_limits;

#define KS_JSON_MAX_DEFAULT 65536

void ks_limits_default(ks_limits *l);

/* Decrypts the keystore json[0..len) with password pw[0..pwlen) (the bytes as given: no
 * normalisation). KS_OK with key (32 bytes) and addr (the key's address; may be NULL) set, else a
 * KS_* code with err saying what and which field; key is then zeroed. lim NULL = defaults. */
int ks_decrypt(const char *json, size_t len, const uint8_t *pw, size_t pwlen, const ks_limits *lim, uint8_t key[32],
               uint8_t addr[20], char *err, size_t errlen);

/* Reads a password file: the first line, without its line end (as geth's --password). The file
 * must be a regular file of mode 0600 or stricter. pw is caller memory of cap bytes (rt_secret_alloc);
 * *pwlen set. 0, or -1 with err (never the content). */
int ks_read_password_file(const char *path, uint8_t *pw, size_t cap, size_t *pwlen, char *err, size_t errlen);

const char *ks_strerror(int code);

#endif
