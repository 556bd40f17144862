/* adapters: turn a price source's HTTP response body into an exact fixed-point price and the
 * source's own timestamp. Pure functions (no I/O, no clock, no allocation) so they are unit
 * tested with real payloads and fuzzed on arbitrary bytes.
 *
 * Formats (the real public APIs):
 *   coingecko  /api/v3/simple/price?ids=ethereum&vs_currencies=usd[&include_last_updated_at=true]
 *              {"ethereum":{"usd":3000.12,"last_updated_at":1700000000}}   (a bare JSON number)
 *   binance    /api/v3/ticker/price?symbol=ETHUSDT   {"symbol":"ETHUSDT","price":"3000.12000000"}
 *   coinbase   /v2/prices/ETH-USD/spot   {"data":{"amount":"3000.12","base":"ETH","currency":"USD"}}
 *   kraken     /0/public/Ticker?pair=XETHZUSD
 *              {"error":[],"result":{"XETHZUSD":{"c":["3000.12000","0.5"],...}}}  (last trade c[0])
 *   generic    any JSON; a price path and an optional timestamp path (see jscan.h for paths)
 * A price may be a JSON number or a string holding a decimal ("1.5e3" included); either way its
 * exact text goes to dec_to_fixed (base/u256.h), never through a double.
 *
 * Memory: fx_spec strings are the caller's; outputs are caller buffers. */
#ifndef OB_ACTORS_FETCHER_ADAPTERS_H
#define OB_ACTORS_FETCHER_ADAPTERS_H

#include <stddef.h>
#include <stdint.h>

#include "base/u256.h"

typedef enum {
	FX_COINGECKO,
	FX_BINANCE,
	FX_COINBASE,
	FX_KRAKEN,
	FX_GENERIC,
	FX_NKINDS
} fx_kind;

typedef enum {
	FX_TS_S,
	FX_TS_MS,
	FX_TS_US,
	FX_TS_NS,
	FX_TS_RFC3339,
	FX_NUNITS
} fx_ts_unit;

/* Why a response was refused: also the `kind` label of fetcher_errors_total (fx_err_name).
 * The first ones are the fetcher's transport errors; the adapter returns FX_E_PARSE and after. */
typedef enum {
	FX_OK,
	FX_E_CONNECT,     /* could not connect / resolve / TLS */
	FX_E_TIMEOUT,     /* HTTP_TIMEOUT passed */
	FX_E_HTTP,        /* a status other than 2xx */
	FX_E_TRANSFER,    /* body larger than the limit, or another transfer error */
	FX_E_PARSE,       /* not JSON */
	FX_E_MISSING,     /* the price (or timestamp) is not where the format puts it, or has the wrong type */
	FX_E_SOURCE,      /* the API reported an error in its body (Kraken's "error", Binance's "msg") */
	FX_E_RANGE,       /* not a decimal, or outside int256 at the feed's decimals */
	FX_E_NONPOSITIVE, /* zero or negative */
	FX_E_STALE,       /* the source's timestamp is older than MAX_STALENESS (or too far ahead) */
	FX_E_RATE,        /* HTTP 429 (or 418): the source asked us to slow down; it is left alone a while */
	FX_NERRS
} fx_err;

typedef struct {
	fx_kind kind;
	const char *path;    /* price path; NULL = the kind's own (coingecko: see fx_coingecko_paths) */
	const char *ts_path; /* timestamp path; NULL = the kind's own (none but coingecko's) */
	fx_ts_unit ts_unit;  /* for ts_path (coingecko's is seconds whatever this says) */
	unsigned decimals;
} fx_spec;

/* Parses body. FX_OK with *value (price * 10^decimals, > 0) and *ts_ms (0 = the source gave no
 * time); otherwise the error kind with a one-line reason in err. *inexact is set to 1 when the
 * price had more fractional digits than `decimals` and was rounded half-even (may be NULL). */
fx_err fx_parse(const fx_spec *s, const char *body, size_t len, u256 *value, uint64_t *ts_ms, int *inexact, char *err,
                size_t errlen);

/* CoinGecko's response is keyed by coin id and currency, which are in the request URL: derives
 * "ethereum.usd" and "ethereum.last_updated_at" from ...?ids=ethereum&vs_currencies=usd. 0, or -1
 * with a reason when the URL does not name exactly one id and one currency. */
int fx_coingecko_paths(const char *url, char *path, size_t pcap, char *ts_path, size_t tcap, char *err, size_t errlen);

/* Freshness of a source timestamp: FX_OK, or FX_E_STALE when ts_ms is older than max_ms before
 * now_ms, or more than max_ms ahead of it. ts_ms == 0 (no time given) and max_ms == 0 pass. */
fx_err fx_check_fresh(uint64_t ts_ms, uint64_t now_ms, uint64_t max_ms);

/* ---- batched responses: many symbols in one answer ------------------------------------------
 *   coingecko  /api/v3/simple/price?ids=ethereum,bitcoin&vs_currencies=usd,eur&include_last_updated_at=true
 *              {"ethereum":{"usd":3000.12,"eur":2750,"last_updated_at":1700000000},"bitcoin":{...}}
 *              (an unknown id is simply absent, as the API does)
 *   binance    /api/v3/ticker/price?symbols=["ETHUSDT","BTCUSDT"]  (or every ticker, no parameter)
 *              [{"symbol":"ETHUSDT","price":"3000.12000000"},...]; one object for symbol=
 *   kraken     /0/public/Ticker?pair=XETHZUSD,XXBTZUSD   {"error":[],"result":{"XETHZUSD":{"c":[..]},..}}
 *   coinbase   one request per product (/v2/prices/ETH-USD/spot); the answer's base-currency must
 *              be the product asked for
 *   generic    the spec's path (and ts_path) with "{symbol}" replaced by each item's sym
 * An entry is matched to an item by its exact key/symbol; entries nobody asked for are skipped
 * without being read; at most FX_BATCH_MAX_ENTRIES entries are walked (past it the whole answer
 * is refused), and the body itself is bounded by the caller (MAX_BODY). */
#define FX_SYM_MAX           47
#define FX_BATCH_MAX_ENTRIES 20000

typedef struct {
	const char *sym;   /* coingecko coin id, binance symbol, kraken pair key, coinbase product, generic {symbol} */
	const char *vs;    /* coingecko: the vs currency ("usd"); else unused */
	unsigned decimals; /* of the item's feed */
	/* outcome */
	fx_err err; /* FX_OK, or why this item was refused (FX_E_MISSING: not in the answer) */
	u256 value;
	uint64_t ts_ms;
	int inexact;
	char why[96];
} fx_item;

/* Parses a response covering n items. Returns FX_OK when the answer as a whole is usable, each item
 * then carrying its own outcome; otherwise the whole answer's error (not JSON, the API's own error
 * report, too many entries) with the reason in err, also set on every item. */
fx_err fx_parse_batch(const fx_spec *s, const char *body, size_t len, fx_item *items, size_t n, char *err,
                      size_t errlen);

/* Replaces every "{symbol}" in tmpl with sym. 0, or -1 when out (cap bytes) is too small. */
int fx_subst(const char *tmpl, const char *sym, char *out, size_t cap);

/* A Retry-After header value (RFC 9110 10.2.3): delay-seconds, or an HTTP-date (read by libcurl's
 * curl_getdate) turned into seconds from now_s (0 when already past). -1 when it is neither. */
int64_t fx_retry_after_s(const char *value, int64_t now_s);

/* How long to leave a source alone after its n-th rate-limit answer in a row: Retry-After seconds
 * when given (retry_after_s >= 0), else base_ms * 2^(n-1); never more than max_ms. */
uint64_t fx_backoff_ms(int64_t retry_after_s, unsigned n, uint64_t base_ms, uint64_t max_ms);

/* Names: "coingecko".."generic", "s".."rfc3339", "connect".."rate_limited"; lookups return -1 if unknown. */
const char *fx_kind_name(fx_kind k);
int fx_kind_from_name(const char *name);
const char *fx_unit_name(fx_ts_unit u);
int fx_unit_from_name(const char *name);
const char *fx_err_name(fx_err e);

#endif
