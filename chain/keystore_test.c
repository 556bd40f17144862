/* keystore_test.c - the v3 keystore reader against keystores of three other implementations:
 * the Web3 Secret Storage page's two examples (password "testpassword"; its pbkdf2 one decrypts,
 * its scrypt one breaks RFC 7914 and is refused by name, as OpenSSL and ethers.js refuse it), files
 * written by ethers.js 6.15 (tests/chain/keystore.js: Wallet.encrypt, scrypt n = 2^17, and n = 2^10)
 * and by Foundry's `cast wallet new` (scrypt n = 2^13); then wrong passwords, altered files, weak and
 * absurd parameters, wrong lengths and password files.
 * Test data is read from chain/testdata under the working directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/hex.h"
#include "chain/keystore.h"

static char *
kt_read(const char *name, size_t *len)
{
	char path[256];
	snprintf(path, sizeof path, "chain/testdata/%s", name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = calloc(1, 1 << 16);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	return buf;
}

/* Decrypts a file; returns the code, the key in hex and the address in EIP-55. */
static int
kt_decrypt(const char *json, size_t len, const char *pw, char keyhex[65], char addr[43], char *err, size_t el)
{
	uint8_t key[32], a[20];
	memset(a, 0, sizeof a);
	int rv = ks_decrypt(json, len, (const uint8_t *)pw, strlen(pw), NULL, key, a, err, el);
	hex_encode(key, 32, 0, keyhex);
	hex_addr_format(a, addr);
	return rv;
}

static int
kt_file(const char *name, const char *pw, char keyhex[65], char addr[43], char *err, size_t el)
{
	size_t len;
	char *json = kt_read(name, &len);
	int rv = kt_decrypt(json, len, pw, keyhex, addr, err, el);
	free(json);
	return rv;
}

static void
test_spec_pbkdf2(void **st)
{
	char key[65], addr[43], err[300];
	assert_int_equal(kt_file("ks_spec_pbkdf2.json", "testpassword", key, addr, err, sizeof err), KS_OK);
	assert_string_equal(key, "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d");
	/* ethers.js decryptKeystoreJsonSync gives the same key and this address */
	assert_string_equal(addr, "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b");
}

static void
test_spec_scrypt_refused(void **st)
{
	char key[65], addr[43], err[300];
	assert_int_equal(kt_file("ks_spec_scrypt.json", "testpassword", key, addr, err, sizeof err), KS_EPARAMS);
	assert_non_null(strstr(err, "RFC 7914"));
	assert_non_null(strstr(err, "r = 8"));
	assert_string_equal(key, "0000000000000000000000000000000000000000000000000000000000000000");
}

static void
test_ethers(void **st)
{
	char key[65], addr[43], err[300];
	/* node tests/chain/keystore.js 4c0883a6...2318 'pässword 1' (NFC UTF-8, as ethers normalises) */
	assert_int_equal(kt_file("ks_ethers_scrypt.json", "p\xc3\xa4ssword 1", key, addr, err, sizeof err), KS_OK);
	assert_string_equal(key, "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
	assert_string_equal(addr, "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23");
	assert_int_equal(kt_file("ks_ethers_n1024.json", "pw", key, addr, err, sizeof err), KS_OK);
	assert_string_equal(addr, "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23");
}

static void
test_cast(void **st)
{
	char key[65], addr[43], err[300];
	assert_int_equal(kt_file("ks_cast_scrypt.json", "cast pw", key, addr, err, sizeof err), KS_OK);
	assert_string_equal(addr, "0x3fce20f0082b721D76b663363A2c8B9245eb3EC1"); /* as cast printed it */
}

static void
test_wrong_password(void **st)
{
	char key[65], addr[43], err[300];
	assert_int_equal(kt_file("ks_ethers_n1024.json", "pW", key, addr, err, sizeof err), KS_EMAC);
	assert_non_null(strstr(err, "wrong password"));
	assert_string_equal(key, "0000000000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(kt_file("ks_spec_pbkdf2.json", "", key, addr, err, sizeof err), KS_EMAC);
}

/* Replaces the first occurrence of from (which must exist) by to, in place (same length or shorter). */
static char *
kt_edit(const char *name, const char *from, const char *to, size_t *len)
{
	char *json = kt_read(name, len);
	char *p = strstr(json, from);
	assert_non_null(p);
	size_t fl = strlen(from), tl = strlen(to);
	memmove(p + tl, p + fl, strlen(p + fl) + 1);
	memcpy(p, to, tl);
	*len = strlen(json);
	return json;
}

static void
kt_expect(const char *name, const char *from, const char *to, const char *pw, int code, const char *text)
{
	char key[65], addr[43], err[300];
	size_t len;
	char *json = kt_edit(name, from, to, &len);
	int rv = kt_decrypt(json, len, pw, key, addr, err, sizeof err);
	free(json);
	if (rv != code || strstr(err, text) == NULL)
		fail_msg("%s: %s -> %s: got %d '%s', want %d '%s'", name, from, to, rv, err, code, text);
	if (code != KS_OK) /* nothing of a refused file's key is left behind */
		assert_string_equal(key, "0000000000000000000000000000000000000000000000000000000000000000");
	else
		assert_string_equal(addr, "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23");
}

static void
test_tampered(void **st)
{
	/* one bit of the ciphertext, the MAC, the iv */
	kt_expect("ks_ethers_n1024.json", "\"ciphertext\":\"b8", "\"ciphertext\":\"b9", "pw", KS_EMAC, "MAC mismatch");
	kt_expect("ks_ethers_n1024.json", "\"mac\":\"a7", "\"mac\":\"a6", "pw", KS_EMAC, "MAC mismatch");
	kt_expect("ks_ethers_n1024.json", "\"salt\":\"4e", "\"salt\":\"4f", "pw", KS_EMAC, "MAC mismatch");
	/* the iv is not under the MAC: another key comes out, whose address is not the file's */
	kt_expect("ks_ethers_n1024.json", "\"iv\":\"0a", "\"iv\":\"0b", "pw", KS_EADDR, "address");
	kt_expect("ks_ethers_n1024.json", "\"address\":\"2c", "\"address\":\"2d", "pw", KS_EADDR, "address");
}

static void
test_params(void **st)
{
	const char *f = "ks_ethers_n1024.json";
	kt_expect(f, "\"n\":1024", "\"n\":512", "pw", KS_EPARAMS, "too weak");
	kt_expect(f, "\"n\":1024", "\"n\":2097152", "pw", KS_EPARAMS, "above 1048576");
	kt_expect(f, "\"n\":1024", "\"n\":1000", "pw", KS_EPARAMS, "not a power of two");
	kt_expect(f, "\"r\":8", "\"r\":0", "pw", KS_EPARAMS, "scrypt r 0");
	kt_expect(f, "\"r\":8", "\"r\":99", "pw", KS_EPARAMS, "scrypt r 99");
	kt_expect(f, "\"p\":1", "\"p\":17", "pw", KS_EPARAMS, "scrypt p 17");
	kt_expect(f, "\"p\":1", "\"p\":-1", "pw", KS_EFORMAT, "kdfparams.p");
	kt_expect(f, "\"dklen\":32", "\"dklen\":16", "pw", KS_EPARAMS, "dklen 16");
	kt_expect(f, "\"kdf\":\"scrypt\"", "\"kdf\":\"argon\"", "pw", KS_EPARAMS, "neither scrypt nor pbkdf2");
	kt_expect(f, "aes-128-ctr", "aes-128-cbc", "pw", KS_EFORMAT, "aes-128-ctr");
	kt_expect(f, "\"version\":3", "\"version\":4", "pw", KS_EFORMAT, "version");
	kt_expect(f, "\"iv\":\"0a", "\"iv\":\"", "pw", KS_EFORMAT, "iv must be 16 bytes");
	kt_expect(f, "\"ciphertext\":\"b8", "\"ciphertext\":\"", "pw", KS_EFORMAT, "ciphertext must be 32 bytes");
	kt_expect(f, "\"salt\":\"4e3214db6f5beea21ca3a90b1e0d5b6abbbe3eae867a3aaa224db3b551173eea\"",
	          "\"salt\":\"4e32\"", "pw", KS_EFORMAT, "salt must be 16..64");
	kt_expect(f, "\"Crypto\"", "\"crypto\"", "pw", KS_OK, "");
	kt_expect(f, "{\"address\"", "{\"crypto\":{},\"address\"", "pw", KS_EFORMAT, "one crypto");
	kt_expect(f, "{\"address\"", "{\"version\":3,\"address\"", "pw", KS_EFORMAT, "not JSON"); /* duplicate key */
	kt_expect("ks_spec_pbkdf2.json", "262144", "4096", "testpassword", KS_EPARAMS, "too weak");
	kt_expect("ks_spec_pbkdf2.json", "hmac-sha256", "hmac-sha512", "testpassword", KS_EPARAMS, "prf");
	kt_expect(f, "{", "[", "pw", KS_EFORMAT, "not JSON");
}

static void
test_limits(void **st)
{
	size_t len;
	char *json = kt_read("ks_ethers_n1024.json", &len);
	uint8_t key[32];
	char err[300];
	ks_limits l;
	ks_limits_default(&l);
	l.json_max = 100;
	assert_int_equal(ks_decrypt(json, len, (const uint8_t *)"pw", 2, &l, key, NULL, err, sizeof err), KS_EFORMAT);
	ks_limits_default(&l);
	l.scrypt_mem_max = 1 << 20; /* 128 * 8 * 1024 = 1 MiB, plus B and XY: refused */
	assert_int_equal(ks_decrypt(json, len, (const uint8_t *)"pw", 2, &l, key, NULL, err, sizeof err), KS_EPARAMS);
	assert_non_null(strstr(err, "MiB"));
	free(json);
}

static void
test_password_file(void **st)
{
	char path[] = "/tmp/ks_test_pw_XXXXXX", err[300];
	uint8_t pw[64];
	size_t n;
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "secret one\r\nsecond line\n", 24), 24);
	close(fd);
	assert_int_equal(ks_read_password_file(path, pw, sizeof pw, &n, err, sizeof err), 0);
	assert_int_equal(n, 10);
	assert_memory_equal(pw, "secret one", 10);
	assert_int_equal(pw[10], 0);
	chmod(path, 0640);
	assert_int_equal(ks_read_password_file(path, pw, sizeof pw, &n, err, sizeof err), -1);
	assert_non_null(strstr(err, "mode 640"));
	chmod(path, 0600);
	assert_int_equal(ks_read_password_file(path, pw, 8, &n, err, sizeof err), -1); /* longer than 7 */
	assert_null(strstr(err, "secret"));
	unlink(path);
	assert_int_equal(ks_read_password_file(path, pw, sizeof pw, &n, err, sizeof err), -1);
	assert_non_null(strstr(err, "No such file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_pbkdf2),    cmocka_unit_test(test_spec_scrypt_refused),
		cmocka_unit_test(test_ethers),         cmocka_unit_test(test_cast),
		cmocka_unit_test(test_wrong_password), cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_params),         cmocka_unit_test(test_limits),
		cmocka_unit_test(test_password_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
