/* adapters_test: every source format with real payloads captured from the public APIs' documented
 * shapes, plus hostile ones (huge numbers, exponents, signs, missing fields, wrong types,
 * truncated or invalid JSON), table-driven. The expected values are exact fixed-point integers;
 * the cases marked "double" would come out wrong if the number went through a double. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/util.h"
#include "actors/fetcher/adapters.h"
#include "chain/jscan.h"

typedef struct {
	fx_kind kind;
	const char *path, *ts_path;
	fx_ts_unit unit;
	unsigned decimals;
	const char *body;
	fx_err want;
	const char *value; /* decimal of the fixed-point integer when want == FX_OK */
	uint64_t ts_ms;
	const char *err_has; /* substring of the error text, or NULL */
} pcase;

static const char kraken_full[] =
        "{\"error\":[],\"result\":{\"XETHZUSD\":{\"a\":[\"3000.13000\",\"1\",\"1.000\"],\"b\":[\"3000.11000\",\"5\","
        "\"5.000\"],\"c\":[\"3000.12000\",\"0.50000000\"],\"v\":[\"1234.56789012\",\"5678.90123456\"],\"p\":["
        "\"2990.10000\",\"2995.20000\"],\"t\":[10234,52345],\"l\":[\"2950.00000\",\"2940.00000\"],\"h\":["
        "\"3050.00000\",\"3060.00000\"],\"o\":\"2980.00000\"}}}";

static const pcase cases[] = {
	/* ---- real formats ---- */
	{ FX_COINGECKO, "ethereum.usd", "ethereum.last_updated_at", FX_TS_S, 8, "{\"ethereum\":{\"usd\":3000.12}}",
	  FX_OK, "300012000000", 0, NULL },
	{ FX_COINGECKO, "ethereum.usd", "ethereum.last_updated_at", FX_TS_MS /* ignored: always s */, 8,
	  "{\"ethereum\":{\"usd\":3000.12,\"last_updated_at\":1700000000}}", FX_OK, "300012000000", 1700000000000,
	  NULL },
	{ FX_COINGECKO, "ethereum.usd", NULL, FX_TS_S, 8,
	  "{\"ethereum\":{\"last_updated_at\":1700000000,\"eur\":2750.5,\"usd\":3000.12}}", FX_OK, "300012000000", 0,
	  NULL },
	{ FX_COINGECKO, "shiba-inu.usd", NULL, FX_TS_S, 8, "{\"shiba-inu\":{\"usd\":8.83e-06}}", FX_OK, "883", 0,
	  NULL },
	{ FX_COINGECKO, "bitcoin.usd", NULL, FX_TS_S, 8, "{\"bitcoin\":{\"usd\":67123}}", FX_OK, "6712300000000", 0,
	  NULL },
	/* double: 0.1 + 0.2 style literal, and more digits than a double holds */
	{ FX_COINGECKO, "x.usd", NULL, FX_TS_S, 18, "{\"x\":{\"usd\":0.30000000000000004}}", FX_OK,
	  "300000000000000040", 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 9, "{\"p\":1234567890123456789.123456789}", FX_OK,
	  "1234567890123456789123456789", 0, NULL },
	{ FX_COINGECKO, "ethereum.usd", NULL, FX_TS_S, 8, "{}", FX_E_MISSING, NULL, 0, "ethereum.usd" },
	{ FX_COINGECKO, "ethereum.usd", NULL, FX_TS_S, 8,
	  "{\"status\":{\"error_code\":429,\"error_message\":\"You've exceeded the Rate Limit.\"}}", FX_E_SOURCE, NULL,
	  0, "Rate Limit" },
	{ FX_COINGECKO, NULL, NULL, FX_TS_S, 8, "{\"ethereum\":{\"usd\":1}}", FX_E_MISSING, NULL, 0, "no price path" },
	{ FX_BINANCE, NULL, NULL, FX_TS_S, 8, "{\"symbol\":\"ETHUSDT\",\"price\":\"3000.12000000\"}", FX_OK,
	  "300012000000", 0, NULL },
	{ FX_BINANCE, NULL, NULL, FX_TS_S, 2, "{\"symbol\":\"ETHUSDT\",\"price\":\"3000.12000000\"}", FX_OK, "300012",
	  0, NULL },
	{ FX_BINANCE, NULL, NULL, FX_TS_S, 8, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}", FX_E_SOURCE, NULL, 0,
	  "-1121: Invalid symbol." },
	{ FX_COINBASE, NULL, NULL, FX_TS_S, 8,
	  "{\"data\":{\"amount\":\"3000.12\",\"base\":\"ETH\",\"currency\":\"USD\"}}", FX_OK, "300012000000", 0, NULL },
	{ FX_COINBASE, NULL, NULL, FX_TS_S, 8,
	  "{\"errors\":[{\"id\":\"not_found\",\"message\":\"Invalid base currency\"}]}", FX_E_SOURCE, NULL, 0,
	  "Invalid base currency" },
	{ FX_KRAKEN, NULL, NULL, FX_TS_S, 8, kraken_full, FX_OK, "300012000000", 0, NULL },
	{ FX_KRAKEN, NULL, NULL, FX_TS_S, 8, "{\"error\":[\"EQuery:Unknown asset pair\"]}", FX_E_SOURCE, NULL, 0,
	  "EQuery:Unknown asset pair" },
	{ FX_KRAKEN, NULL, NULL, FX_TS_S, 8,
	  "{\"error\":[\"EGeneral:Too many requests\"],\"result\":{\"XETHZUSD\":{\"c\":[\"1.0\",\"1\"]}}}", FX_E_SOURCE,
	  NULL, 0, "Too many requests" },
	{ FX_KRAKEN, NULL, NULL, FX_TS_S, 8, "{\"error\":\"oops\",\"result\":{}}", FX_E_SOURCE, NULL, 0,
	  "want an array" },
	{ FX_KRAKEN, NULL, NULL, FX_TS_S, 8, "{\"error\":[],\"result\":{}}", FX_E_MISSING, NULL, 0, "result.*.c.0" },
	/* wildcard: the first member that has the rest of the path */
	{ FX_KRAKEN, NULL, NULL, FX_TS_S, 8,
	  "{\"error\":[],\"result\":{\"last\":1700000000,\"XXBTZUSD\":{\"c\":[\"67123.40000\",\"0.1\"]}}}", FX_OK,
	  "6712340000000", 0, NULL },
	/* ---- generic: paths, escapes, timestamps in every unit ---- */
	{ FX_GENERIC, "data.price", "data.ts", FX_TS_S, 8, "{\"data\":{\"price\":\"3000.12\",\"ts\":1700000000}}",
	  FX_OK, "300012000000", 1700000000000, NULL },
	{ FX_GENERIC, "data.price", "data.ts", FX_TS_S, 8, "{\"data\":{\"price\":\"1\",\"ts\":\"1700000000.5\"}}",
	  FX_OK, "100000000", 1700000000500, NULL },
	{ FX_GENERIC, "data.price", "data.ts", FX_TS_MS, 8, "{\"data\":{\"price\":\"1\",\"ts\":1700000000123}}", FX_OK,
	  "100000000", 1700000000123, NULL },
	{ FX_GENERIC, "data.price", "data.ts", FX_TS_US, 8, "{\"data\":{\"price\":\"1\",\"ts\":1700000000123456}}",
	  FX_OK, "100000000", 1700000000123, NULL },
	{ FX_GENERIC, "data.price", "data.ts", FX_TS_NS, 8, "{\"data\":{\"price\":\"1\",\"ts\":1700000000123456789}}",
	  FX_OK, "100000000", 1700000000123, NULL },
	{ FX_GENERIC, "p", "t", FX_TS_RFC3339, 8, "{\"p\":\"1\",\"t\":\"2023-11-14T22:13:20.250Z\"}", FX_OK,
	  "100000000", 1700000000250, NULL },
	{ FX_GENERIC, "p", "t", FX_TS_RFC3339, 8, "{\"p\":\"1\",\"t\":\"2023-11-15T00:13:20+02:00\"}", FX_OK,
	  "100000000", 1700000000000, NULL },
	{ FX_GENERIC, "p", "t", FX_TS_RFC3339, 8, "{\"p\":\"1\",\"t\":\"2023-13-15T00:13:20Z\"}", FX_E_RANGE, NULL, 0,
	  NULL },
	{ FX_GENERIC, "p", "t", FX_TS_RFC3339, 8, "{\"p\":\"1\",\"t\":1700000000}", FX_E_RANGE, NULL, 0, "RFC 3339" },
	{ FX_GENERIC, "p", "t", FX_TS_S, 8, "{\"p\":\"1\"}", FX_E_MISSING, NULL, 0, "no timestamp at t" },
	{ FX_GENERIC, "p", "t", FX_TS_S, 8, "{\"p\":\"1\",\"t\":-5}", FX_E_RANGE, NULL, 0, NULL },
	{ FX_GENERIC, "p", "t", FX_TS_S, 8, "{\"p\":\"1\",\"t\":null}", FX_E_MISSING, NULL, 0, "null" },
	{ FX_GENERIC, "p", "t", FX_TS_MS, 8, "{\"p\":\"1\",\"t\":99999999999999999999999}", FX_E_RANGE, NULL, 0, NULL },
	{ FX_GENERIC, "rows.1.v", NULL, FX_TS_S, 0, "{\"rows\":[{\"v\":1},{\"v\":\"22\"}]}", FX_OK, "22", 0, NULL },
	{ FX_GENERIC, "rows.01.v", NULL, FX_TS_S, 0, "{\"rows\":[{\"v\":1},{\"v\":\"22\"}]}", FX_E_MISSING, NULL, 0,
	  NULL },
	{ FX_GENERIC, "d\xc3\xa9j\xc3\xa0.p", NULL, FX_TS_S, 2, "{\"d\\u00e9j\\u00e0\":{\"p\":\"\\u0033.5\"}}", FX_OK,
	  "350", 0, NULL },
	{ FX_GENERIC, "data", NULL, FX_TS_S, 8, "[\"not an object\"]", FX_E_MISSING, NULL, 0, NULL },
	{ FX_GENERIC, NULL, NULL, FX_TS_S, 8, "{\"p\":1}", FX_E_MISSING, NULL, 0, "no price path" },
	/* ---- numbers: exponents, rounding, range, sign ---- */
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":3.00012E+3}", FX_OK, "300012000000", 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":\"3000.123456785\"}", FX_OK, "300012345678", 0,
	  NULL }, /* half-even */
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":1e400}", FX_E_RANGE, NULL, 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":1e-400}", FX_E_NONPOSITIVE, NULL, 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 0,
	  "{\"p\":123456789012345678901234567890123456789012345678901234567890123456789012345678}", FX_E_RANGE, NULL, 0,
	  NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8,
	  "{\"p\":"
	  "\"1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"
	  "1234567890123456789012345678901234567890\"}",
	  FX_E_RANGE, NULL, 0, "too long" },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":-3000.12}", FX_E_NONPOSITIVE, NULL, 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":\"-1\"}", FX_E_NONPOSITIVE, NULL, 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":0}", FX_E_NONPOSITIVE, NULL, 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":\"0.000000001\"}", FX_E_NONPOSITIVE, NULL, 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":\" 3000\"}", FX_E_RANGE, NULL, 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":\"3,000.12\"}", FX_E_RANGE, NULL, 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":\"NaN\"}", FX_E_RANGE, NULL, 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":\"\"}", FX_E_RANGE, NULL, 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 78, "{\"p\":1}", FX_E_RANGE, NULL, 0, NULL },
	/* ---- wrong types ---- */
	{ FX_COINBASE, NULL, NULL, FX_TS_S, 8, "{\"data\":{\"amount\":true}}", FX_E_MISSING, NULL, 0, "true" },
	{ FX_COINBASE, NULL, NULL, FX_TS_S, 8, "{\"data\":{\"amount\":null}}", FX_E_MISSING, NULL, 0, "null" },
	{ FX_COINBASE, NULL, NULL, FX_TS_S, 8, "{\"data\":{\"amount\":[\"1\"]}}", FX_E_MISSING, NULL, 0, "array" },
	{ FX_COINBASE, NULL, NULL, FX_TS_S, 8, "{\"data\":\"3000.12\"}", FX_E_MISSING, NULL, 0, NULL },
	{ FX_BINANCE, NULL, NULL, FX_TS_S, 8, "{\"price\":{\"v\":\"1\"}}", FX_E_MISSING, NULL, 0, "object" },
	/* ---- not JSON ---- */
	{ FX_COINBASE, NULL, NULL, FX_TS_S, 8, "", FX_E_PARSE, NULL, 0, "truncated" },
	{ FX_COINBASE, NULL, NULL, FX_TS_S, 8, "{\"data\":{\"amount\":\"3000.12\",\"base\":\"ET", FX_E_PARSE, NULL, 0,
	  "unterminated" },
	{ FX_COINBASE, NULL, NULL, FX_TS_S, 8, "{\"data\":{\"amount\":\"3000.12\"}", FX_E_PARSE, NULL, 0, "truncated" },
	{ FX_COINBASE, NULL, NULL, FX_TS_S, 8, "{\"data\":{\"amount\":\"3000.12\"}}x", FX_E_PARSE, NULL, 0, "after" },
	{ FX_COINBASE, NULL, NULL, FX_TS_S, 8, "<html><body>502 Bad Gateway</body></html>", FX_E_PARSE, NULL, 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":01}", FX_E_PARSE, NULL, 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":+1}", FX_E_PARSE, NULL, 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":1.}", FX_E_PARSE, NULL, 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":NaN}", FX_E_PARSE, NULL, 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":Infinity}", FX_E_PARSE, NULL, 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{'p':1}", FX_E_PARSE, NULL, 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":1,}", FX_E_PARSE, NULL, 0, NULL },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":\"\xff\"}", FX_E_PARSE, NULL, 0, "UTF-8" },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":\"\xc0\xaf\"}", FX_E_PARSE, NULL, 0, "UTF-8" },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":\"\\udc00\"}", FX_E_PARSE, NULL, 0, "surrogate" },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":\"a\tb\"}", FX_E_PARSE, NULL, 0, "control" },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, "{\"p\":\"\\x41\"}", FX_E_PARSE, NULL, 0, "escape" },
	{ FX_GENERIC, "p", NULL, FX_TS_S, 8, " \r\n {\"p\" : 2 } \n", FX_OK, "200000000", 0, NULL },
};

static void
test_cases(void **state)
{
	for (size_t i = 0; i < OB_COUNT(cases); i++) {
		const pcase *c = &cases[i];
		fx_spec s = { c->kind, c->path, c->ts_path, c->unit, c->decimals };
		u256 v;
		uint64_t ts = 12345;
		char err[256] = "";
		fx_err e = fx_parse(&s, c->body, strlen(c->body), &v, &ts, NULL, err, sizeof err);
		if (e != c->want)
			fail_msg("case %zu (%s): got %s (%s), want %s", i, c->body, fx_err_name(e), err,
			         fx_err_name(c->want));
		if (e == FX_OK) {
			char dec[80];
			i256_to_dec(&v, dec);
			if (strcmp(dec, c->value) != 0)
				fail_msg("case %zu (%s): value %s, want %s", i, c->body, dec, c->value);
			if (ts != c->ts_ms)
				fail_msg("case %zu: ts %llu, want %llu", i, (unsigned long long)ts,
				         (unsigned long long)c->ts_ms);
		} else {
			assert_true(u256_is_zero(&v));
			assert_true(err[0] != '\0');
			if (c->err_has && strstr(err, c->err_has) == NULL)
				fail_msg("case %zu: error '%s' lacks '%s'", i, err, c->err_has);
		}
	}
}

static void
test_inexact(void **state)
{
	fx_spec s = { FX_GENERIC, "p", NULL, FX_TS_S, 8 };
	u256 v;
	uint64_t ts;
	int inexact = -1;
	char err[128];
	const char *b = "{\"p\":\"3000.123456789\"}";
	assert_int_equal(fx_parse(&s, b, strlen(b), &v, &ts, &inexact, err, sizeof err), FX_OK);
	assert_int_equal(inexact, 1);
	assert_int_equal(u256_low64(&v), 300012345679ull);
	b = "{\"p\":\"3000.12345678000\"}";
	assert_int_equal(fx_parse(&s, b, strlen(b), &v, &ts, &inexact, err, sizeof err), FX_OK);
	assert_int_equal(inexact, 0);
}

/* Bodies are not NUL-terminated in the fetcher: the length must bound every read. */
static void
test_length_bounds(void **state)
{
	const char *b = "{\"data\":{\"amount\":\"3000.12\"}}GARBAGE";
	fx_spec s = { FX_COINBASE, NULL, NULL, FX_TS_S, 8 };
	u256 v;
	uint64_t ts;
	char err[128];
	assert_int_equal(fx_parse(&s, b, 29, &v, &ts, NULL, err, sizeof err), FX_OK);
	for (size_t n = 0; n < 29; n++)
		assert_int_equal(fx_parse(&s, b, n, &v, &ts, NULL, err, sizeof err), FX_E_PARSE);
}

static void
test_coingecko_paths(void **state)
{
	char p[64], t[64], err[128];
	assert_int_equal(fx_coingecko_paths("http://h/api/v3/simple/price?ids=ethereum&vs_currencies=USD&"
	                                    "include_last_updated_at=true",
	                                    p, sizeof p, t, sizeof t, err, sizeof err),
	                 0);
	assert_string_equal(p, "ethereum.usd");
	assert_string_equal(t, "ethereum.last_updated_at");
	assert_int_equal(fx_coingecko_paths("http://h/x?vs_currencies=eur&ids=matic%2Dnetwork", p, sizeof p, t,
	                                    sizeof t, err, sizeof err),
	                 0);
	assert_string_equal(p, "matic-network.eur");
	assert_int_equal(fx_coingecko_paths("http://h/x?ids=bitcoin,ethereum&vs_currencies=usd", p, sizeof p, t,
	                                    sizeof t, err, sizeof err),
	                 -1);
	assert_non_null(strstr(err, "several"));
	assert_int_equal(fx_coingecko_paths("http://h/x?ids=bitcoin%2Cethereum&vs_currencies=usd", p, sizeof p, t,
	                                    sizeof t, err, sizeof err),
	                 -1);
	assert_int_equal(fx_coingecko_paths("http://h/x?ids=bitcoin", p, sizeof p, t, sizeof t, err, sizeof err), -1);
	assert_int_equal(fx_coingecko_paths("http://h/x", p, sizeof p, t, sizeof t, err, sizeof err), -1);
	assert_int_equal(
	        fx_coingecko_paths("http://h/x?xids=a&vs_currencies=usd", p, sizeof p, t, sizeof t, err, sizeof err),
	        -1);
}

static void
test_fresh(void **state)
{
	assert_int_equal(fx_check_fresh(0, 1000000, 1000), FX_OK);
	assert_int_equal(fx_check_fresh(999000, 1000000, 1000), FX_OK);
	assert_int_equal(fx_check_fresh(998999, 1000000, 1000), FX_E_STALE);
	assert_int_equal(fx_check_fresh(1001000, 1000000, 1000), FX_OK);
	assert_int_equal(fx_check_fresh(1001001, 1000000, 1000), FX_E_STALE);
	assert_int_equal(fx_check_fresh(1, 1000000, 0), FX_OK);
}

static void
test_names(void **state)
{
	for (int k = 0; k < FX_NKINDS; k++)
		assert_int_equal(fx_kind_from_name(fx_kind_name((fx_kind)k)), k);
	for (int u = 0; u < FX_NUNITS; u++)
		assert_int_equal(fx_unit_from_name(fx_unit_name((fx_ts_unit)u)), u);
	assert_int_equal(fx_kind_from_name("bitstamp"), -1);
	assert_int_equal(fx_kind_from_name(NULL), -1);
	assert_string_equal(fx_err_name(FX_E_STALE), "stale");
	assert_string_equal(fx_err_name(FX_NERRS), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),         cmocka_unit_test(test_inexact),
		cmocka_unit_test(test_length_bounds), cmocka_unit_test(test_coingecko_paths),
		cmocka_unit_test(test_fresh),         cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
