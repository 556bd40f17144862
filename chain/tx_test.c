/* tx_test.c — transactions against EIP-155's published example, anvil's dev key, and raw
 * transactions produced by Foundry's `cast` 1.7.1 (an independent implementation) for chain 138:
 * `cast mktx` for EIP-155 legacy, type 1 and type 2, `cast wallet sign --no-hash` for a pre-EIP-155
 * one; their hashes and senders as `cast decode-tx` reports them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/hex.h"
#include "base/keccak.h"
#include "chain/rlp.h"
#include "chain/tx.h"

static const char anvil_key_hex[] = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

static size_t
unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n;
	assert_int_equal(hex_decode(h, strlen(h), 0, out, cap, &n, NULL), HEX_OK);
	return n;
}

static void
expect_hex(const uint8_t *b, size_t n, const char *want)
{
	static char got[4096];
	hex_encode(b, n, 0, got);
	assert_string_equal(got, want);
}

/* EIP-155 example: nonce 9, 20 gwei, 21000 gas, to 0x3535..35, 1 ether, chain 1, key 0x4646..46. */
static void
test_eip155_example(void **st)
{
	(void)st;
	tx t = { 0 };
	uint8_t key[32], h[32], raw[256], addr[20];
	size_t n;
	memset(key, 0x46, 32);
	t.type = TX_LEGACY;
	t.chain_id = 1;
	t.nonce = 9;
	u256_from_u64(&t.gas_price, 20000000000ULL);
	t.gas_limit = 21000;
	t.has_to = 1;
	memset(t.to, 0x35, 20);
	u256_from_u64(&t.value, 1000000000000000000ULL);
	assert_int_equal(tx_signing_hash(&t, h), TX_OK);
	/* published signing data ec0985...8080; its hash is the published signing hash */
	uint8_t sd[64];
	size_t sdn = unhex("ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a7640000"
	                   "80018080",
	                   sd, sizeof sd);
	uint8_t h2[32];
	kec_256(sd, sdn, h2);
	assert_memory_equal(h, h2, 32);
	expect_hex(h, 32, "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");
	/* the payload is the published signing data; too small a buffer says how much it needs */
	uint8_t pl[64];
	size_t pn;
	assert_int_equal(tx_signing_payload(&t, pl, sizeof pl, &pn), TX_OK);
	assert_int_equal(pn, sdn);
	assert_memory_equal(pl, sd, sdn);
	assert_int_equal(tx_signing_payload(&t, pl, sdn - 1, &pn), TX_ESPACE);
	assert_int_equal(pn, sdn);
	/* signing the hash given is signing the transaction */
	tx td = t;
	assert_int_equal(tx_sign_digest(&td, key, h2), TX_OK);
	assert_int_equal(tx_encode(&t, raw, sizeof raw, &n), TX_EUNSIGNED);
	assert_int_equal(tx_sign(&t, key), TX_OK);
	assert_memory_equal(td.r, t.r, 32);
	assert_memory_equal(td.s, t.s, 32);
	assert_int_equal(td.y_parity, t.y_parity);
	uint8_t zero[32] = { 0 };
	assert_int_equal(tx_sign_digest(&td, zero, h2), TX_EKEY);
	assert_int_equal(tx_encode(&t, raw, sizeof raw, &n), TX_OK);
	expect_hex(raw, n,
	           "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764"
	           "00008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067"
	           "cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83");
	/* the sender recovers to the key's address, by both routes */
	uint8_t want[20];
	assert_int_equal(tx_address_from_key(key, want), TX_OK);
	expect_hex(want, 20, "9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f");
	tx d;
	assert_int_equal(tx_decode(raw, n, &d, NULL), TX_OK);
	assert_int_equal(tx_recover_sender(&d, addr), TX_OK);
	assert_memory_equal(addr, want, 20);
	/* size query */
	size_t need;
	assert_int_equal(tx_encode(&t, NULL, 0, &need), TX_ESPACE);
	assert_int_equal(need, n);
	assert_int_equal(tx_encode(&t, raw, n - 1, &need), TX_ESPACE);
}

static void
test_anvil_address(void **st)
{
	(void)st;
	uint8_t key[32], a[20];
	char s[43];
	unhex(anvil_key_hex, key, 32);
	assert_int_equal(tx_address_from_key(key, a), TX_OK);
	hex_addr_format(a, s);
	assert_string_equal(s, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
	uint8_t zero[32] = { 0 };
	assert_int_equal(tx_address_from_key(zero, a), TX_EKEY);
	tx t = { 0 };
	assert_int_equal(tx_sign(&t, zero), TX_EKEY);
}

/* cast mktx --private-key <anvil> --chain 138 --nonce 7 --gas-limit 100000 --gas-price 2000000000
 *   --priority-gas-price 1000000000 0x5FbDB2315678afecb367f032d93F642f64180aa3
 *   'updateAnswer(int256)' -- -12345 */
static const char cast_1559[] =
        "02f890818a07843b9aca008477359400830186a0945fbdb2315678afecb367f032d93f642f64180aa380a4a87a20ce"
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffcfc7c001a0351e23bd03d35bd0dc720073"
        "adbf9d1d5ee723b6263fac7f548a69ebe89ea15da001b3960e1ff7974bc2fb5e5a5421ff038ca54a1d7abb9613d269"
        "51ac179c4d89";
/* cast mktx ... --chain 138 --nonce 0 --gas-limit 21000 --gas-price 0 --legacy
 *   0x5FbDB2315678afecb367f032d93F642f64180aa3 --value 1 */
static const char cast_legacy0[] =
        "f8618080825208945fbdb2315678afecb367f032d93f642f64180aa30180820137a01648790c1346fc6815245f383b"
        "364f9e96c2788cfe38d51951ee918e5cde66bda03f538a3cb0b49a1135d2a39061553bb64c5a41d9b71bb580c428c0"
        "24d3991df2";

static void
test_cast_vectors(void **st)
{
	(void)st;
	uint8_t key[32], raw[512], to[20], data[36], anvil[20], from[20];
	size_t n;
	unhex(anvil_key_hex, key, 32);
	tx_address_from_key(key, anvil);
	unhex("5fbdb2315678afecb367f032d93f642f64180aa3", to, 20);
	/* updateAnswer(int256) selector + two's complement -12345 */
	unhex("a87a20ceffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffcfc7", data, 36);

	tx t = { 0 };
	t.type = TX_EIP1559;
	t.chain_id = 138;
	t.nonce = 7;
	u256_from_u64(&t.max_priority_fee, 1000000000);
	u256_from_u64(&t.max_fee, 2000000000);
	t.gas_limit = 100000;
	t.has_to = 1;
	memcpy(t.to, to, 20);
	t.data = data;
	t.data_len = sizeof data;
	assert_int_equal(tx_sign(&t, key), TX_OK);
	assert_int_equal(tx_encode(&t, raw, sizeof raw, &n), TX_OK);
	expect_hex(raw, n, cast_1559);
	tx d;
	uint8_t in[512];
	size_t inn = unhex(cast_1559, in, sizeof in);
	assert_int_equal(tx_decode(in, inn, &d, NULL), TX_OK);
	assert_int_equal(d.type, TX_EIP1559);
	assert_int_equal(d.chain_id, 138);
	assert_int_equal(d.nonce, 7);
	assert_int_equal(d.gas_limit, 100000);
	assert_int_equal(d.data_len, 36);
	assert_memory_equal(d.data, data, 36);
	assert_true(d.access_list != NULL && d.access_list_len == 1 && d.access_list[0] == 0xc0);
	assert_int_equal(tx_recover_sender(&d, from), TX_OK);
	assert_memory_equal(from, anvil, 20);

	memset(&t, 0, sizeof t);
	t.type = TX_LEGACY;
	t.chain_id = 138;
	t.gas_limit = 21000; /* gas price stays zero */
	t.has_to = 1;
	memcpy(t.to, to, 20);
	u256_from_u64(&t.value, 1);
	assert_int_equal(tx_sign(&t, key), TX_OK);
	assert_int_equal(tx_encode(&t, raw, sizeof raw, &n), TX_OK);
	expect_hex(raw, n, cast_legacy0);
	inn = unhex(cast_legacy0, in, sizeof in);
	assert_int_equal(tx_decode(in, inn, &d, NULL), TX_OK);
	assert_int_equal(d.chain_id, 138);
	assert_true(u256_is_zero(&d.gas_price));
	assert_int_equal(tx_recover_sender(&d, from), TX_OK);
	assert_memory_equal(from, anvil, 20);
	uint8_t h[32];
	tx_hash(in, inn, h);
	uint8_t h2[32];
	kec_256(in, inn, h2);
	assert_memory_equal(h, h2, 32);
}

/* Many signatures: every s is low (<= n/2), decode(encode) round-trips, the sender recovers. */
static void
test_low_s_roundtrip(void **st)
{
	(void)st;
	static const uint8_t half[32] = { 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		                          0xff, 0xff, 0xff, 0xff, 0xff, 0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4,
		                          0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0 };
	uint8_t key[32], me[20], from[20], raw[256], raw2[256];
	uint8_t data[5] = { 1, 2, 3, 4, 5 }, access[81];
	size_t n, n2, na, nk;
	unhex(anvil_key_hex, key, 32);
	tx_address_from_key(key, me);
	/* [[0x11 x20, [0x22 x32]], [0x33 x20, []]] */
	unhex("f84ff7941111111111111111111111111111111111111111e1a02222222222222222222222222222222222222222"
	      "222222222222222222222222d6943333333333333333333333333333333333333333c0",
	      access, sizeof access);
	for (int i = 0; i < 300; i++) {
		tx t = { 0 }, d;
		t.type = i % 3 == 0 ? TX_LEGACY : i % 3 == 1 ? TX_EIP2930 : TX_EIP1559;
		t.chain_id = (i % 4 == 0) ? 0 : (i % 4 == 1 ? 138 : 0xffffffffULL);
		if (t.type != TX_LEGACY && i % 7 == 0)
			t.access_list = access, t.access_list_len = sizeof access;
		t.nonce = (uint64_t)i * 7919;
		u256_from_u64(&t.gas_price, (uint64_t)i);
		u256_from_u64(&t.max_fee, (uint64_t)i * 1000);
		t.gas_limit = 21000 + (uint64_t)i;
		t.has_to = i % 5 != 0;
		memset(t.to, i, 20);
		t.data = data;
		t.data_len = (size_t)(i % 6);
		assert_int_equal(tx_sign(&t, key), TX_OK);
		assert_true(memcmp(t.s, half, 32) <= 0);
		assert_int_equal(tx_encode(&t, raw, sizeof raw, &n), TX_OK);
		assert_int_equal(tx_decode(raw, n, &d, NULL), TX_OK);
		assert_int_equal(d.type, t.type);
		assert_int_equal(d.chain_id, t.chain_id);
		assert_int_equal(d.nonce, t.nonce);
		assert_int_equal(d.gas_limit, t.gas_limit);
		assert_int_equal(d.has_to, t.has_to);
		assert_int_equal(d.data_len, t.data_len);
		if (t.type == TX_EIP1559)
			assert_int_equal(u256_cmp(&d.max_fee, &t.max_fee), 0);
		else
			assert_int_equal(u256_cmp(&d.gas_price, &t.gas_price), 0);
		assert_int_equal(tx_access_count(&d, &na, &nk), TX_OK);
		assert_int_equal(na, t.access_list ? 2 : 0);
		assert_int_equal(nk, t.access_list ? 1 : 0);
		assert_int_equal(tx_recover_sender(&d, from), TX_OK);
		assert_memory_equal(from, me, 20);
		assert_int_equal(tx_encode(&d, raw2, sizeof raw2, &n2), TX_OK);
		assert_int_equal(n, n2);
		assert_memory_equal(raw, raw2, n);
	}
}

static int
dec(const char *h, size_t *off)
{
	static uint8_t in[600];
	tx d;
	size_t n = unhex(h, in, sizeof in);
	return tx_decode(in, n, &d, off);
}

static void
test_reject(void **st)
{
	(void)st;
	size_t off;
	char buf[700];
	assert_int_equal(dec("", &off), TX_ERLP);
	assert_int_equal(dec("01c0", &off), TX_EFIELDS); /* EIP-2930: 11 fields wanted */
	assert_int_equal(dec("03c0", &off), TX_ETYPE);
	assert_int_equal(dec("02c0", &off), TX_EFIELDS);
	assert_int_equal(dec("c0", &off), TX_EFIELDS);
	assert_int_equal(dec("80", &off), TX_ETYPE);
	/* trailing byte after a valid tx */
	snprintf(buf, sizeof buf, "%s00", cast_legacy0);
	assert_int_equal(dec(buf, &off), TX_ERLP);
	assert_int_equal(off, strlen(cast_legacy0) / 2);
	/* v = 0x0137 (chain 138 parity 0) changed to 0x0135 = 309: chain 137 parity 0; still valid
     * but recovers someone else. v = 0x24 = 36 (chain 0 with EIP-155 formula) is invalid. */
	strcpy(buf, cast_legacy0);
	char *v = strstr(buf, "820137");
	memcpy(v, "820135", 6);
	assert_int_equal(dec(buf, &off), TX_OK);
	/* v as a 1-byte value 0x24: shrink the list by 2 bytes (f861 -> f85f) */
	snprintf(buf, sizeof buf, "f85f%.*s24%s", (int)(v - buf - 4), cast_legacy0 + 4, v + 6);
	assert_int_equal(dec(buf, &off), TX_EV);
	/* high s: replace s with n - s */
	strcpy(buf, cast_legacy0);
	char *s = buf + strlen(buf) - 64;
	memcpy(s, "ffffffffffffffffffffffffffffffffbaaedce6af48a03bbfd25e8cd0364140", 64);
	assert_int_equal(dec(buf, &off), TX_ESIG);
	memcpy(s, "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0", 64); /* n/2 ok */
	assert_int_equal(dec(buf, &off), TX_OK);
	memcpy(s, "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a1", 64);
	assert_int_equal(dec(buf, &off), TX_ESIG);
	/* type 2 y_parity 2 */
	strcpy(buf, cast_1559);
	char *p = strstr(buf, "c001a0");
	p[3] = '2';
	assert_int_equal(dec(buf, &off), TX_EV);
	assert_string_equal(tx_strerror(TX_ESIG), "bad signature values (zero, >= n, or high s)");
}

/* cast mktx --private-key <anvil> --chain 138 --nonce 3 --gas-limit 50000 --gas-price 7 --legacy
 *   --access-list '[{"address":"0x5FbD..0aa3","storageKeys":["0x00..01"]}]' 0x5FbD..0aa3 --value 5
 * (cast makes a type 1 tx of a legacy one with an access list) */
static const char cast_2930[] =
        "01f89b818a030782c350945fbdb2315678afecb367f032d93f642f64180aa30580f838f7945fbdb2315678afecb367"
        "f032d93f642f64180aa3e1a0000000000000000000000000000000000000000000000000000000000000000101a069"
        "d4fef46ef68eb195523eebec0afb2a26e9cb74168527407da822633c8db8cea04b77f57f613c03e7a12f52aa176413"
        "3a4cdeb427e094c3b681a6549a6b30a2a1";
/* cast wallet sign --no-hash --private-key <anvil> $(cast keccak $(cast to-rlp
 *   '["0x03","0x07","0xc350","0x5fbd..0aa3","0x05","0xdeadbeef"]')), assembled with v = 0x1b */
static const char cast_pre155[] =
        "f863030782c350945fbdb2315678afecb367f032d93f642f64180aa30584deadbeef1ba0f7dafe3913e7a72fe81efd"
        "65eb6f264e6e50b096e29a74e7f91630fd3dc88a78a01d5f2cb29e9e07500677c6715c1863005af4458cf7e8d975d4"
        "de9722566302e0";

/* Decodes a cast-made tx, checks the hash and sender cast's decode-tx printed, then re-signs the
 * decoded fields with the same key: RFC 6979 on both sides must give the same bytes again. */
static void
check_cast_tx(const char *hexraw, const char *want_hash, tx *d)
{
	static uint8_t in[600], out[600];
	uint8_t key[32], anvil[20], from[20], h[32];
	size_t n = unhex(hexraw, in, sizeof in), m;
	tx t;
	unhex(anvil_key_hex, key, 32);
	tx_address_from_key(key, anvil);
	assert_int_equal(tx_decode_at(in, n, d, NULL), TX_OK);
	tx_hash(in, n, h);
	expect_hex(h, 32, want_hash);
	assert_int_equal(tx_recover_sender(d, from), TX_OK);
	assert_memory_equal(from, anvil, 20);
	t = *d;
	memset(t.r, 0, 32);
	memset(t.s, 0, 32);
	t.is_signed = 0;
	assert_int_equal(tx_sign(&t, key), TX_OK);
	assert_int_equal(tx_encode(&t, out, sizeof out, &m), TX_OK);
	assert_int_equal(m, n);
	assert_memory_equal(out, in, n);
}

static void
test_cast_more_types(void **st)
{
	(void)st;
	tx d;
	size_t na, nk;
	uint64_t v;
	uint8_t to[20];
	unhex("5fbdb2315678afecb367f032d93f642f64180aa3", to, 20);

	check_cast_tx(cast_2930, "963126028d75259895df9326a0f53d2b98b3b813534c4814e7f4362dfc4f402a", &d);
	assert_int_equal(d.type, TX_EIP2930);
	assert_int_equal(d.chain_id, 138);
	assert_int_equal(d.nonce, 3);
	assert_true(u256_fits_u64(&d.gas_price) && u256_low64(&d.gas_price) == 7);
	assert_int_equal(d.gas_limit, 50000);
	assert_true(d.has_to);
	assert_memory_equal(d.to, to, 20);
	assert_true(u256_fits_u64(&d.value) && u256_low64(&d.value) == 5);
	assert_int_equal(d.data_len, 0);
	assert_int_equal(d.y_parity, 1);
	assert_int_equal(tx_access_count(&d, &na, &nk), TX_OK);
	assert_int_equal(na, 1);
	assert_int_equal(nk, 1);
	assert_int_equal(d.access_list_len, 58); /* f838 + 56 */

	check_cast_tx(cast_pre155, "d4e6cb9bbce438c4bd6c540168748e4f8408a31a6d8856ef95087d4b5e33bbb9", &d);
	assert_int_equal(d.type, TX_LEGACY);
	assert_int_equal(d.chain_id, 0);
	assert_int_equal(d.nonce, 3);
	assert_int_equal(d.data_len, 4);
	assert_memory_equal(d.data, "\xde\xad\xbe\xef", 4);
	assert_int_equal(tx_legacy_v(&d, &v), TX_OK);
	assert_int_equal(v, 27);
	assert_int_equal(tx_access_count(&d, &na, &nk), TX_OK);
	assert_int_equal(na + nk, 0);

	check_cast_tx(cast_1559, "1b897236fe82337337269a3559d7d541c5387473824dbe98709d2e4d702ae0b8", &d);
	check_cast_tx(cast_legacy0, "661cb6dc7420ed3ec7f42139c551d073fdae0d1cf07d12ef25b4e425f130df2a", &d);
	assert_int_equal(tx_legacy_v(&d, &v), TX_OK);
	assert_int_equal(v, 138 * 2 + 35);
}

static int
dec_at(const char *h, tx_derr *e)
{
	static uint8_t in[600];
	tx d;
	size_t n = unhex(h, in, sizeof in);
	return tx_decode_at(in, n, &d, e);
}

/* The refusal names the field and the byte offset of its first byte. */
static void
test_reject_detail(void **st)
{
	(void)st;
	tx_derr e;
	char buf[700];
	/* pre-155 vector with nonce 0x03 re-encoded as 0x8103 (non-canonical single byte) */
	snprintf(buf, sizeof buf, "f864%s%s", "8103", cast_pre155 + 6);
	assert_int_equal(dec_at(buf, &e), TX_ERLP);
	assert_int_equal(e.rlp_err, RLP_ESINGLE);
	assert_int_equal(e.off, 2);
	assert_null(e.field);
	/* gas price 0x07 as 0x820007: an integer with a leading zero; offset 3 */
	snprintf(buf, sizeof buf, "f865%s%s%s", "03", "820007", cast_pre155 + 8);
	assert_int_equal(dec_at(buf, &e), TX_EFIELD);
	assert_string_equal(e.field, "gasPrice");
	assert_string_equal(e.why, "integer with a leading zero byte");
	assert_int_equal(e.off, 3);
	/* `to` of 19 bytes: offset 2+1+1+3 = 7 */
	snprintf(buf, sizeof buf, "f862%.10s93%.38s%s", cast_pre155 + 4, cast_pre155 + 16, cast_pre155 + 56);
	assert_int_equal(dec_at(buf, &e), TX_EFIELD);
	assert_string_equal(e.field, "to");
	assert_int_equal(e.off, 7);
	/* type 1: a storage key that is a list (a0 -> e0, same size) inside the access list */
	strcpy(buf, cast_2930);
	char *k = strstr(buf, "e1a000");
	assert_non_null(k);
	size_t koff = (size_t)(k - buf) / 2 + 1; /* the key item, after the e1 list prefix */
	k[2] = 'e';
	assert_int_equal(dec_at(buf, &e), TX_EACCESS);
	assert_string_equal(e.field, "accessList");
	assert_string_equal(e.why, "a storage key is not 32 bytes");
	assert_int_equal(e.off, koff);
	/* wrong count: type 2 with 3 fields */
	assert_int_equal(dec_at("02c3010203", &e), TX_EFIELDS);
	assert_int_equal(e.got, 3);
	assert_int_equal(e.want, 12);
	assert_null(e.field);
	assert_int_equal(dec_at("01c0", &e), TX_EFIELDS);
	assert_int_equal(e.want, 11);
	assert_int_equal(dec_at("0280", &e), TX_EFIELDS); /* a string, not a list */
	assert_int_equal(e.got, 0);
	assert_int_equal(dec_at("04c0", &e), TX_ETYPE);
	assert_int_equal(e.off, 0);
	/* high s on type 1: the field is "s", at the last 33 bytes */
	strcpy(buf, cast_2930);
	memcpy(buf + strlen(buf) - 64, "ffffffffffffffffffffffffffffffffbaaedce6af48a03bbfd25e8cd0364140", 64);
	assert_int_equal(dec_at(buf, &e), TX_ESIG);
	assert_string_equal(e.field, "s");
	assert_string_equal(e.why, "above n/2 (EIP-2: high s is malleable)");
	assert_int_equal(e.off, strlen(buf) / 2 - 33);
	/* names */
	assert_string_equal(tx_field_name(TX_LEGACY, 6), "v");
	assert_string_equal(tx_field_name(TX_EIP2930, 2), "gasPrice");
	assert_string_equal(tx_field_name(TX_EIP1559, 3), "maxFeePerGas");
	assert_null(tx_field_name(TX_EIP1559, 12));
	assert_null(tx_field_name(3, 0));
	/* legacy v for a chain id too large */
	tx t = { 0 };
	uint64_t v;
	t.chain_id = UINT64_MAX / 2;
	assert_int_equal(tx_legacy_v(&t, &v), TX_ECHAIN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eip155_example), cmocka_unit_test(test_anvil_address),
		cmocka_unit_test(test_cast_vectors),   cmocka_unit_test(test_low_s_roundtrip),
		cmocka_unit_test(test_reject),         cmocka_unit_test(test_cast_more_types),
		cmocka_unit_test(test_reject_detail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
