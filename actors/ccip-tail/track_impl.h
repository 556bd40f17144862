/* track_impl.h - what the three files of the tracker share (track.c: facts, rollback, cursor and the
 * publication queue; derive.c: overdue deadlines and the states derived from the facts; query.c: the
 * HTTP views). Internal to actors/ccip-tail: the record layouts below never leave LMDB. The key layouts
 * are described at the top of track.c. */
#ifndef OB_ACTORS_CCIP_TAIL_TRACK_IMPL_H
#define OB_ACTORS_CCIP_TAIL_TRACK_IMPL_H

#include <stdint.h>

#include "actors/ccip-tail/track.h"

#define CT_NONE 255 /* hdr.state before the first publication */

enum {
	F_OD_COMMIT = 1,
	F_OD_EXEC = 2,
	F_OD_ALERTED = 4,
	F_FAIL_ALERTED = 8,
	F_PUB_COMMITTED = 16,
	F_SEND_GONE = 32
};
enum {
	B_SEND = 1,
	B_COMMIT,
	B_EXEC
};

typedef struct {
	uint8_t ver, state, flags, pad;
	uint32_t nhist;
	uint64_t chain;       /* selector of the chain the send came from */
	uint64_t sent_time_s; /* block time of the send (or when it was seen) */
} ct_hdr;

typedef struct {
	uint8_t onramp_len, pad[7];
	uint8_t onramp[32], root[32], block_hash[32], tx[32], contract[20];
} ct_cval;

typedef struct {
	uint8_t state, router;
	uint16_t rlen;
	uint8_t pad[4];
	uint8_t contract[20], block_hash[32], tx[32];
	uint64_t seq;
} ct_eval;

typedef struct {
	uint8_t reorg, pad[7];
	uint64_t chain, keep;
} ct_dirty;

typedef struct {
	uint8_t state, pad[7];
	uint64_t chain, block, log, at_ns;
	uint8_t block_hash[32], tx[32];
} ct_hist;

typedef struct {
	uint8_t is_alert, id[16], topic_len;
} ct_pval;

struct ct_track {
	st_env *env;
	ct_track_cfg cfg;
	MDB_dbi msg, laneseq, commit, exec, byblock, dirty, hist, due, bystate, pub, cursor, blocks, raw;
	uint8_t buf[16384]; /* record encoding scratch (a write txn is single-threaded) */
};

/* an execution found for a message (derive.c; query.c shows its return data) */
typedef struct {
	int state; /* 0 none, CT_EX_SUCCESS, CT_EX_FAILURE */
	uint64_t chain, block, log;
	ct_eval x;
	uint8_t ret[1024];
} ct_exec_ev;

/* shared between the files */
void ct_be(uint8_t *p, uint64_t v);
int ct_msg_get(ct_track *t, MDB_txn *txn, const uint8_t id[32], ct_hdr *h, sc_ccip_msg *m, st_err *e);
int ct_hdr_put(ct_track *t, MDB_txn *txn, const uint8_t id[32], const ct_hdr *h, st_err *e);
int ct_mark(ct_track *t, MDB_txn *txn, const uint8_t id[32], int reorg, uint64_t chain, uint64_t keep, st_err *e);
int ct_find_exec(ct_track *t, MDB_txn *txn, const uint8_t id[32], ct_exec_ev *x, st_err *e);

#endif
