/* err_test.c - the one error space: every code is distinct, has text and a class. (That the
 * modules above return these codes - BUS_*, RPC_E*, ST_* - is checked in chain/rpc_test.c, the
 * layer that may include them all.) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <lmdb.h>

#include "base/err.h"

static const int codes[] = {
	OB_OK,          OB_EKEYEXIST,    OB_ENOTFOUND,     OB_ECORRUPTED,
	OB_EMAPFULL,    OB_ESCHEMA,      OB_ECORRUPT,      OB_EDAMAGED,
	OB_EENCODE,     OB_EBUS_TIMEOUT, OB_EBUS_DECODE,   OB_EBUS_REJECT,
	OB_EBUS_CLOSED, OB_EBUS_INVAL,   OB_EBUS_SEND,     OB_ERPC_TRANSPORT,
	OB_ERPC_NODE,   OB_ERPC_DECODE,  OB_ERPC_NOTFOUND, OB_ERPC_NOBATCH,
	OB_EBUS_TLS,
};

static void
test_distinct(void **state)
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
	/* LMDB's own codes keep LMDB's values. */
	assert_int_equal(MDB_NOTFOUND, OB_ENOTFOUND);
	assert_int_equal(MDB_BAD_DBI, OB_LMDB_LAST);
}

static void
test_text_and_class(void **state)
{
	(void)state;
	assert_string_equal(ob_strerror(OB_OK), "ok");
	assert_string_equal(ob_strerror(EAGAIN), strerror(EAGAIN));
	/* LMDB's texts, for the codes LMDB itself returns. */
	for (int c = MDB_KEYEXIST; c <= MDB_LAST_ERRCODE; c++)
		assert_string_equal(ob_strerror(c), mdb_strerror(c));
	assert_string_equal(ob_strerror(OB_EBUS_SEND), "bus: send refused");
	assert_string_equal(ob_strerror(OB_EBUS_TLS), "bus: TLS identity or configuration unusable");
	assert_non_null(strstr(ob_strerror(-12345), "unknown error -12345"));
	assert_string_equal(ob_err_class(EIO), "errno");
	assert_string_equal(ob_err_class(MDB_MAP_FULL), "lmdb");
	assert_string_equal(ob_err_class(OB_ESCHEMA), "store");
	assert_string_equal(ob_err_class(OB_EENCODE), "store");
	assert_string_equal(ob_strerror(OB_EENCODE), "record does not encode through its schema");
	assert_false(ob_err_integrity(OB_EENCODE)); /* the input's fault, not the stored data's */
	assert_string_equal(ob_err_class(OB_EBUS_TIMEOUT), "bus");
	assert_string_equal(ob_err_class(OB_ERPC_NODE), "rpc");
	assert_string_equal(ob_err_class(OB_EKS_MAC), "keys");
	assert_string_equal(ob_err_class(OB_ERS_MISMATCH), "keys");
	assert_string_equal(ob_err_class(-1), "unknown");
	assert_int_equal(ob_err_errno(ENOSPC), ENOSPC);
	assert_int_equal(ob_err_errno(0), EIO);
	assert_int_equal(ob_err_errno(-5), EIO);
	assert_true(ob_err_integrity(OB_ESCHEMA));
	assert_true(ob_err_integrity(MDB_CORRUPTED));
	assert_false(ob_err_integrity(MDB_MAP_FULL));
	assert_false(ob_err_integrity(ENOSPC));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distinct),
		cmocka_unit_test(test_text_and_class),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
