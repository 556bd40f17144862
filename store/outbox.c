/*
 * outbox.c - the outbox of outbox.h: entries by id, plus a due index keyed by
 * (be64 next_due_ns, id) so a tick touches only what is due.
 *
 * Entry layout (version 1, big-endian):
 *   0 u8 version  1 u8 topic_len  2 u8 type_len  3 u8 error_len  4 u32 body_len
 *   8 u64 created_ns  16 u64 next_due_ns  24 u32 attempts  28 topic type error body
 */
#include "store/outbox.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OB_VERSION 1
#define OB_HDR     28
#define OB_DUE_KEY (8 + OB_ID_LEN)

struct ob_box {
	MDB_dbi entries, due;
	ob_backoff bo;
	char name[64];
};

static int
ob_fail(st_err *err, int rc, const ob_box *ob, const char *op)
{
	if (err)
		snprintf(err->text, sizeof err->text, "outbox %s: %s: %s", ob->name, op, ob_strerror(rc));
	return rc;
}

static void
ob_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}
static uint32_t
ob_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
ob_due_key(uint8_t key[OB_DUE_KEY], uint64_t due, const uint8_t id[OB_ID_LEN])
{
	st_key_u64(key, due);
	memcpy(key + 8, id, OB_ID_LEN);
}

int
ob_open(MDB_txn *txn, const char *name, const ob_backoff *backoff, ob_box **out, st_err *err)
{
	*out = NULL;
	ob_box *ob = calloc(1, sizeof *ob);
	if (!ob)
		return ENOMEM;
	snprintf(ob->name, sizeof ob->name, "%s", name);
	ob->bo = backoff ? *backoff : (ob_backoff){ 0 };
	if (!ob->bo.initial_ns)
		ob->bo.initial_ns = 1000000000ull;
	if (ob->bo.factor < 1.0)
		ob->bo.factor = 2.0;
	if (!ob->bo.max_ns)
		ob->bo.max_ns = 300ull * 1000000000ull;
	if (ob->bo.jitter < 0 || ob->bo.jitter > 1)
		ob->bo.jitter = 0;
	char due[80];
	snprintf(due, sizeof due, "%s.due", ob->name);
	int rc = st_table(txn, ob->name, &ob->entries, err);
	if (rc == 0)
		rc = st_table(txn, due, &ob->due, err);
	if (rc != 0) {
		free(ob);
		return rc;
	}
	*out = ob;
	return 0;
}

void
ob_close(ob_box *ob)
{
	free(ob);
}

/* splitmix64: a cheap, well-mixed hash so jitter differs per (id, attempt) yet is reproducible. */
static uint64_t
ob_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

uint64_t
ob_backoff_ns(const ob_box *ob, const uint8_t id[OB_ID_LEN], uint32_t attempts)
{
	if (attempts == 0)
		return 0;
	double d = (double)ob->bo.initial_ns * pow(ob->bo.factor, (double)(attempts - 1));
	if (d > (double)ob->bo.max_ns)
		d = (double)ob->bo.max_ns;
	if (ob->bo.jitter > 0) {
		uint64_t h = attempts;
		for (int i = 0; i < OB_ID_LEN; i += 8)
			h = ob_mix(h ^ st_u64_at(id + i));
		double u = (double)(h >> 11) / 9007199254740992.0; /* [0, 1) */
		d *= 1.0 + ob->bo.jitter * (2.0 * u - 1.0);
	}
	return (uint64_t)d;
}

/* Parses an entry value into borrowed views; ST_ESCHEMA if it is not a valid v1 entry. */
static int
ob_parse(const MDB_val *v, const uint8_t id[OB_ID_LEN], ob_msg *m)
{
	const uint8_t *p = v->mv_data;
	if (v->mv_size < OB_HDR || p[0] != OB_VERSION)
		return ST_ESCHEMA;
	size_t tl = p[1], yl = p[2], el = p[3], bl = ob_get32(p + 4);
	if (v->mv_size != OB_HDR + tl + yl + el + bl)
		return ST_ESCHEMA;
	memcpy(m->id, id, OB_ID_LEN);
	m->created_ns = st_u64_at(p + 8);
	m->next_due_ns = st_u64_at(p + 16);
	m->attempts = ob_get32(p + 24);
	m->topic = (const char *)p + OB_HDR, m->topic_len = tl;
	m->type = m->topic + tl, m->type_len = yl;
	m->last_error = m->type + yl, m->error_len = el;
	m->body = (const uint8_t *)m->last_error + el, m->body_len = bl;
	return 0;
}

/* Builds an entry value into a malloc'd buffer (caller frees). */
static uint8_t *
ob_build(const ob_msg *m, size_t *len)
{
	*len = OB_HDR + m->topic_len + m->type_len + m->error_len + m->body_len;
	uint8_t *b = malloc(*len), *p;
	if (!b)
		return NULL;
	b[0] = OB_VERSION;
	b[1] = (uint8_t)m->topic_len, b[2] = (uint8_t)m->type_len, b[3] = (uint8_t)m->error_len;
	ob_be32(b + 4, (uint32_t)m->body_len);
	st_key_u64(b + 8, m->created_ns);
	st_key_u64(b + 16, m->next_due_ns);
	ob_be32(b + 24, m->attempts);
	p = b + OB_HDR;
	memcpy(p, m->topic, m->topic_len), p += m->topic_len;
	memcpy(p, m->type, m->type_len), p += m->type_len;
	if (m->error_len)
		memcpy(p, m->last_error, m->error_len), p += m->error_len;
	if (m->body_len)
		memcpy(p, m->body, m->body_len);
	return b;
}

/* Writes the entry and its due key (the old due key, if any, is removed by the caller). */
static int
ob_store(MDB_txn *txn, ob_box *ob, const ob_msg *m, unsigned flags, st_err *err)
{
	size_t len;
	uint8_t *val = ob_build(m, &len);
	if (!val)
		return ob_fail(err, ENOMEM, ob, "put");
	MDB_val k = { OB_ID_LEN, (void *)m->id }, v = { len, val };
	int rc = mdb_put(txn, ob->entries, &k, &v, flags);
	free(val);
	if (rc != 0)
		return ob_fail(err, rc, ob, "put entry");
	uint8_t dk[OB_DUE_KEY];
	ob_due_key(dk, m->next_due_ns, m->id);
	MDB_val kd = { sizeof dk, dk }, vd = { 0, NULL };
	if ((rc = mdb_put(txn, ob->due, &kd, &vd, 0)) != 0)
		return ob_fail(err, rc, ob, "put due index");
	return 0;
}

/* A new entry created at now_ns, already sent `attempts` times, due at next_due_ns. */
static int
ob_put_as(MDB_txn *txn, ob_box *ob, const uint8_t id[OB_ID_LEN], const char *topic, const char *type, const void *body,
          size_t len, uint64_t now_ns, uint32_t attempts, uint64_t next_due_ns, st_err *err)
{
	size_t tl = strlen(topic), yl = strlen(type);
	if (tl > OB_TOPIC_MAX || yl > OB_TYPE_MAX || len > UINT32_MAX)
		return ob_fail(err, EINVAL, ob, "put (topic, type or body too long)");
	ob_msg m = { .topic = topic,
		     .topic_len = tl,
		     .type = type,
		     .type_len = yl,
		     .body = body,
		     .body_len = len,
		     .created_ns = now_ns,
		     .next_due_ns = next_due_ns,
		     .attempts = attempts };
	memcpy(m.id, id, OB_ID_LEN);
	return ob_store(txn, ob, &m, MDB_NOOVERWRITE, err);
}

int
ob_put(MDB_txn *txn, ob_box *ob, const uint8_t id[OB_ID_LEN], const char *topic, const char *type, const void *body,
       size_t len, uint64_t now_ns, st_err *err)
{
	return ob_put_as(txn, ob, id, topic, type, body, len, now_ns, 0, now_ns, err);
}

int
ob_put_sent(MDB_txn *txn, ob_box *ob, const uint8_t id[OB_ID_LEN], const char *topic, const char *type,
            const void *body, size_t len, uint64_t now_ns, st_err *err)
{
	/* What ob_mark_sent(now) after ob_put(now) leaves, written once instead of put, get, del, put. */
	return ob_put_as(txn, ob, id, topic, type, body, len, now_ns, 1, now_ns + ob_backoff_ns(ob, id, 1), err);
}

int
ob_get(MDB_txn *txn, ob_box *ob, const uint8_t id[OB_ID_LEN], ob_msg *m, st_err *err)
{
	MDB_val k = { OB_ID_LEN, (void *)id }, v;
	int rc = mdb_get(txn, ob->entries, &k, &v);
	if (rc == MDB_NOTFOUND)
		return rc;
	if (rc != 0)
		return ob_fail(err, rc, ob, "get");
	if ((rc = ob_parse(&v, id, m)) != 0)
		return ob_fail(err, rc, ob, "get");
	return 0;
}

long
ob_due(MDB_txn *txn, ob_box *ob, uint64_t now_ns, uint8_t (*ids)[OB_ID_LEN], size_t max, st_err *err)
{
	/* Upper bound (now + 1, zero id): every key with due <= now sorts before it. */
	uint8_t hi[8];
	st_key_u64(hi, now_ns + 1);
	st_iter it;
	int rc = st_iter_open(&it, txn, ob->due, NULL, 0, now_ns == UINT64_MAX ? NULL : hi, sizeof hi, err);
	if (rc != 0)
		return -1;
	size_t n = 0;
	MDB_val k, v;
	while (n < max && (rc = st_iter_next(&it, &k, &v, err)) == 0) {
		if (k.mv_size != OB_DUE_KEY)
			continue;
		memcpy(ids[n++], (uint8_t *)k.mv_data + 8, OB_ID_LEN);
	}
	st_iter_close(&it);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return -1;
	return (long)n;
}

int
ob_next_due(MDB_txn *txn, ob_box *ob, uint64_t *due_ns, st_err *err)
{
	st_iter it;
	MDB_val k, v;
	int rc = st_iter_open(&it, txn, ob->due, NULL, 0, NULL, 0, err);
	if (rc == 0 && (rc = st_iter_next(&it, &k, &v, err)) == 0)
		*due_ns = st_u64_at(k.mv_data);
	st_iter_close(&it);
	return rc;
}

int
ob_mark_sent(MDB_txn *txn, ob_box *ob, const uint8_t id[OB_ID_LEN], uint64_t now_ns, const char *last_error,
             st_err *err)
{
	ob_msg m;
	int rc = ob_get(txn, ob, id, &m, err);
	if (rc != 0)
		return rc;
	uint8_t dk[OB_DUE_KEY];
	ob_due_key(dk, m.next_due_ns, id);
	MDB_val kd = { sizeof dk, dk };
	rc = mdb_del(txn, ob->due, &kd, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return ob_fail(err, rc, ob, "mark sent: del due index");
	m.attempts++;
	m.next_due_ns = now_ns + ob_backoff_ns(ob, id, m.attempts);
	if (last_error) {
		m.last_error = last_error;
		m.error_len = strnlen(last_error, OB_ERROR_MAX);
	}
	/* m borrows the old value; ob_store builds the new one in its own buffer before mdb_put. */
	return ob_store(txn, ob, &m, 0, err);
}

int
ob_ack(MDB_txn *txn, ob_box *ob, const uint8_t id[OB_ID_LEN], int *removed, st_err *err)
{
	if (removed)
		*removed = 0;
	ob_msg m;
	int rc = ob_get(txn, ob, id, &m, err);
	if (rc == MDB_NOTFOUND)
		return 0; /* already acked, or never ours: acks are idempotent */
	if (rc != 0)
		return rc;
	uint8_t dk[OB_DUE_KEY];
	ob_due_key(dk, m.next_due_ns, id);
	MDB_val kd = { sizeof dk, dk }, k = { OB_ID_LEN, (void *)id };
	rc = mdb_del(txn, ob->due, &kd, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return ob_fail(err, rc, ob, "ack: del due index");
	if ((rc = mdb_del(txn, ob->entries, &k, NULL)) != 0)
		return ob_fail(err, rc, ob, "ack: del entry");
	if (removed)
		*removed = 1;
	return 0;
}

int
ob_count(MDB_txn *txn, ob_box *ob, uint64_t *n, st_err *err)
{
	return st_count(txn, ob->entries, n, err);
}

const char ob_drop[] = "dropped by the sender";

long
ob_send_due(st_env *env, ob_box *ob, uint64_t now_ns, uint64_t due_before, ob_send_fn *send, void *ctx,
            uint64_t *pending, st_err *err)
{
	enum {
		BATCH = 64
	};
	uint8_t ids[BATCH][OB_ID_LEN];
	long total = 0, n;
	uint64_t limit = UINT64_MAX;
	if (due_before > now_ns) {
		/* Entries sent here are due again at now + backoff, which may still be before due_before:
         * send at most as many as there are, so the loop ends. */
		MDB_txn *txn;
		if (st_begin(env, 1, &txn, err) != 0)
			return -1;
		int rc = ob_count(txn, ob, &limit, err);
		st_abort(txn);
		if (rc != 0)
			return -1;
	}
	do {
		MDB_txn *txn;
		int rc = st_begin(env, 0, &txn, err);
		if (rc != 0)
			return -1;
		n = ob_due(txn, ob, due_before, ids,
		           limit - (uint64_t)total < BATCH ? (size_t)(limit - (uint64_t)total) : BATCH, err);
		for (long i = 0; i < n && rc == 0; i++) {
			ob_msg m;
			if ((rc = ob_get(txn, ob, ids[i], &m, err)) == MDB_NOTFOUND) {
				rc = 0; /* acked meanwhile */
				continue;
			}
			if (rc == 0) {
				const char *why = send(ctx, &m);
				rc = why == OB_DROP ? ob_ack(txn, ob, ids[i], NULL, err)
				                    : ob_mark_sent(txn, ob, ids[i], now_ns, why, err);
			}
		}
		if (n < 0 || rc != 0) {
			st_abort(txn);
			return -1;
		}
		if (pending && ob_count(txn, ob, pending, err) != 0) {
			st_abort(txn);
			return -1;
		}
		if (st_commit(txn, err) != 0)
			return -1;
		total += n;
	} while (n == BATCH && (uint64_t)total < limit);
	return total;
}
