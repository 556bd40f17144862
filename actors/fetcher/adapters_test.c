/* adapters_test: every source format with real payloads captured from the public APIs' documented
 * shapes, plus hostile ones (huge numbers, exponents, signs, missing fields, wrong types,
 * truncated or invalid JSON), table-driven. The expected values are exact fixed-point integers;
 * the cases marked "double" would come out wrong if the number went through a double. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- batched answers: several symbols, a missing one, the API's refusal ---- */

typedef struct {
	const char *sym, *vs;
	fx_err want;
	const char *value; /* when FX_OK */
	uint64_t ts_ms;
} bitem;

static void
run_batch(fx_kind kind, const char *path, const char *body, fx_err want, const char *err_has, const bitem *want_items,
          size_t n)
{
	fx_spec s = { kind, path, NULL, FX_TS_S, 8 };
	fx_item it[8];
	char err[256] = "";
	assert_true(n <= 8);
	memset(it, 0, sizeof it);
	for (size_t i = 0; i < n; i++) {
		it[i].sym = want_items[i].sym;
		it[i].vs = want_items[i].vs;
		it[i].decimals = 8;
	}
	fx_err e = fx_parse_batch(&s, body, strlen(body), it, n, err, sizeof err);
	if (e != want)
		fail_msg("%s: got %s (%s), want %s", body, fx_err_name(e), err, fx_err_name(want));
	if (err_has && strstr(err, err_has) == NULL)
		fail_msg("%s: error '%s' lacks '%s'", body, err, err_has);
	for (size_t i = 0; i < n; i++) {
		const bitem *w = &want_items[i];
		fx_err ie = e != FX_OK ? e : w->want;
		if (it[i].err != ie)
			fail_msg("%s: item %s got %s (%s), want %s", body, w->sym, fx_err_name(it[i].err), it[i].why,
			         fx_err_name(ie));
		if (ie == FX_OK) {
			char dec[80];
			i256_to_dec(&it[i].value, dec);
			if (strcmp(dec, w->value) != 0)
				fail_msg("%s: item %s value %s, want %s", body, w->sym, dec, w->value);
			assert_int_equal(it[i].ts_ms, w->ts_ms);
		} else {
			assert_true(u256_is_zero(&it[i].value));
			assert_true(it[i].why[0] != '\0');
		}
	}
}

static void
test_batch_coingecko(void **state)
{
	/* ids=ethereum,bitcoin,nosuchcoin&vs_currencies=usd,eur&include_last_updated_at=true */
	const char *b = "{\"ethereum\":{\"usd\":3000.12,\"eur\":2750.5,\"last_updated_at\":1700000000},"
	                "\"bitcoin\":{\"usd\":67123,\"eur\":61000.25,\"last_updated_at\":1700000001},"
	                "\"shiba-inu\":{\"usd\":8.83e-06}}";
	const bitem items[] = {
		{ "ethereum", "usd", FX_OK, "300012000000", 1700000000000 },
		{ "ethereum", "eur", FX_OK, "275050000000", 1700000000000 },
		{ "bitcoin", "eur", FX_OK, "6100025000000", 1700000001000 },
		{ "bitcoin", "usd", FX_OK, "6712300000000", 1700000001000 },
		{ "nosuchcoin", "usd", FX_E_MISSING, NULL, 0 }, /* the API leaves unknown ids out */
		{ "shiba-inu", "eur", FX_E_MISSING, NULL, 0 },  /* an id without that currency */
		{ "shiba-inu", "usd", FX_OK, "883", 0 },
	};
	run_batch(FX_COINGECKO, NULL, b, FX_OK, NULL, items, OB_COUNT(items));
	run_batch(FX_COINGECKO, NULL,
	          "{\"status\":{\"error_code\":429,\"error_message\":\"You've exceeded the Rate Limit.\"}}",
	          FX_E_SOURCE, "Rate Limit", items, 2);
	run_batch(FX_COINGECKO, NULL, "[1,2]", FX_E_MISSING, "object", items, 2);
	/* a wrong value for one id refuses that id only */
	const bitem one_bad[] = { { "a", "usd", FX_E_NONPOSITIVE, NULL, 0 }, { "b", "usd", FX_OK, "100000000", 0 } };
	run_batch(FX_COINGECKO, NULL, "{\"a\":{\"usd\":0},\"b\":{\"usd\":1}}", FX_OK, NULL, one_bad, 2);
}

static void
test_batch_binance(void **state)
{
	/* /api/v3/ticker/price?symbols=["ETHUSDT","BTCUSDT","NOPEUSDT"] (or every ticker) */
	const char *b = "[{\"symbol\":\"BTCUSDT\",\"price\":\"67123.45000000\"},{\"symbol\":\"LTCBTC\",\"price\":\"0."
	                "00120000\"},"
	                "{\"symbol\":\"ETHUSDT\",\"price\":\"3000.12000000\"}]";
	const bitem items[] = {
		{ "ETHUSDT", NULL, FX_OK, "300012000000", 0 },
		{ "BTCUSDT", NULL, FX_OK, "6712345000000", 0 },
		{ "NOPEUSDT", NULL, FX_E_MISSING, NULL, 0 },
	};
	run_batch(FX_BINANCE, NULL, b, FX_OK, NULL, items, OB_COUNT(items));
	/* symbol=: one object */
	run_batch(FX_BINANCE, NULL, "{\"symbol\":\"ETHUSDT\",\"price\":\"3000.12000000\"}", FX_OK, NULL, items, 1);
	/* one unknown symbol: Binance refuses the whole request */
	run_batch(FX_BINANCE, NULL, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}", FX_E_SOURCE, "Invalid symbol",
	          items, 3);
	run_batch(FX_BINANCE, NULL,
	          "{\"code\":-1003,\"msg\":\"Too much request weight used; current limit is 6000 request weight per 1 "
	          "MINUTE.\"}",
	          FX_E_SOURCE, "-1003", items, 3);
	const bitem dup[] = { { "ETHUSDT", NULL, FX_OK, "100000000", 0 } }; /* the first entry wins */
	run_batch(FX_BINANCE, NULL,
	          "[{\"symbol\":\"ETHUSDT\",\"price\":\"1\"},{\"symbol\":\"ETHUSDT\",\"price\":\"2\"}]", FX_OK, NULL,
	          dup, 1);
	const bitem noprice[] = { { "ETHUSDT", NULL, FX_E_MISSING, NULL, 0 } };
	run_batch(FX_BINANCE, NULL, "[{\"symbol\":\"ETHUSDT\"}]", FX_OK, NULL, noprice, 1);
}

static void
test_batch_kraken(void **state)
{
	/* /0/public/Ticker?pair=XETHZUSD,XXBTZEUR,SOLUSD: keyed by Kraken's pair names */
	const char *b =
	        "{\"error\":[],\"result\":{\"XXBTZEUR\":{\"a\":[\"61000.1\",\"1\",\"1.000\"],\"c\":[\"61000.00000\","
	        "\"0.1\"]},\"XETHZUSD\":{\"c\":[\"3000.12000\",\"0.5\"]},\"SOLUSD\":{\"c\":[]}}}";
	const bitem items[] = {
		{ "XETHZUSD", NULL, FX_OK, "300012000000", 0 },
		{ "XXBTZEUR", NULL, FX_OK, "6100000000000", 0 },
		{ "SOLUSD", NULL, FX_E_MISSING, NULL, 0 }, /* no last trade */
		{ "ADAUSD", NULL, FX_E_MISSING, NULL, 0 },
	};
	run_batch(FX_KRAKEN, NULL, b, FX_OK, NULL, items, OB_COUNT(items));
	run_batch(FX_KRAKEN, NULL, "{\"error\":[\"EQuery:Unknown asset pair\"]}", FX_E_SOURCE, "Unknown asset pair",
	          items, 2);
	run_batch(FX_KRAKEN, NULL, "{\"error\":[\"EAPI:Rate limit exceeded\"]}", FX_E_SOURCE, "Rate limit", items, 2);
}

static void
test_batch_coinbase_generic(void **state)
{
	const bitem eth[] = { { "ETH-USD", NULL, FX_OK, "300012000000", 0 } };
	const char *b = "{\"data\":{\"amount\":\"3000.12\",\"base\":\"ETH\",\"currency\":\"USD\"}}";
	run_batch(FX_COINBASE, NULL, b, FX_OK, NULL, eth, 1);
	/* an answer for another product is refused, never published as this one */
	const bitem btc[] = { { "BTC-USD", NULL, FX_E_MISSING, NULL, 0 } };
	run_batch(FX_COINBASE, NULL, b, FX_OK, NULL, btc, 1);
	run_batch(FX_COINBASE, NULL, "{\"errors\":[{\"id\":\"not_found\",\"message\":\"Invalid currency pair\"}]}",
	          FX_E_SOURCE, "Invalid currency pair", eth, 1);
	/* generic, one document for all: the path names the symbol */
	const bitem g[] = { { "ETH", NULL, FX_OK, "300000000000", 0 },
		            { "BTC", NULL, FX_OK, "6700000000000", 0 },
		            { "DOGE", NULL, FX_E_MISSING, NULL, 0 } };
	run_batch(FX_GENERIC, "prices.{symbol}.last",
	          "{\"prices\":{\"ETH\":{\"last\":\"3000\"},\"BTC\":{\"last\":67000}}}", FX_OK, NULL, g, 3);
	char out[16];
	assert_int_equal(fx_subst("a{symbol}b{symbol}", "XY", out, sizeof out), 0);
	assert_string_equal(out, "aXYbXY");
	assert_int_equal(fx_subst("a{symbol}b{symbol}", "XYZWVU", out, 10), -1);
}

/* Hostile batches: more entries than walked, keys longer than any symbol, not JSON. */
static void
test_batch_bounds(void **state)
{
	size_t n = FX_BATCH_MAX_ENTRIES + 5, o = 0;
	char *big = malloc(n * 4 + 8);
	assert_non_null(big);
	big[o++] = '[';
	for (size_t i = 0; i < n; i++) {
		memcpy(big + o, i ? ",{}" : "{}", i ? 3 : 2);
		o += i ? 3 : 2;
	}
	big[o++] = ']';
	big[o] = '\0';
	const bitem items[] = { { "ETHUSDT", NULL, FX_E_RANGE, NULL, 0 } };
	run_batch(FX_BINANCE, NULL, big, FX_E_RANGE, "entries", items, 1);
	free(big);
	char key[200];
	memset(key, 'A', sizeof key);
	key[sizeof key - 1] = '\0';
	char body[400];
	snprintf(body, sizeof body, "{\"error\":[],\"result\":{\"%s\":{\"c\":[\"1\"]}}}", key);
	const bitem k1[] = { { "AAAA", NULL, FX_E_MISSING, NULL, 0 } };
	run_batch(FX_KRAKEN, NULL, body, FX_OK, NULL, k1, 1);
	run_batch(FX_KRAKEN, NULL, "{\"error\":[],\"result\":{\"XETHZUSD\":{\"c\":[\"1\"]}}", FX_E_PARSE, "truncated",
	          k1, 1);
}

/* Retry-After (RFC 9110): delay-seconds or an HTTP-date in its three forms; the pause it gives. */
static void
test_retry_after(void **state)
{
	int64_t now = 1700000000; /* Tue, 14 Nov 2023 22:13:20 GMT */
	assert_int_equal(fx_retry_after_s("120", now), 120);
	assert_int_equal(fx_retry_after_s(" 0 ", now), 0);
	assert_int_equal(fx_retry_after_s("Tue, 14 Nov 2023 22:13:50 GMT", now), 30);
	assert_int_equal(fx_retry_after_s("Tuesday, 14-Nov-23 22:14:20 GMT", now), 60); /* RFC 850 */
	assert_int_equal(fx_retry_after_s("Tue Nov 14 22:13:21 2023", now), 1);         /* asctime */
	assert_int_equal(fx_retry_after_s("Tue, 14 Nov 2023 22:00:00 GMT", now), 0);    /* past: now */
	assert_int_equal(fx_retry_after_s("soon", now), -1);
	assert_int_equal(fx_retry_after_s("12abc", now), -1);
	assert_int_equal(fx_retry_after_s("", now), -1);
	assert_int_equal(fx_retry_after_s(NULL, now), -1);
	assert_true(fx_retry_after_s("99999999999999999999999", now) > 0); /* saturates, never wraps */
	/* the pause: Retry-After when given, capped; else base doubled per 429 in a row, capped */
	assert_int_equal(fx_backoff_ms(2, 1, 1000, 600000), 2000);
	assert_int_equal(fx_backoff_ms(0, 5, 1000, 600000), 0);
	assert_int_equal(fx_backoff_ms(86400, 1, 1000, 600000), 600000);
	assert_int_equal(fx_backoff_ms(-1, 1, 1000, 600000), 1000);
	assert_int_equal(fx_backoff_ms(-1, 2, 1000, 600000), 2000);
	assert_int_equal(fx_backoff_ms(-1, 4, 1000, 600000), 8000);
	assert_int_equal(fx_backoff_ms(-1, 60, 1000, 600000), 600000);
	assert_string_equal(fx_err_name(FX_E_RATE), "rate_limited");
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
		cmocka_unit_test(test_cases),           cmocka_unit_test(test_inexact),
		cmocka_unit_test(test_length_bounds),   cmocka_unit_test(test_coingecko_paths),
		cmocka_unit_test(test_fresh),           cmocka_unit_test(test_names),
		cmocka_unit_test(test_batch_coingecko), cmocka_unit_test(test_batch_binance),
		cmocka_unit_test(test_batch_kraken),    cmocka_unit_test(test_batch_coinbase_generic),
		cmocka_unit_test(test_batch_bounds),    cmocka_unit_test(test_retry_after),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
