/*
 * revert_test.c - revert data to text (revert.h). Vectors made with `cast calldata` (Foundry
 * 1.7.1): Error(string), Panic(uint256), a custom error; plus no data, short, malformed, hostile
 * reasons (quotes, control bytes) and the hex form of a JSON-RPC error's data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "chain/revert.h"

/* cast calldata "Error(string)" "not enabled oracle" */
static const char *ERR_HEX =
        "0x08c379a0000000000000000000000000000000000000000000000000000000000000002000000000000000000000000000000000"
        "000000000000000000000000000000126e6f7420656e61626c6564206f7261636c65000000000000000000000000000000";
/* cast calldata "Panic(uint256)" 17 */
static const char *PANIC_HEX = "0x4e487b710000000000000000000000000000000000000000000000000000000000000011";
/* cast calldata "NotTransmitter(address)" 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 */
static const char *CUSTOM_HEX = "0xb3106a0700000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8";

static void
test_vectors(void **st)
{
	(void)st;
	char out[256];
	assert_int_equal(rv_describe_hex(ERR_HEX, out, sizeof out), RV_ERROR_STRING);
	assert_string_equal(out, "reverted: not enabled oracle");
	assert_int_equal(rv_describe_hex(PANIC_HEX, out, sizeof out), RV_PANIC);
	assert_string_equal(out, "panic 0x11 (arithmetic overflow or underflow)");
	assert_int_equal(rv_describe_hex(CUSTOM_HEX, out, sizeof out), RV_CUSTOM);
	assert_string_equal(out, "custom error 0xb3106a07 (32 bytes of arguments)");
	assert_int_equal(rv_describe_hex("", out, sizeof out), RV_NONE);
	assert_string_equal(out, "reverted without a reason");
	assert_int_equal(rv_describe_hex("0x", out, sizeof out), RV_NONE);
	assert_int_equal(rv_describe_hex(NULL, out, sizeof out), RV_NONE);
	assert_string_equal(rv_panic_name(0x12), "division or modulo by zero");
	assert_null(rv_panic_name(0x99));
}

static void
test_malformed(void **st)
{
	(void)st;
	char out[256];
	assert_int_equal(rv_describe_hex("0x08c379", out, sizeof out), RV_MALFORMED);   /* < 4 bytes */
	assert_int_equal(rv_describe_hex("0x08c379a0", out, sizeof out), RV_MALFORMED); /* no string */
	assert_non_null(strstr(out, "malformed"));
	assert_int_equal(rv_describe_hex("0x4e487b7100", out, sizeof out), RV_MALFORMED); /* short panic */
	assert_int_equal(rv_describe_hex("0xzz", out, sizeof out), RV_MALFORMED);         /* not hex */
	assert_int_equal(rv_describe_hex("0x123", out, sizeof out), RV_MALFORMED);        /* odd */
	/* Error(string) whose length runs past the data */
	char bad[300];
	snprintf(bad, sizeof bad, "%s", ERR_HEX);
	bad[2 + 8 + 64 + 62] = 'f';
	assert_int_equal(rv_describe_hex(bad, out, sizeof out), RV_MALFORMED);
	/* a tiny buffer is still terminated */
	char tiny[8];
	rv_describe_hex(ERR_HEX, tiny, sizeof tiny);
	assert_int_equal(strlen(tiny), 7);
}

static void
test_hostile_reason(void **st)
{
	(void)st;
	/* Error("a\"b\\c\n\x80") built by hand: offset 32, length 7 */
	uint8_t d[4 + 96];
	memset(d, 0, sizeof d);
	memcpy(d, "\x08\xc3\x79\xa0", 4);
	d[4 + 31] = 32;
	d[4 + 63] = 7;
	memcpy(d + 4 + 64, "a\"b\\c\n\x80", 7);
	char out[64];
	assert_int_equal(rv_describe(d, sizeof d, out, sizeof out), RV_ERROR_STRING);
	assert_string_equal(out, "reverted: a?b?c??");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_hostile_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
