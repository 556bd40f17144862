/* reconcile.c - the gate's view of the chain from polls and tx.status (reconcile.h). */
#include "actors/gate/reconcile.h"

#include <string.h>

#define GR_NS 1000000000ull

static void
gr_set(gr_view *v, const u256 *answer, uint64_t updated_at_s, const u256 *round)
{
	v->st.known = 1;
	v->st.answer = *answer;
	v->st.updated_at_s = updated_at_s;
	v->st.round_id = *round;
}

int
gr_poll(gr_view *v, const gc_round *r, uint64_t mono_ns, uint64_t trust_status_ns)
{
	int adopt = !v->st.known || v->status_mono == 0 || u256_cmp(&r->round_id, &v->st.round_id) >= 0 ||
	            r->updated_at_s >= v->st.updated_at_s || mono_ns - v->status_mono > trust_status_ns;
	if (!adopt)
		return 0;
	int flags = GR_ADOPTED;
	if (!v->st.known || u256_cmp(&r->answer, &v->st.answer) != 0 || r->updated_at_s != v->st.updated_at_s)
		flags |= GR_CHANGED;
	gr_set(v, &r->answer, r->updated_at_s, &r->round_id);
	v->status_mono = 0;
	if (v->st.inflight && u256_cmp(&r->answer, &v->inf_answer) == 0 &&
	    r->updated_at_s * GR_NS + GR_NS >= v->st.inflight_since_ns) {
		v->st.inflight = 0;
		flags |= GR_LANDED;
	}
	return flags;
}

int
gr_status(gr_view *v, const sc_tx_status *s, const uint8_t *ref, uint64_t now_ns, uint64_t mono_ns)
{
	int ours = ref != NULL && v->st.inflight && memcmp(ref, v->inf_id, 16) == 0;
	if (s->state == SC_TX_CONFIRMED || s->state == SC_TX_FINAL) {
		uint64_t t = (s->observed_at_ns ? s->observed_at_ns : now_ns) / GR_NS;
		if (ours) {
			u256 round, one;
			u256_from_u64(&one, 1);
			u256_add(&round, &v->st.round_id, &one);
			gr_set(v, &s->answer, t, &round);
			v->status_mono = mono_ns;
			if (s->block_number > v->status_block)
				v->status_block = s->block_number;
			v->st.inflight = 0;
			return GR_S_OURS_DONE;
		}
		if (s->state == SC_TX_CONFIRMED && s->block_number > v->status_block && v->st.known &&
		    u256_cmp(&s->answer, &v->st.answer) != 0) {
			u256 round = v->st.round_id; /* the next poll brings the exact round and time */
			gr_set(v, &s->answer, t, &round);
			v->status_mono = mono_ns;
			v->status_block = s->block_number;
			return GR_S_OTHERS;
		}
		return GR_S_IGNORED;
	}
	if (ours && s->state == SC_TX_FAILED) {
		v->st.inflight = 0;
		return GR_S_OURS_FAILED;
	}
	if (ours && s->state == SC_TX_DROPPED) {
		v->st.inflight = 0;
		return GR_S_OURS_DROPPED;
	}
	return GR_S_IGNORED;
}
