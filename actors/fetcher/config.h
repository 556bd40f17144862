/* config: the fetcher's feeds and sources, from the JSON file named by CONFIG_FILE or, for simple
 * setups, from SOURCES + FEED. Validated up front: every problem names the entry
 * (feeds[0].sources[2] "x": ...), so a typo stops the process at start, not at 3 a.m.
 *
 *   {"feeds":[{"feed":"ETH-USD","decimals":8,"sources":[
 *      {"name":"coinbase","kind":"coinbase","url":"https://api.coinbase.com/v2/prices/ETH-USD/spot"},
 *      {"name":"x","kind":"generic","url":"...","path":"data.price","ts_path":"data.ts","ts_unit":"s",
 *       "interval":"5s","min_interval":"1s","headers":{"x-api-key":"..."}}]}]}
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

void fc_free(fc_config *c);

/* The token rule of schemas/ for feed and source names: 1..31 of [A-Za-z0-9._:/@+-]. */
int fc_valid_name(const char *s);

#endif
