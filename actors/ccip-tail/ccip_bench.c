/*
 * ccip_bench - CCIP logs decoded and stored per second by ccip-tail's own path, from a recorded
 * eth_getLogs response (tests/bench/ccip_gen_logs.js writes it, with the CCIP_CONFIG of its chain), and
 * the memory of the process as the number of tracked messages grows. tests/bench/ccip_vs_ethers.sh runs
 * it next to the ethers.js baseline and prints the ratios; run alone it only reports its own numbers.
 *
 *   ccip_bench [LOGS.json CONFIG.json]          rates (default files: build/bench/ccip_logs_10k.json,
 *                                               build/bench/ccip_config.json; absent: says so, exits 0)
 *   ccip_bench --mem N LOGS.json CONFIG.json [LOGS_PER_RANGE]
 *                                               replays the response until N messages are tracked
 *                                               (fresh LMDB), then prints this process's memory; one
 *                                               write txn per range (default: the whole response)
 *
 * Rates (best of RUNS, each on a fresh LMDB env opened as the actor opens it, fsync on commit):
 *   track:  the response read as chain/rpc.c's rpc_call_raw reads it (rpc_parse_response_raw: js_validate
 *           + envelope, no tree), the pass ct_range_check makes (block fields of every log), ct_ingest
 *           (ct_log_from_js, ct_decode, ct_apply: the same function ct_poll calls) + cursor + ct_overdue +
 *           ct_settle + block-hash prune, all in ONE write transaction, committed: exactly what ct_poll does
 *           with one range once it has the response body.
 *   decode: rpc_parse_response_raw + ct_log_from_js + ct_decode of every log, nothing stored.
 * The clock is the real one, as in the actor: the recording is from 2025, so sends whose execution is on
 * another chain (not in this response) go overdue and queue alerts, as a catch-up would.
 *
 * Memory (--mem): each round is the response again, as one range, with every decoded event shifted to
 * new messages (message ids xor the round, sequence numbers and blocks + round * stride), applied with
 * ct_apply, settled and committed as above; the publication queue is then drained as the actor's loop
 * does after publishing. The JSON is read again per round (as each eth_getLogs is), so what stays in
 * RAM is one response at most plus LMDB's map, which is file-backed (its pages are clean file cache:
 * RssFile, not Private_Dirty).
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/rt_buf.h"
#include "actors/ccip-tail/decode.h"
#include "actors/ccip-tail/scan.h"
#include "actors/ccip-tail/track.h"
#include "base/rt_main.h"
#include "chain/rpc.h"
#include "store/store.h"

#define RUNS             5
#define SEQ_STRIDE       10000000ull
#define BLK_STRIDE       10000000ull
#define OVERDUE_S        (3 * 3600) /* the actor's defaults */
#define COMMIT_OVERDUE_S 3600

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "ccip_bench: %s: %s\n", what, why);
	exit(1);
}

/* The "result" array of a response, read as chain/rpc.c's rpc_call_raw reads one (the id is the
 * generator's 1). */
static js_val
load_logs(const char *buf, size_t len)
{
	js_val r;
	rpc_error e;
	if (rpc_parse_response_raw(buf, len, 1, &r, &e) != RPC_OK)
		die("json", e.msg);
	if (r.type != JS_ARRAY)
		die("json", "no result array");
	return r;
}

static void
load_chain(const char *path, ct_chain *c)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	ct_chain d;
	size_t n = 0;
	char err[256];
	if (j == NULL)
		die(path, je.text);
	memset(&d, 0, sizeof d);
	d.start_block = -1;
	d.max_range = 2000;
	if (ct_chains_from_json(j, &d, c, &n, err, sizeof err) != 0 || n != 1)
		die(path, n != 1 ? "want exactly one chain" : err);
	json_decref(j);
}

static uint64_t
peer_of(const ct_chain *c, const uint8_t a[20])
{
	for (size_t i = 0; i < c->nc; i++)
		if (memcmp(c->c[i].addr, a, 20) == 0)
			return c->c[i].peer;
	return 0;
}

typedef struct {
	char dir[64];
	ct_scan s;
} bench_db;

static void
db_open(bench_db *b, uint64_t map_size)
{
	st_err e;
	ct_track_cfg tc = { .overdue_after_s = OVERDUE_S, .commit_overdue_after_s = COMMIT_OVERDUE_S };
	st_opts so = { .map_size = map_size, .max_tables = 20 };
	snprintf(b->dir, sizeof b->dir, "/tmp/ccip_bench_XXXXXX");
	if (mkdtemp(b->dir) == NULL)
		die("mkdtemp", strerror(errno));
	memset(&b->s, 0, sizeof b->s);
	if (st_open(&b->s.env, b->dir, &so, &e) != 0 || ct_track_open(b->s.env, &tc, &b->s.t, &e) != 0)
		die("lmdb", e.text);
	if ((b->s.dec = ct_dec_new()) == NULL)
		die("ct_dec_new", "out of memory");
}

static uint64_t
db_size(const bench_db *b)
{
	char p[96];
	FILE *f;
	long n = 0;
	snprintf(p, sizeof p, "%s/data.mdb", b->dir);
	if ((f = fopen(p, "rb")) != NULL) {
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		fclose(f);
	}
	return (uint64_t)n;
}

static void
db_close(bench_db *b)
{
	char p[96];
	ct_dec_free(b->s.dec);
	ct_track_close(b->s.t);
	st_close(b->s.env);
	snprintf(p, sizeof p, "%s/data.mdb", b->dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/lock.mdb", b->dir);
	unlink(p);
	rmdir(b->dir);
}

/* The last log's block (number, hash): the range's end, for the cursor. Reads the block fields of
 * every log, as ct_range_check does before a range is applied (its "moved" check). */
static void
range_end(const js_val *logs, uint64_t *block, uint8_t hash[32])
{
	js_iter it;
	js_val j;
	int got = 0, has_time;
	js_iter_init(&it, logs);
	while (js_iter_next(&it, NULL, &j))
		got = ct_log_block_from_js(&j, block, hash, &has_time);
	if (got != 3)
		die("json", "last log unreadable");
}

/* What ct_poll does with one range after eth_getLogs: one write txn, committed. */
static int
apply_range(bench_db *b, ct_chain *c, const js_val *logs, uint64_t *changes, st_err *e)
{
	MDB_txn *txn;
	uint64_t to, now = rt_now_ns();
	uint8_t h[32];
	int rc;
	range_end(logs, &to, h);
	if ((rc = st_begin(b->s.env, 0, &txn, e)) != 0 || (rc = ct_ingest(&b->s, txn, c, logs, NULL, 0, now, e)) != 0 ||
	    (rc = ct_cursor_put(b->s.t, txn, c->selector, to, h, e)) != 0 ||
	    (rc = ct_overdue(b->s.t, txn, now / 1000000000u, e)) != 0 ||
	    (rc = ct_settle(b->s.t, txn, now, changes, e)) != 0 ||
	    (to > 4096 && (rc = ct_blocks_prune(b->s.t, txn, c->selector, to - 4096, e)) != 0)) {
		st_abort(txn);
		return rc;
	}
	return st_commit(txn, e);
}

/* ---- rates ------------------------------------------------------------------------------------- */

static void
bench_rates(const char *logs_path, const char *cfg_path)
{
	static ct_chain c[CT_MAX_CHAINS];
	static ct_event ev;
	size_t len;
	char *buf = rt_file_read(logs_path, &len);
	if (buf == NULL)
		die(logs_path, strerror(errno));
	load_chain(cfg_path, c);

	/* decode only */
	double best_dec = 1e9, best_parse = 1e9, best_abi = 1e9;
	size_t nlogs = 0;
	uint64_t kinds[4] = { 0 }, bad = 0;
	ct_dec *dec = ct_dec_new();
	for (int r = 0; r < RUNS + 1; r++) { /* the first is a warm-up */
		memset(kinds, 0, sizeof kinds);
		bad = 0;
		double t0 = now_s();
		js_val logs = load_logs(buf, len), j;
		js_iter it;
		double t1 = now_s();
		nlogs = 0;
		js_iter_init(&it, &logs);
		while (js_iter_next(&it, NULL, &j)) {
			ct_log lg;
			nlogs++;
			if (ct_log_from_js(dec, &j, &lg, NULL, 0) != 0 ||
			    ct_decode(dec, &lg, c->selector, peer_of(c, lg.address), &ev, NULL, 0) != CT_OK) {
				bad++;
				continue;
			}
			kinds[ev.kind]++;
		}
		double t2 = now_s();
		double dt = now_s() - t0;
		if (r > 0 && dt < best_dec)
			best_dec = dt;
		if (r > 0 && t2 - t1 < best_abi)
			best_abi = t2 - t1;
		if (r > 0 && dt - (t2 - t1) < best_parse)
			best_parse = dt - (t2 - t1);
	}
	ct_dec_free(dec);

	/* decode + track in LMDB, one fsync'd write transaction for the range */
	double best_trk = 1e9;
	uint64_t changes = 0, tracked = 0, pubs = 0, raw = 0, dbsz = 0;
	for (int r = 0; r < RUNS; r++) {
		bench_db b;
		st_err e;
		MDB_txn *txn;
		db_open(&b, 268435456); /* LMDB_MAP_SIZE's default */
		changes = 0;
		double t0 = now_s();
		js_val logs = load_logs(buf, len);
		int rc = apply_range(&b, c, &logs, &changes, &e);
		double dt = now_s() - t0;
		if (rc != 0)
			die("track", e.text);
		if (dt < best_trk)
			best_trk = dt;
		if (st_begin(b.s.env, 1, &txn, &e) != 0 || ct_counts(b.s.t, txn, &tracked, &pubs, &raw, &e) != 0)
			die("lmdb", e.text);
		st_abort(txn);
		dbsz = db_size(&b);
		db_close(&b);
	}
	free(buf);

	printf("recorded eth_getLogs response: %zu logs (%zu bytes): %llu sends, %llu executions, %llu commits, "
	       "%llu undecodable\n",
	       nlogs, len, (unsigned long long)kinds[CT_SEND], (unsigned long long)kinds[CT_EXEC],
	       (unsigned long long)kinds[CT_COMMIT], (unsigned long long)bad);
	printf("ccip-tail decode + track (LMDB, 1 txn, fsync)  %8.0f logs/s  (%.1f ms; %llu messages tracked, "
	       "%llu state changes queued, db %.1f MiB)\n",
	       nlogs / best_trk, best_trk * 1e3, (unsigned long long)tracked, (unsigned long long)pubs,
	       dbsz / 1048576.0);
	printf("ccip-tail decode only (JSON + ABI, no LMDB)     %8.0f logs/s  (%.1f ms)\n", nlogs / best_dec,
	       best_dec * 1e3);
	printf("  where the time goes: JSON validate + envelope (jscan) %.1f ms, log fields + hex + ABI decode %.1f ms "
	       "(%.0f logs/s), LMDB track + settle + commit %.1f ms\n",
	       best_parse * 1e3, best_abi * 1e3, nlogs / best_abi, (best_trk - best_dec) * 1e3);
	(void)changes;
}

/* ---- memory ------------------------------------------------------------------------------------ */

static long
status_kib(const char *file, const char *field)
{
	char line[256];
	long v = -1;
	size_t fl = strlen(field);
	FILE *f = fopen(file, "r");
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, field, fl) == 0 && line[fl] == ':')
			v = strtol(line + fl + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static void
shift(ct_event *ev, uint64_t r)
{
	if (r == 0)
		return;
	ev->msg.block_number += r * BLK_STRIDE;
	if (ev->kind == CT_COMMIT) {
		for (unsigned k = 0; k < ev->nroots; k++) {
			ev->roots[k].min_seq += r * SEQ_STRIDE;
			ev->roots[k].max_seq += r * SEQ_STRIDE;
		}
		return;
	}
	for (int k = 0; k < 4; k++)
		ev->msg.message_id[k] ^= (uint8_t)(r >> (8 * k));
	if (!ev->from_router)
		ev->msg.sequence_number += r * SEQ_STRIDE;
}

static void
bench_mem(uint64_t want, const char *logs_path, const char *cfg_path, size_t per_range)
{
	static ct_chain c[CT_MAX_CHAINS];
	static ct_event ev;
	size_t len;
	char *buf = rt_file_read(logs_path, &len);
	bench_db b;
	st_err e;
	uint64_t tracked = 0, pubs = 0, raw = 0, nlogs = 0, round = 0, changes = 0, ranges = 0;
	if (buf == NULL)
		die(logs_path, strerror(errno));
	load_chain(cfg_path, c);
	db_open(&b, 8ull << 30); /* a file-backed map: only what is used takes disk and page cache */
	double t0 = now_s();
	for (round = 0; tracked < want; round++) {
		js_val logs = load_logs(buf, len), j;
		js_iter it;
		MDB_txn *txn = NULL;
		size_t i = 0, n = js_count(&logs);
		uint64_t now = rt_now_ns();
		js_iter_init(&it, &logs);
		for (; js_iter_next(&it, NULL, &j); i++) {
			ct_log lg;
			if (txn == NULL && st_begin(b.s.env, 0, &txn, &e) != 0)
				die("lmdb", e.text);
			if (ct_log_from_js(b.s.dec, &j, &lg, NULL, 0) != 0 ||
			    ct_decode(b.s.dec, &lg, c->selector, peer_of(c, lg.address), &ev, NULL, 0) != CT_OK)
				die("decode", "a log did not decode");
			ev.msg.observed_at_ns = now;
			shift(&ev, round);
			if (ct_apply(b.s.t, txn, c->selector, &ev, &e) != 0)
				die("ct_apply", e.text);
			nlogs++;
			if ((i + 1) % per_range != 0 && i + 1 != n)
				continue;
			/* the range ends at this log's block: cursor, deadlines, settle, commit */
			uint64_t ch = 0;
			if (ct_cursor_put(b.s.t, txn, c->selector, ev.msg.block_number, lg.block_hash, &e) != 0 ||
			    ct_overdue(b.s.t, txn, now / 1000000000u, &e) != 0 ||
			    ct_settle(b.s.t, txn, now, &ch, &e) != 0 || st_commit(txn, &e) != 0)
				die("lmdb", e.text);
			changes += ch;
			ranges++;
			/* the actor's loop: publish the queue, delete what went out */
			ct_pub p;
			uint64_t after = 0;
			if (st_begin(b.s.env, 0, &txn, &e) != 0)
				die("lmdb", e.text);
			while (ct_pub_next(b.s.t, txn, after, &p, &e) == 0) {
				after = p.seq;
				if (ct_pub_del(b.s.t, txn, p.seq, &e) != 0)
					die("lmdb", e.text);
			}
			if (st_commit(txn, &e) != 0)
				die("lmdb", e.text);
			txn = NULL;
		}
		if (st_begin(b.s.env, 1, &txn, &e) != 0 || ct_counts(b.s.t, txn, &tracked, &pubs, &raw, &e) != 0)
			die("lmdb", e.text);
		st_abort(txn);
	}
	double dt = now_s() - t0;
	long rss = status_kib("/proc/self/status", "VmRSS"), hwm = status_kib("/proc/self/status", "VmHWM");
	long anon = status_kib("/proc/self/status", "RssAnon"), file = status_kib("/proc/self/status", "RssFile");
	long pd = status_kib("/proc/self/smaps_rollup", "Private_Dirty");
	struct mallinfo2 mi = mallinfo2();
	printf("%7llu messages tracked (%llu logs in %llu ranges, %.0f logs/s, db %.0f MiB): VmRSS %ld KiB "
	       "(anon %ld, file %ld), Private_Dirty %ld KiB, malloc in use %zu KiB (free kept %zu), VmHWM %ld KiB\n",
	       (unsigned long long)tracked, (unsigned long long)nlogs, (unsigned long long)ranges, nlogs / dt,
	       db_size(&b) / 1048576.0, rss, anon, file, pd, (mi.uordblks + mi.hblkhd) / 1024, mi.fordblks / 1024, hwm);
	(void)changes;
	db_close(&b);
	free(buf);
}

int
main(int argc, char **argv)
{
	if ((argc == 5 || argc == 6) && strcmp(argv[1], "--mem") == 0) {
		size_t per = argc == 6 ? strtoull(argv[5], NULL, 10) : 0;
		bench_mem(strtoull(argv[2], NULL, 10), argv[3], argv[4], per ? per : SIZE_MAX);
		return 0;
	}
	const char *logs = argc >= 3 ? argv[1] : "build/bench/ccip_logs_10k.json";
	const char *cfg = argc >= 3 ? argv[2] : "build/bench/ccip_config.json";
	if (access(logs, R_OK) != 0 || access(cfg, R_OK) != 0) {
		printf("ccip_bench: no recorded response at %s: tests/bench/ccip_vs_ethers.sh generates it and runs "
		       "this bench against ethers.js\n",
		       logs);
		return 0;
	}
	bench_rates(logs, cfg);
	return 0;
}
