/* scan.h - following one chain's CCIP logs: cursor, confirmations, adaptive eth_getLogs ranges,
 * reorg detection and rewind, and the ingest of a batch of logs into the tracker.
 *
 * Per poll of a chain (ct_poll):
 *   1. head = eth_blockNumber; target = head - confirmations. Only blocks up to target are read:
 *      a state published from a block that may still be reorged would page someone for a failure
 *      that never happened, so we wait the confirmation depth; reorgs deeper than that are still
 *      detected by hash and corrected (below).
 *   2. Reorg check: the stored cursor hash is compared with the chain's block at that height; on a
 *      mismatch we walk back through the stored hashes (range ends and blocks with logs) to the last
 *      that still matches, roll back every fact above it (ct_rollback), settle, and re-scan.
 *   3. Ranges [from, to] of at most `span` blocks; a range the node refuses as too large
 *      (ct_range_refused) is halved and retried, and the span doubles back after 4 good ranges, up
 *      to the configured maximum.
 *   4. Each range is applied in ONE write transaction with the new cursor (number and hash of `to`),
 *      the overdue deadlines and the settle: a crash leaves either the whole range or none of it.
 *
 * Memory: a ct_chain is owned by the caller (configuration plus its rpc handle and metrics);
 * ct_chain_close releases what ct_chain_start opened. The eth_getLogs answer is read from the raw
 * response body (chain/rpc.h rpc_call_raw, chain/jscan.h), never built into a JSON tree; the arrays
 * passed to ct_range_check and ct_ingest are borrowed. */
#ifndef OB_ACTORS_CCIP_TAIL_SCAN_H
#define OB_ACTORS_CCIP_TAIL_SCAN_H

#include <stdint.h>

#include <jansson.h>

#include "actors/ccip-tail/decode.h"
#include "actors/ccip-tail/track.h"
#include "chain/rpc.h"

#define CT_MAX_CONTRACTS 32
#define CT_MAX_CHAINS    16

typedef struct {
	uint8_t addr[20];
	uint64_t peer; /* v1.5 lane peer: an OnRamp's destination, an OffRamp's/CommitStore's source */
} ct_contract;

typedef struct {
	char name[32];
	uint64_t selector; /* this chain's CCIP selector: the key of its facts and cursor */
	uint64_t chain_id; /* 0 = learn from the first endpoint */
	char rpc_urls[1024];
	uint64_t confirmations;
	int64_t start_block; /* first block when there is no cursor; -1 = head - confirmations */
	uint64_t max_range;  /* blocks per eth_getLogs at most */
	ct_contract c[CT_MAX_CONTRACTS];
	size_t nc;
	/* runtime */
	rpc *r;
	uint64_t span;
	unsigned ok_streak;
	int down; /* RPC unreachable (alert raised) */
	uint64_t head;
	rt_metric *m_cursor, *m_head, *m_reorgs, *m_rpc_err, *m_splits;
} ct_chain;

/* Parses {"chains":[{"name","selector","chain_id","rpc_url" (string or list),"confirmations",
 * "start_block","max_block_range","router","contracts":[ "0x.." | {"address","peer_selector"} ]}]}
 * into out[0..*n). defaults supplies confirmations/start_block/max_range. 0 or -1 with err. */
int ct_chains_from_json(const json_t *j, const ct_chain *defaults, ct_chain *out, size_t *n, char *err, size_t errlen);
/* Parses "0xADDR[:peer],..." into c (appending). 0 or -1 with err. */
int ct_contracts_parse(ct_chain *c, const char *list, char *err, size_t errlen);

/* 1 when the node refused an eth_getLogs range as too large (split it), else 0. */
int ct_range_refused(int rc, const rpc_error *e);

/* Opens the chain's rpc handle and registers its metrics. 0 or -1 with err. */
int ct_chain_start(ct_chain *c, int timeout_ms, char *err, size_t errlen);
void ct_chain_close(ct_chain *c);

typedef struct {
	st_env *env;
	ct_track *t;
	ct_dec *dec;
	uint64_t logs, undecodable, changes, reorgs; /* totals, for logs and tests */
} ct_scan;

/* One poll of chain c (see above), reading at most max_ranges ranges. 0, or -1 when the RPC failed
 * (err filled; nothing half-applied). */
int ct_poll(ct_scan *s, ct_chain *c, unsigned max_ranges, char *err, size_t errlen);

/* A block's time, for logs that come without "blockTimestamp" (older nodes). */
typedef struct {
	uint64_t block, time_s;
} ct_btime;

/* Before a range is applied (outside any write transaction): *moved = 1 when a log of block `to`
 * carries another hash than to_hash (the chain moved under us); and the time of every block whose
 * logs lack "blockTimestamp", read with eth_getBlockByNumber into *times (malloc'd, the caller
 * frees it; in the order met). logs: the result array of a validated response. 0, or -1 with err
 * when an RPC failed (nothing left allocated then). */
int ct_range_check(ct_chain *c, const js_val *logs, uint64_t to, const uint8_t to_hash[32], ct_btime **times,
                   size_t *ntimes, int *moved, char *err, size_t errlen);

/* Decodes and applies an eth_getLogs result array (a value of a response that passed js_validate)
 * of chain c inside txn (no settle); logs without "blockTimestamp" take their block's time from
 * times[0..ntimes) (may be empty: then 0). */
int ct_ingest(ct_scan *s, MDB_txn *txn, ct_chain *c, const js_val *logs, const ct_btime *times, size_t ntimes,
              uint64_t now_ns, st_err *e);

#endif
