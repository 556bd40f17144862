/* query.c - the tracker's JSON views for GET /messages (see track.h). */
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

/* ---- queries ------------------------------------------------------------------------------------ */

static json_t *
ct_jhex(const uint8_t *b, size_t n)
{
	char s[2 * 64 + 3];
	if (n > 64)
		n = 64;
	hex_encode(b, n, 1, s);
	return json_string(s);
}

static json_t *
ct_ju64(uint64_t v)
{
	char s[24];
	if (v <= (1ull << 53))
		return json_integer((json_int_t)v);
	snprintf(s, sizeof s, "%llu", (unsigned long long)v);
	return json_string(s);
}

static const char *
ct_state_name(int st)
{
	const char *s = st == CT_NONE ? "none" : sc_enum_name(&SC_CCIP_MSG, "state", st);
	return s ? s : "?";
}

json_t *
ct_msg_json(ct_track *t, MDB_txn *txn, const uint8_t id[32])
{
	static __thread sc_ccip_msg m;
	ct_hdr h;
	st_err e;
	json_t *o = json_object(), *hist = json_array();
	int rc = ct_msg_get(t, txn, id, &h, &m, &e);
	if (rc == 0) {
		static __thread ct_exec_ev x;
		m.state = h.state == CT_NONE ? SC_CCIP_SENT : h.state;
		/* the outcome's return data (a failure's revert reason) comes from the execution fact */
		if (ct_find_exec(t, txn, id, &x, &e) == 0 && x.state) {
			memcpy(m.return_data, x.ret, x.x.rlen);
			m.return_data_len = x.x.rlen;
		}
		json_object_set_new(o, "message", sc_to_json(&SC_CCIP_MSG, &m));
		json_object_set_new(o, "state", json_string(ct_state_name(h.state)));
		json_object_set_new(o, "commit_overdue", json_boolean(h.flags & F_OD_COMMIT));
		json_object_set_new(o, "exec_overdue", json_boolean(h.flags & F_OD_EXEC));
		json_object_set_new(o, "sent_time_s", ct_ju64(h.sent_time_s));
	} else {
		json_object_set_new(o, "message", json_null());
	}
	st_iter it;
	MDB_val k, v;
	if (st_iter_open(&it, txn, t->hist, id, 32, NULL, 0, &e) == 0) {
		size_t n = 0;
		while (n++ < 256 && st_iter_next(&it, &k, &v, &e) == 0) {
			ct_hist he;
			if (k.mv_size != 36 || memcmp(k.mv_data, id, 32) != 0)
				break;
			if (v.mv_size != sizeof he)
				continue;
			memcpy(&he, v.mv_data, sizeof he);
			json_t *x = json_object();
			json_object_set_new(x, "state", json_string(ct_state_name(he.state)));
			json_object_set_new(x, "chain_selector", ct_ju64(he.chain));
			json_object_set_new(x, "block_number", ct_ju64(he.block));
			json_object_set_new(x, "log_index", ct_ju64(he.log));
			json_object_set_new(x, "block_hash", ct_jhex(he.block_hash, 32));
			json_object_set_new(x, "tx_hash", ct_jhex(he.tx, 32));
			json_object_set_new(x, "at_ns", ct_ju64(he.at_ns));
			json_array_append_new(hist, x);
		}
		st_iter_close(&it);
	}
	if (rc != 0 && json_array_size(hist) == 0) {
		json_decref(hist);
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "history", hist);
	return o;
}

json_t *
ct_list_json(ct_track *t, MDB_txn *txn, int state, const uint8_t *after, size_t limit)
{
	static __thread sc_ccip_msg m;
	json_t *o = json_object(), *arr = json_array();
	uint8_t lo[33], hi[1];
	size_t lolen = 0;
	st_iter it;
	MDB_val k, v;
	st_err e;
	uint8_t last[32];
	int more = 0, have_last = 0;
	if (state >= 0) {
		lo[0] = (uint8_t)state;
		hi[0] = (uint8_t)(state + 1);
		lolen = 1;
	}
	if (after && state >= 0) {
		memcpy(lo + 1, after, 32);
		lolen = 33;
	}
	if (st_iter_open(&it, txn, t->bystate, lolen ? lo : NULL, lolen, state >= 0 ? hi : NULL, state >= 0 ? 1 : 0,
	                 &e) == 0) {
		while (st_iter_next(&it, &k, &v, &e) == 0) {
			if (k.mv_size != 33)
				continue;
			const uint8_t *id = (const uint8_t *)k.mv_data + 1;
			if (after && state >= 0 && memcmp(id, after, 32) == 0)
				continue;
			if (json_array_size(arr) >= limit) {
				more = 1;
				break;
			}
			ct_hdr h;
			if (ct_msg_get(t, txn, id, &h, &m, &e) != 0)
				continue;
			json_t *x = json_object();
			json_object_set_new(x, "message_id", ct_jhex(id, 32));
			json_object_set_new(x, "state", json_string(ct_state_name(h.state)));
			json_object_set_new(x, "ccip_version",
			                    json_string(m.ccip_version == SC_CCIP_V1_5 ? "1.5" : "1.6"));
			json_object_set_new(x, "source_chain_selector", ct_ju64(m.source_chain_selector));
			json_object_set_new(x, "dest_chain_selector", ct_ju64(m.dest_chain_selector));
			json_object_set_new(x, "sequence_number", ct_ju64(m.sequence_number));
			json_object_set_new(x, "sent_block", ct_ju64(m.block_number));
			json_object_set_new(x, "sent_time_s", ct_ju64(h.sent_time_s));
			json_array_append_new(arr, x);
			memcpy(last, id, 32);
			have_last = 1;
		}
		st_iter_close(&it);
	}
	json_object_set_new(o, "state", state >= 0 ? json_string(ct_state_name(state)) : json_null());
	json_object_set_new(o, "messages", arr);
	json_object_set_new(o, "next", more && have_last ? ct_jhex(last, 32) : json_null());
	return o;
}

int
ct_counts(ct_track *t, MDB_txn *txn, uint64_t *tracked, uint64_t *pubs, uint64_t *raw, st_err *e)
{
	int rc = st_count(txn, t->msg, tracked, e);
	if (rc == 0)
		rc = st_count(txn, t->pub, pubs, e);
	if (rc == 0)
		rc = st_count(txn, t->raw, raw, e);
	return rc;
}

int
ct_state_of(ct_track *t, MDB_txn *txn, const uint8_t id[32])
{
	ct_hdr h;
	st_err e;
	if (ct_msg_get(t, txn, id, &h, NULL, &e) != 0)
		return -1;
	return h.state == CT_NONE ? -1 : h.state;
}
