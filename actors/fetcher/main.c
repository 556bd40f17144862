/*
 * fetcher - fetches prices from HTTP(S) sources (CoinGecko, Binance, Coinbase, Kraken, or any JSON
 * API through the generic adapter) and publishes each as price.obs.<feed>.
 *
 * Stateless: several replicas (or one per source) are harmless, the median keeps the freshest
 * observation per source. Observations are lossy by design (the next fetch supersedes one), so a
 * stop simply abandons the requests in flight. See README.md beside this file.
 */
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "actors/fetcher/config.h"
#include "actors/fetcher/fetch.h"
#include "bus/actor.h"
#include "base/rt_config.h"
#include "base/rt_log.h"
#include "base/rt_main.h"
#include "base/rt_metrics.h"

static act_bus_cfg busc;
static fe_opts fo;
static rt_strlist cfg_sources, cfg_feeds;
static const char *cfg_feed, *cfg_file, *cfg_feeds_file;
static uint64_t cfg_decimals, cfg_min_interval_ms;
static fc_config cfg; /* the feeds and sources, built by fetcher_check */

/* Adds each line of a multi-line error (fc_from_* list every problem) to the list. */
static void
fetcher_lines(rt_cfg_errs *e, const char *env, char *err)
{
	for (char *line = strtok(err, "\n"); line; line = strtok(NULL, "\n"))
		rt_config_error(e, env, "%s", line);
}

/* The seed's public sources for FEED when SOURCES and CONFIG_FILE are unset: CoinGecko, Binance and
 * Coinbase at their real paths (a quote in USD is USDT on Binance; CoinGecko needs its coin id, known
 * here for a few bases, else it is left out). PUBLIC_SOURCES_ORIGIN replaces the three origins (a
 * mirror or egress proxy; tools/price-sim in tests). Fills list (pointing into bufs); the count. */
static const char *cfg_origin;
static char fetcher_dflt_bufs[3][320];
static const char *fetcher_dflt_v[3];
static rt_strlist fetcher_dflt = { 0, fetcher_dflt_v, NULL };

static size_t
fetcher_default_sources(const char *feed, rt_cfg_errs *e)
{
	static const char *const ids[][2] = { { "ETH", "ethereum" },   { "BTC", "bitcoin" },
		                              { "LINK", "chainlink" }, { "USDC", "usd-coin" },
		                              { "USDT", "tether" },    { "DAI", "dai" },
		                              { "SOL", "solana" },     { "MATIC", "matic-network" } };
	char base[16], quote[16], lq[16];
	const char *dash = strchr(feed, '-');
	size_t bl = dash ? (size_t)(dash - feed) : 0;
	if (!dash || bl == 0 || bl >= sizeof base || strlen(dash + 1) == 0 || strlen(dash + 1) >= sizeof quote) {
		rt_config_error(e, "SOURCES",
		                "required: FEED '%.40s' is not BASE-QUOTE, so no public source can be derived "
		                "(or set CONFIG_FILE)",
		                feed);
		return 0;
	}
	memcpy(base, feed, bl);
	base[bl] = '\0';
	snprintf(quote, sizeof quote, "%s", dash + 1);
	for (size_t i = 0; i <= strlen(quote); i++)
		lq[i] = (char)(quote[i] >= 'A' && quote[i] <= 'Z' ? quote[i] + 32 : quote[i]);
	const char *o = cfg_origin && *cfg_origin ? cfg_origin : NULL;
	size_t n = 0;
	for (size_t i = 0; i < OB_COUNT(ids); i++)
		if (strcmp(ids[i][0], base) == 0)
			snprintf(
			        fetcher_dflt_bufs[n++], sizeof fetcher_dflt_bufs[0],
			        "coingecko=%s/api/v3/simple/price?ids=%s&vs_currencies=%s&include_last_updated_at=true",
			        o ? o : "https://api.coingecko.com", ids[i][1], lq);
	snprintf(fetcher_dflt_bufs[n++], sizeof fetcher_dflt_bufs[0], "binance=%s/api/v3/ticker/price?symbol=%s%s",
	         o ? o : "https://api.binance.com", base, strcmp(quote, "USD") == 0 ? "USDT" : quote);
	snprintf(fetcher_dflt_bufs[n++], sizeof fetcher_dflt_bufs[0], "coinbase=%s/v2/prices/%s-%s/spot",
	         o ? o : "https://api.coinbase.com", base, quote);
	for (size_t i = 0; i < n; i++)
		fetcher_dflt.v[i] = fetcher_dflt_bufs[i];
	fetcher_dflt.n = n;
	return n;
}

/* CONFIG_FILE, or SOURCES + FEED: parsed and validated in the configuration pass. */
static void
fetcher_check(const rt_opt *o, const char *text, rt_cfg_errs *e)
{
	char err[4096];
	if (rt_config_failed(e, "CONFIG_FILE") || rt_config_failed(e, "SOURCES") || rt_config_failed(e, "DECIMALS"))
		return;
	int many = (cfg_feeds_file && *cfg_feeds_file) || cfg_feeds.n > 0;
	if (many) { /* the many-feeds form: one request per source serves every feed */
		if (cfg_file && *cfg_file) {
			rt_config_error(e, "CONFIG_FILE", "not with FEEDS or FEEDS_FILE (one form or the other)");
			return;
		}
		if (cfg_feeds_file && *cfg_feeds_file && cfg_feeds.n > 0) {
			rt_config_error(e, "FEEDS", "not with FEEDS_FILE (the file lists the feeds)");
			return;
		}
		if (rt_config_failed(e, "FEEDS_FILE") || rt_config_failed(e, "FEEDS"))
			return;
		json_t *froot = NULL;
		if (cfg_feeds_file && *cfg_feeds_file && (froot = rt_config_json(e, "FEEDS_FILE")) == NULL)
			return;
		if (cfg_origin && *cfg_origin && (cfg_sources.n > 0 || json_object_get(froot, "sources")))
			rt_config_error(
			        e, "PUBLIC_SOURCES_ORIGIN",
			        "applies only to the default sources (SOURCES and the file's \"sources\" unset)");
		int rc = fc_from_feeds(froot, &cfg_feeds, (unsigned)cfg_decimals, &cfg_sources, cfg_origin,
		                       cfg_min_interval_ms, &cfg, err, sizeof err);
		if (rc != 0)
			fetcher_lines(e, froot ? "FEEDS_FILE" : "FEEDS", err);
		json_decref(froot);
		return;
	}
	json_t *root = rt_config_json(e, "CONFIG_FILE");
	if (root == NULL && cfg_file && *cfg_file)
		return;                                /* unreadable: rt_config_json listed it */
	const char *env = root ? "CONFIG_FILE" : NULL; /* SOURCES lines name themselves */
	const rt_strlist *list = &cfg_sources;
	if (root == NULL && cfg_sources.n == 0) {
		if (fetcher_default_sources(cfg_feed ? cfg_feed : "", e) == 0)
			return;
		list = &fetcher_dflt;
	} else if (cfg_origin && *cfg_origin) {
		rt_config_error(e, "PUBLIC_SOURCES_ORIGIN",
		                "applies only to the default sources (SOURCES and CONFIG_FILE "
		                "unset)");
	}
	int rc =
	        root ? fc_from_json(root, &cfg, err, sizeof err)
	             : fc_from_list(cfg_feed, (unsigned)cfg_decimals, list, cfg_min_interval_ms, &cfg, err, sizeof err);
	json_decref(root);
	if (rc != 0)
		fetcher_lines(e, env, err);
}

static const rt_opt opts[] = {
	ACT_BUS_OPTS(busc),
	{ "CONFIG_FILE", RT_STR, NULL,
	  "JSON file of feeds, each with its sources' full URLs (one request per feed and source; see README); "
	  "overrides SOURCES/FEED",
	  &cfg_file, 0, 0, 0, 0 },
	{ "FEEDS_FILE", RT_STR, NULL,
	  "JSON file {\"feeds\":[{\"feed\",\"decimals\",\"symbols\":{source:symbol}}],\"sources\":[{\"name\",\"kind\","
	  "\"url\":origin,\"batch\",...}]}: many feeds, one request per source (see README)",
	  &cfg_feeds_file, 0, 0, 0, 0 },
	{ "FEEDS", RT_LIST, NULL,
	  "without FEEDS_FILE: many feeds (BASE-QUOTE, comma list), symbols derived, one request per source; "
	  "SOURCES items are then name[:kind]=origin (unset = CoinGecko, Binance, Coinbase); more feeds: FEEDS_FILE",
	  &cfg_feeds, 0, 0, FC_MAX_FEEDS, 0 },
	{ "SOURCES", RT_LIST, NULL,
	  "without CONFIG_FILE: name=url or name:kind=url, comma-separated; unset = the "
	  "seed's public sources for FEED (CoinGecko, Binance, Coinbase)",
	  &cfg_sources, 0, 0, FC_MAX_SOURCES, 0 },
	{ "PUBLIC_SOURCES_ORIGIN", RT_STR, NULL,
	  "with SOURCES unset: http(s)://host[:port] serving the public APIs' "
	  "paths instead of their own hosts (a mirror or egress proxy)",
	  &cfg_origin, 0, 0, 0, 0 },
	{ "FEED", RT_STR, "ETH-USD", "without CONFIG_FILE: the feed SOURCES price", &cfg_feed, 0, 0, 0, 0 },
	{ "DECIMALS", RT_U64, "8", "without CONFIG_FILE: fixed-point decimals of FEED (of FEEDS, FEEDS_FILE's default)",
	  &cfg_decimals, 0, 77, 0, 0 },
	{ "MIN_INTERVAL", RT_DURATION, "0", "without CONFIG_FILE: least time between requests to one source",
	  &cfg_min_interval_ms, 0, 86400000, 0, 0 },
	{ "FETCH_INTERVAL", RT_DURATION, "10s", "time between fetches of each source (per-source \"interval\" wins)",
	  &fo.interval_ms, 10, 86400000, 0, 0 },
	{ "HTTP_TIMEOUT", RT_DURATION, "5s", "whole-request timeout", &fo.timeout_ms, 10, 600000, 0, 0 },
	{ "CONNECT_TIMEOUT", RT_DURATION, "3s", "TCP/TLS connect timeout (capped at HTTP_TIMEOUT)",
	  &fo.connect_timeout_ms, 10, 600000, 0, 0 },
	{ "MAX_STALENESS", RT_DURATION, "5m", "refuse prices whose source time is further than this from now (0 = off)",
	  &fo.max_staleness_ms, 0, 86400000, 0, 0 },
	{ "RETRIES", RT_U64, "2", "retries of a transient failure (connect, timeout, 5xx, 429) within one interval",
	  &fo.retries, 0, 20, 0, 0 },
	{ "RETRY_BACKOFF", RT_DURATION, "250ms", "first retry delay; doubles per retry, jittered over [d/2, d]",
	  &fo.backoff_ms, 1, 600000, 0, 0 },
	{ "MAX_BODY", RT_U64, "65536", "largest response body accepted (bytes)", &fo.max_body, 256, 16 << 20, 0, 0 },
	{ "RATE_LIMIT_MAX_WAIT", RT_DURATION, "10m",
	  "longest pause of a source after HTTP 429/418 (its Retry-After, seconds or HTTP-date, is honoured up to "
	  "this; without one the pause doubles from max(RETRY_BACKOFF, 1s))",
	  &fo.rate_wait_max_ms, 1000, 86400000, 0, 0 },
	RT_CHECK_ROW("", fetcher_check),
};

typedef struct {
	act_bus *bus;
	rt_metric *m_pub_err;
} fetcher;

static void
on_obs(void *arg, const sc_price_obs *obs)
{
	fetcher *f = arg;
	char topic[64];
	snprintf(topic, sizeof topic, "price.obs.%s", obs->feed);
	if (act_publish(f->bus, topic, &SC_PRICE_OBS, obs, NULL, NULL) != BUS_OK)
		rt_inc(f->m_pub_err); /* act_publish logged it; the next fetch supersedes this one */
}

int
main(int argc, char **argv)
{
	char err[2048];

	if (rt_init("fetcher", argc, argv, opts, OB_COUNT(opts)) != 0)
		return 1;

	fetcher f = { 0 };
	f.m_pub_err = rt_counter("fetcher_publish_errors_total", "Observations the bus refused to take.", NULL);
	if ((f.bus = act_open(&busc, ACT_PUB, NULL, err, sizeof err)) == NULL) {
		rt_logkv(RT_ERROR, "bus", "err", err, NULL);
		return 1;
	}
	fe_engine *e = fe_new(&cfg, &fo, on_obs, &f, err, sizeof err);
	if (e == NULL) {
		rt_logkv(RT_ERROR, "fetcher engine", "err", err, NULL);
		return 1;
	}
	for (size_t i = 0; i < cfg.nsrcs; i++) {
		char n[24];
		snprintf(n, sizeof n, "%zu", cfg.srcs[i].nmembers);
		if (cfg.srcs[i].batched)
			rt_logkv(RT_INFO, "source", "source", cfg.srcs[i].name, "kind",
			         fx_kind_name(cfg.srcs[i].spec.kind), "url", cfg.srcs[i].url, "feeds", n, NULL);
		else
			rt_logkv(RT_INFO, "source", "feed", cfg.feeds[cfg.srcs[i].feed].name, "source",
			         cfg.srcs[i].name, "kind", fx_kind_name(cfg.srcs[i].spec.kind), "url", cfg.srcs[i].url,
			         NULL);
	}
	for (size_t fi = 0; fi < cfg.nfeeds && cfg.nsrcs && cfg.srcs[0].batched; fi++) {
		size_t n = 0; /* the many-feeds form: name the feeds some source leaves out */
		for (size_t i = 0; i < cfg.nsrcs; i++)
			for (size_t k = 0; k < cfg.srcs[i].nmembers; k++)
				n += cfg.srcs[i].members[k].feed == fi;
		if (n < cfg.nsrcs)
			rt_logkv(RT_INFO, "feed priced by fewer sources (no symbol for some; give them in FEEDS_FILE)",
			         "feed", cfg.feeds[fi].name, NULL);
	}
	rt_log(RT_INFO, "fetching %zu sources for %zu feeds", cfg.nsrcs, cfg.nfeeds);
	/* Configuration checked, engine and bus opened: the start-up ends once busd is connected. A
	 * source that fails is the feed's own health reason (feed:<name>), not the start-up's. */
	rt_ready();

	while (!rt_stopping())
		if (fe_step(e, 1000) != 0)
			rt_sleep_ms(100); /* a multi error is logged; back off rather than spin */

	fe_free(e);
	act_close(f.bus);
	fc_free(&cfg);
	rt_shutdown();
	return 0;
}
