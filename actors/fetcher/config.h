/* config: the fetcher's feeds and sources, from the JSON file named by CONFIG_FILE or, for simple
 * setups, from SOURCES + FEED. Validated up front: every problem names the entry
 * (feeds[0].sources[2] "x": ...), so a typo stops the process at start, not at 3 a.m.
 *
 *   {"feeds":[{"feed":"ETH-USD","decimals":8,"sources":[
 *      {"name":"coinbase","kind":"coinbase","url":"https://api.coinbase.com/v2/prices/ETH-USD/spot"},
 *      {"name":"x","kind":"generic","url":"...","path":"data.price","ts_path":"data.ts","ts_unit":"s",
 *       "interval":"5s","min_interval":"1s","headers":{"x-api-key":"..."}}]}]}
 *
 * The many-feeds form (FEEDS_FILE, or FEEDS with SOURCES as origins) lists sources once and feeds
 * with each source's symbol, so one request per source serves every feed (adapters.h, batches):
 *
 *   {"sources":[{"name":"coingecko","url":"https://api.coingecko.com","min_interval":"2s"},
 *               {"name":"binance","url":"https://api.binance.com"}],
 *    "feeds":[{"feed":"ETH-USD","decimals":8,"symbols":{"coingecko":"ethereum","binance":"ETHUSDT"}},
 *             {"feed":"BTC-USD"}]}                      (symbols derived from BASE-QUOTE when absent)
 *
 * Memory: fc_config owns every string and array; release with fc_free. */
#ifndef OB_ACTORS_FETCHER_CONFIG_H
#define OB_ACTORS_FETCHER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "actors/fetcher/adapters.h"
#include "base/rt_config.h"

#define FC_NAME_CAP    31 /* as sc_price_obs.feed / .source */
#define FC_MAX_HEADERS 8
#define FC_MAX_FEEDS   1024 /* feeds of one process (the many-feeds form) */
#define FC_MAX_SOURCES 32
#define FC_BATCH_MAX   500 /* symbols in one request at most ("batch") */

/* One feed a source prices: the feed and, in the many-feeds form, its symbol at that source. */
typedef struct {
	size_t feed;              /* index into fc_config.feeds */
	char sym[FX_SYM_MAX + 1]; /* "" in the one-URL form */
	char vs[16];              /* coingecko: the vs currency ("usd") */
} fc_member;

typedef struct {
	char name[FC_NAME_CAP + 1];
	size_t feed; /* index into fc_config.feeds */
	char *url;
	fx_spec spec; /* spec.path / ts_path point into path / ts_path below */
	char *path, *ts_path;
	uint64_t interval_ms;          /* 0 = FETCH_INTERVAL */
	uint64_t min_interval_ms;      /* least time between two requests of any job with this source name */
	char *headers[FC_MAX_HEADERS]; /* "Name: value" lines */
	size_t nheaders;
	int batched;        /* many-feeds form: url is the API's origin (generic: a URL, "{symbol}" allowed) */
	unsigned batch_max; /* batched: symbols per request */
	fc_member *members; /* the feeds this source prices (one in the one-URL form) */
	size_t nmembers;
} fc_source;

typedef struct {
	char name[FC_NAME_CAP + 1];
	unsigned decimals;
} fc_feed;

typedef struct {
	fc_feed *feeds;
	size_t nfeeds;
	fc_source *srcs;
	size_t nsrcs;
} fc_config;

/* From a parsed config file. 0, or -1 with every problem (lines joined by '\n') in err. */
int fc_from_json(const json_t *root, fc_config *out, char *err, size_t errlen);

/* From SOURCES items "name=url" or "name:kind=url" (kind defaults to name) for one feed. */
int fc_from_list(const char *feed, unsigned decimals, const rt_strlist *sources, uint64_t min_interval_ms,
                 fc_config *out, char *err, size_t errlen);

/* The many-feeds form. Feeds from root's "feeds" (FEEDS_FILE) or else the `feeds` list (FEEDS, all
 * with `decimals`); sources from root's "sources", else `sources` items name[:kind]=origin, else the
 * public CoinGecko, Binance and Coinbase (at public_origin when given). Each feed is priced by every
 * source it has a symbol for: given in its "symbols" (null = not from this source) or derived from
 * BASE-QUOTE (fc_default_symbol). 0, or -1 with every problem in err. */
int fc_from_feeds(const json_t *root, const rt_strlist *feeds, unsigned decimals, const rt_strlist *sources,
                  const char *public_origin, uint64_t min_interval_ms, fc_config *out, char *err, size_t errlen);

/* The symbol of feed BASE-QUOTE at a source of this kind: coingecko "<coin id>/<quote lower-cased>"
 * for the ids it knows (ETH, BTC, LINK, USDC, USDT, DAI, SOL, MATIC), binance BASE+QUOTE (USD as
 * USDT), coinbase BASE-QUOTE, kraken its pair key (XETHZUSD, XXBTZEUR, SOLUSD), generic the feed.
 * 0, or -1 when none can be derived. */
int fc_default_symbol(fx_kind kind, const char *feed, char *sym, size_t cap);

/* The request URL of a batched source for members [0, n): origin + the kind's path and query. 0, or
 * -1 when it would not fit in cap. */
int fc_batch_url(const fc_source *s, const fc_member *m, size_t n, char *url, size_t cap);

/* 1 when a batched source asks one request per feed: coinbase, a generic url with "{symbol}". */
int fc_source_each(const fc_source *s);

void fc_free(fc_config *c);

/* The token rule of schemas/ for feed and source names: 1..31 of [A-Za-z0-9._:/@+-]. */
int fc_valid_name(const char *s);

#endif
