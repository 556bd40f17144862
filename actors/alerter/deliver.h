/* deliver.h - one delivery thread per sink: takes due entries from the sink's outbox, adds the
 * secrets/signature (sk_ops.finalize), POSTs them with libcurl (keep-alive, timeouts, no
 * redirects), classifies the answer (sk_ops.classify) and records the outcome (al_done).
 *
 * One thread per sink so a sink that times out never delays another, nor the bus loop (an NNG
 * subscriber that stops reading loses messages). After a retryable failure the whole sink
 * pauses for that entry's backoff instead of trying every queued entry against a dead server.
 * N consecutive failures make the sink "failing": a health reason and a flag the bus thread turns
 * into alert.error.sink_failing; the next success clears both.
 *
 * The HTTP call is a function pointer so unit tests drive dl_step with a fake server.
 * Memory: dl_sink is owned by the caller; it borrows the engine and the sink. */
#ifndef OB_ACTORS_ALERTER_DELIVER_H
#define OB_ACTORS_ALERTER_DELIVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "actors/alerter/engine.h"
#include "actors/alerter/group.h"
#include "actors/alerter/sinks.h"

/* Returns the HTTP status, or 0 when there was no answer (why filled). resp gets the body. */
typedef long (*dl_post_fn)(void *ctx, const char *url, const sk_headers *hd, const uint8_t *body, size_t len,
                           rt_buf *resp, char *why, size_t whylen);

typedef struct dl_sink {
	al_engine *e;
	size_t i;
	sk_sink *s;
	dl_post_fn post; /* NULL = libcurl */
	void *ctx;
	uint64_t rate_per_min, max_age_ns, timeout_ms;
	unsigned fail_after;

	/* the thread's own state */
	gp_bucket bucket;
	uint64_t pause_until_ns;
	unsigned consecutive;
	atomic_int failing;   /* read by the bus thread */
	char last_error[160]; /* under mu */
	void *curl;
	rt_metric *m_delivered, *m_latency;

	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int kick, stop, started;
} dl_sink;

/* Fills the fields the caller did not: metrics, locks. 0 or -1. */
int dl_init(dl_sink *d);
/* One pass over the due entries at now. *next_ns = when there may be work again. Returns the
 * number of entries delivered (2xx). */
int dl_step(dl_sink *d, uint64_t now_ns, uint64_t *next_ns);
int dl_start(dl_sink *d);
void dl_kick(dl_sink *d); /* new entries queued: wake up now */
void dl_stop(dl_sink *d); /* ends the thread after its current request */
void dl_fini(dl_sink *d);
/* The last failure text (for the sink_failing alert). */
void dl_last_error(dl_sink *d, char *out, size_t cap);

#endif
