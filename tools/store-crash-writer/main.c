/*
 * store-crash-writer - the writer half of the store's crash-consistency test
 * (tests/integration/store_crash.sh kills it with SIGKILL at random moments, then checks).
 *
 *   store-crash-writer write DIR PROGRESS [--broken]   loop forever doing write txns
 *   store-crash-writer check DIR PROGRESS [MIN]        verify the invariants; print the counter
 *
 * Each write txn keeps an invariant across several tables: meta.counter is the sum of the ledger
 * entries (each a random increment plus a padding whose bytes are a known pattern, so torn or
 * stale pages would show), meta.n is the number of ledger entries, the outbox holds exactly the
 * entries of the last 10 increments (each one put in the txn of its increment, the one 10 back
 * acked in it), and the dedupe set has seen every increment's id. After mdb_txn_commit returns,
 * the writer records the counter in PROGRESS: check then requires counter >= that value
 * (committed means durable) and >= MIN (the counter never goes backwards across kills).
 *
 * --broken splits each increment into two commits (counter first, ledger later) so that a kill
 * between them breaks the invariant: the test runs it to prove that check can fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/rt_version.h"
#include "store/dedupe.h"
#include "store/outbox.h"
#include "store/store.h"

#define CW_OUTBOX_KEEP 10
#define CW_PAD_MAX     3000

typedef struct {
	st_env *env;
	MDB_dbi meta, ledger;
	ob_box *ob;
	dd_set *dd;
	uint64_t rng;
} cw;

static uint64_t
cw_rand(cw *w)
{
	w->rng ^= w->rng << 13, w->rng ^= w->rng >> 7, w->rng ^= w->rng << 17;
	return w->rng;
}

static void
cw_id(uint8_t id[OB_ID_LEN], uint64_t seq)
{
	memset(id, 0x5A, OB_ID_LEN);
	st_key_u64(id + 8, seq);
}

static uint8_t
cw_pad_byte(uint64_t seq, size_t j)
{
	return (uint8_t)(seq * 31 + j);
}

static int
cw_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *v, st_err *e)
{
	MDB_val val;
	int rc = st_get(txn, dbi, key, strlen(key), &val, e);
	*v = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc == 0 && val.mv_size == 8)
		*v = st_u64_at(val.mv_data);
	return rc;
}

static int
cw_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t v, st_err *e)
{
	uint8_t b[8];
	st_key_u64(b, v);
	return st_put(txn, dbi, key, strlen(key), b, 8, e);
}

static int
cw_open(cw *w, const char *dir, st_err *e)
{
	st_opts o = { .map_size = 256 << 10, .max_tables = 8 }; /* small: growth happens under kills */
	int rc = st_open(&w->env, dir, &o, e);
	if (rc)
		return rc;
	MDB_txn *txn;
	if ((rc = st_begin(w->env, 0, &txn, e)) != 0)
		return rc;
	if ((rc = st_table(txn, "meta", &w->meta, e)) || (rc = st_table(txn, "ledger", &w->ledger, e)) ||
	    (rc = ob_open(txn, "out", NULL, &w->ob, e)) || (rc = dd_open(txn, "seen", &w->dd, e))) {
		st_abort(txn);
		return rc;
	}
	return st_commit(txn, e);
}

struct step {
	cw *w;
	int part;
	uint64_t k;
	size_t pad;
	uint64_t counter;
};

/* One increment (part 0), or in --broken mode only its counter (1) or only its ledger entry (2). */
static int
cw_step(MDB_txn *txn, void *arg, st_err *e)
{
	struct step *s = arg;
	cw *w = s->w;
	uint64_t counter, n;
	int rc;
	if ((rc = cw_get_u64(txn, w->meta, "counter", &counter, e)) || (rc = cw_get_u64(txn, w->meta, "n", &n, e)))
		return rc;
	if (s->part != 2) {
		counter += s->k;
		if ((rc = cw_put_u64(txn, w->meta, "counter", counter, e)))
			return rc;
	}
	s->counter = counter;
	if (s->part == 1)
		return 0;
	uint64_t seq = n + 1;
	uint8_t key[8], val[8 + CW_PAD_MAX], id[OB_ID_LEN];
	st_key_u64(key, seq);
	st_key_u64(val, s->k);
	for (size_t j = 0; j < s->pad; j++)
		val[8 + j] = cw_pad_byte(seq, j);
	if ((rc = st_put(txn, w->ledger, key, 8, val, 8 + s->pad, e)) || (rc = cw_put_u64(txn, w->meta, "n", seq, e)))
		return rc;
	cw_id(id, seq);
	uint8_t body[8];
	st_key_u64(body, counter);
	if ((rc = ob_put(txn, w->ob, id, "crash.test", "crash", body, 8, seq, e)))
		return rc;
	if (seq > CW_OUTBOX_KEEP) {
		cw_id(id, seq - CW_OUTBOX_KEEP);
		if ((rc = ob_ack(txn, w->ob, id, NULL, e)))
			return rc;
	}
	int seen;
	cw_id(id, seq);
	if ((rc = dd_seen(txn, w->dd, id, seq, &seen, e)))
		return rc;
	return seen ? EEXIST : 0;
}

static int
cw_write(const char *dir, const char *progress, int broken)
{
	cw w = { 0 };
	st_err e = { { 0 } };
	w.rng = (uint64_t)getpid() * 0x9E3779B97F4A7C15ull ^ (uint64_t)time(NULL);
	if (cw_open(&w, dir, &e)) {
		fprintf(stderr, "store-crash-writer: %s\n", e.text);
		return 2;
	}
	int fd = open(progress, O_WRONLY | O_CREAT, 0600);
	if (fd < 0) {
		perror(progress);
		return 2;
	}
	for (;;) {
		struct step s = { &w, broken ? 1 : 0, 1 + cw_rand(&w) % 5, cw_rand(&w) % CW_PAD_MAX, 0 };
		int rc = st_write(w.env, cw_step, &s, &e);
		if (rc == 0 && broken) {
			usleep(2000); /* widen the window a kill must hit */
			s.part = 2;
			rc = st_write(w.env, cw_step, &s, &e);
		}
		if (rc) {
			fprintf(stderr, "store-crash-writer: %s\n", e.text);
			return 2;
		}
		/* Only now is the counter known durable: report it (fixed width, one pwrite, so the
         * file always holds one whole number; the page cache keeps it across SIGKILL). */
		char line[32];
		snprintf(line, sizeof line, "%20" PRIu64 "\n", s.counter);
		if (pwrite(fd, line, 21, 0) != 21) {
			perror(progress);
			return 2;
		}
	}
}

static int
cw_check(const char *dir, const char *progress, uint64_t min)
{
	uint64_t reported = 0;
	FILE *pf = fopen(progress, "r");
	if (pf) {
		if (fscanf(pf, "%" SCNu64, &reported) != 1)
			reported = 0;
		fclose(pf);
	}
	if (access(dir, F_OK) != 0 && reported == 0 && min == 0) {
		printf("0\n"); /* killed before it created anything */
		return 0;
	}
	cw w = { 0 };
	st_err e = { { 0 } };
	if (cw_open(&w, dir, &e)) {
		fprintf(stderr, "check: open: %s\n", e.text);
		return 1;
	}
	MDB_txn *txn;
	if (st_begin(w.env, 1, &txn, &e)) {
		fprintf(stderr, "check: %s\n", e.text);
		return 1;
	}
	int bad = 0;
#define CW_EXPECT(cond, ...)                                                                                           \
	do {                                                                                                           \
		if (!(cond)) {                                                                                         \
			fprintf(stderr, "check: " __VA_ARGS__);                                                        \
			fputc('\n', stderr);                                                                           \
			bad = 1;                                                                                       \
		}                                                                                                      \
	} while (0)
	uint64_t counter, n, sum = 0, entries = 0, last = 0;
	cw_get_u64(txn, w.meta, "counter", &counter, &e);
	cw_get_u64(txn, w.meta, "n", &n, &e);
	st_iter it;
	MDB_val k, v;
	st_iter_open(&it, txn, w.ledger, NULL, 0, NULL, 0, &e);
	while (st_iter_next(&it, &k, &v, &e) == 0) {
		uint64_t seq = st_u64_at(k.mv_data);
		CW_EXPECT(seq == last + 1, "ledger gap: %" PRIu64 " after %" PRIu64, seq, last);
		last = seq;
		sum += st_u64_at(v.mv_data);
		entries++;
		const uint8_t *pad = (const uint8_t *)v.mv_data + 8;
		for (size_t j = 0; j + 8 < v.mv_size; j++)
			if (pad[j] != cw_pad_byte(seq, j)) {
				CW_EXPECT(0, "ledger %" PRIu64 ": padding byte %zu corrupt", seq, j);
				break;
			}
	}
	st_iter_close(&it);
	CW_EXPECT(sum == counter, "counter %" PRIu64 " != ledger sum %" PRIu64, counter, sum);
	CW_EXPECT(entries == n, "meta.n %" PRIu64 " != ledger entries %" PRIu64, n, entries);

	uint64_t obn = 0, due = 0, seen = 0;
	MDB_dbi due_dbi;
	ob_count(txn, w.ob, &obn, &e);
	st_table(txn, "out.due", &due_dbi, &e);
	st_count(txn, due_dbi, &due, &e);
	uint64_t want_ob = n < CW_OUTBOX_KEEP ? n : CW_OUTBOX_KEEP;
	CW_EXPECT(obn == want_ob, "outbox holds %" PRIu64 ", want %" PRIu64, obn, want_ob);
	CW_EXPECT(due == obn, "outbox due index %" PRIu64 " != entries %" PRIu64, due, obn);
	for (uint64_t seq = n - want_ob + 1; seq <= n && n; seq++) {
		uint8_t id[OB_ID_LEN];
		ob_msg m;
		cw_id(id, seq);
		CW_EXPECT(ob_get(txn, w.ob, id, &m, &e) == 0, "outbox entry %" PRIu64 " missing", seq);
	}
	if (n) {
		uint8_t id[OB_ID_LEN];
		ob_msg m;
		cw_id(id, n);
		if (ob_get(txn, w.ob, id, &m, &e) == 0)
			CW_EXPECT(m.body_len == 8 && st_u64_at(m.body) == counter,
			          "newest outbox entry does not carry the counter");
	}
	dd_count(txn, w.dd, &seen, &e);
	CW_EXPECT(seen == n, "dedupe saw %" PRIu64 " ids, want %" PRIu64, seen, n);
	CW_EXPECT(counter >= reported, "counter %" PRIu64 " < reported committed %" PRIu64, counter, reported);
	CW_EXPECT(counter >= min, "counter %" PRIu64 " went backwards from %" PRIu64, counter, min);
	st_abort(txn);
	ob_close(w.ob);
	dd_close(w.dd);
	st_close(w.env);
	printf("%" PRIu64 "\n", counter);
	return bad;
}

#define CW_USAGE                                                                                                       \
	"usage: store-crash-writer write DIR PROGRESS [--broken]\n"                                                    \
	"       store-crash-writer check DIR PROGRESS [MIN]\n"                                                         \
	"       store-crash-writer --help | --version\n"

int
main(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(CW_USAGE "The writer half of tests/integration/store_crash.sh (see main.c).\n", stdout);
		return RT_EXIT_OK;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		rt_version_print("store-crash-writer", stdout);
		return RT_EXIT_OK;
	}
	if (argc >= 4 && strcmp(argv[1], "write") == 0)
		return cw_write(argv[2], argv[3], argc > 4 && strcmp(argv[4], "--broken") == 0);
	if (argc >= 4 && strcmp(argv[1], "check") == 0)
		return cw_check(argv[2], argv[3], argc > 4 ? strtoull(argv[4], NULL, 10) : 0);
	fprintf(stderr, "store-crash-writer: %s %s\n" CW_USAGE,
	        argc > 1 ? "unknown command or arguments:" : "no command", argc > 1 ? argv[1] : "");
	return RT_EXIT_USAGE;
}
