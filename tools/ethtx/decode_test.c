/* decode_test.c — the view `ethtx decode`/`inspect` print: transactions made by Foundry's cast 1.7.1
 * (hash and sender as `cast decode-tx` reports them) and by chain/tx.c's own encoder (extreme
 * values, contract creation, access lists), refusals naming field and offset, and the text form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/hex.h"
#include "chain/tx.h"
#include "tools/ethtx/decode.h"

static const char anvil_key_hex[] = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
static const char anvil_addr[] = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

/* cast mktx --chain 138 --nonce 7 --gas-limit 100000 --gas-price 2000000000
 *   --priority-gas-price 1000000000 0x5FbD..0aa3 'updateAnswer(int256)' -- -12345 */
static const char cast_1559[] =
        "0x02f890818a07843b9aca008477359400830186a0945fbdb2315678afecb367f032d93f642f64180aa380a4a87a20ce"
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffcfc7c001a0351e23bd03d35bd0dc720073"
        "adbf9d1d5ee723b6263fac7f548a69ebe89ea15da001b3960e1ff7974bc2fb5e5a5421ff038ca54a1d7abb9613d269"
        "51ac179c4d89";
/* cast wallet sign --no-hash of the pre-EIP-155 signing hash, v = 27 (see chain/tx_test.c) */
static const char cast_pre155[] =
        "f863030782c350945fbdb2315678afecb367f032d93f642f64180aa30584deadbeef1ba0f7dafe3913e7a72fe81efd"
        "65eb6f264e6e50b096e29a74e7f91630fd3dc88a78a01d5f2cb29e9e07500677c6715c1863005af4458cf7e8d975d4"
        "de9722566302e0";

static uint8_t raw[DX_MAX_RAW];
static char err[256];

static json_t *
view_of(const char *hex, int rich)
{
	size_t n;
	assert_int_equal(dx_parse_hex(hex, strlen(hex), raw, &n, err, sizeof err), 0);
	return dx_view(raw, n, rich, err, sizeof err);
}

static const char *
str(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	assert_true(json_is_string(v));
	return json_string_value(v);
}

static void
test_cast_1559(void **st)
{
	(void)st;
	json_t *v = view_of(cast_1559, 0);
	assert_non_null(v);
	assert_int_equal(json_integer_value(json_object_get(v, "type")), 2);
	assert_string_equal(str(v, "chainId"), "138");
	assert_string_equal(str(v, "nonce"), "7");
	assert_string_equal(str(v, "maxPriorityFeePerGas"), "1000000000");
	assert_string_equal(str(v, "maxFeePerGas"), "2000000000");
	assert_string_equal(str(v, "gasLimit"), "100000");
	assert_string_equal(str(v, "to"), "0x5FbDB2315678afecb367f032d93F642f64180aa3");
	assert_string_equal(str(v, "value"), "0");
	assert_string_equal(str(v, "data"),
	                    "0xa87a20ceffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffcfc7");
	assert_int_equal(json_integer_value(json_object_get(v, "accessListAddresses")), 0);
	assert_int_equal(json_integer_value(json_object_get(v, "yParity")), 1);
	assert_string_equal(str(v, "s"), "0x01b3960e1ff7974bc2fb5e5a5421ff038ca54a1d7abb9613d26951ac179c4d89");
	assert_string_equal(str(v, "hash"), "0x1b897236fe82337337269a3559d7d541c5387473824dbe98709d2e4d702ae0b8");
	assert_string_equal(str(v, "from"), anvil_addr);
	assert_null(json_object_get(v, "gasPrice"));
	assert_null(json_object_get(v, "v"));
	assert_null(json_object_get(v, "signingHash")); /* inspect only */
	json_decref(v);

	v = view_of(cast_1559, 1);
	assert_int_equal(json_integer_value(json_object_get(v, "size")), 147);
	assert_string_equal(str(v, "selector"), "0xa87a20ce");
	json_t *w = json_object_get(v, "words");
	assert_int_equal(json_array_size(w), 1);
	assert_string_equal(json_string_value(json_array_get(w, 0)),
	                    "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffcfc7");
	assert_int_equal(json_array_size(json_object_get(v, "accessList")), 0);
	json_decref(v);
}

static void
test_cast_pre155(void **st)
{
	(void)st;
	json_t *v = view_of(cast_pre155, 1);
	assert_non_null(v);
	assert_int_equal(json_integer_value(json_object_get(v, "type")), 0);
	assert_true(json_is_null(json_object_get(v, "chainId")));
	assert_string_equal(str(v, "gasPrice"), "7");
	assert_string_equal(str(v, "v"), "27");
	assert_string_equal(str(v, "hash"), "0xd4e6cb9bbce438c4bd6c540168748e4f8408a31a6d8856ef95087d4b5e33bbb9");
	/* cast keccak $(cast to-rlp '["0x03","0x07","0xc350","0x5fbd..","0x05","0xdeadbeef"]') */
	assert_string_equal(str(v, "signingHash"),
	                    "0x116daacaa901aee28f05c6b0849474c1ee9a9316fea5357fe29f3c5b91a2a9fa");
	assert_string_equal(str(v, "from"), anvil_addr);
	assert_null(json_object_get(v, "yParity"));
	assert_null(json_object_get(v, "accessList"));
	assert_int_equal(json_array_size(json_object_get(v, "words")), 0); /* 4 bytes: selector only */
	json_decref(v);
}

/* Our own encoder: extreme integers come back as exact decimal strings, the sender is the key's. */
static void
test_own_roundtrip(void **st)
{
	(void)st;
	static const char max256[] = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
	uint8_t key[32], ones[32], code[7] = { 0x60, 0x00, 0x60, 0x00, 0xf3, 0x00, 0x01 };
	/* [[0x11 x20, [0x22 x32, 0x33 x32]]] */
	uint8_t al[2 + 2 + 21 + 2 + 66];
	char hex[2 * 512 + 3], addr[43];
	size_t n;
	memset(ones, 0xff, 32);
	hex_decode_exact(anvil_key_hex, strlen(anvil_key_hex), key, 32);
	al[0] = 0xf8, al[1] = sizeof al - 2, al[2] = 0xf8, al[3] = sizeof al - 4, al[4] = 0x94;
	memset(al + 5, 0x11, 20);
	al[25] = 0xf8, al[26] = 66, al[27] = 0xa0;
	memset(al + 28, 0x22, 32);
	al[60] = 0xa0;
	memset(al + 61, 0x33, 32);
	assert_int_equal(sizeof al, 93);
	for (int type = TX_LEGACY; type <= TX_EIP1559; type++) {
		tx t = { 0 };
		uint8_t out[512], a[20];
		t.type = type;
		t.chain_id = type == TX_LEGACY ? (UINT64_MAX - 36) / 2 : UINT64_MAX;
		t.nonce = UINT64_MAX;
		u256_from_be(&t.gas_price, ones, 32);
		u256_from_be(&t.max_fee, ones, 32);
		u256_from_u64(&t.max_priority_fee, 1);
		t.gas_limit = UINT64_MAX;
		u256_from_be(&t.value, ones, 32);
		t.data = code;
		t.data_len = sizeof code;
		if (type != TX_LEGACY)
			t.access_list = al, t.access_list_len = sizeof al;
		assert_int_equal(tx_sign(&t, key), TX_OK);
		assert_int_equal(tx_encode(&t, out, sizeof out, &n), TX_OK);
		hex_encode(out, n, 1, hex);
		json_t *v = view_of(hex, 1);
		assert_non_null(v);
		assert_int_equal(json_integer_value(json_object_get(v, "type")), type);
		assert_string_equal(str(v, "chainId"),
		                    type == TX_LEGACY ? "9223372036854775789" : "18446744073709551615");
		assert_string_equal(str(v, "nonce"), "18446744073709551615");
		assert_string_equal(str(v, "gasLimit"), "18446744073709551615");
		assert_string_equal(str(v, "value"), max256);
		assert_string_equal(str(v, type == TX_EIP1559 ? "maxFeePerGas" : "gasPrice"), max256);
		assert_true(json_is_null(json_object_get(v, "to")));
		assert_string_equal(str(v, "data"), "0x60006000f30001");
		assert_int_equal(json_array_size(json_object_get(v, "words")), 0); /* 3 bytes after the selector */
		tx_address_from_key(key, a);
		hex_addr_format(a, addr);
		assert_string_equal(str(v, "from"), addr);
		if (type == TX_LEGACY) {
			assert_string_equal(str(v, "v"), t.y_parity ? "18446744073709551614" : "18446744073709551613");
		} else {
			json_t *l = json_object_get(v, "accessList"), *keys;
			assert_int_equal(json_integer_value(json_object_get(v, "accessListAddresses")), 1);
			assert_int_equal(json_integer_value(json_object_get(v, "accessListStorageKeys")), 2);
			assert_int_equal(json_array_size(l), 1);
			assert_string_equal(json_string_value(json_object_get(json_array_get(l, 0), "address")),
			                    "0x1111111111111111111111111111111111111111");
			keys = json_object_get(json_array_get(l, 0), "storageKeys");
			assert_int_equal(json_array_size(keys), 2);
			assert_string_equal(json_string_value(json_array_get(keys, 1)),
			                    "0x3333333333333333333333333333333333333333333333333333333333333333");
		}
		json_decref(v);
	}
}

static void
expect_refusal(const char *hex, const char *want)
{
	size_t n;
	assert_int_equal(dx_parse_hex(hex, strlen(hex), raw, &n, err, sizeof err), 0);
	assert_null(dx_view(raw, n, 0, err, sizeof err));
	assert_string_equal(err, want);
}

static void
test_refusals(void **st)
{
	(void)st;
	char buf[512];
	size_t n;
	expect_refusal("0x04c0", "unsupported transaction type 0x04 at byte 0 (known: an RLP list for legacy, "
	                         "0x01 EIP-2930, 0x02 EIP-1559)");
	expect_refusal("0x02c3010203", "EIP-1559 transaction at byte 1: 3 fields, want 12");
	expect_refusal("0xc0", "legacy transaction at byte 0: 0 fields, want 9");
	snprintf(buf, sizeof buf, "%s00", cast_pre155);
	expect_refusal(buf, "not canonical RLP at byte 101: trailing bytes after the item");
	snprintf(buf, sizeof buf, "f865038200%s", cast_pre155 + 6);
	expect_refusal(buf, "field gasPrice at byte 3: integer with a leading zero byte");
	/* nonce as a list: c0 instead of 03 */
	snprintf(buf, sizeof buf, "f863c0%s", cast_pre155 + 6);
	expect_refusal(buf, "field nonce at byte 2: a list where an integer belongs");
	/* v = 0x1d (29) */
	snprintf(buf, sizeof buf, "%s", cast_pre155);
	memcpy(strstr(buf, "deadbeef1b") + 8, "1d", 2);
	expect_refusal(buf, "field v at byte 34: neither 27/28 nor chain_id*2+35/36 with a chain id >= 1");
	/* r = 0 */
	snprintf(buf, sizeof buf, "f843%.66s80a0%s", cast_pre155 + 4, cast_pre155 + strlen(cast_pre155) - 64);
	expect_refusal(buf, "field r at byte 35: zero");

	assert_int_equal(dx_parse_hex("", 0, raw, &n, err, sizeof err), -1);
	assert_string_equal(err, "empty input: want a 0x-hex raw transaction");
	assert_int_equal(dx_parse_hex(" \n0x\n", 5, raw, &n, err, sizeof err), -1);
	assert_string_equal(err, "empty input: want a 0x-hex raw transaction");
	assert_int_equal(dx_parse_hex("0xc0c", 5, raw, &n, err, sizeof err), -1);
	assert_string_equal(err, "odd number of hex digits");
	assert_int_equal(dx_parse_hex("  0xc0g0", 8, raw, &n, err, sizeof err), -1);
	assert_string_equal(err, "not hex at character 6: not a hex digit");
	assert_int_equal(dx_parse_hex(" C0AB\n", 6, raw, &n, err, sizeof err), 0); /* no 0x, upper case */
	assert_int_equal(n, 2);
	assert_int_equal(raw[0], 0xc0);
}

static char *
text_of(const char *hex, int rich)
{
	static char buf[8192];
	json_t *v = view_of(hex, rich);
	FILE *f = fmemopen(buf, sizeof buf, "w");
	assert_non_null(v);
	dx_print_text(v, f);
	fclose(f);
	json_decref(v);
	return buf;
}

static void
test_text(void **st)
{
	(void)st;
	const char *t = text_of(cast_pre155, 1);
	assert_non_null(strstr(t, "type                  0 (legacy)\n"));
	assert_non_null(strstr(t, "chainId               none (pre-EIP-155: valid on any chain)\n"));
	assert_non_null(strstr(t, "gasPrice              7 wei\n"));
	assert_non_null(strstr(t, "data                  0xdeadbeef (4 bytes)\n"));
	assert_non_null(strstr(t, "v                     27\n"));
	assert_non_null(strstr(t, "from                  0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\n"));
	t = text_of(cast_1559, 1);
	assert_non_null(strstr(t, "type                  2 (EIP-1559)\n"));
	assert_non_null(strstr(t, "maxFeePerGas          2000000000 wei\n"));
	assert_non_null(strstr(t, "  word[0]             0xffff"));
	assert_null(strstr(t, "accessList["));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cast_1559),     cmocka_unit_test(test_cast_pre155),
		cmocka_unit_test(test_own_roundtrip), cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
