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
		         (const char *[]){ "coinbase=http://h/v2/prices/ETH-USD/spot",
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

	rt_strlist bad = { 3, (const char *[]){ "nourl", "x=http://h/a", "g:generic=http://h/b" }, NULL };
	assert_int_equal(fc_from_list("ETH-USD", 8, &bad, 0, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "SOURCES[0]: \"nourl\" is not name=url"));
	assert_non_null(strstr(err, "SOURCES[1] \"x\": kind \"x\" unknown"));
	assert_non_null(strstr(err, "SOURCES[2] \"g\": kind \"generic\" unknown"));
	rt_strlist none = { 0, (const char *[]){ NULL }, NULL };
	assert_int_equal(fc_from_list("ETH-USD", 8, &none, 0, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "SOURCES: empty"));
}

/* ---- the many-feeds form ---- */

static int
load_feeds(const char *text, fc_config *c, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	assert_non_null(j);
	rt_strlist none = { 0, (const char *[]){ NULL }, NULL };
	int rc = fc_from_feeds(j, &none, 8, &none, NULL, 0, c, err, errlen);
	json_decref(j);
	return rc;
}

static const fc_source *
src_named(const fc_config *c, const char *name)
{
	for (size_t i = 0; i < c->nsrcs; i++)
		if (strcmp(c->srcs[i].name, name) == 0)
			return &c->srcs[i];
	fail_msg("no source %s", name);
	return NULL;
}

static void
test_feeds_file(void **state)
{
	fc_config c;
	char err[2048], url[1024];
	int rc = load_feeds(
	        "{\"sources\":[{\"name\":\"coingecko\",\"url\":\"https://api.coingecko.com/\",\"min_interval\":\"2s\"},"
	        "{\"name\":\"binance\",\"url\":\"http://h:81\",\"batch\":2},"
	        "{\"name\":\"kr\",\"kind\":\"kraken\",\"url\":\"http://h\"},"
	        "{\"name\":\"coinbase\",\"url\":\"http://h\",\"headers\":{\"X-Key\":\"k\"}},"
	        "{\"name\":\"g\",\"kind\":\"generic\",\"url\":\"http://g/all\",\"path\":\"p.{symbol}.v\"}],"
	        "\"feeds\":[{\"feed\":\"ETH-USD\",\"decimals\":6},"
	        "{\"feed\":\"BTC-EUR\",\"symbols\":{\"kr\":null,\"g\":\"btc\"}},"
	        "{\"feed\":\"UNI-USD\",\"symbols\":{\"coingecko\":\"uniswap/usd\"}},"
	        "{\"feed\":\"SOL-USD\"}]}",
	        &c, err, sizeof err);
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(c.nfeeds, 4);
	assert_int_equal(c.feeds[0].decimals, 6);
	assert_int_equal(c.feeds[1].decimals, 8);
	const fc_source *cg = src_named(&c, "coingecko"), *bn = src_named(&c, "binance"), *kr = src_named(&c, "kr"),
	                *cb = src_named(&c, "coinbase"), *g = src_named(&c, "g");
	assert_true(cg->batched && cg->min_interval_ms == 2000 && cg->batch_max == 100);
	/* CoinGecko: ids derived (ethereum, bitcoin, solana) or given (uniswap); vs from the quote */
	assert_int_equal(cg->nmembers, 4);
	assert_int_equal(fc_batch_url(cg, cg->members, cg->nmembers, url, sizeof url), 0);
	assert_string_equal(url, "https://api.coingecko.com/api/v3/simple/price?ids=ethereum,bitcoin,uniswap,solana"
	                         "&vs_currencies=usd,eur&include_last_updated_at=true");
	/* Binance: USD as USDT; batch of 2; symbols=["..",".."] escaped */
	assert_int_equal(bn->nmembers, 4);
	assert_int_equal(bn->batch_max, 2);
	assert_int_equal(fc_batch_url(bn, bn->members, 2, url, sizeof url), 0);
	assert_string_equal(url, "http://h:81/api/v3/ticker/price?symbols=%5B%22ETHUSDT%22%2C%22BTCEUR%22%5D");
	assert_int_equal(fc_batch_url(bn, bn->members + 2, 1, url, sizeof url), 0);
	assert_string_equal(url, "http://h:81/api/v3/ticker/price?symbol=UNIUSDT");
	/* Kraken: pair keys (X/Z for the older assets against fiat), BTC-EUR left out by null */
	assert_int_equal(kr->nmembers, 3);
	assert_int_equal(fc_batch_url(kr, kr->members, kr->nmembers, url, sizeof url), 0);
	assert_string_equal(url, "http://h/0/public/Ticker?pair=XETHZUSD,UNIUSD,SOLUSD");
	/* Coinbase: one request per product */
	assert_true(fc_source_each(cb) && !fc_source_each(kr));
	assert_int_equal(fc_batch_url(cb, cb->members + 1, 1, url, sizeof url), 0);
	assert_string_equal(url, "http://h/v2/prices/BTC-EUR/spot");
	assert_int_equal(fc_batch_url(cb, cb->members, 2, url, sizeof url), -1);
	assert_int_equal(cb->nheaders, 1);
	/* generic, one document: the url as is; symbols = the feed unless given */
	assert_false(fc_source_each(g));
	assert_string_equal(g->members[0].sym, "ETH-USD");
	assert_string_equal(g->members[1].sym, "btc");
	assert_int_equal(fc_batch_url(g, g->members, g->nmembers, url, sizeof url), 0);
	assert_string_equal(url, "http://g/all");
	assert_int_equal(fc_batch_url(cg, cg->members, cg->nmembers, url, 40), -1); /* too small: refused, not cut */
	fc_free(&c);
}

static void
test_feeds_env(void **state)
{
	/* FEEDS + SOURCES as origins; unset SOURCES = CoinGecko, Binance, Coinbase (at the origin given) */
	rt_strlist feeds = { 2, (const char *[]){ "ETH-USD", "FOO-USD" }, NULL },
	           none = { 0, (const char *[]){ NULL }, NULL };
	fc_config c;
	char err[1024], url[512];
	if (fc_from_feeds(NULL, &feeds, 8, &none, "http://mirror:9", 0, &c, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.nsrcs, 3);
	assert_int_equal(src_named(&c, "coingecko")->nmembers, 1); /* no CoinGecko id known for FOO */
	assert_int_equal(src_named(&c, "binance")->nmembers, 2);
	assert_int_equal(fc_batch_url(&c.srcs[1], c.srcs[1].members, 2, url, sizeof url), 0);
	assert_string_equal(url, "http://mirror:9/api/v3/ticker/price?symbols=%5B%22ETHUSDT%22%2C%22FOOUSDT%22%5D");
	fc_free(&c);
	rt_strlist srcs = { 1, (const char *[]){ "k:kraken=http://h:1" }, NULL };
	if (fc_from_feeds(NULL, &feeds, 8, &srcs, NULL, 250, &c, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.nsrcs, 1);
	assert_int_equal(c.srcs[0].spec.kind, FX_KRAKEN);
	assert_int_equal(c.srcs[0].min_interval_ms, 250);
	fc_free(&c);
	rt_strlist bad = { 3,
		           (const char *[]){ "k:kraken=http://h:1/0/public/Ticker?pair=XETHZUSD", "nope",
		                             "g:generic=http://h" },
		           NULL };
	assert_int_equal(fc_from_feeds(NULL, &feeds, 8, &bad, NULL, 0, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "SOURCES[0] \"k\": with FEEDS/FEEDS_FILE a kraken url is the API's origin"));
	assert_non_null(strstr(err, "SOURCES[1]: \"nope\" is not name=origin"));
	assert_non_null(strstr(err, "SOURCES[2] \"g\": kind \"generic\" unknown"));
	char sym[64];
	assert_int_equal(fc_default_symbol(FX_KRAKEN, "BTC-USD", sym, sizeof sym), 0);
	assert_string_equal(sym, "XXBTZUSD");
	assert_int_equal(fc_default_symbol(FX_KRAKEN, "SOL-EUR", sym, sizeof sym), 0);
	assert_string_equal(sym, "SOLEUR");
	assert_int_equal(fc_default_symbol(FX_COINGECKO, "MATIC-USD", sym, sizeof sym), 0);
	assert_string_equal(sym, "matic-network/usd");
	assert_int_equal(fc_default_symbol(FX_COINGECKO, "FOO-USD", sym, sizeof sym), -1);
	assert_int_equal(fc_default_symbol(FX_BINANCE, "ETHUSD", sym, sizeof sym), -1); /* not BASE-QUOTE */
}

static void
test_feeds_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "{\"feeds\":[]}", "want {\"feeds\"" },
		{ "{\"feeds\":[{\"feed\":\"E\"}],\"x\":1}", "FEEDS_FILE: unknown key \"x\"" },
		{ "{\"sources\":[{\"name\":\"binance\",\"url\":\"http://"
		  "h\"}],\"feeds\":[{\"feed\":\"ETH-USD\",\"sym\":{}}]}",
		  "feeds[0] \"ETH-USD\": unknown key \"sym\"" },
		{ "{\"sources\":[{\"name\":\"binance\",\"url\":\"http://h\"}],\"feeds\":[{\"feed\":\"ETH-USD\","
		  "\"symbols\":{\"kraken\":\"X\"}}]}",
		  "symbols: no source named \"kraken\"" },
		{ "{\"sources\":[{\"name\":\"binance\",\"url\":\"http://h\"}],\"feeds\":[{\"feed\":\"ETH-USD\","
		  "\"symbols\":{\"binance\":\"ETH&x=1\"}}]}",
		  "symbol \"ETH&x=1\" for binance" },
		{ "{\"sources\":[{\"name\":\"binance\",\"url\":\"http://h\"}],\"feeds\":[{\"feed\":\"ETH-USD\","
		  "\"symbols\":{\"binance\":null}}]}",
		  "no source prices this feed" },
		{ "{\"sources\":[{\"name\":\"binance\",\"url\":\"http://"
		  "h\",\"batch\":0}],\"feeds\":[{\"feed\":\"ETH-USD\"}]}",
		  "batch must be an integer 1..500" },
		{ "{\"sources\":[{\"name\":\"binance\",\"url\":\"ftp://h\"}],\"feeds\":[{\"feed\":\"ETH-USD\"}]}",
		  "url must be http:// or https://" },
		{ "{\"sources\":[{\"name\":\"g\",\"kind\":\"generic\",\"url\":\"http://h\",\"path\":\"p\"}],"
		  "\"feeds\":[{\"feed\":\"ETH-USD\"}]}",
		  "needs \"{symbol}\" in its url" },
		{ "{\"sources\":[{\"name\":\"binance\",\"url\":\"http://h\"},{\"name\":\"binance\",\"url\":\"http://"
		  "i\"}],"
		  "\"feeds\":[{\"feed\":\"ETH-USD\"}]}",
		  "source name used twice" },
		{ "{\"feeds\":[{\"feed\":\"ETH-USD\"},{\"feed\":\"ETH-USD\"}]}", "feed listed twice" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fc_config c;
		char err[2048];
		if (load_feeds(cases[i].text, &c, err, sizeof err) == 0)
			fail_msg("case %zu accepted: %s", i, cases[i].text);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: error '%s' lacks '%s'", i, err, cases[i].want);
		assert_null(c.srcs);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_ok),   cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_list),      cmocka_unit_test(test_feeds_file),
		cmocka_unit_test(test_feeds_env), cmocka_unit_test(test_feeds_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
