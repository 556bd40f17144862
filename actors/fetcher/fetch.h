/* fetch: the fetcher's engine. A job is one request of one source, for one feed (the one-URL
 * form) or many (the many-feeds form: every symbol of the source in as few requests as its API
 * allows: CoinGecko ids=a,b, Binance symbols=[..], Kraken pair=a,b, chunks of the source's "batch";
 * Coinbase and a generic URL with {symbol} one request per feed, one after the other over one
 * kept-alive connection). Requests of one source name never overlap. An HTTP 429 (or 418) pauses the
 * whole source for its Retry-After (seconds or HTTP-date), or RETRY_BACKOFF doubled per 429 in a row,
 * at most RATE_LIMIT_MAX_WAIT. A batch the API refuses as a whole (Binance/Kraken do for one unknown
 * symbol) is fetched symbol by symbol for a while, so the other feeds go on and the culprit is named.
 * Every job is fetched every interval over
 * libcurl's multi interface: all requests in flight from one thread, connections kept alive and
 * reused from the multi handle's pool, connect and total timeouts, retries of transient failures
 * (connect, timeout, transfer, HTTP 5xx/429) with jittered exponential backoff inside the
 * interval, and a minimum spacing between requests to the same source name (a rate limit shared
 * by every feed fetched from that source).
 *
 * A response is parsed by adapters.c; a valid, fresh price is handed to the observation callback
 * (main.c publishes it). Everything else is counted (fetcher_errors_total{source,feed,kind}),
 * logged once per state change, and skipped. Health: "feed:<name>" is degraded while every source
 * of that feed is failing.
 *
 * Memory: fe_new copies nothing from cfg, which must outlive the engine. Threads: one. */
#ifndef OB_ACTORS_FETCHER_FETCH_H
#define OB_ACTORS_FETCHER_FETCH_H

#include <stdint.h>

#include "actors/fetcher/config.h"
#include "schemas/messages.h"

typedef struct {
	uint64_t interval_ms;        /* FETCH_INTERVAL, for sources without their own */
	uint64_t timeout_ms;         /* HTTP_TIMEOUT: whole request */
	uint64_t connect_timeout_ms; /* CONNECT_TIMEOUT (capped at timeout_ms) */
	uint64_t max_staleness_ms;   /* MAX_STALENESS; 0 = no check */
	uint64_t retries;            /* RETRIES per interval after the first attempt */
	uint64_t backoff_ms;         /* RETRY_BACKOFF: first retry delay, doubled each time, jittered */
	uint64_t max_body;           /* MAX_BODY bytes */
	uint64_t rate_wait_max_ms;   /* RATE_LIMIT_MAX_WAIT: longest pause after a 429, Retry-After included */
} fe_opts;

typedef void (*fe_obs_fn)(void *arg, const sc_price_obs *obs);

typedef struct fe_engine fe_engine;

/* NULL with err on failure (libcurl init). Registers the metrics. */
fe_engine *fe_new(const fc_config *cfg, const fe_opts *o, fe_obs_fn cb, void *arg, char *err, size_t errlen);
/* Starts what is due, waits up to max_wait_ms for sockets (or the runtime's stop fd), completes
 * finished transfers. 0, or -1 on a libcurl multi error. */
int fe_step(fe_engine *e, int max_wait_ms);
void fe_free(fe_engine *e);

#endif
