/*
 * journal.h - busd's frame journal: every bus frame busd forwards, in receive order, for
 * debugging and replay (bus-replay).
 *
 * Table "<name>": key = be64 journal index (1, 2, 3, ... monotonic; after a restart it continues
 * after the last key), value = be64 receive time (ns) + the raw frame (topic, NUL, msgpack
 * envelope: the journal never decodes it). Table "<name>.meta": "bytes" = be64 total value bytes,
 * updated in the same txn as the appends and deletes, so retention never needs a full scan.
 *
 * Writer (busd, the only writer of the env; the env should hold nothing but the journal):
 *   jn_append adds a frame to an open write txn (begun on the first append); jn_flush commits the
 *   batch (busd calls it every N frames or M ms). Open the env with ST_NOSYNC and call st_sync
 *   every second or so: a busd crash loses nothing committed (the data is in the OS page cache),
 *   only an OS crash or power loss can lose the last second, which a debugging journal can
 *   afford, and skipping an fsync per batch is what lets it keep up with the bus.
 *   Receive times are clamped to never go below the previous frame's, so index order is time
 *   order even if the wall clock steps back (time seeks depend on it).
 *   If the map fills, the batch in flight is dropped (counted in jn_stats.dropped), the map is
 *   grown and appending continues; the map is also grown ahead of time after a flush.
 *
 * Readers (bus-replay, possibly while busd writes, on a read-only env): open a read txn, iterate
 * by index [from, to] or by time [t0, t1), optionally only frames whose topic starts with a prefix.
 * A jn_rec's frame points into LMDB's map: borrowed, valid until the next jn_next on that
 * iterator or the end of the read txn, whichever comes first.
 *
 * Return convention as store.h (0, MDB_NOTFOUND at the end of an iteration, or an error code
 * with text in *err). Ownership: jn_open allocates the jn (jn_close frees it).
 */
#ifndef OB_STORE_JOURNAL_H
#define OB_STORE_JOURNAL_H

#include "store/store.h"

typedef struct jn jn;

typedef struct {
	uint64_t index, ts_ns;
	const uint8_t *frame; /* borrowed, see above */
	size_t len;
} jn_rec;

typedef struct {
	uint64_t first_index, last_index; /* 0, 0 when empty */
	uint64_t first_ns, last_ns;
	uint64_t count, bytes; /* committed entries and value bytes */
	uint64_t dropped;      /* frames lost to a full map, by this jn since open */
} jn_stats_t;

/* Opens (creates, unless the env is read-only) the journal's tables and finds the next index. */
int jn_open(st_env *env, const char *name, jn **out, st_err *err);
/* Flushes a pending batch (its result is returned) and frees the jn. NULL is fine. */
OB_MUST_CHECK int jn_close(jn *j, st_err *err);

/* Appends one frame to the current batch; *index (may be NULL) gets its journal index. */
OB_MUST_CHECK int jn_append(jn *j, uint64_t ts_ns, const void *frame, size_t len, uint64_t *index, st_err *err);
/* Commits the batch (no-op if none). */
OB_MUST_CHECK int jn_flush(jn *j, st_err *err);
/* Frames appended but not yet flushed. */
size_t jn_pending(const jn *j);
/* Flushes, then deletes the oldest entries until total bytes <= max_bytes and every entry is
 * younger than max_age_ns at now_ns (0 = no limit for either). *removed may be NULL. */
OB_MUST_CHECK int jn_retain(jn *j, uint64_t max_bytes, uint64_t max_age_ns, uint64_t now_ns, uint64_t *removed,
                            st_err *err);
/* Statistics as seen by txn (a read txn; NULL = a fresh one). */
int jn_stats(jn *j, MDB_txn *txn, jn_stats_t *s, st_err *err);

/* Iteration in a caller's read txn. to is inclusive (UINT64_MAX = to the end), t1 exclusive;
 * prefix NULL or "" = every topic (the prefix is copied, at most 255 bytes). Close the iterator
 * before the txn ends. */
typedef struct {
	MDB_txn *txn;
	MDB_cursor *cur;
	uint64_t start, to, t1;
	char prefix[256];
	size_t plen;
	int started;
} jn_iter;
int jn_iter_index(jn_iter *it, jn *j, MDB_txn *txn, uint64_t from, uint64_t to, const char *prefix, st_err *err);
int jn_iter_time(jn_iter *it, jn *j, MDB_txn *txn, uint64_t t0, uint64_t t1, const char *prefix, st_err *err);
int jn_next(jn_iter *it, jn_rec *rec, st_err *err);
void jn_iter_close(jn_iter *it);

#endif
