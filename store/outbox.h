/*
 * outbox.h - the producer side of reliable delivery over a best-effort bus (DESIGN.md).
 *
 * NNG pub/sub may drop a message. For flows that must not lose one (signed transactions, token
 * requests, alerts) the producer writes the message into its outbox IN THE SAME WRITE
 * TRANSACTION as the state change that caused it, so either both exist or neither does; then it
 * publishes, and re-publishes each entry whenever it is due (exponential backoff with jitter)
 * until it sees the consumer's ack (a bus message carrying the id), which deletes the entry.
 * The consumer deduplicates by id (dedupe.h): at-least-once delivery, exactly-once effect.
 *
 *   // signer: allocate a nonce, sign, and queue the signed tx, in one commit
 *   st_begin(env, 0, &txn, &e);
 *   nonce_next(txn, ...);                          // state change
 *   ob_put(txn, ob, id, "tx.signed", "tx_signed", body, len, now, &e);
 *   st_commit(txn, &e);                            // durable: nonce + message together
 *   bus_publish("tx.signed", body, len);           // may be lost: that is fine
 *
 *   // every tick (and at start, which re-sends whatever a crash left behind):
 *   n = ob_send_due(env, ob, now, now, publish_fn, ctx, &pending, &e);  // the loop below, once
 *   // which is: st_begin; ob_due; for each: ob_get, publish (borrowed memory: before the commit),
 *   //           ob_mark_sent; st_commit; again while a batch came back full.
 *
 *   // on "tx.ack" carrying id:
 *   st_begin(env, 0, &txn, &e); ob_ack(txn, ob, id, NULL, &e); st_commit(txn, &e);
 *
 * Tables (named after the outbox): "<name>" id -> entry, "<name>.due" (be64 next_due_ns, id) ->
 * empty, so finding due entries costs O(due), not O(all). Entries are a small fixed binary
 * layout with a version byte (internal to this module, never on the wire).
 *
 * Return convention as store.h: 0 ok, MDB_NOTFOUND, or an error code with text in *err.
 * Ownership: ob_open allocates the ob_box (the caller frees it with ob_close); ob_get fills an
 * ob_msg whose pointers borrow LMDB memory, valid until the txn ends or writes that entry.
 */
#ifndef OB_STORE_OUTBOX_H
#define OB_STORE_OUTBOX_H

#include "store/store.h"

#define OB_ID_LEN    16
#define OB_TOPIC_MAX 255
#define OB_TYPE_MAX  255
#define OB_ERROR_MAX 200 /* last_error is truncated to this */

typedef struct ob_box ob_box;

typedef struct {
	uint64_t initial_ns; /* delay after the first send; 0 = 1 s */
	double factor;       /* growth per attempt; 0 = 2.0 */
	uint64_t max_ns;     /* cap; 0 = 5 min */
	double jitter;       /* +- fraction of the delay, 0..1 (0 = none), deterministic per (id, attempt) */
} ob_backoff;

typedef struct {
	uint8_t id[OB_ID_LEN];
	const char *topic;
	size_t topic_len; /* borrowed, not NUL-terminated */
	const char *type;
	size_t type_len; /* borrowed, not NUL-terminated */
	const uint8_t *body;
	size_t body_len; /* borrowed */
	const char *last_error;
	size_t error_len; /* borrowed, empty if none */
	uint64_t created_ns, next_due_ns;
	uint32_t attempts;
} ob_msg;

/* Opens (creates) the outbox's tables in txn (a write txn at start, or a read txn for tools
 * reading a read-only env). backoff may be NULL for defaults. *out is owned by the caller. */
OB_MUST_CHECK int ob_open(MDB_txn *txn, const char *name, const ob_backoff *backoff, ob_box **out, st_err *err);
void ob_close(ob_box *ob);

/* Queues a message, due at once. MDB_KEYEXIST if the id is already queued. Copies everything. */
OB_MUST_CHECK int ob_put(MDB_txn *txn, ob_box *ob, const uint8_t id[OB_ID_LEN], const char *topic, const char *type,
                         const void *body, size_t len, uint64_t now_ns, st_err *err);
/* ob_put followed by ob_mark_sent(now_ns), in one write: for a producer that publishes the message
 * right after its commit (attempts 1, due again at now + backoff(1)). */
OB_MUST_CHECK int ob_put_sent(MDB_txn *txn, ob_box *ob, const uint8_t id[OB_ID_LEN], const char *topic,
                              const char *type, const void *body, size_t len, uint64_t now_ns, st_err *err);
/* Reads one entry (borrowed views). MDB_NOTFOUND if not queued (acked meanwhile). */
int ob_get(MDB_txn *txn, ob_box *ob, const uint8_t id[OB_ID_LEN], ob_msg *m, st_err *err);
/* Copies into ids[] up to max ids due at now_ns (next_due <= now), earliest first. Returns the
 * count (>= 0) or, on failure, a negative value with text in *err. */
long ob_due(MDB_txn *txn, ob_box *ob, uint64_t now_ns, uint8_t (*ids)[OB_ID_LEN], size_t max, st_err *err);
/* Earliest next_due_ns of all entries; MDB_NOTFOUND when the outbox is empty. */
int ob_next_due(MDB_txn *txn, ob_box *ob, uint64_t *due_ns, st_err *err);
/* After a (re)publish: attempts++, next_due = now + backoff(attempts), last_error recorded
 * (NULL = keep the previous one). MDB_NOTFOUND if the id is not queued. */
OB_MUST_CHECK int ob_mark_sent(MDB_txn *txn, ob_box *ob, const uint8_t id[OB_ID_LEN], uint64_t now_ns,
                               const char *last_error, st_err *err);
/* The consumer's ack: deletes the entry. Acks are idempotent, so an unknown id is not an error;
 * *removed (may be NULL) says whether an entry was deleted. */
OB_MUST_CHECK int ob_ack(MDB_txn *txn, ob_box *ob, const uint8_t id[OB_ID_LEN], int *removed, st_err *err);
int ob_count(MDB_txn *txn, ob_box *ob, uint64_t *n, st_err *err);
/* Publishes one entry (m borrows LMDB memory: copy what must outlive the call). Returns NULL when
 * it went out, else a short reason recorded as the entry's last_error (it stays due), or OB_DROP:
 * the caller gives the entry up (its own rule, e.g. a bound on attempts) and it is deleted as an
 * ack would delete it. */
typedef const char *ob_send_fn(void *ctx, const ob_msg *m);
extern const char ob_drop[];
#define OB_DROP ob_drop

/* The "publish what is due" loop every producer needs, written once: in write transactions of up to
 * 64 entries, every entry due at `due_before` (UINT64_MAX = all, e.g. after a restart) is handed to
 * send and rescheduled from now_ns (ob_mark_sent) or, when send says OB_DROP, deleted; then committed; *pending (may be NULL) is the
 * outbox's size afterwards. Returns the entries handed to send, or -1 with err filled (what was committed
 * before stays sent). */
long ob_send_due(st_env *env, ob_box *ob, uint64_t now_ns, uint64_t due_before, ob_send_fn *send, void *ctx,
                 uint64_t *pending, st_err *err);

/* The delay the outbox would schedule after `attempts` sends of id (exposed for tests/metrics). */
uint64_t ob_backoff_ns(const ob_box *ob, const uint8_t id[OB_ID_LEN], uint32_t attempts);

#endif
