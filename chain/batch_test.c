/*
 * batch_test.c - the batch calls (batch.h) against Foundry's cast (1.7.1): the calldata of
 * aggregate3 and updateAnswers, the (bool,bytes)[] results, and the isolation of failing calls by
 * halving (a fake probe that knows which calls revert and whether the batch catches them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/hex.h"
#include "chain/batch.h"

static const char *A1 = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
static const char *A2 = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";

/* cast calldata 'aggregate3((address,bool,bytes)[])' '[(A1,true,0x99213cd8<300000000000>),
 * (A2,true,0x99213cd8<-200>)]' */
static const char *AGG3_HEX =
        "0x82ad56cb0000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000"
        "00000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000040000000"
        "00000000000000000000000000000000000000000000000000000001000000000000000000000000005fbdb2315678afecb367f0"
        "32d93f642f64180aa300000000000000000000000000000000000000000000000000000000000000010000000000000000000000"
        "00000000000000000000000000000000000000006000000000000000000000000000000000000000000000000000000000000000"
        "2499213cd800000000000000000000000000000000000000000000000000000045d964b800000000000000000000000000000000"
        "00000000000000000000000000000000000000000000000000e7f1725e7734ce288f8367e1bb143e90bb3f051200000000000000"
        "00000000000000000000000000000000000000000000000001000000000000000000000000000000000000000000000000000000"
        "0000000060000000000000000000000000000000000000000000000000000000000000002499213cd8ffffffffffffffffffffff"
        "ffffffffffffffffffffffffffffffffffffffff3800000000000000000000000000000000000000000000000000000000";
/* cast calldata 'updateAnswers(address[],int256[])' '[A1,A2]' '[300000000000,-200]' */
static const char *UPD_HEX =
        "0xa625a0e20000000000000000000000000000000000000000000000000000000000000040000000000000000000000000000000"
        "00000000000000000000000000000000a00000000000000000000000000000000000000000000000000000000000000002000000"
        "0000000000000000005fbdb2315678afecb367f032d93f642f64180aa3000000000000000000000000e7f1725e7734ce288f8367"
        "e1bb143e90bb3f051200000000000000000000000000000000000000000000000000000000000000020000000000000000000000"
        "0000000000000000000000000000000045d964b800ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
        "38";
/* cast abi-encode 'f((bool,bytes)[])' '[(true,0x),(false,<Error("bad")>)]' */
static const char *RES_HEX =
        "0x000000000000000000000000000000000000000000000000000000000000002000000000000000000000000000000000000000"
        "00000000000000000000000002000000000000000000000000000000000000000000000000000000000000004000000000000000"
        "000000000000000000000000000000000000000000000000a0000000000000000000000000000000000000000000000000000000"
        "00000000010000000000000000000000000000000000000000000000000000000000000040000000000000000000000000000000"
        "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        "00000000000000000000000000000000000000000000000000000000400000000000000000000000000000000000000000000000"
        "00000000000000006408c379a0000000000000000000000000000000000000000000000000000000000000002000000000000000"
        "00000000000000000000000000000000000000000000000003626164000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000";

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	assert_int_equal(hex_decode(s, strlen(s), HEX_PREFIX_OPTIONAL, out, cap, &n, NULL), HEX_OK);
	return n;
}

static void
calls2(cb_call c[2], uint8_t a[2][20], uint8_t in[2][36])
{
	assert_int_equal(hex_addr_parse(A1, strlen(A1), a[0]), HEX_OK);
	assert_int_equal(hex_addr_parse(A2, strlen(A2), a[1]), HEX_OK);
	unhex("99213cd800000000000000000000000000000000000000000000000000000045d964b800", in[0], 36);
	unhex("99213cd8ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff38", in[1], 36);
	memset(c, 0, 2 * sizeof *c);
	c[0] = (cb_call){ .target = a[0], .data = in[0], .len = 36 };
	c[1] = (cb_call){ .target = a[1], .data = in[1], .len = 36 };
	u256_from_u64(&c[0].answer, 300000000000ull);
	u256 two00;
	u256_from_u64(&two00, 200);
	i256_neg(&c[1].answer, &two00);
}

static void
test_encode_vs_cast(void **st)
{
	(void)st;
	cb_call c[2];
	uint8_t a[2][20], in[2][36], out[1024], want[1024];
	size_t len, wl;
	calls2(c, a, in);
	assert_int_equal(cb_encode(CB_AGGREGATE3, c, 2, out, sizeof out, &len), 0);
	wl = unhex(AGG3_HEX, want, sizeof want);
	assert_int_equal(len, wl);
	assert_memory_equal(out, want, wl);
	assert_int_equal(cb_encode(CB_UPDATE_ANSWERS, c, 2, out, sizeof out, &len), 0);
	wl = unhex(UPD_HEX, want, sizeof want);
	assert_int_equal(len, wl);
	assert_memory_equal(out, want, wl);
	/* too small a buffer, no call, too many calls, unknown kind */
	assert_int_equal(cb_encode(CB_AGGREGATE3, c, 2, out, 100, &len), -1);
	assert_int_equal(cb_encode(CB_AGGREGATE3, c, 0, out, sizeof out, &len), -1);
	assert_int_equal(cb_encode(CB_AGGREGATE3, c, CB_MAX_CALLS + 1, out, sizeof out, &len), -1);
	assert_int_equal(cb_encode(CB_NONE, c, 2, out, sizeof out, &len), -1);
}

static void
test_encode_max(void **st)
{
	(void)st;
	static cb_call c[CB_MAX_CALLS];
	static uint8_t out[32768];
	uint8_t a[20] = { 1 }, in[36] = { 0xa8, 0x7a, 0x20, 0xce };
	size_t len;
	for (size_t i = 0; i < CB_MAX_CALLS; i++)
		c[i] = (cb_call){ .target = a, .data = in, .len = sizeof in };
	assert_int_equal(cb_encode(CB_AGGREGATE3, c, CB_MAX_CALLS, out, sizeof out, &len), 0);
	/* 4 + 2 head words + per call: offset word, 3 tuple words, length word, 64 bytes of data */
	assert_int_equal(len, 4 + 64 + CB_MAX_CALLS * (32 + 96 + 32 + 64));
	assert_int_equal(cb_encode(CB_UPDATE_ANSWERS, c, CB_MAX_CALLS, out, sizeof out, &len), 0);
	assert_int_equal(len, 4 + 128 + CB_MAX_CALLS * 64);
}

static void
test_results(void **st)
{
	(void)st;
	uint8_t d[1024];
	cb_result r[3];
	char err[128];
	size_t n = unhex(RES_HEX, d, sizeof d);
	assert_int_equal(cb_decode_results(d, n, r, 2, err, sizeof err), 0);
	assert_true(r[0].success);
	assert_int_equal(r[0].len, 0);
	assert_false(r[1].success);
	assert_int_equal(r[1].len, 100);
	assert_memory_equal(r[1].data, "\x08\xc3\x79\xa0", 4);
	/* a count that is not the number of calls, truncated data */
	assert_int_equal(cb_decode_results(d, n, r, 3, err, sizeof err), -1);
	assert_non_null(strstr(err, "2 entries for 3 calls"));
	assert_int_equal(cb_decode_results(d, n, r, 1, err, sizeof err), -1);
	assert_int_equal(cb_decode_results(d, n - 40, r, 2, err, sizeof err), -1);
	assert_int_equal(cb_decode_results(d, 10, r, 2, err, sizeof err), -1);
}

/* The fake chain: which calls revert, and whether the batch contract catches them (then the
 * batch answers per call) or not (then any revert reverts the whole batch). */
typedef struct {
	const uint8_t *bad;
	int catches;
	int probes;
	int error_after; /* probes before the "RPC" fails; 0 = never */
} fake;

static int
fake_probe(void *ctx, const size_t *idx, size_t k, uint8_t *failed)
{
	fake *f = ctx;
	int any = 0;
	f->probes++;
	if (f->error_after && f->probes > f->error_after)
		return CB_P_ERROR;
	for (size_t j = 0; j < k; j++)
		any |= failed[j] = f->bad[idx[j]];
	return f->catches || !any ? CB_P_OK : CB_P_REVERT;
}

static void
test_isolate(void **st)
{
	(void)st;
	uint8_t bad[10] = { 0 }, cul[10];
	fake f = { .bad = bad, .catches = 1 };
	/* nothing fails: one probe */
	assert_int_equal(cb_isolate(10, fake_probe, &f, cul), 1);
	for (int i = 0; i < 10; i++)
		assert_int_equal(cul[i], 0);
	/* a catching batch: one probe names the culprit */
	bad[7] = 1;
	f.probes = 0;
	assert_int_equal(cb_isolate(10, fake_probe, &f, cul), 1);
	for (int i = 0; i < 10; i++)
		assert_int_equal(cul[i], i == 7);
	/* a batch that reverts as a whole: halving finds each culprit, and only them */
	f.catches = 0;
	f.probes = 0;
	bad[2] = 1;
	int p = cb_isolate(10, fake_probe, &f, cul);
	assert_true(p > 1 && p == f.probes);
	for (int i = 0; i < 10; i++)
		assert_int_equal(cul[i], i == 7 || i == 2);
	/* every call fails */
	memset(bad, 1, sizeof bad);
	assert_true(cb_isolate(10, fake_probe, &f, cul) > 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(cul[i], 1);
	/* one call that reverts alone */
	assert_int_equal(cb_isolate(1, fake_probe, &f, cul), 1);
	assert_int_equal(cul[0], 1);
	/* the RPC fails half-way: no verdict */
	memset(bad, 0, sizeof bad);
	bad[9] = 1;
	f.probes = 0;
	f.error_after = 2;
	assert_int_equal(cb_isolate(10, fake_probe, &f, cul), -1);
	assert_int_equal(cb_isolate(0, fake_probe, &f, cul), 0);
}

static void
test_kind(void **st)
{
	(void)st;
	assert_int_equal(cb_kind_parse("aggregate3"), CB_AGGREGATE3);
	assert_int_equal(cb_kind_parse("updateAnswers"), CB_UPDATE_ANSWERS);
	assert_int_equal(cb_kind_parse("off"), CB_NONE);
	assert_int_equal(cb_kind_parse(""), CB_NONE);
	assert_int_equal(cb_kind_parse("multicall"), -1);
	assert_string_equal(cb_kind_name(CB_AGGREGATE3), "aggregate3");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_vs_cast), cmocka_unit_test(test_encode_max),
		cmocka_unit_test(test_results),        cmocka_unit_test(test_isolate),
		cmocka_unit_test(test_kind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
