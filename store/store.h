/*
 * store.h - a thin layer over LMDB: environments, named tables, transactions, typed records.
 *
 * Every actor instance owns one LMDB environment (a directory). This layer keeps LMDB visible:
 * transactions are plain MDB_txn*, tables are plain MDB_dbi, and LMDB's own calls remain usable
 * next to these helpers. What it adds is what every actor would otherwise repeat:
 *   - open with a map size, max tables, durability and read-only options, stale reader cleanup;
 *   - named tables remembered by the environment so every error names its table and operation;
 *   - MDB_MAP_FULL handled by growing the map (st_grow) and running a write again (st_write);
 *   - big-endian u64 keys, so LMDB's memcmp order is numeric order;
 *   - cursor iteration over a key range [lo, hi);
 *   - typed records: values stored as msgpack through the schema engine (schemas/schema.h).
 *
 * Return convention: every int-returning function returns 0 on success, MDB_NOTFOUND when a key
 * or the end of an iteration is reached (no error text is written for that: it is not an error),
 * or an error code of the project's one error space (base/err.h: an LMDB MDB_* code, which has the
 * same value there, an errno value, or ST_ESCHEMA / OB_ECORRUPT) with text in *err. err may be
 * NULL when the caller does not want the text. Writes and commits are OB_MUST_CHECK: a dropped
 * result is a compile error.
 *
 * Ownership: the st_env is owned by the caller of st_open and freed by st_close. Values returned
 * by st_get and the iterators point into LMDB's memory map: they are borrowed, valid until the
 * end of the transaction or the next write in it, and must never be written to.
 *
 * Threads: the environment is opened with MDB_NOTLS, so read transactions are not tied to a
 * thread. As in LMDB, a transaction must be used by one thread at a time, and at most one write
 * transaction exists at a time (a second st_begin for writing blocks until the first ends).
 */
#ifndef OB_STORE_STORE_H
#define OB_STORE_STORE_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

typedef struct st_env st_env;
typedef struct {
	char text[256];
} st_err;

/* A typed record's value failed to encode or decode through the schema engine. */
#define ST_ESCHEMA OB_ESCHEMA
/* The file is damaged (empty, truncated, not LMDB, unreadable tables): err says how. */
#define ST_ECORRUPT OB_EDAMAGED

/* Open flags (st_opts.flags). */
#define ST_RDONLY 0x1u /* read-only open, for tools looking at a running actor's env */
#define ST_NOSYNC 0x2u /* commits do not fsync; call st_sync. For the journal only: see journal.h */
#define ST_NOWALK 0x4u /* skip st_check_tree at open (a big journal a tool only lists) */

typedef struct {
	uint64_t map_size;   /* initial map size in bytes; 0 = 64 MiB */
	uint64_t map_max;    /* st_grow never goes beyond this; 0 = no limit */
	unsigned max_tables; /* named tables the env can hold; 0 = 16 */
	unsigned flags;      /* ST_RDONLY, ST_NOSYNC */
} st_opts;

/* Opens (creating the directory with mode 0700 unless ST_RDONLY) the environment in dir, and
 * clears stale reader slots left by dead processes. opts may be NULL for defaults.
 * A damaged file is refused with ST_ECORRUPT before LMDB maps it (st_check), and, unless
 * ST_NOWALK, every table is read once in a child process (st_check_tree).
 * On success *out is owned by the caller (st_close). */
int st_open(st_env **out, const char *dir, const st_opts *opts, st_err *err);
/* The meta-page check alone: 0 when dir/data.mdb is absent or consistent with its size, else
 * ST_ECORRUPT (an empty, truncated or foreign file) or an errno, with the reason in err. */
int st_check(const char *dir, st_err *err);
/* Reads every key and value of every table in a child process; ST_ECORRUPT if that crashed. */
int st_check_tree(st_env *env, st_err *err);
/* EIO from a write is ENOSPC when the env's filesystem is (almost) full: LMDB reports a write a full
 * disk cut short as EIO. Other codes pass through. */
int st_io_errno(st_env *env, int rc);
/* Closes the env; every transaction must have ended. NULL is fine. */
void st_close(st_env *env);
/* The LMDB environment underneath (borrowed; valid until st_close). */
MDB_env *st_mdb(st_env *env);
/* The directory the env was opened from (borrowed). */
const char *st_dir(const st_env *env);

/* Opens the named table in txn, creating it if txn is a write txn. Call it at start, for every
 * table, in one write transaction (read transaction for read-only envs), then commit: LMDB makes
 * handles opened in a transaction usable by others only once it commits. The env remembers the
 * name so errors can name the table. */
int st_table(MDB_txn *txn, const char *name, MDB_dbi *dbi, st_err *err);
/* Name of a table opened with st_table, "?" if unknown (borrowed, lives as long as the env). */
const char *st_table_name(MDB_txn *txn, MDB_dbi dbi);

/* Transactions: thin wrappers over mdb_txn_begin/commit/abort that write error text. A read-only
 * begin that sees the map grown by another process adopts the new size and retries. */
OB_MUST_CHECK int st_begin(st_env *env, int rdonly, MDB_txn **txn, st_err *err);
OB_MUST_CHECK int st_commit(MDB_txn *txn, st_err *err); /* the txn is gone whatever the result */
void st_abort(MDB_txn *txn);                            /* NULL is fine */

/* Grows the map (doubling, capped by map_max). No transaction of this process may be active. */
OB_MUST_CHECK int st_grow(st_env *env, st_err *err);
/* Runs fn in a new write transaction and commits it. If fn or the commit fails with
 * MDB_MAP_FULL, the txn is aborted, the map grown and fn run once more, so fn must only
 * depend on what it reads in the txn and on arg. fn returns 0 to commit, anything else to abort
 * (that value is returned). */
typedef int (*st_write_fn)(MDB_txn *txn, void *arg, st_err *err);
OB_MUST_CHECK int st_write(st_env *env, st_write_fn fn, void *arg, st_err *err);
/* Flushes the map to disk (for ST_NOSYNC envs). */
OB_MUST_CHECK int st_sync(st_env *env, st_err *err);

/* Plain key/value access. st_get sets *val (borrowed) and returns MDB_NOTFOUND if absent.
 * st_put overwrites; st_put_new returns MDB_KEYEXIST if the key exists. st_del returns
 * MDB_NOTFOUND if absent. */
int st_get(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, MDB_val *val, st_err *err);
OB_MUST_CHECK int st_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const void *val, size_t vlen,
                         st_err *err);
OB_MUST_CHECK int st_put_new(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const void *val, size_t vlen,
                             st_err *err);
OB_MUST_CHECK int st_del(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, st_err *err);
/* Number of entries in a table. */
int st_count(MDB_txn *txn, MDB_dbi dbi, uint64_t *n, st_err *err);

/* Big-endian u64 keys: cursor order is numeric order. */
static inline void
st_key_u64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}
static inline uint64_t
st_u64_at(const void *p)
{
	const uint8_t *b = p;
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/* Cursor iteration over keys in [lo, hi) in table order. lo NULL = from the first key; hi NULL
 * = to the last. The bounds are copied. The iterator owns an LMDB cursor: st_iter_close it
 * before the txn ends (closing twice is fine). st_iter_next returns 0 with *key and *val borrowed,
 * MDB_NOTFOUND at the end. Do not write to the table while iterating it. */
typedef struct {
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	uint8_t lo[64], hi[64];
	size_t lolen, hilen;
	int has_lo, has_hi, started;
} st_iter;
int st_iter_open(st_iter *it, MDB_txn *txn, MDB_dbi dbi, const void *lo, size_t lolen, const void *hi, size_t hilen,
                 st_err *err);
int st_iter_next(st_iter *it, MDB_val *key, MDB_val *val, st_err *err);
void st_iter_close(st_iter *it);
/* The last (greatest) key and its value, borrowed; MDB_NOTFOUND if the table is empty. */
int st_last(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *val, st_err *err);

/* Typed records: rec is a C struct of the message type def (schemas/schema.h), stored as its
 * msgpack encoding. The caller owns rec; st_get_rec decodes into it (no LMDB memory is kept).
 * A decode failure returns ST_ESCHEMA with the schema engine's text, naming the table. */
struct sc_msgdef;
OB_MUST_CHECK int st_put_rec(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const struct sc_msgdef *def,
                             const void *rec, st_err *err);
int st_get_rec(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const struct sc_msgdef *def, void *rec,
               st_err *err);

#endif
