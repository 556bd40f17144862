/* amount_test.c: exact amounts (parse, format, token units) and the ISO 4217 minor-units table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "payments/amount.h"

static int
parse(const char *s, char sep, pm_amount *a)
{
	char err[64] = "";
	int rc = pm_amount_parse(s, strlen(s), sep, a, err, sizeof err);
	if (rc)
		assert_true(err[0] != '\0'); /* every refusal says why */
	return rc;
}

static void
expect(const char *s, char sep, uint64_t units, unsigned scale)
{
	pm_amount a = { 0, 0 };
	if (parse(s, sep, &a) != 0)
		fail_msg("'%s' refused", s);
	if (a.units != units || a.scale != scale)
		fail_msg("'%s' -> %llu/%u, want %llu/%u", s, (unsigned long long)a.units, a.scale,
		         (unsigned long long)units, scale);
}

static void
test_parse_ok(void **st)
{
	(void)st;
	expect("1234.56", '.', 123456, 2);
	expect("1234,56", ',', 123456, 2);
	expect("1234,", ',', 1234, 0); /* MT: the comma is mandatory, decimals are not */
	expect("0", '.', 0, 0);
	expect("0,", ',', 0, 0);
	expect("0.05", '.', 5, 2);
	expect("00012.50", '.', 1250, 2);   /* leading zeros: xs:decimal allows them */
	expect("1.50000", '.', 150000, 5);  /* trailing zeros kept: scale as written */
	expect("1.500000", '.', 150000, 5); /* a 6th fraction digit that is a zero is only a zero */
	expect("0.000000", '.', 0, 5);
	expect("999999999999999999", '.', 999999999999999999ULL, 0);
	expect("9999999999999.99999", '.', 999999999999999999ULL, 5);
	expect("99999999999999999.90", '.', 999999999999999999ULL, 1); /* 18 digits by value */
	expect("0000000000000000000000000001", '.', 1, 0);
	expect("0.00001", '.', 1, 5);
	expect("1814,28", ',', 181428, 2);
	expect("136500,", ',', 136500, 0);
}

static void
test_parse_refused(void **st)
{
	(void)st;
	static const char *const bad_dot[] = {
		"",
		".5",
		"1.",
		"1.2.3",
		"1,5",
		"-1",
		"+1",
		"1e5",
		"1E5",
		" 1",
		"1 ",
		"1_000",
		"0x10",
		"1.000001",
		"1000000000000000000",
		"9999999999999999999",
		"12345678901234.56789",
		"0.0000001",
		"1.5\n",
		"NaN",
		"inf",
		"١",
	};
	pm_amount a;
	for (size_t i = 0; i < sizeof bad_dot / sizeof bad_dot[0]; i++)
		if (parse(bad_dot[i], '.', &a) == 0)
			fail_msg("'%s' accepted", bad_dot[i]);
	static const char *const bad_comma[] = { ",5", "1,2,3", "1.5", "1,,", "1,000001", "," };
	for (size_t i = 0; i < sizeof bad_comma / sizeof bad_comma[0]; i++)
		if (parse(bad_comma[i], ',', &a) == 0)
			fail_msg("'%s' accepted with ','", bad_comma[i]);
	char err[64];
	assert_int_equal(pm_amount_parse("1", 1, 'x', &a, err, sizeof err), -1);
	assert_int_equal(pm_amount_parse(NULL, 0, '.', &a, NULL, 0), -1); /* err may be NULL */
	/* length is honoured: "12.5" read as "12" */
	assert_int_equal(pm_amount_parse("12.5", 2, '.', &a, NULL, 0), 0);
	assert_int_equal(a.units, 12);
	assert_int_equal(pm_amount_parse("12\0"
	                                 "5",
	                                 4, '.', &a, NULL, 0),
	                 -1);
}

static void
test_minor_units(void **st)
{
	(void)st;
	static const char *const zero[] = { "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
		                            "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF" };
	static const char *const three[] = { "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND" };
	static const char *const none[] = { "XAU", "XAG", "XDR", "XTS", "XXX", "XPD", "XPT", "XBA", "XSU", "XUA" };
	static const char *const two[] = { "EUR", "USD", "GBP", "CHF", "CNY", "INR", "BRL", "ZAR", "AED", "SEK",
		                           "HUF", "IDR", "MGA", "MRU", "VES", "XCD", "XCG", "ZWG", "AUD", "CAD" };
	static const char *const unknown[] = {
		"ABC", "eur", "Eur", "EU", "", "HRK", "DEM", "FRF", "XYZ", "ZZZ", "E1R"
	};
	for (size_t i = 0; i < sizeof zero / sizeof *zero; i++)
		assert_int_equal(pm_ccy_minor_units(zero[i]), 0);
	for (size_t i = 0; i < sizeof three / sizeof *three; i++)
		assert_int_equal(pm_ccy_minor_units(three[i]), 3);
	for (size_t i = 0; i < sizeof none / sizeof *none; i++) {
		assert_int_equal(pm_ccy_minor_units(none[i]), -1);
		assert_int_equal(pm_ccy_listed(none[i]), 1);
	}
	for (size_t i = 0; i < sizeof two / sizeof *two; i++)
		assert_int_equal(pm_ccy_minor_units(two[i]), 2);
	for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
		assert_int_equal(pm_ccy_minor_units(unknown[i]), -1);
		assert_int_equal(pm_ccy_listed(unknown[i]), 0);
	}
	assert_int_equal(pm_ccy_minor_units("CLF"), 4);
	assert_int_equal(pm_ccy_minor_units("UYW"), 4);
	assert_int_equal(pm_ccy_minor_units(NULL), -1);
	/* reads 3 bytes: a pointer into MT text "USD1814,28" works */
	assert_int_equal(pm_ccy_minor_units("USD1814,28"), 2);
	/* every code of the table is found (binary search over the whole table): walk AAA..ZZZ and
	 * count; the table holds 182 codes, 17 with 0 decimals, 7 with 3, 2 with 4, 13 without */
	int listed = 0, counts[6] = { 0 };
	char c[4] = "AAA";
	for (c[0] = 'A'; c[0] <= 'Z'; c[0]++)
		for (c[1] = 'A'; c[1] <= 'Z'; c[1]++)
			for (c[2] = 'A'; c[2] <= 'Z'; c[2]++) {
				if (!pm_ccy_listed(c)) {
					assert_int_equal(pm_ccy_minor_units(c), -1);
					continue;
				}
				listed++;
				counts[pm_ccy_minor_units(c) + 1]++;
			}
	assert_int_equal(listed, 182);
	assert_int_equal(counts[0], 13);
	assert_int_equal(counts[1], 17);
	assert_int_equal(counts[4], 7);
	assert_int_equal(counts[5], 2);
	assert_int_equal(counts[3], 143);
}

static void
test_decimals(void **st)
{
	(void)st;
	pm_amount a = { 150, 2 };
	assert_int_equal(pm_amount_decimals(&a), 1);
	a = (pm_amount){ 100, 0 };
	assert_int_equal(pm_amount_decimals(&a), 0);
	a = (pm_amount){ 100, 2 };
	assert_int_equal(pm_amount_decimals(&a), 0);
	a = (pm_amount){ 0, 5 };
	assert_int_equal(pm_amount_decimals(&a), 0);
	a = (pm_amount){ 12345, 5 };
	assert_int_equal(pm_amount_decimals(&a), 5);
}

static void
tok(const char *amt, unsigned minor, unsigned dec, const char *want)
{
	pm_amount a;
	assert_int_equal(parse(amt, '.', &a), 0);
	u256 v;
	int rc = pm_amount_to_token_units(&a, minor, dec, &v);
	if (!want) {
		if (rc != -1)
			fail_msg("%s minor %u dec %u: converted, want refusal", amt, minor, dec);
		return;
	}
	assert_int_equal(rc, 0);
	char s[80];
	u256_to_dec(&v, s);
	if (strcmp(s, want))
		fail_msg("%s minor %u dec %u -> %s, want %s", amt, minor, dec, s, want);
}

static void
test_token_units(void **st)
{
	(void)st;
	tok("1.50", 2, 18, "1500000000000000000");
	tok("1.5", 2, 2, "150");
	tok("1.50000", 2, 2, "150"); /* trailing zeros are not decimals */
	tok("100", 0, 0, "100");
	tok("100", 0, 6, "100000000");
	tok("0.001", 3, 3, "1");
	tok("0", 2, 18, "0");
	tok("1.505", 2, 18, NULL); /* 3 decimals, the currency allows 2 */
	tok("1.5", 2, 1, NULL);    /* fewer token decimals than minor units */
	tok("1", 4, 4, "10000");
	tok("999999999999999999", 0, 59,
	    "99999999999999999900000000000000000000000000000000000000000000000000000000000");
	tok("999999999999999999", 0, 60, NULL); /* > 2^256 - 1 */
	tok("1", 0, 77, "100000000000000000000000000000000000000000000000000000000000000000000000000000");
	tok("1", 0, 78, NULL);
	pm_amount bad = { 1000000000000000000ULL, 0 };
	u256 v;
	assert_int_equal(pm_amount_to_token_units(&bad, 2, 18, &v), -1);
	bad = (pm_amount){ 1, 6 };
	assert_int_equal(pm_amount_to_token_units(&bad, 6, 18, &v), -1);
	/* minor units straight from the table: -1 (XAU) becomes a huge unsigned: refused */
	pm_amount one = { 1, 0 };
	assert_int_equal(pm_amount_to_token_units(&one, (unsigned)pm_ccy_minor_units("XAU"), 18, &v), -1);
}

static void
fmt(uint64_t units, unsigned scale, unsigned dec, const char *want)
{
	pm_amount a = { units, (uint8_t)scale };
	char out[64];
	int n = pm_amount_format(&a, dec, out, sizeof out);
	if (!want) {
		assert_int_equal(n, -1);
		return;
	}
	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(out, want);
}

static void
test_format(void **st)
{
	(void)st;
	fmt(12345, 1, 2, "1234.50");
	fmt(0, 0, 2, "0.00");
	fmt(0, 0, 0, "0");
	fmt(123400, 2, 0, "1234");
	fmt(1505, 3, 2, NULL);
	fmt(5, 5, 5, "0.00005");
	fmt(5, 5, 18, "0.000050000000000000");
	fmt(999999999999999999ULL, 0, 0, "999999999999999999");
	fmt(1000000000000000000ULL, 0, 0, NULL); /* not a valid pm_amount */
	fmt(1, 6, 6, NULL);
	pm_amount a = { 12345, 2 }; /* "123.45": 6 chars + NUL */
	char out[8];
	assert_int_equal(pm_amount_format(&a, 2, out, 7), 6);
	assert_string_equal(out, "123.45");
	assert_int_equal(pm_amount_format(&a, 2, out, 6), -1);
	assert_int_equal(pm_amount_format(&a, 2, out, 0), -1);
}

static void
test_roundtrip(void **st)
{
	(void)st;
	/* every scale with units around each power of ten: format with the written scale, parse back */
	for (unsigned scale = 0; scale <= 5; scale++)
		for (int p = 0; p <= 18; p++)
			for (int d = -1; d <= 1; d++) {
				uint64_t u = 1;
				for (int k = 0; k < p; k++)
					u *= 10;
				if (p == 18 && d >= 0)
					continue;
				if (u == 1 && d < 0)
					u = 0;
				else
					u = (uint64_t)((int64_t)u + d);
				pm_amount a = { u, (uint8_t)scale }, b;
				char s[40];
				int n = pm_amount_format(&a, scale, s, sizeof s);
				assert_true(n > 0);
				for (char sep = '.'; sep; sep = sep == '.' ? ',' : 0) {
					char t[40];
					memcpy(t, s, (size_t)n + 1);
					if (sep == ',' && strchr(t, '.'))
						*strchr(t, '.') = ',';
					assert_int_equal(pm_amount_parse(t, (size_t)n, sep, &b, NULL, 0), 0);
					assert_int_equal(b.units, a.units);
					assert_int_equal(b.scale, a.scale);
				}
			}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),    cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_minor_units), cmocka_unit_test(test_decimals),
		cmocka_unit_test(test_token_units), cmocka_unit_test(test_format),
		cmocka_unit_test(test_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
