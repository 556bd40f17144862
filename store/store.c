/*
 * store.c - the LMDB layer of store.h: open/close, named tables, transactions, map growth,
 * key/value access and range iteration. Every error text names the table and the operation,
 * because "MDB_MAP_FULL" alone does not tell an operator which of an actor's tables was written.
 */
#include "store/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* base/err.h gives LMDB's codes their LMDB values, so what LMDB returns passes through unchanged. */
_Static_assert(OB_EKEYEXIST == MDB_KEYEXIST && OB_ENOTFOUND == MDB_NOTFOUND && OB_ECORRUPTED == MDB_CORRUPTED &&
                       OB_EMAPFULL == MDB_MAP_FULL && OB_LMDB_LAST == MDB_LAST_ERRCODE,
               "base/err.h LMDB codes differ from lmdb.h");

#define ST_DEFAULT_MAP    (64ull << 20)
#define ST_DEFAULT_TABLES 16u
#define ST_NAME_MAX       64

struct st_env {
	MDB_env *mdb;
	unsigned flags;
	uint64_t map_max;
	unsigned max_tables;
	/* Table names by dbi. dbi values are small integers (LMDB's own main db is 1 and named ones
     * follow), so an array indexed by dbi is enough. */
	char (*names)[ST_NAME_MAX];
	unsigned nnames;
	char dir[];
};

static int st_fail(st_err *err, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
st_fail(st_err *err, int rc, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(err->text, sizeof err->text, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < sizeof err->text)
			snprintf(err->text + n, sizeof err->text - (size_t)n, ": %s", ob_strerror(rc));
	}
	return rc;
}

static st_env *
st_env_of(MDB_txn *txn)
{
	return mdb_env_get_userctx(mdb_txn_env(txn));
}

const char *
st_table_name(MDB_txn *txn, MDB_dbi dbi)
{
	st_env *env = st_env_of(txn);
	if (env && dbi < env->nnames && env->names[dbi][0])
		return env->names[dbi];
	return "?";
}

/* mkdir -p with mode 0700: an actor's state is its own. */
static int
st_mkdirs(const char *dir)
{
	char path[4096];
	size_t n = strlen(dir);
	if (n == 0 || n >= sizeof path)
		return ENAMETOOLONG;
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return errno;
	return 0;
}

int
st_open(st_env **out, const char *dir, const st_opts *opts, st_err *err)
{
	st_opts o = opts ? *opts : (st_opts){ 0 };
	if (!o.map_size)
		o.map_size = ST_DEFAULT_MAP;
	if (!o.max_tables)
		o.max_tables = ST_DEFAULT_TABLES;
	*out = NULL;

	size_t dlen = strlen(dir);
	st_env *env = calloc(1, sizeof *env + dlen + 1);
	if (!env)
		return st_fail(err, ENOMEM, "env %s: open", dir);
	memcpy(env->dir, dir, dlen + 1);
	env->flags = o.flags;
	env->map_max = o.map_max;
	env->max_tables = o.max_tables;
	env->nnames = o.max_tables + 2;
	env->names = calloc(env->nnames, sizeof *env->names);
	if (!env->names) {
		free(env);
		return st_fail(err, ENOMEM, "env %s: open", dir);
	}

	int rc;
	if (!(o.flags & ST_RDONLY) && (rc = st_mkdirs(dir)) != 0) {
		st_fail(err, rc, "env %s: create directory", dir);
		goto fail;
	}
	if ((rc = mdb_env_create(&env->mdb)) != 0) {
		st_fail(err, rc, "env %s: create", dir);
		goto fail;
	}
	mdb_env_set_userctx(env->mdb, env);
	/* A read-only opener adopts the writer's current map size when it is larger. */
	if ((rc = mdb_env_set_mapsize(env->mdb, o.map_size)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env->mdb, o.max_tables)) != 0) {
		st_fail(err, rc, "env %s: configure", dir);
		goto fail;
	}
	unsigned fl = MDB_NOTLS;
	if (o.flags & ST_RDONLY)
		fl |= MDB_RDONLY;
	if (o.flags & ST_NOSYNC)
		fl |= MDB_NOSYNC;
	if ((rc = st_check(dir, err)) != 0)
		goto fail;
	if ((rc = mdb_env_open(env->mdb, dir, fl, 0600)) != 0) {
		st_fail(err, rc, "env %s: open%s", dir, (o.flags & ST_RDONLY) ? " read-only" : "");
		goto fail;
	}
	/* A process killed inside a read txn leaves its reader slot behind; a stale slot pins old
     * pages and makes the file grow. Clearing them at open is cheap. */
	int dead = 0;
	if ((rc = mdb_reader_check(env->mdb, &dead)) != 0) {
		st_fail(err, rc, "env %s: reader check", dir);
		goto fail;
	}
	if (!(o.flags & ST_NOWALK) && (rc = st_check_tree(env, err)) != 0)
		goto fail;
	*out = env;
	return 0;
fail:
	if (env->mdb)
		mdb_env_close(env->mdb);
	free(env->names);
	free(env);
	return rc;
}

void
st_close(st_env *env)
{
	if (!env)
		return;
	mdb_env_close(env->mdb);
	free(env->names);
	free(env);
}

MDB_env *
st_mdb(st_env *env)
{
	return env->mdb;
}
const char *
st_dir(const st_env *env)
{
	return env->dir;
}

int
st_table(MDB_txn *txn, const char *name, MDB_dbi *dbi, st_err *err)
{
	st_env *env = st_env_of(txn);
	/* LMDB has no public "is this txn read-only" call: ask to create unless the env is
     * read-only, and fall back to a plain open when LMDB refuses the create in a read txn. */
	unsigned tflags = (env->flags & ST_RDONLY) ? 0 : MDB_CREATE;
	int rc = mdb_dbi_open(txn, name, tflags, dbi);
	if (rc == EACCES && tflags) /* a read txn in a writable env */
		rc = mdb_dbi_open(txn, name, 0, dbi);
	if (rc != 0)
		return st_fail(err, rc, "table %s: open", name);
	if (*dbi < env->nnames)
		snprintf(env->names[*dbi], ST_NAME_MAX, "%s", name);
	return 0;
}

int
st_begin(st_env *env, int rdonly, MDB_txn **txn, st_err *err)
{
	unsigned fl = rdonly ? MDB_RDONLY : 0;
	int rc = mdb_txn_begin(env->mdb, NULL, fl, txn);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size (0 = read it from the file). */
		if ((rc = mdb_env_set_mapsize(env->mdb, 0)) == 0)
			rc = mdb_txn_begin(env->mdb, NULL, fl, txn);
	}
	if (rc != 0) {
		*txn = NULL;
		return st_fail(err, rc, "env %s: begin %s txn", env->dir, rdonly ? "read" : "write");
	}
	return 0;
}

int
st_commit(MDB_txn *txn, st_err *err)
{
	st_env *env = st_env_of(txn);
	int rc = mdb_txn_commit(txn);
	if (rc != 0)
		return st_fail(err, st_io_errno(env, rc), "env %s: commit", env->dir);
	return 0;
}

void
st_abort(MDB_txn *txn)
{
	if (txn)
		mdb_txn_abort(txn);
}

int
st_grow(st_env *env, st_err *err)
{
	MDB_envinfo info;
	int rc = mdb_env_info(env->mdb, &info);
	if (rc != 0)
		return st_fail(err, rc, "env %s: grow map", env->dir);
	uint64_t cur = info.me_mapsize, next = cur * 2;
	if (env->map_max && next > env->map_max)
		next = env->map_max;
	if (next <= cur)
		return st_fail(err, MDB_MAP_FULL, "env %s: grow map beyond map_max %llu", env->dir,
		               (unsigned long long)env->map_max);
	if ((rc = mdb_env_set_mapsize(env->mdb, next)) != 0)
		return st_fail(err, rc, "env %s: grow map to %llu", env->dir, (unsigned long long)next);
	return 0;
}

int
st_write(st_env *env, st_write_fn fn, void *arg, st_err *err)
{
	for (int attempt = 0;; attempt++) {
		MDB_txn *txn;
		int rc = st_begin(env, 0, &txn, err);
		if (rc != 0)
			return rc;
		rc = fn(txn, arg, err);
		if (rc != 0)
			st_abort(txn);
		else
			rc = st_commit(txn, err);
		if (rc != MDB_MAP_FULL || attempt > 0)
			return rc;
		/* The failed txn is gone; with no txn active the map can grow, then run fn again. */
		if ((rc = st_grow(env, err)) != 0)
			return rc;
	}
}

int
st_sync(st_env *env, st_err *err)
{
	int rc = mdb_env_sync(env->mdb, 1);
	if (rc != 0)
		return st_fail(err, st_io_errno(env, rc), "env %s: sync", env->dir);
	return 0;
}

/* ---- key/value access ------------------------------------------------------------------------ */

int
st_get(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, MDB_val *val, st_err *err)
{
	MDB_val k = { klen, (void *)key };
	int rc = mdb_get(txn, dbi, &k, val);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_fail(err, rc, "table %s: get", st_table_name(txn, dbi));
	return rc;
}

static int
st_put_flags(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const void *val, size_t vlen, unsigned flags,
             st_err *err)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc = mdb_put(txn, dbi, &k, &v, flags);
	if (rc == MDB_MAP_FULL)
		return st_fail(err, rc, "table %s: put (abort the txn, st_grow, retry; or use st_write)",
		               st_table_name(txn, dbi));
	if (rc != 0 && rc != MDB_KEYEXIST)
		return st_fail(err, rc, "table %s: put", st_table_name(txn, dbi));
	if (rc == MDB_KEYEXIST)
		st_fail(err, rc, "table %s: put new", st_table_name(txn, dbi));
	return rc;
}

int
st_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const void *val, size_t vlen, st_err *err)
{
	return st_put_flags(txn, dbi, key, klen, val, vlen, 0, err);
}

int
st_put_new(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const void *val, size_t vlen, st_err *err)
{
	return st_put_flags(txn, dbi, key, klen, val, vlen, MDB_NOOVERWRITE, err);
}

int
st_del(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, st_err *err)
{
	MDB_val k = { klen, (void *)key };
	int rc = mdb_del(txn, dbi, &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_fail(err, rc, "table %s: del", st_table_name(txn, dbi));
	return rc;
}

int
st_count(MDB_txn *txn, MDB_dbi dbi, uint64_t *n, st_err *err)
{
	MDB_stat s;
	int rc = mdb_stat(txn, dbi, &s);
	if (rc != 0)
		return st_fail(err, rc, "table %s: stat", st_table_name(txn, dbi));
	*n = s.ms_entries;
	return 0;
}

/* ---- iteration ------------------------------------------------------------------------------- */

int
st_iter_open(st_iter *it, MDB_txn *txn, MDB_dbi dbi, const void *lo, size_t lolen, const void *hi, size_t hilen,
             st_err *err)
{
	memset(it, 0, sizeof *it);
	if (lolen > sizeof it->lo || hilen > sizeof it->hi)
		return st_fail(err, EINVAL, "table %s: iterate (bound longer than %zu bytes)", st_table_name(txn, dbi),
		               sizeof it->lo);
	it->txn = txn;
	it->dbi = dbi;
	if (lo) {
		memcpy(it->lo, lo, lolen);
		it->lolen = lolen;
		it->has_lo = 1;
	}
	if (hi) {
		memcpy(it->hi, hi, hilen);
		it->hilen = hilen;
		it->has_hi = 1;
	}
	int rc = mdb_cursor_open(txn, dbi, &it->cur);
	if (rc != 0) {
		it->cur = NULL;
		return st_fail(err, rc, "table %s: open cursor", st_table_name(txn, dbi));
	}
	return 0;
}

int
st_iter_next(st_iter *it, MDB_val *key, MDB_val *val, st_err *err)
{
	if (!it->cur)
		return MDB_NOTFOUND;
	int rc;
	if (it->started) {
		rc = mdb_cursor_get(it->cur, key, val, MDB_NEXT);
	} else {
		it->started = 1;
		if (it->has_lo) {
			*key = (MDB_val){ it->lolen, it->lo };
			rc = mdb_cursor_get(it->cur, key, val, MDB_SET_RANGE);
		} else {
			rc = mdb_cursor_get(it->cur, key, val, MDB_FIRST);
		}
	}
	if (rc == 0 && it->has_hi) {
		MDB_val h = { it->hilen, it->hi };
		if (mdb_cmp(it->txn, it->dbi, key, &h) >= 0)
			rc = MDB_NOTFOUND;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_fail(err, rc, "table %s: cursor next", st_table_name(it->txn, it->dbi));
	return rc;
}

void
st_iter_close(st_iter *it)
{
	if (it->cur)
		mdb_cursor_close(it->cur);
	it->cur = NULL;
}

int
st_last(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *val, st_err *err)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc != 0)
		return st_fail(err, rc, "table %s: open cursor", st_table_name(txn, dbi));
	rc = mdb_cursor_get(cur, key, val, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_fail(err, rc, "table %s: last", st_table_name(txn, dbi));
	return rc;
}
