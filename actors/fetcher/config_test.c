/* config_test: the fetcher's configuration from JSON and from SOURCES: defaults derived (CoinGecko
 * paths from the URL, kind = name), and every mistake reported with the entry it is in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "actors/fetcher/config.h"

static int
load(const char *text, fc_config *c, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	assert_non_null(j);
	int rc = fc_from_json(j, c, err, errlen);
	json_decref(j);
	return rc;
}

static void
test_json_ok(void **state)
{
	fc_config c;
	char err[1024];
	int rc = load(
	        "{\"feeds\":[{\"feed\":\"ETH-USD\",\"decimals\":6,\"sources\":["
	        "{\"name\":\"coingecko\",\"url\":\"http://h/api/v3/simple/price?ids=ethereum&vs_currencies=usd\"},"
	        "{\"name\":\"cb\",\"kind\":\"coinbase\",\"url\":\"https://h/v2/prices/ETH-USD/"
	        "spot\",\"interval\":\"2s\","
	        "\"min_interval\":1,\"headers\":{\"X-Key\":\"abc\"}},"
	        "{\"name\":\"g\",\"kind\":\"generic\",\"url\":\"http://h/"
	        "p\",\"path\":\"data.price\",\"ts_path\":\"data.t\","
	        "\"ts_unit\":\"ms\"}]},"
	        "{\"feed\":\"BTC-USD\",\"sources\":[{\"name\":\"cb\",\"kind\":\"coinbase\",\"url\":\"http://h/x\"}]}]}",
	        &c, err, sizeof err);
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(c.nfeeds, 2);
	assert_int_equal(c.nsrcs, 4);
	assert_int_equal(c.feeds[0].decimals, 6);
	assert_int_equal(c.feeds[1].decimals, 8);
	assert_int_equal(c.srcs[0].spec.kind, FX_COINGECKO);
	assert_string_equal(c.srcs[0].spec.path, "ethereum.usd");
	assert_string_equal(c.srcs[0].spec.ts_path, "ethereum.last_updated_at");
	assert_int_equal(c.srcs[0].spec.decimals, 6);
	assert_int_equal(c.srcs[1].interval_ms, 2000);
	assert_int_equal(c.srcs[1].min_interval_ms, 1000);
	assert_int_equal(c.srcs[1].nheaders, 1);
	assert_string_equal(c.srcs[1].headers[0], "X-Key: abc");
	assert_int_equal(c.srcs[2].spec.ts_unit, FX_TS_MS);
	assert_int_equal(c.srcs[3].feed, 1);
	assert_int_equal(c.srcs[3].spec.decimals, 8);
	fc_free(&c);
}

static void
test_json_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "[]", "want {\"feeds\"" },
		{ "{\"feeds\":[]}", "want {\"feeds\"" },
		{ "{\"feeds\":[{\"feed\":\"ETH "
		  "USD\",\"sources\":[{\"name\":\"a\",\"kind\":\"binance\",\"url\":\"http://h/x\"}]}]}",
		  "feeds[0]: \"feed\" must be" },
		{ "{\"feeds\":[{\"feed\":\"E\",\"decimals\":78,\"sources\":[{\"name\":\"binance\",\"url\":\"http://h/"
		  "x\"}]}]}",
		  "feeds[0] \"E\": decimals must be" },
		{ "{\"feeds\":[{\"feed\":\"E\",\"sources\":[]}]}",
		  "feeds[0] \"E\": \"sources\" must be a non-empty array" },
		{ "{\"feeds\":[{\"feed\":\"E\",\"sources\":[{\"name\":\"x\",\"url\":\"http://h/x\"}]}]}",
		  "feeds[0].sources[0] \"x\": kind \"x\" unknown" },
		{ "{\"feeds\":[{\"feed\":\"E\",\"sources\":[{\"name\":\"binance\",\"url\":\"ftp://h/x\"}]}]}",
		  "feeds[0].sources[0] \"binance\": url must be" },
		{ "{\"feeds\":[{\"feed\":\"E\",\"sources\":[{\"name\":\"binance\"}]}]}", "\"url\" is required" },
		{ "{\"feeds\":[{\"feed\":\"E\",\"sources\":[{\"name\":\"g\",\"kind\":\"generic\",\"url\":\"http://h/"
		  "x\"}]}]}",
		  "generic source needs \"path\"" },
		{ "{\"feeds\":[{\"feed\":\"E\",\"sources\":[{\"name\":\"coingecko\",\"url\":\"http://h/"
		  "x?ids=a,b&vs_currencies=usd\"}]}]}",
		  "several" },
		{ "{\"feeds\":[{\"feed\":\"E\",\"sources\":[{\"name\":\"binance\",\"url\":\"http://h/"
		  "x\",\"ts_unit\":\"days\"}]}]}",
		  "ts_unit must be" },
		{ "{\"feeds\":[{\"feed\":\"E\",\"sources\":[{\"name\":\"binance\",\"url\":\"http://h/"
		  "x\",\"interval\":\"soon\"}]}]}",
		  "interval must be" },
		{ "{\"feeds\":[{\"feed\":\"E\",\"sources\":[{\"name\":\"binance\",\"url\":\"http://h/"
		  "x\",\"pth\":\"p\"}]}]}",
		  "unknown key \"pth\"" },
		{ "{\"feeds\":[{\"feed\":\"E\",\"sources\":[{\"name\":\"binance\",\"url\":\"http://h/x\"},"
		  "{\"name\":\"binance\",\"url\":\"http://h/y\"}]}]}",
		  "used twice" },
		{ "{\"feeds\":[{\"feed\":\"E\",\"sources\":[{\"name\":\"binance\",\"url\":\"http://h/"
		  "x\",\"headers\":{\"a:b\":\"c\"}}]}]}",
		  "header \"a:b\"" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fc_config c;
		char err[1024];
		if (load(cases[i].text, &c, err, sizeof err) == 0)
			fail_msg("case %zu accepted: %s", i, cases[i].text);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: error '%s' lacks '%s'", i, err, cases[i].want);
		assert_null(c.srcs);
	}
}

static void
test_list(void **state)
{
	rt_strlist l = { 3,
		         { "coinbase=http://h/v2/prices/ETH-USD/spot",
		           "cg:coingecko=http://h/p?ids=ethereum&vs_currencies=usd",
		           "kraken=http://h/0/public/Ticker?pair=XETHZUSD" },
		         NULL };
	fc_config c;
	char err[512];
	if (fc_from_list("ETH-USD", 8, &l, 500, &c, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.nsrcs, 3);
	assert_string_equal(c.srcs[1].name, "cg");
	assert_int_equal(c.srcs[1].spec.kind, FX_COINGECKO);
	assert_string_equal(c.srcs[1].spec.path, "ethereum.usd");
	assert_int_equal(c.srcs[2].spec.kind, FX_KRAKEN);
	assert_int_equal(c.srcs[2].min_interval_ms, 500);
	fc_free(&c);

	rt_strlist bad = { 3, { "nourl", "x=http://h/a", "g:generic=http://h/b" }, NULL };
	assert_int_equal(fc_from_list("ETH-USD", 8, &bad, 0, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "SOURCES[0]: \"nourl\" is not name=url"));
	assert_non_null(strstr(err, "SOURCES[1] \"x\": kind \"x\" unknown"));
	assert_non_null(strstr(err, "SOURCES[2] \"g\": kind \"generic\" unknown"));
	rt_strlist none = { 0, { NULL }, NULL };
	assert_int_equal(fc_from_list("ETH-USD", 8, &none, 0, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "SOURCES: empty"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_ok),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
