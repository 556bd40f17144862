/*
 * hash_test.c - SHA-256 against the FIPS 180-2 examples (incl. the million 'a' fed in parts) and
 * HMAC-SHA256 against all seven RFC 4231 test cases (case 5 truncated to 128 bits, as the RFC).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/hash.h"

static void
unhex(const char *h, uint8_t *out, size_t *n)
{
	*n = strlen(h) / 2;
	for (size_t i = 0; i < *n; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static void
test_sha256(void **state)
{
	uint8_t d[32];
	char x[65];
	assert_int_equal(ob_sha256("abc", 3, d), 0);
	hex_encode(d, 32, 0, x);
	assert_string_equal(x, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ob_sha256("", 0, d);
	hex_encode(d, 32, 0, x);
	assert_string_equal(x, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	ob_sha256(m, strlen(m), d);
	hex_encode(d, 32, 0, x);
	assert_string_equal(x, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* one million 'a', fed in odd-sized parts to cross block boundaries */
	static char a[997];
	static const void *parts[1004];
	static size_t lens[1004];
	size_t n = 0, left = 1000000;
	memset(a, 'a', sizeof a);
	while (left) {
		lens[n] = left < sizeof a ? left : sizeof a;
		parts[n++] = a;
		left -= lens[n - 1];
	}
	assert_int_equal(ob_sha256_v(parts, lens, n, d), 0);
	hex_encode(d, 32, 0, x);
	assert_string_equal(x, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void
test_rfc4231(void **state)
{
	static const struct {
		const char *key, *data, *mac;
	} v[] = {
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
		  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
		{ "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
		  "d",
		  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
		{ "0102030405060708090a0b0c0d0e0f10111213141516171819",
		  "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdc"
		  "d",
		  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
		{ "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "546573742057697468205472756e636174696f6e",
		  "a3b6167473100ee06e0c796c2955552b" },
		{ NULL, /* 131 bytes of 0xaa */
		  "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b65792046"
		  "69727374",
		  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
		{ NULL, /* 131 bytes of 0xaa */
		  "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d73697a65206b657920"
		  "616e642061"
		  "206c6172676572207468616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565647320746f20626520"
		  "686173686564"
		  "206265666f7265206265696e6720757365642062792074686520484d414320616c676f726974686d2e",
		  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		uint8_t key[200], data[300], mac[32];
		size_t kl, dl;
		char x[65];
		if (v[i].key)
			unhex(v[i].key, key, &kl);
		else
			memset(key, 0xaa, kl = 131);
		unhex(v[i].data, data, &dl);
		assert_int_equal(ob_hmac_sha256(key, kl, data, dl, mac), 0);
		hex_encode(mac, 32, 0, x);
		x[strlen(v[i].mac)] = '\0'; /* case 5 compares the first 128 bits */
		assert_string_equal(x, v[i].mac);
	}
	/* the parts form equals the whole */
	uint8_t m1[32], m2[32];
	const void *parts[3] = { "1700000000", ".", "{\"a\":1}" };
	size_t lens[3] = { 10, 1, 7 };
	ob_hmac_sha256_v("k", 1, parts, lens, 3, m1);
	ob_hmac_sha256("k", 1, "1700000000.{\"a\":1}", 18, m2);
	assert_memory_equal(m1, m2, 32);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_rfc4231),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
