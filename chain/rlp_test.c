/* rlp_test.c — RLP against the Ethereum RLP test vectors (ethereum/tests RLPTests/rlptest.json),
 * plus canonical-form rejections. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/hex.h"
#include "chain/rlp.h"

static uint8_t buf[2048];

static void
expect_enc(const rlp_enc *e, const char *want_hex)
{
	size_t n;
	char got[4200];
	assert_int_equal(rlp_enc_finish(e, &n), RLP_OK);
	hex_encode(e->buf, n, 0, got);
	assert_string_equal(got, want_hex);
	/* every encoding we produce decodes and validates */
	rlp_item it;
	assert_int_equal(rlp_decode(e->buf, n, &it, NULL), RLP_OK);
}

static void
put_str(rlp_enc *e, const char *s)
{
	rlp_put_bytes(e, (const uint8_t *)s, strlen(s));
}

static void
test_strings_and_ints(void **st)
{
	(void)st;
	rlp_enc e;
	rlp_enc_init(&e, buf, sizeof buf);
	put_str(&e, "dog");
	expect_enc(&e, "83646f67");
	rlp_enc_init(&e, buf, sizeof buf);
	put_str(&e, "");
	expect_enc(&e, "80");
	rlp_enc_init(&e, buf, sizeof buf);
	rlp_put_u64(&e, 0);
	expect_enc(&e, "80");
	rlp_enc_init(&e, buf, sizeof buf);
	rlp_put_u64(&e, 1);
	expect_enc(&e, "01");
	rlp_enc_init(&e, buf, sizeof buf);
	rlp_put_u64(&e, 15);
	expect_enc(&e, "0f");
	rlp_enc_init(&e, buf, sizeof buf);
	rlp_put_u64(&e, 0x7f);
	expect_enc(&e, "7f");
	rlp_enc_init(&e, buf, sizeof buf);
	rlp_put_u64(&e, 0x80);
	expect_enc(&e, "8180");
	rlp_enc_init(&e, buf, sizeof buf);
	rlp_put_u64(&e, 1024);
	expect_enc(&e, "820400");
	rlp_enc_init(&e, buf, sizeof buf);
	rlp_put_u64(&e, 100000);
	expect_enc(&e, "830186a0");
	rlp_enc_init(&e, buf, sizeof buf);
	rlp_put_u64(&e, UINT64_MAX);
	expect_enc(&e, "88ffffffffffffffff");
	rlp_enc_init(&e, buf, sizeof buf);
	rlp_put_bytes(&e, (const uint8_t *)"\0", 1);
	expect_enc(&e, "00");
	/* bigint 83729609699884896815286331701780722 from rlptest.json */
	u256 big;
	assert_int_equal(u256_from_dec(&big, "83729609699884896815286331701780722", 35), 0);
	rlp_enc_init(&e, buf, sizeof buf);
	rlp_put_u256(&e, &big);
	expect_enc(&e, "8f102030405060708090a0b0c0d0e0f2");
	u256 z;
	u256_from_u64(&z, 0);
	rlp_enc_init(&e, buf, sizeof buf);
	rlp_put_u256(&e, &z);
	expect_enc(&e, "80");
	rlp_enc_init(&e, buf, sizeof buf);
	put_str(&e, "Lorem ipsum dolor sit amet, consectetur adipisicing elit");
	expect_enc(&e, "b8384c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572"
	               "206164697069736963696e6720656c6974");
	rlp_enc_init(&e, buf, sizeof buf);
	put_str(&e, "Lorem ipsum dolor sit amet, consectetur adipisicing eli"); /* 55 bytes: short form */
	size_t n;
	rlp_enc_finish(&e, &n);
	assert_int_equal(n, 56);
	assert_int_equal(buf[0], 0xb7);
	/* 1024-byte string: two length bytes */
	static uint8_t kb[1024];
	memset(kb, 'x', sizeof kb);
	rlp_enc_init(&e, buf, sizeof buf);
	rlp_put_bytes(&e, kb, sizeof kb);
	rlp_enc_finish(&e, &n);
	assert_int_equal(n, 1027);
	assert_memory_equal(buf, "\xb9\x04\x00", 3);
}

static void
test_lists(void **st)
{
	(void)st;
	rlp_enc e;
	size_t m, m2, m3;
	rlp_enc_init(&e, buf, sizeof buf);
	m = rlp_list_begin(&e);
	rlp_list_end(&e, m);
	expect_enc(&e, "c0");
	rlp_enc_init(&e, buf, sizeof buf);
	m = rlp_list_begin(&e);
	put_str(&e, "cat");
	put_str(&e, "dog");
	rlp_list_end(&e, m);
	expect_enc(&e, "c88363617483646f67");
	/* set-theoretic representation of three: [ [], [[]], [ [], [[]] ] ] */
	rlp_enc_init(&e, buf, sizeof buf);
	m = rlp_list_begin(&e);
	m2 = rlp_list_begin(&e);
	rlp_list_end(&e, m2);
	m2 = rlp_list_begin(&e);
	m3 = rlp_list_begin(&e);
	rlp_list_end(&e, m3);
	rlp_list_end(&e, m2);
	m2 = rlp_list_begin(&e);
	m3 = rlp_list_begin(&e);
	rlp_list_end(&e, m3);
	m3 = rlp_list_begin(&e);
	size_t m4 = rlp_list_begin(&e);
	rlp_list_end(&e, m4);
	rlp_list_end(&e, m3);
	rlp_list_end(&e, m2);
	rlp_list_end(&e, m);
	expect_enc(&e, "c7c0c1c0c3c0c1c0");
	/* shortListMax1 (55-byte payload) and a long list */
	static const char *const w[] = { "asdf", "qwer", "zxcv" };
	rlp_enc_init(&e, buf, sizeof buf);
	m = rlp_list_begin(&e);
	for (int i = 0; i < 11; i++)
		put_str(&e, w[i % 3]);
	rlp_list_end(&e, m);
	expect_enc(&e, "f784617364668471776572847a78637684617364668471776572847a78637684617364668471776572"
	               "847a78637684617364668471776572");
	rlp_enc_init(&e, buf, sizeof buf);
	m = rlp_list_begin(&e);
	for (int i = 0; i < 4; i++) {
		m2 = rlp_list_begin(&e);
		for (int j = 0; j < 3; j++)
			put_str(&e, w[j]);
		rlp_list_end(&e, m2);
	}
	rlp_list_end(&e, m);
	expect_enc(&e, "f840cf84617364668471776572847a786376cf84617364668471776572847a786376cf8461736466"
	               "8471776572847a786376cf84617364668471776572847a786376");
}

static void
test_size_query(void **st)
{
	(void)st;
	rlp_enc e;
	size_t n, m, need;
	uint8_t small[5];
	rlp_enc_init(&e, NULL, 0);
	m = rlp_list_begin(&e);
	put_str(&e, "cat");
	put_str(&e, "dog");
	rlp_list_end(&e, m);
	assert_int_equal(rlp_enc_finish(&e, &need), RLP_ESPACE);
	assert_int_equal(need, 9);
	rlp_enc_init(&e, small, sizeof small);
	m = rlp_list_begin(&e);
	put_str(&e, "cat");
	put_str(&e, "dog");
	rlp_list_end(&e, m);
	assert_int_equal(rlp_enc_finish(&e, &n), RLP_ESPACE);
	assert_int_equal(n, 9);
}

static int
dec_hex(const char *h, size_t *err_off)
{
	uint8_t in[512];
	size_t n;
	rlp_item it;
	assert_int_equal(hex_decode(h, strlen(h), 0, in, sizeof in, &n, NULL), HEX_OK);
	return rlp_decode(in, n, &it, err_off);
}

static void
test_decode_walk(void **st)
{
	(void)st;
	uint8_t in[] = { 0xc8, 0x83, 'c', 'a', 't', 0x83, 'd', 'o', 'g' };
	rlp_item l, it;
	rlp_iter i;
	assert_int_equal(rlp_decode(in, sizeof in, &l, NULL), RLP_OK);
	assert_true(l.is_list);
	assert_int_equal(rlp_list_count(&l), 2);
	rlp_iter_init(&i, &l);
	assert_int_equal(rlp_iter_next(&i, &it, NULL), 1);
	assert_int_equal(it.len, 3);
	assert_memory_equal(it.p, "cat", 3);
	assert_int_equal(it.off, 1);
	assert_int_equal(rlp_iter_next(&i, &it, NULL), 1);
	assert_int_equal(it.off, 5);
	assert_memory_equal(it.p, "dog", 3);
	assert_int_equal(rlp_iter_next(&i, &it, NULL), 0);

	uint8_t i1[] = { 0x82, 0x04, 0x00 };
	uint64_t v;
	assert_int_equal(rlp_decode(i1, 3, &it, NULL), RLP_OK);
	assert_int_equal(rlp_get_u64(&it, &v), RLP_OK);
	assert_int_equal(v, 1024);
	uint8_t i2[] = { 0x82, 0x00, 0x04 };
	assert_int_equal(rlp_decode(i2, 3, &it, NULL), RLP_OK);
	assert_int_equal(rlp_get_u64(&it, &v), RLP_ELEADZERO);
	uint8_t i3[] = { 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	assert_int_equal(rlp_decode(i3, sizeof i3, &it, NULL), RLP_OK);
	assert_int_equal(rlp_get_u64(&it, &v), RLP_EBIG);
	u256 b;
	assert_int_equal(rlp_get_u256(&it, &b), RLP_OK);
	assert_int_equal(rlp_get_u64(&l, &v), RLP_ETYPE);
	uint8_t i4[] = { 0x80 };
	assert_int_equal(rlp_decode(i4, 1, &it, NULL), RLP_OK);
	assert_int_equal(rlp_get_u64(&it, &v), RLP_OK);
	assert_int_equal(v, 0);
}

static void
test_reject(void **st)
{
	(void)st;
	size_t off = 0;
	assert_int_equal(dec_hex("", &off), RLP_ETRUNC);
	assert_int_equal(dec_hex("8100", &off), RLP_ESINGLE);
	assert_int_equal(dec_hex("817f", &off), RLP_ESINGLE);
	assert_int_equal(dec_hex("8180", &off), RLP_OK);
	assert_int_equal(dec_hex("b800", &off), RLP_ENONCANON); /* long form with len 0 */
	assert_int_equal(dec_hex("b837"
	                         "00000000000000000000000000000000000000000000000000000000"
	                         "00000000000000000000000000000000000000000000000000000000",
	                         &off),
	                 RLP_ENONCANON);                          /* long form for 55 */
	assert_int_equal(dec_hex("b90038", &off), RLP_ENONCANON); /* leading zero in length */
	assert_int_equal(dec_hex("f800", &off), RLP_ENONCANON);
	assert_int_equal(dec_hex("83646f", &off), RLP_ETRUNC);
	assert_int_equal(dec_hex("c883636174", &off), RLP_ETRUNC);
	assert_int_equal(dec_hex("bf0fffffffffffffff", &off), RLP_ETRUNC); /* 8-byte huge length */
	assert_int_equal(dec_hex("bfffffffffffffffff", &off), RLP_ETRUNC);
	assert_int_equal(dec_hex("b9ffff", &off), RLP_ETRUNC);
	assert_int_equal(dec_hex("8000", &off), RLP_ETRAILING);
	assert_int_equal(off, 1);
	/* inner error reported at the inner item's offset */
	assert_int_equal(dec_hex("c4c28100c0", &off), RLP_ESINGLE);
	assert_int_equal(off, 2);
	/* a list whose item overruns the list but not the input */
	assert_int_equal(dec_hex("c2830102"
	                         "03",
	                         &off),
	                 RLP_ETRAILING);
	assert_int_equal(dec_hex("c38301020304", &off), RLP_ETRAILING);
	assert_int_equal(dec_hex("c283010203", &off), RLP_ETRAILING);
	assert_int_equal(dec_hex("c4830102", &off), RLP_ETRUNC);
	/* depth: 32 nested lists are fine, 33 are not */
	uint8_t deep[40];
	rlp_item it;
	for (int d = 32; d <= 33; d++) {
		for (int i = 0; i < d; i++)
			deep[i] = (uint8_t)(0xc0 + (d - 1 - i));
		assert_int_equal(rlp_decode(deep, (size_t)d, &it, &off), d == 32 ? RLP_OK : RLP_EDEPTH);
	}
	assert_string_equal(rlp_strerror(RLP_ESINGLE), "single byte below 0x80 encoded as a string");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings_and_ints), cmocka_unit_test(test_lists),
		cmocka_unit_test(test_size_query),       cmocka_unit_test(test_decode_walk),
		cmocka_unit_test(test_reject),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
