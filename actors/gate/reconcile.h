/* reconcile.h - what the gate believes a feed's on-chain answer is, from its two witnesses:
 * latestRoundData() reads (polls) and tx.status messages (the submitter's view of our own and
 * other updates). Pure: no I/O, no clock (the caller passes now), so every interleaving of polls
 * and statuses can be tested.
 *
 * The rules, in one place:
 *   - a confirmed/final tx.status of OUR in-flight update is taken at once (answer, time =
 *     observed_at, round = latest + 1) and frees the feed;
 *   - a confirmed tx.status of someone else's update (another replica, an operator) is taken
 *     when it is from a newer block than any status taken and its answer differs; never a
 *     "final" that is not ours: that is a later state of an update already taken when it was
 *     confirmed (often our previous one), and taking it would roll the view back;
 *   - a failed/dropped status of our update frees the feed without changing the answer;
 *   - a poll is adopted when the view is unknown or came from the chain, or when the read is at
 *     least as new as the status-taken view (round or updatedAt), or once that status is older
 *     than trust_status_ns (a lagging node must not take a confirmed answer back before then);
 *   - an adopted poll showing our in-flight answer, updated no earlier than one second before we
 *     decided it, means it landed even if its tx.status was lost.
 *
 * Memory: gr_view is a plain value owned by the caller. */
#ifndef OB_ACTORS_GATE_RECONCILE_H
#define OB_ACTORS_GATE_RECONCILE_H

#include <stdint.h>

#include "actors/gate/chainread.h"
#include "actors/gate/decide.h"
#include "schemas/messages.h"

typedef struct {
	gd_state st;        /* the decision's view: on-chain answer, our last publish, in flight */
	uint8_t inf_id[16]; /* the in-flight update's id (valid while st.inflight) */
	u256 inf_answer;
	uint64_t status_block; /* newest block of a confirmed tx.status taken as the chain's answer */
	uint64_t status_mono;  /* when st was last set from a tx.status; 0 = from the chain */
} gr_view;

/* gr_poll flags */
enum {
	GR_ADOPTED = 1,
	GR_CHANGED = 2,
	GR_LANDED = 4
};

/* Applies a latestRoundData read made at mono_ns. Returns GR_* flags: ADOPTED (the view now
 * holds the read), CHANGED (answer or updatedAt differ from before, or it was unknown), LANDED
 * (our in-flight update is on chain: st.inflight is now 0; the caller persists that). */
int gr_poll(gr_view *v, const gc_round *r, uint64_t mono_ns, uint64_t trust_status_ns);

/* gr_status outcomes */
enum {
	GR_S_IGNORED = 0, /* nothing to take */
	GR_S_OURS_DONE,   /* our update confirmed/final: view set, st.inflight now 0 */
	GR_S_OTHERS,      /* someone else's confirmed update taken as the chain's answer */
	GR_S_OURS_FAILED, /* our update failed: st.inflight now 0, answer unchanged */
	GR_S_OURS_DROPPED /* our update dropped: st.inflight now 0, answer unchanged */
};

/* Applies a tx.status for this feed. ref: the status's ref decoded (16 bytes), or NULL when it
 * has none. now_ns stands in for a missing observed_at_ns. */
int gr_status(gr_view *v, const sc_tx_status *s, const uint8_t *ref, uint64_t now_ns, uint64_t mono_ns);

#endif
