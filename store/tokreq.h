/*
 * tokreq.h - the durable side every token backend shares (actors/token-firefly, actors/token-erc20):
 * the token.requests it took, their state, the token.results they owe the tokenizer, and the outboxes
 * that carry those results (and the backend's own downstream requests) until they are acknowledged.
 *
 * A backend runs each batch of work inside ONE write transaction (tq_begin .. tq_commit): it looks a
 * request up by key id (tq_take: new, known, or a conflict), moves its record (tq_put), and queues
 * frames (tq_emit for the token.result of the record's state, tq_send for anything else). Nothing
 * leaves before the commit (fsync); then the queued frames go to the publish callback. So a kill -9
 * either loses the whole batch (nothing was answered: the tokenizer re-publishes its token.request)
 * or keeps it (terminal results and downstream requests sit in outboxes and are re-published).
 *
 * Results: `pending` is published directly (the tokenizer re-publishes its request until it sees one,
 * and a re-published request is answered with the stored state). A terminal result (confirmed, failed,
 * rejected) is also written to the "results" outbox and re-published (backoff) until a token.status
 * from the tokenizer shows that terminal state for the key (tq_status_ack), or at most
 * result_attempts times: the tokenizer publishes token.status only on a change, so a result that
 * arrived while our copy of its token.status was lost is never acknowledged again.
 *
 * Tables: "requests" (key id (16) -> tq_rec, this process's own fixed layout with a version byte),
 * "open" (state (1) || key id -> be64 next_ns: the records not terminal, by state, so a backend lists
 * the ones to work on without scanning everything), "results"/"results.due" (outbox of terminal
 * token.results), "calls"/"calls.due" (outbox of the backend's downstream requests, e.g. tx.request).
 *
 * Return convention: as store.h, one error space (base/err.h): 0, OB_ENOTFOUND (== MDB_NOTFOUND) where
 * documented, or a code with text in err: LMDB's and errno codes as the store returned them (ENOMEM
 * when a frame cannot be queued), OB_ESCHEMA for a stored record of another layout, OB_EENCODE for a
 * request or result that does not encode. Outcomes (new, known, conflict) travel in their own out
 * parameter, never in the code. The counts of tq_list and tq_resend are >= 0, or -1 with err, as
 * store/outbox.h's ob_send_due. Every write is OB_MUST_CHECK: a dropped result is a compile error.
 * Ownership: tq_open returns a tq the caller frees with tq_close. Records are plain structs the caller
 * owns. Threads: one thread uses a tq.
 */
#ifndef OB_STORE_TOKREQ_H
#define OB_STORE_TOKREQ_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "schemas/messages.h"

#define TQ_REC_VERSION 1

/* Record states. QUEUED, SUBMITTED, MINED are open (the tokenizer sees "pending"); the rest terminal. */
enum {
	TQ_QUEUED = 1,
	TQ_SUBMITTED,
	TQ_MINED,
	TQ_CONFIRMED,
	TQ_FAILED,
	TQ_REJECTED,
	TQ_NSTATES
};

typedef struct {
	uint8_t version; /* TQ_REC_VERSION */
	uint8_t state;   /* TQ_* */
	uint8_t reserved[6];
	uint8_t id[16];       /* key id = SHA-256("oraclebus/payment-key\0" || key)[:16] */
	uint8_t req_hash[32]; /* SHA-256 of the request's encoding (received_at_ns zeroed) */
	sc_token_request req; /* as first received */
	uint8_t tx_hash[32];  /* chain transaction, once known */
	uint64_t block_number;
	uint64_t created_ns, updated_ns;
	uint64_t next_ns;       /* when the backend should look at it again (open states) */
	uint64_t deadline_ns;   /* backend-defined (poll deadline, stall alert) */
	uint64_t first_fail_ns; /* first failure of the current run of failures, 0 if none */
	uint32_t attempts;      /* backend-defined: sends, polls */
	uint32_t failures;      /* consecutive recoverable failures */
	char ff_request_id[64], ff_tx_id[64];
	char reason[8];  /* ISO 20022 reason of a failed/rejected state */
	char error[256]; /* terminal: why; open: the last recoverable problem ("" if none) */
} tq_rec;

typedef struct {
	const char *backend;      /* "firefly", "erc20": token.result.backend */
	uint64_t map_size;        /* initial LMDB map; 0 = 64 MiB */
	uint64_t retry_ns;        /* first re-publish of an outbox entry; 0 = 2 s */
	uint64_t retry_max_ns;    /* 0 = 60 s */
	uint32_t result_attempts; /* terminal results re-published at most this often; 0 = 10 */
} tq_cfg;

typedef struct tq tq;

/* One frame to publish after a commit. id NULL = a fresh frame id. */
typedef void (*tq_pub_fn)(void *arg, const char *topic, const char *type, const uint8_t *id, const uint8_t *body,
                          size_t len);

tq *tq_open(const char *dir, const tq_cfg *cfg, char *err, size_t errlen);
void tq_close(tq *q);

/* The key id of an idempotency key (the tokenizer's rule: equal to its token.request frame id). */
void tq_key_id(const char *key, uint8_t id[16]);
/* 1 for CONFIRMED, FAILED, REJECTED. */
int tq_terminal(int state);
const char *tq_state_name(int state);

/* ---- one write transaction ------------------------------------------------------------------ */
OB_MUST_CHECK int tq_begin(tq *q, char *err, size_t errlen);
/* Commits; on success publishes every frame queued since tq_begin through pub. On failure nothing
 * is published and nothing of the batch is stored. */
OB_MUST_CHECK int tq_commit(tq *q, tq_pub_fn pub, void *arg, char *err, size_t errlen);
void tq_abort(tq *q);

/* Inside a transaction. */
enum {
	TQ_T_NEW = 1,
	TQ_T_KNOWN,
	TQ_T_CONFLICT
};
/* Looks the request up into *seen: TQ_T_NEW fills *rec for it (state 0: the caller sets it and
 * tq_put's it), TQ_T_KNOWN / TQ_T_CONFLICT (same key, other content) fill *rec with the stored record.
 * Returns 0 or a code (err). */
OB_MUST_CHECK int tq_take(tq *q, const sc_token_request *req, uint64_t now_ns, tq_rec *rec, int *seen, char *err,
                          size_t errlen);
/* 0, OB_ENOTFOUND, or a code. Usable inside a transaction or outside (then a read transaction). */
int tq_get(tq *q, const uint8_t id[16], tq_rec *rec, char *err, size_t errlen);
/* Stores rec (updated_ns is the caller's) and keeps "open" in step with its state. */
OB_MUST_CHECK int tq_put(tq *q, const tq_rec *rec, char *err, size_t errlen);
/* Queues the token.result of rec's current state (topic token.result); a terminal one also enters
 * the results outbox. error_text NULL = rec->error. */
OB_MUST_CHECK int tq_emit(tq *q, const tq_rec *rec, uint64_t now_ns, char *err, size_t errlen);
/* Queues a downstream frame. outbox: 1 = also into the "calls" outbox under id (re-published until
 * tq_call_ack), 0 = published once. */
OB_MUST_CHECK int tq_send(tq *q, const char *topic, const char *type, const uint8_t id[16], const uint8_t *body,
                          size_t len, int outbox, uint64_t now_ns, char *err, size_t errlen);
/* Removes a "calls" outbox entry (idempotent). *removed may be NULL. */
OB_MUST_CHECK int tq_call_ack(tq *q, const uint8_t id[16], int *removed, char *err, size_t errlen);
/* A token.status from the tokenizer: when it shows a terminal state for a key whose terminal result
 * we hold in the results outbox, that entry is removed. *acked (may be NULL) says so. */
OB_MUST_CHECK int tq_status_ack(tq *q, const sc_token_result *st, int *acked, char *err, size_t errlen);

/* ---- outside a transaction ------------------------------------------------------------------- */
/* Key ids of open records in state, whose next_ns <= now_ns (now_ns UINT64_MAX = all), oldest id
 * order; at most max. Count, or -1. */
long tq_list(tq *q, int state, uint64_t now_ns, uint8_t (*ids)[16], size_t max, char *err, size_t errlen);
/* Re-publishes outbox entries (results and calls) with store/outbox's ob_send_due: all (at start)
 * or the due ones. Results re-published result_attempts times are dropped (counted in *gave_up, may
 * be NULL). The count re-published, or -1. */
OB_MUST_CHECK long tq_resend(tq *q, uint64_t now_ns, int all, tq_pub_fn pub, void *arg, uint64_t *gave_up, char *err,
                             size_t errlen);

/* The re-publish job of a backend's loop (a bus/actor.h act_run tick with ctx = a tq_resender):
 * the first call re-publishes everything a previous run may not have published (and logs how many),
 * later ones what is due, adding the counts to the counters (NULL = none). A failure is handled as
 * every store failure: logged once per change, counted in store_errors, and /health "outbox" set
 * until a round succeeds again. */
typedef struct {
	tq *q;
	tq_pub_fn pub;
	void *arg;
	struct rt_metric *republished, *gave_up, *store_errors;
	int started, failing;
} tq_resender;
void tq_resend_tick(void *resender);

typedef struct {
	uint64_t open[TQ_NSTATES]; /* open records per state */
	uint64_t oldest_open_ns;   /* created_ns of the oldest open record, 0 if none */
	uint64_t results_pending;  /* terminal results not yet acknowledged */
	uint64_t calls_pending;    /* downstream requests not yet acknowledged */
} tq_stats;
int tq_get_stats(tq *q, tq_stats *s, char *err, size_t errlen); /* 0 or a code */

/* The token.result of a record (as tq_emit publishes it). */
void tq_result_of(const tq *q, const tq_rec *rec, uint64_t now_ns, sc_token_result *out);

#endif
