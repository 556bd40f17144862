/*
 * journal_test.c - busd's journal: batched append and flush, index continuing after reopen,
 * iteration by index and by time with a topic filter, retention by size and by age (with the
 * byte count checked against a full scan), clamped receive times, and a read-only reader in
 * another process that sees only committed batches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/journal.h"

typedef struct {
	char dir[64];
	st_env *env;
	jn *j;
} fx;

static const char *
topic_of(uint64_t i)
{
	return i % 3 == 0 ? "tx.signed" : "price.obs.ETH-USD";
}
static uint64_t
ts_of(uint64_t i)
{
	return 1000000 + i * 10;
}

/* A frame as busd sees it: topic, NUL, then (here) a fake envelope of varying length. */
static size_t
mkframe(uint8_t *buf, uint64_t i)
{
	const char *t = topic_of(i);
	size_t n = strlen(t) + 1;
	memcpy(buf, t, n);
	size_t body = 20 + i % 50;
	for (size_t k = 0; k < body; k++)
		buf[n + k] = (uint8_t)(i + k);
	return n + body;
}

static void
fx_open(fx *f, unsigned flags)
{
	st_err e = { { 0 } };
	st_opts o = { .map_size = 1 << 20, .flags = flags };
	assert_int_equal(st_open(&f->env, f->dir, &o, &e), 0);
	int rc = jn_open(f->env, "journal", &f->j, &e);
	if (rc)
		print_error("%s\n", e.text);
	assert_int_equal(rc, 0);
}

static void
fx_close(fx *f)
{
	assert_int_equal(jn_close(f->j, NULL), 0);
	st_close(f->env);
}

static int
setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	strcpy(f->dir, "/tmp/jn_test_XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	fx_open(f, ST_NOSYNC);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;
	fx_close(f);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(f);
	return rc;
}

/* Appends frames first..last (1-based indexes expected), flushing every 100. */
static void
append_range(fx *f, uint64_t first, uint64_t last)
{
	uint8_t buf[128];
	for (uint64_t i = first; i <= last; i++) {
		uint64_t idx = 0;
		size_t len = mkframe(buf, i);
		assert_int_equal(jn_append(f->j, ts_of(i), buf, len, &idx, NULL), 0);
		assert_true(idx == i);
		if (i % 100 == 0)
			assert_int_equal(jn_flush(f->j, NULL), 0);
	}
	assert_int_equal(jn_flush(f->j, NULL), 0);
}

static void
check_rec(const jn_rec *r)
{
	uint8_t buf[128];
	size_t len = mkframe(buf, r->index);
	assert_int_equal(r->len, len);
	assert_memory_equal(r->frame, buf, len);
	assert_true(r->ts_ns == ts_of(r->index));
}

static void
test_append_flush_reopen_continues(void **state)
{
	fx *f = *state;
	append_range(f, 1, 250);
	jn_stats_t s;
	assert_int_equal(jn_stats(f->j, NULL, &s, NULL), 0);
	assert_true(s.count == 250 && s.first_index == 1 && s.last_index == 250);
	assert_true(s.first_ns == ts_of(1) && s.last_ns == ts_of(250));
	uint64_t want_bytes = 0;
	uint8_t buf[128];
	for (uint64_t i = 1; i <= 250; i++)
		want_bytes += 8 + mkframe(buf, i);
	assert_true(s.bytes == want_bytes);

	/* an unflushed batch is invisible to readers, and jn_close flushes it */
	size_t len = mkframe(buf, 251);
	assert_int_equal(jn_append(f->j, ts_of(251), buf, len, NULL, NULL), 0);
	assert_int_equal(jn_pending(f->j), 1);
	assert_int_equal(jn_stats(f->j, NULL, &s, NULL), 0);
	assert_true(s.count == 250);
	fx_close(f);
	fx_open(f, ST_NOSYNC);
	assert_int_equal(jn_stats(f->j, NULL, &s, NULL), 0);
	assert_true(s.count == 251 && s.last_index == 251);
	append_range(f, 252, 300); /* indexes continue after the last key */
	assert_int_equal(jn_stats(f->j, NULL, &s, NULL), 0);
	assert_true(s.count == 300 && s.last_index == 300);
}

static void
test_iterate_by_index_and_topic(void **state)
{
	fx *f = *state;
	append_range(f, 1, 500);
	MDB_txn *txn;
	assert_int_equal(st_begin(f->env, 1, &txn, NULL), 0);
	jn_iter it;
	jn_rec r;
	int rc;
	uint64_t want = 10, n = 0;
	assert_int_equal(jn_iter_index(&it, f->j, txn, 10, 20, NULL, NULL), 0);
	while ((rc = jn_next(&it, &r, NULL)) == 0) {
		assert_true(r.index == want++);
		check_rec(&r);
		n++;
	}
	assert_int_equal(rc, MDB_NOTFOUND);
	assert_int_equal(n, 11);
	jn_iter_close(&it);

	/* topic filter over everything: exactly the indexes whose topic matches */
	uint64_t expect = 0;
	for (uint64_t i = 1; i <= 500; i++)
		expect += strncmp(topic_of(i), "tx.", 3) == 0;
	n = 0;
	assert_int_equal(jn_iter_index(&it, f->j, txn, 0, UINT64_MAX, "tx.", NULL), 0);
	while (jn_next(&it, &r, NULL) == 0) {
		assert_true(r.index % 3 == 0);
		check_rec(&r);
		n++;
	}
	jn_iter_close(&it);
	assert_true(n == expect);
	st_abort(txn);
}

static void
test_iterate_by_time(void **state)
{
	fx *f = *state;
	append_range(f, 1, 1000);
	MDB_txn *txn;
	assert_int_equal(st_begin(f->env, 1, &txn, NULL), 0);
	/* several windows, including ones falling between timestamps and beyond both ends */
	const uint64_t win[][2] = {
		{ ts_of(100), ts_of(200) }, { ts_of(100) + 5, ts_of(200) + 5 }, { 0, ts_of(3) },
		{ ts_of(999), UINT64_MAX }, { ts_of(2000), UINT64_MAX },        { ts_of(50), ts_of(50) }
	};
	for (size_t w = 0; w < sizeof win / sizeof win[0]; w++) {
		uint64_t first = 0, count = 0;
		for (uint64_t i = 1; i <= 1000; i++)
			if (ts_of(i) >= win[w][0] && ts_of(i) < win[w][1]) {
				if (!count)
					first = i;
				count++;
			}
		jn_iter it;
		jn_rec r;
		uint64_t n = 0;
		assert_int_equal(jn_iter_time(&it, f->j, txn, win[w][0], win[w][1], NULL, NULL), 0);
		while (jn_next(&it, &r, NULL) == 0) {
			assert_true(r.index == first + n);
			check_rec(&r);
			n++;
		}
		jn_iter_close(&it);
		assert_true(n == count);
	}
	/* time plus topic */
	jn_iter it;
	jn_rec r;
	uint64_t n = 0, expect = 0;
	for (uint64_t i = 1; i <= 1000; i++)
		expect += ts_of(i) >= ts_of(300) && ts_of(i) < ts_of(400) && topic_of(i)[0] == 'p';
	assert_int_equal(jn_iter_time(&it, f->j, txn, ts_of(300), ts_of(400), "price.obs.", NULL), 0);
	while (jn_next(&it, &r, NULL) == 0)
		n++;
	jn_iter_close(&it);
	assert_true(n == expect);
	st_abort(txn);
}

/* Sum of value sizes and entry count by a full scan: the independent truth for retention. */
static void
scan(fx *f, uint64_t *bytes, uint64_t *count, uint64_t *first)
{
	MDB_txn *txn;
	assert_int_equal(st_begin(f->env, 1, &txn, NULL), 0);
	jn_iter it;
	jn_rec r;
	*bytes = *count = *first = 0;
	assert_int_equal(jn_iter_index(&it, f->j, txn, 0, UINT64_MAX, NULL, NULL), 0);
	while (jn_next(&it, &r, NULL) == 0) {
		if (!*count)
			*first = r.index;
		*bytes += 8 + r.len;
		(*count)++;
	}
	jn_iter_close(&it);
	st_abort(txn);
}

static void
test_retention_by_size_and_age(void **state)
{
	fx *f = *state;
	append_range(f, 1, 30000); /* more than one retention batch of deletes */
	uint64_t bytes, count, first, removed;
	jn_stats_t s;
	scan(f, &bytes, &count, &first);
	assert_true(count == 30000);

	uint64_t limit = bytes / 3;
	assert_int_equal(jn_retain(f->j, limit, 0, 0, &removed, NULL), 0);
	uint64_t b2, c2, f2;
	scan(f, &b2, &c2, &f2);
	assert_true(b2 <= limit);
	assert_true(removed == 30000 - c2);
	assert_true(f2 == removed + 1); /* the oldest went first */
	uint8_t buf[128];
	assert_true(b2 + 8 + mkframe(buf, f2 - 1) > limit); /* and no more than needed */
	assert_int_equal(jn_stats(f->j, NULL, &s, NULL), 0);
	assert_true(s.bytes == b2 && s.count == c2 && s.first_index == f2);

	/* by age: at now = ts_of(29000), keep what is younger than 500 entries' worth of time */
	uint64_t now = ts_of(29000), age = ts_of(500) - ts_of(0);
	assert_int_equal(jn_retain(f->j, 0, age, now, &removed, NULL), 0);
	scan(f, &b2, &c2, &f2);
	assert_true(f2 == 28500); /* ts_of(28500) == now - age is kept: not older than the limit */
	assert_int_equal(jn_stats(f->j, NULL, &s, NULL), 0);
	assert_true(s.bytes == b2 && s.count == c2);
	/* nothing more to do */
	assert_int_equal(jn_retain(f->j, 0, age, now, &removed, NULL), 0);
	assert_true(removed == 0);

	/* reopen: bytes persisted, appends continue after the last index */
	fx_close(f);
	fx_open(f, ST_NOSYNC);
	assert_int_equal(jn_stats(f->j, NULL, &s, NULL), 0);
	assert_true(s.bytes == b2 && s.last_index == 30000);
	append_range(f, 30001, 30010);
	scan(f, &b2, &c2, &f2);
	assert_int_equal(jn_stats(f->j, NULL, &s, NULL), 0);
	assert_true(s.bytes == b2 && s.count == c2);
}

static void
test_clamped_time_and_map_growth(void **state)
{
	fx *f = *state;
	uint8_t big[4000];
	memset(big, 'x', sizeof big);
	memcpy(big, "blob\0", 5);
	uint64_t ts = 5000;
	/* 4 MB into a 1 MiB map: grows on the way, nothing is lost when flushed often */
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(jn_append(f->j, i == 500 ? 10 : ts + (uint64_t)i, big, sizeof big, NULL, NULL), 0);
		if (i % 16 == 15)
			assert_int_equal(jn_flush(f->j, NULL), 0);
	}
	assert_int_equal(jn_flush(f->j, NULL), 0);
	jn_stats_t s;
	assert_int_equal(jn_stats(f->j, NULL, &s, NULL), 0);
	assert_true(s.count + s.dropped == 1000);
	assert_true(s.count >= 990);
	MDB_envinfo info;
	mdb_env_info(st_mdb(f->env), &info);
	assert_true(info.me_mapsize > (1u << 20));
	/* the frame with a clock step back got the previous time */
	MDB_txn *txn;
	assert_int_equal(st_begin(f->env, 1, &txn, NULL), 0);
	jn_iter it;
	jn_rec r;
	uint64_t prev = 0;
	assert_int_equal(jn_iter_index(&it, f->j, txn, 0, UINT64_MAX, NULL, NULL), 0);
	while (jn_next(&it, &r, NULL) == 0) {
		assert_true(r.ts_ns >= prev);
		prev = r.ts_ns;
	}
	jn_iter_close(&it);
	st_abort(txn);
}

static void
test_map_full_drops_batch_and_continues(void **state)
{
	fx *f = *state;
	uint8_t big[4000];
	memset(big, 'y', sizeof big);
	memcpy(big, "blob\0", 5);
	/* one unflushed batch of 2.4 MB into a 1 MiB map: MAP_FULL must hit mid-batch */
	for (int i = 0; i < 600; i++)
		assert_int_equal(jn_append(f->j, 1000 + (uint64_t)i, big, sizeof big, NULL, NULL), 0);
	assert_int_equal(jn_flush(f->j, NULL), 0);
	jn_stats_t s;
	assert_int_equal(jn_stats(f->j, NULL, &s, NULL), 0);
	assert_true(s.dropped > 0);
	assert_true(s.count + s.dropped == 600);
	/* what survived is contiguous from index 1 and the byte count matches */
	assert_true(s.first_index == 1 && s.last_index == s.count);
	assert_true(s.bytes == s.count * (8 + sizeof big));
}

static void
test_reader_in_other_process(void **state)
{
	fx *f = *state;
	append_range(f, 1, 100);
	uint8_t buf[128];
	for (uint64_t i = 101; i <= 150; i++) /* an open, unflushed batch */
		assert_int_equal(jn_append(f->j, ts_of(i), buf, mkframe(buf, i), NULL, NULL), 0);
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		st_env *ro;
		jn *rj;
		st_opts o = { .flags = ST_RDONLY };
		jn_stats_t s = { 0 };
		if (st_open(&ro, f->dir, &o, NULL) == 0 && jn_open(ro, "journal", &rj, NULL) == 0) {
			jn_stats(rj, NULL, &s, NULL);
			/* appending is refused */
			if (jn_append(rj, 1, "x", 1, NULL, NULL) == 0)
				s.count = 9999;
		}
		ssize_t w = write(p[1], &s, sizeof s);
		_exit(w == sizeof s ? 0 : 1);
	}
	jn_stats_t s;
	assert_int_equal(read(p[0], &s, sizeof s), sizeof s);
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(s.count == 100 && s.last_index == 100);
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_flush_reopen_continues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iterate_by_index_and_topic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iterate_by_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_by_size_and_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clamped_time_and_map_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_full_drops_batch_and_continues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_in_other_process, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
