/*
 * journal.c - busd's frame journal (journal.h): batched appends under MDB_APPEND, byte
 * accounting in a meta table, retention from the oldest end, and seeks by index or time.
 */
#include "store/journal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JN_TS           8
#define JN_RETAIN_BATCH 10000 /* deletes per txn, so retention never builds a huge dirty txn */

struct jn {
	st_env *env;
	MDB_dbi data, meta;
	MDB_txn *txn;  /* the open batch, or NULL */
	uint64_t next; /* index of the next append */
	uint64_t next_committed;
	uint64_t last_ts; /* clamp floor for receive times */
	uint64_t last_ts_committed;
	uint64_t bytes; /* committed value bytes */
	uint64_t pend_bytes;
	size_t pending;
	uint64_t dropped;
	int rdonly;
	char name[64];
};

static const char jn_bytes_key[] = "bytes";

static int
jn_fail(st_err *err, int rc, const jn *j, const char *op)
{
	if (err)
		snprintf(err->text, sizeof err->text, "journal %s: %s: %s", j->name, op, ob_strerror(rc));
	return rc;
}

static int
jn_read_bytes(jn *j, MDB_txn *txn, uint64_t *bytes)
{
	MDB_val k = { sizeof jn_bytes_key - 1, (void *)jn_bytes_key }, v;
	int rc = mdb_get(txn, j->meta, &k, &v);
	*bytes = 0;
	if (rc == 0 && v.mv_size == 8)
		*bytes = st_u64_at(v.mv_data);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
jn_write_bytes(jn *j, MDB_txn *txn, uint64_t bytes)
{
	uint8_t b[8];
	st_key_u64(b, bytes);
	MDB_val k = { sizeof jn_bytes_key - 1, (void *)jn_bytes_key }, v = { 8, b };
	return mdb_put(txn, j->meta, &k, &v, 0);
}

int
jn_open(st_env *env, const char *name, jn **out, st_err *err)
{
	*out = NULL;
	jn *j = calloc(1, sizeof *j);
	if (!j)
		return ENOMEM;
	j->env = env;
	snprintf(j->name, sizeof j->name, "%s", name);
	char meta[80];
	snprintf(meta, sizeof meta, "%s.meta", j->name);

	/* A read-only env can only open existing tables, in a read txn. */
	unsigned fl = 0;
	mdb_env_get_flags(st_mdb(env), &fl);
	j->rdonly = (fl & MDB_RDONLY) != 0;
	MDB_txn *txn;
	int rc = st_begin(env, j->rdonly, &txn, err);
	if (rc != 0)
		goto fail;
	if ((rc = st_table(txn, j->name, &j->data, err)) != 0 || (rc = st_table(txn, meta, &j->meta, err)) != 0) {
		st_abort(txn);
		goto fail;
	}
	MDB_val k, v;
	rc = st_last(txn, j->data, &k, &v, err);
	if (rc == 0 && k.mv_size == 8 && v.mv_size >= JN_TS) {
		j->next = st_u64_at(k.mv_data) + 1;
		j->last_ts = st_u64_at(v.mv_data);
	} else if (rc == MDB_NOTFOUND) {
		j->next = 1;
	} else {
		if (rc == 0)
			rc = jn_fail(err, ST_ESCHEMA, j, "open: last entry");
		st_abort(txn);
		goto fail;
	}
	if ((rc = jn_read_bytes(j, txn, &j->bytes)) != 0) {
		jn_fail(err, rc, j, "open: read meta");
		st_abort(txn);
		goto fail;
	}
	if ((rc = st_commit(txn, err)) != 0)
		goto fail;
	j->next_committed = j->next;
	j->last_ts_committed = j->last_ts;
	*out = j;
	return 0;
fail:
	free(j);
	return rc;
}

int
jn_close(jn *j, st_err *err)
{
	if (!j)
		return 0;
	int rc = jn_flush(j, err);
	free(j);
	return rc;
}

size_t
jn_pending(const jn *j)
{
	return j->pending;
}

/* Forgets the batch in flight (its txn is already aborted or failed). */
static void
jn_drop_batch(jn *j)
{
	if (j->txn)
		st_abort(j->txn);
	j->txn = NULL;
	j->dropped += j->pending;
	j->pending = 0;
	j->pend_bytes = 0;
	j->next = j->next_committed;
	j->last_ts = j->last_ts_committed;
}

/* Grows the map ahead of need when the file uses more than 3/4 of it, so MAP_FULL (which costs a
 * batch) stays rare. Called with no txn open. */
static void
jn_maybe_grow(jn *j)
{
	MDB_envinfo info;
	MDB_stat st;
	if (mdb_env_info(st_mdb(j->env), &info) != 0 || mdb_env_stat(st_mdb(j->env), &st) != 0)
		return;
	uint64_t used = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
	/* Best effort ahead of need: if it fails, the commit that hits MAP_FULL grows (or fails) then. */
	if (used > info.me_mapsize / 4 * 3 && st_grow(j->env, NULL) != 0)
		return;
}

static int
jn_put(jn *j, uint64_t index, uint64_t ts, const void *frame, size_t len)
{
	uint8_t key[8];
	st_key_u64(key, index);
	MDB_val k = { 8, key }, v = { JN_TS + len, NULL };
	/* MDB_APPEND: keys only grow, so LMDB can skip the search and fill pages completely;
     * MDB_RESERVE: write the value in place instead of copying it twice. */
	int rc = mdb_put(j->txn, j->data, &k, &v, MDB_APPEND | MDB_RESERVE);
	if (rc == 0) {
		st_key_u64(v.mv_data, ts);
		if (len)
			memcpy((uint8_t *)v.mv_data + JN_TS, frame, len);
	}
	return rc;
}

int
jn_append(jn *j, uint64_t ts_ns, const void *frame, size_t len, uint64_t *index, st_err *err)
{
	if (j->rdonly)
		return jn_fail(err, EACCES, j, "append to a read-only env");
	if (ts_ns < j->last_ts)
		ts_ns = j->last_ts;
	for (int attempt = 0;; attempt++) {
		int rc = 0;
		if (!j->txn)
			rc = st_begin(j->env, 0, &j->txn, err);
		if (rc == 0)
			rc = jn_put(j, j->next, ts_ns, frame, len);
		if (rc == 0)
			break;
		if (rc != MDB_MAP_FULL || attempt > 0) {
			jn_drop_batch(j);
			return jn_fail(err, rc, j, "append");
		}
		/* Map full: the txn is unusable. Drop the batch, grow, and append this frame anew. */
		jn_drop_batch(j);
		if ((rc = st_grow(j->env, err)) != 0)
			return rc;
	}
	if (index)
		*index = j->next;
	j->next++;
	j->last_ts = ts_ns;
	j->pending++;
	j->pend_bytes += JN_TS + len;
	return 0;
}

int
jn_flush(jn *j, st_err *err)
{
	if (!j->txn)
		return 0;
	int rc = jn_write_bytes(j, j->txn, j->bytes + j->pend_bytes);
	if (rc != 0) {
		jn_drop_batch(j);
		return jn_fail(err, rc, j, "flush: write meta");
	}
	rc = st_io_errno(j->env, mdb_txn_commit(j->txn));
	j->txn = NULL;
	if (rc != 0) {
		jn_drop_batch(j);
		if (rc == MDB_MAP_FULL && st_grow(j->env, NULL) != 0)
			return jn_fail(err, rc, j, "flush: commit (and the map cannot grow)");
		return jn_fail(err, rc, j, "flush: commit");
	}
	j->bytes += j->pend_bytes;
	j->next_committed = j->next;
	j->last_ts_committed = j->last_ts;
	j->pending = 0;
	j->pend_bytes = 0;
	jn_maybe_grow(j);
	return 0;
}

int
jn_retain(jn *j, uint64_t max_bytes, uint64_t max_age_ns, uint64_t now_ns, uint64_t *removed, st_err *err)
{
	uint64_t n = 0;
	int rc = jn_flush(j, err);
	if (rc != 0)
		return rc;
	uint64_t cutoff = max_age_ns && now_ns > max_age_ns ? now_ns - max_age_ns : 0;
	for (int more = 1; more;) {
		MDB_txn *txn;
		MDB_cursor *cur;
		if ((rc = st_begin(j->env, 0, &txn, err)) != 0)
			break;
		if ((rc = mdb_cursor_open(txn, j->data, &cur)) != 0) {
			st_abort(txn);
			jn_fail(err, rc, j, "retain: cursor");
			break;
		}
		uint64_t bytes = j->bytes, batch = 0;
		MDB_val k, v;
		more = 0;
		while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
			uint64_t ts = v.mv_size >= JN_TS ? st_u64_at(v.mv_data) : 0;
			if (!((max_bytes && bytes > max_bytes) || ts < cutoff))
				break;
			if (batch == JN_RETAIN_BATCH) {
				more = 1;
				break;
			}
			size_t sz = v.mv_size;
			if ((rc = mdb_cursor_del(cur, 0)) != 0)
				break;
			bytes = bytes > sz ? bytes - sz : 0;
			batch++;
		}
		mdb_cursor_close(cur);
		if (rc == MDB_NOTFOUND)
			rc = 0;
		if (rc == 0 && batch)
			rc = jn_write_bytes(j, txn, bytes);
		if (rc != 0) {
			st_abort(txn);
			jn_fail(err, rc, j, "retain: delete");
			break;
		}
		if ((rc = st_commit(txn, err)) != 0)
			break;
		j->bytes = bytes;
		n += batch;
	}
	if (removed)
		*removed = n;
	return rc;
}

int
jn_stats(jn *j, MDB_txn *txn, jn_stats_t *s, st_err *err)
{
	memset(s, 0, sizeof *s);
	s->dropped = j->dropped;
	MDB_txn *own = NULL;
	int rc;
	if (!txn) {
		if ((rc = st_begin(j->env, 1, &own, err)) != 0)
			return rc;
		txn = own;
	}
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	if ((rc = st_count(txn, j->data, &s->count, err)) != 0)
		goto out;
	if ((rc = jn_read_bytes(j, txn, &s->bytes)) != 0) {
		jn_fail(err, rc, j, "stats: read meta");
		goto out;
	}
	if ((rc = mdb_cursor_open(txn, j->data, &cur)) != 0) {
		jn_fail(err, rc, j, "stats: cursor");
		goto out;
	}
	if ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0 && v.mv_size >= JN_TS) {
		s->first_index = st_u64_at(k.mv_data);
		s->first_ns = st_u64_at(v.mv_data);
		if ((rc = mdb_cursor_get(cur, &k, &v, MDB_LAST)) == 0 && v.mv_size >= JN_TS) {
			s->last_index = st_u64_at(k.mv_data);
			s->last_ns = st_u64_at(v.mv_data);
		}
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
	else if (rc != 0)
		jn_fail(err, rc, j, "stats: first/last");
out:
	if (cur)
		mdb_cursor_close(cur);
	if (own)
		st_abort(own);
	return rc;
}

/* ---- iteration ------------------------------------------------------------------------------- */

static int
jn_iter_init(jn_iter *it, jn *j, MDB_txn *txn, const char *prefix, st_err *err)
{
	memset(it, 0, sizeof *it);
	it->txn = txn;
	it->to = UINT64_MAX;
	it->t1 = UINT64_MAX;
	if (prefix) {
		it->plen = strlen(prefix);
		if (it->plen >= sizeof it->prefix)
			return jn_fail(err, EINVAL, j, "iterate: topic prefix too long");
		memcpy(it->prefix, prefix, it->plen);
	}
	int rc = mdb_cursor_open(txn, j->data, &it->cur);
	if (rc != 0) {
		it->cur = NULL;
		return jn_fail(err, rc, j, "iterate: cursor");
	}
	return 0;
}

int
jn_iter_index(jn_iter *it, jn *j, MDB_txn *txn, uint64_t from, uint64_t to, const char *prefix, st_err *err)
{
	int rc = jn_iter_init(it, j, txn, prefix, err);
	it->start = from;
	it->to = to;
	return rc;
}

/* Smallest index whose receive time is >= t0: a binary search over the index range, each probe
 * one cursor seek (receive times never decrease with the index; see jn_append). Indexes are
 * contiguous except at the deleted head, and MDB_SET_RANGE steps over any gap. */
static int
jn_seek_time(jn_iter *it, uint64_t t0, uint64_t *start)
{
	MDB_val k, v;
	int rc = mdb_cursor_get(it->cur, &k, &v, MDB_FIRST);
	if (rc != 0)
		return rc;
	uint64_t lo = st_u64_at(k.mv_data);
	if ((rc = mdb_cursor_get(it->cur, &k, &v, MDB_LAST)) != 0)
		return rc;
	uint64_t hi = st_u64_at(k.mv_data) + 1;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		uint8_t key[8];
		st_key_u64(key, mid);
		k = (MDB_val){ 8, key };
		if ((rc = mdb_cursor_get(it->cur, &k, &v, MDB_SET_RANGE)) != 0)
			return rc;
		uint64_t found = st_u64_at(k.mv_data);
		uint64_t ts = v.mv_size >= JN_TS ? st_u64_at(v.mv_data) : 0;
		if (ts < t0)
			lo = found + 1;
		else
			hi = mid;
	}
	*start = lo;
	return 0;
}

int
jn_iter_time(jn_iter *it, jn *j, MDB_txn *txn, uint64_t t0, uint64_t t1, const char *prefix, st_err *err)
{
	int rc = jn_iter_init(it, j, txn, prefix, err);
	if (rc != 0)
		return rc;
	it->t1 = t1;
	rc = jn_seek_time(it, t0, &it->start);
	if (rc == MDB_NOTFOUND) {
		it->start = UINT64_MAX; /* empty journal: jn_next finds nothing */
		return 0;
	}
	if (rc != 0)
		return jn_fail(err, rc, j, "iterate: seek time");
	return 0;
}

int
jn_next(jn_iter *it, jn_rec *rec, st_err *err)
{
	if (!it->cur)
		return MDB_NOTFOUND;
	MDB_val k, v;
	int rc;
	for (;;) {
		if (!it->started) {
			it->started = 1;
			uint8_t key[8];
			st_key_u64(key, it->start);
			k = (MDB_val){ 8, key };
			rc = mdb_cursor_get(it->cur, &k, &v, MDB_SET_RANGE);
		} else {
			rc = mdb_cursor_get(it->cur, &k, &v, MDB_NEXT);
		}
		if (rc != 0)
			break;
		if (k.mv_size != 8 || v.mv_size < JN_TS) {
			rc = ST_ESCHEMA;
			break;
		}
		rec->index = st_u64_at(k.mv_data);
		rec->ts_ns = st_u64_at(v.mv_data);
		if (rec->index > it->to || rec->ts_ns >= it->t1)
			return MDB_NOTFOUND;
		rec->frame = (const uint8_t *)v.mv_data + JN_TS;
		rec->len = v.mv_size - JN_TS;
		if (it->plen && (rec->len < it->plen || memcmp(rec->frame, it->prefix, it->plen) != 0))
			continue;
		return 0;
	}
	if (rc != MDB_NOTFOUND && err)
		snprintf(err->text, sizeof err->text, "journal: next: %s", ob_strerror(rc));
	return rc;
}

void
jn_iter_close(jn_iter *it)
{
	if (it->cur)
		mdb_cursor_close(it->cur);
	it->cur = NULL;
}
