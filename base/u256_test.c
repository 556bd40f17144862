/* Unit tests of base/u256: arithmetic against constants computed independently with Python's
 * arbitrary-precision integers, exhaustive small products/quotients against native 64-bit
 * arithmetic, decimal round trips, and dec_to_fixed on the strings real price APIs send. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/u256.h"

/* Parse big-endian hex (no 0x) via u256_from_be: a path independent of the decimal code. */
static u256
H(const char *hex)
{
	uint8_t be[32] = { 0 };
	size_t n = strlen(hex), nb = (n + 1) / 2;
	assert_true(nb <= 32);
	for (size_t i = 0; i < n; i++) {
		char c = hex[n - 1 - i];
		unsigned v = c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
		be[31 - i / 2] |= (uint8_t)(v << (4 * (i % 2)));
	}
	u256 r;
	assert_int_equal(u256_from_be(&r, be, 32), 0);
	return r;
}

static void
assert_u256_eq(const u256 *a, const u256 *b)
{
	if (u256_cmp(a, b) != 0) {
		char x[80], y[80];
		u256_to_dec(a, x);
		u256_to_dec(b, y);
		fail_msg("%s != %s", x, y);
	}
}

/* Values from Python: a = 0xfedcba98...ff00, b = 0x3_ffff..._fffb (multi-limb divisor). */
static const char *A_HEX = "fedcba98765432100123456789abcdef112233445566778899aabbccddeeff00";
static const char *A_DEC = "115277457729594790111051606095322955253514671942149793155122938237500099854080";

static void
test_be_roundtrip(void **st)
{
	(void)st;
	u256 a = H(A_HEX), b;
	uint8_t be[32];
	u256_to_be(&a, be);
	assert_int_equal(be[0], 0xfe);
	assert_int_equal(be[31], 0x00);
	assert_int_equal(be[30], 0xff);
	assert_int_equal(u256_from_be(&b, be, 32), 0);
	assert_u256_eq(&a, &b);
	uint8_t small[3] = { 0x01, 0x02, 0x03 };
	assert_int_equal(u256_from_be(&b, small, 3), 0);
	assert_true(u256_fits_u64(&b));
	assert_int_equal(u256_low64(&b), 0x010203);
	uint8_t big[33] = { 0 };
	assert_int_equal(u256_from_be(&b, big, 33), -1);
}

static void
test_mul_div_python(void **st)
{
	(void)st;
	u256 a = H(A_HEX), b = H("3fffffffffffffffffffffffffffffffb"), r, q, m;
	u256_mul(&r, &a, &b);
	u256 want = H("4a39281705f4e3d260fa942dc760f654aa54ffaa54ffaa54ffaa54ffaa550500");
	assert_u256_eq(&r, &want);

	u256_divmod(&q, &m, &a, &b);
	u256 wq = H("3fb72ea61d950c840048d159e26af37c"), wm = H("4fb61c82e94fb61c9b16d28e4a05c06c");
	assert_u256_eq(&q, &wq);
	assert_u256_eq(&m, &wm);

	/* divisor near 2^64 */
	uint64_t rem = u256_divmod_u64(&q, &a, 0xfffffffffffffffdULL);
	wq = H("fedcba9876543212fdb97530eca864280a4e92d71b5fa400");
	assert_u256_eq(&q, &wq);
	assert_true(rem == 0xb8967452300deb00ULL);

	/* divisor with only the top bit of limb 2 and bit 0 set: 2^191 + 1 */
	u256 c = H("800000000000000000000000000000000000000000000001");
	u256_divmod(&q, &m, &a, &c);
	wq = H("1fdb97530eca86420");
	wm = H("123456789abcdef11223344556677869bf1469bf1469ae0");
	assert_u256_eq(&q, &wq);
	assert_u256_eq(&m, &wm);

	/* q*b + r == a, independently of the constants */
	u256 back;
	u256_divmod(&q, &m, &a, &b);
	u256_mul(&back, &q, &b);
	assert_int_equal(u256_add(&back, &back, &m), 0);
	assert_u256_eq(&back, &a);

	/* a / a = 1 rem 0; small / big = 0 rem small */
	u256_divmod(&q, &m, &a, &a);
	assert_true(u256_fits_u64(&q) && u256_low64(&q) == 1 && u256_is_zero(&m));
	u256_divmod(&q, &m, &b, &a);
	assert_true(u256_is_zero(&q));
	assert_u256_eq(&m, &b);
}

static void
test_add_sub_carry(void **st)
{
	(void)st;
	u256 max = H("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"), one, r, z;
	u256_from_u64(&one, 1);
	u256_zero(&z);
	assert_int_equal(u256_add(&r, &max, &one), 1);
	assert_true(u256_is_zero(&r));
	assert_int_equal(u256_sub(&r, &z, &one), 1);
	assert_u256_eq(&r, &max);
	/* carry across limbs: 2^64-1 + 1 = 2^64 */
	u256 x;
	u256_from_u64(&x, UINT64_MAX);
	assert_int_equal(u256_add(&r, &x, &one), 0);
	u256 w = H("10000000000000000");
	assert_u256_eq(&r, &w);
	assert_int_equal(u256_sub(&r, &r, &one), 0);
	assert_u256_eq(&r, &x);
	/* mul_u64 overflow detection */
	assert_int_equal(u256_mul_u64(&r, &max, 2), 1);
	u256 half = H("7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
	assert_int_equal(u256_mul_u64(&r, &half, 2), 0);
}

static void
test_signed(void **st)
{
	(void)st;
	u256 min = H("8000000000000000000000000000000000000000000000000000000000000000");
	u256 maxp = H("7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
	u256 m1, one, r;
	u256_from_u64(&one, 1);
	i256_neg(&m1, &one);
	assert_true(i256_is_neg(&m1) && i256_is_neg(&min) && !i256_is_neg(&maxp));
	assert_int_equal(i256_cmp(&min, &maxp), -1);
	assert_int_equal(i256_cmp(&m1, &one), -1);
	assert_int_equal(u256_cmp(&m1, &one), 1);
	assert_int_equal(i256_cmp(&min, &m1), -1);
	i256_neg(&r, &min);
	assert_u256_eq(&r, &min); /* -(-2^255) wraps to itself */
	char buf[80];
	i256_to_dec(&min, buf);
	assert_string_equal(buf, "-57896044618658097711785492504343953926634992332820282019728792003956564819968");
	i256_to_dec(&maxp, buf);
	assert_string_equal(buf, "57896044618658097711785492504343953926634992332820282019728792003956564819967");
	u256 a = H(A_HEX);
	i256_to_dec(&a, buf); /* Python: a - 2**256 */
	assert_string_equal(buf, "-514631507721405312519378913364952599755312723490770884334645770413029785856");
}

static void
test_exhaustive_small(void **st)
{
	(void)st;
	/* u16 x u16 through the 256-bit multiply and both divisions, against native arithmetic.
     * Strided to keep the run short, yet it covers every bit pattern class of both operands. */
	for (uint32_t x = 0; x < 65536; x += 251) {
		for (uint32_t y = 1; y < 65536; y += 13) {
			u256 a, b, r, q, m;
			u256_from_u64(&a, x);
			u256_from_u64(&b, y);
			u256_mul(&r, &a, &b);
			assert_true(u256_fits_u64(&r) && u256_low64(&r) == (uint64_t)x * y);
			u256_divmod(&q, &m, &a, &b);
			assert_true(u256_low64(&q) == x / y && u256_low64(&m) == x % y);
			/* the same quotient scaled into the top limb: (x << 192) / (y << 192) */
			u256 as = a, bs = b;
			as.w[3] = as.w[0];
			as.w[0] = 0;
			bs.w[3] = bs.w[0];
			bs.w[0] = 0;
			u256_divmod(&q, &m, &as, &bs);
			assert_true(u256_fits_u64(&q) && u256_low64(&q) == x / y);
			assert_true(m.w[3] == x % y && m.w[0] == 0);
		}
	}
}

static void
test_decimal(void **st)
{
	(void)st;
	u256 a, b;
	char buf[80];
	assert_int_equal(u256_from_dec(&a, A_DEC, strlen(A_DEC)), 0);
	b = H(A_HEX);
	assert_u256_eq(&a, &b);
	assert_int_equal(u256_to_dec(&a, buf), strlen(A_DEC));
	assert_string_equal(buf, A_DEC);

	const char *max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
	assert_int_equal(u256_from_dec(&a, max, strlen(max)), 0);
	u256_to_dec(&a, buf);
	assert_string_equal(buf, max);
	const char *over = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
	assert_int_equal(u256_from_dec(&a, over, strlen(over)), -1);
	/* inner chunk zero padding: 10^19 and 10^38 */
	assert_int_equal(u256_from_dec(&a, "100000000000000000000000000000000000000", 39), 0);
	u256_to_dec(&a, buf);
	assert_string_equal(buf, "100000000000000000000000000000000000000");
	u256_zero(&a);
	assert_int_equal(u256_to_dec(&a, buf), 1);
	assert_string_equal(buf, "0");

	const char *bad[] = { "", "01", "+1", "-1", "1a", " 1", "1 ", "1.0", "0x10" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(u256_from_dec(&a, bad[i], strlen(bad[i])), -1);
	assert_int_equal(u256_from_dec(&a, "0", 1), 0);

	const char *i_ok[] = { "0", "-1",
		               "57896044618658097711785492504343953926634992332820282019728792003956564819967",
		               "-57896044618658097711785492504343953926634992332820282019728792003956564819968",
		               "-123456789012345678901234567890" };
	for (size_t i = 0; i < sizeof i_ok / sizeof *i_ok; i++) {
		assert_int_equal(i256_from_dec(&a, i_ok[i], strlen(i_ok[i])), 0);
		i256_to_dec(&a, buf);
		assert_string_equal(buf, i_ok[i]);
	}
	const char *i_bad[] = { "-0", "--1", "-",
		                "57896044618658097711785492504343953926634992332820282019728792003956564819968",
		                "-57896044618658097711785492504343953926634992332820282019728792003956564819969" };
	for (size_t i = 0; i < sizeof i_bad / sizeof *i_bad; i++)
		assert_int_equal(i256_from_dec(&a, i_bad[i], strlen(i_bad[i])), -1);
}

struct fx {
	const char *in;
	unsigned dec;
	const char *want;
	int inexact;
};

static void
test_dec_to_fixed(void **st)
{
	(void)st;
	static const struct fx ok[] = {
		{ "67123.45000000", 8, "6712345000000", 0 }, /* Binance */
		{ "0.00001234", 8, "1234", 0 },
		{ "1e-8", 8, "1", 0 },
		{ "3.4E+3", 8, "340000000000", 0 },
		{ "-0.5", 8, "-50000000", 0 },
		{ "1234.5678", 8, "123456780000", 0 },
		{ "2E+5", 0, "200000", 0 },
		{ "1.5e-3", 6, "1500", 0 },
		{ "0", 8, "0", 0 },
		{ "-0", 8, "0", 0 },
		{ "0e999999999", 8, "0", 0 },
		{ "007.10", 2, "710", 0 },
		{ "1.23456789000", 8, "123456789", 0 }, /* dropped digits all zero: exact */
		{ "1.234567895", 8, "123456790", 1 },   /* half-even: ...89|5 -> ...90 */
		{ "1.234567885", 8, "123456788", 1 },   /* half-even: ...88|5 -> ...88 */
		{ "1.2345678851", 8, "123456789", 1 },  /* above half */
		{ "1.234567884999", 8, "123456788", 1 },
		{ "-1.234567895", 8, "-123456790", 1 },
		{ "0.000000005", 8, "0", 1 }, /* exactly half of the unit, even -> 0 */
		{ "0.000000015", 8, "2", 1 },
		{ "0.0000000051", 8, "1", 1 },
		{ "1e-20", 8, "0", 1 },
		{ "12", 0, "12", 0 },
		{ "1e76", 0, "10000000000000000000000000000000000000000000000000000000000000000000000000000", 0 },
		{ "57896044618658097711785492504343953926634992332820282019728792003956564819967", 0,
		  "57896044618658097711785492504343953926634992332820282019728792003956564819967", 0 },
		{ "-57896044618658097711785492504343953926634992332820282019728792003956564819968", 0,
		  "-57896044618658097711785492504343953926634992332820282019728792003956564819968", 0 },
	};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		u256 v;
		int inexact = -1;
		char buf[80];
		if (dec_to_fixed(ok[i].in, strlen(ok[i].in), ok[i].dec, &v, &inexact) != 0)
			fail_msg("dec_to_fixed(\"%s\") failed", ok[i].in);
		i256_to_dec(&v, buf);
		if (strcmp(buf, ok[i].want) != 0 || inexact != ok[i].inexact)
			fail_msg("dec_to_fixed(\"%s\", %u) = %s inexact %d, want %s inexact %d", ok[i].in, ok[i].dec,
			         buf, inexact, ok[i].want, ok[i].inexact);
	}
	static const char *bad[] = { "",
		                     "-",
		                     ".5",
		                     "5.",
		                     "1..2",
		                     "1.2.3",
		                     "abc",
		                     "1e",
		                     "1e+",
		                     "+1",
		                     " 1",
		                     "1 ",
		                     "0x10",
		                     "1,5",
		                     "NaN",
		                     "inf",
		                     "1e80",
		                     "-",
		                     "57896044618658097711785492504343953926634992332820282019728792003956564819968",
		                     "-57896044618658097711785492504343953926634992332820282019728792003956564819969",
		                     "1e99999999999999999999" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		u256 v;
		if (dec_to_fixed(bad[i], strlen(bad[i]), 8, &v, NULL) != -1)
			fail_msg("dec_to_fixed accepted \"%s\"", bad[i]);
	}
	u256 v;
	assert_int_equal(dec_to_fixed("1", 1, 78, &v, NULL), -1);
	/* the length is honoured: a longer buffer with junk after n */
	assert_int_equal(dec_to_fixed("12.5xyz", 4, 1, &v, NULL), 0);
	assert_true(u256_low64(&v) == 125);
}

static void
test_fixed_to_dec(void **st)
{
	(void)st;
	static const struct {
		const char *v;
		unsigned dec;
		const char *want;
	} cases[] = {
		{ "6712345000000", 8, "67123.45" },
		{ "1234", 8, "0.00001234" },
		{ "-50000000", 8, "-0.5" },
		{ "0", 8, "0" },
		{ "100000000", 8, "1" },
		{ "-1", 8, "-0.00000001" },
		{ "12", 0, "12" },
		{ "123456780000", 8, "1234.5678" },
		{ "-0", 0, NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		u256 v;
		char out[96];
		if (!cases[i].want)
			continue;
		assert_int_equal(i256_from_dec(&v, cases[i].v, strlen(cases[i].v)), 0);
		size_t n = fixed_to_dec(&v, cases[i].dec, out);
		assert_string_equal(out, cases[i].want);
		assert_int_equal(n, strlen(cases[i].want));
		/* and back */
		u256 back;
		assert_int_equal(dec_to_fixed(out, n, cases[i].dec, &back, NULL), 0);
		assert_u256_eq(&back, &v);
	}
	/* extremes fit the 96-byte buffer */
	u256 min = H("8000000000000000000000000000000000000000000000000000000000000000"), back;
	char out[96];
	size_t n = fixed_to_dec(&min, 77, out);
	assert_int_equal(n, strlen(out));
	assert_string_equal(out, "-0.57896044618658097711785492504343953926634992332820282019728792003956564819968");
	assert_int_equal(dec_to_fixed(out, n, 77, &back, NULL), 0);
	assert_u256_eq(&back, &min);
	assert_int_equal(fixed_to_dec(&min, 78, out), 0);
}

static uint64_t rs = 0x243f6a8885a308d3ULL;
static uint64_t
rnd64(void)
{
	rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
	return rs;
}

/* Properties on random values, checked against native 64-bit formatting where it applies and
 * against the defining identities elsewhere. */
static void
test_random_properties(void **st)
{
	(void)st;
	for (int it = 0; it < 20000; it++) {
		/* fixed point vs an independent lldiv-based rendering */
		int64_t v = (int64_t)rnd64() >> (rnd64() % 60);
		unsigned dec = (unsigned)(rnd64() % 19);
		uint64_t p10 = 1;
		for (unsigned k = 0; k < dec; k++)
			p10 *= 10;
		uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
		char want[64], frac[32];
		snprintf(frac, sizeof frac, "%0*llu", (int)dec, (unsigned long long)(mag % p10));
		size_t fl = dec;
		while (fl > 0 && frac[fl - 1] == '0')
			frac[--fl] = 0;
		snprintf(want, sizeof want, "%s%llu%s%s", v < 0 ? "-" : "", (unsigned long long)(mag / p10),
		         fl ? "." : "", fl ? frac : "");
		u256 x, back;
		u256_from_u64(&x, mag);
		if (v < 0)
			i256_neg(&x, &x);
		char out[96];
		size_t n = fixed_to_dec(&x, dec, out);
		if (strcmp(out, want) != 0)
			fail_msg("fixed_to_dec(%lld, %u) = %s, want %s", (long long)v, dec, out, want);
		int inexact = 1;
		assert_int_equal(dec_to_fixed(out, n, dec, &back, &inexact), 0);
		assert_int_equal(inexact, 0);
		assert_u256_eq(&back, &x);

		/* full-width values: decimal round trip, division identity */
		u256 a, b, q, r, t;
		for (int k = 0; k < 4; k++) {
			a.w[k] = rnd64();
			b.w[k] = rnd64() >> (rnd64() % 64);
		}
		b.w[3] >>= rnd64() % 64; /* divisors of every limb count */
		if (rnd64() & 1)
			b.w[3] = 0, b.w[2] &= rnd64();
		if (u256_is_zero(&b))
			b.w[0] = 1;
		char d1[80];
		size_t dl = u256_to_dec(&a, d1);
		assert_int_equal(u256_from_dec(&t, d1, dl), 0);
		assert_u256_eq(&t, &a);
		u256_divmod(&q, &r, &a, &b);
		assert_true(u256_cmp(&r, &b) < 0);
		u256_mul(&t, &q, &b);
		assert_int_equal(u256_add(&t, &t, &r), 0);
		assert_u256_eq(&t, &a);
		/* small values print like printf */
		uint64_t s64 = rnd64();
		char d2[80], d3[32];
		u256_from_u64(&t, s64);
		u256_to_dec(&t, d2);
		snprintf(d3, sizeof d3, "%llu", (unsigned long long)s64);
		assert_string_equal(d2, d3);
	}
}

static u256
rp_dec(const char *s)
{
	u256 v;
	assert_int_equal(i256_from_dec(&v, s, strlen(s)), 0);
	return v;
}

static void
rp_assert_dec(const u256 *v, const char *want)
{
	char buf[80];
	i256_to_dec(v, buf);
	assert_string_equal(buf, want);
}

/* Thresholds and ratios (moved here from the median, which uses them with the gate and signer). */
static void
test_ratio_ppm(void **st)
{
	(void)st;
	u256 n = rp_dec("1"), d = rp_dec("3");
	assert_int_equal(u256_ratio_ppm(&n, &d), 333333);
	n = rp_dec("2"), d = rp_dec("3");
	assert_int_equal(u256_ratio_ppm(&n, &d), 666666);
	n = rp_dec("0"), d = rp_dec("0");
	assert_int_equal(u256_ratio_ppm(&n, &d), 0);
	n = rp_dec("5");
	assert_int_equal(u256_ratio_ppm(&n, &d), UINT64_MAX);
	/* 256-bit operands whose product with 10^6 needs 320 bits */
	const char *big = "57896044618658097711785492504343953926634992332820282019728792003956564819967";
	n = rp_dec(big), d = rp_dec(big);
	assert_int_equal(u256_ratio_ppm(&n, &d), 1000000);
	u256 two;
	u256_from_u64(&two, 2);
	u256_divmod(&d, NULL, &n, &two);                  /* big / 2 */
	assert_int_equal(u256_ratio_ppm(&d, &n), 499999); /* floor((big-1)/2 / big * 1e6) */
	/* a huge ratio saturates */
	n = rp_dec(big), d = rp_dec("1");
	assert_int_equal(u256_ratio_ppm(&n, &d), UINT64_MAX);
	u256 x = rp_dec("-7"), y = rp_dec("5"), r;
	i256_absdiff(&r, &x, &y);
	rp_assert_dec(&r, "12");
	i256_absdiff(&r, &y, &x);
	rp_assert_dec(&r, "12");
}

static void
test_cmp_scaled(void **st)
{
	(void)st;
	/* against __int128 on small values */
	for (uint64_t a = 0; a < 300; a += 7)
		for (uint64_t b = 0; b < 300; b += 11)
			for (uint64_t ma = 0; ma < 2000000; ma += 333331) {
				u256 x, y;
				u256_from_u64(&x, a);
				u256_from_u64(&y, b);
				unsigned __int128 l = (unsigned __int128)a * ma, r = (unsigned __int128)b * 1000000;
				assert_int_equal(u256_cmp_scaled(&x, ma, &y, 1000000), l < r ? -1 : l > r);
			}
	/* 2^256-1 times 2 exceeds 256 bits: still ordered right */
	u256 max, half;
	memset(&max, 0xff, sizeof max);
	u256_divmod_u64(&half, &max, 2);
	assert_int_equal(u256_cmp_scaled(&max, 1, &half, 2), 1); /* 2^256-1 > 2^256-2 */
	assert_int_equal(u256_cmp_scaled(&half, 2, &max, 1), -1);
	assert_int_equal(u256_cmp_scaled(&max, 3, &max, 3), 0);
	u256 m = rp_dec("-57896044618658097711785492504343953926634992332820282019728792003956564819968"), r;
	i256_abs(&r, &m);
	char buf[80];
	u256_to_dec(&r, buf);
	assert_string_equal(buf, "57896044618658097711785492504343953926634992332820282019728792003956564819968");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_be_roundtrip),      cmocka_unit_test(test_mul_div_python),
		cmocka_unit_test(test_add_sub_carry),     cmocka_unit_test(test_signed),
		cmocka_unit_test(test_exhaustive_small),  cmocka_unit_test(test_decimal),
		cmocka_unit_test(test_dec_to_fixed),      cmocka_unit_test(test_fixed_to_dec),
		cmocka_unit_test(test_random_properties), cmocka_unit_test(test_ratio_ppm),
		cmocka_unit_test(test_cmp_scaled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
