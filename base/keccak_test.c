/* keccak_test.c — Keccak-256 against published vectors; the permutation against SHA3-256 digests
 * computed independently with Python's hashlib (same permutation, different padding), which covers
 * multi-block inputs and every block-boundary length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/hex.h"
#include "base/keccak.h"

static void
expect_hash(const uint8_t got[32], const char *want_hex)
{
	char got_hex[65];
	hex_encode(got, 32, 0, got_hex);
	assert_string_equal(got_hex, want_hex);
}

static void
fill(char *buf, char ch, size_t n)
{
	memset(buf, ch, n);
}

static void
test_published(void **st)
{
	(void)st;
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470" },
		{ "abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45" },
		{ "The quick brown fox jumps over the lazy dog",
		  "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15" },
		{ "Transfer(address,address,uint256)",
		  "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef" },
		/* CCIP topic0 values, independently computed in the reference (section 1.3). */
		{ "CCIPSendRequested((uint64,address,address,uint64,uint256,bool,uint64,address,uint256,"
		  "bytes,(address,uint256)[],bytes[],bytes32))",
		  "d0c3c799bf9e2639de44391e7f524d229b2b55f5b1ea94b2bf7da42f7243dddd" },
		{ "ExecutionStateChanged(uint64,bytes32,uint8,bytes)",
		  "d4f851956a5d67c3997d1c9205045fef79bae2947fdee7e9e2641abc7391ef65" },
		{ "MessageExecuted(bytes32,uint64,address,bytes32)",
		  "9b877de93ea9895756e337442c657f95a34fc68e7eb988bdfa693d5be83016b6" },
		{ "CCIPMessageSent(uint64,uint64,((bytes32,uint64,uint64,uint64,uint64),address,bytes,bytes,"
		  "bytes,address,uint256,uint256,(address,bytes,bytes,uint256,bytes)[]))",
		  "192442a2b2adb6a7948f097023cb6b57d29d3a7a5dd33e6666d33c39cc456f32" },
		{ "ExecutionStateChanged(uint64,uint64,bytes32,bytes32,uint8,bytes,uint256)",
		  "05665fe9ad095383d018353f4cbcba77e84db27dd215081bbf7cdf9ae6fbe48b" },
		{ "CommitReportAccepted((uint64,bytes,uint64,uint64,bytes32)[],(uint64,bytes,uint64,uint64,"
		  "bytes32)[],((address,uint224)[],(uint64,uint224)[]))",
		  "b967c9b9e1b7af9a61ca71ff00e9f5b89ec6f2e268de8dacf12f0de8e51f3e47" },
		{ "ReportAccepted((((address,uint224)[],(uint64,uint224)[]),(uint64,uint64),bytes32))",
		  "291698c01aa71f912280535d88a00d2c59fb63530a3f5d0098560468acb9ebf5" },
		{ "MsgExecuted(bool,bytes,uint256)",
		  "a8b0355886b5b7a28bb97e4f0a24feb172618407402721c4012d8b7c6433102f" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		uint8_t h[32];
		kec_256(v[i].in, strlen(v[i].in), h);
		expect_hash(h, v[i].out);
	}
}

/* SHA3-256 digests from Python: hashlib.sha3_256(ch * n).hexdigest(). */
static const struct {
	size_t n;
	char ch;
	const char *out;
} sha3_v[] = {
	{ 0, 'a', "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a" },
	{ 135, 'a', "8094bb53c44cfb1e67b7c30447f9a1c33696d2463ecc1d9c92538913392843c9" },
	{ 136, 'a', "3fc5559f14db8e453a0a3091edbd2bc25e11528d81c66fa570a4efdcc2695ee1" },
	{ 137, 'a', "f8d6846cedd2ccfadf15c5879ef95af724d799eed7391fb1c91f95344e738614" },
	{ 200, 'a', "cce34485baf2bf2aca99b94833892a4f52896d3d153f7b840cc4f9fe695f1387" },
	{ 272, 'z', "2e1f1d54732d7231910b956edaad6cd1b349955ae6074a7616f16bfa292ed6d7" },
	{ 1000, 'b', "8a508241c54f538ffc6dc5d3a87fe875ec68f10ad398b4909818d0342d41df87" },
};

static void
test_sha3_crosscheck(void **st)
{
	(void)st;
	static char buf[1000];
	for (size_t i = 0; i < sizeof sha3_v / sizeof sha3_v[0]; i++) {
		uint8_t h[32];
		fill(buf, sha3_v[i].ch, sha3_v[i].n);
		kec_sha3_256(buf, sha3_v[i].n, h);
		expect_hash(h, sha3_v[i].out);
	}
}

/* Incremental absorption in every split of a multi-block message equals the one-shot hash. */
static void
test_incremental(void **st)
{
	(void)st;
	static uint8_t buf[700];
	uint8_t one[32], inc[32];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	kec_256(buf, sizeof buf, one);
	for (size_t a = 0; a <= sizeof buf; a += 17) {
		for (size_t step = 1; step <= 300; step += 37) {
			kec_ctx c;
			kec_init(&c);
			kec_update(&c, buf, a);
			for (size_t off = a; off < sizeof buf; off += step)
				kec_update(&c, buf + off, off + step > sizeof buf ? sizeof buf - off : step);
			kec_final(&c, inc);
			assert_memory_equal(one, inc, 32);
		}
	}
	/* keccak and sha3 must differ (padding byte), otherwise the vectors above prove less. */
	kec_sha3_256(buf, sizeof buf, inc);
	assert_memory_not_equal(one, inc, 32);
}

/* Keccak-f[1600] on the all-zero state: first lane of the published KeccakF-1600 test output. */
static void
test_permutation_zero(void **st)
{
	(void)st;
	uint64_t s[25] = { 0 };
	kec_f1600(s);
	assert_true(s[0] == 0xF1258F7940E1DDE7ULL);
	assert_true(s[1] == 0x84D5CCF933C0478AULL);
	assert_true(s[24] == 0xEAF1FF7B5CECA249ULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_published),
		cmocka_unit_test(test_sha3_crosscheck),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_permutation_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
