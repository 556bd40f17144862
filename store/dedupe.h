/*
 * dedupe.h - the consumer side of reliable delivery (see outbox.h): remember which message ids
 * were processed, so a re-published message has its effect exactly once.
 *
 *   st_begin(env, 0, &txn, &e);
 *   dd_seen(txn, dd, msg_id, now, &seen, &e);
 *   if (!seen)
 *       apply(txn, msg);            // the effect, in the SAME txn as the id is recorded
 *   st_commit(txn, &e);
 *   publish_ack(msg_id);            // ack even when seen: the producer may have missed our ack
 *
 * Recording the id and applying the effect in one transaction is what makes it exactly-once:
 * a crash before the commit loses both, and the producer re-sends.
 *
 * Tables: "<name>" id -> be64 seen_ns, and "<name>.t" (be64 seen_ns, id) -> empty, so that
 * dd_prune costs O(pruned). Prune only ids older than the producer's longest retry horizon.
 * Return convention as store.h. dd_open allocates the dd_set (free with dd_close).
 */
#ifndef OB_STORE_DEDUPE_H
#define OB_STORE_DEDUPE_H

#include "store/store.h"

#define DD_ID_LEN 16

typedef struct dd_set dd_set;

OB_MUST_CHECK int dd_open(MDB_txn *txn, const char *name, dd_set **out, st_err *err);
void dd_close(dd_set *dd);
/* *seen = 1 if id was already recorded; else records it at now_ns and sets *seen = 0. */
OB_MUST_CHECK int dd_seen(MDB_txn *txn, dd_set *dd, const uint8_t id[DD_ID_LEN], uint64_t now_ns, int *seen,
                          st_err *err);
/* Forgets ids recorded before older_than_ns; *removed (may be NULL) counts them. */
OB_MUST_CHECK int dd_prune(MDB_txn *txn, dd_set *dd, uint64_t older_than_ns, uint64_t *removed, st_err *err);
int dd_count(MDB_txn *txn, dd_set *dd, uint64_t *n, st_err *err);

#endif
