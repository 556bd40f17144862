/*
 * dedupe_test.c - processed-id sets: first sight records, second sight reports, pruning forgets
 * exactly the ids older than the cutoff, and a rolled-back txn records nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/dedupe.h"

static void
mkid(uint8_t id[DD_ID_LEN], unsigned n)
{
	memset(id, 0x3C, DD_ID_LEN);
	id[14] = (uint8_t)(n >> 8), id[15] = (uint8_t)n;
}

static void
test_seen_and_prune(void **state)
{
	(void)state;
	char dir[] = "/tmp/dd_test_XXXXXX";
	assert_non_null(mkdtemp(dir));
	st_env *env;
	st_err e = { { 0 } };
	MDB_txn *txn;
	dd_set *dd;
	assert_int_equal(st_open(&env, dir, NULL, &e), 0);
	assert_int_equal(st_begin(env, 0, &txn, &e), 0);
	assert_int_equal(dd_open(txn, "acks", &dd, &e), 0);
	assert_int_equal(st_commit(txn, &e), 0);

	/* ids 0..99 seen at time 1000+i */
	uint8_t id[DD_ID_LEN];
	int seen = -1;
	assert_int_equal(st_begin(env, 0, &txn, &e), 0);
	for (unsigned i = 0; i < 100; i++) {
		mkid(id, i);
		assert_int_equal(dd_seen(txn, dd, id, 1000 + i, &seen, &e), 0);
		assert_int_equal(seen, 0);
	}
	assert_int_equal(st_commit(txn, &e), 0);

	/* a second delivery is reported, whatever its time */
	assert_int_equal(st_begin(env, 0, &txn, &e), 0);
	mkid(id, 42);
	assert_int_equal(dd_seen(txn, dd, id, 5000, &seen, &e), 0);
	assert_int_equal(seen, 1);
	/* an aborted processing records nothing */
	mkid(id, 500);
	assert_int_equal(dd_seen(txn, dd, id, 5000, &seen, &e), 0);
	assert_int_equal(seen, 0);
	st_abort(txn);
	assert_int_equal(st_begin(env, 0, &txn, &e), 0);
	assert_int_equal(dd_seen(txn, dd, id, 5001, &seen, &e), 0);
	assert_int_equal(seen, 0);

	/* prune everything seen before 1030: ids 0..29 */
	uint64_t removed = 0, n = 0;
	assert_int_equal(dd_prune(txn, dd, 1030, &removed, &e), 0);
	assert_int_equal(removed, 30);
	assert_int_equal(dd_count(txn, dd, &n, &e), 0);
	assert_int_equal(n, 71); /* 70 left of the first 100, plus id 500 */
	assert_int_equal(dd_prune(txn, dd, 1030, &removed, &e), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(st_commit(txn, &e), 0);

	assert_int_equal(st_begin(env, 0, &txn, &e), 0);
	for (unsigned i = 0; i < 100; i++) {
		mkid(id, i);
		assert_int_equal(dd_seen(txn, dd, id, 9000, &seen, &e), 0);
		assert_int_equal(seen, i >= 30); /* pruned ids are new again, the rest are still known */
	}
	/* prune all */
	assert_int_equal(dd_prune(txn, dd, UINT64_MAX, &removed, &e), 0);
	assert_int_equal(removed, 101);
	assert_int_equal(dd_count(txn, dd, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(st_commit(txn, &e), 0);

	dd_close(dd);
	st_close(env);
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seen_and_prune),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
