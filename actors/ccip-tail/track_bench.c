/*
 * track_bench - ccip-tail's tracking core at scale: synthetic decoded CCIP 1.6 events (a send, then a
 * commit of its sequence range, then a successful execution) for N messages (default 1,000,000)
 * applied with ct_apply, settled with ct_overdue + ct_settle and committed on the actor's real LMDB
 * store in a temporary directory, the publication queue drained after each commit as the actor's loop
 * does. Decoding is not in the path (ccip_bench measures it against ethers.js): this is facts ->
 * derived state -> publications, per message.
 *
 *   track_bench [N [PER_TXN]]     N messages (default 1000000, or $TRACK_BENCH_N), PER_TXN sends per
 *                                 write transaction (default 1000, a busy eth_getLogs range)
 *
 * Each transaction holds PER_TXN new sends, one commit report covering the sends of the transaction
 * before it, and the executions of the sends two transactions before: every message goes sent ->
 * committed -> executed_success, three state changes each, as on a healthy lane.
 *
 * Reports messages/s and µs per message (wall, and CPU from getrusage), and the process's private
 * memory (Private_Clean + Private_Dirty of /proc/self/smaps) split into the LMDB map (data.mdb: file
 * pages, page cache the kernel can drop and re-read) and the rest (heap, stacks, libraries' private
 * pages: what the process holds in RAM by itself), at 10 % of N and at N. The per-message growth of the
 * rest between those two points is the number that must stay ~0 (bounded memory: state is in LMDB).
 * Exits 1 if it is above 64 bytes per message, or a message did not end executed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "actors/ccip-tail/track.h"
#include "base/rt_main.h"
#include "schemas/schema.h"
#include "store/store.h"

#define SRC        5009297550715157269ULL /* source chain selector (Ethereum mainnet's) */
#define DST        138ULL                 /* our chain */
#define GROWTH_MAX 64.0                   /* bytes of private non-LMDB memory per message, at most */

static ct_event ev; /* ~1.2 KiB of return data: static, as in the actor's decoder */

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "track_bench: %s: %s\n", what, why);
	exit(1);
}

/* Seconds on the monotonic clock (base/rt_main.c). */
static double
mono_s(void)
{
	return (double)rt_mono_ns() / 1e9;
}

static double
cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* Private KiB (Private_Clean + Private_Dirty) of the LMDB map and of everything else. */
static void
private_kib(long *lmdb, long *rest)
{
	char line[512];
	int in_map = 0;
	FILE *f = fopen("/proc/self/smaps", "r");
	*lmdb = *rest = 0;
	if (f == NULL)
		die("/proc/self/smaps", strerror(errno));
	while (fgets(line, sizeof line, f)) {
		long v;
		char name[64];
		const char *dash = strchr(line, '-'), *sp = strchr(line, ' ');
		if (dash && sp && dash < sp) { /* a mapping's header: "start-end perms offset dev inode [path]" */
			in_map = strstr(line, "/data.mdb") != NULL;
			continue;
		}
		if (sscanf(line, "%63[^:]: %ld kB", name, &v) == 2 &&
		    (strcmp(name, "Private_Clean") == 0 || strcmp(name, "Private_Dirty") == 0))
			*(in_map ? lmdb : rest) += v;
	}
	fclose(f);
}

static void
id_of(uint64_t n, uint8_t id[32])
{
	memset(id, 0, 32);
	id[0] = 0xcc;
	for (int k = 0; k < 8; k++)
		id[31 - k] = (uint8_t)(n >> (8 * k));
}

static void
at(sc_ccip_msg *m, uint64_t block, uint64_t log, uint64_t now_ns)
{
	m->block_number = block;
	m->log_index = log;
	memset(m->block_hash, (int)(block & 0xff), 32);
	m->block_hash[0] = (uint8_t)(block >> 8);
	memset(m->tx_hash, (int)((block + log) & 0xff), 32);
	m->tx_hash[1] = (uint8_t)(log >> 8);
	m->observed_at_ns = now_ns;
}

/* seq n (1-based) of the lane: the send of message n */
static const ct_event *
ev_send(uint64_t n, uint64_t block, uint64_t now_ns)
{
	memset(&ev, 0, sizeof ev);
	ev.kind = CT_SEND;
	sc_ccip_msg *m = &ev.msg;
	id_of(n, m->message_id);
	m->state = SC_CCIP_SENT;
	m->ccip_version = SC_CCIP_V1_6;
	m->source_chain_selector = SRC;
	m->dest_chain_selector = DST;
	m->sequence_number = n;
	m->nonce = n;
	m->sender_len = 20;
	memset(m->sender, 0x5e, 20);
	m->receiver_len = 20;
	memset(m->receiver, 0x7e, 20);
	memset(m->fee_token, 0xfe, 20);
	m->fee_amount.w[0] = 1000000 + n;
	m->token_amounts_count = 1;
	memset(m->token_amounts[0].token, 0x70, 20);
	m->token_amounts[0].amount.w[0] = n;
	m->data_len = 64;
	memset(m->data_hash, (int)(n & 0xff), 32);
	memset(m->contract, 0xa1, 20); /* the OnRamp */
	at(m, block, n % 1000, now_ns);
	m->block_time_s = now_ns / 1000000000u;
	return &ev;
}

static const ct_event *
ev_commit(uint64_t min, uint64_t max, uint64_t block, uint64_t now_ns)
{
	memset(&ev, 0, sizeof ev);
	ev.kind = CT_COMMIT;
	ev.msg.dest_chain_selector = DST;
	memset(ev.msg.contract, 0xb2, 20); /* the OffRamp */
	at(&ev.msg, block, 5000, now_ns);
	ev.msg.block_time_s = now_ns / 1000000000u;
	ev.nroots = 1;
	ev.roots[0].source_selector = SRC;
	ev.roots[0].min_seq = min;
	ev.roots[0].max_seq = max;
	ev.roots[0].onramp_len = 20;
	memset(ev.roots[0].onramp, 0xa1, 20);
	memset(ev.roots[0].root, (int)(max & 0xff), 32);
	return &ev;
}

static const ct_event *
ev_exec(uint64_t n, uint64_t block, uint64_t now_ns)
{
	memset(&ev, 0, sizeof ev);
	ev.kind = CT_EXEC;
	ev.exec_state = CT_EX_SUCCESS;
	id_of(n, ev.msg.message_id);
	ev.msg.sequence_number = n;
	ev.msg.source_chain_selector = SRC;
	ev.msg.dest_chain_selector = DST;
	memset(ev.msg.contract, 0xb2, 20);
	at(&ev.msg, block, 6000 + n % 1000, now_ns);
	ev.msg.block_time_s = now_ns / 1000000000u;
	return &ev;
}

typedef struct {
	st_env *env;
	ct_track *t;
	uint64_t changes, pubs;
} bench;

/* One write transaction: the sends of batch b, the commit of batch b-1, the executions of batch b-2;
 * then deadlines, settle, cursor, commit; then the publication queue drained (the actor publishes it). */
static void
batch(bench *B, uint64_t b, uint64_t per, uint64_t nbatches)
{
	MDB_txn *txn;
	st_err e;
	uint64_t now = rt_now_ns(), block = 1000 + b, ch = 0;
	uint8_t h[32];
	if (st_begin(B->env, 0, &txn, &e) != 0)
		die("begin", e.text);
	if (b < nbatches)
		for (uint64_t n = b * per + 1; n <= (b + 1) * per; n++)
			if (ct_apply(B->t, txn, SRC, ev_send(n, block, now), &e) != 0)
				die("ct_apply send", e.text);
	if (b >= 1 && b - 1 < nbatches &&
	    ct_apply(B->t, txn, DST, ev_commit((b - 1) * per + 1, b * per, block, now), &e) != 0)
		die("ct_apply commit", e.text);
	if (b >= 2 && b - 2 < nbatches)
		for (uint64_t n = (b - 2) * per + 1; n <= (b - 1) * per; n++)
			if (ct_apply(B->t, txn, DST, ev_exec(n, block, now), &e) != 0)
				die("ct_apply exec", e.text);
	memset(h, (int)(block & 0xff), 32);
	if (ct_cursor_put(B->t, txn, SRC, block, h, &e) != 0 || ct_overdue(B->t, txn, now / 1000000000u, &e) != 0 ||
	    ct_settle(B->t, txn, now, &ch, &e) != 0 || st_commit(txn, &e) != 0)
		die("settle", e.text);
	B->changes += ch;
	ct_pub p;
	uint64_t after = 0;
	if (st_begin(B->env, 0, &txn, &e) != 0)
		die("begin", e.text);
	while (ct_pub_next(B->t, txn, after, &p, &e) == 0) {
		after = p.seq;
		B->pubs++;
		if (ct_pub_del(B->t, txn, p.seq, &e) != 0)
			die("pub_del", e.text);
	}
	if (st_commit(txn, &e) != 0)
		die("commit", e.text);
}

int
main(int argc, char **argv)
{
	const char *envn = getenv("TRACK_BENCH_N");
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : envn && *envn ? strtoull(envn, NULL, 10) : 1000000;
	uint64_t per = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000;
	if (n < 10 * per || per == 0)
		die("usage", "track_bench [N [PER_TXN]] with N >= 10 x PER_TXN");
	n -= n % per;
	uint64_t nb = n / per, mark = nb / 10;
	char dir[64];
	snprintf(dir, sizeof dir, "/tmp/track_bench_XXXXXX");
	if (mkdtemp(dir) == NULL)
		die("mkdtemp", strerror(errno));
	bench B = { 0 };
	st_err e;
	/* the actor's options: LMDB_MAP_SIZE's default, grown by st_write/st_grow as needed: here a large
	 * sparse map up front (only used pages take disk and page cache) */
	st_opts so = { .map_size = 16ull << 30, .max_tables = 20 };
	ct_track_cfg tc = { .overdue_after_s = 3 * 3600, .commit_overdue_after_s = 3600 };
	if (st_open(&B.env, dir, &so, &e) != 0 || ct_track_open(B.env, &tc, &B.t, &e) != 0)
		die("lmdb", e.text);

	long l0, r0, l1 = 0, r1 = 0, l2, r2;
	private_kib(&l0, &r0);
	double t0 = mono_s(), c0 = cpu_s(), t1 = 0, c1 = 0;
	for (uint64_t b = 0; b < nb + 2; b++) {
		batch(&B, b, per, nb);
		if (b + 1 == mark) {
			private_kib(&l1, &r1);
			t1 = mono_s();
			c1 = cpu_s();
		}
	}
	double dt = mono_s() - t0, dc = cpu_s() - c0;
	private_kib(&l2, &r2);

	/* every message must have ended executed_success; nothing left to publish */
	MDB_txn *txn;
	uint64_t tracked = 0, pubs = 0, raw = 0;
	uint8_t id[32];
	int bad = 0;
	if (st_begin(B.env, 1, &txn, &e) != 0 || ct_counts(B.t, txn, &tracked, &pubs, &raw, &e) != 0)
		die("counts", e.text);
	for (uint64_t k = 1; k <= n; k += n / 97 + 1) {
		id_of(k, id);
		if (ct_state_of(B.t, txn, id) != SC_CCIP_EXECUTED_SUCCESS)
			bad++;
	}
	st_abort(txn);
	char p[96];
	long dbsz = 0;
	FILE *f;
	snprintf(p, sizeof p, "%s/data.mdb", dir);
	if ((f = fopen(p, "rb")) != NULL) {
		fseek(f, 0, SEEK_END);
		dbsz = ftell(f);
		fclose(f);
	}
	ct_track_close(B.t);
	st_close(B.env);
	if (getenv("TRACK_BENCH_KEEP"))
		printf("  store kept in %s\n", dir);
	else
		unlink(p);
	snprintf(p, sizeof p, "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);

	double rate = n / dt, late_rate = (double)(n - mark * per) / (dt - (t1 - t0));
	double growth = (double)(r2 - r1) * 1024.0 / (double)(n - mark * per);
	printf("ccip-tail tracking core, %llu messages (sent -> committed -> executed, %llu sends per txn, fsync per "
	       "txn), %llu state changes published, db %.0f MiB\n",
	       (unsigned long long)tracked, (unsigned long long)per, (unsigned long long)B.pubs, dbsz / 1048576.0);
	printf("  ingest: %.0f messages/s (%.1f us/message wall, %.1f us CPU; %.0f messages/s over the last 90 %%: "
	       "%.1f us CPU/message)\n",
	       rate, dt * 1e6 / n, dc * 1e6 / n, late_rate, (dc - (c1 - c0)) * 1e6 / (double)(n - mark * per));
	printf("  private memory: start %.1f MiB, at %llu messages %.1f MiB, at %llu %.1f MiB (outside the LMDB map); "
	       "LMDB map pages (file-backed) %.0f -> %.0f MiB\n",
	       r0 / 1024.0, (unsigned long long)(mark * per), r1 / 1024.0, (unsigned long long)n, r2 / 1024.0,
	       l1 / 1024.0, l2 / 1024.0);
	printf("  private memory growth outside LMDB: %.2f bytes/message (aim ~0, fails above %.0f)\n", growth,
	       GROWTH_MAX);
	if (bad || pubs || tracked != n) {
		printf("FAIL: %d sampled messages not executed_success, %llu publications left, %llu tracked\n", bad,
		       (unsigned long long)pubs, (unsigned long long)tracked);
		return 1;
	}
	if (growth > GROWTH_MAX) {
		printf("FAIL: memory grows with the messages tracked\n");
		return 1;
	}
	return 0;
}
