/*
 * signer_bench - signed update transactions per second through the signer's own path (policy,
 * ABI, RLP, keccak, secp256k1 signing, durable nonce + signed tx + dedupe + outbox in LMDB with
 * full fsync, group commit per batch) against raw secp256k1_ecdsa_sign_recoverable in the same
 * run. Reports ratios, never pass/fail on time. Also reports this process's peak RSS.
 *
 * Linked with the signer's own objects (the Makefile does that for a bench in an actor's folder).
 */
#include "actors/signer/call.h"
#include "actors/signer/policy.h"
#include "actors/signer/signer.h"
#include "base/rt_config.h"
#include "base/rt_main.h"
#include "base/secp.h"
#include "store/store.h"

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *BENCH_KEY = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"; /* anvil #1 */

/* Seconds on the monotonic clock (base/rt_main.c). */
static double
bench_now(void)
{
	return (double)rt_mono_ns() / 1e9;
}

static void
bench_nopub(void *arg, const uint8_t id[16], const uint8_t *body, size_t len)
{
	(void)id;
	(void)body;
	*(size_t *)arg += len;
}

static double
bench_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* every thread: the writer's too */
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Raw signing with the context the signer signs with (base/secp.h: created once, randomized). */
static double
bench_raw(uint64_t n, const uint8_t key[32])
{
	secp256k1_context *ctx = ob_secp();
	secp256k1_ecdsa_recoverable_signature sig;
	uint8_t h[32] = { 1 };
	double t0 = bench_now();
	for (uint64_t i = 0; i < n; i++) {
		memcpy(h, &i, sizeof i);
		if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, h, key, NULL, NULL))
			abort();
	}
	return (double)n / (bench_now() - t0);
}

static long
bench_rss_kib(const char *field)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, field, strlen(field)) == 0)
			v = strtol(line + strlen(field) + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

_Static_assert(sizeof(sc_nonce_sync) <= offsetof(sc_price_update, batch),
               "bench_fill clears what bench_open's sync set");

/* Fills items with the updates numbered from seq0 on (k of them). Only the single-feed fields are
 * cleared: the 64 batch entries (6 KiB an item) stay zero from calloc, as the bus decode leaves them
 * for a one-feed update; clearing them was the bench's own cost, not the signer's. */
static void
bench_fill(sg_item *items, size_t k, uint64_t seq0, const sgp_policy *pol)
{
	for (size_t i = 0; i < k; i++) {
		sg_item *it = &items[i];
		memset(it, 0, offsetof(sg_item, u) + offsetof(sc_price_update, batch));
		it->u.batch_count = 0;
		it->kind = SG_UPDATE;
		uint64_t seq = seq0 + i;
		/* as bus ids are: a random per-process prefix, then a big-endian counter */
		memcpy(it->msg_id, "\x5e\x17\x9a\x02\xc4\x7b\x11\xe0", 8);
		st_key_u64(it->msg_id + 8, seq);
		snprintf(it->u.feed, sizeof it->u.feed, "ETH-USD");
		u256_from_u64(&it->u.answer, 300000000000ull + (seq % 1000) * 100000);
		it->u.decimals = 8;
		it->u.chain_id = 138;
		memcpy(it->u.contract, pol->contracts[0], 20);
	}
}

static void
bench_check(const sg_result *res, size_t k)
{
	for (size_t i = 0; i < k; i++)
		if (res[i].status != SG_R_SIGNED)
			abort();
}

/* One signer core in a temp dir, driven batch by batch. */
typedef struct {
	sg *s;
	char dir[32];
	size_t batch;
	size_t grow; /* 0: groups of batch; else sg_group_more's max (groups close with the commit) */
	int pipelined;
	uint64_t groups; /* commits of signing batches (groups) */
	size_t max_group;
	uint64_t done; /* updates signed so far (= the next nonce) */
	size_t inflight;
	sg_item *items, *items2;
	sg_result *res, *res2;
	size_t bytes;
	sgp_policy pol;
	sgc_call call;
} bench_core;

static bench_core *
bench_open(size_t batch, size_t grow, const uint8_t key[32], int pipelined)
{
	bench_core *b = calloc(1, sizeof *b);
	char err[256];
	sg_cfg c;
	snprintf(b->dir, sizeof b->dir, "/tmp/signer_bench_XXXXXX");
	if (mkdtemp(b->dir) == NULL)
		abort();
	memset(&c, 0, sizeof c);
	b->pol.chain_id = 138;
	sgp_add_contract(&b->pol, "0x5fbdb2315678afecb367f032d93f642f64180aa3", err, sizeof err);
	sgp_set_bound(b->pol.min_answer, "1", "MIN", err, sizeof err);
	sgp_set_bound(b->pol.max_answer, "1000000", "MAX", err, sizeof err);
	b->pol.max_change_ppm = 100000;
	sgc_init(&b->call, "updateAnswer(int256)", err, sizeof err);
	c.chain_id = 138;
	c.gas_limit = 200000;
	c.policy = &b->pol;
	c.call = &b->call;
	u256_from_u64(&c.fees.max_gas_price, 1000000000000ull);
	c.retry_ns = 1000000000;
	c.retry_max_ns = 30000000000ull;
	c.map_size = 64u << 20;
	c.pipeline = pipelined;
	if ((b->s = sg_open(b->dir, &c, key, err, sizeof err)) == NULL) {
		fprintf(stderr, "sg_open: %s\n", err);
		exit(1);
	}
	b->batch = batch;
	b->grow = grow;
	b->pipelined = pipelined;
	size_t cap = grow > batch ? grow : batch;
	b->items = calloc(cap, sizeof *b->items);
	b->items2 = calloc(cap, sizeof *b->items2);
	b->res = calloc(cap, sizeof *b->res);
	b->res2 = calloc(cap, sizeof *b->res2);
	b->items[0].kind = SG_SYNC;
	b->items[0].s.chain_id = 138;
	memcpy(b->items[0].s.address, sg_address(b->s), 20);
	if (sg_process(b->s, b->items, 1, b->res, 1, bench_nopub, &b->bytes, err, sizeof err) != 0)
		abort();
	return b;
}

/* Receives the next group as the bus loop does (main.c): item by item, each signed ahead as it
 * comes, while sg_group_more says the group may take one more. The queue here is never empty (a
 * producer faster than the signer): the group closes when the commit in flight is done, or at
 * b->grow. */
static size_t
bench_grow(bench_core *b, uint64_t end)
{
	size_t k = 0;
	sg_presign(b->s, b->items2, 0);
	while (b->done + k < end && sg_group_more(b->s, k, b->batch, b->grow)) {
		bench_fill(b->items2 + k, 1, b->done + k + 1, &b->pol);
		sg_presign_add(b->s, b->items2 + k, 1);
		k++;
	}
	return k;
}

/* Signs n more updates (batches of b->batch, each one commit); returns the seconds it took. The
 * pipelined core is driven as the signer's bus loop drives it: sign the next batch ahead while the
 * one in flight commits, then complete that one (publish), then submit. */
static double
bench_run(bench_core *b, uint64_t n)
{
	char err[256];
	uint64_t end = b->done + n;
	double t0 = bench_now();
	while (b->done < end || b->inflight) {
		size_t k = b->done + b->batch <= end ? b->batch : end - b->done;
		if (!b->pipelined) {
			bench_fill(b->items, k, b->done + 1, &b->pol);
			if (sg_process(b->s, b->items, k, b->res, (uint64_t)time(NULL) * 1000000000ull, bench_nopub,
			               &b->bytes, err, sizeof err) != 0) {
				fprintf(stderr, "sg_process: %s\n", err);
				exit(1);
			}
			bench_check(b->res, k);
			b->done += k;
			b->groups++;
			continue;
		}
		if (b->grow) {
			k = bench_grow(b, end);
		} else {
			bench_fill(b->items2, k, b->done + 1, &b->pol);
			if (k)
				sg_presign(b->s, b->items2, k); /* overlaps the commit of the batch in flight */
		}
		if (sg_complete(b->s, bench_nopub, &b->bytes, err, sizeof err) != 0) {
			fprintf(stderr, "sg_complete: %s\n", err);
			exit(1);
		}
		bench_check(b->res, b->inflight);
		b->inflight = k;
		if (k == 0)
			break;
		sg_item *ti = b->items;
		b->items = b->items2;
		b->items2 = ti;
		sg_result *tr = b->res;
		b->res = b->res2;
		b->res2 = tr;
		if (sg_submit(b->s, b->items, k, b->res, (uint64_t)time(NULL) * 1000000000ull) != 0)
			abort();
		b->done += k;
		b->groups++;
		if (k > b->max_group)
			b->max_group = k;
	}
	return bench_now() - t0;
}

/* Share of the signatures taken from the memo (signed ahead). */
static double
bench_close(bench_core *b)
{
	char cmd[64];
	uint64_t hits, misses;
	sg_memo_stats(b->s, &hits, &misses);
	if (sg_next_nonce(b->s) != b->done)
		abort();
	sg_close(b->s);
	sgp_free(&b->pol);
	free(b->items);
	free(b->items2);
	free(b->res);
	free(b->res2);
	snprintf(cmd, sizeof cmd, "rm -rf %s", b->dir);
	if (system(cmd) != 0)
		perror("rm");
	free(b);
	return hits + misses ? (double)hits / (double)(hits + misses) : 0;
}

#define BENCH_ROUNDS_MAX 200

static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The variants run interleaved, a slice of each per round, so a machine whose load changes during
 * the run (the 2-core VM is shared) weighs on all of them alike; each rate is its total count over
 * its total time, and each ratio is against raw signing measured in the same rounds; the median of
 * the per-round ratios weighs less a round that a burst of other work hit. BENCH_N (20000)
 * transactions per variant, in BENCH_ROUNDS (10) slices. */
int
main(void)
{
	enum {
		V_RAW,
		V_G1,
		V_G128,
		V_G512,
		V_P128,
		V_P512,
		V_B128,
		V_N
	};
	static const size_t batch[V_N] = { 0, 1, 128, 512, 128, 512, 128 };
	static const size_t grow[V_N] = { 0, 1024, 1024, 1024, 0, 0, 0 };
	static const int piped[V_N] = { 0, 1, 1, 1, 1, 1, 0 };
	static const char *const name[V_N] = {
		"",
		"pipelined, closes with the commit in flight, <= 1024 (BATCH_MAX=1)",
		"pipelined, 128, then grows while a commit is in flight, <= 1024 (default)",
		"pipelined, 512, then grows while a commit is in flight, <= 1024 (BATCH_MAX=512)",
		"pipelined, fixed groups of 128 (BATCH_GROW_MAX=128: the old default)",
		"pipelined, fixed groups of 512 (BATCH_MAX=512 BATCH_GROW_MAX=512)",
		"not pipelined, groups of 128",
	};
	uint8_t key[32];
	rt_parse_hex(BENCH_KEY, key, 32);
	uint64_t n = getenv("BENCH_N") ? strtoull(getenv("BENCH_N"), NULL, 10) : 20000;
	int rounds = getenv("BENCH_ROUNDS") ? atoi(getenv("BENCH_ROUNDS")) : 10;
	if (rounds < 1 || rounds > BENCH_ROUNDS_MAX)
		rounds = 10;
	uint64_t slice = n / rounds < 256 ? 256 : n / rounds;
	static double tr[V_N][BENCH_ROUNDS_MAX]; /* per round: each variant's time for the slice */
	bench_core *core[V_N] = { 0 };
	double t[V_N] = { 0 }, cpu[V_N] = { 0 }, hit[V_N] = { 0 };
	uint64_t cnt[V_N] = { 0 }, groups[V_N] = { 0 };
	size_t maxg[V_N] = { 0 };
	for (int v = 1; v < V_N; v++)
		core[v] = bench_open(batch[v], grow[v], key, piped[v]);
	bench_raw(2000, key); /* warm up */
	for (int r = 0; r < rounds; r++)
		for (int v = 0; v < V_N; v++) {
			uint64_t k = slice;
			double c0 = bench_cpu();
			tr[v][r] = v == V_RAW ? (double)k / bench_raw(k, key) : bench_run(core[v], k);
			t[v] += tr[v][r];
			cpu[v] += bench_cpu() - c0;
			cnt[v] += k;
		}
	for (int v = 1; v < V_N; v++) {
		groups[v] = core[v]->groups - 1; /* the first commit is bench_open's nonce.sync */
		maxg[v] = core[v]->max_group;
		hit[v] = bench_close(core[v]);
	}
	bench_core *one = bench_open(1, 0, key, 0);
	uint64_t n1 = n / 100 > 50 ? n / 100 : 50;
	double b1 = (double)n1 / bench_run(one, n1);
	bench_close(one);
	double base = (double)cnt[V_RAW] / t[V_RAW], craw = cpu[V_RAW] / cnt[V_RAW];
	printf("raw secp256k1_ecdsa_sign_recoverable %8.0f sig/s (baseline; %d rounds interleaved with the rest)\n",
	       base, rounds);
	printf("signer path, fsync'd group commit: ratio of raw signing (aim >= 0.8) over the whole run, median of "
	       "the rounds' ratios (each against the raw slice just before it), tx/s, mean and largest group, CPU per "
	       "tx / CPU per raw signature (all threads), signed ahead\n");
	for (int v = 1; v < V_N; v++) {
		double rate = (double)cnt[v] / t[v], rr[BENCH_ROUNDS_MAX];
		for (int r = 0; r < rounds; r++)
			rr[r] = tr[V_RAW][r] / tr[v][r]; /* the same count in each: raw time / path time */
		qsort(rr, (size_t)rounds, sizeof rr[0], bench_cmp);
		double med = rounds % 2 ? rr[rounds / 2] : (rr[rounds / 2 - 1] + rr[rounds / 2]) / 2;
		printf("  %-80s %5.2f %5.2f %7.0f %6.1f %5zu %5.2f %4.0f%%\n", name[v], rate / base, med, rate,
		       groups[v] ? (double)cnt[v] / (double)groups[v] : 0, maxg[v], cpu[v] / cnt[v] / craw,
		       hit[v] * 100);
	}
	printf("signer path, one fsync per tx          %10.0f tx/s  ratio %.3f\n", b1, b1 / base);
	printf("bench process RSS: peak %ld KiB, now %ld KiB\n", bench_rss_kib("VmHWM"), bench_rss_kib("VmRSS"));
	return 0;
}
