/* engine.h - the alerter's durable core: state per alert key and one LMDB outbox per sink.
 *
 * Tables in the alerter's environment (STATE_DIR):
 *   "state"          kind \0 dedupe_key -> state record: firing|resolved, firing since, last seen,
 *                    count, and per sink (by name) the grouping slot, last re-send and the id of
 *                    the last queued entry; then the latest alert (msgpack, schemas/SC_ALERT)
 *   "seen", "seen.t" bus message ids already ingested (store/dedupe.h), pruned after a day
 *   "ob.<sink>", "ob.<sink>.due"   the sink's outbox (store/outbox.h): one entry per (sink, event),
 *                    the body as the sink wants it, minus secrets and signatures
 *
 * Rules that make delivery once per event and in order:
 *   - an alert's state change and its outbox entries commit in one transaction, with its bus id
 *     recorded, so a re-delivered frame has no second effect and a crash loses nothing;
 *   - entry ids derive from (sink, bus id) (re-sends: from (sink, key, time)), so queueing the
 *     same event twice is a no-op;
 *   - at most one entry per (sink, key) is pending: a newer event for the key supersedes an
 *     undelivered older one (it carries the newer count), so a resolve never overtakes its trigger;
 *   - an entry leaves the outbox on 2xx (delivered) or a permanent refusal (dropped, counted); a
 *     crash between the sink's 2xx and that commit re-sends it once, which the sinks' own keys
 *     absorb (PagerDuty dedup_key, Alertmanager's label set, the webhook's X-Oraclebus-Event-Id).
 *
 * Threads: al_ingest/al_tick from the bus thread; al_due/al_done from each sink's thread; LMDB
 * serializes the writes. Memory: al_open borrows sinks and env (they must outlive the engine);
 * al_item bodies are malloc'd copies the caller frees with al_items_free. */
#ifndef OB_ACTORS_ALERTER_ENGINE_H
#define OB_ACTORS_ALERTER_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "actors/alerter/sinks.h"
#include "base/rt_metrics.h"
#include "store/outbox.h"
#include "store/store.h"

typedef struct {
	uint64_t group_ns;     /* GROUP_INTERVAL */
	uint64_t resend_ns;    /* RESEND_INTERVAL (Alertmanager) */
	uint64_t retention_ns; /* resolved states kept this long (ordering, history) */
	ob_backoff backoff;    /* retries */
	const char *instance;  /* our origin: never deliver our own sink_failing to that sink */
} al_cfg;

typedef struct al_engine al_engine;

typedef struct {
	uint8_t id[OB_ID_LEN];
	char key[200]; /* "kind:dedupe_key" for logs */
	uint8_t *body; /* malloc'd */
	size_t len;
	uint64_t created_ns;
	uint32_t attempts;
} al_item;

int al_open(al_engine **out, st_env *env, sk_sink *sinks, size_t nsinks, const al_cfg *cfg, st_err *err);
void al_close(al_engine *e);

/* One alert from the bus (id: its 16-byte frame id). *queued gets bit i for each sink with a new
 * entry. 0 or an error code (store.h convention). */
int al_ingest(al_engine *e, const uint8_t id[16], const sc_alert *a, uint64_t now_ns, unsigned *queued, st_err *err);
/* The same for n alerts in ONE write transaction (one fsync): what the bus thread has queued when it
 * wakes. All or nothing: on an error none of them is stored. */
int al_ingest_batch(al_engine *e, size_t n, const uint8_t ids[][16], const sc_alert *a, uint64_t now_ns,
                    unsigned *queued, st_err *err);
/* Periodic work: Alertmanager re-sends of firing alerts, pruning of old resolved states and seen
 * ids. *queued as above. */
int al_tick(al_engine *e, uint64_t now_ns, unsigned *queued, st_err *err);

/* Up to max due entries of sink i, copied. Returns the count or -1. */
long al_due(al_engine *e, size_t i, uint64_t now_ns, al_item *items, size_t max, st_err *err);
void al_items_free(al_item *items, size_t n);
/* The outcome of one attempt: SK_OK or SK_PERMANENT remove the entry, SK_RETRY schedules the
 * next attempt (backoff) with why as last_error. *backoff_ns (may be NULL) = that delay. */
int al_done(al_engine *e, size_t i, const uint8_t id[OB_ID_LEN], sk_verdict v, const char *why, uint64_t now_ns,
            uint64_t *backoff_ns, st_err *err);
/* Pending entries of sink i and the earliest due time (UINT64_MAX when empty). */
int al_pending(al_engine *e, size_t i, uint64_t *n, uint64_t *next_due_ns, st_err *err);
/* 1 if the state of (kind, dedupe_key) is firing, 0 if not, or an error code < 0. */
int al_is_firing(al_engine *e, const char *kind, const char *dedupe_key);
/* Firing keys per kind: calls fn(arg, kind, count) for each kind with a state (count may be 0). */
int al_firing_by_kind(al_engine *e, void (*fn)(void *arg, const char *kind, uint64_t n), void *arg);

/* Metrics the engine counts (rt_metrics): suppressed per sink, superseded per sink. */

#endif
