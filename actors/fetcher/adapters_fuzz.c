/* adapters_fuzz: every adapter (and the generic one with paths taken from the input) on arbitrary
 * bytes, single and batched (several symbols, one answer); the Retry-After reader on the same bytes;
 * must never crash, read out of bounds or leave a value behind on error. The Makefile links the
 * actor's objects into its fuzz target, as into its unit tests. */
#include "actors/fetcher/adapters.h"
#include "chain/jscan.h"

#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const gpaths[] = { "p", "data.amount", "result.*.c.0", "*.*", "a.0.b", "*.*.*.*" };
	/* A private copy: the fuzzer's buffer is exactly size bytes, so ASan sees any overread. */
	char *body = malloc(size ? size : 1);
	if (body == NULL)
		return 0;
	memcpy(body, data, size);
	for (int k = 0; k < FX_NKINDS; k++) {
		for (int u = 0; u < FX_NUNITS; u++) {
			fx_spec s = { (fx_kind)k, k == FX_COINGECKO ? "ethereum.usd" : NULL,
				      k == FX_COINGECKO ? "ethereum.last_updated_at" : NULL, (fx_ts_unit)u,
				      (unsigned)(size % 80) };
			if (k == FX_GENERIC) {
				s.path = gpaths[size % 6];
				s.ts_path = gpaths[(size / 6) % 6];
			}
			u256 v;
			uint64_t ts;
			int inexact;
			char err[160];
			fx_err e = fx_parse(&s, body, size, &v, &ts, &inexact, err, sizeof err);
			if (e != FX_OK && (!u256_is_zero(&v) || ts != 0))
				abort();
			if (e == FX_OK && (i256_is_neg(&v) || u256_is_zero(&v)))
				abort();
			if (k != FX_GENERIC)
				break; /* the unit only matters to the generic adapter */
		}
	}
	/* batched: the symbols as the seeds' documents name them, and {symbol} paths for the generic one */
	static const char *const syms[][2] = { { "ethereum", "usd" }, { "bitcoin", "eur" }, { "ETHUSDT", NULL },
		                               { "XETHZUSD", NULL },  { "ETH-USD", NULL },  { "a", "b" } };
	for (int k = 0; k < FX_NKINDS; k++) {
		fx_spec s = { (fx_kind)k, k == FX_GENERIC ? "p.{symbol}.v" : NULL,
			      k == FX_GENERIC ? "t.{symbol}" : NULL, FX_TS_S, 8 };
		fx_item it[6];
		char err[160];
		memset(it, 0, sizeof it);
		for (size_t i = 0; i < 6; i++) {
			it[i].sym = syms[i][0];
			it[i].vs = syms[i][1];
			it[i].decimals = (unsigned)((size + i) % 40);
		}
		fx_err e = fx_parse_batch(&s, body, size, it, 6, err, sizeof err);
		for (size_t i = 0; i < 6; i++) {
			if (it[i].err != FX_OK && (!u256_is_zero(&it[i].value) || it[i].ts_ms != 0 || !it[i].why[0]))
				abort();
			if (it[i].err == FX_OK &&
			    (e != FX_OK || i256_is_neg(&it[i].value) || u256_is_zero(&it[i].value)))
				abort();
		}
	}
	js_val jv;
	char buf[64];
	if (js_validate(body, size, NULL, NULL) == 0 && js_find(body, size, "*", &jv) == 0) {
		js_string(&jv, buf, sizeof buf);
		js_count(&jv);
	}
	char p[64], t[64], err[64];
	char *url = malloc(size + 1);
	if (url) {
		memcpy(url, data, size);
		url[size] = '\0';
		fx_coingecko_paths(url, p, sizeof p, t, sizeof t, err, sizeof err);
		if (fx_retry_after_s(url, 1700000000) < -1)
			abort();
		free(url);
	}
	free(body);
	return 0;
}
