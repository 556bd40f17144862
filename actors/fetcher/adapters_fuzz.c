/* adapters_fuzz: every adapter (and the generic one with paths taken from the input) on arbitrary
 * bytes; must never crash, read out of bounds or leave a value behind on error. The Makefile links the
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
		free(url);
	}
	free(body);
	return 0;
}
