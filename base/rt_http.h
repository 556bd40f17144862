/* rt_http: the actor's small HTTP server (GNU libmicrohttpd), serving GET /health and GET /metrics
 * plus any routes an actor adds (ccip-tail's /messages/<id>, the tokenizer's intake).
 *
 * Bounded against abuse: at most max_connections connections (max_per_ip from one address), and a
 * connection idle for timeout_s seconds (a request that trickles in: slowloris) is closed; refused
 * connections are counted in http_connections_refused_total. Bodies past the route's limit get 413;
 * requests refused before their handler are counted in http_refused_total{status}.
 *
 * Health: a set of named reasons. While any reason is set, /health answers 503 with
 *   {"status":"degraded","actor":..,"instance":..,"reasons":[{"key":"rpc","text":"..."}]}
 * otherwise 200 with {"status":"ok","actor":..,"instance":..}. From rt_init until the actor is ready
 * the reason "starting" is set (rt_main.h: rt_starting, rt_ready, rt_ready_gate).
 *
 * Memory: route method/path strings are copied. A handler writes its response into `out`
 * (owned and freed by the runtime after sending) and may point *ctype at a static string.
 * The request method/path/query/body are valid only during the call. Handlers run on the server's
 * thread: they must be thread-safe with the actor's own threads and should not block for long. */
#ifndef OB_BASE_RT_HTTP_H
#define OB_BASE_RT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "base/rt_buf.h"

/* Returns the HTTP status. query is "" when absent; body is NULL when blen is 0. */
typedef int (*rt_http_fn)(void *arg, const char *method, const char *path, const char *query, const uint8_t *body,
                          size_t blen, rt_buf *out, const char **ctype);

#define RT_HTTP_BODY_MAX_DEFAULT        (1024 * 1024)
#define RT_HTTP_MAX_CONNECTIONS_DEFAULT 64
#define RT_HTTP_MAX_PER_IP_DEFAULT      16
#define RT_HTTP_TIMEOUT_S_DEFAULT       10

typedef struct {
	unsigned max_connections; /* in all */
	unsigned max_per_ip;      /* from one client address */
	unsigned timeout_s;       /* idle (or trickling) connection closed after this */
} rt_http_limits;
/* Before rt_http_start. */
void rt_http_set_limits(const rt_http_limits *l);

/* url like "http://127.0.0.1:9100" (port 0 picks a free port, see rt_http_port). 0 or -1.
 * rt_http_start: the main listener, every route (/health, /metrics, the actor's own).
 * rt_http_start_metrics: a second listener serving GET /metrics only (404 for anything else), so
 * a scrape port never exposes intake or admin routes. rt_http_stop stops both. */
int rt_http_start(const char *url);
int rt_http_start_metrics(const char *url);
void rt_http_stop(void);
int rt_http_port(void);         /* the main listener's bound port while running, else 0 */
int rt_http_metrics_port(void); /* the metrics-only listener's, else 0 */
/* Adds a route, before or after start. method NULL = GET. prefix != 0 matches path and
 * everything below it ("/messages" serves "/messages/<id>"). Up to 32 routes. 0 or -1. */
int rt_http_route(const char *method, const char *path, int prefix, rt_http_fn fn, void *arg);
/* Request body limit for routes added afterwards. A larger Content-Length is answered 413 before
 * the body is read or the handler runs; a chunked body is cut off with 413 once past the limit. */
void rt_http_set_body_max(size_t max);
/* Changes the body limit of every route on path (e.g. once the configuration is read, for routes added
 * before rt_init so that they exist the moment the server listens). 0, or -1 when there is none. */
int rt_http_set_route_body_max(const char *path, size_t max);
/* A header of the request being handled (Content-Type, ...), from inside a handler only: NULL when
 * absent or called outside one. The string is valid until the handler returns. */
const char *rt_http_req_header(const char *name);

/* From inside a handler only (else ignored / -1): rt_http_res_header adds a response header (up to 4,
 * name and value under 128 bytes, no CR/LF: e.g. Retry-After); rt_http_hold holds the answer back
 * for ms milliseconds (at most an hour) without blocking the server: the connection is suspended and
 * resumed by a timer thread, and a client that left by then just misses it (a test double's "slow
 * upstream"). rt_http_stop sends every held answer at once. */
int rt_http_res_header(const char *name, const char *value);
void rt_http_hold(uint64_t ms);

/* Health reasons: degraded != 0 sets or replaces key's reason, 0 clears it. Thread-safe. */
void rt_health_set(const char *key, int degraded, const char *text);
/* Renders the health JSON into out; returns the HTTP status (200 or 503). */
int rt_health_json(rt_buf *out);
int rt_health_degraded(void); /* number of reasons set */

#endif
