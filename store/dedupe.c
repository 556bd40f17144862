/*
 * dedupe.c - processed-id sets of dedupe.h: ids with the time they were first seen, and a time
 * index so pruning walks only what it deletes.
 */
#include "store/dedupe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DD_TKEY (8 + DD_ID_LEN)

struct dd_set {
	MDB_dbi ids, by_time;
	char name[64];
};

static int
dd_fail(st_err *err, int rc, const dd_set *dd, const char *op)
{
	if (err)
		snprintf(err->text, sizeof err->text, "dedupe %s: %s: %s", dd->name, op, ob_strerror(rc));
	return rc;
}

int
dd_open(MDB_txn *txn, const char *name, dd_set **out, st_err *err)
{
	*out = NULL;
	dd_set *dd = calloc(1, sizeof *dd);
	if (!dd)
		return ENOMEM;
	snprintf(dd->name, sizeof dd->name, "%s", name);
	char t[80];
	snprintf(t, sizeof t, "%s.t", dd->name);
	int rc = st_table(txn, dd->name, &dd->ids, err);
	if (rc == 0)
		rc = st_table(txn, t, &dd->by_time, err);
	if (rc != 0) {
		free(dd);
		return rc;
	}
	*out = dd;
	return 0;
}

void
dd_close(dd_set *dd)
{
	free(dd);
}

int
dd_seen(MDB_txn *txn, dd_set *dd, const uint8_t id[DD_ID_LEN], uint64_t now_ns, int *seen, st_err *err)
{
	uint8_t ts[8];
	st_key_u64(ts, now_ns);
	MDB_val k = { DD_ID_LEN, (void *)id }, v = { sizeof ts, ts };
	/* One lookup-and-insert: NOOVERWRITE reports an existing key instead of replacing it. */
	int rc = mdb_put(txn, dd->ids, &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST) {
		*seen = 1;
		return 0;
	}
	if (rc != 0)
		return dd_fail(err, rc, dd, "record id");
	uint8_t tk[DD_TKEY];
	memcpy(tk, ts, 8);
	memcpy(tk + 8, id, DD_ID_LEN);
	MDB_val kt = { sizeof tk, tk }, vt = { 0, NULL };
	if ((rc = mdb_put(txn, dd->by_time, &kt, &vt, 0)) != 0)
		return dd_fail(err, rc, dd, "record time index");
	*seen = 0;
	return 0;
}

int
dd_prune(MDB_txn *txn, dd_set *dd, uint64_t older_than_ns, uint64_t *removed, st_err *err)
{
	uint64_t n = 0;
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, dd->by_time, &cur);
	if (rc != 0)
		return dd_fail(err, rc, dd, "prune: cursor");
	MDB_val k, v;
	/* Always re-seek the first key after a delete: the oldest id is always first, and this
     * avoids relying on where mdb_cursor_del leaves the cursor. */
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0 && k.mv_size == DD_TKEY && st_u64_at(k.mv_data) < older_than_ns) {
		MDB_val kid = { DD_ID_LEN, (uint8_t *)k.mv_data + 8 };
		rc = mdb_del(txn, dd->ids, &kid, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			break;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		n++;
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	}
	mdb_cursor_close(cur);
	if (removed)
		*removed = n;
	if (rc != 0 && rc != MDB_NOTFOUND)
		return dd_fail(err, rc, dd, "prune");
	return 0;
}

int
dd_count(MDB_txn *txn, dd_set *dd, uint64_t *n, st_err *err)
{
	return st_count(txn, dd->ids, n, err);
}
