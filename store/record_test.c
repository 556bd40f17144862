/*
 * record_test.c - typed records: schema records round trip through LMDB (a small one and one
 * larger than the encoder's stack buffer), the stored bytes are exactly the schema's msgpack
 * body, and invalid records or corrupt values fail with text naming the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/messages.h"
#include "store/store.h"

typedef struct {
	char dir[64];
	st_env *env;
	MDB_dbi dbi;
} fx;

static int
setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	strcpy(f->dir, "/tmp/rec_test_XXXXXX");
	if (!mkdtemp(f->dir) || st_open(&f->env, f->dir, NULL, NULL))
		return -1;
	MDB_txn *txn;
	if (st_begin(f->env, 0, &txn, NULL) || st_table(txn, "records", &f->dbi, NULL) || st_commit(txn, NULL))
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;
	st_close(f->env);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(f);
	return rc;
}

static void
test_price_obs_round_trip(void **state)
{
	fx *f = *state;
	sc_price_obs in = { 0 }, out;
	strcpy(in.feed, "ETH-USD");
	strcpy(in.source, "kraken");
	u256_from_u64(&in.value, 345678901234ull);
	in.decimals = 8;
	in.source_ts_ms = 1700000000123ull;
	in.fetch_latency_us = 4567;
	in.observed_at_ns = 1700000000200000000ull;

	MDB_txn *txn;
	st_err e = { { 0 } };
	assert_int_equal(st_begin(f->env, 0, &txn, NULL), 0);
	assert_int_equal(st_put_rec(txn, f->dbi, "eth", 3, &SC_PRICE_OBS, &in, &e), 0);
	assert_int_equal(st_commit(txn, NULL), 0);

	assert_int_equal(st_begin(f->env, 1, &txn, NULL), 0);
	memset(&out, 0xEE, sizeof out);
	assert_int_equal(st_get_rec(txn, f->dbi, "eth", 3, &SC_PRICE_OBS, &out, &e), 0);
	assert_true(sc_equal(&SC_PRICE_OBS, &in, &out));
	assert_string_equal(out.source, "kraken");
	assert_true(out.decimals == 8 && out.fetch_latency_us == 4567);

	/* the stored value is exactly the schema's msgpack body */
	uint8_t buf[1024];
	size_t len = 0;
	sc_err se;
	assert_int_equal(sc_encode(&SC_PRICE_OBS, &in, buf, sizeof buf, &len, &se), 0);
	MDB_val v;
	assert_int_equal(st_get(txn, f->dbi, "eth", 3, &v, NULL), 0);
	assert_int_equal(v.mv_size, len);
	assert_memory_equal(v.mv_data, buf, len);

	assert_int_equal(st_get_rec(txn, f->dbi, "btc", 3, &SC_PRICE_OBS, &out, &e), MDB_NOTFOUND);
	st_abort(txn);
}

static void
test_large_record_round_trip(void **state)
{
	fx *f = *state;
	sc_tx_signed *in = calloc(1, sizeof *in), *out = calloc(1, sizeof *out);
	memset(in->id, 7, sizeof in->id);
	in->chain_id = 138;
	memset(in->from, 0x11, 20);
	memset(in->to, 0x22, 20);
	in->nonce = 42;
	in->tx_type = SC_TXTYPE_EIP1559;
	in->raw_len = 3500; /* larger than the 2 KiB stack buffer: takes the heap path */
	for (uint32_t i = 0; i < in->raw_len; i++)
		in->raw[i] = (uint8_t)(i * 7);
	memset(in->tx_hash, 0x33, 32);
	in->gas_limit = 100000;
	u256_from_u64(&in->max_fee_per_gas, 30000000000ull);
	u256_from_u64(&in->max_priority_fee_per_gas, 1000000000ull);
	strcpy(in->feed, "ETH-USD");
	u256_from_u64(&in->answer, 345678901234ull);
	strcpy(in->ref, "price.update:gate-1:17");
	in->signed_at_ns = 1700000000000000000ull;

	uint8_t key[8];
	st_key_u64(key, in->nonce);
	MDB_txn *txn;
	st_err e = { { 0 } };
	assert_int_equal(st_begin(f->env, 0, &txn, NULL), 0);
	int rc = st_put_rec(txn, f->dbi, key, 8, &SC_TX_SIGNED, in, &e);
	if (rc)
		print_error("%s\n", e.text);
	assert_int_equal(rc, 0);
	assert_int_equal(st_commit(txn, NULL), 0);
	assert_int_equal(st_begin(f->env, 1, &txn, NULL), 0);
	assert_int_equal(st_get_rec(txn, f->dbi, key, 8, &SC_TX_SIGNED, out, &e), 0);
	assert_true(sc_equal(&SC_TX_SIGNED, in, out));
	assert_int_equal(out->raw_len, 3500);
	assert_memory_equal(out->raw, in->raw, 3500);
	st_abort(txn);
	free(in);
	free(out);
}

static void
test_errors_name_the_table(void **state)
{
	fx *f = *state;
	MDB_txn *txn;
	st_err e = { { 0 } };
	sc_price_obs bad = { 0 };
	memset(bad.feed, 'A', sizeof bad.feed); /* not NUL-terminated within its capacity */
	strcpy(bad.source, "x");
	assert_int_equal(st_begin(f->env, 0, &txn, NULL), 0);
	assert_int_equal(st_put_rec(txn, f->dbi, "bad", 3, &SC_PRICE_OBS, &bad, &e), ST_ESCHEMA);
	assert_non_null(strstr(e.text, "table records: encode price.obs"));
	MDB_val v;
	assert_int_equal(st_get(txn, f->dbi, "bad", 3, &v, NULL), MDB_NOTFOUND);

	/* a stored value that is not a valid msgpack body */
	assert_int_equal(st_put(txn, f->dbi, "junk", 4, "\xc1\x00\x01", 3, NULL), 0);
	sc_price_obs out;
	memset(&e, 0, sizeof e);
	assert_int_equal(st_get_rec(txn, f->dbi, "junk", 4, &SC_PRICE_OBS, &out, &e), ST_ESCHEMA);
	assert_non_null(strstr(e.text, "table records: decode price.obs"));
	st_abort(txn);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_price_obs_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_record_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_name_the_table, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
