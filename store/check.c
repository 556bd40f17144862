/*
 * check.c - refuse a damaged LMDB file before LMDB maps it (see st_check in store.h).
 *
 * LMDB trusts its file: a data.mdb cut short (a disk that filled, a careless copy) is mapped past
 * its end and the first read of a missing page kills the process with SIGBUS; garbage in a page
 * makes it follow wild pointers (SIGSEGV); an empty file is taken for a fresh store, silently
 * forgetting everything the actor had. Before opening, st_check reads the two meta pages (LMDB
 * 0.9's layout, pinned by the tests against files LMDB writes) and checks that the file holds them
 * and the current roots (not every page up to the last: LMDB leaves pages a transaction freed
 * before its commit unwritten); after opening, st_check_tree walks every table in a child process,
 * so a crash there (a page past the end: "truncated") becomes an error message here instead of the
 * actor's death.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* LMDB 0.9 meta page: the 16-byte page header, then MDB_meta. */
enum {
	CK_MAGIC = 0xBEEFC0DEu,
	CK_VERSION = 1,
	CK_OFF_MAGIC = 16,
	CK_OFF_VERSION = 20,
	CK_OFF_PSIZE = 40,      /* mm_dbs[FREE_DBI].md_pad holds the page size */
	CK_OFF_FREE_ROOT = 80,  /* mm_dbs[0].md_root */
	CK_OFF_MAIN_ROOT = 128, /* mm_dbs[1].md_root */
	CK_OFF_LAST_PG = 136,
	CK_OFF_TXNID = 144,
	CK_META_END = 152,
};

/* err->text is the message alone (no strerror suffix: the message says what is wrong). */
static int ck_fail(st_err *err, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int
ck_fail(st_err *err, int rc, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->text, sizeof err->text, fmt, ap);
		va_end(ap);
	}
	return rc;
}

typedef struct {
	int valid;
	uint32_t psize;
	uint64_t last_pg, txnid, roots[2];
	char why[96];
} ck_meta;

static uint32_t
ck_u32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}
static uint64_t
ck_u64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static void
ck_meta_read(const uint8_t *p, ck_meta *m)
{
	memset(m, 0, sizeof *m);
	if (ck_u32(p + CK_OFF_MAGIC) != CK_MAGIC) {
		snprintf(m->why, sizeof m->why, "no LMDB magic number");
		return;
	}
	if (ck_u32(p + CK_OFF_VERSION) != CK_VERSION) {
		snprintf(m->why, sizeof m->why, "LMDB format version %u, expected %u", ck_u32(p + CK_OFF_VERSION),
		         CK_VERSION);
		return;
	}
	m->psize = ck_u32(p + CK_OFF_PSIZE);
	if (m->psize < 512 || m->psize > 65536 || (m->psize & (m->psize - 1))) {
		snprintf(m->why, sizeof m->why, "page size %u is not a power of two in 512..65536", m->psize);
		return;
	}
	m->roots[0] = ck_u64(p + CK_OFF_FREE_ROOT);
	m->roots[1] = ck_u64(p + CK_OFF_MAIN_ROOT);
	m->last_pg = ck_u64(p + CK_OFF_LAST_PG);
	m->txnid = ck_u64(p + CK_OFF_TXNID);
	for (int i = 0; i < 2; i++)
		if (m->roots[i] != UINT64_MAX && m->roots[i] > m->last_pg) {
			snprintf(m->why, sizeof m->why, "root page %llu beyond the last page %llu",
			         (unsigned long long)m->roots[i], (unsigned long long)m->last_pg);
			return;
		}
	m->valid = 1;
}

int
st_check(const char *dir, st_err *err)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s/data.mdb", dir) >= (int)sizeof path)
		return ck_fail(err, ENAMETOOLONG, "env %s: path too long", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : ck_fail(err, errno, "env %s: open data.mdb", dir);
	struct stat sb;
	uint8_t page0[CK_META_END], page1[CK_META_END];
	ck_meta m0, m1;
	int rc = 0;
	if (fstat(fd, &sb) != 0) {
		rc = ck_fail(err, errno, "env %s: stat data.mdb", dir);
		goto out;
	}
	if (sb.st_size == 0) {
		rc = ck_fail(err, ST_ECORRUPT,
		             "%s/data.mdb is empty (0 bytes): the store was lost, not new; restore a backup "
		             "(mdb_copy) or remove the file to start afresh",
		             dir);
		goto out;
	}
	if (pread(fd, page0, sizeof page0, 0) != (ssize_t)sizeof page0) {
		rc = ck_fail(err, ST_ECORRUPT, "%s/data.mdb is %lld bytes, too short for an LMDB file", dir,
		             (long long)sb.st_size);
		goto out;
	}
	ck_meta_read(page0, &m0);
	uint32_t psize = m0.valid ? m0.psize : 4096;
	if (pread(fd, page1, sizeof page1, psize) != (ssize_t)sizeof page1)
		memset(page1, 0, sizeof page1);
	ck_meta_read(page1, &m1);
	if (!m0.valid && !m1.valid) {
		rc = ck_fail(err, ST_ECORRUPT, "%s/data.mdb is not an LMDB file (%s)", dir, m0.why);
		goto out;
	}
	const ck_meta *m = !m1.valid || (m0.valid && m0.txnid >= m1.txnid) ? &m0 : &m1;
	/* Not (last_pg + 1) pages: LMDB does not write the pages a transaction allocated and freed
	 * again before its commit (loose pages, handed to the free list), so a sound file may end
	 * before its last page (seen: 30 pages of 31, every table readable). The two meta pages and
	 * the roots must be there; a page missing deeper in a tree is found by st_check_tree's walk,
	 * which says "truncated" when the file is short. */
	uint64_t top = 1;
	for (int i = 0; i < 2; i++)
		if (m->roots[i] != UINT64_MAX && m->roots[i] > top)
			top = m->roots[i];
	uint64_t need = (top + 1) * (uint64_t)m->psize;
	if ((uint64_t)sb.st_size < need) {
		rc = ck_fail(err, ST_ECORRUPT,
		             "%s/data.mdb is truncated: %lld bytes, its last transaction's root needs %llu; "
		             "restore a backup (mdb_copy)",
		             dir, (long long)sb.st_size, (unsigned long long)need);
		goto out;
	}
out:
	close(fd);
	return rc;
}

/* In the child: read every key and value of every table in txn. 0 when all went well. */
static int
ck_walk_txn(MDB_env *env, MDB_txn *txn)
{
	MDB_dbi main_dbi;
	MDB_cursor *c;
	MDB_val k, v;
	if (mdb_dbi_open(txn, NULL, 0, &main_dbi) != 0 || mdb_cursor_open(txn, main_dbi, &c) != 0)
		return 3;
	volatile uint8_t sink = 0;
	int rc;
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		/* a named table is a key of the main table naming a sub-database */
		char name[512];
		MDB_dbi sub;
		MDB_cursor *sc;
		MDB_val sk, sv;
		if (k.mv_size == 0 || k.mv_size >= sizeof name)
			continue;
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = 0;
		if (memchr(name, 0, k.mv_size) || mdb_dbi_open(txn, name, 0, &sub) != 0)
			continue; /* a plain key of the main table */
		if (mdb_cursor_open(txn, sub, &sc) != 0)
			return 4;
		int src;
		while ((src = mdb_cursor_get(sc, &sk, &sv, MDB_NEXT)) == 0)
			for (size_t i = 0; i < sv.mv_size; i += 512) /* touch every page of the value */
				sink ^= ((const uint8_t *)sv.mv_data)[i];
		if (src != MDB_NOTFOUND)
			return 5;
		mdb_cursor_close(sc);
	}
	(void)sink;
	if (rc != MDB_NOTFOUND)
		return 6;
	/* The free list (LMDB's dbi 0): a write transaction takes pages from it, so a garbled one sends
     * the writer to pages past the file's end (SIGBUS) even when every table reads fine. Each record is
     * an ID list: a count, then that many page numbers, all within the file. */
	MDB_envinfo info;
	MDB_cursor *fc;
	if (mdb_env_info(env, &info) != 0 || mdb_cursor_open(txn, 0, &fc) != 0)
		return 7;
	while ((rc = mdb_cursor_get(fc, &k, &v, MDB_NEXT)) == 0) {
		const uint8_t *p = v.mv_data;
		uint64_t n, pg;
		if (v.mv_size < 8 || v.mv_size % 8)
			return 8;
		memcpy(&n, p, 8);
		if (n > v.mv_size / 8 - 1)
			return 8;
		for (uint64_t i = 1; i <= n; i++) {
			memcpy(&pg, p + 8 * i, 8);
			if (pg > info.me_last_pgno)
				return 8;
		}
	}
	return rc == MDB_NOTFOUND ? 0 : 7;
}

/* The walk's read txn is ended before the child exits: its reader slot lives in the shared lock
 * file under the PARENT's pid (LMDB records the env's opener), so a slot left behind would look
 * alive to mdb_reader_check for as long as the actor runs, pin the snapshot of the open and stop
 * LMDB from reusing any page freed after it: the file would grow by every page ever written. */
static int
ck_walk(MDB_env *env)
{
	MDB_txn *txn;
	if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0)
		return 3;
	int rc = ck_walk_txn(env, txn);
	mdb_txn_abort(txn);
	return rc;
}

int
st_check_tree(st_env *env, st_err *err)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return ck_fail(err, errno, "env %s: check: fork", st_dir(env));
	if (pid == 0) { /* a crash must kill the child as a signal, whatever handler the process has */
		signal(SIGBUS, SIG_DFL);
		signal(SIGSEGV, SIG_DFL);
		_exit(ck_walk(st_mdb(env)));
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return ck_fail(err, errno, "env %s: check: wait", st_dir(env));
	MDB_envinfo info;
	MDB_stat ms;
	struct stat sb;
	char path[4096];
	snprintf(path, sizeof path, "%s/data.mdb", st_dir(env));
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS && stat(path, &sb) == 0 &&
	    mdb_env_info(st_mdb(env), &info) == 0 && mdb_env_stat(st_mdb(env), &ms) == 0 &&
	    (uint64_t)sb.st_size < ((uint64_t)info.me_last_pgno + 1) * (uint64_t)ms.ms_psize)
		return ck_fail(err, ST_ECORRUPT,
		               "%s/data.mdb is truncated: %lld bytes, its tables read pages past the end; restore "
		               "a backup (mdb_copy)",
		               st_dir(env), (long long)sb.st_size);
	if (WIFSIGNALED(status))
		return ck_fail(err, ST_ECORRUPT,
		               "%s/data.mdb is corrupt: reading its tables crashed (%s); restore a backup "
		               "(mdb_copy) or move it away",
		               st_dir(env), strsignal(WTERMSIG(status)));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return ck_fail(err, ST_ECORRUPT, "%s/data.mdb is corrupt: its tables cannot be read (step %d)",
		               st_dir(env), WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}
