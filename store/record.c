/*
 * record.c - typed records of store.h: a value is the msgpack body of a schema family
 * (schemas/schema.h), so what an actor stores is what it would put on the bus, decoded with the
 * same strict checks.
 */
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "schemas/schema.h"

/* Most records are small: encode on the stack first, and only for a larger one fall back to a
 * heap buffer of the largest body the schema engine accepts. */
#define ST_REC_STACK 2048

static int
st_rec_fail(st_err *err, MDB_txn *txn, MDB_dbi dbi, const char *op, const sc_msgdef *def, const sc_err *se)
{
	if (err)
		snprintf(err->text, sizeof err->text, "table %s: %s %s: %s", st_table_name(txn, dbi), op, sc_type(def),
		         se->text);
	return ST_ESCHEMA;
}

int
st_put_rec(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const struct sc_msgdef *def, const void *rec,
           st_err *err)
{
	uint8_t small[ST_REC_STACK];
	size_t len = 0;
	sc_err se = { { 0 } };
	if (sc_encode(def, rec, small, sizeof small, &len, &se) == 0)
		return st_put(txn, dbi, key, klen, small, len, err);
	uint8_t *big = malloc(SC_MAX_BODY);
	if (!big) {
		if (err)
			snprintf(err->text, sizeof err->text, "table %s: encode %s: out of memory",
			         st_table_name(txn, dbi), sc_type(def));
		return ENOMEM;
	}
	int rc;
	if (sc_encode(def, rec, big, SC_MAX_BODY, &len, &se) == 0)
		rc = st_put(txn, dbi, key, klen, big, len, err);
	else
		rc = st_rec_fail(err, txn, dbi, "encode", def, &se);
	free(big);
	return rc;
}

int
st_get_rec(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const struct sc_msgdef *def, void *rec, st_err *err)
{
	MDB_val v;
	int rc = st_get(txn, dbi, key, klen, &v, err);
	if (rc != 0)
		return rc;
	sc_err se = { { 0 } };
	if (sc_decode(def, v.mv_data, v.mv_size, rec, &se) != 0)
		return st_rec_fail(err, txn, dbi, "decode", def, &se);
	return 0;
}
