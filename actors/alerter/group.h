/* group.h - the two pure decisions that keep a storm quiet: grouping (one message per dedupe key
 * per sink per interval, with the number of repeats it stood for) and a per-sink rate limit
 * (a token bucket of N messages per minute). No clock and no I/O: times are arguments.
 * Memory: plain structs owned by the caller (grouping slots live in the LMDB state record). */
#ifndef OB_ACTORS_ALERTER_GROUP_H
#define OB_ACTORS_ALERTER_GROUP_H

#include <stdint.h>

typedef struct {
	uint64_t last_sent_ns; /* 0 = nothing sent yet in this firing episode */
	uint64_t suppressed;   /* repeats since last_sent_ns */
} gp_slot;

/* A firing repeat arrives at now: 1 = send it, *grouped = the repeats it stands for, slot reset to
 * now; 0 = suppressed (counted in the slot, to be reported by the next message). */
int gp_decide(gp_slot *slot, uint64_t now_ns, uint64_t interval_ns, uint64_t *grouped);

/* Token bucket: capacity and refill of per_min tokens per minute, in millitokens so the refill
 * stays exact in integers. Starts full. */
typedef struct {
	uint64_t mtokens;
	uint64_t last_ns;
	int init;
} gp_bucket;

/* 1 and one token taken, or 0 with *wait_ns = time until a token is there. per_min 0 = unlimited. */
int gp_take(gp_bucket *b, uint64_t now_ns, uint64_t per_min, uint64_t *wait_ns);

#endif
