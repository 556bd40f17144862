/* rsign_test.c - the remote signer client's checks on answers a real signer gave: anvil 1.7.1's
 * eth_signTransaction for its dev account 0 (0xf39F...2266) on chain 138, legacy and EIP-1559
 * (the requests are in the comments). Each must be accepted for exactly the request that produced
 * it and refused, naming the field, for any other request or sender; the JSON request object is
 * checked member by member. The transport is tested against anvil in
 * tests/integration/signer_keys.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/hex.h"
#include "chain/rsign.h"

/* {"from":"0xf39F...","to":"0x7099...79C8","gas":"0x5208","gasPrice":"0x0","value":"0x0",
 *  "data":"0x1234","nonce":"0x5","chainId":"0x8a"} */
static const char legacy_raw[] = "f86305808252089470997970c51812dc3a010c7d01b50e0d17dc79c880821234820138a00ae9e1759121"
                                 "c58ca1c738a3e2a1889d6c357000a74bd153588d61a3b0ecc1b1a02f0db9e1c9f5438ad4448ac061f1fc"
                                 "827f9a28a7737a2302e9bd3980b25d3df4";
/* the same with "maxFeePerGas":"0x77359400","maxPriorityFeePerGas":"0x1","type":"0x2" */
static const char eip1559_raw[] = "02f869818a050184773594008252089470997970c51812dc3a010c7d01b50e0d17dc79c880821234c0"
                                  "01a0850e48d6676c60053f0503eacdbb84e7766f40850784d9a7bca21276deac2638a054e2b96e7bb1"
                                  "36ad1f96c9686da026e7e40c7be34c0ddd944ce5bf335b20e19f";
static const uint8_t data[] = { 0x12, 0x34 };
static uint8_t from[20];

static void
rt_want(tx *t, int type)
{
	memset(t, 0, sizeof *t);
	t->type = type;
	t->chain_id = 138;
	t->nonce = 5;
	t->gas_limit = 21000;
	if (type == TX_EIP1559) {
		u256_from_u64(&t->max_fee, 2000000000);
		u256_from_u64(&t->max_priority_fee, 1);
	}
	t->has_to = 1;
	assert_int_equal(hex_addr_parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8", 42, t->to), HEX_OK);
	t->data = data;
	t->data_len = sizeof data;
}

static size_t
rt_raw(const char *h, uint8_t *out)
{
	size_t n;
	assert_int_equal(hex_decode(h, strlen(h), 0, out, 512, &n, NULL), HEX_OK);
	return n;
}

static int
setup(void **st)
{
	return hex_addr_parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", 42, from) == HEX_OK ? 0 : -1;
}

static void
test_accepts_exact(void **st)
{
	uint8_t raw[512], key[32];
	char err[200];
	tx t, mine;
	size_t n = rt_raw(legacy_raw, raw);
	rt_want(&t, TX_LEGACY);
	assert_int_equal(rs_check(&t, from, raw, n, err, sizeof err), RS_OK);
	assert_true(t.is_signed);
	/* anvil's dev key signs deterministically (RFC 6979): our own signature is the same */
	assert_int_equal(
	        hex_decode_exact("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", 64, key, 32),
	        HEX_OK);
	rt_want(&mine, TX_LEGACY);
	assert_int_equal(tx_sign(&mine, key), TX_OK);
	assert_memory_equal(mine.r, t.r, 32);
	assert_memory_equal(mine.s, t.s, 32);
	n = rt_raw(eip1559_raw, raw);
	rt_want(&t, TX_EIP1559);
	assert_int_equal(rs_check(&t, from, raw, n, err, sizeof err), RS_OK);
}

static void
rt_refused(int type, void (*change)(tx *), const char *what)
{
	uint8_t raw[512];
	char err[200] = "";
	tx t;
	size_t n = rt_raw(type == TX_LEGACY ? legacy_raw : eip1559_raw, raw);
	rt_want(&t, type);
	change(&t);
	int rv = rs_check(&t, from, raw, n, err, sizeof err);
	if (rv != RS_EMISMATCH || strstr(err, what) == NULL)
		fail_msg("want mismatch '%s', got %d '%s'", what, rv, err);
	assert_false(t.is_signed);
}

static void
c_nonce(tx *t)
{
	t->nonce = 6;
}
static void
c_chain(tx *t)
{
	t->chain_id = 1;
}
static void
c_gas(tx *t)
{
	t->gas_limit = 21001;
}
static void
c_price(tx *t)
{
	u256_from_u64(&t->gas_price, 1);
}
static void
c_to(tx *t)
{
	t->to[19] ^= 1;
}
static void
c_value(tx *t)
{
	u256_from_u64(&t->value, 1);
}
static void
c_data(tx *t)
{
	t->data_len = 1;
}
static void
c_type(tx *t)
{
	t->type = TX_EIP1559;
}
static void
c_maxfee(tx *t)
{
	u256_from_u64(&t->max_fee, 2000000001);
}
static void
c_tip(tx *t)
{
	u256_from_u64(&t->max_priority_fee, 2);
}

static void
test_refuses_other_fields(void **st)
{
	rt_refused(TX_LEGACY, c_nonce, "nonce");
	rt_refused(TX_LEGACY, c_chain, "chain id");
	rt_refused(TX_LEGACY, c_gas, "gas limit");
	rt_refused(TX_LEGACY, c_price, "gas price");
	rt_refused(TX_LEGACY, c_to, "recipient");
	rt_refused(TX_LEGACY, c_value, "value");
	rt_refused(TX_LEGACY, c_data, "calldata");
	rt_refused(TX_LEGACY, c_type, "transaction type");
	rt_refused(TX_EIP1559, c_maxfee, "maxFeePerGas");
	rt_refused(TX_EIP1559, c_tip, "maxPriorityFeePerGas");
}

static void
test_refuses_other_sender_and_garbage(void **st)
{
	uint8_t raw[512], other[20];
	char err[200];
	tx t;
	size_t n = rt_raw(legacy_raw, raw);
	memcpy(other, from, 20);
	other[0] ^= 1;
	rt_want(&t, TX_LEGACY);
	assert_int_equal(rs_check(&t, other, raw, n, err, sizeof err), RS_EMISMATCH);
	assert_non_null(strstr(err, "signed as 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"));
	raw[n - 1] ^= 1; /* another s: another (or no) sender */
	rt_want(&t, TX_LEGACY);
	assert_int_equal(rs_check(&t, from, raw, n, err, sizeof err), RS_EMISMATCH);
	raw[n - 1] ^= 1;
	rt_want(&t, TX_LEGACY);
	assert_int_equal(rs_check(&t, from, raw, n - 1, err, sizeof err), RS_EMISMATCH);
	assert_non_null(strstr(err, "does not decode"));
}

static void
test_result_forms(void **st)
{
	uint8_t raw[512];
	size_t n;
	char err[200];
	json_t *s = json_string("0x1234"), *o = json_pack("{s:s,s:{}}", "raw", "0xabcd", "tx");
	json_t *bad = json_string("1234"), *num = json_integer(5);
	assert_int_equal(rs_result_raw(s, raw, sizeof raw, &n, err, sizeof err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rs_result_raw(o, raw, sizeof raw, &n, err, sizeof err), 0);
	assert_int_equal(raw[0], 0xab);
	assert_int_equal(rs_result_raw(bad, raw, sizeof raw, &n, err, sizeof err), -1);
	assert_int_equal(rs_result_raw(num, raw, sizeof raw, &n, err, sizeof err), -1);
	assert_int_equal(rs_result_raw(s, raw, 1, &n, err, sizeof err), -1);
	json_decref(s);
	json_decref(o);
	json_decref(bad);
	json_decref(num);
}

static void
test_request_json(void **st)
{
	tx t;
	rt_want(&t, TX_LEGACY);
	json_t *j = rs_tx_json(&t, from);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(
	        s, "{\"chainId\":\"0x8a\",\"data\":\"0x1234\",\"from\":\"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\","
	           "\"gas\":\"0x5208\",\"gasPrice\":\"0x0\",\"nonce\":\"0x5\",\"to\":"
	           "\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\",\"value\":\"0x0\"}");
	free(s);
	json_decref(j);
	rt_want(&t, TX_EIP1559);
	u256_from_u64(&t.max_fee, 0x100);
	j = rs_tx_json(&t, from);
	assert_string_equal(json_string_value(json_object_get(j, "maxFeePerGas")), "0x100");
	assert_string_equal(json_string_value(json_object_get(j, "maxPriorityFeePerGas")), "0x1");
	assert_string_equal(json_string_value(json_object_get(j, "type")), "0x2");
	assert_null(json_object_get(j, "gasPrice"));
	json_decref(j);
}

static void
test_open(void **st)
{
	char err[200];
	assert_null(rs_open("ftp://x:1", from, NULL, 1000, err, sizeof err));
	assert_null(rs_open("http://127.0.0.1:1", from, "eth_sign", 1000, err, sizeof err));
	assert_non_null(strstr(err, "eth_sign"));
	rs *r = rs_open("https://user:secret@signer.example:9000/path?key=k", from, NULL, 1000, err, sizeof err);
	assert_non_null(r);
	assert_string_equal(rs_endpoint(r), "https://signer.example:9000");
	rs_close(r);
	/* nothing listens: a transport error, then fast failures during the back-off */
	r = rs_open("http://127.0.0.1:1", from, NULL, 1000, err, sizeof err);
	tx t;
	rt_want(&t, TX_LEGACY);
	assert_int_equal(rs_sign(r, &t, err, sizeof err), RS_ETRANSPORT);
	assert_int_equal(rs_sign(r, &t, err, sizeof err), RS_ETRANSPORT);
	assert_non_null(strstr(err, "not asked again yet"));
	rs_close(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_exact),
		cmocka_unit_test(test_refuses_other_fields),
		cmocka_unit_test(test_refuses_other_sender_and_garbage),
		cmocka_unit_test(test_result_forms),
		cmocka_unit_test(test_request_json),
		cmocka_unit_test(test_open),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
