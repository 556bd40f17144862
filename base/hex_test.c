/* hex_test.c — strict hex codec and EIP-55 (vectors from the EIP-55 text). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/hex.h"

static void
test_roundtrip(void **st)
{
	(void)st;
	uint8_t b[4], all[256];
	char s[2 * 256 + 3];
	size_t n, off;
	assert_int_equal(hex_decode("0xdeadBEEF", 10, 0, b, sizeof b, &n, NULL), HEX_OK);
	assert_int_equal(n, 4);
	assert_memory_equal(b, "\xde\xad\xbe\xef", 4);
	assert_int_equal(hex_decode("deadbeef", 8, 0, b, sizeof b, &n, NULL), HEX_OK);
	assert_int_equal(hex_decode("deadbeef", 8, HEX_PREFIX_REQUIRED, b, 4, &n, NULL), HEX_EPREFIX);
	assert_int_equal(hex_decode("0x", 2, 0, b, 0, &n, NULL), HEX_OK);
	assert_int_equal(n, 0);
	assert_int_equal(hex_decode("", 0, 0, b, 0, &n, NULL), HEX_OK);
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	assert_int_equal(hex_encode(all, 256, 1, s), 514);
	assert_memory_equal(s, "0x000102", 8);
	assert_string_equal(s + 510, "feff");
	uint8_t back[256];
	assert_int_equal(hex_decode(s, 514, 0, back, 256, &n, NULL), HEX_OK);
	assert_memory_equal(back, all, 256);
	assert_int_equal(hex_encode(all, 0, 0, s), 0);
	assert_string_equal(s, "");
	(void)off;
}

static void
test_errors(void **st)
{
	(void)st;
	uint8_t b[4];
	size_t n, off = 99;
	assert_int_equal(hex_decode("0xabc", 5, 0, b, 4, &n, &off), HEX_EODD);
	assert_int_equal(hex_decode("0xag", 4, 0, b, 4, &n, &off), HEX_ECHAR);
	assert_int_equal(off, 3);
	assert_int_equal(hex_decode("0x 0", 4, 0, b, 4, &n, &off), HEX_ECHAR);
	assert_int_equal(hex_decode("0x0x00", 6, 0, b, 4, &n, &off), HEX_ECHAR);
	assert_int_equal(off, 3);
	assert_int_equal(hex_decode("0a\0b", 4, 0, b, 4, &n, &off), HEX_ECHAR);
	assert_int_equal(off, 2);
	assert_int_equal(hex_decode("0011223344", 10, 0, b, 4, &n, &off), HEX_ESPACE);
	assert_int_equal(hex_decode_exact("0x0011", 6, b, 3), HEX_ESPACE);
	assert_int_equal(hex_decode_exact("0x001122", 8, b, 3), HEX_OK);
	assert_int_equal(hex_decode_exact("0x00112g", 8, b, 3), HEX_ECHAR);
	assert_string_equal(hex_strerror(HEX_ESUM), "bad EIP-55 address checksum");
	assert_string_equal(hex_strerror(-1000), "unknown hex error");
}

static const char *const eip55[] = {
	"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
	"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
	"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
	"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
	/* all caps and all lower examples from the EIP: their checksum form is all caps/lower too */
	"0x52908400098527886E0F7030069857D2E4169EE7",
	"0x8617E340B3D01FA5F11F306F4090FD50E238070D",
	"0xde709f2102306220921060314715629080e2fb77",
	"0x27b1fdb04752bbc536007a920d24acb045561c26",
};

static void
test_eip55(void **st)
{
	(void)st;
	for (size_t i = 0; i < sizeof eip55 / sizeof eip55[0]; i++) {
		uint8_t a[20];
		char out[43];
		assert_int_equal(hex_addr_parse(eip55[i], 42, a), HEX_OK);
		hex_addr_format(a, out);
		assert_string_equal(out, eip55[i]);
		/* Flip the case of one letter: a mixed-case string with a wrong checksum is refused. */
		char bad[43];
		memcpy(bad, eip55[i], 43);
		for (int k = 2; k < 42; k++) {
			if (bad[k] >= 'a' && bad[k] <= 'f') {
				bad[k] = (char)(bad[k] - 32);
				break;
			}
			if (bad[k] >= 'A' && bad[k] <= 'F') {
				bad[k] = (char)(bad[k] + 32);
				break;
			}
		}
		int mixed_before = 0;
		for (int k = 2; k < 42; k++)
			mixed_before |= (eip55[i][k] >= 'a' && eip55[i][k] <= 'f');
		if (mixed_before && strcmp(bad, eip55[i]) != 0) {
			int lower = 0, upper = 0;
			for (int k = 2; k < 42; k++) {
				lower |= bad[k] >= 'a' && bad[k] <= 'f';
				upper |= bad[k] >= 'A' && bad[k] <= 'F';
			}
			if (lower && upper)
				assert_int_equal(hex_addr_parse(bad, 42, a), HEX_ESUM);
		}
	}
	uint8_t a[20];
	/* lowercase form of a mixed vector is accepted (no checksum to check) */
	assert_int_equal(hex_addr_parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", 42, a), HEX_OK);
	assert_int_equal(hex_addr_parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", 42, a), HEX_ESUM);
	assert_int_equal(hex_addr_parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea", 40, a), HEX_ESPACE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_eip55),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
