/* track.h - each CCIP message's lifecycle, kept in LMDB: facts in, states and publications out.
 *
 * Model: decoded events are stored as *facts* (a send, a commit interval per lane, an execution per
 * message id), each indexed by the (chain, block, log) it came from. A message's state is *derived*
 * from the facts: executed_success if any execution succeeded, else executed_failure if one failed,
 * else committed if a commit covers its sequence number on its lane (v1.6: and its OnRamp), else
 * sent; overdue when its execution (OVERDUE_AFTER) or commit (COMMIT_OVERDUE_AFTER) deadline passed
 * first. Facts may arrive in any order (different chains, different polling): commits and
 * executions wait as facts until the send arrives, then the send's settle finds them by
 * (lane, seq range) and by id. A reorg deletes the facts of the rewound blocks and re-derives the
 * messages they touched, so the correction needs no special cases.
 *
 * Every state change (after ct_settle) appends a history entry carrying the block it came from,
 * updates the by-state index, and queues a publication (ccip.msg.<state>, and alerts) in the
 * `pub` table IN THE SAME TRANSACTION; the actor publishes the queue after commit and deletes what
 * went out. A crash between commit and publish re-publishes with the same envelope id, so a
 * restart neither loses nor duplicates a state change (consumers deduplicate by id).
 *
 * Tables (one LMDB env, see README.md): msg, laneseq, commit, exec, byblock, dirty, hist, due,
 * bystate, pub, cursor, blocks, raw.
 *
 * Memory: nothing about messages is held in RAM between calls (state lives in LMDB); a rollback
 * buffers only the keys of the rewound blocks. ct_track is owned by the caller of ct_track_open.
 * Functions taking an MDB_txn run inside the caller's transaction (write, except the queries);
 * the JSON queries return new references. */
#ifndef OB_ACTORS_CCIP_TAIL_TRACK_H
#define OB_ACTORS_CCIP_TAIL_TRACK_H

#include <stdint.h>

#include <jansson.h>

#include "actors/ccip-tail/decode.h"
#include "base/rt_metrics.h"
#include "store/store.h"

#define CT_NSTATES 6 /* SC_CCIP_SENT .. SC_CCIP_REORGED */

typedef struct {
	uint64_t overdue_after_s;        /* sent -> executed; 0 = never overdue */
	uint64_t commit_overdue_after_s; /* sent -> committed; 0 = never */
	/* optional metrics (NULL = none): transitions by state, failures (ccip_message_failures_total) */
	rt_metric *m_state[CT_NSTATES];
	rt_metric *m_failures;
} ct_track_cfg;

typedef struct ct_track ct_track;

/* Opens (creating) the tables in one write transaction. */
int ct_track_open(st_env *env, const ct_track_cfg *cfg, ct_track **out, st_err *e);
void ct_track_close(ct_track *t);

/* Records one decoded event of chain (its CCIP selector) as a fact and marks the messages it
 * touches dirty. Applying the same log twice is harmless (same keys). */
int ct_apply(ct_track *t, MDB_txn *txn, uint64_t chain, const ct_event *ev, st_err *e);
/* Keeps an undecodable log raw (table raw, key chain+block+log). */
int ct_keep_raw(ct_track *t, MDB_txn *txn, uint64_t chain, const ct_log *lg, const char *why, st_err *e);
/* Deletes every fact of chain from blocks > keep (and their raw logs and block hashes), marking
 * the messages they touched for correction. *touched (may be NULL) = facts removed. */
int ct_rollback(ct_track *t, MDB_txn *txn, uint64_t chain, uint64_t keep, uint64_t *touched, st_err *e);
/* Fires the deadlines that passed by now_s (marks overdue candidates dirty). */
int ct_overdue(ct_track *t, MDB_txn *txn, uint64_t now_s, st_err *e);
/* Re-derives every dirty message: history, by-state index, publications. *changes = transitions. */
int ct_settle(ct_track *t, MDB_txn *txn, uint64_t now_ns, uint64_t *changes, st_err *e);

/* Cursor: the last processed block of chain and its hash. MDB_NOTFOUND when none. */
int ct_cursor_get(ct_track *t, MDB_txn *txn, uint64_t chain, uint64_t *block, uint8_t hash[32], st_err *e);
int ct_cursor_put(ct_track *t, MDB_txn *txn, uint64_t chain, uint64_t block, const uint8_t hash[32], st_err *e);
/* Known block hashes (range ends and blocks with logs) for walking back on a reorg. */
int ct_block_put(ct_track *t, MDB_txn *txn, uint64_t chain, uint64_t block, const uint8_t hash[32], st_err *e);
/* The greatest stored block of chain strictly below `below`: 0 or MDB_NOTFOUND. */
int ct_block_below(ct_track *t, MDB_txn *txn, uint64_t chain, uint64_t below, uint64_t *block, uint8_t hash[32],
                   st_err *e);
/* Forgets block hashes of chain below `from` (they are past any reorg we will look for). */
int ct_blocks_prune(ct_track *t, MDB_txn *txn, uint64_t chain, uint64_t from, st_err *e);

/* The publication queue, oldest first. ct_pub_next returns 0 with p filled (topic NUL-terminated,
 * body borrowed from LMDB until the txn ends), or MDB_NOTFOUND. */
typedef struct {
	uint64_t seq;
	int is_alert;   /* body is SC_ALERT, else SC_CCIP_MSG */
	uint8_t id[16]; /* envelope id: deterministic per (message, transition) */
	char topic[128];
	const uint8_t *body;
	size_t body_len;
} ct_pub;
int ct_pub_next(ct_track *t, MDB_txn *txn, uint64_t after_seq, ct_pub *p, st_err *e);
int ct_pub_del(ct_track *t, MDB_txn *txn, uint64_t seq, st_err *e);

/* Queries (read txn). ct_msg_json: {"message":{...},"state":..,"overdue":..,"history":[...]} or
 * NULL when the id is unknown (history of a rolled-back send is still shown, message null).
 * ct_list_json: {"state":..,"messages":[{"message_id","sequence_number",...}],"next":id|null},
 * at most limit entries after `after` (NULL = from the start). state < 0 = every state. */
json_t *ct_msg_json(ct_track *t, MDB_txn *txn, const uint8_t id[32]);
json_t *ct_list_json(ct_track *t, MDB_txn *txn, int state, const uint8_t *after, size_t limit);

/* Counts for gauges: messages tracked (with a send), pending publications, raw logs kept. */
int ct_counts(ct_track *t, MDB_txn *txn, uint64_t *tracked, uint64_t *pubs, uint64_t *raw, st_err *e);
/* The state of a message, or -1 if unknown (tests). */
int ct_state_of(ct_track *t, MDB_txn *txn, const uint8_t id[32]);

#endif
