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
#include "store/store.h"

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *BENCH_KEY = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"; /* anvil #1 */

static double
bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
bench_nopub(void *arg, const uint8_t id[16], const uint8_t *body, size_t len)
{
	(void)id;
	(void)body;
	*(size_t *)arg += len;
}

static double
bench_raw(uint64_t n, const uint8_t key[32])
{
	secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_SIGN);
	secp256k1_ecdsa_recoverable_signature sig;
	uint8_t h[32] = { 1 };
	double t0 = bench_now();
	for (uint64_t i = 0; i < n; i++) {
		memcpy(h, &i, sizeof i);
		if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, h, key, NULL, NULL))
			abort();
	}
	double dt = bench_now() - t0;
	secp256k1_context_destroy(ctx);
	return (double)n / dt;
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

/* Fills items with the updates numbered from seq0 on (k of them). */
static void
bench_fill(sg_item *items, size_t k, uint64_t seq0, const sgp_policy *pol)
{
	for (size_t i = 0; i < k; i++) {
		sg_item *it = &items[i];
		memset(it, 0, offsetof(sg_item, u) + sizeof it->u);
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

static double bench_memo_hit;
static double bench_t_presign, bench_t_wait; /* share of signatures the last pipelined run took from sg_presign */

/* Signs n updates in batches of `batch`, each batch one commit. pipelined: the batch's commit runs
 * in the signer's writer thread while the next batch is signed ahead (sg_presign), the way the
 * signer's bus loop drives it. Returns tx/s. */
static double
bench_signer(uint64_t n, size_t batch, const uint8_t key[32], int pipelined)
{
	static sgp_policy pol;
	static sgc_call call;
	char dir[] = "/tmp/signer_bench_XXXXXX", err[256];
	sg_cfg c;
	size_t bytes = 0;

	if (mkdtemp(dir) == NULL)
		abort();
	memset(&pol, 0, sizeof pol);
	memset(&c, 0, sizeof c);
	pol.chain_id = 138;
	sgp_add_contract(&pol, "0x5fbdb2315678afecb367f032d93f642f64180aa3", err, sizeof err);
	sgp_set_bound(pol.min_answer, "1", "MIN", err, sizeof err);
	sgp_set_bound(pol.max_answer, "1000000", "MAX", err, sizeof err);
	pol.max_change_ppm = 100000;
	sgc_init(&call, "updateAnswer(int256)", err, sizeof err);
	c.chain_id = 138;
	c.gas_limit = 200000;
	c.policy = &pol;
	c.call = &call;
	u256_from_u64(&c.fees.max_gas_price, 1000000000000ull);
	c.retry_ns = 1000000000;
	c.retry_max_ns = 30000000000ull;
	c.map_size = 64u << 20;
	c.pipeline = pipelined;
	sg *s = sg_open(dir, &c, key, err, sizeof err);
	if (s == NULL) {
		fprintf(stderr, "sg_open: %s\n", err);
		exit(1);
	}
	sg_item *items = calloc(batch, sizeof *items), *items2 = calloc(batch, sizeof *items2);
	sg_result *res = calloc(batch, sizeof *res), *res2 = calloc(batch, sizeof *res2);
	items[0].kind = SG_SYNC;
	items[0].s.chain_id = 138;
	memcpy(items[0].s.address, sg_address(s), 20);
	if (sg_process(s, items, 1, res, 1, bench_nopub, &bytes, err, sizeof err) != 0)
		abort();
	double t0 = bench_now();
	uint64_t done = 0;
	if (pipelined) {
		size_t inflight = 0;
		while (done < n || inflight) {
			size_t k = done + batch <= n ? batch : n - done;
			bench_fill(items2, k, done + 1, &pol);
			double ta = bench_now();
			if (k)
				sg_presign(s, items2, k); /* overlaps the commit of the batch in flight */
			double tb = bench_now();
			bench_t_presign += tb - ta;
			int crv = sg_complete(s, bench_nopub, &bytes, err, sizeof err);
			bench_t_wait += bench_now() - tb;
			if (crv != 0) {
				fprintf(stderr, "sg_complete: %s\n", err);
				exit(1);
			}
			bench_check(res, inflight);
			inflight = k;
			if (k == 0)
				break;
			sg_item *ti = items;
			items = items2;
			items2 = ti;
			sg_result *tr = res;
			res = res2;
			res2 = tr;
			if (sg_submit(s, items, k, res, (uint64_t)time(NULL) * 1000000000ull) != 0)
				abort();
			done += k;
		}
		uint64_t hits, misses;
		sg_memo_stats(s, &hits, &misses);
		bench_memo_hit = hits + misses ? (double)hits / (double)(hits + misses) : 0;
	}
	while (done < n) {
		size_t k = done + batch <= n ? batch : n - done;
		bench_fill(items, k, done + 1, &pol);
		if (sg_process(s, items, k, res, (uint64_t)time(NULL) * 1000000000ull, bench_nopub, &bytes, err,
		               sizeof err) != 0) {
			fprintf(stderr, "sg_process: %s\n", err);
			exit(1);
		}
		bench_check(res, k);
		done += k;
	}
	double rate = (double)n / (bench_now() - t0);
	if (sg_next_nonce(s) != n)
		abort();
	sg_close(s);
	free(items);
	free(res);
	free(items2);
	free(res2);
	snprintf(err, sizeof err, "rm -rf %s", dir);
	if (system(err) != 0)
		perror("rm");
	return rate;
}

int
main(void)
{
	uint8_t key[32];
	rt_parse_hex(BENCH_KEY, key, 32);
	uint64_t n = getenv("BENCH_N") ? strtoull(getenv("BENCH_N"), NULL, 10) : 20000;
	bench_raw(2000, key); /* warm up */
	double raw = bench_raw(n, key);
	double p128 = bench_signer(n, 128, key, 1);
	double hit = bench_memo_hit;
	double p32 = bench_signer(n / 4, 32, key, 1);
	double b128 = bench_signer(n, 128, key, 0);
	double b32 = bench_signer(n / 4, 32, key, 0);
	double b1 = bench_signer(n / 100 > 50 ? n / 100 : 50, 1, key, 0);
	double raw2 = bench_raw(n, key); /* again, to see the machine's drift */
	double base = (raw + raw2) / 2;
	printf("raw secp256k1_ecdsa_sign_recoverable   %10.0f sig/s (baseline; %.0f and %.0f)\n", base, raw, raw2);
	printf("signer path, pipelined 128/fsync       %10.0f tx/s  ratio %.2f (aim >= 0.8; %.0f%% signed ahead)\n",
	       p128, p128 / base, hit * 100);
	printf("signer path, pipelined 32/fsync        %10.0f tx/s  ratio %.2f\n", p32, p32 / base);
	printf("signer path, group commit 128/fsync    %10.0f tx/s  ratio %.2f (not pipelined)\n", b128, b128 / base);
	printf("signer path, group commit 32/fsync     %10.0f tx/s  ratio %.2f\n", b32, b32 / base);
	printf("signer path, one fsync per tx          %10.0f tx/s  ratio %.3f\n", b1, b1 / base);
	if (getenv("BENCH_PROFILE"))
		printf("pipelined: presign %.3f s, waiting for commits %.3f s\n", bench_t_presign, bench_t_wait);
	printf("bench process RSS: peak %ld KiB, now %ld KiB\n", bench_rss_kib("VmHWM"), bench_rss_kib("VmRSS"));
	return 0;
}
