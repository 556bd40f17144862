/* group.c - grouping and rate limit decisions; see group.h. */
#include "actors/alerter/group.h"

int
gp_decide(gp_slot *slot, uint64_t now_ns, uint64_t interval_ns, uint64_t *grouped)
{
	/* a clock stepping back (now < last) must not silence a key for the length of the step */
	if (slot->last_sent_ns == 0 || now_ns < slot->last_sent_ns || now_ns - slot->last_sent_ns >= interval_ns) {
		*grouped = slot->suppressed;
		slot->last_sent_ns = now_ns ? now_ns : 1;
		slot->suppressed = 0;
		return 1;
	}
	slot->suppressed++;
	*grouped = 0;
	return 0;
}

#define GP_MINUTE_NS 60000000000ull

int
gp_take(gp_bucket *b, uint64_t now_ns, uint64_t per_min, uint64_t *wait_ns)
{
	uint64_t cap = per_min * 1000;
	*wait_ns = 0;
	if (per_min == 0)
		return 1;
	if (!b->init || b->mtokens > cap) {
		b->init = 1;
		b->mtokens = cap;
		b->last_ns = now_ns;
	}
	if (now_ns > b->last_ns) {
		/* per_min tokens per minute = per_min * 1000 millitokens per 60e9 ns */
		unsigned __int128 add = (unsigned __int128)(now_ns - b->last_ns) * cap / GP_MINUTE_NS;
		if (add > 0) {
			b->mtokens = add >= cap - b->mtokens ? cap : b->mtokens + (uint64_t)add;
			/* advance only by the time the added tokens account for, so fractions carry over */
			b->last_ns = b->mtokens == cap ? now_ns : b->last_ns + (uint64_t)(add * GP_MINUTE_NS / cap);
		}
	} else if (now_ns < b->last_ns) {
		b->last_ns = now_ns;
	}
	if (b->mtokens >= 1000) {
		b->mtokens -= 1000;
		return 1;
	}
	*wait_ns = (uint64_t)(((unsigned __int128)(1000 - b->mtokens) * GP_MINUTE_NS + cap - 1) / cap);
	return 0;
}
