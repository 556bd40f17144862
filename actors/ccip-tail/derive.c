/* derive.c - overdue deadlines and the message states derived from the facts (see track_impl.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "actors/ccip-tail/track.h"
#include "base/rt_main.h"
#include "base/hex.h"
#include "base/keccak.h"
#include "schemas/schema.h"
#include "actors/ccip-tail/track_impl.h"

/* ---- overdue --------------------------------------------------------------------------------- */

int
ct_overdue(ct_track *t, MDB_txn *txn, uint64_t now_s, st_err *e)
{
	for (;;) {
		uint8_t keys[64][41];
		size_t n = 0;
		uint8_t hi[8];
		st_iter it;
		MDB_val k, v;
		int rc;
		ct_be(hi, now_s + 1);
		if ((rc = st_iter_open(&it, txn, t->due, NULL, 0, hi, 8, e)) != 0)
			return rc;
		while (n < 64 && (rc = st_iter_next(&it, &k, &v, e)) == 0)
			if (k.mv_size == 41)
				memcpy(keys[n++], k.mv_data, 41);
		st_iter_close(&it);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
		if (n == 0)
			return 0;
		for (size_t i = 0; i < n; i++) {
			const uint8_t *id = keys[i] + 8;
			ct_hdr h;
			if ((rc = st_del(txn, t->due, keys[i], 41, e)) != 0)
				return rc;
			if ((rc = ct_msg_get(t, txn, id, &h, NULL, e)) == MDB_NOTFOUND)
				continue; /* rolled back meanwhile */
			if (rc != 0)
				return rc;
			int executed = h.state == SC_CCIP_EXECUTED_SUCCESS || h.state == SC_CCIP_EXECUTED_FAILURE;
			int committed = (h.flags & F_PUB_COMMITTED) != 0;
			uint8_t f = keys[i][40] == 'c' ? (committed || executed ? 0 : F_OD_COMMIT)
			                               : (executed ? 0 : F_OD_EXEC);
			if (f == 0)
				continue;
			h.flags |= f;
			if ((rc = ct_hdr_put(t, txn, id, &h, e)) != 0 || (rc = ct_mark(t, txn, id, 0, 0, 0, e)) != 0)
				return rc;
		}
	}
}

/* ---- derivation ------------------------------------------------------------------------------ */

typedef struct {
	int found;
	uint64_t chain, block, log;
	ct_cval cv;
} ct_commit_ev;

/* A commit covering m: the interval table is ordered by max, so the candidates start at the first
 * interval whose max >= seq; intervals on a lane do not overlap, so a few looks suffice. */
static int
ct_find_commit(ct_track *t, MDB_txn *txn, const sc_ccip_msg *m, ct_commit_ev *c, st_err *e)
{
	uint8_t lo[24];
	st_iter it;
	MDB_val k, v;
	int rc, looks = 0;
	memset(c, 0, sizeof *c);
	ct_be(lo, m->source_chain_selector);
	ct_be(lo + 8, m->dest_chain_selector);
	ct_be(lo + 16, m->sequence_number);
	if ((rc = st_iter_open(&it, txn, t->commit, lo, 24, NULL, 0, e)) != 0)
		return rc;
	while (looks++ < 64 && (rc = st_iter_next(&it, &k, &v, e)) == 0) {
		const uint8_t *kb = k.mv_data;
		if (k.mv_size != 57 || memcmp(kb, lo, 16) != 0 || v.mv_size != sizeof(ct_cval))
			break;
		ct_cval cv;
		memcpy(&cv, v.mv_data, sizeof cv);
		if (st_u64_at(kb + 24) > m->sequence_number)
			continue;
		/* v1.6 roots name their OnRamp; a root for another OnRamp of the same source is another lane. */
		if (cv.onramp_len == 20 && memcmp(cv.onramp, m->contract, 20) != 0)
			continue;
		c->found = 1;
		c->chain = st_u64_at(kb + 32);
		c->block = st_u64_at(kb + 40);
		c->log = st_u64_at(kb + 48);
		c->cv = cv;
		break;
	}
	st_iter_close(&it);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

/* The execution outcome: any success wins (manual re-execution after a failure); else the latest
 * failure. */
int
ct_find_exec(ct_track *t, MDB_txn *txn, const uint8_t id[32], ct_exec_ev *x, st_err *e)
{
	st_iter it;
	MDB_val k, v;
	int rc;
	x->state = 0;
	if ((rc = st_iter_open(&it, txn, t->exec, id, 32, NULL, 0, e)) != 0)
		return rc;
	while ((rc = st_iter_next(&it, &k, &v, e)) == 0) {
		const uint8_t *kb = k.mv_data;
		if (k.mv_size != 56 || memcmp(kb, id, 32) != 0)
			break;
		if (v.mv_size < sizeof(ct_eval))
			continue;
		ct_eval ev;
		memcpy(&ev, v.mv_data, sizeof ev);
		if (x->state == CT_EX_SUCCESS && ev.state != CT_EX_SUCCESS)
			continue;
		if (x->state == CT_EX_SUCCESS && ev.state == CT_EX_SUCCESS && !(x->x.router && !ev.router))
			continue; /* keep the first success, preferring the OffRamp's over the Router's */
		x->state = ev.state;
		x->chain = st_u64_at(kb + 32);
		x->block = st_u64_at(kb + 40);
		x->log = st_u64_at(kb + 48);
		x->x = ev;
		size_t rl = v.mv_size - sizeof ev;
		if (rl > sizeof x->ret)
			rl = sizeof x->ret;
		x->x.rlen = (uint16_t)rl;
		memcpy(x->ret, (const uint8_t *)v.mv_data + sizeof ev, rl);
	}
	st_iter_close(&it);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

/* One publication and its history entry. `where` gives the block the state came from. */
typedef struct {
	uint64_t chain, block, log;
	const uint8_t *block_hash, *tx, *contract;
	const uint8_t *ret;
	size_t rlen;
} ct_where;

static void
ct_env_id(const uint8_t id[32], uint32_t n, uint8_t tag, uint8_t out[16])
{
	uint8_t in[37], h[32];
	memcpy(in, id, 32);
	in[32] = (uint8_t)(n >> 24), in[33] = (uint8_t)(n >> 16), in[34] = (uint8_t)(n >> 8), in[35] = (uint8_t)n;
	in[36] = tag;
	kec_256(in, sizeof in, h);
	memcpy(out, h, 16);
}

static int
ct_queue(ct_track *t, MDB_txn *txn, int is_alert, const uint8_t id[16], const char *topic, const void *rec, st_err *e)
{
	MDB_val k, v;
	uint64_t seq = 1;
	uint8_t key[8];
	size_t tl = strlen(topic), n;
	sc_err se;
	ct_pval pv = { (uint8_t)is_alert, { 0 }, (uint8_t)tl };
	int rc = st_last(txn, t->pub, &k, &v, e);
	if (rc == 0)
		seq = st_u64_at(k.mv_data) + 1;
	else if (rc != MDB_NOTFOUND)
		return rc;
	memcpy(pv.id, id, 16);
	memcpy(t->buf, &pv, sizeof pv);
	memcpy(t->buf + sizeof pv, topic, tl);
	if (sc_encode(is_alert ? &SC_ALERT : &SC_CCIP_MSG, rec, t->buf + sizeof pv + tl, sizeof t->buf - sizeof pv - tl,
	              &n, &se) != 0) {
		snprintf(e->text, sizeof e->text, "pub: %s", se.text);
		return ST_ESCHEMA;
	}
	ct_be(key, seq);
	return st_put(txn, t->pub, key, 8, t->buf, sizeof pv + tl + n, e);
}

static void
ct_sel_str(uint64_t v, char *out, size_t n)
{
	snprintf(out, n, "%llu", (unsigned long long)v);
}

static int
ct_alert(ct_track *t, MDB_txn *txn, const sc_ccip_msg *m, uint32_t n, const char *kind, int sev, int status,
         uint64_t now_ns, st_err *e)
{
	static sc_alert al; /* large; a write txn is single-threaded */
	char idhex[67], src[24], dst[24], seq[24], topic[96];
	uint8_t eid[16];
	memset(&al, 0, sizeof al);
	hex_encode(m->message_id, 32, 1, idhex);
	ct_sel_str(m->source_chain_selector, src, sizeof src);
	ct_sel_str(m->dest_chain_selector, dst, sizeof dst);
	ct_sel_str(m->sequence_number, seq, sizeof seq);
	snprintf(al.kind, sizeof al.kind, "%s", kind);
	al.severity = sev;
	al.status = status;
	snprintf(al.dedupe_key, sizeof al.dedupe_key, "%s:%s", kind, idhex);
	if (strcmp(kind, "ccip_failure") == 0)
		snprintf(al.summary, sizeof al.summary, "CCIP message %s (lane %s->%s seq %s) %s", idhex, src, dst, seq,
		         status == SC_ALERT_FIRING ? "failed on execution" : "executed after all");
	else
		snprintf(al.summary, sizeof al.summary, "CCIP message %s (lane %s->%s seq %s) %s", idhex, src, dst, seq,
		         status == SC_ALERT_FIRING ? "is overdue" : "executed");
	const char *kv[][2] = { { "message_id", idhex },
		                { "source_chain_selector", src },
		                { "dest_chain_selector", dst },
		                { "sequence_number", seq } };
	for (size_t i = 0; i < 4; i++) {
		snprintf(al.labels[i].key, sizeof al.labels[i].key, "%s", kv[i][0]);
		snprintf(al.labels[i].value, sizeof al.labels[i].value, "%s", kv[i][1]);
	}
	al.labels_count = 4;
	snprintf(al.origin, sizeof al.origin, "%s", rt_instance() ? rt_instance() : "ccip-tail");
	al.started_at_ns = now_ns;
	if (status == SC_ALERT_RESOLVED)
		al.resolved_at_ns = now_ns;
	snprintf(topic, sizeof topic, "alert.%s.%s", sev == SC_SEV_CRITICAL ? "critical" : "warning", kind);
	ct_env_id(m->message_id, n, (uint8_t)(status == SC_ALERT_FIRING ? 'F' : 'R'), eid);
	return ct_queue(t, txn, 1, eid, topic, &al, e);
}

/* Emits state `st` for message m: history entry n = h->nhist, the by-state index, a publication. */
static int
ct_emit(ct_track *t, MDB_txn *txn, ct_hdr *h, const sc_ccip_msg *send, int st, const ct_where *w, uint64_t now_ns,
        st_err *e)
{
	static sc_ccip_msg m; /* large; a write txn is single-threaded */
	uint8_t hk[36], sk[33], eid[16];
	ct_hist he;
	char topic[64];
	int rc;
	m = *send;
	m.state = st;
	m.observed_at_ns = now_ns;
	if (w) {
		m.block_number = w->block;
		m.log_index = w->log;
		if (w->block_hash)
			memcpy(m.block_hash, w->block_hash, 32);
		if (w->tx)
			memcpy(m.tx_hash, w->tx, 32);
		if (w->contract)
			memcpy(m.contract, w->contract, 20);
		m.return_data_len = (uint32_t)w->rlen;
		if (w->rlen)
			memcpy(m.return_data, w->ret, w->rlen);
	}
	memset(&he, 0, sizeof he);
	he.state = (uint8_t)st;
	he.chain = w ? w->chain : 0;
	he.block = m.block_number;
	he.log = m.log_index;
	he.at_ns = now_ns;
	memcpy(he.block_hash, m.block_hash, 32);
	memcpy(he.tx, m.tx_hash, 32);
	memcpy(hk, m.message_id, 32);
	hk[32] = (uint8_t)(h->nhist >> 24), hk[33] = (uint8_t)(h->nhist >> 16), hk[34] = (uint8_t)(h->nhist >> 8);
	hk[35] = (uint8_t)h->nhist;
	if ((rc = st_put(txn, t->hist, hk, sizeof hk, &he, sizeof he, e)) != 0)
		return rc;
	ct_env_id(m.message_id, h->nhist, (uint8_t)st, eid);
	snprintf(topic, sizeof topic, "ccip.msg.%s", sc_enum_name(&SC_CCIP_MSG, "state", st));
	if ((rc = ct_queue(t, txn, 0, eid, topic, &m, e)) != 0)
		return rc;
	/* by-state index: the message moves from its old state's list to the new one's */
	if (h->state != CT_NONE) {
		sk[0] = h->state;
		memcpy(sk + 1, m.message_id, 32);
		if ((rc = st_del(txn, t->bystate, sk, sizeof sk, e)) != 0 && rc != MDB_NOTFOUND)
			return rc;
	}
	if (st != SC_CCIP_REORGED) {
		sk[0] = (uint8_t)st;
		memcpy(sk + 1, m.message_id, 32);
		if ((rc = st_put(txn, t->bystate, sk, sizeof sk, "", 0, e)) != 0)
			return rc;
	}
	if (st < CT_NSTATES)
		rt_inc(t->cfg.m_state[st]);
	if (st == SC_CCIP_EXECUTED_FAILURE)
		rt_inc(t->cfg.m_failures);
	h->state = st == SC_CCIP_REORGED ? CT_NONE : (uint8_t)st;
	h->nhist++;
	/* Alerts follow the transition. */
	if (st == SC_CCIP_EXECUTED_FAILURE && !(h->flags & F_FAIL_ALERTED)) {
		h->flags |= F_FAIL_ALERTED;
		if ((rc = ct_alert(t, txn, &m, h->nhist, "ccip_failure", SC_SEV_CRITICAL, SC_ALERT_FIRING, now_ns,
		                   e)) != 0)
			return rc;
	} else if (st != SC_CCIP_EXECUTED_FAILURE && st != SC_CCIP_REORGED && (h->flags & F_FAIL_ALERTED)) {
		h->flags &= (uint8_t)~F_FAIL_ALERTED; /* re-executed, or the failure was reorged away */
		if ((rc = ct_alert(t, txn, &m, h->nhist, "ccip_failure", SC_SEV_CRITICAL, SC_ALERT_RESOLVED, now_ns,
		                   e)) != 0)
			return rc;
	}
	if (st == SC_CCIP_OVERDUE && !(h->flags & F_OD_ALERTED)) {
		h->flags |= F_OD_ALERTED;
		if ((rc = ct_alert(t, txn, &m, h->nhist, "ccip_overdue", SC_SEV_WARNING, SC_ALERT_FIRING, now_ns, e)) !=
		    0)
			return rc;
	} else if ((st == SC_CCIP_EXECUTED_SUCCESS || st == SC_CCIP_EXECUTED_FAILURE) && (h->flags & F_OD_ALERTED)) {
		h->flags &= (uint8_t)~F_OD_ALERTED;
		if ((rc = ct_alert(t, txn, &m, h->nhist, "ccip_overdue", SC_SEV_WARNING, SC_ALERT_RESOLVED, now_ns,
		                   e)) != 0)
			return rc;
	}
	return 0;
}

/* Deletes the history entries that came from blocks of `chain` above `keep` (undone by a reorg). */
static int
ct_hist_undo(ct_track *t, MDB_txn *txn, const uint8_t id[32], uint64_t chain, uint64_t keep, int *undone, st_err *e)
{
	uint8_t del[64][36];
	size_t n = 0;
	st_iter it;
	MDB_val k, v;
	int rc;
	*undone = 0;
	if ((rc = st_iter_open(&it, txn, t->hist, id, 32, NULL, 0, e)) != 0)
		return rc;
	while (n < 64 && (rc = st_iter_next(&it, &k, &v, e)) == 0) {
		if (k.mv_size != 36 || memcmp(k.mv_data, id, 32) != 0)
			break;
		ct_hist he;
		if (v.mv_size != sizeof he)
			continue;
		memcpy(&he, v.mv_data, sizeof he);
		if (he.chain == chain && he.block > keep && he.state != SC_CCIP_REORGED)
			memcpy(del[n++], k.mv_data, 36);
	}
	st_iter_close(&it);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = st_del(txn, t->hist, del[i], 36, e)) != 0)
			return rc;
	*undone = (int)n;
	return 0;
}

static int
ct_settle_one(ct_track *t, MDB_txn *txn, const uint8_t id[32], const ct_dirty *d, uint64_t now_ns, uint64_t *changes,
              st_err *e)
{
	static sc_ccip_msg send;
	static ct_exec_ev x;
	ct_commit_ev c;
	ct_hdr h;
	int rc = ct_msg_get(t, txn, id, &h, &send, e), undone = 0;
	if (rc == MDB_NOTFOUND)
		return 0; /* facts without a send: they wait */
	if (rc != 0)
		return rc;
	if (d->reorg && (rc = ct_hist_undo(t, txn, id, d->chain, d->keep, &undone, e)) != 0)
		return rc;
	ct_where rw = { d->chain, d->keep, 0, NULL, NULL, NULL, NULL, 0 };
	if (h.flags & F_SEND_GONE) {
		/* The send itself was reorged away: retract, forget the message, keep its history. */
		uint8_t lk[24];
		if (h.state != CT_NONE && (rc = ct_emit(t, txn, &h, &send, SC_CCIP_REORGED, &rw, now_ns, e)) != 0)
			return rc;
		ct_be(lk, send.source_chain_selector);
		ct_be(lk + 8, send.dest_chain_selector);
		ct_be(lk + 16, send.sequence_number);
		if ((rc = st_del(txn, t->laneseq, lk, 24, e)) != 0 && rc != MDB_NOTFOUND)
			return rc;
		(*changes)++;
		return (rc = st_del(txn, t->msg, id, 32, e)) == MDB_NOTFOUND ? 0 : rc;
	}
	if ((rc = ct_find_commit(t, txn, &send, &c, e)) != 0 || (rc = ct_find_exec(t, txn, id, &x, e)) != 0)
		return rc;
	int base = x.state == CT_EX_SUCCESS   ? SC_CCIP_EXECUTED_SUCCESS
	           : x.state == CT_EX_FAILURE ? SC_CCIP_EXECUTED_FAILURE
	           : c.found                  ? SC_CCIP_COMMITTED
	                                      : SC_CCIP_SENT;
	int executed = base == SC_CCIP_EXECUTED_SUCCESS || base == SC_CCIP_EXECUTED_FAILURE;
	int want = base;
	if (!executed && ((h.flags & F_OD_EXEC) || (base == SC_CCIP_SENT && (h.flags & F_OD_COMMIT))))
		want = SC_CCIP_OVERDUE;
	ct_where sw = { h.chain,      send.block_number, send.log_index, send.block_hash,
		        send.tx_hash, send.contract,     NULL,           0 };
	ct_where cw = { c.chain, c.block, c.log, c.cv.block_hash, c.cv.tx, c.cv.contract, NULL, 0 };
	ct_where xw = { x.chain, x.block, x.log, x.x.block_hash, x.x.tx, x.x.contract, x.ret, x.x.rlen };
	const ct_where *wwant = executed ? &xw : want == SC_CCIP_COMMITTED ? &cw : &sw;
	int before = h.state;

	if (d->reorg && (undone || want != h.state)) {
		/* Corrections: say what was retracted, then where the message stands now. */
		if (h.state != CT_NONE && want != h.state) {
			if ((rc = ct_emit(t, txn, &h, &send, SC_CCIP_REORGED, &rw, now_ns, e)) != 0)
				return rc;
		}
		/* the corrected state stands for the commit too: no separate committed step follows */
		if (c.found)
			h.flags |= F_PUB_COMMITTED;
		else
			h.flags &= (uint8_t)~F_PUB_COMMITTED;
		if (want != h.state || undone) {
			if ((rc = ct_emit(t, txn, &h, &send, want, wwant, now_ns, e)) != 0)
				return rc;
		}
	} else {
		/* Forward: every lifecycle step once, in order. */
		if (h.state == CT_NONE && (rc = ct_emit(t, txn, &h, &send, SC_CCIP_SENT, &sw, now_ns, e)) != 0)
			return rc;
		if (c.found && !(h.flags & F_PUB_COMMITTED)) {
			h.flags |= F_PUB_COMMITTED;
			if ((rc = ct_emit(t, txn, &h, &send, SC_CCIP_COMMITTED, &cw, now_ns, e)) != 0)
				return rc;
		}
		if (want != h.state && !(want == SC_CCIP_SENT) &&
		    (rc = ct_emit(t, txn, &h, &send, want, wwant, now_ns, e)) != 0)
			return rc;
	}
	if (h.state != before || undone)
		(*changes)++;
	return ct_hdr_put(t, txn, id, &h, e);
}

int
ct_settle(ct_track *t, MDB_txn *txn, uint64_t now_ns, uint64_t *changes, st_err *e)
{
	uint64_t ch = 0;
	for (;;) {
		uint8_t ids[64][32];
		ct_dirty ds[64];
		size_t n = 0;
		st_iter it;
		MDB_val k, v;
		int rc;
		if ((rc = st_iter_open(&it, txn, t->dirty, NULL, 0, NULL, 0, e)) != 0)
			return rc;
		while (n < 64 && (rc = st_iter_next(&it, &k, &v, e)) == 0)
			if (k.mv_size == 32 && v.mv_size == sizeof(ct_dirty)) {
				memcpy(ids[n], k.mv_data, 32);
				memcpy(&ds[n++], v.mv_data, sizeof(ct_dirty));
			}
		st_iter_close(&it);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++) {
			if ((rc = st_del(txn, t->dirty, ids[i], 32, e)) != 0 ||
			    (rc = ct_settle_one(t, txn, ids[i], &ds[i], now_ns, &ch, e)) != 0)
				return rc;
		}
	}
	if (changes)
		*changes = ch;
	return 0;
}
