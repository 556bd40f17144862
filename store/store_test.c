/*
 * store_test.c - unit tests of the LMDB layer: tables, get/put/del, u64 key order, range
 * iteration, map growth, read-only opens (including a reader that sees the map grown by another
 * process), and the error texts that name table and operation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"

static char *
tmpdir(void)
{
	char *d = strdup("/tmp/st_test_XXXXXX");
	assert_non_null(mkdtemp(d));
	return d;
}

static void
rmtree(char *d)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
}

static st_env *
open_env(const char *dir, uint64_t map, uint64_t map_max, unsigned flags)
{
	st_env *env = NULL;
	st_err e = { { 0 } };
	st_opts o = { .map_size = map, .map_max = map_max, .flags = flags };
	int rc = st_open(&env, dir, &o, &e);
	if (rc)
		print_error("%s\n", e.text);
	assert_int_equal(rc, 0);
	return env;
}

static MDB_dbi
open_table(st_env *env, const char *name)
{
	MDB_txn *txn;
	MDB_dbi dbi;
	assert_int_equal(st_begin(env, 0, &txn, NULL), 0);
	assert_int_equal(st_table(txn, name, &dbi, NULL), 0);
	assert_int_equal(st_commit(txn, NULL), 0);
	return dbi;
}

static void
test_open_creates_private_dir(void **state)
{
	(void)state;
	char *base = tmpdir();
	char dir[256];
	snprintf(dir, sizeof dir, "%s/a/b/env", base);
	st_env *env = open_env(dir, 0, 0, 0);
	struct stat sb;
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_string_equal(st_dir(env), dir);
	st_close(env);

	/* read-only open of a missing env fails with a message naming the directory */
	st_env *ro = NULL;
	st_err e = { { 0 } };
	st_opts o = { .flags = ST_RDONLY };
	snprintf(dir, sizeof dir, "%s/missing", base);
	assert_int_not_equal(st_open(&ro, dir, &o, &e), 0);
	assert_null(ro);
	assert_non_null(strstr(e.text, "missing"));
	rmtree(base);
}

static void
test_put_get_del(void **state)
{
	(void)state;
	char *dir = tmpdir();
	st_env *env = open_env(dir, 0, 0, 0);
	MDB_dbi t = open_table(env, "things");
	MDB_txn *txn;
	st_err e = { { 0 } };
	MDB_val v;

	assert_int_equal(st_begin(env, 0, &txn, &e), 0);
	assert_int_equal(st_put(txn, t, "k1", 2, "hello", 5, &e), 0);
	assert_int_equal(st_put_new(txn, t, "k2", 2, "x", 1, &e), 0);
	assert_int_equal(st_put_new(txn, t, "k2", 2, "y", 1, &e), MDB_KEYEXIST);
	assert_non_null(strstr(e.text, "table things"));
	assert_int_equal(st_commit(txn, &e), 0);

	/* an aborted write leaves nothing behind */
	assert_int_equal(st_begin(env, 0, &txn, &e), 0);
	assert_int_equal(st_put(txn, t, "k3", 2, "gone", 4, &e), 0);
	st_abort(txn);

	assert_int_equal(st_begin(env, 1, &txn, &e), 0);
	assert_int_equal(st_get(txn, t, "k1", 2, &v, &e), 0);
	assert_int_equal(v.mv_size, 5);
	assert_memory_equal(v.mv_data, "hello", 5);
	assert_int_equal(st_get(txn, t, "k2", 2, &v, &e), 0);
	assert_memory_equal(v.mv_data, "x", 1);
	assert_int_equal(st_get(txn, t, "k3", 2, &v, &e), MDB_NOTFOUND);
	uint64_t n = 0;
	assert_int_equal(st_count(txn, t, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(st_table_name(txn, t), "things");
	st_abort(txn);

	assert_int_equal(st_begin(env, 0, &txn, &e), 0);
	assert_int_equal(st_del(txn, t, "k1", 2, &e), 0);
	assert_int_equal(st_del(txn, t, "k1", 2, &e), MDB_NOTFOUND);
	assert_int_equal(st_commit(txn, &e), 0);
	assert_int_equal(st_begin(env, 1, &txn, &e), 0);
	assert_int_equal(st_get(txn, t, "k1", 2, &v, &e), MDB_NOTFOUND);
	st_abort(txn);

	/* reopen: the data is durable */
	st_close(env);
	env = open_env(dir, 0, 0, 0);
	t = open_table(env, "things");
	assert_int_equal(st_begin(env, 1, &txn, &e), 0);
	assert_int_equal(st_get(txn, t, "k2", 2, &v, &e), 0);
	assert_memory_equal(v.mv_data, "x", 1);
	st_abort(txn);
	st_close(env);
	rmtree(dir);
}

static void
test_u64_keys_iterate_in_numeric_order(void **state)
{
	(void)state;
	uint8_t k[8];
	st_key_u64(k, 0x0102030405060708ull);
	const uint8_t want[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_memory_equal(k, want, 8);
	assert_true(st_u64_at(k) == 0x0102030405060708ull);

	char *dir = tmpdir();
	st_env *env = open_env(dir, 0, 0, 0);
	MDB_dbi t = open_table(env, "nums");
	MDB_txn *txn;
	/* insert in a scrambled order, values spanning byte boundaries */
	const uint64_t vals[] = { 300, 1, 256, 65536, 255, 2, 1ull << 40, 70000, 0 };
	const size_t nv = sizeof vals / sizeof vals[0];
	assert_int_equal(st_begin(env, 0, &txn, NULL), 0);
	for (size_t i = 0; i < nv; i++) {
		st_key_u64(k, vals[i]);
		assert_int_equal(st_put(txn, t, k, 8, &vals[i], sizeof vals[i], NULL), 0);
	}
	assert_int_equal(st_commit(txn, NULL), 0);

	/* full scan must be sorted numerically */
	assert_int_equal(st_begin(env, 1, &txn, NULL), 0);
	st_iter it;
	MDB_val kv, vv;
	assert_int_equal(st_iter_open(&it, txn, t, NULL, 0, NULL, 0, NULL), 0);
	uint64_t prev = 0, seen = 0;
	int rc;
	while ((rc = st_iter_next(&it, &kv, &vv, NULL)) == 0) {
		uint64_t x = st_u64_at(kv.mv_data);
		if (seen)
			assert_true(x > prev);
		uint64_t stored;
		memcpy(&stored, vv.mv_data, 8);
		assert_true(stored == x);
		prev = x;
		seen++;
	}
	assert_int_equal(rc, MDB_NOTFOUND);
	assert_int_equal(seen, nv);
	st_iter_close(&it);

	/* range [256, 70000): counts the values in that range independently */
	uint8_t lo[8], hi[8];
	st_key_u64(lo, 256);
	st_key_u64(hi, 70000);
	size_t want_n = 0;
	for (size_t i = 0; i < nv; i++)
		want_n += vals[i] >= 256 && vals[i] < 70000;
	assert_int_equal(st_iter_open(&it, txn, t, lo, 8, hi, 8, NULL), 0);
	size_t got = 0;
	while (st_iter_next(&it, &kv, &vv, NULL) == 0) {
		uint64_t x = st_u64_at(kv.mv_data);
		assert_true(x >= 256 && x < 70000);
		got++;
	}
	st_iter_close(&it);
	st_iter_close(&it); /* closing twice is fine */
	assert_int_equal(got, want_n);

	assert_int_equal(st_last(txn, t, &kv, &vv, NULL), 0);
	assert_true(st_u64_at(kv.mv_data) == 1ull << 40);
	st_abort(txn);
	st_close(env);
	rmtree(dir);
}

/* Writes ~100 KiB per call under keys base..base+99. */
struct fill {
	MDB_dbi dbi;
	uint64_t base;
	int calls;
};
static int
fill_fn(MDB_txn *txn, void *arg, st_err *err)
{
	struct fill *f = arg;
	f->calls++;
	static uint8_t blob[1000];
	for (uint64_t i = 0; i < 100; i++) {
		uint8_t k[8];
		st_key_u64(k, f->base + i);
		memset(blob, (int)((f->base + i) & 0xff), sizeof blob);
		int rc = st_put(txn, f->dbi, k, 8, blob, sizeof blob, err);
		if (rc)
			return rc;
	}
	return 0;
}

static void
test_map_grows_on_map_full(void **state)
{
	(void)state;
	char *dir = tmpdir();
	st_env *env = open_env(dir, 256 << 10, 0, 0);
	MDB_dbi t = open_table(env, "big");
	MDB_envinfo info;
	mdb_env_info(st_mdb(env), &info);
	size_t initial = info.me_mapsize;
	st_err e = { { 0 } };
	int retries = 0;
	for (uint64_t b = 0; b < 3000; b += 100) {
		struct fill f = { t, b, 0 };
		int rc = st_write(env, fill_fn, &f, &e);
		if (rc)
			print_error("%s\n", e.text);
		assert_int_equal(rc, 0);
		retries += f.calls - 1;
	}
	mdb_env_info(st_mdb(env), &info);
	assert_true(info.me_mapsize > initial);
	assert_true(retries > 0); /* growth really went through the MAP_FULL path */

	MDB_txn *txn;
	assert_int_equal(st_begin(env, 1, &txn, NULL), 0);
	uint64_t n;
	assert_int_equal(st_count(txn, t, &n, NULL), 0);
	assert_int_equal(n, 3000);
	uint8_t k[8];
	MDB_val v;
	st_key_u64(k, 1234);
	assert_int_equal(st_get(txn, t, k, 8, &v, NULL), 0);
	assert_int_equal(((uint8_t *)v.mv_data)[999], 1234 & 0xff);
	st_abort(txn);
	st_close(env);
	rmtree(dir);
}

static void
test_map_full_at_cap_is_a_clear_error(void **state)
{
	(void)state;
	char *dir = tmpdir();
	st_env *env = open_env(dir, 256 << 10, 512 << 10, 0);
	MDB_dbi t = open_table(env, "capped");
	st_err e = { { 0 } };
	int rc = 0;
	for (uint64_t b = 0; b < 3000 && rc == 0; b += 100) {
		struct fill f = { t, b, 0 };
		rc = st_write(env, fill_fn, &f, &e);
	}
	assert_int_equal(rc, MDB_MAP_FULL);
	assert_non_null(strstr(e.text, "map_max"));

	/* a direct put that overflows names the table */
	MDB_txn *txn;
	struct fill f = { t, 100000, 0 };
	assert_int_equal(st_begin(env, 0, &txn, NULL), 0);
	rc = fill_fn(txn, &f, &e);
	st_abort(txn);
	assert_int_equal(rc, MDB_MAP_FULL);
	assert_non_null(strstr(e.text, "table capped: put"));
	st_close(env);
	rmtree(dir);
}

static void
test_read_only_sees_growth_by_other_process(void **state)
{
	(void)state;
	char *dir = tmpdir();
	st_env *env = open_env(dir, 256 << 10, 0, 0);
	MDB_dbi t = open_table(env, "shared");
	struct fill f = { t, 0, 0 };
	assert_int_equal(st_write(env, fill_fn, &f, NULL), 0);
	st_close(env);

	st_env *ro = open_env(dir, 0, 0, ST_RDONLY);
	MDB_txn *txn;
	MDB_dbi rt;
	assert_int_equal(st_begin(ro, 1, &txn, NULL), 0);
	assert_int_equal(st_table(txn, "shared", &rt, NULL), 0);
	assert_int_equal(st_commit(txn, NULL), 0);
	/* read-only: no write txn */
	st_err e = { { 0 } };
	assert_int_not_equal(st_begin(ro, 0, &txn, &e), 0);
	assert_non_null(strstr(e.text, "begin write txn"));

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) { /* writer grows the map well past the reader's size */
		st_env *w = NULL;
		st_opts o = { .map_size = 256 << 10 };
		if (st_open(&w, dir, &o, NULL))
			_exit(2);
		MDB_txn *wt;
		MDB_dbi wd;
		if (st_begin(w, 0, &wt, NULL) || st_table(wt, "shared", &wd, NULL) || st_commit(wt, NULL))
			_exit(3);
		for (uint64_t b = 100; b < 2000; b += 100) {
			struct fill wf = { wd, b, 0 };
			if (st_write(w, fill_fn, &wf, NULL))
				_exit(4);
		}
		st_close(w);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	assert_int_equal(st_begin(ro, 1, &txn, &e), 0);
	uint64_t n;
	assert_int_equal(st_count(txn, rt, &n, NULL), 0);
	assert_int_equal(n, 2000);
	uint8_t k[8];
	MDB_val v;
	st_key_u64(k, 1999);
	assert_int_equal(st_get(txn, rt, k, 8, &v, NULL), 0);
	assert_int_equal(((uint8_t *)v.mv_data)[0], 1999 & 0xff);
	st_abort(txn);
	st_close(ro);
	rmtree(dir);
}

/* Pages freed by earlier commits are reused: rewriting the same 1 MiB of values 40 times keeps the
 * file near its live size. The check at open (a child walking every table) once left its read
 * txn's slot behind under our pid, which pinned the snapshot of the open: nothing was reused
 * and the file grew by every page ever written (40 MiB here). */
static void
test_freed_pages_are_reused_after_open(void **state)
{
	(void)state;
	char *d = tmpdir();
	st_env *env = open_env(d, 256 << 20, 0, 0);
	(void)open_table(env, "t");
	st_close(env);
	env = open_env(d, 256 << 20, 0, 0); /* reopen: the check walks an existing store */
	MDB_dbi t = open_table(env, "t");
	static uint8_t val[1024];
	for (int round = 0; round < 40; round++) {
		MDB_txn *txn;
		assert_int_equal(st_begin(env, 0, &txn, NULL), 0);
		memset(val, round, sizeof val);
		for (uint64_t k = 0; k < 1024; k++) {
			uint8_t key[8];
			st_key_u64(key, k);
			assert_int_equal(st_put(txn, t, key, 8, val, sizeof val, NULL), 0);
		}
		assert_int_equal(st_commit(txn, NULL), 0);
	}
	MDB_envinfo info;
	assert_int_equal(mdb_env_info(st_mdb(env), &info), 0);
	st_close(env);
	/* ~1.3 MiB live (1024 values of 1 KiB, 4 per page... plus branches), twice that while a commit
	 * rewrites it: 8 MiB is generous; without reuse it is > 40 MiB */
	if ((info.me_last_pgno + 1) * 4096ull > (8u << 20))
		fail_msg("the file grew to %llu pages: freed pages are not reused",
		         (unsigned long long)info.me_last_pgno + 1);
	rmtree(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_creates_private_dir),
		cmocka_unit_test(test_put_get_del),
		cmocka_unit_test(test_u64_keys_iterate_in_numeric_order),
		cmocka_unit_test(test_map_grows_on_map_full),
		cmocka_unit_test(test_map_full_at_cap_is_a_clear_error),
		cmocka_unit_test(test_read_only_sees_growth_by_other_process),
		cmocka_unit_test(test_freed_pages_are_reused_after_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
