/* err_test.c - the one error space: every code is distinct, has text and a class. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <lmdb.h>

#include "base/err.h"
#include "bus/bus.h"
#include "chain/rpc.h"
#include "store/store.h"

static const int codes[] = {
	OB_OK, OB_EKEYEXIST, OB_ENOTFOUND, OB_ECORRUPTED, OB_EMAPFULL, OB_ESCHEMA, OB_ECORRUPT, OB_EDAMAGED,
	BUS_TIMEOUT, BUS_EDECODE, BUS_EREJECT, BUS_ECLOSED, BUS_EINVAL, BUS_ESEND,
	RPC_ETRANSPORT, RPC_ENODE, RPC_EDECODE, RPC_ENOTFOUND,
};

static void test_distinct(void **state)
{
	(void)state;
	size_t n = sizeof codes / sizeof codes[0];
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++)
			assert_int_not_equal(codes[i], codes[j]);
		/* No project code is an errno value (the signer's refusal 11 was also EAGAIN). */
		if (codes[i] != OB_OK)
			assert_true(codes[i] < 0);
	}
	/* Every module returns codes of this space: store's schema error, LMDB's own codes. */
	assert_int_equal(ST_ESCHEMA, OB_ESCHEMA);
	assert_int_equal(ST_ECORRUPT, OB_EDAMAGED);
	assert_int_equal(MDB_NOTFOUND, OB_ENOTFOUND);
	assert_int_equal(MDB_BAD_DBI, OB_LMDB_LAST);
}

static void test_text_and_class(void **state)
{
	(void)state;
	assert_string_equal(ob_strerror(OB_OK), "ok");
	assert_string_equal(ob_strerror(EAGAIN), strerror(EAGAIN));
	/* LMDB's texts, for the codes LMDB itself returns. */
	for (int c = MDB_KEYEXIST; c <= MDB_LAST_ERRCODE; c++)
		assert_string_equal(ob_strerror(c), mdb_strerror(c));
	assert_string_equal(ob_strerror(BUS_ESEND), "bus: send refused");
	assert_non_null(strstr(ob_strerror(-12345), "unknown error -12345"));
	assert_string_equal(ob_err_class(EIO), "errno");
	assert_string_equal(ob_err_class(MDB_MAP_FULL), "lmdb");
	assert_string_equal(ob_err_class(OB_ESCHEMA), "store");
	assert_string_equal(ob_err_class(BUS_TIMEOUT), "bus");
	assert_string_equal(ob_err_class(RPC_ENODE), "rpc");
	assert_string_equal(ob_err_class(-1), "unknown");
	assert_int_equal(ob_err_errno(ENOSPC), ENOSPC);
	assert_int_equal(ob_err_errno(0), EIO);
	assert_int_equal(ob_err_errno(-5), EIO);
	assert_true(ob_err_integrity(OB_ESCHEMA));
	assert_true(ob_err_integrity(MDB_CORRUPTED));
	assert_false(ob_err_integrity(MDB_MAP_FULL));
	assert_false(ob_err_integrity(ENOSPC));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distinct),
		cmocka_unit_test(test_text_and_class),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
