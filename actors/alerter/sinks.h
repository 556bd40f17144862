/* sinks.h - the four alert sinks as one ops table: how an alert event becomes the body a sink
 * expects, how the stored body becomes the bytes on the wire (secrets and signatures are added
 * only then, so they never reach the LMDB outbox), and how a sink's answer is classified.
 *
 *   kind          body                                      success        retried
 *   alertmanager  POST /api/v2/alerts  [{labels,annotations,...}]  2xx      429, 408, 5xx, network
 *   slack         {"text": "..."}                            200 "ok"       429, 5xx, network, 200 not "ok"
 *   pagerduty     Events v2 trigger/resolve with dedup_key   2xx (202)      429, 5xx, network
 *   webhook       our JSON, HMAC-SHA256 signed               2xx            429, 408, 5xx, network
 * Anything else (400 and the other 4xx, 3xx) is permanent: the event is dropped and counted.
 *
 * Pure code: no I/O, no clock (times come in the event), so every format is unit-tested to the byte.
 * Memory: an sk_sink owns its url and secret (sk_sink_free wipes and frees them); formatting
 * appends to the caller's rt_buf; sk_event borrows everything it points to. */
#ifndef OB_ACTORS_ALERTER_SINKS_H
#define OB_ACTORS_ALERTER_SINKS_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rt_buf.h"
#include "schemas/messages.h"

typedef enum {
	SK_ALERTMANAGER,
	SK_SLACK,
	SK_PAGERDUTY,
	SK_WEBHOOK,
	SK_NKINDS
} sk_kind;

typedef enum {
	SK_OK,
	SK_RETRY,
	SK_PERMANENT
} sk_verdict;
typedef struct {
	sk_verdict verdict;
	const char *cls; /* metric label: ok, network, throttled, server, rejected, redirect, bad_response */
} sk_result;

enum {
	SK_EQ,
	SK_NE,
	SK_RE,
	SK_NRE
};
typedef struct {
	char label[SC_KV_KEY_CAP + 1]; /* alert label, or kind / severity / origin / dedupe_key */
	int op;                        /* SK_EQ ... */
	char value[SC_KV_VALUE_CAP + 1];
	regex_t re; /* SK_RE/SK_NRE: anchored ^(value)$ */
} sk_matcher;

#define SK_NAME_MAX     31
#define SK_MAX_MATCHERS 8
#define SK_MAX_SINKS    8

typedef struct sk_sink {
	char name[SK_NAME_MAX + 1]; /* [a-z0-9_-]; names the outbox and metrics */
	sk_kind kind;
	const struct sk_ops *ops;
	char *url;    /* owned */
	char *secret; /* owned, wiped on free: routing key or HMAC secret */
	size_t secret_len;
	int min_severity; /* SC_SEV_* */
	sk_matcher m[SK_MAX_MATCHERS];
	size_t nm;
	char generator_url[256]; /* Alertmanager generatorURL; "" = omitted */
	int send_resolved;       /* deliver resolves (default: ops->resolves) */
	uint64_t rate_per_min;   /* 0 = the global SINK_RATE_LIMIT */
} sk_sink;

/* One event for one sink: a firing (first, repeat after the group interval, or a periodic
 * Alertmanager re-send) or a resolve of the alert a. */
typedef struct {
	const sc_alert *a;        /* the latest alert of the key (its status is the event's) */
	uint64_t firing_since_ns; /* start of the episode */
	uint64_t now_ns;          /* when the event was made (endsAt of a resolve) */
	uint64_t count;           /* occurrences in the episode */
	uint64_t suppressed;      /* repeats grouped into this message */
	const char *event_id;     /* hex id of the outbox entry (webhook idempotency) */
	const char *instance;     /* the alerter's instance */
} sk_event;

#define SK_MAX_HEADERS 4
typedef struct {
	char h[SK_MAX_HEADERS][192]; /* "Name: value" */
	size_t n;
} sk_headers;

typedef struct sk_ops {
	const char *name;     /* config "type" */
	int resends;          /* re-send firing alerts periodically (Alertmanager expires them otherwise) */
	int resolves;         /* default of send_resolved: Slack, as in Alertmanager, says nothing */
	int always_resolves;  /* resolves cannot be turned off (Alertmanager needs them to clear alerts) */
	const char *secret;   /* what its secret is ("the routing key", "the HMAC key"); NULL = none needed */
	size_t secret_max;    /* longest secret accepted (0 = any) */
	int min_severity;     /* default min_severity (a pager takes errors and above) */
	const char *url_path; /* appended to a base URL that does not end with it (Alertmanager's API) */
	/* The body stored in the outbox. 0, or -1 on allocation failure. */
	int (*format)(const sk_sink *s, const sk_event *ev, rt_buf *out);
	/* The bytes sent and the extra headers, from the stored body, at send time. 0 or -1. */
	int (*finalize)(const sk_sink *s, const uint8_t *body, size_t len, uint64_t now_s, const char *event_id,
	                rt_buf *out, sk_headers *hd);
	/* status 0 = no HTTP answer (connect/timeout error). */
	sk_result (*classify)(long status, const char *body, size_t len);
} sk_ops;

extern const sk_ops sk_ops_table[SK_NKINDS];

const sk_ops *sk_ops_by_name(const char *name); /* NULL if unknown */
void sk_sink_free(sk_sink *s);                  /* wipes the secret, frees url/secret/regexes */

/* "critical" .. "info" <-> SC_SEV_*; -1 if unknown. */
int sk_severity_parse(const char *s);
const char *sk_severity_name(int sev);

/* The key used where a sink deduplicates (PagerDuty dedup_key, <= 255 bytes): the alert's
 * dedupe_key when it already starts with "<kind>:", else "<kind>:<dedupe_key>". */
void sk_dedup_key(const sc_alert *a, char *out, size_t cap);

/* RFC 3339 UTC with milliseconds: 2024-11-27T17:00:00.123Z (out >= 32 bytes). */
void sk_rfc3339(uint64_t ns, char *out, size_t cap);

#endif
