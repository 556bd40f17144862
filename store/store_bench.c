/*
 * store_bench.c - what durability costs: fully synced single-put commits (the baseline: one
 * fsync per commit, as nonces need) against group commit of 64 and 256 puts per txn, and busd's
 * journal appends (nosync env, flushed every 256 frames). Every number is reported as a ratio
 * against the baseline measured in this same run on this same disk; nothing passes or fails.
 * Set BENCH_DIR to choose the filesystem (default /var/tmp: a real disk, where fsync costs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/journal.h"
#include "store/store.h"

#define BENCH_SECONDS 1.0

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static _Noreturn void
die(const char *what, const st_err *e)
{
	fprintf(stderr, "store_bench: %s: %s\n", what, e->text);
	exit(1);
}

/* Puts per second with `batch` 200-byte puts per fully synced commit, run for ~BENCH_SECONDS. */
static double
bench_puts(st_env *env, MDB_dbi dbi, unsigned batch, uint64_t *key)
{
	uint8_t val[200];
	memset(val, 0xAB, sizeof val);
	st_err e = { { 0 } };
	uint64_t puts = 0;
	double t0 = now_s(), t;
	do {
		MDB_txn *txn;
		if (st_begin(env, 0, &txn, &e))
			die("begin", &e);
		for (unsigned i = 0; i < batch; i++) {
			uint8_t k[8];
			st_key_u64(k, (*key)++);
			if (st_put(txn, dbi, k, 8, val, sizeof val, &e))
				die("put", &e);
		}
		if (st_commit(txn, &e))
			die("commit", &e);
		puts += batch;
		t = now_s();
	} while (t - t0 < BENCH_SECONDS);
	return (double)puts / (t - t0);
}

static double
bench_journal(st_env *env, jn *j)
{
	uint8_t frame[200];
	memset(frame, 0x42, sizeof frame);
	memcpy(frame, "price.obs.ETH-USD", 18);
	st_err e = { { 0 } };
	uint64_t n = 0;
	double t0 = now_s(), t, last_sync = t0;
	do {
		for (int i = 0; i < 256; i++, n++)
			if (jn_append(j, (uint64_t)n * 1000, frame, sizeof frame, NULL, &e))
				die("journal append", &e);
		if (jn_flush(j, &e))
			die("journal flush", &e);
		t = now_s();
		if (t - last_sync > 0.25) { /* busd syncs about once a second; be stricter here */
			if (st_sync(env, &e))
				die("sync", &e);
			last_sync = t;
		}
	} while (t - t0 < BENCH_SECONDS);
	if (st_sync(env, &e))
		die("sync", &e);
	return (double)n / (now_s() - t0);
}

int
main(void)
{
	const char *base = getenv("BENCH_DIR") ? getenv("BENCH_DIR") : "/var/tmp";
	char dir[512], jdir[600], cmd[700];
	snprintf(dir, sizeof dir, "%s/store_bench_XXXXXX", base);
	if (!mkdtemp(dir)) {
		perror(dir);
		return 1;
	}
	snprintf(jdir, sizeof jdir, "%s/journal", dir);
	st_env *env;
	st_err e = { { 0 } };
	st_opts o = { .map_size = 1ull << 30 };
	if (st_open(&env, dir, &o, &e))
		die("open", &e);
	MDB_txn *txn;
	MDB_dbi dbi;
	if (st_begin(env, 0, &txn, &e) || st_table(txn, "bench", &dbi, &e) || st_commit(txn, &e))
		die("table", &e);

	uint64_t key = 0;
	double single = bench_puts(env, dbi, 1, &key);
	double b64 = bench_puts(env, dbi, 64, &key);
	double b256 = bench_puts(env, dbi, 256, &key);
	st_close(env);

	st_env *jenv;
	jn *j;
	st_opts jo = { .map_size = 1ull << 30, .flags = ST_NOSYNC };
	if (st_open(&jenv, jdir, &jo, &e) || jn_open(jenv, "journal", &j, &e))
		die("journal open", &e);
	double jr = bench_journal(jenv, j);
	if (jn_close(j, &e) != 0)
		die("journal close", &e);
	st_close(jenv);

	printf("store: durable commits on %s, 200-byte values, %.0f s each\n", base, BENCH_SECONDS);
	printf("  single put per synced commit (baseline) %10.0f puts/s  1.00x\n", single);
	printf("  group commit, 64 puts per txn           %10.0f puts/s  %.2fx\n", b64, b64 / single);
	printf("  group commit, 256 puts per txn          %10.0f puts/s  %.2fx\n", b256, b256 / single);
	printf("  journal append, 200-byte frames, nosync, flush/256, sync/0.25s %10.0f frames/s  %.2fx\n", jr,
	       jr / single);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
